/* ec: Reed-Solomon over GF(2^8) with ISA-L (see ec.h). The encode matrix is
 * ISA-L's Cauchy matrix, whose every k x k submatrix is invertible, so any k
 * surviving chunks decode; decode tables are cached per erasure pattern. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <isa-l/erasure_code.h>

#include "ec.h"

struct ec_entry {
	uint64_t missing;       /* the pattern: chunks lost */
	uint64_t wanted;        /* the lost chunks rebuilt (those with a buffer) */
	unsigned nout;          /* popcount(wanted) */
	unsigned char *tables;  /* 32 * k * nout bytes; owned */
};

struct ec {
	unsigned k, m;
	unsigned char *matrix;  /* (k + m) x k, identity on top; owned */
	unsigned char *tables;  /* encode tables for the m parity rows; owned */
	pthread_mutex_t lock;   /* guards cache[] and ncache */
	struct ec_entry cache[EC_CACHE_MAX];
	size_t ncache;
};

size_t ec_chunk_len(uint64_t len, unsigned k)
{
	uint64_t c;

	if (len == 0 || k == 0)
		return 0;
	c = (len + k - 1) / k;
	c = (c + EC_ALIGN - 1) / EC_ALIGN * EC_ALIGN;
	return (size_t)c;
}

int ec_new(struct ec **out, unsigned k, unsigned m, struct err *e)
{
	struct ec *c;

	*out = NULL;
	if (k < 1 || k > EC_K_MAX || m > EC_M_MAX)
		return err_set(e, -EINVAL, "ec %u+%u out of range (k 1..%d, m 0..%d)", k, m,
			       EC_K_MAX, EC_M_MAX);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	c->k = k;
	c->m = m;
	c->matrix = malloc((size_t)(k + m) * k);
	c->tables = malloc(32 * (size_t)k * (m > 0 ? m : 1));
	if (c->matrix == NULL || c->tables == NULL) {
		free(c->matrix);
		free(c->tables);
		free(c);
		return err_set(e, -ENOMEM, "out of memory");
	}
	gf_gen_cauchy1_matrix(c->matrix, (int)(k + m), (int)k);
	if (m > 0)
		ec_init_tables((int)k, (int)m, c->matrix + (size_t)k * k, c->tables);
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void ec_free(struct ec *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ncache; i++)
		free(c->cache[i].tables);
	pthread_mutex_destroy(&c->lock);
	free(c->matrix);
	free(c->tables);
	free(c);
}

unsigned ec_k(const struct ec *c)
{
	return c->k;
}

unsigned ec_m(const struct ec *c)
{
	return c->m;
}

static int check_len(size_t len, struct err *e)
{
	if (len == 0 || len > EC_CHUNK_MAX)
		return err_set(e, -EINVAL, "ec: chunk length %zu out of range (1..%u)", len,
			       EC_CHUNK_MAX);
	return 0;
}

int ec_encode(const struct ec *c, size_t len, uint8_t *const *data, uint8_t **parity,
	      struct err *e)
{
	int r = check_len(len, e);

	if (r < 0)
		return r;
	if (data == NULL || (c->m > 0 && parity == NULL))
		return err_set(e, -EINVAL, "ec: no chunk buffers");
	for (unsigned i = 0; i < c->k; i++)
		if (data[i] == NULL)
			return err_set(e, -EINVAL, "ec: data chunk %u has no buffer", i);
	for (unsigned i = 0; i < c->m; i++)
		if (parity[i] == NULL)
			return err_set(e, -EINVAL, "ec: parity chunk %u has no buffer", i);
	if (c->m == 0)
		return 0;
	/* ISA-L takes unsigned char ** and only reads the data. */
	ec_encode_data((int)len, (int)c->k, (int)c->m, c->tables, (unsigned char **)data,
		       parity);
	return 0;
}

/* ------------------------------------------------------------- decoding --- */

/* Decode tables for a pattern: rows that turn the first k survivors into the
 * wanted lost chunks. The survivors' rows of the encode matrix form B; data =
 * B^-1 * sources, so a lost data chunk j is row j of B^-1 and a lost parity
 * chunk j is (row j of the encode matrix) * B^-1. */
