#include "daemon/settings.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/banned.h"

enum stype { S_STR, S_INT, S_SIZE, S_ENUM, S_BOOL };

struct setting {
	const char *name;
	enum stype type;
	size_t offset;
	const char *def;
	long long min, max;      /* S_INT, S_SIZE */
	const char *choices;     /* S_ENUM: "a|b|c" */
	const char *help;
	int reload;              /* a SIGHUP applies a new value from --config */
};

#define OFF(f) offsetof(struct settings, f)

static const struct setting table[] = {
	{ "data", S_STR, OFF(data), "./data", 0, 0, NULL,
	  "data directory: meta.db, ufs/ (the under-storage), credentials", 0 },
	{ "bind", S_STR, OFF(bind), "127.0.0.1", 0, 0, NULL,
	  "address to listen on (0.0.0.0 for every interface)", 0 },
	{ "port", S_INT, OFF(port), "39999", 1, 65535, NULL, "TCP port of the S3 and admin API", 0 },
	{ "auth", S_ENUM, OFF(auth), "sigv4", 0, 0, "sigv4|simple",
	  "sigv4: every request signed and verified; simple: Alluxio's trusted mode", 0 },
	{ "credentials", S_STR, OFF(credentials), "", 0, 0, NULL,
	  "credentials file (default DATA/credentials, created on first start)", 0 },
	{ "config", S_STR, OFF(config), "", 0, 0, NULL, "read settings from this file first", 0 },
	{ "idmap", S_STR, OFF(idmap), "", 0, 0, NULL,
	  "id map file: 'USER UID [GID]' lines giving S3 users host ids (the mount)", 0 },
	{ "id-range", S_STR, OFF(id_range), "1073741824-1342177279", 0, 0, NULL,
	  "FIRST-LAST: host uids given to S3 users without a host account or an id map "
	  "entry (allocated once, never one a host account holds)", 0 },
	{ "cache-mem", S_SIZE, OFF(cache_mem), "256M", 1 << 20, 1LL << 40, NULL,
	  "memory tier capacity of the block cache (K, M, G suffixes)", 0 },
	{ "cache-disk", S_STR, OFF(cache_disk), "", 0, 0, NULL,
	  "DIR:SIZE: a DISK tier of the block cache in DIR (created 0700) holding up to SIZE "
	  "(at least 16M), kept across restarts; e.g. /var/cache/atrium:20G", 0 },
	{ "write-type", S_ENUM, OFF(write_type), "CACHE_THROUGH", 0, 0,
	  "CACHE_THROUGH|MUST_CACHE|THROUGH|ASYNC_THROUGH",
	  "write type of writes to a remote bucket whose request and mount name none "
	  "(Alluxio's alluxio.user.file.writetype.default)", 0 },
	{ "read-type", S_ENUM, OFF(read_type), "CACHE", 0, 0, "CACHE|CACHE_PROMOTE|NO_CACHE",
	  "read type of reads whose request and mount name none "
	  "(Alluxio's alluxio.user.file.readtype.default)", 0 },
	{ "durability", S_ENUM, OFF(durability), "process", 0, 0, "process|power",
	  "what an acknowledged write survives: process, a crash of the daemon; power, also "
	  "power loss and kernel crashes (bytes, directories and the metadata store synced "
	  "before each answer: a few syncs a write)", 0 },
	{ "threads", S_INT, OFF(threads), "2048", 2, 4096, NULL,
	  "HTTP worker threads: how many connections are served at once", 0 },
	{ "log-level", S_ENUM, OFF(log_level), "info", 0, 0, "debug|info|warn|error",
	  "least severe log level written to stderr", 1 },
	{ "log-format", S_ENUM, OFF(log_format), "text", 0, 0, "text|json",
	  "text: 'TIME LEVEL message' lines; json: one JSON object a line (time, level, msg)", 1 },
	{ "shutdown-timeout", S_INT, OFF(shutdown_timeout), "30", 0, 3600, NULL,
	  "seconds a stop (SIGTERM, SIGINT) waits for requests in flight and files open for "
	  "writing in the mount before it cuts them; a second signal stops at once", 0 },
	{ "region", S_STR, OFF(region), "us-east-1", 0, 0, NULL,
	  "region reported for buckets created without a location", 0 },
	{ "request-timeout-ms", S_INT, OFF(request_timeout_ms), "30000", 100, 3600000, NULL,
	  "how long a client may stall while sending or receiving", 0 },
	{ "keep-alive-timeout-ms", S_INT, OFF(keep_alive_timeout_ms), "10000", 100, 3600000, NULL,
	  "how long an idle keep-alive connection may hold its worker thread", 0 },
	{ "min-body-rate", S_SIZE, OFF(min_body_rate), "1K", 0, 1LL << 30, NULL,
	  "slowest request body, bytes/s, after request-timeout-ms of grace (0: no bound)", 0 },
	{ "max-put-size", S_SIZE, OFF(max_put_size), "5G", 0, 1LL << 50, NULL,
	  "largest single PUT (EntityTooLarge above it)", 1 },
	{ "access-log", S_STR, OFF(access_log), "", 0, 0, NULL,
	  "one line per request (S3 and admin) appended to this file; '-' for stderr", 0 },
	{ "min-part-size", S_SIZE, OFF(min_part_size), "5M", 0, 5LL << 30, NULL,
	  "smallest multipart part but the last (EntityTooSmall at completion); 0 for none", 1 },
	{ "tls-cert", S_STR, OFF(tls_cert), "", 0, 0, NULL,
	  "PEM certificate (and chain): serve HTTPS instead of HTTP (with --tls-key)", 1 },
	{ "tls-key", S_STR, OFF(tls_key), "", 0, 0, NULL, "PEM private key of --tls-cert", 1 },
	{ "mount", S_STR, OFF(mount), "", 0, 0, NULL,
	  "also serve the namespace as a FUSE file system mounted here (created if missing)", 0 },
	{ "mount-options", S_STR, OFF(mount_options), "", 0, 0, NULL,
	  "extra FUSE mount options (comma-separated); as root allow_other and "
	  "default_permissions are always on; max_threads=N and max_idle_threads=N "
	  "size the request loop", 0 },
	{ "domain", S_STR, OFF(domain), "", 0, 0, NULL,
	  "virtual-hosted style: Host bucket.DOMAIN[:port] addresses bucket, the path is the key", 0 },
	{ "metrics-token", S_STR, OFF(metrics_token), "", 0, 0, NULL,
	  "file (mode 0600) holding a token GET /api/v1/metrics also accepts as "
	  "'Authorization: Bearer TOKEN' (Prometheus's credentials_file)", 0 },
	{ "metrics-public", S_BOOL, OFF(metrics_public), "no", 0, 0, NULL,
	  "GET /api/v1/metrics needs no authentication at all (a flag: no value)", 0 },
	{ "bucket-log-flush-ms", S_INT, OFF(bucket_log_flush_ms), "300000", 10, 86400000, NULL,
	  "bucket logging: write the access log objects queued for target buckets this often "
	  "(also after 1000 records, and at stop)", 0 },
	{ "lifecycle-interval-ms", S_INT, OFF(lifecycle_interval_ms), "3600000", 0, 86400000, NULL,
	  "lifecycle rules: the worker passes over every bucket with rules this often "
	  "(0: never by itself; POST /api/v1/admin/lifecycle/run still runs a pass)", 0 },
	{ "lifecycle-day-seconds", S_INT, OFF(lifecycle_day_s), "86400", 1, 86400, NULL,
	  "lifecycle rules: the seconds in one of their days (tests shrink it)", 0 },
};

