/*
 * VMAs, paths, vmalloc areas and the memory summary. See mm.h.
 */
#include "kernel/mm.h"
#include "kernel/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "kernel/kread.h"
#include "kernel/list.h"
#include "kernel/trees.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "targets/mem.h"

#define MAX_VMAS 1000000

/* Success test that disposes of the error. */
static int ok(struct kdx_error *err)
{
	if (err) {
		kdx_error_destroy(err);
		return 0;
	}
	return 1;
}

uint64_t kdx_mm_page_offset(struct kdx_session *s)
{
	return kdx_mem_layout(s->mem)->page_offset;
}

uint64_t kdx_mm_thread_size(struct kdx_session *s)
{
	uint64_t size;
	struct kdx_error *err = kdx_type_sizeof(s, "union thread_union", &size);

	if (err) {
		kdx_error_destroy(err);
		return 16384;   /* x86_64 THREAD_SIZE without KASAN */
	}
	return size;
}

static int enum_value(struct kdx_session *s, const char *type_name, const char *name, int64_t *v)
{
	struct kdx_type *t;
	struct kdx_error *err = kdx_type_find(s->types, type_name, &t);

	if (!err) {
		t = kdx_type_unqualified(t);
		err = kdx_type_complete(s->types, t);
	}
	if (err) {
		kdx_error_destroy(err);
		return 0;
	}
	for (size_t i = 0; i < t->nenumerators; i++)
		if (!strcmp(t->enumerators[i].name, name)) {
			*v = t->enumerators[i].value;
			return 1;
		}
	return 0;
}

/* ---- paths ---- */

/* The path a struct path names: files.c's d_path walks the dentries and
 * mounts (and names pipes, sockets and deleted files as the kernel does). */
struct kdx_error *kdx_path_string(struct kdx_session *s, uint64_t path_addr, char *buf, size_t len)
{
	struct kdx_kfield p_mnt, p_dentry;
	struct kdx_error *err;
	uint64_t mnt, dentry;

	if ((err = kdx_kmember(s, "path", "mnt", &p_mnt)) ||
	    (err = kdx_kmember(s, "path", "dentry", &p_dentry)))
		return err;
	if ((err = kdx_read_u64(s, path_addr + p_mnt.off, &mnt)) ||
	    (err = kdx_read_u64(s, path_addr + p_dentry.off, &dentry)))
		return kdx_error_prefix(err, "struct path at %llx", (unsigned long long)path_addr);
	if ((err = kdx_d_path(s, dentry, mnt, buf, len)))
		return kdx_error_prefix(err, "path of dentry %llx", (unsigned long long)dentry);
	return NULL;
}

struct kdx_error *kdx_file_path(struct kdx_session *s, uint64_t file, char *buf, size_t len)
{
	struct kdx_kfield f_path;
	struct kdx_error *err = kdx_kmember(s, "file", "f_path", &f_path);

	if (err)
		return err;
	return kdx_path_string(s, file + f_path.off, buf, len);
}

/* ---- mm and VMAs ---- */

struct vma_fields {
	struct kdx_kfield start, end, flags, pgoff, file, ops, priv;
	uint64_t size;
};

static struct kdx_error *vma_fields(struct kdx_session *s, struct vma_fields *f)
{
	struct kdx_error *err;

	if ((err = kdx_kmember(s, "vm_area_struct", "vm_start", &f->start)) ||
	    (err = kdx_kmember(s, "vm_area_struct", "vm_end", &f->end)) ||
	    (err = kdx_kmember(s, "vm_area_struct", "vm_flags", &f->flags)) ||
	    (err = kdx_kmember(s, "vm_area_struct", "vm_pgoff", &f->pgoff)) ||
	    (err = kdx_kmember(s, "vm_area_struct", "vm_file", &f->file)) ||
	    (err = kdx_kmember(s, "vm_area_struct", "vm_ops", &f->ops)) ||
	    (err = kdx_kmember(s, "vm_area_struct", "vm_private_data", &f->priv)) ||
	    (err = kdx_type_sizeof(s, "struct vm_area_struct", &f->size)))
		return err;
	return NULL;
}

struct kdx_error *kdx_mm_info(struct kdx_session *s, uint64_t mm, struct kdx_mm_info *info)
{
	struct kdx_kfield pgd, total_vm, start_brk, brk, start_stack, rss;
	struct kdx_error *err;
	unsigned char buf[2048];
	uint64_t mm_size;

