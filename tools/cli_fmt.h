/*
 * cli_fmt — how the atrium CLI prints things, in Alluxio's shapes: the
 * `fs ls` line, permissions, dates, sizes, in-cache percentages. Pure
 * functions over plain values (no HTTP, no JSON): unit-tested in
 * tests/unit/test_cli_fmt.c.
 */
#ifndef TOOLS_CLI_FMT_H
#define TOOLS_CLI_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* "drwxr-xr-x" / "-rw-r--r--" (mode's low 9 bits; setuid and the like are
 * not shown). out holds 11 bytes. */
void fmt_mode(uint32_t mode, int is_dir, char out[11]);

/* Alluxio's date: "MM-dd-yyyy HH:mm:ss:SSS" in local time. */
#define FMT_DATE_LEN 32
void fmt_date(int64_t ms, char out[FMT_DATE_LEN]);

/* Sizes: the byte count, or with human Alluxio's form: bytes up to 5 KiB
 * as "123B", then "%.2f" in KB, MB, GB, TB, PB, each unit used up to 5 of
 * the next ("5120B", "5.01KB", "27.05MB"). */
#define FMT_SIZE_LEN 32
void fmt_size(uint64_t n, int human, char out[FMT_SIZE_LEN]);

/* A byte count as Alluxio's -c takes it: digits, then nothing, B, K(B),
 * M(B), G(B) or T(B) (powers of 1024, any case). 0, or -1 (also on
 * overflow). */
int fmt_parse_size(const char *s, uint64_t *out);

/* How much of a file is cached, in whole percent rounded down (so 100 only
 * when all of it is); an empty file is 100. */
int fmt_pct(uint64_t cached, uint64_t size);

/* One `fs ls` entry. */
struct ls_entry {
	const char *path, *owner, *group, *persist;
	uint64_t size, in_cache;
	uint32_t mode;
	int is_dir;
	int64_t mtime_ms;
};

/* Appends one line per entry:
 *   drwxr-xr-x  alice  alice         0  PERSISTED  03-01-2021 16:02:26:547  DIR   /bkt
 *   -rw-r--r--  alice  alice     27040  PERSISTED  06-18-2019 14:26:05:694  100%  /bkt/k
 * columns two spaces apart, each as wide as its widest cell in v (the size
 * right-aligned, the others left); the path is last and unpadded. 0, or -1
 * at out's cap. */
int fmt_ls(const struct ls_entry *v, size_t n, int human, struct buf *out);

/* "1d 02h 03m 04s" */
void fmt_duration(int64_t ms, char out[48]);

#endif
