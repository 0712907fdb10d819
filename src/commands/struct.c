/*
 * struct: show a structure's definition (with offsets: -o) or the contents
 * of one or more objects at an address, as crash does. `union` (union.c)
 * shares this code.
 *
 *   struct task_struct                     definition + SIZE
 *   struct -o task_struct                  "   [0] struct thread_info thread_info;"
 *   struct task_struct ffff888003a1c000    the object
 *   struct task_struct.pid,comm ADDR       "  pid = 1," per member
 *   struct list_head ADDR -c 3             three consecutive objects
 *   struct rq runqueues:1                  per-CPU object on CPU 1
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/cpuspec.h"
#include "commands/datatype.h"
#include "kernel/tasks.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/value.h"
#include "util.h"

/* Find "KIND NAME" (KIND "struct" or "union"), or a typedef of one. */
static struct kdx_error *find_aggregate(struct kdx_session *s, const char *kind, const char *name,
					struct kdx_type **ret)
{
	char full[512];
	struct kdx_type *t = NULL;
	struct kdx_error *err;

	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no type information loaded");
	snprintf(full, sizeof(full), "%s %s", kind, name);
	err = kdx_type_find(s->types, full, &t);
	if (err) {
		kdx_error_destroy(err);
		err = kdx_type_find(s->types, name, &t);
		if (!err) {
			struct kdx_type *b = kdx_value_type_bare(t);
			int want = !strcmp(kind, "union") ? KDX_TYPE_UNION : KDX_TYPE_STRUCT;
			if (b && (int)b->kind == want) {
				*ret = t;
				return NULL;
			}
		}
		kdx_error_destroy(err);
		const char *other = !strcmp(kind, "union") ? "struct" : "union";
		snprintf(full, sizeof(full), "%s %s", other, name);
		err = kdx_type_find(s->types, full, &t);
		if (!err)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "%s is a %s, not a %s: use %s %s (or *%s)",
						name, other, kind, other, name, name);
		kdx_error_destroy(err);
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no %s \"%s\" in vmlinux or loaded modules "
					"(mod -s MODULE loads a module's types)", kind, name);
	}
	*ret = t;
	return NULL;
}

static struct kdx_error *print_member_decls(struct kdx_session *s, struct kdx_type *t,
					    char **members, int nmembers, int offsets, int hex)
{
	for (int i = 0; i < nmembers; i++) {
		struct kdx_type *mt;
		uint64_t bitoff;
		uint32_t bitsize;
		struct kdx_error *err = kdx_type_member(s->types, t, members[i], &mt, &bitoff, &bitsize);
		if (err)
			return err;
		const char *leaf = strrchr(members[i], '.');
		leaf = leaf ? leaf + 1 : members[i];
		char *decl = kdx_type_c_string(mt, leaf);
		uint64_t off = bitoff / 8;     /* bit fields: the byte of the first bit, as crash */
		if (offsets)
			fprintf(s->out, hex ? "  [0x%llx] %s" : "  [%llu] %s", (unsigned long long)off,
				decl ? decl : leaf);
		else
			fprintf(s->out, "  %s", decl ? decl : leaf);
		if (bitsize)
			fprintf(s->out, " : %u", bitsize);
		fprintf(s->out, ";\n");
		free(decl);
	}
	return NULL;
}

static struct kdx_error *print_object(struct kdx_session *s, const char *kind, struct kdx_type *t,
				      uint64_t addr, char **members, int nmembers, unsigned flags)
{
	struct kdx_value obj, mv;
	struct kdx_error *err;
	char *text;

	kdx_value_lvalue(&obj, t, addr);
	if (flags & KDX_FMT_OFFSETS) {
		/* crash: -o with an address shows where each member lives */
		if (nmembers) {
			for (int i = 0; i < nmembers; i++) {
				struct kdx_type *mt;
				uint64_t bo;
				uint32_t bs;
				if ((err = kdx_type_member(s->types, t, members[i], &mt, &bo, &bs)))
					return err;
				const char *leaf = strrchr(members[i], '.');
				char *decl = kdx_type_c_string(mt, leaf ? leaf + 1 : members[i]);
				fprintf(s->out, "  [%llx] %s;\n", (unsigned long long)(addr + bo / 8),
					decl ? decl : members[i]);
				free(decl);
			}
			return NULL;
		}
		if ((err = kdx_type_format_definition_at(s, t, flags, 1, addr, &text)))
			return err;
		fprintf(s->out, "%s\n", text);
		free(text);
		return NULL;
	}
	if (!nmembers) {
		if ((err = kdx_value_format(s, &obj, flags, 0, &text)))
			return err;
		struct kdx_type *b = kdx_value_type_bare(t);
		fprintf(s->out, "%s %s %s\n", kind, b->name ? b->name : "", text);
		free(text);
		return NULL;
	}
	for (int i = 0; i < nmembers; i++) {
		if ((err = kdx_value_member(s, &obj, members[i], &mv)))
			return err;
		err = kdx_value_format(s, &mv, flags, 2, &text);
		kdx_value_release(&mv);
		if (err)
			return err;
		fprintf(s->out, "  %s = %s,\n", members[i], text);
		free(text);
	}
	return NULL;
}

