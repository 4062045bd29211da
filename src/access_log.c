#include "src/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/timefmt.h"

struct access_log {
	int fd;
	int owned;
};

struct access_log *access_log_open(const char *where)
{
	struct access_log *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	if (!strcmp(where, "-") || !strcmp(where, "stderr")) {
		l->fd = STDERR_FILENO;
		return l;
	}
	l->fd = open(where, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (l->fd < 0) {
		int e = errno;
		free(l);
		errno = e;
		return NULL;
	}
	l->owned = 1;
	return l;
}

void access_log_close(struct access_log *l)
{
	if (!l)
		return;
	if (l->owned)
		close(l->fd);
	free(l);
}

static int add_field(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	if (!s || !*s)
		return buf_addch(b, '-');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		int rc = *p > ' ' && *p < 0x7f && *p != '"' ? buf_addch(b, (char)*p) : buf_add(b, esc, 3);
		if (rc)
			return rc;
	}
	return 0;
}

void access_log_write(struct access_log *l, const struct access_entry *e)
{
	char when[TIMEFMT_LEN];
	struct buf b = BUF_INIT(16 * 1024);
	time_fmt_iso8601_ms(e->time_ns, when);
	if (buf_addf(&b, "%s ", when) || add_field(&b, e->id) || buf_addch(&b, ' ') ||
	    add_field(&b, e->user) || buf_addch(&b, ' ') || add_field(&b, e->method) ||
	    buf_addch(&b, ' ') || add_field(&b, e->path) ||
	    buf_addf(&b, " %d %llu %.3f\n", e->status, (unsigned long long)e->bytes,
		     (double)e->duration_ns / 1e6)) {
		/* A path over the cap: still one line, without it. */
		buf_reset(&b);
		buf_addf(&b, "%s %s %s %s - %d %llu %.3f\n", when, e->id ? e->id : "-",
			 "-", "-", e->status, (unsigned long long)e->bytes,
			 (double)e->duration_ns / 1e6);
	}
	if (b.len) {
		ssize_t n = write(l->fd, b.ptr, b.len);
		(void)n; /* a full disk must not fail the request */
	}
	buf_release(&b);
}
