/* tsig_echo: a one-purpose DNS server for the TSIG interop test. It verifies
 * each request (UDP or TCP) with lib/tsig against a BIND key file, answers with
 * a TSIG-signed response (AXFR: a signed multi-message stream) or the TSIG
 * error, logs one line per request, and exits after -n requests. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tsig.h"
#include "wire.h"

struct opts {
	const char *keyfile;
	int port;
	int count;              /* requests to answer before exiting */
	long skew;              /* seconds added to the server's clock */
	int axfr_msgs;          /* messages in an AXFR answer */
	int corrupt;            /* flip a MAC bit: the negative control */
};

static struct tsig_keyring kr;

/* Question of the request (the zone section for an UPDATE). */
struct question {
	struct wire_name name;
	uint16_t type, class;
};

static void add_soa(struct wire_wr *w, const struct wire_name *apex)
{
	uint8_t rd[WIRE_NAME_MAX * 2 + 20];
	struct wire_name mname = *apex, rname = *apex;
	size_t o = 0;

	wire_name_prepend(&mname, "ns", 2);
	wire_name_prepend(&rname, "hostmaster", 10);
	memcpy(rd, mname.b, mname.len);
	o += mname.len;
	memcpy(rd + o, rname.b, rname.len);
	o += rname.len;
	memcpy(rd + o, "\x00\x00\x00\x01\x00\x00\x0e\x10\x00\x00\x03\x84\x00\x09\x3a\x80\x00\x00\x00\x3c", 20);
	o += 20;
	wire_wr_rr(w, apex, WIRE_T_SOA, WIRE_C_IN, 60, rd, (uint16_t)o);
}

/* Start a response to h/q: header (counts patched later) and the question. */
static void begin(struct wire_wr *w, uint8_t *buf, size_t cap, const struct wire_hdr *h,
		  const struct question *q, int rcode)
{
	struct wire_hdr r = {
		.id = h->id,
		.flags = (uint16_t)(WIRE_F_QR | WIRE_F_AA | (h->flags & (0x7800 | WIRE_F_RD)) | rcode),
		.qdcount = q != NULL,
	};

	wire_wr_init(w, buf, cap);
	wire_wr_hdr(w, &r);
	if (q != NULL) {
		wire_wr_name(w, &q->name);
		wire_wr_u16(w, q->type);
		wire_wr_u16(w, q->class);
	}
}

typedef void (*send_fn)(void *conn, const uint8_t *msg, size_t len);

/* Sign w's message for ctx; with -c, spoil the MAC (it ends before orig id,
 * error, other len and other data). */
static void sign(const struct opts *o, struct tsig_ctx *ctx, struct wire_wr *w, time_t now)
{
	struct err e = {0};

	if (tsig_sign(ctx, w, now, &e) < 0) {
		printf("sign: %s\n", e.msg);
		return;
	}
	if (o->corrupt && ctx->mac_len > 0)
		w->buf[w->pos - 6 - (ctx->error == WIRE_RC_BADTIME ? 6 : 0) - 1] ^= 1;
}

/* Answer one request; every message goes out through send. */
static void handle(const struct opts *o, const uint8_t *msg, size_t len, send_fn send, void *conn)
{
	static uint8_t buf[WIRE_TCP_MAX];
	struct wire_rd r;
	struct wire_hdr h;
	struct question q;
	struct wire_wr w;
	struct tsig_ctx ctx;
	struct err e = {0};
	time_t now = time(NULL) + o->skew;
	size_t off;
	char qn[4 * WIRE_NAME_MAX + 1];
	int rc, has_q;

	wire_rd_init(&r, msg, len);
	if (wire_rd_hdr(&r, &h) < 0) {
		printf("request: short\n");
		return;
	}
	has_q = h.qdcount > 0 && wire_rd_question(&r, &q.name, &q.type, &q.class) == 0;
	if (has_q)
		wire_name_to_text(&q.name, qn, sizeof(qn));
	else
		strcpy(qn, "-");
	rc = tsig_find(msg, len, &off);
	if (rc <= 0) {
		printf("request %s %s: %s\n", qn, has_q ? wire_type_name(q.type) : "-",
		       rc == 0 ? "unsigned" : "malformed");
		begin(&w, buf, sizeof(buf), &h, has_q ? &q : NULL,
		      rc == 0 ? WIRE_RC_REFUSED : WIRE_RC_FORMERR);
		send(conn, buf, w.pos);
		return;
	}
	rc = tsig_verify_request(&ctx, &kr, msg, len, now, &e);
	if (rc < 0 && ctx.error == 0) {         /* malformed TSIG: FORMERR, unsigned */
		printf("request %s: %s\n", qn, e.msg);
		begin(&w, buf, sizeof(buf), &h, has_q ? &q : NULL, WIRE_RC_FORMERR);
		send(conn, buf, w.pos);
		return;
	}
	printf("request %s %s opcode %d: %s\n", qn, has_q ? wire_type_name(q.type) : "-",
	       WIRE_OPCODE(h.flags), rc == 0 ? "verified" : e.msg);
	if (rc < 0) {
		/* RFC 8945 5.2: NOTAUTH with the TSIG error */
		begin(&w, buf, sizeof(buf), &h, has_q ? &q : NULL, WIRE_RC_NOTAUTH);
		sign(o, &ctx, &w, now);
		send(conn, buf, w.pos);
		return;
	}
	if (has_q && q.type == WIRE_T_AXFR) {
		/* SOA, one TXT per middle message, SOA: each message signed,
		 * the later ones chained to the previous MAC (RFC 8945 5.3.1). */
		for (int i = 0; i < o->axfr_msgs; i++) {
			begin(&w, buf, sizeof(buf), &h, i == 0 ? &q : NULL, WIRE_RC_NOERROR);
			if (i == 0 || i == o->axfr_msgs - 1) {
				add_soa(&w, &q.name);
			} else {
				struct wire_name n = q.name;
				char lab[16], txt[32];
				int l = snprintf(lab, sizeof(lab), "r%d", i);
				wire_name_prepend(&n, lab, (size_t)l);
				txt[0] = (char)snprintf(txt + 1, sizeof(txt) - 1, "message %d", i);
				wire_wr_rr(&w, &n, WIRE_T_TXT, WIRE_C_IN, 60, (uint8_t *)txt,
					   (uint16_t)(txt[0] + 1));
			}
			wire_wr_patch_u16(&w, 6, 1);
			sign(o, &ctx, &w, now);
			send(conn, buf, w.pos);
		}
		return;
	}
	begin(&w, buf, sizeof(buf), &h, has_q ? &q : NULL, WIRE_RC_NOERROR);
	if (has_q && q.type == WIRE_T_SOA && WIRE_OPCODE(h.flags) == WIRE_OP_QUERY) {
		add_soa(&w, &q.name);
		wire_wr_patch_u16(&w, 6, 1);
	}
	sign(o, &ctx, &w, now);
	send(conn, buf, w.pos);
}

