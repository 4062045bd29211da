/*
 * ns_event — what the kernel tells the mount (src/ns_int.h, "events"):
 * every change of a name reaches the watcher (atr_core_watch) as the
 * directory inode and name that changed, so the kernel's caches of the
 * mount never serve a name or page an S3 write replaced; and the hook the
 * inode view keeps replaced inodes readable with (c->on_replace).
 */
#include <stdio.h>
#include <string.h>

#include "common/timefmt.h"
#include "src/ns_int.h"
#include "common/banned.h"

void atr_core_watch(struct atr_core *c, const struct atr_watch_ops *ops, void *arg)
{
	/* The argument stays when the watch goes: a thread that saw the ops
	 * a moment before still calls them with it. */
	if (ops)
		__atomic_store_n(&c->watch_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&c->watch, ops, __ATOMIC_RELEASE);
}

void ns_event(struct atr_core *c, const char *bucket, const char *key, const struct atr_obj *o)
{
	NS_ASSERT_HELD(c);
	const struct atr_watch_ops *w = __atomic_load_n(&c->watch, __ATOMIC_ACQUIRE);
	if (!w)
		return;
	char name[ATR_KEY_MAX + 2];
	uint64_t parent = ATR_INO_ROOT;
	if (!*key) {
		snprintf(name, sizeof(name), "%s", bucket);
	} else {
		char pk[ATR_KEY_MAX + 2];
		const char *nm;
		size_t len;
		struct meta_row pr = { 0 };
		key_split(key, pk, &nm, &len);
		snprintf(name, sizeof(name), "%.*s", (int)len, nm);
		if (meta_obj_get(c->meta, bucket, pk, &pr, 0))
			return; /* its parent is new too: the kernel knows neither */
		parent = pr.obj.ino + 1;
	}
	void *arg = __atomic_load_n(&c->watch_arg, __ATOMIC_RELAXED);
	w->changed(arg, parent, name, obj_node(o) + 1);
}

void ns_settle(struct atr_core *c)
{
	const struct atr_watch_ops *w = __atomic_load_n(&c->watch, __ATOMIC_ACQUIRE);
	if (w)
		w->settle(__atomic_load_n(&c->watch_arg, __ATOMIC_RELAXED));
}

void atr_core_barrier(struct atr_core *c)
{
	ns_lock(c);
	ns_unlock(c);
}

int ns_names_changed(struct atr_core *c, uint64_t node)
{
	char bucket[ATR_BUCKET_MAX + 1], key[ATR_KEY_MAX + 2];
	struct meta_row row = { 0 };
	NS_ASSERT_HELD(c);
	if (!node)
		return ATR_OK;
	int rc = meta_obj_by_ino(c->meta, node, bucket, key, &row, 1);
	if (rc)
		return rc == ATR_E_NO_KEY ? ATR_OK : rc;
	row.obj.ctime_ns = time_now_ns();
	rc = meta_obj_set_posix(c->meta, &row); /* and to every other name */
	atr_obj_release(&row.obj);
	return rc;
}

void ns_replaced(struct atr_core *c, const char *bucket, const char *key,
		 const struct meta_row *old)
{
	NS_ASSERT_HELD(c);
	/* Only a mounted namespace has open inodes to keep whole. */
	if (c->on_replace && __atomic_load_n(&c->watch, __ATOMIC_ACQUIRE))
		c->on_replace(c, bucket, key, old);
}
