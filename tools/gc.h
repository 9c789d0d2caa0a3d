/* gc: `dnsfsctl gc` — delete the blocks no committed record references
 * (orphans of deleted and overwritten files, uploads a client never
 * committed), with the age and count checks of docs/SCHEMA.md,
 * "Orphans and garbage collection". */
#ifndef DNSFS_TOOLS_GC_H
#define DNSFS_TOOLS_GC_H

#include "err.h"

#define GC_GRACE_DEFAULT 600    /* seconds a block must be unused before it goes */
#define GC_COMMIT_SLACK 2       /* seconds added to the grace: a live writer's
				 * PUT -> UPDATE time, so --grace 0 stays safe */

/* The `gc` subcommand of dnsfsctl: argv[0] is "gc". Returns an exit status
 * or -errno with e set. */
int gc_cmd(int argc, char **argv, struct err *e);

#endif
