/* top: `dnsfsctl top --dir D` — per node of a cluster (mds, redis, each
 * blockd, the mount) cpu, disk and network io, request rates and latency
 * quantiles over the last interval, and the bottleneck it sees, named with
 * the measurement that led to it. Reads every daemon's /metrics and
 * /proc/<pid>/{stat,io} of the pids in D. */
#ifndef DNSFS_TOOLS_TOP_H
#define DNSFS_TOOLS_TOP_H

#include "err.h"

/* The `top` subcommand of dnsfsctl: argv[0] is "top". Returns an exit
 * status (0, 2 for usage) or -errno with e set. */
int top_cmd(int argc, char **argv, struct err *e);

#endif
