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
	int fd;         /* the number stays; reopen swaps the file behind it */
	int owned;
	char *path;     /* owned: the file, for reopening */
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
	if (l->fd < 0 || !(l->path = strdup(where))) {
		int e = l->fd < 0 ? errno : ENOMEM;
		if (l->fd >= 0)
			close(l->fd);
		free(l);
		errno = e;
		return NULL;
	}
	l->owned = 1;
	return l;
}

int access_log_reopen(struct access_log *l)
{
	if (!l || !l->owned)
		return 0;
	int fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	/* dup3 swaps the file behind l->fd in one step: a request logging
	 * meanwhile writes a whole line to the old file or to the new one,
	 * and the number is never free for another open to take. */
	int rc = dup3(fd, l->fd, O_CLOEXEC) < 0 ? -1 : 0;
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

const char *access_log_path(const struct access_log *l)
{
	return l && l->owned ? l->path : NULL;
}

void access_log_close(struct access_log *l)
{
	if (!l)
		return;
	if (l->owned)
		close(l->fd);
	free(l->path);
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
