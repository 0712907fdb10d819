/*
 * bt: backtraces, crash-style, from the ORC unwinder (kernel/unwind.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/pertask.h"
#include "kernel/tasks.h"
#include "kernel/unwind.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "util.h"
#if __has_include("kernel/slab.h")
#include "kernel/slab.h"
#define HAVE_SLAB_LOOKUP 1
#endif

#define MAX_BT_FRAMES 512
#define MAX_CPU_ARGS 256

struct bt_opts {
	int f;          /* -f: frame data */
	int F;          /* -F: 1 symbolic, 2 (-FF) with slab addresses */
	int l;          /* -l: file:line */
	int sym_off;    /* -s */
	int hex_off;    /* -x */
	int t, T;       /* -t / -T: text symbols on the stack */
	int r;          /* -r: raw stack */
	int a;          /* -a: active tasks of all CPUs */
	int p;          /* -p: the panic task */
	int g;          /* -g: every thread of the task's thread group */
	int v;          /* -v: check every task's stack end magic */
	int e;          /* -e: search the stack for exception frames */
	int ncpus;      /* -c */
	int cpus[MAX_CPU_ARGS];
	const char *R;  /* -R SYMBOL */
	uint64_t start_sp, start_ip;  /* -S SP, -I IP */
	int nargs;      /* task arguments */
	char **args;
};

extern const struct kdx_command kdx_cmd_bt;

static struct kdx_error *parse_cpus(struct bt_opts *o, const char *text)
{
	char *copy = strdup(text), *save = NULL;

	if (!copy)
		return kdx_error_nomem();
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		char *end;
		long lo = strtol(tok, &end, 10), hi = lo;
		if (end == tok || (dash ? end != dash : *end)) {
			free(copy);
			return kdx_error_create(KDX_ERR_SYNTAX, "bt: invalid CPU list: %s", text);
		}
		if (dash) {
			hi = strtol(dash + 1, &end, 10);
			if (end == dash + 1 || *end || hi < lo) {
				free(copy);
				return kdx_error_create(KDX_ERR_SYNTAX, "bt: invalid CPU list: %s", text);
			}
		}
		for (long c = lo; c <= hi && o->ncpus < MAX_CPU_ARGS; c++)
			o->cpus[o->ncpus++] = (int)c;
	}
	free(copy);
	return NULL;
}

static struct kdx_error *parse_opts(int argc, char **argv, struct bt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->args = calloc(argc > 0 ? argc : 1, sizeof(char *));
	if (!o->args)
		return kdx_error_nomem();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-' || !a[1]) {
			o->args[o->nargs++] = argv[i];
			continue;
		}
		for (const char *p = a + 1; *p; p++) {
			switch (*p) {
			case 'f': o->f = 1; break;
			case 'F': o->F++; o->f = 1; break;
			case 'l': o->l = 1; break;
			case 's': o->sym_off = 1; break;
			case 'x': o->hex_off = 1; o->sym_off = 1; break;
			case 'd': o->sym_off = 1; break;
			case 't': o->t = 1; break;
			case 'T': o->T = 1; break;
			case 'r': o->r = 1; break;
			case 'a': o->a = 1; break;
			case 'p': o->p = 1; break;
			case 'g': o->g = 1; break;
			case 'v': o->v = 1; break;
			case 'e': o->e = 1; break;
			case 'c':
			case 'S':
			case 'I':
			case 'R': {
				const char *val = p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
				if (!val)
					return kdx_error_create(KDX_ERR_SYNTAX, "bt: -%c needs an argument", *p);
				if (*p == 'R')
					o->R = val;
				else if (*p == 'S' || *p == 'I') {
					struct kdx_error *err = kdx_parse_u64(val, 1, *p == 'S' ? &o->start_sp : &o->start_ip);
					if (err)
						return kdx_error_prefix(err, "bt -%c", *p);
				} else {
					struct kdx_error *err = parse_cpus(o, val);
					if (err)
						return err;
				}
				goto next_arg;
			}
			default:
				return kdx_error_create(KDX_ERR_SYNTAX, "bt: unknown option -%c (usage: %s)",
							*p, kdx_cmd_bt.usage);
			}
		}
