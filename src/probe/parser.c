/*
 * Probe language parser: hand-written recursive descent over the token
 * array, building the AST in the script's arena. Every error names the
 * position (file:line:col), quotes the line, and says what was expected.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"
#include "util.h"

/* Nesting of expressions/statements is bounded so that a hostile script
 * cannot overflow the C stack of the parser (or of the checker and the
 * interpreter, which recurse over the same tree). */
#define MAX_DEPTH 200

struct parser {
	struct pscript *sc;
	struct token *t;        /* current */
	struct token *end;
	int depth;
	int loops;              /* enclosing loops (break/continue) */
	int in_function;
};

static struct node *expr(struct parser *P, struct kdx_error **err);
static struct node *statement(struct parser *P, struct kdx_error **err);

static struct node *mk(struct parser *P, enum nkind k, const struct token *at)
{
	struct node *n = arena_alloc(&P->sc->arena, sizeof(*n));
	n->k = k;
	n->line = at->line;
	n->col = at->col;
	n->builtin = -1;
	n->slot = -1;
	return n;
}

static void describe(const struct token *t, char *buf, size_t len)
{
	switch (t->t) {
	case T_IDENT: snprintf(buf, len, "identifier '%s'", t->str); break;
	case T_NUM: snprintf(buf, len, "number %lld", (long long)t->num); break;
	case T_STR: snprintf(buf, len, "string \"%.20s%s\"", t->str, strlen(t->str) > 20 ? "..." : ""); break;
	case T_CTXVAR: snprintf(buf, len, "'$%s'", t->str); break;
	case T_ATNAME: snprintf(buf, len, "'@%s'", t->str); break;
	default: snprintf(buf, len, "%s", probe_tok_name(t->t)); break;
	}
}

static struct kdx_error *perr(struct parser *P, const struct token *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct kdx_error *perr(struct parser *P, const struct token *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return probe_diag(&P->sc->src, at->line, at->col, "%s", msg);
}

/* "expected X WHY, got Y" at the current token. */
static struct kdx_error *expected(struct parser *P, const char *what)
{
	char got[96];
	describe(P->t, got, sizeof(got));
	return perr(P, P->t, "expected %s, got %s", what, got);
}

static int accept(struct parser *P, enum tok t)
{
	if (P->t->t != t)
		return 0;
	if (P->t->t != T_EOF)
		P->t++;
	return 1;
}

static int expect(struct parser *P, enum tok t, const char *why, struct kdx_error **err)
{
	if (accept(P, t))
		return 1;
	char what[128];
	snprintf(what, sizeof(what), "%s%s%s", probe_tok_name(t), why ? " " : "", why ? why : "");
	*err = expected(P, what);
	return 0;
}

static void push_node(struct parser *P, struct node ***v, size_t *n, size_t *cap, struct node *x)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct node **nv = arena_alloc(&P->sc->arena, nc * sizeof(*nv));
		if (*n)
			memcpy(nv, *v, *n * sizeof(*nv));
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = x;
}

/* ---------------------------------------------------------- expressions */

/* Comma-separated expressions into N->v, through the closing token CLOSE
 * (an empty list only if ALLOW_EMPTY); MISSING names what was expected when
 * neither ',' nor CLOSE follows an expression. */
static struct node *expr_list(struct parser *P, struct node *n, enum tok close, int allow_empty,
			      const char *missing, struct kdx_error **err)
{
	size_t cap = 0;
	if (allow_empty && accept(P, close))
		return n;
	for (;;) {
		struct node *a = expr(P, err);
		if (!a)
			return NULL;
		push_node(P, &n->v, &n->n, &cap, a);
		if (accept(P, close))
			return n;
		if (!accept(P, T_COMMA)) {
			*err = expected(P, missing);
			return NULL;
		}
	}
}

static struct node *call_args(struct parser *P, struct node *call, const char *what,
			      struct kdx_error **err)
{
	char w[160];
	snprintf(w, sizeof(w), "',' or ')' in the arguments of %s", what);
	return expr_list(P, call, T_RPAREN, 1, w, err);
}

static struct node *primary(struct parser *P, struct kdx_error **err)
{
	struct token *t = P->t;
	struct node *n;

