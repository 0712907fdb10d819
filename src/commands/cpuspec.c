/* crash's ":CPUSPEC" suffix of per-CPU arguments (p, struct, union). */
#include "commands/cpuspec.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/tasks.h"

/* Split "EXPR:CPUSPEC" at a top-level colon that is not part of ?:. */
char *kdx_cpuspec_split(char *expr)
{
	int depth = 0, quote = 0;
	char *colon = NULL;

	if (strchr(expr, '?'))
		return NULL;
	for (char *p = expr; *p; p++) {
		if (quote) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == quote)
				quote = 0;
			continue;
		}
		if (*p == '\'' || *p == '"')
			quote = *p;
		else if (*p == '(' || *p == '[')
			depth++;
		else if (*p == ')' || *p == ']')
			depth--;
		else if (*p == ':' && depth == 0)
			colon = p;
	}
	if (!colon)
		return NULL;
	*colon = 0;
	return colon + 1;
}

/* crash's cpuspec: "" (context CPU), "a"/"all", "1,3,5-7". Fills CPUS
 * (a 0/1 array of NCPUS entries). */
struct kdx_error *kdx_cpuspec_parse(struct kdx_session *s, const char *spec, char *cpus, int ncpus)
{
	memset(cpus, 0, ncpus);
	while (isspace((unsigned char)*spec))
		spec++;
	if (!*spec) {
		const struct kdx_task *t = kdx_task_current(s);
		if (!t)
			return kdx_error_create(KDX_ERR_NOT_FOUND, "no context task: give a CPU number");
		if (t->cpu < 0 || t->cpu >= ncpus)
			return kdx_error_create(KDX_ERR_INVALID, "context task is on CPU %d", t->cpu);
		cpus[t->cpu] = 1;
		return NULL;
	}
	if (!strcmp(spec, "a") || !strcmp(spec, "all")) {
		memset(cpus, 1, ncpus);
		return NULL;
	}
	const char *p = spec;
	while (*p) {
		char *end;
		long lo = strtol(p, &end, 10), hi;
		if (end == p)
			return kdx_error_create(KDX_ERR_SYNTAX, "bad CPU list \"%s\"", spec);
		hi = lo;
		p = end;
		if (*p == '-') {
			hi = strtol(p + 1, &end, 10);
			if (end == p + 1)
				return kdx_error_create(KDX_ERR_SYNTAX, "bad CPU list \"%s\"", spec);
			p = end;
		}
		if (lo < 0 || hi < lo || hi >= ncpus) {
			if (lo == hi)
				return kdx_error_create(KDX_ERR_INVALID, "no CPU %ld: this kernel has %d possible CPUs (0-%d)",
							lo, ncpus, ncpus - 1);
			return kdx_error_create(KDX_ERR_INVALID, "CPUs %ld-%ld out of range: this kernel has %d possible CPUs (0-%d)",
						lo, hi, ncpus, ncpus - 1);
		}
		for (long c = lo; c <= hi; c++)
			cpus[c] = 1;
		if (*p == ',')
			p++;
		else if (*p)
			return kdx_error_create(KDX_ERR_SYNTAX, "bad CPU list \"%s\"", spec);
	}
	return NULL;
}

