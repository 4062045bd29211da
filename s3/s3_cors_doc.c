/* s3_cors_doc — the CORS configuration document and its matching; see
 * s3_cors.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/xml.h"
#include "s3/s3_cors.h"
#include "common/banned.h"

static const struct {
	const char *name;
	unsigned bit;
} methods[] = {
	{ "GET", S3_CORS_GET }, { "PUT", S3_CORS_PUT }, { "HEAD", S3_CORS_HEAD },
	{ "POST", S3_CORS_POST }, { "DELETE", S3_CORS_DELETE },
};

unsigned s3_cors_method(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(methods[i].name, name))
			return methods[i].bit;
	return 0;
}

static void list_free(struct s3_cors_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void s3_cors_free(struct s3_cors *c)
{
	for (int i = 0; i < c->n; i++) {
		free(c->rules[i].id);
		list_free(&c->rules[i].origins);
		list_free(&c->rules[i].headers);
		list_free(&c->rules[i].expose);
	}
	free(c->rules);
	c->rules = NULL;
	c->n = 0;
}

/* Values that go into response headers: printable ASCII only, so none can
 * end a header line or smuggle another. */
static int header_text(const char *v)
{
	if (!*v)
		return 0;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return 0;
	return 1;
}

static int add(struct s3_cors_list *l, const char *v)
{
	char **nv = realloc(l->v, (size_t)(l->n + 1) * sizeof(*nv));
	if (!nv)
		return -1;
	l->v = nv;
	if (!(l->v[l->n] = strdup(v)))
		return -1;
	l->n++;
	return 0;
}

/* Every <name> child of rule into l; wild: at most one '*' allowed. */
static enum s3_err read_list(xmlNodePtr rule, const char *name, int wild,
			     struct s3_cors_list *l, char *msg, size_t msgsize)
{
	for (xmlNodePtr n = xml_child(rule, name); n; n = xml_next(n, name)) {
		char *v = xml_text(n);
		enum s3_err e = S3_ERR_OK;
		if (!v || !header_text(v)) {
			snprintf(msg, msgsize, "%s \"%s\" is not a valid value.", name,
				 v && header_text(v) ? v : "");
			e = S3_ERR_CORS_INVALID;
		} else if (wild && strchr(v, '*') && strchr(v, '*') != strrchr(v, '*')) {
			snprintf(msg, msgsize, "%s \"%s\" can not have more than one wildcard.",
				 name, v);
			e = S3_ERR_CORS_INVALID;
		} else if (add(l, v)) {
			e = S3_ERR_SLOW_DOWN;
		}
		xmlFree(v);
		if (e)
			return e;
	}
	return S3_ERR_OK;
}

static enum s3_err read_rule(xmlNodePtr n, struct s3_cors_rule *r, char *msg, size_t msgsize)
{
	enum s3_err e;
	r->max_age = -1;
	for (xmlNodePtr m = xml_child(n, "AllowedMethod"); m; m = xml_next(m, "AllowedMethod")) {
		char *v = xml_text(m);
		unsigned bit = v ? s3_cors_method(v) : 0;
		if (!bit)
			snprintf(msg, msgsize, "Found unsupported HTTP method in CORS config. "
				 "Unsupported method is %s", v && header_text(v) ? v : "(none)");
		xmlFree(v);
		if (!bit)
			return S3_ERR_CORS_INVALID;
		r->methods |= bit;
	}
	if ((e = read_list(n, "AllowedOrigin", 1, &r->origins, msg, msgsize)) ||
	    (e = read_list(n, "AllowedHeader", 1, &r->headers, msg, msgsize)) ||
	    (e = read_list(n, "ExposeHeader", 0, &r->expose, msg, msgsize)))
		return e;
	if (!r->methods || !r->origins.n)
		return S3_ERR_MALFORMED_XML; /* both are required by the schema */
	xmlNodePtr age = xml_child(n, "MaxAgeSeconds");
	if (age) {
		char *v = xml_text(age);
		int ok = v && *v && strspn(v, "0123456789") == strlen(v) && strlen(v) <= 9;
		if (ok)
			r->max_age = strtol(v, NULL, 10);
		xmlFree(v);
		if (!ok)
			return S3_ERR_MALFORMED_XML;
	}
	xmlNodePtr id = xml_child(n, "ID");
	if (id) {
		char *v = xml_text(id);
		int ok = v && strlen(v) <= S3_CORS_ID_MAX;
		if (ok && !(r->id = strdup(v)))
			ok = 0;
		xmlFree(v);
		if (!ok) {
			snprintf(msg, msgsize, "The ID of a CORSRule is at most %d characters.",
				 S3_CORS_ID_MAX);
			return S3_ERR_CORS_INVALID;
		}
	}
	return S3_ERR_OK;
}

enum s3_err s3_cors_parse(const char *xml, size_t len, struct s3_cors *out, char *msg,
			  size_t msgsize)
{
	enum s3_err e = S3_ERR_MALFORMED_XML;
	xmlDocPtr doc = len && len <= S3_CORS_BODY_MAX ? xml_parse(xml, len) : NULL;
	xmlNodePtr root = xml_root(doc, "CORSConfiguration");
	memset(out, 0, sizeof(*out));
	if (msgsize)
		msg[0] = '\0';
	if (!root)
		goto out;
	int n = 0;
	for (xmlNodePtr r = xml_child(root, "CORSRule"); r; r = xml_next(r, "CORSRule"))
		n++;
	if (n == 0)
		goto out;
	if (n > S3_CORS_RULES_MAX) {
		snprintf(msg, msgsize, "The number of CORS rules should not exceed allowed limit "
			 "of %d rules.", S3_CORS_RULES_MAX);
		e = S3_ERR_CORS_INVALID;
		goto out;
	}
	if (!(out->rules = calloc((size_t)n, sizeof(*out->rules)))) {
		e = S3_ERR_SLOW_DOWN;
		goto out;
	}
	e = S3_ERR_OK;
	for (xmlNodePtr r = xml_child(root, "CORSRule"); r && !e; r = xml_next(r, "CORSRule"))
		e = read_rule(r, &out->rules[out->n++], msg, msgsize);
out:
	if (doc)
		xmlFreeDoc(doc);
	return e;
}

