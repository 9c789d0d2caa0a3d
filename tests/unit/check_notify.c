/* Unit tests for mds/notify: a fake secondary on a loopback UDP socket
 * receives the NOTIFYs; checked are the message (opcode, AA, question,
 * SOA hint, TSIG), resends with the same id until an answer, giving up,
 * coalescing of serials, and answers that must not count. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_main.h"
#include "notify.h"
#include "tsig.h"
#include "wire.h"
#include "zone.h"

#define APEX "dnsfs.test."
#define KEYS "key \"k1\" { algorithm hmac-sha256; secret \"c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNDU2Nzg=\"; };\n"

static struct event_base *base;
static struct zone *tz;
static struct tsig_keyring keys;
static struct notify *nt;

/* ---- the fake secondary --------------------------------------------------- */

struct got {
	uint16_t id, flags, qd, an;
	uint32_t serial;                /* of the answer's SOA, 0 if none */
	int tsig_ok;                    /* -1 unsigned, 0 bad, 1 good */
	struct tsig_ctx ctx;            /* to sign our answer */
	struct sockaddr_storage from;
	socklen_t fromlen;
};

static int sfd = -1;
static struct event *sev;
static char target[64];
static struct got got[32];
static int ngot;
static int answer_rcode = -1;           /* answer each NOTIFY with this; -1: stay quiet */
static int answer_wrong_id;

static void secondary_answer(const struct got *g, int rcode, uint16_t id)
{
	uint8_t buf[600];
	struct wire_wr w;
	struct wire_hdr h = { .id = id, .flags = (uint16_t)(WIRE_F_QR | WIRE_F_AA |
			      WIRE_OP_NOTIFY << 11 | rcode), .qdcount = 1 };
	struct wire_name apex;
	struct tsig_ctx ctx = g->ctx;

	wire_name_from_text(&apex, APEX, NULL);
	wire_wr_init(&w, buf, sizeof(buf));
	wire_wr_hdr(&w, &h);
	wire_wr_name(&w, &apex);
	wire_wr_u16(&w, WIRE_T_SOA);
	wire_wr_u16(&w, WIRE_C_IN);
	if (g->tsig_ok == 1)
		ck_assert_int_eq(tsig_sign(&ctx, &w, time(NULL), NULL), 0);
	sendto(sfd, buf, w.pos, 0, (const struct sockaddr *)&g->from, g->fromlen);
}

static void secondary_read(evutil_socket_t fd, short what, void *arg)
{
	static struct wire_rr rr;
	uint8_t buf[1500];
	struct got *g = &got[ngot];
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_name qn;
	uint16_t qt, qc;
	size_t off;
	ssize_t n;

	(void)what;
	(void)arg;
	memset(g, 0, sizeof(*g));
	g->fromlen = sizeof(g->from);
	n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&g->from, &g->fromlen);
	if (n < 0 || ngot >= 31)
		return;
	wire_rd_init(&r, buf, (size_t)n);
	ck_assert_int_eq(wire_rd_hdr(&r, &h), 0);
	g->id = h.id;
	g->flags = h.flags;
	g->qd = h.qdcount;
	g->an = h.ancount;
	ck_assert_uint_eq(h.qdcount, 1);
	ck_assert_int_eq(wire_rd_question(&r, &qn, &qt, &qc), 0);
	ck_assert_uint_eq(qt, WIRE_T_SOA);
	ck_assert_uint_eq(qc, WIRE_C_IN);
	ck_assert(wire_name_equal(&qn, &tz->apex));
	if (h.ancount == 1) {
		ck_assert_int_eq(wire_rd_rr(&r, &rr), 0);
		ck_assert_uint_eq(rr.type, WIRE_T_SOA);
		ck_assert_int_eq(wire_soa_serial(rr.rdata, rr.rdlen, &g->serial), 0);
	}
	if (tsig_find(buf, (size_t)n, &off) != 1)
		g->tsig_ok = -1;
	else
		g->tsig_ok = tsig_verify_request(&g->ctx, &keys, buf, (size_t)n, time(NULL),
						 NULL) == 0;
	ngot++;
	if (answer_rcode >= 0)
		secondary_answer(g, answer_rcode, answer_wrong_id ? (uint16_t)(g->id + 1) : g->id);
}

/* ---- fixtures --------------------------------------------------------------- */

