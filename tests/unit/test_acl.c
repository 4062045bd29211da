/* Unit tests for src/acl.c: S3 ACLs as a view of POSIX permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/perm_int.h"

/* Applies the canned ACL name to an entry of alice's in bob's bucket. */
static uint32_t canned_mode(const char *name, int is_dir, char **text)
{
	struct atr_acl acl;
	uint32_t mode = 0;
	assert_int_equal(atr_acl_canned(name, &acl), ATR_OK);
	assert_int_equal(acl_apply(&acl, "alice", "bob", is_dir, &mode, text), ATR_OK);
	return mode;
}

static void canned_acls_as_modes(void **state)
{
	static const struct {
		const char *name;
		uint32_t file, dir;
		const char *text; /* kept beside the mode */
	} cases[] = {
		{ "private", 0600, 0700, NULL },
		{ "aws-exec-read", 0600, 0700, NULL },
		{ "public-read", 0644, 0755, "a 1\n" },
		{ "public-read-write", 0644, 0777, "a 1\na 2\n" },
		{ "authenticated-read", 0644, 0755, NULL },
		{ "bucket-owner-read", 0600, 0700, "u 1 bob\n" },
		{ "bucket-owner-full-control", 0600, 0700, "u 16 bob\n" },
		{ "log-delivery-write", 0600, 0700, "l 2\nl 4\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int dir = 0; dir < 2; dir++) {
			char *text;
			uint32_t m = canned_mode(cases[i].name, dir, &text);
			if (m != (dir ? cases[i].dir : cases[i].file))
				fail_msg("%s (dir %d): mode %o", cases[i].name, dir, m);
			if (cases[i].text)
				assert_string_equal(text, cases[i].text);
			else
				assert_null(text);
			free(text);
		}
	}
	struct atr_acl acl;
	assert_int_equal(atr_acl_canned("public", &acl), ATR_E_INVALID_ARG);
}

static void render_round_trip(void **state)
{
	struct atr_acl acl;
	char *text;
	uint32_t mode = canned_mode("public-read", 0, &text);
	acl_render("alice", mode, text, 0, &acl);
	/* owner FULL_CONTROL, AuthenticatedUsers READ (the other bits), and
	 * AllUsers READ (kept) */
	assert_string_equal(acl.owner, "alice");
	assert_int_equal(acl.n, 3);
	assert_int_equal(acl.g[0].grantee, ATR_GRANTEE_USER);
	assert_string_equal(acl.g[0].user, "alice");
	assert_int_equal(acl.g[0].perm, ATR_PERM_FULL_CONTROL);
	assert_int_equal(acl.g[1].grantee, ATR_GRANTEE_AUTH_USERS);
	assert_int_equal(acl.g[2].grantee, ATR_GRANTEE_ALL_USERS);
	assert_int_equal(acl.g[2].perm, ATR_PERM_READ);
	assert_int_equal(atr_acl_is_public(&acl), 1);
	/* chmod o-r revokes the public read with the authenticated one */
	acl_render("alice", 0600, text, 0, &acl);
	assert_int_equal(acl.n, 1);
	free(text);
}

static void grants_to_users(void **state)
{
	const char *text = "u 1 carol\nu 16 dave\na 1\nt 4\n";
	/* named users (with AuthenticatedUsers' READ_ACP: both are signed in) */
	assert_int_equal(acl_grants_to(text, "carol", 0600, 0, 0), PERM_R | PERM_RACP);
	assert_int_equal(acl_grants_to(text, "dave", 0600, 0, 0),
			 PERM_R | PERM_W | PERM_RACP | PERM_WACP);
	/* on a directory READ and WRITE give search too */
	assert_int_equal(acl_grants_to(text, "carol", 0700, 1, 0), PERM_R | PERM_X | PERM_RACP);
	/* AllUsers' READ only while the other bits allow it */
	assert_int_equal(acl_grants_to(text, NULL, 0600, 0, 0), 0);
	assert_int_equal(acl_grants_to(text, NULL, 0644, 0, 0), PERM_R);
	/* AuthenticatedUsers' READ_ACP for any signed-in user, not anonymous */
	assert_int_equal(acl_grants_to(text, "erin", 0600, 0, 0), PERM_RACP);
	/* IgnorePublicAcls drops both groups */
	assert_int_equal(acl_grants_to(text, "erin", 0644, 0, 1), 0);
	assert_int_equal(acl_grants_to(text, NULL, 0644, 0, 1), 0);
	assert_int_equal(acl_text_is_public(text), 1);
	assert_int_equal(acl_text_is_public("u 1 carol\n"), 0);
	/* garbage lines are skipped, not trusted */
	assert_int_equal(acl_grants_to("x 1 carol\nu\n\nu 1\n", "carol", 0600, 0, 0), 0);
}

static void explicit_grants(void **state)
{
	struct atr_acl acl = { .n = 0 };
	uint32_t mode = 0;
	char *text;
	/* the owner's READ only, AuthenticatedUsers WRITE on an object (no
	 * o+w: an object's w is for writing it in place), carol READ_ACP */
	acl.g[acl.n++] = (struct atr_grant){ ATR_GRANTEE_USER, ATR_PERM_READ, "alice" };
	acl.g[acl.n++] = (struct atr_grant){ ATR_GRANTEE_AUTH_USERS, ATR_PERM_WRITE, "" };
	acl.g[acl.n++] = (struct atr_grant){ ATR_GRANTEE_USER, ATR_PERM_READ_ACP, "carol" };
	assert_int_equal(acl_apply(&acl, "alice", "bob", 0, &mode, &text), ATR_OK);
	assert_int_equal(mode, 0400);
	assert_string_equal(text, "t 2\nu 4 carol\n");
	free(text);
	/* the same on a directory: o+w (and x) */
	mode = 0;
	assert_int_equal(acl_apply(&acl, "alice", "bob", 1, &mode, &text), ATR_OK);
	assert_int_equal(mode, 0533);
	assert_string_equal(text, "u 4 carol\n");
	free(text);
	/* special bits survive an ACL */
	mode = 01000;
	assert_int_equal(atr_acl_canned("private", &acl), ATR_OK);
	assert_int_equal(acl_apply(&acl, "alice", "alice", 1, &mode, &text), ATR_OK);
	assert_int_equal(mode, 01700);
	assert_null(text);
}

static void encode_decode(void **state)
{
	struct atr_acl acl, back;
	char *text;
	assert_int_equal(atr_acl_canned("bucket-owner-full-control", &acl), ATR_OK);
	acl.g[acl.n++] = (struct atr_grant){ ATR_GRANTEE_USER, ATR_PERM_WRITE_ACP, "carol" };
	assert_int_equal(acl_encode(&acl, &text), ATR_OK);
	acl_decode(text, &back);
	free(text);
	assert_int_equal(back.n, acl.n);
	for (int i = 0; i < acl.n; i++) {
		assert_int_equal(back.g[i].grantee, acl.g[i].grantee);
		assert_int_equal(back.g[i].perm, acl.g[i].perm);
		assert_string_equal(back.g[i].user, acl.g[i].user);
	}
	acl.n = 0;
	assert_int_equal(acl_encode(&acl, &text), ATR_OK);
	assert_string_equal(text, "");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canned_acls_as_modes),
		cmocka_unit_test(render_round_trip),
		cmocka_unit_test(grants_to_users),
		cmocka_unit_test(explicit_grants),
		cmocka_unit_test(encode_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
