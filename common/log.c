#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/json_write.h"
#include "common/banned.h"

/* Set by the main thread (start-up, SIGHUP), read everywhere: relaxed
 * atomics, as a line logged just before or after a change is either. */
static int threshold = LOG_INFO;
static int format = LOG_FORMAT_TEXT;

void log_set_level(enum log_level level) { __atomic_store_n(&threshold, level, __ATOMIC_RELAXED); }
enum log_level log_get_level(void)
{
	return (enum log_level)__atomic_load_n(&threshold, __ATOMIC_RELAXED);
}
void log_set_format(enum log_format f) { __atomic_store_n(&format, f, __ATOMIC_RELAXED); }

int log_format_parse(const char *name)
{
	return !strcmp(name, "text") ? LOG_FORMAT_TEXT : !strcmp(name, "json") ? LOG_FORMAT_JSON : -1;
}

int log_level_parse(const char *name)
{
	static const char *const names[] = { "debug", "info", "warn", "error", "off" };
	for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

/* One JSON object: {"time":...,"level":...,"msg":...}; the message is
 * escaped (bytes that are not UTF-8 as \u00XX), so every line parses. */
static void write_json(const char *when, enum log_level level, const char *msg)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	struct buf b = BUF_INIT(16 * 1024);
	if (buf_addf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", when,
		     names[level < LOG_OFF ? level : LOG_ERROR]) ||
	    json_add_str(&b, msg) || buf_addstr(&b, "}\n")) {
		buf_release(&b);
		return;
	}
	ssize_t w = write(STDERR_FILENO, b.ptr, b.len);
	(void)w;
	buf_release(&b);
}

void log_write(enum log_level level, const char *fmt, ...)
{
	static const char tags[] = "DIWE";
	char line[2048], when[40];
	struct timespec ts;
	struct tm tm;
	size_t n;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%03ldZ", ts.tv_nsec / 1000000);
	int json = __atomic_load_n(&format, __ATOMIC_RELAXED) == LOG_FORMAT_JSON;
	n = json ? 0 : (size_t)snprintf(line, sizeof(line), "%s %c ", when,
					tags[level < LOG_OFF ? level : LOG_ERROR]);
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	if (json) {
		line[n] = '\0';
		write_json(when, level, line);
		return;
	}
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}
