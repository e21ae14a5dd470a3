/*
 * sigrec [-i] [-q] [-x CODE] [-g] [-T SECS]
 *
 * Records every signal it receives: one line per signal on stdout, the
 * signal's name (SIGHUP, ..., or SIG<number> for real-time signals), each
 * line one write(2).  SIGTERM, SIGINT and SIGQUIT keep their default
 * disposition, so they kill it (status 128+N), unless:
 *   -i       SIGTERM is ignored (SIG_IGN);
 *   -q       SIGINT and SIGQUIT are recorded like the others (a JVM
 *            that prints a thread dump on SIGQUIT and goes on);
 *   -x CODE  SIGTERM is recorded too, and then it exits with CODE;
 *   -g       fork a grandchild (for agent-init: its child's child) in the
 *            same process group that records signals the same way, its
 *            lines prefixed with "gc:"; it dies with its parent;
 *   -T SECS  give up after SECS seconds (default 120) and exit 99: a
 *            safety net, so that nothing outlives a test.
 * When ready, prints "ready pid=P pgrp=G" (the grandchild "gc:ready ...").
 * The other signals are blocked and taken with sigtimedwait(), so none of
 * them can stop or kill it: SIGTSTP, SIGTTIN and SIGTTOU are recorded.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static const char *const names[32] = {
	[SIGHUP] = "SIGHUP",
	[SIGINT] = "SIGINT",
	[SIGQUIT] = "SIGQUIT",
	[SIGILL] = "SIGILL",
	[SIGTRAP] = "SIGTRAP",
	[SIGABRT] = "SIGABRT",
	[SIGBUS] = "SIGBUS",
	[SIGFPE] = "SIGFPE",
	[SIGKILL] = "SIGKILL",
	[SIGUSR1] = "SIGUSR1",
	[SIGSEGV] = "SIGSEGV",
	[SIGUSR2] = "SIGUSR2",
	[SIGPIPE] = "SIGPIPE",
	[SIGALRM] = "SIGALRM",
	[SIGTERM] = "SIGTERM",
	[SIGSTKFLT] = "SIGSTKFLT",
	[SIGCHLD] = "SIGCHLD",
	[SIGCONT] = "SIGCONT",
	[SIGSTOP] = "SIGSTOP",
	[SIGTSTP] = "SIGTSTP",
	[SIGTTIN] = "SIGTTIN",
	[SIGTTOU] = "SIGTTOU",
	[SIGURG] = "SIGURG",
	[SIGXCPU] = "SIGXCPU",
	[SIGXFSZ] = "SIGXFSZ",
	[SIGVTALRM] = "SIGVTALRM",
	[SIGPROF] = "SIGPROF",
	[SIGWINCH] = "SIGWINCH",
	[SIGIO] = "SIGIO",
	[SIGPWR] = "SIGPWR",
	[SIGSYS] = "SIGSYS",
};

/* One line, one write(2): lines of the two recorders never mix. */
static void
say(const char *prefix, const char *what)
{
	char buf[160];
	int n = snprintf(buf, sizeof(buf), "%s%s\n", prefix, what);

	if (n > 0)
		(void)!write(STDOUT_FILENO, buf, (size_t)n);
}

static int
record(const char *prefix, const sigset_t *set, int exit_code, long secs)
{
	struct timespec end, now, left;
	char what[64];
	siginfo_t si;
	int sig;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += secs;
	snprintf(what, sizeof(what), "ready pid=%ld pgrp=%ld", (long)getpid(),
	    (long)getpgrp());
	say(prefix, what);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return 99;
		sig = sigtimedwait(set, &si, &left);
		if (sig < 0) {
			if (errno == EAGAIN)
				return 99;
			continue;
		}
		if (sig < 32 && names[sig])
			say(prefix, names[sig]);
		else {
			snprintf(what, sizeof(what), "SIG%d", sig);
			say(prefix, what);
		}
		if (sig == SIGTERM)
			return exit_code;
	}
}

int
main(int argc, char **argv)
{
	int opt, sig, exit_code = -1, ignore = 0, grandchild = 0, quit = 0;
	long secs = 120;
	sigset_t set;
	pid_t parent;

	while ((opt = getopt(argc, argv, "iqx:gT:")) != -1) {
		switch (opt) {
		case 'i':
			ignore = 1;
			break;
		case 'q':
			quit = 1;
			break;
		case 'x':
			exit_code = atoi(optarg);
			break;
		case 'g':
			grandchild = 1;
			break;
		case 'T':
			secs = atol(optarg);
			break;
		default:
			return 64;
		}
	}
	sigemptyset(&set);
	/* sigaddset() refuses what libc keeps for itself (32-34 in musl). */
	for (sig = 1; sig < _NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP &&
		    ((sig != SIGINT && sig != SIGQUIT) || quit) &&
		    (sig != SIGTERM || exit_code >= 0))
			(void)sigaddset(&set, sig);
	if (ignore)
		signal(SIGTERM, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) {
		perror("sigrec: sigprocmask");
		return 1;
	}
	if (grandchild) {
		parent = getpid();
		switch (fork()) {
		case -1:
			perror("sigrec: fork");
			return 1;
		case 0:
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(1);
			return record("gc:", &set, exit_code, secs);
		default:
			break;
		}
	}
	return record("", &set, exit_code, secs);
}
