/*
 * Unit tests of supervisor/pidswatch.c: the tally of zombies and
 * children per parent, when a parent is named (two scans in a row, at
 * least PIDS_ZOMBIES_MIN), the rate limit, and pids near pids.max with
 * its hysteresis.  Tables of processes are written by hand; the loop,
 * the event writer and the supervisor are stubbed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../core/file.c"
#include "../../core/cgroup.c"
#include "../../core/proctab.c"

#include "supervisor.h"
#include "watch_stubs.h"

static struct svc svcs[1];

size_t
sup_count(void)
{
	return 1;
}

struct svc *
sup_service(size_t i)
{
	return i < 1 ? &svcs[i] : NULL;
}

bool
sup_running(void)
{
	return true;
}

#include "../../supervisor/pidswatch.c"

/* --- tables ---------------------------------------------------------------- */

static struct proc_info rows[200];
static struct proctab tab;

static void
row(pid_t pid, pid_t ppid, char state, const char *comm)
{
	struct proc_info *p = &rows[tab.n++];

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->pgrp = ppid == 1 ? pid : ppid;
	p->state = state;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
}

/*
 * 1 agent-init (with zombies of its own, about to be reaped); 10 the
 * service `agent`, with `z` zombies and 3 live children; 20 a helper of
 * it (its child) with 2 zombies; 30 an orphan in the agent's group with
 * `live` live children.
 */
static void
table(unsigned int z, unsigned int live)
{
	pid_t pid = 100;
	unsigned int i;

	tab.p = rows;
	tab.n = 0;
	row(1, 0, 'S', "agent-init");
	row(2, 1, 'Z', "gone");
	row(3, 1, 'Z', "gone");
	row(10, 1, 'S', "node");
	row(20, 10, 'S', "npm");
	row(30, 1, 'S', "worker");
	for (i = 0; i < z; i++)
		row(pid++, 10, 'Z', "sh");
	for (i = 0; i < 3; i++)
		row(pid++, 10, 'S', "sh");
	row(pid++, 20, 'Z', "x");
	row(pid++, 20, 'Z', "x");
	for (i = 0; i < live; i++)
		row(pid++, 30, 'S', "w");
	rows[5].pgrp = 10; /* the orphan keeps the agent's group */
}

static void
test_tally(void **state)
{
	struct pids_tally t[8];
	pid_t busiest;
	size_t n;

	(void)state;
	table(12, 0);
	n = pids_tally(&tab, 1, t, 8, &busiest);
	/* agent-init's own children are no parent of note. */
	assert_int_equal(n, 2);
	assert_int_equal(t[0].pid, 10);
	assert_int_equal(t[0].zombies, 12);
	assert_int_equal(t[0].children, 12 + 3 + 1);
	assert_int_equal(t[1].pid, 20);
	assert_int_equal(t[1].zombies, 2);
	assert_int_equal(busiest, 10);
	/* The orphan with many live children is the busiest; zombies still
	 * sort first. */
	table(12, 40);
	n = pids_tally(&tab, 1, t, 8, &busiest);
	assert_int_equal(n, 3);
	assert_int_equal(t[0].pid, 10);
	assert_int_equal(t[2].pid, 30);
	assert_int_equal(t[2].children, 40);
	assert_int_equal(busiest, 30);
	/* cap */
	assert_int_equal(pids_tally(&tab, 1, t, 1, &busiest), 1);
	/* Nothing but agent-init's own. */
	tab.n = 3;
	assert_int_equal(pids_tally(&tab, 1, t, 8, &busiest), 0);
	assert_int_equal(busiest, 0);
}

static void
test_due(void **state)
{
	struct pids_mark m = { .pid = 10, .at_ms = 0, .zombies = 0 };

	(void)state;
	assert_true(pids_due(NULL, 10, 5));
	assert_true(pids_due(&m, 10, 5));
	m.at_ms = 1000;
	m.zombies = 20;
	assert_false(pids_due(&m, 20, 1000));
	assert_false(pids_due(&m, 39, 1000 + PIDS_REPEAT_MS - 1));
	/* Doubled, or the repeat time is over. */
	assert_true(pids_due(&m, 40, 1001));
	assert_true(pids_due(&m, 21, 1000 + PIDS_REPEAT_MS));
}

