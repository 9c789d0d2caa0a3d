/* resolve: libunbound configured as a stub resolver for one zone served by
 * the mds (see resolve.h). Nothing else in dnsfs includes unbound.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>

#include "resolve.h"
#include "wire.h"

#define RESOLVE_MAX_RTT "1000"  /* ms: longest wait unbound assumes per try */

struct resolve {
	struct ub_ctx *ctx;     /* owned */
};

static int set_opt(struct ub_ctx *ctx, const char *opt, const char *val, struct err *e)
{
	int r = ub_ctx_set_option(ctx, opt, val);

	if (r != 0)
		return err_set(e, -EINVAL, "libunbound option %s %s: %s", opt, val, ub_strerror(r));
	return 0;
}

int resolve_new(struct resolve **out, const char *zone, const char *addr, int port,
		struct err *e)
{
	unsigned char sa[sizeof(struct in6_addr)];
	char where[RESOLVE_ADDR_MAX + 8];
	struct resolve *res;
	int r;

	*out = NULL;
	if (inet_pton(AF_INET, addr, sa) != 1 && inet_pton(AF_INET6, addr, sa) != 1)
		return err_set(e, -EINVAL, "%s: not an IP address", addr);
	if (port < 1 || port > 65535)
		return err_set(e, -EINVAL, "port %d out of range", port);
	snprintf(where, sizeof(where), "%s@%d", addr, port);
	res = calloc(1, sizeof(*res));
	if (res == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	res->ctx = ub_ctx_create();
	if (res->ctx == NULL) {
		free(res);
		return err_set(e, -ENOMEM, "cannot create a libunbound context");
	}
	/* The mds is usually on loopback; one query per lookup (no qname
	 * minimisation: the zone is all on one server). */
	r = set_opt(res->ctx, "do-not-query-localhost:", "no", e);
	if (r == 0)
		r = set_opt(res->ctx, "qname-minimisation:", "no", e);
	/* The mds is near: cap unbound's retry backoff (its default grows to
	 * 120 s, so a down mds took 18 s to report; now about 2 s). */
	if (r == 0)
		r = set_opt(res->ctx, "infra-cache-max-rtt:", RESOLVE_MAX_RTT, e);
	/* unbound answers some names itself (RFC 6761: test., invalid., ...,
	 * as local zones); a zone of ours below them must pass through. */
	if (r == 0) {
		char lz[RESOLVE_NAME_MAX + 16];

		snprintf(lz, sizeof(lz), "%s transparent", zone);
		r = set_opt(res->ctx, "local-zone:", lz, e);
	}
	if (r == 0 && (r = ub_ctx_set_stub(res->ctx, zone, where, 0)) != 0)
		r = err_set(e, -EINVAL, "stub zone %s at %s: %s", zone, where, ub_strerror(r));
	if (r < 0) {
		resolve_free(res);
		return r;
	}
	*out = res;
	return 0;
}

void resolve_free(struct resolve *r)
{
	if (r == NULL)
		return;
	ub_ctx_delete(r->ctx);
	free(r);
}

/* One lookup; *res is the caller's to ub_resolve_free when 0 is returned. */
static int lookup(struct resolve *r, const char *name, int type, struct ub_result **res,
		  struct err *e)
{
	int rc = ub_resolve(r->ctx, name, type, 1, res);

