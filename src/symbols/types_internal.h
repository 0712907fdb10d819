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
	/* vmlinux: bounded-RSS walk of the CU headers (see kdx_dwsrc_offdie).
	 * info_buf/info_size: .debug_info inside libelf's file mapping (NULL
	 * for in-memory images, which must never be madvise'd away). */
	const char *info_buf;
	size_t info_size;
	Dwarf_CU *walk_cu;      /* last CU libdw has interned through us */
	Dwarf_Off walk_start;   /* its offset (the DIE offset of its CU DIE) */
	Dwarf_Off walk_trimmed; /* .debug_info below this was dropped */
	int walk_done;
	/* vmlinux: address -> CU from .debug_aranges, read by us */
	struct kdx_arange *aranges;
	size_t naranges;
	int aranges_loaded;
};

/* One .debug_aranges range: [lo, hi) is in the CU at CU_OFF. */
struct kdx_arange {
	uint64_t lo, hi;
	uint64_t cu_off;
};

/* dwarf_offdie on SRC, but first let libdw intern the CUs before OFF in
 * chunks, dropping the pages of .debug_info the walk touched after each
 * chunk: libdw finds a CU by walking every CU header before it, which
 * otherwise leaves ~100 MB of vmlinux's .debug_info resident. */
Dwarf_Die *kdx_dwsrc_offdie(struct kdx_dwsrc *src, Dwarf_Off off, Dwarf_Die *die);
/* dwarf_addrdie on SRC without libdw's aranges reader (which reads every
 * CU header): the CU DIE whose .debug_aranges ranges hold ADDR. */
Dwarf_Die *kdx_dwsrc_addrdie(struct kdx_dwsrc *src, Dwarf_Addr addr, Dwarf_Die *cudie);
/* Set up the bounded walk for SRC opened from a file mapping. */
void kdx_dwsrc_walk_init(struct kdx_dwsrc *src);

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
/* Unsigned attribute NAME of DIE (through DW_AT_abstract_origin /
 * specification), or DFLT when it is missing or not a constant. */
uint64_t kdx_die_udata(Dwarf_Die *die, int name, uint64_t dflt);
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
