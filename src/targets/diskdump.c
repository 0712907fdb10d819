/*
 * The kdump-compressed format ("KDUMP   ", makedumpfile -c/-l/-p/-z and
 * QEMU's dump-guest-memory -z/-l/-s), read on top of a kdx_vfile so that
 * the same code serves the standard file and the flattened one.
 *
 * Layout (block_size = page size, usually 4096):
 *   block 0                       disk_dump_header
 *   block 1 .. sub_hdr_size       kdump_sub_header (notes, VMCOREINFO offsets)
 *   next bitmap_blocks blocks     bitmap 1 (RAM pages), then bitmap 2 (pages
 *                                 present in the dump), each half the blocks
 *   next                          page descriptors, one per set bit of
 *                                 bitmap 2, in pfn order
 *   then                          page data
 * All integers are little-endian (x86_64 dumps).
 */
#include "targets/target.h"
#include "targets/target_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

/* disk_dump_header field offsets (x86_64 layout). */
#define DH_SIZE            464
#define DH_VERSION         8
#define DH_UTS_RELEASE     (12 + 2 * 65)
#define DH_TIMESTAMP       408
#define DH_STATUS          424
#define DH_BLOCK_SIZE      428
#define DH_SUB_HDR_SIZE    432
#define DH_BITMAP_BLOCKS   436
#define DH_MAX_MAPNR       440
#define DH_CURRENT_CPU     456
#define DH_NR_CPUS         460

/* kdump_sub_header field offsets. */
#define SH_SIZE            104
#define SH_PHYS_BASE       0
#define SH_DUMP_LEVEL      8
#define SH_OFF_VMCOREINFO  32
#define SH_SIZE_VMCOREINFO 40
#define SH_OFF_NOTE        48
#define SH_SIZE_NOTE       56
#define SH_MAX_MAPNR_64    96

/* page_desc_t */
#define PD_SIZE            24

#define DH_COMPRESSED_ZLIB    0x1
#define DH_COMPRESSED_LZO     0x2
#define DH_COMPRESSED_SNAPPY  0x4
#define DH_COMPRESSED_ZSTD    0x20
#define DH_INCOMPLETE         0x8     /* header status: the writer ran out of space */

/* Bits of bitmap 2 counted per rank block (8 x 64-bit words). */
#define RANK_BITS 512

struct diskdump {
	struct kdx_vfile *vf;
	const char *format;
	uint32_t block_size;
	uint64_t max_mapnr;
	uint64_t bitmap_off;        /* start of bitmap 1 */
	uint64_t bitmap_len;        /* length of one bitmap in bytes */
	uint64_t desc_off;
	uint64_t *bitmap2;          /* bitmap 2, as 64-bit words */
	uint64_t nwords;
	uint32_t *rank;             /* set bits before each RANK_BITS block */
	uint64_t npages;            /* total set bits = number of descriptors */
	unsigned char *cbuf;        /* compressed data buffer */
	size_t cbuf_size;
	struct kdx_pcache *cache;
	ZSTD_DCtx *zstd;
	int incomplete;             /* header says the dump is incomplete */
};

struct dd_header {
	int32_t version;
	uint32_t block_size;
	uint32_t sub_hdr_size;
	uint32_t bitmap_blocks;
	uint64_t max_mapnr;
	uint32_t current_cpu;
	int32_t nr_cpus;
	uint32_t status;
	int64_t timestamp;
	unsigned char sub[SH_SIZE];
};

