/* promtext: parse Prometheus text and compute rates and quantiles (see
 * promtext.h). Each sample is one allocation holding its strings, so a
 * scrape of a few hundred lines costs a few hundred mallocs and no copies
 * of the input. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

static int is_name_ch(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

static int promtext_push(struct promtext *p, struct promtext_sample *s)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct promtext_sample **v = realloc(p->v, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = s;
	return 0;
}

/* Parse one sample line s[0..len) (not a comment, not blank). */
static int parse_line(struct promtext *p, const char *s, size_t len, size_t lineno,
		      struct err *e)
{
	/* The strings never outgrow the line: names and values only shrink. */
	struct promtext_sample *smp = calloc(1, sizeof(*smp) + len + 1);
	char *out = (char *)(smp + 1), *end;
	const char *c = s, *lim = s + len;
	char num[64];
	size_t n;

	if (smp == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	if (c == lim || !is_name_ch(*c, 1))
		goto bad;
	smp->name = out;
	while (c < lim && is_name_ch(*c, 0))
		*out++ = *c++;
	*out++ = '\0';
	if (c < lim && *c == '{') {
		c++;
		for (;;) {
			while (c < lim && (*c == ' ' || *c == ','))
				c++;
			if (c < lim && *c == '}') {
				c++;
				break;
			}
			if (c == lim || !is_name_ch(*c, 1) || smp->nlabels == PROMTEXT_MAX_LABELS)
				goto bad;
			smp->key[smp->nlabels] = out;
			while (c < lim && is_name_ch(*c, 0))
				*out++ = *c++;
			*out++ = '\0';
			if (lim - c < 2 || c[0] != '=' || c[1] != '"')
				goto bad;
			c += 2;
			smp->val[smp->nlabels] = out;
			while (c < lim && *c != '"') {
				if (*c == '\\' && c + 1 < lim) {
					c++;
					*out++ = *c == 'n' ? '\n' : *c;
					c++;
				} else {
					*out++ = *c++;
				}
			}
			if (c == lim)
				goto bad;
			c++;
			*out++ = '\0';
			smp->nlabels++;
		}
	}
	while (c < lim && (*c == ' ' || *c == '\t'))
		c++;
	for (n = 0; c + n < lim && c[n] != ' ' && c[n] != '\t'; n++)
		;
	if (n == 0 || n >= sizeof(num))
		goto bad;
	memcpy(num, c, n);
	num[n] = '\0';
	smp->value = strtod(num, &end);
	if (*end != '\0')
		goto bad;
	if (promtext_push(p, smp) < 0) {
		free(smp);
		return err_set(e, -ENOMEM, "out of memory");
	}
	return 0;
bad:
	free(smp);
	return err_set(e, -EINVAL, "line %zu: not a sample: %.60s", lineno, s);
}

int promtext_parse(struct promtext *p, const char *text, size_t len, struct err *e)
{
	const char *c = text, *lim = text + len;
	size_t lineno = 0;

	while (c < lim) {
		const char *nl = memchr(c, '\n', (size_t)(lim - c));
		const char *eol = nl != NULL ? nl : lim;
		const char *s = c;
		int r;

		lineno++;
		while (s < eol && (*s == ' ' || *s == '\t'))
			s++;
		while (eol > s && (eol[-1] == '\r' || eol[-1] == ' '))
			eol--;
		if (s < eol && *s != '#') {
			r = parse_line(p, s, (size_t)(eol - s), lineno, e);
			if (r < 0)
				return r;
		}
		c = nl != NULL ? nl + 1 : lim;
	}
	return 0;
}

void promtext_release(struct promtext *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

const char *promtext_label(const struct promtext_sample *s, const char *key)
{
	for (size_t i = 0; i < s->nlabels; i++)
		if (strcmp(s->key[i], key) == 0)
			return s->val[i];
	return NULL;
}

int promtext_matches(const struct promtext_sample *s, const char *match)
{
	const char *c = match;

	while (c != NULL && *c != '\0') {
		const char *eq = strchr(c, '='), *comma, *v;
		size_t klen, vlen;
		char key[128];

		if (eq == NULL)
			return 0;
		comma = strchr(eq, ',');
		klen = (size_t)(eq - c);
		vlen = comma != NULL ? (size_t)(comma - eq - 1) : strlen(eq + 1);
		if (klen >= sizeof(key))
			return 0;
		memcpy(key, c, klen);
		key[klen] = '\0';
		v = promtext_label(s, key);
		if (v == NULL || strlen(v) != vlen || memcmp(v, eq + 1, vlen) != 0)
			return 0;
		c = comma != NULL ? comma + 1 : NULL;
	}
	return 1;
}

double promtext_sum(const struct promtext *p, const char *name, const char *match,
		    size_t *found)
{
	double sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct promtext_sample *s = p->v[i];

		if (strcmp(s->name, name) == 0 && promtext_matches(s, match)) {
			sum += s->value;
			n++;
		}
	}
	if (found != NULL)
		*found = n;
	return sum;
}

/* The index of bound le in h, inserting it in order; -E2BIG if full. */
static int hist_slot(struct promtext_hist *h, double le)
{
	size_t i = 0;

	while (i < h->n && h->le[i] < le)
		i++;
	if (i < h->n && h->le[i] == le)
		return (int)i;
	if (h->n == PROMTEXT_MAX_BUCKETS)
		return -E2BIG;
	memmove(&h->le[i + 1], &h->le[i], (h->n - i) * sizeof(h->le[0]));
	memmove(&h->cum[i + 1], &h->cum[i], (h->n - i) * sizeof(h->cum[0]));
	h->le[i] = le;
	h->cum[i] = 0;
	h->n++;
	return (int)i;
}

int promtext_hist(const struct promtext *p, const char *name, const char *match,
		  struct promtext_hist *h)
{
	size_t nlen = strlen(name);

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < p->n; i++) {
		const struct promtext_sample *s = p->v[i];
		const char *suffix, *le;
		char *end;
		double bound;
		int slot;

		if (strncmp(s->name, name, nlen) != 0 || !promtext_matches(s, match))
			continue;
		suffix = s->name + nlen;
		if (strcmp(suffix, "_sum") == 0) {
			h->sum += s->value;
		} else if (strcmp(suffix, "_count") == 0) {
			h->count += s->value;
		} else if (strcmp(suffix, "_bucket") == 0 && (le = promtext_label(s, "le")) != NULL) {
			bound = strtod(le, &end);
			if (*end != '\0')
				continue;
			slot = hist_slot(h, bound);
			if (slot < 0)
				return slot;
			h->cum[slot] += s->value;
		}
	}
	return h->n > 0 ? 0 : -ENOENT;
}

