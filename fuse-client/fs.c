/* fs: FUSE lowlevel operations over the dnsfs schema (docs/SCHEMA.md,
 * "The mount"). Every handler calls a helper that returns 0 or a negative
 * errno and replies exactly once at its end (a blocked lock request is
 * answered by lock.c). Handlers run in several threads (mount.c): shared
 * state takes a mutex; open files are shared per inode (struct fs_open),
 * each under its own mutex. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "blockcache.h"
#include "blockclient.h"
#include "cred.h"
#include "capacity.h"
#include "dirbucket.h"
#include "fs.h"
#include "fsmeta.h"
#include "lock.h"
#include "log.h"
#include "mdc.h"
#include "ofile.h"
#include "record.h"
#include "resolve.h"
#include "tsig.h"

#define FS_TTL 1                /* TTL of records this client writes */
#define FS_TIMEOUT 1.0          /* kernel entry/attr cache, like the TTL */
#define FS_CAS_TRIES 8          /* compare-and-swap retries before EIO */
/* creates, removes, links and renames CAS their parent directory, which
 * every mount creating in it races for: more tries, with a random backoff */
#define FS_DIR_TRIES 64
#define FS_COMMIT_TRIES 40      /* a content commit tries harder, with
				 * back-off: about 10 s in all at most */
#define FS_OPEN_BUCKETS 256     /* hash chains of the open-file table */
#define FS_AUTOCOMMIT_CHUNKS 64 /* uncommitted 4 MiB chunks that make a write
				 * commit: 64 stripe refs, 2-3 pages */
#define FS_AUTOCOMMIT_SEC 120   /* or the age of the oldest uncommitted one */
#define FS_CACHE_BYTES (1ull << 30) /* default bound of the block cache */
#define FS_EC_K 4               /* default stripe of a full 4 MiB chunk: */
#define FS_EC_M 2               /*   4 data + 2 parity blocks of 1 MiB */
/* rdata of the longest text: one length byte per string */
#define FS_RDATA_MAX (RECORD_TEXT_LONG_MAX + RECORD_STRS_FOR(RECORD_TEXT_LONG_MAX) + 16)

struct fs {
	struct mdc mdc;                 /* metadata: queries and UPDATEs */
	struct blockclient *bc;         /* content */
	struct tsig_keyring bkr;        /* the block key (owned) */
	struct capacity cap;            /* statfs figures from blockd */
	int cap_init;                   /* cap is initialised */
	unsigned rep;                   /* copies of new files' blocks */
	pthread_mutex_t ino_mu;         /* guards next_ino, end_ino */
	uint64_t next_ino;              /* next free number of the claimed range */
	uint64_t end_ino;               /* end of the claimed range (exclusive) */
	struct lock *lk;                /* flock and fcntl locks (lock.h) */
	struct fuse_session *se;        /* for invalidations; may be NULL */
	char ra_path[128];              /* read_ahead_kb to write, "" when done */
	int ra_kb;
	pthread_mutex_t ra_mu;
	struct blockcache *cache;       /* local block cache; may be NULL */
	pthread_mutex_t op_mu;          /* the open-file table */
	struct fs_open *op_tab[FS_OPEN_BUCKETS];
};

/* An inode as read: the parsed record and its exact rdata (the CAS value). */
struct fs_inode {
	uint64_t ino;
	struct record_inode r;
	uint16_t rdlen;
	uint8_t rdata[FS_RDATA_MAX];
};

/* A regular file open in this mount: one per inode, shared by all its
 * handles (fi->fh), so every reader here sees every write made here at once.
 * Content changes and attribute changes made while it is dirty wait for the
 * commit at flush/fsync/release: close-to-open consistency. */
struct fs_open {
	uint64_t ino;
	unsigned refs;                  /* handles + short-lived users (fs->op_mu) */
	unsigned handles;               /* open handles (fs->op_mu) */
	struct fs_open *next;           /* hash chain (fs->op_mu) */
	pthread_mutex_t mu;             /* guards all below */
	struct fs_inode base;           /* the committed version it is based on */
	struct ofile *of;
	int pend_set;                   /* FUSE_SET_ATTR_* waiting for the commit */
	struct stat pend;
	int written;                    /* content changed: mtime is wtime */
	struct record_time wtime;
	int unlinked;                   /* its last name went while open here */
	int gone;                       /* removed by another client */
	int pages_regular;              /* the base's pages hold 32 refs each
					 * but the last (so pages can be kept) */
};

/* A listing entry with its bucket key (dirbucket_key of the name). */
struct fs_dent {
	uint64_t key;
	struct record_entry en;
};

/* An open directory. readdir walks the buckets in key order; the bucket it
 * is in stays cached here between calls (the kernel asks for a few KiB at a
 * time, a bucket holds about 8 KiB of entries). */
struct fs_dir {
	pthread_mutex_t mu;             /* readdir calls on one handle */
	uint64_t ino;
	uint64_t parent;                /* its "..": parent=, or itself (the
					 * root, or a directory without one) */
	uint32_t nb;                    /* bucket count last read, 0 = none yet */
	int have;                       /* v holds the bucket of keys [lo, hi] */
	uint64_t lo, hi;
	struct fs_dent *v;              /* owned, sorted by key */
	size_t n;
};

static struct record_time now_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct record_time){ .sec = ts.tv_sec, .nsec = (uint32_t)ts.tv_nsec };
}

static struct fs_inode *inode_alloc(void)
{
	return calloc(1, sizeof(struct fs_inode));
}

static void inode_free(struct fs_inode *in)
{
	if (in != NULL)
		record_inode_release(&in->r);
	free(in);
}

/* ---------------------------------------------------------------- names --- */

static void name_inode(struct fs *fs, char *buf, uint64_t ino)
{
	record_name_inode(buf, RECORD_NAME_BUF, fs->mdc.zone, ino);
}

static void name_listing(struct fs *fs, char *buf, uint64_t dir, uint32_t bucket)
{
	record_name_listing(buf, RECORD_NAME_BUF, fs->mdc.zone, dir, bucket);
}

/* Buckets of a directory inode (buckets= is 1 when absent). */
static uint32_t dir_buckets(const struct fs_inode *dir)
{
	return dir->r.buckets > 0 ? dir->r.buckets : 1;
}

/* The listing bucket of name in dir, as dir was read (docs/SCHEMA.md,
 * "Listing buckets"): every entry change names it from the same read of the
 * directory inode that its UPDATE has as prerequisite. */
static void name_entry_bucket(struct fs *fs, char *buf, const struct fs_inode *dir,
			      const char *name)
{
	uint64_t key = dirbucket_key(name, strlen(name));

	name_listing(fs, buf, dir->ino, dirbucket_of(key, dir_buckets(dir)));
}

/* A random pause before retrying a directory CAS another mount won:
 * 0.1 ms .. 2^min(t,6) * 0.1 ms, so racing mounts fall out of step. */
static void dir_backoff(int t)
{
	uint32_t v = 0;
	struct timespec ts;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = (uint32_t)rand();
	v %= 100000u << (t < 6 ? t : 6);
	ts.tv_sec = v / 1000000000u;
	ts.tv_nsec = (long)(v % 1000000000u) + 100000;
	nanosleep(&ts, NULL);
}

/* ------------------------------------------------------------ reading --- */

/* Fill in from a TXT rdata. */
static int inode_from_rdata(struct fs_inode *in, uint64_t ino, const uint8_t *rdata,
			    size_t rdlen, struct err *e)
{
	char *text = malloc(FS_RDATA_MAX);
	int r;

	if (text == NULL)
		return -ENOMEM;
	if (rdlen > sizeof(in->rdata)) {
		free(text);
		return err_set(e, -E2BIG, "inode %llu: record too long", (unsigned long long)ino);
	}
	r = mdc_txt_text(rdata, rdlen, text, FS_RDATA_MAX, e);
	if (r >= 0) {
		record_inode_release(&in->r);
		r = record_inode_parse_text(&in->r, text, (size_t)r, e);
	}
	free(text);
	if (r < 0) {
		log_warn("inode %llu: %s", (unsigned long long)ino, e->msg);
		return -EIO;
	}
	in->ino = ino;
	in->rdlen = (uint16_t)rdlen;
	memcpy(in->rdata, rdata, rdlen);
	return 0;
}

/* Fresh read of <ino>.i.Z. -ENOENT if it does not exist. */
static int inode_get(struct fs *fs, uint64_t ino, struct fs_inode *out, struct err *e)
{
	char name[RECORD_NAME_BUF];
	struct mdc_answer a;
	int r;

	name_inode(fs, name, ino);
	r = mdc_query(&fs->mdc, name, WIRE_T_TXT, &a, e);
	if (r < 0)
		return r;
	r = -ENOENT;
	if (a.rcode != WIRE_RC_NOERROR && a.rcode != WIRE_RC_NXDOMAIN)
		r = err_set(e, -EIO, "%s: %s", name, wire_rcode_name(a.rcode));
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].type == WIRE_T_TXT) {
			r = inode_from_rdata(out, ino, a.v[i].rdata, a.v[i].rdlen, e);
			break;
		}
	mdc_answer_release(&a);
	return r;
}

/* Allocate an inode and read it fresh: what every single-inode operation
 * starts with. *out is NULL or owned by the caller (inode_free) either way. */
static int inode_load(struct fs *fs, uint64_t ino, struct fs_inode **out, struct err *e)
{
	*out = inode_alloc();
	if (*out == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	return inode_get(fs, ino, *out, e);
}

/* lookup(parent, name): one query of the dentry, which the mds answers with
 * the CNAME and the inode TXT it points to. *cname gets the CNAME rdata
 * (for a prerequisite) when not NULL. */
static int dentry_get(struct fs *fs, uint64_t parent, const char *name, struct fs_inode *out,
		      uint8_t *cname, uint16_t *cnamelen, struct err *e)
{
	char qname[RECORD_NAME_BUF], target[WIRE_NAME_MAX * 4 + 1];
	struct mdc_answer a;
	struct wire_name tn;
	uint64_t ino = 0;
	int r;

	r = record_name_dentry(qname, sizeof(qname), fs->mdc.zone, parent, name, strlen(name));
	if (r < 0)
		return r;
	r = mdc_query(&fs->mdc, qname, WIRE_T_TXT, &a, e);
	if (r < 0)
		return r;
	r = -ENOENT;
	if (a.rcode != WIRE_RC_NOERROR && a.rcode != WIRE_RC_NXDOMAIN)
		r = err_set(e, -EIO, "%s: %s", qname, wire_rcode_name(a.rcode));
	for (size_t i = 0; i < a.n; i++) {
		if (a.v[i].type != WIRE_T_CNAME || a.v[i].rdlen > WIRE_NAME_MAX)
			continue;
		memcpy(tn.b, a.v[i].rdata, a.v[i].rdlen);
		tn.len = (uint8_t)a.v[i].rdlen;
		if (wire_name_to_text(&tn, target, sizeof(target)) < 0 ||
		    record_parse_inode_name(target, strlen(target), fs->mdc.zone, &ino) < 0) {
			r = err_set(e, -EIO, "%s: CNAME is not an inode name", qname);
			goto done;
		}
		if (cname != NULL) {
			memcpy(cname, a.v[i].rdata, a.v[i].rdlen);
			*cnamelen = a.v[i].rdlen;
		}
		break;
	}
	if (ino == 0)
		goto done;
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].type == WIRE_T_TXT && strcasecmp(a.v[i].owner, target) == 0) {
			r = inode_from_rdata(out, ino, a.v[i].rdata, a.v[i].rdlen, e);
			goto done;
		}
	r = inode_get(fs, ino, out, e);         /* the mds did not chase it */
done:
	mdc_answer_release(&a);
	return r;
}

static void inode_stat(const struct fs_inode *in, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = in->ino;
	st->st_mode = record_type_to_ifmt(in->r.type) | in->r.mode;
	st->st_nlink = in->r.nlink;
	st->st_uid = in->r.uid;
	st->st_gid = in->r.gid;
	st->st_size = (off_t)in->r.size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((in->r.size + 511) / 512);
	st->st_rdev = in->r.rdev;
	st->st_mtim = (struct timespec){ in->r.mtime.sec, in->r.mtime.nsec };
	st->st_ctim = (struct timespec){ in->r.ctime.sec, in->r.ctime.nsec };
	st->st_atim = (struct timespec){ in->r.atime.sec, in->r.atime.nsec };
}

static void inode_entry(const struct fs_inode *in, struct fuse_entry_param *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->ino = in->ino;
	ep->generation = in->r.gen;
	inode_stat(in, &ep->attr);
	ep->attr_timeout = FS_TIMEOUT;
	ep->entry_timeout = FS_TIMEOUT;
}

/* All refs of a file version: those in the inode, then its block-map
 * pages (fetched fresh), in offset order, appended to out. */
static int refs_load(struct fs *fs, const struct fs_inode *in, struct record_refs *out,
		     int *regular, struct err *e)
{
	char *text = NULL;
	int r = 0;

	if (regular != NULL)
		*regular = in->r.refs.n == 0;   /* refs in pages only */
	for (size_t i = 0; r == 0 && i < in->r.refs.n; i++)
		r = record_refs_add_ref(out, &in->r.refs.v[i], e);
	if (r == 0 && in->r.pages > 0 && (text = malloc(RECORD_PAGE_TEXT_MAX + 1)) == NULL)
		r = err_set(e, -ENOMEM, "out of memory");
	for (uint64_t p = 0; r == 0 && p < in->r.pages; p++) {
		char name[RECORD_NAME_BUF];
		struct record_page page;
		struct mdc_answer a;

		record_page_init(&page);
		record_name_map(name, sizeof(name), fs->mdc.zone, in->ino, p);
		r = mdc_query(&fs->mdc, name, WIRE_T_TXT, &a, e);
		if (r == 0) {
			r = err_set(e, -EIO, "%s: missing block-map page", name);
			for (size_t i = 0; i < a.n; i++)
				if (a.v[i].type == WIRE_T_TXT) {
					r = mdc_txt_text(a.v[i].rdata, a.v[i].rdlen, text,
							 RECORD_PAGE_TEXT_MAX + 1, e);
					if (r >= 0)
						r = record_page_parse_text(&page, text, (size_t)r, e);
					break;
				}
			mdc_answer_release(&a);
		}
		for (size_t i = 0; r == 0 && i < page.refs.n; i++)
			r = record_refs_add_ref(out, &page.refs.v[i], e);
		if (regular != NULL && p + 1 < in->r.pages && page.refs.n != RECORD_PAGE_REFS)
			*regular = 0;
		record_page_release(&page);
	}
	free(text);
	return r;
}

