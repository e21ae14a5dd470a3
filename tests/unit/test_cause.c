/*
 * Unit tests of a crash's cause (supervisor/cause.c) and the crash-loop
 * count (supervisor/crash.c): which lines are error-like, the ring, the
 * last error-like line, cleaning (credentials, colours, the 300-byte cut
 * at a character boundary), the comparison without numbers, dockerd's
 * known fatal lines, and giving up on the same cause.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/sink.c"
#include "../../supervisor/cause.c"
#include "../../supervisor/crash.c"

static bool
err(const char *line)
{
	return cause_is_error(line, strlen(line));
}

static void
test_error_like(void **state)
{
	(void)state;
	/* What the runtimes and loggers print when they give up. */
	assert_true(
	    err("failed to start daemon: Devices cgroup isn't mounted"));
	assert_true(err("time=\"2026-12-06T21:37:27Z\" level=fatal msg=\"x\""));
	assert_true(err("level=error msg=\"cannot connect\""));
	assert_true(err("{\"level\":\"error\",\"msg\":\"boom\"}"));
	assert_true(err("{\"level\": \"fatal\", \"msg\": \"boom\"}"));
	assert_true(err("panic: runtime error: index out of range [3]"));
	assert_true(err("fatal error: all goroutines are asleep - deadlock!"));
	assert_true(err("Error: Cannot find module '/app/agent.js'"));
	assert_true(err("TypeError: fetch failed"));
	assert_true(err("ValueError: invalid literal for int()"));
	assert_true(err("npm ERR! code ELIFECYCLE"));
	assert_true(err("java.lang.IllegalStateException: closed"));
	assert_true(err("FATAL: password authentication failed"));
	assert_true(err("git: fatal: not a git repository"));
	/* A line that names a lower level of its own is no error. */
	assert_false(err("time=\"x\" level=info msg=\"skip plugin\" "
	                 "error=\"aufs is not supported\""));
	assert_false(err("level=warning msg=\"failed to load plugin\""));
	assert_false(err("{\"level\":\"info\",\"msg\":\"Error: none\"}"));
	/* Ordinary lines. */
	assert_false(err("Gateway listening on :8080"));
	assert_false(err("0 errors, 0 warnings"));
	assert_false(err(""));
}

static void
test_ring(void **state)
{
	char buf[8];
	struct cause_ring r;

	(void)state;
	cause_ring_init(&r, buf, sizeof(buf));
	cause_ring_add(&r, "abc", 3);
	assert_int_equal(r.len, 3);
	cause_ring_add(&r, "defgh", 5);
	assert_int_equal(r.len, 8);
	assert_int_equal(r.head, 0);
	cause_ring_add(&r, "ij", 2); /* wraps: oldest two fall out */
	assert_int_equal(r.len, 8);
	assert_memory_equal(buf, "ijcdefgh", 8);
	cause_ring_add(&r, "0123456789", 10); /* more than it holds */
	assert_memory_equal(buf, "23456789", 8);
	assert_int_equal(r.head, 0);
	cause_ring_reset(&r);
	assert_int_equal(r.len, 0);
	/* Uncaptured: no buffer, nothing kept, never a crash. */
	cause_ring_init(&r, NULL, 123);
	cause_ring_add(&r, "abc", 3);
	assert_int_equal(r.len, 0);
}

static size_t
find_in(const char *text, char *out)
{
	static char buf[CAUSE_RING];
	struct cause_ring r;

	cause_ring_init(&r, buf, sizeof(buf));
	cause_ring_add(&r, text, strlen(text));
	return cause_find(&r, out, CAUSE_BUF);
}

static void
test_find(void **state)
{
	char out[CAUSE_BUF];

	(void)state;
	/* dockerd under gVisor: its last line, after 50 of level=info. */
	assert_true(find_in("level=info msg=\"a\"\nlevel=error msg=\"early\"\n"
	                    "level=info msg=\"b\" error=\"x\"\n"
	                    "failed to start daemon: Devices cgroup isn't "
	                    "mounted\n",
	                out) > 0);
	assert_string_equal(out,
	    "failed to start daemon: Devices cgroup isn't mounted");
	/* The last error-like line, not the last line: a Node stack. */
	find_in("Error: connect ECONNREFUSED 127.0.0.1:8080\n"
	        "    at TCPConnectWrap.afterConnect (node:net:1555:16)\n"
	        "    at x (/app/a.js:1:1)\n",
	    out);
	assert_string_equal(out, "Error: connect ECONNREFUSED 127.0.0.1:8080");
	/* No newline at the end, blank lines, CRLF. */
	find_in("panic: boom\r\n\n\n", out);
	assert_string_equal(out, "panic: boom");
	find_in("x\nfatal: no", out);
	assert_string_equal(out, "fatal: no");
	/* Nothing error-like: no cause. */
	assert_int_equal(find_in("starting\nlistening\n", out), 0);
	assert_string_equal(out, "");
	assert_int_equal(find_in("", out), 0);
}

