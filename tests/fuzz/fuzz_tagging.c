/*
 * fuzz_tagging — tag sets in (s3/s3_tagging.c): the <Tagging> body of
 * PutObjectTagging and PutBucketTagging (and POST Object's tagging field),
 * and the x-amz-tagging header's URL query form (PutObject, CopyObject,
 * CreateMultipartUpload).
 *
 * Input: a mode byte (mode % 3: 0 object body, 1 bucket body, 2 header),
 * then the body or header value.
 *
 * Properties: errors are only the documented ones (never InternalError:
 * the callers' buffers, S3_TAGS_BUF, hold any set within the limits); on
 * success the stored form "k=v&..." parses back as a query of at most 10
 * tags (50 on a bucket), keys of 1..128 and values of 0..256 Unicode
 * characters, valid UTF-8 without control characters, no key twice;
 * s3_tagging_count agrees; the set sent back as GetObjectTagging does (the
 * same XML) and, within the object limit, as an x-amz-tagging header reads
 * back to the same stored form. Nothing leaks.
 */
#include <string.h>

#include "common/buf.h"
#include "common/uri.h"
#include "s3/s3_int.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (64 * 1024) /* TAGGING_BODY_MAX */

/* Unicode characters, or -1 for invalid UTF-8 or a control character. */
static long chars(const char *s)
{
	long n = 0;
	if (!utf8_valid(s, strlen(s)))
		return -1;
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return -1;
		n += ((unsigned char)*s & 0xc0) != 0x80;
	}
	return n;
}

static int documented(enum s3_err e)
{
	return e == S3_ERR_MALFORMED_XML || e == S3_ERR_TAGS_TOO_MANY ||
	       e == S3_ERR_BUCKET_TAGS_TOO_MANY || e == S3_ERR_TAG_KEY_INVALID ||
	       e == S3_ERR_TAG_VALUE_INVALID || e == S3_ERR_TAG_KEY_DUPLICATE ||
	       e == S3_ERR_TAG_HEADER_INVALID;
}

/* The stored form as GetObjectTagging sends it (send_tagging). */
static void as_xml(const struct uri_query *q, struct buf *xml)
{
	FUZZ_CHECK(!s3_xml_open(xml, "Tagging") && !buf_addstr(xml, "<TagSet>"));
	for (int i = 0; i < q->n; i++)
		FUZZ_CHECK(!buf_addstr(xml, "<Tag>") && !s3_xml_elem(xml, "Key", q->p[i].name) &&
			   !s3_xml_elem(xml, "Value", q->p[i].value ? q->p[i].value : "") &&
			   !buf_addstr(xml, "</Tag>"));
	FUZZ_CHECK(!buf_addstr(xml, "</TagSet></Tagging>"));
}

static void check_set(const char *stored, int max, int bucket)
{
	struct uri_query q;
	FUZZ_CHECK(uri_query_parse(&q, stored) == 0);
	FUZZ_CHECK(q.n <= max && q.n == s3_tagging_count(stored));
	for (int i = 0; i < q.n; i++) {
		const char *v = q.p[i].value ? q.p[i].value : "";
		long kc = chars(q.p[i].name), vc = chars(v);
		FUZZ_CHECK(kc >= 1 && kc <= S3_TAG_KEY_MAX);
		FUZZ_CHECK(vc >= 0 && vc <= S3_TAG_VALUE_MAX);
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(q.p[i].name, q.p[j].name));
	}

	/* GET then PUT of the same set stores the same string. */
	struct buf xml = BUF_INIT(1 << 20), again = BUF_INIT(S3_TAGS_BUF(S3_BUCKET_TAGS_MAX));
	as_xml(&q, &xml);
	enum s3_err e = bucket ? s3_bucket_tagging_from_xml(xml.ptr, xml.len, &again)
			       : s3_tagging_from_xml(xml.ptr, xml.len, &again);
	FUZZ_CHECK(e == S3_ERR_OK);
	FUZZ_CHECK(!strcmp(again.ptr ? again.ptr : "", stored));
	buf_release(&xml);
	buf_release(&again);

	/* And as an x-amz-tagging header, where 10 is the limit. */
	struct buf hdr = BUF_INIT(S3_TAGS_BUF(S3_TAGS_MAX));
	e = s3_tagging_from_header(stored, &hdr);
	if (q.n <= S3_TAGS_MAX) {
		FUZZ_CHECK(e == S3_ERR_OK);
		FUZZ_CHECK(!strcmp(hdr.ptr ? hdr.ptr : "", stored));
	} else {
		FUZZ_CHECK(e == S3_ERR_TAGS_TOO_MANY);
	}
	buf_release(&hdr);
	uri_query_release(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > INPUT_MAX)
		return 0;
	int mode = data[0] % 3, bucket = mode == 1;
	const char *in = (const char *)data + 1;
	size_t len = size - 1;
	/* What the callers give it. */
	struct buf out = BUF_INIT(S3_TAGS_BUF(bucket ? S3_BUCKET_TAGS_MAX : S3_TAGS_MAX));
	enum s3_err e;
	if (mode == 2) {
		char *h = malloc(len + 1);
		if (!h)
			return 0;
		memcpy(h, in, len);
		h[len] = '\0';
		e = s3_tagging_from_header(h, &out);
		free(h);
	} else if (bucket) {
		e = s3_bucket_tagging_from_xml(in, len, &out);
	} else {
		e = s3_tagging_from_xml(in, len, &out);
	}
	if (e)
		FUZZ_CHECK(documented(e));
	else
		check_set(out.ptr ? out.ptr : "", bucket ? S3_BUCKET_TAGS_MAX : S3_TAGS_MAX, bucket);
	buf_release(&out);
	return 0;
}
