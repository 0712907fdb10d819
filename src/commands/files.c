/*
 * files: open files of tasks (crash's `files`), and `files -d DENTRY`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/pertask.h"
#include "kernel/files.h"
#include "kernel/tasks.h"
#include "util.h"

#define PATH_LEN 4096

extern const struct kdx_command kdx_cmd_files;

struct fd_print {
	int count;              /* rows kept */
	const char *ref;        /* -R: only rows referring to this */
	uint64_t ref_addr;      /* -R as an address (0: not a number) */
	struct kdx_strbuf rows;
};

/* Does a row refer to -R's REF (a path substring, or a file/dentry/inode address)? */
static int refers(const struct fd_print *p, const struct kdx_file_info *fi, const char *path)
{
	if (!p->ref)
		return 1;
	if (p->ref_addr && (p->ref_addr == fi->file || p->ref_addr == fi->dentry ||
			    p->ref_addr == fi->inode))
		return 1;
	return path && strstr(path, p->ref) != NULL;
}

static int print_fd(struct kdx_session *s, int fd, uint64_t file, void *arg)
{
	struct fd_print *p = arg;
	struct kdx_file_info fi;
	char path[PATH_LEN];
	struct kdx_error *err = kdx_file_info(s, file, &fi);

	if (!err)
		err = kdx_file_info_path(s, &fi, path, sizeof(path));
	if (err) {
		if (refers(p, &fi, NULL)) {
			kdx_strbuf_printf(&p->rows, "%3d %016llx %016llx %016llx %-4s ?\n", fd,
					  (unsigned long long)file, (unsigned long long)fi.dentry,
					  (unsigned long long)fi.inode,
					  fi.inode ? kdx_mode_type_name(fi.mode) : "?");
			p->count++;
		}
		kdx_session_report(s, kdx_error_prefix(err, "files: fd %d (file %llx)", fd,
						       (unsigned long long)file));
		return kdx_interrupted(s);
	}
	if (refers(p, &fi, path)) {
		kdx_strbuf_printf(&p->rows, "%3d %016llx %016llx %016llx %-4s %s\n", fd,
				  (unsigned long long)file, (unsigned long long)fi.dentry,
				  (unsigned long long)fi.inode,
				  fi.inode ? kdx_mode_type_name(fi.mode) : "?", path);
		p->count++;
	}
	return kdx_interrupted(s);
}

/* One task's files; with REF (-R) only the referring rows, and nothing at
 * all for a task without any (so that `foreach files -R` lists the users). */
static struct kdx_error *files_task(struct kdx_session *s, const struct kdx_task *t, int separate,
				    const char *ref)
{
	char root[PATH_LEN], cwd[PATH_LEN];
	struct fd_print p;
	int nofiles = 0;
	struct kdx_error *err, *rcerr;

	memset(&p, 0, sizeof(p));
	p.ref = ref;
	if (ref && (kdx_is_number(ref) || (strlen(ref) >= 8 &&
					   strspn(ref, "0123456789abcdefABCDEF") == strlen(ref)))) {
		struct kdx_error *e = kdx_parse_u64(ref, 1, &p.ref_addr);
		if (e)
			kdx_error_destroy(e);
	}
	rcerr = kdx_task_root_cwd(s, t, root, sizeof(root), cwd, sizeof(cwd));
	err = kdx_task_fd_for_each(s, t, print_fd, &p, &nofiles);
	if (ref && !p.count) {
		kdx_strbuf_release(&p.rows);
		if (rcerr)
			kdx_error_destroy(rcerr);
		return err ? kdx_error_prefix(err, "files: PID %d", t->pid) : NULL;
	}
	/* With -R most tasks print nothing: a blank line after each match
	 * instead of before each task. */
	if (separate && !ref)
		fprintf(s->out, "\n");
	kdx_print_task_header(s, t);
	if (rcerr)
		kdx_session_report(s, kdx_error_prefix(rcerr, "files: PID %d: root/cwd", t->pid));
	else if (root[0])
		fprintf(s->out, "ROOT: %s    CWD: %s\n", root, cwd);
	if (p.count)
		fprintf(s->out, " FD       FILE            DENTRY           INODE       TYPE PATH\n%s",
			p.rows.s);
	kdx_strbuf_release(&p.rows);
	if (err)
		return kdx_error_prefix(err, "files: PID %d", t->pid);
	if (nofiles || !p.count)
		fprintf(s->out, "No open files\n");
	if (ref)
		fprintf(s->out, "\n");
	return NULL;
}

