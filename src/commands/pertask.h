/*
 * Per-task commands: the interface `foreach` uses to run a command on every
 * selected task (crash's `foreach bt`, `foreach task`, `foreach files`,
 * `foreach ps`, `foreach vm`...).
 *
 * A command that can run per task sets `.run_task` in its struct
 * kdx_command (command.h) to a function of this type. foreach then calls it
 * once per selected task, in crash's order, with the command's own words:
 * ARGV[0] is the command name and ARGV[1..ARGC-1] its options, exactly as
 * the user typed them after the command name (e.g. `foreach UN bt -l` calls
 * bt's run_task with {"bt", "-l"}). Task selectors are already consumed.
 *
 * The function prints what the command prints for that one task, including
 * its per-task header when the command has one (bt/files/vm/task print
 * `PID: 1  TASK: ...  CPU: 0  COMMAND: "init"` as in crash). FLAGS tell it
 * where it stands in the run:
 *   KDX_PERTASK_FIRST  first selected task (print column headers once, e.g. ps)
 *   KDX_PERTASK_LAST   last selected task
 *   KDX_PERTASK_FOREACH called from foreach (always set by foreach)
 * Return NULL, or one error for this task; foreach reports it as one line
 * and goes on with the next task. Errors of kind KDX_ERR_SYNTAX (bad
 * option) stop foreach altogether.
 *
 * A command that is also a plain command usually implements run() as
 * "resolve the task arguments, then call run_task for each" so that both
 * paths print the same thing.
 */
#ifndef KDX_PERTASK_H
#define KDX_PERTASK_H

#include "error.h"

struct kdx_session;
struct kdx_task;

enum {
	KDX_PERTASK_FIRST = 1,
	KDX_PERTASK_LAST = 2,
	KDX_PERTASK_FOREACH = 4,
};

typedef struct kdx_error *(*kdx_pertask_fn)(struct kdx_session *s, const struct kdx_task *task,
					    int argc, char **argv, unsigned flags);

/* crash's per-task header line:
 * `PID: 266      TASK: ffff8e9dc31a20c0  CPU: 1    COMMAND: "sh"` */
void kdx_print_task_header(struct kdx_session *s, const struct kdx_task *task);

#endif