static void
test_find_in_a_wrapped_ring(void **state)
{
	static char buf[64];
	char out[CAUSE_BUF];
	struct cause_ring r;
	int i;

	(void)state;
	cause_ring_init(&r, buf, sizeof(buf));
	cause_ring_add(&r, "Error: old and gone\n", 20);
	for (i = 0; i < 10; i++)
		cause_ring_add(&r, "info line\n", 10);
	/* The error fell out of the ring: nothing is found. */
	assert_int_equal(cause_find(&r, out, sizeof(out)), 0);
	cause_ring_add(&r, "Error: across the end\n", 22);
	cause_ring_add(&r, "ok\n", 3);
	assert_true(cause_find(&r, out, sizeof(out)) > 0);
	assert_string_equal(out, "Error: across the end");
}

static void
clean(const char *line, char *out)
{
	cause_clean(line, strlen(line), out, CAUSE_BUF);
}

static void
test_clean(void **state)
{
	char out[CAUSE_BUF], line[600];
	size_t n, i;

	(void)state;
	clean("  \tError: x  \r\n", out);
	assert_string_equal(out, "Error: x");
	/* Credentials in URLs, as proxies show them; a path's @ stays. */
	clean("failed to dial http://u:p%40ss@proxy:3128/x and "
	      "https://tok@git.test/a@b.git",
	    out);
	assert_string_equal(out,
	    "failed to dial http://***@proxy:3128/x and "
	    "https://***@git.test/a@b.git");
	clean("Error: see http://host/a@b", out);
	assert_string_equal(out, "Error: see http://host/a@b");
	/* A userinfo that runs past what is read is masked all the same. */
	{
		static char big[CAUSE_RING + 100];

		memset(big, 'x', sizeof(big));
		memcpy(big, "Error: http://u:", 16);
		cause_clean(big, sizeof(big), out, sizeof(out));
		assert_string_equal(out, "Error: http://***");
	}
	/* Colours and control characters. */
	clean("\x1b[31mERROR\x1b[0m\tbad\x01x", out);
	assert_string_equal(out, "ERROR bad x");
	/* At most 300 bytes, never inside a UTF-8 character. */
	memset(line, 'a', sizeof(line));
	memcpy(line + 299, "\xc3\xa9", 2); /* é across the limit */
	n = cause_clean(line, sizeof(line), out, sizeof(out));
	assert_int_equal(n, 299);
	assert_int_equal(strlen(out), 299);
	memcpy(line + 298, "\xe2\x82\xac", 3); /* a 3-byte € at the end */
	n = cause_clean(line, 301, out, sizeof(out));
	assert_int_equal(n, 298);
	for (i = 0; i < sizeof(line); i++)
		line[i] = (char)('a' + i % 26);
	n = cause_clean(line, sizeof(line), out, sizeof(out));
	assert_int_equal(n, CAUSE_MAX);
	/* A small buffer: cut again, still a whole character. */
	n = cause_clean("ab\xc3\xa9", 4, out, 4);
	assert_string_equal(out, "ab");
	assert_int_equal(n, 2);
}

static void
test_same(void **state)
{
	char out[CAUSE_BUF];

	(void)state;
	/* Timestamps, pids, addresses and ids aside, the same crash. */
	assert_true(cause_same(
	    "time=\"2026-12-06T21:35:51.4Z\" level=fatal msg=\"pid 17\"",
	    "time=\"2026-12-06T21:37:27.9Z\" level=fatal msg=\"pid 231\""));
	assert_true(cause_same("failed to start container 3f2a1b9c0d11",
	    "failed to start container 9e8d7c6b5a40"));
	assert_true(cause_same("panic: at 0x1f3a", "panic: at 0x77"));
	assert_false(cause_same("Error: disk full", "Error: out of memory"));
	/* Words made of hex letters are words ("added", "bad"). */
	assert_false(cause_same("Error: added", "Error: faded"));
	/* An empty cause never matches: a silent crash is no loop. */
	assert_false(cause_same("", ""));
	assert_false(cause_same("Error: x", ""));
	cause_normalize("pid 1234 at 0xdeadbeef in Devices", out, sizeof(out));
	assert_string_equal(out, "pid  at  in Devices");
}

