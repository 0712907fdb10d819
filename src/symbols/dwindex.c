/*
 * The DWARF name index (see dwindex.h).
 *
 * Only top-level DIEs of each CU are visited (plus the enumerators of
 * top-level enums): that is where C puts every type and global the kernel
 * tools look up by name, and DW_AT_sibling lets libdw skip the bodies of
 * functions and structs without parsing them. Duplicates across CUs (every
 * CU that includes <linux/sched.h> defines struct task_struct) are dropped,
 * keeping the first definition.
 *
 * The scan runs in two threads over halves of the CU list, each with its own
 * Dwarf handle (libdw is not thread-safe per handle).
 */
#include "symbols/dwindex.h"
#include "symbols/symtab_internal.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define INDEX_MAGIC "KDXIDX\r\n"
#define INDEX_VERSION 3
#define NTHREADS 2
/* Transient kind: a variable only declared; becomes KDX_IDX_VARIABLE if the
 * ELF symbol table has its address and no definition was seen. */
#define IDX_VARDECL 100

struct index_header {
	char magic[8];
	uint32_t version;
	uint32_t build_id_len;
	uint8_t build_id[64];
	uint64_t nentries;
	uint64_t entries_off;
	uint64_t strings_off;
	uint64_t strings_size;
};

/* An entry while building: the name still points into libdw's strings. */
struct raw_entry {
	const char *name;
	uint32_t kind;
	uint32_t hash;
	uint64_t die;
	uint64_t addr;
	uint64_t addr2;
};

struct builder {
	Dwarf *dw;
	struct raw_entry *e;
	size_t n, cap;
	/* dedup set over (kind, name): indexes + 1 into e */
	uint32_t *set;
	size_t set_mask;
	/* work range, by CU number */
	size_t cu_first, cu_last;
	size_t cus_done;
	int finished;
	/* .debug_info in this thread's file mapping, dropped behind the scan */
	const char *info;
	size_t info_size;
	struct kdx_error *err;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int set_grow(struct builder *b)
{
	size_t cap = b->set ? (b->set_mask + 1) * 2 : 1 << 16;
	uint32_t *set = calloc(cap, sizeof(*set));
	if (!set)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		size_t h = b->e[i].hash & (cap - 1);
		while (set[h])
			h = (h + 1) & (cap - 1);
		set[h] = (uint32_t)(i + 1);
	}
	free(b->set);
	b->set = set;
	b->set_mask = cap - 1;
	return 0;
}

/* Add unless (kind, name) is already there. */
static int builder_add(struct builder *b, uint32_t kind, const char *name, uint64_t die,
		       uint64_t addr, uint64_t addr2)
{
	uint32_t hash = kdx_str_hash(name) * 31 + kind;
	if (!b->set || b->n * 2 >= b->set_mask) {
		if (set_grow(b))
			return -1;
	}
	size_t h = hash & b->set_mask;
	for (; b->set[h]; h = (h + 1) & b->set_mask) {
		struct raw_entry *o = &b->e[b->set[h] - 1];
		if (o->hash == hash && o->kind == kind && strcmp(o->name, name) == 0)
			return 0;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1 << 15;
		struct raw_entry *e = realloc(b->e, cap * sizeof(*e));
		if (!e)
			return -1;
		b->e = e;
		b->cap = cap;
	}
	b->e[b->n] = (struct raw_entry){ name, kind, hash, die, addr, addr2 };
	b->set[h] = (uint32_t)(++b->n);
	return 0;
}

static const char *die_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	return dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
}

static int variable_address(Dwarf_Die *die, uint64_t *addr)
{
	Dwarf_Attribute attr;
	Dwarf_Op *ops;
	size_t nops;
	if (!dwarf_attr(die, DW_AT_location, &attr))
		return -1;
	if (dwarf_getlocation(&attr, &ops, &nops) != 0 || nops != 1 || ops[0].atom != DW_OP_addr)
		return -1;
	*addr = ops[0].number;
	return 0;
}

