/* scrub: a token bucket refilled at `rate` bytes/s, spent in steps of
 * blockstore_scrub_step on a short timer, so that requests keep being
 * served between steps (see scrub.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "metrics.h"
#include "proc.h"
#include "scrub.h"

#define SCRUB_TICK_MS 50                        /* between steps */
#define SCRUB_UNLIMITED_STEP (16u << 20)        /* bytes per step without a rate */
#define SCRUB_BURST_MS 200                      /* the bucket holds this much rate */

struct scrub {
	struct event_base *base;
	struct blockstore *store;
	uint64_t rate;                  /* bytes/s; 0: unlimited */
	uint64_t interval_ms;
	struct event *tick;             /* the next step of a running pass */
	struct event *period;           /* the next periodic start */
	double tokens;                  /* bytes that may be read now */
	int64_t last_ms;                /* when tokens were last refilled */
	struct scrub_status st;
	struct metrics_counter *m_bytes, *m_blocks, *m_corrupt, *m_passes, *m_errors;
	struct metrics_gauge *m_running, *m_last_end;
};

static void scrub_schedule(struct scrub *s, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(s->tick, &tv);
}

static void scrub_finish(struct scrub *s)
{
	const struct blockstore_scrub *p = &s->st.pass;

	s->st.running = 0;
	s->st.passes++;
	s->st.last_end = (int64_t)time(NULL);
	metrics_counter_inc(s->m_passes);
	metrics_gauge_set(s->m_running, 0);
	metrics_gauge_set(s->m_last_end, (double)s->st.last_end);
	if (p->corrupt > 0 || p->errors > 0)
		log_warn("scrub: pass done: %llu blocks, %llu bytes, %llu quarantined, %llu "
			 "unreadable", (unsigned long long)p->blocks, (unsigned long long)p->bytes,
			 (unsigned long long)p->corrupt, (unsigned long long)p->errors);
	else
		log_notice("scrub: pass done: %llu blocks, %llu bytes, all good",
			   (unsigned long long)p->blocks, (unsigned long long)p->bytes);
}

static void scrub_tick(evutil_socket_t fd, short what, void *arg)
{
	struct scrub *s = arg;
	struct blockstore_scrub *p = &s->st.pass;
	uint64_t blocks0 = p->blocks, corrupt0 = p->corrupt, errors0 = p->errors;
	int64_t now = proc_now_ms(), got;
	uint64_t budget;
	struct err e = {0};

	(void)fd;
	(void)what;
	if (!s->st.running)
		return;
	if (s->rate > 0) {
		double cap = (double)s->rate * SCRUB_BURST_MS / 1000.0;

		s->tokens += (double)s->rate * (double)(now - s->last_ms) / 1000.0;
		if (s->tokens > cap)
			s->tokens = cap;
		s->last_ms = now;
		if (s->tokens <= 0) {
			scrub_schedule(s, SCRUB_TICK_MS);
			return;
		}
		budget = (uint64_t)s->tokens;
	} else {
		budget = SCRUB_UNLIMITED_STEP;
	}
	got = blockstore_scrub_step(s->store, p, budget, &e);
	if (got < 0) {
		log_err("scrub: %s; pass abandoned", e.msg);
		metrics_counter_inc(s->m_errors);
		s->st.running = 0;
		metrics_gauge_set(s->m_running, 0);
		return;
	}
	/* A block larger than the budget drives tokens negative: a debt paid
	 * by waiting. */
	s->tokens -= (double)got;
	metrics_counter_add(s->m_bytes, (double)got);
	metrics_counter_add(s->m_blocks, (double)(p->blocks - blocks0));
	metrics_counter_add(s->m_corrupt, (double)(p->corrupt - corrupt0));
	metrics_counter_add(s->m_errors, (double)(p->errors - errors0));
	s->st.corrupt_total += p->corrupt - corrupt0;
	if (p->done)
		scrub_finish(s);
	else
		scrub_schedule(s, s->rate > 0 ? SCRUB_TICK_MS : 0);
}

