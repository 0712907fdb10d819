/*
 * The C expression evaluator: a lexer and a recursive-descent parser that
 * evaluates as it parses, over DWARF types. No gdb.
 *
 * Grammar (C precedence, highest last):
 *   expr    := cond
 *   cond    := lor [ '?' expr ':' cond ]
 *   lor     := land { '||' land }          ... down to
 *   mul     := unary { ('*'|'/'|'%') unary }
 *   unary   := ('-'|'+'|'~'|'!'|'*'|'&') unary | 'sizeof' unary
 *            | 'sizeof' '(' type ')' | '(' type ')' unary | postfix
 *   postfix := primary { '.' id | '->' id | '[' expr ']' }
 *   primary := number | 'c' | "str" | id | '(' expr ')'
 *            | offsetof '(' type ',' member ')' | per_cpu '(' expr ',' expr ')'
 *
 * Short-circuit operands (&&, ||, ?:) and sizeof operands are parsed with
 * `skip` set: types are computed, memory is not read.
 */
#include "symbols/value.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "kernel/tasks.h"
#include "util.h"

enum tok_kind { T_EOF, T_NUM, T_CHAR, T_STR, T_ID, T_PUNCT };

struct token {
	enum tok_kind kind;
	size_t pos;             /* byte offset in the source */
	size_t len;
	uint64_t num;
	int is_unsigned, is_long, is_hex;
	char text[256];         /* identifier, punctuator, or decoded string */
	size_t textlen;
};

/* Builtin types used when the session has no type table (unit tests) or
 * DWARF lacks a base type. */
static struct kdx_type builtin_int = { .kind = KDX_TYPE_INT, .name = "int", .size = 4, .is_signed = 1 };
static struct kdx_type builtin_uint = { .kind = KDX_TYPE_INT, .name = "unsigned int", .size = 4 };
static struct kdx_type builtin_long = { .kind = KDX_TYPE_INT, .name = "long", .size = 8, .is_signed = 1 };
static struct kdx_type builtin_ulong = { .kind = KDX_TYPE_INT, .name = "unsigned long", .size = 8 };
static struct kdx_type builtin_char = { .kind = KDX_TYPE_INT, .name = "char", .size = 1, .is_signed = 1, .is_char = 1 };

struct ev {
	struct kdx_session *s;
	const char *src;
	size_t pos;             /* lexer position */
	struct token tok;       /* current token */
	int skip;               /* >0: do not read memory */
	int cpu;                /* per-CPU variables on this CPU; -1 none */
	int depth;              /* parse_unary nesting (parentheses, prefix operators) */
	struct kdx_type *t_int, *t_uint, *t_long, *t_ulong, *t_char;
};

/* Deeper nesting than this is an error, not a stack overflow. */
#define EV_MAX_DEPTH 256

static struct kdx_type *bare(struct kdx_type *t)
{
	return kdx_value_type_bare(t);
}

static struct kdx_error *syntax(struct ev *e, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct kdx_error *syntax(struct ev *e, size_t pos, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kdx_error_create(KDX_ERR_SYNTAX, "syntax error at column %zu: %s", pos + 1, msg);
}

static struct kdx_type *find_type(struct ev *e, const char *name)
{
	struct kdx_type *t = NULL;

	if (!e->s || !e->s->types)
		return NULL;
	struct kdx_error *err = kdx_type_find(e->s->types, name, &t);
	if (err) {
		kdx_error_destroy(err);
		return NULL;
	}
	return t;
}

static void init_types(struct ev *e)
{
	e->t_int = find_type(e, "int");
	e->t_uint = find_type(e, "unsigned int");
	e->t_long = find_type(e, "long int");
	e->t_ulong = find_type(e, "long unsigned int");
	e->t_char = find_type(e, "char");
	if (!e->t_int) e->t_int = &builtin_int;
	if (!e->t_uint) e->t_uint = &builtin_uint;
	if (!e->t_long) e->t_long = &builtin_long;
	if (!e->t_ulong) e->t_ulong = &builtin_ulong;
	if (!e->t_char) e->t_char = &builtin_char;
}

/* ---------------------------------------------------------------- lexer */

static int id_start(int c) { return isalpha(c) || c == '_' || c == '$'; }
static int id_char(int c) { return isalnum(c) || c == '_' || c == '$'; }

static struct kdx_error *lex_escape(struct ev *e, const char **pp, int *out)
{
	const char *p = *pp;    /* just past the backslash */
	int c = *p++;

	switch (c) {
	case 'n': *out = '\n'; break;
	case 't': *out = '\t'; break;
	case 'r': *out = '\r'; break;
	case 'a': *out = '\a'; break;
	case 'b': *out = '\b'; break;
	case 'f': *out = '\f'; break;
	case 'v': *out = '\v'; break;
	case 'e': *out = 27; break;
	case 'x': {
		int v = 0, n = 0;
		while (isxdigit((unsigned char)*p) && n < 2) {
			v = v * 16 + (isdigit((unsigned char)*p) ? *p - '0' : (tolower(*p) - 'a' + 10));
			p++, n++;
		}
		if (!n)
			return syntax(e, p - e->src, "bad \\x escape");
		*out = v;
		break;
	}
	case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
		int v = c - '0', n = 1;
		while (*p >= '0' && *p <= '7' && n < 3)
			v = v * 8 + (*p++ - '0'), n++;
		*out = v & 0xff;
		break;
	}
	case 0:
		return syntax(e, p - 1 - e->src, "unterminated escape");
	default:
		*out = c;
	}
	*pp = p;
	return NULL;
}

static struct kdx_error *lex(struct ev *e)
{
	const char *p = e->src + e->pos;
	struct token *t = &e->tok;

