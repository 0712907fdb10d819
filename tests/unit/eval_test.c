/*
 * Unit tests of the C expression evaluator and value printing: literals,
 * C promotion and precedence, short-circuit, syntax errors with columns,
 * gdb-style array/string printing on hand-built types; and, when the
 * Debian vmlinux debuginfo is installed, casts, sizeof, offsetof, member
 * access and pointer arithmetic over its DWARF types (no dump needed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "symbols/types.h"
#include "symbols/value.h"

static int failures;

static void report(int ok, const char *name, const char *expected, const char *got)
{
	if (ok) {
		printf("ok - %s\n", name);
		return;
	}
	failures++;
	printf("not ok - %s\n#   expected: %s\n#   got:      %s\n", name, expected, got);
}

/* EXPR must evaluate to the signed integer WANT. */
static void expect_int(struct kdx_session *s, const char *expr, long long want)
{
	struct kdx_value v;
	char name[256], got[256], exp[64];
	struct kdx_error *err = kdx_eval_expr(s, expr, &v);

	snprintf(name, sizeof(name), "eval %s", expr);
	snprintf(exp, sizeof(exp), "%lld", want);
	if (err) {
		report(0, name, exp, err->message);
		kdx_error_destroy(err);
		return;
	}
	int64_t i = 0;
	err = kdx_value_as_i64(s, &v, &i);
	if (err) {
		report(0, name, exp, err->message);
		kdx_error_destroy(err);
	} else {
		snprintf(got, sizeof(got), "%lld", (long long)i);
		report(i == want, name, exp, got);
	}
	kdx_value_release(&v);
}

/* EXPR must fail with a message containing WANT. */
static void expect_error(struct kdx_session *s, const char *expr, const char *want)
{
	struct kdx_value v;
	char name[256];
	struct kdx_error *err = kdx_eval_expr(s, expr, &v);

	snprintf(name, sizeof(name), "error for %s", expr);
	if (!err) {
		report(0, name, want, "no error");
		kdx_value_release(&v);
		return;
	}
	report(strstr(err->message, want) != NULL, name, want, err->message);
	kdx_error_destroy(err);
}

/* The type of EXPR's result must have SIZE bytes and signedness SIGNED. */
static void expect_type(struct kdx_session *s, const char *expr, uint64_t size, int is_signed)
{
	struct kdx_value v;
	char name[256], got[64], exp[64];
	struct kdx_error *err = kdx_eval_expr(s, expr, &v);

	snprintf(name, sizeof(name), "type of %s", expr);
	snprintf(exp, sizeof(exp), "size %llu signed %d", (unsigned long long)size, is_signed);
	if (err) {
		report(0, name, exp, err->message);
		kdx_error_destroy(err);
		return;
	}
	struct kdx_type *t = kdx_value_type_bare(v.type);
	snprintf(got, sizeof(got), "size %llu signed %d", (unsigned long long)t->size, t->is_signed);
	report(t->size == size && !!t->is_signed == !!is_signed, name, exp, got);
	kdx_value_release(&v);
}

static void expect_format(struct kdx_session *s, const char *name, struct kdx_value *v,
			  unsigned flags, const char *want)
{
	char *text = NULL;
	struct kdx_error *err = kdx_value_format(s, v, flags, 0, &text);
	if (err) {
		report(0, name, want, err->message);
		kdx_error_destroy(err);
		return;
	}
	report(!strcmp(text, want), name, want, text);
	free(text);
}

