/* notify: NOTIFY to secondaries (see notify.h). One state machine per (zone,
 * secondary): idle -> scheduled -> sent -> (answered | resent ... | given
 * up); a newer serial arriving meanwhile rides on the next send. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "notify.h"
#include "server.h"
#include "wire.h"

#define NOTIFY_SOA_MAX (2 * WIRE_NAME_MAX + 20)
#define NOTIFY_MSG_MAX 1232

struct notify_target {
	struct sockaddr_storage addr;
	socklen_t len;
	char text[INET6_ADDRSTRLEN + 8];        /* as configured, for logs */
};

/* One zone at one secondary. */
struct notify_peer {
	struct notify *n;
	const struct zone *z;           /* not owned */
	size_t target;                  /* index in n->targets */
	struct server_timer *timer;     /* next send (first, or resend) */
	int busy;                       /* a notification is scheduled or unanswered */
	int inflight;                   /* a message went out and awaits its answer */
	uint32_t want;                  /* newest durable serial */
	uint32_t sent_serial;           /* serial of the message in flight */
	uint16_t id;                    /* its id */
	unsigned tries;                 /* sends of this notification so far */
	int complained;                 /* an error rcode was logged for it */
	uint8_t soa[NOTIFY_SOA_MAX];    /* SOA rdata at want (answer hint) */
	uint16_t soa_len;               /* 0: none */
	uint32_t soa_ttl;
	int signed_;                    /* the message in flight carries a TSIG */
	struct tsig_key key;            /* copy of the key it was signed with */
	struct tsig_ctx tsig;           /* its MAC, to check the answer */
	struct notify_peer *next;       /* n->peers */
};

struct notify {
	struct notify_options o;        /* defaults filled in; strings not kept */
	struct wire_name key;           /* key to sign with; len 0: none */
	char keytext[WIRE_NAME_MAX * 4 + 2];
	struct notify_target *targets;
	size_t ntargets;
	struct server_udp *udp4;        /* opened for the families the targets use */
	struct server_udp *udp6;
	struct notify_peer *peers;
	struct notify_stats stats;
};

static time_t notify_now(const struct notify *n)
{
	return n->o.now != NULL ? n->o.now() : time(NULL);
}

static uint16_t notify_random_id(void)
{
	uint16_t id;

	if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id))
		id = (uint16_t)random();
	return id;
}

static int notify_same_addr(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;

	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* ======================================================================
 * sending
 * ====================================================================== */

/* Build the NOTIFY of p for serial p->want into buf; its length, or -errno. */
static int notify_build(struct notify_peer *p, uint8_t *buf, size_t cap)
{
	struct notify *n = p->n;
	struct wire_hdr h = { .id = p->id, .flags = WIRE_OP_NOTIFY << 11 | WIRE_F_AA,
			      .qdcount = 1, .ancount = p->soa_len > 0 };
	const struct tsig_key *key = NULL;
	struct wire_wr w;
	struct err e = {0};

	wire_wr_init(&w, buf, cap);
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &p->z->apex);
	wire_wr_u16(&w, WIRE_T_SOA);
	wire_wr_u16(&w, WIRE_C_IN);
	if (p->soa_len > 0 &&
	    wire_wr_rr(&w, &p->z->apex, WIRE_T_SOA, WIRE_C_IN, p->soa_ttl, p->soa,
		       p->soa_len) < 0)
		return -EINVAL;
	if (w.overflow)
		return -ENOSPC;
	p->signed_ = 0;
	if (n->key.len > 0 && (key = tsig_keyring_find(n->o.keys, &n->key)) == NULL)
		log_warn("notify: key %s is not in the key files any more; sending unsigned",
			 n->keytext);
	if (key != NULL) {
		p->key = *key;
		memset(&p->tsig, 0, sizeof(p->tsig));
		p->tsig.key = &p->key;
		if (tsig_sign(&p->tsig, &w, notify_now(n), &e) < 0) {
			log_err("notify: cannot sign: %s", e.msg);
			return e.code;
		}
		p->signed_ = 1;
	}
	return (int)w.pos;
}

