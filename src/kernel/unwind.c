/*
 * The x86_64 ORC unwinder. See unwind.h.
 *
 * The walk follows the kernel's own unwinder (arch/x86/kernel/unwind_orc.c)
 * for the meaning of ORC entries: the CFA comes from sp_reg + sp_offset, a
 * CALL frame's return address sits just below the CFA, a REGS frame has a
 * full struct pt_regs at the CFA and a REGS_PARTIAL frame an IRET frame.
 * Frames are produced one step ahead: the unwinder holds a "pending" frame
 * and computes its caller when it hands it out, so that an interrupt entry
 * frame is followed by the interrupted context as its own frame
 * (is_exception) and a syscall stack ends with the user registers
 * (user_regs).
 */
#include "kernel/unwind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "kernel/kernel.h"
#include "kernel/kread.h"
#include "kernel/orc.h"
#include "kernel/tasks.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "targets/target.h"

#define MAX_FRAMES 512
#define MAX_STACKS 12
/* How far frame scanning looks for a return address (bytes). */
#define SCAN_LIMIT 4096

/* pt_regs member names in enum kdx_reg order (the first 21). */
static const char *const pt_regs_names[] = {
	"r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8",
	"ax", "cx", "dx", "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss",
};
#define NR_PT_REGS 21

/* Offsets and sizes fetched once per session. */
struct unwind_info {
	int ok;
	uint64_t thread_size;
	uint64_t irq_stack_size;
	struct kdx_kfield thread_sp;
	struct kdx_kfield itf_bp, itf_ret;
	uint64_t itf_size;
	uint64_t ptregs_size;
	struct kdx_kfield regs[NR_PT_REGS];
	uint64_t ret_from_fork;
	struct {
		const char *member, *name;
		struct kdx_kfield f;
	} estacks[8];
	int nestacks;
	struct kdx_kfield tss_sp0;  /* tss_struct.x86_tss.sp0: top of the entry stack */
	uint64_t entry_stack_size;
};

struct kdx_unwind {
	struct kdx_session *s;
	const struct kdx_task *task;
	struct unwind_info *info;
	struct kdx_stack_range stacks[MAX_STACKS];
	int nstacks;

	struct kdx_frame pending;
	int have_pending;
	/* Context of the pending frame. */
	uint64_t ip, sp, bp;
	int signal;
	uint64_t regs[KDX_NR_REGS];
	int regs_full;          /* REGS holds the full register set of this context */
	int level;
	int nframes;            /* every frame handed out (exception frames too) */
	int done;
	struct kdx_error *deferred;
};

static void info_destroy(void *obj)
{
	free(obj);
}

static struct kdx_error *info_load(struct kdx_session *s, void *obj)
{
	struct unwind_info *in = obj;
	struct kdx_error *err;

