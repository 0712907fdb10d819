/*
 * Probe language builtins: printing (printf & co, SystemTap's format
 * language), strings, raw kernel reads, task context (execname, pid...),
 * symbols and backtraces, type helpers (container_of, sizeof, offsetof),
 * exit() and error().
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/interp.h"
#include "kernel/tasks.h"
#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"

#define L TY_LONG
#define S TY_STR
#define K TY_KV
#define V TY_VOID

const struct builtin_desc probe_builtins[B_NBUILTINS] = {
	[B_PRINTF] = { "printf", 1, -1, V, "s*" },
	[B_SPRINTF] = { "sprintf", 1, -1, S, "s*" },
	[B_PRINT] = { "print", 1, -1, V, "*" },
	[B_PRINTLN] = { "println", 0, -1, V, "*" },
	[B_SPRINT] = { "sprint", 1, -1, S, "*" },
	[B_SPRINTLN] = { "sprintln", 0, -1, S, "*" },
	[B_LOG] = { "log", 1, 1, V, "s" },
	[B_WARN] = { "warn", 1, 1, V, "s" },
	[B_STRLEN] = { "strlen", 1, 1, L, "s" },
	[B_SUBSTR] = { "substr", 2, 3, S, "snn" },
	[B_ISINSTR] = { "isinstr", 2, 2, L, "ss" },
	[B_STRTOL] = { "strtol", 1, 2, L, "sn" },
	[B_STR_REPLACE] = { "str_replace", 3, 3, S, "sss" },
	[B_STRINGAT] = { "stringat", 2, 2, L, "sn" },
	[B_TEXT_STR] = { "text_str", 1, 1, S, "s" },
	[B_KSTRING] = { "kernel_string", 1, 2, S, "*s" },
	[B_KSTRING_N] = { "kernel_string_n", 2, 2, S, "*n" },
	[B_KLONG] = { "kernel_long", 1, 1, L, "n" },
	[B_KINT] = { "kernel_int", 1, 1, L, "n" },
	[B_KSHORT] = { "kernel_short", 1, 1, L, "n" },
	[B_KCHAR] = { "kernel_char", 1, 1, L, "n" },
	[B_KPOINTER] = { "kernel_pointer", 1, 1, L, "n" },
	[B_EXECNAME] = { "execname", 0, 0, S, "" },
	[B_PID] = { "pid", 0, 0, L, "" },
	[B_TID] = { "tid", 0, 0, L, "" },
	[B_PPID] = { "ppid", 0, 0, L, "" },
	[B_UID] = { "uid", 0, 0, L, "" },
	[B_CPU] = { "cpu", 0, 0, L, "" },
	[B_PROBEFUNC] = { "probefunc", 0, 0, S, "" },
	[B_PP] = { "pp", 0, 0, S, "" },
	[B_PRINT_BACKTRACE] = { "print_backtrace", 0, 0, V, "" },
	[B_BACKTRACE] = { "backtrace", 0, 0, S, "" },
	[B_SYMNAME] = { "symname", 1, 1, S, "n" },
	[B_SYMDATA] = { "symdata", 1, 1, S, "n" },
	[B_CONTAINER_OF] = { "container_of", 3, 3, K, "nss" },
	[B_SIZEOF] = { "sizeof", 1, 1, L, "*" },
	[B_OFFSETOF] = { "offsetof", 2, 2, L, "ss" },
	[B_TASK_CURRENT] = { "task_current", 0, 0, K, "" },
	[B_PER_CPU] = { "per_cpu", 2, 2, K, "sn" },
	[B_EXIT] = { "exit", 0, 0, V, "" },
	[B_ERROR] = { "error", 1, 1, V, "s" },
	[B_ABS] = { "abs", 1, 1, L, "n" },
	[B_MIN] = { "min", 2, 2, L, "nn" },
	[B_MAX] = { "max", 2, 2, L, "nn" },
	[B_TASK_STATE] = { "task_state", 1, 1, S, "n" },
	[B_TASK_EXECNAME] = { "task_execname", 1, 1, S, "n" },
	[B_TASK_PID] = { "task_pid", 1, 1, L, "n" },
	[B_TASK_TID] = { "task_tid", 1, 1, L, "n" },
	[B_TASK_PARENT] = { "task_parent", 1, 1, K, "n" },
	[B_TASK_CPU] = { "task_cpu", 1, 1, L, "n" },
};

#undef L
#undef S
#undef K
#undef V

int probe_builtin_find(const char *name)
{
	for (int i = 0; i < B_NBUILTINS; i++)
		if (probe_builtins[i].name && !strcmp(probe_builtins[i].name, name))
			return i;
	return -1;
}

int probe_at_find(const char *name)
{
	static const char *const names[] = { "count", "sum", "min", "max", "avg", "hist_log", "hist_linear" };
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

/* --------------------------------------------------------------- formats */

