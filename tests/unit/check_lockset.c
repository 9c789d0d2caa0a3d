/* Unit tests for fuse-client/lockset: the POSIX range arithmetic (conflicts,
 * split and merge of one owner's ranges, upgrade and downgrade, to-EOF
 * ranges, leases) and the p.<ino>.k.Z text form (round trips, malformed
 * records with their errno, size limits). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "lockset.h"

#define A "00000000000000aa.0000000000000001"
#define A2 "00000000000000aa.0000000000000002"
#define B "00000000000000bb.0000000000000001"
#define B2 "00000000000000bb.0000000000000002"
#define EOF_ LOCKSET_EOF

/* The canonical text of s (asserting it formats). */
static const char *text(const struct lockset *s)
{
	static char buf[LOCKSET_TEXT_MAX + 1];
	struct err e = { 0 };

	ck_assert_int_ge(lockset_format(s, buf, sizeof(buf), &e), 0);
	return buf;
}

static void set_ok(struct lockset *s, const char *owner, int type, int64_t a, int64_t b)
{
	struct err e = { 0 };

	ck_assert_msg(lockset_set(s, owner, type, a, b, 100, &e) == 0, "%s", e.msg);
}

static int parse(struct lockset *s, const char *t)
{
	struct err e = { 0 };

	return lockset_parse(s, t, strlen(t), &e);
}

