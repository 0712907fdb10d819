/*
 * sym: symbol <-> address translation, in crash's format:
 *
 *   ffffffff81c3a2b0 (T) schedule /build/linux/kernel/sched/core.c: 6530
 *   ffffffff81c3a2c4 (T) schedule+20 /build/linux/kernel/sched/core.c: 6535
 *   ffffffffc0a01000 (t) kdx_fixture_check [kdx_fixture]
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "util.h"

extern const struct kdx_command kdx_cmd_sym;

static void print_symbol(struct kdx_session *s, const struct kdx_symbol *sym, uint64_t addr,
			 uint64_t off, int with_line)
{
	fprintf(s->out, "%016llx (%c) %s", (unsigned long long)addr, sym->type ? sym->type : '?', sym->name);
	if (off)
		fprintf(s->out, "+%llu", (unsigned long long)off);
	if (sym->module)
		fprintf(s->out, " [%s]", sym->module);
	if (with_line) {
		const char *file = NULL;
		int line = 0;
		struct kdx_error *err = kdx_addr_to_line(s, addr, &file, &line);
		if (!err && file && line > 0)
			fprintf(s->out, " %s: %d", file, line);
		kdx_error_destroy(err);
	}
	fputc('\n', s->out);
}

struct list_arg {
	struct kdx_session *s;
	const char *substr;     /* -q */
	const char *module;     /* -m */
	size_t n;
	int interrupted;
};

static int list_one(const struct kdx_symbol *sym, void *arg)
{
	struct list_arg *la = arg;

	if ((++la->n & 0xfff) == 0 && kdx_interrupted(la->s)) {
		la->interrupted = 1;
		return 1;
	}
	if (la->module && (!sym->module || strcmp(sym->module, la->module)))
		return 0;
	if (la->substr && !strstr(sym->name, la->substr))
		return 0;
	print_symbol(la->s, sym, sym->addr, 0, 0);
	return 0;
}

static struct kdx_error *sym_list(struct kdx_session *s, const char *substr, const char *module)
{
	struct list_arg la = { .s = s, .substr = substr, .module = module };

	kdx_symbol_for_each(s->symtab, list_one, &la);
	if (la.interrupted)
		return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
	return NULL;
}

static struct kdx_error *sym_one(struct kdx_session *s, const char *arg)
{
	const struct kdx_symbol *sym;
	uint64_t addr, off;
	struct kdx_error *err;

	/* "module:name" or a plain name first: "add" is a symbol, not 0xadd */
	const char *colon = strchr(arg, ':');
	if (colon) {
		char mod[256];
		snprintf(mod, sizeof(mod), "%.*s", (int)(colon - arg), arg);
		sym = kdx_symbol_by_name(s->symtab, colon + 1, mod);
	} else {
		sym = kdx_symbol_by_name(s->symtab, arg, NULL);
	}
	if (sym) {
		print_symbol(s, sym, sym->addr, 0, 1);
		return NULL;
	}
	err = kdx_parse_u64(arg, 1, &addr);
	if (err) {
		kdx_error_destroy(err);
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no symbol \"%s\" in vmlinux or loaded modules", arg);
	}
	sym = kdx_symbol_by_addr(s->symtab, addr, &off);
	if (!sym)
		return kdx_error_create(KDX_ERR_NOT_FOUND, "0x%llx: no symbol at or below this address",
					(unsigned long long)addr);
	print_symbol(s, sym, addr, off, 1);
	return NULL;
}

static struct kdx_error *cmd_sym(struct kdx_session *s, int argc, char **argv)
{
	const char *substr = NULL, *module = NULL;
	int list = 0, nargs = 0;
	struct kdx_error *first = NULL;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-l")) {
			list = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "-m")) {
			if (i + 1 >= argc)
				return kdx_command_usage(&kdx_cmd_sym);
			if (a[1] == 'q')
				substr = argv[++i];
			else
				module = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			return kdx_error_create(KDX_ERR_SYNTAX, "sym: unknown option %s (usage: %s)", a,
						kdx_cmd_sym.usage);
		} else {
			nargs++;
		}
	}
	if (!s->symtab)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "sym: no symbol table loaded");
	if (list || substr || module) {
		struct kdx_error *err = sym_list(s, substr, module);
		if (err || !nargs)
			return err ? kdx_error_prefix(err, "sym") : NULL;
	}
	if (!nargs && !list && !substr && !module)
		return kdx_command_usage(&kdx_cmd_sym);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-l"))
			continue;
		if (!strcmp(a, "-q") || !strcmp(a, "-m")) {
			i++;
			continue;
		}
		struct kdx_error *err = sym_one(s, a);
		if (err) {
			err = kdx_error_prefix(err, "sym");
			if (!first) {
				first = err;
			} else {
				kdx_session_report(s, err);
			}
		}
	}
	return first;
}

const struct kdx_command kdx_cmd_sym = {
	.name = "sym",
	.usage = "sym [-l] [-m MODULE] [-q STRING] [NAME | ADDR | MODULE:NAME] ...",
	.summary = "translate symbols to addresses and back",
	.help =
"  sym NAME        \"ffffffff81c3a2b0 (T) schedule kernel/sched/core.c: 6530\"\n"
"                  (the source line when the debuginfo has it)\n"
"  sym ADDR        the symbol containing ADDR: \"... (T) schedule+20 ...\"\n"
"  MODULE:NAME     a symbol of that module only\n"
"  -l              list every symbol (vmlinux, then modules), by address\n"
"  -q STRING       list the symbols whose name contains STRING\n"
"  -m MODULE       list the symbols of MODULE\n"
"  Module symbols carry \"[module]\". Type letters are nm's (T t D d B b R r...).\n",
	.run = cmd_sym,
};