struct spec {
	char flags[8];
	int width;              /* -1: none */
	int prec;               /* -1: none */
	char conv;
	size_t len;             /* bytes of the spec after '%' */
};

static int parse_spec(const char *p, const char *end, struct spec *sp)
{
	const char *q = p;
	size_t nf = 0;
	memset(sp, 0, sizeof(*sp));
	sp->width = sp->prec = -1;
	while (q < end && strchr("-+ #0", *q) && nf < sizeof(sp->flags) - 1)
		sp->flags[nf++] = *q++;
	if (q < end && isdigit((unsigned char)*q)) {
		sp->width = 0;
		while (q < end && isdigit((unsigned char)*q) && sp->width < 10000)
			sp->width = sp->width * 10 + *q++ - '0';
		if (sp->width >= 10000)
			return -1;
	}
	if (q < end && *q == '.') {
		q++;
		sp->prec = 0;
		while (q < end && isdigit((unsigned char)*q) && sp->prec < 10000)
			sp->prec = sp->prec * 10 + *q++ - '0';
		if (sp->prec >= 10000)
			return -1;
	}
	while (q < end && strchr("hlLqjzt", *q))
		q++;
	if (q >= end || !strchr("diuxXocsp", *q))
		return -1;
	sp->conv = *q++;
	sp->len = (size_t)(q - p);
	return 0;
}

int probe_format_count(const char *fmt, size_t len, const char **bad, char *convs, size_t maxconvs)
{
	const char *p = fmt, *end = fmt + len;
	int n = 0;
	while (p < end) {
		if (*p != '%') {
			p++;
			continue;
		}
		if (p + 1 < end && p[1] == '%') {
			p += 2;
			continue;
		}
		struct spec sp;
		if (parse_spec(p + 1, end, &sp)) {
			*bad = p + 1;
			return -1;
		}
		if ((size_t)n < maxconvs)
			convs[n] = sp.conv;
		n++;
		p += 1 + sp.len;
	}
	return n;
}

int probe_format(struct interp *I, struct node *at, const char *fmt, size_t flen,
		 struct val *args, size_t nargs, struct kdx_strbuf *out)
{
	const char *p = fmt, *end = fmt + flen;
	size_t ai = 0;
	while (p < end) {
		const char *pct = memchr(p, '%', (size_t)(end - p));
		if (!pct) {
			kdx_strbuf_append(out, p, (size_t)(end - p));
			break;
		}
		kdx_strbuf_append(out, p, (size_t)(pct - p));
		if (pct + 1 < end && pct[1] == '%') {
			kdx_strbuf_append(out, "%", 1);
			p = pct + 2;
			continue;
		}
		struct spec sp;
		if (parse_spec(pct + 1, end, &sp))
			return rt_error(I, at, "bad conversion in the format \"%.*s\"", (int)flen, fmt);
		p = pct + 1 + sp.len;
		if (ai >= nargs)
			return rt_error(I, at, "the format has more conversions than arguments");
		struct val *a = &args[ai++];
		char cf[48];
		int n = snprintf(cf, sizeof(cf), "%%%s", sp.flags);
		if (sp.width >= 0)
			n += snprintf(cf + n, sizeof(cf) - n, "%d", sp.width);
		if (sp.prec >= 0)
			n += snprintf(cf + n, sizeof(cf) - n, ".%d", sp.prec);
		if (sp.conv == 's') {
			char *s;
			if (val_to_str(I, at, a, &s))
				return -1;
			snprintf(cf + n, sizeof(cf) - n, "s");
			kdx_strbuf_printf(out, cf, s);
			free(s);
			continue;
		}
		int64_t v;
		if (a->k == V_STR)
			return rt_error(I, at, "%%%c given the string \"%.40s\" (use %%s)", sp.conv, a->s);
		if (val_to_int(I, at, a, &v))
			return -1;
		switch (sp.conv) {
		case 'd': case 'i':
			snprintf(cf + n, sizeof(cf) - n, "lld");
			kdx_strbuf_printf(out, cf, (long long)v);
			break;
		case 'c':
			snprintf(cf + n, sizeof(cf) - n, "c");
			kdx_strbuf_printf(out, cf, (int)(unsigned char)v);
			break;
		case 'p':
			kdx_strbuf_printf(out, "0x%016llx", (unsigned long long)v);
			break;
		default: {
			char c[2] = { sp.conv == 'u' ? 'u' : sp.conv, 0 };
			snprintf(cf + n, sizeof(cf) - n, "ll%s", c);
			kdx_strbuf_printf(out, cf, (unsigned long long)v);
			break;
		}
		}
	}
	return 0;
}