	switch (t->t) {
	case T_NUM:
		P->t++;
		n = mk(P, N_NUM, t);
		n->num = t->num;
		return n;
	case T_STR:
		P->t++;
		n = mk(P, N_STR, t);
		n->str = t->str;
		n->slen = t->len;
		/* Adjacent string literals concatenate, as in C. */
		while (P->t->t == T_STR) {
			size_t l = n->slen + P->t->len;
			char *s = arena_alloc(&P->sc->arena, l + 1);
			memcpy(s, n->str, n->slen);
			memcpy(s + n->slen, P->t->str, P->t->len);
			n->str = s;
			n->slen = l;
			P->t++;
		}
		return n;
	case T_ARGNUM:
	case T_ARGSTR: {
		P->t++;
		int argc = P->sc->argc;
		if (t->num == -1) {
			n = mk(P, N_NUM, t);
			n->num = argc;
			return n;
		}
		const char *sig = t->t == T_ARGNUM ? "$" : "@";
		if (t->num < 1 || t->num > argc) {
			*err = perr(P, t, "script argument %s%lld not given (the script got %d argument%s)",
				    sig, (long long)t->num, argc, argc == 1 ? "" : "s");
			return NULL;
		}
		const char *arg = P->sc->argv[t->num - 1];
		if (t->t == T_ARGSTR) {
			n = mk(P, N_STR, t);
			n->str = arena_strndup(&P->sc->arena, arg, strlen(arg));
			n->slen = strlen(arg);
			return n;
		}
		char *end;
		int neg = arg[0] == '-';
		unsigned long long v = strtoull(arg + neg, &end, 0);
		if (!arg[neg] || *end) {
			*err = perr(P, t, "script argument $%lld is '%s': not a number (use @%lld for a string)",
				    (long long)t->num, arg, (long long)t->num);
			return NULL;
		}
		n = mk(P, N_NUM, t);
		n->num = neg ? (int64_t)(0 - v) : (int64_t)v;
		return n;
	}
	case T_CTXVAR:
		P->t++;
		n = mk(P, N_CTX, t);
		n->name = t->str;
		return n;
	case T_IDENT:
		P->t++;
		if (accept(P, T_LPAREN)) {
			n = mk(P, N_CALL, t);
			n->name = t->str;
			char what[96];
			snprintf(what, sizeof(what), "%s()", t->str);
			return call_args(P, n, what, err);
		}
		if (accept(P, T_LBRACK)) {
			n = mk(P, N_ARR, t);
			n->name = t->str;
			if (!expr_list(P, n, T_RBRACK, 0, "',' or ']' in the array index", err))
				return NULL;
			if (n->n > 9) {
				*err = perr(P, t, "array %s indexed with %zu keys: at most 9 are allowed",
					    t->str, n->n);
				return NULL;
			}
			return n;
		}
		n = mk(P, N_VAR, t);
		n->name = t->str;
		return n;
	case T_ATNAME: {
		P->t++;
		if (!expect(P, T_LPAREN, "after the @-operator", err))
			return NULL;
		if (!strcmp(t->str, "cast")) {
			n = mk(P, N_CAST, t);
		} else if (!strcmp(t->str, "defined")) {
			n = mk(P, N_DEFINED, t);
		} else {
			int op = probe_at_find(t->str);
			if (op < 0) {
				*err = perr(P, t, "unknown operator '@%s': expected one of @count @sum @min @max @avg @hist_log @hist_linear @cast @defined",
					    t->str);
				return NULL;
			}
			n = mk(P, N_AT, t);
			n->op = op;
		}
		n->name = t->str;
		char what[64];
		snprintf(what, sizeof(what), "@%s()", t->str);
		return call_args(P, n, what, err);
	}
	case T_LPAREN: {
		P->t++;
		n = expr(P, err);
		if (!n)
			return NULL;
		if (!expect(P, T_RPAREN, "to close '('", err))
			return NULL;
		return n;
	}
	case T_LBRACK: {
		/* [k1, k2] in array */
		P->t++;
		n = mk(P, N_IN, t);
		if (!expr_list(P, n, T_RBRACK, 0, "',' or ']' in the key list", err))
			return NULL;
		if (!expect(P, T_IN, "after the key list [...]", err))
			return NULL;
		if (P->t->t != T_IDENT) {
			*err = expected(P, "an array name after 'in'");
			return NULL;
		}
		n->name = P->t->str;
		P->t++;
		return n;
	}
	default:
		*err = expected(P, "an expression (number, string, variable, function call, $variable, @operator or '(')");
		return NULL;
	}
}

