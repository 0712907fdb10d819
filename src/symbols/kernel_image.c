/*
 * vmlinux identity (build-id, release) and the KASLR offset.
 */
#include "symbols/kernel_image.h"
#include "symbols/symbols.h"
#include "symbols/symtab_internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t kdx_elf_build_id(Elf *elf, uint8_t *buf, size_t bufsize)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr shdr;
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_NOTE)
			continue;
		Elf_Data *data = elf_getdata(scn, NULL);
		if (!data)
			continue;
		size_t off = 0, name_off, desc_off;
		GElf_Nhdr nhdr;
		while ((off = gelf_getnote(data, off, &nhdr, &name_off, &desc_off)) > 0) {
			if (nhdr.n_type == NT_GNU_BUILD_ID && nhdr.n_namesz == 4 &&
			    !memcmp((char *)data->d_buf + name_off, "GNU", 4)) {
				size_t n = nhdr.n_descsz < bufsize ? nhdr.n_descsz : bufsize;
				memcpy(buf, (char *)data->d_buf + desc_off, n);
				return n;
			}
		}
	}
	return 0;
}

void kdx_build_id_hex(const uint8_t *id, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * len] = 0;
}

/* Find symbols NAMES[i] in ELF's .symtab; fills SYMS[i] (st_shndx 0 if absent). */
static void find_elf_symbols(Elf *elf, const char *const *names, GElf_Sym *syms, size_t n)
{
	GElf_Shdr shdr;
	memset(syms, 0, n * sizeof(*syms));
	Elf_Scn *scn = kdx_elf_symtab_scn(elf, &shdr);
	if (!scn)
		return;
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count = shdr.sh_entsize ? shdr.sh_size / shdr.sh_entsize : 0;
	for (size_t i = 1; data && i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_BIND(sym.st_info) == STB_LOCAL)
			continue;
		const char *name = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (!name)
			continue;
		for (size_t j = 0; j < n; j++)
			if (!strcmp(name, names[j]))
				syms[j] = sym;
	}
}

/* Copy LEN bytes at virtual address ADDR of section SHNDX. */
static int read_section_bytes(Elf *elf, size_t shndx, uint64_t addr, char *buf, size_t len)
{
	Elf_Scn *scn = elf_getscn(elf, shndx);
	GElf_Shdr shdr;
	if (!scn || !gelf_getshdr(scn, &shdr) || shdr.sh_type == SHT_NOBITS)
		return -1;
	if (addr < shdr.sh_addr || addr - shdr.sh_addr >= shdr.sh_size)
		return -1;
	uint64_t off = addr - shdr.sh_addr;
	if (len > shdr.sh_size - off)
		len = shdr.sh_size - off;
	Elf_Data *data = elf_rawdata(scn, NULL);
	if (!data || off + len > data->d_size)
		return -1;
	memcpy(buf, (char *)data->d_buf + off, len);
	return (int)len;
}

struct kdx_error *kdx_vmlinux_info_read(const char *vmlinux, struct kdx_symtab *st,
					struct kdx_vmlinux_info *ret)
{
	(void)st;
	memset(ret, 0, sizeof(*ret));
	elf_version(EV_CURRENT);
	int fd = open(vmlinux, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kdx_error_create(KDX_ERR_IO, "cannot open %s: %m", vmlinux);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		if (elf)
			elf_end(elf);
		close(fd);
		return kdx_error_create(KDX_ERR_FORMAT, "%s is not an ELF file", vmlinux);
	}
	ret->build_id_len = kdx_elf_build_id(elf, ret->build_id, sizeof(ret->build_id));
	kdx_build_id_hex(ret->build_id, ret->build_id_len, ret->build_id_hex);

