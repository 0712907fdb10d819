/*
 * ORC tables: vmlinux's from the vmlinux file (the tables hold 32-bit
 * self-relative IPs, so only the KASLR offset is added), modules' from the
 * dump. See orc.h.
 */
#include "kernel/orc.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "kernel/kernel.h"
#include "kernel/kread.h"
#include "kernel/modules.h"
#include "symbols/types.h"

/* A sane cap on a module's ORC entries (vmlinux has ~370k for 14 MB of text). */
#define MAX_MODULE_ORCS (1u << 22)

struct orc_table {
	uint64_t start, end;              /* text range covered (runtime) */
	uint64_t init_start, init_end;    /* a module's init text (0, 0: none) */
	size_t n;
	uint64_t *ip;                     /* sorted runtime IPs */
	unsigned char *raw;               /* n * layout.size bytes */
};

struct orc_cache {
	struct kdx_orc_layout layout;
	int layout_ok;
	struct orc_table vmlinux;
	int vmlinux_loaded;
	struct kdx_error *vmlinux_err;    /* kept to report once, not per lookup */
	struct orc_table *mods;
	size_t nmods;
	int mods_loaded;
};

static void table_release(struct orc_table *t)
{
	free(t->ip);
	free(t->raw);
	memset(t, 0, sizeof(*t));
}

static void orc_cache_destroy(void *obj)
{
	struct orc_cache *c = obj;

	table_release(&c->vmlinux);
	for (size_t i = 0; i < c->nmods; i++)
		table_release(&c->mods[i]);
	free(c->mods);
	if (c->vmlinux_err)
		kdx_error_destroy(c->vmlinux_err);
	free(c);
}

static struct kdx_error *layout_field(struct kdx_session *s, struct kdx_type *t, const char *name,
				      int optional, struct kdx_orc_field *f)
{
	struct kdx_type *mt;
	uint64_t bit_offset;
	uint32_t bit_size;
	struct kdx_error *err = kdx_type_member(s->types, t, name, &mt, &bit_offset, &bit_size);

	if (err) {
		if (optional) {
			kdx_error_destroy(err);
			f->ok = 0;
			return NULL;
		}
		return err;
	}
	f->off = (uint32_t)bit_offset;
	f->bits = bit_size ? bit_size : (uint32_t)(kdx_type_unqualified(mt)->size * 8);
	f->sign = kdx_type_unqualified(mt)->is_signed;
	f->ok = 1;
	return NULL;
}

static struct kdx_error *layout_load(struct kdx_session *s, struct kdx_orc_layout *l)
{
	struct kdx_type *t;
	struct kdx_error *err = kdx_type_find(s->types, "struct orc_entry", &t);

	if (err)
		return kdx_error_prefix(err, "ORC");
	t = kdx_type_unqualified(t);
	if ((err = kdx_type_complete(s->types, t)))
		return err;
	l->size = t->size;
	if (l->size == 0 || l->size > 8)
		return kdx_error_create(KDX_ERR_FORMAT, "ORC: struct orc_entry has size %zu", l->size);
	if ((err = layout_field(s, t, "sp_offset", 0, &l->sp_offset)) ||
	    (err = layout_field(s, t, "bp_offset", 0, &l->bp_offset)) ||
	    (err = layout_field(s, t, "sp_reg", 0, &l->sp_reg)) ||
	    (err = layout_field(s, t, "bp_reg", 0, &l->bp_reg)) ||
	    (err = layout_field(s, t, "type", 0, &l->type)) ||
	    (err = layout_field(s, t, "end", 1, &l->end)) ||
	    (err = layout_field(s, t, "signal", 1, &l->signal)))
		return kdx_error_prefix(err, "ORC: struct orc_entry");
	/* Kernels with a 3-bit type (6.4+) number UNDEFINED=0, END_OF_STACK=1,
	 * CALL=2, REGS=3, REGS_PARTIAL=4 and drop the end bit. */
	l->new_types = l->type.bits >= 3 || !l->end.ok;
	return NULL;
}

static int64_t field_get(uint64_t v, const struct kdx_orc_field *f)
{
	if (!f->ok)
		return 0;
	uint64_t x = f->bits >= 64 ? v >> f->off : (v >> f->off) & ((1ULL << f->bits) - 1);
	if (f->sign && f->bits < 64 && (x >> (f->bits - 1)) & 1)
		x |= ~0ULL << f->bits;
	return (int64_t)x;
}

