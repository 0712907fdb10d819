/*
 * Probe language interpreter: walks the checked AST. Values are numbers,
 * strings or typed kernel values (struct kdx_value); associative arrays are
 * hash tables with up to 9 integer/string keys; statistics keep count, sum,
 * min, max and log2/linear histograms.
 *
 * Error containment (DTrace-style): a failed memory read aborts the current
 * hit only; it is counted and reported at the end (--strict: fatal). Other
 * runtime errors (division by zero, error(), limits) end the script: the
 * `error` probes run instead of the `end` probes and the command fails.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/interp.h"
#include "kernel/tasks.h"
#include "session.h"
#include "symbols/types.h"

/* ----------------------------------------------------------------- values */

void val_free(struct val *v)
{
	if (v->k == V_STR)
		free(v->s);
	else if (v->k == V_KV)
		kdx_value_release(&v->kv);
	v->k = V_INT;
	v->i = 0;
	v->s = NULL;
}

void val_set_int(struct val *v, int64_t i)
{
	val_free(v);
	v->i = i;
}

void val_take_str(struct val *v, char *s)
{
	val_free(v);
	v->k = V_STR;
	v->s = s;
}

void val_take_str_max(struct interp *I, struct val *v, char *s)
{
	if (s && I->lim.maxstringlen > 0 && strlen(s) > (size_t)I->lim.maxstringlen)
		s[I->lim.maxstringlen] = '\0';
	val_take_str(v, s);
}

void val_take_kv(struct val *v, struct kdx_value *kv)
{
	val_free(v);
	v->k = V_KV;
	v->kv = *kv;
}

void val_set_kint(struct val *v, struct kdx_type *t, uint64_t u)
{
	val_free(v);
	kdx_value_init_int(&v->kv, t, u);
	v->k = V_KV;
}

void val_set_str(struct val *v, const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	val_take_str(v, d);
}

int val_copy(struct interp *I, const struct node *at, struct val *dst, const struct val *src)
{
	if (dst == src)
		return 0;
	val_free(dst);
	if (src->k == V_INT) {
		dst->i = src->i;
		return 0;
	}
	if (src->k == V_STR) {
		val_set_str(dst, src->s);
		return 0;
	}
	struct kdx_error *e = kdx_value_copy(&dst->kv, &src->kv);
	if (e)
		return rt_kerr(I, at, e);
	dst->k = V_KV;
	return 0;
}

int rt_error(struct interp *I, const struct node *at, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (I->err)
		kdx_error_destroy(I->err);
	if (at)
		I->err = kdx_error_create(KDX_ERR_INVALID, "%s:%d:%d: %s", I->sc->src.file,
					  at->line, at->col, msg);
	else
		I->err = kdx_error_create(KDX_ERR_INVALID, "%s", msg);
	I->err_is_fault = 0;
	return -1;
}

int rt_kerr(struct interp *I, const struct node *at, struct kdx_error *err)
{
	int fault = err->code == KDX_ERR_FAULT;
	rt_error(I, at, "%s", err->message);
	I->err->code = err->code;
	I->err->has_address = err->has_address;
	I->err->address = err->address;
	I->err_is_fault = fault;
	kdx_error_destroy(err);
	return -1;
}

static struct kdx_type *kv_type(const struct kdx_value *kv)
{
	struct kdx_type *t = kdx_type_unqualified(kv->type);
	return t ? t : kv->type;
}

static int is_char_type(struct kdx_type *t)
{
	t = kdx_type_unqualified(t);
	return t && t->kind == KDX_TYPE_INT && (t->is_char || t->size == 1);
}

/* char[N] or char * */
int kv_is_stringish(const struct kdx_value *kv)
{
	struct kdx_type *t = kv_type(kv);
	return t && (t->kind == KDX_TYPE_ARRAY || t->kind == KDX_TYPE_POINTER) && is_char_type(t->target);
}

static char *type_str(const struct kdx_value *kv)
{
	char *s = kv->type ? kdx_type_to_string(kv->type, NULL) : NULL;
	return s ? s : strdup("?");
}

/* Number value of a kernel value: integers, enums, pointers, bools; arrays
 * and functions decay to their address. */
static int kv_to_int(struct interp *I, const struct node *at, const struct kdx_value *kv, int64_t *ret)
{
	struct kdx_type *t = kv_type(kv);
	struct kdx_error *e;
	if (!t)
		return rt_error(I, at, "kernel value without a type");
	switch (t->kind) {
	case KDX_TYPE_INT:
	case KDX_TYPE_ENUM:
	case KDX_TYPE_FLOAT:
		if ((e = kdx_value_as_i64(I->s, kv, ret)))
			return rt_kerr(I, at, e);
		return 0;
	case KDX_TYPE_POINTER: {
		uint64_t u;
		if ((e = kdx_value_as_u64(I->s, kv, &u)))
			return rt_kerr(I, at, e);
		*ret = (int64_t)u;
		return 0;
	}
	case KDX_TYPE_ARRAY:
	case KDX_TYPE_FUNCTION:
		if (kv->is_lvalue) {
			*ret = (int64_t)kv->addr;
			return 0;
		}
		break;
	default:
		break;
	}
	char *ts = type_str(kv);
	rt_error(I, at, "a value of type '%s' is not a number (print it with $ or $$, or pick a member with ->)", ts);
	free(ts);
	return -1;
}

int kv_to_str(struct interp *I, const struct node *at, const struct kdx_value *kv, char **ret)
{
	if (kv_is_stringish(kv)) {
		size_t len = (size_t)I->lim.maxstringlen + 1;
		char *buf = malloc(len);
		if (!buf)
			return rt_kerr(I, at, kdx_error_nomem());
		struct kdx_error *e = kdx_value_string(I->s, kv, buf, len);
		if (e) {
			free(buf);
			return rt_kerr(I, at, e);
		}
		*ret = buf;
		return 0;
	}
	struct kdx_type *t = kv_type(kv);
	if (t && (t->kind == KDX_TYPE_STRUCT || t->kind == KDX_TYPE_UNION)) {
		char *s;
		struct kdx_error *e = kdx_value_format(I->s, kv, KDX_FMT_ONELINE, 0, &s);
		if (e)
			return rt_kerr(I, at, e);
		*ret = s;
		return 0;
	}
	int64_t i;
	if (kv_to_int(I, at, kv, &i))
		return -1;
	char buf[32];
	/* typed pointers print like crash shows them: hex */
	if (t && t->kind == KDX_TYPE_POINTER)
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)i);
	else
		snprintf(buf, sizeof(buf), "%lld", (long long)i);
	*ret = strdup(buf);
	return 0;
}

int val_to_int(struct interp *I, const struct node *at, const struct val *v, int64_t *ret)
{
	switch (v->k) {
	case V_INT:
		*ret = v->i;
		return 0;
	case V_KV:
		return kv_to_int(I, at, &v->kv, ret);
	default:
		return rt_error(I, at, "expected a number, got the string \"%.40s\"", v->s);
	}
}

int val_to_str(struct interp *I, const struct node *at, const struct val *v, char **ret)
{
	switch (v->k) {
	case V_STR:
		*ret = strdup(v->s);
		return 0;
	case V_KV:
		return kv_to_str(I, at, &v->kv, ret);
	default: {
		char buf[32];
		snprintf(buf, sizeof(buf), "%lld", (long long)v->i);
		*ret = strdup(buf);
		return 0;
	}
	}
}

/* Turn a kernel value into a plain number or string (char arrays). */
static int normalize(struct interp *I, const struct node *at, struct val *v)
{
	if (v->k != V_KV)
		return 0;
	struct kdx_type *t = kv_type(&v->kv);
	if (t && t->kind == KDX_TYPE_ARRAY && is_char_type(t->target)) {
		char *s;
		if (kv_to_str(I, at, &v->kv, &s))
			return -1;
		val_take_str(v, s);
		return 0;
	}
	int64_t i;
	if (kv_to_int(I, at, &v->kv, &i))
		return -1;
	val_set_int(v, i);
	return 0;
}

