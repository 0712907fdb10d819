#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct kdx_error *kdx_split_words(const char *line, int *argc, char ***argv)
{
	size_t cap = 8, n = 0;
	char **v = malloc(cap * sizeof(*v));
	char *word = malloc(strlen(line) + 1);
	const char *p = line;

	if (!v || !word) {
		free(v);
		free(word);
		return kdx_error_nomem();
	}
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		size_t w = 0;
		char quote = 0;
		while (*p && (quote || !isspace((unsigned char)*p))) {
			if (quote) {
				if (*p == quote) {
					quote = 0;
					p++;
					continue;
				}
				if (quote == '"' && *p == '\\' && p[1]) {
					word[w++] = p[1];
					p += 2;
					continue;
				}
				word[w++] = *p++;
			} else if (*p == '\'' || *p == '"') {
				quote = *p++;
			} else if (*p == '\\' && p[1]) {
				word[w++] = p[1];
				p += 2;
			} else {
				word[w++] = *p++;
			}
		}
		if (quote) {
			kdx_free_words((int)n, v);
			free(word);
			return kdx_error_create(KDX_ERR_SYNTAX, "unterminated %c quote", quote);
		}
		word[w] = 0;
		if (n + 2 > cap) {
			cap *= 2;
			char **nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				kdx_free_words((int)n, v);
				free(word);
				return kdx_error_nomem();
			}
			v = nv;
		}
		v[n] = strdup(word);
		if (!v[n]) {
			kdx_free_words((int)n, v);
			free(word);
			return kdx_error_nomem();
		}
		n++;
	}
	free(word);
	v[n] = NULL;
	*argc = (int)n;
	*argv = v;
	return NULL;
}

void kdx_free_words(int argc, char **argv)
{
	if (!argv)
		return;
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}

int kdx_is_number(const char *text)
{
	const char *p = text;
	if (!*p)
		return 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!*p)
			return 0;
		for (; *p; p++)
			if (!isxdigit((unsigned char)*p))
				return 0;
		return 1;
	}
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return 0;
	return 1;
}

struct kdx_error *kdx_parse_u64(const char *text, int default_hex, uint64_t *ret)
{
	const char *p = text;
	int base = default_hex ? 16 : 10;
	char *end;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	} else if (p[0] == '0' && (p[1] == 'd' || p[1] == 'D')) {
		base = 10;
		p += 2;
	}
	if (!*p || *p == '-' || *p == '+' || isspace((unsigned char)*p))
		return kdx_error_create(KDX_ERR_SYNTAX, "invalid number: %s", text);
	errno = 0;
	unsigned long long v = strtoull(p, &end, base);
	if (errno || *end)
		return kdx_error_create(KDX_ERR_SYNTAX, "invalid number: %s", text);
	*ret = v;
	return NULL;
}

double kdx_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void kdx_strbuf_append(struct kdx_strbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns)
			abort();  /* host out of memory: nothing sensible left to do */
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = 0;
}

void kdx_strbuf_printf(struct kdx_strbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(small)) {
		kdx_strbuf_append(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		abort();
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	kdx_strbuf_append(b, big, (size_t)n);
	free(big);
}

char *kdx_strbuf_take(struct kdx_strbuf *b)
{
	char *s = b->s ? b->s : strdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void kdx_strbuf_release(struct kdx_strbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}
