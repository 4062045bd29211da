/*
 * s3_lifecycle — a bucket's lifecycle configuration, pure: the
 * LifecycleConfiguration document (parsed, checked against AWS's rules,
 * written back in the one normalised form GetBucketLifecycleConfiguration
 * answers) and which rule applies to an object. No civetweb, no core:
 * unit tests and fuzz_lifecycle feed it plain strings; s3_lifecycle.c's
 * handlers and worker glue it to requests and to the namespace.
 *
 * Rules (AWS's PutBucketLifecycleConfiguration): 1..S3_LC_RULES_MAX Rule
 * elements, each with
 *   - ID (optional, at most S3_LC_ID_MAX characters, unique; one is made
 *     up when absent, as AWS does), Status Enabled or Disabled;
 *   - either a legacy top-level Prefix or a Filter holding at most one of
 *     Prefix, Tag, ObjectSizeGreaterThan, ObjectSizeLessThan, And (which
 *     holds any of Prefix, Tags, the two sizes); an empty Filter matches
 *     every object;
 *   - at least one action: Expiration (Days > 0, or Date at midnight UTC,
 *     or ExpiredObjectDeleteMarker; Days and Date not together, the
 *     marker alone and never with a tag filter), NoncurrentVersion-
 *     Expiration (NoncurrentDays > 0, NewerNoncurrentVersions 1..100),
 *     AbortIncompleteMultipartUpload (DaysAfterInitiation > 0, never with
 *     a tag filter; size filters do not apply to uploads).
 * Transition and NoncurrentVersionTransition: NOT_IMPLEMENTED (Atrium has
 * one storage class; accepting and never moving would lie to the client).
 * Errors: MALFORMED_XML for a document not of that shape, INVALID_ARGUMENT
 * or INVALID_REQUEST (as AWS answers each) with msg naming the problem.
 *
 * Time. A "day" is day_s seconds (86400; tests shrink it). An object
 * created at t expires by a Days rule at t + Days days rounded up to the
 * next day boundary (midnight UTC for real days), as AWS documents; by a
 * Date rule at that date. An upload is aborted likewise, DaysAfterInitiation
 * days after its creation.
 *
 * Not thread-safe per struct; structs are the caller's.
 */
#ifndef S3_S3_LIFECYCLE_H
#define S3_S3_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "s3/s3_err.h"

#define S3_LC_RULES_MAX 1000       /* AWS's */
#define S3_LC_ID_MAX 255
#define S3_LC_BODY_MAX (2u << 20)  /* 1000 rules with And filters fit */
#define S3_LC_TAGS_MAX 10          /* an object has at most 10 tags */
#define S3_LC_DAY 86400

struct s3_lc_tag {
	char *key, *value;
};

struct s3_lc_rule {
	char *id;
	int enabled;
	int legacy_prefix;          /* a top-level Prefix rather than a Filter */
	int has_and;                /* the filter was an And */
	char *prefix;               /* NULL: none */
	struct s3_lc_tag tags[S3_LC_TAGS_MAX];
	int ntags;
	int64_t size_gt, size_lt;   /* -1: none */
	/* Actions; 0 (-1 for the dates and the marker) when absent. */
	int64_t exp_days;
	int64_t exp_date;           /* seconds since the epoch, or -1 */
	int exp_marker;             /* ExpiredObjectDeleteMarker: -1, 0, 1 */
	int64_t nc_days;
	int nc_newer;               /* NewerNoncurrentVersions, 0: none */
	int64_t abort_days;
};

struct s3_lc {
	struct s3_lc_rule *rules;
	int n;
};

enum s3_err s3_lc_parse(const char *xml, size_t len, struct s3_lc *out, char *msg,
			size_t msgsize);
void s3_lc_free(struct s3_lc *c);
/* The normalised document (what Get answers). 0, or -1 at b's cap. */
int s3_lc_xml(const struct s3_lc *c, struct buf *b);

/* An object, as the rules see it: tags is S3's encoded "k=v&k2=v2" (NULL
 * or "": none). */
struct s3_lc_obj {
	const char *key;
	uint64_t size;
	int64_t mtime;              /* seconds since the epoch */
	const char *tags;
};
/* Whether rule r's filter (prefix, tags, sizes) matches o. */
int s3_lc_match(const struct s3_lc_rule *r, const struct s3_lc_obj *o);
/* When an enabled rule of c expires o (its current version), the
 * earliest (seconds since the epoch) and *rule that rule; -1 if none
 * does. day_s: the length of a day. */
int64_t s3_lc_expiry(const struct s3_lc *c, const struct s3_lc_obj *o, int64_t day_s,
		     const struct s3_lc_rule **rule);
/* t + days days, rounded up to the next day boundary. */
int64_t s3_lc_due(int64_t t, int64_t days, int64_t day_s);

#endif
