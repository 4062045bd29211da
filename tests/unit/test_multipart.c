/* Multipart uploads: the ETag rule (src/multipart.c), the Complete body
 * parser (s3/s3_multipart.c), and the core's upload lifecycle over a temp
 * data dir — errors that leave the upload intact, listing order and pages,
 * restarts, and the start-up sweep of staged parts no upload names. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/hash.h"
#include "common/log.h"
#include "s3/s3_int.h"
#include "src/core_int.h"
#include "tests/unit/core_fixture.h"

static const struct atr_user root = { .name = "root", .superuser = 1 };
static const struct atr_user bob = { .name = "bob", .superuser = 0 };


static int setup(void **state)
{
	*state = fixture_new(4096, &root);
	return 0;
}

static int teardown(void **state)
{
	return fixture_teardown(state);
}

static void restart(struct fixture *f)
{
	atr_core_close(f->c);
	fixture_open(f);
}

/* Number of entries in DATA/ufs/.atrium/<sub> (-1 if it does not exist). */
static int count_files(struct fixture *f, const char *sub)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/ufs/.atrium/%s", f->dir, sub);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Staged part files of upload id (-1: it has no folder). */
static int count_parts(struct fixture *f, const char *id)
{
	char sub[64];
	snprintf(sub, sizeof(sub), "mpu/%s", id);
	return count_files(f, sub);
}

static int part(struct atr_core *c, const char *key, const char *id, int number, const char *data,
		struct atr_mpu_part *out)
{
	struct atr_part_writer *w;
	int rc = atr_mpu_part_begin(c, &root, "bkt", key, id, number, &w);
	if (rc)
		return rc;
	if ((rc = atr_mpu_part_write(w, data, strlen(data)))) {
		atr_mpu_part_abort(w);
		return rc;
	}
	return atr_mpu_part_commit(w, out);
}

static char *get(struct atr_core *c, const char *key, char etag[ATR_ETAG_MAX + 1])
{
	struct atr_obj o;
	char *out = fixture_get(c, &root, "bkt", key, &o);
	if (out && etag)
		memcpy(etag, o.etag, ATR_ETAG_MAX + 1);
	if (out)
		atr_obj_release(&o);
	return out;
}

static void name(struct atr_mpu_part *p, int number, const char *etag)
{
	memset(p, 0, sizeof(*p));
	p->number = number;
	snprintf(p->etag, sizeof(p->etag), "%s", etag);
}

/* ---- the ETag rule ---- */

static void etag_rule(void **state)
{
	unsigned char md5s[3][16];
	char out[ATR_ETAG_MAX + 1];
	md5("abc", 3, md5s[0]);
	atr_mpu_etag((const unsigned char (*)[16])md5s, 1, out);
	assert_string_equal(out, "af5da9f45af7a300e3aded972f8ff687-1");
	md5("hello ", 6, md5s[0]);
	md5("world", 5, md5s[1]);
	atr_mpu_etag((const unsigned char (*)[16])md5s, 2, out);
	assert_string_equal(out, "e09e4fd6265b36115fe3db32df945d84-2");
	for (int i = 0; i < 3; i++) {
		char seven[7];
		memset(seven, i, sizeof(seven));
		md5(seven, sizeof(seven), md5s[i]);
	}
	atr_mpu_etag((const unsigned char (*)[16])md5s, 3, out);
	assert_string_equal(out, "3008628152e66bea4a35f124f7545af0-3");
}

/* ---- CompleteMultipartUpload bodies ---- */

