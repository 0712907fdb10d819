/*
 * Module debuginfo: a module's .ko (with DWARF, e.g. from the -dbg package)
 * relocated to where the module sits in the dump.
 *
 * A .ko is a relocatable object: its DWARF refers to code and data through
 * relocations against its sections. The dump tells where each section was
 * loaded (mod->sect_attrs); we copy the file into memory, apply the
 * relocations of the .debug_* sections with those section bases, and hand
 * the result to libdw. Types, variables (runtime addresses) and line numbers
 * (runtime addresses) then work as for vmlinux, without a KASLR offset.
 */
#include "symbols/module_debuginfo.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/types_internal.h"
#include "symbols/symtab_internal.h"
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Address of section SHNDX per the caller's table; 0 and *LOADED=0 if the
 * section is not in it (not allocated, or freed like .init.text). */
static uint64_t section_base(Elf *elf, size_t shstrndx, size_t shndx,
			     const char *const *names, const uint64_t *addrs, size_t n, int *loaded)
{
	*loaded = 0;
	Elf_Scn *scn = elf_getscn(elf, shndx);
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh))
		return 0;
	if (!(sh.sh_flags & SHF_ALLOC))
		return 0;
	const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
	if (!name)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(names[i], name)) {
			*loaded = 1;
			return addrs[i];
		}
	}
	return 0;
}

static struct kdx_error *read_file(const char *path, void **ret, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kdx_error_create(KDX_ERR_IO, "cannot open %s: %m", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return kdx_error_create(KDX_ERR_IO, "cannot stat %s: %m", path);
	}
	char *buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf) {
		close(fd);
		return kdx_error_nomem();
	}
	size_t done = 0;
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, st.st_size - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			free(buf);
			return kdx_error_create(KDX_ERR_IO, "cannot read %s", path);
		}
		done += r;
	}
	close(fd);
	*ret = buf;
	*size = done;
	return NULL;
}

/* Apply the RELA section RSCN to its (non-allocated) target section. */
static struct kdx_error *apply_rela(Elf *elf, size_t shstrndx, Elf_Scn *rscn, const GElf_Shdr *rsh,
				    const char *const *names, const uint64_t *addrs, size_t n)
{
	Elf_Scn *tscn = elf_getscn(elf, rsh->sh_info);
	Elf_Scn *symscn = elf_getscn(elf, rsh->sh_link);
	GElf_Shdr tsh;
	if (!tscn || !symscn || !gelf_getshdr(tscn, &tsh))
		return NULL;
	if ((tsh.sh_flags & SHF_ALLOC) || tsh.sh_type == SHT_NOBITS)
		return NULL;   /* only debug sections matter here */
	const char *tname = elf_strptr(elf, shstrndx, tsh.sh_name);
	if (!tname || strncmp(tname, ".debug_", 7) != 0)
		return NULL;
	Elf_Data *tdata = elf_getdata(tscn, NULL);
	Elf_Data *rdata = elf_getdata(rscn, NULL);
	Elf_Data *symdata = elf_getdata(symscn, NULL);
	if (!tdata || !rdata || !symdata)
		return kdx_error_create(KDX_ERR_FORMAT, "cannot read relocations for %s", tname);
	size_t count = rsh->sh_entsize ? rsh->sh_size / rsh->sh_entsize : 0;
	unsigned char *p = tdata->d_buf;
	for (size_t i = 0; i < count; i++) {
		GElf_Rela r;
		GElf_Sym sym;
		if (!gelf_getrela(rdata, (int)i, &r) || !gelf_getsym(symdata, (int)GELF_R_SYM(r.r_info), &sym))
			continue;
		uint64_t s = sym.st_value;
		if (sym.st_shndx != SHN_ABS && sym.st_shndx != SHN_UNDEF && sym.st_shndx < SHN_LORESERVE) {
			int loaded;
			s += section_base(elf, shstrndx, sym.st_shndx, names, addrs, n, &loaded);
		}
		uint64_t v = s + r.r_addend;
		int type = (int)GELF_R_TYPE(r.r_info);
		if (r.r_offset >= tdata->d_size)
			continue;
		size_t room = tdata->d_size - r.r_offset;
		switch (type) {
		case R_X86_64_NONE:
			break;
		case R_X86_64_64:
			if (room >= 8)
				memcpy(p + r.r_offset, &v, 8);
			break;
		case R_X86_64_32:
		case R_X86_64_32S:
			if (room >= 4) {
				uint32_t v32 = (uint32_t)v;
				memcpy(p + r.r_offset, &v32, 4);
			}
			break;
		case R_X86_64_PC32:
		case R_X86_64_PLT32:
			if (room >= 4) {
				/* the debug section itself sits at address 0 */
				uint32_t v32 = (uint32_t)(v - r.r_offset);
				memcpy(p + r.r_offset, &v32, 4);
			}
			break;
		default:
			return kdx_error_create(KDX_ERR_UNSUPPORTED,
						"relocation type %d in %s is not supported", type, tname);
		}
	}
	return NULL;
}

