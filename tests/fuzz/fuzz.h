/*
 * fuzz.h — what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput over one parser we
 * wrote by hand, and checks properties beyond "does not crash" with
 * FUZZ_CHECK, which aborts (libFuzzer then saves the input as a crash
 * artifact). Inputs found this way go into tests/fuzz/corpus/<name>/ and,
 * where natural, a unit test. `make fuzz` runs every target for a while;
 * `make fuzz-check` (part of `make test`) replays the corpora plus a fixed
 * number of mutations.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* The input as a NUL-terminated string (malloc'd), or NULL if it is
 * longer than max or memory runs out. */
static inline char *fuzz_cstring(const uint8_t *data, size_t size, size_t max)
{
	char *s = size > max ? NULL : malloc(size + 1);
	if (s) {
		for (size_t i = 0; i < size; i++)
			s[i] = (char)data[i];
		s[size] = '\0';
	}
	return s;
}

#endif
