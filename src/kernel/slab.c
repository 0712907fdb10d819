/*
 * SLUB walker. See slab.h.
 *
 * Object counts: a cache's total comes from kmem_cache_node.total_objects
 * (CONFIG_SLUB_DEBUG); free objects are those on per-CPU freelists, on the
 * per-CPU slab and per-CPU partial slabs (objects - inuse) and on the node
 * partial lists (objects - inuse). Full slabs are on no list and have no free
 * objects. allocated = total - free.
 */
#include "kernel/slab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "kernel/kernel.h"
#include "kernel/kread.h"
#include "kernel/list.h"
#include "kernel/tasks.h"
#include "symbols/types.h"
#include "targets/mem.h"

/* mm/slub.c: struct kmem_cache_order_objects packs (order << OO_SHIFT) |
 * objects. OO_SHIFT is a #define (no DWARF); it has been 16 since SLUB's
 * variable-order slabs (2.6.25). */
#define OO_SHIFT 16
#define OO_MASK ((1u << OO_SHIFT) - 1)

/* Sanity caps. */
#define MAX_CACHES 16384
#define MAX_NODES 1024

struct bitfield {
	uint64_t off;       /* byte offset of the storage */
	uint32_t shift, bits;
	int ok;
};

struct slab_state {
	/* struct kmem_cache */
	struct kdx_kfield kc_cpu_slab, kc_flags, kc_size, kc_object_size, kc_offset, kc_oo,
		kc_red_left_pad, kc_name, kc_list, kc_random, kc_node;
	uint64_t kc_read_len;
	/* struct kmem_cache_cpu */
	struct kdx_kfield cc_freelist, cc_slab, cc_partial;
	/* struct kmem_cache_node */
	struct kdx_kfield kn_nr_partial, kn_partial, kn_nr_slabs, kn_total_objects;
	uint64_t kn_size;
	/* struct slab */
	struct kdx_kfield sl_slab_list, sl_next, sl_slab_cache, sl_freelist;
	struct bitfield sl_inuse, sl_objects, sl_frozen;
	uint64_t sl_size;
	/* struct page */
	struct kdx_kfield pg_flags, pg_compound_head, pg_mapping, pg_index, pg_refcount, pg_mapcount;
	uint64_t page_size_struct;
	/* memory */
	uint64_t vmemmap, page_offset, page_size, max_pfn;
	int nr_node_ids;
	int pg_slab, pg_head, nr_pageflags;
	const char *flag_names[64];
	/* caches */
	struct kdx_slab_cache *caches;
	size_t ncaches;
	uint64_t *hash;   /* cache addresses, open addressing; index+1 in hidx */
	uint32_t *hidx;
	size_t hmask;
};

static void slab_state_destroy(void *obj)
{
	struct slab_state *st = obj;

	free(st->caches);
	free(st->hash);
	free(st->hidx);
	free(st);
}

static struct kdx_error *bitfield_of(struct kdx_session *s, struct kdx_type *t, const char *name,
				     struct bitfield *bf)
{
	struct kdx_type *mt;
	uint64_t bit;
	uint32_t bsize;
	struct kdx_error *err = kdx_type_member(s->types, t, name, &mt, &bit, &bsize);

	if (err)
		return err;
	if (!bsize)
		bsize = kdx_type_unqualified(mt)->size * 8;
	bf->off = bit / 8;
	bf->shift = bit % 8;
	bf->bits = bsize;
	bf->ok = 1;
	return NULL;
}

static uint64_t bitfield_get(const unsigned char *obj, const struct bitfield *bf)
{
	uint64_t v = 0;
	size_t n = (bf->shift + bf->bits + 7) / 8;

	memcpy(&v, obj + bf->off, n > 8 ? 8 : n);
	v >>= bf->shift;
	if (bf->bits < 64)
		v &= (1ULL << bf->bits) - 1;
	return v;
}

static size_t hash_addr(uint64_t a)
{
	a ^= a >> 31;
	a *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(a >> 17);
}