static int list_xml(struct buf *b, const char *tag, const struct s3_cors_list *l)
{
	for (int i = 0; i < l->n; i++)
		if (buf_addf(b, "<%s>", tag) || buf_add_xml(b, l->v[i]) || buf_addf(b, "</%s>", tag))
			return -1;
	return 0;
}

int s3_cors_xml(const struct s3_cors *c, struct buf *b)
{
	if (buf_addstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CORSConfiguration "
			  "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"))
		return -1;
	for (int i = 0; i < c->n; i++) {
		const struct s3_cors_rule *r = &c->rules[i];
		if (buf_addstr(b, "<CORSRule>") ||
		    (r->id && (buf_addstr(b, "<ID>") || buf_add_xml(b, r->id) ||
			       buf_addstr(b, "</ID>"))) ||
		    list_xml(b, "AllowedHeader", &r->headers))
			return -1;
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
			if ((r->methods & methods[m].bit) &&
			    buf_addf(b, "<AllowedMethod>%s</AllowedMethod>", methods[m].name))
				return -1;
		if (list_xml(b, "AllowedOrigin", &r->origins) ||
		    list_xml(b, "ExposeHeader", &r->expose) ||
		    (r->max_age >= 0 &&
		     buf_addf(b, "<MaxAgeSeconds>%ld</MaxAgeSeconds>", r->max_age)) ||
		    buf_addstr(b, "</CORSRule>"))
			return -1;
	}
	return buf_addstr(b, "</CORSConfiguration>");
}

/* pattern with at most one '*' against s[0..n). */
static int wild_match(const char *pattern, const char *s, size_t n, int nocase)
{
	const char *star = strchr(pattern, '*');
	int (*cmp)(const char *, const char *, size_t) = nocase ? strncasecmp : strncmp;
	if (!star)
		return strlen(pattern) == n && !cmp(pattern, s, n);
	size_t pre = (size_t)(star - pattern), suf = strlen(star + 1);
	return n >= pre + suf && !cmp(pattern, s, pre) && !cmp(star + 1, s + n - suf, suf);
}

static int any_match(const struct s3_cors_list *l, const char *s, size_t n, int nocase)
{
	for (int i = 0; i < l->n; i++)
		if (wild_match(l->v[i], s, n, nocase))
			return 1;
	return 0;
}

/* Every comma-separated name of req_headers matches an AllowedHeader. */
static int headers_allowed(const struct s3_cors_rule *r, const char *req_headers)
{
	for (const char *p = req_headers; p && *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, ",");
		size_t t = n;
		while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
			t--;
		if (t && !any_match(&r->headers, p, t, 1))
			return 0;
		p += n;
	}
	return 1;
}

const struct s3_cors_rule *s3_cors_match(const struct s3_cors *c, const char *origin,
					 const char *method, const char *req_headers)
{
	unsigned bit = method ? s3_cors_method(method) : 0;
	if (!origin || !bit)
		return NULL;
	for (int i = 0; i < c->n; i++) {
		const struct s3_cors_rule *r = &c->rules[i];
		if ((r->methods & bit) && any_match(&r->origins, origin, strlen(origin), 0) &&
		    headers_allowed(r, req_headers))
			return r;
	}
	return NULL;
}

static int any_origin(const struct s3_cors_rule *r)
{
	for (int i = 0; i < r->origins.n; i++)
		if (!strcmp(r->origins.v[i], "*"))
			return 1;
	return 0;
}

int s3_cors_headers(const struct s3_cors_rule *r, const char *origin, const char *req_headers,
		    int preflight, struct buf *out)
{
	int star = any_origin(r), n = 0;
	if (!header_text(origin))
		return -1;
	if (buf_addf(out, "Access-Control-Allow-Origin: %s\r\n", star ? "*" : origin) ||
	    (!star && buf_addstr(out, "Access-Control-Allow-Credentials: true\r\n")) ||
	    buf_addstr(out, "Access-Control-Allow-Methods: "))
		return -1;
	for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
		if ((r->methods & methods[m].bit) &&
		    buf_addf(out, "%s%s", n++ ? ", " : "", methods[m].name))
			return -1;
	if (buf_addstr(out, "\r\n"))
		return -1;
	if (preflight && req_headers && header_text(req_headers) &&
	    buf_addf(out, "Access-Control-Allow-Headers: %s\r\n", req_headers))
		return -1;
	for (int i = 0; i < r->expose.n; i++)
		if (buf_addf(out, "%s%s", i ? ", " : "Access-Control-Expose-Headers: ",
			     r->expose.v[i]) ||
		    (i == r->expose.n - 1 && buf_addstr(out, "\r\n")))
			return -1;
	if (r->max_age >= 0 && buf_addf(out, "Access-Control-Max-Age: %ld\r\n", r->max_age))
		return -1;
	return 0;
}
