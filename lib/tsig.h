/* tsig: transaction signatures (RFC 8945) with hmac-sha256 on raw DNS
 * messages, and BIND-format key files (`key "name" { algorithm ...; secret "..."; };`)
 * as read by `nsupdate -k` and `dig -k`. Used by the mds to verify requests and
 * sign responses, and by clients and tools to sign what they send. */
#ifndef DNSFS_TSIG_H
#define DNSFS_TSIG_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "wire.h"

#define TSIG_MAC_MAX 64                 /* bytes; hmac-sha256 gives 32 */
#define TSIG_SECRET_MAX 128
#define TSIG_FUDGE_DEFAULT 300          /* seconds of clock skew accepted */
#define TSIG_RR_MAX 512                 /* room a signature needs in a message */

struct tsig_key {
	struct wire_name name;          /* key name, canonical (lower case) */
	struct wire_name alg;           /* algorithm name: hmac-sha256. */
	uint8_t secret[TSIG_SECRET_MAX];
	size_t secret_len;
};

/* A set of keys, e.g. every key of a key file or config. */
struct tsig_keyring {
	struct tsig_key *keys;          /* owned array */
	size_t n;
};

/* Parse every `key` clause of a BIND key file (comments //, #, and C-style
 * allowed). Errors name the file and line. Only hmac-sha256 is accepted;
 * other algorithms are -ENOTSUP naming the key. The keys are appended to kr,
 * which starts zeroed (`struct tsig_keyring kr = {0};`) or holds keys loaded
 * before; a name already present is -EEXIST. On any error kr is unchanged. */
int tsig_keyring_load(struct tsig_keyring *kr, const char *path, struct err *e);
int tsig_keyring_parse(struct tsig_keyring *kr, const char *text, const char *fname,
		       struct err *e);
const struct tsig_key *tsig_keyring_find(const struct tsig_keyring *kr,
					 const struct wire_name *name);
void tsig_keyring_release(struct tsig_keyring *kr);
/* Write one key in BIND format (mode 0600). secret is raw bytes. */
int tsig_key_write_file(const char *path, const char *keyname, const uint8_t *secret,
			size_t len, struct err *e);

/* State that links a request to its response(s), and the messages of a
 * multi-message transfer (RFC 8945 5.3.1). */
struct tsig_ctx {
	const struct tsig_key *key;     /* NULL: unsigned */
	uint8_t mac[TSIG_MAC_MAX];      /* the last MAC sent or verified */
	size_t mac_len;
	uint16_t orig_id;               /* original message id from the TSIG RR */
	struct wire_name key_name;      /* key and algorithm named in the verified */
	struct wire_name alg_name;      /*   TSIG (canonical): echoed on BADKEY */
	int error;                      /* TSIG error to report (0, BADSIG, BADKEY, BADTIME) */
	uint64_t time_signed;           /* of the request, echoed on BADTIME */
	unsigned nmsg;                  /* messages signed/verified so far in this stream */
};

/* Find a TSIG RR (must be the last additional record). Returns 1 and its
 * offset if present, 0 if the message is unsigned, -EBADMSG if malformed
 * (e.g. TSIG not last, or more than one). */
int tsig_find(const uint8_t *msg, size_t len, size_t *tsig_off);

/* Verify a request (server side) or a response (client side: ctx holds the
 * request MAC). On success returns 0, fills ctx and strips nothing: the caller
 * knows the TSIG offset from tsig_find and ignores that RR. verify_request
 * resets ctx first; an unsigned message is -EBADMSG. verify_response checks the
 * first response against the request MAC and later messages of a stream
 * (nmsg >= 2) as RFC 8945 5.3.1 says; every message must be signed. A TSIG
 * error reported by the server is returned like the local one (BADKEY:
 * -ENOKEY, BADSIG: -EPERM, BADTIME: -ETIME) with ctx->error set. Failures:
 *   -ENOKEY   key name not in keyring (ctx->error = BADKEY),
 *   -EBADMSG  malformed TSIG RR,
 *   -EPERM    MAC mismatch (ctx->error = BADSIG),
 *   -ETIME    outside the fudge window (ctx->error = BADTIME).
 * now is the current time (seconds since the epoch). */
int tsig_verify_request(struct tsig_ctx *ctx, const struct tsig_keyring *kr,
			const uint8_t *msg, size_t len, time_t now, struct err *e);
int tsig_verify_response(struct tsig_ctx *ctx, const uint8_t *msg, size_t len,
			 time_t now, struct err *e);

/* Append a TSIG RR to the message in w (ARCOUNT is incremented). For a
 * request ctx->key must be set and nmsg 0; for a response, ctx is the one
 * tsig_verify_request filled (an error response to a bad request is signed
 * as RFC 8945 5.3.2 says: BADKEY/BADSIG are answered unsigned with the error
 * in the TSIG RR; BADTIME is signed, Time Signed echoing the request's and
 * Other Data holding the server's time; the caller sets RCODE NOTAUTH).
 * Later messages of a stream use the previous MAC (5.3.1). The message must
 * be complete: its ID becomes the Original ID. -ENOSPC if the RR does not
 * fit (w is left as it was, overflow set): keep TSIG_RR_MAX free for it. */
int tsig_sign(struct tsig_ctx *ctx, struct wire_wr *w, time_t now, struct err *e);

#endif