static int truth(struct interp *I, struct node *n, int *ret)
{
	struct val v = { 0 };
	if (eval(I, n, &v) || normalize(I, n, &v)) {
		val_free(&v);
		return -1;
	}
	*ret = v.k == V_STR ? v.s[0] != 0 : v.i != 0;
	val_free(&v);
	return 0;
}

static int eval_int(struct interp *I, struct node *n, int64_t *ret)
{
	struct val v = { 0 };
	int r = eval(I, n, &v);
	if (!r)
		r = val_to_int(I, n, &v, ret);
	val_free(&v);
	return r;
}

/* ------------------------------------------------------------- statistics */

#define LOG_BUCKETS 128
#define LOG_BUCKET0 64

static int log_bucket(int64_t v)
{
	if (v == 0)
		return LOG_BUCKET0;
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	int lg = 63 - __builtin_clzll(a);
	int b = v > 0 ? LOG_BUCKET0 + 1 + lg : LOG_BUCKET0 - 1 - lg;
	if (b < 0)
		b = 0;
	if (b >= LOG_BUCKETS)
		b = LOG_BUCKETS - 1;
	return b;
}

static int64_t log_bucket_value(int b)
{
	if (b == LOG_BUCKET0)
		return 0;
	if (b < LOG_BUCKET0)
		/* negate in unsigned: bucket 0 is -2^63, whose negation overflows */
		return (int64_t)((uint64_t)0 - ((uint64_t)1 << (LOG_BUCKET0 - 1 - b)));
	return (int64_t)((uint64_t)1 << (b - LOG_BUCKET0 - 1));
}

static int64_t lin_nbuckets(const struct linspec *l)
{
	return (int64_t)(((uint64_t)l->hi - (uint64_t)l->lo) / (uint64_t)l->step) + 3;
}

static void stat_add(struct pstat *st, int64_t v, const struct linspec *lin)
{
	if (st->count == 0) {
		st->min = st->max = v;
	} else {
		if (v < st->min)
			st->min = v;
		if (v > st->max)
			st->max = v;
	}
	st->count++;
	st->sum = (int64_t)((uint64_t)st->sum + (uint64_t)v);   /* wraps like C unsigned */
	if (!st->log && !(st->log = calloc(LOG_BUCKETS, sizeof(*st->log))))
		abort();
	st->log[log_bucket(v)]++;
	if (lin && lin->set) {
		int64_t nb = lin_nbuckets(lin);
		if (!st->lin && !(st->lin = calloc((size_t)nb, sizeof(*st->lin))))
			abort();
		int64_t b;
		if (v < lin->lo)
			b = 0;
		else
			b = (int64_t)(((uint64_t)v - (uint64_t)lin->lo) / (uint64_t)lin->step) + 1;
		if (b >= nb - 1)
			b = nb - 1;
		st->lin[b]++;
	}
}

static void stat_free(struct pstat *st)
{
	if (!st)
		return;
	free(st->log);
	free(st->lin);
	free(st);
}

static int digits(int64_t v)
{
	int n = v < 0 ? 1 : 0;
	uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	if (!a)
		return 1;
	while (a) {
		n++;
		a /= 10;
	}
	return n;
}

#define HIST_WIDTH 50

/* SystemTap's histogram table: "value |---...--- count", one row per bucket
 * with @ bars scaled to 50 columns, up to two empty rows kept around the
 * data, longer empty runs elided as a "~" row. */
int stat_print_hist(struct interp *I, const struct node *at, struct pstat *st,
		    const struct linspec *lin, int kind, struct kdx_strbuf *out)
{
	uint64_t *h;
	int64_t nb;
	if (kind == AT_HIST_LOG) {
		h = st ? st->log : NULL;
		nb = LOG_BUCKETS;
	} else {
		h = st ? st->lin : NULL;
		nb = lin_nbuckets(lin);
	}
	if (!st || !st->count || !h)
		return rt_error(I, at, "histogram of an empty aggregate (nothing was collected with <<<)");

	int64_t low = -1, high = 0;
	uint64_t valmax = 0;
	for (int64_t i = 0; i < nb; i++) {
		if (h[i] && low < 0)
			low = i;
		if (h[i])
			high = i;
		if (h[i] > valmax)
			valmax = h[i];
	}
	for (int k = 0; k < 2; k++) {
		if (kind == AT_HIST_LOG) {
			if (low != LOG_BUCKET0 && low > 0)
				low--;
		} else if (low > 0) {
			low--;
		}
		if (high < nb - 1)
			high++;
	}
	int under = 0, over = 0;
	if (kind == AT_HIST_LINEAR) {
		if (low == 0 && h[0] == 0)
			low++;
		if (high == nb - 1 && h[high] == 0)
			high--;
		under = low == 0;
		over = high == nb - 1;
	}
	uint64_t scale = valmax <= HIST_WIDTH ? 1 : (valmax + HIST_WIDTH - 1) / HIST_WIDTH;
	int cnt_space = digits((int64_t)valmax);
	int val_space;
	if (kind == AT_HIST_LINEAR) {
		int a = digits(lin->lo) + under;
		int b = digits((int64_t)((uint64_t)lin->lo + (uint64_t)lin->step * (uint64_t)high)) + over;
		val_space = a > b ? a : b;
	} else {
		int a = digits(log_bucket_value((int)high));
		int b = digits(log_bucket_value((int)low));
		val_space = a > b ? a : b;
	}
	if (val_space < 5)
		val_space = 5;

	kdx_strbuf_printf(out, "%*s |", val_space, "value");
	for (int j = 0; j < HIST_WIDTH; j++)
		kdx_strbuf_append(out, "-", 1);
	kdx_strbuf_printf(out, " count\n");
	int eliding = 0;
	for (int64_t i = low; i <= high; i++) {
		int64_t from = i - 2 > low ? i - 2 : low;
		int64_t to = i + 2 < high ? i + 2 : high;
		int elide = 1;
		for (int64_t k = from; k <= to; k++)
			if (h[k])
				elide = 0;
		if (elide) {
			eliding = 1;
			continue;
		}
		if (eliding) {
			kdx_strbuf_printf(out, "%*s ~\n", val_space, "");
			eliding = 0;
		}
		int64_t val;
		const char *prefix = "";
		if (kind == AT_HIST_LINEAR) {
			if (i == 0) {
				val = lin->lo;
				prefix = "<";
			} else if (i == nb - 1) {
				val = (int64_t)((uint64_t)lin->lo + (uint64_t)(i - 2) * (uint64_t)lin->step);
				prefix = ">";
			} else {
				val = (int64_t)((uint64_t)lin->lo + (uint64_t)(i - 1) * (uint64_t)lin->step);
			}
		} else {
			val = log_bucket_value((int)i);
		}
		kdx_strbuf_printf(out, "%*s%lld |", val_space - digits(val), prefix, (long long)val);
		uint64_t bars = h[i] / scale;
		for (uint64_t j = 0; j < bars; j++)
			kdx_strbuf_append(out, "@", 1);
		kdx_strbuf_printf(out, "%*llu\n", (int)(HIST_WIDTH - bars + 1 + cnt_space),
				  (unsigned long long)h[i]);
	}
	kdx_strbuf_printf(out, "\n");
	return 0;
}

/* ------------------------------------------------------------------- maps */

static uint64_t hash_keys(const struct mkey *k, int n)
{
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < n; i++) {
		if (k[i].isstr) {
			for (const unsigned char *p = (const unsigned char *)k[i].s; *p; p++)
				h = (h ^ *p) * 1099511628211ULL;
			h = (h ^ 0xff) * 1099511628211ULL;
		} else {
			uint64_t x = (uint64_t)k[i].i;
			h = (h ^ x) * 1099511628211ULL;
			h ^= h >> 29;
		}
	}
	return h ? h : 1;
}

static int keys_equal(const struct mkey *a, const struct mkey *b, int n)
{
	for (int i = 0; i < n; i++) {
		if (a[i].isstr != b[i].isstr)
			return 0;
		if (a[i].isstr ? strcmp(a[i].s, b[i].s) : a[i].i != b[i].i)
			return 0;
	}
	return 1;
}

