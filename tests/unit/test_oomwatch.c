/*
 * Unit tests of supervisor/oomwatch.c: the choice of whom to name, the
 * memory of SIGKILLs agent-init sent itself, and the whole attribution
 * against real processes: a counter file the test writes stands for the
 * cgroup's (a regular file reads like memory.oom_control), real children
 * of the test are the services and their victims, killed by SIGKILL and
 * left as zombies, as a parent that has not reaped yet leaves them.
 *
 * The neighbours are stubbed as chrony's unit tests do: the loop (a
 * clock the test sets), the event writer (a log of the fields), the
 * supervisor (a table of services) and the output hook.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../../core/file.c"
#include "../../core/cgroup.c"
#include "../../core/proctab.c"

#include "output.h"
#include "supervisor.h"
#include "watch_stubs.h" /* evlog: "oom_kill pid=1 comm=x ...;" per event */

/* --- the stubs ------------------------------------------------------------ */

static struct svc svcs[2];
static size_t nsvcs;

void
loop_timer_cancel(struct loop_timer *t)
{
	t->armed = false;
}

int
loop_io_add(struct loop_io *io)
{
	io->added = true;
	return 0;
}

size_t
sup_count(void)
{
	return nsvcs;
}

struct svc *
sup_service(size_t i)
{
	return i < nsvcs ? &svcs[i] : NULL;
}

bool
svc_alive(const struct svc *s)
{
	return s->pid > 0;
}

static void (*input_hook)(void *data);

void
output_on_input(void (*cb)(void *data))
{
	input_hook = cb;
}

#include "../../supervisor/oomwatch.c"

/* --- the choice ------------------------------------------------------------ */

static void
test_choose(void **state)
{
	struct oom_cand c[] = {
		{ .pid = 7, .svc = 0, .comm = "hog" },
		{ .pid = 8, .svc = 1, .comm = "worker" },
		{ .pid = 7, .svc = 0, .comm = "hog" }, /* seen twice */
		{ .pid = 0, .svc = 0 },
		{ .pid = 9, .svc = -1, .comm = "x" },
	};
	struct oom_facts f = { .cand = c,
		.ncand = 5,
		.kills = 1,
		.lost_svc = -1,
		.trigger_svc = -1,
		.only_svc = -1 };
	size_t named[8];
	unsigned long long rest;
	int rest_svc;

	(void)state;
	/* One kill, several dying: the first one is named, nothing left. */
	assert_int_equal(oom_choose(&f, named, 8, &rest, &rest_svc), 1);
	assert_int_equal(named[0], 0);
	assert_int_equal(rest, 0);
	/* More kills than people: each once, never pid 0, the rest counted
	 * for the best witness there is. */
	f.kills = 6;
	f.only_svc = 1;
	assert_int_equal(oom_choose(&f, named, 8, &rest, &rest_svc), 3);
	assert_int_equal(named[0], 0);
	assert_int_equal(named[1], 1);
	assert_int_equal(named[2], 4);
	assert_int_equal(rest, 3);
	assert_int_equal(rest_svc, 1);
	f.trigger_svc = 0;
	(void)oom_choose(&f, named, 8, &rest, &rest_svc);
	assert_int_equal(rest_svc, 0);
	f.lost_svc = 1;
	(void)oom_choose(&f, named, 8, &rest, &rest_svc);
	assert_int_equal(rest_svc, 1);
	/* At most cap named; the rest in the count. */
	assert_int_equal(oom_choose(&f, named, 2, &rest, &rest_svc), 2);
	assert_int_equal(rest, 4);
	/* Nobody at all. */
	f.ncand = 0;
	f.lost_svc = f.trigger_svc = f.only_svc = -1;
	assert_int_equal(oom_choose(&f, named, 8, &rest, &rest_svc), 0);
	assert_int_equal(rest, 6);
	assert_int_equal(rest_svc, -1);
}

