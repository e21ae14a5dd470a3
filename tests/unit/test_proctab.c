/*
 * Unit tests of core/proctab.c: /proc/PID/stat lines, what "dying of
 * SIGKILL" looks like, which service a process belongs to (ancestry,
 * then process group), and a real scan that sees a zombie of ours that
 * SIGKILL ended.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../../core/file.c"
#include "../../core/proctab.c"

static void
test_parse(void **state)
{
	/* A real line of a zombie killed by SIGKILL (Linux 6.x, 52 fields),
	 * with a command name made to confuse a naive parser. */
	const char *z = "4242 (a) (b c)) Z 17 4240 1 0 -1 4228108 99 0 0 0 1 "
	                "2 0 0 20 0 1 0 123456 0 0 18446744073709551615 0 0 "
	                "0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 9\n";
	/* Linux before 3.5: no exit_code; a pending SIGKILL (field 31). */
	const char *old = "77 (hog) R 1 77 77 0 -1 4194560 5 0 0 0 3 4 0 0 20 "
	                  "0 1 0 99 1000 10 18446744073709551615 1 1 0 0 0 "
	                  "256 0 0 0\n";
	struct proc_info p;

	(void)state;
	assert_int_equal(proc_parse_stat(z, &p), 0);
	assert_int_equal(p.pid, 4242);
	assert_string_equal(p.comm, "a) (b c)");
	assert_int_equal(p.state, 'Z');
	assert_int_equal(p.ppid, 17);
	assert_int_equal(p.pgrp, 4240);
	assert_int_equal(p.flags, 4228108);
	assert_int_equal(p.exit_code, 9);
	assert_true(proc_dying_of_sigkill(&p));
	assert_int_equal(proc_parse_stat(old, &p), 0);
	assert_int_equal(p.pid, 77);
	assert_string_equal(p.comm, "hog");
	assert_int_equal(p.exit_code, 0);
	assert_int_equal(p.sigpending, 256);
	assert_true(proc_dying_of_sigkill(&p));
	/* A name of 15 bytes is all the kernel keeps; more is cut. */
	assert_int_equal(
	    proc_parse_stat("5 (0123456789abcdefgh) S 1 5 5 0 0 0", &p), 0);
	assert_string_equal(p.comm, "0123456789abcde");
	assert_int_equal(proc_parse_stat("", &p), -EINVAL);
	assert_int_equal(proc_parse_stat("12 (x\n", &p), -EINVAL);
	assert_int_equal(proc_parse_stat("12 (x) S\n", &p), -EINVAL);
	assert_int_equal(proc_parse_stat("12 (x) S 1 2 x 4 5 6\n", &p),
	    -EINVAL);
	assert_int_equal(proc_parse_stat("x (x) S 1 2 3 4 5 6\n", &p), -EINVAL);
}

static void
test_dying(void **state)
{
	struct proc_info p;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.state = 'R';
	assert_false(proc_dying_of_sigkill(&p));
	/* Exiting (PF_EXITING) with SIGKILL as its code. */
	p.flags = 0x40040c;
	p.exit_code = SIGKILL;
	assert_true(proc_dying_of_sigkill(&p));
	/* A code of SIGKILL means nothing in a process still running. */
	p.flags = 0x400000;
	assert_false(proc_dying_of_sigkill(&p));
	/* A zombie that exited 9, or died of SIGTERM: no. */
	p.state = 'Z';
	p.exit_code = 9 << 8;
	assert_false(proc_dying_of_sigkill(&p));
	p.exit_code = SIGTERM;
	assert_false(proc_dying_of_sigkill(&p));
	/* With a core dump flag, still SIGKILL?  SIGKILL never dumps; the
	 * low 7 bits are what count. */
	p.exit_code = SIGKILL | 0x80;
	assert_true(proc_dying_of_sigkill(&p));
	/* Pending SIGKILL, whatever the state; other pending signals: no. */
	memset(&p, 0, sizeof(p));
	p.state = 'D';
	p.sigpending = 1ULL << (SIGTERM - 1);
	assert_false(proc_dying_of_sigkill(&p));
	p.sigpending |= 1ULL << (SIGKILL - 1);
	assert_true(proc_dying_of_sigkill(&p));
}

/* A table: 1 init; 10 and 20 services (own groups); 11 child of 10, 12
 * grandchild of 10 in its own group; 30 an orphan of service 20's group;
 * 40 a daemon in its own group whose parent is gone; 50/51 a cycle. */
