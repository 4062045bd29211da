/*
 * cli_fs — the `atrium fs` commands, in the shape of Alluxio's `bin/alluxio
 * fs`: the namespace through the admin API, bytes through the S3 door.
 *
 * Long commands (load, persist, rm -R, cp) go file by file when they have
 * something to show (a progress line on a terminal, --verbose lines), and
 * in one admin call otherwise, as before.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "tools/cli.h"
#include "tools/cli_fmt.h"
#include "common/banned.h"

static void to_ls(const struct json *j, struct ls_entry *e)
{
	e->path = json_get_str(j, "path");
	e->owner = json_get_str(j, "owner");
	e->group = json_get_str(j, "group");
	e->persist = json_get_str(j, "persist");
	e->size = json_get_u64(j, "size", 0);
	e->in_cache = json_get_u64(j, "in_cache", 0);
	e->mode = (uint32_t)json_get_u64(j, "mode", 0);
	e->is_dir = is_dir(j);
	e->mtime_ms = json_get_i64(j, "mtime_ms", 0);
}

/* Prints b unless building it failed; releases it either way. */
static int print_buf(struct buf *b, int failed)
{
	if (!failed && b->ptr)
		fputs(b->ptr, stdout);
	buf_release(b);
	return failed ? 1 : 0;
}

/* One entry as a JSON line for scripts: the daemon's fields plus the
 * formatted ones. */
static int print_json_entry(const struct json *j)
{
	struct ls_entry e;
	struct buf b = BUF_INIT(64 * 1024);
	char perm[11], date[FMT_DATE_LEN];
	to_ls(j, &e);
	fmt_mode(e.mode, e.is_dir, perm);
	fmt_date(e.mtime_ms, date);
	int rc = buf_addstr(&b, "{\"path\":") || json_add_str(&b, e.path ? e.path : "") ||
		 buf_addf(&b, ",\"type\":\"%s\",\"size\":%llu,\"mode\":\"%03o\",\"permissions\":\"%s\","
			  "\"owner\":", json_get_str(j, "type") ? json_get_str(j, "type") : "",
			  (unsigned long long)e.size, (unsigned)e.mode, perm) ||
		 json_add_str(&b, e.owner ? e.owner : "") || buf_addstr(&b, ",\"group\":") ||
		 json_add_str(&b, e.group ? e.group : "") ||
		 buf_addf(&b, ",\"persistence_state\":\"%s\",\"last_modified_ms\":%lld,"
			  "\"last_modified\":\"%s\",\"in_cache_bytes\":%llu",
			  e.persist ? e.persist : "", (long long)e.mtime_ms, date,
			  (unsigned long long)e.in_cache);
	if (!rc && !e.is_dir)
		rc = buf_addf(&b, ",\"in_cache_percent\":%d", fmt_pct(e.in_cache, e.size));
	if (!rc && !e.is_dir && json_get_str(j, "etag"))
		rc = buf_addstr(&b, ",\"etag\":") || json_add_str(&b, json_get_str(j, "etag"));
	if (!rc && !e.is_dir)
		rc = buf_addf(&b, ",\"pinned\":%s", json_get_bool(j, "pinned", 0) ? "true" : "false");
	if (!rc && !e.is_dir && json_get_str(j, "ttl_action"))
		rc = buf_addf(&b, ",\"ttl_due_ms\":%lld,\"ttl_action\":\"%s\"",
			      (long long)json_get_i64(j, "ttl_due_ms", 0), json_get_str(j, "ttl_action"));
	if (!rc)
		rc = buf_addf(&b, ",\"inode\":%llu}\n",
			      (unsigned long long)json_get_u64(j, "ino", 0));
	return print_buf(&b, rc);
}

int cmd_ls(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct entries e;
	int rc = list_all(c, argv[0], o->R, o->f, &e);
	if (!rc && o->json) {
		for (size_t i = 0; i < e.n && !rc; i++)
			rc = print_json_entry(e.v[i]);
	} else if (!rc) {
		struct ls_entry *v = calloc(e.n ? e.n : 1, sizeof(*v));
		struct buf b = BUF_INIT(RESP_MAX);
		for (size_t i = 0; v && i < e.n; i++)
			to_ls(e.v[i], &v[i]);
		rc = !v || fmt_ls(v, e.n, o->h, &b);
		if (!rc && b.len)
			fwrite(b.ptr, 1, b.len, stdout);
		buf_release(&b);
		free(v);
	}
	entries_free(&e);
	return rc ? 1 : 0;
}

int cmd_stat(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (stat_path(c, argv[0], &j))
		return 1;
	if (o->json) {
		int rc = print_json_entry(j);
		json_free(j);
		return rc;
	}
	struct ls_entry e;
	char perm[11], date[FMT_DATE_LEN];
	to_ls(j, &e);
	fmt_mode(e.mode, e.is_dir, perm);
	fmt_date(e.mtime_ms, date);
	printf("%s is a %s path.\n", e.path, e.is_dir ? "directory" : "file");
	printf("  type:           %s\n", json_get_str(j, "type"));
	printf("  size:           %llu\n", (unsigned long long)e.size);
	printf("  permissions:    %s (%03o)\n", perm, (unsigned)e.mode);
	printf("  owner:          %s\n", e.owner);
	printf("  group:          %s\n", e.group);
	printf("  last modified:  %s\n", date);
	printf("  persistence:    %s\n", e.persist);
	if (!e.is_dir) {
		printf("  in cache:       %llu bytes (%d%%)\n", (unsigned long long)e.in_cache,
		       fmt_pct(e.in_cache, e.size));
		printf("  etag:           %s\n", json_get_str(j, "etag"));
		printf("  pinned:         %s\n", json_get_bool(j, "pinned", 0) ? "yes" : "no");
		if (json_get_str(j, "ttl_action")) {
			char due[FMT_DATE_LEN];
			fmt_date(json_get_i64(j, "ttl_due_ms", 0), due);
			printf("  ttl:            %s at %s\n", json_get_str(j, "ttl_action"), due);
		}
	}
	printf("  inode:          %llu\n", (unsigned long long)json_get_u64(j, "ino", 0));
	json_free(j);
	return 0;
}

