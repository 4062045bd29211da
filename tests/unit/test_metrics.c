/* daemon/metrics.c (counters, histogram, exposition text, the overflow slot,
 * concurrent updates) and daemon/access_log.c (the line format). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/buf.h"
#include "daemon/access_log.h"
#include "daemon/metrics.h"

static char *render(struct metrics *m)
{
	struct buf b = BUF_INIT(1 << 22);
	assert_int_equal(metrics_render(m, &b), 0);
	return buf_detach(&b);
}

static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void counters_and_histogram(void **state)
{
	struct metrics *m = metrics_new();
	metrics_request(m, "s3", "GetObject", 200, 0, 1000, 700000);     /* 0.7 ms */
	metrics_request(m, "s3", "GetObject", 200, 0, 24, 30000000);     /* 30 ms */
	metrics_request(m, "s3", "GetObject", 404, 0, 300, 100000);      /* 0.1 ms */
	metrics_request(m, "s3", "PutObject", 200, 4096, 0, 20000000000LL); /* 20 s */
	metrics_request(m, "admin", "FsList", 403, 0, 10, 0);
	char *t = render(m);
	has_line(t, "# TYPE atrium_requests_total counter");
	has_line(t, "atrium_requests_total{door=\"s3\",op=\"GetObject\",status=\"200\"} 2");
	has_line(t, "atrium_requests_total{door=\"s3\",op=\"GetObject\",status=\"404\"} 1");
	has_line(t, "atrium_requests_total{door=\"admin\",op=\"FsList\",status=\"403\"} 1");
	has_line(t, "atrium_request_bytes_out_total{door=\"s3\",op=\"GetObject\"} 1324");
	has_line(t, "atrium_request_bytes_in_total{door=\"s3\",op=\"PutObject\"} 4096");
	has_line(t, "# TYPE atrium_request_duration_seconds histogram");
	/* cumulative buckets */
	has_line(t, "atrium_request_duration_seconds_bucket{door=\"s3\",op=\"GetObject\",le=\"0.0005\"} 1");
	has_line(t, "atrium_request_duration_seconds_bucket{door=\"s3\",op=\"GetObject\",le=\"0.001\"} 2");
	has_line(t, "atrium_request_duration_seconds_bucket{door=\"s3\",op=\"GetObject\",le=\"0.025\"} 2");
	has_line(t, "atrium_request_duration_seconds_bucket{door=\"s3\",op=\"GetObject\",le=\"0.05\"} 3");
	has_line(t, "atrium_request_duration_seconds_bucket{door=\"s3\",op=\"GetObject\",le=\"+Inf\"} 3");
	has_line(t, "atrium_request_duration_seconds_count{door=\"s3\",op=\"GetObject\"} 3");
	has_line(t, "atrium_request_duration_seconds_sum{door=\"s3\",op=\"GetObject\"} 0.030800");
	has_line(t, "atrium_request_duration_seconds_bucket{door=\"s3\",op=\"PutObject\",le=\"10\"} 0");
	has_line(t, "atrium_request_duration_seconds_bucket{door=\"s3\",op=\"PutObject\",le=\"+Inf\"} 1");
	free(t);

	struct buf b = BUF_INIT(1024);
	assert_int_equal(metrics_family(&b, "x_total", "counter", "Help."), 0);
	assert_int_equal(metrics_sample(&b, "x_total", "a=\"b\"", 7), 0);
	assert_int_equal(metrics_sample(&b, "y", NULL, 1), 0);
	assert_string_equal(b.ptr, "# HELP x_total Help.\n# TYPE x_total counter\nx_total{a=\"b\"} 7\ny 1\n");
	buf_release(&b);
	metrics_free(m);
}

/* More (door, op) pairs than slots: the rest is counted under "other". */
static void overflow(void **state)
{
	static char names[METRICS_OPS + 10][16];
	struct metrics *m = metrics_new();
	for (int i = 0; i < METRICS_OPS + 10; i++) {
		snprintf(names[i], sizeof(names[i]), "Op%d", i);
		metrics_request(m, "s3", names[i], 200, 0, 0, 0);
	}
	char *t = render(m);
	has_line(t, "atrium_requests_total{door=\"s3\",op=\"Op0\",status=\"200\"} 1");
	has_line(t, "atrium_requests_total{door=\"s3\",op=\"other\",status=\"200\"} 11");
	/* The last slot is "other": op METRICS_OPS - 1 and above are not named. */
	char last[64];
	snprintf(last, sizeof(last), "op=\"Op%d\"", METRICS_OPS - 1);
	assert_null(strstr(t, last));
	snprintf(last, sizeof(last), "op=\"Op%d\"", METRICS_OPS - 2);
	assert_non_null(strstr(t, last));
	free(t);
	/* Statuses beyond the slots of one op land in status "other". */
	struct metrics *m2 = metrics_new();
	for (int s = 0; s < METRICS_STATUSES + 3; s++)
		metrics_request(m2, "s3", "X", 200 + s, 0, 0, 0);
	t = render(m2);
	has_line(t, "atrium_requests_total{door=\"s3\",op=\"X\",status=\"other\"} 4");
	has_line(t, "atrium_requests_total{door=\"s3\",op=\"X\",status=\"214\"} 1");
	free(t);
	metrics_free(m2);
	metrics_free(m);
}

