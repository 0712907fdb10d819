/*
 * Probe language without a dump: lexer, parser, checker, interpreter,
 * arrays, aggregates, histograms, printf, limits, begin/end/error probes,
 * and the malformed-script corpus tests/probe/bad/ (each NAME.stp has its
 * full expected diagnostic in NAME.expected).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"
#include "session.h"
#include "commands/command.h"
#include <unistd.h>

static int failures;

static char *run(const char *src, int argc, char **argv, const char **defines, int strict,
		 char **errmsg)
{
	struct kdx_session s;
	char *buf = NULL;
	size_t len = 0;
	memset(&s, 0, sizeof(s));
	s.out = open_memstream(&buf, &len);
	s.radix = 10;
	struct kdx_probe_options o;
	memset(&o, 0, sizeof(o));
	o.argc = argc;
	o.argv = argv;
	o.strict = strict;
	for (; defines && *defines; defines++)
		o.defines[o.ndefines++] = *defines;
	struct kdx_error *err = kdx_probe_run(&s, "t.stp", src, &o);
	fclose(s.out);
	*errmsg = err ? strdup(err->message) : NULL;
	if (err)
		kdx_error_destroy(err);
	return buf;
}

static void expect_args(const char *name, const char *src, int argc, char **argv,
			const char **defines, const char *want)
{
	char *err;
	char *out = run(src, argc, argv, defines, 0, &err);
	if (err || strcmp(out, want)) {
		printf("not ok - %s\n# expected: %s\n# got: %s%s%s\n", name, want, out,
		       err ? "\n# error: " : "", err ? err : "");
		failures++;
	} else {
		printf("ok - %s\n", name);
	}
	free(out);
	free(err);
}

static void expect_out(const char *name, const char *src, const char *want)
{
	expect_args(name, src, 0, NULL, NULL, want);
}

/* The run fails with an error containing WANT (and prints OUT first, if given). */
static void expect_err(const char *name, const char *src, const char *want, const char *out_want)
{
	char *err;
	char *out = run(src, 0, NULL, NULL, 0, &err);
	if (!err || !strstr(err, want) || (out_want && strcmp(out, out_want))) {
		printf("not ok - %s\n# expected error: %s\n# got error: %s\n# output: %s\n", name, want,
		       err ? err : "(none)", out);
		failures++;
	} else {
		printf("ok - %s\n", name);
	}
	free(out);
	free(err);
}

