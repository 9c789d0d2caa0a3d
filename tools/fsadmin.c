/* fsadmin: `dnsfsctl init|ls|stat|cat|put|rm|place|info` (see fsadmin.h).
 * Reads are direct queries to the mds (lib/mdc), content goes through
 * lib/blockclient, and every change is ONE signed UPDATE with the
 * prerequisites the mount uses (fuse-client/fs.c), so both can run at once. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "block.h"
#include "blockclient.h"
#include "dirbucket.h"
#include "env.h"
#include "fsadmin.h"
#include "fsmeta.h"
#include "mdc.h"
#include "progress.h"
#include "record.h"
#include "tsig.h"
#include "wire.h"

#define FSMETA_RDATA_MAX (RECORD_TEXT_LONG_MAX + RECORD_STRS_FOR(RECORD_TEXT_LONG_MAX) + 16)
#define FSA_TTL 1               /* TTL of the records written, as the mount's */
#define FSA_CHUNK (4u << 20)    /* the mount's chunk (fuse-client/ofile.h) */
#define FSA_EC_K 4              /* its default stripe of a full chunk */
#define FSA_EC_M 2
#define FSA_REP 3               /* its default copies (-o rep) */
#define FSA_TRIES 16            /* compare-and-swap attempts of one change */
#define FSMETA_ROOT 1

/* An open cluster: the mds, and the block daemons when content is moved. */
struct fsa {
	struct mdc mdc;
	int mdc_ok;
	struct block_client *blocks;    /* NULL unless asked for */
};

static struct record_time now_time(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (struct record_time){ ts.tv_sec, (uint32_t)ts.tv_nsec };
}

/* ------------------------------------------------------------ opening --- */

static int fsa_open(struct fsa *f, const char *dir, int blocks, struct err *e)
{
	const char *zone, *addr, *port, *key;
	char path[4096];
	struct env env;
	int r;

	memset(f, 0, sizeof(*f));
	env_init(&env);
	snprintf(path, sizeof(path), "%s/cluster.env", dir);
	r = env_read(&env, path, e);
	if (r < 0)
		goto fail;
	zone = env_get(&env, "DNSFS_ZONE");
	addr = env_get(&env, "DNSFS_MDS_ADDR");
	port = env_get(&env, "DNSFS_MDS_PORT");
	key = env_get(&env, "DNSFS_TSIG_KEYFILE");
	if (zone == NULL || addr == NULL || port == NULL) {
		r = err_set(e, -EINVAL, "%s: no DNSFS_ZONE, DNSFS_MDS_ADDR or DNSFS_MDS_PORT", path);
		goto fail;
	}
	r = mdc_init(&f->mdc, zone, addr, atoi(port), key, e);
	if (r < 0)
		goto fail;
	f->mdc_ok = 1;
	if (blocks)
		r = block_client_open(&f->blocks, dir, e);
fail:
	env_release(&env);
	return r;
}

static void fsa_close(struct fsa *f)
{
	if (f->mdc_ok)
		mdc_release(&f->mdc);
	block_client_close(f->blocks);
}

/* -------------------------------------------------------- presentation --- */

static void mode_string(int type, uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";

	out[0] = type == RECORD_REG ? '-' : (char)type;
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & 04000)
		out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000)
		out[6] = (mode & 0010) ? 's' : 'S';
	if (mode & 01000)
		out[9] = (mode & 0001) ? 't' : 'T';
	out[10] = '\0';
}

static void time_string(const struct record_time *t, char *buf, size_t len)
{
	time_t s = (time_t)t->sec;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

/* One `ls -l` line: mode nlink uid gid size mtime(UTC) name [-> target]. */
static void ls_line(const struct fsmeta_inode *in, const char *name)
{
	char mode[11], when[32];

	mode_string(in->r.type, in->r.mode, mode);
	time_string(&in->r.mtime, when, sizeof(when));
	printf("%s %" PRIu32 " %" PRIu32 " %" PRIu32 " %" PRIu64 " %s %s", mode, in->r.nlink,
	       in->r.uid, in->r.gid, in->r.size, when, name);
	if (in->r.type == RECORD_LNK && in->r.target != NULL)
		printf(" -> %s", in->r.target);
	printf("\n");
}

/* ---------------------------------------------------------- arguments --- */

/* --dir DIR anywhere (else $DNSFS_DIR), the rest positional. Returns the
 * count of positionals or -1 for a usage error. */
static int args(int argc, char **argv, const char **dir, const char **pos, int max)
{
	int n = 0;

	*dir = getenv("DNSFS_DIR");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			*dir = argv[++i];
		else if (strncmp(argv[i], "--dir=", 6) == 0)
			*dir = argv[i] + 6;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			return -1;
		else if (n < max)
			pos[n++] = argv[i];
		else
			return -1;
	}
	return *dir != NULL ? n : -1;
}

static int usage(const char *cmd, const char *what)
{
	fprintf(stderr, "usage: dnsfsctl %s --dir DIR %s\n", cmd, what);
	return 2;
}

/* ----------------------------------------------------------------- ls --- */

