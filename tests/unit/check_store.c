/* Unit tests for mds/store, mds/refs and mds/journal. The store cases run a
 * real private redis-server per test (temp dir, unix socket, AOF with
 * appendfsync always), killed on every exit path; the same sequences run on
 * the "memory" target must leave the same state. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_main.h"
#include "hash.h"
#include "journal.h"
#include "refs.h"
#include "store.h"
#include "wire.h"
#include "zone.h"

#define ORIGIN "fs.test."
#define REFS_KEY "dnsfs:v1:z:" ORIGIN ":refs"

/* ---- a private redis-server --------------------------------------------- */

static char rroot[64];                  /* per tcase, made and removed by the parent */
static char rdir[80];                   /* per test: socket, AOF, log */
static char rsock[108];                 /* fits sun_path */
static int rport;                       /* TCP port, 0: unix socket only */
static pid_t rpid = -1;
static struct event_base *base;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

static void redis_kill(void)
{
	if (rpid > 0) {
		kill(rpid, SIGKILL);
		waitpid(rpid, NULL, 0);
		rpid = -1;
	}
}

static void redis_cleanup(void)
{
	redis_kill();
	if (rdir[0] != 0)
		nftw(rdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	rdir[0] = 0;
}

/* Unchecked fixture, in Check's parent process: whatever a crashed test left
 * under the root goes with it (its redis died with it: PR_SET_PDEATHSIG). */
static void root_setup(void)
{
	/* /tmp, not $TMPDIR: a unix socket path must stay short */
	snprintf(rroot, sizeof(rroot), "/tmp/check_store.XXXXXX");
	if (mkdtemp(rroot) == NULL)
		rroot[0] = 0;
}

static void root_teardown(void)
{
	if (rroot[0] != 0)
		nftw(rroot, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	rroot[0] = 0;
}

/* One inline command, one reply (status, integer, error or bulk) into out. */
static int redis_raw(const char *cmd, char *out, size_t outlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t got = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", rsock);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd) || write(fd, "\r\n", 2) != 2) {
		close(fd);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, out + got, outlen - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		out[got] = 0;
		char *eol = strstr(out, "\r\n");
		if (eol == NULL)
			continue;
		if (out[0] != '$')
			break;
		long len = atol(out + 1);
		if (len < 0 || (size_t)(eol + 2 - out) + (size_t)len + 2 <= got || got == outlen - 1)
			break;
	}
	out[got] = 0;
	close(fd);
	return got > 0 ? 0 : -1;
}

static void redis_start(int keep_data)
{
	char buf[64], log[128], port[16];
	pid_t parent = getpid();

	if (!keep_data) {
		ck_assert_msg(rroot[0] != 0, "no temp root");
		snprintf(rdir, sizeof(rdir), "%s/t.XXXXXX", rroot);
		ck_assert_ptr_nonnull(mkdtemp(rdir));
		snprintf(rsock, sizeof(rsock), "%s/redis.sock", rdir);
	}
	snprintf(log, sizeof(log), "%s/redis.log", rdir);
	snprintf(port, sizeof(port), "%d", rport);
	rpid = fork();
	ck_assert_int_ge(rpid, 0);
	if (rpid == 0) {
		/* Die with the test process, whatever way it ends. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--unixsocket", rsock, "--unixsocketperm", "700", "--dir", rdir,
		       "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		       "--daemonize", "no", "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {         /* up to 5 s */
		if (redis_raw("PING", buf, sizeof(buf)) == 0 && strncmp(buf, "+PONG", 5) == 0)
			return;
		if (waitpid(rpid, NULL, WNOHANG) == rpid) {
			rpid = -1;
			ck_abort_msg("redis-server exited at start; see %s", log);
		}
		usleep(10000);
	}
	ck_abort_msg("redis-server did not answer on %s", rsock);
}

static void target_unix(char *buf, size_t len)
{
	snprintf(buf, len, "unix:%s", rsock);
}

/* EXEC calls Redis has served (INFO commandstats). */
static long redis_exec_calls(void)
{
	static char info[65536];
	char *p;

	ck_assert_int_eq(redis_raw("INFO commandstats", info, sizeof(info)), 0);
	p = strstr(info, "cmdstat_exec:calls=");
	return p ? atol(p + strlen("cmdstat_exec:calls=")) : 0;
}

static void setup_base(void)
{
	base = event_base_new();
	ck_assert_ptr_nonnull(base);
}

static void teardown_base(void)
{
	event_base_free(base);
	base = NULL;
}

static void setup_redis(void)
{
	static int registered;

	if (!registered) {
		atexit(redis_cleanup);          /* a failed assertion exits the test */
		registered = 1;
	}
	rport = 0;
	redis_start(0);
	setup_base();
}

static void teardown_redis(void)
{
	teardown_base();
	redis_cleanup();
}

/* Run the loop in 10 ms slices until cond() or ms pass; returns cond(). */
static int loop_until(int (*cond)(void *), void *arg, int ms)
{
	struct timeval slice = { 0, 10000 };

	for (int t = 0; t < ms; t += 10) {
		if (cond(arg))
			return 1;
		event_base_loopexit(base, &slice);
		event_base_dispatch(base);
	}
	return cond(arg);
}

static int store_idle(void *arg)
{
	return store_pending(arg) == 0;
}

/* ---- zones built by hand ------------------------------------------------ */

static struct wire_name nm(const char *text)
{
	struct wire_name n;
	struct err e = {0};

	ck_assert_msg(wire_name_from_text(&n, text, &e) == 0, "%s: %s", text, e.msg);
	wire_name_lower(&n);
	return n;
}

static size_t put_name(uint8_t *p, const char *text)
{
	struct wire_name n = nm(text);

	memcpy(p, n.b, n.len);
	return n.len;
}

static uint16_t soa_rdata(uint8_t *buf, uint32_t serial)
{
	size_t n = put_name(buf, "ns." ORIGIN);
	const uint32_t v[5] = { serial, 3600, 600, 86400, 1 };

	n += put_name(buf + n, "admin." ORIGIN);
	for (int i = 0; i < 5; i++) {
		buf[n++] = (uint8_t)(v[i] >> 24);
		buf[n++] = (uint8_t)(v[i] >> 16);
		buf[n++] = (uint8_t)(v[i] >> 8);
		buf[n++] = (uint8_t)v[i];
	}
	return (uint16_t)n;
}

/* TXT rdata of one logical text, cut into 255-byte strings (anywhere, even
 * inside a token: the reader joins them). */
static uint16_t txt_rdata(uint8_t *buf, const char *text, size_t cut)
{
	size_t len = strlen(text), n = 0;

	do {
		size_t l = len > cut ? cut : len;
		buf[n++] = (uint8_t)l;
		memcpy(buf + n, text, l);
		n += l;
		text += l;
		len -= l;
	} while (len > 0);
	return (uint16_t)n;
}

static void add_rr(struct zone_txn *t, const char *owner, uint16_t type, uint32_t ttl,
		   const uint8_t *rd, uint16_t rdlen)
{
	struct wire_name n = nm(owner);

	ck_assert_int_eq(zone_txn_add_rr(t, &n, type, ttl, rd, rdlen), 0);
}

/* Replace the TXT rrset of owner by one RR (text NULL: delete it). */
static void put_txt(struct zone_txn *t, const char *owner, const char *text)
{
	struct wire_name n = nm(owner);
	uint8_t rd[4096];

	ck_assert_int_eq(zone_txn_del_rrset(t, &n, WIRE_T_TXT), 0);
	if (text != NULL)
		add_rr(t, owner, WIRE_T_TXT, 300, rd, txt_rdata(rd, text, 255));
}

static void bump_serial(struct zone_txn *t)
{
	struct wire_name apex = nm(ORIGIN);
	struct zone_rrset *soa = zone_txn_get(t, &apex, WIRE_T_SOA);
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0, serial, ttl;
	uint8_t buf[600];

	ck_assert_ptr_nonnull(soa);
	ttl = soa->ttl;
	ck_assert(zone_rrset_next(soa, &off, &rd, &rdlen));
	memcpy(buf, rd, rdlen);
	ck_assert_int_eq(wire_soa_serial(buf, rdlen, &serial), 0);
	ck_assert_int_eq(wire_soa_set_serial(buf, rdlen, serial + 1), 0);
	ck_assert_int_eq(zone_txn_del_rrset(t, &apex, WIRE_T_SOA), 0);
	ck_assert_int_eq(zone_txn_add_rr(t, &apex, WIRE_T_SOA, ttl, buf, rdlen), 0);
}

static void hash_hex_of(char hex[HASH_HEX_LEN + 1], const char *what, int i)
{
	char buf[64];
	struct hash h;

	snprintf(buf, sizeof(buf), "%s-%d", what, i);
	hash_buf(&h, buf, strlen(buf));
	hash_to_hex(&h, hex);
}

static void hash_of(struct hash *h, const char *what, int i)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex_of(hex, what, i);
	ck_assert_int_eq(hash_from_hex(h, hex, HASH_HEX_LEN), 0);
}

