/*
 * console — the web console's static files (console/ in the tree, compiled
 * into the binary by tools/embed-console.sh) served on the S3 port under
 * /console/, and the redirect of a browser's "/" to it (docs/console.md).
 *
 * The console is a page that signs its own S3 and admin requests
 * (SigV4, WebCrypto) with the user's keys: the daemon serves it files
 * only, never a session and never data, so it adds no way in. Which
 * requests are the console's (console_claims):
 *   - GET/HEAD, unsigned (no Authorization header, no presigned query),
 *     not a virtual-hosted request (Host "bucket.DOMAIN"), no query string;
 *   - "/console/" and "/console/NAME" for a NAME it has: its files;
 *   - "/" and "/console" with Accept naming text/html: a 302 to /console/.
 * Everything else goes to the S3 door as before: a bucket named "console"
 * stays reachable by every signed request; only an anonymous read of
 * "/console/" or of a key named like one of the console's files in it is
 * shadowed (docs/s3-compatibility.md).
 *
 * Every answer carries a strict Content-Security-Policy (scripts and
 * styles from the console's own files only, nothing inline, no framing),
 * X-Content-Type-Options: nosniff, its Content-Type, and an ETag with
 * Cache-Control: no-cache (revalidated, 304 when unchanged).
 *
 * Thread-safe: nothing changes after console_new.
 */
#ifndef DAEMON_CONSOLE_H
#define DAEMON_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct mg_connection;

/* One embedded file (generated: build/console_files.c). */
struct console_file {
	const char *name; /* "index.html" */
	size_t len;
	const char *data; /* len bytes (and a NUL past them) */
};
extern const struct console_file console_files[];
extern const size_t console_nfiles;

struct console;

/* domain: the S3 door's virtual-host domain, or NULL (copied). NULL on
 * out of memory. */
struct console *console_new(const char *domain);
void console_free(struct console *c);
/* 1 if the request on conn is the console's (see above), else 0. */
int console_claims(const struct console *c, struct mg_connection *conn);
/* Answers a request console_claims took; returns the HTTP status sent,
 * and the body's bytes in *sent (for the metrics and the access log). */
int console_handle(const struct console *c, struct mg_connection *conn, uint64_t *sent);

/* The Content-Type of a console file name ("application/octet-stream"
 * for an extension it does not know). Exposed for the unit test. */
const char *console_content_type(const char *name);

#endif
