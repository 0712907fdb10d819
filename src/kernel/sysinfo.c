#include "kernel/sysinfo.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "session.h"
#include "kernel/kread.h"
#include "kernel/tasks.h"
#include "symbols/types.h"
#include "targets/target.h"

/* tk_core is `static struct { seqcount; struct timekeeper timekeeper; }`:
 * an anonymous type, so find the member through the variable's type. */
static struct kdx_error *tk_field(struct kdx_session *s, const char *path, uint64_t *ret)
{
	struct kdx_type *t, *mt;
	uint64_t dw, addr, bitoff;
	uint32_t bitsize;
	struct kdx_error *err;

	if ((err = kdx_variable_find(s->types, "tk_core", &t, &dw)) ||
	    (err = kdx_type_member(s->types, t, path, &mt, &bitoff, &bitsize)) ||
	    (err = kdx_kvar(s, "tk_core", &addr)))
		return err;
	mt = kdx_type_unqualified(mt);
	return kdx_read_uint(s, addr + bitoff / 8, mt && mt->size ? mt->size : 8, ret);
}

struct kdx_error *kdx_crash_time(struct kdx_session *s, int64_t *sec)
{
	uint64_t v;
	struct kdx_error *err;

	if (s->target && s->target->crash_time > 0 && !s->target->live) {
		*sec = s->target->crash_time;
		return NULL;
	}
	if (s->target && s->target->live) {
		*sec = time(NULL);
		return NULL;
	}
	err = tk_field(s, "timekeeper.xtime_sec", &v);
	if (err)
		return kdx_error_prefix(err, "crash time");
	*sec = (int64_t)v;
	return NULL;
}

struct kdx_error *kdx_uptime_ns(struct kdx_session *s, uint64_t *ns)
{
	uint64_t base, boot = 0;
	struct kdx_error *err = tk_field(s, "timekeeper.tkr_mono.base", &base);

	if (err)
		return kdx_error_prefix(err, "uptime");
	kdx_error_destroy(tk_field(s, "timekeeper.offs_boot", &boot));
	*ns = base + boot;
	/* The timekeeper is updated at ticks (and not at all while a NOHZ CPU
	 * idles); the runqueue clocks (sched_clock, ns since boot) are often
	 * more recent. Take the latest. */
	struct kdx_kfield clk;
	if (kdx_ok(kdx_kmember(s, "rq", "clock", &clk))) {
		for (int cpu = 0; cpu < kdx_cpu_count(s); cpu++) {
			uint64_t rq, v;
			if (!kdx_cpu_present(s, cpu) ||
			    !kdx_ok(kdx_percpu_addr(s, "runqueues", cpu, &rq)) ||
			    !kdx_ok(kdx_read_u64(s, rq + clk.off, &v)))
				continue;
			if (v > *ns && v < *ns + 3600ull * 1000000000ull)
				*ns = v;
		}
	}
	return NULL;
}

struct kdx_error *kdx_boot_time(struct kdx_session *s, int64_t *sec)
{
	uint64_t w2m, boot = 0;
	struct kdx_error *err = tk_field(s, "timekeeper.wall_to_monotonic.tv_sec", &w2m);

	if (err)
		return kdx_error_prefix(err, "boot time");
	kdx_error_destroy(tk_field(s, "timekeeper.offs_boot", &boot));
	/* monotonic = realtime + wall_to_monotonic; boottime adds offs_boot */
	*sec = -(int64_t)w2m - (int64_t)(boot / 1000000000ull);
	return NULL;
}

char *kdx_format_date(int64_t sec, char *buf, size_t len)
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!localtime_r(&t, &tm) || !strftime(buf, len, "%a %b %e %H:%M:%S %Z %Y", &tm))
		snprintf(buf, len, "%lld", (long long)sec);
	return buf;
}

struct kdx_error *kdx_utsname(struct kdx_session *s, const char *field, char *buf, size_t len)
{
	struct kdx_kfield f, name;
	uint64_t addr;
	struct kdx_error *err;
	char tmp[128];

	if ((err = kdx_kmember(s, "uts_namespace", "name", &name)) ||
	    (err = kdx_kmember(s, "new_utsname", field, &f)) ||
	    (err = kdx_kvar(s, "init_uts_ns", &addr)))
		return err;
	size_t n = f.size < sizeof(tmp) ? f.size : sizeof(tmp);
	err = kdx_read(s, addr + name.off + f.off, tmp, n);
	if (err)
		return kdx_error_prefix(err, "init_uts_ns.name.%s", field);
	tmp[n ? n - 1 : 0] = 0;
	snprintf(buf, len, "%s", tmp);
	return NULL;
}

uint64_t kdx_memory_size(struct kdx_session *s)
{
	struct kdx_kfield present;
	struct kdx_type *t;
	uint64_t dw, addr, total = 0, psz = s->target && s->target->page_size ? s->target->page_size : 4096;
	struct kdx_error *err;

	if ((err = kdx_kmember(s, "pglist_data", "node_present_pages", &present))) {
		kdx_error_destroy(err);
		return kdx_totalram_pages(s) * psz;
	}
	err = kdx_variable_find(s->types, "node_data", &t, &dw);
	if (!err)
		err = kdx_kvar(s, "node_data", &addr);
	if (!err) {
		t = kdx_type_unqualified(t);
		uint64_t n = t->kind == KDX_TYPE_ARRAY ? t->nelem : 1;
		for (uint64_t i = 0; i < n && i < 1024; i++) {
			uint64_t pg = 0, v = 0;
			kdx_error_destroy(kdx_read_u64(s, addr + 8 * i, &pg));
			if (pg)
				kdx_error_destroy(kdx_read_u64(s, pg + present.off, &v));
			total += v;
		}
	} else {
		uint64_t v;
		kdx_error_destroy(err);
		err = kdx_kvar(s, "contig_page_data", &addr);
		if (!err)
			err = kdx_read_u64(s, addr + present.off, &v);
		if (!err)
			total = v;
		kdx_error_destroy(err);
	}
	if (!total)
		total = kdx_totalram_pages(s);
	return total * psz;
}
