/*
 * src/symbols/ against the fixture dumps' ground truth (skips if there are
 * none): the KASLR offset and build-id check from each ELF vmcore's
 * VMCOREINFO, every /proc/kallsyms line the guest recorded, and the function
 * sizes of the guest's /proc/PID/stack frames ("do_wait+0x114/0x320").
 *
 * Fixtures: $KDX_FIXTURES (space-separated directories), else every
 * /var/cache/kdx/fixtures/ABI/gN/NAME with a vmcore.elf.
 */
#include "symbols/symbols.h"
#include "symbols/kernel_image.h"

#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

static void ok(int cond, const char *fmt, const char *arg)
{
	printf("%s - ", cond ? "ok" : "not ok");
	printf(fmt, arg);
	printf("\n");
	if (!cond)
		failures++;
}

/* VMCOREINFO note text of an ELF vmcore (malloc'd), or NULL. */
static char *read_vmcoreinfo(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	char *ret = NULL;
	size_t nph;
	if (!elf || elf_getphdrnum(elf, &nph) != 0)
		goto out;
	for (size_t i = 0; i < nph && !ret; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_NOTE)
			continue;
		Elf_Data *d = elf_getdata_rawchunk(elf, ph.p_offset, ph.p_filesz, ELF_T_NHDR);
		if (!d)
			continue;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nh;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_namesz == 11 && !memcmp((char *)d->d_buf + name_off, "VMCOREINFO", 11)) {
				ret = malloc(nh.n_descsz + 1);
				if (ret) {
					memcpy(ret, (char *)d->d_buf + desc_off, nh.n_descsz);
					ret[nh.n_descsz] = 0;
				}
				break;
			}
		}
	}
out:
	if (elf)
		elf_end(elf);
	close(fd);
	return ret;
}

