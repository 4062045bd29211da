/*
 * s3_multipart — CreateMultipartUpload, UploadPart, ListParts,
 * CompleteMultipartUpload, AbortMultipartUpload, ListMultipartUploads.
 *
 * CompleteMultipartUpload starts its 200 response as soon as the parts it
 * names are found valid, as AWS does, and only then assembles the object;
 * an error after that point can no longer change the status, so the body is
 * an S3 <Error> document (SDKs look for one in a 200 to this request).
 * While assembly runs, a space goes out after every KEEPALIVE_BYTES
 * assembled while more remain (a fraction of a second of disk work), so
 * the client's read timeout never fires however large the object; counting
 * bytes rather than seconds makes it the same on every run. A body after
 * such whitespace has no XML declaration, which XML allows only at the
 * very start of a document.
 * UploadPartCopy (UploadPart with x-amz-copy-source) is s3_copy.c's: the
 * route table sends it there.
 */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "common/uri.h"
#include "common/xml.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define LIST_MAX 1000
/* A completion naming 10,000 parts, each with some whitespace, fits. */
#define COMPLETE_BODY_MAX (4 << 20)
#define KEEPALIVE_BYTES (8ULL << 20)

/* A non-negative decimal; values above cap (however long) are cap. */
int s3_parse_count(const char *v, long cap, long *out)
{
	if (!*v || strspn(v, "0123456789") != strlen(v))
		return -1;
	v += strspn(v, "0"); /* leading zeros do not make it long */
	long n = strlen(v) > 9 ? cap : strtol(v, NULL, 10);
	*out = n > cap ? cap : n;
	return 0;
}

/* ---- CreateMultipartUpload ---- */

#define FULL_OBJECT_SUFFIX "/FULL_OBJECT"

enum checksum_alg s3_mpu_checksum(const char *stored, int *full_object)
{
	char name[ATR_CHECKSUM_ALG_MAX + 1];
	size_t n = strcspn(stored, "/");
	if (full_object)
		*full_object = !strcmp(stored + n, FULL_OBJECT_SUFFIX);
	if (n >= sizeof(name))
		return CHECKSUM_NONE;
	memcpy(name, stored, n);
	name[n] = '\0';
	return checksum_by_name(name);
}

/*
 * x-amz-checksum-algorithm (and x-amz-checksum-type) on an upload: its
 * parts then carry that checksum, and the object a checksum made of
 * theirs. S3's two types: COMPOSITE (the default but for CRC64NVME; CRC32,
 * CRC32C, SHA1, SHA256), a hash of the parts' checksums; FULL_OBJECT (the
 * default and only type of CRC64NVME; CRC32, CRC32C), the CRC of the whole
 * object, which Atrium combines from the parts' CRCs and sizes
 * (checksum_crc_combine) without reading a byte again.
 */
static enum s3_err upload_checksum(struct s3_req *r, enum checksum_alg *alg, int *full)
{
	const char *name = s3_header(r, "x-amz-checksum-algorithm");
	const char *type = s3_header(r, "x-amz-checksum-type");
	*alg = CHECKSUM_NONE;
	*full = 0;
	if (!name)
		return type ? S3_ERR_MPU_CHECKSUM_TYPE : S3_ERR_OK;
	if ((*alg = checksum_by_name(name)) == CHECKSUM_NONE)
		return S3_ERR_MPU_CHECKSUM_ALG;
	if (type && strcasecmp(type, "COMPOSITE") && strcasecmp(type, "FULL_OBJECT"))
		return S3_ERR_MPU_CHECKSUM_TYPE;
	*full = type ? !strcasecmp(type, "FULL_OBJECT") : *alg == CHECKSUM_CRC64NVME;
	if (*full && (*alg == CHECKSUM_SHA1 || *alg == CHECKSUM_SHA256))
		return S3_ERR_MPU_FULL_OBJECT_ALG;
	if (!*full && *alg == CHECKSUM_CRC64NVME)
		return S3_ERR_MPU_CHECKSUM_TYPE; /* no COMPOSITE CRC64NVME in S3 */
	return S3_ERR_OK;
}

/* An algorithm as the element that carries its value: "ChecksumCRC32". */
static void checksum_elem(enum checksum_alg alg, char out[48])
{
	snprintf(out, 48, "Checksum%s", checksum_name(alg));
}

enum s3_err s3_create_multipart(struct s3_req *r)
{
	struct buf hdrs = BUF_INIT(8192), body = BUF_INIT(64 * 1024),
		   tags = BUF_INIT(S3_TAGS_BUF(S3_TAGS_MAX));
	struct buf b = BUF_INIT(8 * ATR_KEY_MAX + 1024);
	const char *tagging = s3_header(r, "x-amz-tagging");
	char id[ATR_UPLOAD_ID_LEN + 1];
	struct atr_acl *acl = NULL;
	enum checksum_alg alg;
	char stored[ATR_CHECKSUM_ALG_MAX + 1];
	enum s3_err e;
	int rc, full;

