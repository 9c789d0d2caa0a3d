/* Unit tests for lib/conf: the file format (comments, quoting, repeats,
 * line endings), every parse error with its "NAME:LINE: " message, loading
 * files, and the typed getters with their units and range errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "conf.h"

/* Parse text, expecting failure with exactly this code and message. */
static void expect_error(const char *text, size_t len, int code, const char *msg)
{
	struct err e = {0};
	struct config *c = config_parse(text, len, "mds.conf", &e);

	ck_assert_msg(c == NULL, "parsed, but wanted error '%s'", msg);
	ck_assert_int_eq(e.code, code);
	ck_assert_str_eq(e.msg, msg);
}

#define EXPECT_ERROR(text, msg) expect_error((text), strlen(text), -EINVAL, (msg))

static struct config *parse_ok(const char *text)
{
	struct err e = {0};
	struct config *c = config_parse_string(text, "mds.conf", &e);

	ck_assert_msg(c != NULL, "parse failed: %s", e.msg);
	return c;
}

/* --------------------------------------------------------------- format -- */

START_TEST(test_basic)
{
	struct config *c = parse_ok(
		"# dnsfs-mds configuration\n"
		"\n"
		"zone = fs.example.\n"
		"   listen=127.0.0.1:5300\n"
		"listen\t=\t[::1]:5300   # IPv6 too\n"
		"\t# indented comment\n"
		"color = red#not-a-comment\n"
		"path = /var/lib/dnsfs  \n"
		"listen = 0.0.0.0:53\n"
		"a.b_c-9 = x = y\n"
		"zone = fs2.example.");       /* no final newline */
	const struct config_entry *ent;
	const char *want[] = { "127.0.0.1:5300", "[::1]:5300", "0.0.0.0:53" };
	unsigned lines[] = { 4, 5, 9 };
	size_t i = 0;

	ck_assert_uint_eq(c->n, 8);
	ck_assert_str_eq(c->name, "mds.conf");
	ck_assert_str_eq(config_get(c, "zone"), "fs2.example.");  /* last wins */
	ck_assert_uint_eq(config_find(c, "zone")->line, 11);
	ck_assert_str_eq(config_get(c, "color"), "red#not-a-comment");
	ck_assert_str_eq(config_get(c, "path"), "/var/lib/dnsfs");
	ck_assert_str_eq(config_get(c, "a.b_c-9"), "x = y");
	ck_assert_ptr_null(config_get(c, "missing"));
	ck_assert_ptr_null(config_find(c, "missing"));
	ck_assert_uint_eq(config_count(c, "listen"), 3);
	ck_assert_uint_eq(config_count(c, "missing"), 0);
	for (ent = config_next(c, "listen", NULL); ent; ent = config_next(c, "listen", ent)) {
		ck_assert_uint_lt(i, 3);
		ck_assert_str_eq(ent->value, want[i]);
		ck_assert_uint_eq(ent->line, lines[i]);
		i++;
	}
	ck_assert_uint_eq(i, 3);
	ck_assert_ptr_null(config_next(c, "missing", NULL));
	config_free(c);
	config_free(NULL);
}
END_TEST

struct collect {
	char buf[256];
	int stop_after;
	int seen;
};

static int collect_fn(const struct config_entry *ent, void *arg)
{
	struct collect *col = arg;

	strcat(col->buf, ent->value);
	strcat(col->buf, ";");
	return ++col->seen == col->stop_after ? 42 : 0;
}

START_TEST(test_get_all)
{
	struct config *c = parse_ok("k = 1\nother = x\nk = 2\nk = 3\n");
	struct collect col = { "", 0, 0 };

	ck_assert_int_eq(config_get_all(c, "k", collect_fn, &col), 0);
	ck_assert_str_eq(col.buf, "1;2;3;");
	memset(&col, 0, sizeof(col));
	col.stop_after = 2;
	ck_assert_int_eq(config_get_all(c, "k", collect_fn, &col), 42);
	ck_assert_str_eq(col.buf, "1;2;");
	memset(&col, 0, sizeof(col));
	ck_assert_int_eq(config_get_all(c, "none", collect_fn, &col), 0);
	ck_assert_int_eq(col.seen, 0);
	config_free(c);
}
END_TEST

