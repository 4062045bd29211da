/*
 * buf — a growable byte string with a hard size cap (git's strbuf, curl's
 * dynbuf).
 *
 * Invariants: ptr is NUL-terminated whenever it is non-NULL (len excludes the
 * NUL); len <= max. Every size that comes from a request goes through a buf
 * whose max says how much we are willing to hold, so a client can never make
 * us allocate more than that. Append functions return 0, or -1 when the cap
 * would be exceeded or memory ran out (the buf is unchanged then).
 * Not thread-safe; a buf belongs to whoever embeds it.
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stddef.h>

struct buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT(maxsize) { NULL, 0, 0, (maxsize) }

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
int buf_add(struct buf *b, const void *data, size_t len);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, ", ' escaped for XML text and attributes. */
int buf_add_xml(struct buf *b, const char *s);
/* Detaches the string: the caller owns and frees it; the buf is empty. */
char *buf_detach(struct buf *b);

#endif
