/*
 * fuzz_names — key and bucket name validation (atr_key_valid,
 * atr_bucket_name_valid), the first line of defence against paths that
 * would leave the bucket's directory.
 *
 * Input: a bucket name, a NUL byte, a key (either may hold anything).
 *
 * Properties: a valid bucket is 3..63 bytes of [a-z0-9.-] and never starts
 * with '.', so it cannot be ".", "..", ".atrium" or hold a '/'; a valid key
 * is 1..1024 bytes of UTF-8 whose UFS path ("bucket/key") has no empty,
 * "." or ".." component and does not start with '/': whatever the key, the
 * path stays inside the bucket's directory. The checks here are written
 * independently of names.c.
 */
#include <string.h>

#include "common/uri.h"
#include "src/core_int.h"
#include "tests/fuzz/fuzz.h"

#define PATH_MAX_UFS (ATR_BUCKET_MAX + ATR_KEY_MAX + 8)

static void check_bucket(const char *b)
{
	if (!atr_bucket_name_valid(b))
		return;
	size_t n = strlen(b);
	FUZZ_CHECK(n >= 3 && n <= ATR_BUCKET_MAX);
	FUZZ_CHECK(strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789.-") == n);
	FUZZ_CHECK(b[0] != '.' && b[0] != '-');
	FUZZ_CHECK(!strstr(b, ".."));
	FUZZ_CHECK(strcmp(b, "api"));
}

/* Every component of a relative path is a real name. */
static int path_stays_inside(const char *path)
{
	if (*path == '/')
		return 0;
	for (const char *seg = path;;) {
		size_t len = strcspn(seg, "/");
		if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && !memcmp(seg, "..", 2)))
			return 0;
		if (!seg[len])
			return 1;
		seg += len + 1;
	}
}

static void check_key(const char *bucket, const char *key)
{
	char path[PATH_MAX_UFS];
	int rc = atr_key_valid(key);
	size_t n = strlen(key);
	FUZZ_CHECK(rc == ATR_OK || rc == ATR_E_INVALID_KEY || rc == ATR_E_KEY_TOO_LONG);
	if (rc)
		return;
	FUZZ_CHECK(n >= 1 && n <= ATR_KEY_MAX);
	FUZZ_CHECK(utf8_valid(key, n));
	FUZZ_CHECK(key[0] != '/');
	if (!atr_bucket_name_valid(bucket))
		bucket = "bucket";
	FUZZ_CHECK(key_path(path, sizeof(path), bucket, key) == 0);
	FUZZ_CHECK(path_stays_inside(path));
	FUZZ_CHECK(!strncmp(path, bucket, strlen(bucket)) && path[strlen(bucket)] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 2);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = s[size + 1] = '\0';
	const char *bucket = s;
	const char *key = s + strlen(s) + 1;
	check_bucket(bucket);
	check_key(bucket, key);
	check_key("bucket", bucket); /* the whole input as a key, too */
	free(s);
	return 0;
}