int cmd_cat(struct client *c, int argc, char **argv, const struct opts *o)
{
	if (need_file(c, argv[0], NULL))
		return 1;
	int rc = download(c, argv[0], NULL, stdout, NULL, NULL);
	return fflush(stdout) ? 1 : rc;
}

/* head and tail: a Range GET of the first or last o->bytes (1 KiB by
 * default, as Alluxio's -c). */
static int ends(struct client *c, const char *path, const struct opts *o, int tail)
{
	struct json *j = NULL;
	char range[64];
	uint64_t want = o->bytes ? o->bytes : 1024;
	if (need_file(c, path, &j))
		return 1;
	uint64_t size = json_get_u64(j, "size", 0);
	json_free(j);
	if (!size)
		return 0; /* nothing to show (and no range of an empty object is satisfiable) */
	if (tail)
		snprintf(range, sizeof(range), "bytes=-%llu", (unsigned long long)want);
	else
		snprintf(range, sizeof(range), "bytes=0-%llu",
			 (unsigned long long)(want < size ? want - 1 : size - 1));
	int rc = download(c, path, range, stdout, NULL, NULL);
	return fflush(stdout) ? 1 : rc;
}

int cmd_head(struct client *c, int argc, char **argv, const struct opts *o)
{
	return ends(c, argv[0], o, 0);
}

int cmd_tail(struct client *c, int argc, char **argv, const struct opts *o)
{
	return ends(c, argv[0], o, 1);
}

static const char *base_name(const char *p)
{
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	const char *s = p + n;
	while (s > p && s[-1] != '/')
		s--;
	return s;
}

/* dir + "/" + the last segment of src. */
static char *join(const char *dir, const char *src)
{
	const char *b = base_name(src);
	size_t bl = strcspn(b, "/");
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	char *out = malloc(dl + bl + 2);
	if (out)
		snprintf(out, dl + bl + 2, "%.*s%s%.*s", (int)dl, dir, dir[dl - 1] == '/' ? "" : "/",
			 (int)bl, b);
	return out;
}

/* a + "/" + rel (rel relative, no leading '/'). */
static char *path_cat(const char *a, const char *rel)
{
	size_t al = strlen(a);
	while (al > 1 && a[al - 1] == '/')
		al--;
	size_t n = al + strlen(rel) + 2;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%.*s%s%s", (int)al, a, a[al - 1] == '/' ? "" : "/", rel);
	return out;
}

/* ---- moving bytes: one file each ---- */

/* Downloads src into the local file dst, through a temporary file beside
 * it renamed when whole. */
static int fetch(struct client *c, const char *src, const char *dst, struct progress *p)
{
	size_t tl = strlen(dst) + 16;
	char *tmp = malloc(tl);
	int rc = 1;
	if (!tmp)
		return 1;
	snprintf(tmp, tl, "%s.atrium-XXXXXX", dst);
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog_cmd, dst, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		goto out;
	}
	rc = download(c, src, NULL, f, NULL, p);
	if (fclose(f) && !rc) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog_cmd, dst, strerror(errno));
		rc = 1;
	}
	if (!rc && rename(tmp, dst)) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog_cmd, dst, strerror(errno));
		rc = 1;
	}
	if (rc)
		unlink(tmp);
out:
	free(tmp);
	return rc;
}

/* Uploads the local file src to dst (an S3 PUT). */
static int send_file(struct client *c, const char *src, const char *dst, struct progress *p)
{
	struct stat sb;
	FILE *f = fopen(src, "rb");
	if (!f || fstat(fileno(f), &sb) || !S_ISREG(sb.st_mode)) {
		fprintf(stderr, "%s: %s: %s\n", prog_cmd, src, !f ? strerror(errno) : "not a regular file");
		if (f)
			fclose(f);
		return 1;
	}
	struct buf err = BUF_INIT(1 << 20);
	struct sink sink = { .c = c, .body = &err };
	struct http_req r = { .method = "PUT", .path = dst, .upload = f,
			      .size = (uint64_t)sb.st_size, .progress = p };
	long code = http(c, &r, &sink);
	int rc = code != 200;
	if (code > 0 && code != 200) {
		const char *m = err.ptr ? strstr(err.ptr, "<Message>") : NULL;
		fprintf(stderr, "%s: cannot put %s: HTTP %ld%s%.*s\n", prog_cmd, dst, code,
			m ? ": " : "", m ? (int)strcspn(m + 9, "<") : 0, m ? m + 9 : "");
	}
	buf_release(&err);
	fclose(f);
	return rc;
}