static struct zone_rrset *soa_at(uint32_t serial)
{
	struct wire_name ns, hm;
	uint8_t rd[600], tail[20] = {0};
	uint16_t n;
	struct zone_rrset *s;

	wire_name_from_text(&ns, "ns1." APEX, NULL);
	wire_name_from_text(&hm, "hostmaster." APEX, NULL);
	memcpy(rd, ns.b, ns.len);
	n = ns.len;
	memcpy(rd + n, hm.b, hm.len);
	n += hm.len;
	tail[0] = (uint8_t)(serial >> 24);
	tail[1] = (uint8_t)(serial >> 16);
	tail[2] = (uint8_t)(serial >> 8);
	tail[3] = (uint8_t)serial;
	tail[19] = 30;
	memcpy(rd + n, tail, 20);
	n += 20;
	s = zone_rrset_new(WIRE_T_SOA, 3600, n + 2u);
	ck_assert_int_eq(zone_rrset_append(s, n + 2u, rd, n), 0);
	return s;
}

static void make_notify(const char *key, unsigned retry_ms, unsigned tries)
{
	const char *targets[1] = { target };
	struct notify_options o = { .base = base, .targets = targets, .ntargets = 1,
				    .keys = &keys, .key = key, .retry_ms = retry_ms,
				    .tries = tries };
	struct err e = {0};

	nt = notify_new(&o, &e);
	ck_assert_msg(nt != NULL, "%s", e.msg);
}

