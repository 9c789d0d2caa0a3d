/* ofile: an open file's content as OFILE_CHUNK-sized chunks. A chunk is
 * loaded from where its committed content lives (the base refs, blocks this
 * client stored but has not committed yet, or nothing: a hole), and a chunk
 * that was written is stored again as a whole: one 4+2 stripe when full. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ofile.h"

static int64_t mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

enum { SRC_BASE, SRC_NEW, SRC_ZERO };

struct chunk {
	uint8_t *buf;           /* OFILE_CHUNK bytes while loaded */
	int src;                /* where the content comes from when not loaded */
	int dirty;              /* buf holds changes not stored yet */
	uint32_t mlo, mhi;      /* bytes written since the last commit */
	struct record_refs nrefs; /* SRC_NEW: stored, not committed */
	int64_t stored_at;      /* SRC_NEW: when (monotonic seconds) */
	uint64_t used;          /* LRU tick */
};

struct ofile {
	struct blockclient *bc;
	struct ofile_store_policy pol;
	uint64_t size;          /* as this client sees it */
	uint64_t base_size;     /* of the committed version */
	uint8_t *bdata;         /* committed inline content (base_size bytes) */
	struct record_refs base; /* committed refs, all pages */
	struct chunk *c;
	size_t nc;
	size_t loaded;
	uint64_t tick;
	int changed;            /* anything since the last commit */
	int trunc;              /* shrunk since the last commit, */
	uint64_t trunc_to;      /*   to this size at the least */
	int app, nonapp;        /* O_APPEND / other writes since the commit */
	uint64_t app_lo, app_hi; /* the O_APPEND bytes */
	uint64_t next_read;     /* where a sequential reader goes next */
	int stored_inline;      /* the last ofile_store gave inline bytes */
	uint8_t inl[RECORD_INLINE_MAX + 1];
};

static size_t nchunks(uint64_t size)
{
	return (size_t)((size + OFILE_CHUNK - 1) / OFILE_CHUNK);
}

static int refs_copy(struct record_refs *dst, const struct record_refs *src, struct err *e)
{
	for (size_t i = 0; src != NULL && i < src->n; i++) {
		int r = record_refs_add_ref(dst, &src->v[i], e);

		if (r < 0)
			return r;
	}
	return 0;
}

