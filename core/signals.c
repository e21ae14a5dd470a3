/*
 * signals — all signals blocked and read from one signalfd.  See signals.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "loop.h"
#include "signals.h"

static const struct {
	int sig;
	const char *name;
} names[] = {
	{ SIGHUP, "SIGHUP" },
	{ SIGINT, "SIGINT" },
	{ SIGQUIT, "SIGQUIT" },
	{ SIGILL, "SIGILL" },
	{ SIGTRAP, "SIGTRAP" },
	{ SIGABRT, "SIGABRT" },
	{ SIGBUS, "SIGBUS" },
	{ SIGFPE, "SIGFPE" },
	{ SIGKILL, "SIGKILL" },
	{ SIGUSR1, "SIGUSR1" },
	{ SIGSEGV, "SIGSEGV" },
	{ SIGUSR2, "SIGUSR2" },
	{ SIGPIPE, "SIGPIPE" },
	{ SIGALRM, "SIGALRM" },
	{ SIGTERM, "SIGTERM" },
	{ SIGSTKFLT, "SIGSTKFLT" },
	{ SIGCHLD, "SIGCHLD" },
	{ SIGCONT, "SIGCONT" },
	{ SIGSTOP, "SIGSTOP" },
	{ SIGTSTP, "SIGTSTP" },
	{ SIGTTIN, "SIGTTIN" },
	{ SIGTTOU, "SIGTTOU" },
	{ SIGURG, "SIGURG" },
	{ SIGXCPU, "SIGXCPU" },
	{ SIGXFSZ, "SIGXFSZ" },
	{ SIGVTALRM, "SIGVTALRM" },
	{ SIGPROF, "SIGPROF" },
	{ SIGWINCH, "SIGWINCH" },
	{ SIGIO, "SIGIO" },
	{ SIGPWR, "SIGPWR" },
	{ SIGSYS, "SIGSYS" },
};

static const int fault_signals[] = {
	SIGSEGV,
	SIGBUS,
	SIGFPE,
	SIGILL,
	SIGABRT,
	SIGTRAP,
	SIGSYS,
};

static struct loop_io sig_io;
static signals_cb sig_cb;

const char *
sig_name(int sig, char *buf, unsigned long cap)
{
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].sig == sig)
			return names[i].name;
	if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, cap, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, cap, "SIG%d", sig);
	return buf;
}

static void
on_signalfd(struct loop_io *io, uint32_t revents)
{
	struct signalfd_siginfo si[16];
	ssize_t n;
	size_t i;

	(void)revents;
	/*
	 * Several signals may be pending: read until a short read says the
	 * queue is empty (the fd is level-triggered, so one that comes later
	 * wakes the loop again).  No read that only says EAGAIN: after a
	 * forward, the child that got the signal may be waiting for this CPU.
	 */
	while ((n = read(io->fd, si, sizeof(si))) > 0) {
		for (i = 0; i < (size_t)n / sizeof(si[0]); i++)
			sig_cb(&si[i]);
		if ((size_t)n < sizeof(si))
			break;
	}
}

bool
signals_is_fault(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
		if (fault_signals[i] == sig)
			return true;
	return false;
}

/*
 * Everything, the fault signals too: see signals.h for why a real fault
 * still ends us.  (catatonit and tini leave them unblocked, so a SIGSEGV
 * sent with kill() kills them when they are not PID 1 and is dropped when
 * they are; dumb-init blocks them and forwards them, as we do.)
 */
static void
blocked_set(sigset_t *set)
{
	sigfillset(set);
}

int
signals_block(void)
{
	struct sigaction sa;
	sigset_t all;
	int sig;

	blocked_set(&all);
	if (sigprocmask(SIG_SETMASK, &all, NULL) < 0)
		return -errno;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < _NSIG; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		/* Fails only for the few numbers libc reserves; harmless. */
		(void)sigaction(sig, &sa, NULL);
	}
	/*
	 * libc's sigaction() refuses the real-time signals it keeps for
	 * itself (32-34 in musl), but one our parent ignored stays ignored
	 * across exec, into every service: reset them with the raw call.
	 * SIG_DFL needs no restorer.
	 */
	for (sig = 32; sig < SIGRTMIN; sig++) {
		struct {
			void (*handler)(int);
			unsigned long flags;
			void (*restorer)(void);
			unsigned long mask;
		} k = { SIG_DFL, 0, NULL, 0 };

		(void)syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof(k.mask));
	}
	return 0;
}

int
signals_init(signals_cb cb)
{
	sigset_t all;

	blocked_set(&all);
	sig_cb = cb;
	sig_io.fd = signalfd(-1, &all, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_io.fd < 0)
		return -errno;
	sig_io.events = EPOLLIN;
	sig_io.cb = on_signalfd;
	return loop_io_add(&sig_io);
}

int
signals_child_reset(void)
{
	sigset_t none;

	sigemptyset(&none);
	return sigprocmask(SIG_SETMASK, &none, NULL);
}
