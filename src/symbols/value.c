/*
 * Typed values: loading scalars from the target, member access,
 * dereference, indexing, address-of, global symbols and strings.
 *
 * Scalar rvalues keep their bits in v->u, normalized to the type: truncated
 * to its size and sign-extended when the type is signed, so that v->i is the
 * C value of a signed type and v->u that of an unsigned one.
 */
#include "symbols/value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "kernel/kernel.h"

/* Types are shared with the type table: strip typedefs and qualifiers. */
static struct kdx_type *bare(struct kdx_type *t)
{
	return kdx_value_type_bare(t);
}

struct kdx_type *kdx_value_type_bare(struct kdx_type *t)
{
	/* Qualified copies keep their kind; only typedefs need peeling. Done
	 * here rather than through kdx_type_unqualified so that synthesized
	 * types (unit tests, literals) work too. */
	for (int i = 0; t && t->kind == KDX_TYPE_TYPEDEF && t->target && i < 64; i++)
		t = t->target;
	return t;
}

uint64_t kdx_value_normalize(struct kdx_type *type, uint64_t u)
{
	struct kdx_type *t = bare(type);
	uint64_t size = t ? t->size : 8;

	if (t && t->kind == KDX_TYPE_INT && t->is_bool)
		return u != 0;
	if (size == 0 || size >= 8)
		return u;
	uint64_t mask = (1ULL << (size * 8)) - 1;
	u &= mask;
	if (t && (t->kind == KDX_TYPE_INT || t->kind == KDX_TYPE_ENUM) && t->is_signed &&
	    (u >> (size * 8 - 1)) & 1)
		u |= ~mask;
	return u;
}

void kdx_value_init_int(struct kdx_value *v, struct kdx_type *type, uint64_t u)
{
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->u = kdx_value_normalize(type, u);
}

void kdx_value_lvalue(struct kdx_value *v, struct kdx_type *type, uint64_t addr)
{
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->is_lvalue = 1;
	v->addr = addr;
}

void kdx_value_release(struct kdx_value *v)
{
	if (!v)
		return;
	free(v->bytes);
	v->bytes = NULL;
	v->nbytes = 0;
}

struct kdx_error *kdx_value_copy(struct kdx_value *dst, const struct kdx_value *src)
{
	*dst = *src;
	if (src->bytes) {
		dst->bytes = malloc(src->nbytes ? src->nbytes : 1);
		if (!dst->bytes)
			return kdx_error_nomem();
		memcpy(dst->bytes, src->bytes, src->nbytes);
	}
	return NULL;
}

struct kdx_error *kdx_value_read_mem(struct kdx_session *s, uint64_t addr, void *buf, size_t len)
{
	struct kdx_error *err;

	if (!s || !s->mem)
		return kdx_error_fault(addr, "cannot read %zu bytes at 0x%llx: no memory source",
				       len, (unsigned long long)addr);
	err = kdx_read(s, addr, buf, len);
	if (!err)
		return NULL;
	if (err->code == KDX_ERR_FAULT) {
		char hex[32];
		snprintf(hex, sizeof(hex), "%llx", (unsigned long long)addr);
		/* Keep the lower layer's reason; say what we were reading once. */
		struct kdx_error *e = kdx_error_fault(err->has_address ? err->address : addr,
			"cannot read %zu bytes at 0x%s: %s", len, hex, err->message);
		kdx_error_destroy(err);
		return e;
	}
	return err;
}

/* Extract BIT_SIZE bits at BIT_OFFSET (little-endian) from BUF. */
static uint64_t extract_bits(const unsigned char *buf, uint64_t bit_offset, uint32_t bit_size)
{
	uint64_t lo = 0, hi = 0;
	size_t first = bit_offset / 8;
	unsigned shift = bit_offset % 8;

	for (int i = 0; i < 8; i++)
		lo |= (uint64_t)buf[first + i] << (8 * i);
	hi = buf[first + 8];
	uint64_t v = lo >> shift;
	if (shift)
		v |= hi << (64 - shift);
	if (bit_size < 64)
		v &= (1ULL << bit_size) - 1;
	return v;
}

