/* cluster: a local dnsfs cluster kept in one directory (see cluster.h).
 * The parts are rows of one table, started in order and stopped in reverse;
 * each keeps DIR/<part>.pid. Redis, the mds and the block daemons run so
 * far (blockd registered in the zone as SRV + A); the mount joins as a row. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cluster.h"
#include "env.h"
#include "fsadmin.h"
#include "nodereg.h"
#include "proc.h"
#include "tsig.h"

#define LOCK_TIMEOUT_MS 30000

/* ---------------------------------------------------------- small files --- */

/* snprintf that says whether it fit: 0, or -ENAMETOOLONG (out is then
 * truncated but terminated). Truncating a message for a person is fine. */
static int strf(char *out, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int strf(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Write len bytes to path atomically with the given mode. */
static int write_file(const char *path, const char *data, size_t len, mode_t mode,
		      struct err *e)
{
	char tmp[PATH_MAX];
	int fd = -1, created = 0, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp))
		return err_set(e, -ENAMETOOLONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		r = err_set(e, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	created = 1;
	if (fchmod(fd, mode) < 0 || write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		r = err_set(e, errno != 0 ? -errno : -EIO, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	r = close(fd);
	fd = -1;
	if (r < 0 || rename(tmp, path) < 0) {
		r = err_set(e, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	return r;
}

/* The last non-empty line of a log file, for error messages ("" if none). */
static void log_tail(const char *path, char *out, size_t outlen)
{
	char buf[2048];
	ssize_t n = -1;
	off_t size;
	int fd;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size >= 0 && lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0,
			       SEEK_SET) >= 0)
		n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *line = strrchr(buf, '\n');
	strf(out, outlen, "%s", line != NULL ? line + 1 : buf);
}

/* mkdir -p with mode for the directories it creates. */
static int make_dirs(const char *path, mode_t mode, struct err *e)
{
	char p[PATH_MAX];

	if ((size_t)snprintf(p, sizeof(p), "%s", path) >= sizeof(p))
		return err_set(e, -ENAMETOOLONG, "%s: path too long", path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return err_set(e, -errno, "mkdir %s: %s", p, strerror(errno));
		*s = c;
		if (c == '\0')
			return 0;
	}
}

/* ------------------------------------------------------------- paths --- */

/* Absolute, normalized form of dir ("." and ".." resolved textually,
 * symlinks left alone), without touching the file system. */
static int abs_dir(const char *dir, char *out, size_t outlen, struct err *e)
{
	char joined[2 * PATH_MAX], cwd[PATH_MAX];
	size_t o = 0;

	if (dir[0] == '\0')
		return err_set(e, -EINVAL, "--dir must not be empty");
	for (const char *p = dir; *p != '\0'; p++)
		if (iscntrl((unsigned char)*p))
			return err_set(e, -EINVAL, "--dir must not contain control characters");
	if (dir[0] == '/') {
		snprintf(joined, sizeof(joined), "%s", dir);
	} else {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return err_set(e, -errno, "getcwd: %s", strerror(errno));
		snprintf(joined, sizeof(joined), "%s/%s", cwd, dir);
	}
	/* Copy component by component into out. */
	for (const char *p = joined; *p != '\0'; ) {
		size_t n;

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* empty or "." */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
		} else {
			if (o + 1 + n >= outlen)
				return err_set(e, -ENAMETOOLONG, "--dir %s: path too long", dir);
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return 0;
}

/* Unix socket paths are limited by sockaddr_un.sun_path (108 bytes with the
 * NUL on Linux), and DIR/redis.sock must fit. */
static int check_socket_path(const char *dir, struct err *e)
{
	struct sockaddr_un sa;
	size_t len = strlen(dir) + strlen("/redis.sock");

	if (len > sizeof(sa.sun_path) - 1)
		return err_set(e, -ENAMETOOLONG,
			       "the cluster directory %s is too long: its Redis socket path "
			       "would be %zu bytes, over the %zu-byte limit of Unix socket "
			       "paths, so choose a shorter --dir",
			       dir, len, sizeof(sa.sun_path) - 1);
	return 0;
}

static int path_in(char *out, const struct cluster *c, const char *name)
{
	return strf(out, PATH_MAX, "%s/%s", c->dir, name);
}

/* --------------------------------------------------------------- Redis --- */

/* Just enough RESP (the Redis protocol) to ask a few questions over the
 * socket: dnsfsctl does not link hiredis, which belongs to the mds store. */

#define RESP_ITEMS 8
#define RESP_STR 256

struct resp_reply {
	char kind;                      /* '+', '-', ':', '$' or '*' */
	char str[RESP_STR];             /* the value, unless kind is '*' */
	int nitems;                     /* for '*': items kept (at most RESP_ITEMS) */
	char items[RESP_ITEMS][RESP_STR];
};

static void copy_str(char *dst, const char *src, size_t n)
{
	if (n >= RESP_STR)
		n = RESP_STR - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Parse one value at *pp; 1 when complete, 0 if more bytes are needed,
 * -EPROTO if it is not RESP. Array items are stored, not nested arrays. */
static int resp_value(const char **pp, const char *end, struct resp_reply *rep, int top)
{
	const char *p = *pp, *crlf = memmem(p, (size_t)(end - p), "\r\n", 2);
	char *dst;
	long n;

	if (crlf == NULL)
		return 0;
	if (top)
		dst = rep->str;
	else
		dst = rep->nitems < RESP_ITEMS ? rep->items[rep->nitems] : NULL;
	switch (*p) {
	case '+': case '-': case ':':
		if (dst != NULL)
			copy_str(dst, p + 1, (size_t)(crlf - p - 1));
		*pp = crlf + 2;
		break;
	case '$':
		n = strtol(p + 1, NULL, 10);
		if (n < 0) {                /* null bulk string */
			if (dst != NULL)
				dst[0] = '\0';
			*pp = crlf + 2;
			break;
		}
		if (end - (crlf + 2) < n + 2)
			return 0;
		if (dst != NULL)
			copy_str(dst, crlf + 2, (size_t)n);
		*pp = crlf + 2 + n + 2;
		break;
	case '*':
		if (!top)
			return -EPROTO;
		n = strtol(p + 1, NULL, 10);
		rep->kind = '*';
		*pp = crlf + 2;
		for (long i = 0; i < n; i++) {
			int r = resp_value(pp, end, rep, 0);

			if (r <= 0)
				return r;
		}
		return 1;
	default:
		return -EPROTO;
	}
	if (top)
		rep->kind = *p;
	else
		rep->nitems++;
	return 1;
}

/* Send argv as one command to the Redis at sock and read its reply. */
static int redis_call(const char *sock, const char *const argv[], struct resp_reply *rep,
		      struct err *e)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 2 };
	char buf[4096];
	size_t len = 0, o;
	int fd, argc, r;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return err_set(e, -ENAMETOOLONG, "%s: socket path too long", sock);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_set(e, -errno, "socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = err_set(e, -errno, "%s: %s", sock, strerror(errno));
		goto fail;
	}
	for (argc = 0; argv[argc] != NULL; argc++)
		;
	o = (size_t)snprintf(buf, sizeof(buf), "*%d\r\n", argc);
	for (int i = 0; i < argc && o < sizeof(buf); i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "$%zu\r\n%s\r\n",
				      strlen(argv[i]), argv[i]);
	if (o >= sizeof(buf)) {
		r = err_set(e, -E2BIG, "redis command too long");
		goto fail;
	}
	if (send(fd, buf, o, MSG_NOSIGNAL) != (ssize_t)o) {
		r = err_set(e, -EIO, "%s: cannot send: %s", sock, strerror(errno));
		goto fail;
	}
	memset(rep, 0, sizeof(*rep));
	for (;;) {
		const char *p = buf;
		ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = err_set(e, n == 0 ? -ECONNRESET : -errno, "%s: no reply: %s", sock,
				    n == 0 ? "connection closed" : strerror(errno));
			goto fail;
		}
		len += (size_t)n;
		memset(rep, 0, sizeof(*rep));
		r = resp_value(&p, buf + len, rep, 1);
		if (r < 0) {
			r = err_set(e, r, "%s: not a Redis reply", sock);
			goto fail;
		}
		if (r > 0)
			break;
		if (len == sizeof(buf)) {
			r = err_set(e, -EPROTO, "%s: reply too long", sock);
			goto fail;
		}
	}
	r = 0;
fail:
	close(fd);
	return r;
}

/* 1 if Redis at sock answers PING with PONG, 0 with the reason in e. */
static int redis_ping(const char *sock, struct err *e)
{
	static const char *const ping[] = { "PING", NULL };
	struct resp_reply rep;

	if (redis_call(sock, ping, &rep, e) < 0)
		return 0;
	if (rep.kind == '+' && strcmp(rep.str, "PONG") == 0)
		return 1;
	/* e.g. "-LOADING Redis is loading the dataset in memory" */
	err_set(e, -EAGAIN, "PING answered %c%s", rep.kind, rep.str);
	return 0;
}

/* The value of one CONFIG GET parameter into out. */
static int redis_config_get(const char *sock, const char *param, char *out, size_t outlen,
			    struct err *e)
{
	const char *const cmd[] = { "CONFIG", "GET", param, NULL };
	struct resp_reply rep;
	int r;

	r = redis_call(sock, cmd, &rep, e);
	if (r < 0)
		return r;
	if (rep.kind != '*' || rep.nitems != 2 || strcmp(rep.items[0], param) != 0)
		return err_set(e, -EPROTO, "CONFIG GET %s: unexpected reply %c%s", param,
			       rep.kind, rep.str);
	strf(out, outlen, "%s", rep.items[1]);
	return 0;
}

/* A path as a double-quoted redis.conf argument. */
static void redis_conf_quote(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *s != '\0' && o + 3 < outlen; s++) {
		if (*s == '"' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static int redis_write_conf(const struct cluster *c, const char *conf, struct err *e)
{
	char text[8192], sock[PATH_MAX + 8], data[PATH_MAX + 8], pid[PATH_MAX + 8],
	     log[PATH_MAX + 8], p[PATH_MAX];
	int n;

	redis_conf_quote(sock, sizeof(sock), c->redis_sock);
	path_in(p, c, "redis");
	redis_conf_quote(data, sizeof(data), p);
	path_in(p, c, "redis.pid");
	redis_conf_quote(pid, sizeof(pid), p);
	path_in(p, c, "redis.log");
	redis_conf_quote(log, sizeof(log), p);
	n = snprintf(text, sizeof(text),
		"# Written by `dnsfsctl cluster up` before every start; edits are lost.\n"
		"# The private Redis of the dnsfs mds: Unix socket only, no TCP.\n"
		"port 0\n"
		"unixsocket %s\n"
		"unixsocketperm 700\n"
		"dir %s\n"
		"# Durability. The mds acknowledges an UPDATE only once Redis has replied\n"
		"# to its MULTI/EXEC; with appendfsync always Redis fsyncs the AOF before\n"
		"# it sends that reply, so nothing acknowledged is lost even when Redis is\n"
		"# killed with SIGKILL or the machine loses power (everysec could lose the\n"
		"# last second). No RDB snapshots: the AOF is the only copy.\n"
		"appendonly yes\n"
		"appendfsync always\n"
		"save \"\"\n"
		"daemonize yes\n"
		"pidfile %s\n"
		"logfile %s\n",
		sock, data, pid, log);
	if (n < 0 || (size_t)n >= sizeof(text))
		return err_set(e, -ENAMETOOLONG, "redis.conf: paths too long");
	return write_file(conf, text, (size_t)n, 0600, e);
}

/* What redis_ready looks at while Redis starts. */
struct redis_wait {
	const struct cluster *c;        /* whose Redis */
	char pidfile[PATH_MAX];         /* DIR/redis.pid, written by the daemon */
	char log[PATH_MAX];             /* DIR/redis.log, quoted when it dies */
	pid_t pid;                      /* from pidfile once it exists, else 0 */
};

/* proc_wait_until callback: the daemon wrote its pid file and answers PING. */
static int redis_ready(void *arg, struct err *e)
{
	struct redis_wait *w = arg;
	char tail[256];

	if (proc_pidfile_read(w->pidfile, &w->pid, e) < 0)
		return 0;
	if (!proc_alive(w->pid, "redis-server")) {
		log_tail(w->log, tail, sizeof(tail));
		return err_set(e, -ESRCH, "redis-server (pid %d) exited; %s says: %s",
			       (int)w->pid, w->log, tail);
	}
	return redis_ping(w->c->redis_sock, e);
}

static int redis_start(struct cluster *c, int idx, pid_t *pid, struct err *e)
{
	char exe[PATH_MAX], conf[PATH_MAX], data[PATH_MAX], tail[256];
	struct redis_wait w = { .c = c };
	struct err ignored;
	int r, status;

	if (proc_find_exe("redis-server", exe, sizeof(exe)) < 0)
		return err_set(e, -ENOENT, "redis-server is not installed (not found in PATH): "
			       "apt-get install redis-server");
	/* Two servers on one AOF directory would corrupt it. */
	if (redis_ping(c->redis_sock, &ignored))
		return err_set(e, -EEXIST, "a Redis server that %s/redis.pid does not name "
			       "already answers on %s; stop it first", c->dir, c->redis_sock);
	path_in(conf, c, "redis.conf");
	path_in(data, c, "redis");
	path_in(w.pidfile, c, "redis.pid");
	path_in(w.log, c, "redis.log");
	r = make_dirs(data, 0700, e);
	if (r < 0)
		return r;
	r = redis_write_conf(c, conf, e);
	if (r < 0)
		return r;
	/* With daemonize yes the first process exits once the daemon is forked;
	 * a bad configuration is reported by its exit status. */
	const char *const argv[] = { exe, conf, NULL };
	r = proc_run(argv, w.log, &status, e);
	if (r < 0)
		return r;
	if (status != 0) {
		log_tail(w.log, tail, sizeof(tail));
		return err_set(e, -EIO, "redis-server exited with status %d; %s says: %s",
			       status, w.log, tail);
	}
	r = proc_wait_until(redis_ready, &w, CLUSTER_READY_TIMEOUT_MS, e);
	if (r < 0) {
		err_prefix(e, "redis-server did not start: ");
		if (w.pid > 0)
			proc_stop(w.pid, "redis-server", CLUSTER_STOP_TIMEOUT_MS, NULL);
		return r;
	}
	*pid = w.pid;
	return 0;
}

/* The rest of a status line: where it listens and whether it persists. */
static void redis_describe(const struct cluster *c, int idx, FILE *out)
{
	char aof[64], fsync_[64];
	struct err e;

	fprintf(out, "  unix:%s", c->redis_sock);
	if (redis_config_get(c->redis_sock, "appendonly", aof, sizeof(aof), &e) < 0 ||
	    redis_config_get(c->redis_sock, "appendfsync", fsync_, sizeof(fsync_), &e) < 0)
		fprintf(out, "  persistence unknown (%s)", e.msg);
	else
		fprintf(out, "  appendonly=%s appendfsync=%s", aof, fsync_);
}


/* ----------------------------------------------------------------- mds --- */

static void part_pidfile(char *out, const struct cluster *c, const char *name);

/* Where a dnsfs program is: next to dnsfsctl once installed, or in its
 * folder of the build tree (tools/../mds/dnsfs-mds), else on PATH. */
static int find_program(const char *name, const char *builddir, char *out, size_t outlen)
{
	char self[PATH_MAX], dir[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		snprintf(dir, sizeof(dir), "%s", dirname(self));
		if (strf(out, outlen, "%s/../%s/%s", dir, builddir, name) == 0 &&
		    access(out, X_OK) == 0)
			return 0;
		if (strf(out, outlen, "%s/%s", dir, name) == 0 && access(out, X_OK) == 0)
			return 0;
	}
	return proc_find_exe(name, out, outlen);
}

/* Start a dnsfs daemon (`exe -c conf`) the way every dnsfs daemon starts
 * without --foreground: its first process exits 0 only once the daemon
 * serves, or 1 with the reason on stderr (kept in log); the daemon writes
 * pidfile. *pid is the daemon's pid, checked to be running exe. */
static int daemon_start(const char *exe, const char *conf, const char *log,
			const char *pidfile, pid_t *pid, struct err *e)
{
	const char *const argv[] = { exe, "-c", conf, NULL };
	const char *slash = strrchr(exe, '/'), *name = slash != NULL ? slash + 1 : exe;
	char tail[256];
	int r, status;

	r = proc_run(argv, log, &status, e);
	if (r < 0)
		return r;
	if (status != 0) {
		log_tail(log, tail, sizeof(tail));
		return err_set(e, -EIO, "%s exited with status %d; %s says: %s",
			       name, status, log, tail);
	}
	r = proc_pidfile_read(pidfile, pid, e);
	if (r < 0)
		return r;
	if (!proc_alive(*pid, name))
		return err_set(e, -ESRCH, "%s (pid %d) is gone after starting; see %s",
			       name, (int)*pid, log);
	return 0;
}

static int mds_write_conf(const struct cluster *c, const char *conf, const char *zonefile,
			  struct err *e)
{
	char text[4 * PATH_MAX + 1024];
	char pidfile[PATH_MAX];
	int n;

	part_pidfile(pidfile, c, "mds");
	n = snprintf(text, sizeof(text),
		     "# dnsfs-mds of the cluster in %s, written by `dnsfsctl cluster up`\n"
		     "# (rewritten on every up; see docs/OPERATIONS.md for the keys).\n"
		     "listen = %s:%d\n"
		     "store = \"unix:%s\"\n"
		     "zone = %s %s\n"
		     "keyfile = \"%s\"\n"
		     "pidfile = \"%s\"\n"
		     "metrics = %s:%d\n"
		     "log_level = info\n",
		     c->dir, c->mds_addr, c->mds_port, c->redis_sock, c->zone, zonefile,
		     c->tsig_keyfile, pidfile, c->mds_addr, c->mds_metrics_port);
	if (n < 0 || (size_t)n >= sizeof(text))
		return err_set(e, -ENAMETOOLONG, "%s: paths too long", conf);
	return write_file(conf, text, (size_t)n, 0644, e);
}

static int mds_start(struct cluster *c, int idx, pid_t *pid, struct err *e)
{
	char exe[PATH_MAX], conf[PATH_MAX], zonefile[PATH_MAX], log[PATH_MAX], pidfile[PATH_MAX];
	int r;

	if (find_program("dnsfs-mds", "mds", exe, sizeof(exe)) < 0)
		return err_set(e, -ENOENT, "dnsfs-mds not found next to dnsfsctl, in the build "
			       "tree or in PATH: build it with make");
	path_in(conf, c, "mds.conf");
	path_in(zonefile, c, "zone.init");
	path_in(log, c, "mds.log");
	part_pidfile(pidfile, c, "mds");
	/* The zone a new cluster starts with (`dnsfsctl init` writes the same):
	 * the mds reads it once, when the store does not have the zone yet. */
	if (access(zonefile, F_OK) < 0) {
		r = fsadmin_zone_write(zonefile, c->zone, c->mds_addr, e);
		if (r < 0)
			return r;
	}
	r = mds_write_conf(c, conf, zonefile, e);
	if (r < 0)
		return r;
	return daemon_start(exe, conf, log, pidfile, pid, e);
}

static void mds_describe(const struct cluster *c, int idx, FILE *out)
{
	fprintf(out, "  dns %s:%d  zone %s  metrics http://%s:%d/metrics", c->mds_addr,
		c->mds_port, c->zone, c->mds_addr, c->mds_metrics_port);
}

/* -------------------------------------------------------------- blockd --- */

static void blockd_name(char *out, size_t len, const struct cluster *c, int idx)
{
	strf(out, len, "blockd-%d.n.%s", idx + 1, c->zone);
}

static int blockd_count(const struct cluster *c)
{
	return c->nblockd;
}

static int blockd_write_conf(const struct cluster *c, int idx, const char *conf,
			     const char *data, const char *pidfile, struct err *e)
{
	char text[4 * PATH_MAX + 1024], id[300];
	int n;

	blockd_name(id, sizeof(id), c, idx);
	n = snprintf(text, sizeof(text),
		     "# dnsfs-blockd blockd-%d of the cluster in %s, written by\n"
		     "# `dnsfsctl cluster up` (rewritten on every up).\n"
		     "listen = %s:%d\n"
		     "data = \"%s\"\n"
		     "keyfile = \"%s\"\n"
		     "node_id = %s\n"
		     "pidfile = \"%s\"\n"
		     "log_level = info\n",
		     idx + 1, c->dir, c->mds_addr, c->blockd_port[idx], data, c->block_keyfile,
		     id, pidfile);
	if (n < 0 || (size_t)n >= sizeof(text))
		return err_set(e, -ENAMETOOLONG, "%s: paths too long", conf);
	return write_file(conf, text, (size_t)n, 0644, e);
}

static int blockd_start(struct cluster *c, int idx, pid_t *pid, struct err *e)
{
	char exe[PATH_MAX], conf[PATH_MAX], data[PATH_MAX], log[PATH_MAX], pidfile[PATH_MAX];
	char name[32];
	int r;

	if (find_program("dnsfs-blockd", "blockd", exe, sizeof(exe)) < 0)
		return err_set(e, -ENOENT, "dnsfs-blockd not found next to dnsfsctl, in the build "
			       "tree or in PATH: build it with make");
	snprintf(name, sizeof(name), "blockd-%d", idx + 1);
	if (strf(conf, sizeof(conf), "%s/%s.conf", c->dir, name) < 0 ||
	    strf(data, sizeof(data), "%s/%s", c->dir, name) < 0 ||
	    strf(log, sizeof(log), "%s/%s.log", c->dir, name) < 0)
		return err_set(e, -ENAMETOOLONG, "%s: path too long", c->dir);
	part_pidfile(pidfile, c, name);
	r = blockd_write_conf(c, idx, conf, data, pidfile, e);
	if (r < 0)
		return r;
	return daemon_start(exe, conf, log, pidfile, pid, e);
}

static void blockd_describe(const struct cluster *c, int idx, FILE *out)
{
	char id[300];

	blockd_name(id, sizeof(id), c, idx);
	fprintf(out, "  http %s:%d  %s", c->mds_addr, c->blockd_port[idx], id);
}

/* Once every blockd runs: put them in the zone (`_blockd._tcp.Z SRV` and
 * `blockd-K.n.Z A`) with one signed UPDATE. Records that are there already
 * are left as they are, so this runs on every up. */
static int blockd_register(struct cluster *c, FILE *out, struct err *e)
{
	struct nodereg_node v[CLUSTER_BLOCKD_MAX];
	char ids[CLUSTER_BLOCKD_MAX][300];
	struct tsig_keyring kr = { 0 };
	size_t n = 0;
	int r;

	r = tsig_keyring_load(&kr, c->tsig_keyfile, e);
	if (r == 0 && kr.n == 0)
		r = err_set(e, -ENOKEY, "%s: no key to sign the UPDATE with", c->tsig_keyfile);
	if (r < 0) {
		tsig_keyring_release(&kr);
		return r;
	}
	for (int i = 0; i < c->nblockd; i++) {
		if (c->blockd_weight[i] < 0)
			continue;       /* removed by `dnsfsctl node remove` */
		blockd_name(ids[n], sizeof(ids[n]), c, i);
		v[n] = (struct nodereg_node){ ids[n], c->mds_addr, (uint16_t)c->blockd_port[i],
					      (uint16_t)c->blockd_weight[i], NODEREG_ADD };
		n++;
	}
	r = nodereg_add(c->mds_addr, c->mds_port, c->zone, &kr.keys[0], v, n,
			NODEREG_TTL, 5000, e);
	tsig_keyring_release(&kr);
	if (r < 0)
		return r;
	fprintf(out, "%-9s %zu block daemons in _blockd._tcp.%s SRV\n", "blockd", n, c->zone);
	return 0;
}


/* --------------------------------------------------------------- mount --- */

static int is_mounted(const char *path);

struct mount_wait {
	const char *mnt;        /* the mount point */
	pid_t pid;              /* dnsfs-mount, in the foreground */
	const char *log;        /* quoted when it dies */
};

static int mount_ready(void *arg, struct err *e)
{
	struct mount_wait *w = arg;
	char tail[256];

	if (is_mounted(w->mnt))
		return 1;
	if (!proc_alive(w->pid, "dnsfs-mount")) {
		waitpid(w->pid, NULL, WNOHANG);
		log_tail(w->log, tail, sizeof(tail));
		return err_set(e, -EIO, "dnsfs-mount exited; %s says: %s", w->log, tail);
	}
	return 0;
}

/* The FUSE mount of DNSFS_MOUNT: dnsfs-mount runs in the foreground of a
 * detached process whose pid goes in DIR/mount.pid; it is up once the kernel
 * lists the mount. `down` unmounts first (fusermount3 -u), which ends it. */
static int mount_start(struct cluster *c, int idx, pid_t *pid, struct err *e)
{
	char exe[PATH_MAX], log[PATH_MAX], pidfile[PATH_MAX];
	struct mount_wait w;
	int r;

	if (find_program("dnsfs-mount", "fuse-client", exe, sizeof(exe)) < 0)
		return err_set(e, -ENOENT, "dnsfs-mount not found next to dnsfsctl, in the build "
			       "tree or in PATH: build it with make");
	if (access("/dev/fuse", R_OK | W_OK) < 0)
		return err_set(e, -ENODEV, "/dev/fuse is not usable (%s): load the fuse module "
			       "(modprobe fuse) or use --no-mount", strerror(errno));
	path_in(log, c, "mount.log");
	part_pidfile(pidfile, c, "mount");
	/* A mount whose process died ("Transport endpoint is not connected"). */
	if (is_mounted(c->mount)) {
		const char *const um[] = { "fusermount3", "-u", "-z", c->mount, NULL };
		int status;

		proc_run(um, log, &status, NULL);
	}
	r = make_dirs(c->mount, 0755, e);
	if (r < 0)
		return r;
	const char *const argv[] = { exe, "-f", "--env", c->env_path, c->mount, NULL };
	r = proc_spawn(argv, log, pid, e);
	if (r < 0)
		return r;
	w = (struct mount_wait){ .mnt = c->mount, .pid = *pid, .log = log };
	r = proc_wait_until(mount_ready, &w, CLUSTER_READY_TIMEOUT_MS, e);
	if (r < 0) {
		err_prefix(e, "%s did not mount: ", c->mount);
		proc_stop(*pid, "dnsfs-mount", CLUSTER_STOP_TIMEOUT_MS, NULL);
		return r;
	}
	return proc_pidfile_write(pidfile, *pid, e);
}

static void mount_describe(const struct cluster *c, int idx, FILE *out)
{
	fprintf(out, "  %s%s", c->mount, is_mounted(c->mount) ? "" : " (not mounted!)");
}

/* --------------------------------------------------------------- parts --- */

/* One kind of process in the cluster. To add the mds, blockd and mount,
 * add rows: start in the order they depend on each other. */
struct cluster_part {
	const char *name;       /* pid file DIR/<name>.pid, or <name>-<i>.pid */
	const char *exe;        /* program name proc_alive checks before a signal */
	int optional;           /* may be left out (--no-mount) without status 3 */
	/* Number of instances (blockd-1..n); NULL for one. */
	int (*count)(const struct cluster *c);
	/* Start instance idx; leaves DIR/<name>.pid naming the pid it returns. */
	int (*start)(struct cluster *c, int idx, pid_t *pid, struct err *e);
	/* Append details to a running part's status line; may be NULL. */
	void (*describe)(const struct cluster *c, int idx, FILE *out);
	/* After up has every instance running: more setup, on every up (so it
	 * must be idempotent); may be NULL. */
	int (*settle)(struct cluster *c, FILE *out, struct err *e);
};

static const struct cluster_part parts[] = {
	{ "redis", "redis-server", 0, NULL, redis_start, redis_describe, NULL },
	{ "mds", "dnsfs-mds", 0, NULL, mds_start, mds_describe, NULL },
	{ "blockd", "dnsfs-blockd", 0, blockd_count, blockd_start, blockd_describe,
	  blockd_register },
	{ "mount", "dnsfs-mount", 1, NULL, mount_start, mount_describe, NULL },
};

#define NPARTS (sizeof(parts) / sizeof(parts[0]))

static int part_count(const struct cluster_part *p, const struct cluster *c)
{
	return p->count != NULL ? p->count(c) : 1;
}

static void part_name(char *out, size_t len, const struct cluster_part *p, int idx)
{
	if (p->count != NULL)
		snprintf(out, len, "%s-%d", p->name, idx + 1);
	else
		snprintf(out, len, "%s", p->name);
}

static void part_pidfile(char *out, const struct cluster *c, const char *name)
{
	strf(out, PATH_MAX, "%s/%s.pid", c->dir, name);
}

/* The pid of a running instance, or 0 (with a stale pid file in *stale). */
static pid_t part_pid(const struct cluster *c, const struct cluster_part *p,
		      const char *name, pid_t *stale)
{
	char pidfile[PATH_MAX];
	pid_t pid;

	*stale = 0;
	part_pidfile(pidfile, c, name);
	if (proc_pidfile_read(pidfile, &pid, NULL) < 0)
		return 0;
	if (proc_alive(pid, p->exe))
		return pid;
	*stale = pid;
	return 0;
}

/* ----------------------------------------------------- the env file --- */

static int zone_normalize(char *out, size_t outlen, const char *in, struct err *e)
{
	size_t n = strlen(in), label = 0;

	if (n == 0 || strcmp(in, ".") == 0)
		return err_set(e, -EINVAL, "zone '%s': needs at least one label", in);
	if (n + 2 > outlen || n > 254)
		return err_set(e, -EINVAL, "zone '%s': longer than 253 characters", in);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];

		if (ch == '.') {
			if (label == 0)
				return err_set(e, -EINVAL, "zone '%s': empty label", in);
			label = 0;
		} else if (isalnum(ch) || ch == '-' || ch == '_') {
			if (++label > 63)
				return err_set(e, -EINVAL, "zone '%s': a label is longer than 63", in);
		} else {
			return err_set(e, -EINVAL, "zone '%s': only letters, digits, '-' and '_' "
				       "may appear in labels", in);
		}
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	if (out[n - 1] != '.') {
		out[n] = '.';
		out[n + 1] = '\0';
	}
	return 0;
}

static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535)
		return -EINVAL;
	*port = (int)v;
	return 0;
}

/* Fill c from a cluster.env already read into env. */
static int env_load(struct cluster *c, const struct env *env, struct err *e)
{
	static const char *const need[] = { "DNSFS_ZONE", "DNSFS_MDS_ADDR", "DNSFS_MDS_PORT",
		"DNSFS_BLOCKD_COUNT", "DNSFS_BLOCKD", "DNSFS_MOUNT", NULL };
	struct in_addr ia;
	const char *v;
	char *end;
	long n;

	for (int i = 0; need[i] != NULL; i++)
		if (env_get(env, need[i]) == NULL)
			return err_set(e, -EINVAL, "%s: %s is missing", c->env_path, need[i]);
	if (zone_normalize(c->zone, sizeof(c->zone), env_get(env, "DNSFS_ZONE"), e) < 0)
		goto bad;
	if (strf(c->mds_addr, sizeof(c->mds_addr), "%s", env_get(env, "DNSFS_MDS_ADDR")) < 0 ||
	    inet_pton(AF_INET, c->mds_addr, &ia) != 1) {
		err_set(e, -EINVAL, "DNSFS_MDS_ADDR is not an IPv4 address");
		goto bad;
	}
	if (parse_port(env_get(env, "DNSFS_MDS_PORT"), &c->mds_port) < 0) {
		err_set(e, -EINVAL, "DNSFS_MDS_PORT is not a port");
		goto bad;
	}
	/* Added after the first clusters were made: absent means "choose one". */
	v = env_get(env, "DNSFS_MDS_METRICS_PORT");
	if (v != NULL && parse_port(v, &c->mds_metrics_port) < 0) {
		err_set(e, -EINVAL, "DNSFS_MDS_METRICS_PORT is not a port");
		goto bad;
	}
	v = env_get(env, "DNSFS_BLOCKD_COUNT");
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < 1 || n > CLUSTER_BLOCKD_MAX) {
		err_set(e, -EINVAL, "DNSFS_BLOCKD_COUNT is not 1..%d", CLUSTER_BLOCKD_MAX);
		goto bad;
	}
	c->nblockd = (int)n;
	/* "host:port host:port ..."; the hosts are all mds_addr for now. */
	v = env_get(env, "DNSFS_BLOCKD");
	for (int i = 0; i < c->nblockd; i++) {
		char word[128];
		const char *colon;
		size_t len;

		v += strspn(v, " ");
		len = strcspn(v, " ");
		colon = memrchr(v, ':', len);
		if (len == 0 || len >= sizeof(word) || colon == NULL) {
			err_set(e, -EINVAL, "DNSFS_BLOCKD has fewer than %d host:port words",
				c->nblockd);
			goto bad;
		}
		memcpy(word, colon + 1, len - (size_t)(colon - v) - 1);
		word[len - (size_t)(colon - v) - 1] = '\0';
		if (parse_port(word, &c->blockd_port[i]) < 0) {
			err_set(e, -EINVAL, "DNSFS_BLOCKD: bad port in word %d", i + 1);
			goto bad;
		}
		v += len;
	}
	/* Added with `dnsfsctl node`: absent means every node at the default
	 * weight; "-" is a node that was removed (neither started nor registered). */
	v = env_get(env, "DNSFS_BLOCKD_WEIGHTS");
	for (int i = 0; i < c->nblockd; i++) {
		c->blockd_weight[i] = CLUSTER_BLOCKD_WEIGHT;
		if (v == NULL)
			continue;
		v += strspn(v, " ");
		if (*v == '-') {
			c->blockd_weight[i] = -1;
			v++;
			continue;
		}
		n = strtol(v, &end, 10);
		if (end == v || n < 0 || n > 65535 || (*end != ' ' && *end != '\0')) {
			err_set(e, -EINVAL, "DNSFS_BLOCKD_WEIGHTS: word %d is not 0..65535 or -",
				i + 1);
			goto bad;
		}
		c->blockd_weight[i] = (int)n;
		v = end;
	}
	if (strf(c->mount, sizeof(c->mount), "%s", env_get(env, "DNSFS_MOUNT")) < 0 ||
	    c->mount[0] != '/') {
		err_set(e, -EINVAL, "DNSFS_MOUNT is not an absolute path");
		goto bad;
	}
	return 0;
bad:
	err_prefix(e, "%s: ", c->env_path);
	return -EINVAL;
}

static int env_save(const struct cluster *c, struct err *e)
{
	char buf[CLUSTER_BLOCKD_MAX * 80], val[PATH_MAX + 16], header[PATH_MAX + 512];
	char wbuf[CLUSTER_BLOCKD_MAX * 8];
	struct env env;
	size_t o = 0, wo = 0;
	int r;

	env_init(&env);
	for (int i = 0; i < c->nblockd; i++) {
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s:%d", i > 0 ? " " : "",
				      c->mds_addr, c->blockd_port[i]);
		if (c->blockd_weight[i] < 0)
			wo += (size_t)snprintf(wbuf + wo, sizeof(wbuf) - wo, "%s-", i > 0 ? " " : "");
		else
			wo += (size_t)snprintf(wbuf + wo, sizeof(wbuf) - wo, "%s%d", i > 0 ? " " : "",
					       c->blockd_weight[i]);
	}
#define SET(k, v) do { if ((r = env_set(&env, (k), (v), e)) < 0) goto fail; } while (0)
	SET("DNSFS_DIR", c->dir);
	SET("DNSFS_ZONE", c->zone);
	SET("DNSFS_MDS_ADDR", c->mds_addr);
	snprintf(val, sizeof(val), "%d", c->mds_port);
	SET("DNSFS_MDS_PORT", val);
	snprintf(val, sizeof(val), "%d", c->mds_metrics_port);
	SET("DNSFS_MDS_METRICS_PORT", val);
	SET("DNSFS_TSIG_KEYFILE", c->tsig_keyfile);
	SET("DNSFS_TSIG_KEYNAME", CLUSTER_TSIG_KEYNAME);
	SET("DNSFS_BLOCK_KEYFILE", c->block_keyfile);
	snprintf(val, sizeof(val), "%d", c->nblockd);
	SET("DNSFS_BLOCKD_COUNT", val);
	SET("DNSFS_BLOCKD", buf);
	SET("DNSFS_BLOCKD_WEIGHTS", wbuf);
	snprintf(val, sizeof(val), "unix:%s", c->redis_sock);
	SET("DNSFS_REDIS", val);
	SET("DNSFS_MOUNT", c->mount);
#undef SET
	strf(header, sizeof(header),
		 "dnsfs cluster in %s, written by `dnsfsctl cluster up`.\n"
		 "Source it to point tools at the cluster: . %s\n"
		 "`dnsfsctl cluster down` keeps it and all data; `rm -rf` the directory\n"
		 "after `down` to wipe the file system.", c->dir, c->env_path);
	r = env_write(&env, c->env_path, 0644, header, e);
fail:
	env_release(&env);
	return r;
}

