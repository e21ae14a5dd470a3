/*
 * restarter [FILE] — the crashing service of the restart latency bench.
 *
 * Takes CLOCK_MONOTONIC as the first thing in main(), then again just
 * before it leaves, appends "START_NS END_NS\n" to FILE (default
 * "restarts.log" in the current directory, which is the service directory
 * under runsv and s6-supervise, where `run` is a symlink to this program)
 * with one O_APPEND write, and exits 1.  Run as `run` it ignores its
 * arguments (s6-supervise passes the service directory).  The restart latency of a
 * supervisor is then the next record's START minus this record's END: the
 * exit, the reap, the supervisor's decision and any delay, fork, exec.
 * CLOCK_MONOTONIC is one clock for every process on the machine.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	long long start = mono_ns(), end;
	const char *base = strrchr(argv[0], '/');
	char buf[64];
	int fd, n;

	base = base ? base + 1 : argv[0];
	fd = open(argc > 1 && strcmp(base, "run") != 0 ? argv[1]
	                                               : "restarts.log",
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return 2;
	end = mono_ns();
	n = snprintf(buf, sizeof(buf), "%lld %lld\n", start, end);
	if (write(fd, buf, (size_t)n) != n)
		return 2;
	return 1;
}
