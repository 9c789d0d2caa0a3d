/* metrics: a registry of counters, gauges and histograms that every daemon
 * exports in the Prometheus text format 0.0.4 (served by lib/httpd). Labeled
 * children are made on first use; updating one through a kept pointer is a
 * plain add, with no lookup and no allocation. */
#ifndef DNSFS_METRICS_H
#define DNSFS_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * Use:
 *
 *   struct metrics *m = metrics_new();
 *   struct metrics_family *q = metrics_counter_family(m,
 *           "dnsfs_mds_queries_total", "DNS queries answered.",
 *           METRICS_LABELS("type", "rcode"), &e);
 *   struct metrics_counter *txt_ok = metrics_counter_get(q, "TXT", "NOERROR");
 *   ...
 *   metrics_counter_inc(txt_ok);               (hot path: one add)
 *
 * Threads: none of this is thread-safe. A registry belongs to one thread, the
 * daemon's event loop, which both updates the metrics and renders them for
 * /metrics. A multi-threaded program gives each thread its own children or
 * registry, or serializes all calls itself.
 *
 * Memory: out of memory is never fatal and never returns NULL from a _get:
 * a child that cannot be made (no memory, or more than METRICS_MAX_CHILDREN
 * in its family) is the family's "sink", which counts like any other child but
 * is not rendered; a warning is logged once per family.
 *
 * Order of the output: families in the order they were registered, children
 * of a family sorted by their label values (byte order, first label first),
 * so two scrapes of the same state are byte-identical.
 */

#define METRICS_MAX_LABELS 8            /* label names per family */
#define METRICS_MAX_BUCKETS 64          /* histogram upper bounds, without +Inf */
#define METRICS_MAX_CHILDREN 10000      /* label value sets per family */
#define METRICS_NAME_MAX 200            /* bytes in a metric or label name */

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

/* A counter's or gauge's value. The field is public so that the updates
 * below inline to one instruction; read it freely, write it only through
 * them. Counters go up only (Prometheus treats a decrease as a restart). */
struct metrics_counter {
	double value;
};

struct metrics_gauge {
	double value;
};

struct metrics;                 /* the registry */
struct metrics_family;          /* one metric name: type, help, label names */
struct metrics_histogram;       /* one child of a histogram family */

/* A growable text buffer that metrics_render appends to. Zero-initialize
 * it ({0}); data is malloc'd and NUL-terminated once anything was appended. */
struct metrics_buf {
	char *data;     /* owned; hand it on and reset the struct, or release */
	size_t len;     /* bytes used, without the NUL */
	size_t cap;     /* bytes allocated */
};

void metrics_buf_release(struct metrics_buf *b);   /* free and zero */

/* ------------------------------------------------------------ registry --- */

/* An empty registry, or NULL on out of memory. */
struct metrics *metrics_new(void);
/* Free the registry, its families and children (every pointer handed out
 * becomes invalid), and the collectors' args via their free_arg. NULL is ok. */
void metrics_free(struct metrics *m);

/* Label name lists are NULL-terminated arrays; METRICS_LABELS("a", "b")
 * writes one in place. NULL (or METRICS_LABELS() with no names) means none. */
#define METRICS_LABELS(...) ((const char *const[]){ __VA_ARGS__ __VA_OPT__(,) NULL })

/* Register a family. name matches [a-zA-Z_:][a-zA-Z0-9_:]*; help is any text
 * (copied; escaped when rendered); label names match [a-zA-Z_][a-zA-Z0-9_]*,
 * do not start with "__", are distinct, and a histogram may not use "le".
 * Errors (NULL returned, reason in e): -EINVAL for a bad name or label,
 * -EEXIST if a family already renders a sample of the same name (a histogram
 * "x" renders x_bucket, x_sum and x_count), -ENOMEM. */
struct metrics_family *metrics_counter_family(struct metrics *m, const char *name,
					      const char *help,
					      const char *const *labels, struct err *e);
struct metrics_family *metrics_gauge_family(struct metrics *m, const char *name,
					    const char *help,
					    const char *const *labels, struct err *e);
/* bounds: nbounds finite upper bounds, strictly increasing, copied; the +Inf
 * bucket is implicit. 1 <= nbounds <= METRICS_MAX_BUCKETS. */
struct metrics_family *metrics_histogram_family(struct metrics *m, const char *name,
						const char *help,
						const char *const *labels,
						const double *bounds, size_t nbounds,
						struct err *e);

/* The same for a metric without labels, returning its only child. */
struct metrics_counter *metrics_counter_new(struct metrics *m, const char *name,
					    const char *help, struct err *e);
struct metrics_gauge *metrics_gauge_new(struct metrics *m, const char *name,
					const char *help, struct err *e);
struct metrics_histogram *metrics_histogram_new(struct metrics *m, const char *name,
						const char *help, const double *bounds,
						size_t nbounds, struct err *e);

/* A gauge without labels whose value is fn(arg), called at each render
 * (zone record counts, free disk). arg is not owned. */
int metrics_gauge_fn(struct metrics *m, const char *name, const char *help,
		     double (*fn)(void *arg), void *arg, struct err *e);

/* ------------------------------------------------------------ children --- */