	memset(info, 0, sizeof(*info));
	info->mm = mm;
	if ((err = kdx_kmember(s, "mm_struct", "pgd", &pgd)) ||
	    (err = kdx_kmember(s, "mm_struct", "total_vm", &total_vm)) ||
	    (err = kdx_kmember(s, "mm_struct", "start_brk", &start_brk)) ||
	    (err = kdx_kmember(s, "mm_struct", "brk", &brk)) ||
	    (err = kdx_kmember(s, "mm_struct", "start_stack", &start_stack)) ||
	    (err = kdx_type_sizeof(s, "struct mm_struct", &mm_size)))
		return err;
	kdx_kmember_opt(s, "mm_struct", "rss_stat", &rss);
	if (mm_size > sizeof(buf))
		mm_size = sizeof(buf);
	if ((err = kdx_read(s, mm, buf, mm_size)))
		return kdx_error_prefix(err, "mm_struct at %llx", (unsigned long long)mm);
	info->pgd = kdx_kfield_u(buf, &pgd);
	info->total_vm = kdx_kfield_u(buf, &total_vm);
	info->start_brk = kdx_kfield_u(buf, &start_brk);
	info->brk = kdx_kfield_u(buf, &brk);
	info->start_stack = kdx_kfield_u(buf, &start_stack);
	if (rss.ok && rss.off + rss.size <= mm_size) {
		/* 6.1: struct mm_rss_stat { atomic_long_t count[NR_MM_COUNTERS]; };
		 * MM_FILEPAGES, MM_ANONPAGES, MM_SHMEMPAGES count (MM_SWAPENTS not). */
		/* The enum is anonymous (no DWARF name to look it up by):
		 * MM_FILEPAGES 0, MM_ANONPAGES 1, MM_SWAPENTS 2, MM_SHMEMPAGES 3
		 * in include/linux/mm_types_task.h since 4.5. */
		static const int64_t idx[3] = { 0, 1, 3 };
		for (int i = 0; i < 3; i++) {
			if ((uint64_t)(idx[i] + 1) * 8 > rss.size)
				continue;
			int64_t v = (int64_t)kdx_get_uint(buf + rss.off + 8 * idx[i], 8);
			if (v > 0)
				info->rss_pages += v;
		}
	}
	return NULL;
}

struct vma_ctx {
	struct kdx_vma *v;
	size_t n, cap;
	struct kdx_error *err;
};

static int collect_vma(struct kdx_session *s, uint64_t first, uint64_t last, uint64_t entry, void *arg)
{
	struct vma_ctx *c = arg;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		if (cap > MAX_VMAS) {
			c->err = kdx_error_create(KDX_ERR_INVALID, "more than %d VMAs", MAX_VMAS);
			return 1;
		}
		void *p = realloc(c->v, cap * sizeof(*c->v));
		if (!p) {
			c->err = kdx_error_nomem();
			return 1;
		}
		c->v = p;
		c->cap = cap;
	}
	memset(&c->v[c->n], 0, sizeof(c->v[c->n]));
	c->v[c->n].addr = entry;
	c->v[c->n].start = first;
	c->v[c->n].end = last + 1;
	c->n++;
	return 0;
}

static void vma_special_name(struct kdx_session *s, const struct vma_fields *f,
			     const unsigned char *buf, struct kdx_vma *v)
{
	uint64_t ops = kdx_kfield_u(buf, &f->ops);
	uint64_t a;

	if (!ops)
		return;
	if ((ok(kdx_symbol_lookup(s, "special_mapping_vmops", &a)) && a == ops) ||
	    (ok(kdx_symbol_lookup(s, "legacy_special_mapping_vmops", &a)) && a == ops)) {
		/* vm_private_data is a struct vm_special_mapping whose first member is name */
		uint64_t sm = kdx_kfield_u(buf, &f->priv), name;
		char tmp[64];
		if (sm && ok(kdx_read_u64(s, sm, &name)) && name &&
		    ok(kdx_read_cstr(s, name, tmp, sizeof(tmp))))
			snprintf(v->name, sizeof(v->name), "%s", tmp);
	}
}

