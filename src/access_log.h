/*
 * access_log — one line per request, for both doors (--access-log):
 *
 *   2024-05-01T12:00:00.123Z 1A2B3C4D5E6F7081 alice GET /bkt/key 200 1048576 2.345
 *
 * time the request arrived (UTC, ms), request id, user ("-" if none),
 * method, path as sent (no query: presigned URLs carry credentials there;
 * bytes outside printable ASCII, spaces and '"' written as %XX), HTTP
 * status, response body bytes, duration in milliseconds. Each line is one
 * write(2) to a file opened O_APPEND, so lines from many threads never mix.
 */
#ifndef SRC_ACCESS_LOG_H
#define SRC_ACCESS_LOG_H

#include <stdint.h>

struct access_log;

/* where: "-" or "stderr" for standard error, else a file (created 0640,
 * appended to). NULL (errno set) if it cannot be opened. */
struct access_log *access_log_open(const char *where);
/* Reopens the file by its name (SIGHUP, after logrotate renamed it):
 * later lines go to whatever file is there now, created if missing. 0, or
 * -1 (errno set; lines keep going to the old file). A no-op on stderr. */
int access_log_reopen(struct access_log *l);
/* The file's name, or NULL when the log is stderr. */
const char *access_log_path(const struct access_log *l);
void access_log_close(struct access_log *l);

struct access_entry {
	int64_t time_ns;        /* wall clock when the request arrived */
	const char *id, *user, *method, *path;
	int status;
	uint64_t bytes;
	int64_t duration_ns;
};

void access_log_write(struct access_log *l, const struct access_entry *e);

#endif
