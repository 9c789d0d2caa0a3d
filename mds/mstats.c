/* mstats: dnsfs-mds metrics (see mstats.h). Per-response counters live in a
 * table indexed by [transport][opcode][qtype][rcode] whose cells are resolved
 * to registry children the first time they are hit, so that a response costs
 * a few array lookups and one add; the rest is copied in at scrape time. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd.h"
#include "metrics.h"
#include "mstats.h"
#include "query.h"
#include "server.h"
#include "store.h"
#include "wire.h"
#include "zone.h"

/* Query types with a label of their own; the rest are "other". */
static const struct mstats_type {
	uint16_t type;
	const char *name;
} mstats_types[] = {
	{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" },
	{ 15, "MX" }, { 16, "TXT" }, { 28, "AAAA" }, { 33, "SRV" }, { 35, "NAPTR" },
	{ 39, "DNAME" }, { 43, "DS" }, { 46, "RRSIG" }, { 47, "NSEC" },
	{ 48, "DNSKEY" }, { 50, "NSEC3" }, { 52, "TLSA" }, { 64, "SVCB" },
	{ 65, "HTTPS" }, { 251, "IXFR" }, { 252, "AXFR" }, { 255, "ANY" },
	{ 257, "CAA" },
};

#define MSTATS_NTYPES (sizeof(mstats_types) / sizeof(mstats_types[0]))
#define MSTATS_T_OTHER MSTATS_NTYPES            /* a type not listed above */
#define MSTATS_T_NONE (MSTATS_NTYPES + 1)       /* no question to take it from */
#define MSTATS_TYPE_SLOTS (MSTATS_NTYPES + 2)
#define MSTATS_TYPE_MAP 258                     /* qtypes 0..257 map directly */

/* Header rcodes, extended by the OPT (BADVERS is the only one the mds sends). */
static const char *const mstats_rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN",
	"YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI", "RCODE12", "RCODE13",
	"RCODE14", "RCODE15", "BADVERS", "BADKEY", "BADTIME", "BADMODE", "BADNAME",
	"BADALG", "BADTRUNC", "BADCOOKIE", "other",
};

#define MSTATS_NRCODES (sizeof(mstats_rcodes) / sizeof(mstats_rcodes[0]))
#define MSTATS_RC_OTHER (MSTATS_NRCODES - 1)

enum { MSTATS_OP_QUERY, MSTATS_OP_NOTIFY, MSTATS_OP_UPDATE, MSTATS_OP_OTHER, MSTATS_NOPS };
static const char *const mstats_opcodes[MSTATS_NOPS] = { "QUERY", "NOTIFY", "UPDATE", "other" };
static const char *const mstats_transports[2] = { "udp", "tcp" };
static const char *const mstats_results[] = {
	[QUERY_UPDATE_APPLIED] = "applied", [QUERY_UPDATE_NOOP] = "noop",
	[QUERY_UPDATE_REFUSED] = "refused", [QUERY_UPDATE_FAILED] = "failed",
};
#define MSTATS_NRESULTS (sizeof(mstats_results) / sizeof(mstats_results[0]))

/* Commits in one MULTI/EXEC: 1, 2, 4, ... 1024. */
static const double mstats_group_buckets[] = {
	1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024,
};

struct mstats {
	struct mstats_options o;        /* as given (not owned) */
	struct metrics *m;              /* the registry */
	struct httpd *httpd;

	/* hot path: children resolved on first use */
	uint8_t tindex[MSTATS_TYPE_MAP];/* qtype -> row of the type table */
	struct metrics_family *queries; /* dnsfs_mds_queries_total */
	struct metrics_counter *qcell[2][MSTATS_NOPS][MSTATS_TYPE_SLOTS][MSTATS_NRCODES];
	struct metrics_family *updates; /* dnsfs_mds_updates_total */
	struct metrics_counter *ucell[MSTATS_NRESULTS][MSTATS_NRCODES];
	struct metrics_histogram *commit_s;
	struct metrics_family *duration; /* dnsfs_mds_request_duration_seconds */
	struct metrics_histogram *dcell[MSTATS_NOPS];
	struct metrics_counter *bytes_in, *bytes_out;
	struct metrics_histogram *exec_s;
	struct metrics_histogram *group_n;

	/* copied in at scrape time */
	struct metrics_counter *truncated, *dropped, *groups, *reconnects;
	struct metrics_counter *udp_in, *udp_send_errors, *udp_send_waits;
	struct metrics_counter *tcp_accepted, *tcp_refused, *tcp_idle_closed;
	struct metrics_gauge *pending, *store_up, *tcp_open;
	struct metrics_family *zrecords, *zserial, *zbytes;
	int observing;                  /* the observers are installed */
};