	while (isspace((unsigned char)*p))
		p++;
	memset(t, 0, sizeof(*t));
	t->pos = p - e->src;
	if (!*p) {
		t->kind = T_EOF;
		e->pos = p - e->src;
		return NULL;
	}
	if (isdigit((unsigned char)*p)) {
		const char *start = p;
		uint64_t v = 0;
		int base = 10, overflow = 0;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
			base = 16, p += 2, t->is_hex = 1;
			if (!isxdigit((unsigned char)*p))
				return syntax(e, p - e->src, "bad hexadecimal number");
		} else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B') && (p[2] == '0' || p[2] == '1')) {
			base = 2, p += 2, t->is_hex = 1;
		} else if (p[0] == '0' && isdigit((unsigned char)p[1])) {
			base = 8, p++, t->is_hex = 1;
		}
		for (;; p++) {
			int d;
			if (isdigit((unsigned char)*p))
				d = *p - '0';
			else if (isxdigit((unsigned char)*p) && base == 16)
				d = tolower(*p) - 'a' + 10;
			else
				break;
			if (d >= base)
				return syntax(e, p - e->src, "bad digit '%c' in number", *p);
			if (v > (UINT64_MAX - d) / base)
				overflow = 1;
			v = v * base + d;
		}
		if (overflow)
			return syntax(e, start - e->src, "number too large");
		while (*p == 'u' || *p == 'U' || *p == 'l' || *p == 'L') {
			if (*p == 'u' || *p == 'U')
				t->is_unsigned = 1;
			else
				t->is_long = 1;
			p++;
		}
		if (*p == '.' && isdigit((unsigned char)p[1]))
			return syntax(e, start - e->src, "floating-point constants are not supported");
		if (id_char((unsigned char)*p))
			return syntax(e, p - e->src, "bad character '%c' in number", *p);
		t->kind = T_NUM;
		t->num = v;
	} else if (id_start((unsigned char)*p)) {
		const char *start = p;
		while (id_char((unsigned char)*p))
			p++;
		if ((size_t)(p - start) >= sizeof(t->text))
			return syntax(e, start - e->src, "identifier too long");
		t->kind = T_ID;
		memcpy(t->text, start, p - start);
		t->textlen = p - start;
	} else if (*p == '\'' || *p == '"') {
		char q = *p++;
		size_t n = 0;
		while (*p && *p != q) {
			int c = 0;
			if (*p == '\\') {
				p++;
				struct kdx_error *err = lex_escape(e, &p, &c);
				if (err)
					return err;
			} else {
				c = (unsigned char)*p++;
			}
			if (n + 1 >= sizeof(t->text))
				return syntax(e, t->pos, "literal too long");
			t->text[n++] = c;
		}
		if (*p != q)
			return syntax(e, t->pos, "unterminated %s", q == '"' ? "string" : "character constant");
		p++;
		t->textlen = n;
		if (q == '"') {
			t->kind = T_STR;
		} else if (n == 1) {
			t->kind = T_CHAR;
			t->num = (unsigned char)t->text[0];
		} else if (n == 0) {
			return syntax(e, t->pos, "empty character constant");
		} else {
			/* 'foo.isra.0': a quoted symbol name, as gdb accepts */
			t->kind = T_ID;
		}
	} else {
		static const char *const ops[] = {
			"->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||",
			"(", ")", "[", "]", ".", ",", "+", "-", "*", "/", "%", "&", "|",
			"^", "~", "!", "<", ">", "?", ":", NULL,
		};
		for (int i = 0; ops[i]; i++) {
			size_t n = strlen(ops[i]);
			if (!strncmp(p, ops[i], n)) {
				t->kind = T_PUNCT;
				memcpy(t->text, p, n);
				t->textlen = n;
				p += n;
				break;
			}
		}
		if (t->kind != T_PUNCT)
			return syntax(e, t->pos, "unexpected character '%c'", *p);
	}
	t->len = (p - e->src) - t->pos;
	e->pos = p - e->src;
	return NULL;
}

static int is_punct(struct ev *e, const char *op)
{
	return e->tok.kind == T_PUNCT && !strcmp(e->tok.text, op);
}

static int is_id(struct ev *e, const char *id)
{
	return e->tok.kind == T_ID && !strcmp(e->tok.text, id);
}

static struct kdx_error *expect(struct ev *e, const char *op)
{
	if (!is_punct(e, op))
		return syntax(e, e->tok.pos, "expected '%s'", op);
	return lex(e);
}

/* Save/restore the lexer to look ahead (types vs expressions). */
struct mark {
	size_t pos;
	struct token tok;
};

static void mark_save(struct ev *e, struct mark *m) { m->pos = e->pos; m->tok = e->tok; }
static void mark_restore(struct ev *e, const struct mark *m) { e->pos = m->pos; e->tok = m->tok; }

/* ---------------------------------------------------------------- types */

static const char *const type_keywords[] = {
	"struct", "union", "enum", "unsigned", "signed", "int", "char", "short",
	"long", "void", "_Bool", "float", "double", "const", "volatile", NULL,
};

static int is_type_keyword(const char *s)
{
	for (int i = 0; type_keywords[i]; i++)
		if (!strcmp(s, type_keywords[i]))
			return 1;
	return 0;
}

/* Is the identifier a typedef name (and not a variable)? */
static int is_typedef_name(struct ev *e, const char *name)
{
	struct kdx_type *t;
	uint64_t addr;

	if (!e->s || !e->s->types)
		return 0;
	t = find_type(e, name);
	if (!t || t->kind != KDX_TYPE_TYPEDEF)
		return 0;
	struct kdx_error *err = kdx_variable_find(e->s->types, name, &t, &addr);
	if (!err)
		return 0;
	kdx_error_destroy(err);
	return 1;
}

static int at_type_start(struct ev *e)
{
	if (e->tok.kind != T_ID)
		return 0;
	return is_type_keyword(e->tok.text) || is_typedef_name(e, e->tok.text);
}

/* Parse a type name at the current token. */
static struct kdx_error *parse_type(struct ev *e, struct kdx_type **ret)
{
	int n_unsigned = 0, n_signed = 0, n_long = 0, n_short = 0, n_int = 0, n_char = 0;
	char base[600] = "";
	size_t start = e->tok.pos;
	struct kdx_error *err;
	struct kdx_type *t = NULL;

