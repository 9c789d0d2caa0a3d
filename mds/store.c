/* store: the mds's durable state in Redis (see store.h), and the only file
 * that includes hiredis. Every write is first built as a list of Redis
 * commands (argv form, binary-safe); a Redis store sends them, the "memory"
 * store runs them on a small imitation of those commands, so both behave
 * alike down to the keys they hold. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libevent.h>

#include "hash.h"
#include "journal.h"
#include "refs.h"
#include "store.h"

#define KEY_META "dnsfs:meta"
#define KEY_ZONES "dnsfs:v1:zones"
#define KEY_MAX (WIRE_NAME_MAX * 4 + 64)
#define FIELD_MAX (WIRE_NAME_MAX * 4 + 32)

#define SCAN_COUNT "1000"               /* HSCAN/XRANGE page */
#define LIST_PAGE 1000                  /* LRANGE page */
#define PAIRS_PER_CMD 512               /* field/value pairs in one HSET */
#define SYNC_FLUSH_BYTES (4u << 20)     /* pipeline this much, then read replies */
#define SYNC_TIMEOUT_S 30
#define CONNECT_TIMEOUT_S 5

/* ---- command lists ------------------------------------------------------ */

/* Commands in argv form, packed: per command u32 argc, then argc x (u32 len,
 * bytes), host byte order (never leaves the process). */
struct cmdbuf {
	uint8_t *p;                     /* packed commands (owned) */
	size_t len, cap;
	size_t ncmd;                    /* commands in p */
	size_t argc_off;                /* where the open command's argc sits */
	int oom;                        /* an append failed: the list is unusable */
};

