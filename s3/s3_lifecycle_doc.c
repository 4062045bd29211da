/* s3_lifecycle_doc — the lifecycle configuration document and which rule
 * applies to an object; see s3_lifecycle.h. */
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timefmt.h"
#include "common/uri.h"
#include "common/xml.h"
#include "s3/s3_lifecycle.h"
#include "common/banned.h"

/* A parse in progress: where the first problem is said. */
struct parse {
	char *msg;
	size_t msgsize;
};

static enum s3_err fail(struct parse *p, enum s3_err e, const char *msg)
{
	if (p->msgsize)
		snprintf(p->msg, p->msgsize, "%s", msg);
	return e;
}

/* The element children of n. */
static int elements(xmlNodePtr n)
{
	int k = 0;
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		k += c->type == XML_ELEMENT_NODE;
	return k;
}

#define INT_MAX32 2147483647LL          /* the schema's xs:int: days, versions */
#define LONG_MAX_SIZE 999999999999999LL /* sizes (xs:long; 15 digits is 900 TB) */

/* <name> of parent as an integer into *v (untouched if absent): 1 if
 * present, 0 if absent, -1 if not a decimal integer whose magnitude is at
 * most max (MalformedXML, as the schema's type). Days are bounded so that
 * a due time never overflows. */
static int read_int(xmlNodePtr parent, const char *name, int64_t max, int64_t *v)
{
	xmlNodePtr n = xml_child(parent, name);
	if (!n)
		return 0;
	char *t = xml_text(n);
	const char *d = t ? t + (*t == '-') : "";
	int ok = *d && strspn(d, "0123456789") == strlen(d) && strlen(d) <= 15;
	long long x = ok ? strtoll(t, NULL, 10) : 0;
	ok = ok && x <= max && x >= -max;
	if (ok)
		*v = x;
	xmlFree(t);
	return ok ? 1 : -1;
}

/* <name> of parent, strdup'd into *out (NULL if absent); -1 out of memory. */
static int read_str(xmlNodePtr parent, const char *name, char **out)
{
	xmlNodePtr n = xml_child(parent, name);
	*out = NULL;
	if (!n)
		return 0;
	char *t = xml_text(n);
	*out = strdup(t ? t : "");
	xmlFree(t);
	return *out ? 0 : -1;
}

static enum s3_err read_tag(struct parse *p, xmlNodePtr tag, struct s3_lc_rule *r)
{
	if (r->ntags == S3_LC_TAGS_MAX)
		return fail(p, S3_ERR_INVALID_REQUEST, "A filter holds at most 10 tags.");
	struct s3_lc_tag *t = &r->tags[r->ntags];
	if (!xml_child(tag, "Key"))
		return S3_ERR_MALFORMED_XML;
	if (read_str(tag, "Key", &t->key) || read_str(tag, "Value", &t->value) ||
	    (!t->value && !(t->value = strdup(""))))
		return S3_ERR_SLOW_DOWN;
	r->ntags++;
	for (int i = 0; i < r->ntags - 1; i++)
		if (!strcmp(r->tags[i].key, t->key))
			return fail(p, S3_ERR_INVALID_REQUEST, "Duplicate Tag Keys are not allowed.");
	return S3_ERR_OK;
}

