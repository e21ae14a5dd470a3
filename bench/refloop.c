/*
 * refloop MODE -- CMD [ARG...] — the least an init can be, to show what the
 * way it waits for signals costs on the shutdown path (bench row 7).
 *
 * Blocks every signal, forks CMD, then forwards every signal it gets to
 * CMD and exits with CMD's status once CMD is gone.  Nothing else: no
 * events, no state, no timers.  MODE is how it waits:
 *   sigwait  in sigwaitinfo(), which hands over the signal as it wakes us
 *            (what tini and dumb-init do; catatonit blocks in read() on a
 *            signalfd, the same single system call);
 *   epoll    in epoll_wait() on a signalfd, then read() it: what an init
 *            that also watches pipes, sockets and timers must do (one
 *            loop for everything, as agent-init).
 * The difference between the two is the floor of an event loop; what
 * agent-init takes beyond `epoll` is its own.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static int
next_signal(int use_epoll, int efd, int sfd, const sigset_t *all)
{
	struct epoll_event ev;
	struct signalfd_siginfo si;

	if (!use_epoll)
		return sigwaitinfo(all, NULL);
	if (epoll_wait(efd, &ev, 1, -1) != 1)
		return -1;
	if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
		return -1;
	return (int)si.ssi_signo;
}

int
main(int argc, char **argv)
{
	sigset_t all;
	int use_epoll, efd = -1, sfd = -1, st;
	pid_t child, p;

	if (argc < 4 || strcmp(argv[2], "--") != 0 ||
	    (strcmp(argv[1], "epoll") && strcmp(argv[1], "sigwait"))) {
		fprintf(stderr,
		    "usage: refloop epoll|sigwait -- CMD [ARG...]\n");
		return 64;
	}
	use_epoll = argv[1][0] == 'e';
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	child = fork();
	if (child < 0) {
		perror("refloop: fork");
		return 71;
	}
	if (child == 0) {
		sigprocmask(SIG_UNBLOCK, &all, NULL);
		execv(argv[3], argv + 3);
		perror("refloop: exec");
		_exit(127);
	}
	if (use_epoll) {
		struct epoll_event ev = { .events = EPOLLIN };

		sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
		efd = epoll_create1(EPOLL_CLOEXEC);
		ev.data.fd = sfd;
		if (sfd < 0 || efd < 0 ||
		    epoll_ctl(efd, EPOLL_CTL_ADD, sfd, &ev) != 0) {
			perror("refloop: signalfd/epoll");
			return 71;
		}
	}
	for (;;) {
		int sig = next_signal(use_epoll, efd, sfd, &all);

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		while ((p = waitpid(-1, &st, WNOHANG)) > 0)
			if (p == child)
				return WIFEXITED(st) ? WEXITSTATUS(st)
				                     : 128 + WTERMSIG(st);
	}
}
