/*
 * Unit tests of the pure parts of the probes: HTTP status lines, sd_notify
 * datagrams, `ready =` and `health =` values; of the output tail; and of
 * health checks (probe_check) with the real loop, against the loopback
 * and /bin/true, /bin/false, /bin/sleep.
 */
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
#include "../../core/logring.c"
#include "../../supervisor/cause.c"
#include "../../supervisor/output.c"
#include "../../core/resolvconf.c"
#include "../../supervisor/probe.c"
#include "../../supervisor/spawn.c"

/* The OOM watch is not under test here. */
#include "oomwatch.h"

void
oomwatch_sigkill(pid_t pid, pid_t pgid)
{
	(void)pid;
	(void)pgid;
}

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
	assert_string_equal(pc.host, "/run/d.sock");
	assert_string_equal(pc.arg, "/v1/_ping");
	assert_null(config_probe_parse("http://[::1]:80", &pc));
	assert_string_equal(pc.host, "::1");
	assert_int_equal(pc.port, 80);
	assert_string_equal(pc.arg, "/");
	assert_null(config_probe_parse("log:a: b", &pc));
	assert_string_equal(pc.arg, "a: b");
	assert_null(config_probe_parse("exec:test -e '/x y'", &pc));
	assert_non_null(config_probe_parse("exec:echo 'x", &pc));
	assert_non_null(config_probe_parse("file:relative", &pc));
	assert_non_null(config_probe_parse("tcp:h:0", &pc));
	assert_non_null(config_probe_parse("log:", &pc));
	assert_non_null(config_probe_parse("Started", &pc));
}

static void
test_notify_liveness(void **state)
{
	struct notify_msg m;

	(void)state;
	notify_parse("WATCHDOG=1", 10, &m);
	assert_true(m.watchdog);
	assert_false(m.watchdog_trigger);
	assert_false(m.ready);
	notify_parse("STATUS=busy\nWATCHDOG=trigger\n", 29, &m);
	assert_true(m.watchdog_trigger);
	assert_false(m.watchdog);
	assert_string_equal(m.status, "busy");
	/* WATCHDOG=0, WATCHDOG=10 are not WATCHDOG=1 */
	notify_parse("WATCHDOG=0\nWATCHDOG=10\nWATCHDOG=", 33, &m);
	assert_false(m.watchdog);
	notify_parse("EXTEND_TIMEOUT_USEC=5000000", 27, &m);
	assert_true(m.has_extend);
	assert_int_equal(m.extend_usec, 5000000);
	notify_parse("EXTEND_TIMEOUT_USEC=18446744073709551615", 40, &m);
	assert_true(m.has_extend);
	assert_true(m.extend_usec == UINT64_MAX);
	/* too big, not a number, empty, signed: ignored */
	notify_parse("EXTEND_TIMEOUT_USEC=18446744073709551616", 40, &m);
	assert_false(m.has_extend);
	notify_parse("EXTEND_TIMEOUT_USEC=5s", 22, &m);
	assert_false(m.has_extend);
	notify_parse("EXTEND_TIMEOUT_USEC=", 20, &m);
	assert_false(m.has_extend);
	notify_parse("EXTEND_TIMEOUT_USEC=-1", 22, &m);
	assert_false(m.has_extend);
	/* the last of several counts, as a later line would */
	notify_parse("EXTEND_TIMEOUT_USEC=1\nEXTEND_TIMEOUT_USEC=2", 43, &m);
	assert_int_equal(m.extend_usec, 2);
}

static void
test_health_values(void **state)
{
	struct probe_conf pc;
	char buf[512];

	(void)state;
	assert_null(config_health_parse("http://127.0.0.1:8080/healthz", &pc));
	assert_int_equal(pc.kind, PROBE_HTTP);
	probe_describe(&pc, buf, sizeof(buf));
	assert_string_equal(buf, "http:127.0.0.1:8080/healthz");
	assert_null(config_health_parse("tcp:[::1]:53", &pc));
	probe_describe(&pc, buf, sizeof(buf));
	assert_string_equal(buf, "tcp:[::1]:53");
	assert_null(config_health_parse("unix-http:/run/d.sock:/_ping", &pc));
	probe_describe(&pc, buf, sizeof(buf));
	assert_string_equal(buf, "unix-http:/run/d.sock:/_ping");
	assert_null(config_health_parse("file:/run/alive", &pc));
	probe_describe(&pc, buf, sizeof(buf));
	assert_string_equal(buf, "file:/run/alive");
	assert_null(config_health_parse("exec:pg_isready -q", &pc));
	probe_describe(&pc, buf, sizeof(buf));
	assert_string_equal(buf, "exec:pg_isready -q");
	/* what cannot fail, or happens only once */
	assert_non_null(strstr(config_health_parse("started", &pc), "always"));
	assert_non_null(strstr(config_health_parse("log:up", &pc), "once"));
	assert_non_null(strstr(config_health_parse("notify", &pc), "watchdog"));
	assert_non_null(
	    strstr(config_health_parse("gopher:x", &pc), "not a health probe"));
	assert_non_null(config_health_parse("tcp:h:0", &pc));
}

/* --- health checks with the real loop ------------------------------------ */

static int check_result; /* 1 passed, -1 failed, 0 not yet */

static void
check_done(void *data)
{
	(void)data;
	check_result = 1;
}