int scrub_start(struct scrub *s)
{
	if (s->st.running)
		return 0;
	blockstore_scrub_begin(&s->st.pass);
	s->st.running = 1;
	s->st.last_start = (int64_t)time(NULL);
	s->tokens = 0;
	s->last_ms = proc_now_ms();
	metrics_gauge_set(s->m_running, 1);
	log_notice("scrub: pass started (rate %s%llu bytes/s)", s->rate ? "" : "unlimited, ",
		   (unsigned long long)s->rate);
	scrub_schedule(s, 0);
	return 1;
}

static void scrub_periodic(evutil_socket_t fd, short what, void *arg)
{
	struct scrub *s = arg;

	(void)fd;
	(void)what;
	if (!scrub_start(s))
		log_info("scrub: the periodic pass is due but one is running");
}

void scrub_set_rate(struct scrub *s, uint64_t rate)
{
	s->rate = rate;
}

const struct scrub_status *scrub_status(const struct scrub *s)
{
	return &s->st;
}

struct scrub *scrub_new(const struct scrub_options *o, struct err *e)
{
	struct scrub *s = calloc(1, sizeof(*s));
	struct metrics *m = o->metrics;

	if (s == NULL) {
		err_set(e, -ENOMEM, "out of memory");
		return NULL;
	}
	s->base = o->base;
	s->store = o->store;
	s->rate = o->rate;
	s->interval_ms = o->interval_ms;
	if ((s->m_bytes = metrics_counter_new(m, "dnsfs_blockd_scrub_read_bytes_total",
					      "Bytes read and rehashed by scrub.", e)) == NULL ||
	    (s->m_blocks = metrics_counter_new(m, "dnsfs_blockd_scrub_blocks_total",
					       "Blocks checked by scrub.", e)) == NULL ||
	    (s->m_corrupt = metrics_counter_new(m, "dnsfs_blockd_scrub_corrupt_total",
						"Blocks scrub found not matching their hash "
						"(moved to quarantine).", e)) == NULL ||
	    (s->m_errors = metrics_counter_new(m, "dnsfs_blockd_scrub_errors_total",
					       "Blocks scrub could not read, and failed "
					       "passes.", e)) == NULL ||
	    (s->m_passes = metrics_counter_new(m, "dnsfs_blockd_scrub_passes_total",
					       "Scrub passes completed.", e)) == NULL ||
	    (s->m_running = metrics_gauge_new(m, "dnsfs_blockd_scrub_running",
					      "1 while a scrub pass runs.", e)) == NULL ||
	    (s->m_last_end = metrics_gauge_new(m, "dnsfs_blockd_scrub_last_completed_"
					       "timestamp_seconds",
					       "When the last scrub pass completed (unix time; "
					       "0: none yet).", e)) == NULL)
		goto fail;
	s->tick = event_new(s->base, -1, 0, scrub_tick, s);
	s->period = event_new(s->base, -1, EV_PERSIST, scrub_periodic, s);
	if (s->tick == NULL || s->period == NULL) {
		err_set(e, -ENOMEM, "scrub: cannot create timers");
		goto fail;
	}
	if (s->interval_ms > 0) {
		struct timeval tv = { (time_t)(s->interval_ms / 1000),
				      (suseconds_t)(s->interval_ms % 1000) * 1000 };

		if (event_add(s->period, &tv) < 0) {
			err_set(e, -ENOMEM, "scrub: cannot arm the timer");
			goto fail;
		}
	}
	return s;
fail:
	scrub_free(s);
	return NULL;
}

void scrub_free(struct scrub *s)
{
	if (s == NULL)
		return;
	if (s->tick != NULL)
		event_free(s->tick);
	if (s->period != NULL)
		event_free(s->period);
	free(s);
}
