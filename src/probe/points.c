/*
 * Probe-point drivers against a dump: each walks kernel objects with the
 * shared walkers (tasks, unwinder, list walker, per-cpu offsets) and runs
 * the handler once per object, with the context variables set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/interp.h"
#include "kernel/list.h"
#include "kernel/tasks.h"
#include "kernel/unwind.h"
#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"

static void walk_error(struct interp *I, const struct ppoint *pt, const char *what, struct kdx_error *e)
{
	I->walk_errors++;
	if (!I->first_walk_error) {
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s: %s%s%s", pt->text, what ? what : "", what ? ": " : "",
			 e ? e->message : "");
		I->first_walk_error = strdup(buf);
	}
	kdx_error_destroy(e);
}

static struct kdx_error *point_error(struct interp *I, const struct ppoint *pt, struct kdx_error *e)
{
	struct kdx_error *r = kdx_error_create(e ? e->code : KDX_ERR_INVALID, "%s:%d:%d: probe %s: %s",
					       I->sc->src.file, pt->line, pt->col, pt->text,
					       e ? e->message : "failed");
	kdx_error_destroy(e);
	return r;
}

static int stop_now(struct interp *I)
{
	if (kdx_interrupted(I->s)) {
		I->interrupted = 1;
		return 1;
	}
	return 0;
}

static void ctx_reset(struct interp *I, struct pprobe *p, struct ppoint *pt)
{
	memset(&I->ctx, 0, sizeof(I->ctx));
	I->ctx.probe = p;
	I->ctx.pt = pt;
}

static int run_tasks(struct interp *I, struct pprobe *p, struct ppoint *pt)
{
	struct kdx_task *tasks;
	size_t n;
	struct kdx_error *e = kdx_tasks(I->s, &tasks, &n);
	if (e) {
		I->fatal = point_error(I, pt, e);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (stop_now(I))
			return 1;
		if (pt->kind == PP_TASK_PROCESS && !tasks[i].is_group_leader)
			continue;
		ctx_reset(I, p, pt);
		I->ctx.task = &tasks[i];
		if (pt->kind != PP_TASK_FRAME) {
			if (probe_hit(I, p))
				return 1;
			continue;
		}
		struct kdx_unwind *u;
		if ((e = kdx_unwind_start(I->s, &tasks[i], &u))) {
			char what[64];
			snprintf(what, sizeof(what), "pid %d", tasks[i].pid);
			walk_error(I, pt, what, e);
			continue;
		}
		for (int depth = 0; depth < 512; depth++) {
			struct kdx_frame f;
			int done = 0;
			memset(&f, 0, sizeof(f));
			if ((e = kdx_unwind_next(u, &f, &done))) {
				char what[64];
				snprintf(what, sizeof(what), "pid %d", tasks[i].pid);
				walk_error(I, pt, what, e);
				break;
			}
			if (done)
				break;
			ctx_reset(I, p, pt);
			I->ctx.task = &tasks[i];
			I->ctx.has_frame = 1;
			I->ctx.pc = f.pc;
			I->ctx.depth = f.level;
			if (probe_hit(I, p)) {
				kdx_unwind_end(u);
				return 1;
			}
		}
		kdx_unwind_end(u);
	}
	return 0;
}

struct list_arg {
	struct interp *I;
	struct pprobe *p;
	struct ppoint *pt;
	struct kdx_type *etype;
	int is_module;
	int stop;
	uint64_t count;
};

static int list_hit(struct kdx_session *s, uint64_t entry, uint64_t node, void *arg)
{
	struct list_arg *la = arg;
	struct interp *I = la->I;
	(void)node;
	la->count++;
	if (stop_now(I)) {
		la->stop = 1;
		return 1;
	}
	ctx_reset(I, la->p, la->pt);
	if (la->is_module)
		I->ctx.module = entry;
	I->ctx.entry = entry;
	I->ctx.entry_type = la->etype;
	if (probe_hit(I, la->p)) {
		la->stop = 1;
		return 1;
	}
	(void)s;
	return 0;
}

/* Address of a list head given as an expression: a list_head/hlist_head
 * object (its address), a pointer to one, or a plain address. */
static struct kdx_error *head_address(struct interp *I, const char *expr, uint64_t *ret)
{
	struct kdx_value v;
	memset(&v, 0, sizeof(v));
	struct kdx_error *e = kdx_eval_expr(I->s, expr, &v);
	if (e)
		return e;
	struct kdx_type *t = kdx_type_unqualified(v.type);
	if (t && (t->kind == KDX_TYPE_STRUCT || t->kind == KDX_TYPE_UNION || t->kind == KDX_TYPE_ARRAY)) {
		if (!v.is_lvalue)
			e = kdx_error_create(KDX_ERR_INVALID, "list head \"%s\" is not an object in memory", expr);
		else
			*ret = v.addr;
	} else {
		e = kdx_value_as_u64(I->s, &v, ret);
	}
	kdx_value_release(&v);
	return e;
}

