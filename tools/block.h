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

#endif
