/*
 * The commit paths under a failing under-storage (src/ufs_fault.c between
 * the core and the local directory), and the core over a driver that
 * lacks capabilities (src/ufs_int.h).
 *
 * Each scenario (PUT of a new key and over an old object, a multipart
 * part, a multipart completion, CopyObject, a rename of a file over
 * another and of a directory, a hard link, the mount's commit to a file
 * with two names, the mount's rewrite, DELETE, and the side form's: a key
 * below an object, an object where a directory is, a directory key with
 * bytes, the DELETE of an object kept aside) runs with its 1st, 2nd...
 * UFS op failing, in each mode below, until it runs without reaching the
 * fault. After each run: a call that returned success left the object
 * wholly new; the core, opened again over the real directory without
 * faults, is consistent (every row's file is there with the row's size,
 * every file has a row, no stage is left, every part row's file is there,
 * every part area has its upload) and the object is wholly old or wholly
 * new, never a mix, through S3's reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/hash.h"
#include "common/log.h"
#include "src/ns_int.h"
#include "src/ufs_fault_int.h"
#include "tests/unit/core_fixture.h"

static const struct atr_user root = { .name = "root", .superuser = 1 };

#define OLD_LEN 5000
#define NEW_LEN 9000
#define PART1 3000
#define PART2 2500
#define HDR_OLD "Content-Type: text/old\r\n"
#define HDR_NEW "Content-Type: text/new\r\n"
#define CRASHED 42 /* a forked child's exit status at its crash */

static unsigned char old_bytes[OLD_LEN], new_bytes[NEW_LEN];
static unsigned long cases; /* fault cases run, all scenarios */

static void fill(unsigned char *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 9));
}

static void md5_hex(const void *data, size_t n, char out[ATR_ETAG_MAX + 1])
{
	unsigned char sum[MD5_LEN];
	md5(data, n, sum);
	hex_encode(sum, MD5_LEN, out);
}

/* ---- the data directory ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static struct fixture *fresh(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-fault-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->block_size = 4096;
	return f;
}

static void dispose(struct fixture *f)
{
	atr_core_close(f->c);
	assert_int_equal(nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
}

static struct ufs *wrap_fault(void *arg, struct ufs *inner)
{
	const struct ufs_fault_plan *plan = arg;
	struct ufs *u;
	return ufs_fault_new(inner, plan, &u) == ATR_OK ? u : NULL;
}

/* ---- objects ---- */

static int put(struct atr_core *c, const char *key, const void *data, size_t n, const char *hdrs)
{
	return fixture_put(c, &root, "bkt", key, data, n, hdrs);
}

/*
 * Whether version vid (NULL: the current one) of the object at key is
 * exactly data (n bytes), with ETag etag (NULL: the MD5 of data) and
 * stored headers holding hdr: 1; absent: 0; anything else: -1, said on
 * stdout.
 */
static int obj_version_is(struct atr_core *c, const char *key, const char *vid, const void *data,
			  size_t n, const char *etag, const char *hdr)
{
	char want[ATR_ETAG_MAX + 1];
	struct atr_obj o = { 0 };
	struct atr_reader *r;
	int rc = atr_object_version_open(c, &root, "bkt", key, vid, &o, &r);
	if (rc == ATR_E_NO_KEY)
		return 0;
	if (rc) {
		print_message("%s: %s\n", key, atr_strerror(rc));
		return -1;
	}
	if (!etag)
		md5_hex(data, n, want);
	int same = o.size == n && !strcmp(o.etag, etag ? etag : want) && o.hdrs &&
		   strstr(o.hdrs, hdr);
	for (uint64_t off = 0; same && off < o.size;) {
		const void *p;
		size_t len;
		if (atr_get_read(r, off, &p, &len) || !len || memcmp(p, (const char *)data + off, len))
			same = 0;
		off += len;
	}
	if (!same && getenv("FAULT_TRACE"))
		print_message("%s: %llu bytes, etag %s, hdrs %s\n", key,
			      (unsigned long long)o.size, o.etag, o.hdrs ? o.hdrs : "none");
	atr_get_close(r);
	atr_obj_release(&o);
	return same ? 1 : -1;
}

/* The same of the current version (vid NULL above). */
static int obj_is(struct atr_core *c, const char *key, const void *data, size_t n,
		  const char *etag, const char *hdr)
{
	return obj_version_is(c, key, NULL, data, n, etag, hdr);
}

/* ---- scenarios ---- */

enum { S_OLD, S_NEW, S_BAD };

struct ctx {
	struct fixture *f;
	struct atr_core *c;
	char upload[ATR_UPLOAD_ID_LEN + 1];
	struct atr_mpu_part parts[2];
	uint64_t node; /* the inode of "k" */
	char mpu_etag[ATR_ETAG_MAX + 1];
	const char *unlinked; /* a key whose row may outlive its file */
	char vid[ATR_VID_MAX + 1]; /* a version id the setup made */
};

struct scenario {
	const char *name;
	/* A DELETE unlinks before its transaction commits (it must work on a
	 * full disk): a crash between leaves the row of the object it
	 * removes without its file, which reads as deleted and goes at the
	 * next look. Its key, for the invariants; NULL elsewhere. */
	const char *unlinked;
	void (*setup)(struct ctx *x);  /* the old state; asserts */
	int (*run)(struct ctx *x);     /* the operation; never asserts (a child runs it) */
	int (*state)(struct ctx *x);   /* S_OLD, S_NEW or S_BAD */
};

/* Both (a, b): 1 1 -> S_NEW-ish, as the caller maps; any -1 is S_BAD. */
static int pick(int is_old, int is_new)
{
	if (is_old < 0 || is_new < 0 || (is_old && is_new))
		return S_BAD;
	return is_new ? S_NEW : is_old ? S_OLD : S_BAD;
}

static void setup_none(struct ctx *x) { (void)x; }

static void setup_old(struct ctx *x)
{
	assert_int_equal(put(x->c, "k", old_bytes, OLD_LEN, HDR_OLD), ATR_OK);
}

/* PUT of a new key below directories that are not there yet. */
static int run_put_new(struct ctx *x)
{
	return put(x->c, "d1/d2/k", new_bytes, NEW_LEN, HDR_NEW);
}

static int state_put_new(struct ctx *x)
{
	int is = obj_is(x->c, "d1/d2/k", new_bytes, NEW_LEN, NULL, HDR_NEW);
	return is < 0 ? S_BAD : is ? S_NEW : S_OLD;
}

static int run_put_over(struct ctx *x)
{
	return put(x->c, "k", new_bytes, NEW_LEN, HDR_NEW);
}

