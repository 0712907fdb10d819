/*
 * Printing values and type definitions the way crash (through gdb) shows
 * them, so that habits and awk scripts carry over:
 *
 *   {
 *     state = 0,
 *     comm = "swapper/0\000\000\000\000\000\000",
 *     mm = 0x0,
 *     tasks = {
 *       next = 0xffff888003a1c8c8,
 *       prev = 0xffff888003a1c8c8
 *     },
 *     fib = {1, 1, 2, 3, 5, 8, 13, 21},
 *     pad = '\000' <repeats 15 times>
 *   }
 *
 * gdb's conventions as crash sets them: at most PRINT_ELEMENTS elements of
 * an array are shown, a char array's final NUL is not printed, and runs of
 * equal elements are printed in full (crash turns gdb's "<repeats N times>"
 * off; KDX_FMT_REPEATS turns it back on for runs over REPEAT_THRESHOLD).
 *
 * The value's bytes are read once (kdx_value_fetch) and formatted from the
 * buffer; only pointed-to strings cause further reads.
 */
#include "symbols/value.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "util.h"

#define REPEAT_THRESHOLD 10
#define PRINT_ELEMENTS 200

struct fmt {
	struct kdx_session *s;
	struct kdx_strbuf out;
	unsigned flags;
	int hex;
	int oneline;
	int repeats;            /* collapse runs: "<repeats N times>" */
	int raw;                /* print/x: numbers only */
};

static struct kdx_type *bare(struct kdx_type *t)
{
	return kdx_value_type_bare(t);
}

/* ------------------------------------------------------ C type spelling */

/* DWARF names base types "long unsigned int"; gdb (and so crash) prints
 * "unsigned long". Rewrite them in place, whole words only. */
static void c_spelling(char *s)
{
	static const char *const from[] = {
		"long long unsigned int", "long long int", "long unsigned int",
		"short unsigned int", "long int", "short int", NULL,
	};
	static const char *const to[] = {
		"unsigned long long", "long long", "unsigned long",
		"unsigned short", "long", "short",
	};
	for (int k = 0; from[k]; k++) {
		size_t fl = strlen(from[k]), tl = strlen(to[k]);
		char *p = s;
		while ((p = strstr(p, from[k]))) {
			int start_ok = p == s || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
			int end_ok = !(isalnum((unsigned char)p[fl]) || p[fl] == '_');
			if (!start_ok || !end_ok) {
				p++;
				continue;
			}
			memcpy(p, to[k], tl);   /* TO is never longer than FROM */
			memmove(p + tl, p + fl, strlen(p + fl) + 1);
			p += tl;
		}
	}
}

char *kdx_type_c_string(struct kdx_type *t, const char *name)
{
	char *s = kdx_type_to_string(t, name);
	if (s)
		c_spelling(s);
	return s;
}

static void complete(struct fmt *f, struct kdx_type *t)
{
	if (f->s && f->s->types && t && (t->kind == KDX_TYPE_STRUCT || t->kind == KDX_TYPE_UNION ||
					 t->kind == KDX_TYPE_ENUM)) {
		struct kdx_error *err = kdx_type_complete(f->s->types, t);
		kdx_error_destroy(err);
	}
}

static void put(struct fmt *f, const char *s)
{
	kdx_strbuf_append(&f->out, s, strlen(s));
}

static void indent(struct fmt *f, int n)
{
	for (int i = 0; i < n; i++)
		kdx_strbuf_append(&f->out, " ", 1);
}

/* One character the way gdb escapes it inside quotes Q. */
static void put_char_escaped(struct fmt *f, unsigned char c, char q)
{
	char tmp[8];

	switch (c) {
	case '\n': put(f, "\\n"); return;
	case '\t': put(f, "\\t"); return;
	case '\r': put(f, "\\r"); return;
	case '\a': put(f, "\\a"); return;
	case '\b': put(f, "\\b"); return;
	case '\f': put(f, "\\f"); return;
	case '\v': put(f, "\\v"); return;
	case 27: put(f, "\\033"); return;
	case '\\': put(f, "\\\\"); return;
	}
	if (c == (unsigned char)q) {
		tmp[0] = '\\', tmp[1] = q, tmp[2] = 0;
		put(f, tmp);
		return;
	}
	if (isprint(c)) {
		tmp[0] = c, tmp[1] = 0;
		put(f, tmp);
		return;
	}
	snprintf(tmp, sizeof(tmp), "\\%03o", c);
	put(f, tmp);
}

