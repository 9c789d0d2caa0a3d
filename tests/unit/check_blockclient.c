/* Unit tests for lib/blockclient and lib/httpc against in-process fake block
 * nodes: faults a real blockd cannot be asked for on cue (507, hanging, bad
 * copies, closing kept connections, chunked answers) to pin the quorum,
 * ranking, failover and reconstruction rules. tests/integration/block.sh
 * covers the same paths against real dnsfs-blockd daemons. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "blockauth.h"
#include "blockclient.h"
#include "check_main.h"
#include "ec.h"
#include "httpc.h"
#include "log.h"

/* ======================================================= the fake nodes === */

enum fake_mode {
	FAKE_OK = 0,
	FAKE_FULL,      /* PUT answers 507 */
	FAKE_HANG,      /* reads the request, never answers */
	FAKE_CORRUPT,   /* GET answers the block with one byte flipped */
	FAKE_CLOSE,     /* closes after each answer without saying so */
	FAKE_CHUNKED,   /* GET answers in chunked encoding */
	FAKE_DEAD,      /* the listener is closed: connections are refused */
};

struct blob {
	struct hash h;
	uint8_t *data;
	size_t len;
};

#define FAKE_MAX 10
#define BLOBS_MAX 4096

struct fake {
	atomic_int lfd;                 /* closed (-1) by fake_kill while accepting */
	int port;
	atomic_int mode;
	atomic_int puts, gets, heads, conns;
	int auth;                       /* PUT must be signed with test_key */
	pthread_mutex_t lock;           /* blobs, cache */
	struct blob blobs[BLOBS_MAX];
	size_t nblobs;
	struct blockauth_cache *cache;
	int cfd[256];                   /* open connections, to cut on kill */
	int ncfd;
	pthread_t th;
};

static struct fake fakes[FAKE_MAX];
static int nfakes;
static atomic_int stopping;
static struct tsig_keyring test_kr;
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t conn_th[4096];
static int nconn_th;

struct conn {
	struct fake *f;
	int fd;
};

static void send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t k = send(fd, b, n, MSG_NOSIGNAL);

		if (k <= 0)
			return;
		b += k;
		n -= (size_t)k;
	}
}

static void reply(int fd, int status, const char *reason, const char *extra,
		  const void *body, size_t len, int send_body)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s\r\n",
			 status, reason, len, extra != NULL ? extra : "");

	send_all(fd, head, (size_t)n);
	if (send_body && len > 0)
		send_all(fd, body, len);
}

/* Read until \r\n\r\n into buf; bytes of the body that came along stay
 * after it. Returns the head length or -1 (closed, or stopping). */
static int read_head(int fd, char *buf, size_t cap, size_t *have)
{
	for (;;) {
		char *end = memmem(buf, *have, "\r\n\r\n", 4);
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (end != NULL)
			return (int)(end - buf) + 4;
		if (*have == cap || atomic_load(&stopping))
			return -1;
		if (poll(&pf, 1, 50) <= 0)
			continue;
		k = recv(fd, buf + *have, cap - *have, 0);
		if (k <= 0)
			return -1;
		*have += (size_t)k;
	}
}

static const char *header(const char *head, const char *name, char *out, size_t outlen)
{
	const char *p = strcasestr(head, name);
	size_t n;

	if (p == NULL)
		return NULL;
	p += strlen(name);
	while (*p == ' ')
		p++;
	n = strcspn(p, "\r\n");
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct fake *f = c->f;
	char *buf = malloc(8 << 20);
	size_t have = 0;

	while (buf != NULL && !atomic_load(&stopping)) {
		char method[16], target[128], val[512], head[4096];
		int hl = read_head(c->fd, buf, 8 << 20, &have);
		size_t clen = 0;
		struct hash name, got;
		int mode = atomic_load(&f->mode);

		if (hl < 0)
			break;
		memcpy(head, buf, (size_t)hl < sizeof(head) ? (size_t)hl : sizeof(head) - 1);
		head[(size_t)hl < sizeof(head) ? (size_t)hl : sizeof(head) - 1] = '\0';
		if (sscanf(head, "%15s %127s", method, target) != 2)
			break;
		if (header(head, "Content-Length:", val, sizeof(val)) != NULL)
			clen = strtoul(val, NULL, 10);
		while (have < (size_t)hl + clen) {
			ssize_t k = recv(c->fd, buf + have, (size_t)hl + clen - have, 0);

			if (k <= 0)
				goto out;
			have += (size_t)k;
		}
		if (mode == FAKE_HANG) {
			while (!atomic_load(&stopping))
				usleep(10000);
			break;
		}
		if (strcmp(target, "/v1/status") == 0) {
			/* fake i has (i + 1) MiB, 1000 bytes used; CORRUPT: not JSON */
			uint64_t cap = (uint64_t)(f - fakes + 1) << 20;
			char js[256];
			int n = mode == FAKE_CORRUPT
				? snprintf(js, sizeof(js), "<html>status</html>\n")
				: snprintf(js, sizeof(js), "{\"node_id\":\"x\",\"capacity\":%llu,"
					   "\"used\":1000,\"free\":%llu,\"blocks\":1}\n",
					   (unsigned long long)cap,
					   (unsigned long long)cap - 1000);

			reply(c->fd, 200, "OK", NULL, js, (size_t)n, 1);
		} else if (strncmp(target, "/v1/blocks/", 11) != 0 ||
		    hash_from_hex(&name, target + 11, strlen(target + 11)) < 0) {
			reply(c->fd, 400, "Bad Request", NULL, "bad name\n", 9, 1);
		} else if (strcmp(method, "PUT") == 0) {
			const char *auth = header(head, "Authorization:", val, sizeof(val));
			struct err e = { 0 };
			int ok = 1;

			atomic_fetch_add(&f->puts, 1);
			hash_buf(&got, buf + hl, clen);
			if (f->auth) {
				pthread_mutex_lock(&f->lock);
				ok = blockauth_verify(&test_kr, f->cache, auth, "PUT", target, &got,
						      time(NULL), &e) == 0;
				pthread_mutex_unlock(&f->lock);
			}
			if (!ok) {
				reply(c->fd, 401, "Unauthorized", NULL, e.msg, strlen(e.msg), 1);
			} else if (!hash_equal(&got, &name)) {
				reply(c->fd, 400, "Bad Request", NULL, "hash\n", 5, 1);
			} else if (mode == FAKE_FULL) {
				reply(c->fd, 507, "Insufficient Storage", NULL, "disk full\n", 10, 1);
			} else {
				int found = 0;

				pthread_mutex_lock(&f->lock);
				for (size_t i = 0; i < f->nblobs && !found; i++)
					found = hash_equal(&f->blobs[i].h, &name);
				if (!found && f->nblobs < BLOBS_MAX) {
					struct blob *b = &f->blobs[f->nblobs++];

					b->h = name;
					b->len = clen;
					b->data = malloc(clen > 0 ? clen : 1);
					memcpy(b->data, buf + hl, clen);
				}
				pthread_mutex_unlock(&f->lock);
				reply(c->fd, found ? 200 : 201, found ? "OK" : "Created", NULL, NULL, 0, 0);
			}
		} else if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) {
			int is_get = method[0] == 'G';
			uint8_t *copy = NULL;
			size_t len = 0;

			atomic_fetch_add(is_get ? &f->gets : &f->heads, 1);
			pthread_mutex_lock(&f->lock);
			for (size_t i = 0; i < f->nblobs; i++) {
				if (hash_equal(&f->blobs[i].h, &name)) {
					len = f->blobs[i].len;
					copy = malloc(len > 0 ? len : 1);
					memcpy(copy, f->blobs[i].data, len);
					break;
				}
			}
			pthread_mutex_unlock(&f->lock);
			if (copy == NULL) {
				reply(c->fd, 404, "Not Found", NULL, "no such block\n", 14, is_get);
			} else if (mode == FAKE_CHUNKED && is_get) {
				char h2[256];
				size_t half = len / 2;
				int n = snprintf(h2, sizeof(h2), "HTTP/1.1 200 OK\r\n"
						 "Transfer-Encoding: chunked\r\n\r\n%zx;ext=1\r\n", half);

				send_all(c->fd, h2, (size_t)n);
				send_all(c->fd, copy, half);
				n = snprintf(h2, sizeof(h2), "\r\n%zx\r\n", len - half);
				send_all(c->fd, h2, (size_t)n);
				send_all(c->fd, copy + half, len - half);
				send_all(c->fd, "\r\n0\r\nX-Trailer: 1\r\n\r\n", 22);
			} else {
				if (mode == FAKE_CORRUPT && len > 0)
					copy[len / 2] ^= 0x40;
				reply(c->fd, 200, "OK", NULL, copy, len, is_get);
			}
			free(copy);
		} else if (strcmp(method, "DELETE") == 0) {
			int found = 0;

			pthread_mutex_lock(&f->lock);
			for (size_t i = 0; i < f->nblobs && !found; i++) {
				if (hash_equal(&f->blobs[i].h, &name)) {
					free(f->blobs[i].data);
					f->blobs[i] = f->blobs[--f->nblobs];
					found = 1;
				}
			}
			pthread_mutex_unlock(&f->lock);
			reply(c->fd, found ? 204 : 404, found ? "No Content" : "Not Found", NULL, NULL, 0,
			      0);
		} else {
			reply(c->fd, 405, "Method Not Allowed", NULL, NULL, 0, 0);
		}
		memmove(buf, buf + hl + clen, have - (size_t)hl - clen);
		have -= (size_t)hl + clen;
		if (mode == FAKE_CLOSE)
			break;
	}