/* CopyObject: dst becomes a copy of src, inside the daemon. */
static int copy_object(struct client *c, const char *src, const char *dst)
{
	struct buf resp = BUF_INIT(1 << 20);
	struct sink sink = { .c = c, .body = &resp };
	struct http_req r = { .method = "PUT", .path = dst, .copy_source = src };
	long code = http(c, &r, &sink);
	/* A copy can fail after its 200 went out: the error is then the body. */
	int rc = code != 200 || (resp.ptr && strstr(resp.ptr, "<Error>"));
	if (code > 0 && rc) {
		const char *m = resp.ptr ? strstr(resp.ptr, "<Message>") : NULL;
		fprintf(stderr, "%s: cannot copy %s to %s: HTTP %ld%s%.*s\n", prog_cmd, src, dst, code,
			m ? ": " : "", m ? (int)strcspn(m + 9, "<") : 0, m ? m + 9 : "");
	}
	buf_release(&resp);
	return rc;
}

/* ---- cp ---- */

/* The files of a tree: relative paths and sizes. */
struct files {
	char **rel;
	uint64_t *size;
	size_t n;
	uint64_t bytes;
};

static void files_free(struct files *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->rel[i]);
	free(f->rel);
	free(f->size);
	memset(f, 0, sizeof(*f));
}

static int files_add(struct files *f, const char *rel, uint64_t size)
{
	char **r = realloc(f->rel, (f->n + 1) * sizeof(*r));
	if (r)
		f->rel = r;
	uint64_t *s = r ? realloc(f->size, (f->n + 1) * sizeof(*s)) : NULL;
	if (s)
		f->size = s;
	if (!r || !s || !(f->rel[f->n] = strdup(rel)))
		return 1;
	f->size[f->n++] = size;
	f->bytes += size;
	return 0;
}

/* Every regular file below the local directory root/rel. */
static int walk_local(const char *root, const char *rel, struct files *f)
{
	char *dir = *rel ? path_cat(root, rel) : strdup(root);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *e;
	int rc = 0;
	if (!d) {
		fprintf(stderr, "%s: %s: %s\n", prog_cmd, dir ? dir : root, strerror(errno));
		free(dir);
		return 1;
	}
	while (!rc && (e = readdir(d))) {
		struct stat sb;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *r = *rel ? path_cat(rel, e->d_name) : strdup(e->d_name);
		char *full = r ? path_cat(root, r) : NULL;
		if (!full || lstat(full, &sb))
			rc = 1;
		else if (S_ISDIR(sb.st_mode))
			rc = walk_local(root, r, f);
		else if (S_ISREG(sb.st_mode))
			rc = files_add(f, r, (uint64_t)sb.st_size);
		free(full);
		free(r);
	}
	closedir(d);
	free(dir);
	return rc;
}

/* Every file below the namespace directory root. */
static int walk_remote(struct client *c, const char *root, struct files *f)
{
	struct entries e;
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	int rc = list_all(c, root, 1, 0, &e);
	for (size_t i = 0; !rc && i < e.n; i++) {
		const char *p = json_get_str(e.v[i], "path");
		if (is_dir(e.v[i]) || !p || strncmp(p, root, rl) || p[rl] != '/')
			continue;
		rc = files_add(f, p + rl + 1, json_get_u64(e.v[i], "size", 0));
	}
	entries_free(&e);
	return rc;
}

static const char *local_of(const char *p)
{
	return !strncmp(p, "file://", 7) ? p + 7 : NULL;
}

/* Makes the local directories above path. */
static int mkdirs_above(const char *path)
{
	char *p = strdup(path);
	int rc = 0;
	for (char *s = p ? strchr(p + 1, '/') : NULL; s && !rc; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			rc = 1;
		*s = '/';
	}
	free(p);
	return p ? rc : 1;
}

/* One file from src to dst, whichever sides they are on. */
static int copy_one(struct client *c, const char *src, const char *dst, struct progress *p)
{
	const char *ls = local_of(src), *ld = local_of(dst);
	if (ls)
		return send_file(c, ls, dst, p);
	if (ld)
		return mkdirs_above(ld) ? 1 : fetch(c, src, ld, p);
	return copy_object(c, src, dst);
}

/* Whether path (local with file://, else in the namespace) is a directory;
 * -1 if it does not exist. */
static int dir_kind(struct client *c, const char *path)
{
	const char *l = local_of(path);
	struct stat sb;
	if (l)
		return stat(l, &sb) ? -1 : S_ISDIR(sb.st_mode);
	struct json *j = NULL;
	c->quiet = 1;
	if (stat_path(c, path, &j))
		return -1;
	int d = is_dir(j);
	json_free(j);
	return d;
}

