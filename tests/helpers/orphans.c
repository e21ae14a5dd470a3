/*
 * orphans [-b BATCH] [-c] [-r PID] [-f] N
 *
 * Makes N orphans by double fork: a child forks a grandchild and exits at
 * once, so the grandchild is reparented to the nearest reaper (PID 1 of
 * the namespace, or agent-init as a child subreaper).  Each grandchild
 * waits for its parent to be gone (end of file on a pipe only the parent
 * held) and exits with code 7, so `reaped` events of orphans are told from
 * anything else by their code.  The children are reaped here; the
 * grandchildren never are.  Works in batches of BATCH (default 100) so
 * that the pids in flight stay bounded.
 *
 *   -c  afterwards, wait (up to 30 s) until no process but us has the
 *       reaper as its parent, that is until every orphan was reaped;
 *       prints "orphans: left K" and exits 0 when K is 0, else 3.
 *   -r  the reaper's pid, for -c (default: our parent).
 *   -f  forever: keep making orphans until SIGTERM or 60 s; N is ignored.
 *
 * A reaper that falls behind would leave zombies holding pids, and pids
 * are a machine-wide resource (pid_max is 32768 here): before each batch
 * we wait while the machine has more than MAX_BACKLOG tasks above what it
 * had when we started (the total of /proc/loadavg counts zombies too).
 *
 * Prints "orphans: started" first and "orphans: made N" when done.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BACKLOG 2000

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
say(const char *fmt, long v)
{
	char buf[128];
	int n = snprintf(buf, sizeof(buf), fmt, v);

	/* Every line is one write(2), so lines of processes never mix. */

	if (n > 0)
		(void)!write(STDOUT_FILENO, buf, (size_t)n);
}

static void
pause_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* Tasks on the machine, zombies included; -1 if unknown. */
static long
tasks(void)
{
	long running, total = -1;
	FILE *f = fopen("/proc/loadavg", "re");

	if (f) {
		if (fscanf(f, "%*s %*s %*s %ld/%ld", &running, &total) != 2)
			total = -1;
		fclose(f);
	}
	return total;
}

/* fork(), retried for a while when the system is short of pids. */
static pid_t
fork_retry(void)
{
	int tries;
	pid_t p;

	for (tries = 0; tries < 2000; tries++) {
		p = fork();
		if (p >= 0 || errno != EAGAIN)
			return p;
		pause_ms(5);
	}
	return -1;
}

/* The child of a double fork: leave one orphan behind and go. */
static void
make_one(void)
{
	int p[2];
	char c;

	if (pipe(p) < 0)
		_exit(1);
	switch (fork_retry()) {
	case -1:
		_exit(1);
	case 0:
		close(p[1]);
		/* Blocks until our parent exited and closed its end. */
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(7);
	default:
		_exit(0);
	}
}

/* Processes whose parent is the reaper, but for us and our parent. */
static long
left_with(pid_t reaper)
{
	pid_t me = getpid(), parent = getppid();
	struct dirent *d;
	long n = 0;
	DIR *dir = opendir("/proc");

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		char path[300], buf[512], *p;
		long ppid;
		FILE *f;

		if (d->d_name[0] < '1' || d->d_name[0] > '9' ||
		    atol(d->d_name) == me || atol(d->d_name) == parent)
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (p && (p = strrchr(buf, ')')) &&
		    sscanf(p + 1, " %*c %ld", &ppid) == 1 && ppid == reaper)
			n++;
	}
	closedir(dir);
	return n;
}

int
main(int argc, char **argv)
{
	long n = 0, batch = 100, made = 0, i, k, left = 0;
	int check = 0, forever = 0, opt;
	pid_t reaper = getppid();
	double t0 = now_s();
	long base = tasks();

	while ((opt = getopt(argc, argv, "b:cr:f")) != -1) {
		switch (opt) {
		case 'b':
			batch = atol(optarg);
			break;
		case 'c':
			check = 1;
			break;
		case 'r':
			reaper = (pid_t)atol(optarg);
			break;
		case 'f':
			forever = 1;
			break;
		default:
			return 64;
		}
	}
	if (optind < argc)
		n = atol(argv[optind]);
	if ((n <= 0 && !forever) || batch <= 0)
		return 64;
	say("orphans: started\n", 0);
	while (forever ? now_s() - t0 < 60 : made < n) {
		while (base >= 0 && tasks() > base + MAX_BACKLOG &&
		    now_s() - t0 < 60)
			pause_ms(1);
		k = forever ? batch : (n - made < batch ? n - made : batch);
		for (i = 0; i < k; i++) {
			pid_t p = fork_retry();

			if (p < 0) {
				perror("orphans: fork");
				return 1;
			}
			if (p == 0)
				make_one();
		}
		for (i = 0; i < k; i++)
			while (wait(NULL) < 0 && errno == EINTR)
				;
		made += k;
	}
	say("orphans: made %ld\n", made);
	if (!check)
		return 0;
	t0 = now_s();
	while (now_s() - t0 < 30) {
		left = left_with(reaper);
		if (left == 0)
			break;
		pause_ms(10);
	}
	say("orphans: left %ld\n", left);
	return left == 0 ? 0 : 3;
}