static void entry_free(struct mentry *e, int nkeys)
{
	for (int i = 0; i < nkeys; i++)
		if (e->keys[i].isstr)
			free(e->keys[i].s);
	free(e->keys);
	val_free(&e->v);
	stat_free(e->st);
	e->keys = NULL;
	e->st = NULL;
	e->live = 0;
}

static void map_rehash(struct pmap *m, size_t cap)
{
	/* Compact dead entries unless a foreach holds indices into E. */
	if (!m->iterating && m->live < m->n) {
		size_t j = 0;
		for (size_t i = 0; i < m->n; i++)
			if (m->e[i].live)
				m->e[j++] = m->e[i];
		m->n = j;
	}
	free(m->idx);
	m->idxcap = cap;
	if (!(m->idx = calloc(cap, sizeof(*m->idx))))
		abort();
	for (size_t i = 0; i < m->n; i++) {
		if (!m->e[i].live)
			continue;
		size_t p = m->e[i].hash & (cap - 1);
		while (m->idx[p])
			p = (p + 1) & (cap - 1);
		m->idx[p] = (uint32_t)(i + 1);
	}
}

static struct mentry *map_find(struct pmap *m, const struct mkey *k, uint64_t h)
{
	if (!m->idxcap)
		return NULL;
	size_t p = h & (m->idxcap - 1);
	while (m->idx[p]) {
		struct mentry *e = &m->e[m->idx[p] - 1];
		if (e->live && e->hash == h && keys_equal(e->keys, k, m->nkeys))
			return e;
		p = (p + 1) & (m->idxcap - 1);
	}
	return NULL;
}

static void map_clear(struct pmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].live)
			entry_free(&m->e[i], m->nkeys);
	m->live = 0;
	if (!m->iterating) {
		m->n = 0;
		free(m->idx);
		m->idx = NULL;
		m->idxcap = 0;
	}
}

static void map_destroy(struct pmap *m)
{
	if (!m)
		return;
	m->iterating = 0;
	map_clear(m);
	free(m->e);
	free(m->idx);
	free(m);
}

/* Find or (CREATE) insert; keys are copied on insert. */
static struct mentry *map_get(struct interp *I, const struct node *at, struct pmap *m,
			      const struct mkey *k, int create)
{
	uint64_t h = hash_keys(k, m->nkeys);
	struct mentry *e = map_find(m, k, h);
	if (e || !create)
		return e;
	if ((int64_t)m->live >= I->lim.maxmapentries) {
		rt_error(I, at, "array is full (%lld entries): raise the limit with -D MAXMAPENTRIES=N",
			 (long long)I->lim.maxmapentries);
		return NULL;
	}
	if ((m->n + 1) * 2 > m->idxcap)
		map_rehash(m, m->idxcap ? m->idxcap * 2 : 16);
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		struct mentry *ne = realloc(m->e, m->cap * sizeof(*ne));
		if (!ne)
			abort();
		m->e = ne;
	}
	e = &m->e[m->n];
	memset(e, 0, sizeof(*e));
	e->live = 1;
	e->hash = h;
	if (!(e->keys = calloc((size_t)m->nkeys, sizeof(*e->keys))))
		abort();
	for (int i = 0; i < m->nkeys; i++) {
		e->keys[i] = k[i];
		if (k[i].isstr && !(e->keys[i].s = strdup(k[i].s)))
			abort();
	}
	size_t p = h & (m->idxcap - 1);
	while (m->idx[p])
		p = (p + 1) & (m->idxcap - 1);
	m->idx[p] = (uint32_t)(m->n + 1);
	m->n++;
	m->live++;
	return e;
}

static void map_delete(struct pmap *m, struct mentry *e)
{
	entry_free(e, m->nkeys);
	m->live--;
}

static struct pmap *global_map(struct interp *I, int gi)
{
	struct gval *g = &I->g[gi];
	if (!g->map) {
		if (!(g->map = calloc(1, sizeof(*g->map))))
			abort();
		g->map->nkeys = I->sc->globals[gi]->nkeys;
	}
	return g->map;
}

static void keys_release(struct mkey *k, int n)
{
	for (int i = 0; i < n; i++)
		if (k[i].isstr)
			free(k[i].s);
}

/* Evaluate the keys of N (N_ARR / N_IN) into K. */
static int eval_keys(struct interp *I, struct node *n, struct mkey *k)
{
	memset(k, 0, 9 * sizeof(*k));
	for (size_t i = 0; i < n->n; i++) {
		struct val v = { 0 };
		if (eval(I, n->v[i], &v) || normalize(I, n->v[i], &v)) {
			val_free(&v);
			keys_release(k, (int)i);
			return -1;
		}
		if (v.k == V_STR) {
			k[i].isstr = 1;
			k[i].s = v.s;
			v.s = NULL;
			v.k = V_INT;
		} else {
			k[i].i = v.i;
		}
		val_free(&v);
	}
	return 0;
}

/* ------------------------------------------------------------ variables */

static struct val *var_slot(struct interp *I, struct node *n)
{
	return n->is_global ? &I->g[n->slot].v : &I->locals[n->slot];
}

/* The element of global array ARR (an N_ARR or N_IN node, whose keys are
 * evaluated here) in *E, NULL if missing; CREATE adds a missing one (*E
 * NULL then means the array is full: an error at AT). -1 if a key failed. */
static int array_entry(struct interp *I, const struct node *at, struct node *arr, int create,
		       struct mentry **e)
{
	struct mkey k[9];
	if (eval_keys(I, arr, k))
		return -1;
	*e = map_get(I, at, global_map(I, arr->slot), k, create);
	keys_release(k, (int)arr->n);
	return 0;
}

static int store_array(struct interp *I, struct node *at, struct node *arr, struct val *v)
{
	struct mentry *e;
	if (normalize(I, at, v))
		return -1;
	if (array_entry(I, at, arr, 1, &e) || !e)
		return -1;
	return val_copy(I, at, &e->v, v);
}

static int load_array(struct interp *I, struct node *arr, struct val *out)
{
	struct mentry *e;
	if (array_entry(I, arr, arr, 0, &e))
		return -1;
	if (e)
		return val_copy(I, arr, out, &e->v);
	/* missing elements read as 0 or "" by the array's type */
	if (I->sc->globals[arr->slot]->ty == TY_STR)
		val_set_str(out, "");
	else
		val_set_int(out, 0);
	return 0;
}

static int store(struct interp *I, struct node *at, struct node *lhs, struct val *v)
{
	if (lhs->k == N_ARR)
		return store_array(I, at, lhs, v);
	struct val *slot = var_slot(I, lhs);
	return val_copy(I, at, slot, v);
}

static int load(struct interp *I, struct node *lhs, struct val *out)
{
	if (lhs->k == N_ARR)
		return load_array(I, lhs, out);
	return val_copy(I, lhs, out, var_slot(I, lhs));
}

static struct pstat **stat_slot(struct interp *I, struct node *target, int create)
{
	if (target->k == N_VAR)
		return &I->g[target->slot].st;
	struct mentry *e;
	if (array_entry(I, target, target, create, &e))
		return NULL;
	if (!e) {
		if (!create && !I->err) {
			/* reading a missing element: no statistics yet */
			I->no_stat = NULL;
			return &I->no_stat;
		}
		return NULL;
	}
	return &e->st;
}

struct pstat *probe_stat_lookup(struct interp *I, struct node *target)
{
	struct pstat **sp = stat_slot(I, target, 0);
	return sp ? *sp : NULL;
}

/* ---------------------------------------------------------- expressions */

