/*
 * Lockless printk ring buffer (kernel/printk/printk_ringbuffer.[ch]).
 *
 * prb -> struct printk_ringbuffer { desc_ring, text_data_ring }.
 * Descriptors and infos are arrays of 2^count_bits entries indexed by
 * id & mask; a descriptor's state_var holds its id in the low bits and its
 * state in the top two (committed 1, finalized 2). Text blocks live in the
 * data ring at logical positions (lpos) begin..next; a block is an unsigned
 * long id followed by the text, and a block that would cross the end of
 * the ring is stored at offset 0 instead (begin's wrap count is then one
 * less than next's). lpos values with bit 0 set carry no data.
 */
#include "kernel/printk.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "kernel/kernel.h"
#include "kernel/kread.h"
#include "symbols/types.h"

#define DESC_STATE_SHIFT 62
#define DESC_ID_MASK ((1ull << DESC_STATE_SHIFT) - 1)
#define DESC_COMMITTED 1
#define DESC_FINALIZED 2

/* Sanity caps: the kernel limits log_buf_len to 2^25 (CONFIG_LOG_BUF_SHIFT). */
#define MAX_COUNT_BITS 24
#define MAX_SIZE_BITS 31

struct printk_cache {
	uint64_t count;          /* descriptors */
	unsigned char *descs;
	unsigned char *infos;
	uint64_t desc_size, info_size;
	uint64_t data_size;
	unsigned char *data;
	uint64_t head_id, tail_id;
	struct kdx_kfield sv, begin, next, seq, ts, text_len, facility, caller_id, lvl;
	struct kdx_kfield subsys, device;   /* printk_info.dev_info.{subsystem,device} */
	int lvl_byte_off;        /* flags:5, level:3 share a byte: level = byte >> 5 */
};

static void cache_destroy(void *obj)
{
	struct printk_cache *c = obj;

	free(c->descs);
	free(c->infos);
	free(c->data);
	free(c);
}

static struct kdx_error *load(struct kdx_session *s, void *obj)
{
	struct printk_cache *c = obj;
	struct kdx_kfield dr, tdr, count_bits, descs, infos, head, tail, size_bits, data, blk;
	uint64_t prb_ptr, prb, v, addr;
	struct kdx_error *err;
	unsigned char hdr[256];

	err = kdx_kvar(s, "prb", &prb_ptr);
	if (err) {
		kdx_error_destroy(err);
		if (!kdx_kvar(s, "log_first_idx", &addr))
			return kdx_error_create(KDX_ERR_UNSUPPORTED,
				"this kernel uses the pre-5.10 log_buf layout, which kdx does not read");
		return kdx_error_create(KDX_ERR_NOT_FOUND, "no printk ring buffer (`prb`) in this kernel");
	}
	if ((err = kdx_kmember(s, "printk_ringbuffer", "desc_ring", &dr)) ||
	    (err = kdx_kmember(s, "printk_ringbuffer", "text_data_ring", &tdr)) ||
	    (err = kdx_kmember(s, "prb_desc_ring", "count_bits", &count_bits)) ||
	    (err = kdx_kmember(s, "prb_desc_ring", "descs", &descs)) ||
	    (err = kdx_kmember(s, "prb_desc_ring", "infos", &infos)) ||
	    (err = kdx_kmember(s, "prb_desc_ring", "head_id", &head)) ||
	    (err = kdx_kmember(s, "prb_desc_ring", "tail_id", &tail)) ||
	    (err = kdx_kmember(s, "prb_data_ring", "size_bits", &size_bits)) ||
	    (err = kdx_kmember(s, "prb_data_ring", "data", &data)) ||
	    (err = kdx_kmember(s, "prb_desc", "state_var", &c->sv)) ||
	    (err = kdx_kmember(s, "prb_desc", "text_blk_lpos", &blk)) ||
	    (err = kdx_kmember(s, "prb_data_blk_lpos", "begin", &c->begin)) ||
	    (err = kdx_kmember(s, "prb_data_blk_lpos", "next", &c->next)) ||
	    (err = kdx_kmember(s, "printk_info", "seq", &c->seq)) ||
	    (err = kdx_kmember(s, "printk_info", "ts_nsec", &c->ts)) ||
	    (err = kdx_kmember(s, "printk_info", "text_len", &c->text_len)) ||
	    (err = kdx_kmember(s, "printk_info", "caller_id", &c->caller_id)) ||
	    (err = kdx_type_sizeof(s, "struct prb_desc", &c->desc_size)) ||
	    (err = kdx_type_sizeof(s, "struct printk_info", &c->info_size)))
		return kdx_error_prefix(err, "printk ring buffer layout");
	kdx_kmember_opt(s, "printk_info", "facility", &c->facility);
	kdx_kmember_opt(s, "printk_info", "dev_info.subsystem", &c->subsys);
	kdx_kmember_opt(s, "printk_info", "dev_info.device", &c->device);
	c->begin.off += blk.off;
	c->next.off += blk.off;
	/* level is a bit field after facility: byte facility+1 (flags:5 level:3),
	 * as the kernel declares it; take the bit offset from DWARF if we can. */
	{
		struct kdx_type *t, *mt;
		uint64_t bitoff;
		uint32_t bitsize;
		c->lvl_byte_off = -1;
		if (!kdx_type_find(s->types, "struct printk_info", &t) &&
		    !kdx_type_member(s->types, t, "level", &mt, &bitoff, &bitsize)) {
			c->lvl.off = bitoff / 8;
			c->lvl.size = bitoff % 8;   /* shift within the byte */
			c->lvl.ok = bitsize ? (int)bitsize : 8;
		}
	}