static void setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t alen = sizeof(a);
	struct wire_name apex;
	struct zone_rrset *soa;
	struct err e = {0};

	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	wire_name_from_text(&apex, APEX, NULL);
	tz = zone_new(&apex);
	soa = soa_at(10);
	ck_assert_int_eq(zone_load(tz, &tz->apex, soa), 0);
	zone_rrset_unref(soa);
	memset(&keys, 0, sizeof(keys));
	ck_assert_int_eq(tsig_keyring_parse(&keys, KEYS, "test.key", &e), 0);
	sfd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(sfd, 0);
	ck_assert_int_eq(bind(sfd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(sfd, (struct sockaddr *)&a, &alen);
	snprintf(target, sizeof(target), "127.0.0.1:%d", ntohs(a.sin_port));
	sev = event_new(base, sfd, EV_READ | EV_PERSIST, secondary_read, NULL);
	event_add(sev, NULL);
	ngot = 0;
	answer_rcode = -1;
	answer_wrong_id = 0;
	nt = NULL;
}

static void teardown(void)
{
	notify_free(nt);
	event_free(sev);
	close(sfd);
	zone_free(tz);
	tsig_keyring_release(&keys);
	event_base_free(base);
}

/* Run the loop for ms milliseconds, or until ngot reaches want (0: no stop). */
static void run(unsigned ms, int want)
{
	struct timespec ts = { 0, 1000000 };

	for (unsigned i = 0; i < ms; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (want > 0 && ngot >= want)
			return;
		nanosleep(&ts, NULL);
	}
}

static void notify_serial(uint32_t serial)
{
	struct zone_rrset *soa = soa_at(serial);

	notify_zone(nt, tz, serial, soa);
	zone_rrset_unref(soa);
}

/* ---- tests ----------------------------------------------------------------- */

START_TEST(test_message_and_ack)
{
	make_notify("k1", 50, 5);
	answer_rcode = WIRE_RC_NOERROR;
	notify_serial(11);
	ck_assert_int_eq(ngot, 0);              /* sent from the loop, not inline */
	ck_assert_uint_eq(notify_pending(nt), 1);
	run(2000, 1);
	ck_assert_int_eq(ngot, 1);
	ck_assert_uint_eq(WIRE_OPCODE(got[0].flags), WIRE_OP_NOTIFY);
	ck_assert(got[0].flags & WIRE_F_AA);
	ck_assert(!(got[0].flags & WIRE_F_QR));
	ck_assert_uint_eq(got[0].an, 1);
	ck_assert_uint_eq(got[0].serial, 11);
	ck_assert_int_eq(got[0].tsig_ok, 1);
	run(200, 0);                            /* answered: no resend */
	ck_assert_int_eq(ngot, 1);
	ck_assert_uint_eq(notify_pending(nt), 0);
	ck_assert_uint_eq(notify_get_stats(nt)->acked, 1);
	ck_assert_uint_eq(notify_get_stats(nt)->sent, 1);
}
END_TEST

START_TEST(test_unsigned)
{
	make_notify(NULL, 50, 5);
	answer_rcode = WIRE_RC_NOERROR;
	notify_zone(nt, tz, 11, NULL);
	run(2000, 1);
	ck_assert_int_eq(ngot, 1);
	ck_assert_int_eq(got[0].tsig_ok, -1);
	ck_assert_uint_eq(got[0].an, 0);        /* no SOA given: no hint */
	run(100, 0);
	ck_assert_uint_eq(notify_get_stats(nt)->acked, 1);
}
END_TEST

START_TEST(test_resend_and_give_up)
{
	make_notify("k1", 10, 3);
	notify_serial(11);
	run(1000, 0);
	/* sends at 0, 10, 30 ms; given up 40 ms after the last */
	ck_assert_int_eq(ngot, 3);
	ck_assert_uint_eq(got[1].id, got[0].id);        /* resends keep the id */
	ck_assert_uint_eq(got[2].id, got[0].id);
	ck_assert_uint_eq(notify_get_stats(nt)->given_up, 1);
	ck_assert_uint_eq(notify_get_stats(nt)->resent, 2);
	ck_assert_uint_eq(notify_pending(nt), 0);
	/* the next durable batch starts over */
	answer_rcode = WIRE_RC_NOERROR;
	notify_serial(12);
	run(1000, 4);
	run(50, 0);
	ck_assert_int_eq(ngot, 4);
	ck_assert_uint_eq(got[3].serial, 12);
	ck_assert_uint_eq(notify_pending(nt), 0);
}
END_TEST

START_TEST(test_coalesce)
{
	make_notify("k1", 100, 5);
	/* a burst in one loop turn (a group commit): one NOTIFY for the last */
	notify_serial(11);
	notify_serial(12);
	run(1000, 1);
	ck_assert_int_eq(ngot, 1);
	ck_assert_uint_eq(got[0].serial, 12);
	/* more batches while that one is unanswered */
	notify_serial(13);
	notify_serial(14);
	notify_serial(15);
	run(20, 0);
	ck_assert_int_eq(ngot, 1);              /* nothing new while one is in flight */
	secondary_answer(&got[0], WIRE_RC_NOERROR, got[0].id);
	answer_rcode = WIRE_RC_NOERROR;
	run(1000, 2);
	run(50, 0);
	ck_assert_int_eq(ngot, 2);              /* one more, for the newest serial */
	ck_assert_uint_eq(got[1].serial, 15);
	ck_assert_uint_eq(notify_pending(nt), 0);
	ck_assert_uint_eq(notify_get_stats(nt)->acked, 2);
}
END_TEST

START_TEST(test_bad_answers)
{
	make_notify("k1", 20, 5);
	/* a wrong id and an error rcode do not count: resent until NOERROR */
	answer_rcode = WIRE_RC_NOERROR;
	answer_wrong_id = 1;
	notify_serial(11);
	run(1000, 2);
	ck_assert_int_ge(ngot, 2);
	ck_assert_uint_eq(notify_pending(nt), 1);
	answer_wrong_id = 0;
	answer_rcode = WIRE_RC_NOTAUTH;
	run(1000, ngot + 1);
	ck_assert_uint_eq(notify_pending(nt), 1);
	answer_rcode = WIRE_RC_NOERROR;
	run(1000, ngot + 1);
	run(30, 0);
	ck_assert_uint_eq(notify_pending(nt), 0);
	ck_assert_uint_eq(notify_get_stats(nt)->acked, 1);
	ck_assert_uint_ge(notify_get_stats(nt)->ignored, 2);
}
END_TEST

START_TEST(test_bad_target)
{
	const char *targets[1] = { "not-an-address" };
	struct notify_options o = { .base = base, .targets = targets, .ntargets = 1,
				    .keys = &keys };
	struct err e = {0};

	ck_assert_ptr_null(notify_new(&o, &e));
	ck_assert_msg(strstr(e.msg, "not-an-address") != NULL, "%s", e.msg);
	targets[0] = "127.0.0.1";               /* no port */
	ck_assert_ptr_null(notify_new(&o, &e));
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_message_and_ack);
	tcase_add_test(tc, test_unsigned);
	tcase_add_test(tc, test_resend_and_give_up);
	tcase_add_test(tc, test_coalesce);
	tcase_add_test(tc, test_bad_answers);
	tcase_add_test(tc, test_bad_target);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(notify_suite)