static struct kdx_error *read_header(struct kdx_vfile *vf, struct dd_header *h)
{
	unsigned char b[DH_SIZE];
	struct kdx_error *err = vf->pread(vf, 0, b, sizeof(b));
	if (err)
		return kdx_error_prefix(err, "%s: reading the kdump header", vf->path);
	if (memcmp(b, "KDUMP   ", 8) != 0)
		return kdx_error_create(KDX_ERR_FORMAT, "%s: no KDUMP signature", vf->path);
	/* utsname.machine: empty in some writers' headers; else must be x86_64. */
	const char *machine = (const char *)b + 12 + 4 * 65;
	if (machine[0] && strncmp(machine, "x86_64", 65) != 0)
		return kdx_error_create(KDX_ERR_FORMAT, "%s is a dump of a %.64s machine:"
					" kdx reads x86_64 dumps only", vf->path, machine);
	h->version = (int32_t)kdx_le32(b + DH_VERSION);
	h->block_size = kdx_le32(b + DH_BLOCK_SIZE);
	h->sub_hdr_size = kdx_le32(b + DH_SUB_HDR_SIZE);
	h->bitmap_blocks = kdx_le32(b + DH_BITMAP_BLOCKS);
	h->max_mapnr = kdx_le32(b + DH_MAX_MAPNR);
	h->current_cpu = kdx_le32(b + DH_CURRENT_CPU);
	h->nr_cpus = (int32_t)kdx_le32(b + DH_NR_CPUS);
	h->status = kdx_le32(b + DH_STATUS);
	h->timestamp = (int64_t)kdx_le64(b + DH_TIMESTAMP);
	if (h->block_size < 512 || h->block_size > (1u << 20) ||
	    (h->block_size & (h->block_size - 1)))
		return kdx_error_create(KDX_ERR_FORMAT, "%s: bad kdump block size %" PRIu32,
					vf->path, h->block_size);
	memset(h->sub, 0, sizeof(h->sub));
	if (h->sub_hdr_size > 0) {
		err = vf->pread(vf, h->block_size, h->sub, sizeof(h->sub));
		if (err)
			return kdx_error_prefix(err, "%s: reading the kdump sub-header", vf->path);
	}
	if (h->version >= 6 && kdx_le64(h->sub + SH_MAX_MAPNR_64))
		h->max_mapnr = kdx_le64(h->sub + SH_MAX_MAPNR_64);
	return NULL;
}

/* Read LEN bytes at OFF of the vfile into a new buffer (LEN capped). */
static struct kdx_error *read_blob(struct kdx_vfile *vf, uint64_t off, uint64_t len,
				   const char *what, char **ret)
{
	if (len > (256u << 20))
		return kdx_error_create(KDX_ERR_FORMAT, "%s: %s size %" PRIu64 " is implausible",
					vf->path, what, len);
	char *b = malloc(len + 1);
	if (!b)
		return kdx_error_nomem();
	struct kdx_error *err = vf->pread(vf, off, b, len);
	if (err) {
		free(b);
		return kdx_error_prefix(err, "%s: reading the %s", vf->path, what);
	}
	b[len] = '\0';
	*ret = b;
	return NULL;
}

static struct kdx_error *meta_from_header(struct kdx_target *t, struct kdx_vfile *vf,
					  const struct dd_header *h)
{
	struct kdx_error *err;
	t->page_size = h->block_size;
	t->max_phys = h->max_mapnr * h->block_size;
	t->crash_time = h->timestamp;
	if (h->sub_hdr_size > 0)
		t->dump_level = (int)kdx_le32(h->sub + SH_DUMP_LEVEL);
	/* Writers that do not know the CPU leave 0; trust only other values. */
	if (h->current_cpu != 0 && (int32_t)h->current_cpu < h->nr_cpus)
		t->panic_cpu = (int)h->current_cpu;

	uint64_t note_off = kdx_le64(h->sub + SH_OFF_NOTE), note_size = kdx_le64(h->sub + SH_SIZE_NOTE);
	if (h->version >= 4 && note_off && note_size) {
		char *notes;
		err = read_blob(vf, note_off, note_size, "ELF notes", &notes);
		if (err)
			return err;
		err = kdx_notes_parse(t, notes, note_size);
		free(notes);
		if (err)
			return err;
	}
	uint64_t vi_off = kdx_le64(h->sub + SH_OFF_VMCOREINFO), vi_size = kdx_le64(h->sub + SH_SIZE_VMCOREINFO);
	if (!t->vmcoreinfo && h->version >= 3 && vi_off && vi_size) {
		char *vi;
		err = read_blob(vf, vi_off, vi_size, "VMCOREINFO", &vi);
		if (err)
			return err;
		err = kdx_target_set_vmcoreinfo(t, vi, vi_size);
		free(vi);
		if (err)
			return err;
	}
	return NULL;
}