out:
	free(buf);
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->ncfd; i++)
		if (f->cfd[i] == c->fd)
			f->cfd[i] = f->cfd[--f->ncfd];
	close(c->fd);
	pthread_mutex_unlock(&f->lock);
	free(c);
	return NULL;
}

static void *accept_main(void *arg)
{
	struct fake *f = arg;

	while (!atomic_load(&stopping)) {
		struct pollfd pf = { .fd = atomic_load(&f->lfd), .events = POLLIN };
		struct conn *c;
		int fd;

		if (pf.fd < 0) {
			usleep(10000);
			continue;
		}
		if (poll(&pf, 1, 50) <= 0)
			continue;
		fd = accept(pf.fd, NULL, NULL);
		if (fd < 0)
			continue;
		atomic_fetch_add(&f->conns, 1);
		pthread_mutex_lock(&f->lock);
		if (f->ncfd < 256)
			f->cfd[f->ncfd++] = fd;
		pthread_mutex_unlock(&f->lock);
		c = malloc(sizeof(*c));
		c->f = f;
		c->fd = fd;
		pthread_mutex_lock(&conn_lock);
		if (nconn_th < 4096 && pthread_create(&conn_th[nconn_th], NULL, conn_main, c) == 0)
			nconn_th++;
		else
			close(fd), free(c);
		pthread_mutex_unlock(&conn_lock);
	}
	return NULL;
}

static void fake_kill(struct fake *f)
{
	atomic_store(&f->mode, FAKE_DEAD);
	/* cut kept connections too, as a dying process would */
	pthread_mutex_lock(&f->lock);
	for (int i = 0; i < f->ncfd; i++)
		shutdown(f->cfd[i], SHUT_RDWR);
	pthread_mutex_unlock(&f->lock);
	usleep(10000);
	int lfd = atomic_exchange(&f->lfd, -1);
	if (lfd >= 0) {
		shutdown(lfd, SHUT_RDWR);
		close(lfd);
	}
}

static void fakes_start(int n, int auth)
{
	static const char key[] =
		"key \"dnsfs-block\" { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\"; };";
	struct err e = { 0 };

	log_init("check_blockclient", LOG_LEVEL_ERROR, 0);
	atomic_store(&stopping, 0);
	nconn_th = 0;
	memset(&test_kr, 0, sizeof(test_kr));
	ck_assert_int_eq(tsig_keyring_parse(&test_kr, key, "test.key", &e), 0);
	nfakes = n;
	for (int i = 0; i < n; i++) {
		struct fake *f = &fakes[i];
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t sl = sizeof(sa);

		memset(f, 0, sizeof(*f));
		pthread_mutex_init(&f->lock, NULL);
		f->auth = auth;
		f->cache = blockauth_cache_new();
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_ge(lfd, 0);
		ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		ck_assert_int_eq(listen(lfd, 64), 0);
		getsockname(lfd, (struct sockaddr *)&sa, &sl);
		atomic_store(&f->lfd, lfd);
		f->port = ntohs(sa.sin_port);
		ck_assert_int_eq(pthread_create(&f->th, NULL, accept_main, f), 0);
	}
}

