/*
 * httpmsg — HTTP/1.x reply parsing, HTTP-date and CONNECT requests.
 * See httpmsg.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "httpmsg.h"

/*
 * RFC 9112 section 4 lets a recipient treat any whitespace but the line
 * terminator as the separator of the status line; RFC 9110 section 5.6.3
 * defines OWS as SP and HTAB.  CR appears here because a bare CR inside a
 * line is to be read as SP (RFC 9112 section 2.2).
 */
static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Finds the LF ending the line that starts at i, searching below lim.
 * Returns the index of the LF, or lim when there is none yet.  RFC 9112
 * section 2.2: a recipient may take a lone LF as the line terminator and
 * ignore a CR before it, so the caller strips one CR itself.
 */
static size_t
find_lf(const char *buf, size_t i, size_t lim)
{
	const char *lf = i < lim ? memchr(buf + i, '\n', lim - i) : NULL;

	return lf ? (size_t)(lf - buf) : lim;
}

/* The end of the line content [start, lf): without the CR before the LF. */
static size_t
content_end(const char *buf, size_t start, size_t lf)
{
	return lf > start && buf[lf - 1] == '\r' ? lf - 1 : lf;
}

/*
 * status-line = HTTP-version SP status-code SP [ reason-phrase ]
 * (RFC 9112 section 4), HTTP-version = "HTTP/" DIGIT "." DIGIT.  The
 * HTTP-name is case-sensitive (section 2.3).  We accept runs of
 * whitespace as separators and a missing SP before an empty reason, as
 * section 4 allows recipients to.  The code must be one RFC 9110 section 15
 * defines a class for (1xx to 5xx).
 */
static int
parse_status_line(const char *s, size_t len, struct http_reply *r)
{
	size_t i = 8, o = 0;

	if (len < 12 || memcmp(s, "HTTP/", 5) != 0 || !is_digit(s[5]) ||
	    s[6] != '.' || !is_digit(s[7]) || !is_ws(s[8]))
		return -EINVAL;
	while (i < len && is_ws(s[i]))
		i++;
	if (len - i < 3 || !is_digit(s[i]) || !is_digit(s[i + 1]) ||
	    !is_digit(s[i + 2]) || (len - i > 3 && !is_ws(s[i + 3])))
		return -EINVAL;
	r->status =
	    (s[i] - '0') * 100 + (s[i + 1] - '0') * 10 + (s[i + 2] - '0');
	if (r->status < 100 || r->status > 599)
		return -EINVAL;
	i += 3;
	while (i < len && is_ws(s[i]))
		i++;
	while (len > i && is_ws(s[len - 1]))
		len--;
	/* The reason goes into events: printable ASCII only, cut to fit. */
	for (; i < len && o < sizeof(r->reason) - 1; i++, o++) {
		r->reason[o] = s[i];
		if (s[i] < 0x20 || s[i] >= 0x7f)
			r->reason[o] = '?';
	}
	r->reason[o] = '\0';
	return 0;
}

/*
 * Copies a field value, which may span obs-fold continuation lines, into
 * out: each obs-fold (OWS CRLF RWS) becomes one SP, as RFC 9112 section 5.2
 * tells a user agent to do, and the OWS around the value goes (RFC 9110
 * section 5.5).  Other inner whitespace stays: asctime's "Nov  6" needs
 * its two spaces.  Returns false when the value does not fit.
 */
