/* The INI reader (common/ini.c) over awscli-shaped files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "common/ini.h"

/* "section|key|value\n" per key. */
static int collect(void *arg, const char *section, const char *key, const char *value)
{
	return buf_addf(arg, "%s|%s|%s\n", section, key, value) ? 1 : 0;
}

static void files(void **state)
{
	static const struct {
		const char *in, *out;
		int rc, line;
	} cases[] = {
		{ "[default]\naws_access_key_id = AK\naws_secret_access_key=S/+k\n",
		  "default|aws_access_key_id|AK\ndefault|aws_secret_access_key|S/+k\n", 0, 0 },
		{ "# c\n; c\n\n  [ profile dev ]  \r\nendpoint_url: http://h:1\r\n",
		  "profile dev|endpoint_url|http://h:1\n", 0, 0 },
		{ "top = 1\n[a]\nk =\n", "|top|1\na|k|\n", 0, 0 },
		{ "[p]\ns3 =\n    addressing_style = path\n\n    x = y\nregion = r\n",
		  "p|s3|\np|region|r\n", 0, 0 },
		{ "[p]\nregion = r\n    continued\n", "p|region|r\n", 0, 0 },
		{ "[p]\n  k = v\n", "p|k|v\n", 0, 0 },
		{ "[p]\nnovalue\n", "", -1, 2 },
		{ "[p\nk = v\n", "", -1, 1 },
		{ "[p] x\n", "", -1, 1 },
		{ " = v\n", "", -1, 1 },
		{ "k = a = b\n", "|k|a = b\n", 0, 0 },
		{ "", "", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT(4096);
		int line = -5;
		int rc = ini_parse(cases[i].in, strlen(cases[i].in), collect, &b, &line);
		if (rc != cases[i].rc || strcmp(b.ptr ? b.ptr : "", cases[i].out) ||
		    (rc && line != cases[i].line))
			fail_msg("case %zu: rc %d line %d out '%s'", i, rc, line, b.ptr ? b.ptr : "");
		buf_release(&b);
	}
}

static int stop_at_second(void *arg, const char *section, const char *key, const char *value)
{
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void callback_stops(void **state)
{
	int n = 0, line;
	const char text[] = "a = 1\nb = 2\nc = 3\n";
	assert_int_equal(ini_parse(text, strlen(text), stop_at_second, &n, &line), 7);
	assert_int_equal(n, 2);
	/* A NUL ends the text. */
	n = 0;
	assert_int_equal(ini_parse("a = 1\0b = 2\n", 12, stop_at_second, &n, &line), 0);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(files),
		cmocka_unit_test(callback_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
