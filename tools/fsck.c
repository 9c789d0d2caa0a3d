/* fsck: the zone is read once by AXFR (a consistent snapshot at one serial)
 * into sorted tables, checked in memory, then every referenced block is
 * fetched and verified on the nodes its placement names. Repairs are signed
 * UPDATEs whose prerequisite is the record as read, so a change made since
 * the transfer wins over the repair. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "blockclient.h"
#include "dirbucket.h"
#include "ec.h"
#include "env.h"
#include "fsck.h"
#include "mdc.h"
#include "progress.h"
#include "record.h"
#include "resolve.h"
#include "tsig.h"
#include "wire.h"

#define NODES_BUF 16384
#define DEFAULT_REP 3           /* copies of a block whose inode has no rep= */

/* Problem kinds: counted, and the first few described. */
enum kind {
	K_DANGLING,     /* dentry to an inode that does not exist */
	K_NLINK,        /* nlink differs from the names / subdirectories */
	K_ORPHAN,       /* nlink=0 inode: a mount died with the file open */
	K_UNLISTED,     /* dentry with no listing entry */
	K_STRAY_LIST,   /* listing entry with no dentry, or another inode */
	K_BUCKET,       /* listing entry in another bucket than its name's */
	K_BAD_RECORD,   /* a record that does not parse */
	K_REPLICA,      /* a replica missing or bad on a node placement names */
	K_CHUNK,        /* a stripe chunk missing or bad on its node */
	K_LOST,         /* a block or stripe no longer readable */
	K_NKINDS
};

static const char *const kind_name[K_NKINDS] = {
	"dentry to a missing inode", "wrong nlink", "orphan inode (nlink=0)",
	"dentry not in a listing bucket", "listing entry without its dentry",
	"listing entry in the wrong bucket",
	"malformed record", "missing or bad replica", "missing or bad stripe chunk",
	"lost block (no good copy)",
};

struct inode {
	uint64_t ino;
	struct record_inode rec;
	uint8_t *rdata;         /* the TXT as served: the repair's prerequisite */
	uint16_t rdlen;
	uint32_t names;         /* dentries pointing here */
	uint32_t subdirs;       /* dentries in it pointing to directories */
};

struct dentry {
	uint64_t parent, ino;
	char h[HASH_NAME_HEX_LEN + 1];
	int listed;
};

struct listent {
	uint64_t dir, bucket;
	struct record_entry en;
};

struct page {
	uint64_t ino, page;
	struct record_refs refs;
};

struct fsck {
	const char *dir;
	int repair, max_show, verbose;
	int64_t grace;                  /* seconds an orphan must be old to go */
	struct mdc mdc;
	struct blockclient *bc;
	struct tsig_keyring bkr;
	char zone[WIRE_NAME_MAX + 2];

	struct inode *ino; size_t nino, cino;
	struct dentry *de; size_t nde, cde;
	struct listent *ls; size_t nls, cls;
	struct page *pg; size_t npg, cpg;

	struct hash *seen; size_t nseen, cseen; /* refs checked: open addressing,
						 * cseen a power of two */

	uint64_t count[K_NKINDS];
	uint64_t repaired, blocks, chunks;
	char **shown; size_t nshown;
};

/* ------------------------------------------------------------- problems --- */

static void problem(struct fsck *f, enum kind k, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct fsck *f, enum kind k, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	f->count[k]++;
	if (f->nshown >= (size_t)f->max_show)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s != NULL)
		f->shown[f->nshown++] = s;
}

static struct inode *find_inode(struct fsck *f, uint64_t ino)
{
	size_t lo = 0, hi = f->nino;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->ino[mid].ino == ino)
			return &f->ino[mid];
		if (f->ino[mid].ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* "/a/b" from the listing entries (the first name found), "?/b" when an
 * ancestor is in no listing; for messages only ("" once no more are shown). */
static const char *path_of(struct fsck *f, uint64_t ino, char *buf, size_t len)
{
	const char *part[64];
	size_t np = 0, o = 0;
	int lost = 0;

	if (ino == 1)
		return "/";
	/* A linear search per level: only worth it for a problem still shown. */
	if (f->nshown >= (size_t)f->max_show)
		return "";
	while (ino != 1 && np < 64) {
		size_t i;

		for (i = 0; i < f->nls && f->ls[i].en.ino != ino; i++)
			;
		if (i == f->nls) {
			lost = 1;
			break;
		}
		part[np++] = f->ls[i].en.name;
		ino = f->ls[i].dir;
	}
	buf[0] = '\0';
	if (lost)
		o = (size_t)snprintf(buf, len, "?");
	while (np > 0 && o < len)
		o += (size_t)snprintf(buf + o, len - o, "/%s", part[--np]);
	return buf;
}

/* ------------------------------------------------------------- the zone --- */

#define GROW(v, n, c) do {                                                      \
	if ((n) == (c)) {                                                       \
		size_t nc_ = (c) ? 2 * (c) : 64;                                \
		void *p_ = realloc((v), nc_ * sizeof(*(v)));                    \
		if (p_ == NULL)                                                 \
			return err_set(e, -ENOMEM, "out of memory");            \
		(v) = p_;                                                       \
		(c) = nc_;                                                      \
	}                                                                       \
} while (0)