static void fakes_stop(void)
{
	atomic_store(&stopping, 1);
	for (int i = 0; i < nfakes; i++)
		pthread_join(fakes[i].th, NULL);
	for (int i = 0; i < nconn_th; i++)
		pthread_join(conn_th[i], NULL);
	for (int i = 0; i < nfakes; i++) {
		struct fake *f = &fakes[i];

		if (atomic_load(&f->lfd) >= 0)
			close(atomic_load(&f->lfd));
		for (size_t j = 0; j < f->nblobs; j++)
			free(f->blobs[j].data);
		blockauth_cache_free(f->cache);
		pthread_mutex_destroy(&f->lock);
	}
	tsig_keyring_release(&test_kr);
	nfakes = 0;
}

static int fake_has(int i, const struct hash *h)
{
	int found = 0;

	pthread_mutex_lock(&fakes[i].lock);
	for (size_t j = 0; j < fakes[i].nblobs && !found; j++)
		found = hash_equal(&fakes[i].blobs[j].h, h);
	pthread_mutex_unlock(&fakes[i].lock);
	return found;
}

/* ====================================================== client helpers === */

static char ids[FAKE_MAX][64], addrs[FAKE_MAX][64];

/* Fake i is node "node-<i>."; the client optionally signs with test_kr. */
static struct blockclient *client(int nodes, int sign)
{
	struct blockclient_node v[FAKE_MAX];
	struct blockclient_opts o;
	struct blockclient *bc;
	struct err e = { 0 };

	blockclient_opts_init(&o);
	o.connect_timeout_ms = 500;
	o.io_timeout_ms = 500;
	if (sign)
		o.key = &test_kr.keys[0];
	ck_assert_int_eq(blockclient_new(&bc, &o, &e), 0);
	for (int i = 0; i < nodes; i++) {
		snprintf(ids[i], sizeof(ids[i]), "node-%d.", i);
		snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.1:%d", fakes[i].port);
		v[i] = (struct blockclient_node){ ids[i], addrs[i], 10 };
	}
	ck_assert_msg(blockclient_set_nodes(bc, v, (size_t)nodes, &e) == 0, "%s", e.msg);
	return bc;
}

/* The fake index of ranking position pos for h. */
static int ranked(struct blockclient *bc, const struct hash *h, size_t pos)
{
	struct blockclient_nodes *ns = blockclient_nodes_get(bc);
	size_t idx[BLOCKCLIENT_NODES_MAX];
	size_t n = blockclient_nodes_rank(ns, h, idx, BLOCKCLIENT_NODES_MAX);
	int r;

	ck_assert_uint_gt(n, pos);
	r = atoi(blockclient_nodes_id(ns, idx[pos]) + 5);
	blockclient_nodes_put(ns);
	return r;
}

static uint8_t *random_bytes(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n > 0 ? n : 1);
	uint32_t x = seed * 2654435761u + 7;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
	return p;
}

static void teardown(void)
{
	fakes_stop();
}

static void setup6(void)
{
	fakes_start(6, 1);
}

static void setup8(void)
{
	fakes_start(8, 1);
}

/* =================================================================== httpc === */

START_TEST(httpc_keepalive_reuses)
{
	struct httpc_pool *p;
	struct httpc_req r;
	struct err e = { 0 };
	char addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", fakes[0].port);
	ck_assert_int_eq(httpc_pool_new(&p, addr, 4, &e), 0);
	httpc_req_init(&r);
	r.pool = p;
	r.method = "GET";
	r.target = "/v1/blocks/0000000000000000000000000000000000000000000000000000000000000000";
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(httpc_do(&r), 0);
		ck_assert_int_eq(r.status, 404);
		ck_assert_str_eq(r.why, "404 Not Found: no such block");
		ck_assert_int_eq(r.reused, i > 0);
	}
	ck_assert_int_eq(atomic_load(&fakes[0].conns), 1);
	ck_assert_uint_eq(httpc_pool_idle(p), 1);
	/* A server that closes after each answer, silently: a new connection
	 * each time, and no error. */
	atomic_store(&fakes[0].mode, FAKE_CLOSE);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(httpc_do(&r), 0);
		ck_assert_int_eq(r.status, 404);
		usleep(20000);
	}
	ck_assert_int_ge(atomic_load(&fakes[0].conns), 3);
	httpc_req_release(&r);
	httpc_pool_free(p);
}
END_TEST

START_TEST(httpc_errors)
{
	struct httpc_pool *p;
	struct httpc_req r;
	struct err e = { 0 };
	char addr[64];
	int64_t t0;

	ck_assert_int_eq(httpc_pool_new(&p, "nonsense", 1, &e), -EINVAL);
	ck_assert_int_eq(httpc_pool_new(&p, "127.0.0.1:http", 1, &e), -EINVAL);
	ck_assert_int_eq(httpc_pool_new(&p, "[::1]:80", 1, &e), 0);
	httpc_pool_free(p);
	/* refused */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", fakes[1].port);
	fake_kill(&fakes[1]);
	ck_assert_int_eq(httpc_pool_new(&p, addr, 1, &e), 0);
	httpc_req_init(&r);
	r.pool = p;
	r.method = "HEAD";
	r.target = "/x";
	ck_assert_int_eq(httpc_do(&r), -ECONNREFUSED);
	ck_assert_str_eq(r.why, "connect: Connection refused");
	ck_assert(httpc_pool_is_down(p));
	httpc_req_release(&r);
	httpc_pool_free(p);
	/* no answer: the io timeout */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", fakes[2].port);
	atomic_store(&fakes[2].mode, FAKE_HANG);
	ck_assert_int_eq(httpc_pool_new(&p, addr, 1, &e), 0);
	httpc_req_init(&r);
	r.pool = p;
	r.method = "GET";
	r.target = "/x";
	r.io_timeout_ms = 200;
	t0 = httpc_now_ms();
	ck_assert_int_eq(httpc_do(&r), -ETIMEDOUT);
	ck_assert_int_ge(httpc_now_ms() - t0, 190);
	ck_assert_int_lt(httpc_now_ms() - t0, 2000);
	ck_assert_str_eq(r.why, "answer timed out after 200 ms");
	httpc_req_release(&r);
	httpc_pool_free(p);
}
END_TEST

