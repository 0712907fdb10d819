#include <ctype.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/cpuspec.h"
#include "kernel/kread.h"
#include "kernel/sysinfo.h"
#include "kernel/tasks.h"
#include "targets/mem.h"
#include "targets/target.h"
#include "util.h"

enum {
	PS_KERNEL = 1 << 0,    /* -k */
	PS_USER = 1 << 1,      /* -u */
	PS_LEADERS = 1 << 2,   /* -G */
	PS_KSTACK = 1 << 3,    /* -s */
	PS_PARENTS = 1 << 4,   /* -p */
	PS_CHILDREN = 1 << 5,  /* -c */
	PS_TIMES = 1 << 6,     /* -t */
	PS_LAST = 1 << 7,      /* -l */
	PS_SINCE = 1 << 8,     /* -m */
	PS_ARGS = 1 << 9,      /* -a */
	PS_GROUP = 1 << 10,    /* -g */
	PS_SUMMARY = 1 << 11,  /* -S */
	PS_ACTIVE = 1 << 12,   /* -A */
	PS_POLICY = 1 << 13,   /* -y */
	PS_CPU = 1 << 14,      /* -C */
	PS_RLIMIT = 1 << 15,   /* -r */
};

struct ps_ctx {
	unsigned flags;
	unsigned policy;
	char *cpus;            /* -C: per CPU flag (kdx_cpu_count entries) */
	int ncpus;
	struct kdx_task *tasks;
	size_t n;
	unsigned char *sel;    /* per task: selected */
};

static const char *const policy_names[] = {
	"NORMAL", "FIFO", "RR", "BATCH", "ISO", "IDLE", "DEADLINE",
};

static struct kdx_error *parse_policy(const char *arg, unsigned *ret)
{
	if (kdx_is_number(arg)) {
		*ret = (unsigned)strtoul(arg, NULL, 0);
		return NULL;
	}
	for (unsigned i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
		if (!strcasecmp(arg, policy_names[i])) {
			*ret = i;
			return NULL;
		}
	return kdx_error_create(KDX_ERR_SYNTAX,
		"ps -y: unknown policy %s (NORMAL, FIFO, RR, BATCH, IDLE, DEADLINE or a number)", arg);
}

static int has_regex_chars(const char *s)
{
	return strpbrk(s, ".*[]^$+?|\\()") != NULL;
}

/* Select the tasks named by ARG (pid, task address, command or regex).
 * Returns the number selected, or an error naming ARG. */
static struct kdx_error *select_arg(struct kdx_session *s, struct ps_ctx *pc, const char *arg)
{
	size_t hits = 0;
	int digits = 1;

	for (const char *p = arg; *p; p++)
		if (!isdigit((unsigned char)*p))
			digits = 0;
	if (digits && *arg) {
		long pid = strtol(arg, NULL, 10);
		for (size_t i = 0; i < pc->n; i++)
			if (pc->tasks[i].pid == pid) {
				pc->sel[i] = 1;
				hits++;
			}
		if (hits)
			return NULL;
	}
	uint64_t v;
	struct kdx_error *err = kdx_parse_u64(arg, 1, &v);
	if (!err) {
		for (size_t i = 0; i < pc->n; i++)
			if (pc->tasks[i].addr == v) {
				pc->sel[i] = 1;
				return NULL;
			}
	}
	kdx_error_destroy(err);
	for (size_t i = 0; i < pc->n; i++)
		if (!strcmp(pc->tasks[i].comm, arg)) {
			pc->sel[i] = 1;
			hits++;
		}
	if (!hits && has_regex_chars(arg)) {
		regex_t re;
		if (regcomp(&re, arg, REG_EXTENDED | REG_NOSUB))
			return kdx_error_create(KDX_ERR_SYNTAX, "ps: invalid regular expression: %s", arg);
		for (size_t i = 0; i < pc->n; i++)
			if (!regexec(&re, pc->tasks[i].comm, 0, NULL, 0)) {
				pc->sel[i] = 1;
				hits++;
			}
		regfree(&re);
		if (hits)
			return NULL;
		return kdx_error_create(KDX_ERR_NOT_FOUND, "ps: no task's command matches %s", arg);
	}
	if (!hits)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "ps: invalid task or pid value: %s", arg);
	return NULL;
}

