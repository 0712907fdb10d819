/*
 * The module list walker.
 *
 * Kernel 6.1 describes a module's memory with core_layout/init_layout
 * (struct module_layout { base, size, text_size, ... }); 6.4 and later with
 * mem[MOD_MEM_NUM_TYPES] (struct module_memory { base, size }), text first.
 * Both are taken from DWARF as present.
 */
#include "kernel/modules.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "session.h"
#include "kernel/kernel.h"
#include "kernel/kread.h"
#include "symbols/module_debuginfo.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "targets/target.h"

#define MAX_MODULES 65536
#define MAX_SECTIONS 4096
#define MAX_KALLSYMS (1u << 22)

struct mod_offsets {
	uint64_t size;                      /* bytes of struct module read */
	struct kdx_kfield list, name, state;
	/* 6.1 layout */
	struct kdx_kfield core_base, core_size, core_text_size, init_base, init_size, init_text_size;
	/* 6.4+ layout */
	struct kdx_kfield mem;              /* mem[] array */
	uint64_t mem_elem_size, mem_nelem;
	struct kdx_kfield mm_base, mm_size; /* in struct module_memory */
	struct kdx_kfield orc_ip, orc, num_orcs;
	struct kdx_kfield kallsyms, sect_attrs;
	struct kdx_kfield ks_symtab, ks_num, ks_strtab, ks_typetab;
	struct kdx_kfield sa_nsections, sa_attrs, sattr_name, sattr_addr;
	uint64_t sattr_size;
};

struct mod_cache {
	struct mod_offsets o;
	struct kdx_module *mods;
	size_t n;
	int syms_loaded;
};

static void cache_destroy(void *obj)
{
	struct mod_cache *c = obj;

	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->mods[i].nsections; k++)
			free(c->mods[i].sections[k].name);
		free(c->mods[i].sections);
		free(c->mods[i].debuginfo);
	}
	free(c->mods);
	free(c);
}

static struct kdx_error *load_offsets(struct kdx_session *s, struct mod_offsets *o)
{
	const char *m = "module";
	struct kdx_error *err;

	if ((err = kdx_kmember(s, m, "list", &o->list)) ||
	    (err = kdx_kmember(s, m, "name", &o->name)) ||
	    (err = kdx_type_sizeof(s, "struct module", &o->size)))
		return kdx_error_prefix(err, "struct module layout");
	kdx_kmember_opt(s, m, "state", &o->state);
	kdx_kmember_opt(s, m, "core_layout.base", &o->core_base);
	kdx_kmember_opt(s, m, "core_layout.size", &o->core_size);
	kdx_kmember_opt(s, m, "core_layout.text_size", &o->core_text_size);
	kdx_kmember_opt(s, m, "init_layout.base", &o->init_base);
	kdx_kmember_opt(s, m, "init_layout.size", &o->init_size);
	kdx_kmember_opt(s, m, "init_layout.text_size", &o->init_text_size);
	if (!o->core_base.ok) {
		struct kdx_type *t, *mt;
		uint64_t bitoff;
		uint32_t bitsize;
		kdx_kmember_opt(s, m, "mem", &o->mem);
		if (o->mem.ok && kdx_ok(kdx_type_find(s->types, "struct module", &t)) &&
		    kdx_ok(kdx_type_member(s->types, t, "mem", &mt, &bitoff, &bitsize))) {
			mt = kdx_type_unqualified(mt);
			o->mem_nelem = mt->kind == KDX_TYPE_ARRAY ? mt->nelem : 0;
			o->mem_elem_size = o->mem_nelem ? mt->size / o->mem_nelem : 0;
		}
		kdx_kmember_opt(s, "module_memory", "base", &o->mm_base);
		kdx_kmember_opt(s, "module_memory", "size", &o->mm_size);
		if (!o->mem.ok || !o->mem_nelem || !o->mm_base.ok)
			return kdx_error_create(KDX_ERR_UNSUPPORTED,
				"struct module has neither core_layout nor mem[]: unknown module layout");
	}
	kdx_kmember_opt(s, m, "arch.orc_unwind_ip", &o->orc_ip);
	kdx_kmember_opt(s, m, "arch.orc_unwind", &o->orc);
	kdx_kmember_opt(s, m, "arch.num_orcs", &o->num_orcs);
	kdx_kmember_opt(s, m, "kallsyms", &o->kallsyms);
	kdx_kmember_opt(s, m, "sect_attrs", &o->sect_attrs);
	kdx_kmember_opt(s, "mod_kallsyms", "symtab", &o->ks_symtab);
	kdx_kmember_opt(s, "mod_kallsyms", "num_symtab", &o->ks_num);
	kdx_kmember_opt(s, "mod_kallsyms", "strtab", &o->ks_strtab);
	kdx_kmember_opt(s, "mod_kallsyms", "typetab", &o->ks_typetab);
	kdx_kmember_opt(s, "module_sect_attrs", "nsections", &o->sa_nsections);
	kdx_kmember_opt(s, "module_sect_attrs", "attrs", &o->sa_attrs);
	kdx_kmember_opt(s, "module_sect_attr", "battr.attr.name", &o->sattr_name);
	if (!o->sattr_name.ok)
		kdx_kmember_opt(s, "module_sect_attr", "name", &o->sattr_name);
	kdx_kmember_opt(s, "module_sect_attr", "address", &o->sattr_addr);
	if (!kdx_ok(kdx_type_sizeof(s, "struct module_sect_attr", &o->sattr_size)))
		o->sattr_size = 0;
	return NULL;
}

