/*
 * Probe language lexer: the whole script is tokenized up front (scripts
 * are small; the parser then has unlimited lookahead). Also the arena the
 * AST lives in and the diagnostic formatter shared by parser and checker.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"
#include "util.h"

/* ------------------------------------------------------------------ arena */

struct arena {
	struct arena *next;
	size_t used, cap;
	max_align_t data[];
};

void *arena_alloc(struct arena **a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!*a || (*a)->used + n > (*a)->cap) {
		size_t cap = n > 65536 ? n : 65536;
		struct arena *c = malloc(sizeof(*c) + cap);
		if (!c)
			abort();   /* the AST of a script is tiny; treat as fatal */
		c->next = *a;
		c->used = 0;
		c->cap = cap;
		*a = c;
	}
	void *p = (char *)(*a)->data + (*a)->used;
	(*a)->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena **a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void arena_free(struct arena *a)
{
	while (a) {
		struct arena *n = a->next;
		free(a);
		a = n;
	}
}

/* ------------------------------------------------------------ diagnostics */

struct kdx_error *probe_diag(const struct psrc *src, int line, int col, const char *fmt, ...)
{
	struct kdx_strbuf b = { 0 };
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kdx_strbuf_printf(&b, "%s:%d:%d: %s", src->file, line, col, msg);

	/* Quote the line and put a caret under the column (tabs kept so the
	 * caret lines up in a terminal). */
	const char *p = src->text, *end = src->text + src->len;
	for (int l = 1; l < line && p < end; p++)
		if (*p == '\n')
			l++;
	if (p <= end && line >= 1) {
		const char *e = p;
		while (e < end && *e != '\n')
			e++;
		kdx_strbuf_printf(&b, "\n    %.*s\n    ", (int)(e - p), p);
		for (int c = 1; c < col && p + c - 1 < e; c++)
			kdx_strbuf_append(&b, p[c - 1] == '\t' ? "\t" : " ", 1);
		kdx_strbuf_append(&b, "^", 1);
	}
	char *s = kdx_strbuf_take(&b);
	struct kdx_error *err = kdx_error_create(KDX_ERR_SYNTAX, "%s", s ? s : msg);
	free(s);
	return err;
}

/* ----------------------------------------------------------------- tokens */

static const char *const tok_names[T_NTOKENS] = {
	[T_EOF] = "end of script", [T_IDENT] = "identifier", [T_NUM] = "number",
	[T_STR] = "string", [T_CTXVAR] = "$variable", [T_ARGNUM] = "$N argument",
	[T_ARGSTR] = "@N argument", [T_ATNAME] = "@operator", [T_DOLLAR1] = "'$'",
	[T_DOLLAR2] = "'$$'",
	[T_PROBE] = "'probe'", [T_GLOBAL] = "'global'", [T_FUNCTION] = "'function'",
	[T_IF] = "'if'", [T_ELSE] = "'else'", [T_WHILE] = "'while'", [T_FOR] = "'for'",
	[T_FOREACH] = "'foreach'", [T_IN] = "'in'", [T_BREAK] = "'break'",
	[T_CONTINUE] = "'continue'", [T_NEXT] = "'next'", [T_RETURN] = "'return'",
	[T_DELETE] = "'delete'", [T_TRY] = "'try'", [T_CATCH] = "'catch'",
	[T_LPAREN] = "'('", [T_RPAREN] = "')'", [T_LBRACE] = "'{'", [T_RBRACE] = "'}'",
	[T_LBRACK] = "'['", [T_RBRACK] = "']'", [T_COMMA] = "','", [T_SEMI] = "';'",
	[T_COLON] = "':'", [T_QUEST] = "'?'", [T_DOT] = "'.'", [T_ARROW] = "'->'",
	[T_PLUS] = "'+'", [T_MINUS] = "'-'", [T_STAR] = "'*'", [T_SLASH] = "'/'",
	[T_PERCENT] = "'%'", [T_INC] = "'++'", [T_DEC] = "'--'", [T_ASSIGN] = "'='",
	[T_ADD_ASSIGN] = "'+='", [T_SUB_ASSIGN] = "'-='", [T_MUL_ASSIGN] = "'*='",
	[T_DIV_ASSIGN] = "'/='", [T_MOD_ASSIGN] = "'%='", [T_CAT_ASSIGN] = "'.='",
	[T_SHL_ASSIGN] = "'<<='", [T_SHR_ASSIGN] = "'>>='", [T_AND_ASSIGN] = "'&='",
	[T_OR_ASSIGN] = "'|='", [T_XOR_ASSIGN] = "'^='", [T_EQ] = "'=='", [T_NE] = "'!='",
	[T_LT] = "'<'", [T_LE] = "'<='", [T_GT] = "'>'", [T_GE] = "'>='",
	[T_SHL] = "'<<'", [T_SHR] = "'>>'", [T_AGG] = "'<<<'", [T_AMP] = "'&'",
	[T_PIPE] = "'|'", [T_CARET] = "'^'", [T_TILDE] = "'~'", [T_NOT] = "'!'",
	[T_ANDAND] = "'&&'", [T_OROR] = "'||'",
};

