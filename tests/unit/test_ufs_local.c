/*
 * The local UFS driver's confinement (src/ufs_local.c): symbolic links
 * planted in the tree — to a directory outside, to a file outside, as a
 * bucket, relative or absolute — are never followed by any op, so nothing
 * outside the root is read, created, renamed, replaced or removed; "..", absolute
 * paths likewise. Ordinary operations still work around them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "src/ufs_int.h"

#define SECRET "the secret outside\n"

struct fixture {
	char dir[64];
	char root[128], outside[128];
	struct ufs *u;
};

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(data, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void at(const struct fixture *f, const char *base, const char *rel, char *out, size_t size)
{
	snprintf(out, size, "%s/%s%s%s", f->dir, base, *rel ? "/" : "", rel);
}

static void plant(const struct fixture *f, const char *target, const char *link_rel)
{
	char link[256];
	at(f, "ufs", link_rel, link, sizeof(link));
	assert_int_equal(symlink(target, link), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char p[256];
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-ufs-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	at(f, "ufs", "", f->root, sizeof(f->root));
	at(f, "outside", "", f->outside, sizeof(f->outside));
	assert_int_equal(mkdir(f->outside, 0755), 0);
	at(f, "outside", "sub", p, sizeof(p));
	assert_int_equal(mkdir(p, 0755), 0);
	at(f, "outside", "secret", p, sizeof(p));
	write_file(p, SECRET);
	log_set_level(LOG_WARN);
	assert_int_equal(ufs_local_new(f->root, &f->u), ATR_OK);
	assert_int_equal(ufs_mkdir(f->u, "b"), ATR_OK);
	assert_int_equal(ufs_mkdir(f->u, "b/real"), ATR_OK);
	plant(f, f->outside, "b/link");         /* a directory outside */
	at(f, "outside", "secret", p, sizeof(p));
	plant(f, p, "b/flink");                 /* a file outside */
	plant(f, "../../outside", "b/up");      /* relative */
	plant(f, "/", "b/real/slash");          /* the whole file system */
	plant(f, f->outside, "evil");           /* a "bucket" */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	ufs_free(f->u);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* outside/ still holds exactly secret (unchanged) and sub/. */
static void outside_untouched(const struct fixture *f)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && test \"$(find . | sort | tr '\\n' ' ')\" = '. ./secret ./sub ' && "
		 "printf '%%s' '" SECRET "' | cmp -s - secret", f->outside);
	assert_int_equal(system(cmd), 0);
}

static int count_cb(void *arg, const char *name, const struct ufs_stat *st)
{
	(*(int *)arg)++;
	return 0;
}

/* Paths that lead through a symlink, "..", or out of the root. */
static const char *const escapes[] = {
	"b/link/secret", "b/up/secret", "b/real/slash/etc/hostname", "evil/secret",
	"b/link/sub/x", "b/../../outside/secret", "b/real/../../../outside/secret",
	"/etc/hostname",
};
#define NESCAPES (sizeof(escapes) / sizeof(escapes[0]))

static void test_reads_do_not_follow(void **state)
{
	struct fixture *f = *state;
	struct ufs_stat st;
	struct ufs_file *file;

	for (size_t i = 0; i < NESCAPES; i++) {
		if (ufs_stat(f->u, escapes[i], &st) == ATR_OK)
			fail_msg("stat %s succeeded", escapes[i]);
		if (ufs_open(f->u, escapes[i], &file, &st) == ATR_OK)
			fail_msg("open %s succeeded", escapes[i]);
	}
	/* A symlink in last place is opened as nothing, stat'ed as itself. */
	assert_int_equal(ufs_open(f->u, "b/flink", &file, &st), ATR_E_NO_KEY);
	assert_int_equal(ufs_open(f->u, "b/link", &file, &st), ATR_E_NO_KEY);
	assert_int_equal(ufs_stat(f->u, "b/flink", &st), ATR_OK);
	assert_false(st.is_reg || st.is_dir);
	assert_int_equal(ufs_stat(f->u, "evil", &st), ATR_OK);
	assert_false(st.is_reg || st.is_dir);

	int n = 0;
	assert_int_not_equal(ufs_readdir(f->u, "b/link", count_cb, &n), ATR_OK);
	assert_int_not_equal(ufs_readdir(f->u, "evil", count_cb, &n), ATR_OK);
	assert_int_not_equal(ufs_readdir(f->u, "b/real/slash/etc", count_cb, &n), ATR_OK);
	assert_int_equal(n, 0);
	outside_untouched(f);
}