int cmd_cp(struct client *c, int argc, char **argv, const struct opts *o)
{
	const char *src = argv[0], *dst = argv[1];
	struct files f = { 0 };
	struct progress p;
	int rc = 0;
	if (local_of(src) && local_of(dst)) {
		fprintf(stderr, "%s: fs cp: one side must be in the namespace (cp(1) copies "
			"local files)\nusage: atrium fs cp [-R] [--verbose] SRC DST\n", prog_cmd);
		return 2;
	}
	int sd = dir_kind(c, src), dd = dir_kind(c, dst);
	if (sd < 0) {
		fprintf(stderr, "%s: %s does not exist\n", prog_cmd, src);
		return 1;
	}
	if (sd && !o->R) {
		fprintf(stderr, "%s: %s is a directory, to copy it use cp -R\n", prog_cmd, src);
		return 1;
	}
	/* Into an existing directory under the source's own name, as cp does. */
	char *root = dd == 1 ? join(dst, local_of(src) ? local_of(src) : src) : strdup(dst);
	if (!root)
		return 1;
	if (!sd) {
		struct stat sb;
		uint64_t size = 0;
		if (local_of(src) && !stat(local_of(src), &sb))
			size = (uint64_t)sb.st_size;
		progress_start(&p, "copying", 1, size);
		rc = copy_one(c, src, root, &p);
		progress_end(&p);
		if (!rc)
			printf("Copied %s to %s\n", src, root);
		free(root);
		return rc;
	}
	rc = local_of(src) ? walk_local(local_of(src), "", &f) : walk_remote(c, src, &f);
	progress_start(&p, "copying", f.n, f.bytes);
	int failed = 0;
	for (size_t i = 0; !rc && i < f.n; i++) {
		char *from = path_cat(src, f.rel[i]), *to = path_cat(root, f.rel[i]);
		if (!from || !to || copy_one(c, from, to, &p))
			failed++;
		else if (o->verbose)
			progress_line(&p, "Copied %s to %s\n", from, to);
		progress_file(&p, f.size[i]);
		free(from);
		free(to);
	}
	progress_end(&p);
	if (!rc)
		printf("Copied %s to %s (files: %zu, bytes: %llu%s)\n", src, root, f.n - failed,
		       (unsigned long long)f.bytes, failed ? ", some failed" : "");
	files_free(&f);
	free(root);
	return rc || failed ? 1 : 0;
}

/* put and get: cp with file:// on the local side. */
static int cp_local(struct client *c, const char *local, const char *path, int upload)
{
	size_t n = strlen(local) + 8;
	char *l = malloc(n);
	struct opts none = { 0 };
	if (!l)
		return 1;
	snprintf(l, n, "file://%s", local);
	char *args[2] = { upload ? l : (char *)path, upload ? (char *)path : l };
	int rc = cmd_cp(c, 2, args, &none);
	free(l);
	return rc;
}

int cmd_put(struct client *c, int argc, char **argv, const struct opts *o)
{
	return cp_local(c, argv[0], argv[1], 1);
}

int cmd_get(struct client *c, int argc, char **argv, const struct opts *o)
{
	return cp_local(c, argv[1], argv[0], 0);
}

/* ---- sizes ---- */

static int du_json(const char *path, uint64_t size, uint64_t cached, uint64_t files)
{
	struct buf b = BUF_INIT(64 * 1024);
	int rc = buf_addstr(&b, "{\"path\":") || json_add_str(&b, path) ||
		 buf_addf(&b, ",\"size\":%llu,\"in_cache_bytes\":%llu,\"in_cache_percent\":%d",
			  (unsigned long long)size, (unsigned long long)cached, fmt_pct(cached, size)) ||
		 (files && buf_addf(&b, ",\"files\":%llu", (unsigned long long)files)) ||
		 buf_addstr(&b, "}\n");
	return print_buf(&b, rc);
}

int cmd_du(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct entries e;
	uint64_t size = 0, cached = 0, files = 0;
	char s1[FMT_SIZE_LEN], s2[FMT_SIZE_LEN];
	if (list_all(c, argv[0], 1, 0, &e)) {
		entries_free(&e);
		return 1;
	}
	if (!o->json)
		printf("%-16s %-22s %s\n", "File Size", "In Cache", "Path");
	for (size_t i = 0; i < e.n; i++) {
		if (is_dir(e.v[i]))
			continue;
		uint64_t n = json_get_u64(e.v[i], "size", 0), k = json_get_u64(e.v[i], "in_cache", 0);
		size += n;
		cached += k;
		files++;
		if (o->s)
			continue;
		if (o->json) {
			du_json(json_get_str(e.v[i], "path"), n, k, 0);
			continue;
		}
		fmt_size(n, o->h, s1);
		fmt_size(k, o->h, s2);
		char incache[FMT_SIZE_LEN + 8];
		snprintf(incache, sizeof(incache), "%s (%d%%)", s2, fmt_pct(k, n));
		printf("%-16s %-22s %s\n", s1, incache, json_get_str(e.v[i], "path"));
	}
	if (o->s && o->json) {
		du_json(argv[0], size, cached, files ? files : 0);
	} else if (o->s) {
		fmt_size(size, o->h, s1);
		fmt_size(cached, o->h, s2);
		char incache[FMT_SIZE_LEN + 8];
		snprintf(incache, sizeof(incache), "%s (%d%%)", s2, fmt_pct(cached, size));
		printf("%-16s %-22s %s\n", s1, incache, argv[0]);
	}
	entries_free(&e);
	return 0;
}

int cmd_count(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct entries e = { 0 };
	struct json *top = NULL;
	uint64_t files = 0, dirs = 0, bytes = 0;
	if (stat_path(c, argv[0], &top))
		return 1;
	if (is_dir(top))
		dirs++; /* the folder itself, as Alluxio counts */
	else
		files++, bytes += json_get_u64(top, "size", 0);
	json_free(top);
	if (dirs && list_all(c, argv[0], 1, 0, &e)) {
		entries_free(&e);
		return 1;
	}
	for (size_t i = 0; dirs && i < e.n; i++) {
		if (is_dir(e.v[i])) {
			dirs++;
		} else {
			files++;
			bytes += json_get_u64(e.v[i], "size", 0);
		}
	}
	entries_free(&e);
	char sz[FMT_SIZE_LEN];
	fmt_size(bytes, o->h, sz);
	printf("%-24s %-24s %s\n", "File Count", "Folder Count", "Folder Size");
	printf("%-24llu %-24llu %s\n", (unsigned long long)files, (unsigned long long)dirs, sz);
	return 0;
}