static int load_pageflags(struct kdx_session *s, struct slab_state *st)
{
	struct kdx_type *t;
	struct kdx_error *err = kdx_type_find(s->types, "enum pageflags", &t);

	st->pg_slab = st->pg_head = -1;
	st->nr_pageflags = 0;
	if (err) {
		kdx_error_destroy(err);
		return 0;
	}
	t = kdx_type_unqualified(t);
	if ((err = kdx_type_complete(s->types, t))) {
		kdx_error_destroy(err);
		return 0;
	}
	for (size_t i = 0; i < t->nenumerators; i++) {
		const struct kdx_enumerator *e = &t->enumerators[i];
		if (!strcmp(e->name, "__NR_PAGEFLAGS")) {
			st->nr_pageflags = (int)e->value;
			continue;
		}
		if (strncmp(e->name, "PG_", 3) || e->value < 0 || e->value >= 64)
			continue;
		/* Aliases (PG_owner_priv_1 = PG_checked...) come later: keep the first name. */
		if (!st->flag_names[e->value])
			st->flag_names[e->value] = e->name + 3;
		if (!strcmp(e->name, "PG_slab"))
			st->pg_slab = (int)e->value;
		if (!strcmp(e->name, "PG_head"))
			st->pg_head = (int)e->value;
	}
	if (!st->nr_pageflags)
		st->nr_pageflags = 64;
	return 1;
}

static struct kdx_error *load_offsets(struct kdx_session *s, struct slab_state *st)
{
	struct kdx_error *err;
	struct kdx_type *t;

	if ((err = kdx_kmember(s, "kmem_cache", "cpu_slab", &st->kc_cpu_slab)) ||
	    (err = kdx_kmember(s, "kmem_cache", "flags", &st->kc_flags)) ||
	    (err = kdx_kmember(s, "kmem_cache", "size", &st->kc_size)) ||
	    (err = kdx_kmember(s, "kmem_cache", "object_size", &st->kc_object_size)) ||
	    (err = kdx_kmember(s, "kmem_cache", "offset", &st->kc_offset)) ||
	    (err = kdx_kmember(s, "kmem_cache", "oo", &st->kc_oo)) ||
	    (err = kdx_kmember(s, "kmem_cache", "name", &st->kc_name)) ||
	    (err = kdx_kmember(s, "kmem_cache", "list", &st->kc_list)) ||
	    (err = kdx_kmember(s, "kmem_cache", "node", &st->kc_node)))
		return kdx_error_prefix(err, "SLUB (is this a SLUB kernel?)");
	kdx_kmember_opt(s, "kmem_cache", "red_left_pad", &st->kc_red_left_pad);
	kdx_kmember_opt(s, "kmem_cache", "random", &st->kc_random);
	st->kc_read_len = st->kc_node.off;
	if ((err = kdx_kmember(s, "kmem_cache_cpu", "freelist", &st->cc_freelist)) ||
	    (err = kdx_kmember(s, "kmem_cache_cpu", "slab", &st->cc_slab)) ||
	    (err = kdx_kmember(s, "kmem_cache_node", "nr_partial", &st->kn_nr_partial)) ||
	    (err = kdx_kmember(s, "kmem_cache_node", "partial", &st->kn_partial)) ||
	    (err = kdx_type_sizeof(s, "struct kmem_cache_node", &st->kn_size)))
		return kdx_error_prefix(err, "SLUB");
	kdx_kmember_opt(s, "kmem_cache_cpu", "partial", &st->cc_partial);
	kdx_kmember_opt(s, "kmem_cache_node", "nr_slabs", &st->kn_nr_slabs);
	kdx_kmember_opt(s, "kmem_cache_node", "total_objects", &st->kn_total_objects);
	if ((err = kdx_kmember(s, "slab", "slab_list", &st->sl_slab_list)) ||
	    (err = kdx_kmember(s, "slab", "slab_cache", &st->sl_slab_cache)) ||
	    (err = kdx_kmember(s, "slab", "freelist", &st->sl_freelist)) ||
	    (err = kdx_type_sizeof(s, "struct slab", &st->sl_size)))
		return kdx_error_prefix(err, "SLUB (struct slab, 5.17+)");
	kdx_kmember_opt(s, "slab", "next", &st->sl_next);
	if ((err = kdx_type_find(s->types, "struct slab", &t)))
		return err;
	t = kdx_type_unqualified(t);
	if ((err = kdx_type_complete(s->types, t)) ||
	    (err = bitfield_of(s, t, "inuse", &st->sl_inuse)) ||
	    (err = bitfield_of(s, t, "objects", &st->sl_objects)) ||
	    (err = bitfield_of(s, t, "frozen", &st->sl_frozen)))
		return kdx_error_prefix(err, "SLUB: struct slab counters");
	if ((err = kdx_kmember(s, "page", "flags", &st->pg_flags)) ||
	    (err = kdx_kmember(s, "page", "compound_head", &st->pg_compound_head)) ||
	    (err = kdx_type_sizeof(s, "struct page", &st->page_size_struct)))
		return kdx_error_prefix(err, "struct page");
	kdx_kmember_opt(s, "page", "mapping", &st->pg_mapping);
	kdx_kmember_opt(s, "page", "index", &st->pg_index);
	kdx_kmember_opt(s, "page", "_refcount", &st->pg_refcount);
	kdx_kmember_opt(s, "page", "_mapcount", &st->pg_mapcount);
	load_pageflags(s, st);