static void literal_tests(struct kdx_session *s)
{
	expect_int(s, "1 + 2 * 3", 7);
	expect_int(s, "(1 + 2) * 3", 9);
	expect_int(s, "(1 << 4) | 3", 19);
	expect_int(s, "10 / 3", 3);
	expect_int(s, "-7 / 2", -3);
	expect_int(s, "-7 % 3", -1);
	expect_int(s, "-1", -1);
	expect_int(s, "~0", -1);
	expect_int(s, "!5", 0);
	expect_int(s, "!0", 1);
	expect_int(s, "3 > 2 == 1", 1);
	expect_int(s, "1 ? 2 : 3", 2);
	expect_int(s, "0 ? 2 : 3", 3);
	expect_int(s, "0 && 1 / 0", 0);      /* short circuit: no division */
	expect_int(s, "1 || 1 / 0", 1);
	expect_int(s, "0x10 + 010 + 0b11", 16 + 8 + 3);
	expect_int(s, "'a'", 97);
	expect_int(s, "'\\n'", 10);
	expect_int(s, "'\\x41'", 65);
	expect_int(s, "1UL << 40", 1LL << 40);
	expect_int(s, "0xffffffff + 1", 0);           /* unsigned int wraps */
	expect_int(s, "4294967295 + 1", 4294967296LL); /* decimal: long */
	expect_int(s, "-1 < 0u", 0);                  /* -1 converts to UINT_MAX */
	expect_int(s, "-1L < 0", 1);
	expect_int(s, "0x7fffffff + 0x7fffffff", -2); /* int arithmetic wraps */
	expect_int(s, "-8 >> 1", -4);                 /* arithmetic shift on signed */
	expect_int(s, "0xfffffff0u >> 4", 0x0fffffff);
	expect_int(s, "5, 6", 6);
	expect_type(s, "1", 4, 1);
	expect_type(s, "1u", 4, 0);
	expect_type(s, "1L", 8, 1);
	expect_type(s, "1UL + 1", 8, 0);
	expect_type(s, "0x80000000", 4, 0);
	expect_type(s, "'a' + 'b'", 4, 1);            /* promoted to int */
	expect_type(s, "1 < 2", 4, 1);

	expect_error(s, "(1 + 2", "syntax error at column 7: expected ')'");
	expect_error(s, "1 +", "syntax error at column 4: expected an expression");
	expect_error(s, "1 @ 2", "syntax error at column 3: unexpected character '@'");
	expect_error(s, "0x", "bad hexadecimal number");
	expect_error(s, "09", "bad digit '9'");
	expect_error(s, "1 2", "syntax error at column 3: unexpected '2'");
	expect_error(s, "1 / 0", "division by zero");
	expect_error(s, "'abc", "unterminated");
	expect_error(s, "", "empty expression");
	expect_error(s, "1.5", "floating-point constants are not supported");
	expect_error(s, "kdx_no_such_symbol + 1", "no symbol \"kdx_no_such_symbol\"");
	expect_error(s, "(1))", "unbalanced ')'");
}

