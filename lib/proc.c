/* proc: daemon processes on this host (see proc.h). Linux only: liveness and
 * identity come from /proc, descriptors are closed with close_range(2). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/close_range.h>
#include <sys/syscall.h>
#endif

#include "proc.h"

/* ---------------------------------------------------------------- time --- */

int64_t proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void proc_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ------------------------------------------------------------ starting --- */

int proc_find_exe(const char *name, char *out, size_t outlen)
{
	const char *path = getenv("PATH");
	struct stat st;

	if (name == NULL || name[0] == '\0')
		return -ENOENT;
	if (strchr(name, '/') != NULL) {
		if (stat(name, &st) < 0 || !S_ISREG(st.st_mode) || access(name, X_OK) < 0)
			return -ENOENT;
		if ((size_t)snprintf(out, outlen, "%s", name) >= outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	if (path == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;; ) {
		const char *end = strchrnul(p, ':');
		int dirlen = (int)(end - p);

		/* An empty PATH element means the current directory. */
		if ((size_t)snprintf(out, outlen, "%.*s%s%s", dirlen, p,
				     dirlen > 0 ? "/" : "", name) < outlen &&
		    stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return -ENOENT;
}

/* Make fd `from` appear as `to` without close-on-exec. */
static int move_fd(int from, int to)
{
	if (from == to)
		return fcntl(to, F_SETFD, 0);
	return dup2(from, to) < 0 ? -1 : 0;
}

/* Mark every descriptor from 3 up close-on-exec, so the program inherits
 * only stdio (a daemon holding the test harness's pipe would hang it). */
static void cloexec_from_3(void)
{
#if defined(__linux__) && defined(SYS_close_range) && defined(CLOSE_RANGE_CLOEXEC)
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);

	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 3; fd < max; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* In the child after fork: set up stdio, exec, or report errno on the pipe. */
static void child_exec(const char *exe, const char *const argv[], int nullfd,
		       int logfd, int report, int detach)
{
	sigset_t none;
	int err;

	if (detach)
		setsid();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (move_fd(nullfd, 0) < 0 || move_fd(logfd, 1) < 0 || move_fd(logfd, 2) < 0)
		goto fail;
	cloexec_from_3();
	/* execv's argv is not const-qualified for historical reasons only. */
	execv(exe, (char *const *)argv);
fail:
	err = errno;
	if (write(report, &err, sizeof(err)) < 0) {
		/* Nothing left to tell anyone. */
	}
	_exit(127);
}

/* fork + exec with the exec result reported through a close-on-exec pipe. */
static int start(const char *const argv[], const char *log_path, int detach,
		 pid_t *pid_out, struct err *e)
{
	char exe[PATH_MAX];
	int pfd[2] = { -1, -1 }, nullfd = -1, logfd = -1, child_errno = 0, r;
	const char *log = log_path != NULL ? log_path : "/dev/null";
	pid_t pid;
	ssize_t n;

	if (argv == NULL || argv[0] == NULL)
		return err_set(e, -EINVAL, "no program to run");
	r = proc_find_exe(argv[0], exe, sizeof(exe));
	if (r < 0)
		return err_set(e, r, "%s: not found in PATH", argv[0]);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0) {
		r = err_set(e, -errno, "/dev/null: %s", strerror(errno));
		goto fail;
	}
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		r = err_set(e, -errno, "%s: %s", log, strerror(errno));
		goto fail;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		r = err_set(e, -errno, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		r = err_set(e, -errno, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child_exec(exe, argv, nullfd, logfd, pfd[1], detach);
	close(pfd[1]);
	pfd[1] = -1;
	do
		n = read(pfd[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		/* exec failed: the child has exited already; reap it. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		r = err_set(e, -child_errno, "%s: %s", exe, strerror(child_errno));
		goto fail;
	}
	*pid_out = pid;
	r = 0;
fail:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (nullfd >= 0)
		close(nullfd);
	if (logfd >= 0)
		close(logfd);
	return r;
}

int proc_spawn(const char *const argv[], const char *log_path, pid_t *pid,
	       struct err *e)
{
	return start(argv, log_path, 1, pid, e);
}

int proc_run(const char *const argv[], const char *log_path, int *status,
	     struct err *e)
{
	pid_t pid;
	int r, ws;

	r = start(argv, log_path, 0, &pid, e);
	if (r < 0)
		return r;
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return err_set(e, -errno, "waitpid %s: %s", argv[0], strerror(errno));
	}
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
	return 0;
}

/* ----------------------------------------------------------- pid files --- */

int proc_pidfile_write(const char *path, pid_t pid, struct err *e)
{
	char tmp[PATH_MAX], buf[32];
	int fd, len, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return err_set(e, -ENAMETOOLONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(e, -errno, "%s: %s", tmp, strerror(errno));
	len = snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	if (write(fd, buf, (size_t)len) != len) {
		r = err_set(e, -EIO, "%s: short write", tmp);
		close(fd);
		goto fail;
	}
	if (close(fd) < 0) {
		r = err_set(e, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = err_set(e, -errno, "rename %s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return r;
}

int proc_pidfile_read(const char *path, pid_t *pid, struct err *e)
{
	char buf[32], *end;
	ssize_t n;
	long v;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	while (*end == '\n' || *end == ' ' || *end == '\r' || *end == '\t')
		end++;
	if (errno != 0 || end == buf || *end != '\0' || v <= 0 || v > INT_MAX)
		return err_set(e, -EINVAL, "%s: does not hold a pid", path);
	*pid = (pid_t)v;
	return 0;
}

/* ------------------------------------------------------------ identity --- */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

/* Read up to len-1 bytes of a /proc file into buf; -1 if unreadable. */
static ssize_t read_proc(pid_t pid, const char *what, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

/* Is pid a process that has not yet exited (a zombie has)? */
static int running(pid_t pid)
{
	char stat[512], *paren;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return 0;
	if (read_proc(pid, "stat", stat, sizeof(stat)) < 0)
		return 0;
	/* "pid (comm) S ...": comm may hold ')' itself, so take the last one. */
	paren = strrchr(stat, ')');
	if (paren == NULL || paren[1] != ' ')
		return 0;
	return paren[2] != 'Z' && paren[2] != 'X';
}

static int runs_program(pid_t pid, const char *expected)
{
	char path[64], buf[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n > 0) {
		static const char deleted[] = " (deleted)";
		size_t dl = sizeof(deleted) - 1;

		buf[n] = '\0';
		/* The binary was replaced (a package upgrade) under a running daemon. */
		if ((size_t)n > dl && strcmp(buf + n - dl, deleted) == 0)
			buf[n - dl] = '\0';
		if (strcmp(base_name(buf), expected) == 0)
			return 1;
	}
	if (read_proc(pid, "cmdline", buf, sizeof(buf)) > 0) {
		/* argv[0], or the first word of a title the daemon set itself. */
		buf[strcspn(buf, " ")] = '\0';
		if (strcmp(base_name(buf), expected) == 0)
			return 1;
	}
	return 0;
}

int proc_alive(pid_t pid, const char *expected)
{
	if (pid <= 0 || !running(pid))
		return 0;
	return expected == NULL || runs_program(pid, expected);
}

/* ------------------------------------------------------------ stopping --- */

/* Collect pid if it is our own child, so it does not linger as a zombie. */
static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, WNOHANG) < 0 && errno == EINTR)
		;
}

/* Wait for pid to exit. Identity was checked before the signal; while a
 * process exits, /proc/PID/exe and cmdline vanish before it becomes a zombie,
 * so only "does the pid still run at all" is meaningful here. */
static int gone_within(pid_t pid, int timeout_ms)
{
	int64_t deadline = proc_now_ms() + timeout_ms;

	for (;;) {
		reap(pid);
		if (!proc_alive(pid, NULL))
			return 1;
		if (proc_now_ms() >= deadline)
			return 0;
		proc_sleep_ms(20);
	}
}

int proc_stop(pid_t pid, const char *expected, int timeout_ms, struct err *e)
{
	const char *what = expected != NULL ? expected : "process";

	if (!proc_alive(pid, expected)) {
		reap(pid);
		return 0;
	}
	if (kill(pid, SIGTERM) < 0) {
		if (errno == ESRCH)
			return 0;
		return err_set(e, -errno, "cannot signal %s (pid %d): %s", what,
			       (int)pid, strerror(errno));
	}
	if (gone_within(pid, timeout_ms))
		return 1;
	/* Still there after the grace period: make sure it is still `expected`
	 * (not a reused pid) before the kill that cannot be caught. */
	if (!proc_alive(pid, expected))
		return 1;
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return err_set(e, -errno, "cannot kill %s (pid %d): %s", what,
			       (int)pid, strerror(errno));
	if (gone_within(pid, 5000))
		return 1;
	return err_set(e, -ETIMEDOUT, "%s (pid %d) did not exit even after SIGKILL",
		       what, (int)pid);
}

/* ------------------------------------------------------------- waiting --- */

int proc_wait_until(int (*ready)(void *arg, struct err *e), void *arg,
		    int timeout_ms, struct err *e)
{
	int64_t deadline = proc_now_ms() + timeout_ms;
	struct err why;
	int r;

	for (;;) {
		err_clear(&why);
		r = ready(arg, &why);
		if (r > 0)
			return 0;
		if (r < 0)
			return err_set(e, r, "%s", why.msg);
		if (proc_now_ms() >= deadline)
			break;
		proc_sleep_ms(50);
	}
	return err_set(e, -ETIMEDOUT, "not ready after %d ms%s%s", timeout_ms,
		       why.msg[0] != '\0' ? ": " : "", why.msg);
}

/* ---------------------------------------------------------- detaching --- */

int proc_detach(int *ready_fd, struct err *e)
{
	int fds[2], status;
	char ok = 0;
	pid_t pid;

	*ready_fd = -1;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_set(e, -errno, "cannot detach: pipe: %s", strerror(errno));
	if ((pid = fork()) < 0) {
		int rc = -errno;

		close(fds[0]);
		close(fds[1]);
		return err_set(e, rc, "cannot detach: fork: %s", strerror(-rc));
	}
	if (pid == 0) {
		close(fds[0]);
		setsid();
		*ready_fd = fds[1];
		return 0;
	}
	close(fds[1]);
	while (read(fds[0], &ok, 1) < 0 && errno == EINTR)
		;
	close(fds[0]);
	if (ok == 'k')
		return 1;
	/* The child failed (and said why on stderr) or died. */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return err_set(e, -ECHILD, "the detached process failed to start");
}

void proc_detach_done(int ready_fd, const char *prog)
{
	if (ready_fd < 0)
		return;
	if (write(ready_fd, "k", 1) != 1)
		fprintf(stderr, "%s: parent gone before start-up finished\n", prog);
	close(ready_fd);
	if (freopen("/dev/null", "r", stdin) == NULL)
		fprintf(stderr, "%s: /dev/null: %s\n", prog, strerror(errno));
}
