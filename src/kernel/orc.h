/*
 * ORC unwind tables of x86_64 kernels: vmlinux's .orc_unwind_ip /
 * .orc_unwind (read from the vmlinux file, relocated by KASLR) and each
 * module's mod->arch.orc_unwind_ip / orc_unwind (read from the dump).
 *
 * Entries are decoded through the DWARF layout of struct orc_entry (the
 * bit fields moved between kernel versions: type:2 + end:1 up to 6.3,
 * type:3 + signal:1 after) and normalized into struct kdx_orc.
 */
#ifndef KDX_ORC_H
#define KDX_ORC_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

/* ORC_REG_* values (identical in every kernel that has ORC). */
enum {
	KDX_ORC_REG_UNDEFINED = 0,
	KDX_ORC_REG_PREV_SP = 1,
	KDX_ORC_REG_DX = 2,
	KDX_ORC_REG_DI = 3,
	KDX_ORC_REG_BP = 4,
	KDX_ORC_REG_SP = 5,
	KDX_ORC_REG_R10 = 6,
	KDX_ORC_REG_R13 = 7,
	KDX_ORC_REG_BP_INDIRECT = 8,
	KDX_ORC_REG_SP_INDIRECT = 9,
};

/* Normalized entry types. */
enum kdx_orc_type {
	KDX_ORC_UNDEFINED,      /* no unwind information: an error to unwind through */
	KDX_ORC_END_OF_STACK,   /* the outermost frame (ret_from_fork of kthreads...) */
	KDX_ORC_CALL,           /* a normal call frame: return address at CFA - 8 */
	KDX_ORC_REGS,           /* a full struct pt_regs at CFA */
	KDX_ORC_REGS_PARTIAL,   /* an IRET frame (ip, cs, flags, sp, ss) at CFA */
};

struct kdx_orc {
	int sp_offset;
	int bp_offset;
	int sp_reg;
	int bp_reg;
	enum kdx_orc_type type;
	int signal;             /* the frame's ip is exact (not a return address) */
};

/* Where a field of struct orc_entry lives (bit offset and size, from DWARF). */
struct kdx_orc_field {
	uint32_t off, bits;
	int sign, ok;
};

/* Bit layout of struct orc_entry. */
struct kdx_orc_layout {
	size_t size;            /* sizeof(struct orc_entry), at most 8 */
	struct kdx_orc_field sp_offset, bp_offset, sp_reg, bp_reg, type, end, signal;
	int new_types;          /* type:3 numbering (6.4+: UNDEFINED=0, END_OF_STACK=1, CALL=2...) */
};

/* Decode one raw entry (LAYOUT.size little-endian bytes at RAW). */
void kdx_orc_decode(const struct kdx_orc_layout *layout, const unsigned char *raw,
		    struct kdx_orc *ret);

/*
 * The ORC entry covering runtime address IP (vmlinux, or a loaded module).
 * *FOUND is 0 when no table covers IP (code without ORC: BPF, a module
 * without tables, a bad address).
 */
struct kdx_error *kdx_orc_find(struct kdx_session *s, uint64_t ip, struct kdx_orc *ret,
			       int *found);

/* Is ADDR inside the text of a loaded module that has ORC tables? (Module
 * text is text even before module symbols are loaded.) */
int kdx_orc_module_text(struct kdx_session *s, uint64_t addr);

#endif
