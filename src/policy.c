/*
 * policy — bucket policies: the document and its statements (principals,
 * actions, resources), evaluation and the Block Public Access rule. The
 * rules are in policy_int.h; conditions are policy_cond.c's, patterns and
 * variables policy_pat.c's.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/atrium.h"
#include "src/policy_impl_int.h"
#include "common/banned.h"

/* ---- the S3 actions AWS defines ("Actions defined by Amazon S3") ---- */

enum { A_OTHER, A_BUCKET, A_OBJECT }; /* the resource an action applies to */

static const struct action {
	const char *name;
	unsigned char kind;
} actions[] = {
	{ "s3:AbortMultipartUpload", A_OBJECT },
	{ "s3:AssociateAccessGrantsIdentityCenter", A_OTHER },
	{ "s3:BypassGovernanceRetention", A_OBJECT },
	{ "s3:CreateAccessGrant", A_OTHER },
	{ "s3:CreateAccessGrantsInstance", A_OTHER },
	{ "s3:CreateAccessGrantsLocation", A_OTHER },
	{ "s3:CreateAccessPoint", A_OTHER },
	{ "s3:CreateAccessPointForObjectLambda", A_OTHER },
	{ "s3:CreateBucket", A_BUCKET },
	{ "s3:CreateBucketMetadataTableConfiguration", A_BUCKET },
	{ "s3:CreateJob", A_OTHER },
	{ "s3:CreateMultiRegionAccessPoint", A_OTHER },
	{ "s3:CreateStorageLensGroup", A_OTHER },
	{ "s3:DeleteAccessGrant", A_OTHER },
	{ "s3:DeleteAccessGrantsInstance", A_OTHER },
	{ "s3:DeleteAccessGrantsInstanceResourcePolicy", A_OTHER },
	{ "s3:DeleteAccessGrantsLocation", A_OTHER },
	{ "s3:DeleteAccessPoint", A_OTHER },
	{ "s3:DeleteAccessPointForObjectLambda", A_OTHER },
	{ "s3:DeleteAccessPointPolicy", A_OTHER },
	{ "s3:DeleteAccessPointPolicyForObjectLambda", A_OTHER },
	{ "s3:DeleteBucket", A_BUCKET },
	{ "s3:DeleteBucketMetadataTableConfiguration", A_BUCKET },
	{ "s3:DeleteBucketPolicy", A_BUCKET },
	{ "s3:DeleteBucketWebsite", A_BUCKET },
	{ "s3:DeleteJobTagging", A_OTHER },
	{ "s3:DeleteMultiRegionAccessPoint", A_OTHER },
	{ "s3:DeleteObject", A_OBJECT },
	{ "s3:DeleteObjectTagging", A_OBJECT },
	{ "s3:DeleteObjectVersion", A_OBJECT },
	{ "s3:DeleteObjectVersionTagging", A_OBJECT },
	{ "s3:DeleteStorageLensConfiguration", A_OTHER },
	{ "s3:DeleteStorageLensConfigurationTagging", A_OTHER },
	{ "s3:DeleteStorageLensGroup", A_OTHER },
	{ "s3:DescribeJob", A_OTHER },
	{ "s3:DescribeMultiRegionAccessPointOperation", A_OTHER },
	{ "s3:DissociateAccessGrantsIdentityCenter", A_OTHER },
	{ "s3:GetAccelerateConfiguration", A_BUCKET },
	{ "s3:GetAccessGrant", A_OTHER },
	{ "s3:GetAccessGrantsInstance", A_OTHER },
	{ "s3:GetAccessGrantsInstanceForPrefix", A_OTHER },
	{ "s3:GetAccessGrantsInstanceResourcePolicy", A_OTHER },
	{ "s3:GetAccessGrantsLocation", A_OTHER },
	{ "s3:GetAccessPoint", A_OTHER },
	{ "s3:GetAccessPointConfigurationForObjectLambda", A_OTHER },
	{ "s3:GetAccessPointForObjectLambda", A_OTHER },
	{ "s3:GetAccessPointPolicy", A_OTHER },
	{ "s3:GetAccessPointPolicyForObjectLambda", A_OTHER },
	{ "s3:GetAccessPointPolicyStatus", A_OTHER },
	{ "s3:GetAccessPointPolicyStatusForObjectLambda", A_OTHER },
	{ "s3:GetAccountPublicAccessBlock", A_OTHER },
	{ "s3:GetAnalyticsConfiguration", A_BUCKET },
	{ "s3:GetBucketAbac", A_BUCKET },
	{ "s3:GetBucketAcl", A_BUCKET },
	{ "s3:GetBucketCORS", A_BUCKET },
	{ "s3:GetBucketLocation", A_BUCKET },
	{ "s3:GetBucketLogging", A_BUCKET },
	{ "s3:GetBucketMetadataTableConfiguration", A_BUCKET },
	{ "s3:GetBucketNotification", A_BUCKET },
	{ "s3:GetBucketObjectLockConfiguration", A_BUCKET },
	{ "s3:GetBucketOwnershipControls", A_BUCKET },
	{ "s3:GetBucketPolicy", A_BUCKET },
	{ "s3:GetBucketPolicyStatus", A_BUCKET },
	{ "s3:GetBucketPublicAccessBlock", A_BUCKET },
	{ "s3:GetBucketRequestPayment", A_BUCKET },
	{ "s3:GetBucketTagging", A_BUCKET },
	{ "s3:GetBucketVersioning", A_BUCKET },
	{ "s3:GetBucketWebsite", A_BUCKET },
	{ "s3:GetDataAccess", A_OTHER },
	{ "s3:GetEncryptionConfiguration", A_BUCKET },
	{ "s3:GetIntelligentTieringConfiguration", A_BUCKET },
	{ "s3:GetInventoryConfiguration", A_BUCKET },
	{ "s3:GetJobTagging", A_OTHER },
	{ "s3:GetLifecycleConfiguration", A_BUCKET },
	{ "s3:GetMetricsConfiguration", A_BUCKET },
	{ "s3:GetMultiRegionAccessPoint", A_OTHER },
	{ "s3:GetMultiRegionAccessPointPolicy", A_OTHER },
	{ "s3:GetMultiRegionAccessPointPolicyStatus", A_OTHER },
	{ "s3:GetMultiRegionAccessPointRoutes", A_OTHER },
	{ "s3:GetObject", A_OBJECT },
	{ "s3:GetObjectAcl", A_OBJECT },
	{ "s3:GetObjectAttributes", A_OBJECT },
	{ "s3:GetObjectLegalHold", A_OBJECT },
	{ "s3:GetObjectRetention", A_OBJECT },
	{ "s3:GetObjectTagging", A_OBJECT },
	{ "s3:GetObjectTorrent", A_OBJECT },
	{ "s3:GetObjectVersion", A_OBJECT },
	{ "s3:GetObjectVersionAcl", A_OBJECT },
	{ "s3:GetObjectVersionAttributes", A_OBJECT },
	{ "s3:GetObjectVersionForReplication", A_OBJECT },
	{ "s3:GetObjectVersionTagging", A_OBJECT },
	{ "s3:GetObjectVersionTorrent", A_OBJECT },
	{ "s3:GetReplicationConfiguration", A_BUCKET },
	{ "s3:GetStorageLensConfiguration", A_OTHER },
	{ "s3:GetStorageLensConfigurationTagging", A_OTHER },
	{ "s3:GetStorageLensDashboard", A_OTHER },
	{ "s3:GetStorageLensGroup", A_OTHER },
	{ "s3:InitiateReplication", A_OBJECT },
	{ "s3:ListAccessGrants", A_OTHER },
	{ "s3:ListAccessGrantsInstances", A_OTHER },
	{ "s3:ListAccessGrantsLocations", A_OTHER },
	{ "s3:ListAccessPoints", A_OTHER },
	{ "s3:ListAccessPointsForObjectLambda", A_OTHER },
	{ "s3:ListAllMyBuckets", A_OTHER },
	{ "s3:ListBucket", A_BUCKET },
	{ "s3:ListBucketMultipartUploads", A_BUCKET },
	{ "s3:ListBucketVersions", A_BUCKET },
	{ "s3:ListCallerAccessGrants", A_OTHER },
	{ "s3:ListJobs", A_OTHER },
	{ "s3:ListMultiRegionAccessPoints", A_OTHER },
	{ "s3:ListMultipartUploadParts", A_OBJECT },
	{ "s3:ListStorageLensConfigurations", A_OTHER },
	{ "s3:ListStorageLensGroups", A_OTHER },
	{ "s3:ListTagsForResource", A_BUCKET },
	{ "s3:ObjectOwnerOverrideToBucketOwner", A_OBJECT },
	{ "s3:PauseReplication", A_BUCKET },
	{ "s3:PutAccelerateConfiguration", A_BUCKET },
	{ "s3:PutAccessGrantsInstanceResourcePolicy", A_OTHER },
	{ "s3:PutAccessPointConfigurationForObjectLambda", A_OTHER },
	{ "s3:PutAccessPointPolicy", A_OTHER },
	{ "s3:PutAccessPointPolicyForObjectLambda", A_OTHER },
	{ "s3:PutAccessPointPublicAccessBlock", A_OTHER },
	{ "s3:PutAccountPublicAccessBlock", A_OTHER },
	{ "s3:PutAnalyticsConfiguration", A_BUCKET },
	{ "s3:PutBucketAbac", A_BUCKET },
	{ "s3:PutBucketAcl", A_BUCKET },
	{ "s3:PutBucketCORS", A_BUCKET },
	{ "s3:PutBucketLogging", A_BUCKET },
	{ "s3:PutBucketNotification", A_BUCKET },
	{ "s3:PutBucketObjectLockConfiguration", A_BUCKET },
	{ "s3:PutBucketOwnershipControls", A_BUCKET },
	{ "s3:PutBucketPolicy", A_BUCKET },
	{ "s3:PutBucketPublicAccessBlock", A_BUCKET },
	{ "s3:PutBucketRequestPayment", A_BUCKET },
	{ "s3:PutBucketTagging", A_BUCKET },
	{ "s3:PutBucketVersioning", A_BUCKET },
	{ "s3:PutBucketWebsite", A_BUCKET },
	{ "s3:PutEncryptionConfiguration", A_BUCKET },
	{ "s3:PutIntelligentTieringConfiguration", A_BUCKET },
	{ "s3:PutInventoryConfiguration", A_BUCKET },
	{ "s3:PutJobTagging", A_OTHER },
	{ "s3:PutLifecycleConfiguration", A_BUCKET },
	{ "s3:PutMetricsConfiguration", A_BUCKET },
	{ "s3:PutMultiRegionAccessPointPolicy", A_OTHER },
	{ "s3:PutObject", A_OBJECT },
	{ "s3:PutObjectAcl", A_OBJECT },
	{ "s3:PutObjectLegalHold", A_OBJECT },
	{ "s3:PutObjectRetention", A_OBJECT },
	{ "s3:PutObjectTagging", A_OBJECT },
	{ "s3:PutObjectVersionAcl", A_OBJECT },
	{ "s3:PutObjectVersionTagging", A_OBJECT },
	{ "s3:PutReplicationConfiguration", A_BUCKET },
	{ "s3:PutStorageLensConfiguration", A_OTHER },
	{ "s3:PutStorageLensConfigurationTagging", A_OTHER },
	{ "s3:ReplicateDelete", A_OBJECT },
	{ "s3:ReplicateObject", A_OBJECT },
	{ "s3:ReplicateTags", A_OBJECT },
	{ "s3:RestoreObject", A_OBJECT },
	{ "s3:SubmitMultiRegionAccessPointRoutes", A_OTHER },
	{ "s3:TagResource", A_BUCKET },
	{ "s3:UntagResource", A_BUCKET },
	{ "s3:UpdateAccessGrantsLocation", A_OTHER },
	{ "s3:UpdateBucketMetadataInventoryTableConfiguration", A_BUCKET },
	{ "s3:UpdateBucketMetadataJournalTableConfiguration", A_BUCKET },
	{ "s3:UpdateJobPriority", A_OTHER },
	{ "s3:UpdateJobStatus", A_OTHER },
	{ "s3:UpdateStorageLensGroup", A_OTHER },
};