static int state_k(struct ctx *x)
{
	/* k either old or new: one of the two reads is then -1 */
	int o = obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD);
	if (o == 1)
		return S_OLD;
	int n = obj_is(x->c, "k", new_bytes, NEW_LEN, NULL, HDR_NEW);
	return n == 1 ? S_NEW : S_BAD;
}

/* ---- multipart ---- */

static void setup_upload(struct ctx *x)
{
	setup_old(x);
	assert_int_equal(atr_mpu_create(x->c, &root, "bkt", "k", HDR_NEW, x->upload), ATR_OK);
}

static int upload_part(struct ctx *x, int number, const void *data, size_t n)
{
	struct atr_part_writer *w;
	int rc = atr_mpu_part_begin(x->c, &root, "bkt", "k", x->upload, number, &w);
	if (rc)
		return rc;
	if ((rc = atr_mpu_part_write(w, data, n))) {
		atr_mpu_part_abort(w);
		return rc;
	}
	return atr_mpu_part_commit(w, &x->parts[number - 1]);
}

static int run_part(struct ctx *x)
{
	return upload_part(x, 1, new_bytes, PART1);
}

/* Reads the file of part 1 from the part area itself. */
static int state_part(struct ctx *x)
{
	struct meta_mpu_part p;
	char path[256], want[ATR_ETAG_MAX + 1];
	unsigned char buf[PART1 + 1];
	int rc = meta_mpu_part_get(x->c->meta, x->upload, 1, &p);
	if (rc == ATR_E_INVALID_PART)
		return S_OLD;
	if (rc)
		return S_BAD;
	snprintf(path, sizeof(path), "%s/ufs/.atrium/mpu/%s/%s", x->f->dir, x->upload, p.file);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	md5_hex(new_bytes, PART1, want);
	if (n != PART1 || memcmp(buf, new_bytes, PART1) || p.p.size != PART1 ||
	    strcmp(p.p.etag, want)) {
		print_message("part 1 (%s): %zd bytes, etag %s\n", path, n, p.p.etag);
		return S_BAD;
	}
	return S_NEW;
}

static void setup_parts(struct ctx *x)
{
	unsigned char bins[2 * MD5_LEN], sum[MD5_LEN];
	setup_upload(x);
	assert_int_equal(upload_part(x, 1, new_bytes, PART1), ATR_OK);
	assert_int_equal(upload_part(x, 2, new_bytes + PART1, PART2), ATR_OK);
	md5(new_bytes, PART1, bins);
	md5(new_bytes + PART1, PART2, bins + MD5_LEN);
	md5(bins, sizeof(bins), sum);
	char hex[2 * MD5_LEN + 1];
	hex_encode(sum, MD5_LEN, hex);
	snprintf(x->mpu_etag, sizeof(x->mpu_etag), "%s-2", hex);
}

static int run_complete(struct ctx *x)
{
	struct atr_obj out = { 0 };
	int rc = atr_mpu_complete(x->c, &root, "bkt", "k", x->upload, x->parts, 2, 0, NULL, NULL,
				  &out);
	atr_obj_release(&out);
	return rc;
}

static int state_complete(struct ctx *x)
{
	struct meta_mpu mu = { 0 };
	int up = meta_mpu_get(x->c->meta, x->upload, &mu, 0) == ATR_OK;
	int o = obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD);
	if (o == 1 && !up)
		print_message("the upload is gone, its object never made\n");
	if (o == 1)
		return up ? S_OLD : S_BAD; /* still completable */
	int n = obj_is(x->c, "k", new_bytes, PART1 + PART2, x->mpu_etag, HDR_NEW);
	return n == 1 ? S_NEW : S_BAD;
}

/* ---- copy ---- */

static void setup_copy(struct ctx *x)
{
	setup_old(x);
	assert_int_equal(put(x->c, "src", new_bytes, NEW_LEN, "Content-Type: text/src\r\n"),
			 ATR_OK);
}

static int run_copy(struct ctx *x)
{
	struct atr_obj src = { 0 }, out = { 0 };
	struct atr_reader *r;
	int rc = atr_get_open(x->c, &root, "bkt", "src", &src, &r);
	if (rc)
		return rc;
	rc = atr_object_copy(x->c, &root, r, src.etag, "bkt", "k", HDR_NEW, NULL, &out);
	atr_get_close(r);
	atr_obj_release(&src);
	atr_obj_release(&out);
	return rc;
}

static int state_copy(struct ctx *x)
{
	if (obj_is(x->c, "src", new_bytes, NEW_LEN, NULL, "text/src") != 1)
		return S_BAD;
	return state_k(x);
}

/* ---- renames ---- */

static void setup_rename(struct ctx *x)
{
	setup_old(x);
	assert_int_equal(put(x->c, "a", new_bytes, NEW_LEN, HDR_NEW), ATR_OK);
}

static int run_rename(struct ctx *x)
{
	return ns_rename(x->c, "bkt", "a", "bkt", "k", 0, NS_MOVE_REPLACE);
}

static int state_rename(struct ctx *x)
{
	int a = obj_is(x->c, "a", new_bytes, NEW_LEN, NULL, HDR_NEW);
	int k = state_k(x);
	if (a == 1 && k == S_OLD)
		return S_OLD;
	return a == 0 && k == S_NEW ? S_NEW : S_BAD;
}

static void setup_dir(struct ctx *x)
{
	assert_int_equal(put(x->c, "dir/x", old_bytes, OLD_LEN, HDR_OLD), ATR_OK);
	assert_int_equal(put(x->c, "dir/sub/y", new_bytes, NEW_LEN, HDR_NEW), ATR_OK);
}

static int run_rename_dir(struct ctx *x)
{
	return ns_rename(x->c, "bkt", "dir/", "bkt", "moved/", 1, NS_MOVE_NOREPLACE);
}

static int state_dir(struct ctx *x, const char *dir)
{
	char kx[32], ky[32];
	snprintf(kx, sizeof(kx), "%s/x", dir);
	snprintf(ky, sizeof(ky), "%s/sub/y", dir);
	int a = obj_is(x->c, kx, old_bytes, OLD_LEN, NULL, HDR_OLD);
	int b = obj_is(x->c, ky, new_bytes, NEW_LEN, NULL, HDR_NEW);
	return a < 0 || b < 0 || a != b ? -1 : a;
}

static int state_rename_dir(struct ctx *x)
{
	return pick(state_dir(x, "dir"), state_dir(x, "moved"));
}

/* ---- hard links ---- */

static void setup_link(struct ctx *x)
{
	struct meta_row row = { 0 };
	setup_old(x);
	assert_int_equal(meta_obj_get(x->c->meta, "bkt", "k", &row, 0), ATR_OK);
	x->node = obj_node(&row.obj);
}

