/*
 * Kernel virtual → physical translation on x86_64 and reads through it.
 *
 * Order of translation for a kernel address:
 *   1. direct map:   page_offset <= va < end of direct map  → va - page_offset
 *   2. kernel image: __START_KERNEL_map <= va < +1 GiB (KERNEL_IMAGE_SIZE)
 *                                                → va - __START_KERNEL_map + phys_base
 *   3. page tables rooted at pgd_paddr (vmalloc, modules, vmemmap, fixmap),
 *      4- or 5-level, 1 GiB and 2 MiB pages, through a small TLB.
 * Targets that read kernel virtual memory natively (/proc/kcore) bypass all
 * of that for reads.
 */
#include "targets/mem.h"
#include "targets/target.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PAGE_SIZE          4096ULL
#define PAGE_MASK          (~(PAGE_SIZE - 1))
#define START_KERNEL_MAP   0xffffffff80000000ULL
#define KERNEL_IMAGE_SIZE  (1ULL << 30)
#define PTE_PRESENT        0x1ULL
#define PTE_PSE            0x80ULL
#define PTE_PROTNONE       0x100ULL     /* = _PAGE_GLOBAL, meaningful when not present */
#define PTE_ADDR_MASK      0x000ffffffffff000ULL
#define PTE_1G_MASK        0x000fffffc0000000ULL
#define PTE_2M_MASK        0x000fffffffe00000ULL
#define TLB_SIZE           512

struct tlb_entry {
	uint64_t pgd;       /* root the entry was found under */
	uint64_t vpage;     /* va & PAGE_MASK; 0 = empty (never a kernel page) */
	uint64_t ppage;
};

struct kdx_mem {
	struct kdx_target *t;
	struct kdx_mem_layout layout;
	uint64_t sme_mask;          /* memory encryption bit to strip from entries */
	int image_known;            /* phys_base is trustworthy: image arithmetic */
	struct tlb_entry tlb[TLB_SIZE];
};

static const char *level_name[] = { "PTE", "PMD", "PUD", "P4D", "PGD" };

/* ------------------------------------------------------------------ */
/* Layout */

static uint64_t image_to_phys(const struct kdx_mem_layout *l, uint64_t va)
{
	return va - l->kernel_map + l->phys_base;
}

static int detect_page_offset_quiet(struct kdx_mem *m);

/* An optional VMCOREINFO number: 1 and *V if present and valid. */
static int vmcoreinfo_opt(struct kdx_target *t, const char *key, int base, uint64_t *v)
{
	struct kdx_error *err = kdx_vmcoreinfo_u64(t, key, base, v);
	kdx_error_destroy(err);
	return err == NULL;
}

static struct kdx_error *layout_vmcoreinfo(struct kdx_target *t, struct kdx_mem_layout *l)
{
	uint64_t v;
	struct kdx_error *err;

	if (!t->vmcoreinfo)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "%s has no VMCOREINFO", t->path);
	if (vmcoreinfo_opt(t, "KERNELOFFSET", 16, &v))
		l->kaslr_offset = v;
	err = kdx_vmcoreinfo_u64(t, "NUMBER(phys_base)", 10, &v);
	if (err)
		return err;
	l->phys_base = v;
	err = kdx_vmcoreinfo_u64(t, "SYMBOL(init_top_pgt)", 16, &v);
	if (err) {
		kdx_error_destroy(err);
		err = kdx_vmcoreinfo_u64(t, "SYMBOL(swapper_pg_dir)", 16, &v);
		if (err)
			return err;
	}
	l->pgd_paddr = image_to_phys(l, v);
	if (vmcoreinfo_opt(t, "NUMBER(pgtable_l5_enabled)", 10, &v) && v)
		l->levels = 5;
	return NULL;
}

