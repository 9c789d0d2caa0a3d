/* log: leveled logging shared by every daemon and tool, to stderr with a UTC
 * timestamp or to syslog. One process-wide logger; usable before log_init
 * (stderr, level info, ident "dnsfs") and from any thread. */
#ifndef DNSFS_LOG_H
#define DNSFS_LOG_H

#include <stdarg.h>
#include <stdint.h>

/* Levels, most severe first; a message is written if its level <= the
 * logger's. Not LOG_ERR etc.: <syslog.h> owns those names. */
enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

#define LOG_IDENT_MAX 64        /* longer idents are cut */
#define LOG_LINE_MAX 4096       /* longer messages are cut, ending in "..." */

/* (Re)configure: ident names the program in each line ("dnsfs-mds"; copied;
 * NULL: "dnsfs"), level is an enum log_level, to_syslog != 0 sends lines to
 * syslog(3) with facility daemon instead of stderr. Call it from main before
 * starting threads; -EINVAL for a level out of range (nothing changes). */
int log_init(const char *ident, int level, int to_syslog);
/* Change only the level (e.g. on SIGHUP); safe while other threads log. */
void log_set_level(int level);
int log_get_level(void);
/* Would a message of this level be written? Guards costly arguments. */
int log_enabled(int level);
/* Close syslog if open and return to the defaults. */
void log_close(void);

/* "error", "warn", "notice", "info", "debug" (also "err", "warning"; any
 * case) -> level, or -EINVAL. */
int log_level_parse(const char *name);
/* The name of a level as printed in stderr lines, "?" if out of range. */
const char *log_level_name(int level);

/* Write one line at level. On stderr it reads
 *   2026-11-23T16:40:01.123Z dnsfs-mds[1234] warn: message
 * The line is written with one write(2), so lines of concurrent threads do
 * not interleave. A trailing newline in fmt is dropped; other control
 * characters in the message are escaped (\n, \t, \xNN), so text that came
 * from the network cannot forge log lines. errno is preserved. */
void log_msg(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(int level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_err(...)    log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

/* ---- rate-limited lines ------------------------------------------------ */

/* For lines a peer can cause at will, one per request (a refused UPDATE, a
 * bad signature): at most burst of them pass per second of the monotonic
 * clock, the others are only counted, and the next line that passes is
 * preceded by one at the same level saying how many were suppressed. Lines
 * of a level that is not enabled are neither written nor counted. A struct
 * log_limit starts zeroed and belongs to one thread (the event loop's). */
#define LOG_LIMIT_DEFAULT 10

struct log_limit {
	unsigned burst;                 /* lines per second; 0: LOG_LIMIT_DEFAULT */
	int64_t second;                 /* the second being counted (monotonic) */
	unsigned used;                  /* lines passed in that second */
	uint64_t suppressed;            /* lines dropped since the last report */
};

/* 1 if a line of level may be written now (after writing the report of
 * suppressed lines, if any), 0 if it is to be dropped. */
int log_limit_pass(struct log_limit *l, int level);
/* The same at a given second of a monotonic clock (tests). */
int log_limit_pass_at(struct log_limit *l, int level, int64_t now_s);

#define log_limited(l, level, ...) do {                                 \
		if (log_limit_pass((l), (level)))                       \
			log_msg((level), __VA_ARGS__);                  \
	} while (0)

#endif