	if (dr.off + 64 > sizeof(hdr) || tdr.off + 32 > sizeof(hdr))
		return kdx_error_create(KDX_ERR_FORMAT, "unexpected printk_ringbuffer layout");
	err = kdx_read_u64(s, prb_ptr, &prb);
	if (!err)
		err = kdx_read(s, prb, hdr, sizeof(hdr));
	if (err)
		return kdx_error_prefix(err, "printk ring buffer");
	unsigned char *d = hdr + dr.off, *t = hdr + tdr.off;
	v = kdx_kfield_u(d, &count_bits);
	if (v > MAX_COUNT_BITS)
		return kdx_error_create(KDX_ERR_FORMAT, "printk ring at %llx: count_bits %llu is corrupt",
					(unsigned long long)prb, (unsigned long long)v);
	c->count = 1ull << v;
	v = kdx_kfield_u(t, &size_bits);
	if (v > MAX_SIZE_BITS)
		return kdx_error_create(KDX_ERR_FORMAT, "printk ring at %llx: size_bits %llu is corrupt",
					(unsigned long long)prb, (unsigned long long)v);
	c->data_size = 1ull << v;
	c->head_id = kdx_kfield_u(d, &head);
	c->tail_id = kdx_kfield_u(d, &tail);

	c->descs = malloc(c->count * c->desc_size);
	c->infos = malloc(c->count * c->info_size);
	c->data = malloc(c->data_size);
	if (!c->descs || !c->infos || !c->data)
		return kdx_error_nomem();
	addr = kdx_kfield_u(d, &descs);
	if ((err = kdx_read(s, addr, c->descs, c->count * c->desc_size)))
		return kdx_error_prefix(err, "printk descriptors at %llx", (unsigned long long)addr);
	addr = kdx_kfield_u(d, &infos);
	if ((err = kdx_read(s, addr, c->infos, c->count * c->info_size)))
		return kdx_error_prefix(err, "printk infos at %llx", (unsigned long long)addr);
	addr = kdx_kfield_u(t, &data);
	if ((err = kdx_read(s, addr, c->data, c->data_size)))
		return kdx_error_prefix(err, "printk text ring at %llx", (unsigned long long)addr);
	return NULL;
}

static struct kdx_error *cache_get(struct kdx_session *s, struct printk_cache **ret)
{
	return kdx_kernel_cached(s, KDX_SLOT_PRINTK, sizeof(**ret), load, cache_destroy, (void **)ret);
}