int fsadmin_ls_cmd(int argc, char **argv, struct err *e)
{
	const char *dir, *pos[1] = { "/" };
	struct fsmeta_inode *in = NULL, *child = NULL;
	struct fsmeta_entries ents = { 0 };
	struct fsa f;
	int n = args(argc, argv, &dir, pos, 1), r;

	if (n < 0)
		return usage("ls", "[PATH]");
	r = fsa_open(&f, dir, 0, e);
	if (r < 0)
		goto fail;
	in = fsmeta_inode_new();
	child = fsmeta_inode_new();
	if (in == NULL || child == NULL) {
		r = err_set(e, -ENOMEM, "out of memory");
		goto fail;
	}
	if ((r = fsmeta_path_resolve(&f.mdc, pos[0], in, e)) < 0)
		goto fail;
	if (in->r.type != RECORD_DIR) {
		ls_line(in, pos[0]);
		goto fail;
	}
	if ((r = fsmeta_dir_entries(&f.mdc, in, &ents, e)) < 0)
		goto fail;
	for (size_t i = 0; i < ents.n; i++) {
		r = fsmeta_inode_get(&f.mdc, ents.v[i].ino, child, e);
		if (r == -ENOENT) {     /* removed since the listing was read */
			r = 0;
			continue;
		}
		if (r < 0)
			goto fail;
		ls_line(child, ents.v[i].name);
	}
fail:
	fsmeta_entries_release(&ents);
	fsmeta_inode_free(in);
	fsmeta_inode_free(child);
	fsa_close(&f);
	return r;
}

/* --------------------------------------------------------------- stat --- */

static void print_time(const char *key, const struct record_time *t)
{
	char when[32];

	time_string(t, when, sizeof(when));
	printf("%s: %" PRId64 ".%09" PRIu32 " (%s UTC)\n", key, t->sec, t->nsec, when);
}

int fsadmin_stat_cmd(int argc, char **argv, struct err *e)
{
	const char *dir, *pos[1];
	struct fsmeta_inode *in = fsmeta_inode_new();
	char mode[11];
	struct fsa f;
	int n = args(argc, argv, &dir, pos, 1), r;

	if (n != 1) {
		fsmeta_inode_free(in);
		return usage("stat", "PATH");
	}
	r = fsa_open(&f, dir, 0, e);
	if (r == 0 && in == NULL)
		r = err_set(e, -ENOMEM, "out of memory");
	if (r == 0)
		r = fsmeta_path_resolve(&f.mdc, pos[0], in, e);
	if (r == 0) {
		const struct record_inode *x = &in->r;

		mode_string(x->type, x->mode, mode);
		printf("path: %s\nino: %" PRIu64 "\ntype: %c\nmode: %04o %s\nnlink: %" PRIu32
		       "\nuid: %" PRIu32 "\ngid: %" PRIu32 "\nsize: %" PRIu64 "\n",
		       pos[0], in->ino, x->type, (unsigned)x->mode, mode, x->nlink, x->uid, x->gid,
		       x->size);
		print_time("mtime", &x->mtime);
		print_time("ctime", &x->ctime);
		print_time("atime", &x->atime);
		printf("ver: %" PRIu64 "\n", x->ver);
		if (x->policy.kind == RECORD_POLICY_REP)
			printf("policy: rep=%u\n", x->policy.rep);
		else if (x->policy.kind == RECORD_POLICY_EC)
			printf("policy: ec=%u+%u\n", x->policy.k, x->policy.m);
		if (x->type == RECORD_REG)
			printf("content: %s (%zu refs in the inode, %" PRIu64 " block-map pages)\n",
			       x->datalen > 0 ? "inline" : x->size == 0 ? "empty" : "blocks",
			       x->refs.n, x->pages);
		if (x->type == RECORD_DIR)
			printf("buckets: %" PRIu32 "\n", x->buckets > 0 ? x->buckets : 1);
		if (x->type == RECORD_LNK)
			printf("target: %s\n", x->target);
	}
	fsmeta_inode_free(in);
	fsa_close(&f);
	return r;
}

/* ---------------------------------------------------------------- cat --- */

static int write_full(int fd, const void *p, size_t n, struct err *e)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t k = write(fd, b, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_set(e, -errno, "write: %s", strerror(errno));
		b += k;
		n -= (size_t)k;
	}
	return 0;
}

static int write_zeros(int fd, uint64_t n, struct err *e)
{
	static const uint8_t zero[65536];
	int r = 0;

	while (n > 0 && r == 0) {
		size_t k = n < sizeof(zero) ? (size_t)n : sizeof(zero);

		r = write_full(fd, zero, k, e);
		n -= k;
	}
	return r;
}

