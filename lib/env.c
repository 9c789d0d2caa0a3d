/* env: reading and writing shell KEY=value files (see env.h). The reader
 * takes the whole file at once so that a quoted value may span lines, as it
 * may in a shell. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env.h"

#define ENV_FILE_MAX (1 << 20)  /* larger is not a KEY=value file we wrote */

/* ------------------------------------------------------------- the set --- */

void env_init(struct env *env)
{
	env->v = NULL;
	env->n = 0;
	env->cap = 0;
}

void env_release(struct env *env)
{
	for (size_t i = 0; i < env->n; i++) {
		free(env->v[i].key);
		free(env->v[i].value);
	}
	free(env->v);
	env_init(env);
}

static int is_name_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static int valid_key(const char *key)
{
	if (!is_name_start((unsigned char)key[0]))
		return 0;
	for (const char *p = key + 1; *p != '\0'; p++)
		if (!is_name_char((unsigned char)*p))
			return 0;
	return 1;
}

const char *env_get(const struct env *env, const char *key)
{
	for (size_t i = 0; i < env->n; i++)
		if (strcmp(env->v[i].key, key) == 0)
			return env->v[i].value;
	return NULL;
}

int env_set(struct env *env, const char *key, const char *value, struct err *e)
{
	char *k = NULL, *v = NULL;
	size_t i;

	if (!valid_key(key))
		return err_set(e, -EINVAL, "'%s' is not a shell variable name", key);
	v = strdup(value);
	if (v == NULL)
		goto nomem;
	for (i = 0; i < env->n; i++) {
		if (strcmp(env->v[i].key, key) == 0) {
			free(env->v[i].value);
			env->v[i].value = v;
			return 0;
		}
	}
	k = strdup(key);
	if (k == NULL)
		goto nomem;
	if (env->n == env->cap) {
		size_t cap = env->cap != 0 ? 2 * env->cap : 16;
		struct env_var *nv = realloc(env->v, cap * sizeof(*nv));

		if (nv == NULL)
			goto nomem;
		env->v = nv;
		env->cap = cap;
	}
	env->v[env->n].key = k;
	env->v[env->n].value = v;
	env->n++;
	return 0;
nomem:
	free(k);
	free(v);
	return err_set(e, -ENOMEM, "out of memory");
}

/* ------------------------------------------------------------- quoting --- */

/* Characters that never need quoting in a shell word. */
static int is_plain(int c)
{
	return c != '\0' && (is_name_char(c) || strchr("@%+=:,./-", c) != NULL);
}

int env_quote(char *out, size_t outlen, const char *s)
{
	size_t o = 0;
	int plain = s[0] != '\0';

	for (const char *p = s; *p != '\0' && plain; p++)
		plain = is_plain((unsigned char)*p);
	if (plain) {
		if (strlen(s) >= outlen)
			return -ENAMETOOLONG;
		memcpy(out, s, strlen(s) + 1);
		return 0;
	}
#define PUT(c) do { if (o + 1 >= outlen) return -ENAMETOOLONG; out[o++] = (c); } while (0)
	PUT('\'');
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\'') {
			/* Close the quote, an escaped quote, reopen. */
			PUT('\''); PUT('\\'); PUT('\''); PUT('\'');
		} else {
			PUT(*p);
		}
	}
	PUT('\'');
#undef PUT
	out[o] = '\0';
	return 0;
}

/* ------------------------------------------------------------- reading --- */

struct parser {
	const char *p;          /* cursor into the NUL-terminated file text */
	int line;               /* line of the cursor, for messages */
	const char *path;
	struct err *e;
};

static int parse_error(struct parser *ps, const char *why)
{
	return err_set(ps->e, -EINVAL, "%s:%d: %s", ps->path, ps->line, why);
}

/* Parse one shell word as an assignment value into out (large enough: a
 * value is never longer than the text it comes from). */
static int parse_value(struct parser *ps, char *out)
{
	size_t o = 0;
	const char *p = ps->p;

	if (*p == '~')
		return parse_error(ps, "unquoted '~' (tilde expansion) is not supported");
	for (;;) {
		char c = *p;

		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			break;
		} else if (c == '\'') {
			for (p++; *p != '\''; p++) {
				if (*p == '\0')
					return parse_error(ps, "unterminated '");
				if (*p == '\n')
					ps->line++;
				out[o++] = *p;
			}
			p++;
		} else if (c == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					return parse_error(ps, "unterminated \"");
				if (*p == '$' || *p == '`')
					return parse_error(ps, "expansion ($ or `) is not supported");
				if (*p == '\\' && strchr("\\\"$`", p[1]) != NULL && p[1] != '\0')
					p++;
				else if (*p == '\\' && p[1] == '\n')
					return parse_error(ps, "line continuation is not supported");
				if (*p == '\n')
					ps->line++;
				out[o++] = *p;
			}
			p++;
		} else if (c == '\\') {
			if (p[1] == '\0' || p[1] == '\n')
				return parse_error(ps, "line continuation is not supported");
			out[o++] = p[1];
			p += 2;
		} else if (strchr("$`;&|<>()", c) != NULL) {
			return parse_error(ps, "shell syntax ($ ` ; & | < > ( )) is not supported; quote the value");
		} else {
			out[o++] = c;
			p++;
		}
	}
	out[o] = '\0';
	ps->p = p;
	return 0;
}