static void
assert_hint(const char *line, const char *missing, const char *want)
{
	char buf[CAUSE_HINT_MAX];

	assert_true(cause_dockerd_hint(line, missing, buf, sizeof(buf)));
	if (!strstr(buf, want))
		fail_msg("hint for '%s' lacks '%s': %s", line, want, buf);
}

static void
test_dockerd_hints(void **state)
{
	char buf[CAUSE_HINT_MAX];

	(void)state;
	assert_hint("failed to start daemon: Devices cgroup isn't mounted", "",
	    "runsc with cgroup support");
	assert_hint("failed to start daemon: Error initializing network "
	            "controller: error obtaining controller instance: failed "
	            "to create NAT chain DOCKER: iptables failed",
	    "", "--iptables=false");
	assert_hint("failed to start daemon: error initializing graphdriver: "
	            "driver not supported",
	    "", "--storage-driver=vfs");
	assert_hint("failed to start daemon: pid file found, ensure docker is "
	            "not running or delete /var/run/docker.pid",
	    "", "stale");
	assert_hint("failed to listen on unix:///var/run/docker.sock: address "
	            "already in use",
	    "", "another dockerd");
	assert_hint("failed to mount overlay: operation not permitted", "",
	    "storage driver");
	assert_hint("failed to create /var/lib/docker: permission denied",
	    "SYS_ADMIN NET_ADMIN", "lacks SYS_ADMIN NET_ADMIN");
	assert_hint("mkdir /sys/fs/x: operation not permitted", "",
	    "agent-init has all of them");
	assert_hint("cannot execute 'dockerd': No such file or directory", "",
	    "docker.io");
	assert_false(
	    cause_dockerd_hint("Error: something else", "", buf, sizeof(buf)));
	assert_string_equal(buf, "");
	assert_false(cause_dockerd_hint("", "", buf, sizeof(buf)));
}

static void
end_with(struct svc_crash *c, const char *text, bool crashed, bool ready)
{
	static char buf[CAUSE_RING];
	struct cause_ring r;

	cause_ring_init(&r, buf, sizeof(buf));
	cause_ring_add(&r, text, strlen(text));
	crash_end(c, &r, crashed, ready);
}

static void
test_crash_loop(void **state)
{
	struct svc_crash c;
	char reason[256];

	(void)state;
	memset(&c, 0, sizeof(c));
	c.limit = 3;
	snprintf(reason, sizeof(reason), "exited with code 1");
	end_with(&c, "Error: boom (pid 10)\n", true, false);
	assert_false(crash_loop(&c, reason, sizeof(reason)));
	end_with(&c, "Error: boom (pid 12)\n", true, false);
	assert_false(crash_loop(&c, reason, sizeof(reason)));
	end_with(&c, "Error: boom (pid 14)\n", true, false);
	assert_true(crash_loop(&c, reason, sizeof(reason)));
	assert_non_null(strstr(reason, "3 times in a row"));
	assert_non_null(strstr(reason, "last run: exited with code 1"));
	assert_string_equal(c.cause, "Error: boom (pid 14)");
	/* Another cause starts the count again. */
	end_with(&c, "Error: other\n", true, false);
	assert_int_equal(c.same, 1);
	/* A silent end breaks it, and keeps the normal policy. */
	end_with(&c, "Error: other\n", true, false);
	end_with(&c, "nothing to see\n", true, false);
	assert_int_equal(c.same, 0);
	assert_string_equal(c.cause, "");
	/* Once ready, crash loops are the restart budget's business. */
	end_with(&c, "Error: x\n", true, true);
	end_with(&c, "Error: x\n", true, true);
	end_with(&c, "Error: x\n", true, true);
	assert_false(crash_loop(&c, reason, sizeof(reason)));
	/* An end agent-init asked for has no cause. */
	end_with(&c, "Error: x\n", false, false);
	assert_string_equal(c.cause, "");
	/* 0: off. */
	c.limit = 0;
	end_with(&c, "Error: y\n", true, false);
	end_with(&c, "Error: y\n", true, false);
	end_with(&c, "Error: y\n", true, false);
	assert_false(crash_loop(&c, reason, sizeof(reason)));
	/* The preset's hint comes with its cause. */
	memset(&c, 0, sizeof(c));
	c.dockerd = true;
	end_with(&c, "failed to start daemon: Devices cgroup isn't mounted\n",
	    true, false);
	assert_non_null(strstr(c.hint, "cgroup"));
	end_with(&c, "Error: unknown\n", true, false);
	assert_string_equal(c.hint, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_like),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_in_a_wrapped_ring),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_dockerd_hints),
		cmocka_unit_test(test_crash_loop),
	};

	return cmocka_run_group_tests_name("cause", tests, NULL, NULL);
}
