/*
 * atrium — the command-line client of atriumd: `atrium fs ...`, `atrium
 * user ...` and `atrium report`, in the shape of Alluxio's `bin/alluxio fs`.
 *
 * It talks HTTP to the daemon only: the admin API (/api/v1/...) for the
 * namespace, the cache, persistence and users, and the S3 door for bytes.
 * Options are parsed with getopt_long: "--opt value" and "--opt=value",
 * short flags grouped ("-Rh"), flags among the arguments, "--" ending
 * them. Where the endpoint, keys, region and CA come from (first wins):
 *
 *   endpoint  --endpoint, $ATRIUM_ENDPOINT, endpoint_url of the profile in
 *             ~/.atrium/config, http://127.0.0.1:39999
 *   keys      --access-key/--secret-key; the --profile in
 *             ~/.atrium/credentials; $AWS_ACCESS_KEY_ID and
 *             $AWS_SECRET_ACCESS_KEY; the profile $ATRIUM_PROFILE or
 *             "default"; none (unsigned: simple mode)
 *   region    --region, $AWS_DEFAULT_REGION, $AWS_REGION, the profile's
 *             region, us-east-1
 *   CA        --cacert, $AWS_CA_BUNDLE, $CURL_CA_BUNDLE, $SSL_CERT_FILE,
 *             the profile's ca_bundle, the system's; --insecure checks none
 *
 * Exit status: 0 done, 1 the operation failed (missing path, refused,
 * daemon unreachable, a load that did not fit in the cache), 2 bad usage.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"
#include "tools/cli_fmt.h"
#include "version.h"
#include "common/banned.h"

const char *prog_cmd = "atrium";

/* Long options a command may take, beyond its short ones. */
enum { O_JSON = 256, O_VERBOSE, O_FORCE, O_DISPLAY, O_OPTION, O_ACTION, O_METADATA, O_LOCAL,
       O_HELP };
enum { L_JSON = 1, L_VERBOSE = 2, L_FORCE = 4, L_DISPLAY = 8, L_OPTION = 16, L_ACTION = 32,
       L_METADATA = 64 };

static const struct {
	struct option o;
	unsigned bit;       /* taken by commands with this bit... */
	char shortopt;      /* ...or with this short option */
} long_opts[] = {
	{ { "json", no_argument, NULL, O_JSON }, L_JSON, 0 },
	{ { "verbose", no_argument, NULL, O_VERBOSE }, L_VERBOSE, 0 },
	{ { "force", no_argument, NULL, O_FORCE }, L_FORCE, 0 },
	{ { "display-name", required_argument, NULL, O_DISPLAY }, L_DISPLAY, 0 },
	{ { "option", required_argument, NULL, O_OPTION }, L_OPTION, 0 },
	{ { "action", required_argument, NULL, O_ACTION }, L_ACTION, 0 },
	{ { "metadata", no_argument, NULL, O_METADATA }, L_METADATA, 0 },
	/* fs load --local (Alluxio's: into the local worker): every load is,
	 * this daemon being the only one; taken so Alluxio's scripts run. */
	{ { "local", no_argument, NULL, O_LOCAL }, L_METADATA, 0 },
	{ { "recursive", no_argument, NULL, 'R' }, 0, 'R' },
	{ { "human-readable", no_argument, NULL, 'h' }, 0, 'h' },
	{ { "summarize", no_argument, NULL, 's' }, 0, 's' },
	{ { "bytes", required_argument, NULL, 'c' }, 0, 'c' },
};
#define N_LONG (sizeof(long_opts) / sizeof(long_opts[0]))

struct cmd {
	const char *name, *args, *help;
	run_fn run;
	const char *shorts;  /* getopt's short options: "Rh", "c:" */
	unsigned longs;      /* L_* */
	int min, max;        /* positional arguments (max -1: any) */
};

