/* query: one DNS request in, zero or one response out, with no sockets in
 * sight (as Knot and NSD do it): the server hands a message, its transport and
 * peer to query_process and sends what comes back. An UPDATE that changed the
 * zone is "deferred" until the store says it is durable; the response then
 * arrives through the query's on_done hook. Memory for one request comes from
 * the query object itself (fixed buffers and a small arena), never malloc. */
#ifndef DNSFS_QUERY_H
#define DNSFS_QUERY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "err.h"
#include "tsig.h"
#include "update.h"
#include "wire.h"
#include "zone.h"

struct store;
struct refs;
struct journal;
struct query_ctx;
struct xfr;
struct xfr_ctx;

struct query;

enum query_transport { QUERY_UDP, QUERY_TCP };

/* What query_process decided. */
enum query_result {
	QUERY_DROP = 0,         /* send nothing (no header to answer, or a response) */
	QUERY_RESPOND,          /* q->resp holds resp_len bytes to send now */
	QUERY_DEFERRED,         /* an UPDATE waits for the store; on_done follows */
	QUERY_STREAM,           /* q->resp holds one message of a zone transfer
				 * (TCP only); send it and call query_next for
				 * the next once the peer has taken it */
};

#define QUERY_ARENA_SIZE 16384          /* per-request scratch (placement text, lists) */
#define QUERY_CNAME_MAX 8               /* CNAME hops followed in one answer */
#define QUERY_PLACE_MAX 16              /* nodes listed in a place.Z answer */

/* ---- the server-wide context ------------------------------------------ */

struct query_options {
	struct zoneset *zones;          /* zones served; not owned, outlives the ctx */
	struct store *store;            /* updates commit here; not owned; NULL: UPDATE is REFUSED */
	const struct tsig_keyring *keys;/* not owned; NULL = no keys; see query_ctx_set_keys */
	const char *version;            /* CH TXT version.bind; NULL: REFUSED (copied) */
	const char *identity;           /* CH TXT id.server, hostname.bind; NULL: REFUSED (copied) */
	unsigned place_replicas;        /* "rep=" of place.Z answers (0: 3) */
	struct update_limits limits;    /* zeroes: update_limits_default */
	unsigned journal_max;           /* diffs kept per zone for IXFR (0: 10000) */
	time_t (*now)(void);            /* clock for TSIG (NULL: time()); tests pin it */
	struct xfr_ctx *xfr;            /* zone transfers (xfr.h); not owned, outlives
					 * the ctx; NULL: AXFR and IXFR are NOTIMP */
	/* Called once per UPDATE that is durable (after the journal has it),
	 * with the change list and the new serial: NOTIFY hangs off this. */
	void (*on_durable)(void *arg, const struct zone *z, uint32_t serial,
			   const struct zone_change *ch, size_t n);
	void *on_durable_arg;
};

/* Counters since start, for logs and metrics. */
struct query_stats {
	uint64_t queries;               /* messages that yielded a header */
	uint64_t dropped;               /* messages dropped without an answer */
	uint64_t rcode[16];             /* responses by header rcode */
	uint64_t truncated;             /* UDP answers sent with TC */
	uint64_t updates;               /* UPDATEs applied and durable */
	uint64_t update_failed;         /* UPDATEs whose store commit failed */
};

/* What the response to an UPDATE says happened (query_update_result). */
enum query_update_result {
	QUERY_UPDATE_NONE = 0,          /* not an UPDATE */
	QUERY_UPDATE_APPLIED,           /* durable, answered NOERROR */
	QUERY_UPDATE_NOOP,              /* nothing to change, answered NOERROR at once */
	QUERY_UPDATE_REFUSED,           /* not applied: unsigned, bad TSIG, prerequisite,
					 * malformed, ... (the response's rcode says which) */
	QUERY_UPDATE_FAILED,            /* applied in memory, not made durable: SERVFAIL */
};

/* Sees every response as it is finished (signed, resp_len > 0), deferred
 * UPDATE answers when the store has answered; for metrics. It must not keep
 * q nor call back into the query path. */
typedef void (*query_observer_fn)(void *arg, const struct query *q);

/* NULL with e set on bad options or out of memory. Scans every zone once
 * (for delegations); call query_ctx_zones_changed after adding zones. */
struct query_ctx *query_ctx_new(const struct query_options *o, struct err *e);
/* Free the context. Deferred queries must have completed (store flushed or
 * freed) before this: a deferred query points at its ctx. */
void query_ctx_free(struct query_ctx *c);
/* Swap the keyring (SIGHUP). Deferred updates keep their own copy of their
 * key, so the old keyring may be released as soon as this returns. */
void query_ctx_set_keys(struct query_ctx *c, const struct tsig_keyring *keys);
int query_ctx_zones_changed(struct query_ctx *c, struct err *e);
const struct query_stats *query_ctx_stats(const struct query_ctx *c);
/* Install (or with fn NULL remove) the response observer. */
void query_ctx_set_observer(struct query_ctx *c, query_observer_fn fn, void *arg);
/* Deferred updates still waiting for their store commit. */
size_t query_ctx_pending(const struct query_ctx *c);
/* The block reference counts of zone z, kept by the update path (rebuilt
 * from the records when the zone was added); NULL if z is not served. */
