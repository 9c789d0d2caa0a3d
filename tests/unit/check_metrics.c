/* Unit tests for lib/metrics: golden exposition text (labels, escaping,
 * numbers, histogram buckets), name checks, a hot path that never allocates
 * (malloc is wrapped with ld --wrap to count and to fail on demand), and the
 * process and host collectors against a fake /proc and the real one. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "metrics.h"

/* ---------------------------------------------------- malloc counting --- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

static long nallocs;            /* calls since reset */
static long fail_in = -1;       /* the call that fails: 0 = the next one */

static int alloc_fails(void)
{
	nallocs++;
	if (fail_in < 0)
		return 0;
	if (fail_in-- == 0) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

/* ------------------------------------------------------------- helpers --- */

static char *render(struct metrics *m)
{
	struct metrics_buf b = { 0 };

	ck_assert_int_eq(metrics_render(m, &b), 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_uint_eq(strlen(b.data), b.len);
	return b.data;
}

/* The value on the line starting with prefix ("name{...} "), or NAN. */
static double value_of(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		if (strncmp(l, prefix, n) == 0)
			return strtod(l + n, NULL);
		if (strchr(l, '\n') == NULL)
			break;
	}
	return NAN;
}

/* -------------------------------------------------------------- golden --- */

START_TEST(test_golden_counters_gauges)
{
	struct err e = { 0 };
	struct metrics *m = metrics_new();
	struct metrics_family *q, *esc;
	struct metrics_gauge *g;
	char *a, *b;

	q = metrics_counter_family(m, "dnsfs_mds_queries_total", "DNS queries answered.",
				   METRICS_LABELS("type", "rcode"), &e);
	ck_assert_ptr_nonnull(q);
	metrics_counter_add(metrics_counter_get(q, "TXT", "NOERROR"), 3);
	metrics_counter_inc(metrics_counter_get(q, "CNAME", "NXDOMAIN"));
	metrics_counter_inc(metrics_counter_get(q, "TXT", "NOERROR"));
	metrics_counter_get(q, "A", "SERVFAIL");
	g = metrics_gauge_new(m, "dnsfs_zone_records", "Records.\nSecond \\ line \"q\"", &e);
	ck_assert_ptr_nonnull(g);
	metrics_gauge_set(g, -1.5);
	esc = metrics_gauge_family(m, "dnsfs_escape", "", METRICS_LABELS("v"), &e);
	metrics_gauge_set(metrics_gauge_get(esc, "a\\b\"c\nd"), 0.1);
	metrics_gauge_add(metrics_gauge_get(esc, ""), 2);
	/* a family without children is left out */
	ck_assert_ptr_nonnull(metrics_gauge_family(m, "dnsfs_unused", "x", METRICS_LABELS("l"), &e));
	ck_assert_ptr_nonnull(metrics_counter_new(m, "dnsfs_zero_total", NULL, &e));

	a = render(m);
	ck_assert_str_eq(a,
		"# HELP dnsfs_mds_queries_total DNS queries answered.\n"
		"# TYPE dnsfs_mds_queries_total counter\n"
		"dnsfs_mds_queries_total{type=\"A\",rcode=\"SERVFAIL\"} 0\n"
		"dnsfs_mds_queries_total{type=\"CNAME\",rcode=\"NXDOMAIN\"} 1\n"
		"dnsfs_mds_queries_total{type=\"TXT\",rcode=\"NOERROR\"} 4\n"
		"# HELP dnsfs_zone_records Records.\\nSecond \\\\ line \"q\"\n"
		"# TYPE dnsfs_zone_records gauge\n"
		"dnsfs_zone_records -1.5\n"
		"# HELP dnsfs_escape\n"
		"# TYPE dnsfs_escape gauge\n"
		"dnsfs_escape{v=\"\"} 2\n"
		"dnsfs_escape{v=\"a\\\\b\\\"c\\nd\"} 0.1\n"
		"# HELP dnsfs_zero_total\n"
		"# TYPE dnsfs_zero_total counter\n"
		"dnsfs_zero_total 0\n");
	/* the same state renders the same bytes */
	b = render(m);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	metrics_free(m);
}
END_TEST

START_TEST(test_golden_numbers)
{
	static const struct {
		double v;
		const char *text;
	} cases[] = {
		{ 0, "0" }, { 1, "1" }, { -2, "-2" }, { 0.1, "0.1" }, { 1e-05, "1e-05" },
		{ 0.30000000000000004, "0.30000000000000004" }, { 1e21, "1e+21" },
		{ 9007199254740992.0, "9007199254740992" }, { 123456789012.5, "123456789012.5" },
		{ INFINITY, "+Inf" }, { -INFINITY, "-Inf" }, { NAN, "NaN" },
	};
	struct metrics *m = metrics_new();
	struct metrics_gauge *g = metrics_gauge_new(m, "g", "", NULL);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[64], *got;

		metrics_gauge_set(g, cases[i].v);
		got = render(m);
		snprintf(want, sizeof(want), "# HELP g\n# TYPE g gauge\ng %s\n", cases[i].text);
		ck_assert_str_eq(got, want);
		free(got);
	}
	metrics_free(m);
}
END_TEST