static int ref_same(const struct record_ref *x, const struct record_ref *y)
{
	return x->off == y->off && x->len == y->len && x->k == y->k && x->m == y->m &&
	       memcmp(x->h, y->h, record_ref_nhash(x) * sizeof(*x->h)) == 0;
}

/* Do two versions of a file have the same content? (Versions with pages
 * count as different: telling would cost the page reads.) */
static int content_same(const struct record_inode *a, const struct record_inode *b)
{
	if (a->size != b->size || a->datalen != b->datalen || a->pages > 0 || b->pages > 0 ||
	    a->refs.n != b->refs.n || (a->datalen > 0 && memcmp(a->data, b->data, a->datalen) != 0))
		return 0;
	for (size_t i = 0; i < a->refs.n; i++)
		if (!ref_same(&a->refs.v[i], &b->refs.v[i]))
			return 0;
	return 1;
}

/* ------------------------------------------------------------ writing --- */

/* TXT rdata of a logical text into buf (FS_RDATA_MAX). */
static int txt_rdata(const char *text, uint8_t *buf, struct err *e)
{
	return mdc_txt_rdata(text, strlen(text), buf, FS_RDATA_MAX, e);
}

/* Add "delete the rrset, add this record" for an inode to u. */
static int put_inode(struct fs *fs, struct mdc_update *u, uint64_t ino,
		     const struct record_inode *r, uint8_t *rdata_out, uint16_t *rdlen_out,
		     struct err *e)
{
	char name[RECORD_NAME_BUF];
	char *text = malloc(RECORD_TEXT_LONG_MAX + 1);
	int n;

	if (text == NULL)
		return -ENOMEM;
	n = record_inode_format(r, text, RECORD_TEXT_LONG_MAX + 1, e);
	if (n >= 0)
		n = txt_rdata(text, rdata_out, e);
	free(text);
	if (n < 0)
		return n;
	*rdlen_out = (uint16_t)n;
	name_inode(fs, name, ino);
	mdc_upd_del_rrset(u, name, WIRE_T_TXT);
	mdc_upd_add(u, name, WIRE_T_TXT, FS_TTL, rdata_out, (uint16_t)n);
	return 0;
}

/* A deep copy of cur's record to change (parsed again from its rdata). */
static int inode_copy(const struct fs_inode *cur, struct fs_inode *out, struct err *e)
{
	int r = inode_from_rdata(out, cur->ino, cur->rdata, cur->rdlen, e);

	return r;
}

/* What a compare-and-swap of an inode changes: content and/or attributes. */
struct change {
	int content;                    /* replace the content: */
	uint64_t size;
	const uint8_t *data;            /*   inline (size <= RECORD_INLINE_MAX) */
	const struct record_refs *refs; /*   or these refs */
	const struct record_refs *base_refs; /* all refs of cur in its pages,
					 * 32 a page (NULL: unknown) */
	int mtime_set;                  /*   mtime: this, not now */
	struct record_time mtime;
	int to_set;                     /* FUSE_SET_ATTR_* (not SIZE) */
	struct stat attr;
	const struct cred *who;         /* the caller of a setattr; NULL:
					 * privileged (keeps S_ISGID) */
	int kill_sgid;                  /* a setattr that sets no attribute but
					 * the size: see sgid_killed() */
	int xop;                        /* XOP_SET / XOP_REMOVE an xattr: */
	const char *xname;              /*   name (NUL-terminated) */
	const void *xval;               /*   value (XOP_SET) */
	size_t xlen;
	int xflags;                     /*   XATTR_CREATE, XATTR_REPLACE */
};

enum { XOP_NONE, XOP_SET, XOP_REMOVE };

/* Whether a setattr that sets no attribute but maybe the size, from the
 * caller who, clears S_ISGID of r. Linux clears S_ISGID without S_IXGRP
 * (02767) when a caller outside the file's group writes, truncates or
 * chowns a non-directory (setattr_should_drop_sgid); the kernel's FUSE path
 * clears only S_ISUID and group-executable S_ISGID itself and sends such a
 * request with no mode in it, so the rule is applied here. */
static int sgid_killed(const struct change *ch, const struct record_inode *r)
{
	return ch->kill_sgid && ch->who != NULL && r->type != RECORD_DIR &&
	       (r->mode & (S_ISGID | S_IXGRP)) == S_ISGID && !cred_keeps_sgid(ch->who, r->gid);
}

/* Do a and b hold the same refs in the page that starts at ref i? */
static int page_same(const struct record_refs *a, const struct record_refs *b, size_t i)
{
	size_t na = a->n > i ? a->n - i : 0, nb = b->n > i ? b->n - i : 0;

	na = na < RECORD_PAGE_REFS ? na : RECORD_PAGE_REFS;
	nb = nb < RECORD_PAGE_REFS ? nb : RECORD_PAGE_REFS;
	if (na != nb || na == 0)
		return 0;
	for (size_t j = i; j < i + na; j++)
		if (!ref_same(&a->v[j], &b->v[j]))
			return 0;
	return 1;
}

/* Apply ch to the copy nr of cur; block-map pages go into u. */
static int change_apply(struct fs *fs, const struct fs_inode *cur, struct record_inode *nr,
			const struct change *ch, struct mdc_update *u, struct err *e)
{
	struct record_time now = now_time();
	uint64_t pages = 0;
	int r;

	if (ch->content) {
		free(nr->data);
		nr->data = NULL;
		nr->datalen = 0;
		record_refs_release(&nr->refs);
		nr->pages = 0;
		nr->size = ch->size;
		nr->mtime = ch->mtime_set ? ch->mtime : now;
		if (ch->data != NULL && ch->size > 0) {
			r = record_inode_set_data(nr, ch->data, (size_t)ch->size, e);
			if (r < 0)
				return r;
		} else if (ch->refs != NULL && record_refs_nhash(ch->refs) <= RECORD_INLINE_REFS) {
			/* in the inode while it stays within a UDP answer: up to
			 * 8 hashes (8 blocks, or one 4+2 stripe) */
			for (size_t i = 0; i < ch->refs->n; i++) {
				const struct record_ref *f = &ch->refs->v[i];

				r = record_refs_add_ref(&nr->refs, f, e);
				if (r < 0)
					return r;
			}
		} else if (ch->refs != NULL) {
			/* block-map pages of RECORD_PAGE_REFS refs each */
			uint8_t *rd = malloc(FS_RDATA_MAX);
			char *text = malloc(RECORD_PAGE_TEXT_MAX + 1);

			r = rd != NULL && text != NULL ? 0 : -ENOMEM;
			for (size_t i = 0; r == 0 && i < ch->refs->n; i += RECORD_PAGE_REFS) {
				struct record_page pg;
				char name[RECORD_NAME_BUF];

				/* a page the old version has with the same refs stays
				 * as it is: a commit rewrites only what changed, so one
				 * UPDATE (64 KiB) carries a large file's growth */
				if (pages < cur->r.pages && ch->base_refs != NULL &&
				    page_same(ch->base_refs, ch->refs, i)) {
					pages++;
					continue;
				}
				record_page_init(&pg);
				pg.page = pages;
				for (size_t j = i; r == 0 && j < ch->refs->n && j < i + RECORD_PAGE_REFS; j++) {
					const struct record_ref *f = &ch->refs->v[j];

					r = record_refs_add_ref(&pg.refs, f, e);
				}
				if (r == 0)
					r = record_page_format(&pg, text, RECORD_PAGE_TEXT_MAX + 1, e);
				if (r >= 0)
					r = mdc_txt_rdata(text, (size_t)r, rd, FS_RDATA_MAX, e);
				if (r >= 0) {
					record_name_map(name, sizeof(name), fs->mdc.zone, cur->ino, pages);
					mdc_upd_del_rrset(u, name, WIRE_T_TXT);
					mdc_upd_add(u, name, WIRE_T_TXT, FS_TTL, rd, (uint16_t)r);
					r = 0;
				}
				record_page_release(&pg);
				pages++;
			}
			free(rd);
			free(text);
			if (r < 0)
				return r;
			nr->pages = pages;
		}
		/* pages of the old version past the new ones */
		for (uint64_t p = pages; p < cur->r.pages; p++) {
			char name[RECORD_NAME_BUF];

			record_name_map(name, sizeof(name), fs->mdc.zone, cur->ino, p);
			mdc_upd_del_rrset(u, name, WIRE_T_TXT);
		}
	}
	if (ch->xop != XOP_NONE) {
		/* decided on the version being replaced, so a concurrent
		 * setxattr of the same name makes this CAS fail and re-decide */
		size_t nl = strlen(ch->xname);
		int have = record_inode_xattr_find(nr, ch->xname, nl) != NULL;

		if (ch->xop == XOP_REMOVE)
			r = record_inode_xattr_remove(nr, ch->xname, nl);
		else if ((ch->xflags & XATTR_CREATE) && have)
			r = -EEXIST;
		else if ((ch->xflags & XATTR_REPLACE) && !have)
			r = -ENODATA;
		else
			r = record_inode_xattr_set(nr, ch->xname, nl, ch->xval, ch->xlen, e);
		if (r < 0)
			return r;
	}
	if (ch->to_set & FUSE_SET_ATTR_UID)
		nr->uid = ch->attr.st_uid;
	if (ch->to_set & FUSE_SET_ATTR_GID)
		nr->gid = ch->attr.st_gid;
	if (ch->to_set & FUSE_SET_ATTR_MODE) {
		nr->mode = ch->attr.st_mode & 07777;
		/* S_ISGID stays only for a caller in the (new) group, as Linux's
		 * setattr_copy has it; the kernel's FUSE path leaves that to us
		 * when a write by another user kills the set-ID bits */
		if (ch->who != NULL && !cred_keeps_sgid(ch->who, nr->gid))
			nr->mode &= ~(uint32_t)S_ISGID;
	}
	if (sgid_killed(ch, nr))
		nr->mode &= ~(uint32_t)S_ISGID;
	if (ch->to_set & FUSE_SET_ATTR_ATIME_NOW)
		nr->atime = now;
	else if (ch->to_set & FUSE_SET_ATTR_ATIME)
		nr->atime = (struct record_time){ ch->attr.st_atim.tv_sec,
						  (uint32_t)ch->attr.st_atim.tv_nsec };
	if (ch->to_set & FUSE_SET_ATTR_MTIME_NOW)
		nr->mtime = now;
	else if (ch->to_set & FUSE_SET_ATTR_MTIME)
		nr->mtime = (struct record_time){ ch->attr.st_mtim.tv_sec,
						  (uint32_t)ch->attr.st_mtim.tv_nsec };
	nr->ctime = now;
	nr->ver = cur->r.ver + 1;
	return 0;
}

/* One compare-and-swap of an inode: ONE UPDATE whose prerequisite is cur's
 * exact TXT rdata. -ECANCELED when cur is no longer the current version;
 * on success cur becomes the committed version. */
static int inode_cas_once(struct fs *fs, struct fs_inode *cur, const struct change *ch,
			  struct err *e)
{
	struct fs_inode *nr = inode_alloc();
	char name[RECORD_NAME_BUF];
	struct mdc_update u;
	int r;

	if (nr == NULL)
		return -ENOMEM;
	name_inode(fs, name, cur->ino);
	if ((r = inode_copy(cur, nr, e)) < 0)
		goto fail;
	r = mdc_update_begin(&fs->mdc, &u);
	mdc_pre_value(&u, name, WIRE_T_TXT, cur->rdata, cur->rdlen);
	if (r == 0)
		r = change_apply(fs, cur, &nr->r, ch, &u, e);
	if (r == 0)
		r = put_inode(fs, &u, cur->ino, &nr->r, nr->rdata, &nr->rdlen, e);
	if (r == 0)
		r = mdc_update_send(&fs->mdc, &u, e);
	mdc_update_release(&u);
	if (r == 0) {
		record_inode_release(&cur->r);
		memcpy(cur, nr, sizeof(*cur));
		record_inode_init(&nr->r);      /* ownership moved to cur */
	}
fail:
	inode_free(nr);
	return r;
}

/* Compare-and-swap of attributes or xattrs: on a conflict, re-read and apply
 * the change again to the newer version. -ENOENT if the inode went away. */
static int inode_cas(struct fs *fs, struct fs_inode *cur, const struct change *ch,
		     struct err *e)
{
	int r = -EIO;

	for (int t = 0; t < FS_CAS_TRIES; t++) {
		r = inode_cas_once(fs, cur, ch, e);
		if (r != -ECANCELED)
			return r;
		if ((r = inode_get(fs, cur->ino, cur, e)) < 0)  /* rebase */
			return r;
		r = err_set(e, -EIO, "inode %llu: still conflicting after %d tries",
			    (unsigned long long)cur->ino, FS_CAS_TRIES);
	}
	return r;
}

/* --------------------------------------------------------- open files --- */

/* Sleep a random time of up to 2^t ms (at most 256 ms) before try t + 1. */
static void backoff(int t)
{
	uint32_t rnd = 0;
	unsigned cap = 1u << (t < 8 ? t : 8);

	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)clock();
	usleep((useconds_t)(1000 * (rnd % cap) + rnd % 1000));
}

static size_t open_bucket(uint64_t ino)
{
	return (size_t)((ino * 0x9e3779b97f4a7c15ull) >> 56) % FS_OPEN_BUCKETS;
}

/* The open file of ino with a reference taken, or NULL. */
static struct fs_open *open_ref(struct fs *fs, uint64_t ino)
{
	struct fs_open *o;

	pthread_mutex_lock(&fs->op_mu);
	for (o = fs->op_tab[open_bucket(ino)]; o != NULL && o->ino != ino; o = o->next)
		;
	if (o != NULL)
		o->refs++;
	pthread_mutex_unlock(&fs->op_mu);
	return o;
}

static int open_is(struct fs *fs, uint64_t ino)
{
	struct fs_open *o;

	pthread_mutex_lock(&fs->op_mu);
	for (o = fs->op_tab[open_bucket(ino)]; o != NULL && o->ino != ino; o = o->next)
		;
	pthread_mutex_unlock(&fs->op_mu);
	return o != NULL;
}

