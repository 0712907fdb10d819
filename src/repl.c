/*
 * The command loop. A line is split (outside quotes) at the first unquoted
 * `|` (the rest goes to `sh -c` with our output as its input) or `>`/`>>`
 * (output to a file). Every command prints through s->out, so pipes,
 * redirects and the probe language's printf behave the same.
 */
#include "repl.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>

#include "commands/command.h"
#include "symbols/symbols.h"

static struct kdx_session *signal_session;   /* only for the SIGINT handler */

static void on_sigint(int sig)
{
	(void)sig;
	if (signal_session)
		signal_session->interrupted = 1;
}

void kdx_repl_install_signals(struct kdx_session *s)
{
	struct sigaction sa;

	signal_session = s;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);   /* `| head` closing early is not an error */
}

/* Find the first unquoted occurrence of any char in SET; NULL if none. */
static char *find_unquoted(char *p, const char *set)
{
	char quote = 0;
	char *start = p;
	int depth = 0;
	for (; *p; p++) {
		if (quote) {
			if (*p == '\\' && quote == '"' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
		} else if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if (*p == '(' || *p == '[') {
			depth++;
		} else if ((*p == ')' || *p == ']') && depth > 0) {
			depth--;
		} else if (*p == '>' && p > start && p[-1] == '-') {
			/* C's "->" in p/struct expressions, not a redirect */
		} else if (*p == '|' && p[1] == '|') {
			p++;    /* C's "||" */
		} else if (depth == 0 && strchr(set, *p)) {
			return p;
		}
	}
	return NULL;
}

static char *trim(char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\n' || p[n - 1] == '\r'))
		p[--n] = 0;
	return p;
}

int kdx_repl_execute(struct kdx_session *s, const char *input)
{
	char *line = strdup(input);
	char *cmd, *sep, *target = NULL;
	FILE *out = NULL;
	int is_pipe = 0, quit = 0;
	struct kdx_error *err = NULL;

	if (!line) {
		kdx_session_report(s, kdx_error_nomem());
		return 0;
	}
	cmd = trim(line);
	if (!*cmd || *cmd == '#')
		goto done;
	if (*cmd == '!') {
		fflush(s->out);
		int rc = system(cmd + 1);
		if (rc != 0 && s->batch)
			s->error_count++;
		goto done;
	}
	sep = find_unquoted(cmd, "|>");
	if (sep) {
		char kind = *sep;
		int append = kind == '>' && sep[1] == '>';
		*sep = 0;
		target = trim(sep + 1 + append);
		if (!*target) {
			err = kdx_error_create(KDX_ERR_SYNTAX, "missing %s after '%s'",
					       kind == '|' ? "command" : "file name",
					       kind == '|' ? "|" : append ? ">>" : ">");
			goto done;
		}
		fflush(stdout);
		if (kind == '|') {
			out = popen(target, "w");
			is_pipe = 1;
		} else {
			out = fopen(target, append ? "a" : "w");
		}
		if (!out) {
			err = kdx_error_create(KDX_ERR_IO, "cannot open %s: %s", target, strerror(errno));
			goto done;
		}
		cmd = trim(cmd);
	}
	if (!strcmp(cmd, "q") || !strcmp(cmd, "quit") || !strcmp(cmd, "exit")) {
		quit = 1;
		goto done;
	}
	{
		FILE *saved = s->out;
		if (out)
			s->out = out;
		s->interrupted = 0;
		err = kdx_command_run_line(s, cmd);
		fflush(s->out);
		int out_failed = ferror(s->out) != 0;
		s->out = saved;
		if (!err && s->interrupted)
			err = kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
		/* The output went away (or failed) and the command stopped for
		 * that: not an interruption to report. A pipe reader may close
		 * early (| head); a file that cannot be written is an error. */
		if (out_failed && !s->interrupted) {
			if (err && err->code == KDX_ERR_INTERRUPTED) {
				kdx_error_destroy(err);
				err = NULL;
			}
			if (!err && out && !is_pipe)
				err = kdx_error_create(KDX_ERR_IO, "writing %s failed", target);
		}
	}
done:
	if (out) {
		if (is_pipe)
			pclose(out);
		else
			fclose(out);
	}
	if (err)
		kdx_session_report(s, err);
	free(line);
	return quit;
}

void kdx_repl_batch(struct kdx_session *s, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, in) > 0) {
		if (kdx_repl_execute(s, line))
			break;
	}
	free(line);
}

/* Completion: command names first word, symbol names afterwards. */
static struct kdx_session *completion_session;

static char *command_generator(const char *text, int state)
{
	static int index;
	static size_t len;
	const struct kdx_command *c;

	if (!state) {
		index = 0;
		len = strlen(text);
	}
	while ((c = kdx_command_at(index)) != NULL) {
		index++;
		if (!strncmp(c->name, text, len))
			return strdup(c->name);
	}
	return NULL;
}

struct sym_match {
	const char *prefix;
	size_t len;
	char **names;
	size_t n, cap;
};

static int collect_symbol(const struct kdx_symbol *sym, void *arg)
{
	struct sym_match *m = arg;
	if (strncmp(sym->name, m->prefix, m->len))
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;
		char **nn = realloc(m->names, cap * sizeof(*nn));
		if (!nn)
			return 1;
		m->names = nn;
		m->cap = cap;
	}
	m->names[m->n++] = strdup(sym->name);
	return m->n >= 2000;   /* enough to show; more is noise */
}

static char *symbol_generator(const char *text, int state)
{
	static struct sym_match m;
	static size_t next;

	if (!state) {
		for (size_t i = next; i < m.n; i++)
			free(m.names[i]);
		free(m.names);
		memset(&m, 0, sizeof(m));
		next = 0;
		m.prefix = text;
		m.len = strlen(text);
		if (m.len && completion_session && completion_session->symtab)
			kdx_symbol_for_each(completion_session->symtab, collect_symbol, &m);
	}
	if (next < m.n)
		return m.names[next++];
	return NULL;
}

static char **kdx_completion(const char *text, int start, int end)
{
	(void)end;
	rl_attempted_completion_over = 1;
	if (start == 0)
		return rl_completion_matches(text, command_generator);
	return rl_completion_matches(text, symbol_generator);
}

static char *history_path(void)
{
	const char *home = getenv("HOME");
	char *p = NULL;
	if (home && asprintf(&p, "%s/.kdx_history", home) < 0)
		p = NULL;
	return p;
}

void kdx_repl_interactive(struct kdx_session *s)
{
	char *hist = history_path();
	char *line;

	completion_session = s;
	rl_readline_name = "kdx";
	rl_attempted_completion_function = kdx_completion;
	using_history();
	if (hist)
		read_history(hist);
	while ((line = readline("kdx> ")) != NULL) {
		if (*line)
			add_history(line);
		int quit = kdx_repl_execute(s, line);
		free(line);
		if (quit)
			break;
	}
	if (hist) {
		write_history(hist);
		history_truncate_file(hist, 2000);
		free(hist);
	}
	completion_session = NULL;
}
