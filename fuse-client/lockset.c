/* lockset: POSIX byte-range lock arithmetic and the p.<ino>.k.Z text form.
 * Pure functions over a sorted array; the mount does the I/O (lock.c). The
 * text is `v=1` then `r=` or `w=<start>-<end>:<owner>:<exp>` per range, an
 * empty end meaning "to the end of the file" (l_len 0). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lockset.h"

void lockset_init(struct lockset *s)
{
	memset(s, 0, sizeof(*s));
}

void lockset_release(struct lockset *s)
{
	free(s->v);
	lockset_init(s);
}

/* Room for `more` ranges beyond n. */
static int reserve(struct lockset *s, size_t more)
{
	size_t want = s->n + more, nc;
	struct lockset_range *v;

	if (want <= s->cap)
		return 0;
	nc = s->cap ? s->cap : 8;
	while (nc < want)
		nc *= 2;
	v = realloc(s->v, nc * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	s->v = v;
	s->cap = nc;
	return 0;
}

static int range_cmp(const void *a, const void *b)
{
	const struct lockset_range *x = a, *y = b;
	int c;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if ((c = strcmp(x->owner, y->owner)) != 0)
		return c;
	return x->type - y->type;
}

static void sort(struct lockset *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(s->v[0]), range_cmp);
}

static int overlap(int64_t s1, int64_t e1, int64_t s2, int64_t e2)
{
	return s1 <= e2 && s2 <= e1;
}

int lockset_owner_of(const char *owner, const char *who)
{
	size_t n = strlen(who);

	return strncmp(owner, who, n) == 0 && (owner[n] == '\0' || owner[n] == '.');
}

/* ------------------------------------------------------------- text form --- */

static int owner_check(const char *p, size_t n, struct err *e)
{
	if (n == 0 || n > LOCKSET_OWNER_MAX)
		return err_set(e, -EINVAL, "owner of %zu bytes (1..%d)", n, LOCKSET_OWNER_MAX);
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') ||
		      p[i] == '.' || p[i] == '-'))
			return err_set(e, -EINVAL, "owner \"%.*s\" has a byte outside [0-9a-z.-]",
				       (int)n, p);
	return 0;
}

/* Canonical decimal (no sign, no leading zero) of p..p+n into *out. */
static int dec(const char *p, size_t n, int64_t *out, const char *what, struct err *e)
{
	uint64_t v = 0;

	if (n == 0 || (n > 1 && p[0] == '0'))
		return err_set(e, -EINVAL, "%s \"%.*s\" is not a number", what, (int)n, p);
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return err_set(e, -EINVAL, "%s \"%.*s\" is not a number", what, (int)n, p);
		if (v > ((uint64_t)INT64_MAX - (uint64_t)(p[i] - '0')) / 10)
			return err_set(e, -ERANGE, "%s \"%.*s\" is over 2^63-1", what, (int)n, p);
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = (int64_t)v;
	return 0;
}

/* One `r=` / `w=` value: <start>-<end>:<owner>:<exp>. */
static int parse_range(struct lockset_range *r, const char *v, size_t n, struct err *e)
{
	const char *end = v + n, *dash = memchr(v, '-', n), *c1, *c2;
	int rc;

	c1 = dash != NULL ? memchr(dash, ':', (size_t)(end - dash)) : NULL;
	c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
	if (c2 == NULL)
		return err_set(e, -EINVAL, "\"%.*s\" is not <start>-<end>:<owner>:<exp>", (int)n, v);
	if ((rc = dec(v, (size_t)(dash - v), &r->start, "range start", e)) < 0)
		return rc;
	if (c1 == dash + 1)
		r->end = LOCKSET_EOF;
	else if ((rc = dec(dash + 1, (size_t)(c1 - dash - 1), &r->end, "range end", e)) < 0)
		return rc;
	if (r->end < r->start)
		return err_set(e, -EINVAL, "range %" PRId64 "-%" PRId64 " ends before it starts",
			       r->start, r->end);
	if ((rc = owner_check(c1 + 1, (size_t)(c2 - c1 - 1), e)) < 0)
		return rc;
	memcpy(r->owner, c1 + 1, (size_t)(c2 - c1 - 1));
	r->owner[c2 - c1 - 1] = '\0';
	return dec(c2 + 1, (size_t)(end - c2 - 1), &r->exp, "lease end", e);
}