static void language(void)
{
	expect_out("hello", "probe begin { printf(\"hello %s %d\\n\", \"world\", 42) }", "hello world 42\n");
	expect_out("arith", "probe begin { println(1 + 2 * 3 - 8 / 2 % 3, \" \", -7 / 2, \" \", -7 % 2, \" \", 1 << 4 | 1, \" \", ~0 & 0xff, \" \", 5 ^ 3) }",
		   "6 -3 -1 17 255 6\n");
	expect_out("compare and logic", "probe begin { println(1 < 2, 2 <= 1, \"a\" < \"b\", \"x\" == \"x\", !0, 1 && 0, 0 || 3, 1 ? 10 : 20) }",
		   "101110110\n");
	expect_out("concat", "probe begin { s = \"a\" . \"b\"; s .= \"c\"; println(s, strlen(s)) }", "abc3\n");
	expect_out("assign ops", "probe begin { x = 10; x += 5; x -= 3; x *= 2; x /= 4; x %= 4; x <<= 3; x |= 1; x ^= 3; x >>= 1; x &= 7; println(x) }",
		   "1\n");
	expect_out("incdec", "probe begin { x = 1; y = x++; z = ++x; w = x--; println(x, y, z, w) }", "2133\n");
	expect_out("if else", "probe begin { if (0) println(\"no\") else if (1) println(\"yes\") else println(\"never\") }", "yes\n");
	expect_out("while break continue",
		   "probe begin { i = 0; while (1) { i++; if (i == 2) continue; if (i > 4) break; printf(\"%d \", i) } println() }",
		   "1 3 4 \n");
	expect_out("for", "probe begin { for (i = 0; i < 3; i++) printf(\"%d,\", i); for (;;) break; println(\"\") }", "0,1,2,\n");
	expect_out("functions and recursion",
		   "function fib(n) { if (n < 2) return n; return fib(n-1) + fib(n-2) }\n"
		   "function greet:string (who:string) { return \"hi \" . who }\n"
		   "probe begin { println(fib(15), \" \", greet(\"bob\")) }", "610 hi bob\n");
	expect_out("comments", "# hash\n// slashes\n/* block\n comment */ probe begin { /* inline */ println(1) } // end\n", "1\n");
	expect_out("strings", "probe begin { println(substr(\"hello world\", 6, 5), \"|\", substr(\"abc\", 1), \"|\", isinstr(\"abc\", \"bc\"), isinstr(\"abc\", \"x\"), \"|\", strtol(\"ff\", 16), \"|\", strtol(\"-12\"), \"|\", str_replace(\"a-b-c\", \"-\", \"+\"), \"|\", stringat(\"A\", 0), \"|\", text_str(\"a\\tb\\n\")) }",
		   "world|bc|10|255|-12|a+b+c|65|a\\tb\\n\n");
	expect_out("escapes", "probe begin { printf(\"%s|%c|\\x41\\101\\\\\\\"\\n\", \"tab\\there\", 66) }", "tab\there|B|AA\\\"\n");
	expect_out("printf formats", "probe begin { printf(\"[%5d][%-5d][%05d][%x][%X][%o][%u][%+d][%5s][%-5s][%.2s][%p][%%][%#x]\\n\", 42, 42, 42, 255, 255, 8, -1, 3, \"ab\", \"ab\", \"abcd\", 4096, 255) }",
		   "[   42][42   ][00042][ff][FF][10][18446744073709551615][+3][   ab][ab   ][ab][0x0000000000001000][%][0xff]\n");
	expect_out("sprintf sprint", "probe begin { s = sprintf(\"%d-%s\", 1, \"a\"); t = sprint(1, \"x\", 2); u = sprintln(\"z\"); print(s, t, u) }",
		   "1-a1x2z\n");
	expect_out("log", "probe begin { log(\"line\") }", "line\n");
	expect_out("min max abs", "probe begin { println(min(3, -2), max(3, -2), abs(-9)) }", "-239\n");
	expect_out("adjacent strings", "probe begin { printf(\"a\" \"b\" \"%d\\n\", 1) }", "ab1\n");
	expect_out("ternary nesting", "probe begin { x = 5; println(x > 3 ? x > 4 ? \"big\" : \"mid\" : \"small\") }", "big\n");
	expect_out("int64 wrap and min", "probe begin { x = 9223372036854775807; x++; println(x, \" \", -9223372036854775808 / -1) }",
		   "-9223372036854775808 -9223372036854775808\n");
	expect_out("overflow edges wrap, no UB",
		   "global g = -9223372036854775808, s\nprobe begin { s <<< 9223372036854775807; s <<< 1; println(abs(g), \" \", -g, \" \", @sum(s), \" \", g % -1, \" \", 1 << 64) }",
		   "-9223372036854775808 -9223372036854775808 -9223372036854775808 0 0\n");
	expect_out("hex and octal literals", "probe begin { println(0x10, \" \", 010, \" \", 0xffffffffffffffff) }", "16 8 -1\n");
	expect_out("next", "probe begin { println(\"a\"); next; println(\"b\") } probe begin { println(\"c\") }", "a\nc\n");
	expect_out("next in function", "function f() { next } probe begin { f(); println(\"no\") } probe end { println(\"end\") }", "end\n");
	expect_out("begin end order", "probe end { println(\"end\") } probe begin { println(\"begin\") } probe begin, end { println(pp()) }",
		   "begin\nbegin\nend\nend\n");
	expect_out("probe condition", "global on = 0\nprobe begin if (on) { println(\"no\") } probe begin if (!on) { println(\"yes\") }", "yes\n");
	expect_out("global initializers", "global a = 5, s = \"str\", neg = -3\nprobe begin { println(a, s, neg) }", "5str-3\n");
	expect_out("exit runs end", "probe begin { exit(); println(\"still runs\") } probe begin { println(\"skipped\") } probe end { println(\"end\") }",
		   "still runs\nend\n");
	expect_out("try catch", "probe begin { try { x = 1 / 0 } catch (m) { println(\"caught: \", m) } try { error(\"boom\") } catch { println(\"anon\") } }",
		   "caught: division by zero\nanon\n");
	expect_out("uninitialized locals", "probe begin { println(x + 1) }", "1\n");
	expect_out("uninitialized string locals", "function f() { if (0) s = \"x\"; return s }\nprobe begin { if (0) t = \"y\"; printf(\"[%s][%s]\\n\", t, f()) }", "[][]\n");
	expect_out("dollar args", "probe begin { println($#) }", "0\n");
}

