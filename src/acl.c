/*
 * acl — S3's ACLs as a view of POSIX permissions (src/perm_int.h; the
 * mapping is documented in src/atrium.h's ACL section and in
 * docs/permissions.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "src/perm_int.h"
#include "common/banned.h"

static void grant(struct atr_acl *a, int grantee, unsigned perm, const char *user)
{
	if (a->n == ATR_ACL_MAX)
		return;
	struct atr_grant *g = &a->g[a->n++];
	memset(g, 0, sizeof(*g));
	g->grantee = grantee;
	g->perm = perm;
	if (user)
		snprintf(g->user, sizeof(g->user), "%s", user);
}

int atr_acl_canned(const char *name, struct atr_acl *out)
{
	memset(out, 0, sizeof(*out));
	grant(out, ATR_GRANTEE_OWNER, ATR_PERM_FULL_CONTROL, NULL);
	if (!strcmp(name, "private") || !strcmp(name, "aws-exec-read"))
		return ATR_OK; /* aws-exec-read's grantee is EC2: nobody here */
	if (!strcmp(name, "public-read") || !strcmp(name, "public-read-write")) {
		grant(out, ATR_GRANTEE_ALL_USERS, ATR_PERM_READ, NULL);
		if (name[11] == '-')
			grant(out, ATR_GRANTEE_ALL_USERS, ATR_PERM_WRITE, NULL);
	} else if (!strcmp(name, "authenticated-read")) {
		grant(out, ATR_GRANTEE_AUTH_USERS, ATR_PERM_READ, NULL);
	} else if (!strcmp(name, "bucket-owner-read")) {
		grant(out, ATR_GRANTEE_BUCKET_OWNER, ATR_PERM_READ, NULL);
	} else if (!strcmp(name, "bucket-owner-full-control")) {
		grant(out, ATR_GRANTEE_BUCKET_OWNER, ATR_PERM_FULL_CONTROL, NULL);
	} else if (!strcmp(name, "log-delivery-write")) {
		grant(out, ATR_GRANTEE_LOG_DELIVERY, ATR_PERM_WRITE, NULL);
		grant(out, ATR_GRANTEE_LOG_DELIVERY, ATR_PERM_READ_ACP, NULL);
	} else {
		return ATR_E_INVALID_ARG;
	}
	return ATR_OK;
}

int atr_acl_is_public(const struct atr_acl *acl)
{
	for (int i = 0; i < acl->n; i++)
		if (acl->g[i].grantee == ATR_GRANTEE_ALL_USERS ||
		    acl->g[i].grantee == ATR_GRANTEE_AUTH_USERS)
			return 1;
	return 0;
}

/* READ and WRITE of a FULL_CONTROL grant, spelled out. */
static unsigned expand(unsigned perm)
{
	return perm & ATR_PERM_FULL_CONTROL
		       ? ATR_PERM_READ | ATR_PERM_WRITE | ATR_PERM_READ_ACP | ATR_PERM_WRITE_ACP
		       : perm;
}

static const char kinds[] = { [ATR_GRANTEE_USER] = 'u', [ATR_GRANTEE_ALL_USERS] = 'a',
			      [ATR_GRANTEE_AUTH_USERS] = 't', [ATR_GRANTEE_LOG_DELIVERY] = 'l',
			      [ATR_GRANTEE_OWNER] = 'o', [ATR_GRANTEE_BUCKET_OWNER] = 'b' };

static int keep(struct buf *b, int grantee, unsigned perm, const char *user)
{
	char line[ATR_USER_MAX + 16];
	snprintf(line, sizeof(line), "%c %u%s%s\n", kinds[grantee], perm, user ? " " : "",
		 user ? user : "");
	return buf_addstr(b, line);
}

int acl_apply(const struct atr_acl *acl, const char *owner, const char *bucket_owner,
	      int is_dir, uint32_t *mode, char **text)
{
	unsigned own = 0, auth = 0, all = 0;
	struct buf b;
	buf_init(&b, ACL_TEXT_MAX);
	*text = NULL;
	for (int i = 0; i < acl->n; i++) {
		const struct atr_grant *g = &acl->g[i];
		int who = g->grantee;
		const char *user = g->user;
		if (who == ATR_GRANTEE_OWNER || who == ATR_GRANTEE_BUCKET_OWNER) {
			user = who == ATR_GRANTEE_OWNER ? owner : bucket_owner;
			who = ATR_GRANTEE_USER;
		}
		unsigned p = expand(g->perm);
		if (who == ATR_GRANTEE_USER && !strcmp(user, owner)) {
			own |= p; /* the owner's ACP rights are implicit */
			continue;
		}
		if (who == ATR_GRANTEE_AUTH_USERS) {
			auth |= p;
			/* The other bits say READ (and WRITE on a directory). */
			p &= ~(unsigned)(ATR_PERM_READ | (is_dir ? ATR_PERM_WRITE : 0));
			if (!p)
				continue;
		} else if (who == ATR_GRANTEE_ALL_USERS) {
			all |= p;
		}
		if (keep(&b, who, g->perm & ATR_PERM_FULL_CONTROL ? ATR_PERM_FULL_CONTROL : p,
			 who == ATR_GRANTEE_USER ? user : NULL)) {
			buf_release(&b);
			return ATR_E_NOMEM;
		}
	}
	/* Everyone (AllUsers) is also every signed-in user: the other bits. */
	auth |= all;
	uint32_t m = *mode & 07000;
	if (own & ATR_PERM_READ)
		m |= 0400;
	if (own & ATR_PERM_WRITE)
		m |= 0200;
	if (auth & ATR_PERM_READ)
		m |= 0044;
	if (is_dir && (auth & ATR_PERM_WRITE))
		m |= 0022;
	if (is_dir) /* READ or WRITE on a directory give its search */
		m |= (m & 0600 ? 0100 : 0) | (m & 0066 ? 0011 : 0);
	*mode = m;
	if (b.len) {
		*text = b.ptr; /* handed over */
		return ATR_OK;
	}
	buf_release(&b);
	return ATR_OK;
}

