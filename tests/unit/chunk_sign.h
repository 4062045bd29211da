/*
 * chunk_sign.h — aws-chunked bodies signed in the test (SigV4 streaming,
 * the key and scope of AWS's published examples), for the decoder's tests
 * (test_s3_chunked.c) and the request body's (test_s3_body.c). Header-only;
 * include after cmocka.h.
 */
#ifndef TESTS_UNIT_CHUNK_SIGN_H
#define TESTS_UNIT_CHUNK_SIGN_H

#include <stdio.h>
#include <string.h>

#include "common/hash.h"
#include "s3/s3_auth.h"

#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20130524T000000Z"
#define SCOPE "20130524/us-east-1/s3/aws4_request"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* What a SigV4 header check leaves for a streaming body signed with SK. */
static inline void auth_init(struct s3_auth *a, enum s3_payload payload, const char *seed,
			     int verify)
{
	memset(a, 0, sizeof(*a));
	a->payload = payload;
	a->verify_chunks = verify;
	s3_sigv4_signing_key(SK, "20130524", "us-east-1", "s3", a->signing_key);
	snprintf(a->amz_date, sizeof(a->amz_date), "%s", DATE);
	snprintf(a->scope, sizeof(a->scope), "%s", SCOPE);
	snprintf(a->seed_signature, sizeof(a->seed_signature), "%s", seed);
}

/* The signature of the chunk data[0..len), chained from prev (replaced). */
static inline void sign_chunk(const struct s3_auth *a, char prev[65], const char *data, size_t len)
{
	unsigned char digest[32], mac[32];
	char hex[65], sts[512];
	int n;

	sha256(data, len, digest);
	hex_encode(digest, 32, hex);
	n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s",
		     a->amz_date, a->scope, prev, EMPTY_SHA, hex);
	hmac_sha256(a->signing_key, 32, sts, (size_t)n, mac);
	hex_encode(mac, 32, prev);
}

#endif
