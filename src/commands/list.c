/*
 * list: walk a linked list crash-style and print each entry's address,
 * optionally with members (-s formatted, -S raw and fast).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "kernel/list.h"
#include "symbols/types.h"
#include "symbols/value.h"
#include "util.h"

#define MAX_MEMBERS 32

struct member_spec {
	const char *name;       /* as typed: "value", "name", "se.vruntime" */
	struct kdx_type *type;  /* member type */
	uint64_t offset;        /* byte offset of the member (bit fields: of the storage byte) */
	uint64_t bit_offset;    /* within the byte at OFFSET */
	uint32_t bit_size;
	uint64_t size;
	int fast_kind;          /* -S: 0 fallback, 1 signed, 2 unsigned, 3 pointer, 4 char array, 5 bool */
};

struct list_ctx {
	struct kdx_session *s;
	FILE *out;
	struct kdx_type *stype;          /* -s/-S struct type, NULL: addresses only */
	struct member_spec m[MAX_MEMBERS];
	int nm;                          /* 0 with stype: the whole struct */
	int raw;                         /* -S */
	unsigned fmt;                    /* KDX_FMT_HEX / _DEC */
	uint64_t span_lo, span_hi;       /* -S: bytes of an entry to read at once */
	unsigned char *buf;
	struct kdx_error *err;           /* first per-entry error (stops the walk) */
};

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
		return kdx_error_prefix(err, "list");
	return kdx_type_complete(s->types, kdx_type_unqualified(*type));
}

/* Offset spec: a number, or STRUCT.MEMBER (whose type is returned in *MTYPE). */
static struct kdx_error *parse_offset(struct kdx_session *s, const char *text, uint64_t *off,
				      struct kdx_type **stype, struct kdx_type **mtype)
{
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
		err = kdx_error_create(KDX_ERR_SYNTAX, "list: offset must be a number or STRUCT.MEMBER, not %s", text);
	if (!err)
		err = kdx_type_member(s->types, kdx_type_unqualified(t), members, mtype, &bits, &bsize);
	free(copy);
	if (err)
		return kdx_error_prefix(err, "list: %s", text);
	*off = bits / 8;
	if (stype)
		*stype = t;
	return NULL;
}

static int type_is_struct_named(struct kdx_type *t, const char *name)
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

static struct kdx_error *setup_members(struct list_ctx *c, char *members)
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
		if (c->nm == MAX_MEMBERS)
			return kdx_error_create(KDX_ERR_INVALID, "list: at most %d members", MAX_MEMBERS);
		struct member_spec *m = &c->m[c->nm++];
		uint64_t bits;
		struct kdx_error *err = kdx_type_member(s->types, st, tok, &m->type, &bits, &m->bit_size);
		if (err)
			return kdx_error_prefix(err, "list: %s.%s", st->name ? st->name : "?", tok);
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

static void print_raw_member(struct list_ctx *c, const struct member_spec *m, const unsigned char *p)
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

static struct kdx_error *print_formatted(struct list_ctx *c, struct kdx_type *type, uint64_t addr,
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
	else
		fprintf(c->out, "%s\n", text);
	free(text);
	return NULL;
}

static int list_entry(struct kdx_session *s, uint64_t entry, uint64_t node, void *arg)
{
	struct list_ctx *c = arg;

	fprintf(c->out, "%llx\n", (unsigned long long)entry);
	if (!c->stype)
		return 0;
	if (c->raw && c->nm) {
		size_t len = c->span_hi - c->span_lo;
		struct kdx_error *err = kdx_read(s, entry + c->span_lo, c->buf, len);
		if (err) {
			c->err = kdx_error_prefix(err, "list: entry %llx", (unsigned long long)entry);
			return 1;
		}
		for (int i = 0; i < c->nm; i++) {
			const struct member_spec *m = &c->m[i];
			if (m->fast_kind) {
				print_raw_member(c, m, c->buf + (m->offset - c->span_lo));
			} else if ((c->err = print_formatted(c, m->type, entry + m->offset,
							     m->bit_offset, m->bit_size, m->name))) {
				return 1;
			}
		}
		return 0;
	}
	if (!c->nm) {
		c->err = print_formatted(c, c->stype, entry, 0, 0, NULL);
		return c->err != NULL;
	}
	for (int i = 0; i < c->nm; i++) {
		const struct member_spec *m = &c->m[i];
		c->err = print_formatted(c, m->type, entry + m->offset, m->bit_offset, m->bit_size, m->name);
		if (c->err)
			return 1;
	}
	return 0;
}