/* Options shared by files and foreach files: -R REF. */
static struct kdx_error *files_opts(int argc, char **argv, const char **ref, int *first_arg)
{
	*ref = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-R") && i + 1 < argc) {
			*ref = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "-d"))
			break;
		return kdx_error_create(KDX_ERR_SYNTAX, "files: unknown option %s (usage: %s)",
					argv[i], kdx_cmd_files.usage);
	}
	*first_arg = i;
	return NULL;
}

static struct kdx_error *files_dentry(struct kdx_session *s, const char *arg)
{
	uint64_t dentry, inode, sb;
	uint32_t mode;
	char path[PATH_LEN];
	struct kdx_error *err = kdx_parse_u64(arg, 1, &dentry);

	if (err)
		return kdx_error_prefix(err, "files -d");
	if ((err = kdx_dentry_info(s, dentry, &inode, &sb, &mode)) ||
	    (err = kdx_d_path(s, dentry, 0, path, sizeof(path))))
		return kdx_error_prefix(err, "files -d %llx", (unsigned long long)dentry);
	fprintf(s->out, "     DENTRY           INODE           SUPERBLK     TYPE PATH\n");
	fprintf(s->out, "%016llx %016llx %016llx %-4s %s\n", (unsigned long long)dentry,
		(unsigned long long)inode, (unsigned long long)sb,
		inode ? kdx_mode_type_name(mode) : "?", path);
	return NULL;
}

static struct kdx_error *files_run_task(struct kdx_session *s, const struct kdx_task *t, int argc,
					char **argv, unsigned flags)
{
	const char *ref;
	int first;
	struct kdx_error *err = files_opts(argc, argv, &ref, &first);

	if (err)
		return err;
	if (first < argc)
		return kdx_error_create(KDX_ERR_SYNTAX, "foreach files: unexpected argument %s",
					argv[first]);
	/* With -R, tasks without a match print nothing: separate by the output. */
	return files_task(s, t, !(flags & KDX_PERTASK_FIRST), ref);
}

static struct kdx_error *cmd_files(struct kdx_session *s, int argc, char **argv)
{
	int count = 0;
	int ntasks = 0;
	const char *ref;
	int first;
	struct kdx_error *err = files_opts(argc, argv, &ref, &first);

	if (err)
		return err;
	if (first < argc && !strcmp(argv[first], "-d")) {
		if (first + 1 >= argc)
			return kdx_command_usage(&kdx_cmd_files);
		return files_dentry(s, argv[first + 1]);
	}
	for (int i = first; i < argc; i++) {
		const struct kdx_task *t;
		ntasks++;
		if ((err = kdx_task_resolve(s, argv[i], &t))) {
			kdx_session_report(s, kdx_error_prefix(err, "files"));
			continue;
		}
		kdx_session_report(s, files_task(s, t, count++ > 0, ref));
	}
	if (ntasks)
		return NULL;
	const struct kdx_task *t = kdx_task_current(s);
	if (!t)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "files: no current task (try `files PID`)");
	return files_task(s, t, 0, ref);
}

const struct kdx_command kdx_cmd_files = {
	.name = "files",
	.usage = "files [-R REFERENCE] [PID | TASK]... | files -d DENTRY",
	.summary = "open files of a task",
	.help =
	"Show the root and working directory and the open file descriptors of\n"
	"tasks (default: the current context task), as crash does:\n"
	"  PID: 100      TASK: ffff8e9dc2a3c180  CPU: 0    COMMAND: \"sleep\"\n"
	"  ROOT: /    CWD: /\n"
	"   FD       FILE            DENTRY           INODE       TYPE PATH\n"
	"    3 ffff8e9dc1d1b100 ffff8e9dc2a1e480 ffff8e9dc2a6c5a8 FIFO /tmp/kdx.fifo\n"
	"TYPE is the inode's file type (REG DIR CHR BLK FIFO SOCK LNK). Paths are\n"
	"built across mounts; pipes, sockets and anonymous inodes are named as the\n"
	"kernel names them (pipe:[1234], socket:[5678], anon_inode:[eventpoll]).\n"
	"\n"
	"  files -R REF      only the descriptors referring to REF: a path (or part\n"
	"                    of one), or a file, dentry or inode address; tasks\n"
	"                    without any print nothing (`foreach files -R /tmp/x`)\n"
	"  files -d DENTRY   the inode, super block, type and path of a dentry\n"
	"                    (the path within its file system)\n"
	"\n"
	"Works with foreach: `foreach files`, `foreach sleep files`.\n",
	.run = cmd_files,
	.run_task = files_run_task,
};
