/*
 * The command table. Add a command: write src/commands/NAME.c defining
 * `const struct kdx_command kdx_cmd_NAME`, list it in
 * src/commands/Makefile.inc, and add it to both lists below (keep them
 * alphabetical).
 */
#include "commands/command.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "extension.h"

extern const struct kdx_command kdx_cmd_bt;
extern const struct kdx_command kdx_cmd_eval;
extern const struct kdx_command kdx_cmd_extend;
extern const struct kdx_command kdx_cmd_files;
extern const struct kdx_command kdx_cmd_foreach;
extern const struct kdx_command kdx_cmd_help;
extern const struct kdx_command kdx_cmd_kmem;
extern const struct kdx_command kdx_cmd_list;
extern const struct kdx_command kdx_cmd_log;
extern const struct kdx_command kdx_cmd_mod;
extern const struct kdx_command kdx_cmd_p;
extern const struct kdx_command kdx_cmd_probe;
extern const struct kdx_command kdx_cmd_ps;
extern const struct kdx_command kdx_cmd_quit;
extern const struct kdx_command kdx_cmd_rd;
extern const struct kdx_command kdx_cmd_search;
extern const struct kdx_command kdx_cmd_set;
extern const struct kdx_command kdx_cmd_star;
extern const struct kdx_command kdx_cmd_struct;
extern const struct kdx_command kdx_cmd_sym;
extern const struct kdx_command kdx_cmd_sys;
extern const struct kdx_command kdx_cmd_task;
extern const struct kdx_command kdx_cmd_tree;
extern const struct kdx_command kdx_cmd_union;
extern const struct kdx_command kdx_cmd_vm;
extern const struct kdx_command kdx_cmd_whatis;

const struct kdx_command *const kdx_commands[] = {
	&kdx_cmd_bt,
	&kdx_cmd_eval,
	&kdx_cmd_extend,
	&kdx_cmd_files,
	&kdx_cmd_foreach,
	&kdx_cmd_help,
	&kdx_cmd_kmem,
	&kdx_cmd_list,
	&kdx_cmd_log,
	&kdx_cmd_mod,
	&kdx_cmd_p,
	&kdx_cmd_probe,
	&kdx_cmd_ps,
	&kdx_cmd_quit,
	&kdx_cmd_rd,
	&kdx_cmd_search,
	&kdx_cmd_set,
	&kdx_cmd_star,
	&kdx_cmd_struct,
	&kdx_cmd_sym,
	&kdx_cmd_sys,
	&kdx_cmd_task,
	&kdx_cmd_tree,
	&kdx_cmd_union,
	&kdx_cmd_vm,
	&kdx_cmd_whatis,
	NULL,
};

const struct kdx_command *kdx_command_find(const char *name)
{
	/* crash's "*task_struct ADDR": struct or union (star.c) */
	if (name[0] == '*' && name[1])
		name = "*";
	for (size_t i = 0; kdx_commands[i]; i++) {
		const struct kdx_command *c = kdx_commands[i];
		if (!strcmp(c->name, name))
			return c;
		for (const char *const *a = c->aliases; a && *a; a++)
			if (!strcmp(*a, name))
				return c;
	}
	return kdx_extension_command_find(name);
}

const struct kdx_command *kdx_command_at(size_t i)
{
	size_t nbuiltin = 0;
	while (kdx_commands[nbuiltin])
		nbuiltin++;
	if (i < nbuiltin)
		return kdx_commands[i];
	return kdx_extension_command_at(i - nbuiltin);
}

struct kdx_error *kdx_command_usage(const struct kdx_command *cmd)
{
	return kdx_error_create(KDX_ERR_SYNTAX, "usage: %s", cmd->usage);
}

struct kdx_error *kdx_command_run_line(struct kdx_session *s, const char *line)
{
	int argc;
	char **argv;
	struct kdx_error *err = kdx_split_words(line, &argc, &argv);

	if (err)
		return err;
	if (argc == 0) {
		kdx_free_words(argc, argv);
		return NULL;
	}
	const struct kdx_command *cmd = kdx_command_find(argv[0]);
	if (!cmd)
		err = kdx_error_create(KDX_ERR_NOT_FOUND,
				       "%s: unknown command (try `help`)", argv[0]);
	else {
		const char *saved = s->command_line;
		s->command_line = line;
		err = cmd->run(s, argc, argv);
		s->command_line = saved;
	}
	kdx_free_words(argc, argv);
	return err;
}