static int run_list(struct interp *I, struct pprobe *p, struct ppoint *pt, const char *head,
		    const char *type, const char *member, int hlist, int is_module)
{
	struct kdx_type *t, *mt;
	uint64_t bo, addr;
	uint32_t bs;
	struct kdx_error *e = kdx_type_find(I->s->types, type, &t);
	if (!e)
		e = kdx_type_member(I->s->types, t, member, &mt, &bo, &bs);
	if (!e)
		e = head_address(I, head, &addr);
	if (e) {
		I->fatal = point_error(I, pt, e);
		return 1;
	}
	struct kdx_list_walk w;
	memset(&w, 0, sizeof(w));
	w.kind = hlist ? KDX_LIST_HLIST : KDX_LIST_HEAD;
	w.start = addr;
	w.head_is_standalone = 1;
	w.link_offset = bo / 8;
	w.max_entries = (uint64_t)I->lim.maxlistentries + 1;
	struct list_arg la = { I, p, pt, kdx_type_pointer_to(I->s->types, t), is_module, 0, 0 };
	uint64_t count = 0;
	e = kdx_list_walk(I->s, &w, list_hit, &la, &count);
	if (la.stop) {
		kdx_error_destroy(e);
		return 1;
	}
	if (e)
		walk_error(I, pt, NULL, e);
	else if (la.count > (uint64_t)I->lim.maxlistentries)
		walk_error(I, pt, NULL, kdx_error_create(KDX_ERR_INVALID,
			"stopped after %lld entries (raise the limit with -D MAXLISTENTRIES=N)",
			(long long)I->lim.maxlistentries));
	return 0;
}

static int run_cpus(struct interp *I, struct pprobe *p, struct ppoint *pt)
{
	int n = kdx_cpu_count(I->s);
	for (int cpu = 0; cpu < n; cpu++) {
		if (stop_now(I))
			return 1;
		ctx_reset(I, p, pt);
		I->ctx.cpu = cpu;
		if (probe_hit(I, p))
			return 1;
	}
	return 0;
}

int probe_run_point(struct interp *I, struct pprobe *p, struct ppoint *pt)
{
	switch (pt->kind) {
	case PP_TASK:
	case PP_TASK_PROCESS:
	case PP_TASK_FRAME:
		return run_tasks(I, p, pt);
	case PP_LIST:
	case PP_HLIST:
		return run_list(I, p, pt, pt->args[0], pt->args[1], pt->args[2], pt->kind == PP_HLIST, 0);
	case PP_MODULE:
		return run_list(I, p, pt, "modules", "struct module", "list", 0, 1);
	case PP_CPU:
		return run_cpus(I, p, pt);
	default:
		return 0;
	}
}

int probe_backtrace(struct interp *I, const struct node *at, struct kdx_strbuf *out, int verbose)
{
	const struct kdx_task *t = ctx_task(I);
	if (!t)
		return rt_error(I, at, "backtrace: no task in this context");
	struct kdx_unwind *u;
	struct kdx_error *e = kdx_unwind_start(I->s, t, &u);
	if (e)
		return rt_kerr(I, at, e);
	int first = 1;
	for (int depth = 0; depth < 512; depth++) {
		struct kdx_frame f;
		int done = 0;
		memset(&f, 0, sizeof(f));
		if ((e = kdx_unwind_next(u, &f, &done))) {
			if (verbose)
				kdx_strbuf_printf(out, " (unwinding stopped: %s)\n", e->message);
			kdx_error_destroy(e);
			break;
		}
		if (done)
			break;
		if (verbose) {
			uint64_t off = 0;
			const struct kdx_symbol *sym = kdx_symbol_by_addr(I->s->symtab, f.pc, &off);
			if (sym)
				kdx_strbuf_printf(out, " 0x%016llx : %s+0x%llx/0x%llx [%s]\n",
						  (unsigned long long)f.pc, sym->name, (unsigned long long)off,
						  (unsigned long long)sym->size, sym->module ? sym->module : "kernel");
			else
				kdx_strbuf_printf(out, " 0x%016llx\n", (unsigned long long)f.pc);
		} else {
			kdx_strbuf_printf(out, "%s0x%llx", first ? "" : " ", (unsigned long long)f.pc);
		}
		first = 0;
	}
	kdx_unwind_end(u);
	return 0;
}
