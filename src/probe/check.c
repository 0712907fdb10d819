/*
 * Probe language checker (SystemTap's "elaboration"): resolves variables to
 * global or local slots and calls to builtins or script functions, checks
 * arity, infers the type of every variable (number, string, statistics or
 * kernel value) and reports mismatches, checks which $variables the probe
 * points provide and, when a dump is open, resolves kernel types statically
 * so that `$task->no_such_member` is an error before anything runs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"
#include "symbols/types.h"

enum {
	CTX_TASK = 1, CTX_FRAME = 2, CTX_ENTRY = 4, CTX_MODULE = 8, CTX_CPU = 16,
};

struct scope {
	char **names;
	int *types;
	int *lines;
	int n, cap;
	int nparams;
};

struct checker {
	struct pscript *sc;
	struct kdx_types *types;
	struct scope *scope;
	unsigned ctx;               /* $variables available in this probe */
	const char *where;          /* "probe task" / "function f" for messages */
	struct kdx_type *entry_type;   /* $entry: struct T * */
	struct pfunc *func;         /* in a function */
	int in_defined;
	int in_print;
	int pass;
	int changed;
	int loops;
	int depth;                  /* expr() recursion: bounded (left-deep chains) */
	struct kdx_error *err;
};

static const char *ty_name(int ty)
{
	switch (ty) {
	case TY_LONG: return "a number";
	case TY_STR: return "a string";
	case TY_KV: return "a kernel value";
	case TY_STATS: return "a statistics aggregate";
	case TY_VOID: return "nothing (void)";
	default: return "unknown";
	}
}

static int fail(struct checker *C, const struct node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct checker *C, const struct node *n, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	if (C->err)
		return TY_UNK;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	C->err = probe_diag(&C->sc->src, n->line, n->col, "%s", msg);
	return TY_UNK;
}

/* ------------------------------------------------------------ variables */

static struct pglobal *find_global(struct checker *C, const char *name, int *idx)
{
	for (size_t i = 0; i < C->sc->nglobals; i++)
		if (!strcmp(C->sc->globals[i]->name, name)) {
			if (idx)
				*idx = (int)i;
			return C->sc->globals[i];
		}
	return NULL;
}

static int scope_find(struct scope *sp, const char *name)
{
	for (int i = 0; i < sp->n; i++)
		if (!strcmp(sp->names[i], name))
			return i;
	return -1;
}

static int scope_add(struct checker *C, const char *name, int line)
{
	struct scope *sp = C->scope;
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? sp->cap * 2 : 8;
		sp->names = realloc(sp->names, sp->cap * sizeof(*sp->names));
		sp->types = realloc(sp->types, sp->cap * sizeof(*sp->types));
		sp->lines = realloc(sp->lines, sp->cap * sizeof(*sp->lines));
		if (!sp->names || !sp->types || !sp->lines)
			abort();
	}
	sp->names[sp->n] = (char *)name;
	sp->types[sp->n] = TY_UNK;
	sp->lines[sp->n] = line;
	return sp->n++;
}

/* Resolve a plain variable name: local (param or earlier use) else global
 * else a new local. */
static void resolve_var(struct checker *C, struct node *n)
{
	int i = scope_find(C->scope, n->name);
	if (i >= 0 && i < C->scope->nparams) {
		n->slot = i;
		n->is_global = 0;
		return;
	}
	int gi;
	if (find_global(C, n->name, &gi)) {
		n->slot = gi;
		n->is_global = 1;
		return;
	}
	if (i < 0)
		i = scope_add(C, n->name, n->line);
	n->slot = i;
	n->is_global = 0;
}

static int *var_type(struct checker *C, struct node *n, int **line)
{
	static int dummy_line;
	if (n->is_global) {
		struct pglobal *g = C->sc->globals[n->slot];
		*line = &g->line;
		return &g->ty;
	}
	if (n->slot < 0) {
		*line = &dummy_line;
		return NULL;
	}
	*line = &C->scope->lines[n->slot];
	return &C->scope->types[n->slot];
}

static int compatible(int a, int b)
{
	return a == b || a == TY_UNK || b == TY_UNK ||
	       (a == TY_KV && b != TY_STATS && b != TY_VOID) ||
	       (b == TY_KV && a != TY_STATS && a != TY_VOID);
}

/* Assigning a value of type TY to the variable of N. */
static void unify(struct checker *C, struct node *n, int ty, const char *what)
{
	int *line;
	int *vt = var_type(C, n, &line);
	if (!vt || ty == TY_UNK)
		return;
	if (ty == TY_VOID) {
		fail(C, n, "%s '%s' is assigned the result of a function that returns nothing", what, n->name);
		return;
	}
	if (*vt == TY_UNK) {
		*vt = ty;
		*line = n->line;
		C->changed = 1;
		return;
	}
	if (*vt == TY_STATS && ty != TY_STATS) {
		fail(C, n, "'%s' is a statistics aggregate (<<< at line %d): it cannot be assigned; use @count(%s), @sum(%s)... to read it",
		     n->name, *line, n->name, n->name);
		return;
	}
	if (ty == TY_STATS && *vt != TY_STATS) {
		fail(C, n, "type mismatch: '%s' is %s (line %d) and cannot collect statistics with <<<",
		     n->name, ty_name(*vt), *line);
		return;
	}
	if (!compatible(*vt, ty)) {
		fail(C, n, "type mismatch: %s '%s' is %s (line %d) but is given %s here",
		     what, n->name, ty_name(*vt), *line, ty_name(ty));
		return;
	}
	if (*vt == TY_KV && (ty == TY_LONG || ty == TY_STR) && n->is_global && C->sc->globals[n->slot]->is_array) {
		/* arrays keep numbers or strings: a kernel value is converted */
		*vt = ty;
		C->changed = 1;
	}
}