static void notify_send(struct notify_peer *p)
{
	struct notify *n = p->n;
	const struct notify_target *tg = &n->targets[p->target];
	struct server_udp *u = tg->addr.ss_family == AF_INET6 ? n->udp6 : n->udp4;
	uint8_t buf[NOTIFY_MSG_MAX];
	int len, rc;

	/* Resends of one serial keep the id, so a late answer still counts. */
	if (p->tries == 0 || p->sent_serial != p->want)
		p->id = notify_random_id();
	p->sent_serial = p->want;
	if ((len = notify_build(p, buf, sizeof(buf))) < 0)
		return;                 /* logged; the resend timer tries again */
	rc = server_udp_sendto(u, buf, (size_t)len, (const struct sockaddr *)&tg->addr, tg->len);
	n->stats.sent++;
	if (p->tries > 0)
		n->stats.resent++;
	if (rc < 0)
		log_info("notify: %s serial %u to %s: send: %s", p->z->origin, p->want, tg->text,
			 strerror(-rc));
	else
		log_debug("notify: %s serial %u to %s (try %u, id %u)", p->z->origin, p->want,
			  tg->text, p->tries + 1, p->id);
	p->inflight = 1;
}

/* The timer: send (again), or give up after the last try's wait. */
static void notify_fire(void *arg)
{
	struct notify_peer *p = arg;
	struct notify *n = p->n;

	if (p->tries >= n->o.tries) {
		log_warn("notify: %s serial %u to %s: no answer after %u tries; giving up "
			 "(the secondary will find the change at its next SOA refresh)",
			 p->z->origin, p->sent_serial, n->targets[p->target].text, p->tries);
		n->stats.given_up++;
		p->busy = p->inflight = 0;
		return;
	}
	notify_send(p);
	/* 1 s, 2 s, 4 s, ... after each send; the last wait decides give-up. */
	server_timer_start(p->timer, n->o.retry_ms << (p->tries < 16 ? p->tries : 16));
	p->tries++;
}

/* Start a notification of p->want, from the loop. */
static void notify_schedule(struct notify_peer *p)
{
	p->busy = 1;
	p->inflight = 0;
	p->tries = 0;
	p->complained = 0;
	server_timer_start(p->timer, 0);
}

static struct notify_peer *notify_peer_new(struct notify *n, const struct zone *z, size_t i)
{
	struct notify_peer *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->n = n;
	p->z = z;
	p->target = i;
	if ((p->timer = server_timer_new(n->o.base, notify_fire, p)) == NULL) {
		free(p);
		return NULL;
	}
	p->next = n->peers;
	n->peers = p;
	return p;
}

void notify_zone(struct notify *n, const struct zone *z, uint32_t serial,
		 const struct zone_rrset *soa)
{
	uint32_t off = 0;
	const uint8_t *rd = NULL;
	uint16_t rdlen = 0;
	size_t found = 0;

	if (n == NULL || n->ntargets == 0)
		return;
	if (soa == NULL || !zone_rrset_next(soa, &off, &rd, &rdlen) || rdlen > NOTIFY_SOA_MAX)
		rdlen = 0;
	for (struct notify_peer *p = n->peers; p != NULL; p = p->next)
		found += p->z == z;
	for (size_t i = found; i < n->ntargets; i++)
		if (notify_peer_new(n, z, i) == NULL) {
			log_err("notify: out of memory; %s serial %u not notified", z->origin,
				serial);
			return;
		}
	for (struct notify_peer *p = n->peers; p != NULL; p = p->next) {
		if (p->z != z)
			continue;
		p->want = serial;
		p->soa_len = rdlen;
		if (rdlen > 0) {
			memcpy(p->soa, rd, rdlen);
			p->soa_ttl = soa->ttl;
		}
		if (!p->busy)
			notify_schedule(p);
		/* else: the answer to the one in flight, or its resend, sends this */
	}
}

/* ======================================================================
 * answers
 * ====================================================================== */