	const struct kdx_mem_layout *l = kdx_mem_layout(s->mem);
	st->vmemmap = l->vmemmap_start;
	st->page_offset = l->page_offset;
	st->page_size = 4096;   /* x86_64 */
	uint64_t addr, v;
	if (!(err = kdx_kvar(s, "max_pfn", &addr)) && !(err = kdx_read_u64(s, addr, &v)))
		st->max_pfn = v;
	else
		return kdx_error_prefix(err, "max_pfn");
	st->nr_node_ids = 1;
	if ((err = kdx_kvar(s, "nr_node_ids", &addr))) {
		kdx_error_destroy(err);
	} else {
		uint32_t n;
		if ((err = kdx_read_u32(s, addr, &n)))
			kdx_error_destroy(err);
		else if (n >= 1 && n <= MAX_NODES)
			st->nr_node_ids = (int)n;
	}
	err = NULL;
	return NULL;
}

static struct kdx_error *read_cache(struct kdx_session *s, struct slab_state *st, uint64_t addr,
				    unsigned char *buf, struct kdx_slab_cache *c)
{
	struct kdx_error *err = kdx_read(s, addr, buf, st->kc_read_len);

	if (err)
		return kdx_error_prefix(err, "struct kmem_cache at %llx", (unsigned long long)addr);
	memset(c, 0, sizeof(*c));
	c->addr = addr;
	c->size = (uint32_t)kdx_kfield_u(buf, &st->kc_size);
	c->object_size = (uint32_t)kdx_kfield_u(buf, &st->kc_object_size);
	c->offset = (uint32_t)kdx_kfield_u(buf, &st->kc_offset);
	c->red_left_pad = (uint32_t)kdx_kfield_u(buf, &st->kc_red_left_pad);
	uint32_t oo = (uint32_t)kdx_kfield_u(buf, &st->kc_oo);
	c->objects = oo & OO_MASK;
	c->order = oo >> OO_SHIFT;
	c->random = kdx_kfield_u(buf, &st->kc_random);
	c->flags = kdx_kfield_u(buf, &st->kc_flags);
	c->cpu_slab = kdx_kfield_u(buf, &st->kc_cpu_slab);
	uint64_t name = kdx_kfield_u(buf, &st->kc_name);
	struct kdx_error *e2 = name ? kdx_read_cstr(s, name, c->name, sizeof(c->name)) : NULL;
	kdx_error_destroy(e2);
	if (!name || e2)
		snprintf(c->name, sizeof(c->name), "(unreadable name at %llx)", (unsigned long long)name);
	return NULL;
}

struct load_ctx {
	struct slab_state *st;
	unsigned char *buf;
	struct kdx_error *err;
	size_t cap;
};

static int load_one(struct kdx_session *s, uint64_t entry, uint64_t node, void *arg)
{
	struct load_ctx *lc = arg;
	struct slab_state *st = lc->st;

	if (st->ncaches == lc->cap) {
		size_t cap = lc->cap ? lc->cap * 2 : 256;
		if (cap > MAX_CACHES) {
			lc->err = kdx_error_create(KDX_ERR_INVALID, "slab_caches: more than %d caches", MAX_CACHES);
			return 1;
		}
		void *p = realloc(st->caches, cap * sizeof(*st->caches));
		if (!p) {
			lc->err = kdx_error_nomem();
			return 1;
		}
		st->caches = p;
		lc->cap = cap;
	}
	struct kdx_error *err = read_cache(s, st, entry, lc->buf, &st->caches[st->ncaches]);
	if (err) {
		lc->err = err;
		return 1;
	}
	st->ncaches++;
	return 0;
}

static struct kdx_error *build_hash(struct slab_state *st)
{
	size_t cap = 64;

	while (cap < st->ncaches * 2)
		cap *= 2;
	st->hash = calloc(cap, sizeof(*st->hash));
	st->hidx = calloc(cap, sizeof(*st->hidx));
	if (!st->hash || !st->hidx)
		return kdx_error_nomem();
	st->hmask = cap - 1;
	for (size_t i = 0; i < st->ncaches; i++) {
		size_t h = hash_addr(st->caches[i].addr) & st->hmask;
		while (st->hash[h])
			h = (h + 1) & st->hmask;
		st->hash[h] = st->caches[i].addr;
		st->hidx[h] = (uint32_t)i;
	}
	return NULL;
}

