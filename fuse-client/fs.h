/* fs: the dnsfs file system as FUSE lowlevel operations. Metadata through
 * mdc (direct queries, signed UPDATEs), content through lib/blockclient.
 * FUSE inode numbers are the dnsfs inode numbers (the root is 1 in both), so
 * the client keeps no per-inode state and forget has nothing to free. */
#ifndef DNSFS_FS_H
#define DNSFS_FS_H

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>
#include <stdint.h>

#include "err.h"

struct fs_opts {
	const char *zone;               /* DNSFS_ZONE */
	const char *mds;                /* "ADDR:PORT" */
	const char *keyfile;            /* TSIG key for UPDATEs */
	const char *blockkeyfile;       /* block key for PUTs */
	const char *blockd;             /* "host:port ..." fallback when the zone
					 * has no _blockd._tcp SRV records */
	unsigned rep;                   /* copies of new files' blocks; default 3 */
	int timeout_ms;                 /* per DNS call; default MDC_TIMEOUT_MS */
	unsigned lock_lease;            /* lock lease, seconds; default 30 */
	const char *cache_dir;          /* local block cache; NULL: none */
	uint64_t cache_bytes;           /* its bound; default 1 GiB */
};

struct fs;

/* Connect (check the root inode answers) and set up the block client. */
int fs_new(struct fs **out, const struct fs_opts *o, struct err *e);
void fs_free(struct fs *fs);            /* fs may be NULL */
/* The loop has ended: answer requests still waiting for a lock while the
 * session can still reply, and give the locks up. Also done by the FUSE
 * destroy request of a normal unmount; idempotent. */
void fs_stop(struct fs *fs);
/* Write kb to the sysfs file path (read_ahead_kb of the mount) once the
 * kernel has taken the init reply, which resets it: at the first request
 * after it. */
void fs_set_read_ahead(struct fs *fs, const char *path, int kb);
/* The session, once made, so that open can invalidate kernel attributes. */
void fs_set_session(struct fs *fs, struct fuse_session *se);

/* The operation table; userdata is the struct fs. */
extern const struct fuse_lowlevel_ops fs_ops;

#endif
