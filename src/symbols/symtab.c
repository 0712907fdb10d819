/*
 * ELF symbol tables: vmlinux (.symtab, relocated by the KASLR offset) and
 * per-module symbol sets.
 *
 * Speed matters (kdx must start in well under a second): the vmlinux ELF file
 * is mmapped through libelf and symbol names point straight into its string
 * table; nothing is copied but the fixed-size symbol records. Address lookup
 * is a binary search over an address-sorted array; name lookup is an open
 * addressing hash table of indexes into that array.
 */
#include "symbols/symbols.h"
#include "symbols/symtab_internal.h"
#include "session.h"

#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* An unsized symbol never covers more than this much past its start. */
#define UNSIZED_MAX_SPAN 0x100000

struct symset {
	char *module;                /* NULL for vmlinux */
	struct kdx_symbol *syms;     /* sorted by address */
	size_t n;
	uint32_t *hash;              /* indexes + 1 into syms; 0 = empty */
	size_t hash_mask;
	char *names;                 /* module sets: owned copies of the names */
	uint64_t lo, hi;             /* address range covered (modules) */
};

struct kdx_symtab {
	int fd;
	Elf *elf;
	struct symset vmlinux;
	uint64_t offset;             /* KASLR offset currently applied */
	struct symset *mods;
	size_t nmods;
};