/* ---------------------------------------------------------- kernel types */

static struct kdx_type *ktype_find(struct checker *C, const struct node *at, const char *name)
{
	struct kdx_type *t;
	struct kdx_error *e;
	if (!C->types)
		return NULL;
	if ((e = kdx_type_find(C->types, name, &t))) {
		fail(C, at, "unknown type '%s': %s (types of a module need its debuginfo: mod -s MODULE FILE.ko)",
		     name, e->message);
		kdx_error_destroy(e);
		return NULL;
	}
	return t;
}

static struct kdx_type *ktype_member(struct checker *C, struct node *n, struct kdx_type *base)
{
	if (!C->types || !base)
		return NULL;
	struct kdx_type *u = kdx_type_unqualified(base);
	if (u && u->kind == KDX_TYPE_POINTER)
		u = kdx_type_unqualified(u->target);
	if (!u || u->kind == KDX_TYPE_VOID)
		return NULL;
	if (u->kind != KDX_TYPE_STRUCT && u->kind != KDX_TYPE_UNION) {
		if (!C->in_defined) {
			char *s = kdx_type_to_string(base, NULL);
			fail(C, n, "'->%s' applied to a value of type '%s': expected a struct or union (or a pointer to one)",
			     n->name, s ? s : "?");
			free(s);
		}
		return NULL;
	}
	struct kdx_error *e = kdx_type_complete(C->types, u);
	if (e) {
		kdx_error_destroy(e);
		return NULL;
	}
	struct kdx_type *mt;
	uint64_t bo;
	uint32_t bs;
	if ((e = kdx_type_member(C->types, u, n->name, &mt, &bo, &bs))) {
		kdx_error_destroy(e);
		if (!C->in_defined) {
			char *s = kdx_type_to_string(u, NULL);
			fail(C, n, "unknown member: %s has no member '%s'", s ? s : "the struct", n->name);
			free(s);
		}
		return NULL;
	}
	return mt;
}

/* ---------------------------------------------------------- expressions */

static int expr(struct checker *C, struct node *n);

static int need(struct checker *C, struct node *n, int want, const char *what)
{
	int ty = expr(C, n);
	if (ty == TY_STATS) {
		fail(C, n, "%s: a statistics aggregate cannot be used as a value; read it with @count(), @sum(), @avg(), @min(), @max()",
		     what);
		return TY_UNK;
	}
	if (ty == TY_VOID)
		return fail(C, n, "%s: the function returns nothing", what);
	if (want == TY_LONG && ty == TY_STR)
		return fail(C, n, "%s: expected a number, got a string", what);
	if (want == TY_STR && ty == TY_LONG)
		return fail(C, n, "%s: expected a string, got a number (use sprint() or sprintf() to convert)", what);
	return ty;
}

static void check_format(struct checker *C, struct node *call, const char *name, size_t first)
{
	struct node *f = call->v[first];
	if (f->k != N_STR)
		return;
	const char *bad = NULL;
	char convs[64];
	int nconv = probe_format_count(f->str, f->slen, &bad, convs, sizeof(convs));
	if (nconv < 0) {
		fail(C, f, "%s: bad conversion '%%%.*s' in the format: expected %%d %%i %%u %%x %%X %%o %%s %%c %%p %%%% with optional flags, width and precision",
		     name, bad ? (int)strcspn(bad, " \"\n") > 6 ? 6 : (int)strcspn(bad, " \"\n") : 1, bad ? bad : "?");
		return;
	}
	size_t nargs = call->n - first - 1;
	if ((size_t)nconv != nargs) {
		fail(C, call, "%s: the format has %d conversion%s but %zu argument%s follow%s",
		     name, nconv, nconv == 1 ? "" : "s", nargs, nargs == 1 ? "" : "s", nargs == 1 ? "s" : "");
		return;
	}
	for (int i = 0; i < nconv && i < (int)sizeof(convs); i++) {
		struct node *a = call->v[first + 1 + i];
		int ty = a->ty;
		if (convs[i] == 's' && ty == TY_LONG)
			fail(C, a, "%s: argument %d is a number but the format has %%s (use %%d)", name, i + 2);
		else if (convs[i] != 's' && ty == TY_STR)
			fail(C, a, "%s: argument %d is a string but the format has %%%c (use %%s)", name, i + 2, convs[i]);
	}
}

