/*
 * forkbomb SECONDS — every process forks as fast as it can, for SECONDS.
 *
 * Each process loops: fork (a failure, EAGAIN at RLIMIT_NPROC, is
 * counted and retried after 1 ms); every fourth child exits at once, so
 * that orphans (children of exited parents) reach the reaper all the
 * time.  Every process ignores SIGTERM and SIGINT: only SIGKILL stops
 * the bomb before its time.  The first process prints "bomb pid=N" at
 * the start, and "bomb: forks F refused R" to stderr when its time is up.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

	if (argc != 2)
		return 64;
	end = now_s() + atof(argv[1]);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	printf("bomb pid=%d\n", (int)first);
	fflush(stdout);
	while (now_s() < end) {
		pid_t p = fork();

		if (p < 0) {
			refused++;
			nanosleep(&ms1, NULL);
			continue;
		}
		if (p == 0) {
			if (++n % 4 == 0)
				_exit(0);
			continue;
		}
		forks++;
	}
	if (getpid() == first)
		fprintf(stderr, "bomb: forks %ld refused %ld\n", forks,
		    refused);
	return 0;
}
