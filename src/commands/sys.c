#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "kernel/kread.h"
#include "kernel/printk.h"
#include "kernel/sysinfo.h"
#include "kernel/tasks.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "targets/target.h"

/* Print one "  LABEL: value" line; labels right-aligned to 12 like crash. */
static void line(struct kdx_session *s, const char *label, const char *value)
{
	fprintf(s->out, "%12s: %s\n", label, value);
}

static void size_text(uint64_t bytes, char *buf, size_t len)
{
	const uint64_t kb = 1024, mb = kb * 1024, gb = mb * 1024;

	if (bytes >= gb)
		bytes % gb ? snprintf(buf, len, "%.1f GB", (double)bytes / gb)
			   : snprintf(buf, len, "%llu GB", (unsigned long long)(bytes / gb));
	else if (bytes >= mb)
		bytes % mb ? snprintf(buf, len, "%.1f MB", (double)bytes / mb)
			   : snprintf(buf, len, "%llu MB", (unsigned long long)(bytes / mb));
	else
		snprintf(buf, len, "%llu KB", (unsigned long long)(bytes / kb));
}

/* avenrun[] is fixed point with FSHIFT 11 bits (include/linux/sched/loadavg.h). */
static void load_average(struct kdx_session *s, char *buf, size_t len)
{
	uint64_t addr, v[3];
	struct kdx_error *err = kdx_kvar(s, "avenrun", &addr);

	if (!err)
		err = kdx_read(s, addr, v, sizeof(v));
	if (err) {
		snprintf(buf, len, "(unknown: %s)", err->message);
		kdx_error_destroy(err);
		return;
	}
	int n = 0;
	for (int i = 0; i < 3; i++) {
		uint64_t ip = v[i] >> 11, fp = ((v[i] & ((1u << 11) - 1)) * 100) >> 11;
		n += snprintf(buf + n, len - n, "%s%llu.%02llu", i ? ", " : "",
			      (unsigned long long)ip, (unsigned long long)fp);
	}
}

static void uts(struct kdx_session *s, const char *label, const char *field)
{
	char buf[128];
	struct kdx_error *err = kdx_utsname(s, field, buf, sizeof(buf));

	if (err) {
		snprintf(buf, sizeof(buf), "(unknown: %s)", err->message);
		kdx_error_destroy(err);
	}
	line(s, label, buf);
}

/* sys -c [name|number ...]: the system call table with source lines. */
static struct kdx_error *syscall_table(struct kdx_session *s, int argc, char **argv)
{
	struct kdx_type *t;
	uint64_t dw, addr, n;
	struct kdx_error *err;

	if ((err = kdx_variable_find(s->types, "sys_call_table", &t, &dw)) ||
	    (err = kdx_kvar(s, "sys_call_table", &addr)))
		return kdx_error_prefix(err, "sys -c");
	t = kdx_type_unqualified(t);
	n = t->kind == KDX_TYPE_ARRAY && t->nelem_known ? t->nelem : 0;
	if (!n || n > 4096)
		return kdx_error_create(KDX_ERR_FORMAT, "sys -c: sys_call_table has no usable size in DWARF");
	uint64_t *tab = calloc(n, 8);
	if (!tab)
		return kdx_error_nomem();
	if ((err = kdx_read(s, addr, tab, n * 8))) {
		free(tab);
		return kdx_error_prefix(err, "sys -c: sys_call_table");
	}
	fprintf(s->out, "NUM  SYSTEM CALL                FILE AND LINE NUMBER\n");
	for (uint64_t i = 0; i < n && !kdx_interrupted(s); i++) {
		char name[256];
		const struct kdx_symbol *sym;
		uint64_t off = 0;
		const char *file;
		int line;

		sym = kdx_symbol_by_addr(s->symtab, tab[i], &off);
		if (sym && !off)
			snprintf(name, sizeof(name), "%s", sym->name);
		else
			kdx_symbol_format(s, tab[i], name, sizeof(name));
		if (!name[0])
			snprintf(name, sizeof(name), "%llx", (unsigned long long)tab[i]);
		int want = argc == 0;
		for (int k = 0; k < argc && !want; k++) {
			char num[24];
			snprintf(num, sizeof(num), "%llu", (unsigned long long)i);
			want = !strcmp(argv[k], num) || strstr(name, argv[k]) != NULL;
		}
		if (!want)
			continue;
		fprintf(s->out, "%3llu  %-26s", (unsigned long long)i, name);
		if (kdx_ok(kdx_addr_to_line(s, tab[i], &file, &line)) && file)
			fprintf(s->out, " %s: %d", file, line);
		fputc('\n', s->out);
	}
	free(tab);
	return NULL;
}

static struct kdx_error *cmd_sys(struct kdx_session *s, int argc, char **argv)
{
	char buf[640], tmp[128];
	struct kdx_error *err;
	int64_t t;
	uint64_t up, v, addr;
	struct kdx_task *tasks;
	size_t ntasks;

