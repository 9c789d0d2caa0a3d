/* mstats: the dnsfs-mds's Prometheus metrics, served at /metrics by lib/httpd
 * on the mds's event loop. The query path and the store report through their
 * observer hooks (a few adds per response, no allocation once a label set has
 * been seen); everything else is read at scrape time. Metric list:
 * docs/OPERATIONS.md, "Metrics". */
#ifndef DNSFS_MSTATS_H
#define DNSFS_MSTATS_H

#include "err.h"

struct event_base;
struct query_ctx;
struct server;
struct store;
struct zoneset;
struct mstats;

struct mstats_options {
	struct event_base *base;        /* loop the HTTP server runs on; not owned */
	const char *listen;             /* "ADDR:PORT" (port 0: a free one) */
	struct query_ctx *qctx;         /* observed; not owned, outlive the mstats */
	struct server *server;          /* read at scrape time; not owned */
	struct store *store;            /* observed; not owned */
	const struct zoneset *zones;    /* read at scrape time; not owned */
};

/* Make the registry, install the observers and listen. NULL with e set (the
 * address at fault, or -ENOMEM). */
struct mstats *mstats_new(const struct mstats_options *o, struct err *e);
/* Remove the observers, close the HTTP server and free. NULL is ok. */
void mstats_free(struct mstats *ms);
/* The port actually bound. */
int mstats_port(const struct mstats *ms);

#endif
