/*
 * policy_pat — the text layer of the bucket-policy engine: strings from a
 * policy compiled into escaped patterns, policy variables (${aws:username},
 * ${*}, ${?}, ${$}, ${key, 'default'}) and the wildcard matcher. See
 * policy_impl_int.h for the pattern form.
 */
#include <stdlib.h>
#include <string.h>

#include "src/policy_impl_int.h"
#include "common/banned.h"

/* A growing output string for compilation and expansion. */
struct out {
	char *p;
	size_t len, cap, max;
	int failed;
};

static void out_add(struct out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (n > o->max - o->len) {
		o->failed = 1;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 64;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *np = realloc(o->p, cap);
		if (!np) {
			o->failed = 1;
			return;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

/* Appends a literal byte, escaped if the pattern would read it as syntax:
 * '\' always, '*' and '?' unless they are wildcards. */
static void out_escape(struct out *o, char c, int wild)
{
	if (c == '\\' || (!wild && (c == '*' || c == '?')))
		out_add(o, "\\", 1);
	out_add(o, &c, 1);
}

void pat_release(struct pat *p)
{
	for (size_t i = 0; i < p->nvars; i++) {
		free(p->vars[i].name);
		free(p->vars[i].dflt);
	}
	free(p->vars);
	free(p->s);
	memset(p, 0, sizeof(*p));
}

/* "${name}" or "${name, 'default'}" at s (n bytes from "${"): its length,
 * or 0 if it is not a well-formed variable (then the text is literal). */
static size_t var_span(const char *s, size_t n, size_t *nlen, const char **dflt, size_t *dlen)
{
	size_t i = 2;
	while (i < n && s[i] != '}' && s[i] != ',')
		i++;
	*nlen = i - 2;
	*dflt = NULL;
	if (i >= n || !*nlen)
		return 0;
	if (s[i] == '}')
		return i + 1;
	i++;                                   /* ", 'default'}" */
	while (i < n && s[i] == ' ')
		i++;
	if (i >= n || s[i] != '\'')
		return 0;
	const char *q = memchr(s + i + 1, '\'', n - i - 1);
	if (!q || (size_t)(q - s) + 1 >= n || q[1] != '}')
		return 0;
	*dflt = s + i + 1;
	*dlen = (size_t)(q - *dflt);
	return (size_t)(q - s) + 2;
}

static int add_var(struct pat *p, const char *name, size_t nlen, const char *dflt, size_t dlen)
{
	struct pvar *v = realloc(p->vars, (p->nvars + 1) * sizeof(*v));
	if (!v)
		return -1;
	p->vars = v;
	v += p->nvars;
	v->name = strndup(name, nlen);
	v->dflt = dflt ? strndup(dflt, dlen) : NULL;
	p->nvars++;
	return !v->name || (dflt && !v->dflt) ? -1 : 0;
}

int pat_compile(struct pat *p, const char *src, size_t len, int wild, int vars)
{
	struct out o = { NULL, 0, 0, (size_t)-1, 0 };
	memset(p, 0, sizeof(*p));
	out_add(&o, "", 0);
	for (size_t i = 0; i < len && !o.failed;) {
		const char *dflt;
		size_t nlen, dlen = 0, span = 0;
		if (vars && src[i] == '$' && i + 1 < len && src[i + 1] == '{')
			span = var_span(src + i, len - i, &nlen, &dflt, &dlen);
		if (!span) {
			out_escape(&o, src[i], wild);
			i++;
			continue;
		}
		const char *name = src + i + 2;
		if (nlen == 1 && !dflt && (*name == '*' || *name == '?' || *name == '$'))
			out_escape(&o, *name, 0);     /* ${*}, ${?}, ${$}: the character */
		else if (add_var(p, name, nlen, dflt, dlen))
			o.failed = 1;
		else
			out_add(&o, "\\v", 2);
		i += span;
	}
	p->s = o.p;
	p->len = o.len;
	if (o.failed) {
		pat_release(p);
		return -1;
	}
	return 0;
}

int pat_has_wild(const struct pat *p)
{
	for (size_t i = 0; i < p->len; i++) {
		if (p->s[i] == '\\')
			i++;
		else if (p->s[i] == '*' || p->s[i] == '?')
			return 1;
	}
	return p->nvars > 0;
}

static int fold(int c, int icase)
{
	return icase && c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Bytes of the UTF-8 character at s (1 for a stray byte). */
static size_t char_len(const char *s, size_t n)
{
	size_t k = 1;
	if ((unsigned char)s[0] >= 0xc0)
		while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80 && k < 4)
			k++;
	return k;
}

/*
 * The classic one-star backtracking matcher: on a mismatch it retries from
 * the last '*' one character further. Only the last star matters (the
 * text an earlier star took can only be made longer by it, which the last
 * star can absorb), so time is O(plen * n) and space constant.
 */
int pat_match(const char *p, size_t plen, const char *s, size_t n, int icase)
{
	size_t pi = 0, si = 0, star = (size_t)-1, resume = 0;
	while (si < n) {
		if (pi < plen && p[pi] == '*') {
			star = ++pi;
			resume = si;
			continue;
		}
		if (pi < plen && p[pi] == '?') {
			pi++;
			si += char_len(s + si, n - si);
			continue;
		}
		if (pi < plen) {
			size_t w = p[pi] == '\\' && pi + 1 < plen ? 2 : 1;
			if (fold((unsigned char)p[pi + w - 1], icase) == fold((unsigned char)s[si], icase)) {
				pi += w;
				si++;
				continue;
			}
		}
		if (star == (size_t)-1)
			return 0;
		pi = star;
		resume += char_len(s + resume, n - resume);
		si = resume;
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

/* Once a '*' is reached, the rest of s can always be its share and the
 * rest of the pattern matched by what follows: only the text before the
 * first star must agree with s. */
int pat_match_prefix(const char *p, size_t plen, const char *s, size_t n)
{
	size_t pi = 0, si = 0;
	while (si < n) {
		if (pi >= plen)
			return 0;
		if (p[pi] == '*')
			return 1;
		if (p[pi] == '?') {
			pi++;
			si += char_len(s + si, n - si);
			continue;
		}
		size_t w = p[pi] == '\\' && pi + 1 < plen ? 2 : 1;
		if (p[pi + w - 1] != s[si])
			return 0;
		pi += w;
		si++;
	}
	return 1;
}

/* The end of the next component of an escaped pattern (esc) or a plain
 * string: its next unescaped ':', or the end for the sixth. */
static size_t arn_part(const char *s, size_t n, int last, int esc)
{
	size_t i = 0;
	while (i < n && (last || s[i] != ':'))
		i += esc && s[i] == '\\' && i + 1 < n ? 2 : 1;
	return i;
}

int pat_match_arn(const char *p, size_t plen, const char *s, size_t n)
{
	for (int k = 0; k < 6; k++) {
		size_t pe = arn_part(p, plen, k == 5, 1), se = arn_part(s, n, k == 5, 0);
		if (k < 5 && (pe == plen || se == n))
			return 0;  /* fewer than six components */
		if (!pat_match(p, pe, s, se, 0))
			return 0;
		if (k < 5) {
			p += pe + 1;
			plen -= pe + 1;
			s += se + 1;
			n -= se + 1;
		}
	}
	return 1;
}

void pat_buf_release(struct pat_buf *b)
{
	if (b->ptr != b->small)
		free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

static int buf_put(struct pat_buf *b, const char *s, size_t n)
{
	if (!b->ptr) {
		b->ptr = b->small;
		b->cap = sizeof(b->small);
		b->len = 0;
	}
	if (n > PAT_EXPAND_MAX - b->len)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2 : b->len + n + 1;
		char *np = b->ptr == b->small ? malloc(cap) : realloc(b->ptr, cap);
		if (!np)
			return -1;
		if (b->ptr == b->small)
			memcpy(np, b->small, b->len);
		b->ptr = np;
		b->cap = cap;
	}
	memcpy(b->ptr + b->len, s, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return 0;
}

/* A variable's value, escaped: it is text to match, never a pattern. */
static int buf_put_value(struct pat_buf *b, const char *v)
{
	for (; *v; v++) {
		if ((*v == '\\' || *v == '*' || *v == '?' || *v == ':') && buf_put(b, "\\", 1))
			return -1;
		if (buf_put(b, v, 1))
			return -1;
	}
	return 0;
}

enum tv pat_expand(const struct pat *p, pat_lookup_fn fn, void *arg, struct pat_buf *b,
		   const char **out, size_t *outlen)
{
	if (!p->nvars) {
		*out = p->s;
		*outlen = p->len;
		return TV_TRUE;
	}
	if (b->ptr)
		b->len = 0;
	size_t k = 0;
	for (size_t i = 0; i < p->len; i++) {
		size_t start = i;
		while (i < p->len && !(p->s[i] == '\\' && i + 1 < p->len && p->s[i + 1] == 'v'))
			i += p->s[i] == '\\' && i + 1 < p->len ? 2 : 1;
		if (buf_put(b, p->s + start, i - start))
			return TV_UNKNOWN;
		if (i >= p->len)
			break;
		i++;                                /* at the 'v' of "\v" */
		const char *v = k < p->nvars ? fn(arg, p->vars[k].name) : NULL;
		if (!v && k < p->nvars)
			v = p->vars[k].dflt;
		k++;
		if (!v || buf_put_value(b, v))
			return TV_UNKNOWN;
	}
	if (buf_put(b, "", 0))
		return TV_UNKNOWN;
	*out = b->ptr;
	*outlen = b->len;
	return TV_TRUE;
}
