/*
 * Module debuginfo (`mod -s`): a module's .ko relocated to its load
 * addresses in the dump. See also kdx_types_add_module in types.h.
 */
#ifndef KDX_MODULE_DEBUGINFO_H
#define KDX_MODULE_DEBUGINFO_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"
#include "symbols/symbols.h"

struct kdx_session;

/*
 * The ELF symbols of the module file PATH, relocated: each symbol's address
 * is the load address of its section (SECTION_NAMES[i] -> SECTION_ADDRS[i],
 * from mod->sect_attrs) plus its value. Symbols of sections not in the table
 * (e.g. a freed .init.text) are left out. *RET is one malloc'd block (names
 * included): free(*RET) when done; `module` fields are NULL.
 */
struct kdx_error *kdx_module_elf_symbols(const char *path, const char *const *section_names,
					 const uint64_t *section_addrs, size_t nsections,
					 struct kdx_symbol **ret, size_t *nret);

/* Both at once for a session: the relocated ELF symbols into s->symtab
 * (replacing the module's kallsyms set, which has no sizes), then
 * kdx_types_add_module(s->types, ...). If the file has symbols but no DWARF
 * the symbols stay loaded and the error (KDX_ERR_FORMAT) says so. */
struct kdx_error *kdx_module_load_debuginfo(struct kdx_session *s, const char *module,
					    const char *path, const char *const *section_names,
					    const uint64_t *section_addrs, size_t nsections);

/* Where the debuginfo of MODULE for kernel release OSRELEASE is:
 * /usr/lib/debug/lib/modules/<rel>/... (Debian -dbg), then
 * /lib/modules/<rel>/... ("-" and "_" are equivalent). malloc'd, or NULL. */
char *kdx_module_debuginfo_path(const char *osrelease, const char *module);

/* kdx_module_file_search FLAGS */
#define KDX_MODFILE_DEBUG        1u   /* MODULE.ko.debug matches too */
#define KDX_MODFILE_FOLLOW_LINKS 2u   /* descend into symlinked directories */

/* Search DIR and its subdirectories down to MAX_DEPTH levels below it
 * (DEPTH: the level DIR is at) for MODULE.ko ("-" and "_" equivalent).
 * The first match, malloc'd, or NULL. */
char *kdx_module_file_search(const char *dir, const char *module, int depth, int max_depth,
			     unsigned flags);

#endif