static int passes_filters(const struct ps_ctx *pc, const struct kdx_task *t)
{
	if ((pc->flags & PS_KERNEL) && !t->is_kthread)
		return 0;
	if ((pc->flags & PS_USER) && t->is_kthread)
		return 0;
	if ((pc->flags & PS_LEADERS) && !t->is_group_leader)
		return 0;
	if ((pc->flags & PS_ACTIVE) && !t->active)
		return 0;
	if ((pc->flags & PS_POLICY) && t->policy != pc->policy)
		return 0;
	if ((pc->flags & PS_CPU) && (t->cpu < 0 || t->cpu >= pc->ncpus || !pc->cpus[t->cpu]))
		return 0;
	return 1;
}

static void print_header_line(struct kdx_session *s, const struct kdx_task *t, int indent)
{
	char buf[160];

	fprintf(s->out, "%*s%s\n", indent, "", kdx_task_header(t, buf, sizeof(buf)));
}

static void print_row(struct kdx_session *s, struct ps_ctx *pc, const struct kdx_task *t,
		      uint64_t totalram_kb)
{
	uint64_t vsz = 0, rss = 0;
	struct kdx_error *err = kdx_task_mm_stats(s, t, &vsz, &rss);
	char comm[24], task[24];

	if (err) {
		/* The row still shows; the unreadable mm is reported once. */
		kdx_session_report(s, err);
	}
	double pmem = totalram_kb ? 100.0 * (double)rss / (double)totalram_kb : 0.0;
	if (t->is_kthread)
		snprintf(comm, sizeof(comm), "[%s]", t->comm);
	else
		snprintf(comm, sizeof(comm), "%s", t->comm);
	if (pc->flags & PS_KSTACK) {
		/* crash's KSTACKP: the saved stack pointer (thread.sp) of tasks
		 * not running; "--" for active ones. */
		uint64_t sp = 0;
		struct kdx_kfield f;
		if (!t->active && kdx_ok(kdx_kmember(s, "task_struct", "thread.sp", &f)))
			kdx_ok(kdx_read_u64(s, t->addr + f.off, &sp));
		if (t->active || !sp)
			snprintf(task, sizeof(task), "       --       ");
		else
			snprintf(task, sizeof(task), "%16llx", (unsigned long long)sp);
	} else {
		snprintf(task, sizeof(task), "%16llx", (unsigned long long)t->addr);
	}
	fprintf(s->out, "%c%8d %7d %3d  %s  %s  %4.1f %8llu %8llu  %s\n",
		t->active ? '>' : ' ', t->pid, t->ppid, t->cpu, task,
		kdx_task_state_name(s, t), pmem, (unsigned long long)vsz,
		(unsigned long long)rss, comm);
}

