/*
 * cli_progress — the progress line of long commands (fs load, persist,
 * rm -R, cp): drawn on standard error only when it is a terminal, so
 * scripts and pipes see exactly what they saw before.
 */
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/cli.h"
#include "tools/cli_fmt.h"
#include "common/banned.h"

#define BAR 24

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void draw(struct progress *p, int force)
{
	int64_t t = now_ms();
	if (!p->on || (!force && t - p->drawn_ms < 100))
		return;
	p->drawn_ms = t;
	uint64_t done = p->bytes_done + p->current;
	/* By bytes when there are any, else by files. */
	double frac = p->bytes ? (double)done / (double)p->bytes
		    : p->files ? (double)p->files_done / (double)p->files : 1.0;
	if (frac > 1)
		frac = 1;
	char bar[BAR + 1], a[FMT_SIZE_LEN], b[FMT_SIZE_LEN];
	int fill = (int)(frac * BAR);
	for (int i = 0; i < BAR; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[BAR] = '\0';
	fmt_size(done, 1, a);
	fmt_size(p->bytes, 1, b);
	fprintf(stderr, "\r\033[K%s [%s] %3d%%  %llu/%llu files", p->verb, bar,
		(int)(frac * 100), (unsigned long long)p->files_done, (unsigned long long)p->files);
	if (p->bytes)
		fprintf(stderr, "  %s/%s", a, b);
	fflush(stderr);
}

void progress_start(struct progress *p, const char *verb, uint64_t files, uint64_t bytes)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO);
	p->verb = verb;
	p->files = files;
	p->bytes = bytes;
	draw(p, 1);
}

void progress_file(struct progress *p, uint64_t bytes)
{
	p->files_done++;
	p->bytes_done += bytes;
	p->current = 0;
	draw(p, p->files_done == p->files);
}

void progress_bytes(struct progress *p, uint64_t current)
{
	p->current = current;
	draw(p, 0);
}

void progress_line(struct progress *p, const char *fmt, ...)
{
	va_list ap;
	if (p->on) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	draw(p, 1);
}

void progress_end(struct progress *p)
{
	if (!p->on)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
	p->on = 0;
}
