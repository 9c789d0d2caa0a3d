/* Unit tests for lib/env: quoting, what a written file reads back as, the
 * shell syntax the reader accepts and what it refuses. Where bash is at hand
 * the written file is also sourced by a real shell. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "env.h"

static char dir[] = "/tmp/check_env.XXXXXX";
static char path[64];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/test.env", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
	strcpy(dir, "/tmp/check_env.XXXXXX");
}

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_quote)
{
	char out[64];

	ck_assert_int_eq(env_quote(out, sizeof(out), "dnsfs.test."), 0);
	ck_assert_str_eq(out, "dnsfs.test.");
	ck_assert_int_eq(env_quote(out, sizeof(out), "unix:/tmp/a-b_c/redis.sock"), 0);
	ck_assert_str_eq(out, "unix:/tmp/a-b_c/redis.sock");
	ck_assert_int_eq(env_quote(out, sizeof(out), "a:1 b:2"), 0);
	ck_assert_str_eq(out, "'a:1 b:2'");
	ck_assert_int_eq(env_quote(out, sizeof(out), ""), 0);
	ck_assert_str_eq(out, "''");
	ck_assert_int_eq(env_quote(out, sizeof(out), "it's $HOME"), 0);
	ck_assert_str_eq(out, "'it'\\''s $HOME'");
	ck_assert_int_eq(env_quote(out, 4, "a b"), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_set_get)
{
	struct env env;
	struct err e;

	env_init(&env);
	ck_assert_int_eq(env_set(&env, "A", "1", &e), 0);
	ck_assert_int_eq(env_set(&env, "B_2", "two", &e), 0);
	ck_assert_int_eq(env_set(&env, "A", "one", &e), 0);
	ck_assert_str_eq(env_get(&env, "A"), "one");
	ck_assert_str_eq(env_get(&env, "B_2"), "two");
	ck_assert_ptr_null(env_get(&env, "C"));
	ck_assert_uint_eq(env.n, 2);
	ck_assert_int_eq(env_set(&env, "2A", "x", &e), -EINVAL);
	ck_assert_int_eq(env_set(&env, "A-B", "x", &e), -EINVAL);
	ck_assert_int_eq(env_set(&env, "", "x", &e), -EINVAL);
	env_release(&env);
	ck_assert_uint_eq(env.n, 0);
}
END_TEST

/* Values that need every kind of quoting survive write + read. */
START_TEST(test_roundtrip)
{
	static const char *const vals[] = {
		"plain", "", "two words", "it's", "'", "\"dq\" $x `y` \\z", "a\nb", "~user",
		"#not a comment", "tab\there", "x=y",
	};
	struct env w, r;
	struct err e;
	struct stat st;
	char key[16];

	env_init(&w);
	env_init(&r);
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		snprintf(key, sizeof(key), "K%zu", i);
		ck_assert_int_eq(env_set(&w, key, vals[i], &e), 0);
	}
	ck_assert_int_eq(env_write(&w, path, 0600, "header line\nsecond", &e), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_msg(env_read(&r, path, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(r.n, w.n);
	for (size_t i = 0; i < w.n; i++) {
		ck_assert_str_eq(r.v[i].key, w.v[i].key);
		ck_assert_str_eq(r.v[i].value, w.v[i].value);
	}
	/* A real shell agrees on a value that needs the '\'' dance. */
	if (access("/bin/bash", X_OK) == 0) {
		char cmd[256], got[64] = "";
		FILE *p;

		snprintf(cmd, sizeof(cmd), "bash -c '. \"$0\" && printf %%s \"$K3$K4\"' %s", path);
		p = popen(cmd, "r");
		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(fgets(got, sizeof(got), p));
		pclose(p);
		ck_assert_str_eq(got, "it's'");
	}
	env_release(&w);
	env_release(&r);
}
END_TEST

START_TEST(test_read_shell_syntax)
{
	struct env env;
	struct err e;

	put("# comment\n\n  A=1\nexport B=two\nC='x y' # trailing comment\n"
	    "D=\"q \\\"z\\\" \\\\ \\n\"\nE=a\\ b\nF=\nG=''\"\"mix'ed'\nA=again\n");
	env_init(&env);
	ck_assert_msg(env_read(&env, path, &e) == 0, "%s", e.msg);
	ck_assert_str_eq(env_get(&env, "A"), "again");
	ck_assert_str_eq(env_get(&env, "B"), "two");
	ck_assert_str_eq(env_get(&env, "C"), "x y");
	ck_assert_str_eq(env_get(&env, "D"), "q \"z\" \\ \\n");
	ck_assert_str_eq(env_get(&env, "E"), "a b");
	ck_assert_str_eq(env_get(&env, "F"), "");
	ck_assert_str_eq(env_get(&env, "G"), "mixed");
	env_release(&env);
}
END_TEST

static void refuse(const char *text, const char *why)
{
	struct env env;
	struct err e;

	put(text);
	env_init(&env);
	ck_assert_int_eq(env_read(&env, path, &e), -EINVAL);
	ck_assert_msg(strstr(e.msg, why) != NULL, "'%s' gave '%s'", text, e.msg);
	ck_assert_msg(strstr(e.msg, path) != NULL, "no file name in '%s'", e.msg);
	env_release(&env);
}

START_TEST(test_read_refuses)
{
	refuse("A=1\nB=$HOME\n", ":2: shell syntax");
	refuse("A=\"$HOME\"\n", "expansion");
	refuse("A=`id`\n", "shell syntax");
	refuse("A=b c\n", "more than one word");
	refuse("A='open\n", "unterminated '");
	refuse("A=\"open\n", "unterminated \"");
	refuse("just words\n", "expected KEY=value");
	refuse("1A=x\n", "expected KEY=value");
	refuse("A=~/x\n", "tilde");
	refuse("A=x;rm\n", "shell syntax");
	refuse("A=x\\\n", "continuation");
}
END_TEST

START_TEST(test_read_missing)
{
	struct env env;
	struct err e;

	env_init(&env);
	ck_assert_int_eq(env_read(&env, "/nonexistent/x.env", &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "/nonexistent/x.env"));
	env_release(&env);
}
END_TEST

static Suite *env_suite(void)
{
	Suite *s = suite_create("env");
	TCase *t = tcase_create("quote");

	tcase_add_test(t, test_quote);
	tcase_add_test(t, test_set_get);
	suite_add_tcase(s, t);
	t = tcase_create("file");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_roundtrip);
	tcase_add_test(t, test_read_shell_syntax);
	tcase_add_test(t, test_read_refuses);
	tcase_add_test(t, test_read_missing);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(env_suite)
