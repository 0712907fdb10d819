/*
 * libFuzzer target for the probe language front end: lexer, parser and
 * checker on arbitrary bytes; scripts that check cleanly and only use
 * begin/end/error probes are also run (no dump, small limits), which
 * exercises the interpreter, arrays, aggregates and printf.
 *
 * Built and run by tests/fuzz/run.sh.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe/probe.h"
#include "session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = malloc(size + 1);
	if (!src)
		return 0;
	memcpy(src, data, size);
	src[size] = 0;

	struct kdx_error *err = kdx_probe_check_source("fuzz.stp", src, strlen(src));
	if (err) {
		kdx_error_destroy(err);
		free(src);
		return 0;
	}
	struct kdx_session s;
	memset(&s, 0, sizeof(s));
	s.out = fopen("/dev/null", "w");
	s.radix = 10;
	struct kdx_probe_options o;
	memset(&o, 0, sizeof(o));
	o.defines[o.ndefines++] = "MAXACTION=2000";
	o.defines[o.ndefines++] = "MAXMAPENTRIES=2000";
	o.defines[o.ndefines++] = "MAXNESTING=16";
	err = kdx_probe_run(&s, "fuzz.stp", src, &o);
	if (err)
		kdx_error_destroy(err);
	fclose(s.out);
	free(src);
	return 0;
}