const char *probe_tok_name(enum tok t)
{
	return t < T_NTOKENS && tok_names[t] ? tok_names[t] : "token";
}

static const struct { const char *word; enum tok t; } keywords[] = {
	{ "probe", T_PROBE }, { "global", T_GLOBAL }, { "function", T_FUNCTION },
	{ "if", T_IF }, { "else", T_ELSE }, { "while", T_WHILE }, { "for", T_FOR },
	{ "foreach", T_FOREACH }, { "in", T_IN }, { "break", T_BREAK },
	{ "continue", T_CONTINUE }, { "next", T_NEXT }, { "return", T_RETURN },
	{ "delete", T_DELETE }, { "try", T_TRY }, { "catch", T_CATCH },
};

/* Longest match first. */
static const struct { const char *text; enum tok t; } puncts[] = {
	{ "<<<", T_AGG }, { "<<=", T_SHL_ASSIGN }, { ">>=", T_SHR_ASSIGN },
	{ "->", T_ARROW }, { "++", T_INC }, { "--", T_DEC }, { "+=", T_ADD_ASSIGN },
	{ "-=", T_SUB_ASSIGN }, { "*=", T_MUL_ASSIGN }, { "/=", T_DIV_ASSIGN },
	{ "%=", T_MOD_ASSIGN }, { ".=", T_CAT_ASSIGN }, { "&=", T_AND_ASSIGN },
	{ "|=", T_OR_ASSIGN }, { "^=", T_XOR_ASSIGN }, { "==", T_EQ }, { "!=", T_NE },
	{ "<=", T_LE }, { ">=", T_GE }, { "<<", T_SHL }, { ">>", T_SHR },
	{ "&&", T_ANDAND }, { "||", T_OROR },
	{ "(", T_LPAREN }, { ")", T_RPAREN }, { "{", T_LBRACE }, { "}", T_RBRACE },
	{ "[", T_LBRACK }, { "]", T_RBRACK }, { ",", T_COMMA }, { ";", T_SEMI },
	{ ":", T_COLON }, { "?", T_QUEST }, { ".", T_DOT }, { "+", T_PLUS },
	{ "-", T_MINUS }, { "*", T_STAR }, { "/", T_SLASH }, { "%", T_PERCENT },
	{ "=", T_ASSIGN }, { "<", T_LT }, { ">", T_GT }, { "&", T_AMP },
	{ "|", T_PIPE }, { "^", T_CARET }, { "~", T_TILDE }, { "!", T_NOT },
};

struct lexer {
	const struct psrc *src;
	size_t pos;
	int line, col;
	struct arena **arena;
	struct token *toks;
	size_t n, cap;
};

static int peekc(struct lexer *L, size_t ahead)
{
	return L->pos + ahead < L->src->len ? (unsigned char)L->src->text[L->pos + ahead] : -1;
}

static void advance(struct lexer *L, size_t n)
{
	while (n-- && L->pos < L->src->len) {
		if (L->src->text[L->pos] == '\n') {
			L->line++;
			L->col = 1;
		} else {
			L->col++;
		}
		L->pos++;
	}
}

static struct token *push(struct lexer *L, enum tok t, int line, int col)
{
	if (L->n == L->cap) {
		L->cap = L->cap ? L->cap * 2 : 256;
		struct token *nt = realloc(L->toks, L->cap * sizeof(*nt));
		if (!nt)
			abort();
		L->toks = nt;
	}
	struct token *tk = &L->toks[L->n++];
	memset(tk, 0, sizeof(*tk));
	tk->t = t;
	tk->line = line;
	tk->col = col;
	return tk;
}