#define NSETTINGS (sizeof(table) / sizeof(table[0]))

static int parse_size(const char *v, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -1;
	unsigned long long mult = 1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	case 't': case 'T': mult = 1ULL << 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || n > ~0ULL / mult)
		return -1;
	*out = n * mult;
	return 0;
}

#define CACHE_DISK_MIN (16ULL << 20)

int settings_cache_disk(const char *v, char **dir, uint64_t *bytes)
{
	*dir = NULL;
	*bytes = 0;
	if (!v || !*v)
		return 0;
	/* The last colon: a directory may hold one, a size never does. */
	const char *colon = strrchr(v, ':');
	unsigned long long n;
	if (!colon || colon == v || parse_size(colon + 1, &n) || n < CACHE_DISK_MIN)
		return -1;
	if (!(*dir = strndup(v, (size_t)(colon - v))))
		return -1;
	*bytes = n;
	return 0;
}

static int set_one(struct settings *s, const struct setting *t, const char *v, const char *where)
{
	char *field = (char *)s + t->offset;
	switch (t->type) {
	case S_STR: {
		char *copy = strdup(v);
		if (!copy)
			return -1;
		free(*(char **)field); /* every string value is owned */
		*(char **)field = copy;
		return 0;
	}
	case S_ENUM: {
		size_t n = strlen(v);
		const char *c = t->choices;
		while (c && *c) {
			size_t k = strcspn(c, "|");
			if (k == n && !strncmp(c, v, n)) {
				free(*(char **)field);
				*(char **)field = strndup(c, k);
				return 0;
			}
			c += k + (c[k] == '|');
		}
		fprintf(stderr, "atriumd: %s: --%s must be one of %s, not '%s'\n", where, t->name,
			t->choices, v);
		return -1;
	}
	case S_INT: {
		char *end;
		errno = 0;
		long n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < t->min || n > t->max) {
			fprintf(stderr, "atriumd: %s: --%s must be an integer in %lld..%lld, not '%s'\n",
				where, t->name, t->min, t->max, v);
			return -1;
		}
		*(long *)field = n;
		return 0;
	}
	case S_BOOL: {
		static const char *const yes[] = { "", "yes", "true", "on", "1" };
		static const char *const no[] = { "no", "false", "off", "0" };
		for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
			if (!strcasecmp(v, yes[i])) {
				*(int *)field = 1;
				return 0;
			}
		for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
			if (!strcasecmp(v, no[i])) {
				*(int *)field = 0;
				return 0;
			}
		fprintf(stderr, "atriumd: %s: --%s is yes or no, not '%s'\n", where, t->name, v);
		return -1;
	}
	case S_SIZE: {
		unsigned long long n;
		if (parse_size(v, &n) || n < (unsigned long long)t->min ||
		    n > (unsigned long long)t->max) {
			fprintf(stderr, "atriumd: %s: --%s must be a size like 512M, not '%s'\n",
				where, t->name, v);
			return -1;
		}
		*(uint64_t *)field = n;
		return 0;
	}
	}
	return -1;
}

