/*
 * Open files and d_path. See files.h.
 */
#include "kernel/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "kernel/kernel.h"
#include "kernel/kread.h"
#include "kernel/tasks.h"
#include "symbols/symbols.h"

/* Caps against corrupted data. */
#define MAX_PATH_DEPTH 256
#define MAX_FDS (1u << 20)

struct files_offsets {
	struct kdx_kfield task_files, task_fs;
	struct kdx_kfield files_fdt, fdt_max_fds, fdt_fd;
	struct kdx_kfield fs_root, fs_pwd, path_mnt, path_dentry;
	struct kdx_kfield file_path, file_inode;
	struct kdx_kfield d_parent, d_name_len, d_name_name, d_inode, d_op, d_sb, d_iname, d_hash_pprev;
	struct kdx_kfield dop_d_dname;
	struct kdx_kfield i_mode, i_ino, i_sb;
	struct kdx_kfield mount_mnt, mnt_parent, mnt_mountpoint, vfs_mnt_root;
};

static void offsets_destroy(void *obj)
{
	free(obj);
}

static struct kdx_error *offsets_load(struct kdx_session *s, void *obj)
{
	struct files_offsets *o = obj;
	struct kdx_error *err;

	if ((err = kdx_kmember(s, "task_struct", "files", &o->task_files)) ||
	    (err = kdx_kmember(s, "task_struct", "fs", &o->task_fs)) ||
	    (err = kdx_kmember(s, "files_struct", "fdt", &o->files_fdt)) ||
	    (err = kdx_kmember(s, "fdtable", "max_fds", &o->fdt_max_fds)) ||
	    (err = kdx_kmember(s, "fdtable", "fd", &o->fdt_fd)) ||
	    (err = kdx_kmember(s, "fs_struct", "root", &o->fs_root)) ||
	    (err = kdx_kmember(s, "fs_struct", "pwd", &o->fs_pwd)) ||
	    (err = kdx_kmember(s, "path", "mnt", &o->path_mnt)) ||
	    (err = kdx_kmember(s, "path", "dentry", &o->path_dentry)) ||
	    (err = kdx_kmember(s, "file", "f_path", &o->file_path)) ||
	    (err = kdx_kmember(s, "dentry", "d_parent", &o->d_parent)) ||
	    (err = kdx_kmember(s, "dentry", "d_name.len", &o->d_name_len)) ||
	    (err = kdx_kmember(s, "dentry", "d_name.name", &o->d_name_name)) ||
	    (err = kdx_kmember(s, "dentry", "d_inode", &o->d_inode)) ||
	    (err = kdx_kmember(s, "inode", "i_mode", &o->i_mode)) ||
	    (err = kdx_kmember(s, "inode", "i_ino", &o->i_ino)) ||
	    (err = kdx_kmember(s, "mount", "mnt", &o->mount_mnt)) ||
	    (err = kdx_kmember(s, "mount", "mnt_parent", &o->mnt_parent)) ||
	    (err = kdx_kmember(s, "mount", "mnt_mountpoint", &o->mnt_mountpoint)) ||
	    (err = kdx_kmember(s, "vfsmount", "mnt_root", &o->vfs_mnt_root)))
		return kdx_error_prefix(err, "files");
	kdx_kmember_opt(s, "file", "f_inode", &o->file_inode);
	kdx_kmember_opt(s, "dentry", "d_op", &o->d_op);
	kdx_kmember_opt(s, "dentry", "d_sb", &o->d_sb);
	kdx_kmember_opt(s, "dentry", "d_hash.pprev", &o->d_hash_pprev);
	kdx_kmember_opt(s, "dentry_operations", "d_dname", &o->dop_d_dname);
	kdx_kmember_opt(s, "inode", "i_sb", &o->i_sb);
	return NULL;
}

static struct kdx_error *offsets_get(struct kdx_session *s, const struct files_offsets **ret)
{
	return kdx_kernel_cached(s, KDX_SLOT_FILES, sizeof(**ret), offsets_load, offsets_destroy,
				 (void **)ret);
}