static void notify_answer(void *arg, const uint8_t *msg, size_t len,
			  const struct sockaddr *from, socklen_t fromlen)
{
	struct notify *n = arg;
	struct notify_peer *p;
	struct wire_rd r;
	struct wire_hdr h;
	struct err e = {0};
	int rcode;

	(void)fromlen;
	wire_rd_init(&r, msg, len);
	if (wire_rd_hdr(&r, &h) < 0 || !(h.flags & WIRE_F_QR) ||
	    WIRE_OPCODE(h.flags) != WIRE_OP_NOTIFY)
		goto ignore;
	for (p = n->peers; p != NULL; p = p->next)
		if (p->inflight && p->id == h.id &&
		    notify_same_addr(&n->targets[p->target].addr, from))
			break;
	if (p == NULL)
		goto ignore;
	if (p->signed_ && tsig_verify_response(&p->tsig, msg, len, notify_now(n), &e) < 0) {
		log_warn("notify: %s answer from %s: TSIG: %s", p->z->origin,
			 n->targets[p->target].text, e.msg);
		goto ignore;
	}
	rcode = WIRE_RCODE(h.flags);
	if (rcode != WIRE_RC_NOERROR) {
		if (!p->complained)
			log_warn("notify: %s serial %u: %s answered %s; trying again",
				 p->z->origin, p->sent_serial, n->targets[p->target].text,
				 wire_rcode_name(rcode));
		p->complained = 1;
		goto ignore;
	}
	n->stats.acked++;
	log_info("notify: %s serial %u acknowledged by %s", p->z->origin, p->sent_serial,
		 n->targets[p->target].text);
	server_timer_stop(p->timer);
	p->inflight = 0;
	if (p->want != p->sent_serial)
		notify_schedule(p);     /* batches committed meanwhile */
	else
		p->busy = 0;
	return;
ignore:
	n->stats.ignored++;
}

/* ======================================================================
 * life cycle
 * ====================================================================== */

struct notify *notify_new(const struct notify_options *o, struct err *e)
{
	struct notify *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		err_set(e, -ENOMEM, "notify: out of memory");
		return NULL;
	}
	n->o = *o;
	n->o.targets = NULL;
	n->o.key = NULL;
	if (n->o.retry_ms == 0)
		n->o.retry_ms = 1000;
	if (n->o.tries == 0)
		n->o.tries = 5;
	if (o->key != NULL && *o->key != '\0') {
		if (wire_name_from_text(&n->key, o->key, e) < 0)
			goto fail;
		wire_name_lower(&n->key);
		wire_name_to_text(&n->key, n->keytext, sizeof(n->keytext));
	}
	if (o->ntargets > 0 && (n->targets = calloc(o->ntargets, sizeof(*n->targets))) == NULL) {
		err_set(e, -ENOMEM, "notify: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < o->ntargets; i++, n->ntargets++) {
		struct notify_target *tg = &n->targets[i];
		struct server_udp **u;

		if (server_parse_addr(o->targets[i], &tg->addr, &tg->len, e) < 0)
			goto fail;
		snprintf(tg->text, sizeof(tg->text), "%s", o->targets[i]);
		u = tg->addr.ss_family == AF_INET6 ? &n->udp6 : &n->udp4;
		if (*u == NULL &&
		    (*u = server_udp_open(o->base, tg->addr.ss_family, notify_answer, n, e)) == NULL)
			goto fail;
	}
	return n;
fail:
	err_prefix(e, "notify: ");
	notify_free(n);
	return NULL;
}

void notify_free(struct notify *n)
{
	struct notify_peer *p, *next;

	if (n == NULL)
		return;
	for (p = n->peers; p != NULL; p = next) {
		next = p->next;
		if (p->busy)
			log_info("notify: %s serial %u to %s not acknowledged at exit",
				 p->z->origin, p->want, n->targets[p->target].text);
		server_timer_free(p->timer);
		free(p);
	}
	server_udp_close(n->udp4);
	server_udp_close(n->udp6);
	free(n->targets);
	free(n);
}

const struct notify_stats *notify_get_stats(const struct notify *n)
{
	return &n->stats;
}

size_t notify_pending(const struct notify *n)
{
	size_t k = 0;

	for (const struct notify_peer *p = n->peers; p != NULL; p = p->next)
		k += p->busy != 0;
	return k;
}

size_t notify_ntargets(const struct notify *n)
{
	return n->ntargets;
}
