/*
 * The kdx extension API.
 *
 * An extension is a shared object loaded with the `extend FILE.so` command
 * (or `kdx --extend FILE.so`). It defines
 *
 *     int kdx_extension_init(struct kdx_session *s, int api_version);
 *
 * which checks api_version against KDX_EXTENSION_API_VERSION and registers
 * its commands with kdx_extension_register(). Commands receive the session
 * and argv like the built-in ones, print through kdx_session_out(s), and
 * return NULL or an error made with kdx_error_create() (kdx prints it as one
 * line and, in batch mode, exits non-zero).
 *
 * Everything an extension reads goes through these functions, so that it
 * works on every dump format and on the live kernel alike. Offsets come from
 * the kernel's DWARF (kdx_member_offset), never from hard-coded numbers.
 *
 * Build: cc -shared -fPIC -I/usr/local/include -o myext.so myext.c
 */
#ifndef KDX_EXTENSION_H
#define KDX_EXTENSION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <kdx/errors.h>

#define KDX_EXTENSION_API_VERSION 1

struct kdx_session;
struct kdx_error;

struct kdx_extension_command {
	const char *name;       /* command name at the kdx prompt */
	const char *usage;      /* "lustre_locks [-v] RESOURCE" */
	const char *summary;    /* one line for `help` */
	const char *help;       /* full text for `help NAME` */
	struct kdx_error *(*run)(struct kdx_session *s, int argc, char **argv);
};

/* Register a command (CMD must stay valid while the extension is loaded).
 * Fails if the name is taken. */
struct kdx_error *kdx_extension_register(struct kdx_session *s,
					 const struct kdx_extension_command *cmd);

/* Where commands print: stdout, a pipe or a file, as the user asked. */
FILE *kdx_session_out(struct kdx_session *s);
/* Non-zero once Ctrl-C was pressed: long loops should stop. */
int kdx_session_interrupted(struct kdx_session *s);

/* Errors. */
struct kdx_error *kdx_error_create(enum kdx_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *kdx_error_message(const struct kdx_error *err);
void kdx_error_destroy(struct kdx_error *err);

/* Memory of the kernel (virtual addresses). Every read can fail. */
struct kdx_error *kdx_read(struct kdx_session *s, uint64_t addr, void *buf, size_t len);
struct kdx_error *kdx_read_u64(struct kdx_session *s, uint64_t addr, uint64_t *ret);
struct kdx_error *kdx_read_u32(struct kdx_session *s, uint64_t addr, uint32_t *ret);
struct kdx_error *kdx_read_cstr(struct kdx_session *s, uint64_t addr, char *buf, size_t len);

/* Symbols and types. */
struct kdx_error *kdx_symbol_lookup(struct kdx_session *s, const char *name, uint64_t *addr);
char *kdx_symbol_format(struct kdx_session *s, uint64_t addr, char *buf, size_t len);
struct kdx_error *kdx_member_offset(struct kdx_session *s, const char *struct_name,
				    const char *member, uint64_t *offset);
struct kdx_error *kdx_type_sizeof(struct kdx_session *s, const char *type_name, uint64_t *size);

/* Run any kdx command line (output goes to kdx_session_out). */
struct kdx_error *kdx_command_run_line(struct kdx_session *s, const char *line);

#endif
