/* crash's ":CPUSPEC" suffix of per-CPU arguments (p, struct, union). */
#ifndef KDX_CPUSPEC_H
#define KDX_CPUSPEC_H

#include "error.h"
#include "session.h"

/* Split "EXPR:CPUSPEC" at a top-level colon (not one of ?:): terminates
 * EXPR there and returns the spec, or NULL if there is none. */
char *kdx_cpuspec_split(char *expr);
/* Parse "" (the context task's CPU), "a"/"all", "1,3,5-7" into CPUS, an
 * array of NCPUS flags. */
struct kdx_error *kdx_cpuspec_parse(struct kdx_session *s, const char *spec, char *cpus, int ncpus);

#endif