/* An inode text referencing block hashes "blk-<a>" and "blk-<b>" (b < 0: one). */
static void inode_text(char *buf, size_t len, int a, int b)
{
	char ha[HASH_HEX_LEN + 1], hb[HASH_HEX_LEN + 1];
	int n;

	hash_hex_of(ha, "blk", a);
	/* valid for lib/record, so refs walks it with the codec */
	n = snprintf(buf, len, "v=1 type=f mode=0644 uid=0 gid=0 nlink=1 size=8192 "
		     "mtime=1.000000000 ctime=1.000000000 atime=1.000000000 ver=1 rep=3 "
		     "b=0:4096:%s", ha);
	if (b >= 0) {
		hash_hex_of(hb, "blk", b);
		snprintf(buf + n, len - (size_t)n, " b=4096:4096:%s", hb);
	}
}

/* A fresh zone: SOA, NS, an A record, a dentry CNAME, a few inodes. */
static struct zone *make_zone(uint32_t serial)
{
	struct wire_name apex = nm(ORIGIN);
	struct zone *z = zone_new(&apex);
	struct zone_txn t;
	uint8_t rd[2048];
	char text[1024];
	size_t n;

	ck_assert_ptr_nonnull(z);
	zone_txn_begin(&t, z);
	add_rr(&t, ORIGIN, WIRE_T_SOA, 3600, rd, soa_rdata(rd, serial));
	n = put_name(rd, "ns." ORIGIN);
	add_rr(&t, ORIGIN, WIRE_T_NS, 3600, rd, (uint16_t)n);
	memcpy(rd, "\x7f\x00\x00\x01", 4);
	add_rr(&t, "ns." ORIGIN, WIRE_T_A, 3600, rd, 4);
	memcpy(rd, "\x7f\x00\x00\x02", 4);
	add_rr(&t, "ns." ORIGIN, WIRE_T_A, 3600, rd, 4);
	n = put_name(rd, "2.i." ORIGIN);
	add_rr(&t, "0123456789abcdef0123456789abcdef.1.d." ORIGIN, WIRE_T_CNAME, 1, rd,
	       (uint16_t)n);
	add_rr(&t, "1.i." ORIGIN, WIRE_T_TXT, 1, rd,
	       txt_rdata(rd, "v=1 type=d mode=0755 uid=0 gid=0 nlink=2 buckets=1", 255));
	inode_text(text, sizeof(text), 1, 2);
	add_rr(&t, "2.i." ORIGIN, WIRE_T_TXT, 1, rd, txt_rdata(rd, text, 40));
	inode_text(text, sizeof(text), 1, -1);     /* blk-1 twice in the zone */
	add_rr(&t, "3.i." ORIGIN, WIRE_T_TXT, 1, rd, txt_rdata(rd, text, 255));
	/* a binary-safe rdata: every byte value */
	for (int i = 0; i < 256; i++)
		rd[i] = (uint8_t)i;
	add_rr(&t, "bin." ORIGIN, 65280, 60, rd, 256);
	/* an owner whose label holds a space, a dot, NUL and 0xff: the hash
	 * field's text form must come back to the same name */
	struct wire_name odd = nm("bin." ORIGIN);
	ck_assert_int_eq(wire_name_prepend(&odd, "we ird.\0\xff", 9), 0);
	ck_assert_int_eq(zone_txn_add_rr(&t, &odd, WIRE_T_TXT, 60, rd, txt_rdata(rd, "odd", 255)), 0);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	zone_txn_release(&t);
	ck_assert_uint_eq(z->serial, serial);
	return z;
}

static struct zone *the_zone(struct zoneset *zs)
{
	struct wire_name apex = nm(ORIGIN);
	struct zone *z = zoneset_find_apex(zs, &apex);

	ck_assert_ptr_nonnull(z);
	return z;
}

/* ---- comparing zones ---------------------------------------------------- */

struct cmp_ctx {
	const struct zone *other;
	size_t sets;
};

static void cmp_set(const struct wire_name *name, const struct zone_rrset *set, void *arg)
{
	struct cmp_ctx *c = arg;
	char text[1024];
	struct zone_node *n = zone_find(c->other, name);
	struct zone_rrset *o = n ? zone_node_rrset(n, set->type) : NULL;

	wire_name_to_text(name, text, sizeof(text));
	ck_assert_msg(o != NULL, "%s %s missing after reload", text, wire_type_name(set->type));
	ck_assert_msg(zone_rrset_equal(set, o) && set->ttl == o->ttl && set->count == o->count,
		      "%s %s differs after reload", text, wire_type_name(set->type));
	c->sets++;
}

static size_t zone_compare_one_way(const struct zone *a, const struct zone *b)
{
	struct cmp_ctx c = { b, 0 };

	zone_foreach(a, cmp_set, &c);
	return c.sets;
}

static void zone_compare(const struct zone *a, const struct zone *b)
{
	ck_assert_uint_eq(a->serial, b->serial);
	ck_assert_uint_eq(a->nrecords, b->nrecords);
	ck_assert_uint_eq(zone_compare_one_way(a, b), zone_compare_one_way(b, a));
}

/* ---- the mds's commit path, by hand -------------------------------------- */

struct mds {
	struct zone *z;
	struct refs *refs;
	struct store *s;
};

/* Outcomes of commits, by commit number. */
#define MAXC 4096
static int outcome[MAXC];               /* 1 ok, -errno failed, 0 pending */
static int order[MAXC], norder;         /* callback order */
static int nacked;                      /* callbacks with rc 0 */
static int in_commit;                   /* set while store_commit runs */

static void on_done(void *arg, int rc, const char *msg)
{
	int i = (int)(intptr_t)arg;

	ck_assert_msg(!in_commit, "callback ran inside store_commit");
	ck_assert_int_eq(outcome[i], 0);
	outcome[i] = rc == 0 ? 1 : rc;
	nacked += rc == 0;
	if (rc < 0)
		ck_assert_ptr_nonnull(msg);
	order[norder++] = i;
}

static void reset_outcomes(void)
{
	memset(outcome, 0, sizeof(outcome));
	norder = 0;
	nacked = 0;
}

typedef void (*edit_fn)(struct zone_txn *t, void *arg);

/* One UPDATE as the mds runs it: txn, serial bump, commit, refs, store. */
static int mds_change(struct mds *m, edit_fn edit, void *arg, int id)
{
	struct zone_txn t;
	struct store_ref *out;
	size_t nout;
	struct err e = {0};
	uint32_t from = m->z->serial;
	int rc;

	zone_txn_begin(&t, m->z);
	edit(&t, arg);
	bump_serial(&t);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_msg(refs_apply(m->refs, m->z, t.changes, t.n, &out, &nout, &e) == 0, "%s",
		      e.msg);
	struct store_batch b = { .z = m->z, .serial_from = from, .serial_to = m->z->serial,
				 .changes = t.changes, .nchanges = t.n, .refs = out,
				 .nrefs = nout };
	uint8_t *blob = NULL;
	if (id % 2 == 1) {      /* as the mds does: encode once, for its ring and the store */
		ck_assert_int_eq(journal_encode(from, m->z->serial, t.changes, t.n, &blob,
						&b.journal_len, NULL), 0);
		b.journal = blob;
	}
	in_commit = 1;
	rc = store_commit(m->s, &b, on_done, (void *)(intptr_t)id);
	in_commit = 0;
	free(blob);
	free(out);
	zone_txn_release(&t);
	return rc;
}

struct inode_edit {
	int ino;
	int a, b;                       /* blocks; a < 0: delete the inode */
};

static void edit_inode(struct zone_txn *t, void *arg)
{
	struct inode_edit *ie = arg;
	char owner[64], text[1024];

	snprintf(owner, sizeof(owner), "%d.i." ORIGIN, ie->ino);
	if (ie->a < 0) {
		put_txt(t, owner, NULL);
		return;
	}
	inode_text(text, sizeof(text), ie->a, ie->b);
	put_txt(t, owner, text);
}

static void mds_open(struct mds *m, const char *target, uint32_t serial)
{
	struct store_options o = { .target = target, .base = base };
	struct err e = {0};

	m->z = make_zone(serial);
	ck_assert_int_eq(refs_rebuild(&m->refs, m->z, &e), 0);
	m->s = store_new(&o, &e);
	ck_assert_msg(m->s != NULL, "store_new(%s): %s", target, e.msg);
	ck_assert_msg(store_create_zone(m->s, m->z, m->refs, &e) == 0, "%s", e.msg);
}

static void mds_close(struct mds *m)
{
	store_free(m->s);
	refs_free(m->refs);
	zone_free(m->z);
	memset(m, 0, sizeof(*m));
}

