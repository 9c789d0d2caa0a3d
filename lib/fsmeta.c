/* fsmeta: the file system's metadata as a client reads it (see fsmeta.h):
 * inodes with their exact rdata, dentry lookups, paths from the root,
 * block maps and directory listings, all through lib/mdc. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "fsmeta.h"
#include "wire.h"

struct fsmeta_inode *fsmeta_inode_new(void)
{
	struct fsmeta_inode *in = calloc(1, sizeof(*in));

	if (in != NULL)
		record_inode_init(&in->r);
	return in;
}

void fsmeta_inode_free(struct fsmeta_inode *in)
{
	if (in == NULL)
		return;
	record_inode_release(&in->r);
	free(in);
}

int fsmeta_inode_from_rdata(struct fsmeta_inode *in, uint64_t ino, const uint8_t *rdata,
			    size_t rdlen, struct err *e)
{
	char *text = malloc(FSMETA_RDATA_MAX);
	int r;

	if (text == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	if (rdlen > sizeof(in->rdata)) {
		free(text);
		return err_set(e, -E2BIG, "inode %" PRIu64 ": record too long", ino);
	}
	r = mdc_txt_text(rdata, rdlen, text, FSMETA_RDATA_MAX, e);
	if (r >= 0) {
		record_inode_release(&in->r);
		r = record_inode_parse_text(&in->r, text, (size_t)r, e);
	}
	free(text);
	if (r < 0) {
		err_prefix(e, "inode %" PRIu64 ": ", ino);
		return r;
	}
	in->ino = ino;
	in->rdlen = (uint16_t)rdlen;
	memcpy(in->rdata, rdata, rdlen);
	return 0;
}

int fsmeta_inode_get(struct mdc *m, uint64_t ino, struct fsmeta_inode *out, struct err *e)
{
	char name[RECORD_NAME_BUF];
	struct mdc_answer a;
	int r;

	record_name_inode(name, sizeof(name), m->zone, ino);
	r = mdc_query(m, name, WIRE_T_TXT, &a, e);
	if (r < 0)
		return r;
	r = err_set(e, -ENOENT, "%s: no such inode", name);
	if (a.rcode != WIRE_RC_NOERROR && a.rcode != WIRE_RC_NXDOMAIN)
		r = err_set(e, -EIO, "%s: %s", name, wire_rcode_name(a.rcode));
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].type == WIRE_T_TXT) {
			r = fsmeta_inode_from_rdata(out, ino, a.v[i].rdata, a.v[i].rdlen, e);
			break;
		}
	mdc_answer_release(&a);
	return r;
}

/* Look name up in directory parent: the dentry's CNAME (copied to cname when
 * not NULL, for a prerequisite) and the inode it names. -ENOENT if none. */
int fsmeta_dentry_get(struct mdc *m, uint64_t parent, const char *name, struct fsmeta_inode *out,
		      uint8_t *cname, uint16_t *cnamelen, struct err *e)
{
	char qname[RECORD_NAME_BUF], target[WIRE_NAME_MAX * 4 + 1];
	struct mdc_answer a;
	struct wire_name tn;
	uint64_t ino = 0;
	int r;

	r = record_name_dentry(qname, sizeof(qname), m->zone, parent, name, strlen(name));
	if (r < 0)
		return err_set(e, r, "\"%s\": not a valid name", name);
	r = mdc_query(m, qname, WIRE_T_CNAME, &a, e);
	if (r < 0)
		return r;
	r = err_set(e, -ENOENT, "%s: no such file or directory", name);
	if (a.rcode != WIRE_RC_NOERROR && a.rcode != WIRE_RC_NXDOMAIN)
		r = err_set(e, -EIO, "%s: %s", qname, wire_rcode_name(a.rcode));
	for (size_t i = 0; i < a.n; i++) {
		if (a.v[i].type != WIRE_T_CNAME || a.v[i].rdlen > WIRE_NAME_MAX)
			continue;
		memcpy(tn.b, a.v[i].rdata, a.v[i].rdlen);
		tn.len = (uint8_t)a.v[i].rdlen;
		if (wire_name_to_text(&tn, target, sizeof(target)) < 0 ||
		    record_parse_inode_name(target, strlen(target), m->zone, &ino) < 0) {
			r = err_set(e, -EIO, "%s: CNAME is not an inode name", qname);
			ino = 0;
			break;
		}
		if (cname != NULL) {
			memcpy(cname, a.v[i].rdata, a.v[i].rdlen);
			*cnamelen = a.v[i].rdlen;
		}
		break;
	}
	mdc_answer_release(&a);
	if (ino == 0)
		return r;
	return fsmeta_inode_get(m, ino, out, e);
}

