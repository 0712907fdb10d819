/*
 * vm: a task's mm and its VMAs (walked from the mm's maple tree).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/pertask.h"
#include "kernel/mm.h"
#include "kernel/tasks.h"

static const struct kdx_command *self(void);

static struct kdx_error *vm_task(struct kdx_session *s, const struct kdx_task *t,
				 int argc, char **argv, unsigned flags)
{
	struct kdx_mm_info info;
	struct kdx_vma *v;
	size_t n;
	struct kdx_error *err;

	kdx_print_task_header(s, t);
	if (!t->mm) {
		fprintf(s->out, "       MM               PGD          RSS    TOTAL_VM\n");
		fprintf(s->out, "       0                 0            0k      0k\n");
		if (flags & KDX_PERTASK_FOREACH)
			fputc('\n', s->out);
		return NULL;
	}
	if ((err = kdx_mm_info(s, t->mm, &info)))
		return err;
	/* RSS and TOTAL_VM as ps shows them (with the threads' unsynced RSS deltas) */
	uint64_t vsz_kb = info.total_vm * 4, rss_kb = info.rss_pages * 4;
	struct kdx_error *e2 = kdx_task_mm_stats(s, t, &vsz_kb, &rss_kb);
	if (e2) {
		kdx_error_destroy(e2);
		vsz_kb = info.total_vm * 4, rss_kb = info.rss_pages * 4;
	}
	fprintf(s->out, "       MM               PGD          RSS    TOTAL_VM\n");
	fprintf(s->out, "%-16llx  %-16llx  %lluk  %8lluk\n", (unsigned long long)info.mm,
		(unsigned long long)info.pgd, (unsigned long long)rss_kb,
		(unsigned long long)vsz_kb);
	if ((err = kdx_mm_vmas(s, t->mm, &v, &n)))
		return err;
	fprintf(s->out, "      VMA           START       END     FLAGS FILE\n");
	for (size_t i = 0; i < n; i++)
		fprintf(s->out, "%-16llx %10llx %10llx %8llx %s\n", (unsigned long long)v[i].addr,
			(unsigned long long)v[i].start, (unsigned long long)v[i].end,
			(unsigned long long)v[i].flags, v[i].name);
	free(v);
	if (flags & KDX_PERTASK_FOREACH)
		fputc('\n', s->out);
	return NULL;
}

static struct kdx_error *cmd_vm(struct kdx_session *s, int argc, char **argv)
{
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt(argc, argv, "")) != -1)
		return kdx_command_usage(self());
	if (optind == argc) {
		const struct kdx_task *t = kdx_task_current(s);
		if (!t)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "vm: no current task (set PID)");
		return vm_task(s, t, 1, argv, 0);
	}
	for (int i = optind; i < argc; i++) {
		const struct kdx_task *t;
		struct kdx_error *err = kdx_task_resolve(s, argv[i], &t);
		if (err)
			return kdx_error_prefix(err, "vm");
		if (i > optind)
			fputc('\n', s->out);
		if ((err = vm_task(s, t, 1, argv, 0)))
			return err;
	}
	return NULL;
}

const struct kdx_command kdx_cmd_vm = {
	.name = "vm",
	.usage = "vm [PID | TASK]...",
	.summary = "a task's memory map: mm, page directory, RSS and VMAs",
	.help =
"  Shows the mm_struct, its page directory, RSS and total VM size, then one\n"
"  line per VMA (from the mm's maple tree, 6.1+): the vm_area_struct, START,\n"
"  END, vm_flags and the mapped file's path, or [heap], [stack], [vdso],\n"
"  [vvar] as /proc/PID/maps names them. Without an argument: the current task.\n"
"  Works under foreach (foreach sleep vm).\n",
	.run = cmd_vm,
	.run_task = vm_task,
};

static const struct kdx_command *self(void) { return &kdx_cmd_vm; }
