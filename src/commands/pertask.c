#include "commands/pertask.h"

#include <stdio.h>

#include "session.h"
#include "kernel/tasks.h"

void kdx_print_task_header(struct kdx_session *s, const struct kdx_task *t)
{
	char cpu[16];

	snprintf(cpu, sizeof(cpu), "%d", t->cpu);
	fprintf(s->out, "PID: %-7d  TASK: %llx  CPU: %-3s  COMMAND: \"%s\"\n", t->pid,
		(unsigned long long)t->addr, cpu, t->comm);
}
