/* blockbench: the block path measured against a running cluster (bench/blockd/run
 * starts one): PUT and GET through lib/blockclient, replicated and 4+2, with
 * N threads; GET of the same files from a peer HTTP server (nginx); degraded
 * stripe reads with two blockd killed; and in the same process raw ISA-L
 * next to the client's own stripe encode path, memcpy and TCP loopback
 * ceilings. Prints Markdown tables for docs/PERFORMANCE.md. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "blockclient.h"
#include "ec.h"
#include "env.h"
#include "err.h"
#include "hash.h"
#include "httpc.h"
#include "resolve.h"
#include "tsig.h"

#define K 4
#define M 2
#define SMALL 4096
#define BIG (1u << 20)
#define PIDS_MAX 16
#define PEER_FILES_SMALL 512
#define PEER_FILES_BIG 128

/* One stored object: a replicated block (h[0]) or a stripe (h[0..K+M)). */
struct item {
	struct hash h[K + M];
};

enum op { OP_PUT_REP, OP_GET_REP, OP_PUT_EC, OP_GET_EC, OP_GET_HTTP };

/* One timed phase, shared by its threads. */
struct phase {
	enum op op;
	size_t len;                     /* bytes per object */
	double deadline;                /* monotonic seconds */
	uint64_t max_ops;               /* stop after this many (PUT: = items room) */
	struct item *items;             /* PUT: appended; GET: read at random */
	const uint32_t *pick;           /* GET: indices into items to choose from */
	size_t npick;
	_Atomic uint64_t n;             /* items appended (PUT) */
	_Atomic uint64_t ops, errors;
	struct httpc_pool **pools;      /* OP_GET_HTTP: one per target server */
	const char *prefix;             /* OP_GET_HTTP: target prefix */
	const int *node_of;             /* OP_GET_HTTP: pool index per item, or NULL */
	struct err first;               /* the first error, for the log */
	pthread_mutex_t lock;
};

static struct blockclient *bc;
static unsigned nthreads = 4;
static double secs = 8;
static pid_t blockd_pid[PIDS_MAX];
static int nblockd;
static pid_t peer_pid[PIDS_MAX];
static int npeer;
static long hz;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime of the processes, seconds (/proc/PID/stat fields 14, 15). */
static double procs_cpu_s(const pid_t *p, int n)
{
	unsigned long long t = 0;

	for (int i = 0; i < n; i++) {
		char path[64], buf[1024], *s;
		unsigned long long u, st;
		ssize_t len;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)p[i]);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		s = strrchr(buf, ')');
		if (s != NULL && sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
					&u, &st) == 2)
			t += u + st;
	}
	return (double)t / (double)hz;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fail_note(struct phase *p, const struct err *e)
{
	atomic_fetch_add(&p->errors, 1);
	pthread_mutex_lock(&p->lock);
	if (p->first.msg[0] == '\0')
		p->first = *e;
	pthread_mutex_unlock(&p->lock);
}

/* ------------------------------------------------------------- workers --- */

struct worker {
	struct phase *p;
	unsigned id;
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	struct phase *p = w->p;
	uint64_t seed = 0x9e3779b97f4a7c15ull * (w->id + 1) ^ (uint64_t)getpid() << 20 ^
			(uint64_t)(now_s() * 1e6);
	uint8_t *buf = malloc(p->len);
	uint64_t count = 0;
	struct err e;