/* Calls fn for each grant of text: kind, perm, user ("" if none). */
static void each_grant(const char *text, void (*fn)(void *arg, int who, unsigned perm,
						     const char *user), void *arg)
{
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char line[ATR_USER_MAX + 16], user[ATR_USER_MAX + 1] = "";
		unsigned perm;
		char kind;
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (sscanf(line, "%c %u %64s", &kind, &perm, user) >= 2) {
				const char *k = memchr(kinds, kind, sizeof(kinds));
				if (k && kind)
					fn(arg, (int)(k - kinds), perm, user);
			}
		}
		p += n + (eol != NULL);
	}
}

struct render {
	struct atr_acl *out;
	uint32_t mode;
	int is_dir;
};

static void render_one(void *arg, int who, unsigned perm, const char *user)
{
	struct render *r = arg;
	if (who != ATR_GRANTEE_ALL_USERS) {
		grant(r->out, who, perm, *user ? user : NULL);
		return;
	}
	/* Everyone's READ (and a directory's WRITE) hold only while the
	 * other bits allow them: chmod o-r took a public read away. */
	unsigned p = expand(perm);
	unsigned gate = ATR_PERM_READ_ACP | ATR_PERM_WRITE_ACP | ((r->mode & 04) ? ATR_PERM_READ : 0) |
			(!r->is_dir || (r->mode & 02) ? ATR_PERM_WRITE : 0);
	if ((perm & ATR_PERM_FULL_CONTROL) && (p & gate) == p) {
		grant(r->out, who, ATR_PERM_FULL_CONTROL, NULL);
		return;
	}
	for (unsigned bit = ATR_PERM_READ; bit <= ATR_PERM_WRITE_ACP; bit <<= 1)
		if (p & gate & bit)
			grant(r->out, who, bit, NULL);
}

void acl_render(const char *owner, uint32_t mode, const char *text, int is_dir,
		struct atr_acl *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->owner, sizeof(out->owner), "%s", owner);
	unsigned own = ((mode & 0400) ? ATR_PERM_READ : 0) | ((mode & 0200) ? ATR_PERM_WRITE : 0);
	if (own == (ATR_PERM_READ | ATR_PERM_WRITE))
		grant(out, ATR_GRANTEE_USER, ATR_PERM_FULL_CONTROL, owner);
	else if (own)
		grant(out, ATR_GRANTEE_USER, own, owner);
	if (mode & 04)
		grant(out, ATR_GRANTEE_AUTH_USERS, ATR_PERM_READ, NULL);
	if (is_dir && (mode & 02))
		grant(out, ATR_GRANTEE_AUTH_USERS, ATR_PERM_WRITE, NULL);
	struct render r = { out, mode, is_dir };
	each_grant(text, render_one, &r);
}

struct grants_to {
	const char *user;
	uint32_t mode;
	int is_dir, ignore_public;
	unsigned bits;
};

/* A grant's permissions as PERM_* bits. */
static unsigned perm_bits(unsigned perm, int is_dir)
{
	unsigned p = expand(perm), bits = 0;
	if (p & ATR_PERM_READ)
		bits |= PERM_R | (is_dir ? PERM_X : 0);
	if (p & ATR_PERM_WRITE)
		bits |= PERM_W | (is_dir ? PERM_X : 0);
	if (p & ATR_PERM_READ_ACP)
		bits |= PERM_RACP;
	if (p & ATR_PERM_WRITE_ACP)
		bits |= PERM_WACP;
	return bits;
}