static void test_writes_do_not_follow(void **state)
{
	struct fixture *f = *state;
	struct ufs_stage *s;
	struct ufs_stat st;

	for (size_t i = 0; i < NESCAPES; i++) {
		if (ufs_mkdir(f->u, escapes[i]) == ATR_OK)
			fail_msg("mkdir %s succeeded", escapes[i]);
		ufs_unlink(f->u, escapes[i]);
		ufs_rmdir(f->u, escapes[i]);
		assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
		assert_int_equal(ufs_stage_write(f->u, s, "x", 1), ATR_OK);
		if (ufs_stage_commit(f->u, s, escapes[i], &st) == ATR_OK)
			fail_msg("commit to %s succeeded", escapes[i]);
		ufs_stage_abort(f->u, s); /* a failed commit leaves it ours */
	}
	assert_int_equal(ufs_mkdir(f->u, "b/link/new"), ATR_E_ACCESS);
	assert_int_equal(ufs_unlink(f->u, "b/link/secret"), ATR_E_ACCESS);
	assert_int_equal(ufs_rmdir(f->u, "b/link/sub"), ATR_E_ACCESS);
	/* mkdir over a symlink: something that is not a directory is there */
	assert_int_equal(ufs_mkdir(f->u, "b/link"), ATR_E_PARENT_IS_OBJECT);
	outside_untouched(f);

	/* Aborted after their failed commits, they left no stage behind. */
	int n = 0;
	assert_int_equal(ufs_readdir(f->u, ".atrium/tmp", count_cb, &n), ATR_OK);
	assert_int_equal(n, 0);
}

static void test_rename_does_not_follow(void **state)
{
	struct fixture *f = *state;
	struct ufs_stage *s;
	struct ufs_stat st;

	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_commit(f->u, s, "b/real/mine", &st), ATR_OK);
	for (size_t i = 0; i < NESCAPES; i++) {
		if (ufs_rename(f->u, "b/real/mine", escapes[i]) == ATR_OK)
			fail_msg("rename to %s succeeded", escapes[i]);
		if (ufs_rename(f->u, escapes[i], "b/real/stolen") == ATR_OK)
			fail_msg("rename from %s succeeded", escapes[i]);
	}
	assert_int_equal(ufs_rename(f->u, "b/real/mine", "b/link/mine"), ATR_E_ACCESS);
	assert_int_equal(ufs_stat(f->u, "b/real/mine", &st), ATR_OK);
	assert_int_equal(ufs_stat(f->u, "b/real/stolen", &st), ATR_E_NO_KEY);
	outside_untouched(f);
	/* and within the root it renames */
	assert_int_equal(ufs_rename(f->u, "b/real/mine", "b/moved"), ATR_OK);
	assert_int_equal(ufs_stat(f->u, "b/moved", &st), ATR_OK);
}

/* Hard links: never from or to a path through a symlink; a symlink in last
 * place is linked as itself; a stage's extra names move like the stage. */
static void test_hard_links_do_not_follow(void **state)
{
	struct fixture *f = *state;
	struct ufs_stage *s;
	struct ufs_stat st, st2;
	char name[64];

	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_commit(f->u, s, "b/real/mine", &st), ATR_OK);
	for (size_t i = 0; i < NESCAPES; i++) {
		if (ufs_link(f->u, "b/real/mine", escapes[i]) == ATR_OK)
			fail_msg("link to %s succeeded", escapes[i]);
		if (ufs_link(f->u, escapes[i], "b/real/stolen") == ATR_OK)
			fail_msg("link from %s succeeded", escapes[i]);
	}
	assert_int_equal(ufs_stat(f->u, "b/real/stolen", &st), ATR_E_NO_KEY);
	outside_untouched(f);
	assert_int_equal(ufs_link(f->u, "b/flink", "b/real/flink2"), ATR_OK);
	assert_int_equal(ufs_stat(f->u, "b/real/flink2", &st), ATR_OK);
	assert_false(st.is_reg); /* the symlink itself */
	/* within the root it links, and a taken name is refused */
	assert_int_equal(ufs_link(f->u, "b/real/mine", "b/two"), ATR_OK);
	assert_int_equal(ufs_link(f->u, "b/real/mine", "b/two"), ATR_E_EXISTS);
	assert_int_equal(ufs_stat(f->u, "b/real/mine", &st), ATR_OK);
	assert_int_equal(ufs_stat(f->u, "b/two", &st2), ATR_OK);
	assert_int_equal(st.ino, st2.ino);
	/* one new file under two names: the stage and a second name of it */
	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_write(f->u, s, "v2", 2), ATR_OK);
	assert_int_equal(ufs_stage_link(f->u, s, name, sizeof(name)), ATR_OK);
	assert_int_equal(ufs_stage_commit(f->u, s, "b/real/mine", &st), ATR_OK);
	assert_int_equal(ufs_stage_recover(f->u, name, "b/two"), ATR_OK);
	assert_int_equal(ufs_stat(f->u, "b/two", &st2), ATR_OK);
	assert_int_equal(st.ino, st2.ino);
	assert_int_equal(st2.size, 2);
	/* and a name no commit used is removed */
	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_link(f->u, s, name, sizeof(name)), ATR_OK);
	ufs_stage_abort(f->u, s);
	ufs_stage_forget(f->u, name);
	assert_int_equal(ufs_stage_recover(f->u, name, "b/three"), ATR_E_NO_KEY);
}