	if ((err = kdx_type_sizeof(s, "union thread_union", &in->thread_size))) {
		/* Not in the DWARF of every build: the init task's stack spans
		 * init_stack .. __end_init_task (THREAD_SIZE). */
		uint64_t a, b;
		kdx_error_destroy(err);
		if ((err = kdx_kvar(s, "init_stack", &a)) ||
		    (err = kdx_kvar(s, "__end_init_task", &b)))
			goto fail;
		if (b <= a || b - a > (1 << 20)) {
			err = kdx_error_create(KDX_ERR_FORMAT, "cannot tell THREAD_SIZE (init_stack %llx, __end_init_task %llx)",
					       (unsigned long long)a, (unsigned long long)b);
			goto fail;
		}
		in->thread_size = b - a;
	}
	uint64_t sz;
	struct kdx_error *e2 = kdx_type_sizeof(s, "struct irq_stack", &sz);
	if (e2) {
		/* struct irq_stack is only declared in some builds; IRQ_STACK_ORDER
		 * equals THREAD_SIZE_ORDER on x86_64. */
		kdx_error_destroy(e2);
		sz = in->thread_size;
	}
	in->irq_stack_size = sz;
	if ((err = kdx_kmember(s, "task_struct", "thread.sp", &in->thread_sp)) ||
	    (err = kdx_kmember(s, "inactive_task_frame", "bp", &in->itf_bp)) ||
	    (err = kdx_kmember(s, "inactive_task_frame", "ret_addr", &in->itf_ret)) ||
	    (err = kdx_type_sizeof(s, "struct inactive_task_frame", &in->itf_size)) ||
	    (err = kdx_type_sizeof(s, "struct pt_regs", &in->ptregs_size)))
		goto fail;
	for (int i = 0; i < NR_PT_REGS; i++)
		if ((err = kdx_kmember(s, "pt_regs", pt_regs_names[i], &in->regs[i])))
			goto fail;
	if ((err = kdx_kvar(s, "ret_from_fork", &in->ret_from_fork))) {
		kdx_error_destroy(err);
		in->ret_from_fork = 0;
	}
	static const char *const es[][2] = {
		{ "DF_stack", "#DF" }, { "NMI_stack", "NMI" }, { "DB_stack", "#DB" },
		{ "MCE_stack", "#MC" }, { "VC_stack", "#VC" }, { "VC2_stack", "#VC2" },
	};
	for (size_t i = 0; i < sizeof(es) / sizeof(es[0]); i++) {
		struct kdx_kfield f;
		kdx_kmember_opt(s, "cea_exception_stacks", es[i][0], &f);
		if (!f.ok)
			continue;
		in->estacks[in->nestacks].member = es[i][0];
		in->estacks[in->nestacks].name = es[i][1];
		in->estacks[in->nestacks].f = f;
		in->nestacks++;
	}
	kdx_kmember_opt(s, "tss_struct", "x86_tss.sp0", &in->tss_sp0);
	if (in->tss_sp0.ok) {
		struct kdx_error *e3 = kdx_type_sizeof(s, "struct entry_stack", &in->entry_stack_size);
		if (e3) {
			kdx_error_destroy(e3);
			in->tss_sp0.ok = 0;
		}
	}
	in->ok = 1;
	return NULL;
fail:
	return kdx_error_prefix(err, "unwinder");
}

static struct kdx_error *info_get(struct kdx_session *s, struct unwind_info **ret)
{
	return kdx_kernel_cached(s, KDX_SLOT_UNWIND, sizeof(**ret), info_load, info_destroy, (void **)ret);
}

int kdx_is_text_addr(struct kdx_session *s, uint64_t addr)
{
	uint64_t off;
	const struct kdx_symbol *sym;

	if (!(addr >> 63))
		return 0;
	if (addr >= 0xffffffffc0000000ULL && kdx_orc_module_text(s, addr))
		return 1;
	sym = kdx_symbol_by_addr(s->symtab, addr, &off);
	if (!sym || (sym->type != 't' && sym->type != 'T' && sym->type != 'W' && sym->type != 'w'))
		return 0;
	/* Past the end of a sized symbol: not inside a function. */
	if (sym->size && off >= sym->size)
		return 0;
	return 1;
}

struct kdx_error *kdx_task_stack_bounds(struct kdx_session *s, const struct kdx_task *task,
					uint64_t *lo, uint64_t *hi)
{
	struct unwind_info *in;
	struct kdx_error *err = info_get(s, &in);

	if (err)
		return err;
	if (!task->stack)
		return kdx_error_create(KDX_ERR_INVALID, "PID %d (task %llx) has no kernel stack",
					task->pid, (unsigned long long)task->addr);
	*lo = task->stack;
	*hi = task->stack + in->thread_size;
	return NULL;
}

static void add_stack(struct kdx_unwind *u, uint64_t lo, uint64_t hi, const char *name)
{
	if (u->nstacks < MAX_STACKS && lo < hi)
		u->stacks[u->nstacks++] = (struct kdx_stack_range){ lo, hi, name };
}

