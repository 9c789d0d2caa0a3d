# Tests. Every test speaks TAP (Check suites via CK_TAP_LOG_FILE_NAME=-,
# scripts via tests/lib.sh), so automake counts each case, not each file.
TEST_EXTENSIONS = .sh
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	CK_TAP_LOG_FILE_NAME=-; CK_VERBOSITY=silent; \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	export CK_TAP_LOG_FILE_NAME CK_VERBOSITY top_srcdir top_builddir;

# ---- unit suites: one Check binary per module ------------------------------
# A suite links what its module needs: lib suites libdnsfs, mds suites libmds.
# Suites with special needs set their own _CFLAGS/_LDADD/_LDFLAGS below.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(LIBEVENT_CFLAGS)
UNIT_LDADD = $(DNSFS_LIBS) $(CHECK_LIBS)
MDS_UNIT_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/mds
MDS_UNIT_LDADD = $(MDS_LIBS) $(CHECK_LIBS)

LIB_UNIT_TESTS =
LIB_UNIT_TESTS += tests/unit/check_hash
LIB_UNIT_TESTS += tests/unit/check_env
LIB_UNIT_TESTS += tests/unit/check_proc
LIB_UNIT_TESTS += tests/unit/check_placement
LIB_UNIT_TESTS += tests/unit/check_log
LIB_UNIT_TESTS += tests/unit/check_conf
LIB_UNIT_TESTS += tests/unit/check_record
LIB_UNIT_TESTS += tests/unit/check_wire
LIB_UNIT_TESTS += tests/unit/check_tsig
LIB_UNIT_TESTS += tests/unit/check_metrics
LIB_UNIT_TESTS += tests/unit/check_httpd
LIB_UNIT_TESTS += tests/unit/check_ec
LIB_UNIT_TESTS += tests/unit/check_blockclient
LIB_UNIT_TESTS += tests/unit/check_blockcache
LIB_UNIT_TESTS += tests/unit/check_progress
LIB_UNIT_TESTS += tests/unit/check_resolve
LIB_UNIT_TESTS += tests/unit/check_blockauth
LIB_UNIT_TESTS += tests/unit/check_promtext

MDS_UNIT_TESTS =
MDS_UNIT_TESTS += tests/unit/check_zone
MDS_UNIT_TESTS += tests/unit/check_update
MDS_UNIT_TESTS += tests/unit/check_store
MDS_UNIT_TESTS += tests/unit/check_query
MDS_UNIT_TESTS += tests/unit/check_xfr
MDS_UNIT_TESTS += tests/unit/check_notify

# the mount's pure modules (fuse-client/), linked from its library
MOUNT_UNIT_TESTS =
MOUNT_UNIT_TESTS += tests/unit/check_dirbucket

BLOCKD_UNIT_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/blockd
BLOCKD_UNIT_LDADD = $(BLOCKD_LIBS) $(CHECK_LIBS)
BLOCKD_UNIT_TESTS =
BLOCKD_UNIT_TESTS += tests/unit/check_blockstore
BLOCKD_UNIT_TESTS += tests/unit/check_blockapi

# fuse-client modules that need no FUSE (pure code) are compiled into their suite
MOUNT_UNIT_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/fuse-client
MOUNT_UNIT_TESTS += tests/unit/check_lockset

UNIT_TESTS += $(LIB_UNIT_TESTS) $(MDS_UNIT_TESTS) $(BLOCKD_UNIT_TESTS) $(MOUNT_UNIT_TESTS)
check_PROGRAMS += $(LIB_UNIT_TESTS) $(MDS_UNIT_TESTS) $(BLOCKD_UNIT_TESTS) $(MOUNT_UNIT_TESTS)

tests_unit_check_hash_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_hash_LDADD = $(UNIT_LDADD)
tests_unit_check_env_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_env_LDADD = $(UNIT_LDADD)
tests_unit_check_proc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_proc_LDADD = $(UNIT_LDADD)
tests_unit_check_placement_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_placement_LDADD = $(UNIT_LDADD)
tests_unit_check_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_log_LDADD = $(UNIT_LDADD)
tests_unit_check_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_conf_LDADD = $(UNIT_LDADD)
tests_unit_check_record_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_record_LDADD = $(UNIT_LDADD)
tests_unit_check_wire_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_wire_LDADD = $(UNIT_LDADD)
tests_unit_check_tsig_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_tsig_LDADD = $(UNIT_LDADD)
tests_unit_check_metrics_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_metrics_LDADD = $(UNIT_LDADD)
# malloc, calloc and realloc are wrapped to count and to fail on demand
tests_unit_check_metrics_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
tests_unit_check_httpd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_httpd_LDADD = $(UNIT_LDADD) -lpthread
tests_unit_check_ec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ec_LDADD = $(UNIT_LDADD)
# in-process fake block nodes (threads) for the faults a real blockd cannot fake
tests_unit_check_blockclient_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_blockclient_LDADD = $(UNIT_LDADD) -lpthread
tests_unit_check_blockcache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_blockcache_LDADD = $(UNIT_LDADD) -lpthread
tests_unit_check_progress_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_progress_LDADD = $(UNIT_LDADD)
tests_unit_check_resolve_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_resolve_LDADD = $(UNIT_LDADD)
tests_unit_check_blockauth_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_blockauth_LDADD = $(UNIT_LDADD)
tests_unit_check_promtext_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_promtext_LDADD = $(UNIT_LDADD)

tests_unit_check_dirbucket_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_dirbucket_LDADD = $(UNIT_LDADD)

