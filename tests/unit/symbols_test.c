/*
 * src/symbols/ against the real Debian vmlinux (skips cleanly if absent):
 * symbol addresses vs System.map, struct layouts vs pahole, type spelling,
 * variables, source lines, KASLR helpers, index cold/warm timing.
 *
 * KDX_TEST_VMLINUX / KDX_TEST_SYSTEM_MAP override the default paths.
 */
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/kernel_image.h"
#include "symbols/module_debuginfo.h"
#include "symbols/frame_vars.h"

#include <ctype.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define DEFAULT_VMLINUX "/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64"
#define DEFAULT_MAP "/usr/lib/debug/boot/System.map-6.1.0-56-cloud-amd64"

static void ok(int cond, const char *name)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", name);
	if (!cond)
		failures++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long vm_hwm_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmHWM:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static void expect_str(const char *name, const char *got, const char *want)
{
	int good = got && !strcmp(got, want);
	ok(good, name);
	if (!good)
		printf("#   expected \"%s\", got \"%s\"\n", want, got ? got : "(null)");
}

/* ---- System.map ---- */

static void test_system_map(struct kdx_symtab *st, const char *map)
{
	FILE *f = fopen(map, "r");
	if (!f) {
		printf("ok - skipped: System.map (%s absent)\n", map);
		return;
	}
	char line[512];
	size_t n = 0, bad_name = 0, bad_addr = 0, shown = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[256];
		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3)
			continue;
		n++;
		const struct kdx_symbol *s = kdx_symbol_by_name(st, name, NULL);
		if (!s) {
			if (shown++ < 5)
				printf("#   %s: not found by name\n", name);
			bad_name++;
			continue;
		}
		/* Local names can repeat: only globals must match exactly. */
		if (isupper((unsigned char)type) && s->addr != addr) {
			if (shown++ < 5)
				printf("#   %s: expected %llx, got %" PRIx64 "\n", name, addr, s->addr);
			bad_addr++;
		}
		if (addr >= 0xffffffff80000000ull && type != 'A') {
			uint64_t off;
			const struct kdx_symbol *a = kdx_symbol_by_addr(st, addr, &off);
			if (!a || off != 0) {
				if (shown++ < 5)
					printf("#   by_addr(%llx) (%s): got %s+%" PRIu64 "\n", addr, name,
					       a ? a->name : "(none)", off);
				bad_addr++;
			}
		}
	}
	fclose(f);
	printf("# System.map: %zu symbols, %zu missing by name, %zu wrong address\n", n, bad_name, bad_addr);
	ok(n > 50000 && bad_name == 0 && bad_addr == 0, "every System.map symbol found at its address");
}

static void test_symtab_misc(struct kdx_symtab *st)
{
	const struct kdx_symbol *s = kdx_symbol_by_name(st, "schedule", NULL);
	ok(s && s->type == 'T' && s->size > 0, "schedule is a sized T symbol");
	if (!s)
		return;
	uint64_t off;
	const struct kdx_symbol *a = kdx_symbol_by_addr(st, s->addr + 0x10, &off);
	ok(a == s && off == 0x10, "schedule+0x10 resolves to schedule");
	a = kdx_symbol_by_addr(st, 0x1000, &off);
	ok(!a || (a->addr <= 0x1000 && off < 0x1000), "low address is not misattributed");

	/* KASLR: relocate and back */
	uint64_t base = s->addr;
	kdx_symtab_set_offset(st, 0x1e000000);
	s = kdx_symbol_by_name(st, "schedule", NULL);
	ok(s && s->addr == base + 0x1e000000, "set_offset relocates");
	a = kdx_symbol_by_addr(st, base + 0x1e000000 + 4, &off);
	ok(a && !strcmp(a->name, "schedule") && off == 4, "by_addr after relocation");
	const struct kdx_symbol *pc = kdx_symbol_by_name(st, "runqueues", NULL);
	ok(pc && pc->addr < 0x100000, "per-cpu symbols do not move with KASLR");
	kdx_symtab_set_offset(st, 0);
	s = kdx_symbol_by_name(st, "schedule", NULL);
	ok(s && s->addr == base, "set_offset back to 0");

	/* modules */
	struct kdx_symbol ms[] = {
		{ "mod_fn_a", 0xffffffffc0001000ull, 0x40, 't', NULL },
		{ "mod_fn_b", 0xffffffffc0001040ull, 0x20, 'T', NULL },
		{ "schedule", 0xffffffffc0002000ull, 0x10, 't', NULL },
	};
	ok(!kdx_symtab_add_module(st, "fixture", ms, 3), "add module symbols");
	a = kdx_symbol_by_addr(st, 0xffffffffc0001044ull, &off);
	ok(a && !strcmp(a->name, "mod_fn_b") && off == 4 && a->module && !strcmp(a->module, "fixture"),
	   "module address resolves with module name");
	s = kdx_symbol_by_name(st, "schedule", NULL);
	ok(s && !s->module, "vmlinux symbol wins by name");
	s = kdx_symbol_by_name(st, "schedule", "fixture");
	ok(s && s->module && s->addr == 0xffffffffc0002000ull, "module-qualified lookup");
	a = kdx_symbol_by_addr(st, 0xffffffffc0003000ull, &off);
	ok(!a, "address past a module's last symbol is unknown");
	struct kdx_symbol m2[] = { { "m2_fn", 0xffffffffc0010000ull, 0, 't', NULL } };
	ok(!kdx_symtab_add_module(st, "m2", m2, 1), "add an unsized module symbol");
	a = kdx_symbol_by_addr(st, 0xffffffffc0010100ull, &off);
	ok(a && !strcmp(a->name, "m2_fn") && off == 0x100, "unsized last module symbol covers its page");
	struct kdx_error *e = kdx_symtab_set_module_range(st, "m2", 0xffffffffc0010000ull, 0xffffffffc0010080ull);
	a = kdx_symbol_by_addr(st, 0xffffffffc0010100ull, &off);
	ok(!e && !a, "module range set by the caller bounds its symbols");
	kdx_error_destroy(e);
}