static void complete_xml(void **state)
{
	static const struct {
		const char *xml;
		enum s3_err e;
		int n;
		int first, last;
		const char *etag0;
	} cases[] = {
		{ "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		  "<Part><PartNumber>1</PartNumber><ETag>\"ABCdef\"</ETag></Part>"
		  "<Part><ETag>&quot;x&quot;</ETag><PartNumber> 3 </PartNumber>"
		  "<ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>"
		  "</CompleteMultipartUpload>", S3_ERR_OK, 2, 1, 3, "ABCdef" },
		{ "<?xml version=\"1.0\"?>\n<CompleteMultipartUpload>\n  <Part>\n"
		  "    <PartNumber>2</PartNumber>\n    <ETag>\n e1 \n</ETag>\n  </Part>\n"
		  "</CompleteMultipartUpload>", S3_ERR_OK, 1, 2, 2, "e1" },
		/* A number no part can have is the core's InvalidPart. */
		{ "<CompleteMultipartUpload><Part><PartNumber>99999999999</PartNumber>"
		  "<ETag>e</ETag></Part></CompleteMultipartUpload>", S3_ERR_OK, 1,
		  ATR_PART_MAX + 1, ATR_PART_MAX + 1, "e" },
		{ "", S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "not xml", S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "<CompleteMultipartUpload>", S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "<CompleteMultipartUpload/>", S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "<Complete><Part><PartNumber>1</PartNumber><ETag>e</ETag></Part></Complete>",
		  S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
		  "</CompleteMultipartUpload>", S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "<CompleteMultipartUpload><Part><ETag>e</ETag></Part>"
		  "</CompleteMultipartUpload>", S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>e</ETag>"
		  "</Part></CompleteMultipartUpload>", S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>e</ETag>"
		  "</Part></CompleteMultipartUpload>", S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
		{ "<!DOCTYPE x [<!ENTITY a \"1\">]><CompleteMultipartUpload><Part><PartNumber>&a;"
		  "</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>",
		  S3_ERR_MALFORMED_XML, 0, 0, 0, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct atr_mpu_part *parts = (void *)1;
		int n = -1;
		enum s3_err e = s3_mpu_parse_complete(cases[i].xml, strlen(cases[i].xml), &parts, &n);
		assert_int_equal(e, cases[i].e);
		assert_int_equal(n, cases[i].n);
		if (e) {
			assert_null(parts);
			continue;
		}
		assert_int_equal(parts[0].number, cases[i].first);
		assert_int_equal(parts[n - 1].number, cases[i].last);
		assert_string_equal(parts[0].etag, cases[i].etag0);
		free(parts);
	}
	/* 10,000 parts is the most a completion names. */
	struct buf b = BUF_INIT(8 << 20);
	assert_int_equal(buf_addstr(&b, "<CompleteMultipartUpload>"), 0);
	for (int i = 1; i <= ATR_PART_MAX + 1; i++) {
		struct atr_mpu_part *parts;
		int n;
		assert_int_equal(buf_addf(&b, "<Part><PartNumber>%d</PartNumber><ETag>e</ETag></Part>",
					  i), 0);
		if (i < ATR_PART_MAX)
			continue;
		struct buf whole = BUF_INIT(8 << 20);
		assert_int_equal(buf_add(&whole, b.ptr, b.len), 0);
		assert_int_equal(buf_addstr(&whole, "</CompleteMultipartUpload>"), 0);
		enum s3_err e = s3_mpu_parse_complete(whole.ptr, whole.len, &parts, &n);
		if (i == ATR_PART_MAX) {
			assert_int_equal(e, S3_ERR_OK);
			assert_int_equal(n, ATR_PART_MAX);
			assert_int_equal(parts[n - 1].number, ATR_PART_MAX);
			free(parts);
		} else {
			assert_int_equal(e, S3_ERR_MALFORMED_XML);
		}
		buf_release(&whole);
	}
	buf_release(&b);
}

/* ---- the core ---- */

struct progress {
	int calls;
	uint64_t first_done, last_done, total;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	if (!p->calls++)
		p->first_done = done;
	p->last_done = done;
	p->total = total;
}

static void lifecycle(void **state)
{
	struct fixture *f = *state;
	char id[ATR_UPLOAD_ID_LEN + 1], etag[ATR_ETAG_MAX + 1];
	struct atr_mpu_part p1, p2, p3, names[3];
	struct progress prog = { 0 };
	struct atr_obj obj;

	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "d/big", "Content-Type: a/b\r\n", id),
			 ATR_OK);
	assert_int_equal(strlen(id), ATR_UPLOAD_ID_LEN);
	/* Parts in any order; a part number sent again replaces the part. */
	assert_int_equal(part(f->c, "d/big", id, 3, "ccc", &p3), ATR_OK);
	assert_int_equal(part(f->c, "d/big", id, 1, "first!", &p1), ATR_OK);
	assert_int_equal(part(f->c, "d/big", id, 2, "old-two", &p2), ATR_OK);
	assert_int_equal(part(f->c, "d/big", id, 2, "second", &p2), ATR_OK);
	assert_int_equal(count_parts(f, id), 3); /* the replaced part's file is gone */
	assert_int_equal(p2.size, 6);
	/* Nothing is visible before completion. */
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "d/big", &obj), ATR_E_NO_KEY);

	name(&names[0], 1, p1.etag);
	name(&names[1], 2, p2.etag);
	name(&names[2], 3, p3.etag);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "d/big", id, names, 3, 6,
					  on_progress, &prog, &obj), ATR_OK);
	assert_int_equal(prog.first_done, 0);
	assert_int_equal(prog.total, 15);
	assert_int_equal(prog.last_done, 15);

	unsigned char md5s[3][16];
	char want[ATR_ETAG_MAX + 1];
	md5("first!", 6, md5s[0]);
	md5("second", 6, md5s[1]);
	md5("ccc", 3, md5s[2]);
	atr_mpu_etag((const unsigned char (*)[16])md5s, 3, want);
	assert_string_equal(obj.etag, want);
	char *s = get(f->c, "d/big", etag);
	assert_string_equal(s, "first!secondccc");
	assert_string_equal(etag, want);
	free(s);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "d/big", &obj), ATR_OK);
	assert_string_equal(obj.hdrs, "Content-Type: a/b\r\n");
	assert_string_equal(obj.owner, "root");
	atr_obj_release(&obj);

	/* The upload is over: no rows, no staged bytes. */
	assert_int_equal(atr_mpu_abort(f->c, &root, "bkt", "d/big", id), ATR_E_NO_UPLOAD);
	assert_int_equal(part(f->c, "d/big", id, 1, "x", NULL), ATR_E_NO_UPLOAD);
	assert_int_equal(count_files(f, "mpu"), 0);
	assert_int_equal(count_files(f, "tmp"), 0);

	/* Completing over an object replaces it; unnamed parts are dropped. */
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "d/big", NULL, id), ATR_OK);
	assert_int_equal(part(f->c, "d/big", id, 5, "five", &p1), ATR_OK);
	assert_int_equal(part(f->c, "d/big", id, 7, "seven", &p2), ATR_OK);
	name(&names[0], 7, p2.etag);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "d/big", id, names, 1, 5 << 20,
					  NULL, NULL, &obj), ATR_OK);
	s = get(f->c, "d/big", NULL);
	assert_string_equal(s, "seven");
	free(s);
	assert_int_equal(count_files(f, "mpu"), 0);
}

