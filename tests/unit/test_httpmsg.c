/*
 * Unit tests of the HTTP/1.x pieces behind the proxy, tunnel and clock
 * checks: reply parsing (every split point, odd whitespace, limits),
 * HTTP-date in its three formats, CONNECT request bytes and base64.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../netcheck/httpmsg.c"

/* Sun, 06 Nov 1994 08:49:37 GMT, the example date of RFC 9110. */
#define RFC_DATE 784111777

/*
 * Parses exactly n bytes copied to the heap, so ASan catches any read
 * past n; *ret is pre-filled with a marker to show it is left alone on
 * failure.
 */
static int
parse_n(const char *s, size_t n, struct http_reply *ret)
{
	char *copy = malloc(n ? n : 1);
	int r;

	assert_non_null(copy);
	memcpy(copy, s, n);
	memset(ret, 0x5a, sizeof(*ret));
	r = http_reply_parse(copy, n, ret);
	free(copy);
	return r;
}

static int
parse(const char *s, struct http_reply *ret)
{
	return parse_n(s, strlen(s), ret);
}

static void
assert_untouched(const struct http_reply *r)
{
	struct http_reply marker;

	memset(&marker, 0x5a, sizeof(marker));
	assert_memory_equal(r, &marker, sizeof(marker));
}

/*
 * Every strict prefix of a complete header block is -EAGAIN and leaves
 * ret alone; the whole block parses with header_len at its end, also with
 * a body behind it.
 */
static void
assert_splits(const char *reply, int status)
{
	struct http_reply r;
	char withbody[512];
	size_t len = strlen(reply), k;

	for (k = 0; k < len; k++) {
		assert_int_equal(parse_n(reply, k, &r), -EAGAIN);
		assert_untouched(&r);
	}
	assert_int_equal(parse_n(reply, len, &r), 0);
	assert_int_equal(r.status, status);
	assert_true(r.complete);
	assert_int_equal(r.header_len, len);
	assert_true(len + 5 < sizeof(withbody));
	memcpy(withbody, reply, len);
	memcpy(withbody + len, "BODY\n", 5);
	for (k = len; k <= len + 5; k++) {
		assert_int_equal(parse_n(withbody, k, &r), 0);
		assert_int_equal(r.header_len, len);
	}
}

static void
test_reply_splits(void **state)
{
	(void)state;
	assert_splits("HTTP/1.1 200 Connection established\r\n\r\n", 200);
	assert_splits("HTTP/1.0 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 "
	              "GMT\r\nVia: 1.1 squid\r\n\r\n",
	    200);
	assert_splits("HTTP/1.1 407 Proxy Authentication Required\r\n"
	              "Proxy-Authenticate: Basic realm=\"corp\"\r\n"
	              "Content-Length: 0\r\n\r\n",
	    407);
	/* Bare LF line ends (RFC 9112 section 2.2) and a mix of both. */
	assert_splits("HTTP/1.1 403 Forbidden\nX-Squid-Error: ERR_ACCESS\n\n",
	    403);
	assert_splits("HTTP/1.1 502 Bad Gateway\r\nA: b\n\r\n", 502);
	assert_splits("HTTP/1.1 200 OK\n\n", 200);
}

