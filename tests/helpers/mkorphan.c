/*
 * mkorphan [SECS]: leaves one orphan behind and prints "orphan PID" once
 * its parent is gone (reaped here), so that the orphan has been handed to
 * the reaper by then.  Then both the orphan and this process wait, each
 * until a signal with default disposition (SIGTERM) ends it, or for SECS
 * seconds (default 60; SIGALRM) as a safety net.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	unsigned int secs = argc > 1 ? (unsigned int)atoi(argv[1]) : 60;
	int p[2], n;
	pid_t child, orphan = 0;
	char buf[64];

	if (pipe(p) < 0)
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		pid_t g = fork();

		if (g == 0) {
			close(p[0]);
			close(p[1]);
			alarm(secs);
			for (;;)
				pause();
		}
		/* Tell the parent the grandchild's pid, then leave. */
		(void)!write(p[1], &g, sizeof(g));
		_exit(g < 0);
	}
	close(p[1]);
	if (read(p[0], &orphan, sizeof(orphan)) != sizeof(orphan) ||
	    orphan <= 0)
		return 1;
	close(p[0]);
	if (waitpid(child, NULL, 0) != child)
		return 1;
	n = snprintf(buf, sizeof(buf), "orphan %ld\n", (long)orphan);
	(void)!write(STDOUT_FILENO, buf, (size_t)n);
	alarm(secs);
	for (;;)
		pause();
}