	if ((rc = atr_key_valid(r->key)))
		return s3_err_from_core(rc);
	/* SSE-S3 (asked for, or the bucket's default): the object is
	 * encrypted at completion. SSE-C: the upload keeps a salted check of
	 * the key; every part and the completion bring the key again. */
	struct s3_sse k;
	struct atr_lock lock;
	int sse = 0, write_type;
	if ((e = s3_lock_request(r, &lock)) || (e = s3_sse_request(r, &k)) ||
	    (e = s3_write_type(r, &write_type)))
		return e;
	/* The headers the completed object will carry; a body has no use. */
	if ((e = s3_storage_class_check(r)) || (e = s3_stored_headers(r, &hdrs)) ||
	    (tagging && (e = s3_tagging_from_header(tagging, &tags))) ||
	    (e = s3_request_acl(r, &acl)) || (e = s3_read_small_body(r, &body)))
		goto out;
	if ((e = upload_checksum(r, &alg, &full)))
		goto out;
	snprintf(stored, sizeof(stored), "%s%s", checksum_name(alg), full ? FULL_OBJECT_SUFFIX : "");
	struct atr_mpu_opts o = { .hdrs = hdrs.ptr, .tags = tags.ptr, .acl = acl,
				  .checksum_alg = alg ? stored : NULL, .sse = k.mode,
				  .sse_key = k.mode == ATR_SSE_C ? k.key : NULL, .sse_out = &sse,
				  .write_type = write_type, .lock = &lock };
	if ((rc = atr_mpu_create_with(r->srv->core, &r->user, r->bucket, r->key, &o, id))) {
		e = s3_err_from_core(rc);
		goto out;
	}
	if (s3_xml_open(&b, "InitiateMultipartUploadResult") ||
	    s3_xml_elem(&b, "Bucket", r->bucket) || s3_xml_elem(&b, "Key", r->key) ||
	    s3_xml_elem(&b, "UploadId", id) ||
	    buf_addstr(&b, "</InitiateMultipartUploadResult>")) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	if (alg || sse) {
		char extra[384];
		struct buf sh = BUF_INIT(256);
		if (s3_sse_headers(&sh, sse, &k)) {
			buf_release(&sh);
			e = S3_ERR_INTERNAL;
			goto out;
		}
		snprintf(extra, sizeof(extra), "%s%s%s%sContent-Type: application/xml\r\n",
			 alg ? "x-amz-checksum-algorithm: " : "", alg ? checksum_name(alg) : "",
			 alg ? (full ? "\r\nx-amz-checksum-type: FULL_OBJECT\r\n"
				     : "\r\nx-amz-checksum-type: COMPOSITE\r\n") : "",
			 sh.ptr ? sh.ptr : "");
		buf_release(&sh);
		s3_send_head(r, 200, extra, b.len);
		mg_write(r->conn, b.ptr, b.len);
	} else {
		s3_send_xml(r, 200, &b);
	}
out:
	s3_sse_release(&k);
	buf_release(&hdrs);
	buf_release(&body);
	buf_release(&tags);
	buf_release(&b);
	free(acl);
	return e;
}

/* ---- UploadPart ---- */

enum s3_err s3_part_number(struct s3_req *r, int *number)
{
	const char *pn = s3_param(r, "partNumber");
	long v;
	/* Part numbers are 1..10000 (S3's InvalidArgument otherwise). */
	if (!pn || s3_parse_count(pn, ATR_PART_MAX + 1, &v) || v < 1 || v > ATR_PART_MAX)
		return S3_ERR_INVALID_ARGUMENT;
	*number = (int)v;
	return S3_ERR_OK;
}

/* The writer is open: an upload with a checksum algorithm takes parts
 * with that checksum. */
static enum s3_err part_prepare(struct s3_write *wr, void *arg)
{
	const char *alg = atr_mpu_part_checksum_alg(wr->w);
	if (*alg && (wr->ck_alg == CHECKSUM_NONE || wr->ck_alg != s3_mpu_checksum(alg, NULL)))
		return S3_ERR_MPU_CHECKSUM_MISMATCH;
	wr->sse_mode = atr_mpu_part_sse(wr->w); /* for the answer's header */
	return s3_mpu_part_sse_error(wr);
}

enum s3_err s3_mpu_part_sse_error(const struct s3_write *wr)
{
	/* An SSE-C upload's part without the key, or another upload's with
	 * one: refused before any byte (the writer would take none). */
	if (wr->sse_mode == ATR_SSE_C && wr->sse.mode != ATR_SSE_C)
		return S3_ERR_SSE_C_MPU_MISSING;
	if (wr->sse_mode != ATR_SSE_C && wr->sse.mode == ATR_SSE_C)
		return S3_ERR_SSE_C_MPU_NOT_SSE_C;
	return S3_ERR_OK;
}