const char *kdx_mode_type_name(uint32_t mode)
{
	switch (mode & 0170000) {
	case 0100000: return "REG";
	case 0040000: return "DIR";
	case 0020000: return "CHR";
	case 0060000: return "BLK";
	case 0010000: return "FIFO";
	case 0140000: return "SOCK";
	case 0120000: return "LNK";
	default: return "?";
	}
}

static struct kdx_error *rd(struct kdx_session *s, uint64_t base, const struct kdx_kfield *f,
			    uint64_t *v, const char *what)
{
	struct kdx_error *err = kdx_read_uint(s, base + f->off, f->size, v);

	return err ? kdx_error_prefix(err, "reading %s at %llx", what,
				      (unsigned long long)(base + f->off)) : NULL;
}

/* Prepend "/NAME" (NAME of LEN bytes) to the path being built right to left in BUF[0..*POS). */
static int prepend(char *buf, size_t *pos, const char *name, size_t len)
{
	if (len + 1 > *pos)
		return -1;
	*pos -= len;
	memcpy(buf + *pos, name, len);
	buf[--*pos] = '/';
	return 0;
}

static struct kdx_error *dentry_name(struct kdx_session *s, const struct files_offsets *o,
				     uint64_t dentry, char *name, size_t size, size_t *len)
{
	uint64_t nlen, nptr;
	struct kdx_error *err;

	if ((err = rd(s, dentry, &o->d_name_len, &nlen, "dentry name length")) ||
	    (err = rd(s, dentry, &o->d_name_name, &nptr, "dentry name")))
		return err;
	if (nlen >= size)
		nlen = size - 1;
	if (nlen && (err = kdx_read(s, nptr, name, nlen)))
		return kdx_error_prefix(err, "reading dentry name at %llx", (unsigned long long)nptr);
	name[nlen] = 0;
	*len = strlen(name);
	return NULL;
}

/*
 * The kernel's d_dname names: the function in dentry->d_op->d_dname tells
 * which (pipefs_dname, sockfs_dname, anon_inodefs_dname, ...). Returns 1 and
 * fills BUF if DENTRY has one.
 */
static int special_name(struct kdx_session *s, const struct files_offsets *o, uint64_t dentry,
			char *buf, size_t len)
{
	uint64_t dop, fn, inode, ino = 0, off;
	char name[256];
	size_t nlen;
	struct kdx_error *err;

	if (!o->d_op.ok || !o->dop_d_dname.ok)
		return 0;
	if ((err = rd(s, dentry, &o->d_op, &dop, "d_op")) || !dop ||
	    (err = rd(s, dop, &o->dop_d_dname, &fn, "d_dname")) || !fn) {
		if (err)
			kdx_error_destroy(err);
		return 0;
	}
	const struct kdx_symbol *sym = kdx_symbol_by_addr(s->symtab, fn, &off);
	if ((err = rd(s, dentry, &o->d_inode, &inode, "d_inode")) ||
	    (inode && (err = rd(s, inode, &o->i_ino, &ino, "i_ino"))))
		kdx_error_destroy(err);
	if ((err = dentry_name(s, o, dentry, name, sizeof(name), &nlen))) {
		kdx_error_destroy(err);
		name[0] = 0;
	}
	const char *fname = sym && off == 0 ? sym->name : "";
	if (!strcmp(fname, "pipefs_dname"))
		snprintf(buf, len, "pipe:[%llu]", (unsigned long long)ino);
	else if (!strcmp(fname, "sockfs_dname"))
		snprintf(buf, len, "socket:[%llu]", (unsigned long long)ino);
	else if (!strcmp(fname, "anon_inodefs_dname"))
		snprintf(buf, len, "anon_inode:%s", name);
	else if (!strcmp(fname, "simple_dname"))
		snprintf(buf, len, "/%s", name);
	else if (name[0])
		snprintf(buf, len, "%s:[%llu]", name, (unsigned long long)ino);
	else
		return 0;
	return 1;
}

