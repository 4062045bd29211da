/*
 * policy_impl_int.h — what the bucket-policy engine's own files share
 * (policy.c: documents and statements; policy_cond.c: the Condition
 * element; policy_pat.c: patterns and policy variables). Nothing else
 * includes it: the engine's interface is src/policy_int.h.
 *
 * Truth values. Evaluation is three-valued (Kleene): a request value may be
 * missing from what a policy variable needs, an expansion may not fit, a
 * key may have more values than we look at. Such a test is UNKNOWN, not
 * false; AND is false if any side is false, OR true if any side is true,
 * NOT keeps UNKNOWN. policy_eval turns an UNKNOWN statement into "does not
 * apply" for an Allow and "applies" for a Deny: it fails closed.
 */
#ifndef SRC_POLICY_IMPL_INT_H
#define SRC_POLICY_IMPL_INT_H

#include <jansson.h>
#include <stddef.h>

#include "src/policy_int.h"

enum tv { TV_FALSE = 0, TV_TRUE = 1, TV_UNKNOWN = 2 };

static inline enum tv tv_not(enum tv a)
{
	return a == TV_UNKNOWN ? a : a == TV_TRUE ? TV_FALSE : TV_TRUE;
}

static inline enum tv tv_and(enum tv a, enum tv b)
{
	return a == TV_FALSE || b == TV_FALSE ? TV_FALSE
	       : a == TV_UNKNOWN || b == TV_UNKNOWN ? TV_UNKNOWN : TV_TRUE;
}

static inline enum tv tv_or(enum tv a, enum tv b)
{
	return a == TV_TRUE || b == TV_TRUE ? TV_TRUE
	       : a == TV_UNKNOWN || b == TV_UNKNOWN ? TV_UNKNOWN : TV_FALSE;
}

/* Writes AWS's (or our) wording of a malformed policy into err; -1. */
int policy_err(char *err, size_t errsize, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- patterns (policy_pat.c) ----
 *
 * A string from a policy is compiled once into an escaped pattern: '*'
 * matches any run of bytes, '?' one UTF-8 character, '\' makes the next
 * byte literal, and "\v" stands for the next policy variable (vars[k] for
 * the k-th). Literal text has '\' escaped, and '*' and '?' too where they
 * are not wildcards (StringEquals & co.); a variable's value is escaped
 * (also ':', so a value never splits an ARN into more components). */
struct pvar {
	char *name;          /* "aws:username", as written */
	char *dflt;          /* ${name, 'default'}: the default, or NULL */
};

struct pat {
	char *s;             /* the escaped pattern, NUL-terminated */
	size_t len;
	struct pvar *vars;   /* NULL when nvars is 0 */
	size_t nvars;
};

/* Compiles src (len bytes, no NUL). wild: '*' and '?' are wildcards;
 * vars: "${...}" is a policy variable (2012-10-17 policies), else literal.
 * 0, or -1 when memory runs out (p is then empty; pat_release is safe). */
int pat_compile(struct pat *p, const char *src, size_t len, int wild, int vars);
void pat_release(struct pat *p);

/* Does pattern p (plen bytes) match all of s (n bytes)? ASCII letters
 * compare case-insensitively with icase. Linear space, O(plen * n) time. */
int pat_match(const char *p, size_t plen, const char *s, size_t n, int icase);
/* Does p match s followed by something (anything, maybe nothing)? */
int pat_match_prefix(const char *p, size_t plen, const char *s, size_t n);
/* Does p hold a wildcard (or a variable)? */
int pat_has_wild(const struct pat *p);
/* ArnLike/ArnEquals: p and s are each six ':'-separated components (the
 * sixth runs to the end), matched component by component. */
int pat_match_arn(const char *p, size_t plen, const char *s, size_t n);

/* Value of a policy variable for the request, or NULL if it has none. */
typedef const char *(*pat_lookup_fn)(void *arg, const char *name);

#define PAT_EXPAND_MAX (64 * 1024)

/* Room for expansions: small ones stay in the struct. */
struct pat_buf {
	char *ptr;
	size_t len, cap;
	char small[512];
};
#define PAT_BUF_INIT { NULL, 0, 0, { 0 } }
void pat_buf_release(struct pat_buf *b);

/* The pattern with its variables replaced by the request's values (or
 * their defaults): TV_TRUE with *out (p->s itself when p has no variable;
 * else inside b, valid until b's next use), *outlen; TV_UNKNOWN when a
 * variable has no value, or the result would pass PAT_EXPAND_MAX or
 * memory runs out. */
enum tv pat_expand(const struct pat *p, pat_lookup_fn fn, void *arg, struct pat_buf *b,
		   const char **out, size_t *outlen);

/* ---- the Condition element (policy_cond.c) ---- */

struct cond_block;

/* What evaluation asks of the request. */
struct eval_ctx {
	const struct policy_request *r;
	struct pat_buf buf;  /* expansions of one pattern at a time */
};

/* Parses a statement's Condition object. vars: the policy's version
 * allows variables. 0, or -1 with err filled. */
int cond_parse(json_t *cond, int vars, struct cond_block **out, char *err, size_t errsize);
void cond_free(struct cond_block *b);
/* Every condition of the block holds for the request (AND of all). */
enum tv cond_eval(const struct cond_block *b, struct eval_ctx *x);
/* Does the block pin a statement to fixed values of one of the keys that
 * AWS's Block Public Access accepts as making it non-public? */
int cond_pins(const struct cond_block *b);
/* A policy variable's value for the request (a pat_lookup_fn; arg is the
 * struct eval_ctx). */
const char *cond_var_value(void *arg, const char *name);

#endif