static const struct kdx_command *self(void);

static struct kdx_error *cmd_list(struct kdx_session *s, int argc, char **argv)
{
	const char *o_arg = NULL, *e_arg = NULL, *s_arg = NULL, *l_arg = NULL;
	int H = 0, h = 0, reverse = 0, raw = 0, opt;
	unsigned fmt = 0;
	struct kdx_error *err = NULL;

	optind = 0;
	opterr = 0;
	while ((opt = getopt(argc, argv, "o:e:s:S:l:hHrxdB")) != -1) {
		switch (opt) {
		case 'o': o_arg = optarg; break;
		case 'e': e_arg = optarg; break;
		case 's': s_arg = optarg; raw = 0; break;
		case 'S': s_arg = optarg; raw = 1; break;
		case 'l': l_arg = optarg; break;
		case 'h': h = 1; break;
		case 'H': H = 1; break;
		case 'r': reverse = 1; break;
		case 'x': fmt = KDX_FMT_HEX; break;
		case 'd': fmt = KDX_FMT_DEC; break;
		case 'B': break;   /* Brent's algorithm: our hash set is cheap enough */
		default:
			return kdx_command_usage(self());
		}
	}
	int npos = argc - optind;
	const char *start_arg;
	if (npos == 2 && !o_arg) {
		o_arg = argv[optind];
		start_arg = argv[optind + 1];
	} else if (npos == 1) {
		start_arg = argv[optind];
	} else {
		return kdx_command_usage(self());
	}
	if (h && H)
		return kdx_error_create(KDX_ERR_SYNTAX, "list: -h and -H exclude each other");

	struct list_ctx c = { .s = s, .out = s->out, .raw = raw, .fmt = fmt };
	struct kdx_list_walk w = { .kind = KDX_LIST_HEAD };
	struct kdx_type *o_struct = NULL, *o_member = NULL, *start_type = NULL;
	char *s_copy = NULL;

	if (o_arg && (err = parse_offset(s, o_arg, &w.link_offset, &o_struct, &o_member)))
		return err;
	if (l_arg) {
		struct kdx_type *ls = NULL, *lm = NULL;
		if ((err = parse_offset(s, l_arg, &w.link_offset, &ls, &lm)))
			return err;
		if (!o_member)
			o_member = lm;
	}
	if ((err = kdx_resolve_address(s, start_arg, &w.start, &start_type)))
		return kdx_error_prefix(err, "list");
	if (e_arg) {
		struct kdx_type *et;
		if ((err = kdx_resolve_address(s, e_arg, &w.end, &et)))
			return kdx_error_prefix(err, "list -e");
	}
	if (s_arg) {
		char *members;
		s_copy = strdup(s_arg);
		if (!s_copy)
			return kdx_error_nomem();
		if ((err = parse_struct_spec(s, s_copy, &c.stype, &members)) ||
		    (err = setup_members(&c, members)))
			goto out;
		if (c.raw && c.nm) {
			c.buf = malloc(c.span_hi - c.span_lo + 16);
			if (!c.buf) {
				err = kdx_error_nomem();
				goto out;
			}
		}
	}