/* Bitmaps and descriptors must lie inside the file. */
static struct kdx_error *check_extent(struct kdx_vfile *vf, uint64_t end, const char *what)
{
	if (end <= vf->size)
		return NULL;
	return kdx_error_create(KDX_ERR_FORMAT,
		"%s is truncated: its %s end at byte %" PRIu64 ", the file has %" PRIu64
		" (incomplete copy?)", vf->path, what, end, vf->size);
}

/* The descriptor table and the data of the last pages must be in the file.
 * Pages are written in descriptor order, except that writers share one
 * copy of the zero page: the furthest end among the last 64 descriptors
 * catches cut copies without reading every descriptor. */
static struct kdx_error *check_descriptors(struct kdx_vfile *vf, uint64_t desc_off, uint64_t npages)
{
	struct kdx_error *err = check_extent(vf, desc_off + npages * PD_SIZE, "page descriptors");
	if (err || npages == 0)
		return err;
	unsigned char pd[64 * PD_SIZE];
	uint64_t n = npages < 64 ? npages : 64, end = 0;
	err = vf->pread(vf, desc_off + (npages - n) * PD_SIZE, pd, n * PD_SIZE);
	if (err)
		return kdx_error_prefix(err, "%s: reading the last page descriptors", vf->path);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t e = kdx_le64(pd + i * PD_SIZE) + kdx_le32(pd + i * PD_SIZE + 8);
		if (e > end)
			end = e;
	}
	return check_extent(vf, end, "page data");
}

/* Set bits of bitmap 2, streamed in chunks (no need to keep it). */
static struct kdx_error *count_pages(struct kdx_vfile *vf, uint64_t off, uint64_t len, uint64_t *ret)
{
	uint64_t buf[8192], total = 0;
	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		memset(buf, 0, sizeof(buf));
		struct kdx_error *err = vf->pread(vf, off, buf, n);
		if (err)
			return kdx_error_prefix(err, "%s: reading the page bitmap", vf->path);
		for (size_t i = 0; i < (n + 7) / 8; i++)
			total += __builtin_popcountll(buf[i]);
		off += n;
		len -= n;
	}
	*ret = total;
	return NULL;
}

struct kdx_error *kdx_diskdump_meta(struct kdx_target *t, struct kdx_vfile *vf)
{
	struct dd_header h;
	struct kdx_error *err = read_header(vf, &h);
	if (err)
		return err;
	uint64_t bitmap_off = ((uint64_t)h.sub_hdr_size + 1) * h.block_size;
	uint64_t bitmap_len = (uint64_t)h.bitmap_blocks * h.block_size / 2;
	uint64_t desc_off = bitmap_off + 2 * bitmap_len, npages;
	err = check_extent(vf, desc_off, "page bitmaps");
	if (!err)
		err = count_pages(vf, bitmap_off + bitmap_len, bitmap_len, &npages);
	/* An incomplete dump (the writer ran out of space) is usable up to
	 * where it stops; its missing pages fault when read. */
	if (!err && !(h.status & DH_INCOMPLETE))
		err = check_descriptors(vf, desc_off, npages);
	if (err)
		return err;
	return meta_from_header(t, vf, &h);
}

/* ------------------------------------------------------------------ */
/* Page lookup and decompression */

static int pfn_present(const struct diskdump *d, uint64_t pfn)
{
	if (pfn >= d->nwords * 64)
		return 0;
	return (d->bitmap2[pfn / 64] >> (pfn % 64)) & 1;
}

/* Index of PFN's descriptor: set bits of bitmap 2 before PFN. */
static uint64_t pfn_rank(const struct diskdump *d, uint64_t pfn)
{
	uint64_t r = d->rank[pfn / RANK_BITS];
	uint64_t w = pfn / RANK_BITS * (RANK_BITS / 64);
	for (; w < pfn / 64; w++)
		r += __builtin_popcountll(d->bitmap2[w]);
	uint64_t bits = pfn % 64;
	if (bits)
		r += __builtin_popcountll(d->bitmap2[pfn / 64] & ((1ULL << bits) - 1));
	return r;
}

