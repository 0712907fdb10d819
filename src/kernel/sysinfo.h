/*
 * System-wide facts for `sys`, `log -T` and `ps -t/-l`: crash time, uptime,
 * boot time, utsname, memory size.
 */
#ifndef KDX_SYSINFO_H
#define KDX_SYSINFO_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct kdx_session;

/* Wall-clock time of the crash (dump header, else timekeeper xtime_sec). */
struct kdx_error *kdx_crash_time(struct kdx_session *s, int64_t *sec);
/* Time since boot at the crash, in ns (timekeeper monotonic + offs_boot). */
struct kdx_error *kdx_uptime_ns(struct kdx_session *s, uint64_t *ns);
/* Wall-clock time of boot (seconds since the epoch). */
struct kdx_error *kdx_boot_time(struct kdx_session *s, int64_t *sec);
/* "Wed Nov 25 11:40:01 UTC 2026" (local time zone, as crash prints). */
char *kdx_format_date(int64_t sec, char *buf, size_t len);
/* init_uts_ns.name.FIELD ("sysname", "nodename", "release", "version", "machine"). */
struct kdx_error *kdx_utsname(struct kdx_session *s, const char *field, char *buf, size_t len);
/* Physical memory size in bytes (sum of node_present_pages), 0 if unknown. */
uint64_t kdx_memory_size(struct kdx_session *s);

#endif