/* ---- pahole ---- */

/* The declarator name of a pahole member line, or 0 if not a member line. */
static int pahole_line(const char *line, char *name, size_t nlen, long *byte, long *bit)
{
	const char *semi = strstr(line, "; ");
	const char *com = strstr(line, "/*");
	if (!semi || !com || semi > com)
		return 0;
	const char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '}' || *p == '/')
		return 0;
	/* offset: "2340: 0  4" (bit field) or "16     8" after the comment opener */
	const char *c = com + 2;
	char *end;
	*byte = strtol(c, &end, 10);
	if (end == c)
		return 0;
	*bit = -1;
	if (*end == ':')
		*bit = strtol(end + 1, NULL, 10);
	/* declarator: function pointer "(*name)" or the last identifier before
	 * "[", ":" or ";" */
	const char *fp = strstr(line, "(*");
	const char *s, *e;
	if (fp && fp < semi) {
		s = fp + 2;
		e = s;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
	} else {
		e = semi;
		/* strip attributes */
		const char *attr = strstr(line, " __attribute__");
		if (attr && attr < semi)
			e = attr;
		const char *br = memchr(line, '[', e - line);
		if (br)
			e = br;
		const char *colon = memchr(p, ':', e - p);
		if (colon)
			e = colon;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		s = e;
		while (s > p && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
			s--;
	}
	if (e <= s || (size_t)(e - s) >= nlen)
		return 0;
	memcpy(name, s, e - s);
	name[e - s] = 0;
	return 1;
}

static void test_pahole(struct kdx_types *types, const char *vmlinux, const char *sname)
{
	char cmd[1024], line[1024], tname[128], tn[160];
	snprintf(cmd, sizeof(cmd), "pahole -C %s %s 2>/dev/null", sname, vmlinux);
	snprintf(tname, sizeof(tname), "struct %s", sname);
	snprintf(tn, sizeof(tn), "pahole: every member offset of struct %s", sname);
	if (access("/usr/bin/pahole", X_OK) != 0) {
		printf("ok - skipped: %s (pahole not installed)\n", tn);
		return;
	}
	FILE *f = popen(cmd, "r");
	if (!f) {
		printf("ok - skipped: %s (cannot run pahole)\n", tn);
		return;
	}
	struct kdx_type *t;
	struct kdx_error *err = kdx_type_find(types, tname, &t);
	if (err) {
		printf("#   %s\n", err->message);
		kdx_error_destroy(err);
		pclose(f);
		ok(0, tn);
		return;
	}
	/* pahole expands anonymous struct/union types inline, with offsets from
	 * the start of the outer struct; a named member of an anonymous type
	 * ("struct { ... } lru_gen;") only gets its name at the closing brace,
	 * so members are kept per nesting level and prefixed on close. */
	struct pm { char path[256]; long bits; } *ms = NULL;
	size_t nms = 0, cap = 0;
	size_t frame_start[32];
	int depth = 0, n = 0, bad = 0;
	long size = -1;
	while (fgets(line, sizeof(line), f)) {
		char name[128];
		long byte, bit;
		const char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		const char *sz = strstr(line, "/* size: ");
		if (sz && depth == 1)
			size = strtol(sz + 9, NULL, 10);
		if (strchr(p, '{') && !strstr(p, "/*")) {
			if (depth < 32)
				frame_start[depth] = nms;
			depth++;
			continue;
		}
		if (*p == '}') {
			depth--;
			if (depth >= 1 && depth < 32) {
				/* "} name;" or "} __attribute__(...);" or "};" */
				const char *q = p + 1;
				while (isspace((unsigned char)*q))
					q++;
				size_t l = 0;
				while (isalnum((unsigned char)q[l]) || q[l] == '_')
					l++;
				if (l && strncmp(q, "__attribute__", 13) != 0) {
					for (size_t i = frame_start[depth]; i < nms; i++) {
						char tmp[256];
						snprintf(tmp, sizeof(tmp), "%.*s.%s", (int)l, q, ms[i].path);
						strcpy(ms[i].path, tmp);
					}
				}
			}
			continue;
		}
		if (!pahole_line(line, name, sizeof(name), &byte, &bit))
			continue;
		if (nms == cap) {
			cap = cap ? cap * 2 : 64;
			ms = realloc(ms, cap * sizeof(*ms));
		}
		snprintf(ms[nms].path, sizeof(ms[nms].path), "%s", name);
		ms[nms].bits = byte * 8 + (bit >= 0 ? bit : 0);
		nms++;
	}
	for (size_t i = 0; i < nms; i++) {
		uint64_t bo;
		uint32_t bs;
		err = kdx_type_member(types, t, ms[i].path, NULL, &bo, &bs);
		if (err) {
			printf("#   %s.%s: %s\n", sname, ms[i].path, err->message);
			kdx_error_destroy(err);
			bad++;
			continue;
		}
		n++;
		if ((long)bo != ms[i].bits) {
			printf("#   %s.%s: expected bit offset %ld (pahole), got %" PRIu64 "\n",
			       sname, ms[i].path, ms[i].bits, bo);
			bad++;
		}
	}
	free(ms);
	pclose(f);
	struct kdx_type *u = kdx_type_unqualified(t);
	if (size >= 0 && (long)u->size != size) {
		printf("#   sizeof(struct %s): pahole %ld, got %" PRIu64 "\n", sname, size, u->size);
		bad++;
	}
	printf("#   %s: %d members compared\n", sname, n);
	ok(n > 1 && !bad, tn);
}