static struct node *postfix(struct parser *P, struct kdx_error **err)
{
	struct node *n = primary(P, err);
	while (n) {
		struct token *t = P->t;
		if (accept(P, T_ARROW)) {
			/* kernel members may be spelled like keywords (->next) */
			if (P->t->t != T_IDENT && !(P->t->t >= T_PROBE && P->t->t <= T_CATCH)) {
				*err = expected(P, "a member name after '->'");
				return NULL;
			}
			struct node *m = mk(P, N_MEMBER, P->t);
			m->a = n;
			m->name = P->t->str;
			P->t++;
			n = m;
		} else if (t->t == T_LBRACK && n->k != N_ARR) {
			P->t++;
			struct node *m = mk(P, N_INDEX, t);
			m->a = n;
			if (!(m->b = expr(P, err)))
				return NULL;
			if (!expect(P, T_RBRACK, "to close the index", err))
				return NULL;
			n = m;
		} else if (t->t == T_INC || t->t == T_DEC) {
			P->t++;
			struct node *m = mk(P, N_POSTINC, t);
			m->op = t->t;
			m->a = n;
			n = m;
		} else if (t->t == T_DOLLAR1 || t->t == T_DOLLAR2) {
			P->t++;
			struct node *m = mk(P, N_PRETTY, t);
			m->num = t->t == T_DOLLAR1 ? 1 : 2;
			m->a = n;
			n = m;
		} else {
			break;
		}
	}
	return n;
}

static struct node *unary(struct parser *P, struct kdx_error **err)
{
	struct token *t = P->t;
	struct node *n;

	if (++P->depth > MAX_DEPTH) {
		*err = perr(P, t, "expression nested too deeply (more than %d levels)", MAX_DEPTH);
		return NULL;
	}
	switch (t->t) {
	case T_MINUS: case T_NOT: case T_TILDE: case T_PLUS:
		P->t++;
		n = mk(P, N_UNARY, t);
		n->op = t->t;
		n->a = unary(P, err);
		break;
	case T_AMP:
		P->t++;
		n = mk(P, N_ADDR, t);
		n->a = unary(P, err);
		break;
	case T_STAR:
		P->t++;
		n = mk(P, N_DEREF, t);
		n->a = unary(P, err);
		break;
	case T_INC: case T_DEC:
		P->t++;
		n = mk(P, N_PREINC, t);
		n->op = t->t;
		n->a = unary(P, err);
		break;
	default:
		n = postfix(P, err);
		P->depth--;
		return n;
	}
	P->depth--;
	return n->a ? n : NULL;
}

/* Binary operator levels, lowest first. */
static const enum tok level_ops[][4] = {
	{ T_OROR }, { T_ANDAND }, { T_PIPE }, { T_CARET }, { T_AMP },
	{ T_EQ, T_NE }, { T_LT, T_GT, T_LE, T_GE }, { T_IN },
	{ T_SHL, T_SHR }, { T_PLUS, T_MINUS, T_DOT }, { T_STAR, T_SLASH, T_PERCENT },
};
#define NLEVELS ((int)(sizeof(level_ops) / sizeof(level_ops[0])))

static struct node *binary(struct parser *P, int level, struct kdx_error **err)
{
	if (level == NLEVELS)
		return unary(P, err);
	struct node *l = binary(P, level + 1, err);
	while (l) {
		struct token *t = P->t;
		int match = 0;
		for (int i = 0; i < 4 && level_ops[level][i]; i++)
			if (t->t == level_ops[level][i])
				match = 1;
		if (!match)
			break;
		P->t++;
		if (t->t == T_IN) {
			/* k in array: the array name follows */
			if (P->t->t != T_IDENT) {
				*err = expected(P, "an array name after 'in'");
				return NULL;
			}
			struct node *n = mk(P, N_IN, t);
			n->name = P->t->str;
			P->t++;
			n->v = arena_alloc(&P->sc->arena, sizeof(*n->v));
			n->v[0] = l;
			n->n = 1;
			l = n;
			continue;
		}
		struct node *r = binary(P, level + 1, err);
		if (!r)
			return NULL;
		struct node *n = mk(P, t->t == T_OROR ? N_LOR : t->t == T_ANDAND ? N_LAND : N_BIN, t);
		n->op = t->t;
		n->a = l;
		n->b = r;
		l = n;
	}
	return l;
}

static int is_assign_op(enum tok t)
{
	return t == T_ASSIGN || (t >= T_ADD_ASSIGN && t <= T_XOR_ASSIGN);
}

static struct node *expr(struct parser *P, struct kdx_error **err)
{
	if (++P->depth > MAX_DEPTH) {
		*err = perr(P, P->t, "expression nested too deeply (more than %d levels)", MAX_DEPTH);
		return NULL;
	}
	struct node *l = binary(P, 0, err);
	if (!l)
		return NULL;
	struct token *t = P->t;
	if (t->t == T_QUEST) {
		P->t++;
		struct node *n = mk(P, N_TERNARY, t);
		n->a = l;
		if (!(n->b = expr(P, err)))
			return NULL;
		if (!expect(P, T_COLON, "in the conditional expression a ? b : c", err))
			return NULL;
		if (!(n->c = expr(P, err)))
			return NULL;
		l = n;
	} else if (is_assign_op(t->t) || t->t == T_AGG) {
		P->t++;
		struct node *n = mk(P, t->t == T_AGG ? N_AGGADD : N_ASSIGN, t);
		n->op = t->t;
		n->a = l;
		if (!(n->b = expr(P, err)))
			return NULL;
		l = n;
	}
	P->depth--;
	return l;
}