static void
test_ours(void **state)
{
	int i;

	(void)state;
	memset(w.sent, 0, sizeof(w.sent));
	w.all_killed = false;
	assert_false(ours(100, 100, fake_ms));
	oomwatch_sigkill(100, 0);
	assert_true(ours(100, 55, fake_ms));
	assert_false(ours(101, 100, fake_ms)); /* a pid, not a group */
	oomwatch_sigkill(0, 200);
	assert_true(ours(201, 200, fake_ms));
	/* A group's kill covers its members, known by their group. */
	assert_false(ours(200, 0, fake_ms));
	/* The same kill again and again (a restart waiting for an old
	 * group) does not push the others out of the ring. */
	for (i = 0; i < 3 * OOM_RING; i++)
		oomwatch_sigkill(0, 300);
	assert_true(ours(100, 0, fake_ms));
	assert_true(ours(7, 200, fake_ms));
	/* It explains a death for a while, not for ever. */
	assert_true(ours(100, 0, fake_ms + OOM_OURS_MS - 1));
	assert_false(ours(100, 0, fake_ms + OOM_OURS_MS));
	/* The end of the shutdown: everything. */
	oomwatch_sigkill_all();
	assert_true(ours(12345, 12345, fake_ms));
	w.all_killed = false;
}

/* --- the attribution, against real processes ------------------------------ */

static char dir[64];
static char counter[96];
static pid_t cur_service; /* the test's service, ended by teardown */
static char my_comm[PROC_COMM_MAX]; /* what our forks are called */

static void
set_counter(unsigned long long v)
{
	FILE *f = fopen(counter, "w");

	assert_non_null(f);
	fprintf(f, "oom_kill_disable 0\nunder_oom 0\noom_kill %llu\n", v);
	fclose(f);
}

static void
put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A v1 cgroup that agent-init can read but not write. */
static void
fake_cgroup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/agent-init-oom-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(counter, sizeof(counter), "%s/memory.oom_control", dir);
	set_counter(0);
	put("memory.limit_in_bytes", "1048576\n");
	put("memory.max_usage_in_bytes", "524288\n");
	memset(&w, 0, sizeof(w));
	w.counter_fd = -1;
	w.io.fd = -1;
	snprintf(w.dir, sizeof(w.dir), "%s", dir);
	snprintf(w.counter, sizeof(w.counter), "%s", counter);
	w.version = CGROUP_V1;
	assert_int_equal(file_open(counter, &w.counter_fd), 0);
	w.mode = OOM_READ;
	w.pid1 = false; /* only our descendants are in scope */
	w.self = getpid();
	evlog[0] = 0;
}

static void
drop_cgroup(void)
{
	char path[128];
	const char *f[] = { "memory.oom_control", "memory.limit_in_bytes",
		"memory.max_usage_in_bytes" };
	size_t i;

	close(w.counter_fd);
	w.counter_fd = -1;
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, f[i]);
		unlink(path);
	}
	rmdir(dir);
}

/*
 * A service: a child in its own group that forks `n` grandchildren,
 * writes their pids to a pipe, and never reaps them.  Returns its pid.
 */
static pid_t
service(int n, pid_t *ret_kids)
{
	int p[2], i;
	pid_t s;

	assert_int_equal(pipe(p), 0);
	s = fork();
	assert_true(s >= 0);
	if (s == 0) {
		/* Bounded, and never holding the test's output open. */
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		alarm(30);
		setpgid(0, 0);
		close(p[0]);
		for (i = 0; i < n; i++) {
			pid_t k = fork();

			if (k == 0)
				for (;;)
					pause();
			(void)!write(p[1], &k, sizeof(k));
		}
		for (;;)
			pause();
	}
	close(p[1]);
	for (i = 0; i < n; i++)
		assert_int_equal(read(p[0], &ret_kids[i], sizeof(pid_t)),
		    sizeof(pid_t));
	close(p[0]);
	setpgid(s, s);
	cur_service = s;
	return s;
}

/* SIGKILL pid and wait until it is a zombie. */
static void
kill_to_zombie(pid_t pid)
{
	struct proc_info pi;
	char path[64], *text;
	size_t n;
	int i;

	assert_int_equal(kill(pid, SIGKILL), 0);
	for (i = 0; i < 10000; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (file_read(path, FILE_PLANTED, 4096, 0, &text, &n) == 0) {
			int r = proc_parse_stat(text, &pi);

			free(text);
			if (r == 0 && pi.state == 'Z')
				return;
		}
		usleep(1000);
	}
	fail_msg("%d never became a zombie", (int)pid);
}

static void
end_service(pid_t s)
{
	kill(-s, SIGKILL);
	assert_int_equal(waitpid(s, NULL, 0), s);
	cur_service = 0;
}