static int call_builtin(struct checker *C, struct node *n, int b)
{
	const struct builtin_desc *d = &probe_builtins[b];
	n->builtin = b;
	if ((int)n->n < d->min || (d->max >= 0 && (int)n->n > d->max)) {
		if (d->min == d->max)
			return fail(C, n, "%s() takes %d argument%s, got %zu", d->name, d->min,
				    d->min == 1 ? "" : "s", n->n);
		if (d->max < 0)
			return fail(C, n, "%s() takes at least %d argument%s, got %zu", d->name, d->min,
				    d->min == 1 ? "" : "s", n->n);
		return fail(C, n, "%s() takes %d to %d arguments, got %zu", d->name, d->min, d->max, n->n);
	}
	size_t al = strlen(d->args);
	for (size_t i = 0; i < n->n; i++) {
		char what[64];
		snprintf(what, sizeof(what), "argument %zu of %s()", i + 1, d->name);
		char k = al ? d->args[i < al ? i : al - 1] : '*';
		struct node *a = n->v[i];
		if (a->k == N_AT && (a->op == AT_HIST_LOG || a->op == AT_HIST_LINEAR)) {
			if (b != B_PRINT && b != B_PRINTLN)
				return fail(C, a, "@%s() prints a histogram: use it as print(@%s(...))",
					    a->name, a->name);
			C->in_print = 1;
			expr(C, a);
			C->in_print = 0;
			continue;
		}
		int ty = need(C, a, k == 's' ? TY_STR : k == 'n' ? TY_LONG : TY_UNK, what);
		a->ty = ty;
		if (C->err)
			return TY_UNK;
	}
	if ((b == B_PRINTF || b == B_SPRINTF) && n->n)
		check_format(C, n, d->name, 0);
	if (b == B_EXIT || b == B_ERROR || b == B_PRINT_BACKTRACE) {
		/* fine anywhere */
	}
	if ((b == B_SIZEOF || b == B_OFFSETOF || b == B_CONTAINER_OF) && C->types) {
		struct node *tn = b == B_CONTAINER_OF ? n->v[1] : n->v[0];
		if (tn->k == N_STR) {
			struct kdx_type *t = ktype_find(C, tn, tn->str);
			if (t && b != B_SIZEOF) {
				struct node *mn = b == B_CONTAINER_OF ? n->v[2] : n->v[1];
				if (mn->k == N_STR) {
					struct node fake = *mn;
					fake.name = mn->str;
					ktype_member(C, &fake, t);
				}
			}
			if (t && b == B_CONTAINER_OF)
				n->ktype = kdx_type_pointer_to(C->types, t);
		}
	}
	if (b == B_TASK_CURRENT && C->types) {
		struct kdx_type *t = ktype_find(C, n, "struct task_struct");
		if (t)
			n->ktype = kdx_type_pointer_to(C->types, t);
	}
	return d->ret;
}

static int call_user(struct checker *C, struct node *n)
{
	for (size_t i = 0; i < C->sc->nfuncs; i++) {
		struct pfunc *f = C->sc->funcs[i];
		if (strcmp(f->name, n->name))
			continue;
		n->fn = f;
		if ((int)n->n != f->nparams)
			return fail(C, n, "%s() takes %d argument%s (defined at line %d), got %zu",
				    f->name, f->nparams, f->nparams == 1 ? "" : "s", f->line, n->n);
		for (size_t a = 0; a < n->n; a++) {
			char what[64];
			snprintf(what, sizeof(what), "argument %zu of %s()", a + 1, f->name);
			need(C, n->v[a], f->ptypes[a], what);
		}
		return f->rettype ? f->rettype : TY_UNK;
	}
	return fail(C, n, "unknown function '%s': not a builtin and not defined in the script", n->name);
}

static const struct { const char *name; unsigned mask; const char *desc; } ctxvars[] = {
	{ "task", CTX_TASK, "task, task.process and task.frame probes" },
	{ "frame", CTX_FRAME, "task.frame probes" },
	{ "depth", CTX_FRAME, "task.frame probes" },
	{ "entry", CTX_ENTRY, "list() and hlist() probes" },
	{ "module", CTX_MODULE, "module probes" },
	{ "cpu", CTX_CPU, "cpu probes" },
};

static int ctxvar(struct checker *C, struct node *n)
{
	for (size_t i = 0; i < sizeof(ctxvars) / sizeof(ctxvars[0]); i++) {
		if (strcmp(ctxvars[i].name, n->name))
			continue;
		n->op = (int)ctxvars[i].mask;
		if (C->func)
			return fail(C, n, "$%s is not available in function %s(): pass it as an argument",
				    n->name, C->func->name);
		if (!(C->ctx & ctxvars[i].mask))
			return fail(C, n, "$%s is not available in %s: it exists in %s",
				    n->name, C->where, ctxvars[i].desc);
		if (ctxvars[i].mask == CTX_FRAME || ctxvars[i].mask == CTX_CPU)
			return TY_LONG;
		if (C->types) {
			if (ctxvars[i].mask == CTX_ENTRY)
				n->ktype = C->entry_type;
			else {
				struct kdx_type *t = ktype_find(C, n, ctxvars[i].mask == CTX_TASK ?
								"struct task_struct" : "struct module");
				n->ktype = t ? kdx_type_pointer_to(C->types, t) : NULL;
			}
		}
		return TY_KV;
	}
	return fail(C, n, "unknown context variable '$%s': expected one of $task $frame $depth $entry $module $cpu (script arguments are $1, $2...)",
		    n->name);
}

static int lvalue(struct checker *C, struct node *n, const char *op)
{
	if (n->k == N_VAR || n->k == N_ARR)
		return 1;
	if (n->k == N_CTX || n->k == N_MEMBER || n->k == N_INDEX || n->k == N_DEREF)
		fail(C, n, "%s cannot write to kernel memory: kdx reads a dump (copy the value into a variable)", op);
	else
		fail(C, n, "%s needs a variable or an array element on its left", op);
	return 0;
}