static void open_free(struct fs_open *o)
{
	ofile_free(o->of);
	record_inode_release(&o->base.r);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

/* Drop a reference (and a handle); the last one frees it. */
static void open_unref(struct fs *fs, struct fs_open *o, int handle)
{
	struct fs_open **pp;
	int last;

	pthread_mutex_lock(&fs->op_mu);
	o->handles -= handle ? 1 : 0;
	last = --o->refs == 0;
	if (last) {
		for (pp = &fs->op_tab[open_bucket(o->ino)]; *pp != o; pp = &(*pp)->next)
			;
		*pp = o->next;
	}
	pthread_mutex_unlock(&fs->op_mu);
	if (last)
		open_free(o);
}

static void open_mark_unlinked(struct fs *fs, uint64_t ino)
{
	struct fs_open *o = open_ref(fs, ino);

	if (o == NULL)
		return;
	pthread_mutex_lock(&o->mu);
	o->unlinked = 1;
	pthread_mutex_unlock(&o->mu);
	open_unref(fs, o, 0);
}

static void store_policy(const struct fs *fs, const struct record_inode *r,
			 struct ofile_store_policy *p)
{
	*p = (struct ofile_store_policy){ .rep = fs->rep, .k = FS_EC_K, .m = FS_EC_M };
	if (r->policy.kind == RECORD_POLICY_REP)
		*p = (struct ofile_store_policy){ .rep = r->policy.rep };
	else if (r->policy.kind == RECORD_POLICY_EC)
		p->k = r->policy.k, p->m = r->policy.m;
}

/* An ofile over the content of version in. */
static int ofile_of(struct fs *fs, const struct fs_inode *in, struct ofile **out,
		    int *regular, struct err *e)
{
	struct record_refs refs = { 0 };
	struct ofile_store_policy pol;
	int r = refs_load(fs, in, &refs, regular, e);

	store_policy(fs, &in->r, &pol);
	if (r == 0)
		r = ofile_new(out, fs->bc, &pol, in->r.size, in->r.data, in->r.datalen, &refs, e);
	record_refs_release(&refs);
	return r;
}

/* in is a newer version than o->base (o->mu held): take its attributes, and
 * if its content differs, re-apply what was changed here onto it. */
static int open_sync(struct fs *fs, struct fs_open *o, const struct fs_inode *in, struct err *e)
{
	struct record_refs refs = { 0 };
	int r = 0;

	if (in->rdlen == o->base.rdlen && memcmp(in->rdata, o->base.rdata, in->rdlen) == 0)
		return 0;
	if (!content_same(&in->r, &o->base.r)) {
		r = refs_load(fs, in, &refs, &o->pages_regular, e);
		if (r == 0)
			r = ofile_rebase(o->of, in->r.size, in->r.data, in->r.datalen, &refs, e);
		record_refs_release(&refs);
	}
	if (r == 0)
		r = inode_copy(in, &o->base, e);
	return r;
}

/* The open file of in->ino (fresh from the mds), created or revalidated:
 * close-to-open consistency. A handle is taken. */
static int open_get(struct fs *fs, const struct fs_inode *in, struct fs_open **out,
		    struct err *e)
{
	struct fs_open *o = open_ref(fs, in->ino), *n = NULL, *x;
	int r = 0;

	if (o == NULL) {
		if ((n = calloc(1, sizeof(*n))) == NULL)
			return err_set(e, -ENOMEM, "out of memory");
		pthread_mutex_init(&n->mu, NULL);
		n->ino = in->ino;
		if ((r = inode_copy(in, &n->base, e)) < 0 || (r = ofile_of(fs, in, &n->of, &n->pages_regular, e)) < 0) {
			open_free(n);
			return r;
		}
		pthread_mutex_lock(&fs->op_mu);         /* another thread may have won */
		for (x = fs->op_tab[open_bucket(in->ino)]; x != NULL && x->ino != in->ino; x = x->next)
			;
		if (x == NULL) {
			n->next = fs->op_tab[open_bucket(in->ino)];
			fs->op_tab[open_bucket(in->ino)] = n;
			x = n;
		}
		x->refs++;
		x->handles++;
		pthread_mutex_unlock(&fs->op_mu);
		*out = x;
		if (x == n)
			return 0;               /* new: in is its base already */
		open_free(n);
		o = x;
	} else {
		pthread_mutex_lock(&fs->op_mu);
		o->handles++;
		pthread_mutex_unlock(&fs->op_mu);
	}
	pthread_mutex_lock(&o->mu);
	if (in->r.ver >= o->base.r.ver)
		r = open_sync(fs, o, in, e);
	pthread_mutex_unlock(&o->mu);
	*out = o;
	if (r < 0) {
		open_unref(fs, o, 1);
		*out = NULL;
	}
	return r;
}

/* How much content can go inline into this inode: RECORD_INLINE_MAX, less
 * when its other fields (xattrs) leave less of the long text limit. Data is
 * base64 in tokens of 232 characters (" data=" each): 174 bytes per 238. */
static size_t inline_room(const struct fs_inode *base)
{
	size_t b64 = 4 * ((base->r.datalen + 2) / 3);
	size_t fixed = base->rdlen > b64 ? base->rdlen - b64 : 0, room;

	if (fixed + 256 >= RECORD_TEXT_LONG_MAX)
		return 0;
	room = (RECORD_TEXT_LONG_MAX - fixed - 256) / 238 * 174;
	return room < RECORD_INLINE_MAX ? room : RECORD_INLINE_MAX;
}

/* Commit what changed (o->mu held): store dirty chunks, then ONE UPDATE
 * with the base as prerequisite; on a conflict, rebase onto the newer
 * version and try again, so no acknowledged write is lost. */
static int open_commit(struct fs *fs, struct fs_open *o, struct err *e)
{
	struct fs_inode *cur = NULL;
	int r = -EIO;

	if (o->gone || (!ofile_dirty(o->of) && o->pend_set == 0))
		return 0;
	for (int t = 0; t < FS_COMMIT_TRIES; t++) {
		struct record_refs refs = { 0 };
		struct change ch = { .to_set = o->pend_set, .attr = o->pend };
		const uint8_t *data;
		size_t datalen;

		if (ofile_dirty(o->of)) {
			r = ofile_store(o->of, inline_room(&o->base), &refs, &data, &datalen, e);
			ch.content = 1;
			ch.size = ofile_size(o->of);
			ch.data = data;
			ch.refs = data != NULL ? NULL : &refs;
			ch.mtime_set = o->written;
			ch.mtime = o->wtime;
			ch.base_refs = o->base.r.pages > 0 && o->pages_regular
				       ? ofile_base(o->of) : NULL;
		} else {
			r = 0;
		}
		if (r == 0)
			r = inode_cas_once(fs, &o->base, &ch, e);
		if (r == 0 && ch.content) {
			r = ofile_committed(o->of, &refs, e);
			o->pages_regular = 1;   /* as change_apply cut them */
		}
		record_refs_release(&refs);
		if (r == 0) {
			o->pend_set = 0;
			o->written = 0;
			break;
		}
		if (r != -ECANCELED)
			break;
		if (cur == NULL && (cur = inode_alloc()) == NULL) {
			r = err_set(e, -ENOMEM, "out of memory");
			break;
		}
		backoff(t);             /* let a busy writer elsewhere finish a burst */
		if ((r = inode_get(fs, o->ino, cur, e)) < 0 || (r = open_sync(fs, o, cur, e)) < 0)
			break;
		r = err_set(e, -EIO, "inode %llu: still conflicting after %d tries",
			    (unsigned long long)o->ino, FS_COMMIT_TRIES);
	}
	if (r == -ENOENT) {
		/* removed by another client: from now on it is like a file
		 * unlinked while open, whose content lives only here */
		log_warn("inode %llu was removed elsewhere while open here: its changes stay local",
			 (unsigned long long)o->ino);
		o->gone = 1;
		r = 0;
	}
	inode_free(cur);
	return r;
}

/* The last handle of a file unlinked while open went: delete the inode. */
static int open_delete(struct fs *fs, struct fs_open *o, struct err *e)
{
	char name[RECORD_NAME_BUF];
	int r = -EIO;

	for (int t = 0; t < FS_CAS_TRIES; t++) {
		struct mdc_update u;

		if ((r = inode_get(fs, o->ino, &o->base, e)) < 0)
			return r == -ENOENT ? 0 : r;
		if (o->base.r.nlink > 0)
			return 0;               /* linked again meanwhile (cannot happen today) */
		name_inode(fs, name, o->ino);
		r = mdc_update_begin(&fs->mdc, &u);
		mdc_pre_value(&u, name, WIRE_T_TXT, o->base.rdata, o->base.rdlen);
		mdc_upd_del_rrset(&u, name, WIRE_T_TXT);
		for (uint64_t pg = 0; pg < o->base.r.pages; pg++) {
			record_name_map(name, sizeof(name), fs->mdc.zone, o->ino, pg);
			mdc_upd_del_rrset(&u, name, WIRE_T_TXT);
		}
		if (r == 0)
			r = mdc_update_send(&fs->mdc, &u, e);
		mdc_update_release(&u);
		if (r != -ECANCELED)
			break;
	}
	return r;
}

/* What stat shows of an open file with changes not committed yet. */
static void open_overlay(const struct fs_open *o, struct stat *st)
{
	const struct stat *a = &o->pend;

	st->st_size = (off_t)ofile_size(o->of);
	st->st_blocks = (blkcnt_t)((ofile_size(o->of) + 511) / 512);
	if (o->written)
		st->st_mtim = st->st_ctim = (struct timespec){ o->wtime.sec, o->wtime.nsec };
	if (o->pend_set & FUSE_SET_ATTR_MODE)
		st->st_mode = (st->st_mode & S_IFMT) | (a->st_mode & 07777);
	if (o->pend_set & FUSE_SET_ATTR_UID)
		st->st_uid = a->st_uid;
	if (o->pend_set & FUSE_SET_ATTR_GID)
		st->st_gid = a->st_gid;
	if (o->pend_set & FUSE_SET_ATTR_ATIME)
		st->st_atim = a->st_atim;
	if (o->pend_set & FUSE_SET_ATTR_MTIME)
		st->st_mtim = a->st_mtim;
}

/* Commit every open file (unmount). */
static void open_commit_all(struct fs *fs)
{
	for (size_t b = 0; b < FS_OPEN_BUCKETS; b++)
		for (struct fs_open *o = fs->op_tab[b]; o != NULL; o = o->next) {
			struct err e = { 0 };

			pthread_mutex_lock(&o->mu);
			if (open_commit(fs, o, &e) < 0)
				log_err("unmount: inode %llu not committed: %s",
					(unsigned long long)o->ino, e.msg);
			pthread_mutex_unlock(&o->mu);
		}
}

/* Claim a range of inode numbers: an UPDATE that adds <range>.r.Z with the
 * prerequisite that the name is not in use, so two clients never share one.
 * Called with ino_mu held. */
static int ino_claim(struct fs *fs, uint64_t *ino, struct err *e)
{
	uint64_t first;
	int r;

	if (fs->next_ino < fs->end_ino) {
		*ino = fs->next_ino++;
		return 0;
	}
	if ((r = fsmeta_range_claim(&fs->mdc, NULL, FS_TTL, &first, e)) < 0)
		return r;
	fs->next_ino = first;
	fs->end_ino = first + (1u << FSMETA_RANGE_BITS);
	log_info("claimed inode range %llu: %llu..%llu",
		 (unsigned long long)(first >> FSMETA_RANGE_BITS), (unsigned long long)first,
		 (unsigned long long)fs->end_ino - 1);
	*ino = fs->next_ino++;
	return 0;
}

/* The next inode number; threads share the claimed range (one claim at a
 * time: the others wait for it rather than claim ranges of their own). */
static int ino_alloc(struct fs *fs, uint64_t *ino, struct err *e)
{
	int r;

	pthread_mutex_lock(&fs->ino_mu);
	r = ino_claim(fs, ino, e);
	pthread_mutex_unlock(&fs->ino_mu);
	return r;
}

/* Listing entry rdata for (name, ino, type). */
static int entry_rdata(const char *name, uint64_t ino, int type, uint8_t *rd, struct err *e)
{
	struct record_entry en;
	char text[RECORD_NAME_MAX * 3 + 64];
	int r;

	r = record_entry_set(&en, name, strlen(name), ino, type, e);
	if (r == 0)
		r = record_entry_format(&en, text, sizeof(text), e);
	if (r >= 0)
		r = txt_rdata(text, rd, e);
	return r;
}

/* The parent's new version for a create or remove: nlink += dlink, times,
 * size += dsize (a directory's size is the bytes of its listing entries'
 * rdata: what decides its bucket splits; never below 0, since directories
 * of older clients started at 0 with entries). */
static int parent_change(struct fs *fs, struct mdc_update *u, const struct fs_inode *parent,
			 int dlink, int64_t dsize, struct fs_inode *np, struct err *e)
{
	int r = inode_copy(parent, np, e);

	if (r < 0)
		return r;
	np->r.nlink = (uint32_t)((int64_t)np->r.nlink + dlink);
	if (dsize < 0 && (uint64_t)-dsize > np->r.size)
		np->r.size = 0;
	else
		np->r.size = (uint64_t)((int64_t)np->r.size + dsize);
	np->r.mtime = np->r.ctime = now_time();
	np->r.ver = parent->r.ver + 1;
	return put_inode(fs, u, parent->ino, &np->r, np->rdata, &np->rdlen, e);
}

/* The owner and mode of a new inode, as Linux's inode_init_owner: the
 * caller's fsuid and fsgid, except in a set-group-ID directory, whose group
 * the child takes and whose S_ISGID a subdirectory inherits. (Stripping
 * S_ISGID from a file the caller could not set it on is the kernel's work,
 * done before the request reaches us.) */
static void create_owner(struct record_inode *c, const struct record_inode *dir, mode_t mode,
			 const struct fuse_ctx *ctx)
{
	c->mode = mode & 07777;
	c->uid = ctx->uid;
	c->gid = ctx->gid;
	if (dir->mode & S_ISGID) {
		c->gid = dir->gid;
		if (c->type == RECORD_DIR)
			c->mode |= S_ISGID;
	}
	if (c->type == RECORD_LNK)
		c->mode = 0777;
}

static void dir_rebalance(struct fs *fs, const struct fs_inode *dir);

/* create/mkdir/symlink/mknod as ONE UPDATE: prerequisites (dentry name and
 * inode name not in use, parent TXT unchanged) and updates (dentry CNAME,
 * inode TXT, listing entry in its bucket, new parent TXT). rdev: of a
 * device (type c, b). */
static int create_node(struct fs *fs, uint64_t parent, const char *name, mode_t mode, int type,
		       const char *link, uint64_t rdev, const struct fuse_ctx *ctx,
		       struct fs_inode *child, struct err *e)
{
	struct fs_inode *p = inode_alloc(), *np = inode_alloc();
	char dname[RECORD_NAME_BUF], iname[RECORD_NAME_BUF], lname[RECORD_NAME_BUF];
	char pname[RECORD_NAME_BUF];
	uint8_t ent[RECORD_NAME_MAX * 3 + 64];
	struct wire_name target;
	uint64_t ino = 0;
	int r, entlen;

	if (p == NULL || np == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = record_name_dentry(dname, sizeof(dname), fs->mdc.zone, parent, name, strlen(name));
	if (r < 0)
		goto fail;
	if ((r = inode_get(fs, parent, p, e)) < 0)
		goto fail;
	if (p->r.type != RECORD_DIR) {
		r = -ENOTDIR;
		goto fail;
	}
	if ((r = ino_alloc(fs, &ino, e)) < 0)
		goto fail;
	name_inode(fs, iname, ino);
	name_inode(fs, pname, parent);
	if ((r = wire_name_from_text(&target, iname, e)) < 0)
		goto fail;
	if ((entlen = entry_rdata(name, ino, type, ent, e)) < 0) {
		r = entlen;
		goto fail;
	}
	record_inode_release(&child->r);
	child->ino = ino;
	child->r.type = type;
	child->r.nlink = type == RECORD_DIR ? 2 : 1;
	child->r.mtime = child->r.ctime = child->r.atime = now_time();
	child->r.ver = 1;
	/* a policy is for content: files and directories, inherited from the
	 * directory when set there, else the default (none written) */
	if (type == RECORD_REG || type == RECORD_DIR)
		child->r.policy = p->r.policy;
	if (type == RECORD_DIR) {
		child->r.buckets = 1;
		child->r.parent = parent;
	}
	if (type == RECORD_CHR || type == RECORD_BLK)
		child->r.rdev = rdev;
	if (type == RECORD_LNK) {
		r = record_inode_set_target(&child->r, link, strlen(link), e);
		if (r < 0)
			goto fail;
		child->r.size = child->r.targetlen;
	}
	for (int t = 0; t < FS_DIR_TRIES; t++) {
		struct mdc_update u;

		create_owner(&child->r, &p->r, mode, ctx);      /* of the parent as read */
		name_entry_bucket(fs, lname, p, name);
		r = mdc_update_begin(&fs->mdc, &u);
		mdc_pre_nxdomain(&u, dname);
		mdc_pre_nxdomain(&u, iname);
		mdc_pre_value(&u, pname, WIRE_T_TXT, p->rdata, p->rdlen);
		mdc_upd_add(&u, dname, WIRE_T_CNAME, FS_TTL, target.b, target.len);
		if (r == 0)
			r = put_inode(fs, &u, ino, &child->r, child->rdata, &child->rdlen, e);
		mdc_upd_add(&u, lname, WIRE_T_TXT, FS_TTL, ent, (uint16_t)entlen);
		if (r == 0)
			r = parent_change(fs, &u, p, type == RECORD_DIR ? 1 : 0, entlen, np, e);
		if (r == 0)
			r = mdc_update_send(&fs->mdc, &u, e);
		mdc_update_release(&u);
		if (r == 0)
			dir_rebalance(fs, np);
		if (r != -ECANCELED)
			break;
		/* who won: an entry of that name, or a change of the parent? */
		if (dentry_get(fs, parent, name, np, NULL, NULL, e) == 0) {
			r = -EEXIST;
			break;
		}
		if ((r = inode_get(fs, parent, p, e)) < 0)
			break;
		r = -EIO;
		dir_backoff(t);
	}
fail:
	inode_free(p);
	inode_free(np);
	return r;
}

static int do_create(struct fs *fs, uint64_t parent, const char *name, mode_t mode, int type,
		     const char *link, const struct fuse_ctx *ctx, struct fs_inode *child,
		     struct err *e)
{
	return create_node(fs, parent, name, mode, type, link, 0, ctx, child, e);
}

static int inode_touch(struct fs *fs, struct mdc_update *u, const struct fs_inode *cur,
		       int dlink, uint64_t parent, struct fs_inode *nw, struct err *e);
static int inode_delete(struct fs *fs, struct mdc_update *u, const struct fs_inode *in,
			struct fs_inode *scratch, int *kept, struct err *e);
static int dentry_put(struct fs *fs, struct mdc_update *u, const char *dname, uint64_t ino,
		      struct err *e);
static int listing_put(struct fs *fs, struct mdc_update *u, const struct fs_inode *dir,
		       const char *name, const struct fs_inode *in, int add, int64_t *dsize,
		       struct err *e);
static void dir_pre_empty(struct fs *fs, struct mdc_update *u, const struct fs_inode *dir);

/* unlink/rmdir as ONE UPDATE: prerequisites (dentry, child and parent
 * unchanged; for rmdir, no listing rrset in any of its buckets), then delete
 * dentry, listing entry, inode and its pages, and write the parent. */
static int do_remove(struct fs *fs, uint64_t parent, const char *name, int isdir, struct err *e)
{
	struct fs_inode *p = inode_alloc(), *c = inode_alloc(), *np = inode_alloc();
	char dname[RECORD_NAME_BUF], iname[RECORD_NAME_BUF], lname[RECORD_NAME_BUF];
	char pname[RECORD_NAME_BUF];
	uint8_t ent[RECORD_NAME_MAX * 3 + 64], cname[WIRE_NAME_MAX];
	uint16_t cnamelen = 0;
	int r, entlen, rcode, kept = 0;

	if (p == NULL || c == NULL || np == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = record_name_dentry(dname, sizeof(dname), fs->mdc.zone, parent, name, strlen(name));
	if (r < 0)
		goto fail;
	name_inode(fs, pname, parent);
	for (int t = 0; t < FS_DIR_TRIES; t++) {
		struct mdc_update u;

		if (t > 0)
			dir_backoff(t - 1);
		if ((r = dentry_get(fs, parent, name, c, cname, &cnamelen, e)) < 0 ||
		    (r = inode_get(fs, parent, p, e)) < 0)
			break;
		if (isdir && c->r.type != RECORD_DIR) {
			r = -ENOTDIR;
			break;
		}
		if (!isdir && c->r.type == RECORD_DIR) {
			r = -EISDIR;
			break;
		}
		if ((entlen = entry_rdata(name, c->ino, c->r.type, ent, e)) < 0) {
			r = entlen;
			break;
		}
		name_inode(fs, iname, c->ino);
		name_entry_bucket(fs, lname, p, name);
		r = mdc_update_begin(&fs->mdc, &u);
		mdc_pre_value(&u, dname, WIRE_T_CNAME, cname, cnamelen);
		mdc_pre_value(&u, iname, WIRE_T_TXT, c->rdata, c->rdlen);
		mdc_pre_value(&u, pname, WIRE_T_TXT, p->rdata, p->rdlen);
		if (isdir)
			dir_pre_empty(fs, &u, c);
		mdc_upd_del_rrset(&u, dname, WIRE_T_CNAME);
		mdc_upd_del_rr(&u, lname, WIRE_T_TXT, ent, (uint16_t)entlen);
		if (!isdir && c->r.nlink > 1) {
			/* other names remain (hard links): nlink-1 */
			if (r == 0)
				r = inode_touch(fs, &u, c, -1, 0, np, e);
		} else if (r == 0) {
			r = inode_delete(fs, &u, c, np, &kept, e); /* its last name */
		}
		if (r == 0)
			r = parent_change(fs, &u, p, isdir ? -1 : 0, -(int64_t)entlen, np, e);
		if (r == 0)
			r = mdc_update_send(&fs->mdc, &u, e);
		rcode = u.rcode;
		mdc_update_release(&u);
		if (r == 0)
			dir_rebalance(fs, np);
		if (r == 0 && kept)
			open_mark_unlinked(fs, c->ino);
		if (r == -ECANCELED && isdir && rcode == WIRE_RC_YXRRSET) {
			r = -ENOTEMPTY;
			break;
		}
		if (r != -ECANCELED)
			break;
		r = -EIO;
	}
fail:
	inode_free(p);
	inode_free(c);
	inode_free(np);
	return r;
}


/* ------------------------------------------------------------- rename --- */

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#define FS_ANCESTRY_PRE 64      /* ancestors that become prerequisites */
#define FS_DEPTH_MAX 4096       /* deeper than this: ELOOP (a cycle) */

/* Inodes already among an UPDATE's value prerequisites (one RR per name). */
struct seen {
	uint64_t v[FS_ANCESTRY_PRE + 8];
	size_t n;
};

static int seen_has(const struct seen *s, uint64_t ino)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == ino)
			return 1;
	return 0;
}

/* A directory moved under `from` must not be an ancestor of it: walk up
 * from `from` by the directory inodes' parent= to the root. Meeting `forbid`
 * is EINVAL (a directory into its own subtree). The ancestors read become
 * value prerequisites of u (the first FS_ANCESTRY_PRE of them), so a
 * concurrent move of one of them fails the UPDATE and the walk is redone.
 * A directory without parent= (written before it existed) ends the walk. */
static int ancestry_check(struct fs *fs, struct mdc_update *u, uint64_t from, uint64_t forbid,
			  struct seen *seen, struct err *e)
{
	struct fs_inode *a = inode_alloc();
	char name[RECORD_NAME_BUF];
	uint64_t cur = from;
	int r = 0;

	if (a == NULL)
		return -ENOMEM;
	for (int depth = 0; cur != FUSE_ROOT_ID; depth++) {
		if (cur == forbid) {
			r = -EINVAL;
			break;
		}
		if (depth >= FS_DEPTH_MAX) {
			r = -ELOOP;
			break;
		}
		if ((r = inode_get(fs, cur, a, e)) < 0)
			break;
		if (a->r.type != RECORD_DIR) {
			r = err_set(e, -EIO, "inode %llu: parent= names a non-directory",
				    (unsigned long long)cur);
			break;
		}
		if (!seen_has(seen, cur) && seen->n < sizeof(seen->v) / sizeof(seen->v[0])) {
			name_inode(fs, name, cur);
			mdc_pre_value(u, name, WIRE_T_TXT, a->rdata, a->rdlen);
			seen->v[seen->n++] = cur;
		}
		if (a->r.parent == 0)
			break;
		cur = a->r.parent;
	}
	inode_free(a);
	return r;
}

/* The new version of a moved or replaced inode into u: ctime now, ver+1,
 * nlink += dlink, parent= for a directory (0: unchanged). */
static int inode_touch(struct fs *fs, struct mdc_update *u, const struct fs_inode *cur,
		       int dlink, uint64_t parent, struct fs_inode *nw, struct err *e)
{
	int r = inode_copy(cur, nw, e);

	if (r < 0)
		return r;
	nw->r.nlink = (uint32_t)((int64_t)nw->r.nlink + dlink);
	nw->r.ctime = now_time();
	nw->r.ver = cur->r.ver + 1;
	if (parent != 0 && nw->r.type == RECORD_DIR)
		nw->r.parent = parent;
	return put_inode(fs, u, cur->ino, &nw->r, nw->rdata, &nw->rdlen, e);
}

/* Delete an inode with its block-map pages (its last name went), unless it
 * is open here: then it stays, with nlink 0, until its last close
 * (open_delete), so open descriptors go on reading and writing it as on
 * ext4. *kept says which; scratch receives the new version. */
static int inode_delete(struct fs *fs, struct mdc_update *u, const struct fs_inode *in,
			struct fs_inode *scratch, int *kept, struct err *e)
{
	char name[RECORD_NAME_BUF];

	*kept = in->r.type == RECORD_REG && open_is(fs, in->ino);
	if (*kept)
		return inode_touch(fs, u, in, -(int)in->r.nlink, 0, scratch, e);
	name_inode(fs, name, in->ino);
	mdc_upd_del_rrset(u, name, WIRE_T_TXT);
	for (uint64_t pg = 0; pg < in->r.pages; pg++) {
		record_name_map(name, sizeof(name), fs->mdc.zone, in->ino, pg);
		mdc_upd_del_rrset(u, name, WIRE_T_TXT);
	}
	return 0;
}

/* Point a dentry at an inode (replacing what it pointed at). */
static int dentry_put(struct fs *fs, struct mdc_update *u, const char *dname, uint64_t ino,
		      struct err *e)
{
	char iname[RECORD_NAME_BUF];
	struct wire_name target;
	int r;

	name_inode(fs, iname, ino);
	if ((r = wire_name_from_text(&target, iname, e)) < 0)
		return r;
	mdc_upd_del_rrset(u, dname, WIRE_T_CNAME);
	mdc_upd_add(u, dname, WIRE_T_CNAME, FS_TTL, target.b, target.len);
	return 0;
}

/* Add (add=1) or delete the listing entry (name, ino, type) in its bucket
 * of dir (as read); *dsize accumulates the change of dir's size. */
static int listing_put(struct fs *fs, struct mdc_update *u, const struct fs_inode *dir,
		       const char *name, const struct fs_inode *in, int add, int64_t *dsize,
		       struct err *e)
{
	uint8_t ent[RECORD_NAME_MAX * 3 + 64];
	char lname[RECORD_NAME_BUF];
	int n = entry_rdata(name, in->ino, in->r.type, ent, e);

	if (n < 0)
		return n;
	name_entry_bucket(fs, lname, dir, name);
	if (add)
		mdc_upd_add(u, lname, WIRE_T_TXT, FS_TTL, ent, (uint16_t)n);
	else
		mdc_upd_del_rr(u, lname, WIRE_T_TXT, ent, (uint16_t)n);
	*dsize += add ? n : -n;
	return 0;
}

/* Prerequisites that dir (as read) lists nothing: no TXT rrset in any of
 * its buckets (YXRRSET -> ENOTEMPTY). A directory merges its buckets as it
 * empties, so an empty one is back to one or a few. */
static void dir_pre_empty(struct fs *fs, struct mdc_update *u, const struct fs_inode *dir)
{
	char n[RECORD_NAME_BUF];

	for (uint32_t b = 0; b < dir_buckets(dir); b++) {
		name_listing(fs, n, dir->ino, b);
		mdc_pre_nxrrset(u, n, WIRE_T_TXT);
	}
}

/* One split or merge step of dir's listing buckets when its size asks for
 * one (dirbucket_plan), after a change committed dir's new version: ONE
 * UPDATE that moves the entries of one bucket (split: those of bucket
 * split_from(n) whose bucket under n+1 is n; merge: all of bucket n-1) and
 * writes buckets=n±1 with ver+1. Prerequisites: dir's TXT and the source
 * bucket's rrset exactly as read, so it cannot lose an entry a concurrent
 * create, unlink or rename of another mount adds or removes (those CAS the
 * directory too, and retry with the new bucket count). A failure is logged
 * and left to the next change of the directory, which plans again. */
static void dir_rebalance(struct fs *fs, const struct fs_inode *dir)
{
	struct fs_inode *d = NULL, *nd = NULL;
	char dname[RECORD_NAME_BUF], sname[RECORD_NAME_BUF], tname[RECORD_NAME_BUF];
	char text[RECORD_NAME_MAX * 3 + 64];
	struct record_entry en;
	struct err e = { 0 };
	int r = -ENOMEM, plan = dirbucket_plan(dir->r.size, dir_buckets(dir));

	if (plan == DIRBUCKET_KEEP)             /* the common case: nothing to do */
		return;
	if ((d = inode_alloc()) == NULL || (nd = inode_alloc()) == NULL)
		goto done;
	if ((r = inode_copy(dir, d, &e)) < 0)
		goto done;
	name_inode(fs, dname, d->ino);
	for (int t = 0; t < FS_DIR_TRIES; t++) {
		uint32_t n = dir_buckets(d), src, nn;
		struct mdc_answer a = { 0 };
		struct mdc_update u;
		size_t ntxt = 0;

		plan = dirbucket_plan(d->r.size, n);
		if (plan == DIRBUCKET_KEEP) {
			r = 0;
			break;
		}
		src = plan == DIRBUCKET_SPLIT ? dirbucket_split_from(n) : n - 1;
		nn = plan == DIRBUCKET_SPLIT ? n + 1 : n - 1;
		name_listing(fs, sname, d->ino, src);
		if ((r = mdc_query(&fs->mdc, sname, WIRE_T_TXT, &a, &e)) < 0)
			break;
		if (a.rcode != WIRE_RC_NOERROR && a.rcode != WIRE_RC_NXDOMAIN) {
			r = err_set(&e, -EIO, "%s: %s", sname, wire_rcode_name(a.rcode));
			mdc_answer_release(&a);
			break;
		}
		if ((r = mdc_update_begin(&fs->mdc, &u)) == 0) {
			mdc_pre_value(&u, dname, WIRE_T_TXT, d->rdata, d->rdlen);
			for (size_t i = 0; i < a.n; i++)
				if (a.v[i].type == WIRE_T_TXT) {
					mdc_pre_value(&u, sname, WIRE_T_TXT, a.v[i].rdata, a.v[i].rdlen);
					ntxt++;
				}
			if (ntxt == 0)
				mdc_pre_nxrrset(&u, sname, WIRE_T_TXT);
		}
		for (size_t i = 0; r == 0 && i < a.n; i++) {
			uint32_t b;
			int k;

			if (a.v[i].type != WIRE_T_TXT)
				continue;
			k = mdc_txt_text(a.v[i].rdata, a.v[i].rdlen, text, sizeof(text), &e);
			if (k >= 0)
				k = record_entry_parse_text(&en, text, (size_t)k, &e);
			if (k < 0) {
				/* not ours to judge: it stays where it is (a merge
				 * refuses, so nothing is left behind unreadable) */
				if (plan == DIRBUCKET_MERGE)
					r = err_set(&e, -EIO, "%s: an entry that does not parse", sname);
				continue;
			}
			b = dirbucket_of(dirbucket_key(en.name, en.namelen), nn);
			if (b == src)
				continue;
			name_listing(fs, tname, d->ino, b);
			mdc_upd_del_rr(&u, sname, WIRE_T_TXT, a.v[i].rdata, a.v[i].rdlen);
			mdc_upd_add(&u, tname, WIRE_T_TXT, FS_TTL, a.v[i].rdata, a.v[i].rdlen);
		}
		mdc_answer_release(&a);
		if (r == 0 && (r = inode_copy(d, nd, &e)) == 0) {
			nd->r.buckets = nn;
			nd->r.ver = d->r.ver + 1;
			r = put_inode(fs, &u, d->ino, &nd->r, nd->rdata, &nd->rdlen, &e);
		}
		if (r == 0)
			r = mdc_update_send(&fs->mdc, &u, &e);
		mdc_update_release(&u);
		if (r == 0) {
			log_debug("directory %llu: %s to %u buckets", (unsigned long long)d->ino,
				  plan == DIRBUCKET_SPLIT ? "split" : "merged", nn);
			break;
		}
		if (r != -ECANCELED)
			break;
		/* another change of the directory won: plan again on it */
		if ((r = inode_get(fs, d->ino, d, &e)) < 0)
			break;
		r = -EIO;
		dir_backoff(t);
	}
done:
	if (r < 0)
		log_warn("directory %llu: bucket %s: %s (the next change retries)",
			 (unsigned long long)dir->ino, plan == DIRBUCKET_MERGE ? "merge" : "split",
			 e.msg[0] ? e.msg : strerror(-r));
	inode_free(d);
	inode_free(nd);
}

struct rn {     /* what one attempt of a rename read and writes */
	struct fs_inode *p, *q, *s, *t, *np, *nq, *ns, *nt;
	int wrote;                      /* np (and nq when Q != P) were committed */
	uint8_t cs[WIRE_NAME_MAX], ct[WIRE_NAME_MAX];
	uint16_t cslen, ctlen;
	int kept;                       /* the replaced target stays: open here */
};

/* One attempt: read everything, check, build and send ONE UPDATE. */
static int rename_once(struct fs *fs, uint64_t P, const char *name, uint64_t Q,
		       const char *newname, unsigned flags, struct rn *x, int *rcode,
		       struct err *e)
{
	char ds[RECORD_NAME_BUF], dt[RECORD_NAME_BUF], n[RECORD_NAME_BUF];
	struct seen seen = { .n = 0 };
	struct mdc_update u;
	struct fs_inode *q;
	int64_t dp = 0, dq = 0, *dqp = Q != P ? &dq : &dp;
	int r, have_t, sdir, tdir, exch = (flags & RENAME_EXCHANGE) != 0;

	*rcode = 0;
	x->wrote = 0;
	x->kept = 0;
	if ((r = record_name_dentry(ds, sizeof(ds), fs->mdc.zone, P, name, strlen(name))) < 0 ||
	    (r = record_name_dentry(dt, sizeof(dt), fs->mdc.zone, Q, newname, strlen(newname))) < 0)
		return r;
	if ((r = dentry_get(fs, P, name, x->s, x->cs, &x->cslen, e)) < 0)
		return r;
	r = dentry_get(fs, Q, newname, x->t, x->ct, &x->ctlen, e);
	if (r < 0 && r != -ENOENT)
		return r;
	have_t = r == 0;
	if ((r = inode_get(fs, P, x->p, e)) < 0)
		return r;
	q = x->p;
	if (Q != P) {
		if ((r = inode_get(fs, Q, x->q, e)) < 0)
			return r;
		q = x->q;
	}
	if (x->p->r.type != RECORD_DIR || q->r.type != RECORD_DIR)
		return -ENOTDIR;
	if (have_t && x->t->ino == x->s->ino)
		return 0;               /* two names of one inode: nothing to do */
	if ((flags & RENAME_NOREPLACE) && have_t)
		return -EEXIST;
	if (exch && !have_t)
		return -ENOENT;
	sdir = x->s->r.type == RECORD_DIR;
	tdir = have_t && x->t->r.type == RECORD_DIR;
	if (!exch && have_t && sdir && !tdir)
		return -ENOTDIR;
	if (!exch && have_t && !sdir && tdir)
		return -EISDIR;

	if ((r = mdc_update_begin(&fs->mdc, &u)) < 0)
		return r;
	/* prerequisites: every record read */
	mdc_pre_value(&u, ds, WIRE_T_CNAME, x->cs, x->cslen);
	if (have_t)
		mdc_pre_value(&u, dt, WIRE_T_CNAME, x->ct, x->ctlen);
	else
		mdc_pre_nxdomain(&u, dt);
	name_inode(fs, n, P);
	mdc_pre_value(&u, n, WIRE_T_TXT, x->p->rdata, x->p->rdlen);
	seen.v[seen.n++] = P;
	if (Q != P) {
		name_inode(fs, n, Q);
		mdc_pre_value(&u, n, WIRE_T_TXT, q->rdata, q->rdlen);
		seen.v[seen.n++] = Q;
	}
	name_inode(fs, n, x->s->ino);
	mdc_pre_value(&u, n, WIRE_T_TXT, x->s->rdata, x->s->rdlen);
	seen.v[seen.n++] = x->s->ino;
	if (have_t) {
		name_inode(fs, n, x->t->ino);
		mdc_pre_value(&u, n, WIRE_T_TXT, x->t->rdata, x->t->rdlen);
		seen.v[seen.n++] = x->t->ino;
	}
	if (!exch && tdir)              /* only an empty directory is replaced */
		dir_pre_empty(fs, &u, x->t);
	if (Q != P && sdir)
		r = ancestry_check(fs, &u, Q, x->s->ino, &seen, e);
	if (r == 0 && Q != P && exch && tdir)
		r = ancestry_check(fs, &u, P, x->t->ino, &seen, e);

	/* updates */
	if (r == 0 && exch) {
		r = dentry_put(fs, &u, ds, x->t->ino, e);
		if (r == 0)
			r = dentry_put(fs, &u, dt, x->s->ino, e);
		if (r == 0)
			r = listing_put(fs, &u, x->p, name, x->s, 0, &dp, e);
		if (r == 0)
			r = listing_put(fs, &u, q, newname, x->t, 0, dqp, e);
		if (r == 0)
			r = listing_put(fs, &u, x->p, name, x->t, 1, &dp, e);
		if (r == 0)
			r = listing_put(fs, &u, q, newname, x->s, 1, dqp, e);
		if (r == 0)
			r = inode_touch(fs, &u, x->s, 0, Q, x->ns, e);
		if (r == 0)
			r = inode_touch(fs, &u, x->t, 0, P, x->nt, e);
		if (r == 0 && Q != P) {
			r = parent_change(fs, &u, x->p, tdir - sdir, dp, x->np, e);
			if (r == 0)
				r = parent_change(fs, &u, q, sdir - tdir, dq, x->nq, e);
		} else if (r == 0) {
			r = parent_change(fs, &u, x->p, 0, dp, x->np, e);
		}
	} else if (r == 0) {
		mdc_upd_del_rrset(&u, ds, WIRE_T_CNAME);
		r = listing_put(fs, &u, x->p, name, x->s, 0, &dp, e);
		if (r == 0 && have_t) {
			r = listing_put(fs, &u, q, newname, x->t, 0, dqp, e);
			if (r == 0 && (tdir || x->t->r.nlink <= 1))
				r = inode_delete(fs, &u, x->t, x->nt, &x->kept, e); /* last name */
			else if (r == 0)
				r = inode_touch(fs, &u, x->t, -1, 0, x->nt, e);
		}
		if (r == 0)
			r = dentry_put(fs, &u, dt, x->s->ino, e);
		if (r == 0)
			r = listing_put(fs, &u, q, newname, x->s, 1, dqp, e);
		if (r == 0)
			r = inode_touch(fs, &u, x->s, 0, Q, x->ns, e);
		if (r == 0 && Q != P) {
			r = parent_change(fs, &u, x->p, -sdir, dp, x->np, e);
			if (r == 0)
				r = parent_change(fs, &u, q, sdir - tdir, dq, x->nq, e);
		} else if (r == 0) {
			r = parent_change(fs, &u, x->p, -tdir, dp, x->np, e);
		}
	}
	if (r == 0)
		r = mdc_update_send(&fs->mdc, &u, e);
	*rcode = u.rcode;
	mdc_update_release(&u);
	x->wrote = r == 0;
	if (r == 0 && x->kept)
		open_mark_unlinked(fs, x->t->ino);
	if (r == -ECANCELED && !exch && tdir && *rcode == WIRE_RC_YXRRSET)
		return -ENOTEMPTY;
	return r;
}

/* rename/renameat2 as ONE UPDATE (SCHEMA.md, "The mount"). A failed
 * prerequisite re-reads everything and tries again. */
static int do_rename(struct fs *fs, uint64_t P, const char *name, uint64_t Q,
		     const char *newname, unsigned flags, struct err *e)
{
	struct rn x = { 0 };
	int r = -ENOMEM, rcode;

	if (flags & ~(unsigned)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;         /* RENAME_WHITEOUT: no overlay support */
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	if ((x.p = inode_alloc()) == NULL || (x.q = inode_alloc()) == NULL ||
	    (x.s = inode_alloc()) == NULL || (x.t = inode_alloc()) == NULL ||
	    (x.np = inode_alloc()) == NULL || (x.nq = inode_alloc()) == NULL ||
	    (x.ns = inode_alloc()) == NULL || (x.nt = inode_alloc()) == NULL)
		goto done;
	for (int t = 0; t < FS_DIR_TRIES; t++) {
		r = rename_once(fs, P, name, Q, newname, flags, &x, &rcode, e);
		if (r != -ECANCELED)
			break;
		r = -EIO;
		dir_backoff(t);
	}
	if (r == 0 && x.wrote) {
		dir_rebalance(fs, x.np);
		if (Q != P)
			dir_rebalance(fs, x.nq);
	}
done:
	inode_free(x.p);
	inode_free(x.q);
	inode_free(x.s);
	inode_free(x.t);
	inode_free(x.np);
	inode_free(x.nq);
	inode_free(x.ns);
	inode_free(x.nt);
	return r;
}


/* ------------------------------------------------------------ link --- */

#define FS_LINK_MAX 65000       /* nlink limit of a file, as ext4 */

/* link as ONE UPDATE: prerequisites (the new dentry name not in use, the
 * new parent's and the inode's TXT as read), updates (dentry CNAME, listing
 * entry, inode nlink+1 and ctime, parent mtime/ctime). out: the new inode. */
static int do_link(struct fs *fs, uint64_t ino, uint64_t Q, const char *newname,
		   struct fs_inode *out, struct err *e)
{
	struct fs_inode *q = inode_alloc(), *i = inode_alloc(), *nq = inode_alloc();
	char dt[RECORD_NAME_BUF], n[RECORD_NAME_BUF];
	int r = -ENOMEM;

	if (q == NULL || i == NULL || nq == NULL)
		goto done;
	if ((r = record_name_dentry(dt, sizeof(dt), fs->mdc.zone, Q, newname,
				    strlen(newname))) < 0)
		goto done;
	for (int t = 0; t < FS_DIR_TRIES; t++) {
		struct mdc_update u;
		int64_t dq = 0;

		if (t > 0)
			dir_backoff(t - 1);
		if ((r = inode_get(fs, ino, i, e)) < 0 || (r = inode_get(fs, Q, q, e)) < 0)
			break;
		if (i->r.type == RECORD_DIR) {
			r = -EPERM;
			break;
		}
		if (q->r.type != RECORD_DIR) {
			r = -ENOTDIR;
			break;
		}
		if (i->r.nlink >= FS_LINK_MAX) {
			r = -EMLINK;
			break;
		}
		if ((r = mdc_update_begin(&fs->mdc, &u)) < 0)
			break;
		mdc_pre_nxdomain(&u, dt);
		name_inode(fs, n, Q);
		mdc_pre_value(&u, n, WIRE_T_TXT, q->rdata, q->rdlen);
		name_inode(fs, n, ino);
		mdc_pre_value(&u, n, WIRE_T_TXT, i->rdata, i->rdlen);
		r = dentry_put(fs, &u, dt, ino, e);
		if (r == 0)
			r = listing_put(fs, &u, q, newname, i, 1, &dq, e);
		if (r == 0)
			r = inode_touch(fs, &u, i, +1, 0, out, e);
		if (r == 0)
			r = parent_change(fs, &u, q, 0, dq, nq, e);
		if (r == 0)
			r = mdc_update_send(&fs->mdc, &u, e);
		mdc_update_release(&u);
		if (r == 0)
			dir_rebalance(fs, nq);
		if (r != -ECANCELED)
			break;
		if (dentry_get(fs, Q, newname, nq, NULL, NULL, e) == 0) {
			r = -EEXIST;
			break;
		}
		r = -EIO;
	}
done:
	inode_free(q);
	inode_free(i);
	inode_free(nq);
	return r;
}

/* ------------------------------------------------------------- handlers --- */

static struct fs *req_fs(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Errors the kernel should see: EIO for anything a caller cannot act on. */
static int user_errno(int r, const char *op, const struct err *e)
{
	r = -r;
	switch (r) {
	case ENOENT: case EEXIST: case ENOTDIR: case EISDIR: case ENOTEMPTY: case ENOMEM:
	case ENAMETOOLONG: case EFBIG: case EACCES: case ENOSPC: case EPERM: case EXDEV:
	case EMLINK: case ELOOP: case EOPNOTSUPP: case ENODATA: case E2BIG: case ERANGE:
		return r;
	case EINVAL:
		return r;
	default:
		log_err("%s: %s", op, e->msg[0] ? e->msg : strerror(r));
		return EIO;
	}
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs_inode *in = inode_alloc();
	struct fuse_entry_param ep;
	struct err e = { 0 };
	int r = in == NULL ? -ENOMEM : dentry_get(req_fs(req), parent, name, in, NULL, NULL, &e);

	if (r == 0) {
		struct fs_open *o = open_ref(req_fs(req), in->ino);

		inode_entry(in, &ep);
		if (o != NULL) {
			pthread_mutex_lock(&o->mu);
			open_overlay(o, &ep.attr);
			pthread_mutex_unlock(&o->mu);
			open_unref(req_fs(req), o, 0);
		}
		fuse_reply_entry(req, &ep);     /* the kernel's lookup count + 1 */
	} else if (r == -ENOENT) {
		memset(&ep, 0, sizeof(ep));     /* negative entry, cached like a TTL */
		ep.entry_timeout = FS_TIMEOUT;
		fuse_reply_entry(req, &ep);
	} else {
		fuse_reply_err(req, user_errno(r, "lookup", &e));
	}
	inode_free(in);
}

/* No per-inode state is kept (FUSE numbers are dnsfs numbers): nothing to
 * drop when the kernel forgets. */
static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *v)
{
	fuse_reply_none(req);
}

/* The first request after init: the kernel has applied the init reply, so
 * the read-ahead written now stays (fs_set_read_ahead). */
static void read_ahead_apply(struct fs *fs)
{
	FILE *f;

	if (fs->ra_path[0] == '\0')
		return;
	pthread_mutex_lock(&fs->ra_mu);
	if (fs->ra_path[0] != '\0') {
		if ((f = fopen(fs->ra_path, "w")) == NULL || fprintf(f, "%d\n", fs->ra_kb) < 0 ||
		    fclose(f) != 0)
			log_warn("read-ahead stays the kernel's: %s: %s", fs->ra_path,
				 strerror(errno));
		else
			log_info("read-ahead %d KiB (%s)", fs->ra_kb, fs->ra_path);
		fs->ra_path[0] = '\0';
	}
	pthread_mutex_unlock(&fs->ra_mu);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_inode *in;
	struct fs_open *o;
	struct err e = { 0 };
	struct stat st;
	int r;

	read_ahead_apply(fs);
	r = inode_load(fs, ino, &in, &e);
	if (r == 0) {
		inode_stat(in, &st);
		if ((o = open_ref(fs, ino)) != NULL) {  /* its changes not committed yet */
			pthread_mutex_lock(&o->mu);
			if (in->r.ver >= o->base.r.ver)
				r = open_sync(fs, o, in, &e);
			open_overlay(o, &st);
			pthread_mutex_unlock(&o->mu);
			open_unref(fs, o, 0);
		}
	} else if (r == -ENOENT && (o = open_ref(fs, ino)) != NULL) {
		/* removed elsewhere while open here: what this mount has */
		pthread_mutex_lock(&o->mu);
		o->gone = 1;
		inode_stat(&o->base, &st);
		st.st_nlink = 0;
		open_overlay(o, &st);
		pthread_mutex_unlock(&o->mu);
		open_unref(fs, o, 0);
		r = 0;
	}
	if (r == 0)
		fuse_reply_attr(req, &st, FS_TIMEOUT);
	else
		fuse_reply_err(req, user_errno(r, "getattr", &e));
	inode_free(in);
}

/* setattr of a file open here (o->mu held): a size change goes into the
 * open file; other attributes wait for its commit while it has changes
 * (close-to-open), else they are committed now. commit: commit it all now
 * (a truncate(2) by path has no close to wait for). */
static int open_setattr(struct fs *fs, struct fs_open *o, const struct stat *attr, int to_set,
			int commit, struct err *e)
{
	int r = 0;

	if ((to_set & FUSE_SET_ATTR_SIZE) && (uint64_t)attr->st_size != ofile_size(o->of)) {
		/* to the size it has: no change, not even of the times (tmpfs) */
		if ((r = ofile_truncate(o->of, (uint64_t)attr->st_size, e)) < 0)
			return r;
		o->written = 1;
		o->wtime = now_time();
	}
	to_set &= ~FUSE_SET_ATTR_SIZE;
	if (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW))
		o->written = 0;         /* an explicit mtime wins over the last write's */
	if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
		to_set = (to_set & ~FUSE_SET_ATTR_ATIME_NOW) | FUSE_SET_ATTR_ATIME;
		o->pend.st_atim = (struct timespec){ now_time().sec, now_time().nsec };
	} else if (to_set & FUSE_SET_ATTR_ATIME) {
		o->pend.st_atim = attr->st_atim;
	}
	if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
		struct record_time t = now_time();

		to_set = (to_set & ~FUSE_SET_ATTR_MTIME_NOW) | FUSE_SET_ATTR_MTIME;
		o->pend.st_mtim = (struct timespec){ t.sec, t.nsec };
	} else if (to_set & FUSE_SET_ATTR_MTIME) {
		o->pend.st_mtim = attr->st_mtim;
	}
	if (to_set & FUSE_SET_ATTR_MODE)
		o->pend.st_mode = attr->st_mode;
	if (to_set & FUSE_SET_ATTR_UID)
		o->pend.st_uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		o->pend.st_gid = attr->st_gid;
	o->pend_set |= to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID |
				 FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME);
	if (commit || !ofile_dirty(o->of))
		r = open_commit(fs, o, e);
	return r;
}