static void grants_to_one(void *arg, int who, unsigned perm, const char *user)
{
	struct grants_to *g = arg;
	if (who == ATR_GRANTEE_USER) {
		if (g->user && !strcmp(user, g->user))
			g->bits |= perm_bits(perm, g->is_dir);
	} else if (who == ATR_GRANTEE_ALL_USERS && !g->ignore_public) {
		unsigned bits = perm_bits(perm, g->is_dir);
		if (!(g->mode & 04))
			bits &= ~(unsigned)PERM_R;
		if (!(g->is_dir && (g->mode & 02)))
			bits &= ~(unsigned)PERM_W; /* an object's w is the owner's writes in place */
		if (!(bits & (PERM_R | PERM_W)))
			bits &= ~(unsigned)PERM_X;
		g->bits |= bits;
	} else if (who == ATR_GRANTEE_AUTH_USERS && g->user && !g->ignore_public) {
		g->bits |= perm_bits(perm, g->is_dir) & (PERM_RACP | PERM_WACP);
	}
}

unsigned acl_grants_to(const char *text, const char *user, uint32_t mode, int is_dir,
		       int ignore_public)
{
	struct grants_to g = { user, mode, is_dir, ignore_public, 0 };
	each_grant(text, grants_to_one, &g);
	return g.bits;
}

static void public_one(void *arg, int who, unsigned perm, const char *user)
{
	if (who == ATR_GRANTEE_ALL_USERS || who == ATR_GRANTEE_AUTH_USERS)
		*(int *)arg = 1;
}

int acl_text_is_public(const char *text)
{
	int pub = 0;
	each_grant(text, public_one, &pub);
	return pub;
}

int acl_encode(const struct atr_acl *acl, char **text)
{
	struct buf b;
	buf_init(&b, ACL_TEXT_MAX);
	*text = NULL;
	for (int i = 0; i < acl->n; i++) {
		const struct atr_grant *g = &acl->g[i];
		if (keep(&b, g->grantee, g->perm, g->grantee == ATR_GRANTEE_USER ? g->user : NULL)) {
			buf_release(&b);
			return ATR_E_NOMEM;
		}
	}
	*text = b.ptr ? b.ptr : strdup("");
	return *text ? ATR_OK : ATR_E_NOMEM;
}

static void decode_one(void *arg, int who, unsigned perm, const char *user)
{
	grant(arg, who, perm, *user ? user : NULL);
}

void acl_decode(const char *text, struct atr_acl *out)
{
	memset(out, 0, sizeof(*out));
	each_grant(text, decode_one, out);
}

/* ---- Object Ownership ---- */

void acl_owner(const struct atr_user *u, const struct atr_bucket *b, const struct atr_acl *acl,
	       char out[ATR_USER_MAX + 1])
{
	int to_bucket_owner = u->anonymous || b->ownership == ATR_OWN_BUCKET_OWNER_ENFORCED;
	for (int i = 0; acl && b->ownership == ATR_OWN_BUCKET_OWNER_PREFERRED && i < acl->n; i++)
		to_bucket_owner |= acl->g[i].grantee == ATR_GRANTEE_BUCKET_OWNER &&
				   acl->g[i].perm == ATR_PERM_FULL_CONTROL;
	snprintf(out, ATR_USER_MAX + 1, "%s", to_bucket_owner ? b->owner : u->name);
}

int acl_allowed(const struct atr_bucket *b, const struct atr_acl *acl)
{
	if (!acl)
		return ATR_OK;
	if (b->ownership == ATR_OWN_BUCKET_OWNER_ENFORCED) {
		/* ACLs are off: only what changes nothing is taken (AWS takes
		 * bucket-owner-full-control, and private on a bucket). */
		for (int i = 0; i < acl->n; i++)
			if (acl->g[i].grantee != ATR_GRANTEE_OWNER &&
			    acl->g[i].grantee != ATR_GRANTEE_BUCKET_OWNER)
				return ATR_E_ACLS_OFF;
	}
	if (b->public_block > 0 && (b->public_block & ATR_PAB_BLOCK_ACLS) && atr_acl_is_public(acl))
		return ATR_E_ACCESS;
	return ATR_OK;
}

void acl_view(const struct atr_bucket *b, const char *owner, uint32_t mode, const char *text,
	      int is_dir, struct atr_acl *out)
{
	if (b->ownership != ATR_OWN_BUCKET_OWNER_ENFORCED) {
		acl_render(owner, mode, text, is_dir, out);
		return;
	}
	/* ACLs are off: the bucket's owner has full control, nobody else. */
	memset(out, 0, sizeof(*out));
	snprintf(out->owner, sizeof(out->owner), "%s", b->owner);
	out->n = 1;
	out->g[0].grantee = ATR_GRANTEE_USER;
	out->g[0].perm = ATR_PERM_FULL_CONTROL;
	snprintf(out->g[0].user, sizeof(out->g[0].user), "%s", b->owner);
}

int acl_replace(const struct atr_bucket *b, const struct atr_acl *acl, const char *owner,
		int is_dir, uint32_t *mode, char **text)
{
	int rc = acl_allowed(b, acl);
	if (rc)
		return rc;
	if (*acl->owner && strcmp(acl->owner, owner))
		return ATR_E_INVALID_ARG; /* an ACL does not change the owner */
	*mode &= 07000;
	return acl_apply(acl, owner, b->owner, is_dir, mode, text);
}