/* Load everything from a store into a fresh zoneset and compare with z. */
static void reload_compare(struct store *s, const struct zone *z)
{
	struct zoneset zs = {0};
	struct err e = {0};

	ck_assert_msg(store_load(s, &zs, &e) == 0, "store_load: %s", e.msg);
	ck_assert_uint_eq(zs.n, 1);
	zone_compare(z, the_zone(&zs));
	zoneset_release(&zs);
}

/* ==== journal ============================================================ */

static int count_rr(const struct journal_diff *d, const char *owner, uint16_t type,
		    uint32_t ttl, int deleted)
{
	struct journal_cursor cur = {0};
	struct journal_rr rr;
	struct wire_name n = nm(owner);
	int del, hits = 0;

	while (journal_diff_next(d, &cur, &rr, &del))
		if (del == deleted && rr.type == type && rr.ttl == ttl &&
		    wire_name_equal(&rr.owner, &n))
			hits++;
	return hits;
}

static void edit_mixed(struct zone_txn *t, void *arg)
{
	uint8_t rd[512];
	struct wire_name n = nm("ns." ORIGIN);

	/* A set {127.0.0.1, .2} -> {.2, .3}: one deleted, one added */
	ck_assert_int_eq(zone_txn_del_rr(t, &n, WIRE_T_A, (const uint8_t *)"\x7f\x00\x00\x01", 4), 0);
	add_rr(t, "ns." ORIGIN, WIRE_T_A, 3600, (const uint8_t *)"\x7f\x00\x00\x03", 4);
	/* TTL change of the CNAME: delete + add of the same rdata */
	size_t l = put_name(rd, "2.i." ORIGIN);
	struct wire_name d = nm("0123456789abcdef0123456789abcdef.1.d." ORIGIN);
	ck_assert_int_eq(zone_txn_del_rrset(t, &d, WIRE_T_CNAME), 0);
	ck_assert_int_eq(zone_txn_add_rr(t, &d, WIRE_T_CNAME, 5, rd, (uint16_t)l), 0);
	/* a deleted rrset and a new one */
	put_txt(t, "3.i." ORIGIN, NULL);
	put_txt(t, "9.i." ORIGIN, "v=1 type=f size=0");
}

START_TEST(test_journal_codec)
{
	struct zone *z = make_zone(100);
	struct zone_txn t;
	struct journal_diff d;
	struct journal_cursor cur = {0};
	struct journal_rr rr;
	struct err e = {0};
	uint8_t *blob;
	size_t len;
	int del;

	zone_txn_begin(&t, z);
	edit_mixed(&t, NULL);
	bump_serial(&t);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_int_eq(journal_encode(100, 101, t.changes, t.n, &blob, &len, &e), 0);
	ck_assert_int_eq(journal_decode(&d, blob, len, &e), 0);
	ck_assert_uint_eq(d.serial_from, 100);
	ck_assert_uint_eq(d.serial_to, 101);
	/* deleted: SOA 100, A .1, CNAME ttl 1, TXT of 3; added: SOA 101, A .3,
	 * CNAME ttl 5, TXT of 9 */
	ck_assert_uint_eq(d.ndel, 4);
	ck_assert_uint_eq(d.nadd, 4);
	ck_assert_int_eq(count_rr(&d, "ns." ORIGIN, WIRE_T_A, 3600, 1), 1);
	ck_assert_int_eq(count_rr(&d, "ns." ORIGIN, WIRE_T_A, 3600, 0), 1);
	ck_assert_int_eq(count_rr(&d, "0123456789abcdef0123456789abcdef.1.d." ORIGIN,
				  WIRE_T_CNAME, 1, 1), 1);
	ck_assert_int_eq(count_rr(&d, "0123456789abcdef0123456789abcdef.1.d." ORIGIN,
				  WIRE_T_CNAME, 5, 0), 1);
	ck_assert_int_eq(count_rr(&d, "3.i." ORIGIN, WIRE_T_TXT, 1, 1), 1);
	ck_assert_int_eq(count_rr(&d, "9.i." ORIGIN, WIRE_T_TXT, 300, 0), 1);
	/* the SOA leads each section, with the old and the new serial */
	for (uint32_t i = 0; journal_diff_next(&d, &cur, &rr, &del); i++) {
		uint32_t serial;
		if (i != 0 && i != d.ndel)
			continue;
		ck_assert_uint_eq(rr.type, WIRE_T_SOA);
		ck_assert_int_eq(del, i == 0);
		ck_assert_int_eq(wire_soa_serial(rr.rdata, rr.rdlen, &serial), 0);
		ck_assert_uint_eq(serial, i == 0 ? 100 : 101);
	}
	/* every truncation, a bad magic, a bad version, a trailing byte */
	for (size_t l = 0; l < len; l++)
		ck_assert_int_eq(journal_decode(&d, blob, l, &e), -EBADMSG);
	uint8_t *bad = malloc(len + 1);
	memcpy(bad, blob, len);
	bad[len] = 0;
	ck_assert_int_eq(journal_decode(&d, bad, len + 1, &e), -EBADMSG);
	ck_assert(strstr(e.msg, "after the last RR") != NULL);
	bad[1] = 9;
	ck_assert_int_eq(journal_decode(&d, bad, len, &e), -EBADMSG);
	ck_assert(strstr(e.msg, "version") != NULL);
	bad[0] = 'X';
	ck_assert_int_eq(journal_decode(&d, bad, len, &e), -EBADMSG);
	free(bad);
	free(blob);
	zone_txn_release(&t);
	zone_free(z);
}
END_TEST

/* A minimal diff blob from -> to (no RRs). */
static size_t tiny_blob(uint8_t *b, uint32_t from, uint32_t to)
{
	struct zone_change none;
	uint8_t *p;
	size_t len;

	memset(&none, 0, sizeof(none));
	ck_assert_int_eq(journal_encode(from, to, &none, 0, &p, &len, NULL), 0);
	memcpy(b, p, len);
	free(p);
	return len;
}

struct chain {
	uint32_t from[64], to[64];
	int n;
};

static int chain_step(const uint8_t *blob, size_t len, void *arg)
{
	struct chain *c = arg;
	struct journal_diff d;

	ck_assert_int_eq(journal_decode(&d, blob, len, NULL), 0);
	c->from[c->n] = d.serial_from;
	c->to[c->n++] = d.serial_to;
	return 0;
}

static int stop_at_two(const uint8_t *blob, size_t len, void *arg)
{
	return ++*(int *)arg == 2 ? 42 : 0;
}

START_TEST(test_journal_ring)
{
	struct journal *j = journal_new(8, 0);
	struct chain c = {0};
	uint8_t b[64];
	uint32_t s;
	int calls = 0;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(journal_since(j, 1, chain_step, &c), -ENOENT);
	ck_assert_int_eq(journal_last_serial(j, &s), -ENOENT);
	for (uint32_t i = 1; i <= 20; i++)
		ck_assert_int_eq(journal_add(j, b, tiny_blob(b, i, i + 1), NULL), 0);
	ck_assert_uint_eq(journal_count(j), 8);         /* 13->14 ... 20->21 */
	ck_assert_int_eq(journal_first_serial(j, &s), 0);
	ck_assert_uint_eq(s, 13);
	ck_assert_int_eq(journal_last_serial(j, &s), 0);
	ck_assert_uint_eq(s, 21);
	ck_assert_int_eq(journal_since(j, 12, chain_step, &c), -ENOENT);   /* evicted */
	ck_assert_int_eq(journal_since(j, 99, chain_step, &c), -ENOENT);   /* unknown */
	ck_assert_int_eq(journal_since(j, 21, chain_step, &c), 0);         /* current */
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(journal_since(j, 16, chain_step, &c), 0);
	ck_assert_int_eq(c.n, 5);
	for (int i = 0; i < c.n; i++) {
		ck_assert_uint_eq(c.from[i], 16 + (uint32_t)i);
		ck_assert_uint_eq(c.to[i], 17 + (uint32_t)i);
	}
	ck_assert_int_eq(journal_since(j, 13, stop_at_two, &calls), 42);
	/* serial wrap-around is just another step */
	journal_free(j);
	j = journal_new(4, 0);
	ck_assert_int_eq(journal_add(j, b, tiny_blob(b, 0xffffffffu, 0), NULL), 0);
	ck_assert_int_eq(journal_add(j, b, tiny_blob(b, 0, 1), NULL), 0);
	c.n = 0;
	ck_assert_int_eq(journal_since(j, 0xffffffffu, chain_step, &c), 0);
	ck_assert_int_eq(c.n, 2);
	/* a gap breaks the chain: older diffs are dropped */
	ck_assert_int_eq(journal_add(j, b, tiny_blob(b, 5, 6), NULL), 0);
	ck_assert_uint_eq(journal_count(j), 1);
	ck_assert_int_eq(journal_since(j, 0, chain_step, &c), -ENOENT);
	/* garbage is refused and changes nothing */
	ck_assert_int_eq(journal_add(j, (const uint8_t *)"nope", 4, NULL), -EBADMSG);
	ck_assert_uint_eq(journal_count(j), 1);
	journal_free(j);
	/* a byte bound */
	size_t one = tiny_blob(b, 1, 2);
	j = journal_new(100, 3 * one);
	for (uint32_t i = 1; i <= 10; i++)
		ck_assert_int_eq(journal_add(j, b, tiny_blob(b, i, i + 1), NULL), 0);
	ck_assert_uint_eq(journal_count(j), 3);
	ck_assert_uint_le(journal_bytes(j), 3 * one);
	journal_free(j);
}
END_TEST