/* ---- types ---- */

static void check_decl(struct kdx_types *types, const char *sname, const char *member, const char *want)
{
	struct kdx_type *t, *mt;
	char name[256];
	snprintf(name, sizeof(name), "type_to_string %s.%s", sname, member);
	struct kdx_error *err = kdx_type_find(types, sname, &t);
	if (!err)
		err = kdx_type_member(types, t, member, &mt, NULL, NULL);
	if (err) {
		printf("#   %s\n", err->message);
		kdx_error_destroy(err);
		ok(0, name);
		return;
	}
	char *s = kdx_type_to_string(mt, member);
	expect_str(name, s, want);
	free(s);
}

static void check_find(struct kdx_types *types, const char *spelling, const char *want, uint64_t size)
{
	struct kdx_type *t;
	char name[256];
	snprintf(name, sizeof(name), "type_find \"%s\"", spelling);
	struct kdx_error *err = kdx_type_find(types, spelling, &t);
	if (err) {
		printf("#   %s\n", err->message);
		kdx_error_destroy(err);
		ok(0, name);
		return;
	}
	char *s = kdx_type_to_string(t, NULL);
	int good = s && !strcmp(s, want) && (size == (uint64_t)-1 || t->size == size);
	ok(good, name);
	if (!good)
		printf("#   expected \"%s\" size %" PRIu64 ", got \"%s\" size %" PRIu64 "\n", want, size,
		       s ? s : "(null)", t->size);
	free(s);
}

static void test_types(struct kdx_types *types)
{
	check_find(types, "struct list_head", "struct list_head", 16);
	check_find(types, "struct list_head *", "struct list_head *", 8);
	check_find(types, "char [16]", "char [16]", 16);
	check_find(types, "int [2][3]", "int [2][3]", 24);
	check_find(types, "unsigned long", "long unsigned int", 8);
	check_find(types, "unsigned", "unsigned int", 4);
	check_find(types, "long long", "long long int", 8);
	check_find(types, "const char *", "const char *", 8);
	check_find(types, "char *const", "char *const", 8);
	check_find(types, "u64", "u64", 8);
	check_find(types, "pid_t", "pid_t", 4);
	check_find(types, "task_struct", "struct task_struct", (uint64_t)-1);
	check_find(types, "union bpf_attr", "union bpf_attr", 144);
	check_find(types, "enum pid_type", "enum pid_type", 4);
	check_find(types, "void *", "void *", 8);
	check_find(types, "void", "void", 0);
	check_find(types, "int (*)(void)", "int (*)(void)", 8);
	check_find(types, "void (*)(struct work_struct *)", "void (*)(struct work_struct *)", 8);
	check_find(types, "char (*)[16]", "char (*)[16]", 8);
	check_find(types, "int *[4]", "int *[4]", 32);
	check_find(types, "const char *const *", "const char *const *", 8);
	check_find(types, "int (*)(const char *, ...)", "int (*)(const char *, ...)", 8);
	check_find(types, "struct list_head*", "struct list_head *", 8);

	struct kdx_type *t;
	struct kdx_error *err = kdx_type_find(types, "struct no_such_struct_xyz", &t);
	ok(err && err->code == KDX_ERR_NOT_FOUND, "unknown struct is NOT_FOUND");
	kdx_error_destroy(err);

	check_decl(types, "struct task_struct", "comm", "char comm[16]");
	check_decl(types, "struct list_head", "next", "struct list_head *next");
	check_decl(types, "struct work_struct", "func", "work_func_t func");
	check_decl(types, "struct task_struct", "__state", "unsigned int __state");
	check_decl(types, "struct file_operations", "read",
		   "ssize_t (*read)(struct file *, char *, size_t, loff_t *)");
	check_decl(types, "struct task_struct", "cpus_ptr", "const cpumask_t *cpus_ptr");
	check_decl(types, "struct irq_desc", "kstat_irqs", "unsigned int *kstat_irqs");
	check_decl(types, "struct sched_class", "enqueue_task",
		   "void (*enqueue_task)(struct rq *, struct task_struct *, int)");
	check_decl(types, "struct timer_list", "function", "void (*function)(struct timer_list *)");

	/* typedef'd function pointer: work_func_t */
	err = kdx_type_find(types, "work_func_t", &t);
	if (!err) {
		char *s = kdx_type_to_string(t->target, "fn");
		expect_str("function pointer declarator", s, "void (*fn)(struct work_struct *)");
		free(s);
	} else {
		ok(0, "function pointer declarator");
		kdx_error_destroy(err);
	}

	/* pointer to array */
	err = kdx_type_find(types, "char [16]", &t);
	if (!err) {
		char *s = kdx_type_to_string(kdx_type_pointer_to(types, t), "p");
		expect_str("pointer to array declarator", s, "char (*p)[16]");
		free(s);
	} else {
		kdx_error_destroy(err);
	}

	/* members: anonymous descent, nested paths, bit fields, arrays */
	uint64_t off;
	err = kdx_struct_member_offset(types, "task_struct", "se.vruntime", &off);
	ok(!err && off > 0, "nested member path se.vruntime");
	kdx_error_destroy(err);
	err = kdx_struct_member_offset(types, "task_struct", "comm[3]", &off);
	uint64_t comm;
	kdx_error_destroy(kdx_struct_member_offset(types, "task_struct", "comm", &comm));
	ok(!err && off == comm + 3, "array index in member path");
	kdx_error_destroy(err);
	err = kdx_struct_member_offset(types, "struct page", "lru", &off);
	ok(!err && off == 8, "anonymous union member page.lru at 8");
	kdx_error_destroy(err);
	err = kdx_struct_member_offset(types, "task_struct", "no_such_member", &off);
	ok(err && err->code == KDX_ERR_NOT_FOUND, "missing member is NOT_FOUND");
	if (err)
		printf("#   message: %s\n", err->message);
	kdx_error_destroy(err);
	uint64_t sz;
	err = kdx_types_sizeof(types, "struct task_struct", &sz);
	ok(!err && sz > 4000, "sizeof(struct task_struct)");
	kdx_error_destroy(err);

	/* variables */
	uint64_t addr;
	int percpu, fn;
	err = kdx_variable_find_ex(types, "init_task", &t, &addr, &percpu, &fn, NULL);
	ok(!err && addr == 0xffffffff82a1aa40ull && !percpu && !fn && t->kind == KDX_TYPE_STRUCT,
	   "variable init_task");
	kdx_error_destroy(err);
	err = kdx_variable_find_ex(types, "runqueues", &t, &addr, &percpu, &fn, NULL);
	ok(!err && addr == 0x31980 && percpu, "per-cpu variable runqueues");
	kdx_error_destroy(err);
	err = kdx_variable_find_ex(types, "jiffies", &t, &addr, &percpu, &fn, NULL);
	ok(!err && t->size == 8 && !percpu, "variable jiffies");
	kdx_error_destroy(err);
	err = kdx_variable_find_ex(types, "schedule", &t, &addr, &percpu, &fn, NULL);
	ok(!err && fn && t->kind == KDX_TYPE_FUNCTION && addr >= 0xffffffff81000000ull, "function schedule");
	kdx_error_destroy(err);
	err = kdx_variable_find_ex(types, "vfs_read", &t, &addr, &percpu, &fn, NULL);
	if (!err) {
		char *str = kdx_type_to_string(t, "vfs_read");
		expect_str("function declaration spelling", str,
			   "ssize_t vfs_read(struct file *, char *, size_t, loff_t *)");
		free(str);
	} else {
		ok(0, "function declaration spelling");
	}
	kdx_error_destroy(err);
	uint64_t lo, hi;
	err = kdx_function_range(types, "schedule", &lo, &hi, NULL);
	ok(!err && hi > lo && lo >= 0xffffffff81000000ull, "function range of schedule");
	kdx_error_destroy(err);
	int64_t v;
	err = kdx_enumerator_find(types, "PIDTYPE_PGID", &t, &v);
	ok(!err && v == 2 && t->kind == KDX_TYPE_ENUM, "enumerator PIDTYPE_PGID = 2");
	kdx_error_destroy(err);

	/* bit field */
	struct kdx_type *mt;
	uint64_t bo;
	uint32_t bs;
	err = kdx_type_find(types, "struct task_struct", &t);
	if (!err)
		err = kdx_type_member(types, t, "in_iowait", &mt, &bo, &bs);
	ok(!err && bs == 1, "bit field in_iowait has bit_size 1");
	kdx_error_destroy(err);
}

