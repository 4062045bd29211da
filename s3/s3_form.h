/*
 * s3_form — the pure pieces of POST Object (browser form uploads): the
 * multipart/form-data reader, the POST policy checker and the form's
 * signature check. Nothing here knows civetweb or the core, so unit tests
 * and fuzz_form feed them plain bytes; s3_post.c glues them to a request.
 *
 * The form reader pulls from an s3_read_fn (the request body) and never
 * holds the file: the fields before the part named "file" are read into the
 * form's own arena (S3_FORM_PRE_MAX bytes of fields, headers and delimiters
 * together: more is MaxPostPreDataLengthExceeded, as AWS caps them at 20 KB),
 * then the file's bytes are handed out as they arrive until its closing
 * delimiter. The reader never asks the source for bytes past the body's end
 * (the source enforces the length). Delimiter lines may end in CRLF; part
 * header lines in CRLF or LF. A preamble before the first delimiter is
 * skipped (counted in the cap). Errors (sticky): MALFORMED_POST for
 * anything not multipart/form-data, MAX_POST_PRE_DATA for too much before
 * the file, INCOMPLETE_BODY for a source error or a body that ends early.
 * One form per request; not thread-safe; the struct is large (allocate it).
 *
 * Policy rules (AWS "Creating a POST policy"): the policy is base64 of a
 * JSON object with "expiration" (ISO 8601, UTC; now at or after it is
 * "Policy expired.", more than S3_PRESIGN_MAX (7 days) after now is
 * POLICY_EXPIRATION_TOO_LONG) and "conditions", an array of
 *   {"field": "value"}                  exact match (one member or more),
 *   ["eq", "$field", "value"]           exact match,
 *   ["starts-with", "$field", "prefix"] prefix ("" matches anything;
 *                                       Content-Type: every comma-separated
 *                                       value must have the prefix),
 *   ["content-length-range", min, max]  the file's size, checked by the
 *                                       caller while it streams.
 * The document is read by libjansson: a key named twice anywhere is an
 * invalid policy; a number given as a value compares as its text (an
 * integer exactly, a fraction as json_fmt_double writes it); the bounds of
 * content-length-range are integers from 0 to INT64_MAX.
 * Field names compare case-insensitively; "bucket" is the request's
 * bucket; a field absent from the form matches as "". Every form field but
 * file, policy, x-amz-signature, signature, AWSAccessKeyId, x-ignore-* and
 * the checksum fields (x-amz-checksum-*, see s3_form_checksum) must be
 * named by a condition ("Extra input fields: ...").
 */
#ifndef S3_S3_FORM_H
#define S3_S3_FORM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/checksum.h"
#include "s3/s3_auth.h"
#include "s3/s3_err.h"

#define S3_FORM_PRE_MAX (20 * 1024)  /* bytes before the file's data */
#define S3_FORM_FIELDS_MAX 64
#define S3_FORM_BOUNDARY_MAX 70       /* RFC 2046 */
#define S3_FORM_NAME_MAX 1024         /* the file part's filename, its type */
#define S3_FORM_EXPAND_MAX (64 * 1024) /* field values after ${filename} */

struct s3_form_field {
	const char *name;   /* as sent */
	const char *value;  /* NUL-terminated; may hold a NUL before value_len */
	size_t value_len;
};

struct s3_form {
	/* results, valid once s3_form_fields returned */
	struct s3_form_field fields[S3_FORM_FIELDS_MAX];
	int nfields;
	char file_name[S3_FORM_NAME_MAX + 1];  /* the file part's filename="", or "" */
	char file_type[S3_FORM_NAME_MAX + 1];  /* its Content-Type, or "" */
	/* private */
	s3_read_fn read;
	void *arg;
	char delim[4 + S3_FORM_BOUNDARY_MAX + 1]; /* "\r\n--" boundary */
	size_t dlen;
	unsigned char in[8192];
	size_t pos, len;
	uint64_t consumed;   /* bytes consumed before the file's data */
	int state;
	enum s3_err err;
	char part_name[256];
	char arena[S3_FORM_PRE_MAX + 2 * S3_FORM_FIELDS_MAX];
	size_t arena_len;
	/* the values s3_form_expand rewrote */
	char expanded[S3_FORM_EXPAND_MAX];
	size_t expanded_len;
};

/* The boundary of "multipart/form-data; boundary=..." (quoted or not), the
 * media type compared case-insensitively. 0, or -1 if it is another type
 * or the boundary is missing, empty or over 70 characters. */
