/* gc: `dnsfsctl gc` (see gc.h). A round first consumes the orphan stream
 * (hashes whose count reached 0, through the mds's store module), then lists
 * every blockd for what the stream cannot know (uploads never committed). Each
 * old block is checked against the mds's count (the refs= of its place TXT)
 * and deleted with a DELETE blockd refuses if a writer re-PUT it since the
 * round's cut-off. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "block.h"
#include "blockclient.h"
#include "env.h"
#include "gc.h"
#include "httpc.h"
#include "progress.h"
#include "record.h"
#include "resolve.h"
#include "store.h"
#include "wire.h"
#include "zone.h"

#define GC_LIST_PAGE 2000               /* listing entries asked for at a time */
#define GC_THROTTLE_EVERY 64            /* blocks checked between two load samples */
#define GC_MAX_RATE_DEFAULT 200         /* client requests/s over all nodes: back off above */
#define GC_BACKOFF_MAX_S 30             /* longest pause per sample: GC must progress */

struct gc_opts {
	const char *dir;
	long grace;             /* seconds */
	int once;
	long interval;          /* seconds between rounds without --once */
	long max_rate;          /* requests/s; 0: never back off */
	int orphans_only;       /* skip the listing sweep */
	int verbose;
};

/* A block copy old enough to be a candidate: its hash and the node holding it. */
struct gc_cand {
	struct hash h;
	size_t node;
};

/* What a round did. */
struct gc_stats {
	uint64_t listed;        /* copies listed on all nodes */
	uint64_t young;         /* copies stored or re-used after the cut-off */
	uint64_t checked;       /* distinct candidate hashes asked about */
	uint64_t referenced;    /* ... that records still reference */
	uint64_t unknown;       /* ... whose count could not be read: kept */
	uint64_t deleted;       /* copies deleted */
	uint64_t reused;        /* copies blockd kept: re-PUT since the cut-off */
	uint64_t failed;        /* deletes that failed otherwise */
	uint64_t backoff_s;     /* seconds paused for client traffic */
	uint64_t orphans;       /* orphan stream entries read */
	uint64_t acked;         /* ... dealt with and removed from the stream */
};

/* The GC's view of one cluster. */
struct gc_ctx {
	struct block_ctx bc;
	char zone[RESOLVE_NAME_MAX];
	char mds_addr[RESOLVE_ADDR_MAX];
	int mds_port;
	const struct gc_opts *o;
	struct store *store;    /* the orphan stream (NULL: no DNSFS_REDIS) */
	struct zone *zone_z;    /* the zone's name, as the store's keys need it */
	/* throttle: the nodes' request total at the last sample */
	uint64_t last_requests;
	int64_t last_ms;
	uint64_t own;           /* requests this GC sent to blockd since then */
};

/* --------------------------------------------------------------- setup --- */

static int ctx_open(struct gc_ctx *c, const struct gc_opts *o, struct err *e)
{
	struct env env;
	char path[4096];
	const char *v;
	int r;

	memset(c, 0, sizeof(*c));
	c->o = o;
	env_init(&env);
	snprintf(path, sizeof(path), "%s/cluster.env", o->dir);
	if ((r = env_read(&env, path, e)) < 0)
		goto fail;
	r = -EINVAL;
	if ((v = env_get(&env, "DNSFS_ZONE")) == NULL ||
	    snprintf(c->zone, sizeof(c->zone), "%s", v) >= (int)sizeof(c->zone)) {
		err_set(e, r, "%s: no DNSFS_ZONE", path);
		goto fail;
	}
	if ((v = env_get(&env, "DNSFS_MDS_ADDR")) == NULL ||
	    snprintf(c->mds_addr, sizeof(c->mds_addr), "%s", v) >= (int)sizeof(c->mds_addr) ||
	    (v = env_get(&env, "DNSFS_MDS_PORT")) == NULL || (c->mds_port = atoi(v)) <= 0) {
		err_set(e, r, "%s: no DNSFS_MDS_ADDR/DNSFS_MDS_PORT", path);
		goto fail;
	}
	if ((v = env_get(&env, "DNSFS_REDIS")) != NULL) {
		struct store_options so = { .target = v, .sync_only = 1 };
		struct wire_name apex;

		if ((r = wire_name_from_text(&apex, c->zone, e)) < 0)
			goto fail;
		if ((c->zone_z = zone_new(&apex)) == NULL) {
			r = err_set(e, -ENOMEM, "out of memory");
			goto fail;
		}
		if ((c->store = store_new(&so, e)) == NULL) {
			r = e->code < 0 ? e->code : -EIO;
			goto fail;
		}
	}
	r = block_ctx_open(&c->bc, o->dir, o->verbose, e);
fail:
	env_release(&env);
	if (r < 0) {
		store_free(c->store);
		zone_free(c->zone_z);
		c->store = NULL;
		c->zone_z = NULL;
	}
	return r;
}

