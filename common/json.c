#include "common/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/uri.h"
#include "common/banned.h"

int json_add_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = b->len;
	int utf8 = utf8_valid(s, strlen(s));
	int rc = buf_addch(b, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
		char esc[7] = "\\u00";
		switch (*p) {
		case '"': rc = buf_add(b, "\\\"", 2); continue;
		case '\\': rc = buf_add(b, "\\\\", 2); continue;
		case '\n': rc = buf_add(b, "\\n", 2); continue;
		case '\r': rc = buf_add(b, "\\r", 2); continue;
		case '\t': rc = buf_add(b, "\\t", 2); continue;
		}
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !utf8)) {
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			rc = buf_add(b, esc, 6);
		} else {
			rc = buf_addch(b, (char)*p);
		}
	}
	if (!rc)
		rc = buf_addch(b, '"');
	if (rc) {
		b->len = start;
		if (b->ptr)
			b->ptr[start] = '\0';
	}
	return rc;
}

int json_fmt_double(double d, char *out, size_t size)
{
	if (d != d || d - d != 0) /* NaN, infinities: not JSON numbers */
		return -1;
	if (d > -1e15 && d < 1e15 && (double)(long long)d == d) { /* whole: no exponent */
		int n = snprintf(out, size, "%lld", (long long)d);
		return n < 0 || (size_t)n >= size ? -1 : 0;
	}
	for (int prec = 1; prec <= 17; prec++) {
		int n = snprintf(out, size, "%.*g", prec, d);
		if (n < 0 || (size_t)n >= size)
			return -1;
		if (strtod(out, NULL) == d)
			return 0;
	}
	return 0; /* %.17g always reads back */
}

/* ---- reading ---- */

struct parser {
	const char *start, *s, *end;
	char *err;
	size_t errsize;
	int failed;
};

static void fail(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct parser *p, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = 1;
	if (p->err && p->errsize) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err, p->errsize, fmt, ap);
		va_end(ap);
	}
}

static void skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
		p->s++;
}

static int hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + (unsigned)d;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct buf *b, unsigned cp, int *rc)
{
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (!*rc)
		*rc = buf_add(b, u, n);
}

/* A string literal at p->s (the opening quote), decoded and malloc'd. */
static char *parse_string(struct parser *p)
{
	struct buf b = BUF_INIT((size_t)(p->end - p->s) + 1);
	const char *s = p->s + 1;
	int rc = buf_add(&b, "", 0);
	while (!rc) {
		const char *run = s;
		while (s < p->end && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
			s++;
		rc = buf_add(&b, run, (size_t)(s - run));
		if (rc || s >= p->end) {
			fail(p, "unterminated string");
			break;
		}
		if (*s == '"') {
			p->s = s + 1;
			if (!utf8_valid(b.ptr, b.len)) {
				fail(p, "string is not valid UTF-8");
				break;
			}
			return buf_detach(&b);
		}
		if (*s != '\\') {
			fail(p, "control character in string");
			break;
		}
		if (++s >= p->end) {
			fail(p, "unterminated string");
			break;
		}
		char c = *s++;
		switch (c) {
		case '"': case '\\': case '/': rc = buf_addch(&b, c); break;
		case 'b': rc = buf_addch(&b, '\b'); break;
		case 'f': rc = buf_addch(&b, '\f'); break;
		case 'n': rc = buf_addch(&b, '\n'); break;
		case 'r': rc = buf_addch(&b, '\r'); break;
		case 't': rc = buf_addch(&b, '\t'); break;
		case 'u': {
			unsigned cp, lo;
			if (p->end - s < 4 || hex4(s, &cp)) {
				fail(p, "bad \\u escape");
				goto out;
			}
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (p->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff) {
					fail(p, "unpaired surrogate");
					goto out;
				}
				s += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				fail(p, "unpaired surrogate");
				goto out;
			} else if (cp == 0) {
				fail(p, "\\u0000 in string");
				goto out;
			}
			put_utf8(&b, cp, &rc);
			break;
		}
		default:
			fail(p, "bad escape \\%c", c);
			goto out;
		}
	}
	fail(p, "out of memory");
out:
	buf_release(&b);
	return NULL;
}

static int parse_number(struct parser *p, struct json *v)
{
	const char *s = p->s;
	if (s < p->end && *s == '-')
		s++;
	if (s < p->end && *s == '0') {
		s++;
	} else if (s < p->end && *s >= '1' && *s <= '9') {
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
	} else {
		fail(p, "bad number");
		return -1;
	}
	if (s < p->end && *s == '.') {
		const char *d = ++s;
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
		if (s == d) {
			fail(p, "bad number");
			return -1;
		}
	}
	if (s < p->end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < p->end && (*s == '+' || *s == '-'))
			s++;
		const char *d = s;
		while (s < p->end && *s >= '0' && *s <= '9')
			s++;
		if (s == d) {
			fail(p, "bad number");
			return -1;
		}
	}
	v->type = JSON_NUMBER;
	v->text = strndup(p->s, (size_t)(s - p->s));
	if (!v->text) {
		fail(p, "out of memory");
		return -1;
	}
	p->s = s;
	return 0;
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n))
		return 0;
	p->s += n;
	return 1;
}

