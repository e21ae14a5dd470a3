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
/* Loaded again and again: config_load() releases the previous load. */
static struct config c;

static int
load_n(const char *text, size_t n, struct config *cfg)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/agent-init-test-%d.conf",
	    (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
	err[0] = 0;
	config_set_policy_check(sandbox_policy_check);
	return config_load(path, cfg, err, sizeof(err));
}

static int
load(const char *text, struct config *cfg)
{
	return load_n(text, strlen(text), cfg);
}

static int
cleanup(void **state)
{
	(void)state;
	unlink(path);
	config_free(&c);
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
	                      "crashloop_limit = 0\n"
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
	assert_string_equal(d->ready[1].host, "/x.sock");
	assert_string_equal(d->ready[1].arg, "/_ping");
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
	assert_string_equal(a->ready[1].host, "127.0.0.1");
	assert_int_equal(a->ready[1].port, 8080);
	assert_string_equal(a->ready[1].arg, "/healthz");
	assert_int_equal(a->ready[1].line, 23);
	assert_int_equal(a->ready[2].port, 9);
	assert_int_equal(a->nenv, 2);
	assert_string_equal(a->env[0], "A=1 B=\"two words\"");
	assert_string_equal(a->env[1], "C=");
	assert_int_equal(a->umask, 027);
	assert_true(a->rlimit_core.set);
	assert_int_equal(a->rlimit_core.value, UINT64_MAX);
	assert_int_equal(a->tail_lines, 5);
	assert_int_equal(a->crashloop_limit, 0);
	assert_false(a->kill_group);
	/* defaults */
	assert_int_equal(d->tail_lines, 50);
	assert_int_equal(d->crashloop_limit, 3);
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
test_liveness(void **state)
{
	const struct service_conf *a, *b;

	(void)state;
	assert_int_equal(load("[service a]\ncommand = x\n"
	                      "health = http:127.0.0.1:8080/healthz\n"
	                      "health = exec:/bin/check --quick\n"
	                      "health_interval = 2s\nhealth_timeout = 500ms\n"
	                      "health_failures = 5\non_unhealthy = ignore\n"
	                      "watchdog = 30s\n"
	                      "[service b]\ncommand = y\n",
	                     &c),
	    0);
	a = config_service(&c, "a");
	assert_int_equal(a->nhealth, 2);
	assert_int_equal(a->health[0].kind, PROBE_HTTP);
	assert_int_equal(a->health[0].port, 8080);
	assert_string_equal(a->health[0].arg, "/healthz");
	assert_int_equal(a->health[1].kind, PROBE_EXEC);
	assert_string_equal(a->health[1].arg, "/bin/check --quick");
	assert_int_equal(a->health_interval_ms, 2000);
	assert_int_equal(a->health_timeout_ms, 500);
	assert_int_equal(a->health_failures, 5);
	assert_int_equal(a->on_unhealthy, UNHEALTHY_IGNORE);
	assert_int_equal(a->watchdog_ms, 30000);
	/* defaults: nothing runs, and what would if asked */
	b = config_service(&c, "b");
	assert_int_equal(b->nhealth, 0);
	assert_int_equal(b->watchdog_ms, 0);
	assert_int_equal(b->health_interval_ms, 10000);
	assert_int_equal(b->health_timeout_ms, 5000);
	assert_int_equal(b->health_failures, 3);
	assert_int_equal(b->on_unhealthy, UNHEALTHY_RESTART);
	assert_int_equal(load("[service a]\ncommand = x\n"
	                      "on_unhealthy = restart\n",
	                     &c),
	    0);
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
		{ "[init]\ncontrol_group = wheel users\n", 2,
		    "control_group: 'wheel users' is not a group" },
		{ "[init]\ncontrol_group = 4294967295\n", 2, "control_group" },
		{ "[init]\nhttp_listen = 8080\n", 2,
		    "http_listen: '8080' is not an address and port" },
		{ "[init]\nhttp_listen = localhost:8080\n", 2, "http_listen" },
		{ "[init]\nhttp_listen = ::1:8080\n", 2, "http_listen" },
		{ "[init]\nhttp_listen = 127.0.0.1:0\n", 2, "http_listen" },
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
		{ "[service a]\ncommand = x\ncrashloop_limit = -1\n", 3,
		    "crashloop_limit" },
		{ "[service a]\ncommand = x\nrlimit_nofile = lots\n", 3,
		    "rlimit_nofile" },
		{ "[check bogus]\n", 1, "unknown check type" },
		{ "[check resolver]\ntarget = x:1\n", 2,
		    "unknown key 'target' in [check resolver]" },
		{ "[check tcp:gw]\ntimeout = 1s\n", 1, "needs target" },
		{ "[check tcp:gw]\ntarget = nope\n", 2, "HOST:PORT" },
		{ "[check proxy]\n[check proxy]\n", 2, "duplicate check" },
		/* issue 13: duplicates, a second [init], continuation lines */
		{ "[service a]\ncommand = x\ncommand = y\n", 3,
		    "duplicate key 'command' (first at /tmp/" },
		{ "[init]\nstop_timeout = 1s\n\nstop_timeout = 2s\n", 4,
		    "duplicate key 'stop_timeout' (first at /tmp/" },
		{ "[check tcp:gw]\ntarget = a:1\ntarget = b:2\n", 3,
		    "duplicate key 'target'" },
		{ "[init]\nchecks = warn\n[service a]\ncommand = x\n"
		  "[init]\nchecks = off\n",
		    5, "a second [init] section (the first is at /tmp/" },
		{ "[service a]\ncommand = x\n  --flag\n", 3,
		    "an indented line after 'command' (line 2): continuation" },
		{ "[service a]\ncommand = x\n\n\tmore = words\n", 4,
		    "an indented line after 'command' (line 2)" },
		{ "[init]\nchecks = warn\n[service a]\ncommand = x\n"
		  "ready = log:up\noutput = raw\n",
		    5,
		    "ready = log:... needs the output of [service a], "
		    "and its output is raw (line 6)" },
		{ "[init]\noutput = raw\n[service a]\ncommand = x\n"
		  "ready = log:up\n",
		    5, "its output is raw (line 2)" },
		{ "[service a]\ncommand = x\nready = http:h:80/p\n"
		  "ready = started\nready = notify\nready = started\n"
		  "ready = started\n",
		    7, "at most 4 probes" },
		{ "[service a]\ncommand = x\nafter = b c d e f g h i j\n", 3,
		    "after: at most 8" },
		{ "[service a]\ncommand = x\ncommand\x01 = y\n", 3,
		    "unknown key" },
		/* Start gated on checks, and re-running them (issue 16). */
		{ "[service a]\ncommand = x\nafter = check:gw\n", 3,
		    "after: no check named 'gw'" },
		{ "[check tcp:gw]\ntarget = h:1\n"
		  "[service a]\ncommand = x\nafter = check:tcp\n",
		    5, "after: no check named 'tcp'" },
		{ "[service a]\ncommand = x\nafter = check:\n", 3,
		    "after: 'check:' is not check:NAME" },
		{ "[service a]\ncommand = x\nafter = check:a/b\n", 3,
		    "after: 'check:a/b' is not check:NAME" },
		{ "[check tcp:proxy]\ntarget = h:1\n[check proxy]\n"
		  "[service a]\ncommand = x\nafter = check:proxy\n",
		    6,
		    "check:proxy could be [check tcp:proxy] (line 1) or "
		    "[check proxy] (line 3)" },
		{ "[check tunnel]\ntarget = h:1\n"
		  "[service a]\ncommand = x\nafter = check:tunnel\n",
		    5, "check:tunnel is a tunnel check" },
		{ "[service a]\ncommand = x\ncheck_wait = 0\n", 3,
		    "check_wait: '0' is not a positive duration" },
		{ "[check tcp:gw]\ntarget = h:1\ninterval = 500ms\n", 3,
		    "interval: '500ms' is not a duration of at least 1s" },
		{ "[check resolver]\ninterval = often\n", 2,
		    "interval: 'often' is not a duration" },
		{ "[check tunnel]\ntarget = h:1\ninterval = 5s\n", 3,
		    "a tunnel check watches its tunnel" },
		{ "[service a]\ncommand = x\nhealth = log:up\n", 3,
		    "health: 'log:up': a log line shows once" },
		{ "[service a]\ncommand = x\nhealth = notify\n", 3,
		    "use `watchdog = DURATION`" },
		{ "[service a]\ncommand = x\nhealth = started\n", 3,
		    "always passes" },
		{ "[service a]\ncommand = x\nhealth = tcp:h\n", 3,
		    "tcp:HOST:PORT" },
		{ "[service a]\ncommand = x\nhealth = file:/a\n"
		  "health = file:/b\nhealth = file:/c\nhealth = file:/d\n"
		  "health = file:/e\n",
		    7, "health: at most 4 probes" },
		{ "[service a]\ncommand = x\nhealth_interval = 0\n", 3,
		    "health_interval: '0' is not a positive duration" },
		{ "[service a]\ncommand = x\nhealth_timeout = soon\n", 3,
		    "health_timeout" },
		{ "[service a]\ncommand = x\nhealth_failures = 0\n", 3,
		    "health_failures: '0' is not a number from 1 to 1000" },
		{ "[service a]\ncommand = x\non_unhealthy = reboot\n", 3,
		    "on_unhealthy: 'reboot'" },
		{ "[service a]\ncommand = x\nwatchdog = 0s\n", 3,
		    "watchdog: '0s' is not a positive duration" },
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

/* The control plane's [init] keys. */
static void
test_control_keys(void **state)
{
	(void)state;
	assert_int_equal(load("[init]\ncontrol_group = agents\n"
	                      "http_listen = 127.0.0.1:8081\n",
	                     &c),
	    0);
	assert_string_equal(c.control_group, "agents");
	assert_string_equal(c.http_listen, "127.0.0.1:8081");
	assert_int_equal(load("[init]\ncontrol_group = 1000\n"
	                      "http_listen = [::]:9090\n",
	                     &c),
	    0);
	assert_string_equal(c.control_group, "1000");
	assert_string_equal(c.http_listen, "[::]:9090");
	/* Empty: off (the default). */
	assert_int_equal(load("[init]\ncontrol_group =\nhttp_listen =\n", &c),
	    0);
	assert_string_equal(c.control_group, "");
	assert_string_equal(c.http_listen, "");
}

static void
test_gates_and_intervals(void **state)
{
	const struct service_conf *a, *b;

	(void)state;
	assert_int_equal(load("[check tcp:gw]\ntarget = gw.test:8080\n"
	                      "interval = 30s\n"
	                      "[check resolver]\ninterval = 1s\n"
	                      "[check proxy]\n"
	                      "[service b]\ncommand = y\n"
	                      "[service a]\ncommand = x\n"
	                      "after = b check:gw, check:resolver\n"
	                      "after = check:proxy\ncheck_wait = 90s\n",
	                     &c),
	    0);
	assert_int_equal(c.checks_list[0].interval_ms, 30000);
	assert_int_equal(c.checks_list[1].interval_ms, 1000);
	assert_int_equal(c.checks_list[2].interval_ms, 0);
	a = config_service(&c, "a");
	b = config_service(&c, "b");
	assert_non_null(a);
	assert_non_null(b);
	/* Services and checks apart: `after` still names services only. */
	assert_int_equal(a->nafter, 1);
	assert_string_equal(a->after[0], "b");
	assert_int_equal(a->nafter_checks, 3);
	assert_string_equal(a->after_checks[0], "gw");
	assert_string_equal(a->after_checks[1], "resolver");
	assert_string_equal(a->after_checks[2], "proxy");
	assert_int_equal(a->check_wait_ms, 90000);
	assert_int_equal(b->check_wait_ms, 60000); /* the default */
	/* A section by its name, an unnamed one by its type. */
	assert_ptr_equal(config_check_named(&c, "gw"), &c.checks_list[0]);
	assert_ptr_equal(config_check_named(&c, "resolver"), &c.checks_list[1]);
	assert_null(config_check_named(&c, "tcp"));
	assert_null(config_check_named(&c, "nope"));
	/* With the checks off, `after = check:` is an error at its line. */
	assert_int_equal(config_gates_need_checks(&c, path, "checks = off", err,
	                     sizeof(err)),
	    -EINVAL);
	assert_error(11,
	    "after: check:gw needs the checks, but they are off "
	    "(checks = off)");
	assert_int_equal(load("[service a]\ncommand = x\n", &c), 0);
	assert_int_equal(config_gates_need_checks(&c, path, "checks = off", err,
	                     sizeof(err)),
	    0);
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

/* Lines and values of 16 KiB (a long sh -c script, an env list) work. */
static void
test_long_values(void **state)
{
	static char text[3 * 17000];
	const struct service_conf *a;
	size_t n, env0;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text),
	    "[service a]\nshell = yes\ncommand = echo %016000d\nenv = ", 0);
	env0 = n;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "A=%0500d", 1);
	for (; n < env0 + 8000; n += 6)
		memcpy(text + n, " B=123", 7);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "\nenv = C=%03000d\nready = log:%0300d\n", 2, 3);
	assert_int_equal(load(text, &c), 0);
	a = config_service(&c, "a");
	assert_non_null(a);
	assert_int_equal(strlen(a->command), 5 + 16000);
	assert_int_equal(a->nenv, 2);
	assert_true(strlen(a->env[0]) > 7900);
	assert_int_equal(strlen(a->env[1]), 3002);
	assert_int_equal(strlen(a->ready[0].arg), 300);
}

