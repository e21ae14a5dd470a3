/*
 * sbreport — reports, from inside a service, what its sandbox is.
 *
 *   sbreport status     the Uid, Gid, Groups, Cap..., NoNewPrivs, Seccomp lines of
 *                       /proc/self/status, then "umask: 0NNN", "cwd: PATH",
 *                       "rlimit_nofile|nproc|core: CUR MAX", "env: K=V"
 *   sbreport syscalls   for each refused-by-default syscall, the errno it
 *                       gets through the native, i386 (int $0x80) and x32
 *                       ABIs: "sys ABI NAME ERRNO-NAME"; then "ordinary ok"
 *                       if files, sockets, fork/exec and threads work, or
 *                       "ordinary FAIL WHAT ERRNO"
 *
 * Every line goes to stdout; the last is "sbreport done".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *
ename(long r)
{
	static char buf[32];

	if (r >= 0)
		return "OK";
	switch (-r) {
	case EPERM:
		return "EPERM";
	case EFAULT:
		return "EFAULT";
	case EINVAL:
		return "EINVAL";
	case ENOSYS:
		return "ENOSYS";
	case ENOENT:
		return "ENOENT";
	case EBADF:
		return "EBADF";
	case EACCES:
		return "EACCES";
	case ENOKEY:
		return "ENOKEY";
	default:
		snprintf(buf, sizeof(buf), "E%ld", -r);
		return buf;
	}
}

static void
status(void)
{
	static const char *const keys[] = { "Uid:", "Gid:", "Groups:",
		"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
		"NoNewPrivs:", "Seccomp:" };
	static const struct {
		const char *name;
		int res;
	} lim[] = { { "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC },
		{ "core", RLIMIT_CORE } };
	char line[512], cwd[4096];
	FILE *f = fopen("/proc/self/status", "r");
	mode_t m;
	size_t i;

	while (f && fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				fputs(line, stdout);
	if (f)
		fclose(f);
	m = umask(0);
	umask(m);
	printf("umask: %04o\n", (unsigned)m);
	printf("cwd: %s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	for (i = 0; i < 3; i++) {
		struct rlimit rl;

		getrlimit(lim[i].res, &rl);
		printf("rlimit_%s: %lld %lld\n", lim[i].name,
		    rl.rlim_cur == RLIM_INFINITY ? -1LL
		                                 : (long long)rl.rlim_cur,
		    rl.rlim_max == RLIM_INFINITY ? -1LL
		                                 : (long long)rl.rlim_max);
	}
	for (i = 0; environ[i]; i++)
		printf("env: %s\n", environ[i]);
}

/* The syscalls `seccomp = default` refuses, with their numbers on
 * x86_64, x32 (bit 30 is added) and i386. */
static const struct {
	const char *name;
	long nr64, nrx32, nr32;
} calls[] = {
	{ "mount", 165, 165, 21 },
	{ "kexec_load", 246, 528, 283 },
	{ "init_module", 175, 175, 128 },
	{ "bpf", 321, 321, 357 },
	{ "keyctl", 250, 250, 288 },
	{ "perf_event_open", 298, 298, 336 },
	{ "userfaultfd", 323, 323, 374 },
};

#define X32_BIT 0x40000000L

/* Harmless arguments: zeros, which the kernel refuses (EFAULT, EINVAL)
 * after the permission checks, or which do nothing. */
static long
native(long nr)
{
	long r = syscall(nr, 0L, 0L, 0L, 0L, 0L, 0L);

	if (r >= 0) {
		if (nr == 323) /* userfaultfd gave us an fd */
			close((int)r);
		return 0;
	}
	return -errno;
}

static long
i386_call(long nr)
{
#if defined(__x86_64__)
	long r;

	__asm__ volatile("int $0x80"
	                 : "=a"(r)
	                 : "a"(nr), "b"(0L), "c"(0L), "d"(0L), "S"(0L), "D"(0L)
	                 : "memory");
	if (r >= 0 && nr == 374)
		close((int)r);
	return r >= 0 ? 0 : r;
#else
	(void)nr;
	return -ENOSYS;
#endif
}

static void *
thread_main(void *arg)
{
	return arg;
}

static int
ordinary(void)
{
	char path[] = "/tmp/sbreport.XXXXXX", buf[4];
	struct sockaddr_in a = { .sin_family = AF_INET };
	pthread_t t;
	void *res = NULL;
	int fd, st;
	pid_t pid;

	if ((fd = mkstemp(path)) < 0 || write(fd, "ok", 2) != 2 ||
	    pread(fd, buf, 2, 0) != 2 || unlink(path) < 0 || close(fd) < 0)
		return printf("ordinary FAIL file %s\n", ename(-errno)), 1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 1) < 0 || close(fd) < 0)
		return printf("ordinary FAIL socket %s\n", ename(-errno)), 1;
	if ((pid = fork()) < 0)
		return printf("ordinary FAIL fork %s\n", ename(-errno)), 1;
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return printf("ordinary FAIL exec status %d\n", st), 1;
	if (pthread_create(&t, NULL, thread_main, (void *)1) != 0 ||
	    pthread_join(t, &res) != 0 || res != (void *)1)
		return printf("ordinary FAIL thread\n"), 1;
	printf("ordinary ok\n");
	return 0;
}

int
main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "status") == 0) {
		status();
	} else if (argc >= 2 && strcmp(argv[1], "syscalls") == 0) {
		for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
			printf("sys native %s %s\n", calls[i].name,
			    ename(native(calls[i].nr64)));
			printf("sys i386 %s %s\n", calls[i].name,
			    ename(i386_call(calls[i].nr32)));
			printf("sys x32 %s %s\n", calls[i].name,
			    ename(native(calls[i].nrx32 | X32_BIT)));
		}
		ordinary();
	} else {
		fprintf(stderr, "usage: sbreport status|syscalls\n");
		return 2;
	}
	printf("sbreport done\n");
	return 0;
}
