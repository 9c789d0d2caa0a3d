/* tsig: RFC 8945 transaction signatures with hmac-sha256 over raw messages,
 * and the BIND key-file format shared with nsupdate and dig. The mds verifies
 * every UPDATE and transfer request here and signs the answers to them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "tsig.h"

#define HMAC_SHA256_LEN 32
#define KEYFILE_MAX (1 << 20)           /* bytes read from one key file */
#define TOKEN_MAX 1024

static const char alg_hmac_sha256[] = "hmac-sha256.";

/* ---- base64 ---------------------------------------------------------- */

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

/* Decode s (whitespace ignored, padded to whole 4-char groups) into at
 * most cap bytes. Returns the length or -EINVAL / -E2BIG. */
static int b64_decode(const char *s, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t n = 0, chars = 0;

	for (; *s; s++) {
		int v;
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			continue;
		chars++;
		if (*s == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64_value(*s)) < 0)
			return -EINVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= cap)
				return -E2BIG;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	/* Whole 4-char groups; leftover bits are the zero padding of a 2- or
	 * 3-char final group, and the '=' count matches it. */
	if (chars % 4 != 0 || bits >= 6 || pad != (bits == 4 ? 2 : bits == 2 ? 1 : 0) ||
	    (acc & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	return (int)n;
}

static void b64_encode(const uint8_t *p, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = b64_chars[v >> 6 & 63];
		out[o++] = b64_chars[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		out[o++] = b64_chars[v >> 18 & 63];
		out[o++] = b64_chars[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_chars[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

/* ---- key files -------------------------------------------------------- */

enum tok { TOK_EOF, TOK_WORD, TOK_STR, TOK_LBRACE, TOK_RBRACE, TOK_SEMI };

struct lex {
	const char *s;                  /* cursor in the text */
	const char *fname;              /* for messages */
	int line;                       /* line of the cursor */
	int tline;                      /* line of the last token */
	char tok[TOKEN_MAX];            /* text of the last word or string */
};

static int lex_fail(struct lex *lx, struct err *e, int code, const char *what)
{
	return err_set(e, code, "%s:%d: %s", lx->fname, lx->tline, what);
}

/* Next token into lx->tok; returns enum tok or a negative errno. */
static int lex_next(struct lex *lx, struct err *e)
{
	const char *s = lx->s;
	size_t n = 0;

	for (;;) {
		if (*s == '\n') {
			lx->line++;
			s++;
		} else if (*s == ' ' || *s == '\t' || *s == '\r') {
			s++;
		} else if (*s == '#' || (s[0] == '/' && s[1] == '/')) {
			while (*s && *s != '\n')
				s++;
		} else if (s[0] == '/' && s[1] == '*') {
			lx->tline = lx->line;
			for (s += 2; !(s[0] == '*' && s[1] == '/'); s++) {
				if (*s == '\0')
					return lex_fail(lx, e, -EINVAL, "unterminated /* comment");
				if (*s == '\n')
					lx->line++;
			}
			s += 2;
		} else {
			break;
		}
	}
	lx->tline = lx->line;
	lx->tok[0] = '\0';
	switch (*s) {
	case '\0':
		lx->s = s;
		return TOK_EOF;
	case '{': lx->s = s + 1; return TOK_LBRACE;
	case '}': lx->s = s + 1; return TOK_RBRACE;
	case ';': lx->s = s + 1; return TOK_SEMI;
	case '"':
		for (s++; *s != '"'; s++) {
			if (*s == '\0' || *s == '\n')
				return lex_fail(lx, e, -EINVAL, "unterminated string");
			if (*s == '\\' && s[1] != '\0' && s[1] != '\n')
				s++;
			if (n + 1 >= sizeof(lx->tok))
				return lex_fail(lx, e, -EINVAL, "string too long");
			lx->tok[n++] = *s;
		}
		lx->tok[n] = '\0';
		lx->s = s + 1;
		return TOK_STR;
	}
	while (*s && !strchr(" \t\r\n{};\"#", *s) && !(s[0] == '/' && (s[1] == '/' || s[1] == '*'))) {
		if (n + 1 >= sizeof(lx->tok))
			return lex_fail(lx, e, -EINVAL, "word too long");
		lx->tok[n++] = *s++;
	}
	lx->tok[n] = '\0';
	lx->s = s;
	return TOK_WORD;
}

/* Expect a token of type want; what names it in the message. */
static int lex_expect(struct lex *lx, struct err *e, int want, const char *what)
{
	int t = lex_next(lx, e);

	if (t < 0)
		return t;
	if (t != want && !(want == TOK_WORD && t == TOK_STR)) {
		char m[96];
		snprintf(m, sizeof(m), "expected %s", what);
		return lex_fail(lx, e, -EINVAL, m);
	}
	return 0;
}

static int alg_is_hmac_sha256(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '.')
		n--;
	return n == 11 && strncasecmp(s, "hmac-sha256", 11) == 0;
}

static int keyring_has(const struct tsig_key *keys, size_t n, const struct wire_name *name)
{
	for (size_t i = 0; i < n; i++)
		if (wire_name_equal(&keys[i].name, name))
			return 1;
	return 0;
}

/* One `key NAME { ... };` after the `key` word, into k. */
static int parse_key(struct lex *lx, struct tsig_key *k, struct err *e)
{
	char keytext[TOKEN_MAX];
	int have_alg = 0, have_secret = 0, keyline, t, rc;

	if ((rc = lex_expect(lx, e, TOK_WORD, "a key name after 'key'")) < 0)
		return rc;
	keyline = lx->tline;
	memcpy(keytext, lx->tok, sizeof(keytext));
	if (wire_name_from_text(&k->name, keytext, e) < 0) {
		err_prefix(e, "%s:%d: bad key name: ", lx->fname, lx->tline);
		return -EINVAL;
	}
	wire_name_lower(&k->name);
	if ((rc = lex_expect(lx, e, TOK_LBRACE, "'{' after the key name")) < 0)
		return rc;
	while ((t = lex_next(lx, e)) != TOK_RBRACE) {
		if (t < 0)
			return t;
		if (t != TOK_WORD)
			return lex_fail(lx, e, -EINVAL, "expected 'algorithm', 'secret' or '}'");
		if (strcasecmp(lx->tok, "algorithm") == 0) {
			if ((rc = lex_expect(lx, e, TOK_WORD, "an algorithm name")) < 0)
				return rc;
			if (!alg_is_hmac_sha256(lx->tok))
				return err_set(e, -ENOTSUP, "%s:%d: key \"%s\": algorithm %s not supported (only hmac-sha256)",
					       lx->fname, lx->tline, keytext, lx->tok);
			wire_name_from_text(&k->alg, alg_hmac_sha256, NULL);
			have_alg = 1;
		} else if (strcasecmp(lx->tok, "secret") == 0) {
			if ((rc = lex_expect(lx, e, TOK_WORD, "a base64 secret")) < 0)
				return rc;
			int n = b64_decode(lx->tok, k->secret, sizeof(k->secret));
			if (n == -E2BIG)
				return lex_fail(lx, e, -EINVAL, "secret longer than 128 bytes");
			if (n <= 0)
				return lex_fail(lx, e, -EINVAL, "secret is not valid base64");
			k->secret_len = (size_t)n;
			have_secret = 1;
		} else {
			char m[TOKEN_MAX + 64];
			snprintf(m, sizeof(m), "unknown key option '%s'", lx->tok);
			return lex_fail(lx, e, -EINVAL, m);
		}
		if ((rc = lex_expect(lx, e, TOK_SEMI, "';'")) < 0)
			return rc;
	}
	if ((rc = lex_expect(lx, e, TOK_SEMI, "';' after '}'")) < 0)
		return rc;
	if (!have_alg || !have_secret)
		return err_set(e, -EINVAL, "%s:%d: key \"%s\" has no %s", lx->fname, keyline,
			       keytext, have_alg ? "secret" : "algorithm");
	return 0;
}

int tsig_keyring_parse(struct tsig_keyring *kr, const char *text, const char *fname,
		       struct err *e)
{
	struct lex lx = { .s = text, .fname = fname ? fname : "<text>", .line = 1, .tline = 1 };
	struct tsig_key *keys = NULL, *grown;
	size_t n = 0, cap = 0;          /* keys parsed; entries allocated */
	int t, rc;

	while ((t = lex_next(&lx, e)) != TOK_EOF) {
		rc = t;
		if (t < 0)
			goto fail;
		if (t != TOK_WORD || strcasecmp(lx.tok, "key") != 0) {
			rc = lex_fail(&lx, e, -EINVAL, "expected 'key' (a key file holds key clauses only)");
			goto fail;
		}
		rc = -ENOMEM;
		grown = realloc(keys, (n + 1) * sizeof(*keys));
		if (grown == NULL) {
			err_set(e, rc, "out of memory");
			goto fail;
		}
		keys = grown;
		cap = n + 1;
		memset(&keys[n], 0, sizeof(keys[n]));
		if ((rc = parse_key(&lx, &keys[n], e)) < 0)
			goto fail;
		if (keyring_has(keys, n, &keys[n].name) || keyring_has(kr->keys, kr->n, &keys[n].name)) {
			char nm[4 * WIRE_NAME_MAX + 1];
			wire_name_to_text(&keys[n].name, nm, sizeof(nm));
			rc = err_set(e, -EEXIST, "%s:%d: duplicate key %s", lx.fname, lx.tline, nm);
			goto fail;
		}
		n++;
	}
	if (n > 0) {
		rc = -ENOMEM;
		grown = realloc(kr->keys, (kr->n + n) * sizeof(*grown));
		if (grown == NULL) {
			err_set(e, rc, "out of memory");
			goto fail;
		}
		memcpy(grown + kr->n, keys, n * sizeof(*keys));
		kr->keys = grown;
		kr->n += n;
	}
	OPENSSL_cleanse(keys, n * sizeof(*keys));
	free(keys);
	return 0;
fail:
	if (keys != NULL)
		OPENSSL_cleanse(keys, cap * sizeof(*keys));
	free(keys);
	return rc;
}

int tsig_keyring_load(struct tsig_keyring *kr, const char *path, struct err *e)
{
	char *text = NULL;
	struct stat st;
	ssize_t got;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		err_set(e, rc, "%s: %s", path, strerror(-rc));
		goto fail;
	}
	rc = -EFBIG;
	if (st.st_size > KEYFILE_MAX) {
		err_set(e, rc, "%s: larger than %d bytes, not a key file", path, KEYFILE_MAX);
		goto fail;
	}
	rc = -ENOMEM;
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		err_set(e, rc, "out of memory");
		goto fail;
	}
	while (len < (size_t)st.st_size &&
	       (got = read(fd, text + len, (size_t)st.st_size - len)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			rc = -errno;
			err_set(e, rc, "%s: %s", path, strerror(errno));
			goto fail;
		}
		len += (size_t)got;
	}
	text[len] = '\0';
	rc = -EINVAL;
	if (strlen(text) != len) {
		err_set(e, rc, "%s: NUL byte, not a key file", path);
		goto fail;
	}
	rc = tsig_keyring_parse(kr, text, path, e);
fail:
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	close(fd);
	return rc;
}

const struct tsig_key *tsig_keyring_find(const struct tsig_keyring *kr,
					 const struct wire_name *name)
{
	for (size_t i = 0; i < kr->n; i++)
		if (wire_name_equal(&kr->keys[i].name, name))
			return &kr->keys[i];
	return NULL;
}

void tsig_keyring_release(struct tsig_keyring *kr)
{
	if (kr->keys != NULL)
		OPENSSL_cleanse(kr->keys, kr->n * sizeof(*kr->keys));
	free(kr->keys);
	kr->keys = NULL;
	kr->n = 0;
}

int tsig_key_write_file(const char *path, const char *keyname, const uint8_t *secret,
			size_t len, struct err *e)
{
	char b64[(TSIG_SECRET_MAX + 2) / 3 * 4 + 1];
	char text[TOKEN_MAX + sizeof(b64) + 64];
	char tmp[4096];
	struct wire_name n;
	int fd = -1, rc, tn;

	if (len == 0 || len > TSIG_SECRET_MAX)
		return err_set(e, -EINVAL, "key %s: secret must be 1..%d bytes", keyname, TSIG_SECRET_MAX);
	if (wire_name_from_text(&n, keyname, e) < 0 || strlen(keyname) >= TOKEN_MAX ||
	    strpbrk(keyname, "\"\\ \t\r\n{};#") != NULL)
		return err_set(e, -EINVAL, "bad key name \"%s\"", keyname);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return err_set(e, -ENAMETOOLONG, "%s: path too long", path);
	b64_encode(secret, len, b64);
	tn = snprintf(text, sizeof(text), "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n",
		      keyname, b64);
	/* Temp file in the same directory, then rename: readers see the old
	 * file or the whole new one. mkstemp creates it with mode 0600. */
	fd = mkstemp(tmp);
	if (fd < 0)
		return err_set(e, -errno, "%s: %s", tmp, strerror(errno));
	errno = EIO;                    /* a short write leaves errno alone */
	if (fchmod(fd, 0600) < 0 || write(fd, text, (size_t)tn) != tn || fsync(fd) < 0) {
		rc = -errno;
		err_set(e, rc, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		err_set(e, rc, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		err_set(e, rc, "%s: %s", path, strerror(errno));
		goto fail;
	}
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(b64, sizeof(b64));
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(b64, sizeof(b64));
	return rc;
}

/* ---- the TSIG record ---------------------------------------------------- */

/* A TSIG RR as found in a message; pointers into the message. */
struct tsig_rr {
	struct wire_name key;           /* canonical */
	struct wire_name alg;           /* canonical */
	uint64_t time;                  /* 48 bits */
	uint16_t fudge;
	uint16_t mac_len;
	const uint8_t *mac;
	uint16_t orig_id;
	uint16_t error;
	uint16_t other_len;
	const uint8_t *other;
};

/* Skip one RR; *type gets its type. */
static int skip_rr(struct wire_rd *r, uint16_t *type)
{
	struct wire_name n;
	uint16_t cls, rdlen;
	uint32_t ttl;

	if (wire_rd_name(r, &n) < 0 || wire_rd_u16(r, type) < 0 || wire_rd_u16(r, &cls) < 0 ||
	    wire_rd_u32(r, &ttl) < 0 || wire_rd_u16(r, &rdlen) < 0 || wire_rd_skip(r, rdlen) < 0)
		return -EBADMSG;
	return 0;
}

int tsig_find(const uint8_t *msg, size_t len, size_t *tsig_off)
{
	struct wire_rd r;
	struct wire_hdr h;
	struct wire_name q;
	uint16_t qt, qc, type;
	size_t start = 0;
	unsigned total, i;

	wire_rd_init(&r, msg, len);
	if (wire_rd_hdr(&r, &h) < 0)
		return -EBADMSG;
	for (i = 0; i < h.qdcount; i++)
		if (wire_rd_question(&r, &q, &qt, &qc) < 0)
			return -EBADMSG;
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	for (i = 0; i < total; i++) {
		start = r.pos;
		if (skip_rr(&r, &type) < 0)
			return -EBADMSG;
		if (type != WIRE_T_TSIG)
			continue;
		/* RFC 8945 5.1: one TSIG, the last record of the additional section. */
		if (i + 1 != total || h.arcount == 0)
			return -EBADMSG;
		if (r.pos != len)
			return -EBADMSG;
		*tsig_off = start;
		return 1;
	}
	return 0;
}

static int tsig_parse(const uint8_t *msg, size_t len, size_t off, struct tsig_rr *t)
{
	struct wire_rd r;
	uint16_t type, cls, rdlen, hi;
	uint32_t ttl, lo;
	size_t end;

	wire_rd_init(&r, msg, len);
	r.pos = off;
	if (wire_rd_name(&r, &t->key) < 0 || wire_rd_u16(&r, &type) < 0 ||
	    wire_rd_u16(&r, &cls) < 0 || wire_rd_u32(&r, &ttl) < 0 || wire_rd_u16(&r, &rdlen) < 0)
		return -EBADMSG;
	if (type != WIRE_T_TSIG || cls != WIRE_C_ANY || ttl != 0 || len - r.pos != rdlen)
		return -EBADMSG;
	end = r.pos + rdlen;
	wire_rd_init(&r, msg, end);     /* the rdata must not run past rdlength */
	r.pos = end - rdlen;
	if (wire_rd_name(&r, &t->alg) < 0 || wire_rd_u16(&r, &hi) < 0 || wire_rd_u32(&r, &lo) < 0 ||
	    wire_rd_u16(&r, &t->fudge) < 0 || wire_rd_u16(&r, &t->mac_len) < 0)
		return -EBADMSG;
	t->mac = msg + r.pos;
	if (wire_rd_skip(&r, t->mac_len) < 0 || wire_rd_u16(&r, &t->orig_id) < 0 ||
	    wire_rd_u16(&r, &t->error) < 0 || wire_rd_u16(&r, &t->other_len) < 0)
		return -EBADMSG;
	t->other = msg + r.pos;
	if (wire_rd_skip(&r, t->other_len) < 0 || r.pos != end)
		return -EBADMSG;
	t->time = (uint64_t)hi << 32 | lo;
	wire_name_lower(&t->key);
	wire_name_lower(&t->alg);
	return 0;
}

/* ---- the digest ------------------------------------------------------- */

/* What goes into one MAC (RFC 8945 4.3): the prior MAC if any, the message as
 * it was before the TSIG was added, then the TSIG variables (or the timers
 * only, for later messages of a stream). */
struct digest_in {
	const uint8_t *prior;           /* NULL: none (a request) */
	size_t prior_len;
	const uint8_t *hdr;             /* 12 header bytes, ID and ARCOUNT as signed */
	const uint8_t *body;            /* message after the header, up to the TSIG */
	size_t body_len;
	int timers_only;
	const struct wire_name *key, *alg;
	uint64_t time;
	uint16_t fudge, error, other_len;
	const uint8_t *other;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put48(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 6; i++)
		p[i] = (uint8_t)(v >> (40 - 8 * i));
}

static int hmac_compute(const struct tsig_key *k, const struct digest_in *d,
			uint8_t mac[HMAC_SHA256_LEN])
{
	EVP_MAC *alg = NULL;
	EVP_MAC_CTX *c = NULL;
	OSSL_PARAM params[2];
	uint8_t b[16];
	size_t out = 0;
	int rc = -EIO, ok;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (alg == NULL || (c = EVP_MAC_CTX_new(alg)) == NULL)
		goto fail;
	ok = EVP_MAC_init(c, k->secret, k->secret_len, params);
	if (d->prior != NULL) {
		put16(b, (uint16_t)d->prior_len);
		ok = ok && EVP_MAC_update(c, b, 2) && EVP_MAC_update(c, d->prior, d->prior_len);
	}
	ok = ok && EVP_MAC_update(c, d->hdr, WIRE_HDR_LEN) &&
	     EVP_MAC_update(c, d->body, d->body_len);
	if (!d->timers_only) {
		put16(b, WIRE_C_ANY);
		memset(b + 2, 0, 4);    /* TTL */
		ok = ok && EVP_MAC_update(c, d->key->b, d->key->len) && EVP_MAC_update(c, b, 6) &&
		     EVP_MAC_update(c, d->alg->b, d->alg->len);
	}
	put48(b, d->time);
	put16(b + 6, d->fudge);
	ok = ok && EVP_MAC_update(c, b, 8);
	if (!d->timers_only) {
		put16(b, d->error);
		put16(b + 2, d->other_len);
		ok = ok && EVP_MAC_update(c, b, 4) && EVP_MAC_update(c, d->other, d->other_len);
	}
	ok = ok && EVP_MAC_final(c, mac, &out, HMAC_SHA256_LEN);
	if (ok && out == HMAC_SHA256_LEN)
		rc = 0;
fail:
	EVP_MAC_CTX_free(c);
	EVP_MAC_free(alg);
	return rc;
}

/* Verify the TSIG of msg against key k; shared by request and response. The
 * caller has found the key; t is the parsed RR at off. */
static int verify_mac(struct tsig_ctx *ctx, const struct tsig_key *k, const uint8_t *msg,
		      size_t off, const struct tsig_rr *t, int have_prior, int timers_only,
		      struct err *e)
{
	uint8_t hdr[WIRE_HDR_LEN], mac[HMAC_SHA256_LEN];
	struct digest_in d;
	char kn[4 * WIRE_NAME_MAX + 1];

	wire_name_to_text(&t->key, kn, sizeof(kn));
	if (t->mac_len > HMAC_SHA256_LEN)
		return err_set(e, -EBADMSG, "TSIG key %s: MAC of %u bytes is longer than hmac-sha256's",
			       kn, t->mac_len);
	if (t->mac_len < HMAC_SHA256_LEN) {
		/* Truncated MACs (RFC 8945 5.2.2.1) are not accepted. */
		ctx->error = WIRE_RC_BADSIG;
		return err_set(e, -EPERM, "TSIG key %s: truncated MAC (%u bytes) refused", kn, t->mac_len);
	}
	/* The message as signed: original ID, without the TSIG in ARCOUNT. */
	memcpy(hdr, msg, WIRE_HDR_LEN);
	put16(hdr, t->orig_id);
	put16(hdr + 10, (uint16_t)(((unsigned)msg[10] << 8 | msg[11]) - 1));
	d = (struct digest_in){
		.prior = have_prior ? ctx->mac : NULL, .prior_len = ctx->mac_len,
		.hdr = hdr, .body = msg + WIRE_HDR_LEN, .body_len = off - WIRE_HDR_LEN,
		.timers_only = timers_only, .key = &t->key, .alg = &t->alg,
		.time = t->time, .fudge = t->fudge, .error = t->error,
		.other_len = t->other_len, .other = t->other,
	};
	if (hmac_compute(k, &d, mac) < 0)
		return err_set(e, -EIO, "TSIG key %s: HMAC computation failed", kn);
	if (CRYPTO_memcmp(mac, t->mac, HMAC_SHA256_LEN) != 0) {
		ctx->error = WIRE_RC_BADSIG;
		return err_set(e, -EPERM, "TSIG key %s: bad signature (BADSIG)", kn);
	}
	return 0;
}

static int time_check(struct tsig_ctx *ctx, const struct tsig_rr *t, time_t now, struct err *e)
{
	int64_t diff = (int64_t)now - (int64_t)t->time;

	if (diff > t->fudge || -diff > t->fudge) {
		ctx->error = WIRE_RC_BADTIME;
		return err_set(e, -ETIME, "TSIG time %llu is %lld s away from now, fudge %u (BADTIME)",
			       (unsigned long long)t->time, (long long)diff, t->fudge);
	}
	return 0;
}

int tsig_verify_request(struct tsig_ctx *ctx, const struct tsig_keyring *kr,
			const uint8_t *msg, size_t len, time_t now, struct err *e)
{
	const struct tsig_key *k;
	struct tsig_rr t;
	size_t off;
	char kn[4 * WIRE_NAME_MAX + 1];
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	rc = tsig_find(msg, len, &off);
	if (rc < 0)
		return err_set(e, -EBADMSG, "malformed message or misplaced TSIG record");
	if (rc == 0)
		return err_set(e, -EBADMSG, "message is not signed");
	if (tsig_parse(msg, len, off, &t) < 0)
		return err_set(e, -EBADMSG, "malformed TSIG record");
	ctx->key_name = t.key;
	ctx->alg_name = t.alg;
	ctx->orig_id = t.orig_id;
	ctx->time_signed = t.time;
	k = tsig_keyring_find(kr, &t.key);
	if (k == NULL || !wire_name_equal(&k->alg, &t.alg)) {
		ctx->error = WIRE_RC_BADKEY;
		wire_name_to_text(&t.key, kn, sizeof(kn));
		return err_set(e, -ENOKEY, "TSIG key %s %s (BADKEY)", kn,
			       k == NULL ? "unknown" : "used with another algorithm");
	}
	ctx->key = k;
	if ((rc = verify_mac(ctx, k, msg, off, &t, 0, 0, e)) < 0)
		return rc;
	/* The MAC is good: a BADTIME answer is signed and chains to it. */
	memcpy(ctx->mac, t.mac, t.mac_len);
	ctx->mac_len = t.mac_len;
	ctx->nmsg = 1;
	return time_check(ctx, &t, now, e);
}

int tsig_verify_response(struct tsig_ctx *ctx, const uint8_t *msg, size_t len,
			 time_t now, struct err *e)
{
	struct tsig_rr t;
	size_t off;
	char kn[4 * WIRE_NAME_MAX + 1];
	int rc;

	if (ctx->key == NULL || ctx->nmsg == 0)
		return err_set(e, -EINVAL, "no signed request to verify a response against");
	rc = tsig_find(msg, len, &off);
	if (rc < 0)
		return err_set(e, -EBADMSG, "malformed response or misplaced TSIG record");
	if (rc == 0)
		return err_set(e, -EBADMSG, "response to a signed request is not signed");
	if (tsig_parse(msg, len, off, &t) < 0)
		return err_set(e, -EBADMSG, "malformed TSIG record in response");
	wire_name_to_text(&t.key, kn, sizeof(kn));
	if (!wire_name_equal(&t.key, &ctx->key->name) || !wire_name_equal(&t.alg, &ctx->key->alg)) {
		ctx->error = WIRE_RC_BADKEY;
		return err_set(e, -ENOKEY, "response signed with key %s, not the request's (BADKEY)", kn);
	}
	/* 5.3.2: the server could not verify us and answered unsigned. */
	if (t.mac_len == 0 && (t.error == WIRE_RC_BADKEY || t.error == WIRE_RC_BADSIG)) {
		ctx->error = t.error;
		return err_set(e, t.error == WIRE_RC_BADKEY ? -ENOKEY : -EPERM,
			       "server reported %s for key %s", wire_rcode_name(t.error), kn);
	}
	if ((rc = verify_mac(ctx, ctx->key, msg, off, &t, 1, ctx->nmsg >= 2, e)) < 0)
		return rc;
	memcpy(ctx->mac, t.mac, t.mac_len);
	ctx->mac_len = t.mac_len;
	ctx->orig_id = t.orig_id;
	ctx->nmsg++;
	if (t.error == WIRE_RC_BADTIME) {
		uint64_t st = 0;
		for (unsigned i = 0; i < 6 && t.other_len == 6; i++)
			st = st << 8 | t.other[i];
		ctx->error = t.error;
		return err_set(e, -ETIME, "server reported BADTIME for key %s (server time %llu)", kn,
			       (unsigned long long)st);
	}
	if (t.error != 0) {
		ctx->error = t.error;
		return err_set(e, -EPERM, "server reported TSIG error %s for key %s",
			       wire_rcode_name(t.error), kn);
	}
	return time_check(ctx, &t, now, e);
}

int tsig_sign(struct tsig_ctx *ctx, struct wire_wr *w, time_t now, struct err *e)
{
	const struct wire_name *key, *alg;
	uint8_t mac[HMAC_SHA256_LEN] = {0}, other[6] = {0};
	int unsigned_err = ctx->error == WIRE_RC_BADKEY || ctx->error == WIRE_RC_BADSIG;
	size_t mark = wire_wr_mark(w), rdstart, mac_len = 0;
	uint64_t tsigned = (uint64_t)now;
	uint16_t id, arcount, other_len = 0;

	if (w->overflow)
		return err_set(e, -ENOSPC, "message overflowed before signing");
	if (w->pos < WIRE_HDR_LEN)
		return err_set(e, -EINVAL, "no message to sign");
	if (unsigned_err) {
		key = &ctx->key_name;
		alg = &ctx->alg_name;
	} else if (ctx->key != NULL) {
		key = &ctx->key->name;
		alg = &ctx->key->alg;
	} else {
		return err_set(e, -EINVAL, "no TSIG key to sign with");
	}
	if (!unsigned_err && ctx->nmsg > 0 && ctx->mac_len == 0)
		return err_set(e, -EINVAL, "no prior MAC to chain to");
	id = (uint16_t)(w->buf[0] << 8 | w->buf[1]);
	arcount = (uint16_t)(w->buf[10] << 8 | w->buf[11]);
	if (arcount == 0xffff)
		return err_set(e, -EINVAL, "ARCOUNT is full");
	if (ctx->error == WIRE_RC_BADTIME) {
		tsigned = ctx->time_signed;
		put48(other, (uint64_t)now);
		other_len = 6;
	}
	if (!unsigned_err) {
		struct digest_in d = {
			.prior = ctx->nmsg > 0 ? ctx->mac : NULL, .prior_len = ctx->mac_len,
			.hdr = w->buf, .body = w->buf + WIRE_HDR_LEN, .body_len = w->pos - WIRE_HDR_LEN,
			.timers_only = ctx->nmsg >= 2, .key = key, .alg = alg,
			.time = tsigned, .fudge = TSIG_FUDGE_DEFAULT, .error = (uint16_t)ctx->error,
			.other_len = other_len, .other = other,
		};
		if (hmac_compute(ctx->key, &d, mac) < 0)
			return err_set(e, -EIO, "HMAC computation failed");
		mac_len = HMAC_SHA256_LEN;
	}
	wire_wr_name_nocomp(w, key);
	wire_wr_u16(w, WIRE_T_TSIG);
	wire_wr_u16(w, WIRE_C_ANY);
	wire_wr_u32(w, 0);
	wire_wr_u16(w, 0);
	rdstart = w->pos;
	wire_wr_name_nocomp(w, alg);
	wire_wr_u16(w, (uint16_t)(tsigned >> 32));
	wire_wr_u32(w, (uint32_t)tsigned);
	wire_wr_u16(w, TSIG_FUDGE_DEFAULT);
	wire_wr_u16(w, (uint16_t)mac_len);
	wire_wr_bytes(w, mac, mac_len);
	wire_wr_u16(w, id);
	wire_wr_u16(w, (uint16_t)ctx->error);
	wire_wr_u16(w, other_len);
	wire_wr_bytes(w, other, other_len);
	if (w->overflow) {
		wire_wr_rewind(w, mark);
		w->overflow = 1;
		return err_set(e, -ENOSPC, "no room for the TSIG record");
	}
	wire_wr_patch_u16(w, rdstart - 2, (uint16_t)(w->pos - rdstart));
	wire_wr_patch_u16(w, 10, (uint16_t)(arcount + 1));
	memcpy(ctx->mac, mac, mac_len);
	ctx->mac_len = mac_len;
	if (ctx->nmsg == 0)
		ctx->orig_id = id;
	ctx->nmsg++;
	return 0;
}