tests_unit_check_blockstore_CFLAGS = $(BLOCKD_UNIT_CFLAGS)
tests_unit_check_blockstore_LDADD = $(BLOCKD_UNIT_LDADD)
tests_unit_check_blockapi_CFLAGS = $(BLOCKD_UNIT_CFLAGS)
tests_unit_check_blockapi_LDADD = $(BLOCKD_UNIT_LDADD)

tests_unit_check_lockset_SOURCES = tests/unit/check_lockset.c fuse-client/lockset.c
tests_unit_check_lockset_CFLAGS = $(MOUNT_UNIT_CFLAGS)
tests_unit_check_lockset_LDADD = $(UNIT_LDADD)

# dnsfsctl top's bottleneck rules (tools/), compiled into their suite
LIB_UNIT_TESTS += tests/unit/check_toprules
tests_unit_check_toprules_SOURCES = tests/unit/check_toprules.c tools/toprules.c
tests_unit_check_toprules_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/tools
tests_unit_check_toprules_LDADD = $(UNIT_LDADD)

tests_unit_check_zone_CFLAGS = $(MDS_UNIT_CFLAGS)
tests_unit_check_zone_LDADD = $(MDS_UNIT_LDADD)
# allocation failures are injected by wrapping malloc in the test binary
tests_unit_check_zone_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=malloc,--wrap=realloc,--wrap=calloc
tests_unit_check_update_CFLAGS = $(MDS_UNIT_CFLAGS)
tests_unit_check_update_LDADD = $(MDS_UNIT_LDADD)
tests_unit_check_store_CFLAGS = $(MDS_UNIT_CFLAGS)
tests_unit_check_store_LDADD = $(MDS_UNIT_LDADD)
tests_unit_check_query_CFLAGS = $(MDS_UNIT_CFLAGS)
tests_unit_check_query_LDADD = $(MDS_UNIT_LDADD)
tests_unit_check_xfr_CFLAGS = $(MDS_UNIT_CFLAGS)
tests_unit_check_xfr_LDADD = $(MDS_UNIT_LDADD)
tests_unit_check_notify_CFLAGS = $(MDS_UNIT_CFLAGS)
tests_unit_check_notify_LDADD = $(MDS_UNIT_LDADD)

# ---- integration scripts: real programs on loopback in a temp dir -----------
INTEGRATION_TESTS += tests/integration/cluster.sh
INTEGRATION_TESTS += tests/integration/configure-deps.sh
INTEGRATION_TESTS += tests/integration/tsig-interop.sh
INTEGRATION_TESTS += tests/integration/httpd.sh
INTEGRATION_TESTS += tests/integration/mds-query.sh
INTEGRATION_TESTS += tests/integration/mds-cluster.sh
INTEGRATION_TESTS += tests/integration/mds-xfr.sh
INTEGRATION_TESTS += tests/integration/mds-metrics.sh
INTEGRATION_TESTS += tests/integration/blockd.sh
INTEGRATION_TESTS += tests/integration/block.sh
INTEGRATION_TESTS += tests/integration/rebalance.sh
INTEGRATION_TESTS += tests/integration/cluster-mount.sh
INTEGRATION_TESTS += tests/integration/fsck.sh
INTEGRATION_TESTS += tests/integration/fuse-basic.sh
INTEGRATION_TESTS += tests/integration/fuse-names.sh
INTEGRATION_TESTS += tests/integration/fuse-xattr.sh
INTEGRATION_TESTS += tests/integration/fuse-lock.sh
INTEGRATION_TESTS += tests/integration/fuse-posix.sh
INTEGRATION_TESTS += tests/integration/fuse-statfs.sh
INTEGRATION_TESTS += tests/integration/fuse-bigdir.sh
INTEGRATION_TESTS += tests/integration/fuse-fcntl.sh
INTEGRATION_TESTS += tests/integration/fuse-data.sh
INTEGRATION_TESTS += tests/integration/top.sh
INTEGRATION_TESTS += tests/integration/admin.sh
INTEGRATION_TESTS += tests/integration/gc.sh

# Helper programs the scripts start.
# tsig_echo: a signed-answer DNS server for tsig-interop.sh
check_PROGRAMS += tests/tsig_echo
tests_tsig_echo_LDADD = $(DNSFS_LIBS)
# httpd_demo: a metrics endpoint for httpd.sh
check_PROGRAMS += tests/httpd_demo
tests_httpd_demo_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_httpd_demo_LDADD = $(DNSFS_LIBS)
# blocksign: prints the Authorization header of a block request for blockd.sh
check_PROGRAMS += tests/blocksign
tests_blocksign_LDADD = $(DNSFS_LIBS)

EXTRA_DIST += tests/unit/check_main.h tests/lib.sh tests/fuse-lib.sh $(INTEGRATION_TESTS)
EXTRA_DIST += tests/promtext-check.awk docs/grafana-dnsfs.json tests/integration/dnsprobe.py zones/example.zone
EXTRA_DIST += zones/knot-secondary.conf zones/nsd-secondary.conf
EXTRA_DIST += tests/integration/blockprobe.py tests/integration/posixprobe.py tests/integration/bigdir.py tests/integration/fcntlprobe.py tests/integration/fsx.py
TESTS = $(UNIT_TESTS) $(INTEGRATION_TESTS)

include tests/fuzz/local.mk

# The sanitizer build (./run-tests) runs the unit suites and the fuzzers,
# not the integration scripts (they start the normal build's daemons).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
check-sanitize:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS) $(FUZZ_TESTS)'
.PHONY: check-unit check-sanitize
