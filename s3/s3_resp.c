/* s3_resp — writing responses: the common headers, XML bodies, errors. */
#include <civetweb.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "s3/s3_int.h"
#include "common/banned.h"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 416: return "Requested Range Not Satisfiable";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}

/*
 * civetweb's mg_write returns what went out before its request_timeout_ms
 * expired on a client that stopped reading, which may be short of len (and
 * positive): writing the next block after it would shift the rest of the
 * body. So any short write ends the response: nothing more is written and
 * the connection is closed once the handler returns.
 */
int s3_write(struct s3_req *r, const void *data, size_t len)
{
	if (r->write_failed)
		return -1;
	if (len && (len > INT_MAX || mg_write(r->conn, data, len) != (int)len)) {
		r->write_failed = 1;
		mg_disable_connection_keep_alive(r->conn);
		return -1;
	}
	return 0;
}

/* framing: the Content-Length or Transfer-Encoding line, or "". */
/* Writes the status line and headers, followed by body[0..n) in the same
 * write when they fit the thread's I/O buffer (a small object then costs
 * one send, not two). Returns how many body bytes went out with the head. */
static size_t send_head_body(struct s3_req *r, int status, const char *extra,
			     const char *framing, const void *body, size_t n)
{
	char date[TIMEFMT_LEN];
	char *out = s3_io_buffer(r->srv);
	time_fmt_rfc1123(time(NULL), date);
	if (r->must_close)
		mg_disable_connection_keep_alive(r->conn);
	int len = out ? snprintf(out, S3_IO_BUFFER,
				 "HTTP/1.1 %d %s\r\n"
				 "Server: Atrium\r\n"
				 "Date: %s\r\n"
				 "x-amz-request-id: %s\r\n"
				 "x-amz-id-2: %s\r\n"
				 "%s%s%s%s\r\n",
				 status, reason(status), date, r->id, r->id, extra ? extra : "",
				 r->cors_hdrs ? r->cors_hdrs : "",
				 r->must_close ? "Connection: close\r\n" : "", framing)
		      : -1;
	r->status = status;
	r->started = 1;
	r->head_ns = s3_clock_ns();
	if (len < 0 || (size_t)len >= S3_IO_BUFFER) {
		/* No buffer, or headers beyond it: civetweb formats them itself. */
		mg_printf(r->conn, "HTTP/1.1 %d %s\r\nServer: Atrium\r\nDate: %s\r\n"
			  "x-amz-request-id: %s\r\nx-amz-id-2: %s\r\n%s%s%s%s\r\n",
			  status, reason(status), date, r->id, r->id, extra ? extra : "",
			  r->cors_hdrs ? r->cors_hdrs : "",
			  r->must_close ? "Connection: close\r\n" : "", framing);
		return 0;
	}
	size_t with = n <= S3_IO_BUFFER - (size_t)len ? n : 0;
	if (with)
		memcpy(out + len, body, with);
	if (s3_write(r, out, (size_t)len + with))
		return n; /* nothing more is to be written */
	return with;
}

static void send_head(struct s3_req *r, int status, const char *extra, const char *framing)
{
	send_head_body(r, status, extra, framing, NULL, 0);
}

void s3_send_head(struct s3_req *r, int status, const char *extra, uint64_t length)
{
	char clen[48] = "";
	/* A 304 has no content, and a Content-Length there would have to be
	 * the length of the 200 it replaces (RFC 9110 §8.6): send none. */
	if (status != 304)
		snprintf(clen, sizeof(clen), "Content-Length: %llu\r\n", (unsigned long long)length);
	if (status != 304 && strcmp(r->method, "HEAD"))
		r->bytes_out = length; /* for metrics */
	send_head(r, status, extra, clen);
}

size_t s3_send_head_body(struct s3_req *r, int status, const char *extra, uint64_t length,
			 const void *body, size_t n)
{
	char clen[48];
	snprintf(clen, sizeof(clen), "Content-Length: %llu\r\n", (unsigned long long)length);
	if (strcmp(r->method, "HEAD"))
		r->bytes_out = length; /* for metrics */
	return send_head_body(r, status, extra, clen, body, n);
}

void s3_send_head_chunked(struct s3_req *r, int status, const char *extra)
{
	send_head(r, status, extra, "Transfer-Encoding: chunked\r\n");
}