enum s3_err s3_upload_part(struct s3_req *r)
{
	struct s3_write wr;
	enum s3_err e;

	s3_write_init(&wr, r, &s3_part_target);
	wr.prepare = part_prepare;
	if (!(e = s3_part_number(r, &wr.part)) && !(e = s3_mpu_sse_check(r, &wr.sse)) &&
	    !(e = s3_content_md5(r, wr.md5, &wr.have_md5)))
		e = s3_write_body(&wr);
	if (!e)
		s3_write_respond(&wr);
	s3_sse_release(&wr.sse);
	return e;
}

/* ---- ListParts ---- */

struct parts_out {
	struct buf *b;
	const struct atr_mpu *up; /* filled before the first part */
	int last;
	int err;
};

static int on_part(void *arg, const struct atr_mpu_part *p)
{
	struct parts_out *o = arg;
	char date[TIMEFMT_LEN], elem[48];
	time_fmt_iso8601_ms(p->mtime_ns, date);
	o->last = p->number;
	checksum_elem(s3_mpu_checksum(o->up->checksum_alg, NULL), elem);
	if (buf_addf(o->b, "<Part><PartNumber>%d</PartNumber>", p->number) ||
	    s3_xml_elem(o->b, "LastModified", date) ||
	    buf_addf(o->b, "<ETag>&quot;%s&quot;</ETag><Size>%llu</Size>", p->etag,
		     (unsigned long long)p->size) ||
	    (*p->checksum && s3_xml_elem(o->b, elem, p->checksum)) ||
	    buf_addstr(o->b, "</Part>"))
		o->err = 1;
	return o->err;
}

enum s3_err s3_list_parts(struct s3_req *r)
{
	const char *v;
	long max = LIST_MAX, marker = 0;
	int truncated = 0, full;
	struct atr_mpu up;
	if ((v = s3_param(r, "max-parts")) && s3_parse_count(v, LIST_MAX, &max))
		return S3_ERR_INVALID_ARGUMENT;
	if ((v = s3_param(r, "part-number-marker")) && s3_parse_count(v, ATR_PART_MAX, &marker))
		return S3_ERR_INVALID_ARGUMENT;

	struct buf parts = BUF_INIT(1 << 20), b = BUF_INIT(2 << 20);
	struct parts_out o = { .b = &parts, .up = &up, .last = (int)marker };
	enum s3_err e = S3_ERR_OK;
	int rc = atr_mpu_list_parts(r->srv->core, &r->user, r->bucket, r->key,
				    s3_param(r, "uploadId"), (int)marker, (int)max, &up, on_part, &o,
				    &truncated);
	if (rc || o.err) {
		e = rc ? s3_err_from_core(rc) : S3_ERR_INTERNAL;
		goto out;
	}
	enum checksum_alg alg = s3_mpu_checksum(up.checksum_alg, &full);
	if (s3_xml_open(&b, "ListPartsResult") || s3_xml_elem(&b, "Bucket", r->bucket) ||
	    s3_xml_elem(&b, "Key", up.key) || s3_xml_elem(&b, "UploadId", up.upload_id) ||
	    s3_xml_user(r, &b, "Initiator", up.owner) || s3_xml_user(r, &b, "Owner", up.owner) ||
	    buf_addf(&b, "<StorageClass>STANDARD</StorageClass>"
			 "<PartNumberMarker>%ld</PartNumberMarker>"
			 "<NextPartNumberMarker>%d</NextPartNumberMarker>"
			 "<MaxParts>%ld</MaxParts><IsTruncated>%s</IsTruncated>",
		     marker, o.last, max, truncated ? "true" : "false") ||
	    (*up.checksum_alg &&
	     buf_addf(&b, "<ChecksumAlgorithm>%s</ChecksumAlgorithm>"
			  "<ChecksumType>%s</ChecksumType>", checksum_name(alg),
		      full ? "FULL_OBJECT" : "COMPOSITE")) ||
	    (parts.len && buf_add(&b, parts.ptr, parts.len)) ||
	    buf_addstr(&b, "</ListPartsResult>")) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	s3_send_xml(r, 200, &b);
out:
	buf_release(&parts);
	buf_release(&b);
	return e;
}

/* ---- CompleteMultipartUpload ---- */

/* "<ETag>" text as clients send it: quoted or not, maybe padded. */
static void etag_from(const char *s, char out[ATR_ETAG_MAX + 1])
{
	size_t n;
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s++;
		n -= 2;
	}
	if (n > ATR_ETAG_MAX)
		n = 0; /* matches no part: InvalidPart */
	memcpy(out, s, n);
	out[n] = '\0';
}

/* The first <ChecksumALG> of a <Part>, as "ALG:value" (value trimmed), or
 * "" when it has none. */
