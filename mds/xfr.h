/* xfr: zone transfer out of the mds: AXFR (RFC 5936) and IXFR (RFC 1995)
 * to TSIG-authorized clients, produced one message at a time so the server
 * can wait for the socket between messages. Every transfer is a snapshot of
 * the last durable serial, kept cheaply: rrsets are immutable, so a transfer
 * scans the live zone bucket by bucket and remembers, for what it has not
 * scanned yet, the rrsets that updates replace while it runs.
 *
 * Answers (the query path has already verified the TSIG, if any):
 *   unsigned request, or a key other than xfr_key     -> REFUSED (logged)
 *   qname not a zone apex                             -> NOTAUTH
 *   AXFR over UDP                                     -> FORMERR
 *   AXFR over TCP                                     -> SOA, every rrset, SOA
 *   IXFR, client serial same or newer                 -> the current SOA only
 *   IXFR over UDP, client older                       -> the current SOA only
 *                                                        (the client retries
 *                                                        over TCP, RFC 1995 2)
 *   IXFR, serial covered by the journal               -> SOA new, then per diff
 *                                                        SOA old, deleted, SOA
 *                                                        new, added; SOA new
 *   IXFR, serial not covered                          -> the AXFR answer
 * Messages hold as many RRs as fit in msg_max bytes; each is TSIG-signed as
 * a stream (RFC 8945 5.3.1) with the request's key. */
#ifndef DNSFS_XFR_H
#define DNSFS_XFR_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "wire.h"
#include "zone.h"

struct journal;
struct query;
struct xfr;
struct xfr_ctx;

struct xfr_options {
	const char *key;                /* xfr_key: the only TSIG key allowed to
					 * transfer (copied); NULL: any key of the
					 * keyring */
	size_t msg_max;                 /* bytes per message, TSIG included
					 * (0: 65535; tests use small ones) */
};

/* Counters since start. */
struct xfr_stats {
	uint64_t axfr;                  /* full transfers sent (IXFR fallbacks included) */
	uint64_t ixfr;                  /* incremental transfers sent (diffs) */
	uint64_t ixfr_current;          /* IXFRs answered with the SOA only */
	uint64_t ixfr_full;             /* IXFRs answered with the whole zone */
	uint64_t refused;               /* requests refused (unsigned, wrong key, ...) */
	uint64_t aborted;               /* transfers freed before their last message */
	uint64_t messages;              /* messages produced */
	uint64_t rrs;                   /* RRs sent */
	unsigned active;                /* transfers in progress now */
};

struct xfr_ctx *xfr_ctx_new(const struct xfr_options *o, struct err *e);
/* Every transfer must have been freed first. */
void xfr_ctx_free(struct xfr_ctx *x);
const struct xfr_stats *xfr_ctx_stats(const struct xfr_ctx *x);

/* Start a transfer for the AXFR/IXFR request in q (q->req is the raw
 * request) of zone z, whose IXFR journal is j (may be NULL). Returns
 * WIRE_RC_NOERROR with *out set (free it with xfr_free), or the rcode to
 * answer with instead (REFUSED, NOTAUTH, FORMERR, SERVFAIL). */
int xfr_start(struct xfr_ctx *x, struct query *q, struct zone *z, const struct journal *j,
	      time_t now, struct xfr **out);
/* Write the next message into q->resp/resp_len (signed if the request was).
 * 1: more follow; 0: this was the last; -errno: the transfer cannot go on
 * (logged; nothing to send). */
int xfr_next(struct xfr *t, struct query *q, time_t now);
/* Release a transfer (finished or not); NULL is fine. */
void xfr_free(struct xfr *t);

/* The zone changed in memory (an update applied, or undone): transfers of z
 * that have not scanned the changed names yet keep the rrsets they replace.
 * ch as left by zone_txn_commit. */
void xfr_zone_changed(struct xfr_ctx *x, const struct zone *z, const struct zone_change *ch,
		      size_t n);

#endif
