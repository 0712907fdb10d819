/*
 * The checks the small unit tests share: each prints "ok - NAME" or
 * "not ok - NAME" with what it expected and what it got, and a failure
 * sets expect_failed (return it from main).
 */
#ifndef KDX_TESTS_EXPECT_H
#define KDX_TESTS_EXPECT_H

#include <stdio.h>
#include <string.h>

static int expect_failed;

static inline void expect_report(int ok, const char *name, const char *want, const char *got)
{
	if (ok) {
		printf("ok - %s\n", name);
		return;
	}
	printf("not ok - %s\n#   expected: %s\n#   got:      %s\n", name, want, got);
	expect_failed = 1;
}

static inline void expect_str(const char *name, const char *want, const char *got)
{
	expect_report(!strcmp(want, got), name, want, got);
}

static inline void expect_int(const char *name, long want, long got)
{
	char a[32], b[32];

	snprintf(a, sizeof(a), "%ld", want);
	snprintf(b, sizeof(b), "%ld", got);
	expect_report(want == got, name, a, b);
}

#endif