static const struct cmd fs_cmds[] = {
	{ "ls", "[-R] [-h] [-f] [--json] PATH", "list a directory (or a file): mode, owner, group, "
	  "size, persistence, mtime, in-cache %; -f asks a remote under-storage again first",
	  cmd_ls, "Rhf", L_JSON, 1, 1 },
	{ "stat", "[--json] PATH", "everything about one file or directory", cmd_stat, "", L_JSON,
	  1, 1 },
	{ "cat", "PATH", "write a file's content to standard output", cmd_cat, "", 0, 1, 1 },
	{ "head", "[-c BYTES] PATH", "the first BYTES of a file (1KB)", cmd_head, "c:", 0, 1, 1 },
	{ "tail", "[-c BYTES] PATH", "the last BYTES of a file (1KB)", cmd_tail, "c:", 0, 1, 1 },
	{ "du", "[-s] [-h] [--json] PATH", "sizes of the files below PATH, and how much is cached",
	  cmd_du, "sh", L_JSON, 1, 1 },
	{ "count", "[-h] PATH", "files, folders and bytes below PATH", cmd_count, "h", 0, 1, 1 },
	{ "mkdir", "PATH...", "make directories (and missing parents); /BUCKET makes a bucket",
	  cmd_mkdir, "", 0, 1, -1 },
	{ "rm", "[-R] [--verbose] PATH...", "remove files; with -R directories and buckets with "
	  "all below", cmd_rm, "R", L_VERBOSE, 1, -1 },
	{ "mv", "SRC DST", "move a file or directory (into DST if it is a directory)", cmd_mv, "",
	  0, 2, 2 },
	{ "cp", "[-R] [--verbose] SRC DST", "copy files; file://PATH is a local file (upload, "
	  "download), else both are in the namespace", cmd_cp, "R", L_VERBOSE, 2, 2 },
	{ "put", "LOCAL PATH", "upload a local file (copyFromLocal)", cmd_put, "", 0, 2, 2 },
	{ "get", "PATH LOCAL", "download a file (copyToLocal)", cmd_get, "", 0, 2, 2 },
	{ "checksum", "PATH", "the MD5 of a file's content", cmd_checksum, "", 0, 1, 1 },
	{ "chmod", "[-R] MODE PATH", "set permissions (octal)", cmd_chmod, "R", 0, 2, 2 },
	{ "chown", "[-R] OWNER PATH", "set the owner (the superuser only)", cmd_chown, "R", 0, 2, 2 },
	{ "load", "[-h] [--verbose] [--local] [--metadata] PATH", "bring a file, or every file "
	  "below a directory, into the cache (status 1 if it does not all fit; --local: as "
	  "Alluxio's, this node's cache, the only one); --metadata: only ask a remote "
	  "under-storage again what is below PATH", cmd_load, "h", L_VERBOSE | L_METADATA,
	  1, 1 },
	{ "free", "[-h] PATH", "drop a file, or every file below a directory, from the cache",
	  cmd_free, "h", 0, 1, 1 },
	{ "persist", "[--verbose] PATH", "upload files not yet in the under-storage "
	  "(NOT_PERSISTED, TO_BE_PERSISTED) to it", cmd_persist, "", L_VERBOSE, 1, 1 },
	{ "pin", "PATH", "keep a file's (or every file's below a directory) cached blocks: never "
	  "evicted", cmd_pin, "", 0, 1, 1 },
	{ "unpin", "PATH", "let a file's cached blocks be evicted again", cmd_unpin, "", 0, 1, 1 },
	{ "setTtl", "[--action delete|free] PATH MS", "MS milliseconds from now, delete the file "
	  "(default) or free its cached blocks", cmd_set_ttl, "", L_ACTION, 2, 2 },
	{ "unsetTtl", "PATH", "remove a file's TTL", cmd_unset_ttl, "", 0, 1, 1 },
	{ "mount", "[--json] [--option KEY=VALUE]... [/BUCKET s3://REMOTE[/PREFIX]]",
	  "serve a bucket from a remote S3 store (the superuser); no arguments: the mount table",
	  cmd_mount, "", L_JSON | L_OPTION, 0, 2 },
	{ "unmount", "/BUCKET", "stop serving a mounted bucket (the remote keeps its data)",
	  cmd_unmount, "", 0, 1, 1 },
};

