/* blockd: the dnsfs-blockd daemon as a library (main.c only parses argv;
 * tests link this). Reads the configuration, opens the block store, the key
 * file and the HTTP API on one libevent loop with the signals: SIGTERM/SIGINT
 * stop, SIGHUP reloads the key file and the log level. Keys: docs/OPERATIONS.md. */
#ifndef DNSFS_BLOCKD_H
#define DNSFS_BLOCKD_H

#include "err.h"

struct blockd;
struct event_base;

/* What the command line says; each value that is set replaces the config
 * file's. Strings are borrowed and must outlive the blockd. */
struct blockd_options {
	const char *conf_path;          /* -c FILE; NULL: command line only */
	const char *listen;             /* --listen ADDR:PORT */
	const char *data;               /* --data DIR */
	const char *keyfile;            /* --keyfile PATH */
	const char *pidfile;            /* --pidfile PATH */
	const char *log_level;          /* --log-level */
	int log_syslog;                 /* 1 syslog, 0 stderr, -1: as configured */
};

/* Configure, open the store and bind; the loop does not run yet. NULL with
 * e set, naming the file, key or address at fault. */
struct blockd *blockd_new(const struct blockd_options *o, struct err *e);
/* Run until SIGTERM/SIGINT or blockd_stop. 0, or -errno if the loop failed. */
int blockd_run(struct blockd *d);
void blockd_stop(struct blockd *d);
/* What SIGHUP does: reread the config file's log_level, keyfile, auth_reads
 * and scrub_rate, and the key file. On error the old settings stay. */
int blockd_reload(struct blockd *d, struct err *e);
/* Free everything (after blockd_run returned, or instead of it); removes the
 * pid file. NULL is ok. */
void blockd_free(struct blockd *d);

struct event_base *blockd_base(const struct blockd *d);
/* The TCP port bound (host order). */
int blockd_port(const struct blockd *d);

#endif
