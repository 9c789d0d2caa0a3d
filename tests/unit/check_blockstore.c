/* Unit tests for blockd/blockstore: put/get/stat/delete, idempotent puts
 * that refresh the mtime, listing order and paging, temp files removed at
 * open, the lock, quarantine of corrupt blocks on read and by scrub, the
 * capacity, and a full file system (a 1 MiB tmpfs, when run as root). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockstore.h"
#include "check_main.h"
#include "log.h"

static char base[256];          /* temp dir of the test case (made before the fork) */
static char data[300];          /* base/data-PID: one per test */
static struct blockstore *bs;
static int fsyncs;

static void on_fsync(double s, void *arg)
{
	(void)s;
	(void)arg;
	fsyncs++;
}

static struct blockstore *open_store(uint64_t capacity, struct err *e)
{
	struct blockstore_options o = { .dir = data, .capacity = capacity,
					.on_fsync = on_fsync };

	return blockstore_open(&o, e);
}

/* Unmount whatever a test left mounted under prefix. */
static void umount_under(const char *prefix)
{
	char line[1024], mnt[512];
	FILE *f = fopen("/proc/self/mounts", "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %511s", mnt) == 1 &&
		    strncmp(mnt, prefix, strlen(prefix)) == 0)
			umount2(mnt, MNT_DETACH);
	fclose(f);
}

static void rm_rf(const char *path)
{
	char cmd[600];

	umount_under(path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", path);
}

/* Per test case, in the parent: so it is cleaned even if a test dies. */
static void case_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(base, sizeof(base), "%s/check_blockstore.XXXXXX", tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(base));
}

static void case_teardown(void)
{
	rm_rf(base);
}

static void setup(void)
{
	struct err e = {0};

	log_init("check_blockstore", LOG_LEVEL_ERROR, 0);
	snprintf(data, sizeof(data), "%s/data-%ld", base, (long)getpid());
	bs = open_store(0, &e);
	ck_assert_msg(bs != NULL, "%s", e.msg);
}

static void teardown(void)
{
	blockstore_free(bs);
	bs = NULL;
	rm_rf(data);
}

/* A block of n bytes from a seed, and its hash. */
static void *make_block(unsigned seed, size_t n, struct hash *h)
{
	unsigned char *p = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	hash_buf(h, p, n);
	return p;
}

static void block_path(const struct hash *h, char *out, size_t len)
{
	char hex[HASH_HEX_LEN + 1];

	hash_to_hex(h, hex);
	snprintf(out, len, "%s/%.2s/%s", data, hex, hex);
}

/* Files in data/sub whose names start with prefix. */
static int count_files(const char *sub, const char *prefix)
{
	char path[400];
	struct dirent *d;
	int n = 0;
	DIR *dd;

	snprintf(path, sizeof(path), "%s/%s", data, sub);
	ck_assert_ptr_nonnull(dd = opendir(path));
	while ((d = readdir(dd)) != NULL)
		if (d->d_name[0] != '.' || strcmp(prefix, ".tmp-") == 0)
			if (strncmp(d->d_name, prefix, strlen(prefix)) == 0)
				n++;
	closedir(dd);
	return n;
}

/* Temp files in every fan-out directory. */
static int count_temps(void)
{
	char sub[3];
	int n = 0;

	for (int i = 0; i < 256; i++) {
		snprintf(sub, sizeof(sub), "%02x", i);
		n += count_files(sub, BLOCKSTORE_TMP_PREFIX);
	}
	return n;
}

static void flip_byte(const struct hash *h, off_t at)
{
	char path[400];
	unsigned char c;
	int fd;

	block_path(h, path, sizeof(path));
	chmod(path, 0644);
	ck_assert_int_ge(fd = open(path, O_RDWR), 0);
	ck_assert_int_eq(pread(fd, &c, 1, at), 1);
	c ^= 0x01;
	ck_assert_int_eq(pwrite(fd, &c, 1, at), 1);
	close(fd);
}

/* ------------------------------------------------------------------ */