int fsadmin_cat_cmd(int argc, char **argv, struct err *e)
{
	const char *dir, *pos[1];
	struct fsmeta_inode *in = fsmeta_inode_new();
	struct record_refs refs = { 0 };
	uint8_t *buf = NULL;
	uint64_t at = 0;
	struct fsa f;
	int n = args(argc, argv, &dir, pos, 1), r;

	if (n != 1) {
		fsmeta_inode_free(in);
		return usage("cat", "PATH");
	}
	r = fsa_open(&f, dir, 1, e);
	if (r == 0 && in == NULL)
		r = err_set(e, -ENOMEM, "out of memory");
	if (r == 0)
		r = fsmeta_path_resolve(&f.mdc, pos[0], in, e);
	if (r < 0)
		goto fail;
	if (in->r.type != RECORD_REG) {
		r = err_set(e, in->r.type == RECORD_DIR ? -EISDIR : -EINVAL, "%s: not a regular file",
			    pos[0]);
		goto fail;
	}
	if (in->r.datalen > 0) {
		r = write_full(1, in->r.data, in->r.datalen, e);
		goto fail;
	}
	if ((r = fsmeta_refs_load(&f.mdc, in, &refs, e)) < 0)
		goto fail;
	for (size_t i = 0; r == 0 && i < refs.n; i++) {
		const struct record_ref *x = &refs.v[i];
		uint8_t *b = realloc(buf, (size_t)x->len);

		if (b == NULL) {
			r = err_set(e, -ENOMEM, "out of memory");
			break;
		}
		buf = b;
		r = write_zeros(1, x->off - at, e);    /* a hole */
		if (r == 0)
			r = blockclient_read_ref(block_client_get(f.blocks), x, buf, e); /* verified */
		if (r == 0)
			r = write_full(1, buf, (size_t)x->len, e);
		at = x->off + x->len;
	}
	if (r == 0 && at < in->r.size)
		r = write_zeros(1, in->r.size - at, e);
fail:
	free(buf);
	record_refs_release(&refs);
	fsmeta_inode_free(in);
	fsa_close(&f);
	return r;
}

/* --------------------------------------------------------------- info --- */

int fsadmin_info_cmd(int argc, char **argv, struct err *e)
{
	const char *dir, *pos[1];
	struct fsmeta_inode *in = fsmeta_inode_new();
	char *text = malloc(FSMETA_RDATA_MAX);
	char name[RECORD_NAME_BUF];
	struct fsa f;
	int n = args(argc, argv, &dir, pos, 1), r;

	if (n != 1) {
		fsmeta_inode_free(in);
		free(text);
		return usage("info", "PATH");
	}
	r = fsa_open(&f, dir, 0, e);
	if (r == 0 && (in == NULL || text == NULL))
		r = err_set(e, -ENOMEM, "out of memory");
	if (r == 0)
		r = fsmeta_path_resolve(&f.mdc, pos[0], in, e);
	if (r == 0)
		r = mdc_txt_text(in->rdata, in->rdlen, text, FSMETA_RDATA_MAX, e);
	if (r >= 0) {
		record_name_inode(name, sizeof(name), f.mdc.zone, in->ino);
		printf("%s TXT\n  %s\n", name, text);
		r = 0;
	}
	for (uint64_t p = 0; r == 0 && p < in->r.pages; p++) {
		r = fsmeta_page_text(&f.mdc, in->ino, p, text, FSMETA_RDATA_MAX, e);
		if (r >= 0) {
			record_name_map(name, sizeof(name), f.mdc.zone, in->ino, p);
			printf("%s TXT\n  %s\n", name, text);
			r = 0;
		}
	}
	free(text);
	fsmeta_inode_free(in);
	fsa_close(&f);
	return r;
}

/* -------------------------------------------------------------- place --- */

/* The mds's placement answer for h: "nodes=a,b,... rep=R" into text. */
static int place_text(struct fsa *f, const struct hash *h, char *text, size_t cap,
		      struct err *e)
{
	char name[RECORD_NAME_BUF];
	struct mdc_answer a;
	int r;

	record_name_place(name, sizeof(name), f->mdc.zone, h);
	r = mdc_query(&f->mdc, name, WIRE_T_TXT, &a, e);
	if (r < 0)
		return r;
	r = err_set(e, -EIO, "%s: no placement answer", name);
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].type == WIRE_T_TXT) {
			r = mdc_txt_text(a.v[i].rdata, a.v[i].rdlen, text, cap, e);
			break;
		}
	mdc_answer_release(&a);
	return r < 0 ? r : 0;
}

/* One block: the mds's node list, then each of those nodes asked (HEAD)
 * whether it holds the block. Returns how many hold it. */
static int place_block(struct fsa *f, const struct hash *h, const char *what, struct err *e)
{
	struct blockclient *bc = block_client_get(f->blocks);
	struct blockclient_nodes *ns = blockclient_nodes_get(bc);
	char text[2048], hex[HASH_HEX_LEN + 1], *nodes, *save = NULL;
	int r, holders = 0;

	hash_to_hex(h, hex);
	r = place_text(f, h, text, sizeof(text), e);
	if (r < 0)
		goto fail;
	printf("block %s (%s)\n  place: %s\n", hex, what, text);
	nodes = strstr(text, "nodes=");
	if (nodes != NULL) {
		nodes += 6;
		nodes[strcspn(nodes, " ")] = '\0';
	}
	for (char *id = nodes != NULL ? strtok_r(nodes, ",", &save) : NULL; id != NULL;
	     id = strtok_r(NULL, ",", &save)) {
		size_t i, cnt = blockclient_nodes_count(ns);
		char state[300] = "not a known node";

		for (i = 0; i < cnt && strcasecmp(blockclient_nodes_id(ns, i), id) != 0; i++)
			;
		if (i < cnt) {
			struct err why = { 0 };
			uint64_t size = 0;
			int hr = blockclient_node_head(bc, ns, i, h, &size, &why);

			if (hr == 0) {
				snprintf(state, sizeof(state), "holds it (%" PRIu64 " bytes)", size);
				holders++;
			} else if (hr == -ENOENT) {
				snprintf(state, sizeof(state), "missing");
			} else {
				snprintf(state, sizeof(state), "DOWN (%s)", why.msg);
			}
		}
		printf("  %-32s %-22s %s\n", id, i < cnt ? blockclient_nodes_addr(ns, i) : "-", state);
	}
	printf("  %d node%s hold%s it\n", holders, holders == 1 ? "" : "s", holders == 1 ? "s" : "");
	r = holders;
fail:
	blockclient_nodes_put(ns);
	return r;
}