static int array_ref(struct checker *C, struct node *n, const char *name, size_t nkeys, struct node **keys)
{
	int gi;
	struct pglobal *g = find_global(C, name, &gi);
	if (!g)
		return fail(C, n, "array '%s' is not declared: add 'global %s' (arrays are global)", name, name);
	if (scope_find(C->scope, name) >= 0 && scope_find(C->scope, name) < C->scope->nparams)
		return fail(C, n, "'%s' is a function parameter, not an array", name);
	n->slot = gi;
	n->is_global = 1;
	if (!g->is_array && g->nkeys == 0 && g->used == 2)
		return fail(C, n, "'%s' is used as a scalar elsewhere and as an array here", name);
	g->is_array = 1;
	g->used = 1;
	if (g->nkeys && nkeys && g->nkeys != (int)nkeys)
		return fail(C, n, "array '%s' is used with %d key%s elsewhere and %zu here", name,
			    g->nkeys, g->nkeys == 1 ? "" : "s", nkeys);
	if (nkeys)
		g->nkeys = (int)nkeys;
	for (size_t i = 0; i < nkeys; i++) {
		char what[64];
		snprintf(what, sizeof(what), "key %zu of '%s'", i + 1, name);
		int ty = need(C, keys[i], TY_UNK, what);
		if (ty == TY_KV)
			ty = TY_UNK;    /* converted at run time */
		if (ty == TY_UNK)
			continue;
		if (g->keyty[i] == TY_UNK) {
			g->keyty[i] = ty;
			C->changed = 1;
		} else if (g->keyty[i] != ty) {
			return fail(C, keys[i], "type mismatch: key %zu of '%s' is %s elsewhere and %s here",
				    i + 1, name, ty_name(g->keyty[i]), ty_name(ty));
		}
	}
	return g->ty;
}

static int scalar_var(struct checker *C, struct node *n)
{
	resolve_var(C, n);
	if (n->is_global) {
		struct pglobal *g = C->sc->globals[n->slot];
		if (g->is_array)
			return fail(C, n, "'%s' is an array: index it (%s[key]) or test membership (key in %s)",
				    n->name, n->name, n->name);
		g->used = 2;
	}
	int *line;
	int *vt = var_type(C, n, &line);
	return vt ? *vt : TY_UNK;
}

static int assign(struct checker *C, struct node *n)
{
	struct node *l = n->a;
	if (!lvalue(C, l, probe_tok_name(n->op)))
		return TY_UNK;
	int rty;
	if (n->op == T_ASSIGN) {
		rty = need(C, n->b, TY_UNK, "the assigned value");
	} else if (n->op == T_CAT_ASSIGN) {
		rty = need(C, n->b, TY_STR, "the right side of '.='");
	} else {
		rty = need(C, n->b, TY_LONG, "the right side of the assignment");
		rty = TY_LONG;
	}
	if (C->err)
		return TY_UNK;
	if (l->k == N_ARR) {
		int ety = array_ref(C, l, l->name, l->n, l->v);
		if (C->err)
			return TY_UNK;
		struct pglobal *g = C->sc->globals[l->slot];
		if (ety == TY_STATS)
			return fail(C, l, "'%s' holds statistics (<<<): its elements cannot be assigned", l->name);
		if (rty == TY_KV)
			rty = TY_UNK;
		if (n->op == T_CAT_ASSIGN && ety == TY_LONG)
			return fail(C, n, "'.=' on '%s', whose elements are numbers", l->name);
		if (n->op != T_ASSIGN && n->op != T_CAT_ASSIGN && ety == TY_STR)
			return fail(C, n, "%s on '%s', whose elements are strings", probe_tok_name(n->op), l->name);
		if (rty != TY_UNK) {
			if (g->ty == TY_UNK) {
				g->ty = rty;
				C->changed = 1;
			} else if (!compatible(g->ty, rty)) {
				return fail(C, n, "type mismatch: elements of '%s' are %s but this assigns %s",
					    l->name, ty_name(g->ty), ty_name(rty));
			}
		}
		return g->ty ? g->ty : rty;
	}
	int vty = scalar_var(C, l);
	if (C->err)
		return TY_UNK;
	if (n->op == T_CAT_ASSIGN && vty == TY_LONG)
		return fail(C, n, "'.=' on '%s', which is a number", l->name);
	if (n->op != T_ASSIGN && n->op != T_CAT_ASSIGN && vty == TY_STR)
		return fail(C, n, "%s on '%s', which is a string", probe_tok_name(n->op), l->name);
	unify(C, l, n->op == T_CAT_ASSIGN ? TY_STR : rty, "variable");
	return rty;
}

static int stats_operand(struct checker *C, struct node *n, const char *opname)
{
	/* x or a[k...] holding statistics */
	if (n->k == N_VAR) {
		resolve_var(C, n);
		if (!n->is_global)
			return fail(C, n, "%s: '%s' must be a global (statistics are collected in globals)", opname, n->name);
		struct pglobal *g = C->sc->globals[n->slot];
		if (g->is_array && !C->in_defined)
			return fail(C, n, "%s: '%s' is an array: give the keys (%s[k])", opname, n->name, n->name);
		g->used = 2;
		return g->ty;
	}
	if (n->k == N_ARR)
		return array_ref(C, n, n->name, n->n, n->v);
	return fail(C, n, "%s needs a statistics variable or array element (x or a[k])", opname);
}