START_TEST(test_roundtrip)
{
	struct lockset s;
	const char *t = "v=1 w=0-99:" A ":1700000000 r=100-:" B ":5";

	lockset_init(&s);
	ck_assert_int_eq(parse(&s, t), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_int_eq(s.v[0].type, F_WRLCK);
	ck_assert_int_eq(s.v[0].start, 0);
	ck_assert_int_eq(s.v[0].end, 99);
	ck_assert_str_eq(s.v[0].owner, A);
	ck_assert_int_eq(s.v[0].exp, 1700000000);
	ck_assert_int_eq(s.v[1].type, F_RDLCK);
	ck_assert_int_eq(s.v[1].end, EOF_);
	ck_assert_str_eq(text(&s), t);
	/* parse sorts; format is canonical whatever the order read */
	ck_assert_int_eq(parse(&s, "v=1  r=100-:" B ":5 w=0-99:" A ":1700000000"), 0);
	ck_assert_str_eq(text(&s), t);
	/* an empty set is "v=1" both ways */
	ck_assert_int_eq(parse(&s, "v=1"), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_str_eq(text(&s), "v=1");
	/* the largest offset written out is EOF-1; EOF itself is the empty end */
	ck_assert_int_eq(parse(&s, "v=1 r=9223372036854775806-9223372036854775806:" A ":0"), 0);
	ck_assert_int_eq(s.v[0].end, EOF_ - 1);
	ck_assert_int_eq(parse(&s, "v=1 r=9223372036854775807-:" A ":0"), 0);
	ck_assert_int_eq(s.v[0].start, EOF_);
	ck_assert_str_eq(text(&s), "v=1 r=9223372036854775807-:" A ":0");
	lockset_release(&s);
}
END_TEST

START_TEST(test_malformed)
{
	static const struct { const char *t; int rc; } bad[] = {
		{ "", -EINVAL },
		{ "w=0-1:" A ":1", -EINVAL },                  /* no v= first */
		{ "v=2 w=0-1:" A ":1", -ENOTSUP },
		{ "v=x", -EINVAL },
		{ "v=1 x=0-1:" A ":1", -EINVAL },              /* unknown key */
		{ "v=1 wr=0-1:" A ":1", -EINVAL },
		{ "v=1 w", -EINVAL },
		{ "v=1 w=0-1", -EINVAL },                      /* no owner, no exp */
		{ "v=1 w=0:" A ":1", -EINVAL },                /* no dash */
		{ "v=1 w=-1:" A ":1", -EINVAL },               /* no start */
		{ "v=1 w=5-4:" A ":1", -EINVAL },              /* end before start */
		{ "v=1 w=01-4:" A ":1", -EINVAL },             /* leading zero */
		{ "v=1 w=0-4:" A ":", -EINVAL },               /* no exp */
		{ "v=1 w=0-4:" A ":-1", -EINVAL },
		{ "v=1 w=0-9223372036854775808:" A ":1", -ERANGE },
		{ "v=1 w=0-4:" A ":99999999999999999999", -ERANGE },
		{ "v=1 w=0-4::1", -EINVAL },                   /* empty owner */
		{ "v=1 w=0-4:ABC:1", -EINVAL },                /* upper case */
		{ "v=1 w=0-4:a_b:1", -EINVAL },
		{ "v=1 w=0-4:" A "0123456789:1", -EINVAL },    /* owner over 40 bytes */
		{ "v=1 w=0-4:" A ":1 r=4-8:" A ":1", -EINVAL }, /* one owner overlapping */
		{ "v=1 w=0-:" A ":1 r=100-200:" A ":1", -EINVAL },
	};
	struct lockset s;
	struct err e = { 0 };

	lockset_init(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = lockset_parse(&s, bad[i].t, strlen(bad[i].t), &e);

		ck_assert_msg(rc == bad[i].rc, "\"%s\": %d, want %d (%s)", bad[i].t, rc,
			      bad[i].rc, e.msg);
		ck_assert_uint_eq(s.n, 0);
		ck_assert(e.msg[0] != '\0');
	}
	/* different owners may overlap in the text (readers of the same bytes) */
	ck_assert_int_eq(parse(&s, "v=1 r=0-9:" A ":1 r=5-20:" B ":1"), 0);
	ck_assert_uint_eq(s.n, 2);
	lockset_release(&s);
}
END_TEST

START_TEST(test_limits)
{
	static char big[LOCKSET_TEXT_MAX + 200], buf[32];
	struct lockset s;
	struct err e = { 0 };
	size_t o;

	lockset_init(&s);
	/* LOCKSET_MAX ranges parse, one more is E2BIG */
	o = (size_t)snprintf(big, sizeof(big), "v=1");
	for (int i = 0; i <= LOCKSET_MAX; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, " r=%d-%d:a:1", 2 * i, 2 * i);
	ck_assert_int_eq(lockset_parse(&s, big, o, &e), -E2BIG);
	*strrchr(big, ' ') = '\0';
	ck_assert_int_eq(lockset_parse(&s, big, strlen(big), &e), 0);
	ck_assert_uint_eq(s.n, LOCKSET_MAX);
	/* a text over LOCKSET_TEXT_MAX is E2BIG both ways */
	memset(big, ' ', sizeof(big));
	memcpy(big, "v=1", 3);
	ck_assert_int_eq(lockset_parse(&s, big, LOCKSET_TEXT_MAX + 1, &e), -E2BIG);
	for (int i = 0; i < LOCKSET_MAX; i++)
		set_ok(&s, A "0000000", F_WRLCK, 1000000000000ll + 2 * i, 1000000000000ll + 2 * i);
	ck_assert_int_eq(lockset_format(&s, big, sizeof(big), &e), -E2BIG);
	/* a small buffer is ENOSPC */
	lockset_release(&s);
	set_ok(&s, A, F_WRLCK, 0, 10);
	ck_assert_int_eq(lockset_format(&s, buf, sizeof(buf), &e), -ENOSPC);
	/* one range more than LOCKSET_MAX by locking is ENOLCK */
	lockset_release(&s);
	for (int i = 0; i < LOCKSET_MAX; i++)
		set_ok(&s, A, F_WRLCK, 2 * i, 2 * i);
	ck_assert_uint_eq(s.n, LOCKSET_MAX);
	ck_assert_int_eq(lockset_set(&s, A, F_WRLCK, 10000, 10000, 1, &e), -ENOLCK);
	lockset_release(&s);
}
END_TEST

START_TEST(test_conflict)
{
	struct lockset s;

	lockset_init(&s);
	set_ok(&s, A, F_WRLCK, 0, 99);
	set_ok(&s, A, F_RDLCK, 200, EOF_);
	/* another owner: a write range conflicts with anything overlapping */
	ck_assert_int_eq(lockset_conflict(&s, B, F_WRLCK, 50, 60), 0);
	ck_assert_int_eq(lockset_conflict(&s, B, F_RDLCK, 99, 99), 0);
	ck_assert_int_eq(lockset_conflict(&s, B, F_RDLCK, 0, EOF_), 0);
	/* touching is not overlapping */
	ck_assert_int_eq(lockset_conflict(&s, B, F_WRLCK, 100, 199), -1);
	/* read ranges are shared, not with a writer */
	ck_assert_int_eq(lockset_conflict(&s, B, F_RDLCK, 200, 300), -1);
	ck_assert_int_eq(lockset_conflict(&s, B, F_WRLCK, 1000000, EOF_), 1);
	ck_assert_int_eq(lockset_conflict(&s, B, F_WRLCK, EOF_, EOF_), 1);
	/* never with one's own ranges, even of another owner of the same mount */
	ck_assert_int_eq(lockset_conflict(&s, A, F_WRLCK, 0, EOF_), -1);
	ck_assert_int_eq(lockset_conflict(&s, A2, F_RDLCK, 0, 0), 0);
	lockset_release(&s);
}
END_TEST

START_TEST(test_split)
{
	struct lockset s;

	lockset_init(&s);
	set_ok(&s, A, F_WRLCK, 0, 99);
	/* unlock in the middle splits in two */
	set_ok(&s, A, F_UNLCK, 50, 60);
	ck_assert_str_eq(text(&s), "v=1 w=0-49:" A ":100 w=61-99:" A ":100");
	/* unlock across the edges trims both */
	set_ok(&s, A, F_UNLCK, 40, 70);
	ck_assert_str_eq(text(&s), "v=1 w=0-39:" A ":100 w=71-99:" A ":100");
	/* unlock of what is not held changes nothing */
	set_ok(&s, A, F_UNLCK, 500, EOF_);
	ck_assert_str_eq(text(&s), "v=1 w=0-39:" A ":100 w=71-99:" A ":100");
	/* another owner's unlock does not touch A */
	set_ok(&s, B, F_UNLCK, 0, EOF_);
	ck_assert_uint_eq(s.n, 2);
	/* unlock everything */
	set_ok(&s, A, F_UNLCK, 0, EOF_);
	ck_assert_uint_eq(s.n, 0);
	/* to-EOF ranges split and trim too */
	set_ok(&s, A, F_RDLCK, 100, EOF_);
	set_ok(&s, A, F_UNLCK, 200, EOF_);
	ck_assert_str_eq(text(&s), "v=1 r=100-199:" A ":100");
	set_ok(&s, A, F_RDLCK, 300, EOF_);
	set_ok(&s, A, F_UNLCK, 400, 499);
	ck_assert_str_eq(text(&s), "v=1 r=100-199:" A ":100 r=300-399:" A ":100 r=500-:" A ":100");
	lockset_release(&s);
}
END_TEST

START_TEST(test_merge_convert)
{
	struct lockset s;

	lockset_init(&s);
	/* adjacent and overlapping ranges of one type merge */
	set_ok(&s, A, F_RDLCK, 0, 9);
	set_ok(&s, A, F_RDLCK, 10, 19);
	ck_assert_str_eq(text(&s), "v=1 r=0-19:" A ":100");
	set_ok(&s, A, F_RDLCK, 30, 39);
	set_ok(&s, A, F_RDLCK, 15, 32);
	ck_assert_str_eq(text(&s), "v=1 r=0-39:" A ":100");
	set_ok(&s, A, F_RDLCK, 40, EOF_);
	ck_assert_str_eq(text(&s), "v=1 r=0-:" A ":100");
	/* a write lock in the middle: downgrade-style split into three */
	set_ok(&s, A, F_WRLCK, 50, 60);
	ck_assert_str_eq(text(&s), "v=1 r=0-49:" A ":100 w=50-60:" A ":100 r=61-:" A ":100");
	/* adjacent ranges of another type do not merge */
	set_ok(&s, A, F_WRLCK, 61, 70);
	ck_assert_str_eq(text(&s), "v=1 r=0-49:" A ":100 w=50-70:" A ":100 r=71-:" A ":100");
	/* back to read: the three merge into one */
	set_ok(&s, A, F_RDLCK, 50, 70);
	ck_assert_str_eq(text(&s), "v=1 r=0-:" A ":100");
	/* upgrade the whole file; the other owner's range stays apart */
	set_ok(&s, B, F_RDLCK, 5, 5);
	set_ok(&s, A, F_WRLCK, 0, EOF_);
	ck_assert_str_eq(text(&s), "v=1 w=0-:" A ":100 r=5-5:" B ":100");
	/* ranges of another owner never merge with A's */
	lockset_release(&s);
	set_ok(&s, A, F_WRLCK, 0, 9);
	set_ok(&s, A2, F_WRLCK, 10, 19);
	ck_assert_uint_eq(s.n, 2);
	/* the new range gets the new lease; merged pieces take it too */
	{
		struct err e = { 0 };

		ck_assert_int_eq(lockset_set(&s, A, F_WRLCK, 0, 5, 777, &e), 0);
		ck_assert_int_eq(s.v[0].exp, 777);
		ck_assert_int_eq(s.v[0].end, 9);
	}
	lockset_release(&s);
}
END_TEST

START_TEST(test_bad_args)
{
	struct lockset s;
	struct err e = { 0 };

	lockset_init(&s);
	ck_assert_int_eq(lockset_set(&s, A, 7, 0, 1, 1, &e), -EINVAL);
	ck_assert_int_eq(lockset_set(&s, A, F_WRLCK, -1, 1, 1, &e), -EINVAL);
	ck_assert_int_eq(lockset_set(&s, A, F_WRLCK, 5, 4, 1, &e), -EINVAL);
	ck_assert_int_eq(lockset_set(&s, A "0123456789", F_WRLCK, 0, 1, 1, &e), -EINVAL);
	ck_assert_uint_eq(s.n, 0);
	lockset_release(&s);
}
END_TEST

START_TEST(test_leases)
{
	struct lockset s;
	struct err e = { 0 };

	lockset_init(&s);
	ck_assert_int_eq(lockset_set(&s, A, F_WRLCK, 0, 9, 50, &e), 0);
	ck_assert_int_eq(lockset_set(&s, A2, F_WRLCK, 20, 29, 50, &e), 0);
	ck_assert_int_eq(lockset_set(&s, B, F_WRLCK, 10, 19, 50, &e), 0);
	ck_assert_int_eq(lockset_set(&s, B2, F_WRLCK, 40, 49, 200, &e), 0);
	/* owner_of: exact, or a client id standing for its owners */
	ck_assert(lockset_owner_of(A, A));
	ck_assert(lockset_owner_of(A, "00000000000000aa"));
	ck_assert(!lockset_owner_of(A, "00000000000000a"));
	ck_assert(!lockset_owner_of(A, A2));
	ck_assert(lockset_holds(&s, "00000000000000aa"));
	ck_assert(!lockset_holds(&s, "00000000000000cc"));
	/* nothing expired before its lease */
	ck_assert_uint_eq(lockset_expire(&s, 50, NULL), 0);
	/* past it: B's expired range goes, the kept client's stay */
	ck_assert_uint_eq(lockset_expire(&s, 51, "00000000000000aa"), 1);
	ck_assert_uint_eq(s.n, 3);
	ck_assert(!lockset_holds(&s, B));
	ck_assert(lockset_holds(&s, B2));
	ck_assert(lockset_holds(&s, "00000000000000bb"));
	/* renew: every range of the client */
	ck_assert_uint_eq(lockset_renew(&s, "00000000000000aa", 300), 2);
	ck_assert_int_eq(s.v[0].exp, 300);
	ck_assert_int_eq(s.v[1].exp, 300);
	ck_assert_uint_eq(lockset_expire(&s, 250, NULL), 1);
	/* drop: one owner, then a whole client */
	ck_assert_uint_eq(lockset_drop(&s, A2), 1);
	ck_assert_uint_eq(lockset_drop(&s, "00000000000000aa"), 1);
	ck_assert_uint_eq(s.n, 0);
	lockset_release(&s);
}
END_TEST

/* Random locks and unlocks of three owners against a model that keeps one
 * type per owner and byte (bytes 40..47 stand for "and on to the end"):
 * after every step the ranges must cover exactly the model, stay sorted,
 * never overlap within an owner, be merged when adjacent of one type, and
 * the conflict test must agree with the model. */
#define MB 48
START_TEST(test_model)
{
	static const char *own[3] = { A, A2, B };
	int model[3][MB];
	struct lockset s;
	unsigned seed = 12345;
	int applied = 0;

	lockset_init(&s);
	for (int o = 0; o < 3; o++)
		for (int b = 0; b < MB; b++)
			model[o][b] = F_UNLCK;
	for (int step = 0; step < 5000; step++) {
		int o = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3;
		int start = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
		int len = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
		int t = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3;
		int type = t == 0 ? F_RDLCK : t == 1 ? F_WRLCK : F_UNLCK;
		int64_t end = len == 0 || start + len > 40 ? LOCKSET_EOF : start + len - 1;
		int last = end == LOCKSET_EOF ? MB - 1 : (int)end, conflict = 0;
		struct err e = { 0 };

		for (int q = 0; q < 3 && type != F_UNLCK; q++)
			for (int b = start; q != o && b <= last; b++)
				if (model[q][b] != F_UNLCK && (type == F_WRLCK || model[q][b] == F_WRLCK))
					conflict = 1;
		if (type != F_UNLCK)
			ck_assert_int_eq(lockset_conflict(&s, own[o], type, start, end) >= 0,
					 conflict);
		if (conflict)
			continue;       /* the mount would answer EAGAIN */
		applied++;
		ck_assert_int_eq(lockset_set(&s, own[o], type, start, end, step, &e), 0);
		for (int b = start; b <= last; b++)
			model[o][b] = type;
		for (size_t i = 0; i < s.n; i++) {
			const struct lockset_range *r = &s.v[i];

			ck_assert(r->start <= r->end);
			if (i > 0)
				ck_assert(s.v[i - 1].start <= r->start);
			for (size_t j = i + 1; j < s.n; j++) {
				const struct lockset_range *x = &s.v[j];

				if (strcmp(r->owner, x->owner) != 0)
					continue;
				ck_assert_msg(x->start > r->end || r->start > x->end,
					      "step %d: one owner's ranges overlap", step);
				if (r->type == x->type)
					ck_assert_msg(r->end == LOCKSET_EOF || r->end + 1 != x->start,
						      "step %d: adjacent ranges not merged", step);
			}
		}
		for (int q = 0; q < 3; q++)
			for (int b = 0; b < MB; b++) {
				int got = F_UNLCK;

				for (size_t i = 0; i < s.n; i++)
					if (strcmp(s.v[i].owner, own[q]) == 0 && s.v[i].start <= b &&
					    b <= s.v[i].end)
						got = s.v[i].type;
				ck_assert_msg(got == model[q][b], "step %d: owner %d byte %d: %d, want %d",
					      step, q, b, got, model[q][b]);
			}
		/* and the text form round-trips */
		{
			static char tx[LOCKSET_TEXT_MAX + 1];
			struct lockset c;

			snprintf(tx, sizeof(tx), "%s", text(&s));
			lockset_init(&c);
			ck_assert_int_eq(parse(&c, tx), 0);
			ck_assert_str_eq(text(&c), tx);
			lockset_release(&c);
		}
	}
	ck_assert_int_gt(applied, 2000);        /* most steps were not conflicts */
	lockset_release(&s);
}
END_TEST

static Suite *lockset_suite(void)
{
	Suite *s = suite_create("lockset");
	TCase *tc = tcase_create("text");

	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("ranges");
	tcase_add_test(tc, test_conflict);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_merge_convert);
	tcase_add_test(tc, test_bad_args);
	tcase_add_test(tc, test_leases);
	tcase_add_test(tc, test_model);
	suite_add_tcase(s, tc);
	return s;
}

CHECK_MAIN(lockset_suite)