uint32_t kdx_str_hash(const char *s)
{
	/* FNV-1a */
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

uint64_t kdx_str_hash_u64(const char *s)
{
	uint64_t h = 14695981039346656037ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Preference among symbols of the same name: global over local over weak,
 * sized over unsized. */
static int sym_rank(const struct kdx_symbol *s)
{
	int r = 0;
	if (s->type >= 'a' && s->type <= 'z')
		r += 4;           /* local */
	if (s->type == 'W' || s->type == 'V')
		r += 2;
	if (!s->size)
		r += 1;
	return r;
}

/* Linker-script symbols (__start_foo, __stop_foo, __foo_end...) lose ties,
 * as in the kernel's scripts/kallsyms.c. */
static int linker_provided(const char *name)
{
	size_t len = strlen(name);
	if (len < 8 || name[0] != '_' || name[1] != '_')
		return 0;
	return !strncmp(name + 2, "start_", 6) || !strncmp(name + 2, "stop_", 5) ||
	       !strncmp(name + 2, "end_", 4) || !strcmp(name + len - 6, "_start") ||
	       !strcmp(name + len - 4, "_end");
}

/*
 * Order of the address-sorted array. Among aliases (symbols at one
 * address) the first is the one the kernel itself prints (kallsyms order:
 * non-weak first, linker-script symbols last, fewer leading underscores,
 * then nm's name order), so that kdx names frames the way the kernel's own
 * Call Trace does (__do_sys_pause, not __ia32_sys_pause).
 */
static int sym_cmp(const void *a, const void *b)
{
	const struct kdx_symbol *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	int wx = x->type == 'W' || x->type == 'w' || x->type == 'V' || x->type == 'v';
	int wy = y->type == 'W' || y->type == 'w' || y->type == 'V' || y->type == 'v';
	if (wx != wy)
		return wx - wy;
	int lx = linker_provided(x->name), ly = linker_provided(y->name);
	if (lx != ly)
		return lx - ly;
	size_t ux = strspn(x->name, "_"), uy = strspn(y->name, "_");
	if (ux != uy)
		return ux < uy ? -1 : 1;
	return strcmp(x->name, y->name);
}

static struct kdx_error *symset_build_hash(struct symset *set)
{
	size_t cap = 16;
	while (cap < set->n * 2)
		cap <<= 1;
	set->hash = calloc(cap, sizeof(*set->hash));
	if (!set->hash)
		return kdx_error_nomem();
	set->hash_mask = cap - 1;
	for (size_t i = 0; i < set->n; i++) {
		size_t h = kdx_str_hash(set->syms[i].name) & set->hash_mask;
		while (set->hash[h])
			h = (h + 1) & set->hash_mask;
		set->hash[h] = (uint32_t)(i + 1);
	}
	return NULL;
}

/* Best symbol named NAME in SET: a global one if there is one. */
static const struct kdx_symbol *symset_by_name(const struct symset *set, const char *name)
{
	if (!set->hash)
		return NULL;
	const struct kdx_symbol *best = NULL;
	size_t h = kdx_str_hash(name) & set->hash_mask;
	for (; set->hash[h]; h = (h + 1) & set->hash_mask) {
		const struct kdx_symbol *s = &set->syms[set->hash[h] - 1];
		if (strcmp(s->name, name) != 0)
			continue;
		if (!best || sym_rank(s) < sym_rank(best))
			best = s;
	}
	return best;
}

/* Symbol of SET containing ADDR, or NULL. */
static const struct kdx_symbol *symset_by_addr(const struct symset *set, uint64_t addr)
{
	size_t lo = 0, hi = set->n;
	if (!set->n || addr < set->syms[0].addr)
		return NULL;
	/* last index with syms[i].addr <= addr */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	/* Move to the first (preferred) symbol at that address. */
	uint64_t a = set->syms[lo].addr;
	size_t first = lo;
	while (first > 0 && set->syms[first - 1].addr == a)
		first--;
	const struct kdx_symbol *s = &set->syms[first];
	/* The group covers its largest size, if any of its symbols is sized. */
	uint64_t size = 0;
	for (size_t i = first; i <= lo; i++)
		if (set->syms[i].size > size)
			size = set->syms[i].size;
	if (size) {
		if (addr - a < size)
			return s;
		/* Past its end: ADDR is in no symbol, unless an earlier, longer
		 * symbol still covers it (nested or aliased ranges). */
		for (size_t i = first, k = 0; i-- > 0 && k < 16; k++) {
			const struct kdx_symbol *p = &set->syms[i];
			if (p->size && addr - p->addr < p->size) {
				while (i > 0 && set->syms[i - 1].addr == p->addr)
					p = &set->syms[--i];
				return p;
			}
		}
		return NULL;
	}
	/* Unsized: covers up to the next symbol (bounded). */
	uint64_t end = lo + 1 < set->n ? set->syms[lo + 1].addr : a + UNSIZED_MAX_SPAN;
	if (set->module && set->hi && end > set->hi)
		end = set->hi;
	if (addr >= end || addr - a >= UNSIZED_MAX_SPAN)
		return NULL;
	return s;
}

char kdx_elf_nm_letter(Elf *elf, const GElf_Sym *sym)
{
	int bind = GELF_ST_BIND(sym->st_info);
	int type = GELF_ST_TYPE(sym->st_info);
	char c;

	if (sym->st_shndx == SHN_ABS) {
		c = 'a';
	} else if (sym->st_shndx == SHN_UNDEF) {
		return bind == STB_WEAK ? 'w' : 'U';
	} else if (sym->st_shndx == SHN_COMMON) {
		c = 'c';
	} else {
		GElf_Shdr shdr;
		Elf_Scn *scn = elf_getscn(elf, sym->st_shndx);
		if (!scn || !gelf_getshdr(scn, &shdr))
			c = '?';
		else if (shdr.sh_flags & SHF_EXECINSTR)
			c = 't';
		else if (shdr.sh_type == SHT_NOBITS)
			c = 'b';
		else if (shdr.sh_flags & SHF_WRITE)
			c = 'd';
		else if (shdr.sh_flags & SHF_ALLOC)
			c = 'r';
		else
			c = 'n';
	}
	if (bind == STB_WEAK)
		return type == STT_OBJECT ? 'V' : 'W';
	if (bind == STB_GLOBAL || bind == STB_GNU_UNIQUE)
		c = (char)(c - 'a' + 'A');
	(void)type;
	return c;
}

/* Symbols nobody wants to see: section and file symbols, undefined ones,
 * and local labels ("$x", ".L123"). */
static int sym_is_junk(const GElf_Sym *sym, const char *name)
{
	int type = GELF_ST_TYPE(sym->st_info);
	if (!name || !*name)
		return 1;
	if (type == STT_SECTION || type == STT_FILE)
		return 1;
	if (sym->st_shndx == SHN_UNDEF)
		return 1;
	if (name[0] == '$' || (name[0] == '.' && name[1] == 'L'))
		return 1;
	return 0;
}

static int is_text_type(char c)
{
	return c == 't' || c == 'T' || c == 'W' || c == 'w';
}

/*
 * Sizes of code symbols as the kernel reports them ("do_wait+0x114/0x320"):
 * kallsyms has no sizes and lets a symbol run to the next one, so the
 * alignment padding after a function belongs to it. That matters beyond
 * looks: a call to a noreturn function as the last instruction leaves a
 * return address exactly at the function's ELF end (sysrq_handle_crash+0x16
 * of 0x16 bytes). Asm labels without a size get the distance to the next
 * symbol. Only padding-sized gaps are absorbed; data keeps its ELF size.
 */
static void symset_kallsyms_sizes(struct symset *set)
{
	size_t n = set->n;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && set->syms[j].addr == set->syms[i].addr)
			j++;
		/* [i, j) share an address; j is the next symbol */
		if (j < n) {
			uint64_t gap = set->syms[j].addr - set->syms[i].addr;
			for (size_t k = i; k < j; k++) {
				struct kdx_symbol *s = &set->syms[k];
				if (!is_text_type(s->type))
					continue;
				if (!s->size && gap < UNSIZED_MAX_SPAN)
					s->size = gap;
				else if (s->size && gap > s->size && gap - s->size < 64)
					s->size = gap;
			}
		}
		i = j;
	}
}

