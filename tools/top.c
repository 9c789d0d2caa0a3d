/* top: `dnsfsctl top` (see top.h). Each round scrapes every node's /metrics
 * in parallel and reads /proc of the cluster's pids; figures are the deltas
 * between two rounds (rates, and latency quantiles from histogram bucket
 * deltas through lib/promtext), and a few rules turn them into bottleneck
 * findings, strongest first. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "env.h"
#include "httpc.h"
#include "proc.h"
#include "promtext.h"
#include "top.h"
#include "toprules.h"

#define TOP_NODES_MAX 72
#define TOP_CONNECT_MS 500              /* a scrape that takes longer: not answering */
#define TOP_SCRAPE_MS 1000
#define TOP_BODY_MAX (8u << 20)
#define TOP_OUTLIER_MIN 3               /* observations in the interval to judge a p99 */

/* In the order of toprules_kind. */
enum top_kind { TOP_MDS, TOP_REDIS, TOP_BLOCKD, TOP_MOUNT };

/* What one round saw of one node. */
struct top_snap {
	int64_t t_ms;                   /* when it was taken */
	int scraped;                    /* /metrics answered and parsed */
	char why[160];                  /* else why not */
	struct promtext pt;             /* the samples (owned) */
	int proc;                       /* /proc/<pid>/stat was read */
	char state;                     /* its state letter: R, S, D, T, Z */
	double cpu_s;                   /* utime + stime */
	int io;                         /* /proc/<pid>/io was read */
	double rd, wr;                  /* storage bytes read and written */
};

struct top_node {
	char name[32];                  /* "mds", "redis", "blockd-3", "mount" */
	enum top_kind kind;
	char addr[96];                  /* host:port of /metrics, "" if it has none */
	struct httpc_pool *pool;        /* owned; NULL if no addr */
	char pidfile[PATH_MAX + 48];    /* DIR/<name>.pid */
	pid_t pid;                      /* alive at the last round, else 0 */
	struct top_snap snap[2];        /* indexed by the round's parity */
};

/* One node over one interval; NAN where unknown. */
struct top_figs {
	double cpu;                     /* share of one core */
	double rd, wr, net;             /* bytes/s */
	double reqs;                    /* requests/s */
	double p50, p99;                /* request latency, s */
	double fsync99, put99, get99;   /* blockd */
	double upd, commit99, share;    /* mds: updates/s, commit p99, commit/update time */
};

struct top {
	char dir[PATH_MAX];
	double interval;                /* seconds between rounds */
	long count;                     /* blocks to print; 0 forever */
	int tty;
	struct top_node *nodes;         /* n owned */
	size_t n;
	int cur;                        /* snap index of the newest round */
	struct top_node *mds;           /* the node whose metrics time Redis, or NULL */
};

/* ================================================================ nodes === */

static int top_add(struct top *t, const char *name, enum top_kind kind, const char *addr,
		   struct err *e)
{
	struct top_node *nd;
	int r;

	if (t->n == TOP_NODES_MAX)
		return err_set(e, -E2BIG, "more than %d nodes", TOP_NODES_MAX);
	nd = &t->nodes[t->n];
	memset(nd, 0, sizeof(*nd));
	snprintf(nd->name, sizeof(nd->name), "%s", name);
	nd->kind = kind;
	snprintf(nd->pidfile, sizeof(nd->pidfile), "%s/%s.pid", t->dir, name);
	if (addr != NULL) {
		snprintf(nd->addr, sizeof(nd->addr), "%s", addr);
		r = httpc_pool_new(&nd->pool, addr, 1, e);
		if (r < 0) {
			err_prefix(e, "%s: ", name);
			return r;
		}
	}
	t->n++;
	return 0;
}

/* The nodes of DIR/cluster.env: the mds, Redis (timed through the mds), each
 * blockd of DNSFS_BLOCKD, and the mount if it has a pid file. */