START_TEST(test_quoted)
{
	struct config *c = parse_ok(
		"motd = \"  # kept, spaces too  \"\n"
		"esc = \"say \\\"hi\\\" C:\\\\dir\"   # comment after\n"
		"empty = \"\"\n"
		"tight = \"x\"# comment right after the quote\n"
		"inner = a \"b\" c\n");

	ck_assert_str_eq(config_get(c, "motd"), "  # kept, spaces too  ");
	ck_assert_str_eq(config_get(c, "esc"), "say \"hi\" C:\\dir");
	ck_assert_str_eq(config_get(c, "empty"), "");
	ck_assert_str_eq(config_get(c, "tight"), "x");
	/* quotes only quote when they open the value */
	ck_assert_str_eq(config_get(c, "inner"), "a \"b\" c");
	config_free(c);
}
END_TEST

START_TEST(test_line_endings)
{
	struct config *c = parse_ok("a = 1\r\nb = \"two\"\r\n\r\n# c\r\nc = 3");

	ck_assert_str_eq(config_get(c, "a"), "1");
	ck_assert_str_eq(config_get(c, "b"), "two");
	ck_assert_str_eq(config_get(c, "c"), "3");
	ck_assert_uint_eq(config_find(c, "c")->line, 5);
	config_free(c);
	c = parse_ok("");
	ck_assert_uint_eq(c->n, 0);
	config_free(c);
	c = parse_ok("\n\n# only comments\n");
	ck_assert_uint_eq(c->n, 0);
	config_free(c);
}
END_TEST

/* --------------------------------------------------------------- errors -- */

START_TEST(test_parse_errors)
{
	EXPECT_ERROR("# header\n\n\n\n\nzone = x\njust some words\n",
		     "mds.conf:7: expected 'key = value'");
	EXPECT_ERROR("a = 1\nb = 2\nmotd = \"never closed\n",
		     "mds.conf:3: unterminated quoted value");
	EXPECT_ERROR("motd = \"ends in a backslash\\\n",
		     "mds.conf:1: unterminated quoted value");
	EXPECT_ERROR("motd = \"bad \\n escape\"\n",
		     "mds.conf:1: invalid escape '\\n' in quoted value (only \\\" and \\\\)");
	EXPECT_ERROR("motd = \"a\" b\n",
		     "mds.conf:1: unexpected text after quoted value");
	EXPECT_ERROR("\nZone = x\n",
		     "mds.conf:2: invalid key 'Zone' (allowed: a-z 0-9 _ . -)");
	EXPECT_ERROR("my key = x\n",
		     "mds.conf:1: invalid key 'my key' (allowed: a-z 0-9 _ . -)");
	EXPECT_ERROR(" = x\n", "mds.conf:1: missing key before '='");
	EXPECT_ERROR("zone =\n",
		     "mds.conf:1: missing value for 'zone' (write \"\" for an empty value)");
	EXPECT_ERROR("zone =    # nothing\n",
		     "mds.conf:1: missing value for 'zone' (write \"\" for an empty value)");
	EXPECT_ERROR("zone\n", "mds.conf:1: expected 'key = value'");
	EXPECT_ERROR("a = 1\nb = x\x01y\n", "mds.conf:2: control character 0x01 in line");
	EXPECT_ERROR("a = 1\rb = 2\n", "mds.conf:1: control character 0x0d in line");
	expect_error("a = 1\nb = x\0y\n", 12, -EINVAL, "mds.conf:2: NUL byte in line");
	/* a parse error without e is still an error */
	ck_assert_ptr_null(config_parse_string("oops\n", "x", NULL));
}
END_TEST

START_TEST(test_line_length)
{
	static char text[CONFIG_LINE_MAX + 64];
	struct config *c;
	size_t n;

	/* exactly CONFIG_LINE_MAX bytes (plus CRLF) is fine */
	n = (size_t)snprintf(text, sizeof(text), "k = ");
	memset(text + n, 'v', CONFIG_LINE_MAX - n);
	memcpy(text + CONFIG_LINE_MAX, "\r\nz = 1\n", 9);
	c = parse_ok(text);
	ck_assert_uint_eq(strlen(config_get(c, "k")), CONFIG_LINE_MAX - 4);
	ck_assert_str_eq(config_get(c, "z"), "1");
	config_free(c);
	/* one more byte is not */
	memcpy(text + CONFIG_LINE_MAX, "v\nz = 1\n", 9);
	EXPECT_ERROR(text, "mds.conf:1: line too long (more than 4096 bytes)");
	memmove(text + 6, text, strlen(text) + 1);
	memcpy(text, "a = 1\n", 6);
	EXPECT_ERROR(text, "mds.conf:2: line too long (more than 4096 bytes)");
}
END_TEST