static void errors_leave_upload_intact(void **state)
{
	struct fixture *f = *state;
	char id[ATR_UPLOAD_ID_LEN + 1], other[ATR_UPLOAD_ID_LEN + 1];
	struct atr_mpu_part p1, p2, names[2];
	struct atr_part_writer *w;
	struct atr_obj obj;

	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "k", NULL, id), ATR_OK);
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "other", NULL, other), ATR_OK);
	assert_int_equal(atr_mpu_create(f->c, &root, "nobkt", "k", NULL, other), ATR_E_NO_BUCKET);
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "a/../b", NULL, other),
			 ATR_E_INVALID_KEY);
	assert_int_equal(atr_mpu_create(f->c, &bob, "bkt", "k", NULL, other), ATR_E_ACCESS);
	/* Part numbers are 1..10000. */
	assert_int_equal(atr_mpu_part_begin(f->c, &root, "bkt", "k", id, 0, &w), ATR_E_INVALID_ARG);
	assert_int_equal(atr_mpu_part_begin(f->c, &root, "bkt", "k", id, 10001, &w),
			 ATR_E_INVALID_ARG);
	/* Unknown, malformed, or another key's upload. */
	assert_int_equal(part(f->c, "k", "0123456789abcdef0123456789abcdef", 1, "x", NULL),
			 ATR_E_NO_UPLOAD);
	assert_int_equal(part(f->c, "k", "../../../etc", 1, "x", NULL), ATR_E_NO_UPLOAD);
	assert_int_equal(part(f->c, "other", id, 1, "x", NULL), ATR_E_NO_UPLOAD);
	assert_int_equal(atr_mpu_part_begin(f->c, &bob, "bkt", "k", id, 1, &w), ATR_E_ACCESS);

	assert_int_equal(part(f->c, "k", id, 1, "0123456789", &p1), ATR_OK);
	assert_int_equal(part(f->c, "k", id, 2, "tail", &p2), ATR_OK);
	name(&names[0], 1, p1.etag);
	name(&names[1], 2, p2.etag);
	/* Not ascending. */
	struct atr_mpu_part rev[2] = { names[1], names[0] }, dup[2] = { names[0], names[0] };
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, rev, 2, 0, NULL, NULL, &obj),
			 ATR_E_PART_ORDER);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, dup, 2, 0, NULL, NULL, &obj),
			 ATR_E_PART_ORDER);
	/* A part that is not there, or a wrong ETag (case does not matter). */
	struct atr_mpu_part missing[2] = { names[0], names[1] };
	missing[1].number = 3;
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, missing, 2, 0, NULL, NULL,
					  &obj), ATR_E_INVALID_PART);
	struct atr_mpu_part wrong[2] = { names[0], names[1] };
	wrong[0].etag[0] = wrong[0].etag[0] == 'a' ? 'b' : 'a';
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, wrong, 2, 0, NULL, NULL,
					  &obj), ATR_E_INVALID_PART);
	/* Every part but the last must reach the minimum. */
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, names, 2, 11, NULL, NULL,
					  &obj), ATR_E_PART_TOO_SMALL);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, names, 0, 0, NULL, NULL,
					  &obj), ATR_E_INVALID_ARG);
	assert_int_equal(atr_mpu_complete(f->c, &bob, "bkt", "k", id, names, 2, 0, NULL, NULL,
					  &obj), ATR_E_ACCESS);
	/* A tree conflict found at commit: still there afterwards. (An object
	 * "file" is none, the side form; a file put in the tree behind our
	 * back, not met yet, is.) */
	char path[PATH_MAX];
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "file/below", NULL, other), ATR_OK);
	assert_int_equal(part(f->c, "file/below", other, 1, "zz", &p1), ATR_OK);
	snprintf(path, sizeof(path), "%s/ufs/bkt/file", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("f", fp);
	fclose(fp);
	struct atr_mpu_part one;
	name(&one, 1, p1.etag);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "file/below", other, &one, 1, 0,
					  NULL, NULL, &obj), ATR_E_PARENT_IS_OBJECT);
	assert_int_equal(count_files(f, "tmp"), 0); /* the assembled stage is gone */
	assert_int_equal(atr_object_delete(f->c, &root, "bkt", "file"), ATR_OK);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "file/below", other, &one, 1, 0,
					  NULL, NULL, &obj), ATR_OK);

	/* After all that, the first upload completes as named. */
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, names, 2, 10, NULL, NULL,
					  &obj), ATR_OK);
	char *s = get(f->c, "k", NULL);
	assert_string_equal(s, "0123456789tail");
	free(s);

	/* A retry of that completion: the same answer, nothing done; another
	 * part list, key or user is NoSuchUpload (and so is an abort). */
	struct atr_obj again;
	uint64_t ino = obj.ino;
	char etag[ATR_ETAG_MAX + 1];
	snprintf(etag, sizeof(etag), "%s", obj.etag);
	for (int i = 0; names[0].etag[i]; i++) /* ETags compare case-insensitively */
		names[0].etag[i] = (char)toupper((unsigned char)names[0].etag[i]);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, names, 2, 10, NULL, NULL,
					  &again), ATR_OK);
	assert_string_equal(again.etag, etag);
	assert_true(again.ino == ino);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, names, 1, 10, NULL, NULL,
					  &again), ATR_E_NO_UPLOAD);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "other", id, names, 2, 10, NULL,
					  NULL, &again), ATR_E_NO_UPLOAD);
	assert_int_equal(atr_mpu_complete(f->c, &bob, "bkt", "k", id, names, 2, 10, NULL, NULL,
					  &again), ATR_E_NO_UPLOAD);
	assert_int_equal(atr_mpu_abort(f->c, &root, "bkt", "k", id), ATR_E_NO_UPLOAD);
}

