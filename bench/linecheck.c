/*
 * linecheck — verify and wait for the output of the log relay bench.
 *
 *   linecheck check N PREFIX FILE...
 *       Reads the FILEs in order as one stream and checks that it holds the
 *       N lines of `linegen N`, each preceded by PREFIX ("" for none), every
 *       one exactly once and in order.  Prints one line:
 *         lines=L distinct=D lost=N-D dup=L-D disorder=O foreign=F bytes=B
 *       (disorder: a line whose number is below the one before it;
 *       foreign: a line that is not PREFIX + a linegen line).  Exits 0
 *       when everything is perfect, 1 otherwise, 2 on a usage/read error.
 *
 *   linecheck wait FILE BYTES STALL_MS TIMEOUT_MS
 *       Polls FILE's size every 1 ms until it reaches BYTES, or has not
 *       grown for STALL_MS, or TIMEOUT_MS passed.  Prints
 *         REALTIME_NS SIZE full|stalled|timeout
 *       where REALTIME_NS is CLOCK_REALTIME when the size last changed
 *       (so a stall does not count the stall itself).  Used for
 *       supervisord, whose log file has no end-of-stream to wait on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WIDTH 60
#define DIGITS 10

static const char filler[] =
    " the quick brown fox jumps over the lazy dog 0123";

struct tally {
	unsigned long long n, lines, distinct, dup, disorder, foreign, bytes;
	unsigned long long last;
	unsigned char *seen; /* bitmap, n + 1 bits */
	const char *prefix;
	size_t plen;
};

static long long
now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One line without its newline. */
static void
line(struct tally *t, const char *p, size_t len)
{
	unsigned long long k = 0;
	size_t i;

	t->lines++;
	if (len != t->plen + WIDTH - 1 || memcmp(p, t->prefix, t->plen) != 0)
		goto foreign;
	p += t->plen;
	for (i = 0; i < DIGITS; i++) {
		if (p[i] < '0' || p[i] > '9')
			goto foreign;
		k = k * 10 + (unsigned long long)(p[i] - '0');
	}
	if (memcmp(p + DIGITS, filler, WIDTH - DIGITS - 1) != 0 || k == 0 ||
	    k > t->n)
		goto foreign;
	if (t->seen[k / 8] & (1u << (k % 8)))
		t->dup++;
	else {
		t->seen[k / 8] |= (unsigned char)(1u << (k % 8));
		t->distinct++;
	}
	if (k < t->last)
		t->disorder++;
	t->last = k;
	return;
foreign:
	t->foreign++;
}

static int
check(int argc, char **argv)
{
	static char buf[1 << 20];
	struct tally t;
	size_t carry = 0;
	int i;

	memset(&t, 0, sizeof(t));
	t.n = strtoull(argv[2], NULL, 10);
	t.prefix = argv[3];
	t.plen = strlen(argv[3]);
	t.seen = calloc(t.n / 8 + 1, 1);
	if (!t.seen || t.plen > 1000)
		return 2;
	for (i = 4; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		ssize_t r;

		if (fd < 0) {
			fprintf(stderr, "linecheck: %s: %s\n", argv[i],
			    strerror(errno));
			return 2;
		}
		while ((r = read(fd, buf + carry, sizeof(buf) - carry)) > 0) {
			size_t len = carry + (size_t)r, off = 0;
			char *nl;

			t.bytes += (unsigned long long)r;
			while ((nl = memchr(buf + off, '\n', len - off))) {
				line(&t, buf + off, (size_t)(nl - buf - off));
				off = (size_t)(nl - buf) + 1;
			}
			carry = len - off;
			memmove(buf, buf + off, carry);
			if (carry == sizeof(buf)) { /* absurd line: drop it */
				t.lines++;
				t.foreign++;
				carry = 0;
			}
		}
		close(fd);
		if (r < 0)
			return 2;
	}
	if (carry) /* an unterminated last line */
		line(&t, buf, carry);
	printf("lines=%llu distinct=%llu lost=%llu dup=%llu disorder=%llu "
	       "foreign=%llu bytes=%llu\n",
	    t.lines, t.distinct, t.n - t.distinct,
	    t.lines - t.foreign - t.distinct, t.disorder, t.foreign, t.bytes);
	return (t.distinct == t.n && t.lines == t.n && t.disorder == 0) ? 0 : 1;
}

static int
wait_size(char **argv)
{
	long long want = atoll(argv[3]);
	long long stall_ns = atoll(argv[4]) * 1000000LL;
	long long deadline =
	    now_ns(CLOCK_MONOTONIC) + atoll(argv[5]) * 1000000LL;
	long long size = -1, changed_mono = now_ns(CLOCK_MONOTONIC);
	long long changed_real = now_ns(CLOCK_REALTIME);
	const char *how = "timeout";
	struct timespec ms = { 0, 1000000 };

	for (;;) {
		struct stat st;
		long long now = now_ns(CLOCK_MONOTONIC);

		if (stat(argv[2], &st) == 0 && st.st_size != size) {
			size = st.st_size;
			changed_mono = now;
			changed_real = now_ns(CLOCK_REALTIME);
		}
		if (size >= want) {
			how = "full";
			break;
		}
		if (size > 0 && now - changed_mono > stall_ns) {
			how = "stalled";
			break;
		}
		if (now > deadline)
			break;
		nanosleep(&ms, NULL);
	}
	printf("%lld %lld %s\n", changed_real, size, how);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "check") == 0)
		return check(argc, argv);
	if (argc == 6 && strcmp(argv[1], "wait") == 0)
		return wait_size(argv);
	fprintf(stderr,
	    "usage: linecheck check N PREFIX FILE...\n"
	    "       linecheck wait FILE BYTES STALL_MS TIMEOUT_MS\n");
	return 2;
}