/* ======================================================================
 * observers (the hot path)
 * ====================================================================== */

static const char *mstats_type_name(unsigned row)
{
	if (row < MSTATS_NTYPES)
		return mstats_types[row].name;
	return row == MSTATS_T_OTHER ? "other" : "none";
}

static void mstats_on_response(void *arg, const struct query *q)
{
	struct mstats *ms = arg;
	unsigned tr = q->transport == QUERY_TCP, op, ty, rc;
	enum query_update_result u;
	struct metrics_counter **cell;

	switch (WIRE_OPCODE(q->hdr.flags)) {
	case WIRE_OP_QUERY: op = MSTATS_OP_QUERY; break;
	case WIRE_OP_NOTIFY: op = MSTATS_OP_NOTIFY; break;
	case WIRE_OP_UPDATE: op = MSTATS_OP_UPDATE; break;
	default: op = MSTATS_OP_OTHER; break;
	}
	if (!q->has_question)
		ty = MSTATS_T_NONE;
	else
		ty = q->qtype < MSTATS_TYPE_MAP ? ms->tindex[q->qtype] : MSTATS_T_OTHER;
	rc = q->rcode >= 0 && q->rcode < (int)MSTATS_RC_OTHER ? (unsigned)q->rcode
							       : MSTATS_RC_OTHER;
	cell = &ms->qcell[tr][op][ty][rc];
	if (*cell == NULL)
		*cell = metrics_counter_get(ms->queries, mstats_type_name(ty), mstats_rcodes[rc],
					    mstats_opcodes[op], mstats_transports[tr]);
	metrics_counter_inc(*cell);
	metrics_counter_add(ms->bytes_in, (double)q->in_len);
	metrics_counter_add(ms->bytes_out, (double)q->resp_len);
	/* A transfer's duration is its client's reading speed: not a latency. */
	if (!(q->has_question && (q->qtype == 251 || q->qtype == 252))) {
		struct timespec now;
		double sec;

		clock_gettime(CLOCK_MONOTONIC, &now);
		sec = (double)(now.tv_sec - q->t_recv.tv_sec) +
		      (double)(now.tv_nsec - q->t_recv.tv_nsec) / 1e9;
		if (ms->dcell[op] == NULL)
			ms->dcell[op] = metrics_histogram_get(ms->duration, mstats_opcodes[op]);
		metrics_histogram_observe(ms->dcell[op], sec);
	}

	if ((u = query_update_result(q)) == QUERY_UPDATE_NONE || u >= MSTATS_NRESULTS)
		return;
	cell = &ms->ucell[u][rc];
	if (*cell == NULL)
		*cell = metrics_counter_get(ms->updates, mstats_results[u], mstats_rcodes[rc]);
	metrics_counter_inc(*cell);
}

static void mstats_on_commit(void *arg, int rc, double seconds)
{
	struct mstats *ms = arg;

	if (rc == 0)
		metrics_histogram_observe(ms->commit_s, seconds);
}

static void mstats_on_exec(void *arg, size_t ncommits, double seconds)
{
	struct mstats *ms = arg;

	metrics_histogram_observe(ms->exec_s, seconds);
	metrics_histogram_observe(ms->group_n, (double)ncommits);
}

/* ======================================================================
 * scrape time
 * ====================================================================== */

static void mstats_zone_gauges(struct mstats *ms)
{
	const struct zoneset *zs = ms->o.zones;

	/* Rebuilt at every scrape: a zone that went away leaves no stale series. */
	metrics_family_clear(ms->zrecords);
	metrics_family_clear(ms->zserial);
	metrics_family_clear(ms->zbytes);
	for (size_t i = 0; i < zs->n; i++) {
		const struct zone *z = zs->zones[i];

		metrics_gauge_set(metrics_gauge_get(ms->zrecords, z->origin), (double)z->nrecords);
		metrics_gauge_set(metrics_gauge_get(ms->zserial, z->origin), (double)z->serial);
		metrics_gauge_set(metrics_gauge_get(ms->zbytes, z->origin), (double)z->bytes);
	}
}

