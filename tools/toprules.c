/* toprules: bottleneck rules over one interval's figures (see toprules.h).
 * Each rule adds findings with a score; a node that does not answer outranks
 * a slow one, which outranks a busy cpu, which outranks slow commits. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "toprules.h"

static void finding(struct toprules_finding *v, size_t *n, double score, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void finding(struct toprules_finding *v, size_t *n, double score, const char *fmt, ...)
{
	va_list ap;

	if (*n == TOPRULES_FINDINGS_MAX)
		return;
	v[*n].score = score;
	va_start(ap, fmt);
	vsnprintf(v[*n].text, sizeof(v[*n].text), fmt, ap);
	va_end(ap);
	(*n)++;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_finding(const void *a, const void *b)
{
	const struct toprules_finding *x = a, *y = b;

	return x->score > y->score ? -1 : x->score < y->score;
}

static double figure(const struct toprules_node *nd, size_t off)
{
	return *(const double *)(const void *)((const char *)nd + off);
}

/* A blockd whose figure (at offset off) is TOPRULES_OUTLIER_RATIO times the
 * median of the other blockds' and above the floor: one slow node among
 * peers doing the same work. */
static void rule_outlier(const struct toprules_node *v, size_t nv, size_t off,
			 const char *what, struct toprules_finding *out, size_t *n)
{
	double *others = malloc(nv * sizeof(*others));

	for (size_t i = 0; others != NULL && i < nv; i++) {
		double x = figure(&v[i], off), med;
		size_t k = 0;

		if (v[i].kind != TOPRULES_BLOCKD || isnan(x) || x < TOPRULES_OUTLIER_FLOOR)
			continue;
		for (size_t j = 0; j < nv; j++)
			if (j != i && v[j].kind == TOPRULES_BLOCKD && !isnan(figure(&v[j], off)))
				others[k++] = figure(&v[j], off);
		if (k == 0)
			continue;
		qsort(others, k, sizeof(others[0]), cmp_double);
		med = k % 2 ? others[k / 2] : (others[k / 2 - 1] + others[k / 2]) / 2;
		if (x >= TOPRULES_OUTLIER_RATIO * med)
			finding(out, n, 50 + (med > 0 ? fmin(x / med, 40) : 40),
				"%s: %s %.1f ms, %.1fx the median of the other blockds (%.2f ms)",
				v[i].name, what, x * 1e3, med > 0 ? x / med : INFINITY, med * 1e3);
	}
	free(others);
}

size_t toprules_run(const struct toprules_node *v, size_t nv, struct toprules_finding *out)
{
	size_t n = 0;

	for (size_t i = 0; i < nv; i++) {
		const struct toprules_node *nd = &v[i];

		if (nd->has_metrics && !nd->answered)
			finding(out, &n, 100, "%s: /metrics not answered (%s)%s", nd->name,
				nd->why ? nd->why : "?",
				nd->state == 'T' ? "; its process is stopped (state T)"
				: nd->pid == 0 ? "; no live process in its pid file" : "");
		else if (nd->state == 'T')
			finding(out, &n, 100, "%s: process %d is stopped (state T)", nd->name,
				nd->pid);
		else if (nd->pid == 0 && !nd->has_metrics && nd->kind != TOPRULES_MOUNT)
			finding(out, &n, 90, "%s: not running (no live process in its pid file)",
				nd->name);
		if (!isnan(nd->cpu) && nd->cpu >= TOPRULES_CPU_BUSY)
			finding(out, &n, 40 + fmin(nd->cpu, 9), "%s: cpu %.0f%% of one core%s",
				nd->name, nd->cpu * 100,
				nd->kind == TOPRULES_MOUNT ? "" : ": its event loop is saturated");
		if (nd->kind != TOPRULES_MDS || isnan(nd->commit99) ||
		    nd->commit99 < TOPRULES_COMMIT_SLOW)
			continue;
		if (!isnan(nd->share) && nd->share >= TOPRULES_STORE_SHARE)
			finding(out, &n, 30 + fmin(nd->share, 1),
				"%s: Redis commit latency is %.0f%% of update time "
				"(commit p99 %.1f ms, %.1f updates/s)", nd->name,
				fmin(nd->share, 1) * 100, nd->commit99 * 1e3, nd->upd);
		else
			finding(out, &n, 30, "%s: update commit p99 %.1f ms (%.1f updates/s)",
				nd->name, nd->commit99 * 1e3, nd->upd);
	}
	rule_outlier(v, nv, offsetof(struct toprules_node, fsync99), "fsync p99", out, &n);
	rule_outlier(v, nv, offsetof(struct toprules_node, put99), "PUT p99", out, &n);
	rule_outlier(v, nv, offsetof(struct toprules_node, get99), "GET p99", out, &n);
	qsort(out, n, sizeof(*out), cmp_finding);
	return n;
}
