/* hash: SHA-256 of buffers and streams, the lower-case hex codec, and the
 * 128-bit name hash that keys directory entries (DESIGN.md, "Directory entry").
 * Block hashes are SHA-256; in DNS names they are written as two 32-hex labels. */
#ifndef DNSFS_HASH_H
#define DNSFS_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define HASH_LEN 32                     /* SHA-256 digest bytes */
#define HASH_HEX_LEN (2 * HASH_LEN)     /* 64 hex chars, no NUL */
#define HASH_NAME_LEN 16                /* name hash: SHA-256 truncated to 128 bits */
#define HASH_NAME_HEX_LEN (2 * HASH_NAME_LEN)

struct hash {
	uint8_t b[HASH_LEN];
};

/* One-shot digest of len bytes at p. */
void hash_buf(struct hash *out, const void *p, size_t len);

/* Streaming digest; the context is opaque (OpenSSL EVP behind it). */
struct hash_ctx;
struct hash_ctx *hash_ctx_new(void);            /* NULL on out of memory */
void hash_ctx_update(struct hash_ctx *c, const void *p, size_t len);
void hash_ctx_final(struct hash_ctx *c, struct hash *out); /* resets c */
void hash_ctx_free(struct hash_ctx *c);

/* Digest everything readable from fd (until EOF). 0 or -errno. */
int hash_fd(struct hash *out, int fd, uint64_t *nbytes, struct err *e);

/* Lower-case hex of n bytes into out (2n chars + NUL). */
void hash_hex_encode(char *out, const uint8_t *p, size_t n);
/* Decode exactly 2n hex digits (either case) from s of length slen into n
 * bytes. -EINVAL if slen != 2n or a character is not hex. */
int hash_hex_decode(uint8_t *out, size_t n, const char *s, size_t slen);

/* struct hash <-> 64-char hex string. */
void hash_to_hex(const struct hash *h, char out[HASH_HEX_LEN + 1]);
int hash_from_hex(struct hash *h, const char *s, size_t slen);
int hash_equal(const struct hash *a, const struct hash *b);

/* The directory-entry key of a name: hex of SHA-256(name)[0..16). */
void hash_name(char out[HASH_NAME_HEX_LEN + 1], const char *name, size_t len);

#endif
