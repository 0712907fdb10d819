/*
 * kmem: memory summary, SLUB caches, pages, vmalloc areas, and "what is
 * this address".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "kernel/list.h"
#include "kernel/mm.h"
#include "kernel/slab.h"
#include "kernel/tasks.h"
#include "symbols/symbols.h"
#include "util.h"

static const struct kdx_command *self(void);

/* Success test that disposes of the error. */
static int ok(struct kdx_error *err)
{
	if (err) {
		kdx_error_destroy(err);
		return 0;
	}
	return 1;
}

static const char cache_header[] =
	"CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n";

static void print_cache_line(struct kdx_session *s, const struct kdx_slab_cache *c,
			     const struct kdx_slab_stats *st)
{
	fprintf(s->out, "%-16llx %8u %10llu %9llu %6llu %5lluk  %s\n",
		(unsigned long long)c->addr, c->object_size, (unsigned long long)st->allocated,
		(unsigned long long)st->total, (unsigned long long)st->slabs,
		(unsigned long long)((4096ULL << c->order) / 1024), c->name);
}

static struct kdx_error *show_caches(struct kdx_session *s, const char *name)
{
	const struct kdx_slab_cache *caches;
	size_t n;
	struct kdx_error *err = kdx_slab_caches(s, &caches, &n);

	if (err)
		return kdx_error_prefix(err, "kmem");
	if (name) {
		/* one cache, by name or struct kmem_cache address */
		const struct kdx_slab_cache *c = kdx_slab_cache_find(s, name);
		if (!c)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "kmem: no slab cache named %s", name);
		caches = c;
		n = 1;
	}
	fputs(cache_header, s->out);
	for (size_t i = 0; i < n; i++) {
		const struct kdx_slab_cache *c = &caches[i];
		struct kdx_slab_stats st;
		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "kmem: interrupted");
		if ((err = kdx_slab_cache_stats(s, c, &st))) {
			kdx_session_report(s, err);
			continue;
		}
		print_cache_line(s, c, &st);
	}
	return NULL;
}

struct slab_list_ctx {
	const struct kdx_slab_cache *c;
	uint64_t slabs;
	struct kdx_error *err;
};

static int print_object(struct kdx_session *s, uint64_t obj, int is_free, void *arg)
{
	if (is_free > 0)
		fprintf(s->out, "   %llx\n", (unsigned long long)obj);
	else if (is_free == 0)
		fprintf(s->out, "  [%llx]\n", (unsigned long long)obj);
	else
		fprintf(s->out, "  ?%llx\n", (unsigned long long)obj);
	return kdx_interrupted(s);
}

static void print_slab_header(struct kdx_session *s, const struct kdx_slab_object *o)
{
	fprintf(s->out, "  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE\n");
	uint32_t nfree = o->nfree_known ? o->nfree :
		o->objects - (o->inuse <= o->objects ? o->inuse : o->objects);
	fprintf(s->out, "  %-16llx  %-16llx  %4d  %5u  %9u  %4u\n",
		(unsigned long long)o->slab, (unsigned long long)o->slab_base, o->node,
		o->objects, o->objects - nfree, nfree);
}

static int list_slab(struct kdx_session *s, uint64_t slab, void *arg)
{
	struct slab_list_ctx *lc = arg;
	struct kdx_slab_object o;
	uint64_t vmemmap, psz, spsz;
	struct kdx_error *err = kdx_page_geometry(s, &vmemmap, &psz, &spsz, NULL);
	if (err) {
		lc->err = err;
		return 1;
	}
	/* The slab's memory: any address inside identifies it. */
	uint64_t mem = kdx_mm_page_offset(s) + (slab - vmemmap) / spsz * psz;
	if ((err = kdx_slab_object(s, mem + lc->c->red_left_pad, &o))) {
		kdx_session_report(s, err);
		return kdx_interrupted(s);
	}
	lc->slabs++;
	print_slab_header(s, &o);
	fprintf(s->out, "  FREE / [ALLOCATED]\n");
	if ((err = kdx_slab_for_each_object(s, lc->c, slab, print_object, NULL)))
		kdx_session_report(s, err);
	return kdx_interrupted(s);
}

static struct kdx_error *show_cache_objects(struct kdx_session *s, const char *name)
{
	const struct kdx_slab_cache *c = kdx_slab_cache_find(s, name);
	struct kdx_slab_stats st;
	struct kdx_error *err;

	if (!c)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "kmem: no slab cache named %s", name);
	if ((err = kdx_slab_cache_stats(s, c, &st)))
		return err;
	fputs(cache_header, s->out);
	print_cache_line(s, c, &st);
	struct slab_list_ctx lc = { .c = c };
	err = kdx_slab_for_each_slab(s, c, list_slab, &lc);
	if (!err && lc.err)
		err = lc.err;
	return err;
}