struct listed {
	char items[16][80];
	int n;
};

static int collect_part(void *arg, const struct atr_mpu_part *p)
{
	struct listed *l = arg;
	snprintf(l->items[l->n++], 80, "%d", p->number);
	return 0;
}

static int collect_upload(void *arg, const struct atr_mpu_item *it)
{
	struct listed *l = arg;
	if (it->is_prefix)
		snprintf(l->items[l->n++], 80, "P:%s", it->key);
	else
		snprintf(l->items[l->n++], 80, "%s %.4s", it->key, it->upload->upload_id + 28);
	return 0;
}

static void list_pages(void **state)
{
	struct fixture *f = *state;
	char id[ATR_UPLOAD_ID_LEN + 1], ids[6][ATR_UPLOAD_ID_LEN + 1];
	struct listed l;
	struct atr_mpu up;
	int truncated;

	/* ListParts: numbered order, pages after a marker. */
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "p", NULL, id), ATR_OK);
	for (int n = 5; n >= 1; n--)
		assert_int_equal(part(f->c, "p", id, n * 2, "x", NULL), ATR_OK);
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list_parts(f->c, &root, "bkt", "p", id, 0, 2, &up, collect_part,
					    &l, &truncated), ATR_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0], "2");
	assert_string_equal(l.items[1], "4");
	assert_true(truncated);
	assert_string_equal(up.upload_id, id);
	assert_string_equal(up.owner, "root");
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list_parts(f->c, &root, "bkt", "p", id, 4, 3, NULL, collect_part,
					    &l, &truncated), ATR_OK);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[2], "10");
	assert_false(truncated);
	assert_int_equal(atr_mpu_list_parts(f->c, &root, "bkt", "q", id, 0, 3, NULL, collect_part,
					    &l, &truncated), ATR_E_NO_UPLOAD);

	/* ListMultipartUploads: key order, then creation order within a key. */
	const char *keys[6] = { "b", "a/2", "a/1", "b", "a-b", "c" };
	for (int i = 0; i < 6; i++)
		assert_int_equal(atr_mpu_create(f->c, &root, "bkt", keys[i], NULL, ids[i]), ATR_OK);
	assert_true(strcmp(ids[0], ids[3]) < 0);
	struct atr_mpu_list_params p = { .prefix = "", .max = 100 };
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &p, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 7);
	assert_false(truncated);
	/* '-' sorts before '/' (S3's binary order). */
	const char *want[] = { "a-b", "a/1", "a/2", "b", "b", "c", "p" };
	for (int i = 0; i < 7; i++)
		assert_int_equal(strncmp(l.items[i], want[i], strlen(want[i])), 0);
	assert_string_equal(l.items[3] + 2, ids[0] + 28);
	assert_string_equal(l.items[4] + 2, ids[3] + 28);

	/* Delimiter: a/ rolls up; a page ending on a prefix resumes after it. */
	p.delimiter = "/";
	p.max = 2;
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &p, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 2);
	assert_true(strncmp(l.items[0], "a-b ", 4) == 0);
	assert_string_equal(l.items[1], "P:a/");
	assert_true(truncated);
	p.key_marker = "a/";
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &p, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 2);
	assert_true(strncmp(l.items[0], "b ", 2) == 0 && strncmp(l.items[1], "b ", 2) == 0);
	assert_true(truncated);
	/* key-marker with upload-id-marker: the rest of that key's uploads. */
	p.key_marker = "b";
	p.upload_id_marker = ids[0];
	p.max = 100;
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &p, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.items[0] + 2, ids[3] + 28);
	assert_true(strncmp(l.items[1], "c ", 2) == 0);
	/* Without upload-id-marker: keys above the marker only. */
	p.upload_id_marker = NULL;
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &p, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 2);
	/* Prefix. */
	struct atr_mpu_list_params q = { .prefix = "a/", .max = 100 };
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &q, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 2);
	assert_true(strncmp(l.items[0], "a/1 ", 4) == 0);
	q.max = 0;
	memset(&l, 0, sizeof(l));
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &q, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 0);
	assert_true(truncated);
}

