/* capacity: what statfs (df) reports for the mount, from the block daemons'
 * own figures (GET /v1/status of every known blockd), cached for a few
 * seconds so that df does not hammer blockd and bounded so that a dead node
 * cannot hang it. See docs/SCHEMA.md, "The mount", statfs. */
#ifndef DNSFS_CAPACITY_H
#define DNSFS_CAPACITY_H

#include <pthread.h>
#include <stdint.h>
#include <sys/statvfs.h>

#include "err.h"

#define CAPACITY_TTL_MS 2000            /* figures are reused this long */
#define CAPACITY_TIMEOUT_MS 500         /* per blockd asked (blockclient_space) */
#define CAPACITY_FRSIZE 4096            /* statvfs unit: 4 KiB */

struct blockclient;

/* The sums of one refresh. Bytes are usable ones: raw bytes of the nodes
 * that answered, divided by factor. */
struct capacity_figures {
	uint64_t total;                 /* bytes */
	uint64_t free;                  /* bytes */
	unsigned nodes;                 /* writable nodes known (weight > 0) */
	unsigned answered;              /* of them, how many answered */
	unsigned factor;                /* copies per block: min(rep, nodes), >= 1 */
};

struct capacity {
	struct blockclient *bc;         /* not owned */
	unsigned rep;                   /* copies of new blocks */
	uint64_t files;                 /* f_files: inode numbers there are */
	int ttl_ms, timeout_ms;
	pthread_mutex_t mu;             /* guards the rest; held over a refresh, so
					 * concurrent statfs calls share one */
	int64_t at_ms;                  /* monotonic time of last refresh; 0: none */
	struct capacity_figures last;
};

/* files: the f_files to report (the inode number space). */
void capacity_init(struct capacity *c, struct blockclient *bc, unsigned rep, uint64_t files);
void capacity_release(struct capacity *c);

/* The figures, refreshed if older than ttl_ms. Never fails: nodes that do
 * not answer count as nothing (0 bytes), and no node at all gives zeros. */
void capacity_get(struct capacity *c, struct capacity_figures *out);

/* Fill sv for statfs from capacity_get. */
void capacity_statvfs(struct capacity *c, struct statvfs *sv, unsigned long namemax);

#endif
