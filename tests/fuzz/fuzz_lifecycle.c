/*
 * fuzz_lifecycle — the lifecycle configuration (s3/s3_lifecycle_doc.c):
 * PutBucketLifecycleConfiguration's document and which rule expires an
 * object.
 *
 * Input: a LifecycleConfiguration body, then optionally "\n--\n" and an
 * object: key, size, mtime (seconds), tags (S3's encoded form), one a
 * line.
 *
 * Properties: errors are only the documented ones; a parsed configuration
 * has 1..1000 rules with unique IDs of 1..255 characters, each with an
 * action and positive day counts; written back (what the core keeps and
 * GetBucketLifecycleConfiguration sends) it parses to the same document;
 * an object's expiry, when a rule gives one, comes from an enabled rule
 * whose filter matches it and is a day boundary (Days) or the rule's
 * Date, never before the object's mtime. Nothing leaks.
 */
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "s3/s3_lifecycle.h"
#include "tests/fuzz/fuzz.h"

static int documented(enum s3_err e)
{
	return e == S3_ERR_MALFORMED_XML || e == S3_ERR_INVALID_ARGUMENT ||
	       e == S3_ERR_INVALID_REQUEST || e == S3_ERR_NOT_IMPLEMENTED || e == S3_ERR_SLOW_DOWN;
}

static void check_rules(const struct s3_lc *c)
{
	FUZZ_CHECK(c->n >= 1 && c->n <= S3_LC_RULES_MAX);
	for (int i = 0; i < c->n; i++) {
		const struct s3_lc_rule *r = &c->rules[i];
		size_t n = strlen(r->id);
		FUZZ_CHECK(n >= 1 && n <= S3_LC_ID_MAX);
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(c->rules[j].id, r->id));
		FUZZ_CHECK(r->exp_days > 0 || r->exp_date >= 0 || r->exp_marker >= 0 ||
			   r->nc_days > 0 || r->abort_days > 0);
		FUZZ_CHECK(r->exp_days >= 0 && r->nc_days >= 0 && r->abort_days >= 0);
	}
}

static void check_object(const struct s3_lc *c, char *line)
{
	char *size = strchr(line, '\n'), *mtime = NULL, *tags = NULL;
	if (size && (*size++ = '\0', mtime = strchr(size, '\n')) &&
	    (*mtime++ = '\0', tags = strchr(mtime, '\n')))
		*tags++ = '\0';
	struct s3_lc_obj o = { line, size ? strtoull(size, NULL, 10) : 0,
			       mtime ? strtoll(mtime, NULL, 10) % (1LL << 40) : 0, tags };
	if (o.mtime < 0)
		o.mtime = -o.mtime;
	const struct s3_lc_rule *r;
	int64_t at = s3_lc_expiry(c, &o, S3_LC_DAY, &r);
	if (at < 0) {
		FUZZ_CHECK(r == NULL);
		return;
	}
	FUZZ_CHECK(r && r->enabled && s3_lc_match(r, &o));
	FUZZ_CHECK(r->exp_days ? at % S3_LC_DAY == 0 && at >= o.mtime : at == r->exp_date);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_cstring(data, size, S3_LC_BODY_MAX + 4096);
	if (!in)
		return 0;
	char *sep = strstr(in, "\n--\n");
	size_t len = strlen(in);
	if (sep) {
		*sep = '\0';
		len = (size_t)(sep - in);
	}
	struct s3_lc c, again;
	char msg[512];
	enum s3_err e = s3_lc_parse(in, len, &c, msg, sizeof(msg));
	FUZZ_CHECK(e == S3_ERR_OK || documented(e));
	FUZZ_CHECK(memchr(msg, '\0', sizeof(msg)) != NULL);
	if (e == S3_ERR_OK) {
		check_rules(&c);
		struct buf b = BUF_INIT(8u << 20), b2 = BUF_INIT(8u << 20);
		FUZZ_CHECK(!s3_lc_xml(&c, &b));
		FUZZ_CHECK(s3_lc_parse(b.ptr, b.len, &again, msg, sizeof(msg)) == S3_ERR_OK);
		FUZZ_CHECK(!s3_lc_xml(&again, &b2));
		FUZZ_CHECK(b.len == b2.len && !memcmp(b.ptr, b2.ptr, b.len));
		s3_lc_free(&again);
		buf_release(&b);
		buf_release(&b2);
		if (sep)
			check_object(&c, sep + 4);
	}
	s3_lc_free(&c);
	free(in);
	return 0;
}
