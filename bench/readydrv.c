/*
 * readydrv RUNS TSFILE -- AGENT_INIT [ARG...]
 *
 * The driver of the readiness latency bench.  RUNS times: runs the
 * command (agent-init with a config whose service is `notifier TSFILE`
 * with `ready = notify`) with its stdout on a pipe, and reads the event
 * lines.  At the `service_ready` line it takes CLOCK_REALTIME (arrival),
 * parses the event's "ts" (ms resolution, truncated), reads the time the
 * notifier took just before its sendto() from TSFILE, sends SIGTERM to the
 * command, reads to end of file and reaps it.  Prints one line per run:
 *
 *   SEND_NS TS_MS ARRIVAL_NS
 *
 * TS_MS - SEND_NS/1e6 is the event's own view (ms resolution: the true
 * delay is up to 1 ms more); ARRIVAL_NS - SEND_NS is an upper bound with
 * ns resolution (it includes the pipe hop to us).  Every wait is bounded
 * (10 s); a run that times out prints "fail" and the driver exits 1 at
 * the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000

static long long
clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "ts":"2026-11-22T16:12:51.123Z" -> epoch ms, or -1. */
static long long
parse_ts(const char *line)
{
	const char *p = strstr(line, "\"ts\":\"");
	struct tm tm;
	int ms;

	if (!p)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(p + 6, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year,
	        &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
	        &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

static long long
read_send_ns(const char *path)
{
	long long deadline = clock_ns(CLOCK_MONOTONIC) + WAIT_MS * 1000000LL;
	struct timespec ms = { 0, 1000000 };

	while (clock_ns(CLOCK_MONOTONIC) < deadline) {
		FILE *f = fopen(path, "re");
		long long v = -1;

		if (f) {
			if (fscanf(f, "%lld", &v) != 1)
				v = -1;
			fclose(f);
		}
		if (v > 0)
			return v;
		nanosleep(&ms, NULL);
	}
	return -1;
}

/* Read lines from fd until service_ready; arrival time into *ret_arr. */
static long long
wait_ready(int fd, long long *ret_arr)
{
	static char buf[1 << 16];
	long long deadline = clock_ns(CLOCK_MONOTONIC) + WAIT_MS * 1000000LL;
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left =
		    (deadline - clock_ns(CLOCK_MONOTONIC)) / 1000000LL;
		char *nl;
		ssize_t r;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			return -1;
		len += (size_t)r;
		buf[len] = 0;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = 0;
			if (strstr(buf, "\"agent_init\":\"service_ready\"")) {
				*ret_arr = clock_ns(CLOCK_REALTIME);
				return parse_ts(buf);
			}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
		if (len == sizeof(buf) - 1)
			len = 0;
	}
}

/* SIGTERM, read to end of file (bounded), reap; SIGKILL if it hangs. */
static void
finish(pid_t pid, int fd)
{
	long long deadline = clock_ns(CLOCK_MONOTONIC) + WAIT_MS * 1000000LL;
	char buf[4096];

	kill(pid, SIGTERM);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (clock_ns(CLOCK_MONOTONIC) > deadline) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, 100) > 0 && read(fd, buf, sizeof(buf)) <= 0)
			break;
	}
	close(fd);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int
main(int argc, char **argv)
{
	int runs, i, failed = 0;

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: readydrv RUNS TSFILE -- CMD...\n");
		return 64;
	}
	runs = atoi(argv[1]);
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < runs; i++) {
		long long arr = 0, ts, send;
		int p[2];
		pid_t pid;

		unlink(argv[2]);
		if (pipe2(p, O_CLOEXEC) < 0)
			return 1;
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			dup2(p[1], STDOUT_FILENO);
			execv(argv[4], argv + 4);
			_exit(127);
		}
		close(p[1]);
		ts = wait_ready(p[0], &arr);
		send = ts >= 0 ? read_send_ns(argv[2]) : -1;
		finish(pid, p[0]);
		if (ts < 0 || send < 0) {
			printf("fail\n");
			failed++;
			continue;
		}
		printf("%lld %lld %lld\n", send, ts, arr);
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
