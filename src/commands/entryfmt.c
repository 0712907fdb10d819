/*
 * Entry member printing for list and tree. See entryfmt.h.
 */
#include "commands/entryfmt.h"

#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "symbols/types.h"
#include "symbols/value.h"
#include "util.h"



/* Split "struct foo.a.b" / "foo.a,b" into a type and member paths. */
static struct kdx_error *parse_struct_spec(struct kdx_session *s, char *spec,
					   struct kdx_type **type, char **members)
{
	char *dot = strchr(spec, '.');
	char name[256];

	*members = NULL;
	if (dot) {
		*dot = 0;
		*members = dot + 1;
	}
	if (!strncmp(spec, "struct ", 7) || !strncmp(spec, "union ", 6))
		snprintf(name, sizeof(name), "%s", spec);
	else
		snprintf(name, sizeof(name), "struct %s", spec);
	struct kdx_error *err = kdx_type_find(s->types, name, type);
	if (err && strncmp(spec, "struct ", 7) && strncmp(spec, "union ", 6)) {
		kdx_error_destroy(err);
		snprintf(name, sizeof(name), "union %s", spec);
		err = kdx_type_find(s->types, name, type);
		if (err) {
			kdx_error_destroy(err);
			err = kdx_type_find(s->types, spec, type);
		}
	}
	if (dot)
		*dot = '.';
	if (err)
		return err;
	return kdx_type_complete(s->types, kdx_type_unqualified(*type));
}

/* Offset spec: a number, or STRUCT.MEMBER (whose type is returned in *MTYPE). */
struct kdx_error *kdx_offset_parse(struct kdx_session *s, const char *text, uint64_t *off,
				      struct kdx_type **stype, struct kdx_type **mtype)
{
	struct kdx_type *mdummy;

	if (!mtype)
		mtype = &mdummy;
	*mtype = NULL;
	if (kdx_is_number(text))
		return kdx_parse_u64(text, 0, off);
	char *copy = strdup(text), *members;
	struct kdx_type *t;
	uint64_t bits;
	uint32_t bsize;

	if (!copy)
		return kdx_error_nomem();
	struct kdx_error *err = parse_struct_spec(s, copy, &t, &members);
	if (!err && !members)
		err = kdx_error_create(KDX_ERR_SYNTAX, "offset must be a number or STRUCT.MEMBER, not %s", text);
	if (!err)
		err = kdx_type_member(s->types, kdx_type_unqualified(t), members, mtype, &bits, &bsize);
	free(copy);
	if (err)
		return kdx_error_prefix(err, "%s", text);
	*off = bits / 8;
	if (stype)
		*stype = t;
	return NULL;
}

int kdx_type_is_struct_named(struct kdx_type *t, const char *name)
{
	t = t ? kdx_type_unqualified(t) : NULL;
	return t && t->kind == KDX_TYPE_STRUCT && t->name && !strcmp(t->name, name);
}

static int fast_kind_of(struct kdx_type *t)
{
	t = kdx_type_unqualified(t);
	switch (t->kind) {
	case KDX_TYPE_INT:
		if (t->is_bool)
			return 5;
		return t->is_signed ? 1 : 2;
	case KDX_TYPE_ENUM:
		return 1;
	case KDX_TYPE_POINTER:
		return 3;
	case KDX_TYPE_ARRAY: {
		struct kdx_type *e = kdx_type_unqualified(t->target);
		if (e && e->kind == KDX_TYPE_INT && e->is_char && e->size == 1)
			return 4;
		return 0;
	}
	default:
		return 0;
	}
}

static struct kdx_error *setup_members(struct kdx_entry_fmt *c, char *members)
{
	struct kdx_session *s = c->s;
	struct kdx_type *st = kdx_type_unqualified(c->stype);

	c->span_lo = 0;
	c->span_hi = st->size;
	if (!members || !*members)
		return NULL;
	c->span_lo = UINT64_MAX;
	c->span_hi = 0;
	for (char *tok = strtok(members, ","); tok; tok = strtok(NULL, ",")) {
		if (c->nm == KDX_ENTRY_MAX_MEMBERS)
			return kdx_error_create(KDX_ERR_INVALID, "at most %d members", KDX_ENTRY_MAX_MEMBERS);
		struct member_spec *m = &c->m[c->nm++];
		uint64_t bits;
		struct kdx_error *err = kdx_type_member(s->types, st, tok, &m->type, &bits, &m->bit_size);
		if (err)
			return kdx_error_prefix(err, "%s.%s", st->name ? st->name : "?", tok);
		m->name = tok;
		m->offset = bits / 8;
		m->bit_offset = bits % 8;
		m->size = kdx_type_unqualified(m->type)->size;
		m->fast_kind = fast_kind_of(m->type);
		if (m->fast_kind != 4 && m->size > 8)
			m->fast_kind = 0;
		uint64_t end = m->offset + (m->bit_size ? (m->bit_offset + m->bit_size + 7) / 8 : m->size);
		if (m->offset < c->span_lo)
			c->span_lo = m->offset;
		if (end > c->span_hi)
			c->span_hi = end;
	}
	return NULL;
}

