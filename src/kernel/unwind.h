/*
 * Stack unwinding on x86_64: ORC (vmlinux .orc_unwind/.orc_unwind_ip and
 * module ORC), crossing IRQ/exception stacks and pt_regs frames, falling
 * back to frame scanning only where ORC has no entry (and saying so).
 */
#ifndef KDX_UNWIND_H
#define KDX_UNWIND_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "targets/target.h"

struct kdx_session;
struct kdx_task;

struct kdx_frame {
	int level;              /* #N */
	uint64_t sp;            /* stack address shown in [...] : where the return address lives */
	uint64_t pc;            /* text address */
	uint64_t cfa;
	int is_exception;       /* a pt_regs frame: an interrupt/exception entry */
	int regs_valid;         /* REGS holds a full pt_regs (exception frames, start) */
	uint64_t regs[KDX_NR_REGS];
	int user_regs;          /* the pt_regs at the top of a syscall stack (user mode) */
	int from_scan;          /* found by scanning, not ORC */
	const char *stack_name; /* "IRQ", "NMI", "#DF"... when on a non-task stack; NULL otherwise */
};

struct kdx_unwind;

/* Start unwinding TASK: from the dump's registers if it was active on a CPU,
 * else from its saved thread.sp / inactive_task_frame. */
struct kdx_error *kdx_unwind_start(struct kdx_session *s, const struct kdx_task *task,
				   struct kdx_unwind **ret);
/* Start unwinding TASK at stack address SP (bt -S) and, if IP is non-zero,
 * text address IP (bt -I); IP 0 takes the return address stored at SP.
 * For stacks whose start the normal way cannot find (corrupted frames). */
struct kdx_error *kdx_unwind_start_at(struct kdx_session *s, const struct kdx_task *task,
				      uint64_t ip, uint64_t sp, struct kdx_unwind **ret);
/* Next frame; *DONE set at the end. An error describes where unwinding
 * stopped (frames already returned stay valid). */
struct kdx_error *kdx_unwind_next(struct kdx_unwind *u, struct kdx_frame *frame, int *done);
void kdx_unwind_end(struct kdx_unwind *u);

/* A stack the unwinder knows: the task stack, or a per-CPU IRQ/exception stack. */
struct kdx_stack_range {
	uint64_t lo, hi;        /* [lo, hi) */
	const char *name;       /* NULL for the task stack; "IRQ", "NMI", "#DF", "#DB", "#MC", "#VC"... */
};

/* The task's kernel stack [task->stack, task->stack + THREAD_SIZE). */
struct kdx_error *kdx_task_stack_bounds(struct kdx_session *s, const struct kdx_task *task,
					uint64_t *lo, uint64_t *hi);
/* The stack pointer unwinding TASK starts from (dump registers of an active
 * task, else the saved thread.sp past the inactive_task_frame). */
struct kdx_error *kdx_unwind_task_sp(struct kdx_session *s, const struct kdx_task *task,
				     uint64_t *sp);
/* The stack containing ADDR among those U knows (NULL if none). */
const struct kdx_stack_range *kdx_unwind_stack_of(struct kdx_unwind *u, uint64_t addr);
/* Is ADDR kernel or module text (a symbol of type t/T)? */
int kdx_is_text_addr(struct kdx_session *s, uint64_t addr);

#endif