static void restart_and_sweep(void **state)
{
	struct fixture *f = *state;
	char id[ATR_UPLOAD_ID_LEN + 1], gone[ATR_UPLOAD_ID_LEN + 1], path[256];
	struct atr_mpu_part p1, p2, names[2];
	struct atr_obj obj;

	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "r", NULL, id), ATR_OK);
	assert_int_equal(part(f->c, "r", id, 1, "abc", &p1), ATR_OK);
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "g", NULL, gone), ATR_OK);
	assert_int_equal(part(f->c, "g", gone, 1, "abc", NULL), ATR_OK);
	assert_int_equal(atr_mpu_abort(f->c, &root, "bkt", "g", gone), ATR_OK);
	assert_int_equal(count_parts(f, gone), -1);

	atr_core_close(f->c);
	/* What a crash can leave: an upload folder no row names, a part
	 * file no row names (renamed in, row never written), a stage. */
	snprintf(path, sizeof(path), "%s/ufs/.atrium/mpu/%s", f->dir, gone);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/ufs/.atrium/mpu/%s/00001-x", f->dir, gone);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/ufs/.atrium/mpu/not-an-upload", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/ufs/.atrium/mpu/%s/00001-stray", f->dir, id);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/ufs/.atrium/mpu/%s/junk", f->dir, id);
	fclose(fopen(path, "w"));
	fixture_open(f);
	assert_int_equal(count_files(f, "mpu"), 1);
	assert_int_equal(count_parts(f, id), 1);

	/* Still listed, still completable, across restarts. */
	struct listed l = { 0 };
	struct atr_mpu_list_params p = { .prefix = "", .max = 10 };
	int truncated;
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &p, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 1);
	assert_int_equal(part(f->c, "r", id, 2, "de", &p2), ATR_OK);
	restart(f);
	name(&names[0], 1, p1.etag);
	name(&names[1], 2, p2.etag);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "r", id, names, 2, 0, NULL, NULL,
					  &obj), ATR_OK);
	char *s = get(f->c, "r", NULL);
	assert_string_equal(s, "abcde");
	free(s);
	assert_int_equal(count_files(f, "mpu"), 0);
}