/* ------------------------------------------------------ first-up setup --- */

/* Lowest port of the kernel's ephemeral range: ports below it are not handed
 * out to outgoing connections, so a port chosen there stays free. */
static int ephemeral_low(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	int lo = 32768, hi;

	if (f != NULL) {
		if (fscanf(f, "%d %d", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	return lo;
}

/* Bind 127.0.0.1:port with the given socket type; the fd, or -1. */
static int bind_probe(int type, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Choose n distinct ports on 127.0.0.1 that are free for both TCP and UDP.
 * The probe sockets stay bound until all are chosen, so none repeats. */
static int ports_alloc(int *ports, int n, struct err *e)
{
	int fds[2 * (CLUSTER_BLOCKD_MAX + 2)], nfds = 0, lo = 10000, hi = ephemeral_low() - 1, r = 0;
	uint32_t rnd[64];

	if (hi - lo < 1000) {
		lo = 1024;
		hi = 65535;
	}
	for (int i = 0; i < n && r == 0; i++) {
		int tries;

		for (tries = 0; tries < 1000; tries++) {
			if (tries % 64 == 0 && getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
				r = err_set(e, -errno, "getrandom: %s", strerror(errno));
				break;
			}
			int p = lo + (int)(rnd[tries % 64] % (uint32_t)(hi - lo + 1)), t, u, dup = 0;

			for (int j = 0; j < i; j++)
				dup |= ports[j] == p;
			if (dup)
				continue;
			t = bind_probe(SOCK_STREAM, p);
			u = t >= 0 ? bind_probe(SOCK_DGRAM, p) : -1;
			if (t >= 0 && u >= 0) {
				fds[nfds++] = t;
				fds[nfds++] = u;
				ports[i] = p;
				break;
			}
			if (t >= 0)
				close(t);
		}
		if (r == 0 && tries == 1000)
			r = err_set(e, -EADDRINUSE, "no free port on 127.0.0.1 in %d..%d", lo, hi);
	}
	while (nfds > 0)
		close(fds[--nfds]);
	return r;
}

/* DIR/tsig.key: a BIND key file (for `nsupdate -k`, `dig -k` and the mds)
 * with a fresh 256-bit HMAC-SHA256 secret, made once and then kept; and
 * DIR/tsig.kdig, the same key in the `alg:name:secret` form that `kdig -k`
 * reads (kdig does not read BIND key files). */
static int tsig_ensure(const struct cluster *c, struct err *e)
{
	unsigned char secret[32];
	char b64[64], text[256], kdig[PATH_MAX];
	struct tsig_keyring kr = { 0 };
	int n, r;

	if (access(c->tsig_keyfile, F_OK) < 0) {
		if (RAND_bytes(secret, sizeof(secret)) != 1)
			return err_set(e, -EIO, "cannot generate a TSIG secret: OpenSSL RAND_bytes failed");
		EVP_EncodeBlock((unsigned char *)b64, secret, sizeof(secret));
		n = snprintf(text, sizeof(text),
			     "key \"%s\" {\n\talgorithm hmac-sha256;\n\tsecret \"%s\";\n};\n",
			     CLUSTER_TSIG_KEYNAME, b64);
		r = write_file(c->tsig_keyfile, text, (size_t)n, 0600, e);
		if (r < 0)
			return r;
	}
	path_in(kdig, c, "tsig.kdig");
	if (access(kdig, F_OK) == 0)
		return 0;
	r = tsig_keyring_load(&kr, c->tsig_keyfile, e);
	if (r < 0)
		return r;
	if (kr.n == 0 || kr.keys[0].secret_len > 48) {
		tsig_keyring_release(&kr);
		return err_set(e, -EINVAL, "%s: no usable key", c->tsig_keyfile);
	}
	EVP_EncodeBlock((unsigned char *)b64, kr.keys[0].secret, (int)kr.keys[0].secret_len);
	n = snprintf(text, sizeof(text), "hmac-sha256:%s:%s\n", CLUSTER_TSIG_KEYNAME, b64);
	tsig_keyring_release(&kr);
	return write_file(kdig, text, (size_t)n, 0600, e);
}

/* DIR/block.key: the cluster's block key (BIND format, like tsig.key), which
 * signs block PUTs and DELETEs; made once and then kept. */
static int block_key_ensure(const struct cluster *c, struct err *e)
{
	unsigned char secret[32];

	if (access(c->block_keyfile, F_OK) == 0)
		return 0;
	if (RAND_bytes(secret, sizeof(secret)) != 1)
		return err_set(e, -EIO, "cannot generate a block key: OpenSSL RAND_bytes failed");
	return tsig_key_write_file(c->block_keyfile, CLUSTER_BLOCK_KEYNAME, secret,
				   sizeof(secret), e);
}

/* --------------------------------------------------- opening a cluster --- */

/* Resolve o->dir into c and take the directory's lock (fd in *lock, or -1
 * when lock is NULL). With create, make the directory; without, fail unless
 * a cluster.env is there. */
static int cluster_open(struct cluster *c, const struct cluster_opts *o, int create,
			int *lock, struct err *e)
{
	char abs[PATH_MAX], real[PATH_MAX], lockpath[PATH_MAX];
	int r, fd;

	memset(c, 0, sizeof(*c));
	c->no_mount = o->no_mount;
	r = abs_dir(o->dir, abs, sizeof(abs), e);
	if (r < 0)
		return r;
	/* Before creating anything: the socket path must fit. */
	r = check_socket_path(abs, e);
	if (r < 0)
		return r;
	if (create) {
		r = make_dirs(abs, 0755, e);
		if (r < 0)
			return r;
	}
	if (realpath(abs, real) == NULL) {
		if (errno == ENOENT)
			return err_set(e, -ENOENT, "no cluster in %s (no such directory)", abs);
		return err_set(e, -errno, "%s: %s", abs, strerror(errno));
	}
	/* Symlinks may have made it longer. */
	r = check_socket_path(real, e);
	if (r < 0)
		return r;
	snprintf(c->dir, sizeof(c->dir), "%s", real);
	if (path_in(c->env_path, c, "cluster.env") < 0 || path_in(c->tsig_keyfile, c, "tsig.key") < 0 ||
	    path_in(c->block_keyfile, c, "block.key") < 0 ||
	    path_in(c->redis_sock, c, "redis.sock") < 0 || path_in(lockpath, c, "cluster.lock") < 0)
		return err_set(e, -ENAMETOOLONG, "%s: path too long", c->dir);
	if (!create && access(c->env_path, F_OK) < 0)
		return err_set(e, -ENOENT, "no cluster in %s (no cluster.env); start one with "
			       "`dnsfsctl cluster up --dir %s`", c->dir, c->dir);
	if (lock == NULL)
		return 0;
	/* up and down of one directory take turns; status does not wait. */
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_set(e, -errno, "%s: %s", lockpath, strerror(errno));
	for (int64_t deadline = proc_now_ms() + LOCK_TIMEOUT_MS; flock(fd, LOCK_EX | LOCK_NB) < 0; ) {
		if (errno != EWOULDBLOCK || proc_now_ms() >= deadline) {
			r = errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
			close(fd);
			return err_set(e, r, "another dnsfsctl holds %s; gave up waiting", lockpath);
		}
		proc_sleep_ms(100);
	}
	*lock = fd;
	return 0;
}

/* Read cluster.env into c; -ENOENT if there is none. */
static int cluster_load(struct cluster *c, struct err *e)
{
	struct env env;
	int r;

	env_init(&env);
	r = env_read(&env, c->env_path, e);
	if (r == 0)
		r = env_load(c, &env, e);
	env_release(&env);
	return r;
}

/* First up: choose everything; later ups: reuse what cluster.env says and
 * refuse options that contradict it. */
static int cluster_settle(struct cluster *c, const struct cluster_opts *o, struct err *e)
{
	char zone[256];
	int ports[CLUSTER_BLOCKD_MAX + 2], r;

	if (o->zone != NULL) {
		r = zone_normalize(zone, sizeof(zone), o->zone, e);
		if (r < 0)
			return r;
	}
	r = cluster_load(c, e);
	if (r == 0) {
		if (o->zone != NULL && strcmp(zone, c->zone) != 0)
			return err_set(e, -EINVAL, "the cluster in %s serves zone %s, not %s; "
				       "use another --dir for another zone", c->dir, c->zone, zone);
		if (o->mount != NULL) {
			char want[PATH_MAX];

			r = abs_dir(o->mount, want, sizeof(want), e);
			if (r < 0)
				return r;
			if (strcmp(want, c->mount) != 0)
				return err_set(e, -EINVAL, "the cluster in %s mounts at %s, not %s; "
					       "use `dnsfsctl mount` for another mount point",
					       c->dir, c->mount, want);
		}
		if (o->blockd >= 0 && o->blockd != c->nblockd)
			return err_set(e, -EINVAL, "the cluster in %s has %d block daemons; "
				       "changing --blockd of an existing cluster is not supported",
				       c->dir, c->nblockd);
		/* A port the stopped parts own is free now: do not take it. */
		for (int tries = 0; c->mds_metrics_port == 0 && tries < 16; tries++) {
			int p, taken;

			r = ports_alloc(&p, 1, e);
			if (r < 0)
				return r;
			taken = p == c->mds_port;
			for (int i = 0; i < c->nblockd; i++)
				taken |= p == c->blockd_port[i];
			if (!taken)
				c->mds_metrics_port = p;
		}
		if (c->mds_metrics_port == 0)
			return err_set(e, -EADDRINUSE, "no free port for the mds metrics");
		return 0;
	}
	if (r != -ENOENT)
		return r;
	err_clear(e);
	snprintf(c->zone, sizeof(c->zone), "%s", o->zone != NULL ? zone : CLUSTER_DEFAULT_ZONE);
	snprintf(c->mds_addr, sizeof(c->mds_addr), "127.0.0.1");
	c->nblockd = o->blockd >= 0 ? o->blockd : CLUSTER_DEFAULT_BLOCKD;
	r = ports_alloc(ports, c->nblockd + 2, e);
	if (r < 0)
		return r;
	c->mds_port = ports[0];
	c->mds_metrics_port = ports[1];
	memcpy(c->blockd_port, ports + 2, (size_t)c->nblockd * sizeof(int));
	for (int i = 0; i < c->nblockd; i++)
		c->blockd_weight[i] = CLUSTER_BLOCKD_WEIGHT;
	if (o->mount != NULL)
		return abs_dir(o->mount, c->mount, sizeof(c->mount), e);
	if (path_in(c->mount, c, "mnt") < 0)
		return err_set(e, -ENAMETOOLONG, "%s: path too long", c->dir);
	return 0;
}

/* ------------------------------------------------------------ mounting --- */

/* Undo the octal escapes (\040 for a space) of /proc/self/mountinfo. */
static void unescape_mountinfo(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static int is_mounted(const char *path)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096 + PATH_MAX], mnt[PATH_MAX + 1];
	int found = 0;

	if (f == NULL)
		return 0;
	/* "36 35 98:0 /root /mnt/point rw,..." — the fifth field. */
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%*s %*s %*s %*s %4096s", mnt) == 1) {
			unescape_mountinfo(mnt);
			found = strcmp(mnt, path) == 0;
		}
	}
	fclose(f);
	return found;
}

/* Unmount the cluster's FUSE mount if something is mounted there. */
static int cluster_unmount(const struct cluster *c, FILE *out, struct err *e)
{
	const char *const argv[] = { "fusermount3", "-u", c->mount, NULL };
	char log[PATH_MAX], tail[256];
	int r, status;

	if (!is_mounted(c->mount))
		return 0;
	path_in(log, c, "mount.log");
	r = proc_run(argv, log, &status, e);
	if (r == -ENOENT)
		return err_set(e, r, "cannot unmount %s: fusermount3 is not installed: "
			       "apt-get install fuse3", c->mount);
	if (r < 0)
		return r;
	if (status != 0) {
		log_tail(log, tail, sizeof(tail));
		return err_set(e, -EBUSY, "fusermount3 -u %s failed (status %d): %s",
			       c->mount, status, tail);
	}
	fprintf(out, "%-9s unmounted %s\n", "mount", c->mount);
	return 0;
}

/* ---------------------------------------------------------- the verbs --- */

int cluster_up(const struct cluster_opts *o, FILE *out, struct err *e)
{
	struct cluster c;
	int lock = -1, r;

	r = cluster_open(&c, o, 1, &lock, e);
	if (r < 0)
		goto fail;
	r = cluster_settle(&c, o, e);
	if (r < 0)
		goto fail;
	r = tsig_ensure(&c, e);
	if (r == 0)
		r = block_key_ensure(&c, e);
	if (r < 0)
		goto fail;
	r = make_dirs(c.mount, 0755, e);
	if (r < 0)
		goto fail;
	/* Written before anything starts, so that `down` always finds it. */
	r = env_save(&c, e);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < NPARTS; i++) {
		const struct cluster_part *p = &parts[i];

		if (p->optional && c.no_mount)
			continue;
		for (int k = 0; k < part_count(p, &c); k++) {
			char name[32], pidfile[PATH_MAX];
			pid_t pid, stale;

			if (p->start == blockd_start && c.blockd_weight[k] < 0)
				continue;       /* removed by `dnsfsctl node remove` */
			part_name(name, sizeof(name), p, k);
			pid = part_pid(&c, p, name, &stale);
			if (pid > 0) {
				fprintf(out, "%-9s %-8s pid %d (already)\n", name, "running", (int)pid);
				continue;
			}
			/* A pid file naming a dead or foreign pid is only in the way. */
			part_pidfile(pidfile, &c, name);
			unlink(pidfile);
			r = p->start(&c, k, &pid, e);
			if (r < 0) {
				err_prefix(e, "%s: ", name);
				goto fail;
			}
			fprintf(out, "%-9s %-8s pid %d\n", name, "started", (int)pid);
		}
		if (p->settle != NULL) {
			r = p->settle(&c, out, e);
			if (r < 0) {
				err_prefix(e, "%s: ", p->name);
				goto fail;
			}
		}
	}
	fprintf(out, "cluster up in %s; source %s\n", c.dir, c.env_path);
	r = 0;
fail:
	if (lock >= 0)
		close(lock);
	return r;
}

