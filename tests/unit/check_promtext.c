/* Unit tests for lib/promtext: parsing (labels, escapes, comments, bad
 * lines), sums over label matches, histograms gathered across series,
 * quantiles from the deltas of two scrapes, restarts, and a round trip
 * through lib/metrics's own rendering. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "metrics.h"
#include "promtext.h"

static const char text1[] =
	"# HELP reqs Requests.\n"
	"# TYPE reqs counter\n"
	"reqs{method=\"PUT\",code=\"201\"} 10\n"
	"reqs{method=\"PUT\",code=\"500\"} 2\n"
	"reqs{method=\"GET\",code=\"200\"} 5 1700000000000\n"
	"\n"
	"odd{path=\"a\\\\b\\\"c\\nd\"} +Inf\n"
	"up 1\n"
	"lat_bucket{method=\"PUT\",le=\"0.001\"} 0\n"
	"lat_bucket{method=\"PUT\",le=\"0.01\"} 4\n"
	"lat_bucket{method=\"PUT\",le=\"0.1\"} 8\n"
	"lat_bucket{method=\"PUT\",le=\"+Inf\"} 8\n"
	"lat_sum{method=\"PUT\"} 0.2\n"
	"lat_count{method=\"PUT\"} 8\n"
	"lat_bucket{method=\"GET\",le=\"0.001\"} 2\n"
	"lat_bucket{method=\"GET\",le=\"0.01\"} 2\n"
	"lat_bucket{method=\"GET\",le=\"0.1\"} 2\n"
	"lat_bucket{method=\"GET\",le=\"+Inf\"} 2\n"
	"lat_sum{method=\"GET\"} 0.001\n"
	"lat_count{method=\"GET\"} 2\n";

START_TEST(test_parse_and_sum)
{
	struct promtext p = { 0 };
	struct err e = { 0 };
	size_t n;

	ck_assert_int_eq(promtext_parse(&p, text1, strlen(text1), &e), 0);
	ck_assert_uint_eq(p.n, 17);
	ck_assert_str_eq(p.v[0]->name, "reqs");
	ck_assert_str_eq(promtext_label(p.v[0], "method"), "PUT");
	ck_assert_str_eq(promtext_label(p.v[0], "code"), "201");
	ck_assert_ptr_null(promtext_label(p.v[0], "le"));
	ck_assert(p.v[2]->value == 5);                  /* timestamp ignored */
	ck_assert_str_eq(promtext_label(p.v[3], "path"), "a\\b\"c\nd");
	ck_assert(isinf(p.v[3]->value));
	ck_assert(promtext_sum(&p, "reqs", NULL, &n) == 17 && n == 3);
	ck_assert(promtext_sum(&p, "reqs", "method=PUT", &n) == 12 && n == 2);
	ck_assert(promtext_sum(&p, "reqs", "method=PUT,code=500", &n) == 2 && n == 1);
	ck_assert(promtext_sum(&p, "reqs", "method=PU", &n) == 0 && n == 0);
	ck_assert(promtext_sum(&p, "missing", NULL, &n) == 0 && n == 0);
	ck_assert(promtext_sum(&p, "up", "", NULL) == 1);
	promtext_release(&p);
	ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(test_bad_lines)
{
	static const char *const bad[] = {
		"x{a=\"1\" 3\n", "x{a=1} 3\n", "x 12abc\n", "x\n", "9x 1\n", "x{=\"1\"} 2\n",
	};
	struct promtext p = { 0 };
	struct err e = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "ok 1\n%s", bad[i]);
		ck_assert_int_eq(promtext_parse(&p, buf, strlen(buf), &e), -EINVAL);
		ck_assert_msg(strncmp(e.msg, "line 2:", 7) == 0, "%s", e.msg);
		ck_assert_uint_eq(p.n, 1);             /* what came before is kept */
		promtext_release(&p);
	}
}
END_TEST

START_TEST(test_hist_and_quantile)
{
	struct promtext p = { 0 };
	struct promtext_hist h;
	struct err e = { 0 };

	ck_assert_int_eq(promtext_parse(&p, text1, strlen(text1), &e), 0);
	ck_assert_int_eq(promtext_hist(&p, "lat", "method=PUT", &h), 0);
	ck_assert_uint_eq(h.n, 4);
	ck_assert(isinf(h.le[3]) && h.cum[3] == 8 && h.count == 8);
	/* p50: rank 4 is the top of the (0.001, 0.01] bucket. */
	ck_assert_double_eq_tol(promtext_quantile(&h, 0.5), 0.01, 1e-12);
	/* p75: rank 6, half way through (0.01, 0.1]. */
	ck_assert_double_eq_tol(promtext_quantile(&h, 0.75), 0.055, 1e-12);
	/* Both methods together: 10 observations, 2 of them in the first bucket. */
	ck_assert_int_eq(promtext_hist(&p, "lat", NULL, &h), 0);
	ck_assert(h.count == 10 && h.cum[0] == 2);
	ck_assert_double_eq_tol(promtext_quantile(&h, 0.1), 0.0005, 1e-12);
	ck_assert_int_eq(promtext_hist(&p, "lat", "method=HEAD", &h), -ENOENT);
	ck_assert(isnan(promtext_quantile(&h, 0.5)));
	promtext_release(&p);
}
END_TEST

