#include <stdio.h>
#include <string.h>

#include "commands/command.h"

static struct kdx_error *cmd_help(struct kdx_session *s, int argc, char **argv)
{
	if (argc == 1) {
		fprintf(s->out, "kdx commands (help CMD for details):\n\n");
		const struct kdx_command *c;
		for (size_t i = 0; (c = kdx_command_at(i)) != NULL; i++)
			fprintf(s->out, "  %-10s %s\n", c->name, c->summary);
		fprintf(s->out, "\nAfter any command: `| shell pipeline`, `> file`, `>> file`; `!cmd` runs a shell command.\n");
		return NULL;
	}
	for (int i = 1; i < argc; i++) {
		const struct kdx_command *c = kdx_command_find(argv[i]);
		if (!c)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "help: no command %s", argv[i]);
		fprintf(s->out, "NAME\n  %s - %s\n\nSYNOPSIS\n  %s\n", c->name, c->summary, c->usage);
		if (c->aliases) {
			fprintf(s->out, "\nALIASES\n ");
			for (const char *const *a = c->aliases; *a; a++)
				fprintf(s->out, " %s", *a);
			fprintf(s->out, "\n");
		}
		if (c->help)
			fprintf(s->out, "\nDESCRIPTION\n%s", c->help);
		if (c->help && c->help[0] && c->help[strlen(c->help) - 1] != '\n')
			fprintf(s->out, "\n");
	}
	return NULL;
}

const struct kdx_command kdx_cmd_help = {
	.name = "help",
	.aliases = (const char *const[]){ "h", NULL },
	.usage = "help [command ...]",
	.summary = "list commands, or show a command's help",
	.help = "  Without arguments, lists every command with a one-line summary.\n"
		"  With command names, prints their usage and full description.\n",
	.run = cmd_help,
};
