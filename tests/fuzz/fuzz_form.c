/*
 * fuzz_form — POST Object's form reader, policy checker and form
 * signatures (s3/s3_form.c).
 *
 * Input: a flags byte (bits 0-5: the source's read size - 1; bit 6: also
 * check the rest of the input, base64-encoded, as a policy document), then
 * the boundary up to the first '\n' (1..70 bytes), then the body.
 *
 * Properties: the outcome (error, fields, file name and type, the file's
 * bytes) does not depend on how the source splits the body; every field
 * value is NUL-terminated at its length; the fields and everything before
 * the file stay within S3_FORM_PRE_MAX; the file's bytes never hold the
 * delimiter; a policy check leaves a NUL-terminated message and sane
 * limits; form authentication never crashes and, in simple mode, names a
 * user only when it says OK.
 */
#include <string.h>

#include "common/hash.h"
#include "s3/s3_form.h"
#include "tests/fuzz/fuzz.h"

#define INPUT_MAX (128 * 1024)
#define NOW ((time_t)1369353600)

struct src {
	const uint8_t *data;
	size_t len, pos, step;
};

static long src_read(void *arg, void *buf, size_t len)
{
	struct src *s = arg;
	size_t n = s->len - s->pos;
	if (n > len)
		n = len;
	if (n > s->step)
		n = s->step;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (long)n;
}

struct outcome {
	enum s3_err err, file_err;
	unsigned char digest[SHA256_LEN];
	size_t file_len;
};

static int secret_of(void *arg, const char *ak, char *secret, size_t ssize, char *user,
		     size_t usize)
{
	if (strcmp(ak, "AKID"))
		return -1;
	snprintf(secret, ssize, "secret");
	snprintf(user, usize, "alice");
	return 0;
}

static void run(struct s3_form *f, const char *boundary, const uint8_t *body, size_t len,
		size_t step, struct outcome *o, int checks)
{
	struct src s = { body, len, 0, step };
	struct hash h;
	static unsigned char buf[70000];
	s3_form_init(f, boundary, src_read, &s);
	memset(o, 0, sizeof(*o));
	hash_init(&h, HASH_SHA256);
	o->err = s3_form_fields(f);
	if (o->err == S3_ERR_OK) {
		size_t used = 0;
		FUZZ_CHECK(f->nfields <= S3_FORM_FIELDS_MAX);
		for (int i = 0; i < f->nfields; i++) {
			FUZZ_CHECK(f->fields[i].value[f->fields[i].value_len] == '\0');
			used += strlen(f->fields[i].name) + f->fields[i].value_len;
		}
		FUZZ_CHECK(used <= S3_FORM_PRE_MAX);
		for (;;) {
			enum s3_err e = S3_ERR_OK;
			long n = s3_form_read(f, buf, 1 + (len % sizeof(buf)), &e);
			if (n < 0) {
				o->file_err = e;
				break;
			}
			if (n == 0)
				break;
			FUZZ_CHECK(!memmem(buf, (size_t)n, f->delim, f->dlen));
			hash_update(&h, buf, (size_t)n);
			o->file_len += (size_t)n;
		}
	}
	hash_final(&h, o->digest);
	if (!checks || o->err)
		return;
	enum checksum_alg alg;
	const char *ck;
	if (s3_form_checksum(f, &alg, &ck) == S3_ERR_OK)
		FUZZ_CHECK((alg == CHECKSUM_NONE) == (ck == NULL));
	(void)s3_form_missing_field(f);
	const struct s3_form_field *p = s3_form_get(f, "policy");
	if (p) {
		struct s3_policy_limits lim;
		char msg[256];
		enum s3_err e = s3_policy_check(p->value, p->value_len, f, "bucket", NOW, &lim, msg,
						sizeof(msg));
		FUZZ_CHECK(memchr(msg, '\0', sizeof(msg)) != NULL);
		(void)e;
	}
	char user[65];
	int anon;
	if (s3_form_auth(S3_AUTH_SIMPLE, f, secret_of, NULL, user, sizeof(user), &anon) ==
	    S3_ERR_OK)
		FUZZ_CHECK(anon ? user[0] == '\0' : user[0] != '\0');
	(void)s3_form_auth(S3_AUTH_SIGV4, f, secret_of, NULL, user, sizeof(user), &anon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct s3_form a, b;
	if (size < 2 || size > INPUT_MAX)
		return 0;
	size_t step = (size_t)(data[0] & 0x3f) + 1;
	int policy_mode = data[0] & 0x40;
	const uint8_t *nl = memchr(data + 1, '\n', size - 1);
	if (!nl)
		return 0;
	size_t blen = (size_t)(nl - data - 1);
	if (blen < 1 || blen > S3_FORM_BOUNDARY_MAX || memchr(data + 1, '\0', blen))
		return 0;
	char boundary[S3_FORM_BOUNDARY_MAX + 1];
	memcpy(boundary, data + 1, blen);
	boundary[blen] = '\0';
	const uint8_t *body = nl + 1;
	size_t len = size - (size_t)(body - data);

	struct outcome x, y;
	run(&a, boundary, body, len, step, &x, 1);
	run(&b, boundary, body, len, 1 << 20, &y, 0);
	FUZZ_CHECK(x.err == y.err);
	FUZZ_CHECK(x.file_err == y.file_err);
	FUZZ_CHECK(x.file_len == y.file_len);
	FUZZ_CHECK(!memcmp(x.digest, y.digest, sizeof(x.digest)));
	if (x.err == S3_ERR_OK) {
		FUZZ_CHECK(a.nfields == b.nfields);
		for (int i = 0; i < a.nfields; i++) {
			FUZZ_CHECK(!strcmp(a.fields[i].name, b.fields[i].name));
			FUZZ_CHECK(a.fields[i].value_len == b.fields[i].value_len);
			FUZZ_CHECK(!memcmp(a.fields[i].value, b.fields[i].value,
					   a.fields[i].value_len));
		}
		FUZZ_CHECK(!strcmp(a.file_name, b.file_name));
		FUZZ_CHECK(!strcmp(a.file_type, b.file_type));
		/* ${filename}, as s3_post.c does before reading the fields. */
		if (s3_form_expand(&a) == S3_ERR_OK) {
			FUZZ_CHECK(a.expanded_len <= sizeof(a.expanded));
			for (int i = 0; i < a.nfields; i++)
				FUZZ_CHECK(a.fields[i].value[a.fields[i].value_len] == '\0');
		}
	}
	if (policy_mode && len <= S3_FORM_PRE_MAX / 2) {
		/* The body itself as a policy document, against the form read. */
		static char enc[4 * ((S3_FORM_PRE_MAX / 2 + 2) / 3) + 1];
		struct s3_policy_limits lim;
		char msg[256];
		base64_encode(body, len, enc);
		if (s3_policy_check(enc, strlen(enc), &a, "bucket", NOW, &lim, msg, sizeof(msg)) ==
		    S3_ERR_OK)
			FUZZ_CHECK(msg[0] == '\0');
	}
	return 0;
}
