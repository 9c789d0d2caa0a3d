/* metrics_host: the process and host figures of metrics_add_process_and_host
 * (see metrics.h), read from /proc at every render so that a per-node
 * bottleneck report can see cpu, memory, disk and network side by side.
 * Part of the metrics module, built on its public API only. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

enum {
	P_CPU, P_RSS, P_VSIZE, P_START, P_FDS, P_MAXFDS,
	N_CPU, N_LOAD1, N_MEMTOTAL, N_MEMAVAIL,
	D_READ_BYTES, D_WRITTEN_BYTES, D_READS, D_WRITES, D_IO_TIME,
	NET_RX_BYTES, NET_RX_PACKETS, NET_RX_ERRS, NET_RX_DROP,
	NET_TX_BYTES, NET_TX_PACKETS, NET_TX_ERRS, NET_TX_DROP,
	NFAM
};

static const struct spec {
	enum metrics_type type;
	const char *name;
	const char *help;
	const char *label;      /* the one label name, or NULL */
} specs[NFAM] = {
	[P_CPU] = { METRICS_COUNTER, "process_cpu_seconds_total",
		"Total user and system CPU time spent in seconds.", NULL },
	[P_RSS] = { METRICS_GAUGE, "process_resident_memory_bytes",
		"Resident memory size in bytes.", NULL },
	[P_VSIZE] = { METRICS_GAUGE, "process_virtual_memory_bytes",
		"Virtual memory size in bytes.", NULL },
	[P_START] = { METRICS_GAUGE, "process_start_time_seconds",
		"Start time of the process since unix epoch in seconds.", NULL },
	[P_FDS] = { METRICS_GAUGE, "process_open_fds",
		"Number of open file descriptors.", NULL },
	[P_MAXFDS] = { METRICS_GAUGE, "process_max_fds",
		"Maximum number of open file descriptors.", NULL },
	[N_CPU] = { METRICS_COUNTER, "node_cpu_seconds_total",
		"Seconds all CPUs together spent in each mode.", "mode" },
	[N_LOAD1] = { METRICS_GAUGE, "node_load1", "1m load average.", NULL },
	[N_MEMTOTAL] = { METRICS_GAUGE, "node_memory_MemTotal_bytes",
		"Memory information field MemTotal_bytes.", NULL },
	[N_MEMAVAIL] = { METRICS_GAUGE, "node_memory_MemAvailable_bytes",
		"Memory information field MemAvailable_bytes.", NULL },
	[D_READ_BYTES] = { METRICS_COUNTER, "node_disk_read_bytes_total",
		"The total number of bytes read successfully.", "device" },
	[D_WRITTEN_BYTES] = { METRICS_COUNTER, "node_disk_written_bytes_total",
		"The total number of bytes written successfully.", "device" },
	[D_READS] = { METRICS_COUNTER, "node_disk_reads_completed_total",
		"The total number of reads completed successfully.", "device" },
	[D_WRITES] = { METRICS_COUNTER, "node_disk_writes_completed_total",
		"The total number of writes completed successfully.", "device" },
	[D_IO_TIME] = { METRICS_COUNTER, "node_disk_io_time_seconds_total",
		"Total seconds spent doing I/Os.", "device" },
	[NET_RX_BYTES] = { METRICS_COUNTER, "node_network_receive_bytes_total",
		"Network device statistic receive_bytes.", "device" },
	[NET_RX_PACKETS] = { METRICS_COUNTER, "node_network_receive_packets_total",
		"Network device statistic receive_packets.", "device" },
	[NET_RX_ERRS] = { METRICS_COUNTER, "node_network_receive_errs_total",
		"Network device statistic receive_errs.", "device" },
	[NET_RX_DROP] = { METRICS_COUNTER, "node_network_receive_drop_total",
		"Network device statistic receive_drop.", "device" },
	[NET_TX_BYTES] = { METRICS_COUNTER, "node_network_transmit_bytes_total",
		"Network device statistic transmit_bytes.", "device" },
	[NET_TX_PACKETS] = { METRICS_COUNTER, "node_network_transmit_packets_total",
		"Network device statistic transmit_packets.", "device" },
	[NET_TX_ERRS] = { METRICS_COUNTER, "node_network_transmit_errs_total",
		"Network device statistic transmit_errs.", "device" },
	[NET_TX_DROP] = { METRICS_COUNTER, "node_network_transmit_drop_total",
		"Network device statistic transmit_drop.", "device" },
};

