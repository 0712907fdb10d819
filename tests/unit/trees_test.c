/*
 * Tree walkers on synthetic memory laid out with the real vmlinux's DWARF
 * (struct rb_node, xa_node, maple_node): an rb-tree in order, a two-level
 * xarray with value, sibling and retry entries, and a two-level maple tree
 * (arange_64 root, a full leaf whose last slot runs to the parent's pivot,
 * a leaf ending on its max, NULL gaps), plus corrupt trees that must end
 * with an error. Skips cleanly without the vmlinux.
 */
#include "kernel/trees.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "kernel/kread.h"
#include "symbols/types.h"
#include "targets/mem.h"
#include "targets/target.h"

#include "fake_target.h"

#define DEFAULT_VMLINUX "/usr/lib/debug/boot/vmlinux-6.1.0-56-cloud-amd64"
#define PHYS_SIZE (1u << 20)
#define PO 0xffff888000000000ULL

static struct fake_phys *fp;
static unsigned char *phys;      /* fp->mem */


static void put64(uint64_t va, uint64_t v) { memcpy(phys + (va - PO), &v, 8); }
static void put8(uint64_t va, uint8_t v) { phys[va - PO] = v; }

static struct kdx_session S;

static uint64_t off(const char *sname, const char *path)
{
	struct kdx_kfield f;
	struct kdx_error *err = kdx_kmember(&S, sname, path, &f);
	if (err) {
		printf("not ok - %s.%s: %s\n", sname, path, err->message);
		exit(1);
	}
	return f.off;
}

/* ---- collectors ---- */

struct seen {
	uint64_t a[256], b[256], c[256];
	int n;
};

static int rb_fn(struct kdx_session *s, uint64_t node, void *arg)
{
	struct seen *x = arg;
	if (x->n < 256)
		x->a[x->n] = node;
	x->n++;
	return 0;
}

static int xa_fn(struct kdx_session *s, uint64_t index, uint64_t entry, void *arg)
{
	struct seen *x = arg;
	if (x->n < 256)
		x->a[x->n] = index, x->b[x->n] = entry;
	x->n++;
	return 0;
}

static int mt_fn(struct kdx_session *s, uint64_t first, uint64_t last, uint64_t entry, void *arg)
{
	struct seen *x = arg;
	if (x->n < 256)
		x->a[x->n] = first, x->b[x->n] = last, x->c[x->n] = entry;
	x->n++;
	return 0;
}

static void test_rbtree(void)
{
	uint64_t l = off("rb_node", "rb_left"), r = off("rb_node", "rb_right");
	uint64_t pc = off("rb_node", "__rb_parent_color");
	/* BST over keys 1..7 shaped  4 / (2: 1 3) (6: 5 7); node k at PO + 0x1000 + k*0x40 */
#define N(k) (PO + 0x1000 + (k) * 0x40)
	int kids[8][2] = { { 0, 0 }, { 0, 0 }, { 1, 3 }, { 0, 0 }, { 2, 6 }, { 0, 0 }, { 5, 7 }, { 0, 0 } };
	for (int k = 1; k <= 7; k++) {
		put64(N(k) + l, kids[k][0] ? N(kids[k][0]) : 0);
		put64(N(k) + r, kids[k][1] ? N(kids[k][1]) : 0);
		for (int c = 0; c < 2; c++)   /* parent pointers, colour bit 1 (black) set */
			if (kids[k][c])
				put64(N(kids[k][c]) + pc, N(k) | 1);
	}
	put64(N(4) + pc, 1);
	struct seen x = { .n = 0 };
	uint64_t count;
	struct kdx_error *err = kdx_rbtree_walk(&S, N(4), rb_fn, &x, &count);
	int good = !err && count == 7 && x.n == 7;
	for (int k = 0; good && k < 7; k++)
		good = x.a[k] == N(k + 1);
	ok(good, "rbtree: 7 nodes in key order");
	kdx_error_destroy(err);
	/* a cycle (7's right child is 4) must end with an error */
	put64(N(7) + r, N(4));
	x.n = 0;
	err = kdx_rbtree_walk(&S, N(4), rb_fn, &x, &count);
	ok(err != NULL, "rbtree: a cycle ends with an error (%s)", err ? err->message : "none");
	kdx_error_destroy(err);
#undef N
}