static int chunks_ensure(struct ofile *of, size_t n)
{
	struct chunk *v;

	if (n <= of->nc)
		return 0;
	if (n > SIZE_MAX / sizeof(*v))
		return -EFBIG;
	v = realloc(of->c, n * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	memset(v + of->nc, 0, (n - of->nc) * sizeof(*v));
	of->c = v;
	of->nc = n;
	return 0;
}

static void chunk_drop(struct ofile *of, struct chunk *c)
{
	if (c->buf != NULL) {
		free(c->buf);
		c->buf = NULL;
		of->loaded--;
	}
	c->dirty = 0;
}

/* Read the part of ref that overlaps [lo, lo + OFILE_CHUNK) into buf. */
static int ref_into(struct ofile *of, const struct record_ref *f, uint64_t lo, uint8_t *buf,
		    struct err *e)
{
	uint64_t hi = lo + OFILE_CHUNK, a, b;
	uint8_t *tmp;
	int r;

	if (f->off >= lo && f->off + f->len <= hi)
		return blockclient_read_ref(of->bc, f, buf + (f->off - lo), e);
	if ((tmp = malloc((size_t)f->len)) == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	r = blockclient_read_ref(of->bc, f, tmp, e);
	a = f->off > lo ? f->off : lo;
	b = f->off + f->len < hi ? f->off + f->len : hi;
	if (r == 0)
		memcpy(buf + (a - lo), tmp + (a - f->off), (size_t)(b - a));
	free(tmp);
	return r;
}

static int refs_into(struct ofile *of, const struct record_refs *refs, uint64_t lo, uint8_t *buf,
		     struct err *e)
{
	for (size_t j = 0; j < refs->n; j++) {
		const struct record_ref *f = &refs->v[j];
		int r;

		if (f->off >= lo + OFILE_CHUNK || f->off + f->len <= lo)
			continue;
		if ((r = ref_into(of, f, lo, buf, e)) < 0)
			return r;
	}
	return 0;
}

/* Chunk i's content from its source into buf (zeroed by the caller). */
static int chunk_fill(struct ofile *of, size_t i, uint8_t *buf, struct err *e)
{
	struct chunk *c = &of->c[i];
	uint64_t lo = (uint64_t)i * OFILE_CHUNK;

	if (c->src == SRC_ZERO)
		return 0;
	if (c->src == SRC_NEW)
		return refs_into(of, &c->nrefs, lo, buf, e);
	if (of->bdata != NULL && i == 0)
		memcpy(buf, of->bdata, (size_t)of->base_size);
	return refs_into(of, &of->base, lo, buf, e);
}

static int all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Store loaded chunk i as new blocks (a hole when it is all zeros). */
static int chunk_store(struct ofile *of, size_t i, struct err *e)
{
	struct chunk *c = &of->c[i];
	uint64_t lo = (uint64_t)i * OFILE_CHUNK;
	size_t len = lo >= of->size ? 0
		     : (size_t)(of->size - lo < OFILE_CHUNK ? of->size - lo : OFILE_CHUNK);
	struct record_refs nr = { 0 };
	struct blockclient_policy p = { .rep = of->pol.rep };
	int r = 0;

	if (len > 0 && !all_zero(c->buf, len)) {
		if (len == OFILE_CHUNK && of->pol.k > 0) {
			p.k = of->pol.k;
			p.m = of->pol.m;
			p.block = OFILE_CHUNK / of->pol.k;
		}
		r = blockclient_write(of->bc, c->buf, len, lo, &p, &nr, e);
		if (r == -ENOSPC && p.k > 0) {   /* fewer than k+m writable nodes */
			record_refs_release(&nr);
			p = (struct blockclient_policy){ .rep = of->pol.rep };
			r = blockclient_write(of->bc, c->buf, len, lo, &p, &nr, e);
		}
		if (r < 0) {
			record_refs_release(&nr);
			return r;
		}
	}
	record_refs_release(&c->nrefs);
	c->nrefs = nr;
	c->src = nr.n > 0 ? SRC_NEW : SRC_ZERO;
	c->stored_at = mono_sec();
	c->dirty = 0;
	return 0;
}

/* Chunk jobs run in parallel threads: each touches only its own chunk and
 * the thread-safe block client. */
struct job {
	struct ofile *of;
	size_t i;
	int store;              /* store it, else fill its (zeroed) buffer */
	int r;
	struct err e;
	pthread_t t;
};

static void *job_run(void *arg)
{
	struct job *j = arg;

	j->r = j->store ? chunk_store(j->of, j->i, &j->e)
			: chunk_fill(j->of, j->i, j->of->c[j->i].buf, &j->e);
	return NULL;
}

/* Run the jobs, OFILE_PARALLEL at a time; the first error wins. */
static int jobs_run(struct job *v, size_t n, struct err *e)
{
	int r = 0;

	for (size_t a = 0; a < n; a += OFILE_PARALLEL) {
		size_t b = a + OFILE_PARALLEL < n ? a + OFILE_PARALLEL : n;

		for (size_t k = a; k < b; k++)
			if (pthread_create(&v[k].t, NULL, job_run, &v[k]) != 0)
				job_run(&v[k]), v[k].t = 0;
		for (size_t k = a; k < b; k++) {
			if (v[k].t != 0)
				pthread_join(v[k].t, NULL);
			if (v[k].r < 0 && r == 0) {
				r = v[k].r;
				err_set(e, r, "%s", v[k].e.msg);
			}
		}
	}
	return r;
}

/* Store every dirty loaded chunk, in parallel. */
static int store_dirty(struct ofile *of, struct err *e)
{
	struct job *v = NULL;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < of->nc; i++)
		n += of->c[i].buf != NULL && of->c[i].dirty;
	if (n == 0)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	n = 0;
	for (size_t i = 0; i < of->nc; i++)
		if (of->c[i].buf != NULL && of->c[i].dirty)
			v[n++] = (struct job){ .of = of, .i = i, .store = 1 };
	r = jobs_run(v, n, e);
	free(v);
	return r;
}

/* Free the least recently used buffer, storing it first if dirty. */
static int evict(struct ofile *of, struct err *e)
{
	size_t best = SIZE_MAX, bestd = SIZE_MAX;
	int r;

	for (size_t i = 0; i < of->nc; i++) {
		struct chunk *c = &of->c[i];

		if (c->buf == NULL)
			continue;
		if (!c->dirty && (best == SIZE_MAX || c->used < of->c[best].used))
			best = i;
		if (c->dirty && (bestd == SIZE_MAX || c->used < of->c[bestd].used))
			bestd = i;
	}
	if (best == SIZE_MAX) {
		if (bestd == SIZE_MAX)
			return 0;
		/* all dirty (a big write): store them all at once, in parallel */
		if ((r = store_dirty(of, e)) < 0)
			return r;
		best = bestd;
	}
	chunk_drop(of, &of->c[best]);
	return 0;
}

/* Make chunk i loaded. fill = 0: the caller overwrites all of it. */
static int chunk_load(struct ofile *of, size_t i, int fill, struct err *e)
{
	struct chunk *c;
	int r;

	if ((r = chunks_ensure(of, i + 1)) < 0)
		return err_set(e, r, "file too large");
	c = &of->c[i];
	c->used = ++of->tick;
	if (c->buf != NULL)
		return 0;
	while (of->loaded >= OFILE_LOADED_MAX)
		if ((r = evict(of, e)) < 0)
			return r;
	if ((c->buf = calloc(1, OFILE_CHUNK)) == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	of->loaded++;
	if (fill && (r = chunk_fill(of, i, c->buf, e)) < 0) {
		chunk_drop(of, c);
		return r;
	}
	return 0;
}

static int base_set(struct ofile *of, uint64_t size, const uint8_t *data, size_t datalen,
		    const struct record_refs *refs, struct err *e)
{
	free(of->bdata);
	of->bdata = NULL;
	record_refs_release(&of->base);
	if (datalen > 0) {
		if ((of->bdata = malloc(datalen)) == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		memcpy(of->bdata, data, datalen);
	}
	of->base_size = size;
	return refs_copy(&of->base, refs, e);
}

/* Forget everything since the commit; chunks come from the base again. */
static void reset(struct ofile *of)
{
	for (size_t i = 0; i < of->nc; i++) {
		chunk_drop(of, &of->c[i]);
		record_refs_release(&of->c[i].nrefs);
		of->c[i].src = SRC_BASE;
		of->c[i].mlo = of->c[i].mhi = 0;
	}
	of->size = of->base_size;
	of->changed = of->trunc = of->app = of->nonapp = 0;
	of->trunc_to = of->app_lo = of->app_hi = 0;
}

int ofile_new(struct ofile **out, struct blockclient *bc, const struct ofile_store_policy *p,
	      uint64_t size, const uint8_t *data, size_t datalen,
	      const struct record_refs *refs, struct err *e)
{
	struct ofile *of = calloc(1, sizeof(*of));
	int r;

	if (of == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	of->bc = bc;
	of->pol = *p;
	if ((r = base_set(of, size, data, datalen, refs, e)) < 0 ||
	    (r = chunks_ensure(of, nchunks(size))) < 0)
		goto fail;
	of->size = size;
	*out = of;
	return 0;
fail:
	ofile_free(of);
	return r == -EFBIG ? err_set(e, r, "file too large") : r;
}

void ofile_free(struct ofile *of)
{
	if (of == NULL)
		return;
	for (size_t i = 0; i < of->nc; i++) {
		free(of->c[i].buf);
		record_refs_release(&of->c[i].nrefs);
	}
	free(of->c);
	free(of->bdata);
	record_refs_release(&of->base);
	free(of);
}

uint64_t ofile_size(const struct ofile *of)
{
	return of->size;
}

const struct record_refs *ofile_base(const struct ofile *of)
{
	return &of->base;
}

size_t ofile_pending(const struct ofile *of)
{
	size_t n = 0;

	for (size_t i = 0; i < of->nc; i++)
		n += of->c[i].src == SRC_NEW || of->c[i].dirty;
	return n;
}

int64_t ofile_pending_age(const struct ofile *of)
{
	int64_t oldest = 0;

	for (size_t i = 0; i < of->nc; i++)
		if (of->c[i].src == SRC_NEW && (oldest == 0 || of->c[i].stored_at < oldest))
			oldest = of->c[i].stored_at;
	return oldest == 0 ? 0 : mono_sec() - oldest;
}

int ofile_dirty(const struct ofile *of)
{
	return of->changed;
}

/* A sequential reader: load chunk i and the next ones not loaded yet,
 * OFILE_READAHEAD in all, in parallel. Does nothing if i is loaded. */
static int readahead(struct ofile *of, size_t i, struct err *e)
{
	struct job v[OFILE_READAHEAD];
	size_t n = 0, last = nchunks(of->size);
	int r;

	if (i >= of->nc || of->c[i].buf != NULL)
		return 0;
	for (size_t k = i; k < last && k < i + OFILE_READAHEAD; k++) {
		if (of->c[k].buf != NULL)
			break;
		if ((r = chunk_load(of, k, 0, e)) < 0)
			break;
		v[n++] = (struct job){ .of = of, .i = k };
	}
	r = jobs_run(v, n, e);
	for (size_t k = 0; k < n; k++)          /* a failed one loads again later */
		if (v[k].r < 0)
			chunk_drop(of, &of->c[v[k].i]);
	return r;
}

int ofile_read(struct ofile *of, uint64_t off, size_t size, uint8_t *buf, size_t *got,
	       struct err *e)
{
	size_t done = 0;

	*got = 0;
	if (off >= of->size)
		return 0;
	if (size > of->size - off)
		size = (size_t)(of->size - off);
	if (off == of->next_read && off > 0) {
		int r = readahead(of, (size_t)(off / OFILE_CHUNK), e);

		if (r < 0)
			return r;
	}
	of->next_read = off + size;
	while (done < size) {
		uint64_t pos = off + done;
		size_t i = (size_t)(pos / OFILE_CHUNK), in = (size_t)(pos % OFILE_CHUNK);
		size_t n = OFILE_CHUNK - in < size - done ? OFILE_CHUNK - in : size - done;
		int r = chunk_load(of, i, 1, e);

		if (r < 0)
			return r;
		memcpy(buf + done, of->c[i].buf + in, n);
		done += n;
	}
	*got = done;
	return 0;
}

/* Bytes [from, to) become readable as zeros past the old end: only the
 * chunk holding the old end can have content there (a loaded tail). */
static int grow(struct ofile *of, uint64_t to, struct err *e)
{
	int r = chunks_ensure(of, nchunks(to));

	if (r < 0)
		return err_set(e, r, "file too large");
	of->size = to;
	return 0;
}

int ofile_write(struct ofile *of, uint64_t off, const void *buf, size_t size, int append,
		struct err *e)
{
	const uint8_t *p = buf;
	uint64_t end = off + size;
	size_t done = 0;
	int r;

	if (size == 0)
		return 0;
	if (end < off || end > (uint64_t)INT64_MAX)
		return err_set(e, -EFBIG, "file too large");
	if (end > of->size && (r = grow(of, end, e)) < 0)
		return r;
	while (done < size) {
		uint64_t pos = off + done;
		size_t i = (size_t)(pos / OFILE_CHUNK), in = (size_t)(pos % OFILE_CHUNK);
		size_t n = OFILE_CHUNK - in < size - done ? OFILE_CHUNK - in : size - done;
		struct chunk *c;

		if ((r = chunk_load(of, i, n < OFILE_CHUNK, e)) < 0)
			return r;
		c = &of->c[i];
		memcpy(c->buf + in, p + done, n);
		c->dirty = 1;
		if (c->mlo == c->mhi) {
			c->mlo = (uint32_t)in;
			c->mhi = (uint32_t)(in + n);
		} else {
			c->mlo = c->mlo < in ? c->mlo : (uint32_t)in;
			c->mhi = c->mhi > in + n ? c->mhi : (uint32_t)(in + n);
		}
		done += n;
	}
	if (append) {
		if (!of->app)
			of->app_lo = off;
		of->app = 1;
		of->app_lo = off < of->app_lo ? off : of->app_lo;
		of->app_hi = end > of->app_hi ? end : of->app_hi;
	} else {
		of->nonapp = 1;
	}
	of->changed = 1;
	return 0;
}

int ofile_truncate(struct ofile *of, uint64_t size, struct err *e)
{
	int r;

	if (size > (uint64_t)INT64_MAX)
		return err_set(e, -EFBIG, "file too large");
	if (size >= of->size) {
		if (size > of->size) {
			if ((r = grow(of, size, e)) < 0)
				return r;
			of->changed = 1;
		}
		return 0;
	}
	for (size_t i = nchunks(size); i < of->nc; i++) {
		struct chunk *c = &of->c[i];

		chunk_drop(of, c);
		record_refs_release(&c->nrefs);
		c->src = SRC_ZERO;
		c->mlo = c->mhi = 0;
	}
	if (size % OFILE_CHUNK != 0) {          /* the new last chunk: cut its tail */
		size_t i = (size_t)(size / OFILE_CHUNK), in = (size_t)(size % OFILE_CHUNK);
		struct chunk *c;

		if ((r = chunk_load(of, i, 1, e)) < 0)
			return r;
		c = &of->c[i];
		memset(c->buf + in, 0, OFILE_CHUNK - in);
		c->dirty = 1;
		if (c->mhi > in)
			c->mhi = (uint32_t)in;
		if (c->mlo > c->mhi)
			c->mlo = c->mhi;
	}
	if (!of->trunc || size < of->trunc_to)
		of->trunc_to = size;
	of->trunc = 1;
	if (of->app_hi > size)
		of->app_hi = size;
	if (of->app_lo > of->app_hi)
		of->app_lo = of->app_hi;
	of->size = size;
	of->changed = 1;
	return 0;
}

/* Does a base ref cover bytes outside chunk i or past the end? Then the
 * chunk cannot keep it and must be stored again. */
static int chunk_straddles(const struct ofile *of, size_t i)
{
	uint64_t lo = (uint64_t)i * OFILE_CHUNK, hi = lo + OFILE_CHUNK;

	if (of->bdata != NULL && i == 0)
		return 1;
	if (hi > of->size)
		hi = of->size;
	for (size_t j = 0; j < of->base.n; j++) {
		const struct record_ref *f = &of->base.v[j];

		if (f->off >= lo + OFILE_CHUNK || f->off + f->len <= lo)
			continue;
		if (f->off < lo || f->off + f->len > hi)
			return 1;
	}
	return 0;
}

int ofile_store(struct ofile *of, size_t inline_max, struct record_refs *out,
		const uint8_t **data, size_t *datalen, struct err *e)
{
	size_t n = nchunks(of->size), got;
	int r;

	*data = NULL;
	*datalen = 0;
	of->stored_inline = of->size <= inline_max && of->size <= RECORD_INLINE_MAX;
	if (of->stored_inline) {
		if ((r = ofile_read(of, 0, (size_t)of->size, of->inl, &got, e)) < 0)
			return r;
		*data = of->inl;
		*datalen = got;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct chunk *c = &of->c[i];

		/* blocks stored long ago and not committed yet may be taken for
		 * a crashed client's by the GC once its grace has passed: put
		 * them again (a re-PUT renews a block's time on blockd) */
		if ((c->src == SRC_BASE && !c->dirty && chunk_straddles(of, i)) ||
		    (c->src == SRC_NEW && !c->dirty &&
		     mono_sec() - c->stored_at > OFILE_REFRESH_SEC)) {
			if ((r = chunk_load(of, i, 1, e)) < 0)
				return r;
			c->dirty = 1;
		}
	}
	if ((r = store_dirty(of, e)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct chunk *c = &of->c[i];
		uint64_t lo = (uint64_t)i * OFILE_CHUNK;

		if (c->src == SRC_NEW) {
			r = refs_copy(out, &c->nrefs, e);
		} else if (c->src == SRC_BASE) {
			r = 0;
			for (size_t j = 0; r == 0 && j < of->base.n; j++) {
				const struct record_ref *f = &of->base.v[j];

				if (f->off >= lo && f->off < lo + OFILE_CHUNK)
					r = record_refs_add_ref(out, f, e);
			}
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int ofile_committed(struct ofile *of, const struct record_refs *refs, struct err *e)
{
	int inl = of->stored_inline;
	int r = base_set(of, of->size, of->inl, inl ? (size_t)of->size : 0, inl ? NULL : refs, e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < of->nc; i++) {
		struct chunk *c = &of->c[i];

		record_refs_release(&c->nrefs);
		c->src = SRC_BASE;
		c->dirty = 0;           /* inline: buffers equal the new base */
		c->mlo = c->mhi = 0;
	}
	of->changed = of->trunc = of->app = of->nonapp = 0;
	of->trunc_to = of->app_lo = of->app_hi = 0;
	return 0;
}

/* A range written here, saved across a rebase. */
struct saved {
	uint64_t off;
	size_t len;
	uint8_t *p;
};

int ofile_rebase(struct ofile *of, uint64_t size, const uint8_t *data, size_t datalen,
		 const struct record_refs *refs, struct err *e)
{
	struct saved *sv = NULL;
	size_t nsv = 0, got;
	uint64_t mysize = of->size, trunc_to = of->trunc_to;
	int trunc = of->trunc, appending = of->app && !of->nonapp && !of->trunc;
	int r = 0;

	if (!of->changed) {                     /* nothing of ours to keep */
		reset(of);
		goto base;
	}
	if ((sv = calloc(appending ? 1 : of->nc + 1, sizeof(*sv))) == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	if (appending) {
		sv[0].off = of->app_lo;
		sv[0].len = (size_t)(of->app_hi - of->app_lo);
		nsv = 1;
	} else {
		for (size_t i = 0; i < of->nc; i++)
			if (of->c[i].mlo < of->c[i].mhi) {
				sv[nsv].off = (uint64_t)i * OFILE_CHUNK + of->c[i].mlo;
				sv[nsv].len = of->c[i].mhi - of->c[i].mlo;
				nsv++;
			}
	}
	for (size_t k = 0; k < nsv; k++) {
		if ((sv[k].p = malloc(sv[k].len ? sv[k].len : 1)) == NULL) {
			r = err_set(e, -ENOMEM, "out of memory");
			goto done;
		}
		if ((r = ofile_read(of, sv[k].off, sv[k].len, sv[k].p, &got, e)) < 0)
			goto done;
	}
	reset(of);
base:
	if ((r = base_set(of, size, data, datalen, refs, e)) < 0 ||
	    (r = chunks_ensure(of, nchunks(size))) < 0) {
		r = r == -EFBIG ? err_set(e, r, "file too large") : r;
		goto done;
	}
	for (size_t i = 0; i < of->nc; i++)
		of->c[i].src = SRC_BASE;
	of->size = size;
	if (nsv == 0 && !trunc)
		goto done;
	if (trunc && trunc_to < of->size && (r = ofile_truncate(of, trunc_to, e)) < 0)
		goto done;
	for (size_t k = 0; k < nsv; k++) {
		uint64_t at = appending ? of->size : sv[k].off;

		if ((r = ofile_write(of, at, sv[k].p, sv[k].len, appending, e)) < 0)
			goto done;
	}
	if (!appending && mysize > of->size)
		r = ofile_truncate(of, mysize, e);
	else if (!appending && trunc && mysize < of->size)
		r = ofile_truncate(of, mysize, e);
	of->changed = 1;
done:
	for (size_t k = 0; k < nsv; k++)
		free(sv[k].p);
	free(sv);
	return r;
}
