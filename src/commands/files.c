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
	int count;
	int errors;
};

static int print_fd(struct kdx_session *s, int fd, uint64_t file, void *arg)
{
	struct fd_print *p = arg;
	struct kdx_file_info fi;
	char path[PATH_LEN];
	struct kdx_error *err = kdx_file_info(s, file, &fi);

	if (!p->count++)
		fprintf(s->out, " FD       FILE            DENTRY           INODE       TYPE PATH\n");
	if (!err)
		err = kdx_file_info_path(s, &fi, path, sizeof(path));
	if (err) {
		fprintf(s->out, "%3d %016llx %016llx %016llx %-4s ?\n", fd,
			(unsigned long long)file, (unsigned long long)fi.dentry,
			(unsigned long long)fi.inode, fi.inode ? kdx_mode_type_name(fi.mode) : "?");
		kdx_session_report(s, kdx_error_prefix(err, "files: fd %d (file %llx)", fd,
						       (unsigned long long)file));
		p->errors++;
		return kdx_interrupted(s);
	}
	fprintf(s->out, "%3d %016llx %016llx %016llx %-4s %s\n", fd, (unsigned long long)file,
		(unsigned long long)fi.dentry, (unsigned long long)fi.inode,
		fi.inode ? kdx_mode_type_name(fi.mode) : "?", path);
	return kdx_interrupted(s);
}

static struct kdx_error *files_task(struct kdx_session *s, const struct kdx_task *t, int separate)
{
	char root[PATH_LEN], cwd[PATH_LEN];
	struct fd_print p = { 0, 0 };
	int nofiles;
	struct kdx_error *err;

	if (separate)
		fprintf(s->out, "\n");
	kdx_print_task_header(s, t);
	err = kdx_task_root_cwd(s, t, root, sizeof(root), cwd, sizeof(cwd));
	if (err)
		kdx_session_report(s, kdx_error_prefix(err, "files: PID %d: root/cwd", t->pid));
	else if (root[0])
		fprintf(s->out, "ROOT: %s    CWD: %s\n", root, cwd);
	err = kdx_task_fd_for_each(s, t, print_fd, &p, &nofiles);
	if (err)
		return kdx_error_prefix(err, "files: PID %d", t->pid);
	if (nofiles || !p.count)
		fprintf(s->out, "No open files\n");
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
	for (int i = 1; i < argc; i++)
		return kdx_error_create(KDX_ERR_SYNTAX, "foreach files: unexpected argument %s", argv[i]);
	return files_task(s, t, !(flags & KDX_PERTASK_FIRST));
}

static struct kdx_error *cmd_files(struct kdx_session *s, int argc, char **argv)
{
	int count = 0;
	int ntasks = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d")) {
			if (i + 1 >= argc)
				return kdx_command_usage(&kdx_cmd_files);
			return files_dentry(s, argv[i + 1]);
		}
		if (argv[i][0] == '-')
			return kdx_error_create(KDX_ERR_SYNTAX, "files: unknown option %s (usage: %s)",
						argv[i], kdx_cmd_files.usage);
	}
	for (int i = 1; i < argc; i++) {
		const struct kdx_task *t;
		struct kdx_error *err = kdx_task_resolve(s, argv[i], &t);
		ntasks++;
		if (err) {
			kdx_session_report(s, kdx_error_prefix(err, "files"));
			continue;
		}
		kdx_session_report(s, files_task(s, t, count++ > 0));
	}
	if (ntasks)
		return NULL;
	const struct kdx_task *t = kdx_task_current(s);
	if (!t)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "files: no current task (try `files PID`)");
	return files_task(s, t, 0);
}

const struct kdx_command kdx_cmd_files = {
	.name = "files",
	.usage = "files [PID | TASK]... | files -d DENTRY",
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
	"  files -d DENTRY   the inode, super block, type and path of a dentry\n"
	"                    (the path within its file system)\n"
	"\n"
	"Works with foreach: `foreach files`, `foreach sleep files`.\n",
	.run = cmd_files,
	.run_task = files_run_task,
};
