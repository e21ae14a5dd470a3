/*
 * httpreq — an HTTP/1.1 request head, parsed strictly.  See httpreq.h.
 */
#include <string.h>
#include <strings.h>

#include "httpreq.h"

/* The end of the header block (after its empty line), or NULL. */
static const char *
head_end(const char *buf, size_t n)
{
	const char *p = buf, *end = buf + n;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		const char *q = p + 1;

		if (q < end && *q == '\n')
			return q + 1;
		if (q + 1 < end && q[0] == '\r' && q[1] == '\n')
			return q + 2;
		p = q;
	}
	return NULL;
}

/*
 * One line from *p (there is a newline before end): its start, its
 * length without the line end in *ret_n; *p moves after it.
 */
static const char *
line(const char **p, const char *end, size_t *ret_n)
{
	const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
	size_t n = (size_t)(nl - s);

	*p = nl + 1;
	if (n && s[n - 1] == '\r')
		n--;
	*ret_n = n;
	return s;
}

/* RFC 9110 5.6.2: tchar. */
static bool
tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Visible ASCII and no control bytes: what a target may hold. */
static bool
vchar(char c)
{
	return c > 0x20 && c < 0x7f;
}

static int
request_line(const char *s, size_t n, struct httpreq *ret)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *t, *q;
	size_t ml, tl;

	if (!sp1 || sp1 == s)
		return 400;
	ml = (size_t)(sp1 - s);
	sp2 = memchr(sp1 + 1, ' ', n - ml - 1);
	if (!sp2)
		return 400;
	for (t = s; t < sp1; t++)
		if (!tchar(*t))
			return 400;
	t = sp1 + 1;
	tl = (size_t)(sp2 - t);
	for (q = t; q < sp2; q++)
		if (!vchar(*q))
			return 400;
	/* RFC 9112 3.2.2: the absolute-form is accepted too; its path is
	 * what counts ("/" when it has none). */
	if (tl > 7 && strncasecmp(t, "http://", 7) == 0) {
		q = memchr(t + 7, '/', tl - 7);
		t = q ? q : "/";
		tl = q ? (size_t)(sp2 - q) : 1;
	}
	if (tl == 0 || *t != '/')
		return 400;
	if ((size_t)(s + n - sp2 - 1) != 8 || memcmp(sp2 + 1, "HTTP/", 5) != 0)
		return 400;
	if (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0)
		return 505;
	if (tl >= HTTPREQ_TARGET_MAX)
		return 414;
	if (ml == 3 && memcmp(s, "GET", 3) == 0)
		ret->head = false;
	else if (ml == 4 && memcmp(s, "HEAD", 4) == 0)
		ret->head = true;
	else
		return 405;
	q = memchr(t, '?', tl);
	tl = q ? (size_t)(q - t) : tl;
	memcpy(ret->path, t, tl);
	ret->path[tl] = 0;
	return 200;
}

/* One field line; *host is set by a Host field. */
static int
field(const char *s, size_t n, bool *host)
{
	const char *colon = memchr(s, ':', n), *v, *e;
	size_t nl, i;

	if (n == 0 || s[0] == ' ' || s[0] == '\t')
		return 400; /* obs-fold, or whitespace before a name */
	if (!colon || colon == s)
		return 400;
	nl = (size_t)(colon - s);
	for (i = 0; i < nl; i++)
		if (!tchar(s[i]))
			return 400;
	for (v = colon + 1; v < s + n; v++)
		if (((unsigned char)*v < 0x20 && *v != '\t') || *v == 0x7f)
			return 400;
	v = colon + 1;
	e = s + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (nl == 4 && strncasecmp(s, "host", 4) == 0) {
		if (*host)
			return 400; /* two Hosts */
		*host = true;
	} else if ((nl == 17 && strncasecmp(s, "transfer-encoding", 17) == 0) ||
	    (nl == 14 && strncasecmp(s, "content-length", 14) == 0 &&
	        !(e - v == 1 && *v == '0')))
		return 400; /* a body: not for a probe */
	return 0;
}

int
httpreq_parse(const char *buf, size_t n, struct httpreq *ret)
{
	const char *end = head_end(buf, n > HTTPREQ_MAX ? HTTPREQ_MAX : n);
	const char *p = buf, *l;
	bool host = false;
	size_t k;
	int r;

	if (!end)
		return n >= HTTPREQ_MAX ? 431 : 0;
	memset(ret, 0, sizeof(*ret));
	ret->len = (size_t)(end - buf);
	/* RFC 9112 2.2: empty lines before the request line are ignored
	 * (a block of nothing else is no request). */
	do
		l = line(&p, end, &k);
	while (k == 0 && p < end);
	if (k == 0)
		return 400;
	if ((r = request_line(l, k, ret)) != 200)
		return r;
	while (p < end) {
		l = line(&p, end, &k);
		if (k == 0)
			break;
		if ((r = field(l, k, &host)))
			return r;
	}
	return host ? 200 : 400;
}