static int ctx_kv(struct interp *I, struct node *n, struct val *out)
{
	struct pctx *c = &I->ctx;
	val_free(out);
	switch (n->op) {
	case 1: /* CTX_TASK */
		if (!c->task || !I->ty_task_ptr)
			return rt_error(I, n, "$task: no task in this probe");
		kdx_value_init_int(&out->kv, I->ty_task_ptr, c->task->addr);
		break;
	case 2: /* CTX_FRAME: $frame, $depth */
		if (!strcmp(n->name, "depth"))
			val_set_int(out, c->depth);
		else
			val_set_int(out, (int64_t)c->pc);
		return 0;
	case 4:
		kdx_value_init_int(&out->kv, c->entry_type, c->entry);
		break;
	case 8:
		if (!I->ty_module_ptr)
			return rt_error(I, n, "$module: struct module is not in the debuginfo");
		kdx_value_init_int(&out->kv, I->ty_module_ptr, c->module);
		break;
	case 16:
		val_set_int(out, c->cpu);
		return 0;
	default:
		return rt_error(I, n, "$%s: unknown context variable", n->name);
	}
	out->k = V_KV;
	return 0;
}

static int deref_if_pointer(struct interp *I, struct node *at, struct val *v)
{
	struct kdx_type *t = kv_type(&v->kv);
	if (!t || t->kind != KDX_TYPE_POINTER)
		return 0;
	struct kdx_value d;
	memset(&d, 0, sizeof(d));
	struct kdx_error *e = kdx_value_deref(I->s, &v->kv, &d);
	if (e)
		return rt_kerr(I, at, e);
	kdx_value_release(&v->kv);
	v->kv = d;
	return 0;
}

static int eval_member(struct interp *I, struct node *n, struct val *out)
{
	struct val b = { 0 };
	if (eval(I, n->a, &b))
		goto fail;
	if (b.k != V_KV) {
		rt_error(I, n, "'->%s' applied to a %s, not a kernel value", n->name,
			 b.k == V_STR ? "string" : "number");
		goto fail;
	}
	if (deref_if_pointer(I, n, &b))
		goto fail;
	struct kdx_value m;
	memset(&m, 0, sizeof(m));
	struct kdx_type *st = kv_type(&b.kv);
	if (st && st == n->cache_type && b.kv.is_lvalue) {
		kdx_value_lvalue(&m, n->cache_mtype, b.kv.addr + n->cache_off);
	} else {
		struct kdx_error *e = kdx_value_member(I->s, &b.kv, n->name, &m);
		if (e) {
			rt_kerr(I, n, e);
			goto fail;
		}
		if (b.kv.is_lvalue && m.is_lvalue && !m.bit_size && !m.bit_offset && m.addr >= b.kv.addr) {
			n->cache_type = st;
			n->cache_mtype = m.type;
			n->cache_off = m.addr - b.kv.addr;
		}
	}
	val_take_kv(out, &m);
	val_free(&b);
	return 0;
fail:
	val_free(&b);
	return -1;
}

static int eval_index(struct interp *I, struct node *n, struct val *out)
{
	struct val b = { 0 };
	int64_t idx;
	if (eval(I, n->a, &b) || eval_int(I, n->b, &idx))
		goto fail;
	if (b.k != V_KV) {
		rt_error(I, n, "'[...]' applied to a %s, not a kernel array or pointer",
			 b.k == V_STR ? "string" : "number");
		goto fail;
	}
	struct kdx_value m;
	memset(&m, 0, sizeof(m));
	struct kdx_error *e = kdx_value_index(I->s, &b.kv, idx, &m);
	if (e) {
		rt_kerr(I, n, e);
		goto fail;
	}
	val_take_kv(out, &m);
	val_free(&b);
	return 0;
fail:
	val_free(&b);
	return -1;
}

static int compare(struct interp *I, struct node *n, struct val *a, struct val *b, int64_t *res)
{
	if (normalize(I, n->a, a) || normalize(I, n->b, b))
		return -1;
	int c;
	if (a->k == V_STR && b->k == V_STR)
		c = strcmp(a->s, b->s);
	else if (a->k == V_INT && b->k == V_INT)
		c = a->i < b->i ? -1 : a->i > b->i;
	else
		return rt_error(I, n, "comparison of a %s with a %s", a->k == V_STR ? "string" : "number",
				b->k == V_STR ? "string" : "number");
	switch (n->op) {
	case T_EQ: *res = c == 0; break;
	case T_NE: *res = c != 0; break;
	case T_LT: *res = c < 0; break;
	case T_GT: *res = c > 0; break;
	case T_LE: *res = c <= 0; break;
	default: *res = c >= 0; break;
	}
	return 0;
}

static int arith(struct interp *I, struct node *at, int op, int64_t a, int64_t b, int64_t *r)
{
	uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
	switch (op) {
	case T_PLUS: case T_ADD_ASSIGN: *r = (int64_t)(ua + ub); break;
	case T_MINUS: case T_SUB_ASSIGN: *r = (int64_t)(ua - ub); break;
	case T_STAR: case T_MUL_ASSIGN: *r = (int64_t)(ua * ub); break;
	case T_SLASH: case T_DIV_ASSIGN:
	case T_PERCENT: case T_MOD_ASSIGN:
		if (b == 0)
			return rt_error(I, at, "division by zero");
		if (a == INT64_MIN && b == -1)
			*r = (op == T_SLASH || op == T_DIV_ASSIGN) ? INT64_MIN : 0;
		else
			*r = (op == T_SLASH || op == T_DIV_ASSIGN) ? a / b : a % b;
		break;
	case T_SHL: case T_SHL_ASSIGN: *r = (b < 0 || b > 63) ? 0 : (int64_t)(ua << b); break;
	case T_SHR: case T_SHR_ASSIGN: *r = (b < 0 || b > 63) ? (a < 0 ? -1 : 0) : a >> b; break;
	case T_AMP: case T_AND_ASSIGN: *r = a & b; break;
	case T_PIPE: case T_OR_ASSIGN: *r = a | b; break;
	case T_CARET: case T_XOR_ASSIGN: *r = a ^ b; break;
	default:
		return rt_error(I, at, "internal error: operator %s", probe_tok_name(op));
	}
	return 0;
}

/* ptr +/- n keeps the pointer's type; array lvalues decay to &a[0]. */
static int pointer_arith(struct interp *I, struct node *n, struct val *a, int64_t k, struct val *out)
{
	struct kdx_type *t = kv_type(&a->kv);
	struct kdx_type *pt = a->kv.type;
	uint64_t base;
	if (t->kind == KDX_TYPE_ARRAY) {
		if (!a->kv.is_lvalue || !I->s->types)
			return rt_error(I, n, "pointer arithmetic on an array that is not in memory");
		base = a->kv.addr;
		pt = kdx_type_pointer_to(I->s->types, t->target);
	} else {
		struct kdx_error *e = kdx_value_as_u64(I->s, &a->kv, &base);
		if (e)
			return rt_kerr(I, n, e);
	}
	struct kdx_type *u = kdx_type_unqualified(pt);
	struct kdx_type *tt = u && u->target ? kdx_type_unqualified(u->target) : NULL;
	uint64_t size = tt && tt->size ? tt->size : 1;
	uint64_t delta = (uint64_t)k * size;
	uint64_t addr = n->op == T_MINUS ? base - delta : base + delta;
	val_set_kint(out, pt, addr);
	return 0;
}

static int is_pointerish(const struct val *v)
{
	if (v->k != V_KV)
		return 0;
	struct kdx_type *t = kv_type(&v->kv);
	return t && (t->kind == KDX_TYPE_POINTER || (t->kind == KDX_TYPE_ARRAY && v->kv.is_lvalue &&
						   !is_char_type(t->target)));
}

/* OUT = A's string followed by B's (the '.' operator; OUT may be A or B). */
static int concat(struct interp *I, struct node *na, struct val *a, struct node *nb, struct val *b,
		  struct val *out)
{
	char *sa = NULL, *sb = NULL;
	if (val_to_str(I, na, a, &sa) || val_to_str(I, nb, b, &sb)) {
		free(sa);
		return -1;
	}
	size_t la = strlen(sa), lb = strlen(sb);
	char *s = malloc(la + lb + 1);
	if (!s)
		abort();
	memcpy(s, sa, la);
	memcpy(s + la, sb, lb + 1);
	free(sa);
	free(sb);
	val_take_str_max(I, out, s);
	return 0;
}

