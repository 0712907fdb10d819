/*
 * Stand-ins for the dump-facing kdx functions the probe interpreter links
 * against, so that the fuzz target builds from src/probe/ alone. Without a
 * dump the interpreter never reaches them; if it ever does, abort() makes
 * the fuzzer report it.
 */
#include <stdlib.h>

#include "kernel/list.h"
#include "kernel/tasks.h"
#include "kernel/unwind.h"
#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/value.h"

#define NEVER abort()

void kdx_value_init_int(struct kdx_value *v, struct kdx_type *t, uint64_t u) { NEVER; }
void kdx_value_lvalue(struct kdx_value *v, struct kdx_type *t, uint64_t a) { NEVER; }
void kdx_value_release(struct kdx_value *v) { NEVER; }
struct kdx_error *kdx_value_copy(struct kdx_value *d, const struct kdx_value *s) { NEVER; }
struct kdx_error *kdx_value_as_u64(struct kdx_session *s, const struct kdx_value *v, uint64_t *r) { NEVER; }
struct kdx_error *kdx_value_as_i64(struct kdx_session *s, const struct kdx_value *v, int64_t *r) { NEVER; }
struct kdx_error *kdx_value_member(struct kdx_session *s, const struct kdx_value *v, const char *m, struct kdx_value *r) { NEVER; }
struct kdx_error *kdx_value_deref(struct kdx_session *s, const struct kdx_value *v, struct kdx_value *r) { NEVER; }
struct kdx_error *kdx_value_index(struct kdx_session *s, const struct kdx_value *v, int64_t i, struct kdx_value *r) { NEVER; }
struct kdx_error *kdx_value_address_of(struct kdx_session *s, const struct kdx_value *v, struct kdx_value *r) { NEVER; }
struct kdx_error *kdx_value_symbol(struct kdx_session *s, const char *n, struct kdx_value *r) { NEVER; }
struct kdx_error *kdx_value_string(struct kdx_session *s, const struct kdx_value *v, char *b, size_t l) { NEVER; }
struct kdx_error *kdx_value_format(struct kdx_session *s, const struct kdx_value *v, unsigned f, int i, char **o) { NEVER; }
struct kdx_error *kdx_eval_expr(struct kdx_session *s, const char *e, struct kdx_value *r) { NEVER; }
struct kdx_error *kdx_type_find(struct kdx_types *t, const char *n, struct kdx_type **r) { NEVER; }
struct kdx_type *kdx_type_unqualified(struct kdx_type *t) { NEVER; }
struct kdx_error *kdx_type_complete(struct kdx_types *ts, struct kdx_type *t) { NEVER; }
struct kdx_error *kdx_type_member(struct kdx_types *ts, struct kdx_type *t, const char *p, struct kdx_type **m, uint64_t *o, uint32_t *b) { NEVER; }
struct kdx_error *kdx_member_offset(struct kdx_session *s, const char *sn, const char *m, uint64_t *o) { NEVER; }
struct kdx_error *kdx_type_sizeof(struct kdx_session *s, const char *n, uint64_t *r) { NEVER; }
struct kdx_type *kdx_type_pointer_to(struct kdx_types *ts, struct kdx_type *t) { NEVER; }
char *kdx_type_to_string(struct kdx_type *t, const char *n) { NEVER; }
struct kdx_error *kdx_read_cstr(struct kdx_session *s, uint64_t a, char *b, size_t l) { NEVER; }
struct kdx_error *kdx_read_u64(struct kdx_session *s, uint64_t a, uint64_t *r) { NEVER; }
struct kdx_error *kdx_read_u32(struct kdx_session *s, uint64_t a, uint32_t *r) { NEVER; }
struct kdx_error *kdx_read_u16(struct kdx_session *s, uint64_t a, uint16_t *r) { NEVER; }
struct kdx_error *kdx_read_u8(struct kdx_session *s, uint64_t a, uint8_t *r) { NEVER; }
const struct kdx_symbol *kdx_symbol_by_addr(struct kdx_symtab *st, uint64_t a, uint64_t *o) { NEVER; }
struct kdx_error *kdx_tasks(struct kdx_session *s, struct kdx_task **t, size_t *n) { NEVER; }
const struct kdx_task *kdx_task_by_addr(struct kdx_session *s, uint64_t a) { NEVER; }
const struct kdx_task *kdx_task_panic(struct kdx_session *s) { NEVER; }
const struct kdx_task *kdx_task_current(struct kdx_session *s) { NEVER; }
const char *kdx_task_state_name(struct kdx_session *s, const struct kdx_task *t) { NEVER; }
struct kdx_error *kdx_percpu_offset(struct kdx_session *s, int c, uint64_t *r) { NEVER; }
int kdx_cpu_count(struct kdx_session *s) { NEVER; }
struct kdx_error *kdx_unwind_start(struct kdx_session *s, const struct kdx_task *t, struct kdx_unwind **r) { NEVER; }
struct kdx_error *kdx_unwind_next(struct kdx_unwind *u, struct kdx_frame *f, int *d) { NEVER; }
void kdx_unwind_end(struct kdx_unwind *u) { NEVER; }
struct kdx_error *kdx_list_walk(struct kdx_session *s, const struct kdx_list_walk *w, kdx_list_fn fn, void *arg, uint64_t *c) { NEVER; }
