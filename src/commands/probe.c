#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "probe/probe.h"

extern const struct kdx_command kdx_cmd_probe;

static struct kdx_error *read_file(const char *path, char **ret)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return kdx_error_create(KDX_ERR_IO, "probe: cannot open %s: %s", path, strerror(errno));
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (len + 1 < cap)
			break;
		cap *= 2;
		char *nb = realloc(buf, cap);
		if (!nb) {
			free(buf);
			buf = NULL;
		}
		buf = nb;
	}
	int bad = ferror(f);
	fclose(f);
	if (!buf)
		return kdx_error_nomem();
	if (bad) {
		free(buf);
		return kdx_error_create(KDX_ERR_IO, "probe: cannot read %s", path);
	}
	buf[len] = 0;
	if (strlen(buf) != len) {
		free(buf);
		return kdx_error_create(KDX_ERR_FORMAT, "probe: %s contains NUL bytes: not a script", path);
	}
	*ret = buf;
	return NULL;
}

/* Options may come before the script and, for `kdx --script FILE ARGS`,
 * among the arguments (-D NAME=VALUE, --strict); `--` ends them. */
static int take_option(struct kdx_probe_options *o, int argc, char **argv, int *i,
		       struct kdx_error **err)
{
	const char *a = argv[*i];
	if (!strcmp(a, "--strict")) {
		o->strict = 1;
		return 1;
	}
	if (!strcmp(a, "-v")) {
		o->verbose = 1;
		return 1;
	}
	if (!strcmp(a, "-c") || !strcmp(a, "--check")) {
		o->check_only = 1;
		return 1;
	}
	if (!strncmp(a, "-D", 2)) {
		const char *def = a[2] ? a + 2 : (*i + 1 < argc ? argv[++*i] : NULL);
		if (!def) {
			*err = kdx_error_create(KDX_ERR_SYNTAX, "probe: -D needs NAME=VALUE");
			return -1;
		}
		if (o->ndefines == KDX_PROBE_MAX_DEFINES) {
			*err = kdx_error_create(KDX_ERR_SYNTAX, "probe: too many -D options");
			return -1;
		}
		o->defines[o->ndefines++] = def;
		return 1;
	}
	return 0;
}

static struct kdx_error *cmd_probe(struct kdx_session *s, int argc, char **argv)
{
	struct kdx_probe_options o;
	struct kdx_error *err = NULL;
	const char *inline_src = NULL, *file = NULL;
	char **args = calloc((size_t)argc + 1, sizeof(*args));
	int nargs = 0, i, dashdash = 0;

	memset(&o, 0, sizeof(o));
	if (!args)
		return kdx_error_nomem();
	for (i = 1; i < argc; i++) {
		if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = 1;
			continue;
		}
		if (!dashdash && argv[i][0] == '-' && argv[i][1]) {
			if (!file && !inline_src && !strcmp(argv[i], "-e")) {
				if (i + 1 >= argc) {
					err = kdx_command_usage(&kdx_cmd_probe);
					goto out;
				}
				inline_src = argv[++i];
				continue;
			}
			int r = take_option(&o, argc, argv, &i, &err);
			if (r < 0)
				goto out;
			if (r > 0)
				continue;
			if (!file && !inline_src) {
				err = kdx_error_create(KDX_ERR_SYNTAX, "probe: unknown option %s; usage: %s",
						       argv[i], kdx_cmd_probe.usage);
				goto out;
			}
		}
		if (!file && !inline_src)
			file = argv[i];
		else
			args[nargs++] = argv[i];
	}
	if (!file && !inline_src) {
		err = kdx_command_usage(&kdx_cmd_probe);
		goto out;
	}
	o.argc = nargs;
	o.argv = args;
	if (inline_src) {
		err = kdx_probe_run(s, "<command line>", inline_src, &o);
	} else {
		char *src = NULL;
		if (!(err = read_file(file, &src))) {
			err = kdx_probe_run(s, file, src, &o);
			free(src);
		}
	}
	if (!err && o.check_only)
		fprintf(s->out, "%s: OK\n", inline_src ? "<command line>" : file);
out:
	free(args);
	return err;
}

const struct kdx_command kdx_cmd_probe = {
	.name = "probe",
	.usage = "probe [--strict] [-c] [-v] [-D NAME=VALUE]... (-e 'SCRIPT' | FILE.stp) [ARGS...]",
	.summary = "run a SystemTap-like probe script against the dump",
	.help =
	"  Runs a script in kdx's probe language (SystemTap syntax; see\n"
	"  doc/probe-language.md) against the dump. Output goes through the same\n"
	"  pipes and redirects as any command.\n"
	"\n"
	"  -e 'SCRIPT'       the script text on the command line\n"
	"  FILE.stp [ARGS]   the script from a file; ARGS are $1/@1, $2/@2...\n"
	"  --strict          the first failed memory read ends the script\n"
	"                    (default: the hit is aborted, counted, reported)\n"
	"  -c                parse and check only\n"
	"  -v                hits and time per probe point (on stderr)\n"
	"  -D NAME=VALUE     limits: MAXACTION (statements per hit, 100000),\n"
	"                    MAXNESTING (call depth, 64), MAXLISTENTRIES (per\n"
	"                    list walk, 1000000), MAXMAPENTRIES (per array,\n"
	"                    1000000), MAXSTRINGLEN (1024), MAXERRORS (aborted\n"
	"                    hits before giving up, 0 = never)\n"
	"\n"
	"  Probe points: begin, end, error, task, task.process, task.frame,\n"
	"  list(\"HEAD\", \"struct T\", \"member\"), hlist(...), module, cpu.\n"
	"\n"
	"  Examples:\n"
	"    probe -e 'global n; probe task { if (task_state($task) == \"UN\") n[execname()]++ } probe end { foreach (c in n-) printf(\"%-16s %d\\n\", c, n[c]) }'\n"
	"    (one line: the REPL reads one command per line; use a file for more)\n"
	"    probe doc/examples/modules.stp | sort -k2 -n\n"
	"  Batch: kdx --script FILE.stp VMLINUX VMCORE [ARGS]\n",
	.run = cmd_probe,
};