static int at_op(struct checker *C, struct node *n)
{
	static const char *const names[] = { "count", "sum", "min", "max", "avg", "hist_log", "hist_linear" };
	char opname[32];
	snprintf(opname, sizeof(opname), "@%s()", names[n->op]);
	int want = n->op == AT_HIST_LINEAR ? 4 : 1;
	if ((int)n->n != want)
		return fail(C, n, "%s takes %d argument%s, got %zu%s", opname, want, want == 1 ? "" : "s", n->n,
			    n->op == AT_HIST_LINEAR ? " (@hist_linear(x, low, high, step))" : "");
	int ty = stats_operand(C, n->v[0], opname);
	if (C->err)
		return TY_UNK;
	if (ty != TY_STATS && ty != TY_UNK)
		return fail(C, n->v[0], "%s: '%s' is %s, not statistics (collect values with %s <<< value)",
			    opname, n->v[0]->name, ty_name(ty), n->v[0]->name);
	if (n->op == AT_HIST_LINEAR) {
		int64_t p[3];
		for (int i = 0; i < 3; i++) {
			struct node *a = n->v[i + 1];
			int neg = 0;
			if (a->k == N_UNARY && a->op == T_MINUS && a->a->k == N_NUM) {
				neg = 1;
				a = a->a;
			}
			if (a->k != N_NUM)
				return fail(C, n->v[i + 1], "@hist_linear(): low, high and step must be number literals");
			p[i] = neg ? (int64_t)(0 - (uint64_t)a->num) : a->num;
		}
		if (p[2] <= 0 || p[1] <= p[0])
			return fail(C, n, "@hist_linear(): need low < high and step > 0 (got %lld, %lld, %lld)",
				    (long long)p[0], (long long)p[1], (long long)p[2]);
		/* the span as unsigned: high > low, so it cannot wrap */
		uint64_t nb = ((uint64_t)p[1] - (uint64_t)p[0]) / (uint64_t)p[2];
		if (nb > 100000)
			return fail(C, n, "@hist_linear(): %llu buckets is too many (at most 100000)",
				    (unsigned long long)nb);
		struct pglobal *g = C->sc->globals[n->v[0]->slot];
		if (g->lin.set && (g->lin.lo != p[0] || g->lin.hi != p[1] || g->lin.step != p[2]))
			return fail(C, n, "@hist_linear(): '%s' is already printed with other bounds (%lld, %lld, %lld)",
				    g->name, (long long)g->lin.lo, (long long)g->lin.hi, (long long)g->lin.step);
		g->lin.set = 1;
		g->lin.lo = p[0];
		g->lin.hi = p[1];
		g->lin.step = p[2];
	}
	return TY_LONG;
}

