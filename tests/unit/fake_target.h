/*
 * What the small unit tests share: ok(), which prints "ok - ..." or
 * "not ok - ..." and counts failures, and a fake target whose physical
 * memory is a host buffer (for tests that build page tables, lists or
 * trees by hand and read them back through the memory layer).
 */
#ifndef KDX_TESTS_FAKE_TARGET_H
#define KDX_TESTS_FAKE_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "targets/target.h"

/* Failed ok() checks so far: main returns ok_failures ? 1 : 0. */
extern int ok_failures;

/* Print "ok - MESSAGE" if COND holds, else "not ok - MESSAGE" and count it. */
void ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Physical memory 0 .. size-1 of a fake target. */
struct fake_phys {
	unsigned char *mem;     /* size bytes, zeroed at creation */
	uint64_t size;
	unsigned reads;         /* read_phys calls so far */
};

/*
 * Target operations reading a struct fake_phys, which must be the target's
 * priv: a read that runs past the end is a fault error with the address.
 */
extern const struct kdx_target_ops fake_phys_ops;

/* SIZE bytes of zeroed fake physical memory, or NULL if out of memory. */
struct fake_phys *fake_phys_new(uint64_t size);
void fake_phys_free(struct fake_phys *fp);

#endif
