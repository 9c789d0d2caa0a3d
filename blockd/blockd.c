/* blockd: the daemon context (see blockd.h): configuration -> block store ->
 * keys -> metrics -> scrub -> HTTP API, signals on the same loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "api.h"
#include "blockd.h"
#include "blockstore.h"
#include "conf.h"
#include "config.h"
#include "httpd.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "scrub.h"
#include "tsig.h"

#define BLOCKD_LISTEN_DEFAULT "127.0.0.1:8080"
#define BLOCKD_MAX_BLOCK_DEFAULT (4u << 20)
#define BLOCKD_MAX_BLOCK_MAX (1024u << 20)
#define BLOCKD_SCRUB_RATE_DEFAULT (20u << 20)
#define BLOCKD_SCRUB_INTERVAL_DEFAULT (7ull * 24 * 3600 * 1000)

static const char *const blockd_keys[] = {
	"listen", "data", "keyfile", "max_block", "capacity", "scrub_interval", "scrub_rate",
	"auth_reads", "verify_reads", "node_id", "log_level", "log_syslog", "pidfile",
	"idle_timeout", NULL,
};

struct blockd {
	struct blockd_options o;        /* as given (strings borrowed) */
	struct config *conf;            /* the -c file, or an empty one */
	struct event_base *base;
	struct blockstore *store;
	struct tsig_keyring keys;       /* in use by the api */
	struct metrics *metrics;
	struct metrics_histogram *fsync_h;
	struct scrub *scrub;
	struct httpd *httpd;
	struct api *api;
	struct event *sig[3];           /* TERM, INT, HUP */
	char *pidfile;                  /* written by us; removed at free */
};

/* ================================================================ config */

/* A string setting: the command line's, the config file's, or dflt. */
static const char *blockd_str(const struct blockd *d, const char *cli, const char *key,
			      const char *dflt)
{
	const char *v;

	if (cli != NULL)
		return cli;
	if ((v = config_get(d->conf, key)) != NULL)
		return v;
	return dflt;
}

static int blockd_log_setup(const struct blockd *d, struct err *e)
{
	const char *lv = blockd_str(d, d->o.log_level, "log_level", "info");
	int level = log_level_parse(lv), to_syslog = d->o.log_syslog;

	if (level < 0)
		return err_set(e, -EINVAL, "log level '%s': expected error, warn, notice, "
			       "info or debug", lv);
	if (to_syslog < 0 && config_get_bool(d->conf, "log_syslog", 0, &to_syslog, e) < 0)
		return -EINVAL;
	return log_init("dnsfs-blockd", level, to_syslog);
}

/* The key file(s) into kr (which starts empty): --keyfile, else every
 * keyfile line. Any key in them signs requests. */
static int blockd_load_keys(const struct blockd *d, struct tsig_keyring *kr, struct err *e)
{
	const struct config_entry *ent = NULL;
	int rc = 0;

	if (d->o.keyfile != NULL) {
		rc = tsig_keyring_load(kr, d->o.keyfile, e);
	} else {
		while (rc == 0 && (ent = config_next(d->conf, "keyfile", ent)) != NULL)
			rc = tsig_keyring_load(kr, ent->value, e);
	}
	if (rc < 0)
		tsig_keyring_release(kr);
	else if (kr->n == 0)
		log_warn("no keys (keyfile): every PUT, DELETE and POST will be refused");
	return rc;
}

static void blockd_on_fsync(double seconds, void *arg)
{
	struct blockd *d = arg;

	if (d->fsync_h != NULL)
		metrics_histogram_observe(d->fsync_h, seconds);
}

/* ============================================================== signals */

void blockd_stop(struct blockd *d)
{
	event_base_loopexit(d->base, NULL);
}