static int expr_inner(struct checker *C, struct node *n)
{
	int ty;
	switch (n->k) {
	case N_NUM:
		return TY_LONG;
	case N_STR:
		return TY_STR;
	case N_VAR:
		return scalar_var(C, n);
	case N_ARR:
		return array_ref(C, n, n->name, n->n, n->v);
	case N_CTX:
		return ctxvar(C, n);
	case N_CALL: {
		int b = probe_builtin_find(n->name);
		if (b >= 0) {
			for (size_t i = 0; i < C->sc->nfuncs; i++)
				if (!strcmp(C->sc->funcs[i]->name, n->name))
					return call_user(C, n);
			return call_builtin(C, n, b);
		}
		return call_user(C, n);
	}
	case N_AT:
		if (n->op == AT_HIST_LOG || n->op == AT_HIST_LINEAR) {
			if (!C->in_print)
				return fail(C, n, "@%s() prints a histogram: use it as print(@%s(...)) or println(...)",
					    n->name, n->name);
			at_op(C, n);
			return TY_VOID;
		}
		return at_op(C, n);
	case N_CAST: {
		if (n->n < 2 || n->n > 3)
			return fail(C, n, "@cast() takes 2 or 3 arguments: @cast(address, \"struct T\"[, \"module\"]), got %zu", n->n);
		need(C, n->v[0], TY_LONG, "the address in @cast()");
		for (size_t i = 1; i < n->n; i++)
			if (n->v[i]->k != N_STR)
				return fail(C, n->v[i], "@cast(): the %s must be a string literal",
					    i == 1 ? "type" : "module");
		if (C->types) {
			struct kdx_type *t = ktype_find(C, n->v[1], n->v[1]->str);
			if (t)
				n->ktype = kdx_type_pointer_to(C->types, t);
		}
		return TY_KV;
	}
	case N_DEFINED:
		if (n->n != 1)
			return fail(C, n, "@defined() takes 1 argument, got %zu", n->n);
		C->in_defined++;
		expr(C, n->v[0]);
		C->in_defined--;
		return TY_LONG;
	case N_BIN: {
		int op = n->op;
		if (op == T_DOT) {
			need(C, n->a, TY_STR, "left side of '.' (string concatenation)");
			need(C, n->b, TY_STR, "right side of '.' (string concatenation)");
			return TY_STR;
		}
		if (op == T_EQ || op == T_NE || op == T_LT || op == T_GT || op == T_LE || op == T_GE) {
			int a = need(C, n->a, TY_UNK, "left side of the comparison");
			int b = need(C, n->b, TY_UNK, "right side of the comparison");
			if (!C->err && !compatible(a, b))
				fail(C, n, "comparison of %s with %s", ty_name(a), ty_name(b));
			return TY_LONG;
		}
		if (op == T_PLUS && (n->a->k == N_STR || n->b->k == N_STR))
			return fail(C, n, "'+' on a string: concatenate strings with '.'");
		char lw[64], rw[64];
		snprintf(lw, sizeof(lw), "left side of %s", probe_tok_name(op));
		snprintf(rw, sizeof(rw), "right side of %s", probe_tok_name(op));
		int a = need(C, n->a, TY_LONG, lw);
		need(C, n->b, TY_LONG, rw);
		if (C->err)
			return TY_UNK;
		/* pointer arithmetic keeps the kernel type */
		if (a == TY_KV && (op == T_PLUS || op == T_MINUS)) {
			n->ktype = n->a->ktype;
			return TY_KV;
		}
		return TY_LONG;
	}
	case N_LAND:
	case N_LOR:
		need(C, n->a, TY_LONG, "operand of the logical operator");
		need(C, n->b, TY_LONG, "operand of the logical operator");
		return TY_LONG;
	case N_UNARY:
		need(C, n->a, n->op == T_NOT ? TY_UNK : TY_LONG, "operand of the unary operator");
		return TY_LONG;
	case N_ADDR:
		ty = expr(C, n->a);
		if (n->a->k != N_MEMBER && n->a->k != N_INDEX && n->a->k != N_CTX && n->a->k != N_DEREF)
			return fail(C, n, "'&' takes the address of kernel data ($var->member, $var[i]); script variables have no address");
		if (n->a->ktype && C->types)
			n->ktype = kdx_type_pointer_to(C->types, n->a->ktype);
		return TY_KV;
	case N_DEREF:
		ty = need(C, n->a, TY_LONG, "operand of '*'");
		if (!C->err && ty != TY_KV && ty != TY_UNK)
			return fail(C, n, "'*' dereferences a kernel pointer; use kernel_long(addr) & co. to read raw memory");
		if (n->a->ktype) {
			struct kdx_type *u = kdx_type_unqualified(n->a->ktype);
			if (u && (u->kind == KDX_TYPE_POINTER || u->kind == KDX_TYPE_ARRAY))
				n->ktype = u->target;
		}
		return TY_KV;
	case N_PREINC:
	case N_POSTINC:
		if (!lvalue(C, n->a, probe_tok_name(n->op)))
			return TY_UNK;
		if (n->a->k == N_ARR) {
			ty = array_ref(C, n->a, n->a->name, n->a->n, n->a->v);
			if (C->err)
				return TY_UNK;
			if (ty == TY_STR || ty == TY_STATS)
				return fail(C, n, "%s on an element of '%s', which holds %s", probe_tok_name(n->op),
					    n->a->name, ty == TY_STR ? "strings" : "statistics");
			struct pglobal *g = C->sc->globals[n->a->slot];
			if (g->ty == TY_UNK) {
				g->ty = TY_LONG;
				C->changed = 1;
			}
		} else {
			ty = scalar_var(C, n->a);
			if (ty == TY_STR || ty == TY_STATS)
				return fail(C, n, "%s on '%s', which is %s", probe_tok_name(n->op), n->a->name, ty_name(ty));
			unify(C, n->a, TY_LONG, "variable");
		}
		return TY_LONG;
	case N_ASSIGN:
		return assign(C, n);
	case N_AGGADD: {
		struct node *l = n->a;
		need(C, n->b, TY_LONG, "the value collected with <<<");
		if (C->err)
			return TY_UNK;
		if (l->k == N_ARR) {
			ty = array_ref(C, l, l->name, l->n, l->v);
			if (C->err)
				return TY_UNK;
			struct pglobal *g = C->sc->globals[l->slot];
			if (ty != TY_UNK && ty != TY_STATS)
				return fail(C, n, "'<<<' on '%s', whose elements are %s", l->name, ty_name(ty));
			if (g->ty != TY_STATS) {
				g->ty = TY_STATS;
				C->changed = 1;
			}
			return TY_VOID;
		}
		if (l->k != N_VAR)
			return fail(C, n, "'<<<' needs a global variable or array element on its left");
		scalar_var(C, l);
		if (!l->is_global)
			return fail(C, l, "'%s' collects statistics with <<< and must be declared global", l->name);
		unify(C, l, TY_STATS, "variable");
		return TY_VOID;
	}
	case N_TERNARY: {
		need(C, n->a, TY_UNK, "the condition");
		int a = need(C, n->b, TY_UNK, "the second operand of ?:");
		int b = need(C, n->c, TY_UNK, "the third operand of ?:");
		if (!C->err && !compatible(a, b))
			return fail(C, n, "the branches of ?: are %s and %s", ty_name(a), ty_name(b));
		return a != TY_UNK ? a : b;
	}
	case N_MEMBER:
		ty = expr(C, n->a);
		if (C->err)
			return TY_UNK;
		if (ty != TY_KV && ty != TY_UNK)
			return fail(C, n, "'->%s' applied to %s: members exist on kernel values ($task, @cast(...), ...)",
				    n->name, ty_name(ty));
		n->ktype = ktype_member(C, n, n->a->ktype);
		return TY_KV;
	case N_INDEX:
		ty = expr(C, n->a);
		need(C, n->b, TY_LONG, "the index");
		if (C->err)
			return TY_UNK;
		if (ty != TY_KV && ty != TY_UNK)
			return fail(C, n, "'[...]' applied to %s (arrays are indexed by their name: a[k])",
				    ty_name(ty));
		if (n->a->ktype) {
			struct kdx_type *u = kdx_type_unqualified(n->a->ktype);
			if (u && (u->kind == KDX_TYPE_POINTER || u->kind == KDX_TYPE_ARRAY))
				n->ktype = u->target;
			else if (u && !C->in_defined) {
				char *s = kdx_type_to_string(n->a->ktype, NULL);
				fail(C, n, "'[...]' applied to a value of type '%s': expected an array or a pointer", s ? s : "?");
				free(s);
			}
		}
		return TY_KV;
	case N_PRETTY:
		ty = expr(C, n->a);
		if (!C->err && ty != TY_KV && ty != TY_UNK)
			return fail(C, n, "'%s' pretty-prints kernel values, not %s", n->num == 1 ? "$" : "$$", ty_name(ty));
		return TY_STR;
	case N_IN:
		array_ref(C, n, n->name, n->n, n->v);
		return TY_LONG;
	default:
		return fail(C, n, "internal error: unexpected node in an expression");
	}
}

