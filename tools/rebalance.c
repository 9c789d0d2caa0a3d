/* rebalance: move the blocks whose placement changed (see rebalance.h).
 * Each distinct block hash gets the set of nodes that should hold it (the
 * union over every ref naming it: the first rep writable nodes of its
 * ranking, or its chunk's node in its stripe's ranking); the nodes holding
 * it are asked with HEAD; missing copies are made from a verified GET and
 * checked with HEAD; only after the copy pass, and only where the whole
 * wanted set holds a block, are its copies on other nodes deleted. Writers may go on meanwhile: a block
 * is only ever deleted where the current placement no longer looks. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "node.h"
#include "proc.h"
#include "progress.h"
#include "rebalance.h"

/* One distinct hash: where it should be. */
struct want {
	struct hash h;
	uint64_t mask;          /* bit i: node i of the snapshot should hold it */
	int pin;                /* the placement cannot be met: delete nothing */
	uint64_t now;           /* after the copy pass: nodes known to hold it */
};

struct totals {
	size_t blocks, copies_wanted, copied, deleted, lost, failed;
	uint64_t bytes;
};

static int want_cmp(const void *a, const void *b)
{
	return memcmp(((const struct want *)a)->h.b, ((const struct want *)b)->h.b, HASH_LEN);
}

/* The wanted nodes of every ref's hashes, one entry per occurrence. */
static int wants_build(const struct node_zone *z, const struct blockclient_nodes *ns,
		       struct want **out, size_t *nout, struct err *e)
{
	size_t cap = 0, n = 0, nn = blockclient_nodes_count(ns);
	size_t idx[BLOCKCLIENT_NODES_MAX], wr[BLOCKCLIENT_NODES_MAX];
	struct want *v = NULL;

	for (size_t i = 0; i < z->refs.n; i++)
		cap += record_ref_nhash(&z->refs.v[i]);
	v = calloc(cap > 0 ? cap : 1, sizeof(*v));
	if (v == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	for (size_t i = 0; i < z->refs.n; i++) {
		const struct record_ref *ref = &z->refs.v[i];
		size_t nh = record_ref_nhash(ref), nr, nw = 0;

		/* Blocks rank by their own hash, stripes by the first chunk's. */
		nr = blockclient_nodes_rank(ns, &ref->h[0], idx, nn);
		for (size_t j = 0; j < nr; j++)
			if (blockclient_nodes_weight(ns, idx[j]) > 0)
				wr[nw++] = idx[j];
		if (ref->k == 0) {
			unsigned rep = z->rep[i];

			v[n].h = ref->h[0];
			v[n].pin = nw < rep;
			for (size_t j = 0; j < nw && j < rep; j++)
				v[n].mask |= 1ull << wr[j];
			n++;
			continue;
		}
		for (size_t j = 0; j < nh; j++) {
			v[n].h = ref->h[j];
			v[n].pin = nw < nh;
			if (j < nw)
				v[n].mask |= 1ull << wr[j];
			n++;
		}
	}
	qsort(v, n, sizeof(*v), want_cmp);
	/* Merge equal hashes: a chunk shared by stripes belongs on every node
	 * any of them places it on. */
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && memcmp(v[m - 1].h.b, v[i].h.b, HASH_LEN) == 0) {
			v[m - 1].mask |= v[i].mask;
			v[m - 1].pin |= v[i].pin;
			continue;
		}
		v[m++] = v[i];
	}
	*out = v;
	*nout = m;
	return 0;
}

/* Sleep as long as needed to keep bytes since start under rate bytes/s. */
static void throttle(int64_t start_ms, uint64_t bytes, double rate)
{
	int64_t due;

	if (rate <= 0)
		return;
	due = start_ms + (int64_t)((double)bytes * 1000.0 / rate);
	while (proc_now_ms() < due)
		proc_sleep_ms((int)(due - proc_now_ms() > 100 ? 100 : due - proc_now_ms()));
}

/* Copy one hash to the wanted nodes that lack it; w->now gets its holders. */
static void copy_one(struct blockclient *bc, const struct blockclient_nodes *ns,
		     struct want *w, struct totals *t, int64_t start_ms, double rate, int verbose)
{
	size_t nn = blockclient_nodes_count(ns);
	uint64_t have = 0, now;
	int src = -1;
	void *data = NULL;
	size_t len = 0;
	char hex[HASH_HEX_LEN + 1];

