/*
 * Unit tests of the configuration file: the [init] keys of this version,
 * and one FILE:LINE error for every class of mistake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <unistd.h>

#include "../../init/config.c"
#include "../../init/values.c"

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
	assert_memory_equal(err, prefix, strlen(prefix));
	assert_non_null(strstr(err, what));
	assert_null(strchr(err, '\n'));
}

static void
test_good(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("; comment\n# comment\n[init]\n"
	                      "events = file:/tmp/ev.log ; inline\n"
	                      "stop_timeout = 3s\noutput = raw\n",
	                     &c),
	    0);
	assert_string_equal(c.events, "file:/tmp/ev.log");
	assert_string_equal(c.output, "raw");
	assert_true(c.stop_timeout_set);
	assert_int_equal(c.stop_timeout_ms, 3000);
	assert_int_equal(load("", &c), 0);
	assert_false(c.stop_timeout_set);
}

static void
test_errors(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("[init]\nstop_timeout = 3x\n", &c), -EINVAL);
	assert_error(2, "stop_timeout: '3x' is not a duration");
	assert_int_equal(load("[init]\nevents = syslog\n", &c), -EINVAL);
	assert_error(2, "events");
	assert_int_equal(load("[init]\noutput = fancy\n", &c), -EINVAL);
	assert_error(2, "output");
	assert_int_equal(load("\n\n[init]\nbogus = 1\n", &c), -EINVAL);
	assert_error(4, "unknown key 'bogus'");
	assert_int_equal(load("[init]\n[nope]\n", &c), -EINVAL);
	assert_error(2, "unknown section [nope]");
	assert_int_equal(load("key = value\n", &c), -EINVAL);
	assert_error(1, "outside of any section");
	assert_int_equal(load("[init]\nthis is not ini\n", &c), -EINVAL);
	assert_error(2, "syntax error");
	assert_int_equal(load("[init\n", &c), -EINVAL);
	assert_error(1, "syntax error");
}

static void
test_not_yet(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(load("[init]\n\n[service agent]\ncommand = x\n", &c),
	    -EINVAL);
	assert_error(3, "not implemented");
	assert_int_equal(load("[check resolver]\n", &c), -EINVAL);
	assert_error(1, "not implemented");
	assert_int_equal(load("[init]\nready_file = /run/r\n", &c), -EINVAL);
	assert_error(2, "not implemented");
	assert_int_equal(load("[init]\noutput = json\n", &c), -EINVAL);
	assert_error(2, "not implemented");
}

static void
test_long_line(void **state)
{
	char text[400];
	struct config c;

	(void)state;
	snprintf(text, sizeof(text), "[init]\nevents = file:/%0300d\n", 0);
	assert_int_equal(load(text, &c), -EINVAL);
	assert_error(2, "line longer than");
	/* The rest of the long line is not taken for a line of its own. */
	snprintf(text, sizeof(text), "[init]\n; %0300d\nstop_timeout = 1s\n",
	    0);
	assert_int_equal(load(text, &c), -EINVAL);
	assert_error(2, "line longer than");
}

static void
test_missing_file(void **state)
{
	struct config c;

	(void)state;
	assert_int_equal(
	    config_load("/nonexistent/agent-init.conf", &c, err, sizeof(err)),
	    -ENOENT);
	assert_string_equal(err,
	    "/nonexistent/agent-init.conf: No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_good, cleanup),
		cmocka_unit_test_teardown(test_errors, cleanup),
		cmocka_unit_test_teardown(test_not_yet, cleanup),
		cmocka_unit_test_teardown(test_long_line, cleanup),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
