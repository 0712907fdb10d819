/*
 * /proc/kcore: the running kernel as an ELF core.
 *
 * Each PT_LOAD covers a kernel virtual range (p_vaddr); direct-map (RAM)
 * and kernel-text segments also give their physical address (p_paddr, -1
 * for the others). Kernel virtual reads go straight to the segment;
 * physical reads go through the RAM segments. Nothing is cached: the
 * kernel is running.
 */
#include "targets/target.h"
#include "targets/target_internal.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct kcore_seg {
	uint64_t vaddr, paddr, size, offset;
};

struct kcore {
	int fd;
	struct kcore_seg *v;    /* all PT_LOADs, sorted by vaddr */
	size_t nv;
	struct kcore_seg *p;    /* segments with a physical address, sorted by paddr */
	size_t np;
};

static int cmp_vaddr(const void *a, const void *b)
{
	const struct kcore_seg *x = a, *y = b;
	return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static int cmp_paddr(const void *a, const void *b)
{
	const struct kcore_seg *x = a, *y = b;
	return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Segment of S (sorted by KEY) containing ADDR, or NULL. */
static const struct kcore_seg *seg_find(const struct kcore_seg *s, size_t n, uint64_t addr, int phys)
{
	size_t lo = kdx_upper_bound(s, n, sizeof(*s), phys ? offsetof(struct kcore_seg, paddr) :
				    offsetof(struct kcore_seg, vaddr), addr);
	if (lo == 0)
		return NULL;
	const struct kcore_seg *g = &s[lo - 1];
	uint64_t a = phys ? g->paddr : g->vaddr;
	return addr - a < g->size ? g : NULL;
}

static struct kdx_error *kcore_read(struct kcore *k, uint64_t addr, void *buf, size_t len, int phys)
{
	unsigned char *out = buf;
	const struct kcore_seg *s = phys ? k->p : k->v;
	size_t n = phys ? k->np : k->nv;
	while (len) {
		const struct kcore_seg *g = seg_find(s, n, addr, phys);
		if (!g)
			return kdx_error_fault(addr, phys ?
				"physical address 0x%" PRIx64 " is not RAM in /proc/kcore" :
				"address 0x%" PRIx64 " is not in any /proc/kcore segment", addr);
		uint64_t rel = addr - (phys ? g->paddr : g->vaddr);
		size_t chunk = g->size - rel < len ? g->size - rel : len;
		ssize_t r = pread(k->fd, out, chunk, g->offset + rel);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return kdx_error_fault(addr, "%s 0x%" PRIx64 " cannot be read from /proc/kcore: %s",
					       phys ? "physical address" : "address", addr,
					       r < 0 ? strerror(errno) : "end of file");
		out += r;
		addr += r;
		len -= r;
	}
	return NULL;
}

static struct kdx_error *kcore_read_phys(struct kdx_target *t, uint64_t paddr, void *buf, size_t len)
{
	return kcore_read(t->priv, paddr, buf, len, 1);
}

static struct kdx_error *kcore_read_kvaddr(struct kdx_target *t, uint64_t vaddr, void *buf, size_t len)
{
	return kcore_read(t->priv, vaddr, buf, len, 0);
}

static void kcore_close(struct kdx_target *t)
{
	struct kcore *k = t->priv;
	if (!k)
		return;
	close(k->fd);
	free(k->v);
	free(k->p);
	free(k);
	t->priv = NULL;
}

static const struct kdx_target_ops kcore_ops = {
	.read_phys = kcore_read_phys,
	.read_kvaddr = kcore_read_kvaddr,
	.close = kcore_close,
};

struct kdx_error *kdx_kcore_open(struct kdx_target *t, int fd)
{
	Elf64_Ehdr eh;
	struct kcore *k = calloc(1, sizeof(*k));
	if (!k) {
		close(fd);
		return kdx_error_nomem();
	}
	k->fd = fd;
	t->priv = k;
	t->ops = &kcore_ops;
	t->format = "live /proc/kcore";
	t->live = 1;

	if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0)
		return kdx_error_create(KDX_ERR_FORMAT, "%s: bad ELF header", t->path);
	Elf64_Phdr *ph;
	k->v = calloc(eh.e_phnum, sizeof(*k->v));
	k->p = calloc(eh.e_phnum, sizeof(*k->p));
	if (!k->v || !k->p)
		return kdx_error_nomem();
	int rc = kdx_elf_phdrs_read(fd, eh.e_phoff, eh.e_phnum, &ph);
	if (rc == ENOMEM)
		return kdx_error_nomem();
	if (rc)
		return kdx_error_create(KDX_ERR_FORMAT, "%s: cannot read program headers", t->path);
	struct kdx_error *err = NULL;
	for (unsigned i = 0; i < eh.e_phnum && !err; i++) {
		if (ph[i].p_type == PT_LOAD) {
			struct kcore_seg s = { ph[i].p_vaddr, ph[i].p_paddr, ph[i].p_memsz, ph[i].p_offset };
			k->v[k->nv++] = s;
			/* Direct-map (RAM) segments only: the text segment's
			 * physical range lies inside a RAM one. */
			if (s.paddr != (uint64_t)-1 && s.paddr + s.size > s.paddr &&
			    s.vaddr < 0xffffffff80000000ULL) {
				k->p[k->np++] = s;
				t->direct_map_base = s.vaddr - s.paddr;
				if (s.paddr + s.size > t->max_phys)
					t->max_phys = s.paddr + s.size;
			}
		} else if (ph[i].p_type == PT_NOTE && ph[i].p_filesz && ph[i].p_filesz < (16u << 20)) {
			err = kdx_elf_notes_read(t, fd, &ph[i]);
		}
	}
	free(ph);
	if (err)
		return err;
	/* kcore's PRSTATUS is a placeholder, not CPU state: no registers live. */
	free(t->cpus);
	t->cpus = NULL;
	t->ncpus = 0;
	qsort(k->v, k->nv, sizeof(*k->v), cmp_vaddr);
	qsort(k->p, k->np, sizeof(*k->p), cmp_paddr);
	return NULL;
}
