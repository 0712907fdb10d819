/*
 * DWARF types (libdw), looked up lazily by name, with an on-disk index keyed
 * by the vmlinux build-id so that a second start does not re-index.
 *
 * Types are immutable once built and owned by the type table (freed with the
 * session). Struct members are loaded when first needed.
 */
#ifndef KDX_TYPES_H
#define KDX_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

enum kdx_type_kind {
	KDX_TYPE_VOID,
	KDX_TYPE_INT,        /* also char, _Bool (is_bool) */
	KDX_TYPE_FLOAT,
	KDX_TYPE_POINTER,
	KDX_TYPE_STRUCT,
	KDX_TYPE_UNION,
	KDX_TYPE_ENUM,
	KDX_TYPE_ARRAY,
	KDX_TYPE_FUNCTION,
	KDX_TYPE_TYPEDEF,
};

enum {
	KDX_QUAL_CONST = 1,
	KDX_QUAL_VOLATILE = 2,
};

struct kdx_type;

struct kdx_member {
	const char *name;       /* NULL for an anonymous struct/union member */
	struct kdx_type *type;
	uint64_t bit_offset;    /* from the start of the enclosing struct */
	uint32_t bit_size;      /* 0 unless a bit field */
};

struct kdx_enumerator {
	const char *name;
	int64_t value;
};

struct kdx_type {
	enum kdx_type_kind kind;
	const char *name;       /* tag for struct/union/enum ("task_struct"), base name, typedef name; NULL if anonymous */
	uint64_t size;          /* bytes; 0 for void/function/incomplete */
	int is_signed;
	int is_bool;
	int is_char;
	unsigned qualifiers;    /* KDX_QUAL_* applied to this type */
	int incomplete;         /* declaration only */
	struct kdx_type *target;    /* pointer/typedef/array element/function return/enum compat type */
	uint64_t nelem;         /* array element count */
	int nelem_known;        /* 0 for flexible arrays [] */
	size_t nmembers;
	struct kdx_member *members;
	size_t nenumerators;
	struct kdx_enumerator *enumerators;
	size_t nparams;
	struct kdx_type **params;
	int variadic;
	void *priv;             /* owned by types.c (DIE reference for lazy loading);
				 * NULL in a type built outside the table (tests,
				 * literals): such a type is taken as complete */
};

struct kdx_types;

/* Open the DWARF of VMLINUX; uses/creates the index cache in CACHE_DIR
 * (NULL: $XDG_CACHE_HOME/kdx or ~/.cache/kdx). */
struct kdx_error *kdx_types_open(const char *vmlinux, const char *cache_dir,
				 struct kdx_types **ret);
void kdx_types_destroy(struct kdx_types *types);

/* Add a module's debuginfo, relocated by its section bases (for mod -s). */
struct kdx_error *kdx_types_add_module(struct kdx_types *types, const char *module,
				       const char *path, const char *const *section_names,
				       const uint64_t *section_addrs, size_t nsections);

/* Find a type by C name: "struct task_struct", "union thread_union", "enum pid_type",
 * "int", "unsigned long", "pid_t", "struct list_head *", "char [16]". */
struct kdx_error *kdx_type_find(struct kdx_types *types, const char *name, struct kdx_type **ret);

/* Find a global variable's type and (unrelocated DWARF) address.
 * vmlinux is searched first, then loaded modules; "module:name" searches one
 * module only. A module variable's address is its runtime address (module
 * debuginfo is relocated when loaded): do not add the KASLR offset to it
 * (kdx_variable_find_ex tells which). */
struct kdx_error *kdx_variable_find(struct kdx_types *types, const char *name,
				    struct kdx_type **type, uint64_t *dwarf_addr);

/* Strip typedefs (and qualifiers): the underlying type. */
struct kdx_type *kdx_type_unqualified(struct kdx_type *t);

/* Make sure members/enumerators are loaded (no-op if already). */
struct kdx_error *kdx_type_complete(struct kdx_types *types, struct kdx_type *t);

/* Member by path "a.b.c" (descending into anonymous members, arrays "a[2]" allowed);
 * bit offset from the start of T. */
struct kdx_error *kdx_type_member(struct kdx_types *types, struct kdx_type *t, const char *path,
				  struct kdx_type **mtype, uint64_t *bit_offset, uint32_t *bit_size);

/* Byte offset of MEMBER in struct/union STRUCT_NAME ("task_struct" or
 * "struct task_struct"); cached. For walkers. */
struct kdx_error *kdx_member_offset(struct kdx_session *s, const char *struct_name,
				    const char *member, uint64_t *offset);
/* Size of a type by name; cached. */
struct kdx_error *kdx_type_sizeof(struct kdx_session *s, const char *type_name, uint64_t *size);

/* A pointer-to-T type (created on demand, owned by the table). */
struct kdx_type *kdx_type_pointer_to(struct kdx_types *types, struct kdx_type *t);

/* C spelling of a type: "struct list_head *", "char [16]", "int (*)(void)".
 * If NAME is non-NULL it is placed as a declarator ("char comm[16]").
 * Returns malloc'd string. */