	if (!e->s || !e->s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no type information loaded");
	for (;;) {
		if (e->tok.kind != T_ID)
			break;
		const char *w = e->tok.text;
		if (!strcmp(w, "const") || !strcmp(w, "volatile")) {
		} else if (!strcmp(w, "struct") || !strcmp(w, "union") || !strcmp(w, "enum")) {
			if (base[0] || n_unsigned || n_signed || n_long || n_short || n_int || n_char)
				return syntax(e, e->tok.pos, "unexpected '%s' in type name", w);
			char kw[256];
			snprintf(kw, sizeof(kw), "%s", w);
			if ((err = lex(e)))
				return err;
			if (e->tok.kind != T_ID)
				return syntax(e, e->tok.pos, "expected a %s tag", kw);
			snprintf(base, sizeof(base), "%s %s", kw, e->tok.text);
		} else if (!strcmp(w, "unsigned")) {
			n_unsigned++;
		} else if (!strcmp(w, "signed")) {
			n_signed++;
		} else if (!strcmp(w, "long")) {
			n_long++;
		} else if (!strcmp(w, "short")) {
			n_short++;
		} else if (!strcmp(w, "int")) {
			n_int++;
		} else if (!strcmp(w, "char")) {
			n_char++;
		} else if (!strcmp(w, "void") || !strcmp(w, "_Bool") || !strcmp(w, "float") ||
			   !strcmp(w, "double")) {
			if (base[0])
				return syntax(e, e->tok.pos, "unexpected '%s' in type name", w);
			snprintf(base, sizeof(base), "%s", w);
		} else if (!base[0] && !(n_unsigned || n_signed || n_long || n_short || n_int || n_char) &&
			   is_typedef_name(e, w)) {
			snprintf(base, sizeof(base), "%s", w);
		} else {
			break;
		}
		if ((err = lex(e)))
			return err;
	}
	int ints = n_unsigned || n_signed || n_long || n_short || n_int || n_char;
	if (ints) {
		if (base[0] && !(n_long == 1 && !strcmp(base, "double")))
			return syntax(e, start, "bad combination of type specifiers");
		const char *u = n_unsigned ? "unsigned " : "";
		if (n_char)
			snprintf(base, sizeof(base), "%schar", n_unsigned ? "unsigned " : n_signed ? "signed " : "");
		else if (n_short)
			snprintf(base, sizeof(base), "short %sint", u);
		else if (n_long >= 2)
			snprintf(base, sizeof(base), "long long %sint", u);
		else if (n_long == 1)
			snprintf(base, sizeof(base), "long %sint", u);
		else
			snprintf(base, sizeof(base), "%sint", u);
	}
	if (!base[0])
		return syntax(e, e->tok.pos, "expected a type name");
	if (!strcmp(base, "void")) {
		t = find_type(e, "void");
	} else {
		err = kdx_type_find(e->s->types, base, &t);
		if (err) {
			if (err->code == KDX_ERR_NOT_FOUND) {
				kdx_error_destroy(err);
				return kdx_error_create(KDX_ERR_NOT_FOUND, "no type \"%s\" in vmlinux or loaded modules", base);
			}
			return err;
		}
	}
	if (!t)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no type \"%s\"", base);
	/* abstract declarator: pointers (qualifiers allowed between) */
	for (;;) {
		if (is_punct(e, "*")) {
			struct kdx_type *p = kdx_type_pointer_to(e->s->types, t);
			if (!p)
				return kdx_error_create(KDX_ERR_INVALID, "cannot make a pointer type");
			t = p;
		} else if (!is_id(e, "const") && !is_id(e, "volatile")) {
			break;
		}
		if ((err = lex(e)))
			return err;
	}
	if (is_punct(e, "[")) {
		/* "T [N]": let the type table build the array type */
		char full[400];
		char *tn = kdx_type_to_string(t, NULL);
		if ((err = lex(e)))
			goto arr_fail;
		if (e->tok.kind != T_NUM) {
			err = syntax(e, e->tok.pos, "expected an array length");
			goto arr_fail;
		}
		snprintf(full, sizeof(full), "%s [%llu]", tn ? tn : base, (unsigned long long)e->tok.num);
		if ((err = lex(e)) || (err = expect(e, "]")))
			goto arr_fail;
		err = kdx_type_find(e->s->types, full, &t);
arr_fail:
		free(tn);
		if (err)
			return err;
	}
	*ret = t;
	return NULL;
}

struct kdx_error *kdx_eval_type(struct kdx_session *s, const char *text, struct kdx_type **ret)
{
	struct ev e = { .s = s, .src = text, .cpu = -1 };
	struct kdx_error *err;

	init_types(&e);
	if ((err = lex(&e)) || (err = parse_type(&e, ret)))
		return err;
	if (e.tok.kind != T_EOF)
		return syntax(&e, e.tok.pos, "unexpected text after the type name");
	return NULL;
}

/* ---------------------------------------------------------- evaluation */

static int is_integral(struct kdx_type *t)
{
	t = bare(t);
	return t && (t->kind == KDX_TYPE_INT || t->kind == KDX_TYPE_ENUM);
}

static int is_pointerish(struct kdx_type *t)
{
	t = bare(t);
	return t && (t->kind == KDX_TYPE_POINTER || t->kind == KDX_TYPE_ARRAY ||
		     t->kind == KDX_TYPE_FUNCTION);
}

/* Scalar value of V (0 without reading in skip mode). */
static struct kdx_error *load(struct ev *e, const struct kdx_value *v, uint64_t *u)
{
	if (e->skip) {
		struct kdx_type *t = bare(v->type);
		if (t && (t->kind == KDX_TYPE_ARRAY || t->kind == KDX_TYPE_FUNCTION) && v->is_lvalue)
			*u = v->addr;
		else if (!v->is_lvalue && !v->bytes)
			*u = v->u;
		else
			*u = 0;
		return NULL;
	}
	return kdx_value_as_u64(e->s, v, u);
}

static void set_rvalue(struct kdx_value *v, struct kdx_type *t, uint64_t u)
{
	kdx_value_release(v);
	kdx_value_init_int(v, t, u);
}

/* The integer type after promotion of T. */
static struct kdx_type *promote(struct ev *e, struct kdx_type *t)
{
	struct kdx_type *b = bare(t);
	if (!b || b->size < 4)
		return e->t_int;
	if (b->size == 4)
		return b->is_signed ? e->t_int : e->t_uint;
	return b->is_signed ? e->t_long : e->t_ulong;
}

