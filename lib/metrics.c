/* metrics: the registry, its children and the text exposition (see
 * metrics.h). Each family keeps a small chained hash of its children for
 * _get and a list of them in label-value order for rendering. */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

struct metrics_histogram {
	const double *bounds;   /* the family's upper bounds; not owned */
	uint64_t *counts;       /* nbounds + 1 per-bucket counts, last is +Inf;
	                         * cumulated only when rendered */
	size_t nbounds;
	double sum;             /* of every observed value */
	uint64_t count;         /* observations */
};

/* One label value set of a family, with its value. */
struct child {
	struct child *hnext;    /* next in the same hash chain */
	struct child *next;     /* next in label-value order */
	uint32_t hash;          /* of the label values */
	union {
		struct metrics_counter counter;
		struct metrics_gauge gauge;
		struct metrics_histogram hist;
	} v;
	char *values[];         /* nlabels values; they, the histogram counts and
	                         * the strings share the child's one allocation */
};

struct metrics_family {
	struct metrics_family *next;    /* registration order */
	enum metrics_type type;
	char *name;                     /* owned */
	char *help;                     /* owned */
	size_t nlabels;
	char *labels[METRICS_MAX_LABELS]; /* nlabels names, owned */
	double *bounds;                 /* histograms: nbounds upper bounds, owned */
	size_t nbounds;
	struct child **table;           /* tabsize chains (a power of 2), or NULL */
	size_t tabsize;
	size_t nchildren;               /* in table and children, sink excluded */
	struct child *children;         /* sorted by label values */
	struct child *sink;             /* what _get returns when it cannot make
	                                 * a child; never rendered */
	int warned;                     /* the sink was handed out and logged */
};

struct collector {
	struct collector *next;         /* registration order */
	int (*fn)(void *arg);           /* updates its families before a render */
	void *arg;                      /* fn's; freed by free_arg if not NULL */
	void (*free_arg)(void *arg);
};

struct metrics {
	struct metrics_family *families;        /* registration order */
	struct metrics_family **ftail;          /* where the next one goes */
	struct collector *collectors;
	struct collector **ctail;
};

const double metrics_latency_buckets[METRICS_LATENCY_NBUCKETS] = {
	50e-6, 100e-6, 250e-6, 500e-6,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10,
};

/* ------------------------------------------------------------ children --- */

/* FNV-1a over the values, each followed by 0xff (which UTF-8 never has). */
static uint32_t values_hash(const char *const *values, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
			h = (h ^ *p) * 16777619u;
		h = (h ^ 0xffu) * 16777619u;
	}
	return h;
}

/* Label-value order: first value first, byte order within a value. */
static int values_cmp(char *const *a, const char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = strcmp(a[i], b[i]);

		if (r != 0)
			return r;
	}
	return 0;
}

static size_t align_up(size_t n)
{
	size_t a = _Alignof(uint64_t) > _Alignof(char *) ? _Alignof(uint64_t) : _Alignof(char *);

	return (n + a - 1) & ~(a - 1);
}

/* A zeroed child of f holding copies of n values (n is 0 for the sink). */
static struct child *child_alloc(struct metrics_family *f, const char *const *values, size_t n)
{
	size_t ncounts = f->type == METRICS_HISTOGRAM ? f->nbounds + 1 : 0;
	size_t off_counts = align_up(sizeof(struct child) + n * sizeof(char *));
	size_t off_str = off_counts + ncounts * sizeof(uint64_t);
	size_t size = off_str;
	struct child *c;
	char *s;

	for (size_t i = 0; i < n; i++)
		size += strlen(values[i]) + 1;
	c = calloc(1, size);
	if (c == NULL)
		return NULL;
	s = (char *)c + off_str;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(values[i]) + 1;

		memcpy(s, values[i], len);
		c->values[i] = s;
		s += len;
	}
	if (f->type == METRICS_HISTOGRAM) {
		c->v.hist.bounds = f->bounds;
		c->v.hist.nbounds = f->nbounds;
		c->v.hist.counts = (uint64_t *)(void *)((char *)c + off_counts);
	}
	return c;
}

static struct child *sink(struct metrics_family *f, const char *why)
{
	if (!f->warned) {
		log_warn("metrics: %s: %s; further values of new label sets are not exported",
			 f->name, why);
		f->warned = 1;
	}
	return f->sink;
}