int fsadmin_place_cmd(int argc, char **argv, struct err *e)
{
	const char *dir, *pos[1];
	struct fsmeta_inode *in = fsmeta_inode_new();
	struct record_refs refs = { 0 };
	struct fsa f;
	int n = args(argc, argv, &dir, pos, 1), r;

	if (n != 1) {
		fsmeta_inode_free(in);
		return usage("place", "PATH");
	}
	r = fsa_open(&f, dir, 1, e);
	if (r == 0 && in == NULL)
		r = err_set(e, -ENOMEM, "out of memory");
	if (r == 0)
		r = fsmeta_path_resolve(&f.mdc, pos[0], in, e);
	if (r == 0)
		r = fsmeta_refs_load(&f.mdc, in, &refs, e);
	if (r == 0 && refs.n == 0)
		printf("%s: no blocks (%s)\n", pos[0],
		       in->r.datalen > 0 ? "content inline in the inode" : "empty or not a file");
	for (size_t i = 0; r >= 0 && i < refs.n; i++) {
		const struct record_ref *x = &refs.v[i];

		for (size_t j = 0; r >= 0 && j < record_ref_nhash(x); j++) {
			char what[160];

			if (x->k == 0)
				snprintf(what, sizeof(what), "bytes %" PRIu64 "..%" PRIu64, x->off,
					 x->off + x->len);
			else
				snprintf(what, sizeof(what), "%s %zu of stripe %u+%u at bytes %" PRIu64
					 "..%" PRIu64, j < x->k ? "data" : "parity",
					 j < x->k ? j + 1 : j - x->k + 1, x->k, x->m, x->off,
					 x->off + x->len);
			r = place_block(&f, &x->h[j], what, e);
		}
	}
	record_refs_release(&refs);
	fsmeta_inode_free(in);
	fsa_close(&f);
	return r < 0 ? r : 0;
}

/* ------------------------------------------------------------ changing --- */

static int txt_rdata(const char *text, uint8_t *buf, struct err *e)
{
	return mdc_txt_rdata(text, strlen(text), buf, FSMETA_RDATA_MAX, e);
}

/* "delete the rrset, add this record" for inode ino into u. */
static int put_inode(struct fsa *f, struct mdc_update *u, uint64_t ino,
		     const struct record_inode *r, struct err *e)
{
	char name[RECORD_NAME_BUF];
	char *text = malloc(RECORD_TEXT_LONG_MAX + 1);
	uint8_t *rd = malloc(FSMETA_RDATA_MAX);
	int n = text != NULL && rd != NULL ? 0 : err_set(e, -ENOMEM, "out of memory");

	if (n == 0)
		n = record_inode_format(r, text, RECORD_TEXT_LONG_MAX + 1, e);
	if (n >= 0)
		n = txt_rdata(text, rd, e);
	if (n >= 0) {
		record_name_inode(name, sizeof(name), f->mdc.zone, ino);
		mdc_upd_del_rrset(u, name, WIRE_T_TXT);
		mdc_upd_add(u, name, WIRE_T_TXT, FSA_TTL, rd, (uint16_t)n);
		n = 0;
	}
	free(text);
	free(rd);
	return n;
}

/* The listing entry rdata of (name, ino, type); its length. */
static int entry_rdata(const char *name, uint64_t ino, int type, uint8_t *rd, struct err *e)
{
	struct record_entry en;
	char text[RECORD_NAME_MAX * 3 + 64];
	int r = record_entry_set(&en, name, strlen(name), ino, type, e);

	if (r == 0)
		r = record_entry_format(&en, text, sizeof(text), e);
	if (r >= 0)
		r = mdc_txt_rdata(text, strlen(text), rd, RECORD_NAME_MAX * 3 + 64, e);
	return r;
}

static void name_entry_bucket(struct fsa *f, char *buf, const struct fsmeta_inode *dir,
			      const char *name)
{
	uint64_t key = dirbucket_key(name, strlen(name));

	record_name_listing(buf, RECORD_NAME_BUF, f->mdc.zone, dir->ino,
			    dirbucket_of(key, dir->r.buckets > 0 ? dir->r.buckets : 1));
}

/* The parent's new version for a create or remove (as the mount's
 * parent_change: nlink += dlink, size += dsize, times now, ver+1). */
static int parent_change(struct fsa *f, struct mdc_update *u, const struct fsmeta_inode *p,
			 int dlink, int64_t dsize, struct err *e)
{
	struct fsmeta_inode *np = fsmeta_inode_new();
	int r = np != NULL ? fsmeta_inode_from_rdata(np, p->ino, p->rdata, p->rdlen, e)
			   : err_set(e, -ENOMEM, "out of memory");

	if (r == 0) {
		np->r.nlink = (uint32_t)((int64_t)np->r.nlink + dlink);
		if (dsize < 0 && (uint64_t)-dsize > np->r.size)
			np->r.size = 0;
		else
			np->r.size = (uint64_t)((int64_t)np->r.size + dsize);
		np->r.mtime = np->r.ctime = now_time();
		np->r.ver = p->r.ver + 1;
		r = put_inode(f, u, p->ino, &np->r, e);
	}
	fsmeta_inode_free(np);
	return r;
}

