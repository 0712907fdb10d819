/*
 * whatis: the type of a symbol or expression, or a type's definition.
 *
 *   whatis init_task          struct task_struct init_task;
 *   whatis schedule           void schedule(void);
 *   whatis struct list_head   the definition and SIZE (as `struct`)
 *   whatis task_struct        the same: a bare struct/union/enum tag works
 *   whatis pid_t              typedef int pid_t; SIZE: 4
 *   whatis init_task.comm     type = char [16]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/exprargs.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/value.h"
#include "util.h"

extern const struct kdx_command kdx_cmd_whatis;

static struct kdx_error *print_definition(struct kdx_session *s, struct kdx_type *t, int offsets)
{
	char *def;
	struct kdx_error *err = kdx_type_format_definition(s, t, offsets ? KDX_FMT_OFFSETS : 0, &def);
	if (err)
		return err;
	fprintf(s->out, "%s\n", def);
	free(def);
	return NULL;
}

/* A bare tag: try struct, union, enum in that order. */
static struct kdx_type *find_tag(struct kdx_session *s, const char *name)
{
	static const char *const kinds[] = { "struct", "union", "enum" };
	for (size_t i = 0; i < 3; i++) {
		char full[512];
		struct kdx_type *t;
		snprintf(full, sizeof(full), "%s %s", kinds[i], name);
		struct kdx_error *err = kdx_type_find(s->types, full, &t);
		if (!err)
			return t;
		kdx_error_destroy(err);
	}
	return NULL;
}

static struct kdx_error *whatis(struct kdx_session *s, const char *text, int offsets)
{
	struct kdx_type *t;
	struct kdx_value v;
	struct kdx_error *err;

	if (!s->types)
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "no type information loaded");
	if (kdx_expr_is_identifier(text)) {
		uint64_t addr;
		unsigned flags;
		err = kdx_variable_lookup(s, text, &t, &addr, &flags);
		if (!err && t) {
			/* the value's type has array sizes the declaration left out */
			struct kdx_value sv;
			struct kdx_error *verr = kdx_value_symbol(s, text, &sv);
			if (!verr) {
				t = sv.type;
				kdx_value_release(&sv);
			}
			kdx_error_destroy(verr);
			char *decl = kdx_type_c_string(t, text);
			fprintf(s->out, "%s;\n", decl ? decl : text);
			free(decl);
			return NULL;
		}
		kdx_error_destroy(err);
	}
	/* a type name: "struct x", "pid_t", "unsigned long *" */
	err = kdx_eval_type(s, text, &t);
	if (!err)
		return print_definition(s, t, offsets);
	kdx_error_destroy(err);
	if (kdx_expr_is_identifier(text)) {
		t = find_tag(s, text);
		if (t)
			return print_definition(s, t, offsets);
		const struct kdx_symbol *sym = kdx_symbol_by_name(s->symtab, text, NULL);
		if (sym) {
			int text_sym = strchr("TtWw", sym->type) != NULL;
			fprintf(s->out, "%s: %s symbol without debuginfo (%c)%s%s%s\n", text,
				text_sym ? "text" : "data", sym->type,
				sym->module ? " [" : "", sym->module ? sym->module : "", sym->module ? "]" : "");
			return NULL;
		}
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no symbol or type \"%s\" in vmlinux or loaded modules",
					text);
	}
	/* an expression */
	if ((err = kdx_eval_expr(s, text, &v)))
		return err;
	char *decl = kdx_type_c_string(v.type, NULL);
	fprintf(s->out, "%s%s\n", decl ? decl : "?", v.bit_size ? " (bit field)" : "");
	free(decl);
	kdx_value_release(&v);
	return NULL;
}

static struct kdx_error *cmd_whatis(struct kdx_session *s, int argc, char **argv)
{
	int offsets = 0, i = 1;

	if (i < argc && !strcmp(argv[i], "-o")) {
		offsets = 1;
		i++;
	}
	if (i >= argc)
		return kdx_command_usage(&kdx_cmd_whatis);
	char *text = kdx_expr_args(s, argc, argv, i);
	if (!text)
		return kdx_error_nomem();
	struct kdx_error *err = whatis(s, text, offsets);
	free(text);
	return err ? kdx_error_prefix(err, "whatis") : NULL;
}

const struct kdx_command kdx_cmd_whatis = {
	.name = "whatis",
	.usage = "whatis [-o] SYMBOL | TYPE | EXPRESSION",
	.summary = "show the type of a symbol or expression, or a type's definition",
	.help =
"  whatis SYMBOL        its declaration: \"struct task_struct init_task;\"\n"
"  whatis TYPE          the definition and SIZE: struct list_head, task_struct\n"
"                       (a bare struct/union/enum tag), pid_t, unsigned long *\n"
"  whatis EXPRESSION    its type: \"char [16]\" (whatis init_task.comm)\n"
"  -o                   with member offsets, as struct -o\n",
	.run = cmd_whatis,
};