/* ---- changing the tree ---- */

int cmd_mkdir(struct client *c, int argc, char **argv, const struct opts *o)
{
	int rc = 0;
	for (int i = 0; i < argc; i++) {
		if (admin_path(c, "fs/mkdir", argv[i], NULL, NULL, 0, NULL))
			rc = 1;
		else
			printf("Successfully created directory %s\n", argv[i]);
	}
	return rc;
}

/* rm -R of a directory, a file at a time (to show progress), then the
 * directories that are left in one call. */
static int rm_tree(struct client *c, const char *path, const struct opts *o)
{
	struct files f = { 0 };
	struct progress p;
	int failed = 0;
	if (walk_remote(c, path, &f)) {
		files_free(&f);
		return 1;
	}
	progress_start(&p, "removing", f.n, 0);
	for (size_t i = 0; i < f.n; i++) {
		char *file = path_cat(path, f.rel[i]);
		if (!file || admin_path(c, "fs/rm", file, NULL, NULL, 0, NULL))
			failed++;
		else if (o->verbose)
			progress_line(&p, "%s has been removed\n", file);
		progress_file(&p, 0);
		free(file);
	}
	progress_end(&p);
	files_free(&f);
	if (failed)
		return 1;
	/* What is left: directories (markers, empty ones). Implied ones went
	 * with their last file, the whole tree maybe. */
	struct json *j = NULL;
	c->quiet = 1;
	if (stat_path(c, path, &j))
		return 0;
	json_free(j);
	return admin_path(c, "fs/rm", path, NULL, NULL, 1, NULL);
}

int cmd_rm(struct client *c, int argc, char **argv, const struct opts *o)
{
	int rc = 0;
	for (int i = 0; i < argc; i++) {
		struct json *j = NULL;
		if (stat_path(c, argv[i], &j)) {
			rc = 1;
			continue;
		}
		int dir = is_dir(j);
		json_free(j);
		if (dir && !o->R) {
			fprintf(stderr, "%s: %s is a directory, to remove it use rm -R\n", prog_cmd,
				argv[i]);
			rc = 1;
		} else if (dir && (o->verbose || isatty(STDERR_FILENO)) ? rm_tree(c, argv[i], o)
			   : admin_path(c, "fs/rm", argv[i], NULL, NULL, o->R, NULL)) {
			rc = 1;
		} else {
			printf("%s has been removed\n", argv[i]);
		}
	}
	return rc;
}

/* Where src goes: into dst when dst is a directory in the namespace. */
static char *target(struct client *c, const char *dst, const char *src)
{
	struct json *j = NULL;
	c->quiet = 1;
	int exists = !stat_path(c, dst, &j);
	char *out = exists && is_dir(j) ? join(dst, src) : strdup(dst);
	json_free(j);
	return out;
}

int cmd_mv(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct buf q = BUF_INIT(16 * 1024);
	/* An existing directory as destination: move into it. */
	char *dst = target(c, argv[1], argv[0]);
	int rc = !dst || query_add(&q, "src", argv[0]) || query_add(&q, "dst", dst) ||
		 admin(c, "POST", "fs/mv", q.ptr, argv[0], NULL);
	if (!rc)
		printf("Renamed %s to %s\n", argv[0], dst);
	buf_release(&q);
	free(dst);
	return rc;
}

static int is_md5(const char *s)
{
	if (!s || strlen(s) != 32)
		return 0;
	for (; *s; s++)
		if (hex_digit(*s) < 0)
			return 0;
	return 1;
}

int cmd_checksum(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (need_file(c, argv[0], &j))
		return 1;
	const char *etag = json_get_str(j, "etag");
	char hex[2 * MD5_LEN + 1];
	int rc = 0;
	if (is_md5(etag)) {
		snprintf(hex, sizeof(hex), "%s", etag);
	} else {
		/* A multipart ETag is not the content's MD5: compute it. */
		struct hash h;
		unsigned char sum[MD5_LEN];
		FILE *null = fopen("/dev/null", "wb");
		if (!null || hash_init(&h, HASH_MD5)) {
			if (null)
				fclose(null);
			json_free(j);
			return 1;
		}
		rc = download(c, argv[0], NULL, null, &h, NULL);
		fclose(null);
		if (rc) {
			hash_release(&h);
		} else {
			hash_final(&h, sum);
			hex_encode(sum, MD5_LEN, hex);
		}
	}
	if (!rc)
		printf("md5sum: %s\n", hex);
	json_free(j);
	return rc;
}

int cmd_chmod(struct client *c, int argc, char **argv, const struct opts *o)
{
	const char *mode = argv[0];
	if (!*mode || strlen(mode) > 4 || strspn(mode, "01234567") != strlen(mode)) {
		fprintf(stderr, "%s: fs chmod: MODE must be octal, like 755, not '%s'\n"
			"usage: atrium fs chmod [-R] MODE PATH\n", prog_cmd, mode);
		return 2;
	}
	if (admin_path(c, "fs/chmod", argv[1], "mode", mode, o->R, NULL))
		return 1;
	printf("Changed permission of %s to %s\n", argv[1], mode);
	return 0;
}