static const struct setting *find(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: atriumd [--name value | --name=value]... | --help | --version\n\n"
		"Settings (also accepted in --config FILE as 'name value'):\n");
	for (size_t i = 0; i < NSETTINGS; i++)
		fprintf(f, "  --%-20s %s (default: %s)%s\n", table[i].name, table[i].help,
			*table[i].def ? table[i].def : "none",
			table[i].reload ? " [SIGHUP reloads it]" : "");
	fprintf(f, "\nA yes/no setting is a bare flag (--name); in the file, 'name' or 'name no'.\n"
		   "SIGHUP re-reads --config for the settings marked so, the credentials and id\n"
		   "map files and the TLS certificate, and reopens the log files; SIGTERM stops\n"
		   "gracefully (--shutdown-timeout), a second SIGTERM at once.\n");
}

static int load_file(struct settings *s, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "atriumd: cannot read config %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[4096], where[4200];
	int lineno = 0, rc = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n#")] = '\0';
		char *name = line + strspn(line, " \t");
		if (!*name)
			continue;
		size_t k = strcspn(name, " \t=");
		char *v = name + k;
		if (*v)
			*v++ = '\0';
		v += strspn(v, " \t=");
		size_t vn = strlen(v);
		while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			v[--vn] = '\0';
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		const struct setting *t = find(name);
		if (!t || !strcmp(name, "config")) {
			fprintf(stderr, "atriumd: %s: unknown setting '%s'\n", where, name);
			rc = -1;
		} else {
			rc = set_one(s, t, v, where);
		}
	}
	fclose(f);
	return rc;
}

