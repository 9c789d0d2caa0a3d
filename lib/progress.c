/* progress: formatting and pacing of progress lines; the clock is the
 * monotonic one, so a changed wall clock cannot make the ETA jump. */
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define TTY_EVERY_MS 200
#define LINE_EVERY_MS 5000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void progress_init(struct progress *p, FILE *out, const char *what, const char *unit,
		   uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->out = out != NULL ? out : stderr;
	p->what = what;
	p->unit = unit;
	p->total = total;
	p->tty = isatty(fileno(p->out));
	p->start_ms = p->last_ms = now_ms();
}

void progress_set_total(struct progress *p, uint64_t total)
{
	p->total = total;
}

static int is_bytes(const struct progress *p)
{
	return p->unit != NULL && strcmp(p->unit, "bytes") == 0;
}

/* n in the unit: bytes as MiB with one decimal, else a count. */
static void amount(const struct progress *p, double n, char *buf, size_t len)
{
	if (is_bytes(p))
		snprintf(buf, len, "%.1f", n / 1048576.0);
	else
		snprintf(buf, len, "%.0f", n);
}

void progress_format(const struct progress *p, int64_t now, char *buf, size_t len)
{
	double secs = (double)(now - p->start_ms) / 1000.0;
	double rate = secs > 0 ? (double)p->done / secs : 0;
	const char *unit = is_bytes(p) ? "MiB" : p->unit;
	char d[32], t[32], r[32];
	size_t n;

	amount(p, (double)p->done, d, sizeof(d));
	amount(p, (double)p->total, t, sizeof(t));
	amount(p, rate, r, sizeof(r));
	if (!is_bytes(p) && rate < 10)
		snprintf(r, sizeof(r), "%.1f", rate);
	if (p->total > 0)
		n = (size_t)snprintf(buf, len, "%s: %s/%s %s (%.0f%%), %s %s/s", p->what, d, t, unit,
				     100.0 * (double)p->done / (double)p->total, r, unit);
	else
		n = (size_t)snprintf(buf, len, "%s: %s %s, %s %s/s", p->what, d, unit, r, unit);
	if (n < len && p->total > p->done && rate > 0)
		snprintf(buf + n, len - n, ", ETA %.0f s", (double)(p->total - p->done) / rate);
	else if (n < len && p->total > 0 && p->done >= p->total)
		snprintf(buf + n, len - n, ", %.1f s", secs);
}

static void report(struct progress *p, int64_t now)
{
	char line[256];

	progress_format(p, now, line, sizeof(line));
	if (p->tty) {
		fprintf(p->out, "\r%s\033[K", line);
		p->drawn = 1;
	} else {
		fprintf(p->out, "%s\n", line);
	}
	fflush(p->out);
	p->last_ms = now;
}

void progress_add(struct progress *p, uint64_t n)
{
	int64_t now = now_ms();

	p->done += n;
	if (now - p->last_ms >= (p->tty ? TTY_EVERY_MS : LINE_EVERY_MS))
		report(p, now);
}

void progress_end(struct progress *p)
{
	report(p, now_ms());
	if (p->tty && p->drawn)
		fputc('\n', p->out);
	fflush(p->out);
}