/* ------------------------------------------------------------ statements */

static struct node *block(struct parser *P, struct kdx_error **err)
{
	struct token *t = P->t;
	if (!expect(P, T_LBRACE, NULL, err))
		return NULL;
	struct node *b = mk(P, N_BLOCK, t);
	size_t cap = 0;
	while (!accept(P, T_RBRACE)) {
		if (P->t->t == T_EOF) {
			*err = perr(P, t, "unterminated block: expected '}' to close this '{' before the end of the script");
			return NULL;
		}
		struct node *s = statement(P, err);
		if (!s)
			return NULL;
		push_node(P, &b->v, &b->n, &cap, s);
	}
	return b;
}

static struct node *loop_body(struct parser *P, struct kdx_error **err)
{
	P->loops++;
	struct node *s = statement(P, err);
	P->loops--;
	return s;
}

static struct node *foreach_stmt(struct parser *P, struct token *t, struct kdx_error **err)
{
	struct node *n = mk(P, N_FOREACH, t);
	size_t cap = 0;

	if (!expect(P, T_LPAREN, "after 'foreach'", err))
		return NULL;
	/* optional "v =" */
	if (P->t->t == T_IDENT && P->t[1].t == T_ASSIGN) {
		n->valvar = mk(P, N_VAR, P->t);
		n->valvar->name = P->t->str;
		P->t += 2;
		if (P->t->t != T_LBRACK) {
			*err = expected(P, "'[' (foreach (v = [k] in array))");
			return NULL;
		}
	}
	int bracket = accept(P, T_LBRACK);
	for (;;) {
		if (P->t->t != T_IDENT) {
			*err = expected(P, bracket ? "a key variable name in [...]" : "a key variable name or '['");
			return NULL;
		}
		struct node *k = mk(P, N_VAR, P->t);
		k->name = P->t->str;
		P->t++;
		push_node(P, &n->v, &n->n, &cap, k);
		if (P->t->t == T_PLUS || P->t->t == T_MINUS) {
			if (n->sort_key) {
				*err = perr(P, P->t, "only one sort order (+ or -) is allowed in foreach");
				return NULL;
			}
			n->sort_key = (int)n->n;
			n->sort_dir = P->t->t == T_PLUS ? 1 : -1;
			P->t++;
		}
		if (!bracket)
			break;
		if (accept(P, T_RBRACK))
			break;
		if (!accept(P, T_COMMA)) {
			*err = expected(P, "',' or ']' in the foreach key list");
			return NULL;
		}
	}
	if (n->n > 9) {
		*err = perr(P, t, "foreach with %zu keys: arrays have at most 9", n->n);
		return NULL;
	}
	if (!expect(P, T_IN, "in foreach (keys in array)", err))
		return NULL;
	if (P->t->t != T_IDENT) {
		*err = expected(P, "an array name after 'in'");
		return NULL;
	}
	n->name = P->t->str;
	n->a = mk(P, N_VAR, P->t);
	n->a->name = P->t->str;
	P->t++;
	/* statistics arrays: foreach (k in a @sum-) sorts by that aggregate */
	if (P->t->t == T_ATNAME) {
		int agg = probe_at_find(P->t->str);
		if (agg < 0 || agg > AT_AVG) {
			*err = perr(P, P->t, "'@%s' after the array: expected @count, @sum, @min, @max or @avg and then + or -",
				    P->t->str);
			return NULL;
		}
		n->sort_agg = agg;
		P->t++;
		if (P->t->t != T_PLUS && P->t->t != T_MINUS) {
			*err = expected(P, "'+' or '-' after the aggregate (foreach (k in a @sum-))");
			return NULL;
		}
	}
	if (P->t->t == T_PLUS || P->t->t == T_MINUS) {
		if (n->sort_key) {
			*err = perr(P, P->t, "only one sort order (+ or -) is allowed in foreach");
			return NULL;
		}
		n->sort_key = -1;
		n->sort_dir = P->t->t == T_PLUS ? 1 : -1;
		P->t++;
	}
	if (P->t->t == T_IDENT && !strcmp(P->t->str, "limit")) {
		P->t++;
		if (!(n->b = expr(P, err)))
			return NULL;
	}
	if (!expect(P, T_RPAREN, "to close foreach (...)", err))
		return NULL;
	if (!(n->c = loop_body(P, err)))
		return NULL;
	return n;
}

