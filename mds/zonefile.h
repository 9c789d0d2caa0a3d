/* zonefile: RFC 1035 master files in and out of a struct zone, parsed and
 * printed by ldns. This is the only file of the mds that includes ldns: the
 * zone itself holds canonical wire form and never parses text. */
#ifndef DNSFS_ZONEFILE_H
#define DNSFS_ZONEFILE_H

#include <stdio.h>

#include "err.h"
#include "zone.h"

/* Load the zone file at path into a new zone (the caller frees it with
 * zone_free). origin is the apex as text, or NULL to take it from the SOA's
 * owner ($ORIGIN or absolute names are then needed before the SOA). The file
 * must hold exactly one SOA, at the apex, only class IN, and only names at or
 * below the apex. RRs of one rrset may come in any order; duplicates are
 * dropped; an rrset takes the TTL of its first RR. $INCLUDE is refused.
 * NULL on error, with "path:line: why" in e. */
struct zone *zonefile_load(const char *path, const char *origin, struct err *e);

/* Print every RR of z in master file form, SOA first, one RR a line with
 * absolute names. 0 or -EIO (write error) / -ENOMEM / -EBADMSG (rdata ldns
 * cannot print), with the reason in e. */
int zonefile_write(const struct zone *z, FILE *f, struct err *e);

#endif
