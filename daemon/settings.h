/*
 * settings — the one table of daemon settings (Redis's static_configs):
 * name, type, bounds, default and help drive the command-line flags
 * (--name value), the config file (--config FILE: "name value" or
 * "name = value" lines, '#' comments) and --help. Flags win over the file.
 * A yes/no setting is a bare flag on the command line (--name) and, in the
 * file, "name" alone or "name yes|no" (true/false, on/off, 1/0 too).
 */
#ifndef SRC_SETTINGS_H
#define SRC_SETTINGS_H

#include <stdint.h>

struct settings {
	const char *data;
	const char *bind;
	long port;
	const char *auth;
	const char *credentials;
	const char *config;
	const char *idmap;           /* id map file */
	const char *id_range;        /* "FIRST-LAST" */
	uint64_t cache_mem;
	const char *cache_disk;      /* "DIR:SIZE" (settings_cache_disk) or "" */
	const char *write_type;      /* enum atr_write_type's name */
	const char *durability;      /* process|power */
	const char *read_type;       /* enum atr_read_type's name */
	long threads;
	const char *log_level;
	const char *log_format;      /* "text" or "json" */
	long shutdown_timeout;       /* seconds */
	const char *region;
	long request_timeout_ms;
	long keep_alive_timeout_ms;
	uint64_t min_body_rate;
	uint64_t max_put_size;
	const char *access_log;
	uint64_t min_part_size;
	const char *tls_cert;
	const char *tls_key;
	const char *domain;
	const char *mount;
	const char *mount_options;
	const char *metrics_token;   /* file holding the metrics bearer token */
	int metrics_public;          /* GET /api/v1/metrics unauthenticated */
	long bucket_log_flush_ms;    /* bucket logging: how often log objects are written */
	long lifecycle_interval_ms;  /* lifecycle worker: pass period, 0 none */
	long lifecycle_day_s;        /* lifecycle rules: seconds in a day */
};

/* Fills s from defaults, the config file and argv. Returns 0, 1 after
 * printing --help, 2 for --version (the caller prints it), or -1 after
 * printing an error. Flags are "--name value" or "--name=value". */
int settings_parse(struct settings *s, int argc, char **argv);
void settings_release(struct settings *s);
/* Splits a --cache-disk value "DIR:SIZE" (SIZE as other sizes: 512M,
 * 20G; at least 16M): *dir (malloc'd) and *bytes; "" gives NULL and 0.
 * -1 if it is not one. */
int settings_cache_disk(const char *v, char **dir, uint64_t *bytes);
/* Swaps the values of the settings a SIGHUP applies between cur and
 * fresh: cur has the new ones, fresh the old ones (release it). Pointers
 * into cur's other strings stay valid. */
void settings_take_reloadable(struct settings *cur, struct settings *fresh);
/* Calls fn for each setting whose value differs between a and b, with
 * whether a SIGHUP applies it (the rest wait for a restart). */
void settings_changes(const struct settings *a, const struct settings *b,
		      void (*fn)(void *arg, const char *name, int reloadable), void *arg);

#endif