static void test_xarray(void)
{
	uint64_t head = off("xarray", "xa_head");
	uint64_t shift = off("xa_node", "shift"), slots = off("xa_node", "slots");
	uint64_t xa = PO + 0x10000;
	uint64_t root = PO + 0x11000, leaf = PO + 0x12000;   /* xa_node addresses */

	put64(xa + head, root | 2);
	put8(root + shift, 6);
	put8(leaf + shift, 0);
	put64(root + slots + 1 * 8, leaf | 2);          /* indices 64..127 */
	put64(root + slots + 3 * 8, (77 << 1) | 1);     /* value entry at 192 */
	put64(root + slots + 4 * 8, 0xffff888000123400ULL);  /* multi-index entry at 256 */
	put64(root + slots + 5 * 8, (4 << 2) | 2);      /* sibling of slot 4: skipped */
	put64(leaf + slots + 0 * 8, 0xffff888000100000ULL);
	put64(leaf + slots + 5 * 8, 0xffff888000100040ULL);
	put64(leaf + slots + 6 * 8, (256 << 2) | 2);    /* XA_RETRY_ENTRY: skipped */
	put64(leaf + slots + 63 * 8, 0xffff888000100080ULL);
	struct seen x = { .n = 0 };
	uint64_t count;
	struct kdx_error *err = kdx_xarray_walk(&S, xa, xa_fn, &x, &count);
	uint64_t want_i[] = { 64, 69, 127, 192, 256 };
	uint64_t want_e[] = { 0xffff888000100000ULL, 0xffff888000100040ULL, 0xffff888000100080ULL,
			      (77 << 1) | 1, 0xffff888000123400ULL };
	int good = !err && count == 5 && x.n == 5;
	for (int k = 0; good && k < 5; k++)
		good = x.a[k] == want_i[k] && x.b[k] == want_e[k];
	ok(good, "xarray: 5 entries with their indices, internal entries skipped (n=%d)", x.n);
	kdx_error_destroy(err);

	/* a single entry in the head is index 0 */
	put64(xa + head, 0xffff888000100000ULL);
	x.n = 0;
	err = kdx_xarray_walk(&S, xa, xa_fn, &x, &count);
	ok(!err && x.n == 1 && x.a[0] == 0, "xarray: head entry is index 0");
	kdx_error_destroy(err);

	/* a leaf pointing back at the root must end with an error */
	put64(xa + head, root | 2);
	put8(leaf + shift, 6);
	put64(leaf + slots + 2 * 8, root | 2);
	err = kdx_xarray_walk(&S, xa, NULL, NULL, &count);
	ok(err != NULL, "xarray: a cycle ends with an error (%s)", err ? err->message : "none");
	kdx_error_destroy(err);
}

static int enum_val(const char *name)
{
	struct kdx_type *t;
	struct kdx_error *err = kdx_type_find(S.types, "enum maple_type", &t);
	if (err)
		exit(1);
	t = kdx_type_unqualified(t);
	kdx_type_complete(S.types, t);
	for (size_t i = 0; i < t->nenumerators; i++)
		if (!strcmp(t->enumerators[i].name, name))
			return (int)t->enumerators[i].value;
	return -1;
}

