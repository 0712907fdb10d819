/*
 * The task list: every process (init_task.tasks), every thread of each
 * (signal->thread_head / thread_node, or thread_group on older kernels), the
 * per-CPU idle tasks (runqueues.idle) and the tasks running on each CPU at
 * dump time (runqueues.curr). Loaded once per session, with all offsets
 * fetched from DWARF once.
 */
#include "kernel/tasks.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "util.h"
#include "kernel/kernel.h"
#include "kernel/kread.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "targets/target.h"

/* Sanity cap: PID_MAX_LIMIT is 4M; a walk longer than that is a loop. */
#define MAX_TASKS (4u << 20)

/*
 * Task state bits (include/linux/sched.h). These are not in DWARF (they are
 * #defines); their values have been stable since 4.14, and kdx supports
 * 6.1 and later.
 */
#define TASK_INTERRUPTIBLE   0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_STOPPED_BIT     0x0004
#define TASK_TRACED_BIT      0x0008
#define EXIT_DEAD            0x0010
#define EXIT_ZOMBIE          0x0020
#define TASK_PARKED          0x0040
#define TASK_DEAD            0x0080
#define TASK_WAKEKILL        0x0100
#define TASK_WAKING          0x0200
#define TASK_NOLOAD          0x0400
#define TASK_NEW             0x0800
#define PF_KTHREAD           0x00200000

struct task_offsets {
	uint64_t task_size;     /* bytes of task_struct we read (up to the last field used) */
	struct kdx_kfield tasks, pid, tgid, real_parent, group_leader, comm, state,
		exit_state, flags, mm, stack, last_arrival, cpu, signal, thread_node,
		thread_group, start_time, utime, stime, policy, prio;
	struct kdx_kfield sig_thread_head;
	struct kdx_kfield rq_idle, rq_curr;
	uint64_t init_task, runqueues;
};

struct mm_offsets {
	int loaded;
	struct kdx_kfield total_vm, rss_stat, rss_count, pcp_count, pcp_counters;
	int rss_percpu;             /* 6.2+: struct percpu_counter rss_stat[] */
	struct kdx_kfield task_rss; /* task_struct.rss_stat.count (SPLIT_RSS_COUNTING) */
	uint64_t elem_size;         /* bytes per rss_stat element */
	uint64_t nelem;
	struct mm_delta { uint64_t mm; int64_t pages; } *deltas;  /* per mm: sum of the threads' unsynced RSS, sorted */
	size_t ndeltas;
	uint64_t totalram;
};

struct task_cache {
	struct task_offsets o;
	struct mm_offsets mm;
	struct kdx_task *tasks;
	size_t n, cap;
	struct kdx_task **by_addr;  /* sorted by address */
	int panic_cpu;
	const struct kdx_task *panic;
	const struct kdx_task **active;  /* per CPU, nr_cpu_ids */
	int ncpus;
	/* open-addressed set of task addresses seen while walking */
	uint64_t *seen;
	size_t seen_cap;
	int warned;
};

static void cache_destroy(void *obj)
{
	struct task_cache *c = obj;

	free(c->tasks);
	free(c->by_addr);
	free(c->active);
	free(c->seen);
	free(c->mm.deltas);
	free(c);
}

static struct kdx_error *load_offsets(struct kdx_session *s, struct task_offsets *o)
{
	struct kdx_error *err;
	const char *ts = "task_struct";
	struct kdx_kfield *all[] = {
		&o->tasks, &o->pid, &o->tgid, &o->real_parent, &o->group_leader, &o->comm,
		&o->state, &o->exit_state, &o->flags, &o->mm, &o->stack, &o->last_arrival,
		&o->cpu, &o->signal, &o->thread_node, &o->thread_group, &o->start_time,
		&o->utime, &o->stime, &o->policy, &o->prio,
	};

