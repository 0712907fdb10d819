/*
 * Opening a session: target -> memory layout -> symbols (KASLR) -> types.
 * Data flows one way; each layer is told only what it needs.
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "targets/target.h"
#include "targets/mem.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/kernel_image.h"
#include "kernel/kernel.h"
#include "kernel/modules.h"



/*
 * Last resort without VMCOREINFO or CPU state: find the kernel image in
 * physical memory by linux_banner's bytes (at a fixed distance from _text
 * whatever the KASLR offsets), take init_top_pgt at the same distance, and
 * read the virtual placement of _text from those page tables. 0 on success.
 */
static int find_kaslr_by_scanning(struct kdx_session *s, const struct kdx_vmlinux_info *vi,
				  uint64_t *offset)
{
	const struct kdx_symbol *text = kdx_symbol_by_name(s->symtab, "_text", NULL);
	const struct kdx_symbol *banner = kdx_symbol_by_name(s->symtab, "linux_banner", NULL);
	const struct kdx_symbol *pgt = kdx_symbol_by_name(s->symtab, "init_top_pgt", NULL);
	const uint64_t kernel_map = 0xffffffff80000000ULL;
	const char *bytes = vi->banner;
	size_t nbytes = strlen(vi->banner);
	uint64_t phys_base;

	if (!text || !banner || !pgt || nbytes < 32)
		return -1;
	/* Unrelocated addresses: the phys_base found is for KASLR offset 0;
	 * the load address of _text is what matters. */
	struct kdx_error *err = kdx_mem_detect_phys_base(s->mem, text->addr, banner->addr, bytes,
							 nbytes, &phys_base);
	if (err) {
		kdx_error_destroy(err);
		return -1;
	}
	uint64_t load = phys_base + (text->addr - kernel_map);
	for (int levels = 4; levels <= 5; levels++) {
		struct kdx_mem_layout l = { .kernel_map = kernel_map, .levels = levels,
					    .pgd_paddr = load + (pgt->addr - text->addr) };
		kdx_mem_set_layout(s->mem, &l);
		err = kdx_mem_detect_kernel_image(s->mem, text->addr, offset);
		if (!err && kdx_mem_layout(s->mem)->phys_base + (text->addr + *offset - kernel_map) == load)
			return 0;
		kdx_error_destroy(err);
	}
	return -1;
}

/* KASLR offset: --kaslr, else VMCOREINFO (KERNELOFFSET or SYMBOL(_stext)),
 * else (live) /proc/kallsyms, else what the dump's page tables or physical
 * memory say. */
static struct kdx_error *find_kaslr(struct kdx_session *s, const struct kdx_vmlinux_info *vi,
				    uint64_t *offset)
{
	struct kdx_error *err;
	uint64_t v;

	if (s->opts.have_kaslr) {
		*offset = s->opts.kaslr;
		return NULL;
	}
	if (s->target->vmcoreinfo) {
		err = kdx_kaslr_from_vmcoreinfo(s->target->vmcoreinfo, vi->stext, offset);
		if (!err)
			return NULL;
		kdx_error_destroy(err);
	}
	if (s->target->live && vi->stext)
		return kdx_kaslr_from_kallsyms(NULL, vi->stext, offset);
	/* No VMCOREINFO: where the page tables of a CPU (QEMU note CR3) map
	 * the kernel image (targets: kdx_mem_detect_kernel_image). */
	const struct kdx_symbol *text = kdx_symbol_by_name(s->symtab, "_text", NULL);
	if (s->mem && text && kdx_mem_layout(s->mem)->pgd_paddr) {
		struct kdx_error *err = kdx_mem_detect_kernel_image(s->mem, text->addr, &v);
		if (!err) {
			*offset = v;
			return NULL;
		}
		kdx_error_destroy(err);
	}
	if (s->mem && !find_kaslr_by_scanning(s, vi, &v)) {
		*offset = v;
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND,
		"cannot determine the KASLR offset (no VMCOREINFO in %s): pass --kaslr=OFFSET",
		s->target->path ? s->target->path : "the dump");
}