START_TEST(httpc_chunked_and_sizes)
{
	struct blockclient *bc = client(1, 1);
	struct blockclient_nodes *ns;
	uint8_t *d = random_bytes(100000, 3), *back = malloc(100000);
	struct hash h;
	struct err e = { 0 };
	void *got = NULL;
	size_t gotlen = 0;

	ns = blockclient_nodes_get(bc);
	hash_buf(&h, d, 100000);
	ck_assert_int_eq(blockclient_node_put(bc, ns, 0, &h, d, 100000, &e), 0);
	atomic_store(&fakes[0].mode, FAKE_CHUNKED);
	ck_assert_msg(blockclient_node_get(bc, ns, 0, &h, back, 100000, NULL, NULL, &e) == 0,
		      "%s", e.msg);
	ck_assert_mem_eq(back, d, 100000);
	ck_assert_int_eq(blockclient_node_get(bc, ns, 0, &h, NULL, 0, &got, &gotlen, &e), 0);
	ck_assert_uint_eq(gotlen, 100000);
	ck_assert_mem_eq(got, d, 100000);
	free(got);
	atomic_store(&fakes[0].mode, FAKE_OK);
	/* the wrong length expected: a bad copy */
	ck_assert_int_eq(blockclient_node_get(bc, ns, 0, &h, back, 99999, NULL, NULL, &e),
			 -EBADMSG);
	uint64_t size = 0;
	ck_assert_int_eq(blockclient_node_head(bc, ns, 0, &h, &size, &e), 0);
	ck_assert_uint_eq(size, 100000);
	ck_assert_int_eq(blockclient_node_delete(bc, ns, 0, &h, 0, &e), 0);
	ck_assert_int_eq(blockclient_node_head(bc, ns, 0, &h, &size, &e), -ENOENT);
	ck_assert_int_eq(blockclient_node_delete(bc, ns, 0, &h, 0, &e), -ENOENT);
	blockclient_nodes_put(ns);
	blockclient_free(bc);
	free(d);
	free(back);
}
END_TEST

/* =============================================================== replicas === */

START_TEST(rep_top_three)
{
	struct blockclient *bc = client(6, 1);
	uint8_t *d = random_bytes(5000, 1), back[5000];
	struct blockclient_stats st;
	struct hash h;
	struct err e = { 0 };
	int copies = 0;

	ck_assert_msg(blockclient_put_rep(bc, d, 5000, 3, 0, &h, &e) == 0, "%s", e.msg);
	for (int i = 0; i < 6; i++)
		copies += fake_has(i, &h);
	ck_assert_int_eq(copies, 3);
	for (int pos = 0; pos < 3; pos++)
		ck_assert(fake_has(ranked(bc, &h, pos), &h));
	ck_assert_int_eq(blockclient_get_rep(bc, &h, back, 5000, &e), 0);
	ck_assert_mem_eq(back, d, 5000);
	/* the first holder answered: one GET in all */
	ck_assert_int_eq(atomic_load(&fakes[ranked(bc, &h, 0)].gets), 1);
	/* a second put is the same, idempotent */
	ck_assert_int_eq(blockclient_put_rep(bc, d, 5000, 3, 0, &h, &e), 0);
	blockclient_stats(bc, &st);
	ck_assert_uint_eq(st.put_blocks, 6);
	ck_assert_uint_eq(st.get_blocks, 1);
	ck_assert_uint_eq(st.failovers, 0);
	blockclient_free(bc);
	free(d);
}
END_TEST

START_TEST(rep_failure_goes_down_the_ranking)
{
	struct blockclient *bc = client(6, 1);
	uint8_t *d = random_bytes(3000, 2);
	struct hash h;
	struct err e = { 0 };

	hash_buf(&h, d, 3000);
	atomic_store(&fakes[ranked(bc, &h, 0)].mode, FAKE_FULL);
	fake_kill(&fakes[ranked(bc, &h, 2)]);
	ck_assert_msg(blockclient_put_rep(bc, d, 3000, 3, 0, &h, &e) == 0, "%s", e.msg);
	/* the copies moved to ranks 2, 4 and 5 */
	ck_assert(!fake_has(ranked(bc, &h, 0), &h));
	ck_assert(fake_has(ranked(bc, &h, 1), &h));
	ck_assert(fake_has(ranked(bc, &h, 3), &h));
	ck_assert(fake_has(ranked(bc, &h, 4), &h));
	ck_assert(!fake_has(ranked(bc, &h, 5), &h));
	blockclient_free(bc);
	free(d);
}
END_TEST

START_TEST(rep_quorum)
{
	struct blockclient *bc = client(3, 1);
	uint8_t *d = random_bytes(2000, 3);
	struct hash h;
	struct err e = { 0 };

	hash_buf(&h, d, 2000);
	/* one of three down: 2 copies meet W=2 */
	fake_kill(&fakes[ranked(bc, &h, 1)]);
	ck_assert_msg(blockclient_put_rep(bc, d, 2000, 3, 2, &h, &e) == 0, "%s", e.msg);
	/* ... but not W=3 */
	ck_assert_int_eq(blockclient_put_rep(bc, d, 2000, 3, 3, &h, &e), -EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "2 of 3 copies stored, quorum 3"));
	ck_assert_ptr_nonnull(strstr(e.msg, "Connection refused"));
	/* two down, one full: nothing */
	atomic_store(&fakes[ranked(bc, &h, 2)].mode, FAKE_FULL);
	fake_kill(&fakes[ranked(bc, &h, 0)]);
	ck_assert_int_eq(blockclient_put_rep(bc, d, 2000, 3, 0, &h, &e), -EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "0 of 3 copies stored, quorum 2"));
	ck_assert_ptr_nonnull(strstr(e.msg, "507 Insufficient Storage"));
	/* arguments */
	ck_assert_int_eq(blockclient_put_rep(bc, d, 0, 3, 0, &h, &e), -EINVAL);
	ck_assert_int_eq(blockclient_put_rep(bc, d, 10, 3, 4, &h, &e), -EINVAL);
	ck_assert_int_eq(blockclient_put_rep(bc, d, 10, 0, 0, &h, &e), -EINVAL);
	blockclient_free(bc);
	free(d);
}
END_TEST

START_TEST(rep_unsigned_refused)
{
	struct blockclient *bc = client(3, 0);
	uint8_t *d = random_bytes(100, 4);
	struct hash h;
	struct err e = { 0 };

	ck_assert_int_eq(blockclient_put_rep(bc, d, 100, 3, 0, &h, &e), -EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "401 Unauthorized"));
	blockclient_free(bc);
	free(d);
}
END_TEST

static atomic_int corrupt_calls;
static char corrupt_node[64];

static void on_corrupt(void *arg, const char *node, const struct hash *h, const char *why)
{
	atomic_fetch_add(&corrupt_calls, 1);
	snprintf(corrupt_node, sizeof(corrupt_node), "%s", node);
}