	if (buf == NULL)
		return NULL;
	for (size_t i = 0; i < p->len; i += 8) {
		uint64_t v = rnd(&seed);

		memcpy(buf + i, &v, p->len - i < 8 ? p->len - i : 8);
	}
	while (now_s() < p->deadline) {
		int r = 0;

		if ((p->op == OP_PUT_REP || p->op == OP_PUT_EC) && atomic_load(&p->n) >= p->max_ops)
			break;

		err_clear(&e);
		if (p->op == OP_PUT_REP || p->op == OP_PUT_EC) {
			struct item it;
			uint64_t slot;

			/* unique content: thread, counter and a fresh random word */
			uint64_t tag[3] = { w->id, count++, rnd(&seed) };
			memcpy(buf, tag, sizeof(tag));
			if (p->op == OP_PUT_REP)
				r = blockclient_put_rep(bc, buf, p->len, 3, 2, &it.h[0], &e);
			else
				r = blockclient_put_ec(bc, buf, p->len, K, M, it.h, &e);
			if (r < 0) {
				fail_note(p, &e);
				continue;
			}
			slot = atomic_fetch_add(&p->n, 1);
			if (slot < p->max_ops)
				p->items[slot] = it;
			atomic_fetch_add(&p->ops, 1);
			if (slot + 1 >= p->max_ops)
				break;
			continue;
		}
		size_t i = p->pick[rnd(&seed) % p->npick];
		const struct item *it = &p->items[i];

		if (p->op == OP_GET_REP) {
			r = blockclient_get_rep(bc, &it->h[0], buf, p->len, &e);
		} else if (p->op == OP_GET_EC) {
			r = blockclient_get_ec(bc, it->h, K, M, buf, p->len, &e);
		} else {
			struct httpc_req q;
			char target[128], hex[HASH_HEX_LEN + 1];

			hash_to_hex(&it->h[0], hex);
			snprintf(target, sizeof(target), "%s%s", p->prefix, hex);
			httpc_req_init(&q);
			q.pool = p->pools[p->node_of != NULL ? p->node_of[i] : 0];
			q.method = "GET";
			q.target = target;
			q.out = buf;
			q.out_len = p->len;
			q.connect_timeout_ms = 2000;
			q.io_timeout_ms = 10000;
			httpc_do(&q);
			if (q.err < 0 || q.status != 200) {
				err_set(&e, q.err < 0 ? q.err : -EIO, "GET %s: %s", target, q.why);
				r = -EIO;
			}
			httpc_req_release(&q);
		}
		if (r < 0)
			fail_note(p, &e);
		else
			atomic_fetch_add(&p->ops, 1);
	}
	free(buf);
	return NULL;
}

/* A result row: ops/s, MB/s, CPU per op of the servers and of this client. */
struct result {
	const char *name;
	double ops_s, mb_s;
	double srv_cpu_ms, cli_cpu_ms;  /* per op */
	double srv_cpu_us_req;          /* server CPU per HTTP request */
	double srv_cores, cli_cores;    /* average cores busy */
	uint64_t ops, errors;
};

static struct result results[32];
static int nresults;