/* Fill the zeroed state OBJ: offsets, every cache on slab_caches, the hash. */
static struct kdx_error *slab_state_load(struct kdx_session *s, void *obj)
{
	struct slab_state *st = obj;
	struct kdx_error *err;

	if ((err = load_offsets(s, st)))
		return err;
	uint64_t head;
	if ((err = kdx_kvar(s, "slab_caches", &head)))
		return err;
	struct load_ctx lc = { .st = st };
	lc.buf = malloc(st->kc_read_len + 16);
	if (!lc.buf)
		return kdx_error_nomem();
	struct kdx_list_walk w = {
		.kind = KDX_LIST_HEAD, .start = head, .head_is_standalone = 1,
		.link_offset = st->kc_list.off, .check_links = 1,
	};
	err = kdx_list_walk(s, &w, load_one, &lc, NULL);
	free(lc.buf);
	if (lc.err) {
		kdx_error_destroy(err);
		err = lc.err;
	}
	if (err)
		return kdx_error_prefix(err, "slab_caches");
	return build_hash(st);
}

static struct kdx_error *slab_state_get(struct kdx_session *s, struct slab_state **ret)
{
	return kdx_kernel_cached(s, KDX_SLOT_SLAB, sizeof(**ret), slab_state_load,
				 slab_state_destroy, (void **)ret);
}

struct kdx_error *kdx_slab_caches(struct kdx_session *s, const struct kdx_slab_cache **caches,
				  size_t *n)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);

	if (err)
		return err;
	*caches = st->caches;
	*n = st->ncaches;
	return NULL;
}

const struct kdx_slab_cache *kdx_slab_cache_by_addr(struct kdx_session *s, uint64_t addr)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);

	if (err) {
		kdx_error_destroy(err);
		return NULL;
	}
	size_t h = hash_addr(addr) & st->hmask;
	while (st->hash[h]) {
		if (st->hash[h] == addr)
			return &st->caches[st->hidx[h]];
		h = (h + 1) & st->hmask;
	}
	return NULL;
}

const struct kdx_slab_cache *kdx_slab_cache_find(struct kdx_session *s, const char *name)
{
	const struct kdx_slab_cache *c;
	size_t n;
	struct kdx_error *err = kdx_slab_caches(s, &c, &n);

	if (err) {
		kdx_error_destroy(err);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(c[i].name, name))
			return &c[i];
	if (name[0] == '0' || strspn(name, "0123456789abcdefxX") == strlen(name)) {
		uint64_t a = strtoull(name, NULL, 16);
		return kdx_slab_cache_by_addr(s, a);
	}
	return NULL;
}

/* ---- slabs and freelists ---- */

static inline uint64_t swab64(uint64_t v)
{
	return __builtin_bswap64(v);
}

/* Decode a stored free pointer found at PTR_ADDR. */
static inline uint64_t freeptr_decode(const struct slab_state *st, const struct kdx_slab_cache *c,
				      uint64_t stored, uint64_t ptr_addr)
{
	if (!st->kc_random.ok)
		return stored;
	return stored ^ c->random ^ swab64(ptr_addr);
}

static uint64_t slab_base_of(const struct slab_state *st, uint64_t slab)
{
	uint64_t pfn = (slab - st->vmemmap) / st->page_size_struct;
	return st->page_offset + pfn * st->page_size;
}

struct slab_hdr {
	uint64_t slab_cache, freelist, next;
	uint32_t inuse, objects;
	int frozen;
};

static struct kdx_error *read_slab(struct kdx_session *s, const struct slab_state *st, uint64_t slab,
				   struct slab_hdr *h)
{
	unsigned char buf[256];
	size_t len = st->sl_size < sizeof(buf) ? st->sl_size : sizeof(buf);
	struct kdx_error *err = kdx_read(s, slab, buf, len);

	if (err)
		return kdx_error_prefix(err, "struct slab at %llx", (unsigned long long)slab);
	h->slab_cache = kdx_kfield_u(buf, &st->sl_slab_cache);
	h->freelist = kdx_kfield_u(buf, &st->sl_freelist);
	h->next = kdx_kfield_u(buf, &st->sl_next);
	h->inuse = (uint32_t)bitfield_get(buf, &st->sl_inuse);
	h->objects = (uint32_t)bitfield_get(buf, &st->sl_objects);
	h->frozen = (int)bitfield_get(buf, &st->sl_frozen);
	return NULL;
}

/*
 * Walk a freelist starting at HEAD inside the slab at BASE holding NOBJ
 * objects; mark free objects in MAP (may be NULL); count them.
 */
