/*
 * ident — the credentials file: who may sign requests, with which secret.
 *
 * The users change while the daemon runs (the admin API's user calls, a
 * SIGHUP re-reading the file) and are read by every request (the S3
 * door's secret lookup, the core's policy principals), so the table sits
 * behind a read-write lock and every lookup copies what it found out:
 * nothing a reader holds points into the table. The struct itself never
 * moves, so the pointer the core and the S3 door keep stays valid.
 *
 * A change is written to the file first (a temporary file in the same
 * directory, mode 0600, fsynced, renamed over it) and made visible only
 * if that worked, so the file and what the daemon answers always agree.
 * SigV4 needs the secret itself (it derives a signing key from it), so
 * secrets are stored as they are, in a file only the daemon may read.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "src/core_int.h"
#include "common/banned.h"

#define FILE_HEADER "# Atrium credentials: ACCESS_KEY SECRET_KEY USER_ID [DISPLAY NAME]\n" \
	"# A line starting with '!' is an inactive key (atrium user disable).\n"

struct atr_idents {
	/* Taken first by every change, for its whole length (the file's
	 * rewrite included), so changes apply one at a time. */
	pthread_mutex_t change;
	pthread_rwlock_t lock;  /* guards v and n */
	struct atr_ident *v;
	size_t n;
	char *path;             /* the credentials file; set once */
};

struct table {
	struct atr_ident *v;
	size_t n;
};

static void table_wipe(struct table *t)
{
	if (t->v)
		explicit_bzero(t->v, t->n * sizeof(*t->v));
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

static int table_add(struct table *t, const struct atr_ident *id)
{
	struct atr_ident *v = malloc((t->n + 1) * sizeof(*v));
	if (!v)
		return ATR_E_NOMEM;
	if (t->n)
		memcpy(v, t->v, t->n * sizeof(*v));
	v[t->n] = *id;
	if (t->v)
		explicit_bzero(t->v, t->n * sizeof(*t->v));
	free(t->v);
	t->v = v;
	t->n++;
	return ATR_OK;
}

/* A display name stays on one line of the file and in XML text. */
static int display_valid(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= sizeof(((struct atr_ident *)0)->display))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < ' ' || *s == 0x7f)
			return 0;
	return 1;
}

static int key_valid(const char *s, size_t cap)
{
	size_t n = strlen(s);
	return n && n < cap && *s != '!' && *s != '#';
}

static int parse_line(char *line, struct atr_ident *id)
{
	char *save = NULL;
	int inactive = *line == '!';
	char *ak = strtok_r(line + inactive, " \t", &save);
	char *sk = strtok_r(NULL, " \t", &save);
	char *user = strtok_r(NULL, " \t", &save);
	char *display = strtok_r(NULL, "", &save);
	if (!ak || !sk || !user || !key_valid(ak, sizeof(id->access_key)) ||
	    strlen(sk) >= sizeof(id->secret) || !atr_user_name_valid(user, strlen(user)))
		return -1;
	memset(id, 0, sizeof(*id));
	snprintf(id->access_key, sizeof(id->access_key), "%s", ak);
	snprintf(id->secret, sizeof(id->secret), "%s", sk);
	snprintf(id->user, sizeof(id->user), "%s", user);
	while (display && (*display == ' ' || *display == '\t'))
		display++;
	snprintf(id->display, sizeof(id->display), "%s", display && *display ? display : user);
	id->inactive = inactive;
	return 0;
}

/* The file's users into t (empty on error, logged). */
static int read_file(const char *path, struct table *t)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char line[1024];
	int lineno = 0, rc = ATR_OK;
	if (!f) {
		LOG(LOG_ERROR, "credentials: cannot read %s: %s", path, strerror(errno));
		return ATR_E_IO;
	}
	/* Secrets others can read (or write) are not secrets: refuse them. */
	if (fstat(fileno(f), &st) || (st.st_mode & 077)) {
		LOG(LOG_ERROR, "credentials: %s is mode %03o: others may read or change the "
		    "secrets; make it 0600 (chmod 600 %s)", path, (unsigned)(st.st_mode & 0777), path);
		fclose(f);
		return ATR_E_ACCESS;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		char *p = line + strspn(line, " \t");
		struct atr_ident id;
		if (!*p || *p == '#')
			continue;
		if (parse_line(p, &id)) {
			LOG(LOG_ERROR, "credentials: %s:%d: expected [!]ACCESS_KEY SECRET_KEY USER_ID "
			    "[DISPLAY NAME]", path, lineno);
			rc = ATR_E_INVALID_ARG;
		} else {
			rc = table_add(t, &id);
		}
		explicit_bzero(&id, sizeof(id));
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	for (size_t i = 0; !rc && i < t->n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t->v[i].access_key, t->v[j].access_key)) {
				LOG(LOG_ERROR, "credentials: %s: access key %s is given twice", path,
				    t->v[i].access_key);
				rc = ATR_E_INVALID_ARG;
				break;
			}
	if (rc)
		table_wipe(t);
	return rc;
}

