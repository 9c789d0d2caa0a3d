/* lock: flock() and POSIX fcntl locks across mounts (lock.h; the records in
 * docs/SCHEMA.md, "The mount"). Each change reads the inode's lock record and
 * sends ONE UPDATE with that exact record as prerequisite, so two conflicting
 * locks can never both be granted; a lost race re-reads and tries again.
 *
 * Lock order: lk->mu (held over one CAS; guards held[]) and lk->wmu (the
 * waiters and the thread's state) are never held together. libfuse runs the
 * interrupt callback with the request's own lock held and the callback takes
 * wmu, so wmu is never held while calling into libfuse; nothing is held while
 * replying. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "lockset.h"
#include "log.h"
#include "record.h"

#define LOCK_CAS_TRIES 32       /* races lost in a row before EIO */
#define LOCK_POLL_MIN_MS 20     /* first re-try of a blocked request */
#define LOCK_POLL_MAX_MS 500    /* back-off cap: a release is seen within this */
#define LOCK_TTL 1              /* TTL of the lock records */
#define LOCK_RDATA_MAX (LOCKSET_TEXT_MAX + RECORD_STRS_FOR(LOCKSET_TEXT_MAX) + 16)

enum { K_FLOCK = 1, K_POSIX = 2 };      /* the two kinds, kept apart as on Linux */
#define LK_RENEW 0x100                  /* flock_cas: extend my lease only */
#define P_RENEW 0x100                   /* posix_cas: extend my client's leases */
#define P_DROP 0x200                    /* posix_cas: remove who's ranges */

/* A lock this mount holds: renewed by the thread, released on close. */
struct lock_held {
	uint64_t ino;
	uint64_t owner;                 /* the kernel's lock owner */
	uint64_t fh;                    /* flock: its open file (releasedir gets no
					 * lock owner, so the handle decides) */
	int kind;                       /* K_FLOCK, K_POSIX; 0 = being removed */
	int type;                       /* flock: LOCK_SH or LOCK_EX */
	pid_t pid;                      /* posix: the process of its last lock, for
					 * F_GETLK of another process of this mount */
};

/* A blocked request: polled by the thread with back-off until granted or
 * interrupted; owned by the waiter list, replied to by the thread. */
struct lock_waiter {
	struct lock_waiter *next;
	struct lock *lk;
	fuse_req_t req;
	int kind;
	uint64_t ino, owner, fh;
	int op;                         /* flock LOCK_SH/LOCK_EX; posix F_RDLCK/F_WRLCK */
	int64_t start, end;             /* posix range */
	pid_t pid;
	unsigned delay_ms;              /* current back-off */
	int warned;                     /* the mds did not answer: logged once */
	struct timespec due;            /* next try, CLOCK_MONOTONIC */
	int interrupted;                /* set by the FUSE interrupt callback (wmu) */
	char blocker[LOCKSET_OWNER_MAX + 1]; /* posix: the owner of the range in the
					 * way at the last try (wmu), for EDEADLK */
};

struct lock {
	struct mdc *mdc;                /* borrowed */
	char client[17];                /* this mount: 16 random hex digits */
	unsigned lease;                 /* seconds */
	pthread_mutex_t mu;             /* held over each CAS; guards held */
	struct lock_held *held;
	size_t nheld, aheld;
	pthread_mutex_t wmu;            /* guards all below */
	pthread_cond_t wcv;             /* CLOCK_MONOTONIC: new waiter, interrupt, stop */
	pthread_t thr;
	int started, stop, down;
	struct lock_waiter *waiters;    /* FIFO */
};

/* ------------------------------------------------------------ helpers --- */

