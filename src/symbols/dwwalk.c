/*
 * Finding DIEs of vmlinux without leaving its .debug_info resident.
 *
 * libdw (0.188) finds the CU of a DIE offset by interning every unit from
 * the start of .debug_info up to it: one header read per CU, ~2,800 CUs
 * spread over 160 MB. Each read faults in a page of libelf's file mapping,
 * and the kernel maps the cached pages around it too (fault-around, which
 * MADV_RANDOM does not stop), so a single lookup in a late CU left ~80 MB
 * of .debug_info in our RSS. Likewise libdw's .debug_aranges reader reads
 * every CU header to turn header offsets into CU DIE offsets.
 *
 * So: before asking libdw for a DIE, kdx_dwsrc_offdie walks the units
 * itself (dwarf_get_units interns them one by one, exactly what libdw
 * would do), and every few MB drops the pages it walked over with
 * MADV_DONTNEED. libelf maps the file read-only and private, so dropped
 * pages are simply read again from the page cache if ever touched later;
 * nothing libdw keeps (its Dwarf_CU records live on the heap) is lost.
 * kdx_dwsrc_addrdie reads .debug_aranges itself and needs only the one
 * CU header it lands on.
 */
#include "symbols/types_internal.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Walk this much .debug_info between two trims: bounds the RSS the walk
 * adds (plus fault-around) while keeping madvise calls few. */
#define WALK_CHUNK_BYTES ((Dwarf_Off)4 << 20)
#define PAGE_MASK_ ((uintptr_t)4095)

static const char *section_data(Elf *elf, const char *want, size_t *size)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || (sh.sh_flags & SHF_COMPRESSED))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || strcmp(name, want) != 0)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf)
			return NULL;
		*size = d->d_size;
		return d->d_buf;
	}
	return NULL;
}

const char *kdx_dw_mapped_info(Elf *elf, size_t *size)
{
	size_t rawsize, sz;
	const char *raw = elf_rawfile(elf, &rawsize);
	const char *info = section_data(elf, ".debug_info", &sz);
	/* Only a .debug_info that lies in libelf's mapping of the file may
	 * be dropped: a decompressed or converted copy is anonymous memory. */
	if (!raw || !info || info < raw || info + sz > raw + rawsize)
		return NULL;
	*size = sz;
	return info;
}