struct kdx_error *kdx_datatype_run(struct kdx_session *s, const struct kdx_command *cmd,
				   const char *kind, int argc, char **argv)
{
	int offsets = 0;
	unsigned flags = 0;
	long long count = 1;
	int have_count = 0;
	const char *name = NULL, *addr_arg = NULL, *list_arg = NULL;
	struct kdx_error *err = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-o")) {
			offsets = 1;
		} else if (!strcmp(a, "-x")) {
			flags = (flags & ~KDX_FMT_DEC) | KDX_FMT_HEX;
		} else if (!strcmp(a, "-d")) {
			flags = (flags & ~KDX_FMT_HEX) | KDX_FMT_DEC;
		} else if (!strcmp(a, "-l")) {
			if (++i >= argc)
				return kdx_command_usage(cmd);
			list_arg = argv[i];
		} else if (!strcmp(a, "-c")) {
			if (++i >= argc)
				return kdx_command_usage(cmd);
			count = strtoll(argv[i], NULL, 0);
			have_count = 1;
		} else if (a[0] == '-' && a[1] && !isdigit((unsigned char)a[1])) {
			return kdx_error_create(KDX_ERR_SYNTAX, "%s: unknown option %s (usage: %s)",
						kind, a, cmd->usage);
		} else if (!name) {
			name = a;
		} else if (!addr_arg) {
			addr_arg = a;
		} else if (!have_count) {
			char *end;
			count = strtoll(a, &end, 0);
			if (*end)
				return kdx_error_create(KDX_ERR_SYNTAX, "%s: bad count \"%s\"", kind, a);
			have_count = 1;
		} else {
			return kdx_command_usage(cmd);
		}
	}
	if (!name)
		return kdx_command_usage(cmd);
	if (count <= 0 || count > 1000000)
		return kdx_error_create(KDX_ERR_INVALID, "%s: count must be between 1 and 1000000", kind);

	/* NAME[.member[,member...]] */
	char *copy = strdup(name);
	char *members[64];
	int nmembers = 0;
	if (!copy)
		return kdx_error_nomem();
	char *dot = strchr(copy, '.');
	if (dot) {
		*dot = 0;
		char *save = NULL;
		for (char *m = strtok_r(dot + 1, ",", &save); m && nmembers < 64; m = strtok_r(NULL, ",", &save))
			members[nmembers++] = m;
		if (!nmembers) {
			free(copy);
			return kdx_error_create(KDX_ERR_SYNTAX, "%s: no member named after '.'", kind);
		}
	}
	struct kdx_type *t = NULL;
	if ((err = find_aggregate(s, kind, copy, &t)))
		goto out;
	int hex = (flags & KDX_FMT_HEX) || (!(flags & KDX_FMT_DEC) && s->radix == 16);
	/* check members exist before printing anything */
	for (int i = 0; i < nmembers; i++) {
		struct kdx_type *mt;
		uint64_t bo;
		uint32_t bs;
		err = kdx_type_member(s->types, t, members[i], &mt, &bo, &bs);
		if (err) {
			if (err->code == KDX_ERR_NOT_FOUND) {
				kdx_error_destroy(err);
				err = kdx_error_create(KDX_ERR_NOT_FOUND, "%s %s has no member \"%s\"",
						       kind, copy, members[i]);
			}
			goto out;
		}
	}
	if (!addr_arg) {
		if (nmembers) {
			err = print_member_decls(s, t, members, nmembers, offsets, hex);
			goto out;
		}
		char *def;
		if ((err = kdx_type_format_definition(s, t, (offsets ? KDX_FMT_OFFSETS : 0) |
						      (hex ? KDX_FMT_HEX : KDX_FMT_DEC), &def)))
			goto out;
		fprintf(s->out, "%s\n", def);
		free(def);
		goto out;
	}

	/* ADDR[:CPUSPEC] */
	char *acopy = strdup(addr_arg);
	if (!acopy) {
		err = kdx_error_nomem();
		goto out;
	}
	char *spec = kdx_cpuspec_split(acopy);
	int ncpus = spec ? kdx_cpu_count(s) : 1;
	char *cpus = calloc(1, ncpus > 0 ? ncpus : 1);
	if (!cpus) {
		free(acopy);
		err = kdx_error_nomem();
		goto out;
	}
	if (spec)
		err = kdx_cpuspec_parse(s, spec, cpus, ncpus);
	uint64_t size = kdx_value_type_bare(t)->size;
	/* -l OFFSET | -l STRUCT.MEMBER: ADDR points at that member (a list_head
	 * inside the object, as list walkers hand out) */
	uint64_t list_off = 0;
	if (list_arg && !err) {
		const char *dot = strchr(list_arg, '.');
		if (dot) {
			char sname[256];
			snprintf(sname, sizeof(sname), "%.*s", (int)(dot - list_arg), list_arg);
			err = kdx_member_offset(s, sname, dot + 1, &list_off);
		} else {
			err = kdx_parse_u64(list_arg, 0, &list_off);
		}
	}
	for (int cpu = 0; !err && cpu < ncpus; cpu++) {
		uint64_t addr;
		if (spec && !cpus[cpu])
			continue;
		if ((err = kdx_eval_address(s, acopy, spec ? cpu : -1, &addr)))
			break;
		addr -= list_off;
		if (spec)
			fprintf(s->out, "[%d]: %llx\n", cpu, (unsigned long long)addr);
		for (long long i = 0; i < count && !err; i++) {
			if (kdx_interrupted(s)) {
				err = kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
				break;
			}
			err = print_object(s, kind, t, addr + (uint64_t)i * size, members, nmembers,
					   flags | (offsets ? KDX_FMT_OFFSETS : 0));
		}
	}
	free(cpus);
	free(acopy);
