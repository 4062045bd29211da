/*
 * policy_cond — the Condition element of a bucket policy: condition keys,
 * operators (with IfExists and the ForAnyValue:/ForAllValues: set
 * operators), their values, and their evaluation against a request. The
 * rules are AWS's ("IAM JSON policy elements: Condition operators",
 * "Creating a condition with multiple context keys or values"); where AWS
 * documents nothing, the choice is written beside the code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/hash.h"
#include "common/json_scalar.h"
#include "common/timefmt.h"
#include "src/policy_impl_int.h"
#include "common/banned.h"

/* ---- condition keys ---- */

enum {
	K_PREFIX = 1,   /* "s3:ExistingObjectTag/" + a tag key */
	K_PIN = 2,      /* a fixed value makes a statement non-public (Block Public Access) */
	K_IP = 4,       /* values are IP addresses or CIDR blocks, whatever the operator */
};

/* The keys a bucket policy may test: AWS's global condition keys and the
 * keys Amazon S3 defines ("Actions, resources, and condition keys for
 * Amazon S3"), with the spelling AWS documents (what r->value is asked
 * for; names compare case-insensitively). Any other aws: or s3: key, and
 * any other service's key, is "Policy has an invalid condition key". */
static const struct key {
	const char *name;
	unsigned flags;
} keys[] = {
	{ "aws:CalledVia", 0 },
	{ "aws:CalledViaFirst", 0 },
	{ "aws:CalledViaLast", 0 },
	{ "aws:CurrentTime", 0 },
	{ "aws:Ec2InstanceSourcePrivateIPv4", K_IP },
	{ "aws:Ec2InstanceSourceVpc", 0 },
	{ "aws:EpochTime", 0 },
	{ "aws:FederatedProvider", 0 },
	{ "aws:MultiFactorAuthAge", 0 },
	{ "aws:MultiFactorAuthPresent", 0 },
	{ "aws:PrincipalAccount", K_PIN },
	{ "aws:PrincipalArn", K_PIN },
	{ "aws:PrincipalIsAWSService", 0 },
	{ "aws:PrincipalOrgID", K_PIN },
	{ "aws:PrincipalOrgPaths", 0 },
	{ "aws:PrincipalServiceName", 0 },
	{ "aws:PrincipalServiceNamesList", 0 },
	{ "aws:PrincipalTag/", K_PREFIX },
	{ "aws:PrincipalType", 0 },
	{ "aws:Referer", 0 },
	{ "aws:RequestedRegion", 0 },
	{ "aws:RequestTag/", K_PREFIX },
	{ "aws:ResourceAccount", 0 },
	{ "aws:ResourceOrgID", 0 },
	{ "aws:ResourceOrgPaths", 0 },
	{ "aws:ResourceTag/", K_PREFIX },
	{ "aws:SecureTransport", 0 },
	{ "aws:SourceAccount", K_PIN },
	{ "aws:SourceArn", K_PIN },
	{ "aws:SourceIdentity", 0 },
	{ "aws:SourceIp", K_PIN | K_IP },
	{ "aws:SourceOrgID", K_PIN },
	{ "aws:SourceOrgPaths", 0 },
	{ "aws:SourceOwner", K_PIN },
	{ "aws:SourceVpc", K_PIN },
	{ "aws:SourceVpce", K_PIN },
	{ "aws:SourceVpcArn", 0 },
	{ "aws:TagKeys", 0 },
	{ "aws:TokenIssueTime", 0 },
	{ "aws:UserAgent", 0 },
	{ "aws:userid", K_PIN },
	{ "aws:username", 0 },
	{ "aws:ViaAWSService", 0 },
	{ "aws:VpcSourceIp", K_IP },
	{ "s3:AccessGrantsInstanceArn", 0 },
	{ "s3:AccessPointNetworkOrigin", 0 },
	{ "s3:authType", 0 },
	{ "s3:DataAccessPointAccount", K_PIN },
	{ "s3:DataAccessPointArn", K_PIN },
	{ "s3:delimiter", 0 },
	{ "s3:ExistingObjectTag/", K_PREFIX },
	{ "s3:if-match", 0 },
	{ "s3:if-none-match", 0 },
	{ "s3:LocationConstraint", 0 },
	{ "s3:max-keys", 0 },
	{ "s3:object-lock-legal-hold", 0 },
	{ "s3:object-lock-mode", 0 },
	{ "s3:object-lock-remaining-retention-days", 0 },
	{ "s3:object-lock-retain-until-date", 0 },
	{ "s3:ObjectCreationOperation", 0 },
	{ "s3:prefix", 0 },
	{ "s3:RequestObjectTag/", K_PREFIX },
	{ "s3:RequestObjectTagKeys", 0 },
	{ "s3:ResourceAccount", 0 },
	{ "s3:signatureAge", 0 },
	{ "s3:signatureversion", 0 },
	{ "s3:TlsVersion", 0 },
	{ "s3:VersionId", 0 },
	{ "s3:x-amz-acl", 0 },
	{ "s3:x-amz-content-sha256", 0 },
	{ "s3:x-amz-copy-source", 0 },
	{ "s3:x-amz-grant-full-control", 0 },
	{ "s3:x-amz-grant-read", 0 },
	{ "s3:x-amz-grant-read-acp", 0 },
	{ "s3:x-amz-grant-write", 0 },
	{ "s3:x-amz-grant-write-acp", 0 },
	{ "s3:x-amz-metadata-directive", 0 },
	{ "s3:x-amz-object-ownership", 0 },
	{ "s3:x-amz-server-side-encryption", 0 },
	{ "s3:x-amz-server-side-encryption-aws-kms-key-id", K_PIN },
	{ "s3:x-amz-server-side-encryption-customer-algorithm", 0 },
	{ "s3:x-amz-storage-class", 0 },
	{ "s3:x-amz-website-redirect-location", 0 },
};