struct kdx_error *kdx_mm_vmas(struct kdx_session *s, uint64_t mm, struct kdx_vma **vmas, size_t *n)
{
	struct kdx_kfield mm_mt;
	struct vma_fields f;
	struct kdx_mm_info info;
	struct kdx_error *err;
	struct vma_ctx c = { 0 };

	*vmas = NULL;
	*n = 0;
	if ((err = kdx_kmember(s, "mm_struct", "mm_mt", &mm_mt)))
		return kdx_error_prefix(err, "VMAs (kernels before 6.1 keep them in mm->mmap, not supported)");
	if ((err = vma_fields(s, &f)) || (err = kdx_mm_info(s, mm, &info)))
		return err;
	err = kdx_maple_walk(s, mm + mm_mt.off, collect_vma, &c, NULL);
	if (!err)
		err = c.err;
	if (err) {
		free(c.v);
		return kdx_error_prefix(err, "VMAs of mm %llx", (unsigned long long)mm);
	}
	unsigned char buf[512];
	size_t len = f.size < sizeof(buf) ? f.size : sizeof(buf);
	for (size_t i = 0; i < c.n; i++) {
		struct kdx_vma *v = &c.v[i];
		if (kdx_interrupted(s))
			break;
		if ((err = kdx_read(s, v->addr, buf, len))) {
			kdx_session_report(s, kdx_error_prefix(err, "vm_area_struct at %llx",
							       (unsigned long long)v->addr));
			continue;
		}
		uint64_t start = kdx_kfield_u(buf, &f.start), end = kdx_kfield_u(buf, &f.end);
		if (start != v->start || end != v->end)
			kdx_session_report(s, kdx_error_create(KDX_ERR_INVALID,
				"vm_area_struct %llx: %llx-%llx, but the maple tree says %llx-%llx",
				(unsigned long long)v->addr, (unsigned long long)start,
				(unsigned long long)end, (unsigned long long)v->start,
				(unsigned long long)v->end));
		v->start = start;
		v->end = end;
		v->flags = kdx_kfield_u(buf, &f.flags);
		v->pgoff = kdx_kfield_u(buf, &f.pgoff);
		v->file = kdx_kfield_u(buf, &f.file);
		if (v->file) {
			if ((err = kdx_file_path(s, v->file, v->name, sizeof(v->name)))) {
				snprintf(v->name, sizeof(v->name), "(file %llx: path unreadable)",
					 (unsigned long long)v->file);
				kdx_error_destroy(err);
			}
			continue;
		}
		/* Names /proc/PID/maps gives anonymous mappings (fs/proc/task_mmu.c). */
		vma_special_name(s, &f, buf, v);
		if (v->name[0])
			continue;
		if (v->start <= info.brk && v->end >= info.start_brk)
			snprintf(v->name, sizeof(v->name), "[heap]");
		else if (v->start <= info.start_stack && v->end >= info.start_stack)
			snprintf(v->name, sizeof(v->name), "[stack]");
	}
	*vmas = c.v;
	*n = c.n;
	return NULL;
}

/* ---- vmalloc ---- */

struct va_ctx {
	struct kdx_kfield start, end, vm, caller, nr_pages;
	struct kdx_vmap_area *a;
	size_t n, cap;
	struct kdx_error *err;
};

static int collect_va(struct kdx_session *s, uint64_t entry, uint64_t node, void *arg)
{
	struct va_ctx *c = arg;
	unsigned char buf[128];
	struct kdx_error *err;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		void *p = realloc(c->a, cap * sizeof(*c->a));
		if (!p) {
			c->err = kdx_error_nomem();
			return 1;
		}
		c->a = p;
		c->cap = cap;
	}
	struct kdx_vmap_area *a = &c->a[c->n];
	memset(a, 0, sizeof(*a));
	if ((err = kdx_read(s, entry, buf, 64))) {
		c->err = kdx_error_prefix(err, "vmap_area at %llx", (unsigned long long)entry);
		return 1;
	}
	a->va = entry;
	a->start = kdx_kfield_u(buf, &c->start);
	a->end = kdx_kfield_u(buf, &c->end);
	a->vm = kdx_kfield_u(buf, &c->vm);
	if (a->vm && ok(kdx_read(s, a->vm, buf, 64))) {
		a->caller = kdx_kfield_u(buf, &c->caller);
		a->nr_pages = kdx_kfield_u(buf, &c->nr_pages);
	}
	c->n++;
	return 0;
}

