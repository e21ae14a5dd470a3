/*
 * Unit tests of the command line, its environment equivalents and the
 * value parsers behind them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/args.c"
#include "../../core/values.c"

static const char *env_names[8], *env_values[8];
static int env_n;

static const char *
fake_env(const char *name)
{
	int i;

	for (i = 0; i < env_n; i++)
		if (strcmp(env_names[i], name) == 0)
			return env_values[i];
	return NULL;
}

static void
setenv_fake(const char *n, const char *v)
{
	env_names[env_n] = n;
	env_values[env_n++] = v;
}

static int
reset(void **state)
{
	(void)state;
	env_n = 0;
	return 0;
}

static char err[256];

static int
parse(struct args *a, int argc, const char **argv)
{
	return args_parse(argc, (char **)argv, fake_env, a, err, sizeof(err));
}

#define ARGV(...) \
	(const char *[]) \
	{ \
		"agent-init", __VA_ARGS__, NULL \
	}
#define ARGC(...) \
	((int)(sizeof((const char *[]){ "agent-init", __VA_ARGS__ }) / \
	    sizeof(char *)))
#define PARSE(a, ...) parse(a, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

static void
test_command_after_dashes(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, "-g", "--", "sh", "-c", "x"), 0);
	assert_true(a.group);
	assert_string_equal(a.cmd[0], "sh");
	assert_string_equal(a.cmd[1], "-c");
	assert_int_equal(a.stop_timeout_ms, 8000);
	assert_int_equal(a.mode, ARGS_RUN);
}

static void
test_command_without_dashes_keeps_its_options(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, "ls", "-l", "--group"), 0);
	assert_false(a.group);
	assert_string_equal(a.cmd[0], "ls");
	assert_string_equal(a.cmd[2], "--group");
}

static void
test_values_both_forms(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, "--stop-timeout", "250ms", "--events=stderr",
	                     "-vv", "true"),
	    0);
	assert_int_equal(a.stop_timeout_ms, 250);
	assert_string_equal(a.events, "stderr");
	assert_int_equal(a.verbose, 2);
	assert_int_equal(PARSE(&a, "-gv", "--stop-timeout=2", "true"), 0);
	assert_true(a.group);
	assert_int_equal(a.verbose, 1);
	assert_int_equal(a.stop_timeout_ms, 2000);
}

static void
test_errors(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, "--bogus", "true"), -EINVAL);
	assert_non_null(strstr(err, "--bogus"));
	assert_int_equal(PARSE(&a, "-x", "true"), -EINVAL);
	assert_int_equal(PARSE(&a, "--stop-timeout", "xyz", "true"), -EINVAL);
	assert_non_null(strstr(err, "xyz"));
	assert_int_equal(PARSE(&a, "--stop-timeout", "0", "true"), -EINVAL);
	assert_int_equal(PARSE(&a, "--stop-timeout"), -EINVAL);
	assert_int_equal(PARSE(&a, "--events", "syslog", "true"), -EINVAL);
	assert_int_equal(PARSE(&a, "--output", "fancy", "true"), -EINVAL);
	assert_int_equal(PARSE(&a, "--group=yes", "true"), -EINVAL);
	/* No command is not an error here: the services may come from the
	 * default configuration file, which main.c looks for. */
	assert_int_equal(PARSE(&a, "-g"), 0);
	assert_null(a.cmd);
	assert_int_equal(parse(&a, 1, (const char *[]){ "agent-init", NULL }),
	    0);
	assert_null(a.cmd);
}

static void
test_help_version_subcommands(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, "--help"), 0);
	assert_int_equal(a.mode, ARGS_HELP);
	assert_int_equal(PARSE(&a, "version"), 0);
	assert_int_equal(a.mode, ARGS_VERSION);
	assert_int_equal(PARSE(&a, "-V"), 0);
	assert_int_equal(a.mode, ARGS_VERSION);
	assert_int_equal(PARSE(&a, "netcheck", "--json"), 0);
	assert_int_equal(a.mode, ARGS_SUBCOMMAND);
	assert_string_equal(a.subcommand, "netcheck");
	assert_int_equal(PARSE(&a, "ctl", "stop", "db"), 0);
	assert_int_equal(a.mode, ARGS_SUBCOMMAND);
	assert_string_equal(a.subcommand, "ctl");
	assert_int_equal(a.sub_argc, 2);
	assert_string_equal(a.sub_argv[0], "stop");
	/* A program called ctl runs after --. */
	assert_int_equal(PARSE(&a, "--", "ctl"), 0);
	assert_int_equal(a.mode, ARGS_RUN);
}

