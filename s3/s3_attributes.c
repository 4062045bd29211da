/*
 * s3_attributes — GetObjectAttributes (GET /bucket/key?attributes).
 *
 * x-amz-object-attributes names, comma-separated, what the body holds:
 * ETag (unquoted, unlike everywhere else), Checksum (the checksum kept with
 * the object: x-amz-checksum-* in its stored headers, and its type),
 * ObjectParts, StorageClass, ObjectSize. The header missing or empty, or a
 * name AWS does not know, is 400 InvalidArgument. Last-Modified goes in a
 * header whatever was asked.
 *
 * ObjectParts exists only for an object completed from a multipart upload:
 * PartsCount and the parts themselves (Part: PartNumber, Size), paged by
 * x-amz-max-parts and x-amz-part-number-marker (MaxParts, IsTruncated,
 * PartNumberMarker, NextPartNumberMarker). Each part also names its
 * checksum when its upload had x-amz-checksum-algorithm (the part
 * checksums atr_object_part_checksum keeps, of the object's own
 * algorithm, COMPOSITE or FULL_OBJECT).
 */
#include <civetweb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/timefmt.h"
#include "s3/s3_int.h"
#include "common/banned.h"

#define PARTS_LIST_MAX 1000

enum {
	A_ETAG = 1, A_CHECKSUM = 2, A_PARTS = 4, A_STORAGE_CLASS = 8, A_SIZE = 16,
};

static const struct {
	const char *name;
	int bit;
} attr_names[] = {
	{ "ETag", A_ETAG }, { "Checksum", A_CHECKSUM }, { "ObjectParts", A_PARTS },
	{ "StorageClass", A_STORAGE_CLASS }, { "ObjectSize", A_SIZE },
};

/* The set of attributes asked for, or 0 if the header is missing, empty
 * or names something else. */
int s3_object_attributes_parse(const char *v)
{
	int set = 0;
	if (!v)
		return 0;
	while (*v) {
		v += strspn(v, " \t");
		size_t n = strcspn(v, ",");
		size_t len = n;
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		int bit = 0;
		for (size_t i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]) && !bit; i++)
			if (strlen(attr_names[i].name) == len && !strncmp(attr_names[i].name, v, len))
				bit = attr_names[i].bit;
		if (!bit)
			return 0;
		set |= bit;
		v += n;
		if (*v == ',' && !*++v)
			return 0; /* a trailing comma names nothing */
	}
	return set;
}

/* A non-negative decimal header, capped at cap; -1 if malformed. */
static long header_count(struct s3_req *r, const char *name, long dflt, long cap)
{
	const char *v = s3_header(r, name);
	if (!v)
		return dflt;
	if (!*v || strspn(v, "0123456789") != strlen(v))
		return -1;
	long n = strlen(v) > 9 ? cap : strtol(v, NULL, 10);
	return n > cap ? cap : n;
}

/* Appends <ChecksumALG>value</ChecksumALG> for every x-amz-checksum-<alg>
 * line of the stored headers; *found receives its algorithm (CHECKSUM_NONE
 * if none), *type x-amz-checksum-type's value (COMPOSITE for a multipart
 * object's, else FULL_OBJECT). */
static int add_checksums(struct buf *b, const char *hdrs, char type[128],
			 enum checksum_alg *found)
{
	*found = CHECKSUM_NONE;
	snprintf(type, 128, "FULL_OBJECT");
	for (const char *p = hdrs ? hdrs : ""; *p;) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		const char *colon = memchr(p, ':', n);
		if (colon && !strncasecmp(p, "x-amz-checksum-", 15)) {
			char name[32], value[128];
			size_t nl = (size_t)(colon - p) - 15;
			const char *val = colon + 1 + strspn(colon + 1, " ");
			size_t vl = (size_t)(p + n - val);
			if (nl < sizeof(name) && vl < sizeof(value)) {
				memcpy(name, p + 15, nl);
				name[nl] = '\0';
				memcpy(value, val, vl);
				value[vl] = '\0';
				if (!strcasecmp(name, "type")) {
					snprintf(type, 128, "%s", value);
				} else {
					enum checksum_alg alg = checksum_by_name(name);
					char tag[32];
					if (alg != CHECKSUM_NONE) {
						snprintf(tag, sizeof(tag), "Checksum%s", checksum_name(alg));
						if (s3_xml_elem(b, tag, value))
							return -1;
						*found = alg;
					}
				}
			}
		}
		p += eol ? n + 2 : n;
	}
	return 0;
}

/* <ObjectParts> of a multipart object: the count and the page of parts
 * after marker (PartNumber and Size, and with part checksums of algorithm
 * alg, the object's own checksum's, each part's). */
static enum s3_err add_parts(struct s3_req *r, struct buf *b, const struct atr_obj *o,
			     enum checksum_alg alg, long max, long marker)
{
	struct atr_core *c = r->srv->core;
	char sum[ATR_PART_CHECKSUM_MAX + 1], tag[48];
	uint64_t off, len;
	int count;
	int rc = atr_object_part(c, o, 1, &off, &len, &count);
	if (rc == ATR_E_INVALID_PART || (!rc && count == 0))
		return S3_ERR_OK; /* one part: not a multipart object */
	if (rc)
		return s3_err_from_core(rc);
	/* Part checksums are kept only for uploads with an algorithm. */
	if (alg != CHECKSUM_NONE &&
	    atr_object_part_checksum(c, o, 1, sum, sizeof(sum), &len) == ATR_E_NO_KEY)
		alg = CHECKSUM_NONE;

