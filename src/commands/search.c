/*
 * search: find a value (long, int, short or string) in kernel virtual, user
 * virtual or physical memory.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/command.h"
#include "commands/entryfmt.h"
#include "kernel/list.h"
#include "kernel/mm.h"
#include "kernel/slab.h"
#include "kernel/tasks.h"
#include "symbols/symbols.h"
#include "targets/mem.h"
#include "util.h"

static const struct kdx_command *self(void);

#define CHUNK (64 * 1024)
#define PAGE 4096ULL
#define MAX_VALUES 16

enum space { SPACE_KERNEL, SPACE_USER, SPACE_PHYS };

struct search {
	struct kdx_session *s;
	enum space space;
	uint64_t pgd_phys;              /* -u */
	int width;                      /* 8, 4, 2; 0 for strings */
	uint64_t values[MAX_VALUES];
	int nvalues;
	uint64_t mask;
	const char *str;                /* -c */
	size_t strlen_;
	unsigned char *buf;
	uint64_t hits, unreadable_pages;
	int interrupted;
};

struct range {
	uint64_t start, end;
};

static struct kdx_error *read_mem(struct search *sr, uint64_t addr, void *buf, size_t len)
{
	switch (sr->space) {
	case SPACE_PHYS:
		return kdx_read_phys(sr->s, addr, buf, len);
	case SPACE_USER:
		return kdx_mem_read_pgd(sr->s->mem, sr->pgd_phys, addr, buf, len);
	default:
		return kdx_read(sr->s, addr, buf, len);
	}
}

static void scan_block(struct search *sr, uint64_t addr, const unsigned char *p, size_t len,
		       uint64_t lo, uint64_t hi)
{
	FILE *out = sr->s->out;

	if (!sr->width) {
		if (len < sr->strlen_)
			return;
		for (size_t i = 0; i + sr->strlen_ <= len; i++) {
			if (p[i] != (unsigned char)sr->str[0] || memcmp(p + i, sr->str, sr->strlen_))
				continue;
			if (addr + i < lo || addr + i >= hi)
				continue;
			fprintf(out, "%llx: %s\n", (unsigned long long)(addr + i), sr->str);
			sr->hits++;
		}
		return;
	}
	uint64_t keep = ~sr->mask;
	for (size_t i = 0; i + sr->width <= len; i += sr->width) {
		uint64_t v = 0;
		memcpy(&v, p + i, sr->width);
		v &= keep;
		for (int k = 0; k < sr->nvalues; k++) {
			if (v != (sr->values[k] & keep))
				continue;
			uint64_t raw = 0;
			memcpy(&raw, p + i, sr->width);
			fprintf(out, "%llx: %llx\n", (unsigned long long)(addr + i), (unsigned long long)raw);
			sr->hits++;
		}
	}
}

/* Search [START, END); unreadable pages are counted and skipped. */
static void search_range(struct search *sr, uint64_t start, uint64_t end)
{
	size_t overlap = sr->width ? 0 : (sr->strlen_ ? sr->strlen_ - 1 : 0);
	uint64_t a = sr->width ? start & ~(uint64_t)(sr->width - 1) : start;

	while (a < end && !sr->interrupted) {
		if (kdx_interrupted(sr->s)) {
			sr->interrupted = 1;
			return;
		}
		uint64_t chunk_end = (a & ~(PAGE - 1)) + CHUNK;
		if (chunk_end > end || chunk_end < a)
			chunk_end = end;
		size_t len = chunk_end - a;
		/* strings may straddle chunks: read a little past */
		size_t extra = overlap && chunk_end < end ? (end - chunk_end < overlap ? end - chunk_end : overlap) : 0;
		struct kdx_error *err = read_mem(sr, a, sr->buf, len + extra);
		if (!err) {
			scan_block(sr, a, sr->buf, len + extra, start, chunk_end);
			a = chunk_end;
			continue;
		}
		kdx_error_destroy(err);
		/* page by page */
		for (uint64_t pa = a; pa < chunk_end; ) {
			uint64_t pe = (pa & ~(PAGE - 1)) + PAGE;
			/* pe wraps to 0 on the last page of the address space */
			if (pe > chunk_end || pe <= pa)
				pe = chunk_end;
			if ((err = read_mem(sr, pa, sr->buf, pe - pa))) {
				kdx_error_destroy(err);
				sr->unreadable_pages++;
			} else {
				scan_block(sr, pa, sr->buf, pe - pa, start, pe);
			}
			pa = pe;
		}
		a = chunk_end;
	}
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static struct kdx_error *kernel_ranges(struct kdx_session *s, int no_vmalloc, int no_unity,
				       struct range **ret, size_t *n)
{
	struct range *r = NULL;
	size_t cnt = 0, cap = 0;
	struct kdx_error *err;

#define ADD(lo, hi) do { \
		if (cnt == cap) { \
			cap = cap ? cap * 2 : 64; \
			void *p_ = realloc(r, cap * sizeof(*r)); \
			if (!p_) { free(r); return kdx_error_nomem(); } \
			r = p_; \
		} \
		r[cnt].start = (lo); r[cnt].end = (hi); cnt++; \
	} while (0)

	if (!no_unity) {
		uint64_t max_pfn, text, end;
		if ((err = kdx_page_geometry(s, NULL, NULL, NULL, &max_pfn))) {
			free(r);
			return err;
		}
		uint64_t po = kdx_mm_page_offset(s);
		ADD(po, po + max_pfn * PAGE);
		if (!(err = kdx_symbol_lookup(s, "_text", &text)) &&
		    !(err = kdx_symbol_lookup(s, "_end", &end)))
			ADD(text, end);
		kdx_error_destroy(err);
	}
	if (!no_vmalloc) {
		struct kdx_vmap_area *va;
		size_t nva;
		if ((err = kdx_vmap_areas(s, &va, &nva))) {
			free(r);
			return err;
		}
		for (size_t i = 0; i < nva; i++)
			ADD(va[i].start, va[i].end);
		free(va);
	}
#undef ADD
	qsort(r, cnt, sizeof(*r), cmp_range);
	*ret = r;
	*n = cnt;
	return NULL;
}