static struct kdx_error *relocate_debug(Elf *elf, const char *const *names, const uint64_t *addrs,
					size_t n)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return kdx_error_create(KDX_ERR_FORMAT, "no section name table");
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_RELA)
			continue;
		struct kdx_error *err = apply_rela(elf, shstrndx, scn, &sh, names, addrs, n);
		if (err)
			return err;
	}
	return NULL;
}

/* Range of the module's code for address -> line (all executable sections). */
static void module_range(Elf *elf, const char *const *names, const uint64_t *addrs, size_t n,
			 uint64_t *lo, uint64_t *hi)
{
	size_t shstrndx;
	*lo = UINT64_MAX;
	*hi = 0;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		int loaded;
		uint64_t base = section_base(elf, shstrndx, elf_ndxscn(scn), names, addrs, n, &loaded);
		if (!loaded)
			continue;
		if (base < *lo)
			*lo = base;
		if (base + sh.sh_size > *hi)
			*hi = base + sh.sh_size;
	}
	if (*lo > *hi)
		*lo = *hi = 0;
}

struct kdx_error *kdx_types_add_module(struct kdx_types *types, const char *module,
				       const char *path, const char *const *section_names,
				       const uint64_t *section_addrs, size_t nsections)
{
	for (size_t i = 1; i < types->nsrcs; i++) {
		/* Types already handed out point into a loaded source, so a
		 * module is loaded once. */
		if (!strcmp(types->srcs[i]->module, module))
			return NULL;
	}
	struct kdx_dwsrc *src = calloc(1, sizeof(*src));
	if (!src)
		return kdx_error_nomem();
	src->fd = -1;
	src->module = strdup(module);
	src->path = strdup(path);
	struct kdx_error *err = read_file(path, &src->image, &src->image_size);
	if (err)
		goto fail;
	elf_version(EV_CURRENT);
	src->elf = elf_memory(src->image, src->image_size);
	if (!src->elf || elf_kind(src->elf) != ELF_K_ELF) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s is not an ELF file", path);
		goto fail;
	}
	GElf_Ehdr eh;
	if (!gelf_getehdr(src->elf, &eh) || eh.e_machine != EM_X86_64) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s is not an x86_64 ELF file", path);
		goto fail;
	}
	if (eh.e_type == ET_REL) {
		err = relocate_debug(src->elf, section_names, section_addrs, nsections);
		if (err)
			goto fail;
	}
	src->dw = dwarf_begin_elf(src->elf, DWARF_C_READ, NULL);
	if (!src->dw) {
		err = kdx_error_create(KDX_ERR_FORMAT,
				       "%s has no DWARF debug info: use the .ko from the linux-image-<abi>-dbg package",
				       path);
		goto fail;
	}
	err = kdx_dwindex_build_mem(src->dw, &src->index);
	if (err)
		goto fail;
	module_range(src->elf, section_names, section_addrs, nsections, &src->lo, &src->hi);
	err = kdx_types_add_src(types, src);
	if (err)
		goto fail;
	return NULL;
fail:
	kdx_dwsrc_free(src);
	return kdx_error_prefix(err, "module %s", module);
}

