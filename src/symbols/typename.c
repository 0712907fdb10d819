/*
 * C spelling of types, with an optional declarator name:
 *   char comm[16]   struct list_head *next   void (*fn)(struct work_struct *)
 *
 * The declarator is built from the name outwards, the way C reads it:
 * pointers prepend "*", arrays and functions append "[N]" / "(params)", and
 * a pointer met before an array or function gets parentheses.
 */
#include "symbols/types.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
	char *s;
	size_t len, cap;
	int oom;
};

static void sb_reserve(struct sbuf *b, size_t extra)
{
	if (b->oom || b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *s = realloc(b->s, cap);
	if (!s) {
		b->oom = 1;
		return;
	}
	b->s = s;
	b->cap = cap;
}

static void sb_append(struct sbuf *b, const char *str)
{
	size_t n = strlen(str);
	sb_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->s + b->len, str, n + 1);
	b->len += n;
}

static void sb_prepend(struct sbuf *b, const char *str)
{
	size_t n = strlen(str);
	sb_reserve(b, n);
	if (b->oom)
		return;
	memmove(b->s + n, b->s, b->len + 1);
	memcpy(b->s, str, n);
	b->len += n;
}

static void append_quals(struct sbuf *b, unsigned q)
{
	if (q & KDX_QUAL_CONST)
		sb_append(b, "const ");
	if (q & KDX_QUAL_VOLATILE)
		sb_append(b, "volatile ");
}

/* The specifier part: "const struct list_head", "unsigned int", "u64". */
static void base_name(struct sbuf *b, struct kdx_type *t)
{
	append_quals(b, t->qualifiers);
	switch (t->kind) {
	case KDX_TYPE_STRUCT:
		sb_append(b, "struct ");
		sb_append(b, t->name ? t->name : "{...}");
		break;
	case KDX_TYPE_UNION:
		sb_append(b, "union ");
		sb_append(b, t->name ? t->name : "{...}");
		break;
	case KDX_TYPE_ENUM:
		sb_append(b, "enum ");
		sb_append(b, t->name ? t->name : "{...}");
		break;
	case KDX_TYPE_VOID:
		sb_append(b, "void");
		break;
	default:
		sb_append(b, t->name ? t->name : "?");
		break;
	}
}

static void params(struct sbuf *b, struct kdx_type *t)
{
	sb_append(b, "(");
	for (size_t i = 0; i < t->nparams; i++) {
		if (i)
			sb_append(b, ", ");
		char *p = kdx_type_to_string(t->params[i], NULL);
		sb_append(b, p ? p : "?");
		free(p);
	}
	if (t->variadic)
		sb_append(b, t->nparams ? ", ..." : "...");
	else if (!t->nparams)
		sb_append(b, "void");
	sb_append(b, ")");
}

char *kdx_type_to_string(struct kdx_type *t, const char *name)
{
	struct sbuf decl = {0};
	sb_append(&decl, name ? name : "");
	int depth = 0;

	while (t && depth++ < 64) {
		if (t->kind == KDX_TYPE_POINTER) {
			if (t->qualifiers) {
				struct sbuf q = {0};
				sb_append(&q, "*");
				if (t->qualifiers & KDX_QUAL_CONST)
					sb_append(&q, "const ");
				if (t->qualifiers & KDX_QUAL_VOLATILE)
					sb_append(&q, "volatile ");
				if (!decl.len && q.s && q.len)
					q.s[--q.len] = 0;   /* no trailing blank */
				sb_prepend(&decl, q.s ? q.s : "*");
				free(q.s);
			} else {
				sb_prepend(&decl, "*");
			}
			t = t->target;
			continue;
		}
		if (t->kind == KDX_TYPE_ARRAY || t->kind == KDX_TYPE_FUNCTION) {
			if (decl.len && decl.s[0] == '*') {
				sb_prepend(&decl, "(");
				sb_append(&decl, ")");
			}
			if (t->kind == KDX_TYPE_ARRAY) {
				char dim[32];
				if (t->nelem_known)
					snprintf(dim, sizeof(dim), "[%" PRIu64 "]", t->nelem);
				else
					snprintf(dim, sizeof(dim), "[]");
				sb_append(&decl, dim);
			} else {
				params(&decl, t);
			}
			t = t->target;
			continue;
		}
		break;
	}

	struct sbuf out = {0};
	if (t)
		base_name(&out, t);
	else
		sb_append(&out, "void");
	if (decl.len) {
		/* "char [16]" and "struct list_head *" both take a blank. */
		sb_append(&out, " ");
		sb_append(&out, decl.s);
	}
	free(decl.s);
	if (out.oom || decl.oom) {
		free(out.s);
		return NULL;
	}
	return out.s;
}
