/*
 * ufs_s3_check — drives the S3 under-storage driver (src/ufs_s3.c) against
 * a real S3 endpoint: run by tests/integration/test_ufs_s3.py, against a
 * second atriumd and against s3rver. Not a cmocka test: it needs a remote.
 *
 *   ufs_s3_check SCENARIO ENDPOINT BUCKET PRIVDIR
 *
 * Credentials come from the environment (UFS_S3_ACCESS_KEY,
 * UFS_S3_SECRET), never the command line; UFS_S3_CA_BUNDLE, if set, is
 * the CA bundle. SCENARIO: "all" (the bucket must exist and be empty),
 * "short" (a short round trip), "vhost" (the same, virtual-host style),
 * "io" (the uploads, reads and stages of "all", not the tree),
 * "nobucket" (BUCKET does not exist), "badsecret" (the secret is
 * wrong), "down" (nothing listens at ENDPOINT). Prints one line per
 * failed check; exits 0 when every check passed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/ufs_int.h"
#include "common/timefmt.h"

static int failures, checks;
static const char *scenario;

#define CHECK(cond) do { \
		checks++; \
		if (!(cond)) { \
			fprintf(stderr, "FAIL %s:%d [%s]: %s\n", __FILE__, __LINE__, scenario, #cond); \
			failures++; \
		} \
	} while (0)
#define CHECK_RC(expr, want) do { \
		int rc_ = (expr); \
		checks++; \
		if (rc_ != (want)) { \
			fprintf(stderr, "FAIL %s:%d [%s]: %s = %s, want %s\n", __FILE__, __LINE__, \
				scenario, #expr, atr_strerror(rc_), atr_strerror(want)); \
			failures++; \
		} \
	} while (0)

static struct ufs_s3_config cfg;
static struct ufs *priv;

static struct ufs *driver(const char *prefix, int64_t sync_ms)
{
	struct ufs_s3_config c = cfg;
	struct ufs *u = NULL;
	c.prefix = prefix;
	c.sync_interval_ms = sync_ms;
	if (ufs_s3_new(&c, priv, &u) || ufs_check(u)) {
		fprintf(stderr, "FAIL: cannot make the driver\n");
		exit(2);
	}
	return u;
}

/* Commits len bytes of data at path; the committed stat into st. */
static int put(struct ufs *u, const char *path, const void *data, size_t len,
	       struct ufs_stat *st)
{
	struct ufs_stage *s = NULL;
	struct ufs_stat tmp;
	int rc = ufs_stage_open(u, &s);
	if (rc)
		return rc;
	if ((rc = ufs_stage_write(u, s, data, len)) ||
	    (rc = ufs_stage_commit(u, s, path, st ? st : &tmp)))
		ufs_stage_abort(u, s);
	return rc;
}

/* The whole file at path, read in chunks of chunk bytes; malloc'd. */
static char *get(struct ufs *u, const char *path, size_t chunk, size_t *len)
{
	struct ufs_file *f = NULL;
	struct ufs_stat st;
	if (ufs_open(u, path, &f, &st))
		return NULL;
	char *buf = malloc(st.size + 1);
	size_t got = 0;
	while (buf && got < st.size) {
		ssize_t n = ufs_pread(u, f, buf + got, chunk, got);
		if (n <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)n;
	}
	ufs_close(u, f);
	*len = got;
	return buf;
}

struct names {
	int n, dirs;
	char seen[8][64];
};

static int collect(void *arg, const char *name, const struct ufs_stat *st)
{
	struct names *d = arg;
	if (d->n < 8)
		snprintf(d->seen[d->n], sizeof(d->seen[0]), "%s%s", name, st->is_dir ? "/" : "");
	d->n++;
	d->dirs += st->is_dir;
	return 0;
}

static int has(const struct names *d, const char *name)
{
	for (int i = 0; i < d->n && i < 8; i++)
		if (!strcmp(d->seen[i], name))
			return 1;
	return 0;
}

static void fill(char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (char)((i * 2654435761u + seed) >> 13);
}