static void format_tests(struct kdx_session *s)
{
	struct kdx_type t_char = { .kind = KDX_TYPE_INT, .name = "char", .size = 1, .is_signed = 1, .is_char = 1 };
	struct kdx_type t_int = { .kind = KDX_TYPE_INT, .name = "int", .size = 4, .is_signed = 1 };
	struct kdx_type t_uint = { .kind = KDX_TYPE_INT, .name = "unsigned int", .size = 4 };
	struct kdx_type t_bool = { .kind = KDX_TYPE_INT, .name = "_Bool", .size = 1, .is_bool = 1 };
	struct kdx_type t_comm = { .kind = KDX_TYPE_ARRAY, .size = 16, .target = &t_char, .nelem = 16, .nelem_known = 1 };
	struct kdx_type t_arr = { .kind = KDX_TYPE_ARRAY, .size = 32, .target = &t_int, .nelem = 8, .nelem_known = 1 };
	struct kdx_type t_big = { .kind = KDX_TYPE_ARRAY, .size = 4 * 20, .target = &t_int, .nelem = 20, .nelem_known = 1 };
	struct kdx_type t_ptr = { .kind = KDX_TYPE_POINTER, .size = 8, .target = &t_int };
	struct kdx_member members[] = {
		{ .name = "pid", .type = &t_int, .bit_offset = 0 },
		{ .name = "comm", .type = &t_comm, .bit_offset = 32 },
		{ .name = "next", .type = &t_ptr, .bit_offset = 160 },
		{ .name = "flag", .type = &t_bool, .bit_offset = 224 },
		{ .name = "bits", .type = &t_uint, .bit_offset = 227, .bit_size = 3 },
		{ .name = "sbits", .type = &t_int, .bit_offset = 227, .bit_size = 3 },
	};
	struct kdx_type t_struct = { .kind = KDX_TYPE_STRUCT, .name = "fake", .size = 32,
				     .nmembers = 6, .members = members };
	unsigned char buf[64];
	struct kdx_value v;

	memset(&v, 0, sizeof(v));
	v.type = &t_comm;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "swapper/0", 9);
	v.bytes = buf;
	v.nbytes = 16;
	expect_format(s, "char[16] with trailing NULs (gdb drops the last)", &v, 0,
		      "\"swapper/0\\000\\000\\000\\000\\000\\000\"");
	memset(buf, 0, sizeof(buf));
	expect_format(s, "all-zero char[16] (crash: no repeats)", &v, 0,
		      "\"\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\"");
	expect_format(s, "all-zero char[16] with gdb repeats", &v, KDX_FMT_REPEATS, "'\\000' <repeats 15 times>");
	memcpy(buf, "abc", 3);
	memset(buf + 3, 'x', 13);
	expect_format(s, "char run > threshold, gdb repeats", &v, KDX_FMT_REPEATS, "\"abc\", 'x' <repeats 13 times>");
	expect_format(s, "char run > threshold, crash", &v, 0, "\"abcxxxxxxxxxxxxx\"");
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "a\"b\n", 4);
	expect_format(s, "char escapes", &v, KDX_FMT_REPEATS, "\"a\\\"b\\n\", '\\000' <repeats 11 times>");
	expect_format(s, "char[16] one-line stops at NUL", &v, KDX_FMT_ONELINE, "\"a\\\"b\\n\"");

	int fib[8] = {1, 1, 2, 3, 5, 8, 13, 21};
	v.type = &t_arr;
	v.bytes = (unsigned char *)fib;
	v.nbytes = sizeof(fib);
	expect_format(s, "int[8]", &v, 0, "{1, 1, 2, 3, 5, 8, 13, 21}");
	expect_format(s, "int[8] hex", &v, KDX_FMT_HEX, "{0x1, 0x1, 0x2, 0x3, 0x5, 0x8, 0xd, 0x15}");
	expect_format(s, "int[8] one-line", &v, KDX_FMT_ONELINE, "[1, 1, 2, 3, 5, 8, 13, 21]");
	int zeros[20] = {0};
	zeros[0] = -1;
	v.type = &t_big;
	v.bytes = (unsigned char *)zeros;
	v.nbytes = sizeof(zeros);
	expect_format(s, "int repeats (gdb)", &v, KDX_FMT_REPEATS, "{-1, 0 <repeats 19 times>}");
	expect_format(s, "int runs in full (crash)", &v, 0,
		      "{-1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}");

	memset(buf, 0, sizeof(buf));
	int pid = 42;
	uint64_t next = 0xffff888003a1c000ULL;
	memcpy(buf, &pid, 4);
	memcpy(buf + 4, "init", 4);
	memcpy(buf + 20, &next, 8);
	buf[28] = 1;                 /* flag */
	buf[28] |= 5 << 3;           /* bits (3 bits at bit 227 = byte 28 bit 3) */
	v.type = &t_struct;
	v.bytes = buf;
	v.nbytes = 32;
	expect_format(s, "struct multi-line", &v, KDX_FMT_REPEATS,
		      "{\n  pid = 42,\n  comm = \"init\", '\\000' <repeats 11 times>,\n"
		      "  next = 0xffff888003a1c000,\n  flag = true,\n  bits = 5,\n  sbits = -3\n}");
	expect_format(s, "struct one-line", &v, KDX_FMT_ONELINE,
		      "{.pid=42, .comm=\"init\", .next=0xffff888003a1c000, .flag=true, .bits=5, .sbits=-3}");

	struct kdx_value iv;
	kdx_value_init_int(&iv, &t_char, 0x141);
	report(iv.i == 0x41, "init_int truncates to the type", "65", "other");
	kdx_value_init_int(&iv, &t_char, 0xff);
	report(iv.i == -1, "init_int sign-extends signed types", "-1", "other");
	expect_format(s, "char value", &iv, 0, "-1 '\\377'");
}

/* The address argument ARG (rd, struct) must name WANT. */
static void expect_address(struct kdx_session *s, const char *arg, uint64_t want)
{
	uint64_t got = 0;
	char name[256], exp[32], gotbuf[256];
	struct kdx_error *err = kdx_eval_address(s, arg, -1, &got);

	snprintf(name, sizeof(name), "address %s", arg);
	snprintf(exp, sizeof(exp), "%#llx", (unsigned long long)want);
	if (err)
		snprintf(gotbuf, sizeof(gotbuf), "%s", err->message);
	else
		snprintf(gotbuf, sizeof(gotbuf), "%#llx", (unsigned long long)got);
	report(!err && got == want, name, exp, gotbuf);
	kdx_error_destroy(err);
}