/* gdb-style char array: "abc", '\000' <repeats 60 times>. If STOP_AT_NUL
 * (char pointers), the string ends at the first NUL. */
static void put_chars_limit(struct fmt *f, const unsigned char *p, size_t n, int truncated,
			    size_t limit)
{
	size_t i = 0, shown = 0;
	int in_quote = 0, any = 0;

	if (n == 0) {
		put(f, "\"\"");
		return;
	}
	while (i < n && shown < limit) {
		size_t run = 1;
		while (i + run < n && p[i + run] == p[i])
			run++;
		if (f->repeats && run > REPEAT_THRESHOLD) {
			if (in_quote)
				put(f, "\"");
			if (any)
				put(f, ", ");
			put(f, "'");
			put_char_escaped(f, p[i], '\'');
			kdx_strbuf_printf(&f->out, "' <repeats %zu times>", run);
			in_quote = 0;
			any = 1;
			i += run;
			shown += REPEAT_THRESHOLD;
			continue;
		}
		if (!in_quote) {
			if (any)
				put(f, ", ");
			put(f, "\"");
			in_quote = 1;
			any = 1;
		}
		put_char_escaped(f, p[i], '"');
		i++;
		shown++;
	}
	if (in_quote)
		put(f, "\"");
	if (i < n || truncated)
		put(f, "...");
}

static void put_chars(struct fmt *f, const unsigned char *p, size_t n, int truncated)
{
	put_chars_limit(f, p, n, truncated, PRINT_ELEMENTS);
}

static void put_int(struct fmt *f, struct kdx_type *t, uint64_t u)
{
	t = bare(t);
	if (t->is_bool && !f->raw) {
		put(f, u ? "true" : "false");
		return;
	}
	if (f->hex) {
		uint64_t mask = t->size >= 8 || !t->size ? ~0ULL : (1ULL << (t->size * 8)) - 1;
		kdx_strbuf_printf(&f->out, "0x%llx", (unsigned long long)(u & mask));
		return;
	}
	if (t->is_signed)
		kdx_strbuf_printf(&f->out, "%lld", (long long)u);
	else
		kdx_strbuf_printf(&f->out, "%llu", (unsigned long long)u);
	if (t->is_char && t->size == 1 && !f->oneline && !f->raw) {
		put(f, " '");
		put_char_escaped(f, (unsigned char)u, '\'');
		put(f, "'");
	}
}

static void put_enum(struct fmt *f, struct kdx_type *t, uint64_t u)
{
	complete(f, t);
	int64_t v = (int64_t)u;
	for (size_t i = 0; i < t->nenumerators; i++) {
		if (t->enumerators[i].value == v) {
			put(f, t->enumerators[i].name);
			return;
		}
	}
	if (f->hex)
		kdx_strbuf_printf(&f->out, "0x%llx", (unsigned long long)(t->size >= 8 ? u : u & ((1ULL << (t->size * 8)) - 1)));
	else
		kdx_strbuf_printf(&f->out, "%lld", (long long)v);
}

/* " <sym+off>" for an address inside a known symbol. */
static void put_symbol_suffix(struct fmt *f, uint64_t addr, int any_offset)
{
	uint64_t off;
	const struct kdx_symbol *sym;

	if (!f->s || !f->s->symtab || !addr)
		return;
	sym = kdx_symbol_by_addr(f->s->symtab, addr, &off);
	if (!sym)
		return;
	if (off && !any_offset && !(sym->size && off < sym->size))
		return;
	if (off)
		kdx_strbuf_printf(&f->out, " <%s+%llu>", sym->name, (unsigned long long)off);
	else
		kdx_strbuf_printf(&f->out, " <%s>", sym->name);
}

static void put_pointer(struct fmt *f, struct kdx_type *t, uint64_t u)
{
	struct kdx_type *tg = t->target ? bare(t->target) : NULL;

	kdx_strbuf_printf(&f->out, "0x%llx", (unsigned long long)u);
	if (f->oneline || f->raw || !u)
		return;
	if (tg && tg->kind == KDX_TYPE_INT && tg->is_char && tg->size == 1) {
		char buf[PRINT_ELEMENTS + 2];
		struct kdx_error *err = f->s ? kdx_read_cstr(f->s, u, buf, sizeof(buf)) : NULL;
		if (!f->s)
			return;
		if (err) {
			kdx_error_destroy(err);
			kdx_strbuf_printf(&f->out, " <error: cannot read memory at 0x%llx>",
					  (unsigned long long)u);
			return;
		}
		size_t n = strlen(buf);
		put(f, " ");
		put_chars(f, (const unsigned char *)buf, n, n >= PRINT_ELEMENTS);
		return;
	}
	put_symbol_suffix(f, u, tg && tg->kind == KDX_TYPE_FUNCTION);
}

