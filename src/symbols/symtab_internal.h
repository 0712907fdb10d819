/*
 * Helpers shared inside src/symbols/ (not for other areas).
 */
#ifndef KDX_SYMTAB_INTERNAL_H
#define KDX_SYMTAB_INTERNAL_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "symbols/symbols.h"

/* FNV-1a hash of a C string. */
uint32_t kdx_str_hash(const char *s);
/* 64-bit FNV-1a. */
uint64_t kdx_str_hash_u64(const char *s);

/* nm's type letter of SYM in ELF: t/T text, d/D data, b/B bss, r/R
 * read-only, a/A absolute, w/W/V weak, U undefined... (upper case global). */
char kdx_elf_nm_letter(Elf *elf, const GElf_Sym *sym);

/* ELF's symbol table section (the first SHT_SYMTAB) with its header in
 * *SHDR, or NULL if it has none (*SHDR is then meaningless). */
Elf_Scn *kdx_elf_symtab_scn(Elf *elf, GElf_Shdr *shdr);

/* Read ELF's .symtab (junk filtered, nm letters, unrelocated st_value).
 * With KEEP_STRINGS the names point into ELF's string table (the ELF handle
 * must outlive them); otherwise they point into *STRINGS_RET (malloc'd). */
struct kdx_error *kdx_elf_read_symbols(Elf *elf, int keep_strings, struct kdx_symbol **ret,
				       size_t *nret, char **strings_ret);

#endif