struct udp_peer {
	int fd;
	struct sockaddr_in sa;
	socklen_t salen;
};

static void udp_send(void *conn, const uint8_t *msg, size_t len)
{
	struct udp_peer *p = conn;

	if (sendto(p->fd, msg, len, 0, (struct sockaddr *)&p->sa, p->salen) < 0)
		perror("sendto");
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void tcp_send(void *conn, const uint8_t *msg, size_t len)
{
	int fd = *(int *)conn;
	uint8_t l[2] = { (uint8_t)(len >> 8), (uint8_t)len };

	if (write_all(fd, l, 2) < 0 || write_all(fd, msg, len) < 0)
		perror("write");
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = read(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int listen_on(int type, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, type, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 4) < 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct opts o = { .count = 1, .axfr_msgs = 4 };
	static uint8_t msg[WIRE_TCP_MAX];
	struct err e = {0};
	struct pollfd pf[2];
	int c, handled = 0;

	while ((c = getopt(argc, argv, "k:p:n:s:m:c")) != -1) {
		switch (c) {
		case 'k': o.keyfile = optarg; break;
		case 'p': o.port = atoi(optarg); break;
		case 'n': o.count = atoi(optarg); break;
		case 's': o.skew = atol(optarg); break;
		case 'm': o.axfr_msgs = atoi(optarg); break;
		case 'c': o.corrupt = 1; break;
		default: goto usage;
		}
	}
	if (o.keyfile == NULL || o.port <= 0 || o.axfr_msgs < 2)
		goto usage;
	if (tsig_keyring_load(&kr, o.keyfile, &e) < 0) {
		fprintf(stderr, "tsig_echo: %s\n", e.msg);
		return 1;
	}
	pf[0].fd = listen_on(SOCK_DGRAM, o.port);
	pf[1].fd = listen_on(SOCK_STREAM, o.port);
	if (pf[0].fd < 0 || pf[1].fd < 0) {
		perror("tsig_echo: bind");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("listening on 127.0.0.1:%d\n", o.port);
	pf[0].events = pf[1].events = POLLIN;
	while (handled < o.count) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		if (pf[0].revents & POLLIN) {
			struct udp_peer p = { .fd = pf[0].fd, .salen = sizeof(p.sa) };
			ssize_t n = recvfrom(p.fd, msg, sizeof(msg), 0, (struct sockaddr *)&p.sa, &p.salen);
			if (n >= 0) {
				handle(&o, msg, (size_t)n, udp_send, &p);
				handled++;
			}
		}
		if (pf[1].revents & POLLIN) {
			int fd = accept(pf[1].fd, NULL, NULL);
			uint8_t l[2];
			/* every message on the connection until the peer closes */
			while (fd >= 0 && handled < o.count && read_all(fd, l, 2) == 0) {
				size_t n = (size_t)l[0] << 8 | l[1];
				if (read_all(fd, msg, n) < 0)
					break;
				handle(&o, msg, n, tcp_send, &fd);
				handled++;
			}
			if (fd >= 0)
				close(fd);
		}
	}
	tsig_keyring_release(&kr);
	return 0;
usage:
	fprintf(stderr, "usage: tsig_echo -k KEYFILE -p PORT [-n REQUESTS] [-s SKEW] [-m AXFR_MESSAGES] [-c]\n");
	return 2;
}