int lockset_parse(struct lockset *s, const char *text, size_t len, struct err *e)
{
	const char *p = text, *end = text + len;
	int rc = 0, first = 1;

	s->n = 0;
	if (len > LOCKSET_TEXT_MAX) {
		rc = err_set(e, -E2BIG, "lock record: %zu bytes of text (max %d)", len,
			     LOCKSET_TEXT_MAX);
		goto fail;
	}
	for (;;) {
		const char *t, *eq;
		size_t tn;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		t = p;
		while (p < end && *p != ' ')
			p++;
		tn = (size_t)(p - t);
		eq = memchr(t, '=', tn);
		if (eq == NULL) {
			rc = err_set(e, -EINVAL, "\"%.*s\" is not key=value", (int)tn, t);
			goto fail;
		}
		if (first) {
			if (eq != t + 1 || t[0] != 'v') {
				rc = err_set(e, -EINVAL, "v: missing (must come first)");
				goto fail;
			}
			if (tn != 3 || t[2] != '1') {
				rc = err_set(e, tn == 3 && t[2] > '1' && t[2] <= '9' ? -ENOTSUP : -EINVAL,
					     "v: \"%.*s\" is not version 1", (int)(tn - 2), t + 2);
				goto fail;
			}
			first = 0;
			continue;
		}
		if (eq != t + 1 || (t[0] != 'r' && t[0] != 'w')) {
			rc = err_set(e, -EINVAL, "%.*s: unknown key in a range lock record",
				     (int)(eq - t), t);
			goto fail;
		}
		if (s->n == LOCKSET_MAX) {
			rc = err_set(e, -E2BIG, "more than %d ranges", LOCKSET_MAX);
			goto fail;
		}
		if ((rc = reserve(s, 1)) < 0)
			goto fail;
		s->v[s->n].type = t[0] == 'w' ? F_WRLCK : F_RDLCK;
		if ((rc = parse_range(&s->v[s->n], eq + 1, (size_t)(p - eq - 1), e)) < 0)
			goto fail;
		s->n++;
	}
	if (first) {
		rc = err_set(e, -EINVAL, "v: missing (empty record)");
		goto fail;
	}
	sort(s);
	for (size_t i = 0; i < s->n; i++)
		for (size_t j = i + 1; j < s->n && s->v[j].start <= s->v[i].end; j++)
			if (strcmp(s->v[i].owner, s->v[j].owner) == 0) {
				rc = err_set(e, -EINVAL, "ranges of owner %s overlap", s->v[i].owner);
				goto fail;
			}
	return 0;
fail:
	s->n = 0;
	return rc;
}

int lockset_format(const struct lockset *s, char *buf, size_t cap, struct err *e)
{
	size_t o;
	int n;

	n = snprintf(buf, cap, "v=1");
	o = (size_t)n;
	for (size_t i = 0; i < s->n && o < cap; i++) {
		const struct lockset_range *r = &s->v[i];
		char end[24] = "";

		if (r->end != LOCKSET_EOF)
			snprintf(end, sizeof(end), "%" PRId64, r->end);
		n = snprintf(buf + o, cap - o, " %c=%" PRId64 "-%s:%s:%" PRId64,
			     r->type == F_WRLCK ? 'w' : 'r', r->start, end, r->owner, r->exp);
		o += (size_t)n;
	}
	if (o > LOCKSET_TEXT_MAX)
		return err_set(e, -E2BIG, "lock record of %zu ranges: over %d bytes", s->n,
			       LOCKSET_TEXT_MAX);
	if (o >= cap)
		return err_set(e, -ENOSPC, "lock record: buffer of %zu bytes too small", cap);
	return (int)o;
}

/* ------------------------------------------------------------ arithmetic --- */

