# dnsfsctl: the admin tool.
bin_PROGRAMS += tools/dnsfsctl
tools_dnsfsctl_SOURCES = \
	tools/dnsfsctl.c \
	tools/cluster.c tools/cluster.h
tools_dnsfsctl_SOURCES += tools/block.c tools/block.h
tools_dnsfsctl_SOURCES += tools/nodereg.c tools/nodereg.h
tools_dnsfsctl_SOURCES += tools/node.c tools/node.h
tools_dnsfsctl_SOURCES += tools/rebalance.c tools/rebalance.h
tools_dnsfsctl_SOURCES += tools/fsck.c tools/fsck.h
tools_dnsfsctl_SOURCES += tools/fsadmin.c tools/fsadmin.h
tools_dnsfsctl_SOURCES += tools/top.c tools/top.h
tools_dnsfsctl_SOURCES += tools/toprules.c tools/toprules.h
tools_dnsfsctl_SOURCES += tools/gc.c tools/gc.h
tools_dnsfsctl_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
tools_dnsfsctl_LDADD = $(DNSFS_LIBS)
# gc reads and trims the orphan stream through the mds's store module
tools_dnsfsctl_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mds
tools_dnsfsctl_LDADD += $(MDS_LIBS)