static struct kdx_error *decompress(struct diskdump *d, uint64_t paddr, uint32_t flags,
				    const unsigned char *in, size_t inlen, unsigned char *out)
{
	size_t ps = d->block_size;
	if (flags & DH_COMPRESSED_ZLIB) {
		uLongf outlen = ps;
		if (uncompress(out, &outlen, in, inlen) == Z_OK && outlen == ps)
			return NULL;
	} else if (flags & DH_COMPRESSED_LZO) {
		lzo_uint outlen = ps;
		if (lzo1x_decompress_safe(in, inlen, out, &outlen, NULL) == LZO_E_OK && outlen == ps)
			return NULL;
	} else if (flags & DH_COMPRESSED_SNAPPY) {
		size_t outlen = ps;
		if (snappy_uncompress((const char *)in, inlen, (char *)out, &outlen) == SNAPPY_OK &&
		    outlen == ps)
			return NULL;
	} else if (flags & DH_COMPRESSED_ZSTD) {
		if (!d->zstd && !(d->zstd = ZSTD_createDCtx()))
			return kdx_error_nomem();
		size_t n = ZSTD_decompressDCtx(d->zstd, out, ps, in, inlen);
		if (!ZSTD_isError(n) && n == ps)
			return NULL;
	} else if (inlen == ps) {
		memcpy(out, in, ps);
		return NULL;
	}
	return kdx_error_fault(paddr, "page at physical 0x%" PRIx64
			       " is corrupt in the dump (cannot decompress, flags 0x%" PRIx32 ")",
			       paddr, flags);
}

static struct kdx_error *dd_fill_page(void *arg, uint64_t pfn, void *buf)
{
	struct diskdump *d = arg;
	uint64_t paddr = pfn * d->block_size;
	if (pfn >= d->max_mapnr)
		return kdx_error_fault(paddr, "physical address 0x%" PRIx64
				       " is beyond the end of the dump (max 0x%" PRIx64 ")",
				       paddr, d->max_mapnr * d->block_size);
	if (!pfn_present(d, pfn)) {
		/* Bitmap 1 says whether it is RAM at all: filtered or a hole. */
		unsigned char b = 0xff;
		struct kdx_error *e = d->vf->pread(d->vf, d->bitmap_off + pfn / 8, &b, 1);
		kdx_error_destroy(e);
		return kdx_error_fault(paddr, "page at physical 0x%" PRIx64 " is not in the dump (%s)",
				       paddr, (b >> (pfn % 8)) & 1 ? "filtered" : "not RAM");
	}
	unsigned char pd[PD_SIZE];
	struct kdx_error *err = d->vf->pread(d->vf, d->desc_off + pfn_rank(d, pfn) * PD_SIZE,
					     pd, sizeof(pd));
	if (err && d->incomplete) {
		kdx_error_destroy(err);
		return kdx_error_fault(paddr, "page at physical 0x%" PRIx64
				       " is not in the dump (the dump is incomplete)", paddr);
	}
	if (err)
		return kdx_error_prefix(err, "page descriptor of physical 0x%" PRIx64, paddr);
	uint64_t off = kdx_le64(pd);
	uint32_t size = kdx_le32(pd + 8), flags = kdx_le32(pd + 12);
	if (d->incomplete && size == 0)
		return kdx_error_fault(paddr, "page at physical 0x%" PRIx64
				       " is not in the dump (the dump is incomplete)", paddr);
	if (size == 0 || size > 2 * d->block_size)
		return kdx_error_fault(paddr, "page at physical 0x%" PRIx64
				       " has a corrupt descriptor (size %" PRIu32 ")", paddr, size);
	if (size > d->cbuf_size) {
		unsigned char *nb = realloc(d->cbuf, size);
		if (!nb)
			return kdx_error_nomem();
		d->cbuf = nb;
		d->cbuf_size = size;
	}
	err = d->vf->pread(d->vf, off, d->cbuf, size);
	if (err) {
		kdx_error_destroy(err);
		return kdx_error_fault(paddr, "page at physical 0x%" PRIx64 " is %s", paddr,
				       d->incomplete ? "not in the dump (the dump is incomplete)" :
				       "missing from the file (truncated dump?)");
	}
	return decompress(d, paddr, flags, d->cbuf, size, buf);
}

