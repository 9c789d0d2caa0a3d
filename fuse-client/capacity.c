/* capacity: statfs figures from the block daemons (see capacity.h). The
 * mount reports usable space, as df users expect of a replicated file
 * system: the blockd figures summed and divided by the copies each block
 * takes, so that `df` Avail is about what `cp` can still write. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blockclient.h"
#include "capacity.h"
#include "log.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void capacity_init(struct capacity *c, struct blockclient *bc, unsigned rep, uint64_t files)
{
	memset(c, 0, sizeof(*c));
	c->bc = bc;
	c->rep = rep > 0 ? rep : 1;
	c->files = files;
	c->ttl_ms = CAPACITY_TTL_MS;
	c->timeout_ms = CAPACITY_TIMEOUT_MS;
	pthread_mutex_init(&c->mu, NULL);
}

void capacity_release(struct capacity *c)
{
	pthread_mutex_destroy(&c->mu);
}

/* Ask the nodes now. Draining nodes (weight 0) take no new blocks, so their
 * room is not offered; nodes that do not answer add nothing (their room is
 * not reachable either) and are logged. */
static void refresh(struct capacity *c, struct capacity_figures *f)
{
	struct blockclient_nodes *ns = blockclient_nodes_get(c->bc);
	size_t n = blockclient_nodes_count(ns);
	struct blockclient_space *v = NULL;
	uint64_t total = 0, free_ = 0;
	struct err e = { 0 };
	int *rc = NULL;

	memset(f, 0, sizeof(*f));
	f->factor = 1;
	if (n == 0)
		goto out;
	v = calloc(n, sizeof(*v));
	rc = calloc(n, sizeof(*rc));
	if (v == NULL || rc == NULL) {
		log_warn("statfs: out of memory");
		goto out;
	}
	if (blockclient_space(c->bc, ns, c->timeout_ms, v, rc, &e) < 0) {
		log_warn("statfs: %s", e.msg);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (blockclient_nodes_weight(ns, i) == 0)
			continue;
		f->nodes++;
		if (rc[i] < 0)
			continue;
		f->answered++;
		total += v[i].capacity;
		free_ += v[i].free;
	}
	if (f->answered < f->nodes)
		log_warn("statfs: %u of %u block daemons did not answer (%s); their space is "
			 "not counted", f->nodes - f->answered, f->nodes, e.msg);
	f->factor = c->rep < f->nodes ? c->rep : f->nodes;
	if (f->factor == 0)
		f->factor = 1;
	f->total = total / f->factor;
	f->free = free_ / f->factor;
out:
	free(v);
	free(rc);
	blockclient_nodes_put(ns);
}

void capacity_get(struct capacity *c, struct capacity_figures *out)
{
	int64_t now;

	pthread_mutex_lock(&c->mu);
	now = now_ms();
	if (c->at_ms == 0 || now - c->at_ms >= c->ttl_ms) {
		refresh(c, &c->last);
		/* a refresh that waited on a dead node counts from its end */
		c->at_ms = now_ms();
	}
	*out = c->last;
	pthread_mutex_unlock(&c->mu);
}

void capacity_statvfs(struct capacity *c, struct statvfs *sv, unsigned long namemax)
{
	struct capacity_figures f;

	capacity_get(c, &f);
	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = CAPACITY_FRSIZE;
	sv->f_frsize = CAPACITY_FRSIZE;
	sv->f_blocks = f.total / CAPACITY_FRSIZE;
	sv->f_bfree = f.free / CAPACITY_FRSIZE;
	sv->f_bavail = sv->f_bfree;
	/* the inode count would need a walk of the zone: the number space is
	 * reported, all of it free (df -i shows 0% used, never a false full) */
	sv->f_files = c->files;
	sv->f_ffree = c->files;
	sv->f_favail = c->files;
	sv->f_namemax = namemax;
}