static const char page_header[] =
	"      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS\n";

static void print_page_line(struct kdx_session *s, const struct kdx_page_info *pi)
{
	char names[512];
	uint64_t psz;

	kdx_page_geometry(s, NULL, &psz, NULL, NULL);
	kdx_page_flags_format(s, pi->flags, names, sizeof(names));
	fprintf(s->out, "%-16llx %8llx %16llx %8llx %2d %llx %s\n",
		(unsigned long long)pi->page, (unsigned long long)(pi->pfn * psz),
		(unsigned long long)pi->mapping, (unsigned long long)pi->index,
		pi->refcount, (unsigned long long)pi->flags, names);
}

static struct kdx_error *show_pages(struct kdx_session *s, const char *arg)
{
	uint64_t vmemmap, psz, spsz, max_pfn;
	struct kdx_error *err = kdx_page_geometry(s, &vmemmap, &psz, &spsz, &max_pfn);
	struct kdx_page_info pi;

	if (err)
		return kdx_error_prefix(err, "kmem -p");
	if (arg) {
		uint64_t addr, page, pfn;
		if ((err = kdx_resolve_address(s, arg, &addr, NULL)))
			return kdx_error_prefix(err, "kmem -p");
		/* a struct page address, or an address whose page is wanted */
		if (addr >= vmemmap && addr < vmemmap + max_pfn * spsz)
			page = vmemmap + (addr - vmemmap) / spsz * spsz;
		else if (addr < max_pfn * psz)   /* a physical address, as crash takes it */
			page = vmemmap + addr / psz * spsz;
		else if ((err = kdx_page_from_addr(s, addr, &page, &pfn)))
			return kdx_error_prefix(err, "kmem -p %s", arg);
		if ((err = kdx_page_read(s, page, &pi)))
			return err;
		fputs(page_header, s->out);
		print_page_line(s, &pi);
		return NULL;
	}
	fputs(page_header, s->out);
	uint64_t bad = 0;
	for (uint64_t pfn = 0; pfn < max_pfn; pfn++) {
		if ((pfn & 1023) == 0 && kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "kmem -p: interrupted");
		if ((err = kdx_page_read(s, vmemmap + pfn * spsz, &pi))) {
			kdx_error_destroy(err);
			bad++;
			continue;
		}
		print_page_line(s, &pi);
	}
	if (bad && !fflush(s->out))
		fprintf(stderr, "kmem -p: %llu struct pages could not be read (holes in the memory map)\n",
			(unsigned long long)bad);
	return NULL;
}

static struct kdx_error *show_vmalloc(struct kdx_session *s)
{
	struct kdx_vmap_area *va;
	size_t n;
	struct kdx_error *err = kdx_vmap_areas(s, &va, &n);

	if (err)
		return kdx_error_prefix(err, "kmem -v");
	fprintf(s->out, "VMAP_AREA         VM_STRUCT                 ADDRESS RANGE                SIZE\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(s->out, "%-16llx  %-16llx  %llx - %llx  %8llu",
			(unsigned long long)va[i].va, (unsigned long long)va[i].vm,
			(unsigned long long)va[i].start, (unsigned long long)va[i].end,
			(unsigned long long)(va[i].end - va[i].start));
		if (va[i].caller) {
			char sym[256];
			kdx_symbol_format(s, va[i].caller, sym, sizeof(sym));
			fprintf(s->out, "  %s", sym);
		}
		fputc('\n', s->out);
	}
	free(va);
	return NULL;
}

static void pct_line(struct kdx_session *s, const char *label, uint64_t pages, uint64_t whole,
		     const char *of)
{
	char total[32];
	double bytes = (double)pages * 4096.0;

	if (pages == 0)
		snprintf(total, sizeof(total), "0");
	else if (bytes >= 1024.0 * 1024 * 1024)
		snprintf(total, sizeof(total), "%.1f GB", bytes / (1024.0 * 1024 * 1024));
	else if (bytes >= 1024.0 * 1024)
		snprintf(total, sizeof(total), "%.1f MB", bytes / (1024.0 * 1024));
	else
		snprintf(total, sizeof(total), "%.1f KB", bytes / 1024.0);
	if (!of)
		fprintf(s->out, "%13s  %8llu  %11s         ----\n", label, (unsigned long long)pages, total);
	else
		fprintf(s->out, "%13s  %8llu  %11s  %3d%% of %s\n", label, (unsigned long long)pages, total,
			whole ? (int)(pages * 100 / whole) : 0, of);
}

static struct kdx_error *show_info(struct kdx_session *s)
{
	struct kdx_meminfo mi;
	struct kdx_error *err = kdx_meminfo(s, &mi);