/* ==== refs =============================================================== */

static int collect_hash(const struct hash *h, void *arg)
{
	char (*out)[HASH_HEX_LEN + 1] = arg;
	int i = 0;

	while (out[i][0] != 0)
		i++;
	hash_to_hex(h, out[i]);
	return 0;
}

START_TEST(test_refs_txt_tokens)
{
	char hex[3][HASH_HEX_LEN + 1], text[2048], found[16][HASH_HEX_LEN + 1];
	uint8_t rd[4096];
	uint16_t len;

	for (int i = 0; i < 3; i++)
		hash_hex_of(hex[i], "t", i);
	/* a block, a 2+1 stripe, split across strings mid-token */
	snprintf(text, sizeof(text), "v=1 type=f size=9 b=0:4096:%s s=4096:8192:2+1:%s,%s,%s "
		 "x=b=1:2:%s b=1:2:%sff b=1:x:%s", hex[0], hex[1], hex[2], hex[0], hex[0],
		 hex[0], hex[1]);
	len = txt_rdata(rd, text, 7);
	memset(found, 0, sizeof(found));
	ck_assert_int_eq(refs_hashes_in_txt(REFS_INODE, rd, len, collect_hash, found), 4);
	ck_assert_str_eq(found[0], hex[0]);
	ck_assert_str_eq(found[1], hex[1]);
	ck_assert_str_eq(found[2], hex[2]);
	ck_assert_str_eq(found[3], hex[0]);
	/* upper-case hex is the same block */
	snprintf(text, sizeof(text), "b=0:1:%s", hex[2]);
	for (char *p = text + 6; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	memset(found, 0, sizeof(found));
	len = txt_rdata(rd, text, 255);
	ck_assert_int_eq(refs_hashes_in_txt(REFS_MAP, rd, len, collect_hash, found), 1);
	ck_assert_str_eq(found[0], hex[2]);
	/* the codec's records: an inode with a block and a 2+1 stripe, a page */
	snprintf(text, sizeof(text), "v=1 type=f mode=0644 uid=0 gid=0 nlink=1 size=12288 "
		 "mtime=1.000000000 ctime=1.000000000 atime=1.000000000 ver=4 ec=2+1 "
		 "b=0:4096:%s s=4096:8192:2+1:%s,%s,%s", hex[0], hex[1], hex[2], hex[0]);
	memset(found, 0, sizeof(found));
	len = txt_rdata(rd, text, 255);
	ck_assert_int_eq(refs_hashes_in_txt(REFS_INODE, rd, len, collect_hash, found), 4);
	ck_assert_str_eq(found[0], hex[0]);
	ck_assert_str_eq(found[3], hex[0]);
	snprintf(text, sizeof(text), "v=1 page=3 b=0:1048576:%s b=1048576:1:%s", hex[1], hex[1]);
	memset(found, 0, sizeof(found));
	len = txt_rdata(rd, text, 255);
	ck_assert_int_eq(refs_hashes_in_txt(REFS_MAP, rd, len, collect_hash, found), 2);
	ck_assert_str_eq(found[1], hex[1]);
	/* a record the codec refuses (written by a newer client) still pins
	 * its blocks: under-counting would let GC delete live data */
	snprintf(text, sizeof(text), "v=2 type=f shiny=yes b=0:4096:%s", hex[2]);
	memset(found, 0, sizeof(found));
	len = txt_rdata(rd, text, 255);
	ck_assert_int_eq(refs_hashes_in_txt(REFS_INODE, rd, len, collect_hash, found), 1);
	ck_assert_str_eq(found[0], hex[2]);
	/* nothing, and a truncated rdata, are no refs and no crash */
	ck_assert_int_eq(refs_hashes_in_txt(REFS_INODE, rd, 0, collect_hash, found), 0);
	rd[0] = 200;
	ck_assert_int_eq(refs_hashes_in_txt(REFS_INODE, rd, 5, collect_hash, found), 0);
}
END_TEST

START_TEST(test_refs_name_kind)
{
	struct wire_name apex = nm(ORIGIN), n;

	n = nm("7.i." ORIGIN);
	ck_assert_int_eq(refs_name_kind(&apex, &n), REFS_INODE);
	n = nm("3.7.M." ORIGIN);
	ck_assert_int_eq(refs_name_kind(&apex, &n), REFS_MAP);
	n = nm("3.7.l." ORIGIN);
	ck_assert_int_eq(refs_name_kind(&apex, &n), REFS_NONE);
	n = nm("x.7.i." ORIGIN);
	ck_assert_int_eq(refs_name_kind(&apex, &n), REFS_NONE);
	n = nm("i." ORIGIN);
	ck_assert_int_eq(refs_name_kind(&apex, &n), REFS_NONE);
	n = nm("7.i.other.test.");
	ck_assert_int_eq(refs_name_kind(&apex, &n), REFS_NONE);
	n = nm("7.ii." ORIGIN);
	ck_assert_int_eq(refs_name_kind(&apex, &n), REFS_NONE);
}
END_TEST

static int64_t count_of(const struct refs *r, const char *what, int i)
{
	struct hash h;

	hash_of(&h, what, i);
	return refs_get(r, &h);
}

static const struct store_ref *find_ref(const struct store_ref *v, size_t n, int blk)
{
	char hex[HASH_HEX_LEN + 1];

	hash_hex_of(hex, "blk", blk);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].hash, hex) == 0)
			return &v[i];
	return NULL;
}

START_TEST(test_refs_apply)
{
	struct zone *z = make_zone(1);
	struct refs *r;
	struct zone_txn t;
	struct store_ref *out;
	size_t nout;
	struct err e = {0};
	struct inode_edit ie;

	ck_assert_int_eq(refs_rebuild(&r, z, &e), 0);
	/* 2.i holds blk-1 and blk-2, 3.i holds blk-1 */
	ck_assert_int_eq(count_of(r, "blk", 1), 2);
	ck_assert_int_eq(count_of(r, "blk", 2), 1);
	ck_assert_uint_eq(refs_size(r), 2);
	/* 2.i: blk-1,blk-2 -> blk-2,blk-3 ; 3.i: blk-1 -> blk-1,blk-1 */
	zone_txn_begin(&t, z);
	ie = (struct inode_edit){ 2, 2, 3 };
	edit_inode(&t, &ie);
	ie = (struct inode_edit){ 3, 1, 1 };
	edit_inode(&t, &ie);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_int_eq(refs_apply(r, z, t.changes, t.n, &out, &nout, &e), 0);
	zone_txn_release(&t);
	/* blk-1: -1 (2.i) -1 +2 (3.i) = 0 net: not listed; blk-3 new; blk-2 same */
	ck_assert_uint_eq(nout, 1);
	ck_assert_ptr_nonnull(find_ref(out, nout, 3));
	ck_assert_int_eq(find_ref(out, nout, 3)->count, 1);
	free(out);
	ck_assert_int_eq(count_of(r, "blk", 1), 2);
	/* delete both inodes: every count reaches 0 and is reported */
	zone_txn_begin(&t, z);
	ie = (struct inode_edit){ 2, -1, -1 };
	edit_inode(&t, &ie);
	ie = (struct inode_edit){ 3, -1, -1 };
	edit_inode(&t, &ie);
	ck_assert_int_eq(zone_txn_commit(&t), 0);
	ck_assert_int_eq(refs_apply(r, z, t.changes, t.n, &out, &nout, &e), 0);
	ck_assert_uint_eq(nout, 3);
	for (int b = 1; b <= 3; b++)
		ck_assert_int_eq(find_ref(out, nout, b)->count, 0);
	free(out);
	ck_assert_uint_eq(refs_size(r), 0);
	/* applying the same deletion again would go negative: refused, no change */
	ck_assert_int_eq(refs_apply(r, z, t.changes, t.n, &out, &nout, &e), -EUCLEAN);
	ck_assert(strstr(e.msg, "disagree") != NULL);
	ck_assert_uint_eq(refs_size(r), 0);
	ck_assert_ptr_null(out);
	zone_txn_release(&t);
	refs_free(r);
	zone_free(z);
}
END_TEST

