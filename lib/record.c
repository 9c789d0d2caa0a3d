/* record: the TXT codec of the metadata schema (see record.h, docs/SCHEMA.md).
 * Parsers are strict and all-or-nothing: they either fill the whole struct or
 * leave it empty with a message naming the key, because the mds validates
 * every UPDATE with them and a half-read record must never be acted on. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "record.h"

#define NSEC_PER_SEC 1000000000u
#define SHOW_MAX 40             /* bytes of a bad value quoted in a message */

/* ------------------------------------------------------------------------
 * small helpers
 * ---------------------------------------------------------------------- */

/* A printable excerpt of untrusted bytes for an error message. */
static const char *show(char dst[SHOW_MAX + 4], const char *s, size_t n)
{
	size_t k = n > SHOW_MAX ? SHOW_MAX : n;

	for (size_t i = 0; i < k; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
	}
	if (n > SHOW_MAX)
		memcpy(dst + k, "...", 3), k += 3;
	dst[k] = '\0';
	return dst;
}

/* Output that counts what it would write even past the end of buf, so one
 * pass both measures and writes (like snprintf). */
struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap) {
		size_t k = o->cap - o->len < n ? o->cap - o->len : n;
		memcpy(o->buf + o->len, s, k);
	}
	o->len += n;
}

static void out_ch(struct out *o, char c)
{
	out_put(o, &c, 1);
}

