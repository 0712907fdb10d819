/*
 * The DWARF name index: name -> DIE offset for the DIEs kdx looks up by
 * name (struct/union/enum definitions, typedefs, base types, global
 * variables, functions, enumerators).
 *
 * Scanning vmlinux's 160 MB of .debug_info takes seconds, so the index of
 * vmlinux is saved to ${cache}/index-<build-id>.bin and mmapped on later
 * starts. Module indexes are small and built in memory.
 *
 * Internal to src/symbols/.
 */
#ifndef KDX_DWINDEX_H
#define KDX_DWINDEX_H

#include <elfutils/libdw.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

enum kdx_dwindex_kind {
	KDX_IDX_STRUCT = 1,
	KDX_IDX_UNION,
	KDX_IDX_ENUM,
	KDX_IDX_TYPEDEF,
	KDX_IDX_BASE,
	KDX_IDX_VARIABLE,    /* addr: DW_OP_addr location */
	KDX_IDX_FUNCTION,    /* addr: low_pc; addr2: high_pc */
	KDX_IDX_ENUMERATOR,  /* die: the enumeration type; addr: the value */
	KDX_IDX_NKINDS,
};

/* On-disk record; the file is an array of these sorted by (kind, name). */
struct kdx_dwindex_entry {
	uint32_t name;       /* offset into the string block */
	uint32_t kind;
	uint64_t die;        /* global DIE offset in .debug_info */
	uint64_t addr;
	uint64_t addr2;
};

struct kdx_dwindex {
	const struct kdx_dwindex_entry *entries;
	size_t n;
	const char *strings;
	size_t strings_size;
	void *map;            /* mmapped file, or NULL */
	size_t map_size;
	void *owned;          /* malloc'd block (in-memory index) */
	void *owned_strings;
	int from_cache;       /* loaded from the cache file */
	double build_seconds; /* time spent building (0 if loaded) */
};

/* Load vmlinux's index from CACHE_DIR (NULL: default) for BUILD_ID, or
 * build it from the DWARF of PATH (opened again per thread) and save it.
 * Prints progress on stderr when it is a terminal and the build is slow. */
struct kdx_error *kdx_dwindex_open(const char *path, const uint8_t *build_id, size_t build_id_len,
				   const char *cache_dir, struct kdx_dwindex *ret);

/* Build an index of DW in memory (modules). */
struct kdx_error *kdx_dwindex_build_mem(Dwarf *dw, struct kdx_dwindex *ret);

void kdx_dwindex_release(struct kdx_dwindex *idx);

/* First entry of KIND named NAME, or NULL. */
const struct kdx_dwindex_entry *kdx_dwindex_find(const struct kdx_dwindex *idx, int kind,
						 const char *name);

static inline const char *kdx_dwindex_name(const struct kdx_dwindex *idx,
					   const struct kdx_dwindex_entry *e)
{
	return idx->strings + e->name;
}

/* .debug_info of ELF if it lies in libelf's read-only file mapping (so its
 * pages may be dropped and are read again on use), else NULL (dwwalk.c). */
const char *kdx_dw_mapped_info(Elf *elf, size_t *size);
/* Drop the resident pages of BUF[FROM, TO) (BUF from kdx_dw_mapped_info):
 * keeps RSS bounded while walking a 160 MB .debug_info. */
void kdx_dw_drop_pages(const char *buf, size_t size, uint64_t from, uint64_t to);

/* The cache file path for BUILD_ID (malloc'd). */
char *kdx_dwindex_cache_path(const char *cache_dir, const uint8_t *build_id, size_t build_id_len);

#endif
