/*
 * Small helpers for the kernel walkers (tasks, percpu, modules, printk):
 * member offset+size from DWARF, global variable addresses, and decoding
 * little-endian integers of DWARF-given sizes out of a buffer read once.
 * Walkers fetch offsets once per session into a struct, never per object.
 */
#ifndef KDX_KREAD_H
#define KDX_KREAD_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

/* A member of a kernel struct as found in DWARF. */
struct kdx_kfield {
	uint64_t off;       /* byte offset */
	uint64_t size;      /* byte size of the member's type (0: absent) */
	int ok;             /* found */
};

/* Offset and size of PATH ("a.b.c", "a[2]") in "struct SNAME". */
struct kdx_error *kdx_kmember(struct kdx_session *s, const char *sname, const char *path,
			      struct kdx_kfield *f);
/* Same, but a missing member only leaves F->ok = 0 (optional members). */
void kdx_kmember_opt(struct kdx_session *s, const char *sname, const char *path,
		     struct kdx_kfield *f);
/* Runtime address of a kernel global (vmlinux symbol). */
struct kdx_error *kdx_kvar(struct kdx_session *s, const char *name, uint64_t *addr);

/* Little-endian unsigned / signed integer of SIZE bytes (1, 2, 4, 8) at BUF. */
uint64_t kdx_get_uint(const void *buf, uint64_t size);
int64_t kdx_get_int(const void *buf, uint64_t size);
/* Field F of the object whose bytes are OBJ (0 if F is absent). */
static inline uint64_t kdx_kfield_u(const void *obj, const struct kdx_kfield *f)
{
	return f->ok ? kdx_get_uint((const char *)obj + f->off, f->size) : 0;
}
static inline int64_t kdx_kfield_i(const void *obj, const struct kdx_kfield *f)
{
	return f->ok ? kdx_get_int((const char *)obj + f->off, f->size) : 0;
}
/* For optional reads: 1 if ERR is NULL, else destroy it and return 0. */
static inline int kdx_ok(struct kdx_error *err)
{
	if (!err)
		return 1;
	kdx_error_destroy(err);
	return 0;
}
/* Read an unsigned integer of SIZE bytes at ADDR. */
struct kdx_error *kdx_read_uint(struct kdx_session *s, uint64_t addr, uint64_t size, uint64_t *ret);

#endif
