/*
 * The live target on this machine: /proc/kcore read natively must give
 * linux_banner (address from /proc/kallsyms) equal to /proc/version, and the
 * page-table translation (mem.c) of the same address, read physically,
 * must agree. Skips without root / kcore / kallsyms addresses.
 */
#include "targets/mem.h"
#include "targets/target.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void ok(int cond, const char *what, const char *detail)
{
	printf("%s - %s%s%s\n", cond ? "ok" : "not ok", what, detail ? ": " : "", detail ? detail : "");
	if (!cond)
		failures++;
}

static uint64_t kallsyms(const char *name)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], sym[256], type;
	unsigned long long a;
	uint64_t found = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %255s", &a, &type, sym) == 3 && !strcmp(sym, name)) {
			found = a;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

int main(void)
{
	uint64_t banner = kallsyms("linux_banner");
	char version[512] = "";
	FILE *f = fopen("/proc/version", "r");
	if (f) {
		if (!fgets(version, sizeof(version), f))
			version[0] = '\0';
		fclose(f);
	}
	struct kdx_target *t;
	struct kdx_error *err = kdx_target_open(NULL, &t);
	if (err) {
		printf("ok - kcore_test # SKIP %s\n", err->message);
		kdx_error_destroy(err);
		return 0;
	}
	if (!banner) {
		printf("ok - kcore_test # SKIP no linux_banner address in /proc/kallsyms\n");
		kdx_target_close(t);
		return 0;
	}
	ok(t->live && !strcmp(t->format, "live /proc/kcore"), "opened /proc/kcore as live", t->format);
	ok(t->vmcoreinfo != NULL, "kcore carries VMCOREINFO", NULL);

	struct kdx_mem *m;
	err = kdx_mem_create(t, &m);
	ok(!err, "mem create", err ? err->message : NULL);
	if (err)
		return 1;

	char b1[512] = "", b2[512] = "";
	size_t n = strlen(version);
	err = kdx_mem_read(m, banner, b1, n);
	ok(!err, "read linux_banner natively", err ? err->message : NULL);
	kdx_error_destroy(err);
	ok(!memcmp(b1, version, n), "banner equals /proc/version", b1);

	const struct kdx_mem_layout *l = kdx_mem_layout(m);
	char info[256];
	snprintf(info, sizeof(info), "page_offset %" PRIx64 " phys_base %" PRIx64 " pgd %" PRIx64
		 " levels %d", l->page_offset, l->phys_base, l->pgd_paddr, l->levels);
	ok(l->pgd_paddr != 0, "layout from VMCOREINFO", info);
	uint64_t pa;
	err = kdx_mem_vtop_pgd(m, l->pgd_paddr, banner, &pa);
	ok(!err, "page-table walk of linux_banner", err ? err->message : NULL);
	kdx_error_destroy(err);
	if (!err) {
		err = kdx_mem_read_phys(m, pa, b2, n);
		ok(!err, "physical read through the RAM segments", err ? err->message : NULL);
		kdx_error_destroy(err);
		ok(!memcmp(b2, version, n), "walked physical bytes equal /proc/version", NULL);
	}
	ok(l->page_offset != 0, "page_offset detected", info);
	if (l->page_offset && !err) {
		memset(b2, 0, sizeof(b2));
		err = kdx_mem_read(m, l->page_offset + pa, b2, n);
		kdx_error_destroy(err);
		ok(!memcmp(b2, version, n), "direct-map alias reads the banner", NULL);
	}
	/* vmalloc: an area from /proc/vmallocinfo reads; its trailing guard
	 * page (counted in the size shown) is unmapped and must fault, where
	 * /proc/kcore itself would return zeros. */
	FILE *vf = fopen("/proc/vmallocinfo", "r");
	char line[512];
	int tested = 0;
	while (vf && !tested && fgets(line, sizeof(line), vf)) {
		unsigned long long lo, hi;
		/* Hashed addresses (kptr_restrict 0) are not kernel addresses. */
		if (sscanf(line, "0x%llx-0x%llx", &lo, &hi) != 2 || hi - lo < 2 * 4096 ||
		    !strstr(line, "vmalloc") || lo < 0xff00000000000000ULL)
			continue;
		uint64_t v;
		err = kdx_mem_read(m, lo, &v, sizeof(v));
		ok(!err, "vmalloc area start reads", err ? err->message : NULL);
		kdx_error_destroy(err);
		err = kdx_mem_read(m, hi - 4096, &v, sizeof(v));
		ok(err && err->code == KDX_ERR_FAULT, "vmalloc guard page faults",
		   err ? err->message : "read succeeded (zeros from kcore?)");
		kdx_error_destroy(err);
		tested = 1;
	}
	if (vf)
		fclose(vf);
	if (!tested)
		printf("ok - vmalloc checks # SKIP no /proc/vmallocinfo area with a real address"
		       " (kptr_restrict=1 as root shows them)\n");

	kdx_mem_destroy(m);
	kdx_target_close(t);
	return failures ? 1 : 0;
}
