/*
 * Unit tests of the configuration file: every kind of key, and one
 * FILE:LINE error for every class of mistake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <unistd.h>

#include "../../core/config.c"
#include "../../core/file.c"
#include "../../supervisor/sandbox.c"
#include "../../core/values.c"

static char path[64];
static char err[512];

static int
load(const char *text, struct config *c)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/agent-init-test-%d.conf",
	    (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	err[0] = 0;
	config_set_policy_check(sandbox_policy_check);
	return config_load(path, c, err, sizeof(err));
}

static int
cleanup(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* The error names the file and the line, then what is wrong. */
static void
assert_error(int line, const char *what)
{
	char prefix[96];

	snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what) ||
	    strchr(err, '\n'))
		fail_msg("got \"%s\", want line %d and \"%s\"", err, line,
		    what);
}

/* struct config is large (every service's buffers): not on the stack. */
static struct config c;

static void
test_good(void **state)
{
	const struct service_conf *d, *a;

	(void)state;
	assert_int_equal(load("; comment\n# comment\n[init]\n"
	                      "events = file:/tmp/ev.log ; inline\n"
	                      "stop_timeout = 3s\noutput = json\n"
	                      "ready_file = /run/r\nchecks = enforce\n"
	                      "check_timeout = 500ms\n"
	                      "[service dockerd]\n"
	                      "command = dockerd --host=unix:///x.sock\n"
	                      "ready = notify\n"
	                      "ready = unix-http:/x.sock:/_ping\n"
	                      "restart = always\nbackoff = 100ms..30s\n"
	                      "max_restarts = 10/5m\nstop_signal = INT\n"
	                      "required = yes\n"
	                      "[service agent]\n"
	                      "command = node \"/app/my agent.js\" --x\n"
	                      "after = dockerd\nready = log:Gateway up\n"
	                      "ready = http:127.0.0.1:8080/healthz\n"
	                      "ready = tcp:localhost:9\nmain = yes\n"
	                      "env = A=1 B=\"two words\"\nenv = C=\n"
	                      "umask = 027\nuser = agent\n"
	                      "capabilities = net_bind_service CAP_CHOWN\n"
	                      "rlimit_nofile = 1024\nrlimit_core = infinity\n"
	                      "tail_lines = 5\nmax_runtime = 1h\n"
	                      "kill_group = no\nseccomp = default\n"
	                      "[check resolver]\nquery = example.com\n"
	                      "[check tcp:gateway]\ntarget = gw.internal:8080\n"
	                      "required = yes\n",
	                     &c),
	    0);
	assert_string_equal(c.events, "file:/tmp/ev.log");
	assert_int_equal(c.output, OUTPUT_JSON);
	assert_true(c.stop_timeout_set);
	assert_int_equal(c.stop_timeout_ms, 3000);
	assert_int_equal(c.checks, CHECKS_ENFORCE);
	assert_int_equal(c.check_timeout_ms, 500);
	assert_int_equal(c.nservices, 2);
	d = config_service(&c, "dockerd");
	assert_non_null(d);
	assert_int_equal(d->nready, 2);
	assert_int_equal(d->ready[0].kind, PROBE_NOTIFY);
	assert_int_equal(d->ready[1].kind, PROBE_UNIX_HTTP);
	assert_string_equal(d->ready[1].target, "/x.sock");
	assert_string_equal(d->ready[1].path, "/_ping");
	assert_int_equal(d->restart, RESTART_ALWAYS);
	assert_int_equal(d->max_restarts, 10);
	assert_int_equal(d->restart_window_ms, 300000);
	assert_int_equal(d->stop_signal, SIGINT);
	assert_true(d->required);
	a = config_service(&c, "agent");
	assert_non_null(a);
	assert_true(a->main);
	assert_int_equal(a->nafter, 1);
	assert_string_equal(a->after[0], "dockerd");
	assert_int_equal(a->ready[1].kind, PROBE_HTTP);
	assert_string_equal(a->ready[1].target, "127.0.0.1");
	assert_int_equal(a->ready[1].port, 8080);
	assert_string_equal(a->ready[1].path, "/healthz");
	assert_int_equal(a->ready[2].port, 9);
	assert_string_equal(a->env, "A=1 B=\"two words\" C=");
	assert_int_equal(a->umask, 027);
	assert_true(a->rlimit_core.set);
	assert_int_equal(a->rlimit_core.value, UINT64_MAX);
	assert_int_equal(a->tail_lines, 5);
	assert_false(a->kill_group);
	/* defaults */
	assert_int_equal(d->tail_lines, 50);
	assert_true(d->kill_group);
	assert_int_equal(d->umask, -1);
	/* No signal_map, no success_exit_codes: nothing rewritten. */
	assert_int_equal(value_sigmap_apply(&d->signal_map, SIGTERM), SIGTERM);
	assert_false(value_codes_has(&d->success_codes, 3));
	assert_int_equal(c.nchecks, 2);
	assert_string_equal(c.checks_list[1].type, "tcp");
	assert_string_equal(c.checks_list[1].name, "gateway");
	assert_int_equal(load("", &c), 0);
	assert_false(c.stop_timeout_set);
	assert_int_equal(c.nservices, 0);
}