	struct buf parts = BUF_INIT(1 << 20);
	enum s3_err e = S3_ERR_OK;
	int listed = 0, last = (int)marker;
	snprintf(tag, sizeof(tag), "Checksum%s", checksum_name(alg));
	for (int i = (int)marker + 1; i <= count && listed < max && !e; i++) {
		rc = alg == CHECKSUM_NONE ? atr_object_part(c, o, i, &off, &len, &count)
					  : atr_object_part_checksum(c, o, i, sum, sizeof(sum), &len);
		if (rc) {
			e = s3_err_from_core(rc);
			break;
		}
		if (buf_addstr(&parts, "<Part>") ||
		    (alg != CHECKSUM_NONE && s3_xml_elem(&parts, tag, sum)) ||
		    buf_addf(&parts, "<PartNumber>%d</PartNumber><Size>%llu</Size></Part>", i,
			     (unsigned long long)len))
			e = S3_ERR_INTERNAL;
		listed++;
		last = i;
	}
	if (!e && (buf_addf(b, "<ObjectParts><PartNumberMarker>%ld</PartNumberMarker>"
			       "<NextPartNumberMarker>%d</NextPartNumberMarker>"
			       "<MaxParts>%ld</MaxParts><IsTruncated>%s</IsTruncated>",
			    marker, last, max, last < count ? "true" : "false") ||
		   (parts.len && buf_add(b, parts.ptr, parts.len)) ||
		   buf_addf(b, "<PartsCount>%d</PartsCount></ObjectParts>", count)))
		e = S3_ERR_INTERNAL;
	buf_release(&parts);
	return e;
}

enum s3_err s3_get_object_attributes(struct s3_req *r)
{
	struct atr_obj obj = { 0 };
	int want = s3_object_attributes_parse(s3_header(r, "x-amz-object-attributes"));
	long max = header_count(r, "x-amz-max-parts", PARTS_LIST_MAX, PARTS_LIST_MAX);
	long marker = header_count(r, "x-amz-part-number-marker", 0, ATR_PART_MAX);
	if (!want)
		return S3_ERR_OBJECT_ATTRIBUTES_INVALID;
	if (max < 0 || marker < 0)
		return S3_ERR_INVALID_ARGUMENT;
	const char *vid;
	enum s3_err ve = s3_version_param(r, &vid);
	if (ve)
		return ve;
	r->req.action = "s3:GetObjectAttributes"; /* not HEAD's s3:GetObject */
	int rc = atr_object_version_open(r->srv->core, &r->user, r->bucket, r->key, vid, &obj,
					 NULL);
	r->req.action = NULL;
	if (rc)
		return s3_version_error(r, rc, vid, &obj);
	/* An SSE-C object's attributes need its key, as its HEAD does (AWS). */
	struct s3_sse k;
	enum s3_err ke = s3_sse_customer(r, "x-amz-", &k);
	if (!ke && (obj.sse == ATR_SSE_C || k.mode)) {
		struct atr_obj o2 = { 0 };
		struct atr_reader *rd = NULL;
		rc = atr_object_version_open(r->srv->core, &r->user, r->bucket, r->key, vid, &o2,
					     &rd);
		ke = rc ? s3_err_from_core(rc) : s3_sse_open(rd, &k);
		atr_get_close(rd);
		atr_obj_release(&o2);
	}
	s3_sse_release(&k);
	if (ke) {
		atr_obj_release(&obj);
		return ke;
	}

	struct buf b = BUF_INIT(2 << 20);
	enum s3_err e = S3_ERR_OK;
	char date[TIMEFMT_LEN], extra[256], type[128];
	enum checksum_alg found;
	if (s3_xml_open(&b, "GetObjectAttributesResponse") ||
	    ((want & A_ETAG) && s3_xml_elem(&b, "ETag", obj.etag))) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	struct buf ck = BUF_INIT(4096);
	if (add_checksums(&ck, obj.hdrs, type, &found) ||
	    ((want & A_CHECKSUM) && found &&
	     (buf_addstr(&b, "<Checksum>") || buf_add(&b, ck.ptr, ck.len) ||
	      s3_xml_elem(&b, "ChecksumType", type) || buf_addstr(&b, "</Checksum>"))))
		e = S3_ERR_INTERNAL;
	buf_release(&ck);
	if (e)
		goto out;
	if ((want & A_PARTS) && (e = add_parts(r, &b, &obj, found, max, marker)))
		goto out;
	if (((want & A_STORAGE_CLASS) && s3_xml_elem(&b, "StorageClass", "STANDARD")) ||
	    ((want & A_SIZE) && buf_addf(&b, "<ObjectSize>%llu</ObjectSize>",
					 (unsigned long long)(obj.is_dir ? 0 : obj.size))) ||
	    buf_addstr(&b, "</GetObjectAttributesResponse>")) {
		e = S3_ERR_INTERNAL;
		goto out;
	}
	time_fmt_rfc1123((time_t)(obj.mtime_ns / 1000000000), date);
	snprintf(extra, sizeof(extra), "Last-Modified: %s\r\nContent-Type: application/xml\r\n%s%s%s",
		 date, *obj.vid ? "x-amz-version-id: " : "", obj.vid, *obj.vid ? "\r\n" : "");
	s3_send_head(r, 200, extra, b.len);
	mg_write(r->conn, b.ptr, b.len);
out:
	buf_release(&b);
	atr_obj_release(&obj);
	return e;
}