uint64_t kdx_value_scalar_from_bytes(struct kdx_type *type, const unsigned char *buf,
				     uint64_t bit_offset, uint32_t bit_size)
{
	struct kdx_type *t = bare(type);
	uint64_t u = 0;

	if (bit_size) {
		unsigned char tmp[24] = {0};
		memcpy(tmp, buf + bit_offset / 8, (bit_offset % 8 + bit_size + 7) / 8);
		u = extract_bits(tmp, bit_offset % 8, bit_size);
		if (t->is_signed && bit_size < 64 && (u >> (bit_size - 1)) & 1)
			u |= ~((1ULL << bit_size) - 1);
		return t->is_bool ? u != 0 : u;
	}
	size_t n = t->size > 8 ? 8 : t->size;
	if (t->kind == KDX_TYPE_POINTER && !n)
		n = 8;
	memcpy(&u, buf, n);   /* x86_64 target and host: little-endian */
	return kdx_value_normalize(t, u);
}

static int is_scalar(struct kdx_type *t)
{
	return t->kind == KDX_TYPE_INT || t->kind == KDX_TYPE_POINTER ||
	       t->kind == KDX_TYPE_ENUM || t->kind == KDX_TYPE_FLOAT;
}

struct kdx_error *kdx_value_as_u64(struct kdx_session *s, const struct kdx_value *v, uint64_t *ret)
{
	struct kdx_type *t = bare(v->type);
	struct kdx_error *err;

	if (!t)
		return kdx_error_create(KDX_ERR_INVALID, "value has no type");
	/* Arrays and functions decay to their address. */
	if (t->kind == KDX_TYPE_ARRAY || t->kind == KDX_TYPE_FUNCTION) {
		if (!v->is_lvalue)
			return kdx_error_create(KDX_ERR_INVALID, "array value has no address");
		*ret = v->addr;
		return NULL;
	}
	if (!is_scalar(t)) {
		char *name = kdx_type_to_string(v->type, NULL);
		struct kdx_error *e = kdx_error_create(KDX_ERR_INVALID,
			"%s is not a number or pointer", name ? name : "value");
		free(name);
		return e;
	}
	if (t->kind == KDX_TYPE_FLOAT) {
		double d = 0;
		if (v->is_lvalue) {
			if (t->size == 4) {
				float f;
				if ((err = kdx_value_read_mem(s, v->addr, &f, 4)))
					return err;
				d = f;
			} else if ((err = kdx_value_read_mem(s, v->addr, &d, 8))) {
				return err;
			}
		} else {
			d = v->f;
		}
		*ret = (uint64_t)(int64_t)d;
		return NULL;
	}
	if (!v->is_lvalue) {
		if (v->bytes) {
			*ret = kdx_value_scalar_from_bytes(t, v->bytes, v->bit_offset, v->bit_size);
			return NULL;
		}
		*ret = v->u;
		return NULL;
	}
	unsigned char buf[24] = {0};
	size_t len = v->bit_size ? (v->bit_offset + v->bit_size + 7) / 8 : t->size;
	if (len > 16 || (!v->bit_size && len > 8))
		len = v->bit_size ? 16 : 8;
	if (!len)
		len = 8;
	if ((err = kdx_value_read_mem(s, v->addr, buf, len)))
		return err;
	*ret = kdx_value_scalar_from_bytes(t, buf, v->bit_offset, v->bit_size);
	return NULL;
}

struct kdx_error *kdx_value_as_i64(struct kdx_session *s, const struct kdx_value *v, int64_t *ret)
{
	uint64_t u;
	struct kdx_error *err = kdx_value_as_u64(s, v, &u);
	if (!err)
		*ret = (int64_t)u;
	return err;
}

/* A struct's C name for messages: "struct task_struct", "union (anonymous)". */
static char *type_name(struct kdx_type *t)
{
	char *n = kdx_type_to_string(t, NULL);
	return n ? n : strdup("value");
}