	if (err)
		return kdx_error_prefix(err, "kmem -i");
	fprintf(s->out, "                 PAGES        TOTAL      PERCENTAGE\n");
	pct_line(s, "TOTAL MEM", mi.total, 0, NULL);
	pct_line(s, "FREE", mi.free, mi.total, "TOTAL MEM");
	pct_line(s, "USED", mi.total - mi.free, mi.total, "TOTAL MEM");
	pct_line(s, "SHARED", mi.shmem, mi.total, "TOTAL MEM");
	pct_line(s, "BUFFERS", mi.buffers, mi.total, "TOTAL MEM");
	pct_line(s, "CACHED", mi.cached, mi.total, "TOTAL MEM");
	pct_line(s, "SLAB", mi.slab_reclaimable + mi.slab_unreclaimable, mi.total, "TOTAL MEM");
	fputc('\n', s->out);
	pct_line(s, "TOTAL HUGE", mi.huge_total, 0, NULL);
	pct_line(s, "HUGE FREE", mi.huge_free, mi.huge_total, "TOTAL HUGE");
	fputc('\n', s->out);
	pct_line(s, "TOTAL SWAP", mi.swap_total, 0, NULL);
	pct_line(s, "SWAP USED", mi.swap_total - mi.swap_free, mi.swap_total, "TOTAL SWAP");
	pct_line(s, "SWAP FREE", mi.swap_free, mi.swap_total, "TOTAL SWAP");
	fputc('\n', s->out);
	pct_line(s, "COMMIT LIMIT", mi.commit_limit, 0, NULL);
	pct_line(s, "COMMITTED", mi.committed, mi.commit_limit, "TOTAL LIMIT");
	return NULL;
}

/* kmem ADDR: everything we can say about ADDR. */
static struct kdx_error *show_address(struct kdx_session *s, const char *arg)
{
	uint64_t addr;
	struct kdx_error *err = kdx_resolve_address(s, arg, &addr, NULL);
	int said = 0;

	if (err)
		return kdx_error_prefix(err, "kmem");
	struct kdx_slab_object o;
	if (!(err = kdx_slab_object(s, addr, &o))) {
		struct kdx_slab_stats st;
		fputs(cache_header, s->out);
		if ((err = kdx_slab_cache_stats(s, o.cache, &st)))
			kdx_session_report(s, err);
		else
			print_cache_line(s, o.cache, &st);
		print_slab_header(s, &o);
		fprintf(s->out, "  FREE / [ALLOCATED]\n");
		if (!o.obj)
			fprintf(s->out, "  (%llx is in the slab's unused tail)\n", (unsigned long long)addr);
		else if (o.obj_free > 0)
			fprintf(s->out, "   %llx  (free; %llx is at offset %llu)\n", (unsigned long long)o.obj,
				(unsigned long long)addr, (unsigned long long)(addr - o.obj));
		else
			fprintf(s->out, "  [%llx]%s  (%llx is at offset %llu of the object)\n",
				(unsigned long long)o.obj, o.obj_free < 0 ? "?" : "",
				(unsigned long long)addr, (unsigned long long)(addr - o.obj));
		said = 1;
	} else {
		kdx_error_destroy(err);
	}

	/* Task stacks. */
	struct kdx_task *tasks;
	size_t ntasks;
	uint64_t stack_size = kdx_mm_thread_size(s);
	if (ok(kdx_tasks(s, &tasks, &ntasks))) {
		for (size_t i = 0; i < ntasks; i++) {
			if (tasks[i].stack && addr >= tasks[i].stack && addr < tasks[i].stack + stack_size) {
				fprintf(s->out, "%llx: kernel stack of PID %d (%s), task %llx, stack %llx-%llx\n",
					(unsigned long long)addr, tasks[i].pid, tasks[i].comm,
					(unsigned long long)tasks[i].addr, (unsigned long long)tasks[i].stack,
					(unsigned long long)(tasks[i].stack + stack_size));
				said = 1;
			}
			if (addr == tasks[i].addr && !said) {
				fprintf(s->out, "%llx: task_struct of PID %d (%s)\n",
					(unsigned long long)addr, tasks[i].pid, tasks[i].comm);
				said = 1;
			}
		}
	}

	/* vmalloc areas. */
	struct kdx_vmap_area *va;
	size_t nva;
	if (ok(kdx_vmap_areas(s, &va, &nva))) {
		for (size_t i = 0; i < nva; i++) {
			if (addr < va[i].start || addr >= va[i].end)
				continue;
			fprintf(s->out, "VMAP_AREA         VM_STRUCT                 ADDRESS RANGE                SIZE\n");
			fprintf(s->out, "%-16llx  %-16llx  %llx - %llx  %8llu\n",
				(unsigned long long)va[i].va, (unsigned long long)va[i].vm,
				(unsigned long long)va[i].start, (unsigned long long)va[i].end,
				(unsigned long long)(va[i].end - va[i].start));
			said = 1;
		}
		free(va);
	}

