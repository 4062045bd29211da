#include "daemon/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/banned.h"

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

void access_log_write(struct access_log *l, const struct access_line *e)
{
	struct buf b = BUF_INIT(64 * 1024);
	if (access_line_format(&b, e) || buf_addch(&b, '\n')) {
		/* Over the cap (a huge path or user agent): still one line. */
		struct access_line short_line = *e;
		short_line.path = short_line.query = short_line.user_agent = short_line.referer =
			short_line.key = NULL;
		buf_reset(&b);
		if (access_line_format(&b, &short_line) || buf_addch(&b, '\n'))
			buf_reset(&b);
	}
	if (b.len) {
		ssize_t n = write(l->fd, b.ptr, b.len);
		(void)n; /* a full disk must not fail the request */
	}
	buf_release(&b);
}
