/* Unit tests for lib/log: the stderr line format, level filtering, the
 * defaults before log_init, escaping and cutting of messages, whole lines
 * from concurrent threads, and level names. stderr is captured in a file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "log.h"

/* ------------------------------------------------------ stderr capture -- */

static int saved_stderr = -1;
static int capture_fd = -1;

static void capture_begin(void)
{
	char path[] = "/tmp/check_log.XXXXXX";

	capture_fd = mkstemp(path);
	ck_assert_int_ge(capture_fd, 0);
	unlink(path);
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	ck_assert_int_ge(saved_stderr, 0);
	ck_assert_int_eq(dup2(capture_fd, STDERR_FILENO), STDERR_FILENO);
}

/* Restore stderr; return what was written (static, NUL-terminated). */
static const char *capture_end(void)
{
	static char buf[1 << 20];
	ssize_t n, total = 0;

	ck_assert_int_eq(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	lseek(capture_fd, 0, SEEK_SET);
	while ((n = read(capture_fd, buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	close(capture_fd);
	buf[total] = '\0';
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void assert_matches(const char *text, const char *pattern)
{
	regex_t re;

	ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NEWLINE | REG_NOSUB), 0);
	ck_assert_msg(regexec(&re, text, 0, NULL, 0) == 0,
		      "'%s' does not match /%s/", text, pattern);
	regfree(&re);
}

#define STAMP "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

/* ---------------------------------------------------------------- tests -- */

/* Before log_init: stderr, level info, ident "dnsfs". Runs in its own
 * process (Check forks), so nothing has configured the logger. */
START_TEST(test_defaults)
{
	const char *out;
	char pat[256];

	ck_assert_int_eq(log_get_level(), LOG_LEVEL_INFO);
	capture_begin();
	log_info("first %d", 1);
	log_debug("hidden");
	out = capture_end();
	snprintf(pat, sizeof(pat), "^" STAMP " dnsfs\\[%ld\\] info: first 1\n$",
		 (long)getpid());
	assert_matches(out, pat);
}
END_TEST

START_TEST(test_format)
{
	const char *out;
	char pat[256];
	int year, mon, day, hh, mm, ss, ms;
	struct tm tm = {0};
	time_t now = time(NULL), then;

	ck_assert_int_eq(log_init("dnsfs-mds", LOG_LEVEL_DEBUG, 0), 0);
	capture_begin();
	log_warn("disk %s is %d%% full", "/srv", 93);
	out = capture_end();
	snprintf(pat, sizeof(pat),
		 "^" STAMP " dnsfs-mds\\[%ld\\] warn: disk /srv is 93%% full\n$",
		 (long)getpid());
	assert_matches(out, pat);
	/* the stamp is now, in UTC */
	ck_assert_int_eq(sscanf(out, "%d-%d-%dT%d:%d:%d.%dZ", &year, &mon, &day,
				&hh, &mm, &ss, &ms), 7);
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	then = timegm(&tm);
	ck_assert_int_le(labs((long)(then - now)), 2);
	ck_assert_int_lt(ms, 1000);
	log_close();
}
END_TEST

START_TEST(test_levels)
{
	const char *out;

	ck_assert_int_eq(log_init("lv", LOG_LEVEL_WARN, 0), 0);
	ck_assert(log_enabled(LOG_LEVEL_ERROR));
	ck_assert(log_enabled(LOG_LEVEL_WARN));
	ck_assert(!log_enabled(LOG_LEVEL_NOTICE));
	capture_begin();
	log_err("e");
	log_warn("w");
	log_notice("n");
	log_info("i");
	log_debug("d");
	log_set_level(LOG_LEVEL_DEBUG);
	log_debug("d2");
	log_set_level(99);              /* ignored */
	log_notice("n2");
	log_set_level(LOG_LEVEL_ERROR);
	log_warn("w3");
	log_err("e3");
	out = capture_end();
	ck_assert_uint_eq(count_lines(out), 5);
	assert_matches(out, " lv\\[[0-9]+\\] error: e$");
	assert_matches(out, " lv\\[[0-9]+\\] warn: w$");
	assert_matches(out, " debug: d2$");
	assert_matches(out, " notice: n2$");
	assert_matches(out, " error: e3$");
	ck_assert_ptr_null(strstr(out, ": i\n"));
	ck_assert_ptr_null(strstr(out, ": d\n"));
	ck_assert_ptr_null(strstr(out, ": w3\n"));
	/* an invalid level changes nothing */
	ck_assert_int_eq(log_init("other", 5, 0), -EINVAL);
	ck_assert_int_eq(log_init("other", -1, 0), -EINVAL);
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_ERROR);
	/* nor is a message of an invalid level written */
	capture_begin();
	log_msg(7, "bogus");
	log_msg(-1, "bogus");
	ck_assert_str_eq(capture_end(), "");
	log_close();
	ck_assert_int_eq(log_get_level(), LOG_LEVEL_INFO);
}
END_TEST

START_TEST(test_escape_and_cut)
{
	static char big[3 * LOG_LINE_MAX];
	const char *out;
	const char *nl;

	ck_assert_int_eq(log_init("esc", LOG_LEVEL_INFO, 0), 0);
	capture_begin();
	log_info("ends in a newline\n");
	log_info("name=%s", "evil\n2026-01-01T00:00:00.000Z dnsfs-mds[1] error: forged");
	log_info("tab\there bell\a del\x7f");
	out = capture_end();
	ck_assert_uint_eq(count_lines(out), 3);
	assert_matches(out, " info: ends in a newline$");
	assert_matches(out, " info: name=evil\\\\n2026-01-01T00:00:00.000Z dnsfs-mds\\[1\\] error: forged$");
	assert_matches(out, " info: tab\\\\there bell\\\\x07 del\\\\x7f$");

	/* a message longer than a line is cut and marked */
	memset(big, 'z', sizeof(big) - 1);
	capture_begin();
	log_info("%s", big);
	log_info("\x01\x01\x01%s", big);
	out = capture_end();
	ck_assert_uint_eq(count_lines(out), 2);
	nl = strchr(out, '\n');
	ck_assert_uint_lt((size_t)(nl - out), LOG_LINE_MAX + 128);
	ck_assert(strncmp(nl - 4, "z...", 4) == 0);
	ck_assert(strncmp(out + strlen(out) - 5, "z...\n", 5) == 0);
	log_close();
}
END_TEST

START_TEST(test_errno_preserved)
{
	capture_begin();
	errno = EAGAIN;
	log_info("x");
	ck_assert_int_eq(errno, EAGAIN);
	/* a hidden message does not touch it either */
	log_debug("y");
	ck_assert_int_eq(errno, EAGAIN);
	capture_end();
}
END_TEST

/* syslog goes elsewhere: nothing reaches stderr (the test only proves the
 * switch; the system logger may not even run here). */
START_TEST(test_syslog)
{
	ck_assert_int_eq(log_init("dnsfs-test", LOG_LEVEL_DEBUG, 1), 0);
	capture_begin();
	log_err("to syslog");
	log_debug("to syslog too");
	ck_assert_str_eq(capture_end(), "");
	/* and back */
	ck_assert_int_eq(log_init("dnsfs-test", LOG_LEVEL_DEBUG, 0), 0);
	capture_begin();
	log_err("to stderr");
	assert_matches(capture_end(), " dnsfs-test\\[[0-9]+\\] error: to stderr$");
	log_close();
}
END_TEST

#define THREADS 4
#define PER_THREAD 500

static void *spam(void *arg)
{
	long t = (long)arg;

	for (int i = 0; i < PER_THREAD; i++)
		log_info("thread %ld line %d %s", t, i,
			 "padding padding padding padding padding padding padding");
	return NULL;
}

START_TEST(test_threads_whole_lines)
{
	pthread_t th[THREADS];
	const char *out, *p;
	regex_t re;
	size_t lines = 0;

	ck_assert_int_eq(log_init("thr", LOG_LEVEL_INFO, 0), 0);
	capture_begin();
	for (long t = 0; t < THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, spam, (void *)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	out = capture_end();
	ck_assert_int_eq(regcomp(&re, "^" STAMP " thr\\[[0-9]+\\] info: thread [0-3] "
				 "line [0-9]+ (padding ?){7}$", REG_EXTENDED | REG_NOSUB), 0);
	for (p = out; *p; lines++) {
		const char *nl = strchr(p, '\n');
		char line[256];

		ck_assert_ptr_nonnull(nl);
		ck_assert_uint_lt((size_t)(nl - p), sizeof(line));
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		if (regexec(&re, line, 0, NULL, 0) != 0)
			ck_abort_msg("mangled line '%s'", line);
		p = nl + 1;
	}
	regfree(&re);
	ck_assert_uint_eq(lines, THREADS * PER_THREAD);
	log_close();
}
END_TEST

START_TEST(test_level_names)
{
	ck_assert_int_eq(log_level_parse("error"), LOG_LEVEL_ERROR);
	ck_assert_int_eq(log_level_parse("err"), LOG_LEVEL_ERROR);
	ck_assert_int_eq(log_level_parse("warn"), LOG_LEVEL_WARN);
	ck_assert_int_eq(log_level_parse("Warning"), LOG_LEVEL_WARN);
	ck_assert_int_eq(log_level_parse("notice"), LOG_LEVEL_NOTICE);
	ck_assert_int_eq(log_level_parse("info"), LOG_LEVEL_INFO);
	ck_assert_int_eq(log_level_parse("INFO"), LOG_LEVEL_INFO);
	ck_assert_int_eq(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_level_parse(""), -EINVAL);
	ck_assert_int_eq(log_level_parse("inf"), -EINVAL);
	ck_assert_int_eq(log_level_parse("info "), -EINVAL);
	ck_assert_int_eq(log_level_parse("verbose"), -EINVAL);
	ck_assert_int_eq(log_level_parse("3"), -EINVAL);
	for (int l = LOG_LEVEL_ERROR; l <= LOG_LEVEL_DEBUG; l++)
		ck_assert_int_eq(log_level_parse(log_level_name(l)), l);
	ck_assert_str_eq(log_level_name(LOG_LEVEL_WARN), "warn");
	ck_assert_str_eq(log_level_name(5), "?");
	ck_assert_str_eq(log_level_name(-1), "?");
}
END_TEST

/* At most burst lines a second pass; the next one that passes is preceded
 * by the count of the suppressed; levels not enabled are not counted. */
START_TEST(test_limit)
{
	struct log_limit l = { .burst = 3 };
	const char *out;
	int passed = 0;

	ck_assert_int_eq(log_init("lim", LOG_LEVEL_INFO, 0), 0);
	capture_begin();
	for (int i = 0; i < 10; i++)
		if (log_limit_pass_at(&l, LOG_LEVEL_INFO, 100)) {
			log_info("line %d", i);
			passed++;
		}
	ck_assert_int_eq(passed, 3);
	ck_assert_uint_eq(l.suppressed, 7);
	/* debug is off: neither written nor counted */
	ck_assert_int_eq(log_limit_pass_at(&l, LOG_LEVEL_DEBUG, 100), 0);
	ck_assert_uint_eq(l.suppressed, 7);
	/* a new second: the report, then the line */
	ck_assert_int_eq(log_limit_pass_at(&l, LOG_LEVEL_INFO, 101), 1);
	log_info("after");
	ck_assert_uint_eq(l.suppressed, 0);
	out = capture_end();
	ck_assert_uint_eq(count_lines(out), 5);
	assert_matches(out, " info: line 2$");
	assert_matches(out, " info: \\(7 similar messages suppressed: more than 3 a second\\)$");
	ck_assert_ptr_null(strstr(out, "line 3"));
	ck_assert_ptr_nonnull(strstr(out, "suppressed: more than 3 a second)\n"));
	ck_assert_ptr_nonnull(strstr(strstr(out, "suppressed"), "info: after"));
	/* the macro, with the default burst and the real clock */
	memset(&l, 0, sizeof(l));
	capture_begin();
	for (int i = 0; i < 5; i++)
		log_limited(&l, LOG_LEVEL_INFO, "macro %d", i);
	ck_assert_uint_eq(count_lines(capture_end()), 5);
	log_close();
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("stderr");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_escape_and_cut);
	tcase_add_test(tc, test_errno_preserved);
	tcase_add_test(tc, test_syslog);
	tcase_add_test(tc, test_threads_whole_lines);
	suite_add_tcase(s, tc);
	tc = tcase_create("levels");
	tcase_add_test(tc, test_level_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("limit");
	tcase_add_test(tc, test_limit);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(log_suite)