static int is_ident_start(int c) { return c == '_' || isalpha(c); }
static int is_ident_char(int c) { return c == '_' || isalnum(c); }

static struct kdx_error *skip_space(struct lexer *L)
{
	for (;;) {
		int c = peekc(L, 0);
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			advance(L, 1);
		} else if (c == '#' || (c == '/' && peekc(L, 1) == '/')) {
			while ((c = peekc(L, 0)) != -1 && c != '\n')
				advance(L, 1);
		} else if (c == '/' && peekc(L, 1) == '*') {
			int line = L->line, col = L->col;
			advance(L, 2);
			for (;;) {
				c = peekc(L, 0);
				if (c == -1)
					return probe_diag(L->src, line, col,
							  "unterminated comment: expected '*/' before the end of the script");
				if (c == '*' && peekc(L, 1) == '/') {
					advance(L, 2);
					break;
				}
				advance(L, 1);
			}
		} else {
			return NULL;
		}
	}
}

static struct kdx_error *lex_string(struct lexer *L)
{
	int line = L->line, col = L->col;
	struct kdx_strbuf b = { 0 };

	advance(L, 1);
	for (;;) {
		int c = peekc(L, 0);
		if (c == -1 || c == '\n') {
			kdx_strbuf_release(&b);
			return probe_diag(L->src, line, col,
					  "unterminated string: expected '\"' before the end of the %s",
					  c == -1 ? "script" : "line");
		}
		if (c == '"') {
			advance(L, 1);
			break;
		}
		if (c != '\\') {
			char ch = (char)c;
			kdx_strbuf_append(&b, &ch, 1);
			advance(L, 1);
			continue;
		}
		int ecol = L->col;
		int e = peekc(L, 1);
		char ch;
		switch (e) {
		case 'n': ch = '\n'; break;
		case 't': ch = '\t'; break;
		case 'r': ch = '\r'; break;
		case 'a': ch = '\a'; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'v': ch = '\v'; break;
		case '\\': ch = '\\'; break;
		case '"': ch = '"'; break;
		case '\'': ch = '\''; break;
		case 'x': {
			int v = 0, nd = 0;
			while (nd < 2 && isxdigit(peekc(L, 2 + nd))) {
				int d = peekc(L, 2 + nd);
				v = v * 16 + (isdigit(d) ? d - '0' : tolower(d) - 'a' + 10);
				nd++;
			}
			if (!nd) {
				kdx_strbuf_release(&b);
				return probe_diag(L->src, L->line, ecol,
						  "bad escape '\\x': expected hex digits");
			}
			ch = (char)v;
			kdx_strbuf_append(&b, &ch, 1);
			advance(L, 2 + nd);
			continue;
		}
		default:
			if (e >= '0' && e <= '7') {
				int v = 0, nd = 0;
				while (nd < 3 && peekc(L, 1 + nd) >= '0' && peekc(L, 1 + nd) <= '7') {
					v = v * 8 + peekc(L, 1 + nd) - '0';
					nd++;
				}
				ch = (char)v;
				kdx_strbuf_append(&b, &ch, 1);
				advance(L, 1 + nd);
				continue;
			}
			kdx_strbuf_release(&b);
			if (e == -1 || e == '\n')
				return probe_diag(L->src, line, col,
						  "unterminated string: expected '\"' before the end of the %s",
						  e == -1 ? "script" : "line");
			return probe_diag(L->src, L->line, ecol,
					  "unknown escape sequence '\\%c': expected one of \\n \\t \\r \\\\ \\\" \\xHH \\OOO", e);
		}
		kdx_strbuf_append(&b, &ch, 1);
		advance(L, 2);
	}
	struct token *tk = push(L, T_STR, line, col);
	tk->len = b.len;
	tk->str = arena_strndup(L->arena, b.s ? b.s : "", b.len);
	kdx_strbuf_release(&b);
	return NULL;
}

