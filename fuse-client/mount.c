/* mount: option parsing (-o zone=,mds=,keyfile=,blockkeyfile=,blockd= or
 * --env DIR/cluster.env), then one FUSE lowlevel session with fs_ops, served
 * by libfuse's multi-threaded loop (-s: one thread) so that a slow request
 * does not hold up the others. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "env.h"
#include "fs.h"
#include "log.h"
#include "mount.h"

struct mount_conf {
	char *zone, *mds, *keyfile, *blockkeyfile, *blockd, *env, *cache;
	int cache_mib;
	int read_ahead_kb;
	int cache_in_dir;               /* cache is a parent: add <mount> */
	int rep;
	int timeout_ms;
	int lock_lease;
	int help;
};

#define OPT(t, f) { t, offsetof(struct mount_conf, f), 1 }
static const struct fuse_opt mount_opts[] = {
	OPT("zone=%s", zone),
	OPT("mds=%s", mds),
	OPT("keyfile=%s", keyfile),
	OPT("blockkeyfile=%s", blockkeyfile),
	OPT("blockd=%s", blockd),
	OPT("rep=%d", rep),
	OPT("timeout=%d", timeout_ms),
	OPT("lock_lease=%d", lock_lease),
	OPT("cache=%s", cache),
	OPT("cache_size=%d", cache_mib),
	OPT("read_ahead_kb=%d", read_ahead_kb),
	OPT("--env %s", env),
	OPT("--env=%s", env),
	OPT("-h", help),
	OPT("--help", help),
	FUSE_OPT_END
};

static void usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-o OPTS] [--env DIR/cluster.env] MOUNTPOINT\n"
	       "  -o zone=Z             the metadata zone (DNSFS_ZONE)\n"
	       "  -o mds=ADDR:PORT      the mds (DNSFS_MDS_ADDR, DNSFS_MDS_PORT)\n"
	       "  -o keyfile=F          TSIG key for UPDATEs (DNSFS_TSIG_KEYFILE)\n"
	       "  -o blockkeyfile=F     block key for PUTs (DNSFS_BLOCK_KEYFILE)\n"
	       "  -o blockd=H:P[ H:P]   block daemons if the zone has no _blockd._tcp SRV\n"
	       "  -o rep=N              copies of new files' blocks (default 3)\n"
	       "  -o timeout=MS         deadline of one DNS query or UPDATE (default 3000)\n"
	       "  -o lock_lease=S       lease of flock and fcntl locks, renewed every S/3 s\n"
	       "                        (default 30)\n"
	       "  -o cache=DIR|none     local block cache (default DNSFS_DIR/cache/<mount>,\n"
	       "                        or /var/cache/dnsfs/<mount> without --env)\n"
	       "  -o cache_size=MIB     its bound in MiB (default 1024)\n"
	       "  -o read_ahead_kb=KB   the kernel's read-ahead on the mount (default 4096;\n"
	       "                        the kernel's own is 128)\n"
	       "  --env FILE|DIR        read the above from a cluster.env (options win)\n"
	       "  -o allow_other        let other users in (permissions are checked by the\n"
	       "                        kernel: default_permissions is always on; a user\n"
	       "                        other than root needs user_allow_other in fuse.conf)\n"
	       "  -o dev,suid           device nodes open, set-ID bits act (libfuse mounts\n"
	       "                        nodev,nosuid unless told)\n"
	       "  -f                    foreground (log to stderr, else syslog)\n"
	       "  -d                    debug: foreground and FUSE request trace\n"
	       "  -s                    one loop thread (default: several)\n", prog);
}

/* Fill what -o did not give from cluster.env. Strings point into env. */
static int conf_from_env(struct mount_conf *c, struct env *env, char *mds, size_t mdslen)
{
	char path[4096];
	struct stat st;
	struct err e = { 0 };
	const char *v, *p;

	snprintf(path, sizeof(path), "%s", c->env);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/cluster.env", c->env);
	if (env_read(env, path, &e) < 0) {
		fprintf(stderr, "dnsfs-mount: %s\n", e.msg);
		return -1;
	}
#define FILL(f, k) do { if (c->f == NULL && (v = env_get(env, k)) != NULL) c->f = strdup(v); } while (0)
	FILL(zone, "DNSFS_ZONE");
	FILL(keyfile, "DNSFS_TSIG_KEYFILE");
	FILL(blockkeyfile, "DNSFS_BLOCK_KEYFILE");
	FILL(blockd, "DNSFS_BLOCKD");
#undef FILL
	if (c->cache == NULL && (v = env_get(env, "DNSFS_DIR")) != NULL) {
		snprintf(path, sizeof(path), "%s/cache", v);
		c->cache = strdup(path);        /* the mount's own dir is added later */
		c->cache_in_dir = 1;
	}
	if (c->mds == NULL && (v = env_get(env, "DNSFS_MDS_ADDR")) != NULL &&
	    (p = env_get(env, "DNSFS_MDS_PORT")) != NULL) {
		snprintf(mds, mdslen, "%s:%s", v, p);
		c->mds = strdup(mds);
	}
	return 0;
}

/* The block cache directory: -o cache=DIR as given, none for none, else
 * <base>/<mount point with / as _> under DNSFS_DIR/cache or
 * /var/cache/dnsfs. NULL (no cache) if the base cannot be made. */