static void fmt_any(struct fmt *f, struct kdx_type *type, const unsigned char *buf, size_t avail,
		    uint64_t addr, int has_addr, uint64_t bitoff, uint32_t bitsize, int ind);

static void fmt_members(struct fmt *f, struct kdx_type *t, const unsigned char *buf, size_t avail,
			uint64_t addr, int has_addr, int ind, int *first)
{
	complete(f, t);
	for (size_t i = 0; i < t->nmembers; i++) {
		const struct kdx_member *m = &t->members[i];
		struct kdx_type *mt = bare(m->type);
		uint64_t byte = m->bit_offset / 8;
		int anon = !m->name || !m->name[0];

		if (f->oneline && anon && mt &&
		    (mt->kind == KDX_TYPE_STRUCT || mt->kind == KDX_TYPE_UNION)) {
			/* flatten anonymous members: .a=1 rather than ={.a=1} */
			fmt_members(f, mt, buf + byte, avail > byte ? avail - byte : 0,
				    addr + byte, has_addr, ind, first);
			continue;
		}
		if (!*first)
			put(f, f->oneline ? ", " : ",\n");
		*first = 0;
		if (f->oneline) {
			if (!anon)
				kdx_strbuf_printf(&f->out, ".%s=", m->name);
		} else {
			indent(f, ind);
			if (!anon)
				kdx_strbuf_printf(&f->out, "%s = ", m->name);
		}
		if (byte >= avail && (!mt || mt->size)) {
			put(f, "<outside the value>");
			continue;
		}
		if ((f->flags & KDX_FMT_NO_NESTED) && mt &&
		    (mt->kind == KDX_TYPE_STRUCT || mt->kind == KDX_TYPE_UNION)) {
			put(f, "{...}");
			continue;
		}
		fmt_any(f, m->type, buf + byte, avail - byte, addr + byte, has_addr,
			m->bit_size ? m->bit_offset % 8 : 0, m->bit_size, ind);
	}
}

static void fmt_struct(struct fmt *f, struct kdx_type *t, const unsigned char *buf, size_t avail,
		       uint64_t addr, int has_addr, int ind)
{
	int first = 1;

	complete(f, t);
	if (!t->nmembers) {
		put(f, f->oneline ? "{}" : "{<No data fields>}");
		return;
	}
	put(f, f->oneline ? "{" : "{\n");
	fmt_members(f, t, buf, avail, addr, has_addr, ind + 2, &first);
	if (f->oneline) {
		put(f, "}");
	} else {
		put(f, "\n");
		indent(f, ind);
		put(f, "}");
	}
}

