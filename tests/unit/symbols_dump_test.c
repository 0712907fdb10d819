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
#include "symbols/module_debuginfo.h"
#include "symbols/types.h"

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

/*
 * The fixture module, relocated with section bases derived from the guest's
 * kallsyms (what `mod -s` will get from mod->sect_attrs): every guest
 * kallsyms line of the module must come out of kdx_module_elf_symbols, and
 * its DWARF variables and lines must land at the same runtime addresses.
 */
struct gsym { char name[128]; uint64_t addr; };

static void test_module(const char *dir, const char *name, struct kdx_types *types)
{
	char ko[1024], path[1024], line[1024], tn[512];
	snprintf(ko, sizeof(ko), "%s/kdx_fixture.ko", dir);
	snprintf(path, sizeof(path), "%s/gt.txt", dir);
	FILE *f = fopen(path, "r");
	if (access(ko, R_OK) || !f) {
		if (f)
			fclose(f);
		printf("ok - skipped: %s: no kdx_fixture.ko\n", name);
		return;
	}
	struct gsym *g = NULL;
	size_t ng = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a;
		char type, sname[128];
		if (sscanf(line, "kallsyms %llx %c %127s [kdx_fixture]", &a, &type, sname) == 3 &&
		    strstr(line, "[kdx_fixture]")) {
			g = realloc(g, (ng + 1) * sizeof(*g));
			snprintf(g[ng].name, sizeof(g[ng].name), "%s", sname);
			g[ng].addr = a;
			ng++;
		}
	}
	fclose(f);

	/* Section bases: guest address - st_value of the same symbol. */
	const char *names[64];
	uint64_t addrs[64];
	size_t nsec = 0;
	elf_version(EV_CURRENT);
	int fd = open(ko, O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	elf_getshdrstrndx(elf, &shstrndx);
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB)
			break;
	Elf_Data *data = elf_getdata(scn, NULL);
	int inconsistent = 0;
	for (size_t i = 1; i < sh.sh_size / sh.sh_entsize; i++) {
		GElf_Sym sym;
		gelf_getsym(data, (int)i, &sym);
		const char *sn = elf_strptr(elf, sh.sh_link, sym.st_name);
		if (!sn || sym.st_shndx == SHN_UNDEF || sym.st_shndx >= SHN_LORESERVE)
			continue;
		for (size_t j = 0; j < ng; j++) {
			if (strcmp(g[j].name, sn))
				continue;
			GElf_Shdr ssh;
			gelf_getshdr(elf_getscn(elf, sym.st_shndx), &ssh);
			const char *secname = elf_strptr(elf, shstrndx, ssh.sh_name);
			uint64_t base = g[j].addr - sym.st_value;
			size_t k;
			for (k = 0; k < nsec; k++)
				if (!strcmp(names[k], secname))
					break;
			if (k == nsec && nsec < 64) {
				names[nsec] = strdup(secname);
				addrs[nsec++] = base;
			} else if (k < nsec && addrs[k] != base) {
				inconsistent++;
			}
		}
	}
	elf_end(elf);
	close(fd);
	snprintf(tn, sizeof(tn), "%s: module section bases from the guest are consistent (%zu sections)", name, nsec);
	ok(nsec > 3 && !inconsistent, "%s", tn);

	struct kdx_symbol *syms;
	size_t n;
	struct kdx_error *err = kdx_module_elf_symbols(ko, names, addrs, nsec, &syms, &n);
	int missing = 0;
	for (size_t j = 0; !err && j < ng; j++) {
		int found = 0;
		for (size_t i = 0; i < n && !found; i++)
			found = !strcmp(syms[i].name, g[j].name) && syms[i].addr == g[j].addr;
		/* kallsyms keeps local labels (.LC0) that kdx leaves out */
		if (!found && g[j].name[0] != '.') {
			if (missing++ < 5)
				printf("#   %s %" PRIx64 " not among the relocated module symbols\n",
				       g[j].name, g[j].addr);
		}
	}
	snprintf(tn, sizeof(tn), "%s: every guest kallsyms line of kdx_fixture from the relocated .ko (%zu)", name, ng);
	ok(!err && ng > 10 && !missing, "%s", tn);
	if (!err)
		free(syms);
	kdx_error_destroy(err);

	err = kdx_types_add_module(types, "kdx_fixture", ko, names, addrs, nsec);
	snprintf(tn, sizeof(tn), "%s: load kdx_fixture debuginfo", name);
	ok(!err, "%s", tn);
	if (err) {
		printf("#   %s\n", err->message);
		kdx_error_destroy(err);
		goto out;
	}
	int bad = 0, nvar = 0;
	for (size_t j = 0; j < ng; j++) {
		char q[200];
		struct kdx_type *t;
		uint64_t a;
		if (strncmp(g[j].name, "kdx_fixture_", 12) || strchr(g[j].name, '.'))
			continue;
		snprintf(q, sizeof(q), "kdx_fixture:%s", g[j].name);
		err = kdx_variable_find(types, q, &t, &a);
		if (err) {
			kdx_error_destroy(err);
			continue;
		}
		nvar++;
		if (a != g[j].addr) {
			if (bad++ < 5)
				printf("#   %s: DWARF says %" PRIx64 ", guest %" PRIx64 "\n", q, a, g[j].addr);
		}
	}
	snprintf(tn, sizeof(tn), "%s: module DWARF variables/functions at the guest's addresses (%d)", name, nvar);
	ok(nvar > 10 && !bad, "%s", tn);
	for (size_t j = 0; j < ng; j++) {
		if (strcmp(g[j].name, "kdx_fixture_check"))
			continue;
		const char *file = NULL;
		int lineno = 0;
		err = kdx_types_addr_to_line(types, g[j].addr + 4, 0, &file, &lineno);
		snprintf(tn, sizeof(tn), "%s: kdx_fixture_check+4 has a source line in the fixture module", name);
		ok(!err && file && strstr(file, "kdx_fixture") && lineno > 0, "%s", tn);
		if (!err)
			printf("#   %s:%d\n", file, lineno);
		kdx_error_destroy(err);
	}
out:
	for (size_t k = 0; k < nsec; k++)
		free((char *)names[k]);
	free(g);
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

	struct kdx_types *types;
	/* the default index cache: shared with kdx itself */
	err = kdx_types_open(vmlinux, NULL, &types);
	if (err) {
		kdx_error_report(err);
		failures++;
		return;
	}
	test_module(dir, name, types);
	kdx_types_destroy(types);
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
