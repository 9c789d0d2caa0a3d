# libdnsfs: code shared by every daemon, the client and the tools.
noinst_LIBRARIES += lib/libdnsfs.a
lib_libdnsfs_a_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
lib_libdnsfs_a_SOURCES = \
	lib/err.c lib/err.h \
	lib/hash.c lib/hash.h \
	lib/wire.c lib/wire.h \
	lib/tsig.c lib/tsig.h
lib_libdnsfs_a_SOURCES += lib/conf.c lib/conf.h
lib_libdnsfs_a_SOURCES += lib/log.c lib/log.h
lib_libdnsfs_a_SOURCES += lib/placement.c lib/placement.h
lib_libdnsfs_a_SOURCES += lib/record.c lib/record.h

# What every program linking libdnsfs needs.
DNSFS_LIBS = lib/libdnsfs.a $(CRYPTO_LIBS) -lm
lib_libdnsfs_a_SOURCES += \
	lib/env.c lib/env.h \
	lib/proc.c lib/proc.h
