/*
 * makedumpfile's flattened format (makedumpfile -F, QEMU dump-guest-memory
 * -z/-l/-s), read directly, and plain files as kdx_vfiles.
 *
 * A flattened file is a 4096-byte header (the signature "makedumpfile"
 * padded to 16 bytes, then big-endian int64 type = 1 and version = 1),
 * followed by records: a big-endian {int64 offset, int64 size} header and
 * SIZE data bytes that belong at OFFSET of the rearranged kdump-compressed
 * file. offset = size = -1 ends the stream.
 *
 * At open, one pass over the record headers builds an index of pieces
 * sorted by logical offset; where records overlap, the later one wins (as
 * it would when the stream is written out in order). The kdump-compressed
 * reader (diskdump.c) then runs on the logical file.
 */
#include "targets/target.h"
#include "targets/target_internal.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define FLAT_HEADER_SIZE 4096
#define FLAT_SIG "makedumpfile"

/* ------------------------------------------------------------------ */
/* Plain file */

struct fd_vfile {
	struct kdx_vfile vf;
	int fd;
	char *path;
};

static struct kdx_error *fd_pread(struct kdx_vfile *f, uint64_t off, void *buf, size_t len)
{
	struct fd_vfile *v = (struct fd_vfile *)f;
	unsigned char *p = buf;
	while (len) {
		ssize_t n = pread(v->fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kdx_error_create(KDX_ERR_IO, "%s: read at offset %" PRIu64 ": %s",
						v->path, off, strerror(errno));
		}
		if (n == 0)
			return kdx_error_create(KDX_ERR_FORMAT, "%s: offset %" PRIu64
						" is beyond the end of the file (truncated?)", v->path, off);
		p += n;
		off += n;
		len -= n;
	}
	return NULL;
}

static void fd_close(struct kdx_vfile *f)
{
	struct fd_vfile *v = (struct fd_vfile *)f;
	close(v->fd);
	free(v->path);
	free(v);
}

struct kdx_error *kdx_vfile_fd(int fd, const char *path, struct kdx_vfile **ret)
{
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return kdx_error_create(KDX_ERR_IO, "cannot stat %s: %s", path, strerror(e));
	}
	struct fd_vfile *v = calloc(1, sizeof(*v));
	if (!v || !(v->path = strdup(path))) {
		free(v);
		close(fd);
		return kdx_error_nomem();
	}
	v->fd = fd;
	v->vf.pread = fd_pread;
	v->vf.close = fd_close;
	v->vf.size = st.st_size;
	v->vf.path = v->path;
	*ret = &v->vf;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Flattened file */

struct flat_vfile {
	struct kdx_vfile vf;
	int fd;
	char *path;
	struct flat_piece *pieces;
	size_t npieces;
};

/* Last piece starting at or before OFF, or -1. */
static ssize_t flat_find(const struct flat_vfile *v, uint64_t off)
{
	size_t lo = kdx_upper_bound(v->pieces, v->npieces, sizeof(*v->pieces),
				    offsetof(struct flat_piece, off), off);
	return (ssize_t)lo - 1;
}

/*
 * Bytes of the logical file. Ranges no record covers read as zeros, as they
 * would from the rearranged file (makedumpfile -R seeks over them: writers
 * skip e.g. all-zero bitmap blocks); only reads past the logical end fail.
 */
static struct kdx_error *flat_pread(struct kdx_vfile *f, uint64_t off, void *buf, size_t len)
{
	struct flat_vfile *v = (struct flat_vfile *)f;
	unsigned char *p = buf;
	if (off > v->vf.size || len > v->vf.size - off)
		return kdx_error_create(KDX_ERR_FORMAT, "%s: offset %" PRIu64
					" is beyond the end of the rearranged dump (%" PRIu64 " bytes)",
					v->path, off + (off > v->vf.size ? 0 : v->vf.size - off), v->vf.size);
	ssize_t i = flat_find(v, off);
	if (i < 0)
		i = 0;
	else if (off >= v->pieces[i].off + v->pieces[i].size)
		i++;            /* OFF is in the gap after piece i */
	while (len) {
		/* Gap before piece i (or after the last one): zeros. */
		if ((size_t)i >= v->npieces || off < v->pieces[i].off) {
			uint64_t n = (size_t)i < v->npieces ? v->pieces[i].off - off : len;
			if (n > len)
				n = len;
			memset(p, 0, n);
			p += n;
			off += n;
			len -= n;
			continue;
		}
		const struct flat_piece *pc = &v->pieces[i];
		uint64_t n = pc->off + pc->size - off;
		if (n > len)
			n = len;
		uint64_t foff = pc->foff + (off - pc->off);
		size_t done = 0;
		while (done < n) {
			ssize_t r = pread(v->fd, p + done, n - done, foff + done);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return kdx_error_create(KDX_ERR_IO, "%s: read at offset %" PRIu64 ": %s",
							v->path, foff + done,
							r < 0 ? strerror(errno) : "unexpected end of file");
			done += r;
		}
		p += n;
		off += n;
		len -= n;
		i++;
	}
	return NULL;
}

