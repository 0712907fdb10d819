/*
 * Open files of tasks and path names of dentries: the fd table
 * (task->files->fdt), fs_struct root/pwd, and d_path() across mounts
 * (struct mount mnt_parent/mnt_mountpoint), with the kernel's names for
 * pipes, sockets and anonymous inodes (`pipe:[1234]`, `socket:[5678]`,
 * `anon_inode:[eventpoll]`). Offsets are read once per session.
 */
#ifndef KDX_FILES_H
#define KDX_FILES_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;
struct kdx_task;

struct kdx_file_info {
	uint64_t file;          /* struct file * */
	uint64_t dentry;        /* f_path.dentry */
	uint64_t mnt;           /* f_path.mnt (struct vfsmount *) */
	uint64_t inode;         /* f_inode (or dentry->d_inode) */
	uint64_t sb;            /* inode->i_sb */
	uint32_t mode;          /* inode->i_mode (0 if unreadable) */
	uint64_t ino;           /* inode->i_ino */
};

/* "REG", "DIR", "CHR", "BLK", "FIFO", "SOCK", "LNK", or "?" for MODE. */
const char *kdx_mode_type_name(uint32_t mode);

/*
 * The path of DENTRY mounted at MNT (struct vfsmount *; 0: within its file
 * system only), up to the global root, into BUF. Pipes, sockets and
 * anonymous inodes get the kernel's d_dname names.
 */
struct kdx_error *kdx_d_path(struct kdx_session *s, uint64_t dentry, uint64_t mnt,
			     char *buf, size_t len);

/* Describe a struct file (dentry, inode, mode) and its path. */
struct kdx_error *kdx_file_info(struct kdx_session *s, uint64_t file, struct kdx_file_info *fi);
struct kdx_error *kdx_file_info_path(struct kdx_session *s, const struct kdx_file_info *fi,
				char *buf, size_t len);

/* The task's root and working directory paths (task->fs). */
struct kdx_error *kdx_task_root_cwd(struct kdx_session *s, const struct kdx_task *t,
				    char *root, size_t rlen, char *cwd, size_t clen);

/* Describe a dentry alone (files -d): its inode, super block and mode. */
struct kdx_error *kdx_dentry_info(struct kdx_session *s, uint64_t dentry, uint64_t *inode,
				  uint64_t *sb, uint32_t *mode);

/*
 * Call FN for every open file descriptor of T (FILE != 0), in fd order.
 * FN returns non-zero to stop. *NOFILES is set when the task has no file
 * table (exited, or a kernel thread without one).
 */
typedef int (*kdx_fd_fn)(struct kdx_session *s, int fd, uint64_t file, void *arg);
struct kdx_error *kdx_task_fd_for_each(struct kdx_session *s, const struct kdx_task *t,
				       kdx_fd_fn fn, void *arg, int *nofiles);

#endif