void kdx_dw_drop_pages(const char *buf, size_t size, uint64_t from, uint64_t to)
{
	if (to > size)
		to = size;
	uintptr_t a = (uintptr_t)(buf + from) & ~PAGE_MASK_;
	uintptr_t b = (uintptr_t)(buf + to) & ~PAGE_MASK_;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

void kdx_dwsrc_walk_init(struct kdx_dwsrc *src)
{
	src->info_buf = kdx_dw_mapped_info(src->elf, &src->info_size);
}

/* Drop the pages of .debug_info in [walk_trimmed, upto). */
static void trim(struct kdx_dwsrc *src, Dwarf_Off upto)
{
	kdx_dw_drop_pages(src->info_buf, src->info_size, src->walk_trimmed, upto);
	if (upto > src->walk_trimmed)
		src->walk_trimmed = upto;
}

/* Intern units until one starts beyond OFF (so OFF's CU is known). */
static void walk_to(struct kdx_dwsrc *src, Dwarf_Off off)
{
	Dwarf_Off chunk = src->walk_start;
	while (off >= src->walk_start) {
		Dwarf_CU *next;
		Dwarf_Die cudie;
		if (dwarf_get_units(src->dw, src->walk_cu, &next, NULL, NULL, &cudie, NULL) != 0) {
			src->walk_done = 1;
			break;
		}
		Dwarf_Off start = dwarf_dieoffset(&cudie);
		if (start == (Dwarf_Off)-1 || start < src->walk_start) {
			/* No CU DIE to tell where we are: let libdw walk. */
			src->walk_done = 1;
			break;
		}
		src->walk_cu = next;
		src->walk_start = start;
		if (start - chunk >= WALK_CHUNK_BYTES) {
			trim(src, start);
			chunk = start;
		}
	}
	trim(src, src->walk_done ? src->info_size : src->walk_start);
}

Dwarf_Die *kdx_dwsrc_offdie(struct kdx_dwsrc *src, Dwarf_Off off, Dwarf_Die *die)
{
	if (src->info_buf && !src->walk_done && off >= src->walk_start)
		walk_to(src, off);
	return dwarf_offdie(src->dw, off, die);
}

/* ---- .debug_aranges ---- */

static uint64_t get_uint(const unsigned char *p, int size)
{
	if (size == 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	if (size == 4) {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	if (size == 2) {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	return size == 1 ? *p : 0;
}

static int arange_cmp(const void *a, const void *b)
{
	const struct kdx_arange *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int host_is_little_endian(void)
{
	const uint16_t one = 1;
	return *(const unsigned char *)&one == 1;
}

/* Parse .debug_aranges (DWARF 2-5 layout: per set a header, then
 * (address, length) pairs aligned to twice the address size, ending with
 * a (0, 0) pair). Returns -1 if it is absent or not understood. */
static int load_aranges(struct kdx_dwsrc *src)
{
	size_t size;
	const unsigned char *p = (const unsigned char *)section_data(src->elf, ".debug_aranges", &size);
	GElf_Ehdr eh;
	if (!p || !gelf_getehdr(src->elf, &eh) ||
	    (eh.e_ident[EI_DATA] == ELFDATA2LSB) != host_is_little_endian())
		return -1;
	const unsigned char *end = p + size;
	size_t n = 0, cap = 0;
	struct kdx_arange *v = NULL;
	while (end - p >= 4) {
		const unsigned char *set = p;
		uint64_t len = get_uint(p, 4);
		int offsize = 4;
		p += 4;
		if (len == 0xffffffff) {
			if (end - p < 8)
				break;
			len = get_uint(p, 8);
			offsize = 8;
			p += 8;
		}
		if (len > (uint64_t)(end - p) || len < 2u + offsize + 2u)
			break;
		const unsigned char *next = p + len;
		uint64_t cu_off = get_uint(p + 2, offsize);
		int asize = p[2 + offsize];
		int segsize = p[3 + offsize];
		if ((asize != 4 && asize != 8) || segsize != 0) {
			p = next;
			continue;
		}
		p += 4 + offsize;
		size_t hdr = (size_t)(p - set), tuple = 2 * (size_t)asize;
		p = set + (hdr + tuple - 1) / tuple * tuple;
		while (next - p >= (ptrdiff_t)tuple) {
			uint64_t lo = get_uint(p, asize), l = get_uint(p + asize, asize);
			p += tuple;
			if (lo == 0 && l == 0)
				break;
			if (l == 0)
				continue;
			if (n == cap) {
				size_t ncap = cap ? 2 * cap : 1024;
				struct kdx_arange *nv = realloc(v, ncap * sizeof(*v));
				if (!nv) {
					free(v);
					return -1;
				}
				v = nv;
				cap = ncap;
			}
			v[n++] = (struct kdx_arange){ lo, lo + l, cu_off };
		}
		p = next;
	}
	if (!n) {
		free(v);
		return -1;
	}
	qsort(v, n, sizeof(*v), arange_cmp);
	src->aranges = v;
	src->naranges = n;
	return 0;
}

Dwarf_Die *kdx_dwsrc_addrdie(struct kdx_dwsrc *src, Dwarf_Addr addr, Dwarf_Die *cudie)
{
	if (!src->info_buf)
		return dwarf_addrdie(src->dw, addr, cudie);
	if (!src->aranges_loaded) {
		src->aranges_loaded = load_aranges(src) == 0 ? 1 : -1;
	}
	if (src->aranges_loaded < 0)
		return dwarf_addrdie(src->dw, addr, cudie);
	/* The last range starting at or below ADDR; ranges do not overlap
	 * in practice, but look back a little in case they do. */
	size_t lo = 0, hi = src->naranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (src->aranges[mid].lo <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo, k = 0; i > 0 && k < 8; i--, k++) {
		const struct kdx_arange *r = &src->aranges[i - 1];
		if (addr >= r->hi)
			continue;
		Dwarf_Off next;
		size_t hsize;
		if (dwarf_next_unit(src->dw, r->cu_off, &next, &hsize, NULL, NULL, NULL, NULL, NULL,
				    NULL) != 0)
			return NULL;
		return kdx_dwsrc_offdie(src, r->cu_off + hsize, cudie);
	}
	return NULL;
}
