/*
 * What the two ELF-core readers share: kdump.c (vmcore.elf) and kcore.c
 * (/proc/kcore) both read a program header table and parse PT_NOTE
 * segments. Each keeps its own checks and error wording.
 */
#include "targets/target_internal.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int kdx_elf_phdrs_read(int fd, uint64_t off, size_t num, Elf64_Phdr **ph)
{
	size_t size = num * sizeof(Elf64_Phdr);

	*ph = malloc(size);
	if (!*ph)
		return ENOMEM;
	if (pread(fd, *ph, size, off) != (ssize_t)size) {
		free(*ph);
		*ph = NULL;
		return EIO;
	}
	return 0;
}

struct kdx_error *kdx_elf_notes_read(struct kdx_target *t, int fd, const Elf64_Phdr *ph)
{
	struct kdx_error *err = NULL;
	char *notes = malloc(ph->p_filesz);

	if (!notes)
		return kdx_error_nomem();
	if (pread(fd, notes, ph->p_filesz, ph->p_offset) == (ssize_t)ph->p_filesz)
		err = kdx_notes_parse(t, notes, ph->p_filesz);
	free(notes);
	return err;
}