#define NACTIONS (sizeof(actions) / sizeof(actions[0]))

int policy_action_known(const char *action)
{
	for (size_t i = 0; i < NACTIONS; i++)
		if (!strcasecmp(action, actions[i].name))
			return 1;
	return 0;
}

/* ---- the parsed form ---- */

struct principals {
	int any;              /* "*": everyone, anonymous included */
	int account;          /* an account (its root, or its 12-digit id) */
	int federated;        /* a Federated principal: no Atrium requester */
	char **users;
	size_t nusers;
};

struct list {                 /* actions or resources */
	struct pat *v;
	size_t n;
};

struct stmt {
	char *sid;            /* NULL without one */
	int deny;
	int not_principal, not_action, not_resource;
	struct principals pr;
	struct list act, res;
	struct cond_block *cond;
};

struct policy {
	int vars;             /* Version 2012-10-17: policy variables */
	struct stmt *st;
	size_t n;
};

int policy_err(char *err, size_t errsize, const char *fmt, ...)
{
	if (!err || !errsize)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsize, fmt, ap);
	va_end(ap);
	return -1;
}

static void list_release(struct list *l)
{
	for (size_t i = 0; i < l->n; i++)
		pat_release(&l->v[i]);
	free(l->v);
}

static void stmt_release(struct stmt *st)
{
	free(st->sid);
	for (size_t i = 0; i < st->pr.nusers; i++)
		free(st->pr.users[i]);
	free(st->pr.users);
	list_release(&st->act);
	list_release(&st->res);
	cond_free(st->cond);
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		stmt_release(&p->st[i]);
	free(p->st);
	free(p);
}

