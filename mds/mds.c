/* mds: the daemon context (see mds.h): configuration -> store -> zones ->
 * keys -> query path -> sockets, signals on the same loop, and the ordered
 * shutdown that lets pending commits finish before anything is freed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "conf.h"
#include "journal.h"
#include "log.h"
#include "mds.h"
#include "notify.h"
#include "proc.h"
#include "query.h"
#include "refs.h"
#include "server.h"
#include "store.h"
#include "tsig.h"
#include "xfr.h"
#include "zone.h"
#include "zonefile.h"

#define MDS_DRAIN_POLL_MS 20

static const char *const mds_keys[] = {
	"listen", "store", "zone", "keyfile", "log_level", "log_syslog", "pidfile",
	"identity", "version", "place_replicas", "tcp_max_connections",
	"tcp_idle_timeout", "update_max_rrset_rrs", "update_max_rrset_bytes",
	"update_max_changes", "journal_max", "shutdown_timeout", "xfr_key", "notify", NULL,
};

struct mds {
	struct mds_options o;           /* as given (strings borrowed) */
	struct config *conf;            /* the -c file, or an empty one */
	struct event_base *base;
	struct store *store;
	struct zoneset zones;           /* every zone served */
	struct tsig_keyring keys;       /* in use by qctx */
	struct query_ctx *qctx;
	struct xfr_ctx *xfr;            /* zone transfers out */
	struct notify *notify;          /* NOTIFY to the `notify` secondaries */
	struct server *server;
	struct event *sig[3];           /* TERM, INT, HUP */
	struct event *drain;            /* shutdown: waits for pending commits */
	int64_t deadline_ms;            /* shutdown gives up then */
	uint64_t shutdown_ms;
	unsigned journal_max;           /* diffs kept per zone, in Redis and in memory */
	char *pidfile;                  /* written by us; removed at free */
	int stopping;
	int failed;                     /* the loop could not be run */
};

/* ======================================================================
 * configuration helpers
 * ====================================================================== */

/* A string setting: the command line's, the config file's, or dflt. */
static const char *mds_str(const struct mds *m, const char *cli, const char *key,
			   const char *dflt)
{
	const char *v;

	if (cli != NULL)
		return cli;
	if ((v = config_get(m->conf, key)) != NULL)
		return v;
	return dflt;
}

/* A repeatable setting as an array: the command line's if any, else every
 * config line with key. *out is malloc'd (the strings are borrowed). */
static int mds_list(const struct mds *m, const char *const *cli, size_t ncli,
		    const char *key, const char ***out, size_t *n)
{
	const struct config_entry *ent = NULL;
	size_t k = ncli > 0 ? ncli : config_count(m->conf, key);

	*n = 0;
	if ((*out = calloc(k ? k : 1, sizeof(**out))) == NULL)
		return -ENOMEM;
	if (ncli > 0) {
		memcpy(*out, cli, ncli * sizeof(*cli));
		*n = ncli;
		return 0;
	}
	while ((ent = config_next(m->conf, key, ent)) != NULL)
		(*out)[(*n)++] = ent->value;
	return 0;
}

static int mds_log_setup(const struct mds *m, struct err *e)
{
	const char *lv = mds_str(m, m->o.log_level, "log_level", "info");
	int level = log_level_parse(lv), to_syslog = m->o.log_syslog;

	if (level < 0)
		return err_set(e, -EINVAL, "log level '%s': expected error, warn, notice, "
			       "info or debug", lv);
	if (to_syslog < 0 && config_get_bool(m->conf, "log_syslog", 0, &to_syslog, e) < 0)
		return -EINVAL;
	return log_init("dnsfs-mds", level, to_syslog);
}

