/*
 * SLUB: the kmem_cache list, per-cache object counts, slab <-> page, and
 * "which cache and object is this address in" (kmem ADDR, bt -FF).
 *
 * Everything comes from DWARF (struct kmem_cache, kmem_cache_cpu,
 * kmem_cache_node, slab, page; enum pageflags) and the dump. The cache list
 * is read once per session (slot KDX_SLOT_SLAB); counts are computed on
 * demand.
 */
#ifndef KDX_SLAB_H
#define KDX_SLAB_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

struct kdx_slab_cache {
	uint64_t addr;          /* struct kmem_cache * */
	char name[64];
	uint32_t size;          /* slot size (object + metadata) */
	uint32_t object_size;   /* what the user asked for */
	uint32_t offset;        /* free pointer offset inside a slot */
	uint32_t red_left_pad;
	uint32_t objects;       /* objects per slab (from oo) */
	uint32_t order;         /* slab order (from oo) */
	uint64_t random;        /* CONFIG_SLAB_FREELIST_HARDENED key (0: none) */
	uint64_t flags;
	uint64_t cpu_slab;      /* __percpu struct kmem_cache_cpu * */
};

/* Counts for one cache (kmem -s), computed from the node and per-CPU lists. */
struct kdx_slab_stats {
	uint64_t total;         /* objects in all slabs (node->total_objects) */
	uint64_t allocated;     /* total - free */
	uint64_t free;          /* free objects found on per-CPU and partial slabs */
	uint64_t node_free;     /* free objects on node partial lists only (what /proc/slabinfo subtracts) */
	uint64_t slabs;         /* node->nr_slabs */
	uint64_t partial;       /* slabs on node partial lists */
	uint64_t cpu_slabs;     /* per-CPU slabs (active + per-CPU partial) */
	int errors;             /* unreadable slabs/freelists while counting */
};

/* All caches in slab_caches order (newest first, like /proc/slabinfo). */
struct kdx_error *kdx_slab_caches(struct kdx_session *s, const struct kdx_slab_cache **caches,
				  size_t *n);
/* A cache by name or by struct kmem_cache address (NULL if none). */
const struct kdx_slab_cache *kdx_slab_cache_find(struct kdx_session *s, const char *name);
const struct kdx_slab_cache *kdx_slab_cache_by_addr(struct kdx_session *s, uint64_t addr);

struct kdx_error *kdx_slab_cache_stats(struct kdx_session *s, const struct kdx_slab_cache *c,
				       struct kdx_slab_stats *st);

/*
 * Which slab object contains ADDR? Cheap (page -> slab -> cache, cached
 * cache table); meant for bt -FF's [ADDR:cache] annotations.
 * Returns NULL and fills *CACHE_NAME (owned by the session), *OBJ_START and
 * *OBJ_SIZE (the cache's size) when ADDR is inside an object slot of a slab;
 * a KDX_ERR_NOT_FOUND error when it is not slab memory.
 */
struct kdx_error *kdx_slab_lookup(struct kdx_session *s, uint64_t addr, const char **cache_name,
				  uint64_t *obj_start, uint64_t *obj_size);

/* What kmem ADDR reports about a slab address. */
struct kdx_slab_object {
	const struct kdx_slab_cache *cache;
	uint64_t slab;          /* struct slab * (== head struct page *) */
	uint64_t slab_base;     /* address of the first byte of the slab's memory */
	uint32_t objects, inuse;
	uint32_t nfree;         /* objects on the slab's and (if it is a CPU's active slab) the CPU's freelist */
	int nfree_known;
	int frozen;
	int node;
	uint64_t obj;           /* object start (0 if ADDR is in the slab's tail padding) */
	int obj_free;           /* 1: on a freelist, 0: allocated, -1: unknown */
};
struct kdx_error *kdx_slab_object(struct kdx_session *s, uint64_t addr, struct kdx_slab_object *o);

/* Call FN for every object of slab SLAB of cache C with its free state; used by kmem -S. */
struct kdx_error *kdx_slab_for_each_object(struct kdx_session *s, const struct kdx_slab_cache *c,
					   uint64_t slab,
					   int (*fn)(struct kdx_session *s, uint64_t obj, int is_free, void *arg),
					   void *arg);

/* Call FN for every slab of cache C (all memory is scanned: full slabs are on no list). */
struct kdx_error *kdx_slab_for_each_slab(struct kdx_session *s, const struct kdx_slab_cache *c,
					 int (*fn)(struct kdx_session *s, uint64_t slab, void *arg),
					 void *arg);

/* ---- struct page ---- */

struct kdx_page_info {
	uint64_t page;          /* struct page * */
	uint64_t pfn;
	uint64_t flags;
	uint64_t mapping;
	uint64_t index;
	int32_t refcount;
	int32_t mapcount;
	uint64_t compound_head; /* head page if this is a tail page, else 0 */
	uint64_t slab_cache;    /* for slab pages (head's) */
};

/* Page size of the target (4096 on x86_64) and struct page geometry. */
struct kdx_error *kdx_page_geometry(struct kdx_session *s, uint64_t *vmemmap, uint64_t *page_size,
				    uint64_t *struct_page_size, uint64_t *max_pfn);
/* Direct-map address of PFN, and the struct page of a kernel address. */
struct kdx_error *kdx_page_from_addr(struct kdx_session *s, uint64_t addr, uint64_t *page, uint64_t *pfn);
struct kdx_error *kdx_page_read(struct kdx_session *s, uint64_t page, struct kdx_page_info *pi);
/* "slab,head,uptodate" style names of the page flag bits set in FLAGS. */
void kdx_page_flags_format(struct kdx_session *s, uint64_t flags, char *buf, size_t len);
/* The bit number of enum pageflags' PG_NAME ("slab"), or -1. */
int kdx_page_flag_bit(struct kdx_session *s, const char *name);

#endif
