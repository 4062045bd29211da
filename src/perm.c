/*
 * perm — the one permission decision (src/perm_int.h, docs/permissions.md).
 *
 * Order, as AWS evaluates a request: the superuser may; the bucket
 * policy's explicit Deny refuses and its Allow grants (Block Public
 * Access's RestrictPublicBuckets narrowing a public policy to the bucket's
 * owner); else the entry's POSIX permissions and ACL grants decide, with
 * search (x) needed on every directory above it, exactly as the kernel
 * asks of the mount.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/uri.h"
#include "src/ns_int.h"
#include "src/idmap_int.h"
#include "src/perm_int.h"
#include "src/policy_int.h"
#include "common/banned.h"

/* The permission side of a row (or of a bucket's root). */
struct eperm {
	const char *owner;
	int64_t gid;
	uint32_t mode;
	int has_acl;
	uint64_t node;  /* where its grants are kept */
	const char *text; /* or the grants themselves (a noncurrent version's) */
	int is_dir;
};

static void eperm_row(struct eperm *e, const struct meta_row *r)
{
	e->owner = r->obj.owner;
	e->gid = r->obj.gid;
	e->mode = r->obj.mode;
	e->has_acl = r->has_acl;
	e->node = obj_node(&r->obj);
	e->text = NULL;
	e->is_dir = r->obj.is_dir;
}

static void eperm_root(struct eperm *e, const struct atr_bucket *b)
{
	e->owner = b->owner;
	e->gid = b->gid;
	e->mode = b->mode;
	e->has_acl = b->has_acl;
	e->node = b->root_ino;
	e->text = NULL;
	e->is_dir = 1;
}

const char *perm_owner_name(const struct atr_user *u, const struct atr_bucket *b)
{
	return u->anonymous ? b->owner : u->name;
}

/* Mode bits (the low three of bits) as PERM_* (the same values). */
static unsigned rwx(uint32_t bits)
{
	return bits & (PERM_R | PERM_W | PERM_X);
}

/* The PERM_* bits u has on e, by its mode and grants. */
static unsigned bits_of(struct atr_core *c, const struct atr_user *u, const struct atr_bucket *b,
			const struct eperm *e)
{
	int pab = b->public_block > 0 ? b->public_block : 0;
	int ignore_public = (pab & ATR_PAB_IGNORE_ACLS) != 0;
	int acls_off = b->ownership == ATR_OWN_BUCKET_OWNER_ENFORCED;
	unsigned bits = 0;
	if (!u->anonymous && !strcmp(u->name, e->owner))
		return rwx(e->mode >> 6) | PERM_RACP | PERM_WACP | PERM_OWNER;
	if (!u->anonymous) {
		uint32_t uid, gid, ouid, ogid;
		idmap_ids(c, u->name, &uid, &gid);
		if (e->gid >= 0)
			ogid = (uint32_t)e->gid;
		else
			idmap_ids(c, e->owner, &ouid, &ogid);
		if (gid == ogid)
			bits = rwx(e->mode >> 3);
		else if (!ignore_public)
			bits = rwx(e->mode);
	}
	if (e->has_acl && !acls_off) {
		char *text = NULL;
		if (e->text || meta_acl_get(c->meta, e->node, &text) == ATR_OK)
			bits |= acl_grants_to(e->text ? e->text : text,
					      u->anonymous ? NULL : u->name, e->mode, e->is_dir,
					      ignore_public);
		free(text);
	}
	return bits;
}

enum verdict { NO_MATCH, ALLOW, DENY };

/* ---- bucket policies ----
 *
 * Parsed policies are kept by bucket name, each with a reference count:
 * the cache holds one, every evaluation in progress one more, so a policy
 * replaced meanwhile is freed by whoever lets it go last. Guarded by
 * lock; policy_eval runs outside it (a parsed policy is immutable).
 */
#define POLICIES_MAX 256

struct cached_policy {
	struct cached_policy *next;
	char bucket[ATR_BUCKET_MAX + 1];
	struct policy *p;
	int refs;
};

struct perm_policies {
	pthread_mutex_t lock;
	struct cached_policy *head; /* most recently parsed first */
	int n;
};

int perm_open(struct atr_core *c)
{
	if (!(c->policies = calloc(1, sizeof(*c->policies))))
		return ATR_E_NOMEM;
	pthread_mutex_init(&c->policies->lock, NULL);
	return ATR_OK;
}

