/* block: `dnsfsctl block put|get|place|stat` — store a file on the cluster's
 * block daemons and read it back by its refs, and show where blocks are
 * placed and which nodes really hold them, for tests and debugging. */
#ifndef DNSFS_TOOLS_BLOCK_H
#define DNSFS_TOOLS_BLOCK_H

#include "err.h"

#define BLOCK_EXIT_DEGRADED 3   /* stat: readable, but some copy or chunk is bad */
#define BLOCK_EXIT_LOST 4       /* stat: some block cannot be read */

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