/* The dump must come from this vmlinux: build-id and release. */
static struct kdx_error *check_match(struct kdx_session *s, const struct kdx_vmlinux_info *vi)
{
	if (s->target->live)
		return kdx_vmlinux_check_live(vi, NULL);
	if (!s->target->vmcoreinfo)
		return NULL;
	return kdx_vmlinux_check_vmcoreinfo(vi, s->target->vmcoreinfo);
}

/* Memory layout: what VMCOREINFO says, then the variables that only the
 * kernel image holds (page_offset_base etc., randomized with KASLR). */
/* Layout without VMCOREINFO or CPU state, the KASLR offset being known
 * (--kaslr): phys_base from where linux_banner's bytes (from vmlinux) lie in
 * physical memory, the pgd from init_top_pgt, 4- or 5-level by trying. */
static struct kdx_error *layout_by_scanning(struct kdx_session *s, const struct kdx_vmlinux_info *vi,
					    struct kdx_mem_layout *layout)
{
	const struct kdx_symbol *text = kdx_symbol_by_name(s->symtab, "_text", NULL);
	const struct kdx_symbol *banner = kdx_symbol_by_name(s->symtab, "linux_banner", NULL);
	const struct kdx_symbol *pgt = kdx_symbol_by_name(s->symtab, "init_top_pgt", NULL);
	uint64_t phys_base, pa;
	struct kdx_error *err;

	if (!text || !banner || !pgt || strlen(vi->banner) < 32)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no _text/linux_banner/init_top_pgt in vmlinux");
	err = kdx_mem_detect_phys_base(s->mem, text->addr, banner->addr, vi->banner,
				       strlen(vi->banner), &phys_base);
	if (err)
		return err;
	for (int levels = 4; levels <= 5; levels++) {
		memset(layout, 0, sizeof(*layout));
		layout->kernel_map = 0xffffffff80000000ULL;
		layout->phys_base = phys_base;
		layout->kaslr_offset = s->kaslr_offset;
		layout->pgd_paddr = pgt->addr - layout->kernel_map + phys_base;
		layout->levels = levels;
		kdx_mem_set_layout(s->mem, layout);
		err = kdx_mem_vtop_pgd(s->mem, layout->pgd_paddr, banner->addr, &pa);
		if (!err) {
			/* page_offset_base is read by kdx_mem_bootstrap later;
			 * the page tables give it already. */
			kdx_error_destroy(kdx_mem_detect_page_offset(s->mem));
			layout->page_offset = kdx_mem_layout(s->mem)->page_offset;
			return NULL;
		}
		kdx_error_destroy(err);
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "init_top_pgt does not map the kernel");
}

static struct kdx_error *setup_layout(struct kdx_session *s, const struct kdx_vmlinux_info *vi)
{
	struct kdx_mem_layout layout;
	const struct kdx_symbol *pob, *vmb, *vmeb, *pgt;
	struct kdx_error *err;

	memset(&layout, 0, sizeof(layout));
	if (s->target->live)
		return NULL;    /* kcore reads kernel virtual addresses natively */
	err = kdx_mem_layout_from_vmcoreinfo(s->target, &layout);
	if (err) {
		/* No VMCOREINFO nor CPU state: find the image in physical memory. */
		struct kdx_error *e2 = layout_by_scanning(s, vi, &layout);
		if (e2) {
			kdx_error_destroy(e2);
			return err;
		}
		kdx_error_destroy(err);
	}
	layout.kaslr_offset = s->kaslr_offset;
	pgt = kdx_symbol_by_name(s->symtab, "init_top_pgt", NULL);
	if (!layout.pgd_paddr && pgt)
		layout.pgd_paddr = pgt->addr - 0xffffffff80000000ULL + layout.phys_base;
	kdx_mem_set_layout(s->mem, &layout);
	pob = kdx_symbol_by_name(s->symtab, "page_offset_base", NULL);
	vmb = kdx_symbol_by_name(s->symtab, "vmalloc_base", NULL);
	vmeb = kdx_symbol_by_name(s->symtab, "vmemmap_base", NULL);
	return kdx_mem_bootstrap(s->mem, pob ? pob->addr : 0, vmb ? vmb->addr : 0,
				 vmeb ? vmeb->addr : 0);
}

struct kdx_error *kdx_session_open(const struct kdx_options *opts, struct kdx_session **ret)
{
	struct kdx_session *s = calloc(1, sizeof(*s));
	struct kdx_vmlinux_info vi;
	struct kdx_error *err;