static int index_die(struct builder *b, Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	const char *name;
	uint64_t off = dwarf_dieoffset(die);
	uint32_t kind;

	switch (tag) {
	case DW_TAG_structure_type: kind = KDX_IDX_STRUCT; break;
	case DW_TAG_union_type: kind = KDX_IDX_UNION; break;
	case DW_TAG_enumeration_type: kind = KDX_IDX_ENUM; break;
	case DW_TAG_typedef: kind = KDX_IDX_TYPEDEF; break;
	case DW_TAG_base_type: kind = KDX_IDX_BASE; break;
	case DW_TAG_variable: kind = KDX_IDX_VARIABLE; break;
	case DW_TAG_subprogram: kind = KDX_IDX_FUNCTION; break;
	default: return 0;
	}
	if (kind == KDX_IDX_ENUM) {
		/* Enumerators, even of anonymous enums (most kernel constants). */
		Dwarf_Die child;
		if (!dwarf_hasattr(die, DW_AT_declaration) && dwarf_child(die, &child) == 0) {
			do {
				Dwarf_Attribute attr;
				Dwarf_Sword sv;
				const char *en = dwarf_diename(&child);
				if (!en || dwarf_tag(&child) != DW_TAG_enumerator)
					continue;
				if (dwarf_formsdata(dwarf_attr(&child, DW_AT_const_value, &attr), &sv) != 0)
					continue;
				if (builder_add(b, KDX_IDX_ENUMERATOR, en, off, (uint64_t)sv, 0))
					return -1;
			} while (dwarf_siblingof(&child, &child) == 0);
		}
	}
	name = (kind == KDX_IDX_VARIABLE || kind == KDX_IDX_FUNCTION) ? die_name(die)
								     : dwarf_diename(die);
	if (!name)
		return 0;
	uint64_t addr = 0, addr2 = 0;
	switch (kind) {
	case KDX_IDX_STRUCT:
	case KDX_IDX_UNION:
	case KDX_IDX_ENUM:
		if (dwarf_hasattr(die, DW_AT_declaration))
			return 0;
		break;
	case KDX_IDX_VARIABLE:
		if (variable_address(die, &addr)) {
			/* `extern unsigned long volatile jiffies;`: defined by
			 * the linker script, never in DWARF. Resolved through
			 * the ELF symbol table in finish(). */
			if (dwarf_hasattr(die, DW_AT_declaration) && dwarf_hasattr(die, DW_AT_external))
				return builder_add(b, IDX_VARDECL, name, off, 0, 0);
			return 0;
		}
		break;
	case KDX_IDX_FUNCTION: {
		Dwarf_Addr lo, hi;
		if (dwarf_lowpc(die, &lo) != 0)
			return 0;
		if (dwarf_highpc(die, &hi) != 0)
			hi = lo;
		addr = lo;
		addr2 = hi;
		break;
	}
	default:
		break;
	}
	return builder_add(b, kind, name, off, addr, addr2);
}