/* The key's canonical spelling (*out, malloc'd) and flags: 0, 1 if the
 * key is unknown, -1 if memory runs out. A prefixed key keeps its suffix
 * (a tag key) as written. */
static int key_canonical(const char *name, char **out, unsigned *flags)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		size_t n = strlen(k->name);
		if (k->flags & K_PREFIX) {
			if (strncasecmp(name, k->name, n) || !name[n])
				continue;
		} else if (strcasecmp(name, k->name)) {
			continue;
		}
		if (!(*out = strdup(name)))
			return -1;
		memcpy(*out, k->name, n);
		*flags = k->flags;
		return 0;
	}
	return 1;
}

/* Policy variables name keys too: give them the canonical spelling. */
static int canon_vars(struct pat *p)
{
	for (size_t i = 0; i < p->nvars; i++) {
		unsigned flags;
		char *c;
		int rc = key_canonical(p->vars[i].name, &c, &flags);
		if (rc < 0)
			return -1;
		if (rc == 0) {
			free(p->vars[i].name);
			p->vars[i].name = c;
		}
	}
	return 0;
}

/* ---- operators ---- */

enum ctype { T_STRING, T_NUMERIC, T_DATE, T_BOOL, T_BINARY, T_IP, T_ARN, T_NULL };
enum cmp { C_EQ, C_LT, C_LE, C_GT, C_GE };

static const struct op {
	const char *name;
	unsigned char type, cmp, neg, wild, icase;
} ops[] = {
	{ "StringEquals", T_STRING, C_EQ, 0, 0, 0 },
	{ "StringNotEquals", T_STRING, C_EQ, 1, 0, 0 },
	{ "StringEqualsIgnoreCase", T_STRING, C_EQ, 0, 0, 1 },
	{ "StringNotEqualsIgnoreCase", T_STRING, C_EQ, 1, 0, 1 },
	{ "StringLike", T_STRING, C_EQ, 0, 1, 0 },
	{ "StringNotLike", T_STRING, C_EQ, 1, 1, 0 },
	{ "NumericEquals", T_NUMERIC, C_EQ, 0, 0, 0 },
	{ "NumericNotEquals", T_NUMERIC, C_EQ, 1, 0, 0 },
	{ "NumericLessThan", T_NUMERIC, C_LT, 0, 0, 0 },
	{ "NumericLessThanEquals", T_NUMERIC, C_LE, 0, 0, 0 },
	{ "NumericGreaterThan", T_NUMERIC, C_GT, 0, 0, 0 },
	{ "NumericGreaterThanEquals", T_NUMERIC, C_GE, 0, 0, 0 },
	{ "DateEquals", T_DATE, C_EQ, 0, 0, 0 },
	{ "DateNotEquals", T_DATE, C_EQ, 1, 0, 0 },
	{ "DateLessThan", T_DATE, C_LT, 0, 0, 0 },
	{ "DateLessThanEquals", T_DATE, C_LE, 0, 0, 0 },
	{ "DateGreaterThan", T_DATE, C_GT, 0, 0, 0 },
	{ "DateGreaterThanEquals", T_DATE, C_GE, 0, 0, 0 },
	{ "Bool", T_BOOL, C_EQ, 0, 0, 1 },
	{ "BinaryEquals", T_BINARY, C_EQ, 0, 0, 0 },
	{ "IpAddress", T_IP, C_EQ, 0, 0, 0 },
	{ "NotIpAddress", T_IP, C_EQ, 1, 0, 0 },
	/* ArnEquals and ArnLike behave identically (AWS), wildcards and all. */
	{ "ArnEquals", T_ARN, C_EQ, 0, 1, 0 },
	{ "ArnLike", T_ARN, C_EQ, 0, 1, 0 },
	{ "ArnNotEquals", T_ARN, C_EQ, 1, 1, 0 },
	{ "ArnNotLike", T_ARN, C_EQ, 1, 1, 0 },
	{ "Null", T_NULL, C_EQ, 0, 0, 0 },
};