char *kdx_type_to_string(struct kdx_type *t, const char *name);

/* Source location of the code at runtime address ADDR ("kernel/sched/core.c", 6356).
 * vmlinux addresses have the session's KASLR offset removed; module
 * addresses resolve once their debuginfo is loaded. For a return address
 * (caller frames in bt -l) pass ADDR - 1 to get the line of the call, not
 * of the instruction after it (which may be another line or function). */
struct kdx_error *kdx_addr_to_line(struct kdx_session *s, uint64_t addr, const char **file, int *line);

/* Names of all types / functions for completion (iterate; stop when fn != 0). */
int kdx_types_for_each_name(struct kdx_types *types, int (*fn)(const char *name, void *arg), void *arg);

/*
 * Beyond the original interface.
 *
 * Note on laziness: a struct reached only through a pointer (t->target of a
 * pointer) has no members loaded until kdx_type_complete or
 * kdx_type_unqualified is called on it. Everything returned by
 * kdx_type_find / kdx_variable_find and every by-value member of a completed
 * struct is already complete.
 */

/* kdx_variable_find plus: *MODULE (NULL for vmlinux: then DWARF_ADDR is
 * unrelocated; for a module it is already the runtime address), *IS_PERCPU (the address is an offset into the
 * per-cpu area, .data..percpu: add __per_cpu_offset[cpu]), *IS_FUNCTION
 * (NAME is a function; TYPE is its function type, address its entry).
 * Any out pointer may be NULL. */
struct kdx_error *kdx_variable_find_ex(struct kdx_types *types, const char *name,
				       struct kdx_type **type, uint64_t *dwarf_addr,
				       int *is_percpu, int *is_function, const char **module);
/* Is DWARF_ADDR (unrelocated) inside vmlinux's .data..percpu section? */
int kdx_types_addr_is_percpu(struct kdx_types *types, uint64_t dwarf_addr);

/* Runtime address of a global for the session: vmlinux variables get the
 * KASLR offset (per-cpu ones do not: they are offsets into each CPU's
 * area), module variables are already relocated. FLAGS gets KDX_VAR_*. */
enum {
	KDX_VAR_PERCPU = 1,
	KDX_VAR_FUNCTION = 2,
	KDX_VAR_MODULE = 4,
};
struct kdx_error *kdx_variable_lookup(struct kdx_session *s, const char *name,
				      struct kdx_type **type, uint64_t *addr, unsigned *flags);

/* A function's [LO, HI) code range from DWARF (unrelocated for vmlinux;
 * *MODULE NULL), e.g. for probes and `dis`. */
struct kdx_error *kdx_function_range(struct kdx_types *types, const char *name, uint64_t *lo,
				     uint64_t *hi, const char **module);

/* An enumeration constant by name ("PIDTYPE_PID", "TASK_COMM_LEN"): its
 * enum type and value. */
struct kdx_error *kdx_enumerator_find(struct kdx_types *types, const char *name,
				      struct kdx_type **type, int64_t *value);

/* Session-free forms of kdx_member_offset / kdx_type_sizeof (same caches). */
struct kdx_error *kdx_struct_member_offset(struct kdx_types *types, const char *struct_name,
					   const char *member, uint64_t *offset);
struct kdx_error *kdx_types_sizeof(struct kdx_types *types, const char *type_name, uint64_t *size);

/* Derived types owned by the table: T[N] (KNOWN=0 for T[]), and void. */
struct kdx_type *kdx_type_array_of(struct kdx_types *types, struct kdx_type *t, uint64_t n,
				   int known);
struct kdx_type *kdx_type_void(struct kdx_types *types);

/* kdx_addr_to_line without a session: KASLR is the vmlinux offset; module
 * addresses are used as they are. FILE is owned by the table. */
struct kdx_error *kdx_types_addr_to_line(struct kdx_types *types, uint64_t addr, uint64_t kaslr,
					 const char **file, int *line);

/*
 * The functions inlined at runtime address ADDR, innermost first, ending
 * with the out-of-line function that contains them (drgn-style inline
 * frames for bt -l). FRAMES[0] has ADDR's own file:line; each outer frame
 * has the line where it calls the frame before it. At most MAX frames; *N
 * gets the count. Strings are owned by the table. (As for lines, pass
 * ADDR - 1 for a return address.)
 */
struct kdx_inline_frame {
	const char *function;
	const char *file;       /* NULL if unknown */
	int line;               /* 0 if unknown */
	int inlined;            /* 0 for the last, out-of-line frame */
};
struct kdx_error *kdx_addr_inline_frames(struct kdx_session *s, uint64_t addr,
					 struct kdx_inline_frame *frames, size_t max, size_t *n);
struct kdx_error *kdx_types_inline_frames(struct kdx_types *types, uint64_t addr, uint64_t kaslr,
					  struct kdx_inline_frame *frames, size_t max, size_t *n);

/* How the index was obtained (for diagnostics and tests). */
void kdx_types_index_stats(struct kdx_types *types, int *from_cache, double *build_seconds,
			   size_t *nentries);

#endif