static void part_checksum_from(xmlNodePtr part, char out[ATR_PART_CHECKSUM_MAX + 1])
{
	*out = '\0';
	for (int a = CHECKSUM_CRC32; a <= CHECKSUM_SHA256 && !*out; a++) {
		char elem[48];
		checksum_elem((enum checksum_alg)a, elem);
		char *v = xml_text(xml_child(part, elem));
		if (!v)
			continue;
		const char *t = v + strspn(v, " \t\r\n");
		int n = (int)strcspn(t, " \t\r\n");
		snprintf(out, ATR_PART_CHECKSUM_MAX + 1, "%s:%.*s",
			 checksum_name((enum checksum_alg)a), n, t);
		xmlFree(v);
	}
}

enum s3_err s3_mpu_parse_complete(const char *xml, size_t len, struct atr_mpu_part **out,
				  int *n)
{
	struct atr_mpu_part *parts = NULL;
	int count = 0, cap = 0;
	enum s3_err e = S3_ERR_MALFORMED_XML;
	xmlDocPtr doc = len ? xml_parse(xml, len) : NULL;
	xmlNodePtr root = xml_root(doc, "CompleteMultipartUpload");
	*out = NULL;
	*n = 0;
	if (!root)
		goto out;
	for (xmlNodePtr p = xml_child(root, "Part"); p; p = xml_next(p, "Part")) {
		char *num = xml_text(xml_child(p, "PartNumber"));
		char *etag = xml_text(xml_child(p, "ETag"));
		const char *digits = num;
		int ok = num && etag && count < ATR_PART_MAX;
		long v = 0;
		if (ok) {
			while (*digits == ' ' || *digits == '\n' || *digits == '\t' || *digits == '\r')
				digits++;
			size_t d = strspn(digits, "0123456789");
			ok = d > 0 && strspn(digits + d, " \t\r\n") == strlen(digits + d);
			/* A number no part can have is InvalidPart, not malformed. */
			v = !ok ? 0 : d > 9 ? ATR_PART_MAX + 1 : strtol(digits, NULL, 10);
		}
		if (ok && count == cap) {
			int ncap = cap ? 2 * cap : 16;
			struct atr_mpu_part *np = realloc(parts, (size_t)ncap * sizeof(*np));
			if (!np) {
				e = S3_ERR_SLOW_DOWN;
				ok = 0;
			} else {
				parts = np;
				cap = ncap;
			}
		}
		if (ok) {
			memset(&parts[count], 0, sizeof(parts[count]));
			parts[count].number = v > ATR_PART_MAX ? ATR_PART_MAX + 1 : (int)v;
			etag_from(etag, parts[count].etag);
			part_checksum_from(p, parts[count].checksum);
			count++;
		}
		xmlFree(num);
		xmlFree(etag);
		if (!ok)
			goto out;
	}
	if (count == 0)
		goto out; /* no parts: AWS answers MalformedXML */
	*out = parts;
	*n = count;
	parts = NULL;
	e = S3_ERR_OK;
out:
	free(parts);
	if (doc)
		xmlFreeDoc(doc);
	return e;
}

struct completion {
	struct s3_req *r;
	int can_start;  /* HTTP/1.1: a chunked body is possible */
	int started;    /* the 200 is out */
	int spaced;     /* whitespace sent: no XML declaration any more */
	uint64_t next;  /* send a space once this much is assembled */
	int sse;        /* the upload's encryption (the 200's header) */
	const struct s3_sse *k; /* SSE-C's key (its MD5 for the header) */
	const struct atr_obj *obj; /* its vid: the new version's, known first */
};

/* The completion's 200 headers: the content type, the encryption's and
 * the new version's id. */
static void complete_head(struct completion *cp, struct buf *h)
{
	if (buf_addstr(h, "Content-Type: application/xml\r\n") ||
	    s3_sse_headers(h, cp->sse, cp->k) ||
	    s3_version_header(h, "x-amz-version-id", cp->obj->vid))
		h->len = 0; /* (a few bytes: never) */
}

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct completion *cp = arg;
	if (!cp->started) {
		if (!cp->can_start)
			return;
		struct buf h = BUF_INIT(512);
		complete_head(cp, &h);
		s3_send_head_chunked(cp->r, 200, h.len ? h.ptr : "Content-Type: application/xml\r\n");
		buf_release(&h);
		cp->started = 1;
		cp->next = KEEPALIVE_BYTES;
	} else if (done < total && done >= cp->next) {
		/* If the client left, the completion still finishes (AWS's too). */
		s3_send_chunk(cp->r, " ", 1);
		cp->spaced = 1;
		cp->next = done + KEEPALIVE_BYTES;
	}
}

