/*
 * cli_conf — the CLI's two files, in awscli's format (common/ini.c):
 *
 *   ~/.atrium/credentials   [PROFILE] aws_access_key_id, aws_secret_access_key
 *   ~/.atrium/config        [default] or [profile PROFILE]: endpoint_url,
 *                           region, ca_bundle
 *
 * $ATRIUM_SHARED_CREDENTIALS_FILE and $ATRIUM_CONFIG_FILE name other files
 * (as AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE do for awscli). The
 * credentials file holds secrets: one that others may read is refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/ini.h"
#include "tools/cli.h"
#include "common/banned.h"

struct want {
	const char *section, *alt;    /* the profile's section names in this file */
	struct conf *c;
	int found;                    /* a section of the profile was seen */
};

static int set(char **field, const char *value)
{
	char *v = strdup(value);
	if (!v)
		return 1;
	free(*field);
	*field = v;
	return 0;
}

static int on_key(void *arg, const char *section, const char *key, const char *value)
{
	struct want *w = arg;
	if (strcmp(section, w->section) && (!w->alt || strcmp(section, w->alt)))
		return 0;
	w->found = 1;
	struct conf *c = w->c;
	if (!strcmp(key, "aws_access_key_id"))
		return set(&c->access_key, value);
	if (!strcmp(key, "aws_secret_access_key"))
		return set(&c->secret, value);
	if (!strcmp(key, "endpoint_url"))
		return set(&c->endpoint, value);
	if (!strcmp(key, "region"))
		return set(&c->region, value);
	if (!strcmp(key, "ca_bundle"))
		return set(&c->ca_bundle, value);
	return 0;
}

/* Reads path (a missing file is no error) for the sections of w.
 * secret: the file holds keys, so it must be private. */
static int read_file(const char *path, struct want *w, int secret)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *text = NULL;
	int rc = 1, line = 0;
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		fprintf(stderr, "%s: cannot read %s: %s\n", prog_cmd, path, strerror(errno));
		return 1;
	}
	if (fstat(fileno(f), &st) || (secret && (st.st_mode & 077))) {
		fprintf(stderr, "%s: %s is mode %03o: others may read the keys; chmod 600 %s\n",
			prog_cmd, path, (unsigned)(st.st_mode & 0777), path);
		goto out;
	}
	if (st.st_size > INI_MAX || !(text = malloc((size_t)st.st_size + 1))) {
		fprintf(stderr, "%s: %s is too large\n", prog_cmd, path);
		goto out;
	}
	size_t n = fread(text, 1, (size_t)st.st_size, f);
	if (ini_parse(text, n, on_key, w, &line)) {
		if (line)
			fprintf(stderr, "%s: %s:%d: not a [section], key = value or comment line\n",
				prog_cmd, path, line);
		goto out;
	}
	rc = 0;
out:
	if (text) {
		explicit_bzero(text, (size_t)st.st_size);
		free(text);
	}
	fclose(f);
	return rc;
}

/* $VAR, else ~/.atrium/NAME, else NULL (no home). */
static char *file_of(const char *var, const char *name)
{
	const char *v = getenv(var), *home = getenv("HOME");
	char *out = NULL;
	if (v && *v)
		return strdup(v);
	if (!home || !*home)
		return NULL;
	size_t n = strlen(home) + strlen(name) + 16;
	if ((out = malloc(n)))
		snprintf(out, n, "%s/.atrium/%s", home, name);
	return out;
}

int conf_load(struct conf *c, const char *profile, int explicit)
{
	char section[256];
	int rc = 0;
	memset(c, 0, sizeof(*c));
	if (!profile || !*profile)
		profile = getenv("ATRIUM_PROFILE");
	if (!profile || !*profile)
		profile = "default";
	char *creds = file_of("ATRIUM_SHARED_CREDENTIALS_FILE", "credentials");
	char *config = file_of("ATRIUM_CONFIG_FILE", "config");
	struct want w = { .section = profile, .c = c };
	if (creds)
		rc = read_file(creds, &w, 1);
	if (!rc && explicit && !w.found) {
		fprintf(stderr, "%s: no profile [%s] in %s\n", prog_cmd, profile,
			creds ? creds : "~/.atrium/credentials ($HOME is not set)");
		rc = 1;
	}
	/* The config file names profiles "profile NAME", but "default"
	 * (awscli's rule); NAME alone is taken too. */
	snprintf(section, sizeof(section), "profile %s", profile);
	struct want wc = { .section = strcmp(profile, "default") ? section : "default",
			   .alt = profile, .c = c };
	if (!rc && config)
		rc = read_file(config, &wc, 0);
	free(creds);
	free(config);
	if (rc)
		conf_release(c);
	return rc;
}

void conf_release(struct conf *c)
{
	if (c->secret)
		explicit_bzero(c->secret, strlen(c->secret));
	free(c->access_key);
	free(c->secret);
	free(c->endpoint);
	free(c->region);
	free(c->ca_bundle);
	memset(c, 0, sizeof(*c));
}