static void cb_put(struct cmdbuf *b, const void *p, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void cb_begin(struct cmdbuf *b)
{
	uint32_t zero = 0;

	b->argc_off = b->len;
	cb_put(b, &zero, 4);
	b->ncmd++;
}

static void cb_arg(struct cmdbuf *b, const void *p, size_t n)
{
	uint32_t l = (uint32_t)n, argc;

	cb_put(b, &l, 4);
	cb_put(b, p, n);
	if (b->oom)
		return;
	memcpy(&argc, b->p + b->argc_off, 4);
	argc++;
	memcpy(b->p + b->argc_off, &argc, 4);
}

static void cb_str(struct cmdbuf *b, const char *s)
{
	cb_arg(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void cb_fmt(struct cmdbuf *b, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cb_arg(b, buf, n < 0 ? 0 : (size_t)n);
}

static void cb_reset(struct cmdbuf *b)
{
	b->len = 0;
	b->ncmd = 0;
	b->oom = 0;
}

static void cb_release(struct cmdbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Scratch argv arrays for one command. */
struct argv {
	const char **v;
	size_t *l;
	size_t cap;
};

/* Unpack the command at *off into a; returns argc, 0 at the end, -ENOMEM. */
static int cb_next(const struct cmdbuf *b, size_t *off, struct argv *a)
{
	uint32_t argc, l;

	if (*off >= b->len)
		return 0;
	memcpy(&argc, b->p + *off, 4);
	*off += 4;
	if (argc > a->cap) {
		size_t cap = argc < 16 ? 16 : argc;
		const char **v = realloc(a->v, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		a->v = v;
		size_t *nl = realloc(a->l, cap * sizeof(*nl));
		if (nl == NULL)
			return -ENOMEM;
		a->l = nl;
		a->cap = cap;
	}
	for (uint32_t i = 0; i < argc; i++) {
		memcpy(&l, b->p + *off, 4);
		a->v[i] = (const char *)b->p + *off + 4;
		a->l[i] = l;
		*off += 4 + (size_t)l;
	}
	return (int)argc;
}

/* ---- the memory imitation of Redis -------------------------------------- */

enum { MT_STRING = 1, MT_HASH, MT_SET, MT_LIST, MT_STREAM };

struct mitem {
	struct mitem *next;             /* hash chain */
	uint8_t *k;                     /* key / field / member / list value / stream id */
	size_t klen;
	uint8_t *v;                     /* hash value, encoded stream fields */
	size_t vlen;
	struct mobj *o;                 /* keyspace entries: the key's value */
};

struct mmap {
	struct mitem **b;               /* nb chains */
	size_t nb, n;
};

struct mobj {
	int type;                       /* MT_* */
	struct mmap map;                /* MT_HASH, MT_SET */
	struct mitem **list;            /* MT_LIST, MT_STREAM: items in order */
	size_t ln, lcap;
	uint8_t *str;                   /* MT_STRING */
	size_t slen;
	uint64_t last_ms, last_seq;     /* MT_STREAM: last id */
};

struct memdb {
	struct mmap keys;               /* key -> mobj */
};

static uint64_t fnv(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

static uint8_t *dup_bytes(const void *p, size_t n)
{
	uint8_t *d = malloc(n + 1);

	if (d == NULL)
		return NULL;
	memcpy(d, p, n);
	d[n] = 0;
	return d;
}

static struct mitem **mm_slot(const struct mmap *m, const void *k, size_t kl)
{
	struct mitem **pp;

	if (m->nb == 0)
		return NULL;
	pp = &m->b[fnv(k, kl) & (m->nb - 1)];
	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->klen == kl && memcmp((*pp)->k, k, kl) == 0)
			return pp;
	return pp;
}

static struct mitem *mm_get(const struct mmap *m, const void *k, size_t kl)
{
	struct mitem **pp = mm_slot(m, k, kl);

	return pp ? *pp : NULL;
}

/* The item for k, created (empty) if missing; NULL on out of memory. */
static struct mitem *mm_put(struct mmap *m, const void *k, size_t kl)
{
	struct mitem **pp, *it;

	if (m->n >= m->nb) {
		size_t nb = m->nb ? m->nb * 2 : 16;
		struct mitem **nbk = calloc(nb, sizeof(*nbk));
		if (nbk == NULL)
			return NULL;
		for (size_t i = 0; i < m->nb; i++)
			while ((it = m->b[i]) != NULL) {
				m->b[i] = it->next;
				size_t j = fnv(it->k, it->klen) & (nb - 1);
				it->next = nbk[j];
				nbk[j] = it;
			}
		free(m->b);
		m->b = nbk;
		m->nb = nb;
	}
	pp = mm_slot(m, k, kl);
	if (*pp != NULL)
		return *pp;
	it = calloc(1, sizeof(*it));
	if (it == NULL || (it->k = dup_bytes(k, kl)) == NULL) {
		free(it);
		return NULL;
	}
	it->klen = kl;
	*pp = it;
	m->n++;
	return it;
}

static void mobj_free(struct mobj *o);

static void mitem_free(struct mitem *it)
{
	free(it->k);
	free(it->v);
	mobj_free(it->o);
	free(it);
}

/* Unlink k; returns the item (caller frees) or NULL. */
static struct mitem *mm_take(struct mmap *m, const void *k, size_t kl)
{
	struct mitem **pp = mm_slot(m, k, kl), *it;

	if (pp == NULL || *pp == NULL)
		return NULL;
	it = *pp;
	*pp = it->next;
	it->next = NULL;
	m->n--;
	return it;
}

static void mm_release(struct mmap *m)
{
	struct mitem *it;

	for (size_t i = 0; i < m->nb; i++)
		while ((it = m->b[i]) != NULL) {
			m->b[i] = it->next;
			mitem_free(it);
		}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

static void mobj_free(struct mobj *o)
{
	if (o == NULL)
		return;
	mm_release(&o->map);
	for (size_t i = 0; i < o->ln; i++)
		mitem_free(o->list[i]);
	free(o->list);
	free(o->str);
	free(o);
}

static void memdb_free(struct memdb *db)
{
	if (db == NULL)
		return;
	mm_release(&db->keys);
	free(db);
}

/* The value of key, of type t; created when create is set. -EINVAL on a
 * type clash (Redis: WRONGTYPE), -ENOENT missing, -ENOMEM. */
static int mem_obj(struct memdb *db, const char *k, size_t kl, int t, int create,
		   struct mobj **out)
{
	struct mitem *it = create ? mm_put(&db->keys, k, kl) : mm_get(&db->keys, k, kl);

	if (it == NULL)
		return create ? -ENOMEM : -ENOENT;
	if (it->o == NULL) {
		if ((it->o = calloc(1, sizeof(*it->o))) == NULL) {
			mitem_free(mm_take(&db->keys, k, kl));
			return -ENOMEM;
		}
		it->o->type = t;
	}
	if (it->o->type != t)
		return -EINVAL;
	*out = it->o;
	return 0;
}

/* Drop a key whose hash/set/list became empty, as Redis does. */
static void mem_prune(struct memdb *db, const char *k, size_t kl)
{
	struct mitem *it = mm_get(&db->keys, k, kl);

	if (it && it->o && it->o->type != MT_STRING && it->o->map.n == 0 && it->o->ln == 0)
		mitem_free(mm_take(&db->keys, k, kl));
}

static int list_push(struct mobj *o, struct mitem *it)
{
	if (o->ln == o->lcap) {
		size_t cap = o->lcap ? o->lcap * 2 : 16;
		struct mitem **nl = realloc(o->list, cap * sizeof(*nl));
		if (nl == NULL)
			return -ENOMEM;
		o->list = nl;
		o->lcap = cap;
	}
	o->list[o->ln++] = it;
	return 0;
}

static int eq(const char *a, size_t al, const char *b)
{
	return al == strlen(b) && strncasecmp(a, b, al) == 0;
}

static long long num(const char *p, size_t n)
{
	char buf[32];

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, p, n);
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

/* Run one command on the imitation: the subset of Redis this file sends. */
static int mem_exec(struct memdb *db, int argc, const char **v, const size_t *l)
{
	struct mobj *o;
	struct mitem *it;
	int rc;

	if (eq(v[0], l[0], "MULTI") || eq(v[0], l[0], "EXEC"))
		return 0;
	if (argc < 2)
		return -EINVAL;
	if (eq(v[0], l[0], "DEL")) {
		for (int i = 1; i < argc; i++)
			if ((it = mm_take(&db->keys, v[i], l[i])) != NULL)
				mitem_free(it);
		return 0;
	}
	if (eq(v[0], l[0], "RENAME") && argc == 3) {
		if ((it = mm_take(&db->keys, v[1], l[1])) == NULL)
			return -ENOENT;
		struct mobj *mv = it->o;
		it->o = NULL;
		mitem_free(it);
		if ((it = mm_take(&db->keys, v[2], l[2])) != NULL)
			mitem_free(it);
		if ((it = mm_put(&db->keys, v[2], l[2])) == NULL) {
			mobj_free(mv);
			return -ENOMEM;
		}
		it->o = mv;
		return 0;
	}
	if (eq(v[0], l[0], "SET") && argc == 3) {
		if ((it = mm_take(&db->keys, v[1], l[1])) != NULL)
			mitem_free(it);
		if ((rc = mem_obj(db, v[1], l[1], MT_STRING, 1, &o)) < 0)
			return rc;
		if ((o->str = dup_bytes(v[2], l[2])) == NULL)
			return -ENOMEM;
		o->slen = l[2];
		return 0;
	}
	if ((eq(v[0], l[0], "HSET") && argc >= 4 && argc % 2 == 0) ||
	    (eq(v[0], l[0], "SADD") && argc >= 3)) {
		int hset = eq(v[0], l[0], "HSET");
		if ((rc = mem_obj(db, v[1], l[1], hset ? MT_HASH : MT_SET, 1, &o)) < 0)
			return rc;
		for (int i = 2; i < argc; i += hset ? 2 : 1) {
			if ((it = mm_put(&o->map, v[i], l[i])) == NULL)
				return -ENOMEM;
			if (!hset)
				continue;
			uint8_t *nv = dup_bytes(v[i + 1], l[i + 1]);
			if (nv == NULL)
				return -ENOMEM;
			free(it->v);
			it->v = nv;
			it->vlen = l[i + 1];
		}
		return 0;
	}
	if (eq(v[0], l[0], "HDEL") && argc >= 3) {
		if ((rc = mem_obj(db, v[1], l[1], MT_HASH, 0, &o)) == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
		for (int i = 2; i < argc; i++)
			if ((it = mm_take(&o->map, v[i], l[i])) != NULL)
				mitem_free(it);
		mem_prune(db, v[1], l[1]);
		return 0;
	}
	if (eq(v[0], l[0], "RPUSH") && argc >= 3) {
		if ((rc = mem_obj(db, v[1], l[1], MT_LIST, 1, &o)) < 0)
			return rc;
		for (int i = 2; i < argc; i++) {
			if ((it = calloc(1, sizeof(*it))) == NULL ||
			    (it->k = dup_bytes(v[i], l[i])) == NULL || list_push(o, it) < 0) {
				if (it)
					free(it->k);
				free(it);
				return -ENOMEM;
			}
			it->klen = l[i];
		}
		return 0;
	}
	if (eq(v[0], l[0], "LTRIM") && argc == 4) {
		if ((rc = mem_obj(db, v[1], l[1], MT_LIST, 0, &o)) == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
		long long n = (long long)o->ln, a = num(v[2], l[2]), b = num(v[3], l[3]);
		if (a < 0)
			a = a + n < 0 ? 0 : a + n;
		if (b < 0)
			b += n;
		if (b >= n)
			b = n - 1;
		size_t keep = a > b ? 0 : (size_t)(b - a + 1);
		for (size_t i = 0; i < o->ln; i++)
			if (i < (size_t)a || i >= (size_t)a + keep)
				mitem_free(o->list[i]);
		memmove(o->list, o->list + (keep ? a : 0), keep * sizeof(*o->list));
		o->ln = keep;
		mem_prune(db, v[1], l[1]);
		return 0;
	}
	if (eq(v[0], l[0], "XDEL") && argc >= 3) {
		if ((rc = mem_obj(db, v[1], l[1], MT_STREAM, 0, &o)) == -ENOENT)
			return 0;
		if (rc < 0)
			return rc;
		for (int i = 2; i < argc; i++) {
			for (size_t j = 0; j < o->ln; j++) {
				if (o->list[j]->klen != l[i] || memcmp(o->list[j]->k, v[i], l[i]) != 0)
					continue;
				mitem_free(o->list[j]);
				memmove(o->list + j, o->list + j + 1, (o->ln - j - 1) * sizeof(*o->list));
				o->ln--;
				break;
			}
		}
		return 0;
	}
	if (eq(v[0], l[0], "XADD") && argc >= 5 && argc % 2 == 1 && eq(v[2], l[2], "*")) {
		struct timeval tv;
		struct cmdbuf enc = {0};
		char id[48];

		if ((rc = mem_obj(db, v[1], l[1], MT_STREAM, 1, &o)) < 0)
			return rc;
		gettimeofday(&tv, NULL);
		uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
		if (ms <= o->last_ms) {
			ms = o->last_ms;
			o->last_seq++;
		} else {
			o->last_seq = 0;
		}
		o->last_ms = ms;
		snprintf(id, sizeof(id), "%" PRIu64 "-%" PRIu64, ms, o->last_seq);
		cb_begin(&enc);
		for (int i = 3; i < argc; i++)
			cb_arg(&enc, v[i], l[i]);
		it = calloc(1, sizeof(*it));
		if (enc.oom || it == NULL || (it->k = dup_bytes(id, strlen(id))) == NULL ||
		    list_push(o, it) < 0) {
			if (it)
				free(it->k);
			free(it);
			cb_release(&enc);
			return -ENOMEM;
		}
		it->klen = strlen(id);
		it->v = enc.p;
		it->vlen = enc.len;
		return 0;
	}
	return -ENOTSUP;
}

/* ---- the store ---------------------------------------------------------- */

/* One queued commit: its commands, built at store_commit time. */
struct commit {
	struct commit *next;
	struct cmdbuf cmds;             /* what goes inside MULTI/EXEC */
	store_done_fn done;
	void *arg;
	double t0;                      /* monotonic seconds at store_commit */
};

struct typename {
	char name[16];
	uint16_t type;
};

struct store {
	int memory;                     /* "memory" target: no Redis */
	int sync_only;                  /* no loop, no commits (store_options) */
	char *unix_path;                /* "unix:" target, or NULL */
	char *host;                     /* "host:port" target */
	int port;
	struct event_base *base;
	unsigned journal_max;
	unsigned timeout_ms;
	unsigned max_reconnect;

	redisContext *sync;             /* blocking link for load/create (NULL until needed) */
	redisAsyncContext *ac;          /* commit link; NULL while down */
	int connected;                  /* ac has completed its connect */
	unsigned attempts;              /* failed re-open attempts in a row */
	struct event *retry;            /* timer: next re-open attempt */
	struct event *watchdog;         /* timer: the oldest pending commit is late */
	struct event *tick;             /* timer(0): complete a group without Redis */

	struct commit *queue, **qtail;  /* waiting for the next group */
	size_t nqueue;
	struct commit *flight;          /* the group in flight (one at most) */
	size_t nflight;
	double flight_t0;               /* monotonic seconds when it was sent */
	struct store_observer obs;      /* timings for metrics; zeroed: none */

	int failed;                     /* fail-stop: no more commits */
	int failrc;                     /* what pending commits get */
	char errmsg[ERR_MSG_MAX];       /* why it failed */
	int ever_connected;             /* a later connect is a reconnect */
	char *target;                   /* as configured, for messages */
	int entered;                    /* depth of done() callbacks running */
	int freeing;                    /* store_free was called during a callback */

	struct store_stats stats;
	struct memdb *mem;              /* the "memory" target's data */
	struct argv argv;               /* scratch for sending a command */
	struct typename *types;         /* type mnemonic -> number, built on first load */
	size_t ntypes;
};

static void zone_key(char *buf, const char *origin, const char *what)
{
	snprintf(buf, KEY_MAX, "dnsfs:v1:z:%s:%s", origin, what);
}

/* ---- synchronous access (load, create) ---------------------------------- */

static int sync_open(struct store *s, struct err *e)
{
	struct timeval ct = { CONNECT_TIMEOUT_S, 0 }, rt = { SYNC_TIMEOUT_S, 0 };

	if (s->sync != NULL && s->sync->err == 0)
		return 0;
	if (s->sync != NULL)
		redisFree(s->sync);
	s->sync = s->unix_path ? redisConnectUnixWithTimeout(s->unix_path, ct)
			       : redisConnectWithTimeout(s->host, s->port, ct);
	if (s->sync == NULL)
		return err_set(e, -ENOMEM, "redis: out of memory");
	if (s->sync->err) {
		err_set(e, -ECONNREFUSED, "redis %s: %s", s->target, s->sync->errstr);
		redisFree(s->sync);
		s->sync = NULL;
		return -ECONNREFUSED;
	}
	redisSetTimeout(s->sync, rt);
	return 0;
}

/* Run one command on the blocking link; the reply is the caller's to free.
 * An error reply is -EIO with its text. Only for reads (and PING): a link
 * that went stale while idle (Redis restarted) is re-opened and the command
 * sent once more. */
static int sync_cmd(struct store *s, redisReply **out, struct err *e, int argc,
		    const char **argv, const size_t *lens)
{
	redisReply *r;
	int rc, l0 = (int)(lens ? lens[0] : strlen(argv[0]));

	*out = NULL;
	for (int attempt = 0;; attempt++) {
		if ((rc = sync_open(s, e)) < 0)
			return rc;
		r = redisCommandArgv(s->sync, argc, argv, lens);
		if (r != NULL || attempt == 1 || (s->sync->err != REDIS_ERR_IO &&
						  s->sync->err != REDIS_ERR_EOF))
			break;
		redisFree(s->sync);
		s->sync = NULL;
	}
	if (r == NULL) {
		rc = err_set(e, -EIO, "redis %.*s: %s", l0, argv[0],
			     s->sync->errstr[0] ? s->sync->errstr : "no reply");
		redisFree(s->sync);             /* a failed link is not reused */
		s->sync = NULL;
		return rc;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		err_set(e, -EIO, "redis %.*s: %s", l0, argv[0], r->str);
		freeReplyObject(r);
		return -EIO;
	}
	*out = r;
	return 0;
}

#define SYNC(s, out, e, ...)                                                    \
	sync_cmd(s, out, e, (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)), \
		 (const char *[]){ __VA_ARGS__ }, NULL)

/* Run a command list: pipelined on Redis (replies checked, EXEC's included),
 * or on the imitation. wrap: inside one MULTI/EXEC, so a bulk write costs
 * Redis one AOF write and fsync rather than one per read of its socket. */
static int run_sync(struct store *s, const struct cmdbuf *b, int wrap, struct err *e)
{
	static const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
	static const size_t l5[] = { 5 }, l4[] = { 4 };
	size_t off = 0, sent = 0;
	int argc, rc = 0;

	if (b->oom)
		return err_set(e, -ENOMEM, "store: out of memory");
	if (s->memory) {
		while ((argc = cb_next(b, &off, &s->argv)) > 0)
			if ((rc = mem_exec(s->mem, argc, s->argv.v, s->argv.l)) < 0)
				return err_set(e, rc, "store: memory %.*s failed", (int)s->argv.l[0],
					       s->argv.v[0]);
		return argc < 0 ? err_set(e, argc, "store: out of memory") : 0;
	}
	redisReply *ping;
	if ((rc = SYNC(s, &ping, e, "PING")) < 0)   /* a fresh link: writes are not retried */
		return rc;
	freeReplyObject(ping);
	if (wrap) {
		redisAppendCommandArgv(s->sync, 1, multi, l5);
		sent++;
	}
	while ((argc = cb_next(b, &off, &s->argv)) > 0) {
		if (redisAppendCommandArgv(s->sync, argc, s->argv.v, s->argv.l) != REDIS_OK)
			return err_set(e, -ENOMEM, "redis: cannot queue a command");
		sent++;
	}
	if (argc < 0)
		return err_set(e, argc, "store: out of memory");
	if (wrap) {
		redisAppendCommandArgv(s->sync, 1, exec, l4);
		sent++;
	}
	for (size_t i = 0; i < sent; i++) {
		redisReply *r = NULL;
		if (redisGetReply(s->sync, (void **)&r) != REDIS_OK || r == NULL) {
			rc = err_set(e, -EIO, "redis: %s", s->sync->errstr[0] ? s->sync->errstr
									: "link lost");
			break;              /* the link is unusable: drop it */
		}
		if (rc == 0 && r->type == REDIS_REPLY_ERROR)
			rc = err_set(e, -EIO, "redis: %s", r->str);
		if (rc == 0 && r->type == REDIS_REPLY_ARRAY)
			for (size_t j = 0; j < r->elements; j++)
				if (r->element[j]->type == REDIS_REPLY_ERROR) {
					rc = err_set(e, -EIO, "redis: in a transaction: %s",
						     r->element[j]->str);
					break;
				}
		freeReplyObject(r);
	}
	if (rc < 0 && s->sync->err) {
		redisFree(s->sync);
		s->sync = NULL;
	}
	return rc;
}

/* Read access to one key, the same on both targets. */
typedef int (*item_fn)(const char *k, size_t kl, const char *v, size_t vl, void *arg);

/* A string (or hash field with field != NULL): *out malloc'd, NUL-terminated;
 * -ENOENT if absent. */
static int rd_get(struct store *s, const char *key, const char *field, char **out, size_t *len,
		  struct err *e)
{
	redisReply *r;
	struct mobj *o;
	int rc;

	*out = NULL;
	if (s->memory) {
		rc = mem_obj(s->mem, key, strlen(key), field ? MT_HASH : MT_STRING, 0, &o);
		if (rc < 0)
			return rc == -EINVAL ? err_set(e, rc, "store: %s has another type", key) : rc;
		const uint8_t *p = o->str;
		size_t n = o->slen;
		if (field != NULL) {
			struct mitem *it = mm_get(&o->map, field, strlen(field));
			if (it == NULL)
				return -ENOENT;
			p = it->v;
			n = it->vlen;
		}
		if ((*out = (char *)dup_bytes(p, n)) == NULL)
			return err_set(e, -ENOMEM, "store: out of memory");
		*len = n;
		return 0;
	}
	rc = field ? SYNC(s, &r, e, "HGET", key, field) : SYNC(s, &r, e, "GET", key);
	if (rc < 0)
		return rc;
	if (r->type == REDIS_REPLY_NIL) {
		rc = -ENOENT;
	} else if (r->type != REDIS_REPLY_STRING) {
		rc = err_set(e, -EBADMSG, "redis: %s is not a string", key);
	} else if ((*out = (char *)dup_bytes(r->str, r->len)) == NULL) {
		rc = err_set(e, -ENOMEM, "store: out of memory");
	} else {
		*len = r->len;
	}
	freeReplyObject(r);
	return rc;
}

/* Every field/value of a hash (v == NULL for set members), in pages. */
static int rd_scan(struct store *s, const char *key, int set, item_fn fn, void *arg,
		   struct err *e)
{
	char cursor[32] = "0";
	struct mobj *o;
	int rc;

	if (s->memory) {
		rc = mem_obj(s->mem, key, strlen(key), set ? MT_SET : MT_HASH, 0, &o);
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return err_set(e, rc, "store: %s has another type", key);
		for (size_t i = 0; i < o->map.nb; i++)
			for (struct mitem *it = o->map.b[i]; it; it = it->next)
				if ((rc = fn((char *)it->k, it->klen, (char *)it->v, it->vlen, arg)) != 0)
					return rc;
		return 0;
	}
	do {
		redisReply *r;
		rc = SYNC(s, &r, e, set ? "SSCAN" : "HSCAN", key, cursor, "COUNT", SCAN_COUNT);
		if (rc < 0)
			return rc;
		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
		    r->element[0]->type != REDIS_REPLY_STRING ||
		    r->element[1]->type != REDIS_REPLY_ARRAY ||
		    r->element[0]->len >= sizeof(cursor) ||
		    (!set && r->element[1]->elements % 2 != 0)) {
			freeReplyObject(r);
			return err_set(e, -EBADMSG, "redis: unexpected scan reply for %s", key);
		}
		memcpy(cursor, r->element[0]->str, r->element[0]->len);
		cursor[r->element[0]->len] = 0;
		redisReply *a = r->element[1];
		for (size_t i = 0; i < a->elements && rc == 0; i += set ? 1 : 2) {
			const redisReply *k = a->element[i], *v = set ? NULL : a->element[i + 1];
			rc = fn(k->str, k->len, v ? v->str : NULL, v ? v->len : 0, arg);
		}
		freeReplyObject(r);
		if (rc != 0)
			return rc;
	} while (strcmp(cursor, "0") != 0);
	return 0;
}

/* Every element of a list, in order, in pages. */
static int rd_list(struct store *s, const char *key, item_fn fn, void *arg, struct err *e)
{
	struct mobj *o;
	int rc;

	if (s->memory) {
		rc = mem_obj(s->mem, key, strlen(key), MT_LIST, 0, &o);
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return err_set(e, rc, "store: %s has another type", key);
		for (size_t i = 0; i < o->ln; i++)
			if ((rc = fn((char *)o->list[i]->k, o->list[i]->klen, NULL, 0, arg)) != 0)
				return rc;
		return 0;
	}
	for (long start = 0;; start += LIST_PAGE) {
		char a[24], b[24];
		redisReply *r;
		snprintf(a, sizeof(a), "%ld", start);
		snprintf(b, sizeof(b), "%ld", start + LIST_PAGE - 1);
		if ((rc = SYNC(s, &r, e, "LRANGE", key, a, b)) < 0)
			return rc;
		if (r->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return err_set(e, -EBADMSG, "redis: unexpected LRANGE reply for %s", key);
		}
		size_t n = r->elements;
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = fn(r->element[i]->str, r->element[i]->len, NULL, 0, arg);
		freeReplyObject(r);
		if (rc != 0 || n < LIST_PAGE)
			return rc;
	}
}

/* Every entry of a stream, oldest first: fn gets the id and the fields as
 * one argv (f1, v1, f2, v2, ...). */
typedef int (*entry_fn)(const char *id, int argc, const char **v, const size_t *l, void *arg);

static int rd_stream(struct store *s, const char *key, entry_fn fn, void *arg, struct err *e)
{
	char from[64] = "-";
	struct mobj *o;
	int rc;

	if (s->memory) {
		struct argv a = {0};
		rc = mem_obj(s->mem, key, strlen(key), MT_STREAM, 0, &o);
		if (rc == -ENOENT)
			return 0;
		if (rc < 0)
			return err_set(e, rc, "store: %s has another type", key);
		for (size_t i = 0; i < o->ln && rc == 0; i++) {
			struct cmdbuf enc = { .p = o->list[i]->v, .len = o->list[i]->vlen };
			size_t off = 0;
			int argc = cb_next(&enc, &off, &a);
			rc = argc < 0 ? err_set(e, argc, "store: out of memory")
				      : fn((char *)o->list[i]->k, argc, a.v, a.l, arg);
		}
		free(a.v);
		free(a.l);
		return rc;
	}
	for (;;) {
		redisReply *r;
		if ((rc = SYNC(s, &r, e, "XRANGE", key, from, "+", "COUNT", SCAN_COUNT)) < 0)
			return rc;
		if (r->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			return err_set(e, -EBADMSG, "redis: unexpected XRANGE reply for %s", key);
		}
		size_t n = r->elements;
		for (size_t i = 0; i < n && rc == 0; i++) {
			redisReply *en = r->element[i], *f;
			const char *v[16];
			size_t l[16];
			if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
			    (f = en->element[1])->type != REDIS_REPLY_ARRAY || f->elements > 16 ||
			    en->element[0]->len + 2 > sizeof(from)) {
				rc = err_set(e, -EBADMSG, "redis: unexpected entry in %s", key);
				break;
			}
			for (size_t j = 0; j < f->elements; j++) {
				v[j] = f->element[j]->str;
				l[j] = f->element[j]->len;
			}
			rc = fn(en->element[0]->str, (int)f->elements, v, l, arg);
			/* the next page starts after this id (exclusive range) */
			snprintf(from, sizeof(from), "(%s", en->element[0]->str);
		}
		freeReplyObject(r);
		if (rc != 0 || n < (size_t)atoi(SCAN_COUNT))
			return rc;
	}
}

static int rd_ismember(struct store *s, const char *key, const char *m, struct err *e)
{
	redisReply *r;
	struct mobj *o;
	int rc;

	if (s->memory) {
		rc = mem_obj(s->mem, key, strlen(key), MT_SET, 0, &o);
		return rc == 0 && mm_get(&o->map, m, strlen(m)) != NULL;
	}
	if ((rc = SYNC(s, &r, e, "SISMEMBER", key, m)) < 0)
		return rc;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return rc;
}

/* ---- records <-> hash fields -------------------------------------------- */

/* "<owner text> <TYPE>" into buf. */
static int field_text(char *buf, size_t len, const struct wire_name *name, uint16_t type)
{
	if (wire_name_to_text(name, buf, len) < 0)
		return -ENOSPC;
	size_t n = strlen(buf);
	int m = snprintf(buf + n, len - n, " %s", wire_type_name(type));
	return m < 0 || (size_t)m >= len - n ? -ENOSPC : 0;
}

/* Type mnemonics wire.c knows, for parsing fields back. */
static int build_types(struct store *s)
{
	if (s->types != NULL)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t n = 0;
		for (uint32_t t = 0; t <= 0xffff; t++) {
			const char *nm = wire_type_name((uint16_t)t);
			if (nm == NULL || strncmp(nm, "TYPE", 4) == 0 ||
			    strlen(nm) >= sizeof(s->types->name))
				continue;
			if (pass == 1) {
				snprintf(s->types[n].name, sizeof(s->types[n].name), "%s", nm);
				s->types[n].type = (uint16_t)t;
			}
			n++;
		}
		if (pass == 0) {
			s->ntypes = n;
			if ((s->types = calloc(n ? n : 1, sizeof(*s->types))) == NULL)
				return -ENOMEM;
		}
	}
	return 0;
}

static int parse_type(const struct store *s, const char *t, uint16_t *type)
{
	char *end;

	if (strncasecmp(t, "TYPE", 4) == 0 && t[4] >= '0' && t[4] <= '9') {
		unsigned long v = strtoul(t + 4, &end, 10);
		if (*end == 0 && v <= 0xffff) {
			*type = (uint16_t)v;
			return 0;
		}
	}
	for (size_t i = 0; i < s->ntypes; i++)
		if (strcasecmp(s->types[i].name, t) == 0) {
			*type = s->types[i].type;
			return 0;
		}
	return -EINVAL;
}

/* Append the blob of one rrset (see store.h) as one argument. */
static void blob_arg(struct cmdbuf *b, const struct zone_rrset *set)
{
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0;
	uint8_t hdr[6] = { (uint8_t)(set->ttl >> 24), (uint8_t)(set->ttl >> 16),
			   (uint8_t)(set->ttl >> 8), (uint8_t)set->ttl,
			   (uint8_t)(set->count >> 8), (uint8_t)set->count };
	uint32_t l = 6 + 2 * (uint32_t)set->count, argc;

	while (zone_rrset_next(set, &off, &rd, &rdlen))
		l += rdlen;
	cb_put(b, &l, 4);
	cb_put(b, hdr, 6);
	off = 0;
	while (zone_rrset_next(set, &off, &rd, &rdlen)) {
		uint8_t lb[2] = { (uint8_t)(rdlen >> 8), (uint8_t)rdlen };
		cb_put(b, lb, 2);
		cb_put(b, rd, rdlen);
	}
	if (b->oom)
		return;
	memcpy(&argc, b->p + b->argc_off, 4);
	argc++;
	memcpy(b->p + b->argc_off, &argc, 4);
}

/* ---- loading ------------------------------------------------------------ */

struct load_ctx {
	struct store *s;
	struct zone *z;
	uint64_t sets;                  /* fields loaded */
	struct err *e;
};

/* One hash field: "<owner> <TYPE>" -> rrset blob, into the zone. HSCAN may
 * return a field twice (the hash was resized between pages); zone_load
 * replaces the rrset, so a repeat is harmless. */
static int load_field(const char *f, size_t fl, const char *v, size_t vl, void *arg)
{
	struct load_ctx *c = arg;
	char text[FIELD_MAX];
	struct wire_name name;
	struct zone_rrset *set = NULL;
	uint16_t type, count;
	const uint8_t *b = (const uint8_t *)v;
	size_t pos = 6;
	uint32_t ttl;
	int rc;

	if (fl >= sizeof(text))
		return err_set(c->e, -EBADMSG, "store: %s: field of %zu bytes", c->z->origin, fl);
	memcpy(text, f, fl);
	text[fl] = 0;
	char *sp = strrchr(text, ' ');
	if (sp == NULL)
		return err_set(c->e, -EBADMSG, "store: %s: field \"%s\" has no type",
			       c->z->origin, text);
	*sp = 0;
	if (parse_type(c->s, sp + 1, &type) < 0)
		return err_set(c->e, -EBADMSG, "store: %s: unknown type in \"%s %s\"",
			       c->z->origin, text, sp + 1);
	if ((rc = wire_name_from_text(&name, text, c->e)) < 0) {
		err_prefix(c->e, "store: %s: field \"%s\": ", c->z->origin, text);
		return rc;
	}
	wire_name_lower(&name);
	if (!wire_name_is_subdomain(&name, &c->z->apex))
		return err_set(c->e, -EBADMSG, "store: %s: \"%s\" is outside the zone",
			       c->z->origin, text);
	if (vl < 6)
		goto bad;
	ttl = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	count = (uint16_t)(b[4] << 8 | b[5]);
	/* the blob's RRs are laid out as the rrset's own: vl - 6 bytes of room */
	if (count == 0 || (set = zone_rrset_new(type, ttl, vl - 6)) == NULL)
		goto bad_or_oom;
	for (uint32_t i = 0; i < count; i++) {
		if (vl - pos < 2)
			goto bad;
		uint16_t rdlen = (uint16_t)(b[pos] << 8 | b[pos + 1]);
		pos += 2;
		if (vl - pos < rdlen || zone_rrset_append(set, vl - 6, b + pos, rdlen) < 0)
			goto bad;
		pos += rdlen;
	}
	if (pos != vl)
		goto bad;
	rc = zone_load(c->z, &name, set);
	zone_rrset_unref(set);
	if (rc < 0)
		return err_set(c->e, rc, "store: %s: cannot load \"%s %s\": %s",
			       c->z->origin, text, sp + 1, strerror(-rc));
	c->sets++;
	return 0;
bad_or_oom:
	if (count != 0)
		return err_set(c->e, -ENOMEM, "store: out of memory");
bad:
	zone_rrset_unref(set);
	return err_set(c->e, -EBADMSG, "store: %s: malformed rrset blob for \"%s %s\"",
		       c->z->origin, text, sp + 1);
}

static int parse_u32(const char *p, uint32_t *v)
{
	char *end;
	unsigned long long x = strtoull(p, &end, 10);

	if (end == p || *end != 0 || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

static int load_zone(struct store *s, const char *origin, struct zone **out, struct err *e)
{
	struct load_ctx c = { .s = s, .e = e };
	struct wire_name apex;
	char key[KEY_MAX], *val = NULL;
	size_t len;
	uint32_t serial;
	int rc;

	*out = NULL;
	if ((rc = wire_name_from_text(&apex, origin, e)) < 0) {
		err_prefix(e, "store: zone \"%s\": ", origin);
		return rc;
	}
	wire_name_lower(&apex);
	zone_key(key, origin, "serial");
	rc = rd_get(s, key, NULL, &val, &len, e);
	if (rc == -ENOENT)
		return err_set(e, -EBADMSG, "store: zone %s has no serial key", origin);
	if (rc < 0)
		return rc;
	rc = parse_u32(val, &serial);
	free(val);
	if (rc < 0)
		return err_set(e, -EBADMSG, "store: zone %s: bad serial", origin);
	if ((c.z = zone_new(&apex)) == NULL)
		return err_set(e, -ENOMEM, "store: out of memory");
	zone_key(key, origin, "rr");
	if ((rc = rd_scan(s, key, 0, load_field, &c, e)) < 0)
		goto fail;
	if (c.sets == 0 || zone_soa(c.z) == NULL) {
		rc = err_set(e, -EBADMSG, "store: zone %s has no SOA record", origin);
		goto fail;
	}
	if (c.z->serial != serial) {
		rc = err_set(e, -EBADMSG, "store: zone %s: serial key says %u, SOA says %u",
			     origin, serial, c.z->serial);
		goto fail;
	}
	*out = c.z;
	return 0;
fail:
	zone_free(c.z);
	return rc;
}

/* Refuse a Redis that would acknowledge commits before they are on disk. If
 * CONFIG is not available (renamed, managed Redis) there is no telling. */
static int check_durable(struct store *s, struct err *e)
{
	redisReply *r;
	int rc = SYNC(s, &r, e, "CONFIG", "GET", "appendonly");

	if (rc < 0)
		return 0;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING && strcmp(r->element[1]->str, "no") == 0)
		rc = err_set(e, -EINVAL, "store: redis %s runs with appendonly no: commits would be "
			     "acknowledged before they are durable (set appendonly yes and an "
			     "appendfsync policy)", s->target);
	freeReplyObject(r);
	return rc;
}

/* Refuse a store written by a newer schema. *have: the meta key exists. */
static int check_schema(struct store *s, int *have, struct err *e)
{
	char *val = NULL;
	size_t len;
	uint32_t v;
	int rc = rd_get(s, KEY_META, "schema", &val, &len, e);

	*have = 0;
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	rc = parse_u32(val, &v);
	free(val);
	if (rc < 0)
		return err_set(e, -EBADMSG, "store: %s has an unreadable schema", KEY_META);
	if (v > STORE_SCHEMA)
		return err_set(e, -EPROTONOSUPPORT, "store: Redis holds dnsfs schema %u, this mds "
			       "reads schema %u only: upgrade dnsfs-mds (nothing was changed)",
			       v, STORE_SCHEMA);
	if (v < STORE_SCHEMA)
		return err_set(e, -EPROTONOSUPPORT, "store: Redis holds dnsfs schema %u, which "
			       "this mds cannot read (it needs %u)", v, STORE_SCHEMA);
	*have = 1;
	return 0;
}

struct names {
	char **v;
	size_t n, cap;
};

static int collect_name(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct names *n = arg;

	if (n->n == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 8;
		char **nv = realloc(n->v, cap * sizeof(*nv));
		if (nv == NULL)
			return -ENOMEM;
		n->v = nv;
		n->cap = cap;
	}
	if ((n->v[n->n] = (char *)dup_bytes(k, kl)) == NULL)
		return -ENOMEM;
	n->n++;
	return 0;
}

int store_load(struct store *s, struct zoneset *zs, struct err *e)
{
	struct names zn = {0};
	int have, rc;

	if ((rc = check_schema(s, &have, e)) < 0)
		return rc;
	if (build_types(s) < 0)
		return err_set(e, -ENOMEM, "store: out of memory");
	rc = rd_scan(s, KEY_ZONES, 1, collect_name, &zn, e);
	if (rc == -ENOMEM)
		err_set(e, rc, "store: out of memory");
	if (rc < 0)
		goto out;
	if (zn.n > 0 && !have) {
		rc = err_set(e, -EBADMSG, "store: %s lists zones but %s has no schema: not a "
			     "dnsfs store?", KEY_ZONES, KEY_META);
		goto out;
	}
	for (size_t i = 0; i < zn.n; i++) {
		struct zone *z;
		if ((rc = load_zone(s, zn.v[i], &z, e)) < 0)
			goto out;
		if (zoneset_find_apex(zs, &z->apex) != NULL) {
			rc = err_set(e, -EEXIST, "store: zone %s is loaded already", zn.v[i]);
			zone_free(z);
			goto out;
		}
		if ((rc = zoneset_add(zs, z)) < 0) {
			zone_free(z);
			err_set(e, rc, "store: cannot add zone %s", zn.v[i]);
			goto out;
		}
	}
out:
	for (size_t i = 0; i < zn.n; i++)
		free(zn.v[i]);
	free(zn.v);
	return rc;
}

struct refs_cb {
	int (*fn)(const char *hash, int64_t count, void *arg);
	void *arg;
	struct err *e;
};

static int load_ref(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct refs_cb *c = arg;
	char hex[HASH_HEX_LEN + 1], num_s[24], *end;

	if (kl != HASH_HEX_LEN || vl == 0 || vl >= sizeof(num_s))
		return err_set(c->e, -EBADMSG, "store: malformed reference count entry");
	memcpy(hex, k, kl);
	hex[kl] = 0;
	memcpy(num_s, v, vl);
	num_s[vl] = 0;
	long long n = strtoll(num_s, &end, 10);
	if (*end != 0)
		return err_set(c->e, -EBADMSG, "store: count of %s is \"%s\"", hex, num_s);
	return c->fn(hex, n, c->arg);
}

int store_load_refs(struct store *s, const struct zone *z,
		    int (*fn)(const char *hash, int64_t count, void *arg), void *arg,
		    struct err *e)
{
	struct refs_cb c = { fn, arg, e };
	char key[KEY_MAX];

	zone_key(key, z->origin, "refs");
	return rd_scan(s, key, 0, load_ref, &c, e);
}

struct blob_cb {
	int (*fn)(const uint8_t *blob, size_t len, void *arg);
	void *arg;
};

static int load_blob(const char *k, size_t kl, const char *v, size_t vl, void *arg)
{
	struct blob_cb *c = arg;

	return c->fn((const uint8_t *)k, kl, c->arg);
}

int store_load_journal(struct store *s, const struct zone *z,
		       int (*fn)(const uint8_t *blob, size_t len, void *arg), void *arg,
		       struct err *e)
{
	struct blob_cb c = { fn, arg };
	char key[KEY_MAX];

	zone_key(key, z->origin, "journal");
	return rd_list(s, key, load_blob, &c, e);
}

struct orphan_cb {
	int (*fn)(const char *id, const char *hash, int64_t ts, void *arg);
	void *arg;
};

static int load_orphan(const char *id, int argc, const char **v, const size_t *l, void *arg)
{
	struct orphan_cb *c = arg;
	char hex[HASH_HEX_LEN + 1] = "", ts[24] = "0";

	for (int i = 0; i + 1 < argc; i += 2) {
		if (l[i] == 4 && memcmp(v[i], "hash", 4) == 0 && l[i + 1] <= HASH_HEX_LEN) {
			memcpy(hex, v[i + 1], l[i + 1]);
			hex[l[i + 1]] = 0;
		} else if (l[i] == 2 && memcmp(v[i], "ts", 2) == 0 && l[i + 1] < sizeof(ts)) {
			memcpy(ts, v[i + 1], l[i + 1]);
			ts[l[i + 1]] = 0;
		}
	}
	return c->fn(id, hex, strtoll(ts, NULL, 10), c->arg);
}

int store_ack_orphans(struct store *s, const struct zone *z, const char *const *ids,
		      size_t n, struct err *e)
{
	char key[KEY_MAX];
	struct cmdbuf b = {0};
	int rc = 0;

	zone_key(key, z->origin, "orphans");
	/* in slices: one XDEL stays a reasonable command */
	for (size_t i = 0; i < n && rc == 0; i += 256) {
		cb_begin(&b);
		cb_str(&b, "XDEL");
		cb_str(&b, key);
		for (size_t k = i; k < n && k < i + 256; k++)
			cb_str(&b, ids[k]);
		rc = run_sync(s, &b, 0, e);
		cb_release(&b);
	}
	return rc;
}

int store_load_orphans(struct store *s, const struct zone *z,
		       int (*fn)(const char *id, const char *hash, int64_t ts, void *arg),
		       void *arg, struct err *e)
{
	struct orphan_cb c = { fn, arg };
	char key[KEY_MAX];

	zone_key(key, z->origin, "orphans");
	return rd_stream(s, key, load_orphan, &c, e);
}

/* ---- creating a zone ---------------------------------------------------- */

struct create_ctx {
	struct store *s;
	struct cmdbuf b;
	const char *key;                /* the temporary hash being filled */
	size_t pairs;                   /* pairs in the open HSET (0: none open) */
	size_t n;                       /* pairs written in all */
	int rc;
	struct err *e;
};

/* Add one field/value to the open HSET; send when the list is big. */
static void create_pair_begin(struct create_ctx *c)
{
	if (c->pairs == PAIRS_PER_CMD) {
		c->pairs = 0;
		if (c->b.len >= SYNC_FLUSH_BYTES) {
			if ((c->rc = run_sync(c->s, &c->b, 1, c->e)) < 0)
				return;
			cb_reset(&c->b);
		}
	}
	if (c->pairs == 0) {
		cb_begin(&c->b);
		cb_str(&c->b, "HSET");
		cb_str(&c->b, c->key);
	}
	c->pairs++;
	c->n++;
}

static void create_rrset(const struct wire_name *name, const struct zone_rrset *set, void *arg)
{
	struct create_ctx *c = arg;
	char field[FIELD_MAX];

	if (c->rc < 0)
		return;
	if (field_text(field, sizeof(field), name, set->type) < 0) {
		c->rc = err_set(c->e, -ENAMETOOLONG, "store: a name does not fit a field");
		return;
	}
	create_pair_begin(c);
	if (c->rc < 0)
		return;
	cb_str(&c->b, field);
	blob_arg(&c->b, set);
}

static int create_ref(const struct hash *h, int64_t count, void *arg)
{
	struct create_ctx *c = arg;
	char hex[HASH_HEX_LEN + 1];

	create_pair_begin(c);
	if (c->rc < 0)
		return c->rc;
	hash_to_hex(h, hex);
	cb_str(&c->b, hex);
	cb_fmt(&c->b, "%" PRId64, count);
	return 0;
}

int store_create_zone(struct store *s, const struct zone *z, const struct refs *refs,
		      struct err *e)
{
	struct create_ctx c = { .s = s, .e = e };
	char rr[KEY_MAX], rr_new[KEY_MAX], rf[KEY_MAX], rf_new[KEY_MAX], k[KEY_MAX];
	char serial[16];
	size_t nrr;
	int have, rc;

	if ((rc = check_schema(s, &have, e)) < 0)
		return rc;
	if ((rc = rd_ismember(s, KEY_ZONES, z->origin, e)) < 0)
		return rc;
	if (rc == 1)
		return err_set(e, -EEXIST, "store: zone %s exists already", z->origin);
	zone_key(rr, z->origin, "rr");
	zone_key(rr_new, z->origin, "rr.new");
	zone_key(rf, z->origin, "refs");
	zone_key(rf_new, z->origin, "refs.new");
	cb_begin(&c.b);
	cb_str(&c.b, "DEL");
	cb_str(&c.b, rr_new);
	cb_str(&c.b, rf_new);
	c.key = rr_new;
	zone_foreach(z, create_rrset, &c);
	nrr = c.n;
	c.pairs = 0;
	c.n = 0;
	c.key = rf_new;
	if (c.rc == 0 && refs != NULL)
		refs_foreach(refs, create_ref, &c);
	if ((rc = c.rc) < 0 || (rc = run_sync(s, &c.b, 1, e)) < 0)
		goto out;
	cb_reset(&c.b);
	/* Publish everything at once. */
	cb_begin(&c.b);
	cb_str(&c.b, "MULTI");
	cb_begin(&c.b);
	cb_str(&c.b, "HSET");
	cb_str(&c.b, KEY_META);
	cb_str(&c.b, "schema");
	cb_fmt(&c.b, "%d", STORE_SCHEMA);
	cb_begin(&c.b);
	if (nrr > 0) {
		cb_str(&c.b, "RENAME");
		cb_str(&c.b, rr_new);
	} else {
		cb_str(&c.b, "DEL");
	}
	cb_str(&c.b, rr);
	cb_begin(&c.b);
	if (c.n > 0) {
		cb_str(&c.b, "RENAME");
		cb_str(&c.b, rf_new);
	} else {
		cb_str(&c.b, "DEL");
	}
	cb_str(&c.b, rf);
	cb_begin(&c.b);
	cb_str(&c.b, "SET");
	zone_key(k, z->origin, "serial");
	cb_str(&c.b, k);
	snprintf(serial, sizeof(serial), "%u", z->serial);
	cb_str(&c.b, serial);
	cb_begin(&c.b);
	cb_str(&c.b, "DEL");
	zone_key(k, z->origin, "journal");
	cb_str(&c.b, k);
	cb_begin(&c.b);
	cb_str(&c.b, "SADD");
	cb_str(&c.b, KEY_ZONES);
	cb_str(&c.b, z->origin);
	cb_begin(&c.b);
	cb_str(&c.b, "EXEC");
	rc = run_sync(s, &c.b, 0, e);
out:
	if (rc < 0)
		err_prefix(e, "store: creating %s: ", z->origin);
	cb_release(&c.b);
	return rc;
}

/* ---- building a commit -------------------------------------------------- */

/* Open a command "VERB key" unless one with room is open; pairs counts the
 * arguments added to it. */
static void open_multi(struct cmdbuf *b, size_t *pairs, const char *verb, const char *key)
{
	if (*pairs > 0 && *pairs < PAIRS_PER_CMD)
		return;
	cb_begin(b);
	cb_str(b, verb);
	cb_str(b, key);
	*pairs = 0;
}

static int build_commit(struct store *s, const struct store_batch *bt, struct cmdbuf *b)
{
	const struct zone *z = bt->z;
	char key[KEY_MAX], field[FIELD_MAX], num_s[24];
	size_t pairs = 0;
	uint8_t *blob = NULL;
	size_t blen;
	int rc;

	if (bt->nchanges == 0 && bt->nrefs == 0)
		return 0;
	zone_key(key, z->origin, "rr");
	for (size_t i = 0; i < bt->nchanges; i++) {
		const struct zone_change *c = &bt->changes[i];
		if (c->new_set == NULL)
			continue;
		if (field_text(field, sizeof(field), &c->name, c->type) < 0)
			return -ENAMETOOLONG;
		open_multi(b, &pairs, "HSET", key);
		cb_str(b, field);
		blob_arg(b, c->new_set);
		pairs++;
	}
	pairs = 0;
	for (size_t i = 0; i < bt->nchanges; i++) {
		const struct zone_change *c = &bt->changes[i];
		if (c->new_set != NULL)
			continue;
		if (field_text(field, sizeof(field), &c->name, c->type) < 0)
			return -ENAMETOOLONG;
		open_multi(b, &pairs, "HDEL", key);
		cb_str(b, field);
		pairs++;
	}
	if (bt->nchanges > 0) {
		cb_begin(b);
		cb_str(b, "SET");
		zone_key(key, z->origin, "serial");
		cb_str(b, key);
		cb_fmt(b, "%u", bt->serial_to);
		if (bt->journal == NULL && (rc = journal_encode(bt->serial_from, bt->serial_to,
					bt->changes, bt->nchanges, &blob, &blen, NULL)) < 0)
			return rc;
		zone_key(key, z->origin, "journal");
		cb_begin(b);
		cb_str(b, "RPUSH");
		cb_str(b, key);
		if (bt->journal != NULL)
			cb_arg(b, bt->journal, bt->journal_len);
		else
			cb_arg(b, blob, blen);
		free(blob);
		cb_begin(b);
		cb_str(b, "LTRIM");
		cb_str(b, key);
		cb_fmt(b, "-%u", s->journal_max);
		cb_str(b, "-1");
	}
	zone_key(key, z->origin, "refs");
	pairs = 0;
	for (size_t i = 0; i < bt->nrefs; i++) {
		if (bt->refs[i].count <= 0)
			continue;
		open_multi(b, &pairs, "HSET", key);
		cb_str(b, bt->refs[i].hash);
		cb_fmt(b, "%" PRId64, bt->refs[i].count);
		pairs++;
	}
	pairs = 0;
	for (size_t i = 0; i < bt->nrefs; i++) {
		if (bt->refs[i].count > 0)
			continue;
		open_multi(b, &pairs, "HDEL", key);
		cb_str(b, bt->refs[i].hash);
		pairs++;
	}
	zone_key(key, z->origin, "orphans");
	snprintf(num_s, sizeof(num_s), "%lld", (long long)time(NULL));
	for (size_t i = 0; i < bt->nrefs; i++) {
		if (bt->refs[i].count > 0)
			continue;
		cb_begin(b);
		cb_str(b, "XADD");
		cb_str(b, key);
		cb_str(b, "*");
		cb_str(b, "hash");
		cb_str(b, bt->refs[i].hash);
		cb_str(b, "ts");
		cb_str(b, num_s);
	}
	return b->oom ? -ENOMEM : 0;
}

/* ---- commit groups ------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void free_commit(struct commit *c)
{
	cb_release(&c->cmds);
	free(c);
}

static void really_free(struct store *s);

/* Detach every pending commit, in flight first, then queued: commit order. */
static struct commit *take_all(struct store *s)
{
	struct commit *all = s->flight, **t = &all;

	while (*t != NULL)
		t = &(*t)->next;
	*t = s->queue;
	s->flight = s->queue = NULL;
	s->qtail = &s->queue;
	s->nflight = s->nqueue = 0;
	return all;
}

/* Report a detached list; the caller holds s->entered. */
static void report(struct store *s, struct commit *c, int rc, const char *msg)
{
	struct commit *next;

	for (; c != NULL; c = next) {
		next = c->next;
		if (rc == 0)
			s->stats.committed++;
		else
			s->stats.failed++;
		if (s->obs.commit != NULL)
			s->obs.commit(s->obs.arg, rc, now_s() - c->t0);
		c->done(c->arg, rc, msg);
		free_commit(c);
	}
}

/* Leave a callback section. If store_free was called meanwhile and this is
 * the outermost section, whatever is still pending is cancelled and the store
 * freed: returns 1 then (do not touch s). */
static int leave(struct store *s)
{
	struct commit *c;

	if (s->entered > 1 || !s->freeing) {
		s->entered--;
		return 0;
	}
	while ((c = take_all(s)) != NULL)
		report(s, c, -ECANCELED, "store closed with commits pending");
	s->entered = 0;
	really_free(s);
	return 1;
}

static void arm_watchdog(struct store *s)
{
	struct timeval tv = { s->timeout_ms / 1000, (s->timeout_ms % 1000) * 1000 };

	if (s->nqueue + s->nflight > 0)
		evtimer_add(s->watchdog, &tv);
	else
		evtimer_del(s->watchdog);
}

static void flush(struct store *s);

/* The group in flight is durable (rc == 0): report it, start the next. */
static void complete_group(struct store *s)
{
	struct commit *c = s->flight;

	if (s->obs.exec != NULL)
		s->obs.exec(s->obs.arg, s->nflight, now_s() - s->flight_t0);
	s->flight = NULL;
	s->nflight = 0;
	s->entered++;
	report(s, c, 0, NULL);
	if (leave(s))
		return;
	flush(s);
	arm_watchdog(s);
}

/* Fail-stop: every pending commit fails with rc, later ones are refused. */
__attribute__((format(printf, 3, 4)))
static void fail_all(struct store *s, int rc, const char *fmt, ...)
{
	va_list ap;

	if (!s->failed) {
		va_start(ap, fmt);
		vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
		va_end(ap);
		s->failed = 1;
		s->failrc = rc;
	}
	evtimer_del(s->watchdog);
	evtimer_del(s->retry);
	s->entered++;
	report(s, take_all(s), s->failrc, s->errmsg);
	leave(s);
}

/* Forget the async link (from anywhere, hiredis callbacks included). */
static void drop_link(struct store *s)
{
	if (s->ac != NULL) {
		s->ac->data = NULL;
		redisAsyncFree(s->ac);
		s->ac = NULL;
	}
	s->connected = 0;
}

/* Fail-stop from a place that must neither run callbacks (store_commit) nor
 * free the link (hiredis's connect callback): the link is dropped and the
 * pending commits fail on the next loop iteration. */
static void fail_later(struct store *s, int rc, const char *why)
{
	struct timeval zero = { 0, 0 };

	if (!s->failed) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", why);
		s->failed = 1;
		s->failrc = rc;
	}
	evtimer_add(s->tick, &zero);
}

static void on_exec(redisAsyncContext *ac, void *r, void *priv)
{
	struct store *s = ac->data;
	redisReply *rep = r;

	if (s == NULL)
		return;                         /* the store let go of this link */
	if (rep == NULL) {
		fail_all(s, -EIO, "redis link lost with a transaction in flight: %s",
			 ac->errstr[0] ? ac->errstr : "disconnected");
		return;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		fail_all(s, -EIO, "redis refused the transaction: %s", rep->str);
		return;
	}
	if (rep->type != REDIS_REPLY_ARRAY) {
		fail_all(s, -EIO, "redis aborted the transaction");
		return;
	}
	for (size_t i = 0; i < rep->elements; i++)
		if (rep->element[i]->type == REDIS_REPLY_ERROR) {
			/* Redis does not roll back: part of the group is applied. */
			fail_all(s, -EIO, "redis failed a command inside the transaction: %s",
				 rep->element[i]->str);
			return;
		}
	complete_group(s);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct store *s = arg;
	size_t off;
	int argc, rc = 0;

	if (s->failed) {
		drop_link(s);
		fail_all(s, s->failrc, "%s", s->errmsg);
		return;
	}
	if (s->flight == NULL)
		return;
	if (s->memory) {
		for (struct commit *c = s->flight; c != NULL && rc == 0; c = c->next) {
			off = 0;
			while (rc == 0 && (argc = cb_next(&c->cmds, &off, &s->argv)) != 0)
				rc = argc < 0 ? argc : mem_exec(s->mem, argc, s->argv.v, s->argv.l);
		}
		if (rc < 0) {
			fail_all(s, rc, "memory store: a command failed (%s)", strerror(-rc));
			return;
		}
	}
	complete_group(s);
}

/* Send the queue as the next group, unless one is in flight. */
static void flush(struct store *s)
{
	struct timeval zero = { 0, 0 };
	char why[ERR_MSG_MAX];
	size_t ncmd = 0, off;
	int argc;

	if (s->failed || s->flight != NULL || s->queue == NULL)
		return;
	if (!s->memory && (s->ac == NULL || !s->connected))
		return;                         /* on_connect flushes */
	*s->qtail = NULL;
	s->flight = s->queue;
	s->nflight = s->nqueue;
	s->queue = NULL;
	s->qtail = &s->queue;
	s->nqueue = 0;
	s->stats.groups++;
	s->flight_t0 = now_s();
	if (s->nflight > s->stats.max_group)
		s->stats.max_group = s->nflight;
	for (struct commit *c = s->flight; c != NULL; c = c->next)
		ncmd += c->cmds.ncmd;
	if (s->memory || ncmd == 0) {
		evtimer_add(s->tick, &zero);    /* complete on the next loop iteration */
		return;
	}
	if (redisAsyncCommand(s->ac, NULL, NULL, "MULTI") != REDIS_OK)
		goto fail;
	for (struct commit *c = s->flight; c != NULL; c = c->next) {
		off = 0;
		while ((argc = cb_next(&c->cmds, &off, &s->argv)) > 0)
			if (redisAsyncCommandArgv(s->ac, NULL, NULL, argc, s->argv.v,
						  s->argv.l) != REDIS_OK)
				goto fail;
		if (argc < 0)
			goto fail;
	}
	if (redisAsyncCommand(s->ac, on_exec, NULL, "EXEC") != REDIS_OK)
		goto fail;
	return;
fail:
	/* A half-sent MULTI must not be continued: the link goes too (a MULTI
	 * without EXEC applies nothing). */
	snprintf(why, sizeof(why), "redis: cannot send a transaction: %s",
		 s->ac->errstr[0] ? s->ac->errstr : "link unusable or out of memory");
	fail_later(s, -EIO, why);
}

static int async_open(struct store *s);

static void retry_later(struct store *s, const char *why)
{
	struct timeval tv;
	unsigned ms;

	if (++s->attempts > s->max_reconnect) {
		fail_all(s, -EIO, "redis unreachable after %u attempts: %s", s->max_reconnect, why);
		return;
	}
	ms = 100u << (s->attempts - 1 < 6 ? s->attempts - 1 : 6);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(s->retry, &tv);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct store *s = arg;

	if (s->failed || s->ac != NULL)
		return;
	if (async_open(s) < 0)
		retry_later(s, s->errmsg[0] ? s->errmsg : "connect failed");
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct store *s = ac->data;

	if (s == NULL)
		return;
	if (status != REDIS_OK) {
		s->ac = NULL;                   /* hiredis frees it after this returns */
		s->connected = 0;
		retry_later(s, ac->errstr);
		return;
	}
	if (s->ever_connected)
		s->stats.reconnects++;
	s->ever_connected = 1;
	s->attempts = 0;
	s->connected = 1;
	flush(s);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	struct store *s = ac->data;

	if (s == NULL)
		return;
	s->ac = NULL;                           /* hiredis frees it after this returns */
	s->connected = 0;
	if (s->failed)
		return;
	if (s->flight != NULL || s->queue != NULL) {
		fail_all(s, -EIO, "redis link lost with commits pending: %s",
			 ac->errstr[0] ? ac->errstr : "disconnected");
		return;
	}
	retry_later(s, ac->errstr[0] ? ac->errstr : "disconnected");
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	struct store *s = arg;

	if (s->nqueue + s->nflight == 0)
		return;
	drop_link(s);
	fail_all(s, -ETIMEDOUT, "redis did not confirm a commit within %u ms", s->timeout_ms);
}

static int async_open(struct store *s)
{
	redisAsyncContext *ac = s->unix_path ? redisAsyncConnectUnix(s->unix_path)
					     : redisAsyncConnect(s->host, s->port);

	if (ac == NULL) {
		snprintf(s->errmsg, sizeof(s->errmsg), "out of memory");
		return -ENOMEM;
	}
	if (ac->err) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", ac->errstr);
		redisAsyncFree(ac);
		return -ECONNREFUSED;
	}
	ac->data = s;
	if (redisLibeventAttach(ac, s->base) != REDIS_OK) {
		redisAsyncFree(ac);
		snprintf(s->errmsg, sizeof(s->errmsg), "cannot attach to the event loop");
		return -EINVAL;
	}
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	s->ac = ac;
	s->connected = 0;
	s->errmsg[0] = 0;
	return 0;
}

int store_commit(struct store *s, const struct store_batch *b, store_done_fn done, void *arg)
{
	struct commit *c;
	int rc;

	if (s->failed || s->freeing || s->sync_only)
		return -EIO;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	if ((rc = build_commit(s, b, &c->cmds)) < 0 || c->cmds.oom) {
		free_commit(c);
		return rc < 0 ? rc : -ENOMEM;
	}
	c->done = done;
	c->arg = arg;
	c->t0 = now_s();
	*s->qtail = c;
	s->qtail = &c->next;
	s->nqueue++;
	s->stats.commits++;
	if (!evtimer_pending(s->watchdog, NULL))
		arm_watchdog(s);
	if (s->entered == 0)
		flush(s);       /* inside callbacks, complete_group flushes once after */
	return 0;
}

size_t store_pending(const struct store *s)
{
	return s->nqueue + s->nflight;
}

const char *store_error(const struct store *s)
{
	return s->failed ? s->errmsg : NULL;
}

void store_get_stats(const struct store *s, struct store_stats *st)
{
	*st = s->stats;
}

void store_set_observer(struct store *s, const struct store_observer *o)
{
	if (o != NULL)
		s->obs = *o;
	else
		memset(&s->obs, 0, sizeof(s->obs));
}

int store_is_memory(const struct store *s)
{
	return s->memory;
}

/* ---- life cycle --------------------------------------------------------- */

static int parse_target(struct store *s, const char *t, struct err *e)
{
	const char *colon;

	if (t == NULL || *t == 0)
		return err_set(e, -EINVAL, "store: no target (want unix:/path, host:port or memory)");
	if ((s->target = strdup(t)) == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	if (strcmp(t, "memory") == 0) {
		s->memory = 1;
		return 0;
	}
	if (strncmp(t, "unix:", 5) == 0) {
		if (t[5] == 0)
			return err_set(e, -EINVAL, "store: \"%s\": no socket path", t);
		return (s->unix_path = strdup(t + 5)) ? 0 : err_set(e, -ENOMEM, "out of memory");
	}
	colon = strrchr(t, ':');
	if (colon == NULL || colon == t || colon[1] == 0)
		return err_set(e, -EINVAL, "store: target \"%s\" is not unix:/path, host:port "
			       "or memory", t);
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end != 0 || port <= 0 || port > 65535)
		return err_set(e, -EINVAL, "store: bad port in \"%s\"", t);
	const char *h = t;
	size_t hl = (size_t)(colon - t);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {       /* [::1]:6379 */
		h++;
		hl -= 2;
	}
	if ((s->host = strndup(h, hl)) == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	s->port = (int)port;
	return 0;
}

struct store *store_new(const struct store_options *o, struct err *e)
{
	struct store *s = calloc(1, sizeof(*s));
	int have;

	if (s == NULL) {
		err_set(e, -ENOMEM, "store: out of memory");
		return NULL;
	}
	s->qtail = &s->queue;
	s->base = o->base;
	s->journal_max = o->journal_max ? o->journal_max : 10000;
	s->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;
	s->max_reconnect = o->max_reconnect ? o->max_reconnect : 5;
	s->sync_only = o->sync_only;
	if (parse_target(s, o->target, e) < 0)
		goto fail;
	if (s->sync_only) {
		/* the blocking link only, and only on a schema this code reads */
		if (s->memory && (s->mem = calloc(1, sizeof(*s->mem))) == NULL) {
			err_set(e, -ENOMEM, "store: out of memory");
			goto fail;
		}
		if (!s->memory) {
			struct sigaction psa;

			if (sigaction(SIGPIPE, NULL, &psa) == 0 && psa.sa_handler == SIG_DFL)
				signal(SIGPIPE, SIG_IGN);
			if (check_schema(s, &have, e) < 0)
				goto fail;
		}
		return s;
	}
	if (s->base == NULL) {
		err_set(e, -EINVAL, "store: no event base");
		goto fail;
	}
	s->retry = evtimer_new(s->base, on_retry, s);
	s->watchdog = evtimer_new(s->base, on_watchdog, s);
	s->tick = evtimer_new(s->base, on_tick, s);
	if (s->retry == NULL || s->watchdog == NULL || s->tick == NULL) {
		err_set(e, -ENOMEM, "store: out of memory");
		goto fail;
	}
	if (s->memory) {
		if ((s->mem = calloc(1, sizeof(*s->mem))) == NULL) {
			err_set(e, -ENOMEM, "store: out of memory");
			goto fail;
		}
		return s;
	}
	/* hiredis writes with write(2): a link Redis dropped must fail a
	 * commit, not kill the mds with SIGPIPE. */
	struct sigaction sa;
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	if (check_schema(s, &have, e) < 0)
		goto fail;
	if (!o->allow_volatile && check_durable(s, e) < 0)
		goto fail;
	if (async_open(s) < 0) {
		err_set(e, -ECONNREFUSED, "store: redis: %s", s->errmsg);
		goto fail;
	}
	return s;
fail:
	really_free(s);
	return NULL;
}

static void really_free(struct store *s)
{
	drop_link(s);
	if (s->sync)
		redisFree(s->sync);
	if (s->retry)
		event_free(s->retry);
	if (s->watchdog)
		event_free(s->watchdog);
	if (s->tick)
		event_free(s->tick);
	memdb_free(s->mem);
	free(s->argv.v);
	free(s->argv.l);
	free(s->types);
	free(s->unix_path);
	free(s->host);
	free(s->target);
	free(s);
}

void store_free(struct store *s)
{
	if (s == NULL || s->freeing)
		return;
	s->freeing = 1;
	if (s->entered > 0)
		return;                         /* the outermost callback frees it */
	/* Pending commits are not known to be durable: they fail (leave()). */
	s->entered++;
	leave(s);
}