static struct kdx_error *lex_number(struct lexer *L)
{
	int line = L->line, col = L->col;
	const char *start = L->src->text + L->pos;
	size_t n = 0;
	while (L->pos + n < L->src->len && is_ident_char((unsigned char)start[n]))
		n++;
	char buf[64];
	if (n >= sizeof(buf))
		return probe_diag(L->src, line, col, "number too long");
	memcpy(buf, start, n);
	buf[n] = 0;
	char *end;
	errno = 0;
	unsigned long long v;
	if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X'))
		v = strtoull(buf + 2, &end, 16), end = (end == buf + 2) ? buf : end;
	else if (buf[0] == '0' && n > 1)
		v = strtoull(buf, &end, 8);
	else
		v = strtoull(buf, &end, 10);
	if (*end || end == buf)
		return probe_diag(L->src, line, col, "bad number '%s'", buf);
	/* Decimal literals must fit int64 (9223372036854775808 is allowed for
	 * the negation of INT64_MIN); hex may use all 64 bits. */
	if (errno == ERANGE || (buf[1] != 'x' && buf[1] != 'X' && v > 9223372036854775808ULL))
		return probe_diag(L->src, line, col, "number '%s' does not fit in 64 bits", buf);
	struct token *tk = push(L, T_NUM, line, col);
	tk->num = (int64_t)v;
	advance(L, n);
	return NULL;
}

struct kdx_error *probe_lex(const struct psrc *src, struct arena **a,
			    struct token **toks, size_t *ntoks)
{
	struct lexer L = { .src = src, .line = 1, .col = 1, .arena = a };
	struct kdx_error *err = NULL;

	for (;;) {
		if ((err = skip_space(&L)))
			break;
		int c = peekc(&L, 0);
		int line = L.line, col = L.col;
		if (c == -1) {
			push(&L, T_EOF, line, col);
			break;
		}
		if (c == '"') {
			if ((err = lex_string(&L)))
				break;
			continue;
		}
		if (isdigit(c)) {
			if ((err = lex_number(&L)))
				break;
			continue;
		}
		if (is_ident_start(c)) {
			size_t n = 0;
			while (is_ident_char(peekc(&L, n)))
				n++;
			const char *w = src->text + L.pos;
			enum tok t = T_IDENT;
			for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
				if (strlen(keywords[k].word) == n && !memcmp(keywords[k].word, w, n))
					t = keywords[k].t;
			struct token *tk = push(&L, t, line, col);
			tk->str = arena_strndup(a, w, n);
			advance(&L, n);
			continue;
		}
		if (c == '$' || c == '@') {
			int d = peekc(&L, 1);
			if (is_ident_start(d)) {
				size_t n = 1;
				while (is_ident_char(peekc(&L, n)))
					n++;
				struct token *tk = push(&L, c == '$' ? T_CTXVAR : T_ATNAME, line, col);
				tk->str = arena_strndup(a, src->text + L.pos + 1, n - 1);
				advance(&L, n);
				continue;
			}
			if (isdigit(d) || d == '#') {
				size_t n = 1;
				int64_t v = 0;
				if (d == '#') {
					v = -1;
					n = 2;
				} else {
					while (isdigit(peekc(&L, n)) && v < 100000)
						v = v * 10 + peekc(&L, n++) - '0';
				}
				struct token *tk = push(&L, c == '$' ? T_ARGNUM : T_ARGSTR, line, col);
				tk->num = v;
				advance(&L, n);
				continue;
			}
			if (c == '$') {
				if (d == '$') {
					push(&L, T_DOLLAR2, line, col);
					advance(&L, 2);
				} else {
					push(&L, T_DOLLAR1, line, col);
					advance(&L, 1);
				}
				continue;
			}
			err = probe_diag(src, line, col,
					 "'@' must be followed by an operator name (@count, @cast, ...) or an argument number (@1)");
			break;
		}
		size_t k;
		for (k = 0; k < sizeof(puncts) / sizeof(puncts[0]); k++) {
			size_t n = strlen(puncts[k].text);
			if (L.pos + n <= src->len && !memcmp(src->text + L.pos, puncts[k].text, n))
				break;
		}
		if (k == sizeof(puncts) / sizeof(puncts[0])) {
			if (isprint(c))
				err = probe_diag(src, line, col, "unexpected character '%c'", c);
			else
				err = probe_diag(src, line, col, "unexpected byte 0x%02x", c);
			break;
		}
		push(&L, puncts[k].t, line, col);
		advance(&L, strlen(puncts[k].text));
	}
	if (err) {
		free(L.toks);
		return err;
	}
	*toks = L.toks;
	*ntoks = L.n;
	return NULL;
}
