/*
 * Parameters and local variables of a stack frame, from DWARF: what is in
 * scope at a code address, and where each one lives given what the frame
 * knows (CFA, registers). For `bt -FF`-style output and the probe
 * language's `$var` in task.frame probes.
 *
 * Only what the frame really has is used: in a caller frame an unwinder
 * based on ORC knows the CFA, the stack pointer and the frame pointer, not
 * the other callee-saved registers, so a variable kept in rbx there is
 * reported as unavailable rather than guessed.
 */
#ifndef KDX_FRAME_VARS_H
#define KDX_FRAME_VARS_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "symbols/types.h"
#include "targets/target.h"

struct kdx_session;

struct kdx_frame_var {
	const char *name;
	struct kdx_type *type;
	int is_param;
	const char *function;   /* the function (maybe inlined) it belongs to */
};

/*
 * Variables in scope at runtime address PC, innermost scope first (block
 * locals, then the innermost inlined function's, ... then the out-of-line
 * function's parameters and locals); a shadowed name appears once. PC of a
 * caller frame: pass the return address - 1. *VARS is malloc'd (free it);
 * strings and types are owned by the table.
 */
struct kdx_error *kdx_types_frame_vars(struct kdx_types *types, uint64_t pc, uint64_t kaslr,
				       struct kdx_frame_var **vars, size_t *n);

enum kdx_var_loc_kind {
	KDX_LOC_MEMORY,         /* the object is at ADDR in target memory */
	KDX_LOC_REGISTER,       /* in register REG; VALUE holds it if VALUE_KNOWN */
	KDX_LOC_VALUE,          /* no storage: VALUE is the value (computed/implicit) */
	KDX_LOC_OPTIMIZED_OUT,  /* no location at this PC */
	KDX_LOC_UNAVAILABLE,    /* needs a register or memory the frame lacks (WHY) */
};

struct kdx_var_location {
	enum kdx_var_loc_kind kind;
	uint64_t addr;
	int reg;                /* enum kdx_reg */
	uint64_t value;
	int value_known;
	char why[96];
};

/* What a frame knows. VALID has bit (1 << enum kdx_reg) for each register
 * in REGS that holds the frame's value (RSP: the stack pointer at PC). */
struct kdx_frame_regs {
	uint64_t pc;            /* runtime; a caller frame's return address - 1 */
	uint64_t cfa;           /* 0 if unknown */
	uint64_t regs[KDX_NR_REGS];
	uint64_t valid;
};

/* Read 8 bytes of target memory (for DW_OP_deref). */
typedef struct kdx_error *(*kdx_read_u64_fn)(void *arg, uint64_t addr, uint64_t *val);

/*
 * Where variable NAME (in scope at FR->pc, as listed above) lives in the
 * frame: its DWARF location evaluated at that PC. READ may be NULL (then
 * expressions that dereference memory are unavailable). *TYPE gets its type.
 */
struct kdx_error *kdx_types_frame_var_locate(struct kdx_types *types, uint64_t kaslr,
					     const struct kdx_frame_regs *fr, const char *name,
					     kdx_read_u64_fn read, void *arg,
					     struct kdx_type **type, struct kdx_var_location *loc);

/* Session form: reads through kdx_read_u64, KASLR from the session. */
struct kdx_error *kdx_frame_var_locate(struct kdx_session *s, const struct kdx_frame_regs *fr,
				       const char *name, struct kdx_type **type,
				       struct kdx_var_location *loc);

/* enum kdx_reg for DWARF x86_64 register number DWREG, or -1. */
int kdx_dwarf_reg_to_kdx(int dwreg);

#endif