static void *scan_thread(void *arg)
{
	struct builder *b = arg;
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie, die;
	size_t i = 0;
	uint64_t dropped = 0;

	for (; dwarf_get_units(b->dw, cu, &next, &version, &unit_type, &cudie, &subdie) == 0;
	     cu = next, i++) {
		/* The units behind are done with: drop their pages (a full
		 * scan would otherwise leave all of .debug_info resident). */
		uint64_t at = dwarf_dieoffset(&cudie);
		if (b->info && at != (uint64_t)-1 && at - dropped >= ((uint64_t)4 << 20)) {
			kdx_dw_drop_pages(b->info, b->info_size, dropped, at);
			dropped = at;
		}
		if (i < b->cu_first)
			continue;
		if (i >= b->cu_last)
			break;
		if (dwarf_child(&cudie, &die) == 0) {
			do {
				if (index_die(b, &die)) {
					b->err = kdx_error_nomem();
					__atomic_store_n(&b->finished, 1, __ATOMIC_RELEASE);
					return NULL;
				}
			} while (dwarf_siblingof(&die, &die) == 0);
		}
		__atomic_store_n(&b->cus_done, i - b->cu_first + 1, __ATOMIC_RELAXED);
	}
	if (b->info)
		kdx_dw_drop_pages(b->info, b->info_size, dropped, b->info_size);
	__atomic_store_n(&b->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static size_t count_units(struct builder *b)
{
	Dwarf_Off off = 0, next, dropped = 0;
	size_t hsize, n = 0;
	while (dwarf_nextcu(b->dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		n++;
		off = next;
		if (b->info && off - dropped >= ((Dwarf_Off)4 << 20)) {
			kdx_dw_drop_pages(b->info, b->info_size, dropped, off);
			dropped = off;
		}
	}
	if (b->info)
		kdx_dw_drop_pages(b->info, b->info_size, dropped, b->info_size);
	return n;
}

static int raw_cmp(const void *a, const void *b)
{
	const struct raw_entry *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	/* stable by DIE offset: earlier CU first */
	return x->die < y->die ? -1 : x->die > y->die;
}

/* Global ELF symbols of the names in ALL[] of kind IDX_VARDECL: turn those
 * entries into variables with the symbol's address; drop the others. ALL is
 * sorted, so a real definition (KDX_IDX_VARIABLE) is found by binary search. */
static void resolve_declarations(struct raw_entry *all, size_t n, Elf *elf)
{
	size_t first = n, last = n;
	for (size_t i = 0; i < n; i++) {
		if (all[i].kind == IDX_VARDECL) {
			if (first == n)
				first = i;
			last = i + 1;
		}
	}
	if (first == n)
		return;
	/* Drop declarations that have a definition. */
	for (size_t i = first; i < last; i++) {
		struct raw_entry key = { .name = all[i].name, .kind = KDX_IDX_VARIABLE };
		size_t lo = 0, hi = first;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = all[mid].kind != key.kind ? (all[mid].kind < key.kind ? -1 : 1)
							   : strcmp(all[mid].name, key.name);
			if (!c) {
				all[i].kind = 0;   /* defined elsewhere */
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	if (!elf)
		return;
	GElf_Shdr shdr;
	Elf_Scn *scn = kdx_elf_symtab_scn(elf, &shdr);
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	if (!data || !shdr.sh_entsize)
		return;
	size_t count = shdr.sh_size / shdr.sh_entsize;
	for (size_t j = 1; j < count; j++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)j, &sym) || GELF_ST_BIND(sym.st_info) == STB_LOCAL ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		const char *name = elf_strptr(elf, shdr.sh_link, sym.st_name);
		if (!name)
			continue;
		size_t lo = first, hi = last;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int c = strcmp(all[mid].name, name);
			if (!c) {
				if (all[mid].kind == IDX_VARDECL) {
					all[mid].kind = KDX_IDX_VARIABLE;
					all[mid].addr = sym.st_value;
				}
				break;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
}

/* Merge the builders' entries into IDX (in-memory form), dedup, sort. */
static struct kdx_error *finish(struct builder *bs, int nb, Elf *elf, struct kdx_dwindex *idx)
{
	size_t total = 0;
	for (int i = 0; i < nb; i++)
		total += bs[i].n;
	struct raw_entry *all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return kdx_error_nomem();
	size_t n = 0;
	for (int i = 0; i < nb; i++) {
		if (!bs[i].n)
			continue;   /* bs[i].e may be NULL: not for memcpy */
		memcpy(all + n, bs[i].e, bs[i].n * sizeof(*all));
		n += bs[i].n;
	}
	qsort(all, n, sizeof(*all), raw_cmp);
	/* The declarations sort last (kind 100); first dedup them by name. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m && all[m - 1].kind == all[i].kind && strcmp(all[m - 1].name, all[i].name) == 0)
			continue;
		all[m++] = all[i];
	}
	n = m;
	resolve_declarations(all, n, elf);
	qsort(all, n, sizeof(*all), raw_cmp);
	/* dedup adjacent (kind, name), keep the first (lowest DIE offset);
	 * drop dead (kind 0) and unresolved declarations */
	m = 0;
	for (size_t i = 0; i < n; i++) {
		if (all[i].kind == 0 || all[i].kind == IDX_VARDECL)
			continue;
		if (m && all[m - 1].kind == all[i].kind && strcmp(all[m - 1].name, all[i].name) == 0)
			continue;
		all[m++] = all[i];
	}
	n = m;

	/* Strings: names are sorted within each kind, so equal names across
	 * kinds are common; share them through a small hash. */
	size_t strsz = 1;
	for (size_t i = 0; i < n; i++)
		strsz += strlen(all[i].name) + 1;
	char *strings = malloc(strsz);
	struct kdx_dwindex_entry *entries = malloc((n ? n : 1) * sizeof(*entries));
	if (!strings || !entries) {
		free(all);
		free(strings);
		free(entries);
		return kdx_error_nomem();
	}
	size_t pos = 1;
	strings[0] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(all[i].name) + 1;
		memcpy(strings + pos, all[i].name, len);
		entries[i] = (struct kdx_dwindex_entry){ (uint32_t)pos, all[i].kind, all[i].die,
							 all[i].addr, all[i].addr2 };
		pos += len;
	}
	free(all);
	memset(idx, 0, sizeof(*idx));
	idx->entries = entries;
	idx->n = n;
	idx->strings = strings;
	idx->strings_size = pos;
	idx->owned = entries;
	idx->owned_strings = strings;
	return NULL;
}

static void builders_free(struct builder *bs, int nb)
{
	for (int i = 0; i < nb; i++) {
		free(bs[i].e);
		free(bs[i].set);
	}
}

struct kdx_error *kdx_dwindex_build_mem(Dwarf *dw, struct kdx_dwindex *ret)
{
	struct builder b = { .dw = dw, .cu_first = 0, .cu_last = SIZE_MAX };
	scan_thread(&b);
	struct kdx_error *err = b.err ? b.err : finish(&b, 1, NULL, ret);
	builders_free(&b, 1);
	return err;
}

char *kdx_dwindex_cache_path(const char *cache_dir, const uint8_t *build_id, size_t build_id_len)
{
	char *dir = NULL, *path = NULL;
	if (cache_dir && *cache_dir) {
		dir = strdup(cache_dir);
	} else {
		const char *xdg = getenv("XDG_CACHE_HOME");
		const char *home = getenv("HOME");
		if (xdg && *xdg) {
			if (asprintf(&dir, "%s/kdx", xdg) < 0)
				dir = NULL;
		} else if (home && *home) {
			if (asprintf(&dir, "%s/.cache/kdx", home) < 0)
				dir = NULL;
		} else {
			dir = strdup("/tmp/kdx-cache");
		}
	}
	if (!dir)
		return NULL;
	char hex[2 * 64 + 1];
	size_t n = build_id_len > 64 ? 64 : build_id_len;
	for (size_t i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", build_id[i]);
	hex[2 * n] = 0;
	if (asprintf(&path, "%s/index-%s.bin", dir, n ? hex : "unknown") < 0)
		path = NULL;
	free(dir);
	return path;
}

static void mkdir_p(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return;
	for (char *s = p + 1; *s; s++) {
		if (*s == '/') {
			*s = 0;
			mkdir(p, 0755);
			*s = '/';
		}
	}
	free(p);
}

static int try_load(const char *path, const uint8_t *build_id, size_t build_id_len,
		    struct kdx_dwindex *idx)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) || (size_t)st.st_size < sizeof(struct index_header)) {
		close(fd);
		return -1;
	}
	void *map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	const struct index_header *h = map;
	size_t size = st.st_size;
	if (memcmp(h->magic, INDEX_MAGIC, 8) != 0 || h->version != INDEX_VERSION ||
	    h->build_id_len != build_id_len || build_id_len > sizeof(h->build_id) ||
	    memcmp(h->build_id, build_id, build_id_len) != 0 ||
	    h->entries_off > size || h->nentries > (size - h->entries_off) / sizeof(struct kdx_dwindex_entry) ||
	    h->strings_off > size || h->strings_size > size - h->strings_off || h->strings_size == 0 ||
	    ((const char *)map)[h->strings_off + h->strings_size - 1] != 0) {
		munmap(map, size);
		return -1;
	}
	memset(idx, 0, sizeof(*idx));
	idx->entries = (const void *)((const char *)map + h->entries_off);
	idx->n = h->nentries;
	idx->strings = (const char *)map + h->strings_off;
	idx->strings_size = h->strings_size;
	idx->map = map;
	idx->map_size = size;
	idx->from_cache = 1;
	/* Names must be inside the string block. */
	for (size_t i = 0; i < idx->n; i++) {
		if (idx->entries[i].name >= idx->strings_size) {
			kdx_dwindex_release(idx);
			return -1;
		}
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= w;
	}
	return 0;
}

/* Save atomically (temp file + rename); failure only costs a rebuild. */
static void save(const char *path, const uint8_t *build_id, size_t build_id_len,
		 const struct kdx_dwindex *idx)
{
	struct index_header h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, INDEX_MAGIC, 8);
	h.version = INDEX_VERSION;
	h.build_id_len = (uint32_t)build_id_len;
	memcpy(h.build_id, build_id, build_id_len);
	h.nentries = idx->n;
	h.entries_off = sizeof(h);
	h.strings_off = h.entries_off + idx->n * sizeof(struct kdx_dwindex_entry);
	h.strings_size = idx->strings_size;

	mkdir_p(path);
	char *tmp;
	if (asprintf(&tmp, "%s.%d.tmp", path, (int)getpid()) < 0)
		return;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(tmp);
		return;
	}
	int bad = write_all(fd, &h, sizeof(h)) ||
		  write_all(fd, idx->entries, idx->n * sizeof(struct kdx_dwindex_entry)) ||
		  write_all(fd, idx->strings, idx->strings_size);
	if (close(fd) || bad || rename(tmp, path))
		unlink(tmp);
	free(tmp);
}

