/* dnsfs-blockd: the block store daemon. Only the command line lives here;
 * everything else is blockd/blockd.c. Exit status: 0, 1 on a runtime error,
 * 2 on bad arguments. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "blockd.h"
#include "config.h"
#include "proc.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsfs-blockd [-c blockd.conf] [options]\n"
		"  -c, --config FILE     configuration file (keys: docs/OPERATIONS.md)\n"
		"      --listen ADDR:PORT   HTTP address (default 127.0.0.1:8080; port 0 picks one)\n"
		"      --data DIR        data directory of the blocks\n"
		"      --keyfile PATH    BIND key file; any key in it may sign requests\n"
		"      --log-level LVL   error, warn, notice, info or debug\n"
		"      --pidfile PATH    write the pid here (removed at exit)\n"
		"  -f, --foreground      do not detach from the terminal\n"
		"  -h, --help            this text\n"
		"  -V, --version         print the version\n"
		"Command-line values replace the config file's.\n");
}

int main(int argc, char **argv)
{
	enum { O_LISTEN = 256, O_DATA, O_KEYFILE, O_LOG_LEVEL, O_PIDFILE };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "data", required_argument, NULL, O_DATA },
		{ "keyfile", required_argument, NULL, O_KEYFILE },
		{ "log-level", required_argument, NULL, O_LOG_LEVEL },
		{ "pidfile", required_argument, NULL, O_PIDFILE },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct blockd_options o = { .log_syslog = -1 };
	struct err e = {0};
	struct blockd *d;
	int c, foreground = 0, ready = -1, rc;

	while ((c = getopt_long(argc, argv, "c:fhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': o.conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("dnsfs-blockd %s\n", PACKAGE_VERSION); return 0;
		case O_LISTEN: o.listen = optarg; break;
		case O_DATA: o.data = optarg; break;
		case O_KEYFILE: o.keyfile = optarg; break;
		case O_LOG_LEVEL: o.log_level = optarg; break;
		case O_PIDFILE: o.pidfile = optarg; break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dnsfs-blockd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	/* The starting process exits only once blockd listens (0) or failed (1). */
	if (!foreground && (rc = proc_detach(&ready, &e)) != 0) {
		if (rc < 0 && e.code != -ECHILD)
			fprintf(stderr, "dnsfs-blockd: %s\n", e.msg);
		return rc > 0 ? 0 : 1;
	}
	if ((d = blockd_new(&o, &e)) == NULL) {
		fprintf(stderr, "dnsfs-blockd: %s\n", e.msg);
		return 1;
	}
	proc_detach_done(ready, "dnsfs-blockd");
	rc = blockd_run(d);
	blockd_free(d);
	return rc < 0 ? 1 : 0;
}