START_TEST(test_put_get)
{
	struct blockstore_info info;
	struct blockstore_usage u;
	struct err e = {0};
	struct hash h;
	char path[400];
	struct stat st;
	void *p = make_block(1, 5000, &h), *got;
	size_t len;

	fsyncs = 0;
	ck_assert_int_eq(blockstore_put(bs, &h, p, 5000, 0, &e), 1);
	ck_assert_int_ge(fsyncs, 2);    /* the file and its directory */
	block_path(&h, path, sizeof(path));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 5000);
	ck_assert_int_eq(st.st_mode & 0777, 0444);
	ck_assert_int_eq(blockstore_get(bs, &h, BLOCKSTORE_VERIFY, &got, &len, &e), 0);
	ck_assert_uint_eq(len, 5000);
	ck_assert_mem_eq(got, p, 5000);
	free(got);
	ck_assert_int_eq(blockstore_stat(bs, &h, &info, &e), 0);
	ck_assert_uint_eq(info.size, 5000);
	ck_assert_int_eq(info.mtime, st.st_mtime);
	ck_assert_int_eq(blockstore_usage(bs, &u, &e), 0);
	ck_assert_uint_eq(u.blocks, 1);
	ck_assert_uint_eq(u.bytes, 5000);
	ck_assert_uint_eq(u.capacity, u.fs_size);
	ck_assert_uint_le(u.free, u.fs_avail);
	ck_assert_int_eq(count_temps(), 0);
	ck_assert_int_eq(blockstore_delete(bs, &h, &e), 0);
	ck_assert_int_eq(blockstore_get(bs, &h, 0, &got, &len, &e), -ENOENT);
	ck_assert_int_eq(blockstore_stat(bs, &h, &info, &e), -ENOENT);
	ck_assert_int_eq(blockstore_delete(bs, &h, &e), -ENOENT);
	ck_assert_int_eq(blockstore_usage(bs, &u, &e), 0);
	ck_assert_uint_eq(u.blocks, 0);
	ck_assert_uint_eq(u.bytes, 0);
	free(p);
}
END_TEST

START_TEST(test_empty_block)
{
	struct err e = {0};
	struct hash h;
	void *got;
	size_t len = 1;

	hash_buf(&h, "", 0);
	ck_assert_int_eq(blockstore_put(bs, &h, "", 0, 0, &e), 1);
	ck_assert_int_eq(blockstore_get(bs, &h, BLOCKSTORE_VERIFY, &got, &len, &e), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_null(got);
}
END_TEST

START_TEST(test_idempotent)
{
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct blockstore_info info;
	struct blockstore_usage u;
	struct err e = {0};
	struct hash h;
	char path[400];
	void *p = make_block(2, 3000, &h);

	ck_assert_int_eq(blockstore_put(bs, &h, p, 3000, 0, &e), 1);
	block_path(&h, path, sizeof(path));
	ck_assert_int_eq(utimensat(AT_FDCWD, path, old, 0), 0);
	ck_assert_int_eq(blockstore_stat(bs, &h, &info, &e), 0);
	ck_assert_int_eq(info.mtime, 1000000000);
	fsyncs = 0;
	ck_assert_int_eq(blockstore_put(bs, &h, p, 3000, BLOCKSTORE_PUT_HASHED, &e), 0);
	ck_assert_int_eq(fsyncs, 0);    /* not written again */
	ck_assert_int_eq(blockstore_stat(bs, &h, &info, &e), 0);
	ck_assert_int_gt(info.mtime, 1000000000);
	ck_assert_int_eq(blockstore_usage(bs, &u, &e), 0);
	ck_assert_uint_eq(u.blocks, 1);
	ck_assert_uint_eq(u.bytes, 3000);
	free(p);
}
END_TEST

START_TEST(test_bad_hash)
{
	struct err e = {0};
	struct hash h, other;
	void *p = make_block(3, 100, &h);

	free(make_block(4, 1, &other));
	ck_assert_int_eq(blockstore_put(bs, &other, p, 100, 0, &e), -EBADMSG);
	ck_assert_msg(strstr(e.msg, "does not hash") != NULL, "%s", e.msg);
	ck_assert_int_eq(count_temps(), 0);
	ck_assert_int_eq(blockstore_stat(bs, &other, &(struct blockstore_info){0}, &e), -ENOENT);
	free(p);
}
END_TEST

/* A stored file of the wrong size (torn by hand) is replaced by a re-PUT. */
START_TEST(test_put_replaces_wrong_size)
{
	struct err e = {0};
	struct hash h;
	char path[400];
	void *p = make_block(5, 2000, &h), *got;
	size_t len;

	ck_assert_int_eq(blockstore_put(bs, &h, p, 2000, 0, &e), 1);
	block_path(&h, path, sizeof(path));
	ck_assert_int_eq(truncate(path, 1000), 0);
	ck_assert_int_eq(blockstore_put(bs, &h, p, 2000, 0, &e), 1);
	ck_assert_int_eq(blockstore_get(bs, &h, BLOCKSTORE_VERIFY, &got, &len, &e), 0);
	ck_assert_uint_eq(len, 2000);
	free(got);
	ck_assert_int_eq(count_files(BLOCKSTORE_QUARANTINE, ""), 1);
	free(p);
}
END_TEST

static int cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, HASH_LEN);
}