	static const char *const names[] = { "_stext", "linux_banner" };
	GElf_Sym syms[2];
	find_elf_symbols(elf, names, syms, 2);
	ret->stext = syms[0].st_value;
	if (syms[1].st_shndx && syms[1].st_shndx < SHN_LORESERVE) {
		size_t len = syms[1].st_size && syms[1].st_size < sizeof(ret->banner)
				     ? syms[1].st_size : sizeof(ret->banner) - 1;
		int n = read_section_bytes(elf, syms[1].st_shndx, syms[1].st_value, ret->banner, len);
		if (n > 0) {
			ret->banner[n < (int)sizeof(ret->banner) ? n : (int)sizeof(ret->banner) - 1] = 0;
			ret->banner[strcspn(ret->banner, "\n")] = 0;
			const char *p = ret->banner;
			if (!strncmp(p, "Linux version ", 14)) {
				p += 14;
				size_t l = strcspn(p, " ");
				if (l >= sizeof(ret->osrelease))
					l = sizeof(ret->osrelease) - 1;
				memcpy(ret->osrelease, p, l);
				ret->osrelease[l] = 0;
			}
		} else {
			ret->banner[0] = 0;
		}
	}
	elf_end(elf);
	close(fd);
	return NULL;
}

int kdx_vmcoreinfo_lookup(const char *vmcoreinfo, const char *key, char *buf, size_t len)
{
	if (!vmcoreinfo || !len)
		return -1;
	size_t klen = strlen(key);
	const char *p = vmcoreinfo;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t l = eol ? (size_t)(eol - p) : strlen(p);
		if (l > klen && !memcmp(p, key, klen) && p[klen] == '=') {
			size_t vl = l - klen - 1;
			if (vl >= len)
				vl = len - 1;
			memcpy(buf, p + klen + 1, vl);
			buf[vl] = 0;
			return 0;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return -1;
}

static int parse_hex(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	uint64_t v = strtoull(s, &end, 16);
	if (errno || end == s || (*end && !isspace((unsigned char)*end)))
		return -1;
	*ret = v;
	return 0;
}

struct kdx_error *kdx_kaslr_from_vmcoreinfo(const char *vmcoreinfo, uint64_t vmlinux_stext,
					    uint64_t *offset)
{
	char buf[64];
	uint64_t v;
	if (kdx_vmcoreinfo_lookup(vmcoreinfo, "KERNELOFFSET", buf, sizeof(buf)) == 0 &&
	    parse_hex(buf, &v) == 0) {
		*offset = v;
		return NULL;
	}
	if (vmlinux_stext && kdx_vmcoreinfo_lookup(vmcoreinfo, "SYMBOL(_stext)", buf, sizeof(buf)) == 0 &&
	    parse_hex(buf, &v) == 0) {
		*offset = v - vmlinux_stext;
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND,
				"the dump's VMCOREINFO has neither KERNELOFFSET nor SYMBOL(_stext): pass --kaslr");
}

struct kdx_error *kdx_kaslr_from_kallsyms(const char *kallsyms, uint64_t vmlinux_stext,
					  uint64_t *offset)
{
	const char *path = kallsyms ? kallsyms : "/proc/kallsyms";
	FILE *f = fopen(path, "re");
	if (!f)
		return kdx_error_create(KDX_ERR_IO, "cannot open %s: %m", path);
	char line[512];
	struct kdx_error *err = NULL;
	int found = 0;
	uint64_t addr = 0;
	while (fgets(line, sizeof(line), f)) {
		char type, name[256];
		unsigned long long a;
		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3)
			continue;
		if (!strcmp(name, "_stext")) {
			addr = a;
			found = 1;
			break;
		}
	}
	fclose(f);
	if (!found)
		err = kdx_error_create(KDX_ERR_NOT_FOUND, "no _stext in %s", path);
	else if (!addr)
		err = kdx_error_create(KDX_ERR_UNSUPPORTED,
				       "%s shows zero addresses (run as root or set kernel.kptr_restrict=0)", path);
	else
		*offset = addr - vmlinux_stext;
	return err;
}