	/* Required members. */
	if ((err = kdx_kmember(s, ts, "tasks", &o->tasks)) ||
	    (err = kdx_kmember(s, ts, "pid", &o->pid)) ||
	    (err = kdx_kmember(s, ts, "tgid", &o->tgid)) ||
	    (err = kdx_kmember(s, ts, "real_parent", &o->real_parent)) ||
	    (err = kdx_kmember(s, ts, "comm", &o->comm)) ||
	    (err = kdx_kmember(s, ts, "flags", &o->flags)) ||
	    (err = kdx_kmember(s, ts, "mm", &o->mm)))
		return kdx_error_prefix(err, "task_struct layout");
	kdx_kmember_opt(s, ts, "__state", &o->state);
	if (!o->state.ok)
		kdx_kmember_opt(s, ts, "state", &o->state);
	kdx_kmember_opt(s, ts, "exit_state", &o->exit_state);
	kdx_kmember_opt(s, ts, "group_leader", &o->group_leader);
	kdx_kmember_opt(s, ts, "stack", &o->stack);
	kdx_kmember_opt(s, ts, "sched_info.last_arrival", &o->last_arrival);
	kdx_kmember_opt(s, ts, "cpu", &o->cpu);
	if (!o->cpu.ok)
		kdx_kmember_opt(s, ts, "thread_info.cpu", &o->cpu);
	kdx_kmember_opt(s, ts, "signal", &o->signal);
	kdx_kmember_opt(s, ts, "thread_node", &o->thread_node);
	kdx_kmember_opt(s, "signal_struct", "thread_head", &o->sig_thread_head);
	kdx_kmember_opt(s, ts, "thread_group", &o->thread_group);
	kdx_kmember_opt(s, ts, "start_time", &o->start_time);
	kdx_kmember_opt(s, ts, "utime", &o->utime);
	kdx_kmember_opt(s, ts, "stime", &o->stime);
	kdx_kmember_opt(s, ts, "policy", &o->policy);
	kdx_kmember_opt(s, ts, "prio", &o->prio);
	kdx_kmember_opt(s, "rq", "idle", &o->rq_idle);
	kdx_kmember_opt(s, "rq", "curr", &o->rq_curr);

	o->task_size = 0;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i]->ok && all[i]->off + all[i]->size > o->task_size)
			o->task_size = all[i]->off + all[i]->size;
	if ((err = kdx_kvar(s, "init_task", &o->init_task)))
		return err;
	err = kdx_kvar(s, "runqueues", &o->runqueues);
	if (err) {
		kdx_error_destroy(err);
		o->runqueues = 0;
	}
	return NULL;
}

/* Set of addresses: returns 1 if ADDR was already present. */
static int seen_add(struct task_cache *c, uint64_t addr)
{
	if ((c->n + 1) * 2 > c->seen_cap) {
		size_t ncap = c->seen_cap ? c->seen_cap * 2 : 1024;
		uint64_t *ns = calloc(ncap, sizeof(*ns));
		if (!ns)
			return 1;
		for (size_t i = 0; i < c->seen_cap; i++) {
			uint64_t a = c->seen[i];
			if (!a)
				continue;
			size_t h = (a >> 6) * 0x9E3779B97F4A7C15ull % ncap;
			while (ns[h])
				h = (h + 1) % ncap;
			ns[h] = a;
		}
		free(c->seen);
		c->seen = ns;
		c->seen_cap = ncap;
	}
	size_t h = (addr >> 6) * 0x9E3779B97F4A7C15ull % c->seen_cap;
	while (c->seen[h]) {
		if (c->seen[h] == addr)
			return 1;
		h = (h + 1) % c->seen_cap;
	}
	c->seen[h] = addr;
	return 0;
}

static void warn(struct kdx_session *s, struct task_cache *c, struct kdx_error *err)
{
	/* Reported, not fatal: the rest of the list is still useful. Cap the
	 * noise from a badly corrupted list. */
	if (c->warned++ < 20) {
		fprintf(stderr, "kdx: warning: %s\n", err->message);
		fflush(stderr);
	}
	kdx_error_destroy(err);
}

/* Read the task at ADDR and append it (unless already known). Returns the
 * new entry, NULL if known or unreadable (*ERR set for the latter). */