static struct kdx_error *walk_freelist(struct kdx_session *s, const struct slab_state *st,
				       const struct kdx_slab_cache *c, uint64_t head, uint64_t base,
				       uint32_t nobj, unsigned char *map, uint32_t *count)
{
	uint64_t p = head;
	uint32_t n = 0;

	while (p) {
		if (p < base || p >= base + (uint64_t)nobj * c->size || (p - base - c->red_left_pad) % c->size)
			return kdx_error_create(KDX_ERR_INVALID,
				"%s: freelist of slab at %llx: bad free pointer %llx",
				c->name, (unsigned long long)base, (unsigned long long)p);
		if (n > nobj)
			return kdx_error_create(KDX_ERR_INVALID, "%s: freelist of slab at %llx loops",
						c->name, (unsigned long long)base);
		if (map) {
			uint32_t idx = (uint32_t)((p - base - c->red_left_pad) / c->size);
			if (map[idx])
				return kdx_error_create(KDX_ERR_INVALID,
					"%s: freelist of slab at %llx loops at %llx",
					c->name, (unsigned long long)base, (unsigned long long)p);
			map[idx] = 1;
		}
		n++;
		uint64_t stored;
		struct kdx_error *err = kdx_read_u64(s, p + c->offset, &stored);
		if (err)
			return kdx_error_prefix(err, "%s: free object %llx", c->name, (unsigned long long)p);
		p = freeptr_decode(st, c, stored, p + c->offset);
	}
	*count = n;
	return NULL;
}

/* Per-CPU state of a cache on CPU. */
struct cpu_slab {
	uint64_t freelist, slab, partial;
};

static struct kdx_error *read_cpu_slab(struct kdx_session *s, const struct slab_state *st,
				       const struct kdx_slab_cache *c, int cpu, struct cpu_slab *cs)
{
	uint64_t off;
	unsigned char buf[64];
	struct kdx_error *err = kdx_percpu_offset(s, cpu, &off);

	if (err)
		return err;
	uint64_t a = c->cpu_slab + off;
	if ((err = kdx_read(s, a, buf, 32)))
		return kdx_error_prefix(err, "%s: kmem_cache_cpu of CPU %d", c->name, cpu);
	cs->freelist = kdx_kfield_u(buf, &st->cc_freelist);
	cs->slab = kdx_kfield_u(buf, &st->cc_slab);
	cs->partial = kdx_kfield_u(buf, &st->cc_partial);
	return NULL;
}

static void note_error(struct kdx_session *s, struct kdx_slab_stats *out, struct kdx_error *err)
{
	out->errors++;
	kdx_session_report(s, err);
}

struct partial_ctx {
	const struct slab_state *st;
	uint64_t free, slabs;
	struct kdx_slab_stats *out;
};

static int count_partial(struct kdx_session *s, uint64_t slab, uint64_t node, void *arg)
{
	struct partial_ctx *pc = arg;
	struct slab_hdr h;
	struct kdx_error *err = read_slab(s, pc->st, slab, &h);

	if (err) {
		note_error(s, pc->out, err);
		return 0;
	}
	if (h.objects >= h.inuse)
		pc->free += h.objects - h.inuse;
	pc->slabs++;
	return 0;
}