	if (rc != 0)
		return err_set(e, rc == UB_SYNTAX ? -EINVAL : -EAGAIN, "%s %s: %s", name,
			       wire_type_name((uint16_t)type), ub_strerror(rc));
	if ((*res)->rcode != 0 && (*res)->rcode != 3 /* NXDOMAIN */) {
		rc = (*res)->rcode;
		ub_resolve_free(*res);
		*res = NULL;
		return err_set(e, -EAGAIN, "%s %s: %s", name, wire_type_name((uint16_t)type),
			       wire_rcode_name(rc));
	}
	return 0;
}

int resolve_srv(struct resolve *r, const char *name, struct resolve_srv *out, size_t max,
		uint32_t *ttl, struct err *e)
{
	struct ub_result *res;
	size_t n = 0;
	int rc = lookup(r, name, WIRE_T_SRV, &res, e);

	if (rc < 0)
		return rc;
	if (ttl != NULL)
		*ttl = res->ttl > 0 ? (uint32_t)res->ttl : 0;
	for (int i = 0; res->havedata && res->data[i] != NULL && n < max; i++) {
		const uint8_t *d = (const uint8_t *)res->data[i];
		struct wire_name tn;
		struct wire_rd rd;

		wire_rd_init(&rd, d, (size_t)res->len[i]);
		if (res->len[i] < 7 || wire_rd_u16(&rd, &out[n].priority) < 0 ||
		    wire_rd_u16(&rd, &out[n].weight) < 0 || wire_rd_u16(&rd, &out[n].port) < 0 ||
		    wire_rd_name(&rd, &tn) < 0 || rd.pos != rd.len) {
			rc = err_set(e, -EBADMSG, "%s SRV: malformed record %d", name, i + 1);
			break;
		}
		wire_name_lower(&tn);
		if (wire_name_to_text(&tn, out[n].target, sizeof(out[n].target)) < 0) {
			rc = err_set(e, -EBADMSG, "%s SRV: target of record %d too long", name, i + 1);
			break;
		}
		n++;
	}
	ub_resolve_free(res);
	return rc < 0 ? rc : (int)n;
}

int resolve_txt(struct resolve *r, const char *name, char *out, size_t outlen,
		struct err *e)
{
	struct ub_result *res;
	size_t n = 0;
	int rc = lookup(r, name, WIRE_T_TXT, &res, e);

	if (rc < 0)
		return rc;
	if (outlen > 0)
		out[0] = '\0';
	if (res->havedata && res->data[0] != NULL) {
		const uint8_t *d = (const uint8_t *)res->data[0];
		size_t len = (size_t)res->len[0];

		for (size_t pos = 0; pos < len;) {
			size_t sl = d[pos++];

			if (pos + sl > len) {
				rc = err_set(e, -EBADMSG, "%s TXT: malformed record", name);
				break;
			}
			for (size_t k = 0; k < sl && n + 1 < outlen; k++)
				out[n++] = (char)d[pos + k];
			pos += sl;
		}
		if (outlen > 0)
			out[n] = '\0';
	}
	ub_resolve_free(res);
	return rc < 0 ? rc : (int)n;
}

/* Addresses of one type (A or AAAA). */
static int addrs_of(struct resolve *r, const char *name, int type,
		    char (*out)[RESOLVE_ADDR_MAX], size_t max, struct err *e)
{
	struct ub_result *res;
	size_t n = 0;
	int rc = lookup(r, name, type, &res, e);
	int af = type == WIRE_T_A ? AF_INET : AF_INET6;
	int want = type == WIRE_T_A ? 4 : 16;

	if (rc < 0)
		return rc;
	for (int i = 0; res->havedata && res->data[i] != NULL && n < max; i++) {
		if (res->len[i] != want ||
		    inet_ntop(af, res->data[i], out[n], RESOLVE_ADDR_MAX) == NULL) {
			rc = err_set(e, -EBADMSG, "%s %s: malformed record %d", name,
				     wire_type_name((uint16_t)type), i + 1);
			break;
		}
		n++;
	}
	ub_resolve_free(res);
	return rc < 0 ? rc : (int)n;
}

int resolve_addrs(struct resolve *r, const char *name, char (*out)[RESOLVE_ADDR_MAX],
		  size_t max, struct err *e)
{
	int n = addrs_of(r, name, WIRE_T_A, out, max, e);

	if (n == 0)
		n = addrs_of(r, name, WIRE_T_AAAA, out, max, e);
	return n;
}
