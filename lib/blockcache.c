/* blockcache: files named after the ref under DIR/<2 hex>/, written to a
 * temporary name and renamed into place, indexed in memory (hash table plus
 * an LRU list) so a miss costs no system call. Hits are verified by
 * hashing: the block's SHA-256, or each data chunk of a stripe. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockcache.h"
#include "ec.h"
#include "hash.h"

#define KEY_MAX 100             /* "s<k>+<m>-<len>-<64 hex>" */
#define BUCKETS 4096

struct entry {
	char key[KEY_MAX];
	uint64_t size;
	struct entry *hnext;            /* hash chain */
	struct entry *prev, *next;      /* LRU list, most recent first */
};

struct blockcache {
	char *dir;
	uint64_t max;
	pthread_mutex_t mu;
	struct entry *tab[BUCKETS];
	struct entry *head, *tail;
	struct blockcache_stats st;
	uint64_t seq;                   /* temporary names */
};

/* The file name of ref's content: its hash for a block; for a stripe the
 * hash of its k data-chunk hashes (stripes that share a first chunk differ). */
static void ref_key(const struct record_ref *ref, char *key)
{
	char hex[HASH_HEX_LEN + 1];
	struct hash all;

	if (ref->k == 0) {
		hash_to_hex(&ref->h[0], hex);
	} else {
		hash_buf(&all, ref->h, ref->k * sizeof(ref->h[0]));
		hash_to_hex(&all, hex);
	}
	if (ref->k == 0)
		snprintf(key, KEY_MAX, "b%" PRIu64 "-%s", ref->len, hex);
	else
		snprintf(key, KEY_MAX, "s%u+%u-%" PRIu64 "-%s", ref->k, ref->m, ref->len, hex);
}

static size_t key_bucket(const char *key)
{
	uint64_t h = 1469598103934665603ull;

	for (; *key; key++)
		h = (h ^ (uint8_t)*key) * 1099511628211ull;
	return (size_t)(h % BUCKETS);
}

/* The path of a key: DIR/<last two hex digits>/<key>. */
static void key_path(const struct blockcache *c, const char *key, char *path, size_t len)
{
	size_t n = strlen(key);

	snprintf(path, len, "%s/%.2s/%s", c->dir, key + (n >= 2 ? n - 2 : 0), key);
}

static struct entry *find(struct blockcache *c, const char *key)
{
	struct entry *x;

	for (x = c->tab[key_bucket(key)]; x != NULL && strcmp(x->key, key) != 0; x = x->hnext)
		;
	return x;
}

static void lru_unlink(struct blockcache *c, struct entry *x)
{
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		c->head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	else
		c->tail = x->prev;
	x->prev = x->next = NULL;
}

static void lru_front(struct blockcache *c, struct entry *x)
{
	x->next = c->head;
	x->prev = NULL;
	if (c->head != NULL)
		c->head->prev = x;
	c->head = x;
	if (c->tail == NULL)
		c->tail = x;
}

/* Take x out of the index and the disk (mu held). */
static void drop(struct blockcache *c, struct entry *x)
{
	struct entry **pp = &c->tab[key_bucket(x->key)];
	char path[4096];

	while (*pp != x)
		pp = &(*pp)->hnext;
	*pp = x->hnext;
	lru_unlink(c, x);
	key_path(c, x->key, path, sizeof(path));
	unlink(path);
	c->st.bytes -= x->size;
	c->st.entries--;
	free(x);
}

/* Index key (mu held); evict from the cold end while over the bound. */
static void insert(struct blockcache *c, const char *key, uint64_t size)
{
	struct entry *x = find(c, key);
	size_t b = key_bucket(key);

	if (x != NULL) {
		lru_unlink(c, x);
		lru_front(c, x);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return;
	snprintf(x->key, sizeof(x->key), "%s", key);
	x->size = size;
	x->hnext = c->tab[b];
	c->tab[b] = x;
	lru_front(c, x);
	c->st.bytes += size;
	c->st.entries++;
	while (c->st.bytes > c->max && c->tail != NULL && c->tail != x) {
		drop(c, c->tail);
		c->st.evictions++;
	}
}

/* Does buf hold ref's content? */
static int verify(const struct record_ref *ref, const uint8_t *buf)
{
	static const uint8_t zeros[65536];
	struct hash_ctx *hc;
	struct hash h;
	size_t cl;
	int ok = 1;

	if (ref->k == 0) {
		hash_buf(&h, buf, (size_t)ref->len);
		return hash_equal(&h, &ref->h[0]);
	}
	if ((hc = hash_ctx_new()) == NULL)
		return 0;
	cl = ec_chunk_len(ref->len, ref->k);
	for (unsigned i = 0; ok && i < ref->k; i++) {
		uint64_t lo = (uint64_t)i * cl;
		size_t n = lo < ref->len ? (size_t)(ref->len - lo < cl ? ref->len - lo : cl) : 0;

		hash_ctx_update(hc, buf + lo, n);
		for (size_t pad = cl - n; pad > 0;) {  /* zero-filled past len */
			size_t z = pad < sizeof(zeros) ? pad : sizeof(zeros);

			hash_ctx_update(hc, zeros, z);
			pad -= z;
		}
		hash_ctx_final(hc, &h);
		ok = hash_equal(&h, &ref->h[i]);
	}
	hash_ctx_free(hc);
	return ok;
}

/* Index what an earlier process left in dir, oldest first. */
struct found {
	char key[KEY_MAX];
	uint64_t size;
	struct timespec t;
};

static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->t.tv_sec != y->t.tv_sec)
		return x->t.tv_sec < y->t.tv_sec ? -1 : 1;
	return x->t.tv_nsec < y->t.tv_nsec ? -1 : x->t.tv_nsec > y->t.tv_nsec;
}

