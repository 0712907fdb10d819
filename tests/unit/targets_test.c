/*
 * Targets without a real dump: a small kdump-compressed file built here
 * (pages compressed with zlib, LZO, snappy, zstd and raw; filtered pages;
 * PRSTATUS and VMCOREINFO notes), written both as a standard "KDUMP" file
 * (read through libkdumpfile) and as a makedumpfile flattened stream with
 * shuffled, split and overlapping records (read by flat.c); truncated
 * copies; files that are not dumps; VMCOREINFO parsing; the flattened
 * record indexer on its own.
 */
#include "targets/mem.h"
#include "targets/target.h"
#include "targets/target_internal.h"

#include <elf.h>
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "fake_target.h"

#define PS 4096
#define NPFN 16



/* ------------------------------------------------------------------ */
/* Building a kdump-compressed image in memory */

enum comp { C_NONE, C_ZLIB, C_LZO, C_SNAPPY, C_ZSTD, C_FILTERED };

/* pfn → how it is stored */
static const enum comp layout_of[NPFN] = {
	C_ZLIB, C_NONE, C_FILTERED, C_LZO, C_SNAPPY, C_ZSTD, C_FILTERED, C_FILTERED,
	C_FILTERED, C_ZLIB, C_FILTERED, C_FILTERED, C_FILTERED, C_FILTERED, C_FILTERED, C_NONE,
};

static void page_pattern(uint64_t pfn, unsigned char *p)
{
	for (int i = 0; i < PS; i++)
		p[i] = (unsigned char)((i % 64) * 3 + pfn * 17);
	snprintf((char *)p, 32, "PAGE-%02u", (unsigned)pfn);
}

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, size_t off, const void *data, size_t len)
{
	if (off + len > b->cap) {
		size_t nc = (off + len) * 2;
		b->p = realloc(b->p, nc);
		memset(b->p + b->cap, 0, nc - b->cap);
		b->cap = nc;
	}
	memcpy(b->p + off, data, len);
	if (off + len > b->len)
		b->len = off + len;
}

static void put32(struct buf *b, size_t off, uint32_t v) { buf_put(b, off, &v, 4); }
static void put64(struct buf *b, size_t off, uint64_t v) { buf_put(b, off, &v, 8); }

static size_t note(unsigned char *out, const char *name, uint32_t type, const void *desc, uint32_t dlen)
{
	Elf64_Nhdr nh = { strlen(name) + 1, dlen, type };
	size_t off = 0;
	memcpy(out, &nh, sizeof(nh));
	off += sizeof(nh);
	memset(out + off, 0, (nh.n_namesz + 3) & ~3u);
	memcpy(out + off, name, nh.n_namesz);
	off += (nh.n_namesz + 3) & ~3u;
	memset(out + off, 0, (dlen + 3) & ~3u);
	memcpy(out + off, desc, dlen);
	off += (dlen + 3) & ~3u;
	return off;
}

static const char vmcoreinfo_text[] =
	"OSRELEASE=6.1.0-test\n"
	"PAGESIZE=4096\n"
	"SYMBOL(init_top_pgt)=ffffffff82a10000\n"
	"NUMBER(phys_base)=-249561088\n"
	"NUMBER(pgtable_l5_enabled)=0\n"
	"KERNELOFFSET=2a000000\n";

/* The logical kdump-compressed file. */
static struct buf build_kdump(void)
{
	struct buf b = { 0 };
	const uint32_t sub_hdr_size = 2, bitmap_blocks = 2;
	unsigned char page[PS], cbuf[2 * PS];

	buf_put(&b, 0, "KDUMP   ", 8);
	put32(&b, 8, 6);                                   /* header_version */
	buf_put(&b, 12 + 2 * 65, "6.1.0-test", 11);        /* utsname.release */
	buf_put(&b, 12 + 4 * 65, "x86_64", 7);             /* utsname.machine */
	put64(&b, 408, 1700000000);                        /* timestamp.tv_sec */
	put32(&b, 424, 1);                                 /* status */
	put32(&b, 428, PS);                                /* block_size */
	put32(&b, 432, sub_hdr_size);
	put32(&b, 436, bitmap_blocks);
	put32(&b, 440, NPFN);                              /* max_mapnr */
	put32(&b, 456, 1);                                 /* current_cpu */
	put32(&b, 460, 2);                                 /* nr_cpus */

