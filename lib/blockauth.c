/* blockauth: HMAC-SHA256 signatures of block requests (see blockauth.h) and
 * the server's replay cache: a hash set of nonces plus a min-heap by
 * timestamp, so expiry and eviction of the oldest are O(log n). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "blockauth.h"

#define BLOCKAUTH_NONCE_LEN 16          /* bytes; 32 hex in the header */
#define BLOCKAUTH_SIG_LEN 32            /* HMAC-SHA256 */
#define BLOCKAUTH_KEYNAME_MAX 255       /* text bytes of a key name */
/* Nonces remembered at most. When full, the oldest is forgotten and the
 * floor rises to its timestamp: requests at or below the floor are refused,
 * so a forgotten nonce can never be replayed. */
#define BLOCKAUTH_CACHE_MAX (1u << 18)
#define BLOCKAUTH_CACHE_MIN_SLOTS 1024

/* ================================================================ signing */

/* The HMAC of the string to sign: METHOD \n PATH \n ts \n nonce \n body. */
static int blockauth_mac(const struct tsig_key *key, const char *method, const char *path,
			 long long ts, const char *nonce_hex, const struct hash *body_hash,
			 uint8_t mac[BLOCKAUTH_SIG_LEN])
{
	char body_hex[HASH_HEX_LEN + 1], tsbuf[24];
	EVP_MAC *alg = NULL;
	EVP_MAC_CTX *c = NULL;
	OSSL_PARAM params[2];
	size_t out = 0;
	int rc = -EIO, ok, n;

	hash_to_hex(body_hash, body_hex);
	n = snprintf(tsbuf, sizeof(tsbuf), "%lld", ts);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (alg == NULL || (c = EVP_MAC_CTX_new(alg)) == NULL)
		goto fail;
	ok = EVP_MAC_init(c, key->secret, key->secret_len, params);
	ok = ok && EVP_MAC_update(c, (const uint8_t *)method, strlen(method)) &&
	     EVP_MAC_update(c, (const uint8_t *)"\n", 1) &&
	     EVP_MAC_update(c, (const uint8_t *)path, strlen(path)) &&
	     EVP_MAC_update(c, (const uint8_t *)"\n", 1) &&
	     EVP_MAC_update(c, (const uint8_t *)tsbuf, (size_t)n) &&
	     EVP_MAC_update(c, (const uint8_t *)"\n", 1) &&
	     EVP_MAC_update(c, (const uint8_t *)nonce_hex, 2 * BLOCKAUTH_NONCE_LEN) &&
	     EVP_MAC_update(c, (const uint8_t *)"\n", 1) &&
	     EVP_MAC_update(c, (const uint8_t *)body_hex, HASH_HEX_LEN);
	ok = ok && EVP_MAC_final(c, mac, &out, BLOCKAUTH_SIG_LEN);
	if (ok && out == BLOCKAUTH_SIG_LEN)
		rc = 0;
fail:
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(alg);
	return rc;
}

static int keyname_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
}

int blockauth_sign(const struct tsig_key *key, const char *method, const char *path,
		   const struct hash *body_hash, time_t now, char *out, size_t outlen,
		   struct err *e)
{
	char name[4 * WIRE_NAME_MAX + 2], nonce_hex[2 * BLOCKAUTH_NONCE_LEN + 1];
	char sig_hex[2 * BLOCKAUTH_SIG_LEN + 1];
	uint8_t nonce[BLOCKAUTH_NONCE_LEN], mac[BLOCKAUTH_SIG_LEN];
	size_t len;
	int n;

	if (wire_name_to_text(&key->name, name, sizeof(name)) < 0)
		return err_set(e, -EINVAL, "blockauth: malformed key name");
	len = strlen(name);
	if (len > 1 && name[len - 1] == '.')
		name[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!keyname_char_ok(name[i]))
			return err_set(e, -EINVAL, "blockauth: key name '%s' has characters "
				       "outside [A-Za-z0-9._-]", name);
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return err_set(e, -EIO, "blockauth: getrandom failed");
	hash_hex_encode(nonce_hex, nonce, sizeof(nonce));
	if (blockauth_mac(key, method, path, (long long)now, nonce_hex, body_hash, mac) < 0)
		return err_set(e, -EIO, "blockauth: HMAC failed");
	hash_hex_encode(sig_hex, mac, sizeof(mac));
	n = snprintf(out, outlen, "%s key=%s, ts=%lld, nonce=%s, sig=%s", BLOCKAUTH_SCHEME,
		     name, (long long)now, nonce_hex, sig_hex);
	if (n < 0 || (size_t)n >= outlen)
		return err_set(e, -ENOSPC, "blockauth: header does not fit %zu bytes", outlen);
	return 0;
}