static void read_sections(struct kdx_session *s, struct mod_offsets *o, struct kdx_module *m,
			  uint64_t sect_attrs)
{
	uint64_t n;

	if (!sect_attrs || !o->sa_nsections.ok || !o->sa_attrs.ok || !o->sattr_name.ok ||
	    !o->sattr_addr.ok || !o->sattr_size)
		return;
	if (!kdx_ok(kdx_read_uint(s, sect_attrs + o->sa_nsections.off, 4, &n)) || n > MAX_SECTIONS)
		return;
	m->sections = calloc(n ? n : 1, sizeof(*m->sections));
	if (!m->sections)
		return;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = sect_attrs + o->sa_attrs.off + i * o->sattr_size, np, addr;
		char name[128];
		if (!kdx_ok(kdx_read_u64(s, a + o->sattr_name.off, &np)) ||
		    !kdx_ok(kdx_read_u64(s, a + o->sattr_addr.off, &addr)) ||
		    !kdx_ok(kdx_read_cstr(s, np, name, sizeof(name))))
			continue;
		m->sections[m->nsections].name = strdup(name);
		m->sections[m->nsections].addr = addr;
		if (m->sections[m->nsections].name)
			m->nsections++;
	}
}

static struct kdx_error *read_module(struct kdx_session *s, struct mod_cache *c, uint64_t addr,
				     unsigned char *buf, struct kdx_module *m)
{
	struct mod_offsets *o = &c->o;
	struct kdx_error *err = kdx_read(s, addr, buf, o->size);

	if (err)
		return kdx_error_prefix(err, "struct module at %llx", (unsigned long long)addr);
	memset(m, 0, sizeof(*m));
	m->addr = addr;
	size_t nl = o->name.size < sizeof(m->name) ? o->name.size : sizeof(m->name) - 1;
	memcpy(m->name, buf + o->name.off, nl);
	m->name[sizeof(m->name) - 1] = 0;
	for (char *p = m->name; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	m->state = (int)kdx_kfield_u(buf, &o->state);
	if (o->core_base.ok) {
		m->base = kdx_kfield_u(buf, &o->core_base);
		m->size = kdx_kfield_u(buf, &o->core_size);
		m->text_size = kdx_kfield_u(buf, &o->core_text_size);
		m->init_base = kdx_kfield_u(buf, &o->init_base);
		m->init_size = kdx_kfield_u(buf, &o->init_size);
		m->init_text_size = kdx_kfield_u(buf, &o->init_text_size);
	} else {
		/* mod_mem_type: MOD_TEXT, MOD_DATA, MOD_RODATA, MOD_RO_AFTER_INIT,
		 * MOD_INIT_TEXT, MOD_INIT_DATA, MOD_INIT_RODATA */
		uint64_t b[8] = { 0 }, z[8] = { 0 };
		for (uint64_t i = 0; i < o->mem_nelem && i < 8; i++) {
			const unsigned char *e = buf + o->mem.off + i * o->mem_elem_size;
			b[i] = kdx_kfield_u(e, &o->mm_base);
			z[i] = kdx_kfield_u(e, &o->mm_size);
		}
		m->base = b[0];
		m->text_size = z[0];
		m->size = z[0] + z[1] + z[2] + z[3];
		m->data_base = b[1], m->data_size = z[1];
		m->rodata_base = b[2], m->rodata_size = z[2];
		m->init_base = b[4], m->init_size = z[4], m->init_text_size = z[4];
	}
	m->orc_unwind_ip = kdx_kfield_u(buf, &o->orc_ip);
	m->orc_unwind = kdx_kfield_u(buf, &o->orc);
	m->num_orcs = (unsigned)kdx_kfield_u(buf, &o->num_orcs);
	read_sections(s, o, m, kdx_kfield_u(buf, &o->sect_attrs));
	return NULL;
}

static struct kdx_error *load(struct kdx_session *s, void *obj)
{
	struct mod_cache *c = obj;
	uint64_t head, node, count = 0;
	struct kdx_error *err;
	unsigned char *buf;
	size_t cap = 0;

	if ((err = load_offsets(s, &c->o)))
		return err;
	if ((err = kdx_kvar(s, "modules", &head)))
		return kdx_error_prefix(err, "module list");
	if ((err = kdx_read_u64(s, head, &node)))
		return kdx_error_prefix(err, "module list head at %llx", (unsigned long long)head);
	buf = malloc(c->o.size);
	if (!buf)
		return kdx_error_nomem();
	while (node != head) {
		if (kdx_interrupted(s)) {
			err = kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
			break;
		}
		if (++count > MAX_MODULES || node < c->o.list.off) {
			err = kdx_error_fault(node, "module list: broken or looping link at %llx",
					      (unsigned long long)node);
			break;
		}
		if (c->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct kdx_module *nm = realloc(c->mods, ncap * sizeof(*nm));
			if (!nm) {
				err = kdx_error_nomem();
				break;
			}
			c->mods = nm;
			cap = ncap;
		}
		uint64_t addr = node - c->o.list.off;
		if ((err = read_module(s, c, addr, buf, &c->mods[c->n])))
			break;
		c->n++;
		if ((err = kdx_read_u64(s, node, &node))) {
			err = kdx_error_prefix(err, "module list: next of %s", c->mods[c->n - 1].name);
			break;
		}
	}
	free(buf);
	if (err && c->n) {
		/* keep the modules read so far; say where the walk stopped */
		fprintf(stderr, "kdx: warning: %s\n", err->message);
		kdx_error_destroy(err);
		err = NULL;
	}
	return err;
}

static struct kdx_error *cache_get(struct kdx_session *s, struct mod_cache **ret)
{
	return kdx_kernel_cached(s, KDX_SLOT_MODULES, sizeof(**ret), load, cache_destroy, (void **)ret);
}

struct kdx_error *kdx_modules(struct kdx_session *s, struct kdx_module **mods, size_t *n)
{
	struct mod_cache *c;
	struct kdx_error *err = cache_get(s, &c);

	if (err)
		return err;
	*mods = c->mods;
	*n = c->n;
	return NULL;
}

static struct mod_cache *cache_quiet(struct kdx_session *s)
{
	struct mod_cache *c;
	struct kdx_error *err = cache_get(s, &c);

	if (err) {
		kdx_error_destroy(err);
		return NULL;
	}
	return c;
}

static int in(uint64_t addr, uint64_t base, uint64_t size)
{
	return base && addr >= base && addr - base < size;
}

const struct kdx_module *kdx_module_by_addr(struct kdx_session *s, uint64_t addr)
{
	struct mod_cache *c = cache_quiet(s);

	for (size_t i = 0; c && i < c->n; i++) {
		const struct kdx_module *m = &c->mods[i];
		if (in(addr, m->base, m->data_base ? m->text_size : m->size) ||
		    in(addr, m->init_base, m->init_size) || in(addr, m->data_base, m->data_size) ||
		    in(addr, m->rodata_base, m->rodata_size))
			return m;
	}
	return NULL;
}

const struct kdx_module *kdx_module_text_by_addr(struct kdx_session *s, uint64_t addr)
{
	struct mod_cache *c = cache_quiet(s);

	for (size_t i = 0; c && i < c->n; i++) {
		const struct kdx_module *m = &c->mods[i];
		if (in(addr, m->base, m->text_size ? m->text_size : m->size) ||
		    in(addr, m->init_base, m->init_size))
			return m;
	}
	return NULL;
}

static int same_name(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;
		if (x != y)
			return 0;
	}
	return *a == *b;
}

