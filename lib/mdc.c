/* mdc: direct queries and signed UPDATEs to the mds for the mount and the
 * tools (see mdc.h). Built on lib/wire and lib/tsig only, so no DNS
 * library leaks into the file system code. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mdc.h"
#include "record.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t new_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = (uint16_t)now_ms();
	return id;
}

int mdc_init(struct mdc *m, const char *zone, const char *addr, int port,
	     const char *keyfile, struct err *e)
{
	size_t zl = strlen(zone);
	int r;

	memset(m, 0, sizeof(*m));
	m->timeout_ms = MDC_TIMEOUT_MS;
	if (zl == 0 || zl > WIRE_NAME_MAX)
		return err_set(e, -EINVAL, "zone \"%s\": bad name", zone);
	memcpy(m->zone, zone, zl + 1);
	if (zone[zl - 1] != '.')
		memcpy(m->zone + zl, ".", 2);
	m->addr.sin_family = AF_INET;
	m->addr.sin_port = htons((uint16_t)port);
	if (port <= 0 || port > 65535 || inet_pton(AF_INET, addr, &m->addr.sin_addr) != 1)
		return err_set(e, -EINVAL, "mds %s:%d: not an IPv4 address and port", addr, port);
	if (keyfile != NULL) {
		r = tsig_keyring_load(&m->kr, keyfile, e);
		if (r < 0)
			return r;
		if (m->kr.n == 0)
			return err_set(e, -ENOKEY, "%s: no key", keyfile);
	}
	return 0;
}

void mdc_release(struct mdc *m)
{
	tsig_keyring_release(&m->kr);
}

void mdc_answer_release(struct mdc_answer *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].rdata);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* ------------------------------------------------------------ transport --- */

/* Write or read exactly n bytes before the deadline. */
static int io_full(int fd, const void *p, size_t n, int writing, int64_t deadline)
{
	uint8_t *b = (uint8_t *)p;

	while (n > 0) {
		struct pollfd pf = { .fd = fd, .events = writing ? POLLOUT : POLLIN };
		int64_t now = now_ms();
		ssize_t k;

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

/* One message over TCP; the answer (<= WIRE_TCP_MAX) into ans. */
static int tcp_exchange(struct mdc *m, const uint8_t *msg, size_t len, uint8_t *ans,
			size_t *alen, int64_t deadline, struct err *e)
{
	uint8_t l2[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	int fd, r;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_set(e, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&m->addr, sizeof(m->addr)) < 0 &&
	    errno != EINPROGRESS) {
		r = -errno;
		goto fail;
	}
	r = io_full(fd, l2, 2, 1, deadline);    /* waits for the connection */
	if (r == 0)
		r = io_full(fd, msg, len, 1, deadline);
	if (r == 0)
		r = io_full(fd, l2, 2, 0, deadline);
	*alen = (size_t)l2[0] << 8 | l2[1];
	if (r == 0)
		r = io_full(fd, ans, *alen, 0, deadline);
fail:
	close(fd);
	if (r < 0)
		err_set(e, r, "mds %s:%d (tcp): %s", inet_ntoa(m->addr.sin_addr),
			ntohs(m->addr.sin_port), r == -ETIMEDOUT ? "no answer in time" : strerror(-r));
	return r;
}

/* One query over UDP, resent up to 3 times within the deadline. */
static int udp_exchange(struct mdc *m, const uint8_t *msg, size_t len, uint8_t *ans,
			size_t *alen, int64_t deadline, struct err *e)
{
	int fd, r = -ETIMEDOUT;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&m->addr, sizeof(m->addr)) < 0) {
		r = -errno;
		goto fail;
	}
	for (int attempt = 0; attempt < 3 && now_ms() < deadline; attempt++) {
		int64_t until = now_ms() + (deadline - now_ms()) / (3 - attempt);

		if (send(fd, msg, len, 0) < 0) {
			r = -errno;
			continue;
		}
		for (;;) {
			struct pollfd pf = { .fd = fd, .events = POLLIN };
			int64_t now = now_ms();
			ssize_t k;

			if (now >= until || poll(&pf, 1, (int)(until - now)) <= 0) {
				r = -ETIMEDOUT;
				break;
			}
			k = recv(fd, ans, WIRE_TCP_MAX, 0);
			if (k < 0) {
				r = -errno;
				if (r == -EINTR)
					continue;
				break;
			}
			if (k < WIRE_HDR_LEN || ans[0] != msg[0] || ans[1] != msg[1])
				continue;       /* not ours: keep waiting */
			*alen = (size_t)k;
			r = 0;
			goto fail;
		}
		if (r == -ECONNREFUSED)
			break;
	}
fail:
	close(fd);
	if (r < 0)
		err_set(e, r, "mds %s:%d: %s", inet_ntoa(m->addr.sin_addr),
			ntohs(m->addr.sin_port), r == -ETIMEDOUT ? "no answer in time" : strerror(-r));
	return r;
}

/* ---------------------------------------------------------------- query --- */

