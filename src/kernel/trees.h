/*
 * Tree walkers: red-black trees (rb_root, rb_root_cached), xarrays (and
 * radix trees, which are xarrays since 4.20) and maple trees (6.1 keeps
 * every mm's VMAs in one). Layouts come from DWARF; the entry encodings
 * (low tag bits) are the kernel's ABI and are documented where used.
 * Each walker has a depth cap and an entry cap, so a corrupt tree ends with
 * an error instead of a spin.
 */
#ifndef KDX_TREES_H
#define KDX_TREES_H

#include <stdint.h>
#include "error.h"

struct kdx_session;

/* In-order walk of the rb-tree whose root node is NODE (rb_root.rb_node);
 * FN gets each struct rb_node address. Return non-zero from FN to stop. */
struct kdx_error *kdx_rbtree_walk(struct kdx_session *s, uint64_t node,
				  int (*fn)(struct kdx_session *s, uint64_t node, void *arg),
				  void *arg, uint64_t *count);

/* Walk the xarray at XA (struct xarray *, or a radix_tree_root *): FN gets
 * each present entry with its index, in index order. Internal entries
 * (siblings, retry, zero) are skipped; value entries (low bit set) are passed. */
struct kdx_error *kdx_xarray_walk(struct kdx_session *s, uint64_t xa,
				  int (*fn)(struct kdx_session *s, uint64_t index, uint64_t entry, void *arg),
				  void *arg, uint64_t *count);

/* Walk the maple tree at MT (struct maple_tree *): FN gets each non-NULL
 * entry with the range [FIRST, LAST] it covers, in order. */
struct kdx_error *kdx_maple_walk(struct kdx_session *s, uint64_t mt,
				 int (*fn)(struct kdx_session *s, uint64_t first, uint64_t last,
					   uint64_t entry, void *arg),
				 void *arg, uint64_t *count);

#endif