void kdx_orc_decode(const struct kdx_orc_layout *l, const unsigned char *raw, struct kdx_orc *o)
{
	uint64_t v = 0;

	for (size_t i = 0; i < l->size; i++)
		v |= (uint64_t)raw[i] << (8 * i);
	o->sp_offset = (int)field_get(v, &l->sp_offset);
	o->bp_offset = (int)field_get(v, &l->bp_offset);
	o->sp_reg = (int)field_get(v, &l->sp_reg);
	o->bp_reg = (int)field_get(v, &l->bp_reg);
	int type = (int)field_get(v, &l->type);
	if (l->new_types) {
		static const enum kdx_orc_type map[] = {
			KDX_ORC_UNDEFINED, KDX_ORC_END_OF_STACK, KDX_ORC_CALL,
			KDX_ORC_REGS, KDX_ORC_REGS_PARTIAL,
		};
		o->type = type < 5 ? map[type] : KDX_ORC_UNDEFINED;
		o->signal = (int)field_get(v, &l->signal) || o->type == KDX_ORC_REGS ||
			    o->type == KDX_ORC_REGS_PARTIAL;
	} else {
		static const enum kdx_orc_type map[] = {
			KDX_ORC_CALL, KDX_ORC_REGS, KDX_ORC_REGS_PARTIAL,
		};
		o->type = type < 3 ? map[type] : KDX_ORC_UNDEFINED;
		o->signal = o->type == KDX_ORC_REGS || o->type == KDX_ORC_REGS_PARTIAL;
		if (o->sp_reg == KDX_ORC_REG_UNDEFINED)
			o->type = field_get(v, &l->end) ? KDX_ORC_END_OF_STACK : KDX_ORC_UNDEFINED;
	}
}

struct orc_pair { uint64_t ip; size_t i; };

static int pair_cmp(const void *a, const void *b)
{
	const struct orc_pair *x = a, *y = b;

	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* Sort IP[] (and the matching raw entries) if the table is not sorted yet. */
static struct kdx_error *table_sort(struct orc_table *t, size_t esize)
{
	size_t i;

	for (i = 1; i < t->n; i++)
		if (t->ip[i] < t->ip[i - 1])
			break;
	if (i >= t->n)
		return NULL;
	/* Rare (tables are sorted at build time): sort (ip, index) pairs. */
	uint64_t *ip = malloc(t->n * sizeof(*ip));
	unsigned char *raw = malloc(t->n * esize);
	struct orc_pair *p = malloc(t->n * sizeof(*p));
	if (!ip || !raw || !p) {
		free(ip), free(raw), free(p);
		return kdx_error_nomem();
	}
	for (i = 0; i < t->n; i++)
		p[i].ip = t->ip[i], p[i].i = i;
	qsort(p, t->n, sizeof(*p), pair_cmp);
	for (i = 0; i < t->n; i++) {
		ip[i] = p[i].ip;
		memcpy(raw + i * esize, t->raw + p[i].i * esize, esize);
	}
	free(p);
	free(t->ip);
	free(t->raw);
	t->ip = ip;
	t->raw = raw;
	return NULL;
}

static struct kdx_error *vmlinux_load(struct kdx_session *s, struct orc_cache *c)
{
	struct orc_table *t = &c->vmlinux;
	struct kdx_error *err = NULL;
	int fd = open(s->opts.vmlinux, O_RDONLY);

	if (fd < 0)
		return kdx_error_create(KDX_ERR_IO, "ORC: cannot open %s", s->opts.vmlinux);
	elf_version(EV_CURRENT);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	size_t shstrndx;
	if (!elf || elf_getshdrstrndx(elf, &shstrndx)) {
		err = kdx_error_create(KDX_ERR_FORMAT, "ORC: %s: %s", s->opts.vmlinux, elf_errmsg(-1));
		goto out;
	}
	Elf_Data *ipd = NULL, *orcd = NULL;
	GElf_Shdr ipsh = {0}, orcsh = {0};
	for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name || sh.sh_type == SHT_NOBITS)
			continue;
		if (!strcmp(name, ".orc_unwind_ip")) {
			ipd = elf_getdata(scn, NULL);
			ipsh = sh;
		} else if (!strcmp(name, ".orc_unwind")) {
			orcd = elf_getdata(scn, NULL);
			orcsh = sh;
		}
	}
	if (!ipd || !orcd) {
		err = kdx_error_create(KDX_ERR_NOT_FOUND,
				       "ORC: %s has no .orc_unwind_ip/.orc_unwind sections (kernel built without CONFIG_UNWINDER_ORC?)",
				       s->opts.vmlinux);
		goto out;
	}
	size_t n = ipd->d_size / 4;
	if (orcd->d_size / c->layout.size != n) {
		err = kdx_error_create(KDX_ERR_FORMAT, "ORC: %zu IPs but %zu entries in %s", n,
				       (size_t)(orcd->d_size / c->layout.size), s->opts.vmlinux);
		goto out;
	}
	t->ip = malloc(n * sizeof(*t->ip));
	t->raw = malloc(orcd->d_size);
	if (!t->ip || !t->raw) {
		err = kdx_error_nomem();
		goto out;
	}
	memcpy(t->raw, orcd->d_buf, n * c->layout.size);
	const unsigned char *p = ipd->d_buf;
	for (size_t i = 0; i < n; i++) {
		int32_t rel = (int32_t)((uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
					(uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24);
		t->ip[i] = ipsh.sh_addr + 4 * i + (int64_t)rel + s->kaslr_offset;
	}
	t->n = n;
	(void)orcsh;
	if ((err = table_sort(t, c->layout.size)))
		goto out;
	t->start = n ? t->ip[0] : 0;
	t->end = n ? t->ip[n - 1] + 1 : 0;
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (err)
		table_release(t);
	return err;
}

/* Module ORC: each module's arch ORC tables, read from its memory. */

/* M's table into T; 0 if M has none or it cannot be read. */
static int module_table(struct kdx_session *s, const struct kdx_module *m, size_t es,
			struct orc_table *t)
{
	uint64_t num = m->num_orcs;
	struct kdx_error *err = NULL;

	if (!m->orc_unwind_ip || !m->orc_unwind || !num || num > MAX_MODULE_ORCS)
		return 0;
	memset(t, 0, sizeof(*t));
	unsigned char *ipraw = malloc(num * 4);
	t->ip = malloc(num * sizeof(*t->ip));
	t->raw = malloc(num * es);
	if (!ipraw || !t->ip || !t->raw ||
	    (err = kdx_read(s, m->orc_unwind_ip, ipraw, num * 4)) ||
	    (err = kdx_read(s, m->orc_unwind, t->raw, num * es))) {
		if (err)
			kdx_error_destroy(err);
		free(ipraw);
		table_release(t);
		return 0;
	}
	for (size_t i = 0; i < num; i++) {
		int32_t rel = (int32_t)kdx_get_uint(ipraw + 4 * i, 4);
		t->ip[i] = m->orc_unwind_ip + 4 * i + (int64_t)rel;
	}
	free(ipraw);
	t->n = num;
	if ((err = table_sort(t, es))) {
		kdx_error_destroy(err);
		table_release(t);
		return 0;
	}
	t->start = m->base;
	t->end = m->base + m->text_size;
	/* Init text (a crash in module_init): its ORC is in the same table. */
	if (m->init_base && m->init_text_size) {
		t->init_start = m->init_base;
		t->init_end = m->init_base + m->init_text_size;
	}
	return 1;
}

static void modules_load(struct kdx_session *s, struct orc_cache *c)
{
	struct kdx_module *mods;
	size_t n;
	struct kdx_error *err;

	c->mods_loaded = 1;
	if ((err = kdx_modules(s, &mods, &n))) {
		kdx_error_destroy(err);
		return;
	}
	c->mods = calloc(n ? n : 1, sizeof(*c->mods));
	if (!c->mods)
		return;
	for (size_t i = 0; i < n && !kdx_interrupted(s); i++)
		if (module_table(s, &mods[i], c->layout.size, &c->mods[c->nmods]))
			c->nmods++;
}

static struct kdx_error *orc_load(struct kdx_session *s, void *obj)
{
	struct orc_cache *c = obj;

	return layout_load(s, &c->layout);
}

static struct orc_cache *orc_get(struct kdx_session *s, struct kdx_error **errp)
{
	struct orc_cache *c;

	if ((*errp = kdx_kernel_cached(s, KDX_SLOT_ORC, sizeof(*c), orc_load, orc_cache_destroy,
				       (void **)&c)))
		return NULL;
	return c;
}

static int table_covers(const struct orc_table *t, uint64_t ip)
{
	return (ip >= t->start && ip < t->end) || (ip >= t->init_start && ip < t->init_end);
}

/* Index of the last entry with ip <= IP, or -1. */
static long table_search(const struct orc_table *t, uint64_t ip)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->ip[mid] <= ip)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