/* Decode descriptor ID into R; 0 if it holds no complete record. */
static int get_record(struct printk_cache *c, uint64_t id, struct kdx_printk_record *r)
{
	uint64_t idx = id & (c->count - 1);
	const unsigned char *desc = c->descs + idx * c->desc_size;
	const unsigned char *info = c->infos + idx * c->info_size;
	uint64_t sv = kdx_kfield_u(desc, &c->sv);
	uint64_t state = sv >> DESC_STATE_SHIFT;

	if ((sv & DESC_ID_MASK) != (id & DESC_ID_MASK))
		return 0;
	if (state != DESC_COMMITTED && state != DESC_FINALIZED)
		return 0;
	memset(r, 0, sizeof(*r));
	r->seq = kdx_kfield_u(info, &c->seq);
	r->ts_nsec = kdx_kfield_u(info, &c->ts);
	r->facility = (int)kdx_kfield_u(info, &c->facility);
	r->caller_id = (uint32_t)kdx_kfield_u(info, &c->caller_id);
	if (c->lvl.ok) {
		unsigned byte = info[c->lvl.off];
		r->level = (int)((byte >> c->lvl.size) & ((1u << c->lvl.ok) - 1));
	}
	size_t text_len = (size_t)kdx_kfield_u(info, &c->text_len);
	if (c->subsys.ok && c->subsys.off + c->subsys.size <= c->info_size) {
		size_t n = c->subsys.size < sizeof(r->subsystem) ? c->subsys.size : sizeof(r->subsystem) - 1;
		memcpy(r->subsystem, info + c->subsys.off, n);
		r->subsystem[n < sizeof(r->subsystem) ? n : sizeof(r->subsystem) - 1] = 0;
	}
	if (c->device.ok && c->device.off + c->device.size <= c->info_size) {
		size_t n = c->device.size < sizeof(r->device) ? c->device.size : sizeof(r->device) - 1;
		memcpy(r->device, info + c->device.off, n);
		r->device[n < sizeof(r->device) ? n : sizeof(r->device) - 1] = 0;
	}

	uint64_t begin = kdx_kfield_u(desc, &c->begin), next = kdx_kfield_u(desc, &c->next);
	r->text = "";
	if ((begin & 1) || (next & 1) || begin == next)
		return 1;           /* data-less record (empty line or failed reservation) */
	uint64_t mask = c->data_size - 1, size_bits = 0;
	while ((1ull << size_bits) < c->data_size)
		size_bits++;
	uint64_t bi = begin & mask, ni = next & mask, len;
	if ((begin >> size_bits) == (next >> size_bits) && bi < ni) {
		len = ni - bi;
	} else {
		/* wrapped: the block is at the start of the ring */
		bi = 0;
		len = ni;
	}
	if (len < 8 || bi + len > c->data_size)
		return 1;
	r->text = (const char *)c->data + bi + 8;   /* skip the block's id */
	len -= 8;
	r->text_len = text_len < len ? text_len : (size_t)len;
	return 1;
}

struct kdx_error *kdx_printk_for_each(struct kdx_session *s, kdx_printk_fn fn, void *arg)
{
	struct printk_cache *c = NULL;
	struct kdx_error *err = cache_get(s, &c);
	struct kdx_printk_record r;
	uint64_t n = 0;

	if (err)
		return err;
	for (uint64_t id = c->tail_id;; id = (id + 1) & DESC_ID_MASK) {
		if (kdx_interrupted(s))
			return kdx_error_create(KDX_ERR_INTERRUPTED, "interrupted");
		if (get_record(c, id, &r) && fn(s, &r, arg))
			break;
		if (id == (c->head_id & DESC_ID_MASK) || ++n > c->count)
			break;
	}
	return NULL;
}

/*
 * Finding the panic message. The panic point is the last "Kernel panic -
 * not syncing: MSG" record. A SysRq crash (MSG "sysrq triggered crash")
 * is named by its "sysrq: Trigger a crash" line, an oops that panicked
 * (MSG "Fatal exception...") by the first line of that oops report
 * ("kernel BUG at", "BUG: ", "general protection fault", else "Oops: ").
 * With kdump loaded an oops goes to the capture kernel without a panic
 * line: then the last oops report names it.
 */
struct line_at {
	char text[512];
	uint64_t n;             /* record number */
	int set;
};

struct kdx_panic_scan {
	uint64_t n;
	struct line_at panic, sysrq, start, report, bug;
};

/* Does the record's text start with PFX (after leading blanks)? */
static int find_at(const char *t, size_t n, const char *pfx, size_t *at)
{
	size_t l = strlen(pfx), i = 0;

	while (i < n && (t[i] == ' ' || t[i] == '\t'))
		i++;
	if (i + l <= n && !memcmp(t + i, pfx, l)) {
		*at = i;
		return 1;
	}
	return 0;
}