static int eval_bin(struct interp *I, struct node *n, struct val *out)
{
	struct val a = { 0 }, b = { 0 };
	int r = -1;
	if (eval(I, n->a, &a) || eval(I, n->b, &b))
		goto done;
	int op = n->op;
	if (op == T_EQ || op == T_NE || op == T_LT || op == T_GT || op == T_LE || op == T_GE) {
		int64_t res = 0;
		if (compare(I, n, &a, &b, &res))
			goto done;
		val_set_int(out, res);
		r = 0;
		goto done;
	}
	if (op == T_DOT) {
		r = concat(I, n->a, &a, n->b, &b, out);
		goto done;
	}
	if ((op == T_PLUS || op == T_MINUS) && is_pointerish(&a) && !is_pointerish(&b)) {
		int64_t k;
		if (val_to_int(I, n->b, &b, &k))
			goto done;
		r = pointer_arith(I, n, &a, k, out);
		goto done;
	}
	if (op == T_MINUS && is_pointerish(&a) && is_pointerish(&b)) {
		int64_t x, y;
		if (val_to_int(I, n->a, &a, &x) || val_to_int(I, n->b, &b, &y))
			goto done;
		struct kdx_type *u = kv_type(&a.kv);
		struct kdx_type *tt = u->target ? kdx_type_unqualified(u->target) : NULL;
		int64_t size = tt && tt->size ? (int64_t)tt->size : 1;
		val_set_int(out, (int64_t)((uint64_t)x - (uint64_t)y) / size);
		r = 0;
		goto done;
	}
	int64_t x, y, res;
	if (val_to_int(I, n->a, &a, &x) || val_to_int(I, n->b, &b, &y) || arith(I, n, op, x, y, &res))
		goto done;
	val_set_int(out, res);
	r = 0;
done:
	val_free(&a);
	val_free(&b);
	return r;
}

static int eval_assign(struct interp *I, struct node *n, struct val *out)
{
	struct val r = { 0 }, cur = { 0 };
	int ret = -1;
	if (eval(I, n->b, &r))
		goto done;
	if (n->op == T_ASSIGN) {
		if (n->a->k == N_ARR && normalize(I, n->b, &r))
			goto done;
	} else if (n->op == T_CAT_ASSIGN) {
		if (load(I, n->a, &cur) || concat(I, n->a, &cur, n->b, &r, &r))
			goto done;
	} else {
		int64_t x, y, res;
		if (load(I, n->a, &cur) || val_to_int(I, n->a, &cur, &x) || val_to_int(I, n->b, &r, &y) ||
		    arith(I, n, n->op, x, y, &res))
			goto done;
		val_set_int(&r, res);
	}
	if (store(I, n, n->a, &r))
		goto done;
	ret = val_copy(I, n, out, &r);
done:
	val_free(&r);
	val_free(&cur);
	return ret;
}

static int eval_incdec(struct interp *I, struct node *n, struct val *out)
{
	struct val cur = { 0 };
	int64_t x;
	if (load(I, n->a, &cur) || val_to_int(I, n->a, &cur, &x)) {
		val_free(&cur);
		return -1;
	}
	int64_t nv = (int64_t)((uint64_t)x + (n->op == T_INC ? 1 : (uint64_t)-1));
	val_set_int(&cur, nv);
	int r = store(I, n, n->a, &cur);
	val_free(&cur);
	if (r)
		return -1;
	val_set_int(out, n->k == N_PREINC ? nv : x);
	return 0;
}

static int eval_aggadd(struct interp *I, struct node *n, struct val *out)
{
	int64_t v;
	if (eval_int(I, n->b, &v))
		return -1;
	struct pstat **sp = stat_slot(I, n->a, 1);
	if (!sp)
		return -1;
	if (!*sp && !(*sp = calloc(1, sizeof(**sp))))
		abort();
	stat_add(*sp, v, &I->sc->globals[n->a->slot]->lin);
	val_set_int(out, v);
	return 0;
}

static int eval_at(struct interp *I, struct node *n, struct val *out)
{
	struct pstat **sp = stat_slot(I, n->v[0], 0);
	if (!sp)
		return -1;
	struct pstat *st = *sp;
	int64_t count = st ? st->count : 0;
	switch (n->op) {
	case AT_COUNT:
		val_set_int(out, count);
		return 0;
	case AT_SUM:
		val_set_int(out, st ? st->sum : 0);
		return 0;
	default:
		break;
	}
	if (!count)
		return rt_error(I, n, "@%s() of an empty aggregate (nothing was collected with <<<)", n->name);
	switch (n->op) {
	case AT_MIN: val_set_int(out, st->min); break;
	case AT_MAX: val_set_int(out, st->max); break;
	case AT_AVG: val_set_int(out, st->sum / st->count); break;
	default: return rt_error(I, n, "@%s() can only be printed: print(@%s(...))", n->name, n->name);
	}
	return 0;
}

static int eval_in(struct interp *I, struct node *n, struct val *out)
{
	struct mentry *e;
	if (array_entry(I, n, n, 0, &e))
		return -1;
	val_set_int(out, e != NULL);
	return 0;
}

static void init_locals(struct val *frame, int n, const int *types, int from);
static int exec_body(struct interp *I, struct node *body);

static int call_user(struct interp *I, struct node *n, struct val *out)
{
	struct pfunc *f = n->fn;
	if (I->nesting >= I->lim.maxnesting)
		return rt_error(I, n, "call depth limit (%lld) reached calling %s(): runaway recursion? (-D MAXNESTING=N)",
				(long long)I->lim.maxnesting, f->name);
	struct val *frame = calloc((size_t)(f->nlocals ? f->nlocals : 1), sizeof(*frame));
	if (!frame)
		abort();
	int r = 0;
	init_locals(frame, f->nlocals, f->ltypes, f->nparams);
	for (int i = 0; i < f->nparams && !r; i++)
		r = eval(I, n->v[i], &frame[i]);
	if (r) {
		for (int i = 0; i < f->nlocals; i++)
			val_free(&frame[i]);
		free(frame);
		return -1;
	}
	struct val *saved = I->locals;
	I->locals = frame;
	I->nesting++;
	val_free(&I->retval);
	int flow = exec_body(I, f->body);
	I->nesting--;
	I->locals = saved;
	for (int i = 0; i < f->nlocals; i++)
		val_free(&frame[i]);
	free(frame);
	if (flow < 0)
		return -1;
	val_free(out);
	*out = I->retval;
	memset(&I->retval, 0, sizeof(I->retval));
	return 0;
}

static int eval_pretty(struct interp *I, struct node *n, struct val *out)
{
	struct val b = { 0 };
	if (eval(I, n->a, &b))
		return -1;
	if (b.k != V_KV) {
		char *s;
		int r = val_to_str(I, n, &b, &s);
		val_free(&b);
		if (!r)
			val_take_str(out, s);
		return r;
	}
	/* a pointer to a struct prints the struct it points to */
	struct kdx_type *t = kv_type(&b.kv);
	if (t->kind == KDX_TYPE_POINTER) {
		struct kdx_type *tt = kdx_type_unqualified(t->target);
		if (tt && (tt->kind == KDX_TYPE_STRUCT || tt->kind == KDX_TYPE_UNION) && deref_if_pointer(I, n, &b)) {
			val_free(&b);
			return -1;
		}
	}
	unsigned flags = KDX_FMT_ONELINE | (n->num == 1 ? KDX_FMT_NO_NESTED : 0);
	if (I->s->radix == 16)
		flags |= KDX_FMT_HEX;
	else
		flags |= KDX_FMT_DEC;
	char *s = NULL;
	struct kdx_error *e = kdx_value_format(I->s, &b.kv, flags, 0, &s);
	val_free(&b);
	if (e)
		return rt_kerr(I, n, e);
	val_take_str(out, s);
	return 0;
}