static int info_value(const char *dir, const char *key, char *buf, size_t len)
{
	char path[1024], line[1024];
	snprintf(path, sizeof(path), "%s/info", dir);
	FILE *f = fopen(path, "r");
	size_t kl = strlen(key);
	int found = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == '=') {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + kl + 1);
			found = 0;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static void test_fixture(const char *dir)
{
	char path[1024], vmlinux[1024], kaslr_s[64], name[256];
	const char *fname = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	snprintf(name, sizeof(name), "%s", fname);
	snprintf(path, sizeof(path), "%s/vmcore.elf", dir);
	if (info_value(dir, "vmlinux", vmlinux, sizeof(vmlinux)) || access(vmlinux, R_OK)) {
		printf("ok - skipped: %s (its vmlinux is absent)\n", name);
		return;
	}
	char *vmci = read_vmcoreinfo(path);
	ok(vmci != NULL, "%s: VMCOREINFO note in vmcore.elf", name);
	if (!vmci)
		return;

	struct kdx_vmlinux_info vi;
	struct kdx_error *err = kdx_vmlinux_info_read(vmlinux, NULL, &vi);
	if (err) {
		kdx_error_report(err);
		failures++;
		free(vmci);
		return;
	}
	char bid[128];
	ok(kdx_vmcoreinfo_lookup(vmci, "BUILD-ID", bid, sizeof(bid)) == 0,
	   "%s: the dump's VMCOREINFO has BUILD-ID", name);
	err = kdx_vmlinux_check_vmcoreinfo(&vi, vmci);
	ok(!err, "%s: vmlinux matches the dump (build-id, release)", name);
	if (err)
		printf("#   %s\n", err->message);
	kdx_error_destroy(err);

	uint64_t kaslr = 0;
	err = kdx_kaslr_from_vmcoreinfo(vmci, vi.stext, &kaslr);
	if (info_value(dir, "kaslr_offset", kaslr_s, sizeof(kaslr_s)) == 0) {
		uint64_t want = strtoull(kaslr_s, NULL, 0);
		ok(!err && kaslr == want, "%s: KASLR offset from VMCOREINFO", name);
		printf("#   kaslr 0x%" PRIx64 " (the guest says 0x%" PRIx64 ")\n", kaslr, want);
	} else {
		ok(!err, "%s: KASLR offset from VMCOREINFO (no guest value to compare)", name);
	}
	kdx_error_destroy(err);
	free(vmci);

	struct kdx_symtab *st;
	err = kdx_symtab_load_vmlinux(vmlinux, &st);
	if (err) {
		kdx_error_report(err);
		failures++;
		return;
	}
	kdx_symtab_set_offset(st, kaslr);

	snprintf(path, sizeof(path), "%s/gt.txt", dir);
	FILE *f = fopen(path, "r");
	char line[1024];
	int nsym = 0, badsym = 0, nstack = 0, badstack = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long addr, off, size;
		char type, sname[256], mod[256];
		int pid, depth;
		int n = sscanf(line, "kallsyms %llx %c %255s %255s", &addr, &type, sname, mod);
		if (n == 3) {
			nsym++;
			const struct kdx_symbol *s = kdx_symbol_by_name(st, sname, NULL);
			uint64_t o = 0;
			const struct kdx_symbol *a = kdx_symbol_by_addr(st, addr, &o);
			/* names may repeat (locals): the address must hold a symbol */
			int good = s && (s->addr == addr || (a && o == 0));
			if (addr >= 0xffffffff80000000ull && !(a && o == 0))
				good = 0;
			if (!good) {
				if (badsym < 5)
					printf("#   %s %llx: by name %" PRIx64 ", by addr %s+0x%" PRIx64 "\n",
					       sname, addr, s ? s->addr : 0, a ? a->name : "-", o);
				badsym++;
			}
			continue;
		}
		if (sscanf(line, "stack %d %d %255s %llx/%llx", &pid, &depth, sname, &off, &size) == 5) {
			const struct kdx_symbol *s = kdx_symbol_by_name(st, sname, NULL);
			if (!s && strchr(line, '['))
				continue;   /* a module's frame */
			nstack++;
			/* the symtab reports code sizes the kernel's way */
			if (!s || s->size != size) {
				if (badstack < 5)
					printf("#   stack frame %s+0x%llx/0x%llx: symbol size 0x%" PRIx64 "\n",
					       sname, off, size, s ? s->size : 0);
				badstack++;
			} else {
				uint64_t o;
				const struct kdx_symbol *a = kdx_symbol_by_addr(st, s->addr + off, &o);
				if (!a || strcmp(a->name, sname) || o != off) {
					if (badstack < 5)
						printf("#   stack frame %s+0x%llx resolves to %s+0x%" PRIx64 "\n",
						       sname, off, a ? a->name : "-", o);
					badstack++;
				}
			}
		}
	}
	if (f)
		fclose(f);
	printf("#   %d kallsyms lines, %d stack frames\n", nsym, nstack);
	ok(nsym > 100 && !badsym, "%s: every guest kallsyms line matches the relocated symtab", name);
	ok(nstack > 20 && !badstack, "%s: every guest stack frame symbol has the guest's size and resolves back",
	   name);
	kdx_symtab_destroy(st);
}

int main(void)
{
	glob_t g;
	const char *env = getenv("KDX_FIXTURES");
	int nfix = 0;
	if (env && *env) {
		char *copy = strdup(env);
		for (char *p = strtok(copy, " \n"); p; p = strtok(NULL, " \n")) {
			char path[1024];
			snprintf(path, sizeof(path), "%s/vmcore.elf", p);
			if (access(path, R_OK) == 0) {
				test_fixture(p);
				nfix++;
			}
		}
		free(copy);
	} else if (glob("/var/cache/kdx/fixtures/*/g*/*/vmcore.elf", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			char dir[1024];
			snprintf(dir, sizeof(dir), "%s", g.gl_pathv[i]);
			*strrchr(dir, '/') = 0;
			char done[1100];
			snprintf(done, sizeof(done), "%s/done", dir);
			if (access(done, R_OK) != 0)
				continue;
			test_fixture(dir);
			nfix++;
		}
		globfree(&g);
	}
	if (!nfix)
		printf("ok - skipped: no fixture dumps (tests/fixtures/gen.sh makes them)\n");
	return failures ? 1 : 0;
}
