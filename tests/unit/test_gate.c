/*
 * Unit tests of a start gated on checks (supervisor/gate.c): for each
 * mix of verdicts, before and after check_wait, what the gate decides,
 * which checks it asks for again, and the line it gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/config.c"
#include "../../core/file.c"
#include "../../core/values.c"
#include "../../supervisor/gate.c"

/* The verdicts the program would give, by check name. */
static struct {
	const char *name;
	enum gate_verdict v;
	bool required;
	const char *why;
} known[4];
static size_t nknown;
static char wanted[256]; /* names passed to want(), space separated */

static void
fake_lookup(const char *name, struct gate_check *ret)
{
	size_t i;

	for (i = 0; i < nknown; i++)
		if (strcmp(known[i].name, name) == 0) {
			ret->verdict = known[i].v;
			ret->required = known[i].required;
			snprintf(ret->why, sizeof(ret->why), "%s",
			    known[i].why);
			return;
		}
	ret->verdict = GATE_NONE;
}

static void
fake_want(const char *name)
{
	size_t n = strlen(wanted);

	snprintf(wanted + n, sizeof(wanted) - n, "%s%s", n ? " " : "", name);
}

static const struct gate_hooks hooks = { fake_lookup, fake_want };
static struct service_conf svc;
static char why[300];
static const char *check;

static void
verdict(const char *name, enum gate_verdict v, bool required, const char *w)
{
	known[nknown].name = name;
	known[nknown].v = v;
	known[nknown].required = required;
	known[nknown].why = w;
	nknown++;
}

/* A service after the checks named, with check_wait = 60 s. */
static void
after(const char *a, const char *b)
{
	config_service_defaults(&svc, "agent");
	snprintf(svc.after_checks[0], CONFIG_NAME_MAX, "%s", a);
	svc.nafter_checks = 1;
	if (b) {
		snprintf(svc.after_checks[1], CONFIG_NAME_MAX, "%s", b);
		svc.nafter_checks = 2;
	}
}

static int
setup(void **state)
{
	(void)state;
	nknown = 0;
	wanted[0] = 0;
	why[0] = 0;
	check = NULL;
	return 0;
}

static enum gate_decision
judge(bool past)
{
	return gate_judge(&svc, &hooks, past, why, sizeof(why), &check);
}

static void
test_no_checks_is_open(void **state)
{
	(void)state;
	config_service_defaults(&svc, "agent");
	assert_int_equal(judge(false), GATE_OPEN);
	assert_int_equal(judge(true), GATE_OPEN);
	assert_string_equal(check, "");
	assert_string_equal(wanted, "");
	/* Without hooks (no checks at all) nothing is ever held. */
	after("gw", NULL);
	assert_int_equal(
	    gate_judge(&svc, NULL, false, why, sizeof(why), &check), GATE_OPEN);
}

static void
test_all_passed_is_open(void **state)
{
	(void)state;
	after("gw", "proxy");
	verdict("gw", GATE_PASS, true, "");
	verdict("proxy", GATE_PASS, false, "");
	assert_int_equal(judge(false), GATE_OPEN);
	assert_int_equal(judge(true), GATE_OPEN);
	assert_string_equal(wanted, "");
	assert_string_equal(why, "");
}

static void
test_failing_holds_and_is_asked_again(void **state)
{
	(void)state;
	after("proxy", "gw");
	verdict("proxy", GATE_PASS, false, "");
	verdict("gw", GATE_FAIL, true, "tcp 10.0.0.1:8080 refused");
	assert_int_equal(judge(false), GATE_HOLD);
	assert_string_equal(check, "gw");
	/* Only what did not pass is run again. */
	assert_string_equal(wanted, "gw");
	assert_string_equal(why,
	    "waiting for check gw (tcp 10.0.0.1:8080 refused), at most "
	    "60000 ms");
}

static void
test_no_verdict_yet_holds(void **state)
{
	(void)state;
	after("gw", NULL);
	assert_int_equal(judge(false), GATE_HOLD);
	assert_string_equal(wanted, "gw");
	assert_string_equal(why,
	    "waiting for check gw (no verdict yet), at most 60000 ms");
}

static void
test_late_start_when_not_required(void **state)
{
	(void)state;
	after("gw", NULL);
	verdict("gw", GATE_FAIL, false, "tcp gw:80 timeout");
	assert_int_equal(judge(true), GATE_LATE);
	assert_string_equal(check, "gw");
	/* Past the deadline nothing is asked for any more. */
	assert_string_equal(wanted, "");
	assert_string_equal(why,
	    "check gw did not pass within 60000 ms (tcp gw:80 timeout)");
}

static void
test_required_ends_the_sandbox(void **state)
{
	(void)state;
	/* The required one decides, and is the one named, even second. */
	after("proxy", "gw");
	verdict("proxy", GATE_FAIL, false, "proxy unreachable");
	verdict("gw", GATE_FAIL, true, "tcp gw:80 refused");
	assert_int_equal(judge(false), GATE_HOLD);
	assert_string_equal(check, "gw");
	assert_string_equal(wanted, "proxy gw");
	assert_int_equal(judge(true), GATE_EXIT);
	assert_string_equal(check, "gw");
	assert_string_equal(why,
	    "required check gw did not pass within 60000 ms (tcp gw:80 "
	    "refused), nor did others");
}

static void
test_required_without_verdict_ends_the_sandbox(void **state)
{
	(void)state;
	after("gw", NULL);
	verdict("gw", GATE_NONE, true, "");
	assert_int_equal(judge(true), GATE_EXIT);
	assert_string_equal(why,
	    "required check gw did not pass within 60000 ms (no verdict "
	    "yet)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_no_checks_is_open, setup),
		cmocka_unit_test_setup(test_all_passed_is_open, setup),
		cmocka_unit_test_setup(test_failing_holds_and_is_asked_again,
		    setup),
		cmocka_unit_test_setup(test_no_verdict_yet_holds, setup),
		cmocka_unit_test_setup(test_late_start_when_not_required,
		    setup),
		cmocka_unit_test_setup(test_required_ends_the_sandbox, setup),
		cmocka_unit_test_setup(
		    test_required_without_verdict_ends_the_sandbox, setup),
	};

	return cmocka_run_group_tests_name("gate", tests, NULL, NULL);
}
