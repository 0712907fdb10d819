/*
 * Loaded kernel modules: the `modules` list (struct module.list), each
 * module's memory layout, section addresses (for `mod -s`), ORC tables (for
 * the unwinder) and kallsyms symbols (loaded into the session's symbol
 * table so that module addresses resolve without debuginfo).
 */
#ifndef KDX_MODULES_H
#define KDX_MODULES_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

struct kdx_module_section {
	char *name;             /* ".text", ".data", ".bss"... */
	uint64_t addr;
};

struct kdx_module {
	uint64_t addr;          /* struct module * */
	char name[64];
	int state;              /* enum module_state: 0 live, 1 coming, 2 going, 3 unformed */
	uint64_t base;          /* start of the core (text) allocation */
	uint64_t size;          /* bytes of the core allocation(s) */
	uint64_t text_size;     /* bytes of text at BASE */
	uint64_t init_base, init_size;   /* still-present init allocation, or 0 */
	uint64_t init_text_size;         /* bytes of init text at INIT_BASE */
	/* Additional core allocations (6.4+ mem[] regions other than text). */
	uint64_t data_base, data_size, rodata_base, rodata_size;
	/* ORC unwind tables in the module's memory (x86_64). */
	uint64_t orc_unwind_ip, orc_unwind;
	unsigned num_orcs;
	/* Sections (mod->sect_attrs); loaded with the list. */
	size_t nsections;
	struct kdx_module_section *sections;
	size_t nkallsyms;       /* symbols read from the module's kallsyms, 0 if not yet */
	char *debuginfo;        /* file loaded by `mod -s`, or NULL */
};

/* All modules, in the kernel's list order (most recently loaded first). */
struct kdx_error *kdx_modules(struct kdx_session *s, struct kdx_module **mods, size_t *n);

/* The module whose memory (core, init, data) contains ADDR, or NULL. */
const struct kdx_module *kdx_module_by_addr(struct kdx_session *s, uint64_t addr);
/* The module whose text contains ADDR (for unwinding), or NULL. */
const struct kdx_module *kdx_module_text_by_addr(struct kdx_session *s, uint64_t addr);
/* By name ("-" and "_" equivalent), or NULL. */
const struct kdx_module *kdx_module_by_name(struct kdx_session *s, const char *name);

/*
 * Read every module's kallsyms (mod->kallsyms: Elf64_Sym entries with
 * relocated values, type letters in typetab) into the session's symbol
 * table. Done once; later calls return at once. Unreadable modules are
 * reported one line each and skipped.
 */
struct kdx_error *kdx_modules_load_symbols(struct kdx_session *s);

/* `mod -s`: load MOD's debuginfo from PATH (NULL: search the usual
 * directories for the running release), relocated to its sections. */
struct kdx_error *kdx_module_load_debuginfo_for(struct kdx_session *s, struct kdx_module *mod,
						const char *path);

/* Search DIR recursively (into symlinked directories, 8 levels at most) for
 * NAME.ko or NAME.ko.debug ("-"/"_" equivalent); malloc'd path or NULL. */
char *kdx_module_find_in_dir(const char *dir, const char *name, int depth);

#endif
