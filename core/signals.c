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

#include "hot.h"
#include "loop.h"
#include "signals.h"
#include "values.h"

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
	/* As `kill -l` and Docker: RTMIN .. RTMIN+15, RTMAX-14 .. RTMAX. */
	if (sig == VALUES_RTMIN)
		snprintf(buf, cap, "SIGRTMIN");
	else if (sig > VALUES_RTMIN && sig <= VALUES_RTMIN + 15)
		snprintf(buf, cap, "SIGRTMIN+%d", sig - VALUES_RTMIN);
	else if (sig > VALUES_RTMIN + 15 && sig < VALUES_RTMAX)
		snprintf(buf, cap, "SIGRTMAX-%d", VALUES_RTMAX - sig);
	else if (sig == VALUES_RTMAX)
		snprintf(buf, cap, "SIGRTMAX");
	else
		snprintf(buf, cap, "SIG%d", sig);
	return buf;
}

static void HOT
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

bool HOT
signals_is_fault(int sig)
{
	size_t i;

	for (i = 0; i < sizeof(fault_signals) / sizeof(fault_signals[0]); i++)
		if (fault_signals[i] == sig)
			return true;
	return false;
}

/*
 * The C library keeps the first real-time signals for its threads (musl
 * 32-34, glibc 32-33): sigfillset() leaves them out and sigaddset()
 * refuses them.  But 34 is SIGRTMIN for glibc, Docker and `kill -l`
 * (`docker kill -s RTMIN`), and a signal we neither block nor read would
 * be dropped as PID 1, or kill us otherwise: set their bits directly.
 * agent-init has no threads, so the library has no use for them.
 */
static void
add_raw(sigset_t *set, int sig)
{
	unsigned long *w = (unsigned long *)(void *)set;
	size_t bits = 8 * sizeof(*w);

	w[(size_t)(sig - 1) / bits] |= 1UL << ((size_t)(sig - 1) % bits);
}

/*
 * Everything, the fault signals too: see signals.h for why a real fault
 * still ends us.  (catatonit and tini leave them unblocked, so a SIGSEGV
 * sent with kill() kills them when they are not PID 1 and is dropped when
 * they are; dumb-init blocks them and forwards them, as we do.)  And the
 * real-time signals the C library keeps (add_raw()).
 */
static void
blocked_set(sigset_t *set)
{
	int sig;

	sigfillset(set);
	for (sig = 32; sig <= VALUES_RTMIN; sig++)
		add_raw(set, sig);
}

/* sigprocmask() without the C library's filter (see add_raw()). */
static int
set_mask(const sigset_t *set)
{
	return syscall(SYS_rt_sigprocmask, SIG_SETMASK, set, NULL, _NSIG / 8) <
	        0
	    ? -errno
	    : 0;
}

int
signals_block(void)
{
	struct sigaction sa;
	sigset_t all;
	int sig;

	blocked_set(&all);
	if (set_mask(&all) < 0)
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
	return set_mask(&none);
}
