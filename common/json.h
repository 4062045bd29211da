/*
 * json — writing JSON strings into a buf (json_add_str, common/json_write.h),
 * and reading small JSON documents (the CLI's reader).
 *
 * json_parse reads a whole document (RFC 8259) into a tree of nodes the
 * caller frees with json_free. It refuses anything malformed, trailing
 * garbage, nesting deeper than JSON_MAX_DEPTH, and "\u0000" in strings (so
 * every string is a C string). Numbers keep their literal text: json_u64 and
 * json_i64 read integers exactly, json_num as a double. The caller caps the
 * input size before parsing. Object members keep their order; json_get
 * finds the first member with a name. Not thread-safe per tree; no globals.
 */
#ifndef COMMON_JSON_H
#define COMMON_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/json_write.h"

#define JSON_MAX_DEPTH 64

enum json_type { JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING, JSON_ARRAY,
		 JSON_OBJECT };

struct json {
	enum json_type type;
	char *key;           /* member name inside an object, else NULL */
	char *text;          /* STRING: decoded value; NUMBER: the literal */
	struct json *child;  /* ARRAY, OBJECT: first element or member */
	struct json *next;   /* next sibling */
};

/* The tree, or NULL with a reason in err (may be NULL). */
struct json *json_parse(const char *s, size_t len, char *err, size_t errsize);
void json_free(struct json *v);

/* Object member by name, or NULL (also when obj is not an object). */
const struct json *json_get(const struct json *obj, const char *name);
/* A member's string value, or NULL if absent or not a string. */
const char *json_get_str(const struct json *obj, const char *name);
/* A member's value as a non-negative / signed integer, or dflt if absent,
 * not a number or not an integer in range. */
uint64_t json_get_u64(const struct json *obj, const char *name, uint64_t dflt);
int64_t json_get_i64(const struct json *obj, const char *name, int64_t dflt);
/* 1 for true, 0 for false, dflt otherwise. */
int json_get_bool(const struct json *obj, const char *name, int dflt);
/* 0 and *out for an integer literal in range, else -1. */
int json_u64(const struct json *v, uint64_t *out);
int json_i64(const struct json *v, int64_t *out);
double json_num(const struct json *v);

#endif