static int mstats_collect(void *arg)
{
	struct mstats *ms = arg;
	const struct query_stats *qs = query_ctx_stats(ms->o.qctx);
	const struct server_stats *ss = server_stats(ms->o.server);
	struct store_stats st;

	metrics_counter_set(ms->truncated, (double)qs->truncated);
	metrics_counter_set(ms->dropped, (double)qs->dropped);
	metrics_gauge_set(ms->pending, (double)query_ctx_pending(ms->o.qctx));
	store_get_stats(ms->o.store, &st);
	metrics_counter_set(ms->groups, (double)st.groups);
	metrics_counter_set(ms->reconnects, (double)st.reconnects);
	metrics_gauge_set(ms->store_up, store_error(ms->o.store) == NULL);
	metrics_counter_set(ms->udp_in, (double)ss->udp_in);
	metrics_counter_set(ms->udp_send_errors, (double)ss->udp_send_errors);
	metrics_counter_set(ms->udp_send_waits, (double)ss->udp_send_waits);
	metrics_counter_set(ms->tcp_accepted, (double)ss->tcp_accepted);
	metrics_counter_set(ms->tcp_refused, (double)ss->tcp_refused);
	metrics_counter_set(ms->tcp_idle_closed, (double)ss->tcp_idle_closed);
	metrics_gauge_set(ms->tcp_open, (double)ss->tcp_open);
	mstats_zone_gauges(ms);
	return 0;
}

/* ======================================================================
 * set-up
 * ====================================================================== */

/* Register every family, in the order they are rendered. A failure leaves
 * its field NULL and the reason in e; the caller checks them all at once. */
static int mstats_families(struct mstats *ms, struct err *e)
{
	struct metrics *m = ms->m;
	const char *const *zone = METRICS_LABELS("zone");

	ms->queries = metrics_counter_family(m, "dnsfs_mds_queries_total",
		"Responses sent, by question type, response rcode, opcode and transport.",
		METRICS_LABELS("type", "rcode", "opcode", "transport"), e);
	ms->updates = metrics_counter_family(m, "dnsfs_mds_updates_total",
		"UPDATE requests answered, by result (applied, noop, refused, failed) and "
		"response rcode.", METRICS_LABELS("result", "rcode"), e);
	ms->duration = metrics_histogram_family(m, "dnsfs_mds_request_duration_seconds",
		"Time from receiving a request to its response, by opcode (an UPDATE's "
		"includes its commit to the store; zone transfers are not counted).",
		METRICS_LABELS("opcode"), metrics_latency_buckets, METRICS_LATENCY_NBUCKETS, e);
	ms->bytes_in = metrics_counter_new(m, "dnsfs_mds_received_bytes_total",
		"DNS message bytes received (requests answered, UDP and TCP).", e);
	ms->bytes_out = metrics_counter_new(m, "dnsfs_mds_sent_bytes_total",
		"DNS message bytes sent in responses (UDP and TCP).", e);
	ms->pending = metrics_gauge_new(m, "dnsfs_mds_updates_pending",
		"Updates applied in memory and waiting for the store to make them durable.", e);
	ms->commit_s = metrics_histogram_new(m, "dnsfs_mds_update_commit_seconds",
		"Time from handing an update to the store until it is durable: waiting for "
		"a commit group and its Redis MULTI/EXEC.", metrics_latency_buckets,
		METRICS_LATENCY_NBUCKETS, e);
	ms->exec_s = metrics_histogram_new(m, "dnsfs_mds_store_exec_seconds",
		"Round trip of one commit group: MULTI sent until EXEC's reply.",
		metrics_latency_buckets, METRICS_LATENCY_NBUCKETS, e);
	ms->group_n = metrics_histogram_new(m, "dnsfs_mds_store_group_commits",
		"Updates made durable together by one MULTI/EXEC.", mstats_group_buckets,
		sizeof(mstats_group_buckets) / sizeof(mstats_group_buckets[0]), e);
	ms->groups = metrics_counter_new(m, "dnsfs_mds_store_groups_total",
		"Commit groups sent to the store (MULTI/EXEC round trips).", e);
	ms->reconnects = metrics_counter_new(m, "dnsfs_mds_store_reconnects_total",
		"Idle store links re-opened after dropping.", e);
	ms->store_up = metrics_gauge_new(m, "dnsfs_mds_store_up",
		"1 while the store accepts commits, 0 once it has failed (restart the mds).", e);
	ms->zrecords = metrics_gauge_family(m, "dnsfs_mds_zone_records",
		"Resource records in the zone.", zone, e);
	ms->zserial = metrics_gauge_family(m, "dnsfs_mds_zone_serial",
		"SOA serial of the zone.", zone, e);
	ms->zbytes = metrics_gauge_family(m, "dnsfs_mds_zone_bytes",
		"Memory the zone holds, in bytes.", zone, e);
	ms->truncated = metrics_counter_new(m, "dnsfs_mds_truncated_total",
		"UDP responses sent truncated (TC) for the client to retry over TCP.", e);
	ms->dropped = metrics_counter_new(m, "dnsfs_mds_dropped_total",
		"Messages dropped without an answer (unparseable header, a response, "
		"a signing failure).", e);
	ms->udp_in = metrics_counter_new(m, "dnsfs_mds_udp_received_total",
		"UDP datagrams received.", e);
	ms->udp_send_errors = metrics_counter_new(m, "dnsfs_mds_udp_send_errors_total",
		"UDP responses the kernel would not take (lost).", e);
	ms->udp_send_waits = metrics_counter_new(m, "dnsfs_mds_udp_send_waits_total",
		"Waits (of at most 10 ms) for room in a full UDP send buffer.", e);
	ms->tcp_open = metrics_gauge_new(m, "dnsfs_mds_tcp_connections",
		"TCP connections open now.", e);
	ms->tcp_accepted = metrics_counter_new(m, "dnsfs_mds_tcp_accepted_total",
		"TCP connections accepted.", e);
	ms->tcp_refused = metrics_counter_new(m, "dnsfs_mds_tcp_refused_total",
		"TCP connections closed at once: tcp_max_connections reached.", e);
	ms->tcp_idle_closed = metrics_counter_new(m, "dnsfs_mds_tcp_idle_closed_total",
		"TCP connections closed after tcp_idle_timeout.", e);

	if (ms->queries == NULL || ms->updates == NULL || ms->pending == NULL ||
	    ms->duration == NULL || ms->bytes_in == NULL || ms->bytes_out == NULL ||
	    ms->commit_s == NULL || ms->exec_s == NULL || ms->group_n == NULL ||
	    ms->groups == NULL || ms->reconnects == NULL || ms->store_up == NULL ||
	    ms->zrecords == NULL || ms->zserial == NULL || ms->zbytes == NULL ||
	    ms->truncated == NULL || ms->dropped == NULL || ms->udp_in == NULL ||
	    ms->udp_send_errors == NULL || ms->udp_send_waits == NULL ||
	    ms->tcp_open == NULL || ms->tcp_accepted == NULL || ms->tcp_refused == NULL ||
	    ms->tcp_idle_closed == NULL)
		return e->code < 0 ? e->code : -ENOMEM;
	return 0;
}

