/* promtext: the reading side of lib/metrics — parse a Prometheus text
 * exposition (format 0.0.4) into samples, and turn two scrapes of it into
 * rates and histogram quantiles (from the bucket deltas, as Prometheus's
 * histogram_quantile over rate() does). Pure code: no I/O, for dnsfsctl top. */
#ifndef DNSFS_PROMTEXT_H
#define DNSFS_PROMTEXT_H

#include <stddef.h>

#include "err.h"

#define PROMTEXT_MAX_LABELS 16          /* label pairs of one sample */
#define PROMTEXT_MAX_BUCKETS 65         /* histogram buckets, +Inf included */

/* One sample line: name{labels} value. Strings point into the sample's own
 * allocation (freed by promtext_release). */
struct promtext_sample {
	const char *name;
	size_t nlabels;
	const char *key[PROMTEXT_MAX_LABELS];
	const char *val[PROMTEXT_MAX_LABELS];   /* unescaped */
	double value;
};

/* Every sample of one scrape, in the order of the text. Zero-initialize. */
struct promtext {
	struct promtext_sample **v;     /* n owned samples */
	size_t n;
	size_t cap;
};

/* Add the samples of text[0..len) to p. Comments and blank lines are
 * skipped, timestamps ignored. -EINVAL with "line N: why" for a line that is
 * not a sample (p keeps the samples before it), -ENOMEM. */
int promtext_parse(struct promtext *p, const char *text, size_t len, struct err *e);
/* Free every sample; p is empty (zeroed) afterwards. */
void promtext_release(struct promtext *p);

/* The value of label key of s, or NULL. */
const char *promtext_label(const struct promtext_sample *s, const char *key);

/* Does s carry every pair of match? match is "k=v,k2=v2" (values without
 * quotes or commas), or NULL / "" for any. */
int promtext_matches(const struct promtext_sample *s, const char *match);

/* Sum of the samples called name that match; *found (if not NULL) is the
 * number of them, so that a missing metric can be told from a zero. */
double promtext_sum(const struct promtext *p, const char *name, const char *match,
		    size_t *found);

/* A histogram summed over its matching series: n buckets by increasing
 * upper bound (the last is +Inf), cumulative counts, and _sum/_count. */
struct promtext_hist {
	size_t n;
	double le[PROMTEXT_MAX_BUCKETS];
	double cum[PROMTEXT_MAX_BUCKETS];
	double sum;
	double count;
};

/* Gather histogram name (its _bucket, _sum and _count samples) over the
 * series that match. 0, or -ENOENT if no bucket of it matches, -E2BIG for
 * more than PROMTEXT_MAX_BUCKETS distinct bounds. */
int promtext_hist(const struct promtext *p, const char *name, const char *match,
		  struct promtext_hist *h);

/* out = now - then, bucket by bucket (both must have the same bounds, else
 * -EINVAL). A count that went down means the daemon restarted: out = now. */
int promtext_hist_delta(const struct promtext_hist *now, const struct promtext_hist *then,
			struct promtext_hist *out);

/* The q-quantile (0..1) of h, interpolating linearly inside the bucket
 * that holds it (the lower edge of the first bucket is 0); a quantile that
 * falls in +Inf is the largest finite bound. NaN when h counts nothing. */
double promtext_quantile(const struct promtext_hist *h, double q);

/* Per-second rate of a counter from then to now over seconds; a counter
 * that went down (a restart) counts from 0. 0 when seconds <= 0. */
double promtext_rate(double now, double then, double seconds);

#endif