/* Usual arithmetic conversions of two integer types. */
static struct kdx_type *common_type(struct ev *e, struct kdx_type *a, struct kdx_type *b)
{
	struct kdx_type *pa = bare(promote(e, a)), *pb = bare(promote(e, b));
	if (pa->size == 8 || pb->size == 8) {
		if ((pa->size == 8 && !pa->is_signed) || (pb->size == 8 && !pb->is_signed))
			return e->t_ulong;
		return e->t_long;
	}
	if (!pa->is_signed || !pb->is_signed)
		return e->t_uint;
	return e->t_int;
}

/* Pointer type for an array or function operand (decay). */
static struct kdx_type *decay_type(struct ev *e, struct kdx_type *t)
{
	struct kdx_type *b = bare(t);
	if (!e->s || !e->s->types)
		return e->t_ulong;
	if (b->kind == KDX_TYPE_ARRAY)
		return kdx_type_pointer_to(e->s->types, b->target);
	if (b->kind == KDX_TYPE_FUNCTION)
		return kdx_type_pointer_to(e->s->types, t);
	return t;
}

static uint64_t pointee_size(struct kdx_type *ptr)
{
	struct kdx_type *b = bare(ptr);
	struct kdx_type *tg = b->target ? bare(b->target) : NULL;
	if (!tg || tg->kind == KDX_TYPE_VOID || tg->kind == KDX_TYPE_FUNCTION || !tg->size)
		return 1;   /* gdb (and GNU C) treat void * arithmetic as bytes */
	return tg->size;
}

static struct kdx_error *not_arith(struct ev *e, size_t pos, const char *op)
{
	return kdx_error_create(KDX_ERR_INVALID, "column %zu: operands of '%s' must be numbers or pointers",
				pos + 1, op);
}

static int scalar_or_ptr(struct kdx_type *t)
{
	return is_integral(t) || is_pointerish(t);
}

/* A OP B, result in A. */
static struct kdx_error *binary(struct ev *e, const char *op, size_t pos,
				struct kdx_value *a, struct kdx_value *b)
{
	uint64_t x, y, r = 0;
	struct kdx_error *err;
	struct kdx_type *ta = a->type, *tb = b->type;

	if (!scalar_or_ptr(ta) || !scalar_or_ptr(tb))
		return not_arith(e, pos, op);
	if ((err = load(e, a, &x)) || (err = load(e, b, &y)))
		return err;
	int pa = is_pointerish(ta), pb = is_pointerish(tb);

	/* comparisons and logical: int result */
	if (!strcmp(op, "==") || !strcmp(op, "!=") || !strcmp(op, "<") || !strcmp(op, ">") ||
	    !strcmp(op, "<=") || !strcmp(op, ">=")) {
		int sgn = 0;
		if (!pa && !pb) {
			struct kdx_type *ct = common_type(e, ta, tb);
			sgn = bare(ct)->is_signed;
			x = kdx_value_normalize(ct, x);
			y = kdx_value_normalize(ct, y);
		}
		int c;
		if (sgn)
			c = (int64_t)x < (int64_t)y ? -1 : (int64_t)x > (int64_t)y;
		else
			c = x < y ? -1 : x > y;
		if (!strcmp(op, "==")) r = c == 0;
		else if (!strcmp(op, "!=")) r = c != 0;
		else if (!strcmp(op, "<")) r = c < 0;
		else if (!strcmp(op, ">")) r = c > 0;
		else if (!strcmp(op, "<=")) r = c <= 0;
		else r = c >= 0;
		set_rvalue(a, e->t_int, r);
		return NULL;
	}
	/* pointer arithmetic */
	if (pa || pb) {
		if (!strcmp(op, "+") && pa != pb) {
			struct kdx_type *pt = decay_type(e, pa ? ta : tb);
			int64_t n = (int64_t)(pa ? kdx_value_normalize(tb, y) : kdx_value_normalize(ta, x));
			uint64_t base = pa ? x : y;
			set_rvalue(a, pt, base + (uint64_t)(n * (int64_t)pointee_size(pt)));
			return NULL;
		}
		if (!strcmp(op, "-") && pa && !pb) {
			struct kdx_type *pt = decay_type(e, ta);
			int64_t n = (int64_t)kdx_value_normalize(tb, y);
			set_rvalue(a, pt, x - (uint64_t)(n * (int64_t)pointee_size(pt)));
			return NULL;
		}
		if (!strcmp(op, "-") && pa && pb) {
			struct kdx_type *pt = decay_type(e, ta);
			int64_t sz = (int64_t)pointee_size(pt);
			set_rvalue(a, e->t_long, (uint64_t)((int64_t)(x - y) / sz));
			return NULL;
		}
		/* other operators on pointers: treat them as unsigned long (as
		 * crash users do with "p/x ptr & ~0xfff") */
		if (pa)
			ta = e->t_ulong;
		if (pb)
			tb = e->t_ulong;
	}
	struct kdx_type *ct = common_type(e, ta, tb);
	int sgn = bare(ct)->is_signed;
	int is64 = bare(ct)->size == 8;
	x = kdx_value_normalize(ct, x);
	y = kdx_value_normalize(ct, y);
	switch (op[0]) {
	case '+': r = x + y; break;
	case '-': r = x - y; break;
	case '*': r = x * y; break;
	case '/':
	case '%':
		if (!y) {
			if (e->skip) {
				r = 0;
				break;
			}
			return kdx_error_create(KDX_ERR_INVALID, "column %zu: division by zero", pos + 1);
		}
		if (sgn) {
			int64_t sx = (int64_t)x, sy = (int64_t)y;
			if (sy == -1)
				r = op[0] == '/' ? (uint64_t)0 - x : 0;
			else
				r = op[0] == '/' ? (uint64_t)(sx / sy) : (uint64_t)(sx % sy);
		} else {
			r = op[0] == '/' ? x / y : x % y;
		}
		break;
	case '&': r = x & y; break;
	case '|': r = x | y; break;
	case '^': r = x ^ y; break;
	case '<':   /* << */
	case '>': { /* >> */
		/* shifts take the promoted left type */
		ct = promote(e, ta);
		sgn = bare(ct)->is_signed;
		is64 = bare(ct)->size == 8;
		x = kdx_value_normalize(ct, x);
		unsigned sh = (unsigned)(y & 63);
		if (!is64)
			sh &= 31;
		if (op[0] == '<')
			r = x << sh;
		else if (sgn)
			r = (uint64_t)((int64_t)x >> sh);
		else
			r = x >> sh;
		break;
	}
	default:
		return syntax(e, pos, "unknown operator '%s'", op);
	}
	set_rvalue(a, ct, r);
	return NULL;
}