int s3_send_chunk(struct s3_req *r, const void *data, size_t len)
{
	char line[24];
	int k = snprintf(line, sizeof(line), "%zx\r\n", len);
	if (s3_write(r, line, (size_t)k) || s3_write(r, data, len) || s3_write(r, "\r\n", 2))
		return -1;
	r->bytes_out += len; /* for metrics: a chunked body has no Content-Length */
	return 0;
}

void s3_send_xml(struct s3_req *r, int status, const struct buf *xml)
{
	s3_send_head(r, status, "Content-Type: application/xml\r\n", xml->len);
	if (strcmp(r->method, "HEAD"))
		s3_write(r, xml->ptr, xml->len);
}

void s3_send_empty(struct s3_req *r, int status, const char *extra)
{
	s3_send_head(r, status, extra, 0);
}

int s3_xml_open(struct buf *b, const char *root)
{
	return buf_addf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<%s xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">", root);
}

/* Text can echo a request (an error's Key and Resource, the key a client
 * addressed): bytes that are not UTF-8, or characters XML 1.0 cannot carry
 * at all (even as &#x1;), would make the whole document unreadable, so
 * such text goes out percent-encoded instead. Listings refuse such text
 * beforehand (s3_list_param_check): there encoding-type says how names
 * are encoded, and a name encoded unasked would be misread. */
int s3_xml_elem(struct buf *b, const char *tag, const char *text)
{
	size_t n = strlen(text);
	if (buf_addf(b, "<%s>", tag) ||
	    (utf8_xml_valid(text, n) ? buf_add_xml(b, text) : uri_encode(b, text, n, 1)) ||
	    buf_addf(b, "</%s>", tag))
		return -1;
	return 0;
}

int s3_error_xml(struct s3_req *r, enum s3_err e, const char *message, int decl,
		 struct buf *b)
{
	if (decl && buf_addstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"))
		return -1;
	int rc = buf_addstr(b, "<Error>") || s3_xml_elem(b, "Code", s3_err_code(e)) ||
		 s3_xml_elem(b, "Message", message ? message : s3_err_message(e));
	if (!rc && r->key && *r->key)
		rc = s3_xml_elem(b, "Key", r->key);
	if (!rc && r->bucket && *r->bucket)
		rc = s3_xml_elem(b, "BucketName", r->bucket);
	return rc || s3_xml_elem(b, "Resource", r->path ? r->path : "/") ||
	       s3_xml_elem(b, "RequestId", r->id) || buf_addstr(b, "</Error>") ? -1 : 0;
}

int s3_xml_name(struct buf *b, const char *tag, const char *value, int url)
{
	if (!url)
		return s3_xml_elem(b, tag, value);
	struct buf enc = BUF_INIT(4 * ATR_KEY_MAX + 16);
	int rc = uri_encode(&enc, value, strlen(value), 1) ||
		 s3_xml_elem(b, tag, enc.ptr ? enc.ptr : "");
	buf_release(&enc);
	return rc;
}

int s3_xml_user(struct s3_req *r, struct buf *b, const char *tag, const char *user)
{
	struct atr_ident id;
	int known = !atr_idents_find_user(r->srv->idents, user, &id);
	return buf_addf(b, "<%s>", tag) || s3_xml_elem(b, "ID", user) ||
	       s3_xml_elem(b, "DisplayName", known ? id.display : user) ||
	       buf_addf(b, "</%s>", tag);
}

void s3_send_error(struct s3_req *r, enum s3_err e, const char *message)
{
	struct buf b = BUF_INIT(64 * 1024);
	int status = s3_err_status(e);
	if (r->started) {
		LOG(LOG_WARN, "s3 %s: %s after the response started", r->id, s3_err_code(e));
		return;
	}
	LOG(LOG_DEBUG, "s3 %s: %s %s -> %d %s", r->id, r->method, r->path ? r->path : "?",
	    status, s3_err_code(e));
	r->err_code = s3_err_code(e);
	s3_error_xml(r, e, message, 1, &b);
	if (!strcmp(r->method, "HEAD")) {
		/* A HEAD response has no body; the code travels in the status. */
		s3_send_head(r, status, r->err_hdrs, 0);
	} else {
		char extra[160];
		snprintf(extra, sizeof(extra), "Content-Type: application/xml\r\n%s", r->err_hdrs);
		s3_send_head(r, status, extra, b.len);
		mg_write(r->conn, b.ptr, b.len);
	}
	buf_release(&b);
}

enum s3_err s3_reply_empty(struct s3_req *r, int rc, int status)
{
	if (rc)
		return s3_err_from_core(rc);
	s3_send_empty(r, status, NULL);
	return S3_ERR_OK;
}
