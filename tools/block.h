/* block: `dnsfsctl block put|get|place|stat` — store a file on the cluster's
 * block daemons and read it back by its refs, and show where blocks are
 * placed and which nodes really hold them, for tests and debugging. */
#ifndef DNSFS_TOOLS_BLOCK_H
#define DNSFS_TOOLS_BLOCK_H

#include "blockclient.h"
#include "err.h"
#include "tsig.h"

#define BLOCK_EXIT_DEGRADED 3   /* stat: readable, but some copy or chunk is bad */
#define BLOCK_EXIT_LOST 4       /* stat: some block cannot be read */

/* A client on a cluster's nodes, and where they came from; other commands
 * (gc) open it the way `block` does. */
struct block_ctx {
	struct blockclient *bc;
	struct tsig_keyring kr;
	char source[128];       /* "SRV _blockd._tcp.Z (6 nodes)" or "DNSFS_BLOCKD ..." */
};

/* The cluster of dir (its cluster.env and block key): nodes from the zone's
 * SRV records through the mds, else DNSFS_BLOCKD. c is closed on failure. */
int block_ctx_open(struct block_ctx *c, const char *dir, int verbose, struct err *e);
void block_ctx_close(struct block_ctx *c);

/* The `block` subcommand of dnsfsctl: argv[0] is "block". Returns an exit
 * status or -errno with e set. */
int block_cmd(int argc, char **argv, struct err *e);

/* A block client on the nodes of the cluster in dir (SRV records through the
 * mds, else DNSFS_BLOCKD), signing with the cluster's block key, for the
 * other subcommands (fsadmin). Free with block_client_close. */
struct blockclient;
struct block_client;
int block_client_open(struct block_client **out, const char *dir, struct err *e);
struct blockclient *block_client_get(struct block_client *c);
void block_client_close(struct block_client *c);       /* c may be NULL */

#endif