static void arrays(void)
{
	expect_out("count pattern",
		   "global count\n"
		   "probe begin { count[3]++; count[1]++; count[3]++; count[2] += 5 }\n"
		   "probe end { foreach (p in count) printf(\"%d=%d\\n\", p, count[p]); delete count[3];"
		   " printf(\"%d %d\\n\", 3 in count, 1 in count); delete count; foreach (p in count) println(\"left \", p) }",
		   "1=1\n2=5\n3=2\n0 1\n");
	expect_out("sort by value desc with limit",
		   "global a\nprobe begin { a[\"x\"] = 5; a[\"y\"] = 9; a[\"z\"] = 1; a[\"w\"] = 7 }\n"
		   "probe end { foreach (k in a- limit 2) printf(\"%s:%d \", k, a[k]); println() }",
		   "y:9 w:7 \n");
	expect_out("sort by value asc",
		   "global a\nprobe begin { a[\"x\"] = 5; a[\"y\"] = 9; a[\"z\"] = 1 }\n"
		   "probe end { foreach (k in a+) printf(\"%s \", k); println() }", "z x y \n");
	expect_out("sort by key desc, multi keys",
		   "global a\nprobe begin { a[1, \"b\"] = 1; a[2, \"a\"] = 2; a[1, \"a\"] = 3 }\n"
		   "probe end { foreach ([i-, s] in a) printf(\"%d%s=%d \", i, s, a[i, s]); println() }",
		   "2a=2 1a=3 1b=1 \n");
	expect_out("sort by second key",
		   "global a\nprobe begin { a[1, \"b\"] = 1; a[2, \"a\"] = 2; a[3, \"c\"] = 3 }\n"
		   "probe end { foreach ([i, s+] in a) printf(\"%d%s \", i, s); println() }", "2a 1b 3c \n");
	expect_out("value var",
		   "global a\nprobe begin { a[\"k\"] = 4; a[\"j\"] = 2 }\n"
		   "probe end { foreach (v = [k] in a) printf(\"%s=%d \", k, v); println() }", "j=2 k=4 \n");
	expect_out("nine keys",
		   "global a\nprobe begin { a[1,2,3,4,5,6,7,8,\"nine\"] = 45; println(a[1,2,3,4,5,6,7,8,\"nine\"], [1,2,3,4,5,6,7,8,\"nine\"] in a, [1,2,3,4,5,6,7,8,\"ten\"] in a) }",
		   "4510\n");
	expect_out("missing elements", "global a, s\nprobe begin { s[\"a\"] = \"x\"; println(a[1] + 1, \"[\", s[\"nope\"], \"]\") }", "1[]\n");
	expect_out("delete during foreach",
		   "global a\nprobe begin { for (i = 0; i < 5; i++) a[i] = i }\n"
		   "probe end { foreach (k in a) { delete a[k + 1]; printf(\"%d \", k) } println(); foreach (k in a) printf(\"%d \", k); println() }",
		   "0 2 4 \n0 2 4 \n");
	expect_out("many entries and rehash",
		   "global a\nprobe begin { for (i = 0; i < 20000; i++) a[i % 5000, \"k\"] += i }\n"
		   "probe end { n = 0; s = 0; foreach ([k, t] in a) { n++; s += a[k, t] } println(n, \" \", s) }",
		   "5000 199990000\n");
	expect_out("delete scalar", "global x = 5, s = \"a\"\nprobe begin { delete x; delete s; println(x, \"[\", s, \"]\") }", "0[]\n");
	expect_out("string keys with same hash prefix",
		   "global a\nprobe begin { a[\"ab\", \"c\"] = 1; a[\"a\", \"bc\"] = 2; println(a[\"ab\", \"c\"], a[\"a\", \"bc\"]) }", "12\n");
	expect_out("foreach break and continue",
		   "global a\nprobe begin { for (i = 0; i < 6; i++) a[i] = i }\n"
		   "probe end { foreach (k in a) { if (k == 1) continue; if (k == 4) break; printf(\"%d \", k) } println() }",
		   "0 2 3 \n");
}