static int cmp_last_arrival(const void *a, const void *b)
{
	const struct kdx_task *x = *(const struct kdx_task *const *)a;
	const struct kdx_task *y = *(const struct kdx_task *const *)b;

	if (x->last_arrival != y->last_arrival)
		return x->last_arrival > y->last_arrival ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* rq->clock of CPU (ns), for ps -m. */
static uint64_t rq_clock(struct kdx_session *s, int cpu)
{
	struct kdx_kfield f;
	uint64_t rq, v = 0;

	if (!kdx_ok(kdx_kmember(s, "rq", "clock", &f)) ||
	    !kdx_ok(kdx_percpu_addr(s, "runqueues", cpu, &rq)) ||
	    !kdx_ok(kdx_read_u64(s, rq + f.off, &v)))
		return 0;
	return v;
}

static void print_last(struct kdx_session *s, struct ps_ctx *pc, const struct kdx_task **list,
		       size_t n)
{
	char buf[160];
	int width = 1;
	uint64_t *clock = NULL;
	int ncpu = kdx_cpu_count(s);

	qsort(list, n, sizeof(*list), cmp_last_arrival);
	if (pc->flags & PS_SINCE) {
		clock = calloc((size_t)ncpu, sizeof(*clock));
		for (int c = 0; clock && c < ncpu; c++)
			clock[c] = kdx_cpu_present(s, c) ? rq_clock(s, c) : 0;
	}
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)list[i]->last_arrival);
		if (w > width)
			width = w;
	}
	for (size_t i = 0; i < n; i++) {
		const struct kdx_task *t = list[i];
		if (pc->flags & PS_SINCE) {
			uint64_t now = clock && t->cpu >= 0 && t->cpu < ncpu ? clock[t->cpu] : 0;
			uint64_t d = now > t->last_arrival ? now - t->last_arrival : 0;
			uint64_t ms = d / 1000000, sec = ms / 1000;
			fprintf(s->out, "[%llu %02llu:%02llu:%02llu.%03llu] ",
				(unsigned long long)(sec / 86400), (unsigned long long)(sec / 3600 % 24),
				(unsigned long long)(sec / 60 % 60), (unsigned long long)(sec % 60),
				(unsigned long long)(ms % 1000));
		} else {
			fprintf(s->out, "[%*llu] ", width, (unsigned long long)t->last_arrival);
		}
		fprintf(s->out, "[%s]  %s\n", kdx_task_state_name(s, t),
			kdx_task_header(t, buf, sizeof(buf)));
	}
	free(clock);
}

static void print_times(struct kdx_session *s, const struct kdx_task *t, uint64_t uptime)
{
	uint64_t run = uptime > t->start_time ? (uptime - t->start_time) / 1000000000ull : 0;
	uint64_t days = run / 86400;

	print_header_line(s, t, 0);
	fprintf(s->out, "    RUN TIME: ");
	if (days)
		fprintf(s->out, "%llu days, ", (unsigned long long)days);
	fprintf(s->out, "%02llu:%02llu:%02llu\n", (unsigned long long)(run / 3600 % 24),
		(unsigned long long)(run / 60 % 60), (unsigned long long)(run % 60));
	fprintf(s->out, "  START TIME: %llu\n", (unsigned long long)t->start_time);
	fprintf(s->out, "       UTIME: %llu\n", (unsigned long long)t->utime);
	fprintf(s->out, "       STIME: %llu\n", (unsigned long long)t->stime);
}

static void print_parents(struct kdx_session *s, const struct kdx_task *t)
{
	const struct kdx_task *chain[64];
	int n = 0;

	for (const struct kdx_task *p = t; p && n < 64; ) {
		chain[n++] = p;
		if (p->pid == 0 || p->parent == p->addr)
			break;
		p = kdx_task_by_addr(s, p->parent);
	}
	for (int i = n - 1, depth = 0; i >= 0; i--, depth++)
		print_header_line(s, chain[i], depth ? 1 + 2 * depth : 0);
}

static void print_children(struct kdx_session *s, struct ps_ctx *pc, const struct kdx_task *t)
{
	int any = 0;

	print_header_line(s, t, 0);
	for (size_t i = 0; i < pc->n; i++) {
		const struct kdx_task *c = &pc->tasks[i];
		if (c->parent == t->addr && c->addr != t->addr && c->is_group_leader && !c->is_idle) {
			print_header_line(s, c, 2);
			any = 1;
		}
	}
	if (!any)
		fprintf(s->out, "  (no children)\n");
}

static void print_group(struct kdx_session *s, struct ps_ctx *pc, const struct kdx_task *t)
{
	int any = 0;
	uint64_t leader = t->group_leader ? t->group_leader : t->addr;
	const struct kdx_task *l = kdx_task_by_addr(s, leader);

	print_header_line(s, l ? l : t, 0);
	for (size_t i = 0; i < pc->n; i++) {
		const struct kdx_task *c = &pc->tasks[i];
		if (c->group_leader == leader && c->addr != leader && !c->is_idle) {
			print_header_line(s, c, 2);
			any = 1;
		}
	}
	if (!any)
		fprintf(s->out, "  (no threads)\n");
}