/* ------------------------------------------------------ dnsfsctl node --- */

int cluster_blockd_add(const char *dir, FILE *out, struct cluster_node *node, struct err *e)
{
	struct cluster_opts o = { .dir = dir, .blockd = -1, .no_mount = 1 };
	struct cluster c;
	char name[32];
	int lock = -1, r, idx, port = 0;
	pid_t pid;

	r = cluster_open(&c, &o, 0, &lock, e);
	if (r == 0)
		r = cluster_load(&c, e);
	if (r < 0)
		goto fail;
	if (c.nblockd >= CLUSTER_BLOCKD_MAX) {
		r = err_set(e, -ENOSPC, "the cluster in %s has %d block daemons, the most it can",
			    c.dir, c.nblockd);
		goto fail;
	}
	/* A port no part of the cluster has, even a stopped one. */
	for (int tries = 0; port == 0 && tries < 16; tries++) {
		int p, taken;

		r = ports_alloc(&p, 1, e);
		if (r < 0)
			goto fail;
		taken = p == c.mds_port || p == c.mds_metrics_port;
		for (int i = 0; i < c.nblockd; i++)
			taken |= p == c.blockd_port[i];
		if (!taken)
			port = p;
	}
	if (port == 0) {
		r = err_set(e, -EADDRINUSE, "no free port for a new blockd");
		goto fail;
	}
	idx = c.nblockd++;
	c.blockd_port[idx] = port;
	c.blockd_weight[idx] = CLUSTER_BLOCKD_WEIGHT;
	/* Recorded first, so that `down` finds it whatever happens next. */
	r = env_save(&c, e);
	if (r < 0)
		goto fail;
	snprintf(name, sizeof(name), "blockd-%d", idx + 1);
	r = blockd_start(&c, idx, &pid, e);
	if (r < 0) {
		err_prefix(e, "%s: ", name);
		goto fail;
	}
	fprintf(out, "%-9s %-8s pid %d\n", name, "started", (int)pid);
	blockd_name(node->id, sizeof(node->id), &c, idx);
	snprintf(node->addr, sizeof(node->addr), "%s", c.mds_addr);
	node->port = port;
	node->weight = CLUSTER_BLOCKD_WEIGHT;
fail:
	if (lock >= 0)
		close(lock);
	return r;
}

