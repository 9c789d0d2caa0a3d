/* fsck: `dnsfsctl fsck --dir D [--repair]` — walk a cluster's zone by AXFR,
 * check the metadata (dentries, nlink, listing buckets, orphans) and every
 * referenced block on the nodes its placement names; with --repair put back
 * missing copies and chunks and fix what is safely fixable in metadata. */
#ifndef DNSFS_TOOLS_FSCK_H
#define DNSFS_TOOLS_FSCK_H

#include "err.h"

#define FSCK_EXIT_PROBLEMS 4    /* problems found (and, with --repair, left) */

/* The `fsck` subcommand of dnsfsctl: argv[0] is "fsck". Returns an exit
 * status or -errno with e set. */
int fsck_cmd(int argc, char **argv, struct err *e);

#endif
