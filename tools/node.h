/* node: `dnsfsctl node ls|add|drain|remove` — the cluster's block daemons as
 * the zone lists them (`_blockd._tcp.Z SRV` + A), changed with signed
 * UPDATEs; and the zone view rebalance shares: the node set and every
 * referenced block, read with one AXFR. */
#ifndef DNSFS_TOOLS_NODE_H
#define DNSFS_TOOLS_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "blockclient.h"
#include "err.h"
#include "record.h"
#include "tsig.h"

#define NODE_REP_DEFAULT 3      /* copies of a block whose inode names no rep= */

struct node_irep {
	uint64_t ino;
	unsigned rep;
};

struct node_info {
	char id[256];           /* SRV target, lower case, final dot */
	char addr[64];          /* its A record ("" if none) */
	int port;
	int weight;             /* SRV weight; 0 draining */
};

/* A cluster as its zone says; node_zone_open fills it, node_zone_release
 * frees what it owns. */
struct node_zone {
	const char *dir;                /* the cluster directory (not copied) */
	char zone[256];
	char mds_addr[64];
	int mds_port;
	struct tsig_keyring kr;         /* admin key (UPDATE, AXFR) */
	struct tsig_keyring bkr;        /* block key (PUT, DELETE) */
	struct node_info v[BLOCKCLIENT_NODES_MAX];
	size_t n;
	struct record_refs refs;        /* every b=/s= ref of the zone (with
					 * want_refs), in zone order, duplicates kept */
	unsigned *rep;                  /* refs.n entries: the inode's rep= (for a
					 * page's refs, the rep= of its inode) */
	uint64_t *ino;                  /* refs.n entries: the inode they belong to */
	size_t rep_alloc;
	struct node_irep *irep;         /* the inodes that name a rep= */
	size_t nirep, irep_alloc;
};

/* Read DIR/cluster.env and the keys, then AXFR the zone: its nodes, and with
 * want_refs every ref of every inode and block-map page. */
int node_zone_open(struct node_zone *z, const char *dir, int want_refs, struct err *e);
void node_zone_release(struct node_zone *z);
/* A block client on z's nodes (ids = SRV targets, as every client ranks). */
int node_zone_client(const struct node_zone *z, struct blockclient **out, struct err *e);

int node_cmd(int argc, char **argv, struct err *e);

#endif