int blockd_reload(struct blockd *d, struct err *e)
{
	struct tsig_keyring kr = {0};
	struct config *conf = NULL;
	uint64_t rate;
	int auth_reads, rc;

	if (d->o.conf_path != NULL) {
		if ((conf = config_load(d->o.conf_path, e)) == NULL)
			return e->code;
		if ((rc = config_check_keys(conf, blockd_keys, e)) < 0 ||
		    (rc = config_get_bool(conf, "auth_reads", 0, &auth_reads, e)) < 0 ||
		    (rc = config_get_size(conf, "scrub_rate", BLOCKD_SCRUB_RATE_DEFAULT, 0,
					  UINT64_MAX, &rate, e)) < 0) {
			config_free(conf);
			return rc;
		}
		config_free(d->conf);
		d->conf = conf;
		api_set_auth_reads(d->api, auth_reads);
		scrub_set_rate(d->scrub, rate);
	}
	if ((rc = blockd_log_setup(d, e)) < 0)
		return rc;
	if ((rc = blockd_load_keys(d, &kr, e)) < 0)
		return rc;
	tsig_keyring_release(&d->keys);
	d->keys = kr;
	api_set_keys(d->api, &d->keys);
	log_notice("reloaded: %zu keys, log level %s", d->keys.n,
		   log_level_name(log_get_level()));
	return 0;
}

static void blockd_signal(evutil_socket_t sig, short what, void *arg)
{
	struct blockd *d = arg;
	struct err e = {0};

	(void)what;
	if (sig == SIGHUP) {
		if (blockd_reload(d, &e) < 0)
			log_err("reload failed, keeping the old settings: %s", e.msg);
		return;
	}
	log_notice("%s received, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	blockd_stop(d);
}

static int blockd_signals(struct blockd *d, struct err *e)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };

	signal(SIGPIPE, SIG_IGN);       /* a peer gone mid-write is an error, not death */
	for (int i = 0; i < 3; i++) {
		d->sig[i] = evsignal_new(d->base, sigs[i], blockd_signal, d);
		if (d->sig[i] == NULL || event_add(d->sig[i], NULL) < 0)
			return err_set(e, -ENOMEM, "cannot install signal handlers");
	}
	return 0;
}

/* ============================================================ life cycle */

static int blockd_open_store(struct blockd *d, struct err *e)
{
	struct blockstore_options so = {0};
	uint64_t capacity;

	if (config_get_size(d->conf, "capacity", 0, 0, UINT64_MAX, &capacity, e) < 0)
		return -EINVAL;
	so.dir = blockd_str(d, d->o.data, "data", NULL);
	if (so.dir == NULL)
		return err_set(e, -EINVAL, "no data directory: set data = DIR (or --data DIR)");
	so.capacity = capacity;
	so.on_fsync = blockd_on_fsync;
	so.arg = d;
	if ((d->store = blockstore_open(&so, e)) == NULL)
		return e->code;
	if (blockstore_temp_removed(d->store) > 0)
		log_notice("removed %llu temp files of interrupted PUTs",
			   (unsigned long long)blockstore_temp_removed(d->store));
	return 0;
}