START_TEST(test_golden_histogram)
{
	static const double b3[] = { 1, 2, 4 }, half[] = { 0.5 };
	struct err e = { 0 };
	struct metrics *m = metrics_new();
	struct metrics_histogram *h = metrics_histogram_new(m, "dnsfs_size", "Sizes.", b3, 3, &e);
	struct metrics_family *op;
	char *text;

	ck_assert_ptr_nonnull(h);
	/* le is inclusive: a value on a bound counts in that bound's bucket */
	metrics_histogram_observe(h, 1);
	metrics_histogram_observe(h, 0);
	metrics_histogram_observe(h, 1.5);
	metrics_histogram_observe(h, 2);
	metrics_histogram_observe(h, 4);
	metrics_histogram_observe(h, 4.5);
	op = metrics_histogram_family(m, "dnsfs_op_seconds", "Time per op.",
				      METRICS_LABELS("op"), half, 1, &e);
	ck_assert_ptr_nonnull(op);
	metrics_histogram_observe(metrics_histogram_get(op, "read"), 0.25);
	metrics_histogram_get(op, "write");
	text = render(m);
	ck_assert_str_eq(text,
		"# HELP dnsfs_size Sizes.\n"
		"# TYPE dnsfs_size histogram\n"
		"dnsfs_size_bucket{le=\"1\"} 2\n"
		"dnsfs_size_bucket{le=\"2\"} 4\n"
		"dnsfs_size_bucket{le=\"4\"} 5\n"
		"dnsfs_size_bucket{le=\"+Inf\"} 6\n"
		"dnsfs_size_sum 13\n"
		"dnsfs_size_count 6\n"
		"# HELP dnsfs_op_seconds Time per op.\n"
		"# TYPE dnsfs_op_seconds histogram\n"
		"dnsfs_op_seconds_bucket{op=\"read\",le=\"0.5\"} 1\n"
		"dnsfs_op_seconds_bucket{op=\"read\",le=\"+Inf\"} 1\n"
		"dnsfs_op_seconds_sum{op=\"read\"} 0.25\n"
		"dnsfs_op_seconds_count{op=\"read\"} 1\n"
		"dnsfs_op_seconds_bucket{op=\"write\",le=\"0.5\"} 0\n"
		"dnsfs_op_seconds_bucket{op=\"write\",le=\"+Inf\"} 0\n"
		"dnsfs_op_seconds_sum{op=\"write\"} 0\n"
		"dnsfs_op_seconds_count{op=\"write\"} 0\n");
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(test_histogram_edges)
{
	static const double b3[] = { 1, 2, 4 };
	struct metrics *m = metrics_new();
	struct metrics_histogram *h = metrics_histogram_new(m, "h", "", b3, 3, NULL);
	char *text;

	metrics_histogram_observe(h, nextafter(1, 0));          /* le=1 */
	metrics_histogram_observe(h, nextafter(1, 2));          /* le=2 */
	metrics_histogram_observe(h, -INFINITY);                /* le=1 */
	metrics_histogram_observe(h, nextafter(4, 5));          /* +Inf */
	metrics_histogram_observe(h, INFINITY);                 /* +Inf */
	text = render(m);
	ck_assert_ptr_nonnull(strstr(text, "h_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 3\n"
					   "h_bucket{le=\"4\"} 3\nh_bucket{le=\"+Inf\"} 5\n"));
	free(text);
	/* NaN is counted in +Inf and poisons the sum, as in client_golang */
	metrics_histogram_observe(h, NAN);
	text = render(m);
	ck_assert_ptr_nonnull(strstr(text, "h_bucket{le=\"+Inf\"} 6\nh_sum NaN\nh_count 6\n"));
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(test_latency_buckets)
{
	struct metrics *m = metrics_new();
	struct metrics_histogram *h;
	char *text;

	h = metrics_histogram_new(m, "dnsfs_latency_seconds", "", metrics_latency_buckets,
				  METRICS_LATENCY_NBUCKETS, NULL);
	ck_assert_ptr_nonnull(h);
	for (size_t i = 0; i < METRICS_LATENCY_NBUCKETS; i++)
		metrics_histogram_observe(h, metrics_latency_buckets[i]);
	text = render(m);
	/* each bound exactly once, printed the short way */
	ck_assert_ptr_nonnull(strstr(text, "dnsfs_latency_seconds_bucket{le=\"5e-05\"} 1\n"
					   "dnsfs_latency_seconds_bucket{le=\"0.0001\"} 2\n"
					   "dnsfs_latency_seconds_bucket{le=\"0.00025\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(text, "dnsfs_latency_seconds_bucket{le=\"10\"} 17\n"
					   "dnsfs_latency_seconds_bucket{le=\"+Inf\"} 17\n"));
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(test_bucket_helpers)
{
	double b[METRICS_MAX_BUCKETS + 1];

	ck_assert_int_eq(metrics_buckets_exponential(b, 50e-6, 2, 4), 0);
	ck_assert(b[0] == 50e-6 && b[1] == 100e-6 && b[3] == 400e-6);
	ck_assert_int_eq(metrics_buckets_linear(b, 0, 0.5, 3), 0);
	ck_assert(b[0] == 0 && b[1] == 0.5 && b[2] == 1);
	ck_assert_int_eq(metrics_buckets_exponential(b, 0, 2, 4), -EINVAL);
	ck_assert_int_eq(metrics_buckets_exponential(b, 1, 1, 4), -EINVAL);
	ck_assert_int_eq(metrics_buckets_exponential(b, 1, 2, 0), -EINVAL);
	ck_assert_int_eq(metrics_buckets_exponential(b, 1, 2, METRICS_MAX_BUCKETS + 1), -EINVAL);
	ck_assert_int_eq(metrics_buckets_exponential(b, 1e300, 1e10, 4), -EINVAL);
	ck_assert_int_eq(metrics_buckets_linear(b, 0, 0, 3), -EINVAL);
	ck_assert_int_eq(metrics_buckets_linear(b, NAN, 1, 3), -EINVAL);
	for (size_t i = 1; i < METRICS_LATENCY_NBUCKETS; i++)
		ck_assert(metrics_latency_buckets[i] > metrics_latency_buckets[i - 1]);
}
END_TEST

/* --------------------------------------------------------------- names --- */

START_TEST(test_name_checks)
{
	static const double b1[] = { 1 }, bad_order[] = { 1, 1 }, inf[] = { 1, INFINITY };
	struct err e = { 0 };
	struct metrics *m = metrics_new();

#define BAD(call, want, text) do {                                        \
		err_clear(&e);                                            \
		ck_assert_ptr_null(call);                                 \
		ck_assert_int_eq(e.code, want);                           \
		ck_assert_msg(strstr(e.msg, text) != NULL, "%s", e.msg);  \
	} while (0)

	BAD(metrics_counter_family(m, "", "", NULL, &e), -EINVAL, "bad metric name");
	BAD(metrics_counter_family(m, "9lives", "", NULL, &e), -EINVAL, "bad metric name");
	BAD(metrics_counter_family(m, "a-b", "", NULL, &e), -EINVAL, "bad metric name");
	BAD(metrics_counter_family(m, NULL, "", NULL, &e), -EINVAL, "bad metric name");
	BAD(metrics_counter_family(m, "a", "", METRICS_LABELS("__x"), &e), -EINVAL, "bad label");
	BAD(metrics_counter_family(m, "a", "", METRICS_LABELS("x:y"), &e), -EINVAL, "bad label");
	BAD(metrics_counter_family(m, "a", "", METRICS_LABELS("x", "x"), &e), -EINVAL, "twice");
	BAD(metrics_counter_family(m, "a", "", METRICS_LABELS("a", "b", "c", "d", "e", "f", "g",
							       "h", "i"), &e), -EINVAL, "labels");
	BAD(metrics_histogram_family(m, "h", "", METRICS_LABELS("le"), b1, 1, &e), -EINVAL, "'le'");
	BAD(metrics_histogram_new(m, "h", "", b1, 0, &e), -EINVAL, "buckets");
	BAD(metrics_histogram_new(m, "h", "", bad_order, 2, &e), -EINVAL, "not increasing");
	BAD(metrics_histogram_new(m, "h", "", inf, 2, &e), -EINVAL, "not finite");
	/* colons are for recording rules, but legal; le is fine elsewhere */
	ck_assert_ptr_nonnull(metrics_gauge_family(m, "job:x:rate", "", METRICS_LABELS("le"), &e));

	/* names collide with every sample a family renders */
	ck_assert_ptr_nonnull(metrics_histogram_new(m, "rt", "", b1, 1, &e));
	BAD(metrics_counter_new(m, "rt", "", &e), -EEXIST, "already renders");
	BAD(metrics_counter_new(m, "rt_count", "", &e), -EEXIST, "rt");
	BAD(metrics_gauge_new(m, "rt_bucket", "", &e), -EEXIST, "rt");
	ck_assert_ptr_nonnull(metrics_gauge_new(m, "rt_total", "", &e));
	ck_assert_ptr_nonnull(metrics_counter_new(m, "x_sum", "", &e));
	BAD(metrics_histogram_new(m, "x", "", b1, 1, &e), -EEXIST, "x_sum");
#undef BAD
	metrics_free(m);
}
END_TEST

/* Asking a counter family for a gauge is a programming error. */
START_TEST(test_type_mismatch_asserts)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f = metrics_counter_family(m, "c", "", NULL, NULL);

	metrics_gauge_get(f);
}
END_TEST

START_TEST(test_label_count_asserts)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f = metrics_counter_family(m, "c", "", METRICS_LABELS("a", "b"), NULL);

	metrics_counter_get(f, "only one");
}
END_TEST

START_TEST(test_family_remove)
{
	struct err e = { 0 };
	struct metrics *m = metrics_new();
	struct metrics_family *a = metrics_gauge_family(m, "a", "", NULL, &e);
	struct metrics_family *b = metrics_gauge_family(m, "b", "", NULL, &e);
	struct metrics_family *c = metrics_gauge_family(m, "c", "", NULL, &e);
	char *text;

	metrics_gauge_set(metrics_gauge_get(a), 1);
	metrics_gauge_set(metrics_gauge_get(b), 2);
	metrics_gauge_set(metrics_gauge_get(c), 3);
	metrics_family_remove(m, b);
	metrics_family_remove(m, c);            /* the last one: the tail moves */
	metrics_family_remove(m, NULL);
	c = metrics_counter_family(m, "c", "", NULL, &e);
	b = metrics_counter_family(m, "b", "", NULL, &e);
	ck_assert_ptr_nonnull(b);
	metrics_counter_inc(metrics_counter_get(b));
	metrics_counter_inc(metrics_counter_get(c));
	text = render(m);
	ck_assert_str_eq(text, "# HELP a\n# TYPE a gauge\na 1\n"
			       "# HELP c\n# TYPE c counter\nc 1\n"
			       "# HELP b\n# TYPE b counter\nb 1\n");
	free(text);
	metrics_family_clear(a);
	text = render(m);
	ck_assert_ptr_null(strstr(text, "TYPE a"));
	free(text);
	metrics_free(m);
}
END_TEST

/* ------------------------------------------------------------ hot path --- */

START_TEST(test_hot_path_no_alloc)
{
	static const double b1[] = { 0.001, 0.01 };
	struct metrics *m = metrics_new();
	struct metrics_family *q = metrics_counter_family(m, "q_total", "",
							  METRICS_LABELS("type", "rcode"), NULL);
	struct metrics_family *lat = metrics_histogram_family(m, "lat", "", METRICS_LABELS("op"),
							      b1, 2, NULL);
	struct metrics_counter *txt = metrics_counter_get(q, "TXT", "NOERROR");
	struct metrics_histogram *rd = metrics_histogram_get(lat, "read");
	long n, same = 0;
	char label[16];

	/* enough children to grow the hash table a few times */
	for (int i = 0; i < 300; i++) {
		snprintf(label, sizeof(label), "T%d", i);
		metrics_counter_inc(metrics_counter_get(q, label, "NOERROR"));
	}
	/* (no ck_assert inside: Check itself allocates to record a pass) */
	nallocs = 0;
	for (int i = 0; i < 100000; i++) {
		metrics_counter_inc(txt);
		metrics_histogram_observe(rd, i * 1e-7);
		/* a lookup of an existing child allocates nothing either */
		same += metrics_counter_get(q, "TXT", "NOERROR") == txt;
	}
	n = nallocs;
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(same, 100000);
	ck_assert(txt->value == 100000);
	/* the value copied the label strings: changing ours does not matter */
	snprintf(label, sizeof(label), "T7");
	ck_assert_ptr_eq(metrics_counter_get(q, label, "NOERROR"), metrics_counter_get(q, "T7", "NOERROR"));
	ck_assert(metrics_counter_get(q, "T7", "NOERROR")->value == 1);
	metrics_free(m);
}
END_TEST

START_TEST(test_cardinality_limit)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f = metrics_gauge_family(m, "g", "", METRICS_LABELS("k"), NULL);
	struct metrics_gauge *first, *s1, *s2;
	char label[16], *text;
	size_t lines = 0;

	for (int i = 0; i < METRICS_MAX_CHILDREN; i++) {
		snprintf(label, sizeof(label), "%05d", i);
		metrics_gauge_set(metrics_gauge_get(f, label), i);
	}
	first = metrics_gauge_get(f, "00000");
	s1 = metrics_gauge_get(f, "new-1");
	s2 = metrics_gauge_get(f, "new-2");
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_eq(s1, s2);               /* the sink */
	ck_assert_ptr_ne(s1, first);
	metrics_gauge_set(s1, 42);              /* usable, just not exported */
	ck_assert_ptr_eq(metrics_gauge_get(f, "00000"), first);
	text = render(m);
	for (char *p = text; (p = strstr(p, "\ng{")) != NULL; p++)
		lines++;
	ck_assert_uint_eq(lines, METRICS_MAX_CHILDREN);
	ck_assert_ptr_null(strstr(text, "new-"));
	ck_assert_ptr_nonnull(strstr(text, "\ng{k=\"00000\"} 0\ng{k=\"00001\"} 1\n"));
	free(text);
	metrics_free(m);
}
END_TEST