/* The task stack, and the CPU's IRQ and exception stacks. */
static void collect_stacks(struct kdx_unwind *u)
{
	struct kdx_session *s = u->s;
	const struct kdx_task *t = u->task;
	struct unwind_info *in = u->info;
	uint64_t addr, v;
	struct kdx_error *err;

	if (t->stack)
		add_stack(u, t->stack, t->stack + in->thread_size, NULL);
	if (t->cpu < 0 || t->cpu >= kdx_cpu_count(s))
		return;
	/* hardirq_stack_ptr holds the top of the IRQ stack minus 8. */
	err = kdx_percpu_addr(s, "hardirq_stack_ptr", t->cpu, &addr);
	if (err) {
		kdx_error_destroy(err);
		err = kdx_percpu_addr(s, "pcpu_hot", t->cpu, &addr);
		if (!err) {
			struct kdx_kfield f;
			kdx_kmember_opt(s, "pcpu_hot", "hardirq_stack_ptr", &f);
			if (f.ok)
				addr += f.off;
			else
				err = kdx_error_create(KDX_ERR_NOT_FOUND, "no hardirq_stack_ptr");
		}
	}
	if (!err && !(err = kdx_read_u64(s, addr, &v)) && v)
		add_stack(u, v + 8 - in->irq_stack_size, v + 8, "IRQ");
	if (err)
		kdx_error_destroy(err);
	err = kdx_percpu_addr(s, "cea_exception_stacks", t->cpu, &addr);
	if (!err && !(err = kdx_read_u64(s, addr, &v)) && v) {
		for (int i = 0; i < in->nestacks; i++)
			add_stack(u, v + in->estacks[i].f.off,
				  v + in->estacks[i].f.off + in->estacks[i].f.size, in->estacks[i].name);
	}
	if (err)
		kdx_error_destroy(err);
	/* The entry trampoline stack: cpu_tss_rw.x86_tss.sp0 is its top. */
	if (in->tss_sp0.ok) {
		err = kdx_percpu_addr(s, "cpu_tss_rw", t->cpu, &addr);
		if (!err && !(err = kdx_read_u64(s, addr + in->tss_sp0.off, &v)) && v)
			add_stack(u, v - in->entry_stack_size, v, "ENTRY");
		if (err)
			kdx_error_destroy(err);
	}
}

const struct kdx_stack_range *kdx_unwind_stack_of(struct kdx_unwind *u, uint64_t addr)
{
	for (int i = 0; i < u->nstacks; i++)
		if (addr >= u->stacks[i].lo && addr < u->stacks[i].hi)
			return &u->stacks[i];
	return NULL;
}

static struct kdx_error *stack_fault(struct kdx_unwind *u, struct kdx_error *err, uint64_t addr)
{
	struct kdx_error *e = kdx_error_fault(addr, "cannot read stack of PID %d at %llx: %s",
					      u->task->pid, (unsigned long long)addr,
					      err && err->message ? err->message : "read failed");
	if (err)
		kdx_error_destroy(err);
	return e;
}

static struct kdx_error *read_word(struct kdx_unwind *u, uint64_t addr, uint64_t *v)
{
	struct kdx_error *err = kdx_read_u64(u->s, addr, v);

	return err ? stack_fault(u, err, addr) : NULL;
}

/* Read a struct pt_regs at ADDR into REGS (enum kdx_reg order). PARTIAL: only
 * the IRET frame (ip, cs, flags, sp, ss) is there; ADDR is the pt_regs base. */
static struct kdx_error *read_pt_regs(struct kdx_unwind *u, uint64_t addr, int partial,
				      uint64_t *regs)
{
	struct unwind_info *in = u->info;
	unsigned char buf[512];
	uint64_t first = partial ? in->regs[KDX_REG_RIP].off : 0;
	uint64_t size = in->ptregs_size;
	struct kdx_error *err;

	if (size > sizeof(buf) || first >= size)
		return kdx_error_create(KDX_ERR_FORMAT, "struct pt_regs of %llu bytes",
					(unsigned long long)size);
	if ((err = kdx_read(u->s, addr + first, buf + first, size - first)))
		return stack_fault(u, err, addr + first);
	for (int i = 0; i < NR_PT_REGS; i++) {
		if (partial && in->regs[i].off < first)
			continue;
		regs[i] = kdx_kfield_u(buf, &in->regs[i]);
	}
	return NULL;
}

