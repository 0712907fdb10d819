/*
 * rb-tree, xarray and maple tree walkers. See trees.h.
 */
#include "kernel/trees.h"

#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "kernel/kread.h"
#include "symbols/types.h"

/* Sanity caps: rb-trees are at most 2*log2(n+1) deep; xarrays and maple
 * trees are at most ~11 levels for 64-bit indices. */
#define RB_MAX_DEPTH 128
#define XA_MAX_DEPTH 16
#define MT_MAX_DEPTH 32
#define MAX_ENTRIES 100000000ULL

/* ---- rb-tree ---- */

struct kdx_error *kdx_rbtree_walk(struct kdx_session *s, uint64_t node,
				  int (*fn)(struct kdx_session *s, uint64_t node, void *arg),
				  void *arg, uint64_t *count)
{
	struct kdx_kfield parent, left, right;
	struct kdx_error *err;
	struct { uint64_t node, right; } stack[RB_MAX_DEPTH];
	int depth = 0;
	uint64_t n = 0, dummy, expect = 0;
	unsigned char buf[64];

	if (!count)
		count = &dummy;
	*count = 0;
	if ((err = kdx_kmember(s, "rb_node", "__rb_parent_color", &parent)) ||
	    (err = kdx_kmember(s, "rb_node", "rb_left", &left)) ||
	    (err = kdx_kmember(s, "rb_node", "rb_right", &right)))
		return err;
	uint64_t len = left.off > right.off ? left.off + 8 : right.off + 8;
	if (parent.off + 8 > len)
		len = parent.off + 8;
	if (len > sizeof(buf))
		return kdx_error_create(KDX_ERR_UNSUPPORTED, "rbtree: struct rb_node of %llu bytes?",
					(unsigned long long)len);
	uint64_t cur = node;
	for (;;) {
		/* Down the left spine. Every node but the root must name the
		 * node we came from as its parent: that catches cycles and
		 * cross-links of a corrupt tree. */
		while (cur) {
			if (depth == RB_MAX_DEPTH) {
				*count = n;
				return kdx_error_create(KDX_ERR_INVALID,
					"rbtree: deeper than %d at node %llx: the tree is corrupt",
					RB_MAX_DEPTH, (unsigned long long)cur);
			}
			if ((err = kdx_read(s, cur, buf, len))) {
				*count = n;
				return kdx_error_prefix(err, "rbtree: node %llx", (unsigned long long)cur);
			}
			uint64_t p = kdx_get_uint(buf + parent.off, 8) & ~3ULL;
			if (expect && p != expect) {
				*count = n;
				return kdx_error_create(KDX_ERR_INVALID,
					"rbtree: node %llx is linked from %llx but its parent is %llx "
					"(a corrupt tree or a cycle)", (unsigned long long)cur,
					(unsigned long long)expect, (unsigned long long)p);
			}
			stack[depth].node = cur;
			stack[depth].right = kdx_get_uint(buf + right.off, 8);
			depth++;
			expect = cur;
			cur = kdx_get_uint(buf + left.off, 8);
		}
		if (!depth)
			break;
		depth--;
		cur = stack[depth].node;
		if (++n > MAX_ENTRIES || kdx_interrupted(s)) {
			*count = n - 1;
			return kdx_error_create(n > MAX_ENTRIES ? KDX_ERR_INVALID : KDX_ERR_INTERRUPTED,
						"rbtree: stopped after %llu nodes", (unsigned long long)(n - 1));
		}
		if (fn && fn(s, cur, arg))
			break;
		expect = cur;
		cur = stack[depth].right;
	}
	*count = n;
	return NULL;
}

/* ---- xarray ----
 * include/linux/xarray.h: an entry with low bits 10 is internal; internal
 * entries above 4096 are node pointers (node = entry - 2); below are
 * sibling (0..62), retry (256) and zero (257) markers. */

static inline int xa_is_internal(uint64_t e) { return (e & 3) == 2; }
static inline int xa_is_node(uint64_t e) { return xa_is_internal(e) && e > 4096; }

struct xa_walk {
	struct kdx_session *s;
	int (*fn)(struct kdx_session *s, uint64_t index, uint64_t entry, void *arg);
	void *arg;
	uint64_t n;
	struct kdx_kfield shift, slots;
	uint64_t nslots;
	unsigned char *bufs[XA_MAX_DEPTH];
	int stop;
};