/* Walk path from the root by dentry lookups ("" and "/" are the root; "."
 * stays, ".." follows a directory's parent=). */
int fsmeta_path_resolve(struct mdc *m, const char *path, struct fsmeta_inode *in, struct err *e)
{
	char *copy = strdup(path), *save = NULL;
	int r;

	if (copy == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	r = fsmeta_inode_get(m, FSMETA_ROOT, in, e);
	for (char *c = strtok_r(copy, "/", &save); r == 0 && c != NULL;
	     c = strtok_r(NULL, "/", &save)) {
		if (in->r.type != RECORD_DIR) {
			r = err_set(e, -ENOTDIR, "%s: not a directory", path);
			break;
		}
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			r = fsmeta_inode_get(m, in->r.parent != 0 ? in->r.parent : FSMETA_ROOT, in, e);
		else
			r = fsmeta_dentry_get(m, in->ino, c, in, NULL, NULL, e);
		if (r == -ENOENT)
			err_set(e, r, "%s: no such file or directory", path);
	}
	free(copy);
	return r;
}

/* Split path into its directory (resolved into dir) and last name. */
int fsmeta_path_parent(struct mdc *m, const char *path, struct fsmeta_inode *dir, char *name,
		       size_t namelen, struct err *e)
{
	char *copy = strdup(path), *slash;
	size_t n;
	int r;

	if (copy == NULL)
		return err_set(e, -ENOMEM, "out of memory");
	for (n = strlen(copy); n > 1 && copy[n - 1] == '/'; n--)
		copy[n - 1] = '\0';
	slash = strrchr(copy, '/');
	const char *base = slash != NULL ? slash + 1 : copy;

	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    strlen(base) >= namelen) {
		free(copy);
		return err_set(e, -EINVAL, "%s: names no entry", path);
	}
	snprintf(name, namelen, "%s", base);
	if (slash != NULL)
		*slash = '\0';
	r = fsmeta_path_resolve(m, slash != NULL ? copy : "", dir, e);
	if (r == 0 && dir->r.type != RECORD_DIR)
		r = err_set(e, -ENOTDIR, "%s: not a directory", copy);
	free(copy);
	return r;
}

int fsmeta_refs_append(struct record_refs *dst, const struct record_ref *f, struct err *e)
{
	return f->k == 0 ? record_refs_add_block(dst, f->off, f->len, f->h, e)
			 : record_refs_add_stripe(dst, f->off, f->len, f->k, f->m, f->h, e);
}

/* A TXT record's logical text from an answer into text (cap bytes). */
int fsmeta_page_text(struct mdc *m, uint64_t ino, uint64_t p, char *text, size_t cap,
		     struct err *e)
{
	char name[RECORD_NAME_BUF];
	struct mdc_answer a;
	int r;

	record_name_map(name, sizeof(name), m->zone, ino, p);
	r = mdc_query(m, name, WIRE_T_TXT, &a, e);
	if (r < 0)
		return r;
	r = err_set(e, -EIO, "%s: missing block-map page", name);
	for (size_t i = 0; i < a.n; i++)
		if (a.v[i].type == WIRE_T_TXT) {
			r = mdc_txt_text(a.v[i].rdata, a.v[i].rdlen, text, cap, e);
			break;
		}
	mdc_answer_release(&a);
	return r;
}

/* Every ref of a file: the inode's, then its pages', in offset order. */
int fsmeta_refs_load(struct mdc *m, const struct fsmeta_inode *in, struct record_refs *out,
		     struct err *e)
{
	char *text = malloc(RECORD_PAGE_TEXT_MAX + 1);
	int r = text != NULL ? 0 : err_set(e, -ENOMEM, "out of memory");