int cmd_chown(struct client *c, int argc, char **argv, const struct opts *o)
{
	const char *owner = argv[0];
	if (strchr(owner, ':')) {
		fprintf(stderr, "%s: chown: groups are not supported: give an owner only\n", prog_cmd);
		return 1;
	}
	if (admin_path(c, "fs/chown", argv[1], "owner", owner, o->R, NULL))
		return 1;
	printf("Changed owner of %s to %s\n", argv[1], owner);
	return 0;
}

/* ---- the cache and persistence ---- */

/* A cache call on every file below path, one at a time: progress, and a
 * --verbose line a file. *files and *bytes sum the answers. */
static int each_file(struct client *c, const char *endpoint, const char *verb, const char *done,
		     const char *path, const struct opts *o, uint64_t *files, uint64_t *bytes)
{
	struct files f = { 0 };
	struct progress p;
	int failed = 0;
	if (walk_remote(c, path, &f)) {
		files_free(&f);
		return 1;
	}
	progress_start(&p, verb, f.n, f.bytes);
	for (size_t i = 0; i < f.n; i++) {
		struct json *j = NULL;
		char *file = path_cat(path, f.rel[i]);
		if (!file || admin_path(c, endpoint, file, NULL, NULL, 0, &j)) {
			failed++;
		} else {
			*files += json_get_u64(j, "files", 0);
			*bytes += json_get_u64(j, "bytes", 0);
			if (o->verbose)
				progress_line(&p, "%s %s\n", file, done);
		}
		progress_file(&p, f.size[i]);
		json_free(j);
		free(file);
	}
	progress_end(&p);
	files_free(&f);
	return failed ? 1 : 0;
}

/* What a cache call did: one call, or file by file when there is
 * something to show (a terminal, --verbose) and path is a directory. */
static int cache_walk(struct client *c, const char *endpoint, const char *verb, const char *done,
		      const char *path, const struct opts *o, struct json **top,
		      uint64_t *files, uint64_t *bytes)
{
	*files = *bytes = 0;
	if (stat_path(c, path, top))
		return 1;
	if (is_dir(*top) && (o->verbose || isatty(STDERR_FILENO)))
		return each_file(c, endpoint, verb, done, path, o, files, bytes);
	struct json *j = NULL;
	if (admin_path(c, endpoint, path, NULL, NULL, 0, &j))
		return 1;
	*files = json_get_u64(j, "files", 0);
	*bytes = json_get_u64(j, "bytes", 0);
	json_free(j);
	return 0;
}

/*
 * After a load: how much of what was asked for is in the cache now. More
 * than the cache holds evicts what was loaded first, so the answer can be
 * "not all": a warning saying what did and did not fit, and status 1.
 */
static int check_fit(struct client *c, const char *path, const struct json *top, int human)
{
	struct entries e = { 0 };
	struct json *rep = NULL;
	uint64_t nf = 0, fit = 0, size = 0, in = 0, missf = 0, miss = 0;
	if (is_dir(top)) {
		if (list_all(c, path, 1, 0, &e))
			return 1;
	} else {
		e.v = &top;
		e.n = 1;
	}
	for (size_t i = 0; i < e.n; i++) {
		if (is_dir(e.v[i]))
			continue;
		uint64_t s = json_get_u64(e.v[i], "size", 0), k = json_get_u64(e.v[i], "in_cache", 0);
		nf++;
		size += s;
		in += k;
		if (k >= s)
			fit++;
		else
			missf++, miss += s - k;
	}
	if (is_dir(top))
		entries_free(&e);
	if (!missf)
		return 0;
	char a[FMT_SIZE_LEN], b[FMT_SIZE_LEN], m[FMT_SIZE_LEN], cap[FMT_SIZE_LEN] = "?";
	if (!admin(c, "GET", "report", NULL, NULL, &rep))
		fmt_size(json_get_u64(json_get(rep, "cache"), "capacity", 0), 1, cap);
	json_free(rep);
	fmt_size(in, human, a);
	fmt_size(size, human, b);
	fmt_size(miss, human, m);
	fprintf(stderr, "%s: warning: %s did not fit in the cache (capacity %s): %llu of %llu "
		"file(s) are in it whole, %s of %s; %llu file(s) are not (%s missing)\n", prog_cmd,
		path, cap, (unsigned long long)fit, (unsigned long long)nf, a, b,
		(unsigned long long)missf, m);
	return 1;
}

/* fs load --metadata: the names below PATH asked of the under-storage
 * again (a remote bucket's objects written, changed or deleted behind our
 * back), no bytes read. */
static int load_metadata(struct client *c, const char *path)
{
	struct entries e;
	uint64_t files = 0, dirs = 0;
	if (list_all(c, path, 1, 1, &e))
		return 1;
	for (size_t i = 0; i < e.n; i++) {
		if (is_dir(e.v[i]))
			dirs++;
		else
			files++;
	}
	entries_free(&e);
	printf("%s: metadata loaded from the under-storage (files: %llu, directories: %llu)\n",
	       path, (unsigned long long)files, (unsigned long long)dirs);
	return 0;
}

