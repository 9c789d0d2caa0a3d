/* fsops: the metadata-rate driver of bench/fs/run, the same loop on every
 * file system it compares (dnsfs, bindfs, tmpfs): create N files of SIZE
 * bytes (open, write, close), or stat N existing names; one process, one
 * thread, so the figure is the latency of one operation after another, as
 * an untar or a build sees it. Prints "N SECONDS OPS_PER_S".
 *   fsops create DIR N SIZE
 *   fsops stat DIR N */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fprintf(stderr, "usage: fsops create DIR N SIZE | fsops stat DIR N\n");
	return 2;
}

/* Files DIR/f<i> of size bytes each; 0 or -errno (with a message). */
static int do_create(const char *dir, long n, size_t size, const char *data)
{
	char path[4096];

	for (long i = 0; i < n; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			goto fail;
		if (size > 0 && write(fd, data, size) != (ssize_t)size) {
			int saved = errno;

			close(fd);
			errno = saved != 0 ? saved : EIO;
			goto fail;
		}
		if (close(fd) < 0)
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "fsops: %s: %s\n", path, strerror(errno));
	return -errno;
}

static int do_stat(const char *dir, long n)
{
	char path[4096];
	struct stat st;

	for (long i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		if (stat(path, &st) < 0) {
			fprintf(stderr, "fsops: stat %s: %s\n", path, strerror(errno));
			return -errno;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *data = NULL;
	size_t size = 0;
	double t0, t;
	long n;
	int r;

	if (argc < 4)
		return usage();
	n = atol(argv[3]);
	if (n <= 0)
		return usage();
	if (strcmp(argv[1], "create") == 0 && argc == 5) {
		size = (size_t)atol(argv[4]);
		data = malloc(size > 0 ? size : 1);
		if (data == NULL)
			return 1;
		for (size_t i = 0; i < size; i++)     /* not all zero: no file system may skip it */
			data[i] = (char)('a' + i % 26);
		t0 = now_s();
		r = do_create(argv[2], n, size, data);
	} else if (strcmp(argv[1], "stat") == 0 && argc == 4) {
		t0 = now_s();
		r = do_stat(argv[2], n);
	} else {
		return usage();
	}
	t = now_s() - t0;
	free(data);
	if (r < 0)
		return 1;
	printf("%ld %.3f %.1f\n", n, t, (double)n / (t > 0 ? t : 1e-9));
	return 0;
}
