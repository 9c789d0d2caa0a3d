/* cred: who a request comes from, for the rules the kernel leaves to a FUSE
 * file system: whether a change of mode may keep S_ISGID (Linux keeps it
 * only for a caller in the file's group, or one with CAP_FSETID). */
#ifndef DNSFS_CRED_H
#define DNSFS_CRED_H

#include <sys/types.h>

#include "err.h"
#include "fs.h"

struct cred {
	uid_t uid;                      /* fsuid of the caller */
	gid_t gid;                      /* fsgid */
	gid_t *groups;                  /* supplementary groups (owned) */
	size_t ngroups;
};

/* The caller of req: fsuid, fsgid and, for an unprivileged caller, its
 * supplementary groups (read from /proc by libfuse; if the caller is gone
 * or /proc says nothing, it has none). -ENOMEM only. */
int cred_init(struct cred *c, fuse_req_t req, struct err *e);
void cred_release(struct cred *c);

/* Root stands for CAP_FSETID (FUSE does not pass capabilities on). */
int cred_privileged(const struct cred *c);

/* g is the caller's fsgid or one of its supplementary groups. */
int cred_in_group(const struct cred *c, gid_t g);

/* A mode change on a file of group gid keeps S_ISGID (setattr_copy's rule). */
int cred_keeps_sgid(const struct cred *c, gid_t gid);

#endif
