/*
 * log — one leveled log for the whole process, to stderr.
 *
 * LOG(level, fmt, ...) skips formatting entirely below the threshold, so a
 * debug line on a hot path costs one comparison. Lines carry a UTC timestamp
 * and the level; S3 lines add the request id themselves. Two formats:
 *
 *   text  2024-05-01T12:00:00.123Z I atriumd ready: ...
 *   json  {"time":"2024-05-01T12:00:00.123Z","level":"info","msg":"atriumd ready: ..."}
 *
 * Thread-safe: each line is one write(2); level and format are set by the
 * main thread (at start, on SIGHUP) and read relaxed everywhere.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };
enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

void log_set_level(enum log_level level);
void log_set_format(enum log_format format);
/* "text", "json" -> format; -1 if unknown. */
int log_format_parse(const char *name);
enum log_level log_get_level(void);
/* "debug", "info", "warn", "error", "off" -> level; -1 if unknown. */
int log_level_parse(const char *name);
void log_write(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define LOG(level, ...) \
	do { \
		if ((level) >= log_get_level()) \
			log_write((level), __VA_ARGS__); \
	} while (0)

#endif