static int complete_result(struct s3_req *r, const struct atr_obj *obj, int decl,
			   const char *checksum_xml, struct buf *b)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	const char *host = s3_header(r, "Host");
	int rc = decl ? s3_xml_open(b, "CompleteMultipartUploadResult")
		      : buf_addstr(b, "<CompleteMultipartUploadResult "
				      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	/* Location: the URL the object was addressed by (as sent, so still
	 * percent-encoded). */
	return rc || buf_addstr(b, "<Location>http://") || buf_add_xml(b, host ? host : "") ||
	       buf_add_xml(b, ri->local_uri_raw ? ri->local_uri_raw : "/") ||
	       buf_addstr(b, "</Location>") || s3_xml_elem(b, "Bucket", r->bucket) ||
	       s3_xml_elem(b, "Key", r->key) ||
	       buf_addf(b, "<ETag>&quot;%s&quot;</ETag>%s</CompleteMultipartUploadResult>",
			obj->etag, checksum_xml);
}

/* ---- the object checksum of an upload with a checksum algorithm ---- */

struct object_ck {
	const char *hdrs, *xml;   /* "" when the upload has no algorithm */
	char hdrs_buf[160], xml_buf[200];
};

struct part_sums {
	char (*sum)[ATR_PART_CHECKSUM_MAX + 1]; /* by part number */
	uint64_t *size;
};

static int collect_sum(void *arg, const struct atr_mpu_part *p)
{
	struct part_sums *ps = arg;
	memcpy(ps->sum[p->number], p->checksum, sizeof(ps->sum[0]));
	ps->size[p->number] = p->size;
	return 0;
}

/* What the completion request says of the whole object: one
 * x-amz-checksum-<alg> (*alg, *value; CHECKSUM_NONE if none) and
 * x-amz-checksum-type (*type: -1 absent, 0 COMPOSITE, 1 FULL_OBJECT). */
static enum s3_err request_checksum(struct s3_req *r, enum checksum_alg *alg,
				    const char **value, int *type)
{
	const char *t = s3_header(r, "x-amz-checksum-type");
	*alg = CHECKSUM_NONE;
	*value = NULL;
	*type = !t ? -1 : !strcasecmp(t, "COMPOSITE") ? 0 : !strcasecmp(t, "FULL_OBJECT") ? 1 : -2;
	if (*type == -2)
		return S3_ERR_MPU_CHECKSUM_TYPE;
	for (int a = CHECKSUM_CRC32; a <= CHECKSUM_SHA256; a++) {
		char name[40];
		snprintf(name, sizeof(name), "x-amz-checksum-%s", checksum_name((enum checksum_alg)a));
		const char *v = s3_header(r, name);
		if (!v)
			continue;
		if (*value)
			return S3_ERR_CHECKSUM_MULTIPLE;
		*alg = (enum checksum_alg)a;
		*value = v;
	}
	return S3_ERR_OK;
}

/* The object's checksum from the parts' (raw values, in order): S3's
 * COMPOSITE one, base64(H(c_1 || ... || c_n)) "-" n, or FULL_OBJECT's, the
 * CRC of the whole object combined from the parts' CRCs and sizes. */
static enum s3_err combine(enum checksum_alg alg, int full, const struct atr_mpu_part *parts,
			   int n, const struct part_sums *ps, char b64[64])
{
	unsigned char raw[CHECKSUM_MAX_LEN], sum[CHECKSUM_MAX_LEN];
	size_t len = checksum_len(alg);
	struct checksum h;
	uint64_t crc = 0;
	if (!full && checksum_init(&h, alg))
		return S3_ERR_SLOW_DOWN;
	for (int i = 0; i < n; i++) {
		const char *kept = ps->sum[parts[i].number];
		uint64_t part = 0;
		if (base64_decode(kept, strlen(kept), raw, sizeof(raw)) != (int)len) {
			if (!full)
				checksum_release(&h);
			return S3_ERR_INTERNAL;
		}
		if (!full) {
			checksum_update(&h, raw, len);
			continue;
		}
		for (size_t k = 0; k < len; k++)
			part = part << 8 | raw[k];
		if (i == 0)
			crc = part;
		else
			checksum_crc_combine(alg, crc, part, ps->size[parts[i].number], &crc);
	}
	if (full) {
		for (size_t k = 0; k < len; k++)
			sum[k] = (unsigned char)(crc >> (8 * (len - 1 - k)));
	} else {
		checksum_final(&h, sum);
	}
	base64_encode(sum, len, b64);
	if (!full)
		snprintf(b64 + strlen(b64), 64 - strlen(b64), "-%d", n);
	return S3_ERR_OK;
}

