/*
 * kdx_list_walk on synthetic memory: a buffer-backed target seen through the
 * direct map. Circular list_head lists (standalone head, embedded start,
 * reverse), a loop, a broken prev link, a NULL next, an unreadable node,
 * hlists, singly linked lists, -e END and the entry cap.
 */
#include "kernel/list.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "targets/mem.h"
#include "targets/target.h"

#include "fake_target.h"

#define PHYS_SIZE (4u << 20)
#define PO 0xffff888000000000ULL      /* direct map base of the test */
#define LINK 16                        /* offset of the link in an entry */
#define ESIZE 64                       /* entry size */

static struct fake_phys *fp;
static unsigned char *phys;      /* fp->mem */


static void put64(uint64_t va, uint64_t v) { memcpy(phys + (va - PO), &v, 8); }

/* Entry I of an array of entries at physical 0x10000 (VA of the entry). */
static uint64_t entry(unsigned i) { return PO + 0x10000 + (uint64_t)i * ESIZE; }
static uint64_t node(unsigned i) { return entry(i) + LINK; }

/* Link entries ORDER[0..N-1] into a circular list headed by HEAD (a node VA). */
static void make_list(uint64_t head, const unsigned *order, unsigned n)
{
	uint64_t prev = head;
	for (unsigned k = 0; k < n; k++) {
		put64(prev, node(order[k]));          /* prev->next */
		put64(node(order[k]) + 8, prev);      /* cur->prev */
		prev = node(order[k]);
	}
	put64(prev, head);
	put64(head + 8, prev);
}

struct rec {
	uint64_t e[4096];
	uint64_t n;
	uint64_t stop_after;
};

static int record(struct kdx_session *s, uint64_t e, uint64_t nd, void *arg)
{
	struct rec *r = arg;
	if (r->n < 4096)
		r->e[r->n] = e;
	r->n++;
	return r->stop_after && r->n >= r->stop_after;
}

static int same(const struct rec *r, const unsigned *order, unsigned n)
{
	if (r->n != n)
		return 0;
	for (unsigned k = 0; k < n; k++)
		if (r->e[k] != entry(order[k]))
			return 0;
	return 1;
}