/* Against the real vmlinux's DWARF (skipped when not installed). */
static void dwarf_tests(struct kdx_session *s, const char *vmlinux)
{
	struct kdx_error *err = kdx_types_open(vmlinux, NULL, &s->types);
	if (err) {
		printf("ok - dwarf tests # SKIP %s\n", err->message);
		kdx_error_destroy(err);
		return;
	}
	expect_int(s, "sizeof(struct list_head)", 16);
	expect_int(s, "sizeof(struct list_head *)", 8);
	expect_int(s, "sizeof (unsigned long)", 8);
	expect_int(s, "sizeof(short)", 2);
	expect_int(s, "offsetof(struct list_head, prev)", 8);
	expect_int(s, "(long)&((struct list_head *)0)->prev", 8);
	expect_int(s, "(long)((struct list_head *)0x1000 + 2)", 0x1020);
	expect_int(s, "(struct list_head *)0x1020 - (struct list_head *)0x1000", 2);
	expect_int(s, "(long)((void *)0x1000 + 3)", 0x1003);
	expect_int(s, "(long)&((struct hlist_node *)0x100)->pprev", 0x108);
	expect_int(s, "(unsigned char)0x1ff", 0xff);
	expect_int(s, "(signed char)0xff", -1);
	expect_int(s, "(int)0x100000001", 1);
	expect_int(s, "sizeof(((struct task_struct *)0)->comm)", 16);
	expect_int(s, "sizeof ((struct task_struct *)0)->comm[0]", 1);
	expect_int(s, "sizeof(init_task) == sizeof(struct task_struct)", 1);
	expect_int(s, "PIDTYPE_TGID - PIDTYPE_PID", 1);
	expect_type(s, "(pid_t)1", 4, 1);
	expect_error(s, "((struct list_head *)0)->nope", "struct list_head has no member \"nope\"");
	expect_error(s, "(struct kdx_no_such_type *)0", "no type \"struct kdx_no_such_type\"");
	expect_error(s, "*(void *)0", "cannot dereference a void pointer");
	expect_error(s, "1->next", "'->' needs a pointer");
	expect_error(s, "offsetof(struct list_head, nope)", "has no member \"nope\"");
	expect_address(s, "ffff1000", 0xffff1000);              /* hex without 0x */
	expect_address(s, "0x20", 0x20);
	expect_address(s, "2 * 8", 16);                          /* not a number: an expression */
	expect_address(s, "(struct list_head *)0x1000", 0x1000); /* a pointer: its value */
	expect_address(s, "*(struct list_head *)0x1000", 0x1000);/* an object: its address, unread */
	expect_address(s, "&((struct list_head *)0x1000)->prev", 0x1008);

	struct kdx_type *t;
	err = kdx_eval_type(s, "struct list_head *", &t);
	report(!err && t && kdx_value_type_bare(t)->kind == KDX_TYPE_POINTER, "kdx_eval_type pointer",
	       "pointer", err ? err->message : "other");
	kdx_error_destroy(err);

	char *def = NULL;
	err = kdx_eval_type(s, "struct list_head", &t);
	if (!err)
		err = kdx_type_format_definition(s, t, KDX_FMT_OFFSETS | KDX_FMT_DEC, &def);
	const char *want = "struct list_head {\n   [0] struct list_head *next;\n   [8] struct list_head *prev;\n}\nSIZE: 16";
	report(!err && def && !strcmp(def, want), "struct -o list_head definition", want,
	       err ? err->message : def ? def : "NULL");
	kdx_error_destroy(err);
	free(def);
}

int main(void)
{
	struct kdx_session *s = calloc(1, sizeof(*s));
	const char *vmlinux = getenv("KDX_TEST_VMLINUX");

	if (!s)
		return 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	s->out = stdout;
	s->radix = 10;
	literal_tests(s);
	format_tests(s);
	if (!vmlinux)
		vmlinux = "/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64";
	if (access(vmlinux, R_OK) == 0)
		dwarf_tests(s, vmlinux);
	else
		printf("ok - dwarf tests # SKIP no %s\n", vmlinux);
	if (s->types)
		kdx_types_destroy(s->types);
	free(s);
	return failures ? 1 : 0;
}