static int do_setattr(struct fs *fs, fuse_ino_t ino, struct stat *attr, int to_set,
		      struct fuse_file_info *fi, const struct cred *who, struct stat *st,
		      struct err *e)
{
	struct change ch = { .to_set = to_set & ~FUSE_SET_ATTR_SIZE, .attr = *attr, .who = who,
			     .kill_sgid = (to_set & ~FUSE_SET_ATTR_SIZE) == 0 };
	struct fs_inode *in = NULL;
	struct fs_open *o;
	int r, handle = 0, now;

	if ((r = inode_load(fs, ino, &in, e)) < 0)
		goto done;
	if ((to_set & FUSE_SET_ATTR_SIZE) && in->r.type != RECORD_REG) {
		r = in->r.type == RECORD_DIR ? -EISDIR : -EINVAL;
		goto done;
	}
	o = open_ref(fs, ino);
	if (o == NULL && (to_set & FUSE_SET_ATTR_SIZE) && (uint64_t)attr->st_size != in->r.size) {
		/* truncate(2) of a file not open here: open it for the change */
		if ((r = open_get(fs, in, &o, e)) < 0)
			goto done;
		handle = 1;
	}
	if (o == NULL) {
		/* truncate(2) to the size it has changes nothing, not even the
		 * times (as ext4 and tmpfs), but for the set-ID rule; any other
		 * setattr is a change (chown -1 -1 moves ctime) */
		if (!(to_set & FUSE_SET_ATTR_SIZE) || ch.to_set != 0 || sgid_killed(&ch, &in->r))
			r = inode_cas(fs, in, &ch, e);
		if (r == 0)
			inode_stat(in, st);
		goto done;
	}
	now = handle;                   /* no close of ours will commit it */
	pthread_mutex_lock(&o->mu);
	r = open_sync(fs, o, in, e);
	if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE) && fi != NULL &&
	    (uint64_t)attr->st_size == ofile_size(o->of)) {
		/* ftruncate and open(O_TRUNC) move the times even when the size
		 * stays (Linux passes ATTR_MTIME|ATTR_CTIME; FUSE does not) */
		if (ofile_dirty(o->of)) {
			o->written = 1;
			o->wtime = now_time();
		} else {
			struct stat t = { 0 };

			r = open_setattr(fs, o, &t, FUSE_SET_ATTR_MTIME_NOW, 0, e);
		}
	} else if (r == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
		r = open_setattr(fs, o, attr, FUSE_SET_ATTR_SIZE, 0, e);
	}
	if (r == 0 && (!(to_set & FUSE_SET_ATTR_SIZE) || ch.to_set != 0 ||
		       sgid_killed(&ch, &o->base.r))) {
		/* root's attribute changes to a file with uncommitted content
		 * (cp -a, tar) wait for its commit; the rest are done now, on
		 * the version the open file is based on */
		if (who == NULL && ch.to_set != 0 && ofile_dirty(o->of) && !now)
			r = open_setattr(fs, o, attr, ch.to_set, 0, e);
		else if ((r = open_commit(fs, o, e)) == 0 &&   /* content first */
			 (r = inode_copy(&o->base, in, e)) == 0 &&
			 (r = inode_cas(fs, in, &ch, e)) == 0)
			r = open_sync(fs, o, in, e);
	}
	if (r == 0 && now)
		r = open_commit(fs, o, e);
	if (r == 0) {
		inode_stat(&o->base, st);
		open_overlay(o, st);
	}
	pthread_mutex_unlock(&o->mu);
	open_unref(fs, o, handle);