/* ------------------------------------------------------- out of memory --- */

START_TEST(test_oom_child_is_sink)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f = metrics_counter_family(m, "c_total", "", METRICS_LABELS("k"), NULL);
	struct metrics_counter *c, *d;
	char *text;

	fail_in = 0;
	c = metrics_counter_get(f, "x");
	fail_in = -1;
	ck_assert_ptr_nonnull(c);
	metrics_counter_inc(c);
	text = render(m);
	ck_assert_str_eq(text, "");             /* nothing to export yet */
	free(text);
	d = metrics_counter_get(f, "x");        /* memory is back: a real child */
	ck_assert_ptr_ne(c, d);
	metrics_counter_inc(d);
	text = render(m);
	ck_assert_str_eq(text, "# HELP c_total\n# TYPE c_total counter\nc_total{k=\"x\"} 1\n");
	free(text);
	metrics_free(m);
}
END_TEST

/* Every allocation of a registration, in turn, fails cleanly. */
START_TEST(test_oom_registration)
{
	static const double b2[] = { 1, 2 };
	struct metrics *m = metrics_new();
	struct err e;
	int k, rc;

	for (k = 0;; k++) {
		err_clear(&e);
		fail_in = k;
		rc = metrics_histogram_new(m, "h", "help", b2, 2, &e) ? 0 : e.code;
		fail_in = -1;
		if (rc == 0)
			break;
		ck_assert_int_eq(rc, -ENOMEM);
	}
	ck_assert_int_gt(k, 3);
	for (k = 0;; k++) {
		err_clear(&e);
		fail_in = k;
		rc = metrics_add_process_and_host(m, &e);
		fail_in = -1;
		if (rc == 0)
			break;
		ck_assert_int_eq(rc, -ENOMEM);
	}
	ck_assert_int_gt(k, 20);
	for (k = 0;; k++) {
		fail_in = k;
		rc = metrics_gauge_fn(m, "fn", "", NULL, NULL, NULL);
		fail_in = -1;
		if (rc == 0)
			break;
		ck_assert_int_eq(rc, -ENOMEM);
	}
	/* a failed registration left no name taken */
	ck_assert_int_eq(metrics_add_process_and_host(m, &e), -EEXIST);
	metrics_free(m);
}
END_TEST