struct kdx_error *kdx_vmap_areas(struct kdx_session *s, struct kdx_vmap_area **areas, size_t *n)
{
	struct va_ctx c = { 0 };
	struct kdx_kfield list;
	struct kdx_error *err;
	uint64_t head;

	*areas = NULL;
	*n = 0;
	if ((err = kdx_kmember(s, "vmap_area", "va_start", &c.start)) ||
	    (err = kdx_kmember(s, "vmap_area", "va_end", &c.end)) ||
	    (err = kdx_kmember(s, "vmap_area", "vm", &c.vm)) ||
	    (err = kdx_kmember(s, "vmap_area", "list", &list)) ||
	    (err = kdx_kmember(s, "vm_struct", "caller", &c.caller)) ||
	    (err = kdx_kvar(s, "vmap_area_list", &head)))
		return err;
	kdx_kmember_opt(s, "vm_struct", "nr_pages", &c.nr_pages);
	if (c.start.off + 8 > 64 || c.vm.off + 8 > 64 || c.caller.off + 8 > 64)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "vmap_area layout: members beyond 64 bytes");
	struct kdx_list_walk w = {
		.kind = KDX_LIST_HEAD, .start = head, .head_is_standalone = 1,
		.link_offset = list.off, .check_links = 1, .max_entries = 10000000,
	};
	err = kdx_list_walk(s, &w, collect_va, &c, NULL);
	if (!err)
		err = c.err;
	if (err) {
		free(c.a);
		return kdx_error_prefix(err, "vmap_area_list");
	}
	*areas = c.a;
	*n = c.n;
	return NULL;
}

/* ---- meminfo ---- */

static int read_stat(struct kdx_session *s, const char *array, const char *enum_type,
		     const char *item, uint64_t *ret)
{
	int64_t idx;
	uint64_t addr, v;

	*ret = 0;
	if (!enum_value(s, enum_type, item, &idx))
		return 0;
	struct kdx_error *err = kdx_kvar(s, array, &addr);
	if (!err)
		err = kdx_read_u64(s, addr + 8 * (uint64_t)idx, &v);
	if (err) {
		kdx_error_destroy(err);
		return 0;
	}
	/* global_*_page_state(): negative (not yet folded) counts read as 0 */
	*ret = (int64_t)v < 0 ? 0 : v;
	return 1;
}

static int read_var(struct kdx_session *s, const char *name, uint64_t size, uint64_t *ret)
{
	uint64_t addr;
	struct kdx_error *err = kdx_kvar(s, name, &addr);

	*ret = 0;
	if (!err)
		err = kdx_read_uint(s, addr, size, ret);
	if (err) {
		kdx_error_destroy(err);
		return 0;
	}
	return 1;
}

struct bdev_ctx {
	struct kdx_kfield i_data_nrpages;
	uint64_t pages;
};

static int add_bdev_pages(struct kdx_session *s, uint64_t inode, uint64_t node, void *arg)
{
	struct bdev_ctx *c = arg;
	uint64_t n;

	if (ok(kdx_read_u64(s, inode + c->i_data_nrpages.off, &n)))
		c->pages += n;
	return 0;
}

/* nr_blockdev_pages(): the page cache of the block devices' inodes. */
static int blockdev_pages(struct kdx_session *s, uint64_t *pages)
{
	struct bdev_ctx c = { 0 };
	struct kdx_kfield s_inodes, i_sb_list;
	uint64_t sb;
	struct kdx_error *err;

	if (!read_var(s, "blockdev_superblock", 8, &sb) || !sb)
		return 0;
	if ((err = kdx_kmember(s, "super_block", "s_inodes", &s_inodes)) ||
	    (err = kdx_kmember(s, "inode", "i_sb_list", &i_sb_list)) ||
	    (err = kdx_kmember(s, "inode", "i_data.nrpages", &c.i_data_nrpages))) {
		kdx_error_destroy(err);
		return 0;
	}
	struct kdx_list_walk w = {
		.kind = KDX_LIST_HEAD, .start = sb + s_inodes.off, .head_is_standalone = 1,
		.link_offset = i_sb_list.off, .check_links = 1, .max_entries = 10000000,
	};
	if ((err = kdx_list_walk(s, &w, add_bdev_pages, &c, NULL))) {
		kdx_error_destroy(err);
		return 0;
	}
	*pages = c.pages;
	return 1;
}