/* ELF (opened with ELF_C_READ_MMAP from a file, never elf_memory: that
 * image is anonymous memory) has had its .symtab copied out: drop the
 * pages (2.8 MB for vmlinux) rather than keep them resident for the
 * session. libelf's mapping is read-only and private, so they are read
 * again from the file if anything looks at them later. */
Elf_Scn *kdx_elf_symtab_scn(Elf *elf, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, shdr) && shdr->sh_type == SHT_SYMTAB)
			return scn;
	return NULL;
}

static void drop_mapped_symtab(Elf *elf)
{
	GElf_Shdr shdr;
	Elf_Scn *scn = kdx_elf_symtab_scn(elf, &shdr);
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	size_t rawsize;
	const char *raw = elf_rawfile(elf, &rawsize);
	const char *buf = data ? data->d_buf : NULL;
	if (!raw || !buf || buf < raw || buf + data->d_size > raw + rawsize)
		return;
	uintptr_t a = ((uintptr_t)buf + 4095) & ~(uintptr_t)4095;
	uintptr_t b = (uintptr_t)(buf + data->d_size) & ~(uintptr_t)4095;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

struct kdx_error *kdx_elf_read_symbols(Elf *elf, int keep_strings, struct kdx_symbol **ret,
				       size_t *nret, char **strings_ret)
{
	GElf_Shdr shdr;

	*ret = NULL;
	*nret = 0;
	if (strings_ret)
		*strings_ret = NULL;
	Elf_Scn *scn = kdx_elf_symtab_scn(elf, &shdr);
	if (!scn)
		return kdx_error_create(KDX_ERR_FORMAT, "no .symtab section (is this a stripped image?)");
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data)
		return kdx_error_create(KDX_ERR_FORMAT, "cannot read .symtab: %s", elf_errmsg(-1));
	size_t count = shdr.sh_size / (shdr.sh_entsize ? shdr.sh_entsize : sizeof(Elf64_Sym));
	struct kdx_symbol *syms = malloc((count ? count : 1) * sizeof(*syms));
	if (!syms)
		return kdx_error_nomem();

	/* Copy names into one block if the caller will drop the ELF handle. */
	size_t strsz = 0;
	char *strings = NULL;
	if (!keep_strings) {
		Elf_Scn *strscn = elf_getscn(elf, shdr.sh_link);
		Elf_Data *sd = strscn ? elf_getdata(strscn, NULL) : NULL;
		if (!sd) {
			free(syms);
			return kdx_error_create(KDX_ERR_FORMAT, "cannot read the symbol string table");
		}
		strsz = sd->d_size;
		strings = malloc(strsz + 1);
		if (!strings) {
			free(syms);
			return kdx_error_nomem();
		}
		memcpy(strings, sd->d_buf, strsz);
		strings[strsz] = 0;
	}

	size_t n = 0;
	for (size_t i = 1; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			continue;
		const char *name = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (sym_is_junk(&sym, name))
			continue;
		struct kdx_symbol *s = &syms[n++];
		s->name = strings ? strings + sym.st_name : name;
		s->addr = sym.st_value;
		s->size = sym.st_size;
		s->type = kdx_elf_nm_letter(elf, &sym);
		s->module = NULL;
	}
	*ret = syms;
	*nret = n;
	if (strings_ret)
		*strings_ret = strings;
	return NULL;
}

