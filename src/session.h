/*
 * The open session: target + memory + symbols + types + kernel state +
 * settings. Everything hangs off it; there is no global state, so two dumps
 * could be open at once.
 */
#ifndef KDX_SESSION_H
#define KDX_SESSION_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"

struct kdx_target;
struct kdx_mem;
struct kdx_symtab;
struct kdx_types;
struct kdx_kernel;

struct kdx_options {
	const char *vmlinux;
	const char *vmcore;         /* NULL: live /proc/kcore */
	const char *cache_dir;      /* index cache; NULL: default */
	int force;                  /* go on despite vmlinux/dump mismatch */
	int have_kaslr;             /* --kaslr given */
	uint64_t kaslr;
	int quiet;
};

struct kdx_session {
	struct kdx_options opts;
	struct kdx_target *target;
	struct kdx_mem *mem;
	struct kdx_symtab *symtab;
	struct kdx_types *types;
	struct kdx_kernel *kernel;   /* walker caches (tasks, modules, ...), owned by src/kernel */
	uint64_t kaslr_offset;

	FILE *out;                   /* where commands print (stdout, a pipe, a file) */
	int radix;                   /* 10 or 16: default for p/struct output */
	int batch;                   /* not a terminal: errors make the exit status non-zero */
	int error_count;             /* errors reported by commands (batch exit status) */
	uint64_t current_task;       /* `set PID`: context task address (0: panic task) */
	volatile sig_atomic_t interrupted;   /* Ctrl-C seen; long loops check kdx_interrupted() */
	unsigned value_history;      /* p: last "$N" printed */
	const char *command_line;    /* line being run by kdx_command_run_line, quotes intact
				      * (p/whatis/eval read "str", 'c' from it); NULL otherwise */
	void *ext[8];                /* per-subsystem private state (probe, extensions) */
};

/* Open vmlinux + dump (or live kernel): target, memory, symbols, KASLR,
 * types, mismatch checks. */
struct kdx_error *kdx_session_open(const struct kdx_options *opts, struct kdx_session **ret);
void kdx_session_close(struct kdx_session *s);

/* Kernel virtual memory reads: the one entry point walkers and commands use. */
struct kdx_error *kdx_read(struct kdx_session *s, uint64_t addr, void *buf, size_t len);
struct kdx_error *kdx_read_phys(struct kdx_session *s, uint64_t paddr, void *buf, size_t len);
struct kdx_error *kdx_read_u64(struct kdx_session *s, uint64_t addr, uint64_t *ret);
struct kdx_error *kdx_read_u32(struct kdx_session *s, uint64_t addr, uint32_t *ret);
struct kdx_error *kdx_read_u16(struct kdx_session *s, uint64_t addr, uint16_t *ret);
struct kdx_error *kdx_read_u8(struct kdx_session *s, uint64_t addr, uint8_t *ret);
/* NUL-terminated string of at most LEN-1 bytes at ADDR (reads page by page). */
struct kdx_error *kdx_read_cstr(struct kdx_session *s, uint64_t addr, char *buf, size_t len);

/* Has Ctrl-C been pressed since the command started? */
/* Also true once the output stream failed (the reader of `| head` went away,
 * the disk is full): nothing more a command prints can arrive. */
static inline int kdx_interrupted(struct kdx_session *s)
{
	return s->interrupted != 0 || (s->out && ferror(s->out));
}

/* Report a command error: prints one line to stderr, counts it, destroys ERR. */
void kdx_session_report(struct kdx_session *s, struct kdx_error *err);

#endif
