/* hash: SHA-256 via OpenSSL EVP and the hex codec (see hash.h). EVP is the
 * only OpenSSL digest API that is not deprecated in 3.0. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "hash.h"

void hash_buf(struct hash *out, const void *p, size_t len)
{
	unsigned int n = HASH_LEN;

	/* EVP_Digest only fails on allocation failure inside OpenSSL; a zero
	 * digest would then be caught by any verify, never silently trusted. */
	if (EVP_Digest(p, len, out->b, &n, EVP_sha256(), NULL) != 1)
		memset(out->b, 0, sizeof(out->b));
}

struct hash_ctx {
	EVP_MD_CTX *md;
};

struct hash_ctx *hash_ctx_new(void)
{
	struct hash_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->md = EVP_MD_CTX_new();
	if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(c->md);
		free(c);
		return NULL;
	}
	return c;
}

void hash_ctx_update(struct hash_ctx *c, const void *p, size_t len)
{
	EVP_DigestUpdate(c->md, p, len);
}

void hash_ctx_final(struct hash_ctx *c, struct hash *out)
{
	unsigned int n = HASH_LEN;

	if (EVP_DigestFinal_ex(c->md, out->b, &n) != 1)
		memset(out->b, 0, sizeof(out->b));
	EVP_DigestInit_ex(c->md, EVP_sha256(), NULL);
}

void hash_ctx_free(struct hash_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	free(c);
}

int hash_fd(struct hash *out, int fd, uint64_t *nbytes, struct err *e)
{
	struct hash_ctx *c = hash_ctx_new();
	uint8_t buf[65536];
	uint64_t total = 0;
	ssize_t n;

	if (c == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int rc = -errno;
			hash_ctx_free(c);
			return err_set(e, rc, "read: %s", strerror(-rc));
		}
		hash_ctx_update(c, buf, (size_t)n);
		total += (uint64_t)n;
	}
	hash_ctx_final(c, out);
	hash_ctx_free(c);
	if (nbytes != NULL)
		*nbytes = total;
	return 0;
}

void hash_hex_encode(char *out, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hash_hex_decode(uint8_t *out, size_t n, const char *s, size_t slen)
{
	if (slen != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void hash_to_hex(const struct hash *h, char out[HASH_HEX_LEN + 1])
{
	hash_hex_encode(out, h->b, HASH_LEN);
}

int hash_from_hex(struct hash *h, const char *s, size_t slen)
{
	return hash_hex_decode(h->b, HASH_LEN, s, slen);
}

int hash_equal(const struct hash *a, const struct hash *b)
{
	return memcmp(a->b, b->b, HASH_LEN) == 0;
}

void hash_name(char out[HASH_NAME_HEX_LEN + 1], const char *name, size_t len)
{
	struct hash h;

	hash_buf(&h, name, len);
	hash_hex_encode(out, h.b, HASH_NAME_LEN);
}
