#include "tools/cli_fmt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "common/banned.h"

void fmt_mode(uint32_t mode, int is_dir, char out[11])
{
	static const char rwx[] = "rwx";
	out[0] = is_dir ? 'd' : '-';
	for (int i = 0; i < 9; i++)
		out[1 + i] = mode & (0400u >> i) ? rwx[i % 3] : '-';
	out[10] = '\0';
}

void fmt_date(int64_t ms, char out[FMT_DATE_LEN])
{
	time_t t = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	if (frac < 0) {
		frac += 1000;
		t--;
	}
	struct tm tm;
	if (!localtime_r(&t, &tm)) {
		snprintf(out, FMT_DATE_LEN, "?");
		return;
	}
	size_t n = strftime(out, FMT_DATE_LEN, "%m-%d-%Y %H:%M:%S", &tm);
	snprintf(out + n, FMT_DATE_LEN - n, ":%03d", frac);
}

void fmt_size(uint64_t n, int human, char out[FMT_SIZE_LEN])
{
	static const char *const units[] = { "KB", "MB", "GB", "TB", "PB" };
	if (!human || n <= 5 * 1024) {
		snprintf(out, FMT_SIZE_LEN, human ? "%lluB" : "%llu", (unsigned long long)n);
		return;
	}
	double v = (double)n / 1024;
	size_t u = 0;
	while (v > 5 * 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(out, FMT_SIZE_LEN, "%.2f%s", v, units[u]);
}

int fmt_parse_size(const char *s, uint64_t *out)
{
	static const struct { const char *suffix; unsigned shift; } units[] = {
		{ "", 0 }, { "B", 0 }, { "K", 10 }, { "KB", 10 }, { "M", 20 }, { "MB", 20 },
		{ "G", 30 }, { "GB", 30 }, { "T", 40 }, { "TB", 40 },
	};
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(end, units[i].suffix)) {
			if (n > (~0ULL >> units[i].shift))
				return -1;
			*out = (uint64_t)n << units[i].shift;
			return 0;
		}
	return -1;
}

int fmt_pct(uint64_t cached, uint64_t size)
{
	if (size == 0)
		return 100;
	if (cached >= size)
		return 100;
	return (int)((unsigned __int128)cached * 100 / size); /* exact, no overflow */
}

enum { C_PERM, C_OWNER, C_GROUP, C_SIZE, C_STATE, C_DATE, C_CACHE, NCOLS };

struct cells {
	char perm[11], size[FMT_SIZE_LEN], date[FMT_DATE_LEN], cache[8];
	const char *c[NCOLS];
};

static void cells(const struct ls_entry *e, int human, struct cells *x)
{
	fmt_mode(e->mode, e->is_dir, x->perm);
	fmt_size(e->size, human, x->size);
	fmt_date(e->mtime_ms, x->date);
	if (e->is_dir)
		snprintf(x->cache, sizeof(x->cache), "DIR");
	else
		snprintf(x->cache, sizeof(x->cache), "%d%%", fmt_pct(e->in_cache, e->size));
	x->c[C_PERM] = x->perm;
	x->c[C_OWNER] = e->owner ? e->owner : "";
	x->c[C_GROUP] = e->group ? e->group : "";
	x->c[C_SIZE] = x->size;
	x->c[C_STATE] = e->persist ? e->persist : "";
	x->c[C_DATE] = x->date;
	x->c[C_CACHE] = x->cache;
}

int fmt_ls(const struct ls_entry *v, size_t n, int human, struct buf *out)
{
	size_t w[NCOLS] = { 0 };
	struct cells x;
	for (size_t i = 0; i < n; i++) {
		cells(&v[i], human, &x);
		for (int k = 0; k < NCOLS; k++)
			if (strlen(x.c[k]) > w[k])
				w[k] = strlen(x.c[k]);
	}
	for (size_t i = 0; i < n; i++) {
		cells(&v[i], human, &x);
		for (int k = 0; k < NCOLS; k++)
			if (buf_addf(out, k == C_SIZE ? "%*s  " : "%-*s  ", (int)w[k], x.c[k]))
				return -1;
		if (buf_addf(out, "%s\n", v[i].path))
			return -1;
	}
	return 0;
}

void fmt_duration(int64_t ms, char out[48])
{
	int64_t s = ms / 1000;
	snprintf(out, 48, "%lldd %02lldh %02lldm %02llds", (long long)(s / 86400),
		 (long long)(s / 3600 % 24), (long long)(s / 60 % 60), (long long)(s % 60));
}