void perm_close(struct atr_core *c)
{
	struct perm_policies *ps = c->policies;
	if (!ps)
		return;
	for (struct cached_policy *cp = ps->head, *next; cp; cp = next) {
		next = cp->next;
		policy_free(cp->p);
		free(cp);
	}
	pthread_mutex_destroy(&ps->lock);
	free(ps);
	c->policies = NULL;
}

static void policy_put(struct perm_policies *ps, struct cached_policy *cp)
{
	pthread_mutex_lock(&ps->lock);
	int last = --cp->refs == 0;
	pthread_mutex_unlock(&ps->lock);
	if (last) {
		policy_free(cp->p);
		free(cp);
	}
}

/* Unlinks bucket's entry (under lock); the caller drops the cache's
 * reference. */
static struct cached_policy *policy_unlink(struct perm_policies *ps, const char *bucket)
{
	for (struct cached_policy **pp = &ps->head; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->bucket, bucket)) {
			struct cached_policy *cp = *pp;
			*pp = cp->next;
			ps->n--;
			return cp;
		}
	return NULL;
}

void perm_policy_forget(struct atr_core *c, const char *bucket)
{
	struct perm_policies *ps = c->policies;
	pthread_mutex_lock(&ps->lock);
	struct cached_policy *cp = policy_unlink(ps, bucket);
	pthread_mutex_unlock(&ps->lock);
	if (cp)
		policy_put(ps, cp);
}

static int user_exists(void *arg, const char *user)
{
	struct atr_core *c = arg;
	return !c->users || !atr_idents_find_user(c->users, user, NULL) ||
	       !strcmp(user, c->daemon_user);
}

int perm_policy_parse(struct atr_core *c, const char *bucket, const char *json, size_t len,
		      int *is_public, char *err, size_t errsize)
{
	struct policy *p;
	if (policy_parse(json, len, bucket, user_exists, c, &p, err, errsize))
		return ATR_E_BAD_POLICY;
	*is_public = policy_is_public(p);
	policy_free(p);
	return ATR_OK;
}

/* The parsed policy of bucket, with a reference for the caller; NULL if
 * it has none, or it cannot be read or parsed (then *failed). */
static struct cached_policy *policy_get(struct atr_core *c, const char *bucket, int *failed)
{
	struct perm_policies *ps = c->policies;
	struct cached_policy *cp;
	char *json = NULL, err[256];
	*failed = 0;
	pthread_mutex_lock(&ps->lock);
	for (cp = ps->head; cp; cp = cp->next)
		if (!strcmp(cp->bucket, bucket)) {
			cp->refs++;
			pthread_mutex_unlock(&ps->lock);
			return cp;
		}
	pthread_mutex_unlock(&ps->lock);
	int rc = meta_bucket_policy_get(c->meta, bucket, &json);
	if (rc == ATR_E_NO_KEY)
		return NULL; /* deleted since the bucket's row said it had one */
	if (rc || !(cp = calloc(1, sizeof(*cp)))) {
		free(json);
		*failed = 1;
		return NULL;
	}
	if (policy_parse(json, strlen(json), bucket, user_exists, c, &cp->p, err, sizeof(err))) {
		LOG(LOG_ERROR, "perm: the policy of bucket %s no longer parses (%s): only its "
		    "owner is let in", bucket, err);
		free(json);
		free(cp);
		*failed = 1;
		return NULL;
	}
	free(json);
	snprintf(cp->bucket, sizeof(cp->bucket), "%s", bucket);
	cp->refs = 2; /* the cache's and the caller's */
	struct cached_policy *old = NULL, *evicted = NULL;
	pthread_mutex_lock(&ps->lock);
	old = policy_unlink(ps, bucket); /* parsed by another thread meanwhile */
	if (ps->n == POLICIES_MAX) {
		struct cached_policy **pp = &ps->head;
		while ((*pp)->next)
			pp = &(*pp)->next;
		evicted = *pp;
		*pp = NULL;
		ps->n--;
	}
	cp->next = ps->head;
	ps->head = cp;
	ps->n++;
	pthread_mutex_unlock(&ps->lock);
	if (old)
		policy_put(ps, old);
	if (evicted)
		policy_put(ps, evicted);
	return cp;
}

/* What a policy may ask about a request, beyond the front end's keys. */
struct cond_ctx {
	struct atr_core *c;
	const struct atr_user *u;
	const char *bucket, *key;
	struct uri_query tags;  /* the object's tags, once read */
	int tags_state;         /* 0 not read, 1 read, -1 none */
};

