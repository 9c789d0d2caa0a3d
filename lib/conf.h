/* conf: the `key = value` configuration files every daemon reads, with typed
 * getters whose errors name the file and line. (Named conf.h, not config.h:
 * that name is autoconf's generated header, and a quoted include from lib/
 * would silently pick this file instead.) */
#ifndef DNSFS_CONF_H
#define DNSFS_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/*
 * The format, one setting per line:
 *
 *   # a comment line            blank lines are ignored too
 *   listen = 127.0.0.1:5300     keys are [a-z0-9_.-]+; a key may repeat
 *   listen = [::1]:5300         (all values are kept, in order)
 *   zone   = fs.example.  # a comment after whitespace ends the value
 *   motd   = "  # kept  "       double quotes keep '#', leading and trailing
 *   path   = "C:\\x \"y\""      spaces; inside them only \" and \\ escape
 *
 * Unquoted values are trimmed and must not be empty (write "" for that).
 * Lines end in LF or CRLF and may be at most CONFIG_LINE_MAX bytes; NUL and
 * other control characters (except tab) are errors. Every error reads
 * "NAME:LINE: what is wrong", e.g. "mds.conf:7: expected 'key = value'".
 */
#define CONFIG_LINE_MAX 4096            /* bytes per line, without newline */
#define CONFIG_FILE_MAX (16u << 20)     /* bytes per file */

struct config_entry {
	const char *key;        /* NUL-terminated; owned by the config */
	const char *value;      /* unquoted and unescaped; owned likewise */
	unsigned line;          /* 1-based line it came from */
};

struct config {
	char *name;                     /* path or name used in messages; owned */
	struct config_entry *entries;   /* n of cap, in file order; owned */
	size_t n;
	size_t cap;
};

/* Read and parse the file at path. NULL on error with e set: -ENOENT and the
 * other open/read errors as "PATH: reason", -EFBIG past CONFIG_FILE_MAX,
 * -EINVAL for the format, -ENOMEM. Free with config_free. */
struct config *config_load(const char *path, struct err *e);
/* Parse len bytes of text (which may hold NULs, reported as errors); name
 * stands for the source in messages and is copied. */
struct config *config_parse(const char *text, size_t len, const char *name,
			    struct err *e);
/* Same for a NUL-terminated string. */
struct config *config_parse_string(const char *text, const char *name,
				   struct err *e);
/* Free c and everything in it (c may be NULL); entries die with it. */
void config_free(struct config *c);

/* ------------------------------------------------------- looking up -- */

/* The value of the last line with key, or NULL; owned by c. */
const char *config_get(const struct config *c, const char *key);
/* The entry of the last line with key, or NULL. */
const struct config_entry *config_find(const struct config *c, const char *key);
/* Iterate over the lines with key in file order: prev NULL gives the first,
 * NULL means no more.
 *   for (ent = config_next(c, "listen", NULL); ent; ent = config_next(c, "listen", ent))
 */
const struct config_entry *config_next(const struct config *c, const char *key,
				       const struct config_entry *prev);
/* Call fn on each line with key, in order; stop at the first nonzero return
 * of fn and return it, else 0. */
typedef int (*config_each_fn)(const struct config_entry *ent, void *arg);
int config_get_all(const struct config *c, const char *key, config_each_fn fn,
		   void *arg);
size_t config_count(const struct config *c, const char *key);

/* ---------------------------------------------------- typed getters -- */

/* Each reads the last value of key into *out, or stores def when the key is
 * absent. 0, or -EINVAL (malformed) / -ERANGE (outside [min, max]) with
 * "NAME:LINE: key: ..." in e; *out is untouched on error. */

/* A decimal integer. */
int config_get_u64(const struct config *c, const char *key, uint64_t def,
		   uint64_t min, uint64_t max, uint64_t *out, struct err *e);
/* yes/no, true/false, on/off, 1/0, in any case. */
int config_get_bool(const struct config *c, const char *key, int def, int *out,
		    struct err *e);
/* A duration in milliseconds: NUMBER[UNIT] with UNIT ms, s, m, h or d (no
 * unit: seconds); NUMBER may have a fraction ("1.5s") if the result is a
 * whole number of milliseconds. "250ms", "10m", "30". */
int config_get_duration(const struct config *c, const char *key, uint64_t def_ms,
			uint64_t min_ms, uint64_t max_ms, uint64_t *out_ms,
			struct err *e);
/* A size in bytes: NUMBER[UNIT], UNIT B; k, M, G, T, P or KiB, MiB, GiB,
 * TiB, PiB (powers of 1024); kB, MB, GB, TB, PB (powers of 1000); any case.
 * "4MiB", "512k", "1.5G", "4096". */
int config_get_size(const struct config *c, const char *key, uint64_t def,
		    uint64_t min, uint64_t max, uint64_t *out, struct err *e);

/* The same parsers for one string (command-line flags): 0, -EINVAL or
 * -ERANGE (does not fit 64 bits), no message. */
int config_parse_u64(const char *s, uint64_t *out);
int config_parse_bool(const char *s, int *out);
int config_parse_duration(const char *s, uint64_t *out_ms);
int config_parse_size(const char *s, uint64_t *out);

/* ------------------------------------------------------------ checks -- */

/* -EINVAL "NAME:LINE: unknown key 'x'" for the first line whose key is not
 * in known (a NULL-terminated list), else 0. */
int config_check_keys(const struct config *c, const char *const *known,
		      struct err *e);
/* Set e to code and "NAME:LINE: " + message for entry ent (ent may be NULL:
 * "NAME: " + message), so callers report their own checks the same way.
 * Returns code. */
int config_error(const struct config *c, const struct config_entry *ent,
		 struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