/* Any number of services (there used to be at most 32). */
static void
test_many_services(void **state)
{
	static char text[200 * 64];
	size_t n = 0;
	int i;

	(void)state;
	for (i = 0; i < 200; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "[service s%d]\ncommand = x\n%s", i,
		    i ? "after = s0\n" : "");
	assert_int_equal(load(text, &c), 0);
	assert_int_equal(c.nservices, 200);
	assert_string_equal(c.services[199].name, "s199");
	assert_string_equal(c.services[199].after[0], "s0");
}

/* A UTF-8 BOM before the first header, as Windows editors write it. */
static void
test_bom(void **state)
{
	(void)state;
	assert_int_equal(load("\xef\xbb\xbf[init]\nstop_timeout = 2s\n"
	                      "[service a]\ncommand = x\n",
	                     &c),
	    0);
	assert_int_equal(c.stop_timeout_ms, 2000);
	assert_int_equal(c.nservices, 1);
	/* Only at the very start. */
	assert_int_equal(load("[init]\n\xef\xbb\xbfstop_timeout = 2s\n", &c),
	    -EINVAL);
	assert_error(2, "unknown key");
	/* A NUL byte would cut the line in inih's hands: refused. */
	assert_int_equal(load_n("[service a]\ncommand = x\0y\n",
	                     sizeof("[service a]\ncommand = x\0y\n") - 1, &c),
	    -EINVAL);
	assert_error(2, "a NUL byte in the line");
}

