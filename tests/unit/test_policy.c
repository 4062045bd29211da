/* The bucket-policy engine (src/policy.c, policy_cond.c, policy_pat.c):
 * every MalformedPolicy message, every condition operator, principals,
 * actions, resources, variables, Deny over Allow, failing closed, and
 * AWS's "public" rule. Bucket "bkt"; users alice, bob and carol exist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "src/policy_int.h"
#include "tests/unit/policy_spec.h"

#define HEAD "{\"Version\":\"2012-10-17\",\"Statement\":"

static int user_exists(void *arg, const char *user)
{
	return !strcmp(user, "alice") || !strcmp(user, "bob") || !strcmp(user, "carol");
}

static struct policy *parse_ok(const char *json)
{
	struct policy *p = NULL;
	char err[256] = "";
	if (policy_parse(json, strlen(json), "bkt", user_exists, NULL, &p, err, sizeof(err)))
		fail_msg("refused (%s): %s", err, json);
	assert_string_equal(err, "");
	return p;
}

static enum policy_decision eval(const struct policy *p, const char *user, const char *action,
				 const char *key, const char *spec)
{
	struct policy_request r = { user, action, "bkt", key, policy_spec_value, (void *)spec };
	return policy_eval(p, &r);
}

/* ---- MalformedPolicy ---- */

#define ST(body) HEAD "[{" body "}]}"
#define OK_ST "\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\"," \
	      "\"Resource\":\"arn:aws:s3:::bkt/*\""
#define COND(c) ST(OK_ST ",\"Condition\":" c)

static void malformed(void **state)
{
	static const struct { const char *json, *msg; } rows[] = {
		{ "", "Policies must be valid JSON and the first byte must be '{'" },
		{ " {}", "Policies must be valid JSON and the first byte must be '{'" },
		{ "[]", "Policies must be valid JSON and the first byte must be '{'" },
		{ "{", "This policy contains invalid Json" },
		{ "{\"Statement\":[],}", "This policy contains invalid Json" },
		{ "{\"Statement\":\"\\u0000\"}", "This policy contains invalid Json" },
		{ "{}", "Missing required field Statement" },
		{ HEAD "[]}", "Could not parse the policy: Statement is empty!" },
		{ HEAD "5}", "This policy contains invalid Json" },
		{ HEAD "[5]}", "This policy contains invalid Json" },
		{ "{\"Version\":\"2012-10-18\",\"Statement\":{" OK_ST "}}",
		  "The policy must contain a valid version string" },
		{ "{\"Version\":2012,\"Statement\":{" OK_ST "}}",
		  "The policy must contain a valid version string" },
		{ "{\"Id\":7,\"Statement\":{" OK_ST "}}", "Invalid Id: it must be a string" },
		{ "{\"Foo\":1,\"Statement\":{" OK_ST "}}", "Unknown field Foo" },
		{ "{\"version\":\"2012-10-17\",\"Statement\":{" OK_ST "}}", "Unknown field version" },
		{ ST(OK_ST ",\"Effects\":\"Allow\""), "Unknown field Effects" },
		{ ST(OK_ST ",\"Sid\":5"), "Invalid Sid: it must be a string" },
		{ HEAD "[{\"Sid\":\"a\"," OK_ST "},{\"Sid\":\"a\"," OK_ST "}]}",
		  "Statement IDs (SID) in a single policy must be unique" },
		{ ST("\"Principal\":\"*\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\""),
		  "Missing required field Effect" },
		{ ST("\"Effect\":\"allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
		     "\"Resource\":\"arn:aws:s3:::bkt/*\""), "Invalid effect: allow" },
		{ ST("\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\""),
		  "Missing required field Principal" },
		{ ST(OK_ST ",\"NotPrincipal\":\"*\""),
		  "Statement cannot contain both Principal and NotPrincipal" },
		{ ST("\"Effect\":\"Allow\",\"Principal\":\"*\",\"Resource\":\"arn:aws:s3:::bkt/*\""),
		  "Missing required field Action" },
		{ ST(OK_ST ",\"NotAction\":\"s3:PutObject\""),
		  "Statement cannot contain both Action and NotAction" },
		{ ST("\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\""),
		  "Missing required field Resource" },
		{ ST(OK_ST ",\"NotResource\":\"arn:aws:s3:::bkt\""),
		  "Statement cannot contain both Resource and NotResource" },
		{ COND("{\"StringEquals\":{\"s3:prefix\":\"a\"}},\"Condition\":{}"),
		  "This policy contains invalid Json" },          /* a key twice */
		{ HEAD "{" OK_ST "},\"Version\":\"2012-10-17\"}", "This policy contains invalid Json" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy *p = (struct policy *)1;
		char err[256] = "x";
		int rc = policy_parse(rows[i].json, strlen(rows[i].json), "bkt", user_exists, NULL, &p,
				      err, sizeof(err));
		if (rc != -1 || strcmp(err, rows[i].msg))
			fail_msg("row %zu: rc %d, \"%s\", want \"%s\"", i, rc, err, rows[i].msg);
		assert_null(p);
	}
}

#define PR(pr) ST("\"Effect\":\"Allow\",\"Principal\":" pr ",\"Action\":\"s3:GetObject\"," \
		  "\"Resource\":\"arn:aws:s3:::bkt/*\"")
#define AR(act, res) ST("\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":" act \
			",\"Resource\":" res)