/* ---------------------------------------------------------------- files -- */

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

START_TEST(test_load)
{
	char dir[] = "/tmp/check_conf.XXXXXX", path[128], msg[256];
	struct err e = {0};
	struct config *c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mds.conf", dir);

	/* missing file */
	ck_assert_ptr_null(config_load(path, &e));
	ck_assert_int_eq(e.code, -ENOENT);
	snprintf(msg, sizeof(msg), "%s: No such file or directory", path);
	ck_assert_str_eq(e.msg, msg);

	/* a good file; messages name it by its path */
	write_file(path, "zone = fs.example.\nworkers = 1000\n", 34);
	c = config_load(path, &e);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(config_get(c, "zone"), "fs.example.");
	{
		uint64_t w = 7;

		ck_assert_int_eq(config_get_u64(c, "workers", 4, 1, 64, &w, &e), -ERANGE);
		snprintf(msg, sizeof(msg),
			 "%s:2: workers: '1000' is out of range [1, 64]", path);
		ck_assert_str_eq(e.msg, msg);
		ck_assert_uint_eq(w, 7);
	}
	config_free(c);

	/* a bad file */
	write_file(path, "a = 1\nb c\n", 10);
	ck_assert_ptr_null(config_load(path, &e));
	snprintf(msg, sizeof(msg), "%s:2: expected 'key = value'", path);
	ck_assert_str_eq(e.msg, msg);

	/* NUL in a file */
	write_file(path, "a = 1\0\n", 7);
	ck_assert_ptr_null(config_load(path, &e));
	snprintf(msg, sizeof(msg), "%s:1: NUL byte in line", path);
	ck_assert_str_eq(e.msg, msg);

	/* a directory */
	ck_assert_ptr_null(config_load(dir, &e));
	ck_assert_int_eq(e.code, -EISDIR);
	ck_assert(strncmp(e.msg, dir, strlen(dir)) == 0);

	/* too large (sparse, so cheap) */
	{
		int fd = open(path, O_WRONLY | O_TRUNC);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, (off_t)CONFIG_FILE_MAX + 1), 0);
		close(fd);
	}
	ck_assert_ptr_null(config_load(path, &e));
	ck_assert_int_eq(e.code, -EFBIG);
	ck_assert(strstr(e.msg, path) != NULL);

	unlink(path);
	rmdir(dir);
}
END_TEST

/* -------------------------------------------------------- typed getters -- */