/* What may be repeated adds up; comments and blank lines are no keys. */
static void
test_repeatable(void **state)
{
	const struct service_conf *a;

	(void)state;
	assert_int_equal(load("[service a]\ncommand = x\n  ; indented comment\n"
	                      "ready = started\nready = notify\n"
	                      "after = b\nafter = c\nenv = A=1\nenv = A=2\n"
	                      "[service b]\n  command = y\n[service c]\n"
	                      "command = z\n",
	                     &c),
	    0);
	a = config_service(&c, "a");
	assert_int_equal(a->nready, 2);
	assert_int_equal(a->nafter, 2);
	assert_int_equal(a->nenv, 2);
	/* The same key in two services is no duplicate. */
	assert_string_equal(config_service(&c, "b")->command, "y");
}

/* However many repeatable keys come between, a second command is seen. */
static void
test_duplicate_after_many_repeats(void **state)
{
	static char text[100 * 16 + 128];
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "[service a]\n");
	for (i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "env = A%d=1\n", i);
	n += (size_t)snprintf(text + n, sizeof(text) - n,
	    "command = x\nenv = B=1\nenv = C=1\ncommand = y\n");
	assert_int_equal(load(text, &c), -EINVAL);
	assert_error(105, "duplicate key 'command' (first at ");
	assert_non_null(strstr(err, ":102)"));
}

