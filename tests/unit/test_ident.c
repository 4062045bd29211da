/* The credentials file and the users' table (src/ident.c): loading,
 * lookups that skip inactive keys, changes written to the file before
 * they are seen, re-reading, and lookups racing changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/log.h"
#include "src/atrium.h"

struct files {
	char dir[64], path[96];
};

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static int setup(void **state)
{
	struct files *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/atrium-ident-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/credentials", f->dir);
	write_text(f->path, "# users\nAK1 secret1 alice Alice A.\n!AK2 secret2 bob\n"
		   "AK3 secret3 bob Bob\n", 0600);
	log_set_level(LOG_OFF);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct files *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		return -1;
	free(f);
	return 0;
}

static void load_and_find(void **state)
{
	struct files *f = *state;
	struct atr_ident id;
	struct atr_idents *ids = atr_idents_load(f->path);
	assert_non_null(ids);
	assert_int_equal(atr_idents_find(ids, "AK1", &id), ATR_OK);
	assert_string_equal(id.user, "alice");
	assert_string_equal(id.secret, "secret1");
	assert_string_equal(id.display, "Alice A.");
	/* An inactive key signs nothing; its user still exists. */
	assert_int_equal(atr_idents_find(ids, "AK2", &id), ATR_E_NO_KEY);
	assert_int_equal(atr_idents_find(ids, "AK3", &id), ATR_OK);
	assert_int_equal(atr_idents_find_user(ids, "bob", &id), ATR_OK);
	assert_string_equal(id.secret, ""); /* never handed out by name */
	assert_int_equal(atr_idents_find_user(ids, "carol", NULL), ATR_E_NO_KEY);
	atr_idents_free(ids);
}

static void refused_files(void **state)
{
	struct files *f = *state;
	static const char *const bad[] = {
		"AK1 secret1\n",                        /* no user */
		"AK1 s1 alice\nAK1 s2 bob\n",          /* a key twice */
		"AK1 s1 a/b\n",                         /* a name no ARN can hold */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(f->path, bad[i], 0600);
		assert_null(atr_idents_load(f->path));
	}
	write_text(f->path, "AK1 s1 alice\n", 0644); /* others may read it */
	assert_null(atr_idents_load(f->path));
}

/* The file as loaded now (a fresh load of it). */
static struct atr_idents *reread(const struct files *f)
{
	struct atr_idents *ids = atr_idents_load(f->path);
	assert_non_null(ids);
	return ids;
}

static void changes_are_written_first(void **state)
{
	struct files *f = *state;
	struct atr_ident dave, again, id;
	struct stat st;
	struct atr_idents *ids = atr_idents_load(f->path);
	assert_non_null(ids);

	assert_int_equal(atr_idents_add(ids, "dave", "Dave D", &dave), ATR_OK);
	assert_int_equal(strlen(dave.access_key), 20);
	assert_int_equal(strlen(dave.secret), 40);
	assert_int_equal(atr_idents_add(ids, "dave", NULL, &again), ATR_E_EXISTS);
	assert_int_equal(atr_idents_add(ids, "bad name", NULL, &again), ATR_E_INVALID_ARG);
	assert_int_equal(atr_idents_add(ids, "eve", "two\nlines", &again), ATR_E_INVALID_ARG);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	struct atr_idents *disk = reread(f);
	assert_int_equal(atr_idents_find(disk, dave.access_key, &id), ATR_OK);
	assert_string_equal(id.secret, dave.secret);
	assert_string_equal(id.display, "Dave D");
	atr_idents_free(disk);

	/* Disabled: both here and in the file; enabled again. */
	assert_int_equal(atr_idents_set_active(ids, "dave", 0), ATR_OK);
	assert_int_equal(atr_idents_find(ids, dave.access_key, &id), ATR_E_NO_KEY);
	disk = reread(f);
	assert_int_equal(atr_idents_find(disk, dave.access_key, &id), ATR_E_NO_KEY);
	atr_idents_free(disk);
	assert_int_equal(atr_idents_set_active(ids, "dave", 1), ATR_OK);
	assert_int_equal(atr_idents_find(ids, dave.access_key, &id), ATR_OK);

	/* Rotation: every old key of bob goes, one new one comes. */
	assert_int_equal(atr_idents_rotate(ids, "bob", &again), ATR_OK);
	assert_int_equal(atr_idents_find(ids, "AK3", &id), ATR_E_NO_KEY);
	assert_int_equal(atr_idents_find(ids, again.access_key, &id), ATR_OK);
	assert_string_equal(id.user, "bob");
	assert_string_equal(id.display, "Bob");
	struct atr_ident *v;
	size_t n, bobs = 0;
	assert_int_equal(atr_idents_list(ids, &v, &n), ATR_OK);
	for (size_t i = 0; i < n; i++) {
		bobs += !strcmp(v[i].user, "bob");
		assert_string_equal(v[i].secret, "");
	}
	free(v);
	assert_int_equal(bobs, 1);

	assert_int_equal(atr_idents_remove(ids, "dave"), ATR_OK);
	assert_int_equal(atr_idents_remove(ids, "dave"), ATR_E_NO_KEY);
	assert_int_equal(atr_idents_rotate(ids, "dave", &again), ATR_E_NO_KEY);
	assert_int_equal(atr_idents_set_active(ids, "dave", 0), ATR_E_NO_KEY);
	disk = reread(f);
	assert_int_equal(atr_idents_find_user(disk, "dave", NULL), ATR_E_NO_KEY);
	assert_int_equal(atr_idents_find(disk, "AK1", &id), ATR_OK);
	atr_idents_free(disk);
	atr_idents_free(ids);
}

