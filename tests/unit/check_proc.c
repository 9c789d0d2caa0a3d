/* Unit tests for lib/proc: pid files, running and spawning programs with
 * only stdio inherited, identity checks that protect reused pids, stopping
 * with escalation to SIGKILL, and bounded waiting. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "proc.h"

static char dir[] = "/tmp/check_proc.XXXXXX";
static char path[64];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
	strcpy(dir, "/tmp/check_proc.XXXXXX");
}

START_TEST(test_pidfile)
{
	struct err e;
	pid_t pid = 0;
	FILE *f;

	ck_assert_int_eq(proc_pidfile_read(path, &pid, &e), -ENOENT);
	ck_assert_int_eq(proc_pidfile_write(path, 4242, &e), 0);
	ck_assert_int_eq(proc_pidfile_read(path, &pid, &e), 0);
	ck_assert_int_eq(pid, 4242);
	f = fopen(path, "w");
	fputs("12abc\n", f);
	fclose(f);
	ck_assert_int_eq(proc_pidfile_read(path, &pid, &e), -EINVAL);
	f = fopen(path, "w");
	fputs("-5\n", f);
	fclose(f);
	ck_assert_int_eq(proc_pidfile_read(path, &pid, &e), -EINVAL);
	f = fopen(path, "w");
	fputs("77", f);        /* no newline, as some daemons write it */
	fclose(f);
	ck_assert_int_eq(proc_pidfile_read(path, &pid, &e), 0);
	ck_assert_int_eq(pid, 77);
}
END_TEST

START_TEST(test_find_exe)
{
	char out[4096];

	ck_assert_int_eq(proc_find_exe("sh", out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "/sh"));
	ck_assert_int_eq(proc_find_exe("dnsfs-no-such-program", out, sizeof(out)), -ENOENT);
	ck_assert_int_eq(proc_find_exe("/nonexistent/sh", out, sizeof(out)), -ENOENT);
}
END_TEST

START_TEST(test_run)
{
	const char *const fail3[] = { "sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	const char *const missing[] = { "dnsfs-no-such-program", NULL };
	char buf[64] = "";
	struct err e;
	int status = -1;
	FILE *f;

	ck_assert_int_eq(proc_run(fail3, path, &status, &e), 0);
	ck_assert_int_eq(status, 3);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(buf, 1, sizeof(buf) - 1, f), 8);
	fclose(f);
	ck_assert_str_eq(buf, "out\nerr\n");
	ck_assert_int_eq(proc_run(missing, NULL, &status, &e), -ENOENT);
	ck_assert_ptr_nonnull(strstr(e.msg, "dnsfs-no-such-program"));
}
END_TEST

/* The child keeps nothing but stdio: a pipe we hold open reads EOF once we
 * close our end, even while the child runs. */
START_TEST(test_spawn_detached_no_fds)
{
	const char *const argv[] = { "sleep", "30", NULL };
	struct err e;
	char c;
	pid_t pid;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(proc_spawn(argv, NULL, &pid, &e), 0);
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	ck_assert_int_eq(read(p[0], &c, 1), 0);
	close(p[0]);
	ck_assert_int_eq(getsid(pid), pid);
	ck_assert_int_eq(proc_alive(pid, "sleep"), 1);
	ck_assert_int_eq(proc_stop(pid, "sleep", 2000, &e), 1);
	ck_assert_int_eq(proc_alive(pid, NULL), 0);
}
END_TEST

/* A pid that runs another program is never signalled. */
START_TEST(test_identity)
{
	const char *const argv[] = { "sleep", "30", NULL };
	struct err e;
	pid_t pid, z;

	ck_assert_int_eq(proc_alive(getpid(), "check_proc"), 1);
	ck_assert_int_eq(proc_alive(getpid(), NULL), 1);
	ck_assert_int_eq(proc_alive(getpid(), "redis-server"), 0);
	ck_assert_int_eq(proc_alive(0, NULL), 0);
	ck_assert_int_eq(proc_alive(-1, NULL), 0);
	ck_assert_int_eq(proc_spawn(argv, NULL, &pid, &e), 0);
	ck_assert_int_eq(proc_alive(pid, "redis-server"), 0);
	ck_assert_int_eq(proc_stop(pid, "redis-server", 100, &e), 0);
	ck_assert_int_eq(proc_alive(pid, "sleep"), 1);
	ck_assert_int_eq(proc_stop(pid, "sleep", 2000, &e), 1);
	ck_assert_int_eq(proc_stop(pid, "sleep", 2000, &e), 0);
	/* A zombie is not alive. */
	z = fork();
	if (z == 0)
		_exit(0);
	proc_sleep_ms(100);
	ck_assert_int_eq(proc_alive(z, NULL), 0);
	waitpid(z, NULL, 0);
}
END_TEST

START_TEST(test_stop_escalates)
{
	/* Ignores SIGTERM; its sleeps are short so none outlives the test. */
	const char *const argv[] = { "sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", NULL };
	struct err e;
	int64_t t0;
	pid_t pid;

	ck_assert_int_eq(proc_spawn(argv, NULL, &pid, &e), 0);
	proc_sleep_ms(100);        /* let sh install its trap */
	t0 = proc_now_ms();
	ck_assert_int_eq(proc_stop(pid, "sh", 300, &e), 1);
	ck_assert_int_ge(proc_now_ms() - t0, 300);
	ck_assert_int_eq(proc_alive(pid, NULL), 0);
}
END_TEST

static int calls;

static int ready_third(void *arg, struct err *e)
{
	(void)arg;
	if (++calls >= 3)
		return 1;
	err_set(e, -EAGAIN, "only %d", calls);
	return 0;
}

static int ready_never(void *arg, struct err *e)
{
	(void)arg;
	err_set(e, -EAGAIN, "still loading");
	return 0;
}

static int ready_fatal(void *arg, struct err *e)
{
	(void)arg;
	return err_set(e, -ESRCH, "daemon exited");
}

START_TEST(test_wait_until)
{
	struct err e;
	int64_t t0;

	calls = 0;
	ck_assert_int_eq(proc_wait_until(ready_third, NULL, 5000, &e), 0);
	ck_assert_int_eq(calls, 3);
	t0 = proc_now_ms();
	ck_assert_int_eq(proc_wait_until(ready_never, NULL, 200, &e), -ETIMEDOUT);
	ck_assert_int_ge(proc_now_ms() - t0, 200);
	ck_assert_int_lt(proc_now_ms() - t0, 2000);
	ck_assert_str_eq(e.msg, "not ready after 200 ms: still loading");
	ck_assert_int_eq(proc_wait_until(ready_fatal, NULL, 5000, &e), -ESRCH);
	ck_assert_str_eq(e.msg, "daemon exited");
}
END_TEST

static Suite *proc_suite(void)
{
	Suite *s = suite_create("proc");
	TCase *t = tcase_create("files");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_pidfile);
	tcase_add_test(t, test_find_exe);
	tcase_add_test(t, test_run);
	suite_add_tcase(s, t);
	t = tcase_create("processes");
	tcase_set_timeout(t, 20);
	tcase_add_test(t, test_spawn_detached_no_fds);
	tcase_add_test(t, test_identity);
	tcase_add_test(t, test_stop_escalates);
	tcase_add_test(t, test_wait_until);
	suite_add_tcase(s, t);
	return s;
}

CHECK_MAIN(proc_suite)