	/* Notes and VMCOREINFO inside the sub-header blocks. */
	unsigned char notes[4096];
	size_t nl = 0;
	for (int cpu = 0; cpu < 2; cpu++) {
		unsigned char pr[336] = { 0 };
		uint32_t pid = 100 + cpu;
		memcpy(pr + 32, &pid, 4);
		uint64_t regs[27];
		for (int i = 0; i < 27; i++)
			regs[i] = 0x1000 * (cpu + 1) + i;
		memcpy(pr + 112, regs, sizeof(regs));
		nl += note(notes + nl, "CORE", NT_PRSTATUS, pr, sizeof(pr));
	}
	nl += note(notes + nl, "VMCOREINFO", 0, vmcoreinfo_text, strlen(vmcoreinfo_text));
	uint64_t note_off = PS + 512;
	buf_put(&b, note_off, notes, nl);
	uint64_t sh = PS;
	put64(&b, sh + 32, PS + 3000);                     /* offset_vmcoreinfo */
	put64(&b, sh + 40, strlen(vmcoreinfo_text));
	buf_put(&b, PS + 3000, vmcoreinfo_text, strlen(vmcoreinfo_text));
	put64(&b, sh + 48, note_off);
	put64(&b, sh + 56, nl);
	put64(&b, sh + 96, NPFN);                          /* max_mapnr_64 */
	put32(&b, sh + 8, 31);                             /* dump_level */

	uint64_t bm1 = (1 + sub_hdr_size) * PS, bmlen = bitmap_blocks * PS / 2;
	uint64_t desc = bm1 + 2 * bmlen;
	unsigned npresent = 0;
	for (int pfn = 0; pfn < NPFN; pfn++)
		npresent += layout_of[pfn] != C_FILTERED;
	uint64_t data = desc + npresent * 24;
	unsigned char bm[2] = { 0, 0 }, bm1v[2] = { 0xff, 0xff };
	buf_put(&b, bm1, bm1v, 2);

	unsigned idx = 0;
	static unsigned char wrk[LZO1X_1_MEM_COMPRESS];
	lzo_init();
	for (int pfn = 0; pfn < NPFN; pfn++) {
		if (layout_of[pfn] == C_FILTERED)
			continue;
		bm[pfn / 8] |= 1 << (pfn % 8);
		page_pattern(pfn, page);
		size_t clen = sizeof(cbuf);
		uint32_t flags = 0;
		switch (layout_of[pfn]) {
		case C_ZLIB: {
			uLongf l = clen;
			compress2(cbuf, &l, page, PS, 6);
			clen = l;
			flags = 0x1;
			break;
		}
		case C_LZO: {
			lzo_uint l = clen;
			lzo1x_1_compress(page, PS, cbuf, &l, wrk);
			clen = l;
			flags = 0x2;
			break;
		}
		case C_SNAPPY:
			snappy_compress((const char *)page, PS, (char *)cbuf, &clen);
			flags = 0x4;
			break;
		case C_ZSTD:
			clen = ZSTD_compress(cbuf, clen, page, PS, 3);
			flags = 0x20;
			break;
		default:
			memcpy(cbuf, page, PS);
			clen = PS;
			break;
		}
		uint64_t d = desc + idx * 24;
		put64(&b, d, data);
		put32(&b, d + 8, clen);
		put32(&b, d + 12, flags);
		put64(&b, d + 16, 0);
		buf_put(&b, data, cbuf, clen);
		data += clen;
		idx++;
	}
	buf_put(&b, bm1 + bmlen, bm, 2);
	return b;
}

/* ------------------------------------------------------------------ */
/* Flattened writer */

static void flat_record(FILE *f, uint64_t off, const void *data, uint64_t size)
{
	uint64_t h[2] = { htobe64(off), htobe64(size) };
	fwrite(h, sizeof(h), 1, f);
	fwrite(data, size, 1, f);
}

static unsigned zero_chunks_skipped;

static int all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	zero_chunks_skipped++;
	return 1;
}

/* Records out of order and split; an overlapping garbage record written
 * first is overwritten by later correct ones. WITH_END adds the end marker. */
static void write_flat(const char *path, const struct buf *b, int with_end)
{
	FILE *f = fopen(path, "wb");
	unsigned char hdr[4096] = { 0 };
	memcpy(hdr, "makedumpfile", 12);
	uint64_t one = htobe64(1);
	memcpy(hdr + 16, &one, 8);
	memcpy(hdr + 24, &one, 8);
	fwrite(hdr, sizeof(hdr), 1, f);

	unsigned char junk[8192];
	memset(junk, 0xee, sizeof(junk));
	flat_record(f, 16384 - 100, junk, 5000);           /* overwritten below */
	size_t chunk = 3000;
	size_t n = (b->len + chunk - 1) / chunk;
	/* Odd chunks first (descending), then even ones: thoroughly unsorted. */
	/* All-zero chunks are left out, as writers skip zero blocks: the
	 * reader must see zeros there. */
	for (size_t i = n; i-- > 0;)
		if (i % 2 && !all_zero(b->p + i * chunk, (i + 1) * chunk > b->len ? b->len - i * chunk : chunk))
			flat_record(f, i * chunk, b->p + i * chunk,
				    (i + 1) * chunk > b->len ? b->len - i * chunk : chunk);
	for (size_t i = 0; i < n; i++)
		if (i % 2 == 0 && !all_zero(b->p + i * chunk, (i + 1) * chunk > b->len ? b->len - i * chunk : chunk))
			flat_record(f, i * chunk, b->p + i * chunk,
				    (i + 1) * chunk > b->len ? b->len - i * chunk : chunk);
	if (with_end) {
		uint64_t end[2] = { UINT64_MAX, UINT64_MAX };
		fwrite(end, sizeof(end), 1, f);
	}
	fclose(f);
}

