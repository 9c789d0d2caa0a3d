/* toprules: the rules by which `dnsfsctl top` names a bottleneck, applied
 * to one interval's figures per node. Pure code (no I/O), apart from
 * tools/top.c, so that a Check suite can feed it figures and read the
 * findings. Thresholds are documented in docs/OPERATIONS.md. */
#ifndef DNSFS_TOOLS_TOPRULES_H
#define DNSFS_TOOLS_TOPRULES_H

#include <stddef.h>

#define TOPRULES_FINDINGS_MAX 32
#define TOPRULES_CPU_BUSY 0.85          /* of one core: a single event loop is full */
#define TOPRULES_OUTLIER_RATIO 3.0      /* a blockd this many times the others' median */
#define TOPRULES_OUTLIER_FLOOR 0.005    /* ... and at least this slow (s) */
#define TOPRULES_COMMIT_SLOW 0.010      /* mds update commit p99 worth naming (s) */
#define TOPRULES_STORE_SHARE 0.5        /* commit time / update time that names Redis */

enum toprules_kind { TOPRULES_MDS, TOPRULES_REDIS, TOPRULES_BLOCKD, TOPRULES_MOUNT };

/* One node over one interval. Figures are NAN where unknown. */
struct toprules_node {
	const char *name;               /* "blockd-3"; not owned */
	enum toprules_kind kind;
	int has_metrics;                /* it serves /metrics ... */
	int answered;                   /* ... and answered this round */
	const char *why;                /* else why not; not owned */
	int pid;                        /* live pid of its pid file, 0 if none */
	char state;                     /* its /proc state letter, 0 if unknown */
	double cpu;                     /* share of one core */
	double fsync99, put99, get99;   /* blockd p99s, s */
	double upd;                     /* mds updates/s */
	double commit99;                /* mds update commit p99, s */
	double share;                   /* mds: commit time / update time */
};

struct toprules_finding {
	double score;                   /* strongest first */
	char text[300];                 /* "blockd-3: fsync p99 40.0 ms, 5.0x ..." */
};

/* Apply every rule to v[0..n); write at most TOPRULES_FINDINGS_MAX findings
 * to out, strongest first, and return how many. */
size_t toprules_run(const struct toprules_node *v, size_t n, struct toprules_finding *out);

#endif
