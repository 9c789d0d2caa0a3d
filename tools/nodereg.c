/* nodereg: the signed UPDATE that puts block daemons in the zone (see
 * nodereg.h). One message, sent over TCP so that any number of nodes fits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nodereg.h"
#include "wire.h"

/* Write or read exactly n bytes before the deadline (ms of CLOCK_MONOTONIC). */
static int io_full(int fd, void *p, size_t n, int writing, int64_t deadline)
{
	uint8_t *b = p;

	while (n > 0) {
		struct pollfd pf = { .fd = fd, .events = writing ? POLLOUT : POLLIN };
		struct timespec ts;
		int64_t now;
		ssize_t k;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (now >= deadline)
			return -ETIMEDOUT;
		if (poll(&pf, 1, (int)(deadline - now)) <= 0)
			continue;
		k = writing ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -ECONNRESET;
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

/* The UPDATE message into buf; its length or a negative errno. */
static int build(uint8_t *buf, size_t cap, const char *zone, const struct nodereg_node *v,
		 size_t n, uint32_t ttl, struct tsig_ctx *ctx, struct err *e)
{
	struct wire_name zn, srvname, tn;
	struct wire_wr w;
	struct wire_hdr h = { .flags = WIRE_OP_UPDATE << 11, .qdcount = 1 };
	uint8_t rdata[6 + WIRE_NAME_MAX];
	uint16_t id;
	size_t nrr = 0;
	int r;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)time(NULL);
	h.id = id;
	r = wire_name_from_text(&zn, zone, e);
	if (r < 0)
		return r;
	srvname = zn;
	if (wire_name_prepend(&srvname, "_tcp", 4) < 0 ||
	    wire_name_prepend(&srvname, "_blockd", 7) < 0)
		return err_set(e, -ENAMETOOLONG, "zone %s: name too long", zone);
	wire_wr_init(&w, buf, cap - TSIG_RR_MAX);
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &zn);                  /* zone section: Z SOA IN */
	wire_wr_u16(&w, WIRE_T_SOA);
	wire_wr_u16(&w, WIRE_C_IN);
	for (size_t i = 0; i < n; i++) {
		struct in_addr ia;

		r = wire_name_from_text(&tn, v[i].target, e);
		if (r < 0)
			return r;
		if (inet_pton(AF_INET, v[i].ipv4, &ia) != 1)
			return err_set(e, -EINVAL, "%s: \"%s\" is not an IPv4 address", v[i].target,
				       v[i].ipv4);
		rdata[0] = 0;                   /* priority 0 */
		rdata[1] = 0;
		rdata[2] = (uint8_t)(v[i].weight >> 8);
		rdata[3] = (uint8_t)v[i].weight;
		rdata[4] = (uint8_t)(v[i].port >> 8);
		rdata[5] = (uint8_t)v[i].port;
		memcpy(rdata + 6, tn.b, tn.len);
		wire_rdata_lower(WIRE_T_SRV, rdata, (uint16_t)(6 + tn.len));
		if (v[i].op == NODEREG_ADD) {
			r = wire_wr_rr(&w, &srvname, WIRE_T_SRV, WIRE_C_IN, ttl, rdata,
				       (uint16_t)(6 + tn.len));
			if (r == 0)
				r = wire_wr_rr(&w, &tn, WIRE_T_A, WIRE_C_IN, ttl,
					       (const uint8_t *)&ia, 4);
			nrr += 2;
		} else {
			r = wire_wr_rr(&w, &srvname, WIRE_T_SRV, WIRE_C_NONE, 0, rdata,
				       (uint16_t)(6 + tn.len));
			nrr++;
			if (r == 0 && v[i].op == NODEREG_DEL) {
				r = wire_wr_rr(&w, &tn, WIRE_T_A, WIRE_C_ANY, 0, NULL, 0);
				nrr++;
			}
		}
		if (r < 0)
			return err_set(e, -E2BIG, "%zu nodes do not fit one UPDATE", n);
	}
	wire_wr_patch_u16(&w, 8, (uint16_t)nrr);       /* NSCOUNT: the update section */
	w.cap = cap;                                    /* room for the TSIG RR */
	r = tsig_sign(ctx, &w, time(NULL), e);
	if (r < 0)
		return r;
	return (int)w.pos;
}