static void
test_compat_keys(void **state)
{
	const struct service_conf *a;

	(void)state;
	assert_int_equal(load("[service a]\ncommand = x\n"
	                      "signal_map = TERM:QUIT WINCH:0\n"
	                      "success_exit_codes = 3 143\n",
	                     &c),
	    0);
	a = config_service(&c, "a");
	assert_non_null(a);
	assert_int_equal(value_sigmap_apply(&a->signal_map, SIGTERM), SIGQUIT);
	assert_int_equal(value_sigmap_apply(&a->signal_map, SIGWINCH), 0);
	assert_int_equal(value_sigmap_apply(&a->signal_map, SIGHUP), SIGHUP);
	assert_true(value_codes_has(&a->success_codes, 3));
	assert_true(value_codes_has(&a->success_codes, 143));
	assert_false(value_codes_has(&a->success_codes, 0));
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		int line;
		const char *what;
	} cases[] = {
		{ "[service a]\ncommand = x\nno_new_privs = yese\n", 3,
		    "no_new_privs: 'yese' is not a boolean" },
		{ "[service a]\ncommand = x\nseccomp = /nonexistent/policy\n",
		    3,
		    "seccomp: /nonexistent/policy: cannot open seccomp policy" },
		{ "[init]\nstop_timeout = 3x\n", 2,
		    "stop_timeout: '3x' is not a positive duration" },
		{ "[init]\nevents = syslog\n", 2, "events" },
		{ "[init]\noutput = fancy\n", 2, "output" },
		{ "[init]\nchecks = maybe\n", 2, "checks" },
		{ "[init]\nready_file = relative\n", 2, "absolute path" },
		{ "\n\n[init]\nbogus = 1\n", 4, "unknown key 'bogus'" },
		{ "[init]\n[nope]\n", 2, "unknown section [nope]" },
		{ "key = value\n", 1, "outside of any section" },
		{ "[init]\nthis is not ini\n", 2, "syntax error" },
		{ "[init\n", 1, "syntax error" },
		{ "[service a]\ncommand = x\nbogus = 1\n", 3,
		    "unknown key 'bogus' in [service a]" },
		{ "[service a]\ncommand = x\n[service a]\ncommand = y\n", 3,
		    "duplicate service 'a'" },
		{ "[service a b]\ncommand = x\n", 1, "service name" },
		{ "[service a]\n\nrestart = always\n", 1, "has no command" },
		{ "[service a]\ncommand = echo 'oops\n", 2,
		    "unterminated single quote" },
		{ "[service a]\ncommand = x\nafter = nobody\n", 3,
		    "no service named 'nobody'" },
		{ "[service a]\ncommand = x\nafter = a\n", 3, "itself" },
		{ "[service a]\ncommand = x\nafter = b\n"
		  "[service b]\ncommand = y\nafter = a\n",
		    3, "dependency cycle" },
		{ "[service a]\ncommand = x\nmain = yes\n"
		  "[service b]\ncommand = y\nmain = yes\n",
		    4, "second main service" },
		{ "[service a]\ncommand = x\nready = bogus\n", 3,
		    "not a probe" },
		{ "[service a]\ncommand = x\nready = tcp:host\n", 3,
		    "tcp:HOST:PORT" },
		{ "[service a]\ncommand = x\nready = http:h:99999/\n", 3,
		    "http:HOST:PORT" },
		{ "[service a]\ncommand = x\nready = unix-http:rel:/p\n", 3,
		    "unix-http" },
		{ "[service a]\ncommand = x\nrestart = sometimes\n", 3,
		    "restart" },
		{ "[service a]\ncommand = x\nsignal_map = TERM\n", 3,
		    "signal_map: 'TERM' is not FROM:TO pairs" },
		{ "[service a]\ncommand = x\nsignal_map = KILL:TERM\n", 3,
		    "signal_map" },
		{ "[service a]\ncommand = x\nsuccess_exit_codes = 3 256\n", 3,
		    "success_exit_codes: '3 256' is not exit codes" },
		{ "[service a]\ncommand = x\nsuccess_exit_codes =\n", 3,
		    "success_exit_codes" },
		{ "[service a]\ncommand = x\nbackoff = 5s..1s\n", 3,
		    "backoff" },
		{ "[service a]\ncommand = x\nmax_restarts = 10\n", 3,
		    "N/DURATION" },
		{ "[service a]\ncommand = x\nstop_signal = NOPE\n", 3,
		    "signal" },
		{ "[service a]\ncommand = x\nenv = 1A=x\n", 3, "NAME=VALUE" },
		{ "[service a]\ncommand = x\numask = 999\n", 3, "octal" },
		{ "[service a]\ncommand = x\ncapabilities = cap_bogus\n", 3,
		    "unknown capability" },
		{ "[service a]\ncommand = x\nseccomp = strict\n", 3,
		    "seccomp" },
		{ "[service a]\ncommand = x\ntail_lines = 5000\n", 3,
		    "tail_lines" },
		{ "[service a]\ncommand = x\nrlimit_nofile = lots\n", 3,
		    "rlimit_nofile" },
		{ "[check bogus]\n", 1, "unknown check type" },
		{ "[check resolver]\ntarget = x:1\n", 2,
		    "unknown key 'target' in [check resolver]" },
		{ "[check tcp:gw]\ntimeout = 1s\n", 1, "needs target" },
		{ "[check tcp:gw]\ntarget = nope\n", 2, "HOST:PORT" },
		{ "[check proxy]\n[check proxy]\n", 2, "duplicate check" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (load(cases[i].text, &c) != -EINVAL)
			fail_msg("case %zu (%s) was accepted", i,
			    cases[i].text);
		assert_error(cases[i].line, cases[i].what);
	}
}

