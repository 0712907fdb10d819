/*
 * The public extension header must agree with kdx's own declarations: this
 * file includes both, so any drift in a prototype fails to compile. It also
 * checks the command registry rules that need no dump.
 */
#include <kdx/extension.h>

#include <stdio.h>
#include <string.h>

#include "commands/command.h"
#include "error.h"
#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"

static int failures;

static void check(int cond, const char *name)
{
	printf("%s - %s\n", cond ? "ok" : "not ok", name);
	if (!cond)
		failures++;
}

int main(void)
{
	static const struct kdx_extension_command cmd = { .name = "x", .run = NULL };
	struct kdx_error *err = kdx_extension_register(NULL, &cmd);
	check(err != NULL, "register outside kdx_extension_init is refused");
	check(err && strstr(kdx_error_message(err), "kdx_extension_init") != NULL,
	      "the refusal says why");
	kdx_error_destroy(err);
	check(kdx_command_find("help") != NULL, "built-in commands are found");
	check(kdx_command_find("extend") != NULL, "extend is a command");
	check(kdx_command_find("no-such-command") == NULL, "unknown names are not");
	size_t n = 0;
	while (kdx_command_at(n))
		n++;
	check(n > 10, "kdx_command_at walks the table");
	return failures ? 1 : 0;
}