/* ps -a: argv and environment from the task's user memory, through its own
 * page tables (mm->pgd is a direct-map pointer). */
static void print_args(struct kdx_session *s, const struct kdx_task *t)
{
	static const char *const names[] = { "arg_start", "arg_end", "env_start", "env_end", "pgd" };
	struct kdx_kfield f[5];
	uint64_t v[5], pgd_pa;
	struct kdx_error *err = NULL;

	print_header_line(s, t, 0);
	if (!t->mm) {
		fprintf(s->out, "ps: no user stack\n\n");
		return;
	}
	for (int i = 0; i < 5 && !err; i++) {
		err = kdx_kmember(s, "mm_struct", names[i], &f[i]);
		if (!err)
			err = kdx_read_u64(s, t->mm + f[i].off, &v[i]);
	}
	if (!err)
		err = kdx_mem_kvtop(s->mem, v[4], &pgd_pa);
	if (err) {
		kdx_session_report(s, kdx_error_prefix(err, "ps -a: mm of pid %d", t->pid));
		return;
	}
	for (int k = 0; k < 2; k++) {
		uint64_t lo = v[2 * k], hi = v[2 * k + 1];
		const char *label = k ? "ENV: " : "ARG: ";
		if (hi <= lo) {
			fprintf(s->out, "%s\n", label);
			continue;
		}
		size_t len = hi - lo > 65536 ? 65536 : (size_t)(hi - lo);
		char *buf = malloc(len + 1);
		if (!buf)
			return;
		err = kdx_mem_read_pgd(s->mem, pgd_pa, lo, buf, len);
		if (err) {
			fprintf(s->out, "%s(not in the dump: user memory at %llx of pid %d)\n", label,
				(unsigned long long)lo, t->pid);
			kdx_error_destroy(err);
			free(buf);
			continue;
		}
		buf[len] = 0;
		fputs(label, s->out);
		for (size_t i = 0; i < len; ) {
			size_t l = strnlen(buf + i, len - i);
			if (i)
				fputs(k ? "\n     " : " ", s->out);
			fwrite(buf + i, 1, l, s->out);
			i += l + 1;
			while (i < len && !buf[i])
				i++;
		}
		fputc('\n', s->out);
		free(buf);
	}
	fputc('\n', s->out);
}

/* ps -r: the resource limits of the task's signal_struct. The RLIMIT_*
 * numbers are user-space ABI (asm-generic/resource.h). */
static void print_rlimits(struct kdx_session *s, const struct kdx_task *t)
{
	static const char *const names[] = {
		"CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
		"MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME",
	};
	struct kdx_kfield f;
	uint64_t lim[32];
	struct kdx_error *err;

	print_header_line(s, t, 0);
	err = kdx_kmember(s, "signal_struct", "rlim", &f);
	if (!err && !t->signal)
		err = kdx_error_create(KDX_ERR_NOT_FOUND, "pid %d has no signal_struct (exiting)", t->pid);
	if (!err && (f.size > sizeof(lim) || f.size < 16))
		err = kdx_error_create(KDX_ERR_FORMAT, "unexpected signal_struct.rlim size %llu",
				       (unsigned long long)f.size);
	if (!err)
		err = kdx_read(s, t->signal + f.off, lim, f.size);
	if (err) {
		kdx_session_report(s, kdx_error_prefix(err, "ps -r"));
		return;
	}
	fprintf(s->out, "      RLIMIT     CURRENT       MAXIMUM  \n");
	for (size_t i = 0; i < f.size / 16 && i < sizeof(names) / sizeof(names[0]); i++) {
		char v[2][24], c[2][24];
		for (int k = 0; k < 2; k++) {
			uint64_t x = lim[2 * i + k];
			if (x == ~0ull)
				snprintf(v[k], sizeof(v[k]), "(unlimited)");
			else
				snprintf(v[k], sizeof(v[k]), "%llu", (unsigned long long)x);
			int l = (int)strlen(v[k]), left = l < 11 ? (11 - l) / 2 : 0;
			snprintf(c[k], sizeof(c[k]), "%*s%s%*s", left, "", v[k],
				 l < 11 ? 11 - l - left : 0, "");
		}
		fprintf(s->out, "%12s   %s   %s\n", names[i], c[0], c[1]);
	}
}