/* ------------------------------------------------------------- helpers */

static void args_free(struct val *vals, size_t n)
{
	for (size_t i = 0; i < n; i++)
		val_free(&vals[i]);
	free(vals);
}

static int need_dump(struct interp *I, struct node *n)
{
	if (I->s->target && I->s->types)
		return 0;
	return rt_error(I, n, "%s() needs a dump (no dump is open)", n->name);
}

static int print_values(struct interp *I, struct node *n, struct val *vals, struct kdx_strbuf *b)
{
	for (size_t i = 0; i < n->n; i++) {
		struct node *a = n->v[i];
		if (a->k == N_AT && (a->op == AT_HIST_LOG || a->op == AT_HIST_LINEAR)) {
			struct node *t = a->v[0];
			struct pstat *st = NULL;
			if (t->k == N_VAR) {
				st = I->g[t->slot].st;
			} else {
				st = probe_stat_lookup(I, t);
				if (I->err)
					return -1;
			}
			if (stat_print_hist(I, a, st, &I->sc->globals[t->slot]->lin, a->op, b))
				return -1;
			continue;
		}
		char *s;
		if (val_to_str(I, a, &vals[i], &s))
			return -1;
		kdx_strbuf_append(b, s, strlen(s));
		free(s);
	}
	return 0;
}

static int read_str(struct interp *I, struct node *n, struct val *a, size_t maxlen, char **ret)
{
	if (a->k == V_KV && kv_is_stringish(&a->kv)) {
		char *s;
		if (kv_to_str(I, n, &a->kv, &s))
			return -1;
		if (strlen(s) > maxlen)
			s[maxlen] = 0;
		*ret = s;
		return 0;
	}
	int64_t addr;
	if (val_to_int(I, n, a, &addr))
		return -1;
	if (need_dump(I, n))
		return -1;
	char *buf = malloc(maxlen + 1);
	if (!buf)
		abort();
	struct kdx_error *e = kdx_read_cstr(I->s, (uint64_t)addr, buf, maxlen + 1);
	if (e) {
		free(buf);
		return rt_kerr(I, n, e);
	}
	*ret = buf;
	return 0;
}

static int read_int(struct interp *I, struct node *n, uint64_t addr, int size, int64_t *ret)
{
	struct kdx_error *e;
	if (need_dump(I, n))
		return -1;
	switch (size) {
	case 8: {
		uint64_t v;
		e = kdx_read_u64(I->s, addr, &v);
		*ret = (int64_t)v;
		break;
	}
	case 4: {
		uint32_t v;
		e = kdx_read_u32(I->s, addr, &v);
		*ret = (int32_t)v;
		break;
	}
	case 2: {
		uint16_t v;
		e = kdx_read_u16(I->s, addr, &v);
		*ret = (int16_t)v;
		break;
	}
	default: {
		uint8_t v;
		e = kdx_read_u8(I->s, addr, &v);
		*ret = (int8_t)v;
		break;
	}
	}
	return e ? rt_kerr(I, n, e) : 0;
}