/* Types built by hand (value.c's literals, other tests) have no priv. */
static void test_foreign_types(struct kdx_types *types)
{
	struct kdx_type i32 = { .kind = KDX_TYPE_INT, .name = "int", .size = 4, .is_signed = 1 };
	struct kdx_member ms[] = { { "a", &i32, 0, 0 }, { "b", &i32, 32, 0 } };
	struct kdx_type st = { .kind = KDX_TYPE_STRUCT, .name = "pair", .size = 8, .nmembers = 2,
			       .members = ms };
	struct kdx_type td = { .kind = KDX_TYPE_TYPEDEF, .name = "pair_t", .size = 8, .target = &st };
	ok(kdx_type_unqualified(&td) == &st, "foreign typedef unqualifies");
	uint64_t bo;
	struct kdx_type *mt;
	struct kdx_error *err = kdx_type_member(types, &td, "b", &mt, &bo, NULL);
	ok(!err && bo == 32 && mt == &i32, "member of a foreign struct");
	kdx_error_destroy(err);
	struct kdx_type *p = kdx_type_pointer_to(types, &td);
	char *str = p ? kdx_type_to_string(p, "pp") : NULL;
	expect_str("pointer to a foreign typedef", str, "pair_t *pp");
	free(str);
	ok(!kdx_type_complete(types, &st), "completing a foreign struct is a no-op");
}

static void test_lines(struct kdx_types *types, struct kdx_symtab *st)
{
	const struct kdx_symbol *s = kdx_symbol_by_name(st, "schedule", NULL);
	const char *file = NULL;
	int line = 0;
	struct kdx_error *err = s ? kdx_types_addr_to_line(types, s->addr + 0x10, 0, &file, &line) : NULL;
	int good = s && !err && file && strstr(file, "kernel/sched/core.c") && line > 0;
	ok(good, "schedule+0x10 is in kernel/sched/core.c");
	printf("#   %s:%d\n", file ? file : "?", line);
	kdx_error_destroy(err);
	/* inline frames: some address in __schedule is inside inlined code */
	uint64_t lo, hi;
	struct kdx_inline_frame fr[16];
	size_t nfr = 0;
	int found = 0;
	err = kdx_function_range(types, "__schedule", &lo, &hi, NULL);
	for (uint64_t a = lo; !err && a < hi && !found; a++) {
		struct kdx_error *e2 = kdx_types_inline_frames(types, a, 0, fr, 16, &nfr);
		if (!e2 && nfr >= 2)
			found = 1;
		kdx_error_destroy(e2);
	}
	kdx_error_destroy(err);
	ok(found && fr[nfr - 1].function && !strcmp(fr[nfr - 1].function, "__schedule") &&
	   !fr[nfr - 1].inlined && fr[0].inlined && fr[0].function && fr[nfr - 1].line > 0 &&
	   fr[nfr - 1].file && strstr(fr[nfr - 1].file, "core.c"),
	   "inline frames inside __schedule end in __schedule at a call line");
	for (size_t i = 0; found && i < nfr; i++)
		printf("#   %s%s at %s:%d\n", fr[i].function ? fr[i].function : "?",
		       fr[i].inlined ? " (inlined)" : "", fr[i].file ? fr[i].file : "?", fr[i].line);
	/* with a KASLR offset */
	err = s ? kdx_types_addr_to_line(types, s->addr + 0x10 + 0x2000000, 0x2000000, &file, &line) : NULL;
	ok(s && !err && strstr(file, "core.c"), "addr_to_line subtracts the KASLR offset");
	kdx_error_destroy(err);
}

