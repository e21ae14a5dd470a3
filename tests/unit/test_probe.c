/*
 * Unit tests of the pure parts of the probes: HTTP status lines, sd_notify
 * datagrams, and `ready =` values; and of the output tail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/config.c"
#include "../../core/file.c"
#include "../../supervisor/sandbox.c"
#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/signals.c"
#include "../../core/sink.c"
#include "../../core/values.c"
#include "../../supervisor/output.c"
#include "../../core/resolvconf.c"
#include "../../supervisor/probe.c"
#include "../../supervisor/spawn.c"

static void
test_http_status(void **state)
{
	(void)state;
	assert_int_equal(http_status("HTTP/1.1 200 OK\r\n", 17), 200);
	assert_int_equal(http_status("HTTP/1.0 204 No Content\r\n", 25), 204);
	assert_int_equal(http_status("HTTP/1.1 503 Busy\r\n", 19), 503);
	/* incomplete, but could still be a reply */
	assert_int_equal(http_status("HTTP/1.1 2", 10), -EAGAIN);
	assert_int_equal(http_status("HTT", 3), -EAGAIN);
	/* not HTTP at all */
	assert_int_equal(http_status("SSH-2.0-OpenSSH\r\n", 17), -EINVAL);
	assert_int_equal(http_status("HTTP/1.1 2x0 OK\r\n", 17), -EINVAL);
	assert_int_equal(http_status("HTTP/1.1 099 Hm\r\n", 17), -EINVAL);
	assert_int_equal(http_status("xx", 2), -EINVAL);
}

static void
test_notify_parse(void **state)
{
	struct notify_msg m;
	char big[300];

	(void)state;
	notify_parse("READY=1", 7, &m);
	assert_true(m.ready);
	assert_false(m.stopping);
	assert_false(m.has_status);
	notify_parse("STATUS=loading images\nREADY=1\n", 30, &m);
	assert_true(m.ready);
	assert_true(m.has_status);
	assert_string_equal(m.status, "loading images");
	notify_parse("STOPPING=1", 10, &m);
	assert_true(m.stopping);
	assert_false(m.ready);
	/* READY=10 is not READY=1; MAINPID and the like are ignored */
	notify_parse("READY=10\nMAINPID=3\nWATCHDOG=1", 29, &m);
	assert_false(m.ready);
	/* a STATUS longer than our field is cut, never overflows */
	memset(big, 'x', sizeof(big));
	memcpy(big, "STATUS=", 7);
	notify_parse(big, sizeof(big), &m);
	assert_true(m.has_status);
	assert_int_equal(strlen(m.status), sizeof(m.status) - 1);
	/* NUL bytes inside a datagram are data, not terminators */
	notify_parse("X\0Y\nREADY=1", 11, &m);
	assert_true(m.ready);
}

static void
test_probe_values(void **state)
{
	struct probe_conf pc;

	(void)state;
	assert_null(config_probe_parse("unix-http:/run/d.sock:/v1/_ping", &pc));
	assert_int_equal(pc.kind, PROBE_UNIX_HTTP);
	assert_string_equal(pc.target, "/run/d.sock");
	assert_string_equal(pc.path, "/v1/_ping");
	assert_null(config_probe_parse("http://[::1]:80", &pc));
	assert_string_equal(pc.target, "::1");
	assert_int_equal(pc.port, 80);
	assert_string_equal(pc.path, "/");
	assert_null(config_probe_parse("log:a: b", &pc));
	assert_string_equal(pc.target, "a: b");
	assert_null(config_probe_parse("exec:test -e '/x y'", &pc));
	assert_non_null(config_probe_parse("exec:echo 'x", &pc));
	assert_non_null(config_probe_parse("file:relative", &pc));
	assert_non_null(config_probe_parse("tcp:h:0", &pc));
	assert_non_null(config_probe_parse("log:", &pc));
	assert_non_null(config_probe_parse("Started", &pc));
}

