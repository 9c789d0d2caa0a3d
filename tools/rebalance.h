/* rebalance: `dnsfsctl rebalance --dir DIR [--rate MB/s]` — put every
 * referenced block where the current node set places it, copying before
 * deleting, so that added nodes fill and drained nodes empty. */
#ifndef DNSFS_TOOLS_REBALANCE_H
#define DNSFS_TOOLS_REBALANCE_H

#include "err.h"

int rebalance_cmd(int argc, char **argv, struct err *e);

#endif