static int eval_cast(struct interp *I, struct node *n, struct val *out)
{
	int64_t addr;
	if (eval_int(I, n->v[0], &addr))
		return -1;
	struct kdx_type *pt = n->ktype;
	if (!pt) {
		if (!I->s->types)
			return rt_error(I, n, "@cast() needs kernel debuginfo (no dump is open)");
		struct kdx_type *t;
		struct kdx_error *e = kdx_type_find(I->s->types, n->v[1]->str, &t);
		if (e)
			return rt_kerr(I, n->v[1], e);
		pt = n->ktype = kdx_type_pointer_to(I->s->types, t);
	}
	val_set_kint(out, pt, (uint64_t)addr);
	return 0;
}

/* Unary '&' and '*': OUT = OP(the kernel value of N->a); MSG when N->a is
 * not a kernel value (or, with NEED_LVALUE, not one in memory). */
static int eval_kv_unary(struct interp *I, struct node *n, struct val *out, int need_lvalue,
			 struct kdx_error *(*op)(struct kdx_session *s, const struct kdx_value *v,
						 struct kdx_value *ret),
			 const char *msg)
{
	struct val b = { 0 };
	if (eval(I, n->a, &b))
		return -1;
	if (b.k != V_KV || (need_lvalue && !b.kv.is_lvalue)) {
		val_free(&b);
		return rt_error(I, n, "%s", msg);
	}
	struct kdx_value r;
	memset(&r, 0, sizeof(r));
	struct kdx_error *e = op(I->s, &b.kv, &r);
	val_free(&b);
	if (e)
		return rt_kerr(I, n, e);
	val_take_kv(out, &r);
	return 0;
}

static int eval_inner(struct interp *I, struct node *n, struct val *out)
{
	switch (n->k) {
	case N_NUM:
		val_set_int(out, n->num);
		return 0;
	case N_STR:
		val_set_str(out, n->str);
		return 0;
	case N_VAR:
	case N_ARR:
		return load(I, n, out);
	case N_CTX:
		return ctx_kv(I, n, out);
	case N_CALL:
		if (n->fn)
			return call_user(I, n, out);
		return builtin_call(I, n, out);
	case N_AT:
		return eval_at(I, n, out);
	case N_CAST:
		return eval_cast(I, n, out);
	case N_DEFINED: {
		struct val v = { 0 };
		int r = eval(I, n->v[0], &v);
		val_free(&v);
		if (r) {
			/* a fault means the member exists but is unreadable */
			int defined = I->err_is_fault;
			kdx_error_destroy(I->err);
			I->err = NULL;
			I->err_is_fault = 0;
			if (I->next_pending)
				return -1;
			val_set_int(out, defined);
			return 0;
		}
		val_set_int(out, 1);
		return 0;
	}
	case N_BIN:
		return eval_bin(I, n, out);
	case N_LAND:
	case N_LOR: {
		int a, b;
		if (truth(I, n->a, &a))
			return -1;
		if ((n->k == N_LAND && !a) || (n->k == N_LOR && a)) {
			val_set_int(out, a);
			return 0;
		}
		if (truth(I, n->b, &b))
			return -1;
		val_set_int(out, b);
		return 0;
	}
	case N_UNARY: {
		if (n->op == T_NOT) {
			int t;
			if (truth(I, n->a, &t))
				return -1;
			val_set_int(out, !t);
			return 0;
		}
		int64_t x;
		if (eval_int(I, n->a, &x))
			return -1;
		val_set_int(out, n->op == T_MINUS ? (int64_t)(0 - (uint64_t)x) : n->op == T_TILDE ? ~x : x);
		return 0;
	}
	case N_ADDR:
		return eval_kv_unary(I, n, out, 1, kdx_value_address_of,
				     "'&' needs kernel data in memory");
	case N_DEREF:
		return eval_kv_unary(I, n, out, 0, kdx_value_deref,
				     "'*' needs a kernel pointer (use kernel_long(addr) for raw memory)");
	case N_PREINC:
	case N_POSTINC:
		return eval_incdec(I, n, out);
	case N_ASSIGN:
		return eval_assign(I, n, out);
	case N_AGGADD:
		return eval_aggadd(I, n, out);
	case N_TERNARY: {
		int t;
		if (truth(I, n->a, &t))
			return -1;
		return eval(I, t ? n->b : n->c, out);
	}
	case N_MEMBER:
		return eval_member(I, n, out);
	case N_INDEX:
		return eval_index(I, n, out);
	case N_PRETTY:
		return eval_pretty(I, n, out);
	case N_IN:
		return eval_in(I, n, out);
	default:
		return rt_error(I, n, "internal error: cannot evaluate this node");
	}
}

int eval(struct interp *I, struct node *n, struct val *out)
{
	return eval_inner(I, n, out);
}

/* ----------------------------------------------------------- statements */

enum flow { FL_OK = 0, FL_BREAK, FL_CONTINUE, FL_NEXT, FL_RETURN, FL_ERR = -1 };

static int exec(struct interp *I, struct node *n);

/* One run of a loop's BODY: 0 to go on (it ended, or with continue); else
 * 1 and *FLOW is what the loop returns: FL_OK after break, or the return,
 * next or error that leaves it. */
static int loop_body(struct interp *I, struct node *body, int *flow)
{
	int f = exec(I, body);

	if (f == FL_OK || f == FL_CONTINUE)
		return 0;
	*flow = f == FL_BREAK ? FL_OK : f;
	return 1;
}

/* Evaluate N for its side effects (an expression statement, for's init and
 * step); -1 on error. */
static int eval_discard(struct interp *I, struct node *n)
{
	struct val v = { 0 };
	int r = eval(I, n, &v);

	val_free(&v);
	return r;
}

static int count_action(struct interp *I, struct node *n)
{
	if (++I->actions > I->lim.maxaction) {
		rt_error(I, n, "more than %lld statements in one hit: infinite loop? (raise the limit with -D MAXACTION=N)",
			 (long long)I->lim.maxaction);
		return -1;
	}
	if ((I->actions & 1023) == 0 && kdx_interrupted(I->s)) {
		I->interrupted = 1;
		rt_error(I, n, "interrupted");
		return -1;
	}
	return 0;
}

static int sort_key_cmp(const struct mkey *a, const struct mkey *b)
{
	if (a->isstr != b->isstr)
		return a->isstr ? 1 : -1;
	if (a->isstr)
		return strcmp(a->s, b->s);
	return a->i < b->i ? -1 : a->i > b->i;
}

struct sort_ctx {
	struct pmap *m;
	int key;        /* -1 value, 0 none, 1..n key */
	int dir;
	int agg;        /* statistics: which aggregate is the value */
};

static int64_t stat_agg(const struct pstat *st, int agg)
{
	if (!st || !st->count)
		return 0;
	switch (agg) {
	case AT_SUM: return st->sum;
	case AT_MIN: return st->min;
	case AT_MAX: return st->max;
	case AT_AVG: return st->sum / st->count;
	default: return st->count;
	}
}

static int entry_value_cmp(const struct mentry *a, const struct mentry *b, int agg)
{
	if (a->st || b->st) {
		int64_t x = stat_agg(a->st, agg), y = stat_agg(b->st, agg);
		return x < y ? -1 : x > y;
	}
	if (a->v.k == V_STR && b->v.k == V_STR)
		return strcmp(a->v.s, b->v.s);
	if (a->v.k == V_STR || b->v.k == V_STR)
		return a->v.k == V_STR ? 1 : -1;
	return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
}

static int entry_cmp(const void *pa, const void *pb, void *arg)
{
	const struct sort_ctx *sc = arg;
	const struct mentry *a = &sc->m->e[*(const size_t *)pa];
	const struct mentry *b = &sc->m->e[*(const size_t *)pb];
	int c = 0;
	if (sc->key == -1)
		c = entry_value_cmp(a, b, sc->agg) * sc->dir;
	else if (sc->key > 0)
		c = sort_key_cmp(&a->keys[sc->key - 1], &b->keys[sc->key - 1]) * sc->dir;
	/* ties (and no sort order): keys ascending, so output is deterministic */
	for (int i = 0; !c && i < sc->m->nkeys; i++)
		c = sort_key_cmp(&a->keys[i], &b->keys[i]);
	return c;
}