next_arg:;
	}
	if (o->F > 2)
		o->F = 2;
	if (o->start_ip && !o->start_sp)
		return kdx_error_create(KDX_ERR_SYNTAX, "bt: -I needs -S (the stack address to start at)");
	return NULL;
}

/* "name", "name+off" per -s/-x, for PC (LOOKUP is the address used to find the function). */
static void format_func(struct kdx_session *s, uint64_t pc, uint64_t lookup, int with_off, int hex,
			char *buf, size_t len, const char **module)
{
	uint64_t off;
	const struct kdx_symbol *sym = kdx_symbol_by_addr(s->symtab, lookup, &off);

	*module = NULL;
	if (!sym) {
		snprintf(buf, len, "%llx", (unsigned long long)pc);
		return;
	}
	*module = sym->module;
	off = pc - sym->addr;
	if (with_off && off)
		snprintf(buf, len, hex ? "%s+0x%llx" : "%s+%llu", sym->name, (unsigned long long)off);
	else
		snprintf(buf, len, "%s", sym->name);
}

static void print_regs(struct kdx_session *s, const uint64_t *r)
{
	FILE *o = s->out;
#define R(x) (unsigned long long)r[KDX_REG_##x]
	fprintf(o, "    RIP: %016llx  RSP: %016llx  RFLAGS: %08llx\n", R(RIP), R(RSP), R(EFLAGS));
	fprintf(o, "    RAX: %016llx  RBX: %016llx  RCX: %016llx\n", R(RAX), R(RBX), R(RCX));
	fprintf(o, "    RDX: %016llx  RSI: %016llx  RDI: %016llx\n", R(RDX), R(RSI), R(RDI));
	fprintf(o, "    RBP: %016llx   R8: %016llx   R9: %016llx\n", R(RBP), R(R8), R(R9));
	fprintf(o, "    R10: %016llx  R11: %016llx  R12: %016llx\n", R(R10), R(R11), R(R12));
	fprintf(o, "    R13: %016llx  R14: %016llx  R15: %016llx\n", R(R13), R(R14), R(R15));
	fprintf(o, "    ORIG_RAX: %016llx  CS: %04llx  SS: %04llx\n", R(ORIG_RAX), R(CS), R(SS));
#undef R
}

static void print_partial_regs(struct kdx_session *s, const uint64_t *r)
{
	fprintf(s->out, "    RIP: %016llx  RSP: %016llx  RFLAGS: %08llx\n    CS: %04llx  SS: %04llx\n",
		(unsigned long long)r[KDX_REG_RIP], (unsigned long long)r[KDX_REG_RSP],
		(unsigned long long)r[KDX_REG_EFLAGS], (unsigned long long)r[KDX_REG_CS],
		(unsigned long long)r[KDX_REG_SS]);
}

/* A stack word as -F/-FF show it. */
static void format_word(struct kdx_session *s, uint64_t v, int F, char *buf, size_t len)
{
	if (F && (v >> 63)) {
		uint64_t off;
		const struct kdx_symbol *sym = kdx_symbol_by_addr(s->symtab, v, &off);
		if (sym && off == 0) {
			snprintf(buf, len, "%s", sym->name);
			return;
		}
		/* Return addresses: the call is at v - 1 (noreturn calls end functions). */
		sym = kdx_symbol_by_addr(s->symtab, v - 1, &off);
		if (sym && kdx_is_text_addr(s, v - 1)) {
			snprintf(buf, len, "%s+%llu", sym->name, (unsigned long long)(v - sym->addr));
			return;
		}
#ifdef HAVE_SLAB_LOOKUP
		const char *cache;
		uint64_t start, size;
		struct kdx_error *err = kdx_slab_lookup(s, v, &cache, &start, &size);
		if (!err) {
			if (F >= 2)
				snprintf(buf, len, "[%llx:%s]", (unsigned long long)v, cache);
			else
				snprintf(buf, len, "[%s]", cache);
			return;
		}
		kdx_error_destroy(err);
#endif
	}
	snprintf(buf, len, "%016llx", (unsigned long long)v);
}

