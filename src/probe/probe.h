/*
 * The probe language: SystemTap-like scripts evaluated against a dump.
 *
 * Pipeline: lexer.c (tokens) -> parser.c (AST, recursive descent) ->
 * check.c (names, arity, types; static kernel types when a dump is open) ->
 * interp.c (tree-walking interpreter, associative arrays, aggregates) with
 * builtins.c (printf & co) and points.c (probe-point drivers: task, list,
 * module, cpu, task.frame). The language is documented in
 * doc/probe-language.md.
 *
 * The first part of this header is the public entry point (the `probe`
 * command, unit tests, the fuzz target); the rest is shared between the
 * files of src/probe/ only.
 */
#ifndef KDX_PROBE_H
#define KDX_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "error.h"
#include "symbols/value.h"

struct kdx_session;
struct kdx_task;

/* ---------------------------------------------------------------- public */

#define KDX_PROBE_MAX_DEFINES 32

struct kdx_probe_options {
	int strict;                 /* --strict: the first failed read is fatal */
	int check_only;             /* parse and check, do not run */
	int verbose;                /* -v: hits and time per probe point on stderr */
	const char *defines[KDX_PROBE_MAX_DEFINES];   /* -D NAME=VALUE */
	size_t ndefines;
	int argc;                   /* script arguments: $1/@1 ... */
	char **argv;
};

/*
 * Parse, check and run the script SRC (named FILE in diagnostics) against
 * session S. S->target may be NULL: then only begin/end/error probes can run.
 * Output goes to S->out. Returns an error for parse/check errors (message
 * "file:line:col: ..." with the quoted line and a caret), for a fatal
 * runtime error and for error(); statistics about aborted hits go to
 * stderr.
 */
struct kdx_error *kdx_probe_run(struct kdx_session *s, const char *file, const char *src,
				const struct kdx_probe_options *opts);

/* Parse and check only, without a session (no kernel type checks): for the
 * fuzz target and the malformed-script corpus. */
struct kdx_error *kdx_probe_check_source(const char *file, const char *src, size_t len);

/* ------------------------------------------------------------- internal */

/* Limits, settable with -D NAME=VALUE. */
struct probe_limits {
	int64_t maxaction;          /* statements per hit */
	int64_t maxnesting;         /* function call depth */
	int64_t maxlistentries;     /* entries per list()/hlist() walk */
	int64_t maxmapentries;      /* entries per associative array */
	int64_t maxstringlen;       /* bytes read by kernel_string & co */
	int64_t maxerrors;          /* aborted hits before giving up (0: no limit) */
};

/* A memory arena for the AST and its strings: freed in one go. */
struct arena;
void *arena_alloc(struct arena **a, size_t n);
char *arena_strndup(struct arena **a, const char *s, size_t n);
void arena_free(struct arena *a);

struct psrc {
	const char *file;
	const char *text;
	size_t len;
};

