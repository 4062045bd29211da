#include "s3/s3_err.h"

#include "src/atrium.h"
#include "common/banned.h"

static const struct {
	int status;
	const char *code;
	const char *msg;
} table[S3_ERR__COUNT] = {
#define S3_ERR_ROW(name, status, code, msg) [S3_ERR_##name] = { status, code, msg },
	S3_ERRORS(S3_ERR_ROW)
#undef S3_ERR_ROW
};

int s3_err_status(enum s3_err e) { return table[e].status; }
const char *s3_err_code(enum s3_err e) { return table[e].code; }
const char *s3_err_message(enum s3_err e) { return table[e].msg; }

enum s3_err s3_err_from_core(int err)
{
	switch ((enum atr_err)err) {
	case ATR_OK: return S3_ERR_OK;
	case ATR_E_NOSPC: case ATR_E_QUOTA: return S3_ERR_INSUFFICIENT_STORAGE;
	case ATR_E_FILE_TOO_BIG: return S3_ERR_ENTITY_TOO_LARGE;
	case ATR_E_READ_ONLY: return S3_ERR_ACCESS_DENIED;
	case ATR_E_BUSY: case ATR_E_NO_FILES: return S3_ERR_SLOW_DOWN;
	case ATR_E_UFS_DOWN: return S3_ERR_UFS_DOWN;
	case ATR_E_ACCESS: return S3_ERR_ACCESS_DENIED;
	case ATR_E_INVALID_BUCKET: return S3_ERR_INVALID_BUCKET_NAME;
	case ATR_E_NO_BUCKET: return S3_ERR_NO_SUCH_BUCKET;
	case ATR_E_BUCKET_EXISTS: return S3_ERR_BUCKET_EXISTS;
	case ATR_E_BUCKET_OWNED: return S3_ERR_BUCKET_OWNED;
	case ATR_E_BUCKET_NOT_EMPTY: return S3_ERR_BUCKET_NOT_EMPTY;
	case ATR_E_INVALID_KEY: return S3_ERR_INVALID_OBJECT_NAME;
	case ATR_E_KEY_TOO_LONG: return S3_ERR_KEY_TOO_LONG;
	case ATR_E_NO_KEY: return S3_ERR_NO_SUCH_KEY;
	case ATR_E_PARENT_IS_OBJECT: return S3_ERR_PARENT_IS_OBJECT;
	case ATR_E_KEY_IS_PREFIX: return S3_ERR_OBJECT_IS_PREFIX;
	case ATR_E_TOO_LARGE: return S3_ERR_ENTITY_TOO_LARGE;
	case ATR_E_INVALID_ARG: return S3_ERR_INVALID_ARGUMENT;
	case ATR_E_NO_UPLOAD: return S3_ERR_NO_SUCH_UPLOAD;
	case ATR_E_INVALID_PART: return S3_ERR_INVALID_PART;
	case ATR_E_PART_ORDER: return S3_ERR_INVALID_PART_ORDER;
	case ATR_E_PART_TOO_SMALL: return S3_ERR_ENTITY_TOO_SMALL;
	case ATR_E_PRECONDITION: return S3_ERR_PRECONDITION_FAILED;
	case ATR_E_CONFLICT: return S3_ERR_CONDITIONAL_CONFLICT;
	case ATR_E_NOMEM: return S3_ERR_SLOW_DOWN;
	/* The file-system view's: never met by S3 operations. */
	case ATR_E_EXISTS: case ATR_E_NOT_EMPTY: case ATR_E_TOO_MANY_LINKS:
	case ATR_E_NOT_PERSISTED: case ATR_E_PINNED:
		return S3_ERR_INVALID_REQUEST;
	case ATR_E_NOT_SUPPORTED: return S3_ERR_NOT_IMPLEMENTED;
	case ATR_E_NO_VERSION: return S3_ERR_NO_SUCH_VERSION;
	/* A delete marker named by its version id (the latest one met
	 * without an id is NoSuchKey: the handlers say so). */
	case ATR_E_DELETE_MARKER: return S3_ERR_METHOD_NOT_ALLOWED;
	case ATR_E_LOCKED: return S3_ERR_ACCESS_DENIED;
	case ATR_E_NO_LOCK: return S3_ERR_OBJECT_LOCK_MISSING;
	case ATR_E_ACLS_OFF: return S3_ERR_ACLS_NOT_SUPPORTED;
	case ATR_E_BAD_POLICY: return S3_ERR_MALFORMED_POLICY;
	/* Each bucket setting has its own "not found": the handlers say which. */
	case ATR_E_NO_CONFIG: return S3_ERR_NO_SUCH_BUCKET_POLICY;
	case ATR_E_IO: case ATR_E_INTERNAL: case ATR_E__COUNT: break;
	}
	return S3_ERR_INTERNAL;
}