/* The object's tag named name (tag keys compare without case, as at AWS). */
static const char *existing_tag(struct cond_ctx *x, const char *name)
{
	if (!x->tags_state) {
		struct meta_row row = { 0 };
		char *tags = NULL;
		x->tags_state = -1;
		if (x->key && !meta_obj_get(x->c->meta, x->bucket, x->key, &row, 0) &&
		    !meta_obj_tags_get(x->c->meta, row.obj.ino, &tags) &&
		    !uri_query_parse(&x->tags, tags))
			x->tags_state = 1;
		free(tags);
	}
	for (int i = 0; x->tags_state > 0 && i < x->tags.n; i++)
		if (!strcasecmp(x->tags.p[i].name, name))
			return x->tags.p[i].value;
	return NULL;
}

static const char *cond_value(void *arg, const char *k, int i)
{
	struct cond_ctx *x = arg;
	const struct atr_request *req = x->u->req;
	if (!strcasecmp(k, "aws:PrincipalType"))
		return i ? NULL : x->u->anonymous ? "Anonymous" : "User";
	if (!strncasecmp(k, "s3:ExistingObjectTag/", 21))
		return i ? NULL : existing_tag(x, k + 21);
	return req && req->value ? req->value(req->arg, k, i) : NULL;
}

static enum verdict policy_says(struct atr_core *c, const struct atr_user *u,
				const char *action, const struct atr_bucket *b, const char *key)
{
	int failed, pab = b->public_block > 0 ? b->public_block : 0;
	if (!b->has_policy)
		return NO_MATCH;
	struct cached_policy *cp = policy_get(c, b->name, &failed);
	if (!cp) /* fail closed, but the owner keeps what ownership gives */
		return failed && (u->anonymous || strcmp(u->name, b->owner)) ? DENY : NO_MATCH;
	struct cond_ctx x = { .c = c, .u = u, .bucket = b->name, .key = key };
	struct policy_request r = { .user = u->anonymous ? NULL : u->name, .action = action,
				    .bucket = b->name, .key = key, .value = cond_value, .arg = &x };
	enum policy_decision d = policy_eval(cp->p, &r);
	/* RestrictPublicBuckets: a public policy lets no one from outside the
	 * account in, and the only one outside it here is anonymous. */
	if (d == POLICY_ALLOW && (pab & ATR_PAB_RESTRICT_BUCKETS) && u->anonymous &&
	    policy_is_public(cp->p))
		d = POLICY_NO_MATCH;
	policy_put(c->policies, cp);
	if (x.tags_state > 0)
		uri_query_release(&x.tags);
	return d == POLICY_DENY ? DENY : d == POLICY_ALLOW ? ALLOW : NO_MATCH;
}

int perm_policy(struct atr_core *c, const struct atr_user *u, const char *action,
		const struct atr_bucket *b, const char *key)
{
	if (u->superuser)
		return 0;
	enum verdict v = policy_says(c, u, action, b, key);
	return v == DENY ? -1 : v == ALLOW;
}

/* Search (x) on the bucket's root and every directory above dirs_of. */
struct search {
	struct atr_core *c;
	const struct atr_user *u;
	const struct atr_bucket *b;
	int denied;
	struct meta_row last;   /* the deepest directory met */
	int have_last;
};

static int search_one(void *arg, const char *key, const struct meta_row *row)
{
	struct search *s = arg;
	struct eperm e;
	eperm_row(&e, row);
	s->last = *row;
	s->have_last = 1;
	if (!(bits_of(s->c, s->u, s->b, &e) & PERM_X)) {
		s->denied = 1;
		return 1;
	}
	return 0;
}

static int search_path(struct search *s, const char *dirs_of)
{
	struct eperm root;
	eperm_root(&root, s->b);
	if (!(bits_of(s->c, s->u, s->b, &root) & PERM_X)) {
		s->denied = 1;
		return ATR_OK;
	}
	if (!dirs_of || !strchr(dirs_of, '/'))
		return ATR_OK;
	return meta_ancestors(s->c->meta, s->b->name, dirs_of, search_one, s);
}

/* perm_check's decision, on the permission side e. */
static int check_eperm(struct atr_core *c, const struct atr_user *u, const char *action,
		       const struct atr_bucket *b, const char *key, const struct eperm *e,
		       const char *dirs_of, unsigned want)
{
	if (u->superuser)
		return ATR_OK;
	enum verdict v = policy_says(c, u, action, b, key);
	if (v != NO_MATCH)
		return v == ALLOW ? ATR_OK : ATR_E_ACCESS;
	struct search s = { .c = c, .u = u, .b = b };
	int rc = search_path(&s, dirs_of);
	if (rc || s.denied)
		return rc ? rc : ATR_E_ACCESS;
	return (bits_of(c, u, b, e) & want) == want ? ATR_OK : ATR_E_ACCESS;
}