static void phase_run(struct phase *p, const char *name, const pid_t *srv, int nsrv)
{
	pthread_t t[64];
	struct worker w[64];
	struct blockclient_stats s0, s1;
	double t0, t1, c0, c1, d0, d1;
	struct result *res = &results[nresults++];

	pthread_mutex_init(&p->lock, NULL);
	blockclient_stats(bc, &s0);
	c0 = procs_cpu_s(srv, nsrv);
	d0 = self_cpu_s();
	t0 = now_s();
	p->deadline = t0 + secs;
	for (unsigned i = 0; i < nthreads; i++) {
		w[i].p = p;
		w[i].id = i;
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	for (unsigned i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	t1 = now_s();
	c1 = procs_cpu_s(srv, nsrv);
	d1 = self_cpu_s();
	blockclient_stats(bc, &s1);
	uint64_t ops = atomic_load(&p->ops), reqs = s1.requests - s0.requests;

	if (p->op == OP_GET_HTTP)
		reqs = ops;
	res->name = name;
	res->ops = ops;
	res->errors = atomic_load(&p->errors);
	res->ops_s = ops / (t1 - t0);
	res->mb_s = res->ops_s * p->len / 1e6;
	res->srv_cpu_ms = ops ? (c1 - c0) * 1e3 / ops : 0;
	res->cli_cpu_ms = ops ? (d1 - d0) * 1e3 / ops : 0;
	res->srv_cpu_us_req = reqs ? (c1 - c0) * 1e6 / reqs : 0;
	res->srv_cores = (c1 - c0) / (t1 - t0);
	res->cli_cores = (d1 - d0) / (t1 - t0);
	fprintf(stderr, "blockbench: %-34s %8.0f ops/s %8.1f MB/s  %llu errors%s%s\n", name,
		res->ops_s, res->mb_s, (unsigned long long)res->errors,
		p->first.msg[0] ? ": " : "", p->first.msg);
	pthread_mutex_destroy(&p->lock);
}

/* ------------------------------------------------------------- ceilings --- */

/* Memory bandwidth: 1 MiB copies walking through 128 MiB, past the caches. */
#define MEMCPY_SPAN (128u << 20)
static double memcpy_mbps(void)
{
	uint8_t *a = malloc(MEMCPY_SPAN), *b = malloc(MEMCPY_SPAN);
	double t0, t;
	uint64_t n = 0;

	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		return 0;
	}
	memset(a, 1, MEMCPY_SPAN);
	memset(b, 2, MEMCPY_SPAN);
	t0 = now_s();
	do {
		size_t off = (n % (MEMCPY_SPAN / BIG)) * BIG;

		memcpy(b + off, a + off, BIG);
		n++;
		t = now_s() - t0;
	} while (t < 1.0);
	free(a);
	free(b);
	return n * (double)BIG / t / 1e6;
}

/* SHA-256 (lib/hash, OpenSSL) of 1 MiB buffers: what verifying a block costs,
 * on the client and, with verify_reads = yes (default no), in blockd. */
static double sha256_mbps(void)
{
	uint8_t *a = malloc(BIG);
	double t0 = now_s(), t;
	struct hash h;
	uint64_t n = 0;

	memset(a, 3, BIG);
	do {
		hash_buf(&h, a, BIG);
		n++;
		t = now_s() - t0;
	} while (t < 1.0);
	free(a);
	return n * (double)BIG / t / 1e6;
}

static void *tcp_sender(void *arg)
{
	int fd = *(int *)arg;
	uint8_t *buf = calloc(1, BIG);
	double end = now_s() + 1.0;

	while (now_s() < end) {
		size_t off = 0;

		while (off < BIG) {
			ssize_t w = send(fd, buf + off, BIG - off, MSG_NOSIGNAL);

			if (w <= 0)
				goto out;
			off += (size_t)w;
		}
	}
out:
	shutdown(fd, SHUT_WR);
	free(buf);
	return NULL;
}

/* One TCP stream over loopback between two threads of this process. */
static double tcp_loopback_mbps(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
	uint8_t *buf = malloc(BIG);
	uint64_t total = 0;
	pthread_t t;
	double t0, t1;
	ssize_t r;

	bind(l, (struct sockaddr *)&a, sizeof(a));
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&a, &al);
	if (connect(c, (struct sockaddr *)&a, sizeof(a)) < 0 || (s = accept(l, NULL, NULL)) < 0) {
		free(buf);
		return 0;
	}
	t0 = now_s();
	pthread_create(&t, NULL, tcp_sender, &c);
	while ((r = recv(s, buf, BIG, 0)) > 0)
		total += (uint64_t)r;
	t1 = now_s();
	pthread_join(t, NULL);
	close(s);
	close(c);
	close(l);
	free(buf);
	return total / (t1 - t0) / 1e6;
}

/* ------------------------------------------------------------ erasure code --- */

struct ecrow {
	size_t len;
	struct ec_bench raw;            /* ec_bench_run */
	double enc_same, enc_client, enc_client_sha;   /* MB/s of data */
	double dec_same, dec_client_sha;
};

/* The stripe encode of blockclient_put_ec: blockclient_stripe_encode (full
 * data chunks used in place, only a partial last one copied, then encode)
 * and (sha) the SHA-256 of all k+m chunks. Its scratch buffer is allocated
 * once here; blockclient_put_ec allocates it per stripe. */