static struct node *statement_inner(struct parser *P, struct kdx_error **err)
{
	struct token *t = P->t;
	struct node *n;

	switch (t->t) {
	case T_LBRACE:
		return block(P, err);
	case T_SEMI:
		P->t++;
		return mk(P, N_EMPTY, t);
	case T_IF:
		P->t++;
		n = mk(P, N_IF, t);
		if (!expect(P, T_LPAREN, "after 'if'", err) || !(n->a = expr(P, err)) ||
		    !expect(P, T_RPAREN, "to close the if condition", err) ||
		    !(n->b = statement(P, err)))
			return NULL;
		if (accept(P, T_ELSE) && !(n->c = statement(P, err)))
			return NULL;
		return n;
	case T_WHILE:
		P->t++;
		n = mk(P, N_WHILE, t);
		if (!expect(P, T_LPAREN, "after 'while'", err) || !(n->a = expr(P, err)) ||
		    !expect(P, T_RPAREN, "to close the while condition", err) ||
		    !(n->b = loop_body(P, err)))
			return NULL;
		return n;
	case T_FOR:
		P->t++;
		n = mk(P, N_FOR, t);
		if (!expect(P, T_LPAREN, "after 'for'", err))
			return NULL;
		if (P->t->t != T_SEMI && !(n->a = expr(P, err)))
			return NULL;
		if (!expect(P, T_SEMI, "after the for initializer", err))
			return NULL;
		if (P->t->t != T_SEMI && !(n->b = expr(P, err)))
			return NULL;
		if (!expect(P, T_SEMI, "after the for condition", err))
			return NULL;
		if (P->t->t != T_RPAREN && !(n->c = expr(P, err)))
			return NULL;
		if (!expect(P, T_RPAREN, "to close for (...)", err) || !(n->d = loop_body(P, err)))
			return NULL;
		return n;
	case T_FOREACH:
		P->t++;
		return foreach_stmt(P, t, err);
	case T_BREAK:
	case T_CONTINUE:
		P->t++;
		if (!P->loops) {
			*err = perr(P, t, "'%s' outside of a loop (while, for, foreach)", t->str);
			return NULL;
		}
		n = mk(P, t->t == T_BREAK ? N_BREAK : N_CONTINUE, t);
		accept(P, T_SEMI);
		return n;
	case T_NEXT:
		P->t++;
		n = mk(P, N_NEXT, t);
		accept(P, T_SEMI);
		return n;
	case T_RETURN:
		P->t++;
		if (!P->in_function) {
			*err = perr(P, t, "'return' outside of a function (use 'next' to leave a probe handler)");
			return NULL;
		}
		n = mk(P, N_RETURN, t);
		if (P->t->t != T_SEMI && P->t->t != T_RBRACE && !(n->a = expr(P, err)))
			return NULL;
		accept(P, T_SEMI);
		return n;
	case T_DELETE:
		P->t++;
		n = mk(P, N_DELETE, t);
		if (!(n->a = expr(P, err)))
			return NULL;
		if (n->a->k != N_VAR && n->a->k != N_ARR) {
			*err = perr(P, t, "delete needs a variable, an array or an array element (delete x, delete a, delete a[k])");
			return NULL;
		}
		accept(P, T_SEMI);
		return n;
	case T_TRY:
		P->t++;
		n = mk(P, N_TRY, t);
		if (!(n->a = block(P, err)))
			return NULL;
		if (!expect(P, T_CATCH, "after the try block", err))
			return NULL;
		if (accept(P, T_LPAREN)) {
			if (P->t->t != T_IDENT) {
				*err = expected(P, "a variable name in catch (msg)");
				return NULL;
			}
			n->valvar = mk(P, N_VAR, P->t);
			n->valvar->name = P->t->str;
			P->t++;
			if (!expect(P, T_RPAREN, "to close catch (msg)", err))
				return NULL;
		}
		if (!(n->b = block(P, err)))
			return NULL;
		return n;
	case T_PROBE: case T_GLOBAL: case T_FUNCTION:
		*err = perr(P, t, "%s inside a block: expected a statement (probe, global and function are top-level only; is a '}' missing?)",
			    probe_tok_name(t->t));
		return NULL;
	case T_ELSE:
		*err = perr(P, t, "'else' without a matching 'if'");
		return NULL;
	default:
		n = mk(P, N_EXPRSTMT, t);
		if (!(n->a = expr(P, err)))
			return NULL;
		accept(P, T_SEMI);
		return n;
	}
}

