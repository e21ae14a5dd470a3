/*
 * orphans N [BATCH] — the child for the orphan-reaping bench.
 *
 * Makes N orphans by double fork: an intermediate child forks BATCH
 * (default 100) grandchildren that _exit(0) at once, then exits itself; we
 * reap the intermediate, so the grandchildren are reparented to PID 1.
 * When every fork is done we poll /proc (it must be the namespace's own
 * /proc) until no process other than PID 1 and ourselves is left, so the
 * init has really reaped all N before we exit.
 * Exit: 0 all reaped, 2 fork failed, 3 leftovers after a 60 s deadline.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void
nap_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* fork with a bounded retry on EAGAIN (pid table full while the init reaps) */
static pid_t
fork_retry(void)
{
	for (int i = 0; i < 20000; i++) {
		pid_t pid = fork();

		if (pid >= 0 || errno != EAGAIN)
			return pid;
		nap_us(1000);
	}
	return -1;
}

static long
count_others(void)
{
	pid_t self = getpid();
	long n = 0;
	struct dirent *de;
	DIR *d = opendir("/proc");

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		long pid = strtol(de->d_name, NULL, 10);
		if (pid != 1 && pid != self)
			n++;
	}
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	long batch = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
	long made = 0;

	if (n <= 0 || batch <= 0) {
		fprintf(stderr, "usage: orphans N [BATCH]\n");
		return 64;
	}
	if (getpid() == 1)
		fprintf(stderr, "orphans: warning: I am PID 1 myself\n");
	while (made < n) {
		long k = n - made < batch ? n - made : batch;
		pid_t mid = fork_retry();
		int st;

		if (mid < 0) {
			perror("orphans: fork");
			return 2;
		}
		if (mid == 0) {
			for (long i = 0; i < k; i++) {
				pid_t g = fork_retry();

				if (g == 0)
					_exit(0);
				if (g < 0)
					_exit(2);
			}
			_exit(0);
		}
		while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "orphans: a batch failed\n");
			return 2;
		}
		made += k;
	}
	/* wait (bounded) until the init has reaped every orphan */
	for (int i = 0; i < 60000; i++) {
		long left = count_others();

		if (left == 0)
			return 0;
		if (left < 0) {
			perror("orphans: /proc");
			return 3;
		}
		nap_us(1000);
	}
	fprintf(stderr, "orphans: %ld processes still around after 60 s\n",
	    count_others());
	return 3;
}