static struct kdx_error *parse_expr(struct ev *e, struct kdx_value *v);
static struct kdx_error *parse_cond(struct ev *e, struct kdx_value *v);
static struct kdx_error *parse_unary(struct ev *e, struct kdx_value *v);

/* per-CPU address of variable offset OFF on CPU. */
static struct kdx_error *percpu_addr(struct ev *e, uint64_t off, int cpu, uint64_t *addr)
{
	uint64_t base;
	struct kdx_error *err;

	if (e->skip) {
		*addr = off;
		return NULL;
	}
	if ((err = kdx_percpu_offset(e->s, cpu, &base)))
		return err;
	*addr = off + base;
	return NULL;
}

static struct kdx_error *parse_symbol(struct ev *e, struct kdx_value *v)
{
	char name[256];
	size_t pos = e->tok.pos;
	struct kdx_error *err;

	snprintf(name, sizeof(name), "%s", e->tok.text);
	if ((err = lex(e)))
		return err;
	if (!e->s)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no symbol \"%s\" in vmlinux or loaded modules", name);
	if ((err = kdx_value_symbol(e->s, name, v))) {
		/* "__func__.8", "foo.isra.0": local/clone symbols have dots, and
		 * the command line has lost the quotes gdb would want. */
		const char *p = e->src + pos;
		size_t n = 0;
		while (id_char((unsigned char)p[n]) || (p[n] == '.' && id_char((unsigned char)p[n + 1])))
			n++;
		if (err->code != KDX_ERR_NOT_FOUND || n <= strlen(name) || n >= sizeof(name) || !e->s->symtab)
			return err;
		char full[256];
		memcpy(full, p, n);
		full[n] = 0;
		if (!kdx_symbol_by_name(e->s->symtab, full, NULL))
			return err;
		kdx_error_destroy(err);
		if ((err = kdx_value_symbol(e->s, full, v)))
			return err;
		e->pos = pos + n;
		if ((err = lex(e)))
			return err;
	}
	if (e->cpu >= 0 && v->is_lvalue && kdx_value_is_percpu_addr(v->addr))
		return percpu_addr(e, v->addr, e->cpu, &v->addr);
	return NULL;
}

/* offsetof(type, member.path) */
static struct kdx_error *parse_offsetof(struct ev *e, struct kdx_value *v)
{
	struct kdx_type *t, *mt;
	uint64_t bitoff;
	uint32_t bitsize;
	char path[256] = "";
	struct kdx_error *err;

	if ((err = lex(e)) || (err = expect(e, "(")) || (err = parse_type(e, &t)) ||
	    (err = expect(e, ",")))
		return err;
	/* member designator: id { . id | [ num ] } */
	while (e->tok.kind == T_ID || is_punct(e, ".") || is_punct(e, "[") ||
	       is_punct(e, "]") || e->tok.kind == T_NUM) {
		char piece[256];
		if (e->tok.kind == T_NUM)
			snprintf(piece, sizeof(piece), "%llu", (unsigned long long)e->tok.num);
		else
			snprintf(piece, sizeof(piece), "%s", e->tok.text);
		strncat(path, piece, sizeof(path) - strlen(path) - 1);
		if ((err = lex(e)))
			return err;
	}
	if (!path[0])
		return syntax(e, e->tok.pos, "expected a member name");
	if ((err = expect(e, ")")))
		return err;
	err = kdx_type_member(e->s->types, t, path, &mt, &bitoff, &bitsize);
	if (err) {
		if (err->code == KDX_ERR_NOT_FOUND) {
			char *n = kdx_type_to_string(t, NULL);
			kdx_error_destroy(err);
			err = kdx_error_create(KDX_ERR_NOT_FOUND, "%s has no member \"%s\"", n ? n : "type", path);
			free(n);
		}
		return err;
	}
	set_rvalue(v, e->t_ulong, bitoff / 8);
	return NULL;
}

/* per_cpu(var, cpu) */
static struct kdx_error *parse_per_cpu(struct ev *e, struct kdx_value *v)
{
	struct kdx_value cpu = {0};
	uint64_t c;
	struct kdx_error *err;
	int saved = e->cpu;

	if ((err = lex(e)) || (err = expect(e, "(")))
		return err;
	e->cpu = -1;
	err = parse_cond(e, v);
	e->cpu = saved;
	if (err || (err = expect(e, ",")) || (err = parse_cond(e, &cpu)) || (err = expect(e, ")")))
		goto out;
	if (!is_integral(cpu.type)) {
		err = kdx_error_create(KDX_ERR_INVALID, "per_cpu: the CPU must be a number");
		goto out;
	}
	if ((err = load(e, &cpu, &c)))
		goto out;
	if (!v->is_lvalue || !kdx_value_is_percpu_addr(v->addr)) {
		err = kdx_error_create(KDX_ERR_INVALID, "per_cpu: the first argument is not a per-CPU variable");
		goto out;
	}
	err = percpu_addr(e, v->addr, (int)c, &v->addr);
out:
	kdx_value_release(&cpu);
	return err;
}

/* $N, $, $$, $$N: gdb's value history */
static struct kdx_error *parse_history(struct ev *e, struct kdx_value *v)
{
	const char *p = e->tok.text + 1;
	long n = 0;
	int back = 0;
	struct kdx_error *err;