struct eq_ctx {
	const struct refs *other;
	size_t n;
};

static int refs_eq_one(const struct hash *h, int64_t count, void *arg)
{
	struct eq_ctx *c = arg;

	ck_assert_int_eq(refs_get(c->other, h), count);
	c->n++;
	return 0;
}

static void refs_equal(const struct refs *a, const struct refs *b)
{
	struct eq_ctx c = { b, 0 };

	ck_assert_uint_eq(refs_size(a), refs_size(b));
	refs_foreach(a, refs_eq_one, &c);
	ck_assert_uint_eq(c.n, refs_size(b));
}

/* Many random updates: the incremental counts equal a recount after each
 * round (this drives the table through growth and deletions). */
START_TEST(test_refs_incremental_equals_rebuild)
{
	struct zone *z = make_zone(1);
	struct refs *r, *again;
	struct zone_txn t;
	struct store_ref *out;
	size_t nout;
	struct err e = {0};
	unsigned seed = 12345;

	ck_assert_int_eq(refs_rebuild(&r, z, &e), 0);
	for (int round = 0; round < 40; round++) {
		zone_txn_begin(&t, z);
		for (int k = 0; k < 200; k++) {
			struct inode_edit ie;
			ie.ino = 10 + (int)(rand_r(&seed) % 600);
			ie.a = (int)(rand_r(&seed) % 3000);
			ie.b = rand_r(&seed) % 4 == 0 ? -1 : (int)(rand_r(&seed) % 3000);
			if (rand_r(&seed) % 5 == 0)
				ie.a = -1;
			edit_inode(&t, &ie);
		}
		ck_assert_int_eq(zone_txn_commit(&t), 0);
		ck_assert_int_eq(refs_apply(r, z, t.changes, t.n, &out, &nout, &e), 0);
		for (size_t i = 0; i < nout; i++) {
			struct hash h;
			ck_assert_int_eq(hash_from_hex(&h, out[i].hash, HASH_HEX_LEN), 0);
			ck_assert_int_eq(refs_get(r, &h), out[i].count);
		}
		free(out);
		zone_txn_release(&t);
		ck_assert_int_eq(refs_rebuild(&again, z, &e), 0);
		refs_equal(r, again);
		refs_free(again);
	}
	ck_assert_uint_gt(refs_size(r), 100);
	refs_free(r);
	zone_free(z);
}
END_TEST

/* ==== store: memory target ================================================ */

START_TEST(test_memory_async_and_reload)
{
	struct mds m;
	struct inode_edit ie = { 5, 7, 8 };
	struct store_stats st;

	reset_outcomes();
	mds_open(&m, "memory", 10);
	ck_assert(store_is_memory(m.s));
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 0), 0);
	/* not durable before the loop runs: callers see the async behaviour */
	ck_assert_int_eq(outcome[0], 0);
	ck_assert_uint_eq(store_pending(m.s), 1);
	ck_assert(loop_until(store_idle, m.s, 2000));
	ck_assert_int_eq(outcome[0], 1);
	store_get_stats(m.s, &st);
	ck_assert_uint_eq(st.commits, 1);
	ck_assert_uint_eq(st.committed, 1);
	ck_assert_ptr_null(store_error(m.s));
	reload_compare(m.s, m.z);
	mds_close(&m);
}
END_TEST

/* ==== store: Redis target ================================================= */

START_TEST(test_targets)
{
	struct store_options o = { .base = base };
	struct err e = {0};
	char t[400];
	const char *bad[] = { "", "nonsense", "host:", ":6379", "host:0", "host:70000",
			      "host:12x", "unix:" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.target = bad[i];
		ck_assert_msg(store_new(&o, &e) == NULL, "target \"%s\" accepted", bad[i]);
		ck_assert_int_eq(e.code, -EINVAL);
	}
	o.target = "unix:/nonexistent/redis.sock";
	ck_assert_ptr_null(store_new(&o, &e));
	ck_assert_int_eq(e.code, -ECONNREFUSED);
	ck_assert(strstr(e.msg, "/nonexistent/redis.sock") != NULL);
	target_unix(t, sizeof(t));
	o.target = t;
	struct store *s = store_new(&o, &e);
	ck_assert_msg(s != NULL, "%s", e.msg);
	ck_assert(!store_is_memory(s));
	store_free(s);
}
END_TEST

/* A Redis that would lose acknowledged commits is refused. */
START_TEST(test_volatile_redis_refused)
{
	struct store_options o = { .base = base };
	struct err e = {0};
	char t[400], reply[256];
	struct store *s;

	target_unix(t, sizeof(t));
	o.target = t;
	ck_assert_int_eq(redis_raw("CONFIG SET appendonly no", reply, sizeof(reply)), 0);
	ck_assert_ptr_null(store_new(&o, &e));
	ck_assert_int_eq(e.code, -EINVAL);
	ck_assert_msg(strstr(e.msg, "appendonly no") != NULL, "%s", e.msg);
	o.allow_volatile = 1;
	s = store_new(&o, &e);
	ck_assert_ptr_nonnull(s);
	store_free(s);
}
END_TEST

START_TEST(test_schema_newer_refused)
{
	struct mds m;
	struct store_options o = { .base = base };
	struct err e = {0};
	char t[400], reply[256];

	target_unix(t, sizeof(t));
	mds_open(&m, t, 1);
	mds_close(&m);
	ck_assert_int_eq(redis_raw("HGET dnsfs:meta schema", reply, sizeof(reply)), 0);
	ck_assert(strstr(reply, "\r\n1\r\n") != NULL);
	ck_assert_int_eq(redis_raw("HSET dnsfs:meta schema 2", reply, sizeof(reply)), 0);
	o.target = t;
	ck_assert_ptr_null(store_new(&o, &e));
	ck_assert_int_eq(e.code, -EPROTONOSUPPORT);
	ck_assert_msg(strstr(e.msg, "schema 2") && strstr(e.msg, "upgrade"), "%s", e.msg);
}
END_TEST

START_TEST(test_create_load_compare)
{
	struct mds m;
	struct store_options o = { .base = base };
	struct err e = {0};
	char t[400];

	target_unix(t, sizeof(t));
	mds_open(&m, t, 77);
	/* a second create of the same zone is refused */
	ck_assert_int_eq(store_create_zone(m.s, m.z, m.refs, &e), -EEXIST);
	/* a separate store object: nothing shared but Redis */
	o.target = t;
	struct store *s2 = store_new(&o, &e);
	ck_assert_ptr_nonnull(s2);
	reload_compare(s2, m.z);
	ck_assert_int_eq(refs_verify(m.refs, s2, m.z, NULL, NULL, &e), 0);
	store_free(s2);
	mds_close(&m);
}
END_TEST

struct jcheck {
	uint32_t next;                  /* serial_from expected next */
	int n;
};

static int journal_chain(const uint8_t *blob, size_t len, void *arg)
{
	struct jcheck *j = arg;
	struct journal_diff d;

	ck_assert_int_eq(journal_decode(&d, blob, len, NULL), 0);
	ck_assert_uint_eq(d.serial_from, j->next);
	ck_assert_uint_eq(d.serial_to, j->next + 1);
	j->next = d.serial_to;
	j->n++;
	return 0;
}

START_TEST(test_commit_reload)
{
	struct mds m;
	struct err e = {0};
	char t[400];
	int id = 0;

	reset_outcomes();
	target_unix(t, sizeof(t));
	mds_open(&m, t, 1000);
	for (int i = 0; i < 30; i++) {
		struct inode_edit ie = { 100 + i % 7, i, i % 3 ? i + 1 : -1 };
		if (i % 11 == 10)
			ie.a = -1;
		ck_assert_int_eq(mds_change(&m, edit_inode, &ie, id++), 0);
		if (i % 4 == 0)
			ck_assert(loop_until(store_idle, m.s, 5000));
	}
	ck_assert_int_eq(mds_change(&m, edit_mixed, NULL, id++), 0);
	ck_assert(loop_until(store_idle, m.s, 5000));
	for (int i = 0; i < id; i++)
		ck_assert_int_eq(outcome[i], 1);
	reload_compare(m.s, m.z);
	ck_assert_int_eq(refs_verify(m.refs, m.s, m.z, NULL, NULL, &e), 0);
	/* the journal is one chain from the creation serial to the current one */
	struct jcheck jc = { 1000, 0 };
	ck_assert_int_eq(store_load_journal(m.s, m.z, journal_chain, &jc, &e), 0);
	ck_assert_int_eq(jc.n, id);
	ck_assert_uint_eq(jc.next, m.z->serial);
	mds_close(&m);
}
END_TEST

/* What the store's observer saw. */
struct timings {
	long commits, failed, groups, grouped;
	double max_commit_s, max_exec_s;
	int negative;
};