/* ---- parsing ---- */

struct parse {
	const char *bucket;
	int (*user_exists)(void *arg, const char *user);
	void *arg;
	int vars;
	char *err;
	size_t errsize;
};

#define FAIL(pc, ...) policy_err((pc)->err, (pc)->errsize, __VA_ARGS__)

/* The strings of an element given as one string or a non-empty array of
 * strings: the i-th, or NULL past the end or for anything else (*bad). */
static const char *str_at(json_t *j, size_t i, int *bad)
{
	if (json_is_string(j))
		return i == 0 ? json_string_value(j) : NULL;
	if (!json_is_array(j) || !json_array_size(j)) {
		*bad = 1;
		return NULL;
	}
	json_t *e = json_array_get(j, i);
	if (e && !json_is_string(e))
		*bad = 1;
	return json_string_value(e);
}

static int add_user(struct principals *pr, const char *name, const struct parse *pc)
{
	if (!atr_user_name_valid(name, strlen(name)) || (pc->user_exists && !pc->user_exists(pc->arg, name)))
		return FAIL(pc, "Invalid principal in policy");
	char **v = realloc(pr->users, (pr->nusers + 1) * sizeof(*v));
	if (!v || !(v[pr->nusers] = strdup(name))) {
		if (v)
			pr->users = v;
		return FAIL(pc, "Out of memory");
	}
	pr->users = v;
	pr->nusers++;
	return 0;
}