static void check_tree(struct ufs *u)
{
	struct ufs_stat st, cst;
	struct names d;
	CHECK_RC(ufs_stat(u, "", &st), ATR_OK);
	CHECK(st.is_dir);
	CHECK_RC(put(u, "a/b/hello.txt", "hello world", 11, &cst), ATR_OK);
	CHECK(cst.is_reg && cst.size == 11);
	CHECK_RC(ufs_stat(u, "a/b/hello.txt", &st), ATR_OK);
	CHECK(st.is_reg && st.size == 11 && st.mtime_ns == cst.mtime_ns);
	CHECK(st.mtime_ns > (time_now_ns() - 3600LL * 1000000000) && st.mtime_ns % 1000000000 == 0);
	CHECK_RC(ufs_stat(u, "a", &st), ATR_OK);
	CHECK(st.is_dir);
	CHECK_RC(ufs_stat(u, "a/b", &st), ATR_OK);
	CHECK(st.is_dir);
	CHECK_RC(ufs_stat(u, "nope", &st), ATR_E_NO_KEY);
	CHECK_RC(ufs_stat(u, "a/b/hello", &st), ATR_E_NO_KEY);

	/* ranges */
	struct ufs_file *f = NULL;
	char buf[64];
	CHECK_RC(ufs_open(u, "a/b/hello.txt", &f, &st), ATR_OK);
	CHECK(st.size == 11);
	if (f) {
		CHECK(ufs_pread(u, f, buf, 5, 0) == 5 && !memcmp(buf, "hello", 5));
		CHECK(ufs_pread(u, f, buf, 60, 6) == 5 && !memcmp(buf, "world", 5));
		CHECK(ufs_pread(u, f, buf, 1, 10) == 1 && buf[0] == 'd');
		CHECK(ufs_pread(u, f, buf, 10, 11) == 0);
		CHECK(ufs_pread(u, f, buf, 10, 1000) == 0);
		ufs_close(u, f);
	}
	f = NULL;
	CHECK_RC(ufs_open(u, "nope", &f, &st), ATR_E_NO_KEY);
	CHECK(!f);

	/* readdir: a file, a directory, a marker */
	CHECK_RC(ufs_mkdir(u, "a/b/sub"), ATR_OK);
	memset(&d, 0, sizeof(d));
	CHECK_RC(ufs_readdir(u, "a/b", collect, &d), ATR_OK);
	CHECK(d.n == 2 && has(&d, "hello.txt") && has(&d, "sub/"));
	memset(&d, 0, sizeof(d));
	CHECK_RC(ufs_readdir(u, "a/b/sub", collect, &d), ATR_OK);
	CHECK(d.n == 0);
	memset(&d, 0, sizeof(d));
	CHECK_RC(ufs_readdir(u, "", collect, &d), ATR_OK);
	/* s3rver 3.7 leaves out a common prefix with no key right below it
	 * (its file-system walk skips it): a bug of the store, not ours. */
	if (!getenv("UFS_S3_QUIRK_DEEP_PREFIX"))
		CHECK(has(&d, "a/"));
	CHECK_RC(ufs_readdir(u, "nothere", collect, &d), ATR_E_NO_KEY);

	/* mkdir, rmdir, unlink */
	CHECK_RC(ufs_mkdir(u, "d1"), ATR_OK);
	CHECK_RC(ufs_mkdir(u, "d1"), ATR_OK);
	CHECK_RC(ufs_stat(u, "d1", &st), ATR_OK);
	CHECK(st.is_dir);
	CHECK_RC(ufs_mkdir(u, "a/b/hello.txt"), ATR_E_PARENT_IS_OBJECT);
	CHECK_RC(ufs_mkdir(u, ""), ATR_OK);
	CHECK_RC(ufs_rmdir(u, "a"), ATR_E_BUCKET_NOT_EMPTY);
	CHECK_RC(ufs_rmdir(u, "a/b"), ATR_E_BUCKET_NOT_EMPTY);
	CHECK_RC(ufs_rmdir(u, "a/b/sub"), ATR_OK);
	CHECK_RC(ufs_rmdir(u, "d1"), ATR_OK);
	CHECK_RC(ufs_stat(u, "d1", &st), ATR_E_NO_KEY);
	CHECK_RC(ufs_rmdir(u, "d1"), ATR_OK);
	CHECK_RC(ufs_rmdir(u, ""), ATR_OK);
	CHECK_RC(ufs_stat(u, "", &st), ATR_OK);
	CHECK_RC(ufs_unlink(u, "a/b/hello.txt"), ATR_OK);
	CHECK_RC(ufs_stat(u, "a/b/hello.txt", &st), ATR_E_NO_KEY);
	CHECK_RC(ufs_stat(u, "a", &st), ATR_E_NO_KEY);
	CHECK_RC(ufs_unlink(u, "a/b/hello.txt"), ATR_OK);

	/* keys that need encoding, in the path and in a listing's prefix */
	static const char odd[] = "sp ace/\xc3\xbc+%=&?*;~.txt";
	CHECK_RC(put(u, odd, "odd", 3, &cst), ATR_OK);
	CHECK_RC(ufs_stat(u, odd, &st), ATR_OK);
	CHECK(st.is_reg && st.size == 3);
	memset(&d, 0, sizeof(d));
	CHECK_RC(ufs_readdir(u, "sp ace", collect, &d), ATR_OK);
	CHECK(d.n == 1 && has(&d, odd + strlen("sp ace/")));
	size_t got;
	char *back = get(u, odd, 2, &got);
	CHECK(back && got == 3 && !memcmp(back, "odd", 3));
	free(back);
	CHECK_RC(ufs_unlink(u, odd), ATR_OK);
	CHECK_RC(ufs_stat(u, "sp ace", &st), ATR_E_NO_KEY);
}