static void flat_close(struct kdx_vfile *f)
{
	struct flat_vfile *v = (struct flat_vfile *)f;
	close(v->fd);
	free(v->path);
	free(v->pieces);
	free(v);
}

static int rec_cmp(const void *a, const void *b)
{
	const struct flat_record *x = a, *y = b;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Max-heap of record indexes by seq (records are sorted by offset). */
struct heap {
	size_t *a;
	size_t n;
};

static void heap_push(struct heap *h, const struct flat_record *r, size_t idx)
{
	size_t i = h->n++;
	h->a[i] = idx;
	while (i && r[h->a[(i - 1) / 2]].seq < r[h->a[i]].seq) {
		size_t p = (i - 1) / 2, t = h->a[p];
		h->a[p] = h->a[i];
		h->a[i] = t;
		i = p;
	}
}

static void heap_pop(struct heap *h, const struct flat_record *r)
{
	h->a[0] = h->a[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < h->n && r[h->a[l]].seq > r[h->a[m]].seq)
			m = l;
		if (l + 1 < h->n && r[h->a[l + 1]].seq > r[h->a[m]].seq)
			m = l + 1;
		if (m == i)
			break;
		size_t t = h->a[m];
		h->a[m] = h->a[i];
		h->a[i] = t;
		i = m;
	}
}

/*
 * Turn records (possibly overlapping) into sorted, disjoint pieces: sweep
 * over all record boundaries; on each elementary interval the covering
 * record with the highest seq wins.
 */
struct kdx_error *kdx_flat_build_pieces(struct flat_record *r, size_t n,
					struct flat_piece **ret, size_t *nret)
{
	*ret = NULL;
	*nret = 0;
	if (n == 0)
		return NULL;
	qsort(r, n, sizeof(*r), rec_cmp);
	int overlap = 0;
	for (size_t i = 1; i < n; i++)
		if (r[i].off < r[i - 1].off + r[i - 1].size)
			overlap = 1;
	struct flat_piece *out = malloc(n * 2 * sizeof(*out) + sizeof(*out));
	if (!out)
		return kdx_error_nomem();
	size_t k = 0;
	if (!overlap) {
		/* Common case: merge records contiguous both logically and in the file. */
		for (size_t i = 0; i < n; i++) {
			if (k && out[k - 1].off + out[k - 1].size == r[i].off &&
			    out[k - 1].foff + out[k - 1].size == r[i].foff) {
				out[k - 1].size += r[i].size;
				continue;
			}
			out[k++] = (struct flat_piece){ r[i].off, r[i].size, r[i].foff };
		}
		*ret = out;
		*nret = k;
		return NULL;
	}
	uint64_t *b = malloc(2 * n * sizeof(*b));
	struct heap h = { malloc(n * sizeof(size_t)), 0 };
	if (!b || !h.a) {
		free(b);
		free(h.a);
		free(out);
		return kdx_error_nomem();
	}
	for (size_t i = 0; i < n; i++) {
		b[2 * i] = r[i].off;
		b[2 * i + 1] = r[i].off + r[i].size;
	}
	qsort(b, 2 * n, sizeof(*b), u64_cmp);
	size_t nb = 0;
	for (size_t i = 0; i < 2 * n; i++)
		if (nb == 0 || b[nb - 1] != b[i])
			b[nb++] = b[i];
	size_t next = 0;
	for (size_t i = 0; i + 1 < nb; i++) {
		uint64_t lo = b[i], hi = b[i + 1];
		while (next < n && r[next].off <= lo)
			heap_push(&h, r, next++);
		while (h.n && r[h.a[0]].off + r[h.a[0]].size <= lo)
			heap_pop(&h, r);
		/* The top may still hide ended records below it; they are popped
		 * when they reach the top. The top itself covers [lo, hi). */
		if (!h.n)
			continue;
		const struct flat_record *w = &r[h.a[0]];
		uint64_t foff = w->foff + (lo - w->off);
		if (k && out[k - 1].off + out[k - 1].size == lo &&
		    out[k - 1].foff + out[k - 1].size == foff) {
			out[k - 1].size += hi - lo;
			continue;
		}
		/* At most 2n-1 elementary intervals: OUT has room. */
		out[k++] = (struct flat_piece){ lo, hi - lo, foff };
	}
	free(b);
	free(h.a);
	*ret = out;
	*nret = k;
	return NULL;
}

static int64_t be64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return (int64_t)be64toh(v);
}

/* ------------------------------------------------------------------ */
/* Index cache: the pieces of a flattened file, keyed by its identity, so
 * that a cold start need not read every record header of a large file. */