START_TEST(rep_read_verifies_and_fails_over)
{
	struct blockclient_opts o;
	struct blockclient *bc = client(6, 1), *bc2;
	uint8_t *d = random_bytes(7777, 5), back[7777];
	struct blockclient_nodes *ns;
	struct blockclient_stats st;
	struct hash h;
	struct err e = { 0 };
	int first;

	ck_assert_int_eq(blockclient_put_rep(bc, d, 7777, 3, 0, &h, &e), 0);
	first = ranked(bc, &h, 0);
	atomic_store(&fakes[first].mode, FAKE_CORRUPT);
	/* a client with the corrupt callback, on the same nodes */
	blockclient_opts_init(&o);
	o.on_corrupt = on_corrupt;
	ck_assert_int_eq(blockclient_new(&bc2, &o, &e), 0);
	ns = blockclient_nodes_get(bc);
	{
		struct blockclient_node v[6];

		for (int i = 0; i < 6; i++)
			v[i] = (struct blockclient_node){ blockclient_nodes_id(ns, (size_t)i),
				blockclient_nodes_addr(ns, (size_t)i), 10 };
		ck_assert_int_eq(blockclient_set_nodes(bc2, v, 6, &e), 0);
	}
	blockclient_nodes_put(ns);
	atomic_store(&corrupt_calls, 0);
	ck_assert_int_eq(blockclient_get_rep(bc2, &h, back, 7777, &e), 0);
	ck_assert_mem_eq(back, d, 7777);
	ck_assert_int_eq(atomic_load(&corrupt_calls), 1);
	ck_assert_str_eq(corrupt_node, ids[first]);
	blockclient_stats(bc2, &st);
	ck_assert_uint_eq(st.corrupt, 1);
	ck_assert_uint_eq(st.failovers, 1);
	/* the other two holders down too: no good copy left */
	fake_kill(&fakes[ranked(bc, &h, 1)]);
	fake_kill(&fakes[ranked(bc, &h, 2)]);
	ck_assert_int_eq(blockclient_get_rep(bc2, &h, back, 7777, &e), -EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "no good copy"));
	/* a block nobody has */
	hash_buf(&h, "nope", 4);
	ck_assert_int_eq(blockclient_get_rep(bc, &h, back, 4, &e), -EIO);
	atomic_store(&fakes[first].mode, FAKE_OK);
	blockclient_free(bc);
	blockclient_free(bc2);
	free(d);
}
END_TEST

START_TEST(rep_missing_everywhere)
{
	struct blockclient *bc = client(6, 1);
	uint8_t back[4];
	struct hash h;
	struct err e = { 0 };

	hash_buf(&h, "nope", 4);
	ck_assert_int_eq(blockclient_get_rep(bc, &h, back, 4, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "none of 6 nodes has it"));
	blockclient_free(bc);
}
END_TEST

START_TEST(draining_nodes_get_no_writes)
{
	struct blockclient_node v[6];
	struct blockclient *bc = client(6, 1);
	uint8_t *d = random_bytes(1000, 6), back[1000];
	struct hash h;
	struct err e = { 0 };
	int drained;

	hash_buf(&h, d, 1000);
	drained = ranked(bc, &h, 0);
	for (int i = 0; i < 6; i++)
		v[i] = (struct blockclient_node){ ids[i], addrs[i], i == drained ? 0 : 10 };
	ck_assert_int_eq(blockclient_set_nodes(bc, v, 6, &e), 0);
	ck_assert_int_eq(blockclient_put_rep(bc, d, 1000, 3, 0, &h, &e), 0);
	ck_assert(!fake_has(drained, &h));
	ck_assert_int_eq(blockclient_get_rep(bc, &h, back, 1000, &e), 0);
	ck_assert_mem_eq(back, d, 1000);
	blockclient_free(bc);
	free(d);
}
END_TEST

/* ================================================================ stripes === */

static void put_stripe(struct blockclient *bc, const uint8_t *d, size_t len, unsigned k,
		       unsigned m, struct hash *h)
{
	struct err e = { 0 };

	ck_assert_msg(blockclient_put_ec(bc, d, len, k, m, h, &e) == 0, "%s", e.msg);
}

START_TEST(ec_chunks_on_distinct_ranked_nodes)
{
	struct blockclient *bc = client(6, 1);
	size_t len = 3 * 65536 + 17;
	uint8_t *d = random_bytes(len, 7), *back = malloc(len);
	struct blockclient_stats st;
	struct hash h[6];
	struct err e = { 0 };

	put_stripe(bc, d, len, 4, 2, h);
	for (int i = 0; i < 6; i++) {
		int node = ranked(bc, &h[0], (size_t)i);

		ck_assert(fake_has(node, &h[i]));
		for (int j = 0; j < 6; j++)
			if (j != node)
				ck_assert(!fake_has(j, &h[i]) || hash_equal(&h[i], &h[0]));
	}
	ck_assert_int_eq(blockclient_get_ec(bc, h, 4, 2, back, len, &e), 0);
	ck_assert_mem_eq(back, d, len);
	blockclient_stats(bc, &st);
	ck_assert_uint_eq(st.get_blocks, 4);    /* the data chunks only */
	ck_assert_uint_eq(st.reconstructs, 0);
	blockclient_free(bc);
	free(d);
	free(back);
}
END_TEST

START_TEST(ec_reads_with_m_lost)
{
	struct blockclient *bc = client(6, 1);
	size_t len = 100000;
	uint8_t *d = random_bytes(len, 8), *back = malloc(len);
	struct blockclient_stats st;
	struct hash h[6];
	struct err e = { 0 };

	put_stripe(bc, d, len, 4, 2, h);
	/* two data chunks: one node dead, one with a bad copy */
	fake_kill(&fakes[ranked(bc, &h[0], 0)]);
	atomic_store(&fakes[ranked(bc, &h[0], 2)].mode, FAKE_CORRUPT);
	memset(back, 0, len);
	ck_assert_msg(blockclient_get_ec(bc, h, 4, 2, back, len, &e) == 0, "%s", e.msg);
	ck_assert_mem_eq(back, d, len);
	blockclient_stats(bc, &st);
	ck_assert_uint_eq(st.reconstructs, 1);
	ck_assert_uint_eq(st.corrupt, 1);
	/* a third lost: -EIO, naming the nodes */
	atomic_store(&fakes[ranked(bc, &h[0], 5)].mode, FAKE_HANG);
	ck_assert_int_eq(blockclient_get_ec(bc, h, 4, 2, back, len, &e), -EIO);
	ck_assert_ptr_nonnull(strstr(e.msg, "3 of the 4 chunks needed found"));
	blockclient_free(bc);
	free(d);
	free(back);
}
END_TEST