/* Large enough for a multipart upload (part_size is 1 MiB here), read
 * back in odd-sized chunks. */
static void check_big(struct ufs *u)
{
	size_t len = (3u << 20) + 12345, got = 0;
	char *data = malloc(len);
	struct ufs_stat st;
	fill(data, len, 7);
	CHECK_RC(put(u, "big/blob", data, len, &st), ATR_OK);
	CHECK(st.size == len);
	char *back = get(u, "big/blob", 777777, &got);
	CHECK(back && got == len && !memcmp(back, data, len));
	free(back);
	/* below part_size: one PUT */
	CHECK_RC(put(u, "big/small", data, 1000, &st), ATR_OK);
	back = get(u, "big/small", 300, &got);
	CHECK(back && got == 1000 && !memcmp(back, data, 1000));
	free(back);
	/* empty */
	CHECK_RC(put(u, "big/empty", "", 0, &st), ATR_OK);
	CHECK(st.size == 0 && st.is_reg);
	CHECK_RC(ufs_stat(u, "big/empty", &st), ATR_OK);
	CHECK(st.size == 0 && st.is_reg);
	free(data);
}

/* An object replaced between open and pread is an error, never a mix. */
static void check_changed(struct ufs *u)
{
	struct ufs_file *f = NULL;
	struct ufs_stat st;
	char buf[16];
	CHECK_RC(put(u, "chg", "version one", 11, NULL), ATR_OK);
	CHECK_RC(ufs_open(u, "chg", &f, &st), ATR_OK);
	if (!f)
		return;
	CHECK(ufs_pread(u, f, buf, 7, 0) == 7 && !memcmp(buf, "version", 7));
	CHECK_RC(put(u, "chg", "VERSION TWO", 11, NULL), ATR_OK);
	CHECK(ufs_pread(u, f, buf, 7, 0) < 0);
	ufs_close(u, f);
	CHECK_RC(ufs_unlink(u, "chg"), ATR_OK);
}