static void deleted_bucket_drops_uploads(void **state)
{
	struct fixture *f = *state;
	char id[ATR_UPLOAD_ID_LEN + 1], kept[ATR_UPLOAD_ID_LEN + 1];
	struct listed l = { 0 };
	int truncated;
	assert_int_equal(atr_bucket_create(f->c, &root, "gone", "", NULL, -1), ATR_OK);
	assert_int_equal(atr_mpu_create(f->c, &root, "gone", "k", NULL, id), ATR_OK);
	struct atr_part_writer *w;
	assert_int_equal(atr_mpu_part_begin(f->c, &root, "gone", "k", id, 1, &w), ATR_OK);
	assert_int_equal(atr_mpu_part_write(w, "abc", 3), ATR_OK);
	assert_int_equal(atr_mpu_part_commit(w, NULL), ATR_OK);
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "k", NULL, kept), ATR_OK);
	/* Uploads in progress do not keep a bucket from being deleted... */
	assert_int_equal(atr_bucket_delete(f->c, &root, "gone"), ATR_OK);
	assert_int_equal(count_parts(f, id), -1);
	/* ...and do not come back with a new bucket of that name. */
	assert_int_equal(atr_bucket_create(f->c, &root, "gone", "", NULL, -1), ATR_OK);
	struct atr_mpu_list_params p = { .prefix = "", .max = 10 };
	assert_int_equal(atr_mpu_list(f->c, &root, "gone", &p, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(atr_mpu_abort(f->c, &root, "gone", "k", id), ATR_E_NO_UPLOAD);
	/* Other buckets' uploads stay. */
	assert_int_equal(atr_mpu_list(f->c, &root, "bkt", &p, collect_upload, &l, &truncated),
			 ATR_OK);
	assert_int_equal(l.n, 1);
}

/* The completed object keeps its parts' sizes (atr_object_part) and the
 * upload's tags; both survive a restart, a later PUT drops both. */
static void parts_and_tags_kept(void **state)
{
	struct fixture *f = *state;
	char id[ATR_UPLOAD_ID_LEN + 1];
	struct atr_mpu_part p[3], names[3];
	struct atr_obj obj;
	uint64_t off, len;
	int count;
	char *tags;
	/* The bucket and the object every signed-in user may read: the
	 * upload keeps the ACL until its completion. */
	struct atr_acl acl;
	assert_int_equal(atr_acl_canned("authenticated-read", &acl), ATR_OK);
	assert_int_equal(atr_acl_set(f->c, &root, "bkt", NULL, &acl), ATR_OK);
	struct atr_mpu_opts o = { .tags = "a=1", .acl = &acl };
	assert_int_equal(atr_mpu_create_with(f->c, &root, "bkt", "k", &o, id), ATR_OK);
	assert_int_equal(part(f->c, "k", id, 1, "aaaa", &p[0]), ATR_OK);
	assert_int_equal(part(f->c, "k", id, 2, "bb", &p[1]), ATR_OK);
	assert_int_equal(part(f->c, "k", id, 5, "ccccccc", &p[2]), ATR_OK);
	for (int i = 0; i < 3; i++)
		name(&names[i], p[i].number, p[i].etag);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "k", id, names, 3, 0, NULL, NULL,
					  &obj), ATR_OK);
	restart(f);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "k", &obj), ATR_OK);
	static const struct { int number, rc; uint64_t off, len; } want[] = {
		{ 1, ATR_OK, 0, 4 }, { 2, ATR_OK, 4, 2 }, { 3, ATR_OK, 6, 7 },
		{ 4, ATR_E_INVALID_PART, 0, 0 }, { 0, ATR_E_INVALID_ARG, 0, 0 },
		{ ATR_PART_MAX + 1, ATR_E_INVALID_ARG, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(atr_object_part(f->c, &obj, want[i].number, &off, &len, &count),
				 want[i].rc);
		if (!want[i].rc) {
			assert_int_equal(off, want[i].off);
			assert_int_equal(len, want[i].len);
			assert_int_equal(count, 3);
		}
	}
	atr_obj_release(&obj);
	assert_int_equal(atr_object_tags_get(f->c, &root, "bkt", "k", &tags), ATR_OK);
	assert_string_equal(tags, "a=1");
	free(tags);
	assert_int_equal(atr_object_stat(f->c, &bob, "bkt", "k", &obj), ATR_OK);
	assert_int_equal(obj.mode, 0644);
	atr_obj_release(&obj);
	/* bob may read the tags (authenticated-read) but not change them */
	assert_int_equal(atr_object_tags_set(f->c, &bob, "bkt", "k", "b=2"), ATR_E_ACCESS);
	assert_int_equal(atr_object_tags_set(f->c, &root, "bkt", "k", "b=2"), ATR_OK);
	assert_int_equal(atr_object_tags_get(f->c, &bob, "bkt", "k", &tags), ATR_OK);
	assert_string_equal(tags, "b=2");
	free(tags);
	/* A PUT makes a one-part object without tags. */
	struct atr_writer *w;
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "k", 3, &w), ATR_OK);
	assert_int_equal(atr_put_write(w, "new", 3), ATR_OK);
	assert_int_equal(atr_put_commit(w, NULL, NULL), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "k", &obj), ATR_OK);
	assert_int_equal(atr_object_part(f->c, &obj, 1, &off, &len, &count), ATR_OK);
	assert_true(off == 0 && len == 3 && count == 0);
	assert_int_equal(atr_object_part(f->c, &obj, 2, &off, &len, &count),
			 ATR_E_INVALID_PART);
	atr_obj_release(&obj);
	assert_int_equal(atr_object_tags_get(f->c, &root, "bkt", "k", &tags), ATR_OK);
	assert_string_equal(tags, "");
	free(tags);
	assert_int_equal(atr_object_tags_set(f->c, &root, "bkt", "nope", "a=1"), ATR_E_NO_KEY);
}

