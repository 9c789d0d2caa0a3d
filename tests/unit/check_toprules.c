/* Unit tests for tools/toprules: which bottleneck `dnsfsctl top` names for
 * given figures — a slow blockd among peers (and not a merely noisy one),
 * a node that does not answer first, Redis's share of update time, a busy
 * cpu, a part that is not running, and nothing on a quiet cluster. */
#include <math.h>
#include <string.h>

#include "check_main.h"
#include "toprules.h"

static struct toprules_node nodes[6];
static const char *const names[6] = {
	"mds", "redis", "blockd-1", "blockd-2", "blockd-3", "blockd-4",
};
static struct toprules_finding out[TOPRULES_FINDINGS_MAX];

/* A healthy cluster: every part running, blockd fsync p99 2-3 ms. */
static void setup(void)
{
	static const double fsync[4] = { 0.002, 0.003, 0.0025, 0.002 };

	for (int i = 0; i < 6; i++) {
		nodes[i] = (struct toprules_node){
			.name = names[i], .pid = 100 + i, .state = 'S', .cpu = 0.05,
			.fsync99 = NAN, .put99 = NAN, .get99 = NAN, .upd = NAN,
			.commit99 = NAN, .share = NAN,
		};
		nodes[i].kind = i == 0 ? TOPRULES_MDS : i == 1 ? TOPRULES_REDIS : TOPRULES_BLOCKD;
		nodes[i].has_metrics = i != 1;
		nodes[i].answered = i != 1;
		if (i >= 2) {
			nodes[i].fsync99 = fsync[i - 2];
			nodes[i].put99 = 2 * fsync[i - 2];
		}
	}
	nodes[0].upd = 5;
	nodes[0].commit99 = 0.004;
	nodes[0].share = 0.9;
}

START_TEST(test_quiet_cluster)
{
	ck_assert_uint_eq(toprules_run(nodes, 6, out), 0);
}
END_TEST

START_TEST(test_slow_blockd_named_with_measurement)
{
	size_t n;

	nodes[4].fsync99 = 0.040;
	n = toprules_run(nodes, 6, out);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0].text,
			 "blockd-3: fsync p99 40.0 ms, 20.0x the median of the other blockds "
			 "(2.00 ms)");
	/* 2.5x the others: noise, not a bottleneck. */
	nodes[4].fsync99 = 0.005;
	ck_assert_uint_eq(toprules_run(nodes, 6, out), 0);
	/* 4x the others but under 5 ms: too fast to matter. */
	for (int i = 2; i < 6; i++)
		nodes[i].put99 = 0.001;
	nodes[3].put99 = 0.004;
	ck_assert_uint_eq(toprules_run(nodes, 6, out), 0);
	/* A blockd with no figure for the interval is left out of the median. */
	nodes[2].get99 = 0.050;
	ck_assert_uint_eq(toprules_run(nodes, 6, out), 0);
	nodes[3].get99 = 0.002;
	nodes[4].get99 = 0.003;
	ck_assert_uint_eq(toprules_run(nodes, 6, out), 1);
	ck_assert(strncmp(out[0].text, "blockd-1: GET p99 50.0 ms, 20.0x", 32) == 0);
}
END_TEST

START_TEST(test_not_answering_outranks_slow)
{
	size_t n;

	nodes[4].fsync99 = 0.040;
	nodes[3].answered = 0;
	nodes[3].why = "answer timed out after 1000 ms";
	nodes[3].state = 'T';
	nodes[3].fsync99 = NAN;
	nodes[3].put99 = NAN;
	n = toprules_run(nodes, 6, out);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(out[0].text, "blockd-2: /metrics not answered (answer timed out "
				      "after 1000 ms); its process is stopped (state T)");
	ck_assert(strncmp(out[1].text, "blockd-3: fsync p99", 19) == 0);
	/* Gone altogether. */
	nodes[3].state = 0;
	nodes[3].pid = 0;
	toprules_run(nodes, 6, out);
	ck_assert(strstr(out[0].text, "; no live process in its pid file") != NULL);
	nodes[1].pid = 0;                       /* redis has no /metrics: its pid */
	n = toprules_run(nodes, 6, out);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(out[1].text, "redis: not running (no live process in its pid file)");
}
END_TEST

START_TEST(test_redis_share_of_update_time)
{
	nodes[0].commit99 = 0.020;
	nodes[0].share = 0.8;
	ck_assert_uint_eq(toprules_run(nodes, 6, out), 1);
	ck_assert_str_eq(out[0].text, "mds: Redis commit latency is 80% of update time "
				      "(commit p99 20.0 ms, 5.0 updates/s)");
	nodes[0].share = 0.3;                   /* slow, but not for Redis */
	ck_assert_uint_eq(toprules_run(nodes, 6, out), 1);
	ck_assert_str_eq(out[0].text, "mds: update commit p99 20.0 ms (5.0 updates/s)");
}
END_TEST

START_TEST(test_busy_cpu)
{
	nodes[0].cpu = 0.97;
	ck_assert_uint_eq(toprules_run(nodes, 6, out), 1);
	ck_assert_str_eq(out[0].text, "mds: cpu 97% of one core: its event loop is saturated");
}
END_TEST

static Suite *toprules_suite(void)
{
	Suite *s = suite_create("toprules");
	TCase *tc = tcase_create("rules");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_quiet_cluster);
	tcase_add_test(tc, test_slow_blockd_named_with_measurement);
	tcase_add_test(tc, test_not_answering_outranks_slow);
	tcase_add_test(tc, test_redis_share_of_update_time);
	tcase_add_test(tc, test_busy_cpu);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(toprules_suite)