static struct kdx_error *add_task(struct kdx_session *s, struct task_cache *c,
				  uint64_t addr, unsigned char *buf, struct kdx_task **ret)
{
	const struct task_offsets *o = &c->o;
	struct kdx_task *t;
	struct kdx_error *err;

	*ret = NULL;
	if (addr == 0)
		return NULL;
	if (seen_add(c, addr))
		return NULL;
	err = kdx_read(s, addr, buf, o->task_size);
	if (err)
		return kdx_error_prefix(err, "task_struct at %llx", (unsigned long long)addr);
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 256;
		struct kdx_task *nt = realloc(c->tasks, ncap * sizeof(*nt));
		if (!nt)
			return kdx_error_nomem();
		c->tasks = nt;
		c->cap = ncap;
	}
	t = &c->tasks[c->n++];
	memset(t, 0, sizeof(*t));
	t->addr = addr;
	t->pid = (int)kdx_kfield_i(buf, &o->pid);
	t->tgid = (int)kdx_kfield_i(buf, &o->tgid);
	t->parent = kdx_kfield_u(buf, &o->real_parent);
	t->cpu = o->cpu.ok ? (int)kdx_kfield_u(buf, &o->cpu) : 0;
	size_t clen = o->comm.size < sizeof(t->comm) ? o->comm.size : sizeof(t->comm);
	memcpy(t->comm, buf + o->comm.off, clen);
	t->comm[sizeof(t->comm) - 1] = 0;
	for (size_t i = 0; t->comm[i]; i++)
		if (!isprint((unsigned char)t->comm[i]))
			t->comm[i] = '?';
	t->state = kdx_kfield_u(buf, &o->state);
	t->exit_state = kdx_kfield_u(buf, &o->exit_state);
	t->flags = (unsigned)kdx_kfield_u(buf, &o->flags);
	t->mm = kdx_kfield_u(buf, &o->mm);
	t->stack = kdx_kfield_u(buf, &o->stack);
	t->last_arrival = kdx_kfield_u(buf, &o->last_arrival);
	t->is_kthread = (t->flags & PF_KTHREAD) != 0;
	t->signal = kdx_kfield_u(buf, &o->signal);
	t->group_leader = o->group_leader.ok ? kdx_kfield_u(buf, &o->group_leader) : addr;
	t->is_group_leader = t->group_leader == addr || t->pid == t->tgid;
	t->start_time = kdx_kfield_u(buf, &o->start_time);
	t->utime = kdx_kfield_u(buf, &o->utime);
	t->stime = kdx_kfield_u(buf, &o->stime);
	t->policy = (unsigned)kdx_kfield_u(buf, &o->policy);
	t->prio = (int)kdx_kfield_i(buf, &o->prio);
	t->ppid = -1;
	*ret = t;
	return NULL;
}

/* Walk a circular list_head starting at HEAD (an address), calling ADD for
 * each entry = node - LINK_OFF. */
static struct kdx_error *walk_list(struct kdx_session *s, struct task_cache *c, uint64_t head,
				   uint64_t link_off, unsigned char *buf, const char *what,
				   int allow_known)
{
	uint64_t node, count = 0;
	struct kdx_error *err = kdx_read_u64(s, head, &node);

	if (err)
		return kdx_error_prefix(err, "%s list head at %llx", what, (unsigned long long)head);
	int known = 0;
	while (node != head) {
		struct kdx_task *t;

		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
		if (++count > MAX_TASKS)
			return kdx_error_create(KDX_ERR_FORMAT, "%s list at %llx does not end (loop?)",
						what, (unsigned long long)head);
		if (node == 0 || node < link_off)
			return kdx_error_fault(node, "%s list at %llx: broken link %llx", what,
					       (unsigned long long)head, (unsigned long long)node);
		uint64_t addr = node - link_off;
		err = add_task(s, c, addr, buf, &t);
		if (err)
			return err;   /* cannot follow its link either */
		/* Each task is on one process list / one thread list; only a
		 * thread group's leader was seen before its thread list. A second
		 * known entry means the list loops back into itself. */
		if (!t && ++known > allow_known)
			return kdx_error_create(KDX_ERR_FORMAT,
				"%s list at %llx loops back to task %llx", what,
				(unsigned long long)head, (unsigned long long)addr);
		/* Follow the link from the bytes just read if we read them;
		 * else (already seen) read the link itself. */
		err = kdx_read_u64(s, node, &node);
		if (err)
			return kdx_error_prefix(err, "%s list: next pointer at %llx", what,
						(unsigned long long)(addr + link_off));
		/* A set-already-seen process list entry that loops to the
		 * middle would spin: the count cap above catches it. */
	}
	return NULL;
}