enum { SET_NONE, SET_ANY, SET_ALL };

/* "ForAnyValue:StringLikeIfExists" into its parts. Names are
 * case-sensitive, as AWS reads them. NULL if it is no operator. */
static const struct op *op_parse(const char *name, int *set, int *ifexists)
{
	static const char any[] = "ForAnyValue:", all[] = "ForAllValues:", ie[] = "IfExists";
	*set = SET_NONE;
	if (!strncmp(name, any, sizeof(any) - 1)) {
		*set = SET_ANY;
		name += sizeof(any) - 1;
	} else if (!strncmp(name, all, sizeof(all) - 1)) {
		*set = SET_ALL;
		name += sizeof(all) - 1;
	}
	size_t n = strlen(name);
	*ifexists = n > sizeof(ie) - 1 && !strcmp(name + n - (sizeof(ie) - 1), ie);
	if (*ifexists)
		n -= sizeof(ie) - 1;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strlen(ops[i].name) != n || strncmp(ops[i].name, name, n))
			continue;
		/* Null tests existence itself: no IfExists, no set of values. */
		if (ops[i].type == T_NULL && (*ifexists || *set != SET_NONE))
			return NULL;
		return &ops[i];
	}
	return NULL;
}

/* ---- values ---- */

struct cidr {
	int family;                /* AF_INET, AF_INET6 */
	unsigned char addr[16];
	int bits;
};

struct cval {
	struct pat pat;            /* String, Arn, Bool */
	double num;                /* Numeric */
	int64_t ms;                /* Date: milliseconds since the epoch */
	struct cidr ip;            /* IpAddress */
	unsigned char *bin;        /* BinaryEquals */
	size_t binlen;
	int truth;                 /* Null: true = the key is absent */
};

struct cond {
	const struct op *op;
	int set, ifexists;
	char *key;                 /* canonical spelling */
	unsigned keyflags;
	struct cval *vals;
	size_t nvals;
};

struct cond_block {
	struct cond *v;
	size_t n;
};

/* A decimal number: [+-]digits[.digits][e[+-]digits], nothing else (no
 * hex, inf or nan, which strtod would take). */
static int parse_number(const char *s, double *out)
{
	const char *p = s + (*s == '-' || *s == '+');
	size_t d = strspn(p, "0123456789");
	p += d;
	if (*p == '.') {
		size_t f = strspn(p + 1, "0123456789");
		if (!f)
			return -1;
		p += 1 + f;
	}
	if (!d)
		return -1;
	if (*p == 'e' || *p == 'E') {
		p += 1 + (p[1] == '-' || p[1] == '+');
		size_t e = strspn(p, "0123456789");
		if (!e)
			return -1;
		p += e;
	}
	if (*p)
		return -1;
	errno = 0;
	*out = strtod(s, NULL);
	return errno == ERANGE ? -1 : 0;
}

/*
 * A date as AWS takes it: one of the W3C profiles of ISO 8601 (YYYY-MM,
 * YYYY-MM-DD, with "Thh:mm", "Thh:mm:ss" or "Thh:mm:ss.s" and a zone "Z"
 * or "+hh:mm") or epoch seconds ("1357027200", a fraction allowed). A
 * string of digits alone is epoch seconds, so the year-only profile is not
 * taken ("2013" would be ambiguous).
 */
