# libFuzzer targets (clang, --enable-fuzz): each fuzz_X.c defines
# LLVMFuzzerTestOneInput over one parser. tests/fuzz/fuzz.sh runs every built
# target for DNSFS_FUZZ_SECONDS (default 20) from its seed corpus.
FUZZ_TARGETS =
FUZZ_TESTS =
EXTRA_DIST += tests/fuzz/fuzz.sh tests/fuzz/corpus
if FUZZ
FUZZ_TESTS += tests/fuzz/fuzz.sh
FUZZER_LINK = $(AM_LDFLAGS) -fsanitize=fuzzer
endif
check_PROGRAMS += $(FUZZ_TARGETS)
