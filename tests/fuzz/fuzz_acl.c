/*
 * fuzz_acl — what a client says about access (s3/s3_acl.c,
 * s3/s3_bucket_conf.c): the AccessControlPolicy document of PutBucketAcl
 * and PutObjectAcl, one x-amz-grant-* header, the
 * PublicAccessBlockConfiguration, OwnershipControls and
 * VersioningConfiguration documents; and what
 * the core makes of an ACL (src/acl.c: modes and kept grants).
 *
 * Input: a mode byte (mode % 5: 0 ACL document, 1 grant header, 2 public
 * access block, 3 ownership controls, 4 versioning), then the body or
 * header value.
 *
 * Properties: errors are only the documented ones; a parsed ACL has at
 * most ATR_ACL_MAX grants, each of a known grantee with one known
 * permission, users named with 1..64 bytes; applied to an entry (file and
 * directory) it gives a mode within 0777 whose kept grants render back
 * without growing past the original count plus the two mode-derived ones,
 * and encode/decode round-trip it exactly; the public access block has
 * only the four bits; the ownership one of the three settings; the
 * versioning Enabled or Suspended.
 */
#include <string.h>

#include "s3/s3_int.h"
#include "src/perm_int.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (256 * 1024)

static void check_acl(const struct atr_acl *acl)
{
	FUZZ_CHECK(acl->n >= 0 && acl->n <= ATR_ACL_MAX);
	for (int i = 0; i < acl->n; i++) {
		const struct atr_grant *g = &acl->g[i];
		FUZZ_CHECK(g->grantee >= ATR_GRANTEE_USER && g->grantee <= ATR_GRANTEE_LOG_DELIVERY);
		FUZZ_CHECK(g->perm == ATR_PERM_READ || g->perm == ATR_PERM_WRITE ||
			   g->perm == ATR_PERM_READ_ACP || g->perm == ATR_PERM_WRITE_ACP ||
			   g->perm == ATR_PERM_FULL_CONTROL);
		size_t n = strlen(g->user);
		FUZZ_CHECK(g->grantee == ATR_GRANTEE_USER ? n >= 1 && n <= ATR_USER_MAX : n == 0);
	}
	/* what the core keeps of it, both ways */
	for (int dir = 0; dir < 2; dir++) {
		uint32_t mode = 0;
		char *text = NULL;
		struct atr_acl shown;
		FUZZ_CHECK(acl_apply(acl, "owner", "bucketowner", dir, &mode, &text) == ATR_OK);
		FUZZ_CHECK(mode <= 0777);
		acl_render("owner", mode, text, dir, &shown);
		FUZZ_CHECK(shown.n <= ATR_ACL_MAX);
		free(text);
	}
	char *enc = NULL;
	struct atr_acl back;
	FUZZ_CHECK(acl_encode(acl, &enc) == ATR_OK);
	acl_decode(enc, &back);
	free(enc);
	FUZZ_CHECK(back.n == acl->n);
	for (int i = 0; i < acl->n; i++)
		FUZZ_CHECK(back.g[i].grantee == acl->g[i].grantee &&
			   back.g[i].perm == acl->g[i].perm &&
			   !strcmp(back.g[i].user, acl->g[i].user));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mode = data[0] % 5;
	char *s = fuzz_cstring(data + 1, size - 1, INPUT_MAX);
	if (!s)
		return 0;
	static struct atr_acl acl; /* 7 KiB: not on the fuzzer's stack */
	enum s3_err e;
	int v;
	memset(&acl, 0, sizeof(acl));
	switch (mode) {
	case 0:
		e = s3_acl_from_xml(s, size - 1, &acl);
		FUZZ_CHECK(!e || e == S3_ERR_MALFORMED_ACL || e == S3_ERR_INVALID_ARGUMENT ||
			   e == S3_ERR_INVALID_GRANTEE || e == S3_ERR_UNRESOLVABLE_GRANT);
		if (!e)
			check_acl(&acl);
		break;
	case 1:
		e = s3_acl_grant_header(s, ATR_PERM_READ, &acl);
		FUZZ_CHECK(!e || e == S3_ERR_INVALID_ARGUMENT || e == S3_ERR_INVALID_GRANTEE ||
			   e == S3_ERR_UNRESOLVABLE_GRANT || e == S3_ERR_MALFORMED_ACL);
		if (!e)
			check_acl(&acl);
		break;
	case 2:
		e = s3_parse_public_access_block(s, size - 1, &v);
		FUZZ_CHECK(!e || e == S3_ERR_MALFORMED_XML);
		FUZZ_CHECK(e || (v & ~15) == 0);
		break;
	case 3:
		e = s3_parse_ownership_controls(s, size - 1, &v);
		FUZZ_CHECK(!e || e == S3_ERR_MALFORMED_XML);
		FUZZ_CHECK(e || (v >= ATR_OWN_OBJECT_WRITER && v <= ATR_OWN_BUCKET_OWNER_ENFORCED));
		break;
	default:
		e = s3_parse_versioning(s, size - 1, &v);
		FUZZ_CHECK(!e || e == S3_ERR_MALFORMED_XML || e == S3_ERR_MFA_DELETE_UNSUPPORTED);
		FUZZ_CHECK(e || v == ATR_VER_ENABLED || v == ATR_VER_SUSPENDED);
		break;
	}
	free(s);
	return 0;
}
