/*
 * s3_form — multipart/form-data reader, POST policy checker and form
 * signatures for POST Object. See s3_form.h for the rules.
 */
#include "s3/s3_form.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/json_scalar.h"
#include "common/json_write.h"
#include "common/timefmt.h"
#include "src/atrium.h"
#include "common/banned.h"

enum { ST_PREAMBLE, ST_AFTER_DELIM, ST_HEADERS, ST_FIELD, ST_FILE, ST_END, ST_ERR };

#define LINE_MAX_LEN 4096 /* a part header line */

int s3_form_boundary(const char *ct, char out[S3_FORM_BOUNDARY_MAX + 1])
{
	static const char type[] = "multipart/form-data";
	const char *p;
	if (!ct)
		return -1;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, type, sizeof(type) - 1))
		return -1;
	p = ct + sizeof(type) - 1;
	if (*p && *p != ';' && *p != ' ' && *p != '\t')
		return -1;
	while (*p) {
		p += strspn(p, " \t;");
		const char *name = p;
		size_t nlen = strcspn(p, "=; \t");
		p += nlen;
		if (*p != '=')
			continue;
		const char *val = ++p;
		size_t vlen;
		if (*p == '"') {
			const char *q = strchr(++val, '"');
			if (!q)
				return -1;
			vlen = (size_t)(q - val);
			p = q + 1;
		} else {
			vlen = strcspn(p, "; \t");
			p += vlen;
		}
		if (nlen == 8 && !strncasecmp(name, "boundary", 8)) {
			if (vlen == 0 || vlen > S3_FORM_BOUNDARY_MAX || memchr(val, '\r', vlen) ||
			    memchr(val, '\n', vlen))
				return -1;
			memcpy(out, val, vlen);
			out[vlen] = '\0';
			return 0;
		}
	}
	return -1;
}

void s3_form_init(struct s3_form *f, const char *boundary, s3_read_fn read, void *arg)
{
	memset(f, 0, offsetof(struct s3_form, in));
	f->read = read;
	f->arg = arg;
	f->dlen = (size_t)snprintf(f->delim, sizeof(f->delim), "\r\n--%s", boundary);
	/* A CRLF before the body makes the first delimiter look like every
	 * other one ("\r\n--boundary"): then a preamble is just skipped data. */
	memcpy(f->in, "\r\n", 2);
	f->pos = 0;
	f->len = 2;
	f->consumed = 0;
	f->state = ST_PREAMBLE;
	f->err = S3_ERR_OK;
	f->part_name[0] = '\0';
	f->arena_len = 0;
	f->expanded_len = 0;
}

static enum s3_err fail(struct s3_form *f, enum s3_err e)
{
	f->state = ST_ERR;
	f->err = e;
	return e;
}

/* Moves the unread bytes to the front and reads more: >0, 0 at the end of
 * the body, -1 on a source error or a full buffer. */
static long fill(struct s3_form *f)
{
	if (f->pos) {
		memmove(f->in, f->in + f->pos, f->len - f->pos);
		f->len -= f->pos;
		f->pos = 0;
	}
	if (f->len == sizeof(f->in))
		return -1;
	long n = f->read(f->arg, f->in + f->len, sizeof(f->in) - f->len);
	if (n > 0)
		f->len += (size_t)n;
	return n;
}

static void consume(struct s3_form *f, size_t n)
{
	f->pos += n;
	if (f->state != ST_FILE)
		f->consumed += n;
}

/* Part data up to the next delimiter: >0 bytes, 0 at the delimiter (then
 * consumed, state AFTER_DELIM), -1 with f->err. */
static long data_read(struct s3_form *f, void *buf, size_t len)
{
	for (;;) {
		size_t avail = f->len - f->pos;
		const unsigned char *p = f->in + f->pos;
		const unsigned char *d = memmem(p, avail, f->delim, f->dlen);
		/* Without a delimiter in sight, its first bytes may be the tail. */
		size_t safe = d ? (size_t)(d - p) : avail >= f->dlen ? avail - (f->dlen - 1) : 0;
		if (safe) {
			size_t n = safe < len ? safe : len;
			if (buf)
				memcpy(buf, p, n);
			consume(f, n);
			return (long)n;
		}
		if (d) {
			consume(f, f->dlen);
			f->state = ST_AFTER_DELIM;
			return 0;
		}
		long n = fill(f);
		if (n < 0) {
			fail(f, S3_ERR_INCOMPLETE_BODY);
			return -1;
		}
		if (n == 0) {
			fail(f, S3_ERR_MALFORMED_POST); /* no closing delimiter */
			return -1;
		}
	}
}

