/*
 * Error objects.
 *
 * Every fallible function returns a struct kdx_error pointer: NULL means
 * success. The message is composed once, where the failure is understood;
 * callers either handle the error (and destroy it) or return it unchanged.
 * A fault (failed memory read) carries the address it failed at.
 */
#ifndef KDX_ERROR_H
#define KDX_ERROR_H

#include <stdint.h>
#include <stdarg.h>

#include <kdx/errors.h>   /* enum kdx_error_code, shared with extensions */

struct kdx_error {
	enum kdx_error_code code;
	int has_address;
	uint64_t address;
	char *message;
};

/* Create an error with a printf-style message. Never returns NULL. */
struct kdx_error *kdx_error_create(enum kdx_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct kdx_error *kdx_error_vcreate(enum kdx_error_code code, const char *fmt, va_list ap);

/* A fault at ADDRESS; the message should say what was being read. */
struct kdx_error *kdx_error_fault(uint64_t address, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix an existing error's message ("reading task 123: <old>"); returns ERR. */
struct kdx_error *kdx_error_prefix(struct kdx_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Shorthand for running out of memory. */
struct kdx_error *kdx_error_nomem(void);

void kdx_error_destroy(struct kdx_error *err);

/* Print "kdx: MESSAGE" on one line to stderr and destroy ERR. */
void kdx_error_report(struct kdx_error *err);

#endif
