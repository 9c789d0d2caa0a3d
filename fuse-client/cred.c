/* cred: the caller of a FUSE request (fsuid, fsgid, supplementary groups)
 * and the set-group-ID rule that depends on it; see cred.h. The groups are
 * read only for an unprivileged caller, as that is the only case that needs
 * them (libfuse reads /proc/<pid>/task/<pid>/status). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cred.h"

#define CRED_GROUPS_GUESS 32    /* first read; more is read again */

int cred_init(struct cred *c, fuse_req_t req, struct err *e)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	int n, want = CRED_GROUPS_GUESS;

	memset(c, 0, sizeof(*c));
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	if (cred_privileged(c))
		return 0;
	for (int t = 0; t < 2; t++) {
		gid_t *v = malloc((size_t)want * sizeof(*v));

		if (v == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		n = fuse_req_getgroups(req, want, v);
		if (n <= 0) {           /* gone, or no /proc: the fsgid only */
			free(v);
			return 0;
		}
		if (n <= want) {
			c->groups = v;
			c->ngroups = (size_t)n;
			return 0;
		}
		free(v);
		want = n;               /* it has more: read them all */
	}
	return 0;
}

void cred_release(struct cred *c)
{
	free(c->groups);
	memset(c, 0, sizeof(*c));
}

int cred_privileged(const struct cred *c)
{
	return c->uid == 0;
}

int cred_in_group(const struct cred *c, gid_t g)
{
	if (c->gid == g)
		return 1;
	for (size_t i = 0; i < c->ngroups; i++)
		if (c->groups[i] == g)
			return 1;
	return 0;
}

int cred_keeps_sgid(const struct cred *c, gid_t gid)
{
	return cred_privileged(c) || cred_in_group(c, gid);
}