done:
	inode_free(in);
	return r;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct cred who = { 0 };
	struct err e = { 0 };
	struct stat st;
	int r = 0, unpriv = 0;

	/* only a mode change and the set-ID rule of sgid_killed() ask */
	if ((to_set & FUSE_SET_ATTR_MODE) || (to_set & ~FUSE_SET_ATTR_SIZE) == 0) {
		r = cred_init(&who, req, &e);
		unpriv = r == 0 && !cred_privileged(&who);
	}
	if (r == 0)
		r = do_setattr(req_fs(req), ino, attr, to_set, fi, unpriv ? &who : NULL, &st, &e);
	cred_release(&who);
	if (r == 0)
		fuse_reply_attr(req, &st, FS_TIMEOUT);
	else
		fuse_reply_err(req, user_errno(r, "setattr", &e));
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs_inode *in = inode_alloc();
	struct fuse_entry_param ep;
	struct err e = { 0 };
	int r = in == NULL ? -ENOMEM : do_create(req_fs(req), parent, name, mode, RECORD_DIR,
						 NULL, fuse_req_ctx(req), in, &e);

	if (r == 0) {
		inode_entry(in, &ep);
		fuse_reply_entry(req, &ep);
	} else {
		fuse_reply_err(req, user_errno(r, "mkdir", &e));
	}
	inode_free(in);
}

