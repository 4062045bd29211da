#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common/banned.h"

/* Set once at start-up, read everywhere: an int read/write is atomic enough. */
static volatile int threshold = LOG_INFO;

void log_set_level(enum log_level level) { threshold = level; }
enum log_level log_get_level(void) { return (enum log_level)threshold; }

int log_level_parse(const char *name)
{
	static const char *const names[] = { "debug", "info", "warn", "error", "off" };
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

void log_write(enum log_level level, const char *fmt, ...)
{
	static const char tags[] = "DIWE";
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %c ",
			      ts.tv_nsec / 1000000, tags[level < LOG_OFF ? level : LOG_ERROR]);
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}
