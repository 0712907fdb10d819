/*
 * Internal interfaces shared by the target implementations (not for use
 * outside src/targets/).
 */
#ifndef KDX_TARGET_INTERNAL_H
#define KDX_TARGET_INTERNAL_H

#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "targets/target.h"

/* Per-format openers. FD is an open descriptor of PATH (ownership passes to
 * the opener on success and on failure). T is already allocated with path
 * set; the opener fills ops, priv, format and what the dump records. */
struct kdx_error *kdx_kdump_open(struct kdx_target *t, int fd);
struct kdx_error *kdx_flat_open(struct kdx_target *t, int fd);
struct kdx_error *kdx_kcore_open(struct kdx_target *t, int fd);

/*
 * A random-access byte source: a plain file or a flattened file seen
 * through its record index. The kdump-compressed reader works on top of it.
 */
struct kdx_vfile {
	/* Read exactly LEN bytes at logical offset OFF; error if any is missing. */
	struct kdx_error *(*pread)(struct kdx_vfile *f, uint64_t off, void *buf, size_t len);
	void (*close)(struct kdx_vfile *f);
	uint64_t size;          /* logical size (end of the last byte present) */
	const char *path;       /* for messages */
};

/* A plain file as a vfile. Takes ownership of FD. */
struct kdx_error *kdx_vfile_fd(int fd, const char *path, struct kdx_vfile **ret);

/* A makedumpfile flattened file as a vfile (record index built at open).
 * Takes ownership of FD. */
struct kdx_error *kdx_vfile_flat(int fd, const char *path, struct kdx_vfile **ret);

/* Flattened-record index (exposed for unit tests). */
struct flat_piece {
	uint64_t off;       /* logical offset */
	uint64_t size;
	uint64_t foff;      /* where the bytes are in the flattened file */
};

struct flat_record {
	uint64_t off, size, foff;
	uint64_t seq;       /* order in the stream: later wins */
};

/* Sort R (N records, may overlap) into disjoint pieces sorted by offset;
 * where records overlap the higher seq wins. *RET is malloc'ed. */
struct kdx_error *kdx_flat_build_pieces(struct flat_record *r, size_t n,
					struct flat_piece **ret, size_t *nret);

/* Parse the kdump-compressed structure ("KDUMP   ") on top of VF and make T
 * read from it. FORMAT names the outer form for messages ("flattened kdump"
 * or "kdump-compressed"). Takes ownership of VF. */
struct kdx_error *kdx_diskdump_open(struct kdx_target *t, struct kdx_vfile *vf,
				    const char *format);

/* Only the metadata of a kdump-compressed file (notes, VMCOREINFO, crash
 * time, CPU, max_phys, truncation check) into T; VF stays the caller's. */
struct kdx_error *kdx_diskdump_meta(struct kdx_target *t, struct kdx_vfile *vf);

/*
 * ELF notes (PRSTATUS, QEMU CPU state, VMCOREINFO) from a note segment's
 * bytes, accumulated into T: cpus[] and vmcoreinfo. Unknown notes are
 * ignored; a malformed note area stops parsing without error (what was
 * parsed so far is kept).
 */
struct kdx_error *kdx_notes_parse(struct kdx_target *t, const void *buf, size_t len);

/* A 64- or 32-bit little-endian value at P (any alignment) of a dump's
 * header or notes. kdx reads x86_64 dumps on a little-endian host. */
static inline uint64_t kdx_le64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t kdx_le32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/*
 * In the array BASE of N elements of STRIDE bytes, sorted by the uint64_t
 * key at KEY_OFF in each: how many elements have a key <= KEY (so the last
 * one starting at or below KEY is that count - 1).
 */
static inline size_t kdx_upper_bound(const void *base, size_t n, size_t stride, size_t key_off,
				     uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t k;
		memcpy(&k, (const unsigned char *)base + mid * stride + key_off, sizeof(k));
		if (k <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * ELF cores (vmcore.elf, /proc/kcore): the NUM program headers at file
 * offset OFF of FD into *PH (malloc'd, the caller frees it). Returns 0,
 * ENOMEM, or EIO when the file does not hold them all (the caller words
 * that error for its format).
 */
int kdx_elf_phdrs_read(int fd, uint64_t off, size_t num, Elf64_Phdr **ph);

/*
 * ELF cores: read the note segment PH (SIZE = p_filesz, checked by the
 * caller) from FD and parse it into T with kdx_notes_parse. A short read
 * parses nothing and is not an error.
 */
struct kdx_error *kdx_elf_notes_read(struct kdx_target *t, int fd, const Elf64_Phdr *ph);

/* Ensure T->cpus has room for CPU index N (grows ncpus). */
struct kdx_error *kdx_target_cpus_reserve(struct kdx_target *t, unsigned n);

/* Set T->vmcoreinfo from LEN bytes (copied, NUL-terminated). */
struct kdx_error *kdx_target_set_vmcoreinfo(struct kdx_target *t, const char *text, size_t len);

/*
 * A small cache of whole pages, keyed by page frame number. Used in front of
 * readers that must decompress a whole page for any byte of it.
 */
struct kdx_pcache;

/* Fill BUF (one page) with the contents of page PFN. */
typedef struct kdx_error *(*kdx_pcache_fill_fn)(void *arg, uint64_t pfn, void *buf);

struct kdx_pcache *kdx_pcache_create(size_t page_size, unsigned nentries,
				     kdx_pcache_fill_fn fill, void *arg);
void kdx_pcache_destroy(struct kdx_pcache *c);
/* Read LEN bytes at physical PADDR through the cache (may span pages). */
struct kdx_error *kdx_pcache_read(struct kdx_pcache *c, uint64_t paddr, void *buf, size_t len);

#endif