static struct node *statement(struct parser *P, struct kdx_error **err)
{
	if (++P->depth > MAX_DEPTH) {
		*err = perr(P, P->t, "statements nested too deeply (more than %d levels)", MAX_DEPTH);
		return NULL;
	}
	struct node *n = statement_inner(P, err);
	P->depth--;
	return n;
}

/* ------------------------------------------------------------ top level */

static const char point_list[] =
	"begin, end, error, task, task.process, task.frame, list(\"HEAD\", \"struct T\", \"member\"), hlist(...), module, cpu";

static struct kdx_error *probe_point(struct parser *P, struct ppoint *pp)
{
	struct token *start = P->t;
	struct kdx_strbuf text = { 0 };
	struct kdx_error *err = NULL;
	char comps[4][32];
	int ncomp = 0;

	pp->line = start->line;
	pp->col = start->col;
	for (;;) {
		if (P->t->t != T_IDENT && !(P->t->t >= T_PROBE && P->t->t <= T_CATCH)) {
			char what[256];
			snprintf(what, sizeof(what), "a probe point (%s)", point_list);
			err = expected(P, what);
			goto out;
		}
		if (ncomp == 4) {
			err = perr(P, P->t, "probe point has too many components");
			goto out;
		}
		snprintf(comps[ncomp++], sizeof(comps[0]), "%s", P->t->str);
		kdx_strbuf_printf(&text, "%s%s", ncomp > 1 ? "." : "", P->t->str);
		P->t++;
		if (accept(P, T_LPAREN)) {
			kdx_strbuf_printf(&text, "(");
			for (;;) {
				struct token *a = P->t;
				if (a->t != T_STR && a->t != T_NUM) {
					err = expected(P, "a string or number argument of the probe point");
					goto out;
				}
				if (pp->nargs == 3) {
					err = perr(P, a, "too many probe point arguments (at most 3)");
					goto out;
				}
				pp->arg_line[pp->nargs] = a->line;
				pp->arg_col[pp->nargs] = a->col;
				if (a->t == T_STR) {
					pp->args[pp->nargs] = a->str;
					kdx_strbuf_printf(&text, "%s\"%s\"", pp->nargs ? ", " : "", a->str);
				} else {
					char nb[32];
					snprintf(nb, sizeof(nb), "%lld", (long long)a->num);
					pp->args[pp->nargs] = arena_strndup(&P->sc->arena, nb, strlen(nb));
					kdx_strbuf_printf(&text, "%s%s", pp->nargs ? ", " : "", nb);
				}
				pp->nargs++;
				P->t++;
				if (accept(P, T_RPAREN))
					break;
				if (!accept(P, T_COMMA)) {
					err = expected(P, "',' or ')' in the probe point arguments");
					goto out;
				}
			}
			kdx_strbuf_printf(&text, ")");
		}
		if (!accept(P, T_DOT))
			break;
	}

	/* Match against the known points. */
	const char *c0 = comps[0];
	int n = ncomp;
	if (n == 1 && !strcmp(c0, "begin") && !pp->nargs) pp->kind = PP_BEGIN;
	else if (n == 1 && !strcmp(c0, "end") && !pp->nargs) pp->kind = PP_END;
	else if (n == 1 && !strcmp(c0, "error") && !pp->nargs) pp->kind = PP_ERROR;
	else if (n == 1 && !strcmp(c0, "task") && !pp->nargs) pp->kind = PP_TASK;
	else if (n == 2 && !strcmp(c0, "task") && !strcmp(comps[1], "process") && !pp->nargs) pp->kind = PP_TASK_PROCESS;
	else if (n == 2 && !strcmp(c0, "task") && !strcmp(comps[1], "frame") && !pp->nargs) pp->kind = PP_TASK_FRAME;
	else if (n == 1 && !strcmp(c0, "module") && !pp->nargs) pp->kind = PP_MODULE;
	else if (n == 1 && !strcmp(c0, "cpu") && !pp->nargs) pp->kind = PP_CPU;
	else if (n == 1 && (!strcmp(c0, "list") || !strcmp(c0, "hlist"))) {
		pp->kind = c0[0] == 'h' ? PP_HLIST : PP_LIST;
		if (pp->nargs != 3) {
			err = perr(P, start, "%s() takes 3 arguments: %s(\"HEAD_EXPR\", \"struct T\", \"member\"), got %d",
				   c0, c0, pp->nargs);
			goto out;
		}
		for (int i = 0; i < 3; i++) {
			if (!pp->args[i][0] || (i > 0 && strchr(pp->args[i], '"'))) {
				err = probe_diag(&P->sc->src, pp->arg_line[i], pp->arg_col[i],
						 "%s() argument %d is empty: expected %s", c0, i + 1,
						 i == 0 ? "a head expression" : i == 1 ? "a type (\"struct T\")" : "a member name");
				goto out;
			}
		}
		if (strncmp(pp->args[1], "struct ", 7) && strncmp(pp->args[1], "union ", 6)) {
			err = probe_diag(&P->sc->src, pp->arg_line[1], pp->arg_col[1],
					 "%s() entry type \"%s\": expected \"struct NAME\" or \"union NAME\"",
					 c0, pp->args[1]);
			goto out;
		}
	} else if (!strcmp(c0, "kernel") || !strcmp(c0, "timer") || !strcmp(c0, "module") ||
		   !strcmp(c0, "process") || !strcmp(c0, "syscall")) {
		err = perr(P, start, "probe point '%s' needs a live kernel (the kdx agent); against a dump the points are: %s",
			   text.s ? text.s : c0, point_list);
		goto out;
	} else {
		err = perr(P, start, "unknown probe point '%s': expected one of %s",
			   text.s ? text.s : c0, point_list);
		goto out;
	}
	pp->text = arena_strndup(&P->sc->arena, text.s, text.len);
out:
	kdx_strbuf_release(&text);
	return err;
}