/* Whatever a failed test left: its service (and its zombies), its
 * cgroup, its memory of kills. */
static int
teardown(void **state)
{
	(void)state;
	if (cur_service > 0) {
		kill(-cur_service, SIGKILL);
		(void)waitpid(cur_service, NULL, 0);
		cur_service = 0;
	}
	if (w.counter_fd >= 0)
		drop_cgroup();
	memset(w.sent, 0, sizeof(w.sent));
	memset(w.named, 0, sizeof(w.named));
	w.all_killed = false;
	return 0;
}

static void
expect(const char *want)
{
	if (!strstr(evlog, want))
		fail_msg("events \"%s\" lack \"%s\"", evlog, want);
}

static void
test_names_the_victim(void **state)
{
	pid_t kids[2], s;
	char want[256];

	(void)state;
	fake_cgroup();
	s = service(2, kids);
	memset(svcs, 0, sizeof(svcs));
	nsvcs = 1;
	svcs[0].name = "agent";
	svcs[0].pid = s;
	svcs[0].pgid = s;
	/* A death by SIGKILL without an OOM kill: nothing to say. */
	kill_to_zombie(kids[0]);
	oomwatch_reap();
	assert_string_equal(evlog, "");
	/* The counter goes up: the grandchild dying of SIGKILL (a zombie its
	 * parent has not reaped) is named, with its service (by ancestry),
	 * the limit and the peak. */
	set_counter(1);
	oomwatch_reap();
	snprintf(want, sizeof(want),
	    "oom_kill pid=%d comm=%s service=agent count=1 "
	    "oom_kills=1 limit=1048576 peak=524288;",
	    (int)kids[0], my_comm);
	assert_string_equal(evlog, want);
	/* The next increase: kids[1] dies; kids[0], still a zombie, was
	 * named already and is not named twice. */
	evlog[0] = 0;
	kill_to_zombie(kids[1]);
	set_counter(2);
	oomwatch_reap();
	snprintf(want, sizeof(want),
	    "oom_kill pid=%d comm=%s service=agent count=1 "
	    "oom_kills=2 limit=1048576 peak=524288;",
	    (int)kids[1], my_comm);
	assert_string_equal(evlog, want);
	/* Unchanged: silence. */
	evlog[0] = 0;
	oomwatch_reap();
	oomwatch_pass();
	assert_string_equal(evlog, "");
	end_service(s);
	drop_cgroup();
}

static void
test_never_our_own_kill(void **state)
{
	pid_t kids[1], s;
	char bad[64];

	(void)state;
	fake_cgroup();
	s = service(1, kids);
	nsvcs = 1;
	memset(svcs, 0, sizeof(svcs));
	svcs[0].name = "agent";
	svcs[0].pid = s;
	svcs[0].pgid = s;
	/* We SIGKILLed the service's group ourselves (a stop timeout), and
	 * an OOM kill happened at the same time somewhere we cannot see. */
	oomwatch_sigkill(0, s);
	kill_to_zombie(kids[0]);
	set_counter(1);
	oomwatch_reap();
	snprintf(bad, sizeof(bad), "pid=%d", (int)kids[0]);
	if (strstr(evlog, bad))
		fail_msg("our own kill named: %s", evlog);
	/* Said anyway, with what is known: the only service running. */
	expect("oom_kill pid=null comm=null service=agent count=1");
	end_service(s);
	memset(w.sent, 0, sizeof(w.sent));
	drop_cgroup();
}