struct refs *query_ctx_refs(struct query_ctx *c, const struct zone *z);
/* The ring of recent diffs of zone z (journal.h): every durable update is
 * added to it; the mds fills it from the store at start-up; zone transfer
 * (IXFR) reads it. NULL if z is not served. */
struct journal *query_ctx_journal(struct query_ctx *c, const struct zone *z);
/* The change lists of zone z's updates that are applied in memory but not
 * yet durable (nor undone), oldest first: a zone transfer undoes them to
 * send the last durable serial. */
void query_ctx_pending_changes(const struct query_ctx *c, const struct zone *z,
			       void (*fn)(const struct zone_change *ch, size_t n, void *arg),
			       void *arg);

/* ---- one request --------------------------------------------------------- */

struct query_arena {
	size_t used;                    /* bytes handed out since the last reset */
	_Alignas(16) uint8_t buf[QUERY_ARENA_SIZE];
};

struct query {
	struct query_ctx *ctx;          /* set by query_new */
	/* Set by the caller before query_process; kept across a deferral. */
	enum query_transport transport;
	struct sockaddr_storage peer;   /* who asked (for logs; UDP replies) */
	socklen_t peer_len;
	void (*on_done)(struct query *q);/* a deferred response is in resp (or resp_len 0) */
	void *owner;                    /* caller's: connection, socket; NULL = detached */
	struct query *owner_next;       /* caller's list link (e.g. a connection's deferred) */
	struct query *owner_prev;

	/* Set by query_process for the metrics observer: when the request came
	 * and its size (cleared once observed, so a transfer's later messages
	 * do not count it again). */
	struct timespec t_recv;         /* CLOCK_MONOTONIC */
	size_t in_len;

	/* The request as parsed; valid after query_process. */
	struct wire_hdr hdr;
	struct wire_name qname;         /* as sent (case preserved, for the echo) */
	struct wire_name lname;         /* lower case, for lookups */
	uint16_t qtype, qclass;
	int has_question;               /* qname/qtype/qclass are valid */
	int edns;                       /* the request carried an OPT RR */
	uint8_t edns_version;
	uint16_t edns_flags;            /* the OPT's DO and Z bits */
	uint16_t max_size;              /* response limit for this transport */

	/* TSIG: a request that was signed gets signed responses. */
	int tsig_signed;                /* the request had a TSIG RR */
	struct tsig_ctx tsig;           /* ctx.key points to key below when set */
	struct tsig_key key;            /* copy, so a deferred reply survives SIGHUP */

	/* The response. */
	uint8_t resp[WIRE_TCP_MAX];
	size_t resp_len;
	int rcode;                      /* of the response, extended (BADVERS = 16) */
	uint16_t rflags;                /* header flags besides QR, opcode, rcode (internal) */
	unsigned qd, an, ns, ar;        /* section counts written so far (internal) */
	size_t body;                    /* offset after the question (internal) */
	struct wire_wr w;               /* writer over resp (internal) */

	/* A deferred UPDATE: the committed transaction, kept until the store
	 * answers so that a failed commit can be undone in memory. */
	struct zone *uzone;
	uint32_t serial_from, serial_to;/* the SOA serial before and after it */
	struct zone_txn txn;
	int txn_live;
	int reverted;                   /* undone in memory after an earlier commit failed */
	int entered;                    /* inside its own store_commit call */
	int done_early;                 /* the store answered during that call */
	struct query *pend_next;        /* ctx's list of deferred queries (internal) */
	struct query *pend_prev;

	struct query_arena arena;       /* per-request scratch, reset per message */

	/* Zone transfer (xfr.c). */
	const uint8_t *req;             /* the request, only during query_process */
	size_t req_len;
	struct xfr *xfr;                /* the transfer query_next continues, or NULL */
};

/* One query object (about 80 KiB: it holds a 64 KiB response buffer). A
 * server keeps a few and reuses them; only a deferred one leaves the pool.
 * NULL on out of memory. */
struct query *query_new(struct query_ctx *c);
/* Free a query that is not deferred, or whose on_done has run. */
void query_free(struct query *q);

/* Handle one message. msg is only read during the call. Returns
 * QUERY_RESPOND (resp/resp_len set), QUERY_DROP, or QUERY_DEFERRED: then q
 * belongs to the store until on_done(q) runs; the caller must not reuse q
 * before that. on_done never runs inside another query_process call (a store
 * that answers at once is held back until the outermost call returns), so
 * the caller's receive buffer is free when it does. If the caller goes away
 * first it sets q->owner = NULL, and q is freed instead of handed back. */
enum query_result query_process(struct query *q, const uint8_t *msg, size_t len);

/* For an observer: the outcome of the UPDATE q answers. */
enum query_update_result query_update_result(const struct query *q);

/* Scratch memory for this request (16-byte aligned); NULL when the arena is
 * used up. Reset by every query_process. */
void *query_alloc(struct query *q, size_t n);

/* Zone transfers (AXFR/IXFR) are handed to xfr.c, which may answer with a
 * stream of messages (QUERY_STREAM). */
enum query_result query_xfr(struct query *q, struct zone *z);
/* The next message of a stream: QUERY_STREAM (more follow), QUERY_RESPOND
 * (this is the last; q is free again) or QUERY_DROP (the transfer failed:
 * close the connection, as a truncated transfer cannot be resumed). A query
 * dropped mid-stream is released by query_free (or the next query_process). */
enum query_result query_next(struct query *q);

#endif