int cluster_blockd_set_weight(const char *dir, const char *id, int weight, struct err *e)
{
	struct cluster_opts o = { .dir = dir, .blockd = -1, .no_mount = 1 };
	struct cluster c;
	int lock = -1, r;

	r = cluster_open(&c, &o, 0, &lock, e);
	if (r == 0)
		r = cluster_load(&c, e);
	if (r < 0)
		goto fail;
	r = 1;
	for (int i = 0; i < c.nblockd; i++) {
		char name[300];

		blockd_name(name, sizeof(name), &c, i);
		if (strcasecmp(name, id) != 0)
			continue;
		c.blockd_weight[i] = weight;
		r = env_save(&c, e);
		break;
	}
fail:
	if (lock >= 0)
		close(lock);
	return r;
}

int cluster_down(const struct cluster_opts *o, FILE *out, struct err *e)
{
	struct cluster c;
	int lock = -1, r, first = 0;

	r = cluster_open(&c, o, 0, &lock, e);
	if (r == 0)
		r = cluster_load(&c, e);
	if (r < 0)
		goto fail;
	/* The mount first: it needs the daemons to flush. */
	first = cluster_unmount(&c, out, e);
	for (size_t i = NPARTS; i-- > 0; ) {
		const struct cluster_part *p = &parts[i];

		for (int k = part_count(p, &c); k-- > 0; ) {
			char name[32], pidfile[PATH_MAX];
			struct err why;
			pid_t pid, stale;

			part_name(name, sizeof(name), p, k);
			part_pidfile(pidfile, &c, name);
			pid = part_pid(&c, p, name, &stale);
			if (pid == 0) {
				unlink(pidfile);
				fprintf(out, "%-9s %-8s (was not running)\n", name, "stopped");
				continue;
			}
			r = proc_stop(pid, p->exe, CLUSTER_STOP_TIMEOUT_MS, &why);
			if (r < 0) {
				/* Keep going: stop the rest, report the first failure. */
				if (first == 0)
					first = err_set(e, r, "%s: %s", name, why.msg);
				continue;
			}
			unlink(pidfile);
			fprintf(out, "%-9s %-8s pid %d\n", name, "stopped", (int)pid);
		}
	}
	r = first;
fail:
	if (lock >= 0)
		close(lock);
	return r;
}

