/* names — bucket and key rules, error names, permission bits. */
#include <stdio.h>
#include <string.h>

#include "common/uri.h"
#include "src/core_int.h"
#include "common/banned.h"

const char *atr_strerror(int err)
{
	static const char *const names[ATR_E__COUNT] = {
		[ATR_OK] = "ok",
		[ATR_E_NOMEM] = "out of memory",
		[ATR_E_IO] = "I/O error",
		[ATR_E_NOSPC] = "no space left on the under-storage",
		[ATR_E_INTERNAL] = "internal error",
		[ATR_E_ACCESS] = "permission denied",
		[ATR_E_INVALID_BUCKET] = "invalid bucket name",
		[ATR_E_NO_BUCKET] = "no such bucket",
		[ATR_E_BUCKET_EXISTS] = "bucket exists",
		[ATR_E_BUCKET_OWNED] = "bucket already owned by you",
		[ATR_E_BUCKET_NOT_EMPTY] = "bucket not empty",
		[ATR_E_INVALID_KEY] = "invalid key",
		[ATR_E_KEY_TOO_LONG] = "key too long",
		[ATR_E_NO_KEY] = "no such key",
		[ATR_E_PARENT_IS_OBJECT] = "a parent of the key is an object",
		[ATR_E_KEY_IS_PREFIX] = "the key is a prefix of other objects",
		[ATR_E_TOO_LARGE] = "too large",
		[ATR_E_INVALID_ARG] = "invalid argument",
		[ATR_E_EXISTS] = "already exists",
		[ATR_E_NOT_EMPTY] = "directory not empty",
		[ATR_E_NOT_SUPPORTED] = "not supported",
		[ATR_E_NO_UPLOAD] = "no such multipart upload",
		[ATR_E_INVALID_PART] = "invalid part",
		[ATR_E_PART_ORDER] = "parts not in ascending order",
		[ATR_E_PART_TOO_SMALL] = "part too small",
		[ATR_E_PRECONDITION] = "precondition failed",
		[ATR_E_CONFLICT] = "conditional write conflict",
		[ATR_E_NO_CONFIG] = "not configured",
		[ATR_E_ACLS_OFF] = "ACLs are disabled for this bucket",
		[ATR_E_BAD_POLICY] = "malformed policy",
		[ATR_E_FILE_TOO_BIG] = "file too large for the under-storage",
		[ATR_E_READ_ONLY] = "the under-storage is read-only",
		[ATR_E_QUOTA] = "disk quota exceeded on the under-storage",
		[ATR_E_TOO_MANY_LINKS] = "too many links",
		[ATR_E_BUSY] = "busy",
		[ATR_E_NO_FILES] = "too many open files",
		[ATR_E_UFS_DOWN] = "the under-storage does not answer",
		[ATR_E_NO_VERSION] = "no such version",
		[ATR_E_DELETE_MARKER] = "a delete marker",
		[ATR_E_LOCKED] = "locked: under an Object Lock retention or legal hold",
		[ATR_E_NO_LOCK] = "the bucket has no Object Lock",
		[ATR_E_PINNED] = "pinned: its cached bytes stay (unpin it first: atrium fs unpin)",
		/* Parenthesised: one string, not two elements (clang). */
		[ATR_E_NOT_PERSISTED] = ("not persisted: its cached bytes are its only copy "
					 "(persist it first: atrium fs persist)"),
	};
	if (err < 0 || err >= ATR_E__COUNT || !names[err])
		return "unknown error";
	return names[err];
}

static int is_ipv4(const char *s)
{
	int dots = 0, digits = 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (!digits)
				return 0;
			dots++;
			digits = 0;
		} else if (*s >= '0' && *s <= '9') {
			digits++;
		} else {
			return 0;
		}
	}
	return dots == 3 && digits > 0;
}

static int starts(const char *s, const char *p) { return !strncmp(s, p, strlen(p)); }
static int ends(const char *s, const char *x)
{
	size_t n = strlen(s), m = strlen(x);
	return n >= m && !strcmp(s + n - m, x);
}

int atr_bucket_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n < 3 || n > ATR_BUCKET_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-'))
			return 0;
	}
	if (name[0] == '.' || name[0] == '-' || name[n - 1] == '.' || name[n - 1] == '-')
		return 0;
	if (strstr(name, "..") || strstr(name, ".-") || strstr(name, "-.") || is_ipv4(name))
		return 0;
	if (starts(name, "xn--") || starts(name, "sthree-") || starts(name, "amzn-s3-demo-") ||
	    ends(name, "-s3alias") || ends(name, "--ol-s3") || ends(name, ".mrap") ||
	    ends(name, "--x-s3"))
		return 0;
	return strcmp(name, "api") != 0;
}

int atr_key_valid(const char *key)
{
	size_t n = strlen(key);
	if (n == 0)
		return ATR_E_INVALID_KEY;
	if (n > ATR_KEY_MAX)
		return ATR_E_KEY_TOO_LONG;
	if (!utf8_valid(key, n))
		return ATR_E_INVALID_KEY;
	const char *seg = key;
	for (;;) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
		if (!slash && len == 0)
			break; /* trailing '/': a directory marker */
		if (len == 0 || (len == 1 && seg[0] == '.') || (len == 2 && !strncmp(seg, "..", 2)))
			return ATR_E_INVALID_KEY;
		if (len > ATR_SEGMENT_MAX)
			return ATR_E_KEY_TOO_LONG;
		if (!slash)
			break;
		seg = slash + 1;
	}
	return ATR_OK;
}

int atr_user_name_valid(const char *s, size_t len)
{
	if (!len || len > ATR_USER_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || strchr("/:*?", s[i]))
			return 0;
	return 1;
}