int cmd_load(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *top = NULL, *after = NULL;
	if (o->metadata)
		return load_metadata(c, argv[0]);
	uint64_t files, bytes;
	char sz[FMT_SIZE_LEN];
	int rc = cache_walk(c, "fs/load", "loading", "loaded", argv[0], o, &top, &files, &bytes);
	if (!top)
		return 1;
	fmt_size(bytes, o->h, sz);
	printf("%s loaded into the cache (files: %llu, bytes: %s)\n", argv[0],
	       (unsigned long long)files, sz);
	/* A file: its state after the load. */
	if (!rc && !is_dir(top) && !stat_path(c, argv[0], &after)) {
		json_free(top);
		top = after;
	}
	if (!rc)
		rc = check_fit(c, argv[0], top, o->h);
	json_free(top);
	return rc;
}

int cmd_free(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (admin_path(c, "fs/free", argv[0], NULL, NULL, 0, &j))
		return 1;
	char sz[FMT_SIZE_LEN];
	fmt_size(json_get_u64(j, "bytes", 0), o->h, sz);
	printf("%s was successfully freed from the cache (files: %llu, bytes: %s)\n", argv[0],
	       (unsigned long long)json_get_u64(j, "files", 0), sz);
	json_free(j);
	return 0;
}

int cmd_persist(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *top = NULL;
	uint64_t files, bytes;
	int rc = cache_walk(c, "fs/persist", "persisting", "is PERSISTED", argv[0], o, &top,
			    &files, &bytes);
	json_free(top);
	if (rc)
		return 1;
	printf("%s is PERSISTED (files: %llu, bytes persisted now: %llu)\n", argv[0],
	       (unsigned long long)files, (unsigned long long)bytes);
	return 0;
}

static int pin_cmd(struct client *c, const char *endpoint, const char *path, const char *done)
{
	struct json *j = NULL;
	if (admin_path(c, endpoint, path, NULL, NULL, 0, &j))
		return 1;
	printf("%s was successfully %s (files: %llu)\n", path, done,
	       (unsigned long long)json_get_u64(j, "files", 0));
	json_free(j);
	return 0;
}

int cmd_pin(struct client *c, int argc, char **argv, const struct opts *o)
{
	return pin_cmd(c, "fs/pin", argv[0], "pinned");
}

int cmd_unpin(struct client *c, int argc, char **argv, const struct opts *o)
{
	return pin_cmd(c, "fs/unpin", argv[0], "unpinned");
}

/* Alluxio's setTtl PATH MS [--action delete|free] and unsetTtl PATH. */
static int ttl_cmd(struct client *c, const char *path, const char *ms, const char *action)
{
	struct json *j = NULL;
	struct buf q = BUF_INIT(8192);
	int rc = query_add(&q, "path", path) || query_add(&q, "ms", ms) ||
		 (action && query_add(&q, "action", action));
	if (!rc)
		rc = admin(c, "POST", "fs/ttl", q.ptr, path, &j);
	buf_release(&q);
	if (rc)
		return 1;
	if (!strcmp(ms, "-1"))
		printf("TTL of %s was successfully removed (files: %llu)\n", path,
		       (unsigned long long)json_get_u64(j, "files", 0));
	else
		printf("TTL of %s was successfully set to %s milliseconds, with expiry action set "
		       "to %s (files: %llu)\n", path, ms, json_get_str(j, "action"),
		       (unsigned long long)json_get_u64(j, "files", 0));
	json_free(j);
	return 0;
}

int cmd_set_ttl(struct client *c, int argc, char **argv, const struct opts *o)
{
	char *end = NULL;
	errno = 0;
	long long ms = strtoll(argv[1], &end, 10);
	if (errno || end == argv[1] || *end || ms < 0) {
		fprintf(stderr, "atrium: fs setTtl: MS is a number of milliseconds, not '%s'\n",
			argv[1]);
		return 1;
	}
	if (o->action && strcmp(o->action, "delete") && strcmp(o->action, "free")) {
		fprintf(stderr, "atrium: fs setTtl: --action is delete or free, not '%s'\n",
			o->action);
		return 1;
	}
	return ttl_cmd(c, argv[0], argv[1], o->action);
}

int cmd_unset_ttl(struct client *c, int argc, char **argv, const struct opts *o)
{
	return ttl_cmd(c, argv[0], "-1", NULL);
}

