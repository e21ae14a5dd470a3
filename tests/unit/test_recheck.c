/*
 * Unit tests of the checks after startup (netcheck/recheck.c), with its
 * neighbours stubbed: the run (checks_start() records what it was asked
 * for; the test hands in verdicts and ends the run), the loop (a fake
 * clock and one timer we fire by hand) and the event writer (a log).
 * What is checked: the first run's verdicts are a baseline, a re-run
 * reports only what changed, intervals and a gate's growing pauses
 * schedule the runs, one run at a time, and nothing is scheduled when
 * nothing asks for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/config.c"
#include "../../core/file.c"
#include "../../core/values.c"
#include "../../netcheck/recheck.c"

/* --- the stubs ------------------------------------------------------------ */

static uint64_t fake_now_ms = 100000;
static void (*verdict_fn)(const struct check_result *r);
static struct checks_opts started; /* the last run asked for */
static int nstarts;
static char evlog[2048]; /* "check_changed old>new ..." */
static int nverdicts_hook; /* on_verdicts calls */

uint64_t
loop_now_ms(void)
{
	return fake_now_ms;
}

void
loop_timer_arm(struct loop_timer *t, uint64_t deadline_ms)
{
	t->armed = true;
	t->deadline_ms = deadline_ms;
}

void
loop_timer_cancel(struct loop_timer *t)
{
	t->armed = false;
}

void
checks_on_verdict(void (*fn)(const struct check_result *r))
{
	verdict_fn = fn;
}

int
checks_start(const struct checks_opts *o)
{
	started = *o;
	nstarts++;
	return 0;
}

static char ev_old[32], ev_new[32];

void
ev_begin(const char *name)
{
	size_t n = strlen(evlog);

	snprintf(evlog + n, sizeof(evlog) - n, "%s%s", n ? " " : "", name);
	ev_old[0] = ev_new[0] = 0;
}

void
ev_str(const char *key, const char *val)
{
	if (strcmp(key, "old_code") == 0)
		snprintf(ev_old, sizeof(ev_old), "%s", val);
	if (strcmp(key, "code") == 0)
		snprintf(ev_new, sizeof(ev_new), "%s", val);
}

void
ev_null(const char *key)
{
	if (strcmp(key, "old_code") == 0)
		snprintf(ev_old, sizeof(ev_old), "null");
}

void
ev_bool(const char *key, bool val)
{
	(void)key;
	(void)val;
}

void
ev_emit(void)
{
	size_t n = strlen(evlog);

	snprintf(evlog + n, sizeof(evlog) - n, ":%s>%s", ev_old, ev_new);
}

/* --- helpers -------------------------------------------------------------- */

static struct config cfg;

static void
add_check(const char *type, const char *name, uint64_t interval_ms,
    bool required)
{
	struct check_conf *k = &cfg.checks_list[cfg.nchecks++];

	memset(k, 0, sizeof(*k));
	snprintf(k->type, sizeof(k->type), "%s", type);
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->interval_ms = interval_ms;
	k->required = required;
}

static void
on_verdicts(void)
{
	nverdicts_hook++;
}

static void
begin(void)
{
	struct recheck_opts o = { .cfg = &cfg,
		.timeout_ms = 2000,
		.on_verdicts = on_verdicts };

	recheck_init(&o);
	assert_non_null(verdict_fn);
}

/* A verdict of the run under way. */
static void
give(const char *type, const char *name, const char *target, const char *status,
    const char *code)
{
	struct check_result r;

	memset(&r, 0, sizeof(r));
	snprintf(r.check, sizeof(r.check), "%s", type);
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.target, sizeof(r.target), "%s", target);
	r.status = status;
	snprintf(r.code, sizeof(r.code), "%s", code);
	snprintf(r.detail, sizeof(r.detail), "%s %s", target, code);
	verdict_fn(&r);
}

static void
end_run(void)
{
	started.on_done(started.data);
}

/* The loop comes round at `at`: the timer fires if it is due. */
static bool
tick(uint64_t at)
{
	fake_now_ms = at;
	if (!rc.timer.armed || rc.timer.deadline_ms > fake_now_ms)
		return false;
	rc.timer.armed = false;
	rc.timer.cb(&rc.timer);
	return true;
}

static int
setup(void **state)
{
	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	memset(&started, 0, sizeof(started));
	nstarts = 0;
	nverdicts_hook = 0;
	evlog[0] = 0;
	fake_now_ms = 100000;
	verdict_fn = NULL;
	return 0;
}