struct kdx_error *kdx_slab_cache_stats(struct kdx_session *s, const struct kdx_slab_cache *c,
				       struct kdx_slab_stats *out)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);

	memset(out, 0, sizeof(*out));
	if (err)
		return err;
	/* Nodes: totals and partial lists. */
	for (int n = 0; n < st->nr_node_ids; n++) {
		uint64_t node;
		unsigned char buf[256];
		if ((err = kdx_read_u64(s, c->addr + st->kc_node.off + 8 * (uint64_t)n, &node)))
			return kdx_error_prefix(err, "%s: node[%d]", c->name, n);
		if (!node)
			continue;
		if ((err = kdx_read(s, node, buf, st->kn_size < sizeof(buf) ? st->kn_size : sizeof(buf))))
			return kdx_error_prefix(err, "%s: kmem_cache_node %d", c->name, n);
		out->slabs += kdx_kfield_u(buf, &st->kn_nr_slabs);
		out->total += kdx_kfield_u(buf, &st->kn_total_objects);
		struct partial_ctx pc = { .st = st, .out = out };
		struct kdx_list_walk w = {
			.kind = KDX_LIST_HEAD, .start = node + st->kn_partial.off, .head_is_standalone = 1,
			.link_offset = st->sl_slab_list.off, .check_links = 1, .max_entries = 10000000,
		};
		if ((err = kdx_list_walk(s, &w, count_partial, &pc, NULL)))
			note_error(s, out, kdx_error_prefix(err, "%s: node %d partial list", c->name, n));
		out->node_free += pc.free;
		out->partial += pc.slabs;
	}
	out->free = out->node_free;
	/* Per-CPU slabs of every possible CPU: a panic takes the other CPUs
	 * out of cpu_online_mask, but their per-CPU slabs stay. */
	int ncpu = kdx_cpu_count(s);
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct cpu_slab cs;
		if ((err = read_cpu_slab(s, st, c, cpu, &cs))) {
			note_error(s, out, err);
			continue;
		}
		if (cs.slab) {
			struct slab_hdr h;
			uint32_t nfree = 0;
			if ((err = read_slab(s, st, cs.slab, &h))) {
				note_error(s, out, err);
			} else {
				out->cpu_slabs++;
				if (h.objects >= h.inuse)
					out->free += h.objects - h.inuse;
				err = walk_freelist(s, st, c, cs.freelist, slab_base_of(st, cs.slab),
						    h.objects, NULL, &nfree);
				if (err)
					note_error(s, out, err);
				else
					out->free += nfree;
			}
		}
		uint64_t p = cs.partial;
		for (int guard = 0; p && guard < 100000; guard++) {
			struct slab_hdr h;
			if ((err = read_slab(s, st, p, &h))) {
				note_error(s, out, err);
				break;
			}
			out->cpu_slabs++;
			if (h.objects >= h.inuse)
				out->free += h.objects - h.inuse;
			p = h.next;
		}
	}
	out->allocated = out->total >= out->free ? out->total - out->free : 0;
	return NULL;
}

/* ---- pages ---- */

struct kdx_error *kdx_page_geometry(struct kdx_session *s, uint64_t *vmemmap, uint64_t *page_size,
				    uint64_t *struct_page_size, uint64_t *max_pfn)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);

	if (err)
		return err;
	if (vmemmap)
		*vmemmap = st->vmemmap;
	if (page_size)
		*page_size = st->page_size;
	if (struct_page_size)
		*struct_page_size = st->page_size_struct;
	if (max_pfn)
		*max_pfn = st->max_pfn;
	return NULL;
}

struct kdx_error *kdx_page_from_addr(struct kdx_session *s, uint64_t addr, uint64_t *page, uint64_t *pfn)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);
	uint64_t phys;

	if (err)
		return err;
	if (addr >= st->page_offset && addr < st->page_offset + st->max_pfn * st->page_size) {
		phys = addr - st->page_offset;
	} else if ((err = kdx_mem_kvtop(s->mem, addr, &phys))) {
		return err;
	}
	uint64_t f = phys / st->page_size;
	if (pfn)
		*pfn = f;
	if (page)
		*page = st->vmemmap + f * st->page_size_struct;
	return NULL;
}

struct kdx_error *kdx_page_read(struct kdx_session *s, uint64_t page, struct kdx_page_info *pi)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);
	unsigned char buf[256];

	if (err)
		return err;
	size_t len = st->page_size_struct < sizeof(buf) ? st->page_size_struct : sizeof(buf);
	if ((err = kdx_read(s, page, buf, len)))
		return kdx_error_prefix(err, "struct page at %llx", (unsigned long long)page);
	memset(pi, 0, sizeof(*pi));
	pi->page = page;
	pi->pfn = (page - st->vmemmap) / st->page_size_struct;
	pi->flags = kdx_kfield_u(buf, &st->pg_flags);
	pi->mapping = kdx_kfield_u(buf, &st->pg_mapping);
	pi->index = kdx_kfield_u(buf, &st->pg_index);
	pi->refcount = (int32_t)kdx_kfield_u(buf, &st->pg_refcount);
	pi->mapcount = (int32_t)kdx_kfield_u(buf, &st->pg_mapcount);
	uint64_t ch = kdx_kfield_u(buf, &st->pg_compound_head);
	pi->compound_head = (ch & 1) ? ch - 1 : 0;
	if (st->pg_slab >= 0 && (pi->flags >> st->pg_slab) & 1)
		pi->slab_cache = kdx_get_uint(buf + st->sl_slab_cache.off, 8);
	return NULL;
}

int kdx_page_flag_bit(struct kdx_session *s, const char *name)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);

	if (err) {
		kdx_error_destroy(err);
		return -1;
	}
	for (int i = 0; i < 64; i++)
		if (st->flag_names[i] && !strcmp(st->flag_names[i], name))
			return i;
	return -1;
}

