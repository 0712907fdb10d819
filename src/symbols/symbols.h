/*
 * Symbols: the vmlinux ELF symbol table (relocated by the KASLR offset) and
 * module symbols (from the dump's module kallsyms, or from module debuginfo
 * loaded with `mod -s`). Lookups by name and by address.
 */
#ifndef KDX_SYMBOLS_H
#define KDX_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

struct kdx_symbol {
	const char *name;
	uint64_t addr;          /* relocated (runtime) address */
	uint64_t size;          /* 0 if unknown; code symbols: as kallsyms
				 * reports it (through the alignment padding
				 * up to the next symbol) */
	char type;              /* nm-style: T t D d B b R r A W ... */
	const char *module;     /* NULL for vmlinux */
};

struct kdx_symtab;

/* Load the ELF symbol table of VMLINUX (unrelocated). */
struct kdx_error *kdx_symtab_load_vmlinux(const char *vmlinux, struct kdx_symtab **ret);
void kdx_symtab_destroy(struct kdx_symtab *st);

/* Relocation applied to every vmlinux symbol (KASLR). */
void kdx_symtab_set_offset(struct kdx_symtab *st, uint64_t offset);

/* Add a module's symbols (addresses already relocated). NAME of the module is
 * copied. Replaces an earlier set for the same module. */
struct kdx_error *kdx_symtab_add_module(struct kdx_symtab *st, const char *module,
					const struct kdx_symbol *syms, size_t n);

/* The address range [LO, HI) of a module added above (its memory from the
 * dump: core layout base + size). Addresses in it resolve only to that
 * module's symbols; unsized last symbols extend to HI. Without it the range
 * runs from the lowest symbol to the page end after the highest. */
struct kdx_error *kdx_symtab_set_module_range(struct kdx_symtab *st, const char *module,
					      uint64_t lo, uint64_t hi);

/* Name -> symbol. MODULE may be NULL (search vmlinux first, then modules). */
const struct kdx_symbol *kdx_symbol_by_name(struct kdx_symtab *st, const char *name,
					    const char *module);
/* Address -> the symbol containing it (or the nearest below within a sane
 * distance); *OFFSET gets addr - sym->addr. NULL if none. */
const struct kdx_symbol *kdx_symbol_by_addr(struct kdx_symtab *st, uint64_t addr,
					    uint64_t *offset);
/* Iterate all symbols (vmlinux then modules), sorted by address; stop when
 * FN returns non-zero. */
int kdx_symbol_for_each(struct kdx_symtab *st,
			int (*fn)(const struct kdx_symbol *sym, void *arg), void *arg);

/* KASLR offset currently applied to vmlinux symbols. */
uint64_t kdx_symtab_offset(struct kdx_symtab *st);
/* Number of symbols (vmlinux + modules). */
size_t kdx_symtab_count(struct kdx_symtab *st);

/* Session conveniences. kdx_symbol_lookup accepts "module:name" too. */
struct kdx_error *kdx_symbol_lookup(struct kdx_session *s, const char *name, uint64_t *addr);
/* "name+0x1f [module]" style formatting into BUF; returns BUF ("" if unknown,
 * and for addresses below the kernel half: per-cpu offsets are not shown). */
char *kdx_symbol_format(struct kdx_session *s, uint64_t addr, char *buf, size_t len);

#endif