/* ================================================================ parsing */

struct blockauth_hdr {
	char key[BLOCKAUTH_KEYNAME_MAX + 1];
	long long ts;
	char nonce_hex[2 * BLOCKAUTH_NONCE_LEN + 1];
	uint8_t nonce[BLOCKAUTH_NONCE_LEN];
	uint8_t sig[BLOCKAUTH_SIG_LEN];
};

/* "SCHEME k=v, k=v, ...": each of key, ts, nonce, sig exactly once, nothing
 * else. 0 or -EACCES with the reason. */
static int blockauth_parse(const char *s, struct blockauth_hdr *h, struct err *e)
{
	size_t slen = strlen(BLOCKAUTH_SCHEME);
	unsigned seen = 0;

	if (strlen(s) > BLOCKAUTH_HEADER_MAX)
		return err_set(e, -EACCES, "malformed Authorization: longer than %d bytes",
			       BLOCKAUTH_HEADER_MAX);
	if (strncasecmp(s, BLOCKAUTH_SCHEME, slen) != 0 || (s[slen] != ' ' && s[slen] != '\t'))
		return err_set(e, -EACCES, "malformed Authorization: scheme is not %s",
			       BLOCKAUTH_SCHEME);
	s += slen;
	for (;;) {
		const char *name, *val;
		size_t nlen, vlen;
		unsigned bit;

		s += strspn(s, " \t");
		name = s;
		nlen = strcspn(s, "=, \t");
		if (s[nlen] != '=')
			return err_set(e, -EACCES, "malformed Authorization: expected name=value");
		val = s + nlen + 1;
		vlen = strcspn(val, ", \t");
		s = val + vlen;
		if (nlen == 3 && strncmp(name, "key", 3) == 0) {
			bit = 1;
			if (vlen == 0 || vlen > BLOCKAUTH_KEYNAME_MAX)
				return err_set(e, -EACCES, "malformed Authorization: bad key name");
			for (size_t i = 0; i < vlen; i++)
				if (!keyname_char_ok(val[i]))
					return err_set(e, -EACCES, "malformed Authorization: bad "
						       "key name");
			memcpy(h->key, val, vlen);
			h->key[vlen] = '\0';
		} else if (nlen == 2 && strncmp(name, "ts", 2) == 0) {
			bit = 2;
			/* Decimal, no sign, no leading zero: the text is canonical,
			 * so what was signed is what we print. */
			if (vlen == 0 || vlen > 18 || (val[0] == '0' && vlen > 1))
				return err_set(e, -EACCES, "malformed Authorization: bad ts");
			h->ts = 0;
			for (size_t i = 0; i < vlen; i++) {
				if (val[i] < '0' || val[i] > '9')
					return err_set(e, -EACCES, "malformed Authorization: bad ts");
				h->ts = h->ts * 10 + (val[i] - '0');
			}
		} else if (nlen == 5 && strncmp(name, "nonce", 5) == 0) {
			bit = 4;
			if (hash_hex_decode(h->nonce, sizeof(h->nonce), val, vlen) < 0)
				return err_set(e, -EACCES, "malformed Authorization: nonce is not "
					       "%d hex digits", 2 * BLOCKAUTH_NONCE_LEN);
			memcpy(h->nonce_hex, val, vlen);
			h->nonce_hex[vlen] = '\0';
		} else if (nlen == 3 && strncmp(name, "sig", 3) == 0) {
			bit = 8;
			if (hash_hex_decode(h->sig, sizeof(h->sig), val, vlen) < 0)
				return err_set(e, -EACCES, "malformed Authorization: sig is not "
					       "%d hex digits", 2 * BLOCKAUTH_SIG_LEN);
		} else {
			return err_set(e, -EACCES, "malformed Authorization: unknown parameter "
				       "'%.*s'", (int)(nlen > 16 ? 16 : nlen), name);
		}
		if (seen & bit)
			return err_set(e, -EACCES, "malformed Authorization: '%.*s' given twice",
				       (int)nlen, name);
		seen |= bit;
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		if (*s != ',')
			return err_set(e, -EACCES, "malformed Authorization: expected ','");
		s++;
	}
	if (seen != 15)
		return err_set(e, -EACCES, "malformed Authorization: needs key, ts, nonce and sig");
	return 0;
}