int promtext_hist_delta(const struct promtext_hist *now, const struct promtext_hist *then,
			struct promtext_hist *out)
{
	if (now->n != then->n)
		return -EINVAL;
	for (size_t i = 0; i < now->n; i++)
		if (now->le[i] != then->le[i])
			return -EINVAL;
	*out = *now;
	if (now->count < then->count)
		return 0;
	for (size_t i = 0; i < now->n; i++)
		out->cum[i] = now->cum[i] - then->cum[i];
	out->sum = now->sum - then->sum;
	out->count = now->count - then->count;
	return 0;
}

double promtext_quantile(const struct promtext_hist *h, double q)
{
	double total, rank, lower = 0, prev = 0;

	if (h->n == 0 || (total = h->cum[h->n - 1]) <= 0)
		return NAN;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * total;
	for (size_t i = 0; i < h->n; i++) {
		if (h->cum[i] >= rank && h->cum[i] > prev) {
			if (isinf(h->le[i]))
				return i > 0 ? h->le[i - 1] : NAN;
			if (i == 0 && h->le[0] <= 0)
				return h->le[0];
			return lower + (h->le[i] - lower) * (rank - prev) / (h->cum[i] - prev);
		}
		lower = h->le[i];
		prev = h->cum[i];
	}
	return h->n > 1 ? h->le[h->n - 2] : NAN;
}

double promtext_rate(double now, double then, double seconds)
{
	if (seconds <= 0)
		return 0;
	return (now >= then ? now - then : now) / seconds;
}
