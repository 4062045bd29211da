/*
 * access_log — one line per request, for both doors (--access-log), in
 * Amazon S3's server access log format (common/access_line.h: bucket
 * owner, bucket, time, remote IP, requester, request id, operation, key,
 * request-URI, status, error code, bytes sent, object size, total and
 * turn-around time, referer, user agent, version id, host id, signature
 * version, cipher suite, auth type, host header, TLS version...). Each line
 * is one write(2) to a file opened O_APPEND, so lines from many threads
 * never mix.
 */
#ifndef SRC_ACCESS_LOG_H
#define SRC_ACCESS_LOG_H

#include "common/access_line.h"

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

void access_log_write(struct access_log *l, const struct access_line *e);

#endif