/* ----------------------------------------------------------------- rm --- */

int fsadmin_rm_cmd(int argc, char **argv, struct err *e)
{
	const char *dir, *pos[1];
	struct fsmeta_inode *p = fsmeta_inode_new(), *c = fsmeta_inode_new();
	char name[RECORD_NAME_MAX + 1], dname[RECORD_NAME_BUF], iname[RECORD_NAME_BUF];
	char pname[RECORD_NAME_BUF], lname[RECORD_NAME_BUF];
	uint8_t ent[RECORD_NAME_MAX * 3 + 64], cname[WIRE_NAME_MAX];
	uint16_t cnamelen = 0;
	struct fsa f;
	int n = args(argc, argv, &dir, pos, 1), r;

	if (n != 1) {
		fsmeta_inode_free(p);
		fsmeta_inode_free(c);
		return usage("rm", "PATH");
	}
	r = fsa_open(&f, dir, 0, e);
	if (r == 0 && (p == NULL || c == NULL))
		r = err_set(e, -ENOMEM, "out of memory");
	for (int t = 0; r == 0 && t < FSA_TRIES; t++) {
		struct mdc_update u;
		int entlen, isdir, rcode;

		if ((r = fsmeta_path_parent(&f.mdc, pos[0], p, name, sizeof(name), e)) < 0 ||
		    (r = fsmeta_dentry_get(&f.mdc, p->ino, name, c, cname, &cnamelen, e)) < 0)
			break;
		isdir = c->r.type == RECORD_DIR;
		if ((entlen = entry_rdata(name, c->ino, c->r.type, ent, e)) < 0) {
			r = entlen;
			break;
		}
		record_name_dentry(dname, sizeof(dname), f.mdc.zone, p->ino, name, strlen(name));
		record_name_inode(iname, sizeof(iname), f.mdc.zone, c->ino);
		record_name_inode(pname, sizeof(pname), f.mdc.zone, p->ino);
		name_entry_bucket(&f, lname, p, name);
		/* the dentry, the inode and the parent exactly as read */
		r = mdc_update_begin(&f.mdc, &u);
		mdc_pre_value(&u, dname, WIRE_T_CNAME, cname, cnamelen);
		mdc_pre_value(&u, iname, WIRE_T_TXT, c->rdata, c->rdlen);
		mdc_pre_value(&u, pname, WIRE_T_TXT, p->rdata, p->rdlen);
		for (uint32_t b = 0; isdir && b < (c->r.buckets > 0 ? c->r.buckets : 1); b++) {
			char bn[RECORD_NAME_BUF];

			record_name_listing(bn, sizeof(bn), f.mdc.zone, c->ino, b);
			mdc_pre_nxrrset(&u, bn, WIRE_T_TXT);    /* empty */
		}
		mdc_upd_del_rrset(&u, dname, WIRE_T_CNAME);
		mdc_upd_del_rr(&u, lname, WIRE_T_TXT, ent, (uint16_t)entlen);
		if (!isdir && c->r.nlink > 1) {
			/* other hard links remain: nlink - 1 */
			c->r.nlink--;
			c->r.ctime = now_time();
			c->r.ver++;
			if (r == 0)
				r = put_inode(&f, &u, c->ino, &c->r, e);
		} else {
			mdc_upd_del_rrset(&u, iname, WIRE_T_TXT);
			for (uint64_t pg = 0; pg < c->r.pages; pg++) {
				char mn[RECORD_NAME_BUF];

				record_name_map(mn, sizeof(mn), f.mdc.zone, c->ino, pg);
				mdc_upd_del_rrset(&u, mn, WIRE_T_TXT);
			}
		}
		if (r == 0)
			r = parent_change(&f, &u, p, isdir ? -1 : 0, -(int64_t)entlen, e);
		if (r == 0)
			r = mdc_update_send(&f.mdc, &u, e);
		rcode = u.rcode;
		mdc_update_release(&u);
		if (r == -ECANCELED && isdir && rcode == WIRE_RC_YXRRSET) {
			r = err_set(e, -ENOTEMPTY, "%s: directory not empty", pos[0]);
			break;
		}
		if (r != -ECANCELED)
			break;
		r = 0;          /* someone changed it meanwhile: read again */
		if (t == FSA_TRIES - 1)
			r = err_set(e, -EIO, "%s: still conflicting after %d tries", pos[0], FSA_TRIES);
	}
	fsmeta_inode_free(p);
	fsmeta_inode_free(c);
	fsa_close(&f);
	return r;
}

/* ---------------------------------------------------------------- put --- */

