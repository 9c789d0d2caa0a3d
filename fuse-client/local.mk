# dnsfs-mount: the FUSE client, a convenience library plus a thin main.
noinst_LIBRARIES += fuse-client/libmount.a
fuse_client_libmount_a_CFLAGS = $(AM_CFLAGS) $(FUSE3_CFLAGS) $(CRYPTO_CFLAGS)
fuse_client_libmount_a_SOURCES = \
	fuse-client/fs.c fuse-client/fs.h \
	fuse-client/cred.c fuse-client/cred.h \
	fuse-client/lock.c fuse-client/lock.h \
	fuse-client/lockset.c fuse-client/lockset.h \
	fuse-client/ofile.c fuse-client/ofile.h \
	fuse-client/mount.c fuse-client/mount.h \
	fuse-client/capacity.c fuse-client/capacity.h
MOUNT_LIBS = fuse-client/libmount.a $(DNSFS_LIBS) $(FUSE3_LIBS)

bin_PROGRAMS += fuse-client/dnsfs-mount
fuse_client_dnsfs_mount_SOURCES = fuse-client/main.c
fuse_client_dnsfs_mount_CFLAGS = $(AM_CFLAGS) $(FUSE3_CFLAGS)
fuse_client_dnsfs_mount_LDADD = $(MOUNT_LIBS)