/* Stack words [FROM, TO) two per line. */
static void dump_words(struct kdx_session *s, const struct kdx_task *t, uint64_t from, uint64_t to,
		       int F)
{
	char buf[160];

	for (uint64_t a = from; a < to; a += 16) {
		fprintf(s->out, "    %llx: ", (unsigned long long)a);
		for (uint64_t w = a; w < a + 16 && w < to; w += 8) {
			uint64_t v;
			struct kdx_error *err = kdx_read_u64(s, w, &v);
			if (err) {
				fprintf(s->out, "\n");
				kdx_session_report(s, kdx_error_prefix(err, "bt: PID %d: stack word at %llx",
								       t->pid, (unsigned long long)w));
				return;
			}
			format_word(s, v, F, buf, sizeof(buf));
			fprintf(s->out, F ? "%-16s " : "%s ", buf);
		}
		fprintf(s->out, "\n");
	}
}

static const char *stack_label(const char *name)
{
	static const struct { const char *name, *label; } labels[] = {
		{ "IRQ", "IRQ stack" }, { "NMI", "NMI exception stack" },
		{ "#DF", "DOUBLEFAULT exception stack" }, { "#DB", "DEBUG exception stack" },
		{ "#MC", "MCE exception stack" }, { "#VC", "VC exception stack" },
		{ "#VC2", "VC2 exception stack" }, { "ENTRY", "entry trampoline stack" },
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++)
		if (!strcmp(labels[i].name, name))
			return labels[i].label;
	return name;
}

/* -l: "    file.c: LINE" of ADDR (nothing when the debug info has no line). */
static void print_line(struct kdx_session *s, uint64_t addr)
{
	const char *file;
	int line;
	struct kdx_error *err = kdx_addr_to_line(s, addr, &file, &line);

	if (!err)
		fprintf(s->out, "    %s: %d\n", file, line);
	else
		kdx_error_destroy(err);
}

struct bt_result {
	struct kdx_frame *frames;
	size_t n;
	struct kdx_error *err;   /* why unwinding stopped early, or NULL */
};

static struct kdx_error *collect(struct kdx_session *s, const struct kdx_task *t,
			       const struct bt_opts *o, struct bt_result *r)
{
	struct kdx_unwind *u;
	struct kdx_error *err = o->start_sp ? kdx_unwind_start_at(s, t, o->start_ip, o->start_sp, &u)
					    : kdx_unwind_start(s, t, &u);

	memset(r, 0, sizeof(*r));
	if (err)
		return err;
	r->frames = calloc(MAX_BT_FRAMES, sizeof(*r->frames));
	if (!r->frames) {
		kdx_unwind_end(u);
		return kdx_error_nomem();
	}
	while (r->n < MAX_BT_FRAMES) {
		int done;
		err = kdx_unwind_next(u, &r->frames[r->n], &done);
		if (err) {
			r->err = err;
			break;
		}
		if (done)
			break;
		r->n++;
	}
	kdx_unwind_end(u);
	return NULL;
}

static int matches_R(struct kdx_session *s, const struct bt_result *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++) {
		uint64_t off;
		const struct kdx_frame *f = &r->frames[i];
		uint64_t lookup = (i == 0 || f->is_exception) ? f->pc : f->pc - 1;
		const struct kdx_symbol *sym = kdx_symbol_by_addr(s->symtab, lookup, &off);
		if (sym && !strcmp(sym->name, name))
			return 1;
	}
	return 0;
}