static void
check_fail(void *data)
{
	(void)data;
	check_result = -1;
}

/* Run the loop until the check is over (the exec child reaped here). */
static int
run_check(struct probe *p, const char *value, uint64_t timeout_ms)
{
	static struct probe_conf pc;
	int st;

	assert_null(config_health_parse(value, &pc));
	check_result = 0;
	probe_check(p, &pc, timeout_ms, check_done, check_fail, NULL);
	while (!check_result) {
		pid_t pid = p->exec_pid;

		/* A child that exits in time is reaped before the deadline:
		 * wait for it here, as PID 1's reaper would. */
		if (pid > 0 && timeout_ms > 1000) {
			assert_int_equal(waitpid(pid, &st, 0), pid);
			assert_true(probe_on_exit(p, pid, st));
			continue;
		}
		assert_true(loop_run_once() >= 0);
	}
	return check_result;
}

static void
test_checks(void **state)
{
	struct probe p;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	char path[64], value[96];
	int lfd, st;
	pid_t pid;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.io.fd = -1;
	assert_int_equal(loop_init(), 0);
	/* file */
	snprintf(path, sizeof(path), "/tmp/agent-init-probe-%d", (int)getpid());
	(void)unlink(path);
	snprintf(value, sizeof(value), "file:%s", path);
	assert_int_equal(run_check(&p, value, 1000), -1);
	assert_non_null(strstr(p.detail, "does not exist"));
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	assert_int_equal(run_check(&p, value, 1000), 1);
	(void)unlink(path);
	/* a listener that never answers: connected, but no HTTP reply */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(value, sizeof(value), "tcp:127.0.0.1:%d", ntohs(sa.sin_port));
	assert_int_equal(run_check(&p, value, 1000), 1);
	snprintf(value, sizeof(value), "http:127.0.0.1:%d/",
	    ntohs(sa.sin_port));
	assert_int_equal(run_check(&p, value, 100), -1);
	assert_string_equal(p.detail, "no HTTP reply within 100 ms");
	assert_int_equal(p.io.fd, -1); /* its socket is closed */
	close(lfd);
	/* nobody there now: refused */
	assert_int_equal(run_check(&p, value, 1000), -1);
	assert_non_null(strstr(p.detail, "connect:"));
	/* exec: its status, and a deadline that kills it */
	assert_int_equal(run_check(&p, "exec:/bin/true", 5000), 1);
	assert_int_equal(run_check(&p, "exec:/bin/false", 5000), -1);
	assert_string_equal(p.detail, "exec: exited with status 1");
	assert_int_equal(run_check(&p, "exec:/bin/sleep 30", 100), -1);
	assert_string_equal(p.detail,
	    "exec: still running after 100 ms (killed)");
	assert_int_equal(p.exec_pid, 0);
	/* Killed with its group: what the reaper then finds. */
	pid = waitpid(-1, &st, 0);
	assert_true(pid > 0);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_false(probe_on_exit(&p, pid, st));
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
	free(o.cause.buf);
	free(o.s[0].buf);
	free(o.s[1].buf);
}

static int passed;

static void
on_pass(void *data)
{
	(void)data;
	passed++;
}

/* A log: probe fed pieces: does it pass? */
static bool
feed(const char *text, const char *const *pieces, const int *streams,
    const bool *conts, size_t n)
{
	static struct probe_conf c;
	struct probe p;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.kind = PROBE_LOG;
	c.arg = text;
	memset(&p, 0, sizeof(p));
	p.io.fd = -1;
	passed = 0;
	probe_start(&p, &c, on_pass, NULL);
	for (i = 0; i < n; i++)
		probe_on_line(&p, streams[i], pieces[i], strlen(pieces[i]),
		    conts[i]);
	probe_stop(&p);
	return passed == 1;
}

/* The text across the boundary of two pieces of a long line (at
 * OUTPUT_LINE_MAX): it is found; across two lines or two streams, not. */
static void
test_log_text_across_pieces(void **state)
{
	static const char *const split[] = { "xxxxxxxxREA", "DY-NOWyyy" };
	static const char *const tiny[] = { "xxR", "E", "AD", "Y-", "NO",
		"Wz" };
	static const int s11[] = { 1, 1, 1, 1, 1, 1 }, s12[] = { 1, 2 };
	static const bool cont[] = { false, true, true, true, true, true };
	static const bool lines[] = { false, false };

	(void)state;
	assert_true(feed("READY-NOW", split, s11, cont, 2));
	/* Pieces shorter than the text: the carry grows over several. */
	assert_true(feed("READY-NOW", tiny, s11, cont, 6));
	/* Two separate lines: no match across them. */
	assert_false(feed("READY-NOW", split, s11, lines, 2));
	/* A piece of stderr does not continue stdout's. */
	assert_false(feed("READY-NOW", split, s12, cont, 2));
	/* Whole in one piece, and one-byte texts. */
	assert_true(feed("DY-N", split, s11, cont, 2));
	assert_true(feed("y", split, s11, cont, 2));
	assert_false(feed("q", split, s11, cont, 2));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_status),
		cmocka_unit_test(test_notify_parse),
		cmocka_unit_test(test_probe_values),
		cmocka_unit_test(test_notify_liveness),
		cmocka_unit_test(test_health_values),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_log_text_across_pieces),
		cmocka_unit_test(test_hosts_addr),
	};

	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
