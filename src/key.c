/*
 * key — arithmetic on keys as the core stores them (src/core_int.h): the
 * directory a key is in, its last name, its directory form, the smallest
 * key above a prefix, and its path in the UFS. Pure functions.
 */
#include <stdio.h>
#include <string.h>

#include "src/core_int.h"
#include "common/banned.h"

int key_successor(const char *prefix, char *out, size_t size)
{
	size_t n = strlen(prefix);
	if (n + 1 > size)
		return -1;
	memcpy(out, prefix, n + 1);
	while (n > 0) {
		unsigned char c = (unsigned char)out[n - 1];
		if (c < 0xff) {
			out[n - 1] = (char)(c + 1);
			out[n] = '\0';
			return 0;
		}
		n--;
	}
	return -1;
}

void key_parent(const char *key, char *out)
{
	size_t n = strlen(key);
	if (n && key[n - 1] == '/')
		n--;
	while (n && key[n - 1] != '/')
		n--;
	memcpy(out, key, n);
	out[n] = '\0';
}

int key_path(char *out, size_t size, const char *bucket, const char *key)
{
	int n = snprintf(out, size, "%s/%s", bucket, key);
	if (n < 0 || (size_t)n >= size)
		return -1;
	/* Directory keys end in '/'; the file system path does not need it. */
	if (n > 0 && out[n - 1] == '/')
		out[n - 1] = '\0';
	return 0;
}

int key_dir(const char *key, char out[ATR_KEY_MAX + 2])
{
	size_t n = strlen(key);
	if (n + (n > 0) > ATR_KEY_MAX)
		return ATR_E_KEY_TOO_LONG;
	memcpy(out, key, n);
	if (n)
		out[n++] = '/';
	out[n] = '\0';
	return ATR_OK;
}

void key_split(const char *key, char parent[ATR_KEY_MAX + 2], const char **name, size_t *len)
{
	size_t n = strlen(key);
	if (n && key[n - 1] == '/')
		n--;
	size_t i = n;
	while (i > 0 && key[i - 1] != '/')
		i--;
	memcpy(parent, key, i);
	parent[i] = '\0';
	*name = key + i;
	*len = n - i;
}