struct host {
	char *root;                             /* "/proc" or a test tree; owned */
	double tck;                             /* clock ticks per second */
	double page;                            /* bytes per page */
	struct metrics_family *f[NFAM];         /* registered in m */
};

/* Set family i's child for label value (NULL: no label) to v. */
static void set(struct host *h, int i, const char *label, double v)
{
	const char *const *values = label ? &label : NULL;
	size_t n = label ? 1 : 0;

	if (specs[i].type == METRICS_COUNTER)
		metrics_counter_set(metrics_counter_getv(h->f[i], values, n), v);
	else
		metrics_gauge_set(metrics_gauge_getv(h->f[i], values, n), v);
}

static void clear(struct host *h, int from, int to)
{
	for (int i = from; i <= to; i++)
		metrics_family_clear(h->f[i]);
}

static FILE *open_at(const struct host *h, const char *rel)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", h->root, rel) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return fopen(path, "re");
}

/* Up to max decimal numbers from s; the count read. A negative one (the
 * nice value in /proc/self/stat) is read but wraps: only skip over those. */
static size_t parse_u64s(const char *s, unsigned long long *out, size_t max)
{
	size_t n = 0;

	while (n < max) {
		char *end;

		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '-' && s[1] >= '0' && s[1] <= '9')
			out[n++] = (unsigned long long)strtoll(s, &end, 10);
		else if (*s >= '0' && *s <= '9')
			out[n++] = strtoull(s, &end, 10);
		else
			break;
		s = end;
	}
	return n;
}

/* ------------------------------------------------------------- process --- */

/* /proc/stat: node_cpu_seconds_total and the boot time. */
static int read_stat(struct host *h, double *btime)
{
	static const char *const modes[] = {
		"user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
	};
	unsigned long long v[8];
	FILE *fp = open_at(h, "stat");
	char *line = NULL;
	size_t cap = 0, n = 0;
	int rc = -EINVAL;

	if (fp == NULL) {
		rc = -errno;
		goto fail;
	}
	while (getline(&line, &cap, fp) > 0) {
		unsigned long long b;

		if (strncmp(line, "cpu ", 4) == 0 && (n = parse_u64s(line + 4, v, 8)) >= 4) {
			for (size_t i = 0; i < n; i++)
				set(h, N_CPU, modes[i], (double)v[i] / h->tck);
			rc = 0;
		} else if (strncmp(line, "btime ", 6) == 0 && parse_u64s(line + 6, &b, 1) == 1) {
			*btime = (double)b;
		}
	}
	free(line);
	fclose(fp);
	if (rc == 0)
		return 0;
fail:
	clear(h, N_CPU, N_CPU);
	return rc;
}