/* Writes t to path: a temporary file beside it (0600), fsynced, renamed
 * over it, and the directory fsynced, so a crash leaves the old file or
 * the new one. */
static int write_file(const char *path, const struct table *t)
{
	size_t pl = strlen(path);
	char *tmp = malloc(pl + 16), *dir = strdup(path);
	int fd = -1, rc = ATR_E_IO;
	FILE *f = NULL;
	if (!tmp || !dir) {
		rc = ATR_E_NOMEM;
		goto out;
	}
	snprintf(tmp, pl + 16, "%s.tmp-XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0 || fchmod(fd, 0600) || !(f = fdopen(fd, "w"))) {
		LOG(LOG_ERROR, "credentials: cannot write beside %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1; /* f owns it */
	int bad = fputs(FILE_HEADER, f) < 0;
	for (size_t i = 0; i < t->n && !bad; i++)
		bad = fprintf(f, "%s%s %s %s %s\n", t->v[i].inactive ? "!" : "", t->v[i].access_key,
			      t->v[i].secret, t->v[i].user, t->v[i].display) < 0;
	if (bad || fflush(f) || fsync(fileno(f))) {
		LOG(LOG_ERROR, "credentials: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path)) {
		LOG(LOG_ERROR, "credentials: cannot replace %s: %s", path, strerror(errno));
		goto out;
	}
	*tmp = '\0'; /* renamed: nothing to remove */
	/* The rename is durable once the directory is. */
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir] = '\0'; /* "/x" -> "/", "a/x" -> "a" */
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	rc = ATR_OK;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp && *tmp)
		unlink(tmp);
	free(tmp);
	free(dir);
	return rc;
}

struct atr_idents *atr_idents_load(const char *path)
{
	struct table t = { 0 };
	struct atr_idents *ids = calloc(1, sizeof(*ids));
	if (!ids || !(ids->path = strdup(path)) || read_file(path, &t)) {
		if (ids)
			free(ids->path);
		free(ids);
		return NULL;
	}
	pthread_mutex_init(&ids->change, NULL);
	pthread_rwlock_init(&ids->lock, NULL);
	ids->v = t.v;
	ids->n = t.n;
	return ids;
}

void atr_idents_free(struct atr_idents *ids)
{
	if (!ids)
		return;
	struct table t = { ids->v, ids->n };
	table_wipe(&t);
	pthread_rwlock_destroy(&ids->lock);
	pthread_mutex_destroy(&ids->change);
	free(ids->path);
	free(ids);
}

const char *atr_idents_path(const struct atr_idents *ids)
{
	return ids->path;
}

static void random_token(char *out, size_t len, const char *alphabet)
{
	unsigned char rnd[128];
	size_t n = strlen(alphabet);
	/* Alphabets of 32 and 64 letters: the modulo has no bias. */
	if (RAND_bytes(rnd, (int)len) != 1)
		abort(); /* no randomness, no keys: never hand out guessable ones */
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[rnd[i] % n];
	out[len] = '\0';
	explicit_bzero(rnd, sizeof(rnd));
}

static void new_keys(struct atr_ident *id)
{
	random_token(id->access_key, 20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
	random_token(id->secret, 40,
		     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
}

int atr_idents_create(const char *path, const char *user, struct atr_ident *first)
{
	memset(first, 0, sizeof(*first));
	new_keys(first);
	snprintf(first->user, sizeof(first->user), "%s", user);
	snprintf(first->display, sizeof(first->display), "admin");
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return ATR_E_IO;
	char text[512];
	int n = snprintf(text, sizeof(text), FILE_HEADER "%s %s %s %s\n", first->access_key,
			 first->secret, first->user, first->display);
	int ok = n > 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0;
	explicit_bzero(text, sizeof(text));
	close(fd);
	return ok ? ATR_OK : ATR_E_IO;
}

/* The lock is not part of the value: lookups through a const pointer
 * still take it. */
static pthread_rwlock_t *lock_of(const struct atr_idents *ids)
{
	return &((struct atr_idents *)ids)->lock;
}

int atr_idents_find(const struct atr_idents *ids, const char *access_key, struct atr_ident *out)
{
	int rc = ATR_E_NO_KEY;
	if (!ids)
		return rc;
	pthread_rwlock_rdlock(lock_of(ids));
	for (size_t i = 0; i < ids->n; i++)
		if (!ids->v[i].inactive && !strcmp(ids->v[i].access_key, access_key)) {
			*out = ids->v[i];
			rc = ATR_OK;
			break;
		}
	pthread_rwlock_unlock(lock_of(ids));
	return rc;
}

int atr_idents_find_user(const struct atr_idents *ids, const char *user, struct atr_ident *out)
{
	int rc = ATR_E_NO_KEY;
	if (!ids)
		return rc;
	pthread_rwlock_rdlock(lock_of(ids));
	for (size_t i = 0; i < ids->n; i++)
		if (!strcmp(ids->v[i].user, user)) {
			if (out) {
				*out = ids->v[i];
				explicit_bzero(out->secret, sizeof(out->secret));
			}
			rc = ATR_OK;
			break;
		}
	pthread_rwlock_unlock(lock_of(ids));
	return rc;
}

int atr_idents_list(const struct atr_idents *ids, struct atr_ident **out, size_t *n)
{
	struct table t = { 0 };
	int rc = ATR_OK;
	pthread_rwlock_rdlock(lock_of(ids));
	for (size_t i = 0; i < ids->n && !rc; i++) {
		struct atr_ident id = ids->v[i];
		explicit_bzero(id.secret, sizeof(id.secret));
		rc = table_add(&t, &id);
	}
	pthread_rwlock_unlock(lock_of(ids));
	if (rc)
		table_wipe(&t);
	*out = t.v;
	*n = t.n;
	return rc;
}

/* Makes t the table (the file is already written): the old one is wiped. */
static void publish(struct atr_idents *ids, struct table *t)
{
	pthread_rwlock_wrlock(&ids->lock);
	struct table old = { ids->v, ids->n };
	ids->v = t->v;
	ids->n = t->n;
	pthread_rwlock_unlock(&ids->lock);
	table_wipe(&old);
	t->v = NULL;
	t->n = 0;
}

/* A copy of the table to change (change lock held). */
static int snapshot(struct atr_idents *ids, struct table *t)
{
	int rc = ATR_OK;
	t->v = NULL;
	t->n = 0;
	pthread_rwlock_rdlock(&ids->lock);
	for (size_t i = 0; i < ids->n && !rc; i++)
		rc = table_add(t, &ids->v[i]);
	pthread_rwlock_unlock(&ids->lock);
	if (rc)
		table_wipe(t);
	return rc;
}

/* Writes the changed table and publishes it; wipes it either way. */
static int commit(struct atr_idents *ids, struct table *t)
{
	int rc = write_file(ids->path, t);
	if (!rc)
		publish(ids, t);
	table_wipe(t);
	return rc;
}

static int has_user(const struct table *t, const char *user)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].user, user))
			return 1;
	return 0;
}