/* The predicates of a Filter's And, or of the Filter itself (one). */
static enum s3_err read_predicates(struct parse *p, xmlNodePtr f, struct s3_lc_rule *r)
{
	enum s3_err e = S3_ERR_OK;
	if (xml_next(xml_child(f, "Prefix"), "Prefix") ||
	    xml_next(xml_child(f, "ObjectSizeGreaterThan"), "ObjectSizeGreaterThan") ||
	    xml_next(xml_child(f, "ObjectSizeLessThan"), "ObjectSizeLessThan"))
		return S3_ERR_MALFORMED_XML;
	if (read_str(f, "Prefix", &r->prefix))
		return S3_ERR_SLOW_DOWN;
	for (xmlNodePtr t = xml_child(f, "Tag"); t && !e; t = xml_next(t, "Tag"))
		e = read_tag(p, t, r);
	if (e)
		return e;
	if (read_int(f, "ObjectSizeGreaterThan", LONG_MAX_SIZE, &r->size_gt) < 0 ||
	    read_int(f, "ObjectSizeLessThan", LONG_MAX_SIZE, &r->size_lt) < 0)
		return S3_ERR_MALFORMED_XML;
	if ((xml_child(f, "ObjectSizeGreaterThan") && r->size_gt < 0) ||
	    (xml_child(f, "ObjectSizeLessThan") && r->size_lt <= 0))
		return fail(p, S3_ERR_INVALID_ARGUMENT, "Object size filters must be non-negative "
			    "(ObjectSizeLessThan positive).");
	if (r->size_gt >= 0 && r->size_lt >= 0 && r->size_gt >= r->size_lt)
		return fail(p, S3_ERR_INVALID_ARGUMENT, "ObjectSizeGreaterThan must be less than "
			    "ObjectSizeLessThan.");
	return S3_ERR_OK;
}

static enum s3_err read_filter(struct parse *p, xmlNodePtr rule, struct s3_lc_rule *r)
{
	xmlNodePtr f = xml_child(rule, "Filter"), legacy = xml_child(rule, "Prefix");
	if (xml_next(f, "Filter") || xml_next(legacy, "Prefix"))
		return S3_ERR_MALFORMED_XML;
	if (!f == !legacy) /* one of the two, as AWS's schema */
		return S3_ERR_MALFORMED_XML;
	if (legacy) {
		r->legacy_prefix = 1;
		return read_str(rule, "Prefix", &r->prefix) ? S3_ERR_SLOW_DOWN : S3_ERR_OK;
	}
	if (elements(f) > 1)
		return S3_ERR_MALFORMED_XML; /* And says "several", nothing else does */
	xmlNodePtr and = xml_child(f, "And");
	if (and)
		r->has_and = 1;
	return read_predicates(p, and ? and : f, r);
}