static void print_summary(struct kdx_session *s, const struct kdx_task **list, size_t n)
{
	static const char *const order[] = { "RU", "IN", "UN", "ID", "ST", "TR", "ZO", "DE", "WA", "PA", "NE", "??" };

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		size_t count = 0;
		for (size_t i = 0; i < n; i++)
			count += !strcmp(kdx_task_state_name(s, list[i]), order[k]);
		if (count)
			fprintf(s->out, "  %s: %zu\n", order[k], count);
	}
}

static struct kdx_error *parse_opts(struct kdx_session *s, struct ps_ctx *pc, int argc, char **argv);

/* foreach ... ps [-options]: one task (the column header once). */
static struct kdx_error *ps_task_main(struct kdx_session *s, struct ps_ctx *pcp,
				      const struct kdx_task *t, int argc, char **argv, unsigned flags)
{
#define pc (*pcp)
	struct kdx_error *err = parse_opts(s, &pc, argc, argv);
	uint64_t psz = s->target && s->target->page_size ? s->target->page_size : 4096;

	if (err)
		return err;
	if ((err = kdx_tasks(s, &pc.tasks, &pc.n)))
		return err;
	if (pc.flags & PS_SUMMARY)
		return kdx_error_create(KDX_ERR_SYNTAX, "foreach ... ps -S: a summary is not per task (use ps -S)");
	int table = !(pc.flags & (PS_LAST | PS_TIMES | PS_PARENTS | PS_CHILDREN | PS_GROUP |
				  PS_ARGS | PS_RLIMIT | PS_SUMMARY));
	if (table && (flags & KDX_PERTASK_FIRST))
		fprintf(s->out, "%s", pc.flags & PS_KSTACK
			? "      PID    PPID  CPU      KSTACKP      ST  %MEM      VSZ      RSS  COMM\n"
			: "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM\n");
	if (!passes_filters(&pc, t))
		return NULL;
	if (pc.flags & PS_LAST) {
		const struct kdx_task *one = t;
		print_last(s, &pc, &one, 1);
	} else if (pc.flags & PS_TIMES) {
		uint64_t uptime = 0;
		kdx_ok(kdx_uptime_ns(s, &uptime));
		print_times(s, t, uptime);
	} else if (pc.flags & PS_PARENTS) {
		print_parents(s, t);
	} else if (pc.flags & PS_CHILDREN) {
		print_children(s, &pc, t);
	} else if (pc.flags & PS_GROUP) {
		print_group(s, &pc, t);
	} else if (pc.flags & PS_ARGS) {
		print_args(s, t);
	} else if (pc.flags & PS_RLIMIT) {
		print_rlimits(s, t);
	} else {
		print_row(s, &pc, t, kdx_totalram_pages(s) * (psz / 1024));
	}
	return NULL;
#undef pc
}

static struct kdx_error *ps_run_task(struct kdx_session *s, const struct kdx_task *t,
				     int argc, char **argv, unsigned flags)
{
	struct ps_ctx pc = { 0 };
	struct kdx_error *err = ps_task_main(s, &pc, t, argc, argv, flags);

	free(pc.cpus);
	return err;
}

static const char *const ps_usage =
	"ps [-k|-u|-G|-y policy] [-s] [-p|-c|-t|-l|-m|-a|-g|-r|-S|-A] [-C cpus] [pid | task | command | 'regex'] ...";