ssize_t lockset_conflict(const struct lockset *s, const char *owner, int type,
			 int64_t start, int64_t end)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct lockset_range *r = &s->v[i];

		if (strcmp(r->owner, owner) == 0 || !overlap(r->start, r->end, start, end))
			continue;
		if (type == F_WRLCK || r->type == F_WRLCK)
			return (ssize_t)i;
	}
	return -1;
}

/* F_RDLCK is 0 on Linux, so a removed range is marked with this type. */
#define DEAD (-1)

/* Drop the ranges marked DEAD. */
static void compact(struct lockset *s)
{
	size_t o = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].type != DEAD)
			s->v[o++] = s->v[i];
	s->n = o;
}

int lockset_set(struct lockset *s, const char *owner, int type, int64_t start,
		int64_t end, int64_t exp, struct err *e)
{
	size_t n0 = s->n;
	int64_t ns = start, ne = end;
	int rc;

	if (type != F_RDLCK && type != F_WRLCK && type != F_UNLCK)
		return err_set(e, -EINVAL, "lock type %d", type);
	if (start < 0 || end < start)
		return err_set(e, -EINVAL, "range %" PRId64 "-%" PRId64, start, end);
	if (strlen(owner) > LOCKSET_OWNER_MAX)
		return err_set(e, -EINVAL, "owner over %d bytes", LOCKSET_OWNER_MAX);
	/* one split adds a range, the new lock another */
	if ((rc = reserve(s, 2)) < 0)
		return rc;
	/* 1. cut start..end out of owner's ranges */
	for (size_t i = 0; i < n0; i++) {
		struct lockset_range *r = &s->v[i];

		if (strcmp(r->owner, owner) != 0 || !overlap(r->start, r->end, start, end))
			continue;
		if (r->start < start && r->end > end) {         /* sticks out both sides */
			s->v[s->n] = *r;
			s->v[s->n].start = end + 1;
			s->n++;
			r->end = start - 1;
		} else if (r->start < start) {
			r->end = start - 1;
		} else if (r->end > end) {
			r->start = end + 1;
		} else {
			r->type = DEAD;
		}
	}
	/* 2. the new range, merged with owner's neighbours of its type (no range
	 * of owner overlaps start..end any more, so only touching ones are left) */
	if (type != F_UNLCK) {
		for (size_t i = 0; i < s->n; i++) {
			struct lockset_range *r = &s->v[i];

			if (r->type != type || strcmp(r->owner, owner) != 0)
				continue;
			if (r->end != LOCKSET_EOF && r->end + 1 == start) {
				ns = r->start;
				r->type = DEAD;
			} else if (end != LOCKSET_EOF && end + 1 == r->start) {
				ne = r->end;
				r->type = DEAD;
			}
		}
		s->v[s->n] = (struct lockset_range){ .start = ns, .end = ne, .type = type,
						     .exp = exp };
		memcpy(s->v[s->n].owner, owner, strlen(owner) + 1);
		s->n++;
	}
	compact(s);
	sort(s);
	if (s->n > LOCKSET_MAX)
		return err_set(e, -ENOLCK, "%zu ranges on one inode (max %d)", s->n, LOCKSET_MAX);
	return 0;
}

size_t lockset_expire(struct lockset *s, int64_t now, const char *keep)
{
	size_t n0 = s->n;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].exp < now && (keep == NULL || !lockset_owner_of(s->v[i].owner, keep)))
			s->v[i].type = DEAD;
	compact(s);
	return n0 - s->n;
}

size_t lockset_renew(struct lockset *s, const char *who, int64_t exp)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (lockset_owner_of(s->v[i].owner, who)) {
			s->v[i].exp = exp;
			n++;
		}
	return n;
}

size_t lockset_drop(struct lockset *s, const char *who)
{
	size_t n0 = s->n;

	for (size_t i = 0; i < s->n; i++)
		if (lockset_owner_of(s->v[i].owner, who))
			s->v[i].type = DEAD;
	compact(s);
	return n0 - s->n;
}

int lockset_holds(const struct lockset *s, const char *who)
{
	for (size_t i = 0; i < s->n; i++)
		if (lockset_owner_of(s->v[i].owner, who))
			return 1;
	return 0;
}