int mdc_query(struct mdc *m, const char *name, uint16_t type, struct mdc_answer *a,
	      struct err *e)
{
	struct wire_hdr h = { .id = new_id(), .qdcount = 1, .arcount = 1 };
	struct wire_name qn;
	struct wire_wr w;
	struct wire_rd rd;
	struct wire_rr *rr = NULL;
	uint8_t msg[WIRE_NAME_MAX + 64], *ans = NULL;
	size_t alen = 0;
	int64_t deadline = now_ms() + m->timeout_ms;
	int r;

	memset(a, 0, sizeof(*a));
	r = wire_name_from_text(&qn, name, e);
	if (r < 0)
		return r;
	wire_wr_init(&w, msg, sizeof(msg));
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &qn);
	wire_wr_u16(&w, type);
	wire_wr_u16(&w, WIRE_C_IN);
	/* OPT: root, type 41, payload 1232, no flags, no options */
	wire_wr_u8(&w, 0);
	wire_wr_u16(&w, WIRE_T_OPT);
	wire_wr_u16(&w, WIRE_UDP_MAX);
	wire_wr_u32(&w, 0);
	wire_wr_u16(&w, 0);
	ans = malloc(WIRE_TCP_MAX);
	rr = malloc(sizeof(*rr));
	if (ans == NULL || rr == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	r = udp_exchange(m, msg, w.pos, ans, &alen, deadline, e);
	if (r == 0 && (ans[2] << 8 & WIRE_F_TC))
		r = tcp_exchange(m, msg, w.pos, ans, &alen, deadline + m->timeout_ms, e);
	if (r < 0)
		goto fail;
	wire_rd_init(&rd, ans, alen);
	r = -EBADMSG;
	if (wire_rd_hdr(&rd, &h) < 0 || !(h.flags & WIRE_F_QR) || h.qdcount != 1 ||
	    wire_rd_question(&rd, &qn, &type, &type) < 0)
		goto bad;
	a->rcode = WIRE_RCODE(h.flags);
	if (h.ancount > 0 && (a->v = calloc(h.ancount, sizeof(*a->v))) == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < h.ancount; i++) {
		struct mdc_rr *o = &a->v[a->n];

		if (wire_rd_rr(&rd, rr) < 0)
			goto bad;
		if (wire_name_to_text(&rr->owner, o->owner, sizeof(o->owner)) < 0)
			goto bad;
		o->type = rr->type;
		o->rdlen = rr->rdlen;
		if ((o->rdata = malloc(rr->rdlen + 1u)) == NULL) {
			r = err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		memcpy(o->rdata, rr->rdata, rr->rdlen);
		a->n++;
	}
	r = 0;
	goto fail;
bad:
	r = err_set(e, -EBADMSG, "answer for %s from the mds is malformed", name);
fail:
	if (r < 0)
		mdc_answer_release(a);
	free(ans);
	free(rr);
	return r;
}

/* ------------------------------------------------------------- TXT data --- */

int mdc_txt_rdata(const char *text, size_t len, uint8_t *out, size_t cap, struct err *e)
{
	struct record_str strs[RECORD_STRS_FOR(RECORD_PAGE_TEXT_MAX)];
	size_t o = 0;
	int n;

	n = record_text_to_strings(text, len, strs, sizeof(strs) / sizeof(strs[0]), e);
	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		if (o + 1 + strs[i].len > cap || o + 1 + strs[i].len > 65535)
			return err_set(e, -E2BIG, "TXT rdata over %zu bytes", cap);
		out[o++] = (uint8_t)strs[i].len;
		memcpy(out + o, strs[i].p, strs[i].len);
		o += strs[i].len;
	}
	return (int)o;
}

int mdc_txt_text(const uint8_t *rdata, size_t rdlen, char *buf, size_t cap, struct err *e)
{
	size_t o = 0;

	for (size_t i = 0; i < rdlen;) {
		size_t l = rdata[i++];

		if (i + l > rdlen)
			return err_set(e, -EBADMSG, "TXT rdata: string past the end");
		if (o + l + 1 > cap)
			return err_set(e, -E2BIG, "TXT text over %zu bytes", cap - 1);
		memcpy(buf + o, rdata + i, l);
		o += l;
		i += l;
	}
	buf[o] = '\0';
	return (int)o;
}

/* --------------------------------------------------------------- update --- */

int mdc_update_begin(struct mdc *m, struct mdc_update *u)
{
	struct wire_hdr h = { .id = new_id(), .flags = WIRE_OP_UPDATE << 11, .qdcount = 1 };
	struct wire_name zn;

	memset(u, 0, sizeof(*u));
	if ((u->buf = malloc(WIRE_TCP_MAX)) == NULL)
		return u->error = -ENOMEM;
	if (wire_name_from_text(&zn, m->zone, NULL) < 0)
		return u->error = -EINVAL;
	wire_wr_init(&u->w, u->buf, WIRE_TCP_MAX - TSIG_RR_MAX);
	wire_wr_hdr(&u->w, &h);
	wire_wr_name(&u->w, &zn);
	wire_wr_u16(&u->w, WIRE_T_SOA);
	wire_wr_u16(&u->w, WIRE_C_IN);
	return 0;
}

void mdc_update_release(struct mdc_update *u)
{
	free(u->buf);
	memset(u, 0, sizeof(*u));
}

