/*
 * ELF note parsing shared by the formats that carry an ELF note area:
 * ELF vmcores and /proc/kcore (PT_NOTE), kdump-compressed files (the
 * sub-header's offset_note/size_note).
 *
 * Notes of interest:
 *   "CORE" NT_PRSTATUS  one per CPU, in CPU order: pr_pid and pt_regs
 *   "QEMU" (type 0)     one per CPU, in CPU order: QEMUCPUState, which adds
 *                       CR0..CR4, segment bases and KERNEL_GS_BASE
 *   "VMCOREINFO"        the kernel's VMCOREINFO text
 */
#include "targets/target.h"
#include "targets/target_internal.h"

#include <elf.h>
#include <stdlib.h>
#include <string.h>

/* struct elf_prstatus on x86_64: pr_pid at 32, pr_reg (27 x u64) at 112. */
#define PRSTATUS_PID_OFF   32
#define PRSTATUS_REG_OFF   112
#define PRSTATUS_NREG      27

/* QEMUCPUState (QEMU's target/i386/arch_dump.c), little-endian, packed. */
#define QEMU_GPR_OFF       8      /* rax rbx rcx rdx rsi rdi rsp rbp r8..r15 rip rflags */
#define QEMU_SEG_OFF       152    /* cs ds es fs gs ss ldt tr gdt idt, 24 bytes each */
#define QEMU_SEG_SIZE      24
#define QEMU_SEG_BASE      16
#define QEMU_CR_OFF        392
#define QEMU_KGSBASE_OFF   432
#define QEMU_STATE_MIN     432    /* without kernel_gs_base (version 1 has it) */

static int is_kernel_addr(uint64_t a)
{
	return a >= 0xff00000000000000ULL;
}

static unsigned count_valid(struct kdx_target *t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->ncpus; i++)
		n += t->cpus[i].valid;
	return n;
}

static unsigned count_sregs(struct kdx_target *t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < t->ncpus; i++)
		n += t->cpus[i].has_sregs;
	return n;
}

static struct kdx_error *note_prstatus(struct kdx_target *t, const unsigned char *d, size_t n)
{
	if (n < PRSTATUS_REG_OFF + PRSTATUS_NREG * 8)
		return NULL;
	unsigned cpu = count_valid(t);
	struct kdx_error *err = kdx_target_cpus_reserve(t, cpu);
	if (err)
		return err;
	struct kdx_cpu_regs *c = &t->cpus[cpu];
	c->valid = 1;
	c->pid = (int)kdx_le32(d + PRSTATUS_PID_OFF);
	for (int i = 0; i < PRSTATUS_NREG; i++)
		c->r[i] = kdx_le64(d + PRSTATUS_REG_OFF + 8 * i);
	if (c->has_sregs) {
		c->r[KDX_REG_CR3] = c->cr[3];
		if (!c->percpu_base && is_kernel_addr(c->r[KDX_REG_GS_BASE]))
			c->percpu_base = c->r[KDX_REG_GS_BASE];
	} else if (is_kernel_addr(c->r[KDX_REG_GS_BASE])) {
		c->percpu_base = c->r[KDX_REG_GS_BASE];
	}
	return NULL;
}

static struct kdx_error *note_qemu(struct kdx_target *t, const unsigned char *d, size_t n)
{
	if (n < QEMU_STATE_MIN)
		return NULL;
	unsigned cpu = count_sregs(t);
	struct kdx_error *err = kdx_target_cpus_reserve(t, cpu);
	if (err)
		return err;
	struct kdx_cpu_regs *c = &t->cpus[cpu];
	static const enum kdx_reg gpr[18] = {
		KDX_REG_RAX, KDX_REG_RBX, KDX_REG_RCX, KDX_REG_RDX, KDX_REG_RSI,
		KDX_REG_RDI, KDX_REG_RSP, KDX_REG_RBP, KDX_REG_R8, KDX_REG_R9,
		KDX_REG_R10, KDX_REG_R11, KDX_REG_R12, KDX_REG_R13, KDX_REG_R14,
		KDX_REG_R15, KDX_REG_RIP, KDX_REG_EFLAGS,
	};
	/* Segment order in the note: cs ds es fs gs ss. */
	static const enum kdx_reg seg[6] = {
		KDX_REG_CS, KDX_REG_DS, KDX_REG_ES, KDX_REG_FS, KDX_REG_GS, KDX_REG_SS,
	};
	if (!c->valid) {
		/* No PRSTATUS (yet) for this CPU: take the registers from here.
		 * A later PRSTATUS note overrides them. */
		for (int i = 0; i < 18; i++)
			c->r[gpr[i]] = kdx_le64(d + QEMU_GPR_OFF + 8 * i);
		for (int i = 0; i < 6; i++)
			c->r[seg[i]] = kdx_le32(d + QEMU_SEG_OFF + QEMU_SEG_SIZE * i);
		c->r[KDX_REG_FS_BASE] = kdx_le64(d + QEMU_SEG_OFF + QEMU_SEG_SIZE * 3 + QEMU_SEG_BASE);
		c->r[KDX_REG_GS_BASE] = kdx_le64(d + QEMU_SEG_OFF + QEMU_SEG_SIZE * 4 + QEMU_SEG_BASE);
	}
	c->has_sregs = 1;
	for (int i = 0; i < 5; i++)
		c->cr[i] = kdx_le64(d + QEMU_CR_OFF + 8 * i);
	c->kernel_gs_base = n >= QEMU_KGSBASE_OFF + 8 ? kdx_le64(d + QEMU_KGSBASE_OFF) : 0;
	c->has_cr3 = 1;
	c->r[KDX_REG_CR3] = c->cr[3];
	uint64_t gs = kdx_le64(d + QEMU_SEG_OFF + QEMU_SEG_SIZE * 4 + QEMU_SEG_BASE);
	if (is_kernel_addr(gs))
		c->percpu_base = gs;
	else if (is_kernel_addr(c->kernel_gs_base))
		c->percpu_base = c->kernel_gs_base;
	return NULL;
}

struct kdx_error *kdx_notes_parse(struct kdx_target *t, const void *buf, size_t len)
{
	const unsigned char *p = buf, *end = p + len;
	struct kdx_error *err = NULL;

	while ((size_t)(end - p) >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		memcpy(&nh, p, sizeof(nh));
		/* round up in size_t: n_namesz + 3 wraps to 0 in 32 bits */
		size_t namesz = ((size_t)nh.n_namesz + 3) & ~(size_t)3;
		size_t descsz = ((size_t)nh.n_descsz + 3) & ~(size_t)3;
		const unsigned char *name = p + sizeof(nh);
		if (nh.n_namesz == 0 && nh.n_descsz == 0 && nh.n_type == 0)
			break;      /* zero padding at the end of the note area */
		if (namesz > (size_t)(end - name) || descsz > (size_t)(end - name) - namesz)
			break;
		const unsigned char *desc = name + namesz;
		size_t nlen = nh.n_namesz;
		while (nlen && name[nlen - 1] == '\0')
			nlen--;
		if (nlen == 4 && memcmp(name, "CORE", 4) == 0 && nh.n_type == NT_PRSTATUS)
			err = note_prstatus(t, desc, nh.n_descsz);
		else if (nlen == 4 && memcmp(name, "QEMU", 4) == 0)
			err = note_qemu(t, desc, nh.n_descsz);
		else if (nlen == 10 && memcmp(name, "VMCOREINFO", 10) == 0)
			err = kdx_target_set_vmcoreinfo(t, (const char *)desc, nh.n_descsz);
		if (err)
			return err;
		p = desc + descsz;
	}
	return NULL;
}