static struct json *parse_value(struct parser *p, int depth);

/* Elements of an array or members of an object, after its opening bracket. */
static int parse_items(struct parser *p, struct json *v, int depth)
{
	char close = v->type == JSON_OBJECT ? '}' : ']';
	struct json **tail = &v->child;
	skip_ws(p);
	if (p->s < p->end && *p->s == close) {
		p->s++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		skip_ws(p);
		if (v->type == JSON_OBJECT) {
			if (p->s >= p->end || *p->s != '"') {
				fail(p, "expected a member name");
				return -1;
			}
			if (!(key = parse_string(p)))
				return -1;
			skip_ws(p);
			if (p->s >= p->end || *p->s != ':') {
				free(key);
				fail(p, "expected ':'");
				return -1;
			}
			p->s++;
		}
		struct json *item = parse_value(p, depth + 1);
		if (!item) {
			free(key);
			return -1;
		}
		item->key = key;
		*tail = item;
		tail = &item->next;
		skip_ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == close) {
			p->s++;
			return 0;
		}
		fail(p, "expected ',' or '%c'", close);
		return -1;
	}
}

static struct json *parse_value(struct parser *p, int depth)
{
	if (depth > JSON_MAX_DEPTH) {
		fail(p, "nested too deeply");
		return NULL;
	}
	struct json *v = calloc(1, sizeof(*v));
	if (!v) {
		fail(p, "out of memory");
		return NULL;
	}
	skip_ws(p);
	int rc = 0;
	if (p->s >= p->end) {
		fail(p, "unexpected end");
		rc = -1;
	} else if (*p->s == '{' || *p->s == '[') {
		v->type = *p->s == '{' ? JSON_OBJECT : JSON_ARRAY;
		p->s++;
		rc = parse_items(p, v, depth);
	} else if (*p->s == '"') {
		v->type = JSON_STRING;
		rc = (v->text = parse_string(p)) ? 0 : -1;
	} else if (*p->s == '-' || (*p->s >= '0' && *p->s <= '9')) {
		rc = parse_number(p, v);
	} else if (literal(p, "true")) {
		v->type = JSON_TRUE;
	} else if (literal(p, "false")) {
		v->type = JSON_FALSE;
	} else if (literal(p, "null")) {
		v->type = JSON_NULL;
	} else {
		fail(p, "unexpected character at offset %zu", (size_t)(p->s - p->start));
		rc = -1;
	}
	if (rc) {
		json_free(v);
		return NULL;
	}
	return v;
}

struct json *json_parse(const char *s, size_t len, char *err, size_t errsize)
{
	struct parser p = { .start = s, .s = s, .end = s + len, .err = err, .errsize = errsize };
	if (err && errsize)
		err[0] = '\0';
	struct json *v = parse_value(&p, 0);
	if (!v)
		return NULL;
	skip_ws(&p);
	if (p.s != p.end) {
		fail(&p, "trailing characters after the document");
		json_free(v);
		return NULL;
	}
	return v;
}

void json_free(struct json *v)
{
	while (v) {
		struct json *next = v->next;
		json_free(v->child); /* depth is capped at JSON_MAX_DEPTH */
		free(v->key);
		free(v->text);
		free(v);
		v = next;
	}
}

const struct json *json_get(const struct json *obj, const char *name)
{
	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (const struct json *m = obj->child; m; m = m->next)
		if (!strcmp(m->key, name))
			return m;
	return NULL;
}

const char *json_get_str(const struct json *obj, const char *name)
{
	const struct json *v = json_get(obj, name);
	return v && v->type == JSON_STRING ? v->text : NULL;
}

int json_u64(const struct json *v, uint64_t *out)
{
	if (!v || v->type != JSON_NUMBER || v->text[0] == '-' || strpbrk(v->text, ".eE"))
		return -1;
	errno = 0;
	char *end;
	unsigned long long n = strtoull(v->text, &end, 10);
	if (errno || *end)
		return -1;
	*out = n;
	return 0;
}

int json_i64(const struct json *v, int64_t *out)
{
	if (!v || v->type != JSON_NUMBER || strpbrk(v->text, ".eE"))
		return -1;
	errno = 0;
	char *end;
	long long n = strtoll(v->text, &end, 10);
	if (errno || *end)
		return -1;
	*out = n;
	return 0;
}

double json_num(const struct json *v)
{
	return v && v->type == JSON_NUMBER ? strtod(v->text, NULL) : 0.0;
}

uint64_t json_get_u64(const struct json *obj, const char *name, uint64_t dflt)
{
	uint64_t n;
	return json_u64(json_get(obj, name), &n) ? dflt : n;
}

int64_t json_get_i64(const struct json *obj, const char *name, int64_t dflt)
{
	int64_t n;
	return json_i64(json_get(obj, name), &n) ? dflt : n;
}

int json_get_bool(const struct json *obj, const char *name, int dflt)
{
	const struct json *v = json_get(obj, name);
	if (v && v->type == JSON_TRUE)
		return 1;
	if (v && v->type == JSON_FALSE)
		return 0;
	return dflt;
}