static void
test_reply_statuses(void **state)
{
	struct http_reply r;

	(void)state;
	assert_int_equal(
	    parse("HTTP/1.1 200 Connection established\r\n\r\n", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.reason, "Connection established");
	assert_false(r.has_date);
	assert_false(r.has_proxy_authenticate);

	assert_int_equal(parse("HTTP/1.1 403 Forbidden\r\n\r\n", &r), 0);
	assert_int_equal(r.status, 403);
	assert_string_equal(r.reason, "Forbidden");

	assert_int_equal(parse("HTTP/1.1 407 Proxy Authentication Required\r\n"
	                       "proxy-authenticate: Basic realm=\"x\"\r\n\r\n",
	                     &r),
	    0);
	assert_int_equal(r.status, 407);
	assert_true(r.has_proxy_authenticate);
	assert_string_equal(r.reason, "Proxy Authentication Required");

	assert_int_equal(parse("HTTP/1.1 502 Bad Gateway\r\n\r\n", &r), 0);
	assert_int_equal(r.status, 502);
	assert_string_equal(r.reason, "Bad Gateway");

	/* Empty reason, with and without its SP; 1xx is returned as is. */
	assert_int_equal(parse("HTTP/1.1 200\r\n\r\n", &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.reason, "");
	assert_int_equal(parse("HTTP/1.1 204 \r\n\r\n", &r), 0);
	assert_string_equal(r.reason, "");
	assert_int_equal(parse("HTTP/1.1 100 Continue\r\n\r\n", &r), 0);
	assert_int_equal(r.status, 100);
	assert_int_equal(parse("HTTP/1.1 599 x\r\n\r\n", &r), 0);
	/* Runs of whitespace as separators (RFC 9112 section 4). */
	assert_int_equal(
	    parse("HTTP/1.0  \t301   Moved  Permanently \r\n\r\n", &r), 0);
	assert_int_equal(r.status, 301);
	assert_string_equal(r.reason, "Moved  Permanently");
}

static void
test_reply_reason_bounded(void **state)
{
	struct http_reply r;
	char buf[256];

	(void)state;
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "HTTP/1.1 200 ", 13);
	memset(buf + 13, 'r', 100);
	memcpy(buf + 113, "\r\n\r\n", 4);
	assert_int_equal(parse(buf, &r), 0);
	assert_int_equal(strlen(r.reason), sizeof(r.reason) - 1);
	/* Control and non-ASCII bytes never reach an event. */
	assert_int_equal(parse("HTTP/1.1 200 a\x01"
	                       "b\x7f\xc3\xa9\r\n\r\n",
	                     &r),
	    0);
	assert_string_equal(r.reason, "a?b???");
}

static void
test_reply_bad_status_line(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 20 OK\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1 abc OK\r\n\r\n",
		"HTTP/1.1 099 x\r\n\r\n",
		"HTTP/1.1 600 x\r\n\r\n",
		"HTTP/1.1200 OK\r\n\r\n",
		"HTTP/11 200 OK\r\n\r\n",
		"HTTP/1. 200 OK\r\n\r\n",
		"HTTP/a.1 200 OK\r\n\r\n",
		"http/1.1 200 OK\r\n\r\n",
		"HTTPS/1.1 200 OK\r\n\r\n",
		" HTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1\r\n\r\n",
		"HTTP/1.1 \r\n\r\n",
		"\r\n\r\n",
		"\n\n",
		"SSH-2.0-OpenSSH_9.2\r\n",
	};
	struct http_reply r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &r), -EINVAL);
		assert_untouched(&r);
	}
	/* Not HTTP is known from the first byte that differs. */
	assert_int_equal(parse_n("SSH", 3, &r), -EINVAL);
	assert_int_equal(parse_n("\x15\x03\x01", 3, &r), -EINVAL);
	assert_int_equal(parse_n("HTT", 3, &r), -EAGAIN);
	assert_int_equal(parse_n("", 0, &r), -EAGAIN);
	/* A bad status line fails as soon as its line is complete. */
	assert_int_equal(parse("HTTP/1.1 2x0 OK\r\n", &r), -EINVAL);
	assert_int_equal(http_reply_parse(NULL, 0, &r), -EINVAL);
	assert_int_equal(http_reply_parse("HTTP/1.1 200 OK\r\n\r\n", 19, NULL),
	    -EINVAL);
}

/* A reply whose header block is exactly len bytes. */
static char *
big_reply(size_t len, bool terminated)
{
	char *b = malloc(len);
	size_t i;

	assert_non_null(b);
	memcpy(b, "HTTP/1.1 200 OK\r\nX: ", 20);
	for (i = 20; i < len; i++)
		b[i] = 'a';
	if (terminated)
		memcpy(b + len - 4, "\r\n\r\n", 4);
	return b;
}

