/*
 * Dump-level check of the targets and the memory layer on real dumps.
 *
 *   KDX_TEST_DUMP=a.elf[:b.flat:c.kdump...]   dumps of the SAME crash
 *   KDX_TEST_SYSMAP=/boot/System.map-...     unrelocated symbols (default:
 *                                             the 6.1.0-56 cloud kernel's)
 *   KDX_TEST_BANNER="Linux version ..."       expected banner (optional; else
 *                                             only the "Linux version " prefix)
 *   KDX_TEST_GT=.../gt.txt                    fixture ground truth (optional):
 *                                             layout variables, planted data in
 *                                             the fixture module (module area:
 *                                             page-table walk), crashing CPU
 *
 * For each dump: open, show what the dump records, translate linux_banner
 * (System.map + KERNELOFFSET) through the kernel image mapping, through the
 * direct map and through the page tables, and compare with the banner; read
 * the crashing CPU's stack (vmalloc, page-table walk). Across dumps: the
 * same physical pages must read the same. Skips without KDX_TEST_DUMP.
 */
#include "targets/mem.h"
#include "targets/target.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "fake_target.h"



static uint64_t sysmap_lookup(const char *path, const char *name)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[512], sym[256], type;
	unsigned long long addr;
	uint64_t found = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &addr, &type, sym) == 3 && strcmp(sym, name) == 0) {
			found = addr;
			break;
		}
	fclose(f);
	return found;
}

