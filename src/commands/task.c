#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "kernel/tasks.h"
#include "symbols/types.h"
#include "symbols/value.h"

struct task_opts {
	unsigned fmt;          /* KDX_FMT_HEX / KDX_FMT_DEC */
	char *members;         /* -R list (comma separated), or NULL */
};

static struct kdx_error *show_task(struct kdx_session *s, const struct kdx_task *t,
				   const struct task_opts *o)
{
	struct kdx_type *type;
	struct kdx_value v;
	struct kdx_error *err;
	char hdr[160], *text = NULL;

	fprintf(s->out, "%s\n", kdx_task_header(t, hdr, sizeof(hdr)));
	if ((err = kdx_type_find(s->types, "struct task_struct", &type)))
		return err;
	kdx_value_lvalue(&v, type, t->addr);
	if (!o->members) {
		err = kdx_value_format(s, &v, o->fmt, 0, &text);
		if (err)
			return kdx_error_prefix(err, "task_struct at %llx", (unsigned long long)t->addr);
		fprintf(s->out, "struct task_struct %s\n\n", text);
		free(text);
		return NULL;
	}
	char *list = strdup(o->members), *save = NULL;
	if (!list)
		return kdx_error_nomem();
	for (char *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
		struct kdx_value mv;
		/* a member path: "se.on_rq", "sched_info.last_arrival" */
		char expr[512];
		snprintf(expr, sizeof(expr), "((struct task_struct *)0x%llx)->%s",
			 (unsigned long long)t->addr, m);
		err = kdx_eval_expr(s, expr, &mv);
		if (!err) {
			err = kdx_value_format(s, &mv, o->fmt, 2, &text);
			kdx_value_release(&mv);
		}
		if (err) {
			/* M points into LIST: compose the message before freeing it */
			err = kdx_error_prefix(err, "task -R %s", m);
			free(list);
			return err;
		}
		fprintf(s->out, "  %s = %s,\n", m, text);
		free(text);
	}
	fputc('\n', s->out);
	free(list);
	return NULL;
}

static struct kdx_error *parse_opts(int argc, char **argv, struct task_opts *o)
{
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "R:xd")) != -1) {
		switch (c) {
		case 'R': o->members = optarg; break;
		case 'x': o->fmt = KDX_FMT_HEX; break;
		case 'd': o->fmt = KDX_FMT_DEC; break;
		default:
			return kdx_error_create(KDX_ERR_SYNTAX,
				"task: invalid option -%c; usage: task [-R member[,member...]] [-x|-d] [pid | task] ...",
				optopt);
		}
	}
	return NULL;
}

/* foreach ... task [-R ...]: one task. */
static struct kdx_error *task_run_task(struct kdx_session *s, const struct kdx_task *t,
				       int argc, char **argv, unsigned flags)
{
	struct task_opts o = { 0 };
	struct kdx_error *err = parse_opts(argc, argv, &o);

	(void)flags;
	if (err)
		return err;
	if (optind < argc)
		return kdx_error_create(KDX_ERR_SYNTAX, "foreach task: unexpected argument %s", argv[optind]);
	return show_task(s, t, &o);
}

static struct kdx_error *cmd_task(struct kdx_session *s, int argc, char **argv)
{
	struct task_opts o = { 0 };
	struct kdx_error *err;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt(argc, argv, "R:xd")) != -1) {
		switch (c) {
		case 'R': o.members = optarg; break;
		case 'x': o.fmt = KDX_FMT_HEX; break;
		case 'd': o.fmt = KDX_FMT_DEC; break;
		default:
			return kdx_error_create(KDX_ERR_SYNTAX,
				"task: invalid option -%c; usage: task [-R member[,member...]] [-x|-d] [pid | task] ...",
				optopt);
		}
	}
	if (optind == argc) {
		const struct kdx_task *t = kdx_task_current(s);
		if (!t)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "task: no current task");
		return show_task(s, t, &o);
	}
	/* Resolve every argument first: a bad one is one line, nothing printed. */
	for (int i = optind; i < argc; i++) {
		const struct kdx_task *t;
		if ((err = kdx_task_resolve(s, argv[i], &t)))
			return kdx_error_create(KDX_ERR_NOT_FOUND, "task: invalid task or pid value: %s",
						(kdx_error_destroy(err), argv[i]));
	}
	for (int i = optind; i < argc; i++) {
		const struct kdx_task *t;
		if ((err = kdx_task_resolve(s, argv[i], &t)) || (err = show_task(s, t, &o)))
			return err;
	}
	return NULL;
}

const struct kdx_command kdx_cmd_task = {
	.name = "task",
	.usage = "task [-R member[,member...]] [-x|-d] [pid | task] ...",
	.summary = "a task's task_struct",
	.help = "  Prints the task header line and its whole struct task_struct, or with -R\n"
		"  only the listed members (paths like se.on_rq allowed), one per line:\n"
		"    PID: 1        TASK: ffff888003a1c000  CPU: 0    COMMAND: \"init\"\n"
		"      pid = 1,\n"
		"  Without a task argument: the current context (see `set`).\n"
		"    -x  hexadecimal   -d  decimal (default: the session radix)\n",
	.run = cmd_task,
	.run_task = task_run_task,
};