	hash_to_hex(&w->h, hex);
	for (size_t i = 0; i < nn; i++) {
		struct err why = { 0 };

		if (blockclient_node_head(bc, ns, i, &w->h, NULL, &why) == 0)
			have |= 1ull << i;
	}
	t->copies_wanted += (size_t)__builtin_popcountll(w->mask);
	if (have == 0) {
		t->lost++;
		fprintf(stderr, "rebalance: %s: no node holds it\n", hex);
		return;
	}
	now = have;
	for (size_t i = 0; i < nn; i++) {
		struct err why = { 0 };

		if (!(w->mask & (1ull << i)) || (have & (1ull << i)))
			continue;
		/* A verified copy from any holder, once per block. */
		for (size_t j = 0; data == NULL && j < nn; j++) {
			if (!(have & (1ull << j)))
				continue;
			if (blockclient_node_get(bc, ns, j, &w->h, NULL, 0, &data, &len, &why) == 0)
				src = (int)j;
		}
		if (data == NULL) {
			t->failed++;
			fprintf(stderr, "rebalance: %s: no readable copy: %s\n", hex, why.msg);
			return;
		}
		if (blockclient_node_put(bc, ns, i, &w->h, data, len, &why) < 0 ||
		    blockclient_node_head(bc, ns, i, &w->h, NULL, &why) < 0) {
			t->failed++;
			fprintf(stderr, "rebalance: %s: copy to %s: %s\n", hex,
				blockclient_nodes_id(ns, i), why.msg);
			continue;
		}
		if (verbose)
			printf("copy %s %s -> %s\n", hex, blockclient_nodes_id(ns, (size_t)src),
			       blockclient_nodes_id(ns, i));
		now |= 1ull << i;
		t->copied++;
		t->bytes += len;
		throttle(start_ms, t->bytes, rate);
	}
	free(data);
	w->now = now;
}

/* Delete the copies of one hash outside its wanted nodes, only if every
 * wanted node holds it. */
static void delete_one(struct blockclient *bc, const struct blockclient_nodes *ns,
		       const struct want *w, struct totals *t, int verbose)
{
	size_t nn = blockclient_nodes_count(ns);
	uint64_t now = w->now;
	char hex[HASH_HEX_LEN + 1];

	hash_to_hex(&w->h, hex);
	if (w->pin || now == 0 || (w->mask & ~now) != 0)
		return;
	for (size_t i = 0; i < nn; i++) {
		struct err why = { 0 };

		if (!(now & (1ull << i)) || (w->mask & (1ull << i)))
			continue;
		if (blockclient_node_delete(bc, ns, i, &w->h, 0, &why) < 0) {
			t->failed++;
			fprintf(stderr, "rebalance: %s: delete on %s: %s\n", hex,
				blockclient_nodes_id(ns, i), why.msg);
			continue;
		}
		if (verbose)
			printf("delete %s on %s\n", hex, blockclient_nodes_id(ns, i));
		t->deleted++;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsfsctl rebalance --dir DIR [--rate MB/s] [--verbose]\n"
		"\n"
		"Walk the zone (AXFR), and for every referenced block copy it to the\n"
		"nodes the current _blockd._tcp SRV set places it on (verified), then\n"
		"delete it from nodes that should no longer hold it. --rate bounds the\n"
		"bytes copied per second (MB = 10^6 bytes; default unbounded).\n");
}

int rebalance_cmd(int argc, char **argv, struct err *e)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct blockclient *bc = NULL;
	struct blockclient_nodes *ns = NULL;
	struct want *v = NULL;
	struct totals t = { 0 };
	struct progress pg;
	struct node_zone z;
	const char *dir = NULL;
	double rate = 0;
	int verbose = 0, c, r;
	size_t n = 0;
	int64_t start;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'r': rate = atof(optarg) * 1e6; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (dir == NULL || optind != argc || rate < 0) {
		usage(stderr);
		return 2;
	}
	r = node_zone_open(&z, dir, 1, e);
	if (r < 0)
		return r;
	if (z.n == 0 || z.n > 64) {
		r = err_set(e, z.n == 0 ? -ENOENT : -E2BIG, "_blockd._tcp.%s has %zu nodes (1..64 "
			    "supported)", z.zone, z.n);
		goto fail;
	}
	r = node_zone_client(&z, &bc, e);
	if (r < 0)
		goto fail;
	ns = blockclient_nodes_get(bc);
	r = wants_build(&z, ns, &v, &n, e);
	if (r < 0)
		goto fail;
	t.blocks = n;
	/* Two passes: every copy is made before any copy is deleted, so while
	 * it runs each block (each stripe, whose chunks all move when a node
	 * before them in the ranking leaves) is whole at its old places or at
	 * its new ones, and readers find it at one or the other. */
	progress_init(&pg, stderr, "rebalance: copy", "blocks", n);
	start = proc_now_ms();
	for (size_t i = 0; i < n; i++) {
		copy_one(bc, ns, &v[i], &t, start, rate, verbose);
		progress_add(&pg, 1);
	}
	progress_end(&pg);
	progress_init(&pg, stderr, "rebalance: delete", "blocks", n);
	for (size_t i = 0; i < n; i++) {
		delete_one(bc, ns, &v[i], &t, verbose);
		progress_add(&pg, 1);
	}
	progress_end(&pg);
	printf("rebalance: %zu blocks, %zu copies wanted, %zu copied (%.3f of the copies), "
	       "%zu deleted, %.1f MiB moved, %zu lost, %zu failed\n", t.blocks, t.copies_wanted,
	       t.copied, t.copies_wanted > 0 ? (double)t.copied / (double)t.copies_wanted : 0.0,
	       t.deleted, (double)t.bytes / 1048576.0, t.lost, t.failed);
	r = t.lost > 0 || t.failed > 0 ? 1 : 0;
fail:
	free(v);
	blockclient_nodes_put(ns);
	blockclient_free(bc);
	node_zone_release(&z);
	return r;
}