static void test_maple(void)
{
	uint64_t ma_root = off("maple_tree", "ma_root");
	uint64_t r_piv = off("maple_node", "mr64.pivot"), r_slot = off("maple_node", "mr64.slot");
	uint64_t a_piv = off("maple_node", "ma64.pivot"), a_slot = off("maple_node", "ma64.slot");
	int leaf = enum_val("maple_leaf_64"), arange = enum_val("maple_arange_64");
	uint64_t r_end = off("maple_node", "mr64.meta.end"), a_end = off("maple_node", "ma64.meta.end");
	uint64_t mt = PO + 0x20000;
	uint64_t root = PO + 0x20100, la = PO + 0x20200, lb = PO + 0x20300, lc = PO + 0x20400;
#define ENODE(n, t) ((n) | ((uint64_t)(t) << 3) | 4)
#define E(k) (0xffff888000200000ULL + (k) * 0x100)

	/* root: [0, 0x3fff] -> la, [0x4000, 0x7fff] -> lb, [0x8000, max] -> lc */
	put64(mt + ma_root, ENODE(root, arange) | 2);
	put64(root + a_piv + 0, 0x3fff);
	put64(root + a_piv + 8, 0x7fff);
	put64(root + a_slot + 0, ENODE(la, leaf));
	put64(root + a_slot + 8, ENODE(lb, leaf));
	put64(root + a_slot + 16, ENODE(lc, leaf));
	put8(root + a_end, 2);   /* pivot[2] stays 0: the logical pivot is the max */
	/* la is full: 15 pivots, 16 slots; ranges of 0x400, the last slot
	 * (implied max 0x3fff) holds E(15); even slots are NULL gaps */
	for (int i = 0; i < 15; i++)
		put64(la + r_piv + 8 * i, 0x400 * (i + 1) - 1);
	for (int i = 0; i < 16; i++)
		put64(la + r_slot + 8 * i, i % 2 ? E(i) : 0);
	/* lb: [0x4000,0x4fff] E(20), [0x5000,0x7fff] E(21) ending on its max */
	put64(lb + r_piv + 0, 0x4fff);
	put64(lb + r_piv + 8, 0x7fff);
	put64(lb + r_slot + 0, E(20));
	put64(lb + r_slot + 8, E(21));
	put8(lb + r_end, 1);
	/* lc: [0x8000,0x8fff] E(30), then a NULL gap to the end */
	put64(lc + r_piv + 0, 0x8fff);
	put64(lc + r_piv + 8, ~0ULL);
	put64(lc + r_slot + 0, E(30));
	put64(lc + r_slot + 8, 0);
	put64(lc + r_slot + 16, E(31));   /* stale, past the data end: not an entry */
	put8(lc + r_end, 1);

	struct seen x = { .n = 0 };
	uint64_t count;
	struct kdx_error *err = kdx_maple_walk(&S, mt, mt_fn, &x, &count);
	/* expected: odd slots of la, then lb's two, then lc's one */
	uint64_t wf[16], wl[16], we[16];
	int n = 0;
	for (int i = 1; i < 16; i += 2) {
		wf[n] = 0x400 * i;
		wl[n] = i < 15 ? 0x400 * (i + 1) - 1 : 0x3fff;
		we[n++] = E(i);
	}
	wf[n] = 0x4000, wl[n] = 0x4fff, we[n++] = E(20);
	wf[n] = 0x5000, wl[n] = 0x7fff, we[n++] = E(21);
	wf[n] = 0x8000, wl[n] = 0x8fff, we[n++] = E(30);
	int good = !err && x.n == n && count == (uint64_t)n;
	for (int k = 0; good && k < n; k++)
		good = x.a[k] == wf[k] && x.b[k] == wl[k] && x.c[k] == we[k];
	ok(good, "maple: %d entries with ranges over arange_64 + three leaves (got %d%s%s)", n, x.n,
	   err ? ": " : "", err ? err->message : "");
	if (!good)
		for (int k = 0; k < x.n && k < 16; k++)
			printf("#   [%" PRIx64 "-%" PRIx64 "] %" PRIx64 "\n", x.a[k], x.b[k], x.c[k]);
	kdx_error_destroy(err);

	/* a pivot going backwards is corruption */
	put64(lb + r_piv + 0, 0x3000);
	err = kdx_maple_walk(&S, mt, NULL, NULL, &count);
	ok(err != NULL, "maple: a pivot outside the node's range is an error (%s)",
	   err ? err->message : "none");
	kdx_error_destroy(err);
	put64(lb + r_piv + 0, 0x4fff);

	/* a child pointing at the root again ends at the depth cap */
	put64(lc + r_slot + 0, 0);
	put64(root + a_slot + 16, ENODE(root, arange));
	err = kdx_maple_walk(&S, mt, NULL, NULL, &count);
	ok(err != NULL, "maple: a cycle ends with an error (%s)", err ? err->message : "none");
	kdx_error_destroy(err);

	/* a non-node root is one entry at index 0 */
	put64(mt + ma_root, E(1));
	x.n = 0;
	err = kdx_maple_walk(&S, mt, mt_fn, &x, &count);
	ok(!err && x.n == 1 && x.a[0] == 0 && x.c[0] == E(1), "maple: a root entry covers index 0");
	kdx_error_destroy(err);
#undef ENODE
#undef E
}

int main(void)
{
	const char *vmlinux = getenv("KDX_TEST_VMLINUX");
	struct kdx_target t = { .ops = &fake_phys_ops, .page_size = 4096, .max_phys = PHYS_SIZE };
	struct kdx_mem *m;
	struct kdx_error *err;

	if (!vmlinux)
		vmlinux = DEFAULT_VMLINUX;
	if (access(vmlinux, R_OK)) {
		printf("ok - skipped: %s not installed\n", vmlinux);
		return 0;
	}
	fp = fake_phys_new(PHYS_SIZE);
	phys = fp ? fp->mem : NULL;
	t.priv = fp;
	if (!phys || (err = kdx_mem_create(&t, &m))) {
		printf("not ok - setup\n");
		return 1;
	}
	struct kdx_mem_layout l = { .page_offset = PO, .levels = 4, .kernel_map = 0xffffffff80000000ULL };
	kdx_mem_set_layout(m, &l);
	S.mem = m;
	S.target = &t;
	char cache[] = "/tmp/kdx-trees-test-XXXXXX";
	const char *cdir = mkdtemp(cache);
	if ((err = kdx_types_open(vmlinux, getenv("KDX_TEST_CACHE") ? getenv("KDX_TEST_CACHE") : cdir,
				  &S.types))) {
		printf("not ok - types: %s\n", err->message);
		return 1;
	}
	test_rbtree();
	test_xarray();
	test_maple();
	kdx_types_destroy(S.types);
	kdx_mem_destroy(m);
	fake_phys_free(fp);
	if (cdir) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cdir);
		if (system(cmd)) { /* best effort */ }
	}
	return ok_failures ? 1 : 0;
}