static const char hist_log_expected[] =
	"value |-------------------------------------------------- count\n"
	"    0 |                                                    0\n"
	"    1 |@                                                   1\n"
	"    2 |@@                                                  2\n"
	"    4 |@@@@                                                4\n"
	"    8 |@@@@@@@@                                            8\n"
	"   16 |@@@@@@@@@@@@@@@@                                   16\n"
	"   32 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@                   32\n"
	"   64 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@              37\n"
	"  128 |                                                    0\n"
	"  256 |                                                    0\n"
	"\n";

static void stats(void)
{
	expect_out("aggregates",
		   "global s\nprobe begin { s <<< 3; s <<< 7; s <<< -4; s <<< 10 }\n"
		   "probe end { printf(\"%d %d %d %d %d\\n\", @count(s), @sum(s), @min(s), @max(s), @avg(s)) }",
		   "4 16 -4 10 4\n");
	expect_out("hist_log 1..100", "global s\nprobe begin { for (i = 1; i <= 100; i++) s <<< i }\nprobe end { print(@hist_log(s)) }",
		   hist_log_expected);
	/* scale: 1000 in one bucket -> 20 per @ */
	expect_out("hist_log scaled with elision",
		   "global s\nprobe begin { for (i = 0; i < 1000; i++) s <<< 1; s <<< 1000000 }\nprobe end { print(@hist_log(s)) }",
		   "  value |-------------------------------------------------- count\n"
		   "      0 |                                                      0\n"
		   "      1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@ 1000\n"
		   "      2 |                                                      0\n"
		   "      4 |                                                      0\n"
		   "        ~\n"
		   " 131072 |                                                      0\n"
		   " 262144 |                                                      0\n"
		   " 524288 |                                                      1\n"
		   "1048576 |                                                      0\n"
		   "2097152 |                                                      0\n"
		   "\n");
	expect_out("hist_log negatives",
		   "global s\nprobe begin { s <<< -1; s <<< -5; s <<< 0; s <<< 3 }\nprobe end { print(@hist_log(s)) }",
		   "value |-------------------------------------------------- count\n"
		   "  -16 |                                                   0\n"
		   "   -8 |                                                   0\n"
		   "   -4 |@                                                  1\n"
		   "   -2 |                                                   0\n"
		   "   -1 |@                                                  1\n"
		   "    0 |@                                                  1\n"
		   "    1 |                                                   0\n"
		   "    2 |@                                                  1\n"
		   "    4 |                                                   0\n"
		   "    8 |                                                   0\n"
		   "\n");
	expect_out("hist_linear",
		   "global s\nprobe begin { for (i = 0; i < 50; i++) s <<< i; s <<< -3; s <<< 500 }\nprobe end { print(@hist_linear(s, 0, 40, 10)) }",
		   "value |-------------------------------------------------- count\n"
		   "   <0 |@                                                   1\n"
		   "    0 |@@@@@@@@@@                                         10\n"
		   "   10 |@@@@@@@@@@                                         10\n"
		   "   20 |@@@@@@@@@@                                         10\n"
		   "   30 |@@@@@@@@@@                                         10\n"
		   "   40 |@@@@@@@@@@                                         10\n"
		   "  >40 |@                                                   1\n"
		   "\n");
	expect_out("hist_linear without under/overflow",
		   "global s\nprobe begin { s <<< 15; s <<< 15; s <<< 25 }\nprobe end { print(@hist_linear(s, 0, 100, 10)) }",
		   "value |-------------------------------------------------- count\n"
		   "    0 |                                                   0\n"
		   "   10 |@@                                                 2\n"
		   "   20 |@                                                  1\n"
		   "   30 |                                                   0\n"
		   "   40 |                                                   0\n"
		   "\n");
	expect_out("stats arrays sorted by count",
		   "global t\nprobe begin { t[\"a\"] <<< 5; t[\"b\"] <<< 1; t[\"b\"] <<< 2; t[\"c\"] <<< 9 }\n"
		   "probe end { foreach (k in t-) printf(\"%s %d %d\\n\", k, @count(t[k]), @sum(t[k])); print(@hist_log(t[\"b\"])) }",
		   "b 2 3\na 1 5\nc 1 9\n"
		   "value |-------------------------------------------------- count\n"
		   "    0 |                                                   0\n"
		   "    1 |@                                                  1\n"
		   "    2 |@                                                  1\n"
		   "    4 |                                                   0\n"
		   "    8 |                                                   0\n"
		   "\n");
	expect_out("stats arrays sorted by @sum and @max",
		   "global t\nprobe begin { t[\"a\"] <<< 5; t[\"b\"] <<< 1; t[\"b\"] <<< 2; t[\"c\"] <<< 9; t[\"c\"] <<< -20 }\n"
		   "probe end { foreach (k in t @sum-) printf(\"%s \", k); foreach (k in t @max+ limit 2) printf(\"%s \", k); println() }",
		   "a b c b a \n");
	expect_out("empty aggregate count", "global s\nprobe begin { if (0) s <<< 1; println(@count(s), @sum(s)) }", "00\n");
	expect_err("empty aggregate avg", "global s\nprobe begin { if (0) s <<< 1; println(@avg(s)) }",
		   "t.stp:2:39: @avg() of an empty aggregate", "");
	expect_err("empty histogram", "global s\nprobe begin { if (0) s <<< 1; print(@hist_log(s)) }",
		   "histogram of an empty aggregate", "");
}