	if (argc > 1 && !strcmp(argv[1], "-c"))
		return syscall_table(s, argc - 2, argv + 2);
	if (argc > 1)
		return kdx_error_create(KDX_ERR_SYNTAX, "sys: unknown option %s; usage: sys [-c [name|number ...]]", argv[1]);
	/* crash marks a tainted kernel (tainted_mask != 0) after its name */
	err = kdx_kvar(s, "tainted_mask", &addr);
	if (!err)
		err = kdx_read_u64(s, addr, &v);
	snprintf(buf, sizeof(buf), "%s%s", s->opts.vmlinux ? s->opts.vmlinux : "(none)",
		 !err && v ? "  [TAINTED]" : "");
	kdx_error_destroy(err);
	line(s, "KERNEL", buf);
	/* makedumpfile -d N left out page kinds beyond zero pages (QEMU's
	 * kdump-compressed files say 1 and have every page) */
	snprintf(buf, sizeof(buf), "%s%s",
		 s->target && s->target->live ? "/proc/kcore  [LIVE]"
		 : s->target && s->target->path ? s->target->path : "(none)",
		 s->target && s->target->dump_level > 1 ? "  [PARTIAL DUMP]" : "");
	line(s, "DUMPFILE", buf);
	snprintf(buf, sizeof(buf), "%d", kdx_cpu_present_count(s));
	line(s, "CPUS", buf);
	if ((err = kdx_crash_time(s, &t))) {
		snprintf(buf, sizeof(buf), "(unknown: %s)", err->message);
		kdx_error_destroy(err);
	} else {
		kdx_format_date(t, buf, sizeof(buf));
	}
	line(s, "DATE", buf);
	if ((err = kdx_uptime_ns(s, &up))) {
		snprintf(buf, sizeof(buf), "(unknown: %s)", err->message);
		kdx_error_destroy(err);
	} else {
		uint64_t sec = up / 1000000000ull, days = sec / 86400;
		sec %= 86400;
		int n = days ? snprintf(buf, sizeof(buf), "%llu days, ", (unsigned long long)days) : 0;
		snprintf(buf + n, sizeof(buf) - n, "%02llu:%02llu:%02llu", (unsigned long long)(sec / 3600),
			 (unsigned long long)(sec / 60 % 60), (unsigned long long)(sec % 60));
	}
	line(s, "UPTIME", buf);
	load_average(s, buf, sizeof(buf));
	line(s, "LOAD AVERAGE", buf);
	if ((err = kdx_tasks(s, &tasks, &ntasks))) {
		snprintf(buf, sizeof(buf), "(unknown: %s)", err->message);
		kdx_error_destroy(err);
	} else {
		snprintf(buf, sizeof(buf), "%zu", ntasks);
	}
	line(s, "TASKS", buf);
	uts(s, "NODENAME", "nodename");
	uts(s, "RELEASE", "release");
	uts(s, "VERSION", "version");
	if ((err = kdx_utsname(s, "machine", tmp, sizeof(tmp)))) {
		snprintf(tmp, sizeof(tmp), "(unknown: %s)", err->message);
		kdx_error_destroy(err);
	}
	err = kdx_kvar(s, "cpu_khz", &addr);
	if (!err)
		err = kdx_read_uint(s, addr, 4, &v);
	if (!err && v)
		snprintf(buf, sizeof(buf), "%s  (%llu Mhz)", tmp, (unsigned long long)(v / 1000));
	else
		snprintf(buf, sizeof(buf), "%s", tmp);
	kdx_error_destroy(err);
	line(s, "MACHINE", buf);
	size_text(kdx_memory_size(s), buf, sizeof(buf));
	line(s, "MEMORY", buf);
	if (!s->target || !s->target->live) {
		char msg[512];
		if ((err = kdx_printk_panic_message(s, msg, sizeof(msg)))) {
			snprintf(buf, sizeof(buf), "(unknown: %s)", err->message);
			kdx_error_destroy(err);
		} else {
			snprintf(buf, sizeof(buf), "\"%s\"", msg);
		}
		line(s, "PANIC", buf);
	}
	return NULL;
}

const struct kdx_command kdx_cmd_sys = {
	.name = "sys",
	.usage = "sys [-c [name|number ...]]",
	.summary = "system information: kernel, dump, CPUs, uptime, tasks, panic message",
	.help = "  Prints crash's system summary: KERNEL, DUMPFILE, CPUS (online), DATE (of\n"
		"  the crash), UPTIME, LOAD AVERAGE, TASKS (every thread and the per-CPU idle\n"
		"  tasks), NODENAME, RELEASE, VERSION, MACHINE, MEMORY and PANIC (the panic\n"
		"  message found in the kernel log: the SysRq crash line, the first BUG/Oops\n"
		"  line, else the last \"Kernel panic - not syncing\" line).\n"
		"    -c [name|number ...]  the system call table (sys_call_table) with each\n"
		"                          handler's source file and line; arguments select\n"
		"                          entries by number or by part of the name\n",
	.run = cmd_sys,
};
