/* node: the block daemons of a cluster's zone, listed and changed with
 * signed UPDATEs (see node.h). The zone, not cluster.env, is the truth:
 * it is what every client places blocks by. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "axfr.h"
#include "cluster.h"
#include "env.h"
#include "node.h"
#include "nodereg.h"
#include "wire.h"

#define NODE_TIMEOUT_MS 10000

/* ------------------------------------------------------- the zone view --- */

struct walk {
	struct node_zone *z;
	int want_refs;
	struct wire_name srv;   /* _blockd._tcp.Z */
	struct err *e;
	char *text;             /* RECORD_TEXT_LONG_MAX + 1 */
};

static struct node_info *node_find(struct node_zone *z, const char *id)
{
	for (size_t i = 0; i < z->n; i++)
		if (strcasecmp(z->v[i].id, id) == 0)
			return &z->v[i];
	return NULL;
}

/* The inode a record belongs to, from its owner: 1 for `<ino>.i.Z`, 2 for
 * `<page>.<ino>.m.Z`, 0 for anything else. */
static int owner_ino(const struct wire_rr *rr, const char *zone, uint64_t *ino)
{
	char name[WIRE_NAME_MAX * 4 + 2], *end;
	size_t nl, zl = strlen(zone);
	unsigned long long a, b;

	if (wire_name_to_text(&rr->owner, name, sizeof(name)) < 0)
		return 0;
	nl = strlen(name);
	if (nl <= zl + 1 || strcasecmp(name + nl - zl, zone) != 0 || name[nl - zl - 1] != '.')
		return 0;
	name[nl - zl - 1] = '\0';
	a = strtoull(name, &end, 10);
	if (end == name)
		return 0;
	if (strcmp(end, ".i") == 0) {
		*ino = a;
		return 1;
	}
	if (*end != '.')
		return 0;
	b = strtoull(end + 1, &end, 10);
	if (strcmp(end, ".m") != 0)
		return 0;
	*ino = b;
	return 2;
}

static int grow(void **p, size_t *alloc, size_t need, size_t size, struct err *e)
{
	size_t na = *alloc > 0 ? *alloc : 64;
	void *q;

	if (need <= *alloc)
		return 0;
	while (na < need)
		na *= 2;
	q = realloc(*p, na * size);
	if (q == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	*p = q;
	*alloc = na;
	return 0;
}

/* The refs of one inode or page record, with the inode they belong to; an
 * inode's rep= is remembered for node_zone_reps. */
static int walk_txt(struct walk *w, const struct wire_rr *rr)
{
	struct node_zone *z = w->z;
	size_t len = 0, first = z->refs.n, ralloc;
	unsigned rep = 0;
	const char *t, *end;
	uint64_t ino = 0;
	int kind = owner_ino(rr, z->zone, &ino), r;

	if (kind == 0)
		return 0;
	for (size_t o = 0; o < rr->rdlen; ) {
		size_t sl = rr->rdata[o];

		if (o + 1 + sl > rr->rdlen || len + sl > RECORD_TEXT_LONG_MAX)
			return 0;       /* not ours */
		memcpy(w->text + len, rr->rdata + o + 1, sl);
		len += sl;
		o += 1 + sl;
	}
	w->text[len] = '\0';
	if (strncmp(w->text, "v=1 ", 4) != 0)
		return 0;
	for (t = w->text; *t != '\0'; t = end) {
		t += strspn(t, " ");
		end = t + strcspn(t, " ");
		if (kind == 1 && end - t > 4 && strncmp(t, "rep=", 4) == 0)
			rep = (unsigned)atoi(t + 4);
		if (end - t > 2 && (strncmp(t, "b=", 2) == 0 || strncmp(t, "s=", 2) == 0)) {
			struct err why = { 0 };
			char owner[WIRE_NAME_MAX * 4 + 2];

			r = record_ref_parse(&z->refs, t, (size_t)(end - t), &why);
			if (r == -ENOMEM)
				return err_set(w->e, r, "out of memory");
			if (r < 0) {
				/* fsck's to report; the rest of the zone still counts. */
				wire_name_to_text(&rr->owner, owner, sizeof(owner));
				fprintf(stderr, "dnsfsctl: %s: %s (record skipped)\n", owner, why.msg);
				for (size_t i = first; i < z->refs.n; i++)
					free(z->refs.v[i].h);
				z->refs.n = first;
				return 0;
			}
		}
	}
	if (rep >= 1) {
		r = grow((void **)&z->irep, &z->irep_alloc, z->nirep + 1, sizeof(*z->irep), w->e);
		if (r < 0)
			return r;
		z->irep[z->nirep++] = (struct node_irep){ ino, rep };
	}
	ralloc = z->rep_alloc;
	r = grow((void **)&z->rep, &ralloc, z->refs.n, sizeof(*z->rep), w->e);
	if (r == 0)
		r = grow((void **)&z->ino, &z->rep_alloc, z->refs.n, sizeof(*z->ino), w->e);
	if (r < 0)
		return r;
	for (size_t i = first; i < z->refs.n; i++)
		z->ino[i] = ino;
	return 0;
}

static int irep_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct node_irep *)a)->ino, y = ((const struct node_irep *)b)->ino;

	return x < y ? -1 : x > y;
}

