#include "src/access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/banned.h"

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