/* At least want bytes buffered (or the body ended): 0, or -1 on a source error. */
static int ensure(struct s3_form *f, size_t want)
{
	while (f->len - f->pos < want) {
		long n = fill(f);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
	}
	return 0;
}

/* One line (LF-terminated; a CR before it dropped) at *line, *n bytes
 * without the terminator; consumed. 0, or -1 with f->err. */
static int read_line(struct s3_form *f, char *line, size_t *n)
{
	for (;;) {
		const unsigned char *p = f->in + f->pos;
		size_t avail = f->len - f->pos;
		const unsigned char *nl = memchr(p, '\n', avail);
		if (nl) {
			size_t k = (size_t)(nl - p);
			if (k >= LINE_MAX_LEN) {
				fail(f, S3_ERR_MAX_POST_PRE_DATA);
				return -1;
			}
			memcpy(line, p, k);
			if (k && line[k - 1] == '\r')
				k--;
			line[k] = '\0';
			*n = k;
			consume(f, (size_t)(nl - p) + 1);
			return 0;
		}
		if (avail >= LINE_MAX_LEN) {
			fail(f, S3_ERR_MAX_POST_PRE_DATA);
			return -1;
		}
		long r = fill(f);
		if (r <= 0) {
			fail(f, r < 0 ? S3_ERR_INCOMPLETE_BODY : S3_ERR_MALFORMED_POST);
			return -1;
		}
	}
}

/* A Content-Disposition parameter value: quoted (with backslash escapes)
 * or a token. Returns the position after it; *ok = 0 if it does not fit. */
static const char *param_value(const char *p, char *out, size_t size, int *ok)
{
	size_t k = 0;
	*ok = 1;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (k + 1 >= size)
				*ok = 0;
			else
				out[k++] = *p;
		}
		if (*p != '"')
			*ok = 0;
		else
			p++;
	} else {
		for (; *p && *p != ';' && *p != ' ' && *p != '\t'; p++) {
			if (k + 1 >= size)
				*ok = 0;
			else
				out[k++] = *p;
		}
	}
	out[k] = '\0';
	return p;
}

/* "form-data; name=\"x\"; filename=\"y\"" into part_name and file_name. */
static int disposition(struct s3_form *f, const char *v)
{
	int have_name = 0, ok;
	v += strspn(v, " \t");
	if (strncasecmp(v, "form-data", 9) || (v[9] && v[9] != ';' && v[9] != ' ' && v[9] != '\t'))
		return -1;
	v += 9;
	for (;;) {
		v += strspn(v, " \t;");
		if (!*v)
			break;
		size_t nlen = strcspn(v, "= \t;");
		const char *name = v;
		v += nlen;
		v += strspn(v, " \t");
		if (*v != '=')
			continue; /* a parameter without value: ignored */
		v++;
		v += strspn(v, " \t");
		if (nlen == 4 && !strncasecmp(name, "name", 4)) {
			v = param_value(v, f->part_name, sizeof(f->part_name), &ok);
			if (!ok || !f->part_name[0])
				return -1;
			have_name = 1;
		} else if (nlen == 8 && !strncasecmp(name, "filename", 8)) {
			v = param_value(v, f->file_name, sizeof(f->file_name), &ok);
			if (!ok)
				return -1;
		} else {
			char skip[LINE_MAX_LEN];
			v = param_value(v, skip, sizeof(skip), &ok);
		}
	}
	return have_name ? 0 : -1;
}

/* After a delimiter: the closing one ("--"), or a part's headers. Returns
 * 1 with the part's headers read, 0 at the end, -1 with f->err. */