int cluster_status(const struct cluster_opts *o, FILE *out, struct err *e)
{
	struct cluster c;
	int r, stopped = 0;

	r = cluster_open(&c, o, 0, NULL, e);
	if (r == 0)
		r = cluster_load(&c, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < NPARTS; i++) {
		const struct cluster_part *p = &parts[i];

		for (int k = 0; k < part_count(p, &c); k++) {
			char name[32];
			pid_t pid, stale;

			if (p->start == blockd_start && c.blockd_weight[k] < 0)
				continue;       /* removed by `dnsfsctl node remove` */
			part_name(name, sizeof(name), p, k);
			pid = part_pid(&c, p, name, &stale);
			if (pid == 0) {
				/* An optional part counts once something started it. */
				if (!p->optional || stale != 0)
					stopped = 1;
				fprintf(out, "%-9s stopped", name);
				if (stale != 0)
					fprintf(out, "  (pid file names pid %d, which is gone)", (int)stale);
				fputc('\n', out);
				continue;
			}
			fprintf(out, "%-9s %-8s pid %d", name, "running", (int)pid);
			if (p->describe != NULL)
				p->describe(&c, k, out);
			fputc('\n', out);
		}
	}
	return stopped ? CLUSTER_EXIT_STOPPED : 0;
}