/* Every ref's copies: its inode's rep=, wherever the inode came in the zone. */
static void node_zone_reps(struct node_zone *z)
{
	qsort(z->irep, z->nirep, sizeof(*z->irep), irep_cmp);
	for (size_t i = 0; i < z->refs.n; i++) {
		struct node_irep key = { z->ino[i], 0 }, *f;

		f = z->nirep > 0 ? bsearch(&key, z->irep, z->nirep, sizeof(key), irep_cmp) : NULL;
		z->rep[i] = f != NULL ? f->rep : NODE_REP_DEFAULT;
	}
}

static int walk_rr(const struct wire_rr *rr, void *arg)
{
	struct walk *w = arg;
	struct node_zone *z = w->z;
	char name[WIRE_NAME_MAX * 4 + 2];

	if (rr->type == WIRE_T_SRV && wire_name_equal(&rr->owner, &w->srv) && rr->rdlen > 7) {
		struct wire_name tn;
		struct wire_rd rd;
		struct node_info *ni;

		wire_rd_init(&rd, rr->rdata + 6, rr->rdlen - 6u);
		if (wire_rd_name(&rd, &tn) < 0 || wire_name_to_text(&tn, name, sizeof(name)) < 0 ||
		    strlen(name) >= sizeof(ni->id))
			return 0;
		if (z->n >= BLOCKCLIENT_NODES_MAX)
			return err_set(w->e, -E2BIG, "more than %d nodes", BLOCKCLIENT_NODES_MAX);
		ni = node_find(z, name);
		if (ni == NULL) {
			ni = &z->v[z->n++];
			memset(ni, 0, sizeof(*ni));
			memcpy(ni->id, name, strlen(name) + 1);
		}
		ni->weight = rr->rdata[2] << 8 | rr->rdata[3];
		ni->port = rr->rdata[4] << 8 | rr->rdata[5];
		return 0;
	}
	if (rr->type == WIRE_T_TXT && w->want_refs)
		return walk_txt(w, rr);
	return 0;
}

