/* axfr: read a whole zone from its mds with one TSIG-signed AXFR over TCP
 * (RFC 5936), handing every record to a callback. The tools that walk every
 * referenced block (rebalance, node remove) read the zone this way, as any
 * secondary would, instead of reaching into the mds's Redis. */
#ifndef DNSFS_AXFR_H
#define DNSFS_AXFR_H

#include "err.h"
#include "tsig.h"
#include "wire.h"

/* Called once per RR of the zone, the leading SOA included and the closing
 * SOA left out; rr is only valid during the call. A nonzero return stops the
 * transfer and is returned by axfr_walk. */
typedef int (*axfr_rr_fn)(const struct wire_rr *rr, void *arg);

/* Transfer zone from the server at addr (IPv4):port, the request signed
 * with key and every answer message verified with it. No message for
 * timeout_ms fails with -ETIMEDOUT. 0, or -EACCES (REFUSED/NOTAUTH), -EIO
 * (another RCODE), -EPROTO/-EBADMSG (a malformed answer), the TSIG errors of
 * tsig_verify_response, transport errors, or fn's return; e says which. */
int axfr_walk(const char *addr, int port, const char *zone, const struct tsig_key *key,
	      int timeout_ms, axfr_rr_fn fn, void *arg, struct err *e);

#endif
