/*
 * Unit tests of the clients' JSON reader (core/jsonread.c): it finds what
 * the control socket's replies hold, decodes every escape the event
 * writer makes, and takes nothing malformed or truncated for a value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../core/jsonread.c"

static struct json_span
val(const char *s)
{
	return json_value(s, strlen(s));
}

static void
test_status_reply(void **state)
{
	const char *s =
	    "{\"ready\":true,\"healthy\":false,\"phase\":\"running\","
	    "\"services\":[{\"name\":\"db\",\"state\":\"stopped\","
	    "\"pid\":0,\"attempt\":3,\"last_exit\":{\"code\":-1},"
	    "\"reason\":\"stopped by \\\"ctl\\\" \\u00e9\\n\"},"
	    "{\"name\":\"app\",\"state\":\"ready\"}]}\n";
	struct json_span v = val(s), it = { NULL, NULL };
	char buf[64];
	long long n;
	int k = 0;

	(void)state;
	assert_non_null(v.p);
	assert_true(json_is_true(json_get(v, "ready")));
	assert_false(json_is_true(json_get(v, "healthy")));
	assert_null(json_get(v, "nope").p);
	assert_true(json_string(json_get(v, "phase"), buf, sizeof(buf)));
	assert_string_equal(buf, "running");
	while (json_next(json_get(v, "services"), &it)) {
		assert_true(
		    json_string(json_get(it, "name"), buf, sizeof(buf)));
		assert_string_equal(buf, k ? "app" : "db");
		if (k == 0) {
			assert_true(json_int(json_get(it, "attempt"), &n));
			assert_int_equal(n, 3);
			assert_true(json_int(
			    json_get(json_get(it, "last_exit"), "code"), &n));
			assert_int_equal(n, -1);
			assert_true(json_string(json_get(it, "reason"), buf,
			    sizeof(buf)));
			assert_string_equal(buf,
			    "stopped by \"ctl\" \xc3\xa9\n");
		}
		k++;
	}
	assert_int_equal(k, 2);
	/* Not a string, not a number. */
	assert_false(json_string(json_get(v, "ready"), buf, sizeof(buf)));
	assert_false(json_int(json_get(v, "phase"), &n));
	/* Cut to the buffer. */
	assert_true(json_string(json_get(v, "phase"), buf, 4));
	assert_string_equal(buf, "run");
}

static void
test_escapes(void **state)
{
	char buf[64];

	(void)state;
	assert_true(json_string(val("\"a\\\\b\\/c\\b\\f\\r\\t\\u0001\""), buf,
	    sizeof(buf)));
	assert_string_equal(buf, "a\\b/c\b\f\r\t\x01");
	/* U+FFFD as the writer puts it for invalid UTF-8; a surrogate. */
	assert_true(json_string(val("\"\\ufffd\\ud800\""), buf, sizeof(buf)));
	assert_string_equal(buf, "\xef\xbf\xbd\xef\xbf\xbd");
	/* Skipped as a string, refused when decoded. */
	assert_false(json_string(val("\"\\x\""), buf, sizeof(buf)));
	assert_false(json_string(val("\"\\u12\""), buf, sizeof(buf)));
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = { "", "{", "{\"a\"", "{\"a\":}",
		"{\"a\":1,}", "[1,]", "[1 2]", "{\"a\" 1}", "{a:1}", "\"abc",
		"\"a\nb\"", "tru", "-", "{\"a\":[1,{\"b\":}]}", "]" };
	char deep[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (val(bad[i]).p)
			fail_msg("'%s' taken for a value", bad[i]);
	/* Nesting beyond JSON_DEPTH is refused, not recursed into. */
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_null(json_value(deep, sizeof(deep)).p);
	memset(deep, '[', 10);
	memset(deep + 10, ']', 10);
	assert_non_null(json_value(deep, 20).p);
	/* A truncated reply: its first value only when it is whole. */
	assert_null(json_value("{\"ok\":true", 10).p);
	assert_non_null(json_value("{\"ok\":true}xx", 13).p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_reply),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests_name("jsonread", tests, NULL, NULL);
}
