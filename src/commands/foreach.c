/*
 * foreach: run a per-task command (bt, files, task, ps, vm...) on selected
 * tasks, crash-style. The per-task interface is in commands/pertask.h.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/pertask.h"
#include "kernel/tasks.h"
#include "util.h"

extern const struct kdx_command kdx_cmd_foreach;

static const char *const state_names[] = {
	"RU", "IN", "UN", "ZO", "ST", "TR", "DE", "SW", "WA", "PA", "ID", "NE", NULL,
};

enum {
	SEL_KERNEL = 1,
	SEL_USER = 2,
	SEL_GLEADER = 4,
	SEL_ACTIVE = 8,
};

struct selector {
	int npids;
	int *pids;
	int naddrs;
	uint64_t *addrs;
	int nnames;
	char **names;
	int nregex;
	regex_t *regex;
	int nstates;
	const char *states[16];
	unsigned filters;
};

static void selector_release(struct selector *sel)
{
	free(sel->pids);
	free(sel->addrs);
	free(sel->names);
	for (int i = 0; i < sel->nregex; i++)
		regfree(&sel->regex[i]);
	free(sel->regex);
}

static int is_regex(const char *w)
{
	return strpbrk(w, ".*[]^$+?()|\\") != NULL;
}

static int is_state(const char *w)
{
	for (int i = 0; state_names[i]; i++)
		if (!strcmp(w, state_names[i]))
			return 1;
	return 0;
}

static struct kdx_error *add_selector(struct kdx_session *s, struct selector *sel, const char *w,
				      int max)
{
	if (!strcmp(w, "kernel")) {
		sel->filters |= SEL_KERNEL;
	} else if (!strcmp(w, "user")) {
		sel->filters |= SEL_USER;
	} else if (!strcmp(w, "gleader")) {
		sel->filters |= SEL_GLEADER;
	} else if (!strcmp(w, "active")) {
		sel->filters |= SEL_ACTIVE;
	} else if (is_state(w)) {
		if (sel->nstates < 16)
			sel->states[sel->nstates++] = w;
	} else if (w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
		uint64_t v;
		struct kdx_error *err = kdx_parse_u64(w, 1, &v);
		if (err)
			return kdx_error_prefix(err, "foreach");
		sel->addrs[sel->naddrs++] = v;
	} else if (isdigit((unsigned char)w[0]) && kdx_is_number(w)) {
		uint64_t v;
		struct kdx_error *err = kdx_parse_u64(w, 0, &v);
		if (err)
			return kdx_error_prefix(err, "foreach");
		/* crash: a long hex number is a task address, a short one a PID */
		if (v > 0xffffffffULL)
			sel->addrs[sel->naddrs++] = v;
		else
			sel->pids[sel->npids++] = (int)v;
	} else if (strlen(w) == 16 && strspn(w, "0123456789abcdefABCDEF") == 16) {
		uint64_t v;
		struct kdx_error *err = kdx_parse_u64(w, 1, &v);
		if (err)
			return kdx_error_prefix(err, "foreach");
		sel->addrs[sel->naddrs++] = v;
	} else if (is_regex(w)) {
		int rc = regcomp(&sel->regex[sel->nregex], w, REG_EXTENDED | REG_NOSUB);
		if (rc) {
			char msg[128];
			regerror(rc, &sel->regex[sel->nregex], msg, sizeof(msg));
			return kdx_error_create(KDX_ERR_SYNTAX, "foreach: bad regular expression '%s': %s",
						w, msg);
		}
		sel->nregex++;
	} else {
		sel->names[sel->nnames++] = (char *)w;
	}
	(void)s;
	(void)max;
	return NULL;
}

static int selected(struct kdx_session *s, const struct selector *sel, const struct kdx_task *t)
{
	int explicit = sel->npids || sel->naddrs || sel->nnames || sel->nregex;
	int ok = !explicit;

	for (int i = 0; !ok && i < sel->npids; i++)
		ok = t->pid == sel->pids[i];
	for (int i = 0; !ok && i < sel->naddrs; i++)
		ok = t->addr == sel->addrs[i];
	for (int i = 0; !ok && i < sel->nnames; i++)
		ok = !strcmp(t->comm, sel->names[i]);
	for (int i = 0; !ok && i < sel->nregex; i++)
		ok = !regexec(&sel->regex[i], t->comm, 0, NULL, 0);
	if (!ok)
		return 0;
	if (sel->nstates) {
		const char *st = kdx_task_state_name(s, t);
		int m = 0;
		for (int i = 0; !m && i < sel->nstates; i++)
			m = st && !strcmp(st, sel->states[i]);
		if (!m)
			return 0;
	}
	if ((sel->filters & SEL_KERNEL) && !(t->is_kthread || t->is_idle || !t->mm))
		return 0;
	if ((sel->filters & SEL_USER) && (t->is_kthread || t->is_idle || !t->mm))
		return 0;
	if ((sel->filters & SEL_GLEADER) && !t->is_group_leader)
		return 0;
	if ((sel->filters & SEL_ACTIVE) && !t->active)
		return 0;
	return 1;
}

