/*
 * Unit tests of the event writer: JSON escaping of every kind of input,
 * the line format, truncation that keeps the line valid, destinations.
 * The module's .c files are included so that the tests reach its statics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>

#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/sink.c"

static char out[EV_LINE_MAX * 2];

static const char *
esc(const char *in, size_t n)
{
	size_t used, w = json_escape(out, sizeof(out) - 1, in, n, &used);

	assert_int_equal(used, n);
	out[w] = 0;
	return out;
}

static void
test_escape_plain(void **state)
{
	(void)state;
	assert_string_equal(esc("hello", 5), "hello");
	assert_string_equal(esc("", 0), "");
}

static void
test_escape_specials(void **state)
{
	(void)state;
	assert_string_equal(esc("a\"b\\c", 5), "a\\\"b\\\\c");
	assert_string_equal(esc("\n\t\r\b\f", 5), "\\n\\t\\r\\b\\f");
	assert_string_equal(esc("\x01\x1f\x7f", 3), "\\u0001\\u001f\\u007f");
	assert_string_equal(esc("a\0b", 3), "a\\u0000b");
}

static void
test_escape_utf8_valid(void **state)
{
	(void)state;
	assert_string_equal(esc("\xc3\xa9", 2), "\xc3\xa9"); /* é */
	assert_string_equal(esc("\xe2\x82\xac", 3), "\xe2\x82\xac"); /* € */
	assert_string_equal(esc("\xf0\x9f\x98\x80", 4), "\xf0\x9f\x98\x80");
}

static void
test_escape_utf8_invalid(void **state)
{
	(void)state;
	/* lone continuation byte, overlong '/', surrogate, > U+10FFFF,
	 * truncated sequence, 0xff */
	assert_string_equal(esc("\x80", 1), "\\ufffd");
	assert_string_equal(esc("\xc0\xaf", 2), "\\ufffd\\ufffd");
	assert_string_equal(esc("\xe0\x80\xaf", 3), "\\ufffd\\ufffd\\ufffd");
	assert_string_equal(esc("\xed\xa0\x80", 3), "\\ufffd\\ufffd\\ufffd");
	assert_string_equal(esc("\xf4\x90\x80\x80", 4),
	    "\\ufffd\\ufffd\\ufffd\\ufffd");
	assert_string_equal(esc("\xe2\x82", 2), "\\ufffd\\ufffd");
	assert_string_equal(esc("a\xffz", 3), "a\\ufffdz");
}

static void
test_escape_cut_on_boundary(void **state)
{
	char buf[8];
	size_t used, w;

	(void)state;
	/* 5 bytes of room: "ab" fits, the 4-byte emoji does not. */
	w = json_escape(buf, 5, "ab\xf0\x9f\x98\x80", 6, &used);
	assert_int_equal(w, 2);
	assert_int_equal(used, 2);
	/* An escape is never split either. */
	w = json_escape(buf, 2, "a\n", 2, &used);
	assert_int_equal(w, 1);
	assert_int_equal(used, 1);
}