static void fmt_array(struct fmt *f, struct kdx_type *t, const unsigned char *buf, size_t avail,
		      uint64_t addr, int has_addr, int ind)
{
	struct kdx_type *et = t->target ? bare(t->target) : NULL;
	uint64_t es = et ? et->size : 0;
	uint64_t n = t->nelem;

	if (et && (!t->nelem_known || !t->nelem) && et->kind == KDX_TYPE_INT && et->is_char && es == 1 &&
	    has_addr && f->s) {
		/* char x[] (size unknown to DWARF): the C string there; as a
		 * member, gdb shows where it is first: 0x... <sym+off> "..." */
		char sbuf[4096];
		if (ind > 0 && !f->oneline) {
			kdx_strbuf_printf(&f->out, "0x%llx", (unsigned long long)addr);
			put_symbol_suffix(f, addr, 1);
			put(f, " ");
		}
		struct kdx_error *err = kdx_read_cstr(f->s, addr, sbuf, sizeof(sbuf));
		if (err) {
			kdx_error_destroy(err);
			kdx_strbuf_printf(&f->out, "<error: cannot read memory at 0x%llx>",
					  (unsigned long long)addr);
			return;
		}
		put_chars_limit(f, (const unsigned char *)sbuf, strlen(sbuf), strlen(sbuf) + 1 >= sizeof(sbuf),
				(size_t)-1);
		return;
	}
	if (!et || !t->nelem_known || !es) {
		/* flexible array member: show where it starts */
		if (has_addr) {
			kdx_strbuf_printf(&f->out, "0x%llx", (unsigned long long)addr);
			if (!f->oneline)
				put_symbol_suffix(f, addr, 1);
		} else
			put(f, "{}");
		return;
	}
	if (n * es > avail)
		n = avail / es;
	if (et->kind == KDX_TYPE_INT && et->is_char && es == 1 && !f->raw) {
		if (f->oneline) {
			size_t len = strnlen((const char *)buf, n);
			put_chars(f, buf, len, 0);
			return;
		}
		/* gdb drops the final NUL of a char array */
		size_t len = n;
		if (len && buf[len - 1] == 0)
			len--;
		if (len == 0) {
			put(f, "\"\"");
			return;
		}
		/* char arrays print whole, as crash shows them */
		put_chars_limit(f, buf, len, n < t->nelem, (size_t)-1);
		return;
	}
	int aggregate = et->kind == KDX_TYPE_STRUCT || et->kind == KDX_TYPE_UNION ||
			et->kind == KDX_TYPE_ARRAY;
	put(f, f->oneline ? "[" : "{");
	uint64_t i = 0, shown = 0;
	while (i < n && shown < PRINT_ELEMENTS) {
		uint64_t run = 1;
		while (i + run < n && !memcmp(buf + i * es, buf + (i + run) * es, es))
			run++;
		if (i)
			put(f, ", ");
		fmt_any(f, t->target, buf + i * es, avail - i * es, addr + i * es, has_addr, 0, 0,
			aggregate ? ind + 2 : ind);
		if (f->repeats && run > REPEAT_THRESHOLD && !f->oneline) {
			kdx_strbuf_printf(&f->out, " <repeats %llu times>", (unsigned long long)run);
			i += run;
			shown += REPEAT_THRESHOLD;
		} else {
			i++;
			shown++;
		}
	}
	if (i < t->nelem)
		put(f, "...");
	put(f, f->oneline ? "]" : "}");
}

static void fmt_any(struct fmt *f, struct kdx_type *type, const unsigned char *buf, size_t avail,
		    uint64_t addr, int has_addr, uint64_t bitoff, uint32_t bitsize, int ind)
{
	struct kdx_type *t = bare(type);
	uint64_t u;

	if (!t) {
		put(f, "<no type>");
		return;
	}
	switch (t->kind) {
	case KDX_TYPE_INT:
		if (!bitsize && avail < t->size) {
			put(f, "<outside the value>");
			return;
		}
		put_int(f, t, kdx_value_scalar_from_bytes(t, buf, bitoff, bitsize));
		return;
	case KDX_TYPE_ENUM:
		put_enum(f, t, kdx_value_scalar_from_bytes(t, buf, bitoff, bitsize));
		return;
	case KDX_TYPE_FLOAT:
		if (t->size == 4) {
			float fl;
			memcpy(&fl, buf, 4);
			kdx_strbuf_printf(&f->out, "%g", fl);
		} else if (t->size == 8) {
			double d;
			memcpy(&d, buf, 8);
			kdx_strbuf_printf(&f->out, "%g", d);
		} else {
			put(f, "<long double>");
		}
		return;
	case KDX_TYPE_POINTER:
		memcpy(&u, buf, 8);
		put_pointer(f, t, u);
		return;
	case KDX_TYPE_STRUCT:
	case KDX_TYPE_UNION:
		fmt_struct(f, t, buf, avail, addr, has_addr, ind);
		return;
	case KDX_TYPE_ARRAY:
		fmt_array(f, t, buf, avail, addr, has_addr, ind);
		return;
	case KDX_TYPE_FUNCTION: {
		char *tn = kdx_type_c_string(type, NULL);
		kdx_strbuf_printf(&f->out, "{%s} 0x%llx", tn ? tn : "function", (unsigned long long)addr);
		free(tn);
		put_symbol_suffix(f, addr, 1);
		return;
	}
	case KDX_TYPE_VOID:
		put(f, "void");
		return;
	default:
		put(f, "<unknown type>");
	}
}