	/* Choose the kind of walk (see list.h for what START means in each). */
	int hlist = type_is_struct_named(o_member, "hlist_node") ||
		    type_is_struct_named(start_type, "hlist_head");
	int is_list_head = type_is_struct_named(o_member, "list_head") ||
			   type_is_struct_named(start_type, "list_head");
	w.reverse = reverse;
	if (H) {
		w.kind = hlist ? KDX_LIST_HLIST : KDX_LIST_HEAD;
		w.head_is_standalone = 1;
		w.check_links = 1;
	} else if (h || l_arg || hlist || type_is_struct_named(o_member, "list_head")) {
		/* -h START: an entry whose embedded link is at the offset. Doing
		 * better than crash: an -o STRUCT.MEMBER naming a list_head or
		 * hlist_node without -h/-H means the same (crash would follow the
		 * link as if it pointed at the next structure). */
		w.kind = hlist ? KDX_LIST_HLIST : KDX_LIST_HEAD;
		if (l_arg) {
			/* START is the link itself */
			w.check_links = is_list_head;
		} else {
			w.start += w.link_offset;
			w.check_links = 1;
		}
	} else {
		w.kind = KDX_LIST_SINGLE;
	}
	if (reverse && w.kind != KDX_LIST_HEAD) {
		err = kdx_error_create(KDX_ERR_SYNTAX, "list -r: only list_head lists have prev pointers");
		goto out;
	}

	uint64_t count;
	err = kdx_list_walk(s, &w, list_entry, &c, &count);
	if (c.err) {
		kdx_error_destroy(err);
		err = c.err;
	}
out:
	free(c.buf);
	free(s_copy);
	return err;
}

const struct kdx_command kdx_cmd_list = {
	.name = "list",
	.usage = "list [[-o] OFFSET|STRUCT.MEMBER] [-e END] [-s|-S STRUCT[.MEMBER[,MEMBER...]]] "
		 "[-l OFFSET] [-x|-d] [-r] [-h|-H] START",
	.summary = "walk a linked list",
	.help =
"  Prints the address of every entry of a linked list, one per line, as crash\n"
"  does; with -s/-S also members of each entry.\n"
"\n"
"  START          an address, a symbol or a C expression (&res->lr_granted).\n"
"  -H START       START is a standalone head (LIST_HEAD, hlist_head): it is not\n"
"                 printed; the walk ends when it comes back to START (or at NULL\n"
"                 for an hlist).\n"
"  -h START       START is the first entry, containing the link at OFFSET; it is\n"
"                 printed first.\n"
"  (neither)      a singly linked list: START is the first entry and the pointer\n"
"                 at OFFSET is the address of the next entry; it ends at NULL,\n"
"                 at START or at the first entry again. Unlike crash, an -o\n"
"                 STRUCT.MEMBER naming a list_head or hlist_node means -h.\n"
"  -o OFFSET      offset of the link in each entry: bytes or STRUCT.MEMBER (the\n"
"                 -o may be left out for STRUCT.MEMBER). Printed addresses are\n"
"                 those of the entries (link address - OFFSET).\n"
"  -l OFFSET      with -s: START is a link embedded at OFFSET in an entry.\n"
"  -e END         stop before the entry (or link) at END.\n"
"  -s STRUCT[.M1,M2]  print the entry (or members M1, M2...) formatted, with types.\n"
"  -S STRUCT.M1[,M2]  print members raw, read straight from memory: fast.\n"
"  -x | -d        hexadecimal / decimal member values.\n"
"  -r             follow prev instead of next (list_head lists).\n"
"\n"
"  The member of the head decides the kind of list: an hlist_node or hlist_head\n"
"  is walked as an hlist (node->next, ends at NULL). Every list_head is checked\n"
"  (next->prev == this node); a broken link or an entry seen twice (a loop) stops\n"
"  the walk with one line naming the entry, after the entries seen so far, and\n"
"  the command fails (non-zero exit in batch mode).\n"
"\n"
"  Examples:\n"
"    list -H kdx_fixture_list -o kdx_fixture_item.link -S kdx_fixture_item.value\n"
"    list -H &res->lr_granted -o ldlm_lock.l_res_link | wc -l\n"
"    list -H kdx_fixture_hlist -o kdx_fixture_item.hnode\n"
"    list -o 8 ffff888004c0a000            (singly linked, next pointer at 8)\n",
	.run = cmd_list,
};

static const struct kdx_command *self(void) { return &kdx_cmd_list; }
