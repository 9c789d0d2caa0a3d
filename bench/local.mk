# bench/: drivers of the benchmarks (not installed); bench/*/run use them.
noinst_PROGRAMS += bench/blockd/blockbench
bench_blockd_blockbench_SOURCES = bench/blockd/blockbench.c
bench_blockd_blockbench_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
bench_blockd_blockbench_LDADD = $(DNSFS_LIBS)
EXTRA_DIST += bench/blockd/run