static void
test_ts_format(void **state)
{
	char buf[40];

	(void)state;
	ev_format_ts(buf, sizeof(buf), 0, 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
	ev_format_ts(buf, sizeof(buf), 1795536000LL, 999999999L);
	assert_string_equal(buf, "2026-11-24T16:00:00.999Z");
	/* Every field at its widest and with leading zeros. */
	assert_int_equal(
	    ev_format_ts(buf, sizeof(buf), 253402300799LL, 9000000L), 24);
	assert_string_equal(buf, "9999-12-31T23:59:59.009Z");
	ev_format_ts(buf, sizeof(buf), 951782400LL + 3661, 1000000L);
	assert_string_equal(buf, "2000-02-29T01:01:01.001Z");
	/* Cut to the buffer, always terminated. */
	assert_int_equal(ev_format_ts(buf, 5, 0, 0), 4);
	assert_string_equal(buf, "1970");
	assert_int_equal(ev_format_ts(buf, 1, 0, 0), 0);
	assert_string_equal(buf, "");
	/* Beyond year 9999, as "%04d" writes it. */
	ev_format_ts(buf, sizeof(buf), 253402300800LL, 0);
	assert_string_equal(buf, "10000-01-01T00:00:00.000Z");
}

/* Emit through a pipe and read the line back. */
static int rfd = -1;

static int
setup_pipe(void **state)
{
	int p[2];
	char dest[16];

	(void)state;
	assert_int_equal(loop_init(), 0);
	assert_int_equal(pipe(p), 0);
	rfd = p[0];
	snprintf(dest, sizeof(dest), "fd:%d", p[1]);
	assert_int_equal(events_open(dest), 0);
	return 0;
}

static const char *
read_line(void)
{
	static char line[EV_LINE_MAX + 16];
	ssize_t n = read(rfd, line, sizeof(line) - 1);

	assert_true(n > 0);
	line[n] = 0;
	return line;
}

static void
test_line_format(void **state)
{
	const char *l;

	(void)state;
	ev_begin("start");
	ev_str("version", "1.0");
	ev_int("pid", 1);
	ev_bool("pid1", true);
	ev_null("config");
	ev_obj_begin("devices");
	ev_bool("fuse", false);
	ev_obj_end();
	ev_arr_begin("services");
	ev_arr_str("a");
	ev_arr_str("b\"");
	ev_arr_end();
	ev_milli("cpu", 1500);
	ev_emit();
	l = read_line();
	assert_memory_equal(l, "{\"agent_init\":\"start\",\"ts\":\"", 28);
	assert_non_null(strstr(l,
	    "\",\"version\":\"1.0\",\"pid\":1,"
	    "\"pid1\":true,\"config\":null,"
	    "\"devices\":{\"fuse\":false},"
	    "\"services\":[\"a\",\"b\\\"\"],\"cpu\":1.5}\n"));
	assert_int_equal(strchr(l, '\n') - l, (long)strlen(l) - 1);
}

static void
test_huge_value_is_cut_but_valid(void **state)
{
	static char big[EV_LINE_MAX * 2];
	const char *l;
	size_t n;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	ev_begin("log");
	ev_arr_begin("tail");
	ev_arr_str(big);
	ev_arr_str("never fits");
	ev_arr_end();
	ev_int("after", 7);
	ev_emit();
	l = read_line();
	n = strlen(l);
	assert_true(n <= EV_LINE_MAX);
	assert_memory_equal(l + n - 4, "\"]}\n", 4);
}

/* A value too long for one line: the part that fits, room kept for the
 * field after it, and the caller told how much was taken. */
static void
test_part_value_leaves_room(void **state)
{
	static char ctl[EV_LINE_MAX];
	const char *l;
	size_t used, n;

	(void)state;
	memset(ctl, 1, sizeof(ctl));
	ev_begin("log");
	ev_str("service", "s");
	used = ev_strn_part("line", ctl, sizeof(ctl), 20);
	ev_bool("continued", true);
	ev_emit();
	l = read_line();
	n = strlen(l);
	assert_true(n <= EV_LINE_MAX);
	assert_true(used > (EV_LINE_MAX - 200) / 6 && used < sizeof(ctl));
	/* Every byte taken is in the line, escaped: six bytes each. */
	assert_non_null(strstr(l, "\\u0001\",\"continued\":true}\n"));
	assert_true(n > used * 6);
	/* Short values are taken whole. */
	ev_begin("log");
	assert_int_equal(ev_strn_part("line", "abc", 3, 20), 3);
	ev_emit();
	assert_non_null(strstr(read_line(), "\"line\":\"abc\"}\n"));
}

static void
test_milli(void **state)
{
	const char *l;

	(void)state;
	ev_begin("m");
	ev_milli("a", 2000);
	ev_milli("b", 250);
	ev_milli("c", 1005);
	ev_milli("d", -3000);
	ev_emit();
	l = read_line();
	assert_non_null(strstr(l, "\"a\":2,\"b\":0.25,\"c\":1.005,\"d\":-3}"));
}

/* Integers as "%lld" writes them, at both ends. */
static void
test_int(void **state)
{
	const char *l;

	(void)state;
	ev_begin("i");
	ev_int("z", 0);
	ev_int("m", -1);
	ev_int("big", LLONG_MAX);
	ev_int("small", LLONG_MIN);
	ev_int("p", 1234567890);
	ev_emit();
	l = read_line();
	assert_non_null(strstr(l,
	    "\"z\":0,\"m\":-1,\"big\":9223372036854775807,"
	    "\"small\":-9223372036854775808,\"p\":1234567890}"));
}

static void
test_bad_destinations(void **state)
{
	(void)state;
	assert_int_equal(events_open("fd:"), -EINVAL);
	assert_int_equal(events_open("fd:x"), -EINVAL);
	assert_int_equal(events_open("file:"), -EINVAL);
	assert_int_equal(events_open("syslog"), -EINVAL);
	assert_int_equal(events_open("file:/nonexistent/dir/x"), -ENOENT);
}

/* The same builder makes bare objects (the control socket's answers). */
static void
test_json_object(void **state)
{
	char big[600];
	const char *j;
	size_t n;

	(void)state;
	json_begin(1024);
	ev_bool("ready", false);
	ev_str("phase", "running");
	ev_arr_begin("services");
	ev_obj_begin(NULL);
	ev_str("name", "a\"b");
	ev_null("last_exit");
	ev_obj_end();
	ev_obj_begin(NULL);
	ev_obj_begin("last_exit");
	ev_int("code", 3);
	ev_obj_end();
	ev_obj_end();
	ev_arr_end();
	j = json_end(&n);
	assert_non_null(j);
	assert_int_equal(n, strlen(j));
	assert_string_equal(j,
	    "{\"ready\":false,\"phase\":\"running\",\"services\":[{\"name\":"
	    "\"a\\\"b\",\"last_exit\":null},{\"last_exit\":{\"code\":3}}]}\n");
	/* What does not fit in max_len is no answer at all. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	json_begin(512);
	ev_str("error", big);
	assert_null(json_end(&n));
	assert_true(n <= 512);
	/* The next event line starts clean, with its full size. */
	json_begin(64);
	ev_str("error", "short");
	assert_string_equal(json_end(&n), "{\"error\":\"short\"}\n");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_plain),
		cmocka_unit_test(test_json_object),
		cmocka_unit_test(test_escape_specials),
		cmocka_unit_test(test_escape_utf8_valid),
		cmocka_unit_test(test_escape_utf8_invalid),
		cmocka_unit_test(test_escape_cut_on_boundary),
		cmocka_unit_test(test_ts_format),
		cmocka_unit_test_setup(test_line_format, setup_pipe),
		cmocka_unit_test(test_huge_value_is_cut_but_valid),
		cmocka_unit_test(test_part_value_leaves_room),
		cmocka_unit_test(test_milli),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_bad_destinations),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