/* Read every key file into kr (which starts empty). */
static int mds_load_keys(const struct mds *m, struct tsig_keyring *kr, struct err *e)
{
	const char **files;
	size_t n;
	int rc = 0;

	if (mds_list(m, m->o.keyfiles, m->o.nkeyfiles, "keyfile", &files, &n) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = tsig_keyring_load(kr, files[i], e);
	free(files);
	if (rc < 0)
		tsig_keyring_release(kr);
	else if (kr->n == 0)
		log_warn("no TSIG keys (keyfile): every UPDATE will be refused");
	return rc;
}

/* ======================================================================
 * zones
 * ====================================================================== */

/* One configured zone: in the store already, or created from its file. */
static int mds_zone(struct mds *m, const char *name, const char *file, struct err *e)
{
	struct wire_name apex;
	struct zone *z = NULL;
	struct refs *refs = NULL;
	int rc;

	if ((rc = wire_name_from_text(&apex, name, e)) < 0)
		goto fail;
	wire_name_lower(&apex);
	if (zoneset_find_apex(&m->zones, &apex) != NULL) {
		if (file != NULL)
			log_info("zone %s: loaded from the store; %s is not read again", name,
				 file);
		return 0;
	}
	if (file == NULL) {
		rc = err_set(e, -ENOENT, "the store has no zone %s and no zone file was "
			     "given for it", name);
		goto fail;
	}
	if ((z = zonefile_load(file, name, e)) == NULL) {
		rc = e->code;
		goto fail;
	}
	if ((rc = refs_rebuild(&refs, z, e)) < 0 ||
	    (rc = store_create_zone(m->store, z, refs, e)) < 0)
		goto fail;
	refs_free(refs);
	refs = NULL;
	if ((rc = zoneset_add(&m->zones, z)) < 0) {
		err_set(e, rc, "out of memory");
		goto fail;
	}
	log_notice("zone %s: created in the store from %s (serial %u, %llu records)",
		   z->origin, file, z->serial, (unsigned long long)z->nrecords);
	return 0;
fail:
	refs_free(refs);
	zone_free(z);
	err_prefix(e, "zone %s: ", name);
	return rc;
}

static int mds_zones(struct mds *m, struct err *e)
{
	const struct config_entry *ent = NULL;
	int rc;

	if ((rc = store_load(m->store, &m->zones, e)) < 0)
		return rc;
	if (m->o.nzones > 0) {
		for (size_t i = 0; i < m->o.nzones; i++)
			if ((rc = mds_zone(m, m->o.zones[i].name, m->o.zones[i].file, e)) < 0)
				return rc;
	} else {
		while ((ent = config_next(m->conf, "zone", ent)) != NULL) {
			/* zone = NAME [FILE] */
			char name[WIRE_NAME_MAX * 4 + 2];
			const char *file = ent->value + strcspn(ent->value, " \t");
			size_t len = (size_t)(file - ent->value);

			if (len >= sizeof(name))
				return config_error(m->conf, ent, e, -EINVAL, "zone name too long");
			memcpy(name, ent->value, len);
			name[len] = '\0';
			file += strspn(file, " \t");
			if ((rc = mds_zone(m, name, *file ? file : NULL, e)) < 0) {
				err_prefix(e, "%s:%u: ", m->conf->name, ent->line);
				return rc;
			}
		}
	}
	if (m->zones.n == 0)
		return err_set(e, -ENOENT, "no zones to serve: name one with zone = NAME FILE "
			       "(or --zone NAME --zone-file FILE)");
	return 0;
}

/* The block reference counts rebuilt from the records must match the
 * store's, or garbage collection would act on wrong counts. */
static void mds_report_ref(const char *hex, int64_t want, int64_t have, void *arg)
{
	unsigned *n = arg;

	if ((*n)++ < 10)
		log_err("refs: block %s: the records reference it %lld times, the store "
			"says %lld", hex, (long long)want, (long long)have);
}

static void mds_check_refs(struct mds *m)
{
	for (size_t i = 0; i < m->zones.n; i++) {
		const struct zone *z = m->zones.zones[i];
		struct err e = {0};
		unsigned n = 0;
		int rc = refs_verify(query_ctx_refs(m->qctx, z), m->store, z, mds_report_ref,
				     &n, &e);

		if (rc < 0)
			log_err("zone %s: cannot check block reference counts: %s", z->origin,
				e.msg);
		else if (rc > 0)
			log_err("zone %s: %d block reference counts differ from the store; "
				"do not run GC before `dnsfsctl fsck` has repaired them",
				z->origin, rc);
	}
}

static int mds_journal_blob(const uint8_t *blob, size_t len, void *arg)
{
	struct err e = {0};

	if (journal_add(arg, blob, len, &e) < 0)
		log_warn("journal: an entry in the store is unusable, skipped: %s", e.msg);
	return 0;
}

/* The IXFR rings start with what the store kept. */
static int mds_load_journals(struct mds *m, struct err *e)
{
	for (size_t i = 0; i < m->zones.n; i++) {
		const struct zone *z = m->zones.zones[i];
		int rc = store_load_journal(m->store, z, mds_journal_blob,
					    query_ctx_journal(m->qctx, z), e);

		if (rc < 0) {
			err_prefix(e, "zone %s: journal: ", z->origin);
			return rc;
		}
	}
	return 0;
}

/* ======================================================================
 * signals and shutdown
 * ====================================================================== */

static void mds_drain(evutil_socket_t fd, short what, void *arg)
{
	struct mds *m = arg;
	size_t pending = query_ctx_pending(m->qctx) + store_pending(m->store);
	size_t unsent = server_unsent(m->server);

	(void)fd;
	(void)what;
	if (pending == 0 && unsent == 0) {
		event_base_loopexit(m->base, NULL);
	} else if (proc_now_ms() >= m->deadline_ms) {
		log_err("shutdown: giving up with %zu updates not yet durable and %zu bytes "
			"unsent", pending, unsent);
		event_base_loopexit(m->base, NULL);
	}
}

void mds_stop(struct mds *m)
{
	struct timeval tv = { 0, MDS_DRAIN_POLL_MS * 1000 };

	if (m->stopping) {
		log_warn("second stop request: exiting without waiting");
		event_base_loopbreak(m->base);
		return;
	}
	m->stopping = 1;
	log_notice("shutting down: %zu updates waiting for the store",
		   query_ctx_pending(m->qctx));
	server_stop_listening(m->server);
	m->deadline_ms = proc_now_ms() + (int64_t)m->shutdown_ms;
	m->drain = event_new(m->base, -1, EV_PERSIST, mds_drain, m);
	if (m->drain == NULL || event_add(m->drain, &tv) < 0)
		event_base_loopbreak(m->base);
}

int mds_reload(struct mds *m, struct err *e)
{
	struct tsig_keyring kr = {0};
	struct config *conf = NULL;
	int rc;

	if (m->o.conf_path != NULL) {
		if ((conf = config_load(m->o.conf_path, e)) == NULL)
			return e->code;
		if ((rc = config_check_keys(conf, mds_keys, e)) < 0) {
			config_free(conf);
			return rc;
		}
		config_free(m->conf);
		m->conf = conf;
	}
	if ((rc = mds_log_setup(m, e)) < 0)
		return rc;
	if ((rc = mds_load_keys(m, &kr, e)) < 0)
		return rc;
	/* qctx reads m->keys; deferred updates hold copies of their keys. */
	tsig_keyring_release(&m->keys);
	m->keys = kr;
	log_notice("reloaded: %zu TSIG keys, log level %s", m->keys.n,
		   log_level_name(log_get_level()));
	return 0;
}

static void mds_signal(evutil_socket_t sig, short what, void *arg)
{
	struct mds *m = arg;
	struct err e = {0};

	(void)what;
	if (sig == SIGHUP) {
		if (mds_reload(m, &e) < 0)
			log_err("reload failed, keeping the old settings: %s", e.msg);
		return;
	}
	log_notice("%s received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	mds_stop(m);
}

/* ======================================================================
 * life cycle
 * ====================================================================== */

static int mds_u64(const struct mds *m, const char *key, uint64_t def, uint64_t max,
		   uint64_t *out, struct err *e)
{
	return config_get_u64(m->conf, key, def, 1, max, out, e);
}

/* Zone transfer and NOTIFY (xfr_key, notify). xfr_key must name a key of
 * the key files: otherwise every transfer would be refused. */
static int mds_xfr(struct mds *m, struct err *e)
{
	struct xfr_options xo = {0};
	struct notify_options no = {0};
	const char *key = mds_str(m, NULL, "xfr_key", NULL);
	const char **targets;
	struct wire_name kn;

	if (key != NULL) {
		if (wire_name_from_text(&kn, key, e) < 0)
			return err_set(e, -EINVAL, "xfr_key '%s': not a key name", key);
		wire_name_lower(&kn);
		if (tsig_keyring_find(&m->keys, &kn) == NULL)
			return err_set(e, -ENOKEY, "xfr_key %s: no such key in the key files",
				       key);
	}
	xo.key = key;
	if ((m->xfr = xfr_ctx_new(&xo, e)) == NULL)
		return e->code;
	if (mds_list(m, NULL, 0, "notify", &targets, &no.ntargets) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	no.base = m->base;
	no.targets = targets;
	no.keys = &m->keys;
	no.key = key;
	m->notify = notify_new(&no, e);
	free(targets);
	if (m->notify == NULL)
		return e->code;
	if (m->keys.n == 0)
		log_warn("no TSIG keys: every zone transfer will be refused");
	else
		log_notice("zone transfers: TSIG key %s; NOTIFY to %zu secondaries",
			   key != NULL ? key : "(any of the key files)",
			   notify_ntargets(m->notify));
	return 0;
}

/* An update is durable: tell the secondaries (notify coalesces bursts). */
static void mds_durable(void *arg, const struct zone *z, uint32_t serial,
			const struct zone_change *ch, size_t n)
{
	struct mds *m = arg;
	const struct zone_rrset *soa = NULL;

	for (size_t i = 0; i < n; i++)
		if (ch[i].type == WIRE_T_SOA && wire_name_equal(&ch[i].name, &z->apex))
			soa = ch[i].new_set;
	notify_zone(m->notify, z, serial, soa);
}

static int mds_query_ctx(struct mds *m, struct err *e)
{
	struct query_options qo = {0};
	char host[256] = "", version[64];
	uint64_t rep, rrs, bytes, changes;

	if (mds_u64(m, "place_replicas", 3, 64, &rep, e) < 0 ||
	    mds_u64(m, "update_max_rrset_rrs", 10000, 65535, &rrs, e) < 0 ||
	    mds_u64(m, "update_max_rrset_bytes", 1 << 20, UINT32_MAX, &bytes, e) < 0 ||
	    mds_u64(m, "update_max_changes", 10000, UINT32_MAX, &changes, e) < 0)
		return -EINVAL;
	gethostname(host, sizeof(host) - 1);
	snprintf(version, sizeof(version), "dnsfs-mds %s", PACKAGE_VERSION);
	qo.zones = &m->zones;
	qo.store = m->store;
	qo.keys = &m->keys;
	qo.version = mds_str(m, NULL, "version", version);
	qo.identity = mds_str(m, NULL, "identity", host);
	/* An empty string hides the answer (REFUSED). */
	if (*qo.version == '\0')
		qo.version = NULL;
	if (*qo.identity == '\0')
		qo.identity = NULL;
	qo.place_replicas = (unsigned)rep;
	qo.limits.max_rrset_rrs = (uint32_t)rrs;
	qo.limits.max_rrset_bytes = (uint32_t)bytes;
	qo.limits.max_changes = (uint32_t)changes;
	qo.journal_max = m->journal_max;
	qo.xfr = m->xfr;
	qo.on_durable = mds_durable;
	qo.on_durable_arg = m;
	m->qctx = query_ctx_new(&qo, e);
	return m->qctx != NULL ? 0 : e->code;
}

static int mds_server(struct mds *m, struct err *e)
{
	struct server_options so = {0};
	const char **listen;
	uint64_t conns, idle;
	char addr[80];
	int rc;

	if (config_get_u64(m->conf, "tcp_max_connections", 512, 1, 1000000, &conns, e) < 0 ||
	    config_get_duration(m->conf, "tcp_idle_timeout", 10000, 100, 3600000, &idle, e) < 0)
		return -EINVAL;
	if (mds_list(m, m->o.listen, m->o.nlisten, "listen", &listen, &so.nlisten) < 0)
		return err_set(e, -ENOMEM, "out of memory");
	so.base = m->base;
	so.qctx = m->qctx;
	so.listen = listen;
	so.max_conns = (unsigned)conns;
	so.idle_ms = (unsigned)idle;
	m->server = server_new(&so, e);
	free(listen);
	if (m->server == NULL)
		return e->code;
	for (size_t i = 0; (rc = server_addr(m->server, i, addr, sizeof(addr))) != -ENOENT; i++)
		if (rc == 0)
			log_notice("listening on %s (udp, tcp)", addr);
	return 0;
}

static int mds_signals(struct mds *m, struct err *e)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };

	signal(SIGPIPE, SIG_IGN);       /* a peer gone mid-write is an error, not death */
	for (int i = 0; i < 3; i++) {
		m->sig[i] = evsignal_new(m->base, sigs[i], mds_signal, m);
		if (m->sig[i] == NULL || event_add(m->sig[i], NULL) < 0)
			return err_set(e, -ENOMEM, "cannot install signal handlers");
	}
	return 0;
}

struct mds *mds_new(const struct mds_options *o, struct err *e)
{
	struct store_options sto = {0};
	struct mds *m = calloc(1, sizeof(*m));
	uint64_t jmax;
	const char *pidfile;

	if (m == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	m->o = *o;
	m->conf = o->conf_path != NULL ? config_load(o->conf_path, e)
				       : config_parse_string("", "(command line)", e);
	if (m->conf == NULL || config_check_keys(m->conf, mds_keys, e) < 0)
		goto fail;
	if (mds_log_setup(m, e) < 0 ||
	    config_get_duration(m->conf, "shutdown_timeout", 10000, 0, 3600000, &m->shutdown_ms,
				e) < 0 ||
	    config_get_u64(m->conf, "journal_max", 10000, 1, 100000000, &jmax, e) < 0)
		goto fail;
	if ((m->base = event_base_new()) == NULL) {
		err_set(e, -ENOMEM, "cannot create the event loop");
		goto fail;
	}
	sto.target = mds_str(m, o->store, "store", NULL);
	if (sto.target == NULL) {
		err_set(e, -EINVAL, "no store: set store = unix:/path/redis.sock or host:port "
			"(or memory, which keeps nothing across restarts)");
		goto fail;
	}
	sto.base = m->base;
	sto.journal_max = m->journal_max = (unsigned)jmax;
	if ((m->store = store_new(&sto, e)) == NULL)
		goto fail;
	if (store_is_memory(m->store))
		log_warn("store: memory: nothing survives a restart (for tests)");
	if (mds_zones(m, e) < 0 || mds_load_keys(m, &m->keys, e) < 0 || mds_xfr(m, e) < 0 ||
	    mds_query_ctx(m, e) < 0)
		goto fail;
	mds_check_refs(m);
	if (mds_load_journals(m, e) < 0)
		goto fail;
	if (mds_server(m, e) < 0 || mds_signals(m, e) < 0)
		goto fail;
	pidfile = mds_str(m, o->pidfile, "pidfile", NULL);
	if (pidfile != NULL) {
		if ((m->pidfile = strdup(pidfile)) == NULL) {
			err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		if (proc_pidfile_write(m->pidfile, getpid(), e) < 0) {
			free(m->pidfile);
			m->pidfile = NULL;
			goto fail;
		}
	}
	for (size_t i = 0; i < m->zones.n; i++)
		log_notice("serving zone %s, serial %u, %llu records", m->zones.zones[i]->origin,
			   m->zones.zones[i]->serial,
			   (unsigned long long)m->zones.zones[i]->nrecords);
	return m;
fail:
	mds_free(m);
	return NULL;
}

int mds_run(struct mds *m)
{
	const struct query_stats *qs = query_ctx_stats(m->qctx);
	const struct server_stats *ss = server_stats(m->server);

	if (event_base_dispatch(m->base) < 0)
		return -EIO;
	log_notice("stopped after %llu requests (%llu dropped, %llu truncated), %llu updates "
		   "(%llu failed), %llu TCP connections",
		   (unsigned long long)qs->queries, (unsigned long long)qs->dropped,
		   (unsigned long long)qs->truncated, (unsigned long long)qs->updates,
		   (unsigned long long)qs->update_failed,
		   (unsigned long long)ss->tcp_accepted);
	return 0;
}

void mds_free(struct mds *m)
{
	if (m == NULL)
		return;
	/* Sockets first (deferred answers are detached), then the store: its
	 * last callbacks still find the query context and the zones. */
	server_free(m->server);
	store_free(m->store);
	query_ctx_free(m->qctx);
	notify_free(m->notify);
	xfr_ctx_free(m->xfr);
	zoneset_release(&m->zones);
	tsig_keyring_release(&m->keys);
	for (int i = 0; i < 3; i++)
		if (m->sig[i] != NULL)
			event_free(m->sig[i]);
	if (m->drain != NULL)
		event_free(m->drain);
	if (m->base != NULL)
		event_base_free(m->base);
	if (m->pidfile != NULL) {
		unlink(m->pidfile);
		free(m->pidfile);
	}
	config_free(m->conf);
	free(m);
}

struct event_base *mds_base(const struct mds *m)
{
	return m->base;
}

int mds_listen_addr(const struct mds *m, size_t i, char *buf, size_t len)
{
	return server_addr(m->server, i, buf, len);
}