static int build_tables(const struct ec *c, uint64_t missing, uint64_t wanted,
			unsigned char **out, struct err *e)
{
	unsigned k = c->k, n = c->k + c->m, s = 0, o = 0;
	unsigned char b[EC_K_MAX * EC_K_MAX], inv[EC_K_MAX * EC_K_MAX];
	unsigned char rows[EC_N_MAX * EC_K_MAX];
	unsigned char *t;

	for (unsigned i = 0; i < n && s < k; i++)
		if (!(missing >> i & 1))
			memcpy(b + (size_t)s++ * k, c->matrix + (size_t)i * k, k);
	if (s < k)
		return err_set(e, -EIO, "ec: only %u of the %u chunks needed survive", s, k);
	if (gf_invert_matrix(b, inv, (int)k) < 0)   /* never for a Cauchy matrix */
		return err_set(e, -EIO, "ec: decode matrix is singular");
	for (unsigned j = 0; j < n; j++) {
		if (!(wanted >> j & 1))
			continue;
		if (j < k) {
			memcpy(rows + (size_t)o * k, inv + (size_t)j * k, k);
		} else {
			for (unsigned col = 0; col < k; col++) {
				unsigned char v = 0;

				for (unsigned t2 = 0; t2 < k; t2++)
					v ^= gf_mul(c->matrix[(size_t)j * k + t2],
						    inv[(size_t)t2 * k + col]);
				rows[(size_t)o * k + col] = v;
			}
		}
		o++;
	}
	t = malloc(32 * (size_t)k * o);
	if (t == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	ec_init_tables((int)k, (int)o, rows, t);
	*out = t;
	return 0;
}

/* Tables for the pattern from the cache, building (and caching, while there
 * is room) on a miss. *owned is set when the caller must free them. */
static int get_tables(struct ec *c, uint64_t missing, uint64_t wanted,
		      const unsigned char **tables, int *owned, struct err *e)
{
	unsigned char *t = NULL;
	int r;

	*owned = 0;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->ncache; i++) {
		if (c->cache[i].missing == missing && c->cache[i].wanted == wanted) {
			*tables = c->cache[i].tables;
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&c->lock);
	r = build_tables(c, missing, wanted, &t, e);
	if (r < 0)
		return r;
	pthread_mutex_lock(&c->lock);
	/* Another thread may have added it meanwhile; a duplicate is harmless
	 * but wastes a slot, so look once more. */
	for (size_t i = 0; i < c->ncache; i++) {
		if (c->cache[i].missing == missing && c->cache[i].wanted == wanted) {
			*tables = c->cache[i].tables;
			pthread_mutex_unlock(&c->lock);
			free(t);
			return 0;
		}
	}
	if (c->ncache < EC_CACHE_MAX) {
		c->cache[c->ncache++] = (struct ec_entry){ missing, wanted,
			(unsigned)__builtin_popcountll(wanted), t };
	} else {
		*owned = 1;
	}
	pthread_mutex_unlock(&c->lock);
	*tables = t;
	return 0;
}

int ec_reconstruct(struct ec *c, size_t len, uint8_t **chunk, uint64_t missing,
		   struct err *e)
{
	unsigned n = c->k + c->m, s = 0, o = 0;
	uint8_t *src[EC_K_MAX], *dst[EC_N_MAX];
	const unsigned char *tables;
	uint64_t wanted = 0;
	int r, owned;

	r = check_len(len, e);
	if (r < 0)
		return r;
	if (chunk == NULL)
		return err_set(e, -EINVAL, "ec: no chunk buffers");
	if (n < 64 && missing >> n != 0)
		return err_set(e, -EINVAL, "ec: missing mask names chunks past %u", n);
	if ((unsigned)__builtin_popcountll(missing) > c->m)
		return err_set(e, -EIO, "ec %u+%u: %d chunks lost, at most %u can be rebuilt",
			       c->k, c->m, __builtin_popcountll(missing), c->m);
	for (unsigned i = 0; i < n; i++) {
		if (missing >> i & 1) {
			if (chunk[i] != NULL) {
				wanted |= UINT64_C(1) << i;
				dst[o++] = chunk[i];
			}
		} else if (chunk[i] == NULL) {
			return err_set(e, -EINVAL, "ec: surviving chunk %u has no buffer", i);
		} else if (s < c->k) {
			src[s++] = chunk[i];
		}
	}
	if (wanted == 0)
		return 0;
	r = get_tables(c, missing, wanted, &tables, &owned, e);
	if (r < 0)
		return r;
	ec_encode_data((int)len, (int)c->k, (int)o, (unsigned char *)tables, src, dst);
	if (owned)
		free((void *)tables);
	return 0;
}

int ec_verify(const struct ec *c, size_t len, uint8_t *const *chunk, struct err *e)
{
	uint8_t *par[EC_M_MAX] = { 0 };
	int r = check_len(len, e);

	if (r < 0 || c->m == 0)
		return r;
	for (unsigned i = 0; i < c->m; i++) {
		par[i] = malloc(len);
		if (par[i] == NULL) {
			r = err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	r = ec_encode(c, len, chunk, par, e);
	for (unsigned i = 0; r == 0 && i < c->m; i++)
		if (memcmp(par[i], chunk[c->k + i], len) != 0)
			r = err_set(e, -EBADMSG, "ec %u+%u: parity chunk %u does not match the data",
				    c->k, c->m, i);
fail:
	for (unsigned i = 0; i < c->m; i++)
		free(par[i]);
	return r;
}

/* ------------------------------------------------------------ benchmark --- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int ec_bench_run(unsigned k, unsigned m, size_t chunk, double seconds,
		 struct ec_bench *out, struct err *e)
{
	uint8_t *buf = NULL, *ptr[EC_N_MAX];
	struct ec *c = NULL;
	uint64_t missing = 0;
	double t0, t;
	int r;

	memset(out, 0, sizeof(*out));
	r = ec_new(&c, k, m, e);
	if (r < 0)
		return r;
	r = check_len(chunk, e);
	if (r < 0)
		goto fail;
	if (posix_memalign((void **)&buf, EC_ALIGN, (size_t)(k + m) * chunk) != 0) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < (size_t)(k + m) * chunk; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	for (unsigned i = 0; i < k + m; i++)
		ptr[i] = buf + (size_t)i * chunk;
	t0 = now_s();
	do {
		ec_encode(c, chunk, ptr, ptr + k, NULL);
		out->encode_runs++;
		t = now_s() - t0;
	} while (t < seconds);
	out->encode_mbps = (double)out->encode_runs * k * chunk / t / 1e6;
	/* The worst case: the first m data chunks lost (all of them if m > k). */
	for (unsigned i = 0; i < m && i < k; i++)
		missing |= UINT64_C(1) << i;
	if (missing != 0) {
		r = ec_reconstruct(c, chunk, ptr, missing, e);  /* warms the cache */
		if (r < 0)
			goto fail;
		t0 = now_s();
		do {
			ec_reconstruct(c, chunk, ptr, missing, NULL);
			out->decode_runs++;
			t = now_s() - t0;
		} while (t < seconds);
		out->decode_mbps = (double)out->decode_runs * k * chunk / t / 1e6;
	}
	r = 0;
fail:
	free(buf);
	ec_free(c);
	return r;
}