/* First CPU with QEMU system registers, or NULL. */
static const struct kdx_cpu_regs *cpu_with_sregs(struct kdx_target *t)
{
	for (unsigned i = 0; i < t->ncpus; i++)
		if (t->cpus[i].has_sregs && t->cpus[i].cr[3])
			return &t->cpus[i];
	return NULL;
}

/* A throwaway kdx_mem over T with layout L, for detection walks. */
static struct kdx_mem *scratch_mem(struct kdx_target *t, const struct kdx_mem_layout *l)
{
	struct kdx_mem *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->t = t;
	m->layout = *l;
	uint64_t sme;
	if (vmcoreinfo_opt(t, "NUMBER(sme_mask)", 10, &sme))
		m->sme_mask = sme;
	return m;
}

struct kdx_error *kdx_mem_layout_from_vmcoreinfo(struct kdx_target *t, struct kdx_mem_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->kernel_map = START_KERNEL_MAP;
	l->levels = 4;
	struct kdx_error *err = layout_vmcoreinfo(t, l);
	const struct kdx_cpu_regs *c = cpu_with_sregs(t);
	if (err && c && !l->pgd_paddr) {
		/* No usable VMCOREINFO. Any CR3 of a CPU in kernel mode shares the
		 * kernel half of init_top_pgt; strip PCID and the PTI user bit. */
		l->pgd_paddr = c->cr[3] & PTE_ADDR_MASK & ~0x1000ULL;
		l->levels = (c->cr[4] >> 12) & 1 ? 5 : 4;
		struct kdx_mem *m = scratch_mem(t, l);
		if (!m) {
			kdx_error_destroy(err);
			return kdx_error_nomem();
		}
		uint64_t kaslr;
		struct kdx_error *e2 = kdx_mem_detect_kernel_image(m, 0xffffffff81000000ULL, &kaslr);
		if (!e2) {
			kdx_error_destroy(err);
			err = NULL;
			l->phys_base = m->layout.phys_base;
			l->kaslr_offset = m->layout.kaslr_offset;
		} else {
			kdx_error_destroy(e2);
		}
		free(m);
	}
	if (t->direct_map_base) {
		l->page_offset = t->direct_map_base;
	} else if (l->pgd_paddr) {
		struct kdx_mem *m = scratch_mem(t, l);
		if (m && !detect_page_offset_quiet(m))
			l->page_offset = m->layout.page_offset;
		free(m);
	}
	return err;
}

static void tlb_flush(struct kdx_mem *m)
{
	memset(m->tlb, 0, sizeof(m->tlb));
}

void kdx_mem_set_layout(struct kdx_mem *m, const struct kdx_mem_layout *layout)
{
	uint64_t detected = m->layout.page_offset;
	m->layout = *layout;
	if (!m->layout.page_offset)
		m->layout.page_offset = detected;
	m->image_known = 1;
	if (!m->layout.kernel_map)
		m->layout.kernel_map = START_KERNEL_MAP;
	if (m->layout.levels != 5)
		m->layout.levels = 4;
	tlb_flush(m);
}

const struct kdx_mem_layout *kdx_mem_layout(struct kdx_mem *m)
{
	return &m->layout;
}

struct kdx_error *kdx_mem_create(struct kdx_target *t, struct kdx_mem **ret)
{
	struct kdx_mem_layout l;
	struct kdx_error *err = kdx_mem_layout_from_vmcoreinfo(t, &l);
	struct kdx_mem *m = scratch_mem(t, &l);
	if (!m) {
		kdx_error_destroy(err);
		return kdx_error_nomem();
	}
	kdx_mem_set_layout(m, &l);
	/* Without a known phys_base, kernel-image addresses are walked. */
	m->image_known = !err;
	kdx_error_destroy(err);
	*ret = m;
	return NULL;
}

void kdx_mem_destroy(struct kdx_mem *m)
{
	free(m);
}

/* ------------------------------------------------------------------ */
/* Page-table walk */