static bool
normalize_value(const char *v, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < len && (v[i] == ' ' || v[i] == '\t'))
		i++;
	for (; i < len; i++) {
		if (v[i] == '\r' || v[i] == '\n') {
			while (
			    o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
				o--;
			while (i + 1 < len &&
			    (is_ws(v[i + 1]) || v[i + 1] == '\n'))
				i++;
			if (o == 0)
				continue;
		}
		if (o + 1 >= cap)
			return false;
		out[o] = v[i];
		if (v[i] == '\r' || v[i] == '\n')
			out[o] = ' ';
		o++;
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
		o--;
	out[o] = '\0';
	return true;
}

/*
 * One field line, with its continuation lines, spans [start, end).  Names
 * are case-insensitive (RFC 9110 section 5.1).  Whitespace between the
 * name and the colon is forbidden by RFC 9112 section 5.1, but a client
 * reading a reply gains nothing by refusing it, so it is trimmed.  A line
 * without a colon is skipped rather than failing the whole reply.
 */
static void
parse_field(const char *buf, size_t start, size_t end, struct http_reply *r)
{
	const char *colon = memchr(buf + start, ':', end - start);
	char value[64];
	size_t nlen;
	int64_t t;

	if (!colon)
		return;
	nlen = (size_t)(colon - (buf + start));
	while (nlen > 0 && is_ws(buf[start + nlen - 1]))
		nlen--;
	if (nlen == 4 && strncasecmp(buf + start, "date", 4) == 0) {
		/* The first Date that parses wins; RFC 9110 section 6.6.1. */
		if (!r->has_date &&
		    normalize_value(colon + 1, (size_t)(buf + end - colon - 1),
		        value, sizeof(value)) &&
		    http_date_parse(value, &t) == 0) {
			r->has_date = true;
			r->date = t;
		}
	} else if (nlen == 18 &&
	    strncasecmp(buf + start, "proxy-authenticate", 18) == 0) {
		r->has_proxy_authenticate = true;
	}
}

/*
 * Walks the field lines between the status line and the empty line.  A
 * line starting with SP or HTAB continues the previous field (obs-fold,
 * RFC 9112 section 5.2); one right after the status line has no field to
 * continue and is consumed unprocessed, as RFC 9112 section 2.2 allows.
 */
static void
parse_fields(const char *buf, size_t pos, size_t block_end,
    struct http_reply *r)
{
	size_t field = 0, field_end = 0, lf, end;
	bool open = false;

	while (pos < block_end) {
		lf = find_lf(buf, pos, block_end);
		end = content_end(buf, pos, lf);
		if (buf[pos] == ' ' || buf[pos] == '\t') {
			if (open)
				field_end = end;
		} else {
			if (open)
				parse_field(buf, field, field_end, r);
			field = pos;
			field_end = end;
			open = true;
		}
		pos = lf + 1;
	}
	if (open)
		parse_field(buf, field, field_end, r);
}

int
http_reply_parse(const char *buf, size_t n, struct http_reply *ret)
{
	struct http_reply r;
	size_t lim = n < HTTP_HEADER_MAX ? n : HTTP_HEADER_MAX;
	size_t pos, lf, fields;

	if (!buf || !ret)
		return -EINVAL;
	/* Fail early on a peer that is not speaking HTTP (an SSH banner, TLS
	 * alert bytes): the first five bytes must be "HTTP/". */
	if (memcmp(buf, "HTTP/", n < 5 ? n : 5) != 0)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	lf = find_lf(buf, 0, lim);
	if (lf == lim)
		return n >= HTTP_HEADER_MAX ? -EINVAL : -EAGAIN;
	if (parse_status_line(buf, content_end(buf, 0, lf), &r) < 0)
		return -EINVAL;
	fields = pos = lf + 1;
	/* The header block ends at the first empty line. */
	for (;;) {
		lf = find_lf(buf, pos, lim);
		if (lf == lim)
			return n >= HTTP_HEADER_MAX ? -EINVAL : -EAGAIN;
		if (content_end(buf, pos, lf) == pos)
			break;
		pos = lf + 1;
	}
	parse_fields(buf, fields, pos, &r);
	r.header_len = lf + 1;
	r.complete = true;
	*ret = r;
	return 0;
}

/* Matches the literal lit, case-insensitively, and moves past it. */
static bool
take_lit(const char **p, const char *lit)
{
	size_t len = strlen(lit);

	if (strncasecmp(*p, lit, len) != 0)
		return false;
	*p += len;
	return true;
}

/* Exactly n digits. */
static bool
take_num(const char **p, int n, int *ret)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!is_digit((*p)[i]))
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

/* One of the names; *ret is its index.  */
static bool
take_name(const char **p, const char *const *names, int count, int *ret)
{
	int i;

	for (i = 0; i < count; i++) {
		if (take_lit(p, names[i])) {
			*ret = i;
			return true;
		}
	}
	return false;
}

static const char *const wkdays[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
	"Sun" };
