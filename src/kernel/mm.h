/*
 * Memory-management walkers: a task's VMAs (from mm->mm_mt, the maple
 * tree of 6.1+), file paths of VMAs (dentry + vfsmount walk, like d_path),
 * vmalloc areas, and the /proc/meminfo-style summary behind `kmem -i`.
 */
#ifndef KDX_MM_H
#define KDX_MM_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

/* Direct-map base (page_offset_base) and the kernel stack size
 * (sizeof(union thread_union), 16K on x86_64 without KASAN). */
uint64_t kdx_mm_page_offset(struct kdx_session *s);
uint64_t kdx_mm_thread_size(struct kdx_session *s);

struct kdx_vma {
	uint64_t addr;          /* struct vm_area_struct * */
	uint64_t start, end;
	uint64_t flags;         /* vm_flags */
	uint64_t pgoff;
	uint64_t file;          /* struct file * (0: anonymous) */
	char name[256];         /* file path, or [heap], [stack], [vdso], [vvar], or "" */
};

struct kdx_mm_info {
	uint64_t mm;
	uint64_t pgd;
	uint64_t rss_pages;     /* file + anon + shmem (mm->rss_stat) */
	uint64_t total_vm;      /* pages */
	uint64_t start_brk, brk, start_stack;
};

/* Summary of MM (struct mm_struct *). */
struct kdx_error *kdx_mm_info(struct kdx_session *s, uint64_t mm, struct kdx_mm_info *info);
/* The VMAs of MM in address order; *VMAS is malloc'd (free it). */
struct kdx_error *kdx_mm_vmas(struct kdx_session *s, uint64_t mm, struct kdx_vma **vmas, size_t *n);

/* Path of a struct path {mnt, dentry} at PATH_ADDR ("/bin/busybox"), and of a
 * struct file's f_path. Walks d_parent and mount points like d_path(). */
struct kdx_error *kdx_path_string(struct kdx_session *s, uint64_t path_addr, char *buf, size_t len);
struct kdx_error *kdx_file_path(struct kdx_session *s, uint64_t file, char *buf, size_t len);

struct kdx_vmap_area {
	uint64_t va;            /* struct vmap_area * */
	uint64_t vm;            /* struct vm_struct * (0 for vm_map_ram areas) */
	uint64_t start, end;
	uint64_t caller;
	uint64_t nr_pages;
};
/* Busy vmalloc areas (vmap_area_list) in address order; *AREAS is malloc'd. */
struct kdx_error *kdx_vmap_areas(struct kdx_session *s, struct kdx_vmap_area **areas, size_t *n);

/* /proc/meminfo figures, in pages. */
struct kdx_meminfo {
	uint64_t total, free, buffers, cached, swapcached, shmem;
	uint64_t slab_reclaimable, slab_unreclaimable;
	uint64_t huge_total, huge_free;     /* pages of the default huge page size, in base pages */
	uint64_t swap_total, swap_free;
	uint64_t commit_limit, committed;
	int buffers_known;                  /* 0: blockdev inodes could not be walked */
};
struct kdx_error *kdx_meminfo(struct kdx_session *s, struct kdx_meminfo *mi);

#endif
