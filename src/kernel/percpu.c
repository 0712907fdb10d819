/*
 * Per-CPU data: __per_cpu_offset[], nr_cpu_ids and the online mask, read
 * once per session.
 */
#include "kernel/tasks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "kernel/kernel.h"
#include "kernel/kread.h"
#include "symbols/types.h"
#include "targets/target.h"

/* Sanity cap on CPU numbers (NR_CPUS of distribution kernels is <= 8192). */
#define MAX_CPUS 8192

struct percpu_cache {
	int nr_cpu_ids;
	uint64_t *offsets;      /* nr_cpu_ids entries */
	unsigned char *online;  /* nr_cpu_ids entries: 1 online, 0 not */
	unsigned char *present; /* nr_cpu_ids entries: 1 present */
	int nonline, npresent;
};

static void percpu_destroy(void *obj)
{
	struct percpu_cache *c = obj;

	free(c->offsets);
	free(c->online);
	free(c->present);
	free(c);
}

/* Read the cpumask variable NAME (or its older alias) into MASK; 0 if absent. */
static int read_mask(struct kdx_session *s, int nr, const char *name, const char *alias,
		     unsigned char *mask)
{
	uint64_t addr;
	struct kdx_error *err = kdx_kvar(s, name, &addr);

	if (err) {
		kdx_error_destroy(err);
		err = kdx_kvar(s, alias, &addr);
	}
	for (int w = 0; !err && w * 64 < nr; w++) {
		uint64_t bits;
		err = kdx_read_u64(s, addr + 8 * (uint64_t)w, &bits);
		for (int b = 0; !err && b < 64 && w * 64 + b < nr; b++)
			mask[w * 64 + b] = (bits >> b) & 1;
	}
	if (err) {
		kdx_error_destroy(err);
		return 0;
	}
	return 1;
}

/*
 * At a panic the other CPUs take themselves out of cpu_online_mask
 * (stop_this_cpu), so the online mask of a dump usually shows only the
 * crashing CPU. Walkers enumerate the present CPUs instead.
 */
static void read_masks(struct kdx_session *s, struct percpu_cache *c)
{
	int nr = c->nr_cpu_ids;

	if (!read_mask(s, nr, "__cpu_online_mask", "cpu_online_mask", c->online))
		memset(c->online, 1, (size_t)nr);
	if (!read_mask(s, nr, "__cpu_present_mask", "cpu_present_mask", c->present))
		memset(c->present, 1, (size_t)nr);
	c->nonline = c->npresent = 0;
	for (int i = 0; i < nr; i++) {
		c->present[i] |= c->online[i];
		c->nonline += c->online[i];
		c->npresent += c->present[i];
	}
}

/* Never fails but for memory: what cannot be read falls back to 1 CPU, offset 0. */
static struct kdx_error *percpu_load(struct kdx_session *s, void *obj)
{
	struct percpu_cache *c = obj;
	uint64_t addr, v;
	struct kdx_error *err;

	c->nr_cpu_ids = 1;
	err = kdx_kvar(s, "nr_cpu_ids", &addr);
	if (!err)
		err = kdx_read_uint(s, addr, 4, &v);
	if (!err && v >= 1 && v <= MAX_CPUS)
		c->nr_cpu_ids = (int)v;
	else if (s->target && s->target->ncpus > 0)
		c->nr_cpu_ids = (int)s->target->ncpus;
	kdx_error_destroy(err);

	c->offsets = calloc((size_t)c->nr_cpu_ids, sizeof(*c->offsets));
	c->online = calloc((size_t)c->nr_cpu_ids, 1);
	c->present = calloc((size_t)c->nr_cpu_ids, 1);
	if (!c->offsets || !c->online || !c->present)
		return kdx_error_nomem();
	err = kdx_kvar(s, "__per_cpu_offset", &addr);
	if (!err)
		err = kdx_read(s, addr, c->offsets, (size_t)c->nr_cpu_ids * 8);
	if (err) {
		/* A UP kernel has no __per_cpu_offset: offset 0. */
		kdx_error_destroy(err);
		memset(c->offsets, 0, (size_t)c->nr_cpu_ids * 8);
	}
	read_masks(s, c);
	return NULL;
}

static struct percpu_cache *percpu_get(struct kdx_session *s)
{
	struct percpu_cache *c;

	if (!kdx_ok(kdx_kernel_cached(s, KDX_SLOT_PERCPU, sizeof(*c), percpu_load, percpu_destroy,
				      (void **)&c)))
		return NULL;
	return c;
}

struct kdx_error *kdx_percpu_offset(struct kdx_session *s, int cpu, uint64_t *ret)
{
	struct percpu_cache *c = percpu_get(s);

	if (!c)
		return kdx_error_nomem();
	if (cpu < 0 || cpu >= c->nr_cpu_ids)
		return kdx_error_create(KDX_ERR_INVALID, "CPU %d out of range (0-%d)",
					cpu, c->nr_cpu_ids - 1);
	*ret = c->offsets[cpu];
	return NULL;
}

int kdx_cpu_count(struct kdx_session *s)
{
	struct percpu_cache *c = percpu_get(s);

	return c ? c->nr_cpu_ids : 1;
}

int kdx_cpu_online(struct kdx_session *s, int cpu)
{
	struct percpu_cache *c = percpu_get(s);

	if (!c || cpu < 0 || cpu >= c->nr_cpu_ids)
		return 0;
	return c->online[cpu];
}

int kdx_cpu_present(struct kdx_session *s, int cpu)
{
	struct percpu_cache *c = percpu_get(s);

	if (!c || cpu < 0 || cpu >= c->nr_cpu_ids)
		return 0;
	return c->present[cpu];
}

int kdx_cpu_present_count(struct kdx_session *s)
{
	struct percpu_cache *c = percpu_get(s);

	return c ? c->npresent : 1;
}

int kdx_cpu_online_count(struct kdx_session *s)
{
	struct percpu_cache *c = percpu_get(s);

	return c ? c->nonline : 1;
}

struct kdx_error *kdx_percpu_addr(struct kdx_session *s, const char *name, int cpu,
				  uint64_t *ret)
{
	uint64_t base, off;
	struct kdx_error *err = kdx_kvar(s, name, &base);

	if (err)
		return err;
	err = kdx_percpu_offset(s, cpu, &off);
	if (err)
		return err;
	*ret = base + off;
	return NULL;
}
