/* api: blockd's HTTP API on lib/httpd: the /v1/blocks routes, the listing,
 * /v1/status, /v1/scrub and /metrics; request signatures (lib/blockauth) and
 * the request metrics. The request parsers are exported for tests and fuzzing. */
#ifndef DNSFS_API_H
#define DNSFS_API_H

#include <stddef.h>
#include <stdint.h>

#include "blockstore.h"
#include "err.h"
#include "hash.h"

struct httpd;
struct metrics;
struct scrub;
struct tsig_keyring;
struct api;

#define API_LIST_DEFAULT 1000   /* listing entries when limit is not given */

struct api_options {
	struct blockstore *store;       /* not owned */
	struct scrub *scrub;            /* not owned; NULL: POST /v1/scrub is 503 */
	struct metrics *metrics;        /* not owned; registers dnsfs_blockd_* */
	const struct tsig_keyring *keys;/* borrowed; replaced with api_set_keys */
	int auth_reads;                 /* GET/HEAD of /v1/blocks need a signature */
	int verify_reads;               /* GET rehashes the block before serving it */
	uint64_t max_block;             /* bytes (for status; httpd enforces it) */
	const char *node_id;            /* copied */
	const char *version;            /* copied */
};

/* Register the routes on h and the metrics (with a collector reading the
 * store's usage at each scrape). NULL on failure with e set. */
struct api *api_new(struct httpd *h, const struct api_options *o, struct err *e);
/* After httpd_free and metrics_free (both hold pointers into a). */
void api_free(struct api *a);
/* Use kr from now on (SIGHUP); kr must outlive its use. */
void api_set_keys(struct api *a, const struct tsig_keyring *kr);
void api_set_auth_reads(struct api *a, int on);

/* ------------------------------------------------------------ parsers --- */

/* The block name in a path "/v1/blocks/<64 hex>" (either case). 0 or -EINVAL. */
int api_parse_block_path(const char *path, struct hash *h);

/* A Range header against a body of size bytes (RFC 9110 14.2). 1: serve
 * [*off, *off + *len); 0: ignore it and serve the whole body (absent,
 * malformed, not bytes, several ranges); -1: not satisfiable (416). */
int api_parse_range(const char *hdr, uint64_t size, uint64_t *off, uint64_t *len);

/* The listing query "after=<64 hex>&limit=N" (both optional, any order,
 * other parameters ignored). *has_after says whether after was given (an
 * empty value means from the start). 0 or -EINVAL with the reason in e. */
int api_parse_list_query(const char *query, struct hash *after, int *has_after,
			 size_t *limit, struct err *e);

#endif