static void test_image(const char *vmlinux)
{
	struct kdx_vmlinux_info vi;
	struct kdx_error *err = kdx_vmlinux_info_read(vmlinux, NULL, &vi);
	ok(!err, "vmlinux info");
	kdx_error_destroy(err);
	expect_str("osrelease from linux_banner", vi.osrelease, "6.1.0-56-cloud-amd64");
	ok(vi.build_id_len == 20, "vmlinux build-id is 20 bytes");
	printf("#   build-id %s\n", vi.build_id_hex);
	ok(vi.stext == 0xffffffff81000000ull, "_stext");

	uint64_t off = 0;
	const char *vi1 = "OSRELEASE=6.1.0-56-cloud-amd64\nKERNELOFFSET=1e000000\nPAGESIZE=4096\n";
	err = kdx_kaslr_from_vmcoreinfo(vi1, vi.stext, &off);
	ok(!err && off == 0x1e000000, "KASLR from KERNELOFFSET");
	kdx_error_destroy(err);
	const char *vi2 = "OSRELEASE=6.1.0-56-cloud-amd64\nSYMBOL(_stext)=ffffffff9b000000\n";
	err = kdx_kaslr_from_vmcoreinfo(vi2, vi.stext, &off);
	ok(!err && off == 0x1a000000, "KASLR from SYMBOL(_stext)");
	kdx_error_destroy(err);
	err = kdx_kaslr_from_vmcoreinfo("OSRELEASE=x\n", vi.stext, &off);
	ok(err && err->code == KDX_ERR_NOT_FOUND, "KASLR absent");
	kdx_error_destroy(err);

	char good[1024], bad[1024];
	snprintf(good, sizeof(good), "OSRELEASE=6.1.0-56-cloud-amd64\nBUILD-ID=%s\n", vi.build_id_hex);
	err = kdx_vmlinux_check_vmcoreinfo(&vi, good);
	ok(!err, "matching build-id accepted");
	kdx_error_destroy(err);
	snprintf(bad, sizeof(bad), "OSRELEASE=6.1.0-99-cloud-amd64\nBUILD-ID=9c1e%s\n", vi.build_id_hex + 4);
	err = kdx_vmlinux_check_vmcoreinfo(&vi, bad);
	ok(err && err->code == KDX_ERR_MISMATCH && strstr(err->message, "6.1.0-99-cloud-amd64") &&
	   strstr(err->message, "9c1e"), "mismatching build-id refused");
	if (err)
		printf("#   %s\n", err->message);
	kdx_error_destroy(err);
	/* live: a fake root with /sys/kernel/notes and osrelease */
	char root[] = "/tmp/kdx-live-XXXXXX";
	if (mkdtemp(root)) {
		char p[512];
		snprintf(p, sizeof(p), "%s/sys", root); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/sys/kernel", root); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/proc", root); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/proc/sys", root); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/proc/sys/kernel", root); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/proc/sys/kernel/osrelease", root);
		FILE *f = fopen(p, "w");
		if (f) {
			fprintf(f, "6.1.0-56-cloud-amd64\n");
			fclose(f);
		}
		/* one Xen note, then the GNU build-id note */
		unsigned char notes[64 + 36];
		memset(notes, 0, sizeof(notes));
		uint32_t h1[3] = { 4, 4, 6 };
		memcpy(notes, h1, 12);
		memcpy(notes + 12, "Xen", 4);
		uint32_t h2[3] = { 4, 20, 3 };
		memcpy(notes + 20, h2, 12);
		memcpy(notes + 32, "GNU", 4);
		memcpy(notes + 36, vi.build_id, 20);
		snprintf(p, sizeof(p), "%s/sys/kernel/notes", root);
		f = fopen(p, "w");
		if (f) {
			fwrite(notes, 1, 56, f);
			fclose(f);
		}
		err = kdx_vmlinux_check_live(&vi, root);
		ok(!err, "live check: matching build-id in /sys/kernel/notes");
		kdx_error_destroy(err);
		notes[36] ^= 0xff;
		f = fopen(p, "w");
		if (f) {
			fwrite(notes, 1, 56, f);
			fclose(f);
		}
		err = kdx_vmlinux_check_live(&vi, root);
		ok(err && err->code == KDX_ERR_MISMATCH, "live check: other build-id refused");
		if (err)
			printf("#   %s\n", err->message);
		kdx_error_destroy(err);
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		if (system(cmd)) {}
	}
	err = kdx_vmlinux_check_vmcoreinfo(&vi, "OSRELEASE=5.10.0-1-amd64\n");
	ok(err && err->code == KDX_ERR_MISMATCH, "mismatching release refused (no build-id)");
	if (err)
		printf("#   %s\n", err->message);
	kdx_error_destroy(err);
}

