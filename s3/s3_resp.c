/* s3_resp — writing responses: the common headers, XML bodies, errors. */
#include <civetweb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "s3/s3_int.h"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 206: return "Partial Content";
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
	case 507: return "Insufficient Storage";
	}
	return "Unknown";
}

void s3_send_head(struct s3_req *r, int status, const char *extra, uint64_t length)
{
	char date[TIMEFMT_LEN];
	time_fmt_rfc1123(time(NULL), date);
	if (r->must_close)
		mg_disable_connection_keep_alive(r->conn);
	mg_printf(r->conn,
		  "HTTP/1.1 %d %s\r\n"
		  "Server: Atrium\r\n"
		  "Date: %s\r\n"
		  "x-amz-request-id: %s\r\n"
		  "x-amz-id-2: %s\r\n"
		  "%s%s"
		  "Content-Length: %llu\r\n\r\n",
		  status, reason(status), date, r->id, r->id,
		  extra ? extra : "", r->must_close ? "Connection: close\r\n" : "",
		  (unsigned long long)length);
	r->status = status;
	r->started = 1;
}

void s3_send_xml(struct s3_req *r, int status, const struct buf *xml)
{
	s3_send_head(r, status, "Content-Type: application/xml\r\n", xml->len);
	if (strcmp(r->method, "HEAD"))
		mg_write(r->conn, xml->ptr, xml->len);
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

int s3_xml_elem(struct buf *b, const char *tag, const char *text)
{
	if (buf_addf(b, "<%s>", tag) || buf_add_xml(b, text) || buf_addf(b, "</%s>", tag))
		return -1;
	return 0;
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
	buf_addstr(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
	s3_xml_elem(&b, "Code", s3_err_code(e));
	s3_xml_elem(&b, "Message", message ? message : s3_err_message(e));
	if (r->key && *r->key)
		s3_xml_elem(&b, "Key", r->key);
	if (r->bucket && *r->bucket)
		s3_xml_elem(&b, "BucketName", r->bucket);
	s3_xml_elem(&b, "Resource", r->path ? r->path : "/");
	s3_xml_elem(&b, "RequestId", r->id);
	buf_addstr(&b, "</Error>");
	if (!strcmp(r->method, "HEAD")) {
		/* A HEAD response has no body; the code travels in the status. */
		s3_send_head(r, status, NULL, 0);
	} else {
		s3_send_xml(r, status, &b);
	}
	buf_release(&b);
}