/* The parser bounds nesting, but a chain like 1 + 1 + ... or a->b->...
 * builds a tree as deep as it is long; the checker and the interpreter
 * recurse on it. Refuse it here, before it can overflow the stack. */
#define CHECK_MAX_DEPTH 1000

static int expr(struct checker *C, struct node *n)
{
	if (C->err)
		return TY_UNK;
	if (C->depth >= CHECK_MAX_DEPTH)
		return fail(C, n, "expression too deep (more than %d operators in a chain)", CHECK_MAX_DEPTH);
	C->depth++;
	int ty = expr_inner(C, n);
	C->depth--;
	n->ty = ty;
	return ty;
}

/* ----------------------------------------------------------- statements */

static void stmt(struct checker *C, struct node *n);

static void foreach_stmt(struct checker *C, struct node *n)
{
	int gi;
	struct pglobal *g = find_global(C, n->name, &gi);
	if (!g) {
		fail(C, n->a, "foreach over '%s', which is not a declared global array", n->name);
		return;
	}
	n->a->slot = gi;
	n->a->is_global = 1;
	if (!g->is_array && g->used == 2) {
		fail(C, n->a, "foreach over '%s', which is a scalar", n->name);
		return;
	}
	g->is_array = 1;
	if (g->nkeys && g->nkeys != (int)n->n) {
		fail(C, n, "foreach uses %zu key%s but '%s' has %d", n->n, n->n == 1 ? "" : "s",
		     n->name, g->nkeys);
		return;
	}
	if (!g->nkeys) {
		g->nkeys = (int)n->n;
	}
	for (size_t i = 0; i < n->n; i++) {
		resolve_var(C, n->v[i]);
		if (n->v[i]->is_global) {
			fail(C, n->v[i], "foreach key '%s' is a global: use a local name", n->v[i]->name);
			return;
		}
		unify(C, n->v[i], g->keyty[i], "foreach key");
	}
	if (n->valvar) {
		resolve_var(C, n->valvar);
		if (n->valvar->is_global) {
			fail(C, n->valvar, "foreach value '%s' is a global: use a local name", n->valvar->name);
			return;
		}
		if (g->ty == TY_STATS) {
			fail(C, n->valvar, "foreach (v = [...] in %s): '%s' holds statistics; use @count(%s[k]) & co. in the body",
			     n->name, n->name, n->name);
			return;
		}
		unify(C, n->valvar, g->ty, "foreach value");
	}
	if (n->sort_agg && g->ty != TY_STATS && g->ty != TY_UNK) {
		fail(C, n->a, "foreach sorted by an aggregate, but '%s' holds %s, not statistics", n->name, ty_name(g->ty));
		return;
	}
	if (n->b)
		need(C, n->b, TY_LONG, "the foreach limit");
	C->loops++;
	stmt(C, n->c);
	C->loops--;
}

static void stmt(struct checker *C, struct node *n)
{
	if (C->err || !n)
		return;
	switch (n->k) {
	case N_BLOCK:
		for (size_t i = 0; i < n->n; i++)
			stmt(C, n->v[i]);
		break;
	case N_IF:
		need(C, n->a, TY_UNK, "the if condition");
		stmt(C, n->b);
		stmt(C, n->c);
		break;
	case N_WHILE:
		need(C, n->a, TY_UNK, "the while condition");
		stmt(C, n->b);
		break;
	case N_FOR:
		if (n->a)
			expr(C, n->a);
		if (n->b)
			need(C, n->b, TY_UNK, "the for condition");
		if (n->c)
			expr(C, n->c);
		stmt(C, n->d);
		break;
	case N_FOREACH:
		foreach_stmt(C, n);
		break;
	case N_RETURN:
		if (n->a) {
			int ty = need(C, n->a, TY_UNK, "the returned value");
			struct pfunc *f = C->func;
			if (ty == TY_KV || ty == TY_UNK)
				break;
			if (f->rettype == TY_UNK || f->rettype == TY_VOID) {
				f->rettype = ty;
				C->changed = 1;
			} else if (!compatible(f->rettype, ty)) {
				fail(C, n, "%s() returns %s elsewhere but %s here", f->name,
				     ty_name(f->rettype), ty_name(ty));
			}
		}
		break;
	case N_DELETE:
		if (n->a->k == N_VAR) {
			int gi;
			if (find_global(C, n->a->name, &gi) && C->sc->globals[gi]->is_array) {
				n->a->slot = gi;
				n->a->is_global = 1;
				break;
			}
			scalar_var(C, n->a);
		} else {
			array_ref(C, n->a, n->a->name, n->a->n, n->a->v);
		}
		break;
	case N_EXPRSTMT:
		expr(C, n->a);
		break;
	case N_TRY:
		stmt(C, n->a);
		if (n->valvar) {
			resolve_var(C, n->valvar);
			unify(C, n->valvar, TY_STR, "catch variable");
		}
		stmt(C, n->b);
		break;
	default:
		break;
	}
}

