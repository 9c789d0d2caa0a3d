# libFuzzer targets (clang, --enable-fuzz): each fuzz_X.c defines
# LLVMFuzzerTestOneInput over one parser. tests/fuzz/fuzz.sh runs every built
# target for DNSFS_FUZZ_SECONDS (default 20) from its seed corpus.
FUZZ_TARGETS =
FUZZ_TESTS =
EXTRA_DIST += tests/fuzz/fuzz.sh tests/fuzz/corpus
if FUZZ
FUZZ_TESTS += tests/fuzz/fuzz.sh
FUZZER_LINK = $(AM_LDFLAGS) -fsanitize=fuzzer

FUZZ_TARGETS += tests/fuzz/fuzz_record
tests_fuzz_fuzz_record_LDFLAGS = $(FUZZER_LINK)
tests_fuzz_fuzz_record_LDADD = $(DNSFS_LIBS)

FUZZ_TARGETS += tests/fuzz/fuzz_conf
tests_fuzz_fuzz_conf_LDFLAGS = $(FUZZER_LINK)
tests_fuzz_fuzz_conf_LDADD = $(DNSFS_LIBS)

FUZZ_TARGETS += tests/fuzz/fuzz_query
tests_fuzz_fuzz_query_SOURCES = tests/fuzz/fuzz_query.c
tests_fuzz_fuzz_query_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mds $(LIBEVENT_CFLAGS) \
	-DDNSFS_SRCDIR='"$(abs_top_srcdir)"'
tests_fuzz_fuzz_query_LDFLAGS = $(FUZZER_LINK)
tests_fuzz_fuzz_query_LDADD = $(MDS_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_wire
tests_fuzz_fuzz_wire_SOURCES = tests/fuzz/fuzz_wire.c
tests_fuzz_fuzz_wire_LDFLAGS = $(FUZZER_LINK)
tests_fuzz_fuzz_wire_LDADD = $(DNSFS_LIBS)
FUZZ_TARGETS += tests/fuzz/fuzz_tsig
tests_fuzz_fuzz_tsig_SOURCES = tests/fuzz/fuzz_tsig.c
tests_fuzz_fuzz_tsig_LDFLAGS = $(FUZZER_LINK)
tests_fuzz_fuzz_tsig_LDADD = $(DNSFS_LIBS)
endif
check_PROGRAMS += $(FUZZ_TARGETS)

# mds/update: any message against a small zone, with the update.h invariants
if FUZZ
FUZZ_TARGETS += tests/fuzz/fuzz_update
tests_fuzz_fuzz_update_SOURCES = tests/fuzz/fuzz_update.c
tests_fuzz_fuzz_update_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mds
tests_fuzz_fuzz_update_LDFLAGS = $(FUZZER_LINK)
tests_fuzz_fuzz_update_LDADD = $(MDS_LIBS)
endif

# blockd: the Authorization, Range, listing-query and block-path parsers
if FUZZ
FUZZ_TARGETS += tests/fuzz/fuzz_blockauth
tests_fuzz_fuzz_blockauth_SOURCES = tests/fuzz/fuzz_blockauth.c
tests_fuzz_fuzz_blockauth_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/blockd
tests_fuzz_fuzz_blockauth_LDFLAGS = $(FUZZER_LINK)
tests_fuzz_fuzz_blockauth_LDADD = $(BLOCKD_LIBS)
endif

# mds/xfr: AXFR/IXFR streams with updates committing between messages
if FUZZ
FUZZ_TARGETS += tests/fuzz/fuzz_xfr
tests_fuzz_fuzz_xfr_SOURCES = tests/fuzz/fuzz_xfr.c
tests_fuzz_fuzz_xfr_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/mds $(LIBEVENT_CFLAGS) \
	-DDNSFS_SRCDIR='"$(abs_top_srcdir)"'
tests_fuzz_fuzz_xfr_LDFLAGS = $(FUZZER_LINK)
tests_fuzz_fuzz_xfr_LDADD = $(MDS_LIBS)
endif
