/* scrub: blockd's background rehash of every stored block, paced by a byte
 * rate on the event loop, started every interval and on demand; what does not
 * match its hash goes to quarantine (blockstore_verify) and is counted. */
#ifndef DNSFS_SCRUB_H
#define DNSFS_SCRUB_H

#include <stdint.h>

#include "blockstore.h"
#include "err.h"

struct event_base;
struct metrics;
struct scrub;

struct scrub_options {
	struct event_base *base;        /* the daemon's loop; not owned */
	struct blockstore *store;       /* not owned */
	struct metrics *metrics;        /* registers dnsfs_blockd_scrub_*; not owned */
	uint64_t rate;                  /* bytes/s read at most; 0: no limit */
	uint64_t interval_ms;           /* a pass starts this long after the last
					 * one started; 0: only on demand */
};

/* What /v1/status reports. */
struct scrub_status {
	int running;                    /* a pass is under way */
	uint64_t passes;                /* completed since start */
	int64_t last_start;             /* unix seconds; 0: never */
	int64_t last_end;               /* unix seconds of the last completed pass; 0: none */
	uint64_t corrupt_total;         /* blocks quarantined by scrubs since start */
	struct blockstore_scrub pass;   /* the running (or last) pass */
};

struct scrub *scrub_new(const struct scrub_options *o, struct err *e);
void scrub_free(struct scrub *s);

/* Start a pass now. 1 if started, 0 if one is running already. */
int scrub_start(struct scrub *s);
/* Change the rate (a reload). */
void scrub_set_rate(struct scrub *s, uint64_t rate);
const struct scrub_status *scrub_status(const struct scrub *s);

#endif