static struct kdx_error *cmd_foreach(struct kdx_session *s, int argc, char **argv)
{
	struct selector sel;
	struct kdx_error *err = NULL;
	int ci;
	const struct kdx_command *cmd = NULL;

	memset(&sel, 0, sizeof(sel));
	/* The command is the first word naming a command (task selectors before it). */
	for (ci = 1; ci < argc; ci++) {
		cmd = kdx_command_find(argv[ci]);
		if (cmd)
			break;
	}
	if (!cmd)
		return kdx_error_create(KDX_ERR_SYNTAX, "foreach: no command given (usage: %s)",
					kdx_cmd_foreach.usage);
	if (!cmd->run_task)
		return kdx_error_create(KDX_ERR_UNSUPPORTED,
					"foreach: %s does not run per task (try bt, files, task, ps, vm)",
					cmd->name);
	sel.pids = calloc(argc, sizeof(*sel.pids));
	sel.addrs = calloc(argc, sizeof(*sel.addrs));
	sel.names = calloc(argc, sizeof(*sel.names));
	sel.regex = calloc(argc, sizeof(*sel.regex));
	if (!sel.pids || !sel.addrs || !sel.names || !sel.regex) {
		selector_release(&sel);
		return kdx_error_nomem();
	}
	for (int i = 1; i < ci; i++)
		if ((err = add_selector(s, &sel, argv[i], argc))) {
			selector_release(&sel);
			return err;
		}

	struct kdx_task *tasks;
	size_t n;
	if ((err = kdx_tasks(s, &tasks, &n))) {
		selector_release(&sel);
		return kdx_error_prefix(err, "foreach");
	}
	/* Selected tasks first, so that FIRST/LAST can be told. */
	size_t *pick = malloc((n ? n : 1) * sizeof(*pick)), np = 0;
	if (!pick) {
		selector_release(&sel);
		return kdx_error_nomem();
	}
	for (size_t i = 0; i < n; i++)
		if (selected(s, &sel, &tasks[i]))
			pick[np++] = i;
	/* Explicit PIDs/addresses that name no task: one line each, like crash. */
	for (int i = 0; i < sel.npids; i++) {
		int found = 0;
		for (size_t j = 0; j < n && !found; j++)
			found = tasks[j].pid == sel.pids[i];
		if (!found)
			kdx_session_report(s, kdx_error_create(KDX_ERR_NOT_FOUND,
							       "foreach: no task with PID %d", sel.pids[i]));
	}
	for (int i = 0; i < sel.naddrs; i++)
		if (!kdx_task_by_addr(s, sel.addrs[i]))
			kdx_session_report(s, kdx_error_create(KDX_ERR_NOT_FOUND,
							       "foreach: %llx is not a task",
							       (unsigned long long)sel.addrs[i]));
	for (size_t k = 0; k < np; k++) {
		unsigned flags = KDX_PERTASK_FOREACH;
		if (kdx_interrupted(s)) {
			err = kdx_error_create(KDX_ERR_INTERRUPTED, "foreach: interrupted");
			break;
		}
		if (k == 0)
			flags |= KDX_PERTASK_FIRST;
		if (k + 1 == np)
			flags |= KDX_PERTASK_LAST;
		struct kdx_error *e = cmd->run_task(s, &tasks[pick[k]], argc - ci, argv + ci, flags);
		if (e && e->code == KDX_ERR_SYNTAX) {
			err = e;
			break;
		}
		kdx_session_report(s, e);
	}
	free(pick);
	selector_release(&sel);
	return err;
}

const struct kdx_command kdx_cmd_foreach = {
	.name = "foreach",
	.usage = "foreach [PID | TASK | NAME | 'REGEX' | STATE | kernel | user | gleader | active]... "
		 "COMMAND [options]",
	.summary = "run a per-task command (bt, files, task, ps, vm) on selected tasks",
	.help =
	"Run COMMAND once for every selected task, in ps order, as crash's foreach.\n"
	"\n"
	"Selectors (before the command):\n"
	"  PID, TASK       that task (TASK: a task_struct address, 0x... or 16 hex digits)\n"
	"  NAME            tasks whose command name is NAME\n"
	"  'REGEX'         tasks whose command name matches REGEX (any word with\n"
	"                  regex characters: 'kworker/.*', 'kdx_waiter.*')\n"
	"  RU IN UN ZO ST TR DE SW WA PA ID NE\n"
	"                  tasks in that state (as ps shows it)\n"
	"  kernel | user   kernel threads | user tasks\n"
	"  gleader         thread group leaders\n"
	"  active          tasks running on a CPU at the time of the dump\n"
	"PIDs, tasks, names and regexes add tasks (none: all tasks); states and\n"
	"kernel/user/gleader/active restrict them.\n"
	"\n"
	"Commands: bt (all its options, e.g. `foreach bt -R mutex_lock`), files,\n"
	"and task, ps, vm where available. The output of each task is exactly\n"
	"what the command prints for it, so that\n"
	"  foreach bt > f\n"
	"  !awk '/PID:/ {p=$2} /^ ?#/ {print p, $3}' f\n"
	"works as with crash.\n",
	.run = cmd_foreach,
};