struct kdx_error *kdx_d_path(struct kdx_session *s, uint64_t dentry, uint64_t vfsmnt,
			     char *buf, size_t len)
{
	const struct files_offsets *o;
	struct kdx_error *err = offsets_get(s, &o);
	char name[256];
	size_t pos, nlen;

	if (err)
		return err;
	if (len < 2)
		return kdx_error_create(KDX_ERR_INVALID, "d_path: buffer too small");
	if (!dentry) {
		snprintf(buf, len, "(null dentry)");
		return NULL;
	}
	if (special_name(s, o, dentry, buf, len))
		return NULL;
	pos = len - 1;
	buf[pos] = 0;
	/* Like the kernel's d_path: an unlinked file (unhashed, not a root)
	 * ends with " (deleted)". */
	uint64_t pprev = 1, dparent = dentry;
	if (o->d_hash_pprev.ok) {
		if ((err = rd(s, dentry, &o->d_hash_pprev, &pprev, "d_hash")) ||
		    (err = rd(s, dentry, &o->d_parent, &dparent, "d_parent")))
			return err;
	}
	if (!pprev && dparent != dentry) {
		static const char deleted[] = " (deleted)";
		pos -= sizeof(deleted) - 1;
		memcpy(buf + pos, deleted, sizeof(deleted) - 1);
	}
	uint64_t mnt = vfsmnt ? vfsmnt - o->mount_mnt.off : 0;
	for (int depth = 0; depth < MAX_PATH_DEPTH; depth++) {
		uint64_t parent, mnt_root = 0;
		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
		if ((err = rd(s, dentry, &o->d_parent, &parent, "d_parent")))
			return err;
		if (vfsmnt && (err = rd(s, vfsmnt, &o->vfs_mnt_root, &mnt_root, "mnt_root")))
			return err;
		if (dentry == mnt_root || dentry == parent) {
			/* Top of this mount: continue at the mount point in the parent mount. */
			uint64_t pmnt, mp;
			if (!vfsmnt)
				break;
			if ((err = rd(s, mnt, &o->mnt_parent, &pmnt, "mnt_parent")))
				return err;
			if (pmnt == mnt || !pmnt)
				break;
			if ((err = rd(s, mnt, &o->mnt_mountpoint, &mp, "mnt_mountpoint")))
				return err;
			dentry = mp;
			mnt = pmnt;
			vfsmnt = pmnt + o->mount_mnt.off;
			continue;
		}
		if ((err = dentry_name(s, o, dentry, name, sizeof(name), &nlen)))
			return err;
		if (prepend(buf, &pos, name, nlen))
			return kdx_error_create(KDX_ERR_INVALID, "path of dentry too long");
		dentry = parent;
	}
	if (!buf[pos]) {
		buf[0] = '/';
		buf[1] = 0;
		return NULL;
	}
	memmove(buf, buf + pos, len - pos);
	return NULL;
}

struct kdx_error *kdx_dentry_info(struct kdx_session *s, uint64_t dentry, uint64_t *inode,
				  uint64_t *sb, uint32_t *mode)
{
	const struct files_offsets *o;
	struct kdx_error *err = offsets_get(s, &o);
	uint64_t m = 0;

	*inode = *sb = 0;
	*mode = 0;
	if (err)
		return err;
	if ((err = rd(s, dentry, &o->d_inode, inode, "d_inode")))
		return err;
	if (o->d_sb.ok && (err = rd(s, dentry, &o->d_sb, sb, "d_sb")))
		return err;
	if (*inode && (err = rd(s, *inode, &o->i_mode, &m, "i_mode")))
		return err;
	*mode = (uint32_t)m;
	return NULL;
}

struct kdx_error *kdx_file_info(struct kdx_session *s, uint64_t file, struct kdx_file_info *fi)
{
	const struct files_offsets *o;
	struct kdx_error *err = offsets_get(s, &o);
	uint64_t v;

