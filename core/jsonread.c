/*
 * jsonread — a reader of JSON text in place.  See jsonread.h.
 *
 * skip_value() is the one recursive descent: it returns the end of the value
 * at p, or NULL when there is none.  Nesting is bounded (JSON_DEPTH) so
 * that hostile input cannot exhaust the stack.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"

#define JSON_DEPTH 32

static const char *
ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *
skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\' && ++p >= end)
			return NULL;
	}
	return NULL;
}

static const char *skip_value(const char *p, const char *end, int depth);

/* An object or an array: members (or elements) separated by commas. */
static const char *
skip_container(const char *p, const char *end, int depth, char close)
{
	p = ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	while (p < end) {
		if (close == '}') {
			if (*p != '"' || !(p = skip_string(p, end)))
				return NULL;
			p = ws(p, end);
			if (p >= end || *p != ':')
				return NULL;
			p = ws(p + 1, end);
		}
		if (!(p = skip_value(p, end, depth + 1)))
			return NULL;
		p = ws(p, end);
		if (p < end && *p == close)
			return p + 1;
		if (p >= end || *p != ',')
			return NULL;
		p = ws(p + 1, end);
	}
	return NULL;
}

static const char *
skip_literal(const char *p, const char *end)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(words[i]);
		if ((size_t)(end - p) >= n && memcmp(p, words[i], n) == 0)
			return p + n;
	}
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		const char *q = p + (*p == '-');

		while (q < end &&
		    ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' ||
		        *q == 'E' || *q == '+' || *q == '-'))
			q++;
		return q > p + (*p == '-') ? q : NULL;
	}
	return NULL;
}

static const char *
skip_value(const char *p, const char *end, int depth)
{
	if (p >= end || depth > JSON_DEPTH)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '{')
		return skip_container(p, end, depth, '}');
	if (*p == '[')
		return skip_container(p, end, depth, ']');
	return skip_literal(p, end);
}

struct json_span
json_value(const char *text, size_t n)
{
	struct json_span v = { NULL, NULL };
	const char *end = text + n, *p = ws(text, end), *q;

	if ((q = skip_value(p, end, 0))) {
		v.p = p;
		v.end = q;
	}
	return v;
}

struct json_span
json_get(struct json_span v, const char *key)
{
	struct json_span none = { NULL, NULL };
	size_t klen = strlen(key);
	const char *p;

	if (!v.p || *v.p != '{')
		return none;
	p = ws(v.p + 1, v.end);
	while (p < v.end && *p == '"') {
		const char *k = p + 1, *ke = skip_string(p, v.end), *ve;

		if (!ke)
			return none;
		p = ws(ke, v.end);
		if (p >= v.end || *p != ':')
			return none;
		p = ws(p + 1, v.end);
		if (!(ve = skip_value(p, v.end, 1)))
			return none;
		/* Keys are compared as written: ours need no escapes. */
		if ((size_t)(ke - 1 - k) == klen && memcmp(k, key, klen) == 0) {
			struct json_span r = { p, ve };

			return r;
		}
		p = ws(ve, v.end);
		if (p < v.end && *p == ',')
			p = ws(p + 1, v.end);
		else
			break;
	}
	return none;
}

bool
json_next(struct json_span arr, struct json_span *it)
{
	const char *p, *q;

	if (!arr.p || *arr.p != '[')
		return false;
	if (!it->p)
		p = ws(arr.p + 1, arr.end);
	else {
		p = ws(it->end, arr.end);
		if (p >= arr.end || *p != ',')
			return false;
		p = ws(p + 1, arr.end);
	}
	if (p >= arr.end || *p == ']' || !(q = skip_value(p, arr.end, 1)))
		return false;
	it->p = p;
	it->end = q;
	return true;
}

static int
hex4(const char *p, const char *end)
{
	int v = 0, i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* Code point cp as UTF-8 into out (up to 4 bytes); its length. */
static size_t
utf8(unsigned int cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (char)(0xe0 | (cp >> 12));
	out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";

bool
json_string(struct json_span v, char *buf, size_t cap)
{
	const char *p;
	size_t n = 0;

	if (!v.p || *v.p != '"' || cap == 0)
		return false;
	for (p = v.p + 1; p < v.end - 1; p++) {
		char tmp[4];
		size_t k = 1, i;

		tmp[0] = *p;
		if (*p == '\\') {
			const char *e = strchr(escapes, p[1]);
			int cp;

			if (p[1] == 'u' && (cp = hex4(p + 2, v.end)) >= 0) {
				/* Surrogates (never in ours) become U+FFFD. */
				k = utf8(cp >= 0xd800 && cp < 0xe000
				        ? 0xfffd
				        : (unsigned int)cp,
				    tmp);
				p += 5;
			} else if (p[1] && e && (e - escapes) % 2 == 0) {
				tmp[0] = e[1];
				p++;
			} else
				return false;
		}
		for (i = 0; i < k && n + 1 < cap; i++)
			buf[n++] = tmp[i];
	}
	buf[n] = 0;
	return true;
}

bool
json_int(struct json_span v, long long *ret)
{
	char num[24], *e;
	size_t n;

	if (!v.p)
		return false;
	n = (size_t)(v.end - v.p);
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, v.p, n);
	num[n] = 0;
	*ret = strtoll(num, &e, 10);
	return *e == 0 && e != num;
}

bool
json_is_true(struct json_span v)
{
	return v.p && v.end - v.p == 4 && memcmp(v.p, "true", 4) == 0;
}