struct kdx_error *kdx_symtab_load_vmlinux(const char *vmlinux, struct kdx_symtab **ret)
{
	struct kdx_error *err;
	struct kdx_symtab *st = calloc(1, sizeof(*st));
	if (!st)
		return kdx_error_nomem();
	elf_version(EV_CURRENT);
	st->fd = open(vmlinux, O_RDONLY | O_CLOEXEC);
	if (st->fd < 0) {
		err = kdx_error_create(KDX_ERR_IO, "cannot open %s: %m", vmlinux);
		free(st);
		return err;
	}
	st->elf = elf_begin(st->fd, ELF_C_READ_MMAP, NULL);
	if (!st->elf || elf_kind(st->elf) != ELF_K_ELF) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s is not an ELF file", vmlinux);
		goto fail;
	}
	err = kdx_elf_read_symbols(st->elf, 1, &st->vmlinux.syms, &st->vmlinux.n, NULL);
	if (err) {
		err = kdx_error_prefix(err, "%s", vmlinux);
		goto fail;
	}
	drop_mapped_symtab(st->elf);
	qsort(st->vmlinux.syms, st->vmlinux.n, sizeof(*st->vmlinux.syms), sym_cmp);
	symset_kallsyms_sizes(&st->vmlinux);
	err = symset_build_hash(&st->vmlinux);
	if (err)
		goto fail;
	*ret = st;
	return NULL;
fail:
	kdx_symtab_destroy(st);
	return err;
}

static void symset_free(struct symset *set)
{
	free(set->module);
	free(set->syms);
	free(set->hash);
	free(set->names);
	memset(set, 0, sizeof(*set));
}

void kdx_symtab_destroy(struct kdx_symtab *st)
{
	if (!st)
		return;
	symset_free(&st->vmlinux);
	for (size_t i = 0; i < st->nmods; i++)
		symset_free(&st->mods[i]);
	free(st->mods);
	if (st->elf)
		elf_end(st->elf);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
}

void kdx_symtab_set_offset(struct kdx_symtab *st, uint64_t offset)
{
	uint64_t delta = offset - st->offset;
	if (!delta)
		return;
	/* Per-cpu offsets and small absolute values (below the kernel half)
	 * do not move with KASLR; everything in the kernel image does, even
	 * absolute symbols such as init_per_cpu__gdt_page. */
	for (size_t i = 0; i < st->vmlinux.n; i++) {
		struct kdx_symbol *s = &st->vmlinux.syms[i];
		if (s->addr - st->offset < 0xffff000000000000ull)
			continue;
		s->addr += delta;
	}
	st->offset = offset;
	/* Kernel-half symbols all moved by the same delta and stay above the
	 * unmoved low ones, so the order (and the hash of indexes) still
	 * holds unless an address wrapped; check rather than assume. */
	for (size_t i = 1; i < st->vmlinux.n; i++) {
		if (st->vmlinux.syms[i - 1].addr > st->vmlinux.syms[i].addr) {
			qsort(st->vmlinux.syms, st->vmlinux.n, sizeof(*st->vmlinux.syms), sym_cmp);
			free(st->vmlinux.hash);
			st->vmlinux.hash = NULL;
			kdx_error_destroy(symset_build_hash(&st->vmlinux));
			break;
		}
	}
}

uint64_t kdx_symtab_offset(struct kdx_symtab *st)
{
	return st->offset;
}

static int mod_cmp(const void *a, const void *b)
{
	const struct symset *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

struct kdx_error *kdx_symtab_add_module(struct kdx_symtab *st, const char *module,
					const struct kdx_symbol *syms, size_t n)
{
	struct symset set = {0};
	size_t namesz = 0;
	struct kdx_error *err;

	set.module = strdup(module);
	set.syms = malloc((n ? n : 1) * sizeof(*syms));
	for (size_t i = 0; i < n; i++)
		namesz += strlen(syms[i].name) + 1;
	set.names = malloc(namesz ? namesz : 1);
	if (!set.module || !set.syms || !set.names) {
		symset_free(&set);
		return kdx_error_nomem();
	}
	char *p = set.names;
	set.lo = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(syms[i].name) + 1;
		memcpy(p, syms[i].name, len);
		set.syms[set.n] = syms[i];
		set.syms[set.n].name = p;
		set.syms[set.n].module = set.module;
		p += len;
		if (syms[i].addr < set.lo)
			set.lo = syms[i].addr;
		uint64_t end = syms[i].addr + (syms[i].size ? syms[i].size : 1);
		if (end > set.hi)
			set.hi = end;
		set.n++;
	}
	if (!set.n)
		set.lo = 0;
	/* Module memory comes in whole pages; without sizes (kallsyms) the last
	 * symbol still covers the rest of its page. kdx_symtab_set_module_range
	 * gives the exact range when the caller knows it. */
	if (set.n)
		set.hi = (set.hi + 4095) & ~(uint64_t)4095;
	qsort(set.syms, set.n, sizeof(*set.syms), sym_cmp);
	symset_kallsyms_sizes(&set);
	err = symset_build_hash(&set);
	if (err) {
		symset_free(&set);
		return err;
	}

	for (size_t i = 0; i < st->nmods; i++) {
		if (strcmp(st->mods[i].module, module) == 0) {
			symset_free(&st->mods[i]);
			st->mods[i] = set;
			qsort(st->mods, st->nmods, sizeof(*st->mods), mod_cmp);
			return NULL;
		}
	}
	struct symset *mods = realloc(st->mods, (st->nmods + 1) * sizeof(*mods));
	if (!mods) {
		symset_free(&set);
		return kdx_error_nomem();
	}
	st->mods = mods;
	st->mods[st->nmods++] = set;
	qsort(st->mods, st->nmods, sizeof(*st->mods), mod_cmp);
	return NULL;
}

