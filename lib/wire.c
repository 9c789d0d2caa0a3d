/* wire: the DNS wire format by hand (see wire.h). The reader is the mds's first
 * line against hostile packets: every byte it touches is checked against the
 * packet end, and every malformation is -EBADMSG rather than a crash or a loop. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire.h"

#define PTR_HOPS_MAX 127        /* compression pointers followed per name */
#define PTR_OFF_MAX 0x3fff      /* largest offset a pointer can hold */

static uint8_t lower_byte(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

static int bytes_eq_nocase(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower_byte(a[i]) != lower_byte(b[i]))
			return 0;
	return 1;
}

/* ---- names ---------------------------------------------------------- */

/* Offsets of the label length bytes of n (root excluded) into off; returns
 * the label count, or -1 if n is not a well-formed name. */
static int name_label_offsets(const struct wire_name *n, uint8_t off[WIRE_NAME_MAX])
{
	size_t p = 0;
	int k = 0;

	if (n->len == 0)
		return -1;
	while (p < n->len) {
		uint8_t l = n->b[p];
		if (l == 0)
			return p + 1 == n->len ? k : -1;
		if (l > WIRE_LABEL_MAX || p + 1 + l >= n->len)
			return -1;
		off[k++] = (uint8_t)p;
		p += 1 + (size_t)l;
	}
	return -1;
}

static int name_too_long(const char *text, struct err *e)
{
	return err_set(e, -EINVAL, "name \"%.64s...\" longer than %d bytes", text, WIRE_NAME_MAX);
}