START_TEST(test_oom_render)
{
	struct metrics *m = metrics_new();
	struct metrics_family *f = metrics_gauge_family(m, "g", "", METRICS_LABELS("k"), NULL);
	struct metrics_buf b = { 0 };
	char label[16];
	int rc, k;

	for (int i = 0; i < 500; i++) {
		snprintf(label, sizeof(label), "value-%d", i);
		metrics_gauge_set(metrics_gauge_get(f, label), i);
	}
	ck_assert_int_eq(metrics_render(m, &b), 0);
	ck_assert_uint_gt(b.len, 8192);
	metrics_buf_release(&b);
	/* start from a small buffer, so that rendering has to grow it often */
	b.data = strdup("HEAD");
	b.len = 4;
	b.cap = 5;
	for (k = 0;; k++) {
		fail_in = k;
		rc = metrics_render(m, &b);
		fail_in = -1;
		if (rc == 0)
			break;
		ck_assert_int_eq(rc, -ENOMEM);
		ck_assert_str_eq(b.data, "HEAD");       /* as it was */
	}
	ck_assert_int_gt(k, 2);
	ck_assert(strncmp(b.data, "HEAD# HELP g\n", 13) == 0);
	metrics_buf_release(&b);
	ck_assert_ptr_null(b.data);
	metrics_free(m);
}
END_TEST