	for (size_t i = 0; r == 0 && i < in->r.refs.n; i++)
		r = fsmeta_refs_append(out, &in->r.refs.v[i], e);
	for (uint64_t p = 0; r == 0 && p < in->r.pages; p++) {
		struct record_page page;

		record_page_init(&page);
		r = fsmeta_page_text(m, in->ino, p, text, RECORD_PAGE_TEXT_MAX + 1, e);
		if (r >= 0)
			r = record_page_parse_text(&page, text, (size_t)r, e);
		for (size_t i = 0; r == 0 && i < page.refs.n; i++)
			r = fsmeta_refs_append(out, &page.refs.v[i], e);
		record_page_release(&page);
	}
	free(text);
	return r;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct record_entry *)a)->name, ((const struct record_entry *)b)->name);
}

/* Every listing entry of dir: its buckets 0..buckets-1 (SCHEMA.md). */
int fsmeta_dir_entries(struct mdc *m, const struct fsmeta_inode *dir, struct fsmeta_entries *out,
		       struct err *e)
{
	uint32_t nb = dir->r.buckets > 0 ? dir->r.buckets : 1;
	char *text = malloc(FSMETA_RDATA_MAX);
	int r = text != NULL ? 0 : err_set(e, -ENOMEM, "out of memory");

	for (uint32_t b = 0; r == 0 && b < nb; b++) {
		char name[RECORD_NAME_BUF];
		struct mdc_answer a;

		record_name_listing(name, sizeof(name), m->zone, dir->ino, b);
		if ((r = mdc_query(m, name, WIRE_T_TXT, &a, e)) < 0)
			break;
		for (size_t i = 0; r == 0 && i < a.n; i++) {
			if (a.v[i].type != WIRE_T_TXT)
				continue;
			if (out->n == out->alloc) {
				size_t na = out->alloc ? 2 * out->alloc : 64;
				struct record_entry *v = realloc(out->v, na * sizeof(*v));

				if (v == NULL) {
					r = err_set(e, -ENOMEM, "out of memory");
					break;
				}
				out->v = v;
				out->alloc = na;
			}
			r = mdc_txt_text(a.v[i].rdata, a.v[i].rdlen, text, FSMETA_RDATA_MAX, e);
			if (r >= 0)
				r = record_entry_parse_text(&out->v[out->n], text, (size_t)r, e);
			if (r == 0)
				out->n++;
		}
		mdc_answer_release(&a);
	}
	free(text);
	if (r == 0)
		qsort(out->v, out->n, sizeof(*out->v), entry_cmp);
	return r;
}

void fsmeta_entries_release(struct fsmeta_entries *es)
{
	free(es->v);
	memset(es, 0, sizeof(*es));
}

int fsmeta_range_claim(struct mdc *m, const char *note, uint32_t ttl, uint64_t *first,
		       struct err *e)
{
	int r = -EIO;

	for (int t = 0; t < 16; t++) {
		char name[RECORD_NAME_BUF + 32], text[256], host[64] = "?";
		uint8_t rd[300];
		uint32_t range;
		struct mdc_update u;
		int n;

		if (getrandom(&range, sizeof(range), 0) != sizeof(range))
			range = (uint32_t)time(NULL) ^ (uint32_t)getpid();
		range = 1 + range % (FSMETA_RANGE_MAX - 1);
		gethostname(host, sizeof(host) - 1);
		for (char *c = host; *c; c++)
			if (*c <= 0x20 || *c >= 0x7f || strchr("%\"\\=;", *c) != NULL)
				*c = '_';
		snprintf(name, sizeof(name), "%u.r.%s", range, m->zone);
		snprintf(text, sizeof(text), "v=1 owner=%s/%d time=%lld%s%s", host, (int)getpid(),
			 (long long)time(NULL), note != NULL ? " " : "", note != NULL ? note : "");
		n = mdc_txt_rdata(text, strlen(text), rd, sizeof(rd), e);
		if (n < 0)
			return n;
		r = mdc_update_begin(m, &u);
		mdc_pre_nxdomain(&u, name);
		mdc_upd_add(&u, name, WIRE_T_TXT, ttl, rd, (uint16_t)n);
		if (r == 0)
			r = mdc_update_send(m, &u, e);
		mdc_update_release(&u);
		if (r == 0) {
			*first = (uint64_t)range << FSMETA_RANGE_BITS;
			return 0;
		}
		if (r != -ECANCELED)
			return r;
	}
	return r;
}