static int stack_index(struct kdx_unwind *u, uint64_t addr)
{
	const struct kdx_stack_range *r = kdx_unwind_stack_of(u, addr);

	return r ? (int)(r - u->stacks) : -1;
}

/* The pending frame is the context (ip, sp, bp, regs): fill its display fields. */
static void set_pending(struct kdx_unwind *u, uint64_t slot)
{
	struct kdx_frame *f = &u->pending;
	const struct kdx_stack_range *r = kdx_unwind_stack_of(u, slot);

	f->pc = u->ip;
	f->sp = slot;
	f->stack_name = r ? r->name : NULL;
	u->have_pending = 1;
}

struct kdx_error *kdx_unwind_task_sp(struct kdx_session *s, const struct kdx_task *task,
				     uint64_t *sp)
{
	struct unwind_info *in;
	struct kdx_error *err = info_get(s, &in);
	uint64_t v;

	if (err)
		return err;
	if (task->active && task->cpu >= 0 && (unsigned)task->cpu < s->target->ncpus &&
	    s->target->cpus[task->cpu].valid) {
		*sp = s->target->cpus[task->cpu].r[KDX_REG_RSP];
		return NULL;
	}
	if ((err = kdx_read_u64(s, task->addr + in->thread_sp.off, &v)))
		return kdx_error_prefix(err, "PID %d: reading thread.sp", task->pid);
	*sp = v + in->itf_size;
	return NULL;
}

/* An unwinder for TASK with its stacks collected, at no frame yet. */
static struct kdx_error *unwind_new(struct kdx_session *s, const struct kdx_task *task,
				    struct kdx_unwind **ret)
{
	struct unwind_info *in;
	struct kdx_error *err = info_get(s, &in);
	struct kdx_unwind *u;

	if (err)
		return err;
	u = calloc(1, sizeof(*u));
	if (!u)
		return kdx_error_nomem();
	u->s = s;
	u->task = task;
	u->info = in;
	collect_stacks(u);
	*ret = u;
	return NULL;
}

struct kdx_error *kdx_unwind_start(struct kdx_session *s, const struct kdx_task *task,
				   struct kdx_unwind **ret)
{
	struct kdx_unwind *u;
	struct kdx_error *err = unwind_new(s, task, &u);
	struct unwind_info *in;

	if (err)
		return err;
	in = u->info;
	memset(&u->pending, 0, sizeof(u->pending));