static void skip_blanks(struct parser *ps)
{
	while (*ps->p == ' ' || *ps->p == '\t')
		ps->p++;
}

static int parse(struct env *env, struct parser *ps, char *scratch)
{
	char key[256];
	int r;

	for (;;) {
		skip_blanks(ps);
		if (*ps->p == '\0')
			return 0;
		if (*ps->p == '\n') {
			ps->p++;
			ps->line++;
			continue;
		}
		if (*ps->p == '#') {
			ps->p += strcspn(ps->p, "\n");
			continue;
		}
		if (strncmp(ps->p, "export", 6) == 0 && (ps->p[6] == ' ' || ps->p[6] == '\t')) {
			ps->p += 6;
			skip_blanks(ps);
		}
		size_t klen = 0;
		while (is_name_char((unsigned char)ps->p[klen]))
			klen++;
		if (klen == 0 || !is_name_start((unsigned char)ps->p[0]) || ps->p[klen] != '=')
			return parse_error(ps, "expected KEY=value");
		if (klen >= sizeof(key))
			return parse_error(ps, "variable name too long");
		memcpy(key, ps->p, klen);
		key[klen] = '\0';
		ps->p += klen + 1;
		r = parse_value(ps, scratch);
		if (r < 0)
			return r;
		skip_blanks(ps);
		if (*ps->p == '#')
			ps->p += strcspn(ps->p, "\n");
		if (*ps->p != '\n' && *ps->p != '\0')
			return parse_error(ps, "more than one word after '='; quote the value");
		r = env_set(env, key, scratch, ps->e);
		if (r < 0)
			return r;
	}
}

int env_read(struct env *env, const char *path, struct err *e)
{
	char *text = NULL, *scratch = NULL;
	struct parser ps = { .line = 1, .path = path, .e = e };
	struct stat st;
	ssize_t n;
	size_t got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = err_set(e, -errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_size > ENV_FILE_MAX) {
		r = err_set(e, -EFBIG, "%s: larger than %d bytes", path, ENV_FILE_MAX);
		goto fail;
	}
	text = malloc((size_t)st.st_size + 1);
	scratch = malloc((size_t)st.st_size + 1);
	if (text == NULL || scratch == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = err_set(e, -errno, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	text[got] = '\0';
	if (strlen(text) != got) {
		r = err_set(e, -EINVAL, "%s: contains a NUL byte", path);
		goto fail;
	}
	ps.p = text;
	r = parse(env, &ps, scratch);
fail:
	free(text);
	free(scratch);
	close(fd);
	return r;
}

/* ------------------------------------------------------------- writing --- */

/* Write all of buf, or fail with -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory holding path, so a rename into it survives a crash. */
static void sync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	if ((size_t)snprintf(copy, sizeof(copy), "%s", path) >= sizeof(copy))
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
}

int env_write(const struct env *env, const char *path, mode_t mode,
	      const char *header, struct err *e)
{
	char tmp[PATH_MAX], *buf = NULL;
	size_t len = 1, o = 0;
	int fd = -1, created = 0, r;

	/* Worst case every byte becomes the four of '\'' . */
	if (header != NULL)
		len += 3 * strlen(header) + 3;
	for (size_t i = 0; i < env->n; i++)
		len += strlen(env->v[i].key) + 4 * strlen(env->v[i].value) + 4;
	buf = malloc(len);
	if (buf == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	for (const char *h = header; h != NULL && *h != '\0'; ) {
		size_t l = strcspn(h, "\n");

		o += (size_t)sprintf(buf + o, "# %.*s\n", (int)l, h);
		h += l + (h[l] == '\n');
	}
	for (size_t i = 0; i < env->n; i++) {
		o += (size_t)sprintf(buf + o, "%s=", env->v[i].key);
		if (env_quote(buf + o, len - o, env->v[i].value) < 0) {
			r = err_set(e, -EOVERFLOW, "%s: value of %s does not fit", path, env->v[i].key);
			goto fail;
		}
		o += strlen(buf + o);
		buf[o++] = '\n';
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= sizeof(tmp)) {
		r = err_set(e, -ENAMETOOLONG, "%s: path too long", path);
		goto fail;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		r = err_set(e, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	created = 1;
	/* Not subject to the umask: the caller chose the mode. */
	if (fchmod(fd, mode) < 0 || (r = write_all(fd, buf, o)) < 0 || fsync(fd) < 0) {
		r = err_set(e, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	r = close(fd);
	fd = -1;
	if (r < 0) {
		r = err_set(e, -errno, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = err_set(e, -errno, "rename %s: %s", path, strerror(errno));
		goto fail;
	}
	sync_dir_of(path);
	free(buf);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	free(buf);
	return r;
}