static uint64_t pte_addr(const struct kdx_mem *m, uint64_t e, uint64_t mask)
{
	return e & mask & ~m->sme_mask;
}

static int is_canonical(uint64_t va, int levels)
{
	int bits = levels == 5 ? 57 : 48;
	int64_t s = (int64_t)(va << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == va;
}

/*
 * Walk the tables rooted at PGD for VA. On success *PA is the physical
 * address and *PAGE_SIZE_RET the size of the mapping page (4K, 2M or 1G).
 */
static struct kdx_error *walk(struct kdx_mem *m, uint64_t pgd, uint64_t va,
			      uint64_t *pa, uint64_t *page_size_ret)
{
	int levels = m->layout.levels;
	if (!is_canonical(va, levels))
		return kdx_error_fault(va, "address 0x%" PRIx64 " is not canonical (%d-level paging)",
				       va, levels);
	uint64_t table = pgd & PTE_ADDR_MASK;
	for (int lvl = levels - 1; lvl >= 0; lvl--) {
		/* lvl 4: PML5 (bits 48-56), 3: PML4 (39-47), 2: PUD, 1: PMD, 0: PTE. */
		unsigned shift = 12 + 9 * lvl;
		uint64_t idx = (va >> shift) & 511;
		uint64_t e;
		struct kdx_error *err = m->t->ops->read_phys(m->t, table + idx * 8, &e, 8);
		if (err)
			return kdx_error_prefix(err, "address 0x%" PRIx64 ": reading its %s entry",
						va, level_name[lvl == 3 && levels == 4 ? 4 : lvl]);
		if (!(e & PTE_PRESENT)) {
			/* PROT_NONE (NUMA hinting, mprotect) PTEs and PMDs still map
			 * their page; the kernel stores their frame number inverted
			 * (L1TF mitigation). Anything else is not mapped. */
			if (lvl > 1 || !(e & PTE_PROTNONE) || (lvl == 1 && !(e & PTE_PSE)))
				return kdx_error_fault(va, "address 0x%" PRIx64 " is not mapped (no %s entry)",
						       va, level_name[lvl == 3 && levels == 4 ? 4 : lvl]);
			e = (~e & PTE_ADDR_MASK) | (e & ~PTE_ADDR_MASK);
		}
		if (lvl == 2 && (e & PTE_PSE)) {
			*pa = pte_addr(m, e, PTE_1G_MASK) | (va & ((1ULL << 30) - 1));
			*page_size_ret = 1ULL << 30;
			return NULL;
		}
		if (lvl == 1 && (e & PTE_PSE)) {
			*pa = pte_addr(m, e, PTE_2M_MASK) | (va & ((1ULL << 21) - 1));
			*page_size_ret = 1ULL << 21;
			return NULL;
		}
		table = pte_addr(m, e, PTE_ADDR_MASK);
	}
	*pa = table | (va & (PAGE_SIZE - 1));
	*page_size_ret = PAGE_SIZE;
	return NULL;
}

static unsigned tlb_hash(uint64_t pgd, uint64_t vpage)
{
	uint64_t h = (vpage >> 12) ^ (pgd >> 12) * 0x9e3779b97f4a7c15ULL;
	return (unsigned)(h ^ (h >> 17)) & (TLB_SIZE - 1);
}

static struct kdx_error *walk_cached(struct kdx_mem *m, uint64_t pgd, uint64_t va, uint64_t *pa)
{
	uint64_t vpage = va & PAGE_MASK;
	/* The live kernel changes its page tables under us: no caching there. */
	struct tlb_entry *e = m->t->live ? NULL : &m->tlb[tlb_hash(pgd, vpage)];
	if (e && e->vpage == vpage && e->pgd == pgd && vpage) {
		*pa = e->ppage | (va & ~PAGE_MASK);
		return NULL;
	}
	uint64_t size;
	struct kdx_error *err = walk(m, pgd, va, pa, &size);
	if (err)
		return err;
	if (e) {
		e->pgd = pgd;
		e->vpage = vpage;
		e->ppage = *pa & PAGE_MASK;
	}
	return NULL;
}

struct kdx_error *kdx_mem_vtop_pgd(struct kdx_mem *m, uint64_t pgd_paddr,
				   uint64_t vaddr, uint64_t *paddr)
{
	return walk_cached(m, pgd_paddr, vaddr, paddr);
}

static uint64_t direct_map_end(const struct kdx_mem *m)
{
	const struct kdx_mem_layout *l = &m->layout;
	/* The direct map covers RAM only: the dump's extent bounds it. */
	uint64_t size = m->t->max_phys ? m->t->max_phys : l->levels == 5 ? 1ULL << 52 : 1ULL << 46;
	uint64_t end = l->page_offset + size;
	if (l->vmalloc_start > l->page_offset && l->vmalloc_start < end)
		end = l->vmalloc_start;
	return end;
}

struct kdx_error *kdx_mem_kvtop(struct kdx_mem *m, uint64_t va, uint64_t *pa)
{
	const struct kdx_mem_layout *l = &m->layout;
	if (l->page_offset && va >= l->page_offset && va < direct_map_end(m)) {
		*pa = va - l->page_offset;
		return NULL;
	}
	if (va >= l->kernel_map && va - l->kernel_map < KERNEL_IMAGE_SIZE && m->image_known) {
		*pa = image_to_phys(l, va);
		return NULL;
	}
	if (!l->pgd_paddr)
		return kdx_error_fault(va, "cannot translate address 0x%" PRIx64
				       ": no page table root known (the dump has no VMCOREINFO"
				       " or CPU state; pass --kaslr=OFFSET)", va);
	return walk_cached(m, l->pgd_paddr, va, pa);
}

/* ------------------------------------------------------------------ */
/* Reads */

typedef struct kdx_error *(*vtop_fn)(struct kdx_mem *m, uint64_t root, uint64_t va, uint64_t *pa);

static struct kdx_error *vtop_kernel(struct kdx_mem *m, uint64_t root, uint64_t va, uint64_t *pa)
{
	return kdx_mem_kvtop(m, va, pa);
}

static struct kdx_error *read_virt(struct kdx_mem *m, vtop_fn vtop, uint64_t root,
				   uint64_t va, void *buf, size_t len)
{
	unsigned char *out = buf;
	while (len) {
		size_t n = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		if (n > len)
			n = len;
		uint64_t pa;
		struct kdx_error *err = vtop(m, root, va, &pa);
		if (err)
			return err;
		err = m->t->ops->read_phys(m->t, pa, out, n);
		if (err) {
			if (err->code == KDX_ERR_FAULT) {
				err->address = va;
				return kdx_error_prefix(err, "address 0x%" PRIx64, va);
			}
			return err;
		}
		out += n;
		va += n;
		len -= n;
	}
	return NULL;
}

/* Is VA translated arithmetically (direct map, kernel image)? */
static int linear_kvaddr(const struct kdx_mem *m, uint64_t va)
{
	const struct kdx_mem_layout *l = &m->layout;
	if (l->page_offset && va >= l->page_offset && va < direct_map_end(m))
		return 1;
	return va >= l->kernel_map && va - l->kernel_map < KERNEL_IMAGE_SIZE && m->image_known;
}

/*
 * /proc/kcore fills unmapped parts of the vmalloc and module areas with
 * zeros. So that a bad pointer faults instead of reading zeros, check such
 * addresses in the page tables first when they are known.
 */
static struct kdx_error *live_check_mapped(struct kdx_mem *m, uint64_t va, size_t len)
{
	if (!m->layout.pgd_paddr || !len)
		return NULL;
	uint64_t end = va + len - 1;
	for (uint64_t p = va & PAGE_MASK;; p += PAGE_SIZE) {
		uint64_t pa, size;
		if (!linear_kvaddr(m, p)) {
			struct kdx_error *err = walk(m, m->layout.pgd_paddr, p < va ? va : p, &pa, &size);
			if (err)
				return err;
		}
		if (p >= (end & PAGE_MASK))
			return NULL;
	}
}

struct kdx_error *kdx_mem_read(struct kdx_mem *m, uint64_t kvaddr, void *buf, size_t len)
{
	if (m->t->ops->read_kvaddr) {
		struct kdx_error *err = m->t->live ? live_check_mapped(m, kvaddr, len) : NULL;
		if (err)
			return err;
		return m->t->ops->read_kvaddr(m->t, kvaddr, buf, len);
	}
	return read_virt(m, vtop_kernel, 0, kvaddr, buf, len);
}

struct kdx_error *kdx_mem_read_phys(struct kdx_mem *m, uint64_t paddr, void *buf, size_t len)
{
	return m->t->ops->read_phys(m->t, paddr, buf, len);
}

struct kdx_error *kdx_mem_read_pgd(struct kdx_mem *m, uint64_t pgd_paddr,
				   uint64_t vaddr, void *buf, size_t len)
{
	return read_virt(m, walk_cached, pgd_paddr, vaddr, buf, len);
}

/* ------------------------------------------------------------------ */
/* Bootstrap and detection */

struct kdx_error *kdx_mem_bootstrap(struct kdx_mem *m, uint64_t page_offset_base_sym,
				    uint64_t vmalloc_base_sym, uint64_t vmemmap_base_sym)
{
	struct kdx_mem_layout l = m->layout;
	struct { uint64_t sym; uint64_t *dst; const char *name; } v[] = {
		{ page_offset_base_sym, &l.page_offset, "page_offset_base" },
		{ vmalloc_base_sym, &l.vmalloc_start, "vmalloc_base" },
		{ vmemmap_base_sym, &l.vmemmap_start, "vmemmap_base" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (!v[i].sym)
			continue;
		uint64_t val;
		struct kdx_error *err = kdx_mem_read(m, v[i].sym, &val, 8);
		if (err)
			return kdx_error_prefix(err, "reading %s", v[i].name);
		*v[i].dst = val;
	}
	kdx_mem_set_layout(m, &l);
	return NULL;
}

/* First present leaf mapping at or above VA within [va, end): its virtual
 * and physical address. Walks only as deep as needed, skipping empty
 * upper-level entries wholesale. */
static int first_mapping(struct kdx_mem *m, uint64_t table, int lvl, uint64_t base,
			 uint64_t start, uint64_t end, uint64_t *va_ret, uint64_t *pa_ret)
{
	unsigned shift = 12 + 9 * lvl;
	uint64_t span = 1ULL << shift;
	for (unsigned idx = 0; idx < 512; idx++) {
		uint64_t va = base + idx * span;
		if (lvl == m->layout.levels - 1 && (va >> 47) & 1 && m->layout.levels == 4)
			va |= 0xffff000000000000ULL;
		if (lvl == m->layout.levels - 1 && (va >> 56) & 1 && m->layout.levels == 5)
			va |= 0xfe00000000000000ULL;
		if (va + span - 1 < start || va >= end)
			continue;
		uint64_t e;
		struct kdx_error *err = m->t->ops->read_phys(m->t, table + idx * 8, &e, 8);
		if (err) {
			kdx_error_destroy(err);
			continue;
		}
		if (!(e & PTE_PRESENT))
			continue;
		if (lvl == 0 || ((lvl == 1 || lvl == 2) && (e & PTE_PSE))) {
			uint64_t mask = lvl == 2 ? PTE_1G_MASK : lvl == 1 ? PTE_2M_MASK : PTE_ADDR_MASK;
			*va_ret = va;
			*pa_ret = pte_addr(m, e, mask);
			return 1;
		}
		if (first_mapping(m, pte_addr(m, e, PTE_ADDR_MASK), lvl - 1, va, start, end,
				  va_ret, pa_ret))
			return 1;
	}
	return 0;
}

static int detect_page_offset_quiet(struct kdx_mem *m)
{
	struct kdx_error *err = kdx_mem_detect_page_offset(m);
	kdx_error_destroy(err);
	return err != NULL;
}

struct kdx_error *kdx_mem_detect_page_offset(struct kdx_mem *m)
{
	struct kdx_mem_layout *l = &m->layout;
	if (l->page_offset)
		return NULL;
	if (!l->pgd_paddr)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no page table root to find the direct map in");
	/* The direct map is the first mapping of the kernel half (after the
	 * guard hole and LDT remap area) and starts with physical 0. KASLR
	 * places it on a 1 GiB boundary. */
	uint64_t start = l->levels == 5 ? 0xff11000000000000ULL : 0xffff888000000000ULL;
	uint64_t va, pa;
	if (!first_mapping(m, l->pgd_paddr & PTE_ADDR_MASK, l->levels - 1, 0, start,
			   l->kernel_map, &va, &pa))
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no kernel mapping found in the page tables");
	if (va - pa < start || ((va - pa) & ((1ULL << 30) - 1)))
		return kdx_error_create(KDX_ERR_NOT_FOUND,
			"the first kernel mapping (0x%" PRIx64 " -> 0x%" PRIx64 ") is not the direct map",
			va, pa);
	l->page_offset = va - pa;
	return NULL;
}

struct kdx_error *kdx_mem_detect_kernel_image(struct kdx_mem *m, uint64_t text_unrelocated,
					      uint64_t *kaslr_ret)
{
	struct kdx_mem_layout *l = &m->layout;
	if (!l->pgd_paddr)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no page table root to find the kernel in");
	uint64_t va, pa;
	if (!first_mapping(m, l->pgd_paddr & PTE_ADDR_MASK, l->levels - 1, 0, l->kernel_map,
			   l->kernel_map + KERNEL_IMAGE_SIZE - 1, &va, &pa))
		return kdx_error_create(KDX_ERR_NOT_FOUND,
			"the kernel image is not mapped in the page tables: pass --kaslr=OFFSET");
	/* The first mapped page of the image is _text (2 MiB aligned). */
	l->phys_base = pa - (va - l->kernel_map);
	l->kaslr_offset = va - (text_unrelocated & ~((1ULL << 21) - 1));
	*kaslr_ret = l->kaslr_offset;
	m->image_known = 1;
	tlb_flush(m);
	return NULL;
}

struct kdx_error *kdx_mem_detect_phys_base(struct kdx_mem *m, uint64_t text_vaddr,
					   uint64_t probe_vaddr, const void *probe, size_t len,
					   uint64_t *phys_base_ret)
{
	struct kdx_mem_layout *l = &m->layout;
	const uint64_t align = 2ULL << 20;      /* CONFIG_PHYSICAL_ALIGN minimum */
	uint64_t max = m->t->max_phys ? m->t->max_phys : 64ULL << 30;
	unsigned char buf[256];

	if (len == 0 || len > sizeof(buf) || probe_vaddr < text_vaddr)
		return kdx_error_create(KDX_ERR_INVALID, "bad probe for the kernel's physical address");
	for (uint64_t load = 0; load + (probe_vaddr - text_vaddr) + len <= max; load += align) {
		struct kdx_error *err = m->t->ops->read_phys(m->t, load + (probe_vaddr - text_vaddr),
							     buf, len);
		if (err) {
			kdx_error_destroy(err);
			continue;
		}
		if (memcmp(buf, probe, len))
			continue;
		l->phys_base = load - (text_vaddr - l->kernel_map);
		m->image_known = 1;
		tlb_flush(m);
		*phys_base_ret = l->phys_base;
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND,
		"the kernel image was not found in physical memory (wrong --kaslr, or not this vmlinux?)");
}