static bool
state_of(const char *name, bool *required)
{
	char why[200];
	bool passed = false;

	assert_int_equal(
	    recheck_state(name, &passed, required, why, sizeof(why)), 0);
	return passed;
}

/* --- the tests ------------------------------------------------------------ */

static void
test_first_run_is_a_baseline(void **state)
{
	bool req = false;
	char why[200];
	bool passed;

	(void)state;
	add_check("tcp", "gw", 0, true);
	add_check("resolver", "", 0, false);
	begin();
	/* No verdict yet: the gate waits (and knows it is required). */
	assert_int_equal(recheck_state("gw", &passed, &req, why, sizeof(why)),
	    -EAGAIN);
	assert_true(req);
	assert_int_equal(recheck_state("nope", &passed, &req, why, sizeof(why)),
	    -ENOENT);
	give("tcp", "gw", "10.0.0.1:80", "fail", "refused");
	give("resolver", "", "10.0.0.53", "ok", "ok");
	recheck_first_done();
	assert_string_equal(evlog, ""); /* the check events said it all */
	assert_int_equal(recheck_count(), 2);
	assert_false(state_of("gw", &req));
	assert_true(state_of("resolver", &req));
	assert_false(req);
	recheck_state("gw", &passed, &req, why, sizeof(why));
	assert_string_equal(why,
	    "tcp 10.0.0.1:80 refused: 10.0.0.1:80 refused");
	/* Nothing asks for a re-run: no timer, no wake-up. */
	assert_false(rc.timer.armed);
	assert_int_equal(nstarts, 0);
}

static void
test_interval_reruns_and_reports_changes(void **state)
{
	(void)state;
	add_check("resolver", "", 0, false);
	add_check("proxy", "", 5000, false);
	begin();
	give("resolver", "", "10.0.0.53", "ok", "ok");
	give("proxy", "", "http://p:3128", "ok", "ok");
	recheck_first_done();
	assert_true(rc.timer.armed);
	assert_int_equal(rc.timer.deadline_ms, 105000);
	assert_false(tick(104999));
	assert_true(tick(105000));
	assert_int_equal(nstarts, 1);
	assert_true(started.rerun);
	assert_false(started.events);
	assert_int_equal(started.only, 1ULL << 1); /* the proxy alone */
	/* The same verdict again: nothing to say. */
	give("proxy", "", "http://p:3128", "ok", "ok");
	fake_now_ms = 105300;
	end_run();
	assert_string_equal(evlog, "");
	assert_int_equal(nverdicts_hook, 1);
	/* Next: interval after the end of this run. */
	assert_int_equal(rc.timer.deadline_ms, 110300);
	assert_true(tick(110300));
	give("proxy", "", "http://p:3128", "fail", "unreachable");
	end_run();
	assert_string_equal(evlog, "check_changed:ok>unreachable");
	assert_int_equal(recheck_get(1)->at_ms, 110300);
	assert_string_equal(recheck_get(1)->code, "unreachable");
	/* A target the check did not have before: from nothing. */
	assert_true(tick(115300));
	give("proxy", "", "http://p:3128", "fail", "unreachable");
	give("proxy", "", "http://q:3128", "ok", "ok");
	end_run();
	assert_string_equal(evlog,
	    "check_changed:ok>unreachable check_changed:null>ok");
}

static void
test_gate_retries_with_growing_pauses(void **state)
{
	uint64_t pauses[] = { 250, 500, 1000, 2000, 2000 };
	bool req;
	size_t i;

	(void)state;
	add_check("tcp", "gw", 0, false);
	begin();
	/* Before the first run is over a want is for nothing: its
	 * verdict is on its way. */
	recheck_want("gw");
	assert_false(rc.timer.armed);
	give("tcp", "gw", "10.0.0.1:80", "fail", "refused");
	recheck_first_done();
	for (i = 0; i < sizeof(pauses) / sizeof(pauses[0]); i++) {
		uint64_t end = fake_now_ms;

		recheck_want("gw");
		recheck_want("gw"); /* asking twice changes nothing */
		assert_true(rc.timer.armed);
		assert_int_equal(rc.timer.deadline_ms, end + pauses[i]);
		assert_false(tick(end + pauses[i] - 1));
		assert_true(tick(end + pauses[i]));
		assert_int_equal(started.only, 1);
		recheck_want("gw"); /* running: its verdict is coming */
		give("tcp", "gw", "10.0.0.1:80", "fail", "refused");
		fake_now_ms += 10;
		end_run();
		/* Nobody asks again: nothing more is scheduled. */
		assert_false(rc.timer.armed);
	}
	assert_int_equal(nstarts, 5);
	/* It passes: the next failure is retried quickly again. */
	recheck_want("gw");
	tick(rc.timer.deadline_ms);
	give("tcp", "gw", "10.0.0.1:80", "ok", "ok");
	end_run();
	assert_true(state_of("gw", &req));
	assert_string_equal(evlog, "check_changed:refused>ok");
	recheck_want("gw");
	assert_int_equal(rc.timer.deadline_ms, fake_now_ms + 250);
}