static int top_load(struct top *t, struct err *e)
{
	struct env env;
	char path[PATH_MAX + 16], addr[96], name[32], *list = NULL, *save = NULL, *w;
	const char *host, *port, *v;
	int r, k = 0;

	env_init(&env);
	snprintf(path, sizeof(path), "%s/cluster.env", t->dir);
	if ((r = env_read(&env, path, e)) < 0)
		goto fail;
	t->nodes = calloc(TOP_NODES_MAX, sizeof(*t->nodes));
	if (t->nodes == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	host = env_get(&env, "DNSFS_MDS_ADDR");
	port = env_get(&env, "DNSFS_MDS_METRICS_PORT");
	if (host != NULL && port != NULL && port[0] != '\0') {
		snprintf(addr, sizeof(addr), "%s:%s", host, port);
		if ((r = top_add(t, "mds", TOP_MDS, addr, e)) < 0)
			goto fail;
		t->mds = &t->nodes[t->n - 1];
	}
	if ((r = top_add(t, "redis", TOP_REDIS, NULL, e)) < 0)
		goto fail;
	v = env_get(&env, "DNSFS_BLOCKD");
	if (v != NULL && (list = strdup(v)) == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	for (w = list ? strtok_r(list, " \t,", &save) : NULL; w != NULL;
	     w = strtok_r(NULL, " \t,", &save)) {
		char *eq = strchr(w, '=');

		snprintf(name, sizeof(name), "blockd-%d", ++k);
		if ((r = top_add(t, name, TOP_BLOCKD, eq ? eq + 1 : w, e)) < 0)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s/mount.pid", t->dir);
	if (access(path, F_OK) == 0 && (r = top_add(t, "mount", TOP_MOUNT, NULL, e)) < 0)
		goto fail;
	r = 0;
fail:
	free(list);
	env_release(&env);
	return r;
}

static void top_release(struct top *t)
{
	for (size_t i = 0; i < t->n; i++) {
		httpc_pool_free(t->nodes[i].pool);
		promtext_release(&t->nodes[i].snap[0].pt);
		promtext_release(&t->nodes[i].snap[1].pt);
	}
	free(t->nodes);
	t->nodes = NULL;
	t->n = 0;
}

/* ================================================================ a round === */

/* utime + stime and the state letter from /proc/<pid>/stat. */
static int read_stat(pid_t pid, struct top_snap *s)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields follow the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &s->state, &ut, &st) != 3)
		return -EINVAL;
	s->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	s->proc = 1;
	return 0;
}

/* read_bytes and write_bytes (what reached storage) from /proc/<pid>/io. */
static int read_io(pid_t pid, struct top_snap *s)
{
	char path[64], line[128];
	unsigned long long v;
	int got = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -errno;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "read_bytes: %llu", &v) == 1) {
			s->rd = (double)v;
			got |= 1;
		} else if (sscanf(line, "write_bytes: %llu", &v) == 1) {
			s->wr = (double)v;
			got |= 2;
		}
	}
	fclose(f);
	s->io = got == 3;
	return s->io ? 0 : -EINVAL;
}

static void top_proc(struct top_node *nd, struct top_snap *s)
{
	pid_t pid = 0;
	struct err ignore = { 0 };

	nd->pid = 0;
	if (proc_pidfile_read(nd->pidfile, &pid, &ignore) < 0 || !proc_alive(pid, NULL))
		return;
	nd->pid = pid;
	read_stat(pid, s);
	read_io(pid, s);
}

/* Scrape every node (in parallel, so one that hangs costs TOP_SCRAPE_MS
 * once, not per node) and read /proc, into snap[idx]. */
