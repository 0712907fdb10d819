/*
 * The kernel log: the lockless printk ring buffer of 5.10 and later
 * (`prb`: descriptor ring + text data ring), read once per session.
 */
#ifndef KDX_PRINTK_H
#define KDX_PRINTK_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

struct kdx_printk_record {
	uint64_t seq;
	uint64_t ts_nsec;        /* local_clock() at logging time */
	int level;               /* 0-7 */
	int facility;
	uint32_t caller_id;      /* 0x80000000|cpu or pid */
	const char *text;        /* TEXT_LEN bytes, not NUL-terminated */
	size_t text_len;
	char subsystem[32];      /* dev_info: SUBSYSTEM= ("" if none) */
	char device[64];         /* dev_info: DEVICE= ("" if none) */
};

typedef int (*kdx_printk_fn)(struct kdx_session *s, const struct kdx_printk_record *r, void *arg);

/* Every complete record, oldest first; stops when FN returns non-zero. */
struct kdx_error *kdx_printk_for_each(struct kdx_session *s, kdx_printk_fn fn, void *arg);

/*
 * The panic message as crash shows it in `sys` (PANIC:): the last "Kernel
 * panic - not syncing: ..." line, except that a SysRq crash is named by
 * its "sysrq: Trigger a crash" line and an oops that panicked ("Fatal
 * exception") by the first line of its report ("kernel BUG at ...",
 * "BUG: ...", "general protection fault...", else "Oops: ..."); without a
 * panic line (kdump straight from an oops), the last oops report. Empty
 * string if the log has none.
 */
struct kdx_error *kdx_printk_panic_message(struct kdx_session *s, char *buf, size_t len);

/* The scan behind kdx_printk_panic_message, record by record (unit tests). */
struct kdx_panic_scan;
struct kdx_panic_scan *kdx_panic_scan_new(void);
void kdx_panic_scan_feed(struct kdx_panic_scan *p, const struct kdx_printk_record *r);
const char *kdx_panic_scan_result(struct kdx_panic_scan *p);   /* "" if none */
void kdx_panic_scan_free(struct kdx_panic_scan *p);

#endif