static int exec_foreach(struct interp *I, struct node *n)
{
	struct pmap *m = global_map(I, n->a->slot);
	int64_t limit = -1;
	if (n->b && eval_int(I, n->b, &limit))
		return FL_ERR;
	size_t cnt = 0;
	size_t *order = malloc((m->n ? m->n : 1) * sizeof(*order));
	if (!order)
		abort();
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].live)
			order[cnt++] = i;
	struct sort_ctx sc = { m, n->sort_key, n->sort_dir ? n->sort_dir : 1, n->sort_agg };
	qsort_r(order, cnt, sizeof(*order), entry_cmp, &sc);

	int flow = FL_OK;
	m->iterating++;
	for (size_t i = 0; i < cnt; i++) {
		if (limit >= 0 && (int64_t)i >= limit)
			break;
		struct mentry *e = &m->e[order[i]];
		if (!e->live)
			continue;
		for (size_t k = 0; k < n->n; k++) {
			struct val *slot = &I->locals[n->v[k]->slot];
			if (e->keys[k].isstr)
				val_set_str(slot, e->keys[k].s);
			else
				val_set_int(slot, e->keys[k].i);
		}
		if (n->valvar && val_copy(I, n, &I->locals[n->valvar->slot], &e->v)) {
			flow = FL_ERR;
			break;
		}
		if (loop_body(I, n->c, &flow))
			break;
	}
	m->iterating--;
	free(order);
	return flow;
}

static int exec_delete(struct interp *I, struct node *n)
{
	struct node *t = n->a;
	if (t->k == N_VAR) {
		if (t->is_global && I->sc->globals[t->slot]->is_array) {
			map_clear(global_map(I, t->slot));
			return FL_OK;
		}
		struct val *slot = var_slot(I, t);
		if (t->is_global) {
			stat_free(I->g[t->slot].st);
			I->g[t->slot].st = NULL;
		}
		if (slot->k == V_STR || (t->is_global && I->sc->globals[t->slot]->ty == TY_STR))
			val_set_str(slot, "");
		else
			val_set_int(slot, 0);
		return FL_OK;
	}
	struct mentry *e;
	if (array_entry(I, t, t, 0, &e))
		return FL_ERR;
	if (e)
		map_delete(global_map(I, t->slot), e);
	return FL_OK;
}

static int exec(struct interp *I, struct node *n)
{
	int flow, t;
	if (!n)
		return FL_OK;
	if (count_action(I, n))
		return FL_ERR;
	switch (n->k) {
	case N_BLOCK:
		for (size_t i = 0; i < n->n; i++)
			if ((flow = exec(I, n->v[i])) != FL_OK)
				return flow;
		return FL_OK;
	case N_EMPTY:
		return FL_OK;
	case N_EXPRSTMT: {
		if (eval_discard(I, n->a))
			return I->next_pending ? FL_NEXT : FL_ERR;
		return FL_OK;
	}
	case N_IF:
		if (truth(I, n->a, &t))
			return FL_ERR;
		return exec(I, t ? n->b : n->c);
	case N_WHILE:
		for (;;) {
			if (truth(I, n->a, &t))
				return FL_ERR;
			if (!t)
				return FL_OK;
			if (loop_body(I, n->b, &flow))
				return flow;
			if (count_action(I, n))
				return FL_ERR;
		}
	case N_FOR: {
		if (n->a && eval_discard(I, n->a))
			return FL_ERR;
		for (;;) {
			if (n->b) {
				if (truth(I, n->b, &t))
					return FL_ERR;
				if (!t)
					return FL_OK;
			}
			if (loop_body(I, n->d, &flow))
				return flow;
			if (n->c && eval_discard(I, n->c))
				return FL_ERR;
			if (count_action(I, n))
				return FL_ERR;
		}
	}
	case N_FOREACH:
		return exec_foreach(I, n);
	case N_BREAK:
		return FL_BREAK;
	case N_CONTINUE:
		return FL_CONTINUE;
	case N_NEXT:
		return FL_NEXT;
	case N_RETURN:
		val_free(&I->retval);
		if (n->a && eval(I, n->a, &I->retval))
			return FL_ERR;
		return FL_RETURN;
	case N_DELETE:
		return exec_delete(I, n);
	case N_TRY:
		flow = exec(I, n->a);
		if (flow != FL_ERR || I->next_pending || I->interrupted || !I->err)
			return flow;
		/* caught: faults and runtime errors alike */
		if (n->valvar) {
			const char *msg = I->err->message;
			/* drop the "file:line:col: " prefix for the script */
			const char *p = strstr(msg, ": ");
			val_set_str(&I->locals[n->valvar->slot], p && !strncmp(msg, I->sc->src.file, strlen(I->sc->src.file)) ? p + 2 : msg);
		}
		kdx_error_destroy(I->err);
		I->err = NULL;
		I->err_is_fault = 0;
		return exec(I, n->b);
	default:
		rt_error(I, n, "internal error: cannot execute this node");
		return FL_ERR;
	}
}

static int exec_body(struct interp *I, struct node *body)
{
	int flow = exec(I, body);
	if (flow == FL_NEXT) {
		/* `next` inside a function leaves the whole probe handler */
		I->next_pending = 1;
		return -1;
	}
	if (flow == FL_ERR)
		return -1;
	return 0;
}

/* Locals start as 0, or "" for the ones the checker typed as strings. */
static void init_locals(struct val *frame, int n, const int *types, int from)
{
	for (int i = from; i < n; i++)
		if (types && types[i] == TY_STR)
			val_set_str(&frame[i], "");
}

int probe_hit(struct interp *I, struct pprobe *p)
{
	struct val *frame = calloc((size_t)(p->nlocals ? p->nlocals : 1), sizeof(*frame));
	if (!frame)
		abort();
	init_locals(frame, p->nlocals, p->ltypes, 0);
	I->locals = frame;
	I->hits++;
	I->actions = 0;
	I->nesting = 0;
	I->ctx.probe = p;
	int flow = FL_OK, t = 1;
	if (p->cond && truth(I, p->cond, &t))
		flow = FL_ERR;
	if (flow == FL_OK && t)
		flow = exec(I, p->body);
	if (flow == FL_ERR && I->next_pending) {
		flow = FL_NEXT;
	}
	I->next_pending = 0;
	for (int i = 0; i < p->nlocals; i++)
		val_free(&frame[i]);
	free(frame);
	I->locals = NULL;
	val_free(&I->retval);

	if (flow != FL_ERR)
		/* a closed pipe (`probe ... | head`) ends the walk too */
		return I->exiting || I->interrupted || kdx_interrupted(I->s) || ferror(I->out);
	if (I->interrupted) {
		kdx_error_destroy(I->err);
		I->err = NULL;
		return 1;
	}
	if (I->err_is_fault && !I->strict) {
		I->faults++;
		if (!I->first_fault)
			I->first_fault = strdup(I->err->message);
		kdx_error_destroy(I->err);
		I->err = NULL;
		I->err_is_fault = 0;
		if (I->lim.maxerrors && (int64_t)I->faults >= I->lim.maxerrors) {
			I->fatal = kdx_error_create(KDX_ERR_INVALID,
						    "%llu hits aborted by failed reads: giving up (-D MAXERRORS=N; first: %s)",
						    (unsigned long long)I->faults, I->first_fault);
			return 1;
		}
		return I->exiting;
	}
	I->fatal = I->err;
	I->err = NULL;
	return 1;
}

const struct kdx_task *ctx_task(struct interp *I)
{
	if (I->ctx.task)
		return I->ctx.task;
	if (!I->s->target)
		return NULL;
	return kdx_task_current(I->s);
}

/* ------------------------------------------------------------- the driver */

