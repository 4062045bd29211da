/*
 * cli_user — `atrium user ...`: the daemon's users through the admin API
 * (/api/v1/users, the superuser's only). A new key pair is printed once,
 * as awscli's credentials lines, and never again.
 */
#include <string.h>

#include "tools/cli.h"
#include "common/banned.h"

/* A call with user=NAME and maybe one more parameter. */
static int user_call(struct client *c, const char *endpoint, const char *user, const char *name,
		     const char *value, struct json **out)
{
	struct buf q = BUF_INIT(4096);
	int rc = query_add(&q, "user", user) || query_add(&q, name, value) ||
		 admin(c, "POST", endpoint, q.ptr, user, out);
	buf_release(&q);
	return rc ? 1 : 0;
}

/* The key pair of an add or a rotation, shown once. */
static void print_keys(const struct json *j, const char *what)
{
	printf("%s user %s (%s). Its keys, shown this once:\n", what, json_get_str(j, "user"),
	       json_get_str(j, "display"));
	printf("aws_access_key_id = %s\naws_secret_access_key = %s\n",
	       json_get_str(j, "access_key"), json_get_str(j, "secret_key"));
}

int cmd_user_add(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (user_call(c, "users/add", argv[0], "display", o->display, &j))
		return 1;
	print_keys(j, "Added");
	json_free(j);
	return 0;
}

int cmd_user_rotate(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (user_call(c, "users/rotate-key", argv[0], NULL, NULL, &j))
		return 1;
	print_keys(j, "New key for");
	printf("The old key(s) of %s no longer work.\n", argv[0]);
	json_free(j);
	return 0;
}

static int set_active(struct client *c, const char *user, int active)
{
	if (user_call(c, active ? "users/enable" : "users/disable", user, NULL, NULL, NULL))
		return 1;
	printf("User %s is %s\n", user, active ? "enabled" : "disabled: its keys sign nothing");
	return 0;
}

int cmd_user_disable(struct client *c, int argc, char **argv, const struct opts *o)
{
	return set_active(c, argv[0], 0);
}

int cmd_user_enable(struct client *c, int argc, char **argv, const struct opts *o)
{
	return set_active(c, argv[0], 1);
}

int cmd_user_rm(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (user_call(c, "users/rm", argv[0], "force", o->force ? "1" : NULL, &j))
		return 1;
	const struct json *b = json_get(j, "buckets_transferred");
	printf("Removed user %s\n", argv[0]);
	for (const struct json *it = b ? b->child : NULL; it; it = it->next)
		printf("  bucket %s now belongs to the daemon's user\n", it->text);
	json_free(j);
	return 0;
}

int cmd_user_list(struct client *c, int argc, char **argv, const struct opts *o)
{
	struct json *j = NULL;
	if (admin(c, "GET", "users", NULL, NULL, &j))
		return 1;
	const struct json *users = json_get(j, "users");
	if (!o->json)
		printf("%-24s %-24s %-24s %s\n", "User", "Display Name", "Access Key", "Status");
	for (const struct json *u = users ? users->child : NULL; u; u = u->next) {
		const struct json *keys = json_get(u, "keys");
		for (const struct json *k = keys ? keys->child : NULL; k; k = k->next) {
			if (o->json) {
				struct buf b = BUF_INIT(4096);
				if (!buf_addstr(&b, "{\"user\":") &&
				    !json_add_str(&b, json_get_str(u, "user")) &&
				    !buf_addstr(&b, ",\"display\":") &&
				    !json_add_str(&b, json_get_str(u, "display")) &&
				    !buf_addstr(&b, ",\"access_key\":") &&
				    !json_add_str(&b, json_get_str(k, "access_key")) &&
				    !buf_addstr(&b, ",\"status\":") &&
				    !json_add_str(&b, json_get_str(k, "status")) && !buf_addstr(&b, "}\n"))
					fputs(b.ptr, stdout);
				buf_release(&b);
				continue;
			}
			printf("%-24s %-24s %-24s %s\n", json_get_str(u, "user"),
			       json_get_str(u, "display"), json_get_str(k, "access_key"),
			       json_get_str(k, "status"));
		}
	}
	json_free(j);
	return 0;
}