#define CACHE_MAGIC "KDXFLAT1"

struct cache_header {
	char magic[8];
	uint64_t dev, ino, size, mtime_sec, mtime_nsec;
	uint64_t npieces, logical_end;
	uint64_t crc;           /* crc32 of the pieces */
};

static char *cache_path(const struct stat *st)
{
	const char *env = getenv("KDX_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char *dir = NULL, *path = NULL;
	if (env && *env)
		dir = strdup(env);
	else if (xdg && *xdg)
		(void)!asprintf(&dir, "%s/kdx", xdg);
	else if (home && *home)
		(void)!asprintf(&dir, "%s/.cache/kdx", home);
	if (!dir)
		return NULL;
	if (asprintf(&path, "%s/flat-%" PRIx64 "-%" PRIx64 "-%" PRIx64 ".idx", dir,
		     (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size) < 0)
		path = NULL;
	free(dir);
	return path;
}

static void cache_header_fill(struct cache_header *h, const struct stat *st)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CACHE_MAGIC, 8);
	h->dev = st->st_dev;
	h->ino = st->st_ino;
	h->size = st->st_size;
	h->mtime_sec = st->st_mtim.tv_sec;
	h->mtime_nsec = st->st_mtim.tv_nsec;
}

/* 1 if a valid index for ST was loaded. */
static int cache_load(const struct stat *st, struct flat_piece **pieces, size_t *n,
		      uint64_t *logical_end)
{
	char *path = cache_path(st);
	FILE *f = path ? fopen(path, "rb") : NULL;
	free(path);
	if (!f)
		return 0;
	struct cache_header h, want;
	cache_header_fill(&want, st);
	int good = fread(&h, sizeof(h), 1, f) == 1 && !memcmp(h.magic, want.magic, 8) &&
		   h.dev == want.dev && h.ino == want.ino && h.size == want.size &&
		   h.mtime_sec == want.mtime_sec && h.mtime_nsec == want.mtime_nsec &&
		   h.npieces < (1ULL << 32);
	/* the cache file holds exactly NPIECES pieces: no huge malloc for a bad count */
	struct stat cst;
	if (good && (fstat(fileno(f), &cst) != 0 ||
		     (uint64_t)cst.st_size != sizeof(h) + h.npieces * sizeof(struct flat_piece)))
		good = 0;
	struct flat_piece *p = good ? malloc((h.npieces + 1) * sizeof(*p)) : NULL;
	if (p && fread(p, sizeof(*p), h.npieces, f) == h.npieces &&
	    crc32(0, (const unsigned char *)p, h.npieces * sizeof(*p)) == h.crc) {
		/* Sanity: sorted, disjoint, inside the file. */
		for (size_t i = 0; i < h.npieces && good; i++)
			good = p[i].size <= h.size && p[i].foff <= h.size - p[i].size &&   /* no wrap */
			       p[i].off + p[i].size >= p[i].off &&
			       (i == 0 || p[i].off >= p[i - 1].off + p[i - 1].size);
		/* the logical end (not covered by the crc) is the last piece's end */
		good = good && h.logical_end == (h.npieces ? p[h.npieces - 1].off + p[h.npieces - 1].size : 0);
	} else {
		good = 0;
	}
	fclose(f);
	if (!good) {
		free(p);
		return 0;
	}
	*pieces = p;
	*n = h.npieces;
	*logical_end = h.logical_end;
	return 1;
}

static void cache_save(const struct stat *st, const struct flat_piece *pieces, size_t n,
		       uint64_t logical_end)
{
	char *path = cache_path(st), *tmp = NULL;
	if (!path)
		return;
	char *slash = strrchr(path, '/');
	if (slash) {
		*slash = '\0';
		mkdir(path, 0755);       /* parent of the cache dir exists: ~/.cache */
		*slash = '/';
	}
	if (asprintf(&tmp, "%s.%d.tmp", path, (int)getpid()) < 0) {
		free(path);
		return;
	}
	FILE *f = fopen(tmp, "wb");
	struct cache_header h;
	cache_header_fill(&h, st);
	h.npieces = n;
	h.logical_end = logical_end;
	/* no pieces (a stream with only the end marker): PIECES may be NULL,
	 * which crc32() and fwrite() must not see */
	h.crc = n ? crc32(0, (const unsigned char *)pieces, n * sizeof(*pieces)) : 0;
	int good = f && fwrite(&h, sizeof(h), 1, f) == 1 &&
		   (n == 0 || fwrite(pieces, sizeof(*pieces), n, f) == n);
	if (f && fclose(f) != 0)
		good = 0;
	if (!good || rename(tmp, path) != 0)
		unlink(tmp);
	free(tmp);
	free(path);
}

