/* mount: the dnsfs-mount program as a library function (options, cluster.env,
 * the FUSE session and its loop), so main.c stays a one-liner. */
#ifndef DNSFS_MOUNT_H
#define DNSFS_MOUNT_H

/* Runs until the file system is unmounted; returns the exit status. */
int mount_main(int argc, char **argv);

#endif