START_TEST(ec_write_uses_spares_and_read_finds_them)
{
	struct blockclient *bc = client(8, 1);
	size_t len = 4 * 4096;
	uint8_t *d = random_bytes(len, 9), *back = malloc(len);
	struct hash h[6];
	struct err e = { 0 };
	int home0, home1;

	/* the hashes are known before the write: compute the home nodes */
	{
		struct ec *c;
		uint8_t *ptr[6], *buf = malloc(6 * 4096);

		ck_assert_int_eq(ec_new(&c, 4, 2, &e), 0);
		memcpy(buf, d, len);
		for (int i = 0; i < 6; i++)
			ptr[i] = buf + i * 4096;
		ck_assert_int_eq(ec_encode(c, 4096, ptr, ptr + 4, &e), 0);
		for (int i = 0; i < 6; i++)
			hash_buf(&h[i], ptr[i], 4096);
		ec_free(c);
		free(buf);
	}
	home0 = ranked(bc, &h[0], 0);
	home1 = ranked(bc, &h[0], 1);
	atomic_store(&fakes[home0].mode, FAKE_FULL);
	atomic_store(&fakes[home1].mode, FAKE_FULL);
	put_stripe(bc, d, len, 4, 2, h);
	ck_assert(fake_has(ranked(bc, &h[0], 6), &h[0]) || fake_has(ranked(bc, &h[0], 7), &h[0]));
	ck_assert(fake_has(ranked(bc, &h[0], 6), &h[1]) || fake_has(ranked(bc, &h[0], 7), &h[1]));
	/* Now the homes answer again (without the chunks) and another node is
	 * gone: only 3 chunks at home, the 4th is found on a spare. */
	atomic_store(&fakes[home0].mode, FAKE_OK);
	atomic_store(&fakes[home1].mode, FAKE_OK);
	fake_kill(&fakes[ranked(bc, &h[0], 2)]);
	ck_assert_msg(blockclient_get_ec(bc, h, 4, 2, back, len, &e) == 0, "%s", e.msg);
	ck_assert_mem_eq(back, d, len);
	/* too few nodes to write a stripe at all */
	fake_kill(&fakes[ranked(bc, &h[0], 3)]);
	for (int i = 0; i < 8; i++)
		atomic_store(&fakes[i].mode, atomic_load(&fakes[i].mode) == FAKE_DEAD ? FAKE_DEAD
										: FAKE_FULL);
	ck_assert_int_eq(blockclient_put_ec(bc, d, len, 4, 2, h, &e), -EIO);
	blockclient_free(bc);
	bc = client(5, 1);
	ck_assert_int_eq(blockclient_put_ec(bc, d, len, 4, 2, h, &e), -ENOSPC);
	ck_assert_ptr_nonnull(strstr(e.msg, "needs 6 writable nodes, there are 5"));
	blockclient_free(bc);
	free(d);
	free(back);
}
END_TEST

/* Move the blob h from fake a to fake b (a chunk left at its old home). */
static void fake_move(int a, int b, const struct hash *h)
{
	struct blob moved = { 0 };

	pthread_mutex_lock(&fakes[a].lock);
	for (size_t j = 0; j < fakes[a].nblobs; j++)
		if (hash_equal(&fakes[a].blobs[j].h, h)) {
			moved = fakes[a].blobs[j];
			fakes[a].blobs[j] = fakes[a].blobs[--fakes[a].nblobs];
			break;
		}
	pthread_mutex_unlock(&fakes[a].lock);
	ck_assert_ptr_nonnull(moved.data);
	pthread_mutex_lock(&fakes[b].lock);
	fakes[b].blobs[fakes[b].nblobs++] = moved;
	pthread_mutex_unlock(&fakes[b].lock);
}

START_TEST(ec_read_finds_chunks_on_other_stripe_nodes)
{
	/* A rebalance in progress: chunks still sit where the node set before
	 * it placed them, which is another node of the stripe now. With both
	 * parity nodes down, only a search of the stripe's other nodes finds
	 * the two data chunks that swapped homes. */
	struct blockclient *bc = client(6, 1);
	size_t len = 100000;
	uint8_t *d = random_bytes(len, 12), *back = malloc(len);
	struct hash h[6];
	struct err e = { 0 };
	int home0, home1;

	put_stripe(bc, d, len, 4, 2, h);
	home0 = ranked(bc, &h[0], 0);
	home1 = ranked(bc, &h[0], 1);
	fake_move(home0, home1, &h[0]);
	fake_move(home1, home0, &h[1]);
	fake_kill(&fakes[ranked(bc, &h[0], 4)]);
	fake_kill(&fakes[ranked(bc, &h[0], 5)]);
	memset(back, 0, len);
	ck_assert_msg(blockclient_get_ec(bc, h, 4, 2, back, len, &e) == 0, "%s", e.msg);
	ck_assert_mem_eq(back, d, len);
	blockclient_free(bc);
	free(d);
	free(back);
}
END_TEST

START_TEST(ec_small_and_odd)
{
	struct blockclient *bc = client(8, 1);
	static const size_t lens[] = { 1, 63, 64, 65, 255, 256, 257, 4095 };
	static const unsigned shapes[][2] = { { 4, 2 }, { 1, 2 }, { 2, 0 }, { 3, 3 }, { 6, 2 } };
	struct err e = { 0 };

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			unsigned k = shapes[s][0], m = shapes[s][1];
			uint8_t *d = random_bytes(lens[i], (unsigned)(s * 10 + i)), back[4096];
			struct hash h[EC_N_MAX];

			put_stripe(bc, d, lens[i], k, m, h);
			ck_assert_msg(blockclient_get_ec(bc, h, k, m, back, lens[i], &e) == 0, "%s",
				      e.msg);
			ck_assert_mem_eq(back, d, lens[i]);
			free(d);
		}
	}
	blockclient_free(bc);
}
END_TEST

/* blockclient_stripe_encode uses full data chunks in place (here from an
 * odd, unaligned address) and gives the same chunks as copying the stripe
 * into one aligned, zero-padded buffer and encoding that. */
