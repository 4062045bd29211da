/*
 * policy_int.h — the bucket-policy engine: AWS's access policy language as
 * S3 bucket policies use it. It parses and validates a policy document for
 * one bucket, decides whether a request is allowed, denied or not named by
 * it, and says whether the policy is "public" in the sense of S3 Block
 * Public Access. The permission decision of the core asks it; it knows
 * nothing of SQLite, the namespace or HTTP (pure: unit-tested, fuzzed).
 *
 * The language (AWS "IAM JSON policy reference", "Policies and permissions
 * in Amazon S3"):
 *   {"Version": "2012-10-17" | "2008-10-17" (the default),  "Id": "...",
 *    "Statement": {...} | [{...}, ...]}
 * with each statement
 *   "Sid": unique in the policy (when given),
 *   "Effect": "Allow" | "Deny",
 *   "Principal" | "NotPrincipal": "*" | {"AWS": P | [P...],
 *       "CanonicalUser": U | [U...], "Service": S..., "Federated": F...},
 *   "Action" | "NotAction": A | [A...],
 *   "Resource" | "NotResource": R | [R...],
 *   "Condition": {"Operator": {"key": V | [V...], ...}, ...}.
 * Element names are case-sensitive, as are operator names; condition key
 * names are not.
 *
 * Principals. Atrium has one account and its users; a user's canonical id
 * is its user name. "*" and {"AWS": "*"} name everyone, anonymous included.
 * {"AWS": "arn:aws:iam::<12 digits>:user/<name>"} and {"CanonicalUser":
 * "<name>"} name a user (user_exists must know it). An account —
 * "arn:aws:iam::<12 digits>:root" or the 12 digits alone — is accepted and
 * means what it means to AWS for a bucket policy: an Allow to the account
 * delegates to the account's own policies, which Atrium does not have (its
 * users get access from ownership and ACLs), so it allows nothing; a Deny
 * to the account denies every signed-in user; a NotPrincipal naming it
 * excludes every signed-in user. "Service" principals are accepted and
 * never match an Atrium requester; so are "Federated" ones (which make a
 * policy public, as AWS says). Anything else (roles, wildcards inside
 * ARNs, unknown users) is "Invalid principal in policy".
 *
 * Actions ("s3:GetObject", "s3:Get*", "*") compare case-insensitively with
 * '*' and '?' wildcards; each must match at least one action of AWS's
 * "Actions defined by Amazon S3". Resources are "arn:aws:s3:::<bucket>"
 * and "arn:aws:s3:::<bucket>/<key pattern>", case-sensitive, '*' and '?'
 * wildcards ('*' crosses '/'); each must cover this bucket ("*" alone does
 * not: AWS refuses it in a bucket policy). Unless NotAction or NotResource
 * is used, every action must apply to one of the statement's resources
 * (object actions to an object resource, bucket actions to the bucket).
 *
 * Policy variables (2012-10-17 only; literal text in 2008-10-17 policies):
 * ${aws:username}, ${aws:userid} (both the requester's user name; absent
 * for anonymous requests), any other key's first value (${s3:prefix}...),
 * ${*}, ${?}, ${$} for those characters, and ${key, 'default'}. They are
 * expanded in resources and in the values of String, Arn and Bool
 * conditions; a variable's value is matched literally, never as a pattern.
 *
 * Conditions: String(Not)Equals(IgnoreCase), String(Not)Like,
 * Numeric{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,
 * GreaterThanEquals}, Date{same six} (ISO 8601 W3C profiles or epoch
 * seconds), Bool, BinaryEquals (base64), IpAddress/NotIpAddress (IPv4 and
 * IPv6, CIDR), Arn{Equals,Like,NotEquals,NotLike} (component by component),
 * Null; the IfExists suffix; ForAnyValue: and ForAllValues:. Keys in one
 * operator AND; operators AND; values of one key OR (a negated operator
 * holds when no value matches). A missing key makes a positive operator
 * false and a negated one true, ...IfExists and ForAllValues: true,
 * ForAnyValue: false. The keys accepted are AWS's global keys and those
 * S3 defines (policy_cond.c has the table); any other key is "Policy has
 * an invalid condition key"; an unknown operator "Invalid Condition
 * type : <name>"; a malformed address "Invalid IP address in Conditions".
 *
 * Evaluation: a statement applies when its principal, action, resource and
 * every condition match. An applicable Deny gives POLICY_DENY; else an
 * applicable Allow gives POLICY_ALLOW; else POLICY_NO_MATCH. Fail closed:
 * when a statement cannot be decided (a policy variable the request has no
 * value for, a key with more than POLICY_VALUES_MAX values, an expansion
 * past its cap, memory), a Deny counts as applying and an Allow as not.
 *
 * Ownership and threads. policy_parse copies what it keeps (json, bucket
 * and err belong to the caller); a struct policy is immutable once parsed,
 * so any number of threads may call policy_eval and policy_is_public on
 * one policy at once; policy_free when none does. No globals.
 */