static int run_link(struct ctx *x)
{
	return ns_link(x->c, "bkt", "k", x->node, "bkt", "k2");
}

static int state_link(struct ctx *x)
{
	if (obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD) != 1)
		return S_BAD;
	int k2 = obj_is(x->c, "k2", old_bytes, OLD_LEN, NULL, HDR_OLD);
	return k2 < 0 ? S_BAD : k2 ? S_NEW : S_OLD;
}

static void setup_linked(struct ctx *x)
{
	setup_link(x);
	assert_int_equal(run_link(x), ATR_OK);
}

/* The mount's flush of new bytes for an inode with two names: both
 * names get them (they keep their headers). */
static int run_commit_bytes(struct ctx *x)
{
	struct ufs_stage *s;
	struct atr_obj out = { 0 };
	char etag[ATR_ETAG_MAX + 1];
	int rc = ufs_stage_open(x->c->ufs, &s);
	if (rc)
		return rc;
	if ((rc = ufs_stage_write(x->c->ufs, s, new_bytes, NEW_LEN))) {
		ufs_stage_abort(x->c->ufs, s);
		return rc;
	}
	md5_hex(new_bytes, NEW_LEN, etag);
	rc = ns_commit_bytes(x->c, x->node, s, etag, &out);
	atr_obj_release(&out);
	return rc;
}

static int state_commit_bytes(struct ctx *x)
{
	int o1 = obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD);
	int o2 = obj_is(x->c, "k2", old_bytes, OLD_LEN, NULL, HDR_OLD);
	if (o1 == 1 && o2 == 1)
		return S_OLD;
	int n1 = obj_is(x->c, "k", new_bytes, NEW_LEN, NULL, HDR_OLD);
	int n2 = obj_is(x->c, "k2", new_bytes, NEW_LEN, NULL, HDR_OLD);
	if (n1 != 1 || n2 != 1)
		print_message("k: old %d new %d; k2: old %d new %d\n", o1, n1, o2, n2);
	return n1 == 1 && n2 == 1 ? S_NEW : S_BAD;
}

/* ---- the mount ---- */

static int lookup(struct atr_core *c, const char *bucket, const char *name, uint64_t *ino)
{
	struct atr_attr a;
	int rc = atr_node_lookup(c, ATR_INO_ROOT, bucket, &a);
	if (!rc)
		rc = atr_node_lookup(c, a.ino, name, &a);
	*ino = a.ino;
	return rc;
}

/* open(O_WRONLY | O_TRUNC), two writes, close. */
static int run_mount_write(struct ctx *x)
{
	struct atr_file *f;
	uint64_t ino;
	int rc = lookup(x->c, "bkt", "k", &ino);
	if (!rc)
		rc = atr_node_open(x->c, ino, ATR_OPEN_WRITE | ATR_OPEN_TRUNC, &f);
	if (rc)
		return rc;
	rc = atr_file_write(f, new_bytes, 4096, 0);
	if (!rc)
		rc = atr_file_write(f, new_bytes + 4096, NEW_LEN - 4096, 4096);
	int frc = atr_file_flush(f);
	atr_file_close(f);
	return rc ? rc : frc;
}

static int state_mount_write(struct ctx *x)
{
	if (obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD) == 1)
		return S_OLD;
	return obj_is(x->c, "k", new_bytes, NEW_LEN, NULL, HDR_OLD) == 1 ? S_NEW : S_BAD;
}

/* ---- delete ---- */

static void setup_delete(struct ctx *x)
{
	assert_int_equal(put(x->c, "d/k", old_bytes, OLD_LEN, HDR_OLD), ATR_OK);
}

static int run_delete(struct ctx *x)
{
	return atr_object_delete(x->c, &root, "bkt", "d/k");
}

static int state_delete(struct ctx *x)
{
	int is = obj_is(x->c, "d/k", old_bytes, OLD_LEN, NULL, HDR_OLD);
	return is < 0 ? S_BAD : is ? S_OLD : S_NEW;
}

/* ---- keys the tree cannot hold (src/ns_int.h, "the side form") ---- */

/* A key below an object: the object moves aside first, whole. */
static int run_put_below(struct ctx *x)
{
	return put(x->c, "k/below", new_bytes, NEW_LEN, HDR_NEW);
}

static int state_put_below(struct ctx *x)
{
	if (obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD) != 1)
		return S_BAD; /* the object in the way is never lost */
	int is = obj_is(x->c, "k/below", new_bytes, NEW_LEN, NULL, HDR_NEW);
	return is < 0 ? S_BAD : is ? S_NEW : S_OLD;
}

static void setup_below(struct ctx *x)
{
	assert_int_equal(put(x->c, "k/x", old_bytes, OLD_LEN, HDR_OLD), ATR_OK);
}

/* An object where a directory is: its bytes go aside. */
static int run_put_over_dir(struct ctx *x)
{
	return put(x->c, "k", new_bytes, NEW_LEN, HDR_NEW);
}

static int state_put_over_dir(struct ctx *x)
{
	if (obj_is(x->c, "k/x", old_bytes, OLD_LEN, NULL, HDR_OLD) != 1)
		return S_BAD;
	int is = obj_is(x->c, "k", new_bytes, NEW_LEN, NULL, HDR_NEW);
	return is < 0 ? S_BAD : is ? S_NEW : S_OLD;
}

/* A directory key with bytes, over a plain marker. */
static void setup_marker(struct ctx *x)
{
	assert_int_equal(put(x->c, "m/", "", 0, HDR_OLD), ATR_OK);
}

static int run_put_marker(struct ctx *x)
{
	return put(x->c, "m/", new_bytes, NEW_LEN, HDR_NEW);
}

static int state_put_marker(struct ctx *x)
{
	/* m/ either the old marker or the new bytes: one read is then -1 */
	if (obj_is(x->c, "m/", "", 0, NULL, HDR_OLD) == 1)
		return S_OLD;
	return obj_is(x->c, "m/", new_bytes, NEW_LEN, NULL, HDR_NEW) == 1 ? S_NEW : S_BAD;
}

/* Deleting an object kept aside leaves the directory of its name whole. */
static void setup_aside(struct ctx *x)
{
	assert_int_equal(put(x->c, "k", old_bytes, OLD_LEN, HDR_OLD), ATR_OK);
	assert_int_equal(put(x->c, "k/x", old_bytes, OLD_LEN, HDR_OLD), ATR_OK);
}

static int run_delete_aside(struct ctx *x)
{
	return atr_object_delete(x->c, &root, "bkt", "k");
}

