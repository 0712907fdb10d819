/*
 * Extensions: shared objects loaded at run time that add commands through
 * the public API in include/kdx/extension.h.
 *
 * The registry of extension commands is process-wide, as dlopen() itself
 * is: a loaded object's code is shared by every session of the process.
 */
#ifndef KDX_EXTENSION_INTERNAL_H
#define KDX_EXTENSION_INTERNAL_H

#include <stddef.h>
#include "error.h"

struct kdx_session;
struct kdx_command;

/* dlopen PATH and call its kdx_extension_init(). */
struct kdx_error *kdx_extension_load(struct kdx_session *s, const char *path);
/* Print the loaded extensions and their commands. */
void kdx_extension_list(struct kdx_session *s);

const struct kdx_command *kdx_extension_command_find(const char *name);
const struct kdx_command *kdx_extension_command_at(size_t i);

#endif