static int is_account_id(const char *s, size_t n)
{
	return n == 12 && strspn(s, "0123456789") >= 12;
}

/* One "AWS" principal: "*", an account, or a user of it. */
static int aws_principal(struct principals *pr, const char *s, const struct parse *pc)
{
	static const char arn[] = "arn:aws:iam::";
	if (!strcmp(s, "*")) {
		pr->any = 1;
		return 0;
	}
	if (is_account_id(s, strlen(s))) {
		pr->account = 1;
		return 0;
	}
	if (!strncmp(s, arn, sizeof(arn) - 1) && is_account_id(s + sizeof(arn) - 1, 12) &&
	    s[sizeof(arn) - 1 + 12] == ':') {
		const char *rest = s + sizeof(arn) - 1 + 13;
		if (!strcmp(rest, "root")) {
			pr->account = 1;
			return 0;
		}
		if (!strncmp(rest, "user/", 5))
			return add_user(pr, rest + 5, pc);
	}
	return FAIL(pc, "Invalid principal in policy");
}

static int principal_parse(struct principals *pr, json_t *j, const struct parse *pc)
{
	const char *type, *s;
	json_t *v;
	if (json_is_string(j)) {
		if (strcmp(json_string_value(j), "*"))
			return FAIL(pc, "Invalid principal in policy");
		pr->any = 1;
		return 0;
	}
	if (!json_is_object(j) || !json_object_size(j))
		return FAIL(pc, "Invalid principal in policy");
	json_object_foreach(j, type, v) {
		int bad = 0, aws = !strcmp(type, "AWS"), cu = !strcmp(type, "CanonicalUser");
		int fed = !strcmp(type, "Federated");
		if (!aws && !cu && !fed && strcmp(type, "Service"))
			return FAIL(pc, "Invalid principal in policy");
		for (size_t i = 0; (s = str_at(v, i, &bad)); i++) {
			int rc = aws ? aws_principal(pr, s, pc) : cu ? add_user(pr, s, pc) : 0;
			if (rc)
				return -1;
			if (!aws && !cu && (!*s || strpbrk(s, "*?")))
				return FAIL(pc, "Invalid principal in policy");
			pr->federated |= fed;
		}
		if (bad)
			return FAIL(pc, "Invalid principal in policy");
	}
	return 0;
}