static void print_frames(struct kdx_session *s, const struct kdx_task *t, const struct bt_opts *o,
			 const struct bt_result *r)
{
	char name[256];
	const char *mod;

	for (size_t i = 0; i < r->n; i++) {
		const struct kdx_frame *f = &r->frames[i];
		if (f->user_regs) {
			if (f->regs_valid)
				print_regs(s, f->regs);
			else
				print_partial_regs(s, f->regs);
			continue;
		}
		if (f->is_exception) {
			format_func(s, f->pc, f->pc, 1, o->hex_off, name, sizeof(name), &mod);
			fprintf(s->out, "    [exception RIP: %s]\n", name);
			if (o->l)
				print_line(s, f->pc);
			if (f->regs_valid)
				print_regs(s, f->regs);
			else
				print_partial_regs(s, f->regs);
		} else {
			/* A return address can be the first byte after a noreturn call. */
			uint64_t lookup = (i == 0 || (i > 0 && r->frames[i - 1].is_exception)) ? f->pc : f->pc - 1;
			format_func(s, f->pc, lookup, o->sym_off, o->hex_off, name, sizeof(name), &mod);
			fprintf(s->out, "%s#%d [%llx] %s at %llx", f->level < 10 ? " " : "", f->level,
				(unsigned long long)f->sp, name, (unsigned long long)f->pc);
			if (mod)
				fprintf(s->out, " [%s]", mod);
			if (f->from_scan)
				fprintf(s->out, " (found by stack scan: no ORC data)");
			fprintf(s->out, "\n");
			if (o->l)
				print_line(s, lookup);
		}
		if (o->f && !f->is_exception && f->cfa > f->sp && f->cfa - f->sp <= 0x10000)
			dump_words(s, t, f->sp + 8, f->cfa, o->F);
		if (i + 1 < r->n && f->stack_name && !r->frames[i + 1].user_regs &&
		    r->frames[i + 1].stack_name != f->stack_name)
			fprintf(s->out, "--- <%s> ---\n", stack_label(f->stack_name));
	}
}

/* -t / -T: every text address on the stack. */
static struct kdx_error *print_text_refs(struct kdx_session *s, const struct kdx_task *t,
					 const struct bt_opts *o, const struct bt_result *r)
{
	uint64_t lo, hi, sp;
	struct kdx_error *err;
	char name[256];
	const char *mod;

	if ((err = kdx_task_stack_bounds(s, t, &lo, &hi)))
		return err;
	if (r->n) {
		format_func(s, r->frames[0].pc, r->frames[0].pc, 0, 0, name, sizeof(name), &mod);
		fprintf(s->out, "              START: %s at %llx\n", name,
			(unsigned long long)r->frames[0].pc);
	}
	if (o->T)
		sp = lo;
	else if ((err = kdx_unwind_task_sp(s, t, &sp)))
		return err;
	if (sp < lo || sp >= hi)
		sp = lo;
	for (uint64_t a = sp & ~7ULL; a < hi; a += 8) {
		uint64_t v;
		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
		if ((err = kdx_read_u64(s, a, &v)))
			return kdx_error_prefix(err, "cannot read stack of PID %d at %llx", t->pid,
						(unsigned long long)a);
		if (!kdx_is_text_addr(s, v - 1))
			continue;
		format_func(s, v, v - 1, 0, 0, name, sizeof(name), &mod);
		fprintf(s->out, "  [%llx] %s at %llx%s%s%s\n", (unsigned long long)a, name,
			(unsigned long long)v, mod ? " [" : "", mod ? mod : "", mod ? "]" : "");
	}
	if (r->n && r->frames[r->n - 1].user_regs)
		print_regs(s, r->frames[r->n - 1].regs);
	return NULL;
}

static struct kdx_error *print_raw(struct kdx_session *s, const struct kdx_task *t)
{
	uint64_t lo, hi;
	struct kdx_error *err = kdx_task_stack_bounds(s, t, &lo, &hi);

	if (err)
		return err;
	for (uint64_t a = lo; a < hi; a += 16) {
		uint64_t v[2];
		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
		if ((err = kdx_read(s, a, v, sizeof(v))))
			return kdx_error_prefix(err, "cannot read stack of PID %d at %llx", t->pid,
						(unsigned long long)a);
		fprintf(s->out, "%llx:  %016llx %016llx\n", (unsigned long long)a,
			(unsigned long long)v[0], (unsigned long long)v[1]);
	}
	return NULL;
}

/*
 * -e: every place on the task stack that looks like a saved struct pt_regs:
 * CS and SS with the same privilege level, RFLAGS with its always-one bit
 * and no bits above the defined ones, RIP kernel text (kernel mode) or a
 * canonical user address (user mode), RSP on a stack or a user address.
 */
