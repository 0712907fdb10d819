/* Unit tests of the per-session walker slots (src/kernel/kernel.c) that need
 * no dump: kdx_kernel_cached creates once, caches, and on a failed load
 * destroys the object, caches nothing and tries again next time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "expect.h"
#include "kernel/kernel.h"

struct obj {
	int loaded;
	char pad[100];
};

static int loads, destroys, fail_next;

static struct kdx_error *load(struct kdx_session *s, void *p)
{
	struct obj *o = p;

	(void)s;
	loads++;
	o->loaded = 1;
	if (fail_next) {
		fail_next = 0;
		return kdx_error_create(KDX_ERR_FORMAT, "planted failure");
	}
	return NULL;
}

static void destroy(void *p)
{
	destroys++;
	free(p);
}

int main(void)
{
	struct kdx_session s;
	struct obj *a = NULL, *b = NULL;
	struct kdx_error *err;

	memset(&s, 0, sizeof(s));

	/* a failed load: error returned unchanged, object destroyed, nothing cached */
	fail_next = 1;
	err = kdx_kernel_cached(&s, KDX_SLOT_EXT0, sizeof(struct obj), load, destroy, (void **)&a);
	expect_int("failed load returns its error", KDX_ERR_FORMAT, err ? (long)err->code : -1);
	expect_int("failed load keeps its message", 0,
		   err ? strcmp(err->message, "planted failure") : -1);
	kdx_error_destroy(err);
	expect_int("failed load destroys the object", 1, destroys);
	expect_int("failed load caches nothing", 1, kdx_kernel_slot(&s, KDX_SLOT_EXT0) == NULL);

	/* the next call tries again, then the object is cached */
	err = kdx_kernel_cached(&s, KDX_SLOT_EXT0, sizeof(struct obj), load, destroy, (void **)&a);
	expect_int("retry succeeds", 1, err == NULL && a && a->loaded);
	err = kdx_kernel_cached(&s, KDX_SLOT_EXT0, sizeof(struct obj), load, destroy, (void **)&b);
	expect_int("second call returns the cached object", 1, err == NULL && a == b);
	expect_int("loaded once after the failure", 2, loads);
	expect_int("cached object is the slot's", 1, kdx_kernel_slot(&s, KDX_SLOT_EXT0) == a);

	/* no loader: a zeroed object */
	struct obj *z = NULL;
	err = kdx_kernel_cached(&s, KDX_SLOT_EXT1, sizeof(struct obj), NULL, destroy, (void **)&z);
	expect_int("no loader: zeroed object", 1, err == NULL && z && !z->loaded && !z->pad[99]);

	kdx_kernel_destroy(&s);
	expect_int("session close destroys both", 3, destroys);
	return expect_failed;
}