static double time_loop(int what, struct ec *c, const uint8_t *data, size_t len,
			uint8_t *scratch, uint8_t **ptr, size_t chunk)
{
	uint8_t *cp[K + M];

	double t0 = now_s(), t;
	uint64_t n = 0;
	uint64_t missing = (1u << M) - 1;       /* the first m data chunks, as ec_bench_run */
	struct hash h;

	do {
		switch (what) {
		case 0:         /* raw encode on the stripe buffers */
			ec_encode(c, chunk, ptr, ptr + K, NULL);
			break;
		case 1:         /* client: stripe encode */
		case 2:         /* client: stripe encode + SHA-256 of every chunk */
			blockclient_stripe_encode(c, data, len, scratch, cp, NULL);
			if (what == 2)
				for (unsigned i = 0; i < K + M; i++)
					hash_buf(&h, cp[i], chunk);
			break;
		case 3:         /* raw decode, m data chunks lost */
			ec_reconstruct(c, chunk, ptr, missing, NULL);
			break;
		case 4:         /* client read: SHA-256 of the k chunks fetched + decode */
			for (unsigned i = M; i < K + M; i++)
				hash_buf(&h, ptr[i], chunk);
			ec_reconstruct(c, chunk, ptr, missing, NULL);
			break;
		}
		n++;
		t = now_s() - t0;
	} while (t < 1.0);
	return n * (double)len / t / 1e6;
}

static int ec_row(struct ecrow *row, size_t len, struct err *e)
{
	size_t chunk = ec_chunk_len(len, K);
	uint8_t *data = malloc(len), *buf = NULL, *scratch = NULL, *ptr[K + M];
	struct ec *c = NULL;
	uint64_t s = 88172645463325252ull;
	int r;

	row->len = len;
	r = ec_bench_run(K, M, chunk, 1.0, &row->raw, e);
	if (r < 0)
		goto fail;
	r = ec_new(&c, K, M, e);
	if (r < 0)
		goto fail;
	if (data == NULL || posix_memalign((void **)&buf, EC_ALIGN, (K + M) * chunk) != 0 ||
	    posix_memalign((void **)&scratch, EC_ALIGN, blockclient_stripe_scratch(len, K, M)) != 0) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)rnd(&s);
	memcpy(buf, data, len);
	memset(buf + len, 0, K * chunk - len);
	for (unsigned i = 0; i < K + M; i++)
		ptr[i] = buf + i * chunk;
	ec_encode(c, chunk, ptr, ptr + K, NULL);
	ec_reconstruct(c, chunk, ptr, (1u << M) - 1, NULL);    /* warm the table cache */
	/* ec_bench_run counts k * chunk bytes per run; so do these (len = k * chunk
	 * for both sizes here), so the ratios compare like with like. */
	row->enc_same = time_loop(0, c, data, len, scratch, ptr, chunk);
	row->enc_client = time_loop(1, c, data, len, scratch, ptr, chunk);
	row->enc_client_sha = time_loop(2, c, data, len, scratch, ptr, chunk);
	row->dec_same = time_loop(3, c, data, len, scratch, ptr, chunk);
	row->dec_client_sha = time_loop(4, c, data, len, scratch, ptr, chunk);
	r = 0;
fail:
	ec_free(c);
	free(buf);
	free(scratch);
	free(data);
	return r;
}

/* -------------------------------------------------------------- helpers --- */

static int write_file(const char *dir, const struct hash *h, const void *p, size_t len)
{
	char path[4096], hex[HASH_HEX_LEN + 1];
	int fd, r = 0;

	hash_to_hex(h, hex);
	snprintf(path, sizeof(path), "%s/%s", dir, hex);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, p, len) != (ssize_t)len)
		r = -EIO;
	close(fd);
	return r;
}