/* Double the hash table (at least 8 chains). */
static int table_grow(struct metrics_family *f)
{
	size_t size = f->tabsize ? f->tabsize * 2 : 8;
	struct child **t = calloc(size, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	for (struct child *c = f->children; c != NULL; c = c->next) {
		c->hnext = t[c->hash & (size - 1)];
		t[c->hash & (size - 1)] = c;
	}
	free(f->table);
	f->table = t;
	f->tabsize = size;
	return 0;
}

static struct child *child_get(struct metrics_family *f, enum metrics_type type,
			       const char *const *values, size_t n)
{
	struct child *c, **pp;
	uint32_t h;

	assert(f != NULL && f->type == type);
	assert(n == f->nlabels);
	for (size_t i = 0; i < n; i++)
		assert(values[i] != NULL);
	h = values_hash(values, n);
	if (f->tabsize > 0) {
		for (c = f->table[h & (f->tabsize - 1)]; c != NULL; c = c->hnext)
			if (c->hash == h && values_cmp(c->values, values, n) == 0)
				return c;
	}
	if (f->nchildren >= METRICS_MAX_CHILDREN)
		return sink(f, "too many label sets");
	if (f->nchildren >= f->tabsize && table_grow(f) < 0)
		return sink(f, "out of memory");
	c = child_alloc(f, values, n);
	if (c == NULL)
		return sink(f, "out of memory");
	c->hash = h;
	c->hnext = f->table[h & (f->tabsize - 1)];
	f->table[h & (f->tabsize - 1)] = c;
	for (pp = &f->children; *pp != NULL; pp = &(*pp)->next)
		if (values_cmp((*pp)->values, values, n) > 0)
			break;
	c->next = *pp;
	*pp = c;
	f->nchildren++;
	return c;
}

struct metrics_counter *metrics_counter_getv(struct metrics_family *f,
					     const char *const *values, size_t n)
{
	return &child_get(f, METRICS_COUNTER, values, n)->v.counter;
}

struct metrics_gauge *metrics_gauge_getv(struct metrics_family *f,
					 const char *const *values, size_t n)
{
	return &child_get(f, METRICS_GAUGE, values, n)->v.gauge;
}

struct metrics_histogram *metrics_histogram_getv(struct metrics_family *f,
						 const char *const *values, size_t n)
{
	return &child_get(f, METRICS_HISTOGRAM, values, n)->v.hist;
}

void metrics_histogram_observe(struct metrics_histogram *h, double v)
{
	size_t lo = 0, hi = h->nbounds;

	/* The first bound >= v; NaN compares false and lands in +Inf. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v <= h->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	h->counts[lo]++;
	h->sum += v;
	h->count++;
}

void metrics_family_clear(struct metrics_family *f)
{
	struct child *c, *next;

	for (c = f->children; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	f->children = NULL;
	f->nchildren = 0;
	free(f->table);
	f->table = NULL;
	f->tabsize = 0;
}

/* ------------------------------------------------------------ families --- */

static void family_free(struct metrics_family *f)
{
	if (f == NULL)
		return;
	metrics_family_clear(f);
	free(f->sink);
	for (size_t i = 0; i < f->nlabels; i++)
		free(f->labels[i]);
	free(f->bounds);
	free(f->help);
	free(f->name);
	free(f);
}

static int name_valid(const char *s, int colon)
{
	size_t n = strlen(s);

	if (n == 0 || n > METRICS_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
			 (colon && ch == ':') || (i > 0 && ch >= '0' && ch <= '9');

		if (!ok)
			return 0;
	}
	return 1;
}

static const char *const hist_suffixes[] = { "_bucket", "_sum", "_count" };

/* Does f render a sample (or own the name) s? */
static int family_renders(const struct metrics_family *f, const char *s)
{
	size_t n = strlen(f->name);

	if (strcmp(s, f->name) == 0)
		return 1;
	if (f->type != METRICS_HISTOGRAM || strncmp(s, f->name, n) != 0)
		return 0;
	for (size_t i = 0; i < 3; i++)
		if (strcmp(s + n, hist_suffixes[i]) == 0)
			return 1;
	return 0;
}

/* -EEXIST if a family of m already renders a name the new one would. */
static int name_free(struct metrics *m, enum metrics_type type, const char *name, struct err *e)
{
	char s[METRICS_NAME_MAX + 16];

	for (struct metrics_family *f = m->families; f != NULL; f = f->next) {
		if (family_renders(f, name))
			return err_set(e, -EEXIST, "metric %s: %s already renders that name",
				       name, f->name);
		for (size_t i = 0; type == METRICS_HISTOGRAM && i < 3; i++) {
			snprintf(s, sizeof(s), "%s%s", name, hist_suffixes[i]);
			if (family_renders(f, s))
				return err_set(e, -EEXIST, "metric %s: %s already renders %s",
					       name, f->name, s);
		}
	}
	return 0;
}

static int labels_check(const char *name, enum metrics_type type, const char *const *labels,
			size_t *nlabels, struct err *e)
{
	size_t n = 0;

	for (; labels != NULL && labels[n] != NULL; n++) {
		const char *l = labels[n];

		if (n == METRICS_MAX_LABELS)
			return err_set(e, -EINVAL, "metric %s: more than %d labels", name,
				       METRICS_MAX_LABELS);
		if (!name_valid(l, 0) || strncmp(l, "__", 2) == 0)
			return err_set(e, -EINVAL, "metric %s: bad label name '%s'", name, l);
		if (type == METRICS_HISTOGRAM && strcmp(l, "le") == 0)
			return err_set(e, -EINVAL, "metric %s: label 'le' is the histogram's own",
				       name);
		for (size_t j = 0; j < n; j++)
			if (strcmp(labels[j], l) == 0)
				return err_set(e, -EINVAL, "metric %s: label '%s' twice", name, l);
	}
	*nlabels = n;
	return 0;
}

static int bounds_check(const char *name, const double *bounds, size_t n, struct err *e)
{
	if (n == 0 || n > METRICS_MAX_BUCKETS)
		return err_set(e, -EINVAL, "metric %s: %zu buckets (1..%d)", name, n,
			       METRICS_MAX_BUCKETS);
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(bounds[i]))
			return err_set(e, -EINVAL, "metric %s: bucket bound %zu is not finite",
				       name, i);
		if (i > 0 && !(bounds[i] > bounds[i - 1]))
			return err_set(e, -EINVAL, "metric %s: bucket bounds not increasing at %zu",
				       name, i);
	}
	return 0;
}

