/* httpd_demo: serves a metrics registry over lib/httpd for
 * tests/integration/httpd.sh, as a daemon would: process and host figures,
 * a labeled counter with awkward label values, a histogram, a callback gauge.
 * Prints "listening PORT" once bound; exits 0 on SIGTERM or SIGINT. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "httpd.h"
#include "log.h"
#include "metrics.h"

struct demo {
	struct metrics_counter *hello;          /* requests to /hello */
	double scrapes;                         /* renders of /metrics */
};

static double count_scrape(void *arg)
{
	struct demo *d = arg;

	return ++d->scrapes;
}

static void hello_handler(struct httpd_req *r, void *arg)
{
	struct demo *d = arg;

	metrics_counter_inc(d->hello);
	httpd_reply(r, 200, "text/plain; charset=utf-8", "hello\n", 6);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static int setup(struct metrics *m, struct demo *d, struct err *e)
{
	struct metrics_family *q, *lat;
	struct metrics_histogram *h;

	if (metrics_add_process_and_host(m, e) < 0)
		return e->code;
	q = metrics_counter_family(m, "dnsfs_demo_queries_total", "Queries by type and rcode.",
				   METRICS_LABELS("type", "rcode"), e);
	lat = metrics_histogram_family(m, "dnsfs_demo_latency_seconds",
				       "Latency of\nsomething \\ in seconds.", METRICS_LABELS("op"),
				       metrics_latency_buckets, METRICS_LATENCY_NBUCKETS, e);
	d->hello = metrics_counter_new(m, "dnsfs_demo_hello_total", "Requests to /hello.", e);
	if (q == NULL || lat == NULL || d->hello == NULL)
		return e->code;
	metrics_counter_add(metrics_counter_get(q, "TXT", "NOERROR"), 41);
	metrics_counter_inc(metrics_counter_get(q, "TXT", "NOERROR"));
	metrics_counter_inc(metrics_counter_get(q, "weird \"quoted\"\\", "line\nbreak"));
	h = metrics_histogram_get(lat, "read");
	for (double v = 20e-6; v < 20; v *= 1.7)
		metrics_histogram_observe(h, v);
	metrics_histogram_get(lat, "write");
	return metrics_gauge_fn(m, "dnsfs_demo_scrapes", "Renders of /metrics so far.",
				count_scrape, d, e);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1:0";
	struct event_base *base = NULL;
	struct event *sigterm = NULL, *sigint = NULL;
	struct metrics *m = NULL;
	struct httpd *h = NULL;
	struct demo d = { 0 };
	struct err e = { 0 };
	int opt, rc = 1;

	while ((opt = getopt(argc, argv, "l:")) != -1) {
		if (opt != 'l') {
			fprintf(stderr, "usage: %s [-l ADDR:PORT]\n", argv[0]);
			return 2;
		}
		addr = optarg;
	}
	log_init("httpd_demo", LOG_LEVEL_DEBUG, 0);
	base = event_base_new();
	m = metrics_new();
	if (base == NULL || m == NULL || setup(m, &d, &e) < 0)
		goto fail;
	h = httpd_new(base, addr, &e);
	if (h == NULL || httpd_route_metrics(h, "/metrics", m, &e) < 0 ||
	    httpd_route(h, "/hello", HTTPD_GET | HTTPD_HEAD, hello_handler, &d, &e) < 0)
		goto fail;
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	if (sigterm == NULL || sigint == NULL || evsignal_add(sigterm, NULL) < 0 ||
	    evsignal_add(sigint, NULL) < 0) {
		err_set(&e, -EINVAL, "cannot catch signals");
		goto fail;
	}
	printf("listening %d\n", httpd_port(h));
	fflush(stdout);
	event_base_dispatch(base);
	printf("stopped\n");
	rc = 0;
fail:
	if (rc != 0)
		fprintf(stderr, "httpd_demo: %s\n", e.msg[0] ? e.msg : "out of memory");
	if (sigterm != NULL)
		event_free(sigterm);
	if (sigint != NULL)
		event_free(sigint);
	httpd_free(h);
	metrics_free(m);
	if (base != NULL)
		event_base_free(base);
	return rc;
}