	if (*p == '$') {
		back = 1;
		p++;
	}
	if (*p) {
		char *end;
		n = strtol(p, &end, 10);
		if (*end || n < 0)
			return syntax(e, e->tok.pos, "bad history reference '%s'", e->tok.text);
	} else if (back) {
		n = 1;
	}
	if (!e->s)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "the value history is empty");
	kdx_value_release(v);
	if ((err = kdx_value_history_get(e->s, back ? -n : (*p ? n : 0), v)))
		return err;
	return lex(e);
}

static struct kdx_error *parse_primary(struct ev *e, struct kdx_value *v)
{
	struct kdx_error *err;
	struct token *t = &e->tok;

	switch (t->kind) {
	case T_NUM: {
		struct kdx_type *ty;
		uint64_t n = t->num;
		if (t->is_long || n > 0xffffffffULL || (!t->is_unsigned && !t->is_hex && n > 0x7fffffffULL)) {
			if (t->is_unsigned || n > 0x7fffffffffffffffULL)
				ty = e->t_ulong;
			else
				ty = e->t_long;
		} else if (t->is_unsigned || n > 0x7fffffffULL) {
			ty = e->t_uint;
		} else {
			ty = e->t_int;
		}
		set_rvalue(v, ty, n);
		return lex(e);
	}
	case T_CHAR:
		set_rvalue(v, e->t_char, t->num);
		return lex(e);
	case T_STR: {
		struct kdx_type *at = NULL;
		if (e->s && e->s->types && e->t_char != &builtin_char)
			at = kdx_type_array_of(e->s->types, e->t_char, t->textlen + 1, 1);
		if (!at)
			return kdx_error_create(KDX_ERR_UNSUPPORTED, "column %zu: string literals need type information",
						t->pos + 1);
		kdx_value_release(v);
		memset(v, 0, sizeof(*v));
		v->type = at;
		v->nbytes = t->textlen + 1;
		v->bytes = calloc(1, v->nbytes + 16);
		if (!v->bytes)
			return kdx_error_nomem();
		memcpy(v->bytes, t->text, t->textlen);
		return lex(e);
	}
	case T_ID:
		if (!strcmp(t->text, "sizeof") || is_type_keyword(t->text))
			return syntax(e, t->pos, "unexpected '%s'", t->text);
		if (!strcmp(t->text, "offsetof"))
			return parse_offsetof(e, v);
		if (!strcmp(t->text, "per_cpu")) {
			struct mark m;
			mark_save(e, &m);
			if ((err = lex(e)))
				return err;
			int call = is_punct(e, "(");
			mark_restore(e, &m);
			if (call)
				return parse_per_cpu(e, v);
		}
		if (!strcmp(t->text, "true") || !strcmp(t->text, "false")) {
			set_rvalue(v, e->t_int, t->text[0] == 't');
			return lex(e);
		}
		if (!strcmp(t->text, "NULL")) {
			set_rvalue(v, e->t_long, 0);
			return lex(e);
		}
		if (t->text[0] == '$')
			return parse_history(e, v);
		return parse_symbol(e, v);
	case T_PUNCT:
		if (is_punct(e, "(")) {
			if ((err = lex(e)) || (err = parse_expr(e, v)))
				return err;
			return expect(e, ")");
		}
		return syntax(e, t->pos, "unexpected '%s'", t->text);
	case T_EOF:
	default:
		return syntax(e, t->pos, "expected an expression");
	}
}

static struct kdx_error *parse_postfix(struct ev *e, struct kdx_value *v)
{
	struct kdx_error *err = parse_primary(e, v);

	while (!err) {
		if (is_punct(e, ".") || is_punct(e, "->")) {
			int arrow = e->tok.text[0] == '-';
			struct kdx_value tmp = {0};
			if ((err = lex(e)))
				break;
			if (e->tok.kind != T_ID) {
				err = syntax(e, e->tok.pos, "expected a member name after '%s'", arrow ? "->" : ".");
				break;
			}
			struct kdx_type *b = bare(v->type);
			/* Lenient like gdb: '.' through a pointer and '->' on a struct both work. */
			if (b && b->kind == KDX_TYPE_POINTER) {
				if (e->skip) {
					kdx_value_lvalue(&tmp, b->target, 0);
				} else if ((err = kdx_value_deref(e->s, v, &tmp))) {
					break;
				}
				kdx_value_release(v);
				*v = tmp;
				memset(&tmp, 0, sizeof(tmp));
			} else if (arrow && b && b->kind != KDX_TYPE_STRUCT && b->kind != KDX_TYPE_UNION) {
				char *n = kdx_type_to_string(v->type, NULL);
				err = kdx_error_create(KDX_ERR_INVALID, "column %zu: '->' needs a pointer, not %s",
						       e->tok.pos + 1, n ? n : "this value");
				free(n);
				break;
			}
			if ((err = kdx_value_member(e->s, v, e->tok.text, &tmp)))
				break;
			kdx_value_release(v);
			*v = tmp;
			err = lex(e);
		} else if (is_punct(e, "[")) {
			struct kdx_value idx = {0}, tmp = {0};
			uint64_t i;
			size_t pos = e->tok.pos;
			if ((err = lex(e)) || (err = parse_expr(e, &idx)) || (err = expect(e, "]"))) {
				kdx_value_release(&idx);
				break;
			}
			if (!is_integral(idx.type)) {
				kdx_value_release(&idx);
				err = kdx_error_create(KDX_ERR_INVALID, "column %zu: array index is not a number", pos + 1);
				break;
			}
			err = load(e, &idx, &i);
			kdx_value_release(&idx);
			if (err)
				break;
			struct kdx_type *b = bare(v->type);
			if (e->skip && b && b->kind == KDX_TYPE_POINTER) {
				kdx_value_lvalue(&tmp, b->target, 0);
			} else if ((err = kdx_value_index(e->s, v, (int64_t)i, &tmp))) {
				break;
			}
			kdx_value_release(v);
			*v = tmp;
		} else {
			break;
		}
	}
	return err;
}

static struct kdx_error *parse_cast(struct ev *e, struct kdx_value *v, struct kdx_type *to, size_t pos)
{
	struct kdx_type *bt = bare(to);
	uint64_t u;
	struct kdx_error *err;