START_TEST(test_list)
{
	enum { N = 300 };
	struct blockstore_info *out = calloc(BLOCKSTORE_LIST_MAX, sizeof(*out));
	struct hash *all = calloc(N, sizeof(*all)), after;
	struct err e = {0};
	int n, total = 0, have_after = 0;

	ck_assert_ptr_nonnull(out);
	for (int i = 0; i < N; i++) {
		void *p = make_block(100 + (unsigned)i, 8 + (size_t)i % 50, &all[i]);

		ck_assert_int_eq(blockstore_put(bs, &all[i], p, 8 + (size_t)i % 50, 0, &e), 1);
		free(p);
	}
	qsort(all, N, sizeof(*all), cmp_hash);
	n = blockstore_list(bs, NULL, BLOCKSTORE_LIST_MAX, out, &e);
	ck_assert_int_eq(n, N);
	for (int i = 0; i < n; i++)
		ck_assert_mem_eq(&out[i].hash, &all[i], HASH_LEN);
	/* paging by 7 gives the same sequence */
	for (;;) {
		struct blockstore_info page[7];

		n = blockstore_list(bs, have_after ? &after : NULL, 7, page, &e);
		ck_assert_int_ge(n, 0);
		for (int i = 0; i < n; i++)
			ck_assert_mem_eq(&page[i].hash, &out[total + i].hash, HASH_LEN);
		total += n;
		if (n < 7)
			break;
		after = page[n - 1].hash;
		have_after = 1;
	}
	ck_assert_int_eq(total, N);
	/* after the last: nothing; limits are checked */
	ck_assert_int_eq(blockstore_list(bs, &out[total - 1].hash, 10, out, &e), 0);
	memset(&after, 0xff, sizeof(after));
	ck_assert_int_eq(blockstore_list(bs, &after, 10, out, &e), 0);
	ck_assert_int_eq(blockstore_list(bs, NULL, 0, out, &e), -EINVAL);
	ck_assert_int_eq(blockstore_list(bs, NULL, BLOCKSTORE_LIST_MAX + 1, out, &e), -EINVAL);
	/* sizes and times come back */
	n = blockstore_list(bs, NULL, 1, out, &e);
	ck_assert_int_eq(n, 1);
	ck_assert_uint_ge(out[0].size, 8);
	ck_assert_uint_le(out[0].size, 57);
	ck_assert_int_gt(out[0].mtime, 1000000000);
	free(out);
	free(all);
}
END_TEST

START_TEST(test_temp_cleanup)
{
	struct blockstore_usage u;
	struct err e = {0};
	struct hash h;
	char path[400];
	void *p = make_block(6, 100, &h);
	int fd;

	ck_assert_int_eq(blockstore_put(bs, &h, p, 100, 0, &e), 1);
	blockstore_free(bs);
	/* what a crash mid-PUT leaves */
	snprintf(path, sizeof(path), "%s/ab/.tmp-abcd-1-0", data);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0444), 0);
	ck_assert_int_eq(write(fd, "partial", 7), 7);
	close(fd);
	snprintf(path, sizeof(path), "%s/00/.tmp-x", data);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0444), 0);
	close(fd);
	/* and names that are not blocks are left alone */
	snprintf(path, sizeof(path), "%s/00/README", data);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0644), 0);
	close(fd);
	ck_assert_int_eq(count_temps(), 2);
	ck_assert_ptr_nonnull(bs = open_store(0, &e));
	ck_assert_int_eq(count_temps(), 0);
	ck_assert_uint_eq(blockstore_temp_removed(bs), 2);
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(blockstore_usage(bs, &u, &e), 0);
	ck_assert_uint_eq(u.blocks, 1);
	ck_assert_uint_eq(u.bytes, 100);
	free(p);
}
END_TEST

