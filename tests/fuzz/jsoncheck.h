/*
 * jsoncheck — a strict JSON validator (RFC 8259) for the fuzz targets that
 * check what agent-init writes: every event and every control-socket reply
 * must be valid JSON in valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), whatever bytes went in.
 *
 * Header-only and static, for inclusion in one target; recursion is
 * bounded by JSONCHECK_DEPTH.
 */
#ifndef AGENT_INIT_JSONCHECK_H
#define AGENT_INIT_JSONCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define JSONCHECK_DEPTH 16

struct jcur {
	const unsigned char *s;
	size_t n, i;
};

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t
jc_utf8(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, k;
	unsigned int cp, min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc0 && c <= 0xdf) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void
jc_ws(struct jcur *c)
{
	while (c->i < c->n && strchr(" \t\r\n", c->s[c->i]) && c->s[c->i])
		c->i++;
}

static bool
jc_lit(struct jcur *c, const char *lit)
{
	size_t l = strlen(lit);

	if (c->n - c->i < l || memcmp(c->s + c->i, lit, l) != 0)
		return false;
	c->i += l;
	return true;
}

static bool
jc_hex(unsigned char h)
{
	return (h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
	    (h >= 'A' && h <= 'F');
}

static bool
jc_string(struct jcur *c)
{
	if (c->i >= c->n || c->s[c->i] != '"')
		return false;
	c->i++;
	while (c->i < c->n) {
		unsigned char ch = c->s[c->i];
		size_t l;

		if (ch == '"') {
			c->i++;
			return true;
		}
		if (ch < 0x20)
			return false;
		if (ch == '\\') {
			if (c->i + 1 >= c->n)
				return false;
			ch = c->s[c->i + 1];
			if (ch == 'u') {
				int k;

				if (c->n - c->i < 6)
					return false;
				for (k = 2; k < 6; k++)
					if (!jc_hex(c->s[c->i + (size_t)k]))
						return false;
				c->i += 6;
			} else if (strchr("\"\\/bfnrt", ch) && ch) {
				c->i += 2;
			} else
				return false;
			continue;
		}
		l = jc_utf8(c->s + c->i, c->n - c->i);
		if (l == 0)
			return false;
		c->i += l;
	}
	return false;
}

static bool
jc_number(struct jcur *c)
{
	size_t start;

	if (c->i < c->n && c->s[c->i] == '-')
		c->i++;
	if (c->i >= c->n)
		return false;
	if (c->s[c->i] == '0')
		c->i++;
	else if (c->s[c->i] >= '1' && c->s[c->i] <= '9')
		while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
	else
		return false;
	if (c->i < c->n && c->s[c->i] == '.') {
		start = ++c->i;
		while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
		if (c->i == start)
			return false;
	}
	if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
		c->i++;
		if (c->i < c->n && (c->s[c->i] == '+' || c->s[c->i] == '-'))
			c->i++;
		start = c->i;
		while (c->i < c->n && c->s[c->i] >= '0' && c->s[c->i] <= '9')
			c->i++;
		if (c->i == start)
			return false;
	}
	return true;
}

static bool jc_value(struct jcur *c, int depth);

static bool
jc_members(struct jcur *c, int depth, bool object)
{
	char close = object ? '}' : ']';

	c->i++;
	jc_ws(c);
	if (c->i < c->n && c->s[c->i] == (unsigned char)close) {
		c->i++;
		return true;
	}
	for (;;) {
		jc_ws(c);
		if (object) {
			if (!jc_string(c))
				return false;
			jc_ws(c);
			if (c->i >= c->n || c->s[c->i] != ':')
				return false;
			c->i++;
		}
		if (!jc_value(c, depth + 1))
			return false;
		jc_ws(c);
		if (c->i >= c->n)
			return false;
		if (c->s[c->i] == (unsigned char)close) {
			c->i++;
			return true;
		}
		if (c->s[c->i] != ',')
			return false;
		c->i++;
	}
}

static bool
jc_value(struct jcur *c, int depth)
{
	if (depth > JSONCHECK_DEPTH)
		return false;
	jc_ws(c);
	if (c->i >= c->n)
		return false;
	switch (c->s[c->i]) {
	case '{':
		return jc_members(c, depth, true);
	case '[':
		return jc_members(c, depth, false);
	case '"':
		return jc_string(c);
	case 't':
		return jc_lit(c, "true");
	case 'f':
		return jc_lit(c, "false");
	case 'n':
		return jc_lit(c, "null");
	default:
		return jc_number(c);
	}
}

/* Whether s[0..n) is exactly one JSON object (and nothing after it). */
static inline bool
json_object_valid(const char *s, size_t n)
{
	struct jcur c = { (const unsigned char *)s, n, 0 };

	jc_ws(&c);
	if (c.i >= c.n || c.s[c.i] != '{')
		return false;
	if (!jc_value(&c, 0))
		return false;
	jc_ws(&c);
	return c.i == c.n;
}

/* Whether s[0..n) is the inside of a JSON string (without the quotes):
 * wrapped in quotes it must be one string, so an unescaped quote inside
 * fails (the string would end early). */
static inline bool
json_string_body_valid(const char *s, size_t n)
{
	static char w[1 << 17];
	struct jcur c;

	if (n + 2 > sizeof(w))
		return false;
	w[0] = '"';
	memcpy(w + 1, s, n);
	w[n + 1] = '"';
	c.s = (const unsigned char *)w;
	c.n = n + 2;
	c.i = 0;
	return jc_string(&c) && c.i == c.n;
}

#endif