static char *symdata(struct interp *I, uint64_t addr, int with_size)
{
	char buf[256];
	uint64_t off = 0;
	const struct kdx_symbol *sym = I->s->symtab ? kdx_symbol_by_addr(I->s->symtab, addr, &off) : NULL;
	if (!sym) {
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)addr);
		return strdup(buf);
	}
	if (with_size)
		snprintf(buf, sizeof(buf), "%s+0x%llx/0x%llx [%s]", sym->name, (unsigned long long)off,
			 (unsigned long long)sym->size, sym->module ? sym->module : "kernel");
	else
		snprintf(buf, sizeof(buf), "%s", sym->name);
	return strdup(buf);
}

/* A member path read from a task: uid() = task->cred->uid.val */
static int task_member_int(struct interp *I, struct node *n, const struct kdx_task *t,
			   const char *const *path, int64_t *ret)
{
	struct val v = { 0 };
	if (!I->ty_task_ptr)
		return rt_error(I, n, "struct task_struct is not in the debuginfo");
	kdx_value_init_int(&v.kv, I->ty_task_ptr, t->addr);
	v.k = V_KV;
	for (; *path; path++) {
		struct kdx_value d, m;
		struct kdx_type *u = kdx_type_unqualified(v.kv.type);
		memset(&d, 0, sizeof(d));
		memset(&m, 0, sizeof(m));
		struct kdx_error *e = NULL;
		if (u && u->kind == KDX_TYPE_POINTER) {
			e = kdx_value_deref(I->s, &v.kv, &d);
			if (e) {
				val_free(&v);
				return rt_kerr(I, n, e);
			}
			kdx_value_release(&v.kv);
			v.kv = d;
		}
		e = kdx_value_member(I->s, &v.kv, *path, &m);
		if (e) {
			val_free(&v);
			return rt_kerr(I, n, e);
		}
		kdx_value_release(&v.kv);
		v.kv = m;
	}
	int r = val_to_int(I, n, &v, ret);
	val_free(&v);
	return r;
}

static int need_task(struct interp *I, struct node *n, const struct kdx_task **t)
{
	*t = ctx_task(I);
	return 0;
}

/* ------------------------------------------------------------- dispatch */