static void malformed_elements(void **state)
{
	static const struct { const char *json, *msg; } rows[] = {
		{ PR("\"alice\""), "Invalid principal in policy" },
		{ PR("{\"AWS\":\"alice\"}"), "Invalid principal in policy" },
		{ PR("{\"AWS\":\"arn:aws:iam::123456789012:user/dave\"}"), "Invalid principal in policy" },
		{ PR("{\"AWS\":\"arn:aws:iam::123456789012:role/admin\"}"), "Invalid principal in policy" },
		{ PR("{\"AWS\":\"arn:aws:iam::123456789012:user/*\"}"), "Invalid principal in policy" },
		{ PR("{\"AWS\":\"arn:aws:iam::12345:root\"}"), "Invalid principal in policy" },
		{ PR("{\"AWS\":[]}"), "Invalid principal in policy" },
		{ PR("{\"AWS\":[\"*\",5]}"), "Invalid principal in policy" },
		{ PR("{}"), "Invalid principal in policy" },
		{ PR("[\"*\"]"), "Invalid principal in policy" },
		{ PR("{\"Foo\":\"x\"}"), "Invalid principal in policy" },
		{ PR("{\"CanonicalUser\":\"*\"}"), "Invalid principal in policy" },
		{ PR("{\"CanonicalUser\":\"dave\"}"), "Invalid principal in policy" },
		{ PR("{\"Service\":\"s3.*.com\"}"), "Invalid principal in policy" },
		{ AR("\"s3:Foo\"", "\"arn:aws:s3:::bkt/*\""), "Policy has invalid action" },
		{ AR("\"s3:Foo*\"", "\"arn:aws:s3:::bkt/*\""), "Policy has invalid action" },
		{ AR("\"iam:CreateUser\"", "\"arn:aws:s3:::bkt/*\""), "Policy has invalid action" },
		{ AR("\"\"", "\"arn:aws:s3:::bkt/*\""), "Policy has invalid action" },
		{ AR("[]", "\"arn:aws:s3:::bkt/*\""), "Policy has invalid action" },
		{ AR("5", "\"arn:aws:s3:::bkt/*\""), "Policy has invalid action" },
		{ AR("\"s3:GetObject\"", "\"*\""), "Policy has invalid resource" },
		{ AR("\"s3:GetObject\"", "\"arn:aws:s3:::other/*\""), "Policy has invalid resource" },
		{ AR("\"s3:GetObject\"", "\"arn:aws:s3:::bkt2/*\""), "Policy has invalid resource" },
		{ AR("\"s3:GetObject\"", "\"arn:aws:s3:::bk\""), "Policy has invalid resource" },
		{ AR("\"s3:GetObject\"", "\"arn:aws:s3::bkt/*\""), "Policy has invalid resource" },
		{ AR("\"s3:GetObject\"", "[]"), "Policy has invalid resource" },
		{ AR("\"s3:GetObject\"", "[\"arn:aws:s3:::bkt/*\",{}]"), "Policy has invalid resource" },
		{ AR("\"s3:GetObject\"", "\"arn:aws:s3:::bkt\""),
		  "Action does not apply to any resource(s) in statement" },
		{ AR("\"s3:ListBucket\"", "\"arn:aws:s3:::bkt/*\""),
		  "Action does not apply to any resource(s) in statement" },
		{ AR("[\"s3:ListBucket\",\"s3:GetObject\"]", "\"arn:aws:s3:::bkt/*\""),
		  "Action does not apply to any resource(s) in statement" },
		{ AR("\"s3:ListAllMyBuckets\"", "[\"arn:aws:s3:::bkt\",\"arn:aws:s3:::bkt/*\"]"),
		  "Action does not apply to any resource(s) in statement" },
		{ AR("\"s3:*Job*\"", "\"arn:aws:s3:::bkt/*\""),
		  "Action does not apply to any resource(s) in statement" },
		{ COND("[]"), "Invalid Condition element: it must be an object" },
		{ COND("{\"StringEquals\":\"x\"}"),
		  "Invalid Condition element: StringEquals must map keys to values" },
		{ COND("{\"StringEqual\":{\"s3:prefix\":\"a\"}}"), "Invalid Condition type : StringEqual" },
		{ COND("{\"stringequals\":{\"s3:prefix\":\"a\"}}"), "Invalid Condition type : stringequals" },
		{ COND("{\"NullIfExists\":{\"s3:prefix\":\"true\"}}"),
		  "Invalid Condition type : NullIfExists" },
		{ COND("{\"ForAnyValue:Null\":{\"s3:prefix\":\"true\"}}"),
		  "Invalid Condition type : ForAnyValue:Null" },
		{ COND("{\"ForSomeValues:StringEquals\":{\"s3:prefix\":\"a\"}}"),
		  "Invalid Condition type : ForSomeValues:StringEquals" },
		{ COND("{\"IfExists\":{\"s3:prefix\":\"a\"}}"), "Invalid Condition type : IfExists" },
		{ COND("{\"StringEquals\":{\"s3:foo\":\"a\"}}"), "Policy has an invalid condition key" },
		{ COND("{\"StringEquals\":{\"aws:Foo\":\"a\"}}"), "Policy has an invalid condition key" },
		{ COND("{\"StringEquals\":{\"ec2:InstanceType\":\"a\"}}"),
		  "Policy has an invalid condition key" },
		{ COND("{\"StringEquals\":{\"s3:ExistingObjectTag/\":\"a\"}}"),
		  "Policy has an invalid condition key" },
		{ COND("{\"IpAddress\":{\"aws:SourceIp\":\"300.1.1.1\"}}"),
		  "Invalid IP address in Conditions" },
		{ COND("{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\"}}"),
		  "Invalid IP address in Conditions" },
		{ COND("{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/\"}}"),
		  "Invalid IP address in Conditions" },
		{ COND("{\"NotIpAddress\":{\"aws:SourceIp\":\"2001:db8::/129\"}}"),
		  "Invalid IP address in Conditions" },
		{ COND("{\"StringLike\":{\"aws:SourceIp\":\"10.*\"}}"),
		  "Invalid IP address in Conditions" },
		{ COND("{\"IpAddress\":{\"s3:prefix\":\"a\"}}"), "Invalid IP address in Conditions" },
		{ COND("{\"NumericEquals\":{\"s3:max-keys\":\"ten\"}}"),
		  "Invalid value in Conditions for NumericEquals: ten" },
		{ COND("{\"NumericEquals\":{\"s3:max-keys\":\"0x10\"}}"),
		  "Invalid value in Conditions for NumericEquals: 0x10" },
		{ COND("{\"NumericLessThan\":{\"s3:max-keys\":\"${aws:username}\"}}"),
		  "Invalid value in Conditions for NumericLessThan: ${aws:username}" },
		{ COND("{\"DateLessThan\":{\"aws:CurrentTime\":\"yesterday\"}}"),
		  "Invalid value in Conditions for DateLessThan: yesterday" },
		{ COND("{\"DateLessThan\":{\"aws:CurrentTime\":\"2020-02-30T00:00:00Z\"}}"),
		  "Invalid value in Conditions for DateLessThan: 2020-02-30T00:00:00Z" },
		{ COND("{\"DateLessThan\":{\"aws:CurrentTime\":\"2020-01-01T24:00:00Z\"}}"),
		  "Invalid value in Conditions for DateLessThan: 2020-01-01T24:00:00Z" },
		{ COND("{\"Bool\":{\"aws:SecureTransport\":\"yes\"}}"),
		  "Invalid boolean in Conditions: yes" },
		{ COND("{\"Null\":{\"s3:x-amz-acl\":\"maybe\"}}"),
		  "Invalid value in Conditions for Null: maybe" },
		{ COND("{\"BinaryEquals\":{\"aws:UserAgent\":\"!!!!\"}}"),
		  "Invalid value in Conditions for BinaryEquals: !!!!" },
		{ COND("{\"StringEquals\":{\"s3:prefix\":{\"a\":1}}}"),
		  "Invalid Condition value for s3:prefix" },
		{ COND("{\"StringEquals\":{\"s3:prefix\":[\"a\",[\"b\"]]}}"),
		  "Invalid Condition value for s3:prefix" },
		{ COND("{\"StringEquals\":{\"s3:prefix\":null}}"),
		  "Invalid Condition value for s3:prefix" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy *p = NULL;
		char err[256] = "";
		int rc = policy_parse(rows[i].json, strlen(rows[i].json), "bkt", user_exists, NULL, &p,
				      err, sizeof(err));
		if (rc != -1 || strcmp(err, rows[i].msg))
			fail_msg("row %zu: rc %d, \"%s\", want \"%s\"", i, rc, err, rows[i].msg);
		assert_null(p);
	}
}

/* Documents up to 20480 bytes are read; one byte more is refused before. */
static void size_cap(void **state)
{
	static const char doc[] = HEAD "{" OK_ST "}}";
	char *big = malloc(POLICY_MAX_BYTES + 2);
	char err[128];
	struct policy *p = NULL;
	assert_non_null(big);
	memset(big, ' ', POLICY_MAX_BYTES + 1);
	memcpy(big, doc, sizeof(doc) - 2);          /* without the final '}' */
	big[POLICY_MAX_BYTES - 1] = '}';
	assert_int_equal(policy_parse(big, POLICY_MAX_BYTES, "bkt", NULL, NULL, &p, err,
				      sizeof(err)), 0);
	policy_free(p);
	big[POLICY_MAX_BYTES] = '}';                /* 20481 bytes: too big, whatever they hold */
	big[POLICY_MAX_BYTES - 1] = ' ';
	assert_int_equal(policy_parse(big, POLICY_MAX_BYTES + 1, "bkt", NULL, NULL, &p, err,
				      sizeof(err)), -1);
	assert_string_equal(err, "Policies must be no more than 20480 bytes");
	assert_null(p);
	/* err may be small or absent */
	assert_int_equal(policy_parse("x", 1, "bkt", NULL, NULL, &p, err, 8), -1);
	assert_string_equal(err, "Policie");
	assert_int_equal(policy_parse("x", 1, "bkt", NULL, NULL, &p, NULL, 0), -1);
	free(big);
}

/* ---- conditions ---- */

static const struct cond_case {
	const char *cond;      /* the Condition element */
	const char *spec;      /* the request's condition values */
	const char *user;
	char want;             /* 'A' allowed, '-' not matched */
} conds[] = {
	/* String */
	{ "{\"StringEquals\":{\"s3:prefix\":\"home/\"}}", "s3:prefix=home/", NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"home/\"}}", "s3:prefix=Home/", NULL, '-' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"home/\"}}", "", NULL, '-' },
	{ "{\"StringEquals\":{\"S3:PREFIX\":\"a\"}}", "s3:prefix=a", NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"a*\"}}", "s3:prefix=abc", NULL, '-' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"a*\"}}", "s3:prefix=a*", NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":[\"a\",\"b\"]}}", "s3:prefix=b", NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":[]}}", "s3:prefix=b", NULL, '-' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"\"}}", "s3:prefix=", NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:max-keys\":10}}", "s3:max-keys=10", NULL, 'A' },
	{ "{\"StringEquals\":{\"aws:SourceAccount\":123456789012}}",
	  "aws:SourceAccount=123456789012", NULL, 'A' },
	{ "{\"StringEqualsIfExists\":{\"s3:prefix\":\"home/\"}}", "", NULL, 'A' },
	{ "{\"StringEqualsIfExists\":{\"s3:prefix\":\"home/\"}}", "s3:prefix=x", NULL, '-' },
	{ "{\"StringNotEquals\":{\"s3:prefix\":\"home/\"}}", "", NULL, 'A' },
	{ "{\"StringNotEquals\":{\"s3:prefix\":[\"a\",\"b\"]}}", "s3:prefix=b", NULL, '-' },
	{ "{\"StringNotEquals\":{\"s3:prefix\":[\"a\",\"b\"]}}", "s3:prefix=c", NULL, 'A' },
	{ "{\"StringNotEqualsIfExists\":{\"s3:prefix\":\"a\"}}", "", NULL, 'A' },
	{ "{\"StringNotEqualsIfExists\":{\"s3:prefix\":\"a\"}}", "s3:prefix=a", NULL, '-' },
	{ "{\"StringEqualsIgnoreCase\":{\"s3:prefix\":\"HOME/\"}}", "s3:prefix=home/", NULL, 'A' },
	{ "{\"StringEqualsIgnoreCase\":{\"s3:prefix\":\"HOME/\"}}", "s3:prefix=hom/", NULL, '-' },
	{ "{\"StringEqualsIgnoreCaseIfExists\":{\"s3:prefix\":\"x\"}}", "", NULL, 'A' },
	{ "{\"StringNotEqualsIgnoreCase\":{\"s3:prefix\":\"HOME/\"}}", "s3:prefix=home/", NULL, '-' },
	{ "{\"StringNotEqualsIgnoreCase\":{\"s3:prefix\":\"HOME/\"}}", "s3:prefix=x", NULL, 'A' },
	{ "{\"StringNotEqualsIgnoreCase\":{\"s3:prefix\":\"HOME/\"}}", "", NULL, 'A' },
	{ "{\"StringNotEqualsIgnoreCaseIfExists\":{\"s3:prefix\":\"A\"}}", "s3:prefix=a", NULL, '-' },
	{ "{\"StringLike\":{\"s3:prefix\":\"home/*\"}}", "s3:prefix=home/a/b", NULL, 'A' },
	{ "{\"StringLike\":{\"s3:prefix\":\"home/*\"}}", "s3:prefix=hom", NULL, '-' },
	{ "{\"StringLike\":{\"s3:prefix\":\"h?me\"}}", "s3:prefix=h\xc3\xa9me", NULL, 'A' },
	{ "{\"StringLike\":{\"s3:prefix\":\"h?me\"}}", "s3:prefix=hme", NULL, '-' },
	{ "{\"StringLike\":{\"s3:prefix\":\"*a*b*c\"}}", "s3:prefix=xxaxxbxxbxc", NULL, 'A' },
	{ "{\"StringLike\":{\"s3:prefix\":\"*a*b*c\"}}", "s3:prefix=xxaxxbxxbxcd", NULL, '-' },
	{ "{\"StringLike\":{\"s3:prefix\":\"\"}}", "s3:prefix=", NULL, 'A' },
	{ "{\"StringLikeIfExists\":{\"s3:prefix\":\"a*\"}}", "", NULL, 'A' },
	{ "{\"StringNotLike\":{\"s3:prefix\":[\"a*\",\"b*\"]}}", "s3:prefix=c", NULL, 'A' },
	{ "{\"StringNotLike\":{\"s3:prefix\":[\"a*\",\"b*\"]}}", "s3:prefix=bx", NULL, '-' },
	{ "{\"StringNotLike\":{\"s3:prefix\":[\"a*\",\"b*\"]}}", "", NULL, 'A' },
	{ "{\"StringNotLikeIfExists\":{\"s3:prefix\":\"a*\"}}", "s3:prefix=ab", NULL, '-' },
	{ "{\"StringEquals\":{\"s3:ExistingObjectTag/Color\":\"red\"}}",
	  "s3:ExistingObjectTag/Color=red", NULL, 'A' },
	{ "{\"StringEquals\":{\"S3:existingobjecttag/Color\":\"red\"}}",
	  "s3:ExistingObjectTag/Color=red", NULL, 'A' },
	/* keys AND, operators AND */
	{ "{\"StringEquals\":{\"s3:prefix\":\"a\",\"s3:delimiter\":\"/\"}}", "s3:prefix=a", NULL, '-' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"a\",\"s3:delimiter\":\"/\"}}",
	  "s3:prefix=a;s3:delimiter=/", NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"a\"},\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}",
	  "s3:prefix=a;s3:max-keys=10", NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"a\"},\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}",
	  "s3:prefix=a;s3:max-keys=11", NULL, '-' },
	{ "{}", "", NULL, 'A' },
	/* Numeric */
	{ "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10", NULL, 'A' },
	{ "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10.0", NULL, 'A' },
	{ "{\"NumericEquals\":{\"s3:max-keys\":10}}", "s3:max-keys=1e1", NULL, 'A' },
	{ "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=11", NULL, '-' },
	{ "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=ten", NULL, '-' },
	{ "{\"NumericEquals\":{\"s3:max-keys\":\"10\"}}", "", NULL, '-' },
	{ "{\"NumericNotEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=11", NULL, 'A' },
	{ "{\"NumericNotEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10", NULL, '-' },
	{ "{\"NumericNotEquals\":{\"s3:max-keys\":\"10\"}}", "", NULL, 'A' },
	{ "{\"NumericLessThan\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=9.5", NULL, 'A' },
	{ "{\"NumericLessThan\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10", NULL, '-' },
	{ "{\"NumericLessThan\":{\"s3:max-keys\":\"-1.5\"}}", "s3:max-keys=-2", NULL, 'A' },
	{ "{\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10", NULL, 'A' },
	{ "{\"NumericLessThanEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10.5", NULL, '-' },
	{ "{\"NumericGreaterThan\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=11", NULL, 'A' },
	{ "{\"NumericGreaterThan\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10", NULL, '-' },
	{ "{\"NumericGreaterThanEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=10", NULL, 'A' },
	{ "{\"NumericGreaterThanEquals\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=9", NULL, '-' },
	{ "{\"NumericLessThanIfExists\":{\"s3:max-keys\":\"10\"}}", "", NULL, 'A' },
	{ "{\"NumericLessThanIfExists\":{\"s3:max-keys\":\"10\"}}", "s3:max-keys=12", NULL, '-' },
	{ "{\"NumericGreaterThanEqualsIfExists\":{\"s3:max-keys\":\"10\"}}", "", NULL, 'A' },
	/* Date: ISO 8601 and epoch seconds, either side */
	{ "{\"DateLessThan\":{\"aws:CurrentTime\":\"2030-01-01T00:00:00Z\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, 'A' },
	{ "{\"DateLessThan\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00Z\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, '-' },
	{ "{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2019-12-31T23:59:59Z\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, 'A' },
	{ "{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00Z\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, '-' },
	{ "{\"DateEquals\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00Z\"}}",
	  "aws:CurrentTime=1577836800", NULL, 'A' },
	{ "{\"DateEquals\":{\"aws:EpochTime\":\"1577836800\"}}",
	  "aws:EpochTime=2020-01-01T00:00:00Z", NULL, 'A' },
	{ "{\"DateEquals\":{\"aws:CurrentTime\":\"2020-01-01T01:00:00+01:00\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, 'A' },
	{ "{\"DateEquals\":{\"aws:CurrentTime\":\"2019-12-31T19:30-04:30\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00.000Z", NULL, 'A' },
	{ "{\"DateEquals\":{\"aws:CurrentTime\":\"2020-01-01\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, 'A' },
	{ "{\"DateEquals\":{\"aws:CurrentTime\":\"2020-02\"}}",
	  "aws:CurrentTime=2020-02-01T00:00:00Z", NULL, 'A' },
	{ "{\"DateEquals\":{\"aws:CurrentTime\":\"2024-02-29T12:00:00Z\"}}",
	  "aws:CurrentTime=1709208000", NULL, 'A' },
	{ "{\"DateEquals\":{\"aws:CurrentTime\":\"1969-12-31T23:59:59Z\"}}",
	  "aws:CurrentTime=-1", NULL, 'A' },
	{ "{\"DateLessThanEquals\":{\"aws:CurrentTime\":\"2020-01-01\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, 'A' },
	{ "{\"DateLessThanEquals\":{\"aws:CurrentTime\":\"2020-01-01\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:01Z", NULL, '-' },
	{ "{\"DateGreaterThanEquals\":{\"aws:CurrentTime\":\"2020-01-01\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, 'A' },
	{ "{\"DateGreaterThan\":{\"aws:CurrentTime\":\"2020-01-01T00:00:00.500Z\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00.600Z", NULL, 'A' },
	{ "{\"DateGreaterThan\":{\"aws:EpochTime\":1577836800}}", "aws:EpochTime=1577836801", NULL, 'A' },
	{ "{\"DateGreaterThan\":{\"aws:EpochTime\":1577836800}}", "aws:EpochTime=soon", NULL, '-' },
	{ "{\"DateNotEquals\":{\"aws:CurrentTime\":\"2020-01-01\"}}", "", NULL, 'A' },
	{ "{\"DateNotEquals\":{\"aws:CurrentTime\":\"2020-01-01\"}}",
	  "aws:CurrentTime=2020-01-01T00:00:00Z", NULL, '-' },
	{ "{\"DateLessThanIfExists\":{\"aws:CurrentTime\":\"2020-01-01\"}}", "", NULL, 'A' },
	{ "{\"DateLessThan\":{\"aws:CurrentTime\":\"2020-01-01\"}}", "", NULL, '-' },
	/* Bool */
	{ "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", "aws:SecureTransport=true", NULL, 'A' },
	{ "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", "aws:SecureTransport=TRUE", NULL, 'A' },
	{ "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", "aws:SecureTransport=false", NULL, '-' },
	{ "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}", "", NULL, '-' },
	{ "{\"Bool\":{\"aws:SecureTransport\":false}}", "aws:SecureTransport=false", NULL, 'A' },
	{ "{\"BoolIfExists\":{\"aws:SecureTransport\":\"false\"}}", "", NULL, 'A' },
	{ "{\"BoolIfExists\":{\"aws:SecureTransport\":\"false\"}}", "aws:SecureTransport=true", NULL,
	  '-' },
	/* Binary */
	{ "{\"BinaryEquals\":{\"aws:UserAgent\":\"aGVsbG8=\"}}", "aws:UserAgent=hello", NULL, 'A' },
	{ "{\"BinaryEquals\":{\"aws:UserAgent\":\"aGVsbG8=\"}}", "aws:UserAgent=hellO", NULL, '-' },
	{ "{\"BinaryEquals\":{\"aws:UserAgent\":\"aGVsbG8=\"}}", "", NULL, '-' },
	{ "{\"BinaryEqualsIfExists\":{\"aws:UserAgent\":\"aGVsbG8=\"}}", "", NULL, 'A' },
	/* IP addresses, IPv4 and IPv6 */
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=203.0.113.9", NULL, 'A' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=203.0.114.1", NULL, '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "", NULL, '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=nonsense", NULL, '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=203.0.113.9/32", NULL,
	  '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=::ffff:203.0.113.5",
	  NULL, 'A' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"10.1.2.3\"}}", "aws:SourceIp=10.1.2.3", NULL, 'A' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"10.1.2.3\"}}", "aws:SourceIp=10.1.2.4", NULL, '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.16.0/20\"}}", "aws:SourceIp=10.0.31.255", NULL, 'A' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.16.0/20\"}}", "aws:SourceIp=10.0.32.0", NULL, '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}", "aws:SourceIp=1.2.3.4", NULL, 'A' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}", "aws:SourceIp=2001:db8::1", NULL, '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":[\"203.0.113.0/24\",\"2001:DB8:1234:5678::/64\"]}}",
	  "aws:SourceIp=2001:db8:1234:5678::1", NULL, 'A' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"2001:DB8:1234:5678::/64\"}}",
	  "aws:SourceIp=2001:db8:1234:5679::1", NULL, '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"2001:DB8:1234:5678::/64\"}}",
	  "aws:SourceIp=203.0.113.1", NULL, '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/33\"}}", "aws:SourceIp=2001:db8:7fff::1", NULL,
	  'A' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/33\"}}", "aws:SourceIp=2001:db8:8000::1", NULL,
	  '-' },
	{ "{\"IpAddress\":{\"aws:SourceIp\":\"::1\"}}", "aws:SourceIp=::1", NULL, 'A' },
	{ "{\"IpAddressIfExists\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}", "", NULL, 'A' },
	{ "{\"NotIpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=10.0.0.1", NULL, 'A' },
	{ "{\"NotIpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "aws:SourceIp=203.0.113.1", NULL,
	  '-' },
	{ "{\"NotIpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}", "", NULL, 'A' },
	{ "{\"NotIpAddressIfExists\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}",
	  "aws:SourceIp=203.0.113.1", NULL, '-' },
	/* ARN: component by component */
	{ "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:123456789012:topic*\"}}",
	  "aws:SourceArn=arn:aws:sns:us-east-1:123456789012:topic1", NULL, 'A' },
	{ "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:someservice:*:111122223333:finance/*\"}}",
	  "aws:SourceArn=arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/d",
	  NULL, '-' },
	{ "{\"StringLike\":{\"aws:SourceArn\":\"arn:aws:someservice:*:111122223333:finance/*\"}}",
	  "aws:SourceArn=arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/d",
	  NULL, 'A' },
	{ "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:s3:::bkt/a:b*\"}}",
	  "aws:SourceArn=arn:aws:s3:::bkt/a:bc", NULL, 'A' },
	{ "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:s3:::b*\"}}", "aws:SourceArn=arn:aws:s3:::bkt",
	  NULL, 'A' },
	{ "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:s3:::b*\"}}", "aws:SourceArn=arn:aws:s3::bkt",
	  NULL, '-' },
	{ "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:s3\"}}", "aws:SourceArn=arn:aws:s3", NULL, '-' },
	{ "{\"ArnNotLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:t\"}}",
	  "aws:SourceArn=arn:aws:sqs:r:1:t", NULL, 'A' },
	{ "{\"ArnNotLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:t\"}}", "", NULL, 'A' },
	{ "{\"ArnNotEquals\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:t\"}}",
	  "aws:SourceArn=arn:aws:sns:r:1:t", NULL, '-' },
	{ "{\"ArnLikeIfExists\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:t\"}}", "", NULL, 'A' },
	/* Null */
	{ "{\"Null\":{\"s3:x-amz-acl\":\"true\"}}", "", NULL, 'A' },
	{ "{\"Null\":{\"s3:x-amz-acl\":\"true\"}}", "s3:x-amz-acl=private", NULL, '-' },
	{ "{\"Null\":{\"s3:x-amz-acl\":\"false\"}}", "s3:x-amz-acl=private", NULL, 'A' },
	{ "{\"Null\":{\"s3:x-amz-acl\":false}}", "", NULL, '-' },
	{ "{\"Null\":{\"s3:x-amz-acl\":true}}", "", NULL, 'A' },
	/* set operators over a key with several values */
	{ "{\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}",
	  "s3:RequestObjectTagKeys=a|b", NULL, 'A' },
	{ "{\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}",
	  "s3:RequestObjectTagKeys=a|c", NULL, '-' },
	{ "{\"ForAllValues:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}", "", NULL, 'A' },
	{ "{\"ForAnyValue:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}",
	  "s3:RequestObjectTagKeys=c|b", NULL, 'A' },
	{ "{\"ForAnyValue:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}",
	  "s3:RequestObjectTagKeys=c|d", NULL, '-' },
	{ "{\"ForAnyValue:StringEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}", "", NULL, '-' },
	{ "{\"ForAllValues:StringNotEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}",
	  "s3:RequestObjectTagKeys=c|d", NULL, 'A' },
	{ "{\"ForAllValues:StringNotEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}",
	  "s3:RequestObjectTagKeys=c|a", NULL, '-' },
	{ "{\"ForAnyValue:StringNotEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}",
	  "s3:RequestObjectTagKeys=a|c", NULL, 'A' },
	{ "{\"ForAnyValue:StringNotEquals\":{\"s3:RequestObjectTagKeys\":[\"a\",\"b\"]}}",
	  "s3:RequestObjectTagKeys=a|b", NULL, '-' },
	{ "{\"ForAnyValue:StringNotEquals\":{\"s3:RequestObjectTagKeys\":[\"a\"]}}", "", NULL, '-' },
	{ "{\"ForAllValues:StringLike\":{\"s3:RequestObjectTagKeys\":\"a*\"}}",
	  "s3:RequestObjectTagKeys=ab|ac", NULL, 'A' },
	{ "{\"ForAnyValue:StringLikeIfExists\":{\"s3:RequestObjectTagKeys\":\"a*\"}}", "", NULL, 'A' },
	{ "{\"ForAllValues:StringLikeIfExists\":{\"s3:RequestObjectTagKeys\":\"a*\"}}",
	  "s3:RequestObjectTagKeys=b", NULL, '-' },
	{ "{\"ForAnyValue:NumericGreaterThan\":{\"s3:max-keys\":5}}", "s3:max-keys=1|9", NULL, 'A' },
	{ "{\"ForAllValues:IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}",
	  "aws:SourceIp=10.1.1.1|11.1.1.1", NULL, '-' },
	{ "{\"StringEquals\":{\"s3:RequestObjectTagKeys\":\"a\"}}", "s3:RequestObjectTagKeys=b|a", NULL,
	  'A' },
	{ "{\"StringNotEquals\":{\"s3:RequestObjectTagKeys\":\"a\"}}", "s3:RequestObjectTagKeys=b|a",
	  NULL, '-' },
	/* policy variables */
	{ "{\"StringLike\":{\"s3:prefix\":\"home/${aws:username}/*\"}}", "s3:prefix=home/alice/x",
	  "alice", 'A' },
	{ "{\"StringLike\":{\"s3:prefix\":\"home/${aws:username}/*\"}}", "s3:prefix=home/bob/x",
	  "alice", '-' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"${aws:userid}\"}}", "s3:prefix=alice", "alice", 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"${AWS:UserName}\"}}", "s3:prefix=alice", "alice", 'A' },
	{ "{\"StringEquals\":{\"aws:username\":\"alice\"}}", "", "alice", 'A' },
	{ "{\"StringEquals\":{\"aws:username\":\"alice\"}}", "aws:username=alice", NULL, '-' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"${aws:username, 'anon'}\"}}", "s3:prefix=anon", NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"${aws:username,'anon'}\"}}", "s3:prefix=bob", "bob", 'A' },
	{ "{\"StringLike\":{\"s3:prefix\":\"a${*}\"}}", "s3:prefix=a*", NULL, 'A' },
	{ "{\"StringLike\":{\"s3:prefix\":\"a${*}\"}}", "s3:prefix=ab", NULL, '-' },
	{ "{\"StringLike\":{\"s3:prefix\":\"x${$}${?}\"}}", "s3:prefix=x$?", NULL, 'A' },
	{ "{\"StringLike\":{\"s3:prefix\":\"x${$}${?}\"}}", "s3:prefix=x$a", NULL, '-' },
	{ "{\"StringLike\":{\"s3:prefix\":\"home/${aws:username}\"}}", "s3:prefix=home/abc", "a*", '-' },
	{ "{\"StringLike\":{\"s3:prefix\":\"home/${aws:username}\"}}", "s3:prefix=home/a*", "a*", 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"${s3:delimiter}x\"}}", "s3:delimiter=/;s3:prefix=/x",
	  NULL, 'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"${s3:delimiter\"}}", "s3:prefix=${s3:delimiter", NULL,
	  'A' },
	{ "{\"StringEquals\":{\"s3:prefix\":\"\\\\${aws:username}\"}}", "s3:prefix=\\alice", "alice",
	  'A' },
	{ "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:${aws:username}\"}}",
	  "aws:SourceArn=arn:aws:sns:r:1:alice", "alice", 'A' },
	{ "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:*:${aws:username}\"}}",
	  "aws:SourceArn=arn:aws:sns:r:1:x:y", "x:y", 'A' },
	{ "{\"Bool\":{\"aws:SecureTransport\":\"${s3:prefix}\"}}",
	  "aws:SecureTransport=true;s3:prefix=TRUE", NULL, 'A' },
	/* unknown: an Allow does not apply */
	{ "{\"StringEquals\":{\"s3:prefix\":\"${aws:username}\"}}", "s3:prefix=", NULL, '-' },
	{ "{\"StringNotEquals\":{\"s3:prefix\":\"${aws:username}\"}}", "s3:prefix=x", NULL, '-' },
	{ "{\"StringEquals\":{\"s3:prefix\":[\"${aws:username}\",\"x\"]}}", "s3:prefix=x", NULL, 'A' },
};

static void conditions(void **state)
{
	char doc[1024];
	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		const struct cond_case *c = &conds[i];
		snprintf(doc, sizeof(doc), COND("%s"), c->cond);
		struct policy *p = parse_ok(doc);
		enum policy_decision d = eval(p, c->user, "s3:GetObject", "k", c->spec);
		if (d != (c->want == 'A' ? POLICY_ALLOW : POLICY_NO_MATCH))
			fail_msg("case %zu: %s with \"%s\": %d, want %c", i, c->cond, c->spec, d,
				 c->want);
		policy_free(p);
	}
}

/* The 2008-10-17 language has no variables: "${...}" is text. */
static void old_version(void **state)
{
	struct policy *p = parse_ok("{\"Version\":\"2008-10-17\",\"Statement\":{" OK_ST
				    ",\"Condition\":{\"StringEquals\":{\"s3:prefix\":\"${aws:username}\"}}}}");
	assert_int_equal(eval(p, "alice", "s3:GetObject", "k", "s3:prefix=alice"), POLICY_NO_MATCH);
	assert_int_equal(eval(p, "alice", "s3:GetObject", "k", "s3:prefix=${aws:username}"),
			 POLICY_ALLOW);
	policy_free(p);
	p = parse_ok("{\"Statement\":{\"Effect\":\"Allow\",\"Principal\":\"*\","
		     "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/${aws:username}\"}}");
	assert_int_equal(eval(p, "alice", "s3:GetObject", "alice", NULL), POLICY_NO_MATCH);
	assert_int_equal(eval(p, "alice", "s3:GetObject", "${aws:username}", NULL), POLICY_ALLOW);
	policy_free(p);
}

/* ---- statements ---- */

static void actions_and_resources(void **state)
{
	static const struct {
		const char *act, *res, *action, *key;
		enum policy_decision want;
	} rows[] = {
		{ "\"s3:Get*\"", "\"arn:aws:s3:::bkt/*\"", "s3:GetObject", "a", POLICY_ALLOW },
		{ "\"s3:Get*\"", "\"arn:aws:s3:::bkt/*\"", "s3:PutObject", "a", POLICY_NO_MATCH },
		{ "\"S3:GETOBJECT\"", "\"arn:aws:s3:::bkt/*\"", "s3:GetObject", "a", POLICY_ALLOW },
		{ "\"s3:getobject\"", "\"arn:aws:s3:::bkt/*\"", "S3:GetObject", "a", POLICY_ALLOW },
		{ "\"s3:GetObjec?\"", "\"arn:aws:s3:::bkt/*\"", "s3:GetObject", "a", POLICY_ALLOW },
		{ "\"s3:*Object\"", "\"arn:aws:s3:::bkt/*\"", "s3:PutObject", "a", POLICY_ALLOW },
		{ "\"*\"", "\"arn:aws:s3:::bkt/*\"", "s3:DeleteObject", "a", POLICY_ALLOW },
		{ "\"s3:*\"", "[\"arn:aws:s3:::bkt\",\"arn:aws:s3:::bkt/*\"]", "s3:ListBucket", NULL,
		  POLICY_ALLOW },
		{ "\"s3:ListBucket\"", "\"arn:aws:s3:::bkt\"", "s3:ListBucket", NULL, POLICY_ALLOW },
		{ "\"s3:ListBucket\"", "\"arn:aws:s3:::bkt\"", "s3:ListBucket", "x", POLICY_NO_MATCH },
		{ "[\"s3:GetObject\",\"s3:ListBucket\"]", "\"arn:aws:s3:::bkt*\"", "s3:GetObject", "a/b",
		  POLICY_ALLOW },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::bkt/a/*\"", "s3:GetObject", "a/b/c", POLICY_ALLOW },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::bkt/a/*\"", "s3:GetObject", "b/a/c", POLICY_NO_MATCH },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::bkt/a?c\"", "s3:GetObject", "abc", POLICY_ALLOW },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::bkt/a?c\"", "s3:GetObject", "a/b/c", POLICY_NO_MATCH },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::bkt/A*\"", "s3:GetObject", "abc", POLICY_NO_MATCH },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::*/x\"", "s3:GetObject", "x", POLICY_ALLOW },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::b?t/*\"", "s3:GetObject", "x", POLICY_ALLOW },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::bkt/caf\xc3\xa9\"", "s3:GetObject", "caf\xc3\xa9",
		  POLICY_ALLOW },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::bkt/${aws:username}/*\"", "s3:GetObject", "alice/x",
		  POLICY_ALLOW },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::bkt/${aws:username}/*\"", "s3:GetObject", "bob/x",
		  POLICY_NO_MATCH },
		{ "\"s3:GetObject\"", "\"arn:aws:s3:::${aws:username}/*\"", "s3:GetObject", "x",
		  POLICY_NO_MATCH },
	};
	char doc[1024];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(doc, sizeof(doc), AR("%s", "%s"), rows[i].act, rows[i].res);
		struct policy *p = parse_ok(doc);
		enum policy_decision d = eval(p, "alice", rows[i].action, rows[i].key, NULL);
		if (d != rows[i].want)
			fail_msg("row %zu: %s on %s: %d, want %d", i, rows[i].act, rows[i].res, d,
				 rows[i].want);
		policy_free(p);
	}
	assert_int_equal(policy_action_known("s3:GetObject"), 1);
	assert_int_equal(policy_action_known("S3:getobject"), 1);
	assert_int_equal(policy_action_known("s3:GetBucketPolicyStatus"), 1);
	assert_int_equal(policy_action_known("s3:Get*"), 0);
	assert_int_equal(policy_action_known("s3:GetObjet"), 0);
}

static void not_elements(void **state)
{
	/* NotAction: everything but deletes */
	struct policy *p = parse_ok(ST("\"Effect\":\"Allow\",\"Principal\":\"*\",\"NotAction\":"
				       "\"s3:Delete*\",\"Resource\":\"arn:aws:s3:::bkt/*\""));
	assert_int_equal(eval(p, "bob", "s3:GetObject", "x", NULL), POLICY_ALLOW);
	assert_int_equal(eval(p, "bob", "s3:DeleteObject", "x", NULL), POLICY_NO_MATCH);
	assert_int_equal(eval(p, "bob", "s3:ListBucket", NULL, NULL), POLICY_NO_MATCH);
	policy_free(p);
	/* NotResource: reads outside public/ are denied */
	p = parse_ok(HEAD "[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
		     "\"NotResource\":\"arn:aws:s3:::bkt/public/*\"},{" OK_ST "}]}");
	assert_int_equal(eval(p, NULL, "s3:GetObject", "private/x", NULL), POLICY_DENY);
	assert_int_equal(eval(p, NULL, "s3:GetObject", "public/x", NULL), POLICY_ALLOW);
	policy_free(p);
	/* NotPrincipal: everyone but alice is denied */
	p = parse_ok(ST("\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":"
			"\"arn:aws:iam::123456789012:user/alice\"},\"Action\":\"s3:*\",\"Resource\":"
			"[\"arn:aws:s3:::bkt\",\"arn:aws:s3:::bkt/*\"]"));
	assert_int_equal(eval(p, "bob", "s3:GetObject", "x", NULL), POLICY_DENY);
	assert_int_equal(eval(p, NULL, "s3:ListBucket", NULL, NULL), POLICY_DENY);
	assert_int_equal(eval(p, "alice", "s3:GetObject", "x", NULL), POLICY_NO_MATCH);
	policy_free(p);
	/* NotPrincipal naming the account leaves only anonymous requests */
	p = parse_ok(ST("\"Effect\":\"Deny\",\"NotPrincipal\":{\"AWS\":\"123456789012\"},"
			"\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\""));
	assert_int_equal(eval(p, "bob", "s3:GetObject", "x", NULL), POLICY_NO_MATCH);
	assert_int_equal(eval(p, NULL, "s3:GetObject", "x", NULL), POLICY_DENY);
	policy_free(p);
}

static void principals(void **state)
{
	static const struct {
		const char *pr, *user;
		enum policy_decision want;
	} rows[] = {
		{ "\"*\"", NULL, POLICY_ALLOW },
		{ "\"*\"", "carol", POLICY_ALLOW },
		{ "{\"AWS\":\"*\"}", NULL, POLICY_ALLOW },
		{ "{\"AWS\":[\"arn:aws:iam::123456789012:user/alice\",\"*\"]}", "bob", POLICY_ALLOW },
		{ "{\"AWS\":\"arn:aws:iam::123456789012:user/alice\"}", "alice", POLICY_ALLOW },
		{ "{\"AWS\":\"arn:aws:iam::123456789012:user/alice\"}", "bob", POLICY_NO_MATCH },
		{ "{\"AWS\":\"arn:aws:iam::123456789012:user/alice\"}", NULL, POLICY_NO_MATCH },
		{ "{\"AWS\":\"arn:aws:iam::123456789012:user/alice\"}", "Alice", POLICY_NO_MATCH },
		{ "{\"AWS\":[\"arn:aws:iam::111111111111:user/alice\","
		  "\"arn:aws:iam::222222222222:user/bob\"]}", "bob", POLICY_ALLOW },
		{ "{\"CanonicalUser\":\"bob\"}", "bob", POLICY_ALLOW },
		{ "{\"CanonicalUser\":[\"bob\",\"carol\"]}", "carol", POLICY_ALLOW },
		{ "{\"CanonicalUser\":\"bob\"}", "alice", POLICY_NO_MATCH },
		{ "{\"CanonicalUser\":\"bob\",\"AWS\":\"arn:aws:iam::123456789012:user/alice\"}", "alice",
		  POLICY_ALLOW },
		/* an Allow to the account delegates: it allows nothing by itself */
		{ "{\"AWS\":\"123456789012\"}", "alice", POLICY_NO_MATCH },
		{ "{\"AWS\":\"arn:aws:iam::123456789012:root\"}", "alice", POLICY_NO_MATCH },
		{ "{\"Service\":\"cloudtrail.amazonaws.com\"}", "alice", POLICY_NO_MATCH },
		{ "{\"Federated\":\"graph.facebook.com\"}", NULL, POLICY_NO_MATCH },
	};
	char doc[1024];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		snprintf(doc, sizeof(doc), PR("%s"), rows[i].pr);
		struct policy *p = parse_ok(doc);
		enum policy_decision d = eval(p, rows[i].user, "s3:GetObject", "x", NULL);
		if (d != rows[i].want)
			fail_msg("row %zu: %s for %s: %d, want %d", i, rows[i].pr,
				 rows[i].user ? rows[i].user : "anonymous", d, rows[i].want);
		policy_free(p);
	}
	/* a Deny to the account denies every signed-in user */
	struct policy *p = parse_ok(ST("\"Effect\":\"Deny\",\"Principal\":{\"AWS\":"
				       "\"arn:aws:iam::123456789012:root\"},\"Action\":\"s3:GetObject\","
				       "\"Resource\":\"arn:aws:s3:::bkt/*\""));
	assert_int_equal(eval(p, "alice", "s3:GetObject", "x", NULL), POLICY_DENY);
	assert_int_equal(eval(p, NULL, "s3:GetObject", "x", NULL), POLICY_NO_MATCH);
	policy_free(p);
	/* without user_exists every well-formed user name is taken */
	static const char dave[] = PR("{\"CanonicalUser\":\"dave\"}");
	char err[128];
	assert_int_equal(policy_parse(dave, strlen(dave), "bkt", NULL, NULL, &p, err, sizeof(err)), 0);
	assert_int_equal(eval(p, "dave", "s3:GetObject", "x", NULL), POLICY_ALLOW);
	policy_free(p);
}

/* An explicit Deny wins over any Allow, in any order. */
static void deny_wins(void **state)
{
	static const char *const docs[] = {
		HEAD "[{" OK_ST "},{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
		"\"Resource\":\"arn:aws:s3:::bkt/secret/*\"}]}",
		HEAD "[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
		"\"Resource\":\"arn:aws:s3:::bkt/secret/*\"},{" OK_ST "}]}",
	};
	for (size_t i = 0; i < 2; i++) {
		struct policy *p = parse_ok(docs[i]);
		assert_int_equal(eval(p, "alice", "s3:GetObject", "secret/x", NULL), POLICY_DENY);
		assert_int_equal(eval(p, "alice", "s3:GetObject", "open/x", NULL), POLICY_ALLOW);
		assert_int_equal(eval(p, "alice", "s3:PutObject", "secret/x", NULL), POLICY_NO_MATCH);
		policy_free(p);
	}
	/* the AWS example: deny everything not over TLS */
	struct policy *p = parse_ok(HEAD "[{" OK_ST "},{\"Sid\":\"BooleanExample\",\"Action\":\"s3:*\","
				    "\"Effect\":\"Deny\",\"Principal\":\"*\",\"Resource\":"
				    "[\"arn:aws:s3:::bkt\",\"arn:aws:s3:::bkt/*\"],\"Condition\":"
				    "{\"Bool\":{\"aws:SecureTransport\":\"false\"}}}]}");
	assert_int_equal(eval(p, NULL, "s3:GetObject", "x", "aws:SecureTransport=false"), POLICY_DENY);
	assert_int_equal(eval(p, NULL, "s3:GetObject", "x", "aws:SecureTransport=true"), POLICY_ALLOW);
	policy_free(p);
	assert_int_equal(policy_eval(NULL, &(struct policy_request){ .action = "s3:GetObject",
								      .bucket = "bkt" }),
			 POLICY_NO_MATCH);
}

/* Too many values for a key */
static const char *many_values(void *arg, const char *k, int i)
{
	return i < 1000 ? "v" : NULL;
}

/* What the engine cannot decide, a Deny denies and an Allow does not allow. */
static void fail_closed(void **state)
{
	static const char *const stmts[] = {
		"\"Effect\":\"%s\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
		"\"Resource\":\"arn:aws:s3:::bkt/${aws:username}/*\"",
		"\"Effect\":\"%s\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
		"\"Resource\":\"arn:aws:s3:::bkt/*\",\"Condition\":{\"StringNotLike\":"
		"{\"s3:prefix\":\"${aws:username}/*\"}}",
		"\"Effect\":\"%s\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
		"\"NotResource\":\"arn:aws:s3:::bkt/${aws:username}/*\"",
	};
	char fmt[512], doc[512];
	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		snprintf(fmt, sizeof(fmt), HEAD "[{%s}]}", stmts[i]);
		for (int deny = 0; deny < 2; deny++) {
			snprintf(doc, sizeof(doc), fmt, deny ? "Deny" : "Allow");
			struct policy *p = parse_ok(doc);
			assert_int_equal(eval(p, NULL, "s3:GetObject", "x/y", "s3:prefix=x"),
					 deny ? POLICY_DENY : POLICY_NO_MATCH);
			policy_free(p);
		}
	}
	/* a condition that is false whatever the unknown: the Deny does not apply */
	struct policy *p = parse_ok(HEAD "[{\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":"
				    "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\",\"Condition\":"
				    "{\"StringEquals\":{\"s3:prefix\":\"${aws:username}\","
				    "\"s3:delimiter\":\"/\"}}}]}");
	assert_int_equal(eval(p, NULL, "s3:GetObject", "x", "s3:prefix=x;s3:delimiter=-"),
			 POLICY_NO_MATCH);
	assert_int_equal(eval(p, NULL, "s3:GetObject", "x", "s3:prefix=x;s3:delimiter=/"),
			 POLICY_DENY);
	assert_int_equal(eval(p, NULL, "s3:GetObject", "x", "s3:delimiter=/"), POLICY_NO_MATCH);
	policy_free(p);
	/* more values than POLICY_VALUES_MAX */
	for (int deny = 0; deny < 2; deny++) {
		snprintf(doc, sizeof(doc), HEAD "[{\"Effect\":\"%s\",\"Principal\":\"*\",\"Action\":"
			 "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\",\"Condition\":"
			 "{\"ForAllValues:StringEquals\":{\"aws:TagKeys\":\"v\"}}}]}",
			 deny ? "Deny" : "Allow");
		p = parse_ok(doc);
		struct policy_request r = { NULL, "s3:GetObject", "bkt", "x", many_values, NULL };
		assert_int_equal(policy_eval(p, &r), deny ? POLICY_DENY : POLICY_NO_MATCH);
		policy_free(p);
	}
	/* a name too long to hold */
	p = parse_ok(HEAD "{" OK_ST "}}");
	char *key = malloc(8192);
	memset(key, 'k', 8191);
	key[8191] = '\0';
	assert_int_equal(eval(p, NULL, "s3:GetObject", key, NULL), POLICY_DENY);
	free(key);
	policy_free(p);
}

/* ---- Block Public Access ---- */

#define PUB(pr, cond) ST("\"Effect\":\"Allow\",\"Principal\":" pr ",\"Action\":\"s3:GetObject\"," \
			 "\"Resource\":\"arn:aws:s3:::bkt/*\",\"Condition\":" cond)

static void public_policies(void **state)
{
	static const struct { const char *doc; int want; } rows[] = {
		{ PUB("\"*\"", "{}"), 1 },
		{ PUB("{\"AWS\":\"*\"}", "{}"), 1 },
		{ PUB("{\"AWS\":[\"arn:aws:iam::123456789012:user/alice\",\"*\"]}", "{}"), 1 },
		{ PUB("{\"AWS\":\"arn:aws:iam::123456789012:user/alice\"}", "{}"), 0 },
		{ PUB("{\"AWS\":\"arn:aws:iam::123456789012:root\"}", "{}"), 0 },
		{ PUB("{\"CanonicalUser\":\"bob\"}", "{}"), 0 },
		{ PUB("{\"Service\":\"cloudtrail.amazonaws.com\"}", "{}"), 0 },
		{ PUB("{\"Federated\":\"graph.facebook.com\"}", "{}"), 1 },
		{ ST("\"Effect\":\"Allow\",\"NotPrincipal\":{\"CanonicalUser\":\"bob\"},"
		     "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\""), 1 },
		{ ST("\"Effect\":\"Deny\",\"Principal\":\"*\",\"Action\":\"s3:GetObject\","
		     "\"Resource\":\"arn:aws:s3:::bkt/*\""), 0 },
		/* AWS's examples */
		{ PUB("\"*\"", "{\"StringLike\":{\"aws:SourceVpc\":\"vpc-*\"}}"), 1 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:SourceVpc\":\"vpc-91237329\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:SourceVpc\":\"vpc-*\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringLike\":{\"aws:SourceVpc\":\"vpc-9123\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringEqualsIfExists\":{\"aws:SourceVpc\":\"vpc-91237329\"}}"), 1 },
		{ PUB("\"*\"", "{\"StringNotEquals\":{\"aws:SourceVpc\":\"vpc-91237329\"}}"), 1 },
		{ PUB("\"*\"", "{\"ForAllValues:StringEquals\":{\"aws:SourceVpc\":\"vpc-1\"}}"), 1 },
		{ PUB("\"*\"", "{\"ForAnyValue:StringEquals\":{\"aws:SourceVpc\":\"vpc-1\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:SourceVpc\":[]}}"), 1 },
		{ PUB("\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}"), 0 },
		{ PUB("\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/8\"}}"), 0 },
		{ PUB("\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/1\"}}"), 1 },
		{ PUB("\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"0.0.0.0/0\"}}"), 1 },
		{ PUB("\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\",\"::/0\"]}}"), 1 },
		{ PUB("\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/32\"}}"), 0 },
		{ PUB("\"*\"", "{\"IpAddress\":{\"aws:SourceIp\":\"2001:db8::/31\"}}"), 1 },
		{ PUB("\"*\"", "{\"NotIpAddress\":{\"aws:SourceIp\":\"203.0.113.0/24\"}}"), 1 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:SourceIp\":\"203.0.113.1\"}}"), 1 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:SourceAccount\":\"123456789012\"}}"), 0 },
		{ PUB("\"*\"", "{\"ArnEquals\":{\"aws:SourceArn\":\"arn:aws:sns:r:1:t\"}}"), 0 },
		{ PUB("\"*\"", "{\"ArnLike\":{\"aws:SourceArn\":\"arn:aws:sns:*:1:t\"}}"), 1 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-123\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:SourceOwner\":\"123456789012\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:SourceVpce\":\"vpce-1\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:userid\":\"AIDA1\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringLike\":{\"aws:userid\":\"AROLEID:*\"}}"), 1 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:userid\":\"${aws:username}\"}}"), 1 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"aws:username\":\"alice\"}}"), 1 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"s3:x-amz-server-side-encryption-aws-kms-key-id\":"
			      "\"k1\"}}"), 0 },
		{ PUB("\"*\"", "{\"StringEquals\":{\"s3:DataAccessPointAccount\":\"123456789012\"}}"), 0 },
		{ PUB("\"*\"", "{\"Bool\":{\"aws:SecureTransport\":\"true\"}}"), 1 },
		{ PUB("\"*\"", "{\"Bool\":{\"aws:SecureTransport\":\"true\"},\"StringEquals\":"
			      "{\"aws:SourceVpc\":\"vpc-1\"}}"), 0 },
		/* one public statement makes the policy public */
		{ HEAD "[{\"Effect\":\"Allow\",\"Principal\":{\"CanonicalUser\":\"bob\"},"
		  "\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::bkt/*\"},{" OK_ST "}]}", 1 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct policy *p = parse_ok(rows[i].doc);
		if (policy_is_public(p) != rows[i].want)
			fail_msg("row %zu: public %d, want %d: %s", i, policy_is_public(p), rows[i].want,
				 rows[i].doc);
		policy_free(p);
	}
	assert_int_equal(policy_is_public(NULL), 0);
}