static void write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");
	fwrite(p, len, 1, f);
	fclose(f);
}

/* ------------------------------------------------------------------ */

static void check_pages(const char *what, struct kdx_target *t)
{
	unsigned char page[PS], want[PS];
	int good = 1;
	for (int pfn = 0; pfn < NPFN; pfn++) {
		struct kdx_error *err = t->ops->read_phys(t, (uint64_t)pfn * PS, page, PS);
		if (layout_of[pfn] == C_FILTERED) {
			int clean = err && err->code == KDX_ERR_FAULT && err->has_address &&
				    err->address == (uint64_t)pfn * PS && strstr(err->message, "not in the dump");
			if (!clean) {
				printf("# pfn %d: expected a 'not in the dump' fault, got %s\n", pfn,
				       err ? err->message : "success");
				good = 0;
			}
		} else {
			page_pattern(pfn, want);
			if (err || memcmp(page, want, PS)) {
				printf("# pfn %d: %s\n", pfn, err ? err->message : "wrong bytes");
				good = 0;
			}
		}
		kdx_error_destroy(err);
	}
	ok(good, "%s: all pages read or fault as stored (zlib, lzo, snappy, zstd, raw, filtered)", what);

	/* A read spanning pages 0-1 (zlib then raw). */
	unsigned char two[64], w0[PS], w1[PS];
	page_pattern(0, w0);
	page_pattern(1, w1);
	struct kdx_error *err = t->ops->read_phys(t, PS - 32, two, 64);
	ok(!err && !memcmp(two, w0 + PS - 32, 32) && !memcmp(two + 32, w1, 32),
	   "%s: read across a page boundary", what);
	kdx_error_destroy(err);
	err = t->ops->read_phys(t, 100 * PS, two, 8);
	ok(err && err->code == KDX_ERR_FAULT, "%s: read beyond max_mapnr faults: %s", what,
	   err ? err->message : "(no error)");
	kdx_error_destroy(err);
}

static void check_meta(const char *what, struct kdx_target *t, int own_parser)
{
	ok(t->ncpus == 2 && t->cpus[0].valid && t->cpus[1].valid, "%s: two CPUs from PRSTATUS", what);
	if (t->ncpus == 2)
		ok(t->cpus[1].pid == 101 && t->cpus[1].r[KDX_REG_RIP] == 0x2000 + KDX_REG_RIP &&
		   t->cpus[0].r[KDX_REG_RSP] == 0x1000 + KDX_REG_RSP, "%s: registers in pt_regs order", what);
	size_t len;
	const char *v = kdx_vmcoreinfo_get(t, "OSRELEASE", &len);
	ok(v && len == 10 && !memcmp(v, "6.1.0-test", 10), "%s: VMCOREINFO OSRELEASE", what);
	ok(t->max_phys == NPFN * PS, "%s: max_phys 0x%" PRIx64, what, t->max_phys);
	if (own_parser) {
		ok(t->dump_level == 31, "%s: dump_level from the sub-header", what);
		ok(t->crash_time == 1700000000, "%s: crash time from the header", what);
		ok(t->panic_cpu == 1, "%s: panic CPU from the header", what);
	}
}