struct kdx_error *kdx_orc_find(struct kdx_session *s, uint64_t ip, struct kdx_orc *ret,
			       int *found)
{
	struct kdx_error *err = NULL;
	struct orc_cache *c = orc_get(s, &err);
	const struct orc_table *t = NULL;

	*found = 0;
	if (!c)
		return err;
	if (!c->vmlinux_loaded) {
		c->vmlinux_loaded = 1;
		c->vmlinux_err = vmlinux_load(s, c);
	}
	if (c->vmlinux.n && ip >= c->vmlinux.start && ip < c->vmlinux.end)
		t = &c->vmlinux;
	if (!t) {
		if (!c->mods_loaded)
			modules_load(s, c);
		for (size_t i = 0; i < c->nmods; i++)
			if (table_covers(&c->mods[i], ip)) {
				t = &c->mods[i];
				break;
			}
	}
	if (!t) {
		if (c->vmlinux_err && !c->vmlinux.n) {
			/* Report the reason once; later lookups just find nothing. */
			err = c->vmlinux_err;
			c->vmlinux_err = NULL;
			return err;
		}
		return NULL;
	}
	long i = table_search(t, ip);
	if (i < 0)
		return NULL;
	kdx_orc_decode(&c->layout, t->raw + (size_t)i * c->layout.size, ret);
	*found = 1;
	return NULL;
}

int kdx_orc_module_text(struct kdx_session *s, uint64_t addr)
{
	struct kdx_error *err = NULL;
	struct orc_cache *c = orc_get(s, &err);

	if (!c) {
		kdx_error_destroy(err);
		return 0;
	}
	if (!c->mods_loaded)
		modules_load(s, c);
	for (size_t i = 0; i < c->nmods; i++)
		if (table_covers(&c->mods[i], addr))
			return 1;
	return 0;
}
