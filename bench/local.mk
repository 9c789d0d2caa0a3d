# bench/: drivers of the benchmarks (not installed); bench/*/run use them.
noinst_PROGRAMS += bench/blockd/blockbench
bench_blockd_blockbench_SOURCES = bench/blockd/blockbench.c
bench_blockd_blockbench_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
bench_blockd_blockbench_LDADD = $(DNSFS_LIBS)
EXTRA_DIST += bench/blockd/run
noinst_PROGRAMS += bench/fs/fsops
bench_fs_fsops_SOURCES = bench/fs/fsops.c
EXTRA_DIST += bench/fs/run