struct kdx_error *kdx_meminfo(struct kdx_session *s, struct kdx_meminfo *mi)
{
	uint64_t file_pages = 0, v;

	memset(mi, 0, sizeof(*mi));
	if (!read_var(s, "_totalram_pages", 8, &mi->total) && !read_var(s, "totalram_pages", 8, &mi->total))
		return kdx_error_create(KDX_ERR_NOT_FOUND, "meminfo: no _totalram_pages");
	if (!read_stat(s, "vm_zone_stat", "enum zone_stat_item", "NR_FREE_PAGES", &mi->free))
		return kdx_error_create(KDX_ERR_NOT_FOUND, "meminfo: cannot read vm_zone_stat[NR_FREE_PAGES]");
	read_stat(s, "vm_node_stat", "enum node_stat_item", "NR_FILE_PAGES", &file_pages);
	read_stat(s, "vm_node_stat", "enum node_stat_item", "NR_SHMEM", &mi->shmem);
	read_stat(s, "vm_node_stat", "enum node_stat_item", "NR_SWAPCACHE", &mi->swapcached);
	if (!read_stat(s, "vm_node_stat", "enum node_stat_item", "NR_SLAB_RECLAIMABLE_B", &mi->slab_reclaimable))
		read_stat(s, "vm_node_stat", "enum node_stat_item", "NR_SLAB_RECLAIMABLE", &mi->slab_reclaimable);
	if (!read_stat(s, "vm_node_stat", "enum node_stat_item", "NR_SLAB_UNRECLAIMABLE_B", &mi->slab_unreclaimable))
		read_stat(s, "vm_node_stat", "enum node_stat_item", "NR_SLAB_UNRECLAIMABLE", &mi->slab_unreclaimable);
	mi->buffers_known = blockdev_pages(s, &mi->buffers);
	/* meminfo_proc_show(): Cached = file pages - swap cache - buffers */
	int64_t cached = (int64_t)file_pages - (int64_t)mi->swapcached - (int64_t)mi->buffers;
	mi->cached = cached > 0 ? (uint64_t)cached : 0;

	/* Swap */
	read_var(s, "total_swap_pages", 8, &mi->swap_total);
	if (read_var(s, "nr_swap_pages", 8, &v))
		mi->swap_free = (int64_t)v < 0 ? 0 : v;

	/* Huge pages of the default hstate (hstates[0]) */
	uint64_t max_hstate = 0, hs;
	if (read_var(s, "hugetlb_max_hstate", 4, &max_hstate) && max_hstate &&
	    ok(kdx_kvar(s, "hstates", &hs))) {
		struct kdx_kfield nr, fr, order;
		if (ok(kdx_kmember(s, "hstate", "nr_huge_pages", &nr)) &&
		    ok(kdx_kmember(s, "hstate", "free_huge_pages", &fr)) &&
		    ok(kdx_kmember(s, "hstate", "order", &order))) {
			uint64_t n = 0, f = 0, o = 0;
			ok(kdx_read_uint(s, hs + nr.off, nr.size, &n));
			ok(kdx_read_uint(s, hs + fr.off, fr.size, &f));
			ok(kdx_read_uint(s, hs + order.off, order.size, &o));
			if (o < 32) {
				mi->huge_total = n << o;
				mi->huge_free = f << o;
			}
		}
	}

	/* vm_commit_limit() and Committed_AS */
	uint64_t kbytes = 0, ratio = 50;
	read_var(s, "sysctl_overcommit_kbytes", 8, &kbytes);
	read_var(s, "sysctl_overcommit_ratio", 4, &ratio);
	if (kbytes)
		mi->commit_limit = kbytes / 4;
	else
		mi->commit_limit = (mi->total - mi->huge_total) * ratio / 100;
	mi->commit_limit += mi->swap_total;
	uint64_t committed;
	struct kdx_kfield count;
	if (ok(kdx_kvar(s, "vm_committed_as", &committed)) &&
	    ok(kdx_kmember(s, "percpu_counter", "count", &count)) &&
	    ok(kdx_read_u64(s, committed + count.off, &v)))
		mi->committed = (int64_t)v < 0 ? 0 : v;
	return NULL;
}
