/* union: struct's twin for unions (the code is in struct.c). */
#include "commands/command.h"
#include "commands/datatype.h"

static struct kdx_error *cmd_union(struct kdx_session *s, int argc, char **argv);

const struct kdx_command kdx_cmd_union = {
	.name = "union",
	.usage = "union NAME[.member[,member...]] [-o] [-x|-d] [ADDR|SYMBOL|EXPR][:CPUSPEC] [COUNT | -c COUNT]",
	.summary = "show a union's definition or the contents of objects",
	.help =
"  Like struct, for unions:\n"
"  union NAME                   the definition and SIZE (-o: with offsets)\n"
"  union NAME ADDR [-c COUNT]   the object(s) at ADDR\n"
"  union NAME.m1,m2 ADDR        only those members\n",
	.run = cmd_union,
};

static struct kdx_error *cmd_union(struct kdx_session *s, int argc, char **argv)
{
	return kdx_datatype_run(s, &kdx_cmd_union, "union", argc, argv);
}