const struct kdx_module *kdx_module_by_name(struct kdx_session *s, const char *name)
{
	struct mod_cache *c = cache_quiet(s);

	for (size_t i = 0; c && i < c->n; i++)
		if (same_name(c->mods[i].name, name))
			return &c->mods[i];
	return NULL;
}

/* One module's kallsyms into the symbol table. */
static struct kdx_error *module_kallsyms(struct kdx_session *s, struct mod_cache *c,
					 struct kdx_module *m)
{
	struct mod_offsets *o = &c->o;
	uint64_t ks, symtab, num, strtab, typetab = 0;
	unsigned char hdr[64];
	struct kdx_error *err;

	if (!o->kallsyms.ok || !o->ks_symtab.ok || !o->ks_num.ok || !o->ks_strtab.ok)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no module kallsyms in this kernel");
	if ((err = kdx_read_u64(s, m->addr + o->kallsyms.off, &ks)))
		return err;
	if ((err = kdx_read(s, ks, hdr, sizeof(hdr))))
		return kdx_error_prefix(err, "kallsyms of module %s", m->name);
	symtab = kdx_kfield_u(hdr, &o->ks_symtab);
	num = kdx_kfield_u(hdr, &o->ks_num);
	strtab = kdx_kfield_u(hdr, &o->ks_strtab);
	if (o->ks_typetab.ok)
		typetab = kdx_kfield_u(hdr, &o->ks_typetab);
	if (num > MAX_KALLSYMS)
		return kdx_error_create(KDX_ERR_FORMAT, "module %s: %llu kallsyms is corrupt", m->name,
					(unsigned long long)num);
	if (num == 0)
		return NULL;