START_TEST(test_lock_and_id)
{
	struct err e = {0};
	char id[64];

	ck_assert_uint_eq(strlen(blockstore_id(bs)), 32);
	snprintf(id, sizeof(id), "%s", blockstore_id(bs));
	ck_assert_ptr_null(open_store(0, &e));
	ck_assert_int_eq(e.code, -EBUSY);
	ck_assert_msg(strstr(e.msg, "in use") != NULL, "%s", e.msg);
	blockstore_free(bs);
	ck_assert_ptr_nonnull(bs = open_store(0, &e));
	ck_assert_str_eq(blockstore_id(bs), id);
}
END_TEST

START_TEST(test_quarantine_on_read)
{
	struct blockstore_usage u;
	struct err e = {0};
	struct hash h;
	char path[400];
	void *p = make_block(7, 4096, &h), *got;
	size_t len;

	ck_assert_int_eq(blockstore_put(bs, &h, p, 4096, 0, &e), 1);
	flip_byte(&h, 1234);
	/* unverified reads hand out what is there */
	ck_assert_int_eq(blockstore_get(bs, &h, 0, &got, &len, &e), 0);
	ck_assert_mem_ne(got, p, 4096);
	free(got);
	ck_assert_int_eq(blockstore_get(bs, &h, BLOCKSTORE_VERIFY, &got, &len, &e), -EBADMSG);
	ck_assert_ptr_null(got);
	block_path(&h, path, sizeof(path));
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(count_files(BLOCKSTORE_QUARANTINE, ""), 1);
	ck_assert_int_eq(blockstore_get(bs, &h, BLOCKSTORE_VERIFY, &got, &len, &e), -ENOENT);
	ck_assert_int_eq(blockstore_usage(bs, &u, &e), 0);
	ck_assert_uint_eq(u.blocks, 0);
	ck_assert_uint_eq(u.quarantined, 1);
	/* a good copy can come back */
	ck_assert_int_eq(blockstore_put(bs, &h, p, 4096, 0, &e), 1);
	free(p);
}
END_TEST

START_TEST(test_scrub)
{
	enum { N = 40 };
	struct blockstore_scrub s;
	struct blockstore_usage u;
	struct hash h[N];
	struct err e = {0};
	int steps = 0;

	for (int i = 0; i < N; i++) {
		void *p = make_block(200 + (unsigned)i, 1000 + (size_t)i, &h[i]);

		ck_assert_int_eq(blockstore_put(bs, &h[i], p, 1000 + (size_t)i, 0, &e), 1);
		free(p);
	}
	flip_byte(&h[3], 0);
	flip_byte(&h[17], 999);
	ck_assert_int_eq(blockstore_verify(bs, &h[0], NULL, &e), 0);
	blockstore_scrub_begin(&s);
	while (!s.done) {
		/* a small budget: a few blocks per step */
		ck_assert_int_ge(blockstore_scrub_step(bs, &s, 3000, &e), 0);
		ck_assert_int_lt(++steps, 1000);
	}
	ck_assert_int_gt(steps, 5);
	ck_assert_uint_eq(s.blocks, N);
	ck_assert_uint_eq(s.corrupt, 2);
	ck_assert_uint_eq(s.errors, 0);
	ck_assert_int_eq(blockstore_verify(bs, &h[3], NULL, &e), -ENOENT);
	ck_assert_int_eq(blockstore_verify(bs, &h[17], NULL, &e), -ENOENT);
	ck_assert_int_eq(count_files(BLOCKSTORE_QUARANTINE, ""), 2);
	ck_assert_int_eq(blockstore_usage(bs, &u, &e), 0);
	ck_assert_uint_eq(u.blocks, N - 2);
	/* a second pass finds nothing new; budget 0 still moves */
	blockstore_scrub_begin(&s);
	while (!s.done)
		ck_assert_int_ge(blockstore_scrub_step(bs, &s, 0, &e), 0);
	ck_assert_uint_eq(s.blocks, N - 2);
	ck_assert_uint_eq(s.corrupt, 0);
	/* an empty store is done at once */
	teardown();
	setup();
	blockstore_scrub_begin(&s);
	ck_assert_int_eq(blockstore_scrub_step(bs, &s, 100, &e), 0);
	ck_assert_int_eq(s.done, 1);
}
END_TEST