static void test_module(struct kdx_types *types, struct kdx_symtab *st)
{
	char *path = kdx_module_debuginfo_path("6.1.0-56-cloud-amd64", "virtio-blk");
	if (!path) {
		printf("ok - skipped: module debuginfo (virtio_blk.ko from the -dbg package absent)\n");
		return;
	}
	static const char *const names[] = { ".text", ".rodata", ".data", ".bss", ".text.unlikely",
					     ".rodata.str1.1", ".rodata.str1.8" };
	static const uint64_t addrs[] = { 0xffffffffc0400000ull, 0xffffffffc0404000ull,
					  0xffffffffc0406000ull, 0xffffffffc0406800ull,
					  0xffffffffc0403000ull, 0xffffffffc0405000ull,
					  0xffffffffc0405800ull };
	struct kdx_error *err = kdx_types_add_module(types, "virtio_blk", path, names, addrs, 7);
	ok(!err, "load virtio_blk debuginfo");
	if (err) {
		printf("#   %s\n", err->message);
		kdx_error_destroy(err);
		free(path);
		return;
	}
	struct kdx_type *t;
	err = kdx_type_find(types, "struct virtio_blk", &t);
	ok(!err && t->size > 0 && t->nmembers > 3, "module-only struct virtio_blk");
	kdx_error_destroy(err);
	uint64_t addr;
	err = kdx_variable_find(types, "virtio_blk:major", &t, &addr);
	ok(!err && addr == 0xffffffffc0406800ull + 0x10 && t->size == 4,
	   "module variable major relocated into .bss");
	if (!err)
		printf("#   major at %" PRIx64 "\n", addr);
	kdx_error_destroy(err);

	struct kdx_symbol *syms;
	size_t n;
	err = kdx_module_elf_symbols(path, names, addrs, 7, &syms, &n);
	ok(!err && n > 10, "module ELF symbols");
	if (!err) {
		uint64_t probe = 0;
		for (size_t i = 0; i < n; i++)
			if (!strcmp(syms[i].name, "virtblk_probe"))
				probe = syms[i].addr;
		ok(probe == 0xffffffffc0400000ull + 0xe90, "virtblk_probe relocated into .text");
		err = kdx_symtab_add_module(st, "virtio_blk", syms, n);
		kdx_error_destroy(err);
		free(syms);
		uint64_t off;
		const struct kdx_symbol *s = kdx_symbol_by_addr(st, probe + 5, &off);
		ok(s && !strcmp(s->name, "virtblk_probe") && off == 5 && s->module &&
		   !strcmp(s->module, "virtio_blk"), "module address -> virtblk_probe+5 [virtio_blk]");
		const char *file = NULL;
		int line = 0;
		err = kdx_types_addr_to_line(types, probe + 0x20, 0x1000000, &file, &line);
		ok(!err && file && strstr(file, "virtio_blk.c") && line > 0, "module address -> source line");
		if (!err)
			printf("#   %s:%d\n", file, line);
		kdx_error_destroy(err);
	}
	/* vmlinux types still win and still work */
	err = kdx_type_find(types, "struct gendisk", &t);
	ok(!err, "vmlinux types after module load");
	kdx_error_destroy(err);
	free(path);
}

static struct kdx_error *fake_read(void *arg, uint64_t addr, uint64_t *val)
{
	*val = addr ^ 0x5a5a;
	return NULL;
}

static void test_frame_vars(struct kdx_types *types)
{
	uint64_t lo, hi;
	struct kdx_error *err = kdx_function_range(types, "vfs_read", &lo, &hi, NULL);
	if (err) {
		kdx_error_destroy(err);
		ok(0, "vfs_read range");
		return;
	}
	struct kdx_frame_var *v = NULL;
	size_t n = 0;
	err = kdx_types_frame_vars(types, lo, 0, &v, &n);
	int have[4] = {0};
	static const char *const want[4][2] = {
		{ "file", "struct file *" }, { "buf", "char *" }, { "count", "size_t" }, { "pos", "loff_t *" },
	};
	for (size_t i = 0; !err && i < n; i++) {
		char *ts = kdx_type_to_string(v[i].type, NULL);
		for (int k = 0; k < 4; k++)
			if (!strcmp(v[i].name, want[k][0]) && v[i].is_param && ts && !strcmp(ts, want[k][1]) &&
			    v[i].function && !strcmp(v[i].function, "vfs_read"))
				have[k] = 1;
		free(ts);
	}
	ok(!err && have[0] && have[1] && have[2] && have[3],
	   "vfs_read's parameters with their types at its entry");
	kdx_error_destroy(err);
	free(v);

	/* At the entry the ABI puts the first argument in rdi. */
	struct kdx_frame_regs fr;
	memset(&fr, 0, sizeof(fr));
	fr.pc = lo;
	fr.regs[KDX_REG_RDI] = 0xffff888001234000ull;
	fr.regs[KDX_REG_RSP] = 0xffffc90000013e00ull;
	fr.valid = (1ull << KDX_REG_RDI) | (1ull << KDX_REG_RSP);
	fr.cfa = 0xffffc90000013e08ull;
	struct kdx_var_location loc;
	struct kdx_type *t;
	err = kdx_types_frame_var_locate(types, 0, &fr, "file", fake_read, NULL, &t, &loc);
	ok(!err && loc.kind == KDX_LOC_REGISTER && loc.reg == KDX_REG_RDI && loc.value_known &&
	   loc.value == 0xffff888001234000ull, "vfs_read's file is in rdi at entry");
	if (!err && loc.kind == KDX_LOC_UNAVAILABLE)
		printf("#   %s\n", loc.why);
	kdx_error_destroy(err);
	/* Without rdi in the frame: a register location with no value. */
	fr.valid = 1ull << KDX_REG_RSP;
	err = kdx_types_frame_var_locate(types, 0, &fr, "file", fake_read, NULL, &t, &loc);
	ok(!err && loc.kind == KDX_LOC_REGISTER && !loc.value_known, "register without a saved value");
	kdx_error_destroy(err);
	err = kdx_types_frame_var_locate(types, 0, &fr, "no_such_var", fake_read, NULL, &t, &loc);
	ok(err && err->code == KDX_ERR_NOT_FOUND, "unknown frame variable");
	if (err)
		printf("#   %s\n", err->message);
	kdx_error_destroy(err);

	/* Every variable of every PC in vfs_read evaluates to some answer. */
	int bad = 0, kinds[5] = {0};
	fr.valid = ~0ull;
	for (uint64_t pc = lo; pc < hi; pc++) {
		fr.pc = pc;
		err = kdx_types_frame_vars(types, pc, 0, &v, &n);
		if (err) {
			kdx_error_destroy(err);
			bad++;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			err = kdx_types_frame_var_locate(types, 0, &fr, v[i].name, fake_read, NULL, &t, &loc);
			if (err) {
				if (bad++ < 3)
					printf("#   %s at %" PRIx64 ": %s\n", v[i].name, pc, err->message);
				kdx_error_destroy(err);
				continue;
			}
			kinds[loc.kind]++;
		}
		free(v);
	}
	printf("#   vfs_read: memory %d, register %d, value %d, optimized out %d, unavailable %d\n",
	       kinds[0], kinds[1], kinds[2], kinds[3], kinds[4]);
	ok(!bad && kinds[KDX_LOC_REGISTER] > 0, "every variable at every pc of vfs_read locates");
}

