/*
 * Interpreter internals shared by interp.c, builtins.c and points.c.
 */
#ifndef KDX_PROBE_INTERP_H
#define KDX_PROBE_INTERP_H

#include "probe/probe.h"
#include "util.h"

enum vkind { V_INT, V_STR, V_KV };

/* A runtime value. Strings are owned (malloc'd); kernel values own their
 * inline bytes (kdx_value_release). */
struct val {
	int k;
	int64_t i;
	char *s;
	struct kdx_value kv;
};

struct pstat {
	int64_t count, sum, min, max;
	uint64_t *log;          /* 128 log2 buckets, allocated on first add */
	uint64_t *lin;          /* linear buckets when the global has a linspec */
};

struct mkey {
	int isstr;
	int64_t i;
	char *s;
};

struct mentry {
	int live;
	uint64_t hash;
	struct mkey *keys;
	struct val v;
	struct pstat *st;
};

struct pmap {
	int nkeys;
	struct mentry *e;
	size_t n, cap;          /* entries used (live + dead) */
	size_t live;
	uint32_t *idx;          /* open addressing: entry index + 1, 0 empty */
	size_t idxcap;
	int iterating;
};

struct gval {
	struct val v;           /* scalars */
	struct pmap *map;       /* arrays */
	struct pstat *st;       /* scalar statistics */
};

/* What the current hit is about. */
struct pctx {
	struct pprobe *probe;
	struct ppoint *pt;
	const struct kdx_task *task;    /* task probes; NULL elsewhere */
	int has_frame;
	uint64_t pc;
	int depth;
	uint64_t entry;
	struct kdx_type *entry_type;    /* struct T * */
	uint64_t module;
	int cpu;
};

struct interp {
	struct kdx_session *s;
	struct pscript *sc;
	struct probe_limits lim;
	int strict;
	FILE *out;
	struct gval *g;
	struct val *locals;
	int nesting;
	int64_t actions;
	struct kdx_error *err;          /* pending runtime error of this hit */
	int err_is_fault;
	int next_pending;               /* `next` unwinding through calls */
	int exiting;                    /* exit() called */
	int interrupted;
	struct kdx_error *fatal;        /* ends the script (error probes run) */
	uint64_t faults;                /* hits aborted by failed reads */
	char *first_fault;
	uint64_t walk_errors;
	char *first_walk_error;
	struct val retval;
	struct pctx ctx;
	struct kdx_type *ty_task_ptr;
	struct kdx_type *ty_module_ptr;
	struct pstat *no_stat;          /* stat_slot() of a missing element */
	uint64_t hits;                  /* handler runs (for -v) */
};

/* interp.c */
void val_free(struct val *v);
void val_set_int(struct val *v, int64_t i);
void val_set_str(struct val *v, const char *s);       /* copies */
void val_take_str(struct val *v, char *s);            /* takes ownership */
/* val_take_str, truncated to MAXSTRINGLEN: for strings a script can grow
 * (., sprintf, str_replace), so that doubling one in a loop stays bounded. */
void val_take_str_max(struct interp *I, struct val *v, char *s);
void val_take_kv(struct val *v, struct kdx_value *kv); /* takes ownership */
/* A kernel integer or pointer of type T with value U. */
void val_set_kint(struct val *v, struct kdx_type *t, uint64_t u);
int val_copy(struct interp *I, const struct node *at, struct val *dst, const struct val *src);
/* Runtime error at node AT (printf-style). Returns -1. */
int rt_error(struct interp *I, const struct node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A kdx error (fault or other) at node AT; takes ERR. Returns -1. */
int rt_kerr(struct interp *I, const struct node *at, struct kdx_error *err);
int val_to_int(struct interp *I, const struct node *at, const struct val *v, int64_t *ret);
/* Malloc'd string (numbers are printed in decimal). */
int val_to_str(struct interp *I, const struct node *at, const struct val *v, char **ret);
int eval(struct interp *I, struct node *n, struct val *out);
/* Run one hit of probe P (condition + body). Returns non-zero to stop. */
int probe_hit(struct interp *I, struct pprobe *p);
/* Print a histogram of stats ST (kind AT_HIST_LOG / AT_HIST_LINEAR). */
int stat_print_hist(struct interp *I, const struct node *at, struct pstat *st,
		    const struct linspec *lin, int kind, struct kdx_strbuf *out);
/* The statistics of x or a[k] (NULL if none collected yet). */
struct pstat *probe_stat_lookup(struct interp *I, struct node *target);
/* The task builtins describe: the hit's task, else the context task. */
const struct kdx_task *ctx_task(struct interp *I);

/* builtins.c */
int builtin_call(struct interp *I, struct node *n, struct val *out);
int probe_format(struct interp *I, struct node *at, const char *fmt, size_t flen,
		 struct val *args, size_t nargs, struct kdx_strbuf *out);
int kv_to_str(struct interp *I, const struct node *at, const struct kdx_value *kv, char **ret);
int kv_is_stringish(const struct kdx_value *kv);

/* points.c */
/* Run every hit of point PT for probe P. Returns non-zero to stop. */
int probe_run_point(struct interp *I, struct pprobe *p, struct ppoint *pt);
/* Unwind the context task and call FN per frame (print_backtrace/backtrace). */
int probe_backtrace(struct interp *I, const struct node *at, struct kdx_strbuf *out, int verbose);

#endif
