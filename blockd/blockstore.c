/* blockstore: block files under a 256-way fan-out (see blockstore.h). The
 * fan-out directories stay open, so every file operation is an *at() call
 * relative to one of them, and a directory fsync needs no open. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "blockstore.h"
#include "log.h"

#define BLOCKSTORE_IO_CHUNK (256 * 1024)        /* bytes per read in verify */
#define BLOCKSTORE_ID_LEN 32                    /* hex chars of DIR/id */
#define BLOCKSTORE_SCRUB_BATCH 64               /* blocks listed per scrub refill */
#define BLOCKSTORE_SCRUB_FILE_COST 4096         /* budget bytes charged per file */

struct blockstore {
	char *dir;                      /* owned copy of the path */
	int dirfd;                      /* DIR */
	int lockfd;                     /* DIR/.lock, flock()ed */
	int qfd;                        /* DIR/quarantine */
	int fan[256];                   /* DIR/00 .. DIR/ff */
	uint64_t capacity;              /* 0: the file system's size */
	void (*on_fsync)(double, void *);
	void *arg;
	uint64_t blocks;                /* block files now */
	uint64_t bytes;                 /* their sizes */
	uint64_t quarantined;           /* files in quarantine/ */
	uint64_t temp_removed;          /* by open */
	uint64_t tmp_seq;               /* makes temp names unique */
	char id[BLOCKSTORE_ID_LEN + 1];
};

/* ============================================================== helpers */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* fsync, timed for the metrics. */
static int bs_fsync(struct blockstore *bs, int fd)
{
	double t0 = now_s();
	int rc = fsync(fd);

	if (bs->on_fsync != NULL)
		bs->on_fsync(now_s() - t0, bs->arg);
	return rc < 0 ? -errno : 0;
}

static void name_of(const struct hash *h, char name[HASH_HEX_LEN + 1])
{
	hash_to_hex(h, name);
}

static int fan_of(const struct blockstore *bs, const struct hash *h)
{
	return bs->fan[h->b[0]];
}

/* A block file name: exactly 64 lower-case hex digits. */
static int parse_block_name(const char *name, struct hash *h)
{
	size_t len = strlen(name);

	if (len != HASH_HEX_LEN || strspn(name, "0123456789abcdef") != len)
		return -EINVAL;
	return hash_from_hex(h, name, len);
}

static int write_all(int fd, const void *p, size_t len)
{
	const uint8_t *b = p;

	while (len > 0) {
		ssize_t n = write(fd, b, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes at offset 0 of fd (the file may have shrunk:
 * -EIO then). */
static int read_all(int fd, void *p, size_t len)
{
	uint8_t *b = p;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, b + got, len - got, (off_t)got);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		got += (size_t)n;
	}
	return 0;
}

/* ========================================================= opening DIR */

/* mkdirat + openat of a directory. */
static int open_subdir(int dirfd, const char *name, struct err *e)
{
	int fd;

	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		return err_set(e, -errno, "mkdir %s: %s", name, strerror(errno));
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "open %s: %s", name, strerror(errno));
	return fd;
}