static int state_delete_aside(struct ctx *x)
{
	if (obj_is(x->c, "k/x", old_bytes, OLD_LEN, NULL, HDR_OLD) != 1)
		return S_BAD;
	int is = obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD);
	return is < 0 ? S_BAD : is ? S_OLD : S_NEW;
}

/* ---- versions (src/ns_version.c) ---- */

/* Whether version vid of "k" is the old object, whole: 1, else -1. */
static int version_is(struct atr_core *c, const char *vid, const void *data, size_t n)
{
	return obj_version_is(c, "k", vid, data, n, NULL, HDR_OLD) == 1 ? 1 : -1;
}

/* The versions of "k" other than its current one: how many (-1 if they
 * cannot be read), the newest into *newest. */
static int noncurrent(struct atr_core *c, struct meta_version *newest)
{
	int n = meta_ver_count(c->meta, "bkt");
	if (n > 0 && meta_ver_newest(c->meta, "bkt", "k", newest, 0))
		return -1;
	return n;
}

static void setup_versioned(struct ctx *x)
{
	assert_int_equal(atr_bucket_versioning_set(x->c, &root, "bkt", ATR_VER_ENABLED), ATR_OK);
	setup_old(x);
}

/* An overwrite keeps the old bytes as a noncurrent version (linked before
 * the commit): old and no version, or new and the old one kept. */
static int state_versioned_put(struct ctx *x)
{
	struct meta_version v;
	int n = noncurrent(x->c, &v);
	if (n == 0 && state_k(x) == S_OLD)
		return S_OLD;
	if (n == 1 && !v.marker && state_k(x) == S_NEW && version_is(x->c, v.obj.vid, old_bytes,
								    OLD_LEN) == 1)
		return S_NEW;
	return S_BAD;
}

/* meta_ver_scan's callback: the id of a noncurrent version that is no
 * marker, into arg. */
static int kept_vid(void *arg, const char *key, int current, const struct meta_version *v)
{
	if (!current && !v->marker)
		snprintf(arg, ATR_VID_MAX + 1, "%s", v->obj.vid);
	return 0;
}

/* A DELETE makes a delete marker; the object moves out of the tree (an
 * intent "~"): there, or gone under a marker with its bytes kept. */
static int run_delete_marker(struct ctx *x)
{
	return atr_object_delete(x->c, &root, "bkt", "k");
}

static int state_delete_marker(struct ctx *x)
{
	struct meta_version v;
	int n = noncurrent(x->c, &v), is = obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD);
	if (n == 0 && is == 1)
		return S_OLD;
	char kept[ATR_VID_MAX + 1] = "";
	if (n == 2 && is == 0 && v.marker &&
	    meta_ver_scan(x->c->meta, "bkt", "k", "l", kept_vid, kept) == ATR_OK && *kept)
		return version_is(x->c, kept, old_bytes, OLD_LEN) == 1 ? S_NEW : S_BAD;
	return S_BAD;
}

/* Deleting the marker brings the object back (an intent "^"). */
static void setup_marker_over(struct ctx *x)
{
	struct atr_delete_result d;
	setup_versioned(x);
	assert_int_equal(atr_object_delete_version(x->c, &root, "bkt", "k", NULL, 0, &d), ATR_OK);
	assert_true(d.marker);
	snprintf(x->vid, sizeof(x->vid), "%s", d.vid);
}

static int run_undelete(struct ctx *x)
{
	struct atr_delete_result d;
	return atr_object_delete_version(x->c, &root, "bkt", "k", x->vid, 0, &d);
}

static int state_undelete(struct ctx *x)
{
	struct meta_version v;
	int n = noncurrent(x->c, &v), is = obj_is(x->c, "k", old_bytes, OLD_LEN, NULL, HDR_OLD);
	if (n == 2 && is == 0 && v.marker && !strcmp(v.obj.vid, x->vid))
		return S_OLD;
	return n == 0 && is == 1 ? S_NEW : S_BAD;
}

/* ---- the invariants of a core just opened ---- */

static struct ctx *walking; /* nftw's callbacks take no argument */
static int walk_bad;

static int row_file(void *arg, const char *key, const struct meta_row *row)
{
	struct ctx *x = arg;
	char path[PATH_MAX_UFS + 80];
	struct stat sb;
	size_t kl = strlen(key);
	if (row->side) {
		/* Its bytes are aside: that file, of the row's size (absent only
		 * if a DELETE was removing it). */
		snprintf(path, sizeof(path), "%s/ufs/" SIDE_DIR "/%llu", x->f->dir,
			 (unsigned long long)row->obj.ino);
		int there = !lstat(path, &sb);
		if (there ? !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != row->obj.size
			  : !x->unlinked || strcmp(key, x->unlinked)) {
			print_message("row %s (aside, size %llu) has no such side file\n", key,
				      (unsigned long long)row->obj.size);
			walk_bad = 1;
		}
		return 0;
	}
	snprintf(path, sizeof(path), "%s/ufs/bkt/%.*s", x->f->dir,
		 (int)(kl && key[kl - 1] == '/' ? kl - 1 : kl), key);
	int there = !lstat(path, &sb);
	int ok = there && (row->obj.is_dir ? S_ISDIR(sb.st_mode)
					   : S_ISREG(sb.st_mode) &&
						     (uint64_t)sb.st_size == row->obj.size);
	/* A directory row may outlive its directory: a crash between a
	 * prune's or rmdir's UFS step and its commit. Sync drops the row at
	 * the next look, and a commit below it makes the directory again
	 * (directory_gone_below_rows). A file row may only if a DELETE was
	 * removing it (struct scenario). */
	if (!there && (row->obj.is_dir || (x->unlinked && !strcmp(key, x->unlinked))))
		ok = 1;
	if (!ok && !row->pending) {
		print_message("row %s (size %llu) has no such file\n", key,
			      (unsigned long long)row->obj.size);
		walk_bad = 1;
	}
	return 0;
}

static int file_row(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	char bucket_dir[128];
	struct meta_row row = { 0 };
	snprintf(bucket_dir, sizeof(bucket_dir), "%s/ufs/bkt/", walking->f->dir);
	if (flag != FTW_F)
		return 0;
	const char *key = path + strlen(bucket_dir);
	if (meta_obj_get(walking->c->meta, "bkt", key, &row, 0)) {
		print_message("file %s has no row\n", key);
		walk_bad = 1;
	}
	return 0;
}

static int part_file(void *arg, const struct meta_mpu_part *p)
{
	struct ctx *x = arg;
	char path[256];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/ufs/.atrium/mpu/%s/%s", x->f->dir, x->upload, p->file);
	if (stat(path, &sb) || (uint64_t)sb.st_size != p->p.size) {
		print_message("part %d's file %s is not there\n", p->p.number, p->file);
		walk_bad = 1;
	}
	return 0;
}

