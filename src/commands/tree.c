/*
 * tree: walk a red-black tree, xarray/radix tree or maple tree and print
 * each entry (optionally with members).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/entryfmt.h"
#include "kernel/list.h"
#include "kernel/trees.h"
#include "symbols/value.h"

static const struct kdx_command *self(void);

struct tree_ctx {
	FILE *out;
	uint64_t node_offset;   /* rbtree: entry = node - offset */
	int members, pos;
	struct kdx_entry_fmt fmt;
	struct kdx_error *err;
};

static int show_entry(struct kdx_session *s, struct tree_ctx *c, uint64_t entry)
{
	fprintf(c->out, "%llx\n", (unsigned long long)entry);
	if (!c->members)
		return 0;
	c->err = kdx_entry_fmt_print(&c->fmt, entry);
	return c->err != NULL;
}

static int rb_entry(struct kdx_session *s, uint64_t node, void *arg)
{
	struct tree_ctx *c = arg;

	return show_entry(s, c, node - c->node_offset);
}

static int xa_entry(struct kdx_session *s, uint64_t index, uint64_t entry, void *arg)
{
	struct tree_ctx *c = arg;

	if (c->pos)
		fprintf(c->out, "[%llu] ", (unsigned long long)index);
	return show_entry(s, c, entry);
}

static int mt_entry(struct kdx_session *s, uint64_t first, uint64_t last, uint64_t entry, void *arg)
{
	struct tree_ctx *c = arg;

	if (c->pos)
		fprintf(c->out, "[%llx-%llx] ", (unsigned long long)first, (unsigned long long)last);
	return show_entry(s, c, entry);
}

static struct kdx_error *cmd_tree(struct kdx_session *s, int argc, char **argv)
{
	const char *type = "rbtree", *o_arg = NULL, *r_arg = NULL, *s_arg = NULL;
	int opt, raw = 0, N = 0, pos = 0;
	unsigned fmt = 0;
	struct kdx_error *err;

	optind = 0;
	opterr = 0;
	while ((opt = getopt(argc, argv, "t:o:r:s:S:xdNpl")) != -1) {
		switch (opt) {
		case 't': type = optarg; break;
		case 'o': o_arg = optarg; break;
		case 'r': r_arg = optarg; break;
		case 's': s_arg = optarg; raw = 0; break;
		case 'S': s_arg = optarg; raw = 1; break;
		case 'x': fmt = KDX_FMT_HEX; break;
		case 'd': fmt = KDX_FMT_DEC; break;
		case 'N': N = 1; break;
		case 'p': pos = 1; break;
		case 'l': break;
		default: return kdx_command_usage(self());
		}
	}
	if (argc - optind < 1)
		return kdx_command_usage(self());
	struct tree_ctx c = { .out = s->out, .pos = pos };
	uint64_t root, root_off = 0;
	/* ROOT may be an expression with blanks: &((struct mm_struct *)X)->mm_mt */
	char *expr = kdx_join_words(argc - optind, argv + optind);
	if (!expr)
		return kdx_error_nomem();
	struct kdx_type *rtype = NULL;
	err = kdx_resolve_address(s, expr, &root, &rtype);
	free(expr);
	if (err)
		return kdx_error_prefix(err, "tree");
	/* convenience: an mm_struct (`tree -t maple (struct mm_struct *)X`) means its mm_mt */
	if (!r_arg && !strcmp(type, "maple") && kdx_type_is_struct_named(rtype, "mm_struct")) {
		if ((err = kdx_offset_parse(s, "mm_struct.mm_mt", &root_off, NULL, NULL)))
			return kdx_error_prefix(err, "tree");
	}
	if (o_arg && (err = kdx_offset_parse(s, o_arg, &c.node_offset, NULL, NULL)))
		return kdx_error_prefix(err, "tree -o");
	if (r_arg && (err = kdx_offset_parse(s, r_arg, &root_off, NULL, NULL)))
		return kdx_error_prefix(err, "tree -r");
	root += root_off;
	if (s_arg) {
		c.members = 1;
		if ((err = kdx_entry_fmt_init(s, &c.fmt, s_arg, raw, fmt)))
			goto out;
	}
	if (!strcmp(type, "rbtree")) {
		uint64_t node = root;
		if (!N && (err = kdx_read_u64(s, root, &node))) {
			err = kdx_error_prefix(err, "tree: rb_root at %llx", (unsigned long long)root);
			goto out;
		}
		err = kdx_rbtree_walk(s, node, rb_entry, &c, NULL);
	} else if (!strcmp(type, "radix") || !strcmp(type, "xarray")) {
		err = kdx_xarray_walk(s, root, xa_entry, &c, NULL);
	} else if (!strcmp(type, "maple")) {
		err = kdx_maple_walk(s, root, mt_entry, &c, NULL);
	} else {
		err = kdx_error_create(KDX_ERR_SYNTAX, "tree -t: rbtree, radix, xarray or maple, not %s", type);
	}
	if (c.err) {
		kdx_error_destroy(err);
		err = kdx_error_prefix(c.err, "tree");
	}
out:
	kdx_entry_fmt_release(&c.fmt);
	return err;
}

const struct kdx_command kdx_cmd_tree = {
	.name = "tree",
	.usage = "tree [-t rbtree|radix|xarray|maple] [-r OFFSET] [-o OFFSET] "
		 "[-s|-S STRUCT[.MEMBER[,MEMBER]]] [-x|-d] [-N] [-p] ROOT",
	.summary = "walk a red-black tree, radix tree/xarray or maple tree",
	.help =
"  Prints every entry of a tree, in order, one address per line (crash's tree).\n"
"\n"
"  -t rbtree   (default) ROOT is a struct rb_root (or rb_root_cached); entries\n"
"              are the rb_node addresses minus the -o offset, in sort order.\n"
"  -t radix | -t xarray\n"
"              ROOT is a struct xarray (radix_tree_root is one since 4.20);\n"
"              entries are the stored pointers, in index order.\n"
"  -t maple    ROOT is a struct maple_tree (an mm's mm_mt holds its VMAs);\n"
"              entries are the stored pointers, in range order. A ROOT that\n"
"              is an mm_struct (`(struct mm_struct *)ADDR`) means its mm_mt.\n"
"  -r OFFSET   ROOT is a structure holding the root at OFFSET (bytes or\n"
"              STRUCT.MEMBER).\n"
"  -o OFFSET   rbtree: offset of the rb_node in each entry (bytes or\n"
"              STRUCT.MEMBER).\n"
"  -N          rbtree: ROOT is an rb_node, not an rb_root.\n"
"  -p          also print each entry's index (xarray) or range (maple).\n"
"  -s / -S     print the entry as a struct or members of it, as list does.\n"
"\n"
"  Example: the VMAs of a task, as /proc/PID/maps lists them:\n"
"    tree -t maple -S vm_area_struct.vm_start,vm_end &((struct mm_struct *)MM)->mm_mt\n",
	.run = cmd_tree,
};

static const struct kdx_command *self(void) { return &kdx_cmd_tree; }