/* Compiles the strings of an Action or Resource element into l. */
static int list_parse(struct list *l, json_t *j, int vars, const struct parse *pc,
		      const char *invalid)
{
	int bad = 0;
	size_t n = json_is_array(j) ? json_array_size(j) : 1;
	if (!(l->v = calloc(n ? n : 1, sizeof(*l->v))))
		return FAIL(pc, "Out of memory");
	const char *s;
	for (size_t i = 0; (s = str_at(j, i, &bad)); i++) {
		if (pat_compile(&l->v[i], s, strlen(s), 1, vars))
			return FAIL(pc, "Out of memory");
		l->n++;
	}
	return bad || !l->n ? FAIL(pc, "%s", invalid) : 0;
}

/* The kinds of known actions pattern a matches (A_* bits), 0 for none. */
static unsigned action_kinds(const struct pat *a)
{
	unsigned kinds = 0;
	for (size_t i = 0; i < NACTIONS; i++)
		if (pat_match(a->s, a->len, actions[i].name, strlen(actions[i].name), 1))
			kinds |= 1u << actions[i].kind;
	return kinds;
}

/* Actions; *kinds (malloc'd, the caller frees it) gets what each matches. */
static int actions_parse(struct stmt *st, json_t *j, const struct parse *pc, unsigned **kinds)
{
	if (list_parse(&st->act, j, 0, pc, "Policy has invalid action"))
		return -1;
	if (!(*kinds = calloc(st->act.n, sizeof(**kinds))))
		return FAIL(pc, "Out of memory");
	for (size_t i = 0; i < st->act.n; i++)
		if (!((*kinds)[i] = action_kinds(&st->act.v[i])))
			return FAIL(pc, "Policy has invalid action");
	return 0;
}

#define ARN_S3 "arn:aws:s3:::"

/* Which of this bucket's ARNs resource r covers (A_BUCKET, A_OBJECT bits):
 * a variable may stand for anything here. */
