/*
 * The memory layer on a synthetic physical memory: a buffer-backed target
 * with hand-built x86_64 page tables, 4- and 5-level, with 4 KiB, 2 MiB and
 * 1 GiB pages, a user address space, holes; direct-map and kernel-image
 * arithmetic; page_offset and kernel-image detection.
 */
#include "targets/mem.h"
#include "targets/target.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_target.h"

#define PHYS_SIZE (16u << 20)



static struct fake_phys *fp;
static unsigned char *phys;      /* fp->mem */
static uint64_t next_table;

static uint64_t *entry(uint64_t table, unsigned idx)
{
	return (uint64_t *)(phys + table + idx * 8);
}

/* Map VA → PA with a page of 4K, 2M or 1G under ROOT. */
static void map(int levels, uint64_t root, uint64_t va, uint64_t pa, uint64_t size)
{
	int leaf = size == (1ULL << 30) ? 2 : size == (1ULL << 21) ? 1 : 0;
	uint64_t table = root;
	for (int lvl = levels - 1; lvl > leaf; lvl--) {
		uint64_t *e = entry(table, (va >> (12 + 9 * lvl)) & 511);
		if (!(*e & 1)) {
			next_table += 4096;
			*e = next_table | 0x63;
		}
		table = *e & 0x000ffffffffff000ULL;
	}
	*entry(table, (va >> (12 + 9 * leaf)) & 511) = pa | 0x63 | (leaf ? 0x80 : 0);
}

static void put(uint64_t pa, const char *s)
{
	memcpy(phys + pa, s, strlen(s) + 1);
}

static int read_str(struct kdx_mem *m, uint64_t va, const char *want, const char *what)
{
	char got[64] = "";
	struct kdx_error *err = kdx_mem_read(m, va, got, strlen(want) + 1);
	int good = !err && !strcmp(got, want);
	ok(good, "%s: read 0x%" PRIx64 " %s%s", what, va, err ? err->message : "= ",
	   err ? "" : got);
	kdx_error_destroy(err);
	return good;
}