START_TEST(test_u64)
{
	struct config *c = parse_ok(
		"port = 5300\n"
		"zero = 0\n"
		"max = 18446744073709551615\n"
		"over = 18446744073709551616\n"
		"neg = -1\n"
		"word = many\n"
		"plus = +5\n"
		"frac = 1.5\n"
		"hex = 0x10\n");
	struct err e = {0};
	uint64_t v = 0;

	ck_assert_int_eq(config_get_u64(c, "port", 53, 1, 65535, &v, &e), 0);
	ck_assert_uint_eq(v, 5300);
	ck_assert_int_eq(config_get_u64(c, "absent", 53, 1, 65535, &v, &e), 0);
	ck_assert_uint_eq(v, 53);
	ck_assert_int_eq(config_get_u64(c, "zero", 1, 0, 10, &v, &e), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(config_get_u64(c, "max", 0, 0, UINT64_MAX, &v, &e), 0);
	ck_assert_uint_eq(v, UINT64_MAX);
	v = 99;
	ck_assert_int_eq(config_get_u64(c, "over", 0, 0, UINT64_MAX, &v, &e), -ERANGE);
	ck_assert_str_eq(e.msg, "mds.conf:4: over: '18446744073709551616' is too large");
	ck_assert_int_eq(config_get_u64(c, "neg", 0, 0, 10, &v, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "mds.conf:5: neg: '-1' is not a non-negative decimal integer");
	ck_assert_int_eq(config_get_u64(c, "word", 0, 0, 10, &v, &e), -EINVAL);
	ck_assert_int_eq(config_get_u64(c, "plus", 0, 0, 10, &v, &e), -EINVAL);
	ck_assert_int_eq(config_get_u64(c, "frac", 0, 0, 10, &v, &e), -EINVAL);
	ck_assert_int_eq(config_get_u64(c, "hex", 0, 0, 100, &v, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "mds.conf:9: hex: '0x10' is not a non-negative decimal integer");
	ck_assert_uint_eq(v, 99);
	ck_assert_int_eq(config_get_u64(c, "port", 0, 0, 1024, &v, &e), -ERANGE);
	ck_assert_str_eq(e.msg, "mds.conf:1: port: '5300' is out of range [0, 1024]");
	ck_assert_int_eq(config_get_u64(c, "port", 0, 6000, 7000, &v, &e), -ERANGE);
	config_free(c);
}
END_TEST

START_TEST(test_bool)
{
	static const char *const yes[] = { "yes", "true", "on", "1", "YES", "True", "On" };
	static const char *const no[] = { "no", "false", "off", "0", "NO", "False", "OFF" };
	static const char *const bad[] = { "y", "2", "enabled", "", "tru", "yes!" };
	struct err e = {0};
	struct config *c;
	int b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		ck_assert_int_eq(config_parse_bool(yes[i], &b), 0);
		ck_assert_int_eq(b, 1);
		ck_assert_int_eq(config_parse_bool(no[i], &b), 0);
		ck_assert_int_eq(b, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(config_parse_bool(bad[i], &b), -EINVAL);
	c = parse_ok("tcp = off\n\nudp = maybe\n");
	ck_assert_int_eq(config_get_bool(c, "tcp", 1, &b, &e), 0);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(config_get_bool(c, "absent", 1, &b, &e), 0);
	ck_assert_int_eq(b, 1);
	b = 7;
	ck_assert_int_eq(config_get_bool(c, "udp", 1, &b, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "mds.conf:3: udp: 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)");
	ck_assert_int_eq(b, 7);
	config_free(c);
}
END_TEST

START_TEST(test_duration)
{
	static const struct { const char *s; uint64_t ms; } good[] = {
		{ "10m", 600000 }, { "1s", 1000 }, { "250ms", 250 }, { "30", 30000 },
		{ "0", 0 }, { "1.5s", 1500 }, { "0.25", 250 }, { "1h", 3600000 },
		{ "2d", 172800000 }, { "10 s", 10000 }, { "0.001s", 1 },
		{ "1.5m", 90000 }, { "0ms", 0 },
	};
	static const char *const bad[] = {
		"", "s", "ms", "-1s", "10M", "10sec", "1.s", ".5s", "1.5ms",
		"0.0001s", "1s2", "1m30s", "10 ms x", "1e3",
	};
	struct err e = {0};
	struct config *c;
	uint64_t ms;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ck_assert_msg(config_parse_duration(good[i].s, &ms) == 0, "'%s'", good[i].s);
		ck_assert_msg(ms == good[i].ms, "'%s' -> %llu", good[i].s,
			      (unsigned long long)ms);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(config_parse_duration(bad[i], &ms) == -EINVAL, "'%s'", bad[i]);
	ck_assert_int_eq(config_parse_duration("213503982334d", &ms), 0);
	ck_assert_int_eq(config_parse_duration("213503982335d", &ms), -ERANGE);
	ck_assert_int_eq(config_parse_duration("99999999999999999999", &ms), -ERANGE);

	c = parse_ok("ttl = 1s\ngrace = 10 minutes\nlease = 2h\n");
	ck_assert_int_eq(config_get_duration(c, "ttl", 5000, 0, 60000, &ms, &e), 0);
	ck_assert_uint_eq(ms, 1000);
	ck_assert_int_eq(config_get_duration(c, "absent", 5000, 0, 60000, &ms, &e), 0);
	ck_assert_uint_eq(ms, 5000);
	ck_assert_int_eq(config_get_duration(c, "grace", 0, 0, 60000, &ms, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "mds.conf:2: grace: '10 minutes' is not a duration "
			 "(like 250ms, 10s, 5m, 1h, 1d; no unit: seconds)");
	ck_assert_int_eq(config_get_duration(c, "lease", 0, 1000, 3600000, &ms, &e), -ERANGE);
	ck_assert_str_eq(e.msg, "mds.conf:3: lease: '2h' is out of range [1000, 3600000] ms");
	config_free(c);
}
END_TEST

START_TEST(test_size)
{
	static const struct { const char *s; uint64_t n; } good[] = {
		{ "4MiB", 4194304 }, { "512k", 524288 }, { "4096", 4096 },
		{ "1.5G", 1610612736 }, { "10GB", 10000000000 }, { "1b", 1 },
		{ "4 MiB", 4194304 }, { "0.5k", 512 }, { "2kB", 2000 },
		{ "3KIB", 3072 }, { "1m", 1048576 }, { "1T", UINT64_C(1) << 40 },
		{ "1PiB", UINT64_C(1) << 50 }, { "1PB", UINT64_C(1000000000000000) },
		{ "0", 0 },
	};
	static const char *const bad[] = {
		"", "k", "4MiBs", "1.1b", "0.3k", "-4k", "4 M iB", "1E", "1EiB",
		"4Mi", "1,5G", "0x10",
	};
	struct err e = {0};
	struct config *c;
	uint64_t n;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int rc = config_parse_size(good[i].s, &n);

		ck_assert_msg(rc == 0, "'%s' -> %d", good[i].s, rc);
		ck_assert_msg(n == good[i].n, "'%s' -> %llu", good[i].s,
			      (unsigned long long)n);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(config_parse_size(bad[i], &n) == -EINVAL, "'%s'", bad[i]);
	/* 2^64 - 1 fits, 2^64 does not */
	ck_assert_int_eq(config_parse_size("18446744073709551615", &n), 0);
	ck_assert_uint_eq(n, UINT64_MAX);
	ck_assert_int_eq(config_parse_size("16384P", &n), -ERANGE);
	ck_assert_int_eq(config_parse_size("16383.75P", &n), 0);
	ck_assert_uint_eq(n, UINT64_C(16383) * (UINT64_C(1) << 50) + (UINT64_C(3) << 48));

	c = parse_ok("block_size = 1MiB\ncache = lots\n\n\nmax = 2GiB\n");
	ck_assert_int_eq(config_get_size(c, "block_size", 0, 4096, 1 << 30, &n, &e), 0);
	ck_assert_uint_eq(n, 1 << 20);
	ck_assert_int_eq(config_get_size(c, "absent", 77, 0, 100, &n, &e), 0);
	ck_assert_uint_eq(n, 77);
	ck_assert_int_eq(config_get_size(c, "cache", 0, 0, UINT64_MAX, &n, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "mds.conf:2: cache: 'lots' is not a size "
			 "(like 4096, 512k, 4MiB, 1G, 10GB)");
	ck_assert_int_eq(config_get_size(c, "max", 0, 0, 1 << 30, &n, &e), -ERANGE);
	ck_assert_str_eq(e.msg, "mds.conf:5: max: '2GiB' is out of range [0, 1073741824] bytes");
	config_free(c);
}
END_TEST

/* --------------------------------------------------------------- checks -- */

START_TEST(test_check_keys)
{
	static const char *const known[] = { "zone", "listen", "redis", NULL };
	static const char *const none[] = { NULL };
	struct config *c = parse_ok("zone = a.\nlisten = 1\nlisten = 2\n# x\nlisen = 3\nbad = 4\n");
	struct config *ok = parse_ok("listen = 1\nredis = x\n");
	struct config *empty = parse_ok("# nothing\n");
	struct err e = {0};

	ck_assert_int_eq(config_check_keys(c, known, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "mds.conf:5: unknown key 'lisen'");
	ck_assert_int_eq(config_check_keys(ok, known, &e), 0);
	ck_assert_int_eq(config_check_keys(empty, none, &e), 0);
	ck_assert_int_eq(config_check_keys(ok, none, &e), -EINVAL);
	ck_assert_str_eq(e.msg, "mds.conf:1: unknown key 'listen'");

	/* callers report their own checks in the same shape */
	ck_assert_int_eq(config_error(c, config_find(c, "zone"), &e, -EINVAL,
				      "%s: not a zone I serve", "zone"), -EINVAL);
	ck_assert_str_eq(e.msg, "mds.conf:1: zone: not a zone I serve");
	ck_assert_int_eq(config_error(c, NULL, &e, -ENOENT, "no 'redis' given"), -ENOENT);
	ck_assert_str_eq(e.msg, "mds.conf: no 'redis' given");
	config_free(c);
	config_free(ok);
	config_free(empty);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("format");

	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_get_all);
	tcase_add_test(tc, test_quoted);
	tcase_add_test(tc, test_line_endings);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_line_length);
	tcase_add_test(tc, test_load);
	suite_add_tcase(s, tc);
	tc = tcase_create("types");
	tcase_add_test(tc, test_u64);
	tcase_add_test(tc, test_bool);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_check_keys);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(conf_suite)
