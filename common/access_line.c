/* access_line — see access_line.h. */
#include "common/access_line.h"

#include <string.h>
#include <strings.h>
#include <time.h>
#include "common/banned.h"

static const char hex[] = "0123456789ABCDEF";

/* quoted: inside "...", where a space may stay. */
static int field(struct buf *b, const char *s, int quoted)
{
	if (!s || !*s)
		return buf_addch(b, '-');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int plain = *p > ' ' ? *p < 0x7f && *p != '"' : quoted && *p == ' ';
		char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		if (plain ? buf_addch(b, (char)*p) : buf_add(b, esc, 3))
			return -1;
	}
	return 0;
}

/* The query with signature values redacted, quoted-field escaped. */
static int query(struct buf *b, const char *q)
{
	static const char *const secret[] = { "X-Amz-Signature", "Signature" };
	while (*q) {
		size_t n = strcspn(q, "&"), k = strcspn(q, "=&");
		int hide = 0;
		for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
			hide |= k == strlen(secret[i]) && !strncasecmp(q, secret[i], k) && q[k] == '=';
		char part[4096];
		size_t take = hide ? k + 1 : n;
		if (take >= sizeof(part))
			take = sizeof(part) - 1; /* a huge parameter: cut, never overflow */
		memcpy(part, q, take);
		part[take] = '\0';
		if (field(b, part, 1) || (hide && buf_addstr(b, "REDACTED")))
			return -1;
		q += n;
		if (*q == '&') {
			if (buf_addch(b, '&'))
				return -1;
			q++;
		}
	}
	return 0;
}

static int number(struct buf *b, int64_t v)
{
	return v < 0 ? buf_addch(b, '-') : buf_addf(b, "%lld", (long long)v);
}

int access_line_format(struct buf *b, const struct access_line *l)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(l->time_ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	return field(b, l->bucket_owner, 0) || buf_addch(b, ' ') || field(b, l->bucket, 0) ||
	       buf_addf(b, " [%02d/%s/%04d:%02d:%02d:%02d +0000] ", tm.tm_mday, mon[tm.tm_mon],
			tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec) ||
	       field(b, l->remote_ip, 0) || buf_addch(b, ' ') || field(b, l->requester, 0) ||
	       buf_addch(b, ' ') || field(b, l->request_id, 0) || buf_addch(b, ' ') ||
	       field(b, l->operation, 0) || buf_addch(b, ' ') || field(b, l->key, 0) ||
	       buf_addstr(b, " \"") ||
	       (l->method ? field(b, l->method, 1) || buf_addch(b, ' ') ||
				    field(b, l->path, 1) ||
				    (l->query && *l->query &&
				     (buf_addch(b, '?') || query(b, l->query))) ||
				    buf_addstr(b, " HTTP/") ||
				    field(b, l->http_version ? l->http_version : "1.1", 1)
			  : buf_addch(b, '-')) ||
	       buf_addf(b, "\" %d ", l->status) || field(b, l->error_code, 0) ||
	       buf_addch(b, ' ') || number(b, l->bytes_sent) || buf_addch(b, ' ') ||
	       number(b, l->object_size) || buf_addch(b, ' ') || number(b, l->total_ms) ||
	       buf_addch(b, ' ') || number(b, l->turnaround_ms) || buf_addstr(b, " \"") ||
	       field(b, l->referer, 1) || buf_addstr(b, "\" \"") || field(b, l->user_agent, 1) ||
	       buf_addstr(b, "\" ") || field(b, l->version_id, 0) || buf_addch(b, ' ') ||
	       field(b, l->host_id, 0) || buf_addch(b, ' ') || field(b, l->signature_version, 0) ||
	       buf_addch(b, ' ') || field(b, l->cipher_suite, 0) || buf_addch(b, ' ') ||
	       field(b, l->auth_type, 0) || buf_addch(b, ' ') || field(b, l->host, 0) ||
	       buf_addch(b, ' ') || field(b, l->tls_version, 0) || buf_addstr(b, " - -")
		       ? -1
		       : 0;
}