static int next_part(struct s3_form *f)
{
	char line[LINE_MAX_LEN];
	size_t n;
	while (f->state == ST_PREAMBLE || f->state == ST_FIELD) {
		long r = data_read(f, NULL, sizeof(f->in));
		if (r < 0)
			return -1;
	}
	if (f->state != ST_AFTER_DELIM) {
		fail(f, S3_ERR_MALFORMED_POST);
		return -1;
	}
	if (ensure(f, 2)) {
		fail(f, S3_ERR_INCOMPLETE_BODY);
		return -1;
	}
	if (f->len - f->pos >= 2 && !memcmp(f->in + f->pos, "--", 2)) {
		consume(f, 2);
		f->state = ST_END;
		return 0;
	}
	/* The rest of the delimiter line: transport padding only. */
	if (read_line(f, line, &n))
		return -1;
	if (strspn(line, " \t") != n) {
		fail(f, S3_ERR_MALFORMED_POST);
		return -1;
	}
	f->state = ST_HEADERS;
	f->part_name[0] = '\0';
	f->file_name[0] = '\0';
	f->file_type[0] = '\0';
	int have_cd = 0;
	for (;;) {
		if (read_line(f, line, &n))
			return -1;
		if (f->consumed > S3_FORM_PRE_MAX) {
			fail(f, S3_ERR_MAX_POST_PRE_DATA);
			return -1;
		}
		if (n == 0)
			break;
		char *colon = strchr(line, ':');
		if (!colon || colon == line) {
			fail(f, S3_ERR_MALFORMED_POST);
			return -1;
		}
		*colon = '\0';
		const char *v = colon + 1 + strspn(colon + 1, " \t");
		if (!strcasecmp(line, "Content-Disposition")) {
			if (have_cd || disposition(f, v)) {
				fail(f, S3_ERR_MALFORMED_POST);
				return -1;
			}
			have_cd = 1;
		} else if (!strcasecmp(line, "Content-Type")) {
			size_t k = strlen(v);
			while (k && (v[k - 1] == ' ' || v[k - 1] == '\t'))
				k--;
			if (k > S3_FORM_NAME_MAX) {
				fail(f, S3_ERR_MALFORMED_POST);
				return -1;
			}
			memcpy(f->file_type, v, k);
			f->file_type[k] = '\0';
		}
	}
	if (!have_cd) {
		fail(f, S3_ERR_MALFORMED_POST);
		return -1;
	}
	f->state = ST_FIELD;
	return 1;
}

enum s3_err s3_form_fields(struct s3_form *f)
{
	if (f->state == ST_ERR)
		return f->err;
	if (f->state != ST_PREAMBLE)
		return fail(f, S3_ERR_INTERNAL);
	for (;;) {
		int r = next_part(f);
		if (r < 0)
			return f->err;
		if (r == 0)
			return fail(f, S3_ERR_MISSING_FILE);
		if (!strcasecmp(f->part_name, "file")) {
			f->state = ST_FILE;
			return S3_ERR_OK;
		}
		if (f->nfields == S3_FORM_FIELDS_MAX)
			return fail(f, S3_ERR_MAX_POST_PRE_DATA);
		size_t nlen = strlen(f->part_name) + 1, room = sizeof(f->arena) - f->arena_len;
		if (nlen >= room)
			return fail(f, S3_ERR_MAX_POST_PRE_DATA);
		struct s3_form_field *fl = &f->fields[f->nfields];
		char *name = f->arena + f->arena_len;
		memcpy(name, f->part_name, nlen);
		f->arena_len += nlen;
		char *value = f->arena + f->arena_len;
		size_t vlen = 0;
		for (;;) {
			room = sizeof(f->arena) - f->arena_len - vlen;
			if (room <= 1)
				return fail(f, S3_ERR_MAX_POST_PRE_DATA);
			long n = data_read(f, value + vlen, room - 1);
			if (n < 0)
				return f->err;
			if (n == 0)
				break;
			vlen += (size_t)n;
			if (f->consumed > S3_FORM_PRE_MAX)
				return fail(f, S3_ERR_MAX_POST_PRE_DATA);
		}
		value[vlen] = '\0';
		f->arena_len += vlen + 1;
		fl->name = name;
		fl->value = value;
		fl->value_len = vlen;
		f->nfields++;
		if (f->consumed > S3_FORM_PRE_MAX)
			return fail(f, S3_ERR_MAX_POST_PRE_DATA);
	}
}

long s3_form_read(struct s3_form *f, void *buf, size_t len, enum s3_err *err)
{
	if (f->state == ST_AFTER_DELIM || f->state == ST_END)
		return 0;
	if (f->state != ST_FILE) {
		*err = f->state == ST_ERR ? f->err : S3_ERR_INTERNAL;
		return -1;
	}
	long n = data_read(f, buf, len);
	if (n < 0)
		*err = f->err;
	return n;
}

const struct s3_form_field *s3_form_get(const struct s3_form *f, const char *name)
{
	for (int i = 0; i < f->nfields; i++)
		if (!strcasecmp(f->fields[i].name, name))
			return &f->fields[i];
	return NULL;
}

