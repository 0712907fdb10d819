/*
 * Per-session state of the kernel walkers. Each walker keeps its cache
 * (task list, module list, ORC tables, slab caches...) in its own slot,
 * created on first use and destroyed with the session.
 */
#ifndef KDX_KERNEL_H
#define KDX_KERNEL_H

#include <stddef.h>
#include "error.h"

struct kdx_session;

enum kdx_kernel_slot {
	KDX_SLOT_TASKS,
	KDX_SLOT_MODULES,
	KDX_SLOT_ORC,
	KDX_SLOT_SLAB,
	KDX_SLOT_PERCPU,
	KDX_SLOT_PRINTK,
	KDX_SLOT_PROBE,
	KDX_SLOT_FILES,
	KDX_SLOT_MM,
	KDX_SLOT_EXT0, KDX_SLOT_EXT1, KDX_SLOT_EXT2, KDX_SLOT_EXT3,
	KDX_SLOT_UNWIND,        /* unwind.c: offsets and sizes */
	KDX_SLOT_VALUES,        /* value.c: p's value history ($1, $, $$) */
	KDX_SLOT_KMEMBER,       /* kread.c: member offset/size cache */
	KDX_NR_SLOTS,
};

/* The slot's object, or NULL if not created yet. */
void *kdx_kernel_slot(struct kdx_session *s, enum kdx_kernel_slot slot);
/* Install OBJ in SLOT; DESTROY (may be NULL) is called on it at session close
 * or when the slot is replaced. */
struct kdx_error *kdx_kernel_set_slot(struct kdx_session *s, enum kdx_kernel_slot slot,
				      void *obj, void (*destroy)(void *obj));
/*
 * The object cached in SLOT, created on first use: SIZE zeroed bytes filled
 * by LOAD (may be NULL: the zeroed object is the start state) and installed
 * with DESTROY. When LOAD fails the object is destroyed with DESTROY (so it
 * must cope with a partly loaded object), nothing is cached, LOAD's error is
 * returned unchanged and the next call tries again.
 */
struct kdx_error *kdx_kernel_cached(struct kdx_session *s, enum kdx_kernel_slot slot, size_t size,
				    struct kdx_error *(*load)(struct kdx_session *s, void *obj),
				    void (*destroy)(void *obj), void **ret);
/* Forget every cached walker state (e.g. after `mod -s` changed symbols). */
void kdx_kernel_destroy(struct kdx_session *s);

#endif
