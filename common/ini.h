/*
 * ini — reading INI files of the shape awscli reads (~/.aws/credentials,
 * ~/.aws/config), for the atrium CLI's ~/.atrium/credentials and config:
 *
 *   # a comment            ; a comment too
 *   [default]
 *   aws_access_key_id = AKID...
 *   [profile dev]
 *   endpoint_url = https://gw:39999
 *   s3 =
 *       addressing_style = path     (a nested block: skipped)
 *
 * A section line is "[name]" (name trimmed); a key line "name = value" or
 * "name: value" (both trimmed; the value may be empty). Indented lines
 * after a key line continue it (awscli's nested blocks under "s3 =",
 * configparser's multi-line values) and are skipped. Blank and comment
 * lines are skipped; anything else is malformed. Keys before any section
 * have section "". Lines end at '\n' ("\r\n" too); a NUL ends the text.
 *
 * Pure: no I/O, no globals; the callback's strings live for the call.
 */
#ifndef COMMON_INI_H
#define COMMON_INI_H

#include <stddef.h>

#define INI_MAX (1 << 20)  /* longest text ini_parse takes */

/* A positive return stops the parse, which returns it. */
typedef int (*ini_fn)(void *arg, const char *section, const char *key, const char *value);

/* Calls fn for every key line in order. 0 when done; fn's non-zero
 * (positive) return; or -1 for a malformed line (its number, from 1, in *bad_line)
 * or a text over INI_MAX bytes or out of memory (*bad_line 0). */
int ini_parse(const char *text, size_t len, ini_fn fn, void *arg, int *bad_line);

#endif
