/*
 * Linked-list walkers: list_head (circular, doubly linked), hlist and
 * singly linked lists, with loop detection (a hash set of visited nodes)
 * and broken-link detection (next->prev != cur, node->pprev != &prev->next).
 *
 * Hot path: one 16-byte read per entry, one hash-set insert, no allocation
 * except when the set grows. The callback decides what else to read.
 */
#include "kernel/list.h"

#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "symbols/symbols.h"
#include "symbols/types.h"
#include "symbols/value.h"
#include "util.h"

/* Open-addressing set of non-zero 64-bit addresses. */
struct addr_set {
	uint64_t *slot;
	size_t mask;    /* capacity - 1 (capacity a power of two) */
	size_t count;
};

static inline size_t addr_hash(uint64_t a)
{
	/* Nodes are at least 8-byte aligned; mix the high bits in. */
	a ^= a >> 29;
	a *= 0xbf58476d1ce4e5b9ULL;
	a ^= a >> 32;
	return (size_t)a;
}

static int addr_set_init(struct addr_set *set, size_t cap)
{
	set->slot = calloc(cap, sizeof(*set->slot));
	set->mask = cap - 1;
	set->count = 0;
	return set->slot != NULL;
}

static int addr_set_grow(struct addr_set *set)
{
	size_t cap = (set->mask + 1) * 2;
	uint64_t *slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return 0;
	for (size_t i = 0; i <= set->mask; i++) {
		uint64_t a = set->slot[i];
		if (!a)
			continue;
		size_t h = addr_hash(a) & (cap - 1);
		while (slot[h])
			h = (h + 1) & (cap - 1);
		slot[h] = a;
	}
	free(set->slot);
	set->slot = slot;
	set->mask = cap - 1;
	return 1;
}

/* Insert A; returns 1 if inserted, 0 if already present, -1 out of memory. */
static int addr_set_insert(struct addr_set *set, uint64_t a)
{
	if ((set->count + 1) * 2 > set->mask + 1 && !addr_set_grow(set))
		return -1;
	size_t h = addr_hash(a) & set->mask;
	while (set->slot[h]) {
		if (set->slot[h] == a)
			return 0;
		h = (h + 1) & set->mask;
	}
	set->slot[h] = a;
	set->count++;
	return 1;
}

static void addr_set_release(struct addr_set *set)
{
	free(set->slot);
	set->slot = NULL;
}

/* list_del() leaves LIST_POISON1/2 (0x100/0x122 + POISON_POINTER_DELTA,
 * 0xdead000000000000 on x86_64) in a deleted entry's links. */
static int is_poison(uint64_t p)
{
	return (p >> 48) == 0xdead && (p & 0xffffffffffffULL) < 0x1000;
}

/*
 * Loop detection: a hash set of the nodes seen, up to a limit; past it,
 * Brent's algorithm (a "tortoise" node that jumps to the current one at
 * powers of two; meeting it again means a loop) in constant memory.
 */
#define DEFAULT_SET_LIMIT (8ULL << 20)

struct loop_check {
	struct addr_set set;
	uint64_t limit;
	int brent;
	uint64_t tortoise, power, lam;
};

/* 1: new node, 0: seen before (a loop), -1: out of memory. */
static int loop_check_step(struct loop_check *lc, uint64_t a)
{
	if (!lc->brent) {
		if (lc->set.count < lc->limit)
			return addr_set_insert(&lc->set, a);
		addr_set_release(&lc->set);
		lc->brent = 1;
		lc->tortoise = a;
		lc->power = lc->lam = 1;
		return 1;
	}
	if (a == lc->tortoise)
		return 0;
	if (lc->power == lc->lam) {
		lc->tortoise = a;
		lc->power *= 2;
		lc->lam = 0;
	}
	lc->lam++;
	return 1;
}

/*
 * The checks every walker makes before entry N+1 at NODE, in this order:
 * the entry cap, ^C, the loop check. Returns 0 to go on, 1 when NODE was
 * seen before (the caller words the loop error), -1 to stop with *ERRP,
 * which is NULL at the cap (a normal end).
 */
static int walk_step(struct kdx_session *s, const struct kdx_list_walk *w,
		     struct loop_check *seen, uint64_t node, uint64_t n, struct kdx_error **errp)
{
	*errp = NULL;
	if (w->max_entries && n >= w->max_entries)
		return -1;
	if (kdx_interrupted(s)) {
		*errp = kdx_error_create(KDX_ERR_INTERRUPTED, "list: interrupted after %llu entries",
					 (unsigned long long)n);
		return -1;
	}
	int ins = loop_check_step(seen, node);
	if (ins < 0) {
		*errp = kdx_error_nomem();
		return -1;
	}
	return ins == 0;
}

static struct kdx_error *walk_list_head(struct kdx_session *s, const struct kdx_list_walk *w,
					kdx_list_fn fn, void *arg, uint64_t *count,
					struct loop_check *seen)
{
	uint64_t head = w->start;
	uint64_t cur = head;
	uint64_t link[2];   /* next, prev of CUR */
	int fwd = w->reverse ? 1 : 0;   /* index of the pointer we follow */
	uint64_t n = 0;
	struct kdx_error *err;

