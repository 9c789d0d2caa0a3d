/* dnsfsctl: the admin tool. This file is only the dispatcher: each
 * subcommand lives in its own module behind one `<name>_cmd` function, and
 * a new one is a new row in the table below. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "block.h"
#include "cluster.h"
#include "fsck.h"
#include "err.h"
#include "node.h"
#include "rebalance.h"
#include "top.h"
#include "fsadmin.h"
#include "gc.h"

/* A subcommand gets argv starting at its own name and returns an exit status
 * (0 ok, 2 usage, or its own like status's 3), or a negative errno with the
 * reason in e, which main prints as "dnsfsctl: <reason>" before exiting 1. */
struct command {
	const char *name;       /* the word after dnsfsctl */
	int (*run)(int argc, char **argv, struct err *e);
	const char *summary;    /* one line for `dnsfsctl --help` */
};

static const struct command commands[] = {
	{ "cluster", cluster_cmd, "run a whole cluster on this host (up, status, down)" },
	{ "mount", cluster_mount_cmd, "mount one more client of a cluster (--dir DIR MNT)" },
	{ "top", top_cmd, "per-node cpu, io, request rates and latency, and the bottleneck" },
	{ "gc", gc_cmd, "delete blocks no committed record references (--dir D [--grace S] [--once])" },
	{ "block", block_cmd, "store and read blocks, show placement (put, get, place, stat)" },
	{ "node", node_cmd, "list, add, drain and remove block daemons (ls, add, drain, remove)" },
	{ "rebalance", rebalance_cmd, "move blocks to where the current node set places them" },
	{ "fsck", fsck_cmd, "check the zone and every block; --repair heals them" },
	{ "init", fsadmin_init_cmd, "zone file and TSIG key of a new file system (--zone Z OUTDIR)" },
	{ "ls", fsadmin_ls_cmd, "list a directory like ls -l, without a mount (--dir DIR PATH)" },
	{ "stat", fsadmin_stat_cmd, "the attributes of a path (--dir DIR PATH)" },
	{ "cat", fsadmin_cat_cmd, "a file's content, verified, to stdout (--dir DIR PATH)" },
	{ "put", fsadmin_put_cmd, "create or replace a file (--dir DIR LOCAL PATH)" },
	{ "rm", fsadmin_rm_cmd, "remove a file or an empty directory (--dir DIR PATH)" },
	{ "place", fsadmin_place_cmd, "a file's blocks, their nodes and who holds them (--dir DIR PATH)" },
	{ "info", fsadmin_info_cmd, "a path's inode record and block map as stored (--dir DIR PATH)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: dnsfsctl [--help | --version] COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`dnsfsctl COMMAND --help` describes one command.\n");
}

int main(int argc, char **argv)
{
	struct err e = { 0 };
	int r;

	/* Progress lines stay in order with errors on stderr. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("dnsfsctl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		r = commands[i].run(argc - 1, argv + 1, &e);
		if (r >= 0)
			return r;
		fprintf(stderr, "dnsfsctl: %s\n", e.msg[0] != '\0' ? e.msg : strerror(-r));
		return 1;
	}
	fprintf(stderr, "dnsfsctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
