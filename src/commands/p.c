/*
 * p / print: evaluate a C expression and print its value, as crash does
 * (crash hands the expression to gdb; kdx evaluates it itself).
 *
 *   p jiffies              jiffies = $1 = 4294937296
 *   p/x init_task.pid      $2 = 0x0
 *   p runqueues            (per-CPU variable) its type and per-CPU addresses
 *   p runqueues:1          per_cpu(runqueues, 1) = $3 = {...}
 *   p irq_stat:a           every CPU
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/exprargs.h"
#include "commands/cpuspec.h"
#include "kernel/tasks.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/value.h"
#include "util.h"

extern const struct kdx_command kdx_cmd_p;

static unsigned next_history(struct kdx_session *s)
{
	return ++s->value_history;
}

static struct kdx_error *print_value(struct kdx_session *s, const char *label,
				     struct kdx_value *v, unsigned flags)
{
	char *text;
	struct kdx_error *err = kdx_value_format(s, v, flags | KDX_FMT_TYPED, 0, &text);

	if (err)
		return err;
	if (label)
		fprintf(s->out, "%s = ", label);
	unsigned n = next_history(s);
	kdx_value_history_add(s, v, n);
	fprintf(s->out, "$%u = %s\n", n, text);
	free(text);
	return NULL;
}

/* A bare per-CPU variable: crash lists its type and per-CPU addresses. */
static struct kdx_error *print_percpu_listing(struct kdx_session *s, const char *name,
					      struct kdx_value *v)
{
	int n = kdx_cpu_count(s);
	char *decl = kdx_type_c_string(v->type, name);

	fprintf(s->out, "PER-CPU DATA TYPE:\n  %s;\nPER-CPU ADDRESSES:\n", decl ? decl : name);
	free(decl);
	for (int cpu = 0; cpu < n; cpu++) {
		uint64_t off;
		struct kdx_error *err = kdx_percpu_offset(s, cpu, &off);
		if (err)
			return err;
		fprintf(s->out, "  [%d]: %llx\n", cpu, (unsigned long long)(v->addr + off));
	}
	return NULL;
}

/* A text symbol without debuginfo: gdb's "{<text variable, no debug info>}". */
static int is_text_symbol(struct kdx_session *s, const char *name, uint64_t *addr)
{
	const struct kdx_symbol *sym = s->symtab ? kdx_symbol_by_name(s->symtab, name, NULL) : NULL;
	if (!sym)
		return 0;
	if (sym->type != 'T' && sym->type != 't' && sym->type != 'W' && sym->type != 'w')
		return 0;
	*addr = sym->addr;
	return 1;
}

static struct kdx_error *kdx_print_expression(struct kdx_session *s, const char *text, unsigned flags)
{
	char *expr = strdup(text);
	struct kdx_error *err = NULL;
	struct kdx_value v = {0};
	char *spec;

	if (!expr)
		return kdx_error_nomem();
	spec = kdx_cpuspec_split(expr);
	/* trim */
	char *e = expr;
	while (isspace((unsigned char)*e))
		e++;
	for (size_t n = strlen(e); n && isspace((unsigned char)e[n - 1]); n--)
		e[n - 1] = 0;
	if (!spec) {
		if ((err = kdx_eval_expr(s, e, &v)))
			goto out;
		if (kdx_expr_is_identifier(e) && v.is_lvalue && kdx_value_is_percpu_addr(v.addr)) {
			err = print_percpu_listing(s, e, &v);
			goto out;
		}
		uint64_t taddr;
		struct kdx_type *bt = kdx_value_type_bare(v.type);
		if (kdx_expr_is_identifier(e) && !v.is_lvalue && bt && bt->kind == KDX_TYPE_INT &&
		    is_text_symbol(s, e, &taddr) && taddr == v.u) {
			char buf[256];
			fprintf(s->out, "%s = $%u = {<text variable, no debug info>} 0x%llx <%s>\n", e,
				next_history(s), (unsigned long long)taddr,
				kdx_symbol_format(s, taddr, buf, sizeof(buf)));
			goto out;
		}
		err = print_value(s, kdx_expr_is_identifier(e) ? e : NULL, &v, flags);
		goto out;
	}
	int n = kdx_cpu_count(s);
	char *cpus = calloc(1, n > 0 ? n : 1);
	if (!cpus) {
		err = kdx_error_nomem();
		goto out;
	}
	if ((err = kdx_cpuspec_parse(s, spec, cpus, n))) {
		free(cpus);
		goto out;
	}
	for (int cpu = 0; cpu < n && !err; cpu++) {
		char label[512];
		if (!cpus[cpu])
			continue;
		if (kdx_interrupted(s)) {
			err = kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
			break;
		}
		kdx_value_release(&v);
		if ((err = kdx_eval_expr_cpu(s, e, cpu, &v)))
			break;
		snprintf(label, sizeof(label), "per_cpu(%s, %d)", e, cpu);
		err = print_value(s, label, &v, flags);
	}
	free(cpus);
out:
	kdx_value_release(&v);
	free(expr);
	return err;
}

