/*
 * Tasks: every process and thread (init_task.tasks + each thread group's
 * signal->thread_head / thread_group), the per-CPU idle tasks, and which
 * task was active on each CPU at dump time. Loaded once per session and
 * cached in s->kernel.
 */
#ifndef KDX_TASKS_H
#define KDX_TASKS_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

struct kdx_task {
	uint64_t addr;          /* struct task_struct * */
	int pid;
	int tgid;
	int ppid;
	uint64_t parent;        /* real_parent task address */
	int cpu;                /* task_cpu() */
	char comm[16];
	uint64_t state;         /* __state */
	uint64_t exit_state;
	unsigned flags;         /* PF_* */
	uint64_t mm;            /* 0 for kernel threads */
	uint64_t stack;         /* task->stack (base of the kernel stack) */
	uint64_t last_arrival;  /* sched_info.last_arrival (ns) */
	int active;             /* currently running on CPU `cpu` (rq->curr) */
	int is_idle;            /* a per-CPU swapper */
	int is_kthread;         /* PF_KTHREAD */
	int is_group_leader;
	int is_panic;           /* the task that panicked */
	/* Added by tasks: */
	uint64_t signal;        /* struct signal_struct * */
	uint64_t group_leader;
	uint64_t start_time;    /* ns since boot (monotonic) */
	uint64_t utime, stime;  /* ns */
	unsigned policy;        /* SCHED_* */
	int prio;
};

/* All tasks, ordered like crash's ps (by pid, idle tasks first per CPU). */
struct kdx_error *kdx_tasks(struct kdx_session *s, struct kdx_task **tasks, size_t *ntasks);

/* Lookups (NULL if not found; calls kdx_tasks internally). */
const struct kdx_task *kdx_task_by_pid(struct kdx_session *s, int pid);
const struct kdx_task *kdx_task_by_addr(struct kdx_session *s, uint64_t addr);
/* The task that panicked (crashing CPU's current task), or NULL. */
const struct kdx_task *kdx_task_panic(struct kdx_session *s);
/* Current context task: `set PID` choice, else the panicking task. */
const struct kdx_task *kdx_task_current(struct kdx_session *s);

/* crash's two-letter state: "RU", "IN", "UN", "ZO", "ST", "TR", "DE", "ID", "WA", "PA", "NE". */
const char *kdx_task_state_name(struct kdx_session *s, const struct kdx_task *t);

/*
 * Resolve a crash-style task argument: a PID, a task_struct address, or
 * (for foreach/ps) a command name. Error if it names no task.
 */
struct kdx_error *kdx_task_resolve(struct kdx_session *s, const char *arg,
				   const struct kdx_task **ret);

/* crash 8's task header line (no newline) into BUF:
 * PID: 22       TASK: ffff8a53412bc180  CPU: 1    COMMAND: "kworker/1:0" */
char *kdx_task_header(const struct kdx_task *t, char *buf, size_t len);

/* Memory use of T's mm (0s for kernel threads): VSZ and RSS in KB, as ps shows. */
struct kdx_error *kdx_task_mm_stats(struct kdx_session *s, const struct kdx_task *t,
				    uint64_t *vsz_kb, uint64_t *rss_kb);
/* Total RAM in pages (totalram_pages / _totalram_pages), 0 if unknown. */
uint64_t kdx_totalram_pages(struct kdx_session *s);
/* The task active on CPU (rq->curr), or NULL. */
const struct kdx_task *kdx_task_active_on(struct kdx_session *s, int cpu);
/* The CPU that panicked (panic_cpu, else the dump header), or -1. */
int kdx_panic_cpu(struct kdx_session *s);

/* Per-CPU offsets: __per_cpu_offset[cpu]. */
struct kdx_error *kdx_percpu_offset(struct kdx_session *s, int cpu, uint64_t *ret);
/* Number of possible CPUs (nr_cpu_ids) */
int kdx_cpu_count(struct kdx_session *s);
/* Is CPU in cpu_online_mask? And how many are. NB: at a panic the other
 * CPUs leave the online mask, so walkers use the present mask. */
int kdx_cpu_online(struct kdx_session *s, int cpu);
int kdx_cpu_online_count(struct kdx_session *s);
/* Is CPU in cpu_present_mask (or online)? And how many are. */
int kdx_cpu_present(struct kdx_session *s, int cpu);
int kdx_cpu_present_count(struct kdx_session *s);
/* Address of per-CPU variable NAME on CPU (symbol + __per_cpu_offset[cpu]). */
struct kdx_error *kdx_percpu_addr(struct kdx_session *s, const char *name, int cpu,
				  uint64_t *ret);

#endif