static const char *const weekdays[] = { "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday", "Sunday" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

struct civil {
	int year, month, day, hour, min, sec;
};

/* time-of-day = hour ":" minute ":" second, each 2DIGIT. */
static bool
take_time(const char **p, struct civil *c)
{
	return take_num(p, 2, &c->hour) && take_lit(p, ":") &&
	    take_num(p, 2, &c->min) && take_lit(p, ":") &&
	    take_num(p, 2, &c->sec);
}

static bool
take_month(const char **p, struct civil *c)
{
	if (!take_name(p, months, 12, &c->month))
		return false;
	c->month++;
	return true;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7). */
static bool
parse_imf(const char *p, struct civil *c)
{
	int wd;

	return take_name(&p, wkdays, 7, &wd) && take_lit(&p, ", ") &&
	    take_num(&p, 2, &c->day) && take_lit(&p, " ") &&
	    take_month(&p, c) && take_lit(&p, " ") &&
	    take_num(&p, 4, &c->year) && take_lit(&p, " ") &&
	    take_time(&p, c) && take_lit(&p, " GMT") && *p == '\0';
}

/*
 * rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT".  RFC 9110 section 5.6.7
 * resolves the two-digit year against the current date (more than 50
 * years ahead means the past century); a pure parser has no current date,
 * so, like curl's parsedate.c, 70..99 is 19xx and 00..69 is 20xx.
 */
static bool
parse_rfc850(const char *p, struct civil *c)
{
	int wd;

	if (!(take_name(&p, weekdays, 7, &wd) && take_lit(&p, ", ") &&
	        take_num(&p, 2, &c->day) && take_lit(&p, "-") &&
	        take_month(&p, c) && take_lit(&p, "-") &&
	        take_num(&p, 2, &c->year) && take_lit(&p, " ") &&
	        take_time(&p, c) && take_lit(&p, " GMT") && *p == '\0'))
		return false;
	c->year += c->year >= 70 ? 1900 : 2000;
	return true;
}

/* asctime-date: "Sun Nov  6 08:49:37 1994"; the day is 2DIGIT or SP DIGIT. */
static bool
parse_asctime(const char *p, struct civil *c)
{
	int wd;

	if (!(take_name(&p, wkdays, 7, &wd) && take_lit(&p, " ") &&
	        take_month(&p, c) && take_lit(&p, " ")))
		return false;
	if (*p == ' ') {
		p++;
		if (!take_num(&p, 1, &c->day))
			return false;
	} else if (!take_num(&p, 2, &c->day)) {
		return false;
	}
	return take_lit(&p, " ") && take_time(&p, c) && take_lit(&p, " ") &&
	    take_num(&p, 4, &c->year) && *p == '\0';
}

static bool
is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar,
 * without timegm(): count from 0000-03-01 so that the leap day is the last
 * day of a year, split the years into 400-year eras of 146097 days, and
 * take the day of the year from the month with the (153 * m + 2) / 5
 * formula for March-based months of 31/30 days.  719468 is the day number
 * of 1970-01-01 in that count.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
http_date_parse(const char *s, int64_t *ret)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	struct civil c;
	int dim;

	if (!s || !ret || strnlen(s, 64) >= 64)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	if (!parse_imf(s, &c) && !parse_rfc850(s, &c) && !parse_asctime(s, &c))
		return -EINVAL;
	dim = mdays[c.month - 1] + (c.month == 2 && is_leap(c.year));
	/* second = 2DIGIT up to 60 for a leap second (RFC 5322 3.3). */
	if (c.day < 1 || c.day > dim || c.hour > 23 || c.min > 59 || c.sec > 60)
		return -EINVAL;
	*ret = days_from_civil(c.year, c.month, c.day) * 86400 +
	    (int64_t)c.hour * 3600 + (int64_t)c.min * 60 + c.sec;
	return 0;
}

/*
 * The host goes into the request line, so it may only hold what a host
 * name, an IPv4 or an IPv6 literal (with a zone) can: nothing that could
 * end the line or add a field.
 */
static bool
valid_host(const char *h, size_t len)
{
	size_t i;

	if (len == 0 || len > 255)
		return false;
	for (i = 0; i < len; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        is_digit(c) || c == '.' || c == '-' || c == '_' ||
		        c == ':' || c == '%'))
			return false;
	}
	return true;
}

static bool
valid_b64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        is_digit(c) || c == '+' || c == '/' || c == '='))
			return false;
	}
	return i > 0;
}

/*
 * RFC 9110 section 9.3.6: the request target of CONNECT is the
 * authority form host:port (RFC 9112 section 3.2.3), and an HTTP/1.1
 * client sends Host with the same value (RFC 9112 section 3.2).  An IPv6
 * literal is bracketed as in a URI (RFC 3986 section 3.2.2).
 */
size_t
http_connect_request(char *buf, size_t cap, const char *host, uint16_t port,
    const char *basic_b64)
{
	const char *open = "", *close = "";
	size_t hlen;
	int len;

	if (!buf || cap == 0 || !host || port == 0)
		return 0;
	hlen = strnlen(host, 258);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (!valid_host(host, hlen) || (basic_b64 && !valid_b64(basic_b64)))
		return 0;
	if (memchr(host, ':', hlen)) {
		open = "[";
		close = "]";
	}
	len = snprintf(buf, cap,
	    "CONNECT %s%.*s%s:%u HTTP/1.1\r\n"
	    "Host: %s%.*s%s:%u\r\n"
	    "%s%s%s"
	    "\r\n",
	    open, (int)hlen, host, close, (unsigned)port, open, (int)hlen, host,
	    close, (unsigned)port,
	    basic_b64 ? "Proxy-Authorization: Basic " : "",
	    basic_b64 ? basic_b64 : "", basic_b64 ? "\r\n" : "");
	if (len < 0 || (size_t)len >= cap) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)len;
}

/* RFC 4648 section 4, with "=" padding. */
size_t
base64_encode(const void *in, size_t n, char *out, size_t cap)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *b = in;
	size_t i, o = 0;
	uint32_t v;

	if (!out || (n > 0 && !in) || n > (SIZE_MAX - 1) / 4 * 3 - 2 ||
	    cap < BASE64_LEN(n) + 1)
		return 0;
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)b[i] << 16 | (uint32_t)b[i + 1] << 8 | b[i + 2];
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < n) {
		v = (uint32_t)b[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)b[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = '=';
		out[o++] = '=';
		if (i + 1 < n)
			out[o - 2] = alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}