/*
 * The checksum of the object an upload with a checksum algorithm becomes
 * (ck: its stored header lines and result XML), and the completion's
 * checks of it. Each named part gives its checksum, of that algorithm
 * (MPU_CHECKSUM_MISSING; optional for FULL_OBJECT, whose object checksum
 * the parts' CRCs make whatever the body says), equal to the one kept
 * (InvalidPart, as for a part that is not there). An object checksum sent
 * with the completion (x-amz-checksum-<alg>: "value" or, COMPOSITE,
 * "value-n") must be of the upload's algorithm (MPU_COMPLETE_ALG) and
 * equal to the one computed (BadDigest, as AWS); x-amz-checksum-type must
 * be the upload's (BadDigest). An upload without an algorithm takes no
 * object checksum (MPU_COMPLETE_NO_ALG). Parts named out of order or out
 * of range, and an upload that is gone (a completion retried: the core
 * answers it), are left to the core's checks.
 */
static enum s3_err object_checksum(struct s3_req *r, const struct atr_mpu_part *parts, int n,
				   struct object_ck *ck)
{
	struct atr_mpu up;
	struct part_sums ps = { NULL, NULL };
	enum checksum_alg want_alg;
	const char *want;
	int truncated, rc, full, want_type;
	enum s3_err e;
	if ((e = request_checksum(r, &want_alg, &want, &want_type)))
		return e;
	/* max 0: only the upload's attributes (and its errors, if any). */
	rc = atr_mpu_list_parts(r->srv->core, &r->user, r->bucket, r->key,
				s3_param(r, "uploadId"), 0, 0, &up, collect_sum, &ps, &truncated);
	if (rc == ATR_E_NO_UPLOAD)
		return S3_ERR_OK;
	if (rc)
		return s3_err_from_core(rc);
	enum checksum_alg alg = s3_mpu_checksum(up.checksum_alg, &full);
	if (alg == CHECKSUM_NONE)
		return want ? S3_ERR_MPU_COMPLETE_NO_ALG : S3_ERR_OK;
	if (want && want_alg != alg)
		return S3_ERR_MPU_COMPLETE_ALG;
	if (want_type >= 0 && want_type != full)
		return S3_ERR_MPU_CHECKSUM_TYPE_MISMATCH;
	for (int i = 0; i < n; i++)
		if (parts[i].number < 1 || parts[i].number > ATR_PART_MAX ||
		    (i && parts[i].number <= parts[i - 1].number))
			return S3_ERR_OK;
	ps.sum = calloc(ATR_PART_MAX + 1, sizeof(*ps.sum));
	ps.size = calloc(ATR_PART_MAX + 1, sizeof(*ps.size));
	if (!ps.sum || !ps.size) {
		e = S3_ERR_SLOW_DOWN;
		goto out;
	}
	rc = atr_mpu_list_parts(r->srv->core, &r->user, r->bucket, r->key,
				s3_param(r, "uploadId"), 0, ATR_PART_MAX, &up, collect_sum, &ps,
				&truncated);
	if (rc) {
		e = s3_err_from_core(rc);
		goto out;
	}
	const char *name = checksum_name(alg);
	size_t nl = strlen(name);
	for (int i = 0; i < n && !e; i++) {
		const char *given = parts[i].checksum, *kept = ps.sum[parts[i].number];
		if (!*given && !full)
			e = S3_ERR_MPU_CHECKSUM_MISSING;
		else if (!*kept) /* no such part, or uploaded without a checksum */
			e = S3_ERR_INVALID_PART;
		else if (*given && (strncmp(given, name, nl) || given[nl] != ':' ||
				    strcmp(given + nl + 1, kept)))
			e = S3_ERR_INVALID_PART;
	}
	char b64[64], lower[32];
	if (e || (e = combine(alg, full, parts, n, &ps, b64)))
		goto out;
	/* The value sent: exactly ours; a COMPOSITE one with or without "-n". */
	if (want) {
		const char *v = want + strspn(want, " ");
		size_t vl = strcspn(v, " "), bl = strcspn(b64, "-");
		if (!(vl == strlen(b64) && !strncmp(v, b64, vl)) &&
		    !(!full && vl == bl && !strncmp(v, b64, bl))) {
			unsigned char tmp[CHECKSUM_MAX_LEN];
			char bare[64];
			snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(v, "- "), v);
			e = s3_checksum_decode(bare, alg, tmp) ? S3_ERR_CHECKSUM_INVALID
							       : S3_ERR_CHECKSUM_BAD;
			goto out;
		}
	}
	snprintf(lower, sizeof(lower), "%s", name);
	for (char *p = lower; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	const char *type = full ? "FULL_OBJECT" : "COMPOSITE";
	snprintf(ck->hdrs_buf, sizeof(ck->hdrs_buf),
		 "x-amz-checksum-%s: %s\r\nx-amz-checksum-type: %s\r\n", lower, b64, type);
	snprintf(ck->xml_buf, sizeof(ck->xml_buf),
		 "<Checksum%s>%s</Checksum%s><ChecksumType>%s</ChecksumType>", name, b64, name,
		 type);
	ck->hdrs = ck->hdrs_buf;
	ck->xml = ck->xml_buf;
out:
	free(ps.sum);
	free(ps.size);
	return e;
}