/* Compose "file:line:col: MSG\n    <line>\n    ^" (never NULL). */
struct kdx_error *probe_diag(const struct psrc *src, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- tokens */
enum tok {
	T_EOF, T_IDENT, T_NUM, T_STR,
	T_CTXVAR,       /* $name */
	T_ARGNUM,       /* $1 ... $N, $# */
	T_ARGSTR,       /* @1 ... @N, @# */
	T_ATNAME,       /* @count, @cast, @defined, ... */
	T_DOLLAR1,      /* $ suffix: pretty print */
	T_DOLLAR2,      /* $$ suffix */
	/* keywords */
	T_PROBE, T_GLOBAL, T_FUNCTION, T_IF, T_ELSE, T_WHILE, T_FOR, T_FOREACH,
	T_IN, T_BREAK, T_CONTINUE, T_NEXT, T_RETURN, T_DELETE, T_TRY, T_CATCH,
	/* punctuation */
	T_LPAREN, T_RPAREN, T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_COMMA,
	T_SEMI, T_COLON, T_QUEST, T_DOT, T_ARROW,
	T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PERCENT, T_INC, T_DEC,
	T_ASSIGN, T_ADD_ASSIGN, T_SUB_ASSIGN, T_MUL_ASSIGN, T_DIV_ASSIGN,
	T_MOD_ASSIGN, T_CAT_ASSIGN, T_SHL_ASSIGN, T_SHR_ASSIGN, T_AND_ASSIGN,
	T_OR_ASSIGN, T_XOR_ASSIGN,
	T_EQ, T_NE, T_LT, T_LE, T_GT, T_GE, T_SHL, T_SHR, T_AGG,
	T_AMP, T_PIPE, T_CARET, T_TILDE, T_NOT, T_ANDAND, T_OROR,
	T_NTOKENS
};

struct token {
	enum tok t;
	int line, col;
	int64_t num;            /* T_NUM, T_ARGNUM, T_ARGSTR (-1 for $#/@#) */
	char *str;              /* identifier / decoded string / name (arena) */
	size_t len;             /* decoded string length */
};

/* How a token kind reads in "expected ..." messages. */
const char *probe_tok_name(enum tok t);
/* Tokenize all of SRC (arena-allocated); error on the first bad token. */
struct kdx_error *probe_lex(const struct psrc *src, struct arena **a,
			    struct token **toks, size_t *ntoks);

/* ---- AST */
enum nkind {
	/* expressions */
	N_NUM, N_STR,
	N_VAR,          /* name: scalar variable (or whole array in some contexts) */
	N_ARR,          /* name[keys...] */
	N_CTX,          /* $task, $entry, ... */
	N_CALL,         /* name(args) */
	N_AT,           /* @count(x) @sum @min @max @avg @hist_log @hist_linear */
	N_CAST,         /* @cast(addr, "struct T"[, "module"]) */
	N_DEFINED,      /* @defined(expr) */
	N_BIN,          /* a op b (arith, compare, concat) */
	N_LAND, N_LOR,
	N_UNARY,        /* op a: - ~ ! + */
	N_ADDR,         /* &a */
	N_DEREF,        /* *a */
	N_PREINC, N_POSTINC,   /* op = T_INC / T_DEC */
	N_ASSIGN,       /* a op= b ; op = T_ASSIGN ... */
	N_AGGADD,       /* a <<< b */
	N_TERNARY,
	N_MEMBER,       /* a->name */
	N_INDEX,        /* a[b] on a kernel value */
	N_PRETTY,       /* a$ / a$$ ; num = 1 or 2 */
	N_IN,           /* [keys] in name */
	/* statements */
	N_BLOCK, N_IF, N_WHILE, N_FOR, N_FOREACH, N_BREAK, N_CONTINUE, N_NEXT,
	N_RETURN, N_DELETE, N_EXPRSTMT, N_TRY, N_EMPTY,
};

/* Value types as far as the checker can tell. */
enum ptype { TY_UNK, TY_LONG, TY_STR, TY_KV, TY_STATS, TY_VOID };

struct pfunc;

struct node {
	enum nkind k;
	int line, col;
	int op;                 /* operator token, pretty level, @-op id */
	char *name;
	int64_t num;
	char *str; size_t slen; /* N_STR */
	struct node *a, *b, *c, *d;
	struct node **v;        /* args / keys / statements */
	size_t n;
	/* foreach */
	struct node *valvar;    /* v = [k...] in arr */
	int sort_key;           /* 0: none, -1: value, 1..n: key */
	int sort_dir;           /* +1 / -1 */
	int sort_agg;           /* statistics arrays: AT_COUNT.. AT_AVG to sort by */
	/* resolution (check.c) */
	int slot;               /* local slot or global index */
	int is_global;
	struct pfunc *fn;       /* user function */
	int builtin;            /* builtin id, -1 if none */
	int ty;                 /* enum ptype */
	struct kdx_type *ktype; /* static kernel type, if known */
	/* N_MEMBER run-time cache: the member of struct CACHE_TYPE is at byte
	 * CACHE_OFF with type CACHE_MTYPE (saves a lookup per hit). */
	struct kdx_type *cache_type, *cache_mtype;
	uint64_t cache_off;
};

enum pp_kind {
	PP_BEGIN, PP_END, PP_ERROR, PP_TASK, PP_TASK_PROCESS, PP_TASK_FRAME,
	PP_LIST, PP_HLIST, PP_MODULE, PP_CPU,
};

struct ppoint {
	enum pp_kind kind;
	char *text;             /* as written, for pp() */
	char *args[3];
	int nargs;
	int line, col;
	int arg_line[3], arg_col[3];
};

struct pprobe {
	struct ppoint *points;
	size_t npoints;
	struct node *cond;
	struct node *body;
	int nlocals;
	char **locals;
	int *ltypes;            /* enum ptype of each local (strings start "") */
	int line, col;
};

struct pfunc {
	char *name;
	char **params;
	int nparams;
	int ptypes[16];
	struct node *body;
	int nlocals;
	char **locals;
	int *ltypes;
	int rettype;
	int line, col;
};

struct linspec { int set; int64_t lo, hi, step; };

struct pglobal {
	char *name;
	int line, col;
	int is_array;           /* used with keys */
	int nkeys;
	int keyty[9];
	int ty;                 /* element / scalar type */
	struct node *init;      /* literal initializer */
	struct linspec lin;     /* @hist_linear parameters */
	int used;
};

struct pscript {
	struct arena *arena;
	struct psrc src;
	struct token *toks;
	size_t ntoks;
	struct pprobe **probes; size_t nprobes;
	struct pfunc **funcs; size_t nfuncs;
	struct pglobal **globals; size_t nglobals;
	int argc; char **argv;  /* for $1 / @1 */
};

/* Parse SRC; ARGC/ARGV are the script arguments substituted for $N/@N. */
struct kdx_error *probe_parse(const struct psrc *src, int argc, char **argv,
			      struct pscript **ret);
void probe_script_free(struct pscript *sc);

/* Resolve names, arity and types. TYPES (may be NULL) enables static kernel
 * type checks (unknown members, unknown struct names). */
struct kdx_types;
struct kdx_error *probe_check(struct pscript *sc, struct kdx_types *types);

/* ---- builtins (builtins.c) */
struct builtin_desc {
	const char *name;
	int min, max;           /* arity; max -1: variadic */
	int ret;                /* enum ptype */
	const char *args;       /* per argument: 's' string, 'n' number, '*' any;
				 * the last letter repeats for variadic builtins */
};
enum {
	B_PRINTF, B_SPRINTF, B_PRINT, B_PRINTLN, B_SPRINT, B_SPRINTLN, B_LOG, B_WARN,
	B_STRLEN, B_SUBSTR, B_ISINSTR, B_STRTOL, B_STR_REPLACE, B_STRINGAT, B_TEXT_STR,
	B_KSTRING, B_KSTRING_N, B_KLONG, B_KINT, B_KSHORT, B_KCHAR, B_KPOINTER,
	B_EXECNAME, B_PID, B_TID, B_PPID, B_UID, B_CPU, B_PROBEFUNC, B_PP,
	B_PRINT_BACKTRACE, B_BACKTRACE, B_SYMNAME, B_SYMDATA,
	B_CONTAINER_OF, B_SIZEOF, B_OFFSETOF, B_TASK_CURRENT, B_PER_CPU,
	B_EXIT, B_ERROR, B_ABS, B_MIN, B_MAX, B_TASK_STATE,
	B_TASK_EXECNAME, B_TASK_PID, B_TASK_TID, B_TASK_PARENT, B_TASK_CPU,
	B_NBUILTINS
};
extern const struct builtin_desc probe_builtins[B_NBUILTINS];
int probe_builtin_find(const char *name);

/* @-operators */
enum { AT_COUNT, AT_SUM, AT_MIN, AT_MAX, AT_AVG, AT_HIST_LOG, AT_HIST_LINEAR };
int probe_at_find(const char *name);

/* Count printf conversions in FMT; -1 and *BAD set on a bad spec. */
int probe_format_count(const char *fmt, size_t len, const char **bad, char *convs, size_t maxconvs);

#endif