/* Time an open in a child so that its memory high-water mark is its own. */
static void timed_open(const char *vmlinux, const char *cache, const char *label)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		double t0 = now();
		struct kdx_symtab *st = NULL;
		struct kdx_types *types = NULL;
		struct kdx_error *err = kdx_symtab_load_vmlinux(vmlinux, &st);
		double t1 = now();
		if (!err)
			err = kdx_types_open(vmlinux, cache, &types);
		double t2 = now();
		struct kdx_type *t;
		if (!err)
			err = kdx_type_find(types, "struct task_struct", &t);
		double t3 = now();
		if (err) {
			printf("#   %s: %s\n", label, err->message);
			_exit(1);
		}
		int from_cache;
		double bs;
		size_t n;
		kdx_types_index_stats(types, &from_cache, &bs, &n);
		printf("# %s: symtab %.3f s, types_open %.3f s (index %s, %zu entries), first struct %.3f s, total %.3f s, VmHWM %ld MB\n",
		       label, t1 - t0, t2 - t1, from_cache ? "from cache" : "built", n, t3 - t2, t3 - t0,
		       vm_hwm_kb() / 1024);
		fflush(stdout);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
}

/*
 * Bit fields in both DWARF encodings: GCC writes DW_AT_data_bit_offset for
 * DWARF 5 (the kernel) and the legacy big-endian-counted DW_AT_bit_offset
 * for DWARF 4. Compiles a small program both ways (skips without a C
 * compiler).
 */
static void test_bitfield_encodings(void)
{
	static const char *src =
		"struct bf { unsigned a:3; unsigned b:5; int c:7; unsigned long long d:40; char e;\n"
		"            int arr[2][3]; void (*fn)(struct bf *, int); };\n"
		"struct bf g_bf;\nint main(void) { return g_bf.a; }\n";
	char dir[] = "/tmp/kdx-bf-XXXXXX";
	if (!mkdtemp(dir))
		return;
	char path[256], cmd[1024];
	snprintf(path, sizeof(path), "%s/bf.c", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fputs(src, f);
	fclose(f);
	static const struct { const char *flag; const char *name; } vers[] = {
		{ "-gdwarf-4", "DWARF 4 (DW_AT_bit_offset)" }, { "-gdwarf-5", "DWARF 5 (DW_AT_data_bit_offset)" },
	};
	static const struct { const char *m; uint64_t bits; uint32_t size; } want[] = {
		{ "a", 0, 3 }, { "b", 3, 5 }, { "c", 8, 7 }, { "d", 15, 40 }, { "e", 56, 0 },
		{ "arr", 64, 0 }, { "fn", 256, 0 },
	};
	for (size_t v = 0; v < 2; v++) {
		char exe[300], name[200];
		snprintf(exe, sizeof(exe), "%s/bf%zu", dir, v);
		snprintf(cmd, sizeof(cmd), "cc -g %s -O0 -o %s %s 2>/dev/null", vers[v].flag, exe, path);
		snprintf(name, sizeof(name), "bit fields in %s", vers[v].name);
		if (system(cmd) != 0) {
			printf("ok - skipped: %s (no C compiler)\n", name);
			continue;
		}
		struct kdx_types *types;
		struct kdx_type *t, *mt;
		struct kdx_error *err = kdx_types_open(exe, dir, &types);
		int good = !err;
		if (!err)
			err = kdx_type_find(types, "struct bf", &t);
		for (size_t i = 0; !err && i < sizeof(want) / sizeof(want[0]); i++) {
			uint64_t bo;
			uint32_t bs;
			err = kdx_type_member(types, t, want[i].m, &mt, &bo, &bs);
			if (!err && (bo != want[i].bits || bs != want[i].size)) {
				printf("#   %s: expected bit %" PRIu64 " size %u, got %" PRIu64 " size %u\n",
				       want[i].m, want[i].bits, want[i].size, bo, bs);
				good = 0;
			}
		}
		if (err) {
			printf("#   %s\n", err->message);
			kdx_error_destroy(err);
			good = 0;
		}
		ok(good, name);
		if (good) {
			kdx_type_member(types, t, "fn", &mt, NULL, NULL);
			char *s1 = kdx_type_to_string(mt, "fn");
			expect_str("declarator of a function pointer member (small program)", s1,
				   "void (*fn)(struct bf *, int)");
			free(s1);
			kdx_type_member(types, t, "arr", &mt, NULL, NULL);
			s1 = kdx_type_to_string(mt, "arr");
			expect_str("declarator of a 2-D array member (small program)", s1, "int arr[2][3]");
			free(s1);
		}
		if (!err || good)
			kdx_types_destroy(types);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd)) {}
}

