/* update: RFC 2136 dynamic update processing. Given a verified UPDATE
 * message, check the zone section and every prerequisite, then apply the
 * update section in order inside one zone transaction: all or nothing. The
 * SOA serial is increased when anything changed. Socket, TSIG and store
 * handling stay with the caller (mds/query.c). */
#ifndef DNSFS_UPDATE_H
#define DNSFS_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "zone.h"

struct update_limits {
	uint32_t max_rrset_rrs;         /* RRs in one rrset (default 10000) */
	uint32_t max_rrset_bytes;       /* rdata bytes in one rrset (default 1 MiB) */
	uint32_t max_changes;           /* rrsets one update may touch (default 10000) */
};
void update_limits_default(struct update_limits *l);

/* Process the UPDATE in msg (len bytes; tsig_off = offset of a verified
 * TSIG RR to ignore, or len if unsigned). On return:
 *   - the RFC 2136 rcode (NOERROR, FORMERR, NOTZONE, NOTAUTH, YXDOMAIN,
 *     NXDOMAIN, YXRRSET, NXRRSET, REFUSED, SERVFAIL),
 *   - *zout = the zone named in the zone section (NULL if not ours),
 *   - on NOERROR, t holds the committed transaction (t->n == 0 if the update
 *     changed nothing); the caller persists it and calls zone_txn_release.
 *     On any other rcode the zone is unchanged and t is released already.
 * e->msg says why for anything but NOERROR. */
int update_process(struct zoneset *zs, const uint8_t *msg, size_t len, size_t tsig_off,
		   const struct update_limits *lim, struct zone **zout,
		   struct zone_txn *t, struct err *e);

#endif