static struct kdx_error *parse_opts(struct kdx_session *s, struct ps_ctx *pc, int argc, char **argv)
{
	struct kdx_error *err;
	const char *spec = NULL;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "kuGspctlmagrSAy:C:")) != -1) {
		switch (c) {
		case 'k': pc->flags |= PS_KERNEL; break;
		case 'u': pc->flags |= PS_USER; break;
		case 'G': pc->flags |= PS_LEADERS; break;
		case 's': pc->flags |= PS_KSTACK; break;
		case 'p': pc->flags |= PS_PARENTS; break;
		case 'c': pc->flags |= PS_CHILDREN; break;
		case 't': pc->flags |= PS_TIMES; break;
		case 'l': pc->flags |= PS_LAST; break;
		case 'm': pc->flags |= PS_LAST | PS_SINCE; break;
		case 'a': pc->flags |= PS_ARGS; break;
		case 'g': pc->flags |= PS_GROUP; break;
		case 'r': pc->flags |= PS_RLIMIT; break;
		case 'S': pc->flags |= PS_SUMMARY; break;
		case 'A': pc->flags |= PS_ACTIVE; break;
		case 'y':
			pc->flags |= PS_POLICY;
			if ((err = parse_policy(optarg, &pc->policy)))
				return err;
			break;
		case 'C':
			pc->flags |= PS_CPU;
			spec = optarg;
			break;
		default:
			return kdx_error_create(KDX_ERR_SYNTAX, "ps: invalid option -%c; usage: %s",
						optopt, ps_usage);
		}
	}
	if ((pc->flags & PS_KERNEL) && (pc->flags & PS_USER))
		return kdx_error_create(KDX_ERR_SYNTAX, "ps: -k and -u exclude each other");
	if (spec) {
		int opt = optind;   /* kdx_cpuspec_parse may not touch getopt, but be safe */
		pc->ncpus = kdx_cpu_count(s);
		pc->cpus = calloc((size_t)pc->ncpus, 1);
		if (!pc->cpus)
			return kdx_error_nomem();
		err = kdx_cpuspec_parse(s, spec, pc->cpus, pc->ncpus);
		optind = opt;
		if (err)
			return kdx_error_prefix(err, "ps -C");
	}
	return NULL;
}

static struct kdx_error *ps_main(struct kdx_session *s, struct ps_ctx *pcp, int argc, char **argv)
{
#define pc (*pcp)
	struct kdx_error *err;
	int any_arg = 0;

	if ((err = parse_opts(s, &pc, argc, argv)))
		return err;
	if ((err = kdx_tasks(s, &pc.tasks, &pc.n)))
		return err;
	pc.sel = calloc(pc.n ? pc.n : 1, 1);
	if (!pc.sel)
		return kdx_error_nomem();
	int bad = 0;
	for (int i = optind; i < argc; i++) {
		any_arg = 1;
		if ((err = select_arg(s, &pc, argv[i]))) {
			if (argc - optind == 1) {
				free(pc.sel);
				return err;
			}
			kdx_session_report(s, err);
			bad++;
		}
	}
	if (any_arg && bad == argc - optind) {
		free(pc.sel);
		return NULL;
	}
	const struct kdx_task **list = malloc((pc.n ? pc.n : 1) * sizeof(*list));
	size_t n = 0;
	if (!list) {
		free(pc.sel);
		return kdx_error_nomem();
	}
	for (size_t i = 0; i < pc.n; i++)
		if ((!any_arg || pc.sel[i]) && passes_filters(&pc, &pc.tasks[i]))
			list[n++] = &pc.tasks[i];