struct mstats *mstats_new(const struct mstats_options *o, struct err *e)
{
	struct store_observer so = { mstats_on_commit, mstats_on_exec, NULL };
	struct mstats *ms = calloc(1, sizeof(*ms));

	if (ms == NULL || (ms->m = metrics_new()) == NULL) {
		err_set(e, -ENOMEM, "metrics: out of memory");
		goto fail;
	}
	ms->o = *o;
	for (unsigned t = 0; t < MSTATS_TYPE_MAP; t++)
		ms->tindex[t] = (uint8_t)MSTATS_T_OTHER;
	for (unsigned i = 0; i < MSTATS_NTYPES; i++)
		ms->tindex[mstats_types[i].type] = (uint8_t)i;
	if (mstats_families(ms, e) < 0 ||
	    metrics_collector_add(ms->m, mstats_collect, ms, NULL, e) < 0 ||
	    metrics_add_process_and_host(ms->m, e) < 0)
		goto fail;
	if ((ms->httpd = httpd_new(o->base, o->listen, e)) == NULL ||
	    httpd_route_metrics(ms->httpd, "/metrics", ms->m, e) < 0) {
		err_prefix(e, "metrics %s: ", o->listen);
		goto fail;
	}
	query_ctx_set_observer(o->qctx, mstats_on_response, ms);
	so.arg = ms;
	store_set_observer(o->store, &so);
	ms->observing = 1;
	return ms;
fail:
	mstats_free(ms);
	return NULL;
}

void mstats_free(struct mstats *ms)
{
	if (ms == NULL)
		return;
	if (ms->observing) {
		query_ctx_set_observer(ms->o.qctx, NULL, NULL);
		store_set_observer(ms->o.store, NULL);
	}
	httpd_free(ms->httpd);
	metrics_free(ms->m);
	free(ms);
}

int mstats_port(const struct mstats *ms)
{
	return httpd_port(ms->httpd);
}