static void scan(struct blockcache *c)
{
	struct found *v = NULL;
	size_t n = 0, alloc = 0;
	DIR *top = opendir(c->dir);
	struct dirent *d;

	while (top != NULL && (d = readdir(top)) != NULL) {
		char sub[4096], path[4096 + 300];
		struct dirent *f;
		DIR *dd;

		if (d->d_name[0] == '.' || strlen(d->d_name) != 2)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", c->dir, d->d_name);
		if ((dd = opendir(sub)) == NULL)
			continue;
		while ((f = readdir(dd)) != NULL) {
			struct stat st;

			if (f->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", sub, f->d_name);
			if (strncmp(f->d_name, "tmp.", 4) == 0 || strlen(f->d_name) >= KEY_MAX) {
				unlink(path);   /* an interrupted put */
				continue;
			}
			if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			if (n == alloc) {
				struct found *nv = realloc(v, (alloc = alloc ? alloc * 2 : 256) * sizeof(*v));

				if (nv == NULL)
					break;
				v = nv;
			}
			snprintf(v[n].key, KEY_MAX, "%s", f->d_name);
			v[n].size = (uint64_t)st.st_size;
			v[n].t = st.st_mtim;
			n++;
		}
		closedir(dd);
	}
	if (top != NULL)
		closedir(top);
	if (n > 0)
		qsort(v, n, sizeof(*v), found_cmp);
	for (size_t i = 0; i < n; i++)
		insert(c, v[i].key, v[i].size);
	free(v);
}

int blockcache_new(struct blockcache **out, const char *dir, uint64_t max_bytes,
		   struct err *e)
{
	struct blockcache *c;
	char sub[4096];

	if (max_bytes == 0)
		return err_set(e, -EINVAL, "block cache: a size of 0");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, -errno, "block cache %s: %s", dir, strerror(errno));
	if ((c = calloc(1, sizeof(*c))) == NULL || (c->dir = strdup(dir)) == NULL) {
		free(c);
		return err_set(e, -ENOMEM, "out of memory");
	}
	for (int i = 0; i < 256; i++) {
		snprintf(sub, sizeof(sub), "%s/%02x", dir, i);
		if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
			int r = err_set(e, -errno, "block cache %s: %s", sub, strerror(errno));

			blockcache_free(c);
			return r;
		}
	}
	c->max = max_bytes;
	pthread_mutex_init(&c->mu, NULL);
	scan(c);
	*out = c;
	return 0;
}

void blockcache_free(struct blockcache *c)
{
	if (c == NULL)
		return;
	while (c->head != NULL) {
		struct entry *x = c->head;

		c->head = x->next;
		free(x);
	}
	if (c->max > 0)
		pthread_mutex_destroy(&c->mu);
	free(c->dir);
	free(c);
}

static int read_all(const char *path, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != len) {
		close(fd);
		return -1;
	}
	while (got < len) {
		ssize_t n = read(fd, (uint8_t *)buf + got, len - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return got == len ? 0 : -1;
}

int blockcache_get(struct blockcache *c, const struct record_ref *ref, void *buf)
{
	char key[KEY_MAX], path[4096];
	struct entry *x;
	int ok;

	ref_key(ref, key);
	pthread_mutex_lock(&c->mu);
	if ((x = find(c, key)) == NULL) {
		c->st.misses++;
		pthread_mutex_unlock(&c->mu);
		return -ENOENT;
	}
	lru_unlink(c, x);
	lru_front(c, x);
	pthread_mutex_unlock(&c->mu);
	key_path(c, key, path, sizeof(path));
	ok = read_all(path, buf, (size_t)ref->len) == 0 && verify(ref, buf);
	pthread_mutex_lock(&c->mu);
	if (ok) {
		c->st.hits++;
	} else {
		c->st.misses++;
		c->st.corrupt++;
		if ((x = find(c, key)) != NULL)
			drop(c, x);
	}
	pthread_mutex_unlock(&c->mu);
	return ok ? 0 : -ENOENT;
}

void blockcache_put(struct blockcache *c, const struct record_ref *ref, const void *buf)
{
	char key[KEY_MAX], path[4096], tmp[4096 + 64];
	size_t done = 0;
	uint64_t seq;
	int fd;

	if (ref->len > c->max || ref->len > SIZE_MAX)
		return;
	ref_key(ref, key);
	pthread_mutex_lock(&c->mu);
	if (find(c, key) != NULL) {
		pthread_mutex_unlock(&c->mu);
		return;
	}
	seq = ++c->seq;
	pthread_mutex_unlock(&c->mu);
	key_path(c, key, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%.*s/tmp.%d.%" PRIu64, (int)(strrchr(path, '/') - path), path,
		 (int)getpid(), seq);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		return;
	while (done < ref->len) {
		ssize_t n = write(fd, (const uint8_t *)buf + done, (size_t)ref->len - done);

		if (n <= 0)
			break;
		done += (size_t)n;
	}
	/* no fsync: a cache file lost in a crash is a miss, a torn one fails
	 * verification */
	if (close(fd) != 0 || done != ref->len || rename(tmp, path) != 0) {
		unlink(tmp);
		return;
	}
	pthread_mutex_lock(&c->mu);
	insert(c, key, ref->len);
	pthread_mutex_unlock(&c->mu);
}

void blockcache_stats(struct blockcache *c, struct blockcache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	*out = c->st;
	pthread_mutex_unlock(&c->mu);
}