/* SRC run with one -D DEFINE fails with an error containing WANT. */
static void expect_define_err(const char *name, const char *src, const char *define, const char *want)
{
	const char *defs[] = { define, NULL };
	char *err;
	char *out = run(src, 0, NULL, defs, 0, &err);
	if (err && strstr(err, want)) {
		printf("ok - %s\n", name);
	} else {
		printf("not ok - %s\n# got: %s\n", name, err ? err : "(none)");
		failures++;
	}
	free(out);
	free(err);
}

static void errors_and_limits(void)
{
	expect_err("division by zero", "probe begin { x = 0; println(5 / x) }", "t.stp:1:32: division by zero", "");
	expect_err("error() runs error probes, not end",
		   "probe begin { println(\"a\"); error(\"bad thing\"); println(\"b\") } probe error { println(\"err\") } probe end { println(\"end\") }",
		   "error(): bad thing", "a\nerr\n");
	expect_err("action limit", "probe begin { while (1) {} }", "more than 100000 statements in one hit", "");
	expect_define_err("-D MAXACTION", "probe begin { for (i = 0; i < 100; i++) {} }", "MAXACTION=50", "more than 50 statements");
	expect_define_err("-D unknown", "probe begin { }", "NOPE=1", "-D NOPE: unknown limit");
	expect_err("recursion limit", "function f(n) { return f(n + 1) } probe begin { f(0) }", "call depth limit (64)", "");
	expect_define_err("-D MAXMAPENTRIES", "global a\nprobe begin { for (i = 0; i < 11; i++) a[i] = 1 }", "MAXMAPENTRIES=10", "array is full (10 entries)");
	expect_err("dump point without dump", "probe task { }", "probe point 'task' needs a dump", "");
	expect_err("kernel builtin without dump", "probe begin { println(kernel_long(0)) }", "kernel_long() needs a dump", "");
	expect_err("cast without dump", "probe begin { x = @cast(0, \"struct task_struct\")->pid }", "@cast() needs kernel debuginfo", "");
	expect_out("@defined without dump", "probe begin { println(@defined(@cast(0, \"struct task_struct\")->pid)) }", "0\n");
	char *argv[] = { "42", "text", "-5" };
	expect_args("script arguments", "probe begin { println($1 + 1, @2, $3, \" \", $#, @1) }", 3, argv, NULL, "43text-5 342\n");
	expect_err("missing script argument", "probe begin { println($2) }", "script argument $2 not given (the script got 0 arguments)", NULL);
}