static void
test_environment_and_precedence(void **state)
{
	struct args a;

	(void)state;
	setenv_fake("AGENT_INIT_STOP_TIMEOUT", "3s");
	setenv_fake("AGENT_INIT_GROUP", "yes");
	setenv_fake("AGENT_INIT_EVENTS", "fd:3");
	setenv_fake("AGENT_INIT_VERBOSE", "2");
	assert_int_equal(PARSE(&a, "true"), 0);
	assert_int_equal(a.stop_timeout_ms, 3000);
	assert_true(a.group);
	assert_string_equal(a.events, "fd:3");
	assert_int_equal(a.verbose, 2);
	/* The command line wins. */
	assert_int_equal(
	    PARSE(&a, "--stop-timeout", "1s", "--events", "stdout", "true"), 0);
	assert_int_equal(a.stop_timeout_ms, 1000);
	assert_string_equal(a.events, "stdout");
}

static void
test_environment_errors(void **state)
{
	struct args a;

	(void)state;
	setenv_fake("AGENT_INIT_GROUP", "maybe");
	assert_int_equal(PARSE(&a, "true"), -EINVAL);
	assert_non_null(strstr(err, "AGENT_INIT_GROUP"));
}

/* tini's and dumb-init's flags: -s -w --single-child -e -p -r. */
static void
test_compat_flags(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, "-s", "-e", "3", "-e143", "-p", "SIGUSR1",
	                     "-r", "15:3", "--rewrite=2:0", "-w",
	                     "--single-child", "sh"),
	    0);
	assert_string_equal(a.cmd[0], "sh");
	assert_true(value_codes_has(&a.remap_exit, 3));
	assert_true(value_codes_has(&a.remap_exit, 143));
	assert_false(value_codes_has(&a.remap_exit, 0));
	assert_int_equal(a.pdeathsig, SIGUSR1);
	assert_int_equal(value_sigmap_apply(&a.rewrite, SIGTERM), SIGQUIT);
	assert_int_equal(value_sigmap_apply(&a.rewrite, SIGINT), 0);
	assert_int_equal(value_sigmap_apply(&a.rewrite, SIGHUP), SIGHUP);
	/* -w is -v's reaped events, and never lowers -vv. */
	assert_int_equal(a.verbose, 1);
	assert_int_equal(PARSE(&a, "-vvw", "sh"), 0);
	assert_int_equal(a.verbose, 2);
	/* tini's options end at the command, as ours do. */
	assert_int_equal(PARSE(&a, "-sg", "-e", "0", "sh", "-e", "5"), 0);
	assert_true(a.group);
	assert_true(value_codes_has(&a.remap_exit, 0));
	assert_false(value_codes_has(&a.remap_exit, 5));
	assert_int_equal(PARSE(&a, "-p", "9", "sh"), 0);
	assert_int_equal(a.pdeathsig, SIGKILL);
}

static void
test_compat_errors(void **state)
{
	struct args a;

	(void)state;
	assert_int_equal(PARSE(&a, "-e", "256", "sh"), -EINVAL);
	assert_non_null(strstr(err, "-e: '256'"));
	assert_int_equal(PARSE(&a, "-e"), -EINVAL);
	assert_int_equal(PARSE(&a, "-p", "SIGNOPE", "sh"), -EINVAL);
	assert_non_null(strstr(err, "-p: 'SIGNOPE'"));
	assert_int_equal(PARSE(&a, "-p", "0", "sh"), -EINVAL);
	assert_int_equal(PARSE(&a, "-r", "15", "sh"), -EINVAL);
	assert_non_null(strstr(err, "FROM:TO"));
	assert_int_equal(PARSE(&a, "-r", "KILL:15", "sh"), -EINVAL);
	assert_int_equal(PARSE(&a, "--single-child=1", "sh"), -EINVAL);
	setenv_fake("AGENT_INIT_REWRITE", "15:3 bogus");
	assert_int_equal(PARSE(&a, "sh"), -EINVAL);
	assert_non_null(strstr(err, "AGENT_INIT_REWRITE"));
}