/* Second pass over the A records: the SRV set may come after them. */
static int addr_rr(const struct wire_rr *rr, void *arg)
{
	struct node_zone *z = arg;
	char name[WIRE_NAME_MAX * 4 + 2];
	struct node_info *ni;

	if (rr->type != WIRE_T_A || rr->rdlen != 4 ||
	    wire_name_to_text(&rr->owner, name, sizeof(name)) < 0)
		return 0;
	for (char *p = name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	ni = node_find(z, name);
	if (ni != NULL)
		snprintf(ni->addr, sizeof(ni->addr), "%u.%u.%u.%u", rr->rdata[0], rr->rdata[1],
			 rr->rdata[2], rr->rdata[3]);
	return 0;
}

int node_zone_open(struct node_zone *z, const char *dir, int want_refs, struct err *e)
{
	struct walk w = { .z = z, .want_refs = want_refs, .e = e };
	struct env env;
	char path[4096];
	const char *v;
	int r;

	memset(z, 0, sizeof(*z));
	z->dir = dir;
	env_init(&env);
	snprintf(path, sizeof(path), "%s/cluster.env", dir);
	r = env_read(&env, path, e);
	if (r < 0)
		goto fail;
	if (env_get(&env, "DNSFS_ZONE") == NULL || env_get(&env, "DNSFS_MDS_ADDR") == NULL ||
	    env_get(&env, "DNSFS_MDS_PORT") == NULL || env_get(&env, "DNSFS_TSIG_KEYFILE") == NULL) {
		r = err_set(e, -EINVAL, "%s: DNSFS_ZONE, DNSFS_MDS_ADDR, DNSFS_MDS_PORT or "
			    "DNSFS_TSIG_KEYFILE is missing", path);
		goto fail;
	}
	snprintf(z->zone, sizeof(z->zone), "%s", env_get(&env, "DNSFS_ZONE"));
	snprintf(z->mds_addr, sizeof(z->mds_addr), "%s", env_get(&env, "DNSFS_MDS_ADDR"));
	z->mds_port = atoi(env_get(&env, "DNSFS_MDS_PORT"));
	r = tsig_keyring_load(&z->kr, env_get(&env, "DNSFS_TSIG_KEYFILE"), e);
	if (r == 0 && z->kr.n == 0)
		r = err_set(e, -ENOKEY, "%s: no key", env_get(&env, "DNSFS_TSIG_KEYFILE"));
	if (r < 0)
		goto fail;
	v = env_get(&env, "DNSFS_BLOCK_KEYFILE");
	if (v != NULL) {
		r = tsig_keyring_load(&z->bkr, v, e);
		if (r < 0)
			goto fail;
	}
	r = wire_name_from_text(&w.srv, z->zone, e);
	if (r < 0)
		goto fail;
	if (wire_name_prepend(&w.srv, "_tcp", 4) < 0 || wire_name_prepend(&w.srv, "_blockd", 7) < 0) {
		r = err_set(e, -ENAMETOOLONG, "zone %s: name too long", z->zone);
		goto fail;
	}
	w.text = malloc(RECORD_TEXT_LONG_MAX + 1);
	if (w.text == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	r = axfr_walk(z->mds_addr, z->mds_port, z->zone, &z->kr.keys[0], NODE_TIMEOUT_MS,
		      walk_rr, &w, e);
	/* The zone is small next to its blocks: a second transfer for the
	 * targets' addresses keeps the first one free of ordering rules. */
	if (r == 0)
		r = axfr_walk(z->mds_addr, z->mds_port, z->zone, &z->kr.keys[0], NODE_TIMEOUT_MS,
			      addr_rr, z, e);
	if (r == 0)
		node_zone_reps(z);
fail:
	free(w.text);
	env_release(&env);
	if (r < 0)
		node_zone_release(z);
	return r;
}

void node_zone_release(struct node_zone *z)
{
	tsig_keyring_release(&z->kr);
	tsig_keyring_release(&z->bkr);
	record_refs_release(&z->refs);
	free(z->rep);
	free(z->ino);
	free(z->irep);
	z->rep = NULL;
	z->ino = NULL;
	z->irep = NULL;
	z->rep_alloc = z->irep_alloc = z->nirep = 0;
	z->n = 0;
}

int node_zone_client(const struct node_zone *z, struct blockclient **out, struct err *e)
{
	struct blockclient_node nv[BLOCKCLIENT_NODES_MAX];
	char addrs[BLOCKCLIENT_NODES_MAX][BLOCKCLIENT_ADDR_MAX];
	struct blockclient_opts bo;
	int r;

	blockclient_opts_init(&bo);
	bo.key = z->bkr.n > 0 ? &z->bkr.keys[0] : NULL;
	r = blockclient_new(out, &bo, e);
	if (r < 0)
		return r;
	for (size_t i = 0; i < z->n; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "%s:%d", z->v[i].addr, z->v[i].port);
		nv[i] = (struct blockclient_node){ z->v[i].id, addrs[i], (uint32_t)z->v[i].weight };
	}
	r = blockclient_set_nodes(*out, nv, z->n, e);
	if (r < 0) {
		blockclient_free(*out);
		*out = NULL;
	}
	return r;
}

/* ------------------------------------------------------------ commands --- */

/* "blockd-3" or the full id. */
static struct node_info *node_lookup(struct node_zone *z, const char *arg, struct err *e)
{
	size_t al = strlen(arg);

	for (size_t i = 0; i < z->n; i++)
		if (strcasecmp(z->v[i].id, arg) == 0 ||
		    (strncasecmp(z->v[i].id, arg, al) == 0 && z->v[i].id[al] == '.'))
			return &z->v[i];
	err_set(e, -ENOENT, "no node %s in _blockd._tcp.%s", arg, z->zone);
	return NULL;
}

static int update(struct node_zone *z, const struct nodereg_node *v, size_t n, struct err *e)
{
	return nodereg_update(z->mds_addr, z->mds_port, z->zone, &z->kr.keys[0], v, n,
			      NODEREG_TTL, NODE_TIMEOUT_MS, e);
}

static int cmd_ls(struct node_zone *z)
{
	printf("%-32s %-22s %6s  %s\n", "NODE", "ADDRESS", "WEIGHT", "STATE");
	for (size_t i = 0; i < z->n; i++) {
		char a[96];

		snprintf(a, sizeof(a), "%s:%d", z->v[i].addr, z->v[i].port);
		printf("%-32s %-22s %6d  %s\n", z->v[i].id, a, z->v[i].weight,
		       z->v[i].weight == 0 ? "draining" : "active");
	}
	return 0;
}

/* Does node ni hold any referenced block? The count, or -errno. */
static long held_blocks(struct node_zone *z, struct node_info *ni, struct err *e)
{
	struct blockclient *bc = NULL;
	struct blockclient_nodes *ns;
	long held = 0, idx = -1;
	int r;

	r = node_zone_client(z, &bc, e);
	if (r < 0)
		return r;
	ns = blockclient_nodes_get(bc);
	for (size_t i = 0; i < blockclient_nodes_count(ns); i++)
		if (strcasecmp(blockclient_nodes_id(ns, i), ni->id) == 0)
			idx = (long)i;
	for (size_t i = 0; idx >= 0 && i < z->refs.n; i++) {
		const struct record_ref *ref = &z->refs.v[i];

		for (size_t j = 0; j < record_ref_nhash(ref); j++) {
			struct err why = { 0 };

			if (blockclient_node_head(bc, ns, (size_t)idx, &ref->h[j], NULL, &why) == 0)
				held++;
		}
	}
	blockclient_nodes_put(ns);
	blockclient_free(bc);
	return held;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: dnsfsctl node ls --dir DIR\n"
		"       dnsfsctl node add --dir DIR [--id ID --addr IP:PORT] [--weight W]\n"
		"       dnsfsctl node drain --dir DIR NODE\n"
		"       dnsfsctl node remove --dir DIR [--force] NODE\n"
		"\n"
		"The block daemons of the cluster's zone (_blockd._tcp SRV + A), changed\n"
		"with signed UPDATEs. `add` without --id starts blockd-N+1 in DIR the way\n"
		"`cluster up` does and registers it. `drain` sets the SRV weight to 0: the\n"
		"node is read, never written; `dnsfsctl rebalance` then moves its blocks\n"
		"off. `remove` refuses while the node holds a referenced block (--force\n"
		"removes it anyway). NODE is an SRV target or its first label (blockd-3).\n");
}