enum s3_err s3_complete_multipart(struct s3_req *r)
{
	const struct mg_request_info *ri = mg_get_request_info(r->conn);
	struct buf body = BUF_INIT(COMPLETE_BODY_MAX), b = BUF_INIT(64 * 1024);
	struct atr_mpu_part *parts = NULL;
	struct s3_sse k = { 0 };
	struct atr_obj obj = { 0 };
	struct completion cp = { .r = r, .k = &k, .obj = &obj };
	struct object_ck ck = { .hdrs = "", .xml = "" };
	enum s3_err e;
	int n = 0;

	/* A completion without a body names no parts: MalformedXML (AWS). */
	if ((e = s3_mpu_sse_check(r, &k)) || (e = s3_read_small_body(r, &body)) ||
	    (e = s3_mpu_parse_complete(body.ptr, body.len, &parts, &n)))
		goto out;
	if ((e = object_checksum(r, parts, n, &ck)))
		goto out;
	cp.can_start = ri->http_version && strcmp(ri->http_version, "1.0");
	/* The upload's encryption, for the response's header (which may go
	 * out before the object is made); an error here is the completion's. */
	struct atr_mpu up = { 0 };
	int trunc;
	if (!atr_mpu_list_parts(r->srv->core, &r->user, r->bucket, r->key, s3_param(r, "uploadId"),
				0, 0, &up, NULL, NULL, &trunc))
		cp.sse = up.sse;
	/* SSE-C: the completion needs no key (AWS: the parts stay as they
	 * are, the object's segments); one given must be the upload's (the
	 * core checks it), and none goes with another upload. A gone upload
	 * (a retry) is the core's. */
	if (up.upload_id[0] && up.sse != ATR_SSE_C && k.mode == ATR_SSE_C) {
		e = S3_ERR_SSE_C_MPU_NOT_SSE_C;
		goto out;
	}
	int rc = atr_mpu_complete_with(r->srv->core, &r->user, r->bucket, r->key,
				       s3_param(r, "uploadId"), parts, n, s3_limit(r->srv, min_part_size),
				       ck.hdrs, k.mode == ATR_SSE_C ? k.key : NULL, on_progress, &cp,
				       &obj);
	/* The core's one case of an SSE-C completion that needs the key:
	 * parts joined into one stream (parts left out, or stored before
	 * parts were segments). */
	if (rc == ATR_E_INVALID_ARG && up.sse == ATR_SSE_C && k.mode != ATR_SSE_C)
		e = S3_ERR_SSE_C_MPU_COMPLETE_MISSING;
	else
		e = rc == ATR_E_INVALID_ARG ? S3_ERR_MALFORMED_XML : s3_err_from_core(rc);
	if (!cp.started) {
		if (!e && complete_result(r, &obj, 1, ck.xml, &b))
			e = S3_ERR_INTERNAL;
		if (!e && (obj.sse || *obj.vid)) {
			struct buf h = BUF_INIT(512);
			cp.sse = obj.sse;
			complete_head(&cp, &h);
			s3_send_head_body(r, 200, h.len ? h.ptr : "Content-Type: application/xml\r\n",
					  b.len, b.ptr, b.len);
			buf_release(&h);
		} else if (!e)
			s3_send_xml(r, 200, &b);
		goto out;
	}
	/* The 200 is out: the outcome travels in the body. */
	if (e) {
		LOG(LOG_WARN, "s3 %s: completing %s/%s failed after the response started: %s",
		    r->id, r->bucket, r->key, s3_err_code(e));
		s3_error_xml(r, e, NULL, !cp.spaced, &b);
	} else {
		complete_result(r, &obj, !cp.spaced, ck.xml, &b);
	}
	if (s3_send_chunk(r, b.ptr, b.len) || s3_send_chunk(r, NULL, 0))
		mg_disable_connection_keep_alive(r->conn);
	e = S3_ERR_OK;
out:
	s3_sse_release(&k);
	free(parts);
	buf_release(&body);
	buf_release(&b);
	return e;
}

/* ---- AbortMultipartUpload ---- */

enum s3_err s3_abort_multipart(struct s3_req *r)
{
	int rc = atr_mpu_abort(r->srv->core, &r->user, r->bucket, r->key,
			       s3_param(r, "uploadId"));
	return s3_reply_empty(r, rc, 204);
}

/* ---- ListMultipartUploads ---- */

struct uploads_out {
	struct s3_req *r;
	struct buf *uploads, *prefixes;
	int url;
	char last_key[ATR_KEY_MAX + 2];
	char last_id[ATR_UPLOAD_ID_LEN + 1];
	enum s3_err err;
};