/* An upload with a checksum algorithm keeps it and each part's checksum
 * (a replaced part's goes with it); ListParts shows them, completion adds
 * the front end's headers and keeps the named parts' checksums with the
 * object; a restart keeps all, a PUT drops the object's. */
static int part_ck(struct atr_core *c, const char *id, int number, const char *data,
		   const char *ck, struct atr_mpu_part *out)
{
	struct atr_part_writer *w;
	int rc = atr_mpu_part_begin(c, &root, "bkt", "ck", id, number, &w);
	if (rc)
		return rc;
	assert_string_equal(atr_mpu_part_checksum_alg(w), "CRC32");
	if ((rc = atr_mpu_part_write(w, data, strlen(data))) ||
	    (rc = atr_mpu_part_set_checksum(w, ck))) {
		atr_mpu_part_abort(w);
		return rc;
	}
	return atr_mpu_part_commit(w, out);
}

struct ck_list {
	int n;
	struct atr_mpu_part p[8];
};

static int collect_ck(void *arg, const struct atr_mpu_part *p)
{
	struct ck_list *l = arg;
	l->p[l->n++] = *p;
	return 0;
}

static void part_checksums_kept(void **state)
{
	struct fixture *f = *state;
	char id[ATR_UPLOAD_ID_LEN + 1], sum[ATR_PART_CHECKSUM_MAX + 1], big[200];
	struct atr_mpu_part p[3], names[2];
	struct atr_mpu up;
	struct atr_obj obj;
	struct ck_list l = { 0 };
	uint64_t len;
	int truncated;
	struct atr_mpu_opts o = { .checksum_alg = "CRC32" };
	assert_int_equal(atr_mpu_create_with(f->c, &root, "bkt", "ck", &o, id), ATR_OK);
	assert_int_equal(part_ck(f->c, id, 1, "aaaa", "c1==", &p[0]), ATR_OK);
	assert_string_equal(p[0].checksum, "c1==");
	assert_int_equal(part_ck(f->c, id, 2, "bb", "old", &p[1]), ATR_OK);
	/* replaced without one: the old checksum goes */
	assert_int_equal(part_ck(f->c, id, 2, "bb", "", &p[1]), ATR_OK);
	assert_int_equal(part_ck(f->c, id, 3, "ccc", "c3==", &p[2]), ATR_OK);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(part_ck(f->c, id, 4, "d", big, NULL), ATR_E_INVALID_ARG);
	assert_int_equal(atr_mpu_list_parts(f->c, &root, "bkt", "ck", id, 0, 10, &up, collect_ck,
					    &l, &truncated), ATR_OK);
	assert_string_equal(up.checksum_alg, "CRC32");
	assert_int_equal(l.n, 3);
	assert_string_equal(l.p[0].checksum, "c1==");
	assert_string_equal(l.p[1].checksum, "");
	assert_string_equal(l.p[2].checksum, "c3==");
	restart(f);
	l.n = 0;
	assert_int_equal(atr_mpu_list_parts(f->c, &root, "bkt", "ck", id, 1, 10, &up, collect_ck,
					    &l, &truncated), ATR_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.p[1].checksum, "c3==");
	/* parts 1 and 3 complete the object */
	name(&names[0], 1, p[0].etag);
	name(&names[1], 3, p[2].etag);
	assert_int_equal(atr_mpu_complete_with(f->c, &root, "bkt", "ck", id, names, 2, 0,
					       "x-amz-checksum-crc32: whole-2\r\n", NULL, NULL, NULL,
					       &obj), ATR_OK);
	restart(f);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "ck", &obj), ATR_OK);
	assert_non_null(strstr(obj.hdrs, "x-amz-checksum-crc32: whole-2\r\n"));
	assert_int_equal(atr_object_part_checksum(f->c, &obj, 1, sum, sizeof(sum), &len), ATR_OK);
	assert_string_equal(sum, "c1==");
	assert_int_equal(len, 4);
	assert_int_equal(atr_object_part_checksum(f->c, &obj, 2, sum, sizeof(sum), &len), ATR_OK);
	assert_string_equal(sum, "c3==");
	assert_int_equal(len, 3);
	assert_int_equal(atr_object_part_checksum(f->c, &obj, 3, sum, sizeof(sum), &len),
			 ATR_E_INVALID_PART);
	assert_int_equal(atr_object_part_checksum(f->c, &obj, 0, sum, sizeof(sum), &len),
			 ATR_E_INVALID_PART);
	atr_obj_release(&obj);
	/* a PUT makes a one-part object: none */
	struct atr_writer *w;
	assert_int_equal(atr_put_begin(f->c, &root, "bkt", "ck", 3, &w), ATR_OK);
	assert_int_equal(atr_put_write(w, "new", 3), ATR_OK);
	assert_int_equal(atr_put_commit(w, NULL, NULL), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "ck", &obj), ATR_OK);
	assert_int_equal(atr_object_part_checksum(f->c, &obj, 1, sum, sizeof(sum), &len),
			 ATR_E_NO_KEY);
	atr_obj_release(&obj);
	/* an upload without an algorithm: none kept with the object either */
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "plain", NULL, id), ATR_OK);
	assert_int_equal(part(f->c, "plain", id, 1, "zz", &p[0]), ATR_OK);
	name(&names[0], 1, p[0].etag);
	assert_int_equal(atr_mpu_complete(f->c, &root, "bkt", "plain", id, names, 1, 0, NULL, NULL,
					  &obj), ATR_OK);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "plain", &obj), ATR_OK);
	assert_int_equal(atr_object_part_checksum(f->c, &obj, 1, sum, sizeof(sum), &len),
			 ATR_E_NO_KEY);
	atr_obj_release(&obj);
}