/* -------------------------------------------------------- command line --- */

static void usage(FILE *f, int full)
{
	fprintf(f,
		"usage: dnsfsctl cluster up --dir DIR [--blockd N] [--no-mount] [--zone Z]\n"
		"       dnsfsctl cluster status --dir DIR\n"
		"       dnsfsctl cluster down --dir DIR\n");
	if (!full) {
		fprintf(f, "`dnsfsctl cluster --help` says more.\n");
		return;
	}
	fprintf(f,
		"\n"
		"Run a whole dnsfs cluster on this host, with all its state in DIR.\n"
		"  up      start whatever is not running; the first up chooses free ports,\n"
		"          makes a TSIG key and writes DIR/cluster.env (source it)\n"
		"  status  one line per part; exit 0 if all run, 3 if some are stopped\n"
		"  down    stop what up started, keeping all data, so a later up resumes\n"
		"          the same file system; rm -rf DIR after down wipes it\n"
		"\n"
		"  --dir DIR     the cluster directory (created by up)\n"
		"  --blockd N    number of block daemons (default %d, at most %d)\n"
		"  --no-mount    do not mount the file system\n"
		"  --zone Z      the metadata zone (default %s)\n",
		CLUSTER_DEFAULT_BLOCKD, CLUSTER_BLOCKD_MAX, CLUSTER_DEFAULT_ZONE);
}