	if (loop_check_step(seen, head) < 0)
		return kdx_error_nomem();
	if ((err = kdx_read(s, head, link, sizeof(link))))
		return kdx_error_prefix(err, "list head at %llx", (unsigned long long)head);
	if (!w->head_is_standalone) {
		n++;
		if (fn && fn(s, head - w->link_offset, head, arg))
			goto out;
	}
	for (;;) {
		uint64_t next = link[fwd];

		if (next == 0 || next == head || (w->end && (next == w->end ||
							      next - w->link_offset == w->end)))
			break;
		int step = walk_step(s, w, seen, next, n, &err);
		if (step < 0)
			goto fail;
		if (step > 0) {
			err = kdx_error_create(KDX_ERR_INVALID,
				"list: duplicate list entry: %llx (the list loops back after %llu entries; %llx links to it)",
				(unsigned long long)(next - w->link_offset), (unsigned long long)n,
				(unsigned long long)(cur - w->link_offset));
			goto fail;
		}
		if (is_poison(next)) {
			err = kdx_error_create(KDX_ERR_INVALID,
				"list: %llx->%s is the poison value %llx: entry %llx was deleted from the list",
				(unsigned long long)cur, fwd ? "prev" : "next", (unsigned long long)next,
				(unsigned long long)(cur - w->link_offset));
			goto fail;
		}
		if ((err = kdx_read(s, next, link, sizeof(link)))) {
			err = kdx_error_prefix(err, "list: entry %llu: list_head at %llx (linked from %llx)",
					       (unsigned long long)n + 1, (unsigned long long)next,
					       (unsigned long long)cur);
			goto fail;
		}
		if (w->check_links && link[!fwd] != cur) {
			err = kdx_error_create(KDX_ERR_INVALID,
				"list: broken link: %llx->%s = %llx but %llx->%s = %llx (entry %llx)",
				(unsigned long long)cur, fwd ? "prev" : "next", (unsigned long long)next,
				(unsigned long long)next, fwd ? "next" : "prev",
				(unsigned long long)link[!fwd],
				(unsigned long long)(next - w->link_offset));
			goto fail;
		}
		cur = next;
		n++;
		if (fn && fn(s, cur - w->link_offset, cur, arg))
			break;
	}
out:
	*count = n;
	return NULL;
fail:
	*count = n;
	return err;
}

static struct kdx_error *walk_hlist(struct kdx_session *s, const struct kdx_list_walk *w,
				    kdx_list_fn fn, void *arg, uint64_t *count,
				    struct loop_check *seen)
{
	uint64_t link[2];   /* hlist_node: next, pprev */
	uint64_t prev_next_addr = w->start;   /* &head->first or &prev->next */
	uint64_t node, n = 0;
	struct kdx_error *err;

	if (w->head_is_standalone) {
		if ((err = kdx_read_u64(s, w->start, &node)))
			return kdx_error_prefix(err, "hlist head at %llx", (unsigned long long)w->start);
	} else {
		node = w->start;
		prev_next_addr = 0;
	}
	while (node) {
		if (w->end && (node == w->end || node - w->link_offset == w->end))
			break;
		int step = walk_step(s, w, seen, node, n, &err);
		if (step < 0)
			goto fail;
		if (step > 0) {
			err = kdx_error_create(KDX_ERR_INVALID,
					"list: duplicate list entry: %llx (the hlist loops back after %llu entries)",
					(unsigned long long)(node - w->link_offset), (unsigned long long)n);
			goto fail;
		}
		if ((err = kdx_read(s, node, link, sizeof(link)))) {
			err = kdx_error_prefix(err, "list: entry %llu: hlist_node at %llx",
					       (unsigned long long)n + 1, (unsigned long long)node);
			goto fail;
		}
		if (w->check_links && prev_next_addr && link[1] != prev_next_addr) {
			err = kdx_error_create(KDX_ERR_INVALID,
				"list: broken link: hlist_node %llx->pprev = %llx, expected %llx (entry %llx)",
				(unsigned long long)node, (unsigned long long)link[1],
				(unsigned long long)prev_next_addr,
				(unsigned long long)(node - w->link_offset));
			goto fail;
		}
		n++;
		if (fn && fn(s, node - w->link_offset, node, arg))
			break;
		prev_next_addr = node;   /* next is the first member of hlist_node */
		node = link[0];
	}
	*count = n;
	return NULL;
fail:
	*count = n;
	return err;
}

static struct kdx_error *walk_single(struct kdx_session *s, const struct kdx_list_walk *w,
				     kdx_list_fn fn, void *arg, uint64_t *count,
				     struct loop_check *seen)
{
	uint64_t entry = w->start, first = 0, n = 0;
	struct kdx_error *err;

