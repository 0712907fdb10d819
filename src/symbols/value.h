/*
 * Typed values: a DWARF type plus either an address in the target (an
 * lvalue) or inline bytes (an rvalue). Used by the C expression evaluator
 * (p, struct ADDR, whatis) and by the probe language, so that
 * `$task->mm->mmap_base` and `p init_task.comm` share one implementation.
 */
#ifndef KDX_VALUE_H
#define KDX_VALUE_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "symbols/types.h"

struct kdx_session;

struct kdx_value {
	struct kdx_type *type;
	int is_lvalue;          /* lives in target memory at ADDR */
	uint64_t addr;
	uint64_t bit_offset;    /* bit field: offset within the byte at ADDR */
	uint32_t bit_size;      /* 0 if not a bit field */
	/* rvalue storage: scalars in u/i/f; larger aggregates in BYTES (malloc'd) */
	union {
		uint64_t u;
		int64_t i;
		double f;
	};
	unsigned char *bytes;
	size_t nbytes;
};

void kdx_value_init_int(struct kdx_value *v, struct kdx_type *type, uint64_t u);
void kdx_value_lvalue(struct kdx_value *v, struct kdx_type *type, uint64_t addr);
void kdx_value_release(struct kdx_value *v);
struct kdx_error *kdx_value_copy(struct kdx_value *dst, const struct kdx_value *src);

/* Read the value as an integer/pointer (reads memory for lvalues). */
struct kdx_error *kdx_value_as_u64(struct kdx_session *s, const struct kdx_value *v, uint64_t *ret);
struct kdx_error *kdx_value_as_i64(struct kdx_session *s, const struct kdx_value *v, int64_t *ret);
/* Member access: v.member (v must be struct/union) and v->member (pointer). */
struct kdx_error *kdx_value_member(struct kdx_session *s, const struct kdx_value *v,
				   const char *member, struct kdx_value *ret);
struct kdx_error *kdx_value_deref(struct kdx_session *s, const struct kdx_value *v,
				  struct kdx_value *ret);
struct kdx_error *kdx_value_index(struct kdx_session *s, const struct kdx_value *v,
				  int64_t index, struct kdx_value *ret);
struct kdx_error *kdx_value_address_of(struct kdx_session *s, const struct kdx_value *v,
				       struct kdx_value *ret);
/* Value of a global symbol: variable with its DWARF type (or a function). */
struct kdx_error *kdx_value_symbol(struct kdx_session *s, const char *name, struct kdx_value *ret);
/* Read a C string the value points to / contains (char *, char[N]). */
struct kdx_error *kdx_value_string(struct kdx_session *s, const struct kdx_value *v,
				   char *buf, size_t len);

/*
 * Pretty-print a value crash-style. Structs print as
 *   struct task_struct {
 *     state = 0x1,
 *     ...
 *   }
 * FLAGS: KDX_FMT_HEX / KDX_FMT_DEC override the session radix;
 * KDX_FMT_ONELINE prints {.a = 1, .b = 2} on one line (probe `$var$`).
 */
enum {
	KDX_FMT_HEX = 1,
	KDX_FMT_DEC = 2,
	KDX_FMT_ONELINE = 4,
	KDX_FMT_NO_NESTED = 8,   /* `$var$`: do not expand nested structs */
};
struct kdx_error *kdx_value_format(struct kdx_session *s, const struct kdx_value *v,
				   unsigned flags, int indent, char **out);

/* Parse and evaluate a C expression ("init_task.comm", "(struct task_struct *)0xffff...->pid",
 * "&init_task", "jiffies * 2", "sizeof(struct page)"). */
struct kdx_error *kdx_eval_expr(struct kdx_session *s, const char *expr, struct kdx_value *ret);

#endif
