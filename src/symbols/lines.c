/*
 * Source lines and inline frames of code addresses (.debug_aranges to find
 * the CU, then its line table and DIE nesting).
 */
#include "symbols/types.h"
#include "symbols/types_internal.h"
#include "session.h"

#include <dwarf.h>
#include <inttypes.h>
#include <stdlib.h>

/*
 * The CU of debug source I (0: vmlinux, KASLR-relocated; others: modules,
 * by their address range) that covers ADDR, and ADDR as that source's
 * DWARF sees it in *A. 0 if source I does not cover ADDR.
 */
static int src_cu_of(struct kdx_types *types, size_t i, uint64_t addr, uint64_t kaslr,
		     uint64_t *a, Dwarf_Die *cu)
{
	struct kdx_dwsrc *src = types->srcs[i];

	*a = addr;
	if (i == 0)
		*a -= kaslr;
	else if (addr < src->lo || addr >= src->hi)
		return 0;
	return kdx_dwsrc_addrdie(src, *a, cu) != NULL;
}

struct kdx_error *kdx_types_addr_to_line(struct kdx_types *types, uint64_t addr, uint64_t kaslr,
					 const char **file, int *line)
{
	for (size_t i = 0; i < types->nsrcs; i++) {
		uint64_t a;
		Dwarf_Die cu;
		if (!src_cu_of(types, i, addr, kaslr, &a, &cu))
			continue;
		Dwarf_Line *l = dwarf_getsrc_die(&cu, a);
		if (!l)
			continue;
		int lineno = 0;
		const char *f = dwarf_linesrc(l, NULL, NULL);
		if (!f || dwarf_lineno(l, &lineno) != 0)
			continue;
		*file = f;
		*line = lineno;
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "no line information for 0x%" PRIx64, addr);
}

struct kdx_error *kdx_addr_to_line(struct kdx_session *s, uint64_t addr, const char **file, int *line)
{
	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no debug info loaded");
	return kdx_types_addr_to_line(s->types, addr, s->kaslr_offset, file, line);
}

/* Source file of a DW_AT_call_file / DW_AT_decl_file index in CU. */
static const char *cu_file(Dwarf_Die *cudie, Dwarf_Word idx)
{
	Dwarf_Files *files;
	size_t nfiles;
	if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0 || idx >= nfiles)
		return NULL;
	return dwarf_filesrc(files, idx, NULL, NULL);
}

struct kdx_error *kdx_types_inline_frames(struct kdx_types *types, uint64_t addr, uint64_t kaslr,
					  struct kdx_inline_frame *frames, size_t max, size_t *nret)
{
	*nret = 0;
	for (size_t i = 0; i < types->nsrcs; i++) {
		uint64_t a;
		Dwarf_Die cu;
		if (!src_cu_of(types, i, addr, kaslr, &a, &cu))
			continue;
		/* dwarf_getscopes gives the innermost DIE at A, but above an
		 * inlined instance it continues with the abstract definition's
		 * scopes; the physical nesting (who inlined whom) comes from
		 * dwarf_getscopes_die on that innermost DIE. */
		Dwarf_Die *inner = NULL, *scopes = NULL;
		int ni = dwarf_getscopes(&cu, a, &inner);
		int ns = ni > 0 ? dwarf_getscopes_die(&inner[0], &scopes) : -1;
		free(inner);
		if (ns <= 0) {
			free(scopes);
			continue;
		}
		/* innermost location: the line table */
		const char *file = NULL;
		int line = 0;
		Dwarf_Line *l = dwarf_getsrc_die(&cu, a);
		if (l) {
			file = dwarf_linesrc(l, NULL, NULL);
			dwarf_lineno(l, &line);
		}
		size_t n = 0;
		for (int j = 0; j < ns && n < max; j++) {
			int tag = dwarf_tag(&scopes[j]);
			if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
				continue;
			Dwarf_Attribute attr;
			frames[n].function = dwarf_formstring(dwarf_attr_integrate(&scopes[j], DW_AT_name, &attr));
			frames[n].file = file;
			frames[n].line = line;
			frames[n].inlined = tag == DW_TAG_inlined_subroutine;
			n++;
			if (tag == DW_TAG_subprogram)
				break;
			/* the next (outer) function's location is this call site */
			file = cu_file(&cu, kdx_die_udata(&scopes[j], DW_AT_call_file, (uint64_t)-1));
			line = (int)kdx_die_udata(&scopes[j], DW_AT_call_line, 0);
		}
		free(scopes);
		if (!n)
			continue;
		*nret = n;
		return NULL;
	}
	return kdx_error_create(KDX_ERR_NOT_FOUND, "no debug info for 0x%" PRIx64, addr);
}

struct kdx_error *kdx_addr_inline_frames(struct kdx_session *s, uint64_t addr,
					 struct kdx_inline_frame *frames, size_t max, size_t *n)
{
	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no debug info loaded");
	return kdx_types_inline_frames(s->types, addr, s->kaslr_offset, frames, max, n);
}