	if (pc.flags & PS_SUMMARY) {
		print_summary(s, list, n);
	} else if (pc.flags & PS_LAST) {
		print_last(s, &pc, list, n);
	} else if (pc.flags & (PS_TIMES | PS_PARENTS | PS_CHILDREN | PS_ARGS | PS_GROUP | PS_RLIMIT)) {
		uint64_t uptime = 0;
		if (pc.flags & PS_TIMES)
			kdx_ok(kdx_uptime_ns(s, &uptime));
		for (size_t i = 0; i < n && !kdx_interrupted(s); i++) {
			if (pc.flags & PS_TIMES)
				print_times(s, list[i], uptime);
			else if (pc.flags & PS_PARENTS)
				print_parents(s, list[i]);
			else if (pc.flags & PS_CHILDREN)
				print_children(s, &pc, list[i]);
			else if (pc.flags & PS_GROUP)
				print_group(s, &pc, list[i]);
			else if (pc.flags & PS_RLIMIT)
				print_rlimits(s, list[i]);
			else
				print_args(s, list[i]);
			if (i + 1 < n && !(pc.flags & PS_ARGS))
				fputc('\n', s->out);
		}
	} else {
		uint64_t psz = s->target && s->target->page_size ? s->target->page_size : 4096;
		uint64_t total_kb = kdx_totalram_pages(s) * (psz / 1024);
		fprintf(s->out, "%s", pc.flags & PS_KSTACK
			? "      PID    PPID  CPU      KSTACKP      ST  %MEM      VSZ      RSS  COMM\n"
			: "      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM\n");
		for (size_t i = 0; i < n && !kdx_interrupted(s); i++)
			print_row(s, &pc, list[i], total_kb);
	}
	free(list);
	free(pc.sel);
	if (kdx_interrupted(s))
		return kdx_error_create(KDX_ERR_INTERRUPTED, "ps: interrupted");
	return NULL;
#undef pc
}

static struct kdx_error *cmd_ps(struct kdx_session *s, int argc, char **argv)
{
	struct ps_ctx pc = { 0 };
	struct kdx_error *err = ps_main(s, &pc, argc, argv);

	free(pc.cpus);
	return err;
}

const struct kdx_command kdx_cmd_ps = {
	.name = "ps",
	.usage = "ps [-k|-u|-G|-y policy] [-s] [-p|-c|-t|-l|-m|-a|-g|-r|-S|-A] [-C cpus] [pid | task | command | 'regex'] ...",
	.summary = "process status: every process and thread",
	.help =
	"  Lists every task (process and thread, and each CPU's idle task) as crash does:\n"
	"      PID    PPID  CPU       TASK        ST  %MEM      VSZ      RSS  COMM\n"
	"  '>' marks the task running on a CPU at the time of the dump; kernel threads'\n"
	"  names are in brackets. ST is the state: RU running, IN interruptible, UN\n"
	"  uninterruptible, ID idle (TASK_IDLE), ZO zombie, ST stopped, TR traced,\n"
	"  DE dead, WA waking, PA parked, NE new. VSZ and RSS are in KB; %MEM is RSS\n"
	"  over total RAM. PPID is the parent's thread group id, as /proc shows it.\n"
	"  Arguments select tasks: a PID, a task_struct address, a command name, or a\n"
	"  regular expression (quoted) matched against the command name.\n"
	"    -k  kernel threads only          -u  user tasks only\n"
	"    -G  thread group leaders only    -A  only tasks active on a CPU\n"
	"    -y policy  only tasks of that scheduling policy (NORMAL FIFO RR BATCH IDLE DEADLINE or a number)\n"
	"    -C cpus    only tasks last on those CPUs (1, 0,2-3, all)\n"
	"    -s  show the saved kernel stack pointer (KSTACKP) instead of TASK\n"
	"    -l  last arrival on a CPU (sched_info.last_arrival, ns), newest first\n"
	"    -m  like -l, as time since then ([days hh:mm:ss.ms]) relative to the CPU's rq clock\n"
	"    -t  run time, start time, user and system time\n"
	"    -p  the parental hierarchy up to the idle task\n"
	"    -c  the children\n"
	"    -g  the threads of the task's thread group\n"
	"    -a  command-line arguments and environment, read from the task's user\n"
	"        memory through its page tables (filtered dumps lack user pages)\n"
	"    -r  resource limits (current and maximum)\n"
	"    -S  number of tasks in each state\n",
	.run = cmd_ps,
	.run_task = ps_run_task,
};