void kdx_page_flags_format(struct kdx_session *s, uint64_t flags, char *buf, size_t len)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);
	size_t used = 0;

	buf[0] = 0;
	if (err) {
		kdx_error_destroy(err);
		return;
	}
	for (int i = 0; i < st->nr_pageflags && i < 64; i++) {
		if (!((flags >> i) & 1) || !st->flag_names[i])
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", st->flag_names[i]);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += n;
	}
}

/* ---- lookups ---- */

/* The slab (head page) of ADDR, if ADDR is in slab memory. */
static struct kdx_error *slab_of(struct kdx_session *s, struct slab_state *st, uint64_t addr,
				 uint64_t *slabp, struct slab_hdr *h, const struct kdx_slab_cache **cp)
{
	if (addr < st->page_offset || addr >= st->page_offset + st->max_pfn * st->page_size)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "%llx: not in the direct map", (unsigned long long)addr);
	uint64_t pfn = (addr - st->page_offset) / st->page_size;
	uint64_t page = st->vmemmap + pfn * st->page_size_struct;
	struct kdx_error *err;
	/* flags and compound_head: read up to the later of the two */
	size_t need = st->pg_compound_head.off + 8 > st->pg_flags.off + 8 ?
		st->pg_compound_head.off + 8 : st->pg_flags.off + 8;
	unsigned char big[64];
	if (need > sizeof(big))
		need = sizeof(big);
	if ((err = kdx_read(s, page, big, need)))
		return kdx_error_prefix(err, "struct page at %llx", (unsigned long long)page);
	uint64_t ch = kdx_kfield_u(big, &st->pg_compound_head);
	uint64_t head = page;
	uint64_t flags = kdx_kfield_u(big, &st->pg_flags);
	if (ch & 1) {
		head = ch - 1;
		if ((err = kdx_read(s, head, big, need)))
			return kdx_error_prefix(err, "head struct page at %llx", (unsigned long long)head);
		flags = kdx_kfield_u(big, &st->pg_flags);
	}
	if (st->pg_slab < 0 || !((flags >> st->pg_slab) & 1))
		return kdx_error_create(KDX_ERR_NOT_FOUND, "%llx: not a slab page", (unsigned long long)addr);
	if ((err = read_slab(s, st, head, h)))
		return err;
	const struct kdx_slab_cache *c = kdx_slab_cache_by_addr(s, h->slab_cache);
	if (!c)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "%llx: slab page %llx names an unknown cache %llx",
					(unsigned long long)addr, (unsigned long long)head,
					(unsigned long long)h->slab_cache);
	*slabp = head;
	*cp = c;
	return NULL;
}

/* slab_of() with the session's slab state, returned in *STP. */
static struct kdx_error *slab_of_addr(struct kdx_session *s, uint64_t addr, struct slab_state **stp,
				      uint64_t *slabp, struct slab_hdr *h,
				      const struct kdx_slab_cache **cp)
{
	struct kdx_error *err = slab_state_get(s, stp);

	if (err)
		return err;
	return slab_of(s, *stp, addr, slabp, h, cp);
}

struct kdx_error *kdx_slab_lookup(struct kdx_session *s, uint64_t addr, const char **cache_name,
				  uint64_t *obj_start, uint64_t *obj_size)
{
	struct slab_state *st;
	struct slab_hdr h;
	const struct kdx_slab_cache *c;
	uint64_t slab;
	struct kdx_error *err = slab_of_addr(s, addr, &st, &slab, &h, &c);

	if (err)
		return err;
	uint64_t base = slab_base_of(st, slab) + c->red_left_pad;
	if (addr < base || !c->size)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "%llx: in the left padding of a %s slab",
					(unsigned long long)addr, c->name);
	uint64_t idx = (addr - base) / c->size;
	if (idx >= h.objects)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "%llx: in the unused tail of a %s slab",
					(unsigned long long)addr, c->name);
	if (cache_name)
		*cache_name = c->name;
	if (obj_start)
		*obj_start = base + idx * c->size;
	if (obj_size)
		*obj_size = c->size;
	return NULL;
}

/* Free-object map of SLAB (1 = free): slab->freelist plus, for a CPU's
 * active slab, that CPU's freelist. */
static struct kdx_error *free_map(struct kdx_session *s, struct slab_state *st,
				  const struct kdx_slab_cache *c, uint64_t slab, const struct slab_hdr *h,
				  unsigned char *map)
{
	uint64_t base = slab_base_of(st, slab);
	uint32_t n;
	struct kdx_error *err = walk_freelist(s, st, c, h->freelist, base, h->objects, map, &n);

	if (err)
		return err;
	if (!h->frozen)
		return NULL;
	int ncpu = kdx_cpu_count(s);
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct cpu_slab cs;
		if ((err = read_cpu_slab(s, st, c, cpu, &cs))) {
			kdx_error_destroy(err);
			continue;
		}
		if (cs.slab == slab)
			return walk_freelist(s, st, c, cs.freelist, base, h->objects, map, &n);
	}
	return NULL;
}

