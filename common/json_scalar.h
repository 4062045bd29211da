/*
 * json_scalar — the text of a scalar in a libjansson document, for the
 * readers of the JSON documents clients send (POST policies in s3/, bucket
 * policies in src/), which compare values as text.
 *
 * A string is itself (the document's own storage: valid while the document
 * is); an integer is its exact decimal ("123456789012"); a fraction is
 * json_fmt_double's text (libjansson keeps no literal: 1.50 reads "1.5");
 * true and false are "true" and "false". Anything else (null, arrays,
 * objects, NULL) has no text: NULL. buf (size bytes; 32 is enough) holds
 * the numbers' text. Thread-safe; no globals.
 */
#ifndef COMMON_JSON_SCALAR_H
#define COMMON_JSON_SCALAR_H

#include <jansson.h>
#include <stddef.h>

const char *json_scalar_text(const json_t *v, char *buf, size_t size);

#endif