static unsigned point_ctx(enum pp_kind k)
{
	switch (k) {
	case PP_TASK: case PP_TASK_PROCESS: return CTX_TASK;
	case PP_TASK_FRAME: return CTX_TASK | CTX_FRAME;
	case PP_LIST: case PP_HLIST: return CTX_ENTRY;
	case PP_MODULE: return CTX_MODULE;
	case PP_CPU: return CTX_CPU;
	default: return 0;
	}
}

static void check_probe(struct checker *C, struct pprobe *p, struct scope *sp)
{
	char where[160];
	unsigned ctx = ~0u;
	C->entry_type = NULL;
	for (size_t i = 0; i < p->npoints; i++) {
		struct ppoint *pt = &p->points[i];
		ctx &= point_ctx(pt->kind);
		if ((pt->kind == PP_LIST || pt->kind == PP_HLIST) && C->types && !C->entry_type) {
			struct node at = { .line = pt->arg_line[1], .col = pt->arg_col[1] };
			struct kdx_type *t = ktype_find(C, &at, pt->args[1]);
			if (t) {
				struct node mn = { .line = pt->arg_line[2], .col = pt->arg_col[2], .name = pt->args[2] };
				ktype_member(C, &mn, t);
				C->entry_type = kdx_type_pointer_to(C->types, t);
			}
		}
	}
	snprintf(where, sizeof(where), "probe %s%s", p->points[0].text, p->npoints > 1 ? ", ..." : "");
	C->where = where;
	C->ctx = ctx;
	C->func = NULL;
	C->scope = sp;
	if (p->cond)
		need(C, p->cond, TY_UNK, "the probe condition");
	stmt(C, p->body);
}

static void check_func(struct checker *C, struct pfunc *f, struct scope *sp)
{
	char where[160];
	snprintf(where, sizeof(where), "function %s()", f->name);
	C->where = where;
	C->ctx = 0;
	C->func = f;
	C->scope = sp;
	if (!sp->n) {
		for (int i = 0; i < f->nparams; i++) {
			int s = scope_add(C, f->params[i], f->line);
			sp->types[s] = f->ptypes[i];
		}
		sp->nparams = f->nparams;
	}
	stmt(C, f->body);
}

struct kdx_error *probe_check(struct pscript *sc, struct kdx_types *types)
{
	struct checker C = { .sc = sc, .types = types };
	size_t nsc = sc->nprobes + sc->nfuncs;
	struct scope *scopes = calloc(nsc ? nsc : 1, sizeof(*scopes));
	if (!scopes)
		return kdx_error_nomem();

	for (size_t g = 0; g < sc->nglobals; g++)
		if (sc->globals[g]->init)
			sc->globals[g]->ty = sc->globals[g]->init->k == N_NUM ? TY_LONG : TY_STR;
	/* Types flow between functions and probes: iterate to a fixed point
	 * (bounded; each pass can only refine UNK into something). */
	for (C.pass = 0; C.pass < 6 && !C.err; C.pass++) {
		C.changed = 0;
		for (size_t i = 0; i < sc->nfuncs && !C.err; i++)
			check_func(&C, sc->funcs[i], &scopes[sc->nprobes + i]);
		for (size_t i = 0; i < sc->nprobes && !C.err; i++)
			check_probe(&C, sc->probes[i], &scopes[i]);
		if (!C.changed)
			break;
	}
	for (size_t i = 0; i < nsc; i++) {
		if (!C.err) {
			char **names = arena_alloc(&sc->arena, (scopes[i].n + 1) * sizeof(char *));
			int *types = arena_alloc(&sc->arena, (scopes[i].n + 1) * sizeof(int));
			for (int k = 0; k < scopes[i].n; k++) {
				names[k] = scopes[i].names[k];
				types[k] = scopes[i].types[k];
			}
			if (i < sc->nprobes) {
				sc->probes[i]->nlocals = scopes[i].n;
				sc->probes[i]->locals = names;
				sc->probes[i]->ltypes = types;
			} else {
				sc->funcs[i - sc->nprobes]->nlocals = scopes[i].n;
				sc->funcs[i - sc->nprobes]->locals = names;
				sc->funcs[i - sc->nprobes]->ltypes = types;
			}
		}
		free(scopes[i].names);
		free(scopes[i].types);
		free(scopes[i].lines);
	}
	free(scopes);
	return C.err;
}