static void out_fmt(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out_fmt(struct out *o, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* every caller formats a few bounded numbers */
	if (n > 0)
		out_put(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* NUL-terminate; -E2BIG past limit, -ENOSPC if buf is short. */
static int out_finish(struct out *o, size_t limit, const char *what, struct err *e)
{
	if (o->len > limit) {
		if (o->cap > 0)
			o->buf[0] = '\0';
		return err_set(e, -E2BIG, "%s: %zu bytes of text (max %zu)", what,
			       o->len, limit);
	}
	if (o->len + 1 > o->cap) {
		if (o->cap > 0)
			o->buf[0] = '\0';
		return err_set(e, -ENOSPC, "%s: %zu bytes do not fit a buffer of %zu",
			       what, o->len + 1, o->cap);
	}
	o->buf[o->len] = '\0';
	return (int)o->len;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int upper_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decimal u64, digits only. 0, -EINVAL (empty or not a digit), -ERANGE. */
static int dec_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Canonical decimal as used in names: no leading zero, not 0. */
static int dec_canonical_ino(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || s[0] == '0')
		return -EINVAL;
	return dec_u64(s, n, out) == 0 ? 0 : -EINVAL;
}

int record_type_valid(int c)
{
	return c > 0 && c < 128 && strchr("fdlpscb", c) != NULL;
}

mode_t record_type_to_ifmt(int type)
{
	switch (type) {
	case RECORD_REG: return S_IFREG;
	case RECORD_DIR: return S_IFDIR;
	case RECORD_LNK: return S_IFLNK;
	case RECORD_FIFO: return S_IFIFO;
	case RECORD_SOCK: return S_IFSOCK;
	case RECORD_CHR: return S_IFCHR;
	case RECORD_BLK: return S_IFBLK;
	}
	return 0;
}

int record_type_from_mode(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return RECORD_REG;
	case S_IFDIR: return RECORD_DIR;
	case S_IFLNK: return RECORD_LNK;
	case S_IFIFO: return RECORD_FIFO;
	case S_IFSOCK: return RECORD_SOCK;
	case S_IFCHR: return RECORD_CHR;
	case S_IFBLK: return RECORD_BLK;
	}
	return 0;
}

/* ------------------------------------------------------------------------
 * owner names
 * ---------------------------------------------------------------------- */

/* rel (zone-relative labels) + zone into buf; see record.h. */
static int name_finish(char *buf, size_t buflen, const char *rel, int n,
		       const char *zone)
{
	size_t zl = zone != NULL ? strlen(zone) : 0;
	size_t total, pres, rellen;
	int root = zl == 1 && zone[0] == '.';

	if (n <= 0 || n >= 128)
		return -EINVAL; /* snprintf of a few numbers: cannot happen */
	rellen = (size_t)n;

	if (zl > 0 && !root) {
		size_t lab = 0;
		for (size_t i = 0; i < zl; i++) {
			if (zone[i] != '.') {
				if (++lab > 63)
					return -EINVAL;
				continue;
			}
			if (lab == 0)
				return -EINVAL; /* empty label, or a leading dot */
			lab = 0;
		}
	}
	total = rellen + (zl == 0 ? 0 : root ? 1 : 1 + zl);
	/* Wire length: each dot becomes a length byte, plus the root byte. */
	pres = total;
	if (pres > 0 && (zl == 0 ? rel[rellen - 1] : zone[zl - 1]) == '.')
		pres--;
	if (pres + 2 > 255 || total + 1 > buflen)
		return -ENAMETOOLONG;
	memcpy(buf, rel, rellen);
	if (root) {
		buf[rellen] = '.';
	} else if (zl > 0) {
		buf[rellen] = '.';
		memcpy(buf + rellen + 1, zone, zl);
	}
	buf[total] = '\0';
	return (int)total;
}

static int entry_name_check(const char *name, size_t len, struct err *e);

int record_name_dentry(char *buf, size_t buflen, const char *zone,
		       uint64_t parent, const char *name, size_t namelen)
{
	char h[HASH_NAME_HEX_LEN + 1], rel[128];
	int n;

	if (namelen > RECORD_NAME_MAX)
		return -ENAMETOOLONG;
	if (entry_name_check(name, namelen, NULL) < 0)
		return -EINVAL;
	hash_name(h, name, namelen);
	n = snprintf(rel, sizeof(rel), "%s.%" PRIu64 ".d", h, parent);
	return name_finish(buf, buflen, rel, n, zone);
}

int record_name_inode(char *buf, size_t buflen, const char *zone, uint64_t ino)
{
	char rel[64];
	int n = snprintf(rel, sizeof(rel), "%" PRIu64 ".i", ino);

	return name_finish(buf, buflen, rel, n, zone);
}

int record_name_map(char *buf, size_t buflen, const char *zone, uint64_t ino,
		    uint64_t page)
{
	char rel[64];
	int n = snprintf(rel, sizeof(rel), "%" PRIu64 ".%" PRIu64 ".m", page, ino);

	return name_finish(buf, buflen, rel, n, zone);
}

int record_name_listing(char *buf, size_t buflen, const char *zone,
			uint64_t dir, uint64_t bucket)
{
	char rel[64];
	int n = snprintf(rel, sizeof(rel), "%" PRIu64 ".%" PRIu64 ".l", bucket, dir);

	return name_finish(buf, buflen, rel, n, zone);
}

int record_name_lock(char *buf, size_t buflen, const char *zone, uint64_t ino)
{
	char rel[64];
	int n = snprintf(rel, sizeof(rel), "%" PRIu64 ".k", ino);

	return name_finish(buf, buflen, rel, n, zone);
}

int record_name_place(char *buf, size_t buflen, const char *zone,
		      const struct hash *h)
{
	char hex[HASH_HEX_LEN + 1], rel[96];
	int n;

	hash_to_hex(h, hex);
	n = snprintf(rel, sizeof(rel), "%.32s.%.32s.place", hex, hex + 32);
	return name_finish(buf, buflen, rel, n, zone);
}

/* Strip `.zone` (case-insensitively) off name; the rest's length in *rellen. */
static int name_strip_zone(const char *name, size_t len, const char *zone,
			   size_t *rellen)
{
	size_t zl = zone != NULL ? strlen(zone) : 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (zl > 0 && zone[zl - 1] == '.')
		zl--;
	if (zl == 0) {
		*rellen = len;
		return len > 0 ? 0 : -EINVAL;
	}
	if (len < zl + 2 || name[len - zl - 1] != '.' ||
	    strncasecmp(name + len - zl, zone, zl) != 0)
		return -EINVAL;
	*rellen = len - zl - 1;
	return 0;
}

int record_parse_inode_name(const char *name, size_t len, const char *zone,
			    uint64_t *ino)
{
	size_t rl;

	if (name_strip_zone(name, len, zone, &rl) < 0 || rl < 3 ||
	    strncasecmp(name + rl - 2, ".i", 2) != 0)
		return -EINVAL;
	return dec_canonical_ino(name, rl - 2, ino);
}

int record_parse_place_name(const char *name, size_t len, const char *zone,
			    struct hash *out)
{
	size_t rl;
	struct hash h;

	if (name_strip_zone(name, len, zone, &rl) < 0 ||
	    rl != 2 * HASH_NAME_HEX_LEN + 1 + 6 || name[32] != '.' ||
	    strncasecmp(name + 65, ".place", 6) != 0)
		return -EINVAL;
	/* either case: resolvers may randomize the case of a query name */
	if (hash_hex_decode(h.b, 16, name, 32) < 0 ||
	    hash_hex_decode(h.b + 16, 16, name + 33, 32) < 0)
		return -EINVAL;
	*out = h;
	return 0;
}

/* ------------------------------------------------------------------------
 * character-strings and presentation format
 * ---------------------------------------------------------------------- */

int record_text_to_strings(const char *text, size_t len, struct record_str *strs,
			   size_t max, struct err *e)
{
	size_t pos = 0, n = 0;

	do {
		size_t cut = len - pos;

		if (cut > RECORD_STR_MAX) {
			/* the last space within reach ends this string */
			cut = RECORD_STR_MAX;
			for (size_t j = RECORD_STR_MAX; j > 0; j--)
				if (text[pos + j - 1] == ' ') {
					cut = j;
					break;
				}
		}
		if (n == max)
			return err_set(e, -ENOSPC, "text of %zu bytes needs more than %zu strings",
				       len, max);
		strs[n].p = text + pos;
		strs[n].len = cut;
		n++;
		pos += cut;
	} while (pos < len);
	return (int)n;
}

/* Check the strings' lengths; the total in *total. */
static int strings_check(const struct record_str *strs, size_t n, size_t *total,
			 struct err *e)
{
	size_t t = 0;

	if (n == 0)
		return err_set(e, -EINVAL, "TXT data has no strings");
	for (size_t i = 0; i < n; i++) {
		if (strs[i].len > RECORD_STR_MAX)
			return err_set(e, -EINVAL,
				       "string %zu: %zu bytes (a TXT string holds at most %d)",
				       i + 1, strs[i].len, RECORD_STR_MAX);
		t += strs[i].len;
	}
	*total = t;
	return 0;
}

int record_strings_join(const struct record_str *strs, size_t n, char *buf,
			size_t buflen, struct err *e)
{
	struct out o = { buf, buflen, 0 };
	size_t total;
	int rc = strings_check(strs, n, &total, e);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		out_put(&o, strs[i].p, strs[i].len);
	return out_finish(&o, SIZE_MAX - 1, "text", e);
}

int record_strings_to_presentation(const struct record_str *strs, size_t n,
				   char *buf, size_t buflen, struct err *e)
{
	struct out o = { buf, buflen, 0 };
	size_t total;
	int rc = strings_check(strs, n, &total, e);

	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			out_ch(&o, ' ');
		out_ch(&o, '"');
		for (size_t j = 0; j < strs[i].len; j++) {
			unsigned char c = (unsigned char)strs[i].p[j];

			if (c == '"' || c == '\\') {
				out_ch(&o, '\\');
				out_ch(&o, (char)c);
			} else if (c < 0x20 || c > 0x7e) {
				out_fmt(&o, "\\%03u", c);
			} else {
				out_ch(&o, (char)c);
			}
		}
		out_ch(&o, '"');
	}
	return out_finish(&o, SIZE_MAX - 1, "presentation", e);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int record_presentation_parse(const char *in, size_t inlen, char *buf,
			      size_t buflen, struct record_str *strs, size_t max,
			      struct err *e)
{
	size_t i = 0, used = 0, n = 0;

	for (;;) {
		size_t start = used;
		int quoted;

		while (i < inlen && is_blank(in[i]))
			i++;
		if (i == inlen)
			break;
		if (n == max)
			return err_set(e, -ENOSPC, "more than %zu strings", max);
		quoted = in[i] == '"';
		if (quoted)
			i++;
		for (;;) {
			unsigned char c;

			if (i == inlen) {
				if (quoted)
					return err_set(e, -EINVAL,
						       "string %zu: truncated string (no closing quote)",
						       n + 1);
				break;
			}
			c = (unsigned char)in[i];
			if (quoted && c == '"') {
				i++;
				if (i < inlen && !is_blank(in[i]))
					return err_set(e, -EINVAL,
						       "string %zu: no space after the closing quote",
						       n + 1);
				break;
			}
			if (!quoted && is_blank((char)c))
				break;
			if (!quoted && c == '"')
				return err_set(e, -EINVAL, "string %zu: stray quote", n + 1);
			i++;
			if (c == '\\') {
				if (i == inlen)
					return err_set(e, -EINVAL,
						       "string %zu: truncated string (ends in a backslash)",
						       n + 1);
				if (in[i] >= '0' && in[i] <= '9') {
					unsigned v = 0;

					for (int d = 0; d < 3; d++, i++) {
						if (i == inlen || in[i] < '0' || in[i] > '9')
							return err_set(e, -EINVAL,
								       "string %zu: bad escape (\\DDD needs three digits)",
								       n + 1);
						v = v * 10 + (unsigned)(in[i] - '0');
					}
					if (v > 255)
						return err_set(e, -EINVAL,
							       "string %zu: bad escape \\%03u (max \\255)",
							       n + 1, v);
					c = (unsigned char)v;
				} else {
					c = (unsigned char)in[i++];
				}
			}
			if (used == buflen)
				return err_set(e, -ENOSPC, "decoded strings do not fit %zu bytes",
					       buflen);
			buf[used++] = (char)c;
		}
		if (used - start > RECORD_STR_MAX)
			return err_set(e, -EINVAL,
				       "string %zu: %zu bytes (a TXT string holds at most %d)",
				       n + 1, used - start, RECORD_STR_MAX);
		strs[n].p = buf + start;
		strs[n].len = used - start;
		n++;
	}
	if (n == 0)
		return err_set(e, -EINVAL, "TXT data has no strings");
	return (int)n;
}

int record_text_to_presentation(const char *text, size_t len, char *buf,
				size_t buflen, struct err *e)
{
	size_t max = RECORD_STRS_FOR(len);
	struct record_str *strs = calloc(max, sizeof(*strs));
	int n, rc;

	if (strs == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	n = record_text_to_strings(text, len, strs, max, e);
	rc = n < 0 ? n : record_strings_to_presentation(strs, (size_t)n, buf, buflen, e);
	free(strs);
	return rc;
}

int record_presentation_to_text(const char *in, size_t inlen, char *buf,
				size_t buflen, struct err *e)
{
	/* every string but an empty one takes at least one input byte */
	size_t max = inlen / 2 + 1;
	struct record_str *strs = calloc(max, sizeof(*strs));
	char *tmp = malloc(inlen + 1);
	int n, rc = -ENOMEM;

	if (strs == NULL || tmp == NULL) {
		err_set(e, rc, "out of memory");
		goto fail;
	}
	n = record_presentation_parse(in, inlen, tmp, inlen + 1, strs, max, e);
	rc = n < 0 ? n : record_strings_join(strs, (size_t)n, buf, buflen, e);
fail:
	free(strs);
	free(tmp);
	return rc;
}

/* All strings concatenated into a fresh allocation; its length in *len. */
static int strings_join_alloc(const struct record_str *strs, size_t n,
			      size_t limit, char **text, size_t *len,
			      struct err *e)
{
	size_t total;
	int rc = strings_check(strs, n, &total, e);

	*text = NULL;
	if (rc < 0)
		return rc;
	if (total > limit)
		return err_set(e, -E2BIG, "record: %zu bytes of text (max %zu)", total,
			       limit);
	*text = malloc(total + 1);
	if (*text == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	rc = record_strings_join(strs, n, *text, total + 1, e);
	if (rc < 0) {
		free(*text);
		*text = NULL;
		return rc;
	}
	*len = total;
	return 0;
}

/* ------------------------------------------------------------------------
 * value codecs: percent-encoding, base64
 * ---------------------------------------------------------------------- */

static int pct_needed(unsigned char c)
{
	return c < 0x21 || c > 0x7e || c == '%' || c == '"' || c == '\\' ||
	       c == '=' || c == ';';
}

static void pct_put(struct out *o, const uint8_t *p, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < len; i++) {
		if (pct_needed(p[i])) {
			char esc[3] = { '%', hex[p[i] >> 4], hex[p[i] & 15] };
			out_put(o, esc, 3);
		} else {
			out_ch(o, (char)p[i]);
		}
	}
}

int record_pct_encode(char *buf, size_t buflen, const void *p, size_t len)
{
	struct out o = { buf, buflen, 0 };

	pct_put(&o, p, len);
	return out_finish(&o, SIZE_MAX - 1, "", NULL);
}

/* Decode s into dst (cap bytes). key names the field in messages. */
static int pct_decode(uint8_t *dst, size_t cap, const char *s, size_t len,
		      const char *key, struct err *e)
{
	char sh[SHOW_MAX + 4];
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi = -1, lo = -1;

			if (len - i >= 3) {
				hi = upper_hexval(s[i + 1]);
				lo = upper_hexval(s[i + 2]);
			}
			if (hi < 0 || lo < 0)
				return err_set(e, -EINVAL,
					       "%s: bad %%-escape at byte %zu of \"%s\" (need %%XX, upper-case hex)",
					       key, i, show(sh, s, len));
			c = (unsigned char)(hi << 4 | lo);
			if (!pct_needed(c))
				return err_set(e, -EINVAL,
					       "%s: needless %%-escape %%%02X in \"%s\" (write '%c')",
					       key, c, show(sh, s, len), c);
			i += 2;
		} else if (pct_needed(c)) {
			return err_set(e, -EINVAL,
				       "%s: byte 0x%02x must be %%-encoded in \"%s\"",
				       key, c, show(sh, s, len));
		}
		if (n == cap)
			return err_set(e, -ENOSPC, "%s: longer than %zu bytes", key, cap);
		dst[n++] = c;
	}
	return (int)n;
}

int record_pct_decode(void *buf, size_t buflen, const char *s, size_t len,
		      struct err *e)
{
	return pct_decode(buf, buflen, s, len, "value", e);
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_put(struct out *o, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		out_put(o, q, 4);
	}
}

static int b64_val(char c)
{
	const char *p = c != '\0' ? strchr(b64, c) : NULL;

	return p != NULL ? (int)(p - b64) : -1;
}

/* Decoded length of canonical base64 s, or -1 if it is not canonical. */
static long b64_check(const char *s, size_t len)
{
	size_t pad = 0;

	if (len % 4 != 0)
		return -1;
	if (len > 0 && s[len - 1] == '=')
		pad = len > 1 && s[len - 2] == '=' ? 2 : 1;
	for (size_t i = 0; i < len - pad; i++)
		if (b64_val(s[i]) < 0)
			return -1;
	/* the bits the padding leaves unused must be zero */
	if (pad == 2 && (b64_val(s[len - 3]) & 15) != 0)
		return -1;
	if (pad == 1 && (b64_val(s[len - 2]) & 3) != 0)
		return -1;
	return (long)(len / 4 * 3 - pad);
}

/* Decode canonical base64 (b64_check passed) into dst. */
static void b64_decode(uint8_t *dst, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int k = 0;

		for (int j = 0; j < 4; j++) {
			int d = s[i + j] == '=' ? 0 : b64_val(s[i + j]);
			if (s[i + j] != '=')
				k++;
			v = v << 6 | (uint32_t)d;
		}
		dst[n++] = (uint8_t)(v >> 16);
		if (k > 2)
			dst[n++] = (uint8_t)(v >> 8);
		if (k > 3)
			dst[n++] = (uint8_t)v;
	}
}

/* ------------------------------------------------------------------------
 * tokens and numbers
 * ---------------------------------------------------------------------- */