static int all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static int read_full(int fd, uint8_t *buf, size_t len, size_t *got, struct err *e)
{
	*got = 0;
	while (*got < len) {
		ssize_t k = read(fd, buf + *got, len - *got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_set(e, -errno, "read: %s", strerror(errno));
		if (k == 0)
			break;
		*got += (size_t)k;
	}
	return 0;
}

/* Store one chunk as the mount does (fuse-client/ofile.c chunk_store): a
 * full chunk as a k+m stripe when the policy stripes and enough nodes are
 * writable, otherwise replicated blocks; all zeros is a hole. */
static int chunk_store(struct blockclient *bc, const uint8_t *buf, size_t len, uint64_t off,
		       const struct record_policy *pol, struct record_refs *refs, struct err *e)
{
	unsigned rep = FSA_REP, k = FSA_EC_K, m = FSA_EC_M;
	struct record_refs nr = { 0 };
	struct blockclient_policy p;
	int r;

	if (all_zero(buf, len))
		return 0;
	if (pol->kind == RECORD_POLICY_REP)
		rep = pol->rep, k = 0;
	else if (pol->kind == RECORD_POLICY_EC)
		k = pol->k, m = pol->m;
	p = (struct blockclient_policy){ .rep = rep };
	if (len == FSA_CHUNK && k > 0)
		p = (struct blockclient_policy){ .rep = rep, .k = k, .m = m, .block = FSA_CHUNK / k };
	r = blockclient_write(bc, buf, len, off, &p, &nr, e);
	if (r == -ENOSPC && p.k > 0) {  /* fewer than k+m writable nodes */
		record_refs_release(&nr);
		p = (struct blockclient_policy){ .rep = rep };
		r = blockclient_write(bc, buf, len, off, &p, &nr, e);
	}
	for (size_t i = 0; r == 0 && i < nr.n; i++)
		r = fsmeta_refs_append(refs, &nr.v[i], e);
	record_refs_release(&nr);
	return r;
}

/* Put the new content into nr (inline data, refs in the inode, or block-map
 * pages written into u, as the mount's change_apply) and delete pages of
 * the old version (oldpages) past the new ones. */
static int content_apply(struct fsa *f, struct mdc_update *u, uint64_t ino, uint64_t oldpages,
			 struct record_inode *nr, uint64_t size, const uint8_t *data,
			 const struct record_refs *refs, struct err *e)
{
	uint64_t pages = 0;
	int r = 0;

	free(nr->data);
	nr->data = NULL;
	nr->datalen = 0;
	record_refs_release(&nr->refs);
	nr->pages = 0;
	nr->size = size;
	if (data != NULL && size > 0) {
		r = record_inode_set_data(nr, data, (size_t)size, e);
	} else if (record_refs_nhash(refs) <= RECORD_INLINE_REFS) {
		for (size_t i = 0; r == 0 && i < refs->n; i++)
			r = fsmeta_refs_append(&nr->refs, &refs->v[i], e);
	} else {
		uint8_t *rd = malloc(FSMETA_RDATA_MAX);
		char *text = malloc(RECORD_PAGE_TEXT_MAX + 1);

		r = rd != NULL && text != NULL ? 0 : err_set(e, -ENOMEM, "out of memory");
		for (size_t i = 0; r == 0 && i < refs->n; i += RECORD_PAGE_REFS) {
			struct record_page pg;
			char name[RECORD_NAME_BUF];

			record_page_init(&pg);
			pg.page = pages;
			for (size_t j = i; r == 0 && j < refs->n && j < i + RECORD_PAGE_REFS; j++)
				r = fsmeta_refs_append(&pg.refs, &refs->v[j], e);
			if (r == 0)
				r = record_page_format(&pg, text, RECORD_PAGE_TEXT_MAX + 1, e);
			if (r >= 0)
				r = mdc_txt_rdata(text, (size_t)r, rd, FSMETA_RDATA_MAX, e);
			if (r >= 0) {
				record_name_map(name, sizeof(name), f->mdc.zone, ino, pages);
				mdc_upd_del_rrset(u, name, WIRE_T_TXT);
				mdc_upd_add(u, name, WIRE_T_TXT, FSA_TTL, rd, (uint16_t)r);
				r = 0;
			}
			record_page_release(&pg);
			pages++;
		}
		free(rd);
		free(text);
		nr->pages = pages;
	}
	for (uint64_t p = pages; r == 0 && p < oldpages; p++) {
		char name[RECORD_NAME_BUF];

		record_name_map(name, sizeof(name), f->mdc.zone, ino, p);
		mdc_upd_del_rrset(u, name, WIRE_T_TXT);
	}
	return r;
}

/* A fresh inode number: claim a range <range>.r.Z (prerequisite: the name
 * is not in use) as the mount does, and take its first number. */
static int ino_claim(struct fsa *f, uint64_t *ino, struct err *e)
{
	return fsmeta_range_claim(&f->mdc, "tool=dnsfsctl", FSA_TTL, ino, e);
}

/* What put stores: the content, read and stored before the metadata. */
struct put_content {
	uint64_t size;
	uint8_t *data;                  /* inline content, or NULL */
	struct record_refs refs;
};

static int put_store(struct fsa *f, int fd, const struct record_policy *pol, uint64_t total,
		     struct put_content *pc, struct err *e)
{
	uint8_t *buf = malloc(FSA_CHUNK);
	struct progress pg;
	size_t got;
	int r = buf != NULL ? 0 : err_set(e, -ENOMEM, "out of memory"), shown = 0;

	while (r == 0) {
		if ((r = read_full(fd, buf, FSA_CHUNK, &got, e)) < 0 || got == 0)
			break;
		if (pc->size == 0 && got < FSA_CHUNK && got <= RECORD_INLINE_MAX) {
			/* all of it fits the inode */
			pc->data = buf;
			buf = NULL;
			pc->size = got;
			break;
		}
		if (!shown && total > FSA_CHUNK) {
			progress_init(&pg, stderr, "put", "bytes", total);
			shown = 1;
		}
		r = chunk_store(block_client_get(f->blocks), buf, got, pc->size, pol, &pc->refs, e);
		pc->size += got;
		if (shown)
			progress_add(&pg, got);
		if (got < FSA_CHUNK)
			break;
	}
	if (shown)
		progress_end(&pg);
	free(buf);
	return r;
}

/* ONE UPDATE that makes name in p the content pc: a new inode (dentry,
 * inode, pages, listing entry, parent) or a new version of the file there
 * (prerequisites: dentry and inode as read). -ECANCELED: retry. */
static int put_commit(struct fsa *f, struct fsmeta_inode *p, const char *name,
		      const struct put_content *pc, mode_t mode, uint64_t *newino,
		      struct err *e)
{
	struct fsmeta_inode *c = fsmeta_inode_new();
	char dname[RECORD_NAME_BUF], iname[RECORD_NAME_BUF], pname[RECORD_NAME_BUF];
	char lname[RECORD_NAME_BUF];
	uint8_t cname[WIRE_NAME_MAX], ent[RECORD_NAME_MAX * 3 + 64];
	uint16_t cnamelen = 0;
	struct mdc_update u;
	int r, entlen, exists;

	if (c == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	record_name_dentry(dname, sizeof(dname), f->mdc.zone, p->ino, name, strlen(name));
	record_name_inode(pname, sizeof(pname), f->mdc.zone, p->ino);
	r = fsmeta_dentry_get(&f->mdc, p->ino, name, c, cname, &cnamelen, e);
	if (r < 0 && r != -ENOENT)
		goto fail;
	exists = r == 0;
	if (exists && c->r.type != RECORD_REG) {
		r = err_set(e, c->r.type == RECORD_DIR ? -EISDIR : -EEXIST,
			    "%s: exists and is not a regular file", name);
		goto fail;
	}
	if (!exists) {
		if (*newino == 0 && (r = ino_claim(f, newino, e)) < 0)
			goto fail;
		record_inode_release(&c->r);
		c->ino = *newino;
		c->r.type = RECORD_REG;
		c->r.mode = mode & 07777;
		c->r.uid = getuid();
		c->r.gid = (p->r.mode & S_ISGID) ? p->r.gid : getgid();
		c->r.nlink = 1;
		c->r.atime = now_time();
		c->r.ver = 0;   /* +1 below */
		c->r.policy = p->r.policy;
		c->rdlen = 0;
	}
	record_name_inode(iname, sizeof(iname), f->mdc.zone, c->ino);
	r = mdc_update_begin(&f->mdc, &u);
	if (exists) {
		mdc_pre_value(&u, dname, WIRE_T_CNAME, cname, cnamelen);
		mdc_pre_value(&u, iname, WIRE_T_TXT, c->rdata, c->rdlen);
	} else {
		struct wire_name target;

		mdc_pre_nxdomain(&u, dname);
		mdc_pre_nxdomain(&u, iname);
		mdc_pre_value(&u, pname, WIRE_T_TXT, p->rdata, p->rdlen);
		if (r == 0)
			r = wire_name_from_text(&target, iname, e);
		if (r == 0)
			mdc_upd_add(&u, dname, WIRE_T_CNAME, FSA_TTL, target.b, target.len);
	}
	if (r == 0)
		r = content_apply(f, &u, c->ino, exists ? c->r.pages : 0, &c->r, pc->size, pc->data,
				  &pc->refs, e);
	c->r.mtime = c->r.ctime = now_time();
	c->r.ver++;
	if (r == 0)
		r = put_inode(f, &u, c->ino, &c->r, e);
	if (r == 0 && !exists) {
		name_entry_bucket(f, lname, p, name);
		entlen = entry_rdata(name, c->ino, RECORD_REG, ent, e);
		r = entlen < 0 ? entlen : 0;
		if (r == 0)
			mdc_upd_add(&u, lname, WIRE_T_TXT, FSA_TTL, ent, (uint16_t)entlen);
		if (r == 0)
			r = parent_change(f, &u, p, 0, entlen, e);
	}
	if (r == 0)
		r = mdc_update_send(&f->mdc, &u, e);
	mdc_update_release(&u);
	if (r == 0)
		printf("%s: %s inode %" PRIu64 ", %" PRIu64 " bytes\n", name,
		       exists ? "replaced the content of" : "created", c->ino, pc->size);
fail:
	fsmeta_inode_free(c);
	return r;
}

int fsadmin_put_cmd(int argc, char **argv, struct err *e)
{
	const char *dir, *pos[2];
	struct fsmeta_inode *p = fsmeta_inode_new(), *c = fsmeta_inode_new();
	struct put_content pc = { 0 };
	char name[RECORD_NAME_MAX + 1];
	struct record_policy pol = { 0 };
	uint64_t newino = 0;
	struct stat st;
	struct fsa f;
	int n = args(argc, argv, &dir, pos, 2), r, fd = -1;

	if (n != 2) {
		fsmeta_inode_free(p);
		fsmeta_inode_free(c);
		return usage("put", "LOCAL PATH");
	}
	r = fsa_open(&f, dir, 1, e);
	if (r == 0 && (p == NULL || c == NULL))
		r = err_set(e, -ENOMEM, "out of memory");
	if (r == 0 && (fd = open(pos[0], O_RDONLY | O_CLOEXEC)) < 0)
		r = err_set(e, -errno, "%s: %s", pos[0], strerror(errno));
	if (r == 0 && fstat(fd, &st) < 0)
		r = err_set(e, -errno, "%s: %s", pos[0], strerror(errno));
	/* the policy of the file being replaced, else its directory's */
	if (r == 0)
		r = fsmeta_path_parent(&f.mdc, pos[1], p, name, sizeof(name), e);
	if (r == 0) {
		r = fsmeta_dentry_get(&f.mdc, p->ino, name, c, NULL, NULL, e);
		pol = r == 0 ? c->r.policy : p->r.policy;
		r = r == -ENOENT ? 0 : r;
	}
	if (r == 0)
		r = put_store(&f, fd, &pol, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0, &pc, e);
	for (int t = 0; r == 0 && t < FSA_TRIES; t++) {
		if (t > 0 && (r = fsmeta_inode_get(&f.mdc, p->ino, p, e)) < 0)
			break;
		r = put_commit(&f, p, name, &pc, st.st_mode & 0777, &newino, e);
		if (r != -ECANCELED)
			break;
		r = t == FSA_TRIES - 1 ? err_set(e, -EIO, "%s: still conflicting after %d tries",
						 pos[1], FSA_TRIES) : 0;
		usleep(1000u << (t < 6 ? t : 6));
	}
	if (fd >= 0)
		close(fd);
	free(pc.data);
	record_refs_release(&pc.refs);
	fsmeta_inode_free(p);
	fsmeta_inode_free(c);
	fsa_close(&f);
	return r;
}

/* --------------------------------------------------------------- init --- */

static int write_new(const char *path, const char *text, size_t len, mode_t mode,
		     struct err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	int r;

	if (fd < 0)
		return err_set(e, -errno, "%s: %s", path, strerror(errno));
	r = write_full(fd, text, len, e);
	if (r == 0 && fsync(fd) < 0)
		r = err_set(e, -errno, "%s: %s", path, strerror(errno));
	close(fd);
	if (r < 0)
		unlink(path);
	return r;
}

int fsadmin_zone_write(const char *path, const char *zone, const char *ns_addr,
		       struct err *e)
{
	char text[2048];
	long now = (long)time(NULL);
	size_t zl = strlen(zone);
	const char *dot = zl > 0 && zone[zl - 1] == '.' ? "" : ".";
	int n;

	n = snprintf(text, sizeof(text),
		     "; dnsfs zone %s%s, first contents (the store is the source of truth)\n"
		     "$ORIGIN %s%s\n$TTL 1\n"
		     "@\tIN SOA ns1 hostmaster 1 3600 600 86400 1\n"
		     "@\tIN NS ns1\n"
		     "ns1\tIN A %s\n"
		     "1.i\tIN TXT \"v=1 type=d mode=0755 uid=0 gid=0 nlink=2 size=0 "
		     "mtime=%ld.000000000 ctime=%ld.000000000 atime=%ld.000000000 ver=1 buckets=1\"\n",
		     zone, dot, zone, dot, ns_addr, now, now, now);
	if (n < 0 || (size_t)n >= sizeof(text))
		return err_set(e, -ENAMETOOLONG, "zone name too long");
	return write_new(path, text, (size_t)n, 0644, e);
}

int fsadmin_init_cmd(int argc, char **argv, struct err *e)
{
	const char *zone = NULL, *addr = "127.0.0.1", *keyname = "dnsfs-admin", *out = NULL;
	char zpath[4096], kpath[4096];
	uint8_t secret[32];
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--zone") == 0 && i + 1 < argc)
			zone = argv[++i];
		else if (strcmp(argv[i], "--ns-addr") == 0 && i + 1 < argc)
			addr = argv[++i];
		else if (strcmp(argv[i], "--key-name") == 0 && i + 1 < argc)
			keyname = argv[++i];
		else if (argv[i][0] != '-' && out == NULL)
			out = argv[i];
		else
			out = zone = NULL, i = argc;
	}
	if (zone == NULL || out == NULL) {
		fprintf(stderr, "usage: dnsfsctl init --zone ZONE [--ns-addr ADDR] "
			"[--key-name NAME] OUTDIR\n"
			"  writes OUTDIR/zone.init (SOA, NS, root inode) and OUTDIR/tsig.key\n"
			"  (BIND format) for a new mds: zone = ZONE OUTDIR/zone.init,\n"
			"  keyfile = OUTDIR/tsig.key in its configuration\n");
		return 2;
	}
	if (mkdir(out, 0755) < 0 && errno != EEXIST)
		return err_set(e, -errno, "%s: %s", out, strerror(errno));
	snprintf(zpath, sizeof(zpath), "%s/zone.init", out);
	snprintf(kpath, sizeof(kpath), "%s/tsig.key", out);
	if (access(kpath, F_OK) == 0)
		return err_set(e, -EEXIST, "%s exists: init makes a new file system only", kpath);
	r = fsadmin_zone_write(zpath, zone, addr, e);
	if (r < 0)
		return r;
	if (RAND_bytes(secret, sizeof(secret)) != 1) {
		unlink(zpath);
		return err_set(e, -EIO, "cannot generate a TSIG secret: OpenSSL RAND_bytes failed");
	}
	r = tsig_key_write_file(kpath, keyname, secret, sizeof(secret), e);
	if (r < 0) {
		unlink(zpath);
		return r;
	}
	printf("%s\n%s\n", zpath, kpath);
	return 0;
}
