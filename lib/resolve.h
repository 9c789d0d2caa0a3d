/* resolve: cached DNS lookups of a metadata zone's records through its mds,
 * the one libunbound user (DESIGN.md, "Read path"). Answers are cached for
 * their TTL; a caller needing a fresh answer makes a new context. */
#ifndef DNSFS_RESOLVE_H
#define DNSFS_RESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RESOLVE_NAME_MAX 256    /* a name in presentation form, final dot, NUL */
#define RESOLVE_ADDR_MAX 46     /* INET6_ADDRSTRLEN */

/* A libunbound context whose lookups of names in zone go to the server at
 * addr (an IPv4 or IPv6 address) and port: a stub zone, with loopback
 * allowed (unbound refuses to query 127.0.0.1 by default). Thread-safe:
 * lookups from many threads share the cache. */
struct resolve;

int resolve_new(struct resolve **out, const char *zone, const char *addr, int port,
		struct err *e);
void resolve_free(struct resolve *r);   /* r may be NULL */

struct resolve_srv {
	uint16_t priority;
	uint16_t weight;
	uint16_t port;
	char target[RESOLVE_NAME_MAX];  /* presentation form, lower case, final dot */
};

/* The SRV records of name, at most max of them, in the order served.
 * Returns how many (0 when the name does not exist or has no SRV), or
 * -EAGAIN (SERVFAIL, no answer), -EINVAL (bad name), -EBADMSG (bad rdata).
 * *ttl (may be NULL) receives the answer's TTL. */
int resolve_srv(struct resolve *r, const char *name, struct resolve_srv *out, size_t max,
		uint32_t *ttl, struct err *e);

/* The first TXT record of name, its character-strings concatenated, into
 * out (NUL-terminated, cut to outlen - 1). Returns its length, 0 when name
 * has no TXT, or a negative errno as for resolve_srv. */
int resolve_txt(struct resolve *r, const char *name, char *out, size_t outlen,
		struct err *e);

/* Addresses of name as text: its A records, or its AAAA records if it has
 * no A. Count, 0 if none, or a negative errno as for resolve_srv. */
int resolve_addrs(struct resolve *r, const char *name, char (*out)[RESOLVE_ADDR_MAX],
		  size_t max, struct err *e);

#endif
