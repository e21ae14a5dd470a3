/*
 * idle — a service that does nothing, for the shutdown bench's config
 * row: writes "idle" and a newline (its readiness, `ready = log:idle`),
 * then waits in pause() until a signal ends it.  Static and tiny, so
 * that nothing of its start-up is still running when the bench sends
 * SIGTERM (a dynamic /bin/sleep still loading on a loaded machine was
 * measured instead of agent-init).
 */
#include <unistd.h>

int
main(void)
{
	if (write(STDOUT_FILENO, "idle\n", 5) != 5)
		return 1;
	for (;;)
		pause();
}