int nodereg_add(const char *addr, int port, const char *zone, const struct tsig_key *key,
		const struct nodereg_node *v, size_t n, uint32_t ttl, int timeout_ms,
		struct err *e)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].op != NODEREG_ADD)
			return err_set(e, -EINVAL, "nodereg_add: %s is not an add", v[i].target);
	return nodereg_update(addr, port, zone, key, v, n, ttl, timeout_ms, e);
}

int nodereg_update(const char *addr, int port, const char *zone, const struct tsig_key *key,
		   const struct nodereg_node *v, size_t n, uint32_t ttl, int timeout_ms,
		   struct err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct tsig_ctx ctx = { .key = key };
	uint8_t *msg = NULL, *ans = NULL, len2[2];
	struct wire_rd rd;
	struct wire_hdr h;
	struct timespec ts;
	int64_t deadline;
	size_t alen;
	int fd = -1, r, mlen;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return err_set(e, -EINVAL, "%s: not an IPv4 address", addr);
	msg = malloc(WIRE_TCP_MAX);
	ans = malloc(WIRE_TCP_MAX);
	if (msg == NULL || ans == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	mlen = build(msg, WIRE_TCP_MAX, zone, v, n, ttl, &ctx, e);
	if (mlen < 0) {
		r = mlen;
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = err_set(e, -errno, "UPDATE to %s:%d: %s", addr, port, strerror(errno));
		goto fail;
	}
	len2[0] = (uint8_t)(mlen >> 8);
	len2[1] = (uint8_t)mlen;
	r = io_full(fd, len2, 2, 1, deadline);
	if (r == 0)
		r = io_full(fd, msg, (size_t)mlen, 1, deadline);
	if (r == 0)
		r = io_full(fd, len2, 2, 0, deadline);
	alen = (size_t)len2[0] << 8 | len2[1];
	if (r == 0)
		r = io_full(fd, ans, alen, 0, deadline);
	if (r < 0) {
		err_set(e, r, "UPDATE to %s:%d: %s", addr, port,
			r == -ETIMEDOUT ? "no answer in time" : strerror(-r));
		goto fail;
	}
	wire_rd_init(&rd, ans, alen);
	if (wire_rd_hdr(&rd, &h) < 0 || !(h.flags & WIRE_F_QR) ||
	    WIRE_OPCODE(h.flags) != WIRE_OP_UPDATE || h.id != (uint16_t)(msg[0] << 8 | msg[1])) {
		r = err_set(e, -EPROTO, "UPDATE to %s:%d: the answer does not match", addr, port);
		goto fail;
	}
	r = tsig_verify_response(&ctx, ans, alen, time(NULL), e);
	if (r < 0 && WIRE_RCODE(h.flags) == WIRE_RC_NOERROR) {
		err_prefix(e, "UPDATE to %s:%d: answer signature: ", addr, port);
		goto fail;
	}
	switch (WIRE_RCODE(h.flags)) {
	case WIRE_RC_NOERROR:
		r = 0;
		break;
	case WIRE_RC_REFUSED: case WIRE_RC_NOTAUTH:
		r = err_set(e, -EACCES, "UPDATE of %s refused by %s:%d: %s", zone, addr, port,
			    wire_rcode_name(WIRE_RCODE(h.flags)));
		break;
	default:
		r = err_set(e, -EIO, "UPDATE of %s at %s:%d failed: %s", zone, addr, port,
			    wire_rcode_name(WIRE_RCODE(h.flags)));
	}
fail:
	if (fd >= 0)
		close(fd);
	free(msg);
	free(ans);
	return r;
}