static int blockd_metrics(struct blockd *d, struct err *e)
{
	static const double fsync_buckets[] = {
		0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
		0.5, 1, 2.5, 5, 10,
	};

	if ((d->metrics = metrics_new()) == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	d->fsync_h = metrics_histogram_new(d->metrics, "dnsfs_blockd_fsync_duration_seconds",
					   "Duration of each fsync of a block file or "
					   "directory.", fsync_buckets,
					   sizeof(fsync_buckets) / sizeof(fsync_buckets[0]), e);
	if (d->fsync_h == NULL)
		return e->code;
	return metrics_add_process_and_host(d->metrics, e);
}

static int blockd_serve(struct blockd *d, struct err *e)
{
	struct api_options ao = {0};
	struct scrub_options sco = {0};
	uint64_t max_block, rate, interval, idle;
	char version[64];
	int auth_reads, verify_reads;
	const char *listen = blockd_str(d, d->o.listen, "listen", BLOCKD_LISTEN_DEFAULT);

	if (config_get_size(d->conf, "max_block", BLOCKD_MAX_BLOCK_DEFAULT, 1,
			    BLOCKD_MAX_BLOCK_MAX, &max_block, e) < 0 ||
	    config_get_size(d->conf, "scrub_rate", BLOCKD_SCRUB_RATE_DEFAULT, 0, UINT64_MAX,
			    &rate, e) < 0 ||
	    config_get_duration(d->conf, "scrub_interval", BLOCKD_SCRUB_INTERVAL_DEFAULT, 0,
				UINT64_MAX / 2, &interval, e) < 0 ||
	    config_get_duration(d->conf, "idle_timeout", 30000, 1000, 3600000, &idle, e) < 0 ||
	    config_get_bool(d->conf, "auth_reads", 0, &auth_reads, e) < 0 ||
	    config_get_bool(d->conf, "verify_reads", 0, &verify_reads, e) < 0)
		return -EINVAL;
	sco.base = d->base;
	sco.store = d->store;
	sco.metrics = d->metrics;
	sco.rate = rate;
	sco.interval_ms = interval;
	if ((d->scrub = scrub_new(&sco, e)) == NULL)
		return e->code;
	if ((d->httpd = httpd_new(d->base, listen, e)) == NULL)
		return e->code;
	httpd_set_limits(d->httpd, HTTPD_MAX_HEADERS_DEFAULT, (size_t)max_block,
			 (int)(idle / 1000));
	snprintf(version, sizeof(version), "dnsfs-blockd %s", PACKAGE_VERSION);
	ao.store = d->store;
	ao.scrub = d->scrub;
	ao.metrics = d->metrics;
	ao.keys = &d->keys;
	ao.auth_reads = auth_reads;
	ao.verify_reads = verify_reads;
	ao.max_block = max_block;
	ao.node_id = blockd_str(d, NULL, "node_id", blockstore_id(d->store));
	ao.version = version;
	if ((d->api = api_new(d->httpd, &ao, e)) == NULL)
		return e->code;
	log_notice("listening on %s (port %d), data %s, node %s, max block %llu bytes%s",
		   listen, httpd_port(d->httpd), blockd_str(d, d->o.data, "data", "?"),
		   ao.node_id, (unsigned long long)max_block,
		   auth_reads ? ", signed reads" : "");
	return 0;
}

struct blockd *blockd_new(const struct blockd_options *o, struct err *e)
{
	struct blockd *d = calloc(1, sizeof(*d));
	const char *pidfile;

	if (d == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	d->o = *o;
	d->conf = o->conf_path != NULL ? config_load(o->conf_path, e)
				       : config_parse_string("", "(command line)", e);
	if (d->conf == NULL || config_check_keys(d->conf, blockd_keys, e) < 0 ||
	    blockd_log_setup(d, e) < 0)
		goto fail;
	if ((d->base = event_base_new()) == NULL) {
		err_set(e, -ENOMEM, "cannot create the event loop");
		goto fail;
	}
	if (blockd_load_keys(d, &d->keys, e) < 0 || blockd_metrics(d, e) < 0 ||
	    blockd_open_store(d, e) < 0 || blockd_serve(d, e) < 0 || blockd_signals(d, e) < 0)
		goto fail;
	pidfile = blockd_str(d, o->pidfile, "pidfile", NULL);
	if (pidfile != NULL) {
		if ((d->pidfile = strdup(pidfile)) == NULL) {
			err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		if (proc_pidfile_write(d->pidfile, getpid(), e) < 0) {
			free(d->pidfile);
			d->pidfile = NULL;
			goto fail;
		}
	}
	return d;
fail:
	blockd_free(d);
	return NULL;
}

int blockd_run(struct blockd *d)
{
	if (event_base_dispatch(d->base) < 0)
		return -EIO;
	log_notice("stopped");
	return 0;
}

void blockd_free(struct blockd *d)
{
	if (d == NULL)
		return;
	/* The server first (no handler runs after), then the registry (its
	 * collector points into the api), then the api and the rest. */
	httpd_free(d->httpd);
	metrics_free(d->metrics);
	api_free(d->api);
	scrub_free(d->scrub);
	blockstore_free(d->store);
	tsig_keyring_release(&d->keys);
	for (int i = 0; i < 3; i++)
		if (d->sig[i] != NULL)
			event_free(d->sig[i]);
	if (d->base != NULL)
		event_base_free(d->base);
	if (d->pidfile != NULL) {
		unlink(d->pidfile);
		free(d->pidfile);
	}
	config_free(d->conf);
	free(d);
}

struct event_base *blockd_base(const struct blockd *d)
{
	return d->base;
}

int blockd_port(const struct blockd *d)
{
	return httpd_port(d->httpd);
}
