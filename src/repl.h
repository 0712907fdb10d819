/* The command loop: readline prompt, batch input, pipes and redirects. */
#ifndef KDX_REPL_H
#define KDX_REPL_H

#include <stdio.h>
#include "session.h"

/*
 * Execute one input line: `CMD ARGS [| shell pipeline] [> file | >> file]`
 * or `!shell command`. Errors are reported (one line) and counted in
 * s->error_count. Returns 1 if the line asked to quit.
 */
int kdx_repl_execute(struct kdx_session *s, const char *line);

/* Interactive loop on the terminal (readline, history, completion). */
void kdx_repl_interactive(struct kdx_session *s);

/* Read commands from IN until EOF or quit (batch, -i FILE). */
void kdx_repl_batch(struct kdx_session *s, FILE *in);

/* Install the SIGINT handler that sets s->interrupted. */
void kdx_repl_install_signals(struct kdx_session *s);

#endif