static unsigned resource_kinds(const struct pat *r, const char *bucket)
{
	char arn[sizeof(ARN_S3) + 64 + 1];
	char *p = malloc(r->len + 1);
	unsigned kinds = 0;
	if (!p)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < r->len; i++) {
		if (r->s[i] == '\\' && i + 1 < r->len) {
			if (r->s[i + 1] == 'v') {
				p[n++] = '*';       /* "\v": a variable may be anything */
			} else {
				p[n++] = r->s[i];
				p[n++] = r->s[i + 1];
			}
			i++;
			continue;
		}
		p[n++] = r->s[i];
	}
	int k = snprintf(arn, sizeof(arn), ARN_S3 "%s/", bucket);
	if (k > 0 && (size_t)k < sizeof(arn)) {
		if (pat_match(p, n, arn, (size_t)k - 1, 0))
			kinds |= 1u << A_BUCKET;
		if (pat_match_prefix(p, n, arn, (size_t)k))
			kinds |= 1u << A_OBJECT;
	}
	free(p);
	return kinds;
}

/* Resources; *kinds gets what they cover. */
static int resources_parse(struct stmt *st, json_t *j, const struct parse *pc, unsigned *kinds)
{
	if (list_parse(&st->res, j, pc->vars, pc, "Policy has invalid resource"))
		return -1;
	*kinds = 0;
	for (size_t i = 0; i < st->res.n; i++) {
		const struct pat *r = &st->res.v[i];
		unsigned k = strncmp(r->s, ARN_S3, sizeof(ARN_S3) - 1) ? 0
			     : resource_kinds(r, pc->bucket);
		if (!k)
			return FAIL(pc, "Policy has invalid resource");
		*kinds |= k;
	}
	return 0;
}

/* Every action must apply to one of the statement's resources: object
 * actions to an object ARN, bucket actions to the bucket's. NotAction and
 * NotResource name what a statement does not cover: nothing to check. */
static int applies_check(const struct stmt *st, const unsigned *act_kinds, unsigned res_kinds,
			 const struct parse *pc)
{
	if (st->not_action || st->not_resource)
		return 0;
	for (size_t i = 0; i < st->act.n; i++)
		if (!(act_kinds[i] & res_kinds))
			return FAIL(pc, "Action does not apply to any resource(s) in statement");
	return 0;
}

/* The statement's elements, by name (NULL if absent). */
struct elems {
	json_t *sid, *effect, *principal, *not_principal, *action, *not_action, *resource,
		*not_resource, *condition;
};

static int elems_get(json_t *j, struct elems *e, const struct parse *pc)
{
	static const char *const names[] = { "Sid", "Effect", "Principal", "NotPrincipal",
					     "Action", "NotAction", "Resource", "NotResource",
					     "Condition" };
	json_t **slots[] = { &e->sid, &e->effect, &e->principal, &e->not_principal, &e->action,
			     &e->not_action, &e->resource, &e->not_resource, &e->condition };
	const char *name;
	json_t *v;
	memset(e, 0, sizeof(*e));
	if (!json_is_object(j))
		return FAIL(pc, "This policy contains invalid Json");
	json_object_foreach(j, name, v) {
		size_t i = 0;
		while (i < sizeof(names) / sizeof(names[0]) && strcmp(name, names[i]))
			i++;
		if (i == sizeof(names) / sizeof(names[0]))
			return FAIL(pc, "Unknown field %s", name);
		*slots[i] = v;
	}
	return 0;
}

/* Exactly one of an element and its Not form. */
static json_t *either(json_t *a, json_t *not_a, int *is_not, const char *name,
		      const struct parse *pc)
{
	*is_not = !a && not_a;
	if (a && not_a) {
		FAIL(pc, "Statement cannot contain both %s and Not%s", name, name);
		return NULL;
	}
	if (!a && !not_a)
		FAIL(pc, "Missing required field %s", name);
	return a ? a : not_a;
}

/* Sid and Effect. */
static int sid_effect(struct stmt *st, const struct elems *e, const struct parse *pc)
{
	if (e->sid && !json_is_string(e->sid))
		return FAIL(pc, "Invalid Sid: it must be a string");
	if (e->sid && !(st->sid = strdup(json_string_value(e->sid))))
		return FAIL(pc, "Out of memory");
	if (!e->effect)
		return FAIL(pc, "Missing required field Effect");
	const char *eff = json_string_value(e->effect);
	if (!eff || (strcmp(eff, "Allow") && strcmp(eff, "Deny")))
		return FAIL(pc, "Invalid effect: %s", eff ? eff : "(not a string)");
	st->deny = !strcmp(eff, "Deny");
	return 0;
}

