/*
 * saywait TEXT: writes TEXT and a newline to stdout first thing, in one
 * write(2), then waits in pause() until a signal ends it (at most 60 s).
 * A service whose readiness line comes as fast as a line can: it may be
 * read before the report that its exec succeeded.
 */
#include <string.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	char buf[256];
	size_t n;

	if (argc != 2 || (n = strlen(argv[1])) >= sizeof(buf) - 1)
		return 64;
	memcpy(buf, argv[1], n);
	buf[n++] = '\n';
	if (write(STDOUT_FILENO, buf, n) != (ssize_t)n)
		return 1;
	alarm(60);
	for (;;)
		pause();
}