START_TEST(stripe_encode_in_place)
{
	static const size_t lens[] = { 1, 64, 65, 255, 256, 257, 4096, 5000, 262144,
				       1048576, 1048577 };
	static const unsigned shapes[][2] = { { 4, 2 }, { 1, 2 }, { 2, 0 }, { 3, 3 }, { 6, 2 } };
	struct err e = { 0 };

	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		unsigned k = shapes[s][0], m = shapes[s][1], n = k + m;
		struct ec *c;

		ck_assert_int_eq(ec_new(&c, k, m, &e), 0);
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			size_t len = lens[i], chunk = ec_chunk_len(len, k);
			uint8_t *d = random_bytes(len, (unsigned)(s * 20 + i));
			uint8_t *odd = malloc(len + 1), *ref, *scratch, *ptr[EC_N_MAX], *rp[EC_N_MAX];
			size_t sl = blockclient_stripe_scratch(len, k, m);

			ck_assert_ptr_nonnull(odd);
			memcpy(odd + 1, d, len);
			ck_assert_int_eq(posix_memalign((void **)&ref, EC_ALIGN, n * chunk), 0);
			ck_assert_int_eq(posix_memalign((void **)&scratch, EC_ALIGN, sl ? sl : 1), 0);
			memcpy(ref, d, len);
			memset(ref + len, 0, k * chunk - len);
			for (unsigned j = 0; j < n; j++)
				rp[j] = ref + j * chunk;
			ck_assert_int_eq(ec_encode(c, chunk, rp, rp + k, &e), 0);
			ck_assert_msg(blockclient_stripe_encode(c, odd + 1, len, scratch, ptr, &e) == 0,
				      "%s", e.msg);
			ck_assert_uint_eq(sl, (n - len / chunk) * chunk);
			for (unsigned j = 0; j < n; j++) {
				if (j < len / chunk)
					ck_assert_ptr_eq(ptr[j], odd + 1 + j * chunk);  /* not copied */
				else
					ck_assert(ptr[j] >= scratch && ptr[j] + chunk <= scratch + sl);
				ck_assert_msg(memcmp(ptr[j], rp[j], chunk) == 0,
					      "k=%u m=%u len=%zu: chunk %u differs", k, m, len, j);
			}
			free(scratch);
			free(ref);
			free(odd);
			free(d);
		}
		ec_free(c);
	}
}
END_TEST

/* ============================================================ files/refs === */

START_TEST(write_and_read_refs)
{
	struct blockclient *bc = client(6, 1);
	struct blockclient_policy rep = { .rep = 3, .block = 4096 };
	struct blockclient_policy ec = { .k = 4, .m = 2, .block = 4096 };
	size_t len = 4096 * 9 + 123;
	uint8_t *d = random_bytes(len, 10), *back = malloc(len);
	struct record_refs refs = { 0 };
	struct err e = { 0 };

	ck_assert_int_eq(blockclient_write(bc, d, len, 1000, &rep, &refs, &e), 0);
	ck_assert_uint_eq(refs.n, 10);
	ck_assert_uint_eq(refs.v[0].off, 1000);
	ck_assert_uint_eq(refs.v[9].len, 123);
	ck_assert_int_eq(blockclient_write(bc, d, len, 1000 + len, &ec, &refs, &e), 0);
	ck_assert_uint_eq(refs.n, 13);          /* 16 KiB stripes: 2 whole, 1 of 3195 */
	ck_assert_uint_eq(refs.v[12].len, len - 2 * 16384);
	ck_assert_uint_eq(refs.v[12].k, 4);
	for (size_t i = 0; i < refs.n; i++) {
		uint64_t base = i < 10 ? 1000 : 1000 + len;

		ck_assert_int_eq(blockclient_read_ref(bc, &refs.v[i], back, &e), 0);
		ck_assert_mem_eq(back, d + (refs.v[i].off - base), refs.v[i].len);
	}
	record_refs_release(&refs);
	blockclient_free(bc);
	free(d);
	free(back);
}
END_TEST

START_TEST(parse_nodes)
{
	struct blockclient_node v[4];
	struct err e = { 0 };
	char buf[256];

	ck_assert_int_eq(blockclient_parse_nodes("127.0.0.1:1 b=127.0.0.1:2,[::1]:3", buf,
						 sizeof(buf), v, 4, &e), 3);
	ck_assert_ptr_null(v[0].id);
	ck_assert_str_eq(v[0].addr, "127.0.0.1:1");
	ck_assert_str_eq(v[1].id, "b");
	ck_assert_str_eq(v[1].addr, "127.0.0.1:2");
	ck_assert_str_eq(v[2].addr, "[::1]:3");
	ck_assert_int_eq(blockclient_parse_nodes("", buf, sizeof(buf), v, 4, &e), 0);
	ck_assert_int_eq(blockclient_parse_nodes("a b", buf, sizeof(buf), v, 4, &e), -EINVAL);
	ck_assert_int_eq(blockclient_parse_nodes("=1.2.3.4:5", buf, sizeof(buf), v, 4, &e),
			 -EINVAL);
	ck_assert_int_eq(blockclient_parse_nodes("a:1 b:2 c:3 d:4 e:5", buf, sizeof(buf), v, 4,
						 &e), -ENOSPC);
	ck_assert_int_eq(blockclient_parse_nodes("a:1", buf, 2, v, 4, &e), -ENOSPC);
}
END_TEST

START_TEST(node_set_rules)
{
	struct blockclient *bc;
	struct blockclient_node v[2] = { { "A.", "127.0.0.1:1", 1 }, { "a.", "127.0.0.1:2", 1 } };
	struct blockclient_nodes *ns;
	uint8_t x[1];
	struct hash h;
	struct err e = { 0 };

	ck_assert_int_eq(blockclient_new(&bc, NULL, &e), 0);
	hash_buf(&h, "x", 1);
	ck_assert_int_eq(blockclient_put_rep(bc, "x", 1, 1, 0, &h, &e), -EHOSTUNREACH);
	ck_assert_int_eq(blockclient_get_rep(bc, &h, x, 1, &e), -EHOSTUNREACH);
	ck_assert_int_eq(blockclient_set_nodes(bc, v, 2, &e), -EEXIST);
	ck_assert_ptr_null(blockclient_nodes_get(bc));
	v[1].id = NULL;
	ck_assert_int_eq(blockclient_set_nodes(bc, v, 2, &e), 0);
	ns = blockclient_nodes_get(bc);
	ck_assert_uint_eq(blockclient_nodes_count(ns), 2);
	ck_assert_str_eq(blockclient_nodes_id(ns, 0), "a.");
	ck_assert_str_eq(blockclient_nodes_id(ns, 1), "127.0.0.1:2");
	/* replacing the set keeps the snapshot alive */
	ck_assert_int_eq(blockclient_set_nodes(bc, v, 1, &e), 0);
	ck_assert_str_eq(blockclient_nodes_addr(ns, 1), "127.0.0.1:2");
	blockclient_nodes_put(ns);
	v[0].addr = "no-port";
	ck_assert_int_eq(blockclient_set_nodes(bc, v, 1, &e), -EINVAL);
	blockclient_free(bc);
}
END_TEST

