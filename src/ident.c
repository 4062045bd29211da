/* ident — the credentials file: who may sign requests, with which secret. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "src/core_int.h"
#include "common/banned.h"

struct atr_idents {
	struct atr_ident *v;
	size_t n;
};

static int parse_line(char *line, struct atr_ident *id)
{
	char *save = NULL;
	char *ak = strtok_r(line, " \t", &save);
	char *sk = strtok_r(NULL, " \t", &save);
	char *user = strtok_r(NULL, " \t", &save);
	char *display = strtok_r(NULL, "", &save);
	if (!ak || !sk || !user || strlen(ak) >= sizeof(id->access_key) ||
	    strlen(sk) >= sizeof(id->secret) || !atr_user_name_valid(user, strlen(user)))
		return -1;
	memset(id, 0, sizeof(*id));
	snprintf(id->access_key, sizeof(id->access_key), "%s", ak);
	snprintf(id->secret, sizeof(id->secret), "%s", sk);
	snprintf(id->user, sizeof(id->user), "%s", user);
	while (display && (*display == ' ' || *display == '\t'))
		display++;
	snprintf(id->display, sizeof(id->display), "%s", display && *display ? display : user);
	return 0;
}

struct atr_idents *atr_idents_load(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		LOG(LOG_ERROR, "credentials: cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	/* Secrets others can read (or write) are not secrets: refuse them. */
	struct stat st;
	if (fstat(fileno(f), &st) || (st.st_mode & 077)) {
		LOG(LOG_ERROR, "credentials: %s is mode %03o: others may read or change the "
		    "secrets; make it 0600 (chmod 600 %s)", path, (unsigned)(st.st_mode & 0777), path);
		fclose(f);
		return NULL;
	}
	struct atr_idents *ids = calloc(1, sizeof(*ids));
	char line[1024];
	int lineno = 0;
	while (ids && fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		struct atr_ident id;
		if (parse_line(p, &id)) {
			LOG(LOG_ERROR, "credentials: %s:%d: expected ACCESS_KEY SECRET_KEY USER_ID [DISPLAY NAME]",
			    path, lineno);
			atr_idents_free(ids);
			ids = NULL;
			break;
		}
		struct atr_ident *v = realloc(ids->v, (ids->n + 1) * sizeof(*v));
		if (!v) {
			atr_idents_free(ids);
			ids = NULL;
			break;
		}
		ids->v = v;
		ids->v[ids->n++] = id;
	}
	fclose(f);
	return ids;
}

static void random_token(char *out, size_t len, const char *alphabet)
{
	unsigned char rnd[128];
	size_t n = strlen(alphabet);
	RAND_bytes(rnd, (int)len);
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[rnd[i] % n];
	out[len] = '\0';
}

int atr_idents_create(const char *path, const char *user, struct atr_ident *first)
{
	memset(first, 0, sizeof(*first));
	random_token(first->access_key, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
	random_token(first->secret, 40,
		     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
	snprintf(first->user, sizeof(first->user), "%s", user);
	snprintf(first->display, sizeof(first->display), "admin");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ATR_E_IO;
	char text[512];
	int n = snprintf(text, sizeof(text),
			 "# Atrium credentials: ACCESS_KEY SECRET_KEY USER_ID [DISPLAY NAME]\n"
			 "%s %s %s %s\n", first->access_key, first->secret, first->user,
			 first->display);
	int ok = n > 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	close(fd);
	return ok ? ATR_OK : ATR_E_IO;
}

const struct atr_ident *atr_idents_find(const struct atr_idents *ids, const char *access_key)
{
	for (size_t i = 0; ids && i < ids->n; i++)
		if (!strcmp(ids->v[i].access_key, access_key))
			return &ids->v[i];
	return NULL;
}

const struct atr_ident *atr_idents_find_user(const struct atr_idents *ids, const char *user)
{
	for (size_t i = 0; ids && i < ids->n; i++)
		if (!strcmp(ids->v[i].user, user))
			return &ids->v[i];
	return NULL;
}

void atr_idents_free(struct atr_idents *ids)
{
	if (!ids)
		return;
	free(ids->v);
	free(ids);
}