static void
test_reply_limit(void **state)
{
	struct http_reply r;
	char *b;

	(void)state;
	b = big_reply(HTTP_HEADER_MAX, true);
	assert_int_equal(http_reply_parse(b, HTTP_HEADER_MAX, &r), 0);
	assert_int_equal(r.header_len, HTTP_HEADER_MAX);
	free(b);

	b = big_reply(HTTP_HEADER_MAX + 1, true);
	assert_int_equal(http_reply_parse(b, HTTP_HEADER_MAX + 1, &r), -EINVAL);
	assert_int_equal(http_reply_parse(b, HTTP_HEADER_MAX, &r), -EINVAL);
	assert_int_equal(http_reply_parse(b, HTTP_HEADER_MAX - 1, &r), -EAGAIN);
	free(b);

	/* An endless status line is cut off at the limit too. */
	b = big_reply(HTTP_HEADER_MAX * 2, false);
	memset(b + 9, '2', HTTP_HEADER_MAX * 2 - 9);
	assert_int_equal(http_reply_parse(b, HTTP_HEADER_MAX * 2, &r), -EINVAL);
	free(b);
}

static void
test_reply_fields(void **state)
{
	struct http_reply r;

	(void)state;
	/* Case-insensitive names, whitespace before the colon, OWS. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nDATE :  \t Sun, 06 Nov "
	                       "1994 08:49:37 GMT \t\r\n\r\n",
	                     &r),
	    0);
	assert_true(r.has_date);
	assert_int_equal(r.date, RFC_DATE);

	/* obs-fold inside the value (RFC 9112 section 5.2). */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\ndate: Sun, 06 Nov 1994\r\n"
	                       "\t 08:49:37 GMT\r\nServer: x\r\n\r\n",
	                     &r),
	    0);
	assert_true(r.has_date);
	assert_int_equal(r.date, RFC_DATE);

	/* The first Date that parses wins; a bad one is skipped. */
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nDate: yesterday\r\n"
	                       "Date: Sun Nov  6 08:49:37 1994\r\n"
	                       "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n",
	                     &r),
	    0);
	assert_true(r.has_date);
	assert_int_equal(r.date, RFC_DATE);

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nDate: garbage\r\n\r\n", &r),
	    0);
	assert_false(r.has_date);
	/* Names must match exactly, not as prefixes. */
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nDates: Sun, 06 Nov 1994 "
	          "08:49:37 GMT\r\nX-Date: Sun, 06 Nov 1994 "
	          "08:49:37 GMT\r\nProxy-Authenticate-X: a\r\n\r\n",
	        &r),
	    0);
	assert_false(r.has_date);
	assert_false(r.has_proxy_authenticate);

	/* A line without a colon and a whitespace line right after the
	 * status line are skipped, not fatal (RFC 9112 section 2.2). */
	assert_int_equal(parse("HTTP/1.1 407 x\r\n  Date: Sun, 06 Nov 1994 "
	                       "08:49:37 GMT\r\nno colon here\r\n"
	                       "PROXY-AUTHENTICATE : Negotiate\r\n\r\n",
	                     &r),
	    0);
	assert_false(r.has_date);
	assert_true(r.has_proxy_authenticate);

	/* A Date too long for its buffer is ignored. */
	assert_int_equal(
	    parse("HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 "
	          "08:49:37 GMTxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	          "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
	          "\r\n",
	        &r),
	    0);
	assert_false(r.has_date);
}

static void
assert_date(const char *s, int64_t want)
{
	int64_t t = 42;

	assert_int_equal(http_date_parse(s, &t), 0);
	assert_int_equal(t, want);
}