out:
	free(copy);
	if (err)
		return kdx_error_prefix(err, "%s", kind);
	return NULL;
}

static struct kdx_error *cmd_struct(struct kdx_session *s, int argc, char **argv);

const struct kdx_command kdx_cmd_struct = {
	.name = "struct",
	.usage = "struct NAME[.member[,member...]] [-o] [-x|-d] [-l OFFSET|T.member] [ADDR|SYMBOL|EXPR][:CPUSPEC] [COUNT | -c COUNT]",
	.summary = "show a structure's definition or the contents of objects",
	.help =
"  struct NAME                  the definition of struct NAME and its SIZE\n"
"  struct -o NAME               the same, each member prefixed with its byte\n"
"                               offset: \"   [16] struct list_head tasks;\"\n"
"                               (hex with set radix 16 or -x)\n"
"  struct NAME ADDR             the object at ADDR (hex number, symbol or C\n"
"                               expression: init_task, &init_task, ptr->next)\n"
"  struct NAME.m1,m2 ADDR       only those members (\"  m1 = ...,\"); members may be\n"
"                               paths: se.load.weight, pid_links[0]\n"
"  struct NAME.m                the member's declaration (-o: with its offset)\n"
"  -c COUNT, or COUNT after ADDR: COUNT consecutive objects\n"
"  ADDR:CPUSPEC                 a per-CPU object: runqueues:1, runqueues:a\n"
"  -l OFFSET | -l T.member      ADDR is the address of that member (e.g. the\n"
"                               list_head inside the object): struct task_struct\n"
"                               -l task_struct.tasks ADDR\n"
"  struct -o NAME ADDR          the definition with each member's address\n"
"  -x / -d                      hexadecimal / decimal integers\n"
"  Module types need the module's debuginfo (mod -s).\n",
	.run = cmd_struct,
};

static struct kdx_error *cmd_struct(struct kdx_session *s, int argc, char **argv)
{
	return kdx_datatype_run(s, &kdx_cmd_struct, "struct", argc, argv);
}