int perm_check(struct atr_core *c, const struct atr_user *u, const char *action,
	       const struct atr_bucket *b, const char *key, const struct meta_row *target,
	       const char *dirs_of, unsigned want)
{
	struct eperm e;
	if (target)
		eperm_row(&e, target);
	else
		eperm_root(&e, b);
	return check_eperm(c, u, action, b, key, &e, dirs_of, want);
}

int perm_check_version(struct atr_core *c, const struct atr_user *u, const char *action,
		       const struct atr_bucket *b, const char *key, const struct atr_obj *o,
		       const char *acl, unsigned want)
{
	struct eperm e = { .owner = o->owner, .gid = o->gid, .mode = o->mode,
			   .has_acl = acl != NULL, .text = acl };
	return check_eperm(c, u, action, b, key, &e, key, want);
}

int perm_write_key(struct atr_core *c, const struct atr_user *u, const char *action,
		   const struct atr_bucket *b, const char *key)
{
	if (u->superuser)
		return ATR_OK;
	enum verdict v = policy_says(c, u, action, b, key);
	if (v != NO_MATCH)
		return v == ALLOW ? ATR_OK : ATR_E_ACCESS;
	/* The directories above key: its own when key is a directory
	 * ("a/b/" lies in "a/" only). */
	char dirs_of[ATR_KEY_MAX + 2];
	key_parent(key, dirs_of);
	struct search s = { .c = c, .u = u, .b = b };
	int rc = search_path(&s, dirs_of);
	if (rc || s.denied)
		return rc ? rc : ATR_E_ACCESS;
	struct eperm dir;
	if (s.have_last)
		eperm_row(&dir, &s.last);
	else
		eperm_root(&dir, b);
	unsigned bits = bits_of(c, u, b, &dir);
	if ((bits & (PERM_W | PERM_X)) != (PERM_W | PERM_X))
		return ATR_E_ACCESS;
	/* Sticky: only the entry's or the directory's owner replaces it. */
	struct meta_row victim = { 0 };
	if (!(dir.mode & S_ISVTX) || (bits & PERM_OWNER) ||
	    meta_obj_get(c->meta, b->name, key, &victim, 0))
		return ATR_OK;
	return !u->anonymous && !strcmp(u->name, victim.obj.owner) ? ATR_OK : ATR_E_ACCESS;
}

void perm_inherit(const struct atr_bucket *b, const struct meta_row *dir, struct meta_row *r)
{
	struct eperm e;
	if (dir)
		eperm_row(&e, dir);
	else
		eperm_root(&e, b);
	snprintf(r->obj.owner, sizeof(r->obj.owner), "%s", e.owner);
	r->obj.gid = e.gid;
	r->obj.mode = e.mode & 07777;
	r->has_acl = e.has_acl;
}

/* ---- implied directories follow their parent ---- */

struct followed {
	struct {
		char key[ATR_KEY_MAX + 2];
		struct atr_obj obj;
	} *v;
	size_t n;
	int oom;
};

static int collect_followed(void *arg, const char *key, const struct meta_row *row)
{
	struct followed *f = arg;
	void *v = realloc(f->v, (f->n + 1) * sizeof(*f->v));
	if (!v) {
		f->oom = 1;
		return 1;
	}
	f->v = v;
	snprintf(f->v[f->n].key, sizeof(f->v[f->n].key), "%s", key);
	f->v[f->n].obj = row->obj;
	f->v[f->n].obj.hdrs = NULL;
	f->n++;
	return 0;
}

int perm_follow(struct atr_core *c, const char *bucket, const char *dirkey,
		const struct meta_row *before, const struct meta_row *after, int new_text,
		const char *after_text)
{
	if (!strcmp(before->obj.owner, after->obj.owner) && before->obj.gid == after->obj.gid &&
	    before->obj.mode == after->obj.mode && !new_text)
		return ATR_OK;
	struct followed f = { 0 };
	int rc = meta_perm_follow(c->meta, bucket, dirkey, before, after, collect_followed, &f);
	if (!rc && f.oom)
		rc = ATR_E_NOMEM;
	for (size_t i = 0; !rc && i < f.n; i++) {
		if (new_text)
			rc = meta_acl_set(c->meta, obj_node(&f.v[i].obj), after_text);
		ns_event(c, bucket, f.v[i].key, &f.v[i].obj);
	}
	free(f.v);
	return rc;
}

/* ---- listings ---- */

#define VIEW_SLOTS 256

