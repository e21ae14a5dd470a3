/*
 * Unit tests of the probe endpoint's request parser (core/httpreq.c):
 * what Kubernetes, curl and Docker send is accepted; everything else gets
 * the status RFC 9112 asks for; an incomplete head asks for more; and no
 * prefix of a request is ever taken for a whole one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../core/httpreq.c"

static int
parse(const char *s, struct httpreq *r)
{
	return httpreq_parse(s, strlen(s), r);
}

static void
test_what_probes_send(void **state)
{
	struct httpreq r;
	/* kubelet's httpGet probe (Go net/http) */
	const char *kube = "GET /readyz HTTP/1.1\r\nHost: 10.1.2.3:8081\r\n"
	                   "User-Agent: kube-probe/1.29\r\nAccept: */*\r\n"
	                   "Connection: close\r\n\r\n";
	const char *curl = "GET /livez HTTP/1.1\r\nHost: 127.0.0.1:9090\r\n"
	                   "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

	(void)state;
	assert_int_equal(parse(kube, &r), 200);
	assert_string_equal(r.path, "/readyz");
	assert_false(r.head);
	assert_int_equal(r.len, strlen(kube));
	assert_int_equal(parse(curl, &r), 200);
	assert_string_equal(r.path, "/livez");
	assert_int_equal(parse("HEAD /status?x=1 HTTP/1.1\nHost: a\n\n", &r),
	    200);
	assert_true(r.head);
	assert_string_equal(r.path, "/status");
	/* Empty lines before the request line are ignored; a body of 0. */
	assert_int_equal(parse("\r\nGET / HTTP/1.1\r\nHost: a\r\n"
	                       "Content-Length: 0\r\n\r\n",
	                     &r),
	    200);
	assert_string_equal(r.path, "/");
	/* The absolute-form (RFC 9112 3.2.2). */
	assert_int_equal(parse("GET http://h:1/livez?a HTTP/1.1\r\nHost: h\r\n"
	                       "\r\n",
	                     &r),
	    200);
	assert_string_equal(r.path, "/livez");
	assert_int_equal(parse("GET HTTP://h HTTP/1.1\r\nHost: h\r\n\r\n", &r),
	    200);
	assert_string_equal(r.path, "/");
}

static void
test_incomplete(void **state)
{
	const char *full = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct httpreq r;
	size_t i;

	(void)state;
	for (i = 0; i < strlen(full); i++)
		assert_int_equal(httpreq_parse(full, i, &r), 0);
	assert_int_equal(httpreq_parse(full, strlen(full), &r), 200);
	/* What follows the head (pipelined, or garbage) is not ours. */
	assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE", &r),
	    200);
	assert_int_equal(r.len, strlen(full) - 6);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "POST /readyz HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
		{ "DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", 405 },
		{ "GET / HTTP/1.0\r\nHost: a\r\n\r\n", 505 },
		{ "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
		{ "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400 },
		{ "GET / http/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /\r\nHost: a\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET readyz HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET ftp://x/readyz HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n",
		    400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "\r\n",
		    400 },
		{ "\r\n\r\n", 400 },
	};
	struct httpreq r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = parse(cases[i].req, &r);

		if (got != cases[i].status)
			fail_msg("case %zu: %d, not %d: %s", i, got,
			    cases[i].status, cases[i].req);
	}
}

static void
test_limits(void **state)
{
	static char big[HTTPREQ_MAX * 2];
	struct httpreq r;
	int n;

	(void)state;
	/* A target of the longest length is fine, one more is 414. */
	n = snprintf(big, sizeof(big), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n",
	    HTTPREQ_TARGET_MAX - 2, 0);
	assert_int_equal(httpreq_parse(big, (size_t)n, &r), 200);
	assert_int_equal(strlen(r.path), HTTPREQ_TARGET_MAX - 1);
	n = snprintf(big, sizeof(big), "GET /%0*d HTTP/1.1\r\nHost: a\r\n\r\n",
	    HTTPREQ_TARGET_MAX - 1, 0);
	assert_int_equal(httpreq_parse(big, (size_t)n, &r), 414);
	/* A head that does not end within HTTPREQ_MAX: 431, at once. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(httpreq_parse(big, HTTPREQ_MAX - 1, &r), 0);
	assert_int_equal(httpreq_parse(big, HTTPREQ_MAX, &r), 431);
	assert_int_equal(httpreq_parse(big, sizeof(big), &r), 431);
	/* Even when its end comes after the limit. */
	memcpy(big + HTTPREQ_MAX + 10, "\r\n\r\n", 4);
	assert_int_equal(httpreq_parse(big, HTTPREQ_MAX + 14, &r), 431);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_probes_send),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests_name("httpreq", tests, NULL, NULL);
}