static struct kdx_error *dd_read_phys(struct kdx_target *t, uint64_t paddr, void *buf, size_t len)
{
	struct diskdump *d = t->priv;
	return kdx_pcache_read(d->cache, paddr, buf, len);
}

static void dd_close(struct kdx_target *t)
{
	struct diskdump *d = t->priv;
	if (!d)
		return;
	if (d->vf)
		d->vf->close(d->vf);
	kdx_pcache_destroy(d->cache);
	if (d->zstd)
		ZSTD_freeDCtx(d->zstd);
	free(d->bitmap2);
	free(d->rank);
	free(d->cbuf);
	free(d);
	t->priv = NULL;
}

static const struct kdx_target_ops dd_ops = {
	.read_phys = dd_read_phys,
	.close = dd_close,
};

static struct kdx_error *load_bitmap(struct diskdump *d)
{
	d->nwords = (d->bitmap_len + 7) / 8;
	d->bitmap2 = calloc(d->nwords ? d->nwords : 1, 8);
	size_t nrank = d->nwords / (RANK_BITS / 64) + 1;
	d->rank = calloc(nrank, sizeof(*d->rank));
	if (!d->bitmap2 || !d->rank)
		return kdx_error_nomem();
	struct kdx_error *err = d->vf->pread(d->vf, d->bitmap_off + d->bitmap_len,
					     d->bitmap2, d->bitmap_len);
	if (err)
		return kdx_error_prefix(err, "%s: reading the page bitmap", d->vf->path);
	uint64_t total = 0;
	for (uint64_t w = 0; w < d->nwords; w++) {
		if (w % (RANK_BITS / 64) == 0)
			d->rank[w / (RANK_BITS / 64)] = (uint32_t)total;
		total += __builtin_popcountll(d->bitmap2[w]);
	}
	if (total > UINT32_MAX)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "%s: more than 2^32 pages", d->vf->path);
	d->npages = total;
	return NULL;
}

struct kdx_error *kdx_diskdump_open(struct kdx_target *t, struct kdx_vfile *vf,
				    const char *format)
{
	struct dd_header h;
	struct kdx_error *err;

	struct diskdump *d = calloc(1, sizeof(*d));
	if (!d) {
		vf->close(vf);
		return kdx_error_nomem();
	}
	d->vf = vf;
	d->format = format;
	t->priv = d;
	t->ops = &dd_ops;
	t->format = format;

	if (lzo_init() != LZO_E_OK)
		return kdx_error_create(KDX_ERR_OTHER, "cannot initialize the LZO library");
	err = read_header(vf, &h);
	if (err)
		return err;
	if (h.block_size != 4096)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "%s: block size %" PRIu32
					" is not supported (x86_64 4 KiB pages only)", vf->path, h.block_size);
	d->block_size = h.block_size;
	d->max_mapnr = h.max_mapnr;
	d->bitmap_off = ((uint64_t)h.sub_hdr_size + 1) * h.block_size;
	d->bitmap_len = (uint64_t)h.bitmap_blocks * h.block_size / 2;
	d->desc_off = d->bitmap_off + 2 * d->bitmap_len;
	err = check_extent(vf, d->desc_off, "page bitmaps");
	if (err)
		return err;
	if (d->bitmap_len * 8 < d->max_mapnr)
		d->max_mapnr = d->bitmap_len * 8;
	err = load_bitmap(d);
	if (err)
		return err;
	d->incomplete = (h.status & DH_INCOMPLETE) != 0;
	if (!d->incomplete)
		err = check_descriptors(vf, d->desc_off, d->npages);
	if (err)
		return err;
	err = meta_from_header(t, vf, &h);
	if (err)
		return err;
	d->cache = kdx_pcache_create(d->block_size, 256, dd_fill_page, d);
	if (!d->cache)
		return kdx_error_nomem();
	return NULL;
}
