/*
 * Target opening (format detection by content), VMCOREINFO lookups, the
 * shared page cache and small helpers used by every format.
 */
#include "targets/target.h"
#include "targets/target_internal.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KCORE_PATH "/proc/kcore"

enum dump_kind { KIND_NONE, KIND_ELF, KIND_KDUMP, KIND_FLAT, KIND_KCORE };

/* Classify by the first bytes of the file. */
static enum dump_kind classify(const unsigned char *b, size_t n)
{
	if (n >= sizeof(Elf64_Ehdr) && memcmp(b, ELFMAG, SELFMAG) == 0) {
		const Elf64_Ehdr *eh = (const void *)b;
		if (b[EI_CLASS] == ELFCLASS64 && eh->e_type == ET_CORE)
			return KIND_ELF;
		return KIND_NONE;
	}
	if (n >= 8 && memcmp(b, "KDUMP   ", 8) == 0)
		return KIND_KDUMP;
	if (n >= 12 && memcmp(b, "makedumpfile", 12) == 0)
		return KIND_FLAT;
	return KIND_NONE;
}

/* A whole-file compressor's magic (a vmcore.gz as copied off a machine). */
static const char *compressed_by(const unsigned char *b, size_t n)
{
	if (n >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return "gzip";
	if (n >= 6 && !memcmp(b, "\xfd" "7zXZ\0", 6))
		return "xz";
	if (n >= 4 && !memcmp(b, "\x28\xb5\x2f\xfd", 4))
		return "zstd";
	if (n >= 3 && !memcmp(b, "BZh", 3))
		return "bzip2";
	return NULL;
}

static int is_kcore_path(const char *path)
{
	struct stat a, b;
	if (strcmp(path, KCORE_PATH) == 0)
		return 1;
	if (stat(path, &a) < 0 || stat(KCORE_PATH, &b) < 0)
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int kdx_target_probe_file(const char *path)
{
	unsigned char b[sizeof(Elf64_Ehdr)];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = pread(fd, b, sizeof(b), 0);
	close(fd);
	if (n <= 0)
		return 0;
	/* A compressed file is claimed too, so that opening it says to
	 * decompress it first rather than trying it as a vmlinux. */
	return classify(b, n) != KIND_NONE || compressed_by(b, n) != NULL;
}

struct kdx_error *kdx_target_open(const char *path, struct kdx_target **ret)
{
	unsigned char b[sizeof(Elf64_Ehdr)];
	struct kdx_error *err;
	enum dump_kind kind;

	if (!path)
		path = KCORE_PATH;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EACCES && is_kcore_path(path))
			return kdx_error_create(KDX_ERR_IO,
				"cannot open %s: %s (reading the live kernel needs root)",
				path, strerror(errno));
		if (errno == ENOENT && strcmp(path, KCORE_PATH) == 0)
			return kdx_error_create(KDX_ERR_IO,
				"cannot open %s: this kernel has none (CONFIG_PROC_KCORE off, or /proc"
				" not mounted): give a dump file to analyze", path);
		return kdx_error_create(KDX_ERR_IO, "cannot open %s: %s", path, strerror(errno));
	}
	ssize_t n = pread(fd, b, sizeof(b), 0);
	if (n < 0) {
		int e = errno;
		close(fd);
		return kdx_error_create(KDX_ERR_IO, "cannot read %s: %s", path, strerror(e));
	}
	kind = classify(b, n);
	if (kind == KIND_ELF && is_kcore_path(path))
		kind = KIND_KCORE;
	if (kind == KIND_NONE) {
		close(fd);
		const char *packer = compressed_by(b, n);
		if (packer)
			return kdx_error_create(KDX_ERR_FORMAT,
				"%s is compressed with %s: decompress it first (e.g. %s -dk %s)",
				path, packer, packer, path);
		return kdx_error_create(KDX_ERR_FORMAT,
			"%s is not a kernel dump (not ELF core, kdump-compressed or makedumpfile flattened)",
			path);
	}

	struct kdx_target *t = calloc(1, sizeof(*t));
	if (!t) {
		close(fd);
		return kdx_error_nomem();
	}
	t->path = strdup(path);
	t->page_size = 4096;
	t->panic_cpu = -1;
	t->dump_level = -1;
	if (!t->path) {
		free(t);
		close(fd);
		return kdx_error_nomem();
	}
	switch (kind) {
	case KIND_KCORE:
		err = kdx_kcore_open(t, fd);
		break;
	case KIND_FLAT:
		err = kdx_flat_open(t, fd);
		break;
	default:
		err = kdx_kdump_open(t, fd);
		break;
	}
	if (err) {
		/* Openers set ops only once priv is valid, so close is safe. */
		kdx_target_close(t);
		return err;
	}
	*ret = t;
	return NULL;
}

void kdx_target_close(struct kdx_target *t)
{
	if (!t)
		return;
	if (t->ops && t->ops->close)
		t->ops->close(t);
	free(t->path);
	free(t->vmcoreinfo);
	free(t->cpus);
	free(t);
}

struct kdx_error *kdx_target_cpus_reserve(struct kdx_target *t, unsigned n)
{
	if (n < t->ncpus)
		return NULL;
	struct kdx_cpu_regs *c = realloc(t->cpus, (n + 1) * sizeof(*c));
	if (!c)
		return kdx_error_nomem();
	memset(c + t->ncpus, 0, (n + 1 - t->ncpus) * sizeof(*c));
	t->cpus = c;
	t->ncpus = n + 1;
	return NULL;
}