static uint32_t *identity(size_t n)
{
	uint32_t *v = malloc((n ? n : 1) * sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = (uint32_t)i;
	return v;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: blockbench --dir CLUSTER_DIR [--seconds S] [--threads N]\n"
		"                  [--nginx HOST:PORT --nginx-root DIR --nginx-pids 'PID...']\n");
	exit(2);
}

static void row(const struct result *r, const char *unit)
{
	if (strcmp(unit, "MB/s") == 0)
		printf("| %s | %.0f MB/s | %.0f | %.2f | %.0f | %.2f | %.2f | %.2f |",
		       r->name, r->mb_s, r->ops_s, r->srv_cpu_ms, r->srv_cpu_us_req, r->srv_cores,
		       r->cli_cpu_ms, r->cli_cores);
	else
		printf("| %s | %.0f blocks/s | %.1f MB/s | %.3f | %.0f | %.2f | %.3f | %.2f |",
		       r->name, r->ops_s, r->mb_s, r->srv_cpu_ms, r->srv_cpu_us_req, r->srv_cores,
		       r->cli_cpu_ms, r->cli_cores);
	if (r->errors)
		printf(" %llu errors", (unsigned long long)r->errors);
	printf("\n");
}

static struct result *find(const char *name)
{
	for (int i = 0; i < nresults; i++)
		if (strcmp(results[i].name, name) == 0)
			return &results[i];
	return NULL;
}

/* ----------------------------------------------------------------- main --- */

