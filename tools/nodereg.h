/* nodereg: register block daemons in a zone — `_blockd._tcp.Z SRV` plus the
 * targets' A records — with one TSIG-signed DNS UPDATE (RFC 2136) over TCP,
 * built with lib/wire and lib/tsig. Adding records that exist changes
 * nothing, so registering again is a no-op. */
#ifndef DNSFS_NODEREG_H
#define DNSFS_NODEREG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tsig.h"

#define NODEREG_TTL 60          /* of the SRV and A records */

/* What an UPDATE does with one node (zero, the default, adds). */
enum nodereg_op {
	NODEREG_ADD = 0,        /* add its SRV RR and its A RR */
	NODEREG_DEL_SRV,        /* delete its SRV RR (exactly this weight and port) */
	NODEREG_DEL,            /* delete its SRV RR and every A RR of the target */
};

struct nodereg_node {
	const char *target;     /* "blockd-3.n.dnsfs.test." */
	const char *ipv4;       /* its address, "127.0.0.1" */
	uint16_t port;
	uint16_t weight;        /* SRV weight; 0 drains the node */
	enum nodereg_op op;     /* NODEREG_ADD unless set */
};

/* Send one UPDATE of zone to the server at addr:port adding, for every node,
 * `_blockd._tcp.<zone> ttl SRV 0 <weight> <port> <target>` and
 * `<target> ttl A <ipv4>`, signed with key; wait up to timeout_ms for the
 * signed answer and check it. 0, or -EPROTO / -EACCES (REFUSED, NOTAUTH) /
 * -EIO (another RCODE) / -ETIMEDOUT / transport errors, with e set. */
int nodereg_add(const char *addr, int port, const char *zone, const struct tsig_key *key,
		const struct nodereg_node *v, size_t n, uint32_t ttl, int timeout_ms,
		struct err *e);
/* The same UPDATE, doing each node's op: deletes are RFC 2136 2.5.4 (one
 * RR, class NONE) and 2.5.2 (the target's A rrset, class ANY), in order with
 * the adds, so a weight change is a delete and an add in one atomic UPDATE.
 * nodereg_add is this with every op NODEREG_ADD. */
int nodereg_update(const char *addr, int port, const char *zone, const struct tsig_key *key,
		   const struct nodereg_node *v, size_t n, uint32_t ttl, int timeout_ms,
		   struct err *e);

#endif