int cmd_report(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (o->json) {
		struct buf b = BUF_INIT(64 * 1024);
		struct sink sink = { .c = c, .body = &b };
		struct http_req r = { .method = "GET", .path = "/api/v1/report" };
		long code = http(c, &r, &sink);
		if (code == 200 && b.ptr)
			fputs(b.ptr, stdout);
		else if (code > 0)
			fprintf(stderr, "%s: the daemon answered HTTP %ld\n", prog_cmd, code);
		buf_release(&b);
		return code == 200 ? 0 : 1;
	}
	if (admin(c, "GET", "report", NULL, NULL, &j))
		return 1;
	const struct json *cache = json_get(j, "cache"), *ns = json_get(j, "namespace");
	char cap[FMT_SIZE_LEN], used[FMT_SIZE_LEN], bytes[FMT_SIZE_LEN], up[48];
	uint64_t capacity = json_get_u64(cache, "capacity", 0), u = json_get_u64(cache, "used", 0);
	fmt_size(capacity, 1, cap);
	fmt_size(u, 1, used);
	fmt_size(json_get_u64(ns, "bytes", 0), 1, bytes);
	fmt_duration(json_get_i64(j, "uptime_ms", 0), up);
	printf("Atrium report\n");
	printf("    Version: %s\n", json_get_str(j, "version"));
	printf("    Started: %s\n", json_get_str(j, "started"));
	printf("    Uptime: %s\n", up);
	printf("    Auth: %s\n", json_get_str(j, "auth"));
	printf("    Under storage: %s\n", json_get_str(j, "ufs"));
	printf("Cache\n");
	printf("    Capacity: %s\n", cap);
	printf("    Used: %s (%d%%)\n", used, capacity ? fmt_pct(u, capacity) : 0);
	const struct json *tiers = json_get(cache, "tiers");
	for (const struct json *t = tiers ? tiers->child : NULL; t; t = t->next) {
		fmt_size(json_get_u64(t, "capacity", 0), 1, cap);
		fmt_size(json_get_u64(t, "used", 0), 1, used);
		printf("    Tier %s: capacity %s, used %s, hits %llu, misses %llu, hit ratio "
		       "%.2f%%, evictions %llu\n", json_get_str(t, "tier"), cap, used,
		       (unsigned long long)json_get_u64(t, "hits", 0),
		       (unsigned long long)json_get_u64(t, "misses", 0),
		       100 * json_num(json_get(t, "hit_ratio")),
		       (unsigned long long)json_get_u64(t, "evictions", 0));
		if (json_get(t, "corrupt"))
			printf("        blocks %llu, dropped as corrupt %llu, write errors %llu, "
			       "old versions dropped %llu\n",
			       (unsigned long long)json_get_u64(t, "blocks", 0),
			       (unsigned long long)json_get_u64(t, "corrupt", 0),
			       (unsigned long long)json_get_u64(t, "write_errors", 0),
			       (unsigned long long)json_get_u64(t, "stale", 0));
	}
	printf("    Hits: %llu\n    Misses: %llu\n    Evictions: %llu\n    Hit ratio: %.2f%%\n",
	       (unsigned long long)json_get_u64(cache, "hits", 0),
	       (unsigned long long)json_get_u64(cache, "misses", 0),
	       (unsigned long long)json_get_u64(cache, "evictions", 0),
	       100 * json_num(json_get(cache, "hit_ratio")));
	printf("Namespace\n");
	printf("    Files: %llu\n    Directories: %llu\n    Bytes: %s\n",
	       (unsigned long long)json_get_u64(ns, "files", 0),
	       (unsigned long long)json_get_u64(ns, "directories", 0), bytes);
	const struct json *pst = json_get(j, "persistence");
	if (pst)
		printf("Not persisted\n    NOT_PERSISTED: %llu\n    TO_BE_PERSISTED: %llu\n",
		       (unsigned long long)json_get_u64(pst, "not_persisted", 0),
		       (unsigned long long)json_get_u64(pst, "to_be_persisted", 0));
	printf("Uploads in progress: %llu\n",
	       (unsigned long long)json_get_u64(j, "uploads_in_progress", 0));
	json_free(j);
	return 0;
}

/* ---- the mount table ---- */

/* One mount: "/NAME  on s3://B/P (k=v, ...)", or a JSON line. */
static void print_mount(const struct json *e, int as_json)
{
	const char *path = json_get_str(e, "path"), *uri = json_get_str(e, "uri");
	const struct json *opts = json_get(e, "options");
	struct buf b = BUF_INIT(1 << 20);
	int bad = 0;
	if (as_json)
		bad = buf_addstr(&b, "{\"path\":") || json_add_str(&b, path ? path : "") ||
		      buf_addstr(&b, ",\"uri\":") || json_add_str(&b, uri ? uri : "") ||
		      buf_addstr(&b, ",\"options\":[");
	else
		bad = buf_addf(&b, "%-24s on %s", path ? path : "?", uri ? uri : "?");
	const char *sep = as_json ? "" : " (";
	for (const struct json *o = opts && opts->type == JSON_ARRAY ? opts->child : NULL;
	     o && !bad; o = o->next, sep = as_json ? "," : ", ")
		bad = o->type != JSON_STRING || buf_addstr(&b, sep) ||
		      (as_json ? json_add_str(&b, o->text) : buf_addstr(&b, o->text));
	if (!bad)
		bad = buf_addstr(&b, as_json ? "]}" : opts && opts->child ? ")" : "");
	if (!bad)
		printf("%s\n", b.ptr);
	buf_release(&b);
}

int cmd_mount(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (argc == 0) {
		if (admin(c, "GET", "fs/mounts", NULL, "mount table", &j))
			return 1;
		const struct json *m = json_get(j, "mounts");
		for (const struct json *e = m && m->type == JSON_ARRAY ? m->child : NULL; e;
		     e = e->next)
			print_mount(e, o->json);
		json_free(j);
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "%s: fs mount: give /BUCKET and s3://REMOTE[/PREFIX], or nothing\n",
			prog_cmd);
		return 2;
	}
	struct buf q = BUF_INIT(1 << 20);
	int bad = query_add(&q, "path", argv[0]) || query_add(&q, "uri", argv[1]);
	for (int i = 0; i < o->noptions && !bad; i++)
		bad = query_add(&q, "option", o->options[i]);
	int rc = bad ? 1 : admin(c, "POST", "fs/mount", q.ptr, argv[0], NULL);
	buf_release(&q);
	if (!rc)
		printf("Mounted %s at %s\n", argv[1], argv[0]);
	return rc;
}

int cmd_unmount(struct client *c, int argc, char **argv, const struct opts *o)
{
	if (admin_path(c, "fs/unmount", argv[0], NULL, NULL, 0, NULL))
		return 1;
	printf("Unmounted %s\n", argv[0]);
	return 0;
}
