/* Small host-side helpers shared across kdx (no target knowledge). */
#ifndef KDX_UTIL_H
#define KDX_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

/* Split LINE into words, honouring '...' and "..." quoting and backslash
 * escapes. *ARGV is malloc'd (NULL-terminated) along with its strings. */
struct kdx_error *kdx_split_words(const char *line, int *argc, char ***argv);
void kdx_free_words(int argc, char **argv);

/* Parse an unsigned number: 0x.. hex, plain digits decimal unless
 * DEFAULT_HEX (then hex; a leading 0d.. or trailing . forces decimal as
 * crash does not; we accept 0d for decimal). Error names the bad text. */
struct kdx_error *kdx_parse_u64(const char *text, int default_hex, uint64_t *ret);

/* Is TEXT a number (hex with 0x, or decimal digits)? */
int kdx_is_number(const char *text);

/* Monotonic time in seconds (for progress and benchmarks). */
double kdx_now(void);

/* Growable byte buffer for building output strings. */
struct kdx_strbuf {
	char *s;
	size_t len, cap;
};
void kdx_strbuf_printf(struct kdx_strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kdx_strbuf_append(struct kdx_strbuf *b, const char *s, size_t n);
char *kdx_strbuf_take(struct kdx_strbuf *b);  /* returns the string, resets B */
void kdx_strbuf_release(struct kdx_strbuf *b);

#endif
