/*
 * crashy HOLD — a service that crashes at once, for restart soaks.
 *
 * Exits 1 at once, unless the file HOLD exists: then it prints
 * "holding pid=N" and stays until HOLD is removed (at most 60 s), and
 * exits 1.  A test lets it crash thousands of times, then creates HOLD
 * to freeze the supervisor in a steady state (one running service) to
 * measure agent-init there, and removes HOLD to let the crashes go on.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec ms5 = { 0, 5000000 };
	int i;

	if (argc != 2)
		return 64;
	if (access(argv[1], F_OK) != 0)
		return 1;
	printf("holding pid=%d\n", (int)getpid());
	fflush(stdout);
	for (i = 0; i < 12000 && access(argv[1], F_OK) == 0; i++)
		nanosleep(&ms5, NULL);
	return 1;
}
