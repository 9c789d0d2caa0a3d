/* fsadmin: the file system from the command line without a mount —
 * `dnsfsctl init|ls|stat|cat|put|rm|place|info` against the mds and block
 * daemons of a cluster directory, with the records the mount writes. */
#ifndef DNSFS_TOOLS_FSADMIN_H
#define DNSFS_TOOLS_FSADMIN_H

#include "err.h"

/* The first contents of a new zone (SOA, NS, ns1 A, the root inode) as a
 * zone file at path; cluster up writes its zone.init with it too. */
int fsadmin_zone_write(const char *path, const char *zone, const char *ns_addr,
		       struct err *e);

/* Subcommands: argv[0] is the command's name. Exit status or -errno with e. */
int fsadmin_init_cmd(int argc, char **argv, struct err *e);
int fsadmin_ls_cmd(int argc, char **argv, struct err *e);
int fsadmin_stat_cmd(int argc, char **argv, struct err *e);
int fsadmin_cat_cmd(int argc, char **argv, struct err *e);
int fsadmin_put_cmd(int argc, char **argv, struct err *e);
int fsadmin_rm_cmd(int argc, char **argv, struct err *e);
int fsadmin_place_cmd(int argc, char **argv, struct err *e);
int fsadmin_info_cmd(int argc, char **argv, struct err *e);

#endif