static int stmt_parse(struct stmt *st, json_t *j, const struct parse *pc)
{
	struct elems e;
	json_t *pr, *act, *res;
	unsigned res_kinds = 0, *act_kinds = NULL;
	int rc = -1;
	if (elems_get(j, &e, pc) || sid_effect(st, &e, pc))
		goto out;
	if (!(pr = either(e.principal, e.not_principal, &st->not_principal, "Principal", pc)) ||
	    principal_parse(&st->pr, pr, pc))
		goto out;
	if (!(act = either(e.action, e.not_action, &st->not_action, "Action", pc)) ||
	    actions_parse(st, act, pc, &act_kinds))
		goto out;
	if (!(res = either(e.resource, e.not_resource, &st->not_resource, "Resource", pc)) ||
	    resources_parse(st, res, pc, &res_kinds))
		goto out;
	if (e.condition && cond_parse(e.condition, pc->vars, &st->cond, pc->err, pc->errsize))
		goto out;
	rc = applies_check(st, act_kinds, res_kinds, pc);
out:
	free(act_kinds);
	return rc;
}

/* Version, Id and Statement; *stmts is the Statement element. */
static int top_parse(json_t *root, json_t **stmts, struct parse *pc)
{
	const char *name;
	json_t *v, *version = NULL;
	*stmts = NULL;
	json_object_foreach(root, name, v) {
		if (!strcmp(name, "Version"))
			version = v;
		else if (!strcmp(name, "Statement"))
			*stmts = v;
		else if (strcmp(name, "Id"))
			return FAIL(pc, "Unknown field %s", name);
		else if (!json_is_string(v))
			return FAIL(pc, "Invalid Id: it must be a string");
	}
	const char *ver = version ? json_string_value(version) : "2008-10-17";
	if (!ver || (strcmp(ver, "2012-10-17") && strcmp(ver, "2008-10-17")))
		return FAIL(pc, "The policy must contain a valid version string");
	pc->vars = !strcmp(ver, "2012-10-17");
	if (!*stmts)
		return FAIL(pc, "Missing required field Statement");
	if (json_is_array(*stmts) && !json_array_size(*stmts))
		return FAIL(pc, "Could not parse the policy: Statement is empty!");
	if (!json_is_array(*stmts) && !json_is_object(*stmts))
		return FAIL(pc, "This policy contains invalid Json");
	return 0;
}

static int sids_unique(const struct policy *p, const struct parse *pc)
{
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; k < i && p->st[i].sid; k++)
			if (p->st[k].sid && !strcmp(p->st[i].sid, p->st[k].sid))
				return FAIL(pc, "Statement IDs (SID) in a single policy must be unique");
	return 0;
}

int policy_parse(const char *json, size_t len, const char *bucket,
		 int (*user_exists)(void *arg, const char *user), void *arg,
		 struct policy **out, char *err, size_t errsize)
{
	struct parse pc = { bucket, user_exists, arg, 0, err, errsize };
	struct policy *p = NULL;
	json_t *root = NULL, *stmts;
	int rc = -1;

	*out = NULL;
	policy_err(err, errsize, "%s", "");
	if (len > POLICY_MAX_BYTES) {
		FAIL(&pc, "Policies must be no more than %d bytes", POLICY_MAX_BYTES);
		goto out;
	}
	if (!len || json[0] != '{') {
		FAIL(&pc, "Policies must be valid JSON and the first byte must be '{'");
		goto out;
	}
	/* A key named twice is refused: which copy counts would otherwise be
	 * up to whichever reader looks. */
	if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL))) {
		FAIL(&pc, "This policy contains invalid Json");
		goto out;
	}
	if (top_parse(root, &stmts, &pc))
		goto out;
	size_t n = json_is_array(stmts) ? json_array_size(stmts) : 1;
	if (!(p = calloc(1, sizeof(*p))) || !(p->st = calloc(n, sizeof(*p->st)))) {
		FAIL(&pc, "Out of memory");
		goto out;
	}
	p->vars = pc.vars;
	for (size_t i = 0; i < n; i++) {
		p->n++;
		if (stmt_parse(&p->st[i], json_is_array(stmts) ? json_array_get(stmts, i) : stmts,
			       &pc))
			goto out;
	}
	if (sids_unique(p, &pc))
		goto out;
	*out = p;
	p = NULL;
	rc = 0;
