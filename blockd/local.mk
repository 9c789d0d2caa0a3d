# dnsfs-blockd: the block store daemon, as a convenience library
# (blockd/libblockd.a, linked by the tests) plus a thin main.
noinst_LIBRARIES += blockd/libblockd.a
blockd_libblockd_a_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS) $(CRYPTO_CFLAGS)
blockd_libblockd_a_SOURCES =
blockd_libblockd_a_SOURCES += blockd/blockstore.c blockd/blockstore.h
blockd_libblockd_a_SOURCES += blockd/scrub.c blockd/scrub.h
blockd_libblockd_a_SOURCES += blockd/api.c blockd/api.h
blockd_libblockd_a_SOURCES += blockd/blockd.c blockd/blockd.h
BLOCKD_LIBS = blockd/libblockd.a $(DNSFS_LIBS) $(LIBEVENT_LIBS) $(CRYPTO_LIBS)

bin_PROGRAMS += blockd/dnsfs-blockd
blockd_dnsfs_blockd_SOURCES = blockd/main.c
blockd_dnsfs_blockd_LDADD = $(BLOCKD_LIBS)
EXTRA_DIST += blockd/README.md
