/*
 * sigpong FIFO [term] — the child for the signal latency benches.
 *
 * Blocks SIGUSR1, opens FIFO for writing, writes one 'R' (ready), then for
 * every SIGUSR1 it takes with sigwaitinfo() writes one 'P' followed by the
 * CLOCK_MONOTONIC time (ns, 8 bytes) read right after sigwaitinfo()
 * returned: the moment the child handles the signal, whatever happens to
 * the driver's or our own scheduling after it (one write of 9 bytes, atomic
 * on a pipe).  Any other
 * signal keeps its default action, so the SIGTERM the driver sends at the
 * end (forwarded by the init) ends it.  Exits 0 when the reader goes away.
 *
 * With "term" it answers SIGTERM instead, once: one 'P' record, then exit 0 (the
 * shutdown bench: SIGTERM to the init -> the child's handler).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	sigset_t set;
	int fd, term;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "term"))) {
		fprintf(stderr, "usage: sigpong FIFO [term]\n");
		return 64;
	}
	term = argc == 3;
	sigemptyset(&set);
	sigaddset(&set, term ? SIGTERM : SIGUSR1);
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
		struct timespec ts;
		char rec[9] = { 'P' };
		long long ns;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		memcpy(rec + 1, &ns, sizeof(ns));
		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec) || term)
			return 0; /* driver closed the FIFO, or done */
	}
}