int main(void)
{
	const char *vmlinux = getenv("KDX_TEST_VMLINUX");
	const char *map = getenv("KDX_TEST_SYSTEM_MAP");
	if (!vmlinux)
		vmlinux = DEFAULT_VMLINUX;
	if (!map)
		map = DEFAULT_MAP;
	test_bitfield_encodings();
	if (access(vmlinux, R_OK) != 0) {
		printf("ok - skipped: %s not installed (linux-image-6.1.0-56-cloud-amd64-dbg)\n", vmlinux);
		return 0;
	}

	/* errors: one line saying what is wrong */
	{
		struct kdx_symtab *bst;
		struct kdx_types *bty;
		struct kdx_error *e = kdx_symtab_load_vmlinux("/nonexistent/vmlinux", &bst);
		ok(e && e->code == KDX_ERR_IO, "missing vmlinux is an I/O error");
		if (e)
			printf("#   %s\n", e->message);
		kdx_error_destroy(e);
		e = kdx_symtab_load_vmlinux("/etc/passwd", &bst);
		ok(e && e->code == KDX_ERR_FORMAT, "non-ELF vmlinux is a format error");
		if (e)
			printf("#   %s\n", e->message);
		kdx_error_destroy(e);
		e = kdx_types_open("/etc/passwd", "/nonexistent", &bty);
		ok(e && e->code == KDX_ERR_FORMAT, "types of a non-ELF file: format error");
		kdx_error_destroy(e);
		/* an ELF file without DWARF: this test program itself is built
		 * with -g, so use a system binary */
		e = kdx_types_open("/bin/true", "/nonexistent", &bty);
		ok(e && e->code == KDX_ERR_FORMAT && strstr(e->message, "debug"),
		   "types of an ELF file without DWARF: format error naming the debuginfo");
		if (e)
			printf("#   %s\n", e->message);
		kdx_error_destroy(e);
	}

	char cache[] = "/tmp/kdx-symtest-XXXXXX";
	if (!mkdtemp(cache)) {
		perror("mkdtemp");
		return 1;
	}
	timed_open(vmlinux, cache, "cold start");
	timed_open(vmlinux, cache, "warm start");

	struct kdx_symtab *st;
	struct kdx_error *err = kdx_symtab_load_vmlinux(vmlinux, &st);
	ok(!err, "load vmlinux symbols");
	if (err) {
		kdx_error_report(err);
		return 1;
	}
	printf("# %zu symbols\n", kdx_symtab_count(st));
	struct kdx_types *types;
	err = kdx_types_open(vmlinux, cache, &types);
	ok(!err, "open vmlinux types (cached index)");
	if (err) {
		kdx_error_report(err);
		return 1;
	}
	int from_cache;
	kdx_types_index_stats(types, &from_cache, NULL, NULL);
	ok(from_cache, "second open uses the cached index");

	/* A damaged cache file is rebuilt, not trusted. */
	{
		DIR *d = opendir(cache);
		struct dirent *de;
		char victim[600] = "";
		while (d && (de = readdir(d)))
			if (!strncmp(de->d_name, "index-", 6))
				snprintf(victim, sizeof(victim), "%s/%s", cache, de->d_name);
		if (d)
			closedir(d);
		/* Damage a copy and rename it into place: the open table still
		 * maps the old file (kdx itself only ever replaces the file by
		 * rename, so a running kdx never sees its mapping shrink). */
		char tmp[640];
		snprintf(tmp, sizeof(tmp), "%s.damaged", victim);
		FILE *in = victim[0] ? fopen(victim, "r") : NULL;
		FILE *out = in ? fopen(tmp, "w") : NULL;
		if (in && out) {
			char buf[65536];
			size_t got, total = 0;
			while ((got = fread(buf, 1, sizeof(buf), in)) > 0) {
				if (total < 4096)
					memset(buf + 200, 'g', 64);   /* inside the entries */
				fwrite(buf, 1, got, out);
				total += got;
			}
			fclose(out);
			out = NULL;
			if (truncate(tmp, total / 2) || rename(tmp, victim)) {}
		}
		if (in)
			fclose(in);
		if (out)
			fclose(out);
		struct kdx_types *t2;
		err = kdx_types_open(vmlinux, cache, &t2);
		int fc = 1;
		struct kdx_type *tt;
		if (!err) {
			kdx_types_index_stats(t2, &fc, NULL, NULL);
			err = kdx_type_find(t2, "struct task_struct", &tt);
		}
		ok(victim[0] && !err && !fc, "a truncated cache file is rebuilt");
		kdx_error_destroy(err);
		if (t2)
			kdx_types_destroy(t2);
	}

	test_system_map(st, map);
	test_types(types);
	test_foreign_types(types);
	static const char *const structs[] = { "list_head", "task_struct", "mm_struct", "module",
					       "page", "rq", "file" };
	for (size_t i = 0; i < sizeof(structs) / sizeof(structs[0]); i++)
		test_pahole(types, vmlinux, structs[i]);
	test_lines(types, st);
	test_frame_vars(types);
	test_symtab_misc(st);
	test_module(types, st);
	test_image(vmlinux);

	kdx_types_destroy(types);
	kdx_symtab_destroy(st);

	/* clean the temporary cache */
	DIR *d = opendir(cache);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char p[512];
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", cache, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(cache);
	return failures ? 1 : 0;
}
