/*
 * Unit tests of how an end becomes an exit status: the shell's 126/127 for
 * exec failures, 128+N for signals, the code otherwise; and signal names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/signals.c"
#include "../../core/loop.c"
#include "../../supervisor/spawn.c"
#include "../../core/config.c"
#include "../../core/file.c"
#include "../../supervisor/sandbox.c"

#include "../../core/events.c"
#include "../../core/sink.c"
#include "../../core/values.c"
#include "../../supervisor/backoff.c"
#include "../../core/logring.c"
#include "../../supervisor/cause.c"
#include "../../supervisor/output.c"
#include "../../core/resolvconf.c"
#include "../../supervisor/probe.c"
#include "../../supervisor/health.c"
#include "../../supervisor/svcenv.c"
#include "../../supervisor/crash.c"
#include "../../supervisor/launch.c"
#include "../../supervisor/service.c"

/* The OOM watch is not under test here. */
#include "oomwatch.h"

void
oomwatch_sigkill(pid_t pid, pid_t pgid)
{
	(void)pid;
	(void)pgid;
}

bool
oomwatch_service_exit(const struct svc *s)
{
	(void)s;
	return false;
}

static void
test_exec_errno_to_status(void **state)
{
	(void)state;
	assert_int_equal(spawn_exec_status(ENOENT), 127);
	assert_int_equal(spawn_exec_status(ENOTDIR), 127);
	assert_int_equal(spawn_exec_status(EACCES), 126);
	assert_int_equal(spawn_exec_status(ENOEXEC), 126);
	assert_int_equal(spawn_exec_status(EISDIR), 126);
}

static void
test_wait_status_to_exit_status(void **state)
{
	struct svc s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.state = SVC_EXITED;
	s.has_exited = true;
	s.wstatus = 3 << 8; /* exited with 3 */
	assert_int_equal(svc_exit_status(&s), 3);
	s.wstatus = 255 << 8;
	assert_int_equal(svc_exit_status(&s), 255);
	s.wstatus = SIGKILL; /* killed by SIGKILL */
	assert_int_equal(svc_exit_status(&s), 137);
	s.wstatus = SIGTERM | 0x80; /* killed by SIGTERM, core dumped */
	assert_int_equal(svc_exit_status(&s), 143);
	/* exec failed and the child is not reaped yet */
	s.state = SVC_FAILED;
	s.has_exited = false;
	s.fail_status = 127;
	assert_int_equal(svc_exit_status(&s), 127);
	/* never exited, nothing failed: it was SIGKILLed at the deadline */
	s.fail_status = 0;
	assert_int_equal(svc_exit_status(&s), 137);
}

/* svc_exit_ok(): what the restart policy and `required` count as no
 * failure: 0, or a code of success_exit_codes; never a signal. */
static void
test_success_exit_codes(void **state)
{
	static struct service_conf conf;
	struct svc s;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&conf, 0, sizeof(conf));
	s.has_exited = true;
	s.wstatus = 0;
	assert_true(svc_exit_ok(&s));
	s.wstatus = 3 << 8;
	assert_false(svc_exit_ok(&s)); /* no conf: the lone command */
	s.conf = &conf;
	assert_false(svc_exit_ok(&s));
	assert_int_equal(value_codes_parse("3 143", &conf.success_codes), 0);
	assert_true(svc_exit_ok(&s));
	s.wstatus = 4 << 8;
	assert_false(svc_exit_ok(&s));
	/* 143 as a code is a success; killed by SIGTERM (also "143") is
	 * not: success_exit_codes are exit codes. */
	s.wstatus = 143 << 8;
	assert_true(svc_exit_ok(&s));
	s.wstatus = SIGTERM;
	assert_false(svc_exit_ok(&s));
	/* Not exited (exec failed, or not reaped yet): no success. */
	s.has_exited = false;
	s.wstatus = 0;
	assert_false(svc_exit_ok(&s));
}

static void
test_describe(void **state)
{
	struct spawn_error e = { .step = SPAWN_STEP_EXEC, .err = ENOENT };
	char buf[128];

	(void)state;
	spawn_describe(&e, "/nonexistent", buf, sizeof(buf));
	assert_string_equal(buf,
	    "cannot execute '/nonexistent': No such file or directory");
}

static void
test_signal_names(void **state)
{
	char buf[24];

	(void)state;
	assert_string_equal(sig_name(SIGHUP, buf, sizeof(buf)), "SIGHUP");
	assert_string_equal(sig_name(SIGWINCH, buf, sizeof(buf)), "SIGWINCH");
	/* Real-time signals named as `kill -l` and Docker name them. */
	assert_string_equal(sig_name(34, buf, sizeof(buf)), "SIGRTMIN");
	assert_string_equal(sig_name(36, buf, sizeof(buf)), "SIGRTMIN+2");
	assert_string_equal(sig_name(49, buf, sizeof(buf)), "SIGRTMIN+15");
	assert_string_equal(sig_name(50, buf, sizeof(buf)), "SIGRTMAX-14");
	assert_string_equal(sig_name(64, buf, sizeof(buf)), "SIGRTMAX");
	assert_string_equal(sig_name(33, buf, sizeof(buf)), "SIG33");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_errno_to_status),
		cmocka_unit_test(test_wait_status_to_exit_status),
		cmocka_unit_test(test_success_exit_codes),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_signal_names),
	};

	return cmocka_run_group_tests_name("exit_status", tests, NULL, NULL);
}
