#include "daemon/metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/banned.h"

/* Upper bounds of the latency buckets, in microseconds (+Inf implied). */
static const uint64_t bounds_us[] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000,
};
#define NBOUNDS (sizeof(bounds_us) / sizeof(bounds_us[0]))

struct status_slot {
	int status;      /* 0 = free; set once with a CAS */
	uint64_t count;
};

struct op_slot {
	const char *door, *op; /* set before the slot is published */
	struct status_slot st[METRICS_STATUSES];
	uint64_t bytes_in, bytes_out;
	uint64_t buckets[NBOUNDS + 1]; /* not cumulative; the last is +Inf */
	uint64_t sum_us, count;
};

struct metrics {
	pthread_mutex_t lock; /* serialises publishing new op slots */
	int nops;             /* published slots; read with acquire */
	struct op_slot ops[METRICS_OPS];
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct op_slot *find(struct metrics *m, int n, const char *door, const char *op)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(m->ops[i].op, op) && !strcmp(m->ops[i].door, door))
			return &m->ops[i];
	return NULL;
}

static struct op_slot *op_slot(struct metrics *m, const char *door, const char *op)
{
	struct op_slot *s = find(m, __atomic_load_n(&m->nops, __ATOMIC_ACQUIRE), door, op);
	if (s)
		return s;
	pthread_mutex_lock(&m->lock);
	int n = m->nops;
	if (!(s = find(m, n, door, op)) && n >= METRICS_OPS - 1) {
		/* The last slot is for everything that did not fit. */
		op = "other";
		s = find(m, n, door, op);
	}
	if (!s && n < METRICS_OPS) {
		s = &m->ops[n];
		s->door = door;
		s->op = op;
		__atomic_store_n(&m->nops, n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&m->lock);
	return s;
}

/* The count for a slot code (status + 2); the last slot is kept for code
 * 1, "other". */
static uint64_t *status_count(struct op_slot *s, int status)
{
	for (int i = status == 1 ? METRICS_STATUSES - 1 : 0; i < METRICS_STATUSES; i++) {
		if (i == METRICS_STATUSES - 1)
			status = 1;
		int cur = __atomic_load_n(&s->st[i].status, __ATOMIC_ACQUIRE);
		if (cur == 0) {
			int zero = 0;
			if (__atomic_compare_exchange_n(&s->st[i].status, &zero, status, 0,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return &s->st[i].count;
			cur = zero; /* someone else took it: with which status? */
		}
		if (cur == status)
			return &s->st[i].count;
	}
	return NULL;
}

void metrics_request(struct metrics *m, const char *door, const char *op, int status,
		     uint64_t bytes_in, uint64_t bytes_out, int64_t duration_ns)
{
	struct op_slot *s = op_slot(m, door, op);
	if (!s)
		return;
	/* Slots keep status + 2: 0 marks a free slot, 1 "other" (a negative
	 * status, or a full table); 0 is a status too (the mount's success). */
	uint64_t *c = status_count(s, status >= 0 && status < (1 << 20) ? status + 2 : 1);
	if (c)
		__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->bytes_in, bytes_in, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->bytes_out, bytes_out, __ATOMIC_RELAXED);
	uint64_t us = duration_ns > 0 ? (uint64_t)duration_ns / 1000 : 0;
	size_t b = 0;
	while (b < NBOUNDS && us > bounds_us[b])
		b++;
	__atomic_add_fetch(&s->buckets[b], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->sum_us, us, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->count, 1, __ATOMIC_RELAXED);
}

int metrics_family(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int metrics_sample(struct buf *out, const char *name, const char *labels, uint64_t value)
{
	return buf_addf(out, "%s%s%s%s %llu\n", name, labels && *labels ? "{" : "",
			labels ? labels : "", labels && *labels ? "}" : "",
			(unsigned long long)value);
}

static uint64_t load(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

int metrics_render(struct metrics *m, struct buf *out)
{
	int n = __atomic_load_n(&m->nops, __ATOMIC_ACQUIRE);
	int rc = metrics_family(out, "atrium_requests_total", "counter",
				"Requests served, by door, operation and HTTP status.");
	for (int i = 0; i < n && !rc; i++) {
		struct op_slot *s = &m->ops[i];
		for (int j = 0; j < METRICS_STATUSES && !rc; j++) {
			int st = __atomic_load_n(&s->st[j].status, __ATOMIC_ACQUIRE);
			if (st == 0)
				continue;
			char status[16] = "other";
			if (st > 1)
				snprintf(status, sizeof(status), "%d", st - 2);
			rc = buf_addf(out, "atrium_requests_total{door=\"%s\",op=\"%s\",status=\"%s\"} %llu\n",
				      s->door, s->op, status, (unsigned long long)load(&s->st[j].count));
		}
	}
	static const char *const dirs[2] = { "in", "out" };
	for (int d = 0; d < 2 && !rc; d++) {
		char name[64];
		snprintf(name, sizeof(name), "atrium_request_bytes_%s_total", dirs[d]);
		rc = metrics_family(out, name, "counter",
				    d ? "Response body bytes sent, by door and operation."
				      : "Request body bytes received (Content-Length), by door and operation.");
		for (int i = 0; i < n && !rc; i++)
			rc = buf_addf(out, "%s{door=\"%s\",op=\"%s\"} %llu\n", name, m->ops[i].door,
				      m->ops[i].op,
				      (unsigned long long)load(d ? &m->ops[i].bytes_out : &m->ops[i].bytes_in));
	}
	if (!rc)
		rc = metrics_family(out, "atrium_request_duration_seconds", "histogram",
				    "Time from a request's arrival to the end of its response.");
	for (int i = 0; i < n && !rc; i++) {
		struct op_slot *s = &m->ops[i];
		uint64_t cum = 0;
		for (size_t b = 0; b <= NBOUNDS && !rc; b++) {
			char le[32] = "+Inf";
			if (b < NBOUNDS)
				snprintf(le, sizeof(le), "%g", (double)bounds_us[b] / 1e6);
			cum += load(&s->buckets[b]);
			rc = buf_addf(out, "atrium_request_duration_seconds_bucket{door=\"%s\",op=\"%s\","
				      "le=\"%s\"} %llu\n", s->door, s->op, le, (unsigned long long)cum);
		}
		if (!rc)
			rc = buf_addf(out, "atrium_request_duration_seconds_sum{door=\"%s\",op=\"%s\"} %.6f\n"
				      "atrium_request_duration_seconds_count{door=\"%s\",op=\"%s\"} %llu\n",
				      s->door, s->op, (double)load(&s->sum_us) / 1e6, s->door, s->op,
				      (unsigned long long)cum);
	}
	return rc;
}