/* ---- ${filename} ---- */

/* The fields that sign a form: never rewritten (the signature is over the
 * policy as sent). */
static int signs_form(const char *name)
{
	static const char *const names[] = { "policy", "x-amz-signature", "signature",
					     "awsaccesskeyid", "x-amz-credential",
					     "x-amz-algorithm", "x-amz-date",
					     "x-amz-security-token" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return 1;
	return 0;
}

enum s3_err s3_form_expand(struct s3_form *f)
{
	static const char var[] = "${filename}";
	const size_t vlen = sizeof(var) - 1;
	/* "C:\\dir\\a.txt" and "dir/a.txt" are "a.txt" (AWS). */
	const char *name = f->file_name;
	for (const char *p = f->file_name; *p; p++)
		if (*p == '/' || *p == '\\')
			name = p + 1;
	size_t nlen = strlen(name);
	for (int i = 0; i < f->nfields; i++) {
		struct s3_form_field *fl = &f->fields[i];
		if (signs_form(fl->name) || !memmem(fl->value, fl->value_len, var, vlen))
			continue;
		char *out = f->expanded + f->expanded_len;
		size_t k = 0, room = sizeof(f->expanded) - f->expanded_len;
		for (size_t j = 0; j < fl->value_len;) {
			int hit = fl->value_len - j >= vlen && !memcmp(fl->value + j, var, vlen);
			size_t add = hit ? nlen : 1;
			if (k + add + 1 > room)
				return S3_ERR_MAX_POST_PRE_DATA;
			memcpy(out + k, hit ? name : fl->value + j, add);
			k += add;
			j += hit ? vlen : 1;
		}
		out[k] = '\0';
		f->expanded_len += k + 1;
		fl->value = out;
		fl->value_len = k;
	}
	return S3_ERR_OK;
}

/* ---- checksums ---- */

enum s3_err s3_form_checksum(const struct s3_form *f, enum checksum_alg *alg,
			     const char **value)
{
	const struct s3_form_field *named = s3_form_get(f, "x-amz-checksum-algorithm");
	*alg = CHECKSUM_NONE;
	*value = NULL;
	for (int i = 0; i < f->nfields; i++) {
		const char *n = f->fields[i].name;
		if (strncasecmp(n, "x-amz-checksum-", 15) || !strcasecmp(n + 15, "algorithm"))
			continue;
		enum checksum_alg a = checksum_by_name(n + 15);
		if (a == CHECKSUM_NONE)
			return S3_ERR_CHECKSUM_ALG;
		if (*value)
			return S3_ERR_CHECKSUM_MULTIPLE;
		*alg = a;
		*value = f->fields[i].value;
	}
	if (named) {
		enum checksum_alg a = checksum_by_name(named->value);
		if (a == CHECKSUM_NONE || (*value && a != *alg))
			return S3_ERR_CHECKSUM_ALG;
		if (!*value)
			return S3_ERR_CHECKSUM_MISSING;
	}
	return S3_ERR_OK;
}

/* ---- policy ---- */

/* "2026-01-02T03:04:05Z", fractional seconds allowed ("...05.000Z"): the
 * full form, in UTC. */
static int parse_iso8601(const char *s, time_t *out)
{
	int64_t ms;
	size_t n = strlen(s);
	if (n < 20 || s[10] != 'T' || s[16] != ':' || s[n - 1] != 'Z' || time_parse_iso8601(s, &ms))
		return -1;
	*out = (time_t)(ms >= 0 ? ms / 1000 : -((999 - ms) / 1000)); /* whole seconds, down */
	return 0;
}

/* A condition's value: a string, or a number as text (json_scalar_text).
 * NULL for any other type: true and false are not values here. */
static const char *cond_text(const json_t *v, char *num, size_t size)
{
	return json_is_boolean(v) ? NULL : json_scalar_text(v, num, size);
}

/* A content-length-range bound: a non-negative integer. */
static int cond_size(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/* The value the form gives name ("" if none); "bucket" is the request's. */
static const char *field_value(const struct s3_form *f, const char *bucket, const char *name,
			       size_t *len)
{
	if (!strcasecmp(name, "bucket")) {
		*len = strlen(bucket);
		return bucket;
	}
	const struct s3_form_field *fl = s3_form_get(f, name);
	*len = fl ? fl->value_len : 0;
	return fl ? fl->value : "";
}

static int starts_with(const char *v, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && !memcmp(v, prefix, n);
}

/* starts-with on Content-Type: each comma-separated value must match. */
static int starts_with_list(const char *v, size_t len, const char *prefix)
{
	const char *end = v + len;
	while (v <= end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *stop = comma ? comma : end;
		while (v < stop && (*v == ' ' || *v == '\t'))
			v++;
		if (!starts_with(v, (size_t)(stop - v), prefix))
			return 0;
		if (!comma)
			break;
		v = comma + 1;
	}
	return 1;
}

static void cond_msg(char *msg, size_t size, const char *op, const char *name,
		     const char *value)
{
	struct buf b = BUF_INIT(4096), n = BUF_INIT(2048);
	if (!buf_addch(&n, '$') && !buf_addstr(&n, name) &&
	    !buf_addstr(&b, "Invalid according to Policy: Policy Condition failed: [") &&
	    !json_add_str(&b, op) && !buf_addstr(&b, ", ") && !json_add_str(&b, n.ptr) &&
	    !buf_addstr(&b, ", ") && !json_add_str(&b, value) && !buf_addch(&b, ']'))
		snprintf(msg, size, "%s", b.ptr);
	else
		snprintf(msg, size, "Invalid according to Policy: Policy Condition failed");
	buf_release(&n);
	buf_release(&b);
}

/* Marks every field named name as covered by a condition. */
static void cover(const struct s3_form *f, const char *name, unsigned char *covered)
{
	for (int i = 0; i < f->nfields; i++)
		if (!strcasecmp(f->fields[i].name, name))
			covered[i] = 1;
}

static int exempt(const char *name)
{
	static const char *const names[] = { "file", "policy", "x-amz-signature", "signature",
					     "awsaccesskeyid" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return 1;
	/* A checksum field restricts what is stored, never widens it. */
	return !strncasecmp(name, "x-ignore-", 9) || !strncasecmp(name, "x-amz-checksum-", 15);
}

/* One condition; S3_ERR_OK, INVALID_POLICY or POLICY_CONDITION (msg). */
static enum s3_err condition(json_t *c, const struct s3_form *f, const char *bucket,
			     unsigned char *covered, struct s3_policy_limits *lim, char *msg,
			     size_t msgsize)
{
	char num[32];
	size_t len;
	const char *have, *key;
	const json_t *m;
	if (json_is_object(c)) {
		if (!json_object_size(c))
			return S3_ERR_INVALID_POLICY;
		/* libjansson keeps members in document order: the first failing
		 * condition is the one reported. */
		json_object_foreach(c, key, m) {
			const char *want = cond_text(m, num, sizeof(num));
			if (!want)
				return S3_ERR_INVALID_POLICY;
			have = field_value(f, bucket, key, &len);
			cover(f, key, covered);
			if (len != strlen(want) || memcmp(have, want, len)) {
				cond_msg(msg, msgsize, "eq", key, want);
				return S3_ERR_POLICY_CONDITION;
			}
		}
		return S3_ERR_OK;
	}
	if (!json_is_array(c) || json_array_size(c) != 3 || !json_is_string(json_array_get(c, 0)))
		return S3_ERR_INVALID_POLICY;
	const json_t *b = json_array_get(c, 1), *v = json_array_get(c, 2);
	const char *op = json_string_value(json_array_get(c, 0));
	if (!strcasecmp(op, "content-length-range")) {
		uint64_t lo, hi;
		if (cond_size(b, &lo) || cond_size(v, &hi))
			return S3_ERR_INVALID_POLICY;
		if (lo > lim->min_size)
			lim->min_size = lo;
		if (hi < lim->max_size)
			lim->max_size = hi;
		return S3_ERR_OK;
	}
	int eq = !strcasecmp(op, "eq");
	if (!eq && strcasecmp(op, "starts-with"))
		return S3_ERR_INVALID_POLICY;
	const char *want = cond_text(v, num, sizeof(num));
	const char *ref = json_string_value(b); /* NULL if not a string */
	if (!ref || ref[0] != '$' || !ref[1] || !want)
		return S3_ERR_INVALID_POLICY;
	const char *name = ref + 1;
	have = field_value(f, bucket, name, &len);
	cover(f, name, covered);
	int ok = eq ? len == strlen(want) && !memcmp(have, want, len)
	       : !strcasecmp(name, "Content-Type") ? starts_with_list(have, len, want)
						   : starts_with(have, len, want);
	if (!ok) {
		cond_msg(msg, msgsize, eq ? "eq" : "starts-with", name, want);
		return S3_ERR_POLICY_CONDITION;
	}
	return S3_ERR_OK;
}

enum s3_err s3_policy_check(const char *policy_b64, size_t len, const struct s3_form *f,
			    const char *bucket, time_t now, struct s3_policy_limits *lim,
			    char *msg, size_t msgsize)
{
	unsigned char covered[S3_FORM_FIELDS_MAX] = { 0 };
	json_t *root = NULL;
	char *clean = NULL;
	unsigned char *doc = NULL;
	enum s3_err e = S3_ERR_INVALID_POLICY;
	time_t exp;

	lim->min_size = 0;
	lim->max_size = UINT64_MAX;
	if (msgsize)
		msg[0] = '\0';
	if (len > S3_FORM_PRE_MAX)
		goto out;
	/* Some encoders wrap base64 lines: whitespace is not part of it. */
	if (!(clean = malloc(len + 1)) || !(doc = malloc(len + 1)))
		goto out;
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", policy_b64[i]) || !policy_b64[i])
			clean[k++] = policy_b64[i];
	int n = base64_decode(clean, k, doc, len);
	/* A key named twice is refused: two readers taking different copies
	 * of a condition is how a policy check is slipped past. */
	if (n <= 0 || !(root = json_loadb((const char *)doc, (size_t)n, JSON_REJECT_DUPLICATES,
					  NULL)) ||
	    !json_is_object(root))
		goto out;
	const char *expiration = json_string_value(json_object_get(root, "expiration"));
	const json_t *conds = json_object_get(root, "conditions");
	if (!expiration || parse_iso8601(expiration, &exp) || !json_is_array(conds))
		goto out;
	if (now >= exp) {
		snprintf(msg, msgsize, "Invalid according to Policy: Policy expired.");
		e = S3_ERR_POLICY_EXPIRED;
		goto out;
	}
	/* A signed policy is a bearer credential for uploads: bounded like a
	 * presigned URL (S3_PRESIGN_MAX), not by whatever date it names. */
	if (exp - now > S3_PRESIGN_MAX) {
		e = S3_ERR_POLICY_EXPIRATION_TOO_LONG;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(conds); i++)
		if ((e = condition(json_array_get(conds, i), f, bucket, covered, lim, msg, msgsize)))
			goto out;
	struct buf extra = BUF_INIT(S3_FORM_PRE_MAX);
	for (int i = 0; i < f->nfields; i++)
		if (!covered[i] && !exempt(f->fields[i].name) &&
		    (buf_addstr(&extra, extra.len ? ", " : "") ||
		     buf_addstr(&extra, f->fields[i].name)))
			break;
	if (extra.len) {
		snprintf(msg, msgsize, "Invalid according to Policy: Extra input fields: %s",
			 extra.ptr);
		e = S3_ERR_POLICY_EXTRA_FIELDS;
	} else {
		e = S3_ERR_OK;
	}
	buf_release(&extra);
out:
	json_decref(root);
	free(clean);
	free(doc);
	return e;
}

/* ---- signatures ---- */

/* "AK/20130524/us-east-1/s3/aws4_request". */
static int credential_split(const char *s, char ak[129], char date8[9], char region[65])
{
	const char *part[5];
	size_t plen[5];
	const char *p = s;
	for (int i = 0; i < 5; i++) {
		size_t k = i < 4 ? strcspn(p, "/") : strlen(p);
		if (i < 4 && p[k] != '/')
			return -1;
		part[i] = p;
		plen[i] = k;
		p += k + (i < 4);
	}
	if (!plen[0] || plen[0] > 128 || plen[1] != 8 || !plen[2] || plen[2] > 64 ||
	    plen[3] != 2 || memcmp(part[3], "s3", 2) || plen[4] != 12 ||
	    memcmp(part[4], "aws4_request", 12) || strchr(part[4], '/'))
		return -1;
	for (size_t i = 0; i < 8; i++)
		if (part[1][i] < '0' || part[1][i] > '9')
			return -1;
	memcpy(ak, part[0], plen[0]);
	ak[plen[0]] = '\0';
	memcpy(date8, part[1], 8);
	date8[8] = '\0';
	memcpy(region, part[2], plen[2]);
	region[plen[2]] = '\0';
	return 0;
}

const char *s3_form_missing_field(const struct s3_form *f)
{
	static const char *const v4[] = { "x-amz-algorithm", "x-amz-credential",
					  "x-amz-signature", "policy" };
	static const char *const v2[] = { "AWSAccessKeyId", "signature", "policy" };
	int any4 = 0, any2 = 0;
	for (size_t i = 0; i < 3; i++)
		any4 |= s3_form_get(f, v4[i]) != NULL;
	for (size_t i = 0; i < 2; i++)
		any2 |= s3_form_get(f, v2[i]) != NULL;
	if (!any4 && !any2 && !s3_form_get(f, "policy"))
		return NULL; /* unsigned */
	const char *const *set = any4 ? v4 : v2;
	size_t n = any4 ? 4 : 3;
	for (size_t i = 0; i < n; i++)
		if (!s3_form_get(f, set[i]))
			return set[i];
	return NULL;
}

/* Simple mode's rule for a user named by its access key. */
enum s3_err s3_form_auth(enum s3_auth_mode mode, const struct s3_form *f,
			 s3_secret_fn secret_fn, void *arg, char *user, size_t user_size,
			 int *anonymous)
{
	const struct s3_form_field *alg = s3_form_get(f, "x-amz-algorithm");
	const struct s3_form_field *policy = s3_form_get(f, "policy");
	const struct s3_form_field *v2ak = s3_form_get(f, "AWSAccessKeyId");
	char ak[129], date8[9], region[65], secret[S3_SECRET_MAX + 1] = "";
	enum s3_err e;

	*anonymous = 0;
	user[0] = '\0';
	if (mode != S3_AUTH_SIMPLE && s3_form_missing_field(f))
		return S3_ERR_POST_FIELD_MISSING;
	if (alg) {
		const struct s3_form_field *cred = s3_form_get(f, "x-amz-credential");
		if (strcmp(alg->value, "AWS4-HMAC-SHA256") || !cred ||
		    credential_split(cred->value, ak, date8, region))
			return S3_ERR_INVALID_ARGUMENT;
	} else if (v2ak) {
		if (!v2ak->value[0] && mode == S3_AUTH_SIMPLE) {
			*anonymous = 1; /* no user named: as s3_auth_check does */
			return S3_ERR_OK;
		}
		if (!v2ak->value[0] || v2ak->value_len > 128)
			return S3_ERR_INVALID_ARGUMENT;
		memcpy(ak, v2ak->value, v2ak->value_len + 1);
	} else {
		*anonymous = 1; /* unsigned: the bucket must let anyone write */
		return S3_ERR_OK;
	}
	if (mode == S3_AUTH_SIMPLE) {
		if (!atr_user_name_valid(ak, strlen(ak)))
			return S3_ERR_INVALID_ARGUMENT;
		snprintf(user, user_size, "%s", ak);
		return S3_ERR_OK;
	}
	const struct s3_form_field *sig = s3_form_get(f, alg ? "x-amz-signature" : "signature");
	if (!policy || !sig)
		return S3_ERR_POST_FIELD_MISSING; /* s3_form_missing_field names it */
	if (secret_fn(arg, ak, secret, sizeof(secret), user, user_size))
		return S3_ERR_INVALID_ACCESS_KEY;
	secret[sizeof(secret) - 1] = '\0';
	e = S3_ERR_SIGNATURE_MISMATCH;
	if (alg) {
		unsigned char key[SHA256_LEN], mac[SHA256_LEN], want[SHA256_LEN];
		s3_sigv4_signing_key(secret, date8, region, "s3", key);
		hmac_sha256(key, sizeof(key), policy->value, policy->value_len, mac);
		if (!hex_decode(sig->value, sig->value_len, want, sizeof(want)) &&
		    secure_equal(mac, want, sizeof(mac)))
			e = S3_ERR_OK;
		explicit_bzero(key, sizeof(key));
	} else {
		unsigned char mac[SHA1_LEN], want[SHA1_LEN];
		hmac_sha1(secret, strlen(secret), policy->value, policy->value_len, mac);
		if (base64_decode(sig->value, sig->value_len, want, sizeof(want)) == SHA1_LEN &&
		    secure_equal(mac, want, sizeof(mac)))
			e = S3_ERR_OK;
	}
	explicit_bzero(secret, sizeof(secret));
	if (e)
		user[0] = '\0';
	return e;
}
