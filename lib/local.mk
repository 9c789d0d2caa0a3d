# libdnsfs: code shared by every daemon, the client and the tools.
# One line per module, so parallel branches add lines without conflicts.
noinst_LIBRARIES += lib/libdnsfs.a
lib_libdnsfs_a_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
lib_libdnsfs_a_SOURCES = lib/err.c lib/err.h
lib_libdnsfs_a_SOURCES += lib/hash.c lib/hash.h
lib_libdnsfs_a_SOURCES += lib/wire.c lib/wire.h
lib_libdnsfs_a_SOURCES += lib/tsig.c lib/tsig.h
lib_libdnsfs_a_SOURCES += lib/conf.c lib/conf.h
lib_libdnsfs_a_SOURCES += lib/log.c lib/log.h
lib_libdnsfs_a_SOURCES += lib/placement.c lib/placement.h
lib_libdnsfs_a_SOURCES += lib/record.c lib/record.h
lib_libdnsfs_a_SOURCES += lib/env.c lib/env.h
lib_libdnsfs_a_SOURCES += lib/proc.c lib/proc.h
lib_libdnsfs_a_SOURCES += lib/metrics.c lib/metrics_host.c lib/metrics.h
lib_libdnsfs_a_SOURCES += lib/httpd.c lib/httpd.h
lib_libdnsfs_a_SOURCES += lib/blockauth.c lib/blockauth.h

# What every program linking libdnsfs needs.
DNSFS_LIBS = lib/libdnsfs.a $(CRYPTO_LIBS) -lm
# lib/httpd is the one user of libevent in lib/.
lib_libdnsfs_a_CFLAGS += $(LIBEVENT_CFLAGS)
DNSFS_LIBS += $(LIBEVENT_LIBS)
lib_libdnsfs_a_SOURCES += lib/ec.c lib/ec.h
# lib/ec is the one user of ISA-L.
lib_libdnsfs_a_CFLAGS += $(ISAL_CFLAGS)
DNSFS_LIBS += $(ISAL_LIBS) -lpthread
lib_libdnsfs_a_SOURCES += lib/httpc.c lib/httpc.h
lib_libdnsfs_a_SOURCES += lib/blockclient.c lib/blockclient.h
lib_libdnsfs_a_SOURCES += lib/blockcache.c lib/blockcache.h
lib_libdnsfs_a_SOURCES += lib/progress.c lib/progress.h
lib_libdnsfs_a_SOURCES += lib/mdc.c lib/mdc.h
lib_libdnsfs_a_SOURCES += lib/dirbucket.c lib/dirbucket.h
lib_libdnsfs_a_SOURCES += lib/resolve.c lib/resolve.h
# lib/resolve is the one user of libunbound.
lib_libdnsfs_a_CFLAGS += $(UNBOUND_CFLAGS)
DNSFS_LIBS += $(UNBOUND_LIBS)
lib_libdnsfs_a_SOURCES += lib/axfr.c lib/axfr.h
lib_libdnsfs_a_SOURCES += lib/promtext.c lib/promtext.h
lib_libdnsfs_a_SOURCES += lib/fsmeta.c lib/fsmeta.h