	if ((err = parse_unary(e, v)))
		return err;
	if (bt->kind == KDX_TYPE_VOID) {
		set_rvalue(v, to, 0);
		return NULL;
	}
	if (bt->kind == KDX_TYPE_STRUCT || bt->kind == KDX_TYPE_UNION || bt->kind == KDX_TYPE_ARRAY) {
		/* gdb allows reinterpreting an object in memory: (struct T)obj */
		if (v->is_lvalue) {
			v->type = to;
			return NULL;
		}
		return kdx_error_create(KDX_ERR_INVALID, "column %zu: cannot cast a number to an aggregate; cast to a pointer and dereference",
					pos + 1);
	}
	if (!scalar_or_ptr(v->type))
		return kdx_error_create(KDX_ERR_INVALID, "column %zu: cannot cast this value to a scalar", pos + 1);
	if ((err = load(e, v, &u)))
		return err;
	set_rvalue(v, to, u);
	return NULL;
}

/* At "( TYPE )" (a cast, sizeof's operand): parse it into *T, *FOUND = 1;
 * else stay where we are, *FOUND = 0. */
static struct kdx_error *paren_type(struct ev *e, struct kdx_type **t, int *found)
{
	struct mark m;
	struct kdx_error *err;

	*found = 0;
	if (!is_punct(e, "("))
		return NULL;
	mark_save(e, &m);
	if ((err = lex(e)))
		return err;
	if (!at_type_start(e)) {
		mark_restore(e, &m);
		return NULL;
	}
	*found = 1;
	if ((err = parse_type(e, t)) || (err = expect(e, ")")))
		return err;
	return NULL;
}

static struct kdx_error *parse_unary_nested(struct ev *e, struct kdx_value *v);

/* Every recursion of the parser (parentheses, casts, prefix operators)
 * passes through here: bound it. */
static struct kdx_error *parse_unary(struct ev *e, struct kdx_value *v)
{
	struct kdx_error *err;

	if (e->depth >= EV_MAX_DEPTH)
		return syntax(e, e->tok.pos, "expression nested more than %d deep", EV_MAX_DEPTH);
	e->depth++;
	err = parse_unary_nested(e, v);
	e->depth--;
	return err;
}

static struct kdx_error *parse_unary_nested(struct ev *e, struct kdx_value *v)
{
	struct kdx_error *err;
	size_t pos = e->tok.pos;

	if (e->tok.kind == T_PUNCT) {
		char op = e->tok.text[0];
		if (e->tok.textlen == 1 && strchr("-+~!*&", op)) {
			uint64_t u;
			if ((err = lex(e)) || (err = parse_unary(e, v)))
				return err;
			if (op == '*') {
				struct kdx_value tmp = {0};
				struct kdx_type *b = bare(v->type);
				if (e->skip && b && b->kind == KDX_TYPE_POINTER && b->target) {
					kdx_value_lvalue(&tmp, b->target, 0);
				} else if (b && (b->kind == KDX_TYPE_FUNCTION)) {
					return NULL;   /* *func is func */
				} else if ((err = kdx_value_deref(e->s, v, &tmp))) {
					return err;
				}
				kdx_value_release(v);
				*v = tmp;
				return NULL;
			}
			if (op == '&') {
				struct kdx_value tmp = {0};
				if ((err = kdx_value_address_of(e->s, v, &tmp)))
					return kdx_error_prefix(err, "column %zu", pos + 1);
				kdx_value_release(v);
				*v = tmp;
				return NULL;
			}
			if (op == '!') {
				if (!scalar_or_ptr(v->type))
					return not_arith(e, pos, "!");
				if ((err = load(e, v, &u)))
					return err;
				set_rvalue(v, e->t_int, u == 0);
				return NULL;
			}
			if (!is_integral(v->type))
				return kdx_error_create(KDX_ERR_INVALID, "column %zu: operand of '%c' must be a number",
							pos + 1, op);
			struct kdx_type *pt = promote(e, v->type);
			if ((err = load(e, v, &u)))
				return err;
			u = kdx_value_normalize(pt, u);
			if (op == '-')
				u = (uint64_t)0 - u;
			else if (op == '~')
				u = ~u;
			set_rvalue(v, pt, u);
			return NULL;
		}
		struct kdx_type *t;
		int cast;
		if ((err = paren_type(e, &t, &cast)))
			return err;
		if (cast)
			return parse_cast(e, v, t, pos);
	}
	if (is_id(e, "sizeof")) {
		uint64_t size;
		if ((err = lex(e)))
			return err;
		struct kdx_type *t;
		int of_type;
		if ((err = paren_type(e, &t, &of_type)))
			return err;
		if (of_type) {
			size = bare(t)->size;
		} else {
			struct kdx_value tmp = {0};
			e->skip++;
			err = parse_unary(e, &tmp);
			e->skip--;
			if (err) {
				kdx_value_release(&tmp);
				return err;
			}
			size = bare(tmp.type)->size;
			if (tmp.bit_size)
				err = kdx_error_create(KDX_ERR_INVALID, "column %zu: sizeof a bit field", pos + 1);
			kdx_value_release(&tmp);
			if (err)
				return err;
		}
		set_rvalue(v, e->t_ulong, size);
		return NULL;
	}
	return parse_postfix(e, v);
}

/* Binary operator levels, lowest first. */
static const char *const levels[][5] = {
	{ "|", NULL },
	{ "^", NULL },
	{ "&", NULL },
	{ "==", "!=", NULL },
	{ "<", ">", "<=", ">=", NULL },
	{ "<<", ">>", NULL },
	{ "+", "-", NULL },
	{ "*", "/", "%", NULL },
};
#define NLEVELS (sizeof(levels) / sizeof(levels[0]))

static const char *match_level(struct ev *e, size_t level)
{
	if (e->tok.kind != T_PUNCT)
		return NULL;
	for (int i = 0; levels[level][i]; i++)
		if (!strcmp(e->tok.text, levels[level][i]))
			return levels[level][i];
	return NULL;
}