static int parse_date(const char *s, int64_t *out)
{
	double sec;
	if (!strchr(s, '-') || s[0] == '-') {
		if (parse_number(s, &sec) || strpbrk(s, "eE+") || sec > 1e13 || sec < -1e13)
			return -1;
		*out = (int64_t)(sec * 1000);
		return 0;
	}
	return time_parse_iso8601(s, out);
}

/* "203.0.113.0/24", "2001:DB8::/32"; without a prefix, the address alone
 * (/32, /128). */
static int parse_cidr(const char *s, struct cidr *c)
{
	char a[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n >= sizeof(a))
		return -1;
	memcpy(a, s, n);
	a[n] = '\0';
	memset(c, 0, sizeof(*c));
	c->family = strchr(a, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(c->family, a, c->addr) != 1)
		return -1;
	int max = c->family == AF_INET ? 32 : 128;
	c->bits = max;
	if (slash) {
		const char *b = slash + 1;
		size_t k = strspn(b, "0123456789");
		if (!k || k > 3 || b[k])
			return -1;
		c->bits = (int)strtol(b, NULL, 10);
		if (c->bits > max)
			return -1;
	}
	return 0;
}

/* Is address a (of family fam) inside c? An IPv4-mapped IPv6 address is
 * its IPv4 address. */
static int cidr_has(const struct cidr *c, int fam, const unsigned char *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (fam == AF_INET6 && c->family == AF_INET && !memcmp(a, mapped, 12)) {
		fam = AF_INET;
		a += 12;
	}
	if (fam != c->family)
		return 0;
	int full = c->bits / 8, rest = c->bits % 8;
	if (memcmp(a, c->addr, (size_t)full))
		return 0;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return !rest || (a[full] & mask) == (c->addr[full] & mask);
}

/* One value of a condition, checked and compiled for its operator. */
static int cval_parse(const struct cond *c, const json_t *j, int vars, struct cval *v,
		      char *err, size_t errsize)
{
	char num[40];
	/* strings, numbers (an account id given as one, exactly), booleans */
	const char *s = json_scalar_text(j, num, sizeof(num));
	if (!s) {
		policy_err(err, errsize, "Invalid Condition value for %s", c->key);
		return -1;
	}
	/* AWS checks the addresses of an IP key whatever the operator. */
	if (((c->keyflags & K_IP) && c->op->type != T_NULL) || c->op->type == T_IP) {
		if (parse_cidr(s, &v->ip)) {
			policy_err(err, errsize, "Invalid IP address in Conditions");
			return -1;
		}
	}
	switch (c->op->type) {
	case T_STRING: case T_ARN: case T_BOOL:
		if (pat_compile(&v->pat, s, strlen(s), c->op->wild, vars) || canon_vars(&v->pat)) {
			policy_err(err, errsize, "Out of memory");
			return -1;
		}
		if (c->op->type == T_BOOL && !v->pat.nvars && strcasecmp(s, "true") &&
		    strcasecmp(s, "false")) {
			policy_err(err, errsize, "Invalid boolean in Conditions: %s", s);
			return -1;
		}
		return 0;
	case T_NUMERIC:
		if (json_is_number(j))
			v->num = json_number_value(j);
		else if (parse_number(s, &v->num))
			break;
		return 0;
	case T_DATE:
		if (parse_date(s, &v->ms))
			break;
		return 0;
	case T_NULL:
		if (strcasecmp(s, "true") && strcasecmp(s, "false"))
			break;
		v->truth = !strcasecmp(s, "true");
		return 0;
	case T_BINARY: {
		size_t n = strlen(s);
		int k;
		if (!(v->bin = malloc(n / 4 * 3 + 3)) ||
		    (k = base64_decode(s, n, v->bin, n / 4 * 3 + 3)) < 0)
			break;
		v->binlen = (size_t)k;
		return 0;
	}
	case T_IP:
		return 0;
	}
	policy_err(err, errsize, "Invalid value in Conditions for %s: %s", c->op->name, s);
	return -1;
}

static void cond_release(struct cond *c)
{
	for (size_t i = 0; i < c->nvals; i++) {
		pat_release(&c->vals[i].pat);
		free(c->vals[i].bin);
	}
	free(c->vals);
	free(c->key);
}

void cond_free(struct cond_block *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++)
		cond_release(&b->v[i]);
	free(b->v);
	free(b);
}