static int cmp_task(const void *a, const void *b)
{
	const struct kdx_task *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	/* idle tasks (pid 0) by CPU */
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_addr(const void *a, const void *b)
{
	const struct kdx_task *x = *(struct kdx_task *const *)a, *y = *(struct kdx_task *const *)b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static const struct kdx_task *lookup_addr(struct task_cache *c, uint64_t addr)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->by_addr[mid]->addr == addr)
			return c->by_addr[mid];
		if (c->by_addr[mid]->addr < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int find_panic_cpu(struct kdx_session *s)
{
	uint64_t addr, v;
	struct kdx_error *err;

	if (s->target && s->target->live)
		return -1;
	err = kdx_kvar(s, "panic_cpu", &addr);
	if (!err)
		err = kdx_read_uint(s, addr, 4, &v);
	if (!err && (int32_t)v >= 0)
		return (int32_t)v;
	kdx_error_destroy(err);
	return s->target ? s->target->panic_cpu : -1;
}

/* Cross-check with the kernel's own thread count (nr_threads excludes the
 * idle tasks). One line if they disagree. */
static void cross_check(struct kdx_session *s, struct task_cache *c)
{
	uint64_t addr, v;
	size_t found = 0;
	struct kdx_error *err = kdx_kvar(s, "nr_threads", &addr);

	if (!err)
		err = kdx_read_uint(s, addr, 4, &v);
	if (err) {
		kdx_error_destroy(err);
		return;
	}
	for (size_t i = 0; i < c->n; i++)
		found += c->tasks[i].pid != 0;
	if ((int64_t)found != (int32_t)v && !s->target->live)
		fprintf(stderr, "kdx: warning: found %zu tasks (idle tasks excluded) but the kernel's nr_threads is %d\n",
			found, (int32_t)v);
}

static struct kdx_error *load(struct kdx_session *s, struct task_cache *c)
{
	struct task_offsets *o = &c->o;
	unsigned char *buf;
	struct kdx_error *err = load_offsets(s, o);
	size_t nproc;

	if (err)
		return err;
	buf = malloc(o->task_size);
	if (!buf)
		return kdx_error_nomem();

	/* init_task: CPU 0's idle task, and the head of the process list. */
	struct kdx_task *t;
	err = add_task(s, c, o->init_task, buf, &t);
	if (err)
		goto out;
	err = walk_list(s, c, o->init_task + o->tasks.off, o->tasks.off, buf, "init_task.tasks", 0);
	if (err) {
		if (err->code == KDX_ERR_INTERRUPTED || err->code == KDX_ERR_NOMEM)
			goto out;
		warn(s, c, err);
		err = NULL;   /* warn() destroyed it */
	}

	/* Threads of each process. */
	nproc = c->n;
	for (size_t i = 0; i < nproc; i++) {
		const struct kdx_task *p = &c->tasks[i];
		uint64_t head;
		if (p->pid == 0)
			continue;   /* init_task's thread list is just itself */
		if (o->thread_node.ok && o->sig_thread_head.ok && o->signal.ok) {
			if (!p->signal)
				continue;   /* exiting (released signal) */
			head = p->signal + o->sig_thread_head.off;
			err = walk_list(s, c, head, o->thread_node.off, buf, "thread", 1);
		} else if (o->thread_group.ok) {
			head = p->addr + o->thread_group.off;
			err = walk_list(s, c, head, o->thread_group.off, buf, "thread_group", 1);
		} else {
			break;
		}
		if (err) {
			if (err->code == KDX_ERR_INTERRUPTED || err->code == KDX_ERR_NOMEM)
				goto out;
			warn(s, c, kdx_error_prefix(err, "threads of pid %d", p->pid));
			err = NULL;
		}
	}

	/* Per-CPU idle and current tasks. */
	c->ncpus = kdx_cpu_count(s);
	uint64_t *curr = calloc((size_t)c->ncpus, sizeof(*curr));
	if (!curr) {
		err = kdx_error_nomem();
		goto out;
	}
	for (int cpu = 0; o->runqueues && o->rq_idle.ok && cpu < c->ncpus; cpu++) {
		uint64_t off, idle, cur;
		if (!kdx_cpu_present(s, cpu))
			continue;
		err = kdx_percpu_offset(s, cpu, &off);
		if (!err)
			err = kdx_read_u64(s, o->runqueues + off + o->rq_idle.off, &idle);
		if (!err && o->rq_curr.ok)
			err = kdx_read_u64(s, o->runqueues + off + o->rq_curr.off, &cur);
		if (err) {
			warn(s, c, kdx_error_prefix(err, "runqueue of CPU %d", cpu));
			continue;
		}
		curr[cpu] = cur;
		if ((err = add_task(s, c, idle, buf, &t))) {
			warn(s, c, err);
		} else if (t) {
			t->is_idle = 1;
		}
		if ((err = add_task(s, c, cur, buf, &t)))
			warn(s, c, kdx_error_prefix(err, "current task of CPU %d", cpu));
	}

	err = NULL;   /* the per-CPU failures above were warned about (and destroyed) */
	qsort(c->tasks, c->n, sizeof(*c->tasks), cmp_task);
	c->by_addr = malloc(c->n * sizeof(*c->by_addr));
	c->active = calloc((size_t)c->ncpus, sizeof(*c->active));
	if (!c->by_addr || !c->active) {
		free(curr);
		err = kdx_error_nomem();
		goto out;
	}
	for (size_t i = 0; i < c->n; i++)
		c->by_addr[i] = &c->tasks[i];
	qsort(c->by_addr, c->n, sizeof(*c->by_addr), cmp_addr);

	for (size_t i = 0; i < c->n; i++) {
		struct kdx_task *x = &c->tasks[i];
		const struct kdx_task *par = lookup_addr(c, x->parent);
		/* PPID as /proc shows it: the parent's thread group id. */
		x->ppid = par ? par->tgid : 0;
		if (x->pid == 0) {
			/* idle tasks of secondary CPUs are forked by init; crash
			 * (and the hierarchy) put them under nobody */
			x->is_idle = 1;
			x->ppid = 0;
		}
	}
	for (int cpu = 0; cpu < c->ncpus; cpu++) {
		const struct kdx_task *a = lookup_addr(c, curr[cpu]);
		if (a) {
			((struct kdx_task *)a)->active = 1;
			/* rq->curr is authoritative for the CPU it runs on */
			((struct kdx_task *)a)->cpu = cpu;
			c->active[cpu] = a;
		}
	}
	free(curr);
	c->panic_cpu = find_panic_cpu(s);
	if (c->panic_cpu >= 0 && c->panic_cpu < c->ncpus && c->active[c->panic_cpu]) {
		c->panic = c->active[c->panic_cpu];
		((struct kdx_task *)c->panic)->is_panic = 1;
	}
	cross_check(s, c);
	free(c->seen);
	c->seen = NULL;
	c->seen_cap = 0;
out:
	free(buf);
	return err;
}

static struct kdx_error *cache_load(struct kdx_session *s, void *obj)
{
	struct task_cache *c = obj;
	struct kdx_error *err;

	c->panic_cpu = -1;
	if ((err = load(s, c)))
		return kdx_error_prefix(err, "reading the task list");
	return NULL;
}

static struct kdx_error *cache_get(struct kdx_session *s, struct task_cache **ret)
{
	return kdx_kernel_cached(s, KDX_SLOT_TASKS, sizeof(**ret), cache_load, cache_destroy, (void **)ret);
}

/* For lookups that return NULL on failure: report the load error once. */
static struct task_cache *cache_or_report(struct kdx_session *s)
{
	struct task_cache *c;
	struct kdx_error *err = cache_get(s, &c);

	if (err) {
		kdx_session_report(s, err);
		return NULL;
	}
	return c;
}

struct kdx_error *kdx_tasks(struct kdx_session *s, struct kdx_task **tasks, size_t *ntasks)
{
	struct task_cache *c;
	struct kdx_error *err = cache_get(s, &c);

	if (err)
		return err;
	*tasks = c->tasks;
	*ntasks = c->n;
	return NULL;
}

const struct kdx_task *kdx_task_by_pid(struct kdx_session *s, int pid)
{
	struct task_cache *c = cache_or_report(s);
	size_t lo = 0, hi;

	if (!c)
		return NULL;
	hi = c->n;
	/* tasks are sorted by pid: first match (CPU 0's idle task for pid 0) */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (c->tasks[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && c->tasks[lo].pid == pid ? &c->tasks[lo] : NULL;
}

const struct kdx_task *kdx_task_by_addr(struct kdx_session *s, uint64_t addr)
{
	struct task_cache *c = cache_or_report(s);

	return c ? lookup_addr(c, addr) : NULL;
}

const struct kdx_task *kdx_task_panic(struct kdx_session *s)
{
	struct task_cache *c = cache_or_report(s);

	return c ? c->panic : NULL;
}

int kdx_panic_cpu(struct kdx_session *s)
{
	struct task_cache *c = cache_or_report(s);

	return c ? c->panic_cpu : -1;
}

const struct kdx_task *kdx_task_active_on(struct kdx_session *s, int cpu)
{
	struct task_cache *c = cache_or_report(s);

	if (!c || cpu < 0 || cpu >= c->ncpus)
		return NULL;
	return c->active[cpu];
}

const struct kdx_task *kdx_task_current(struct kdx_session *s)
{
	struct task_cache *c = cache_or_report(s);

	if (!c)
		return NULL;
	if (s->current_task) {
		const struct kdx_task *t = lookup_addr(c, s->current_task);
		if (t)
			return t;
	}
	if (c->panic)
		return c->panic;
	for (int cpu = 0; cpu < c->ncpus; cpu++)
		if (c->active[cpu])
			return c->active[cpu];
	return c->n ? &c->tasks[0] : NULL;
}

const char *kdx_task_state_name(struct kdx_session *s, const struct kdx_task *t)
{
	uint64_t st = t->state, ex = t->exit_state;

	(void)s;
	if (ex & EXIT_ZOMBIE)
		return "ZO";
	if (ex & EXIT_DEAD)
		return "DE";
	if (st == 0)
		return "RU";
	if ((st & (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)) == (TASK_UNINTERRUPTIBLE | TASK_NOLOAD))
		return "ID";
	if (st & TASK_INTERRUPTIBLE)
		return "IN";
	if (st & TASK_UNINTERRUPTIBLE)
		return "UN";
	if (st & TASK_STOPPED_BIT)
		return "ST";
	if (st & TASK_TRACED_BIT)
		return "TR";
	if (st & EXIT_ZOMBIE)
		return "ZO";
	if (st & (EXIT_DEAD | TASK_DEAD))
		return "DE";
	if (st & TASK_PARKED)
		return "PA";
	if (st & TASK_WAKING)
		return "WA";
	if (st & TASK_NEW)
		return "NE";
	if (st & TASK_WAKEKILL)
		return "WA";
	return "??";
}

struct kdx_error *kdx_task_resolve(struct kdx_session *s, const char *arg,
				   const struct kdx_task **ret)
{
	struct task_cache *c;
	struct kdx_error *err = cache_get(s, &c);
	uint64_t v;

	if (err)
		return err;
	*ret = NULL;
	/* Plain decimal: a PID. */
	int digits = arg[0] != 0;
	for (const char *p = arg; *p; p++)
		if (!isdigit((unsigned char)*p))
			digits = 0;
	if (digits) {
		v = strtoull(arg, NULL, 10);
		const struct kdx_task *t = v <= 0x7fffffff ? kdx_task_by_pid(s, (int)v) : NULL;
		if (t) {
			*ret = t;
			return NULL;
		}
		/* crash also takes a bare hex task address made only of digits */
		if (strlen(arg) < 12)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "no task with PID %s", arg);
	}
	err = kdx_parse_u64(arg, 1, &v);
	if (err) {
		kdx_error_destroy(err);
	} else {
		const struct kdx_task *t = lookup_addr(c, v);
		if (t) {
			*ret = t;
			return NULL;
		}
		if (v >= 0xffff000000000000ull || !strncmp(arg, "0x", 2))
			return kdx_error_create(KDX_ERR_NOT_FOUND,
						"%s is not a task_struct address (see `ps`)", arg);
	}
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->tasks[i].comm, arg)) {
			*ret = &c->tasks[i];
			return NULL;
		}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "no task with PID, address or command %s", arg);
}