static void time_commit(void *arg, int rc, double seconds)
{
	struct timings *t = arg;

	if (rc == 0)
		t->commits++;
	else
		t->failed++;
	t->negative |= seconds < 0;
	if (seconds > t->max_commit_s)
		t->max_commit_s = seconds;
}

static void time_exec(void *arg, size_t ncommits, double seconds)
{
	struct timings *t = arg;

	t->groups++;
	t->grouped += (long)ncommits;
	t->negative |= seconds < 0;
	if (seconds > t->max_exec_s)
		t->max_exec_s = seconds;
}

START_TEST(test_group_commit)
{
	struct mds m;
	struct store_stats st;
	struct timings tm = {0};
	struct store_observer obs = { time_commit, time_exec, &tm };
	char t[400];
	long exec0, exec1;
	const int n = 1000;

	reset_outcomes();
	target_unix(t, sizeof(t));
	mds_open(&m, t, 1);
	ck_assert(loop_until(store_idle, m.s, 5000));
	store_set_observer(m.s, &obs);
	exec0 = redis_exec_calls();
	/* a burst: every commit queued before the loop runs */
	for (int i = 0; i < n; i++) {
		struct inode_edit ie = { 1000 + i, i, -1 };
		ck_assert_int_eq(mds_change(&m, edit_inode, &ie, i), 0);
	}
	ck_assert(loop_until(store_idle, m.s, 20000));
	/* a stream: a few commits per loop slice while earlier ones are in flight */
	for (int i = n; i < 2 * n; i++) {
		struct inode_edit ie = { 1000 + i, i, i + 1 };
		ck_assert_int_eq(mds_change(&m, edit_inode, &ie, i), 0);
		if (i % 10 == 0)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	ck_assert(loop_until(store_idle, m.s, 20000));
	exec1 = redis_exec_calls();
	ck_assert_int_eq(norder, 2 * n);
	for (int i = 0; i < 2 * n; i++) {
		ck_assert_int_eq(order[i], i);          /* callbacks in commit order */
		ck_assert_int_eq(outcome[i], 1);
	}
	store_get_stats(m.s, &st);
	ck_assert_uint_eq(st.commits, 2 * n);
	ck_assert_uint_eq(st.committed, 2 * n);
	/* Redis's own count of transactions agrees with the store's */
	ck_assert_int_eq(exec1 - exec0, (long)st.groups);
	ck_assert_msg(st.groups * 10 <= (uint64_t)(2 * n), "%llu groups for %d commits",
		      (unsigned long long)st.groups, 2 * n);
	/* the observer saw every commit and every group, with sane times: a
	 * commit waits at least as long as the longest round trip it joined */
	ck_assert_int_eq(tm.commits, 2 * n);
	ck_assert_int_eq(tm.failed, 0);
	ck_assert_int_eq(tm.groups, (long)st.groups);
	ck_assert_int_eq(tm.grouped, 2 * n);
	ck_assert(!tm.negative);
	ck_assert(tm.max_exec_s > 0 && tm.max_commit_s >= tm.max_exec_s);
	ck_assert(tm.max_commit_s < 20);
	store_set_observer(m.s, NULL);
	fprintf(stderr, "# group commit: %d commits in %llu MULTI/EXEC (largest group %llu)\n",
		2 * n, (unsigned long long)st.groups, (unsigned long long)st.max_group);
	reload_compare(m.s, m.z);
	mds_close(&m);
}
END_TEST

struct orphans {
	char hash[64][HASH_HEX_LEN + 1];
	int64_t ts[64];
	char id[64][48];
	int n;
};

static int collect_orphan(const char *id, const char *hash, int64_t ts, void *arg)
{
	struct orphans *o = arg;

	ck_assert_int_lt(o->n, 64);
	snprintf(o->hash[o->n], sizeof(o->hash[0]), "%s", hash);
	snprintf(o->id[o->n], sizeof(o->id[0]), "%s", id);
	o->ts[o->n++] = ts;
	return 0;
}

static int count_stored(const char *hash, int64_t count, void *arg)
{
	char **want = arg;
	if (strcmp(hash, want[0]) == 0)
		*(int64_t *)want[1] = count;
	return 0;
}

static int64_t stored_count(struct store *s, const struct zone *z, int blk)
{
	char hex[HASH_HEX_LEN + 1];
	int64_t count = 0;
	char *want[2] = { hex, (char *)&count };

	hash_hex_of(hex, "blk", blk);
	ck_assert_int_eq(store_load_refs(s, z, count_stored, want, NULL), 0);
	return count;
}

START_TEST(test_refs_orphans)
{
	struct mds m;
	struct orphans o = {0};
	struct err e = {0};
	char t[400], hex[HASH_HEX_LEN + 1];
	time_t t0 = time(NULL);
	struct inode_edit ie;

	reset_outcomes();
	target_unix(t, sizeof(t));
	mds_open(&m, t, 1);
	ck_assert_int_eq(stored_count(m.s, m.z, 1), 2);   /* written at create */
	/* up: two new inodes share blk-50 */
	ie = (struct inode_edit){ 20, 50, 51 };
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 0), 0);
	ie = (struct inode_edit){ 21, 50, -1 };
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 1), 0);
	ck_assert(loop_until(store_idle, m.s, 5000));
	ck_assert_int_eq(stored_count(m.s, m.z, 50), 2);
	ck_assert_int_eq(stored_count(m.s, m.z, 51), 1);
	ck_assert_int_eq(store_load_orphans(m.s, m.z, collect_orphan, &o, &e), 0);
	ck_assert_int_eq(o.n, 0);
	/* down: 20 drops blk-51 (-> 0), 21 goes away (blk-50 -> 1) */
	ie = (struct inode_edit){ 20, 50, -1 };
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 2), 0);
	ie = (struct inode_edit){ 21, -1, -1 };
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 3), 0);
	ck_assert(loop_until(store_idle, m.s, 5000));
	ck_assert_int_eq(stored_count(m.s, m.z, 50), 1);
	ck_assert_int_eq(stored_count(m.s, m.z, 51), 0);
	ck_assert_int_eq(store_load_orphans(m.s, m.z, collect_orphan, &o, &e), 0);
	ck_assert_int_eq(o.n, 1);
	hash_hex_of(hex, "blk", 51);
	ck_assert_str_eq(o.hash[0], hex);
	ck_assert_int_ge(o.ts[0], (int64_t)t0);
	ck_assert_int_le(o.ts[0], (int64_t)time(NULL));
	ck_assert(strchr(o.id[0], '-') != NULL);
	/* the last ref of blk-50 goes: a second orphan, after the first */
	ie = (struct inode_edit){ 20, -1, -1 };
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 4), 0);
	ck_assert(loop_until(store_idle, m.s, 5000));
	o.n = 0;
	ck_assert_int_eq(store_load_orphans(m.s, m.z, collect_orphan, &o, &e), 0);
	ck_assert_int_eq(o.n, 2);
	hash_hex_of(hex, "blk", 50);
	ck_assert_str_eq(o.hash[1], hex);
	ck_assert_int_eq(refs_verify(m.refs, m.s, m.z, NULL, NULL, &e), 0);
	/* the GC's view: a store without a loop reads the stream and trims it */
	{
		struct store_options so = { .target = t, .sync_only = 1 };
		struct store *g = store_new(&so, &e);
		const char *ack[2] = { o.id[0], "1-1" };        /* the second is not there */
		struct orphans left = {0};

		ck_assert_msg(g != NULL, "%s", e.msg);
		ck_assert_int_eq(store_commit(g, &(struct store_batch){ .z = m.z }, NULL, NULL),
				 -EIO);
		ck_assert_int_eq(store_ack_orphans(g, m.z, ack, 2, &e), 0);
		ck_assert_int_eq(store_load_orphans(g, m.z, collect_orphan, &left, &e), 0);
		ck_assert_int_eq(left.n, 1);
		ck_assert_str_eq(left.hash[0], hex);            /* blk-50 stays */
		ck_assert_str_eq(left.id[0], o.id[1]);
		store_free(g);
		left.n = 0;
		ck_assert_int_eq(store_load_orphans(m.s, m.z, collect_orphan, &left, &e), 0);
		ck_assert_int_eq(left.n, 1);                    /* the mds sees it too */
	}
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(outcome[i], 1);
	mds_close(&m);
}
END_TEST

struct diffs {
	int n;
	char hex[8][HASH_HEX_LEN + 1];
	int64_t want[8], have[8];
};

static void on_diff(const char *hex, int64_t want, int64_t have, void *arg)
{
	struct diffs *d = arg;

	if (d->n < 8) {
		snprintf(d->hex[d->n], sizeof(d->hex[0]), "%s", hex);
		d->want[d->n] = want;
		d->have[d->n] = have;
	}
	d->n++;
}

