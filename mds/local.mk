# dnsfs-mds: the authoritative metadata server, as a convenience library
# (mds/libmds.a, linked by the tests) plus a thin main.
noinst_LIBRARIES += mds/libmds.a
mds_libmds_a_CFLAGS = $(AM_CFLAGS) $(LDNS_CFLAGS) $(LIBEVENT_CFLAGS) $(HIREDIS_CFLAGS) $(CRYPTO_CFLAGS)
mds_libmds_a_SOURCES =
MDS_LIBS = mds/libmds.a $(DNSFS_LIBS) $(LDNS_LIBS) $(LIBEVENT_LIBS) $(HIREDIS_LIBS) $(CRYPTO_LIBS)
mds_libmds_a_SOURCES += mds/zone.h mds/store.h mds/update.h
mds_libmds_a_SOURCES += mds/zone.c mds/update.c mds/zonefile.c mds/zonefile.h
mds_libmds_a_SOURCES += mds/query.c mds/query.h mds/server.c mds/server.h mds/mds.c mds/mds.h
bin_PROGRAMS += mds/dnsfs-mds
mds_dnsfs_mds_SOURCES = mds/main.c
mds_dnsfs_mds_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
mds_dnsfs_mds_LDADD = $(MDS_LIBS)
mds_libmds_a_SOURCES += mds/store.c mds/journal.c mds/journal.h mds/refs.c mds/refs.h
mds_libmds_a_SOURCES += mds/xfr.c mds/xfr.h mds/notify.c mds/notify.h