out:
	policy_free(p);
	json_decref(root);
	return rc;
}

/* ---- evaluation ---- */

/* Does the principal element name the requester? An account names every
 * signed-in user where that means something (see policy_int.h). */
static int names(const struct principals *pr, const char *user, int accounts)
{
	if (pr->any)
		return 1;
	if (!user)
		return 0;
	if (accounts && pr->account)
		return 1;
	for (size_t i = 0; i < pr->nusers; i++)
		if (!strcmp(pr->users[i], user))
			return 1;
	return 0;
}

static enum tv resource_match(const struct stmt *st, struct eval_ctx *x, const char *arn,
			      size_t arnlen)
{
	enum tv res = TV_FALSE;
	for (size_t i = 0; i < st->res.n && res != TV_TRUE; i++) {
		const char *p;
		size_t plen;
		if (pat_expand(&st->res.v[i], cond_var_value, x, &x->buf, &p, &plen) != TV_TRUE)
			res = TV_UNKNOWN;
		else if (pat_match(p, plen, arn, arnlen, 0))
			res = TV_TRUE;
	}
	return st->not_resource ? tv_not(res) : res;
}

static enum tv stmt_eval(const struct stmt *st, struct eval_ctx *x, const char *arn,
			 size_t arnlen)
{
	const struct policy_request *r = x->r;
	int named = names(&st->pr, r->user, st->deny || st->not_principal);
	if (named == st->not_principal)
		return TV_FALSE;
	int acted = 0;
	for (size_t i = 0; i < st->act.n && !acted; i++)
		acted = pat_match(st->act.v[i].s, st->act.v[i].len, r->action, strlen(r->action), 1);
	if (acted == st->not_action)
		return TV_FALSE;
	enum tv res = resource_match(st, x, arn, arnlen);
	return res == TV_FALSE ? res : tv_and(res, cond_eval(st->cond, x));
}

enum policy_decision policy_eval(const struct policy *p, const struct policy_request *r)
{
	char arn[sizeof(ARN_S3) + 64 + 1 + 4096];
	assert(r->action && r->bucket);
	if (!p)
		return POLICY_NO_MATCH;
	int n = snprintf(arn, sizeof(arn), ARN_S3 "%s%s%s", r->bucket, r->key ? "/" : "",
			 r->key ? r->key : "");
	if (n < 0 || (size_t)n >= sizeof(arn))
		return POLICY_DENY; /* no verdict on a name we cannot hold: fail closed */
	struct eval_ctx x = { r, PAT_BUF_INIT };
	int allow = 0, deny = 0;
	for (size_t i = 0; i < p->n && !deny; i++) {
		enum tv t = stmt_eval(&p->st[i], &x, arn, (size_t)n);
		if (p->st[i].deny)
			deny = t != TV_FALSE;  /* an undecided Deny denies */
		else
			allow |= t == TV_TRUE; /* an undecided Allow does not allow */
	}
	pat_buf_release(&x.buf);
	return deny ? POLICY_DENY : allow ? POLICY_ALLOW : POLICY_NO_MATCH;
}

int policy_is_public(const struct policy *p)
{
	for (size_t i = 0; p && i < p->n; i++) {
		const struct stmt *st = &p->st[i];
		if (st->deny)
			continue;
		if ((st->not_principal || st->pr.any || st->pr.federated) && !cond_pins(st->cond))
			return 1;
	}
	return 0;
}
