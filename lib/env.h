/* env: files of shell `KEY=value` lines (such as a cluster's cluster.env)
 * that a shell can `source` and that dnsfs programs read back without a
 * shell. Values are written single-quoted whenever the shell would otherwise
 * split or expand them; reading accepts the quoting a shell would, minus
 * expansion ($, backquote), which is rejected rather than guessed. */
#ifndef DNSFS_ENV_H
#define DNSFS_ENV_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct env_var {
	char *key;      /* [A-Za-z_][A-Za-z0-9_]*, owned */
	char *value;    /* unquoted value, owned */
};

/* An ordered set of variables; writing keeps the order of first env_set. */
struct env {
	struct env_var *v;      /* n entries, owned */
	size_t n;
	size_t cap;
};

void env_init(struct env *env);
/* Free every entry and return to the env_init state. */
void env_release(struct env *env);

/* Value of key, or NULL. The pointer lives until key is set again or env is
 * released. */
const char *env_get(const struct env *env, const char *key);
/* Set key to a copy of value (replacing any previous value). -EINVAL for a
 * key that is not a shell variable name, -ENOMEM. */
int env_set(struct env *env, const char *key, const char *value, struct err *e);

/* Add the variables of the file at path to env (later lines win). Blank
 * lines, `# comments` and an `export ` prefix are allowed. -ENOENT if the file
 * does not exist; -EINVAL with "path:line: why" for a line it cannot read. */
int env_read(struct env *env, const char *path, struct err *e);

/* Write env to path atomically (temp file, fsync, rename) with the given
 * mode, after an optional comment header (each line gets "# "). */
int env_write(const struct env *env, const char *path, mode_t mode,
	      const char *header, struct err *e);

/* Shell-quote s into out (outlen bytes): unchanged if it needs no quoting,
 * else in single quotes with ' written as '\''. -ENAMETOOLONG if too long. */
int env_quote(char *out, size_t outlen, const char *s);

#endif