struct hammer {
	struct metrics *m;
	int id;
};

static const char *const ops[] = { "A", "B", "C", "D" };

static void *hammer(void *arg)
{
	struct hammer *h = arg;
	for (int i = 0; i < 20000; i++)
		metrics_request(h->m, "s3", ops[(i + h->id) % 4], 200 + (i % 3), 1, 2, 1000);
	return NULL;
}

static void concurrent(void **state)
{
	enum { T = 8 };
	struct metrics *m = metrics_new();
	pthread_t th[T];
	struct hammer h[T];
	for (int i = 0; i < T; i++) {
		h[i] = (struct hammer){ m, i };
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &h[i]), 0);
	}
	for (int i = 0; i < T; i++)
		pthread_join(th[i], NULL);
	char *t = render(m);
	/* 8 * 20000 requests over 4 ops: 40000 each, 80000 bytes out each. */
	for (int i = 0; i < 4; i++) {
		char line[160];
		snprintf(line, sizeof(line),
			 "atrium_request_duration_seconds_count{door=\"s3\",op=\"%s\"} 40000", ops[i]);
		has_line(t, line);
		snprintf(line, sizeof(line), "atrium_request_bytes_out_total{door=\"s3\",op=\"%s\"} 80000",
			 ops[i]);
		has_line(t, line);
	}
	free(t);
	metrics_free(m);
}

static void access_lines(void **state)
{
	char path[] = "/tmp/atrium-alog-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct access_log *l = access_log_open(path);
	assert_non_null(l);
	struct access_line e = {
		.bucket_owner = "alice", .bucket = "bkt", .time_ns = 1560893073029000000LL,
		.remote_ip = "192.0.2.3", .requester = "alice", .request_id = "0123456789ABCDEF",
		.operation = "REST.GET.OBJECT", .key = "a b\"c\xc3\xa9", .method = "GET",
		.path = "/bkt/a%20b", .query = "X-Amz-Credential=AK%2F1&X-Amz-Signature=abc&x=1",
		.http_version = "1.1", .status = 206, .bytes_sent = 1048576, .object_size = 2000000,
		.total_ms = 2, .turnaround_ms = 1, .user_agent = "curl/7.88 (x)",
		.host_id = "0123456789ABCDEF", .signature_version = "SigV4",
		.auth_type = "QueryString", .host = "localhost:39999",
	};
	access_log_write(l, &e);
	struct access_line admin = {
		.time_ns = 1560893073029000000LL, .request_id = "0123456789ABCDEF",
		.operation = "ADMIN.GET.Health", .method = "GET", .path = "/api/v1/health",
		.status = 200, .bytes_sent = -1, .object_size = -1, .total_ms = 0,
		.turnaround_ms = -1,
	};
	access_log_write(l, &admin);
	access_log_close(l);
	char text[2048] = "";
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	unlink(path);
	assert_string_equal(text,
		"alice bkt [18/Jun/2019:21:24:33 +0000] 192.0.2.3 alice 0123456789ABCDEF "
		"REST.GET.OBJECT a%20b%22c%C3%A9 \"GET /bkt/a%20b?X-Amz-Credential=AK%2F1&"
		"X-Amz-Signature=REDACTED&x=1 HTTP/1.1\" 206 - 1048576 2000000 2 1 \"-\" "
		"\"curl/7.88 (x)\" - 0123456789ABCDEF SigV4 - QueryString localhost:39999 - - -\n"
		"- - [18/Jun/2019:21:24:33 +0000] - - 0123456789ABCDEF ADMIN.GET.Health - "
		"\"GET /api/v1/health HTTP/1.1\" 200 - - - 0 - \"-\" \"-\" - - - - - - - - -\n");
	assert_null(access_log_open("/nonexistent-dir/x.log"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(counters_and_histogram),
		cmocka_unit_test(overflow),
		cmocka_unit_test(concurrent),
		cmocka_unit_test(access_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