struct kdx_error *kdx_value_format(struct kdx_session *s, const struct kdx_value *v,
				   unsigned flags, int ind, char **out)
{
	struct fmt f = { .s = s, .flags = flags };
	struct kdx_type *t = bare(v->type);
	unsigned char *buf = NULL;
	size_t len = 0;
	struct kdx_error *err;

	if (!t)
		return kdx_error_create(KDX_ERR_INVALID, "value has no type");
	f.oneline = !!(flags & KDX_FMT_ONELINE);
	f.repeats = !!(flags & KDX_FMT_REPEATS);
	f.raw = !!(flags & KDX_FMT_RAW_HEX);
	f.hex = (flags & (KDX_FMT_HEX | KDX_FMT_RAW_HEX)) ? 1 : (flags & KDX_FMT_DEC) ? 0 :
		(s && s->radix == 16);
	if (t->kind == KDX_TYPE_FUNCTION) {
		fmt_any(&f, v->type, NULL, 0, v->is_lvalue ? v->addr : v->u, 1, 0, 0, ind);
		*out = kdx_strbuf_take(&f.out);
		return NULL;
	}
	if ((err = kdx_value_fetch(s, v, &buf, &len)))
		return err;
	if ((flags & KDX_FMT_TYPED) && t->kind == KDX_TYPE_POINTER) {
		char *tn = kdx_type_c_string(v->type, NULL);
		kdx_strbuf_printf(&f.out, "(%s) ", tn ? tn : "void *");
		free(tn);
	}
	fmt_any(&f, v->type, buf, len, v->addr, v->is_lvalue, v->is_lvalue ? v->bit_offset : 0,
		v->bit_size, ind);
	free(buf);
	*out = kdx_strbuf_take(&f.out);
	if (!*out)
		*out = strdup("");
	return NULL;
}

/* ------------------------------------------------------ type definitions */

struct deffmt {
	struct fmt f;
	int offsets;
	int at_address;         /* show ADDRESS + offset instead of the offset */
	uint64_t address;
	int width;              /* width of the offset column */
};

static void def_line_prefix(struct deffmt *d, int has_off, uint64_t off, int depth)
{
	if (d->offsets) {
		char tmp[40];
		if (has_off && d->at_address)
			snprintf(tmp, sizeof(tmp), "[%llx]", (unsigned long long)(d->address + off));
		else if (has_off)
			snprintf(tmp, sizeof(tmp), d->f.hex ? "[0x%llx]" : "[%llu]", (unsigned long long)off);
		else
			tmp[0] = 0;
		kdx_strbuf_printf(&d->f.out, "%*s ", d->width, tmp);
		indent(&d->f, 4 * (depth - 1));
	} else {
		indent(&d->f, 4 * depth);
	}
}

/* Byte offset shown for member M: for a bit field, the byte that holds its
 * first bit, as crash shows it (pahole shows the storage unit and the bit). */
static uint64_t member_offset(const struct kdx_member *m)
{
	return m->bit_offset / 8;
}

static int off_width(struct deffmt *d, struct kdx_type *t, uint64_t base, int depth)
{
	int w = 0;
	complete(&d->f, t);
	for (size_t i = 0; i < t->nmembers && depth < 32; i++) {
		const struct kdx_member *m = &t->members[i];
		struct kdx_type *mt = bare(m->type);
		char tmp[40];
		uint64_t off = base + member_offset(m);
		int n = d->at_address ?
			snprintf(tmp, sizeof(tmp), "[%llx]", (unsigned long long)(d->address + off)) :
			snprintf(tmp, sizeof(tmp), d->f.hex ? "[0x%llx]" : "[%llu]", (unsigned long long)off);
		if (n > w)
			w = n;
		if (mt && (mt->kind == KDX_TYPE_STRUCT || mt->kind == KDX_TYPE_UNION) &&
		    (!m->name || !mt->name)) {
			n = off_width(d, mt, off, depth + 1);
			if (n > w)
				w = n;
		}
	}
	return w;
}

/* NO_OFF: inside a named member of an anonymous type ("struct {...} lru_gen;"),
 * where crash puts the offset on the closing line only. */
static void def_members(struct deffmt *d, struct kdx_type *t, uint64_t base, int depth, int no_off)
{
	complete(&d->f, t);
	for (size_t i = 0; i < t->nmembers; i++) {
		const struct kdx_member *m = &t->members[i];
		struct kdx_type *mt = bare(m->type);
		uint64_t off = base + member_offset(m);
		int named = m->name && m->name[0];

		/* Anonymous struct/union types are expanded in place, as ptype does. */
		if (mt && (mt->kind == KDX_TYPE_STRUCT || mt->kind == KDX_TYPE_UNION) && !mt->name &&
		    m->type == mt) {
			def_line_prefix(d, 0, 0, depth);
			kdx_strbuf_printf(&d->f.out, "%s {\n", mt->kind == KDX_TYPE_STRUCT ? "struct" : "union");
			def_members(d, mt, off, depth + 1, no_off || named);
			def_line_prefix(d, named && !no_off, off, depth);
			if (named)
				kdx_strbuf_printf(&d->f.out, "} %s;\n", m->name);
			else
				put(&d->f, "};\n");
			continue;
		}
		def_line_prefix(d, !no_off, off, depth);
		char *decl = kdx_type_c_string(m->type, named ? m->name : NULL);
		put(&d->f, decl ? decl : "?");
		free(decl);
		if (m->bit_size)
			kdx_strbuf_printf(&d->f.out, " : %u", m->bit_size);
		put(&d->f, ";\n");
	}
}

