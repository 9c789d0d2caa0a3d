/* log: the process-wide logger (see log.h). Each line is formatted on the
 * stack and leaves in one write(2) or one syslog(3) call; the only shared
 * state is the configuration, whose level is atomic. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static char log_ident[LOG_IDENT_MAX] = "dnsfs"; /* openlog keeps a pointer */
static atomic_int log_level = LOG_LEVEL_INFO;
static int log_syslog;                          /* 1 after openlog */

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static const int level_priority[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_NOTICE] = LOG_NOTICE,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

static int level_valid(int level)
{
	return level >= LOG_LEVEL_ERROR && level <= LOG_LEVEL_DEBUG;
}

/* -------------------------------------------------------- configuration -- */

int log_init(const char *ident, int level, int to_syslog)
{
	if (!level_valid(level))
		return -EINVAL;
	if (log_syslog) {
		closelog();
		log_syslog = 0;
	}
	snprintf(log_ident, sizeof(log_ident), "%s", ident ? ident : "dnsfs");
	atomic_store(&log_level, level);
	if (to_syslog) {
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_syslog = 1;
	}
	return 0;
}

void log_set_level(int level)
{
	if (level_valid(level))
		atomic_store(&log_level, level);
}

int log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

int log_enabled(int level)
{
	return level <= log_get_level();
}

void log_close(void)
{
	log_init("dnsfs", LOG_LEVEL_INFO, 0);
}

int log_level_parse(const char *name)
{
	for (int i = LOG_LEVEL_ERROR; i <= LOG_LEVEL_DEBUG; i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return i;
	if (strcasecmp(name, "err") == 0)
		return LOG_LEVEL_ERROR;
	if (strcasecmp(name, "warning") == 0)
		return LOG_LEVEL_WARN;
	return -EINVAL;
}

const char *log_level_name(int level)
{
	return level_valid(level) ? level_names[level] : "?";
}

/* -------------------------------------------------------------- writing -- */

/* Copy src to dst (capacity cap, >= 4) with control characters escaped;
 * cut with "..." when it does not fit. Returns the length written. */
static size_t escape(char *dst, size_t cap, const char *src, int cut)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (const unsigned char *s = (const unsigned char *)src; *s; s++) {
		char esc[4];
		size_t len = 1;

		esc[0] = (char)*s;
		if (*s < 0x20 || *s == 0x7f) {
			esc[0] = '\\';
			len = 2;
			if (*s == '\n')
				esc[1] = 'n';
			else if (*s == '\t')
				esc[1] = 't';
			else if (*s == '\r')
				esc[1] = 'r';
			else {
				esc[1] = 'x';
				esc[2] = hex[*s >> 4];
				esc[3] = hex[*s & 0xf];
				len = 4;
			}
		}
		if (n + len > cap - 4) {
			cut = 1;
			break;
		}
		memcpy(dst + n, esc, len);
		n += len;
	}
	if (cut) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
	return n;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;         /* nowhere left to report it */
		p += w;
		len -= (size_t)w;
	}
}

void log_vmsg(int level, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], text[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];
	int saved = errno, n, cut;
	size_t len;

	if (!level_valid(level) || !log_enabled(level))
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		snprintf(msg, sizeof(msg), "(bad log format \"%s\")", fmt);
	cut = n >= (int)sizeof(msg);
	len = strlen(msg);
	if (!cut && len > 0 && msg[len - 1] == '\n')
		msg[len - 1] = '\0';
	escape(text, sizeof(text), msg, cut);

	if (log_syslog) {
		syslog(level_priority[level], "%s", text);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line),
			     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%ld] %s: %s\n",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
			     log_ident, (long)getpid(), level_names[level], text);
		if (n > 0)
			write_all(STDERR_FILENO, line,
				  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	}
	errno = saved;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------- rate limits -- */

int log_limit_pass_at(struct log_limit *l, int level, int64_t now_s)
{
	unsigned burst = l->burst > 0 ? l->burst : LOG_LIMIT_DEFAULT;

	if (!level_valid(level) || !log_enabled(level))
		return 0;
	if (now_s != l->second) {
		l->second = now_s;
		l->used = 0;
	}
	if (l->used >= burst) {
		l->suppressed++;
		return 0;
	}
	l->used++;
	if (l->suppressed > 0) {
		log_msg(level, "(%llu similar messages suppressed: more than %u a second)",
			(unsigned long long)l->suppressed, burst);
		l->suppressed = 0;
	}
	return 1;
}

int log_limit_pass(struct log_limit *l, int level)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return log_limit_pass_at(l, level, (int64_t)ts.tv_sec);
}
