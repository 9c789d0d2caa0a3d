/* axfr: one signed zone transfer read message by message (see axfr.h).
 * Only the reading side of AXFR; the mds's mds/xfr.c is the writing side. */
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

#include "axfr.h"

/* Read or write exactly n bytes, each step within timeout_ms. */
static int io_full(int fd, void *p, size_t n, int writing, int timeout_ms)
{
	uint8_t *b = p;

	while (n > 0) {
		struct pollfd pf = { .fd = fd, .events = writing ? POLLOUT : POLLIN };
		ssize_t k;
		int r = poll(&pf, 1, timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
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

/* The signed AXFR question into buf; its length or a negative errno. */
static int build(uint8_t *buf, size_t cap, const char *zone, struct tsig_ctx *ctx,
		 struct err *e)
{
	struct wire_hdr h = { .qdcount = 1 };
	struct wire_name zn;
	struct wire_wr w;
	uint16_t id;
	int r;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)time(NULL);
	h.id = id;
	r = wire_name_from_text(&zn, zone, e);
	if (r < 0)
		return r;
	wire_wr_init(&w, buf, cap);
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &zn);
	wire_wr_u16(&w, WIRE_T_AXFR);
	wire_wr_u16(&w, WIRE_C_IN);
	r = tsig_sign(ctx, &w, time(NULL), e);
	if (r < 0)
		return r;
	return (int)w.pos;
}

int axfr_walk(const char *addr, int port, const char *zone, const struct tsig_key *key,
	      int timeout_ms, axfr_rr_fn fn, void *arg, struct err *e)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct tsig_ctx ctx = { .key = key };
	uint8_t *msg = malloc(WIRE_TCP_MAX), len2[2];
	struct wire_rr *rr = malloc(sizeof(*rr));
	unsigned soas = 0;
	int fd = -1, r, mlen;
	uint16_t id;

	if (msg == NULL || rr == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		r = err_set(e, -EINVAL, "%s: not an IPv4 address", addr);
		goto fail;
	}
	mlen = build(msg, WIRE_TCP_MAX, zone, &ctx, e);
	if (mlen < 0) {
		r = mlen;
		goto fail;
	}
	id = (uint16_t)(msg[0] << 8 | msg[1]);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = err_set(e, -errno, "AXFR from %s:%d: %s", addr, port, strerror(errno));
		goto fail;
	}
	len2[0] = (uint8_t)(mlen >> 8);
	len2[1] = (uint8_t)mlen;
	r = io_full(fd, len2, 2, 1, timeout_ms);
	if (r == 0)
		r = io_full(fd, msg, (size_t)mlen, 1, timeout_ms);
	/* Messages until the second SOA closes the zone. */
	while (r == 0 && soas < 2) {
		struct wire_rd rd;
		struct wire_hdr h;
		size_t alen;

		r = io_full(fd, len2, 2, 0, timeout_ms);
		alen = (size_t)len2[0] << 8 | len2[1];
		if (r == 0)
			r = io_full(fd, msg, alen, 0, timeout_ms);
		if (r < 0)
			break;
		wire_rd_init(&rd, msg, alen);
		if (wire_rd_hdr(&rd, &h) < 0 || !(h.flags & WIRE_F_QR) || h.id != id) {
			r = err_set(e, -EPROTO, "AXFR from %s:%d: an answer that does not match",
				    addr, port);
			goto fail;
		}
		if (WIRE_RCODE(h.flags) != WIRE_RC_NOERROR) {
			int rc = WIRE_RCODE(h.flags);

			r = err_set(e, rc == WIRE_RC_REFUSED || rc == WIRE_RC_NOTAUTH ? -EACCES : -EIO,
				    "AXFR of %s from %s:%d: %s", zone, addr, port,
				    wire_rcode_name(rc));
			goto fail;
		}
		r = tsig_verify_response(&ctx, msg, alen, time(NULL), e);
		if (r < 0) {
			err_prefix(e, "AXFR from %s:%d: answer signature: ", addr, port);
			goto fail;
		}
		for (unsigned i = 0; i < h.qdcount; i++) {
			struct wire_name qn;
			uint16_t qt, qc;

			if (wire_rd_question(&rd, &qn, &qt, &qc) < 0) {
				r = err_set(e, -EBADMSG, "AXFR from %s:%d: bad question", addr, port);
				goto fail;
			}
		}
		for (unsigned i = 0; i < h.ancount && soas < 2; i++) {
			if (wire_rd_rr(&rd, rr) < 0) {
				r = err_set(e, -EBADMSG, "AXFR from %s:%d: bad record", addr, port);
				goto fail;
			}
			if (rr->type == WIRE_T_SOA && ++soas == 2)
				break;
			r = fn(rr, arg);
			if (r != 0)
				goto fail;
		}
		if (soas == 0) {
			r = err_set(e, -EPROTO, "AXFR from %s:%d: no SOA first", addr, port);
			goto fail;
		}
	}
	if (r < 0)
		err_set(e, r, "AXFR from %s:%d: %s", addr, port,
			r == -ETIMEDOUT ? "no answer in time" : strerror(-r));
fail:
	if (fd >= 0)
		close(fd);
	free(msg);
	free(rr);
	return r;
}