struct kdx_error *kdx_type_format_definition(struct kdx_session *s, struct kdx_type *type,
					     unsigned flags, char **out)
{
	return kdx_type_format_definition_at(s, type, flags, 0, 0, out);
}

struct kdx_error *kdx_type_format_definition_at(struct kdx_session *s, struct kdx_type *type,
						unsigned flags, int at_address, uint64_t address,
						char **out)
{
	struct deffmt d = { .f = { .s = s, .flags = flags }, .at_address = at_address, .address = address };
	struct kdx_type *t = type;

	d.f.hex = (flags & KDX_FMT_HEX) ? 1 : (flags & KDX_FMT_DEC) ? 0 : (s && s->radix == 16);
	d.offsets = !!(flags & KDX_FMT_OFFSETS);
	if (t->kind == KDX_TYPE_TYPEDEF) {
		/* crash resolves the chain: "typedef int pid_t;" */
		struct kdx_type *final = t->target;
		for (int i = 0; final && final->kind == KDX_TYPE_TYPEDEF && final->target && i < 64; i++)
			final = final->target;
		char *decl = kdx_type_c_string(final ? final : t->target, t->name);
		kdx_strbuf_printf(&d.f.out, "typedef %s;\n", decl ? decl : t->name);
		free(decl);
	} else {
		t = bare(t);
	}
	if (type->kind != KDX_TYPE_TYPEDEF && (t->kind == KDX_TYPE_STRUCT || t->kind == KDX_TYPE_UNION)) {
		complete(&d.f, t);
		if (t->incomplete)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "%s %s is only declared, not defined, in the loaded debuginfo",
						t->kind == KDX_TYPE_STRUCT ? "struct" : "union", t->name ? t->name : "");
		if (d.offsets) {
			/* crash: the offset column is as wide as "[SIZE]" plus two */
			char tmp[40];
			int w = d.at_address ? 0 : snprintf(tmp, sizeof(tmp), d.f.hex ? "[0x%llx]" : "[%llu]",
							    (unsigned long long)t->size) + 2;
			int need = off_width(&d, t, 0, 1);
			d.width = w > need ? w : need + (d.at_address ? 2 : 0);
		}
		kdx_strbuf_printf(&d.f.out, "%s %s%s{\n", t->kind == KDX_TYPE_STRUCT ? "struct" : "union",
				  t->name ? t->name : "", t->name ? " " : "");
		def_members(&d, t, 0, 1, 0);
		put(&d.f, "}\n");
	} else if (type->kind != KDX_TYPE_TYPEDEF && t->kind == KDX_TYPE_ENUM) {
		complete(&d.f, t);
		kdx_strbuf_printf(&d.f.out, "enum %s%s{", t->name ? t->name : "", t->name ? " " : "");
		for (size_t i = 0; i < t->nenumerators; i++) {
			kdx_strbuf_printf(&d.f.out, "%s%s", i ? ", " : "", t->enumerators[i].name);
			int64_t expect = i ? t->enumerators[i - 1].value + 1 : 0;
			if (t->enumerators[i].value != expect)
				kdx_strbuf_printf(&d.f.out, " = %lld", (long long)t->enumerators[i].value);
		}
		put(&d.f, "}\n");
	} else if (type->kind != KDX_TYPE_TYPEDEF) {
		char *decl = kdx_type_c_string(type, NULL);
		kdx_strbuf_printf(&d.f.out, "type = %s\n", decl ? decl : "?");
		free(decl);
	}
	uint64_t size = bare(type)->size;
	kdx_strbuf_printf(&d.f.out, d.f.hex ? "SIZE: 0x%llx" : "SIZE: %llu", (unsigned long long)size);
	*out = kdx_strbuf_take(&d.f.out);
	return NULL;
}
