#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returned when even the error cannot be allocated; never freed. */
static struct kdx_error nomem_error = {
	.code = KDX_ERR_NOMEM,
	.message = "out of memory",
};

struct kdx_error *kdx_error_nomem(void)
{
	return &nomem_error;
}

struct kdx_error *kdx_error_vcreate(enum kdx_error_code code, const char *fmt, va_list ap)
{
	struct kdx_error *err = calloc(1, sizeof(*err));
	if (!err)
		return &nomem_error;
	err->code = code;
	if (vasprintf(&err->message, fmt, ap) < 0) {
		free(err);
		return &nomem_error;
	}
	return err;
}

struct kdx_error *kdx_error_create(enum kdx_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct kdx_error *err = kdx_error_vcreate(code, fmt, ap);
	va_end(ap);
	return err;
}

struct kdx_error *kdx_error_fault(uint64_t address, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct kdx_error *err = kdx_error_vcreate(KDX_ERR_FAULT, fmt, ap);
	va_end(ap);
	if (err != &nomem_error) {
		err->has_address = 1;
		err->address = address;
	}
	return err;
}

struct kdx_error *kdx_error_prefix(struct kdx_error *err, const char *fmt, ...)
{
	char *prefix, *joined;
	va_list ap;

	if (err == &nomem_error)
		return err;
	va_start(ap, fmt);
	int n = vasprintf(&prefix, fmt, ap);
	va_end(ap);
	if (n < 0)
		return err;
	if (asprintf(&joined, "%s: %s", prefix, err->message) >= 0) {
		free(err->message);
		err->message = joined;
	}
	free(prefix);
	return err;
}

void kdx_error_destroy(struct kdx_error *err)
{
	if (!err || err == &nomem_error)
		return;
	free(err->message);
	free(err);
}

void kdx_error_report(struct kdx_error *err)
{
	if (!err)
		return;
	fflush(stdout);
	fprintf(stderr, "kdx: %s\n", err->message);
	kdx_error_destroy(err);
}
