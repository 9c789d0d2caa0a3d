/* conf: parser and typed getters for `key = value` files (see conf.h). The
 * whole file is read, then split into lines; every entry is one allocation
 * holding its key and its decoded value. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"

/* -------------------------------------------------------------- parsing -- */

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int is_key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '.' || ch == '-';
}

static int line_error(const struct config *c, unsigned line, struct err *e,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int line_error(const struct config *c, unsigned line, struct err *e,
		      const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(e, -EINVAL, "%s:%u: %s", c->name, line, msg);
}

static int add_entry(struct config *c, const char *key, size_t klen,
		     const char *val, size_t vlen, unsigned line, struct err *e)
{
	struct config_entry *ent;
	char *mem;

	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		void *v = realloc(c->entries, cap * sizeof(*c->entries));

		if (v == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		c->entries = v;
		c->cap = cap;
	}
	mem = malloc(klen + vlen + 2);
	if (mem == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	memcpy(mem, key, klen);
	mem[klen] = '\0';
	memcpy(mem + klen + 1, val, vlen);
	mem[klen + 1 + vlen] = '\0';
	ent = &c->entries[c->n++];
	ent->key = mem;
	ent->value = mem + klen + 1;
	ent->line = line;
	return 0;
}

/* Decode the quoted value starting after the opening quote at s[*at] into
 * out (at least n bytes); *at ends after the closing quote. */
static int parse_quoted(const struct config *c, unsigned line, const char *s,
			size_t n, size_t *at, char *out, size_t *olen,
			struct err *e)
{
	size_t i = *at, o = 0;

	for (; i < n; i++) {
		if (s[i] == '"') {
			*at = i + 1;
			*olen = o;
			return 0;
		}
		if (s[i] == '\\') {
			if (i + 1 == n)
				break;
			if (s[i + 1] != '"' && s[i + 1] != '\\')
				return line_error(c, line, e,
						  "invalid escape '\\%c' in quoted value (only \\\" and \\\\)",
						  s[i + 1]);
			i++;
		}
		out[o++] = s[i];
	}
	return line_error(c, line, e, "unterminated quoted value");
}

/* One line of n bytes, without its line ending. */
static int parse_line(struct config *c, unsigned line, const char *s, size_t n,
		      struct err *e)
{
	char val[CONFIG_LINE_MAX];
	size_t i = 0, k0, k1, vlen = 0;
	const char *eq;

	while (i < n && is_space(s[i]))
		i++;
	if (i == n || s[i] == '#')
		return 0;
	k0 = i;
	while (i < n && is_key_char(s[i]))
		i++;
	k1 = i;
	while (i < n && is_space(s[i]))
		i++;
	if (k1 == k0 || i == n || s[i] != '=') {
		size_t end;

		eq = memchr(s + k0, '=', n - k0);
		if (eq == NULL)
			return line_error(c, line, e, "expected 'key = value'");
		end = (size_t)(eq - s);
		while (end > k0 && is_space(s[end - 1]))
			end--;
		if (end == k0)
			return line_error(c, line, e, "missing key before '='");
		return line_error(c, line, e,
				  "invalid key '%.*s' (allowed: a-z 0-9 _ . -)",
				  (int)(end - k0), s + k0);
	}
	i++;
	while (i < n && is_space(s[i]))
		i++;
	if (i < n && s[i] == '"') {
		int rc;

		i++;
		rc = parse_quoted(c, line, s, n, &i, val, &vlen, e);
		if (rc < 0)
			return rc;
		while (i < n && is_space(s[i]))
			i++;
		if (i < n && s[i] != '#')
			return line_error(c, line, e,
					  "unexpected text after quoted value");
	} else {
		size_t v0 = i, v1;

		while (i < n && !(s[i] == '#' && is_space(s[i - 1])))
			i++;
		v1 = i;
		while (v1 > v0 && is_space(s[v1 - 1]))
			v1--;
		if (v1 == v0)
			return line_error(c, line, e,
					  "missing value for '%.*s' (write \"\" for an empty value)",
					  (int)(k1 - k0), s + k0);
		vlen = v1 - v0;
		memcpy(val, s + v0, vlen);
	}
	return add_entry(c, s + k0, k1 - k0, val, vlen, line, e);
}

struct config *config_parse(const char *text, size_t len, const char *name,
			    struct err *e)
{
	struct config *c = calloc(1, sizeof(*c));
	unsigned line = 1;
	size_t pos = 0;

	if (c == NULL || (c->name = strdup(name ? name : "(config)")) == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	while (pos < len) {
		const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		size_t full = n;

		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > CONFIG_LINE_MAX) {
			line_error(c, line, e, "line too long (more than %d bytes)",
				   CONFIG_LINE_MAX);
			goto fail;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)s[i];

			if (ch == '\0') {
				line_error(c, line, e, "NUL byte in line");
				goto fail;
			}
			if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
				line_error(c, line, e, "control character 0x%02x in line", ch);
				goto fail;
			}
		}
		if (parse_line(c, line, s, n, e) < 0)
			goto fail;
		pos += full + 1;
		line++;
	}
	return c;
fail:
	config_free(c);
	return NULL;
}

