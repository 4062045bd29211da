/*
 * fuzz_sigv4 — s3_auth_check over arbitrary requests: SigV4 header and
 * presigned-query parsing, the canonical request, time parsing, SigV2
 * detection and simple mode.
 *
 * Input: one flags byte (bit 0: simple mode, bit 1: path already decoded,
 * bit 2: a secret too long for S3_SECRET_MAX), then lines separated by '\n':
 * method, path, query ("" for none), then "Name: value" headers (at most
 * civetweb's 64). The clock is AWS's example date (20130524T000000Z) and
 * the one credential is AWS's example key, so the published examples in the
 * corpus verify and the fuzzer can explore past the signature check.
 *
 * Properties: on error nothing of *out survives (all zero); on success in
 * SigV4 mode the user is the lookup's, the access key the example's, the
 * scope and date are filled, and chunk verification is on exactly for the
 * signed streaming payloads — or, for a SigV2 request ("Authorization: AWS
 * ..." or an AWSAccessKeyId query), no SigV4 state at all and no chunk
 * verification.
 */
#include <string.h>
#include <strings.h>

#include "common/uri.h"
#include "s3/s3_auth.h"
#include "tests/fuzz/fuzz.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T0 ((time_t)1369353600) /* 20130524T000000Z */
#define MAX_HDRS 64
#define INPUT_MAX (64 * 1024)

static int lookup(void *arg, const char *ak, char *secret, size_t secret_size,
		  char *user, size_t user_size)
{
	int long_secret = *(const int *)arg;
	if (strcmp(ak, AK))
		return -1;
	if (long_secret) {
		/* Longer than S3_SECRET_MAX: must be truncated, not overflow. */
		memset(secret, 'k', secret_size - 1);
		secret[secret_size - 1] = '\0';
	} else {
		snprintf(secret, secret_size, "%s", SK);
	}
	snprintf(user, user_size, "%s", "alice");
	return 0;
}

static int all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* Cuts s at each '\n' into at most max lines; returns how many. */
static int split_lines(char *s, char **lines, int max)
{
	int n = 0;
	while (s && n < max) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		lines[n++] = s;
		s = nl ? nl + 1 : NULL;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *lines[3 + MAX_HDRS];
	struct s3_hdr hdrs[MAX_HDRS];
	struct s3_auth out;
	if (size < 1 || size > INPUT_MAX)
		return 0;
	int flags = data[0];
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	int n = split_lines(text, lines, 3 + MAX_HDRS);
	struct s3_auth_req req = {
		.method = n > 0 ? lines[0] : "GET",
		.path = n > 1 ? lines[1] : "/",
		.query = n > 2 && *lines[2] ? lines[2] : NULL,
		.hdrs = hdrs,
		.now = T0,
		.path_decoded = (flags & 2) != 0,
	};
	for (int i = 3; i < n; i++) {
		char *colon = strchr(lines[i], ':');
		if (!colon)
			continue;
		*colon = '\0';
		hdrs[req.nhdrs].name = lines[i];
		hdrs[req.nhdrs].value = colon[1] == ' ' ? colon + 2 : colon + 1;
		req.nhdrs++;
	}

	/* What s3_auth_check must have taken for SigV2 (the header wins). */
	const char *authz = NULL;
	for (int i = 0; i < req.nhdrs; i++)
		if (!strcasecmp(hdrs[i].name, "authorization") && !authz)
			authz = hdrs[i].value;
	int v2 = 0, unsigned_req = !authz; /* no signature at all: anonymous */
	struct uri_query q;
	if (authz) {
		v2 = !strncmp(authz, "AWS ", 4);
	} else if (!uri_query_parse(&q, req.query)) {
		/* By parameter name, not substring: "SignaturX-Amz-Algorithm..."
		 * is no X-Amz-Algorithm (regress: sigv2-presigned-*). */
		v2 = !uri_query_get(&q, "X-Amz-Algorithm") && uri_query_get(&q, "AWSAccessKeyId");
		unsigned_req = !uri_query_get(&q, "X-Amz-Algorithm") &&
			       !(uri_query_get(&q, "AWSAccessKeyId") && uri_query_get(&q, "Signature"));
		uri_query_release(&q);
	}

	enum s3_auth_mode mode = flags & 1 ? S3_AUTH_SIMPLE : S3_AUTH_SIGV4;
	int long_secret = (flags & 4) != 0;
	memset(&out, 0xa5, sizeof(out));
	enum s3_err e = s3_auth_check(mode, &req, lookup, &long_secret, &out);
	if (e) {
		FUZZ_CHECK(all_zero(&out, sizeof(out)));
	} else if (mode == S3_AUTH_SIGV4 && unsigned_req) {
		/* Anonymous, and only then: nobody named, nothing to verify. */
		FUZZ_CHECK(out.anonymous);
		FUZZ_CHECK(!out.user[0] && !out.access_key[0] && !out.verify_chunks);
	} else if (mode == S3_AUTH_SIGV4 && v2) {
		FUZZ_CHECK(!out.anonymous);
		FUZZ_CHECK(!strcmp(out.user, "alice"));
		FUZZ_CHECK(!strcmp(out.access_key, AK));
		FUZZ_CHECK(!out.scope[0] && !out.amz_date[0] && !out.seed_signature[0]);
		FUZZ_CHECK(!out.verify_chunks);
	} else if (mode == S3_AUTH_SIGV4) {
		FUZZ_CHECK(!out.anonymous);
		FUZZ_CHECK(!strcmp(out.user, "alice"));
		FUZZ_CHECK(!strcmp(out.access_key, AK));
		FUZZ_CHECK(strlen(out.amz_date) == 16 && strlen(out.seed_signature) == 64);
		FUZZ_CHECK(!strncmp(out.scope, out.amz_date, 8));
		FUZZ_CHECK(out.verify_chunks == (out.payload == S3_PAYLOAD_STREAMING_SIGNED ||
						 out.payload == S3_PAYLOAD_STREAMING_SIGNED_TRAILER));
	} else {
		FUZZ_CHECK(out.anonymous || (*out.user && strlen(out.user) <= 64));
	}
	free(text);
	return 0;
}