/* The file is the operator's, but never a reason to hang or spin. */
static void
test_file_kinds(void **state)
{
	(void)state;
	assert_int_equal(config_load("/tmp", &c, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/tmp: is a directory, not a file");
	assert_int_equal(config_load("/dev/zero", &c, err, sizeof(err)),
	    -EFBIG);
	assert_string_equal(err, "/dev/zero: too large");
	assert_int_equal(config_load("/dev/null", &c, err, sizeof(err)), 0);
	assert_int_equal(c.nservices, 0);
}

/* pids_watch: off by default, a duration, 0 or off. */
static void
test_pids_watch(void **state)
{
	(void)state;
	assert_int_equal(load("[init]\n[service a]\ncommand = x\n", &c), 0);
	assert_int_equal(c.pids_watch_ms, 0);
	assert_int_equal(
	    load("[init]\npids_watch = 30s\n[service a]\ncommand = x\n", &c),
	    0);
	assert_int_equal(c.pids_watch_ms, 30000);
	assert_int_equal(
	    load("[init]\npids_watch = off\n[service a]\ncommand = x\n", &c),
	    0);
	assert_int_equal(c.pids_watch_ms, 0);
	assert_int_equal(
	    load("[init]\npids_watch = 0\n[service a]\ncommand = x\n", &c), 0);
	assert_int_equal(c.pids_watch_ms, 0);
	assert_int_equal(
	    load("[init]\npids_watch = often\n[service a]\ncommand = x\n", &c),
	    -EINVAL);
	assert_error(2, "pids_watch: 'often' is not a duration");
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
		cmocka_unit_test_teardown(test_control_keys, cleanup),
		cmocka_unit_test_teardown(test_good, cleanup),
		cmocka_unit_test_teardown(test_liveness, cleanup),
		cmocka_unit_test_teardown(test_compat_keys, cleanup),
		cmocka_unit_test_teardown(test_errors, cleanup),
		cmocka_unit_test_teardown(test_gates_and_intervals, cleanup),
		cmocka_unit_test_teardown(test_long_line, cleanup),
		cmocka_unit_test_teardown(test_long_values, cleanup),
		cmocka_unit_test_teardown(test_many_services, cleanup),
		cmocka_unit_test_teardown(test_bom, cleanup),
		cmocka_unit_test_teardown(test_repeatable, cleanup),
		cmocka_unit_test_teardown(test_duplicate_after_many_repeats,
		    cleanup),
		cmocka_unit_test_teardown(test_file_kinds, cleanup),
		cmocka_unit_test_teardown(test_pids_watch, cleanup),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_parse_checks),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
