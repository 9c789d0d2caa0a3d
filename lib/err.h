/* err: the one error convention of dnsfs.
 * Functions return 0 (or a count) on success and a negative errno on failure;
 * the human-readable reason goes into a struct err owned by the caller. */
#ifndef DNSFS_ERR_H
#define DNSFS_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 256

struct err {
	int code;               /* last negative errno, 0 if none */
	char msg[ERR_MSG_MAX];  /* why, for a person; "" if none */
};

/* Record code and a printf-style message in e (e may be NULL). Returns code,
 * so callers write `return err_set(e, -EINVAL, "bad mode %s", s);`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message already in e with more context ("file:3: " ...). */
void err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif
