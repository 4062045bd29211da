/* The settings table (daemon/settings.c): flags as "--name value" and
 * "--name=value", the config file under them, and what a reload applies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "daemon/settings.h"

static int parse(struct settings *s, const char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return settings_parse(s, argc, (char **)argv);
}

static void flags_both_ways(void **state)
{
	struct settings s;
	const char *argv[] = { "atriumd", "--port=4000", "--threads", "9", "--metrics-public",
			 "--log-format=json", "--max-put-size=2M", NULL };
	assert_int_equal(parse(&s, argv), 0);
	assert_int_equal(s.port, 4000);
	assert_int_equal(s.threads, 9);
	assert_int_equal(s.metrics_public, 1);
	assert_string_equal(s.log_format, "json");
	assert_int_equal(s.max_put_size, 2 << 20);
	assert_int_equal(s.shutdown_timeout, 30);
	settings_release(&s);

	const char *bad[] = { "atriumd", "--port=x", NULL };
	assert_int_equal(parse(&s, bad), -1);
	settings_release(&s);
	const char *version[] = { "atriumd", "--version", NULL };
	assert_int_equal(parse(&s, version), 2);
	settings_release(&s);
}

static void cache_disk_values(void **state)
{
	struct settings s;
	char *dir;
	uint64_t bytes;
	const char *argv[] = { "atriumd", "--cache-disk", "/var/cache/a:b:20G", NULL };
	assert_int_equal(parse(&s, argv), 0);
	assert_int_equal(settings_cache_disk(s.cache_disk, &dir, &bytes), 0);
	assert_string_equal(dir, "/var/cache/a:b"); /* the last colon splits */
	assert_int_equal(bytes, 20ULL << 30);
	free(dir);
	settings_release(&s);
	const char *none[] = { "atriumd", NULL };
	assert_int_equal(parse(&s, none), 0);
	assert_int_equal(settings_cache_disk(s.cache_disk, &dir, &bytes), 0);
	assert_null(dir);
	settings_release(&s);
	static const char *const bad[] = { "/x", "/x:", ":1G", "/x:1M", "/x:lots", "/x:5Q" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		const char *a[] = { "atriumd", "--cache-disk", bad[i], NULL };
		assert_int_equal(parse(&s, a), -1);
		settings_release(&s);
	}
}

static int count;
static char seen[8][32];
static int seen_reload[8];

static void on_change(void *arg, const char *name, int reloadable)
{
	if (count < 8) {
		snprintf(seen[count], sizeof(seen[count]), "%s", name);
		seen_reload[count] = reloadable;
	}
	count++;
}

static void file_under_flags_and_reload(void **state)
{
	char path[] = "/tmp/atrium-settings-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# a comment\nlog-level debug\nregion = eu-west-1\nport 5000\n", f);
	fclose(f);
	struct settings a, b;
	const char *argv[] = { "atriumd", "--config", path, "--port", "6000", NULL };
	assert_int_equal(parse(&a, argv), 0);
	assert_string_equal(a.log_level, "debug");
	assert_string_equal(a.region, "eu-west-1");
	assert_int_equal(a.port, 6000); /* the flag wins */

	f = fopen(path, "w");
	fputs("log-level warn\nregion us-east-2\nport 5000\nmin-part-size 0\n", f);
	fclose(f);
	assert_int_equal(parse(&b, argv), 0);
	count = 0;
	settings_changes(&a, &b, on_change, NULL);
	assert_int_equal(count, 3);
	assert_string_equal(seen[0], "log-level");
	assert_int_equal(seen_reload[0], 1);
	assert_string_equal(seen[1], "region");
	assert_int_equal(seen_reload[1], 0);
	assert_string_equal(seen[2], "min-part-size");
	assert_int_equal(seen_reload[2], 1);
	/* Only what reloads moves into the running settings. */
	settings_take_reloadable(&a, &b);
	assert_string_equal(a.log_level, "warn");
	assert_int_equal(a.min_part_size, 0);
	assert_string_equal(a.region, "eu-west-1");
	assert_string_equal(b.log_level, "debug");
	settings_release(&a);
	settings_release(&b);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_both_ways),
		cmocka_unit_test(cache_disk_values),
		cmocka_unit_test(file_under_flags_and_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