static struct kdx_error *parse_value(struct kdx_session *s, const char *text, uint64_t *v)
{
	if (text[0] == '(') {
		/* (expression) */
		char *expr = strdup(text);
		if (!expr)
			return kdx_error_nomem();
		struct kdx_error *err = kdx_resolve_address(s, expr, v, NULL);
		free(expr);
		return err;
	}
	if (!kdx_parse_u64(text, 1, v))
		return NULL;
	return kdx_symbol_lookup(s, text, v);
}

static struct kdx_error *cmd_search(struct kdx_session *s, int argc, char **argv)
{
	const char *s_arg = NULL, *e_arg = NULL, *l_arg = NULL, *m_arg = NULL;
	int opt, K = 0, V = 0, chars = 0;
	struct search sr = { .s = s, .width = 8 };
	struct kdx_error *err = NULL;

	optind = 0;
	opterr = 0;
	while ((opt = getopt(argc, argv, "s:e:l:m:kKVupcwhx:")) != -1) {
		switch (opt) {
		case 's': s_arg = optarg; break;
		case 'e': e_arg = optarg; break;
		case 'l': l_arg = optarg; break;
		case 'm': m_arg = optarg; break;
		case 'k': break;
		case 'K': K = 1; break;
		case 'V': V = 1; break;
		case 'u': sr.space = SPACE_USER; break;
		case 'p': sr.space = SPACE_PHYS; break;
		case 'c': chars = 1; break;
		case 'w': sr.width = 4; break;
		case 'h': sr.width = 2; break;
		case 'x': break;
		default: return kdx_command_usage(self());
		}
	}
	if (optind >= argc)
		return kdx_command_usage(self());
	if (chars) {
		sr.width = 0;
		sr.str = kdx_join_words(argc - optind, argv + optind);
		if (!sr.str)
			return kdx_error_nomem();
		sr.strlen_ = strlen(sr.str);
		if (!sr.strlen_ || sr.strlen_ > 4096) {
			free((char *)sr.str);
			return kdx_error_create(KDX_ERR_SYNTAX, "search -c: the string must have 1 to 4096 characters");
		}
	} else {
		for (int i = optind; i < argc; i++) {
			if (sr.nvalues == MAX_VALUES)
				return kdx_error_create(KDX_ERR_SYNTAX, "search: at most %d values", MAX_VALUES);
			if ((err = parse_value(s, argv[i], &sr.values[sr.nvalues++])))
				return kdx_error_prefix(err, "search");
			if (sr.width < 8 && sr.values[sr.nvalues - 1] >> (sr.width * 8))
				return kdx_error_create(KDX_ERR_SYNTAX, "search: %s does not fit in %d bytes",
							argv[i], sr.width);
		}
	}
	if (m_arg && (err = kdx_parse_u64(m_arg, 1, &sr.mask)))
		goto out;