static struct metrics_family *family_new(struct metrics *m, enum metrics_type type,
					 const char *name, const char *help,
					 const char *const *labels, const double *bounds,
					 size_t nbounds, struct err *e)
{
	struct metrics_family *f = NULL;
	size_t nlabels = 0;

	if (name == NULL || !name_valid(name, 1)) {
		err_set(e, -EINVAL, "bad metric name '%s'", name ? name : "(null)");
		return NULL;
	}
	if (labels_check(name, type, labels, &nlabels, e) < 0 ||
	    (type == METRICS_HISTOGRAM && bounds_check(name, bounds, nbounds, e) < 0) ||
	    name_free(m, type, name, e) < 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		goto fail;
	f->type = type;
	f->name = strdup(name);
	f->help = strdup(help ? help : "");
	if (f->name == NULL || f->help == NULL)
		goto fail;
	for (; f->nlabels < nlabels; f->nlabels++) {
		f->labels[f->nlabels] = strdup(labels[f->nlabels]);
		if (f->labels[f->nlabels] == NULL)
			goto fail;
	}
	if (type == METRICS_HISTOGRAM) {
		f->bounds = malloc(nbounds * sizeof(*bounds));
		if (f->bounds == NULL)
			goto fail;
		memcpy(f->bounds, bounds, nbounds * sizeof(*bounds));
		f->nbounds = nbounds;
	}
	f->sink = child_alloc(f, NULL, 0);
	if (f->sink == NULL)
		goto fail;
	*m->ftail = f;
	m->ftail = &f->next;
	return f;
fail:
	family_free(f);
	err_set(e, -ENOMEM, "metric %s: out of memory", name);
	return NULL;
}

void metrics_family_remove(struct metrics *m, struct metrics_family *f)
{
	struct metrics_family **pp = &m->families;

	if (f == NULL)
		return;
	while (*pp != f)
		pp = &(*pp)->next;
	*pp = f->next;
	if (f->next == NULL)
		m->ftail = pp;
	family_free(f);
}

struct metrics_family *metrics_counter_family(struct metrics *m, const char *name,
					      const char *help,
					      const char *const *labels, struct err *e)
{
	return family_new(m, METRICS_COUNTER, name, help, labels, NULL, 0, e);
}

struct metrics_family *metrics_gauge_family(struct metrics *m, const char *name,
					    const char *help,
					    const char *const *labels, struct err *e)
{
	return family_new(m, METRICS_GAUGE, name, help, labels, NULL, 0, e);
}

struct metrics_family *metrics_histogram_family(struct metrics *m, const char *name,
						const char *help,
						const char *const *labels,
						const double *bounds, size_t nbounds,
						struct err *e)
{
	return family_new(m, METRICS_HISTOGRAM, name, help, labels, bounds, nbounds, e);
}

/* A family without labels and its only child, made now so that it is
 * exported (as 0) from the start; NULL if that child cannot be made. */
static struct child *single_new(struct metrics *m, enum metrics_type type, const char *name,
				const char *help, const double *bounds, size_t nbounds,
				struct err *e)
{
	struct metrics_family *f = family_new(m, type, name, help, NULL, bounds, nbounds, e);
	struct child *c;

	if (f == NULL)
		return NULL;
	c = child_get(f, type, NULL, 0);
	if (c == f->sink) {
		metrics_family_remove(m, f);
		err_set(e, -ENOMEM, "metric %s: out of memory", name);
		return NULL;
	}
	return c;
}

struct metrics_counter *metrics_counter_new(struct metrics *m, const char *name,
					    const char *help, struct err *e)
{
	struct child *c = single_new(m, METRICS_COUNTER, name, help, NULL, 0, e);

	return c ? &c->v.counter : NULL;
}

struct metrics_gauge *metrics_gauge_new(struct metrics *m, const char *name,
					const char *help, struct err *e)
{
	struct child *c = single_new(m, METRICS_GAUGE, name, help, NULL, 0, e);

	return c ? &c->v.gauge : NULL;
}

struct metrics_histogram *metrics_histogram_new(struct metrics *m, const char *name,
						const char *help, const double *bounds,
						size_t nbounds, struct err *e)
{
	struct child *c = single_new(m, METRICS_HISTOGRAM, name, help, bounds, nbounds, e);

	return c ? &c->v.hist : NULL;
}

/* ------------------------------------------------------------ registry --- */

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->ftail = &m->families;
	m->ctail = &m->collectors;
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (struct collector *c = m->collectors, *next; c != NULL; c = next) {
		next = c->next;
		if (c->free_arg != NULL)
			c->free_arg(c->arg);
		free(c);
	}
	for (struct metrics_family *f = m->families, *next; f != NULL; f = next) {
		next = f->next;
		family_free(f);
	}
	free(m);
}