static enum s3_err read_expiration(struct parse *p, xmlNodePtr x, struct s3_lc_rule *r)
{
	int days = read_int(x, "Days", INT_MAX32, &r->exp_days);
	xmlNodePtr date = xml_child(x, "Date"), marker = xml_child(x, "ExpiredObjectDeleteMarker");
	if (days < 0 || elements(x) != 1) /* one of Days, Date and the marker */
		return S3_ERR_MALFORMED_XML;
	if (days && r->exp_days <= 0)
		return fail(p, S3_ERR_INVALID_ARGUMENT,
			    "'Days' for Expiration action must be a positive integer");
	if (date) {
		char *t = xml_text(date);
		int64_t ms;
		/* From 1970 to 2262: the span a time in nanoseconds holds. */
		int bad = !t || time_parse_iso8601(t, &ms) || ms < 0 ||
			  ms > INT64_MAX / 1000000;
		xmlFree(t);
		if (bad)
			return fail(p, S3_ERR_INVALID_ARGUMENT, "Invalid date: 'Date' must be in "
				    "ISO 8601 format");
		if (ms % (S3_LC_DAY * 1000LL))
			return fail(p, S3_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT");
		r->exp_date = ms / 1000;
	}
	if (marker) {
		char *t = xml_text(marker);
		r->exp_marker = t && !strcmp(t, "true") ? 1 : t && !strcmp(t, "false") ? 0 : -2;
		xmlFree(t);
		if (r->exp_marker == -2)
			return S3_ERR_MALFORMED_XML;
	}
	return S3_ERR_OK;
}

static enum s3_err read_noncurrent(struct parse *p, xmlNodePtr x, struct s3_lc_rule *r)
{
	int64_t newer = 0;
	int days = read_int(x, "NoncurrentDays", INT_MAX32, &r->nc_days);
	int nv = read_int(x, "NewerNoncurrentVersions", INT_MAX32, &newer);
	if (days <= 0 || nv < 0)
		return S3_ERR_MALFORMED_XML;
	if (r->nc_days <= 0)
		return fail(p, S3_ERR_INVALID_ARGUMENT, "'NoncurrentDays' for "
			    "NoncurrentVersionExpiration action must be a positive integer");
	if (nv && (newer < 1 || newer > 100))
		return fail(p, S3_ERR_INVALID_ARGUMENT, "'NewerNoncurrentVersions' must be "
			    "between 1 and 100");
	r->nc_newer = (int)newer;
	return S3_ERR_OK;
}

static enum s3_err read_abort(struct parse *p, xmlNodePtr x, struct s3_lc_rule *r)
{
	if (read_int(x, "DaysAfterInitiation", INT_MAX32, &r->abort_days) <= 0)
		return S3_ERR_MALFORMED_XML;
	if (r->abort_days <= 0)
		return fail(p, S3_ERR_INVALID_ARGUMENT, "'DaysAfterInitiation' for "
			    "AbortIncompleteMultipartUpload action must be a positive integer");
	if (r->ntags)
		return fail(p, S3_ERR_INVALID_REQUEST, "AbortIncompleteMultipartUpload cannot be "
			    "specified with Tags.");
	return S3_ERR_OK;
}

static enum s3_err read_id(struct parse *p, xmlNodePtr n, struct s3_lc_rule *r)
{
	if (read_str(n, "ID", &r->id))
		return S3_ERR_SLOW_DOWN;
	if (r->id && strlen(r->id) > S3_LC_ID_MAX)
		return fail(p, S3_ERR_INVALID_ARGUMENT, "ID length should not exceed allowed limit "
			    "of 255");
	if (r->id && *r->id)
		return S3_ERR_OK;
	/* None given: AWS makes one up. */
	unsigned char raw[16];
	free(r->id);
	if (RAND_bytes(raw, sizeof(raw)) != 1 || !(r->id = malloc(2 * sizeof(raw) + 1)))
		return S3_ERR_SLOW_DOWN;
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(r->id + 2 * i, 3, "%02x", raw[i]);
	return S3_ERR_OK;
}

static enum s3_err read_rule(struct parse *p, xmlNodePtr n, struct s3_lc_rule *r)
{
	enum s3_err e;
	xmlNodePtr x;
	r->size_gt = r->size_lt = r->exp_date = -1;
	r->exp_marker = -1;
	if (xml_child(n, "Transition") || xml_child(n, "NoncurrentVersionTransition"))
		return fail(p, S3_ERR_NOT_IMPLEMENTED, "Transitions are not implemented: Atrium "
			    "has one storage class (see docs/s3-compatibility.md).");
	if ((e = read_id(p, n, r)) || (e = read_filter(p, n, r)))
		return e;
	char *status = xml_text(xml_child(n, "Status"));
	r->enabled = status && !strcmp(status, "Enabled");
	int valid = status && (r->enabled || !strcmp(status, "Disabled"));
	xmlFree(status);
	if (!valid)
		return S3_ERR_MALFORMED_XML;
	static const char *const once[] = { "Expiration", "NoncurrentVersionExpiration",
					    "AbortIncompleteMultipartUpload", "Status", "ID" };
	for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
		if (xml_next(xml_child(n, once[i]), once[i]))
			return S3_ERR_MALFORMED_XML;
	if ((x = xml_child(n, "Expiration")) && (e = read_expiration(p, x, r)))
		return e;
	if ((x = xml_child(n, "NoncurrentVersionExpiration")) && (e = read_noncurrent(p, x, r)))
		return e;
	if ((x = xml_child(n, "AbortIncompleteMultipartUpload")) && (e = read_abort(p, x, r)))
		return e;
	if (!r->exp_days && r->exp_date < 0 && r->exp_marker < 0 && !r->nc_days &&
	    !r->abort_days)
		return fail(p, S3_ERR_INVALID_REQUEST, "At least one action needs to be specified "
			    "in a rule");
	if (r->exp_marker >= 0 && r->ntags)
		return fail(p, S3_ERR_INVALID_REQUEST, "ExpiredObjectDeleteMarker cannot be "
			    "specified with tags.");
	return S3_ERR_OK;
}

enum s3_err s3_lc_parse(const char *xml, size_t len, struct s3_lc *out, char *msg,
			size_t msgsize)
{
	struct parse p = { msg, msgsize };
	enum s3_err e = S3_ERR_MALFORMED_XML;
	xmlDocPtr doc = len && len <= S3_LC_BODY_MAX ? xml_parse(xml, len) : NULL;
	xmlNodePtr root = xml_root(doc, "LifecycleConfiguration");
	memset(out, 0, sizeof(*out));
	if (msgsize)
		msg[0] = '\0';
	if (!root)
		goto out;
	int n = 0;
	for (xmlNodePtr r = xml_child(root, "Rule"); r; r = xml_next(r, "Rule"))
		n++;
	if (n == 0 || n > S3_LC_RULES_MAX) {
		if (n)
			fail(&p, e, "The number of lifecycle rules should not exceed allowed "
			     "limit of 1000 rules");
		goto out;
	}
	if (!(out->rules = calloc((size_t)n, sizeof(*out->rules)))) {
		e = S3_ERR_SLOW_DOWN;
		goto out;
	}
	e = S3_ERR_OK;
	for (xmlNodePtr r = xml_child(root, "Rule"); r && !e; r = xml_next(r, "Rule")) {
		struct s3_lc_rule *rule = &out->rules[out->n++];
		e = read_rule(&p, r, rule);
		for (int i = 0; !e && i < out->n - 1; i++)
			if (!strcmp(out->rules[i].id, rule->id))
				e = fail(&p, S3_ERR_INVALID_ARGUMENT, "Rule ID must be unique. Found "
					 "same ID for more than one rule");
	}
out:
	if (doc)
		xmlFreeDoc(doc);
	if (e)
		s3_lc_free(out);
	return e;
}

void s3_lc_free(struct s3_lc *c)
{
	for (int i = 0; i < c->n; i++) {
		struct s3_lc_rule *r = &c->rules[i];
		free(r->id);
		free(r->prefix);
		for (int t = 0; t < r->ntags; t++) {
			free(r->tags[t].key);
			free(r->tags[t].value);
		}
	}
	free(c->rules);
	c->rules = NULL;
	c->n = 0;
}

/* ---- the document back ---- */

static int elem(struct buf *b, const char *tag, const char *text)
{
	return buf_addf(b, "<%s>", tag) || buf_add_xml(b, text) || buf_addf(b, "</%s>", tag);
}

static int filter_xml(const struct s3_lc_rule *r, struct buf *b)
{
	if (r->legacy_prefix)
		return elem(b, "Prefix", r->prefix);
	if (buf_addstr(b, "<Filter>") || (r->has_and && buf_addstr(b, "<And>")) ||
	    (r->prefix && elem(b, "Prefix", r->prefix)))
		return -1;
	for (int i = 0; i < r->ntags; i++)
		if (buf_addstr(b, "<Tag>") || elem(b, "Key", r->tags[i].key) ||
		    elem(b, "Value", r->tags[i].value) || buf_addstr(b, "</Tag>"))
			return -1;
	return (r->size_gt >= 0 &&
		buf_addf(b, "<ObjectSizeGreaterThan>%lld</ObjectSizeGreaterThan>",
			 (long long)r->size_gt)) ||
	       (r->size_lt >= 0 &&
		buf_addf(b, "<ObjectSizeLessThan>%lld</ObjectSizeLessThan>", (long long)r->size_lt)) ||
	       (r->has_and && buf_addstr(b, "</And>")) || buf_addstr(b, "</Filter>");
}

static int actions_xml(const struct s3_lc_rule *r, struct buf *b)
{
	char date[TIMEFMT_LEN];
	if (r->exp_days || r->exp_date >= 0 || r->exp_marker >= 0) {
		if (buf_addstr(b, "<Expiration>") ||
		    (r->exp_days && buf_addf(b, "<Days>%lld</Days>", (long long)r->exp_days)))
			return -1;
		if (r->exp_date >= 0) {
			time_fmt_iso8601_ms(r->exp_date * 1000000000LL, date);
			if (elem(b, "Date", date))
				return -1;
		}
		if ((r->exp_marker >= 0 &&
		     elem(b, "ExpiredObjectDeleteMarker", r->exp_marker ? "true" : "false")) ||
		    buf_addstr(b, "</Expiration>"))
			return -1;
	}
	if (r->nc_days &&
	    (buf_addf(b, "<NoncurrentVersionExpiration><NoncurrentDays>%lld</NoncurrentDays>",
		      (long long)r->nc_days) ||
	     (r->nc_newer &&
	      buf_addf(b, "<NewerNoncurrentVersions>%d</NewerNoncurrentVersions>", r->nc_newer)) ||
	     buf_addstr(b, "</NoncurrentVersionExpiration>")))
		return -1;
	return r->abort_days &&
	       buf_addf(b, "<AbortIncompleteMultipartUpload><DaysAfterInitiation>%lld"
			"</DaysAfterInitiation></AbortIncompleteMultipartUpload>",
			(long long)r->abort_days);
}

int s3_lc_xml(const struct s3_lc *c, struct buf *b)
{
	if (buf_addstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LifecycleConfiguration "
			  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"))
		return -1;
	for (int i = 0; i < c->n; i++) {
		const struct s3_lc_rule *r = &c->rules[i];
		if (buf_addstr(b, "<Rule>") || elem(b, "ID", r->id) || filter_xml(r, b) ||
		    elem(b, "Status", r->enabled ? "Enabled" : "Disabled") || actions_xml(r, b) ||
		    buf_addstr(b, "</Rule>"))
			return -1;
	}
	return buf_addstr(b, "</LifecycleConfiguration>");
}

/* ---- matching ---- */

static int tags_match(const struct s3_lc_rule *r, const char *tags)
{
	struct uri_query q;
	int ok = 1;
	if (!r->ntags)
		return 1;
	if (!tags || !*tags || uri_query_parse(&q, tags))
		return 0;
	for (int i = 0; i < r->ntags && ok; i++) {
		const struct uri_param *p = uri_query_get(&q, r->tags[i].key);
		ok = p && !strcmp(p->value ? p->value : "", r->tags[i].value);
	}
	uri_query_release(&q);
	return ok;
}

int s3_lc_match(const struct s3_lc_rule *r, const struct s3_lc_obj *o)
{
	return (!r->prefix || !strncmp(o->key, r->prefix, strlen(r->prefix))) &&
	       (r->size_gt < 0 || o->size > (uint64_t)r->size_gt) &&
	       (r->size_lt < 0 || o->size < (uint64_t)r->size_lt) && tags_match(r, o->tags);
}

int64_t s3_lc_due(int64_t t, int64_t days, int64_t day_s)
{
	int64_t at = t + days * day_s;
	return (at + day_s - 1) / day_s * day_s; /* epoch days start at midnight UTC */
}

int64_t s3_lc_expiry(const struct s3_lc *c, const struct s3_lc_obj *o, int64_t day_s,
		     const struct s3_lc_rule **rule)
{
	int64_t best = -1;
	*rule = NULL;
	for (int i = 0; i < c->n; i++) {
		const struct s3_lc_rule *r = &c->rules[i];
		if (!r->enabled || (!r->exp_days && r->exp_date < 0) || !s3_lc_match(r, o))
			continue;
		int64_t at = r->exp_days ? s3_lc_due(o->mtime, r->exp_days, day_s) : r->exp_date;
		if (best < 0 || at < best) {
			best = at;
			*rule = r;
		}
	}
	return best;
}