	if (task->active && task->cpu >= 0 && (unsigned)task->cpu < s->target->ncpus &&
	    s->target->cpus[task->cpu].valid) {
		const struct kdx_cpu_regs *cr = &s->target->cpus[task->cpu];
		memcpy(u->regs, cr->r, sizeof(u->regs));
		u->regs_full = 1;
		u->ip = cr->r[KDX_REG_RIP];
		u->sp = cr->r[KDX_REG_RSP];
		u->bp = cr->r[KDX_REG_RBP];
		u->signal = 1;
		if (cr->r[KDX_REG_CS] & 3) {
			/* The CPU was in user mode: only the user registers. */
			u->pending.user_regs = 1;
			u->pending.regs_valid = 1;
			memcpy(u->pending.regs, u->regs, sizeof(u->regs));
		}
		set_pending(u, u->sp);
		if (!u->pending.user_regs && !kdx_unwind_stack_of(u, u->sp))
			u->deferred = kdx_error_create(KDX_ERR_INVALID,
						       "PID %d: RSP %llx is outside its stacks",
						       task->pid, (unsigned long long)u->sp);
		*ret = u;
		return NULL;
	}
	if (task->active) {
		/* Its thread.sp is stale (from its last switch-out): no backtrace. */
		kdx_unwind_end(u);
		return kdx_error_create(KDX_ERR_NOT_FOUND,
					"PID %d: active on CPU %d but the %s has no registers for that CPU",
					task->pid, task->cpu, s->target->live ? "live kernel" : "dump");
	}
	/* A blocked task: thread.sp points at its struct inactive_task_frame. */
	uint64_t tsp;
	unsigned char frame[256];
	if ((err = kdx_read_u64(s, task->addr + in->thread_sp.off, &tsp))) {
		kdx_unwind_end(u);
		return kdx_error_prefix(err, "PID %d: reading thread.sp of task %llx", task->pid,
					(unsigned long long)task->addr);
	}
	if (!task->stack || tsp < task->stack || tsp + in->itf_size > task->stack + in->thread_size) {
		kdx_unwind_end(u);
		return kdx_error_create(KDX_ERR_INVALID,
					"PID %d: saved stack pointer %llx is outside its stack %llx-%llx",
					task->pid, (unsigned long long)tsp,
					(unsigned long long)task->stack,
					(unsigned long long)(task->stack + in->thread_size));
	}
	if (in->itf_size > sizeof(frame)) {
		kdx_unwind_end(u);
		return kdx_error_create(KDX_ERR_FORMAT, "inactive_task_frame too large");
	}
	if ((err = kdx_read(s, tsp, frame, in->itf_size))) {
		err = stack_fault(u, err, tsp);
		kdx_unwind_end(u);
		return err;
	}
	u->ip = kdx_kfield_u(frame, &in->itf_ret);
	u->bp = kdx_kfield_u(frame, &in->itf_bp);
	if (!kdx_is_text_addr(s, u->ip)) {
		kdx_unwind_end(u);
		return kdx_error_create(KDX_ERR_INVALID,
					"PID %d: saved return address %llx at %llx is not kernel text",
					task->pid, (unsigned long long)kdx_kfield_u(frame, &in->itf_ret),
					(unsigned long long)(tsp + in->itf_ret.off));
	}
	u->sp = tsp + in->itf_size;
	u->signal = in->ret_from_fork && u->ip == in->ret_from_fork;
	u->regs[KDX_REG_RBP] = u->bp;
	set_pending(u, tsp + in->itf_ret.off);
	*ret = u;
	return NULL;
}

struct kdx_error *kdx_unwind_start_at(struct kdx_session *s, const struct kdx_task *task,
				      uint64_t ip, uint64_t sp, struct kdx_unwind **ret)
{
	struct kdx_unwind *u;
	struct kdx_error *err = unwind_new(s, task, &u);

	if (err)
		return err;
	if (!kdx_unwind_stack_of(u, sp)) {
		kdx_unwind_end(u);
		return kdx_error_create(KDX_ERR_INVALID, "%llx is not on a stack of PID %d",
					(unsigned long long)sp, task->pid);
	}
	uint64_t slot = sp;
	if (!ip) {
		/* SP holds a return address: the frame it returns into. */
		if ((err = read_word(u, sp, &ip))) {
			kdx_unwind_end(u);
			return err;
		}
		sp += 8;
		u->signal = 0;
	} else {
		u->signal = 1;
	}
	if (!kdx_is_text_addr(s, u->signal ? ip : ip - 1)) {
		kdx_unwind_end(u);
		return kdx_error_create(KDX_ERR_INVALID, "%llx is not a kernel text address",
					(unsigned long long)ip);
	}
	u->ip = ip;
	u->sp = sp;
	set_pending(u, slot);
	*ret = u;
	return NULL;
}

/*
 * No ORC entry for the pending context's IP: look for the next word on the
 * stack above SP that is a text address ORC knows, and go on from there.
 */
static struct kdx_error *scan_next(struct kdx_unwind *u, const char *why)
{
	int si = stack_index(u, u->sp);
	uint64_t end = si >= 0 ? u->stacks[si].hi : u->sp + SCAN_LIMIT;
	struct kdx_error *err;

