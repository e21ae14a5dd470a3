/*
 * Fuzz target: the HTTP/1.x pieces of netcheck/httpmsg.c.  The first byte
 * picks what the rest is:
 *
 *   0  a reply header block as a proxy sends it to CONNECT (and as http
 *      targets answer), read the way netio.c reads it: parse, and on a
 *      1xx parse again after it.  A block that parses must also parse as
 *      its own header_len prefix, and its shorter prefixes must ask for
 *      more (-EAGAIN), never fail: netio.c reads a reply in pieces.
 *   1  an HTTP-date (the `clock` check); a date that parses must survive
 *      a round trip through its IMF-fixdate form.
 *   2  a CONNECT request for a host and a credential token taken from the
 *      input: nothing may split the request (a CR or LF of our own only).
 *   3  base64_encode(), against a decoder written here.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../netcheck/httpmsg.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
reply(const char *buf, size_t n)
{
	struct http_reply r, again;
	size_t off = 0, cuts[3], k;
	int e, rounds;

	for (rounds = 0; rounds < 8 && off < n; rounds++) {
		e = http_reply_parse(buf + off, n - off, &r);
		if (e != 0) {
			assert(e == -EAGAIN || e == -EINVAL);
			return;
		}
		assert(r.complete && r.status >= 100 && r.status <= 599);
		assert(r.header_len > 0 && r.header_len <= n - off);
		assert(r.header_len <= HTTP_HEADER_MAX);
		assert(memchr(r.reason, 0, sizeof(r.reason)));
		assert(http_reply_parse(buf + off, r.header_len, &again) == 0);
		assert(again.status == r.status &&
		    again.header_len == r.header_len);
		cuts[0] = r.header_len - 1;
		cuts[1] = r.header_len / 2;
		cuts[2] = 3;
		for (k = 0; k < 3; k++)
			if (cuts[k] < r.header_len)
				assert(http_reply_parse(buf + off, cuts[k],
				           &again) == -EAGAIN);
		if (r.status >= 200)
			return;
		off += r.header_len;
	}
}

static void
date(const char *s)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
		"Fri", "Sat" };
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	char imf[64];
	int64_t t, back;
	struct tm tm;
	time_t tt;

	if (http_date_parse(s, &t) < 0)
		return;
	tt = (time_t)t;
	assert(gmtime_r(&tt, &tm));
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
		return; /* not four digits: no IMF-fixdate for it */
	snprintf(imf, sizeof(imf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wd[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
	assert(http_date_parse(imf, &back) == 0);
	assert(back == t);
}

static void
connect_request(const char *in, size_t n)
{
	char host[300], tok[300], req[1024];
	const char *sep = memchr(in, '\n', n);
	size_t hl = sep ? (size_t)(sep - in) : n, tl, len, i, crlf = 0;
	uint16_t port = 1;

	tl = sep ? n - hl - 1 : 0;
	if (hl >= sizeof(host))
		hl = sizeof(host) - 1;
	memcpy(host, in, hl);
	host[hl] = 0;
	if (tl >= sizeof(tok))
		tl = sizeof(tok) - 1;
	if (sep)
		memcpy(tok, sep + 1, tl);
	tok[tl] = 0;
	if (n >= 2)
		port = (uint16_t)((unsigned char)in[0] << 8 |
		    (unsigned char)in[1]);
	len = http_connect_request(req, sizeof(req), host, port,
	    sep ? tok : NULL);
	if (len == 0)
		return;
	assert(len == strlen(req) && port != 0);
	assert(strncmp(req, "CONNECT ", 8) == 0);
	assert(len >= 4 && memcmp(req + len - 4, "\r\n\r\n", 4) == 0);
	for (i = 0; i < len; i++) {
		if (req[i] == '\r') {
			assert(req[i + 1] == '\n');
			crlf++;
		} else if (req[i] == '\n')
			assert(i > 0 && req[i - 1] == '\r');
	}
	/* Request line, Host, maybe the credentials, the empty line. */
	assert(crlf == (sep ? 4u : 3u));
}

static int
b64val(char c)
{
	static const char a[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(a, c) : NULL;

	return p ? (int)(p - a) : -1;
}

static void
base64(const uint8_t *in, size_t n)
{
	static char out[BASE64_LEN(4096) + 1];
	static uint8_t back[4096];
	size_t len, i, o = 0;

	if (n > 4096)
		n = 4096;
	assert(base64_encode(in, n, out, BASE64_LEN(n)) == 0); /* no NUL room */
	len = base64_encode(in, n, out, sizeof(out));
	assert(len == BASE64_LEN(n) && out[len] == 0);
	for (i = 0; i < len; i += 4) {
		int v[4], k;

		for (k = 0; k < 4; k++)
			v[k] = out[i + (size_t)k] == '='
			    ? 0
			    : b64val(out[i + (size_t)k]);
		for (k = 0; k < 4; k++)
			assert(v[k] >= 0);
		back[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (out[i + 2] != '=')
			back[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
		if (out[i + 3] != '=')
			back[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
	}
	assert(o == n && memcmp(back, in, n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[4096];
	const char *body = (const char *)data + 1;
	size_t n = size - 1;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		reply(body, n);
		break;
	case 1:
		if (n >= sizeof(s))
			n = sizeof(s) - 1;
		memcpy(s, body, n);
		s[n] = 0;
		date(s);
		break;
	case 2:
		connect_request(body, n);
		break;
	default:
		base64(data + 1, n);
		break;
	}
	return 0;
}
