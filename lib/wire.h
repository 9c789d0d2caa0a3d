/* wire: DNS wire format without a library: domain names (parse with
 * decompression, canonical lower case, text <-> wire), a bounds-checked packet
 * reader, and a packet writer with name compression. Every read is checked
 * against the packet end; a malformed packet is -EBADMSG, never a crash. */
#ifndef DNSFS_WIRE_H
#define DNSFS_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WIRE_NAME_MAX 255       /* RFC 1035: a name is at most 255 bytes */
#define WIRE_LABEL_MAX 63
#define WIRE_HDR_LEN 12
#define WIRE_UDP_MAX 1232       /* EDNS0 payload dnsfs offers and honours */
#define WIRE_UDP_PLAIN 512      /* without EDNS0 */
#define WIRE_TCP_MAX 65535

/* Types and classes dnsfs handles by name; others pass through as numbers. */
enum {
	WIRE_T_A = 1, WIRE_T_NS = 2, WIRE_T_CNAME = 5, WIRE_T_SOA = 6,
	WIRE_T_PTR = 12, WIRE_T_MX = 15, WIRE_T_TXT = 16, WIRE_T_AAAA = 28,
	WIRE_T_SRV = 33, WIRE_T_OPT = 41, WIRE_T_TSIG = 250, WIRE_T_IXFR = 251,
	WIRE_T_AXFR = 252, WIRE_T_ANY = 255,
};
enum { WIRE_C_IN = 1, WIRE_C_CH = 3, WIRE_C_NONE = 254, WIRE_C_ANY = 255 };
enum {
	WIRE_OP_QUERY = 0, WIRE_OP_NOTIFY = 4, WIRE_OP_UPDATE = 5,
};
enum {
	WIRE_RC_NOERROR = 0, WIRE_RC_FORMERR = 1, WIRE_RC_SERVFAIL = 2,
	WIRE_RC_NXDOMAIN = 3, WIRE_RC_NOTIMP = 4, WIRE_RC_REFUSED = 5,
	WIRE_RC_YXDOMAIN = 6, WIRE_RC_YXRRSET = 7, WIRE_RC_NXRRSET = 8,
	WIRE_RC_NOTAUTH = 9, WIRE_RC_NOTZONE = 10,
	/* extended, in TSIG error field / OPT */
	WIRE_RC_BADVERS = 16, WIRE_RC_BADSIG = 16, WIRE_RC_BADKEY = 17,
	WIRE_RC_BADTIME = 18, WIRE_RC_BADTRUNC = 22,
};
/* Header flag bits (in the 16-bit flags word). */
#define WIRE_F_QR 0x8000
#define WIRE_F_AA 0x0400
#define WIRE_F_TC 0x0200
#define WIRE_F_RD 0x0100
#define WIRE_F_RA 0x0080
#define WIRE_F_AD 0x0020
#define WIRE_F_CD 0x0010
#define WIRE_OPCODE(flags) (((flags) >> 11) & 0xf)
#define WIRE_RCODE(flags) ((flags) & 0xf)

/* A name in wire form: labels with length bytes, ending with the root 0. */
struct wire_name {
	uint8_t len;                    /* bytes used in b, including the root 0 */
	uint8_t b[WIRE_NAME_MAX];
};

/* ---- names ---------------------------------------------------------- */

/* Parse "a.b.c." or "a.b.c" (always absolute; "\." and "\DDD" escapes) into
 * wire form. -EINVAL on empty labels, labels > 63, names > 255. */
int wire_name_from_text(struct wire_name *n, const char *text, struct err *e);
/* Presentation form with final dot into buf (bytes outside printable ASCII as
 * \DDD, specials as \X); 0, -ENOSPC if it does not fit, -EINVAL if n is not a
 * well-formed name. 4 * WIRE_NAME_MAX + 1 bytes always suffice. */
int wire_name_to_text(const struct wire_name *n, char *buf, size_t len);
/* Lower-case ASCII letters in place (canonical form, RFC 4034 6.2). */
void wire_name_lower(struct wire_name *n);
int wire_name_equal(const struct wire_name *a, const struct wire_name *b); /* case-insensitive */
/* 1 if n equals or is below apex (case-insensitive). */
int wire_name_is_subdomain(const struct wire_name *n, const struct wire_name *apex);
int wire_name_labels(const struct wire_name *n);   /* root has 0 */
/* Drop the first label (n must not be the root). */
void wire_name_parent(struct wire_name *n);
/* Prepend one label of len bytes; -ENAMETOOLONG if the result exceeds 255. */
int wire_name_prepend(struct wire_name *n, const void *label, size_t len);

/* ---- reading -------------------------------------------------------- */

struct wire_rd {
	const uint8_t *pkt;             /* whole message (pointers are relative to it) */
	size_t len;                     /* message length */
	size_t pos;                     /* read cursor */
};