static int looks_like_regs(struct kdx_session *s, const uint64_t *r, uint64_t lo, uint64_t hi)
{
	uint64_t cs = r[KDX_REG_CS], ss = r[KDX_REG_SS], fl = r[KDX_REG_EFLAGS];
	uint64_t ip = r[KDX_REG_RIP], sp = r[KDX_REG_RSP];

	if (cs == 0 || cs > 0xffff || ss > 0xffff || !(fl & 2) || fl >> 22)
		return 0;
	if ((cs & 3) == 3)
		return (ss & 3) == 3 && ip && ip < 0x800000000000ULL && sp < 0x800000000000ULL;
	if ((cs & 3) != 0 || !kdx_is_text_addr(s, ip))
		return 0;
	/* Kernel mode: the interrupted stack pointer is a kernel address (this
	 * or another kernel stack), 8-byte aligned. */
	(void)lo, (void)hi;
	return (sp >> 63) && !(sp & 7);
}

static struct kdx_error *print_exception_frames(struct kdx_session *s, const struct kdx_task *t)
{
	uint64_t lo, hi, size;
	struct kdx_error *err;
	int found = 0;
	char name[256];
	const char *mod;

	if ((err = kdx_task_stack_bounds(s, t, &lo, &hi)) ||
	    (err = kdx_type_sizeof(s, "struct pt_regs", &size)))
		return err;
	if (size != KDX_REG_SS * 8 + 8)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "bt -e: struct pt_regs of %llu bytes",
					(unsigned long long)size);
	size_t n = (hi - lo) / 8;
	uint64_t *w = malloc(n * sizeof(*w));
	if (!w)
		return kdx_error_nomem();
	for (size_t i = 0; i < n; i += 512) {
		size_t cnt = n - i < 512 ? n - i : 512;
		if ((err = kdx_read(s, lo + 8 * i, w + i, cnt * 8))) {
			/* A missing page: treat it as zeros, but say so. */
			kdx_session_report(s, kdx_error_prefix(err, "bt -e: PID %d: stack page at %llx",
							       t->pid, (unsigned long long)(lo + 8 * i)));
			memset(w + i, 0, cnt * 8);
		}
	}
	for (size_t i = 0; i + KDX_REG_SS + 1 <= n; i++) {
		uint64_t r[KDX_NR_REGS];
		memset(r, 0, sizeof(r));
		memcpy(r, w + i, (KDX_REG_SS + 1) * 8);
		if (!looks_like_regs(s, r, lo, hi))
			continue;
		found++;
		if (r[KDX_REG_CS] & 3) {
			fprintf(s->out, " USER-MODE EXCEPTION FRAME AT: %llx\n", (unsigned long long)(lo + 8 * i));
		} else {
			fprintf(s->out, " KERNEL-MODE EXCEPTION FRAME AT: %llx\n", (unsigned long long)(lo + 8 * i));
			format_func(s, r[KDX_REG_RIP], r[KDX_REG_RIP], 1, 0, name, sizeof(name), &mod);
			fprintf(s->out, "    [exception RIP: %s]\n", name);
		}
		print_regs(s, r);
		i += KDX_REG_SS;
	}
	free(w);
	if (!found)
		fprintf(s->out, " no exception frames found\n");
	return NULL;
}

/* One task's backtrace. SEPARATE: print a blank line first (not the first task). */
static struct kdx_error *bt_task(struct kdx_session *s, const struct kdx_task *t,
				 const struct bt_opts *o, int separate)
{
	struct bt_result r;
	struct kdx_error *err = collect(s, t, o, &r);

	if (o->R) {
		int m = !err && matches_R(s, &r, o->R);
		if (!m) {
			if (err)
				kdx_error_destroy(err);
			if (r.err)
				kdx_error_destroy(r.err);
			free(r.frames);
			return NULL;
		}
	}
	/* With -R most tasks print nothing: a blank line after each match
	 * instead of before each task. */
	if (separate && !o->R)
		fprintf(s->out, "\n");
	kdx_print_task_header(s, t);
	if (err) {
		free(r.frames);
		return kdx_error_prefix(err, "bt");
	}
	if (o->r)
		err = print_raw(s, t);
	else if (o->e)
		err = print_exception_frames(s, t);
	else if (o->t || o->T)
		err = print_text_refs(s, t, o, &r);
	else
		print_frames(s, t, o, &r);
	if (o->R)
		fprintf(s->out, "\n");
	free(r.frames);
	if (err) {
		if (r.err)
			kdx_error_destroy(r.err);
		return kdx_error_prefix(err, "bt");
	}
	return r.err ? kdx_error_prefix(r.err, "bt") : NULL;
}