static void failed_write_changes_nothing(void **state)
{
	struct files *f = *state;
	struct atr_ident id;
	struct atr_idents *ids = atr_idents_load(f->path);
	assert_non_null(ids);
	if (geteuid() == 0) {
		/* root writes anywhere: take the directory away instead. */
		char moved[128];
		snprintf(moved, sizeof(moved), "%s-gone", f->dir);
		assert_int_equal(rename(f->dir, moved), 0);
		assert_int_equal(atr_idents_add(ids, "dave", NULL, &id), ATR_E_IO);
		assert_int_equal(rename(moved, f->dir), 0);
	} else {
		chmod(f->dir, 0500);
		assert_int_equal(atr_idents_add(ids, "dave", NULL, &id), ATR_E_IO);
		chmod(f->dir, 0700);
	}
	assert_int_equal(atr_idents_find_user(ids, "dave", NULL), ATR_E_NO_KEY);
	atr_idents_free(ids);
}

static void reload_replaces_the_table(void **state)
{
	struct files *f = *state;
	struct atr_ident id;
	struct atr_idents *ids = atr_idents_load(f->path);
	assert_non_null(ids);
	write_text(f->path, "AK9 secret9 carol\n", 0600);
	assert_int_equal(atr_idents_reload(ids), ATR_OK);
	assert_int_equal(atr_idents_find(ids, "AK9", &id), ATR_OK);
	assert_int_equal(atr_idents_find(ids, "AK1", &id), ATR_E_NO_KEY);
	/* A broken file keeps what was loaded. */
	write_text(f->path, "AK9\n", 0600);
	assert_int_not_equal(atr_idents_reload(ids), ATR_OK);
	assert_int_equal(atr_idents_find(ids, "AK9", &id), ATR_OK);
	atr_idents_free(ids);
}

struct race {
	struct atr_idents *ids;
	int stop;
	int misses;
};

static void *reader(void *arg)
{
	struct race *r = arg;
	struct atr_ident id;
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		/* alice is never touched: always found, always whole. */
		if (atr_idents_find(r->ids, "AK1", &id) || strcmp(id.secret, "secret1"))
			__atomic_add_fetch(&r->misses, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void lookups_race_changes(void **state)
{
	struct files *f = *state;
	struct race r = { .ids = atr_idents_load(f->path) };
	pthread_t t[4];
	struct atr_ident id;
	assert_non_null(r.ids);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &r), 0);
	for (int i = 0; i < 30; i++) {
		assert_int_equal(atr_idents_add(r.ids, "temp", NULL, &id), ATR_OK);
		assert_int_equal(atr_idents_rotate(r.ids, "temp", &id), ATR_OK);
		assert_int_equal(atr_idents_remove(r.ids, "temp"), ATR_OK);
		assert_int_equal(atr_idents_reload(r.ids), ATR_OK);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(r.misses, 0);
	atr_idents_free(r.ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(load_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_files, setup, teardown),
		cmocka_unit_test_setup_teardown(changes_are_written_first, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_write_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(reload_replaces_the_table, setup, teardown),
		cmocka_unit_test_setup_teardown(lookups_race_changes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