static struct proc_info rows[] = {
	{ .pid = 1, .ppid = 0, .pgrp = 1 },
	{ .pid = 10, .ppid = 1, .pgrp = 10 },
	{ .pid = 11, .ppid = 10, .pgrp = 10 },
	{ .pid = 12, .ppid = 11, .pgrp = 12 },
	{ .pid = 20, .ppid = 1, .pgrp = 20 },
	{ .pid = 30, .ppid = 1, .pgrp = 20 },
	{ .pid = 31, .ppid = 30, .pgrp = 31 },
	{ .pid = 40, .ppid = 1, .pgrp = 40 },
	{ .pid = 50, .ppid = 51, .pgrp = 50 },
	{ .pid = 51, .ppid = 50, .pgrp = 51 },
};

static void
test_owner(void **state)
{
	struct proctab t = { .p = rows, .n = sizeof(rows) / sizeof(rows[0]) };
	pid_t roots[] = { 10, 20 }, groups[] = { 10, 20 };
	pid_t gone_roots[] = { 0, 0 };

	(void)state;
	assert_int_equal(proctab_get(&t, 31)->ppid, 30);
	assert_null(proctab_get(&t, 32));
	assert_int_equal(proctab_owner(&t, 10, roots, groups, 2), 0);
	assert_int_equal(proctab_owner(&t, 11, roots, groups, 2), 0);
	/* A grandchild in a group of its own: by ancestry. */
	assert_int_equal(proctab_owner(&t, 12, roots, groups, 2), 0);
	/* An orphan (its parent is init now): by its group. */
	assert_int_equal(proctab_owner(&t, 30, roots, groups, 2), 1);
	/* Its child in another group: the ancestor's group. */
	assert_int_equal(proctab_owner(&t, 31, roots, groups, 2), 1);
	assert_int_equal(proctab_owner(&t, 40, roots, groups, 2), -1);
	assert_int_equal(proctab_owner(&t, 1, roots, groups, 2), -1);
	/* A loop of parents ends, and finds nothing. */
	assert_int_equal(proctab_owner(&t, 50, roots, groups, 2), -1);
	/* Not in the table at all: only its own pid can match. */
	assert_int_equal(proctab_owner(&t, 20, roots, groups, 2), 1);
	assert_int_equal(proctab_owner(&t, 99, roots, groups, 2), -1);
	/* The services' processes are gone (pid 0): their groups remain,
	 * for the members and what descends from a member. */
	assert_int_equal(proctab_owner(&t, 11, gone_roots, groups, 2), 0);
	assert_int_equal(proctab_owner(&t, 12, gone_roots, groups, 2), 0);
	assert_int_equal(proctab_owner(&t, 40, gone_roots, groups, 2), -1);
}

static void
test_scan(void **state)
{
	struct proctab t;
	const struct proc_info *me, *z;
	pid_t c;

	(void)state;
	c = fork();
	assert_true(c >= 0);
	if (c == 0) {
		for (;;)
			pause();
	}
	assert_int_equal(kill(c, SIGKILL), 0);
	/* Until it is a zombie (bounded: 10 s). */
	for (int i = 0; i < 10000; i++) {
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)c, &si, WEXITED | WNOHANG | WNOWAIT) ==
		        0 &&
		    si.si_pid == c)
			break;
		usleep(1000);
	}
	assert_int_equal(proctab_scan(&t, 1 << 16), 0);
	me = proctab_get(&t, getpid());
	assert_non_null(me);
	assert_int_equal(me->ppid, getppid());
	assert_false(proc_dying_of_sigkill(me));
	z = proctab_get(&t, c);
	assert_non_null(z);
	assert_int_equal(z->state, 'Z');
	assert_int_equal(z->ppid, getpid());
	assert_true(proc_dying_of_sigkill(z));
	/* Sorted by pid. */
	for (size_t i = 1; i < t.n; i++)
		assert_true(t.p[i - 1].pid < t.p[i].pid);
	proctab_free(&t);
	/* A cap: the table says it is incomplete. */
	assert_int_equal(proctab_scan(&t, 1), 0);
	assert_int_equal(t.n, 1);
	assert_true(t.truncated);
	proctab_free(&t);
	assert_int_equal(waitpid(c, NULL, 0), c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_dying),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
