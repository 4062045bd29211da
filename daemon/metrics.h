/*
 * metrics — the daemon's request counters, rendered in Prometheus' text
 * exposition format (GET /api/v1/metrics).
 *
 * Each finished request is recorded once, by the door that served it
 * (s3 through its observe hook, admin itself, the mount with door "fuse"
 * and the errno replied as status, 0 for success), under (door, op): a
 * count per status, bytes received and sent, and a latency histogram. Series
 * are created on first use in a fixed table (METRICS_OPS (door, op) pairs,
 * METRICS_STATUSES statuses each; beyond that a request is counted under
 * op "other" / status 0 rather than lost); after that every update is a
 * few relaxed atomic adds, no lock.
 *
 * door and op must be strings that live as long as the metrics (string
 * literals): the table keeps the pointers. Thread-safe.
 */
#ifndef SRC_METRICS_H
#define SRC_METRICS_H

#include <stdint.h>

#include "common/buf.h"

#define METRICS_OPS 160
#define METRICS_STATUSES 16

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

void metrics_request(struct metrics *m, const char *door, const char *op, int status,
		     uint64_t bytes_in, uint64_t bytes_out, int64_t duration_ns);

/* Appends the request families (atrium_requests_total,
 * atrium_request_bytes_in_total, atrium_request_bytes_out_total,
 * atrium_request_duration_seconds) to out. 0, or -1 at out's cap. */
int metrics_render(struct metrics *m, struct buf *out);

/* Helpers for other families: "# HELP"/"# TYPE" lines, and one sample. */
int metrics_family(struct buf *out, const char *name, const char *type, const char *help);
int metrics_sample(struct buf *out, const char *name, const char *labels, uint64_t value);

#endif