int wire_name_from_text(struct wire_name *n, const char *text, struct err *e)
{
	size_t out = 0, lab = 0;        /* write position; current label's length byte */
	const char *s = text;

	if (s[0] == '\0')
		return err_set(e, -EINVAL, "empty domain name");
	if (s[0] == '.' && s[1] == '\0') {
		n->len = 1;
		n->b[0] = 0;
		return 0;
	}
	n->b[0] = 0;
	out = 1;
	while (*s != '\0') {
		uint8_t c;
		if (*s == '.') {
			if (out - lab == 1)
				return err_set(e, -EINVAL, "empty label in \"%s\"", text);
			lab = out;
			if (out >= WIRE_NAME_MAX)
				return name_too_long(text, e);
			n->b[out++] = 0;
			s++;
			continue;
		}
		if (*s == '\\') {
			s++;
			if (s[0] >= '0' && s[0] <= '9') {
				if (!(s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9'))
					return err_set(e, -EINVAL, "bad escape in \"%s\": \\DDD needs three digits", text);
				int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
				if (v > 255)
					return err_set(e, -EINVAL, "bad escape in \"%s\": \\%.3s > 255", text, s);
				c = (uint8_t)v;
				s += 3;
			} else if (*s == '\0') {
				return err_set(e, -EINVAL, "\"%s\" ends in a lone backslash", text);
			} else {
				c = (uint8_t)*s++;
			}
		} else {
			c = (uint8_t)*s++;
		}
		if (n->b[lab] == WIRE_LABEL_MAX)
			return err_set(e, -EINVAL, "label longer than %d bytes in \"%s\"", WIRE_LABEL_MAX, text);
		if (out >= WIRE_NAME_MAX)
			return name_too_long(text, e);
		n->b[out++] = c;
		n->b[lab]++;
	}
	/* "a.b" ends inside a label: close it with the root; "a.b." already
	 * opened an empty label that becomes the root. */
	if (n->b[lab] != 0) {
		if (out >= WIRE_NAME_MAX)
			return name_too_long(text, e);
		n->b[out++] = 0;
	}
	n->len = (uint8_t)out;
	return 0;
}

int wire_name_to_text(const struct wire_name *n, char *buf, size_t len)
{
	uint8_t off[WIRE_NAME_MAX];
	int k = name_label_offsets(n, off);
	size_t o = 0;

	if (k < 0)
		return -EINVAL;
	if (k == 0) {
		if (len < 2)
			return -ENOSPC;
		memcpy(buf, ".", 2);
		return 0;
	}
	for (int i = 0; i < k; i++) {
		const uint8_t *l = n->b + off[i];
		for (unsigned j = 1; j <= l[0]; j++) {
			uint8_t c = l[j];
			char tmp[5];
			size_t t;
			if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' ||
			    c == ')' || c == '@' || c == '$') {
				tmp[0] = '\\';
				tmp[1] = (char)c;
				t = 2;
			} else if (c < 0x21 || c > 0x7e) {
				snprintf(tmp, sizeof(tmp), "\\%03u", c);
				t = 4;
			} else {
				tmp[0] = (char)c;
				t = 1;
			}
			if (o + t >= len)
				return -ENOSPC;
			memcpy(buf + o, tmp, t);
			o += t;
		}
		if (o + 1 >= len)
			return -ENOSPC;
		buf[o++] = '.';
	}
	buf[o] = '\0';
	return 0;
}

void wire_name_lower(struct wire_name *n)
{
	/* Length bytes are at most 63, below 'A', so lowering every byte only
	 * touches label data. */
	for (size_t i = 0; i < n->len; i++)
		n->b[i] = lower_byte(n->b[i]);
}

int wire_name_equal(const struct wire_name *a, const struct wire_name *b)
{
	return a->len == b->len && bytes_eq_nocase(a->b, b->b, a->len);
}

int wire_name_is_subdomain(const struct wire_name *n, const struct wire_name *apex)
{
	uint8_t off[WIRE_NAME_MAX];
	int k = name_label_offsets(n, off);

	if (k < 0 || apex->len == 0 || apex->len > n->len)
		return 0;
	for (int i = 0; i <= k; i++) {
		size_t p = i < k ? off[i] : (size_t)n->len - 1;
		if (n->len - p == apex->len)
			return bytes_eq_nocase(n->b + p, apex->b, apex->len);
	}
	return 0;
}

int wire_name_labels(const struct wire_name *n)
{
	uint8_t off[WIRE_NAME_MAX];
	int k = name_label_offsets(n, off);

	return k < 0 ? 0 : k;
}

void wire_name_parent(struct wire_name *n)
{
	size_t l;

	if (n->len <= 1)
		return;
	l = 1 + (size_t)n->b[0];
	if (l >= n->len)
		return;
	memmove(n->b, n->b + l, n->len - l);
	n->len = (uint8_t)(n->len - l);
}

int wire_name_prepend(struct wire_name *n, const void *label, size_t len)
{
	if (len == 0 || len > WIRE_LABEL_MAX || n->len == 0)
		return -EINVAL;
	if ((size_t)n->len + 1 + len > WIRE_NAME_MAX)
		return -ENAMETOOLONG;
	memmove(n->b + 1 + len, n->b, n->len);
	n->b[0] = (uint8_t)len;
	memcpy(n->b + 1, label, len);
	n->len = (uint8_t)(n->len + 1 + len);
	return 0;
}

/* ---- reading -------------------------------------------------------- */

void wire_rd_init(struct wire_rd *r, const uint8_t *pkt, size_t len)
{
	r->pkt = pkt;
	r->len = len;
	r->pos = 0;
}

static int rd_need(const struct wire_rd *r, size_t n)
{
	return r->pos <= r->len && r->len - r->pos >= n ? 0 : -EBADMSG;
}

int wire_rd_u8(struct wire_rd *r, uint8_t *v)
{
	if (rd_need(r, 1))
		return -EBADMSG;
	*v = r->pkt[r->pos++];
	return 0;
}

int wire_rd_u16(struct wire_rd *r, uint16_t *v)
{
	if (rd_need(r, 2))
		return -EBADMSG;
	*v = (uint16_t)(r->pkt[r->pos] << 8 | r->pkt[r->pos + 1]);
	r->pos += 2;
	return 0;
}

int wire_rd_u32(struct wire_rd *r, uint32_t *v)
{
	const uint8_t *p;

	if (rd_need(r, 4))
		return -EBADMSG;
	p = r->pkt + r->pos;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	r->pos += 4;
	return 0;
}

int wire_rd_bytes(struct wire_rd *r, void *dst, size_t n)
{
	if (rd_need(r, n))
		return -EBADMSG;
	memcpy(dst, r->pkt + r->pos, n);
	r->pos += n;
	return 0;
}

int wire_rd_skip(struct wire_rd *r, size_t n)
{
	if (rd_need(r, n))
		return -EBADMSG;
	r->pos += n;
	return 0;
}

/* Read a name starting at pkt[start] (pkt has len bytes). allow_ptr = 0
 * rejects compression (canonical rdata, our own buffers). Pointers must point
 * before every byte already read for this name, which rules out loops by
 * construction; the hop bound is a second fence. On success *end is the
 * offset just past the in-place part. Nothing is written to n on failure. */
static int name_parse(const uint8_t *pkt, size_t len, size_t start, int allow_ptr,
		      struct wire_name *n, size_t *end)
{
	uint8_t b[WIRE_NAME_MAX];
	size_t p = start, lowest = start, out = 0, fin = 0;
	int hops = 0, jumped = 0;

	for (;;) {
		uint8_t l;
		if (p >= len)
			return -EBADMSG;
		l = pkt[p];
		if ((l & 0xc0) == 0xc0) {
			size_t target;
			if (!allow_ptr || p + 1 >= len || ++hops > PTR_HOPS_MAX)
				return -EBADMSG;
			target = (size_t)(l & 0x3f) << 8 | pkt[p + 1];
			if (target >= lowest)
				return -EBADMSG;
			if (!jumped)
				fin = p + 2;
			jumped = 1;
			lowest = p = target;
			continue;
		}
		if (l & 0xc0)           /* 0x40 and 0x80: reserved / obsolete */
			return -EBADMSG;
		if (p + 1 + l > len || out + 1 + l + (l ? 1 : 0) > WIRE_NAME_MAX)
			return -EBADMSG;
		memcpy(b + out, pkt + p, 1 + (size_t)l);
		out += 1 + (size_t)l;
		p += 1 + (size_t)l;
		if (l == 0)
			break;
	}
	memcpy(n->b, b, out);
	n->len = (uint8_t)out;
	*end = jumped ? fin : p;
	return 0;
}

int wire_rd_name(struct wire_rd *r, struct wire_name *n)
{
	size_t end;
	int rc;

	if (r->pos > r->len)
		return -EBADMSG;
	rc = name_parse(r->pkt, r->len, r->pos, 1, n, &end);
	if (rc < 0)
		return rc;
	r->pos = end;
	return 0;
}

int wire_rd_hdr(struct wire_rd *r, struct wire_hdr *h)
{
	if (rd_need(r, WIRE_HDR_LEN))
		return -EBADMSG;
	wire_rd_u16(r, &h->id);
	wire_rd_u16(r, &h->flags);
	wire_rd_u16(r, &h->qdcount);
	wire_rd_u16(r, &h->ancount);
	wire_rd_u16(r, &h->nscount);
	wire_rd_u16(r, &h->arcount);
	return 0;
}

int wire_rd_question(struct wire_rd *r, struct wire_name *qname, uint16_t *qtype,
		     uint16_t *qclass)
{
	size_t save = r->pos;

	if (wire_rd_name(r, qname) < 0 || wire_rd_u16(r, qtype) < 0 ||
	    wire_rd_u16(r, qclass) < 0) {
		r->pos = save;
		return -EBADMSG;
	}
	return 0;
}

/* Layout of the rdata of the types whose names are canonicalized: fixed bytes
 * before the names, the number of names, fixed bytes after them. */
struct rdata_shape {
	uint8_t pre, nnames, post;
};

static int rdata_shape(uint16_t type, struct rdata_shape *s)
{
	switch (type) {
	case WIRE_T_NS: case WIRE_T_CNAME: case WIRE_T_PTR:
		*s = (struct rdata_shape){ 0, 1, 0 };
		return 1;
	case WIRE_T_SOA:
		*s = (struct rdata_shape){ 0, 2, 20 };
		return 1;
	case WIRE_T_MX:
		*s = (struct rdata_shape){ 2, 1, 0 };
		return 1;
	case WIRE_T_SRV:
		*s = (struct rdata_shape){ 6, 1, 0 };
		return 1;
	default:
		return 0;
	}
}

int wire_rd_rr(struct wire_rd *r, struct wire_rr *rr)
{
	struct rdata_shape sh;
	size_t save = r->pos, p, end;
	uint16_t rdlen;

	if (wire_rd_name(r, &rr->owner) < 0 || wire_rd_u16(r, &rr->type) < 0 ||
	    wire_rd_u16(r, &rr->class) < 0 || wire_rd_u32(r, &rr->ttl) < 0 ||
	    wire_rd_u16(r, &rdlen) < 0 || rd_need(r, rdlen) < 0)
		goto fail;
	rr->rdata_off = r->pos;
	end = r->pos + rdlen;
	if (!rdata_shape(rr->type, &sh)) {
		memcpy(rr->rdata, r->pkt + r->pos, rdlen);
		rr->rdlen = rdlen;
		r->pos = end;
		return 0;
	}
	/* Names may be compressed against anything earlier in the packet, but
	 * their in-place parts and the fixed fields must fill rdlength exactly. */
	p = r->pos;
	size_t out = 0;
	if (end - p < sh.pre)
		goto fail;
	memcpy(rr->rdata, r->pkt + p, sh.pre);
	p += sh.pre;
	out += sh.pre;
	for (int i = 0; i < sh.nnames; i++) {
		struct wire_name n;
		size_t next;
		/* A pointer may lead anywhere earlier in the packet; only
		 * the in-place part has to stay inside the rdata. */
		if (name_parse(r->pkt, r->len, p, 1, &n, &next) < 0 || next > end)
			goto fail;
		wire_name_lower(&n);
		memcpy(rr->rdata + out, n.b, n.len);
		out += n.len;
		p = next;
	}
	if (end - p != sh.post)
		goto fail;
	memcpy(rr->rdata + out, r->pkt + p, sh.post);
	out += sh.post;
	rr->rdlen = (uint16_t)out;
	r->pos = end;
	return 0;
fail:
	r->pos = save;
	return -EBADMSG;
}

/* ---- writing -------------------------------------------------------- */

void wire_wr_init(struct wire_wr *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->pos = 0;
	w->overflow = 0;
	w->ncomp = 0;
}

static int wr_room(struct wire_wr *w, size_t n)
{
	if (w->overflow || w->pos > w->cap || w->cap - w->pos < n) {
		w->overflow = 1;
		return -ENOSPC;
	}
	return 0;
}

int wire_wr_u8(struct wire_wr *w, uint8_t v)
{
	if (wr_room(w, 1))
		return -ENOSPC;
	w->buf[w->pos++] = v;
	return 0;
}

int wire_wr_u16(struct wire_wr *w, uint16_t v)
{
	if (wr_room(w, 2))
		return -ENOSPC;
	w->buf[w->pos++] = (uint8_t)(v >> 8);
	w->buf[w->pos++] = (uint8_t)v;
	return 0;
}

int wire_wr_u32(struct wire_wr *w, uint32_t v)
{
	if (wr_room(w, 4))
		return -ENOSPC;
	for (int s = 24; s >= 0; s -= 8)
		w->buf[w->pos++] = (uint8_t)(v >> s);
	return 0;
}

int wire_wr_bytes(struct wire_wr *w, const void *p, size_t n)
{
	if (wr_room(w, n))
		return -ENOSPC;
	if (n > 0)
		memcpy(w->buf + w->pos, p, n);
	w->pos += n;
	return 0;
}

/* Remember a name written at off as a compression target. */
static void wr_remember(struct wire_wr *w, size_t off)
{
	if (off <= PTR_OFF_MAX && w->ncomp < WIRE_COMP_MAX)
		w->comp[w->ncomp++] = (uint16_t)off;
}

/* Write labels [0, cut) of n in place, then a pointer to ptr (or, with
 * ptr < 0, the rest of n). All or nothing. */
static int wr_name_parts(struct wire_wr *w, const struct wire_name *n, size_t cut, long ptr)
{
	size_t need = ptr >= 0 ? cut + 2 : n->len;
	size_t start = w->pos;

	if (wr_room(w, need))
		return -ENOSPC;
	if (ptr >= 0) {
		memcpy(w->buf + w->pos, n->b, cut);
		w->buf[w->pos + cut] = (uint8_t)(0xc0 | ptr >> 8);
		w->buf[w->pos + cut + 1] = (uint8_t)ptr;
	} else {
		memcpy(w->buf + w->pos, n->b, n->len);
	}
	w->pos += need;
	if (n->len > 1 && (ptr < 0 || cut > 0))
		wr_remember(w, start);
	return 0;
}

int wire_wr_name_nocomp(struct wire_wr *w, const struct wire_name *n)
{
	uint8_t off[WIRE_NAME_MAX];

	if (name_label_offsets(n, off) < 0)
		return -EINVAL;
	return wr_name_parts(w, n, 0, -1);
}

int wire_wr_name(struct wire_wr *w, const struct wire_name *n)
{
	uint8_t off[WIRE_NAME_MAX];
	int16_t by_len[WIRE_NAME_MAX + 1];      /* suffix length -> label index in n */
	int k = name_label_offsets(n, off);
	int best = k;                   /* index of the longest matched suffix */
	long best_ptr = -1;

	if (k < 0)
		return -EINVAL;
	memset(by_len, 0xff, sizeof(by_len));
	for (int i = 0; i < k; i++)
		by_len[n->len - off[i]] = (int16_t)i;
	/* For each remembered name, walk its labels (following its own
	 * pointers) and compare each of its suffixes with n's suffix of the
	 * same length. Matching is exact, so the reader gets back the bytes
	 * given here. */
	for (unsigned c = 0; c < w->ncomp && best > 0; c++) {
		struct wire_name m;
		size_t mend, q = w->comp[c], moff = 0;
		if (name_parse(w->buf, w->pos, q, 1, &m, &mend) < 0)
			continue;
		while (m.b[moff] != 0) {
			/* q: where label moff of m sits in the buffer */
			while ((w->buf[q] & 0xc0) == 0xc0)
				q = (size_t)(w->buf[q] & 0x3f) << 8 | w->buf[q + 1];
			int i = by_len[m.len - moff];
			if (i >= 0 && i < best && q <= PTR_OFF_MAX &&
			    memcmp(n->b + off[i], m.b + moff, (size_t)(m.len - moff)) == 0) {
				best = i;
				best_ptr = (long)q;
			}
			moff += 1 + (size_t)m.b[moff];
			q += 1 + (size_t)w->buf[q];
		}
	}
	if (best_ptr < 0)
		return wr_name_parts(w, n, 0, -1);
	return wr_name_parts(w, n, off[best], best_ptr);
}

int wire_wr_hdr(struct wire_wr *w, const struct wire_hdr *h)
{
	if (wr_room(w, WIRE_HDR_LEN))
		return -ENOSPC;
	wire_wr_u16(w, h->id);
	wire_wr_u16(w, h->flags);
	wire_wr_u16(w, h->qdcount);
	wire_wr_u16(w, h->ancount);
	wire_wr_u16(w, h->nscount);
	wire_wr_u16(w, h->arcount);
	return 0;
}

void wire_wr_patch_u16(struct wire_wr *w, size_t off, uint16_t v)
{
	if (off > w->pos || w->pos - off < 2)
		return;
	w->buf[off] = (uint8_t)(v >> 8);
	w->buf[off + 1] = (uint8_t)v;
}

int wire_wr_rr(struct wire_wr *w, const struct wire_name *owner, uint16_t type,
	       uint16_t class, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t mark = wire_wr_mark(w), rdstart, p = 0;
	struct rdata_shape sh;
	int rc = -ENOSPC;

	if (w->overflow)
		return -ENOSPC;
	if (wire_wr_name(w, owner) < 0 || wire_wr_u16(w, type) < 0 ||
	    wire_wr_u16(w, class) < 0 || wire_wr_u32(w, ttl) < 0 ||
	    wire_wr_u16(w, 0) < 0)
		goto fail;
	rdstart = w->pos;
	if (!rdata_shape(type, &sh)) {
		if (wire_wr_bytes(w, rdata, rdlen) < 0)
			goto fail;
	} else {
		rc = -EINVAL;
		if (rdlen < sh.pre)
			goto fail;
		rc = -ENOSPC;
		if (wire_wr_bytes(w, rdata, sh.pre) < 0)
			goto fail;
		p = sh.pre;
		for (int i = 0; i < sh.nnames; i++) {
			struct wire_name n;
			size_t next;
			rc = -EINVAL;
			if (name_parse(rdata, rdlen, p, 0, &n, &next) < 0)
				goto fail;
			rc = type == WIRE_T_SRV ? wire_wr_name_nocomp(w, &n) : wire_wr_name(w, &n);
			if (rc < 0)
				goto fail;
			p = next;
		}
		rc = -EINVAL;
		if (rdlen - p != sh.post)
			goto fail;
		rc = -ENOSPC;
		if (wire_wr_bytes(w, rdata + p, sh.post) < 0)
			goto fail;
	}
	wire_wr_patch_u16(w, rdstart - 2, (uint16_t)(w->pos - rdstart));
	return 0;
fail:
	/* Drop the partial RR; an overflow stays visible to the caller. */
	wire_wr_rewind(w, mark);
	if (rc == -ENOSPC)
		w->overflow = 1;
	return rc;
}

void wire_wr_rewind(struct wire_wr *w, size_t mark)
{
	if (mark > w->pos)
		return;
	w->pos = mark;
	/* Entries are appended in increasing offset order. */
	while (w->ncomp > 0 && w->comp[w->ncomp - 1] >= mark)
		w->ncomp--;
	w->overflow = 0;
}

/* ---- rdata helpers --------------------------------------------------- */

void wire_rdata_lower(uint16_t type, uint8_t *rdata, uint16_t rdlen)
{
	struct rdata_shape sh;
	size_t p;

	if (!rdata_shape(type, &sh) || rdlen < sh.pre)
		return;
	p = sh.pre;
	for (int i = 0; i < sh.nnames; i++) {
		struct wire_name n;
		size_t next;
		if (name_parse(rdata, rdlen, p, 0, &n, &next) < 0)
			return;
		for (size_t j = p; j < next; j++)
			rdata[j] = lower_byte(rdata[j]);
		p = next;
	}
}

/* Offset of the 20 fixed bytes of SOA rdata, or -EBADMSG. */
static int soa_fixed(const uint8_t *rdata, uint16_t rdlen, size_t *off)
{
	struct wire_name n;
	size_t p = 0;

	for (int i = 0; i < 2; i++)
		if (name_parse(rdata, rdlen, p, 0, &n, &p) < 0)
			return -EBADMSG;
	if (rdlen - p != 20)
		return -EBADMSG;
	*off = p;
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int wire_soa_serial(const uint8_t *rdata, uint16_t rdlen, uint32_t *serial)
{
	size_t off;

	if (soa_fixed(rdata, rdlen, &off) < 0)
		return -EBADMSG;
	*serial = get32(rdata + off);
	return 0;
}

int wire_soa_set_serial(uint8_t *rdata, uint16_t rdlen, uint32_t serial)
{
	size_t off;

	if (soa_fixed(rdata, rdlen, &off) < 0)
		return -EBADMSG;
	for (int i = 0; i < 4; i++)
		rdata[off + (size_t)i] = (uint8_t)(serial >> (24 - 8 * i));
	return 0;
}

int wire_soa_minimum(const uint8_t *rdata, uint16_t rdlen, uint32_t *minimum)
{
	size_t off;

	if (soa_fixed(rdata, rdlen, &off) < 0)
		return -EBADMSG;
	*minimum = get32(rdata + off + 16);
	return 0;
}

int wire_serial_gt(uint32_t a, uint32_t b)
{
	/* RFC 1982: a is newer when it is ahead by less than half the space;
	 * exactly half is undefined and answered "no". */
	return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* ---- names of numbers ----------------------------------------------- */

static _Thread_local char type_buf[16], rcode_buf[16];

const char *wire_type_name(uint16_t type)
{
	static const struct { uint16_t t; const char *s; } tab[] = {
		{ 1, "A" }, { 2, "NS" }, { 5, "CNAME" }, { 6, "SOA" }, { 12, "PTR" },
		{ 13, "HINFO" }, { 15, "MX" }, { 16, "TXT" }, { 17, "RP" },
		{ 28, "AAAA" }, { 29, "LOC" }, { 33, "SRV" }, { 35, "NAPTR" },
		{ 39, "DNAME" }, { 41, "OPT" }, { 43, "DS" }, { 46, "RRSIG" },
		{ 47, "NSEC" }, { 48, "DNSKEY" }, { 50, "NSEC3" },
		{ 51, "NSEC3PARAM" }, { 52, "TLSA" }, { 64, "SVCB" },
		{ 65, "HTTPS" }, { 99, "SPF" }, { 249, "TKEY" }, { 250, "TSIG" },
		{ 251, "IXFR" }, { 252, "AXFR" }, { 255, "ANY" }, { 257, "CAA" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (tab[i].t == type)
			return tab[i].s;
	snprintf(type_buf, sizeof(type_buf), "TYPE%u", type);
	return type_buf;
}

const char *wire_rcode_name(int rcode)
{
	static const char *const tab[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (rcode >= 0 && rcode < (int)(sizeof(tab) / sizeof(tab[0])))
		return tab[rcode];
	switch (rcode) {
	case 16: return "BADSIG";       /* BADVERS in an OPT record */
	case 17: return "BADKEY";
	case 18: return "BADTIME";
	case 19: return "BADMODE";
	case 20: return "BADNAME";
	case 21: return "BADALG";
	case 22: return "BADTRUNC";
	case 23: return "BADCOOKIE";
	}
	snprintf(rcode_buf, sizeof(rcode_buf), "RCODE%d", rcode);
	return rcode_buf;
}