static size_t
count(const char *what)
{
	size_t n = 0;
	const char *p = evlog;

	while ((p = strstr(p, what))) {
		n++;
		p++;
	}
	return n;
}

static void
scan_table(pid_t busiest, unsigned long long *cur, unsigned long long *max)
{
	struct pids_tally t[PIDS_TRACK * 2];
	pid_t b;
	size_t n = pids_tally(&tab, 1, t, PIDS_TRACK * 2, &b);

	name_zombie_parents(&tab, t, n, cur, max);
	name_busiest(&tab, t, n, busiest ? busiest : b, cur, max);
}

static void
test_zombie_parents(void **state)
{
	(void)state;
	memset(&pw, 0, sizeof(pw));
	memset(svcs, 0, sizeof(svcs));
	svcs[0].name = "agent";
	svcs[0].pid = 10;
	svcs[0].pgid = 10;
	pw.self = 1;
	evlog[0] = 0;
	/* Once: it may be reaping late.  Twice: named. */
	table(PIDS_ZOMBIES_MIN, 0);
	scan_table(0, NULL, NULL);
	assert_string_equal(evlog, "");
	scan_table(0, NULL, NULL);
	assert_string_equal(evlog,
	    "pids_pressure reason=zombies pid=10 comm=node service=agent "
	    "zombies=10 children=14 pids_current=null pids_max=null;");
	/* Every scan after that: quiet, until they doubled. */
	evlog[0] = 0;
	table(2 * PIDS_ZOMBIES_MIN - 1, 0);
	scan_table(0, NULL, NULL);
	scan_table(0, NULL, NULL);
	assert_string_equal(evlog, "");
	table(2 * PIDS_ZOMBIES_MIN, 0);
	scan_table(0, NULL, NULL);
	assert_int_equal(count("reason=zombies pid=10 "), 1);
	assert_non_null(strstr(evlog, "zombies=20 "));
	/* Or until the repeat time is over. */
	evlog[0] = 0;
	fake_ms += PIDS_REPEAT_MS;
	scan_table(0, NULL, NULL);
	assert_int_equal(count("reason=zombies pid=10 "), 1);
	/* Below the minimum, a parent drops out: it must hold them for two
	 * scans again. */
	evlog[0] = 0;
	table(PIDS_ZOMBIES_MIN - 1, 0);
	scan_table(0, NULL, NULL);
	fake_ms += PIDS_REPEAT_MS;
	table(PIDS_ZOMBIES_MIN, 0);
	scan_table(0, NULL, NULL);
	assert_string_equal(evlog, "");
	scan_table(0, NULL, NULL);
	assert_int_equal(count("reason=zombies pid=10 "), 1);
}

static void
test_pids_max(void **state)
{
	unsigned long long cur = 89, max = 100;

	(void)state;
	memset(&pw, 0, sizeof(pw));
	memset(svcs, 0, sizeof(svcs));
	svcs[0].name = "agent";
	svcs[0].pid = 10;
	svcs[0].pgid = 10;
	pw.self = 1;
	evlog[0] = 0;
	table(0, 40);
	scan_table(0, &cur, &max);
	assert_string_equal(evlog, "");
	/* 90%: the parent with most children, in the agent's group. */
	cur = 90;
	scan_table(0, &cur, &max);
	assert_string_equal(evlog,
	    "pids_pressure reason=pids_max pid=30 comm=worker service=agent "
	    "zombies=0 children=40 pids_current=90 pids_max=100;");
	/* Not again while it stays up there ... */
	evlog[0] = 0;
	cur = 99;
	scan_table(0, &cur, &max);
	cur = 85; /* between 80% and 90%: still the same episode */
	scan_table(0, &cur, &max);
	cur = 95;
	scan_table(0, &cur, &max);
	assert_string_equal(evlog, "");
	/* ... until it fell below 80% and came back. */
	cur = 79;
	scan_table(0, &cur, &max);
	cur = 92;
	scan_table(0, &cur, &max);
	assert_int_equal(count("reason=pids_max"), 1);
	/* No limit: nothing to be near. */
	evlog[0] = 0;
	memset(&pw, 0, sizeof(pw));
	pw.self = 1;
	scan_table(0, &cur, NULL);
	max = 0;
	scan_table(0, &cur, &max);
	assert_string_equal(evlog, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tally),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_zombie_parents),
		cmocka_unit_test(test_pids_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