START_TEST(test_refs_verify_reports)
{
	struct mds m;
	struct diffs d = {0};
	struct err e = {0};
	char t[400], cmd[256], reply[64], h1[HASH_HEX_LEN + 1], hx[HASH_HEX_LEN + 1];

	target_unix(t, sizeof(t));
	mds_open(&m, t, 1);
	ck_assert_int_eq(refs_verify(m.refs, m.s, m.z, on_diff, &d, &e), 0);
	/* Redis drifts: a wrong count and a hash no record mentions */
	hash_hex_of(h1, "blk", 1);
	hash_hex_of(hx, "stray", 0);
	snprintf(cmd, sizeof(cmd), "HSET %s %s 5 %s 1", REFS_KEY, h1, hx);
	ck_assert_int_eq(redis_raw(cmd, reply, sizeof(reply)), 0);
	ck_assert_int_eq(refs_verify(m.refs, m.s, m.z, on_diff, &d, &e), 2);
	ck_assert_int_eq(d.n, 2);
	for (int i = 0; i < 2; i++) {
		if (strcmp(d.hex[i], h1) == 0) {
			ck_assert_int_eq(d.want[i], 2);
			ck_assert_int_eq(d.have[i], 5);
		} else {
			ck_assert_str_eq(d.hex[i], hx);
			ck_assert_int_eq(d.want[i], 0);
			ck_assert_int_eq(d.have[i], 1);
		}
	}
	mds_close(&m);
}
END_TEST

static int acked_200(void *arg)
{
	return nacked >= 200;
}

START_TEST(test_redis_killed_midstream)
{
	struct mds m;
	struct store_options o = { .base = base };
	struct zoneset zs = {0};
	struct err e = {0};
	char t[400];
	int killed_at = -1, queued_after = 0, refused_after = 0, failed = 0;
	const int n = 3000;

	reset_outcomes();
	target_unix(t, sizeof(t));
	mds_open(&m, t, 1);
	ck_assert(loop_until(store_idle, m.s, 5000));
	for (int i = 0; i < n; i++) {
		struct inode_edit ie = { 5000 + i, 10000 + i, -1 };
		int rc = mds_change(&m, edit_inode, &ie, i);
		if (killed_at < 0) {
			ck_assert_int_eq(rc, 0);
		} else if (rc == 0) {
			queued_after++;
		} else {
			ck_assert_int_eq(rc, -EIO);
			outcome[i] = rc;                /* refused: no callback */
			refused_after++;
		}
		if (i % 25 == 0)
			event_base_loop(base, EVLOOP_NONBLOCK);
		if (killed_at < 0 && i == n / 2)        /* a slow disk: wait for acks */
			ck_assert(loop_until(acked_200, NULL, 20000));
		if (killed_at < 0 && nacked >= 200) {
			redis_kill();
			killed_at = i;
		}
	}
	ck_assert_int_ge(killed_at, 0);
	ck_assert(loop_until(store_idle, m.s, 15000));
	ck_assert_ptr_nonnull(store_error(m.s));
	/* everything got exactly one answer; nothing committed after the kill
	 * succeeded, and some pending ones failed */
	for (int i = 0; i < n; i++) {
		ck_assert_int_ne(outcome[i], 0);
		if (i > killed_at)
			ck_assert_msg(outcome[i] < 0, "commit %d after the kill succeeded", i);
		failed += outcome[i] < 0;
	}
	ck_assert_int_gt(failed, 0);
	ck_assert_int_gt(queued_after + refused_after, 0);
	fprintf(stderr, "# kill: after commit %d; %d failed, %d refused at once\n", killed_at,
		failed, refused_after);
	/* Every commit reported durable is in the restarted Redis (AOF). */
	redis_start(1);
	o.target = t;
	struct store *s2 = store_new(&o, &e);
	ck_assert_msg(s2 != NULL, "%s", e.msg);
	ck_assert_msg(store_load(s2, &zs, &e) == 0, "%s", e.msg);
	struct zone *z2 = the_zone(&zs);
	for (int i = 0; i < n; i++) {
		char owner[64];
		snprintf(owner, sizeof(owner), "%d.i." ORIGIN, 5000 + i);
		struct wire_name nn = nm(owner);
		struct zone_node *node = zone_find(z2, &nn);
		if (outcome[i] == 1)
			ck_assert_msg(node != NULL, "acknowledged commit %d lost", i);
	}
	/* and Redis holds a consistent prefix: its refs match its records */
	struct refs *r2;
	ck_assert_int_eq(refs_rebuild(&r2, z2, &e), 0);
	ck_assert_int_eq(refs_verify(r2, s2, z2, NULL, NULL, &e), 0);
	refs_free(r2);
	zoneset_release(&zs);
	store_free(s2);
	mds_close(&m);
}
END_TEST

static int never(void *arg)
{
	return 0;
}

static int reconnected(void *arg)
{
	struct store_stats st;

	store_get_stats(arg, &st);
	return st.reconnects >= 1;
}

START_TEST(test_idle_reconnect_durable)
{
	struct mds m;
	struct store_stats st;
	char t[400];
	struct inode_edit ie = { 30, 1, 2 };

	reset_outcomes();
	target_unix(t, sizeof(t));
	mds_open(&m, t, 1);
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 0), 0);
	ck_assert(loop_until(store_idle, m.s, 5000));
	ck_assert_int_eq(outcome[0], 1);
	/* Redis restarts while the link is idle: nothing was pending, so the
	 * store re-opens it and carries on */
	redis_kill();
	redis_start(1);
	ck_assert(loop_until(reconnected, m.s, 5000));
	ie = (struct inode_edit){ 31, 3, -1 };
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 1), 0);
	ck_assert(loop_until(store_idle, m.s, 5000));
	ck_assert_int_eq(outcome[1], 1);
	ck_assert_ptr_null(store_error(m.s));
	store_get_stats(m.s, &st);
	ck_assert_uint_eq(st.failed, 0);
	reload_compare(m.s, m.z);
	mds_close(&m);
}
END_TEST

START_TEST(test_unreachable_fails_bounded)
{
	struct mds m;
	struct store_options o = { .base = base, .max_reconnect = 3 };
	char t[400];
	struct inode_edit ie = { 30, 1, 2 };
	struct err e = {0};
	struct timespec a, b;

	reset_outcomes();
	target_unix(t, sizeof(t));
	o.target = t;
	m.z = make_zone(1);
	ck_assert_int_eq(refs_rebuild(&m.refs, m.z, &e), 0);
	m.s = store_new(&o, &e);
	ck_assert_ptr_nonnull(m.s);
	ck_assert_int_eq(store_create_zone(m.s, m.z, m.refs, &e), 0);
	ck_assert(loop_until(store_idle, m.s, 1000));
	redis_kill();
	clock_gettime(CLOCK_MONOTONIC, &a);
	/* let the store notice (50 ms), then commit into the outage */
	loop_until(never, NULL, 50);
	int rc = mds_change(&m, edit_inode, &ie, 0);
	if (rc == 0)
		ck_assert(loop_until(store_idle, m.s, 10000));
	else
		ck_assert_int_eq(rc, -EIO);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert(rc != 0 || outcome[0] < 0);
	ck_assert_ptr_nonnull(store_error(m.s));
	ck_assert_msg(strstr(store_error(m.s), "attempts") != NULL, "%s", store_error(m.s));
	ck_assert_int_lt(b.tv_sec - a.tv_sec, 5);      /* 3 attempts: 0.1+0.2+0.4 s */
	/* fail-stop: later commits are refused at once */
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 1), -EIO);
	mds_close(&m);
}
END_TEST

static struct store *free_me;

static void free_in_callback(void *arg, int rc, const char *msg)
{
	on_done(arg, rc, msg);
	if ((intptr_t)arg == 1) {
		store_free(free_me);
		store_free(free_me);            /* twice is harmless */
	}
}

/* Commit 1 goes alone (the link is idle), 2..5 queue behind it; commit 1's
 * callback frees the store: 2..5 are cancelled, each answered once. */
static void free_in_callback_on(const char *target)
{
	struct mds m;
	struct inode_edit ie = { 39, 1, -1 };

	reset_outcomes();
	mds_open(&m, target, 1);
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 0), 0);     /* link up */
	ck_assert(loop_until(store_idle, m.s, 5000));
	ck_assert_int_eq(outcome[0], 1);
	free_me = m.s;
	for (int i = 1; i <= 5; i++) {
		struct store_ref *out;
		size_t nout;
		struct zone_txn t;
		struct err e = {0};
		uint32_t from = m.z->serial;

		ie = (struct inode_edit){ 40 + i, i, -1 };
		zone_txn_begin(&t, m.z);
		edit_inode(&t, &ie);
		bump_serial(&t);
		ck_assert_int_eq(zone_txn_commit(&t), 0);
		ck_assert_int_eq(refs_apply(m.refs, m.z, t.changes, t.n, &out, &nout, &e), 0);
		struct store_batch b = { .z = m.z, .serial_from = from, .serial_to = m.z->serial,
					 .changes = t.changes, .nchanges = t.n, .refs = out,
					 .nrefs = nout };
		ck_assert_int_eq(store_commit(m.s, &b, free_in_callback, (void *)(intptr_t)i), 0);
		free(out);
		zone_txn_release(&t);
	}
	ck_assert_uint_eq(store_pending(m.s), 5);
	for (int i = 0; i < 300 && norder < 6; i++) {
		struct timeval slice = { 0, 10000 };
		event_base_loopexit(base, &slice);
		event_base_dispatch(base);
	}
	ck_assert_int_eq(norder, 6);
	ck_assert_int_eq(outcome[1], 1);
	for (int i = 2; i <= 5; i++)
		ck_assert_int_eq(outcome[i], -ECANCELED);
	m.s = NULL;
	mds_close(&m);
}