static const char *cache_path(const struct mount_conf *c, const char *mnt, char *buf,
			      size_t len)
{
	const char *base = c->cache_in_dir ? c->cache : "/var/cache/dnsfs";
	char abs[4096];
	size_t n;

	if (c->cache != NULL && strcmp(c->cache, "none") == 0)
		return NULL;
	if (c->cache != NULL && !c->cache_in_dir)
		return c->cache;
	if (mkdir(base, 0700) != 0 && errno != EEXIST) {
		log_warn("no block cache: %s: %s", base, strerror(errno));
		return NULL;
	}
	if (realpath(mnt, abs) == NULL)
		snprintf(abs, sizeof(abs), "%s", mnt);
	n = (size_t)snprintf(buf, len, "%s/", base);
	for (const char *p = abs; *p && n + 1 < len; p++)
		buf[n++] = *p == '/' ? '_' : *p;
	buf[n] = '\0';
	return buf;
}

/* The kernel reads ahead 128 KiB on a FUSE mount, and a FUSE file system
 * cannot ask for more in its init reply; root can raise it on the mount's
 * backing device info (/sys/class/bdi/<dev>/read_ahead_kb), which lets a
 * sequential reader keep several block fetches in flight (3x the
 * throughput measured). The device comes from /proc/self/mountinfo, not a
 * stat of the mount point: that would wait for this file system's loop. */
static int read_ahead_path(const char *mnt, char *path, size_t len)
{
	char line[8192], want[4096], dev[32] = "";
	FILE *f;

	if (realpath(mnt, want) == NULL || (f = fopen("/proc/self/mountinfo", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		char id[32], mp[4096];

		if (sscanf(line, "%*s %*s %31s %*s %4095s", id, mp) == 2 && strcmp(mp, want) == 0)
			snprintf(dev, sizeof(dev), "%s", id);   /* the last one wins */
	}
	fclose(f);
	if (dev[0] == '\0')
		return -1;
	snprintf(path, len, "/sys/class/bdi/%s/read_ahead_kb", dev);
	return 0;
}

int mount_main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts fo = { 0 };
	struct mount_conf c = { 0 };
	struct fuse_session *se = NULL;
	struct fs_opts o = { 0 };
	struct fs *fs = NULL;
	struct env env;
	struct err e = { 0 };
	char mds[128], fsname[300], cachedir[4096], rapath[128];
	int status = 1;

	env_init(&env);
	if (fuse_opt_parse(&args, &c, mount_opts, NULL) < 0)
		goto out;
	if (c.help) {
		usage(argv[0]);
		status = 0;
		goto out;
	}
	if (fuse_parse_cmdline(&args, &fo) != 0)
		goto out;
	if (fo.mountpoint == NULL) {
		usage(argv[0]);
		goto out;
	}
	if (c.env != NULL && conf_from_env(&c, &env, mds, sizeof(mds)) < 0)
		goto out;
	log_init("dnsfs-mount", fo.debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO, !fo.foreground);
	o = (struct fs_opts){ .zone = c.zone, .mds = c.mds, .keyfile = c.keyfile,
			      .blockkeyfile = c.blockkeyfile, .blockd = c.blockd,
			      .rep = c.rep > 0 ? (unsigned)c.rep : 3, .timeout_ms = c.timeout_ms,
			      .lock_lease = c.lock_lease > 0 ? (unsigned)c.lock_lease : 0,
			      .cache_dir = cache_path(&c, fo.mountpoint, cachedir, sizeof(cachedir)),
			      .cache_bytes = c.cache_mib > 0 ? (uint64_t)c.cache_mib << 20 : 0 };
	if (fs_new(&fs, &o, &e) < 0) {
		fprintf(stderr, "dnsfs-mount: %s\n", e.msg);
		goto out;
	}
	snprintf(fsname, sizeof(fsname), "-ofsname=dnsfs:%s,subtype=dnsfs,default_permissions",
		 c.zone);
	if (fuse_opt_add_arg(&args, fsname) < 0)
		goto out;
	se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), fs);
	if (se == NULL)
		goto out;
	fs_set_session(fs, se);
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	if (fuse_session_mount(se, fo.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(fo.foreground);
	if (read_ahead_path(fo.mountpoint, rapath, sizeof(rapath)) == 0)
		fs_set_read_ahead(fs, rapath, c.read_ahead_kb > 0 ? c.read_ahead_kb : 4096);
	log_info("mounted zone %s from %s on %s", c.zone, c.mds, fo.mountpoint);
	if (fo.singlethread) {
		status = fuse_session_loop(se) == 0 ? 0 : 1;
	} else {
		int r;

		/* the 3.x struct of this FUSE_USE_VERSION (fs.h): threads are
		 * started on demand, up to libfuse's default maximum; without
		 * -o max_idle_threads the option is UINT_MAX, which 3.14 logs
		 * as invalid, so keep 10 idle threads then (libfuse 3.x's old
		 * default) */
		struct fuse_loop_config lc = { .clone_fd = fo.clone_fd,
					       .max_idle_threads = fo.max_idle_threads <= 100000
								   ? fo.max_idle_threads : 10 };

		/* > 0: the signal that ended it, a normal end as for the
		 * single-threaded loop */
		r = fuse_session_loop_mt(se, &lc);
		status = r < 0 ? 1 : 0;
	}
	fs_stop(fs);            /* before the unmount closes the device */
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out:
	if (se != NULL)
		fuse_session_destroy(se);
	fs_free(fs);
	free(fo.mountpoint);
	fuse_opt_free_args(&args);
	free(c.zone); free(c.mds); free(c.keyfile); free(c.blockkeyfile); free(c.blockd);
	free(c.env); free(c.cache);
	env_release(&env);
	return status;
}