static int has_key(const struct table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].access_key, key))
			return 1;
	return 0;
}

/* A fresh key pair for user, unique in t. */
static void fresh_ident(const struct table *t, const char *user, const char *display,
			struct atr_ident *id)
{
	memset(id, 0, sizeof(*id));
	do
		new_keys(id);
	while (has_key(t, id->access_key));
	snprintf(id->user, sizeof(id->user), "%s", user);
	snprintf(id->display, sizeof(id->display), "%s", display);
}

int atr_idents_set_active(struct atr_idents *ids, const char *user, int active)
{
	struct table t = { 0 };
	pthread_mutex_lock(&ids->change);
	int rc = snapshot(ids, &t);
	if (!rc && !has_user(&t, user))
		rc = ATR_E_NO_KEY;
	for (size_t i = 0; !rc && i < t.n; i++)
		if (!strcmp(t.v[i].user, user))
			t.v[i].inactive = !active;
	if (!rc)
		rc = commit(ids, &t);
	table_wipe(&t);
	pthread_mutex_unlock(&ids->change);
	return rc;
}

/* t without user's keys; *display gets the user's display name. */
static void drop_user(struct table *t, const char *user, char *display, size_t dsize)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].user, user))
			t->v[k++] = t->v[i];
		else if (display)
			snprintf(display, dsize, "%s", t->v[i].display);
	}
	explicit_bzero(t->v + k, (t->n - k) * sizeof(*t->v));
	t->n = k;
}

/* A new key pair for user: a new user (add), or in place of all its keys
 * (rotate), keeping its display name. */