START_TEST(test_delta_between_scrapes)
{
	/* 1000 fast observations before, then 10 slow ones: the cumulative
	 * p99 stays fast, the p99 of the interval is slow. */
	static const char t0[] =
		"f_bucket{le=\"0.001\"} 1000\nf_bucket{le=\"0.1\"} 1000\n"
		"f_bucket{le=\"+Inf\"} 1000\nf_sum 0.5\nf_count 1000\n";
	static const char t1[] =
		"f_bucket{le=\"0.001\"} 1000\nf_bucket{le=\"0.1\"} 1010\n"
		"f_bucket{le=\"+Inf\"} 1010\nf_sum 1.0\nf_count 1010\n";
	static const char restarted[] =
		"f_bucket{le=\"0.001\"} 3\nf_bucket{le=\"0.1\"} 3\n"
		"f_bucket{le=\"+Inf\"} 4\nf_sum 2\nf_count 4\n";
	struct promtext a = { 0 }, b = { 0 }, c = { 0 };
	struct promtext_hist ha, hb, hc, d;
	struct err e = { 0 };

	ck_assert_int_eq(promtext_parse(&a, t0, strlen(t0), &e), 0);
	ck_assert_int_eq(promtext_parse(&b, t1, strlen(t1), &e), 0);
	ck_assert_int_eq(promtext_parse(&c, restarted, strlen(restarted), &e), 0);
	ck_assert_int_eq(promtext_hist(&a, "f", NULL, &ha), 0);
	ck_assert_int_eq(promtext_hist(&b, "f", NULL, &hb), 0);
	ck_assert_int_eq(promtext_hist(&c, "f", NULL, &hc), 0);
	ck_assert(promtext_quantile(&hb, 0.99) <= 0.001);
	ck_assert_int_eq(promtext_hist_delta(&hb, &ha, &d), 0);
	ck_assert(d.count == 10 && d.cum[0] == 0);
	ck_assert_double_eq_tol(d.sum, 0.5, 1e-12);
	ck_assert(promtext_quantile(&d, 0.99) > 0.09);
	/* Counters went down: the daemon restarted, count from zero. */
	ck_assert_int_eq(promtext_hist_delta(&hc, &hb, &d), 0);
	ck_assert(d.count == 4);
	/* A +Inf quantile is the largest finite bound. */
	ck_assert_double_eq_tol(promtext_quantile(&d, 1.0), 0.1, 1e-12);
	ck_assert(promtext_rate(30, 10, 2) == 10);
	ck_assert(promtext_rate(4, 10, 2) == 2);
	ck_assert(promtext_rate(4, 1, 0) == 0);
	promtext_release(&a);
	promtext_release(&b);
	promtext_release(&c);
}
END_TEST

START_TEST(test_round_trip_through_metrics)
{
	struct metrics *m = metrics_new();
	struct metrics_buf buf = { 0 };
	struct metrics_family *f;
	struct promtext p = { 0 };
	struct promtext_hist h;
	struct err e = { 0 };

	ck_assert_ptr_nonnull(m);
	f = metrics_histogram_family(m, "t_seconds", "x", METRICS_LABELS("op"),
				     metrics_latency_buckets, METRICS_LATENCY_NBUCKETS, &e);
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 98; i++)
		metrics_histogram_observe(metrics_histogram_get(f, "a"), 0.0007);
	metrics_histogram_observe(metrics_histogram_get(f, "a"), 0.04);
	metrics_histogram_observe(metrics_histogram_get(f, "a"), 0.04);
	metrics_histogram_observe(metrics_histogram_get(f, "b"), 3);
	ck_assert_int_eq(metrics_render(m, &buf), 0);
	ck_assert_int_eq(promtext_parse(&p, buf.data, buf.len, &e), 0);
	ck_assert_int_eq(promtext_hist(&p, "t_seconds", "op=a", &h), 0);
	ck_assert_uint_eq(h.n, METRICS_LATENCY_NBUCKETS + 1);
	ck_assert(h.count == 100);
	ck_assert(promtext_quantile(&h, 0.5) > 0.0005 && promtext_quantile(&h, 0.5) <= 0.001);
	ck_assert(promtext_quantile(&h, 0.99) > 0.025 && promtext_quantile(&h, 0.99) <= 0.05);
	ck_assert_int_eq(promtext_hist(&p, "t_seconds", NULL, &h), 0);
	ck_assert(h.count == 101);
	promtext_release(&p);
	metrics_buf_release(&buf);
	metrics_free(m);
}
END_TEST

static Suite *promtext_suite(void)
{
	Suite *s = suite_create("promtext");
	TCase *tc = tcase_create("parse");
	TCase *tq = tcase_create("quantiles");

	tcase_add_test(tc, test_parse_and_sum);
	tcase_add_test(tc, test_bad_lines);
	tcase_add_test(tq, test_hist_and_quantile);
	tcase_add_test(tq, test_delta_between_scrapes);
	tcase_add_test(tq, test_round_trip_through_metrics);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, tq);
	return s;
}

CHECK_MAIN(promtext_suite)
