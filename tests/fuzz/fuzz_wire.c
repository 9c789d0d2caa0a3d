/* fuzz_wire: libFuzzer target for lib/wire. Reads any input as a message
 * (header, questions, every RR), writes what it read back out with the
 * compressing writer, and checks that reading the result gives the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort (a libFuzzer crash) when a round-trip property fails. */
#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static uint8_t out[WIRE_TCP_MAX];
static struct wire_rr rr_a, rr_b;      /* 64 KiB each: not on the stack */

static int same_name(const struct wire_name *a, const struct wire_name *b)
{
	return a->len == b->len && memcmp(a->b, b->b, a->len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_rd r, r2;
	struct wire_wr w;
	struct wire_hdr h, h2;
	struct wire_name q, q2;
	uint16_t qt, qc, qt2, qc2;
	unsigned nq = 0, nrr = 0, total;
	char text[4 * WIRE_NAME_MAX + 1];

	wire_rd_init(&r, data, size);
	if (wire_rd_hdr(&r, &h) < 0)
		return 0;
	wire_wr_init(&w, out, sizeof(out));
	wire_wr_hdr(&w, &h);
	/* Pass 1: read what parses, write it as we go. */
	for (; nq < h.qdcount; nq++) {
		size_t mark = wire_wr_mark(&w);
		if (wire_rd_question(&r, &q, &qt, &qc) < 0)
			break;
		/* names from the wire always print and parse back the same */
		REQUIRE(wire_name_to_text(&q, text, sizeof(text)) == 0);
		REQUIRE(wire_name_from_text(&q2, text, NULL) == 0 && same_name(&q, &q2));
		if (wire_wr_name(&w, &q) < 0 || wire_wr_u16(&w, qt) < 0 || wire_wr_u16(&w, qc) < 0) {
			wire_wr_rewind(&w, mark);
			break;
		}
	}
	total = (unsigned)h.ancount + h.nscount + h.arcount;
	if (nq == h.qdcount) {
		for (; nrr < total; nrr++) {
			if (wire_rd_rr(&r, &rr_a) < 0)
				break;
			if (rr_a.type == WIRE_T_SOA) {
				uint32_t v;
				REQUIRE(wire_soa_serial(rr_a.rdata, rr_a.rdlen, &v) == 0);
			}
			/* lower-casing raw (possibly compressed) rdata must stay in bounds */
			memcpy(rr_b.rdata, data + rr_a.rdata_off, (size_t)(r.pos - rr_a.rdata_off));
			wire_rdata_lower(rr_a.type, rr_b.rdata, (uint16_t)(r.pos - rr_a.rdata_off));
			if (wire_wr_rr(&w, &rr_a.owner, rr_a.type, rr_a.class, rr_a.ttl, rr_a.rdata,
				       rr_a.rdlen) < 0) {
				/* canonical rdata from the reader always re-encodes */
				REQUIRE(w.overflow);
				break;
			}
		}
	}
	/* Only whole sections are re-read: counts say how many were written. */
	h2 = h;
	h2.qdcount = (uint16_t)nq;
	h2.ancount = h2.nscount = h2.arcount = 0;
	if (nrr > 0)
		h2.ancount = (uint16_t)nrr;     /* section split does not matter here */
	wire_wr_rewind(&w, w.pos);
	wire_wr_patch_u16(&w, 4, h2.qdcount);
	wire_wr_patch_u16(&w, 6, h2.ancount);
	wire_wr_patch_u16(&w, 8, 0);
	wire_wr_patch_u16(&w, 10, 0);

	/* Pass 2: read the input again beside the output and compare. */
	wire_rd_init(&r, data, size);
	wire_rd_init(&r2, out, w.pos);
	REQUIRE(wire_rd_hdr(&r, &h) == 0 && wire_rd_hdr(&r2, &h2) == 0);
	REQUIRE(h2.id == h.id && h2.flags == h.flags);
	for (unsigned i = 0; i < h2.qdcount; i++) {
		REQUIRE(wire_rd_question(&r, &q, &qt, &qc) == 0);
		REQUIRE(wire_rd_question(&r2, &q2, &qt2, &qc2) == 0);
		REQUIRE(same_name(&q, &q2) && qt == qt2 && qc == qc2);
	}
	for (unsigned i = 0; i < h2.ancount; i++) {
		REQUIRE(wire_rd_rr(&r, &rr_a) == 0);
		REQUIRE(wire_rd_rr(&r2, &rr_b) == 0);
		REQUIRE(same_name(&rr_a.owner, &rr_b.owner));
		REQUIRE(rr_a.type == rr_b.type && rr_a.class == rr_b.class && rr_a.ttl == rr_b.ttl);
		REQUIRE(rr_a.rdlen == rr_b.rdlen && memcmp(rr_a.rdata, rr_b.rdata, rr_a.rdlen) == 0);
	}
	REQUIRE(r2.pos == w.pos);
	return 0;
}