static struct kdx_error *parse_level(struct ev *e, size_t level, struct kdx_value *v)
{
	struct kdx_error *err;
	const char *op;

	if (level == NLEVELS)
		return parse_unary(e, v);
	if ((err = parse_level(e, level + 1, v)))
		return err;
	while ((op = match_level(e, level))) {
		struct kdx_value rhs = {0};
		size_t pos = e->tok.pos;
		if ((err = lex(e)) || (err = parse_level(e, level + 1, &rhs))) {
			kdx_value_release(&rhs);
			return err;
		}
		err = binary(e, op, pos, v, &rhs);
		kdx_value_release(&rhs);
		if (err)
			return err;
	}
	return NULL;
}

static struct kdx_error *truth(struct ev *e, struct kdx_value *v, size_t pos, const char *op, int *ret)
{
	uint64_t u;
	struct kdx_error *err;

	if (!scalar_or_ptr(v->type))
		return not_arith(e, pos, op);
	if ((err = load(e, v, &u)))
		return err;
	*ret = u != 0;
	return NULL;
}

/*
 * a && b && ... (IS_OR 0: operands are binary-operator expressions) or
 * a || b || ... (IS_OR 1: operands are && chains), left to right. Once the
 * result is known the right side is parsed but not evaluated (e->skip).
 */
static struct kdx_error *parse_logical(struct ev *e, int is_or, struct kdx_value *v)
{
	const char *op = is_or ? "||" : "&&";
	struct kdx_error *err;

	if ((err = is_or ? parse_logical(e, 0, v) : parse_level(e, 0, v)))
		return err;
	while (is_punct(e, op)) {
		size_t pos = e->tok.pos;
		int a, b = 0;
		struct kdx_value rhs = {0};
		if ((err = truth(e, v, pos, op, &a)) || (err = lex(e)))
			return err;
		int known = is_or ? a : !a;
		if (known)
			e->skip++;
		err = is_or ? parse_logical(e, 0, &rhs) : parse_level(e, 0, &rhs);
		if (!err)
			err = truth(e, &rhs, pos, op, &b);
		if (known)
			e->skip--;
		kdx_value_release(&rhs);
		if (err)
			return err;
		set_rvalue(v, e->t_int, is_or ? (a || b) : (a && b));
	}
	return NULL;
}

static struct kdx_error *parse_cond(struct ev *e, struct kdx_value *v)
{
	struct kdx_error *err;
	int c;

	if ((err = parse_logical(e, 1, v)))
		return err;
	if (!is_punct(e, "?"))
		return NULL;
	size_t pos = e->tok.pos;
	if ((err = truth(e, v, pos, "?", &c)) || (err = lex(e)))
		return err;
	struct kdx_value a = {0}, b = {0};
	if (!c)
		e->skip++;
	err = parse_expr(e, &a);
	if (!c)
		e->skip--;
	if (!err)
		err = expect(e, ":");
	if (!err) {
		if (c)
			e->skip++;
		/* a ? b : c ? d : ... recurses here, not through parse_unary */
		if (e->depth >= EV_MAX_DEPTH) {
			err = syntax(e, e->tok.pos, "expression nested more than %d deep", EV_MAX_DEPTH);
		} else {
			e->depth++;
			err = parse_cond(e, &b);
			e->depth--;
		}
		if (c)
			e->skip--;
	}
	if (err) {
		kdx_value_release(&a);
		kdx_value_release(&b);
		return err;
	}
	kdx_value_release(v);
	if (c) {
		*v = a;
		kdx_value_release(&b);
	} else {
		*v = b;
		kdx_value_release(&a);
	}
	return NULL;
}

static struct kdx_error *parse_expr(struct ev *e, struct kdx_value *v)
{
	struct kdx_error *err = parse_cond(e, v);
	/* comma operator: evaluate left, keep right */
	while (!err && is_punct(e, ",")) {
		kdx_value_release(v);
		memset(v, 0, sizeof(*v));
		if ((err = lex(e)))
			break;
		err = parse_cond(e, v);
	}
	return err;
}

struct kdx_error *kdx_eval_expr_cpu(struct kdx_session *s, const char *expr, int cpu,
				    struct kdx_value *ret)
{
	struct ev e = { .s = s, .src = expr, .cpu = cpu };
	struct kdx_error *err;

	memset(ret, 0, sizeof(*ret));
	init_types(&e);
	if ((err = lex(&e)))
		return err;
	if (e.tok.kind == T_EOF)
		return kdx_error_create(KDX_ERR_SYNTAX, "empty expression");
	if (!(err = parse_expr(&e, ret)) && e.tok.kind != T_EOF) {
		if (is_punct(&e, ")"))
			err = syntax(&e, e.tok.pos, "unbalanced ')'");
		else
			err = syntax(&e, e.tok.pos, "unexpected '%.*s'", (int)e.tok.len, expr + e.tok.pos);
	}
	if (err) {
		kdx_value_release(ret);
		memset(ret, 0, sizeof(*ret));
	}
	return err;
}

struct kdx_error *kdx_eval_expr(struct kdx_session *s, const char *expr, struct kdx_value *ret)
{
	return kdx_eval_expr_cpu(s, expr, -1, ret);
}

struct kdx_error *kdx_eval_address(struct kdx_session *s, const char *expr, int cpu,
				   uint64_t *addr)
{
	struct kdx_value v;
	struct kdx_error *err;

	if (isxdigit((unsigned char)expr[0])) {
		uint64_t u;
		err = kdx_parse_u64(expr, 1, &u);
		if (!err) {
			*addr = u;
			return NULL;
		}
		kdx_error_destroy(err);
	}
	if ((err = kdx_eval_expr_cpu(s, expr, cpu, &v)))
		return err;
	struct kdx_type *b = kdx_value_type_bare(v.type);
	if (v.is_lvalue && b && (b->kind == KDX_TYPE_STRUCT || b->kind == KDX_TYPE_UNION ||
				 b->kind == KDX_TYPE_ARRAY)) {
		*addr = v.addr;
		kdx_value_release(&v);
		return NULL;
	}
	err = kdx_value_as_u64(s, &v, addr);
	kdx_value_release(&v);
	return err;
}