/* Read DIR/id, or make it (temp + fsync + rename + fsync DIR). */
static int load_id(struct blockstore *bs, struct err *e)
{
	uint8_t raw[BLOCKSTORE_ID_LEN / 2];
	char buf[BLOCKSTORE_ID_LEN + 2];
	int fd, rc;
	ssize_t n;

	fd = openat(bs->dirfd, "id", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
		if (n >= BLOCKSTORE_ID_LEN &&
		    hash_hex_decode(raw, sizeof(raw), buf, BLOCKSTORE_ID_LEN) == 0) {
			hash_hex_encode(bs->id, raw, sizeof(raw));
			return 0;
		}
		return err_set(e, -EINVAL, "%s/id: not %d hex digits", bs->dir,
			       BLOCKSTORE_ID_LEN);
	}
	if (errno != ENOENT)
		return err_set(e, -errno, "%s/id: %s", bs->dir, strerror(errno));
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return err_set(e, -EIO, "getrandom failed");
	hash_hex_encode(bs->id, raw, sizeof(raw));
	snprintf(buf, sizeof(buf), "%s\n", bs->id);
	fd = openat(bs->dirfd, ".tmp-id", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(e, -errno, "%s/.tmp-id: %s", bs->dir, strerror(errno));
	rc = write_all(fd, buf, strlen(buf));
	if (rc == 0)
		rc = bs_fsync(bs, fd);
	close(fd);
	if (rc == 0 && renameat(bs->dirfd, ".tmp-id", bs->dirfd, "id") < 0)
		rc = -errno;
	if (rc == 0)
		rc = bs_fsync(bs, bs->dirfd);
	if (rc < 0) {
		unlinkat(bs->dirfd, ".tmp-id", 0);
		return err_set(e, rc, "%s/id: %s", bs->dir, strerror(-rc));
	}
	return 0;
}

/* One fan-out directory at open: remove temp files, count blocks. */
static int scan_fan(struct blockstore *bs, int i, struct err *e)
{
	int fd = dup(bs->fan[i]);
	struct dirent *d;
	struct stat st;
	struct hash h;
	DIR *dir;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		int rc = -errno;

		if (fd >= 0)
			close(fd);
		return err_set(e, rc, "%s/%02x: %s", bs->dir, i, strerror(-rc));
	}
	rewinddir(dir);
	while ((errno = 0, d = readdir(dir)) != NULL) {
		if (strncmp(d->d_name, BLOCKSTORE_TMP_PREFIX, strlen(BLOCKSTORE_TMP_PREFIX)) == 0) {
			if (unlinkat(bs->fan[i], d->d_name, 0) == 0)
				bs->temp_removed++;
			else
				log_warn("blockstore: cannot remove %s/%02x/%s: %s", bs->dir, i,
					 d->d_name, strerror(errno));
			continue;
		}
		if (parse_block_name(d->d_name, &h) < 0)
			continue;
		if (h.b[0] != i) {
			log_warn("blockstore: %s/%02x/%s is in the wrong directory; ignored",
				 bs->dir, i, d->d_name);
			continue;
		}
		if (fstatat(bs->fan[i], d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		bs->blocks++;
		bs->bytes += (uint64_t)st.st_size;
	}
	if (errno != 0) {
		int rc = -errno;

		closedir(dir);
		return err_set(e, rc, "%s/%02x: readdir: %s", bs->dir, i, strerror(-rc));
	}
	closedir(dir);
	return 0;
}

static void count_quarantine(struct blockstore *bs)
{
	int fd = dup(bs->qfd);
	struct dirent *d;
	DIR *dir;

	if (fd < 0)
		return;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	rewinddir(dir);
	bs->quarantined = 0;
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			bs->quarantined++;
	closedir(dir);
}

struct blockstore *blockstore_open(const struct blockstore_options *o, struct err *e)
{
	struct blockstore *bs = calloc(1, sizeof(*bs));
	char name[3];

	if (bs == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	bs->dirfd = bs->lockfd = bs->qfd = -1;
	for (int i = 0; i < 256; i++)
		bs->fan[i] = -1;
	bs->capacity = o->capacity;
	bs->on_fsync = o->on_fsync;
	bs->arg = o->arg;
	if (o->dir == NULL || *o->dir == '\0') {
		err_set(e, -EINVAL, "no data directory");
		goto fail;
	}
	if ((bs->dir = strdup(o->dir)) == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	if (mkdir(bs->dir, 0755) < 0 && errno != EEXIST) {
		err_set(e, -errno, "data directory %s: %s", bs->dir, strerror(errno));
		goto fail;
	}
	bs->dirfd = open(bs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bs->dirfd < 0) {
		err_set(e, -errno, "data directory %s: %s", bs->dir, strerror(errno));
		goto fail;
	}
	bs->lockfd = openat(bs->dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (bs->lockfd < 0) {
		err_set(e, -errno, "%s/.lock: %s", bs->dir, strerror(errno));
		goto fail;
	}
	if (flock(bs->lockfd, LOCK_EX | LOCK_NB) < 0) {
		err_set(e, errno == EWOULDBLOCK ? -EBUSY : -errno, "data directory %s: %s",
			bs->dir, errno == EWOULDBLOCK ? "in use by another blockd"
						      : strerror(errno));
		goto fail;
	}
	for (int i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "%02x", i);
		if ((bs->fan[i] = open_subdir(bs->dirfd, name, e)) < 0)
			goto fail_prefix;
	}
	if ((bs->qfd = open_subdir(bs->dirfd, BLOCKSTORE_QUARANTINE, e)) < 0)
		goto fail_prefix;
	/* Make the new directories themselves durable. */
	if (bs_fsync(bs, bs->dirfd) < 0) {
		err_set(e, -errno, "fsync %s: %s", bs->dir, strerror(errno));
		goto fail;
	}
	if (load_id(bs, e) < 0)
		goto fail;
	unlinkat(bs->dirfd, ".tmp-id", 0);
	for (int i = 0; i < 256; i++)
		if (scan_fan(bs, i, e) < 0)
			goto fail;
	count_quarantine(bs);
	return bs;
fail_prefix:
	err_prefix(e, "data directory %s: ", bs->dir);
fail:
	blockstore_free(bs);
	return NULL;
}

void blockstore_free(struct blockstore *bs)
{
	if (bs == NULL)
		return;
	for (int i = 0; i < 256; i++)
		if (bs->fan[i] >= 0)
			close(bs->fan[i]);
	if (bs->qfd >= 0)
		close(bs->qfd);
	if (bs->lockfd >= 0)
		close(bs->lockfd);      /* drops the flock */
	if (bs->dirfd >= 0)
		close(bs->dirfd);
	free(bs->dir);
	free(bs);
}

const char *blockstore_id(const struct blockstore *bs)
{
	return bs->id;
}

uint64_t blockstore_temp_removed(const struct blockstore *bs)
{
	return bs->temp_removed;
}

/* ============================================================== blocks */

int blockstore_quarantine(struct blockstore *bs, const struct hash *h, struct err *e)
{
	char name[HASH_HEX_LEN + 1], qname[HASH_HEX_LEN + 48];
	int fd = fan_of(bs, h), rc;
	struct timespec ts;
	struct stat st;

	name_of(h, name);
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(e, -errno, "block %s: %s", name, strerror(errno));
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(qname, sizeof(qname), "%s.%lld.%09ld", name, (long long)ts.tv_sec, ts.tv_nsec);
	if (renameat(fd, name, bs->qfd, qname) < 0)
		return err_set(e, -errno, "block %s: quarantine: %s", name, strerror(errno));
	bs->blocks--;
	bs->bytes -= (uint64_t)st.st_size <= bs->bytes ? (uint64_t)st.st_size : bs->bytes;
	bs->quarantined++;
	if ((rc = bs_fsync(bs, bs->qfd)) < 0 || (rc = bs_fsync(bs, fd)) < 0)
		return err_set(e, rc, "block %s: quarantine: fsync: %s", name, strerror(-rc));
	log_warn("blockstore: block %s does not match its hash: moved to %s/%s/%s", name,
		 bs->dir, BLOCKSTORE_QUARANTINE, qname);
	return 0;
}

/* Room for len more bytes under the configured capacity? */
static int check_capacity(const struct blockstore *bs, size_t len, struct err *e)
{
	if (bs->capacity > 0 && bs->bytes + len > bs->capacity)
		return err_set(e, -ENOSPC, "capacity of %llu bytes reached",
			       (unsigned long long)bs->capacity);
	return 0;
}

int blockstore_put(struct blockstore *bs, const struct hash *h, const void *data,
		   size_t len, unsigned flags, struct err *e)
{
	char name[HASH_HEX_LEN + 1], tmp[HASH_HEX_LEN + 64];
	int dfd = fan_of(bs, h), fd = -1, rc;
	struct stat st;

	name_of(h, name);
	if (!(flags & BLOCKSTORE_PUT_HASHED)) {
		struct hash got;

		hash_buf(&got, data, len);
		if (!hash_equal(&got, h))
			return err_set(e, -EBADMSG, "block %s: the data does not hash to the name",
				       name);
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if ((uint64_t)st.st_size == len) {
			/* Present: refresh its age so GC sees the reuse. */
			if (utimensat(dfd, name, NULL, 0) < 0)
				return err_set(e, -errno, "block %s: utimensat: %s", name,
					       strerror(errno));
			return 0;
		}
		log_warn("blockstore: block %s is stored with %lld bytes, the PUT has %zu",
			 name, (long long)st.st_size, len);
		if ((rc = blockstore_quarantine(bs, h, e)) < 0)
			return rc;
	} else if (errno != ENOENT) {
		return err_set(e, -errno, "block %s: %s", name, strerror(errno));
	}
	if ((rc = check_capacity(bs, len, e)) < 0)
		return rc;
	for (int tries = 0; fd < 0; tries++) {
		snprintf(tmp, sizeof(tmp), "%s%s-%ld-%llu", BLOCKSTORE_TMP_PREFIX, name,
			 (long)getpid(), (unsigned long long)bs->tmp_seq++);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
		if (fd < 0 && (errno != EEXIST || tries > 100))
			return err_set(e, -errno, "block %s: create: %s", name, strerror(errno));
	}
	if ((rc = write_all(fd, data, len)) < 0) {
		err_set(e, rc, "block %s: write: %s", name, strerror(-rc));
		goto fail;
	}
	if ((rc = bs_fsync(bs, fd)) < 0) {
		err_set(e, rc, "block %s: fsync: %s", name, strerror(-rc));
		goto fail;
	}
	rc = close(fd);
	fd = -1;
	if (rc < 0) {
		rc = err_set(e, -errno, "block %s: close: %s", name, strerror(errno));
		goto fail;
	}
	if (renameat(dfd, tmp, dfd, name) < 0) {
		rc = err_set(e, -errno, "block %s: rename: %s", name, strerror(errno));
		goto fail;
	}
	if ((rc = bs_fsync(bs, dfd)) < 0) {
		/* Not known to be durable: take it back rather than claim it. */
		err_set(e, rc, "block %s: fsync of the directory: %s", name, strerror(-rc));
		unlinkat(dfd, name, 0);
		return rc;
	}
	bs->blocks++;
	bs->bytes += len;
	return 1;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(dfd, tmp, 0);
	return rc;
}

/* Open block h for reading; fills *st. */
static int open_block(struct blockstore *bs, const struct hash *h, struct stat *st,
		      struct err *e)
{
	char name[HASH_HEX_LEN + 1];
	int fd;

	name_of(h, name);
	fd = openat(fan_of(bs, h), name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_set(e, -errno, "block %s: %s", name, strerror(errno));
	if (fstat(fd, st) < 0) {
		int rc = -errno;

		close(fd);
		return err_set(e, rc, "block %s: fstat: %s", name, strerror(-rc));
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		return err_set(e, -ENOENT, "block %s: not a regular file", name);
	}
	return fd;
}

int blockstore_get(struct blockstore *bs, const struct hash *h, unsigned flags,
		   void **data, size_t *len, struct err *e)
{
	struct stat st;
	void *buf = NULL;
	int fd, rc;

	*data = NULL;
	*len = 0;
	if ((fd = open_block(bs, h, &st, e)) < 0)
		return fd;
	if (st.st_size > 0) {
		if ((buf = malloc((size_t)st.st_size)) == NULL) {
			close(fd);
			return err_set(e, -ENOMEM, "out of memory");
		}
		rc = read_all(fd, buf, (size_t)st.st_size);
		if (rc < 0) {
			close(fd);
			free(buf);
			return err_set(e, rc, "block read: %s", strerror(-rc));
		}
	}
	close(fd);
	if (flags & BLOCKSTORE_VERIFY) {
		struct hash got;

		hash_buf(&got, buf, (size_t)st.st_size);
		if (!hash_equal(&got, h)) {
			free(buf);
			blockstore_quarantine(bs, h, NULL);
			return err_set(e, -EBADMSG, "block does not match its hash (quarantined)");
		}
	}
	*data = buf;
	*len = (size_t)st.st_size;
	return 0;
}

int blockstore_open_read(struct blockstore *bs, const struct hash *h, uint64_t *len,
			 struct err *e)
{
	struct stat st;
	int fd = open_block(bs, h, &st, e);

	if (fd >= 0)
		*len = (uint64_t)st.st_size;
	return fd;
}

int blockstore_stat(struct blockstore *bs, const struct hash *h,
		    struct blockstore_info *info, struct err *e)
{
	char name[HASH_HEX_LEN + 1];
	struct stat st;

	name_of(h, name);
	if (fstatat(fan_of(bs, h), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_set(e, -errno, "block %s: %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(e, -ENOENT, "block %s: not a regular file", name);
	info->hash = *h;
	info->size = (uint64_t)st.st_size;
	info->mtime = (int64_t)st.st_mtime;
	return 0;
}

int blockstore_delete(struct blockstore *bs, const struct hash *h, struct err *e)
{
	char name[HASH_HEX_LEN + 1];
	int dfd = fan_of(bs, h), rc;
	struct stat st;

	name_of(h, name);
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || unlinkat(dfd, name, 0) < 0)
		return err_set(e, -errno, "block %s: %s", name, strerror(errno));
	bs->blocks--;
	bs->bytes -= (uint64_t)st.st_size <= bs->bytes ? (uint64_t)st.st_size : bs->bytes;
	if ((rc = bs_fsync(bs, dfd)) < 0)
		return err_set(e, rc, "block %s: fsync of the directory: %s", name, strerror(-rc));
	return 0;
}

int blockstore_verify(struct blockstore *bs, const struct hash *h, uint64_t *nread,
		      struct err *e)
{
	struct hash got;
	struct stat st;
	uint64_t n = 0;
	int fd, rc;

	if (nread != NULL)
		*nread = 0;
	if ((fd = open_block(bs, h, &st, e)) < 0)
		return fd;
	rc = hash_fd(&got, fd, &n, e);
	close(fd);
	if (nread != NULL)
		*nread = n;
	if (rc < 0)
		return rc;
	if (!hash_equal(&got, h)) {
		if ((rc = blockstore_quarantine(bs, h, e)) < 0)
			return rc;
		return err_set(e, -EBADMSG, "block does not match its hash (quarantined)");
	}
	return 0;
}

int blockstore_usage(struct blockstore *bs, struct blockstore_usage *u, struct err *e)
{
	struct statvfs sv;
	uint64_t left;

	memset(u, 0, sizeof(*u));
	if (fstatvfs(bs->dirfd, &sv) < 0)
		return err_set(e, -errno, "statvfs %s: %s", bs->dir, strerror(errno));
	u->blocks = bs->blocks;
	u->bytes = bs->bytes;
	u->quarantined = bs->quarantined;
	u->fs_size = (uint64_t)sv.f_blocks * sv.f_frsize;
	u->fs_avail = (uint64_t)sv.f_bavail * sv.f_frsize;
	u->capacity = bs->capacity > 0 ? bs->capacity : u->fs_size;
	left = u->capacity > u->bytes ? u->capacity - u->bytes : 0;
	u->free = left < u->fs_avail ? left : u->fs_avail;
	return 0;
}

/* ============================================================= listing */

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, HASH_LEN);
}

/* The block names of fan-out directory i greater than *after (NULL: all),
 * sorted. *out is malloc'd. */
static int read_fan_sorted(struct blockstore *bs, int i, const struct hash *after,
			   struct hash **out, size_t *n, struct err *e)
{
	struct hash *v = NULL, h;
	size_t cap = 0;
	struct dirent *d;
	int fd = dup(bs->fan[i]), rc;
	DIR *dir;

	*out = NULL;
	*n = 0;
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		return err_set(e, rc, "%s/%02x: %s", bs->dir, i, strerror(-rc));
	}
	rewinddir(dir);
	while ((errno = 0, d = readdir(dir)) != NULL) {
		if (parse_block_name(d->d_name, &h) < 0 || h.b[0] != i)
			continue;
		if (after != NULL && memcmp(h.b, after->b, HASH_LEN) <= 0)
			continue;
		if (*n == cap) {
			struct hash *nv;

			cap = cap ? 2 * cap : 256;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				rc = err_set(e, -ENOMEM, "out of memory");
				goto fail;
			}
			v = nv;
		}
		v[(*n)++] = h;
	}
	if (errno != 0) {
		rc = err_set(e, -errno, "%s/%02x: readdir: %s", bs->dir, i, strerror(errno));
		goto fail;
	}
	closedir(dir);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_hash);
	*out = v;
	return 0;
fail:
	closedir(dir);
	free(v);
	*n = 0;
	return rc;
}

int blockstore_list(struct blockstore *bs, const struct hash *after, size_t limit,
		    struct blockstore_info *out, struct err *e)
{
	size_t got = 0;

	if (limit == 0 || limit > BLOCKSTORE_LIST_MAX)
		return err_set(e, -EINVAL, "list limit %zu outside 1..%d", limit,
			       BLOCKSTORE_LIST_MAX);
	for (int i = after != NULL ? after->b[0] : 0; i < 256 && got < limit; i++) {
		struct hash *v;
		size_t n;
		int rc = read_fan_sorted(bs, i, after, &v, &n, e);

		if (rc < 0)
			return rc;
		for (size_t k = 0; k < n && got < limit; k++)
			if (blockstore_stat(bs, &v[k], &out[got], NULL) == 0)
				got++;  /* (one deleted since readdir is skipped) */
		free(v);
	}
	return (int)got;
}

/* =============================================================== scrub */

void blockstore_scrub_begin(struct blockstore_scrub *s)
{
	memset(s, 0, sizeof(*s));
}

int64_t blockstore_scrub_step(struct blockstore *bs, struct blockstore_scrub *s,
			      uint64_t budget, struct err *e)
{
	struct blockstore_info batch[BLOCKSTORE_SCRUB_BATCH];
	uint64_t done = 0, cost = 0;

	/* Each block costs its bytes plus a file's worth of overhead, so that
	 * a store of empty blocks is paced too. */
	while (!s->done && (cost == 0 || cost < budget)) {
		int n = blockstore_list(bs, s->started ? &s->cursor : NULL,
					BLOCKSTORE_SCRUB_BATCH, batch, e);

		if (n < 0)
			return n;
		for (int i = 0; i < n && (i == 0 || cost < budget); i++) {
			struct err ve = {0};
			uint64_t nread = 0;
			int rc = blockstore_verify(bs, &batch[i].hash, &nread, &ve);

			s->cursor = batch[i].hash;
			s->started = 1;
			done += nread;
			cost += nread + BLOCKSTORE_SCRUB_FILE_COST;
			s->bytes += nread;
			if (i == n - 1 && n < BLOCKSTORE_SCRUB_BATCH)
				s->done = 1;
			if (rc == -ENOENT)
				continue;       /* deleted meanwhile */
			s->blocks++;
			if (rc == -EBADMSG) {
				s->corrupt++;
			} else if (rc < 0) {
				s->errors++;
				log_err("scrub: %s", ve.msg);
			}
		}
		if (n == 0)
			s->done = 1;
	}
	return (int64_t)done;
}