	/* Kernel (or module) symbol. */
	uint64_t off;
	const struct kdx_symbol *sym = kdx_symbol_by_addr(s->symtab, addr, &off);
	if (sym && (!sym->size || off < sym->size)) {
		fprintf(s->out, "%llx (%c) %s", (unsigned long long)addr, sym->type, sym->name);
		if (off)
			fprintf(s->out, "+%llu", (unsigned long long)off);
		if (sym->module)
			fprintf(s->out, " [%s]", sym->module);
		fputc('\n', s->out);
		said = 1;
	}

	/* The page (ADDR itself may be a struct page in vmemmap). */
	uint64_t page, pfn, vmemmap, spsz, max_pfn;
	int is_page = ok(kdx_page_geometry(s, &vmemmap, NULL, &spsz, &max_pfn)) &&
		      addr >= vmemmap && addr < vmemmap + max_pfn * spsz;
	if (is_page)
		page = vmemmap + (addr - vmemmap) / spsz * spsz;
	if (is_page || ok(kdx_page_from_addr(s, addr, &page, &pfn))) {
		struct kdx_page_info pi;
		if (!(err = kdx_page_read(s, page, &pi))) {
			if (said)
				fputc('\n', s->out);
			fputs(page_header, s->out);
			print_page_line(s, &pi);
			said = 1;
		} else {
			kdx_session_report(s, err);
		}
	}
	if (!said)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "kmem: %llx: not a slab object, task stack, "
					"vmalloc area, symbol or mapped kernel address",
					(unsigned long long)addr);
	return NULL;
}

static struct kdx_error *cmd_kmem(struct kdx_session *s, int argc, char **argv)
{
	int opt, i = 0, sflag = 0, S = 0, p = 0, v = 0;

	optind = 0;
	opterr = 0;
	while ((opt = getopt(argc, argv, "isSpvV")) != -1) {
		switch (opt) {
		case 'i': i = 1; break;
		case 's': sflag = 1; break;
		case 'S': S = 1; break;
		case 'p': p = 1; break;
		case 'v': v = 1; break;
		default: return kdx_command_usage(self());
		}
	}
	int npos = argc - optind;
	const char *arg = npos ? argv[optind] : NULL;
	if (npos > 1 || i + sflag + S + p + v > 1)
		return kdx_command_usage(self());
	if (i)
		return show_info(s);
	if (sflag)
		return show_caches(s, arg);
	if (S) {
		if (!arg)
			return kdx_error_create(KDX_ERR_SYNTAX, "kmem -S: name a cache (kmem -S kmalloc-64)");
		return show_cache_objects(s, arg);
	}
	if (p)
		return show_pages(s, arg);
	if (v)
		return show_vmalloc(s);
	if (!arg)
		return kdx_command_usage(self());
	return show_address(s, arg);
}

const struct kdx_command kdx_cmd_kmem = {
	.name = "kmem",
	.usage = "kmem [-i | -s [CACHE] | -S CACHE | -p [ADDR] | -v | ADDR]",
	.summary = "kernel memory: summary, slab caches, pages, vmalloc, what an address is",
	.help =
"  kmem -i          memory summary (like /proc/meminfo): TOTAL MEM, FREE, USED,\n"
"                   SHARED, BUFFERS, CACHED, SLAB, huge pages, swap, commit.\n"
"  kmem -s [CACHE]  SLUB caches: object size, allocated and total objects, slabs,\n"
"                   slab size. ALLOCATED counts objects on the per-CPU freelists,\n"
"                   per-CPU slabs and partial lists as free; /proc/slabinfo's\n"
"                   active_objs counts only node-partial free objects, so it can\n"
"                   be a little higher than ALLOCATED.\n"
"  kmem -S CACHE    every slab of CACHE with its objects: [ADDR] allocated,\n"
"                   ADDR free (all of memory's struct pages are scanned: full\n"
"                   slabs are on no list).\n"
"  kmem -p [ADDR]   struct page of ADDR (a kernel virtual or physical address,\n"
"                   or a struct page), or of every page: PAGE, PHYSICAL,\n"
"                   MAPPING, INDEX, CNT, FLAGS.\n"
"  kmem -v          vmalloc areas (vmap_area_list) with their callers.\n"
"  kmem ADDR        what ADDR is: slab cache and object (start, offset inside,\n"
"                   free or allocated), kernel stack of which task, vmalloc area,\n"
"                   kernel or module symbol, and its struct page.\n",
	.run = cmd_kmem,
};

static const struct kdx_command *self(void) { return &kdx_cmd_kmem; }