/* /proc/self/stat: cpu time, memory and start time of this process. */
static int read_self_stat(struct host *h, double btime)
{
	unsigned long long f[22];
	char buf[1024], *p;
	FILE *fp = open_at(h, "self/stat");
	size_t n;
	int rc = -EINVAL;

	if (fp == NULL) {
		rc = -errno;
		goto fail;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold anything, so parse after the
	 * last ')'. f[k] is field k + 3 of proc(5) ("state" is f[0], skipped). */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ')
		goto fail;
	n = parse_u64s(p + 4, f + 1, 21);
	if (n < 21)
		goto fail;
	set(h, P_CPU, NULL, (double)(f[11] + f[12]) / h->tck);
	set(h, P_VSIZE, NULL, (double)f[20]);
	set(h, P_RSS, NULL, (double)f[21] * h->page);
	if (isnan(btime))
		clear(h, P_START, P_START);
	else
		set(h, P_START, NULL, btime + (double)f[19] / h->tck);
	return 0;
fail:
	clear(h, P_CPU, P_START);
	return rc;
}

static int read_fds(struct host *h)
{
	char path[PATH_MAX];
	struct dirent *d;
	double n = 0;
	DIR *dir;
	int self, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/self/fd", h->root) >= sizeof(path) ||
	    (dir = opendir(path)) == NULL) {
		rc = -errno;
		clear(h, P_FDS, P_FDS);
		return rc;
	}
	self = dirfd(dir);
	while ((d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.' && atoi(d->d_name) != self)
			n++;
	closedir(dir);
	set(h, P_FDS, NULL, n);
	return 0;
}

static int read_limits(struct host *h)
{
	static const char key[] = "Max open files";
	FILE *fp = open_at(h, "self/limits");
	char *line = NULL;
	size_t cap = 0;
	int rc = -EINVAL;

	if (fp == NULL) {
		rc = -errno;
		clear(h, P_MAXFDS, P_MAXFDS);
		return rc;
	}
	while (getline(&line, &cap, fp) > 0) {
		const char *s = line + sizeof(key) - 1;
		unsigned long long v;

		if (strncmp(line, key, sizeof(key) - 1) != 0)
			continue;
		s += strspn(s, " ");
		if (strncmp(s, "unlimited", 9) == 0) {
			set(h, P_MAXFDS, NULL, INFINITY);
			rc = 0;
		} else if (parse_u64s(s, &v, 1) == 1) {
			set(h, P_MAXFDS, NULL, (double)v);
			rc = 0;
		}
		break;
	}
	free(line);
	fclose(fp);
	if (rc < 0)
		clear(h, P_MAXFDS, P_MAXFDS);
	return rc;
}

/* ---------------------------------------------------------------- host --- */

static int read_loadavg(struct host *h)
{
	FILE *fp = open_at(h, "loadavg");
	double v;
	int ok, rc;

	if (fp == NULL) {
		rc = -errno;
		clear(h, N_LOAD1, N_LOAD1);
		return rc;
	}
	ok = fscanf(fp, "%lf", &v) == 1;
	fclose(fp);
	if (!ok) {
		clear(h, N_LOAD1, N_LOAD1);
		return -EINVAL;
	}
	set(h, N_LOAD1, NULL, v);
	return 0;
}

static int read_meminfo(struct host *h)
{
	FILE *fp = open_at(h, "meminfo");
	char *line = NULL;
	size_t cap = 0;
	int found[2] = { 0, 0 }, rc;

	if (fp == NULL) {
		rc = -errno;
		clear(h, N_MEMTOTAL, N_MEMAVAIL);
		return rc;
	}
	while (getline(&line, &cap, fp) > 0) {
		int i = strncmp(line, "MemTotal:", 9) == 0 ? 0 :
			strncmp(line, "MemAvailable:", 13) == 0 ? 1 : -1;
		unsigned long long kb;

		if (i >= 0 && parse_u64s(strchr(line, ':') + 1, &kb, 1) == 1) {
			set(h, N_MEMTOTAL + i, NULL, (double)kb * 1024);
			found[i] = 1;
		}
	}
	free(line);
	fclose(fp);
	for (int i = 0; i < 2; i++)
		if (!found[i])
			clear(h, N_MEMTOTAL + i, N_MEMTOTAL + i);
	return found[0] && found[1] ? 0 : -EINVAL;
}

struct disk {
	char name[64];
	unsigned long long f[11];       /* the fields after the name, proc(5) */
};

static int is_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Is disk i a partition of another one in the list? The kernel names
 * partitions after their disk, with a 'p' when the disk name ends in a digit:
 * sda -> sda1, nvme0n1 -> nvme0n1p1, mmcblk0 -> mmcblk0p2. */
static int is_partition(const struct disk *d, size_t n, size_t i)
{
	const char *name = d[i].name;

	for (size_t j = 0; j < n; j++) {
		size_t len = strlen(d[j].name);
		const char *rest = name + len;

		if (j == i || len == 0 || strncmp(name, d[j].name, len) != 0)
			continue;
		if (d[j].name[len - 1] >= '0' && d[j].name[len - 1] <= '9') {
			if (*rest != 'p')
				continue;
			rest++;
		}
		if (is_digits(rest))
			return 1;
	}
	return 0;
}

static int is_virtual(const char *name)
{
	return strncmp(name, "loop", 4) == 0 || strncmp(name, "ram", 3) == 0 ||
	       strncmp(name, "zram", 4) == 0;
}

static int read_diskstats(struct host *h)
{
	FILE *fp = open_at(h, "diskstats");
	struct disk *d = NULL, *nd;
	char *line = NULL;
	size_t cap = 0, n = 0, dcap = 0;
	int rc = 0;

	clear(h, D_READ_BYTES, D_IO_TIME);
	if (fp == NULL)
		return -errno;
	while (getline(&line, &cap, fp) > 0) {
		unsigned major, minor;
		int off = 0;

		if (n == dcap) {
			dcap = dcap ? dcap * 2 : 16;
			nd = realloc(d, dcap * sizeof(*d));
			if (nd == NULL) {
				rc = -ENOMEM;
				goto out;
			}
			d = nd;
		}
		if (sscanf(line, "%u %u %63s %n", &major, &minor, d[n].name, &off) < 3 || off == 0 ||
		    parse_u64s(line + off, d[n].f, 11) < 11)
			continue;       /* a line we do not understand */
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = d[i].name;

		if (is_virtual(name) || is_partition(d, n, i))
			continue;
		/* Sectors are 512 bytes here whatever the device's. */
		set(h, D_READS, name, (double)d[i].f[0]);
		set(h, D_READ_BYTES, name, (double)d[i].f[2] * 512);
		set(h, D_WRITES, name, (double)d[i].f[4]);
		set(h, D_WRITTEN_BYTES, name, (double)d[i].f[6] * 512);
		set(h, D_IO_TIME, name, (double)d[i].f[9] / 1000);
	}
out:
	free(d);
	free(line);
	fclose(fp);
	if (rc < 0)
		clear(h, D_READ_BYTES, D_IO_TIME);
	return rc;
}

static int read_netdev(struct host *h)
{
	/* Columns of /proc/net/dev that become metrics, in family order. */
	static const int col[8] = { 0, 1, 2, 3, 8, 9, 10, 11 };
	FILE *fp = open_at(h, "net/dev");
	char *line = NULL;
	size_t cap = 0;

	clear(h, NET_RX_BYTES, NET_TX_DROP);
	if (fp == NULL)
		return -errno;
	while (getline(&line, &cap, fp) > 0) {
		unsigned long long v[16];
		char *colon = strchr(line, ':'), *name = line;

		/* "  eth0: 123 ..."; the two header lines have no ':'. */
		if (colon == NULL || parse_u64s(colon + 1, v, 16) < 16)
			continue;
		*colon = '\0';
		name += strspn(name, " \t");
		if (*name == '\0')
			continue;
		for (int i = 0; i < 8; i++)
			set(h, NET_RX_BYTES + i, name, (double)v[col[i]]);
	}
	free(line);
	fclose(fp);
	return 0;
}

/* ------------------------------------------------------------ register --- */

static int host_collect(void *arg)
{
	struct host *h = arg;
	double btime = NAN;
	int rcs[8], rc = 0;

	rcs[0] = read_stat(h, &btime);
	rcs[1] = read_self_stat(h, btime);
	rcs[2] = read_fds(h);
	rcs[3] = read_limits(h);
	rcs[4] = read_loadavg(h);
	rcs[5] = read_meminfo(h);
	rcs[6] = read_diskstats(h);
	rcs[7] = read_netdev(h);
	for (int i = 0; i < 8 && rc == 0; i++)
		rc = rcs[i];
	return rc;
}

static void host_free(void *arg)
{
	struct host *h = arg;

	free(h->root);
	free(h);
}

int metrics_add_process_and_host_at(struct metrics *m, const char *proc_root, struct err *e)
{
	struct host *h = calloc(1, sizeof(*h));
	struct err local;
	int rc = -ENOMEM, i;

	if (e == NULL)
		e = &local;
	if (h == NULL || (h->root = strdup(proc_root)) == NULL) {
		err_set(e, rc, "process and host metrics: out of memory");
		goto fail;
	}
	h->tck = (double)sysconf(_SC_CLK_TCK);
	h->page = (double)sysconf(_SC_PAGESIZE);
	if (!(h->tck > 0))
		h->tck = 100;
	if (!(h->page > 0))
		h->page = 4096;
	for (i = 0; i < NFAM; i++) {
		const struct spec *s = &specs[i];
		const char *const labels[2] = { s->label, NULL };

		if (s->type == METRICS_COUNTER)
			h->f[i] = metrics_counter_family(m, s->name, s->help, labels, e);
		else
			h->f[i] = metrics_gauge_family(m, s->name, s->help, labels, e);
		if (h->f[i] == NULL) {
			rc = e->code;
			goto fail;
		}
	}
	rc = metrics_collector_add(m, host_collect, h, host_free, e);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	if (h != NULL) {
		for (i = 0; i < NFAM; i++)
			metrics_family_remove(m, h->f[i]);
		host_free(h);
	}
	return rc;
}

int metrics_add_process_and_host(struct metrics *m, struct err *e)
{
	return metrics_add_process_and_host_at(m, "/proc", e);
}
