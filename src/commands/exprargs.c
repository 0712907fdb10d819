/* The expression argument of p, whatis and eval, with its quotes. */
#include "commands/exprargs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static char *join_words(int argc, char **argv, int first)
{
	struct kdx_strbuf b = {0};

	for (int i = first; i < argc; i++) {
		if (b.len)
			kdx_strbuf_append(&b, " ", 1);
		kdx_strbuf_append(&b, argv[i], strlen(argv[i]));
	}
	char *s = kdx_strbuf_take(&b);
	return s ? s : strdup("");
}

/* Does TEXT split into exactly ARGV[FIRST..]? */
static int same_words(const char *text, int argc, char **argv, int first)
{
	int n;
	char **words;
	struct kdx_error *err = kdx_split_words(text, &n, &words);
	int same;

	if (err) {
		kdx_error_destroy(err);
		return 0;
	}
	same = n == argc - first;
	for (int i = 0; same && i < n; i++)
		same = !strcmp(words[i], argv[first + i]);
	kdx_free_words(n, words);
	return same;
}

char *kdx_expr_args(struct kdx_session *s, int argc, char **argv, int first)
{
	const char *p = s ? s->command_line : NULL;

	if (!p || first >= argc)
		return join_words(argc, argv, first);
	/* skip the command word and the option words before FIRST */
	for (int i = 0; i < first; i++) {
		while (isspace((unsigned char)*p))
			p++;
		while (*p && !isspace((unsigned char)*p))
			p++;
	}
	while (isspace((unsigned char)*p))
		p++;
	char *rest = strdup(p);
	if (!rest)
		return NULL;
	for (size_t n = strlen(rest); n && isspace((unsigned char)rest[n - 1]); n--)
		rest[n - 1] = 0;
	if (same_words(rest, argc, argv, first))
		return rest;
	free(rest);
	return join_words(argc, argv, first);
}

int kdx_expr_is_identifier(const char *text)
{
	if (!isalpha((unsigned char)*text) && *text != '_')
		return 0;
	for (const char *p = text; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_')
			return 0;
	return 1;
}