/* symlink: a create of an inode type=l with target= (mode 0777, size = the
 * target's length), ONE UPDATE like any create. */
static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct fs_inode *in = inode_alloc();
	struct fuse_entry_param ep;
	struct err e = { 0 };
	int r = in == NULL ? -ENOMEM : do_create(req_fs(req), parent, name, 0777, RECORD_LNK,
						 link, fuse_req_ctx(req), in, &e);

	if (r == 0) {
		inode_entry(in, &ep);
		fuse_reply_entry(req, &ep);
	} else {
		fuse_reply_err(req, user_errno(r, "symlink", &e));
	}
	inode_free(in);
}

/* mknod of every type but a directory or a symlink (they have their own
 * operations): a regular file (also what mknod with no type makes: the
 * kernel passes S_IFREG), a FIFO, a UNIX socket node, a character or block
 * device whose rdev is kept as the kernel gave it. The kernel serves the
 * special files itself (pipes, sockets, device drivers): only their inodes
 * are ours. */
static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	struct fs_inode *in = inode_alloc();
	struct fuse_entry_param ep;
	struct err e = { 0 };
	int type = record_type_from_mode((mode & S_IFMT) != 0 ? mode : (mode | S_IFREG));
	int r;

	if (in == NULL)
		r = -ENOMEM;
	else if (type == 0 || type == RECORD_DIR || type == RECORD_LNK)
		r = -EINVAL;
	else
		r = create_node(req_fs(req), parent, name, mode, type, NULL, (uint64_t)rdev,
				fuse_req_ctx(req), in, &e);
	if (r == 0) {
		inode_entry(in, &ep);
		fuse_reply_entry(req, &ep);
	} else {
		fuse_reply_err(req, user_errno(r, "mknod", &e));
	}
	inode_free(in);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_inode *in;
	struct err e = { 0 };
	int r = inode_load(req_fs(req), ino, &in, &e);

	if (r == 0 && in->r.type != RECORD_LNK)
		r = -EINVAL;
	if (r == 0)
		fuse_reply_readlink(req, in->r.target);
	else
		fuse_reply_err(req, user_errno(r, "readlink", &e));
	inode_free(in);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct err e = { 0 };
	int r = do_remove(req_fs(req), parent, name, 0, &e);

	fuse_reply_err(req, r == 0 ? 0 : user_errno(r, "unlink", &e));
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct err e = { 0 };
	int r = do_remove(req_fs(req), parent, name, 1, &e);

	fuse_reply_err(req, r == 0 ? 0 : user_errno(r, "rmdir", &e));
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct err e = { 0 };
	int r = do_rename(req_fs(req), parent, name, newparent, newname, flags, &e);

	fuse_reply_err(req, r == 0 ? 0 : user_errno(r, "rename", &e));
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct fs_inode *in = inode_alloc();
	struct fuse_entry_param ep;
	struct err e = { 0 };
	int r = in == NULL ? -ENOMEM : do_link(req_fs(req), ino, newparent, newname, in, &e);

	if (r == 0) {
		inode_entry(in, &ep);
		fuse_reply_entry(req, &ep);
	} else {
		fuse_reply_err(req, user_errno(r, "link", &e));
	}
	inode_free(in);
}