int s3_form_boundary(const char *content_type, char out[S3_FORM_BOUNDARY_MAX + 1]);

void s3_form_init(struct s3_form *f, const char *boundary, s3_read_fn read, void *arg);
/* Reads the parts before the one named "file" into f->fields. S3_ERR_OK
 * when positioned at the file's data; MISSING_FILE if the body ends first. */
enum s3_err s3_form_fields(struct s3_form *f);
/* The file's bytes: >0, 0 at its closing delimiter, -1 with *err. */
long s3_form_read(struct s3_form *f, void *buf, size_t len, enum s3_err *err);
/* The first field named name (case-insensitive), or NULL. */
const struct s3_form_field *s3_form_get(const struct s3_form *f, const char *name);

/*
 * ${filename}: AWS replaces it in every form field with the name of the
 * file the client gave (the part's filename, only what follows its last
 * '/' or '\\'), before anything reads the fields, so a policy condition
 * on $key sees the key the object gets. Called once, after s3_form_fields;
 * the fields that sign the form (policy, the signature fields) are left as
 * they are. MAX_POST_PRE_DATA if the values grow past S3_FORM_EXPAND_MAX.
 */
enum s3_err s3_form_expand(struct s3_form *f);

/*
 * The checksum a form asks the file to be verified against: one field
 * x-amz-checksum-<alg> (crc32, crc32c, crc64nvme, sha1, sha256), and
 * x-amz-checksum-algorithm, if given, naming the same algorithm. *alg is
 * CHECKSUM_NONE (and *value NULL) when there is none. CHECKSUM_MULTIPLE
 * for two, CHECKSUM_ALG for an unknown or disagreeing algorithm,
 * CHECKSUM_MISSING for an algorithm without its value. Such fields need no
 * policy condition: they protect the bytes and allow nothing.
 */
enum s3_err s3_form_checksum(const struct s3_form *f, enum checksum_alg *alg,
			     const char **value);

/* What a policy check leaves for the caller to enforce while it streams. */
struct s3_policy_limits {
	uint64_t min_size, max_size;  /* content-length-range; 0..UINT64_MAX if none */
};

/*
 * Checks the base64 policy against the form's fields and bucket at now.
 * S3_ERR_OK and *lim; else INVALID_POLICY (not base64 of a JSON object, no
 * or malformed expiration or conditions, an unknown condition), the
 * POLICY_* errors, with msg (size msgsize) filled with AWS's message for
 * them ("Invalid according to Policy: ...").
 */
enum s3_err s3_policy_check(const char *policy_b64, size_t len, const struct s3_form *f,
			    const char *bucket, time_t now, struct s3_policy_limits *lim,
			    char *msg, size_t msgsize);

/*
 * The field a signed form lacks, or NULL: a form with none of policy,
 * x-amz-algorithm, x-amz-credential, x-amz-signature, AWSAccessKeyId,
 * signature is unsigned (anonymous); one with any of them must have the
 * whole set of one signature version, SigV4's (x-amz-algorithm,
 * x-amz-credential, x-amz-signature) or SigV2's (AWSAccessKeyId,
 * signature), and policy. A policy alone names AWSAccessKeyId.
 */
const char *s3_form_missing_field(const struct s3_form *f);

/*
 * Authenticates a form: SigV4 (x-amz-algorithm AWS4-HMAC-SHA256,
 * x-amz-credential, x-amz-signature = hex HMAC-SHA256 of the policy's base64
 * text under the credential's signing key) or SigV2 (AWSAccessKeyId,
 * signature = base64 HMAC-SHA1(secret, policy base64)). Fills user (the
 * key's user) and *anonymous. In S3_AUTH_SIMPLE nothing is verified: the
 * user is the access key named, anonymous if none or an empty
 * AWSAccessKeyId. Errors: POST_FIELD_MISSING (in SigV4 mode, a
 * signature field without the rest of its set: s3_form_missing_field says
 * which, as AWS's 400 InvalidArgument does), INVALID_ARGUMENT (an unknown
 * x-amz-algorithm, a malformed credential), INVALID_ACCESS_KEY,
 * SIGNATURE_MISMATCH.
 */
enum s3_err s3_form_auth(enum s3_auth_mode mode, const struct s3_form *f,
			 s3_secret_fn secret_fn, void *arg, char *user, size_t user_size,
			 int *anonymous);

#endif