/* The number of entries of directory sub of the data directory. */
static int entries(struct ctx *x, const char *sub, int (*each)(struct ctx *x, const char *name))
{
	char path[128];
	int n = 0;
	snprintf(path, sizeof(path), "%s/%s", x->f->dir, sub);
	DIR *d = opendir(path);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			n++;
			if (each && each(x, de->d_name))
				walk_bad = 1;
		}
	closedir(d);
	return n;
}

static int area_without_upload(struct ctx *x, const char *name)
{
	struct meta_mpu mu = { 0 };
	if (meta_mpu_get(x->c->meta, name, &mu, 0) == ATR_OK)
		return 0;
	print_message("part area %s has no upload\n", name);
	return 1;
}

/* Every side file is named by a row kept aside (the start removes the
 * others). */
static int side_without_row(struct ctx *x, const char *name)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	uint64_t ino = strtoull(name, NULL, 10);
	if (meta_obj_by_ino(x->c->meta, ino, bucket, key, &row, 0) == ATR_OK && row.side &&
	    row.obj.ino == ino)
		return 0;
	print_message("side file %s has no row\n", name);
	return 1;
}

/* Every file in the versions area is named by a version row that is no
 * marker (the start removes the others), and every such row has its
 * file. */
static int version_without_row(struct ctx *x, const char *name)
{
	struct meta_version v;
	if (meta_ver_by_seq(x->c->meta, strtoull(name, NULL, 10), &v) == ATR_OK && !v.marker)
		return 0;
	print_message("version file %s has no row\n", name);
	return 1;
}

static int version_rows(struct ctx *x)
{
	char path[160];
	struct stat sb;
	int n = meta_ver_count(x->c->meta, "bkt"), files = 0;
	for (uint64_t seq = 1; seq < 64 && n > 0; seq++) {
		struct meta_version v;
		if (meta_ver_by_seq(x->c->meta, seq, &v))
			continue;
		n--;
		snprintf(path, sizeof(path), "%s/ufs/" VERSION_DIR "/%llu", x->f->dir,
			 (unsigned long long)seq);
		if (!v.marker && stat(path, &sb)) {
			print_message("version row %llu has no file\n", (unsigned long long)seq);
			walk_bad = 1;
		}
		files += !v.marker;
	}
	return files;
}

static void invariants(struct ctx *x)
{
	char bucket_dir[128], side[128];
	struct stat sb;
	walk_bad = 0;
	walking = x;
	if (entries(x, "ufs/.atrium/tmp", NULL)) {
		print_message("stages are left in .atrium/tmp\n");
		walk_bad = 1;
	}
	assert_int_equal(meta_obj_scan(x->c->meta, "bkt", "", 1, NULL, 0, row_file, x), ATR_OK);
	snprintf(bucket_dir, sizeof(bucket_dir), "%s/ufs/bkt", x->f->dir);
	assert_int_equal(nftw(bucket_dir, file_row, 16, FTW_PHYS), 0);
	entries(x, "ufs/.atrium/mpu", area_without_upload);
	snprintf(side, sizeof(side), "%s/ufs/" SIDE_DIR, x->f->dir);
	if (!stat(side, &sb))
		entries(x, "ufs/" SIDE_DIR, side_without_row);
	snprintf(side, sizeof(side), "%s/ufs/" VERSION_DIR, x->f->dir);
	if (!stat(side, &sb) && entries(x, "ufs/" VERSION_DIR, version_without_row) !=
				       version_rows(x))
		walk_bad = 1;
	if (*x->upload)
		meta_mpu_part_scan(x->c->meta, x->upload, 0, part_file, x);
	walking = NULL;
}

/* (Re)opens the core on x's data directory over the fault driver, with
 * plan (NULL: none yet). */
static void reopen(struct ctx *x, const struct ufs_fault_plan *plan)
{
	fixture_open_wrapped(x->f, wrap_fault, (void *)plan);
	x->c = x->f->c;
}

/* A fresh data directory, the core on it (reopen) and bucket "bkt". */
static void start(struct ctx *x, const struct ufs_fault_plan *plan)
{
	x->f = fresh();
	reopen(x, plan);
	assert_int_equal(atr_bucket_create(x->c, &root, "bkt", "", NULL, -1), ATR_OK);
}

/* Closes the core and opens it again, without faults: whether it came up
 * inconsistent (said on stdout). */
static int restart(struct ctx *x)
{
	atr_core_close(x->c);
	fixture_open(x->f);
	x->c = x->f->c;
	invariants(x);
	return walk_bad;
}

/* ---- the cases ---- */

struct mode {
	const char *name;
	int err, after, crash, fork;
};

static const struct mode modes[] = {
	{ "EIO", ATR_E_IO, 0, 0, 0 },
	{ "ENOSPC", ATR_E_NOSPC, 0, 0, 0 },
	{ "lost reply", ATR_E_IO, 1, 0, 0 },
	{ "stopped", ATR_E_IO, 0, 1, 0 },
	{ "crash before", ATR_E_IO, 0, 1, 1 },
	{ "crash after", ATR_E_IO, 1, 1, 1 },
};

/* FAULT_TRACE=1 in the environment: each op counted, on stdout. */
static void trace(void *arg, enum ufs_op k, unsigned long n)
{
	print_message("  op %lu: %s\n", n, ufs_fault_op_name(k));
}

static void crash_exit(void *arg)
{
	_exit(CRASHED);
}

/* rc: the operation's result, or -1 if a crash left it unknown. */
static void expect_state(const struct scenario *sc, const struct mode *m, unsigned long n,
			 struct ctx *x, int rc, const char *when)
{
	int s = sc->state(x);
	if (s == S_BAD || (rc == ATR_OK && s != S_NEW))
		fail_msg("%s, op %lu %s: %s, then %s %s", sc->name, n, m->name,
			 rc < 0 ? "crashed" : atr_strerror(rc), when,
			 s == S_BAD ? "neither old nor new" : "old although it succeeded");
}

/* The op runs in a child that crashes at the n-th UFS op: its exit
 * status (CRASHED, or 0/1 for success/failure without reaching it). */
static int run_child(const struct scenario *sc, const struct mode *m, unsigned long n,
		     struct ctx *x)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct atr_core_config cfg = { .data_dir = x->f->dir, .cache_mem_bytes = 1 << 20,
					       .cache_block_size = x->f->block_size };
		struct ufs_fault_plan plan = { .at = n, .err = m->err, .after = m->after,
					       .crash = 1, .on_crash = crash_exit };
		if (core_open_wrapped(&cfg, wrap_fault, NULL, &x->c))
			_exit(3);
		ufs_fault_set(x->c->local, &plan);
		_exit(sc->run(x) ? 1 : 0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) <= 1 || WEXITSTATUS(status) == CRASHED);
	return WEXITSTATUS(status);
}