static void check_stages(struct ufs *u, const char *privdir)
{
	struct ufs_stage *s = NULL;
	struct ufs_stat st;
	char name[64], path[512], buf[64];
	/* kept, then recovered */
	CHECK_RC(ufs_stage_open(u, &s), ATR_OK);
	CHECK_RC(ufs_stage_write(u, s, "recovered!", 10), ATR_OK);
	CHECK_RC(ufs_stage_prepare(u, s, name, sizeof(name), &st), ATR_OK);
	CHECK(st.size == 10);
	ufs_stage_keep(u, s);
	snprintf(path, sizeof(path), "%s/.atrium/tmp/%s", privdir, name);
	CHECK(!access(path, F_OK));
	CHECK_RC(ufs_stage_recover(u, name, "rec/x"), ATR_OK);
	CHECK(access(path, F_OK));
	CHECK_RC(ufs_stat(u, "rec/x", &st), ATR_OK);
	CHECK(st.size == 10);
	CHECK_RC(ufs_stage_recover(u, name, "rec/x"), ATR_E_NO_KEY);

	/* random writes */
	s = NULL;
	CHECK_RC(ufs_stage_open(u, &s), ATR_OK);
	CHECK_RC(ufs_stage_pwrite(u, s, "xyz", 3, 5), ATR_OK);
	CHECK(ufs_stage_pread(u, s, buf, 8, 0) == 8 && !memcmp(buf, "\0\0\0\0\0xyz", 8));
	CHECK_RC(ufs_stage_truncate(u, s, 6), ATR_OK);
	CHECK_RC(ufs_stage_commit(u, s, "rw", &st), ATR_OK);
	CHECK(st.size == 6);
	size_t got;
	char *back = get(u, "rw", 100, &got);
	CHECK(back && got == 6 && !memcmp(back, "\0\0\0\0\0x", 6));
	free(back);

	/* a stage aborted: nothing remote */
	s = NULL;
	CHECK_RC(ufs_stage_open(u, &s), ATR_OK);
	CHECK_RC(ufs_stage_write(u, s, "x", 1), ATR_OK);
	ufs_stage_abort(u, s);
	CHECK_RC(ufs_stat(u, "aborted", &st), ATR_E_NO_KEY);

	/* a commit over a path that cannot be: the stage stays the caller's */
	s = NULL;
	CHECK_RC(ufs_stage_open(u, &s), ATR_OK);
	CHECK_RC(ufs_stage_write(u, s, "x", 1), ATR_OK);
	CHECK_RC(ufs_stage_commit(u, s, "", &st), ATR_E_KEY_IS_PREFIX);
	ufs_stage_abort(u, s);

	/* parts */
	s = NULL;
	CHECK_RC(ufs_stage_open(u, &s), ATR_OK);
	CHECK_RC(ufs_stage_write(u, s, "part-one", 8), ATR_OK);
	CHECK_RC(ufs_part_commit(u, s, "up1", "p1", &st), ATR_OK);
	CHECK(st.size == 8);
	struct names d = { 0 };
	CHECK_RC(ufs_part_readdir(u, "up1", collect, &d), ATR_OK);
	CHECK(d.n == 1 && has(&d, "p1"));
	s = NULL;
	CHECK_RC(ufs_stage_open(u, &s), ATR_OK);
	CHECK_RC(ufs_stage_append_part(u, s, "up1", "p1", 5, 3), ATR_OK);
	CHECK_RC(ufs_stage_append_part(u, s, "up1", "p1", 0, 4), ATR_OK);
	CHECK_RC(ufs_stage_commit(u, s, "parts/whole", &st), ATR_OK);
	back = get(u, "parts/whole", 100, &got);
	CHECK(back && got == 7 && !memcmp(back, "onepart", 7));
	free(back);
	CHECK_RC(ufs_part_unlink(u, "up1", "p1"), ATR_OK);
	CHECK_RC(ufs_part_remove_upload(u, "up1"), ATR_OK);
	memset(&d, 0, sizeof(d));
	CHECK_RC(ufs_part_readdir(u, NULL, collect, &d), ATR_OK);
	CHECK(d.n == 0);

	/* what the driver cannot do is refused, never a crash */
	CHECK_RC(ufs_rename(u, "rw", "rw2"), ATR_E_NOT_SUPPORTED);
	CHECK_RC(ufs_utimens(u, "rw", 0, 0, &st), ATR_E_NOT_SUPPORTED);
	CHECK(!ufs_can(u, UFS_CAP_LINKS) && ufs_can(u, UFS_CAP_PARTS | UFS_CAP_RANDOM_WRITE));
}

#define MANY 1100
#define MANY_THREADS 4

struct many {
	struct ufs *u;
	int from;
	int rc;
};

static void *put_many(void *arg)
{
	struct many *m = arg;
	char path[64];
	for (int i = m->from; i < MANY && !m->rc; i += MANY_THREADS) {
		snprintf(path, sizeof(path), "many/k%05d", i);
		m->rc = put(m->u, path, path, strlen(path), NULL);
	}
	return NULL;
}