static const struct cmd user_cmds[] = {
	{ "add", "NAME [--display-name TEXT]", "a new user; prints its key pair, once", cmd_user_add,
	  "", L_DISPLAY, 1, 1 },
	{ "list", "[--json]", "users, their access keys and whether they are active", cmd_user_list,
	  "", L_JSON, 0, 0 },
	{ "disable", "NAME", "the user's keys sign nothing (403 InvalidAccessKeyId)",
	  cmd_user_disable, "", 0, 1, 1 },
	{ "enable", "NAME", "the user's keys work again", cmd_user_enable, "", 0, 1, 1 },
	{ "rotate-key", "NAME", "a new key pair (printed once); the old keys stop working",
	  cmd_user_rotate, "", 0, 1, 1 },
	{ "rm", "[--force] NAME", "remove a user; refused while it owns buckets, unless --force "
	  "gives them to the daemon's user", cmd_user_rm, "", L_FORCE, 1, 1 },
};

static const struct cmd report_cmd = {
	"report", "[--json]", "cache capacity and use, hit ratio, objects, uploads, version, uptime",
	cmd_report, "", L_JSON, 0, 0,
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- usage ---- */

static void list_cmds(FILE *f, const char *prefix, const struct cmd *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char left[80];
		snprintf(left, sizeof(left), "%s%s %s", prefix, v[i].name, v[i].args);
		fprintf(f, "  %-36s %s\n", left, v[i].help);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: atrium [OPTIONS] COMMAND [ARGS]\n\n"
		"Talks to atriumd's admin API and S3 door.\n"
		"  --endpoint URL      the daemon (default $ATRIUM_ENDPOINT, the profile's endpoint_url,\n"
		"                      http://127.0.0.1:39999)\n"
		"  --profile NAME      keys from [NAME] of ~/.atrium/credentials, endpoint and region\n"
		"                      from ~/.atrium/config (default $ATRIUM_PROFILE or \"default\")\n"
		"  --access-key KEY    sign requests (default: the profile's, else $AWS_ACCESS_KEY_ID;\n"
		"                      none: unsigned, for simple mode)\n"
		"  --secret-key KEY    (default: the profile's, else $AWS_SECRET_ACCESS_KEY)\n"
		"  --region REGION     SigV4 region (default $AWS_DEFAULT_REGION, the profile's,\n"
		"                      us-east-1)\n"
		"  --cacert FILE       trust the CAs in FILE for https:// (default $AWS_CA_BUNDLE,\n"
		"                      $CURL_CA_BUNDLE, $SSL_CERT_FILE, the profile's ca_bundle)\n"
		"  -k, --insecure      do not check the daemon's certificate\n"
		"  --version           print the version\n\n"
		"Commands:\n");
	list_cmds(f, "fs ", fs_cmds, N(fs_cmds));
	list_cmds(f, "user ", user_cmds, N(user_cmds));
	list_cmds(f, "", &report_cmd, 1);
	fprintf(f, "\nPaths: / is the root, /BUCKET a bucket, /BUCKET/a/b an object or directory.\n"
		   "Long commands show a progress line when standard error is a terminal.\n"
		   "Exit status: 0 done, 1 failed, 2 bad usage.\n");
}

static void group_usage(FILE *f, const char *group, const struct cmd *v, size_t n)
{
	fprintf(f, "usage: atrium %s COMMAND [ARGS]\n\n", group);
	list_cmds(f, "", v, n);
}

/* ---- one command ---- */

static int bad_usage(const char *name, const char *args, const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s: %s%s%s%s\nusage: atrium %s %s\n", prog_cmd, name, what,
		arg ? " '" : "", arg ? arg : "", arg ? "'" : "", name, args);
	return 2;
}