/* ========================================================== replay cache */

struct blockauth_seen {
	long long ts;                           /* as signed */
	uint8_t nonce[BLOCKAUTH_NONCE_LEN];
};

struct blockauth_cache {
	struct blockauth_seen *heap;    /* min-heap by ts; n entries of cap */
	size_t n, cap;
	uint8_t (*slots)[BLOCKAUTH_NONCE_LEN];  /* hash set of the same nonces */
	uint8_t *used;                  /* slot i holds a nonce */
	size_t nslots;                  /* power of two, >= 2 * cap */
	long long floor;                /* ts at or below it are refused */
};

struct blockauth_cache *blockauth_cache_new(void)
{
	struct blockauth_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->cap = BLOCKAUTH_CACHE_MIN_SLOTS / 2;
	c->nslots = BLOCKAUTH_CACHE_MIN_SLOTS;
	c->heap = calloc(c->cap, sizeof(*c->heap));
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	c->used = calloc(c->nslots, 1);
	c->floor = -1;
	if (c->heap == NULL || c->slots == NULL || c->used == NULL) {
		blockauth_cache_free(c);
		return NULL;
	}
	return c;
}

void blockauth_cache_free(struct blockauth_cache *c)
{
	if (c == NULL)
		return;
	free(c->heap);
	free(c->slots);
	free(c->used);
	free(c);
}

static size_t slot_of(const struct blockauth_cache *c, const uint8_t *nonce)
{
	uint64_t h;

	/* Only signed nonces get in, and signers hold the key: the random
	 * nonce itself is a good enough hash. */
	memcpy(&h, nonce, sizeof(h));
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)h & (c->nslots - 1);
}

static int set_has(const struct blockauth_cache *c, const uint8_t *nonce)
{
	for (size_t i = slot_of(c, nonce); c->used[i]; i = (i + 1) & (c->nslots - 1))
		if (memcmp(c->slots[i], nonce, BLOCKAUTH_NONCE_LEN) == 0)
			return 1;
	return 0;
}

static void set_add(struct blockauth_cache *c, const uint8_t *nonce)
{
	size_t i = slot_of(c, nonce);

	while (c->used[i])
		i = (i + 1) & (c->nslots - 1);
	memcpy(c->slots[i], nonce, BLOCKAUTH_NONCE_LEN);
	c->used[i] = 1;
}