static int on_upload(void *arg, const struct atr_mpu_item *it)
{
	struct uploads_out *o = arg;
	if ((o->err = s3_list_name_check(it->key, o->url)))
		return 1;
	snprintf(o->last_key, sizeof(o->last_key), "%s", it->key);
	snprintf(o->last_id, sizeof(o->last_id), "%s", it->is_prefix ? "" : it->upload->upload_id);
	if (it->is_prefix) {
		if (buf_addstr(o->prefixes, "<CommonPrefixes>") ||
		    s3_xml_name(o->prefixes, "Prefix", it->key, o->url) ||
		    buf_addstr(o->prefixes, "</CommonPrefixes>"))
			o->err = S3_ERR_INTERNAL;
		return o->err != S3_ERR_OK;
	}
	char date[TIMEFMT_LEN];
	struct buf *b = o->uploads;
	time_fmt_iso8601_ms(it->upload->ctime_ns, date);
	if (buf_addstr(b, "<Upload>") || s3_xml_name(b, "Key", it->key, o->url) ||
	    s3_xml_elem(b, "UploadId", it->upload->upload_id) ||
	    s3_xml_user(o->r, b, "Initiator", it->upload->owner) ||
	    s3_xml_user(o->r, b, "Owner", it->upload->owner) ||
	    buf_addstr(b, "<StorageClass>STANDARD</StorageClass>") ||
	    s3_xml_elem(b, "Initiated", date) || buf_addstr(b, "</Upload>"))
		o->err = S3_ERR_INTERNAL;
	return o->err != S3_ERR_OK;
}

enum s3_err s3_list_multipart_uploads(struct s3_req *r)
{
	const char *prefix = s3_param(r, "prefix");
	const char *delim = s3_param(r, "delimiter");
	const char *key_marker = s3_param(r, "key-marker");
	const char *id_marker = s3_param(r, "upload-id-marker");
	const char *enc = s3_param(r, "encoding-type");
	const char *v;
	long max = LIST_MAX;
	int truncated = 0;

	if ((v = s3_param(r, "max-uploads")) && s3_parse_count(v, LIST_MAX, &max))
		return S3_ERR_INVALID_ARGUMENT;
	if (enc && strcmp(enc, "url"))
		return S3_ERR_INVALID_ARGUMENT;
	if (delim && !*delim)
		delim = NULL; /* no delimiter, as in ListObjects: not echoed */
	/* What the response echoes; an upload ID marker never URL-encoded. */
	enum s3_err e;
	int url = enc != NULL;
	if ((e = s3_list_param_check(prefix, url)) || (e = s3_list_param_check(delim, url)) ||
	    (e = s3_list_param_check(key_marker, url)) || (e = s3_list_param_check(id_marker, 0)))
		return e;

	struct buf uploads = BUF_INIT(64 << 20), prefixes = BUF_INIT(64 << 20);
	struct buf b = BUF_INIT(128 << 20);
	struct uploads_out o = { .r = r, .uploads = &uploads, .prefixes = &prefixes, .url = url };
	struct atr_mpu_list_params p = {
		.prefix = prefix ? prefix : "", .delimiter = delim, .key_marker = key_marker,
		.upload_id_marker = id_marker, .max = (int)max,
	};
	int rc = atr_mpu_list(r->srv->core, &r->user, r->bucket, &p, on_upload, &o, &truncated);
	if (o.err) {
		e = o.err; /* the callback stopped the listing */
		goto out;
	}
	if (rc) {
		e = s3_err_from_core(rc);
		goto out;
	}
	/* The upload-id-marker means nothing without a key-marker (AWS). */
	if (s3_xml_open(&b, "ListMultipartUploadsResult") ||
	    s3_xml_elem(&b, "Bucket", r->bucket) ||
	    s3_xml_name(&b, "KeyMarker", key_marker ? key_marker : "", o.url) ||
	    s3_xml_elem(&b, "UploadIdMarker", key_marker && id_marker ? id_marker : "") ||
	    s3_xml_name(&b, "NextKeyMarker", o.last_key, o.url) ||
	    s3_xml_elem(&b, "NextUploadIdMarker", o.last_id) ||
	    (delim && s3_xml_name(&b, "Delimiter", delim, o.url)) ||
	    s3_xml_name(&b, "Prefix", prefix ? prefix : "", o.url) ||
	    buf_addf(&b, "<MaxUploads>%ld</MaxUploads><IsTruncated>%s</IsTruncated>", max,
		     truncated ? "true" : "false") ||
	    (uploads.len && buf_add(&b, uploads.ptr, uploads.len)) ||
	    (prefixes.len && buf_add(&b, prefixes.ptr, prefixes.len)) ||
	    (enc && s3_xml_elem(&b, "EncodingType", "url")) ||
	    buf_addstr(&b, "</ListMultipartUploadsResult>")) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	s3_send_xml(r, 200, &b);
out:
	buf_release(&uploads);
	buf_release(&prefixes);
	buf_release(&b);
	return e;
}