struct kdx_error *kdx_slab_object(struct kdx_session *s, uint64_t addr, struct kdx_slab_object *o)
{
	struct slab_state *st;
	struct slab_hdr h;
	const struct kdx_slab_cache *c;
	uint64_t slab;
	struct kdx_error *err = slab_of_addr(s, addr, &st, &slab, &h, &c);

	if (err)
		return err;
	memset(o, 0, sizeof(*o));
	o->cache = c;
	o->slab = slab;
	o->slab_base = slab_base_of(st, slab);
	o->objects = h.objects;
	o->inuse = h.inuse;
	o->frozen = h.frozen;
	o->obj_free = -1;
	uint64_t base = o->slab_base + c->red_left_pad;
	unsigned char *map = calloc(h.objects ? h.objects : 1, 1);
	if (!map)
		return kdx_error_nomem();
	struct kdx_error *e2 = free_map(s, st, c, slab, &h, map);
	if (e2) {
		kdx_session_report(s, e2);
	} else {
		o->nfree_known = 1;
		for (uint32_t i = 0; i < h.objects; i++)
			o->nfree += map[i];
	}
	if (addr >= base && c->size) {
		uint64_t idx = (addr - base) / c->size;
		if (idx < h.objects) {
			o->obj = base + idx * c->size;
			o->obj_free = e2 ? -1 : map[idx];
		}
	}
	free(map);
	return NULL;
}

struct kdx_error *kdx_slab_for_each_object(struct kdx_session *s, const struct kdx_slab_cache *c,
					   uint64_t slab,
					   int (*fn)(struct kdx_session *s, uint64_t obj, int is_free, void *arg),
					   void *arg)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);
	struct slab_hdr h;

	if (err)
		return err;
	if ((err = read_slab(s, st, slab, &h)))
		return err;
	unsigned char *map = calloc(h.objects ? h.objects : 1, 1);
	if (!map)
		return kdx_error_nomem();
	err = free_map(s, st, c, slab, &h, map);
	uint64_t base = slab_base_of(st, slab) + c->red_left_pad;
	for (uint32_t i = 0; i < h.objects; i++)
		if (fn(s, base + (uint64_t)i * c->size, err ? -1 : map[i], arg))
			break;
	free(map);
	return err;
}

struct kdx_error *kdx_slab_for_each_slab(struct kdx_session *s, const struct kdx_slab_cache *c,
					 int (*fn)(struct kdx_session *s, uint64_t slab, void *arg),
					 void *arg)
{
	struct slab_state *st;
	struct kdx_error *err = slab_state_get(s, &st);

	if (err)
		return err;
	if (st->pg_slab < 0)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "enum pageflags has no PG_slab");
	/* Read struct pages in chunks; a chunk that cannot be read (a hole in
	 * vmemmap) is skipped page by page. */
	const uint64_t chunk = 512;
	size_t psz = st->page_size_struct;
	unsigned char *buf = malloc(chunk * psz);
	if (!buf)
		return kdx_error_nomem();
	for (uint64_t pfn = 0; pfn < st->max_pfn; pfn += chunk) {
		uint64_t n = st->max_pfn - pfn < chunk ? st->max_pfn - pfn : chunk;
		uint64_t page0 = st->vmemmap + pfn * psz;
		if (kdx_interrupted(s)) {
			free(buf);
			return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
		}
		if ((err = kdx_read(s, page0, buf, n * psz))) {
			kdx_error_destroy(err);
			err = NULL;
			/* page by page */
			for (uint64_t i = 0; i < n; i++) {
				struct kdx_error *e = kdx_read(s, page0 + i * psz, buf + i * psz, psz);
				if (e) {
					kdx_error_destroy(e);
					memset(buf + i * psz, 0, psz);
				}
			}
		}
		for (uint64_t i = 0; i < n; i++) {
			const unsigned char *p = buf + i * psz;
			uint64_t flags = kdx_kfield_u(p, &st->pg_flags);
			if (!((flags >> st->pg_slab) & 1))
				continue;
			if (kdx_kfield_u(p, &st->pg_compound_head) & 1)
				continue;
			if (kdx_get_uint(p + st->sl_slab_cache.off, 8) != c->addr)
				continue;
			if (fn(s, page0 + i * psz, arg)) {
				free(buf);
				return NULL;
			}
		}
	}
	free(buf);
	return NULL;
}