	if (end > u->sp + SCAN_LIMIT)
		end = u->sp + SCAN_LIMIT;
	for (uint64_t a = u->sp; a + 8 <= end; a += 8) {
		uint64_t v;
		struct kdx_orc orc;
		int found;
		if ((err = read_word(u, a, &v)))
			return err;
		/* The current pc saved on the stack (a local pt_regs, as in
		 * __crash_kexec) is not its own caller. */
		if (v == u->ip || !kdx_is_text_addr(u->s, v - 1))
			continue;
		err = kdx_orc_find(u->s, v - 1, &orc, &found);
		if (err)
			kdx_error_destroy(err);
		if (!found)
			continue;
		u->ip = v;
		u->sp = a + 8;
		u->signal = 0;
		u->regs_full = 0;
		memset(&u->pending, 0, sizeof(u->pending));
		u->pending.from_scan = 1;
		set_pending(u, a);
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "%s, and no return address found above %llx",
				why, (unsigned long long)u->sp);
}

/* Compute the caller of the pending context; sets u->done at the end. */
static struct kdx_error *step(struct kdx_unwind *u, uint64_t *cfa_out)
{
	struct kdx_session *s = u->s;
	struct kdx_orc orc;
	int found;
	uint64_t cfa, v;
	struct kdx_error *err;
	char why[128];

	if (u->pending.user_regs) {
		u->done = 1;
		return NULL;
	}
	uint64_t lookup = u->signal ? u->ip : u->ip - 1;
	if ((err = kdx_orc_find(s, lookup, &orc, &found)))
		return err;
	if (!found) {
		snprintf(why, sizeof(why), "no ORC data for %llx", (unsigned long long)u->ip);
		return scan_next(u, why);
	}
	switch (orc.type) {
	case KDX_ORC_END_OF_STACK:
		u->done = 1;
		return NULL;
	case KDX_ORC_UNDEFINED:
		snprintf(why, sizeof(why), "ORC has no unwind information for %llx",
			 (unsigned long long)u->ip);
		return scan_next(u, why);
	default:
		break;
	}
	switch (orc.sp_reg) {
	case KDX_ORC_REG_SP:
		cfa = u->sp + orc.sp_offset;
		break;
	case KDX_ORC_REG_BP:
		cfa = u->bp + orc.sp_offset;
		break;
	case KDX_ORC_REG_SP_INDIRECT:
		if ((err = read_word(u, u->sp, &cfa)))
			return err;
		cfa += orc.sp_offset;
		break;
	case KDX_ORC_REG_BP_INDIRECT:
		if ((err = read_word(u, u->bp + orc.sp_offset, &cfa)))
			return err;
		break;
	case KDX_ORC_REG_R10:
	case KDX_ORC_REG_R13:
	case KDX_ORC_REG_DI:
	case KDX_ORC_REG_DX: {
		static const int map[] = {
			[KDX_ORC_REG_R10] = KDX_REG_R10, [KDX_ORC_REG_R13] = KDX_REG_R13,
			[KDX_ORC_REG_DI] = KDX_REG_RDI, [KDX_ORC_REG_DX] = KDX_REG_RDX,
		};
		if (!u->regs_full)
			return kdx_error_create(KDX_ERR_UNSUPPORTED,
						"ORC needs a register value that is not saved at %llx",
						(unsigned long long)u->ip);
		cfa = u->regs[map[orc.sp_reg]] + orc.sp_offset;
		break;
	}
	default:
		return kdx_error_create(KDX_ERR_FORMAT, "ORC entry for %llx has sp_reg %d",
					(unsigned long long)u->ip, orc.sp_reg);
	}
	*cfa_out = cfa;

	uint64_t old_sp = u->sp, old_bp = u->bp;
	int old_si = stack_index(u, old_sp);
	uint64_t regs[KDX_NR_REGS];
	struct kdx_frame next;
	memset(&next, 0, sizeof(next));