int metrics_collector_add(struct metrics *m, int (*fn)(void *arg), void *arg,
			  void (*free_arg)(void *arg), struct err *e)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return err_set(e, -ENOMEM, "metrics collector: out of memory");
	c->fn = fn;
	c->arg = arg;
	c->free_arg = free_arg;
	*m->ctail = c;
	m->ctail = &c->next;
	return 0;
}

struct gauge_fn {
	struct metrics_family *f;
	double (*fn)(void *arg);
	void *arg;
};

static int gauge_fn_collect(void *arg)
{
	struct gauge_fn *g = arg;

	metrics_gauge_set(metrics_gauge_get(g->f), g->fn(g->arg));
	return 0;
}

int metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
		     double (*fn)(void *arg), void *arg, struct err *e)
{
	struct gauge_fn *g = malloc(sizeof(*g));
	struct err local;
	int rc;

	if (e == NULL)
		e = &local;
	if (g == NULL)
		return err_set(e, -ENOMEM, "metric %s: out of memory", name);
	g->fn = fn;
	g->arg = arg;
	g->f = metrics_gauge_family(m, name, help, NULL, e);
	if (g->f == NULL) {
		rc = e->code;
		goto fail;
	}
	rc = metrics_collector_add(m, gauge_fn_collect, g, free, e);
	if (rc < 0) {
		metrics_family_remove(m, g->f);
		goto fail;
	}
	return 0;
fail:
	free(g);
	return rc;
}

/* ------------------------------------------------------------ buckets --- */

int metrics_buckets_exponential(double *out, double start, double factor, size_t count)
{
	if (count == 0 || count > METRICS_MAX_BUCKETS || !(start > 0) || !(factor > 1) ||
	    !isfinite(start) || !isfinite(factor))
		return -EINVAL;
	for (size_t i = 0; i < count; i++) {
		out[i] = start;
		start *= factor;
	}
	return isfinite(out[count - 1]) ? 0 : -EINVAL;
}

int metrics_buckets_linear(double *out, double start, double width, size_t count)
{
	if (count == 0 || count > METRICS_MAX_BUCKETS || !(width > 0) ||
	    !isfinite(start) || !isfinite(width))
		return -EINVAL;
	for (size_t i = 0; i < count; i++)
		out[i] = start + width * (double)i;
	return isfinite(out[count - 1]) ? 0 : -EINVAL;
}

/* -------------------------------------------------------------- output --- */

