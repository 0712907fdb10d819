/*
 * ELF vmcores and standard kdump-compressed files.
 *
 * Two readers serve the pages:
 *   - kdx's own: ELF PT_LOAD segments read with pread, and the
 *     kdump-compressed reader of diskdump.c (shared with the flattened
 *     format). This is the default: a page costs a few microseconds, where
 *     libkdumpfile 0.5.1 takes 30-110 us per page read on the same dumps,
 *     which matters for list walks over 100,000 objects.
 *   - libkdumpfile: used when the environment variable KDX_LIBKDUMPFILE=1
 *     is set, and as a fallback for kdump-compressed variants kdx's reader
 *     does not support (e.g. block sizes other than 4 KiB).
 * What the dump records besides memory (notes: PRSTATUS, QEMU CPU state,
 * VMCOREINFO; header: time, crashing CPU) is always parsed by kdx, so that
 * all formats give the same answers, including CR3 and the per-CPU base
 * from QEMU notes, which libkdumpfile 0.5.1 does not expose.
 */
#include "targets/target.h"
#include "targets/target_internal.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <libkdumpfile/kdumpfile.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct kdump_priv {
	kdump_ctx_t *ctx;
	int fd;
	struct kdx_pcache *cache;
};

/* A PT_LOAD of an ELF vmcore. */
struct elf_seg {
	uint64_t paddr, filesz, memsz, offset;
};

struct elf_priv {
	int fd;
	struct elf_seg *seg;    /* sorted by paddr, non-overlapping */
	size_t nseg;
	struct kdx_pcache *cache;
};

/* Read directly through libkdumpfile; fault error on any missing byte. */
static struct kdx_error *kdump_read_direct(struct kdump_priv *p, uint64_t paddr,
					   void *buf, size_t len)
{
	size_t got = len;
	kdump_status st = kdump_read(p->ctx, KDUMP_MACHPHYSADDR, paddr, buf, &got);
	if (st == KDUMP_OK && got == len)
		return NULL;
	uint64_t bad = paddr + got;
	if (st == KDUMP_ERR_NODATA || st == KDUMP_OK)
		return kdx_error_fault(bad, "page at physical 0x%" PRIx64
				       " is not in the dump (filtered or not captured)", bad);
	return kdx_error_fault(bad, "reading physical 0x%" PRIx64 ": %s", bad,
			       kdump_get_err(p->ctx));
}

static struct kdx_error *kdump_fill_page(void *arg, uint64_t pfn, void *buf)
{
	struct kdump_priv *p = arg;
	return kdump_read_direct(p, pfn * 4096, buf, 4096);
}

static struct kdx_error *kdump_read_phys(struct kdx_target *t, uint64_t paddr,
					 void *buf, size_t len)
{
	struct kdump_priv *p = t->priv;
	struct kdx_error *err = kdx_pcache_read(p->cache, paddr, buf, len);
	if (!err || err->code != KDX_ERR_FAULT)
		return err;
	/* A page may be partly present (ELF segment edges): retry exactly. */
	kdx_error_destroy(err);
	return kdump_read_direct(p, paddr, buf, len);
}

static void kdump_close(struct kdx_target *t)
{
	struct kdump_priv *p = t->priv;
	if (!p)
		return;
	if (p->ctx)
		kdump_free(p->ctx);
	kdx_pcache_destroy(p->cache);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
	t->priv = NULL;
}

static const struct kdx_target_ops kdump_ops = {
	.read_phys = kdump_read_phys,
	.close = kdump_close,
};