	uint64_t lo = 0, hi = UINT64_MAX;
	if (s_arg && (err = kdx_resolve_address(s, s_arg, &lo, NULL)))
		goto out;
	if (e_arg && (err = kdx_resolve_address(s, e_arg, &hi, NULL)))
		goto out;
	if (l_arg) {
		uint64_t len;
		if ((err = kdx_parse_u64(l_arg, 0, &len)))
			goto out;
		hi = lo + len;
	}
	if (hi <= lo) {
		err = kdx_error_create(KDX_ERR_SYNTAX, "search: end %llx is not above start %llx",
				       (unsigned long long)hi, (unsigned long long)lo);
		goto out;
	}
	sr.buf = malloc(CHUNK + 4096);
	if (!sr.buf) {
		err = kdx_error_nomem();
		goto out;
	}

	struct range *r = NULL;
	size_t n = 0;
	if (sr.space == SPACE_KERNEL) {
		if ((err = kernel_ranges(s, K, V, &r, &n)))
			goto out;
		/* an explicit range outside the known areas is searched as given */
		if (s_arg && e_arg) {
			int inside = 0;
			for (size_t i = 0; i < n; i++)
				if (lo < r[i].end && hi > r[i].start)
					inside = 1;
			if (!inside) {
				r = realloc(r, sizeof(*r));
				r[0].start = lo, r[0].end = hi;
				n = 1;
			}
		}
	} else if (sr.space == SPACE_PHYS) {
		uint64_t max_pfn;
		if ((err = kdx_page_geometry(s, NULL, NULL, NULL, &max_pfn)))
			goto out;
		r = malloc(sizeof(*r));
		r[0].start = 0, r[0].end = max_pfn * PAGE;
		n = 1;
	} else {
		const struct kdx_task *t = kdx_task_current(s);
		struct kdx_mm_info info;
		struct kdx_vma *v;
		size_t nv;
		if (!t || !t->mm) {
			err = kdx_error_create(KDX_ERR_INVALID, "search -u: the current task has no user memory (set PID)");
			goto out;
		}
		if ((err = kdx_mm_info(s, t->mm, &info)) ||
		    (err = kdx_mem_kvtop(s->mem, info.pgd, &sr.pgd_phys)) ||
		    (err = kdx_mm_vmas(s, t->mm, &v, &nv)))
			goto out;
		r = malloc((nv ? nv : 1) * sizeof(*r));
		for (size_t i = 0; r && i < nv; i++)
			r[i].start = v[i].start, r[i].end = v[i].end;
		n = r ? nv : 0;
		free(v);
	}
	for (size_t i = 0; i < n && !sr.interrupted; i++) {
		uint64_t a = r[i].start > lo ? r[i].start : lo;
		uint64_t b = r[i].end < hi ? r[i].end : hi;
		if (a < b)
			search_range(&sr, a, b);
	}
	free(r);
	if (sr.interrupted)
		err = kdx_error_create(KDX_ERR_INTERRUPTED, "search: interrupted");
	else if (sr.unreadable_pages && !fflush(s->out))
		fprintf(stderr, "search: %llu pages in the searched ranges could not be read "
			"(not in the dump or not mapped)\n", (unsigned long long)sr.unreadable_pages);
out:
	free(sr.buf);
	free((char *)sr.str);
	return err;
}

const struct kdx_command kdx_cmd_search = {
	.name = "search",
	.usage = "search [-s START] [-e END | -l LENGTH] [-k | -K | -V | -u | -p] [-m MASK] "
		 "[-c | -w | -h] VALUE...",
	.summary = "find values or strings in memory",
	.help =
"  Prints every aligned occurrence of VALUE as `ADDRESS: VALUE`, in address order.\n"
"\n"
"  -k          kernel virtual memory (default): the direct map of all RAM, the\n"
"              kernel image (_text.._end) and every vmalloc area (including\n"
"              modules, from vmap_area_list).\n"
"  -K          the same without vmalloc areas and modules.\n"
"  -V          only vmalloc areas and modules.\n"
"  -u          the current task's user memory (its VMAs).\n"
"  -p          physical memory.\n"
"  -s START / -e END / -l LENGTH   limit the range (addresses or symbols).\n"
"  -m MASK     ignore the bits set in MASK.\n"
"  -w / -h     search 4-byte / 2-byte values instead of 8-byte ones.\n"
"  -c STRING   search a string (any alignment).\n"
"  VALUE       hexadecimal, a symbol (its address), or (expression).\n"
"\n"
"  Pages not in the dump (filtered by makedumpfile) are skipped; their count\n"
"  is reported on stderr at the end.\n",
	.run = cmd_search,
};

static const struct kdx_command *self(void) { return &kdx_cmd_search; }