/* One pass over the record headers: the pieces and the logical size. */
static struct kdx_error *flat_index(int fd, const char *path, uint64_t fsize,
				    struct flat_piece **pieces, size_t *npieces, uint64_t *end)
{
	struct kdx_error *err = NULL;
	struct flat_record *recs = NULL;
	size_t nrec = 0, cap = 0;
	uint64_t pos = FLAT_HEADER_SIZE, logical_end = 0;
	int ended = 0;

	while (pos + 16 <= fsize) {
		unsigned char rh[16];
		if (pread(fd, rh, 16, pos) != 16) {
			err = kdx_error_create(KDX_ERR_IO, "%s: reading record at %" PRIu64 ": %s",
					       path, pos, strerror(errno));
			goto out;
		}
		int64_t off = be64(rh), size = be64(rh + 8);
		if (off == -1 && size == -1) {
			ended = 1;
			break;
		}
		if (off < 0 || size < 0) {
			err = kdx_error_create(KDX_ERR_FORMAT, "%s: corrupt flattened record at byte %"
					       PRIu64 " (offset %" PRId64 ", size %" PRId64 ")",
					       path, pos, off, size);
			goto out;
		}
		if (pos + 16 + (uint64_t)size > fsize) {
			err = kdx_error_create(KDX_ERR_FORMAT, "%s is truncated: the flattened record at byte %"
					       PRIu64 " needs %" PRIu64 " bytes, the file has %" PRIu64
					       " (incomplete copy?)", path, pos, pos + 16 + size, fsize);
			goto out;
		}
		if (size) {
			if (nrec == cap) {
				cap = cap ? 2 * cap : 1024;
				struct flat_record *nr = realloc(recs, cap * sizeof(*recs));
				if (!nr) {
					err = kdx_error_nomem();
					goto out;
				}
				recs = nr;
			}
			recs[nrec] = (struct flat_record){ off, size, pos + 16, nrec };
			nrec++;
			if ((uint64_t)off + size > logical_end)
				logical_end = off + size;
		}
		pos += 16 + size;
	}
	if (!ended) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s is truncated: the flattened stream ends at byte %"
				       PRIu64 " without its end marker (incomplete copy?)", path, pos);
		goto out;
	}
	err = kdx_flat_build_pieces(recs, nrec, pieces, npieces);
	*end = logical_end;
out:
	free(recs);
	return err;
}

struct kdx_error *kdx_vfile_flat(int fd, const char *path, struct kdx_vfile **ret)
{
	struct kdx_error *err = NULL;
	unsigned char hdr[32];
	struct stat st;

	if (fstat(fd, &st) < 0) {
		err = kdx_error_create(KDX_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
		goto fail;
	}
	uint64_t fsize = st.st_size;
	if (pread(fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    memcmp(hdr, FLAT_SIG, strlen(FLAT_SIG)) != 0) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s: no makedumpfile signature", path);
		goto fail;
	}
	int64_t type = be64(hdr + 16);
	if (type != 1) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s: makedumpfile header type %" PRId64
				       " is not the flattened format (1)", path, type);
		goto fail;
	}
	if (fsize < FLAT_HEADER_SIZE) {
		err = kdx_error_create(KDX_ERR_FORMAT, "%s is truncated: shorter than the "
				       "flattened header", path);
		goto fail;
	}

	struct flat_vfile *v = calloc(1, sizeof(*v));
	if (!v || !(v->path = strdup(path))) {
		free(v);
		err = kdx_error_nomem();
		goto fail;
	}
	uint64_t logical_end = 0;
	/* Small files index about as fast as a cache file loads
	 * (KDX_FLAT_CACHE_MIN: threshold in bytes, for tests). */
	const char *min = getenv("KDX_FLAT_CACHE_MIN");
	uint64_t threshold = min ? strtoull(min, NULL, 0) : 32u << 20;
	int use_cache = fsize >= threshold && !getenv("KDX_NO_CACHE");
	if (!use_cache || !cache_load(&st, &v->pieces, &v->npieces, &logical_end)) {
		err = flat_index(fd, path, fsize, &v->pieces, &v->npieces, &logical_end);
		if (err) {
			free(v->pieces);
			free(v->path);
			free(v);
			goto fail;
		}
		if (use_cache)
			cache_save(&st, v->pieces, v->npieces, logical_end);
	}
	v->fd = fd;
	v->vf.pread = flat_pread;
	v->vf.close = flat_close;
	v->vf.size = logical_end;
	v->vf.path = v->path;
	*ret = &v->vf;
	return NULL;

fail:
	close(fd);
	return err;
}

struct kdx_error *kdx_flat_open(struct kdx_target *t, int fd)
{
	struct kdx_vfile *vf;
	struct kdx_error *err = kdx_vfile_flat(fd, t->path, &vf);
	if (err)
		return err;
	return kdx_diskdump_open(t, vf, "flattened kdump");
}