START_TEST(test_capacity)
{
	struct blockstore_usage u;
	struct err e = {0};
	struct hash a, b;
	void *pa = make_block(8, 80, &a), *pb = make_block(9, 80, &b);

	blockstore_free(bs);
	ck_assert_ptr_nonnull(bs = open_store(100, &e));
	ck_assert_int_eq(blockstore_put(bs, &a, pa, 80, 0, &e), 1);
	ck_assert_int_eq(blockstore_put(bs, &b, pb, 80, 0, &e), -ENOSPC);
	ck_assert_msg(strstr(e.msg, "capacity") != NULL, "%s", e.msg);
	ck_assert_int_eq(blockstore_put(bs, &a, pa, 80, 0, &e), 0);  /* present: fine */
	ck_assert_int_eq(count_temps(), 0);
	ck_assert_int_eq(blockstore_usage(bs, &u, &e), 0);
	ck_assert_uint_eq(u.capacity, 100);
	ck_assert_uint_eq(u.free, 20);
	free(pa);
	free(pb);
}
END_TEST

/* A real full file system: a 1 MiB tmpfs (needs root; skipped otherwise). */
START_TEST(test_enospc)
{
	struct err e = {0};
	struct hash a, b;
	void *pa = make_block(10, 600 * 1024, &a), *pb = make_block(11, 600 * 1024, &b), *got;
	size_t len;

	blockstore_free(bs);
	bs = NULL;
	if (mkdir(data, 0755) < 0 && errno != EEXIST)
		ck_abort_msg("mkdir: %s", strerror(errno));
	if (mount("tmpfs", data, "tmpfs", 0, "size=1m") < 0) {
		fprintf(stderr, "# test_enospc skipped: cannot mount a tmpfs (%s)\n",
			strerror(errno));
		free(pa);
		free(pb);
		return;
	}
	ck_assert_ptr_nonnull(bs = open_store(0, &e));
	ck_assert_int_eq(blockstore_put(bs, &a, pa, 600 * 1024, 0, &e), 1);
	ck_assert_int_eq(blockstore_put(bs, &b, pb, 600 * 1024, 0, &e), -ENOSPC);
	ck_assert_msg(strstr(e.msg, "write") != NULL, "%s", e.msg);
	ck_assert_int_eq(count_temps(), 0);
	ck_assert_int_eq(blockstore_get(bs, &b, 0, &got, &len, &e), -ENOENT);
	ck_assert_int_eq(blockstore_get(bs, &a, BLOCKSTORE_VERIFY, &got, &len, &e), 0);
	free(got);
	/* room again after a delete */
	ck_assert_int_eq(blockstore_delete(bs, &a, &e), 0);
	ck_assert_int_eq(blockstore_put(bs, &b, pb, 600 * 1024, 0, &e), 1);
	blockstore_free(bs);
	bs = NULL;
	ck_assert_int_eq(umount(data), 0);
	free(pa);
	free(pb);
}
END_TEST

START_TEST(test_open_errors)
{
	struct blockstore_options o = { .dir = "/nonexistent/dir/data" };
	struct err e = {0};

	ck_assert_ptr_null(blockstore_open(&o, &e));
	ck_assert_int_eq(e.code, -ENOENT);
	ck_assert_msg(strstr(e.msg, "/nonexistent/dir/data") != NULL, "%s", e.msg);
	o.dir = "";
	ck_assert_ptr_null(blockstore_open(&o, &e));
	ck_assert_int_eq(e.code, -EINVAL);
}
END_TEST

static Suite *blockstore_suite(void)
{
	Suite *s = suite_create("blockstore");
	TCase *tc;

	tc = tcase_create("blocks");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_empty_block);
	tcase_add_test(tc, test_idempotent);
	tcase_add_test(tc, test_bad_hash);
	tcase_add_test(tc, test_put_replaces_wrong_size);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("list");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_list);
	suite_add_tcase(s, tc);
	tc = tcase_create("recovery");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_temp_cleanup);
	tcase_add_test(tc, test_lock_and_id);
	suite_add_tcase(s, tc);
	tc = tcase_create("integrity");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_quarantine_on_read);
	tcase_add_test(tc, test_scrub);
	suite_add_tcase(s, tc);
	tc = tcase_create("space");
	tcase_add_unchecked_fixture(tc, case_setup, case_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_capacity);
	tcase_add_test(tc, test_enospc);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blockstore_suite)
