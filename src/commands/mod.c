#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands/command.h"
#include "kernel/kread.h"
#include "kernel/modules.h"

static void center(char *buf, size_t len, const char *text, int width)
{
	int l = (int)strlen(text), left = (width - l) / 2;

	if (left < 0)
		left = 0;
	snprintf(buf, len, "%*s%s%*s", left, "", text, width - l - left > 0 ? width - l - left : 0, "");
}

static void print_table(struct kdx_session *s, struct kdx_module *mods, size_t n,
			const unsigned char *only)
{
	int nw = 4, sw = 4;
	char h1[32], h2[32];

	for (size_t i = 0; i < n; i++) {
		char b[32];
		if (only && !only[i])
			continue;
		if ((int)strlen(mods[i].name) > nw)
			nw = (int)strlen(mods[i].name);
		int l = snprintf(b, sizeof(b), "%llu", (unsigned long long)mods[i].size);
		if (l > sw)
			sw = l;
	}
	center(h1, sizeof(h1), "MODULE", 16);
	center(h2, sizeof(h2), "BASE", 16);
	fprintf(s->out, "%s  %-*s  %s  %*s  OBJECT FILE\n", h1, nw, "NAME", h2, sw, "SIZE");
	/* oldest first, as crash lists them */
	for (size_t k = n; k-- > 0;) {
		const struct kdx_module *m = &mods[k];
		if (only && !only[k])
			continue;
		fprintf(s->out, "%16llx  %-*s  %16llx  %*llu  %s\n", (unsigned long long)m->addr, nw,
			m->name, (unsigned long long)m->base, sw, (unsigned long long)m->size,
			m->debuginfo ? m->debuginfo
				     : m->nkallsyms ? "(not loaded)  [CONFIG_KALLSYMS]" : "(not loaded)");
	}
}

static struct kdx_error *cmd_mod(struct kdx_session *s, int argc, char **argv)
{
	struct kdx_module *mods;
	size_t n;
	struct kdx_error *err;
	int c, load_one = 0, load_all = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "sS")) != -1) {
		switch (c) {
		case 's': load_one = 1; break;
		case 'S': load_all = 1; break;
		default:
			return kdx_error_create(KDX_ERR_SYNTAX,
				"mod: invalid option -%c; usage: mod [-s module [file|dir]] [-S [dir]]", optopt);
		}
	}
	if ((err = kdx_modules(s, &mods, &n)))
		return err;
	/* symbols from kallsyms first, so the table says what is known */
	kdx_ok(kdx_modules_load_symbols(s));
	if (load_one) {
		if (optind >= argc || argc - optind > 2)
			return kdx_error_create(KDX_ERR_SYNTAX, "usage: mod -s module [file|dir]");
		const struct kdx_module *cm = kdx_module_by_name(s, argv[optind]);
		if (!cm)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "mod: %s is not a loaded module", argv[optind]);
		struct kdx_module *m = &mods[cm - mods];
		err = kdx_module_load_debuginfo_for(s, m, optind + 1 < argc ? argv[optind + 1] : NULL);
		if (err)
			return err;
		unsigned char *only = calloc(n, 1);
		if (!only)
			return kdx_error_nomem();
		only[m - mods] = 1;
		print_table(s, mods, n, only);
		free(only);
		return NULL;
	}
	if (load_all) {
		if (argc - optind > 1)
			return kdx_error_create(KDX_ERR_SYNTAX, "usage: mod -S [dir]");
		const char *dir = optind < argc ? argv[optind] : NULL;
		struct stat st;
		if (dir && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
			return kdx_error_create(KDX_ERR_IO, "mod -S: %s is not a directory", dir);
		for (size_t i = 0; i < n && !kdx_interrupted(s); i++) {
			if (mods[i].debuginfo)
				continue;
			err = kdx_module_load_debuginfo_for(s, &mods[i], dir);
			if (err)
				kdx_session_report(s, err);
		}
		print_table(s, mods, n, NULL);
		return NULL;
	}
	if (optind < argc) {
		/* mod NAME ...: just those */
		unsigned char *only = calloc(n ? n : 1, 1);
		if (!only)
			return kdx_error_nomem();
		for (int i = optind; i < argc; i++) {
			const struct kdx_module *cm = kdx_module_by_name(s, argv[i]);
			if (!cm) {
				free(only);
				return kdx_error_create(KDX_ERR_NOT_FOUND, "mod: %s is not a loaded module", argv[i]);
			}
			only[cm - mods] = 1;
		}
		print_table(s, mods, n, only);
		free(only);
		return NULL;
	}
	print_table(s, mods, n, NULL);
	return NULL;
}

const struct kdx_command kdx_cmd_mod = {
	.name = "mod",
	.usage = "mod [-s module [file|dir]] [-S [dir]] [module ...]",
	.summary = "loaded modules; load their debuginfo",
	.help = "  Lists the loaded modules as crash does:\n"
		"       MODULE       NAME               BASE         SIZE  OBJECT FILE\n"
		"  MODULE is the struct module address, BASE the start of its core (text)\n"
		"  memory, SIZE the bytes of its core memory. OBJECT FILE is the debuginfo\n"
		"  loaded with -s/-S, else \"(not loaded)\" with [CONFIG_KALLSYMS] when the\n"
		"  module's own symbol table was read from the dump (done at startup, so\n"
		"  `sym` and `bt` name module functions without debuginfo).\n"
		"    -s module [file|dir]  load the module's debuginfo (types, lines, sized\n"
		"                          symbols), relocated to its sections in the dump.\n"
		"                          Default search: /usr/lib/debug/lib/modules/RELEASE,\n"
		"                          then /lib/modules/RELEASE, for module.ko (- and _ alike)\n"
		"    -S [dir]              the same for every module\n",
	.run = cmd_mod,
};
