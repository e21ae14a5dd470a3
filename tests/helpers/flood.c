/*
 * flood N LEN — N numbered lines of LEN bytes (newline included) on
 * stdout, as fast as the pipe takes them, in 64 KiB writes (lines cross
 * the write boundaries).
 *
 * Line K (from 1) is "%010u " then 'a' + K % 26 repeated to fill LEN - 1
 * bytes, then "\n" (LEN >= 12).  Each SIGUSR1 is reported on stderr as
 * "flood: SIGUSR1 #I at line K" as soon as the current write returns (or
 * is interrupted), so a test sees that a signal reached the writer while
 * its stdout was stalled.  Prints "flood: done N" on stderr at the end.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK 65536

static volatile sig_atomic_t usr1;

static void
on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void
report(unsigned int k)
{
	static int seen;

	while (seen < usr1)
		fprintf(stderr, "flood: SIGUSR1 #%d at line %u\n", ++seen, k);
}

int
main(int argc, char **argv)
{
	static char buf[CHUNK + 4096];
	struct sigaction sa;
	unsigned int n, len, k;
	size_t fill = 0, off;

	if (argc != 3 || (len = (unsigned int)atoi(argv[2])) < 12 || len > 4096)
		return 64;
	n = (unsigned int)strtoul(argv[1], NULL, 10);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART: see it during a write */
	sigaction(SIGUSR1, &sa, NULL);
	setvbuf(stderr, NULL, _IOLBF, 0);
	for (k = 1; k <= n; k++) {
		snprintf(buf + fill, 12, "%010u ", k);
		memset(buf + fill + 11, 'a' + (int)(k % 26), len - 12);
		buf[fill + len - 1] = '\n';
		fill += len;
		if (fill < CHUNK && k < n)
			continue;
		for (off = 0; off < fill;) {
			ssize_t w = write(1, buf + off, fill - off);

			report(k);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				fprintf(stderr, "flood: write: %s\n",
				    strerror(errno));
				return 1;
			}
			off += (size_t)w;
		}
		fill = 0;
	}
	report(n);
	fprintf(stderr, "flood: done %u\n", n);
	return 0;
}
