/*
 * benchdrv — runs an init as PID 1 of a fresh PID + mount namespace (what
 * `unshare --pid --fork --mount-proc` does, done here with clone() so the
 * driver knows the init's host pid directly) and measures it.
 *
 *   benchdrv sig FIFO WARMUP ROUNDS LOG RAW -- INIT [ARG...]
 *       INIT must run `sigpong FIFO`.  Sends SIGUSR1 to the init ROUNDS
 *       times (after WARMUP unrecorded rounds), timing kill() -> the
 *       moment sigpong took the signal (the CLOCK_MONOTONIC time in its
 *       pong record: what follows in sigpong or here is not counted).
 *       Appends every sample (ns, one a line) to RAW and prints this
 *       pass's "MEDIAN_US P99_US".
 *   benchdrv stop FIFO ROUNDS SETTLE_MS LOG RAW -- INIT [ARG...]
 *       INIT must run `sigpong FIFO term`.  ROUNDS times: a fresh init,
 *       its child's ready byte, SETTLE_MS for the init to reach its idle
 *       loop, then kill(init, SIGTERM) -> the time in the child's pong
 *       record (the shutdown path: the child's own handler of the stop
 *       signal), then the init's exit.  Appends every sample (ns) to RAW and prints this
 *       pass's "MEDIAN_US P99_US".
 *   benchdrv reap LOG -- INIT [ARG...]
 *       Times clone() -> the init's exit.  Prints "MS STATUS".
 *
 * The init's stdout and stderr go to LOG.  Every wait is bounded; on any
 * failure, on SIGINT/SIGTERM/SIGHUP, and (PR_SET_PDEATHSIG) when the driver
 * dies, the init (and with it its whole namespace) is SIGKILLed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

static pid_t init_pid = -1;

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "benchdrv: %s: %s\n", what, strerror(errno));
	if (init_pid > 0) {
		kill(init_pid, SIGKILL);
		waitpid(init_pid, NULL, 0);
	}
	exit(1);
}

/* clone the init into new PID + mount namespaces with a private /proc */
static pid_t
spawn_init(char **argv, const char *log)
{
	long r = syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, NULL,
	    NULL, NULL, NULL);

	if (r < 0)
		die("clone");
	if (r > 0)
		return (pid_t)r;
	/* child: PID 1 of the new namespace */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		_exit(119);
	int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(120);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	        NULL) != 0) {
		perror("benchdrv: mount /proc");
		_exit(121);
	}
	execv(argv[0], argv);
	perror("benchdrv: exec");
	_exit(127);
}

/* wait for the init's exit for at most timeout_ms; -1 if still running */
static int
wait_init(int pidfd, int timeout_ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int st;

	for (;;) {
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		break;
	}
	if (waitpid(init_pid, &st, 0) != init_pid)
		die("waitpid");
	init_pid = -1;
	return st;
}

static void
stop_init(int pidfd)
{
	if (init_pid <= 0)
		return;
	kill(init_pid, SIGTERM);
	if (wait_init(pidfd, 10000) == -1 && init_pid > 0) {
		fprintf(stderr,
		    "benchdrv: init ignored SIGTERM for 10 s, "
		    "sending SIGKILL\n");
		kill(init_pid, SIGKILL);
		waitpid(init_pid, NULL, 0);
		init_pid = -1;
	}
}

static void
on_term(int sig)
{
	if (init_pid > 0)
		kill(init_pid, SIGKILL);
	_exit(128 + sig);
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/*
 * Read one record from the FIFO within 10 s, or notice the init died:
 * 'R' (ready), or 'P' and the CLOCK_MONOTONIC ns at which sigpong took the
 * signal (into *ns).  sigpong writes a record in one write, atomic on a pipe.
 */
static char
read_rec(int fifo, int pidfd, long long *ns)
{
	struct pollfd p[2] = { { .fd = fifo, .events = POLLIN },
		{ .fd = pidfd, .events = POLLIN } };
	char c;

	for (;;) {
		int r = poll(p, 2, 10000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			errno = ETIMEDOUT;
			die("no byte from sigpong within 10 s");
		}
		if (r < 0)
			die("poll");
		if (p[0].revents & POLLIN)
			break;
		errno = ECHILD;
		die("the init exited during the signal bench");
	}
	if (read(fifo, &c, 1) != 1)
		die("read fifo");
	if (c == 'P' && read(fifo, ns, sizeof(*ns)) != (ssize_t)sizeof(*ns))
		die("read fifo: a short pong record");
	return c;
}

static int
open_fifo(const char *path)
{
	int fifo;

	unlink(path);
	if (mkfifo(path, 0600) != 0)
		die("mkfifo");
	/* O_RDWR: never blocks, and no EOF between writers */
	fifo = open(path, O_RDWR | O_CLOEXEC);
	if (fifo < 0)
		die("open fifo");
	return fifo;
}

static int
run_sig(int argc, char **argv)
{
	/* argv: sig FIFO WARMUP ROUNDS LOG RAW -- INIT... */
	if (argc < 9 || strcmp(argv[6], "--") != 0)
		return 64;
	const char *path = argv[1];
	long warm = strtol(argv[2], NULL, 10),
	     rounds = strtol(argv[3], NULL, 10);
	long long *lat = calloc((size_t)rounds, sizeof(*lat));

	if (lat == NULL || rounds < 1 || warm < 0)
		return 64;
	int fifo = open_fifo(path);
	FILE *raw = fopen(argv[5], "a");
	if (raw == NULL)
		die("open RAW");
	init_pid = spawn_init(argv + 7, argv[4]);
	int pidfd = (int)syscall(SYS_pidfd_open, init_pid, 0);
	long long t1;
	if (pidfd < 0)
		die("pidfd_open");
	if (read_rec(fifo, pidfd, &t1) != 'R') {
		errno = EPROTO;
		die("expected the ready byte");
	}
	for (long i = 0; i < warm + rounds; i++) {
		long long t0 = now_ns();
		if (kill(init_pid, SIGUSR1) != 0)
			die("kill");
		if (read_rec(fifo, pidfd, &t1) != 'P') {
			errno = EPROTO;
			die("expected a pong record");
		}
		if (i >= warm)
			lat[i - warm] = t1 - t0;
	}
	stop_init(pidfd);
	close(fifo);
	unlink(path);
	for (long i = 0; i < rounds; i++)
		fprintf(raw, "%lld\n", lat[i]);
	if (fclose(raw) != 0)
		die("write RAW");
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp_ll);
	long p99 = (rounds * 99 + 99) / 100 - 1; /* ceil(0.99 n) - 1 */
	printf("%.1f %.1f\n", lat[rounds / 2] / 1000.0, lat[p99] / 1000.0);
	return 0;
}