struct config *config_parse_string(const char *text, const char *name,
				   struct err *e)
{
	return config_parse(text, strlen(text), name, e);
}

struct config *config_load(const char *path, struct err *e)
{
	struct config *c = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		err_set(e, -errno, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			size_t ncap = cap ? 2 * cap : 8192;
			char *v;

			if (cap >= CONFIG_FILE_MAX + 1) {
				err_set(e, -EFBIG, "%s: larger than %u bytes", path,
					CONFIG_FILE_MAX);
				goto fail;
			}
			if (ncap > CONFIG_FILE_MAX + 1)
				ncap = CONFIG_FILE_MAX + 1;
			v = realloc(buf, ncap);
			if (v == NULL) {
				err_set(e, -ENOMEM, "out of memory");
				goto fail;
			}
			buf = v;
			cap = ncap;
		}
		r = read(fd, buf + len, cap - len);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err_set(e, -errno, "%s: %s", path, strerror(errno));
			goto fail;
		}
		len += (size_t)r;
	}
	c = config_parse(buf, len, path, e);
fail:
	free(buf);
	close(fd);
	return c;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++)
		free((char *)c->entries[i].key);
	free(c->entries);
	free(c->name);
	free(c);
}

/* ------------------------------------------------------------ looking up -- */

const struct config_entry *config_next(const struct config *c, const char *key,
				       const struct config_entry *prev)
{
	size_t i = prev ? (size_t)(prev - c->entries) + 1 : 0;

	for (; i < c->n; i++)
		if (strcmp(c->entries[i].key, key) == 0)
			return &c->entries[i];
	return NULL;
}

const struct config_entry *config_find(const struct config *c, const char *key)
{
	for (size_t i = c->n; i > 0; i--)
		if (strcmp(c->entries[i - 1].key, key) == 0)
			return &c->entries[i - 1];
	return NULL;
}

const char *config_get(const struct config *c, const char *key)
{
	const struct config_entry *ent = config_find(c, key);

	return ent ? ent->value : NULL;
}

int config_get_all(const struct config *c, const char *key, config_each_fn fn,
		   void *arg)
{
	for (const struct config_entry *ent = config_next(c, key, NULL); ent;
	     ent = config_next(c, key, ent)) {
		int r = fn(ent, arg);

		if (r != 0)
			return r;
	}
	return 0;
}

size_t config_count(const struct config *c, const char *key)
{
	size_t n = 0;

	for (const struct config_entry *ent = config_next(c, key, NULL); ent;
	     ent = config_next(c, key, ent))
		n++;
	return n;
}

/* ---------------------------------------------------------- value types -- */

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit duration_units[] = {
	{ "", 1000 }, { "ms", 1 }, { "s", 1000 }, { "m", 60000 },
	{ "h", 3600000 }, { "d", 86400000 }, { NULL, 0 },
};

#define KI(n) ((uint64_t)1 << (10 * (n)))
static const struct unit size_units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", KI(1) }, { "kib", KI(1) }, { "kb", 1000 },
	{ "m", KI(2) }, { "mib", KI(2) }, { "mb", 1000000 },
	{ "g", KI(3) }, { "gib", KI(3) }, { "gb", 1000000000 },
	{ "t", KI(4) }, { "tib", KI(4) }, { "tb", UINT64_C(1000000000000) },
	{ "p", KI(5) }, { "pib", KI(5) }, { "pb", UINT64_C(1000000000000000) },
	{ NULL, 0 },
};

/* NUMBER[.FRACTION][spaces]UNIT -> NUMBER.FRACTION * unit, which must be a
 * whole number. icase: units in any case. */
