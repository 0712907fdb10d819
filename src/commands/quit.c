#include "commands/command.h"

/* The REPL recognises quit itself (it must end the loop); this entry gives
 * it a place in `help` and handles `quit` reached through other paths. */
static struct kdx_error *cmd_quit(struct kdx_session *s, int argc, char **argv)
{
	return NULL;
}

const struct kdx_command kdx_cmd_quit = {
	.name = "quit",
	.aliases = (const char *const[]){ "q", "exit", NULL },
	.usage = "quit",
	.summary = "leave kdx",
	.help = "  Ends the session. In batch mode the exit status is non-zero if any\n"
		"  command failed.\n",
	.run = cmd_quit,
};