/* Parses a command's options with getopt_long and runs it. */
static int run(struct client *c, const char *name, const struct cmd *k, int argc, char **argv)
{
	struct option lo[N_LONG + 2];
	struct opts o = { 0 };
	char shorts[32];
	size_t n = 0;
	for (size_t i = 0; i < N_LONG; i++)
		if ((long_opts[i].bit & k->longs) ||
		    (long_opts[i].shortopt && strchr(k->shorts, long_opts[i].shortopt)))
			lo[n++] = long_opts[i].o;
	lo[n++] = (struct option){ "help", no_argument, NULL, O_HELP };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };
	/* ':' first: a missing argument is told apart from an unknown option. */
	snprintf(shorts, sizeof(shorts), ":%s", k->shorts);
	optind = 0; /* glibc: start over, for this argv */
	opterr = 0;
	for (;;) {
		int ch = getopt_long(argc, argv, shorts, lo, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'R': o.R = 1; break;
		case 'h': o.h = 1; break;
		case 's': o.s = 1; break;
		case 'c':
			if (fmt_parse_size(optarg, &o.bytes) || !o.bytes)
				return bad_usage(name, k->args, "-c wants a byte count like 512, 4KB, 1MB, not",
						 optarg);
			break;
		case O_JSON: o.json = 1; break;
		case O_VERBOSE: o.verbose = 1; break;
		case O_FORCE: o.force = 1; break;
		case O_DISPLAY: o.display = optarg; break;
		case O_ACTION: o.action = optarg; break;
		case O_METADATA: o.metadata = 1; break;
		case O_LOCAL: break;
		case 'f': o.f = 1; break;
		case O_OPTION:
			if (o.noptions == MOUNT_OPTIONS_MAX)
				return bad_usage(name, k->args, "too many --option", NULL);
			o.options[o.noptions++] = optarg;
			break;
		case O_HELP:
			printf("usage: atrium %s %s\n", name, k->args);
			return 0;
		case ':':
			return bad_usage(name, k->args, "option needs a value:", argv[optind - 1]);
		default:
			if (optopt && optopt < 256) {
				char flag[3] = { '-', (char)optopt, '\0' };
				return bad_usage(name, k->args, "unknown option", flag);
			}
			return bad_usage(name, k->args, "unknown option", argv[optind - 1]);
		}
	}
	int npos = argc - optind;
	if (npos < k->min || (k->max >= 0 && npos > k->max))
		return bad_usage(name, k->args, npos < k->min ? "expected more arguments"
							       : "expected fewer arguments", NULL);
	return k->run(c, npos, argv + optind, &o);
}

/* A group of commands ("fs", "user"): argv[0] names the command. */
static int group_main(struct client *c, const char *group, const struct cmd *v, size_t n,
		      int argc, char **argv)
{
	if (argc < 1) {
		group_usage(stderr, group, v, n);
		return 2;
	}
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h") || !strcmp(argv[0], "help")) {
		group_usage(stdout, group, v, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].name, argv[0]))
			continue;
		char name[48];
		snprintf(name, sizeof(name), "%s %s", group, v[i].name);
		return run(c, name, &v[i], argc, argv);
	}
	fprintf(stderr, "%s: unknown command '%s %s'\n\n", prog_cmd, group, argv[0]);
	group_usage(stderr, group, v, n);
	return 2;
}

/* ---- global options ---- */

static const char *first(const char *a, const char *b)
{
	return a && *a ? a : b;
}