int main(int argc, char **argv)
{
	const char *dir = NULL, *nginx = NULL, *nginx_root = NULL, *zone, *v;
	struct tsig_keyring kr = { 0 };
	struct blockclient_opts bo;
	struct resolve *res = NULL;
	struct env env;
	struct err e = { 0 };
	char path[4096];
	int r;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--dir") == 0)
			dir = argv[++i];
		else if (strcmp(argv[i], "--seconds") == 0)
			secs = atof(argv[++i]);
		else if (strcmp(argv[i], "--threads") == 0)
			nthreads = (unsigned)atoi(argv[++i]);
		else if (strcmp(argv[i], "--nginx") == 0)
			nginx = argv[++i];
		else if (strcmp(argv[i], "--nginx-root") == 0)
			nginx_root = argv[++i];
		else if (strcmp(argv[i], "--nginx-pids") == 0) {
			char *s = argv[++i], *tok;

			for (tok = strtok(s, " "); tok != NULL && npeer < PIDS_MAX; tok = strtok(NULL, " "))
				peer_pid[npeer++] = atoi(tok);
		} else
			usage();
	}
	if (dir == NULL || nthreads < 1 || nthreads > 64 || secs <= 0)
		usage();
	hz = sysconf(_SC_CLK_TCK);
	signal(SIGPIPE, SIG_IGN);
	env_init(&env);
	snprintf(path, sizeof(path), "%s/cluster.env", dir);
	if (env_read(&env, path, &e) < 0)
		goto fail;
	zone = env_get(&env, "DNSFS_ZONE");
	if ((v = env_get(&env, "DNSFS_BLOCK_KEYFILE")) == NULL || tsig_keyring_load(&kr, v, &e) < 0 ||
	    kr.n == 0) {
		err_set(&e, -ENOKEY, "no block key in %s", path);
		goto fail;
	}
	for (nblockd = 0; nblockd < PIDS_MAX; nblockd++) {
		FILE *f;
		int pid;

		snprintf(path, sizeof(path), "%s/blockd-%d.pid", dir, nblockd + 1);
		if ((f = fopen(path, "r")) == NULL)
			break;
		if (fscanf(f, "%d", &pid) != 1)
			pid = 0;
		fclose(f);
		blockd_pid[nblockd] = pid;
	}
	blockclient_opts_init(&bo);
	bo.key = &kr.keys[0];
	bo.pool_max = nthreads;
	if (blockclient_new(&bc, &bo, &e) < 0)
		goto fail;
	r = resolve_new(&res, zone, env_get(&env, "DNSFS_MDS_ADDR"),
			atoi(env_get(&env, "DNSFS_MDS_PORT")), &e);
	if (r == 0)
		r = blockclient_discover(bc, res, zone, &e);
	resolve_free(res);
	if (r <= 0) {
		if (r == 0)
			err_set(&e, -ENOENT, "no _blockd._tcp SRV records in %s", zone);
		goto fail;
	}
	fprintf(stderr, "blockbench: %d nodes from SRV, %u threads, %.0f s per phase\n", r,
		nthreads, secs);

	/* ---- ceilings and the erasure code, before the cluster is loaded ---- */
	double memcpy_bw = memcpy_mbps(), tcp_bw = tcp_loopback_mbps(), sha_bw = sha256_mbps();
	struct ecrow ecs[2];

	if (ec_row(&ecs[0], SMALL, &e) < 0 || ec_row(&ecs[1], BIG, &e) < 0)
		goto fail;

	/* ---- the block path ---- */
	static const struct {
		const char *name;
		size_t len;
		int ec;
		uint64_t max;
	} sets[] = {
		{ "4 KiB", SMALL, 0, 400000 }, { "4 KiB", SMALL, 1, 400000 },
		{ "1 MiB", BIG, 0, 2000 }, { "1 MiB", BIG, 1, 2000 },
	};
	struct phase ph[4];
	char *names[64];
	int nn = 0;

	for (int s = 0; s < 4; s++) {
		struct phase *p = &ph[s];
		char *n1, *n2;

		memset(p, 0, sizeof(*p));
		p->op = sets[s].ec ? OP_PUT_EC : OP_PUT_REP;
		p->len = sets[s].len;
		p->max_ops = sets[s].max;
		p->items = calloc(p->max_ops, sizeof(struct item));
		asprintf(&n1, "PUT %s, %s", sets[s].name, sets[s].ec ? "4+2" : "rep 3 (W=2)");
		asprintf(&n2, "GET %s, %s", sets[s].name, sets[s].ec ? "4+2" : "rep 3");
		names[nn++] = n1;
		names[nn++] = n2;
		phase_run(p, n1, blockd_pid, nblockd);
		uint64_t stored = atomic_load(&p->n);

		if (stored > p->max_ops)
			stored = p->max_ops;
		struct phase g = { .op = sets[s].ec ? OP_GET_EC : OP_GET_REP, .len = p->len,
				   .items = p->items, .npick = stored, .max_ops = UINT64_MAX };
		uint32_t *pick = identity(stored);

		g.pick = pick;
		if (stored > 0)
			phase_run(&g, n2, blockd_pid, nblockd);
		free(pick);
	}

	/* ---- the same bytes over plain HTTP: blockd without the client's
	 * verification, and nginx serving them as files ---- */
	struct blockclient_nodes *ns = blockclient_nodes_get(bc);
	size_t nnodes = blockclient_nodes_count(ns);
	struct httpc_pool *pools[BLOCKCLIENT_NODES_MAX], *npool = NULL;

	for (size_t i = 0; i < nnodes; i++)
		if (httpc_pool_new(&pools[i], blockclient_nodes_addr(ns, i), nthreads, &e) < 0)
			goto fail;
	for (int s = 0; s < 4; s += 2) {
		struct phase *p = &ph[s];
		size_t stored = atomic_load(&p->n) < p->max_ops ? atomic_load(&p->n) : p->max_ops;
		size_t nf = s == 0 ? PEER_FILES_SMALL : PEER_FILES_BIG;
		int *node_of = calloc(stored ? stored : 1, sizeof(int));
		uint32_t *pick = identity(stored);
		uint8_t *buf = malloc(p->len);
		char *n1;

		if (stored == 0)
			continue;
		for (size_t i = 0; i < stored; i++) {
			size_t idx[BLOCKCLIENT_NODES_MAX];

			blockclient_nodes_rank(ns, &p->items[i].h[0], idx, 1);
			node_of[i] = (int)idx[0];
		}
		asprintf(&n1, "GET %s, blockd, plain HTTP", s == 0 ? "4 KiB" : "1 MiB");
		names[nn++] = n1;
		struct phase g = { .op = OP_GET_HTTP, .len = p->len, .items = p->items,
				   .pick = pick, .npick = stored < nf ? stored : nf,
				   .pools = pools, .prefix = "/v1/blocks/", .node_of = node_of,
				   .max_ops = UINT64_MAX };
		phase_run(&g, n1, blockd_pid, nblockd);
		if (nginx != NULL && nginx_root != NULL) {
			/* the same files: fetched from the cluster, served by nginx */
			if (npool == NULL && httpc_pool_new(&npool, nginx, nthreads, &e) < 0)
				goto fail;
			for (size_t i = 0; i < g.npick; i++) {
				if (blockclient_get_rep(bc, &p->items[i].h[0], buf, p->len, &e) < 0 ||
				    write_file(nginx_root, &p->items[i].h[0], buf, p->len) < 0)
					goto fail;
			}
			asprintf(&n1, "GET %s, nginx, plain HTTP", s == 0 ? "4 KiB" : "1 MiB");
			names[nn++] = n1;
			struct phase q = { .op = OP_GET_HTTP, .len = p->len, .items = p->items,
					   .pick = pick, .npick = g.npick, .pools = &npool,
					   .prefix = "/", .max_ops = UINT64_MAX };
			phase_run(&q, n1, peer_pid, npeer);
		}
		free(buf);
		free(pick);
		free(node_of);
	}

	/* ---- degraded: kill blockd-1 and blockd-2; read the stripes that had
	 * data chunks on both (the decode case), and all stripes ---- */
	int dead[2] = { -1, -1 };
	pid_t killed[2] = { blockd_pid[0], blockd_pid[1] };

	for (size_t i = 0; i < nnodes; i++) {
		const char *id = blockclient_nodes_id(ns, i);

		if (strncasecmp(id, "blockd-1.", 9) == 0)
			dead[0] = (int)i;
		else if (strncasecmp(id, "blockd-2.", 9) == 0)
			dead[1] = (int)i;
	}
	if (dead[0] < 0 || dead[1] < 0 || nblockd < 2) {
		err_set(&e, -ENOENT, "blockd-1/blockd-2 not found among the nodes");
		goto fail;
	}
	kill(killed[0], SIGKILL);
	kill(killed[1], SIGKILL);
	usleep(300000);
	for (int s = 1; s < 4; s += 2) {
		struct phase *p = &ph[s];
		size_t stored = atomic_load(&p->n) < p->max_ops ? atomic_load(&p->n) : p->max_ops;
		uint32_t *pick = malloc((stored ? stored : 1) * sizeof(*pick));
		size_t np = 0;
		char *n1;

		for (size_t i = 0; i < stored; i++) {
			size_t idx[BLOCKCLIENT_NODES_MAX];
			int hit = 0;

			blockclient_nodes_rank(ns, &p->items[i].h[0], idx, K);
			for (unsigned j = 0; j < K; j++)
				hit += (int)idx[j] == dead[0] || (int)idx[j] == dead[1];
			if (hit == 2)
				pick[np++] = (uint32_t)i;
		}
		fprintf(stderr, "blockbench: %zu of %zu %s stripes lost 2 data chunks\n", np, stored,
			s == 1 ? "4 KiB" : "1 MiB");
		asprintf(&n1, "GET %s, 4+2, 2 nodes down (2 data chunks lost)",
			 s == 1 ? "4 KiB" : "1 MiB");
		names[nn++] = n1;
		struct phase g = { .op = OP_GET_EC, .len = p->len, .items = p->items, .pick = pick,
				   .npick = np, .max_ops = UINT64_MAX };
		if (np > 0)
			phase_run(&g, n1, blockd_pid + 2, nblockd - 2);
		free(pick);
	}
	blockclient_nodes_put(ns);

	/* ---- the tables ---- */
	printf("\nBlock path: %d blockd on loopback, %u client threads, %.0f s per row; "
	       "server CPU = all blockd (or nginx) processes, client CPU = this driver.\n\n",
	       nblockd, nthreads, secs);
	printf("| operation | throughput | ops/s or MB/s | server CPU ms/op | server CPU µs/request "
	       "| server cores busy | client CPU ms/op | client cores busy |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < nresults; i++)
		row(&results[i], strstr(results[i].name, "1 MiB") ? "MB/s" : "blocks/s");
	struct result *bd = find("GET 1 MiB, rep 3"), *bdp = find("GET 1 MiB, blockd, plain HTTP"),
		      *ng = find("GET 1 MiB, nginx, plain HTTP"),
		      *bd4 = find("GET 4 KiB, rep 3"), *bdp4 = find("GET 4 KiB, blockd, plain HTTP"),
		      *ng4 = find("GET 4 KiB, nginx, plain HTTP");

	printf("\n| ratio | value |\n|---|---:|\n");
	if (bd != NULL && ng != NULL && ng->ops_s > 0) {
		printf("| GET 1 MiB: blockclient (rep 3) / nginx | %.2f |\n", bd->ops_s / ng->ops_s);
		if (bdp != NULL)
			printf("| GET 1 MiB: blockd plain HTTP / nginx | %.2f |\n", bdp->ops_s / ng->ops_s);
	}
	if (bd4 != NULL && ng4 != NULL && ng4->ops_s > 0) {
		printf("| GET 4 KiB: blockclient (rep 3) / nginx | %.2f |\n", bd4->ops_s / ng4->ops_s);
		if (bdp4 != NULL)
			printf("| GET 4 KiB: blockd plain HTTP / nginx | %.2f |\n", bdp4->ops_s / ng4->ops_s);
	}
	printf("| memcpy 1 MiB pieces of 128 MiB, one thread | %.0f MB/s |\n", memcpy_bw);
	printf("| SHA-256 of 1 MiB, one thread | %.0f MB/s |\n", sha_bw);
	printf("| TCP loopback, one stream (2 threads) | %.0f MB/s |\n", tcp_bw);
	if (bd != NULL)
		printf("| GET 1 MiB rep 3 / TCP loopback | %.2f |\n", bd->mb_s / tcp_bw);
	if (bdp != NULL)
		printf("| GET 1 MiB blockd plain HTTP / TCP loopback | %.2f |\n", bdp->mb_s / tcp_bw);

	printf("\nErasure code 4+2, one thread, MB/s of data (k chunks) per second:\n\n");
	printf("| stripe | raw ISA-L encode (ec_bench_run) | ec_encode, same buffers | client: stripe "
	       "encode | client: stripe encode + SHA-256 of 6 chunks | client / raw (encode only) "
	       "| client / raw (with SHA-256) | raw decode, 2 lost (ec_bench_run) | client read: "
	       "SHA-256 of 4 chunks + decode |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (int i = 0; i < 2; i++) {
		const struct ecrow *x = &ecs[i];

		printf("| %s (%zu-byte chunks) | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f |\n",
		       x->len == SMALL ? "4 KiB" : "1 MiB", ec_chunk_len(x->len, K),
		       x->raw.encode_mbps, x->enc_same, x->enc_client, x->enc_client_sha,
		       x->enc_client / x->raw.encode_mbps, x->enc_client_sha / x->raw.encode_mbps,
		       x->raw.decode_mbps, x->dec_client_sha);
	}
	for (int i = 0; i < nn; i++)
		free(names[i]);
	blockclient_free(bc);
	tsig_keyring_release(&kr);
	env_release(&env);
	return 0;
fail:
	fprintf(stderr, "blockbench: %s\n", e.msg);
	return 1;
}