/* ---------------------------------------------------------- collectors --- */

static double count_calls(void *arg)
{
	return ++*(int *)arg;
}

static int failing(void *arg)
{
	return -EIO;
}

static int free_calls;

static void note_free(void *arg)
{
	free_calls++;
}

START_TEST(test_collectors)
{
	struct metrics *m = metrics_new();
	struct err e = { 0 };
	int calls = 0;
	char *text;

	ck_assert_int_eq(metrics_gauge_fn(m, "calls", "Renders so far.", count_calls, &calls, &e), 0);
	ck_assert_int_eq(metrics_gauge_fn(m, "calls", "", count_calls, &calls, &e), -EEXIST);
	ck_assert_int_eq(metrics_collector_add(m, failing, NULL, note_free, &e), 0);
	text = render(m);
	ck_assert_str_eq(text, "# HELP calls Renders so far.\n# TYPE calls gauge\ncalls 1\n");
	free(text);
	text = render(m);
	ck_assert_str_eq(text, "# HELP calls Renders so far.\n# TYPE calls gauge\ncalls 2\n");
	free(text);
	free_calls = 0;
	metrics_free(m);
	ck_assert_int_eq(free_calls, 1);
}
END_TEST

/* ------------------------------------------------------- process, host --- */

static void put_file(const char *dir, const char *rel, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *fake_proc(void)
{
	static char dir[] = "/tmp/check_metrics.XXXXXX";
	char path[512];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (const char *const *d = (const char *const[]){ "self", "self/fd", "net", NULL }; *d; d++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *d);
		ck_assert_int_eq(mkdir(path, 0755), 0);
	}
	put_file(dir, "stat", "cpu  100 200 300 400 500 600 700 800 900 1000\n"
			      "cpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2 3\nbtime 1700000000\n");
	/* comm with spaces and parens; tpgid -1 and nice -5 are negative */
	put_file(dir, "self/stat", "1234 (my (odd) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 "
				   "250 50 0 0 25 -5 3 0 500 104857600 300 18446744073709551615 "
				   "1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
	put_file(dir, "self/limits", "Limit                     Soft Limit           Hard Limit           Units     \n"
				     "Max cpu time              unlimited            unlimited            seconds   \n"
				     "Max open files            1024                 524288               files     \n");
	put_file(dir, "self/fd/0", "");
	put_file(dir, "self/fd/1", "");
	put_file(dir, "self/fd/2", "");
	put_file(dir, "self/fd/100000", "");
	put_file(dir, "loadavg", "0.50 0.40 0.30 1/234 5678\n");
	put_file(dir, "meminfo", "MemTotal:       16384 kB\nMemFree:        1 kB\nMemAvailable:    8192 kB\n");
	put_file(dir, "diskstats",
		 "   7       0 loop0 9 0 9 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		 "   8       0 sda 10 1 2000 30 20 2 4000 50 0 1500 80 0 0 0 0 0 0\n"
		 "   8       1 sda1 5 0 1000 10 10 0 2000 20 0 700 30 0 0 0 0 0 0\n"
		 " 259       0 nvme0n1 1 0 8 1 2 0 16 1 0 2 2\n"
		 " 259       1 nvme0n1p1 1 0 8 1 2 0 16 1 0 2 2\n"
		 " 259       2 nvme0n10 3 0 24 1 4 0 32 1 0 4 2\n"
		 " 252       0 zram0 1 0 8 1 2 0 16 1 0 2 2\n"
		 "garbage line\n");
	put_file(dir, "net/dev",
		 "Inter-|   Receive                                                |  Transmit\n"
		 " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
		 "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0\n"
		 "  eth0:12345678   100    1    2    0     0          0         0   654321      50    3    4    0     0       0          0\n");
	return dir;
}

START_TEST(test_host_fake_proc)
{
	struct metrics *m = metrics_new();
	struct err e = { 0 };
	char *dir = fake_proc(), *text, want[8192];
	long page = sysconf(_SC_PAGESIZE);

	ck_assert_int_eq(sysconf(_SC_CLK_TCK), 100);
	ck_assert_int_eq(metrics_add_process_and_host_at(m, dir, &e), 0);
	text = render(m);
	snprintf(want, sizeof(want),
		"# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
		"# TYPE process_cpu_seconds_total counter\n"
		"process_cpu_seconds_total 3\n"
		"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
		"# TYPE process_resident_memory_bytes gauge\n"
		"process_resident_memory_bytes %ld\n"
		"# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
		"# TYPE process_virtual_memory_bytes gauge\n"
		"process_virtual_memory_bytes 104857600\n"
		"# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
		"# TYPE process_start_time_seconds gauge\n"
		"process_start_time_seconds 1700000005\n"
		"# HELP process_open_fds Number of open file descriptors.\n"
		"# TYPE process_open_fds gauge\n"
		"process_open_fds 4\n"
		"# HELP process_max_fds Maximum number of open file descriptors.\n"
		"# TYPE process_max_fds gauge\n"
		"process_max_fds 1024\n"
		"# HELP node_cpu_seconds_total Seconds all CPUs together spent in each mode.\n"
		"# TYPE node_cpu_seconds_total counter\n"
		"node_cpu_seconds_total{mode=\"idle\"} 4\n"
		"node_cpu_seconds_total{mode=\"iowait\"} 5\n"
		"node_cpu_seconds_total{mode=\"irq\"} 6\n"
		"node_cpu_seconds_total{mode=\"nice\"} 2\n"
		"node_cpu_seconds_total{mode=\"softirq\"} 7\n"
		"node_cpu_seconds_total{mode=\"steal\"} 8\n"
		"node_cpu_seconds_total{mode=\"system\"} 3\n"
		"node_cpu_seconds_total{mode=\"user\"} 1\n"
		"# HELP node_load1 1m load average.\n"
		"# TYPE node_load1 gauge\n"
		"node_load1 0.5\n"
		"# HELP node_memory_MemTotal_bytes Memory information field MemTotal_bytes.\n"
		"# TYPE node_memory_MemTotal_bytes gauge\n"
		"node_memory_MemTotal_bytes 16777216\n"
		"# HELP node_memory_MemAvailable_bytes Memory information field MemAvailable_bytes.\n"
		"# TYPE node_memory_MemAvailable_bytes gauge\n"
		"node_memory_MemAvailable_bytes 8388608\n"
		"# HELP node_disk_read_bytes_total The total number of bytes read successfully.\n"
		"# TYPE node_disk_read_bytes_total counter\n"
		"node_disk_read_bytes_total{device=\"nvme0n1\"} 4096\n"
		"node_disk_read_bytes_total{device=\"nvme0n10\"} 12288\n"
		"node_disk_read_bytes_total{device=\"sda\"} 1024000\n"
		"# HELP node_disk_written_bytes_total The total number of bytes written successfully.\n"
		"# TYPE node_disk_written_bytes_total counter\n"
		"node_disk_written_bytes_total{device=\"nvme0n1\"} 8192\n"
		"node_disk_written_bytes_total{device=\"nvme0n10\"} 16384\n"
		"node_disk_written_bytes_total{device=\"sda\"} 2048000\n"
		"# HELP node_disk_reads_completed_total The total number of reads completed successfully.\n"
		"# TYPE node_disk_reads_completed_total counter\n"
		"node_disk_reads_completed_total{device=\"nvme0n1\"} 1\n"
		"node_disk_reads_completed_total{device=\"nvme0n10\"} 3\n"
		"node_disk_reads_completed_total{device=\"sda\"} 10\n"
		"# HELP node_disk_writes_completed_total The total number of writes completed successfully.\n"
		"# TYPE node_disk_writes_completed_total counter\n"
		"node_disk_writes_completed_total{device=\"nvme0n1\"} 2\n"
		"node_disk_writes_completed_total{device=\"nvme0n10\"} 4\n"
		"node_disk_writes_completed_total{device=\"sda\"} 20\n"
		"# HELP node_disk_io_time_seconds_total Total seconds spent doing I/Os.\n"
		"# TYPE node_disk_io_time_seconds_total counter\n"
		"node_disk_io_time_seconds_total{device=\"nvme0n1\"} 0.002\n"
		"node_disk_io_time_seconds_total{device=\"nvme0n10\"} 0.004\n"
		"node_disk_io_time_seconds_total{device=\"sda\"} 1.5\n"
		"# HELP node_network_receive_bytes_total Network device statistic receive_bytes.\n"
		"# TYPE node_network_receive_bytes_total counter\n"
		"node_network_receive_bytes_total{device=\"eth0\"} 12345678\n"
		"node_network_receive_bytes_total{device=\"lo\"} 1000\n"
		"# HELP node_network_receive_packets_total Network device statistic receive_packets.\n"
		"# TYPE node_network_receive_packets_total counter\n"
		"node_network_receive_packets_total{device=\"eth0\"} 100\n"
		"node_network_receive_packets_total{device=\"lo\"} 10\n"
		"# HELP node_network_receive_errs_total Network device statistic receive_errs.\n"
		"# TYPE node_network_receive_errs_total counter\n"
		"node_network_receive_errs_total{device=\"eth0\"} 1\n"
		"node_network_receive_errs_total{device=\"lo\"} 0\n"
		"# HELP node_network_receive_drop_total Network device statistic receive_drop.\n"
		"# TYPE node_network_receive_drop_total counter\n"
		"node_network_receive_drop_total{device=\"eth0\"} 2\n"
		"node_network_receive_drop_total{device=\"lo\"} 0\n"
		"# HELP node_network_transmit_bytes_total Network device statistic transmit_bytes.\n"
		"# TYPE node_network_transmit_bytes_total counter\n"
		"node_network_transmit_bytes_total{device=\"eth0\"} 654321\n"
		"node_network_transmit_bytes_total{device=\"lo\"} 1000\n"
		"# HELP node_network_transmit_packets_total Network device statistic transmit_packets.\n"
		"# TYPE node_network_transmit_packets_total counter\n"
		"node_network_transmit_packets_total{device=\"eth0\"} 50\n"
		"node_network_transmit_packets_total{device=\"lo\"} 10\n"
		"# HELP node_network_transmit_errs_total Network device statistic transmit_errs.\n"
		"# TYPE node_network_transmit_errs_total counter\n"
		"node_network_transmit_errs_total{device=\"eth0\"} 3\n"
		"node_network_transmit_errs_total{device=\"lo\"} 0\n"
		"# HELP node_network_transmit_drop_total Network device statistic transmit_drop.\n"
		"# TYPE node_network_transmit_drop_total counter\n"
		"node_network_transmit_drop_total{device=\"eth0\"} 4\n"
		"node_network_transmit_drop_total{device=\"lo\"} 0\n",
		300 * page);
	ck_assert_str_eq(text, want);
	free(text);

	/* An interface that goes away goes from the output; an unreadable
	 * source drops its families rather than exporting stale values. */
	put_file(dir, "net/dev", "h1\nh2\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
	put_file(dir, "self/limits", "nothing useful\n");
	put_file(dir, "meminfo", "MemTotal: 1 kB\n");
	text = render(m);
	ck_assert_ptr_null(strstr(text, "eth0"));
	ck_assert_ptr_nonnull(strstr(text, "node_network_receive_bytes_total{device=\"lo\"} 1\n"));
	ck_assert_ptr_null(strstr(text, "process_max_fds"));
	ck_assert_ptr_null(strstr(text, "MemAvailable"));
	ck_assert_ptr_nonnull(strstr(text, "node_memory_MemTotal_bytes 1024\n"));
	free(text);
	put_file(dir, "self/stat", "1234 (x)\n");
	put_file(dir, "stat", "nothing\n");
	text = render(m);
	ck_assert_ptr_null(strstr(text, "process_cpu_seconds_total"));
	ck_assert_ptr_null(strstr(text, "process_start_time_seconds"));
	ck_assert_ptr_null(strstr(text, "node_cpu_seconds_total"));
	free(text);

	/* no proc at all: nothing, and no error */
	metrics_free(m);
	m = metrics_new();
	ck_assert_int_eq(metrics_add_process_and_host_at(m, "/nonexistent", &e), 0);
	text = render(m);
	ck_assert_str_eq(text, "");
	free(text);
	metrics_free(m);
}
END_TEST

START_TEST(test_host_real_proc)
{
	struct metrics *m = metrics_new();
	struct err e = { 0 };
	volatile double x = 0;
	char *text;
	double cpu1, cpu2, start;

	ck_assert_int_eq(metrics_add_process_and_host(m, &e), 0);
	text = render(m);
	cpu1 = value_of(text, "process_cpu_seconds_total ");
	ck_assert_msg(cpu1 >= 0, "process_cpu_seconds_total %g", cpu1);
	ck_assert_msg(value_of(text, "process_resident_memory_bytes ") > 0, "rss");
	ck_assert_msg(value_of(text, "process_virtual_memory_bytes ") > 0, "vsize");
	ck_assert_msg(value_of(text, "process_open_fds ") >= 3, "open fds");
	ck_assert_msg(value_of(text, "process_max_fds ") >= 3, "max fds");
	start = value_of(text, "process_start_time_seconds ");
	ck_assert_msg(start > 1e9 && start <= (double)time(NULL) + 2, "start %f", start);
	ck_assert_msg(value_of(text, "node_cpu_seconds_total{mode=\"idle\"} ") >= 0, "idle");
	ck_assert_msg(value_of(text, "node_cpu_seconds_total{mode=\"user\"} ") > 0, "user");
	ck_assert_msg(value_of(text, "node_memory_MemTotal_bytes ") > 0, "memtotal");
	ck_assert_msg(value_of(text, "node_network_receive_bytes_total{device=\"lo\"} ") >= 0, "lo");
	ck_assert_msg(value_of(text, "node_load1 ") >= 0, "load1");
	free(text);
	/* burn some cpu: the counter does not go back */
	for (long i = 0; i < 20000000; i++)
		x += (double)i;
	ck_assert(x > 0);
	text = render(m);
	cpu2 = value_of(text, "process_cpu_seconds_total ");
	ck_assert_msg(cpu2 >= cpu1, "cpu %g then %g", cpu1, cpu2);
	free(text);
	metrics_free(m);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc;

	tc = tcase_create("golden");
	tcase_add_test(tc, test_golden_counters_gauges);
	tcase_add_test(tc, test_golden_numbers);
	tcase_add_test(tc, test_golden_histogram);
	tcase_add_test(tc, test_histogram_edges);
	tcase_add_test(tc, test_latency_buckets);
	tcase_add_test(tc, test_bucket_helpers);
	suite_add_tcase(s, tc);

	tc = tcase_create("registry");
	tcase_add_test(tc, test_name_checks);
	tcase_add_test_raise_signal(tc, test_type_mismatch_asserts, SIGABRT);
	tcase_add_test_raise_signal(tc, test_label_count_asserts, SIGABRT);
	tcase_add_test(tc, test_family_remove);
	tcase_add_test(tc, test_collectors);
	suite_add_tcase(s, tc);

	tc = tcase_create("hot_path");
	tcase_add_test(tc, test_hot_path_no_alloc);
	tcase_add_test(tc, test_cardinality_limit);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);

	tc = tcase_create("out_of_memory");
	tcase_add_test(tc, test_oom_child_is_sink);
	tcase_add_test(tc, test_oom_registration);
	tcase_add_test(tc, test_oom_render);
	suite_add_tcase(s, tc);

	tc = tcase_create("host");
	tcase_add_test(tc, test_host_fake_proc);
	tcase_add_test(tc, test_host_real_proc);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(metrics_suite)