static void run(int levels)
{
	char what[32];
	snprintf(what, sizeof(what), "%d-level", levels);
	memset(phys, 0, PHYS_SIZE);
	next_table = 0x10000;
	const uint64_t root = 0x2000, user_root = 0x8000;   /* 8K aligned (PTI) */
	const uint64_t kaslr = 0x2a000000, text = 0xffffffff81000000ULL + kaslr;

	map(levels, root, 0xffff888000000000ULL, 0, 1ULL << 30);              /* direct map, 1G */
	map(levels, root, 0xffffc90000001000ULL, 0x200000, 4096);             /* vmalloc */
	map(levels, root, 0xffffc90000010000ULL, 0x210000, 4096);             /* two pages, */
	map(levels, root, 0xffffc90000011000ULL, 0x500000, 4096);             /* not contiguous */
	map(levels, root, 0xffffea0000200000ULL, 0x400000, 1ULL << 21);       /* vmemmap, 2M */
	map(levels, root, text, 0x800000, 1ULL << 21);                        /* kernel image */
	map(levels, user_root, 0x400000, 0x300000, 4096);                     /* user */
	put(0x200000, "vmalloc page");
	put(0x211000 - 3, "AB");
	memcpy(phys + 0x210ffd, "ABC", 3);
	memcpy(phys + 0x500000, "DEFG", 5);
	put(0x400000 + 0x1234, "2M page");
	put(0x600000, "1G page");
	put(0x300000 + 0x10, "user page");
	/* A PROT_NONE user page: not present, PROTNONE bit, frame inverted. */
	map(levels, user_root, 0x401000, 0x301000, 4096);
	{
		uint64_t t = user_root;
		for (int lvl = levels - 1; lvl > 0; lvl--)
			t = *entry(t, (0x401000ULL >> (12 + 9 * lvl)) & 511) & 0x000ffffffffff000ULL;
		*entry(t, 1) = (~0x301000ULL & 0x000ffffffffff000ULL) | 0x100 | 0x60;
	}
	put(0x301000 + 0x20, "protnone page");
	put(0x800000 + 0x100, "kernel text");

	struct kdx_target t = { .ops = &fake_phys_ops, .priv = fp, .path = "synthetic", .page_size = 4096,
				.max_phys = PHYS_SIZE, .panic_cpu = -1 };
	struct kdx_mem *m;
	struct kdx_error *err = kdx_mem_create(&t, &m);
	ok(!err, "%s: create without VMCOREINFO", what);
	kdx_error_destroy(err);

	struct kdx_mem_layout l = { .pgd_paddr = root, .levels = levels,
				    .kernel_map = 0xffffffff80000000ULL };
	kdx_mem_set_layout(m, &l);
	read_str(m, 0xffffc90000001000ULL, "vmalloc page", what);
	read_str(m, 0xffffea0000201234ULL, "2M page", what);
	read_str(m, 0xffff888000600000ULL, "1G page", what);
	read_str(m, 0xffffc90000010ffdULL, "ABCDEFG", what);

	uint64_t pa = 0;
	err = kdx_mem_kvtop(m, 0xffffea0000201234ULL, &pa);
	ok(!err && pa == 0x401234, "%s: kvtop 2M page = 0x%" PRIx64, what, pa);
	kdx_error_destroy(err);

	char buf[16];
	err = kdx_mem_read(m, 0xffffc90000002000ULL, buf, 8);
	ok(err && err->code == KDX_ERR_FAULT && err->address == 0xffffc90000002000ULL &&
	   strstr(err->message, "0xffffc90000002000 is not mapped"), "%s: hole: %s", what,
	   err ? err->message : "(no error)");
	kdx_error_destroy(err);
	err = kdx_mem_read(m, 0xffffc90000010ff0ULL + 0x1000 * 5, buf, 32);
	ok(err && err->code == KDX_ERR_FAULT, "%s: read running into a hole fails", what);
	kdx_error_destroy(err);
	if (levels == 4) {
		err = kdx_mem_read(m, 0x0000900000000000ULL, buf, 8);
		ok(err && strstr(err->message, "not canonical"), "%s: non-canonical: %s", what,
		   err ? err->message : "(no error)");
		kdx_error_destroy(err);
	}

	/* User address space. */
	char u[16] = "";
	err = kdx_mem_read_pgd(m, user_root, 0x400010, u, 10);
	ok(!err && !strcmp(u, "user page"), "%s: user read through its pgd", what);
	kdx_error_destroy(err);
	err = kdx_mem_read_pgd(m, user_root, 0x401020, u, 14);
	ok(!err && !strcmp(u, "protnone page"), "%s: PROT_NONE page reads (inverted frame)%s%s", what,
	   err ? ": " : "", err ? err->message : "");
	kdx_error_destroy(err);
	err = kdx_mem_read_pgd(m, root, 0x400010, u, 10);
	ok(err != NULL, "%s: user address not in the kernel pgd", what);
	kdx_error_destroy(err);

	/* Detection from the page tables. */
	err = kdx_mem_detect_page_offset(m);
	ok(!err && kdx_mem_layout(m)->page_offset == 0xffff888000000000ULL,
	   "%s: page_offset detected 0x%" PRIx64, what, kdx_mem_layout(m)->page_offset);
	kdx_error_destroy(err);
	uint64_t k = 0;
	err = kdx_mem_detect_kernel_image(m, 0xffffffff81000000ULL, &k);
	const struct kdx_mem_layout *ml = kdx_mem_layout(m);
	ok(!err && k == kaslr && ml->phys_base == 0x800000 - (text - 0xffffffff80000000ULL),
	   "%s: kernel image detected: kaslr 0x%" PRIx64 " phys_base 0x%" PRIx64, what, k,
	   ml->phys_base);
	kdx_error_destroy(err);

	/* Arithmetic paths (no walk): direct map and kernel image. */
	unsigned before = fp->reads;
	read_str(m, 0xffff888000200000ULL, "vmalloc page", what);
	read_str(m, text + 0x100, "kernel text", what);
	ok(fp->reads - before == 2, "%s: direct map and image reads need no table walk", what);

	/* The TLB: a second read of a walked page needs no table reads. */
	read_str(m, 0xffffc90000001000ULL, "vmalloc page", what);
	before = fp->reads;
	read_str(m, 0xffffc90000001000ULL, "vmalloc page", what);
	ok(fp->reads - before == 1, "%s: TLB hit", what);

	/* Bootstrap: page_offset_base etc. are variables in the image. */
	uint64_t vars[3] = { 0xffff888000000000ULL, 0xffffc90000000000ULL, 0xffffea0000000000ULL };
	memcpy(phys + 0x800000 + 0x200, vars, sizeof(vars));
	err = kdx_mem_bootstrap(m, text + 0x200, text + 0x208, text + 0x210);
	ml = kdx_mem_layout(m);
	ok(!err && ml->page_offset == vars[0] && ml->vmalloc_start == vars[1] &&
	   ml->vmemmap_start == vars[2], "%s: bootstrap reads the layout variables", what);
	kdx_error_destroy(err);

	/* phys_base by scanning for known bytes of the image. */
	{
		struct kdx_mem_layout saved = *kdx_mem_layout(m);
		uint64_t pb = 0;
		err = kdx_mem_detect_phys_base(m, text, text + 0x100, "kernel text", 11, &pb);
		ok(!err && pb == 0x800000 - (text - 0xffffffff80000000ULL),
		   "%s: phys_base found by scanning: 0x%" PRIx64, what, pb);
		kdx_error_destroy(err);
		err = kdx_mem_detect_phys_base(m, text, text + 0x100, "not there", 9, &pb);
		ok(err && err->code == KDX_ERR_NOT_FOUND, "%s: phys_base scan can fail cleanly", what);
		kdx_error_destroy(err);
		kdx_mem_set_layout(m, &saved);
	}

	/* Without VMCOREINFO, a QEMU CR3/CR4 gives everything. */
	struct kdx_cpu_regs cpu = { .valid = 1, .has_cr3 = 1, .has_sregs = 1 };
	cpu.cr[3] = root | 0x5;                     /* PCID bits */
	cpu.cr[4] = levels == 5 ? 1 << 12 : 0;
	t.cpus = &cpu;
	t.ncpus = 1;
	struct kdx_mem_layout l2;
	err = kdx_mem_layout_from_vmcoreinfo(&t, &l2);
	ok(!err && l2.pgd_paddr == root && l2.levels == levels && l2.kaslr_offset == kaslr &&
	   l2.page_offset == 0xffff888000000000ULL,
	   "%s: layout from CR3 without VMCOREINFO%s%s", what, err ? ": " : "", err ? err->message : "");
	kdx_error_destroy(err);
	kdx_mem_destroy(m);
}

int main(void)
{
	fp = fake_phys_new(PHYS_SIZE);
	if (!fp) {
		printf("not ok - setup\n");
		return 1;
	}
	phys = fp->mem;
	run(4);
	run(5);
	fake_phys_free(fp);
	return ok_failures ? 1 : 0;
}