int main(void)
{
	struct kdx_target t = { .ops = &fake_phys_ops, .page_size = 4096, .max_phys = PHYS_SIZE };
	struct kdx_session s;
	struct kdx_mem *m;
	struct kdx_error *err;
	struct rec r;
	uint64_t count;
	unsigned order[3000];

	fp = fake_phys_new(PHYS_SIZE);
	phys = fp ? fp->mem : NULL;
	t.priv = fp;
	memset(&s, 0, sizeof(s));
	if (!phys || (err = kdx_mem_create(&t, &m))) {
		printf("not ok - setup\n");
		return 1;
	}
	struct kdx_mem_layout l = { .page_offset = PO, .levels = 4,
				    .kernel_map = 0xffffffff80000000ULL };
	kdx_mem_set_layout(m, &l);
	s.mem = m;
	s.target = &t;

	/* 3000 entries in a scrambled order, standalone head at phys 0x1000 */
	uint64_t head = PO + 0x1000;
	for (unsigned k = 0; k < 3000; k++)
		order[k] = (k * 7919u) % 3000;
	make_list(head, order, 3000);
	struct kdx_list_walk w = { .kind = KDX_LIST_HEAD, .start = head, .head_is_standalone = 1,
				   .link_offset = LINK, .check_links = 1 };
	memset(&r, 0, sizeof(r));
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && count == 3000 && same(&r, order, 3000), "list -H: 3000 entries in order (%s)",
	   err ? err->message : "no error");
	kdx_error_destroy(err);

	/* reverse */
	unsigned rev[3000];
	for (unsigned k = 0; k < 3000; k++)
		rev[k] = order[2999 - k];
	w.reverse = 1;
	memset(&r, 0, sizeof(r));
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && same(&r, rev, 3000), "list -r -H: reverse order");
	kdx_error_destroy(err);
	w.reverse = 0;

	/* callback stops the walk */
	memset(&r, 0, sizeof(r));
	r.stop_after = 10;
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && count == 10 && r.n == 10, "callback stop after 10 (count %" PRIu64 ")", count);
	kdx_error_destroy(err);

	/* entry cap and -e END */
	memset(&r, 0, sizeof(r));
	w.max_entries = 100;
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && count == 100, "max_entries 100");
	kdx_error_destroy(err);
	w.max_entries = 0;
	w.end = entry(order[50]);
	memset(&r, 0, sizeof(r));
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && count == 50 && same(&r, order, 50), "-e END stops before the entry at END");
	kdx_error_destroy(err);
	w.end = 0;

	/* embedded start (-h): the start entry is reported first, the walk
	 * passes through the standalone head like crash */
	w.start = node(order[0]);
	w.head_is_standalone = 0;
	memset(&r, 0, sizeof(r));
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && count == 3001 && r.e[0] == entry(order[0]) && r.e[3000] == head - LINK,
	   "list -h: start first, %" PRIu64 " entries including the head's container", count);
	kdx_error_destroy(err);

	/* a loop: 10 entries, the 10th's next goes back to the 4th */
	uint64_t lhead = PO + 0x2000;
	unsigned lo[10];
	for (unsigned k = 0; k < 10; k++)
		lo[k] = 3100 + k;
	make_list(lhead, lo, 10);
	put64(node(lo[9]), node(lo[3]));
	w = (struct kdx_list_walk){ .kind = KDX_LIST_HEAD, .start = lhead, .head_is_standalone = 1,
				    .link_offset = LINK, .check_links = 1 };
	memset(&r, 0, sizeof(r));
	err = kdx_list_walk(&s, &w, record, &r, &count);
	char want[128];
	snprintf(want, sizeof(want), "duplicate list entry: %" PRIx64, entry(lo[3]));
	ok(err && strstr(err->message, want) && count == 10 && same(&r, lo, 10),
	   "loop: 10 entries then '%s' (%s)", want, err ? err->message : "no error");
	kdx_error_destroy(err);
	/* the same loop without link checks still ends */
	w.check_links = 0;
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(err && strstr(err->message, "duplicate") && count == 10, "loop without link checks ends");
	kdx_error_destroy(err);

	/* past set_limit nodes, Brent's algorithm: no false loop on a long
	 * list, and the loop is still found (later, naming an entry on it) */
	w = (struct kdx_list_walk){ .kind = KDX_LIST_HEAD, .start = head, .head_is_standalone = 1,
				    .link_offset = LINK, .check_links = 1, .set_limit = 100 };
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(!err && count == 3000, "set_limit 100: 3000 entries, no false loop");
	kdx_error_destroy(err);
	w = (struct kdx_list_walk){ .kind = KDX_LIST_HEAD, .start = lhead, .head_is_standalone = 1,
				    .link_offset = LINK, .check_links = 0, .set_limit = 2 };
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	int on_loop = 0;
	for (unsigned k = 3; err && k < 10; k++) {
		snprintf(want, sizeof(want), "duplicate list entry: %" PRIx64, entry(lo[k]));
		on_loop |= strstr(err->message, want) != NULL;
	}
	ok(err && on_loop && count < 100, "set_limit 2: loop found by Brent's algorithm after %" PRIu64
	   " entries (%s)", count, err ? err->message : "no error");
	kdx_error_destroy(err);

	/* a broken prev link */
	uint64_t bhead = PO + 0x3000;
	unsigned bo[5] = { 3200, 3201, 3202, 3203, 3204 };
	make_list(bhead, bo, 5);
	put64(node(bo[3]) + 8, node(bo[0]));
	w = (struct kdx_list_walk){ .kind = KDX_LIST_HEAD, .start = bhead, .head_is_standalone = 1,
				    .link_offset = LINK, .check_links = 1 };
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(err && strstr(err->message, "broken link") && count == 3,
	   "broken prev link detected after 3 entries (%s)", err ? err->message : "no error");
	kdx_error_destroy(err);

	/* a next pointer into memory that is not in the dump */
	put64(node(bo[3]) + 8, node(bo[2]));
	put64(node(bo[3]), PO + PHYS_SIZE + 0x100);
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(err && err->code == KDX_ERR_FAULT && count == 4, "unreadable next: fault after 4 entries (%s)",
	   err ? err->message : "no error");
	kdx_error_destroy(err);

	/* a deleted entry's poisoned next */
	put64(node(bo[3]), 0xdead000000000100ULL);
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(err && strstr(err->message, "was deleted") && count == 4, "poisoned next: deleted entry named (%s)",
	   err ? err->message : "no error");
	kdx_error_destroy(err);

	/* NULL next ends a list_head walk (crash does the same) */
	put64(node(bo[3]), 0);
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(!err && count == 4, "NULL next ends the walk");
	kdx_error_destroy(err);

	/* hlist: head -> 3300 -> 3301 -> ... -> 3349 -> NULL */
	uint64_t hhead = PO + 0x4000, prev_next = hhead;
	unsigned ho[50];
	for (unsigned k = 0; k < 50; k++) {
		ho[k] = 3300 + k;
		put64(prev_next, node(ho[k]));
		put64(node(ho[k]) + 8, prev_next);
		put64(node(ho[k]), 0);
		prev_next = node(ho[k]);
	}
	w = (struct kdx_list_walk){ .kind = KDX_LIST_HLIST, .start = hhead, .head_is_standalone = 1,
				    .link_offset = LINK, .check_links = 1 };
	memset(&r, 0, sizeof(r));
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && same(&r, ho, 50), "hlist: 50 entries in order");
	kdx_error_destroy(err);
	put64(node(ho[20]) + 8, node(ho[5]));
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(err && strstr(err->message, "pprev") && count == 20, "hlist: bad pprev detected");
	kdx_error_destroy(err);
	put64(node(ho[20]) + 8, node(ho[19]));
	put64(node(ho[49]), node(ho[10]));
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(err && strstr(err->message, "duplicate") && count == 50, "hlist: loop detected");
	kdx_error_destroy(err);

	/* singly linked: next pointer at +8 is the next entry's address */
	unsigned so[20];
	for (unsigned k = 0; k < 20; k++) {
		so[k] = 3400 + (k * 3) % 20;
		put64(entry(so[k]) + 8, 0);
	}
	for (unsigned k = 0; k + 1 < 20; k++)
		put64(entry(so[k]) + 8, entry(so[k + 1]));
	w = (struct kdx_list_walk){ .kind = KDX_LIST_SINGLE, .start = entry(so[0]), .link_offset = 8 };
	memset(&r, 0, sizeof(r));
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && same(&r, so, 20), "singly linked: 20 entries, NULL-terminated");
	kdx_error_destroy(err);
	put64(entry(so[19]) + 8, entry(so[0]));
	memset(&r, 0, sizeof(r));
	err = kdx_list_walk(&s, &w, record, &r, &count);
	ok(!err && same(&r, so, 20), "singly linked: ends back at the start");
	kdx_error_destroy(err);
	put64(entry(so[19]) + 8, entry(so[7]));
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(err && strstr(err->message, "duplicate") && count == 20, "singly linked: loop detected");
	kdx_error_destroy(err);

	/* NULL start */
	w.start = 0;
	err = kdx_list_walk(&s, &w, NULL, NULL, &count);
	ok(err != NULL, "NULL start is an error");
	kdx_error_destroy(err);

	kdx_mem_destroy(m);
	fake_phys_free(fp);
	return ok_failures ? 1 : 0;
}