static void
test_long_line(void **state)
{
	static char text[17100];

	(void)state;
	/* A line past inih's 16 KiB buffer is refused, never split. */
	snprintf(text, sizeof(text), "[init]\nevents = file:/%017000d\n", 0);
	assert_int_equal(load(text, &c), -EINVAL);
	assert_error(2, "line longer than");
	/* The rest of the long line is not taken for a line of its own. */
	snprintf(text, sizeof(text), "[init]\n; %017000d\nstop_timeout = 1s\n",
	    0);
	assert_int_equal(load(text, &c), -EINVAL);
	assert_error(2, "line longer than");
	/* A long comment line within the buffer is fine. */
	snprintf(text, sizeof(text), "[init]\n; %0300d\nstop_timeout = 1s\n",
	    0);
	assert_int_equal(load(text, &c), 0);
}

static void
test_missing_file(void **state)
{
	(void)state;
	assert_int_equal(
	    config_load("/nonexistent/agent-init.conf", &c, err, sizeof(err)),
	    -ENOENT);
	assert_string_equal(err,
	    "/nonexistent/agent-init.conf: No such file or directory");
}

/* One parser for `checks`, the key and AGENT_INIT_CHECKS alike. */
static void
test_parse_checks(void **state)
{
	enum checks_mode m = CHECKS_OFF;

	(void)state;
	assert_int_equal(config_parse_checks("warn", &m), 0);
	assert_int_equal(m, CHECKS_WARN);
	assert_int_equal(config_parse_checks("enforce", &m), 0);
	assert_int_equal(m, CHECKS_ENFORCE);
	assert_int_equal(config_parse_checks("off", &m), 0);
	assert_int_equal(m, CHECKS_OFF);
	m = CHECKS_WARN;
	assert_int_equal(config_parse_checks("Enforce", &m), -EINVAL);
	assert_int_equal(config_parse_checks("", &m), -EINVAL);
	assert_int_equal(config_parse_checks("offf", &m), -EINVAL);
	assert_int_equal(m, CHECKS_WARN); /* untouched on an error */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_good, cleanup),
		cmocka_unit_test_teardown(test_compat_keys, cleanup),
		cmocka_unit_test_teardown(test_errors, cleanup),
		cmocka_unit_test_teardown(test_long_line, cleanup),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parse_checks),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