static void
test_tail(void **state)
{
	struct svc_out o;
	char buf[64];
	char line[OUTPUT_TAIL_WIDTH + 50];
	int i;

	(void)state;
	assert_int_equal(output_setup(&o, "svc", OUTPUT_PREFIX, 3), 0);
	for (i = 1; i <= 5; i++) {
		snprintf(buf, sizeof(buf), "line %d", i);
		tail_add(&o, buf, strlen(buf));
	}
	/* the newest three, oldest first */
	assert_int_equal(o.tail_count, 3);
	assert_string_equal(tail_line(&o, 0), "line 3");
	assert_string_equal(tail_line(&o, 2), "line 5");
	assert_int_equal(output_tail_text(&o, buf, sizeof(buf)), 21);
	assert_string_equal(buf, "line 3\nline 4\nline 5\n");
	/* a small buffer keeps the newest lines that fit whole */
	assert_int_equal(output_tail_text(&o, buf, 16), 14);
	assert_string_equal(buf, "line 4\nline 5\n");
	assert_int_equal(output_tail_text(&o, buf, 3), 0);
	assert_string_equal(buf, "");
	/* a long line is kept cut to the slot width */
	memset(line, 'y', sizeof(line));
	tail_add(&o, line, sizeof(line));
	assert_int_equal(strlen(tail_line(&o, 2)), OUTPUT_TAIL_WIDTH - 1);
	free(o.tail);
	free(o.s[0].buf);
	free(o.s[1].buf);
}

/* The host of a tcp/http probe, from /etc/hosts (here a file of ours). */
static void
test_hosts_addr(void **state)
{
	char dir[] = "/tmp/agent-init-probe-XXXXXX", path[64], fifo[64];
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (void *)&ss;
	struct sockaddr_in6 *a6 = (void *)&ss;
	char text[64];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/hosts", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# comment\n"
	      "10.1.2.3 gw.test gw # the gateway\n"
	      "fd00::1 six.test\n"
	      "fd00::2 dual.test\n"
	      "10.9.9.9 dual.test\n",
	    f);
	fclose(f);
	hosts_path = path;
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(hosts_addr("GW", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	inet_ntop(AF_INET, &a4->sin_addr, text, sizeof(text));
	assert_string_equal(text, "10.1.2.3");
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(hosts_addr("six.test", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof(text));
	assert_string_equal(text, "fd00::1");
	/* The first line that names it wins, whatever its family. */
	memset(&ss, 0, sizeof(ss));
	assert_int_equal(hosts_addr("dual.test", &ss), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(hosts_addr("nope.test", &ss), -ENOENT);
	assert_int_equal(hosts_addr("", &ss), -ENOENT);
	/* A FIFO planted there is refused at once, never waited on. */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	hosts_path = fifo;
	assert_int_equal(hosts_addr("gw", &ss), -EINVAL);
	hosts_path = dir;
	assert_int_equal(hosts_addr("gw", &ss), -EISDIR);
	hosts_path = "/etc/hosts";
	unlink(fifo);
	unlink(path);
	rmdir(dir);
}

static int passes;

static void
count_pass(void *data)
{
	(void)data;
	passes++;
}

/*
 * A `log:` line read before its probe started (before the exec report)
 * makes that probe pass as soon as it starts; once only, and only for a
 * line that holds the text.
 */
static void
test_log_line_before_start(void **state)
{
	static struct probe p;
	struct probe_conf up, other, file;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.io.fd = -1;
	assert_null(config_probe_parse("log:up", &up));
	assert_null(config_probe_parse("log:listening", &other));
	assert_null(config_probe_parse("file:/nonexistent/x", &file));
	passes = 0;
	probe_early_line(&p, &up, "starting", 8);
	assert_false(p.line_seen);
	probe_early_line(&p, &file, "up", 2); /* not a log probe */
	assert_false(p.line_seen);
	probe_early_line(&p, &up, "it is up now", 12);
	assert_true(p.line_seen);
	probe_start(&p, &up, count_pass, NULL);
	assert_int_equal(passes, 1);
	/* The next log probe waits for a line of its own. */
	probe_start(&p, &other, count_pass, NULL);
	assert_int_equal(passes, 1);
	assert_true(p.active);
	/* A running probe takes lines itself; early lines are ignored. */
	probe_early_line(&p, &other, "listening", 9);
	assert_false(p.line_seen);
	probe_on_line(&p, "now listening", 13);
	assert_int_equal(passes, 2);
	probe_stop(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_status),
		cmocka_unit_test(test_notify_parse),
		cmocka_unit_test(test_probe_values),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_hosts_addr),
		cmocka_unit_test(test_log_line_before_start),
	};

	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