/* ELF: check segments against the file size, compute max_phys, parse notes. */
static struct kdx_error *elf_scan(struct kdx_target *t, int fd, struct elf_priv *ep)
{
	Elf64_Ehdr eh;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return kdx_error_create(KDX_ERR_IO, "cannot stat %s: %s", t->path, strerror(errno));
	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
		return kdx_error_create(KDX_ERR_FORMAT, "%s: truncated ELF header", t->path);
	if (eh.e_machine != EM_X86_64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return kdx_error_create(KDX_ERR_UNSUPPORTED,
			"%s is an ELF core of machine type %u: kdx reads x86_64 dumps only",
			t->path, (unsigned)eh.e_machine);
	size_t phnum = eh.e_phnum;
	if (phnum == PN_XNUM) {
		/* More than 65534 segments (makedumpfile -E on fragmented
		 * memory): the count is in section header 0's sh_info. */
		Elf64_Shdr sh0;
		if (!eh.e_shoff || pread(fd, &sh0, sizeof(sh0), eh.e_shoff) != (ssize_t)sizeof(sh0))
			return kdx_error_create(KDX_ERR_FORMAT, "%s: PN_XNUM without section header 0",
						t->path);
		phnum = sh0.sh_info;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || phnum == 0)
		return kdx_error_create(KDX_ERR_FORMAT, "%s: unsupported ELF program header table", t->path);
	Elf64_Phdr *ph;
	int rc = kdx_elf_phdrs_read(fd, eh.e_phoff, phnum, &ph);
	if (rc == ENOMEM)
		return kdx_error_nomem();
	if (rc)
		return kdx_error_create(KDX_ERR_FORMAT,
			"%s is truncated: its ELF program headers lie beyond the end of the file", t->path);
	struct kdx_error *err = NULL;
	uint64_t fsize = st.st_size;
	for (size_t i = 0; i < phnum && !err; i++) {
		if (ph[i].p_type != PT_LOAD && ph[i].p_type != PT_NOTE)
			continue;
		if (ph[i].p_offset + ph[i].p_filesz > fsize) {
			err = kdx_error_create(KDX_ERR_FORMAT,
				"%s is truncated: segment %zu needs %" PRIu64 " bytes, the file has %" PRIu64
				" (incomplete copy?)", t->path, i, ph[i].p_offset + ph[i].p_filesz, fsize);
			break;
		}
		if (ph[i].p_type == PT_LOAD) {
			if (ph[i].p_paddr + ph[i].p_memsz > t->max_phys)
				t->max_phys = ph[i].p_paddr + ph[i].p_memsz;
			if (ep && ph[i].p_memsz) {
				if (!ep->seg && !(ep->seg = malloc(phnum * sizeof(*ep->seg)))) {
					err = kdx_error_nomem();
					break;
				}
				ep->seg[ep->nseg++] = (struct elf_seg){ ph[i].p_paddr, ph[i].p_filesz,
									ph[i].p_memsz, ph[i].p_offset };
			}
			continue;
		}
		if (ph[i].p_filesz == 0 || ph[i].p_filesz > (64u << 20))
			continue;
		err = kdx_elf_notes_read(t, fd, &ph[i]);
	}
	free(ph);
	return err;
}

/* ------------------------------------------------------------------ */
/* kdx's own ELF reader */

static int seg_cmp(const void *a, const void *b)
{
	const struct elf_seg *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Segment containing PADDR, or NULL. */
static const struct elf_seg *elf_find(const struct elf_priv *ep, uint64_t paddr)
{
	size_t lo = kdx_upper_bound(ep->seg, ep->nseg, sizeof(*ep->seg),
				    offsetof(struct elf_seg, paddr), paddr);
	/* Segments may overlap (a /proc/vmcore copy has the kernel text both
	 * in its own segment and inside a RAM one): look further back. */
	for (size_t i = lo; i-- > 0;) {
		const struct elf_seg *g = &ep->seg[i];
		if (paddr - g->paddr < g->memsz)
			return g;
	}
	return NULL;
}

static struct kdx_error *elf_read_direct(struct elf_priv *ep, uint64_t paddr, void *buf, size_t len)
{
	unsigned char *out = buf;
	while (len) {
		const struct elf_seg *g = elf_find(ep, paddr);
		if (!g)
			return kdx_error_fault(paddr, "physical address 0x%" PRIx64
					       " is not in the dump (no ELF segment covers it)", paddr);
		uint64_t rel = paddr - g->paddr;
		size_t n = g->memsz - rel < len ? g->memsz - rel : len;
		if (rel >= g->filesz) {
			/* Beyond p_filesz within p_memsz: zero-filled. */
			size_t z = n;
			memset(out, 0, z);
		} else {
			if (n > g->filesz - rel)
				n = g->filesz - rel;
			ssize_t r = pread(ep->fd, out, n, g->offset + rel);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return kdx_error_fault(paddr, "physical address 0x%" PRIx64
						       " cannot be read from the dump file: %s", paddr,
						       r < 0 ? strerror(errno) : "unexpected end of file");
			n = r;
		}
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}

static struct kdx_error *elf_fill_page(void *arg, uint64_t pfn, void *buf)
{
	return elf_read_direct(arg, pfn * 4096, buf, 4096);
}

static struct kdx_error *elf_read_phys(struct kdx_target *t, uint64_t paddr, void *buf, size_t len)
{
	struct elf_priv *ep = t->priv;
	struct kdx_error *err = kdx_pcache_read(ep->cache, paddr, buf, len);
	if (!err || err->code != KDX_ERR_FAULT)
		return err;
	/* A page may be partly covered (segment edges): retry exactly. */
	kdx_error_destroy(err);
	return elf_read_direct(ep, paddr, buf, len);
}

static void elf_close(struct kdx_target *t)
{
	struct elf_priv *ep = t->priv;
	if (!ep)
		return;
	close(ep->fd);
	free(ep->seg);
	kdx_pcache_destroy(ep->cache);
	free(ep);
	t->priv = NULL;
}

static const struct kdx_target_ops elf_ops = {
	.read_phys = elf_read_phys,
	.close = elf_close,
};

static struct kdx_error *elf_open_native(struct kdx_target *t, int fd)
{
	struct elf_priv *ep = calloc(1, sizeof(*ep));
	if (!ep) {
		close(fd);
		return kdx_error_nomem();
	}
	ep->fd = fd;
	t->priv = ep;
	t->ops = &elf_ops;
	t->format = "ELF vmcore";
	struct kdx_error *err = elf_scan(t, fd, ep);
	if (err)
		return err;
	qsort(ep->seg, ep->nseg, sizeof(*ep->seg), seg_cmp);
	ep->cache = kdx_pcache_create(4096, 256, elf_fill_page, ep);
	if (!ep->cache)
		return kdx_error_nomem();
	return NULL;
}

static int want_libkdumpfile(void)
{
	const char *e = getenv("KDX_LIBKDUMPFILE");
	return e && *e && strcmp(e, "0") != 0;
}

/* ------------------------------------------------------------------ */

/* Through libkdumpfile: metadata by kdx, pages by libkdumpfile. */
static struct kdx_error *open_libkdumpfile(struct kdx_target *t, int fd, int is_elf)
{
	struct kdx_error *err;

	/* Metadata first, with kdx's own parsers (also detects truncation). */
	if (is_elf) {
		t->format = "ELF vmcore";
		err = elf_scan(t, fd, NULL);
	} else {
		t->format = "kdump-compressed";
		int dfd = dup(fd);
		struct kdx_vfile *vf = NULL;
		if (dfd < 0)
			err = kdx_error_create(KDX_ERR_IO, "%s: %s", t->path, strerror(errno));
		else
			err = kdx_vfile_fd(dfd, t->path, &vf);
		if (!err)
			err = kdx_diskdump_meta(t, vf);
		if (vf)
			vf->close(vf);
	}
	if (err) {
		close(fd);
		return err;
	}

	struct kdump_priv *p = calloc(1, sizeof(*p));
	if (!p) {
		close(fd);
		return kdx_error_nomem();
	}
	p->fd = fd;
	t->priv = p;
	t->ops = &kdump_ops;
	p->ctx = kdump_new();
	if (!p->ctx)
		return kdx_error_nomem();
	/* Without arch.name set first, 0.5.1 drops the per-CPU PRSTATUS notes. */
	kdump_set_string_attr(p->ctx, KDUMP_ATTR_ARCH_NAME, KDUMP_ARCH_X86_64);
	kdump_status st = kdump_open_fd(p->ctx, fd);
	if (st != KDUMP_OK)
		return kdx_error_create(KDX_ERR_FORMAT, "%s: cannot open %s: %s", t->path,
					t->format, kdump_get_err(p->ctx));
	kdump_num_t num;
	if (kdump_get_number_attr(p->ctx, KDUMP_ATTR_PAGE_SIZE, &num) == KDUMP_OK && num != 4096)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "%s: page size %" PRIu64
					" is not supported (x86_64 4 KiB pages only)", t->path, (uint64_t)num);
	if (!t->vmcoreinfo) {
		char *raw = NULL;
		if (kdump_vmcoreinfo_raw(p->ctx, &raw) == KDUMP_OK && raw) {
			err = kdx_target_set_vmcoreinfo(t, raw, strlen(raw));
			free(raw);
			if (err)
				return err;
		}
	}
	if (!t->max_phys && kdump_get_number_attr(p->ctx, "max_pfn", &num) == KDUMP_OK)
		t->max_phys = (uint64_t)num * 4096;
	p->cache = kdx_pcache_create(4096, 256, kdump_fill_page, p);
	if (!p->cache)
		return kdx_error_nomem();
	return NULL;
}

struct kdx_error *kdx_kdump_open(struct kdx_target *t, int fd)
{
	char magic[8];

	if (pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic)) {
		close(fd);
		return kdx_error_create(KDX_ERR_FORMAT, "%s: truncated header", t->path);
	}
	int is_elf = memcmp(magic, ELFMAG, SELFMAG) == 0;
	if (want_libkdumpfile())
		return open_libkdumpfile(t, fd, is_elf);
	if (is_elf)
		return elf_open_native(t, fd);

	int dfd = dup(fd);
	if (dfd < 0) {
		int e = errno;
		close(fd);
		return kdx_error_create(KDX_ERR_IO, "%s: %s", t->path, strerror(e));
	}
	struct kdx_vfile *vf;
	struct kdx_error *err = kdx_vfile_fd(dfd, t->path, &vf);
	if (!err)
		err = kdx_diskdump_open(t, vf, "kdump-compressed");
	if (!err) {
		close(fd);
		return NULL;
	}
	if (err->code != KDX_ERR_UNSUPPORTED) {
		close(fd);
		return err;
	}
	/* A variant kdx's reader does not know: let libkdumpfile try. */
	kdx_error_destroy(err);
	if (t->ops && t->ops->close)
		t->ops->close(t);
	t->ops = NULL;
	t->priv = NULL;
	free(t->cpus);
	t->cpus = NULL;
	t->ncpus = 0;
	free(t->vmcoreinfo);
	t->vmcoreinfo = NULL;
	return open_libkdumpfile(t, fd, 0);
}