static int done_calls;
static void *done_data;

static void
on_done(void *data)
{
	done_calls++;
	done_data = data;
}

static void
test_now_waits_for_the_run_under_way(void **state)
{
	int token;

	(void)state;
	add_check("tcp", "gw", 0, false);
	add_check("tcp", "db", 3000, false);
	begin();
	/* Asked for before the first run is over: it comes after it. */
	assert_int_equal(recheck_now("gw", on_done, &token), 0);
	assert_false(rc.timer.armed);
	give("tcp", "gw", "a:1", "ok", "ok");
	give("tcp", "db", "b:2", "ok", "ok");
	recheck_first_done();
	assert_true(tick(fake_now_ms)); /* at once, from the loop */
	assert_int_equal(started.only, 1);
	/* Asked again while it runs: the next run, not this one. */
	assert_int_equal(recheck_now(NULL, on_done, &token), 0);
	give("tcp", "gw", "a:1", "ok", "ok");
	end_run();
	assert_int_equal(done_calls, 1);
	assert_true(tick(fake_now_ms));
	assert_int_equal(nstarts, 2);
	assert_int_equal(started.only, 0); /* every check */
	give("tcp", "gw", "a:1", "ok", "ok");
	give("tcp", "db", "b:2", "ok", "ok");
	end_run();
	assert_int_equal(done_calls, 2);
	assert_ptr_equal(done_data, &token);
	/* A caller that went away is never called. */
	assert_int_equal(recheck_now("db", on_done, &token), 0);
	recheck_forget(&token);
	assert_true(tick(fake_now_ms));
	end_run();
	assert_int_equal(done_calls, 2);
	/* db's interval counts from the end of its last run. */
	assert_int_equal(rc.timer.deadline_ms, fake_now_ms + 3000);
}

static void
test_what_a_rerun_runs(void **state)
{
	int i;

	(void)state;
	add_check("proxy", "", 0, false);
	add_check("egress", "", 0, false);
	add_check("tunnel", "", 0, false);
	add_check("tcp", "gw", 0, false);
	begin();
	recheck_first_done();
	/* A tunnel watches on its own: never re-run. */
	assert_int_equal(recheck_now("tunnel", NULL, NULL), -ENOENT);
	assert_int_equal(recheck_now("nope", NULL, NULL), -ENOENT);
	/* egress judges from the proxy's verdict: they run together. */
	assert_int_equal(recheck_now("egress", NULL, NULL), 0);
	assert_true(tick(fake_now_ms));
	assert_int_equal(started.only, (1ULL << 0) | (1ULL << 1));
	end_run();
	/* Too many callers waiting at once: the next one is told. */
	for (i = 0; i < RECHECK_MAX_WAITERS; i++)
		assert_int_equal(recheck_now("gw", on_done, &i), 0);
	assert_int_equal(recheck_now("gw", on_done, &i), -EBUSY);
}

static void
test_off_when_never_inited(void **state)
{
	(void)state;
	memset(&rc, 0, sizeof(rc));
	assert_int_equal(recheck_now(NULL, NULL, NULL), -ENOTSUP);
	assert_int_equal(recheck_count(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_first_run_is_a_baseline, setup),
		cmocka_unit_test_setup(test_interval_reruns_and_reports_changes,
		    setup),
		cmocka_unit_test_setup(test_gate_retries_with_growing_pauses,
		    setup),
		cmocka_unit_test_setup(test_now_waits_for_the_run_under_way,
		    setup),
		cmocka_unit_test_setup(test_what_a_rerun_runs, setup),
		cmocka_unit_test_setup(test_off_when_never_inited, setup),
	};

	return cmocka_run_group_tests_name("recheck", tests, NULL, NULL);
}
