/*
 * Internals of the type table shared by types.c, typename.c and
 * module_debuginfo.c. Not for use outside src/symbols/.
 */
#ifndef KDX_TYPES_INTERNAL_H
#define KDX_TYPES_INTERNAL_H

#include <elfutils/libdw.h>
#include <gelf.h>
#include "symbols/dwindex.h"
#include "symbols/types.h"

/* One DWARF source: vmlinux (src 0) or a module's debuginfo. */
struct kdx_dwsrc {
	char *module;           /* NULL for vmlinux */
	char *path;
	int fd;
	Elf *elf;
	void *image;            /* modules: relocated in-memory copy of the file */
	size_t image_size;
	Dwarf *dw;
	struct kdx_dwindex index;
	int id;
	uint64_t lo, hi;        /* modules: address range of their sections */
};

/* The private part of every kdx_type (t.priv points at it). */
struct ktype {
	struct kdx_type t;
	struct kdx_types *types;
	struct kdx_dwsrc *src;  /* NULL for synthesized types */
	Dwarf_Off off;          /* DIE offset (0: synthesized) */
	struct ktype *base;     /* qualified copies: the unqualified type */
	int completed;
	struct kdx_type *ptr;   /* cached pointer-to-this */
};

struct cache_slot {
	uint64_t key;
	void *val;
};

struct kdx_hashmap {
	struct cache_slot *slots;
	size_t mask, n;
};

struct kdx_types {
	struct kdx_dwsrc **srcs;   /* [0] = vmlinux */
	size_t nsrcs;
	struct kdx_hashmap by_die;      /* (src, off) -> ktype */
	struct kdx_hashmap by_name;     /* hash(name) -> name_cache chain */
	struct kdx_hashmap quals;       /* (type ptr ^ qual) -> qualified type */
	struct kdx_type void_type;
	struct ktype void_k;
	/* arena */
	char *arena;
	size_t arena_left;
	void **chunks;
	size_t nchunks;
	/* .data..percpu bounds in vmlinux (DWARF addresses) */
	uint64_t percpu_start, percpu_end;
	int have_percpu;
	uint8_t build_id[64];
	size_t build_id_len;
	double index_seconds;
	int index_from_cache;
	/* member offset / sizeof caches */
	struct kdx_hashmap offsets;
	/* frame_vars.c: the scopes of the last PC asked about */
	void *frame_cache;
	void (*frame_cache_free)(void *);
};

void *kdx_types_alloc(struct kdx_types *types, size_t size);
char *kdx_types_strdup(struct kdx_types *types, const char *s);
void *kdx_hashmap_get(struct kdx_hashmap *m, uint64_t key);
int kdx_hashmap_put(struct kdx_hashmap *m, uint64_t key, void *val);
void kdx_hashmap_free(struct kdx_hashmap *m);

struct kdx_type *kdx_types_from_die(struct kdx_types *types, struct kdx_dwsrc *src, Dwarf_Die *die);
struct kdx_error *kdx_types_add_src(struct kdx_types *types, struct kdx_dwsrc *src);
void kdx_dwsrc_free(struct kdx_dwsrc *src);

/* T with QUAL added (a copy owned by the table; T itself if already so). */
struct kdx_type *kdx_types_qualified(struct kdx_types *types, struct kdx_type *t, unsigned qual);
/* A new, zeroed type of KIND owned by the table (not from DWARF). */
struct kdx_type *kdx_types_new_type(struct kdx_types *types, enum kdx_type_kind kind);
/* A C integer type by its canonical GCC name, made up when DWARF lacks it. */
struct kdx_type *kdx_types_synth_int(struct kdx_types *types, const char *name);
/* NAME of index KIND in vmlinux then modules ("module:name" for one):
 * the type (variables: their type; functions: the function type). */
struct kdx_type *kdx_types_find_indexed(struct kdx_types *types, int kind, const char *name,
					const struct kdx_dwindex_entry **entry, struct kdx_dwsrc **where);
/* Parse a C type name (typeparse.c); no caching, no completion. */
struct kdx_error *kdx_types_parse_name(struct kdx_types *types, const char *name,
				       struct kdx_type **ret);

#endif