static int parse_scaled(const char *s, const struct unit *units, int icase,
			uint64_t *out)
{
	uint64_t whole = 0, frac = 0, scale = 1;
	const struct unit *u;
	unsigned __int128 v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (whole > (UINT64_MAX - d) / 10)
			return -ERANGE;
		whole = whole * 10 + d;
	}
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (scale == UINT64_C(1000000000000000000))
				return -EINVAL;         /* 18 decimals are plenty */
			frac = frac * 10 + (uint64_t)(*s - '0');
			scale *= 10;
		}
	}
	while (is_space(*s))
		s++;
	for (u = units; u->name; u++)
		if (icase ? strcasecmp(s, u->name) == 0 : strcmp(s, u->name) == 0)
			break;
	if (u->name == NULL)
		return -EINVAL;
	if (((unsigned __int128)frac * u->mult) % scale != 0)
		return -EINVAL;         /* finer than the smallest unit */
	v = (unsigned __int128)whole * u->mult +
	    (unsigned __int128)frac * u->mult / scale;
	if (v > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

int config_parse_u64(const char *s, uint64_t *out)
{
	static const struct unit none[] = { { "", 1 }, { NULL, 0 } };

	if (strchr(s, '.') != NULL)
		return -EINVAL;
	return parse_scaled(s, none, 0, out);
}

int config_parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int config_parse_duration(const char *s, uint64_t *out_ms)
{
	return parse_scaled(s, duration_units, 0, out_ms);
}

int config_parse_size(const char *s, uint64_t *out)
{
	return parse_scaled(s, size_units, 1, out);
}

/* ------------------------------------------------------- typed getters -- */

typedef int (*parse_fn)(const char *s, uint64_t *out);

/* The shared body of the numeric getters; what names the kind of value. */
static int get_number(const struct config *c, const char *key, uint64_t def,
		      uint64_t min, uint64_t max, uint64_t *out, struct err *e,
		      parse_fn parse, const char *what, const char *unit)
{
	const struct config_entry *ent = config_find(c, key);
	uint64_t v;
	int rc;

	if (ent == NULL) {
		*out = def;
		return 0;
	}
	rc = parse(ent->value, &v);
	if (rc == -ERANGE)
		return config_error(c, ent, e, -ERANGE, "%s: '%s' is too large",
				    key, ent->value);
	if (rc < 0)
		return config_error(c, ent, e, -EINVAL, "%s: '%s' is not %s",
				    key, ent->value, what);
	if (v < min || v > max)
		return config_error(c, ent, e, -ERANGE,
				    "%s: '%s' is out of range [%llu, %llu]%s",
				    key, ent->value, (unsigned long long)min,
				    (unsigned long long)max, unit);
	*out = v;
	return 0;
}

int config_get_u64(const struct config *c, const char *key, uint64_t def,
		   uint64_t min, uint64_t max, uint64_t *out, struct err *e)
{
	return get_number(c, key, def, min, max, out, e, config_parse_u64,
			  "a non-negative decimal integer", "");
}

int config_get_duration(const struct config *c, const char *key, uint64_t def_ms,
			uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms,
			struct err *e)
{
	return get_number(c, key, def_ms, min_ms, max_ms, out_ms, e,
			  config_parse_duration,
			  "a duration (like 250ms, 10s, 5m, 1h, 1d; no unit: seconds)",
			  " ms");
}

int config_get_size(const struct config *c, const char *key, uint64_t def,
		    uint64_t min, uint64_t max, uint64_t *out, struct err *e)
{
	return get_number(c, key, def, min, max, out, e, config_parse_size,
			  "a size (like 4096, 512k, 4MiB, 1G, 10GB)", " bytes");
}

int config_get_bool(const struct config *c, const char *key, int def, int *out,
		    struct err *e)
{
	const struct config_entry *ent = config_find(c, key);

	if (ent == NULL) {
		*out = def;
		return 0;
	}
	if (config_parse_bool(ent->value, out) < 0)
		return config_error(c, ent, e, -EINVAL,
				    "%s: '%s' is not a boolean (yes/no, true/false, on/off, 1/0)",
				    key, ent->value);
	return 0;
}

/* --------------------------------------------------------------- checks -- */

int config_check_keys(const struct config *c, const char *const *known,
		      struct err *e)
{
	for (size_t i = 0; i < c->n; i++) {
		const char *const *k = known;

		while (*k && strcmp(*k, c->entries[i].key) != 0)
			k++;
		if (*k == NULL)
			return config_error(c, &c->entries[i], e, -EINVAL,
					    "unknown key '%s'", c->entries[i].key);
	}
	return 0;
}

int config_error(const struct config *c, const struct config_entry *ent,
		 struct err *e, int code, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ent != NULL)
		return err_set(e, code, "%s:%u: %s", c->name, ent->line, msg);
	return err_set(e, code, "%s: %s", c->name, msg);
}