/* Linear probing deletion by backward shift (no tombstones). */
static void set_del(struct blockauth_cache *c, const uint8_t *nonce)
{
	size_t mask = c->nslots - 1, i = slot_of(c, nonce), j;

	while (c->used[i] && memcmp(c->slots[i], nonce, BLOCKAUTH_NONCE_LEN) != 0)
		i = (i + 1) & mask;
	if (!c->used[i])
		return;
	c->used[i] = 0;
	for (j = (i + 1) & mask; c->used[j]; j = (j + 1) & mask) {
		size_t home = slot_of(c, c->slots[j]);

		/* Move j back to the hole at i unless its home lies in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			memcpy(c->slots[i], c->slots[j], BLOCKAUTH_NONCE_LEN);
			c->used[i] = 1;
			c->used[j] = 0;
			i = j;
		}
	}
}

static void heap_swap(struct blockauth_seen *a, struct blockauth_seen *b)
{
	struct blockauth_seen t = *a;

	*a = *b;
	*b = t;
}

static void heap_pop(struct blockauth_cache *c)
{
	size_t i = 0;

	set_del(c, c->heap[0].nonce);
	c->heap[0] = c->heap[--c->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < c->n && c->heap[l].ts < c->heap[m].ts)
			m = l;
		if (r < c->n && c->heap[r].ts < c->heap[m].ts)
			m = r;
		if (m == i)
			break;
		heap_swap(&c->heap[i], &c->heap[m]);
		i = m;
	}
}

static void heap_push(struct blockauth_cache *c, long long ts, const uint8_t *nonce)
{
	size_t i = c->n++;

	c->heap[i].ts = ts;
	memcpy(c->heap[i].nonce, nonce, BLOCKAUTH_NONCE_LEN);
	while (i > 0 && c->heap[(i - 1) / 2].ts > c->heap[i].ts) {
		heap_swap(&c->heap[i], &c->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

/* Double the room (up to BLOCKAUTH_CACHE_MAX); -ENOMEM leaves c as it was. */
static int cache_grow(struct blockauth_cache *c)
{
	size_t cap = c->cap * 2, nslots = c->nslots * 2;
	struct blockauth_seen *heap;
	uint8_t (*slots)[BLOCKAUTH_NONCE_LEN];
	uint8_t *used;

	if (cap > BLOCKAUTH_CACHE_MAX)
		return -ENOSPC;
	heap = realloc(c->heap, cap * sizeof(*heap));
	if (heap == NULL)
		return -ENOMEM;
	c->heap = heap;
	slots = calloc(nslots, sizeof(*slots));
	used = calloc(nslots, 1);
	if (slots == NULL || used == NULL) {
		free(slots);
		free(used);
		return -ENOMEM;
	}
	free(c->slots);
	free(c->used);
	c->slots = slots;
	c->used = used;
	c->nslots = nslots;
	c->cap = cap;
	for (size_t i = 0; i < c->n; i++)
		set_add(c, c->heap[i].nonce);
	return 0;
}

/* Forget what the window no longer admits. */
static void cache_expire(struct blockauth_cache *c, time_t now)
{
	while (c->n > 0 && c->heap[0].ts < (long long)now - BLOCKAUTH_WINDOW)
		heap_pop(c);
}

static void cache_add(struct blockauth_cache *c, long long ts, const uint8_t *nonce)
{
	if (c->n == c->cap && cache_grow(c) < 0) {
		if (c->heap[0].ts > c->floor)
			c->floor = c->heap[0].ts;
		heap_pop(c);
	}
	heap_push(c, ts, nonce);
	set_add(c, nonce);
}

/* ========================================================= verification */

int blockauth_verify(const struct tsig_keyring *kr, struct blockauth_cache *c,
		     const char *header, const char *method, const char *path,
		     const struct hash *body_hash, time_t now, struct err *e)
{
	struct blockauth_hdr h;
	struct wire_name name;
	const struct tsig_key *key;
	uint8_t mac[BLOCKAUTH_SIG_LEN];
	long long skew;
	int rc;

	if (header == NULL || *header == '\0')
		return err_set(e, -EACCES, "missing Authorization header");
	if ((rc = blockauth_parse(header, &h, e)) < 0)
		return rc;
	if (wire_name_from_text(&name, h.key, NULL) < 0)
		return err_set(e, -EACCES, "malformed Authorization: bad key name");
	wire_name_lower(&name);
	if (kr == NULL || (key = tsig_keyring_find(kr, &name)) == NULL)
		return err_set(e, -EACCES, "unknown key '%s'", h.key);
	skew = h.ts - (long long)now;
	if (skew > BLOCKAUTH_WINDOW || skew < -BLOCKAUTH_WINDOW)
		return err_set(e, -EACCES, "stale timestamp: %lld s from the server's clock "
			       "(window %d s)", skew, BLOCKAUTH_WINDOW);
	if (c != NULL) {
		cache_expire(c, now);
		if (set_has(c, h.nonce))
			return err_set(e, -EACCES, "replayed nonce");
		if (h.ts <= c->floor)
			return err_set(e, -EACCES, "replay cache full: timestamp too old, "
				       "sign again");
	}
	if (blockauth_mac(key, method, path, h.ts, h.nonce_hex, body_hash, mac) < 0)
		return err_set(e, -EACCES, "HMAC failed");
	if (CRYPTO_memcmp(mac, h.sig, sizeof(mac)) != 0)
		return err_set(e, -EACCES, "bad signature");
	if (c != NULL)
		cache_add(c, h.ts, h.nonce);
	return 0;
}
