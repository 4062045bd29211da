/*
 * console — serving the web console's embedded files (console.h).
 */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "daemon/console.h"
#include "common/banned.h"

#define CONSOLE_PREFIX "/console"
#define ETAG_HEX 16 /* the first 8 bytes of the file's SHA-256, in hex */

/*
 * The page signs with WebCrypto and talks to this origin only: scripts,
 * styles and fetches from 'self', images from 'self' and data: (the
 * charts are inline SVG built with DOM calls, no URL), no plugins, no
 * <base>, no form posts, and no framing (clickjacking: the console holds
 * delete buttons). Nothing inline: an object name that got into the page
 * as HTML could not run script even then.
 */
static const char csp[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
	"frame-ancestors 'none'";

struct console {
	char *domain;                      /* NULL: no virtual hosts */
	char (*etag)[ETAG_HEX + 3];        /* "\"hex\"", one a file */
};

static const struct {
	const char *ext, *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".txt", "text/plain; charset=utf-8" },
};

const char *console_content_type(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);
		if (n > e && !strcmp(name + n - e, types[i].ext))
			return types[i].type;
	}
	return "application/octet-stream";
}

struct console *console_new(const char *domain)
{
	struct console *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if ((domain && *domain && !(c->domain = strdup(domain))) ||
	    !(c->etag = calloc(console_nfiles ? console_nfiles : 1, sizeof(*c->etag)))) {
		console_free(c);
		return NULL;
	}
	for (size_t i = 0; i < console_nfiles; i++) {
		unsigned char d[SHA256_LEN];
		sha256(console_files[i].data, console_files[i].len, d);
		c->etag[i][0] = '"';
		for (int j = 0; j < ETAG_HEX / 2; j++)
			snprintf(c->etag[i] + 1 + 2 * j, 3, "%02x", d[j]);
		c->etag[i][ETAG_HEX + 1] = '"';
		c->etag[i][ETAG_HEX + 2] = '\0';
	}
	return c;
}

void console_free(struct console *c)
{
	if (!c)
		return;
	free(c->domain);
	free(c->etag);
	free(c);
}

/* The file "/console/NAME" names ("/console/" is index.html), or -1. */
static long file_index(const char *path)
{
	const char *name = path + strlen(CONSOLE_PREFIX "/");
	if (!*name)
		name = "index.html";
	for (size_t i = 0; i < console_nfiles; i++)
		if (!strcmp(console_files[i].name, name))
			return (long)i;
	return -1;
}

/* Host "bucket.DOMAIN[:port]": the S3 door's virtual-hosted style, where
 * the path is a key and nothing here may take it. */
static int virtual_hosted(const struct console *c, struct mg_connection *conn)
{
	const char *host = mg_get_header(conn, "Host");
	if (!c->domain || !host)
		return 0;
	size_t hlen = strcspn(host, ":"), dlen = strlen(c->domain);
	if (hlen && host[hlen - 1] == '.')
		hlen--;
	return hlen > dlen + 1 && host[hlen - dlen - 1] == '.' &&
	       !strncasecmp(host + hlen - dlen, c->domain, dlen);
}

/* "text/html" among Accept's media ranges (a browser's navigation). */
static int accepts_html(struct mg_connection *conn)
{
	const char *a = mg_get_header(conn, "Accept");
	return a && strcasestr(a, "text/html") != NULL;
}

/* The path is "/" or "/console" and a browser asks for a page. */
static int wants_redirect(const char *path, struct mg_connection *conn)
{
	return (!strcmp(path, "/") || !strcmp(path, CONSOLE_PREFIX)) && accepts_html(conn);
}

int console_claims(const struct console *c, struct mg_connection *conn)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	const char *path = ri->local_uri_raw;
	/* Signed, presigned (its signature is in the query) or with any
	 * query at all: an S3 request, whatever its path. */
	if (!path || (strcmp(ri->request_method, "GET") && strcmp(ri->request_method, "HEAD")) ||
	    mg_get_header(conn, "Authorization") || (ri->query_string && *ri->query_string) ||
	    virtual_hosted(c, conn))
		return 0;
	if (wants_redirect(path, conn))
		return 1;
	return !strncmp(path, CONSOLE_PREFIX "/", strlen(CONSOLE_PREFIX "/")) &&
	       file_index(path) >= 0;
}

static void send_head(struct mg_connection *conn, const char *status, const char *ctype,
		      size_t len, const char *extra)
{
	mg_printf(conn,
		  "HTTP/1.1 %s\r\nServer: Atrium\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		  "Content-Security-Policy: %s\r\nX-Content-Type-Options: nosniff\r\n"
		  "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
		  "Cross-Origin-Opener-Policy: same-origin\r\n%s\r\n",
		  status, ctype, len, csp, extra);
}

int console_handle(const struct console *c, struct mg_connection *conn, uint64_t *sent)
{
	const struct mg_request_info *ri = mg_get_request_info(conn);
	*sent = 0;
	const char *path = ri->local_uri_raw;
	int head = !strcmp(ri->request_method, "HEAD");
	if (wants_redirect(path, conn)) {
		static const char body[] = "The console is at /console/\n";
		/* Vary: the same "/" is ListBuckets for an S3 client. */
		send_head(conn, "302 Found", "text/plain; charset=utf-8", sizeof(body) - 1,
			  "Location: /console/\r\nCache-Control: no-store\r\n"
			  "Vary: Accept, Authorization\r\n");
		if (!head && mg_write(conn, body, sizeof(body) - 1) > 0)
			*sent = sizeof(body) - 1;
		return 302;
	}
	long i = file_index(path);
	if (i < 0) /* console_claims took only known files */
		return 500;
	const struct console_file *f = &console_files[i];
	const char *inm = mg_get_header(conn, "If-None-Match");
	char extra[128];
	/* no-cache: kept, but revalidated on every use (a new daemon version
	 * serves new files at the same names). */
	snprintf(extra, sizeof(extra), "ETag: %s\r\nCache-Control: no-cache\r\n", c->etag[i]);
	if (inm && strstr(inm, c->etag[i])) {
		send_head(conn, "304 Not Modified", console_content_type(f->name), f->len, extra);
		return 304;
	}
	send_head(conn, "200 OK", console_content_type(f->name), f->len, extra);
	if (!head && mg_write(conn, f->data, f->len) > 0)
		*sent = f->len;
	return 200;
}