static struct kdx_error *cmd_p(struct kdx_session *s, int argc, char **argv)
{
	unsigned flags = 0;
	const char *name = argv[0];
	const char *slash = strchr(name, '/');
	int i = 1;

	/* p/x is gdb's print/x (numbers only); p -x and px only change the
	 * radix, as in crash */
	if (slash && slash[1] == 'x')
		flags |= KDX_FMT_RAW_HEX;
	else if (!strcmp(name, "px"))
		flags |= KDX_FMT_HEX;
	else if (!strcmp(name, "pd") || (slash && slash[1] == 'd'))
		flags |= KDX_FMT_DEC;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-x") || !strcmp(a, "/x"))
			flags = (flags & ~KDX_FMT_DEC) | KDX_FMT_HEX;
		else if (!strcmp(a, "-d") || !strcmp(a, "/d"))
			flags = (flags & ~KDX_FMT_HEX) | KDX_FMT_DEC;
		else if (!strcmp(a, "-u"))
			return kdx_error_create(KDX_ERR_UNSUPPORTED, "p: -u (user addresses) is not supported; use rd -u");
		else if (!strcmp(a, "--"))
			{ i++; break; }
		else
			break;
	}
	if (i >= argc)
		return kdx_command_usage(&kdx_cmd_p);
	char *expr = kdx_expr_args(s, argc, argv, i);
	if (!expr)
		return kdx_error_nomem();
	struct kdx_error *err = kdx_print_expression(s, expr, flags);
	free(expr);
	if (err)
		return kdx_error_prefix(err, "p");
	return NULL;
}

static const char *const p_aliases[] = { "print", "px", "pd", "p/x", "p/d", "print/x", "print/d", NULL };

const struct kdx_command kdx_cmd_p = {
	.name = "p",
	.aliases = p_aliases,
	.usage = "p [-x|-d] EXPRESSION[:CPUSPEC]   (also p/x, p/d, px, pd, print)",
	.summary = "print the value of a C expression",
	.help =
"  Evaluates a C expression over the kernel's DWARF types and prints its value\n"
"  as crash (gdb) does. A single symbol prints as \"NAME = $N = VALUE\", other\n"
"  expressions as \"$N = VALUE\".\n"
"\n"
"  EXPRESSION  globals (with their DWARF type), numbers (0x.., 0.., 0b..),\n"
"              'c', \"str\", casts \"(struct task_struct *)0xffff...\", ->, ., [],\n"
"              unary & * - ~ !, + - * / % << >> & | ^, comparisons, && || ?:,\n"
"              sizeof(type), sizeof expr, offsetof(struct T, m), per_cpu(var, cpu).\n"
"              Symbols without debuginfo: text symbols are their address,\n"
"              data symbols read as unsigned long. Quote odd names: 'foo.isra.0'.\n"
"  :CPUSPEC    for per-CPU variables: \":1\", \":1,3,5-7\", \":a\" (all CPUs),\n"
"              \":\" (the context task's CPU). Every per-CPU variable in the\n"
"              expression is taken on that CPU.\n"
"  -x, px      hexadecimal radix;  -d, pd  decimal radix (default: set radix)\n"
"  p/x         gdb's print/x: every number in hex, no <symbol>, no strings\n"
"\n"
"  A per-CPU variable given alone prints its type and per-CPU addresses.\n"
"  Examples:  p jiffies    p/x init_task.pid    p init_task.comm\n"
"             p *(struct list_head *)0xffffffff82a0cfc8    p runqueues:0\n",
	.run = cmd_p,
};