/* The child of f with these label values (as many as f has label names; the
 * strings are copied), made on first use, never NULL (see "Memory"). Keep the
 * pointer: it stays valid until metrics_family_clear(f) or metrics_free.
 * A lookup is a hash of the values; asking a family of one type for a child
 * of another, or passing the wrong number of values, is a bug (assert). */
struct metrics_counter *metrics_counter_getv(struct metrics_family *f,
					     const char *const *values, size_t n);
struct metrics_gauge *metrics_gauge_getv(struct metrics_family *f,
					 const char *const *values, size_t n);
struct metrics_histogram *metrics_histogram_getv(struct metrics_family *f,
						 const char *const *values, size_t n);

/* The variadic forms count their arguments at compile time:
 * metrics_counter_get(f, "TXT", "NOERROR"), metrics_gauge_get(f). */
#define METRICS_VALUES_(...) ((const char *const[]){ __VA_ARGS__ __VA_OPT__(,) NULL }), \
	(sizeof((const char *const[]){ __VA_ARGS__ __VA_OPT__(,) NULL }) / sizeof(const char *) - 1)
#define metrics_counter_get(f, ...) metrics_counter_getv((f), METRICS_VALUES_(__VA_ARGS__))
#define metrics_gauge_get(f, ...) metrics_gauge_getv((f), METRICS_VALUES_(__VA_ARGS__))
#define metrics_histogram_get(f, ...) metrics_histogram_getv((f), METRICS_VALUES_(__VA_ARGS__))

/* The hot path. n must not be negative. */
static inline void metrics_counter_add(struct metrics_counter *c, double n)
{
	c->value += n;
}

static inline void metrics_counter_inc(struct metrics_counter *c)
{
	c->value += 1;
}

/* Only for collectors that mirror a counter kept elsewhere (the kernel's). */
static inline void metrics_counter_set(struct metrics_counter *c, double v)
{
	c->value = v;
}

static inline void metrics_gauge_set(struct metrics_gauge *g, double v)
{
	g->value = v;
}

static inline void metrics_gauge_add(struct metrics_gauge *g, double n)
{
	g->value += n;
}

/* Count v in the first bucket whose upper bound is >= v (Prometheus "le"),
 * or in +Inf; add it to the sum. A few compares, no allocation. */
void metrics_histogram_observe(struct metrics_histogram *h, double v);

/* Drop every child of f (not its sink): for collectors whose label values
 * come and go, such as network interfaces. Pointers to them become invalid. */
void metrics_family_clear(struct metrics_family *f);

/* Unregister f and free it with its children (every pointer to them becomes
 * invalid; a collector that fills f must not run again). NULL is ok. */
void metrics_family_remove(struct metrics *m, struct metrics_family *f);

/* ---------------------------------------------------------- collectors --- */

/* fn(arg) runs at the start of every metrics_render, in registration order,
 * to bring families it owns up to date. A negative return is logged (debug)
 * and rendering goes on; a collector that cannot read its source should
 * metrics_family_clear its families so that no stale value is exported.
 * free_arg(arg), if not NULL, runs in metrics_free. */
int metrics_collector_add(struct metrics *m, int (*fn)(void *arg), void *arg,
			  void (*free_arg)(void *arg), struct err *e);

/* Process and host figures read from /proc at each render, under the names
 * of the Prometheus client libraries and node_exporter:
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *   process_start_time_seconds,
 *   node_cpu_seconds_total{mode}        (all CPUs together),
 *   node_load1, node_memory_MemTotal_bytes, node_memory_MemAvailable_bytes,
 *   node_disk_{read,written}_bytes_total{device},
 *   node_disk_{reads,writes}_completed_total{device},
 *   node_disk_io_time_seconds_total{device}
 *                                       (whole disks, not partitions; no
 *                                        loop, ram or zram devices),
 *   node_network_{receive,transmit}_{bytes,packets,errs,drop}_total{device}
 *                                       (every interface, lo included).
 * A source that cannot be read leaves its families out of that scrape.
 * Linux only; elsewhere these families are always empty. */
int metrics_add_process_and_host(struct metrics *m, struct err *e);
/* The same, reading proc_root instead of "/proc" (for tests). */
int metrics_add_process_and_host_at(struct metrics *m, const char *proc_root,
				    struct err *e);

/* ------------------------------------------------------------- output --- */

/* Append the text exposition (format 0.0.4) of every family that has at
 * least one child to out, after running the collectors. 0, or -ENOMEM with
 * out as it was. Numbers are printed in the C locale's format (the daemons
 * never call setlocale). */
int metrics_render(struct metrics *m, struct metrics_buf *out);

/* The Content-Type of that output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* ------------------------------------------------------------- buckets --- */

/* Fill out[0..count) with start * factor^i (start > 0, factor > 1) or with
 * start + width * i (width > 0). 0, or -EINVAL for bad arguments or a count
 * outside 1..METRICS_MAX_BUCKETS. */
int metrics_buckets_exponential(double *out, double start, double factor, size_t count);
int metrics_buckets_linear(double *out, double start, double width, size_t count);

/* Latency in seconds, 50 us to 10 s in 1-2.5-5 steps (17 bounds). */
#define METRICS_LATENCY_NBUCKETS 17
extern const double metrics_latency_buckets[METRICS_LATENCY_NBUCKETS];

#endif
