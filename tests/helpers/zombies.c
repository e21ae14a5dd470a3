/*
 * zombies N [MODE [GATE]] — children for the pids watch tests.
 *
 *   MODE leave (default)  fork N children that exit at once and never
 *                         reap them: N zombies
 *   MODE reap             the same, reaping each one: no zombie stays
 *   MODE live             fork N children that stay (they wait for a
 *                         signal): N live pids
 *
 * Prints "zombies pid=P n=N" once they are all made.  With GATE (leave
 * mode), once the file GATE exists, it makes N more and prints the line
 * again with the new total.  Then it waits for a signal (at most 120 s);
 * the live children too.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int
make(long n, const char *mode)
{
	long i;

	for (i = 0; i < n; i++) {
		pid_t c = fork();

		if (c < 0)
			return -1;
		if (c == 0) {
			if (strcmp(mode, "live") == 0) {
				alarm(120);
				for (;;)
					pause();
			}
			_exit(0);
		}
		if (strcmp(mode, "reap") == 0)
			(void)waitpid(c, NULL, 0);
	}
	return 0;
}

static void
say(long total)
{
	char buf[80];
	int k = snprintf(buf, sizeof(buf), "zombies pid=%ld n=%ld\n",
	    (long)getpid(), total);

	(void)!write(STDOUT_FILENO, buf, (size_t)k);
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "leave";
	const char *gate = argc > 3 ? argv[3] : NULL;
	long n = argc > 1 ? atol(argv[1]) : 0;
	struct stat st;
	int t;

	if (n <= 0 ||
	    (strcmp(mode, "leave") && strcmp(mode, "reap") &&
	        strcmp(mode, "live"))) {
		fprintf(stderr, "usage: zombies N [leave|reap|live [GATE]]\n");
		return 64;
	}
	if (make(n, mode) < 0)
		return 1;
	say(n);
	/* The gate: polled every 10 ms, for at most 60 s. */
	for (t = 0; gate && t < 6000; t++) {
		if (stat(gate, &st) == 0) {
			if (make(n, mode) < 0)
				return 1;
			say(2 * n);
			break;
		}
		usleep(10 * 1000);
	}
	alarm(120);
	for (;;)
		pause();
}
