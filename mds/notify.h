/* notify: DNS NOTIFY (RFC 1996) from the mds to its secondaries. After an
 * update batch is durable, each configured secondary gets a NOTIFY for the
 * zone over UDP (opcode 4, AA, the SOA as question and as answer hint,
 * TSIG-signed when a key is configured), retried with doubling delays until
 * it answers NOERROR with the same id, or the tries run out. Batches that
 * become durable while a NOTIFY is outstanding are coalesced: the next send
 * carries the newest serial. Sockets and timers come from server.h. */
#ifndef DNSFS_NOTIFY_H
#define DNSFS_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "tsig.h"
#include "zone.h"

struct event_base;
struct notify;

struct notify_options {
	struct event_base *base;        /* loop for the socket and timers; not owned */
	const char *const *targets;     /* "ADDR:PORT" / "[ADDR6]:PORT" per secondary */
	size_t ntargets;
	const struct tsig_keyring *keys;/* not owned; the key is looked up at every
					 * send, so a keyring whose content SIGHUP
					 * replaces is fine */
	const char *key;                /* name of the key to sign with (copied);
					 * NULL: NOTIFYs go unsigned */
	unsigned retry_ms;              /* wait before the first resend (0: 1000);
					 * doubles on each one */
	unsigned tries;                 /* sends per notification (0: 5) */
	time_t (*now)(void);            /* clock for TSIG (NULL: time()) */
};

struct notify_stats {
	uint64_t sent;                  /* NOTIFY messages sent, resends included */
	uint64_t resent;                /* of which resends */
	uint64_t acked;                 /* NOERROR answers with the right id */
	uint64_t given_up;              /* notifications dropped after the last try */
	uint64_t ignored;               /* answers that matched nothing, failed TSIG,
					 * or carried an error rcode */
};

/* NULL with e set (a target that does not parse, no socket). */
struct notify *notify_new(const struct notify_options *o, struct err *e);
/* Cancel everything outstanding and close the sockets. NULL is fine. */
void notify_free(struct notify *n);

/* Zone z is durable at serial; soa is its SOA rrset at that serial (NULL:
 * the NOTIFY carries no answer section). Sends from the loop, not from
 * inside this call, so a group commit's burst of calls is one NOTIFY. */
void notify_zone(struct notify *n, const struct zone *z, uint32_t serial,
		 const struct zone_rrset *soa);

const struct notify_stats *notify_get_stats(const struct notify *n);
/* Notifications not yet acknowledged (scheduled or waiting for an answer). */
size_t notify_pending(const struct notify *n);
size_t notify_ntargets(const struct notify *n);

#endif