/*
 * Memory use (ps VSZ/RSS). RSS is the sum of the mm's file, anon and shmem
 * page counters (MM_FILEPAGES 0, MM_ANONPAGES 1, MM_SHMEMPAGES 3: an
 * anonymous enum in DWARF, stable since 4.5), plus each thread's unsynced
 * deltas on kernels with SPLIT_RSS_COUNTING (task_struct.rss_stat).
 */
static const int rss_counters[] = { 0, 1, 3 };

static int cmp_delta(const void *a, const void *b)
{
	const struct mm_delta *x = a, *y = b;

	return x->mm < y->mm ? -1 : x->mm > y->mm;
}

static void mm_load(struct kdx_session *s, struct task_cache *c)
{
	struct mm_offsets *m = &c->mm;
	struct kdx_type *t, *mt;
	uint64_t bitoff, addr, v;
	uint32_t bitsize;
	struct kdx_error *err;

	m->loaded = 1;
	kdx_kmember_opt(s, "mm_struct", "total_vm", &m->total_vm);
	kdx_kmember_opt(s, "mm_struct", "rss_stat", &m->rss_stat);
	kdx_kmember_opt(s, "task_struct", "rss_stat.count", &m->task_rss);
	if (m->rss_stat.ok && !kdx_type_find(s->types, "struct mm_struct", &t) &&
	    !kdx_type_member(s->types, t, "rss_stat", &mt, &bitoff, &bitsize)) {
		mt = kdx_type_unqualified(mt);
		if (mt->kind == KDX_TYPE_ARRAY) {
			m->rss_percpu = 1;
			m->nelem = mt->nelem;
			m->elem_size = m->nelem ? mt->size / m->nelem : 0;
			kdx_kmember_opt(s, "percpu_counter", "count", &m->pcp_count);
			kdx_kmember_opt(s, "percpu_counter", "counters", &m->pcp_counters);
		} else {
			kdx_kmember_opt(s, "mm_struct", "rss_stat.count", &m->rss_count);
			m->elem_size = 8;
			m->nelem = m->rss_count.size / 8;
		}
	}
	/* totalram */
	err = kdx_kvar(s, "_totalram_pages", &addr);
	if (err) {
		kdx_error_destroy(err);
		err = kdx_kvar(s, "totalram_pages", &addr);
	}
	if (!err)
		err = kdx_read_u64(s, addr, &v);
	if (!err)
		m->totalram = v;
	kdx_error_destroy(err);

	/* unsynced per-thread RSS deltas, summed per mm */
	if (m->task_rss.ok && c->n) {
		uint64_t n = m->task_rss.size / 4;
		m->deltas = calloc(c->n, sizeof(*m->deltas));
		for (size_t i = 0; m->deltas && n <= 8 && i < c->n; i++) {
			int32_t cnt[8] = { 0 };
			int64_t d = 0;
			if (!c->tasks[i].mm)
				continue;
			if (!kdx_ok(kdx_read(s, c->tasks[i].addr + m->task_rss.off, cnt, n * 4)))
				continue;
			for (size_t k = 0; k < 3; k++)
				if ((uint64_t)rss_counters[k] < n)
					d += cnt[rss_counters[k]];
			m->deltas[m->ndeltas].mm = c->tasks[i].mm;
			m->deltas[m->ndeltas].pages = d;
			m->ndeltas++;
		}
		if (m->deltas) {
			qsort(m->deltas, m->ndeltas, sizeof(*m->deltas), cmp_delta);
			size_t w = 0;
			for (size_t i = 0; i < m->ndeltas; i++) {
				if (w && m->deltas[w - 1].mm == m->deltas[i].mm)
					m->deltas[w - 1].pages += m->deltas[i].pages;
				else
					m->deltas[w++] = m->deltas[i];
			}
			m->ndeltas = w;
		}
	}
}

