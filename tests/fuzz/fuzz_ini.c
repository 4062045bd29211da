/*
 * fuzz_ini — the INI reader of the CLI's credentials and config files
 * (common/ini.c).
 *
 * Input: the file's bytes.
 *
 * Properties: every key handed out is non-empty, without a newline, '=' or
 * ':', and trimmed; values are trimmed and single-line; sections have no
 * newline; a malformed line's number is within the text's line count;
 * stopping at the first key returns the callback's value.
 */
#include <string.h>

#include "common/ini.h"
#include "tests/fuzz/fuzz.h"

static int trimmed(const char *s)
{
	size_t n = strlen(s);
	return !n || (s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' && s[n - 1] != '\t' &&
		      s[n - 1] != '\r');
}

static int check(void *arg, const char *section, const char *key, const char *value)
{
	FUZZ_CHECK(*key && !strpbrk(key, "\n=:") && trimmed(key));
	FUZZ_CHECK(!strchr(value, '\n') && trimmed(value));
	FUZZ_CHECK(!strchr(section, '\n') && trimmed(section));
	++*(int *)arg;
	return 0;
}

static int stop(void *arg, const char *section, const char *key, const char *value)
{
	return 5;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int keys = 0, line = 0, lines = 1;
	const char *text = (const char *)data;
	int rc = ini_parse(text, size, check, &keys, &line);
	size_t len = strnlen(text, size);
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == 0 ? line == 0 : line >= 0 && line <= lines);
	if (keys) {
		int r2 = ini_parse(text, size, stop, NULL, &line);
		FUZZ_CHECK(r2 == 5); /* the first key comes before any malformed line */
	}
	return 0;
}