struct kdx_error *kdx_value_member(struct kdx_session *s, const struct kdx_value *v,
				   const char *member, struct kdx_value *ret)
{
	struct kdx_type *t = bare(v->type), *mtype;
	uint64_t bitoff;
	uint32_t bitsize;
	struct kdx_error *err;

	if (!t || (t->kind != KDX_TYPE_STRUCT && t->kind != KDX_TYPE_UNION)) {
		char *n = type_name(v->type);
		err = kdx_error_create(KDX_ERR_INVALID, "cannot take member \"%s\" of %s (not a struct or union)",
				       member, n);
		free(n);
		return err;
	}
	err = kdx_type_member(s->types, v->type, member, &mtype, &bitoff, &bitsize);
	if (err) {
		if (err->code == KDX_ERR_NOT_FOUND) {
			char *n = type_name(v->type);
			kdx_error_destroy(err);
			err = kdx_error_create(KDX_ERR_NOT_FOUND, "%s has no member \"%s\"", n, member);
			free(n);
		}
		return err;
	}
	memset(ret, 0, sizeof(*ret));
	ret->type = mtype;
	ret->bit_size = bitsize;
	if (v->is_lvalue) {
		ret->is_lvalue = 1;
		ret->addr = v->addr + bitoff / 8;
		ret->bit_offset = bitsize ? bitoff % 8 : 0;
		return NULL;
	}
	/* rvalue struct: slice its bytes */
	struct kdx_type *mt = bare(mtype);
	size_t start = bitoff / 8;
	size_t len = bitsize ? (bitoff % 8 + bitsize + 7) / 8 : mt->size;
	if (!v->bytes || start + len > v->nbytes)
		return kdx_error_create(KDX_ERR_INVALID, "member \"%s\" lies outside the value", member);
	if (is_scalar(mt) && len <= 16) {
		unsigned char tmp[24] = {0};
		memcpy(tmp, v->bytes + start, len);
		ret->u = kdx_value_scalar_from_bytes(mt, tmp, bitsize ? bitoff % 8 : 0, bitsize);
		ret->bit_size = 0;
		return NULL;
	}
	ret->bytes = malloc(len ? len : 1);
	if (!ret->bytes)
		return kdx_error_nomem();
	memcpy(ret->bytes, v->bytes + start, len);
	ret->nbytes = len;
	return NULL;
}

struct kdx_error *kdx_value_deref(struct kdx_session *s, const struct kdx_value *v,
				  struct kdx_value *ret)
{
	struct kdx_type *t = bare(v->type);
	uint64_t addr;
	struct kdx_error *err;

	if (t && t->kind == KDX_TYPE_ARRAY)
		return kdx_value_index(s, v, 0, ret);
	if (!t || t->kind != KDX_TYPE_POINTER) {
		char *n = type_name(v->type);
		err = kdx_error_create(KDX_ERR_INVALID, "cannot dereference %s (not a pointer)", n);
		free(n);
		return err;
	}
	struct kdx_type *target = t->target ? t->target : NULL;
	if (!target || bare(target)->kind == KDX_TYPE_VOID)
		return kdx_error_create(KDX_ERR_INVALID, "cannot dereference a void pointer (cast it first)");
	if ((err = kdx_value_as_u64(s, v, &addr)))
		return err;
	kdx_value_lvalue(ret, target, addr);
	return NULL;
}

struct kdx_error *kdx_value_index(struct kdx_session *s, const struct kdx_value *v,
				  int64_t index, struct kdx_value *ret)
{
	struct kdx_type *t = bare(v->type), *elem;
	uint64_t base;
	struct kdx_error *err;

	if (!t || (t->kind != KDX_TYPE_ARRAY && t->kind != KDX_TYPE_POINTER)) {
		char *n = type_name(v->type);
		err = kdx_error_create(KDX_ERR_INVALID, "cannot index %s (not an array or pointer)", n);
		free(n);
		return err;
	}
	elem = t->target;
	if (!elem || bare(elem)->kind == KDX_TYPE_VOID)
		return kdx_error_create(KDX_ERR_INVALID, "cannot index a void pointer (cast it first)");
	uint64_t esize = bare(elem)->size;
	if (t->kind == KDX_TYPE_ARRAY && !v->is_lvalue) {
		if (!v->bytes || index < 0 || (uint64_t)(index + 1) * esize > v->nbytes)
			return kdx_error_create(KDX_ERR_INVALID, "index %lld outside the array",
						(long long)index);
		struct kdx_value tmp;
		memset(&tmp, 0, sizeof(tmp));
		tmp.type = elem;
		tmp.bytes = v->bytes + index * esize;
		tmp.nbytes = esize;
		/* copy so that RET owns its bytes */
		if (is_scalar(bare(elem)) && esize <= 8) {
			memset(ret, 0, sizeof(*ret));
			ret->type = elem;
			ret->u = kdx_value_scalar_from_bytes(elem, tmp.bytes, 0, 0);
			return NULL;
		}
		return kdx_value_copy(ret, &tmp);
	}
	if (t->kind == KDX_TYPE_ARRAY)
		base = v->addr;
	else if ((err = kdx_value_as_u64(s, v, &base)))
		return err;
	kdx_value_lvalue(ret, elem, base + (uint64_t)index * esize);
	return NULL;
}