static void
test_service_exit(void **state)
{
	pid_t kids[1], s;
	char *argv[] = { (char *)"/usr/bin/python3", NULL };
	int st;

	(void)state;
	fake_cgroup();
	s = service(1, kids);
	nsvcs = 1;
	memset(svcs, 0, sizeof(svcs));
	svcs[0].name = "agent";
	svcs[0].argv = argv;
	svcs[0].pgid = s;
	svcs[0].start_ms = fake_ms;
	/* The service's own process dies of SIGKILL and is reaped: without
	 * an increase, that was not the OOM killer. */
	kill(s, SIGKILL);
	assert_int_equal(waitpid(s, &st, 0), s);
	svcs[0].pid = s;
	svcs[0].wstatus = st;
	assert_false(oomwatch_service_exit(&svcs[0]));
	assert_string_equal(evlog, "");
	/* With one, it was: named at once, by its command's name. */
	set_counter(1);
	fake_ms += 10;
	assert_true(oomwatch_service_exit(&svcs[0]));
	expect("oom_kill pid=");
	expect(" comm=python3 service=agent count=1 oom_kills=1");
	/* Asked again (the same exit): the answer stands, no second event. */
	evlog[0] = 0;
	assert_true(oomwatch_service_exit(&svcs[0]));
	assert_string_equal(evlog, "");
	/* A later run with the same pid: not by that old naming. */
	svcs[0].start_ms = fake_ms + 1;
	assert_false(oomwatch_service_exit(&svcs[0]));
	/* A SIGKILL of ours (its stop timeout) never is, increase or not,
	 * even for the run the OOM killer was seen to hit. */
	svcs[0].start_ms = fake_ms;
	oomwatch_sigkill(s, s);
	set_counter(2);
	assert_false(oomwatch_service_exit(&svcs[0]));
	/* ... and an exit by another signal is not looked at at all. */
	svcs[0].wstatus = SIGTERM;
	assert_false(oomwatch_service_exit(&svcs[0]));
	memset(w.sent, 0, sizeof(w.sent));
	kill(kids[0], SIGKILL);
	drop_cgroup();
}

static void
test_output_trigger(void **state)
{
	pid_t kids[1], s, gone;

	(void)state;
	fake_cgroup();
	s = service(1, kids);
	nsvcs = 2;
	memset(svcs, 0, sizeof(svcs));
	svcs[0].name = "gateway";
	svcs[0].pid = getpid() + 100000; /* not ours: runs elsewhere */
	svcs[1].name = "agent";
	svcs[1].pid = s;
	svcs[1].pgid = s;
	/* The victim is gone (its parent reaped it), then the agent says
	 * so on its output: the count is read after that pass, and the
	 * agent is named, with pid null. */
	gone = fork();
	if (gone == 0)
		for (;;)
			pause();
	kill(gone, SIGKILL);
	assert_int_equal(waitpid(gone, NULL, 0), gone);
	set_counter(1);
	on_output(&svcs[1]);
	assert_string_equal(evlog, "");
	oomwatch_pass();
	expect("oom_kill pid=null comm=null service=agent count=1");
	/* Output of two services in one pass: nobody in particular, and
	 * with two services running, no lone one either. */
	evlog[0] = 0;
	set_counter(2);
	on_output(&svcs[1]);
	on_output(&svcs[0]);
	oomwatch_pass();
	expect("oom_kill pid=null comm=null service=null count=1");
	end_service(s);
	drop_cgroup();
}

static void
test_announce(void **state)
{
	(void)state;
	memset(&w, 0, sizeof(w));
	evlog[0] = 0;
	/* Something to watch: nothing to say. */
	w.mode = OOM_READ;
	oomwatch_announce("container");
	assert_string_equal(evlog, "");
	w.mode = OOM_OFF;
	w.off_why = "no memory cgroup is mounted here";
	oomwatch_announce("gvisor");
	expect("warning what=oom_watch path=null detail=OOM kills cannot be "
	       "counted or named: no memory cgroup is mounted here (gVisor");
	expect("oom_killed false;");
	/* Off: the reads never happen, and no exit is an OOM kill. */
	assert_int_equal(oomwatch_count(), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_choose),
		cmocka_unit_test_teardown(test_ours, teardown),
		cmocka_unit_test_teardown(test_names_the_victim, teardown),
		cmocka_unit_test_teardown(test_never_our_own_kill, teardown),
		cmocka_unit_test_teardown(test_service_exit, teardown),
		cmocka_unit_test_teardown(test_output_trigger, teardown),
		cmocka_unit_test(test_announce),
	};
	char *text;
	size_t n;

	/* The name the kernel gave us (the binary's, cut to 15 bytes). */
	if (file_read("/proc/self/comm", FILE_PLANTED, 64, 0, &text, &n) == 0) {
		snprintf(my_comm, sizeof(my_comm), "%.*s",
		    (int)strcspn(text, "\n"), text);
		free(text);
	}

	return cmocka_run_group_tests(tests, NULL, NULL);
}