struct perm_view {
	struct atr_core *c;
	const struct atr_user *u;
	const struct atr_bucket *b;
	int all;                /* nothing to check (superuser, policy allows) */
	int used;
	struct {
		char *dir;
		int ok;
	} slot[VIEW_SLOTS];
};

int perm_view_new(struct atr_core *c, const struct atr_user *u, const struct atr_bucket *b,
		  const char *action, struct perm_view **out)
{
	struct perm_view *v = calloc(1, sizeof(*v));
	if (!v)
		return ATR_E_NOMEM;
	v->c = c;
	v->u = u;
	v->b = b;
	/* Resolved now, outside the listing's read transaction (where a first
	 * allocation could not be written). */
	if (!u->anonymous && !u->superuser) {
		uint32_t uid, gid;
		idmap_ids(c, u->name, &uid, &gid);
	}
	v->all = u->superuser || policy_says(c, u, action, b, NULL) == ALLOW;
	*out = v;
	return ATR_OK;
}

void perm_view_release(struct perm_view *v)
{
	if (!v)
		return;
	for (int i = 0; i < VIEW_SLOTS; i++)
		free(v->slot[i].dir);
	free(v);
}

static unsigned hash_str(const char *s)
{
	unsigned h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* r and x on dirkey, x above it. */
static int view_decide(struct perm_view *v, const char *dirkey)
{
	struct eperm e;
	if (!*dirkey) {
		eperm_root(&e, v->b);
		unsigned bits = bits_of(v->c, v->u, v->b, &e);
		return (bits & (PERM_R | PERM_X)) == (PERM_R | PERM_X);
	}
	struct search s = { .c = v->c, .u = v->u, .b = v->b };
	if (search_path(&s, dirkey) || s.denied || !s.have_last)
		return 0;
	eperm_row(&e, &s.last);
	return (bits_of(v->c, v->u, v->b, &e) & PERM_R) != 0;
}

int perm_view_dir(struct perm_view *v, const char *dirkey)
{
	if (v->all)
		return 1;
	unsigned i = hash_str(dirkey) % VIEW_SLOTS;
	for (int probe = 0; probe < VIEW_SLOTS; probe++, i = (i + 1) % VIEW_SLOTS) {
		if (!v->slot[i].dir)
			break;
		if (!strcmp(v->slot[i].dir, dirkey))
			return v->slot[i].ok;
	}
	int ok = view_decide(v, dirkey);
	if (v->used == VIEW_SLOTS / 2) { /* keep probes short: start over */
		for (int j = 0; j < VIEW_SLOTS; j++) {
			free(v->slot[j].dir);
			v->slot[j].dir = NULL;
		}
		v->used = 0;
		i = hash_str(dirkey) % VIEW_SLOTS;
	}
	while (v->slot[i].dir)
		i = (i + 1) % VIEW_SLOTS;
	if ((v->slot[i].dir = strdup(dirkey))) {
		v->slot[i].ok = ok;
		v->used++;
	}
	return ok;
}

/* ---- the lookups every view starts with ---- */

int perm_bucket(struct atr_core *c, const struct atr_user *u, const char *name,
		const char *action, unsigned want, struct atr_bucket *out)
{
	struct atr_bucket b;
	if (!out)
		out = &b;
	if (!atr_bucket_name_valid(name))
		return ATR_E_INVALID_BUCKET;
	int rc = ns_bucket_get(c, name, out, 0);
	if (rc || !want)
		return rc;
	return perm_check(c, u, action, out, NULL, NULL, NULL, want);
}

int perm_find(struct atr_core *c, const struct atr_user *u, const char *action, unsigned want,
	      const char *bucket, const char *key, struct meta_row *row, struct ufs_file **fp,
	      int etag)
{
	struct atr_bucket b;
	struct ufs_file *f = NULL;
	int rc = perm_bucket(c, u, bucket, NULL, 0, &b);
	if (rc)
		return rc;
	if ((rc = ns_find(c, bucket, key, row, fp ? &f : NULL, etag))) {
		/* S3 tells a missing key (404) only to who may list the bucket,
		 * others learn nothing from it (403). */
		if (rc == ATR_E_NO_KEY &&
		    perm_check(c, u, "s3:ListBucket", &b, NULL, NULL, NULL, PERM_R))
			rc = ATR_E_ACCESS;
		return rc;
	}
	if ((rc = perm_check(c, u, action, &b, key, row, key, want))) {
		if (f)
			ufs_close(c->ufs, f);
		atr_obj_release(&row->obj);
		return rc;
	}
	if (fp)
		*fp = f;
	return ATR_OK;
}