static int parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0 || len > 19 || (s[0] == '0' && len > 1))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return 0;
}

struct walk {
	struct fsck *f;
	struct err *e;
	uint64_t records;
};

/* One record of the transfer into the tables. Names are split into labels
 * below the zone: <a>.<b>.<kind> or <ino>.i. */
static int walk_rr(void *arg, const struct mdc_rr *rr)
{
	struct walk *w = arg;
	struct fsck *f = w->f;
	struct err *e = w->e, why = { 0 };
	size_t ol = strlen(rr->owner), zl = strlen(f->zone);
	const char *lab[4];
	size_t ll[4], nl = 0, rel;
	uint64_t a = 0, b = 0;
	char text[RECORD_TEXT_LONG_MAX + 1];
	int r;

	w->records++;
	if (ol <= zl + 1 || strcasecmp(rr->owner + ol - zl, f->zone) != 0 ||
	    rr->owner[ol - zl - 1] != '.')
		return 0;
	rel = ol - zl - 1;
	for (size_t i = 0, s = 0; i <= rel && nl < 4; i++) {
		if (i == rel || rr->owner[i] == '.') {
			lab[nl] = rr->owner + s;
			ll[nl++] = i - s;
			s = i + 1;
		}
	}
	if (nl < 2 || ll[nl - 1] != 1)
		return 0;
	switch (lab[nl - 1][0] | 0x20) {
	case 'i':
		if (nl != 2 || rr->type != WIRE_T_TXT || parse_u64(lab[0], ll[0], &a) < 0)
			return 0;
		GROW(f->ino, f->nino, f->cino);
		{
			struct inode *in = &f->ino[f->nino];

			memset(in, 0, sizeof(*in));
			in->ino = a;
			record_inode_init(&in->rec);
			r = mdc_txt_text(rr->rdata, rr->rdlen, text, sizeof(text), &why);
			if (r >= 0)
				r = record_inode_parse_text(&in->rec, text, (size_t)r, &why);
			if (r < 0) {
				problem(f, K_BAD_RECORD, "inode %" PRIu64 ": %s", a, why.msg);
				return 0;
			}
			if ((in->rdata = malloc(rr->rdlen + 1u)) == NULL)
				return err_set(e, -ENOMEM, "out of memory");
			memcpy(in->rdata, rr->rdata, rr->rdlen);
			in->rdlen = rr->rdlen;
			f->nino++;
		}
		return 0;
	case 'd':
		if (nl != 3 || rr->type != WIRE_T_CNAME || ll[0] != HASH_NAME_HEX_LEN ||
		    parse_u64(lab[1], ll[1], &a) < 0)
			return 0;
		{
			struct wire_name n = { .len = (uint8_t)rr->rdlen };
			char tn[4 * WIRE_NAME_MAX + 1];

			memcpy(n.b, rr->rdata, rr->rdlen < WIRE_NAME_MAX ? rr->rdlen : WIRE_NAME_MAX);
			if (rr->rdlen > WIRE_NAME_MAX || wire_name_to_text(&n, tn, sizeof(tn)) < 0 ||
			    record_parse_inode_name(tn, strlen(tn), f->zone, &b) < 0) {
				problem(f, K_BAD_RECORD, "dentry %s: CNAME is not an inode name",
					rr->owner);
				return 0;
			}
		}
		GROW(f->de, f->nde, f->cde);
		f->de[f->nde].parent = a;
		f->de[f->nde].ino = b;
		f->de[f->nde].listed = 0;
		for (size_t i = 0; i < HASH_NAME_HEX_LEN; i++)
			f->de[f->nde].h[i] = (char)(lab[0][i] | 0x20);
		f->de[f->nde].h[HASH_NAME_HEX_LEN] = '\0';
		f->nde++;
		return 0;
	case 'l':
	case 'm':
		if (nl != 3 || rr->type != WIRE_T_TXT || parse_u64(lab[0], ll[0], &a) < 0 ||
		    parse_u64(lab[1], ll[1], &b) < 0)
			return 0;
		r = mdc_txt_text(rr->rdata, rr->rdlen, text, sizeof(text), &why);
		if ((lab[2][0] | 0x20) == 'l') {
			GROW(f->ls, f->nls, f->cls);
			if (r >= 0)
				r = record_entry_parse_text(&f->ls[f->nls].en, text, (size_t)r, &why);
			if (r < 0) {
				problem(f, K_BAD_RECORD, "listing %s: %s", rr->owner, why.msg);
				return 0;
			}
			f->ls[f->nls].bucket = a;
			f->ls[f->nls].dir = b;
			f->nls++;
			return 0;
		}
		GROW(f->pg, f->npg, f->cpg);
		{
			struct record_page p;

			record_page_init(&p);
			if (r >= 0)
				r = record_page_parse_text(&p, text, (size_t)r, &why);
			if (r < 0) {
				problem(f, K_BAD_RECORD, "block-map page %s: %s", rr->owner, why.msg);
				return 0;
			}
			f->pg[f->npg].ino = b;
			f->pg[f->npg].page = a;
			f->pg[f->npg].refs = p.refs;    /* moved out */
			memset(&p.refs, 0, sizeof(p.refs));
			record_page_release(&p);
			f->npg++;
		}
		return 0;
	default:
		return 0;
	}
}