/* Append one RR; counts it as a prerequisite or an update. */
static void put_rr(struct mdc_update *u, int pre, const char *name, uint16_t type,
		   uint16_t class, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	struct wire_name n;

	if (u->error)
		return;
	if (pre && u->nupd > 0) {
		u->error = -EINVAL;     /* prerequisites come first */
		return;
	}
	if (wire_name_from_text(&n, name, NULL) < 0) {
		u->error = -EINVAL;
		return;
	}
	if (wire_wr_name(&u->w, &n) < 0 || wire_wr_u16(&u->w, type) < 0 ||
	    wire_wr_u16(&u->w, class) < 0 || wire_wr_u32(&u->w, ttl) < 0 ||
	    wire_wr_u16(&u->w, rdlen) < 0 || (rdlen > 0 && wire_wr_bytes(&u->w, rdata, rdlen) < 0)) {
		u->error = -E2BIG;
		return;
	}
	if (pre)
		u->npre++;
	else
		u->nupd++;
}

void mdc_pre_nxdomain(struct mdc_update *u, const char *name)
{
	put_rr(u, 1, name, WIRE_T_ANY, WIRE_C_NONE, 0, NULL, 0);
}

void mdc_pre_nxrrset(struct mdc_update *u, const char *name, uint16_t type)
{
	put_rr(u, 1, name, type, WIRE_C_NONE, 0, NULL, 0);
}

void mdc_pre_value(struct mdc_update *u, const char *name, uint16_t type,
		   const uint8_t *rdata, uint16_t rdlen)
{
	put_rr(u, 1, name, type, WIRE_C_IN, 0, rdata, rdlen);
}

void mdc_upd_add(struct mdc_update *u, const char *name, uint16_t type, uint32_t ttl,
		 const uint8_t *rdata, uint16_t rdlen)
{
	put_rr(u, 0, name, type, WIRE_C_IN, ttl, rdata, rdlen);
}

void mdc_upd_del_rrset(struct mdc_update *u, const char *name, uint16_t type)
{
	put_rr(u, 0, name, type, WIRE_C_ANY, 0, NULL, 0);
}

void mdc_upd_del_rr(struct mdc_update *u, const char *name, uint16_t type,
		    const uint8_t *rdata, uint16_t rdlen)
{
	put_rr(u, 0, name, type, WIRE_C_NONE, 0, rdata, rdlen);
}

int mdc_update_send(struct mdc *m, struct mdc_update *u, struct err *e)
{
	struct tsig_ctx ctx = { .key = m->kr.n > 0 ? &m->kr.keys[0] : NULL };
	struct wire_hdr h;
	struct wire_rd rd;
	uint8_t *ans = NULL;
	size_t alen = 0;
	int r;

	if (u->error)
		return err_set(e, u->error, "UPDATE: %s",
			       u->error == -E2BIG ? "does not fit 64 KiB" : "bad record");
	if (ctx.key == NULL)
		return err_set(e, -EACCES, "UPDATE: no TSIG key (keyfile=)");
	wire_wr_patch_u16(&u->w, 6, u->npre);   /* ANCOUNT: prerequisites */
	wire_wr_patch_u16(&u->w, 8, u->nupd);   /* NSCOUNT: updates */
	u->w.cap = WIRE_TCP_MAX;
	r = tsig_sign(&ctx, &u->w, time(NULL), e);
	if (r < 0)
		return r;
	if ((ans = malloc(WIRE_TCP_MAX)) == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	r = tcp_exchange(m, u->buf, u->w.pos, ans, &alen, now_ms() + m->timeout_ms, e);
	if (r < 0)
		goto fail;
	wire_rd_init(&rd, ans, alen);
	if (wire_rd_hdr(&rd, &h) < 0 || !(h.flags & WIRE_F_QR) ||
	    WIRE_OPCODE(h.flags) != WIRE_OP_UPDATE || h.id != (uint16_t)(u->buf[0] << 8 | u->buf[1])) {
		r = err_set(e, -EPROTO, "UPDATE: the answer does not match");
		goto fail;
	}
	u->rcode = WIRE_RCODE(h.flags);
	r = tsig_verify_response(&ctx, ans, alen, time(NULL), e);
	if (r < 0 && u->rcode == WIRE_RC_NOERROR)
		goto fail;
	switch (u->rcode) {
	case WIRE_RC_NOERROR:
		r = 0;
		break;
	case WIRE_RC_YXDOMAIN: case WIRE_RC_NXRRSET: case WIRE_RC_YXRRSET: case WIRE_RC_NXDOMAIN:
		r = err_set(e, -ECANCELED, "UPDATE: prerequisite failed (%s)",
			    wire_rcode_name(u->rcode));
		break;
	case WIRE_RC_REFUSED: case WIRE_RC_NOTAUTH:
		r = err_set(e, -EACCES, "UPDATE refused: %s", wire_rcode_name(u->rcode));
		break;
	default:
		r = err_set(e, -EIO, "UPDATE failed: %s", wire_rcode_name(u->rcode));
	}
fail:
	free(ans);
	return r;
}