static void ctx_close(struct gc_ctx *c)
{
	store_free(c->store);
	zone_free(c->zone_z);
	block_ctx_close(&c->bc);
}

/* ------------------------------------------------------------ throttle --- */

/* Client requests per second on all nodes since the last sample, without
 * the GC's own; -1 when no node reports it (or this is the first sample). */
static double load_sample(struct gc_ctx *c, const struct blockclient_nodes *ns)
{
	size_t n = blockclient_nodes_count(ns);
	struct blockclient_space *v = calloc(n, sizeof(*v));
	int *rc = calloc(n, sizeof(*rc));
	struct err e = { 0 };
	uint64_t total = 0;
	int64_t now = httpc_now_ms();
	double rate = -1;

	if (v == NULL || rc == NULL)
		goto out;
	if (blockclient_space(c->bc.bc, ns, 2000, v, rc, &e) <= 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (rc[i] == 0)
			total += v[i].requests;
	c->own += n;            /* the status requests themselves */
	if (c->last_ms > 0 && now > c->last_ms && total >= c->last_requests) {
		uint64_t d = total - c->last_requests;

		d = d > c->own ? d - c->own : 0;
		rate = (double)d * 1000.0 / (double)(now - c->last_ms);
	}
	c->last_requests = total;
	c->last_ms = now;
	c->own = 0;
out:
	free(v);
	free(rc);
	return rate;
}

/* Pause while the clients keep the nodes busy: GC runs in idle time. The
 * pause is bounded so that a busy cluster still gets collected. */
static void throttle(struct gc_ctx *c, const struct blockclient_nodes *ns,
		     struct gc_stats *st)
{
	double rate;
	int waited = 0;

	if (c->o->max_rate <= 0)
		return;
	if ((rate = load_sample(c, ns)) < 0) {
		/* the first sample of the run is only a baseline */
		usleep(500 * 1000);
		rate = load_sample(c, ns);
	}
	while (rate > (double)c->o->max_rate && waited < GC_BACKOFF_MAX_S) {
		if (waited == 0)
			fprintf(stderr, "gc: %.0f client requests/s on the nodes (over %ld): "
				"backing off\n", rate, c->o->max_rate);
		sleep(1);
		waited++;
		rate = load_sample(c, ns);
	}
	st->backoff_s += (uint64_t)waited;
}

/* ------------------------------------------------------------- a round --- */

static int cand_cmp(const void *a, const void *b)
{
	const struct gc_cand *x = a, *y = b;
	int r = memcmp(x->h.b, y->h.b, sizeof(x->h.b));

	if (r != 0)
		return r;
	return x->node < y->node ? -1 : x->node > y->node;
}

/* Append the copies of node i stored before cutoff to *v. */
static int list_node(struct gc_ctx *c, const struct blockclient_nodes *ns, size_t i,
		     int64_t cutoff, struct gc_cand **v, size_t *n, size_t *cap,
		     struct gc_stats *st, struct err *e)
{
	struct blockclient_listed *page = calloc(GC_LIST_PAGE, sizeof(*page));
	struct hash after;
	int have_after = 0, got, r = 0;

	if (page == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	do {
		got = blockclient_node_list(c->bc.bc, ns, i, have_after ? &after : NULL,
					    GC_LIST_PAGE, page, e);
		c->own++;
		if (got < 0) {
			r = got;
			break;
		}
		for (int k = 0; k < got; k++) {
			st->listed++;
			if (page[k].mtime >= cutoff) {
				st->young++;
				continue;
			}
			if (*n == *cap) {
				size_t nc = *cap ? *cap * 2 : 1024;
				struct gc_cand *nv = realloc(*v, nc * sizeof(*nv));

				if (nv == NULL) {
					r = err_set(e, -ENOMEM, "out of memory");
					goto out;
				}
				*v = nv;
				*cap = nc;
			}
			(*v)[*n].h = page[k].hash;
			(*v)[(*n)++].node = i;
		}
		if (got > 0) {
			after = page[got - 1].hash;
			have_after = 1;
		}
	} while (got == GC_LIST_PAGE);
out:
	free(page);
	return r;
}

/* How many committed records reference h, as the mds counts them: the
 * refs= of its place TXT. A negative errno when it cannot tell. */
static int64_t ref_count(struct gc_ctx *c, struct resolve *res, const struct hash *h,
			 struct err *e)
{
	char name[RESOLVE_NAME_MAX], txt[4096], *p, *end;
	long long v;
	int r;

	if ((r = record_name_place(name, sizeof(name), c->zone, h)) < 0)
		return err_set(e, r, "no place name for a block");
	if ((r = resolve_txt(res, name, txt, sizeof(txt), e)) < 0)
		return r;
	p = strstr(txt, " refs=");
	if (p == NULL)
		return err_set(e, -EPROTO, "%s: the mds reports no refs= (too old for gc)", name);
	errno = 0;
	v = strtoll(p + 6, &end, 10);
	if (errno != 0 || end == p + 6 || v < 0)
		return err_set(e, -EPROTO, "%s: bad refs= in \"%s\"", name, txt);
	return v;
}

/* One entry of the orphan stream. */
struct gc_orphan {
	char id[48];
	struct hash h;
	int64_t ts;
};

struct gc_orphans {
	struct gc_orphan *v;
	size_t n, cap;
};

static int orphan_add(const char *id, const char *hash, int64_t ts, void *arg)
{
	struct gc_orphans *o = arg;
	struct gc_orphan *x;

	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 256;
		struct gc_orphan *nv = realloc(o->v, nc * sizeof(*nv));

		if (nv == NULL)
			return -ENOMEM;
		o->v = nv;
		o->cap = nc;
	}
	x = &o->v[o->n];
	if (snprintf(x->id, sizeof(x->id), "%s", id) >= (int)sizeof(x->id) ||
	    hash_from_hex(&x->h, hash, strlen(hash)) < 0)
		return 0;       /* not an entry this code wrote: left alone */
	x->ts = ts;
	o->n++;
	return 0;
}

/* Delete hash h on every node (a copy may sit off its placement after a
 * fallback); 0 when no node failed, so the entry may go. */
static int delete_everywhere(struct gc_ctx *c, const struct blockclient_nodes *ns,
			     const struct hash *h, int64_t cutoff, struct gc_stats *st)
{
	size_t nn = blockclient_nodes_count(ns);
	int failed = 0;

	for (size_t i = 0; i < nn; i++) {
		struct err why = { 0 };
		int d = blockclient_node_delete(c->bc.bc, ns, i, h, cutoff, &why);

		c->own++;
		if (d == 0) {
			st->deleted++;
		} else if (d == -EBUSY) {
			st->reused++;
		} else if (d != -ENOENT) {
			st->failed++;
			failed = 1;
			fprintf(stderr, "gc: %s\n", why.msg);
		}
	}
	return failed ? -EIO : 0;
}

/* The orphan stream: entries older than the cut-off are checked and, unless
 * a node could not be asked, removed. A hash counted again is kept (and
 * removed from the stream: a new entry comes when its count drops again); a
 * block re-PUT since the cut-off is kept by blockd, and if it is never
 * committed the listing sweep takes it later. */
static int orphans_run(struct gc_ctx *c, const struct blockclient_nodes *ns,
		       struct resolve *res, int64_t cutoff, struct gc_stats *st,
		       struct err *e)
{
	struct gc_orphans o = { 0 };
	const char **ack = NULL;
	struct progress pr;
	size_t nack = 0, due = 0;
	int r;

	if (c->store == NULL)
		return 0;
	if ((r = store_load_orphans(c->store, c->zone_z, orphan_add, &o, e)) < 0) {
		if (r == -ENOMEM)
			err_set(e, r, "out of memory");
		goto fail;
	}
	st->orphans = o.n;
	for (size_t k = 0; k < o.n; k++)
		due += o.v[k].ts < cutoff;
	if ((ack = calloc(o.n + 1, sizeof(*ack))) == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	progress_init(&pr, stderr, "gc: orphans", "blocks", due);
	for (size_t k = 0; k < o.n; k++) {
		struct err why = { 0 };
		int64_t refs;

		/* the stream is in commit order: the rest is younger still */
		if (o.v[k].ts >= cutoff)
			break;
		if (k > 0 && k % GC_THROTTLE_EVERY == 0)
			throttle(c, ns, st);
		st->checked++;
		refs = ref_count(c, res, &o.v[k].h, &why);
		if (refs == -EPROTO) {
			*e = why;
			r = -EPROTO;
			progress_end(&pr);
			goto fail;
		}
		if (refs < 0) {
			st->unknown++;
		} else if (refs > 0) {
			st->referenced++;
			ack[nack++] = o.v[k].id;
		} else if (delete_everywhere(c, ns, &o.v[k].h, cutoff, st) == 0) {
			ack[nack++] = o.v[k].id;
		}
		progress_add(&pr, 1);
	}
	progress_end(&pr);
	if (nack > 0 && (r = store_ack_orphans(c->store, c->zone_z, ack, nack, e)) < 0)
		goto fail;
	st->acked = nack;
	r = 0;
fail:
	free(ack);
	free(o.v);
	return r;
}

static int round_run(struct gc_ctx *c, struct gc_stats *st, struct err *e)
{
	struct blockclient_nodes *ns = blockclient_nodes_get(c->bc.bc);
	struct gc_cand *v = NULL;
	struct resolve *res = NULL;
	struct progress pr;
	size_t n = 0, cap = 0, nn = blockclient_nodes_count(ns), distinct = 0;
	/* Copies stored or re-used at or after the cut-off are kept, and blockd
	 * re-checks it at the DELETE (SCHEMA.md, "Orphans and garbage collection"). */
	int64_t cutoff = (int64_t)time(NULL) - c->o->grace - GC_COMMIT_SLACK;
	int r = 0;

	memset(st, 0, sizeof(*st));
	if (nn == 0) {
		r = err_set(e, -EHOSTUNREACH, "no block nodes known");
		goto fail;
	}
	throttle(c, ns, st);
	/* A fresh resolver each round: counts must not come from a cache. */
	if ((r = resolve_new(&res, c->zone, c->mds_addr, c->mds_port, e)) < 0)
		goto fail;
	if ((r = orphans_run(c, ns, res, cutoff, st, e)) < 0 || c->o->orphans_only)
		goto fail;
	for (size_t i = 0; i < nn; i++) {
		struct err why = { 0 };

		if ((r = list_node(c, ns, i, cutoff, &v, &n, &cap, st, &why)) == -ENOMEM) {
			*e = why;
			goto fail;
		}
		/* An unreachable node keeps its blocks until a later round. */
		if (r < 0)
			fprintf(stderr, "gc: %s: %s (skipped)\n", blockclient_nodes_id(ns, i),
				why.msg);
	}
	r = 0;
	if (n > 0)
		qsort(v, n, sizeof(*v), cand_cmp);
	for (size_t k = 0; k < n; k++)
		distinct += k == 0 || !hash_equal(&v[k].h, &v[k - 1].h);
	progress_init(&pr, stderr, "gc: blocks", "blocks", distinct);
	for (size_t k = 0, g = 0; k < n; g++) {
		size_t end = k + 1;
		struct err why = { 0 };
		int64_t refs;

		while (end < n && hash_equal(&v[end].h, &v[k].h))
			end++;
		if (g > 0 && g % GC_THROTTLE_EVERY == 0)
			throttle(c, ns, st);
		st->checked++;
		refs = ref_count(c, res, &v[k].h, &why);
		if (refs == -EPROTO) {
			/* An mds that cannot count: stop rather than guess. */
			*e = why;
			r = -EPROTO;
			progress_end(&pr);
			goto fail;
		}
		if (refs < 0) {
			st->unknown++;
			if (c->o->verbose)
				fprintf(stderr, "gc: kept: %s\n", why.msg);
		} else if (refs > 0) {
			st->referenced++;
		} else {
			for (size_t j = k; j < end; j++) {
				int d = blockclient_node_delete(c->bc.bc, ns, v[j].node, &v[j].h,
								cutoff, &why);

				c->own++;
				if (d == 0)
					st->deleted++;
				else if (d == -EBUSY)
					st->reused++;
				else if (d != -ENOENT)
					st->failed++;
				if (d < 0 && d != -ENOENT && (d != -EBUSY || c->o->verbose))
					fprintf(stderr, "gc: %s\n", why.msg);
			}
		}
		progress_add(&pr, 1);
		k = end;
	}
	progress_end(&pr);
fail:
	resolve_free(res);
	free(v);
	blockclient_nodes_put(ns);
	return r;
}

static void stats_print(const struct gc_stats *st, int orphans_only)
{
	printf("gc: orphan stream: %" PRIu64 " entries, %" PRIu64 " done\n", st->orphans,
	       st->acked);
	if (orphans_only)
		printf("gc: checked %" PRIu64 " blocks: %" PRIu64 " referenced, %" PRIu64
		       " unknown; deleted %" PRIu64 " copies, %" PRIu64 " re-used meanwhile, %"
		       PRIu64 " failed; paused %" PRIu64 " s\n", st->checked, st->referenced,
		       st->unknown, st->deleted, st->reused, st->failed, st->backoff_s);
	else
		printf("gc: listed %" PRIu64 " copies, %" PRIu64 " young; checked %" PRIu64
		       " blocks: %" PRIu64 " referenced, %" PRIu64 " unknown; deleted %" PRIu64
		       " copies, %" PRIu64 " re-used meanwhile, %" PRIu64 " failed; paused %"
		       PRIu64 " s\n", st->listed, st->young, st->checked, st->referenced,
		       st->unknown, st->deleted, st->reused, st->failed, st->backoff_s);
}

/* ------------------------------------------------------------- command --- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsfsctl gc --dir DIR [--grace SECONDS] [--once] [--interval SECONDS]\n"
		"                   [--max-rate N] [--orphans-only] [--verbose]\n"
		"Delete the blocks that no committed record references and that nobody stored\n"
		"or re-used for --grace seconds (default %d; 0 allowed) plus %d s, on every node.\n"
		"A round consumes the mds's orphan stream, then lists every node for blocks that\n"
		"were never committed (--orphans-only: the stream alone, cheaper).\n"
		"Without --once, a round runs every --interval seconds (default 60) until killed.\n"
		"--max-rate: pause while the nodes answer more than N client requests/s\n"
		"(default %d; 0: never pause).\n",
		GC_GRACE_DEFAULT, GC_COMMIT_SLACK, GC_MAX_RATE_DEFAULT);
}

static int parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno != 0 || end == s || *end != '\0' || *out < 0 ? -EINVAL : 0;
}

int gc_cmd(int argc, char **argv, struct err *e)
{
	enum { O_DIR = 256, O_GRACE, O_ONCE, O_INTERVAL, O_MAX_RATE, O_ORPHANS_ONLY, O_VERBOSE,
	       O_HELP };
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, O_DIR },
		{ "grace", required_argument, NULL, O_GRACE },
		{ "once", no_argument, NULL, O_ONCE },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "max-rate", required_argument, NULL, O_MAX_RATE },
		{ "orphans-only", no_argument, NULL, O_ORPHANS_ONLY },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct gc_opts o = { .grace = GC_GRACE_DEFAULT, .interval = 60,
			     .max_rate = GC_MAX_RATE_DEFAULT };
	struct gc_ctx c;
	struct gc_stats st;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case O_DIR: o.dir = optarg; break;
		case O_ONCE: o.once = 1; break;
		case O_VERBOSE: o.verbose = 1; break;
		case O_ORPHANS_ONLY: o.orphans_only = 1; break;
		case O_GRACE:
		case O_INTERVAL:
		case O_MAX_RATE:
			if (parse_long(optarg, ch == O_GRACE ? &o.grace :
					       ch == O_INTERVAL ? &o.interval : &o.max_rate) < 0) {
				fprintf(stderr, "dnsfsctl gc: %s: expected a number >= 0\n", optarg);
				return 2;
			}
			break;
		case O_HELP:
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.dir == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((r = ctx_open(&c, &o, e)) < 0)
		return r;
	for (;;) {
		r = round_run(&c, &st, e);
		if (r < 0)
			break;
		stats_print(&st, o.orphans_only);
		if (o.once)
			break;
		sleep((unsigned)(o.interval > 0 ? o.interval : 1));
	}
	ctx_close(&c);
	return r < 0 ? r : 0;
}