static const struct { const char *name; size_t off; int64_t def; } limit_names[] = {
	{ "MAXACTION", offsetof(struct probe_limits, maxaction), 100000 },
	{ "MAXNESTING", offsetof(struct probe_limits, maxnesting), 64 },
	{ "MAXLISTENTRIES", offsetof(struct probe_limits, maxlistentries), 1000000 },
	{ "MAXMAPENTRIES", offsetof(struct probe_limits, maxmapentries), 1000000 },
	{ "MAXSTRINGLEN", offsetof(struct probe_limits, maxstringlen), 1024 },
	{ "MAXERRORS", offsetof(struct probe_limits, maxerrors), 0 },
};

static struct kdx_error *set_limits(struct probe_limits *lim, const struct kdx_probe_options *o)
{
	for (size_t i = 0; i < sizeof(limit_names) / sizeof(limit_names[0]); i++)
		*(int64_t *)((char *)lim + limit_names[i].off) = limit_names[i].def;
	for (size_t d = 0; o && d < o->ndefines; d++) {
		const char *def = o->defines[d];
		const char *eq = strchr(def, '=');
		size_t nl = eq ? (size_t)(eq - def) : strlen(def);
		size_t i;
		for (i = 0; i < sizeof(limit_names) / sizeof(limit_names[0]); i++)
			if (strlen(limit_names[i].name) == nl && !strncmp(limit_names[i].name, def, nl))
				break;
		if (i == sizeof(limit_names) / sizeof(limit_names[0]))
			return kdx_error_create(KDX_ERR_INVALID,
						"-D %.*s: unknown limit (known: MAXACTION MAXNESTING MAXLISTENTRIES MAXMAPENTRIES MAXSTRINGLEN MAXERRORS)",
						(int)nl, def);
		char *end;
		long long v = eq ? strtoll(eq + 1, &end, 0) : 0;
		if (!eq || !eq[1] || *end || v < 0 || (v == 0 && strcmp(limit_names[i].name, "MAXERRORS")))
			return kdx_error_create(KDX_ERR_INVALID, "-D %s: expected NAME=VALUE with a positive number", def);
		if (!strcmp(limit_names[i].name, "MAXSTRINGLEN") && v > (1 << 20))
			v = 1 << 20;
		*(int64_t *)((char *)lim + limit_names[i].off) = v;
	}
	return NULL;
}

static int run_points(struct interp *I, enum pp_kind kind)
{
	for (size_t i = 0; i < I->sc->nprobes; i++) {
		struct pprobe *p = I->sc->probes[i];
		for (size_t k = 0; k < p->npoints; k++) {
			if (p->points[k].kind != kind)
				continue;
			memset(&I->ctx, 0, sizeof(I->ctx));
			I->ctx.pt = &p->points[k];
			if (probe_hit(I, p))
				return 1;
		}
	}
	return 0;
}

static int is_dump_point(enum pp_kind k)
{
	return k != PP_BEGIN && k != PP_END && k != PP_ERROR;
}

static void free_globals(struct interp *I)
{
	if (!I->g)
		return;
	for (size_t i = 0; i < I->sc->nglobals; i++) {
		val_free(&I->g[i].v);
		map_destroy(I->g[i].map);
		stat_free(I->g[i].st);
	}
	free(I->g);
	I->g = NULL;
}

struct kdx_error *kdx_probe_check_source(const char *file, const char *src, size_t len)
{
	struct psrc ps = { file, src, len };
	struct pscript *sc;
	struct kdx_error *err = probe_parse(&ps, 0, NULL, &sc);
	if (err)
		return err;
	err = probe_check(sc, NULL);
	probe_script_free(sc);
	return err;
}

struct kdx_error *kdx_probe_run(struct kdx_session *s, const char *file, const char *src,
				const struct kdx_probe_options *opts)
{
	struct psrc ps = { file, src, strlen(src) };
	struct pscript *sc;
	struct interp I;
	struct kdx_error *err;

	memset(&I, 0, sizeof(I));
	if ((err = set_limits(&I.lim, opts)))
		return err;
	if ((err = probe_parse(&ps, opts ? opts->argc : 0, opts ? opts->argv : NULL, &sc)))
		return err;
	if ((err = probe_check(sc, s->target ? s->types : NULL))) {
		probe_script_free(sc);
		return err;
	}
	for (size_t i = 0; i < sc->nprobes; i++)
		for (size_t k = 0; k < sc->probes[i]->npoints; k++) {
			struct ppoint *pt = &sc->probes[i]->points[k];
			if (is_dump_point(pt->kind) && !s->target) {
				err = probe_diag(&sc->src, pt->line, pt->col,
						 "probe point '%s' needs a dump (no dump is open)", pt->text);
				probe_script_free(sc);
				return err;
			}
		}
	if (opts && opts->check_only) {
		probe_script_free(sc);
		return NULL;
	}

	I.s = s;
	I.sc = sc;
	I.strict = opts ? opts->strict : 0;
	I.out = s->out;
	if (!(I.g = calloc(sc->nglobals ? sc->nglobals : 1, sizeof(*I.g))))
		abort();
	for (size_t i = 0; i < sc->nglobals; i++) {
		struct pglobal *g = sc->globals[i];
		if (g->init && g->init->k == N_NUM)
			val_set_int(&I.g[i].v, g->init->num);
		else if (g->init)
			val_set_str(&I.g[i].v, g->init->str);
		else if (g->ty == TY_STR && !g->is_array)
			val_set_str(&I.g[i].v, "");
	}
	if (s->target && s->types) {
		struct kdx_type *t;
		struct kdx_error *e;
		if (!(e = kdx_type_find(s->types, "struct task_struct", &t)))
			I.ty_task_ptr = kdx_type_pointer_to(s->types, t);
		else
			kdx_error_destroy(e);
		if (!(e = kdx_type_find(s->types, "struct module", &t)))
			I.ty_module_ptr = kdx_type_pointer_to(s->types, t);
		else
			kdx_error_destroy(e);
	}

	int stop = run_points(&I, PP_BEGIN);
	for (size_t i = 0; i < sc->nprobes && !stop; i++) {
		struct pprobe *p = sc->probes[i];
		for (size_t k = 0; k < p->npoints && !stop; k++) {
			if (!is_dump_point(p->points[k].kind))
				continue;
			uint64_t h0 = I.hits;
			double t0 = kdx_now();
			stop = probe_run_point(&I, p, &p->points[k]);
			if (opts && opts->verbose) {
				double dt = kdx_now() - t0;
				uint64_t nh = I.hits - h0;
				fflush(I.out);
				fprintf(stderr, "probe: %s: %llu hits in %.3f s (%.2f us per hit)\n",
					p->points[k].text, (unsigned long long)nh, dt, nh ? dt * 1e6 / nh : 0.0);
			}
		}
	}
	if (I.interrupted || kdx_interrupted(s)) {
		fprintf(stderr, "probe: interrupted; running the end probes\n");
		I.interrupted = 0;
		s->interrupted = 0;
	}
	fflush(I.out);
	if (I.fatal) {
		/* error probes replace end probes; their own errors are reported too */
		struct kdx_error *fatal = I.fatal;
		I.fatal = NULL;
		I.exiting = 0;
		run_points(&I, PP_ERROR);
		if (I.fatal) {
			fprintf(stderr, "kdx: %s\n", I.fatal->message);
			kdx_error_destroy(I.fatal);
		}
		I.fatal = fatal;
	} else {
		I.exiting = 0;
		run_points(&I, PP_END);
	}
	fflush(I.out);
	if (I.faults)
		fprintf(stderr, "probe: %llu hit%s aborted by failed memory reads (first: %s)\n",
			(unsigned long long)I.faults, I.faults == 1 ? "" : "s", I.first_fault);
	if (I.walk_errors) {
		fprintf(stderr, "probe: %llu walk%s ended early (first: %s)\n",
			(unsigned long long)I.walk_errors, I.walk_errors == 1 ? "" : "s",
			I.first_walk_error);
		/* a looping or broken list is bad input: batch exit status 1 */
		s->error_count++;
	}
	free(I.first_fault);
	free(I.first_walk_error);
	free_globals(&I);
	val_free(&I.retval);
	err = I.fatal;
	probe_script_free(sc);
	return err;
}
