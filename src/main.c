/*
 * kdx [options] [VMLINUX] [VMCORE]
 *
 * The two files may come in either order: a dump is recognised by its
 * content. Without a dump, the running kernel (/proc/kcore). Without a
 * vmlinux, the Debian debuginfo path for the dump's (or running) release.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "commands/command.h"
#include "kernel/tasks.h"
#include "repl.h"
#include "session.h"
#include "targets/target.h"
#include "util.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kdx [options] [VMLINUX] [VMCORE]\n"
		"  Analyze a kernel crash dump (ELF, kdump-compressed or makedumpfile\n"
		"  flattened) with the matching vmlinux debuginfo; without VMCORE, the\n"
		"  running kernel through /proc/kcore.\n\n"
		"options:\n"
		"  -i FILE            run the commands in FILE first, then continue (or exit in batch)\n"
		"  -c CMD             run CMD (may be repeated), then exit; with --script, before it\n"
		"  --script FILE [ARGS]  run a probe-language script against the dump and exit\n"
		"  --force            go on even if vmlinux does not match the dump\n"
		"  --kaslr=OFFSET     KASLR offset (hex) when the dump has no VMCOREINFO\n"
		"  --cache-dir=DIR    where the DWARF index is cached (default ~/.cache/kdx)\n"
		"  -q, --quiet        no banner\n"
		"  -h, --help         this text\n"
		"  --version          print the version\n\n"
		"Commands come from the terminal, from -i FILE, or from standard input\n"
		"when it is not a terminal (batch: exit status 1 if any command failed).\n");
}

/* Append ARG as one double-quoted word for kdx_split_words. */
static void append_quoted(struct kdx_strbuf *b, const char *arg)
{
	kdx_strbuf_append(b, "\"", 1);
	for (const char *p = arg; *p; p++) {
		if (*p == '"' || *p == '\\')
			kdx_strbuf_append(b, "\\", 1);
		kdx_strbuf_append(b, p, 1);
	}
	kdx_strbuf_append(b, "\"", 1);
}