/*
 * -v: stack overflow check. The word at the bottom of every task stack holds
 * STACK_END_MAGIC (set_task_stack_end_magic); the init task's stack
 * (init_stack) tells its value, so nothing is hardcoded.
 */
static struct kdx_error *bt_check_overflow(struct kdx_session *s)
{
	struct kdx_task *tasks;
	size_t n, bad = 0;
	uint64_t init_stack, magic;
	struct kdx_error *err;

	if ((err = kdx_symbol_lookup(s, "init_stack", &init_stack)) ||
	    (err = kdx_read_u64(s, init_stack, &magic)))
		return kdx_error_prefix(err, "bt -v: reading the stack end magic of init_stack");
	magic &= 0xffffffffULL;
	if ((err = kdx_tasks(s, &tasks, &n)))
		return kdx_error_prefix(err, "bt -v");
	for (size_t i = 0; i < n; i++) {
		const struct kdx_task *t = &tasks[i];
		uint64_t v;
		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "bt -v: interrupted");
		if (!t->stack)
			continue;
		err = kdx_read_u64(s, t->stack, &v);
		if (err) {
			kdx_session_report(s, kdx_error_prefix(err, "bt -v: PID %d: stack end at %llx",
							       t->pid, (unsigned long long)t->stack));
			continue;
		}
		if ((v & 0xffffffffULL) == magic)
			continue;
		if (bad++)
			fprintf(s->out, "\n");
		kdx_print_task_header(s, t);
		fprintf(s->out, "  possible stack overflow: %llx: %llx != STACK_END_MAGIC (%llx)\n",
			(unsigned long long)t->stack, (unsigned long long)v, (unsigned long long)magic);
	}
	if (!bad)
		fprintf(s->out, "No stack overflows detected\n");
	return NULL;
}

/* -g: every thread of T's thread group, in ps order. */
static struct kdx_error *bt_group(struct kdx_session *s, const struct kdx_task *t,
				  const struct bt_opts *o, int *count)
{
	struct kdx_task *tasks;
	size_t n;
	struct kdx_error *err = kdx_tasks(s, &tasks, &n);

	if (err)
		return kdx_error_prefix(err, "bt -g");
	for (size_t i = 0; i < n; i++) {
		if (tasks[i].tgid != t->tgid || tasks[i].is_idle)
			continue;
		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "bt: interrupted");
		kdx_session_report(s, bt_task(s, &tasks[i], o, (*count)++ > 0));
	}
	return NULL;
}

static struct kdx_error *bt_run_task(struct kdx_session *s, const struct kdx_task *t, int argc,
				     char **argv, unsigned flags)
{
	struct bt_opts o;
	struct kdx_error *err = parse_opts(argc, argv, &o);

	if (!err)
		err = bt_task(s, t, &o, !(flags & KDX_PERTASK_FIRST));
	free(o.args);
	return err;
}

static struct kdx_error *cmd_bt(struct kdx_session *s, int argc, char **argv)
{
	struct bt_opts o;
	struct kdx_error *err = parse_opts(argc, argv, &o);
	int count = 0;