static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dnsfsctl cluster: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	usage(stderr, 0);
	return 2;
}

int cluster_mount_cmd(int argc, char **argv, struct err *e)
{
	struct cluster_opts o = { .blockd = -1 };
	struct cluster c;
	char exe[PATH_MAX], mnt[PATH_MAX], log[PATH_MAX];
	int r, status;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: dnsfsctl mount --dir DIR MNT\n"
		       "  mount one more client of the cluster in DIR at MNT (in the background);\n"
		       "  unmount with fusermount3 -u MNT\n");
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "--dir") != 0) {
		fprintf(stderr, "usage: dnsfsctl mount --dir DIR MNT\n");
		return 2;
	}
	o.dir = argv[2];
	r = cluster_open(&c, &o, 0, NULL, e);
	if (r == 0)
		r = cluster_load(&c, e);
	if (r < 0)
		return r;
	if (find_program("dnsfs-mount", "fuse-client", exe, sizeof(exe)) < 0)
		return err_set(e, -ENOENT, "dnsfs-mount not found next to dnsfsctl, in the build "
			       "tree or in PATH: build it with make");
	r = abs_dir(argv[3], mnt, sizeof(mnt), e);
	if (r < 0)
		return r;
	r = make_dirs(mnt, 0755, e);
	if (r < 0)
		return r;
	path_in(log, &c, "mount-extra.log");
	/* Without -f, dnsfs-mount returns once mounted (or with the reason). */
	const char *const argv2[] = { exe, "--env", c.env_path, mnt, NULL };
	r = proc_run(argv2, log, &status, e);
	if (r < 0)
		return r;
	if (status != 0 || !is_mounted(mnt)) {
		char tail[256];

		log_tail(log, tail, sizeof(tail));
		return err_set(e, -EIO, "dnsfs-mount %s failed (status %d): %s", mnt, status, tail);
	}
	printf("mounted %s (cluster %s); unmount with fusermount3 -u %s\n", mnt, c.dir, mnt);
	return 0;
}