/* Default debuginfo location on Debian for RELEASE. */
static char *debuginfo_for(const char *release)
{
	char *p;
	if (asprintf(&p, "/usr/lib/debug/boot/vmlinux-%s", release) < 0)
		return NULL;
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

/* Peek OSRELEASE of a dump without opening the session. */
static char *dump_release(const char *vmcore)
{
	struct kdx_target *t;
	struct kdx_error *err = kdx_target_open(vmcore, &t);
	char *rel = NULL;
	size_t len;

	if (err) {
		kdx_error_destroy(err);
		return NULL;
	}
	const char *r = kdx_vmcoreinfo_get(t, "OSRELEASE", &len);
	if (r)
		rel = strndup(r, len);
	kdx_target_close(t);
	return rel;
}

int main(int argc, char **argv)
{
	enum { OPT_FORCE = 256, OPT_KASLR, OPT_CACHE, OPT_VERSION, OPT_SCRIPT };
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "kaslr", required_argument, NULL, OPT_KASLR },
		{ "cache-dir", required_argument, NULL, OPT_CACHE },
		{ "script", required_argument, NULL, OPT_SCRIPT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct kdx_options opts;
	const char *input_file = NULL, *script = NULL;
	char **cmds = NULL;
	int ncmds = 0, c;
	char *owned_vmlinux = NULL;

	memset(&opts, 0, sizeof(opts));
	cmds = calloc((size_t)argc + 1, sizeof(*cmds));
	/* '+': stop at the first non-option so script arguments pass through */
	while ((c = getopt_long(argc, argv, "+i:c:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': input_file = optarg; break;
		case 'c': cmds[ncmds++] = optarg; break;
		case 'q': opts.quiet = 1; break;
		case 'h': usage(stdout); return 0;
		case OPT_FORCE: opts.force = 1; break;
		case OPT_CACHE: opts.cache_dir = optarg; break;
		case OPT_SCRIPT: script = optarg; break;
		case OPT_VERSION: printf("kdx %s\n", PACKAGE_VERSION); return 0;
		case OPT_KASLR: {
			struct kdx_error *err = kdx_parse_u64(optarg, 1, &opts.kaslr);
			if (err) {
				kdx_error_report(kdx_error_prefix(err, "--kaslr"));
				return 2;
			}
			opts.have_kaslr = 1;
			break;
		}
		default: usage(stderr); return 2;
		}
	}

	/* Positional files: a dump is recognised by content; the other is vmlinux.
	 * With --script, arguments after the files belong to the script. */
	int i = optind;
	for (; i < argc && i < optind + 2; i++) {
		if (access(argv[i], R_OK) != 0) {
			if (script)
				break;
			fprintf(stderr, "kdx: cannot read %s: no such file or permission denied\n", argv[i]);
			return 2;
		}
		if (kdx_target_probe_file(argv[i])) {
			if (opts.vmcore) {
				fprintf(stderr, "kdx: two dump files given (%s, %s)\n", opts.vmcore, argv[i]);
				return 2;
			}
			opts.vmcore = argv[i];
		} else if (!opts.vmlinux) {
			opts.vmlinux = argv[i];
		} else if (script) {
			break;
		} else {
			fprintf(stderr, "kdx: %s is not a kernel dump (not ELF core, kdump-compressed or makedumpfile flattened)\n", argv[i]);
			return 2;
		}
	}
	int script_argi = i;
	if (!script && i < argc) {
		usage(stderr);
		return 2;
	}
	if (!opts.vmlinux) {
		char *rel = NULL;
		if (opts.vmcore) {
			rel = dump_release(opts.vmcore);
		} else {
			struct utsname u;
			if (uname(&u) == 0)
				rel = strdup(u.release);
		}
		if (rel)
			owned_vmlinux = debuginfo_for(rel);
		if (!owned_vmlinux) {
			fprintf(stderr, "kdx: no vmlinux given and no debuginfo found for %s: pass VMLINUX (Debian: apt-get install linux-image-%s-dbg)\n",
				rel ? rel : "this kernel", rel ? rel : "ABI-FLAVOUR");
			free(rel);
			return 2;
		}
		free(rel);
		opts.vmlinux = owned_vmlinux;
	}

	struct kdx_session *s;
	struct kdx_error *err = kdx_session_open(&opts, &s);
	if (err) {
		kdx_error_report(err);
		free(owned_vmlinux);
		free(cmds);
		return 1;
	}
	kdx_repl_install_signals(s);

	int interactive = isatty(0) && !script && !ncmds;
	s->batch = !interactive;
	/* -i FILE and -c CMD run first: they also prepare a script's run
	 * (e.g. `-c "mod -s kdx_fixture kdx_fixture.ko" --script f.stp`). */
	if (input_file) {
		FILE *f = fopen(input_file, "r");
		if (!f) {
			fprintf(stderr, "kdx: cannot open %s: %s\n", input_file, strerror(errno));
			s->error_count++;
		} else {
			kdx_repl_batch(s, f);
			fclose(f);
		}
	}
	for (int j = 0; j < ncmds; j++)
		kdx_repl_execute(s, cmds[j]);
	if (script) {
		struct kdx_strbuf line = { 0 };
		kdx_strbuf_printf(&line, "probe ");
		append_quoted(&line, script);
		for (int j = script_argi; j < argc; j++) {
			kdx_strbuf_printf(&line, " ");
			append_quoted(&line, argv[j]);
		}
		char *l = kdx_strbuf_take(&line);
		kdx_repl_execute(s, l);
		free(l);
	} else if (interactive) {
		if (!opts.quiet)
			printf("kdx %s: %s on %s (%s). Type help for commands.\n",
			       PACKAGE_VERSION, opts.vmlinux,
			       s->target->path ? s->target->path : "live kernel",
			       s->target->format);
		/* like crash: the system summary and the panic context first */
		if (!opts.quiet && !input_file) {
			kdx_repl_execute(s, "sys");
			if (kdx_task_panic(s)) {
				putchar('\n');
				kdx_repl_execute(s, "set -p");
			}
			putchar('\n');
		}
		kdx_repl_interactive(s);
	} else if (!ncmds) {
		kdx_repl_batch(s, stdin);
	}
	int status = s->batch && s->error_count ? 1 : 0;
	kdx_session_close(s);
	free(owned_vmlinux);
	free(cmds);
	return status;
}