/* The AWS documentation's own examples parse and mean what it says. */
static void aws_examples(void **state)
{
	/* home directories (IAM "Condition operators") */
	struct policy *p = parse_ok(HEAD "[{\"Effect\":\"Allow\",\"Principal\":\"*\","
				    "\"Action\":\"s3:ListBucket\",\"Resource\":\"arn:aws:s3:::bkt\","
				    "\"Condition\":{\"StringLike\":{\"s3:prefix\":[\"\",\"home/\","
				    "\"home/${aws:username}/\"]}}},{\"Effect\":\"Allow\",\"Principal\":"
				    "\"*\",\"Action\":\"s3:*\",\"Resource\":["
				    "\"arn:aws:s3:::bkt/home/${aws:username}\","
				    "\"arn:aws:s3:::bkt/home/${aws:username}/*\"]}]}");
	assert_int_equal(eval(p, "alice", "s3:ListBucket", NULL, "s3:prefix=home/alice/"),
			 POLICY_ALLOW);
	assert_int_equal(eval(p, "alice", "s3:ListBucket", NULL, "s3:prefix=home/bob/"),
			 POLICY_NO_MATCH);
	assert_int_equal(eval(p, "alice", "s3:ListBucket", NULL, "s3:prefix="), POLICY_ALLOW);
	assert_int_equal(eval(p, "alice", "s3:PutObject", "home/alice/f", NULL), POLICY_ALLOW);
	assert_int_equal(eval(p, "alice", "s3:PutObject", "home/bob/f", NULL), POLICY_NO_MATCH);
	assert_int_equal(eval(p, NULL, "s3:PutObject", "home//f", NULL), POLICY_NO_MATCH);
	policy_free(p);
	/* at most 10 keys per listing */
	p = parse_ok(HEAD "{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"s3:ListBucket\","
		     "\"Resource\":\"arn:aws:s3:::bkt\",\"Condition\":{\"NumericLessThanEquals\":"
		     "{\"s3:max-keys\":\"10\"}}}}");
	assert_int_equal(eval(p, "bob", "s3:ListBucket", NULL, "s3:max-keys=10"), POLICY_ALLOW);
	assert_int_equal(eval(p, "bob", "s3:ListBucket", NULL, "s3:max-keys=1000"), POLICY_NO_MATCH);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(malformed),
		cmocka_unit_test(malformed_elements),
		cmocka_unit_test(size_cap),
		cmocka_unit_test(conditions),
		cmocka_unit_test(old_version),
		cmocka_unit_test(actions_and_resources),
		cmocka_unit_test(not_elements),
		cmocka_unit_test(principals),
		cmocka_unit_test(deny_wins),
		cmocka_unit_test(fail_closed),
		cmocka_unit_test(public_policies),
		cmocka_unit_test(aws_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
