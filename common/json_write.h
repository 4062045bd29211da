/*
 * json_write — writing JSON string literals into a buf.
 *
 * json_add_str appends a string literal (quotes included) with '"', '\\'
 * and control characters escaped; valid UTF-8 is copied as is, and a string
 * that is not valid UTF-8 has each byte >= 0x80 written as \u00XX (read as
 * Latin-1), so the output is always valid JSON. 0, or -1 (b unchanged) if
 * the buf's cap is reached or memory runs out.
 *
 * Apart from common/json.h so that a file parsing with libjansson, whose
 * JSON_OBJECT & co. clash with json.h's reader, can still write with it.
 */
#ifndef COMMON_JSON_WRITE_H
#define COMMON_JSON_WRITE_H

#include "common/buf.h"

int json_add_str(struct buf *b, const char *s);

/* d as text that reads back (strtod) as d: a whole number below 1e15 in
 * plain digits ("100"), else the shortest %g text ("0.1", "1e+300").
 * 0, or -1 for NaN, an infinity or a text that does not fit in size. */
int json_fmt_double(double d, char *out, size_t size);

#endif