void metrics_buf_release(struct metrics_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* An appender whose first failure sticks, so the renderer checks once. */
struct out {
	struct metrics_buf *b;
	int err;
};

static void put(struct out *o, const char *p, size_t n)
{
	struct metrics_buf *b = o->b;

	if (o->err)
		return;
	if (b->cap - b->len < n + 1) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap - b->len < n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (d == NULL) {
			o->err = -ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Help text escapes \ and newline; label values also escape ". */
static void put_escaped(struct out *o, const char *s, int quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" :
				  quote && *s == '"' ? "\\\"" : NULL;

		if (esc == NULL)
			continue;
		put(o, run, (size_t)(s - run));
		put(o, esc, 2);
		run = s + 1;
	}
	put(o, run, (size_t)(s - run));
}

/* The shortest of %.15g..%.17g that reads back as v; NaN, +Inf, -Inf. */
static void fmt_double(char buf[32], double v)
{
	if (isnan(v)) {
		strcpy(buf, "NaN");
		return;
	}
	if (isinf(v)) {
		strcpy(buf, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, 32, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

static void put_double(struct out *o, double v)
{
	char buf[32];

	fmt_double(buf, v);
	put_str(o, buf);
}

static void put_u64(struct out *o, uint64_t v)
{
	char buf[24];

	put(o, buf, (size_t)snprintf(buf, sizeof(buf), "%" PRIu64, v));
}

/* name{l1="v1",...[,le="le"]} */
static void put_series(struct out *o, const struct metrics_family *f, const char *suffix,
		       const struct child *c, const char *le)
{
	put_str(o, f->name);
	put_str(o, suffix);
	if (f->nlabels == 0 && le == NULL)
		return;
	put(o, "{", 1);
	for (size_t i = 0; i < f->nlabels; i++) {
		if (i > 0)
			put(o, ",", 1);
		put_str(o, f->labels[i]);
		put(o, "=\"", 2);
		put_escaped(o, c->values[i], 1);
		put(o, "\"", 1);
	}
	if (le != NULL) {
		put_str(o, f->nlabels > 0 ? ",le=\"" : "le=\"");
		put_str(o, le);
		put(o, "\"", 1);
	}
	put(o, "}", 1);
}

static void render_histogram(struct out *o, const struct metrics_family *f, const struct child *c)
{
	const struct metrics_histogram *h = &c->v.hist;
	uint64_t cum = 0;
	char le[32];

	for (size_t i = 0; i <= h->nbounds; i++) {
		cum += h->counts[i];
		if (i < h->nbounds)
			fmt_double(le, h->bounds[i]);
		else
			strcpy(le, "+Inf");
		put_series(o, f, "_bucket", c, le);
		put(o, " ", 1);
		put_u64(o, cum);
		put(o, "\n", 1);
	}
	put_series(o, f, "_sum", c, NULL);
	put(o, " ", 1);
	put_double(o, h->sum);
	put(o, "\n", 1);
	put_series(o, f, "_count", c, NULL);
	put(o, " ", 1);
	put_u64(o, h->count);
	put(o, "\n", 1);
}

static void render_family(struct out *o, const struct metrics_family *f)
{
	static const char *const type_names[] = {
		[METRICS_COUNTER] = "counter",
		[METRICS_GAUGE] = "gauge",
		[METRICS_HISTOGRAM] = "histogram",
	};

	if (f->children == NULL)
		return;
	put_str(o, "# HELP ");
	put_str(o, f->name);
	if (f->help[0] != '\0') {
		put(o, " ", 1);
		put_escaped(o, f->help, 0);
	}
	put_str(o, "\n# TYPE ");
	put_str(o, f->name);
	put(o, " ", 1);
	put_str(o, type_names[f->type]);
	put(o, "\n", 1);
	for (const struct child *c = f->children; c != NULL; c = c->next) {
		if (f->type == METRICS_HISTOGRAM) {
			render_histogram(o, f, c);
			continue;
		}
		put_series(o, f, "", c, NULL);
		put(o, " ", 1);
		put_double(o, f->type == METRICS_COUNTER ? c->v.counter.value : c->v.gauge.value);
		put(o, "\n", 1);
	}
}

int metrics_render(struct metrics *m, struct metrics_buf *out)
{
	struct out o = { .b = out, .err = 0 };
	size_t len0 = out->len;

	for (struct collector *c = m->collectors; c != NULL; c = c->next) {
		int rc = c->fn(c->arg);

		if (rc < 0)
			log_debug("metrics: a collector failed: %s", strerror(-rc));
	}
	for (const struct metrics_family *f = m->families; f != NULL; f = f->next)
		render_family(&o, f);
	if (o.err < 0) {
		out->len = len0;
		if (out->data != NULL)
			out->data[len0] = '\0';
		return o.err;
	}
	if (out->data == NULL)          /* nothing to render: still a string */
		put(&o, "", 0);
	return o.err;
}