int builtin_call(struct interp *I, struct node *n, struct val *out)
{
	struct val *a = calloc(n->n ? n->n : 1, sizeof(*a));
	struct kdx_strbuf b = { 0 };
	const struct kdx_task *t;
	char *s = NULL, *s2 = NULL, *s3 = NULL;
	int64_t x, y;
	int r = -1;

	if (!a)
		abort();
	/* histograms are not values: print() handles them itself */
	for (size_t i = 0; i < n->n; i++) {
		struct node *an = n->v[i];
		if (an->k == N_AT && (an->op == AT_HIST_LOG || an->op == AT_HIST_LINEAR))
			continue;
		if (eval(I, an, &a[i]))
			goto out;
	}
	switch (n->builtin) {
	case B_PRINTF:
	case B_SPRINTF:
		if (val_to_str(I, n->v[0], &a[0], &s) ||
		    probe_format(I, n, s, strlen(s), a + 1, n->n - 1, &b))
			goto out;
		if (n->builtin == B_PRINTF) {
			fwrite(b.s ? b.s : "", 1, b.len, I->out);
			val_set_int(out, 0);
		} else {
			val_take_str_max(I, out, kdx_strbuf_take(&b));
			if (!out->s)
				val_set_str(out, "");
		}
		break;
	case B_PRINT:
	case B_PRINTLN:
	case B_SPRINT:
	case B_SPRINTLN:
		if (print_values(I, n, a, &b))
			goto out;
		if (n->builtin == B_PRINTLN || n->builtin == B_SPRINTLN)
			kdx_strbuf_append(&b, "\n", 1);
		if (n->builtin == B_PRINT || n->builtin == B_PRINTLN) {
			fwrite(b.s ? b.s : "", 1, b.len, I->out);
			val_set_int(out, 0);
		} else {
			char *str = kdx_strbuf_take(&b);
			val_take_str_max(I, out, str ? str : strdup(""));
		}
		break;
	case B_LOG:
	case B_WARN:
		if (val_to_str(I, n, &a[0], &s))
			goto out;
		if (n->builtin == B_LOG) {
			fprintf(I->out, "%s\n", s);
		} else {
			fflush(I->out);
			fprintf(stderr, "WARNING: %s\n", s);
		}
		val_set_int(out, 0);
		break;
	case B_STRLEN:
		if (val_to_str(I, n, &a[0], &s))
			goto out;
		val_set_int(out, (int64_t)strlen(s));
		break;
	case B_SUBSTR: {
		if (val_to_str(I, n, &a[0], &s) || val_to_int(I, n, &a[1], &x))
			goto out;
		int64_t len = (int64_t)strlen(s);
		y = len;
		if (n->n == 3 && val_to_int(I, n, &a[2], &y))
			goto out;
		if (x < 0 || x > len)
			x = len;
		if (y < 0)
			y = 0;
		if (y > len - x)
			y = len - x;
		s[x + y] = 0;
		val_set_str(out, s + x);
		break;
	}
	case B_ISINSTR:
		if (val_to_str(I, n, &a[0], &s) || val_to_str(I, n, &a[1], &s2))
			goto out;
		val_set_int(out, strstr(s, s2) != NULL);
		break;
	case B_STRTOL: {
		y = 10;
		if (val_to_str(I, n, &a[0], &s) || (n->n == 2 && val_to_int(I, n, &a[1], &y)))
			goto out;
		if (y != 0 && (y < 2 || y > 36)) {
			rt_error(I, n, "strtol(): base %lld: expected 0 or 2..36", (long long)y);
			goto out;
		}
		val_set_int(out, strtoll(s, NULL, (int)y));
		break;
	}
	case B_STR_REPLACE: {
		if (val_to_str(I, n, &a[0], &s) || val_to_str(I, n, &a[1], &s2) || val_to_str(I, n, &a[2], &s3))
			goto out;
		size_t ol = strlen(s2);
		const char *p = s;
		if (!ol) {
			val_set_str(out, s);
			break;
		}
		for (const char *q; (q = strstr(p, s2)); p = q + ol) {
			kdx_strbuf_append(&b, p, (size_t)(q - p));
			kdx_strbuf_append(&b, s3, strlen(s3));
		}
		kdx_strbuf_append(&b, p, strlen(p));
		char *str = kdx_strbuf_take(&b);
		val_take_str_max(I, out, str ? str : strdup(""));
		break;
	}
	case B_STRINGAT:
		if (val_to_str(I, n, &a[0], &s) || val_to_int(I, n, &a[1], &x))
			goto out;
		if (x < 0 || x >= (int64_t)strlen(s)) {
			rt_error(I, n, "stringat(): index %lld out of range (length %zu)", (long long)x, strlen(s));
			goto out;
		}
		val_set_int(out, (unsigned char)s[x]);
		break;
	case B_TEXT_STR:
		if (val_to_str(I, n, &a[0], &s))
			goto out;
		for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
			if (*p == '\n')
				kdx_strbuf_printf(&b, "\\n");
			else if (*p == '\t')
				kdx_strbuf_printf(&b, "\\t");
			else if (*p == '"' || *p == '\\')
				kdx_strbuf_printf(&b, "\\%c", *p);
			else if (isprint(*p))
				kdx_strbuf_append(&b, (const char *)p, 1);
			else
				kdx_strbuf_printf(&b, "\\%03o", *p);
		}
		{
			char *str = kdx_strbuf_take(&b);
			val_take_str(out, str ? str : strdup(""));
		}
		break;
	case B_KSTRING:
	case B_KSTRING_N: {
		size_t max = (size_t)I->lim.maxstringlen;
		if (n->builtin == B_KSTRING_N) {
			if (val_to_int(I, n, &a[1], &y))
				goto out;
			if (y < 0)
				y = 0;
			if ((uint64_t)y < max)
				max = (size_t)y;
		}
		if (read_str(I, n, &a[0], max, &s2)) {
			/* kernel_string(addr, default): a failed read gives DEFAULT */
			if (n->builtin != B_KSTRING || n->n != 2 || !I->err_is_fault)
				goto out;
			kdx_error_destroy(I->err);
			I->err = NULL;
			I->err_is_fault = 0;
			if (val_to_str(I, n, &a[1], &s2))
				goto out;
		}
		val_take_str(out, s2);
		s2 = NULL;
		break;
	}
	case B_KLONG: case B_KPOINTER: case B_KINT: case B_KSHORT: case B_KCHAR: {
		int size = n->builtin == B_KINT ? 4 : n->builtin == B_KSHORT ? 2 : n->builtin == B_KCHAR ? 1 : 8;
		if (val_to_int(I, n, &a[0], &x) || read_int(I, n, (uint64_t)x, size, &y))
			goto out;
		val_set_int(out, y);
		break;
	}
	case B_EXECNAME:
		need_task(I, n, &t);
		val_set_str(out, t ? t->comm : "");
		break;
	case B_PID:
		need_task(I, n, &t);
		val_set_int(out, t ? t->tgid : 0);
		break;
	case B_TID:
		need_task(I, n, &t);
		val_set_int(out, t ? t->pid : 0);
		break;
	case B_PPID:
		need_task(I, n, &t);
		val_set_int(out, t ? t->ppid : 0);
		break;
	case B_CPU:
		if (I->ctx.pt && I->ctx.pt->kind == PP_CPU) {
			val_set_int(out, I->ctx.cpu);
			break;
		}
		need_task(I, n, &t);
		val_set_int(out, t ? t->cpu : 0);
		break;
	case B_UID: {
		static const char *const path[] = { "cred", "uid", "val", NULL };
		need_task(I, n, &t);
		if (!t) {
			val_set_int(out, 0);
			break;
		}
		if (task_member_int(I, n, t, path, &x))
			goto out;
		val_set_int(out, x);
		break;
	}
	case B_PROBEFUNC:
		if (I->ctx.has_frame) {
			char *f = symdata(I, I->ctx.pc, 0);
			val_take_str(out, f);
		} else {
			val_set_str(out, "");
		}
		break;
	case B_PP:
		val_set_str(out, I->ctx.pt ? I->ctx.pt->text : "");
		break;
	case B_PRINT_BACKTRACE:
		if (need_dump(I, n) || probe_backtrace(I, n, &b, 1))
			goto out;
		fwrite(b.s ? b.s : "", 1, b.len, I->out);
		val_set_int(out, 0);
		break;
	case B_BACKTRACE:
		if (need_dump(I, n) || probe_backtrace(I, n, &b, 0))
			goto out;
		{
			char *str = kdx_strbuf_take(&b);
			val_take_str(out, str ? str : strdup(""));
		}
		break;
	case B_SYMNAME:
	case B_SYMDATA:
		if (val_to_int(I, n, &a[0], &x))
			goto out;
		val_take_str(out, I->s->symtab ? symdata(I, (uint64_t)x, n->builtin == B_SYMDATA) : strdup("?"));
		break;
	case B_CONTAINER_OF: {
		if (need_dump(I, n) || val_to_int(I, n, &a[0], &x) || val_to_str(I, n, &a[1], &s) ||
		    val_to_str(I, n, &a[2], &s2))
			goto out;
		struct kdx_type *ty, *mt;
		uint64_t bo;
		uint32_t bs;
		struct kdx_error *e = kdx_type_find(I->s->types, s, &ty);
		if (!e)
			e = kdx_type_member(I->s->types, ty, s2, &mt, &bo, &bs);
		if (e) {
			rt_kerr(I, n, e);
			goto out;
		}
		val_set_kint(out, kdx_type_pointer_to(I->s->types, ty), (uint64_t)x - bo / 8);
		break;
	}
	case B_SIZEOF: {
		if (need_dump(I, n))
			goto out;
		uint64_t size;
		if (a[0].k == V_KV) {
			struct kdx_type *u = kdx_type_unqualified(a[0].kv.type);
			val_set_int(out, u ? (int64_t)u->size : 0);
			break;
		}
		if (val_to_str(I, n, &a[0], &s))
			goto out;
		struct kdx_error *e = kdx_type_sizeof(I->s, s, &size);
		if (e) {
			rt_kerr(I, n, e);
			goto out;
		}
		val_set_int(out, (int64_t)size);
		break;
	}
	case B_OFFSETOF: {
		uint64_t off;
		if (need_dump(I, n) || val_to_str(I, n, &a[0], &s) || val_to_str(I, n, &a[1], &s2))
			goto out;
		struct kdx_error *e = kdx_member_offset(I->s, s, s2, &off);
		if (e) {
			rt_kerr(I, n, e);
			goto out;
		}
		val_set_int(out, (int64_t)off);
		break;
	}
	case B_TASK_CURRENT: {
		if (need_dump(I, n))
			goto out;
		const struct kdx_task *pt = kdx_task_panic(I->s);
		if (!pt)
			pt = kdx_task_current(I->s);
		if (!pt || !I->ty_task_ptr) {
			rt_error(I, n, "task_current(): no panicking task found in this dump");
			goto out;
		}
		val_set_kint(out, I->ty_task_ptr, pt->addr);
		break;
	}
	case B_PER_CPU: {
		uint64_t off;
		struct kdx_value sv;
		memset(&sv, 0, sizeof(sv));
		if (need_dump(I, n) || val_to_str(I, n, &a[0], &s) || val_to_int(I, n, &a[1], &x))
			goto out;
		if (x < 0 || x >= kdx_cpu_count(I->s)) {
			rt_error(I, n, "per_cpu(): cpu %lld out of range (0..%d)", (long long)x, kdx_cpu_count(I->s) - 1);
			goto out;
		}
		struct kdx_error *e = kdx_value_symbol(I->s, s, &sv);
		if (!e)
			e = kdx_percpu_offset(I->s, (int)x, &off);
		if (e) {
			kdx_value_release(&sv);
			rt_kerr(I, n, e);
			goto out;
		}
		val_free(out);
		kdx_value_lvalue(&out->kv, sv.type, sv.addr + off);
		out->k = V_KV;
		kdx_value_release(&sv);
		break;
	}
	case B_EXIT:
		I->exiting = 1;
		val_set_int(out, 0);
		break;
	case B_ERROR:
		if (val_to_str(I, n, &a[0], &s))
			goto out;
		rt_error(I, n, "error(): %s", s);
		goto out;
	case B_ABS:
		if (val_to_int(I, n, &a[0], &x))
			goto out;
		val_set_int(out, x < 0 ? (int64_t)(0 - (uint64_t)x) : x);
		break;
	case B_MIN:
	case B_MAX:
		if (val_to_int(I, n, &a[0], &x) || val_to_int(I, n, &a[1], &y))
			goto out;
		val_set_int(out, n->builtin == B_MIN ? (x < y ? x : y) : (x > y ? x : y));
		break;
	case B_TASK_STATE:
	case B_TASK_EXECNAME:
	case B_TASK_PID:
	case B_TASK_TID:
	case B_TASK_PARENT:
	case B_TASK_CPU: {
		if (need_dump(I, n) || val_to_int(I, n, &a[0], &x))
			goto out;
		const struct kdx_task *tt = kdx_task_by_addr(I->s, (uint64_t)x);
		if (!tt) {
			rt_error(I, n, "%s(): 0x%llx is not a task in this dump", n->name, (unsigned long long)x);
			goto out;
		}
		switch (n->builtin) {
		case B_TASK_STATE: val_set_str(out, kdx_task_state_name(I->s, tt)); break;
		case B_TASK_EXECNAME: val_set_str(out, tt->comm); break;
		case B_TASK_PID: val_set_int(out, tt->tgid); break;
		case B_TASK_TID: val_set_int(out, tt->pid); break;
		case B_TASK_CPU: val_set_int(out, tt->cpu); break;
		default:
			if (!I->ty_task_ptr) {
				rt_error(I, n, "struct task_struct is not in the debuginfo");
				goto out;
			}
			val_set_kint(out, I->ty_task_ptr, tt->parent);
			break;
		}
		break;
	}
	default:
		rt_error(I, n, "internal error: builtin %s", n->name);
		goto out;
	}
	r = 0;
out:
	free(s);
	free(s2);
	free(s3);
	kdx_strbuf_release(&b);
	args_free(a, n->n);
	return r;
}