	if (!s)
		return kdx_error_nomem();
	s->opts = *opts;
	s->out = stdout;
	s->radix = 10;

	err = kdx_target_open(opts->vmcore, &s->target);
	if (err)
		goto fail;
	err = kdx_symtab_load_vmlinux(opts->vmlinux, &s->symtab);
	if (err)
		goto fail;
	err = kdx_vmlinux_info_read(opts->vmlinux, s->symtab, &vi);
	if (err)
		goto fail;
	err = check_match(s, &vi);
	if (err) {
		if (!opts->force)
			goto fail;
		fprintf(stderr, "kdx: warning: %s (going on: --force)\n", err->message);
		kdx_error_destroy(err);
	}
	err = kdx_mem_create(s->target, &s->mem);
	if (err)
		goto fail;
	err = find_kaslr(s, &vi, &s->kaslr_offset);
	if (err)
		goto fail;
	kdx_symtab_set_offset(s->symtab, s->kaslr_offset);
	err = setup_layout(s, &vi);
	if (err)
		goto fail;
	err = kdx_types_open(opts->vmlinux, opts->cache_dir, &s->types);
	if (err)
		goto fail;
	/* Module symbols from the dump's own kallsyms, so that module
	 * addresses resolve without `mod -s`; not fatal. */
	err = kdx_modules_load_symbols(s);
	if (err) {
		if (!opts->quiet)
			fprintf(stderr, "kdx: warning: module symbols: %s\n", err->message);
		kdx_error_destroy(err);
	}
	*ret = s;
	return NULL;
fail:
	kdx_session_close(s);
	return err;
}

void kdx_session_close(struct kdx_session *s)
{
	if (!s)
		return;
	kdx_kernel_destroy(s);
	if (s->types)
		kdx_types_destroy(s->types);
	if (s->mem)
		kdx_mem_destroy(s->mem);
	if (s->symtab)
		kdx_symtab_destroy(s->symtab);
	if (s->target)
		kdx_target_close(s->target);
	free(s);
}

struct kdx_error *kdx_read(struct kdx_session *s, uint64_t addr, void *buf, size_t len)
{
	return kdx_mem_read(s->mem, addr, buf, len);
}

struct kdx_error *kdx_read_phys(struct kdx_session *s, uint64_t paddr, void *buf, size_t len)
{
	return kdx_mem_read_phys(s->mem, paddr, buf, len);
}

struct kdx_error *kdx_read_u64(struct kdx_session *s, uint64_t addr, uint64_t *ret)
{
	return kdx_read(s, addr, ret, sizeof(*ret));
}

struct kdx_error *kdx_read_u32(struct kdx_session *s, uint64_t addr, uint32_t *ret)
{
	return kdx_read(s, addr, ret, sizeof(*ret));
}

struct kdx_error *kdx_read_u16(struct kdx_session *s, uint64_t addr, uint16_t *ret)
{
	return kdx_read(s, addr, ret, sizeof(*ret));
}

struct kdx_error *kdx_read_u8(struct kdx_session *s, uint64_t addr, uint8_t *ret)
{
	return kdx_read(s, addr, ret, sizeof(*ret));
}

struct kdx_error *kdx_read_cstr(struct kdx_session *s, uint64_t addr, char *buf, size_t len)
{
	size_t done = 0;

	if (!len)
		return NULL;
	while (done + 1 < len) {
		/* read up to the end of the page so a string at a page's end works */
		size_t chunk = 4096 - ((addr + done) & 4095);
		if (chunk > len - 1 - done)
			chunk = len - 1 - done;
		struct kdx_error *err = kdx_read(s, addr + done, buf + done, chunk);
		if (err) {
			buf[done] = 0;
			return err;
		}
		void *nul = memchr(buf + done, 0, chunk);
		if (nul)
			return NULL;
		done += chunk;
	}
	buf[len - 1] = 0;
	return NULL;
}

void kdx_session_report(struct kdx_session *s, struct kdx_error *err)
{
	if (!err)
		return;
	s->error_count++;
	if (s->out)
		fflush(s->out);
	kdx_error_report(err);
}