static struct kdx_error *parse_probe(struct parser *P)
{
	struct kdx_error *err = NULL;
	struct pprobe *pr = arena_alloc(&P->sc->arena, sizeof(*pr));
	struct token *t = P->t - 1;
	size_t cap = 0;

	pr->line = t->line;
	pr->col = t->col;
	for (;;) {
		if (pr->npoints == cap) {
			size_t nc = cap ? cap * 2 : 2;
			struct ppoint *np = arena_alloc(&P->sc->arena, nc * sizeof(*np));
			if (pr->npoints)
				memcpy(np, pr->points, pr->npoints * sizeof(*np));
			pr->points = np;
			cap = nc;
		}
		if ((err = probe_point(P, &pr->points[pr->npoints])))
			return err;
		pr->npoints++;
		if (!accept(P, T_COMMA))
			break;
	}
	if (accept(P, T_IF)) {
		if (!expect(P, T_LPAREN, "after 'if' in the probe condition", &err) ||
		    !(pr->cond = expr(P, &err)) ||
		    !expect(P, T_RPAREN, "to close the probe condition", &err))
			return err;
	}
	if (P->t->t != T_LBRACE)
		return expected(P, "'{' to start the probe handler (or ',' and another probe point)");
	if (!(pr->body = block(P, &err)))
		return err;
	struct pprobe **np = arena_alloc(&P->sc->arena, (P->sc->nprobes + 1) * sizeof(*np));
	if (P->sc->nprobes)
		memcpy(np, P->sc->probes, P->sc->nprobes * sizeof(*np));
	np[P->sc->nprobes++] = pr;
	P->sc->probes = np;
	return NULL;
}

static struct kdx_error *parse_global(struct parser *P)
{
	struct kdx_error *err = NULL;
	for (;;) {
		if (P->t->t != T_IDENT)
			return expected(P, "a variable name after 'global'");
		struct token *t = P->t;
		for (size_t i = 0; i < P->sc->nglobals; i++)
			if (!strcmp(P->sc->globals[i]->name, t->str))
				return perr(P, t, "global '%s' declared twice (first at line %d)",
					    t->str, P->sc->globals[i]->line);
		struct pglobal *g = arena_alloc(&P->sc->arena, sizeof(*g));
		g->name = t->str;
		g->line = t->line;
		g->col = t->col;
		P->t++;
		if (accept(P, T_LBRACK)) {
			/* size hint, as in SystemTap: global a[1000] */
			if (P->t->t != T_NUM)
				return expected(P, "an array size hint (a number) in global NAME[N]");
			P->t++;
			if (!expect(P, T_RBRACK, "after the array size hint", &err))
				return err;
			g->is_array = 1;
		}
		if (accept(P, T_ASSIGN)) {
			struct token *v = P->t;
			int neg = accept(P, T_MINUS);
			if (P->t->t != T_NUM && (P->t->t != T_STR || neg))
				return expected(P, "a number or string literal as the global's initial value");
			struct node *in = mk(P, P->t->t == T_NUM ? N_NUM : N_STR, v);
			in->num = neg ? (int64_t)(0 - (uint64_t)P->t->num) : P->t->num;
			in->str = P->t->str;
			in->slen = P->t->len;
			P->t++;
			g->init = in;
		}
		struct pglobal **ng = arena_alloc(&P->sc->arena, (P->sc->nglobals + 1) * sizeof(*ng));
		if (P->sc->nglobals)
			memcpy(ng, P->sc->globals, P->sc->nglobals * sizeof(*ng));
		ng[P->sc->nglobals++] = g;
		P->sc->globals = ng;
		if (!accept(P, T_COMMA))
			break;
	}
	accept(P, T_SEMI);
	return NULL;
}