	/* Elf64_Sym: st_name u32, st_info u8, st_other u8, st_shndx u16,
	 * st_value u64, st_size u64 (24 bytes; the ELF ABI, not a kernel type). */
	unsigned char *syms = malloc(num * 24);
	char *types = calloc(num, 1);
	struct kdx_symbol *out = calloc(num, sizeof(*out));
	uint64_t maxname = 0;
	if (!syms || !types || !out) {
		err = kdx_error_nomem();
		goto done;
	}
	if ((err = kdx_read(s, symtab, syms, num * 24))) {
		err = kdx_error_prefix(err, "symtab of module %s", m->name);
		goto done;
	}
	if (typetab && !kdx_ok(kdx_read(s, typetab, types, num)))
		memset(types, 0, num);
	for (uint64_t i = 0; i < num; i++) {
		uint32_t nm = (uint32_t)kdx_get_uint(syms + i * 24, 4);
		if (nm > maxname)
			maxname = nm;
	}
	/* The string table ends after the last name: read up to it plus a
	 * bounded tail for that name. */
	uint64_t strsz = maxname + 512;
	char *str = malloc(strsz + 1);
	if (!str) {
		err = kdx_error_nomem();
		goto done;
	}
	if ((err = kdx_read(s, strtab, str, strsz))) {
		/* the tail may cross into an unmapped page: retry exactly */
		kdx_error_destroy(err);
		strsz = maxname + 1;
		while (strsz < maxname + 512 && kdx_ok(kdx_read(s, strtab + strsz, str + strsz, 1)))
			strsz++;
		err = kdx_read(s, strtab, str, maxname + 1);
		if (err) {
			free(str);
			err = kdx_error_prefix(err, "strtab of module %s", m->name);
			goto done;
		}
	}
	str[strsz] = 0;
	size_t n = 0;
	for (uint64_t i = 0; i < num; i++) {
		const unsigned char *e = syms + i * 24;
		uint32_t nm = (uint32_t)kdx_get_uint(e, 4);
		unsigned info = e[4];
		uint16_t shndx = (uint16_t)kdx_get_uint(e + 6, 2);
		uint64_t value = kdx_get_uint(e + 8, 8), size = kdx_get_uint(e + 16, 8);
		if (!nm || nm >= strsz || !str[nm] || shndx == 0 || !value)
			continue;
		char type = types[i];
		if (!type) {
			/* no typetab (older kernels): derive from the ELF type/bind */
			unsigned st = info & 0xf, bind = info >> 4;
			type = st == 2 ? 't' : st == 1 ? 'd' : '?';
			if (bind == 1)
				type = (char)toupper((unsigned char)type);
		}
		out[n].name = str + nm;
		out[n].addr = value;
		out[n].size = size;
		out[n].type = type;
		n++;
	}
	err = kdx_symtab_add_module(s->symtab, m->name, out, n);
	if (!err)
		m->nkallsyms = n;
	free(str);
done:
	free(syms);
	free(types);
	free(out);
	return err;
}

