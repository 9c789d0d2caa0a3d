/* cluster: `dnsfsctl cluster up|down|status` — a whole dnsfs cluster on this
 * host (Redis, later the mds, the block daemons and a mount) for tests and
 * development, started and stopped as one, with all its state in one
 * directory so that a later `up` resumes the same file system. */
#ifndef DNSFS_CLUSTER_H
#define DNSFS_CLUSTER_H

#include <limits.h>
#include <stdio.h>

#include "err.h"

#define CLUSTER_DEFAULT_ZONE "dnsfs.test."
#define CLUSTER_DEFAULT_BLOCKD 6
#define CLUSTER_BLOCKD_MAX 64
#define CLUSTER_TSIG_KEYNAME "dnsfs-admin"
#define CLUSTER_BLOCK_KEYNAME "dnsfs-block"   /* signs block requests (lib/blockauth) */
#define CLUSTER_BLOCKD_WEIGHT 10        /* SRV weight of every block daemon */
#define CLUSTER_STOP_TIMEOUT_MS 10000   /* SIGTERM grace before SIGKILL */
#define CLUSTER_READY_TIMEOUT_MS 10000  /* how long a part may take to start */
#define CLUSTER_EXIT_STOPPED 3          /* status: some part is not running */

/* What the command line asked for. */
struct cluster_opts {
	const char *dir;        /* --dir, as given (may be relative) */
	const char *zone;       /* --zone, or NULL for the recorded/default one */
	int blockd;             /* --blockd N, or -1 for the recorded/default */
	int no_mount;           /* --no-mount: do not start the mount part */
	const char *mount;      /* --mount MNT for a new cluster (default DIR/mnt) */
};

/* One cluster, as recorded in DIR/cluster.env plus the paths derived from
 * DIR. Everything is absolute; nothing here is heap-allocated. */
struct cluster {
	char dir[PATH_MAX];             /* the cluster directory */
	char env_path[PATH_MAX];        /* DIR/cluster.env */
	char zone[256];                 /* DNSFS_ZONE, lower case, final dot */
	char mds_addr[64];              /* DNSFS_MDS_ADDR: 127.0.0.1 */
	int mds_port;                   /* DNSFS_MDS_PORT: DNS over UDP and TCP */
	int mds_metrics_port;           /* DNSFS_MDS_METRICS_PORT: HTTP /metrics */
	char tsig_keyfile[PATH_MAX];    /* DNSFS_TSIG_KEYFILE: DIR/tsig.key */
	char block_keyfile[PATH_MAX];   /* DNSFS_BLOCK_KEYFILE: DIR/block.key */
	int nblockd;                    /* DNSFS_BLOCKD_COUNT */
	int blockd_port[CLUSTER_BLOCKD_MAX]; /* DNSFS_BLOCKD, all on mds_addr */
	int blockd_weight[CLUSTER_BLOCKD_MAX]; /* DNSFS_BLOCKD_WEIGHTS: SRV weight
					 * `up` registers; -1: removed (not started) */
	char redis_sock[PATH_MAX];      /* DIR/redis.sock (DNSFS_REDIS minus unix:) */
	char mount[PATH_MAX];           /* DNSFS_MOUNT */
	int no_mount;                   /* from cluster_opts, not recorded */
};

/* Start whatever part of the cluster in o->dir is not running (creating the
 * directory, ports, key and cluster.env on first use); report on out. */
int cluster_up(const struct cluster_opts *o, FILE *out, struct err *e);

/* Unmount, then stop every part that a pid file names (only if the pid still
 * runs that part's program). Data and settings stay. */
int cluster_down(const struct cluster_opts *o, FILE *out, struct err *e);

/* One line per part on out. Returns 0 if every part is running,
 * CLUSTER_EXIT_STOPPED if some is not, -errno if there is no cluster. */
int cluster_status(const struct cluster_opts *o, FILE *out, struct err *e);

/* `dnsfsctl mount --dir DIR MNT`: mount one more client of the cluster in
 * DIR at MNT (dnsfs-mount --env DIR/cluster.env MNT, in the background). */
int cluster_mount_cmd(int argc, char **argv, struct err *e);

/* A block daemon as `dnsfsctl node` registers it. */
struct cluster_node {
	char id[300];           /* SRV target, "blockd-5.n.dnsfs.test." */
	char addr[64];          /* IPv4 address */
	int port;
	int weight;
};

/* `dnsfsctl node add --dir DIR`: start blockd-N+1 of the cluster in dir the
 * way `up` starts the others (a new port, recorded in cluster.env with
 * DNSFS_BLOCKD_COUNT one higher, so later ups start it too) and describe it
 * in *node for the caller to register. */
int cluster_blockd_add(const char *dir, FILE *out, struct cluster_node *node, struct err *e);

/* Record the SRV weight `up` registers block daemon id with (-1: removed,
 * so `up` neither starts nor registers it). 0, 1 if id is not one of the
 * cluster's own, or -errno. */
int cluster_blockd_set_weight(const char *dir, const char *id, int weight, struct err *e);

/* The `cluster` subcommand of dnsfsctl: argv[0] is "cluster". Returns an
 * exit status (0, 2 for usage, 3 from status) or -errno with e set. */
int cluster_cmd(int argc, char **argv, struct err *e);

#endif