static int type_annotation(struct parser *P, int *ty, struct kdx_error **err)
{
	if (!accept(P, T_COLON))
		return 1;
	if (P->t->t != T_IDENT || (strcmp(P->t->str, "long") && strcmp(P->t->str, "string"))) {
		*err = expected(P, "a type 'long' or 'string' after ':'");
		return 0;
	}
	*ty = P->t->str[0] == 'l' ? TY_LONG : TY_STR;
	P->t++;
	return 1;
}

static struct kdx_error *parse_function(struct parser *P)
{
	struct kdx_error *err = NULL;
	if (P->t->t != T_IDENT)
		return expected(P, "a function name after 'function'");
	struct token *t = P->t;
	if (probe_builtin_find(t->str) >= 0)
		return perr(P, t, "function '%s' redefines a builtin", t->str);
	for (size_t i = 0; i < P->sc->nfuncs; i++)
		if (!strcmp(P->sc->funcs[i]->name, t->str))
			return perr(P, t, "function '%s' defined twice (first at line %d)",
				    t->str, P->sc->funcs[i]->line);
	struct pfunc *f = arena_alloc(&P->sc->arena, sizeof(*f));
	f->name = t->str;
	f->line = t->line;
	f->col = t->col;
	P->t++;
	if (!type_annotation(P, &f->rettype, &err))
		return err;
	if (!expect(P, T_LPAREN, "after the function name", &err))
		return err;
	f->params = arena_alloc(&P->sc->arena, 16 * sizeof(char *));
	if (!accept(P, T_RPAREN)) {
		for (;;) {
			if (P->t->t != T_IDENT)
				return expected(P, "a parameter name");
			if (f->nparams == 16)
				return perr(P, P->t, "too many parameters (at most 16)");
			for (int i = 0; i < f->nparams; i++)
				if (!strcmp(f->params[i], P->t->str))
					return perr(P, P->t, "parameter '%s' appears twice", P->t->str);
			f->params[f->nparams] = P->t->str;
			P->t++;
			if (!type_annotation(P, &f->ptypes[f->nparams], &err))
				return err;
			f->nparams++;
			if (accept(P, T_RPAREN))
				break;
			if (!accept(P, T_COMMA))
				return expected(P, "',' or ')' in the parameter list");
		}
	}
	P->in_function = 1;
	f->body = block(P, &err);
	P->in_function = 0;
	if (!f->body)
		return err;
	struct pfunc **nf = arena_alloc(&P->sc->arena, (P->sc->nfuncs + 1) * sizeof(*nf));
	if (P->sc->nfuncs)
		memcpy(nf, P->sc->funcs, P->sc->nfuncs * sizeof(*nf));
	nf[P->sc->nfuncs++] = f;
	P->sc->funcs = nf;
	return NULL;
}

struct kdx_error *probe_parse(const struct psrc *src, int argc, char **argv,
			      struct pscript **ret)
{
	struct arena *a = NULL;
	struct pscript *sc = arena_alloc(&a, sizeof(*sc));
	struct kdx_error *err;

	sc->src = *src;
	sc->argc = argc;
	sc->argv = argv;
	if ((err = probe_lex(&sc->src, &a, &sc->toks, &sc->ntoks))) {
		arena_free(a);
		return err;
	}
	sc->arena = a;

	struct parser P = { .sc = sc, .t = sc->toks, .end = sc->toks + sc->ntoks };
	while (!err && P.t->t != T_EOF) {
		if (accept(&P, T_PROBE))
			err = parse_probe(&P);
		else if (accept(&P, T_GLOBAL))
			err = parse_global(&P);
		else if (accept(&P, T_FUNCTION))
			err = parse_function(&P);
		else if (accept(&P, T_SEMI))
			continue;
		else
			err = expected(&P, "'probe', 'global' or 'function' at the top level");
	}

	if (!err && sc->nprobes == 0)
		err = probe_diag(&sc->src, sc->toks[0].line, sc->toks[0].col,
				 "no probes in the script: expected at least one 'probe POINT { ... }'");
	if (err) {
		probe_script_free(sc);
		return err;
	}
	*ret = sc;
	return NULL;
}

void probe_script_free(struct pscript *sc)
{
	if (!sc)
		return;
	free(sc->toks);
	arena_free(sc->arena);
}