struct kdx_error *kdx_modules_load_symbols(struct kdx_session *s)
{
	struct mod_cache *c;
	struct kdx_error *err = cache_get(s, &c);

	if (err)
		return err;
	if (c->syms_loaded)
		return NULL;
	c->syms_loaded = 1;
	for (size_t i = 0; i < c->n; i++) {
		if (c->mods[i].debuginfo)
			continue;
		err = module_kallsyms(s, c, &c->mods[i]);
		if (err) {
			if (err->code == KDX_ERR_UNSUPPORTED)
				return err;
			fprintf(stderr, "kdx: warning: module %s: %s\n", c->mods[i].name, err->message);
			kdx_error_destroy(err);
		}
	}
	return NULL;
}

char *kdx_module_find_in_dir(const char *dir, const char *name, int depth)
{
	return kdx_module_file_search(dir, name, depth, 8, KDX_MODFILE_DEBUG | KDX_MODFILE_FOLLOW_LINKS);
}

struct kdx_error *kdx_module_load_debuginfo_for(struct kdx_session *s, struct kdx_module *m,
						const char *path)
{
	char release[128];
	char *found = NULL;
	struct kdx_error *err;

	struct stat st;
	if (path && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		found = kdx_module_find_in_dir(path, m->name, 0);
		if (!found)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "mod: no %s.ko under %s", m->name, path);
		path = found;
	} else if (path && access(path, R_OK) != 0) {
		return kdx_error_create(KDX_ERR_IO, "mod -s %s: cannot read %s", m->name, path);
	}
	if (!path) {
		const char *r;
		size_t len;
		release[0] = 0;
		if (s->target && (r = kdx_vmcoreinfo_get(s->target, "OSRELEASE", &len)) &&
		    len < sizeof(release)) {
			memcpy(release, r, len);
			release[len] = 0;
		}
		if (!release[0])
			return kdx_error_create(KDX_ERR_NOT_FOUND,
				"mod -s %s: the kernel release is unknown: give the module file", m->name);
		found = kdx_module_debuginfo_path(release, m->name);
		if (!found)
			return kdx_error_create(KDX_ERR_NOT_FOUND,
				"mod -s %s: no %s.ko under /usr/lib/debug/lib/modules/%s or /lib/modules/%s: give the file",
				m->name, m->name, release, release);
		path = found;
	}
	if (!m->nsections) {
		free(found);
		return kdx_error_create(KDX_ERR_NOT_FOUND,
			"mod -s %s: the dump has no section addresses for this module (sect_attrs)", m->name);
	}
	const char **names = calloc(m->nsections, sizeof(*names));
	uint64_t *addrs = calloc(m->nsections, sizeof(*addrs));
	if (!names || !addrs) {
		free(names);
		free(addrs);
		free(found);
		return kdx_error_nomem();
	}
	for (size_t i = 0; i < m->nsections; i++) {
		names[i] = m->sections[i].name;
		addrs[i] = m->sections[i].addr;
	}
	err = kdx_module_load_debuginfo(s, m->name, path, names, addrs, m->nsections);
	free(names);
	free(addrs);
	if (!err) {
		free(m->debuginfo);
		m->debuginfo = strdup(path);
	}
	free(found);
	return err;
}