/* One case: the scenario with its n-th UFS op failing as m says. Returns
 * whether the fault was reached. */
static int one_case(const struct scenario *sc, const struct mode *m, unsigned long n)
{
	struct ctx x = { 0 };
	struct ufs_fault_stats st;
	int rc, reached;

	start(&x, NULL);
	struct fixture *f = x.f;
	x.unlinked = sc->unlinked;
	sc->setup(&x);
	if (m->fork) {
		atr_core_close(x.c); /* the child opens its own: no threads to fork */
		x.c = f->c = NULL;
		int status = run_child(sc, m, n, &x);
		reached = status == CRASHED;
		rc = reached ? -1 : status ? ATR_E_IO : ATR_OK;
	} else {
		struct ufs_fault_plan plan = { .at = n, .err = m->err, .after = m->after,
					       .crash = m->crash };
		if (getenv("FAULT_TRACE"))
			plan.trace = trace;
		ufs_fault_set(f->c->local, &plan);
		rc = sc->run(&x);
		ufs_fault_stats(f->c->local, &st);
		ufs_fault_set(f->c->local, NULL);
		reached = st.fired > 0;
		if (!m->crash) /* the core goes on: what it serves now */
			expect_state(sc, m, n, &x, rc, "read at once");
	}
	/* What the next start makes of it. */
	if (restart(&x))
		fail_msg("%s, op %lu %s: %s, then inconsistent after a restart", sc->name, n,
			 m->name, rc < 0 ? "crashed" : atr_strerror(rc));
	expect_state(sc, m, n, &x, rc, "after a restart");
	dispose(f);
	return reached;
}

static void run_scenario(const struct scenario *sc)
{
	enum log_level level = log_get_level();
	log_set_level(LOG_OFF); /* the failures are the point: no noise */
	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		unsigned long n = 1;
		while (one_case(sc, &modes[i], n)) {
			cases++;
			assert_true(++n < 400);
		}
	}
	log_set_level(level);
}

#define SCENARIO(id, setup, run, state) SCENARIO_UNLINKING(id, NULL, setup, run, state)
#define SCENARIO_UNLINKING(id, unlinked, setup, run, state) \
	static void id(void **state_) \
	{ \
		static const struct scenario sc = { #id, unlinked, setup, run, state }; \
		run_scenario(&sc); \
	}

SCENARIO(put_new_key, setup_none, run_put_new, state_put_new)
SCENARIO(put_over_object, setup_old, run_put_over, state_k)
SCENARIO(multipart_part, setup_upload, run_part, state_part)
SCENARIO(multipart_complete, setup_parts, run_complete, state_complete)
SCENARIO(copy_object, setup_copy, run_copy, state_copy)
SCENARIO(rename_over_file, setup_rename, run_rename, state_rename)
SCENARIO(rename_directory, setup_dir, run_rename_dir, state_rename_dir)
SCENARIO(hard_link, setup_link, run_link, state_link)
SCENARIO(commit_to_two_names, setup_linked, run_commit_bytes, state_commit_bytes)
SCENARIO(mount_rewrite, setup_old, run_mount_write, state_mount_write)
SCENARIO_UNLINKING(delete_object, "d/k", setup_delete, run_delete, state_delete)
SCENARIO(put_below_an_object, setup_old, run_put_below, state_put_below)
SCENARIO(put_over_a_directory, setup_below, run_put_over_dir, state_put_over_dir)
SCENARIO(put_marker_with_bytes, setup_marker, run_put_marker, state_put_marker)
SCENARIO_UNLINKING(delete_object_aside, "k", setup_aside, run_delete_aside,
		   state_delete_aside)
SCENARIO(versioned_put_over, setup_versioned, run_put_over, state_versioned_put)
SCENARIO(versioned_delete_marker, setup_versioned, run_delete_marker, state_delete_marker)
SCENARIO(versioned_undelete, setup_marker_over, run_undelete, state_undelete)

/* ---- a failure that lasts ---- */

static unsigned long stage_commit_at; /* the op number of a PUT's stage_commit */

static void find_commit(void *arg, enum ufs_op k, unsigned long n)
{
	if (k == UFS_OP_STAGE_COMMIT && !stage_commit_at)
		stage_commit_at = n;
}

/* A rename the UFS keeps failing after the commit is owed: the PUT fails,
 * no other change starts while the store still fails (it would write rows
 * over the owed file), and the first look once it works finishes it. */
static void owed_until_the_store_heals(void **state)
{
	struct ctx x = { 0 };
	start(&x, NULL);
	struct fixture *f = x.f;
	setup_old(&x);
	log_set_level(LOG_OFF);

	/* Where a PUT over an object makes its rename. */
	struct ufs_fault_plan probe = { .trace = find_commit };
	ufs_fault_set(f->c->local, &probe);
	assert_int_equal(put(f->c, "probe", old_bytes, 10, HDR_OLD), ATR_OK);
	assert_true(stage_commit_at > 0);

	/* That rename fails, and so does every move of a stage after it. */
	struct ufs_fault_plan fail = { .at = stage_commit_at, .crash = 1 };
	ufs_fault_set(f->c->local, &fail);
	assert_int_equal(run_put_over(&x), ATR_E_IO);
	struct ufs_fault_plan recover_fails = { .kind = UFS_OP_STAGE_RECOVER, .at = 1,
						.times = 1000 };
	ufs_fault_set(f->c->local, &recover_fails);
	assert_int_equal(put(f->c, "other", new_bytes, 10, HDR_NEW), ATR_E_IO);
	assert_int_equal(atr_object_delete(f->c, &root, "bkt", "probe"), ATR_E_IO);
	struct atr_obj o = { 0 };
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "k", &o), ATR_E_IO);

	/* The store works again: the first look finishes the rename. */
	ufs_fault_set(f->c->local, NULL);
	assert_int_equal(state_k(&x), S_NEW);
	assert_int_equal(obj_is(f->c, "other", NULL, 0, NULL, HDR_NEW), 0);
	assert_int_equal(obj_is(f->c, "probe", old_bytes, 10, NULL, HDR_OLD), 1);
	assert_int_equal(put(f->c, "other", new_bytes, 10, HDR_NEW), ATR_OK);
	log_set_level(LOG_WARN);
	assert_false(restart(&x));
	assert_int_equal(state_k(&x), S_NEW);
	dispose(f);
}

