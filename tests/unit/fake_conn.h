/*
 * fake_conn.h — a civetweb connection held in memory, for unit tests of
 * the S3 door's request code (s3_handle, s3_body, the handlers).
 *
 * The door touches a connection only through six civetweb calls:
 * mg_get_request_info, mg_get_header, mg_read, mg_write, mg_printf and
 * mg_disable_connection_keep_alive. A test binary that includes this
 * header defines those six over its own struct mg_connection (an opaque
 * type in civetweb.h): a request (method, target, headers, body) given up
 * front and a response captured in a buffer. The executable's definitions
 * are the ones its code links to, so the door runs unchanged, with no
 * server and no socket. Include it once per test binary, after cmocka.h.
 */
#ifndef TESTS_UNIT_FAKE_CONN_H
#define TESTS_UNIT_FAKE_CONN_H

#include <civetweb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"

#define FAKE_HDRS_MAX 32

struct mg_connection {
	struct mg_request_info ri;
	char target[4096];     /* the path, then (after a NUL) the query */
	const char *body;      /* what the client sends after the headers */
	size_t body_len, body_pos;
	size_t read_max;       /* at most this much per mg_read (0: as asked) */
	struct buf out;        /* everything written back */
	int keep_alive_off;
	char clen[24];         /* a Content-Length of our own */
};

/* A request: method, target ("/path?query", sent as is: percent-encoded),
 * headers as NULL-terminated name/value pairs (may be NULL), and the body
 * (body_len bytes; NULL for none). Content-Length is taken from the
 * headers; with neither it nor Transfer-Encoding among them, a body gets
 * one of its own length. */
static inline void fake_conn_init(struct mg_connection *c, const char *method,
				  const char *target, const char *const *hdrs, const char *body,
				  size_t body_len)
{
	int n = 0, has_len = 0;
	memset(c, 0, sizeof(*c));
	buf_init(&c->out, 64 << 20);
	snprintf(c->target, sizeof(c->target), "%s", target);
	char *q = strchr(c->target, '?');
	if (q)
		*q++ = '\0';
	c->ri.request_method = method;
	c->ri.request_uri = c->ri.local_uri_raw = c->ri.local_uri = c->target;
	c->ri.query_string = q;
	c->ri.http_version = "1.1";
	snprintf(c->ri.remote_addr, sizeof(c->ri.remote_addr), "127.0.0.1");
	c->ri.remote_port = 40000;
	c->ri.server_port = 39999;
	c->ri.content_length = -1;
	for (; hdrs && hdrs[0] && n < FAKE_HDRS_MAX; hdrs += 2, n++) {
		c->ri.http_headers[n].name = hdrs[0];
		c->ri.http_headers[n].value = hdrs[1];
		if (!strcasecmp(hdrs[0], "Content-Length")) {
			c->ri.content_length = strtoll(hdrs[1], NULL, 10);
			has_len = 1;
		}
		has_len |= !strcasecmp(hdrs[0], "Transfer-Encoding");
	}
	if (body && !has_len && n < FAKE_HDRS_MAX) {
		snprintf(c->clen, sizeof(c->clen), "%zu", body_len);
		c->ri.http_headers[n].name = "Content-Length";
		c->ri.http_headers[n++].value = c->clen;
		c->ri.content_length = (long long)body_len;
	}
	c->ri.num_headers = n;
	c->body = body;
	c->body_len = body ? body_len : 0;
}

static inline void fake_conn_release(struct mg_connection *c)
{
	buf_release(&c->out);
}

#define FAKE_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

/* Whether an interim "100 Continue" went out before the response. */
static inline int fake_continued(const struct mg_connection *c)
{
	return c->out.len && !strncmp(c->out.ptr, FAKE_CONTINUE, strlen(FAKE_CONTINUE));
}

/* The final response as written: after a 100 Continue, if one went. */
static inline const char *fake_response(const struct mg_connection *c)
{
	return !c->out.len ? "" : c->out.ptr + (fake_continued(c) ? strlen(FAKE_CONTINUE) : 0);
}

/* The status of the final response, or 0 if none was written. */
static inline int fake_status(const struct mg_connection *c)
{
	int status = 0;
	if (sscanf(fake_response(c), "HTTP/1.1 %d", &status) != 1)
		return 0;
	return status;
}

/* Where the response's body starts (after the blank line), or "". */
static inline const char *fake_body(const struct mg_connection *c)
{
	const char *p = strstr(fake_response(c), "\r\n\r\n");
	return p ? p + 4 : "";
}

/* A response header's value into v (size bytes), or NULL if absent. */
static inline const char *fake_header(const struct mg_connection *c, const char *name, char *v,
				      size_t size)
{
	const char *p = strstr(fake_response(c), "\r\n"), *end = fake_body(c);
	size_t n = strlen(name);
	for (; p && p + 2 < end; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (!strncasecmp(line, name, n) && line[n] == ':') {
			const char *val = line + n + 1 + strspn(line + n + 1, " ");
			snprintf(v, size, "%.*s", (int)strcspn(val, "\r\n"), val);
			return v;
		}
	}
	return NULL;
}

/* Whether the response is an S3 error document with this <Code>. */
static inline int fake_error_is(const struct mg_connection *c, const char *code)
{
	char want[128];
	snprintf(want, sizeof(want), "<Code>%s</Code>", code);
	return strstr(fake_body(c), want) != NULL;
}

/* ---- the six civetweb calls ---- */

const struct mg_request_info *mg_get_request_info(const struct mg_connection *c)
{
	return &c->ri;
}

const char *mg_get_header(const struct mg_connection *c, const char *name)
{
	for (int i = 0; i < c->ri.num_headers; i++)
		if (!strcasecmp(c->ri.http_headers[i].name, name))
			return c->ri.http_headers[i].value;
	return NULL;
}

int mg_read(struct mg_connection *c, void *buf, size_t len)
{
	size_t n = c->body_len - c->body_pos;
	if (n > len)
		n = len;
	if (c->read_max && n > c->read_max)
		n = c->read_max;
	if (n == 0)
		return 0; /* the client has sent everything: end of stream */
	memcpy(buf, c->body + c->body_pos, n);
	c->body_pos += n;
	return (int)n;
}

int mg_write(struct mg_connection *c, const void *buf, size_t len)
{
	return buf_add(&c->out, buf, len) ? -1 : (int)len;
}

int mg_printf(struct mg_connection *c, const char *fmt, ...)
{
	char *tmp = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	n = mg_write(c, tmp, (size_t)n);
	free(tmp);
	return n;
}

void mg_disable_connection_keep_alive(struct mg_connection *c)
{
	c->keep_alive_off = 1;
}

#endif