/* One stop sample: fresh init, ready, settle, SIGTERM -> pong, exit. */
static long long
stop_once(int fifo, long settle_ms, char **init_argv, const char *log)
{
	struct timespec settle = { settle_ms / 1000,
		(settle_ms % 1000) * 1000000L };
	long long t0, t1;
	int pidfd;

	init_pid = spawn_init(init_argv, log);
	pidfd = (int)syscall(SYS_pidfd_open, init_pid, 0);
	if (pidfd < 0)
		die("pidfd_open");
	if (read_rec(fifo, pidfd, &t1) != 'R') {
		errno = EPROTO;
		die("expected the ready byte");
	}
	while (nanosleep(&settle, &settle) != 0 && errno == EINTR)
		;
	t0 = now_ns();
	if (kill(init_pid, SIGTERM) != 0)
		die("kill");
	if (read_rec(fifo, pidfd, &t1) != 'P') {
		errno = EPROTO;
		die("expected a pong record");
	}
	if (wait_init(pidfd, 10000) == -1) {
		errno = ETIMEDOUT;
		die("the init did not exit within 10 s of its child");
	}
	close(pidfd);
	return t1 - t0;
}

static int
run_stop(int argc, char **argv)
{
	/* argv: stop FIFO ROUNDS SETTLE_MS LOG RAW -- INIT... */
	if (argc < 9 || strcmp(argv[6], "--") != 0)
		return 64;
	long rounds = strtol(argv[2], NULL, 10),
	     settle = strtol(argv[3], NULL, 10);
	long long *lat = calloc((size_t)rounds, sizeof(*lat));

	if (lat == NULL || rounds < 1 || settle < 0)
		return 64;
	int fifo = open_fifo(argv[1]);
	FILE *raw = fopen(argv[5], "a");
	if (raw == NULL)
		die("open RAW");
	for (long i = 0; i < rounds; i++)
		lat[i] = stop_once(fifo, settle, argv + 7, argv[4]);
	close(fifo);
	unlink(argv[1]);
	for (long i = 0; i < rounds; i++)
		fprintf(raw, "%lld\n", lat[i]);
	if (fclose(raw) != 0)
		die("write RAW");
	qsort(lat, (size_t)rounds, sizeof(*lat), cmp_ll);
	long p99 = (rounds * 99 + 99) / 100 - 1;
	printf("%.1f %.1f\n", lat[rounds / 2] / 1000.0, lat[p99] / 1000.0);
	return 0;
}

static int
run_reap(int argc, char **argv)
{
	/* argv: reap LOG -- INIT... */
	if (argc < 4 || strcmp(argv[2], "--") != 0)
		return 64;
	long long t0 = now_ns();
	init_pid = spawn_init(argv + 3, argv[1]);
	int pidfd = (int)syscall(SYS_pidfd_open, init_pid, 0);
	if (pidfd < 0)
		die("pidfd_open");
	int st = wait_init(pidfd, 120000);
	long long t1 = now_ns();
	if (st == -1) {
		errno = ETIMEDOUT;
		die("the init did not exit within 120 s");
	}
	printf("%.3f %d\n", (t1 - t0) / 1e6,
	    WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

int
main(int argc, char **argv)
{
	int r = 64;

	signal(SIGINT, on_term);
	signal(SIGTERM, on_term);
	signal(SIGHUP, on_term);

	if (argc > 1 && strcmp(argv[1], "sig") == 0)
		r = run_sig(argc - 1, argv + 1);
	else if (argc > 1 && strcmp(argv[1], "stop") == 0)
		r = run_stop(argc - 1, argv + 1);
	else if (argc > 1 && strcmp(argv[1], "reap") == 0)
		r = run_reap(argc - 1, argv + 1);
	if (r == 64)
		fprintf(stderr,
		    "usage: benchdrv sig FIFO WARMUP ROUNDS LOG RAW -- "
		    "INIT...\n       benchdrv stop FIFO ROUNDS SETTLE_MS LOG RAW "
		    "-- INIT...\n       benchdrv reap LOG -- INIT...\n");
	return r;
}
