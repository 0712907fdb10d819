/*
 * Facts about the kernel image that tie vmlinux to a dump: build-id,
 * release string, the KASLR offset, and the mismatch check the session runs
 * before trusting any symbol.
 */
#ifndef KDX_KERNEL_IMAGE_H
#define KDX_KERNEL_IMAGE_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_symtab;

struct kdx_vmlinux_info {
	uint8_t build_id[64];
	size_t build_id_len;       /* 0 if the image has no build-id note */
	char build_id_hex[129];
	char osrelease[65];        /* "6.1.0-56-cloud-amd64" from linux_banner; "" if unknown */
	char banner[512];          /* linux_banner without the trailing newline */
	uint64_t stext;            /* unrelocated _stext (0 if absent) */
};

/* Build-id of ELF (the NT_GNU_BUILD_ID note); returns its length (0: none). */
size_t kdx_elf_build_id(Elf *elf, uint8_t *buf, size_t bufsize);

/* Lowercase hex of ID into OUT (at least 2*LEN+1 bytes). */
void kdx_build_id_hex(const uint8_t *id, size_t len, char *out);

/* Read build-id, linux_banner/osrelease and _stext of VMLINUX. ST (may be
 * NULL) is the already loaded symbol table, used to find the symbols. */
struct kdx_error *kdx_vmlinux_info_read(const char *vmlinux, struct kdx_symtab *st,
					struct kdx_vmlinux_info *ret);

/* A "KEY=value" line of VMCOREINFO text; copies the value into BUF. Returns
 * 0 if found. */
int kdx_vmcoreinfo_lookup(const char *vmcoreinfo, const char *key, char *buf, size_t len);

/*
 * KASLR offset for a dump: KERNELOFFSET from VMCOREINFO if present, else
 * SYMBOL(_stext) - VMLINUX_STEXT. Not-found error if VMCOREINFO says neither
 * (the caller then assumes 0 or asks for --kaslr).
 */
struct kdx_error *kdx_kaslr_from_vmcoreinfo(const char *vmcoreinfo, uint64_t vmlinux_stext,
					    uint64_t *offset);

/* Live kernel: _stext in KALLSYMS (NULL: /proc/kallsyms) - VMLINUX_STEXT.
 * Fails if kallsyms shows zero addresses (not root / kptr_restrict). */
struct kdx_error *kdx_kaslr_from_kallsyms(const char *kallsyms, uint64_t vmlinux_stext,
					  uint64_t *offset);

/*
 * Does VMLINUX (VI) match the dump whose VMCOREINFO is given? Compares
 * BUILD-ID (when the dump has one) and OSRELEASE. Returns a KDX_ERR_MISMATCH
 * error with a one-line message saying what to pass, or NULL.
 */
struct kdx_error *kdx_vmlinux_check_vmcoreinfo(const struct kdx_vmlinux_info *vi,
					       const char *vmcoreinfo);

/* Same for the running kernel: /sys/kernel/notes build-id and
 * /proc/sys/kernel/osrelease (ROOT prefix for tests; NULL: "/"). */
struct kdx_error *kdx_vmlinux_check_live(const struct kdx_vmlinux_info *vi, const char *root);

/* Find the default debug vmlinux for release OSRELEASE (Debian's -dbg
 * package layout, then /boot); malloc'd path or NULL. */
char *kdx_vmlinux_default_path(const char *osrelease);

#endif