static struct kdx_error *xa_node_walk(struct xa_walk *w, uint64_t node, uint64_t base, int depth)
{
	struct kdx_error *err;

	if (depth >= XA_MAX_DEPTH)
		return kdx_error_create(KDX_ERR_INVALID, "xarray: deeper than %d at node %llx",
					XA_MAX_DEPTH, (unsigned long long)node);
	unsigned char *buf = w->bufs[depth];
	size_t len = w->slots.off + 8 * w->nslots;
	if ((err = kdx_read(w->s, node, buf, len)))
		return kdx_error_prefix(err, "xarray: xa_node at %llx", (unsigned long long)node);
	unsigned shift = (unsigned)kdx_kfield_u(buf, &w->shift);
	if (shift >= 64)
		return kdx_error_create(KDX_ERR_INVALID, "xarray: node %llx has shift %u",
					(unsigned long long)node, shift);
	for (uint64_t i = 0; i < w->nslots && !w->stop; i++) {
		uint64_t e = kdx_get_uint(buf + w->slots.off + 8 * i, 8);
		uint64_t index = base + (i << shift);
		if (!e)
			continue;
		if (xa_is_node(e)) {
			if (shift == 0)
				return kdx_error_create(KDX_ERR_INVALID,
					"xarray: leaf node %llx has a child node", (unsigned long long)node);
			if ((err = xa_node_walk(w, e - 2, index, depth + 1)))
				return err;
			buf = w->bufs[depth];
			continue;
		}
		if (xa_is_internal(e))
			continue;   /* sibling / retry / zero */
		if (++w->n > MAX_ENTRIES || kdx_interrupted(w->s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "xarray: stopped after %llu entries",
						(unsigned long long)(w->n - 1));
		if (w->fn && w->fn(w->s, index, e, w->arg))
			w->stop = 1;
	}
	return NULL;
}

struct kdx_error *kdx_xarray_walk(struct kdx_session *s, uint64_t xa,
				  int (*fn)(struct kdx_session *s, uint64_t index, uint64_t entry, void *arg),
				  void *arg, uint64_t *count)
{
	struct xa_walk w = { .s = s, .fn = fn, .arg = arg };
	struct kdx_kfield head;
	struct kdx_error *err;
	uint64_t root, dummy;

	if (!count)
		count = &dummy;
	*count = 0;
	if ((err = kdx_kmember(s, "xarray", "xa_head", &head)) ||
	    (err = kdx_kmember(s, "xa_node", "shift", &w.shift)) ||
	    (err = kdx_kmember(s, "xa_node", "slots", &w.slots)))
		return err;
	w.nslots = w.slots.size / 8;
	if ((err = kdx_read_u64(s, xa + head.off, &root)))
		return kdx_error_prefix(err, "xarray at %llx", (unsigned long long)xa);
	if (!root)
		return NULL;
	if (!xa_is_node(root)) {
		if (xa_is_internal(root))
			return NULL;
		*count = 1;
		if (fn)
			fn(s, 0, root, arg);
		return NULL;
	}
	size_t len = w.slots.off + 8 * w.nslots;
	for (int i = 0; i < XA_MAX_DEPTH; i++) {
		w.bufs[i] = malloc(len);
		if (!w.bufs[i]) {
			err = kdx_error_nomem();
			goto out;
		}
	}
	err = xa_node_walk(&w, root - 2, 0, 0);
out:
	for (int i = 0; i < XA_MAX_DEPTH; i++)
		free(w.bufs[i]);
	*count = w.n;
	return err;
}

/* ---- maple tree ----
 * lib/maple_tree.c: an encoded node ("enode") is the node address (256-byte
 * aligned) with the node type in bits 3..6 (MAPLE_NODE_TYPE_SHIFT 3,
 * MAPLE_NODE_TYPE_MASK 0xf) and the xarray internal tag 10 in bits 0..1;
 * the root is a node if xa_is_node(ma_root). Types come from DWARF's
 * enum maple_type. A range node's slot i covers [pivot[i-1]+1, pivot[i]],
 * where a zero pivot past slot 0, or a slot past the last pivot, means the
 * node's max (mas_logical_pivot()). The last used slot (ma_data_end()):
 * for arange_64 nodes the metadata's end; for range/leaf nodes the last
 * pivot slot if it holds the max, all slots if it holds something else,
 * else the metadata's end. */

#define MAPLE_NODE_MASK 255ULL

struct mt_walk {
	struct kdx_session *s;
	int (*fn)(struct kdx_session *s, uint64_t first, uint64_t last, uint64_t entry, void *arg);
	void *arg;
	uint64_t n;
	int t_dense, t_leaf64, t_range64, t_arange64;
	uint64_t node_size;
	uint64_t dense_slot_off, dense_nslots;
	uint64_t r_piv_off, r_npiv, r_slot_off;
	uint64_t a_piv_off, a_npiv, a_slot_off;
	int have_meta;
	uint64_t r_meta_end, a_meta_end;   /* offsets of the metadata's end byte */
	unsigned char *bufs[MT_MAX_DEPTH];
	int stop;
};

static struct kdx_error *mt_emit(struct mt_walk *w, uint64_t first, uint64_t last, uint64_t e)
{
	if (!e)
		return NULL;
	if (++w->n > MAX_ENTRIES || kdx_interrupted(w->s))
		return kdx_error_create(KDX_ERR_INTERRUPTED, "maple tree: stopped after %llu entries",
					(unsigned long long)(w->n - 1));
	if (w->fn && w->fn(w->s, first, last, e, w->arg))
		w->stop = 1;
	return NULL;
}

static struct kdx_error *mt_node_walk(struct mt_walk *w, uint64_t enode, uint64_t min, uint64_t max,
				      int depth)
{
	struct kdx_error *err;
	uint64_t node = enode & ~MAPLE_NODE_MASK;
	int type = (int)((enode >> 3) & 0xf);

	if (depth >= MT_MAX_DEPTH)
		return kdx_error_create(KDX_ERR_INVALID, "maple tree: deeper than %d at node %llx",
					MT_MAX_DEPTH, (unsigned long long)node);
	unsigned char *buf = w->bufs[depth];
	if ((err = kdx_read(w->s, node, buf, w->node_size)))
		return kdx_error_prefix(err, "maple tree: node %llx", (unsigned long long)node);
	if (type == w->t_dense) {
		for (uint64_t i = 0; i < w->dense_nslots && !w->stop; i++) {
			if (min + i > max)
				break;
			uint64_t e = kdx_get_uint(buf + w->dense_slot_off + 8 * i, 8);
			if ((err = mt_emit(w, min + i, min + i, e)))
				return err;
		}
		return NULL;
	}
	uint64_t piv_off, npiv, slot_off;
	if (type == w->t_leaf64 || type == w->t_range64) {
		piv_off = w->r_piv_off, npiv = w->r_npiv, slot_off = w->r_slot_off;
	} else if (type == w->t_arange64) {
		piv_off = w->a_piv_off, npiv = w->a_npiv, slot_off = w->a_slot_off;
	} else {
		return kdx_error_create(KDX_ERR_INVALID, "maple tree: node %llx has unknown type %d",
					(unsigned long long)node, type);
	}
	int leaf = type == w->t_leaf64;
	uint64_t end = npiv;   /* index of the last used slot */
	if (w->have_meta) {
		if (type == w->t_arange64) {
			end = buf[w->a_meta_end];
		} else {
			uint64_t last = kdx_get_uint(buf + piv_off + 8 * (npiv - 1), 8);
			if (!last)
				end = buf[w->r_meta_end];
			else if (last == max)
				end = npiv - 1;
		}
		if (end > npiv)
			return kdx_error_create(KDX_ERR_INVALID,
				"maple tree: node %llx: metadata end %llu beyond %llu slots",
				(unsigned long long)node, (unsigned long long)end,
				(unsigned long long)npiv + 1);
	}
	uint64_t lo = min;
	for (uint64_t i = 0; i <= end && !w->stop; i++) {
		uint64_t hi = i < npiv ? kdx_get_uint(buf + piv_off + 8 * i, 8) : max;
		if (hi == 0 && i > 0) {
			if (!w->have_meta)
				break;   /* without metadata a zero pivot ends the data */
			hi = max;
		}
		if (hi > max || hi < lo)
			return kdx_error_create(KDX_ERR_INVALID,
				"maple tree: node %llx: pivot[%llu] = %llx outside [%llx, %llx]",
				(unsigned long long)node, (unsigned long long)i,
				(unsigned long long)hi, (unsigned long long)lo, (unsigned long long)max);
		uint64_t e = kdx_get_uint(buf + slot_off + 8 * i, 8);
		if (leaf) {
			if ((err = mt_emit(w, lo, hi, e)))
				return err;
		} else if (e) {
			if ((err = mt_node_walk(w, e, lo, hi, depth + 1)))
				return err;
			buf = w->bufs[depth];
		}
		if (hi >= max)
			break;
		lo = hi + 1;
	}
	return NULL;
}

static int enum_value(struct kdx_type *t, const char *name)
{
	for (size_t i = 0; i < t->nenumerators; i++)
		if (!strcmp(t->enumerators[i].name, name))
			return (int)t->enumerators[i].value;
	return -1;
}

struct kdx_error *kdx_maple_walk(struct kdx_session *s, uint64_t mt,
				 int (*fn)(struct kdx_session *s, uint64_t first, uint64_t last,
					   uint64_t entry, void *arg),
				 void *arg, uint64_t *count)
{
	struct mt_walk w = { .s = s, .fn = fn, .arg = arg };
	struct kdx_kfield root_f, f;
	struct kdx_type *t;
	struct kdx_error *err;
	uint64_t root, dummy;

	if (!count)
		count = &dummy;
	*count = 0;
	if ((err = kdx_kmember(s, "maple_tree", "ma_root", &root_f)) ||
	    (err = kdx_type_sizeof(s, "struct maple_node", &w.node_size)))
		return kdx_error_prefix(err, "maple tree (kernel 6.1+)");
	if ((err = kdx_type_find(s->types, "enum maple_type", &t)))
		return err;
	t = kdx_type_unqualified(t);
	if ((err = kdx_type_complete(s->types, t)))
		return err;
	w.t_dense = enum_value(t, "maple_dense");
	w.t_leaf64 = enum_value(t, "maple_leaf_64");
	w.t_range64 = enum_value(t, "maple_range_64");
	w.t_arange64 = enum_value(t, "maple_arange_64");
	if ((err = kdx_kmember(s, "maple_node", "slot", &f)))
		return err;
	w.dense_slot_off = f.off, w.dense_nslots = f.size / 8;
	if ((err = kdx_kmember(s, "maple_node", "mr64.pivot", &f)))
		return err;
	w.r_piv_off = f.off, w.r_npiv = f.size / 8;
	if ((err = kdx_kmember(s, "maple_node", "mr64.slot", &f)))
		return err;
	w.r_slot_off = f.off;
	if ((err = kdx_kmember(s, "maple_node", "ma64.pivot", &f)))
		return err;
	w.a_piv_off = f.off, w.a_npiv = f.size / 8;
	if ((err = kdx_kmember(s, "maple_node", "ma64.slot", &f)))
		return err;
	w.a_slot_off = f.off;
	struct kdx_kfield rm, am;
	kdx_kmember_opt(s, "maple_node", "mr64.meta.end", &rm);
	kdx_kmember_opt(s, "maple_node", "ma64.meta.end", &am);
	w.have_meta = rm.ok && am.ok;
	w.r_meta_end = rm.off, w.a_meta_end = am.off;
	if (w.node_size > 4096 || (w.have_meta && (rm.off >= w.node_size || am.off >= w.node_size)))
		return kdx_error_create(KDX_ERR_INVALID, "maple tree: struct maple_node of %llu bytes?",
					(unsigned long long)w.node_size);

	if ((err = kdx_read_u64(s, mt + root_f.off, &root)))
		return kdx_error_prefix(err, "maple tree at %llx", (unsigned long long)mt);
	if (!root)
		return NULL;
	if (!xa_is_node(root)) {
		*count = 1;
		if (fn)
			fn(s, 0, 0, root, arg);
		return NULL;
	}
	for (int i = 0; i < MT_MAX_DEPTH; i++) {
		w.bufs[i] = malloc(w.node_size);
		if (!w.bufs[i]) {
			err = kdx_error_nomem();
			goto out;
		}
	}
	err = mt_node_walk(&w, root, 0, UINT64_MAX, 0);
out:
	for (int i = 0; i < MT_MAX_DEPTH; i++)
		free(w.bufs[i]);
	*count = w.n;
	return err;
}