int settings_parse(struct settings *s, int argc, char **argv)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < NSETTINGS; i++)
		if (set_one(s, &table[i], table[i].def, "default"))
			return -1;
	/* The file first, so that flags override it. */
	for (int i = 1; i < argc; i++) {
		const char *path = !strcmp(argv[i], "--config") && i + 1 < argc ? argv[i + 1]
				 : !strncmp(argv[i], "--config=", 9) ? argv[i] + 9 : NULL;
		if (path && load_file(s, path))
			return -1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(a, "--version"))
			return 2;
		/* --name value, or --name=value as getopt_long takes it */
		char name[64];
		const char *eq = strchr(a, '='), *v = NULL;
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		const struct setting *t = !strncmp(name, "--", 2) ? find(name + 2) : NULL;
		if (!t) {
			fprintf(stderr, "atriumd: unknown option '%s'\n", a);
			usage(stderr);
			return -1;
		}
		if (eq)
			v = eq + 1;
		else if (t->type == S_BOOL) /* a bare flag: the next word is not its value */
			v = "yes";
		else if (i + 1 < argc)
			v = argv[++i];
		if (!v) {
			fprintf(stderr, "atriumd: --%s needs a value\n", t->name);
			return -1;
		}
		if (set_one(s, t, v, "command line"))
			return -1;
	}
	char *dir;
	uint64_t bytes;
	if (settings_cache_disk(s->cache_disk, &dir, &bytes)) {
		fprintf(stderr, "atriumd: --cache-disk must be DIR:SIZE with SIZE at least 16M "
			"(e.g. /var/cache/atrium:20G), not '%s'\n", s->cache_disk);
		return -1;
	}
	free(dir);
	return 0;
}

static size_t field_size(enum stype t)
{
	switch (t) {
	case S_STR: case S_ENUM: return sizeof(char *);
	case S_INT: return sizeof(long);
	case S_SIZE: return sizeof(uint64_t);
	case S_BOOL: return sizeof(int);
	}
	return 0;
}

void settings_take_reloadable(struct settings *cur, struct settings *fresh)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (!table[i].reload)
			continue;
		char tmp[sizeof(uint64_t)], *a = (char *)cur + table[i].offset,
		     *b = (char *)fresh + table[i].offset;
		size_t n = field_size(table[i].type);
		memcpy(tmp, a, n);
		memcpy(a, b, n);
		memcpy(b, tmp, n);
	}
}

void settings_changes(const struct settings *a, const struct settings *b,
		      void (*fn)(void *arg, const char *name, int reloadable), void *arg)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *x = (const char *)a + table[i].offset, *y = (const char *)b + table[i].offset;
		int same;
		switch (table[i].type) {
		case S_STR: case S_ENUM:
			same = !strcmp(*(char *const *)x, *(char *const *)y);
			break;
		case S_INT:
			same = *(const long *)x == *(const long *)y;
			break;
		case S_SIZE:
			same = *(const uint64_t *)x == *(const uint64_t *)y;
			break;
		default:
			same = *(const int *)x == *(const int *)y;
			break;
		}
		if (!same)
			fn(arg, table[i].name, table[i].reload);
	}
}

void settings_release(struct settings *s)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (table[i].type == S_STR || table[i].type == S_ENUM) {
			char **field = (char **)((char *)s + table[i].offset);
			free(*field);
			*field = NULL;
		}
}