int node_cmd(int argc, char **argv, struct err *e)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "id", required_argument, NULL, 'i' },
		{ "addr", required_argument, NULL, 'a' },
		{ "weight", required_argument, NULL, 'w' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *id = NULL, *addr = NULL, *sub;
	int weight = 10, force = 0, c, r;
	struct node_zone z;
	struct node_info *ni;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	optind = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'i': id = optarg; break;
		case 'a': addr = optarg; break;
		case 'w': weight = atoi(optarg); break;
		case 'f': force = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (dir == NULL || weight < 0 || weight > 65535) {
		usage(stderr);
		return 2;
	}
	if ((strcmp(sub, "drain") == 0 || strcmp(sub, "remove") == 0) && optind + 1 != argc - 1) {
		usage(stderr);
		return 2;
	}
	r = node_zone_open(&z, dir, strcmp(sub, "remove") == 0, e);
	if (r < 0)
		return r;
	if (strcmp(sub, "ls") == 0) {
		r = cmd_ls(&z);
	} else if (strcmp(sub, "add") == 0) {
		struct cluster_node cn;
		struct nodereg_node nv;

		if (id == NULL) {
			r = cluster_blockd_add(dir, stdout, &cn, e);
			if (r < 0)
				goto fail;
		} else {
			const char *colon = addr != NULL ? strrchr(addr, ':') : NULL;

			if (colon == NULL || (size_t)(colon - addr) >= sizeof(cn.addr)) {
				r = err_set(e, -EINVAL, "--id needs --addr IPv4:PORT");
				goto fail;
			}
			snprintf(cn.id, sizeof(cn.id), "%s", id);
			memcpy(cn.addr, addr, (size_t)(colon - addr));
			cn.addr[colon - addr] = '\0';
			cn.port = atoi(colon + 1);
		}
		cn.weight = weight;
		nv = (struct nodereg_node){ cn.id, cn.addr, (uint16_t)cn.port, (uint16_t)cn.weight,
					    NODEREG_ADD };
		r = update(&z, &nv, 1, e);
		if (r == 0)
			printf("added %s %s:%d weight %d\n", cn.id, cn.addr, cn.port, cn.weight);
	} else if (strcmp(sub, "drain") == 0) {
		struct nodereg_node nv[2];

		ni = node_lookup(&z, argv[optind + 1], e);
		if (ni == NULL) {
			r = -ENOENT;
			goto fail;
		}
		nv[0] = (struct nodereg_node){ ni->id, ni->addr, (uint16_t)ni->port,
					       (uint16_t)ni->weight, NODEREG_DEL_SRV };
		nv[1] = (struct nodereg_node){ ni->id, ni->addr, (uint16_t)ni->port, 0, NODEREG_ADD };
		r = ni->weight == 0 ? 0 : update(&z, nv, 2, e);
		if (r == 0)
			r = cluster_blockd_set_weight(dir, ni->id, 0, e);
		if (r >= 0) {
			printf("draining %s (weight 0); `dnsfsctl rebalance --dir %s` moves its "
			       "blocks off\n", ni->id, dir);
			r = 0;
		}
	} else if (strcmp(sub, "remove") == 0) {
		struct nodereg_node nv;
		long held;

		ni = node_lookup(&z, argv[optind + 1], e);
		if (ni == NULL) {
			r = -ENOENT;
			goto fail;
		}
		held = force ? 0 : held_blocks(&z, ni, e);
		if (held < 0) {
			r = (int)held;
			goto fail;
		}
		if (held > 0) {
			r = err_set(e, -EBUSY, "%s still holds %ld referenced blocks; drain it and run "
				    "`dnsfsctl rebalance` first (or --force)", ni->id, held);
			goto fail;
		}
		nv = (struct nodereg_node){ ni->id, ni->addr, (uint16_t)ni->port,
					    (uint16_t)ni->weight, NODEREG_DEL };
		r = update(&z, &nv, 1, e);
		if (r == 0)
			r = cluster_blockd_set_weight(dir, ni->id, -1, e);
		if (r >= 0) {
			printf("removed %s\n", ni->id);
			r = 0;
		}
	} else {
		usage(stderr);
		r = 2;
	}
fail:
	node_zone_release(&z);
	return r;
}
