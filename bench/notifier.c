/*
 * notifier — sd_notify senders for the readiness latency bench.
 *
 *   notifier TSFILE [DELAY_MS]
 *       A fake service: sleeps DELAY_MS (default 20), takes CLOCK_REALTIME,
 *       sends "READY=1" to $NOTIFY_SOCKET at once, then writes that time
 *       (ns) to TSFILE ("-": nowhere) and waits for a signal (SIGTERM ends
 *       it).  With NOTIFIER_WATCHDOG_MS=N in its environment it sends
 *       "WATCHDOG=1" every N ms meanwhile (the idle wake-ups bench).  An
 *       abstract address "@name" becomes sun_path[0] = 0 + name, with the
 *       address length counting only the bytes of the name.
 *
 *   dockerd ARGS...   (this program installed under the name `dockerd`)
 *       A relay in front of the real dockerd, to time the real READY=1:
 *       binds an abstract socket of its own, runs $BENCH_RELAY_EXEC ARGS
 *       with NOTIFY_SOCKET pointing there, and forwards every datagram to
 *       its own $NOTIFY_SOCKET (agent-init's) right after appending
 *       CLOCK_REALTIME ns to $BENCH_RELAY_TS for each one holding READY=1.
 *       It ignores SIGTERM, SIGINT, SIGQUIT and SIGHUP (agent-init stops
 *       the whole process group, so the real dockerd gets them) and exits
 *       with the child's status once the child is gone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* "@name" (abstract) or "/path" into un; returns the address length. */
static socklen_t
make_addr(const char *s, struct sockaddr_un *un)
{
	size_t n = strlen(s);

	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	if (n == 0 || n >= sizeof(un->sun_path))
		return 0;
	memcpy(un->sun_path, s, n);
	if (s[0] == '@')
		un->sun_path[0] = 0;
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (s[0] == '@' ? 0 : 1));
}

static void
append_ts(const char *path, long long ns)
{
	char buf[32];
	int fd, n;

	if (!path || strcmp(path, "-") == 0)
		return;
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "%lld\n", ns);
	(void)!write(fd, buf, (size_t)n);
	close(fd);
}

static int
fake_service(int argc, char **argv)
{
	const char *ns = getenv("NOTIFY_SOCKET");
	struct timespec d = { 0, 20 * 1000000L };
	struct sockaddr_un un;
	socklen_t len;
	long long t;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: notifier TSFILE [DELAY_MS]\n");
		return 64;
	}
	if (argc == 3) {
		long ms = atol(argv[2]);

		d.tv_sec = ms / 1000;
		d.tv_nsec = (ms % 1000) * 1000000L;
	}
	if (!ns || !(len = make_addr(ns, &un))) {
		fprintf(stderr, "notifier: no usable NOTIFY_SOCKET\n");
		return 1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	nanosleep(&d, NULL);
	t = real_ns();
	if (sendto(fd, "READY=1", 7, 0, (struct sockaddr *)&un, len) != 7) {
		perror("notifier: sendto");
		return 1;
	}
	append_ts(argv[1], t);
	if (getenv("NOTIFIER_WATCHDOG_MS")) {
		long ms = atol(getenv("NOTIFIER_WATCHDOG_MS"));
		struct timespec p = { ms / 1000, (ms % 1000) * 1000000L };

		for (;;) {
			nanosleep(&p, NULL);
			(void)sendto(fd, "WATCHDOG=1", 10, 0,
			    (struct sockaddr *)&un, len);
		}
	}
	for (;;)
		pause();
}

static int
relay(char **argv)
{
	const char *exe = getenv("BENCH_RELAY_EXEC");
	const char *tsfile = getenv("BENCH_RELAY_TS");
	const char *up = getenv("NOTIFY_SOCKET");
	struct sockaddr_un mine, theirs;
	socklen_t mlen, tlen = 0;
	char name[64];
	int fd, status;
	pid_t pid;

	if (!exe) {
		fprintf(stderr, "dockerd relay: BENCH_RELAY_EXEC not set\n");
		return 1;
	}
	if (up)
		tlen = make_addr(up, &theirs);
	snprintf(name, sizeof(name), "@bench-relay/%d", (int)getpid());
	mlen = make_addr(name, &mine);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&mine, mlen) < 0) {
		perror("dockerd relay: socket");
		return 1;
	}
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		setenv("NOTIFY_SOCKET", name, 1);
		argv[0] = (char *)exe;
		execv(exe, argv);
		perror("dockerd relay: exec");
		_exit(127);
	}
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char buf[4096];
		pid_t w;

		if (poll(&p, 1, 100) > 0) {
			ssize_t n =
			    recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

			if (n > 0) {
				long long t = real_ns();

				buf[n] = 0;
				if (tlen)
					(void)sendto(fd, buf, (size_t)n, 0,
					    (struct sockaddr *)&theirs, tlen);
				if (strstr(buf, "READY=1"))
					append_ts(tsfile, t);
			}
		}
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status)
			                         : 128 + WTERMSIG(status);
		if (w < 0 && errno != EINTR)
			return 1;
	}
}

int
main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	if (strcmp(base, "dockerd") == 0)
		return relay(argv);
	return fake_service(argc, argv);
}
