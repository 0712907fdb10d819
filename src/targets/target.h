/*
 * Targets: memory sources behind one interface.
 *
 * A target turns "physical address" (and, where the source has it natively,
 * "kernel virtual address") into bytes, and provides what the dump itself
 * records: VMCOREINFO, per-CPU registers, page size, the crash time. A target
 * never knows a kernel type. Kernel-virtual translation through page tables
 * lives in mem.h, above the target.
 *
 * Implementations: kdump.c (ELF vmcore; standard kdump-compressed through
 * diskdump.c; libkdumpfile with KDX_LIBKDUMPFILE=1 or as a fallback),
 * flat.c (makedumpfile flattened format: record index, then diskdump.c),
 * kcore.c (/proc/kcore of the running kernel), notes.c (ELF notes shared by
 * all). doc/targets.md describes formats, errors and the layout bootstrap.
 */
#ifndef KDX_TARGET_H
#define KDX_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* x86_64 registers in pt_regs order (the same order as ELF PRSTATUS). */
enum kdx_reg {
	KDX_REG_R15, KDX_REG_R14, KDX_REG_R13, KDX_REG_R12, KDX_REG_RBP,
	KDX_REG_RBX, KDX_REG_R11, KDX_REG_R10, KDX_REG_R9, KDX_REG_R8,
	KDX_REG_RAX, KDX_REG_RCX, KDX_REG_RDX, KDX_REG_RSI, KDX_REG_RDI,
	KDX_REG_ORIG_RAX, KDX_REG_RIP, KDX_REG_CS, KDX_REG_EFLAGS,
	KDX_REG_RSP, KDX_REG_SS,
	KDX_REG_FS_BASE, KDX_REG_GS_BASE, KDX_REG_DS, KDX_REG_ES,
	KDX_REG_FS, KDX_REG_GS,
	KDX_REG_CR3,    /* from QEMU's CPU state note when present */
	KDX_NR_REGS,
};

struct kdx_cpu_regs {
	int valid;          /* registers were found for this CPU */
	int pid;            /* pr_pid of the PRSTATUS note (0 if unknown) */
	int has_cr3;
	uint64_t r[KDX_NR_REGS];
	/* Added by targets: system registers from QEMU's CPU state note. */
	int has_sregs;          /* cr[], kernel_gs_base, percpu_base are valid */
	uint64_t cr[5];         /* CR0..CR4 (CR4 bit 12 = LA57: 5-level paging) */
	uint64_t kernel_gs_base;    /* MSR_KERNEL_GS_BASE (swapped GS) */
	/* GS base as the kernel sees it = this CPU's per-CPU offset
	 * (__per_cpu_offset[cpu]); whichever of GS base / KERNEL_GS_BASE is a
	 * kernel address. 0 if unknown. */
	uint64_t percpu_base;
};

struct kdx_target;

struct kdx_target_ops {
	/* Read LEN bytes at physical address PADDR. Fault error if any byte is
	 * missing from the dump (filtered page, hole, truncated file). */
	struct kdx_error *(*read_phys)(struct kdx_target *t, uint64_t paddr,
				       void *buf, size_t len);
	/* Optional: read kernel virtual memory natively (kcore). NULL if the
	 * source only knows physical memory; mem.c then walks page tables. */
	struct kdx_error *(*read_kvaddr)(struct kdx_target *t, uint64_t vaddr,
					 void *buf, size_t len);
	void (*close)(struct kdx_target *t);
};

struct kdx_target {
	const struct kdx_target_ops *ops;
	void *priv;
	char *path;
	const char *format;     /* "ELF vmcore", "kdump-compressed", "flattened kdump", "live /proc/kcore" */
	int live;               /* running kernel */
	uint64_t page_size;
	char *vmcoreinfo;       /* NUL-terminated VMCOREINFO text, or NULL */
	unsigned ncpus;         /* number of CPUs with register records (may be 0) */
	struct kdx_cpu_regs *cpus;  /* ncpus entries, index = CPU number */
	int64_t crash_time;     /* seconds since epoch from the dump header, or 0 */
	uint64_t max_phys;      /* highest physical address + 1 covered by the dump */
	int panic_cpu;          /* CPU recorded by the dump header as crashing, or -1 */
	/* Added by targets: live kcore's direct map base (p_vaddr - p_paddr of
	 * its RAM segments), i.e. page_offset_base; 0 if the source has none. */
	uint64_t direct_map_base;
	/* kdump-compressed: the sub-header's dump_level (makedumpfile -d
	 * bitmask of excluded page kinds; QEMU writes 1 with every page
	 * present); -1 for other formats. */
	int dump_level;
};

/*
 * Open PATH as a dump, detecting the format by content; PATH "/proc/kcore"
 * (or NULL) opens the live kernel. One-line errors for files that are not
 * dumps, truncated dumps and unreadable files.
 */
struct kdx_error *kdx_target_open(const char *path, struct kdx_target **ret);
void kdx_target_close(struct kdx_target *t);

/* Does the file at PATH look like a dump (by magic)? Also true for a
 * gzip/xz/zstd/bzip2-compressed file, which kdx_target_open then refuses
 * with "decompress it first". */
int kdx_target_probe_file(const char *path);

/* VMCOREINFO lookups: "OSRELEASE", "SYMBOL(init_top_pgt)", "NUMBER(phys_base)",
 * "OFFSET(list_head.next)", "KERNELOFFSET". Returns NULL / error if absent. */
const char *kdx_vmcoreinfo_get(struct kdx_target *t, const char *key, size_t *len);
struct kdx_error *kdx_vmcoreinfo_u64(struct kdx_target *t, const char *key, int base, uint64_t *ret);

#endif
