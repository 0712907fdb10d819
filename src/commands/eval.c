/*
 * eval: crash's calculator. Evaluates a C expression (symbols allowed) and
 * prints it in hexadecimal, decimal, octal and binary:
 *
 *   hexadecimal: 20000  (128KB)
 *       decimal: 131072
 *         octal: 400000
 *        binary: 0000000000000000000000000000000000000000000000100000000000000000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/exprargs.h"
#include "symbols/value.h"
#include "util.h"

extern const struct kdx_command kdx_cmd_eval;

static void print_octal(FILE *f, uint64_t u)
{
	fprintf(f, "%llo", (unsigned long long)u);
}

static struct kdx_error *cmd_eval(struct kdx_session *s, int argc, char **argv)
{
	int bits = 0, i = 1;
	struct kdx_value v;
	uint64_t u;
	struct kdx_error *err;

	for (; i < argc && argv[i][0] == '-' && argv[i][1] && !strchr("0123456789(", argv[i][1]); i++) {
		if (!strcmp(argv[i], "-b"))
			bits = 1;
		else if (!strcmp(argv[i], "-l"))
			;   /* 64-bit is the only width on x86_64 */
		else
			return kdx_error_create(KDX_ERR_SYNTAX, "eval: unknown option %s (usage: %s)",
						argv[i], kdx_cmd_eval.usage);
	}
	if (i >= argc)
		return kdx_command_usage(&kdx_cmd_eval);
	char *expr = kdx_expr_args(s, argc, argv, i);
	if (!expr)
		return kdx_error_nomem();
	err = kdx_eval_expr(s, expr, &v);
	free(expr);
	if (err)
		return kdx_error_prefix(err, "eval");
	err = kdx_value_as_u64(s, &v, &u);
	struct kdx_type *t = kdx_value_type_bare(v.type);
	int is_signed = t && t->is_signed && t->kind != KDX_TYPE_POINTER;
	kdx_value_release(&v);
	if (err)
		return kdx_error_prefix(err, "eval");

	fprintf(s->out, "hexadecimal: %llx", (unsigned long long)u);
	static const char *const units[] = { "KB", "MB", "GB", "TB" };
	uint64_t scaled = u;
	int unit = -1;
	while (scaled && scaled % 1024 == 0 && unit < 3) {
		scaled /= 1024;
		unit++;
	}
	if (unit >= 0 && (int64_t)u > 0)
		fprintf(s->out, "  (%llu%s)", (unsigned long long)scaled, units[unit]);
	fputc('\n', s->out);
	if (is_signed && (int64_t)u < 0)
		fprintf(s->out, "    decimal: %llu  (%lld)\n", (unsigned long long)u, (long long)u);
	else
		fprintf(s->out, "    decimal: %llu\n", (unsigned long long)u);
	fputs("      octal: ", s->out);
	print_octal(s->out, u);
	fputs("\n     binary: ", s->out);
	for (int bit = 63; bit >= 0; bit--)
		fputc((u >> bit) & 1 ? '1' : '0', s->out);
	fputc('\n', s->out);
	if (bits) {
		fputs("   bits set: ", s->out);
		int any = 0;
		for (int bit = 63; bit >= 0; bit--)
			if ((u >> bit) & 1) {
				fprintf(s->out, "%s%d", any ? " " : "", bit);
				any = 1;
			}
		fputc('\n', s->out);
	}
	return NULL;
}

const struct kdx_command kdx_cmd_eval = {
	.name = "eval",
	.usage = "eval [-b] EXPRESSION",
	.summary = "evaluate an expression, show it in hex, decimal, octal and binary",
	.help =
"  eval 128 * 1024        hexadecimal: 20000  (128KB)\n"
"                             decimal: 131072\n"
"                               octal: 400000\n"
"                              binary: 000...100000000000000000\n"
"  The expression is C, as for p (numbers are decimal unless 0x/0/0b;\n"
"  symbols, casts, sizeof work). Negative values also show the signed\n"
"  decimal. -b lists the bits that are set.\n",
	.run = cmd_eval,
};