/* ================================================================ threads === */

struct th_arg {
	struct blockclient *bc;
	int id;
	int ok;
	char msg[ERR_MSG_MAX];
};

static void *th_main(void *p)
{
	struct th_arg *a = p;
	struct err e = { 0 };

	a->ok = 1;
	for (int i = 0; i < 20 && a->ok; i++) {
		size_t len = 1000 + (size_t)(a->id * 997 + i * 131) % 20000;
		uint8_t *d = random_bytes(len, (unsigned)(a->id * 1000 + i)), *back = malloc(len);
		struct hash h[6];

		if (i % 2 == 0) {
			a->ok = blockclient_put_rep(a->bc, d, len, 3, 0, h, &e) == 0 &&
				blockclient_get_rep(a->bc, h, back, len, &e) == 0;
		} else {
			a->ok = blockclient_put_ec(a->bc, d, len, 4, 2, h, &e) == 0 &&
				blockclient_get_ec(a->bc, h, 4, 2, back, len, &e) == 0;
		}
		if (a->ok && memcmp(back, d, len) != 0) {
			a->ok = 0;
			snprintf(e.msg, sizeof(e.msg), "data differs");
		}
		if (!a->ok)
			snprintf(a->msg, sizeof(a->msg), "%s", e.msg);
		free(d);
		free(back);
	}
	return NULL;
}

START_TEST(threads_share_a_client)
{
	struct blockclient *bc = client(6, 1);
	pthread_t th[8];
	struct th_arg arg[8];
	struct blockclient_stats st;

	for (int i = 0; i < 8; i++) {
		arg[i] = (struct th_arg){ .bc = bc, .id = i };
		ck_assert_int_eq(pthread_create(&th[i], NULL, th_main, &arg[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		ck_assert_msg(arg[i].ok, "thread %d: %s", i, arg[i].msg);
	}
	blockclient_stats(bc, &st);
	ck_assert_uint_eq(st.put_blocks, 8 * (10 * 3 + 10 * 6));
	ck_assert_uint_eq(st.corrupt, 0);
	/* keep-alive: far fewer connections than requests */
	int conns = 0;
	for (int i = 0; i < 6; i++)
		conns += atomic_load(&fakes[i].conns);
	ck_assert_int_lt(conns, (int)st.requests / 2);
	blockclient_free(bc);
}
END_TEST

/* Every node's space at once: answers, a hung node, a dead one and one that
 * is not blockd all come back, within the timeout, each with its own result. */
START_TEST(space_of_every_node)
{
	struct blockclient *bc = client(6, 0);
	struct blockclient_nodes *ns = blockclient_nodes_get(bc);
	struct blockclient_space v[6];
	struct err e = { 0 };
	struct timespec t0, t1;
	int rc[6], n;
	double secs;

	atomic_store(&fakes[2].mode, FAKE_HANG);
	fake_kill(&fakes[3]);
	atomic_store(&fakes[4].mode, FAKE_CORRUPT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = blockclient_space(bc, ns, 300, v, rc, &e);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_int_eq(n, 3);
	ck_assert_msg(secs < 1.0, "took %.2f s with a 300 ms timeout", secs);
	ck_assert_msg(e.msg[0] != '\0', "no reason given");
	for (int i = 0; i < 6; i++) {
		if (i == 2) {
			ck_assert_int_eq(rc[i], -ETIMEDOUT);
		} else if (i == 3) {
			ck_assert_int_eq(rc[i], -ECONNREFUSED);
		} else if (i == 4) {
			ck_assert_int_eq(rc[i], -EPROTO);
		} else {
			ck_assert_int_eq(rc[i], 0);
			ck_assert_uint_eq(v[i].capacity, (uint64_t)(i + 1) << 20);
			ck_assert_uint_eq(v[i].used, 1000);
			ck_assert_uint_eq(v[i].free, ((uint64_t)(i + 1) << 20) - 1000);
		}
	}
	ck_assert_int_eq(blockclient_space(bc, NULL, 300, v, rc, &e), 0);
	blockclient_nodes_put(ns);
	blockclient_free(bc);
}
END_TEST

static Suite *blockclient_suite(void)
{
	Suite *s = suite_create("blockclient");
	TCase *tc = tcase_create("httpc");

	tcase_add_checked_fixture(tc, setup6, teardown);
	tcase_add_test(tc, httpc_keepalive_reuses);
	tcase_add_test(tc, httpc_errors);
	tcase_add_test(tc, httpc_chunked_and_sizes);
	suite_add_tcase(s, tc);
	tc = tcase_create("replicas");
	tcase_add_checked_fixture(tc, setup6, teardown);
	tcase_add_test(tc, rep_top_three);
	tcase_add_test(tc, rep_failure_goes_down_the_ranking);
	tcase_add_test(tc, rep_quorum);
	tcase_add_test(tc, rep_unsigned_refused);
	tcase_add_test(tc, rep_read_verifies_and_fails_over);
	tcase_add_test(tc, rep_missing_everywhere);
	tcase_add_test(tc, draining_nodes_get_no_writes);
	suite_add_tcase(s, tc);
	tc = tcase_create("stripes");
	tcase_add_checked_fixture(tc, setup8, teardown);
	tcase_add_test(tc, ec_chunks_on_distinct_ranked_nodes);
	tcase_add_test(tc, ec_reads_with_m_lost);
	tcase_add_test(tc, ec_write_uses_spares_and_read_finds_them);
	tcase_add_test(tc, ec_read_finds_chunks_on_other_stripe_nodes);
	tcase_add_test(tc, ec_small_and_odd);
	tcase_add_test(tc, stripe_encode_in_place);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_checked_fixture(tc, setup6, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, write_and_read_refs);
	tcase_add_test(tc, parse_nodes);
	tcase_add_test(tc, node_set_rules);
	tcase_add_test(tc, threads_share_a_client);
	tcase_add_test(tc, space_of_every_node);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(blockclient_suite)