static int cmp_ino(const void *a, const void *b)
{
	const struct inode *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* ------------------------------------------------------------- metadata --- */

/* Replace an inode's TXT with rec (ver+1), if it is still what was read. */
static int update_inode(struct fsck *f, struct inode *in, struct record_inode *rec,
			struct err *e)
{
	char name[RECORD_NAME_BUF], text[RECORD_TEXT_LONG_MAX + 1];
	uint8_t *rd = malloc(WIRE_TCP_MAX);
	struct mdc_update u;
	int n, r;

	if (rd == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	rec->ver++;
	r = record_name_inode(name, sizeof(name), f->zone, in->ino);
	if (r >= 0)
		r = record_inode_format(rec, text, sizeof(text), e);
	if (r < 0)
		goto fail;
	n = mdc_txt_rdata(text, (size_t)r, rd, WIRE_TCP_MAX, e);
	if ((r = n) < 0)
		goto fail;
	r = mdc_update_begin(&f->mdc, &u);
	if (r == 0) {
		mdc_pre_value(&u, name, WIRE_T_TXT, in->rdata, in->rdlen);
		mdc_upd_del_rrset(&u, name, WIRE_T_TXT);
		mdc_upd_add(&u, name, WIRE_T_TXT, 1, rd, (uint16_t)n);
		r = mdc_update_send(&f->mdc, &u, e);
	}
	mdc_update_release(&u);
fail:
	free(rd);
	return r;
}

/* Delete an nlink=0 inode and its block-map pages (its blocks then reach a
 * count of 0 at the mds and go to the orphan stream for gc). */
static int delete_orphan(struct fsck *f, struct inode *in, struct err *e)
{
	char name[RECORD_NAME_BUF];
	struct mdc_update u;
	int r;

	r = record_name_inode(name, sizeof(name), f->zone, in->ino);
	if (r < 0)
		return err_set(e, r, "inode %" PRIu64 ": name too long", in->ino);
	r = mdc_update_begin(&f->mdc, &u);
	if (r == 0) {
		mdc_pre_value(&u, name, WIRE_T_TXT, in->rdata, in->rdlen);
		mdc_upd_del_rrset(&u, name, WIRE_T_TXT);
		for (uint64_t p = 0; p < in->rec.pages; p++) {
			char pn[RECORD_NAME_BUF];

			if (record_name_map(pn, sizeof(pn), f->zone, in->ino, p) >= 0)
				mdc_upd_del_rrset(&u, pn, WIRE_T_TXT);
		}
		r = mdc_update_send(&f->mdc, &u, e);
	}
	mdc_update_release(&u);
	return r;
}

/* Move a listing entry to the bucket its name belongs in under the
 * directory's bucket count, as a split would have: the directory's TXT as
 * read is the prerequisite, so a concurrent split, merge or entry change
 * wins and the next fsck looks again. */
static int move_entry(struct fsck *f, const struct inode *dir, const struct listent *l,
		      uint32_t want, struct err *e)
{
	char from[RECORD_NAME_BUF], to[RECORD_NAME_BUF], dn[RECORD_NAME_BUF];
	char text[RECORD_TEXT_LONG_MAX + 1];
	uint8_t *rd = malloc(WIRE_TCP_MAX);
	struct mdc_update u;
	int n, r;

	if (rd == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	if (record_name_listing(from, sizeof(from), f->zone, l->dir, l->bucket) < 0 ||
	    record_name_listing(to, sizeof(to), f->zone, l->dir, want) < 0 ||
	    record_name_inode(dn, sizeof(dn), f->zone, dir->ino) < 0) {
		r = err_set(e, -ENAMETOOLONG, "name too long");
		goto fail;
	}
	r = record_entry_format(&l->en, text, sizeof(text), e);
	if (r < 0)
		goto fail;
	n = mdc_txt_rdata(text, (size_t)r, rd, WIRE_TCP_MAX, e);
	if ((r = n) < 0)
		goto fail;
	r = mdc_update_begin(&f->mdc, &u);
	if (r == 0) {
		mdc_pre_value(&u, dn, WIRE_T_TXT, dir->rdata, dir->rdlen);
		mdc_upd_del_rr(&u, from, WIRE_T_TXT, rd, (uint16_t)n);
		mdc_upd_add(&u, to, WIRE_T_TXT, 1, rd, (uint16_t)n);
		r = mdc_update_send(&f->mdc, &u, e);
	}
	mdc_update_release(&u);
fail:
	free(rd);
	return r;
}

static int cmp_dentry(const void *a, const void *b)
{
	const struct dentry *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return strcmp(x->h, y->h);
}

static void check_metadata(struct fsck *f, struct err *e)
{
	char path[1024];
	int64_t now = (int64_t)time(NULL);

	qsort(f->ino, f->nino, sizeof(*f->ino), cmp_ino);
	qsort(f->de, f->nde, sizeof(*f->de), cmp_dentry);
	for (size_t i = 0; i < f->nde; i++) {
		struct dentry *d = &f->de[i];
		struct inode *in = find_inode(f, d->ino), *p = find_inode(f, d->parent);

		if (in == NULL) {
			problem(f, K_DANGLING, "dentry %s.%" PRIu64 ".d -> inode %" PRIu64
				" (in %s): no such inode", d->h, d->parent, d->ino,
				path_of(f, d->parent, path, sizeof(path)));
			continue;
		}
		in->names++;
		if (p != NULL && in->rec.type == RECORD_DIR)
			p->subdirs++;
	}
	/* Every listing entry must have its dentry (same inode), and every
	 * dentry its listing entry, in a bucket the directory has. */
	for (size_t i = 0; i < f->nls; i++) {
		struct listent *l = &f->ls[i];
		struct dentry key = { .parent = l->dir }, *d;
		struct inode *dir = find_inode(f, l->dir);
		uint32_t want;

		hash_name(key.h, l->en.name, l->en.namelen);
		d = bsearch(&key, f->de, f->nde, sizeof(*f->de), cmp_dentry);
		if (d == NULL || d->ino != l->en.ino) {
			problem(f, K_STRAY_LIST, "listing %" PRIu64 ".%" PRIu64 ".l: \"%s\" -> %"
				PRIu64 ": %s", l->bucket, l->dir, l->en.name, l->en.ino,
				d == NULL ? "no dentry" : "the dentry names another inode");
			continue;
		}
		d->listed = 1;
		if (dir == NULL)
			continue;
		want = dirbucket_of(dirbucket_key(l->en.name, l->en.namelen), dir->rec.buckets);
		if (l->bucket == want)
			continue;
		problem(f, K_BUCKET, "listing %" PRIu64 ".%" PRIu64 ".l: \"%s\" belongs in "
			"bucket %u of %u%s", l->bucket, l->dir, l->en.name, want,
			dir->rec.buckets, f->repair ? ", moving it" : "");
		if (f->repair) {
			struct err why = { 0 };

			if (move_entry(f, dir, l, want, &why) == 0)
				f->repaired++;
			else
				problem(f, K_BUCKET, "\"%s\": move failed: %s", l->en.name, why.msg);
		}
	}
	for (size_t i = 0; i < f->nde; i++)
		if (!f->de[i].listed && find_inode(f, f->de[i].ino) != NULL)
			problem(f, K_UNLISTED, "dentry %s.%" PRIu64 ".d -> %" PRIu64
				": in no listing bucket of %s", f->de[i].h, f->de[i].parent,
				f->de[i].ino, path_of(f, f->de[i].parent, path, sizeof(path)));
	for (size_t i = 0; i < f->nino; i++) {
		struct inode *in = &f->ino[i];
		uint32_t want = in->rec.type == RECORD_DIR ? 2 + in->subdirs : in->names;

		if (in->rec.nlink == 0) {
			int old = now - in->rec.ctime.sec >= f->grace;

			problem(f, K_ORPHAN, "inode %" PRIu64 ": nlink=0, %s%s", in->ino,
				old ? "older than the grace" : "within the grace (a mount may "
				"still have it open)", f->repair && old ? ", deleting" : "");
			if (f->repair && old && in->names == 0) {
				struct err why = { 0 };

				if (delete_orphan(f, in, &why) == 0)
					f->repaired++;
				else
					problem(f, K_ORPHAN, "inode %" PRIu64 ": delete failed: %s",
						in->ino, why.msg);
			}
			continue;
		}
		if (in->rec.type == RECORD_DIR && in->ino != 1 && in->names == 0)
			want = 0;
		if (in->rec.nlink == want)
			continue;
		problem(f, K_NLINK, "inode %" PRIu64 " (%s, %s): nlink=%u, %s %u", in->ino,
			in->rec.type == RECORD_DIR ? "dir" : "file",
			path_of(f, in->ino, path, sizeof(path)), in->rec.nlink,
			in->rec.type == RECORD_DIR ? "2 + subdirectories =" : "names =", want);
		/* Fix only a count that still has names: an inode no name reaches
		 * is left for a human (it may be a half-done rename). */
		if (f->repair && want > 0) {
			struct err why = { 0 };
			uint32_t old = in->rec.nlink;

			in->rec.nlink = want;
			if (update_inode(f, in, &in->rec, &why) == 0)
				f->repaired++;
			else
				problem(f, K_NLINK, "inode %" PRIu64 ": nlink fix failed: %s",
					in->ino, why.msg);
			in->rec.nlink = old;
			in->rec.ver--;
		}
	}
	(void)e;
}

/* --------------------------------------------------------------- blocks --- */

/* Nodes: the zone's SRV set through the mds, as every client ranks them. */
static int nodes_open(struct fsck *f, const struct env *env, struct err *e)
{
	struct blockclient_opts bo;
	const char *kf = env_get(env, "DNSFS_BLOCK_KEYFILE");
	const char *addr = env_get(env, "DNSFS_MDS_ADDR"), *port = env_get(env, "DNSFS_MDS_PORT");
	struct resolve *res = NULL;
	int r;

	if (kf != NULL) {
		r = tsig_keyring_load(&f->bkr, kf, e);
		if (r < 0)
			return r;
	}
	blockclient_opts_init(&bo);
	bo.key = f->bkr.n > 0 ? &f->bkr.keys[0] : NULL;
	bo.connect_timeout_ms = 1000;
	bo.io_timeout_ms = 5000;
	r = blockclient_new(&f->bc, &bo, e);
	if (r < 0)
		return r;
	r = resolve_new(&res, f->zone, addr, atoi(port), e);
	if (r == 0)
		r = blockclient_discover(f->bc, res, f->zone, e);
	resolve_free(res);
	if (r == 0)
		r = err_set(e, -ENOENT, "no %s.%s SRV records", BLOCKCLIENT_SRV, f->zone);
	return r < 0 ? r : 0;
}

/* A good copy of h (len bytes) into buf from any node; 0 or -ENOENT. */
static int find_copy(struct fsck *f, const struct blockclient_nodes *ns, const struct hash *h,
		     uint8_t *buf, size_t len)
{
	size_t nn = blockclient_nodes_count(ns), idx[BLOCKCLIENT_NODES_MAX];
	size_t n = blockclient_nodes_rank(ns, h, idx, nn);

	for (size_t j = 0; j < n; j++) {
		struct err why = { 0 };

		if (blockclient_node_get(f->bc, ns, idx[j], h, buf, len, NULL, NULL, &why) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Store a copy on node i; a copy found corrupt is deleted first, as a
 * node answers a PUT of a block it has (or thinks it has) without
 * rewriting it. */
static int put_copy(struct fsck *f, const struct blockclient_nodes *ns, size_t i,
		    const struct hash *h, const void *data, size_t len, int was, struct err *e)
{
	if (was == -EBADMSG) {
		int r = blockclient_node_delete(f->bc, ns, i, h, 0, e);

		if (r < 0 && r != -ENOENT)
			return r;
	}
	return blockclient_node_put(f->bc, ns, i, h, data, len, e);
}

static const char *state(int r)
{
	return r == -ENOENT ? "missing" : r == -EBADMSG ? "corrupt" : "unreachable";
}

/* One replicated block: on each of the first rep writable nodes of its
 * ranking, fetched and verified. */
static int check_block(struct fsck *f, const struct blockclient_nodes *ns,
		       const struct inode *in, const struct record_ref *ref, unsigned rep,
		       uint8_t *buf, uint8_t *good, struct err *e)
{
	size_t nn = blockclient_nodes_count(ns), idx[BLOCKCLIENT_NODES_MAX], nw = 0;
	size_t n = blockclient_nodes_rank(ns, &ref->h[0], idx, nn);
	char hex[HASH_HEX_LEN + 1], path[1024];
	int have = -1;

	for (size_t j = 0; j < n; j++)
		nw += blockclient_nodes_weight(ns, idx[j]) > 0;
	if (rep > nw)
		rep = (unsigned)nw;
	hash_to_hex(&ref->h[0], hex);
	f->blocks++;
	for (size_t j = 0; j < rep; j++) {
		struct err why = { 0 };
		int r = blockclient_node_get(f->bc, ns, idx[j], &ref->h[0], buf, ref->len, NULL,
					     NULL, &why);

		if (r == 0)
			continue;
		problem(f, K_REPLICA, "inode %" PRIu64 " (%s) block %s at %" PRIu64 ": copy %zu"
			" of %u %s on %s", in->ino, path_of(f, in->ino, path, sizeof(path)), hex,
			ref->off, j + 1, rep, state(r), blockclient_nodes_id(ns, idx[j]));
		if (have < 0)
			have = find_copy(f, ns, &ref->h[0], good, ref->len);
		if (have < 0) {
			problem(f, K_LOST, "block %s (inode %" PRIu64 "): no good copy on any node",
				hex, in->ino);
			return 0;
		}
		if (!f->repair || r == -ECONNREFUSED || r == -ETIMEDOUT)
			continue;
		r = put_copy(f, ns, idx[j], &ref->h[0], good, ref->len, r, &why);
		if (r == 0)
			f->repaired++;
		else
			problem(f, K_REPLICA, "block %s: copy to %s failed: %s", hex,
				blockclient_nodes_id(ns, idx[j]), why.msg);
	}
	(void)e;
	return 0;
}

/* One stripe: chunk j on the j-th node of the ranking of its first data
 * chunk. A lost chunk is rebuilt by reading the stripe (any k chunks decode)
 * and encoding it again. */
static int check_stripe(struct fsck *f, const struct blockclient_nodes *ns,
			const struct inode *in, const struct record_ref *ref, struct err *e)
{
	size_t nn = blockclient_nodes_count(ns), idx[BLOCKCLIENT_NODES_MAX];
	size_t n = blockclient_nodes_rank(ns, &ref->h[0], idx, nn), nh = record_ref_nhash(ref);
	size_t clen = ec_chunk_len(ref->len, ref->k);
	uint8_t *chunk = malloc(clen), *data = NULL, *scratch = NULL, *ptr[64];
	char hex[HASH_HEX_LEN + 1], path[1024];
	struct ec *codec = NULL;
	int rebuilt = 0, r = 0;

	if (chunk == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	f->chunks += nh;
	for (size_t j = 0; j < nh; j++) {
		struct err why = { 0 };
		int g = j < n ? blockclient_node_get(f->bc, ns, idx[j], &ref->h[j], chunk, clen,
						     NULL, NULL, &why) : -ENOENT;

		if (g == 0)
			continue;
		hash_to_hex(&ref->h[j], hex);
		problem(f, K_CHUNK, "inode %" PRIu64 " (%s) stripe at %" PRIu64 " %u+%u: %s "
			"chunk %zu (%.16s...) %s on %s", in->ino,
			path_of(f, in->ino, path, sizeof(path)), ref->off, ref->k, ref->m,
			j < ref->k ? "data" : "parity", j + 1, hex, state(g),
			j < n ? blockclient_nodes_id(ns, idx[j]) : "(no node)");
		if (!f->repair || j >= n || g == -ECONNREFUSED || g == -ETIMEDOUT)
			continue;
		if (!rebuilt) {
			size_t sl = blockclient_stripe_scratch(ref->len, ref->k, ref->m);

			data = malloc(ref->len);
			scratch = malloc(sl);
			if (data == NULL || scratch == NULL) {
				r = err_set(e, -ENOMEM, "out of memory");
				goto fail;
			}
			if (blockclient_get_ec(f->bc, ref->h, ref->k, ref->m, data, ref->len, &why) < 0 ||
			    ec_new(&codec, ref->k, ref->m, &why) < 0 ||
			    blockclient_stripe_encode(codec, data, ref->len, scratch, ptr, &why) < 0) {
				problem(f, K_LOST, "stripe at %" PRIu64 " of inode %" PRIu64
					": cannot rebuild: %s", ref->off, in->ino, why.msg);
				goto fail;
			}
			rebuilt = 1;
		}
		{
			struct hash got;

			hash_buf(&got, ptr[j], clen);
			if (!hash_equal(&got, &ref->h[j])) {
				problem(f, K_LOST, "stripe at %" PRIu64 " of inode %" PRIu64
					": chunk %zu rebuilt with another hash", ref->off, in->ino,
					j + 1);
				continue;
			}
		}
		g = put_copy(f, ns, idx[j], &ref->h[j], ptr[j], clen, g, &why);
		if (g == 0)
			f->repaired++;
		else
			problem(f, K_CHUNK, "chunk %.16s...: put to %s failed: %s", hex,
				blockclient_nodes_id(ns, idx[j]), why.msg);
	}
fail:
	ec_free(codec);
	free(chunk);
	free(data);
	free(scratch);
	return r;
}

/* The slot of key in a table of cap (a power of two) hashes: where it is,
 * or the empty (all-zero) slot where it goes. SHA-256 bytes are uniform,
 * so the first four are the probe start. */
static size_t seen_slot(const struct hash *v, size_t cap, const struct hash *key)
{
	static const struct hash zero;
	size_t i = ((size_t)key->b[0] | (size_t)key->b[1] << 8 | (size_t)key->b[2] << 16 |
		    (size_t)key->b[3] << 24) & (cap - 1);

	while (!hash_equal(&v[i], key) && !hash_equal(&v[i], &zero))
		i = (i + 1) & (cap - 1);
	return i;
}

/* Has this ref (its hashes and the copies it needs) been checked already?
 * With dedup many refs share a block: each is fetched and repaired once.
 * Returns 1, 0 (now marked), or -ENOMEM. */
static int seen_before(struct fsck *f, const struct record_ref *ref, unsigned rep,
		       struct err *e)
{
	static const struct hash zero;
	uint8_t tag[2] = { ref->k, (uint8_t)(ref->k == 0 ? rep : ref->m) };
	struct hash_ctx *c = hash_ctx_new();
	struct hash key;
	size_t i;

	if (c == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	hash_ctx_update(c, tag, sizeof(tag));
	hash_ctx_update(c, ref->h, record_ref_nhash(ref) * sizeof(*ref->h));
	hash_ctx_final(c, &key);
	hash_ctx_free(c);
	if (2 * (f->nseen + 1) > f->cseen) {            /* keep it at most half full */
		size_t nc = f->cseen ? 2 * f->cseen : 1024;
		struct hash *v = calloc(nc, sizeof(*v));

		if (v == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		for (size_t j = 0; j < f->cseen; j++)
			if (!hash_equal(&f->seen[j], &zero))
				v[seen_slot(v, nc, &f->seen[j])] = f->seen[j];
		free(f->seen);
		f->seen = v;
		f->cseen = nc;
	}
	i = seen_slot(f->seen, f->cseen, &key);
	if (hash_equal(&f->seen[i], &key))
		return 1;
	f->seen[i] = key;
	f->nseen++;
	return 0;
}

static int check_refs(struct fsck *f, const struct blockclient_nodes *ns,
		      const struct inode *in, const struct record_refs *refs,
		      struct progress *pr, struct err *e)
{
	unsigned rep = in->rec.policy.kind == RECORD_POLICY_REP ? in->rec.policy.rep : DEFAULT_REP;

	for (size_t i = 0; i < refs->n; i++) {
		const struct record_ref *ref = &refs->v[i];
		int r = seen_before(f, ref, rep, e);

		if (r < 0)
			return r;
		if (r > 0) {
			progress_add(pr, 1);
			continue;
		}
		if (ref->k == 0) {
			uint8_t *buf = malloc(ref->len), *good = malloc(ref->len);

			r = buf == NULL || good == NULL ? err_set(e, -ENOMEM, "out of memory") :
				check_block(f, ns, in, ref, rep, buf, good, e);
			free(buf);
			free(good);
		} else {
			r = check_stripe(f, ns, in, ref, e);
		}
		if (r < 0)
			return r;
		progress_add(pr, 1);
	}
	return 0;
}

static int check_blocks(struct fsck *f, struct err *e)
{
	struct blockclient_nodes *ns = blockclient_nodes_get(f->bc);
	struct progress pr;
	uint64_t total = 0;
	int r = 0;

	for (size_t i = 0; i < f->nino; i++)
		total += f->ino[i].rec.refs.n;
	for (size_t i = 0; i < f->npg; i++)
		total += f->pg[i].refs.n;
	progress_init(&pr, stderr, f->repair ? "fsck --repair: refs" : "fsck: refs", "refs", total);
	for (size_t i = 0; i < f->nino && r == 0; i++)
		r = check_refs(f, ns, &f->ino[i], &f->ino[i].rec.refs, &pr, e);
	for (size_t i = 0; i < f->npg && r == 0; i++) {
		struct inode *in = find_inode(f, f->pg[i].ino);

		if (in == NULL) {
			problem(f, K_BAD_RECORD, "block-map page %" PRIu64 ".%" PRIu64
				".m: no such inode", f->pg[i].page, f->pg[i].ino);
			continue;
		}
		r = check_refs(f, ns, in, &f->pg[i].refs, &pr, e);
	}
	progress_end(&pr);
	blockclient_nodes_put(ns);
	return r;
}

/* ----------------------------------------------------------- the command --- */

static void fsck_release(struct fsck *f)
{
	for (size_t i = 0; i < f->nino; i++) {
		record_inode_release(&f->ino[i].rec);
		free(f->ino[i].rdata);
	}
	for (size_t i = 0; i < f->npg; i++)
		record_refs_release(&f->pg[i].refs);
	for (size_t i = 0; i < f->nshown; i++)
		free(f->shown[i]);
	free(f->shown);
	free(f->seen);
	free(f->ino);
	free(f->de);
	free(f->ls);
	free(f->pg);
	blockclient_free(f->bc);
	tsig_keyring_release(&f->bkr);
	mdc_release(&f->mdc);
}

static int report(struct fsck *f)
{
	uint64_t total = 0;

	printf("fsck %s: %zu inodes, %zu dentries, %zu listing entries, %zu block-map pages,"
	       " %" PRIu64 " blocks and %" PRIu64 " stripe chunks checked (each once)\n",
	       f->zone, f->nino, f->nde, f->nls, f->npg, f->blocks, f->chunks);
	printf("block reference counts: not checked (the mds keeps them in Redis and does"
	       " not serve them)\n");
	for (int k = 0; k < K_NKINDS; k++) {
		total += f->count[k];
		if (f->count[k] > 0)
			printf("  %-36s %" PRIu64 "\n", kind_name[k], f->count[k]);
	}
	for (size_t i = 0; i < f->nshown; i++)
		printf("  - %s\n", f->shown[i]);
	if (total > (uint64_t)f->nshown && f->nshown == (size_t)f->max_show)
		printf("  ... (first %d shown; --max N shows more)\n", f->max_show);
	if (f->repair)
		printf("repaired: %" PRIu64 "\n", f->repaired);
	if (total == 0) {
		printf("CLEAN\n");
		return 0;
	}
	printf("PROBLEMS: %" PRIu64 "\n", total);
	return FSCK_EXIT_PROBLEMS;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dnsfsctl fsck --dir DIR [--repair] [--grace SEC] [--max N]\n\n"
		"Walk the cluster's zone (AXFR) and check every dentry, nlink, listing\n"
		"bucket and nlink=0 orphan, and fetch and verify every referenced block on\n"
		"the nodes its placement names (rep copies; all k+m chunks of a stripe).\n"
		"Exit 0 only when clean, %d when problems were found (after --repair\n"
		"has repaired something, a second pass checks again and decides).\n\n"
		"  --repair      copy missing replicas from a good copy, rebuild missing\n"
		"                stripe chunks from parity, fix nlink, delete orphans\n"
		"  --grace SEC   age an orphan must have before --repair deletes it (600)\n"
		"  --max N       problems described (20); all are counted\n",
		FSCK_EXIT_PROBLEMS);
}

/* One pass: transfer, check (and repair), report. Releases what f holds. */
static int fsck_run(struct fsck *f, struct err *e)
{
	struct env env;
	struct walk w = { .f = f, .e = e };
	char path[4096];
	const char *zone, *addr, *port, *kf;
	int r;

	env_init(&env);
	snprintf(path, sizeof(path), "%s/cluster.env", f->dir);
	r = env_read(&env, path, e);
	if (r < 0)
		goto fail;
	zone = env_get(&env, "DNSFS_ZONE");
	addr = env_get(&env, "DNSFS_MDS_ADDR");
	port = env_get(&env, "DNSFS_MDS_PORT");
	kf = env_get(&env, "DNSFS_TSIG_KEYFILE");
	if (zone == NULL || addr == NULL || port == NULL || kf == NULL) {
		r = err_set(e, -EINVAL, "%s: needs DNSFS_ZONE, DNSFS_MDS_ADDR, DNSFS_MDS_PORT "
			    "and DNSFS_TSIG_KEYFILE", path);
		goto fail;
	}
	r = mdc_init(&f->mdc, zone, addr, atoi(port), kf, e);
	if (r < 0)
		goto fail;
	snprintf(f->zone, sizeof(f->zone), "%s", f->mdc.zone);
	f->mdc.timeout_ms = 10000;
	if ((f->shown = calloc((size_t)f->max_show, sizeof(*f->shown))) == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	r = mdc_axfr(&f->mdc, walk_rr, &w, e);
	if (r < 0)
		goto fail;
	r = nodes_open(f, &env, e);
	if (r < 0)
		goto fail;
	check_metadata(f, e);
	r = check_blocks(f, e);
	if (r < 0)
		goto fail;
	r = report(f);
fail:
	fsck_release(f);
	env_release(&env);
	return r;
}

int fsck_cmd(int argc, char **argv, struct err *e)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "repair", no_argument, NULL, 'r' },
		{ "grace", required_argument, NULL, 'g' },
		{ "max", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct fsck f = { .grace = 600, .max_show = 20 };
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': f.dir = optarg; break;
		case 'r': f.repair = 1; break;
		case 'g': f.grace = atoll(optarg); break;
		case 'n': f.max_show = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (f.dir == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	r = fsck_run(&f, e);
	/* After repairs the verdict is a fresh check's, so `fsck --repair`
	 * exits 0 exactly when it left the file system clean. */
	if (r == FSCK_EXIT_PROBLEMS && f.repaired > 0) {
		struct fsck again = { .dir = f.dir, .grace = f.grace, .max_show = f.max_show };

		printf("checking again after the repairs:\n");
		r = fsck_run(&again, e);
	}
	return r;
}
