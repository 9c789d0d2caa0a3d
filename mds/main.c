/* dnsfs-mds: the authoritative DNS server of dnsfs metadata zones. Only the
 * command line lives here; everything else is mds/mds.c. Exit status: 0, 1 on
 * a runtime error, 2 on bad arguments. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mds.h"
#include "proc.h"

#define MAIN_LIST_MAX 64

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsfs-mds [-c mds.conf] [options]\n"
		"  -c, --config FILE     configuration file (keys: docs/OPERATIONS.md)\n"
		"      --listen ADDR:PORT   UDP and TCP address, repeatable\n"
		"                        (default 127.0.0.1:53; [::1]:53 for IPv6)\n"
		"      --store TARGET    memory | unix:/path/redis.sock | host:port\n"
		"      --zone NAME       serve zone NAME (repeatable)\n"
		"      --zone-file PATH  zone file creating the preceding --zone if the\n"
		"                        store does not have it yet\n"
		"      --keyfile PATH    BIND key file of TSIG keys for UPDATE, repeatable\n"
		"      --log-level LVL   error, warn, notice, info or debug\n"
		"      --pidfile PATH    write the pid here (removed at exit)\n"
		"  -f, --foreground      do not detach from the terminal\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"Command-line values replace the config file's (lists as a whole).\n");
}

static int add(const char **list, size_t *n, const char *v, const char *what)
{
	if (*n >= MAIN_LIST_MAX) {
		fprintf(stderr, "dnsfs-mds: at most %d %s\n", MAIN_LIST_MAX, what);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_STORE, O_ZONE, O_ZONE_FILE, O_KEYFILE, O_LOG_LEVEL,
	       O_PIDFILE };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "store", required_argument, NULL, O_STORE },
		{ "zone", required_argument, NULL, O_ZONE },
		{ "zone-file", required_argument, NULL, O_ZONE_FILE },
		{ "keyfile", required_argument, NULL, O_KEYFILE },
		{ "log-level", required_argument, NULL, O_LOG_LEVEL },
		{ "pidfile", required_argument, NULL, O_PIDFILE },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen[MAIN_LIST_MAX], *keyfiles[MAIN_LIST_MAX];
	struct mds_zone_arg zones[MAIN_LIST_MAX];
	struct mds_options o = { .listen = listen, .keyfiles = keyfiles, .zones = zones,
				 .log_syslog = -1 };
	struct err e = {0};
	struct mds *m;
	int c, foreground = 0, ready = -1, rc;

	while ((c = getopt_long(argc, argv, "c:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o.conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("dnsfs-mds %s\n", PACKAGE_VERSION); return 0;
		case O_LISTEN:
			if (add(listen, &o.nlisten, optarg, "--listen") < 0)
				return 2;
			break;
		case O_KEYFILE:
			if (add(keyfiles, &o.nkeyfiles, optarg, "--keyfile") < 0)
				return 2;
			break;
		case O_ZONE:
			if (o.nzones >= MAIN_LIST_MAX) {
				fprintf(stderr, "dnsfs-mds: at most %d --zone\n", MAIN_LIST_MAX);
				return 2;
			}
			zones[o.nzones].name = optarg;
			zones[o.nzones++].file = NULL;
			break;
		case O_ZONE_FILE:
			if (o.nzones == 0 || zones[o.nzones - 1].file != NULL) {
				fprintf(stderr, "dnsfs-mds: --zone-file must follow its --zone\n");
				usage(stderr);
				return 2;
			}
			zones[o.nzones - 1].file = optarg;
			break;
		case O_STORE: o.store = optarg; break;
		case O_LOG_LEVEL: o.log_level = optarg; break;
		case O_PIDFILE: o.pidfile = optarg; break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dnsfs-mds: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/* The starting process exits only once the mds serves (0) or failed (1). */
	if (!foreground && (rc = proc_detach(&ready, &e)) != 0) {
		if (rc < 0 && e.code != -ECHILD)
			fprintf(stderr, "dnsfs-mds: %s\n", e.msg);
		return rc > 0 ? 0 : 1;
	}
	if ((m = mds_new(&o, &e)) == NULL) {
		fprintf(stderr, "dnsfs-mds: %s\n", e.msg);
		return 1;
	}
	proc_detach_done(ready, "dnsfs-mds");
	rc = mds_run(m);
	mds_free(m);
	return rc < 0 ? 1 : 0;
}