static const char *abbrev(const char *hex, char *buf)
{
	snprintf(buf, 8, "%.4s..", hex);
	return buf;
}

/* OTHER: "the dump" or "the running kernel". */
static struct kdx_error *check(const struct kdx_vmlinux_info *vi, const char *dump_build_id,
			       const char *dump_release, const char *other)
{
	char a[8], b[8];
	if (dump_build_id && *dump_build_id && vi->build_id_len) {
		size_t n = strlen(dump_build_id);
		/* The kernel prints 20 bytes; compare what both have. */
		size_t m = strlen(vi->build_id_hex);
		if (n > m)
			n = m;
		if (strncasecmp(dump_build_id, vi->build_id_hex, n) != 0)
			return kdx_error_create(KDX_ERR_MISMATCH,
						"vmlinux build-id %s does not match %s's %s: pass the debuginfo of %s",
						abbrev(vi->build_id_hex, a), other, abbrev(dump_build_id, b),
						dump_release && *dump_release ? dump_release : "the dumped kernel");
		return NULL;
	}
	if (dump_release && *dump_release && vi->osrelease[0] && strcmp(dump_release, vi->osrelease) != 0) {
		return kdx_error_create(KDX_ERR_MISMATCH,
					"vmlinux is release %s but %s is %s: pass the debuginfo of %s (or --force)",
					vi->osrelease, other,
					dump_release, dump_release);
	}
	return NULL;
}

struct kdx_error *kdx_vmlinux_check_vmcoreinfo(const struct kdx_vmlinux_info *vi,
					       const char *vmcoreinfo)
{
	char bid[160] = "", rel[80] = "";
	if (!vmcoreinfo)
		return NULL;
	kdx_vmcoreinfo_lookup(vmcoreinfo, "BUILD-ID", bid, sizeof(bid));
	kdx_vmcoreinfo_lookup(vmcoreinfo, "OSRELEASE", rel, sizeof(rel));
	return check(vi, bid, rel, "the dump");
}

/* Build-id note from /sys/kernel/notes (raw ELF notes). */
static int live_build_id(const char *root, char *hex, size_t hexlen)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/sys/kernel/notes", root);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	uint8_t buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));
	close(fd);
	size_t off = 0;
	while (n > 0 && off + 12 <= (size_t)n) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, buf + off, 4);
		memcpy(&descsz, buf + off + 4, 4);
		memcpy(&type, buf + off + 8, 4);
		size_t name_off = off + 12;
		size_t desc_off = name_off + ((namesz + 3) & ~3u);
		size_t next = desc_off + ((descsz + 3) & ~3u);
		if (next > (size_t)n)
			break;
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(buf + name_off, "GNU", 4) &&
		    descsz * 2 + 1 <= hexlen) {
			kdx_build_id_hex(buf + desc_off, descsz, hex);
			return 0;
		}
		off = next;
	}
	return -1;
}

struct kdx_error *kdx_vmlinux_check_live(const struct kdx_vmlinux_info *vi, const char *root)
{
	char bid[160] = "", rel[80] = "", path[512];
	if (!root)
		root = "";
	live_build_id(root, bid, sizeof(bid));
	snprintf(path, sizeof(path), "%s/proc/sys/kernel/osrelease", root);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(rel, sizeof(rel), f))
			rel[strcspn(rel, "\n")] = 0;
		fclose(f);
	}
	return check(vi, bid, rel, "the running kernel");
}

char *kdx_vmlinux_default_path(const char *osrelease)
{
	static const char *const fmts[] = {
		"/usr/lib/debug/boot/vmlinux-%s",
		"/usr/lib/debug/lib/modules/%s/vmlinux",
		"/lib/modules/%s/build/vmlinux",
		"/boot/vmlinux-%s",
	};
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char *p;
		if (asprintf(&p, fmts[i], osrelease) < 0)
			return NULL;
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}
