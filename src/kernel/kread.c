#include "kernel/kread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "kernel/kernel.h"
#include "symbols/symbols.h"
#include "symbols/types.h"

static struct kdx_error *kmember_lookup(struct kdx_session *s, const char *sname, const char *path,
				       struct kdx_kfield *f)
{
	char tname[128];
	struct kdx_type *t, *mt;
	uint64_t bitoff;
	uint32_t bitsize;
	struct kdx_error *err;

	memset(f, 0, sizeof(*f));
	snprintf(tname, sizeof(tname), "struct %s", sname);
	err = kdx_type_find(s->types, tname, &t);
	if (err)
		return err;
	err = kdx_type_member(s->types, t, path, &mt, &bitoff, &bitsize);
	if (err)
		return err;
	f->off = bitoff / 8;
	mt = kdx_type_unqualified(mt);
	f->size = mt ? mt->size : 0;
	f->ok = 1;
	return NULL;
}

/*
 * Per-session cache of lookups, hits and misses alike, so that commands may
 * ask per object (ps -s, ps -a) without walking DWARF each time. Open
 * addressing on "struct\0path".
 */
struct kmember_entry {
	char *key;              /* "sname.path" */
	struct kdx_kfield f;
	char *miss;             /* error message of a failed lookup, or NULL */
	enum kdx_error_code code;
};

struct kmember_cache {
	struct kmember_entry *e;
	size_t cap, n;
};

static void kmember_cache_destroy(void *obj)
{
	struct kmember_cache *c = obj;

	for (size_t i = 0; i < c->cap; i++) {
		free(c->e[i].key);
		free(c->e[i].miss);
	}
	free(c->e);
	free(c);
}

static uint64_t hash_str(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static struct kdx_error *kmember_cache_load(struct kdx_session *s, void *obj)
{
	struct kmember_cache *c = obj;

	(void)s;
	c->e = calloc(256, sizeof(*c->e));
	if (!c->e)
		return kdx_error_nomem();
	c->cap = 256;
	return NULL;
}

static struct kmember_cache *kmember_cache(struct kdx_session *s)
{
	struct kmember_cache *c;

	if (!kdx_ok(kdx_kernel_cached(s, KDX_SLOT_KMEMBER, sizeof(*c), kmember_cache_load,
				      kmember_cache_destroy, (void **)&c)))
		return NULL;
	return c;
}

static struct kmember_entry *kmember_find(struct kmember_cache *c, const char *key)
{
	size_t i = hash_str(key) & (c->cap - 1);

	while (c->e[i].key && strcmp(c->e[i].key, key))
		i = (i + 1) & (c->cap - 1);
	return &c->e[i];
}

static void kmember_grow(struct kmember_cache *c)
{
	struct kmember_entry *old = c->e;
	size_t ocap = c->cap;
	struct kmember_entry *ne = calloc(ocap * 2, sizeof(*ne));

	if (!ne)
		return;
	c->e = ne;
	c->cap = ocap * 2;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key)
			*kmember_find(c, old[i].key) = old[i];
	free(old);
}

struct kdx_error *kdx_kmember(struct kdx_session *s, const char *sname, const char *path,
			      struct kdx_kfield *f)
{
	struct kmember_cache *c = kmember_cache(s);
	char key[256];
	struct kdx_error *err;

	if (!c || snprintf(key, sizeof(key), "%s.%s", sname, path) >= (int)sizeof(key))
		return kmember_lookup(s, sname, path, f);
	struct kmember_entry *e = kmember_find(c, key);
	if (e->key) {
		*f = e->f;
		return e->miss ? kdx_error_create(e->code, "%s", e->miss) : NULL;
	}
	err = kmember_lookup(s, sname, path, f);
	if ((c->n + 1) * 2 > c->cap) {
		kmember_grow(c);
		if ((c->n + 2) > c->cap)
			return err;     /* could not grow: do not cache */
		e = kmember_find(c, key);
	}
	e->key = strdup(key);
	if (!e->key)
		return err;
	e->f = *f;
	if (err) {
		e->miss = strdup(err->message);
		e->code = err->code;
		if (!e->miss) {
			free(e->key);
			e->key = NULL;
			return err;
		}
	}
	c->n++;
	return err;
}

void kdx_kmember_opt(struct kdx_session *s, const char *sname, const char *path,
		     struct kdx_kfield *f)
{
	kdx_error_destroy(kdx_kmember(s, sname, path, f));
}

struct kdx_error *kdx_kvar(struct kdx_session *s, const char *name, uint64_t *addr)
{
	return kdx_symbol_lookup(s, name, addr);
}

uint64_t kdx_get_uint(const void *buf, uint64_t size)
{
	const unsigned char *p = buf;
	uint64_t v = 0;

	if (size > 8)
		size = 8;
	for (uint64_t i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int64_t kdx_get_int(const void *buf, uint64_t size)
{
	uint64_t v = kdx_get_uint(buf, size);

	if (size > 0 && size < 8 && (v >> (8 * size - 1)) & 1)
		v |= ~0ULL << (8 * size);
	return (int64_t)v;
}

struct kdx_error *kdx_read_uint(struct kdx_session *s, uint64_t addr, uint64_t size, uint64_t *ret)
{
	unsigned char b[8];
	struct kdx_error *err;

	if (size == 0 || size > 8)
		size = 8;
	err = kdx_read(s, addr, b, size);
	if (err)
		return err;
	*ret = kdx_get_uint(b, size);
	return NULL;
}