struct kdx_error *kdx_dwindex_open(const char *path, const uint8_t *build_id, size_t build_id_len,
				   const char *cache_dir, struct kdx_dwindex *ret)
{
	/* Without a build-id there is no safe key: do not cache. */
	char *cpath = build_id_len ? kdx_dwindex_cache_path(cache_dir, build_id, build_id_len) : NULL;
	if (cpath && build_id_len && try_load(cpath, build_id, build_id_len, ret) == 0) {
		free(cpath);
		return NULL;
	}

	double t0 = now();
	struct builder bs[NTHREADS];
	int fds[NTHREADS];
	Elf *elfs[NTHREADS];
	struct kdx_error *err = NULL;
	memset(bs, 0, sizeof(bs));
	for (int i = 0; i < NTHREADS; i++) {
		fds[i] = -1;
		elfs[i] = NULL;
	}
	elf_version(EV_CURRENT);
	for (int i = 0; i < NTHREADS; i++) {
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			err = kdx_error_create(KDX_ERR_IO, "cannot open %s: %m", path);
			goto out;
		}
		elfs[i] = elf_begin(fds[i], ELF_C_READ_MMAP, NULL);
		bs[i].dw = elfs[i] ? dwarf_begin_elf(elfs[i], DWARF_C_READ, NULL) : NULL;
		if (bs[i].dw)
			bs[i].info = kdx_dw_mapped_info(elfs[i], &bs[i].info_size);
		if (!bs[i].dw) {
			err = kdx_error_create(KDX_ERR_FORMAT, "%s: no DWARF debug info (%s): pass the vmlinux from the -dbg package",
					       path, dwarf_errmsg(-1));
			goto out;
		}
	}
	/* Split the CUs in halves; CU sizes vary but halves of ~2000 CUs even
	 * out well enough. */
	size_t ncu = count_units(&bs[0]);
	for (int i = 0; i < NTHREADS; i++) {
		bs[i].cu_first = ncu * i / NTHREADS;
		bs[i].cu_last = ncu * (i + 1) / NTHREADS;
	}
	pthread_t th[NTHREADS];
	int started[NTHREADS] = {0};
	for (int i = 1; i < NTHREADS; i++)
		started[i] = pthread_create(&th[i], NULL, scan_thread, &bs[i]) == 0;
	/* Progress from the main thread while thread 0's share runs here is
	 * not possible; run share 0 in a thread too when showing progress. */
	int tty = isatty(2) && isatty(0);
	if (tty) {
		started[0] = pthread_create(&th[0], NULL, scan_thread, &bs[0]) == 0;
		if (!started[0])
			scan_thread(&bs[0]);
		int shown = 0;
		for (;;) {
			int running = 0;
			size_t done = 0;
			for (int i = 0; i < NTHREADS; i++) {
				size_t d = __atomic_load_n(&bs[i].cus_done, __ATOMIC_RELAXED);
				done += d;
				if (started[i] && !__atomic_load_n(&bs[i].finished, __ATOMIC_ACQUIRE))
					running = 1;
			}
			if (!running)
				break;
			if (now() - t0 > 1.0) {
				fprintf(stderr, "\rkdx: indexing debug info: %zu/%zu units", done, ncu);
				shown = 1;
			}
			struct timespec ts = { 0, 100 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (shown)
			fprintf(stderr, "\r\033[K");
	} else {
		scan_thread(&bs[0]);
	}
	for (int i = 0; i < NTHREADS; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	/* A thread that could not be started: do its share here. */
	for (int i = 1; i < NTHREADS; i++)
		if (!started[i])
			scan_thread(&bs[i]);
	for (int i = 0; i < NTHREADS && !err; i++)
		if (bs[i].err)
			err = bs[i].err;
	if (!err)
		err = finish(bs, NTHREADS, elfs[0], ret);
	if (!err) {
		ret->build_seconds = now() - t0;
		if (cpath && build_id_len)
			save(cpath, build_id, build_id_len, ret);
	}
out:
	builders_free(bs, NTHREADS);
	for (int i = 0; i < NTHREADS; i++) {
		if (bs[i].dw)
			dwarf_end(bs[i].dw);
		if (elfs[i])
			elf_end(elfs[i]);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	free(cpath);
	return err;
}

void kdx_dwindex_release(struct kdx_dwindex *idx)
{
	if (idx->map)
		munmap(idx->map, idx->map_size);
	free(idx->owned);
	free(idx->owned_strings);
	memset(idx, 0, sizeof(*idx));
}

const struct kdx_dwindex_entry *kdx_dwindex_find(const struct kdx_dwindex *idx, int kind,
						 const char *name)
{
	size_t lo = 0, hi = idx->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kdx_dwindex_entry *e = &idx->entries[mid];
		int c = (int)e->kind - kind;
		if (!c)
			c = strcmp(idx->strings + e->name, name);
		if (c < 0)
			lo = mid + 1;
		else if (c > 0)
			hi = mid;
		else
			return e;
	}
	return NULL;
}
