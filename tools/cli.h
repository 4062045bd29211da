/*
 * cli.h — the pieces of the atrium CLI (tools/), one header for them all:
 *
 *   atrium.c        main: global options (getopt_long), where the endpoint,
 *                   keys, region and CA come from, the command tables
 *   cli_conf.c      ~/.atrium/credentials and ~/.atrium/config (awscli's
 *                   format, common/ini.c) and the environment
 *   cli_http.c      requests to the daemon (libcurl, SigV4 from
 *                   common/sigv4.c, TLS verification), the admin API's JSON
 *   cli_progress.c  the progress line of long commands, on a terminal only
 *   cli_fs.c        the `fs` commands; cli_user.c the `user` commands
 *
 * Single-threaded; state lives in struct client and struct opts.
 */
#ifndef TOOLS_CLI_H
#define TOOLS_CLI_H

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>

#include "common/buf.h"
#include "common/hash.h"
#include "common/json.h"

#define RESP_MAX (256 * 1024 * 1024)

extern const char *prog_cmd; /* "atrium": the prefix of every message */

struct client {
	CURL *h;
	char endpoint[512];   /* scheme://authority, no trailing '/' */
	char host[256];       /* authority: the Host header we sign */
	const char *access_key, *secret, *region;
	const char *cacert;   /* CA bundle file; NULL: libcurl's default */
	const char *capath;   /* CA directory (SSL_CERT_DIR); NULL: default */
	int insecure;         /* --insecure: no certificate verification */
	int page;             /* entries per list request */
	int quiet;            /* the next admin call prints no error */
};

/* The parsed options of a command (atrium.c fills them with getopt_long). */
struct opts {
	int R, h, s, json, verbose, force;
	int f;                /* fs ls -f: ask the under-storage again first */
	int metadata;         /* fs load --metadata: names and sizes only, no bytes */
	uint64_t bytes;       /* -c of head/tail */
	const char *display;  /* --display-name of user add */
	const char *action;   /* --action of fs setTtl */
#define MOUNT_OPTIONS_MAX 32
	const char *options[MOUNT_OPTIONS_MAX]; /* --option of fs mount */
	int noptions;
};

/* ---- settings from files and the environment (cli_conf.c) ---- */

/* What ~/.atrium/credentials and ~/.atrium/config say for a profile
 * (NULL when absent). Strings are owned (conf_release). */
struct conf {
	char *access_key, *secret, *endpoint, *region, *ca_bundle;
};
/* Reads both files for profile (NULL: $ATRIUM_PROFILE, else "default").
 * explicit: the profile was asked for (--profile): a profile that is not
 * in the credentials file is then an error. 0, or 1 after printing why. */
int conf_load(struct conf *c, const char *profile, int explicit);
void conf_release(struct conf *c);

/* ---- HTTP (cli_http.c) ---- */

struct progress;

/* Where a response body goes. */
struct sink {
	struct client *c;
	struct buf *body;     /* the response when buffered (errors always are) */
	FILE *out;            /* else a successful body goes here */
	struct hash *md5;     /* and is hashed (may be NULL) */
	int failed_write;
};

struct http_req {
	const char *method;
	const char *path;         /* decoded; encoded here */
	const char *query;        /* already encoded, or NULL */
	FILE *upload;             /* a PUT body, of size bytes */
	uint64_t size;
	const char *range;        /* a Range header value, or NULL */
	const char *copy_source;  /* x-amz-copy-source (signed), or NULL */
	struct progress *progress; /* bytes moving, or NULL */
};

/* "http(s)://HOST:PORT[/]" into c->endpoint and c->host; -1 if not that. */
int http_set_endpoint(struct client *c, const char *url);
/* One request: the HTTP status, or -1 after printing why the daemon could
 * not be reached (TLS failures say how to trust the daemon). */
long http(struct client *c, const struct http_req *r, struct sink *sink);
/* The query "k1=v1&k2=v2" with values UriEncoded; NULL value: skipped. */
int query_add(struct buf *q, const char *name, const char *value);
/* An admin call: JSON back in *out (NULL if not wanted). On an error
 * status prints "atrium: WHAT: message (Code)" (or "WHAT does not exist")
 * and returns 1; an unreachable daemon or a bad answer is 1 too. */
int admin(struct client *c, const char *method, const char *endpoint, const char *query,
	  const char *what, struct json **out);
/* endpoint?path=P[&name=value][&recursive=1] (GET for fs/stat, else POST). */
int admin_path(struct client *c, const char *endpoint, const char *path, const char *name,
	       const char *value, int recursive, struct json **out);
int stat_path(struct client *c, const char *path, struct json **out);
/* Fails (1) with a message if path is not a file. */
int need_file(struct client *c, const char *path, struct json **out);
/* GET of an object (or range of it) into out, hashed into md5 if not NULL. */
int download(struct client *c, const char *path, const char *range, FILE *out,
	     struct hash *md5, struct progress *p);

/* A whole listing, page after page. */
struct entries {
	struct json **pages;
	size_t npages;
	const struct json **v;
	size_t n, cap;
};
/* Every entry at path (below it with recursive), page by page; sync: the
 * daemon asks the under-storage again first (fs/list's sync=1). */
int list_all(struct client *c, const char *path, int recursive, int sync, struct entries *e);
void entries_free(struct entries *e);
int is_dir(const struct json *e);

/* ---- progress (cli_progress.c) ---- */

/*
 * One line on standard error, redrawn in place ("\r"), when standard
 * error is a terminal: what is being done, a bar, files and bytes done of
 * the total. Nothing at all otherwise. --verbose lines (progress_line) go
 * to standard output either way, the bar cleared around them.
 */
struct progress {
	int on;
	const char *verb;
	uint64_t files, bytes;           /* the totals */
	uint64_t files_done, bytes_done; /* finished files */
	uint64_t current;                /* bytes of the file in flight */
	int64_t drawn_ms;
};
void progress_start(struct progress *p, const char *verb, uint64_t files, uint64_t bytes);
/* A file is done (bytes: its size); redraws at most every 100 ms. */
void progress_file(struct progress *p, uint64_t bytes);
/* Bytes of the file in flight so far (from libcurl's progress). */
void progress_bytes(struct progress *p, uint64_t current);
/* printf to standard output, for --verbose: the bar stays intact. */
void progress_line(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void progress_end(struct progress *p);

/* ---- commands ---- */

typedef int (*run_fn)(struct client *c, int argc, char **argv, const struct opts *o);

int cmd_ls(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_stat(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_cat(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_head(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_tail(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_du(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_count(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_mkdir(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_rm(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_mv(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_cp(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_put(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_get(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_checksum(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_chmod(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_chown(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_load(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_free(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_persist(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_pin(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_unpin(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_set_ttl(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_unset_ttl(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_mount(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_unmount(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_report(struct client *c, int argc, char **argv, const struct opts *o);

int cmd_user_add(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_user_list(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_user_disable(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_user_enable(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_user_rotate(struct client *c, int argc, char **argv, const struct opts *o);
int cmd_user_rm(struct client *c, int argc, char **argv, const struct opts *o);

#endif
