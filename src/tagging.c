/*
 * tagging — object tags in the core: a string per object, kept in the
 * metadata store under the object's ino (object_tags), set and read here;
 * a commit sets the new object's (object.c).
 *
 * Setting the tags of the object at a key happens under ns_lock in one
 * transaction that first checks the key still names the object looked up
 * (same ino), so tags never land on an object that replaced it meanwhile.
 */
#include <stdlib.h>
#include <string.h>

#include "src/core_int.h"

int atr_put_tags(struct atr_writer *w, const char *tags)
{
	free(w->tags);
	w->tags = NULL;
	if (tags && *tags && !(w->tags = strdup(tags)))
		return ATR_E_NOMEM;
	return ATR_OK;
}

int atr_obj_tags(struct atr_core *c, const struct atr_obj *o, char **tags)
{
	int rc = meta_obj_tags_get(c->meta, o->ino, tags);
	return rc == ATR_E_NO_KEY ? ATR_OK : rc;
}

int atr_object_tags_get(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, char **tags)
{
	struct atr_obj o;
	int rc = atr_object_stat(c, u, bucket, key, &o);
	*tags = NULL;
	if (rc)
		return rc;
	rc = atr_obj_tags(c, &o, tags);
	atr_obj_release(&o);
	if (!rc && !*tags && !(*tags = strdup("")))
		rc = ATR_E_NOMEM;
	return rc;
}

int atr_object_tags_set(struct atr_core *c, const struct atr_user *u, const char *bucket,
			const char *key, const char *tags)
{
	struct atr_obj o;
	struct meta_row now;
	int rc = atr_object_stat(c, u, bucket, key, &o);
	if (rc)
		return rc;
	int allowed = may(u, o.owner, o.mode, 2);
	atr_obj_release(&o);
	if (!allowed)
		return ATR_E_ACCESS;
	pthread_mutex_lock(&c->ns_lock);
	if (!(rc = meta_begin(c->meta))) {
		rc = meta_obj_get(c->meta, bucket, key, &now, 0);
		if (!rc && now.obj.ino != o.ino)
			rc = ATR_E_CONFLICT; /* replaced since we looked */
		if (!rc)
			rc = tags && *tags ? meta_obj_tags_put(c->meta, o.ino, tags)
					   : meta_obj_tags_delete(c->meta, o.ino);
		if (rc)
			meta_rollback(c->meta);
		else
			rc = meta_commit(c->meta);
	}
	pthread_mutex_unlock(&c->ns_lock);
	return rc;
}