static void
test_date_formats(void **state)
{
	(void)state;
	assert_date("Sun, 06 Nov 1994 08:49:37 GMT", RFC_DATE);
	assert_date("Sunday, 06-Nov-94 08:49:37 GMT", RFC_DATE);
	assert_date("Sun Nov  6 08:49:37 1994", RFC_DATE);
	assert_date("Sun Nov 06 08:49:37 1994", RFC_DATE);
	/* Names in any case, as curl's parsedate reads them. */
	assert_date("sun, 06 NOV 1994 08:49:37 GMT", RFC_DATE);

	assert_date("Thu, 01 Jan 1970 00:00:00 GMT", 0);
	assert_date("Wed, 31 Dec 1969 23:59:59 GMT", -1);
	assert_date("Sat, 01 Jan 2000 00:00:00 GMT", 946684800);
	assert_date("Tue, 29 Feb 2000 12:00:00 GMT", 951825600);
	assert_date("Tue, 19 Jan 2038 03:14:08 GMT", 2147483648LL);
	assert_date("Fri, 31 Dec 9999 23:59:59 GMT", 253402300799LL);
	assert_date("Mon, 01 Mar 2100 00:00:00 GMT", 4107542400LL);
	assert_date("Thu Dec 31 23:59:59 2026", 1798761599);
	/* A leap second is the next minute's first second. */
	assert_date("Sat, 31 Dec 2016 23:59:60 GMT", 1483228800);

	/* Two-digit years: 70..99 are 19xx, 00..69 are 20xx. */
	assert_date("Thursday, 01-Jan-70 00:00:00 GMT", 0);
	assert_date("Friday, 31-Dec-99 23:59:59 GMT", 946684799);
	assert_date("Saturday, 01-Jan-00 00:00:00 GMT", 946684800);
	assert_date("Tuesday, 01-Jan-69 00:00:00 GMT", 3124224000LL);
}

static void
test_date_invalid(void **state)
{
	static const char *const bad[] = {
		"",
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37",
		"Sun, 06 Nov 1994 08:49:37 GMT ",
		" Sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMTx",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sun,06 Nov 1994 08:49:37 GMT",
		"Sun, 06  Nov 1994 08:49:37 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 31 Nov 1994 08:49:37 GMT",
		"Thu, 29 Feb 2001 08:49:37 GMT",
		"Mon, 29 Feb 2100 08:49:37 GMT",
		"Sun, 06 Foo 1994 08:49:37 GMT",
		"Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 1994 8:49:37 GMT",
		"Sun, 06 Nov 1994 08-49-37 GMT",
		"Sun, 06 Nov 199a 08:49:37 GMT",
		"Sunday, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06-Nov-94 08:49:37 GMT",
		"Sunday, 06-Nov-1994 08:49:37 GMT",
		"Sunday, 6-Nov-94 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37",
		"Sun Nov 6 08:49:37 1994",
		"Sun Nov  6 08:49:37 94",
		"Sun Nov  6 08:49:37 1994 GMT",
		"Sun Nov 32 08:49:37 1994",
		"Sunday Nov  6 08:49:37 1994",
		"784111777",
		"Sun, 06 Nov 1994 08:49:37 GMT and then a lot of trailing junk",
	};
	int64_t t = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http_date_parse(bad[i], &t) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(t, 42);
	}
	assert_int_equal(http_date_parse(NULL, &t), -EINVAL);
	assert_int_equal(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", NULL),
	    -EINVAL);
}

/*
 * Every prefix of the days-from-civil arithmetic against a day-by-day
 * count: 1970-01-01 plus one day per step, through 2400, crossing
 * every kind of leap rule.
 */
static void
test_date_calendar(void **state)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int64_t day = 0;
	int y, m, d, dim;

	(void)state;
	for (y = 1970; y <= 2400; y++) {
		for (m = 1; m <= 12; m++) {
			dim = mdays[m - 1] + (m == 2 && is_leap(y));
			for (d = 1; d <= dim; d++, day++)
				assert_int_equal(days_from_civil(y, m, d), day);
		}
	}
	assert_int_equal(days_from_civil(1969, 12, 31), -1);
	assert_int_equal(days_from_civil(1600, 3, 1), -135080);
}

static void
test_connect_request(void **state)
{
	char buf[512];
	size_t n;

	(void)state;
	n = http_connect_request(buf, sizeof(buf), "example.com", 443, NULL);
	assert_string_equal(buf,
	    "CONNECT example.com:443 HTTP/1.1\r\n"
	    "Host: example.com:443\r\n"
	    "\r\n");
	assert_int_equal(n, strlen(buf));

	n = http_connect_request(buf, sizeof(buf), "::1", 8080, NULL);
	assert_string_equal(buf,
	    "CONNECT [::1]:8080 HTTP/1.1\r\n"
	    "Host: [::1]:8080\r\n"
	    "\r\n");
	assert_int_equal(n, strlen(buf));
	n = http_connect_request(buf, sizeof(buf), "[2001:db8::1]", 1, NULL);
	assert_string_equal(buf,
	    "CONNECT [2001:db8::1]:1 HTTP/1.1\r\n"
	    "Host: [2001:db8::1]:1\r\n"
	    "\r\n");

	n = http_connect_request(buf, sizeof(buf), "10.0.0.1", 65535,
	    "dXNlcjpwYXNz");
	assert_string_equal(buf,
	    "CONNECT 10.0.0.1:65535 HTTP/1.1\r\n"
	    "Host: 10.0.0.1:65535\r\n"
	    "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
	    "\r\n");
	assert_int_equal(n, strlen(buf));
}