static void test_vmcoreinfo(struct kdx_target *t)
{
	uint64_t v = 0;
	struct kdx_error *err = kdx_vmcoreinfo_u64(t, "KERNELOFFSET", 16, &v);
	ok(!err && v == 0x2a000000, "vmcoreinfo KERNELOFFSET hex");
	kdx_error_destroy(err);
	err = kdx_vmcoreinfo_u64(t, "NUMBER(phys_base)", 10, &v);
	ok(!err && v == (uint64_t)-249561088LL, "vmcoreinfo negative NUMBER()");
	kdx_error_destroy(err);
	err = kdx_vmcoreinfo_u64(t, "SYMBOL(init_top_pgt)", 16, &v);
	ok(!err && v == 0xffffffff82a10000ULL, "vmcoreinfo SYMBOL()");
	kdx_error_destroy(err);
	err = kdx_vmcoreinfo_u64(t, "SYMBOL(init_top)", 16, &v);
	ok(err && err->code == KDX_ERR_NOT_FOUND, "vmcoreinfo: a key prefix is not a match");
	kdx_error_destroy(err);
	err = kdx_vmcoreinfo_u64(t, "OSRELEASE", 10, &v);
	ok(err && err->code == KDX_ERR_FORMAT, "vmcoreinfo: non-number is an error");
	kdx_error_destroy(err);
}

static void test_pieces(void)
{
	/* Records: [0,100) seq0, [50,150) seq1 overwrites 50..100,
	 * [20,30) seq2 overwrites inside, [200,300) seq3, [300,400) seq4
	 * contiguous in the file with seq3 → merged. */
	struct flat_record r[] = {
		{ 300, 100, 10300, 4 }, { 0, 100, 1000, 0 }, { 50, 100, 2000, 1 },
		{ 20, 10, 3000, 2 }, { 200, 100, 10200, 3 },
	};
	struct flat_piece *p;
	size_t n;
	struct kdx_error *err = kdx_flat_build_pieces(r, 5, &p, &n);
	struct flat_piece want[] = {
		{ 0, 20, 1000 }, { 20, 10, 3000 }, { 30, 20, 1030 }, { 50, 100, 2000 },
		{ 200, 200, 10200 },
	};
	int good = !err && n == 5;
	for (size_t i = 0; good && i < n; i++)
		good = p[i].off == want[i].off && p[i].size == want[i].size && p[i].foff == want[i].foff;
	if (!good)
		for (size_t i = 0; i < n; i++)
			printf("# piece %zu: off %" PRIu64 " size %" PRIu64 " foff %" PRIu64 "\n",
			       i, p[i].off, p[i].size, p[i].foff);
	ok(good, "flattened index: overlaps resolved (later wins), contiguous merged");
	free(p);
}

/* ELF core writer: PHDRS (offsets filled in here) with DATA[i] of size
 * phdr.p_filesz each. */