/* The same, with the process gone before the store heals: a start while
 * it still fails keeps the step owed (and its stage: no clean-up of the
 * staging area then), the first start or look once it works finishes it. */
static void owed_finished_at_start(void **state)
{
	struct ctx x = { 0 };
	start(&x, NULL);
	struct fixture *f = x.f;
	setup_old(&x);
	log_set_level(LOG_OFF);
	struct ufs_fault_plan fail = { .kind = UFS_OP_STAGE_COMMIT, .at = 1, .crash = 1 };
	ufs_fault_set(f->c->local, &fail);
	assert_int_equal(run_put_over(&x), ATR_E_IO);
	atr_core_close(f->c);
	assert_int_equal(entries(&x, "ufs/.atrium/tmp", NULL), 1);

	struct ufs_fault_plan recover_fails = { .kind = UFS_OP_STAGE_RECOVER, .at = 1,
						.times = 1000 };
	reopen(&x, &recover_fails);
	assert_int_equal(entries(&x, "ufs/.atrium/tmp", NULL), 1);
	assert_int_equal(put(f->c, "other", new_bytes, 10, HDR_NEW), ATR_E_IO);
	ufs_fault_set(f->c->local, NULL);
	assert_int_equal(state_k(&x), S_NEW);
	log_set_level(LOG_WARN);
	assert_false(restart(&x));
	assert_int_equal(state_k(&x), S_NEW);
	dispose(f);
}

/* A directory the rows have, gone from the UFS (behind our back, or a
 * crash between a prune's rmdir and its commit): a PUT below it makes it
 * again instead of failing its rename. */