struct tok {
	const char *p;          /* the whole token */
	size_t n;
	const char *k;          /* key */
	size_t kn;
	const char *v;          /* value, after the first '=' */
	size_t vn;
};

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

/* Split a token of n bytes into key and value and check its syntax. */
static int tok_split(const char *p, size_t n, struct tok *t, struct err *e)
{
	const char *eq = memchr(p, '=', n);
	char sh[SHOW_MAX + 4];

	t->p = p;
	t->n = n;
	if (eq == NULL)
		return err_set(e, -EINVAL, "token \"%s\" has no '=' (expected key=value)",
			       show(sh, p, n));
	t->k = p;
	t->kn = (size_t)(eq - p);
	t->v = eq + 1;
	t->vn = n - t->kn - 1;
	if (t->kn == 0)
		return err_set(e, -EINVAL, "token \"%s\" has an empty key", show(sh, p, n));
	for (size_t i = 0; i < t->kn; i++)
		if (!key_char(p[i]))
			return err_set(e, -EINVAL,
				       "token \"%s\": bad key (keys are [a-z0-9_-]+)",
				       show(sh, p, n));
	for (size_t i = 0; i < t->vn; i++) {
		unsigned char c = (unsigned char)t->v[i];

		if (c < 0x21 || c > 0x7e)
			return err_set(e, -EINVAL,
				       "%.*s: byte 0x%02x in the value is not printable ASCII",
				       (int)t->kn, t->k, c);
	}
	return 0;
}

/* Next space-separated token: 1, 0 at the end, or a negative errno. */
static int tok_next(const char **cur, const char *end, struct tok *t,
		    struct err *e)
{
	const char *s = *cur, *p;
	int rc;

	while (s < end && *s == ' ')
		s++;
	if (s == end) {
		*cur = s;
		return 0;
	}
	p = s;
	while (s < end && *s != ' ')
		s++;
	*cur = s;
	rc = tok_split(p, (size_t)(s - p), t, e);
	return rc < 0 ? rc : 1;
}

static int tok_is(const struct tok *t, const char *key)
{
	return strlen(key) == t->kn && memcmp(t->k, key, t->kn) == 0;
}

/* Decimal u64 value of t in [min, max], with a message naming the key. */
static int tok_u64(const struct tok *t, uint64_t min, uint64_t max,
		   uint64_t *out, struct err *e)
{
	char sh[SHOW_MAX + 4];
	uint64_t v;
	int rc = dec_u64(t->v, t->vn, &v);

	if (rc == -EINVAL)
		return err_set(e, rc, "%.*s: \"%s\" is not a decimal number",
			       (int)t->kn, t->k, show(sh, t->v, t->vn));
	if (rc < 0 || v < min || v > max)
		return err_set(e, -ERANGE, "%.*s: \"%s\" out of range (%" PRIu64 "..%" PRIu64 ")",
			       (int)t->kn, t->k, show(sh, t->v, t->vn), min, max);
	*out = v;
	return 0;
}

