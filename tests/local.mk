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

UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = $(DNSFS_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_hash
tests_unit_check_hash_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_hash_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_hash

check_PROGRAMS += tests/unit/check_env
tests_unit_check_env_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_env_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_env

check_PROGRAMS += tests/unit/check_proc
tests_unit_check_proc_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_proc_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_proc

# Integration tests: real programs on loopback in a temp dir (tests/lib.sh).
INTEGRATION_TESTS += tests/integration/cluster.sh
INTEGRATION_TESTS += tests/integration/configure-deps.sh

MDS_UNIT_LDADD = $(MDS_LIBS) $(CHECK_LIBS)

check_PROGRAMS += tests/unit/check_zone
tests_unit_check_zone_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/mds
tests_unit_check_zone_LDADD = $(MDS_UNIT_LDADD)
# allocation failures are injected by wrapping malloc in the test binary
tests_unit_check_zone_LDFLAGS = $(AM_LDFLAGS) -Wl,--wrap=malloc,--wrap=realloc,--wrap=calloc
UNIT_TESTS += tests/unit/check_zone

check_PROGRAMS += tests/unit/check_update
tests_unit_check_update_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/mds
tests_unit_check_update_LDADD = $(MDS_UNIT_LDADD)
UNIT_TESTS += tests/unit/check_update

check_PROGRAMS += tests/unit/check_placement
tests_unit_check_placement_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_placement_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_placement

check_PROGRAMS += tests/unit/check_log
tests_unit_check_log_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_log_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_log

check_PROGRAMS += tests/unit/check_conf
tests_unit_check_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_conf_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_conf

check_PROGRAMS += tests/unit/check_record
tests_unit_check_record_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_record_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_record

check_PROGRAMS += tests/unit/check_query
tests_unit_check_query_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/mds $(LIBEVENT_CFLAGS)
tests_unit_check_query_LDADD = $(MDS_UNIT_LDADD)
UNIT_TESTS += tests/unit/check_query

INTEGRATION_TESTS += tests/integration/mds-query.sh
EXTRA_DIST += tests/integration/dnsprobe.py

check_PROGRAMS += tests/unit/check_wire
tests_unit_check_wire_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_wire_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_wire

check_PROGRAMS += tests/unit/check_tsig
tests_unit_check_tsig_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_tsig_LDADD = $(UNIT_LDADD)
UNIT_TESTS += tests/unit/check_tsig

# tsig_echo: a signed-answer DNS server for tests/integration/tsig-interop.sh
check_PROGRAMS += tests/tsig_echo
tests_tsig_echo_LDADD = $(DNSFS_LIBS)
INTEGRATION_TESTS += tests/integration/tsig-interop.sh

EXTRA_DIST += tests/unit/check_main.h tests/lib.sh $(INTEGRATION_TESTS)
TESTS = $(UNIT_TESTS) $(INTEGRATION_TESTS)

include tests/fuzz/local.mk

# The sanitizer build (./run-tests) runs the unit suites and the fuzzers,
# not the integration scripts (they start the normal build's daemons).
check-unit:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS)'
check-sanitize:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(UNIT_TESTS) $(FUZZ_TESTS)'
.PHONY: check-unit check-sanitize
EXTRA_DIST += zones/example.zone

check_PROGRAMS += tests/unit/check_store
tests_unit_check_store_CFLAGS = $(UNIT_CFLAGS) $(LIBEVENT_CFLAGS) -I$(top_srcdir)/mds
tests_unit_check_store_LDADD = $(MDS_UNIT_LDADD)
UNIT_TESTS += tests/unit/check_store

check_PROGRAMS += tests/unit/check_xfr
tests_unit_check_xfr_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/mds $(LIBEVENT_CFLAGS)
tests_unit_check_xfr_LDADD = $(MDS_UNIT_LDADD)
UNIT_TESTS += tests/unit/check_xfr

check_PROGRAMS += tests/unit/check_notify
tests_unit_check_notify_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/mds $(LIBEVENT_CFLAGS)
tests_unit_check_notify_LDADD = $(MDS_UNIT_LDADD)
UNIT_TESTS += tests/unit/check_notify
INTEGRATION_TESTS += tests/integration/mds-xfr.sh
EXTRA_DIST += zones/knot-secondary.conf zones/nsd-secondary.conf
