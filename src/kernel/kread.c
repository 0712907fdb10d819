#include "kernel/kread.h"

#include <stdio.h>
#include <string.h>

#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"

struct kdx_error *kdx_kmember(struct kdx_session *s, const char *sname, const char *path,
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
