/* blockauth: the HMAC-SHA256 request signature between block clients and
 * blockd. PUT and DELETE (and, by config, GET/HEAD) carry
 *   Authorization: DNSFS-HMAC-SHA256 key=<name>, ts=<unix seconds>, nonce=<32 hex>, sig=<64 hex>
 * where sig = HMAC-SHA256(secret, METHOD "\n" PATH "\n" ts "\n" nonce "\n" body-sha256-hex).
 * The server rejects a ts more than BLOCKAUTH_WINDOW seconds from its clock
 * and any nonce it has already accepted within the window (replay). The
 * secret is the cluster's block key, a BIND-format key file (tsig.h). */
#ifndef DNSFS_BLOCKAUTH_H
#define DNSFS_BLOCKAUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "hash.h"
#include "tsig.h"

#define BLOCKAUTH_SCHEME "DNSFS-HMAC-SHA256"
#define BLOCKAUTH_WINDOW 300            /* seconds of clock skew accepted */
#define BLOCKAUTH_HEADER_MAX 512        /* bytes of the Authorization value */

/* Build the Authorization header value for a request (fresh nonce from the
 * OS RNG). body_hash is SHA-256 of the body (of the empty string if none). */
int blockauth_sign(const struct tsig_key *key, const char *method, const char *path,
		   const struct hash *body_hash, time_t now, char *out, size_t outlen,
		   struct err *e);

/* Replay cache of nonces accepted within the window (owned by the server). */
struct blockauth_cache;
struct blockauth_cache *blockauth_cache_new(void);
void blockauth_cache_free(struct blockauth_cache *c);

/* Verify a request. 0 if the header is well formed, names a key in kr, is
 * within the window, has an unseen nonce and a matching sig (the nonce is then
 * remembered); -EACCES otherwise, with e saying which check failed (missing,
 * malformed, unknown key, stale, replay, bad signature). */
int blockauth_verify(const struct tsig_keyring *kr, struct blockauth_cache *c,
		     const char *header, const char *method, const char *path,
		     const struct hash *body_hash, time_t now, struct err *e);

#endif