static int top_round(struct top *t, int idx, struct err *e)
{
	struct httpc_req *reqs = calloc(t->n, sizeof(*reqs));
	struct httpc_req **v = calloc(t->n, sizeof(*v));
	size_t nv = 0;

	if (reqs == NULL || v == NULL) {
		free(reqs);
		free(v);
		return err_set(e, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < t->n; i++) {
		struct top_node *nd = &t->nodes[i];
		struct top_snap *s = &nd->snap[idx];

		promtext_release(&s->pt);
		memset(s, 0, sizeof(*s));
		s->t_ms = proc_now_ms();
		top_proc(nd, s);
		if (nd->pool == NULL)
			continue;
		httpc_req_init(&reqs[i]);
		reqs[i].pool = nd->pool;
		reqs[i].method = "GET";
		reqs[i].target = "/metrics";
		reqs[i].body_max = TOP_BODY_MAX;
		reqs[i].connect_timeout_ms = TOP_CONNECT_MS;
		reqs[i].io_timeout_ms = TOP_SCRAPE_MS;
		httpc_start(&reqs[i]);
		v[nv++] = &reqs[i];
	}
	while (httpc_wait(v, nv) > 0)
		;
	for (size_t i = 0; i < t->n; i++) {
		struct top_node *nd = &t->nodes[i];
		struct top_snap *s = &nd->snap[idx];
		struct httpc_req *r = &reqs[i];
		struct err pe = { 0 };

		if (nd->pool == NULL)
			continue;
		if (r->err != 0)
			snprintf(s->why, sizeof(s->why), "%s", r->why[0] ? r->why : strerror(-r->err));
		else if (r->status != 200)
			snprintf(s->why, sizeof(s->why), "HTTP %d", r->status);
		else if (promtext_parse(&s->pt, (const char *)r->resp, r->resp_n, &pe) < 0)
			snprintf(s->why, sizeof(s->why), "bad /metrics: %.100s", pe.msg);
		else
			s->scraped = 1;
		httpc_req_release(r);
	}
	free(reqs);
	free(v);
	return 0;
}

/* ============================================================== figures === */

static double counter_rate(const struct top_snap *now, const struct top_snap *then,
			   const char *name, const char *match)
{
	size_t f1 = 0, f0 = 0;
	double a, b;

	if (!now->scraped || !then->scraped)
		return NAN;
	a = promtext_sum(&now->pt, name, match, &f1);
	b = promtext_sum(&then->pt, name, match, &f0);
	/* A family whose children appear on first use may be absent: none yet. */
	if (f1 == 0)
		return 0;
	return promtext_rate(a, b, (double)(now->t_ms - then->t_ms) / 1000.0);
}

/* The interval's histogram of name (over the series matching match); 0,
 * or -ENOENT when either round lacks it. */
static int interval_hist(const struct top_snap *now, const struct top_snap *then,
			 const char *name, const char *match, struct promtext_hist *d)
{
	struct promtext_hist a, b;

	if (!now->scraped || !then->scraped || promtext_hist(&now->pt, name, match, &a) < 0)
		return -ENOENT;
	if (promtext_hist(&then->pt, name, match, &b) < 0) {
		/* First seen in this interval: all of it is new. */
		b = a;
		memset(b.cum, 0, sizeof(b.cum));
		b.sum = b.count = 0;
	}
	return promtext_hist_delta(&a, &b, d);
}

/* The q-quantile of the interval, NAN with fewer than min observations. */
static double interval_q(const struct top_snap *now, const struct top_snap *then,
			 const char *name, const char *match, double q, double min)
{
	struct promtext_hist d;

	if (interval_hist(now, then, name, match, &d) < 0 || d.count < min || d.count <= 0)
		return NAN;
	return promtext_quantile(&d, q);
}

static void top_figs(const struct top *t, const struct top_node *nd, struct top_figs *f)
{
	const struct top_snap *now = &nd->snap[t->cur], *then = &nd->snap[!t->cur];
	double dt = (double)(now->t_ms - then->t_ms) / 1000.0;
	const struct top_snap *mnow = t->mds ? &t->mds->snap[t->cur] : NULL;
	const struct top_snap *mthen = t->mds ? &t->mds->snap[!t->cur] : NULL;
	struct promtext_hist cd, ud;

	f->cpu = f->rd = f->wr = f->net = f->reqs = f->p50 = f->p99 = NAN;
	f->fsync99 = f->put99 = f->get99 = f->upd = f->commit99 = f->share = NAN;
	if (dt <= 0)
		return;
	if (now->proc && then->proc)
		f->cpu = (now->cpu_s - then->cpu_s) / dt;
	else
		f->cpu = counter_rate(now, then, "process_cpu_seconds_total", NULL);
	if (now->io && then->io) {
		f->rd = promtext_rate(now->rd, then->rd, dt);
		f->wr = promtext_rate(now->wr, then->wr, dt);
	}
	switch (nd->kind) {
	case TOP_MDS:
		f->reqs = counter_rate(now, then, "dnsfs_mds_queries_total", NULL);
		f->net = counter_rate(now, then, "dnsfs_mds_received_bytes_total", NULL) +
			 counter_rate(now, then, "dnsfs_mds_sent_bytes_total", NULL);
		f->p50 = interval_q(now, then, "dnsfs_mds_request_duration_seconds", NULL, 0.5, 1);
		f->p99 = interval_q(now, then, "dnsfs_mds_request_duration_seconds", NULL, 0.99, 1);
		f->upd = counter_rate(now, then, "dnsfs_mds_updates_total", NULL);
		f->commit99 = interval_q(now, then, "dnsfs_mds_update_commit_seconds", NULL,
					 0.99, 1);
		/* Of the time applied updates took, how much was the store's. */
		if (interval_hist(now, then, "dnsfs_mds_update_commit_seconds", NULL, &cd) == 0 &&
		    interval_hist(now, then, "dnsfs_mds_request_duration_seconds",
				  "opcode=UPDATE", &ud) == 0 && ud.sum > 0 && cd.count > 0)
			f->share = cd.sum / ud.sum;
		break;
	case TOP_REDIS:
		/* Redis exports nothing: the mds times its MULTI/EXEC round trips. */
		if (mnow != NULL) {
			f->reqs = counter_rate(mnow, mthen, "dnsfs_mds_store_groups_total", NULL);
			f->p50 = interval_q(mnow, mthen, "dnsfs_mds_store_exec_seconds", NULL,
					    0.5, 1);
			f->p99 = interval_q(mnow, mthen, "dnsfs_mds_store_exec_seconds", NULL,
					    0.99, 1);
		}
		break;
	case TOP_BLOCKD:
		f->reqs = counter_rate(now, then, "dnsfs_blockd_requests_total", NULL);
		f->net = counter_rate(now, then, "dnsfs_blockd_received_bytes_total", NULL) +
			 counter_rate(now, then, "dnsfs_blockd_sent_bytes_total", NULL);
		f->p50 = interval_q(now, then, "dnsfs_blockd_request_duration_seconds", NULL,
				    0.5, 1);
		f->p99 = interval_q(now, then, "dnsfs_blockd_request_duration_seconds", NULL,
				    0.99, 1);
		f->fsync99 = interval_q(now, then, "dnsfs_blockd_fsync_duration_seconds", NULL,
					0.99, TOP_OUTLIER_MIN);
		f->put99 = interval_q(now, then, "dnsfs_blockd_request_duration_seconds",
				      "method=PUT", 0.99, TOP_OUTLIER_MIN);
		f->get99 = interval_q(now, then, "dnsfs_blockd_request_duration_seconds",
				      "method=GET", 0.99, TOP_OUTLIER_MIN);
		break;
	case TOP_MOUNT:
		break;
	}
}

/* ============================================================= findings === */

static size_t top_findings(const struct top *t, const struct top_figs *figs,
			   struct toprules_finding *out)
{
	struct toprules_node v[TOP_NODES_MAX];

	for (size_t i = 0; i < t->n; i++) {
		const struct top_node *nd = &t->nodes[i];
		const struct top_snap *s = &nd->snap[t->cur];
		const struct top_figs *f = &figs[i];

		v[i] = (struct toprules_node){
			.name = nd->name, .kind = (enum toprules_kind)nd->kind,
			.has_metrics = nd->pool != NULL, .answered = s->scraped, .why = s->why,
			.pid = (int)nd->pid, .state = s->proc ? s->state : 0, .cpu = f->cpu,
			.fsync99 = f->fsync99, .put99 = f->put99, .get99 = f->get99,
			.upd = f->upd, .commit99 = f->commit99, .share = f->share,
		};
	}
	return toprules_run(v, t->n, out);
}

/* ================================================================ output === */

/* x * scale with the given decimals, or "-" when unknown. */
static const char *num(char *buf, size_t len, double x, double scale, int decimals)
{
	if (isnan(x) || isinf(x))
		return "-";
	snprintf(buf, len, "%.*f", decimals, x * scale);
	return buf;
}

static int top_print(const struct top *t, FILE *out, struct err *e)
{
	struct top_figs *figs = calloc(t->n, sizeof(*figs));
	struct toprules_finding fv[TOPRULES_FINDINGS_MAX];
	char b[8][32], when[32], note[200];
	time_t now = time(NULL);
	size_t nf;

	if (figs == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (t->tty)
		fputs("\033[H\033[J", out);
	fprintf(out, "dnsfs top  %s  every %.1f s  %s\n", t->dir, t->interval, when);
	fprintf(out, "%-10s %6s %8s %8s %8s %9s %8s %8s  %s\n", "NODE", "CPU%", "RD-MB/s",
		"WR-MB/s", "NET-MB/s", "REQ/s", "P50-ms", "P99-ms", "NOTE");
	for (size_t i = 0; i < t->n; i++) {
		const struct top_node *nd = &t->nodes[i];
		const struct top_snap *s = &nd->snap[t->cur];
		struct top_figs *f = &figs[i];

		top_figs(t, nd, f);
		note[0] = '\0';
		if (nd->pool != NULL && !s->scraped)
			snprintf(note, sizeof(note), "no /metrics: %s", s->why);
		else if (s->proc && s->state == 'T')
			snprintf(note, sizeof(note), "stopped");
		else if (nd->pid == 0 && nd->pool == NULL)
			snprintf(note, sizeof(note), "not running");
		else if (nd->kind == TOP_BLOCKD && !isnan(f->fsync99))
			snprintf(note, sizeof(note), "fsync p99 %.2f ms", f->fsync99 * 1e3);
		else if (nd->kind == TOP_MDS && !isnan(f->commit99))
			snprintf(note, sizeof(note), "%.1f updates/s, commit p99 %.2f ms", f->upd,
				 f->commit99 * 1e3);
		else if (nd->kind == TOP_REDIS)
			snprintf(note, sizeof(note), "MULTI/EXEC as timed by the mds");
		fprintf(out, "%-10s %6s %8s %8s %8s %9s %8s %8s  %s\n", nd->name,
			num(b[0], 32, f->cpu, 100, 1), num(b[1], 32, f->rd, 1e-6, 2),
			num(b[2], 32, f->wr, 1e-6, 2), num(b[3], 32, f->net, 1e-6, 2),
			num(b[4], 32, f->reqs, 1, 1), num(b[5], 32, f->p50, 1e3, 2),
			num(b[6], 32, f->p99, 1e3, 2), note);
	}
	nf = top_findings(t, figs, fv);
	if (nf == 0)
		fprintf(out, "bottleneck: none seen (every node under the thresholds)\n");
	for (size_t i = 0; i < nf; i++)
		fprintf(out, "%s %s\n", i == 0 ? "bottleneck:" : "       also:", fv[i].text);
	if (!t->tty)
		fputc('\n', out);
	fflush(out);
	free(figs);
	return 0;
}

/* =============================================================== command === */

static void usage(FILE *f)
{
	fprintf(f, "usage: dnsfsctl top --dir DIR [--interval SECONDS] [--count N]\n"
		   "  per node: cpu, disk and network io, requests/s, latency p50/p99 over\n"
		   "  each interval (default 2 s), and the bottleneck seen; --count N stops\n"
		   "  after N blocks (default: run until interrupted)\n");
}

int top_cmd(int argc, char **argv, struct err *e)
{
	struct top t = { .interval = 2, .count = 0 };
	const char *dir = NULL;
	int64_t next;
	int r;

	for (int i = 1; i < argc; i += 2) {     /* every option takes a value */
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		char *end = NULL;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (val == NULL)
			goto bad;
		if (strcmp(a, "--dir") == 0) {
			dir = val;
		} else if (strcmp(a, "--interval") == 0) {
			t.interval = strtod(val, &end);
			if (*end != '\0' || !(t.interval >= 0.1 && t.interval <= 3600))
				goto bad;
		} else if (strcmp(a, "--count") == 0) {
			t.count = strtol(val, &end, 10);
			if (*end != '\0' || t.count < 0)
				goto bad;
		} else {
			goto bad;
		}
	}
	if (dir == NULL)
		goto bad;
	if (realpath(dir, t.dir) == NULL)
		return err_set(e, -errno, "%s: %s", dir, strerror(errno));
	t.tty = isatty(STDOUT_FILENO);
	if ((r = top_load(&t, e)) < 0)
		goto fail;
	next = proc_now_ms();
	if ((r = top_round(&t, t.cur, e)) < 0)
		goto fail;
	for (long k = 0; t.count == 0 || k < t.count; k++) {
		int64_t wait;

		next += (int64_t)(t.interval * 1000);
		wait = next - proc_now_ms();
		if (wait > 0)
			proc_sleep_ms((int)wait);
		else
			next = proc_now_ms();
		t.cur = !t.cur;
		if ((r = top_round(&t, t.cur, e)) < 0 || (r = top_print(&t, stdout, e)) < 0)
			goto fail;
	}
	r = 0;
fail:
	top_release(&t);
	return r;
bad:
	usage(stderr);
	return 2;
}
