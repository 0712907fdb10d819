/* Shared implementation of the struct and union commands (struct.c). */
#ifndef KDX_DATATYPE_H
#define KDX_DATATYPE_H

#include "commands/command.h"

/* Run `struct` or `union` (KIND) with crash's arguments. */
struct kdx_error *kdx_datatype_run(struct kdx_session *s, const struct kdx_command *cmd,
				   const char *kind, int argc, char **argv);

#endif