/* One "key": value(s) pair under operator op into c. */
static int cond_parse_one(struct cond *c, const struct op *op, int set, int ifexists,
			  const char *key, json_t *vals, int vars, char *err, size_t errsize)
{
	c->op = op;
	c->set = set;
	c->ifexists = ifexists;
	int rc = key_canonical(key, &c->key, &c->keyflags);
	if (rc) {
		policy_err(err, errsize, rc < 0 ? "Out of memory" : "Policy has an invalid condition key");
		return -1;
	}
	size_t n = json_is_array(vals) ? json_array_size(vals) : 1;
	if (n && !(c->vals = calloc(n, sizeof(*c->vals)))) {
		policy_err(err, errsize, "Out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *j = json_is_array(vals) ? json_array_get(vals, i) : vals;
		c->nvals++;
		if (cval_parse(c, j, vars, &c->vals[i], err, errsize))
			return -1;
	}
	return 0;
}

int cond_parse(json_t *cond, int vars, struct cond_block **out, char *err, size_t errsize)
{
	const char *opname, *key;
	json_t *keys, *vals;
	size_t n = 0;
	*out = NULL;
	if (!json_is_object(cond)) {
		policy_err(err, errsize, "Invalid Condition element: it must be an object");
		return -1;
	}
	json_object_foreach(cond, opname, keys)
		n += json_is_object(keys) ? json_object_size(keys) : 0;
	struct cond_block *b = calloc(1, sizeof(*b));
	if (!b || (n && !(b->v = calloc(n, sizeof(*b->v))))) {
		policy_err(err, errsize, "Out of memory");
		cond_free(b);
		return -1;
	}
	json_object_foreach(cond, opname, keys) {
		int set, ifexists;
		const struct op *op = op_parse(opname, &set, &ifexists);
		if (!op) {
			policy_err(err, errsize, "Invalid Condition type : %s", opname);
			goto fail;
		}
		if (!json_is_object(keys)) {
			policy_err(err, errsize, "Invalid Condition element: %s must map keys to values",
				   opname);
			goto fail;
		}
		json_object_foreach(keys, key, vals) {
			b->n++;
			if (cond_parse_one(&b->v[b->n - 1], op, set, ifexists, key, vals,
					   vars && (op->type == T_STRING || op->type == T_ARN ||
						    op->type == T_BOOL), err, errsize))
				goto fail;
		}
	}
	*out = b;
	return 0;
fail:
	cond_free(b);
	return -1;
}

/* ---- evaluation ---- */

/* The i-th value of key for the request. aws:username and aws:userid are
 * the requester's user name (Atrium's user id is its name), absent for an
 * anonymous request; every other key is the caller's (r->value). */
static const char *eval_value(const struct eval_ctx *x, const char *key, int i)
{
	const struct policy_request *r = x->r;
	if (!strcasecmp(key, "aws:username") || !strcasecmp(key, "aws:userid"))
		return i == 0 ? r->user : NULL;
	return r->value ? r->value(r->arg, key, i) : NULL;
}

const char *cond_var_value(void *arg, const char *name)
{
	return eval_value(arg, name, 0);
}

static int compare(enum cmp cmp, int order)
{
	switch (cmp) {
	case C_EQ: return order == 0;
	case C_LT: return order < 0;
	case C_LE: return order <= 0;
	case C_GT: return order > 0;
	case C_GE: return order >= 0;
	}
	return 0;
}

/* Does request value s match policy value v (before any negation)? A
 * request value that does not parse for the operator matches nothing. */
static enum tv value_match(const struct cond *c, const struct cval *v, const char *s,
			   struct eval_ctx *x)
{
	size_t n = strlen(s), plen;
	const char *p;
	double num = 0;
	int64_t ms = 0;
	struct cidr a = { 0 };
	switch (c->op->type) {
	case T_STRING: case T_BOOL: case T_ARN:
		if (pat_expand(&v->pat, cond_var_value, x, &x->buf, &p, &plen) != TV_TRUE)
			return TV_UNKNOWN;
		return c->op->type == T_ARN ? pat_match_arn(p, plen, s, n)
					    : pat_match(p, plen, s, n, c->op->icase);
	case T_NUMERIC:
		return !parse_number(s, &num) &&
		       compare(c->op->cmp, num < v->num ? -1 : num > v->num ? 1 : 0);
	case T_DATE:
		return !parse_date(s, &ms) &&
		       compare(c->op->cmp, ms < v->ms ? -1 : ms > v->ms ? 1 : 0);
	case T_IP:
		return !strchr(s, '/') && !parse_cidr(s, &a) && cidr_has(&v->ip, a.family, a.addr);
	case T_BINARY:
		return n == v->binlen && !memcmp(s, v->bin, n);
	case T_NULL:
		break;
	}
	return TV_FALSE;
}

/*
 * One condition. Each request value matches if it matches any policy value
 * (OR); a negated operator (StringNotEquals...) holds for a request value
 * that matches none of them (NOR). Over the request's values: ForAnyValue
 * holds if one holds, ForAllValues if all do (and for none); without a set
 * operator a key has one value in practice, and a positive operator holds
 * if any value matches, a negated one if none does. A key the request
 * lacks: false for a positive operator, true for a negated one, true with
 * IfExists and ForAllValues, false with ForAnyValue; Null tests presence.
 */
static enum tv cond_one(const struct cond *c, struct eval_ctx *x)
{
	const char *s = eval_value(x, c->key, 0);
	if (c->op->type == T_NULL) {
		enum tv r = TV_FALSE;
		for (size_t k = 0; k < c->nvals; k++)
			r = tv_or(r, c->vals[k].truth == !s ? TV_TRUE : TV_FALSE);
		return r;
	}
	if (!s) {
		if (c->ifexists || c->set == SET_ALL)
			return TV_TRUE;
		return c->set == SET_NONE && c->op->neg ? TV_TRUE : TV_FALSE;
	}
	enum tv any = TV_FALSE, all = TV_TRUE;
	for (int i = 0; s; s = eval_value(x, c->key, ++i)) {
		if (i >= POLICY_VALUES_MAX)
			return TV_UNKNOWN; /* more than we look at: no verdict */
		enum tv m = TV_FALSE;
		for (size_t k = 0; k < c->nvals && m != TV_TRUE; k++)
			m = tv_or(m, value_match(c, &c->vals[k], s, x));
		if (c->op->neg)
			m = tv_not(m);
		any = tv_or(any, m);
		all = tv_and(all, m);
	}
	if (c->set == SET_ALL)
		return all;
	if (c->set == SET_ANY)
		return any;
	return c->op->neg ? all : any;
}

enum tv cond_eval(const struct cond_block *b, struct eval_ctx *x)
{
	enum tv r = TV_TRUE;
	for (size_t i = 0; b && i < b->n && r != TV_FALSE; i++)
		r = tv_and(r, cond_one(&b->v[i], x));
	return r;
}

/* ---- Block Public Access ---- */

/*
 * AWS: a statement is non-public when it grants access only to fixed
 * values (no wildcard, no policy variable) of aws:SourceIp (CIDR blocks
 * no broader than /8 for IPv4 and /32 for IPv6), aws:SourceArn,
 * aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
 * aws:userid, s3:x-amz-server-side-encryption-aws-kms-key-id,
 * s3:DataAccessPointArn, s3:DataAccessPointAccount, or of a principal
 * (aws:PrincipalOrgID, aws:PrincipalAccount, aws:PrincipalArn,
 * aws:SourceOrgID). "Only to fixed values" means a positive operator that
 * must hold: not negated, not ...IfExists (a request without the key would
 * pass), not ForAllValues (true for no value). Where AWS allows a wildcard
 * (aws:userid "AROLEID:*", an access point name) we do not: a policy we
 * call public that AWS would not is refused by BlockPublicPolicy, the safe
 * way to be wrong.
 */
static int cond_pinned(const struct cond *c)
{
	if (!(c->keyflags & K_PIN) || c->ifexists || c->set == SET_ALL || c->op->neg || !c->nvals)
		return 0;
	if (c->keyflags & K_IP) {
		if (c->op->type != T_IP)
			return 0;
		for (size_t i = 0; i < c->nvals; i++)
			if (c->vals[i].ip.bits < (c->vals[i].ip.family == AF_INET ? 8 : 32))
				return 0;
		return 1;
	}
	if (c->op->type != T_STRING && c->op->type != T_ARN)
		return 0;
	for (size_t i = 0; i < c->nvals; i++)
		if (c->vals[i].pat.nvars || (c->op->wild && pat_has_wild(&c->vals[i].pat)))
			return 0;
	return 1;
}

int cond_pins(const struct cond_block *b)
{
	for (size_t i = 0; b && i < b->n; i++)
		if (cond_pinned(&b->v[i]))
			return 1;
	return 0;
}
