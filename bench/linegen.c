/*
 * linegen N [TSFILE] — the writer for the log relay bench.
 *
 * Writes N numbered lines of exactly LINEGEN_WIDTH (60) bytes to stdout:
 *
 *   0000000001 the quick brown fox jumps over the lazy dog 0123\n
 *
 * ten digits, a space, 48 filler bytes, a newline.  Lines are built in a
 * 64 KiB buffer (whole lines only, so a reader never sees a torn line
 * from us) and written with blocking write(2), retried on short writes.
 * The counter is a decimal string incremented in place: no printf in the
 * loop, so the writer is never the bottleneck.
 *
 * With TSFILE, CLOCK_REALTIME in ns at the start is written there before
 * the first line (the bench's time zero for every relay).  Exits 0, or 1
 * if a write fails (e.g. EPIPE: the reader went away).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINEGEN_WIDTH 60
#define LINEGEN_DIGITS 10
#define LINES_PER_CHUNK 1092 /* 1092 * 60 = 65520 bytes */

static const char filler[] =
    " the quick brown fox jumps over the lazy dog 0123\n";

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
write_start_ts(const char *path)
{
	struct timespec ts;
	char buf[32];
	int fd, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(buf, sizeof(buf), "%lld\n",
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, buf, (size_t)n) < 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

int
main(int argc, char **argv)
{
	static char chunk[LINES_PER_CHUNK * LINEGEN_WIDTH];
	char num[LINEGEN_DIGITS];
	unsigned long long n, i;
	size_t used = 0;
	int d;

	_Static_assert(sizeof(filler) - 1 == LINEGEN_WIDTH - LINEGEN_DIGITS,
	    "line width");
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: linegen N [TSFILE]\n");
		return 64;
	}
	n = strtoull(argv[1], NULL, 10);
	signal(SIGPIPE, SIG_DFL);
	if (argc == 3 && write_start_ts(argv[2]) < 0) {
		perror("linegen: TSFILE");
		return 1;
	}
	memset(num, '0', sizeof(num));
	for (i = 1; i <= n; i++) {
		/* ++num, in decimal */
		for (d = LINEGEN_DIGITS - 1; d >= 0; d--) {
			if (num[d] != '9') {
				num[d]++;
				break;
			}
			num[d] = '0';
		}
		memcpy(chunk + used, num, LINEGEN_DIGITS);
		memcpy(chunk + used + LINEGEN_DIGITS, filler,
		    LINEGEN_WIDTH - LINEGEN_DIGITS);
		used += LINEGEN_WIDTH;
		if (used == sizeof(chunk)) {
			if (write_all(STDOUT_FILENO, chunk, used) < 0)
				return 1;
			used = 0;
		}
	}
	if (used && write_all(STDOUT_FILENO, chunk, used) < 0)
		return 1;
	return 0;
}