static int tok_u32(const struct tok *t, uint32_t min, uint32_t max,
		   uint32_t *out, struct err *e)
{
	uint64_t v;
	int rc = tok_u64(t, min, max, &v, e);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

/* <sec>.<9-digit nsec>, sec a signed 64-bit decimal. */
static int tok_time(const struct tok *t, struct record_time *out, struct err *e)
{
	char sh[SHOW_MAX + 4];
	const char *s = t->v, *dot = memchr(t->v, '.', t->vn);
	size_t sn, fn;
	int neg = t->vn > 0 && s[0] == '-';
	uint64_t mag, frac;
	int rc;

	if (dot == NULL)
		goto bad;
	sn = (size_t)(dot - s) - (size_t)neg;
	fn = t->vn - (size_t)(dot - s) - 1;
	rc = dec_u64(s + neg, sn, &mag);
	if (rc == -EINVAL)
		goto bad;
	if (rc < 0 || mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return err_set(e, -ERANGE, "%.*s: seconds \"%s\" out of range (64-bit signed)",
			       (int)t->kn, t->k, show(sh, s, t->vn));
	rc = dec_u64(dot + 1, fn, &frac);
	if (rc == -EINVAL)
		goto bad;
	if (rc < 0 || frac >= NSEC_PER_SEC)
		return err_set(e, -ERANGE,
			       "%.*s: nanoseconds \"%s\" out of range (0..999999999)",
			       (int)t->kn, t->k, show(sh, dot + 1, fn));
	if (fn != 9)
		goto bad;
	out->sec = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	out->nsec = (uint32_t)frac;
	return 0;
bad:
	return err_set(e, -EINVAL,
		       "%.*s: \"%s\" is not <seconds>.<9-digit nanoseconds>",
		       (int)t->kn, t->k, show(sh, s, t->vn));
}

/* <k>+<m> with the ec ranges. */
static int parse_km(const char *s, size_t n, uint8_t *k, uint8_t *m,
		    const char *key, struct err *e)
{
	char sh[SHOW_MAX + 4];
	const char *plus = memchr(s, '+', n);
	uint64_t kv, mv;
	int rk, rm;

	if (plus == NULL)
		return err_set(e, -EINVAL, "%s: \"%s\" is not <k>+<m>", key, show(sh, s, n));
	rk = dec_u64(s, (size_t)(plus - s), &kv);
	rm = dec_u64(plus + 1, n - (size_t)(plus - s) - 1, &mv);
	if (rk == -EINVAL || rm == -EINVAL)
		return err_set(e, -EINVAL, "%s: \"%s\" is not <k>+<m>", key, show(sh, s, n));
	if (rk < 0 || rm < 0 || kv < 1 || kv > RECORD_EC_K_MAX || mv > RECORD_EC_M_MAX)
		return err_set(e, -ERANGE, "%s: \"%s\" out of range (k 1..%d, m 0..%d)",
			       key, show(sh, s, n), RECORD_EC_K_MAX, RECORD_EC_M_MAX);
	*k = (uint8_t)kv;
	*m = (uint8_t)mv;
	return 0;
}

/* ------------------------------------------------------------------------
 * block refs and unknown tokens
 * ---------------------------------------------------------------------- */

size_t record_ref_nhash(const struct record_ref *ref)
{
	return ref->k == 0 ? 1 : (size_t)ref->k + ref->m;
}

size_t record_refs_nhash(const struct record_refs *refs)
{
	size_t n = 0;

	for (size_t i = 0; i < refs->n; i++)
		n += record_ref_nhash(&refs->v[i]);
	return n;
}

/* A new zeroed slot at the end of refs. */
static struct record_ref *refs_push(struct record_refs *refs, struct err *e)
{
	if (refs->n == refs->alloc) {
		size_t na = refs->alloc ? 2 * refs->alloc : 4;
		struct record_ref *v = realloc(refs->v, na * sizeof(*v));

		if (v == NULL) {
			err_set(e, -ENOMEM, "out of memory");
			return NULL;
		}
		refs->v = v;
		refs->alloc = na;
	}
	memset(&refs->v[refs->n], 0, sizeof(refs->v[0]));
	return &refs->v[refs->n++];
}

static void refs_release(struct record_refs *refs)
{
	for (size_t i = 0; i < refs->n; i++)
		free(refs->v[i].h);
	free(refs->v);
	memset(refs, 0, sizeof(*refs));
}

static int refs_add(struct record_refs *refs, uint64_t off, uint64_t len,
		    unsigned k, unsigned m, const struct hash *h, struct err *e)
{
	size_t nh = k == 0 ? 1 : (size_t)k + m;
	struct hash *copy;
	struct record_ref *ref;

	copy = malloc(nh * sizeof(*copy));
	if (copy == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	ref = refs_push(refs, e);
	if (ref == NULL) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, h, nh * sizeof(*copy));
	ref->off = off;
	ref->len = len;
	ref->k = (uint8_t)k;
	ref->m = (uint8_t)m;
	ref->h = copy;
	return 0;
}

int record_refs_add_block(struct record_refs *refs, uint64_t off, uint64_t len,
			  const struct hash *h, struct err *e)
{
	return refs_add(refs, off, len, 0, 0, h, e);
}

int record_refs_add_stripe(struct record_refs *refs, uint64_t off, uint64_t len,
			   unsigned k, unsigned m, const struct hash *h,
			   struct err *e)
{
	if (k < 1 || k > RECORD_EC_K_MAX || m > RECORD_EC_M_MAX)
		return err_set(e, -EINVAL, "s: stripe %u+%u out of range (k 1..%d, m 0..%d)",
			       k, m, RECORD_EC_K_MAX, RECORD_EC_M_MAX);
	return refs_add(refs, off, len, k, m, h, e);
}

int record_refs_add_ref(struct record_refs *refs, const struct record_ref *ref,
			struct err *e)
{
	return ref->k == 0 ? record_refs_add_block(refs, ref->off, ref->len, ref->h, e)
			   : record_refs_add_stripe(refs, ref->off, ref->len, ref->k, ref->m,
						    ref->h, e);
}

int record_refs_for_each_hash(const struct record_refs *refs, record_hash_fn fn,
			      void *arg)
{
	for (size_t i = 0; i < refs->n; i++) {
		const struct record_ref *ref = &refs->v[i];

		for (size_t j = 0; j < record_ref_nhash(ref); j++) {
			int rc = fn(&ref->h[j], arg);
			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

/* A 64-hex lower-case hash; key names the field. */
static int parse_hash(const char *s, size_t n, struct hash *h, const char *key,
		      struct err *e)
{
	char sh[SHOW_MAX + 4];
	int ok = n == HASH_HEX_LEN;

	for (size_t i = 0; ok && i < n; i++)
		ok = is_lower_hex(s[i]);
	if (!ok || hash_from_hex(h, s, n) < 0)
		return err_set(e, -EINVAL,
			       "%s: bad hash \"%s\" (need %d lower-case hex digits)",
			       key, show(sh, s, n), HASH_HEX_LEN);
	return 0;
}

/* b=<off>:<len>:<hash> or s=<off>:<len>:<k>+<m>:<h1>,...,<hk+m>. */
static int parse_ref(const struct tok *t, int stripe, struct record_refs *refs,
		     struct err *e)
{
	const char *key = stripe ? "s" : "b";
	const char *f[4], *end = t->v + t->vn, *s = t->v;
	size_t fl[4], nf = stripe ? 4 : 3, i;
	struct hash hs[RECORD_EC_K_MAX + RECORD_EC_M_MAX];
	char sh[SHOW_MAX + 4];
	uint64_t off, len;
	uint8_t k = 0, m = 0;
	size_t nh = 1;
	int rc;

	/* split into nf fields on ':'; the last one takes the rest */
	for (i = 0; i < nf; i++) {
		const char *c = i + 1 < nf ? memchr(s, ':', (size_t)(end - s)) : end;

		if (c == NULL)
			return err_set(e, -EINVAL, "%s: \"%s\" is not %s", key,
				       show(sh, t->v, t->vn),
				       stripe ? "<offset>:<length>:<k>+<m>:<hashes>"
					      : "<offset>:<length>:<hash>");
		f[i] = s;
		fl[i] = (size_t)(c - s);
		s = c + (c < end);
	}
	rc = dec_u64(f[0], fl[0], &off);
	if (rc == 0 && off > INT64_MAX)
		rc = -ERANGE;
	if (rc < 0)
		return err_set(e, rc, "%s: offset \"%s\" %s", key, show(sh, f[0], fl[0]),
			       rc == -ERANGE ? "out of range" : "is not a decimal number");
	rc = dec_u64(f[1], fl[1], &len);
	if (rc == 0 && len > (uint64_t)INT64_MAX - off)
		rc = -ERANGE;
	if (rc < 0)
		return err_set(e, rc, "%s: length \"%s\" %s", key, show(sh, f[1], fl[1]),
			       rc == -ERANGE ? "out of range" : "is not a decimal number");
	if (stripe) {
		rc = parse_km(f[2], fl[2], &k, &m, key, e);
		if (rc < 0)
			return rc;
		nh = (size_t)k + m;
		s = f[3];
		for (i = 0; i < nh; i++) {
			const char *c = memchr(s, ',', (size_t)(end - s));
			size_t hl = c != NULL ? (size_t)(c - s) : (size_t)(end - s);

			if ((c == NULL) != (i + 1 == nh))
				return err_set(e, -EINVAL, "s: a %u+%u stripe needs %zu hashes",
					       k, m, nh);
			rc = parse_hash(s, hl, &hs[i], key, e);
			if (rc < 0)
				return rc;
			if (c != NULL)
				s = c + 1;
		}
	} else {
		rc = parse_hash(f[2], fl[2], &hs[0], key, e);
		if (rc < 0)
			return rc;
	}
	return refs_add(refs, off, len, k, m, hs, e);
}

int record_ref_parse(struct record_refs *refs, const char *token, size_t len,
		     struct err *e)
{
	char sh[SHOW_MAX + 4];
	struct tok t;
	int rc = tok_split(token, len, &t, e);

	if (rc < 0)
		return rc;
	if (!tok_is(&t, "b") && !tok_is(&t, "s"))
		return err_set(e, -EINVAL, "\"%s\" is not a block ref (b=... or s=...)",
			       show(sh, token, len));
	return parse_ref(&t, tok_is(&t, "s"), refs, e);
}

void record_refs_release(struct record_refs *refs)
{
	refs_release(refs);
}

/* Order, lengths and sizes of a ref list (the parser and the formatter). */
static int refs_check(const struct record_refs *refs, size_t max, uint64_t end,
		      const char *what, struct err *e)
{
	uint64_t prev_end = 0;

	if (refs->n > max)
		return err_set(e, -E2BIG, "b/s: %zu block refs in %s (max %zu)%s",
			       refs->n, what, max,
			       max == RECORD_INLINE_REFS ? "; use block-map pages" : "");
	for (size_t i = 0; i < refs->n; i++) {
		const struct record_ref *r = &refs->v[i];
		const char *key = r->k ? "s" : "b";

		if (r->h == NULL)
			return err_set(e, -EINVAL, "%s: ref %zu has no hashes", key, i + 1);
		if (r->k > RECORD_EC_K_MAX || r->m > RECORD_EC_M_MAX || (r->k == 0 && r->m))
			return err_set(e, -ERANGE, "%s: stripe %u+%u out of range", key,
				       r->k, r->m);
		if (r->len == 0)
			return err_set(e, -EINVAL, "%s: ref at offset %" PRIu64 " has length 0",
				       key, r->off);
		if (r->off > INT64_MAX || r->len > (uint64_t)INT64_MAX - r->off)
			return err_set(e, -ERANGE, "%s: ref at offset %" PRIu64
				       " extends past the largest file offset", key, r->off);
		if (r->off < prev_end)
			return err_set(e, -EINVAL, "%s: ref at offset %" PRIu64
				       " overlaps or precedes the previous one (which ends at %" PRIu64 ")",
				       key, r->off, prev_end);
		prev_end = r->off + r->len;
		if (prev_end > end)
			return err_set(e, -EINVAL, "%s: ref ends at %" PRIu64
				       ", past size %" PRIu64, key, prev_end, end);
	}
	return 0;
}

static void refs_put(struct out *o, const struct record_refs *refs)
{
	char hex[HASH_HEX_LEN + 1];

	for (size_t i = 0; i < refs->n; i++) {
		const struct record_ref *r = &refs->v[i];

		if (r->k == 0) {
			hash_to_hex(&r->h[0], hex);
			out_fmt(o, " b=%" PRIu64 ":%" PRIu64 ":%s", r->off, r->len, hex);
			continue;
		}
		out_fmt(o, " s=%" PRIu64 ":%" PRIu64 ":%u+%u:", r->off, r->len, r->k, r->m);
		for (size_t j = 0; j < record_ref_nhash(r); j++) {
			hash_to_hex(&r->h[j], hex);
			if (j > 0)
				out_ch(o, ',');
			out_put(o, hex, HASH_HEX_LEN);
		}
	}
}

int record_ref_format(const struct record_ref *ref, char *buf, size_t buflen,
		      struct err *e)
{
	struct record_refs one = { (struct record_ref *)ref, 1, 1 };
	struct out o = { buf, buflen, 0 };

	refs_put(&o, &one);
	/* refs_put leads with a space; drop it */
	if (o.len > 0 && o.len <= buflen)
		memmove(buf, buf + 1, o.len - 1);
	o.len--;
	return out_finish(&o, SIZE_MAX - 1, "ref", e);
}

static int unknown_add(struct record_unknown *u, const char *p, size_t n,
		       struct err *e)
{
	char *s;

	if (u->n == u->alloc) {
		size_t na = u->alloc ? 2 * u->alloc : 4;
		char **v = realloc(u->v, na * sizeof(*v));

		if (v == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		u->v = v;
		u->alloc = na;
	}
	s = strndup(p, n);
	if (s == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	u->v[u->n++] = s;
	return 0;
}

static void unknown_release(struct record_unknown *u)
{
	for (size_t i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
	memset(u, 0, sizeof(*u));
}

static int key_index(const char *const *keys, size_t n, const struct tok *t)
{
	for (size_t i = 0; i < n; i++)
		if (tok_is(t, keys[i]))
			return (int)i;
	return -1;
}

/* Unknown tokens a struct carries must be valid and truly unknown. */
static int unknown_check(const struct record_unknown *u, const char *const *keys,
			 size_t nkeys, struct err *e)
{
	struct tok t;
	char sh[SHOW_MAX + 4];

	for (size_t i = 0; i < u->n; i++) {
		int rc = u->v[i] == NULL ? -EINVAL :
			 tok_split(u->v[i], strlen(u->v[i]), &t, e);

		if (rc < 0)
			return u->v[i] == NULL ? err_set(e, rc, "unknown token %zu is NULL", i) : rc;
		if (key_index(keys, nkeys, &t) >= 0)
			return err_set(e, -EINVAL, "%.*s: a known key kept as unknown token \"%s\"",
				       (int)t.kn, t.k, show(sh, t.p, t.n));
	}
	return 0;
}

static void unknown_put(struct out *o, const struct record_unknown *u)
{
	for (size_t i = 0; i < u->n; i++) {
		out_ch(o, ' ');
		out_put(o, u->v[i], strlen(u->v[i]));
	}
}

/* v=<n> as the first token: -ENOTSUP for a newer version. */
static int parse_version(const struct tok *t, struct err *e)
{
	char sh[SHOW_MAX + 4];
	uint64_t v;
	int rc;

	if (!tok_is(t, "v"))
		return err_set(e, -EINVAL, "v: missing (a record starts with v=%d)",
			       RECORD_VERSION);
	rc = dec_u64(t->v, t->vn, &v);
	if (rc == -EINVAL || (rc == 0 && v == 0))
		return err_set(e, -EINVAL, "v: \"%s\" is not a record version",
			       show(sh, t->v, t->vn));
	if (rc < 0 || v > RECORD_VERSION)
		return err_set(e, -ENOTSUP,
			       "v: record version %s is newer than this client (%d)",
			       show(sh, t->v, t->vn), RECORD_VERSION);
	return 0;
}

/* ------------------------------------------------------------------------
 * inode records
 * ---------------------------------------------------------------------- */

enum ikey {
	IK_V, IK_TYPE, IK_MODE, IK_UID, IK_GID, IK_NLINK, IK_SIZE, IK_MTIME,
	IK_CTIME, IK_ATIME, IK_VER,     /* required, in this order */
	IK_GEN, IK_RDEV, IK_REP, IK_EC, IK_BUCKETS, IK_PAGES, IK_TARGET,
	IK_DATA, IK_B, IK_S, IK_PARENT, IK_XA, IK_N
};

static const char *const inode_keys[IK_N] = {
	"v", "type", "mode", "uid", "gid", "nlink", "size", "mtime", "ctime",
	"atime", "ver", "gen", "rdev", "rep", "ec", "buckets", "pages", "target",
	"data", "b", "s", "parent", "xa",
};

/* Which types may carry a key (NULL: all). */
static const char *const inode_key_types[IK_N] = {
	[IK_RDEV] = "cb", [IK_REP] = "fd", [IK_EC] = "fd", [IK_BUCKETS] = "d",
	[IK_PAGES] = "f", [IK_TARGET] = "l", [IK_DATA] = "f", [IK_B] = "f",
	[IK_S] = "f", [IK_PARENT] = "d",
};

#define IK_REPEATS ((1u << IK_TARGET) | (1u << IK_DATA) | (1u << IK_B) | (1u << IK_S) | \
		    (1u << IK_XA))

void record_inode_init(struct record_inode *r)
{
	memset(r, 0, sizeof(*r));
}

void record_inode_release(struct record_inode *r)
{
	free(r->data);
	free(r->target);
	refs_release(&r->refs);
	for (size_t i = 0; i < r->nxattrs; i++) {
		free(r->xattrs[i].name);
		free(r->xattrs[i].value);
	}
	free(r->xattrs);
	unknown_release(&r->unknown);
	record_inode_init(r);
}

/* Order of attribute names: bytes, then the shorter first. */
static int xattr_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c != 0 ? c : an < bn ? -1 : an > bn;
}

/* Index of name, or -(insertion point) - 1. */
static long xattr_index(const struct record_inode *r, const char *name, size_t namelen)
{
	size_t lo = 0, hi = r->nxattrs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = xattr_cmp(r->xattrs[mid].name, r->xattrs[mid].namelen, name, namelen);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

const struct record_xattr *record_inode_xattr_find(const struct record_inode *r,
						   const char *name, size_t namelen)
{
	long i = xattr_index(r, name, namelen);

	return i >= 0 ? &r->xattrs[i] : NULL;
}

static int xattr_name_check(const char *name, size_t namelen, struct err *e)
{
	if (namelen == 0 || memchr(name, '\0', namelen) != NULL)
		return err_set(e, -EINVAL, "xa: %s attribute name",
			       namelen == 0 ? "empty" : "NUL in an");
	if (namelen > RECORD_XATTR_NAME_MAX)
		return err_set(e, -ERANGE, "xa: name of %zu bytes (max %d)", namelen,
			       RECORD_XATTR_NAME_MAX);
	return 0;
}

/* Insert at position pos (name and value already owned). */
static int xattr_insert(struct record_inode *r, size_t pos, char *name, size_t namelen,
			uint8_t *value, size_t len, struct err *e)
{
	struct record_xattr *v = realloc(r->xattrs, (r->nxattrs + 1) * sizeof(*v));

	if (v == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	r->xattrs = v;
	memmove(v + pos + 1, v + pos, (r->nxattrs - pos) * sizeof(*v));
	v[pos] = (struct record_xattr){ name, namelen, value, len };
	r->nxattrs++;
	return 0;
}

int record_inode_xattr_set(struct record_inode *r, const char *name, size_t namelen,
			   const void *value, size_t len, struct err *e)
{
	uint8_t *val = NULL;
	char *nm = NULL;
	long i;
	int rc = xattr_name_check(name, namelen, e);

	if (rc < 0)
		return rc;
	if (len > RECORD_XATTR_VALUE_MAX)
		return err_set(e, -E2BIG, "xa: value of %zu bytes (max %d)", len,
			       RECORD_XATTR_VALUE_MAX);
	if (len > 0) {
		if ((val = malloc(len)) == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		memcpy(val, value, len);
	}
	i = xattr_index(r, name, namelen);
	if (i >= 0) {
		free(r->xattrs[i].value);
		r->xattrs[i].value = val;
		r->xattrs[i].len = len;
		return 0;
	}
	if ((nm = malloc(namelen + 1)) == NULL) {
		free(val);
		return err_set(e, -ENOMEM, "out of memory");
	}
	memcpy(nm, name, namelen);
	nm[namelen] = '\0';
	rc = xattr_insert(r, (size_t)(-i - 1), nm, namelen, val, len, e);
	if (rc < 0) {
		free(nm);
		free(val);
	}
	return rc;
}

int record_inode_xattr_remove(struct record_inode *r, const char *name, size_t namelen)
{
	long i = xattr_index(r, name, namelen);

	if (i < 0)
		return -ENODATA;
	free(r->xattrs[i].name);
	free(r->xattrs[i].value);
	memmove(r->xattrs + i, r->xattrs + i + 1, (r->nxattrs - (size_t)i - 1) * sizeof(*r->xattrs));
	if (--r->nxattrs == 0) {
		free(r->xattrs);
		r->xattrs = NULL;
	}
	return 0;
}

int record_inode_set_data(struct record_inode *r, const void *p, size_t len,
			  struct err *e)
{
	uint8_t *d = NULL;

	if (len > RECORD_INLINE_MAX)
		return err_set(e, -E2BIG, "data: %zu bytes inline (max %d)", len,
			       RECORD_INLINE_MAX);
	if (len > 0) {
		d = malloc(len);
		if (d == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		memcpy(d, p, len);
	}
	free(r->data);
	r->data = d;
	r->datalen = len;
	return 0;
}

int record_inode_set_target(struct record_inode *r, const char *p, size_t len,
			    struct err *e)
{
	char *t;

	if (len > RECORD_TARGET_MAX)
		return err_set(e, -ENAMETOOLONG, "target: %zu bytes (max %d)", len,
			       RECORD_TARGET_MAX);
	t = malloc(len + 1);
	if (t == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	memcpy(t, p, len);
	t[len] = '\0';
	free(r->target);
	r->target = t;
	r->targetlen = len;
	return 0;
}

static int type_allows(int key, int type)
{
	return inode_key_types[key] == NULL ||
	       (record_type_valid(type) && strchr(inode_key_types[key], type) != NULL);
}

/* The rules on field values, shared by the parser and the formatter. */
static int inode_check(const struct record_inode *r, struct err *e)
{
	int t = r->type;
	int rc;

	if (!record_type_valid(t))
		return err_set(e, -EINVAL, "type: %d is not one of f d l p s c b", t);
	if (r->mode > 07777)
		return err_set(e, -EINVAL, "mode: %o has bits beyond 07777", r->mode);
	if (r->size > INT64_MAX)
		return err_set(e, -ERANGE, "size: %" PRIu64 " out of range (max 2^63-1)",
			       r->size);
	if (r->mtime.nsec >= NSEC_PER_SEC || r->ctime.nsec >= NSEC_PER_SEC ||
	    r->atime.nsec >= NSEC_PER_SEC)
		return err_set(e, -ERANGE, "%s: nanoseconds out of range (0..999999999)",
			       r->mtime.nsec >= NSEC_PER_SEC ? "mtime" :
			       r->ctime.nsec >= NSEC_PER_SEC ? "ctime" : "atime");
	if (r->rdev != 0 && !type_allows(IK_RDEV, t))
		return err_set(e, -EINVAL, "rdev: not allowed for type %c", t);
	if (t == RECORD_DIR ? r->buckets == 0 : r->buckets != 0)
		return err_set(e, t == RECORD_DIR ? -ERANGE : -EINVAL,
			       t == RECORD_DIR ? "buckets: %c needs at least 1"
					       : "buckets: not allowed for type %c", t);
	if (r->parent != 0 && !type_allows(IK_PARENT, t))
		return err_set(e, -EINVAL, "parent: not allowed for type %c", t);
	if (r->pages != 0 && !type_allows(IK_PAGES, t))
		return err_set(e, -EINVAL, "pages: not allowed for type %c", t);
	switch (r->policy.kind) {
	case RECORD_POLICY_NONE:
		break;
	case RECORD_POLICY_REP:
		if (r->policy.rep < 1 || r->policy.rep > RECORD_REP_MAX)
			return err_set(e, -ERANGE, "rep: %u out of range (1..%d)",
				       r->policy.rep, RECORD_REP_MAX);
		if (!type_allows(IK_REP, t))
			return err_set(e, -EINVAL, "rep: not allowed for type %c", t);
		break;
	case RECORD_POLICY_EC:
		if (r->policy.k < 1 || r->policy.k > RECORD_EC_K_MAX ||
		    r->policy.m > RECORD_EC_M_MAX)
			return err_set(e, -ERANGE, "ec: %u+%u out of range (k 1..%d, m 0..%d)",
				       r->policy.k, r->policy.m, RECORD_EC_K_MAX,
				       RECORD_EC_M_MAX);
		if (!type_allows(IK_EC, t))
			return err_set(e, -EINVAL, "ec: not allowed for type %c", t);
		break;
	default:
		return err_set(e, -EINVAL, "rep/ec: bad policy kind %d", (int)r->policy.kind);
	}
	if (r->datalen > 0) {
		if (!type_allows(IK_DATA, t))
			return err_set(e, -EINVAL, "data: not allowed for type %c", t);
		if (r->datalen > RECORD_INLINE_MAX)
			return err_set(e, -E2BIG, "data: %zu bytes inline (max %d)",
				       r->datalen, RECORD_INLINE_MAX);
		if (r->data == NULL)
			return err_set(e, -EINVAL, "data: length %zu but no buffer", r->datalen);
		if (r->datalen != r->size)
			return err_set(e, -EINVAL,
				       "size: %" PRIu64 " does not match the %zu bytes of inline data",
				       r->size, r->datalen);
		if (r->refs.n > 0 || r->pages > 0)
			return err_set(e, -EINVAL, "data: not allowed together with %s",
				       r->pages > 0 ? "pages" : "block refs");
	}
	if (t == RECORD_LNK) {
		if (r->target == NULL || r->targetlen == 0)
			return err_set(e, -EINVAL, "target: missing (required for type l)");
		if (r->targetlen > RECORD_TARGET_MAX)
			return err_set(e, -ENAMETOOLONG, "target: %zu bytes (max %d)",
				       r->targetlen, RECORD_TARGET_MAX);
		if (memchr(r->target, '\0', r->targetlen) != NULL)
			return err_set(e, -EINVAL, "target: contains a NUL byte");
		if (r->size != r->targetlen)
			return err_set(e, -EINVAL,
				       "size: %" PRIu64 " does not match the %zu-byte target",
				       r->size, r->targetlen);
	} else if (r->targetlen != 0) {
		return err_set(e, -EINVAL, "target: not allowed for type %c", t);
	}
	if (r->refs.n > 0) {
		if (!type_allows(IK_B, t))
			return err_set(e, -EINVAL, "%s: not allowed for type %c",
				       r->refs.v[0].k ? "s" : "b", t);
		if (r->pages > 0)
			return err_set(e, -EINVAL,
				       "pages: not allowed together with inline block refs");
		rc = refs_check(&r->refs, RECORD_INLINE_REFS, r->size, "an inode", e);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < r->nxattrs; i++) {
		const struct record_xattr *x = &r->xattrs[i];

		if (x->name == NULL)
			return err_set(e, -EINVAL, "xa: attribute %zu has no name", i);
		rc = xattr_name_check(x->name, x->namelen, e);
		if (rc < 0)
			return rc;
		if (x->len > RECORD_XATTR_VALUE_MAX)
			return err_set(e, -E2BIG, "xa: value of %zu bytes (max %d)", x->len,
				       RECORD_XATTR_VALUE_MAX);
		if (x->len > 0 && x->value == NULL)
			return err_set(e, -EINVAL, "xa: length %zu but no buffer", x->len);
		if (i > 0 && xattr_cmp(r->xattrs[i - 1].name, r->xattrs[i - 1].namelen,
				       x->name, x->namelen) >= 0)
			return err_set(e, -EINVAL, "xa: names not in increasing order or "
				       "duplicate (\"%s\")", x->name);
	}
	return unknown_check(&r->unknown, inode_keys, IK_N, e);
}

static void chunked_b64_put(struct out *o, const uint8_t *p, size_t len)
{
	/* 186 bytes -> 248 chars: "data=" + chunk + " " fill one string */
	for (size_t i = 0; i < len; i += 186) {
		out_put(o, " data=", 6);
		b64_put(o, p + i, len - i < 186 ? len - i : 186);
	}
}

static void chunked_pct_put(struct out *o, const uint8_t *p, size_t len)
{
	/* "target=" + at most 247 encoded bytes + " " fill one string; an
	 * escape is never split between chunks */
	size_t cl = 0;

	for (size_t i = 0; i < len; i++) {
		size_t w = pct_needed(p[i]) ? 3 : 1;

		if (i == 0 || cl + w > 247) {
			out_put(o, " target=", 8);
			cl = 0;
		}
		pct_put(o, p + i, 1);
		cl += w;
	}
}

static void time_put(struct out *o, const char *key, const struct record_time *t)
{
	out_fmt(o, " %s=%" PRId64 ".%09" PRIu32, key, t->sec, t->nsec);
}

static void inode_put(struct out *o, const struct record_inode *r)
{
	out_fmt(o, "v=%d type=%c mode=%04" PRIo32 " uid=%" PRIu32 " gid=%" PRIu32
		" nlink=%" PRIu32 " size=%" PRIu64, RECORD_VERSION, r->type, r->mode,
		r->uid, r->gid, r->nlink, r->size);
	time_put(o, "mtime", &r->mtime);
	time_put(o, "ctime", &r->ctime);
	time_put(o, "atime", &r->atime);
	out_fmt(o, " ver=%" PRIu64, r->ver);
	if (r->gen != 0)
		out_fmt(o, " gen=%" PRIu64, r->gen);
	if (r->type == RECORD_CHR || r->type == RECORD_BLK)
		out_fmt(o, " rdev=%" PRIu64, r->rdev);
	if (r->policy.kind == RECORD_POLICY_REP)
		out_fmt(o, " rep=%u", r->policy.rep);
	else if (r->policy.kind == RECORD_POLICY_EC)
		out_fmt(o, " ec=%u+%u", r->policy.k, r->policy.m);
	if (r->type == RECORD_DIR)
		out_fmt(o, " buckets=%" PRIu32, r->buckets);
	if (r->parent != 0)
		out_fmt(o, " parent=%" PRIu64, r->parent);
	if (r->pages != 0)
		out_fmt(o, " pages=%" PRIu64, r->pages);
	if (r->targetlen > 0)
		chunked_pct_put(o, (const uint8_t *)r->target, r->targetlen);
	chunked_b64_put(o, r->data, r->datalen);
	refs_put(o, &r->refs);
	for (size_t i = 0; i < r->nxattrs; i++) {
		out_put(o, " xa=", 4);
		pct_put(o, (const uint8_t *)r->xattrs[i].name, r->xattrs[i].namelen);
		out_ch(o, ':');
		b64_put(o, r->xattrs[i].value, r->xattrs[i].len);
	}
	unknown_put(o, &r->unknown);
}

static size_t inode_text_limit(const struct record_inode *r)
{
	return r->type == RECORD_LNK || r->nxattrs > 0 || r->datalen > RECORD_INLINE_SHORT
		       ? RECORD_TEXT_LONG_MAX : RECORD_TEXT_MAX;
}

int record_inode_format(const struct record_inode *r, char *buf, size_t buflen,
			struct err *e)
{
	struct out o = { buf, buflen, 0 };
	int rc = inode_check(r, e);

	if (rc < 0) {
		if (buflen > 0)
			buf[0] = '\0';
		return rc;
	}
	inode_put(&o, r);
	return out_finish(&o, inode_text_limit(r), "record", e);
}

/* One known token into r. */
static int inode_token(struct record_inode *r, int k, const struct tok *t,
		       struct err *e)
{
	char sh[SHOW_MAX + 4];
	uint64_t v;
	int rc = 0;

	switch (k) {
	case IK_TYPE:
		if (t->vn != 1 || !record_type_valid(t->v[0]))
			return err_set(e, -EINVAL, "type: \"%s\" is not one of f d l p s c b",
				       show(sh, t->v, t->vn));
		r->type = t->v[0];
		return 0;
	case IK_MODE:
		v = 0;
		for (size_t i = 0; i < t->vn; i++) {
			if (t->v[i] < '0' || t->v[i] > '7' || i >= 8) {
				v = UINT64_MAX;
				break;
			}
			v = v * 8 + (uint64_t)(t->v[i] - '0');
		}
		if (t->vn == 0 || v > 07777)
			return err_set(e, -EINVAL, "mode: \"%s\" is not an octal mode (0000..7777)",
				       show(sh, t->v, t->vn));
		r->mode = (uint32_t)v;
		return 0;
	case IK_UID:
		return tok_u32(t, 0, UINT32_MAX, &r->uid, e);
	case IK_GID:
		return tok_u32(t, 0, UINT32_MAX, &r->gid, e);
	case IK_NLINK:
		return tok_u32(t, 0, UINT32_MAX, &r->nlink, e);
	case IK_SIZE:
		return tok_u64(t, 0, INT64_MAX, &r->size, e);
	case IK_MTIME:
		return tok_time(t, &r->mtime, e);
	case IK_CTIME:
		return tok_time(t, &r->ctime, e);
	case IK_ATIME:
		return tok_time(t, &r->atime, e);
	case IK_VER:
		return tok_u64(t, 0, UINT64_MAX, &r->ver, e);
	case IK_GEN:
		return tok_u64(t, 0, UINT64_MAX, &r->gen, e);
	case IK_RDEV:
		return tok_u64(t, 0, UINT64_MAX, &r->rdev, e);
	case IK_REP:
		rc = tok_u64(t, 1, RECORD_REP_MAX, &v, e);
		if (rc == 0) {
			r->policy.kind = RECORD_POLICY_REP;
			r->policy.rep = (uint8_t)v;
		}
		return rc;
	case IK_EC:
		rc = parse_km(t->v, t->vn, &r->policy.k, &r->policy.m, "ec", e);
		if (rc == 0)
			r->policy.kind = RECORD_POLICY_EC;
		return rc;
	case IK_BUCKETS:
		return tok_u32(t, 1, UINT32_MAX, &r->buckets, e);
	case IK_PAGES:
		return tok_u64(t, 0, UINT64_MAX, &r->pages, e);
	case IK_PARENT:
		return tok_u64(t, 1, UINT64_MAX, &r->parent, e);
	case IK_TARGET:
		if (r->target == NULL) {
			r->target = malloc(RECORD_TARGET_MAX + 1);
			if (r->target == NULL)
				return err_set(e, -ENOMEM, "out of memory");
		}
		rc = pct_decode((uint8_t *)r->target + r->targetlen,
				RECORD_TARGET_MAX - r->targetlen, t->v, t->vn, "target", e);
		if (rc == -ENOSPC)
			return err_set(e, -ENAMETOOLONG, "target: longer than %d bytes",
				       RECORD_TARGET_MAX);
		if (rc < 0)
			return rc;
		r->targetlen += (size_t)rc;
		r->target[r->targetlen] = '\0';
		return 0;
	case IK_DATA: {
		long n = b64_check(t->v, t->vn);

		if (n < 0)
			return err_set(e, -EINVAL, "data: \"%s\" is not canonical base64",
				       show(sh, t->v, t->vn));
		if ((size_t)n > RECORD_INLINE_MAX - r->datalen)
			return err_set(e, -E2BIG, "data: more than %d bytes inline",
				       RECORD_INLINE_MAX);
		if (r->data == NULL) {
			r->data = malloc(RECORD_INLINE_MAX);
			if (r->data == NULL)
				return err_set(e, -ENOMEM, "out of memory");
		}
		b64_decode(r->data + r->datalen, t->v, t->vn);
		r->datalen += (size_t)n;
		return 0;
	}
	case IK_B:
	case IK_S:
		/* bounded early so a long list costs nothing before -E2BIG */
		if (r->refs.n == RECORD_INLINE_REFS)
			return err_set(e, -E2BIG,
				       "b/s: more than %d block refs in an inode; use block-map pages",
				       RECORD_INLINE_REFS);
		return parse_ref(t, k == IK_S, &r->refs, e);
	case IK_XA: {
		/* <pct name>:<base64>; base64 has no ':', so the last one splits */
		const char *colon = NULL;
		char name[RECORD_XATTR_NAME_MAX + 1];
		uint8_t *val = NULL;
		char *nm;
		long n;

		for (size_t i = 0; i < t->vn; i++)
			if (t->v[i] == ':')
				colon = t->v + i;
		if (colon == NULL)
			return err_set(e, -EINVAL, "xa: \"%s\" is not <name>:<base64>",
				       show(sh, t->v, t->vn));
		rc = pct_decode((uint8_t *)name, RECORD_XATTR_NAME_MAX, t->v,
				(size_t)(colon - t->v), "xa", e);
		if (rc == -ENOSPC)
			return err_set(e, -ERANGE, "xa: name longer than %d bytes",
				       RECORD_XATTR_NAME_MAX);
		if (rc < 0)
			return rc;
		if (rc == 0 || memchr(name, '\0', (size_t)rc) != NULL)
			return err_set(e, -EINVAL, "xa: empty name or NUL in a name");
		n = b64_check(colon + 1, (size_t)(t->v + t->vn - colon - 1));
		if (n < 0)
			return err_set(e, -EINVAL, "xa: value of \"%s\" is not canonical base64",
				       show(sh, name, (size_t)rc));
		if (n > RECORD_XATTR_VALUE_MAX)
			return err_set(e, -E2BIG, "xa: value of %ld bytes (max %d)", n,
				       RECORD_XATTR_VALUE_MAX);
		if (n > 0) {
			if ((val = malloc((size_t)n)) == NULL)
				return err_set(e, -ENOMEM, "out of memory");
			b64_decode(val, colon + 1, (size_t)(t->v + t->vn - colon - 1));
		}
		if ((nm = malloc((size_t)rc + 1)) == NULL) {
			free(val);
			return err_set(e, -ENOMEM, "out of memory");
		}
		memcpy(nm, name, (size_t)rc);
		nm[rc] = '\0';
		/* appended: order and duplicates are checked by inode_check */
		rc = xattr_insert(r, r->nxattrs, nm, (size_t)rc, val, (size_t)n, e);
		if (rc < 0) {
			free(nm);
			free(val);
		}
		return rc;
	}
	}
	return err_set(e, -EINVAL, "%.*s: unexpected key", (int)t->kn, t->k);
}

static int inode_parse(struct record_inode *r, const char *text, size_t len,
		       struct err *e)
{
	const char *cur = text, *end = text + len;
	uint32_t seen = 0;
	struct tok t;
	int rc, first = 1;

	if (len > RECORD_TEXT_LONG_MAX)
		return err_set(e, -E2BIG, "record: %zu bytes of text (max %d)", len,
			       RECORD_TEXT_LONG_MAX);
	while ((rc = tok_next(&cur, end, &t, e)) > 0) {
		int k;

		if (first) {
			rc = parse_version(&t, e);
			if (rc < 0)
				return rc;
			seen |= 1u << IK_V;
			first = 0;
			continue;
		}
		k = key_index(inode_keys, IK_N, &t);
		if (k < 0) {
			rc = unknown_add(&r->unknown, t.p, t.n, e);
			if (rc < 0)
				return rc;
			continue;
		}
		if ((seen & (1u << k)) && !(IK_REPEATS & (1u << k)))
			return err_set(e, -EINVAL, "%s: duplicate key", inode_keys[k]);
		seen |= 1u << k;
		rc = inode_token(r, k, &t, e);
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (first)
		return err_set(e, -EINVAL, "v: missing (empty record)");
	for (int k = 0; k <= IK_VER; k++)
		if (!(seen & (1u << k)))
			return err_set(e, -EINVAL, "%s: missing (required)", inode_keys[k]);
	for (int k = IK_VER + 1; k < IK_N; k++)
		if ((seen & (1u << k)) && !type_allows(k, r->type))
			return err_set(e, -EINVAL, "%s: not allowed for type %c (only %s)",
				       inode_keys[k], r->type, inode_key_types[k]);
	if ((seen & (1u << IK_REP)) && (seen & (1u << IK_EC)))
		return err_set(e, -EINVAL, "ec: not allowed together with rep");
	if ((seen & (1u << IK_DATA)) && (seen & (1u << IK_PAGES)))
		return err_set(e, -EINVAL, "data: not allowed together with pages");
	if ((seen & (1u << IK_DATA)) && r->refs.n > 0)
		return err_set(e, -EINVAL, "data: not allowed together with block refs");
	if ((seen & (1u << IK_PAGES)) && r->refs.n > 0)
		return err_set(e, -EINVAL, "pages: not allowed together with inline block refs");
	if (r->type == RECORD_DIR && !(seen & (1u << IK_BUCKETS)))
		r->buckets = 1;
	if (r->datalen == 0 && r->data != NULL) {
		free(r->data);  /* data= with an empty value: nothing inline */
		r->data = NULL;
	}
	rc = inode_check(r, e);
	if (rc < 0)
		return rc;
	/* what goes over the wire and what this client would write back must
	 * both fit, so any record that parses can be formatted again */
	if (len > inode_text_limit(r))
		return err_set(e, -E2BIG, "record: %zu bytes of text (max %zu)", len,
			       inode_text_limit(r));
	{
		struct out o = { NULL, 0, 0 };

		inode_put(&o, r);
		if (o.len > inode_text_limit(r))
			return err_set(e, -E2BIG,
				       "record: %zu bytes of text when rewritten (max %zu)",
				       o.len, inode_text_limit(r));
	}
	return 0;
}

int record_inode_parse_text(struct record_inode *out, const char *text,
			    size_t len, struct err *e)
{
	int rc;

	record_inode_init(out);
	rc = inode_parse(out, text, len, e);
	if (rc < 0)
		record_inode_release(out);
	return rc < 0 ? rc : 0;
}

int record_inode_parse(struct record_inode *out, const struct record_str *strs,
		       size_t n, struct err *e)
{
	char *text;
	size_t len;
	int rc;

	record_inode_init(out);
	rc = strings_join_alloc(strs, n, RECORD_TEXT_LONG_MAX, &text, &len, e);
	if (rc < 0)
		return rc;
	rc = record_inode_parse_text(out, text, len, e);
	free(text);
	return rc;
}

int record_inode_for_each_hash(const struct record_inode *r, record_hash_fn fn,
			       void *arg)
{
	return record_refs_for_each_hash(&r->refs, fn, arg);
}

/* ------------------------------------------------------------------------
 * block-map pages
 * ---------------------------------------------------------------------- */

enum pkey { PK_V, PK_PAGE, PK_B, PK_S, PK_N };
static const char *const page_keys[PK_N] = { "v", "page", "b", "s" };

void record_page_init(struct record_page *p)
{
	memset(p, 0, sizeof(*p));
}

void record_page_release(struct record_page *p)
{
	refs_release(&p->refs);
	unknown_release(&p->unknown);
	record_page_init(p);
}

static int page_check(const struct record_page *p, struct err *e)
{
	int rc = refs_check(&p->refs, RECORD_PAGE_REFS, INT64_MAX, "a page", e);

	return rc < 0 ? rc : unknown_check(&p->unknown, page_keys, PK_N, e);
}

static void page_put(struct out *o, const struct record_page *p)
{
	out_fmt(o, "v=%d page=%" PRIu64, RECORD_VERSION, p->page);
	refs_put(o, &p->refs);
	unknown_put(o, &p->unknown);
}

int record_page_format(const struct record_page *p, char *buf, size_t buflen,
		       struct err *e)
{
	struct out o = { buf, buflen, 0 };
	int rc = page_check(p, e);

	if (rc < 0) {
		if (buflen > 0)
			buf[0] = '\0';
		return rc;
	}
	page_put(&o, p);
	return out_finish(&o, RECORD_PAGE_TEXT_MAX, "page", e);
}

static int page_parse(struct record_page *p, const char *text, size_t len,
		      struct err *e)
{
	const char *cur = text, *end = text + len;
	struct tok t;
	int rc, first = 1, seen_page = 0;

	if (len > RECORD_PAGE_TEXT_MAX)
		return err_set(e, -E2BIG, "page: %zu bytes of text (max %d)", len,
			       RECORD_PAGE_TEXT_MAX);
	while ((rc = tok_next(&cur, end, &t, e)) > 0) {
		int k;

		if (first) {
			rc = parse_version(&t, e);
			if (rc < 0)
				return rc;
			first = 0;
			continue;
		}
		k = key_index(page_keys, PK_N, &t);
		switch (k) {
		case PK_V:
			return err_set(e, -EINVAL, "v: duplicate key");
		case PK_PAGE:
			if (seen_page)
				return err_set(e, -EINVAL, "page: duplicate key");
			seen_page = 1;
			rc = tok_u64(&t, 0, UINT64_MAX, &p->page, e);
			break;
		case PK_B:
		case PK_S:
			if (p->refs.n == RECORD_PAGE_REFS)
				return err_set(e, -E2BIG, "b/s: more than %d block refs in a page",
					       RECORD_PAGE_REFS);
			rc = parse_ref(&t, k == PK_S, &p->refs, e);
			break;
		default:
			rc = unknown_add(&p->unknown, t.p, t.n, e);
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (first)
		return err_set(e, -EINVAL, "v: missing (empty record)");
	if (!seen_page)
		return err_set(e, -EINVAL, "page: missing (required)");
	rc = page_check(p, e);
	if (rc < 0)
		return rc;
	{
		struct out o = { NULL, 0, 0 };

		page_put(&o, p);
		if (o.len > RECORD_PAGE_TEXT_MAX)
			return err_set(e, -E2BIG,
				       "page: %zu bytes of text when rewritten (max %d)",
				       o.len, RECORD_PAGE_TEXT_MAX);
	}
	return 0;
}

int record_page_parse_text(struct record_page *out, const char *text,
			   size_t len, struct err *e)
{
	int rc;

	record_page_init(out);
	rc = page_parse(out, text, len, e);
	if (rc < 0)
		record_page_release(out);
	return rc < 0 ? rc : 0;
}

int record_page_parse(struct record_page *out, const struct record_str *strs,
		      size_t n, struct err *e)
{
	char *text;
	size_t len;
	int rc;

	record_page_init(out);
	rc = strings_join_alloc(strs, n, RECORD_PAGE_TEXT_MAX, &text, &len, e);
	if (rc < 0)
		return rc;
	rc = record_page_parse_text(out, text, len, e);
	free(text);
	return rc;
}

int record_page_for_each_hash(const struct record_page *p, record_hash_fn fn,
			      void *arg)
{
	return record_refs_for_each_hash(&p->refs, fn, arg);
}

/* ------------------------------------------------------------------------
 * listing entries
 * ---------------------------------------------------------------------- */

static int entry_name_check(const char *name, size_t len, struct err *e)
{
	if (len == 0)
		return err_set(e, -EINVAL, "name: empty");
	if (len > RECORD_NAME_MAX)
		return err_set(e, -EINVAL, "name: %zu bytes (max %d)", len, RECORD_NAME_MAX);
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return err_set(e, -EINVAL, "name: \"%.*s\" is not an entry name", (int)len, name);
	if (memchr(name, '/', len) != NULL)
		return err_set(e, -EINVAL, "name: contains '/'");
	if (memchr(name, '\0', len) != NULL)
		return err_set(e, -EINVAL, "name: contains a NUL byte");
	return 0;
}

int record_entry_set(struct record_entry *en, const char *name, size_t namelen,
		     uint64_t ino, int type, struct err *e)
{
	int rc = entry_name_check(name, namelen, e);

	if (rc < 0)
		return rc;
	if (ino == 0)
		return err_set(e, -EINVAL, "ino: 0 is not an inode number");
	if (!record_type_valid(type))
		return err_set(e, -EINVAL, "type: %d is not one of f d l p s c b", type);
	memset(en, 0, sizeof(*en));
	memcpy(en->name, name, namelen);
	en->namelen = namelen;
	en->ino = ino;
	en->type = type;
	return 0;
}

int record_entry_format(const struct record_entry *en, char *buf, size_t buflen,
			struct err *e)
{
	struct out o = { buf, buflen, 0 };
	struct record_entry chk;
	int rc = en->namelen > RECORD_NAME_MAX ?
		 err_set(e, -EINVAL, "name: %zu bytes (max %d)", en->namelen, RECORD_NAME_MAX) :
		 record_entry_set(&chk, en->name, en->namelen, en->ino, en->type, e);

	if (rc < 0) {
		if (buflen > 0)
			buf[0] = '\0';
		return rc;
	}
	pct_put(&o, (const uint8_t *)en->name, en->namelen);
	out_fmt(&o, " %" PRIu64 " %c", en->ino, en->type);
	return out_finish(&o, RECORD_TEXT_MAX, "entry", e);
}

static int entry_parse(struct record_entry *en, const char *text, size_t len,
		       struct err *e)
{
	char sh[SHOW_MAX + 4];
	const char *end = text + len, *s1, *s2;
	uint8_t name[RECORD_NAME_MAX];
	uint64_t ino;
	int n;

	if (len > RECORD_TEXT_MAX)
		return err_set(e, -E2BIG, "entry: %zu bytes of text (max %d)", len,
			       RECORD_TEXT_MAX);
	s1 = memchr(text, ' ', len);
	s2 = s1 != NULL ? memchr(s1 + 1, ' ', (size_t)(end - s1 - 1)) : NULL;
	if (s2 == NULL || memchr(s2 + 1, ' ', (size_t)(end - s2 - 1)) != NULL)
		return err_set(e, -EINVAL, "entry: \"%s\" is not \"<name> <ino> <type>\"",
			       show(sh, text, len));
	n = pct_decode(name, sizeof(name), text, (size_t)(s1 - text), "name", e);
	if (n == -ENOSPC)
		return err_set(e, -EINVAL, "name: longer than %d bytes", RECORD_NAME_MAX);
	if (n < 0)
		return n;
	if (dec_canonical_ino(s1 + 1, (size_t)(s2 - s1 - 1), &ino) < 0)
		return err_set(e, -EINVAL, "ino: \"%s\" is not an inode number",
			       show(sh, s1 + 1, (size_t)(s2 - s1 - 1)));
	if (end - s2 - 1 != 1 || !record_type_valid(s2[1]))
		return err_set(e, -EINVAL, "type: \"%s\" is not one of f d l p s c b",
			       show(sh, s2 + 1, (size_t)(end - s2 - 1)));
	return record_entry_set(en, (const char *)name, (size_t)n, ino, s2[1], e);
}

int record_entry_parse_text(struct record_entry *out, const char *text,
			    size_t len, struct err *e)
{
	int rc = entry_parse(out, text, len, e);

	if (rc < 0)
		memset(out, 0, sizeof(*out));
	return rc < 0 ? rc : 0;
}

int record_entry_parse(struct record_entry *out, const struct record_str *strs,
		       size_t n, struct err *e)
{
	char *text;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = strings_join_alloc(strs, n, RECORD_TEXT_MAX, &text, &len, e);
	if (rc < 0)
		return rc;
	rc = record_entry_parse_text(out, text, len, e);
	free(text);
	return rc;
}

/* ------------------------------------------------------------------------
 * lock records
 * ---------------------------------------------------------------------- */

static int lock_owner_check(const char *s, size_t n, struct err *e)
{
	char sh[SHOW_MAX + 4];

	if (n == 0 || n > RECORD_LOCK_OWNER_MAX)
		return err_set(e, -EINVAL, "o: owner \"%s\" is not 1..%d bytes",
			       show(sh, s, n), RECORD_LOCK_OWNER_MAX);
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      s[i] == '.' || s[i] == '-'))
			return err_set(e, -EINVAL, "o: owner \"%s\" has a byte outside [0-9a-z.-]",
				       show(sh, s, n));
	return 0;
}

static int lock_check(const struct record_lock *l, struct err *e)
{
	if (l->type != 's' && l->type != 'e')
		return err_set(e, -EINVAL, "type: not sh or ex");
	if (l->n == 0 || l->n > RECORD_LOCK_HOLDERS)
		return err_set(e, -E2BIG, "o: %zu holders (1..%d)", l->n, RECORD_LOCK_HOLDERS);
	if (l->type == 'e' && l->n != 1)
		return err_set(e, -EINVAL, "o: an exclusive lock has %zu holders (1)", l->n);
	for (size_t i = 0; i < l->n; i++) {
		int rc = lock_owner_check(l->h[i].owner, strnlen(l->h[i].owner,
						RECORD_LOCK_OWNER_MAX + 1), e);
		if (rc < 0)
			return rc;
		if (l->h[i].exp < 0)
			return err_set(e, -ERANGE, "o: negative lease end");
		for (size_t j = 0; j < i; j++)
			if (strcmp(l->h[i].owner, l->h[j].owner) == 0)
				return err_set(e, -EINVAL, "o: duplicate owner \"%s\"",
					       l->h[i].owner);
	}
	return 0;
}

int record_lock_format(const struct record_lock *l, char *buf, size_t buflen,
		       struct err *e)
{
	struct out o = { buf, buflen, 0 };
	int rc = lock_check(l, e);

	if (rc < 0) {
		if (buflen > 0)
			buf[0] = '\0';
		return rc;
	}
	out_fmt(&o, "v=%d type=%s", RECORD_VERSION, l->type == 'e' ? "ex" : "sh");
	for (size_t i = 0; i < l->n; i++)
		out_fmt(&o, " o=%s:%" PRId64, l->h[i].owner, l->h[i].exp);
	return out_finish(&o, RECORD_TEXT_MAX, "lock record", e);
}

int record_lock_parse_text(struct record_lock *out, const char *text, size_t len,
			   struct err *e)
{
	const char *cur = text, *end = text + len;
	char sh[SHOW_MAX + 4];
	struct tok t;
	int rc, first = 1, have_type = 0;

	memset(out, 0, sizeof(*out));
	if (len > RECORD_TEXT_MAX)
		return err_set(e, -E2BIG, "lock record: %zu bytes of text (max %d)", len,
			       RECORD_TEXT_MAX);
	while ((rc = tok_next(&cur, end, &t, e)) > 0) {
		if (first) {
			if ((rc = parse_version(&t, e)) < 0)
				goto fail;
			first = 0;
		} else if (tok_is(&t, "type")) {
			if (have_type) {
				rc = err_set(e, -EINVAL, "type: duplicate key");
				goto fail;
			}
			have_type = 1;
			if (t.vn == 2 && memcmp(t.v, "sh", 2) == 0) {
				out->type = 's';
			} else if (t.vn == 2 && memcmp(t.v, "ex", 2) == 0) {
				out->type = 'e';
			} else {
				rc = err_set(e, -EINVAL, "type: \"%s\" is not sh or ex",
					     show(sh, t.v, t.vn));
				goto fail;
			}
		} else if (tok_is(&t, "o")) {
			const char *colon = memchr(t.v, ':', t.vn);
			uint64_t exp;

			if (out->n == RECORD_LOCK_HOLDERS) {
				rc = err_set(e, -E2BIG, "o: more than %d holders",
					     RECORD_LOCK_HOLDERS);
				goto fail;
			}
			if (colon == NULL) {
				rc = err_set(e, -EINVAL, "o: \"%s\" is not <owner>:<exp>",
					     show(sh, t.v, t.vn));
				goto fail;
			}
			if ((rc = lock_owner_check(t.v, (size_t)(colon - t.v), e)) < 0)
				goto fail;
			rc = dec_u64(colon + 1, (size_t)(t.v + t.vn - colon - 1), &exp);
			if (rc < 0 || exp > INT64_MAX) {
				rc = err_set(e, rc == -EINVAL ? -EINVAL : -ERANGE,
					     "o: lease end \"%s\" is not a time",
					     show(sh, colon + 1, (size_t)(t.v + t.vn - colon - 1)));
				goto fail;
			}
			memcpy(out->h[out->n].owner, t.v, (size_t)(colon - t.v));
			out->h[out->n].exp = (int64_t)exp;
			out->n++;
		} else {
			rc = err_set(e, -EINVAL, "%.*s: unknown key in a lock record",
				     (int)t.kn, t.k);
			goto fail;
		}
	}
	if (rc < 0)
		goto fail;
	if (first) {
		rc = err_set(e, -EINVAL, "v: missing (empty record)");
		goto fail;
	}
	if (!have_type) {
		rc = err_set(e, -EINVAL, "type: missing (required)");
		goto fail;
	}
	if ((rc = lock_check(out, e)) < 0)
		goto fail;
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return rc;
}