struct kdx_error *kdx_module_elf_symbols(const char *path, const char *const *section_names,
					 const uint64_t *section_addrs, size_t nsections,
					 struct kdx_symbol **ret, size_t *nret)
{
	void *image;
	size_t size;
	struct kdx_error *err = read_file(path, &image, &size);
	if (err)
		return err;
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory(image, size);
	struct kdx_symbol *syms = NULL;
	char *strings = NULL;
	size_t n = 0;
	size_t shstrndx;
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getshdrstrndx(elf, &shstrndx) != 0) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s is not an ELF file", path);
		goto out;
	}
	/* Re-read the raw table for st_shndx: kdx_elf_read_symbols keeps only
	 * what kdx_symbol has, so walk .symtab here. */
	GElf_Shdr sh;
	Elf_Scn *scn = kdx_elf_symtab_scn(elf, &sh);
	if (!scn) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s has no symbol table", path);
		goto out;
	}
	Elf_Data *data = elf_getdata(scn, NULL);
	Elf_Scn *strscn = elf_getscn(elf, sh.sh_link);
	Elf_Data *sdata = strscn ? elf_getdata(strscn, NULL) : NULL;
	size_t count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
	if (!data || !sdata) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s: cannot read the symbol table", path);
		goto out;
	}
	/* one block: the records, then a copy of the string table */
	char *block = malloc(count * sizeof(*syms) + sdata->d_size + 1);
	if (!block) {
		err = kdx_error_nomem();
		goto out;
	}
	syms = (struct kdx_symbol *)block;
	strings = block + count * sizeof(*syms);
	memcpy(strings, sdata->d_buf, sdata->d_size);
	strings[sdata->d_size] = 0;
	for (size_t i = 1; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type == STT_SECTION || type == STT_FILE || sym.st_shndx == SHN_UNDEF ||
		    sym.st_shndx >= SHN_LORESERVE || sym.st_name >= sdata->d_size)
			continue;
		const char *name = strings + sym.st_name;
		if (!*name || name[0] == '$' || (name[0] == '.' && name[1] == 'L') ||
		    !strncmp(name, "__UNIQUE_ID_", 12))
			continue;
		int loaded;
		uint64_t base = section_base(elf, shstrndx, sym.st_shndx, section_names, section_addrs,
					     nsections, &loaded);
		if (!loaded)
			continue;
		syms[n].name = name;
		syms[n].addr = base + sym.st_value;
		syms[n].size = sym.st_size;
		syms[n].type = kdx_elf_nm_letter(elf, &sym);
		syms[n].module = NULL;
		n++;
	}
out:
	if (elf)
		elf_end(elf);
	free(image);
	if (err) {
		free(syms);
		return err;
	}
	*ret = syms;
	*nret = n;
	return NULL;
}

/* ---- finding a module's debuginfo file ---- */

static int same_modname(const char *file, const char *module, unsigned flags)
{
	/* "virtio_blk.ko" matches "virtio_blk" and "virtio-blk" */
	size_t i = 0;
	for (; module[i] && file[i]; i++) {
		char a = file[i] == '-' ? '_' : file[i];
		char b = module[i] == '-' ? '_' : module[i];
		if (a != b)
			return 0;
	}
	return !module[i] && (!strcmp(file + i, ".ko") ||
			      ((flags & KDX_MODFILE_DEBUG) && !strcmp(file + i, ".ko.debug")));
}

char *kdx_module_file_search(const char *dir, const char *module, int depth, int max_depth,
			     unsigned flags)
{
	if (depth > max_depth)
		return NULL;
	DIR *d = opendir(dir);
	if (!d)
		return NULL;
	struct dirent *de;
	char *found = NULL;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *p;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			break;
		int is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN ||
		    (de->d_type == DT_LNK && (flags & KDX_MODFILE_FOLLOW_LINKS))) {
			struct stat st;
			is_dir = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
		}
		if (is_dir)
			found = kdx_module_file_search(p, module, depth + 1, max_depth, flags);
		else if (same_modname(de->d_name, module, flags))
			found = strdup(p);
		free(p);
	}
	closedir(d);
	return found;
}

char *kdx_module_debuginfo_path(const char *osrelease, const char *module)
{
	static const char *const roots[] = {
		"/usr/lib/debug/lib/modules/%s",
		"/usr/lib/debug/usr/lib/modules/%s",
		"/lib/modules/%s",
	};
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		char *dir;
		if (asprintf(&dir, roots[i], osrelease) < 0)
			return NULL;
		char *p = kdx_module_file_search(dir, module, 0, 12, 0);
		free(dir);
		if (p)
			return p;
	}
	return NULL;
}

struct kdx_error *kdx_module_load_debuginfo(struct kdx_session *s, const char *module,
					    const char *path, const char *const *section_names,
					    const uint64_t *section_addrs, size_t nsections)
{
	struct kdx_symbol *syms;
	size_t n;
	/* Symbols first: a .ko without DWARF (stripped, from /lib/modules)
	 * still has a symbol table with sizes, better than kallsyms. */
	struct kdx_error *err = kdx_module_elf_symbols(path, section_names, section_addrs,
						       nsections, &syms, &n);
	if (err)
		return kdx_error_prefix(err, "module %s", module);
	if (s->symtab)
		err = kdx_symtab_add_module(s->symtab, module, syms, n);
	free(syms);
	if (err)
		return err;
	if (s->types)
		err = kdx_types_add_module(s->types, module, path, section_names, section_addrs,
					   nsections);
	return err;
}