/* ---------------------------------------------------- malformed corpus */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(m);
	fclose(f);
	return buf;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void corpus(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		printf("not ok - bad corpus: cannot open %s\n", dir);
		failures++;
		return;
	}
	char *names[512];
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d)) && nn < 512) {
		size_t l = strlen(de->d_name);
		if (l > 4 && !strcmp(de->d_name + l - 4, ".stp"))
			names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(*names), cmp_names);
	for (size_t i = 0; i < nn; i++) {
		char path[2048], epath[2048], label[600];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		snprintf(epath, sizeof(epath), "%s/%.*s.expected", dir, (int)strlen(names[i]) - 4, names[i]);
		snprintf(label, sizeof(label), "tests/probe/bad/%s", names[i]);
		char *src = slurp(path), *want = slurp(epath);
		if (!src || !want) {
			printf("not ok - %s: missing %s\n", label, src ? epath : path);
			failures++;
			free(src);
			free(want);
			continue;
		}
		size_t wl = strlen(want);
		while (wl && want[wl - 1] == '\n')
			want[--wl] = 0;
		struct kdx_error *err = kdx_probe_check_source(names[i], src, strlen(src));
		if (!err || strcmp(err->message, want)) {
			printf("not ok - %s\n# expected:\n%s\n# got:\n%s\n", label, want, err ? err->message : "(no error)");
			failures++;
		} else {
			printf("ok - %s\n", label);
		}
		if (err)
			kdx_error_destroy(err);
		free(src);
		free(want);
		free(names[i]);
	}
	if (nn < 20) {
		printf("not ok - bad corpus has only %zu scripts\n", nn);
		failures++;
	}
}

/* The probe command itself, without a dump: options, files, arguments. */
static void command(void)
{
	struct kdx_session s;
	char *buf = NULL;
	size_t len = 0;
	char path[] = "/tmp/kdx-probe-test-XXXXXX";
	int fd = mkstemp(path);
	const char script[] = "probe begin { printf(\"%d %s %d\\n\", $1, @2, $#) }\n";
	if (fd < 0 || write(fd, script, sizeof(script) - 1) != (ssize_t)(sizeof(script) - 1)) {
		printf("not ok - probe command: temporary file\n");
		failures++;
		return;
	}
	close(fd);
	memset(&s, 0, sizeof(s));
	s.out = open_memstream(&buf, &len);
	struct { const char *line; const char *out; const char *err; } cases[] = {
		{ "probe -e 'probe begin { println(\"inline\") }'", "inline\n", NULL },
		{ NULL, "7 word 2\n", NULL },                 /* FILE 7 word */
		{ "probe -c -e 'probe begin { x = 1 }'", "<command line>: OK\n", NULL },
		{ "probe -D MAXACTION=3 -e 'probe begin { a = 1; b = 2; c = 3; d = 4 }'", "", "more than 3 statements" },
		{ "probe -e 'probe begin { x = \"a }'", "", "<command line>:1:19: unterminated string" },
		{ "probe", "", "usage: probe" },
		{ "probe -x file.stp", "", "probe: unknown option -x" },
		{ "probe /nonexistent/x.stp", "", "probe: cannot open /nonexistent/x.stp" },
		{ "probe -D BOGUS=1 -e 'probe begin { }'", "", "-D BOGUS: unknown limit" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[256];
		if (cases[i].line)
			snprintf(line, sizeof(line), "%s", cases[i].line);
		else
			snprintf(line, sizeof(line), "probe %s 7 word", path);
		fflush(s.out);
		size_t start = len;
		struct kdx_error *err = kdx_command_run_line(&s, line);
		fflush(s.out);
		int good = strcmp(buf + start, cases[i].out) == 0 &&
			   (cases[i].err ? err && strstr(err->message, cases[i].err) != NULL : err == NULL);
		if (good) {
			printf("ok - probe command: %s\n", line);
		} else {
			printf("not ok - probe command: %s\n# output: %s# error: %s\n", line, buf + start,
			       err ? err->message : "(none)");
			failures++;
		}
		if (err)
			kdx_error_destroy(err);
	}
	fclose(s.out);
	free(buf);
	unlink(path);
}

int main(void)
{
	language();
	arrays();
	stats();
	errors_and_limits();
	command();
	const char *srcdir = getenv("srcdir");
	char dir[1024];
	snprintf(dir, sizeof(dir), "%s/tests/probe/bad", srcdir ? srcdir : ".");
	corpus(dir);
	return failures ? 1 : 0;
}
