/* Shared by the unit tests: see fake_target.h. */
#include "fake_target.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int ok_failures;

void ok(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("%s - ", cond ? "ok" : "not ok");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (!cond)
		ok_failures++;
}

static struct kdx_error *fake_read_phys(struct kdx_target *t, uint64_t pa, void *buf, size_t len)
{
	struct fake_phys *fp = t->priv;

	fp->reads++;
	if (pa >= fp->size || len > fp->size - pa)
		return kdx_error_fault(pa, "physical 0x%" PRIx64 " is not in the dump", pa);
	memcpy(buf, fp->mem + pa, len);
	return NULL;
}

const struct kdx_target_ops fake_phys_ops = { .read_phys = fake_read_phys };

struct fake_phys *fake_phys_new(uint64_t size)
{
	struct fake_phys *fp = calloc(1, sizeof(*fp));

	if (!fp)
		return NULL;
	fp->mem = calloc(1, size);
	if (!fp->mem) {
		free(fp);
		return NULL;
	}
	fp->size = size;
	return fp;
}

void fake_phys_free(struct fake_phys *fp)
{
	if (!fp)
		return;
	free(fp->mem);
	free(fp);
}