struct kdx_error *kdx_value_address_of(struct kdx_session *s, const struct kdx_value *v,
				       struct kdx_value *ret)
{
	if (!v->is_lvalue)
		return kdx_error_create(KDX_ERR_INVALID, "cannot take the address of a value that is not in memory");
	if (v->bit_size)
		return kdx_error_create(KDX_ERR_INVALID, "cannot take the address of a bit field");
	struct kdx_type *pt = s && s->types ? kdx_type_pointer_to(s->types, v->type) : NULL;
	if (!pt)
		return kdx_error_create(KDX_ERR_INVALID, "cannot make a pointer type");
	kdx_value_init_int(ret, pt, v->addr);
	return NULL;
}

int kdx_value_is_percpu_addr(uint64_t addr)
{
	/* x86_64 per-CPU variables live at small offsets in .data..percpu
	 * (linked at 0); every real kernel address is in the top half. */
	return addr < 0x100000000ULL;
}

static struct kdx_type *find_type_quiet(struct kdx_session *s, const char *name)
{
	struct kdx_type *t = NULL;
	struct kdx_error *err;

	if (!s->types)
		return NULL;
	err = kdx_type_find(s->types, name, &t);
	if (err) {
		kdx_error_destroy(err);
		return NULL;
	}
	return t;
}

struct kdx_error *kdx_value_symbol(struct kdx_session *s, const char *name, struct kdx_value *ret)
{
	struct kdx_type *type = NULL;
	uint64_t addr = 0;
	unsigned vflags = 0;
	int64_t ev;
	struct kdx_error *err = NULL;

	if (s->types) {
		err = kdx_variable_lookup(s, name, &type, &addr, &vflags);
		if (!err && type) {
			/* "extern char x[];" declarations leave the size out: the
			 * ELF symbol knows it (linux_banner is char [204]) */
			struct kdx_type *b = bare(type);
			const struct kdx_symbol *sym;
			if (b->kind == KDX_TYPE_ARRAY && !b->nelem_known && b->target && bare(b->target)->size &&
			    s->symtab && (sym = kdx_symbol_by_name(s->symtab, name, NULL)) &&
			    sym->addr == addr && sym->size) {
				struct kdx_type *fixed = kdx_type_array_of(s->types, b->target,
									   sym->size / bare(b->target)->size, 1);
				if (fixed)
					type = fixed;
			}
			kdx_value_lvalue(ret, type, addr);
			return NULL;
		}
		kdx_error_destroy(err);
		/* enumeration constants: PIDTYPE_PID, TASK_COMM_LEN... */
		err = kdx_enumerator_find(s->types, name, &type, &ev);
		if (!err) {
			kdx_value_init_int(ret, type, (uint64_t)ev);
			return NULL;
		}
		kdx_error_destroy(err);
	}
	const struct kdx_symbol *sym = s->symtab ? kdx_symbol_by_name(s->symtab, name, NULL) : NULL;
	if (!sym)
		return kdx_error_create(KDX_ERR_NOT_FOUND,
					"no symbol \"%s\" in vmlinux or loaded modules", name);
	struct kdx_type *ul = find_type_quiet(s, "unsigned long");
	if (!ul)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no type information for \"%s\"", name);
	switch (sym->type) {
	case 'T': case 't': case 'W': case 'w': case 'A': case 'a':
	case 'U': case 'u': case 'V': case 'v': case 'i': case 'I':
		/* text or absolute: the symbol's value is its address */
		kdx_value_init_int(ret, ul, sym->addr);
		return NULL;
	default:
		/* data without debuginfo: read it as an unsigned long */
		kdx_value_lvalue(ret, ul, sym->addr);
		return NULL;
	}
}

