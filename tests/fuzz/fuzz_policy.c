/*
 * fuzz_policy — the bucket-policy engine (src/policy.c, policy_cond.c,
 * policy_pat.c): policy_parse over hostile documents, policy_eval over
 * hostile requests, policy_is_public.
 *
 * Input: a flags byte (bit 0: anonymous; bit 1: a bucket-level request, no
 * key; bit 2: the value callback returns 300 values for every key; bit 3:
 * no user_exists), then the policy document up to the first NUL byte, then
 * the request: user, action, key and the condition values, separated by
 * 0x01 bytes; the values are "key=v1|v2;key2=v" (tests/unit/policy_spec.h).
 *
 * Properties: parse gives a policy and an empty message, or NULL and a
 * NUL-terminated message that is not empty; evaluation returns one of the
 * three decisions and the same one twice; a policy that is not public
 * never allows an anonymous request without condition values (every Allow
 * that could match it is pinned by a condition the request lacks). Nothing
 * leaks.
 */
#include <string.h>

#include "src/policy_int.h"
#include "tests/fuzz/fuzz.h"
#include "tests/unit/policy_spec.h"

#define INPUT_MAX (POLICY_MAX_BYTES + 4096)

static int exists(void *arg, const char *user)
{
	return strcmp(user, "nobody") != 0;
}

static const char *many_values(void *arg, const char *k, int i)
{
	return i < 300 ? (const char *)arg : NULL;
}

/* The next 0x01-separated field of the request (NUL-terminated in place). */
static char *field(char **p)
{
	char *f = *p, *sep = f ? strchr(f, '\x01') : NULL;
	if (sep) {
		*sep = '\0';
		*p = sep + 1;
	} else {
		*p = NULL;
	}
	return f ? f : (char *)"";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > INPUT_MAX)
		return 0;
	int flags = data[0];
	const uint8_t *doc = data + 1, *nul = memchr(doc, '\0', size - 1);
	size_t dlen = nul ? (size_t)(nul - doc) : size - 1;
	char *req = nul ? fuzz_cstring(nul + 1, size - 1 - dlen - 1, INPUT_MAX) : NULL;
	char *rest = req;

	struct policy *p = (struct policy *)1;
	char err[256];
	memset(err, 'x', sizeof(err));
	int rc = policy_parse((const char *)doc, dlen, "bkt", flags & 8 ? NULL : exists, NULL, &p,
			      err, sizeof(err));
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == 0 ? p != NULL && err[0] == '\0' : p == NULL && err[0] != '\0');
	if (rc == 0) {
		char *user = field(&rest), *action = field(&rest), *key = field(&rest);
		char *spec = field(&rest);
		struct policy_request r = {
			flags & 1 ? NULL : user, action, "bkt", flags & 2 ? NULL : key,
			flags & 4 ? many_values : policy_spec_value, flags & 4 ? (void *)key : (void *)spec,
		};
		enum policy_decision d = policy_eval(p, &r);
		FUZZ_CHECK(d == POLICY_NO_MATCH || d == POLICY_ALLOW || d == POLICY_DENY);
		FUZZ_CHECK(policy_eval(p, &r) == d);
		int pub = policy_is_public(p);
		FUZZ_CHECK(pub == 0 || pub == 1);
		struct policy_request anon = { NULL, action, "bkt", r.key, NULL, NULL };
		if (!pub)
			FUZZ_CHECK(policy_eval(p, &anon) != POLICY_ALLOW);
		policy_free(p);
	}
	free(req);
	return 0;
}