static void test_links_themselves_are_replaced_or_removed(void **state)
{
	struct fixture *f = *state;
	struct ufs_stage *s;
	struct ufs_stat st;
	char p[256];

	/* Committing over a file symlink replaces the link, not its target. */
	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_write(f->u, s, "new", 3), ATR_OK);
	assert_int_equal(ufs_stage_commit(f->u, s, "b/flink", &st), ATR_OK);
	assert_true(st.is_reg);
	assert_int_equal(st.size, 3);
	at(f, "ufs", "b/flink", p, sizeof(p));
	assert_int_equal(access(p, F_OK), 0);
	outside_untouched(f);

	/* Unlinking a symlink removes the link only. */
	assert_int_equal(ufs_unlink(f->u, "b/up"), ATR_OK);
	at(f, "ufs", "b/up", p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	outside_untouched(f);
}

static void test_ordinary_paths_work(void **state)
{
	struct fixture *f = *state;
	struct ufs_stage *s;
	struct ufs_stat st;
	struct ufs_file *file;
	char buf[8];

	assert_int_equal(ufs_mkdir(f->u, "b/real/d"), ATR_OK);
	assert_int_equal(ufs_mkdir(f->u, "b/real/d"), ATR_OK); /* exists: fine */
	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_write(f->u, s, "hello", 5), ATR_OK);
	assert_int_equal(ufs_stage_commit(f->u, s, "b/real/d/f", &st), ATR_OK);
	assert_int_equal(ufs_stat(f->u, "b/real/d/f", &st), ATR_OK);
	assert_true(st.is_reg);
	assert_int_equal(ufs_open(f->u, "b/real/d/f", &file, &st), ATR_OK);
	assert_int_equal(ufs_pread(f->u, file, buf, sizeof(buf), 0), 5);
	ufs_close(f->u, file);
	assert_memory_equal(buf, "hello", 5);
	int n = 0;
	assert_int_equal(ufs_readdir(f->u, "b/real", count_cb, &n), ATR_OK);
	assert_int_equal(n, 2); /* d and the slash link (listed, not followed) */
	assert_int_equal(ufs_mkdir(f->u, "b/real/d/f"), ATR_E_PARENT_IS_OBJECT);
	assert_int_equal(ufs_mkdir(f->u, "b/real/d/f/g"), ATR_E_PARENT_IS_OBJECT);
	assert_int_equal(ufs_unlink(f->u, "b/real/d/f"), ATR_OK);
	assert_int_equal(ufs_unlink(f->u, "b/real/d/f"), ATR_OK); /* gone: fine */
	assert_int_equal(ufs_rmdir(f->u, "b/real/d"), ATR_OK);
	assert_int_equal(ufs_stat(f->u, "b/real/d", &st), ATR_E_NO_KEY);
	assert_int_equal(ufs_rmdir(f->u, "b"), ATR_E_BUCKET_NOT_EMPTY);
}

/* Multipart parts (DATA/ufs/.atrium/mpu/<upload>/<part>) are confined the
 * same way: an upload directory or a part swapped for a symlink is never
 * followed by part_commit, stage_append_part, part_unlink or
 * part_remove_upload; ordinary parts still work. */
static void test_parts_do_not_follow(void **state)
{
	struct fixture *f = *state;
	struct ufs_stage *s;
	struct ufs_stat st;
	char p[256], target[256];

	at(f, "outside", "secret", target, sizeof(target));
	plant(f, f->outside, ".atrium/mpu/evil-upload");     /* upload dir -> outside */
	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_write(f->u, s, "x", 1), ATR_OK);
	assert_int_not_equal(ufs_part_commit(f->u, s, "evil-upload", "secret", &st), ATR_OK);
	ufs_stage_abort(f->u, s);
	outside_untouched(f);

	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_write(f->u, s, "part1", 5), ATR_OK);
	assert_int_equal(ufs_part_commit(f->u, s, "up1", "00001", &st), ATR_OK);
	assert_int_equal(st.size, 5);
	plant(f, target, ".atrium/mpu/up1/00002");           /* a part -> outside file */
	assert_int_equal(ufs_stage_open(f->u, &s), ATR_OK);
	assert_int_equal(ufs_stage_append_part(f->u, s, "up1", "00002", 0, 4), ATR_E_NO_KEY);
	assert_int_equal(ufs_stage_append_part(f->u, s, "evil-upload", "secret", 0, 4), ATR_E_NO_KEY);
	assert_int_equal(ufs_stage_append_part(f->u, s, "up1", "00001", 0, 5), ATR_OK);
	assert_int_equal(ufs_stage_commit(f->u, s, "b/real/assembled", &st), ATR_OK);
	assert_int_equal(st.size, 5);
	assert_int_equal(ufs_part_unlink(f->u, "evil-upload", "secret"), ATR_E_ACCESS);
	outside_untouched(f);
	assert_int_equal(ufs_part_remove_upload(f->u, "evil-upload"), ATR_OK); /* the link */
	at(f, "ufs", ".atrium/mpu/evil-upload", p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(ufs_part_remove_upload(f->u, "up1"), ATR_OK);
	outside_untouched(f);
	at(f, "ufs", ".atrium/mpu/up1", p, sizeof(p));
	assert_int_equal(access(p, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_do_not_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_do_not_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_does_not_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_links_do_not_follow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_themselves_are_replaced_or_removed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ordinary_paths_work, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parts_do_not_follow, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