static void print_raw_member(struct kdx_entry_fmt *c, const struct member_spec *m, const unsigned char *p)
{
	FILE *out = c->out;
	int hex = (c->fmt & KDX_FMT_HEX) || (!(c->fmt & KDX_FMT_DEC) && c->s->radix == 16);

	if (m->fast_kind == 4) {
		size_t n = m->size;
		fprintf(out, "  %s = \"", m->name);
		for (size_t i = 0; i < n && p[i]; i++) {
			unsigned ch = p[i];
			if (ch == '"' || ch == '\\')
				fprintf(out, "\\%c", ch);
			else if (ch >= 0x20 && ch < 0x7f)
				fputc(ch, out);
			else
				fprintf(out, "\\%03o", ch);
		}
		fputs("\"\n", out);
		return;
	}
	uint64_t v = 0;
	memcpy(&v, p, m->size > 8 ? 8 : m->size);   /* little-endian target */
	if (m->bit_size) {
		v >>= m->bit_offset;
		v &= m->bit_size >= 64 ? ~0ULL : ((1ULL << m->bit_size) - 1);
	}
	if (m->fast_kind == 3) {
		fprintf(out, "  %s = 0x%llx\n", m->name, (unsigned long long)v);
		return;
	}
	if (m->fast_kind == 1 && !hex) {
		unsigned bits = m->bit_size ? m->bit_size : m->size * 8;
		int64_t sv = bits < 64 && (v >> (bits - 1)) & 1 ? (int64_t)(v | (~0ULL << bits)) : (int64_t)v;
		fprintf(out, "  %s = %lld\n", m->name, (long long)sv);
		return;
	}
	if (hex)
		fprintf(out, "  %s = 0x%llx\n", m->name, (unsigned long long)v);
	else
		fprintf(out, "  %s = %llu\n", m->name, (unsigned long long)v);
}

static struct kdx_error *print_formatted(struct kdx_entry_fmt *c, struct kdx_type *type, uint64_t addr,
					 uint64_t bit_offset, uint32_t bit_size, const char *name)
{
	struct kdx_value v;
	char *text = NULL;

	kdx_value_lvalue(&v, type, addr);
	v.bit_offset = bit_offset;
	v.bit_size = bit_size;
	struct kdx_error *err = kdx_value_format(c->s, &v, c->fmt, name ? 2 : 0, &text);
	kdx_value_release(&v);
	if (err)
		return err;
	if (name)
		fprintf(c->out, "  %s = %s\n", name, text);
	else {
		/* crash: "struct kdx_fixture_item {" for a whole entry */
		struct kdx_type *u = kdx_type_unqualified(type);
		if (text[0] == '{' && u->name && (u->kind == KDX_TYPE_STRUCT || u->kind == KDX_TYPE_UNION))
			fprintf(c->out, "%s %s %s\n", u->kind == KDX_TYPE_STRUCT ? "struct" : "union",
				u->name, text);
		else
			fprintf(c->out, "%s\n", text);
	}
	free(text);
	return NULL;
}

struct kdx_error *kdx_entry_fmt_init(struct kdx_session *s, struct kdx_entry_fmt *c,
				     const char *spec, int raw, unsigned fmt)
{
	char *members;
	struct kdx_error *err;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->out = s->out;
	c->raw = raw;
	c->fmt = fmt;
	c->spec = strdup(spec);
	if (!c->spec)
		return kdx_error_nomem();
	if ((err = parse_struct_spec(s, c->spec, &c->stype, &members)) ||
	    (err = setup_members(c, members)))
		return err;
	if (c->raw && c->nm) {
		c->buf = malloc(c->span_hi - c->span_lo + 16);
		if (!c->buf)
			return kdx_error_nomem();
	}
	return NULL;
}

struct kdx_error *kdx_entry_fmt_print(struct kdx_entry_fmt *c, uint64_t entry)
{
	struct kdx_session *s = c->s;
	struct kdx_error *err;

	if (c->raw && c->nm) {
		size_t len = c->span_hi - c->span_lo;
		if ((err = kdx_read(s, entry + c->span_lo, c->buf, len)))
			return kdx_error_prefix(err, "entry %llx", (unsigned long long)entry);
		for (int i = 0; i < c->nm; i++) {
			const struct member_spec *m = &c->m[i];
			if (m->fast_kind)
				print_raw_member(c, m, c->buf + (m->offset - c->span_lo));
			else if ((err = print_formatted(c, m->type, entry + m->offset,
							m->bit_offset, m->bit_size, m->name)))
				return err;
		}
		return NULL;
	}
	if (!c->nm)
		return print_formatted(c, c->stype, entry, 0, 0, NULL);
	for (int i = 0; i < c->nm; i++) {
		const struct member_spec *m = &c->m[i];
		if ((err = print_formatted(c, m->type, entry + m->offset, m->bit_offset, m->bit_size, m->name)))
			return err;
	}
	return NULL;
}

void kdx_entry_fmt_release(struct kdx_entry_fmt *c)
{
	free(c->buf);
	free(c->spec);
	c->buf = NULL;
	c->spec = NULL;
}

char *kdx_join_words(int argc, char **argv)
{
	size_t len = 1;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *out = malloc(len), *p = out;
	if (!out)
		return NULL;
	*p = 0;
	for (int i = 0; i < argc; i++) {
		if (i)
			*p++ = ' ';
		size_t n = strlen(argv[i]);
		memcpy(p, argv[i], n + 1);
		p += n;
	}
	return out;
}