struct kdx_error *kdx_target_set_vmcoreinfo(struct kdx_target *t, const char *text, size_t len)
{
	/* The note descriptor may carry trailing NULs; keep the text only. */
	while (len && text[len - 1] == '\0')
		len--;
	char *s = malloc(len + 1);
	if (!s)
		return kdx_error_nomem();
	memcpy(s, text, len);
	s[len] = '\0';
	free(t->vmcoreinfo);
	t->vmcoreinfo = s;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* VMCOREINFO */

const char *kdx_vmcoreinfo_get(struct kdx_target *t, const char *key, size_t *len)
{
	if (!t || !t->vmcoreinfo || !key)
		return NULL;
	size_t klen = strlen(key);
	const char *p = t->vmcoreinfo;
	while (*p) {
		const char *eol = strchr(p, '\n');
		if (!eol)
			eol = p + strlen(p);
		if ((size_t)(eol - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=') {
			if (len)
				*len = eol - (p + klen + 1);
			return p + klen + 1;
		}
		p = *eol ? eol + 1 : eol;
	}
	return NULL;
}

struct kdx_error *kdx_vmcoreinfo_u64(struct kdx_target *t, const char *key, int base, uint64_t *ret)
{
	size_t len;
	const char *v = kdx_vmcoreinfo_get(t, key, &len);
	if (!v) {
		if (!t || !t->vmcoreinfo)
			return kdx_error_create(KDX_ERR_NOT_FOUND,
				"the dump has no VMCOREINFO (looking for %s)", key);
		return kdx_error_create(KDX_ERR_NOT_FOUND, "VMCOREINFO has no %s", key);
	}
	char tmp[64];
	if (len == 0 || len >= sizeof(tmp))
		return kdx_error_create(KDX_ERR_FORMAT, "VMCOREINFO %s has a bad value", key);
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	char *end;
	errno = 0;
	/* NUMBER() values can be negative (e.g. NUMBER(...)=-1). */
	uint64_t x;
	if (tmp[0] == '-')
		x = (uint64_t)strtoll(tmp, &end, base);
	else
		x = strtoull(tmp, &end, base);
	if (errno || *end)
		return kdx_error_create(KDX_ERR_FORMAT, "VMCOREINFO %s=%s is not a number", key, tmp);
	*ret = x;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Page cache: direct-mapped-by-hash with 2-way choice, LRU-ish. */

struct pcache_entry {
	uint64_t pfn;       /* UINT64_MAX: empty */
	uint64_t stamp;
	unsigned char *data;
};

struct kdx_pcache {
	size_t page_size;
	unsigned nentries;  /* power of two */
	uint64_t clock;
	kdx_pcache_fill_fn fill;
	void *arg;
	struct pcache_entry *e;
	unsigned char *mem;
};

struct kdx_pcache *kdx_pcache_create(size_t page_size, unsigned nentries,
				     kdx_pcache_fill_fn fill, void *arg)
{
	unsigned n = 1;
	while (n < nentries)
		n <<= 1;
	struct kdx_pcache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->page_size = page_size;
	c->nentries = n;
	c->fill = fill;
	c->arg = arg;
	c->e = calloc(n, sizeof(*c->e));
	c->mem = malloc((size_t)n * page_size);
	if (!c->e || !c->mem) {
		kdx_pcache_destroy(c);
		return NULL;
	}
	for (unsigned i = 0; i < n; i++) {
		c->e[i].pfn = UINT64_MAX;
		c->e[i].data = c->mem + (size_t)i * page_size;
	}
	return c;
}

void kdx_pcache_destroy(struct kdx_pcache *c)
{
	if (!c)
		return;
	free(c->e);
	free(c->mem);
	free(c);
}

static unsigned pcache_hash(uint64_t pfn, unsigned mask)
{
	pfn *= 0x9e3779b97f4a7c15ULL;
	return (unsigned)(pfn >> 40) & mask;
}

/* Two candidate slots per pfn: h and h^1 (same cache line pair). */
static struct kdx_error *pcache_get(struct kdx_pcache *c, uint64_t pfn, const unsigned char **data)
{
	unsigned mask = c->nentries - 1;
	unsigned h = pcache_hash(pfn, mask);
	struct pcache_entry *a = &c->e[h], *b = &c->e[h ^ 1];
	c->clock++;
	if (a->pfn == pfn) {
		a->stamp = c->clock;
		*data = a->data;
		return NULL;
	}
	if (b->pfn == pfn) {
		b->stamp = c->clock;
		*data = b->data;
		return NULL;
	}
	struct pcache_entry *v = a->pfn == UINT64_MAX ? a :
		b->pfn == UINT64_MAX ? b : a->stamp <= b->stamp ? a : b;
	v->pfn = UINT64_MAX;
	struct kdx_error *err = c->fill(c->arg, pfn, v->data);
	if (err)
		return err;
	v->pfn = pfn;
	v->stamp = c->clock;
	*data = v->data;
	return NULL;
}

struct kdx_error *kdx_pcache_read(struct kdx_pcache *c, uint64_t paddr, void *buf, size_t len)
{
	unsigned char *out = buf;
	while (len) {
		uint64_t pfn = paddr / c->page_size;
		size_t off = paddr % c->page_size;
		size_t n = c->page_size - off;
		if (n > len)
			n = len;
		const unsigned char *data;
		struct kdx_error *err = pcache_get(c, pfn, &data);
		if (err)
			return err;
		memcpy(out, data + off, n);
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}