START_TEST(test_free_in_callback)
{
	char t[400];

	target_unix(t, sizeof(t));
	free_in_callback_on(t);
	free_in_callback_on("memory");
}
END_TEST

/* ---- the same sequence on both targets ----------------------------------- */

struct dump {
	char **v;
	size_t n, cap;
};

__attribute__((format(printf, 2, 3)))
static void dump_add(struct dump *d, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&s, fmt, ap), 0);
	va_end(ap);
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		ck_assert_ptr_nonnull(d->v);
	}
	d->v[d->n++] = s;
}

static void hexdump(char *out, const uint8_t *p, size_t n)
{
	hash_hex_encode(out, p, n);
}

static void dump_set(const struct wire_name *name, const struct zone_rrset *set, void *arg)
{
	char owner[1024], *hex;
	const uint8_t *rd;
	uint16_t rdlen;
	uint32_t off = 0;

	wire_name_to_text(name, owner, sizeof(owner));
	while (zone_rrset_next(set, &off, &rd, &rdlen)) {
		hex = malloc(2 * (size_t)rdlen + 1);
		hexdump(hex, rd, rdlen);
		dump_add(arg, "rr %s %u %u %s", owner, set->type, set->ttl, hex);
		free(hex);
	}
}

static int dump_ref(const char *hash, int64_t count, void *arg)
{
	dump_add(arg, "ref %s %lld", hash, (long long)count);
	return 0;
}

static int dump_journal(const uint8_t *blob, size_t len, void *arg)
{
	struct dump *d = arg;
	char *hex = malloc(2 * len + 1);

	hexdump(hex, blob, len);
	dump_add(d, "journal %05zu %s", d->n, hex);
	free(hex);
	return 0;
}

static int dump_orphan(const char *id, const char *hash, int64_t ts, void *arg)
{
	struct dump *d = arg;

	dump_add(d, "orphan %05zu %s", d->n, hash);
	return 0;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Orphan ids in stream order (for the GC's trim). */
struct idlist {
	char **v;
	size_t n;
};

static int collect_id(const char *id, const char *hash, int64_t ts, void *arg)
{
	struct idlist *l = arg;
	char **nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	(void)hash;
	(void)ts;
	ck_assert_ptr_nonnull(nv);
	l->v = nv;
	ck_assert_ptr_nonnull(l->v[l->n] = strdup(id));
	l->n++;
	return 0;
}

/* Run a fixed sequence of updates on a target; dump what it then holds. */
static void run_sequence(const char *target, struct dump *d)
{
	struct mds m;
	struct zoneset zs = {0};
	struct err e = {0};
	unsigned seed = 7;
	int id = 0;

	reset_outcomes();
	mds_open(&m, target, 500);
	for (int i = 0; i < 300; i++) {
		struct inode_edit ie = { 60 + (int)(rand_r(&seed) % 40), (int)(rand_r(&seed) % 90),
					 (int)(rand_r(&seed) % 90) };
		if (rand_r(&seed) % 4 == 0)
			ie.a = -1;
		ck_assert_int_eq(mds_change(&m, edit_inode, &ie, id++), 0);
		if (rand_r(&seed) % 8 == 0)
			ck_assert(loop_until(store_idle, m.s, 5000));
	}
	ck_assert_int_eq(mds_change(&m, edit_mixed, NULL, id++), 0);
	ck_assert(loop_until(store_idle, m.s, 10000));
	for (int i = 0; i < id; i++)
		ck_assert_int_eq(outcome[i], 1);
	ck_assert_msg(store_load(m.s, &zs, &e) == 0, "%s", e.msg);
	zone_compare(m.z, the_zone(&zs));
	zone_foreach(the_zone(&zs), dump_set, d);
	ck_assert_int_eq(store_load_refs(m.s, m.z, dump_ref, d, &e), 0);
	qsort(d->v, d->n, sizeof(*d->v), strp_cmp);     /* these come in any order */
	ck_assert_int_eq(store_load_journal(m.s, m.z, dump_journal, d, &e), 0);
	/* the GC trims every other orphan: both must keep the same ones */
	{
		struct idlist ids = {0};
		const char **ack;
		size_t nack = 0;

		ck_assert_int_eq(store_load_orphans(m.s, m.z, collect_id, &ids, &e), 0);
		ck_assert_ptr_nonnull(ack = calloc(ids.n + 1, sizeof(*ack)));
		for (size_t i = 0; i < ids.n; i += 2)
			ack[nack++] = ids.v[i];
		ck_assert_int_eq(store_ack_orphans(m.s, m.z, ack, nack, &e), 0);
		for (size_t i = 0; i < ids.n; i++)
			free(ids.v[i]);
		free(ids.v);
		free(ack);
		dump_add(d, "acked %zu", nack);
	}
	ck_assert_int_eq(store_load_orphans(m.s, m.z, dump_orphan, d, &e), 0);
	dump_add(d, "serial %u", the_zone(&zs)->serial);
	zoneset_release(&zs);
	mds_close(&m);
}

START_TEST(test_memory_equals_redis)
{
	struct dump a = {0}, b = {0};
	char t[400];
	size_t orphans = 0;

	target_unix(t, sizeof(t));
	run_sequence(t, &a);
	run_sequence("memory", &b);
	ck_assert_uint_eq(a.n, b.n);
	for (size_t i = 0; i < a.n; i++) {
		ck_assert_str_eq(a.v[i], b.v[i]);
		orphans += strncmp(a.v[i], "orphan", 6) == 0;
	}
	ck_assert_uint_gt(orphans, 0);          /* the sequence exercised the stream */
	for (size_t i = 0; i < a.n; i++) {
		free(a.v[i]);
		free(b.v[i]);
	}
	free(a.v);
	free(b.v);
}
END_TEST

/* host:port works like a unix socket (a second server, TCP only). */
START_TEST(test_tcp_target)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct mds m;
	char t[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct inode_edit ie = { 8, 1, 2 };

	/* a free port: bind to 0, read it back, release it for redis */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	close(fd);
	redis_kill();
	rport = ntohs(sa.sin_port);
	redis_start(1);
	snprintf(t, sizeof(t), "127.0.0.1:%d", rport);
	reset_outcomes();
	mds_open(&m, t, 3);
	ck_assert_int_eq(mds_change(&m, edit_inode, &ie, 0), 0);
	ck_assert(loop_until(store_idle, m.s, 5000));
	ck_assert_int_eq(outcome[0], 1);
	reload_compare(m.s, m.z);
	mds_close(&m);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("journal");
	tcase_add_test(tc, test_journal_codec);
	tcase_add_test(tc, test_journal_ring);
	suite_add_tcase(s, tc);

	tc = tcase_create("refs");
	tcase_add_test(tc, test_refs_txt_tokens);
	tcase_add_test(tc, test_refs_name_kind);
	tcase_add_test(tc, test_refs_apply);
	tcase_add_test(tc, test_refs_incremental_equals_rebuild);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("memory");
	tcase_add_checked_fixture(tc, setup_base, teardown_base);
	tcase_add_test(tc, test_memory_async_and_reload);
	suite_add_tcase(s, tc);

	tc = tcase_create("redis");
	tcase_add_unchecked_fixture(tc, root_setup, root_teardown);
	tcase_add_checked_fixture(tc, setup_redis, teardown_redis);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_targets);
	tcase_add_test(tc, test_volatile_redis_refused);
	tcase_add_test(tc, test_schema_newer_refused);
	tcase_add_test(tc, test_create_load_compare);
	tcase_add_test(tc, test_commit_reload);
	tcase_add_test(tc, test_group_commit);
	tcase_add_test(tc, test_refs_orphans);
	tcase_add_test(tc, test_refs_verify_reports);
	tcase_add_test(tc, test_redis_killed_midstream);
	tcase_add_test(tc, test_idle_reconnect_durable);
	tcase_add_test(tc, test_unreachable_fails_bounded);
	tcase_add_test(tc, test_free_in_callback);
	tcase_add_test(tc, test_memory_equals_redis);
	tcase_add_test(tc, test_tcp_target);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(store_suite)
