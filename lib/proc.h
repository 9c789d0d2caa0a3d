/* proc: start, find and stop the local daemons dnsfs runs (redis-server, mds,
 * blockd, the FUSE client), identified by pid files. A pid is trusted only
 * while it names a live process running the expected program, so a pid that
 * the kernel has handed to someone else is never signalled. */
#ifndef DNSFS_PROC_H
#define DNSFS_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Start argv[0] (searched in PATH) detached in its own session, stdin from
 * /dev/null, stdout and stderr appended to log_path (/dev/null if NULL), no
 * other descriptor inherited. Returns once exec has succeeded (an exec failure
 * is reported here, not in the log) with the child's pid in *pid. The child is
 * not waited for: it is meant to outlive the caller. */
int proc_spawn(const char *const argv[], const char *log_path, pid_t *pid,
	       struct err *e);

/* Run argv to completion, with the same descriptor setup as proc_spawn.
 * *status receives the exit code, or 128 + signal if it was killed.
 * Fails only when the program could not be run (-ENOENT if not installed). */
int proc_run(const char *const argv[], const char *log_path, int *status,
	     struct err *e);

/* Find an executable named name in $PATH (or take name as is if it contains a
 * slash); write its path to out. -ENOENT if there is none. */
int proc_find_exe(const char *name, char *out, size_t outlen);

/* Write "PID\n" to path atomically (temp file + rename). */
int proc_pidfile_write(const char *path, pid_t pid, struct err *e);
/* Read a pid file: -ENOENT if it does not exist, -EINVAL if it does not hold
 * one positive pid. */
int proc_pidfile_read(const char *path, pid_t *pid, struct err *e);

/* 1 if pid is a live (not zombie) process whose program is expected: the
 * basename of /proc/PID/exe, or of the first word of its command line (daemons
 * such as redis-server rewrite their title but keep the name first, and
 * Debian's redis-server is a symlink, so exe alone does not suffice).
 * 0 otherwise; expected == NULL accepts any program. */
int proc_alive(pid_t pid, const char *expected);

/* Stop pid if proc_alive(pid, expected): SIGTERM, wait up to timeout_ms for it
 * to exit, then SIGKILL and wait again (bounded). Returns 1 if it was
 * stopped, 0 if it was not running (or is another program now), -errno on
 * failure (e.g. -EPERM, or -ETIMEDOUT if even SIGKILL did not end it). */
int proc_stop(pid_t pid, const char *expected, int timeout_ms, struct err *e);

/* Poll ready(arg, e) every 50 ms until it returns 1 or timeout_ms pass.
 * ready returns 1 when ready, 0 for "not yet" (it may leave why in e), and a
 * negative errno to give up at once (that errno and message are returned).
 * Returns 0 once ready; on timeout -ETIMEDOUT, and e holds "not ready after
 * N ms" followed by the last reason ready gave. */
int proc_wait_until(int (*ready)(void *arg, struct err *e), void *arg,
		    int timeout_ms, struct err *e);

/* Detach a daemon so that whoever started it learns whether start-up
 * worked: fork; the child starts a new session and gets 0 with *ready_fd
 * set; the parent waits until the child calls proc_detach_done (returns 1:
 * exit 0 now) or exits or closes the pipe first (-ECHILD: exit 1; the child
 * said why on stderr). -errno, still one process, if pipe or fork failed.
 *   rc = proc_detach(&ready, &e);  if (rc != 0) return rc > 0 ? 0 : 1;
 *   ... start up ...;  proc_detach_done(ready, "dnsfs-x");  ... serve ... */
int proc_detach(int *ready_fd, struct err *e);
/* In the child, once serving: tell the parent and take stdin from
 * /dev/null. prog names the program in messages. ready_fd < 0: nothing. */
void proc_detach_done(int ready_fd, const char *prog);

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
int64_t proc_now_ms(void);

/* Sleep ms milliseconds (restarted on EINTR). */
void proc_sleep_ms(int ms);

#endif