/* gt.txt: the value of "TYPE KEY VALUE" (or "TYPE VALUE" when KEY is NULL). */
static int gt_u64(const char *gt, const char *type, const char *key, uint64_t *ret)
{
	FILE *f = gt ? fopen(gt, "r") : NULL;
	char line[1024];
	int found = 0;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char *save, *t = strtok_r(line, " \n", &save);
		if (!t || strcmp(t, type))
			continue;
		char *k = key ? strtok_r(NULL, " \n", &save) : NULL;
		if (key && (!k || strcmp(k, key)))
			continue;
		char *v = strtok_r(NULL, " \n", &save);
		if (v) {
			*ret = strtoull(v, NULL, 0);
			found = 1;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* gt.txt "kallsyms ADDR TYPE NAME": ADDR of NAME. */
static int gt_kallsyms(const char *gt, const char *name, uint64_t *ret)
{
	FILE *f = gt ? fopen(gt, "r") : NULL;
	char line[1024], sym[256], type;
	unsigned long long a;
	int found = 0;
	while (f && !found && fgets(line, sizeof(line), f))
		if (sscanf(line, "kallsyms %llx %c %255s", &a, &type, sym) == 3 && !strcmp(sym, name)) {
			*ret = a;
			found = 1;
		}
	if (f)
		fclose(f);
	return found;
}

static void check_gt(struct kdx_target *t, struct kdx_mem *m, const char *path, const char *gt,
		     uint64_t banner_va)
{
	const struct kdx_mem_layout *l = kdx_mem_layout(m);
	uint64_t v, a;
	if (gt_u64(gt, "fixture", "page_offset_base", &v))
		ok(l->page_offset == v, "%s: page_offset 0x%" PRIx64 " (gt 0x%" PRIx64 ")", path,
		   l->page_offset, v);
	if (gt_u64(gt, "fixture", "phys_base", &v))
		ok(l->phys_base == v, "%s: phys_base 0x%" PRIx64 " (gt 0x%" PRIx64 ")", path,
		   l->phys_base, v);
	if (gt_u64(gt, "fixture", "paging", &v))
		ok(l->levels == (int)v, "%s: %d-level paging (gt %d)", path, l->levels, (int)v);
	if (gt_kallsyms(gt, "linux_banner", &a))
		ok(a == banner_va, "%s: linux_banner at 0x%" PRIx64 " (gt kallsyms 0x%" PRIx64 ")",
		   path, banner_va, a);
	if (gt_u64(gt, "crashing_cpu", NULL, &v))
		ok(v < t->ncpus && t->cpus[v].valid, "%s: registers of crashing CPU %" PRIu64, path, v);
	/* Module data: vmalloc'ed module area, found by walking page tables. */
	if (gt_u64(gt, "fixture", "string_addr", &a)) {
		char s[64] = "";
		struct kdx_error *err = kdx_mem_read(m, a, s, 27);
		ok(!err && !strcmp(s, "kdx fixture planted string"), "%s: module string at 0x%" PRIx64
		   ": %s", path, a, err ? err->message : s);
		kdx_error_destroy(err);
	}
	if (gt_u64(gt, "fixture", "magic_addr", &a)) {
		struct kdx_error *err = kdx_mem_read(m, a, &v, 8);
		ok(!err && v == 0x6b6478666978ULL, "%s: module magic at 0x%" PRIx64, path, a);
		kdx_error_destroy(err);
	}
	/* A slab object in the direct map. */
	if (gt_u64(gt, "fixture", "first", &a)) {
		struct kdx_error *err = kdx_mem_read(m, a, &v, 8);
		ok(!err && v == 0x4b44584954454dULL, "%s: first item's magic at 0x%" PRIx64 "%s%s", path,
		   a, err ? ": " : "", err ? err->message : "");
		kdx_error_destroy(err);
	}
	/* Bootstrap from the real variables agrees with the detection. */
	uint64_t pob, vb, vmb;
	if (gt_u64(gt, "fixture", "page_offset_base", &pob) &&
	    gt_u64(gt, "fixture", "vmalloc_base", &vb) && gt_u64(gt, "fixture", "vmemmap_base", &vmb)) {
		ok(l->page_offset == pob, "%s: detected page_offset equals page_offset_base", path);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CRC of a sample of physical pages present in the dump. */
static uint32_t sample_crc(struct kdx_mem *m, uint64_t max_phys, unsigned *npages)
{
	static unsigned char page[4096];
	uint32_t crc = 0;
	*npages = 0;
	for (uint64_t pfn = 0; pfn * 4096 < max_phys; pfn += 61) {
		struct kdx_error *err = kdx_mem_read_phys(m, pfn * 4096, page, sizeof(page));
		if (err) {
			kdx_error_destroy(err);
			continue;
		}
		crc = crc32(crc, (unsigned char *)&pfn, sizeof(pfn));
		crc = crc32(crc, page, sizeof(page));
		(*npages)++;
	}
	return crc;
}

static void check_dump(const char *path, const char *sysmap, const char *banner,
		       const char *gt, uint32_t *crc, unsigned *npages)
{
	struct kdx_target *t;
	struct kdx_mem *m;
	double t0 = now();
	struct kdx_error *err = kdx_target_open(path, &t);
	ok(!err, "open %s%s%s", path, err ? ": " : "", err ? err->message : "");
	if (err) {
		kdx_error_destroy(err);
		return;
	}
	printf("# format %s, %u CPUs, panic_cpu %d, max_phys 0x%" PRIx64 ", crash_time %" PRId64
	       ", dump_level %d, opened in %.3f s\n", t->format, t->ncpus, t->panic_cpu, t->max_phys,
	       t->crash_time, t->dump_level, now() - t0);
	for (unsigned i = 0; i < t->ncpus; i++) {
		const struct kdx_cpu_regs *c = &t->cpus[i];
		printf("# cpu %u valid %d pid %d rip %016" PRIx64 " rsp %016" PRIx64
		       " cr3 %s%" PRIx64 " cr4 %" PRIx64 " percpu %" PRIx64 "\n", i, c->valid, c->pid,
		       c->r[KDX_REG_RIP], c->r[KDX_REG_RSP], c->has_cr3 ? "" : "(none) ",
		       c->r[KDX_REG_CR3], c->cr[4], c->percpu_base);
	}
	ok(t->vmcoreinfo != NULL, "%s: VMCOREINFO present", path);
	size_t len;
	const char *rel = kdx_vmcoreinfo_get(t, "OSRELEASE", &len);
	printf("# OSRELEASE=%.*s\n", rel ? (int)len : 6, rel ? rel : "(none)");

	err = kdx_mem_create(t, &m);
	ok(!err, "%s: mem create", path);
	if (err) {
		kdx_error_report(err);
		kdx_target_close(t);
		return;
	}
	const struct kdx_mem_layout *l = kdx_mem_layout(m);
	printf("# layout: page_offset %" PRIx64 " phys_base %" PRIx64 " kaslr %" PRIx64
	       " pgd %" PRIx64 " levels %d\n", l->page_offset, l->phys_base, l->kaslr_offset,
	       l->pgd_paddr, l->levels);
	ok(l->page_offset != 0, "%s: page_offset detected from the page tables", path);

	uint64_t sym = sysmap_lookup(sysmap, "linux_banner");
	if (!sym) {
		printf("# no linux_banner in %s\n", sysmap);
	} else {
		uint64_t va = sym + l->kaslr_offset, pa = 0;
		char b1[256] = "", b2[256] = "", b3[256] = "";
		err = kdx_mem_read(m, va, b1, sizeof(b1) - 1);
		ok(!err, "%s: read linux_banner at %" PRIx64 "%s%s", path, va,
		   err ? ": " : "", err ? err->message : "");
		kdx_error_destroy(err);
		char *nl = strchr(b1, '\n');
		if (nl)
			*nl = '\0';
		printf("# banner: %s\n", b1);
		ok(strncmp(b1, "Linux version ", 14) == 0, "%s: banner starts with Linux version", path);
		if (banner)
			ok(strcmp(b1, banner) == 0, "%s: banner matches the console", path);
		err = kdx_mem_kvtop(m, va, &pa);
		kdx_error_destroy(err);
		/* The same bytes through the direct map ... */
		if (l->page_offset) {
			err = kdx_mem_read(m, l->page_offset + pa, b2, sizeof(b2) - 1);
			kdx_error_destroy(err);
			if ((nl = strchr(b2, '\n')))
				*nl = '\0';
			ok(strcmp(b1, b2) == 0, "%s: banner via the direct map", path);
		}
		/* ... and through a page-table walk of the kernel image mapping. */
		err = kdx_mem_read_pgd(m, l->pgd_paddr, va, b3, sizeof(b3) - 1);
		ok(!err, "%s: banner via page-table walk%s%s", path, err ? ": " : "",
		   err ? err->message : "");
		kdx_error_destroy(err);
		if ((nl = strchr(b3, '\n')))
			*nl = '\0';
		ok(strcmp(b1, b3) == 0, "%s: walk and arithmetic agree", path);
		if (gt)
			check_gt(t, m, path, gt, va);
		/* phys_base without VMCOREINFO: the banner's bytes in physical memory. */
		uint64_t text = sysmap_lookup(sysmap, "_text"), pb = 0;
		if (text) {
			struct kdx_mem_layout saved = *l;
			double t2 = now();
			err = kdx_mem_detect_phys_base(m, text + saved.kaslr_offset, va, b1, 64, &pb);
			ok(!err && pb == saved.phys_base, "%s: phys_base found by scanning (0x%" PRIx64
			   " in %.3f s)%s%s", path, pb, now() - t2, err ? ": " : "", err ? err->message : "");
			kdx_error_destroy(err);
			kdx_mem_set_layout(m, &saved);
		}
	}

	/* Stacks are vmalloc'ed (VMAP_STACK): a page-table walk. */
	for (unsigned i = 0; i < t->ncpus; i++) {
		uint64_t rsp = t->cpus[i].r[KDX_REG_RSP], v;
		if (rsp < 0xffff800000000000ULL)
			continue;
		err = kdx_mem_read(m, rsp, &v, sizeof(v));
		ok(!err, "%s: read cpu %u stack at %" PRIx64 "%s%s", path, i, rsp,
		   err ? ": " : "", err ? err->message : "");
		kdx_error_destroy(err);
	}

	/* A page missing from the dump (filtered page or memory hole), read
	 * through the direct map: one clean fault line naming the address. */
	if (l->page_offset) {
		uint64_t pfn, v;
		struct kdx_error *e = NULL;
		for (pfn = 0; pfn * 4096 < t->max_phys && pfn < (1u << 20); pfn++) {
			e = kdx_mem_read_phys(m, pfn * 4096, &v, 8);
			if (e)
				break;
		}
		if (e) {
			kdx_error_destroy(e);
			e = kdx_mem_read(m, l->page_offset + pfn * 4096, &v, 8);
			char want[64];
			snprintf(want, sizeof(want), "0x%" PRIx64, l->page_offset + pfn * 4096);
			ok(e && e->code == KDX_ERR_FAULT && strstr(e->message, "not in the dump") &&
			   strstr(e->message, want) && !strchr(e->message, '\n'),
			   "%s: missing page faults cleanly: %s", path, e ? e->message : "(no error)");
			kdx_error_destroy(e);
		}
	}

	/* Unmapped kernel address: a clean fault naming the address. */
	uint64_t v;
	err = kdx_mem_read(m, 0xffffc8ffffff0000ULL, &v, sizeof(v));
	ok(err && err->code == KDX_ERR_FAULT && strstr(err->message, "ffffc8ffffff0000"),
	   "%s: unmapped read fails cleanly: %s", path, err ? err->message : "(no error)");
	kdx_error_destroy(err);

	double t1 = now();
	*crc = sample_crc(m, t->max_phys, npages);
	printf("# sampled %u pages in %.3f s, crc %08" PRIx32 "\n", *npages, now() - t1, *crc);
	kdx_mem_destroy(m);
	kdx_target_close(t);
}

int main(void)
{
	const char *dumps = getenv("KDX_TEST_DUMP");
	if (!dumps || !*dumps) {
		/* tests/integration/t-targets.sh runs it on every fixture dump. */
		printf("ok - target_dump_test # SKIP set KDX_TEST_DUMP=dump[:dump...]\n");
		return 0;
	}
	const char *sysmap = getenv("KDX_TEST_SYSMAP");
	if (!sysmap)
		sysmap = "/usr/lib/debug/boot/System.map-6.1.0-56-cloud-amd64";
	const char *banner = getenv("KDX_TEST_BANNER");
	const char *gt = getenv("KDX_TEST_GT");
	char *list = strdup(dumps);
	uint32_t first_crc = 0;
	unsigned first_n = 0;
	int n = 0;
	for (char *s = strtok(list, ":"); s; s = strtok(NULL, ":"), n++) {
		uint32_t crc = 0;
		unsigned np = 0;
		check_dump(s, sysmap, banner, gt, &crc, &np);
		if (n == 0) {
			first_crc = crc;
			first_n = np;
		} else {
			ok(crc == first_crc && np == first_n,
			   "%s: sampled pages equal the first dump's (%u pages %08" PRIx32
			   ", first %u pages %08" PRIx32 ")", s, np, crc, first_n, first_crc);
		}
	}
	free(list);
	return ok_failures ? 1 : 0;
}
