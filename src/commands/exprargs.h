/* The expression argument of p, whatis and eval, with its quotes. */
#ifndef KDX_EXPRARGS_H
#define KDX_EXPRARGS_H

#include "session.h"

/*
 * ARGV[FIRST..ARGC-1] as one expression string (malloc'd). The word
 * splitter drops quotes, so when the raw command line is known
 * (s->command_line) and splits into the same words, its text is used:
 * p "abc", p 'a', p 'foo.isra.0' keep their quotes. Otherwise the words
 * are joined with spaces.
 */
char *kdx_expr_args(struct kdx_session *s, int argc, char **argv, int first);

/* Is TEXT a single C identifier ("jiffies", not "a.b" or "&x")? p then
 * prints "NAME = $N = ..." and whatis tries it as a symbol first. */
int kdx_expr_is_identifier(const char *text);

#endif