uint64_t kdx_totalram_pages(struct kdx_session *s)
{
	struct task_cache *c = cache_or_report(s);

	if (!c)
		return 0;
	if (!c->mm.loaded)
		mm_load(s, c);
	return c->mm.totalram;
}

static struct kdx_error *rss_counter(struct kdx_session *s, struct task_cache *c,
				     uint64_t mm, int idx, int64_t *ret)
{
	struct mm_offsets *m = &c->mm;
	uint64_t base = mm + m->rss_stat.off + (uint64_t)idx * m->elem_size;
	uint64_t v;
	struct kdx_error *err;

	if (!m->rss_percpu) {
		err = kdx_read_u64(s, mm + m->rss_count.off + (uint64_t)idx * 8, &v);
		*ret = (int64_t)v;
		return err;
	}
	/* percpu_counter: count + sum of the per-CPU deltas */
	err = kdx_read_u64(s, base + m->pcp_count.off, &v);
	if (err)
		return err;
	*ret = (int64_t)v;
	uint64_t pcp;
	if (!m->pcp_counters.ok || !kdx_ok(kdx_read_u64(s, base + m->pcp_counters.off, &pcp)) || !pcp)
		return NULL;
	for (int cpu = 0; cpu < kdx_cpu_count(s); cpu++) {
		uint64_t off, d;
		if (!kdx_cpu_present(s, cpu) || !kdx_ok(kdx_percpu_offset(s, cpu, &off)))
			continue;
		if (kdx_ok(kdx_read_uint(s, pcp + off, 4, &d)))
			*ret += (int32_t)d;
	}
	return NULL;
}