void wire_rd_init(struct wire_rd *r, const uint8_t *pkt, size_t len);
int wire_rd_u8(struct wire_rd *r, uint8_t *v);
int wire_rd_u16(struct wire_rd *r, uint16_t *v);
int wire_rd_u32(struct wire_rd *r, uint32_t *v);
int wire_rd_bytes(struct wire_rd *r, void *dst, size_t n);
int wire_rd_skip(struct wire_rd *r, size_t n);
/* A possibly compressed name at the cursor: follows pointers (only backwards:
 * each must point before every byte already read for this name, so no loop
 * is possible; at most 127 hops), checks every bound, returns it uncompressed
 * in n (case as sent) and advances past the in-place part. -EBADMSG on any
 * violation (label types 0x40/0x80, > 255 bytes, out of bounds). The wire_rd_*
 * readers leave pos unchanged when they fail. */
int wire_rd_name(struct wire_rd *r, struct wire_name *n);

/* The fixed header. */
struct wire_hdr {
	uint16_t id, flags, qdcount, ancount, nscount, arcount;
};
int wire_rd_hdr(struct wire_rd *r, struct wire_hdr *h);

/* One resource record as read from a message. rdata is canonical: embedded
 * names of the RFC 1035 types that may be compressed (NS, CNAME, PTR, SOA, MX)
 * and of SRV are decompressed and lower-cased into rdata_buf; other types
 * are copied as they are. */
struct wire_rr {
	struct wire_name owner;
	uint16_t type, class;
	uint32_t ttl;
	uint16_t rdlen;                 /* of the canonical rdata (names uncompressed) */
	size_t rdata_off;               /* offset of the raw rdata in the packet */
	uint8_t rdata[WIRE_TCP_MAX];    /* canonical rdata, rdlen bytes */
};
/* Read one RR (question entries have no ttl/rdata: use wire_rd_question).
 * For the types with names, names plus fixed fields must fill the sent
 * rdlength exactly, else -EBADMSG. */
int wire_rd_rr(struct wire_rd *r, struct wire_rr *rr);
int wire_rd_question(struct wire_rd *r, struct wire_name *qname, uint16_t *qtype,
		     uint16_t *qclass);

/* ---- writing -------------------------------------------------------- */

#define WIRE_COMP_MAX 64                /* names remembered for compression */

struct wire_wr {
	uint8_t *buf;                   /* caller's buffer */
	size_t cap;                     /* usable bytes (limit for this message) */
	size_t pos;                     /* bytes written */
	int overflow;                   /* set once a write did not fit */
	unsigned ncomp;                 /* entries in comp[] */
	uint16_t comp[WIRE_COMP_MAX];   /* offsets of names written, for pointers */
};

void wire_wr_init(struct wire_wr *w, uint8_t *buf, size_t cap);
/* Each writer returns 0 or -ENOSPC (and sets overflow); callers may batch the
 * check: after an overflow every later write fails too. */
int wire_wr_u8(struct wire_wr *w, uint8_t v);
int wire_wr_u16(struct wire_wr *w, uint16_t v);
int wire_wr_u32(struct wire_wr *w, uint32_t v);
int wire_wr_bytes(struct wire_wr *w, const void *p, size_t n);
/* Write a name, compressing against names written earlier in this message. */
int wire_wr_name(struct wire_wr *w, const struct wire_name *n);
int wire_wr_name_nocomp(struct wire_wr *w, const struct wire_name *n);
int wire_wr_hdr(struct wire_wr *w, const struct wire_hdr *h);
/* Patch a 16-bit value at offset (e.g. a count after the section is known). */
void wire_wr_patch_u16(struct wire_wr *w, size_t off, uint16_t v);
/* A whole RR whose rdata is canonical (as stored); names inside the rdata of
 * NS/CNAME/PTR/SOA/MX are compressed, SRV targets are not (RFC 2782).
 * All or nothing: on -ENOSPC the partial RR is dropped (overflow stays set);
 * -EINVAL, nothing written, if rdata of a type with names does not parse. */
int wire_wr_rr(struct wire_wr *w, const struct wire_name *owner, uint16_t type,
	       uint16_t class, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/* Remember the current size and roll back to it (to drop an RR that did not
 * fit). Rewind forgets compression targets at or past mark and clears
 * overflow, so writing can go on (e.g. set TC, add OPT/TSIG). */
static inline size_t wire_wr_mark(const struct wire_wr *w) { return w->pos; }
void wire_wr_rewind(struct wire_wr *w, size_t mark);

/* ---- rdata helpers --------------------------------------------------- */

/* Canonicalize rdata of type t that came from text or another message:
 * lower-case embedded names of NS/CNAME/PTR/SOA/MX/SRV. */
void wire_rdata_lower(uint16_t type, uint8_t *rdata, uint16_t rdlen);
/* SOA fields, by offset after the two (uncompressed) names; -EBADMSG unless
 * the names are followed by exactly 20 bytes. */
int wire_soa_serial(const uint8_t *rdata, uint16_t rdlen, uint32_t *serial);
int wire_soa_set_serial(uint8_t *rdata, uint16_t rdlen, uint32_t serial);
int wire_soa_minimum(const uint8_t *rdata, uint16_t rdlen, uint32_t *minimum);
/* RFC 1982 serial arithmetic: a newer than b. */
int wire_serial_gt(uint32_t a, uint32_t b);

const char *wire_type_name(uint16_t type);      /* "TXT", or "TYPE65280" (static buf) */
const char *wire_rcode_name(int rcode);

#endif
