/*
 * Commands: one file per command in src/commands/, each defining a
 * `const struct kdx_command kdx_cmd_NAME` with its usage and help beside the
 * code; table.c lists them all.
 *
 * A command parses its own options (getopt-style on argv), prints through
 * s->out, and returns NULL or one error (printed by the REPL as one line).
 */
#ifndef KDX_COMMAND_H
#define KDX_COMMAND_H

#include "error.h"
#include "session.h"
#include "commands/pertask.h"

struct kdx_command {
	const char *name;
	const char *const *aliases;   /* NULL-terminated, or NULL */
	const char *usage;            /* "ps [-l|-m|...] [pid|task|command] ..." */
	const char *summary;          /* one line for `help` */
	const char *help;             /* full text for `help CMD` */
	struct kdx_error *(*run)(struct kdx_session *s, int argc, char **argv);
	/* Optional: run once for one task, for `foreach` (see pertask.h). */
	kdx_pertask_fn run_task;
};

/* The table of all commands, NULL-terminated. */
extern const struct kdx_command *const kdx_commands[];

/* Built-in commands, then those registered by extensions (extension.h). */
const struct kdx_command *kdx_command_find(const char *name);
/* The I-th command of that combined list, NULL past the end. */
const struct kdx_command *kdx_command_at(size_t i);

/* A usage error for CMD: "usage: ..." */
struct kdx_error *kdx_command_usage(const struct kdx_command *cmd);

/* Run one command line (already split from pipes/redirects by the REPL). */
struct kdx_error *kdx_command_run_line(struct kdx_session *s, const char *line);

#endif
