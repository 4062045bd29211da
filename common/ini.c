#include "common/ini.h"

#include <stdlib.h>
#include <string.h>
#include "common/banned.h"

static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

int ini_parse(const char *text, size_t len, ini_fn fn, void *arg, int *bad_line)
{
	const char *nul = memchr(text, '\0', len);
	if (nul)
		len = (size_t)(nul - text);
	*bad_line = 0;
	if (len > INI_MAX)
		return -1;
	char *buf = malloc(len + 1), *section = NULL;
	if (!buf)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	int rc = 0, lineno = 0, nested = 0; /* after a key line: indented lines continue it */
	char empty[] = "";
	section = empty;
	for (char *line = buf; line && !rc;) {
		char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		char *next = nl ? nl + 1 : NULL;
		lineno++;
		int indented = *line == ' ' || *line == '\t';
		char *s = trim(line, end);
		if (!*s || *s == '#' || *s == ';') {
			/* blank or comment: a nested block goes on past it */
		} else if (indented && nested) {
			/* a line of the nested block under "key =" */
		} else if (*s == '[') {
			char *close = strrchr(s, ']');
			if (!close || close[1]) {
				rc = -1;
				break;
			}
			section = trim(s + 1, close);
			nested = 0;
		} else {
			size_t k = strcspn(s, "=:");
			if (!s[k] || !k) {
				rc = -1;
				break;
			}
			char *value = trim(s + k + 1, s + strlen(s));
			char *key = trim(s, s + k);
			if (!*key) {
				rc = -1;
				break;
			}
			nested = 1;
			rc = fn(arg, section, key, value);
		}
		line = next;
	}
	if (rc == -1)
		*bad_line = lineno;
	free(buf);
	return rc;
}