#ifndef SRC_POLICY_INT_H
#define SRC_POLICY_INT_H

#include <stddef.h>

#define POLICY_MAX_BYTES 20480   /* AWS's size limit for a bucket policy */
#define POLICY_VALUES_MAX 256    /* values of one key evaluation looks at */

struct policy;

/*
 * Parses and validates the policy document json (len bytes) of bucket.
 * user_exists (may be NULL: every user exists) says whether a user a
 * principal names exists (non-zero: yes). Returns 0 and *out (the caller
 * frees it with policy_free), or -1 with the reason in err (errsize bytes,
 * NUL-terminated), in AWS's MalformedPolicy wording where AWS has one:
 * "Policies must be no more than 20480 bytes" (len is checked before
 * anything is read), "Policies must be valid JSON and the first byte must
 * be '{'", "This policy contains invalid Json" (also for a key given twice
 * in one object), "Unknown field X", "The policy must contain a valid
 * version string", "Missing required field Statement", "Could not parse the
 * policy: Statement is empty!", "Statement IDs (SID) in a single policy
 * must be unique", "Invalid effect: X", "Missing required field Effect"
 * (Principal, Action, Resource likewise), "Invalid principal in policy",
 * "Policy has invalid action", "Policy has invalid resource", "Action does
 * not apply to any resource(s) in statement", "Policy has an invalid
 * condition key", "Invalid Condition type : X", "Invalid IP address in
 * Conditions", and our own wording for the rest.
 */
int policy_parse(const char *json, size_t len, const char *bucket,
		 int (*user_exists)(void *arg, const char *user), void *arg,
		 struct policy **out, char *err, size_t errsize);
void policy_free(struct policy *p);

enum policy_decision { POLICY_NO_MATCH, POLICY_ALLOW, POLICY_DENY };

/* A request as the policy sees it. */
struct policy_request {
	const char *user;     /* the requester's user name; NULL = anonymous */
	const char *action;   /* "s3:GetObject" (an action of policy_action_known) */
	const char *bucket;   /* the policy's bucket (another one matches only
	                       * resources whose bucket part is a wildcard) */
	const char *key;      /* NULL for bucket-level actions */
	/*
	 * The request's condition values: the i-th value (0 first) of condition
	 * key k, or NULL when it has no (more) value. k is spelled as AWS
	 * documents it ("aws:SourceIp", "s3:x-amz-acl"; a tag key after
	 * "s3:ExistingObjectTag/" as the policy wrote it), so strcmp will do;
	 * tag keys compare case-insensitively at AWS. Never asked for
	 * aws:username and aws:userid (the engine knows them from user). The
	 * returned string must stay valid until policy_eval returns (the
	 * engine holds one value while it asks for a policy variable's). value
	 * may be NULL: the request has no condition values.
	 */
	const char *(*value)(void *arg, const char *k, int i);
	void *arg;
};

enum policy_decision policy_eval(const struct policy *p, const struct policy_request *r);

/*
 * Is the policy public (GetBucketPolicyStatus; refused by BlockPublicPolicy,
 * ignored for outsiders under RestrictPublicBuckets)? AWS's rule: an Allow
 * statement is public when its principal is everyone ("*", {"AWS": "*"},
 * a NotPrincipal, a Federated principal) and no condition pins it to fixed
 * values of aws:SourceIp (no block wider than /8 or, for IPv6, /32),
 * aws:SourceArn, aws:SourceVpc, aws:SourceVpce, aws:SourceOwner,
 * aws:SourceAccount, aws:SourceOrgID, aws:PrincipalOrgID,
 * aws:PrincipalAccount, aws:PrincipalArn, aws:userid,
 * s3:x-amz-server-side-encryption-aws-kms-key-id, s3:DataAccessPointArn or
 * s3:DataAccessPointAccount. Returns 1 or 0.
 */
int policy_is_public(const struct policy *p);

/* Is action ("s3:GetObject", any case) one of the S3 actions AWS defines? */
int policy_action_known(const char *action);

#endif