	memset(fi, 0, sizeof(*fi));
	fi->file = file;
	if (err)
		return err;
	uint64_t p = file + o->file_path.off;
	if ((err = rd(s, p, &o->path_dentry, &fi->dentry, "file dentry")) ||
	    (err = rd(s, p, &o->path_mnt, &fi->mnt, "file mount")))
		return err;
	if (o->file_inode.ok && (err = rd(s, file, &o->file_inode, &fi->inode, "f_inode")))
		return err;
	if (!fi->inode && fi->dentry && (err = rd(s, fi->dentry, &o->d_inode, &fi->inode, "d_inode")))
		return err;
	if (fi->inode) {
		if ((err = rd(s, fi->inode, &o->i_mode, &v, "i_mode")))
			return err;
		fi->mode = (uint32_t)v;
		if ((err = rd(s, fi->inode, &o->i_ino, &fi->ino, "i_ino")))
			return err;
		if (o->i_sb.ok && (err = rd(s, fi->inode, &o->i_sb, &fi->sb, "i_sb")))
			return err;
	}
	return NULL;
}

struct kdx_error *kdx_file_info_path(struct kdx_session *s, const struct kdx_file_info *fi,
				char *buf, size_t len)
{
	return kdx_d_path(s, fi->dentry, fi->mnt, buf, len);
}

struct kdx_error *kdx_task_root_cwd(struct kdx_session *s, const struct kdx_task *t,
				    char *root, size_t rlen, char *cwd, size_t clen)
{
	const struct files_offsets *o;
	struct kdx_error *err = offsets_get(s, &o);
	uint64_t fs, d, m;

	if (err)
		return err;
	root[0] = cwd[0] = 0;
	if ((err = rd(s, t->addr, &o->task_fs, &fs, "task fs")))
		return err;
	if (!fs)
		return NULL;
	if ((err = rd(s, fs + o->fs_root.off, &o->path_dentry, &d, "fs root")) ||
	    (err = rd(s, fs + o->fs_root.off, &o->path_mnt, &m, "fs root mount")) ||
	    (err = kdx_d_path(s, d, m, root, rlen)))
		return err;
	if ((err = rd(s, fs + o->fs_pwd.off, &o->path_dentry, &d, "fs pwd")) ||
	    (err = rd(s, fs + o->fs_pwd.off, &o->path_mnt, &m, "fs pwd mount")) ||
	    (err = kdx_d_path(s, d, m, cwd, clen)))
		return err;
	return NULL;
}

struct kdx_error *kdx_task_fd_for_each(struct kdx_session *s, const struct kdx_task *t,
				       kdx_fd_fn fn, void *arg, int *nofiles)
{
	const struct files_offsets *o;
	struct kdx_error *err = offsets_get(s, &o);
	uint64_t files, fdt, max, fdarr;

	*nofiles = 0;
	if (err)
		return err;
	if ((err = rd(s, t->addr, &o->task_files, &files, "task files")))
		return err;
	if (!files) {
		*nofiles = 1;
		return NULL;
	}
	if ((err = rd(s, files, &o->files_fdt, &fdt, "files->fdt")) ||
	    (err = rd(s, fdt, &o->fdt_max_fds, &max, "fdt->max_fds")) ||
	    (err = rd(s, fdt, &o->fdt_fd, &fdarr, "fdt->fd")))
		return err;
	if (max > MAX_FDS)
		return kdx_error_create(KDX_ERR_INVALID, "fdtable %llx: max_fds %llu is not sane",
					(unsigned long long)fdt, (unsigned long long)max);
	uint64_t *fds = malloc((max ? max : 1) * sizeof(*fds));
	if (!fds)
		return kdx_error_nomem();
	if (max && (err = kdx_read(s, fdarr, fds, max * sizeof(*fds)))) {
		free(fds);
		return kdx_error_prefix(err, "reading the fd array of PID %d at %llx", t->pid,
					(unsigned long long)fdarr);
	}
	for (uint64_t i = 0; i < max; i++) {
		if (!fds[i])
			continue;
		if (fn(s, (int)i, fds[i], arg))
			break;
	}
	free(fds);
	return NULL;
}
