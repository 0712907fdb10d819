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
	KDX_FMT_TYPED = 16,      /* top level as gdb's print: "(struct x *) 0x..." */
	KDX_FMT_OFFSETS = 32,    /* type definitions: "[off]" column (struct -o) */
	KDX_FMT_REPEATS = 64,    /* gdb's "<repeats N times>" for runs (crash turns it off) */
	KDX_FMT_RAW_HEX = 128,   /* gdb's print/x: every scalar in hex, no <symbol>, char arrays as numbers */
};
struct kdx_error *kdx_value_format(struct kdx_session *s, const struct kdx_value *v,
				   unsigned flags, int indent, char **out);

/*
 * A type's definition as crash's `struct`/`whatis` print it:
 *   struct list_head {
 *       struct list_head *next;
 *       struct list_head *prev;
 *   }
 *   SIZE: 16
 * FLAGS: KDX_FMT_OFFSETS adds the "[offset]" column, KDX_FMT_HEX prints
 * offsets and SIZE in hex. No trailing newline after SIZE.
 */
struct kdx_error *kdx_type_format_definition(struct kdx_session *s, struct kdx_type *t,
					     unsigned flags, char **out);
/* The same with each member's address ("[ffff888003a1c8c8] ...") instead of
 * its offset when AT_ADDRESS (struct -o ADDR); needs KDX_FMT_OFFSETS. */
struct kdx_error *kdx_type_format_definition_at(struct kdx_session *s, struct kdx_type *t,
						unsigned flags, int at_address, uint64_t address,
						char **out);

/* kdx_type_to_string with base types spelled as gdb and crash print them
 * ("unsigned long", not DWARF's "long unsigned int"). Malloc'd. */
char *kdx_type_c_string(struct kdx_type *t, const char *name);

/* Parse and evaluate a C expression ("init_task.comm", "(struct task_struct *)0xffff...->pid",
 * "&init_task", "jiffies * 2", "sizeof(struct page)"). */
struct kdx_error *kdx_eval_expr(struct kdx_session *s, const char *expr, struct kdx_value *ret);

/* Like kdx_eval_expr, but per-CPU variables in EXPR (x86_64: linked in
 * .data..percpu at small offsets) are taken on CPU: "runqueues.nr_running"
 * evaluated for CPU 1 is per_cpu(runqueues, 1).nr_running. CPU < 0: as
 * kdx_eval_expr (a per-CPU variable then is its offset). */
struct kdx_error *kdx_eval_expr_cpu(struct kdx_session *s, const char *expr, int cpu,
				    struct kdx_value *ret);
/*
 * The address an address argument (rd, struct ADDR) names, as crash reads
 * it: a hex number (no 0x needed); else the C expression EXPR evaluated as
 * kdx_eval_expr_cpu does on CPU: an object in memory of struct, union or
 * array type gives its own address, anything else its value.
 */
struct kdx_error *kdx_eval_address(struct kdx_session *s, const char *expr, int cpu,
				   uint64_t *addr);
/* Parse a C type name ("struct task_struct *", "unsigned long", "pid_t"). */
struct kdx_error *kdx_eval_type(struct kdx_session *s, const char *text, struct kdx_type **ret);

/* Value history (gdb's $N): remember V as number N (p's "$N = ");
 * kdx_value_history_get: N > 0 that number, N <= 0 the N-th before the
 * last ($ is 0, $$ is -1). Values are copied; the last 256 are kept. */
void kdx_value_history_add(struct kdx_session *s, const struct kdx_value *v, unsigned n);
struct kdx_error *kdx_value_history_get(struct kdx_session *s, long n, struct kdx_value *ret);

/* --- helpers shared by value.c, eval.c, format.c and the commands --- */

/* T with typedefs peeled off (qualified types keep their kind). */
struct kdx_type *kdx_value_type_bare(struct kdx_type *t);
/* Truncate U to TYPE's size and sign-extend signed types. */
uint64_t kdx_value_normalize(struct kdx_type *type, uint64_t u);
/* Scalar of TYPE at BUF (bit field at BIT_OFFSET/BIT_SIZE if BIT_SIZE). BUF
 * must have 16 readable bytes past the value. */
uint64_t kdx_value_scalar_from_bytes(struct kdx_type *type, const unsigned char *buf,
				     uint64_t bit_offset, uint32_t bit_size);
/* kdx_read with a message that names the size and the address. */
struct kdx_error *kdx_value_read_mem(struct kdx_session *s, uint64_t addr, void *buf, size_t len);
/* The value's bytes (one read for an lvalue); *BUFP is malloc'd with 16
 * spare zero bytes at the end. */
struct kdx_error *kdx_value_fetch(struct kdx_session *s, const struct kdx_value *v,
				  unsigned char **bufp, size_t *lenp);
/* Is ADDR (a DWARF/ELF variable address) a per-CPU offset? */
int kdx_value_is_percpu_addr(uint64_t addr);

#endif