struct kdx_error *kdx_symtab_set_module_range(struct kdx_symtab *st, const char *module,
					      uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < st->nmods; i++) {
		if (strcmp(st->mods[i].module, module) != 0)
			continue;
		st->mods[i].lo = lo;
		st->mods[i].hi = hi;
		qsort(st->mods, st->nmods, sizeof(*st->mods), mod_cmp);
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "no symbols for module %s", module);
}

const struct kdx_symbol *kdx_symbol_by_name(struct kdx_symtab *st, const char *name,
					    const char *module)
{
	if (!st || !name)
		return NULL;
	if (!module) {
		const struct kdx_symbol *s = symset_by_name(&st->vmlinux, name);
		if (s)
			return s;
	}
	for (size_t i = 0; i < st->nmods; i++) {
		if (module && strcmp(module, st->mods[i].module) != 0)
			continue;
		const struct kdx_symbol *s = symset_by_name(&st->mods[i], name);
		if (s)
			return s;
	}
	return NULL;
}

const struct kdx_symbol *kdx_symbol_by_addr(struct kdx_symtab *st, uint64_t addr,
					    uint64_t *offset)
{
	const struct kdx_symbol *s = NULL;
	if (!st)
		return NULL;
	for (size_t i = 0; i < st->nmods && !s; i++) {
		if (addr >= st->mods[i].lo && addr < st->mods[i].hi)
			s = symset_by_addr(&st->mods[i], addr);
	}
	if (!s)
		s = symset_by_addr(&st->vmlinux, addr);
	if (s && offset)
		*offset = addr - s->addr;
	return s;
}

int kdx_symbol_for_each(struct kdx_symtab *st,
			int (*fn)(const struct kdx_symbol *sym, void *arg), void *arg)
{
	int r;
	for (size_t i = 0; i < st->vmlinux.n; i++)
		if ((r = fn(&st->vmlinux.syms[i], arg)))
			return r;
	for (size_t m = 0; m < st->nmods; m++)
		for (size_t i = 0; i < st->mods[m].n; i++)
			if ((r = fn(&st->mods[m].syms[i], arg)))
				return r;
	return 0;
}

size_t kdx_symtab_count(struct kdx_symtab *st)
{
	size_t n = st->vmlinux.n;
	for (size_t m = 0; m < st->nmods; m++)
		n += st->mods[m].n;
	return n;
}

struct kdx_error *kdx_symbol_lookup(struct kdx_session *s, const char *name, uint64_t *addr)
{
	const struct kdx_symbol *sym = NULL;
	char modbuf[64];
	const char *colon = strchr(name, ':');

	/* "module:symbol" picks a module's symbol. */
	if (colon && colon != name && (size_t)(colon - name) < sizeof(modbuf) && colon[1] != ':') {
		memcpy(modbuf, name, colon - name);
		modbuf[colon - name] = 0;
		sym = kdx_symbol_by_name(s->symtab, colon + 1, modbuf);
	}
	if (!sym)
		sym = kdx_symbol_by_name(s->symtab, name, NULL);
	if (!sym)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no symbol \"%s\"", name);
	*addr = sym->addr;
	return NULL;
}

char *kdx_symbol_format(struct kdx_session *s, uint64_t addr, char *buf, size_t len)
{
	uint64_t off;
	if (!len)
		return buf;
	buf[0] = 0;
	/* Per-cpu offsets and absolute symbols live at small numbers; do not
	 * dress up small integers (rd -s, register dumps) as symbols. */
	if (addr < 0xffff800000000000ull)
		return buf;
	const struct kdx_symbol *sym = kdx_symbol_by_addr(s->symtab, addr, &off);
	if (!sym)
		return buf;
	int n;
	if (off)
		n = snprintf(buf, len, "%s+0x%" PRIx64, sym->name, off);
	else
		n = snprintf(buf, len, "%s", sym->name);
	if (sym->module && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " [%s]", sym->module);
	return buf;
}