static int new_key(struct atr_idents *ids, const char *user, const char *display, int rotate,
		   struct atr_ident *out)
{
	struct table t = { 0 };
	struct atr_ident id;
	char kept[sizeof(id.display)] = "";
	pthread_mutex_lock(&ids->change);
	int rc = snapshot(ids, &t);
	if (!rc && has_user(&t, user) != rotate)
		rc = rotate ? ATR_E_NO_KEY : ATR_E_EXISTS;
	if (!rc) {
		/* Unique in the table, the user's old keys included. */
		fresh_ident(&t, user, display ? display : user, &id);
		if (rotate) {
			drop_user(&t, user, kept, sizeof(kept));
			snprintf(id.display, sizeof(id.display), "%s", kept);
		}
		rc = table_add(&t, &id);
	}
	if (!rc && !(rc = commit(ids, &t)))
		*out = id;
	table_wipe(&t);
	pthread_mutex_unlock(&ids->change);
	explicit_bzero(&id, sizeof(id));
	return rc;
}

int atr_idents_add(struct atr_idents *ids, const char *user, const char *display,
		   struct atr_ident *out)
{
	if (!atr_user_name_valid(user, strlen(user)) || (display && !display_valid(display)))
		return ATR_E_INVALID_ARG;
	return new_key(ids, user, display, 0, out);
}

int atr_idents_rotate(struct atr_idents *ids, const char *user, struct atr_ident *out)
{
	return new_key(ids, user, NULL, 1, out);
}

int atr_idents_remove(struct atr_idents *ids, const char *user)
{
	struct table t = { 0 };
	pthread_mutex_lock(&ids->change);
	int rc = snapshot(ids, &t);
	if (!rc && !has_user(&t, user))
		rc = ATR_E_NO_KEY;
	if (!rc) {
		drop_user(&t, user, NULL, 0);
		rc = commit(ids, &t);
	}
	table_wipe(&t);
	pthread_mutex_unlock(&ids->change);
	return rc;
}

/* The users of a (each once) for which pick(a, b, user) holds, as a
 * comma-separated list in out (for the reload's log line). */
static void names_where(const struct table *a, const struct table *b,
			int (*pick)(const struct table *, const struct table *, const char *),
			char *out, size_t n)
{
	size_t len = 0;
	*out = '\0';
	for (size_t i = 0; i < a->n; i++) {
		const char *u = a->v[i].user;
		int dup = 0;
		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(a->v[j].user, u);
		if (dup || !pick(a, b, u))
			continue;
		int w = snprintf(out + len, n - len, "%s%s", len ? ", " : "", u);
		if (w < 0 || (size_t)w >= n - len) {
			snprintf(out + (n > 5 ? n - 5 : 0), n > 5 ? 5 : n, "...");
			return;
		}
		len += (size_t)w;
	}
}

static int only_in_a(const struct table *a, const struct table *b, const char *u)
{
	return !has_user(b, u);
}

/* The user's keys (and their states) differ between a and b. */
static int keys_differ(const struct table *a, const struct table *b, const char *u)
{
	if (!has_user(b, u))
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		const struct table *x = pass ? b : a, *y = pass ? a : b;
		for (size_t i = 0; i < x->n; i++) {
			if (strcmp(x->v[i].user, u))
				continue;
			int same = 0;
			for (size_t j = 0; j < y->n && !same; j++)
				same = !strcmp(y->v[j].user, u) &&
				       !strcmp(y->v[j].access_key, x->v[i].access_key) &&
				       !strcmp(y->v[j].secret, x->v[i].secret) &&
				       y->v[j].inactive == x->v[i].inactive;
			if (!same)
				return 1;
		}
	}
	return 0;
}

int atr_idents_reload(struct atr_idents *ids)
{
	struct table t = { 0 }, old = { 0 };
	char added[512], removed[512], changed[512];
	pthread_mutex_lock(&ids->change);
	int rc = read_file(ids->path, &t);
	if (!rc && !(rc = snapshot(ids, &old))) {
		names_where(&t, &old, only_in_a, added, sizeof(added));
		names_where(&old, &t, only_in_a, removed, sizeof(removed));
		names_where(&t, &old, keys_differ, changed, sizeof(changed));
		size_t n = t.n;
		publish(ids, &t);
		if (*added || *removed || *changed)
			LOG(LOG_INFO, "credentials: re-read %s (%zu keys): added %s; removed %s; "
			    "keys changed %s", ids->path, n, *added ? added : "none",
			    *removed ? removed : "none", *changed ? changed : "none");
		else
			LOG(LOG_INFO, "credentials: re-read %s (%zu keys): no change", ids->path, n);
	}
	if (rc)
		LOG(LOG_ERROR, "credentials: kept the users loaded before: %s could not be used",
		    ids->path);
	table_wipe(&t);
	table_wipe(&old);
	pthread_mutex_unlock(&ids->change);
	return rc;
}