/* ChecksumALG elements of a Complete body come as "ALG:value". */
static void complete_xml_checksums(void **state)
{
	(void)state;
	static const char xml[] =
		"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>e</ETag>"
		"<ChecksumSHA256> q83vEjRWeJA= </ChecksumSHA256></Part>"
		"<Part><PartNumber>2</PartNumber><ETag>f</ETag></Part>"
		"<Part><PartNumber>3</PartNumber><ETag>g</ETag><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C>"
		"<ChecksumCRC32>BBBBBB==</ChecksumCRC32></Part></CompleteMultipartUpload>";
	struct atr_mpu_part *parts;
	int n;
	assert_int_equal(s3_mpu_parse_complete(xml, sizeof(xml) - 1, &parts, &n), S3_ERR_OK);
	assert_int_equal(n, 3);
	assert_string_equal(parts[0].checksum, "SHA256:q83vEjRWeJA=");
	assert_string_equal(parts[1].checksum, "");
	assert_string_equal(parts[2].checksum, "CRC32:BBBBBB=="); /* the first in S3's order */
	free(parts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(etag_rule),
		cmocka_unit_test(complete_xml),
		cmocka_unit_test_setup_teardown(lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(errors_leave_upload_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(list_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(restart_and_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_bucket_drops_uploads, setup, teardown),
		cmocka_unit_test_setup_teardown(parts_and_tags_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(part_checksums_kept, setup, teardown),
		cmocka_unit_test(complete_xml_checksums),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