int main(int argc, char **argv)
{
	enum { G_ENDPOINT = 300, G_AK, G_SK, G_REGION, G_PROFILE, G_CACERT, G_VERSION };
	static const struct option global[] = {
		{ "endpoint", required_argument, NULL, G_ENDPOINT },
		{ "access-key", required_argument, NULL, G_AK },
		{ "secret-key", required_argument, NULL, G_SK },
		{ "region", required_argument, NULL, G_REGION },
		{ "profile", required_argument, NULL, G_PROFILE },
		{ "cacert", required_argument, NULL, G_CACERT },
		{ "insecure", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, G_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct client c = { .page = 1000 };
	struct conf conf;
	const char *endpoint = NULL, *ak = NULL, *sk = NULL, *region = NULL, *profile = NULL;
	const char *cacert = NULL;
	const char *page = getenv("ATRIUM_LIST_PAGE");
	if (page) {
		char *end;
		long v = strtol(page, &end, 10);
		if (!*end && v > 0 && v <= 10000)
			c.page = (int)v; /* entries per list request: tests use small pages */
	}
	opterr = 0;
	/* '+': options end at the command; its own come after it. */
	for (int ch; (ch = getopt_long(argc, argv, "+:hk", global, NULL)) != -1;) {
		switch (ch) {
		case G_ENDPOINT: endpoint = optarg; break;
		case G_AK: ak = optarg; break;
		case G_SK: sk = optarg; break;
		case G_REGION: region = optarg; break;
		case G_PROFILE: profile = optarg; break;
		case G_CACERT: cacert = optarg; break;
		case 'k': c.insecure = 1; break;
		case 'h':
			usage(stdout);
			return 0;
		case G_VERSION:
			printf("atrium %s\n", ATRIUM_VERSION);
			return 0;
		case ':':
			fprintf(stderr, "%s: %s needs a value\n\n", prog_cmd, argv[optind - 1]);
			usage(stderr);
			return 2;
		default:
			fprintf(stderr, "%s: unknown option '%s'\n\n", prog_cmd, argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[optind];
	if (!strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "fs") && strcmp(cmd, "user") && strcmp(cmd, "report")) {
		fprintf(stderr, "%s: unknown command '%s'\n\n", prog_cmd, cmd);
		usage(stderr);
		return 2;
	}
	if (conf_load(&conf, profile, profile != NULL))
		return 1;
	if (ak || sk) {
		/* A flag for one half: the other from the environment, as before. */
		c.access_key = first(ak, getenv("AWS_ACCESS_KEY_ID"));
		c.secret = first(sk, getenv("AWS_SECRET_ACCESS_KEY"));
	} else if (!profile && getenv("AWS_ACCESS_KEY_ID") && *getenv("AWS_ACCESS_KEY_ID")) {
		c.access_key = getenv("AWS_ACCESS_KEY_ID");
		c.secret = getenv("AWS_SECRET_ACCESS_KEY");
	} else {
		c.access_key = conf.access_key;
		c.secret = conf.secret;
	}
	c.region = first(region, first(getenv("AWS_DEFAULT_REGION"),
				       first(getenv("AWS_REGION"), first(conf.region, "us-east-1"))));
	c.cacert = first(cacert, first(getenv("AWS_CA_BUNDLE"), first(getenv("CURL_CA_BUNDLE"),
			 first(getenv("SSL_CERT_FILE"), conf.ca_bundle))));
	c.capath = first(getenv("SSL_CERT_DIR"), NULL);
	endpoint = first(endpoint, first(getenv("ATRIUM_ENDPOINT"),
					 first(conf.endpoint, "http://127.0.0.1:39999")));
	int rc = 2;
	if (http_set_endpoint(&c, endpoint)) {
		fprintf(stderr, "%s: bad endpoint '%s': want http(s)://HOST:PORT\n", prog_cmd, endpoint);
		goto out;
	}
	rc = 1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || !(c.h = curl_easy_init())) {
		fprintf(stderr, "%s: cannot initialise libcurl\n", prog_cmd);
		goto out;
	}
	int sub = argc - optind - 1;
	char **subv = argv + optind + 1;
	if (!strcmp(cmd, "fs"))
		rc = group_main(&c, "fs", fs_cmds, N(fs_cmds), sub, subv);
	else if (!strcmp(cmd, "user"))
		rc = group_main(&c, "user", user_cmds, N(user_cmds), sub, subv);
	else
		rc = run(&c, "report", &report_cmd, argc - optind, argv + optind);
	curl_easy_cleanup(c.h);
	curl_global_cleanup();
out:
	conf_release(&conf);
	return rc;
}