/* One open file description: fi->fh. Its address is also what a flock()
 * belongs to, so it is per open(2), while the content (fs_open) is shared. */
struct fs_handle {
	struct fs_open *o;
};

static struct fs_open *handle_open(const struct fuse_file_info *fi)
{
	return ((struct fs_handle *)(uintptr_t)fi->fh)->o;
}

/* open/create: the shared open file of in, and a new handle on it. */
static int handle_new(struct fs *fs, const struct fs_inode *in, struct fuse_file_info *fi,
		      struct err *e)
{
	struct fs_handle *h = calloc(1, sizeof(*h));
	int r;

	if (h == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	if ((r = open_get(fs, in, &h->o, e)) < 0) {
		free(h);
		return r;
	}
	fi->fh = (uintptr_t)h;
	return 0;
}

static void handle_free(struct fs *fs, struct fuse_file_info *fi)
{
	struct fs_handle *h = (struct fs_handle *)(uintptr_t)fi->fh;

	open_unref(fs, h->o, 1);
	free(h);
}

static int do_open(struct fs *fs, fuse_ino_t ino, struct fuse_file_info *fi, struct err *e)
{
	struct fs_inode *in = NULL;
	struct fs_open *o;
	int r;

	if ((r = inode_load(fs, ino, &in, e)) < 0)      /* fresh on open */
		goto done;
	if (in->r.type == RECORD_DIR) {
		r = -EISDIR;
		goto done;
	}
	if ((r = handle_new(fs, in, fi, e)) < 0)
		goto done;
	/* close-to-open: the kernel may hold attributes (the size) from
	 * before another client's last close; have it ask again */
	if (fs->se != NULL)
		fuse_lowlevel_notify_inval_inode(fs->se, ino, -1, 0);
	if (fi->flags & O_TRUNC) {      /* FUSE_CAP_ATOMIC_O_TRUNC: ours to do */
		o = handle_open(fi);
		pthread_mutex_lock(&o->mu);
		if (ofile_size(o->of) > 0) {
			if ((r = ofile_truncate(o->of, 0, e)) == 0) {
				o->written = 1;
				o->wtime = now_time();
			}
		} else {                /* empty already: the times move all the same */
			struct stat t = { 0 };

			r = open_setattr(fs, o, &t, FUSE_SET_ATTR_MTIME_NOW, 0, e);
		}
		pthread_mutex_unlock(&o->mu);
		if (r < 0)
			handle_free(fs, fi);
	}
done:
	inode_free(in);
	return r;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct err e = { 0 };
	int r;

	read_ahead_apply(req_fs(req));
	r = do_open(req_fs(req), ino, fi, &e);

	if (r < 0) {
		fuse_reply_err(req, user_errno(r, "open", &e));
		return;
	}
	if (fuse_reply_open(req, fi) != 0)
		handle_free(req_fs(req), fi);   /* interrupted: no release will come */
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs_inode *in = inode_alloc();
	struct fuse_entry_param ep;
	struct err e = { 0 };
	int r = in == NULL ? -ENOMEM : do_create(req_fs(req), parent, name, mode, RECORD_REG,
						 NULL, fuse_req_ctx(req), in, &e);

	if (r == 0)
		r = handle_new(req_fs(req), in, fi, &e);
	if (r < 0) {
		fuse_reply_err(req, user_errno(r, "create", &e));
	} else {
		inode_entry(in, &ep);
		if (fuse_reply_create(req, &ep, fi) != 0)
			handle_free(req_fs(req), fi);
	}
	inode_free(in);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct fs_open *o = handle_open(fi);
	struct err e = { 0 };
	uint8_t *buf = malloc(size > 0 ? size : 1);
	size_t got = 0;
	int r = buf == NULL ? -ENOMEM : 0;

	if (r == 0 && off >= 0) {
		pthread_mutex_lock(&o->mu);
		r = ofile_read(o->of, (uint64_t)off, size, buf, &got, &e);
		pthread_mutex_unlock(&o->mu);
	}
	if (r == 0)
		fuse_reply_buf(req, (const char *)buf, got);
	else
		fuse_reply_err(req, user_errno(r, "read", &e));
	free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct fs_open *o = handle_open(fi);
	struct err e = { 0 };
	int r;

	if (off < 0) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_mutex_lock(&o->mu);
	/* O_APPEND: the end is what this mount knows (the kernel's size may be
	 * older than a rebase onto another client's appends) */
	if ((fi->flags & O_APPEND) && !fi->writepage)
		off = (off_t)ofile_size(o->of);
	r = ofile_write(o->of, (uint64_t)off, buf, size, (fi->flags & O_APPEND) != 0, &e);
	if (r == 0) {
		o->written = 1;
		o->wtime = now_time();
		o->pend_set &= ~FUSE_SET_ATTR_MTIME;    /* the write's time wins */
		/* a long write commits as it goes, so that one UPDATE (at most
		 * 64 KiB: a few block-map pages of stripes) carries each step,
		 * and so that no stored block waits for its commit long enough
		 * for gc's grace (default 600 s) to take it */
		if ((ofile_pending(o->of) >= FS_AUTOCOMMIT_CHUNKS ||
		     ofile_pending_age(o->of) >= FS_AUTOCOMMIT_SEC) &&
		    open_commit(req_fs(req), o, &e) < 0)
			log_warn("inode %llu: commit during a long write: %s (the next fsync "
				 "or close tries again)", (unsigned long long)ino, e.msg);
	}
	pthread_mutex_unlock(&o->mu);
	if (r == 0)
		fuse_reply_write(req, size);
	else
		fuse_reply_err(req, user_errno(r, "write", &e));
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_open *o = handle_open(fi);
	struct err e = { 0 };
	int r;

	pthread_mutex_lock(&o->mu);
	r = open_commit(req_fs(req), o, &e);
	pthread_mutex_unlock(&o->mu);
	/* POSIX: any close drops the process's locks; after the commit, so
	 * that the next holder reads what was written under the lock (fsync
	 * comes here too, without fi->flush) */
	if (fi->flush)
		lock_posix_close(req_fs(req)->lk, ino, fi->lock_owner);
	fuse_reply_err(req, r == 0 ? 0 : user_errno(r, "flush", &e));
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	op_flush(req, ino, fi);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = req_fs(req);
	struct fs_open *o = handle_open(fi);
	struct err e = { 0 };
	int r, last;

	pthread_mutex_lock(&fs->op_mu);
	last = o->handles == 1;
	pthread_mutex_unlock(&fs->op_mu);
	pthread_mutex_lock(&o->mu);
	r = open_commit(fs, o, &e);
	if (r == 0 && last && o->unlinked && !o->gone)
		r = open_delete(fs, o, &e);
	pthread_mutex_unlock(&o->mu);
	if (r < 0)      /* close(2) already returned: the flush reported it */
		log_err("release of inode %llu: %s", (unsigned long long)ino, e.msg);
	lock_flock_close(fs->lk, ino, fi->fh);
	handle_free(fs, fi);
	fuse_reply_err(req, 0);
}

static void dir_free(struct fs_dir *d)
{
	if (d == NULL)
		return;
	pthread_mutex_destroy(&d->mu);
	free(d->v);
	free(d);
}

static int do_opendir(struct fs *fs, fuse_ino_t ino, struct fs_dir **out, struct err *e)
{
	struct fs_dir *d = calloc(1, sizeof(*d));
	struct fs_inode *in = NULL;
	int r;

	if (d == NULL)
		return -ENOMEM;
	pthread_mutex_init(&d->mu, NULL);
	d->ino = ino;
	if ((r = inode_load(fs, ino, &in, e)) < 0)
		goto fail;
	if (in->r.type != RECORD_DIR) {
		r = -ENOTDIR;
		goto fail;
	}
	d->parent = in->r.parent != 0 ? in->r.parent : ino;
	d->nb = dir_buckets(in);
	*out = d;
	d = NULL;
fail:
	inode_free(in);
	dir_free(d);
	return r;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir *d = NULL;
	struct err e = { 0 };
	int r = do_opendir(req_fs(req), ino, &d, &e);

	if (r < 0) {
		fuse_reply_err(req, user_errno(r, "opendir", &e));
		return;
	}
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0)
		dir_free(d);
}

static int dent_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct fs_dent *)a)->key, y = ((const struct fs_dent *)b)->key;

	return x < y ? -1 : x > y;
}

/* Read the bucket that holds key into d: the bucket count from the last
 * read of the directory inode, then the bucket, then the inode again to
 * check the count did not change meanwhile (a split or merge moved entries:
 * read again). Entries outside the bucket's key range are skipped. */
static int dir_load(struct fs *fs, struct fs_dir *d, uint64_t key, struct err *e)
{
	struct fs_inode *in = NULL;
	char name[RECORD_NAME_BUF], text[RECORD_NAME_MAX * 3 + 64];
	int r = -EIO;

	d->have = 0;
	d->n = 0;
	if ((in = inode_alloc()) == NULL)
		return -ENOMEM;
	if (d->nb == 0) {
		if ((r = inode_get(fs, d->ino, in, e)) < 0)
			goto fail;
		d->nb = dir_buckets(in);
	}
	for (int t = 0; t < FS_DIR_TRIES; t++) {
		uint32_t nb = d->nb, b = dirbucket_of(key, nb);
		struct mdc_answer a = { 0 };
		struct fs_dent *v = NULL;

		dirbucket_range(b, nb, &d->lo, &d->hi);
		name_listing(fs, name, d->ino, b);
		if ((r = mdc_query(&fs->mdc, name, WIRE_T_TXT, &a, e)) < 0)
			goto fail;
		if (a.rcode != WIRE_RC_NOERROR && a.rcode != WIRE_RC_NXDOMAIN)
			r = err_set(e, -EIO, "%s: %s", name, wire_rcode_name(a.rcode));
		else if (a.n > 0 && (v = realloc(d->v, a.n * sizeof(*v))) == NULL)
			r = -ENOMEM;
		if (v != NULL)
			d->v = v;
		for (size_t i = 0; r == 0 && i < a.n; i++) {
			struct fs_dent *de = &d->v[d->n];
			int k;

			if (a.v[i].type != WIRE_T_TXT)
				continue;
			k = mdc_txt_text(a.v[i].rdata, a.v[i].rdlen, text, sizeof(text), e);
			if (k >= 0)
				k = record_entry_parse_text(&de->en, text, (size_t)k, e);
			if (k < 0) {
				log_warn("%s: skipping a bad entry: %s", name, e->msg);
				continue;
			}
			de->key = dirbucket_key(de->en.name, de->en.namelen);
			if (de->key >= d->lo && de->key <= d->hi)
				d->n++;
		}
		mdc_answer_release(&a);
		if (r < 0)
			goto fail;
		if ((r = inode_get(fs, d->ino, in, e)) < 0)
			goto fail;
		if (dir_buckets(in) == nb) {
			qsort(d->v, d->n, sizeof(*d->v), dent_cmp);
			d->have = 1;
			break;
		}
		d->nb = dir_buckets(in);        /* it split or merged: again */
		d->n = 0;
		r = -EIO;
	}
fail:
	inode_free(in);
	return r;
}

/* Offsets are positions in the key space (dirbucket_cookie): 1 after ".",
 * 2 after "..", then each entry's cookie. Buckets are walked in key order,
 * so a split or merge between two calls moves no entry across the offset
 * and every entry present throughout is returned exactly once. */