	switch (orc.type) {
	case KDX_ORC_CALL:
		if ((err = read_word(u, cfa - 8, &v)))
			return err;
		/* A return address may be the first byte after a noreturn call: v - 1. */
		if (v && !kdx_is_text_addr(s, v - 1))
			return kdx_error_create(KDX_ERR_INVALID,
						"PID %d: return address %llx at %llx is not kernel text (corrupted stack?)",
						u->task->pid, (unsigned long long)v,
						(unsigned long long)(cfa - 8));
		u->ip = v;
		u->sp = cfa;
		u->signal = 0;
		u->regs_full = 0;
		u->pending = next;
		break;
	case KDX_ORC_REGS:
	case KDX_ORC_REGS_PARTIAL: {
		int partial = orc.type == KDX_ORC_REGS_PARTIAL;
		uint64_t base = partial ? cfa - u->info->regs[KDX_REG_RIP].off : cfa;
		memcpy(regs, u->regs, sizeof(regs));
		if (!u->regs_full)
			memset(regs, 0, sizeof(regs));
		if ((err = read_pt_regs(u, base, partial, regs)))
			return err;
		u->ip = regs[KDX_REG_RIP];
		u->sp = regs[KDX_REG_RSP];
		u->signal = 1;
		memcpy(u->regs, regs, sizeof(regs));
		u->regs_full = !partial;
		next.regs_valid = !partial;
		memcpy(next.regs, regs, sizeof(regs));
		if (regs[KDX_REG_CS] & 3)
			next.user_regs = 1;
		else
			next.is_exception = 1;
		u->pending = next;
		break;
	}
	default:
		break;
	}
	/* Find BP. */
	switch (orc.bp_reg) {
	case KDX_ORC_REG_UNDEFINED:
		if (u->regs_full)
			u->bp = u->regs[KDX_REG_RBP];
		break;
	case KDX_ORC_REG_PREV_SP:
		if ((err = read_word(u, cfa + orc.bp_offset, &u->bp)))
			return err;
		break;
	case KDX_ORC_REG_BP:
		if ((err = read_word(u, old_bp + orc.bp_offset, &u->bp)))
			return err;
		break;
	default:
		break;
	}
	if (u->pending.user_regs) {
		set_pending(u, u->sp);
		return NULL;
	}
	if (u->pending.is_exception)
		set_pending(u, u->sp);
	else
		set_pending(u, u->sp - 8);
	if (!u->ip) {
		u->done = 1;
		return NULL;
	}
	int si = stack_index(u, u->sp);
	if (si < 0)
		return kdx_error_create(KDX_ERR_INVALID,
					"stack pointer %llx is outside the stacks of PID %d (corrupted stack?)",
					(unsigned long long)u->sp, u->task->pid);
	if (si == old_si && u->sp <= old_sp && !u->pending.is_exception)
		return kdx_error_create(KDX_ERR_INVALID,
					"stack pointer goes backwards at %llx (%llx after %llx): corrupted stack?",
					(unsigned long long)u->ip, (unsigned long long)u->sp,
					(unsigned long long)old_sp);
	return NULL;
}

struct kdx_error *kdx_unwind_next(struct kdx_unwind *u, struct kdx_frame *frame, int *done)
{
	*done = 0;
	if (!u->have_pending && u->deferred) {
		/* The error says why unwinding stopped after the frames already given. */
		struct kdx_error *e = u->deferred;
		u->deferred = NULL;
		u->done = 1;
		return e;
	}
	if (u->done || !u->have_pending) {
		*done = 1;
		return NULL;
	}
	if (u->level >= MAX_FRAMES || u->nframes >= 2 * MAX_FRAMES) {
		u->done = 1;
		return kdx_error_create(KDX_ERR_INVALID, "more than %d frames: stopping", MAX_FRAMES);
	}
	if (kdx_interrupted(u->s)) {
		u->done = 1;
		return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
	}
	*frame = u->pending;
	u->nframes++;
	frame->level = u->level;
	if (!frame->is_exception && !frame->user_regs)
		u->level++;
	u->have_pending = 0;
	if (u->deferred)
		return NULL;
	uint64_t cfa = 0;
	struct kdx_error *err = step(u, &cfa);
	frame->cfa = cfa;
	if (err) {
		u->deferred = err;
		u->have_pending = 0;
	}
	return NULL;
}

void kdx_unwind_end(struct kdx_unwind *u)
{
	if (!u)
		return;
	if (u->deferred)
		kdx_error_destroy(u->deferred);
	free(u);
}
