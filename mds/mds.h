/* mds: the dnsfs-mds daemon as a library (main.c only parses argv; tests link
 * this). It reads the configuration, loads the zones from the store (creating
 * them from zone files the first time), the TSIG keys, and runs the query
 * path and the sockets on one libevent loop with the signals:
 * SIGTERM/SIGINT stop after pending commits are flushed, SIGHUP reloads the
 * key files and the log level. Keys of mds.conf: docs/OPERATIONS.md. */
#ifndef DNSFS_MDS_H
#define DNSFS_MDS_H

#include <stddef.h>

#include "err.h"

struct mds;
struct event_base;

/* A zone to serve: NAME, and the zone file that creates it when the store
 * does not have it yet (NULL: the store must have it). */
struct mds_zone_arg {
	const char *name;
	const char *file;
};

/* What the command line says. Each value that is set replaces the config
 * file's (lists replace the whole list). Strings are borrowed: they must
 * outlive the mds. */
struct mds_options {
	const char *conf_path;          /* -c FILE; NULL: command line only */
	const char *const *listen;      /* --listen ADDR:PORT ... */
	size_t nlisten;
	const char *store;              /* --store memory|unix:/path|host:port */
	const struct mds_zone_arg *zones;/* --zone NAME [--zone-file PATH] ... */
	size_t nzones;
	const char *const *keyfiles;    /* --keyfile PATH ... */
	size_t nkeyfiles;
	const char *log_level;          /* --log-level */
	const char *pidfile;            /* --pidfile */
	const char *metrics;            /* --metrics ADDR:PORT (Prometheus /metrics) */
	int log_syslog;                 /* 1 syslog, 0 stderr, -1: as configured */
};

/* Configure, load and bind; the loop does not run yet. NULL with e set,
 * naming the file, key or address at fault. */
struct mds *mds_new(const struct mds_options *o, struct err *e);
/* Run until SIGTERM/SIGINT (or mds_stop) and the pending commits are durable
 * (bounded by shutdown_timeout). 0, or -errno if the loop failed. */
int mds_run(struct mds *m);
/* Begin the clean shutdown, as SIGTERM does. */
void mds_stop(struct mds *m);
/* What SIGHUP does: reread the key files and the log level. On error the
 * old keys stay in use. */
int mds_reload(struct mds *m, struct err *e);
/* Free everything (after mds_run returned, or instead of it); removes the
 * pid file. */
void mds_free(struct mds *m);

struct event_base *mds_base(const struct mds *m);
/* Listen address i as "ADDR:PORT" with the port actually bound. */
int mds_listen_addr(const struct mds *m, size_t i, char *buf, size_t len);
/* The port /metrics is served on, or -ENOENT if metrics are off. */
int mds_metrics_port(const struct mds *m);

#endif
