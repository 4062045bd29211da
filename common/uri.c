#include "common/uri.h"

#include "common/hash.h"

#include <stdlib.h>
#include <string.h>
#include "common/banned.h"

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
}

int uri_encode(struct buf *out, const char *s, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			if (buf_addch(out, (char)c))
				return -1;
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			if (buf_add(out, esc, 3))
				return -1;
		}
	}
	return 0;
}

long uri_decode_inplace(char *s, size_t len, int plus_is_space)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			s[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			s[o++] = ' ';
		} else {
			s[o++] = c;
		}
	}
	s[o] = '\0';
	return (long)o;
}

int uri_query_parse(struct uri_query *q, const char *raw)
{
	memset(q, 0, sizeof(*q));
	if (!raw || !*raw)
		return 0;
	size_t len = strlen(raw);
	q->storage = malloc(len + 1);
	if (!q->storage)
		return -1;
	memcpy(q->storage, raw, len + 1);
	char *p = q->storage;
	while (p) {
		char *amp = strchr(p, '&');
		if (amp)
			*amp = '\0';
		if (*p) {
			if (q->n == URI_MAX_PARAMS)
				goto fail;
			struct uri_param *param = &q->p[q->n++];
			char *eq = strchr(p, '=');
			param->has_value = eq != NULL;
			if (eq) {
				*eq = '\0';
				param->value = eq + 1;
			} else {
				param->value = p + strlen(p); /* "" */
			}
			param->name = p;
			if (uri_decode_inplace(param->name, strlen(param->name), 1) < 0)
				goto fail;
			if (uri_decode_inplace(param->value, strlen(param->value), 1) < 0)
				goto fail;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
fail:
	uri_query_release(q);
	return -1;
}

void uri_query_release(struct uri_query *q)
{
	free(q->storage);
	q->storage = NULL;
	q->n = 0;
}

const struct uri_param *uri_query_get(const struct uri_query *q, const char *name)
{
	for (int i = 0; i < q->n; i++)
		if (!strcmp(q->p[i].name, name))
			return &q->p[i];
	return NULL;
}

/* Well-formed UTF-8; with xml, also only characters XML 1.0 allows:
 * #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
 * (the surrogates are no UTF-8 at all). */
static int utf8_scan(const char *str, size_t len, int xml)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if (xml && c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return 0;
			i++;
			continue;
		}
		size_t n;
		unsigned cp;
		if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
		else if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
		else if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
		else return 0;
		if (i + n >= len)
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		if (xml && (cp == 0xFFFE || cp == 0xFFFF))
			return 0;
		i += n + 1;
	}
	return 1;
}

int utf8_valid(const char *s, size_t len)
{
	return utf8_scan(s, len, 0);
}

int utf8_xml_valid(const char *s, size_t len)
{
	return utf8_scan(s, len, 1);
}