struct kdx_error *kdx_task_mm_stats(struct kdx_session *s, const struct kdx_task *t,
				    uint64_t *vsz_kb, uint64_t *rss_kb)
{
	struct task_cache *c;
	struct kdx_error *err = cache_get(s, &c);
	uint64_t total_vm, pgkb = (s->target && s->target->page_size ? s->target->page_size : 4096) / 1024;
	int64_t rss = 0;

	*vsz_kb = *rss_kb = 0;
	if (err)
		return err;
	if (!c->mm.loaded)
		mm_load(s, c);
	if (!t->mm)
		return NULL;
	struct mm_offsets *m = &c->mm;
	if (!m->total_vm.ok || !m->rss_stat.ok)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "mm_struct has no total_vm/rss_stat");
	err = kdx_read_u64(s, t->mm + m->total_vm.off, &total_vm);
	if (err)
		return kdx_error_prefix(err, "mm_struct of pid %d", t->pid);
	for (size_t k = 0; k < 3; k++) {
		int64_t v;
		if ((uint64_t)rss_counters[k] >= m->nelem)
			continue;
		err = rss_counter(s, c, t->mm, rss_counters[k], &v);
		if (err)
			return kdx_error_prefix(err, "mm_struct of pid %d", t->pid);
		rss += v;
	}
	struct mm_delta key = { .mm = t->mm }, *d;
	if (m->ndeltas && (d = bsearch(&key, m->deltas, m->ndeltas, sizeof(*d), cmp_delta)))
		rss += d->pages;
	if (rss < 0)
		rss = 0;
	*vsz_kb = total_vm * pgkb;
	*rss_kb = (uint64_t)rss * pgkb;
	return NULL;
}

char *kdx_task_header(const struct kdx_task *t, char *buf, size_t len)
{
	snprintf(buf, len, "PID: %-8d TASK: %llx  CPU: %-4d COMMAND: \"%s\"",
		 t->pid, (unsigned long long)t->addr, t->cpu, t->comm);
	return buf;
}
