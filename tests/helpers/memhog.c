/*
 * memhog MODE — memory for the OOM killer, for the OOM watch tests.
 *
 *   memhog hog      print "hog pid=P", then fill memory 1 MiB at a time
 *                   until the OOM killer ends it (after 4 GiB: exit 3)
 *   memhog tree late|prompt|quiet
 *                   a service whose grandchild is the hog: this process
 *                   forks a middle one, which forks `memhog hog` and
 *                   then, when the hog is gone:
 *                     late    prints "hog gone" as soon as the hog's pipe
 *                             ends (the hog is a zombie, not reaped),
 *                             reaps it 1.5 s later, prints "reaped
 *                             signal N";
 *                     prompt  reaps it at once, then prints "reaped
 *                             signal N";
 *                     quiet   reaps it at once and prints nothing; here
 *                             this process and the middle one ignore
 *                             SIGTERM (a stop ends in SIGKILL).
 *                   Then both wait for a signal (at most 120 s).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void
say(const char *fmt, long v)
{
	char buf[80];
	int n = snprintf(buf, sizeof(buf), fmt, v);

	(void)!write(STDOUT_FILENO, buf, (size_t)n);
}

static int
hog(void)
{
	size_t i;

	say("hog pid=%ld\n", (long)getpid());
	for (i = 0; i < 4096; i++) {
		char *p = malloc(1 << 20);

		if (!p)
			return 2;
		memset(p, (int)i | 1, 1 << 20);
	}
	return 3;
}

static void
wait_forever(void)
{
	alarm(120);
	for (;;)
		pause();
}

/* The middle process: the hog's parent. */
static void
middle(const char *self, const char *mode)
{
	int p[2], st = 0;
	char c;
	pid_t h;

	if (pipe(p) < 0)
		_exit(1);
	h = fork();
	if (h == 0) {
		close(p[0]);
		/* p[1] stays open in the hog only: it ends with the hog. */
		execl(self, "memhog", "hog", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (strcmp(mode, "late") == 0) {
		while (read(p[0], &c, 1) > 0)
			;
		(void)!write(STDOUT_FILENO, "hog gone\n", 9);
		usleep(1500 * 1000);
	}
	if (waitpid(h, &st, 0) == h && strcmp(mode, "quiet") != 0)
		say("reaped signal %ld\n",
		    WIFSIGNALED(st) ? (long)WTERMSIG(st) : 0L);
	wait_forever();
}

int
main(int argc, char **argv)
{
	pid_t m;

	if (argc == 2 && strcmp(argv[1], "hog") == 0)
		return hog();
	if (argc != 3 || strcmp(argv[1], "tree") != 0) {
		fprintf(stderr,
		    "usage: memhog hog | memhog tree "
		    "late|prompt|quiet\n");
		return 64;
	}
	if (strcmp(argv[2], "quiet") == 0)
		signal(SIGTERM, SIG_IGN);
	m = fork();
	if (m == 0)
		middle(argv[0], argv[2]);
	if (m < 0)
		return 1;
	wait_forever();
	return 0;
}