static int do_readdir(struct fs *fs, fuse_req_t req, struct fs_dir *d, fuse_ino_t ino,
		      char *buf, size_t size, off_t off, size_t *used, struct err *e)
{
	uint64_t key;
	size_t i, lo, hi;
	int r = 0;

	if (off == 0)
		d->have = 0;            /* rewinddir: a fresh listing */
	for (off_t o = off; o < 2; o++) {
		struct stat st = { .st_ino = o == 0 ? ino : d->parent, .st_mode = S_IFDIR };
		size_t need = fuse_add_direntry(req, buf + *used, size - *used,
						o == 0 ? "." : "..", &st, o + 1);

		if (need > size - *used)
			return 0;
		*used += need;
	}
	if (dirbucket_resume(off, &key) != 0)
		return 0;
	for (;;) {
		if (!d->have || key < d->lo || key > d->hi) {
			if ((r = dir_load(fs, d, key, e)) < 0)
				return r;
		}
		/* the first entry at or after key */
		for (lo = 0, hi = d->n; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;

			if (d->v[mid].key < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (i = lo; i < d->n; i++) {
			const struct fs_dent *de = &d->v[i];
			struct stat st = { .st_ino = de->en.ino,
					   .st_mode = record_type_to_ifmt(de->en.type) };
			size_t need = fuse_add_direntry(req, buf + *used, size - *used, de->en.name,
							&st, dirbucket_cookie(de->key));

			if (need > size - *used)
				return 0;
			*used += need;
		}
		if (d->hi == UINT64_MAX)
			return 0;
		key = d->hi + 1;
	}
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;
	char *buf = malloc(size > 0 ? size : 1);
	struct err e = { 0 };
	size_t used = 0;
	int r;

	if (buf == NULL) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&d->mu);
	r = do_readdir(req_fs(req), req, d, ino, buf, size, off, &used, &e);
	pthread_mutex_unlock(&d->mu);
	/* what fitted before an error is still a valid answer; the next call
	 * resumes after it and meets the error again */
	if (r < 0 && used == 0)
		fuse_reply_err(req, user_errno(r, "readdir", &e));
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_dir *d = (struct fs_dir *)(uintptr_t)fi->fh;

	lock_flock_close(req_fs(req)->lk, ino, fi->fh);
	dir_free(d);
	fuse_reply_err(req, 0);
}

/* Not real numbers yet (SCHEMA.md, "The mount"): fixed, plausible ones. */
static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;

	(void)ino;
	capacity_statvfs(&req_fs(req)->cap, &sv, RECORD_NAME_MAX);
	fuse_reply_statfs(req, &sv);
}

/* ------------------------------------------------------ extended attributes --- */

/* Only user.* is stored; other namespaces (security, system, trusted) are
 * EOPNOTSUPP without a query (the kernel asks for security.capability on
 * every write). */
static int xattr_ns_ok(const char *name)
{
	return strncmp(name, "user.", 5) == 0;
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct change ch = { .xop = XOP_SET, .xname = name, .xval = value, .xlen = size,
			     .xflags = flags };
	struct fs_inode *in;
	struct err e = { 0 };
	int r;

	if (!xattr_ns_ok(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (size > RECORD_XATTR_VALUE_MAX) {
		fuse_reply_err(req, E2BIG);
		return;
	}
	r = inode_load(req_fs(req), ino, &in, &e);
	if (r == 0)
		r = inode_cas(req_fs(req), in, &ch, &e);
	if (r == -E2BIG)                /* the inode record would not fit */
		r = -ENOSPC;
	fuse_reply_err(req, r == 0 ? 0 : user_errno(r, "setxattr", &e));
	inode_free(in);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	const struct record_xattr *x;
	struct fs_inode *in;
	struct err e = { 0 };
	int r;

	if (!xattr_ns_ok(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	r = inode_load(req_fs(req), ino, &in, &e);
	if (r < 0) {
		fuse_reply_err(req, user_errno(r, "getxattr", &e));
	} else if ((x = record_inode_xattr_find(&in->r, name, strlen(name))) == NULL) {
		fuse_reply_err(req, ENODATA);
	} else if (size == 0) {
		fuse_reply_xattr(req, x->len);
	} else if (size < x->len) {
		fuse_reply_err(req, ERANGE);
	} else {
		fuse_reply_buf(req, (const char *)x->value, x->len);
	}
	inode_free(in);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs_inode *in;
	struct err e = { 0 };
	size_t total = 0;
	char *buf;
	int r = inode_load(req_fs(req), ino, &in, &e);

	if (r < 0) {
		fuse_reply_err(req, user_errno(r, "listxattr", &e));
		inode_free(in);
		return;
	}
	for (size_t i = 0; i < in->r.nxattrs; i++)
		total += in->r.xattrs[i].namelen + 1;
	if (size == 0) {
		fuse_reply_xattr(req, total);
	} else if (size < total) {
		fuse_reply_err(req, ERANGE);
	} else if ((buf = malloc(total + 1)) == NULL) {
		fuse_reply_err(req, ENOMEM);
	} else {
		size_t n = 0;

		for (size_t i = 0; i < in->r.nxattrs; i++) {
			memcpy(buf + n, in->r.xattrs[i].name, in->r.xattrs[i].namelen + 1);
			n += in->r.xattrs[i].namelen + 1;
		}
		fuse_reply_buf(req, buf, total);
		free(buf);
	}
	inode_free(in);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct change ch = { .xop = XOP_REMOVE, .xname = name };
	struct fs_inode *in;
	struct err e = { 0 };
	int r;

	if (!xattr_ns_ok(name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	r = inode_load(req_fs(req), ino, &in, &e);
	if (r == 0)
		r = inode_cas(req_fs(req), in, &ch, &e);
	fuse_reply_err(req, r == 0 ? 0 : user_errno(r, "removexattr", &e));
	inode_free(in);
}

/* --------------------------------------------------------------- locks --- */
/* flock and fcntl locks are lock.c's; a blocked request is queued there and
 * answered by its thread (LOCK_QUEUED), so it holds no loop thread. */

static void op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	int r = lock_flock(req_fs(req)->lk, req, ino, fi->lock_owner, fi->fh, op);

	if (r != LOCK_QUEUED)
		fuse_reply_err(req, -r);
}

static void op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		     struct flock *lock)
{
	int r = lock_getlk(req_fs(req)->lk, ino, fi->lock_owner, lock);

	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_lock(req, lock);
}

/* Locks and content, as NFS does: an unlock first commits what was written
 * under the lock, and a lock granted at once re-reads the file (another
 * client may have committed under its lock), so a lock-protected
 * read-modify-write across mounts sees the last holder's data even on a
 * descriptor opened before. (A grant after waiting is answered by the lock
 * thread: there the next open or getattr brings the new content.) */
static void open_lock_sync(struct fs *fs, uint64_t ino, int unlock)
{
	struct fs_open *o = open_ref(fs, ino);
	struct fs_inode *in = NULL;
	struct err e = { 0 };
	int r = 0;

	if (o == NULL)
		return;
	if (!unlock)
		r = inode_load(fs, ino, &in, &e);
	pthread_mutex_lock(&o->mu);
	if (r == 0)
		r = unlock ? open_commit(fs, o, &e) : open_sync(fs, o, in, &e);
	pthread_mutex_unlock(&o->mu);
	if (r < 0)
		log_warn("inode %llu: %s at a lock change: %s", (unsigned long long)ino,
			 unlock ? "commit" : "revalidation", e.msg);
	if (!unlock && fs->se != NULL)  /* the kernel's cached pages too */
		fuse_lowlevel_notify_inval_inode(fs->se, ino, 0, 0);
	inode_free(in);
	open_unref(fs, o, 0);
}

static void op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		     struct flock *lock, int sleep)
{
	struct fs *fs = req_fs(req);
	int r;

	if (lock->l_type == F_UNLCK)
		open_lock_sync(fs, ino, 1);
	r = lock_setlk(fs->lk, req, ino, fi->lock_owner, lock, sleep);
	if (r == 0 && lock->l_type != F_UNLCK)
		open_lock_sync(fs, ino, 0);
	if (r != LOCK_QUEUED)
		fuse_reply_err(req, -r);
}

/* The session ends: waiting lock requests are answered before it goes. */
static void op_destroy(void *userdata)
{
	fs_stop(userdata);
}

/* Not set (the kernel answers ENOSYS): fallocate, copy_file_range.
 * flock and getlk/setlk (fcntl byte ranges) are cluster-wide. */
/* open(O_TRUNC) comes as one open request (do_open truncates), not as an
 * open and a setattr that cannot be told from truncate(2). */
static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
}

const struct fuse_lowlevel_ops fs_ops = {
	.init = op_init,
	.destroy = op_destroy,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.mkdir = op_mkdir,
	.mknod = op_mknod,
	.symlink = op_symlink,
	.readlink = op_readlink,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.fsync = op_fsync,
	.release = op_release,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.getlk = op_getlk,
	.setlk = op_setlk,
	.flock = op_flock,
};

/* -------------------------------------------------------------- set up --- */

static int nodes_static(struct fs *fs, const char *list, struct err *e)
{
	struct blockclient_node v[64];
	size_t len = strlen(list) + 1;
	char *buf = malloc(len);
	int n;

	if (buf == NULL)
		return -ENOMEM;
	n = blockclient_parse_nodes(list, buf, len, v, 64, e);
	if (n >= 0)
		n = blockclient_set_nodes(fs->bc, v, (size_t)n, e);
	free(buf);
	return n;
}

int fs_new(struct fs **out, const struct fs_opts *o, struct err *e)
{
	struct fs *fs = calloc(1, sizeof(*fs));
	struct blockclient_opts bo;
	struct fs_inode *root = NULL;
	char addr[64];
	const char *colon;
	int r, n = 0;

	if (fs == NULL)
		return -ENOMEM;
	pthread_mutex_init(&fs->ino_mu, NULL);
	pthread_mutex_init(&fs->op_mu, NULL);
	pthread_mutex_init(&fs->ra_mu, NULL);
	fs->rep = o->rep > 0 ? o->rep : 3;
	if (o->zone == NULL || o->mds == NULL || (colon = strrchr(o->mds, ':')) == NULL ||
	    (size_t)(colon - o->mds) >= sizeof(addr)) {
		r = err_set(e, -EINVAL, "zone= and mds=ADDR:PORT are required");
		goto fail;
	}
	memcpy(addr, o->mds, (size_t)(colon - o->mds));
	addr[colon - o->mds] = '\0';
	if ((r = mdc_init(&fs->mdc, o->zone, addr, atoi(colon + 1), o->keyfile, e)) < 0)
		goto fail;
	if (o->timeout_ms > 0)
		fs->mdc.timeout_ms = o->timeout_ms;
	if ((r = lock_new(&fs->lk, &fs->mdc, o->lock_lease, e)) < 0)
		goto fail;
	if (o->blockkeyfile != NULL && (r = tsig_keyring_load(&fs->bkr, o->blockkeyfile, e)) < 0)
		goto fail;
	blockclient_opts_init(&bo);
	bo.key = fs->bkr.n > 0 ? &fs->bkr.keys[0] : NULL;
	if ((r = blockclient_new(&fs->bc, &bo, e)) < 0)
		goto fail;
	capacity_init(&fs->cap, fs->bc, fs->rep, (uint64_t)FSMETA_RANGE_MAX << FSMETA_RANGE_BITS);
	fs->cap_init = 1;
	if (o->cache_dir != NULL) {
		r = blockcache_new(&fs->cache, o->cache_dir,
				   o->cache_bytes > 0 ? o->cache_bytes : FS_CACHE_BYTES, e);
		if (r < 0)
			goto fail;
		blockclient_set_cache(fs->bc, fs->cache);
	}
	{       /* nodes from the zone's SRV records, else the static list */
		struct resolve *res = NULL;
		struct err why = { 0 };

		n = resolve_new(&res, fs->mdc.zone, addr, atoi(colon + 1), &why);
		if (n == 0)
			n = blockclient_discover(fs->bc, res, fs->mdc.zone, &why);
		resolve_free(res);
		if (n <= 0 && o->blockd != NULL)
			n = nodes_static(fs, o->blockd, e);
		if (n <= 0)
			log_warn("no block daemons (%s): files over %d bytes cannot be written",
				 n == 0 ? "none registered" : why.msg, RECORD_INLINE_MAX);
	}
	root = inode_alloc();
	if (root == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = inode_get(fs, FUSE_ROOT_ID, root, e)) < 0) {
		if (r == -ENOENT)
			err_set(e, r, "zone %s has no root inode (1.i.%s)", fs->mdc.zone, fs->mdc.zone);
		goto fail;
	}
	inode_free(root);
	*out = fs;
	return 0;
fail:
	inode_free(root);
	fs_free(fs);
	return r;
}

void fs_stop(struct fs *fs)
{
	if (fs != NULL && fs->lk != NULL)
		lock_shutdown(fs->lk);
}

void fs_set_read_ahead(struct fs *fs, const char *path, int kb)
{
	snprintf(fs->ra_path, sizeof(fs->ra_path), "%s", path);
	fs->ra_kb = kb;
}

void fs_set_session(struct fs *fs, struct fuse_session *se)
{
	fs->se = se;
}

void fs_free(struct fs *fs)
{
	if (fs == NULL)
		return;
	open_commit_all(fs);            /* unmount: nothing written is lost */
	for (size_t b = 0; b < FS_OPEN_BUCKETS; b++)
		while (fs->op_tab[b] != NULL) {
			struct fs_open *o = fs->op_tab[b];

			fs->op_tab[b] = o->next;
			open_free(o);
		}
	lock_free(fs->lk);              /* releases what is still held */
	pthread_mutex_destroy(&fs->ino_mu);
	pthread_mutex_destroy(&fs->op_mu);
	pthread_mutex_destroy(&fs->ra_mu);
	if (fs->cap_init)
		capacity_release(&fs->cap);
	blockclient_free(fs->bc);
	if (fs->cache != NULL) {
		struct blockcache_stats cs;

		blockcache_stats(fs->cache, &cs);
		log_info("block cache: %llu hits, %llu misses, %llu corrupt, %llu evicted, "
			 "%llu entries of %llu bytes", (unsigned long long)cs.hits,
			 (unsigned long long)cs.misses, (unsigned long long)cs.corrupt,
			 (unsigned long long)cs.evictions, (unsigned long long)cs.entries,
			 (unsigned long long)cs.bytes);
	}
	blockcache_free(fs->cache);
	tsig_keyring_release(&fs->bkr);
	mdc_release(&fs->mdc);
	free(fs);
}
