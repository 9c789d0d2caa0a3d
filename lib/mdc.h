/* mdc: the metadata client of the mount and the tools. Direct DNS queries
 * to the mds (UDP with EDNS0, TCP when truncated) for answers that must be
 * fresh, and TSIG-signed RFC 2136 UPDATEs built with lib/wire (zone,
 * prerequisites, updates) and sent over TCP. Every call has a bounded
 * deadline: an unreachable mds is -ETIMEDOUT or -ECONNREFUSED, never a hang.
 * Thread-safe (no shared state beyond the read-only config). */
#ifndef DNSFS_MDC_H
#define DNSFS_MDC_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "tsig.h"
#include "wire.h"

#define MDC_TIMEOUT_MS 3000     /* default deadline of one query or update */

struct mdc {
	char zone[WIRE_NAME_MAX + 2];   /* presentation form with the final dot */
	struct sockaddr_in addr;        /* the mds (IPv4) */
	struct tsig_keyring kr;         /* owned; keys[0] signs updates */
	int timeout_ms;                 /* whole deadline per call */
};

/* zone with or without a final dot; addr an IPv4 address. */
int mdc_init(struct mdc *m, const char *zone, const char *addr, int port,
	     const char *keyfile, struct err *e);
void mdc_release(struct mdc *m);

/* One record of an answer section. */
struct mdc_rr {
	char owner[WIRE_NAME_MAX * 4 + 1]; /* presentation form, final dot */
	uint16_t type;
	uint16_t rdlen;
	uint8_t *rdata;                 /* owned, canonical (names uncompressed) */
};

struct mdc_answer {
	int rcode;                      /* WIRE_RC_* */
	size_t n;                       /* records in the answer section */
	struct mdc_rr *v;               /* owned */
};

void mdc_answer_release(struct mdc_answer *a);

/* Ask the mds for name/type (no recursion). 0 with a->rcode set (NOERROR or
 * NXDOMAIN are answers too), or -ETIMEDOUT, -ECONNREFUSED, -EBADMSG, -ENOMEM. */
int mdc_query(struct mdc *m, const char *name, uint16_t type, struct mdc_answer *a,
	      struct err *e);

/* ---- TXT rdata <-> logical text ---- */

/* The rdata (length-prefixed strings) of a logical text, cut as
 * record_text_to_strings does. Returns rdlen or -E2BIG / -ENOSPC. */
int mdc_txt_rdata(const char *text, size_t len, uint8_t *out, size_t cap, struct err *e);
/* The logical text of a TXT rdata into buf (NUL-terminated); length or <0. */
int mdc_txt_text(const uint8_t *rdata, size_t rdlen, char *buf, size_t cap, struct err *e);

/* ---- UPDATE ---- */

/* An UPDATE being built: prerequisites first, then updates (RFC 2136 order). */
struct mdc_update {
	uint8_t *buf;                   /* owned, WIRE_TCP_MAX bytes */
	struct wire_wr w;
	uint16_t npre;                  /* prerequisite RRs written */
	uint16_t nupd;                  /* update RRs written */
	int error;                      /* first error while building (sticky) */
	int rcode;                      /* of the answer, after mdc_update_send */
};

int mdc_update_begin(struct mdc *m, struct mdc_update *u);
void mdc_update_release(struct mdc_update *u);
/* Prerequisites (RFC 2136 2.4). */
void mdc_pre_nxdomain(struct mdc_update *u, const char *name);          /* name not in use */
void mdc_pre_nxrrset(struct mdc_update *u, const char *name, uint16_t type); /* no such rrset */
void mdc_pre_value(struct mdc_update *u, const char *name, uint16_t type, /* rrset is exactly */
		   const uint8_t *rdata, uint16_t rdlen);               /*   (one RR) */
/* Updates (RFC 2136 2.5). */
void mdc_upd_add(struct mdc_update *u, const char *name, uint16_t type, uint32_t ttl,
		 const uint8_t *rdata, uint16_t rdlen);
void mdc_upd_del_rrset(struct mdc_update *u, const char *name, uint16_t type);
void mdc_upd_del_rr(struct mdc_update *u, const char *name, uint16_t type,
		    const uint8_t *rdata, uint16_t rdlen);
/* Sign, send and wait. 0 on NOERROR; -ECANCELED when a prerequisite failed
 * (u->rcode says which: YXDOMAIN, NXRRSET, YXRRSET, NXDOMAIN); -E2BIG if the
 * message did not fit 64 KiB; -EACCES refused; -EIO other errors; timeouts. */
int mdc_update_send(struct mdc *m, struct mdc_update *u, struct err *e);

#endif
