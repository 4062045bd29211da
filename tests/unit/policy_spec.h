/*
 * policy_spec.h — condition values for test requests of the bucket-policy
 * engine (tests/unit/test_policy.c, tests/fuzz/fuzz_policy.c).
 *
 * policy_spec_value is a struct policy_request value callback over a spec
 * string (arg) "key=v1|v2;key2=v": the i-th value of k, or NULL. No entry:
 * the key is absent; "key=" is one empty value. Keys compare with strcmp,
 * so a test also proves that the engine asks with AWS's spelling whatever
 * the policy wrote. A value stays valid for the rest of an evaluation (a
 * ring of 64 buffers), as policy_int.h's contract asks; values past 511
 * bytes are cut. Not thread-safe (tests only).
 */
#ifndef TESTS_UNIT_POLICY_SPEC_H
#define TESTS_UNIT_POLICY_SPEC_H

#include <string.h>

static inline const char *policy_spec_value(void *arg, const char *k, int i)
{
	static char ring[64][512];
	static unsigned next;
	const char *s = arg;
	size_t klen = strlen(k);
	while (s && *s) {
		const char *end = strchr(s, ';');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		if (n > klen && s[klen] == '=' && !strncmp(s, k, klen)) {
			const char *v = s + klen + 1, *stop = s + n;
			for (; i > 0 && v; i--) {
				v = memchr(v, '|', (size_t)(stop - v));
				v = v ? v + 1 : NULL;
			}
			if (!v)
				return NULL;
			const char *bar = memchr(v, '|', (size_t)(stop - v));
			size_t vn = (size_t)((bar ? bar : stop) - v);
			char *out = ring[next++ % 64];
			if (vn >= sizeof(ring[0]))
				vn = sizeof(ring[0]) - 1;
			memcpy(out, v, vn);
			out[vn] = '\0';
			return out;
		}
		s = end ? end + 1 : NULL;
	}
	return NULL;
}

#endif
