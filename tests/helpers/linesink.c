/*
 * linesink PREFIX LEN N STALLFILE GATE AT... — the reader of agent-init's
 * stdout in the flood tests: checks every line, and stalls on demand.
 *
 * Reads stdin to its end.  Lines that start with '{' are events and are
 * skipped; every other line must be PREFIX then flood's line K (see
 * flood.c) with K counting 1, 2, 3, ... exactly.  At each byte offset AT
 * (ascending; the I-th, from 1) it stops reading: creates STALLFILE.I
 * containing the offset, waits until GATE.I exists (at most 120 s), and
 * goes on (distinct names: a gate opened twice can never be mistaken for
 * the next one).  At the end it prints "linesink: lines L bad B bytes T
 * stalls S" and exits 0 iff B is 0 and L is N.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char line[8192];
static size_t llen;
static unsigned long lines, bad;
static const char *prefix;
static size_t plen, len;

static void
check(void)
{
	char want[16];
	size_t i;
	unsigned long k = lines + 1;

	if (llen && line[0] == '{')
		return;
	lines++;
	snprintf(want, sizeof(want), "%010lu ", k);
	if (llen != plen + len - 1 || memcmp(line, prefix, plen) ||
	    memcmp(line + plen, want, 11))
		goto wrong;
	for (i = plen + 11; i < llen; i++)
		if (line[i] != (char)('a' + k % 26))
			goto wrong;
	return;
wrong:
	if (bad++ < 5)
		fprintf(stderr, "linesink: bad line %lu: %.60s\n", k, line);
}

static void
stall(const char *stallbase, const char *gatebase, int nth,
    unsigned long long at)
{
	struct timespec ms10 = { 0, 10000000 };
	char stallfile[4096], gate[4096];
	FILE *f;
	int i;

	snprintf(stallfile, sizeof(stallfile), "%s.%d", stallbase, nth);
	snprintf(gate, sizeof(gate), "%s.%d", gatebase, nth);
	f = fopen(stallfile, "w");
	if (f) {
		fprintf(f, "%llu\n", at);
		fclose(f);
	}
	for (i = 0; i < 12000 && access(gate, F_OK) != 0; i++)
		nanosleep(&ms10, NULL);
}

int
main(int argc, char **argv)
{
	static char buf[1 << 16];
	unsigned long long total = 0, n, at;
	int next = 6, stalls = 0;

	if (argc < 6)
		return 64;
	prefix = argv[1];
	plen = strlen(prefix);
	len = (size_t)atoi(argv[2]);
	n = strtoull(argv[3], NULL, 10);
	if (len < 12 || plen + len > sizeof(line))
		return 64;
	for (;;) {
		size_t want = sizeof(buf);
		ssize_t r;
		char *p, *e;

		at = next < argc ? strtoull(argv[next], NULL, 10) : 0;
		if (next < argc && total >= at) {
			stall(argv[4], argv[5], ++stalls, total);
			next++;
			continue;
		}
		if (next < argc && at - total < want)
			want = (size_t)(at - total);
		r = read(0, buf, want);
		if (r <= 0)
			break;
		total += (unsigned long long)r;
		for (p = buf, e = buf + r; p < e; p++) {
			if (*p == '\n') {
				check();
				llen = 0;
			} else if (llen < sizeof(line) - 1)
				line[llen++] = *p;
			else
				llen = sizeof(line); /* too long: bad */
		}
	}
	if (llen)
		check();
	printf("linesink: lines %lu bad %lu bytes %llu stalls %d\n", lines, bad,
	    total, stalls);
	return bad == 0 && lines == n ? 0 : 1;
}
