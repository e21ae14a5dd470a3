/*
 * sigpong FIFO — the child for the signal-forwarding latency bench.
 *
 * Blocks SIGUSR1, opens FIFO for writing, writes one 'R' (ready), then for
 * every SIGUSR1 it takes with sigwaitinfo() writes one 'P'.  Any other
 * signal keeps its default action, so the SIGTERM the driver sends at the
 * end (forwarded by the init) ends it.  Exits 0 when the reader goes away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	sigset_t set;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: sigpong FIFO\n");
		return 64;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	fd = open(argv[1], O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		perror("sigpong: open");
		return 1;
	}
	if (write(fd, "R", 1) != 1)
		return 1;
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			perror("sigpong: sigwaitinfo");
			return 1;
		}
		if (write(fd, "P", 1) != 1)
			return 0; /* driver closed the FIFO */
	}
}
