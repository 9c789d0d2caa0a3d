/* progress: the done/total, rate and ETA line of a long-running command
 * (fsck, gc, rebalance, repair, put of a big file). On a terminal one line
 * is redrawn in place at most every 200 ms; otherwise a plain line is
 * printed at most every 5 s, so logs stay readable. */
#ifndef DNSFS_PROGRESS_H
#define DNSFS_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct progress {
	FILE *out;
	const char *what;       /* "fsck", "gc: blocks", ... (not copied) */
	const char *unit;       /* "blocks", "bytes" (bytes print as MiB) */
	uint64_t done, total;   /* total 0: unknown */
	int tty;
	int64_t start_ms, last_ms;
	int drawn;              /* a tty line is on screen */
};

/* Start reporting to out (stderr when NULL); total may be 0 (unknown). */
void progress_init(struct progress *p, FILE *out, const char *what, const char *unit,
		   uint64_t total);
void progress_set_total(struct progress *p, uint64_t total);
/* Add n to done and report if it is time. */
void progress_add(struct progress *p, uint64_t n);
/* The final line (always printed), ending the tty line. */
void progress_end(struct progress *p);
/* The current line into buf ("fsck: 120/400 blocks, 30.0/s, ETA 9 s"). */
void progress_format(const struct progress *p, int64_t now_ms, char *buf, size_t len);

#endif