static struct timespec mono_in(unsigned ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static int ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

/* The holder name of a lock owner in the records: "<client>.<owner hex>". */
static void me_of(const struct lock *lk, uint64_t owner, char *buf, size_t len)
{
	snprintf(buf, len, "%s.%016" PRIx64, lk->client, owner);
}

static void name_posix(const struct lock *lk, char *buf, size_t len, uint64_t ino)
{
	buf[0] = 'p';
	buf[1] = '.';
	record_name_lock(buf + 2, len - 2, lk->mdc->zone, ino);
}

/* What the caller of a lock call sees; the rest is logged and EIO. */
static int user_err(int rc, const char *what, uint64_t ino, const struct err *e)
{
	switch (-rc) {
	case 0: case EAGAIN: case EINVAL: case ENOLCK: case EINTR: case ENOMEM: case EDEADLK:
		return rc;
	case E2BIG:
		return -ENOLCK;         /* the record is full: no locks available */
	default:
		log_err("%s on inode %" PRIu64 ": %s", what, ino, e->msg[0] ? e->msg : strerror(-rc));
		return -EIO;
	}
}

/* ------------------------------------------------------------- record --- */

/* A lock record as read (the prerequisite of the write) and as written. */
struct rec {
	int present;                    /* the TXT rrset exists */
	uint16_t rdlen;
	int len;                        /* of text */
	uint8_t rd[LOCK_RDATA_MAX];     /* exactly as read */
	char text[LOCK_RDATA_MAX];      /* its logical text */
	char ntext[LOCK_RDATA_MAX];     /* the new text */
	uint8_t nrd[LOCK_RDATA_MAX];
	char blocker[LOCKSET_OWNER_MAX + 1]; /* posix -EAGAIN: the owner in the way */
};

static int rec_read(struct lock *lk, const char *name, struct rec *r, struct err *e)
{
	struct mdc_answer a;
	int rc = mdc_query(lk->mdc, name, WIRE_T_TXT, &a, e);

	if (rc < 0)
		return rc;
	r->present = 0;
	r->len = 0;
	r->text[0] = '\0';
	if (a.rcode != WIRE_RC_NOERROR && a.rcode != WIRE_RC_NXDOMAIN)
		rc = err_set(e, -EIO, "%s: %s", name, wire_rcode_name(a.rcode));
	for (size_t i = 0; rc == 0 && i < a.n; i++) {
		if (a.v[i].type != WIRE_T_TXT)
			continue;
		if (a.v[i].rdlen > sizeof(r->rd)) {
			rc = err_set(e, -EIO, "%s: %u bytes of rdata", name, a.v[i].rdlen);
			break;
		}
		r->present = 1;
		r->rdlen = a.v[i].rdlen;
		memcpy(r->rd, a.v[i].rdata, r->rdlen);
		rc = mdc_txt_text(r->rd, r->rdlen, r->text, sizeof(r->text), e);
		if (rc < 0) {
			err_prefix(e, "%s: ", name);
			rc = -EIO;
		} else {
			r->len = rc;
			rc = 0;
		}
		break;
	}
	mdc_answer_release(&a);
	return rc;
}

/* ONE UPDATE: the record must still be as read; replace it by ntext, or
 * delete it when ntext is NULL. -ECANCELED when another client was first. */
static int rec_write(struct lock *lk, const char *name, struct rec *r, const char *ntext,
		     struct err *e)
{
	struct mdc_update u;
	int rc, n = 0;

	if (ntext != NULL && (n = mdc_txt_rdata(ntext, strlen(ntext), r->nrd, sizeof(r->nrd), e)) < 0)
		return n;
	if ((rc = mdc_update_begin(lk->mdc, &u)) < 0) {
		mdc_update_release(&u);
		return rc;
	}
	if (r->present)
		mdc_pre_value(&u, name, WIRE_T_TXT, r->rd, r->rdlen);
	else
		mdc_pre_nxrrset(&u, name, WIRE_T_TXT);
	mdc_upd_del_rrset(&u, name, WIRE_T_TXT);
	if (ntext != NULL)
		mdc_upd_add(&u, name, WIRE_T_TXT, LOCK_TTL, r->nrd, (uint16_t)n);
	rc = mdc_update_send(lk->mdc, &u, e);
	mdc_update_release(&u);
	return rc;
}

/* ---------------------------------------------------------- held table --- */
/* All with mu held. */

static struct lock_held *held_find(struct lock *lk, int kind, uint64_t ino, uint64_t owner)
{
	for (size_t i = 0; i < lk->nheld; i++)
		if (lk->held[i].kind == kind && lk->held[i].ino == ino &&
		    lk->held[i].owner == owner)
			return &lk->held[i];
	return NULL;
}

/* Room for one more, taken before the CAS so that a granted lock is always
 * recorded (renewed and released). */
static int held_reserve(struct lock *lk)
{
	struct lock_held *v;
	size_t na;

	if (lk->nheld < lk->aheld)
		return 0;
	na = lk->aheld ? lk->aheld * 2 : 8;
	v = realloc(lk->held, na * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	lk->held = v;
	lk->aheld = na;
	return 0;
}

static void held_put(struct lock *lk, const struct lock_held *h)
{
	struct lock_held *o = held_find(lk, h->kind, h->ino, h->owner);

	if (o == NULL)
		o = &lk->held[lk->nheld++];     /* reserved */
	*o = *h;
}

static void held_del(struct lock *lk, int kind, uint64_t ino, uint64_t owner)
{
	struct lock_held *o = held_find(lk, kind, ino, owner);

	if (o != NULL)
		*o = lk->held[--lk->nheld];
}

/* Drop the entries marked kind 0. */
static void held_compact(struct lock *lk)
{
	size_t o = 0;

	for (size_t i = 0; i < lk->nheld; i++)
		if (lk->held[i].kind != 0)
			lk->held[o++] = lk->held[i];
	lk->nheld = o;
}

/* ------------------------------------------------------------ flock CAS --- */

/* One read-modify-CAS of <ino>.k.Z for holder me: op LOCK_SH, LOCK_EX,
 * LOCK_UN or LK_RENEW. Expired holders are dropped from the new record (the
 * prerequisite is the exact record that had them). 0; -EWOULDBLOCK on a
 * conflict; -ECANCELED when another client changed the record first; for
 * LK_RENEW -ENOLCK when me is no longer a holder. */
static int flock_cas(struct lock *lk, uint64_t ino, const char *me, int op, struct rec *r,
		     struct err *e)
{
	char name[RECORD_NAME_BUF];
	struct record_lock old = { 0 }, nl = { 0 };
	int64_t now = (int64_t)time(NULL);
	int rc, had_me = 0;

	record_name_lock(name, sizeof(name), lk->mdc->zone, ino);
	if ((rc = rec_read(lk, name, r, e)) < 0)
		return rc;
	if (r->present && (rc = record_lock_parse_text(&old, r->text, (size_t)r->len, e)) < 0) {
		err_prefix(e, "%s: ", name);
		return -EIO;
	}
	nl.type = old.type;
	for (size_t i = 0; i < old.n; i++) {
		if (strcmp(old.h[i].owner, me) == 0) {
			had_me = 1;
			continue;
		}
		if (old.h[i].exp < now)
			continue;               /* expired: removed by this CAS */
		nl.h[nl.n++] = old.h[i];
	}
	switch (op) {
	case LOCK_UN:
		if (!had_me)
			return 0;               /* nothing of mine to remove */
		break;
	case LK_RENEW:
		if (!had_me)
			return -ENOLCK;
		break;
	case LOCK_SH:
		if (nl.n > 0 && old.type == 'e')
			return -EWOULDBLOCK;
		nl.type = 's';
		break;
	case LOCK_EX:
		if (nl.n > 0)
			return -EWOULDBLOCK;
		nl.type = 'e';
		break;
	}
	if (op != LOCK_UN) {
		if (nl.n == RECORD_LOCK_HOLDERS)
			return err_set(e, -ENOLCK, "%s: %d holders already", name,
				       RECORD_LOCK_HOLDERS);
		snprintf(nl.h[nl.n].owner, sizeof(nl.h[nl.n].owner), "%s", me);
		nl.h[nl.n].exp = now + (int64_t)lk->lease;
		nl.n++;
	}
	if (nl.n > 0 && (rc = record_lock_format(&nl, r->ntext, sizeof(r->ntext), e)) < 0)
		return rc;
	return rec_write(lk, name, r, nl.n > 0 ? r->ntext : NULL, e);
}

/* ------------------------------------------------------------ POSIX CAS --- */

/* Drop this client's ranges of owners that the held table does not know
 * (mu held): left behind by a release whose UPDATE failed. Without this the
 * renewals of the owners still holding would keep them alive. */
static void drop_stale(struct lock *lk, uint64_t ino, struct lockset *s, const char *who)
{
	for (size_t i = 0; i < s->n; i++) {
		char owner[LOCKSET_OWNER_MAX + 1];
		const char *o = s->v[i].owner;

		if (!lockset_owner_of(o, lk->client) || o[16] != '.' || strcmp(o, who) == 0 ||
		    held_find(lk, K_POSIX, ino, strtoull(o + 17, NULL, 16)) != NULL)
			continue;
		memcpy(owner, o, sizeof(owner));
		lockset_drop(s, owner);
		i = (size_t)-1;         /* compacted: from the start */
	}
}

/* One read-modify-CAS of p.<ino>.k.Z: op F_RDLCK / F_WRLCK / F_UNLCK of
 * start..end for owner who (after the conflict test), P_RENEW (who = this
 * client) or P_DROP (all of who's ranges). Every write also renews this
 * client's other ranges in the record and drops other clients' expired ones
 * and this client's stale ones (mu held).
 * *holds (may be NULL) says whether who holds a range afterwards. 0, -EAGAIN
 * (conflict), -ECANCELED (lost a race), -ENOLCK (P_RENEW: none left, or the
 * record is full), others. */
static int posix_cas(struct lock *lk, uint64_t ino, const char *who, int op, int64_t start,
		     int64_t end, struct rec *r, int *holds, struct err *e)
{
	char name[RECORD_NAME_BUF + 2];
	struct lockset s;
	int64_t now = (int64_t)time(NULL);
	ssize_t i;
	int rc;

	lockset_init(&s);
	name_posix(lk, name, sizeof(name), ino);
	if ((rc = rec_read(lk, name, r, e)) < 0)
		goto out;
	if (r->present && (rc = lockset_parse(&s, r->text, (size_t)r->len, e)) < 0) {
		err_prefix(e, "%s: ", name);
		rc = -EIO;
		goto out;
	}
	lockset_expire(&s, now, lk->client);
	drop_stale(lk, ino, &s, who);
	switch (op) {
	case P_RENEW:
		if (lockset_renew(&s, who, now + (int64_t)lk->lease) == 0) {
			rc = -ENOLCK;
			goto out;
		}
		break;
	case P_DROP:
		lockset_drop(&s, who);
		break;
	default:
		if (op != F_UNLCK && (i = lockset_conflict(&s, who, op, start, end)) >= 0) {
			memcpy(r->blocker, s.v[i].owner, sizeof(r->blocker));
			rc = -EAGAIN;
			goto out;
		}
		rc = lockset_set(&s, who, op, start, end, now + (int64_t)lk->lease, e);
		if (rc < 0)
			goto out;
		lockset_renew(&s, lk->client, now + (int64_t)lk->lease);
	}
	if (holds != NULL)
		*holds = lockset_holds(&s, who);
	if (s.n == 0) {
		rc = r->present ? rec_write(lk, name, r, NULL, e) : 0;
		goto out;
	}
	if ((rc = lockset_format(&s, r->ntext, sizeof(r->ntext), e)) < 0)
		goto out;
	if (r->present && strcmp(r->ntext, r->text) == 0)
		rc = 0;                 /* nothing changes */
	else
		rc = rec_write(lk, name, r, r->ntext, e);
out:
	lockset_release(&s);
	return rc;
}

/* ------------------------------------------------------------- thread --- */

static void *lock_thread(void *arg);

/* Start the thread once (wmu held); lazily, because the mount forks after
 * lock_new and a thread does not survive a fork. */
static int thread_start_locked(struct lock *lk)
{
	if (lk->started)
		return 0;
	if (pthread_create(&lk->thr, NULL, lock_thread, lk) != 0)
		return -EAGAIN;
	lk->started = 1;
	return 0;
}

static void thread_start(struct lock *lk)
{
	pthread_mutex_lock(&lk->wmu);
	if (!lk->stop && thread_start_locked(lk) < 0)
		log_err("locks: cannot start the lease thread; leases will not be renewed");
	pthread_mutex_unlock(&lk->wmu);
}

/* ------------------------------------------------------- one attempt --- */

/* flock op for (ino, owner) of open file fh, retried over lost races. */
static int flock_try(struct lock *lk, uint64_t ino, uint64_t owner, uint64_t fh, int op,
		     struct err *e)
{
	struct rec *r = malloc(sizeof(*r));
	char me[64];
	int rc = -ECANCELED;

	if (r == NULL)
		return -ENOMEM;
	me_of(lk, owner, me, sizeof(me));
	for (int t = 0; t < LOCK_CAS_TRIES && rc == -ECANCELED; t++) {
		pthread_mutex_lock(&lk->mu);
		rc = held_reserve(lk);
		if (rc == 0)
			rc = flock_cas(lk, ino, me, op, r, e);
		if (rc == 0 && op == LOCK_UN)
			held_del(lk, K_FLOCK, ino, owner);
		else if (rc == 0)
			held_put(lk, &(struct lock_held){ .ino = ino, .owner = owner, .fh = fh,
							 .kind = K_FLOCK, .type = op });
		pthread_mutex_unlock(&lk->mu);
	}
	free(r);
	if (rc == 0 && op != LOCK_UN)
		thread_start(lk);
	if (rc == -ECANCELED)
		rc = err_set(e, -EIO, "flock record: %d races lost in a row", LOCK_CAS_TRIES);
	return rc;
}

/* POSIX op on start..end for (ino, owner), retried over lost races; pid is
 * remembered for F_GETLK. On -EAGAIN blocker (LOCKSET_OWNER_MAX + 1 bytes,
 * may be NULL) names the owner in the way. */
static int posix_try(struct lock *lk, uint64_t ino, uint64_t owner, int op, int64_t start,
		     int64_t end, pid_t pid, char *blocker, struct err *e)
{
	struct rec *r = malloc(sizeof(*r));
	char me[64];
	int rc = -ECANCELED, holds = 0;

	if (r == NULL)
		return -ENOMEM;
	me_of(lk, owner, me, sizeof(me));
	for (int t = 0; t < LOCK_CAS_TRIES && rc == -ECANCELED; t++) {
		pthread_mutex_lock(&lk->mu);
		rc = held_reserve(lk);
		if (rc == 0)
			rc = posix_cas(lk, ino, me, op, start, end, r, &holds, e);
		if (rc == 0 && !holds) {
			held_del(lk, K_POSIX, ino, owner);
		} else if (rc == 0) {
			struct lock_held *h = held_find(lk, K_POSIX, ino, owner);

			if (h == NULL || op != F_UNLCK)   /* an unlock comes with no pid */
				held_put(lk, &(struct lock_held){ .ino = ino, .owner = owner,
								 .kind = K_POSIX, .pid = pid });
		}
		pthread_mutex_unlock(&lk->mu);
	}
	if (rc == -EAGAIN && blocker != NULL)
		memcpy(blocker, r->blocker, sizeof(r->blocker));
	free(r);
	if (rc == 0 && holds)
		thread_start(lk);
	if (rc == -ECANCELED)
		rc = err_set(e, -EIO, "range lock record: %d races lost in a row", LOCK_CAS_TRIES);
	return rc;
}

/* ------------------------------------------------------------ waiters --- */

/* libfuse, with the request's lock held: the waiting process got a signal. */
static void waiter_interrupted(fuse_req_t req, void *data)
{
	struct lock_waiter *w = data;
	struct lock *lk = w->lk;

	(void)req;
	pthread_mutex_lock(&lk->wmu);
	w->interrupted = 1;
	pthread_cond_broadcast(&lk->wcv);
	pthread_mutex_unlock(&lk->wmu);
}

/* 1 if the POSIX owner of w waiting for w->blocker closes a cycle of waiters
 * of this mount (wmu held): P waits for Q, which waits for ... P. Waits
 * through other mounts are not seen (they wait until interrupted). */
static int deadlock_locked(struct lock *lk, const struct lock_waiter *w)
{
	char me[64], cur[LOCKSET_OWNER_MAX + 1], other[64];

	if (w->kind != K_POSIX || w->blocker[0] == '\0')
		return 0;
	me_of(lk, w->owner, me, sizeof(me));
	memcpy(cur, w->blocker, sizeof(cur));
	for (int hop = 0; hop < 64; hop++) {
		const struct lock_waiter *x;

		if (strcmp(cur, me) == 0)
			return 1;
		for (x = lk->waiters; x != NULL; x = x->next) {
			if (x->kind != K_POSIX)
				continue;
			me_of(lk, x->owner, other, sizeof(other));
			if (strcmp(other, cur) == 0)
				break;
		}
		if (x == NULL || x->blocker[0] == '\0')
			return 0;
		memcpy(cur, x->blocker, sizeof(cur));
	}
	return 0;
}

/* Queue a blocked request (a copy of tmpl). LOCK_QUEUED, or an errno for the
 * caller to reply with (EDEADLK: it would wait for itself). */
static int waiter_add(struct lock *lk, fuse_req_t req, const struct lock_waiter *tmpl)
{
	struct lock_waiter *w = malloc(sizeof(*w)), **pp;
	int rc = 0;

	if (w == NULL)
		return -ENOMEM;
	*w = *tmpl;
	w->next = NULL;
	w->lk = lk;
	w->req = req;
	w->interrupted = 0;
	w->warned = 0;
	w->delay_ms = LOCK_POLL_MIN_MS;
	w->due = mono_in(w->delay_ms);
	/* before it is queued: once queued the thread may reply and free it. An
	 * interrupt that came already calls back at once. */
	fuse_req_interrupt_func(req, waiter_interrupted, w);
	pthread_mutex_lock(&lk->wmu);
	if (lk->stop)
		rc = -ENOLCK;           /* unmounting */
	else if (deadlock_locked(lk, w))
		rc = -EDEADLK;
	else if (thread_start_locked(lk) < 0)
		rc = -ENOLCK;
	if (rc == 0) {
		for (pp = &lk->waiters; *pp != NULL; pp = &(*pp)->next)
			;
		*pp = w;
		pthread_cond_broadcast(&lk->wcv);
	}
	pthread_mutex_unlock(&lk->wmu);
	if (rc < 0) {
		fuse_req_interrupt_func(req, NULL, NULL);
		free(w);
		return rc;
	}
	return LOCK_QUEUED;
}

/* Answer a waiter taken off the list and free it. */
static void waiter_finish(struct lock_waiter *w, int rc)
{
	/* after this returns the callback is not running and will not run */
	fuse_req_interrupt_func(w->req, NULL, NULL);
	fuse_reply_err(w->req, -rc);
	free(w);
}

/* One attempt for a waiter: 0, -EAGAIN (still blocked) or the errno to
 * answer. An mds that does not answer is waited out like a holder: only an
 * interrupt ends a wait. */
static int waiter_try(struct lock *lk, struct lock_waiter *w, char *blocker)
{
	const char *what = w->kind == K_FLOCK ? "flock" : "fcntl lock";
	struct err e = { 0 };
	int rc;

	if (w->kind == K_FLOCK)
		rc = flock_try(lk, w->ino, w->owner, w->fh, w->op, &e);
	else
		rc = posix_try(lk, w->ino, w->owner, w->op, w->start, w->end, w->pid, blocker, &e);
	if (rc == -ETIMEDOUT || rc == -ECONNREFUSED) {
		if (!w->warned)
			log_warn("%s on inode %" PRIu64 ": %s; still waiting", what, w->ino,
				 e.msg[0] ? e.msg : strerror(-rc));
		w->warned = 1;
		return -EAGAIN;
	}
	return user_err(rc, what, w->ino, &e);
}

/* ------------------------------------------------------------ renewal --- */

/* Extend the lease of every held lock; one found gone (expired and taken by
 * another client) is dropped with a warning. */
static void renew_all(struct lock *lk)
{
	struct rec *r = malloc(sizeof(*r));

	if (r == NULL) {
		log_err("locks: out of memory renewing leases");
		return;
	}
	pthread_mutex_lock(&lk->mu);
	for (size_t i = 0; i < lk->nheld; i++) {
		struct lock_held *h = &lk->held[i];
		struct err e = { 0 };
		char me[64];
		int rc = -ECANCELED, dup = 0;

		if (h->kind == K_POSIX) {       /* one CAS renews the inode's ranges */
			for (size_t j = 0; j < i && !dup; j++)
				dup = lk->held[j].kind == K_POSIX && lk->held[j].ino == h->ino;
			if (dup)
				continue;
		}
		if (h->kind == 0)
			continue;
		me_of(lk, h->owner, me, sizeof(me));
		for (int t = 0; t < LOCK_CAS_TRIES && rc == -ECANCELED; t++)
			rc = h->kind == K_FLOCK ? flock_cas(lk, h->ino, me, LK_RENEW, r, &e)
				: posix_cas(lk, h->ino, lk->client, P_RENEW, 0, 0, r, NULL, &e);
		if (rc == -ENOLCK && h->kind == K_FLOCK) {
			log_warn("flock: the lock on inode %" PRIu64 " was lost (lease expired)", h->ino);
			h->kind = 0;
		} else if (rc == -ENOLCK) {
			log_warn("fcntl locks on inode %" PRIu64 " were lost (lease expired)", h->ino);
			for (size_t j = i; j < lk->nheld; j++)
				if (lk->held[j].kind == K_POSIX && lk->held[j].ino == h->ino)
					lk->held[j].kind = 0;
		} else if (rc < 0) {
			log_warn("locks: renewing the lease on inode %" PRIu64 ": %s", h->ino,
				 e.msg[0] ? e.msg : strerror(-rc));
		}
	}
	held_compact(lk);
	pthread_mutex_unlock(&lk->mu);
	free(r);
}

static unsigned renew_ms(const struct lock *lk)
{
	return lk->lease >= 3 ? lk->lease * 1000 / 3 : 1000;
}

/* Renew leases every lease/3 and try each waiter when it is due (back-off
 * LOCK_POLL_MIN_MS doubling to LOCK_POLL_MAX_MS); an interrupted waiter is
 * answered EINTR at once. */
static void *lock_thread(void *arg)
{
	struct lock *lk = arg;
	struct timespec renew = mono_in(renew_ms(lk));

	pthread_mutex_lock(&lk->wmu);
	while (!lk->stop) {
		struct timespec now = mono_in(0), wake = renew;
		struct lock_waiter *w, **pp;
		int rc = -EINTR;

		if (!ts_before(now, renew)) {
			pthread_mutex_unlock(&lk->wmu);
			renew_all(lk);
			pthread_mutex_lock(&lk->wmu);
			renew = mono_in(renew_ms(lk));
			continue;
		}
		for (w = lk->waiters; w != NULL; w = w->next) {
			if (w->interrupted || !ts_before(now, w->due))
				break;
			if (ts_before(w->due, wake))
				wake = w->due;
		}
		if (w == NULL) {
			pthread_cond_timedwait(&lk->wcv, &lk->wmu, &wake);
			continue;
		}
		if (!w->interrupted) {
			char blocker[LOCKSET_OWNER_MAX + 1] = "";

			pthread_mutex_unlock(&lk->wmu);
			rc = waiter_try(lk, w, blocker);
			pthread_mutex_lock(&lk->wmu);
			if (blocker[0] != '\0')
				memcpy(w->blocker, blocker, sizeof(w->blocker));
		}
		if (rc == -EAGAIN && !w->interrupted) {
			w->delay_ms = w->delay_ms * 2 > LOCK_POLL_MAX_MS ? LOCK_POLL_MAX_MS
									 : w->delay_ms * 2;
			w->due = mono_in(w->delay_ms);
			continue;
		}
		if (rc == -EAGAIN)
			rc = -EINTR;
		for (pp = &lk->waiters; *pp != w; pp = &(*pp)->next)
			;
		*pp = w->next;
		pthread_mutex_unlock(&lk->wmu);
		waiter_finish(w, rc);
		pthread_mutex_lock(&lk->wmu);
	}
	pthread_mutex_unlock(&lk->wmu);
	return NULL;
}

/* ------------------------------------------------------------- public --- */

int lock_new(struct lock **out, struct mdc *mdc, unsigned lease, struct err *e)
{
	struct lock *lk = calloc(1, sizeof(*lk));
	pthread_condattr_t ca;
	uint8_t rnd[8];

	if (lk == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	lk->mdc = mdc;
	lk->lease = lease > 0 ? lease : LOCK_LEASE_DEFAULT;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

		memcpy(rnd, &x, sizeof(rnd));
	}
	for (int i = 0; i < 8; i++)
		snprintf(lk->client + 2 * i, 3, "%02x", rnd[i]);
	pthread_mutex_init(&lk->mu, NULL);
	pthread_mutex_init(&lk->wmu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&lk->wcv, &ca);
	pthread_condattr_destroy(&ca);
	*out = lk;
	return 0;
}

void lock_shutdown(struct lock *lk)
{
	struct lock_waiter *ws;
	struct rec *r;
	int started;

	pthread_mutex_lock(&lk->wmu);
	if (lk->down) {
		pthread_mutex_unlock(&lk->wmu);
		return;
	}
	lk->down = lk->stop = 1;
	started = lk->started;
	pthread_cond_broadcast(&lk->wcv);
	pthread_mutex_unlock(&lk->wmu);
	if (started)
		pthread_join(lk->thr, NULL);
	/* the thread is gone and stop refuses new waiters: the list is ours */
	pthread_mutex_lock(&lk->wmu);
	ws = lk->waiters;
	lk->waiters = NULL;
	pthread_mutex_unlock(&lk->wmu);
	/* ENOLCK, not EINTR: the kernel turns a FUSE EINTR into a restart,
	 * which reaches the caller as errno 512 when no signal is pending */
	while (ws != NULL) {
		struct lock_waiter *w = ws;

		ws = w->next;
		waiter_finish(w, -ENOLCK);
	}
	/* an unmount gives the locks up */
	r = malloc(sizeof(*r));
	pthread_mutex_lock(&lk->mu);
	for (size_t i = 0; r != NULL && i < lk->nheld; i++) {
		struct lock_held *h = &lk->held[i];
		struct err e = { 0 };
		char me[64];
		int rc = -ECANCELED, dup = 0;

		for (size_t j = 0; j < i && !dup; j++)
			dup = h->kind == K_POSIX && lk->held[j].kind == K_POSIX &&
			      lk->held[j].ino == h->ino;
		if (dup)
			continue;
		me_of(lk, h->owner, me, sizeof(me));
		for (int t = 0; t < LOCK_CAS_TRIES && rc == -ECANCELED; t++)
			rc = h->kind == K_FLOCK ? flock_cas(lk, h->ino, me, LOCK_UN, r, &e)
				: posix_cas(lk, h->ino, lk->client, P_DROP, 0, 0, r, NULL, &e);
		if (rc < 0)
			log_warn("locks: releasing inode %" PRIu64 " at unmount: %s (it expires "
				 "with its lease)", h->ino, e.msg[0] ? e.msg : strerror(-rc));
	}
	lk->nheld = 0;
	pthread_mutex_unlock(&lk->mu);
	free(r);
}

void lock_free(struct lock *lk)
{
	if (lk == NULL)
		return;
	lock_shutdown(lk);
	free(lk->held);
	pthread_cond_destroy(&lk->wcv);
	pthread_mutex_destroy(&lk->wmu);
	pthread_mutex_destroy(&lk->mu);
	free(lk);
}

int lock_flock(struct lock *lk, fuse_req_t req, uint64_t ino, uint64_t owner, uint64_t fh,
	       int op)
{
	int base = op & (LOCK_SH | LOCK_EX | LOCK_UN);
	struct err e = { 0 };
	int rc;

	if (base != LOCK_SH && base != LOCK_EX && base != LOCK_UN)
		return -EINVAL;
	if (base == LOCK_UN) {
		pthread_mutex_lock(&lk->mu);
		rc = held_find(lk, K_FLOCK, ino, owner) != NULL;
		pthread_mutex_unlock(&lk->mu);
		if (!rc)
			return 0;       /* nothing held: no query */
	}
	rc = flock_try(lk, ino, owner, fh, base, &e);
	if (rc == -EWOULDBLOCK && !(op & LOCK_NB)) {
		struct lock_waiter t = { .kind = K_FLOCK, .ino = ino, .owner = owner, .fh = fh,
					 .op = base };

		return waiter_add(lk, req, &t);
	}
	return user_err(rc, "flock", ino, &e);
}

void lock_flock_close(struct lock *lk, uint64_t ino, uint64_t fh)
{
	for (;;) {
		struct err e = { 0 };
		uint64_t owner = 0;
		int found = 0, rc;

		pthread_mutex_lock(&lk->mu);
		for (size_t i = 0; i < lk->nheld && !found; i++)
			if (lk->held[i].kind == K_FLOCK && lk->held[i].ino == ino &&
			    lk->held[i].fh == fh) {
				owner = lk->held[i].owner;
				found = 1;
			}
		pthread_mutex_unlock(&lk->mu);
		if (!found)
			return;
		rc = flock_try(lk, ino, owner, fh, LOCK_UN, &e);
		if (rc < 0) {
			log_warn("flock: releasing the lock on inode %" PRIu64 ": %s (it expires with "
				 "its lease)", ino, e.msg[0] ? e.msg : strerror(-rc));
			pthread_mutex_lock(&lk->mu);
			held_del(lk, K_FLOCK, ino, owner);
			pthread_mutex_unlock(&lk->mu);
		}
	}
}

/* start..end of a struct flock as libfuse gives it (SEEK_SET, l_len 0 = to
 * the end, never negative: the kernel normalized it). */
static int range_of(const struct flock *fl, int64_t *start, int64_t *end)
{
	if (fl->l_start < 0 || fl->l_len < 0 ||
	    (fl->l_len > 0 && fl->l_start > INT64_MAX - (fl->l_len - 1)))
		return -EINVAL;
	*start = fl->l_start;
	*end = fl->l_len == 0 ? LOCKSET_EOF : fl->l_start + fl->l_len - 1;
	return 0;
}

int lock_getlk(struct lock *lk, uint64_t ino, uint64_t owner, struct flock *fl)
{
	char name[RECORD_NAME_BUF + 2], me[64];
	struct err e = { 0 };
	struct lockset s;
	struct rec *r;
	int64_t start, end;
	ssize_t i;
	int rc;

	if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK)
		return -EINVAL;
	if ((rc = range_of(fl, &start, &end)) < 0)
		return rc;
	if ((r = malloc(sizeof(*r))) == NULL)
		return -ENOMEM;
	lockset_init(&s);
	name_posix(lk, name, sizeof(name), ino);
	me_of(lk, owner, me, sizeof(me));
	if ((rc = rec_read(lk, name, r, &e)) < 0)
		goto out;
	if (r->present && (rc = lockset_parse(&s, r->text, (size_t)r->len, &e)) < 0) {
		err_prefix(&e, "%s: ", name);
		rc = -EIO;
		goto out;
	}
	lockset_expire(&s, (int64_t)time(NULL), lk->client);
	i = lockset_conflict(&s, me, fl->l_type, start, end);
	if (i < 0) {
		fl->l_type = F_UNLCK;
		goto out;
	}
	fl->l_type = (short)s.v[i].type;
	fl->l_whence = SEEK_SET;
	fl->l_start = s.v[i].start;
	fl->l_len = s.v[i].end == LOCKSET_EOF ? 0 : s.v[i].end - s.v[i].start + 1;
	fl->l_pid = 0;
	if (lockset_owner_of(s.v[i].owner, lk->client) && s.v[i].owner[16] == '.') {
		/* a process of this mount: its pid */
		uint64_t o = strtoull(s.v[i].owner + sizeof(lk->client), NULL, 16);
		struct lock_held *h;

		pthread_mutex_lock(&lk->mu);
		h = held_find(lk, K_POSIX, ino, o);
		fl->l_pid = h != NULL ? h->pid : 0;
		pthread_mutex_unlock(&lk->mu);
	}
out:
	lockset_release(&s);
	free(r);
	return user_err(rc, "F_GETLK", ino, &e);
}

int lock_setlk(struct lock *lk, fuse_req_t req, uint64_t ino, uint64_t owner,
	       const struct flock *fl, int sleep)
{
	char blocker[LOCKSET_OWNER_MAX + 1] = "";
	struct err e = { 0 };
	int64_t start, end;
	int rc, type = fl->l_type;

	if (type != F_RDLCK && type != F_WRLCK && type != F_UNLCK)
		return -EINVAL;
	if ((rc = range_of(fl, &start, &end)) < 0)
		return rc;
	if (type == F_UNLCK) {
		pthread_mutex_lock(&lk->mu);
		rc = held_find(lk, K_POSIX, ino, owner) != NULL;
		pthread_mutex_unlock(&lk->mu);
		if (!rc)
			return 0;       /* the owner holds nothing here: no query */
	}
	rc = posix_try(lk, ino, owner, type, start, end, fl->l_pid, blocker, &e);
	if (rc == -EAGAIN && sleep) {
		struct lock_waiter t = { .kind = K_POSIX, .ino = ino, .owner = owner, .op = type,
					 .start = start, .end = end, .pid = fl->l_pid };

		memcpy(t.blocker, blocker, sizeof(t.blocker));
		return waiter_add(lk, req, &t);
	}
	return user_err(rc, "fcntl lock", ino, &e);
}

void lock_posix_close(struct lock *lk, uint64_t ino, uint64_t owner)
{
	struct err e = { 0 };
	int held, rc;

	pthread_mutex_lock(&lk->mu);
	held = held_find(lk, K_POSIX, ino, owner) != NULL;
	pthread_mutex_unlock(&lk->mu);
	if (!held)
		return;
	rc = posix_try(lk, ino, owner, F_UNLCK, 0, LOCKSET_EOF, 0, NULL, &e);
	if (rc < 0) {
		log_warn("fcntl locks: releasing inode %" PRIu64 " on close: %s (they expire with "
			 "their lease)", ino, e.msg[0] ? e.msg : strerror(-rc));
		pthread_mutex_lock(&lk->mu);
		held_del(lk, K_POSIX, ino, owner);
		pthread_mutex_unlock(&lk->mu);
	}
}
