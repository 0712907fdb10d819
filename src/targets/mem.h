/*
 * Memory access above the target: kernel virtual addresses, physical
 * addresses and user addresses of a given address space.
 *
 * Kernel virtual addresses are translated arithmetically where the kernel
 * maps linearly (direct map: page_offset_base; kernel image:
 * __START_KERNEL_map + phys_base) and through the x86_64 4- or 5-level page
 * tables otherwise (vmalloc, modules, vmemmap), with a small translation
 * cache. Every read can fail; the error names the address.
 */
#ifndef KDX_MEM_H
#define KDX_MEM_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_target;

struct kdx_mem_layout {
	uint64_t page_offset;     /* page_offset_base (direct map start) */
	uint64_t vmalloc_start;   /* vmalloc_base */
	uint64_t vmemmap_start;   /* vmemmap_base */
	uint64_t phys_base;
	uint64_t kernel_map;      /* __START_KERNEL_map = 0xffffffff80000000 */
	uint64_t kaslr_offset;
	uint64_t pgd_paddr;       /* physical address of init_top_pgt */
	int levels;               /* 4 or 5 */
};

struct kdx_mem;

struct kdx_error *kdx_mem_create(struct kdx_target *t, struct kdx_mem **ret);
void kdx_mem_destroy(struct kdx_mem *m);

/* Set or refine the layout once symbols are known (KASLR, page_offset_base). */
void kdx_mem_set_layout(struct kdx_mem *m, const struct kdx_mem_layout *layout);
const struct kdx_mem_layout *kdx_mem_layout(struct kdx_mem *m);

struct kdx_error *kdx_mem_read(struct kdx_mem *m, uint64_t kvaddr, void *buf, size_t len);
struct kdx_error *kdx_mem_read_phys(struct kdx_mem *m, uint64_t paddr, void *buf, size_t len);
/* Fill LAYOUT from the target's VMCOREINFO (KERNELOFFSET, NUMBER(phys_base),
 * SYMBOL(init_top_pgt) → pgd_paddr through the kernel image mapping,
 * NUMBER(pgtable_l5_enabled)); without VMCOREINFO, from a CPU's CR3/CR4
 * (QEMU note) with phys_base and kaslr_offset found in the page tables
 * (assuming the usual unrelocated _text 0xffffffff81000000). page_offset is
 * set when the page tables show it (see kdx_mem_detect_page_offset);
 * vmalloc_start and vmemmap_start stay 0. Error if neither source gives a
 * page-table root and phys_base. */
struct kdx_error *kdx_mem_layout_from_vmcoreinfo(struct kdx_target *t,
						 struct kdx_mem_layout *layout);
/* Read page_offset_base, vmalloc_base and vmemmap_base (runtime addresses of
 * those kernel variables; 0 = unknown) through the kernel-image mapping. */
/* (Implementation note: values read replace the layout's; a page_offset
 * detected earlier stays when page_offset_base_addr is 0.) */
struct kdx_error *kdx_mem_bootstrap(struct kdx_mem *m, uint64_t page_offset_base_addr,
				    uint64_t vmalloc_base_addr, uint64_t vmemmap_base_addr);

/* Read through the page tables rooted at physical address PGD_PADDR (a user mm). */
struct kdx_error *kdx_mem_read_pgd(struct kdx_mem *m, uint64_t pgd_paddr,
				   uint64_t vaddr, void *buf, size_t len);
/* Translate a kernel virtual address to physical. */
struct kdx_error *kdx_mem_kvtop(struct kdx_mem *m, uint64_t kvaddr, uint64_t *paddr);
struct kdx_error *kdx_mem_vtop_pgd(struct kdx_mem *m, uint64_t pgd_paddr,
				   uint64_t vaddr, uint64_t *paddr);

/*
 * Added by the targets area.
 */

/* Find page_offset from the page tables (the first kernel-half mapping is
 * the direct map, which starts at physical 0). kdx_mem_create tries this
 * already; no-op if page_offset is set. */
struct kdx_error *kdx_mem_detect_page_offset(struct kdx_mem *m);

/* Without VMCOREINFO: find the kernel image in the page tables (its first
 * mapped 2 MiB page is _text) and set phys_base and kaslr_offset, given the
 * unrelocated address of _text from vmlinux (0xffffffff81000000 usually).
 * kdx_mem_create tries this with the usual _text when there is no
 * VMCOREINFO but a CR3 (QEMU note). */
struct kdx_error *kdx_mem_detect_kernel_image(struct kdx_mem *m, uint64_t text_unrelocated,
					      uint64_t *kaslr_ret);

/* Without VMCOREINFO or CPU state, but with the KASLR offset (--kaslr):
 * find where the kernel image lies in physical memory by looking for
 * LEN bytes PROBE (e.g. linux_banner's bytes from vmlinux) at
 * PROBE_VADDR's place relative to _text (TEXT_VADDR, relocated) at every
 * 2 MiB-aligned load address. Sets phys_base (then pgd_paddr can be derived
 * from init_top_pgt: sym - 0xffffffff80000000 + phys_base). A few hundred
 * small reads. */
struct kdx_error *kdx_mem_detect_phys_base(struct kdx_mem *m, uint64_t text_vaddr,
					   uint64_t probe_vaddr, const void *probe, size_t len,
					   uint64_t *phys_base_ret);

#endif