struct counted {
	int files, dirs, bad;
};

static int count(void *arg, const char *name, const struct ufs_stat *st)
{
	struct counted *c = arg;
	if (st->is_dir)
		c->dirs++;
	else if (st->size == strlen("many/") + strlen(name))
		c->files++;
	else
		c->bad++;
	return 0;
}

/* More keys than one listing page (1000), from several threads at once. */
static void check_many(struct ufs *u)
{
	pthread_t th[MANY_THREADS];
	struct many m[MANY_THREADS];
	for (int i = 0; i < MANY_THREADS; i++) {
		m[i] = (struct many){ u, i, 0 };
		pthread_create(&th[i], NULL, put_many, &m[i]);
	}
	for (int i = 0; i < MANY_THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_RC(m[i].rc, ATR_OK);
	}
	CHECK_RC(ufs_mkdir(u, "many/zdir"), ATR_OK);
	struct counted c = { 0 };
	CHECK_RC(ufs_readdir(u, "many", count, &c), ATR_OK);
	CHECK(c.files == MANY && c.dirs == 1 && !c.bad);
}

/* Directories' mtimes are sync periods; a prefix is a root of its own. */
static void check_periods_prefix(void)
{
	struct ufs_stat st, st2;
	struct ufs *never = driver(NULL, -1), *hour = driver(NULL, 3600 * 1000);
	struct ufs *pre = driver("pre/fix", 0), *plain = driver(NULL, 0);
	CHECK_RC(ufs_stat(never, "", &st), ATR_OK);
	CHECK(st.mtime_ns == 1000000000LL);
	CHECK_RC(ufs_stat(hour, "", &st), ATR_OK);
	CHECK(st.mtime_ns % (3600LL * 1000000000) == 0 &&
	      st.mtime_ns > time_now_ns() - 3601LL * 1000000000);
	CHECK_RC(ufs_stat(plain, "", &st), ATR_OK);
	usleep(2000);
	CHECK_RC(ufs_stat(plain, "", &st2), ATR_OK);
	CHECK(st2.mtime_ns > st.mtime_ns);

	struct names d = { 0 };
	CHECK_RC(ufs_readdir(pre, "", collect, &d), ATR_OK); /* an empty prefix root */
	CHECK(d.n == 0);
	CHECK_RC(put(pre, "k", "in prefix", 9, NULL), ATR_OK);
	CHECK_RC(ufs_stat(plain, "pre/fix/k", &st), ATR_OK);
	CHECK(st.size == 9);
	memset(&d, 0, sizeof(d));
	CHECK_RC(ufs_readdir(pre, "", collect, &d), ATR_OK);
	CHECK(d.n == 1 && has(&d, "k"));
	CHECK_RC(ufs_stat(pre, "k", &st), ATR_OK);
	CHECK_RC(ufs_unlink(pre, "k"), ATR_OK);
	CHECK_RC(ufs_stat(plain, "pre/fix/k", &st), ATR_E_NO_KEY);

	/* A file's stat is kept for its period (never's: -1 is one period
	 * for ever, so none ends mid-test), never with 0 (plain). */
	CHECK_RC(put(plain, "cached/x", "12345", 5, NULL), ATR_OK);
	CHECK_RC(ufs_stat(never, "cached/x", &st), ATR_OK);
	CHECK(st.size == 5);
	CHECK_RC(put(plain, "cached/x", "12345678", 8, NULL), ATR_OK);
	CHECK_RC(ufs_stat(never, "cached/x", &st), ATR_OK);
	CHECK(st.size == 5);
	CHECK_RC(ufs_stat(plain, "cached/x", &st), ATR_OK);
	CHECK(st.size == 8);
	memset(&d, 0, sizeof(d));
	CHECK_RC(ufs_readdir(never, "cached", collect, &d), ATR_OK); /* a listing refreshes it */
	CHECK_RC(ufs_stat(never, "cached/x", &st), ATR_OK);
	CHECK(st.size == 8);
	CHECK_RC(put(never, "cached/x", "123", 3, NULL), ATR_OK); /* so do its own commits */
	CHECK_RC(ufs_stat(never, "cached/x", &st), ATR_OK);
	CHECK(st.size == 3);
	CHECK_RC(ufs_unlink(never, "cached/x"), ATR_OK); /* and unlinks */
	CHECK_RC(ufs_stat(never, "cached/x", &st), ATR_E_NO_KEY);

	ufs_free(never);
	ufs_free(hour);
	ufs_free(pre);
	ufs_free(plain);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: ufs_s3_check SCENARIO ENDPOINT BUCKET PRIVDIR\n");
		return 2;
	}
	scenario = argv[1];
	cfg.endpoint = argv[2];
	cfg.bucket = argv[3];
	cfg.access_key = getenv("UFS_S3_ACCESS_KEY");
	cfg.secret = getenv("UFS_S3_SECRET");
	cfg.path_style = strcmp(scenario, "vhost") != 0;
	cfg.ca_bundle = getenv("UFS_S3_CA_BUNDLE");
	cfg.part_size = 1u << 20;
	cfg.parallel_parts = 3;
	if (!cfg.access_key || !cfg.secret) {
		fprintf(stderr, "UFS_S3_ACCESS_KEY and UFS_S3_SECRET must be set\n");
		return 2;
	}
	if (ufs_local_new(argv[4], &priv)) {
		fprintf(stderr, "cannot make the private area %s\n", argv[4]);
		return 2;
	}
	struct ufs *u = driver(NULL, 0);
	struct ufs_stat st;
	struct names d = { 0 };
	if (!strcmp(scenario, "all")) {
		check_tree(u);
		check_big(u);
		check_changed(u);
		check_stages(u, argv[4]);
		check_many(u);
		check_periods_prefix();
	} else if (!strcmp(scenario, "io")) {
		check_big(u);
		check_changed(u);
		check_stages(u, argv[4]);
	} else if (!strcmp(scenario, "vhost") || !strcmp(scenario, "short")) {
		CHECK_RC(ufs_stat(u, "", &st), ATR_OK);
		CHECK_RC(put(u, "v/k", "virtual", 7, &st), ATR_OK);
		size_t got;
		char *back = get(u, "v/k", 3, &got);
		CHECK(back && got == 7 && !memcmp(back, "virtual", 7));
		free(back);
		CHECK_RC(ufs_readdir(u, "v", collect, &d), ATR_OK);
		CHECK(d.n == 1 && has(&d, "k"));
		CHECK_RC(ufs_unlink(u, "v/k"), ATR_OK);
	} else if (!strcmp(scenario, "nobucket")) {
		CHECK_RC(ufs_stat(u, "", &st), ATR_E_NO_BUCKET);
		CHECK_RC(ufs_stat(u, "x", &st), ATR_E_NO_BUCKET);
		CHECK_RC(ufs_readdir(u, "", collect, &d), ATR_E_NO_BUCKET);
		CHECK_RC(ufs_mkdir(u, ""), ATR_E_NO_BUCKET);
		CHECK(put(u, "x", "x", 1, NULL) != ATR_OK);
	} else if (!strcmp(scenario, "badsecret")) {
		struct ufs_file *f = NULL;
		CHECK_RC(ufs_stat(u, "", &st), ATR_E_ACCESS);
		CHECK_RC(ufs_stat(u, "x", &st), ATR_E_ACCESS);
		CHECK_RC(ufs_open(u, "x", &f, &st), ATR_E_ACCESS);
		CHECK_RC(ufs_readdir(u, "", collect, &d), ATR_E_ACCESS);
		CHECK_RC(put(u, "x", "x", 1, NULL), ATR_E_ACCESS);
		CHECK_RC(ufs_unlink(u, "x"), ATR_E_ACCESS);
	} else if (!strcmp(scenario, "down")) {
		CHECK_RC(ufs_stat(u, "", &st), ATR_E_IO);
		CHECK_RC(ufs_stat(u, "x", &st), ATR_E_IO);
		CHECK_RC(put(u, "x", "x", 1, NULL), ATR_E_IO);
	} else {
		fprintf(stderr, "unknown scenario %s\n", scenario);
		failures++;
	}
	ufs_free(u);
	ufs_free(priv);
	printf("ufs_s3_check %s: %s (%d checks, %d failed)\n", scenario,
	       failures ? "FAILED" : "ok", checks, failures);
	return failures ? 1 : 0;
}