	while (entry) {
		if (w->end && entry == w->end)
			break;
		int step = walk_step(s, w, seen, entry, n, &err);
		if (step < 0)
			goto fail;
		if (step > 0) {
			err = kdx_error_create(KDX_ERR_INVALID,
					"list: duplicate list entry: %llx (the list loops back after %llu entries)",
					(unsigned long long)entry, (unsigned long long)n);
			goto fail;
		}
		n++;
		if (fn && fn(s, entry, entry + w->link_offset, arg))
			break;
		uint64_t next;
		if ((err = kdx_read_u64(s, entry + w->link_offset, &next))) {
			err = kdx_error_prefix(err, "list: entry %llu at %llx: next pointer",
					       (unsigned long long)n, (unsigned long long)entry);
			goto fail;
		}
		/* crash's ends: NULL, back to the start, back to the first
		 * entry, or an entry pointing to itself. */
		if (!first)
			first = next;
		else if (next == first)
			break;
		if (next == w->start || next == entry)
			break;
		entry = next;
	}
	*count = n;
	return NULL;
fail:
	*count = n;
	return err;
}

struct kdx_error *kdx_list_walk(struct kdx_session *s, const struct kdx_list_walk *w,
				kdx_list_fn fn, void *arg, uint64_t *count)
{
	struct loop_check seen = { .limit = w->set_limit ? w->set_limit : DEFAULT_SET_LIMIT };
	struct kdx_error *err;
	uint64_t dummy;

	if (!count)
		count = &dummy;
	*count = 0;
	if (!w->start)
		return kdx_error_create(KDX_ERR_INVALID, "list: start address is NULL");
	if (!addr_set_init(&seen.set, 1024))
		return kdx_error_nomem();
	switch (w->kind) {
	case KDX_LIST_HEAD:
		err = walk_list_head(s, w, fn, arg, count, &seen);
		break;
	case KDX_LIST_HLIST:
		err = walk_hlist(s, w, fn, arg, count, &seen);
		break;
	case KDX_LIST_SINGLE:
		err = walk_single(s, w, fn, arg, count, &seen);
		break;
	default:
		err = kdx_error_create(KDX_ERR_INVALID, "list: unknown list kind %d", (int)w->kind);
	}
	addr_set_release(&seen.set);
	return err;
}

static int is_identifier(const char *t)
{
	if (!(*t == '_' || (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z')))
		return 0;
	for (t++; *t; t++)
		if (!(*t == '_' || *t == '.' || (*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
		      (*t >= '0' && *t <= '9')))
			return 0;
	return 1;
}

struct kdx_error *kdx_resolve_address(struct kdx_session *s, const char *text,
				      uint64_t *addr, struct kdx_type **type)
{
	struct kdx_value v;
	struct kdx_error *err;
	struct kdx_type *dummy;

	if (!type)
		type = &dummy;
	*type = NULL;
	/* Plain hex (crash's default for addresses): "ffff888004c0a010". */
	if (kdx_is_number(text))
		return kdx_parse_u64(text, 1, addr);
	if (strspn(text, "0123456789abcdefABCDEF") == strlen(text)) {
		/* "bad", "add": a symbol of that name wins, as in crash */
		if (!kdx_symbol_by_name(s->symtab, text, NULL))
			return kdx_parse_u64(text, 1, addr);
	}
	/* A bare symbol means its address, as in crash (`list -H kdx_fixture_list`),
	 * even for a pointer variable or a symbol without debuginfo; the
	 * expression evaluator only adds the object's type when it knows it. */
	if (is_identifier(text)) {
		if ((err = kdx_symbol_lookup(s, text, addr))) {
			kdx_error_destroy(err);
		} else {
			if ((err = kdx_eval_expr(s, text, &v))) {
				kdx_error_destroy(err);
				return NULL;
			}
			struct kdx_type *t = v.type ? kdx_type_unqualified(v.type) : NULL;
			if (v.is_lvalue && v.addr == *addr && t &&
			    (t->kind == KDX_TYPE_STRUCT || t->kind == KDX_TYPE_UNION))
				*type = t;
			kdx_value_release(&v);
			return NULL;
		}
	}
	if ((err = kdx_eval_expr(s, text, &v))) {
		/* A symbol the expression evaluator does not know (no debuginfo). */
		if (!kdx_symbol_lookup(s, text, addr)) {
			kdx_error_destroy(err);
			return NULL;
		}
		return err;
	}
	struct kdx_type *t = v.type ? kdx_type_unqualified(v.type) : NULL;
	if (t && (t->kind == KDX_TYPE_STRUCT || t->kind == KDX_TYPE_UNION ||
		  t->kind == KDX_TYPE_ARRAY || t->kind == KDX_TYPE_FUNCTION)) {
		if (!v.is_lvalue) {
			kdx_value_release(&v);
			return kdx_error_create(KDX_ERR_INVALID, "%s: not an address", text);
		}
		*addr = v.addr;
		*type = t->kind == KDX_TYPE_ARRAY ? NULL : t;
		kdx_value_release(&v);
		return NULL;
	}
	err = kdx_value_as_u64(s, &v, addr);
	if (!err && t && t->kind == KDX_TYPE_POINTER && t->target)
		*type = kdx_type_unqualified(t->target);
	kdx_value_release(&v);
	return err;
}
