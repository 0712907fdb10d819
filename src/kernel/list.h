/*
 * Linked-list walkers shared by `list`, the probe language's list()/hlist()
 * probe points and the other walkers: list_head (circular, with loop and
 * broken-link detection), hlist and singly linked lists.
 */
#ifndef KDX_LIST_H
#define KDX_LIST_H

#include <stdint.h>
#include "error.h"

struct kdx_session;

enum kdx_list_kind {
	KDX_LIST_HEAD,    /* struct list_head; walk ->next (or ->prev with reverse) */
	KDX_LIST_HLIST,   /* struct hlist_head -> hlist_node chain */
	KDX_LIST_SINGLE,  /* pointer at OFFSET to the next entry, NULL-terminated */
};

/*
 * What START means per kind:
 *   KDX_LIST_HEAD   the address of a struct list_head. With head_is_standalone
 *                   (crash -H) it is not reported; otherwise (crash -h, -l) it
 *                   is the first entry's link. Ends back at START or at NULL.
 *   KDX_LIST_HLIST  with head_is_standalone: a struct hlist_head; otherwise the
 *                   first hlist_node. Ends at NULL.
 *   KDX_LIST_SINGLE the first entry; the next entry's address is the pointer at
 *                   ENTRY + link_offset. Ends at NULL, back at START or at the
 *                   first entry, or at an entry pointing to itself.
 * A node seen twice is a loop: the walk stops with "duplicate list entry".
 * Loop detection remembers every node (a hash set) up to set_limit nodes,
 * then switches to Brent's algorithm, so memory stays bounded.
 */
struct kdx_list_walk {
	enum kdx_list_kind kind;
	uint64_t start;         /* address of the head (or first entry) */
	int head_is_standalone; /* -H: START is a list_head not embedded in an entry (not reported) */
	int reverse;            /* -r: follow prev */
	uint64_t link_offset;   /* offset of the link member in the entry: entry = node - link_offset */
	uint64_t end;           /* -e: stop at this address (0: none) */
	uint64_t max_entries;   /* 0: unlimited */
	int check_links;        /* verify next->prev == cur */
	uint64_t set_limit;     /* nodes remembered for loop detection before switching to
				 * Brent's algorithm (constant memory; the duplicate named is
				 * then some entry on the loop); 0: 8M nodes (128 MB) */
};

/* Callback per entry: ENTRY is the containing object's address (node - link_offset),
 * NODE the link's address. Return non-zero to stop. */
typedef int (*kdx_list_fn)(struct kdx_session *s, uint64_t entry, uint64_t node, void *arg);

/* Walk; loops and broken links produce an error after the entries seen so far. */
struct kdx_error *kdx_list_walk(struct kdx_session *s, const struct kdx_list_walk *w,
				kdx_list_fn fn, void *arg, uint64_t *count);

/*
 * Resolve a command's address argument the way crash does: a hex number
 * (with or without 0x), a symbol (its address), or a C expression (a pointer's
 * value, an integer, or the address of an lvalue struct/union/array).
 * *TYPE (may be NULL) gets the type of the object at the address when known
 * (struct list_head for `&x->lr_granted` or for the symbol kdx_fixture_list),
 * else NULL.
 */
struct kdx_type;
struct kdx_error *kdx_resolve_address(struct kdx_session *s, const char *text,
				      uint64_t *addr, struct kdx_type **type);

#endif
