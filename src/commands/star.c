/* "*": crash's shorthand for struct or union, whichever NAME is:
 * `*task_struct ADDR` is `struct task_struct ADDR`. (table.c sends any
 * command word starting with '*' here.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/datatype.h"
#include "symbols/types.h"

extern const struct kdx_command kdx_cmd_star;
extern const struct kdx_command kdx_cmd_struct;
extern const struct kdx_command kdx_cmd_union;

static struct kdx_error *cmd_star(struct kdx_session *s, int argc, char **argv)
{
	const char *name = argv[0] + 1;
	int first = 1;

	if (!*name) {
		if (argc < 2)
			return kdx_command_usage(&kdx_cmd_star);
		name = argv[1];
		first = 2;
	}
	/* NAME may carry .members: only the tag decides struct vs union */
	char tag[512], full[600];
	snprintf(tag, sizeof(tag), "%s", name);
	tag[strcspn(tag, ".")] = 0;
	snprintf(full, sizeof(full), "union %s", tag);
	struct kdx_type *t;
	int is_union = 0;
	if (s->types) {
		struct kdx_error *err = kdx_type_find(s->types, full, &t);
		is_union = err == NULL;
		kdx_error_destroy(err);
	}
	char **nargv = calloc(argc + 2, sizeof(*nargv));
	if (!nargv)
		return kdx_error_nomem();
	int n = 0;
	nargv[n++] = is_union ? "union" : "struct";
	nargv[n++] = (char *)name;
	for (int i = first; i < argc; i++)
		nargv[n++] = argv[i];
	struct kdx_error *err = kdx_datatype_run(s, is_union ? &kdx_cmd_union : &kdx_cmd_struct,
						 is_union ? "union" : "struct", n, nargv);
	free(nargv);
	return err;
}

const struct kdx_command kdx_cmd_star = {
	.name = "*",
	.usage = "*NAME[.member[,member...]] [-o] [-x|-d] [ADDR] [COUNT | -c COUNT]",
	.summary = "struct or union, whichever NAME is",
	.help = "  *task_struct ADDR is struct task_struct ADDR; *thread_union ADDR is\n"
		"  union thread_union ADDR. The options are those of struct.\n",
	.run = cmd_star,
};