static void
test_compat_environment(void **state)
{
	struct args a;

	(void)state;
	/* tini reads its variables when set at all, even empty. */
	setenv_fake("TINI_KILL_PROCESS_GROUP", "");
	setenv_fake("TINI_SUBREAPER", "");
	setenv_fake("TINI_VERBOSITY", "3");
	setenv_fake("AGENT_INIT_REMAP_EXIT", "3 4");
	setenv_fake("AGENT_INIT_REWRITE", "15:3 WINCH:0");
	setenv_fake("AGENT_INIT_PDEATHSIG", "TERM");
	assert_int_equal(PARSE(&a, "-e", "5", "-r", "15:2", "sh"), 0);
	assert_true(a.group);
	assert_int_equal(a.verbose, 2);
	assert_true(value_codes_has(&a.remap_exit, 3));
	assert_true(value_codes_has(&a.remap_exit, 4));
	assert_true(value_codes_has(&a.remap_exit, 5));
	/* The command line's pair wins over the environment's. */
	assert_int_equal(value_sigmap_apply(&a.rewrite, SIGTERM), SIGINT);
	assert_int_equal(value_sigmap_apply(&a.rewrite, SIGWINCH), 0);
	assert_int_equal(a.pdeathsig, SIGTERM);
}

static void
test_tini_environment_below_ours(void **state)
{
	struct args a;

	(void)state;
	setenv_fake("TINI_KILL_PROCESS_GROUP", "1");
	setenv_fake("TINI_VERBOSITY", "2");
	setenv_fake("AGENT_INIT_GROUP", "no");
	setenv_fake("AGENT_INIT_VERBOSE", "0");
	assert_int_equal(PARSE(&a, "sh"), 0);
	assert_false(a.group);
	assert_int_equal(a.verbose, 0);
	env_n = 0;
	/* tini's default verbosity (1) and 0 are our default. */
	setenv_fake("TINI_VERBOSITY", "1");
	assert_int_equal(PARSE(&a, "sh"), 0);
	assert_int_equal(a.verbose, 0);
	env_n = 0;
	setenv_fake("TINI_VERBOSITY", "loud");
	assert_int_equal(PARSE(&a, "sh"), -EINVAL);
	assert_non_null(strstr(err, "TINI_VERBOSITY"));
}

static void
test_durations(void **state)
{
	uint64_t ms = 42;

	(void)state;
	assert_int_equal(value_duration_ms("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(value_duration_ms("2s", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(value_duration_ms("1m", &ms), 0);
	assert_int_equal(ms, 60000);
	assert_int_equal(value_duration_ms("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(value_duration_ms("5", &ms), 0);
	assert_int_equal(ms, 5000);
	ms = 42;
	assert_int_equal(value_duration_ms("", &ms), -EINVAL);
	assert_int_equal(value_duration_ms("s", &ms), -EINVAL);
	assert_int_equal(value_duration_ms("1.5s", &ms), -EINVAL);
	assert_int_equal(value_duration_ms("-1s", &ms), -EINVAL);
	assert_int_equal(value_duration_ms("2 s", &ms), -EINVAL);
	assert_int_equal(value_duration_ms("1d", &ms), -EINVAL);
	assert_int_equal(value_duration_ms("99999999999999999999", &ms),
	    -EINVAL);
	assert_int_equal(value_duration_ms("721h", &ms), -EINVAL);
	assert_int_equal(value_duration_ms(NULL, &ms), -EINVAL);
	assert_int_equal(ms, 42);
}

static void
test_bools_and_uints(void **state)
{
	bool b = false;
	unsigned long u = 0;

	(void)state;
	assert_int_equal(value_bool("YES", &b), 0);
	assert_true(b);
	assert_int_equal(value_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(value_bool("1", &b), 0);
	assert_true(b);
	assert_int_equal(value_bool("y", &b), -EINVAL);
	assert_int_equal(value_bool("", &b), -EINVAL);
	assert_int_equal(value_uint("65535", 65535, &u), 0);
	assert_int_equal(u, 65535);
	assert_int_equal(value_uint("65536", 65535, &u), -EINVAL);
	assert_int_equal(value_uint("1x", 10, &u), -EINVAL);
	assert_int_equal(value_uint("", 10, &u), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_command_after_dashes, reset),
		cmocka_unit_test_setup(
		    test_command_without_dashes_keeps_its_options, reset),
		cmocka_unit_test_setup(test_values_both_forms, reset),
		cmocka_unit_test_setup(test_errors, reset),
		cmocka_unit_test_setup(test_help_version_subcommands, reset),
		cmocka_unit_test_setup(test_environment_and_precedence, reset),
		cmocka_unit_test_setup(test_environment_errors, reset),
		cmocka_unit_test_setup(test_compat_flags, reset),
		cmocka_unit_test_setup(test_compat_errors, reset),
		cmocka_unit_test_setup(test_compat_environment, reset),
		cmocka_unit_test_setup(test_tini_environment_below_ours, reset),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_bools_and_uints),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