struct kdx_error *kdx_value_string(struct kdx_session *s, const struct kdx_value *v,
				   char *buf, size_t len)
{
	struct kdx_type *t = bare(v->type);
	struct kdx_error *err;

	if (!len)
		return NULL;
	buf[0] = 0;
	if (t && t->kind == KDX_TYPE_ARRAY) {
		size_t n = t->size < len - 1 ? t->size : len - 1;
		if (v->is_lvalue) {
			if ((err = kdx_value_read_mem(s, v->addr, buf, n)))
				return err;
		} else {
			if (n > v->nbytes)
				n = v->nbytes;
			memcpy(buf, v->bytes, n);
		}
		buf[n] = 0;
		return NULL;
	}
	if (t && t->kind == KDX_TYPE_POINTER) {
		uint64_t addr;
		if ((err = kdx_value_as_u64(s, v, &addr)))
			return err;
		if (!addr)
			return kdx_error_fault(0, "cannot read a string at NULL");
		return kdx_read_cstr(s, addr, buf, len);
	}
	char *n = type_name(v->type);
	err = kdx_error_create(KDX_ERR_INVALID, "%s is not a string", n);
	free(n);
	return err;
}

struct kdx_error *kdx_value_fetch(struct kdx_session *s, const struct kdx_value *v,
				  unsigned char **bufp, size_t *lenp)
{
	struct kdx_type *t = bare(v->type);
	size_t size = t ? t->size : 0;
	unsigned char *buf;

	if (!v->is_lvalue) {
		size_t n = v->bytes ? v->nbytes : (size ? size : 8);
		buf = calloc(1, (n > 8 ? n : 8) + 16);
		if (!buf)
			return kdx_error_nomem();
		if (v->bytes)
			memcpy(buf, v->bytes, v->nbytes);
		else
			memcpy(buf, &v->u, 8);
		*bufp = buf;
		*lenp = n;
		return NULL;
	}
	/* Printing shows at most 200 elements of an array: do not read a huge
	 * one whole (the formatter prints "..." past what it was given). */
	if (t && t->kind == KDX_TYPE_ARRAY && size > (1u << 20))
		size = 1u << 20;
	if (size > (64u << 20))
		return kdx_error_create(KDX_ERR_INVALID, "value of %zu bytes is too large to print", size);
	buf = calloc(1, size + 16);
	if (!buf)
		return kdx_error_nomem();
	if (size) {
		size_t len = v->bit_size ? (v->bit_offset + v->bit_size + 7) / 8 : size;
		struct kdx_error *err = kdx_value_read_mem(s, v->addr, buf, len);
		if (err) {
			free(buf);
			return err;
		}
	}
	*bufp = buf;
	*lenp = size;
	return NULL;
}

/* ------------------------------------------------------- value history */

#define HISTORY_SIZE 256

struct history {
	struct kdx_value v[HISTORY_SIZE];
	unsigned num[HISTORY_SIZE];     /* value number stored in each entry; 0 = empty */
	unsigned last;
};

static void history_destroy(void *obj)
{
	struct history *h = obj;
	for (size_t i = 0; i < HISTORY_SIZE; i++)
		kdx_value_release(&h->v[i]);
	free(h);
}

static struct history *history_get(struct kdx_session *s, int create)
{
	struct history *h = kdx_kernel_slot(s, KDX_SLOT_VALUES);
	if (h || !create)
		return h;
	struct kdx_error *err = kdx_kernel_cached(s, KDX_SLOT_VALUES, sizeof(*h), NULL,
						  history_destroy, (void **)&h);
	if (err) {
		kdx_error_destroy(err);
		return NULL;
	}
	return h;
}

void kdx_value_history_add(struct kdx_session *s, const struct kdx_value *v, unsigned n)
{
	struct history *h = history_get(s, 1);
	if (!h || !n)
		return;
	size_t i = n % HISTORY_SIZE;
	kdx_value_release(&h->v[i]);
	struct kdx_error *err = kdx_value_copy(&h->v[i], v);
	if (err) {
		kdx_error_destroy(err);
		memset(&h->v[i], 0, sizeof(h->v[i]));
		h->num[i] = 0;
		return;
	}
	h->num[i] = n;
	h->last = n;
}

struct kdx_error *kdx_value_history_get(struct kdx_session *s, long n, struct kdx_value *ret)
{
	struct history *h = history_get(s, 0);
	long want = n > 0 ? n : (long)(h ? h->last : 0) + n;

	if (!h || !h->last)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "the value history is empty");
	if (want <= 0 || (unsigned long)want > h->last || h->num[want % HISTORY_SIZE] != (unsigned)want)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no value $%ld in the history (last is $%u)",
					want, h->last);
	return kdx_value_copy(ret, &h->v[want % HISTORY_SIZE]);
}
