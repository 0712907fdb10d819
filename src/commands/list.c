/*
 * list: walk a linked list crash-style and print each entry's address,
 * optionally with members (-s formatted, -S raw and fast).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/entryfmt.h"
#include "kernel/list.h"
#include "symbols/types.h"
#include "symbols/value.h"
#include "util.h"

struct list_ctx {
	FILE *out;
	int members;                    /* -s/-S given */
	struct kdx_entry_fmt fmt;
	struct kdx_error *err;          /* first per-entry error (stops the walk) */
};

static int list_entry(struct kdx_session *s, uint64_t entry, uint64_t node, void *arg)
{
	struct list_ctx *c = arg;

	fprintf(c->out, "%llx\n", (unsigned long long)entry);
	if (!c->members)
		return 0;
	c->err = kdx_entry_fmt_print(&c->fmt, entry);
	if (c->err)
		c->err = kdx_error_prefix(c->err, "list");
	return c->err != NULL;
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
	char *start_arg;
	if (npos < 1)
		return kdx_command_usage(self());
	/* [OFFSET] START: an offset first is a number or STRUCT.MEMBER; START
	 * may be an expression with blanks (&((struct foo *)X)->head). */
	if (npos >= 2 && !o_arg && !strchr(argv[optind], '(') &&
	    !strchr(argv[optind], '&') && !strchr(argv[optind], '*')) {
		o_arg = argv[optind];
		start_arg = kdx_join_words(npos - 1, argv + optind + 1);
	} else {
		start_arg = kdx_join_words(npos, argv + optind);
	}
	if (!start_arg)
		return kdx_error_nomem();
	if (h && H) {
		free(start_arg);
		return kdx_error_create(KDX_ERR_SYNTAX, "list: -h and -H exclude each other");
	}

	struct list_ctx c = { .out = s->out };
	struct kdx_list_walk w = { .kind = KDX_LIST_HEAD };
	struct kdx_type *o_struct = NULL, *o_member = NULL, *start_type = NULL;

	if (o_arg && (err = kdx_offset_parse(s, o_arg, &w.link_offset, &o_struct, &o_member))) {
		err = kdx_error_prefix(err, "list");
		goto out;
	}
	if (l_arg) {
		struct kdx_type *ls = NULL, *lm = NULL;
		if ((err = kdx_offset_parse(s, l_arg, &w.link_offset, &ls, &lm))) {
			err = kdx_error_prefix(err, "list -l");
			goto out;
		}
		if (!o_member)
			o_member = lm;
	}
	if ((err = kdx_resolve_address(s, start_arg, &w.start, &start_type))) {
		err = kdx_error_prefix(err, "list");
		goto out;
	}
	if (e_arg) {
		struct kdx_type *et;
		if ((err = kdx_resolve_address(s, e_arg, &w.end, &et))) {
			err = kdx_error_prefix(err, "list -e");
			goto out;
		}
	}
	if (s_arg) {
		c.members = 1;
		if ((err = kdx_entry_fmt_init(s, &c.fmt, s_arg, raw, fmt)))
			goto out;
	}

	/* Choose the kind of walk (see list.h for what START means in each). */
	int hlist = kdx_type_is_struct_named(o_member, "hlist_node") ||
		    kdx_type_is_struct_named(start_type, "hlist_head");
	int is_list_head = kdx_type_is_struct_named(o_member, "list_head") ||
			   kdx_type_is_struct_named(start_type, "list_head");
	w.reverse = reverse;
	if (H) {
		w.kind = hlist ? KDX_LIST_HLIST : KDX_LIST_HEAD;
		w.head_is_standalone = 1;
		w.check_links = 1;
	} else if (h || l_arg || hlist || kdx_type_is_struct_named(o_member, "list_head")) {
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
	kdx_entry_fmt_release(&c.fmt);
	free(start_arg);
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
"  START          an address, a symbol (its address, as in crash, even for a\n"
"                 pointer variable) or a C expression (&res->lr_granted).\n"
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
