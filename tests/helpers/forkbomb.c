/*
 * forkbomb SECONDS MARKER — every process forks as fast as it can, for
 * SECONDS.
 *
 * Each process loops: fork.  A failure (EAGAIN at RLIMIT_NPROC) creates
 * the file MARKER, so a test sees that the limit was reached; then the
 * process exits, but the first one, which retries after 1 ms.
 * A new child exits at once one time in four (a zombie of its parent);
 * every process but the first exits after three forks, so its children
 * and zombies become orphans: they reach the reaper all the time, and
 * the bomb keeps forking into the room they leave.  The first process
 * (the service itself) forks until its time is up.
 *
 * Every process ignores SIGTERM and SIGINT: only SIGKILL stops
 * the bomb before its time.  The first process prints "bomb pid=N" at
 * the start, and "bomb: forks F refused R" to stderr when its time is up.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct timespec ms1 = { 0, 1000000 };
	double end;
	long forks = 0, refused = 0;
	pid_t first = getpid();
	int n = 0;

	if (argc != 3)
		return 64;
	end = now_s() + atof(argv[1]);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	printf("bomb pid=%d\n", (int)first);
	fflush(stdout);
	while (now_s() < end) {
		pid_t p;

		/* The first process reaps its own children, lest its zombies
		 * fill the limit and stop the bomb for good. */
		if (getpid() == first)
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		p = fork();

		if (p < 0) {
			if (!refused++)
				close(open(argv[2], O_WRONLY | O_CREAT, 0666));
			if (getpid() != first)
				_exit(0);
			nanosleep(&ms1, NULL);
			continue;
		}
		if (p == 0) {
			if (++n % 4 == 0)
				_exit(0);
			forks = 0;
			continue;
		}
		if (++forks >= 3 && getpid() != first)
			_exit(0);
	}
	if (getpid() == first)
		fprintf(stderr, "bomb: forks %ld refused %ld\n", forks,
		    refused);
	return 0;
}