static void
test_connect_request_invalid(void **state)
{
	static const char *const hosts[] = { "", "[]", "a b", "a\r\nX-Evil: 1",
		"a/b", "a@b", "[::1", "a\tb" };
	const char *want = "CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n";
	size_t len = strlen(want), i;
	char buf[512];

	(void)state;
	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		if (http_connect_request(buf, sizeof(buf), hosts[i], 80,
		        NULL) != 0)
			fail_msg("accepted host \"%s\"", hosts[i]);
	}
	assert_int_equal(http_connect_request(buf, sizeof(buf), "a", 0, NULL),
	    0);
	assert_int_equal(http_connect_request(buf, sizeof(buf), NULL, 1, NULL),
	    0);
	assert_int_equal(
	    http_connect_request(buf, sizeof(buf), "a", 1, "abc\r\nX-Evil: 1"),
	    0);
	assert_int_equal(http_connect_request(buf, sizeof(buf), "a", 1, ""), 0);
	/* Exactly enough room, one byte short, none. */
	assert_int_equal(http_connect_request(buf, len + 1, "a", 1, NULL), len);
	assert_string_equal(buf, want);
	assert_int_equal(http_connect_request(buf, len, "a", 1, NULL), 0);
	assert_string_equal(buf, "");
	assert_int_equal(http_connect_request(buf, 0, "a", 1, NULL), 0);
}

static void
assert_b64(const char *in, const char *want)
{
	char out[64];

	assert_int_equal(base64_encode(in, strlen(in), out, sizeof(out)),
	    strlen(want));
	assert_string_equal(out, want);
}

static void
test_base64(void **state)
{
	static const unsigned char bin[] = { 0xff, 0xfe, 0x00 };
	char out[16];

	(void)state;
	/* The test vectors of RFC 4648 section 10. */
	assert_b64("", "");
	assert_b64("f", "Zg==");
	assert_b64("fo", "Zm8=");
	assert_b64("foo", "Zm9v");
	assert_b64("foob", "Zm9vYg==");
	assert_b64("fooba", "Zm9vYmE=");
	assert_b64("foobar", "Zm9vYmFy");
	/* RFC 7617 section 2's example credentials. */
	assert_b64("Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	assert_int_equal(base64_encode(bin, 3, out, sizeof(out)), 4);
	assert_string_equal(out, "//4A");
	assert_int_equal(base64_encode(bin, 2, out, sizeof(out)), 4);
	assert_string_equal(out, "//4=");

	/* Too small: untouched. */
	memcpy(out, "XXXXX", 6);
	assert_int_equal(base64_encode("foo", 3, out, 4), 0);
	assert_string_equal(out, "XXXXX");
	assert_int_equal(base64_encode("foo", 3, out, 5), 4);
	assert_int_equal(BASE64_LEN(0), 0);
	assert_int_equal(BASE64_LEN(1), 4);
	assert_int_equal(BASE64_LEN(3), 4);
	assert_int_equal(BASE64_LEN(4), 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_splits),
		cmocka_unit_test(test_reply_statuses),
		cmocka_unit_test(test_reply_reason_bounded),
		cmocka_unit_test(test_reply_bad_status_line),
		cmocka_unit_test(test_reply_limit),
		cmocka_unit_test(test_reply_fields),
		cmocka_unit_test(test_date_formats),
		cmocka_unit_test(test_date_invalid),
		cmocka_unit_test(test_date_calendar),
		cmocka_unit_test(test_connect_request),
		cmocka_unit_test(test_connect_request_invalid),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests_name("httpmsg", tests, NULL, NULL);
}