static void write_elf(const char *path, Elf64_Phdr *ph, int n, const void **data)
{
	Elf64_Ehdr eh = { 0 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = n;
	uint64_t off = sizeof(eh) + n * sizeof(Elf64_Phdr);
	for (int i = 0; i < n; i++) {
		ph[i].p_offset = off;
		off += ph[i].p_filesz;
	}
	FILE *f = fopen(path, "wb");
	fwrite(&eh, sizeof(eh), 1, f);
	fwrite(ph, sizeof(*ph), n, f);
	for (int i = 0; i < n; i++)
		fwrite(data[i], ph[i].p_filesz, 1, f);
	fclose(f);
}

static void test_elf(const char *path)
{
	/* Notes: one PRSTATUS, one QEMU CPU state, VMCOREINFO. */
	static unsigned char notes[4096];
	size_t nl = 0;
	unsigned char pr[336] = { 0 };
	uint64_t rip = 0xffffffff81234567ULL;
	memcpy(pr + 112 + 8 * KDX_REG_RIP, &rip, 8);
	nl += note(notes + nl, "CORE", NT_PRSTATUS, pr, sizeof(pr));
	unsigned char q[440] = { 0 };
	uint64_t v = 1, cr3 = 0x1234000, cr4 = 1 << 12, gs = 0, kgs = 0xffff888011400000ULL;
	memcpy(q, &v, 4);
	v = sizeof(q);
	memcpy(q + 4, &v, 4);
	memcpy(q + 152 + 4 * 24 + 16, &gs, 8);       /* user-mode GS base */
	memcpy(q + 392 + 3 * 8, &cr3, 8);
	memcpy(q + 392 + 4 * 8, &cr4, 8);
	memcpy(q + 432, &kgs, 8);
	nl += note(notes + nl, "QEMU", 0, q, sizeof(q));
	nl += note(notes + nl, "VMCOREINFO", 0, vmcoreinfo_text, strlen(vmcoreinfo_text));

	static unsigned char a[3 * PS], b[2 * PS];
	for (int i = 0; i < 3; i++)
		page_pattern(i, a + i * PS);
	for (int i = 0; i < 2; i++)
		page_pattern(0x100 + i, b + i * PS);
	Elf64_Phdr ph[4] = {
		{ .p_type = PT_NOTE, .p_filesz = nl, .p_memsz = nl },
		/* memsz > filesz: the 4th page reads as zeros */
		{ .p_type = PT_LOAD, .p_paddr = 0, .p_filesz = 3 * PS, .p_memsz = 4 * PS },
		{ .p_type = PT_LOAD, .p_paddr = 0x100 * PS, .p_filesz = 2 * PS, .p_memsz = 2 * PS },
		/* overlaps the previous one's second page, like /proc/vmcore's text */
		{ .p_type = PT_LOAD, .p_paddr = 0x101 * PS, .p_filesz = PS, .p_memsz = PS },
	};
	const void *data[4] = { notes, a, b, b + PS };
	write_elf(path, ph, 4, data);

	struct kdx_target *t;
	struct kdx_error *err = kdx_target_open(path, &t);
	ok(!err, "open synthetic ELF vmcore%s%s", err ? ": " : "", err ? err->message : "");
	if (err) {
		kdx_error_destroy(err);
		return;
	}
	ok(!strcmp(t->format, "ELF vmcore"), "ELF format name");
	ok(t->ncpus == 1 && t->cpus[0].valid && t->cpus[0].r[KDX_REG_RIP] == rip,
	   "ELF: PRSTATUS registers");
	ok(t->ncpus == 1 && t->cpus[0].has_cr3 && t->cpus[0].r[KDX_REG_CR3] == cr3 &&
	   t->cpus[0].cr[4] == cr4 && t->cpus[0].percpu_base == kgs,
	   "ELF: QEMU note gives CR3, CR4 and the per-CPU base (KERNEL_GS_BASE in user mode)");
	ok(t->vmcoreinfo && strstr(t->vmcoreinfo, "OSRELEASE=6.1.0-test"), "ELF: VMCOREINFO note");
	ok(t->max_phys == 0x102 * PS, "ELF: max_phys");
	unsigned char page[PS], want[PS];
	int good = 1;
	uint64_t pfns[] = { 0, 1, 2, 0x100, 0x101 };
	for (int i = 0; i < 5; i++) {
		page_pattern(pfns[i], want);
		err = t->ops->read_phys(t, pfns[i] * PS, page, PS);
		good &= !err && !memcmp(page, want, PS);
		kdx_error_destroy(err);
	}
	ok(good, "ELF: pages read from their segments (overlapping ones too)");
	memset(want, 0, PS);
	err = t->ops->read_phys(t, 3 * PS, page, PS);
	ok(!err && !memcmp(page, want, PS), "ELF: p_memsz beyond p_filesz reads zeros");
	kdx_error_destroy(err);
	err = t->ops->read_phys(t, 5 * PS + 8, page, 8);
	ok(err && err->code == KDX_ERR_FAULT && err->address == 5 * PS + 8 &&
	   strstr(err->message, "not in the dump"), "ELF: hole faults: %s",
	   err ? err->message : "(no error)");
	kdx_error_destroy(err);
	kdx_target_close(t);
}

/* For the live checks: init_top_pgt at physical 0x1000 (phys_base
 * -16 MiB + 4 KiB... see test_kcore), 4-level. */
static const char kcore_vmcoreinfo[] =
	"OSRELEASE=6.1.0-test\n"
	"SYMBOL(init_top_pgt)=ffffffff81001000\n"
	"NUMBER(phys_base)=-16777216\n"
	"NUMBER(pgtable_l5_enabled)=0\n"
	"KERNELOFFSET=0\n";

static void test_kcore(const char *path)
{
	static unsigned char notes[1024], text[PS], ram[8 * PS], vm[2 * PS];
	size_t nl = note(notes, "VMCOREINFO", 0, kcore_vmcoreinfo, strlen(kcore_vmcoreinfo));
	unsigned char pr[336] = { 0 };
	nl += note(notes + nl, "CORE", NT_PRSTATUS, pr, sizeof(pr));
	page_pattern(0x1000, text);
	for (int i = 0; i < 8; i++)
		page_pattern(i, ram + i * PS);
	/* Page tables in RAM: PGD 0x1000 (= init_top_pgt: 0xffffffff81001000
	 * - 0xffffffff80000000 + phys_base -16 MiB), PUD 0x5000, PMD 0x6000,
	 * PTE 0x7000; 0xffffc90000000000 -> phys 0x3000, the next page unmapped. */
	memset(ram + 0x1000, 0, PS);
	memset(ram + 0x5000, 0, 3 * PS);
	uint64_t va = 0xffffc90000000000ULL, e;
	e = 0x5000 | 0x63;
	memcpy(ram + 0x1000 + ((va >> 39) & 511) * 8, &e, 8);
	e = 0x6000 | 0x63;
	memcpy(ram + 0x5000 + ((va >> 30) & 511) * 8, &e, 8);
	e = 0x7000 | 0x63;
	memcpy(ram + 0x6000 + ((va >> 21) & 511) * 8, &e, 8);
	e = 0x3000 | 0x63;
	memcpy(ram + 0x7000 + ((va >> 12) & 511) * 8, &e, 8);
	page_pattern(0xc9, vm);
	memset(vm + PS, 0, PS);          /* what kcore shows for an unmapped page */
	Elf64_Phdr ph[4] = {
		{ .p_type = PT_NOTE, .p_filesz = nl },
		{ .p_type = PT_LOAD, .p_vaddr = 0xffffffff81000000ULL, .p_paddr = 0x1000000,
		  .p_filesz = PS, .p_memsz = PS },
		{ .p_type = PT_LOAD, .p_vaddr = 0xffff888000000000ULL, .p_paddr = 0,
		  .p_filesz = 8 * PS, .p_memsz = 8 * PS },
		{ .p_type = PT_LOAD, .p_vaddr = 0xffffc90000000000ULL, .p_paddr = (uint64_t)-1,
		  .p_filesz = 2 * PS, .p_memsz = 2 * PS },
	};
	const void *data[4] = { notes, text, ram, vm };
	write_elf(path, ph, 4, data);

	/* kdx_target_open treats only /proc/kcore as live: call the opener. */
	struct kdx_target *t = calloc(1, sizeof(*t));
	t->path = strdup(path);
	t->panic_cpu = -1;
	struct kdx_error *err = kdx_kcore_open(t, open(path, O_RDONLY));
	ok(!err, "kcore opener on a synthetic kcore%s%s", err ? ": " : "", err ? err->message : "");
	if (!err) {
		ok(t->live && t->ncpus == 0 && t->vmcoreinfo, "kcore: live, no CPU registers, VMCOREINFO");
		ok(t->max_phys == 8 * PS, "kcore: max_phys from the RAM segments");
		unsigned char page[PS], want[PS];
		page_pattern(0x1000, want);
		err = t->ops->read_kvaddr(t, 0xffffffff81000000ULL, page, PS);
		ok(!err && !memcmp(page, want, PS), "kcore: kernel text by virtual address");
		kdx_error_destroy(err);
		page_pattern(2, want);
		err = t->ops->read_kvaddr(t, 0xffff888000000000ULL + 2 * PS, page, PS);
		ok(!err && !memcmp(page, want, PS), "kcore: direct map by virtual address");
		kdx_error_destroy(err);
		memset(page, 0, PS);
		err = t->ops->read_phys(t, 2 * PS, page, PS);
		ok(!err && !memcmp(page, want, PS), "kcore: RAM by physical address");
		kdx_error_destroy(err);
		page_pattern(0xc9, want);
		err = t->ops->read_kvaddr(t, 0xffffc90000000000ULL, page, PS);
		ok(!err && !memcmp(page, want, PS), "kcore: vmalloc by virtual address");
		kdx_error_destroy(err);
		err = t->ops->read_phys(t, 0x1000000, page, 8);
		ok(err && err->code == KDX_ERR_FAULT, "kcore: non-RAM physical address faults: %s",
		   err ? err->message : "(no error)");
		kdx_error_destroy(err);
		err = t->ops->read_kvaddr(t, 0xffffc90000000000ULL + 2 * PS, page, 8);
		ok(err && err->code == KDX_ERR_FAULT, "kcore: address outside the segments faults: %s",
		   err ? err->message : "(no error)");
		kdx_error_destroy(err);

		/* Through mem.c: kcore's zeros for an unmapped vmalloc page must
		 * become a fault; mapped pages read natively. */
		struct kdx_mem *m;
		err = kdx_mem_create(t, &m);
		ok(!err && kdx_mem_layout(m)->pgd_paddr == 0x1000, "kcore: layout from its VMCOREINFO");
		kdx_error_destroy(err);
		if (!err) {
			page_pattern(0xc9, want);
			err = kdx_mem_read(m, 0xffffc90000000000ULL, page, PS);
			ok(!err && !memcmp(page, want, PS), "kcore: mapped vmalloc page through mem");
			kdx_error_destroy(err);
			err = kdx_mem_read(m, 0xffffc90000000ff0ULL, page, 32);
			ok(err && err->code == KDX_ERR_FAULT && strstr(err->message, "not mapped"),
			   "kcore: unmapped vmalloc page faults instead of reading zeros: %s",
			   err ? err->message : "(no error)");
			kdx_error_destroy(err);
			page_pattern(2, want);
			err = kdx_mem_read(m, 0xffff888000000000ULL + 2 * PS, page, PS);
			ok(!err && !memcmp(page, want, PS), "kcore: direct map through mem");
			kdx_error_destroy(err);
			kdx_mem_destroy(m);
		}
		err = NULL;
		err = NULL;
	}
	kdx_error_destroy(err);
	kdx_target_close(t);
}

static void expect_open_error(const char *path, const char *needle, const char *what)
{
	struct kdx_target *t;
	struct kdx_error *err = kdx_target_open(path, &t);
	ok(err && strstr(err->message, needle), "%s: %s", what, err ? err->message : "(opened!)");
	if (!err)
		kdx_target_close(t);
	kdx_error_destroy(err);
}

int main(void)
{
	char dir[] = "/tmp/kdx-targets-test-XXXXXX";
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	char kpath[256], fpath[256], tpath[256], t2path[256], npath[256], epath[256];
	snprintf(kpath, sizeof(kpath), "%s/t.kdump", dir);
	snprintf(fpath, sizeof(fpath), "%s/t.flat", dir);
	snprintf(tpath, sizeof(tpath), "%s/trunc.flat", dir);
	snprintf(t2path, sizeof(t2path), "%s/trunc.kdump", dir);
	snprintf(npath, sizeof(npath), "%s/not-a-dump", dir);
	snprintf(epath, sizeof(epath), "%s/trunc.elf", dir);
	char elfpath[256], kcpath[256];
	snprintf(elfpath, sizeof(elfpath), "%s/t.elf", dir);
	snprintf(kcpath, sizeof(kcpath), "%s/kcore", dir);
	test_elf(elfpath);
	test_kcore(kcpath);
	unlink(elfpath);
	unlink(kcpath);

	test_pieces();

	struct buf b = build_kdump();
	write_file(kpath, b.p, b.len);
	write_flat(fpath, &b, 1);
	write_flat(tpath, &b, 0);
	write_file(t2path, b.p, 20480 + 24);   /* bitmaps, then one descriptor of many */
	write_file(npath, "hello, world\n", 13);

	ok(zero_chunks_skipped > 0, "flattened test file has gaps (%u zero chunks left out)",
	   zero_chunks_skipped);
	struct kdx_target *t;
	struct kdx_error *err = kdx_target_open(fpath, &t);
	ok(!err, "open flattened: %s", err ? err->message : "ok");
	if (!err) {
		ok(!strcmp(t->format, "flattened kdump"), "flattened format name");
		check_meta("flattened", t, 1);
		check_pages("flattened", t);
		test_vmcoreinfo(t);
		kdx_target_close(t);
	}
	kdx_error_destroy(err);

	/* The record index cache: written at the first open, used at the
	 * second (same answers), ignored once the file changes. */
	{
		char cdir[256], cfile[512];
		snprintf(cdir, sizeof(cdir), "%s/cache", dir);
		setenv("KDX_CACHE_DIR", cdir, 1);
		setenv("KDX_FLAT_CACHE_MIN", "0", 1);
		mkdir(cdir, 0755);
		for (int round = 0; round < 3; round++) {
			if (round == 2)
				write_flat(fpath, &b, 1);   /* new mtime/inode: stale cache */
			err = kdx_target_open(fpath, &t);
			ok(!err, "flattened with index cache, open %d%s%s", round + 1,
			   err ? ": " : "", err ? err->message : "");
			if (!err) {
				check_pages(round == 1 ? "flattened from cached index" : "flattened, cache written", t);
				kdx_target_close(t);
			}
			kdx_error_destroy(err);
		}
		struct stat st;
		stat(fpath, &st);
		snprintf(cfile, sizeof(cfile), "%s/flat-%" PRIx64 "-%" PRIx64 "-%" PRIx64 ".idx", cdir,
			 (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size);
		ok(access(cfile, R_OK) == 0, "index cache file %s", cfile);
		/* A corrupt cache is not trusted. */
		FILE *f = fopen(cfile, "r+b");
		if (f) {
			fseek(f, 100, SEEK_SET);
			uint64_t junk[3] = { 0x12345, 0x1000, 0x2000 };   /* plausible, wrong */
			fwrite(junk, sizeof(junk), 1, f);
			fclose(f);
		}
		err = kdx_target_open(fpath, &t);
		ok(!err, "flattened with a corrupt index cache opens");
		if (!err) {
			check_pages("flattened, corrupt cache ignored", t);
			kdx_target_close(t);
		}
		kdx_error_destroy(err);
		unlink(cfile);
		rmdir(cdir);
		unsetenv("KDX_CACHE_DIR");
		unsetenv("KDX_FLAT_CACHE_MIN");
	}

	err = kdx_target_open(kpath, &t);
	ok(!err, "open kdump-compressed (libkdumpfile): %s", err ? err->message : "ok");
	if (!err) {
		ok(!strcmp(t->format, "kdump-compressed"), "kdump format name");
		check_meta("kdump", t, 1);
		check_pages("kdump", t);
		kdx_target_close(t);
	}
	kdx_error_destroy(err);

	/* The same logical file through kdx's own reader on a plain file. */
	int fd = open(kpath, O_RDONLY);
	struct kdx_vfile *vf;
	err = kdx_vfile_fd(fd, kpath, &vf);
	if (!err) {
		t = calloc(1, sizeof(*t));
		t->path = strdup(kpath);
		t->panic_cpu = -1;
		err = kdx_diskdump_open(t, vf, "kdump-compressed");
		ok(!err, "kdx's reader on the standard file: %s", err ? err->message : "ok");
		if (!err)
			check_pages("kdx reader", t);
		kdx_target_close(t);
	}
	kdx_error_destroy(err);

	/* Header status "incomplete" (writer out of space): opens, the
	 * missing pages fault with a message that says why. */
	{
		char ipath[256];
		snprintf(ipath, sizeof(ipath), "%s/incomplete.kdump", dir);
		uint32_t status = 1 | 0x8;
		memcpy(b.p + 424, &status, 4);
		/* Keep the descriptors and the first page's data only. */
		uint64_t first_off;
		memcpy(&first_off, b.p + 20480, 8);
		uint32_t first_size;
		memcpy(&first_size, b.p + 20480 + 8, 4);
		write_file(ipath, b.p, first_off + first_size);
		status = 1;
		memcpy(b.p + 424, &status, 4);
		err = kdx_target_open(ipath, &t);
		ok(!err, "incomplete dump opens%s%s", err ? ": " : "", err ? err->message : "");
		if (!err) {
			unsigned char page[PS], want[PS];
			page_pattern(0, want);
			err = t->ops->read_phys(t, 0, page, PS);
			ok(!err && !memcmp(page, want, PS), "incomplete dump: a written page reads");
			kdx_error_destroy(err);
			err = t->ops->read_phys(t, 9 * PS, page, PS);
			ok(err && strstr(err->message, "incomplete"), "incomplete dump: %s",
			   err ? err->message : "(no error)");
			kdx_error_destroy(err);
			err = NULL;
			kdx_target_close(t);
		}
		kdx_error_destroy(err);
		unlink(ipath);
	}

	expect_open_error(tpath, "truncated", "flattened without end marker");
	expect_open_error(t2path, "truncated", "kdump cut inside the descriptors");
	expect_open_error(npath, "is not a kernel dump", "not a dump");
	write_file(npath, "\x1f\x8b\x08\x00rest", 8);
	expect_open_error(npath, "compressed with gzip: decompress it first", "gzip'ed dump");
	ok(kdx_target_probe_file(npath), "probe_file claims a compressed file (to say: decompress)");
	write_file(npath, "hello, world\n", 13);
	expect_open_error("/nonexistent/vmcore", "cannot open", "missing file");

	/* ELF core whose segment lies beyond the end of the file. */
	{
		unsigned char e[sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr)] = { 0 };
		Elf64_Ehdr *eh = (Elf64_Ehdr *)e;
		Elf64_Phdr *ph = (Elf64_Phdr *)(e + sizeof(*eh));
		memcpy(eh->e_ident, ELFMAG, SELFMAG);
		eh->e_ident[EI_CLASS] = ELFCLASS64;
		eh->e_ident[EI_DATA] = ELFDATA2LSB;
		eh->e_ident[EI_VERSION] = EV_CURRENT;
		eh->e_type = ET_CORE;
		eh->e_machine = EM_X86_64;
		eh->e_version = EV_CURRENT;
		eh->e_phoff = sizeof(*eh);
		eh->e_ehsize = sizeof(*eh);
		eh->e_phentsize = sizeof(*ph);
		eh->e_phnum = 1;
		ph->p_type = PT_LOAD;
		ph->p_offset = 4096;
		ph->p_filesz = ph->p_memsz = 1 << 20;
		write_file(epath, e, sizeof(e));
		expect_open_error(epath, "truncated", "ELF segment beyond EOF");
		eh->e_machine = EM_AARCH64;
		write_file(epath, e, sizeof(e));
		expect_open_error(epath, "x86_64 dumps only", "ELF core of another architecture");
	}

	ok(kdx_target_probe_file(fpath) && kdx_target_probe_file(kpath) && !kdx_target_probe_file(npath),
	   "probe_file by magic");

	unlink(kpath);
	unlink(fpath);
	unlink(tpath);
	unlink(t2path);
	unlink(npath);
	unlink(epath);
	rmdir(dir);
	free(b.p);
	return ok_failures ? 1 : 0;
}
