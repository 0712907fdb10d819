#include <stdio.h>
#include <string.h>

#include "commands/command.h"
#include "kernel/tasks.h"

static void show_context(struct kdx_session *s, const struct kdx_task *t)
{
	fprintf(s->out, "    PID: %d\nCOMMAND: \"%s\"\n   TASK: %llx\n    CPU: %d\n  STATE: %s%s\n",
		t->pid, t->comm, (unsigned long long)t->addr, t->cpu,
		kdx_task_state_name(s, t), t->is_panic ? " (PANIC)" : t->active ? " (ACTIVE)" : "");
}

static struct kdx_error *cmd_set(struct kdx_session *s, int argc, char **argv)
{
	if (argc == 1) {
		fprintf(s->out, "        radix: %d (%s)\n", s->radix,
			s->radix == 16 ? "hexadecimal" : "decimal");
		const struct kdx_task *t = kdx_task_current(s);
		if (t)
			fprintf(s->out, "      context: PID %d (%s)\n", t->pid, t->comm);
		return NULL;
	}
	if (!strcmp(argv[1], "radix")) {
		if (argc == 2) {
			fprintf(s->out, "output radix: %d (%s)\n", s->radix,
				s->radix == 16 ? "hex" : "decimal");
			return NULL;
		}
		if (strcmp(argv[2], "10") && strcmp(argv[2], "16"))
			return kdx_error_create(KDX_ERR_INVALID, "set radix: 10 or 16, not %s", argv[2]);
		s->radix = argv[2][0] == '1' && argv[2][1] == '6' ? 16 : 10;
		fprintf(s->out, "output radix: %d (%s)\n", s->radix, s->radix == 16 ? "hex" : "decimal");
		return NULL;
	}
	if (!strcmp(argv[1], "hex") || !strcmp(argv[1], "dec")) {
		s->radix = argv[1][0] == 'h' ? 16 : 10;
		return NULL;
	}
	if (!strcmp(argv[1], "-p")) {
		const struct kdx_task *t = kdx_task_panic(s);
		if (!t)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "set -p: no panic task in this dump");
		s->current_task = t->addr;
		show_context(s, t);
		return NULL;
	}
	if (argc == 2) {
		const struct kdx_task *t;
		struct kdx_error *err = kdx_task_resolve(s, argv[1], &t);
		if (err)
			return kdx_error_prefix(err, "set");
		s->current_task = t->addr;
		show_context(s, t);
		return NULL;
	}
	return kdx_error_create(KDX_ERR_INVALID, "set: unknown variable %s", argv[1]);
}

const struct kdx_command kdx_cmd_set = {
	.name = "set",
	.usage = "set [PID | TASK | -p] | set radix [10|16] | set hex | set dec",
	.summary = "show or change settings and the current task context",
	.help = "  set               show the settings and the current context\n"
		"  set PID|TASK      make that task the context of bt, task, files, vm...\n"
		"  set -p            back to the panic task\n"
		"  set radix 10|16   default output radix of p, struct, union, task\n"
		"  set hex | set dec shorthands for the radix\n",
	.run = cmd_set,
};
