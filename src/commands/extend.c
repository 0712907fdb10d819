#include "commands/command.h"
#include "extension.h"

static struct kdx_error *cmd_extend(struct kdx_session *s, int argc, char **argv)
{
	if (argc == 1) {
		kdx_extension_list(s);
		return NULL;
	}
	for (int i = 1; i < argc; i++) {
		struct kdx_error *err = kdx_extension_load(s, argv[i]);
		if (err)
			return err;
	}
	return NULL;
}

const struct kdx_command kdx_cmd_extend = {
	.name = "extend",
	.usage = "extend [FILE.so ...]",
	.summary = "load extension commands from shared objects",
	.help = "  Loads each shared object and calls its kdx_extension_init(), which\n"
		"  registers new commands (see include/kdx/extension.h and\n"
		"  extensions/example/). Without arguments, lists the loaded extensions\n"
		"  and their commands. Extension commands take pipes and redirects and\n"
		"  appear in `help` like built-in ones.\n",
	.run = cmd_extend,
};