int cluster_cmd(int argc, char **argv, struct err *e)
{
	enum { OPT_DIR = 256, OPT_BLOCKD, OPT_NO_MOUNT, OPT_ZONE, OPT_MOUNT };
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, OPT_DIR },
		{ "blockd", required_argument, NULL, OPT_BLOCKD },
		{ "no-mount", no_argument, NULL, OPT_NO_MOUNT },
		{ "mount", required_argument, NULL, OPT_MOUNT },
		{ "zone", required_argument, NULL, OPT_ZONE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cluster_opts o = { .blockd = -1 };
	const char *verb;
	int c, up_only = 0;

	if (argc < 2)
		return bad_usage("%s", "missing subcommand (up, down or status)");
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
		usage(stdout, 1);
		return 0;
	}
	if (strcmp(verb, "up") != 0 && strcmp(verb, "down") != 0 && strcmp(verb, "status") != 0)
		return bad_usage("unknown subcommand '%s'", verb);
	/* getopt_long starts at argv[optind] = the word after the verb. */
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		char *end;
		long n;

		switch (c) {
		case OPT_DIR:
			o.dir = optarg;
			break;
		case OPT_BLOCKD:
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || n < 1 || n > CLUSTER_BLOCKD_MAX)
				return bad_usage("--blockd wants a number from 1 to 64, not '%s'", optarg);
			o.blockd = (int)n;
			up_only = 1;
			break;
		case OPT_NO_MOUNT:
			o.no_mount = 1;
			up_only = 1;
			break;
		case OPT_ZONE:
			o.zone = optarg;
			up_only = 1;
			break;
		case OPT_MOUNT:
			o.mount = optarg;
			up_only = 1;
			break;
		case 'h':
			usage(stdout, 1);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (o.dir == NULL)
		return bad_usage("%s", "--dir DIR is required");
	if (up_only && strcmp(verb, "up") != 0)
		return bad_usage("--blockd, --no-mount, --mount and --zone are options of up, not %s", verb);
	if (strcmp(verb, "up") == 0)
		return cluster_up(&o, stdout, e);
	if (strcmp(verb, "down") == 0)
		return cluster_down(&o, stdout, e);
	return cluster_status(&o, stdout, e);
}