static int is_die_line(const char *t, size_t n)
{
	for (size_t i = 0; i + 10 <= n && t[i] != '\n'; i++)
		if (t[i] == ':' && t[i + 1] == ' ' && isxdigit((unsigned char)t[i + 2]) &&
		    isxdigit((unsigned char)t[i + 5]) && t[i + 6] == ' ' && t[i + 7] == '[' &&
		    t[i + 8] == '#' && isdigit((unsigned char)t[i + 9]))
			return 1;
	return 0;
}

static void keep(struct line_at *l, const struct kdx_printk_record *r, size_t at, uint64_t n)
{
	size_t len = r->text_len - at, i;

	if (len >= sizeof(l->text))
		len = sizeof(l->text) - 1;
	for (i = 0; i < len && r->text[at + i] != '\n'; i++)
		l->text[i] = r->text[at + i];
	l->text[i] = 0;
	while (i > 0 && l->text[i - 1] == ' ')
		l->text[--i] = 0;
	l->n = n;
	l->set = 1;
}

void kdx_panic_scan_feed(struct kdx_panic_scan *p, const struct kdx_printk_record *r)
{
	static const char *const sysrq[] = {
		"sysrq: Trigger a crash", "SysRq : Trigger a crash", "SysRq : Crash",
	};
	static const char *const starts[] = {
		"kernel BUG at", "BUG: ", "general protection fault",
	};
	size_t at;

	p->n++;
	if (find_at(r->text, r->text_len, "Kernel panic - not syncing:", &at)) {
		keep(&p->panic, r, at, p->n);
		return;
	}
	for (size_t k = 0; k < sizeof(sysrq) / sizeof(sysrq[0]); k++)
		if (find_at(r->text, r->text_len, sysrq[k], &at)) {
			keep(&p->sysrq, r, at, p->n);
			return;
		}
	for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
		if (find_at(r->text, r->text_len, starts[k], &at)) {
			keep(&p->start, r, at, p->n);
			keep(&p->bug, r, at, p->n);
			if (is_die_line(r->text, r->text_len))
				p->report = p->start;   /* "general protection fault...: 0000 [#1]" */
			return;
		}
	/* die(): "Oops: 0002 [#1] SMP", "invalid opcode: 0000 [#1] PREEMPT SMP" */
	if (is_die_line(r->text, r->text_len)) {
		at = 0;
		/* the report began a few records earlier, if at all */
		if (p->start.set && p->n - p->start.n <= 6)
			p->report = p->start;
		else
			keep(&p->report, r, at, p->n);
		p->report.n = p->n;
	}
}

static int panic_fn(struct kdx_session *s, const struct kdx_printk_record *r, void *arg)
{
	(void)s;
	kdx_panic_scan_feed(arg, r);
	return 0;
}

struct kdx_panic_scan *kdx_panic_scan_new(void)
{
	return calloc(1, sizeof(struct kdx_panic_scan));
}

void kdx_panic_scan_free(struct kdx_panic_scan *p)
{
	free(p);
}

const char *kdx_panic_scan_result(struct kdx_panic_scan *p)
{
	if (p->panic.set) {
		const char *why = strchr(p->panic.text, ':');
		why = why ? why + 1 : "";
		while (*why == ' ')
			why++;
		if (p->sysrq.set && p->sysrq.n < p->panic.n && strstr(why, "sysrq"))
			return p->sysrq.text;
		if (!strncmp(why, "Fatal exception", 15) && p->report.set && p->report.n < p->panic.n)
			return p->report.text;
		return p->panic.text;
	}
	if (p->sysrq.set)
		return p->sysrq.text;
	if (p->report.set)
		return p->report.text;
	if (p->bug.set)
		return p->bug.text;
	return "";
}



struct kdx_error *kdx_printk_panic_message(struct kdx_session *s, char *buf, size_t len)
{
	struct kdx_panic_scan *p = kdx_panic_scan_new();
	struct kdx_error *err;

	if (!p)
		return kdx_error_nomem();
	if (len)
		buf[0] = 0;
	err = kdx_printk_for_each(s, panic_fn, p);
	if (!err && len) {
		strncpy(buf, kdx_panic_scan_result(p), len - 1);
		buf[len - 1] = 0;
	}
	kdx_panic_scan_free(p);
	return err;
}