static void directory_gone_below_rows(void **state)
{
	char path[128];
	struct ctx x = { 0 };
	start(&x, NULL);
	struct fixture *f = x.f;
	assert_int_equal(put(f->c, "d/e/x", old_bytes, OLD_LEN, HDR_OLD), ATR_OK);
	snprintf(path, sizeof(path), "%s/ufs/bkt/d/e/x", f->dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/ufs/bkt/d/e", f->dir);
	assert_int_equal(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/ufs/bkt/d", f->dir);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(put(f->c, "d/e/y", new_bytes, NEW_LEN, HDR_NEW), ATR_OK);
	assert_int_equal(obj_is(f->c, "d/e/y", new_bytes, NEW_LEN, NULL, HDR_NEW), 1);
	assert_int_equal(obj_is(f->c, "d/e/x", NULL, 0, NULL, HDR_OLD), 0);
	dispose(f);
}

/* ---- short reads ---- */

/* A read that ends early is a file shorter than its row: an error, never
 * a short object served or copied as whole. */
static void short_reads_are_errors(void **state)
{
	struct ctx x = { 0 };
	start(&x, NULL);
	struct fixture *f = x.f;
	setup_copy(&x);
	log_set_level(LOG_OFF);
	for (unsigned long n = 1; n <= 3; n++) { /* the 1st, 2nd, 3rd block */
		struct ufs_fault_plan shorter = { .kind = UFS_OP_PREAD, .at = n,
						  .short_read = 1 };
		struct atr_obj o = { 0 };
		struct atr_reader *r;
		char key[8];
		int rc = ATR_OK;
		snprintf(key, sizeof(key), "s%lu", n); /* never read: not in the cache */
		assert_int_equal(put(f->c, key, new_bytes, NEW_LEN, HDR_NEW), ATR_OK);
		ufs_fault_set(f->c->local, &shorter);
		assert_int_equal(atr_get_open(f->c, &root, "bkt", key, &o, &r), ATR_OK);
		for (uint64_t off = 0; !rc && off < o.size;) {
			const void *p;
			size_t len = 0;
			rc = atr_get_read(r, off, &p, &len);
			off += len;
		}
		atr_get_close(r);
		atr_obj_release(&o);
		assert_int_equal(rc, ATR_E_IO);
		cases++;
	}
	/* CopyObject through the cache (no server-side copy here). */
	struct ufs_fault_plan shorter = { .kind = UFS_OP_PREAD, .at = 2, .short_read = 1 };
	ufs_fault_set(f->c->local, &shorter);
	struct atr_obj src = { 0 }, out = { 0 };
	struct atr_reader *r;
	assert_int_equal(atr_get_open(f->c, &root, "bkt", "src", &src, &r), ATR_OK);
	assert_int_equal(atr_object_copy(f->c, &root, r, "not-an-md5", "bkt", "k", HDR_NEW, NULL,
					 &out), ATR_E_IO);
	atr_get_close(r);
	atr_obj_release(&src);
	ufs_fault_set(f->c->local, NULL);
	assert_int_equal(state_k(&x), S_OLD);
	cases++;
	log_set_level(LOG_WARN);
	dispose(f);
}

/* ---- capabilities ---- */

static void table_checked(void **state)
{
	struct fixture *f = fresh();
	char root_dir[128];
	struct ufs *local;
	snprintf(root_dir, sizeof(root_dir), "%s/ufs", f->dir);
	assert_int_equal(ufs_local_new(root_dir, &local), ATR_OK);
	assert_int_equal(local->caps, UFS_CAP_ALL);
	assert_int_equal(ufs_check(local), ATR_OK);
	log_set_level(LOG_OFF);
	struct ufs_ops ops = *local->ops;
	struct ufs fake = { &ops, UFS_CAP_ALL };
	ops.link = NULL; /* LINKS claimed without one of its ops */
	assert_int_equal(ufs_check(&fake), ATR_E_INTERNAL);
	fake.caps = UFS_CAP_ALL & ~UFS_CAP_LINKS; /* not claimed: fine */
	assert_int_equal(ufs_check(&fake), ATR_OK);
	fake.caps |= 1u << 20;                    /* a capability nobody knows */
	assert_int_equal(ufs_check(&fake), ATR_E_INTERNAL);
	fake.caps = 0;
	ops.stage_keep = NULL;                    /* a mandatory op missing */
	assert_int_equal(ufs_check(&fake), ATR_E_INTERNAL);
	ops = *local->ops;
	ops.version = 1;
	assert_int_equal(ufs_check(&fake), ATR_E_INTERNAL);
	log_set_level(LOG_WARN);
	assert_string_equal(ufs_cap_name(UFS_CAP_SERVER_COPY), "SERVER_COPY");
	ufs_free(local);
	dispose(f);
}

/* A driver with the mandatory core only (an S3 bucket without server-side
 * copy or parts): S3's objects work, copies go through the cache, and
 * what needs a capability is ATR_E_NOT_SUPPORTED, never a crash. */
static void core_only_driver(void **state)
{
	struct ctx x = { 0 };
	struct ufs_fault_plan bare = { .hide_caps = UFS_CAP_ALL };
	start(&x, &bare);
	struct fixture *f = x.f;
	assert_int_equal(f->c->ufs->caps, 0);

	/* PUT, GET, overwrite, copy (through the cache), DELETE */
	setup_copy(&x);
	assert_int_equal(state_k(&x), S_OLD);
	assert_int_equal(run_copy(&x), ATR_OK);
	assert_int_equal(state_copy(&x), S_NEW);
	assert_int_equal(atr_object_delete(f->c, &root, "bkt", "k"), ATR_OK);
	assert_int_equal(obj_is(f->c, "k", NULL, 0, NULL, HDR_NEW), 0);
	assert_int_equal(run_put_new(&x), ATR_OK);
	assert_int_equal(state_put_new(&x), S_NEW);

	/* RENAME, LINKS, PARTS */
	struct meta_row row = { 0 };
	assert_int_equal(meta_obj_get(f->c->meta, "bkt", "src", &row, 0), ATR_OK);
	assert_int_equal(ns_rename(f->c, "bkt", "src", "bkt", "moved", 0, 0), ATR_E_NOT_SUPPORTED);
	assert_int_equal(ns_link(f->c, "bkt", "src", obj_node(&row.obj), "bkt", "k2"),
			 ATR_E_NOT_SUPPORTED);
	assert_int_equal(atr_mpu_create(f->c, &root, "bkt", "mpu", NULL, x.upload),
			 ATR_E_NOT_SUPPORTED);
	assert_int_equal(obj_is(f->c, "src", new_bytes, NEW_LEN, NULL, "text/src"), 1);
	assert_int_equal(obj_is(f->c, "moved", NULL, 0, NULL, ""), 0);

	/* the mount: RANDOM_WRITE, TIMES, STATFS */
	struct atr_file *file;
	struct atr_attr a;
	struct statvfs sv;
	uint64_t ino, bucket_ino;
	assert_int_equal(lookup(f->c, "bkt", "src", &ino), ATR_OK);
	assert_int_equal(atr_node_open(f->c, ino, ATR_OPEN_WRITE | ATR_OPEN_TRUNC, &file),
			 ATR_E_NOT_SUPPORTED);
	assert_int_equal(atr_node_open(f->c, ino, ATR_OPEN_WRITE, &file), ATR_OK);
	assert_int_equal(atr_file_write(file, "x", 1, 0), ATR_E_NOT_SUPPORTED);
	atr_file_close(file);
	struct atr_setattr sa = { .valid = ATR_SET_MTIME, .mtime_ns = 1000000000 };
	assert_int_equal(atr_node_setattr(f->c, ino, NULL, &sa, &a), ATR_E_NOT_SUPPORTED);
	assert_int_equal(atr_node_statfs(f->c, &sv), ATR_E_NOT_SUPPORTED);
	assert_int_equal(lookup(f->c, "bkt", "d1", &bucket_ino), ATR_OK);
	assert_int_equal(atr_node_link(f->c, ino, bucket_ino, "k3", &a), ATR_E_NOT_SUPPORTED);
	assert_int_equal(obj_is(f->c, "src", new_bytes, NEW_LEN, NULL, "text/src"), 1);

	/* ufs_stage_copy's fallback: through this process */
	struct ufs_file *uf;
	struct ufs_stage *stage;
	struct ufs_stat st;
	char path[128];
	unsigned char back[NEW_LEN];
	assert_int_equal(ufs_open(f->c->ufs, "bkt/src", &uf, &st), ATR_OK);
	assert_int_equal(ufs_stage_open(f->c->ufs, &stage), ATR_OK);
	assert_int_equal(ufs_stage_copy(f->c->ufs, stage, uf, 100, 5000), ATR_OK);
	assert_int_equal(ufs_stage_copy(f->c->ufs, stage, uf, NEW_LEN - 10, 11), ATR_E_IO);
	assert_int_equal(ufs_stage_commit(f->c->ufs, stage, "bkt/copied", &st), ATR_OK);
	ufs_close(f->c->ufs, uf);
	snprintf(path, sizeof(path), "%s/ufs/bkt/copied", f->dir);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, back, sizeof(back)), 5000); /* nothing of the failed one */
	close(fd);
	assert_memory_equal(back, new_bytes + 100, 5000);

	/* a file met in the UFS is hashed as all data (no SPARSE) */
	snprintf(path, sizeof(path), "%s/ufs/bkt/sparse", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "x", 1, 70000), 1);
	close(fd);
	unsigned char *want = calloc(1, 70001);
	want[70000] = 'x';
	struct atr_obj o = { 0 };
	char etag[ATR_ETAG_MAX + 1];
	md5_hex(want, 70001, etag);
	free(want);
	assert_int_equal(atr_object_stat(f->c, &root, "bkt", "sparse", &o), ATR_OK);
	assert_string_equal(o.etag, etag);
	atr_obj_release(&o);

	/* and a start without PARTS does not look for parts */
	atr_core_close(f->c);
	reopen(&x, &bare);
	assert_int_equal(state_put_new(&x), S_NEW);
	dispose(f);
}

static int report(void **state)
{
	print_message("%lu fault cases\n", cases);
	return 0;
}

int main(void)
{
	log_set_level(LOG_WARN);
	fill(old_bytes, OLD_LEN, 1);
	fill(new_bytes, NEW_LEN, 2);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(put_new_key),
		cmocka_unit_test(put_over_object),
		cmocka_unit_test(multipart_part),
		cmocka_unit_test(multipart_complete),
		cmocka_unit_test(copy_object),
		cmocka_unit_test(rename_over_file),
		cmocka_unit_test(rename_directory),
		cmocka_unit_test(hard_link),
		cmocka_unit_test(commit_to_two_names),
		cmocka_unit_test(mount_rewrite),
		cmocka_unit_test(delete_object),
		cmocka_unit_test(put_below_an_object),
		cmocka_unit_test(put_over_a_directory),
		cmocka_unit_test(put_marker_with_bytes),
		cmocka_unit_test(delete_object_aside),
		cmocka_unit_test(versioned_put_over),
		cmocka_unit_test(versioned_delete_marker),
		cmocka_unit_test(versioned_undelete),
		cmocka_unit_test(owed_until_the_store_heals),
		cmocka_unit_test(owed_finished_at_start),
		cmocka_unit_test(directory_gone_below_rows),
		cmocka_unit_test(short_reads_are_errors),
		cmocka_unit_test(table_checked),
		cmocka_unit_test(core_only_driver),
	};
	return cmocka_run_group_tests(tests, NULL, report);
}
