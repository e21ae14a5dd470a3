/*
 * killself SIG: dies by signal SIG (a number or a name such as KILL,
 * TERM, USR1), with its default disposition and unblocked.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const struct {
	const char *name;
	int sig;
} sigs[] = {
	{ "HUP", SIGHUP },
	{ "INT", SIGINT },
	{ "KILL", SIGKILL },
	{ "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE },
	{ "ALRM", SIGALRM },
	{ "TERM", SIGTERM },
};

int
main(int argc, char **argv)
{
	const char *name;
	sigset_t set;
	size_t i;
	int sig;

	if (argc != 2)
		return 64;
	name = argv[1];
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	sig = atoi(name);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcasecmp(name, sigs[i].name))
			sig = sigs[i].sig;
	if (sig <= 0 || sig >= 32)
		return 64;
	if (sig != SIGKILL)
		signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	kill(getpid(), sig);
	/* Still here: the signal did not kill us. */
	return 1;
}