	if (err) {
		free(o.args);
		return err;
	}
	if (o.a || o.ncpus) {
		int n = kdx_cpu_count(s);
		int list[MAX_CPU_ARGS], nl = 0;
		if (o.a)
			for (int c = 0; c < n && nl < MAX_CPU_ARGS; c++)
				list[nl++] = c;
		else
			for (int i = 0; i < o.ncpus; i++)
				list[nl++] = o.cpus[i];
		for (int i = 0; i < nl; i++) {
			if (list[i] < 0 || list[i] >= n) {
				kdx_session_report(s, kdx_error_create(KDX_ERR_INVALID,
								       "bt: invalid CPU %d (%d CPUs)", list[i], n));
				continue;
			}
			if (o.a && !kdx_cpu_present(s, list[i]))
				continue;
			const struct kdx_task *t = kdx_task_active_on(s, list[i]);
			if (!t) {
				kdx_session_report(s, kdx_error_create(KDX_ERR_NOT_FOUND,
								       "bt: no active task found on CPU %d", list[i]));
				continue;
			}
			kdx_session_report(s, bt_task(s, t, &o, count++ > 0));
		}
		free(o.args);
		return NULL;
	}
	if (o.v) {
		free(o.args);
		return bt_check_overflow(s);
	}
	if (o.p) {
		const struct kdx_task *t = kdx_task_panic(s);
		free(o.args);
		if (!t)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "bt -p: no panic task in this dump");
		return bt_task(s, t, &o, 0);
	}
	if (o.nargs == 0) {
		const struct kdx_task *t = kdx_task_current(s);
		free(o.args);
		if (!t)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "bt: no current task (try `bt PID`)");
		return o.g ? bt_group(s, t, &o, &count) : bt_task(s, t, &o, 0);
	}
	for (int i = 0; i < o.nargs; i++) {
		const struct kdx_task *t;
		err = kdx_task_resolve(s, o.args[i], &t);
		if (err) {
			kdx_session_report(s, kdx_error_prefix(err, "bt"));
			continue;
		}
		if (o.g)
			kdx_session_report(s, bt_group(s, t, &o, &count));
		else
			kdx_session_report(s, bt_task(s, t, &o, count++ > 0));
	}
	free(o.args);
	return NULL;
}

const struct kdx_command kdx_cmd_bt = {
	.name = "bt",
	.usage = "bt [-a|-c CPU[,CPU]|-p|-g|-v] [-S SP [-I IP]] [-f|-F|-FF] [-l] [-s] [-x] [-t|-T] [-r|-e] [-R SYMBOL] [PID | TASK]...",
	.summary = "backtrace of a task (ORC unwinder)",
	.help =
	"Show the kernel stack backtrace of tasks, unwound with the kernel's ORC\n"
	"tables (vmlinux and modules). Default: the current context task (`set`).\n"
	"\n"
	"  PID | TASK   tasks to show (several allowed)\n"
	"  -a           the active task of every online CPU\n"
	"  -c CPU[,CPU] the active tasks of those CPUs (ranges: 0-3)\n"
	"  -p           the panic task\n"
	"  -g           every thread of the task's thread group\n"
	"  -v           check every task's stack for an overflow (STACK_END_MAGIC)\n"
	"  -f           also show the stack words of each frame\n"
	"  -F           like -f, but symbolic: text addresses as symbol+offset,\n"
	"               slab objects as [cache]\n"
	"  -FF          like -F, slab objects as [address:cache]\n"
	"  -l           source file and line of each frame\n"
	"  -s           symbol+offset of each frame (decimal); -x: hexadecimal\n"
	"  -t           every text address on the stack, from the stack pointer up\n"
	"  -T           the same, from the bottom of the stack\n"
	"  -r           raw dump of the whole task stack\n"
	"  -e           search the whole task stack for saved registers (pt_regs of\n"
	"               interrupts, exceptions, system calls), even off the unwind\n"
	"  -R SYMBOL    only if a frame is in SYMBOL (for `foreach bt -R SYMBOL`)\n"
	"  -S SP        start at stack address SP (it holds a return address), for\n"
	"               stacks whose beginning is corrupted; -I IP: start at text\n"
	"               address IP with stack pointer SP\n"
	"\n"
	"Output as crash's:\n"
	"  PID: 266      TASK: ffff8e9dc31a20c0  CPU: 1    COMMAND: \"sh\"\n"
	"   #0 [ffffd074c05a3a90] panic at ffffffff91bcd21a\n"
	"   ...\n"
	"The address in brackets is the stack slot the frame's address was read\n"
	"from. An interrupt or exception shows as `[exception RIP: func+off]` and\n"
	"the saved registers; a system call ends with the user-mode registers.\n"
	"Frames on IRQ/exception stacks are followed by `--- <IRQ stack> ---`.\n"
	"Unlike crash, the unwind never guesses: where ORC has no entry the next\n"
	"frame is found by scanning and marked `(found by stack scan: no ORC data)`,\n"
	"and a stack that cannot be read ends with one error line naming the\n"
	"address.\n",
	.run = cmd_bt,
	.run_task = bt_run_task,
};
