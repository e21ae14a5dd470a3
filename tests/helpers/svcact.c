/*
 * svcact ACTION... — a scriptable service for the supervisor tests.
 *
 * Runs its actions in order, then exits 0.  While it sleeps or waits it
 * serves whatever it listens on (tcp, http, uhttp), so a readiness probe
 * can be made to pass exactly when the test says so (gate files).
 *
 *   o:TEXT          write TEXT and a newline to stdout, one write(2)
 *   O:TEXT          write TEXT to stdout, no newline (a partial line)
 *   e:TEXT, E:TEXT  the same on stderr
 *   s:MS            sleep MS milliseconds
 *   touch:PATH      create PATH
 *   gate:PATH       wait until PATH exists
 *   rm:PATH         remove PATH
 *   tcp:PORT        listen on 127.0.0.1:PORT (connections are closed)
 *   http:PORT[:GATE]   HTTP on 127.0.0.1:PORT: 503 while GATE does not
 *                      exist, then 200 "OK"
 *   uhttp:PATH[:GATE]  the same on a unix stream socket at PATH
 *   notify:MSG      one datagram MSG to $NOTIFY_SOCKET ("\n" in MSG, the
 *                   two characters, becomes a newline)
 *   env:NAME        print "env NAME=VALUE" or "env NAME unset"
 *   flock:PATH      take an exclusive flock on PATH without waiting, and
 *                   keep it (inherited by bg): prints "flock ok" or
 *                   "flock busy"
 *   bg[:N[:MB]]     fork N (default 1) children in our process group
 *                   that ignore SIGTERM and hold what we hold for up to
 *                   60 s; prints "bg pid=P" for each.  With MB, each
 *                   first fills MB MiB of memory, which makes its death
 *                   slow: the kernel frees the memory before it closes
 *                   the files (and so releases a flock)
 *   onterm:PATH:NAME[:MS]  on SIGTERM append "NAME term NS" to PATH
 *                   (NS: CLOCK_MONOTONIC in ns), keep serving MS ms,
 *                   append "NAME exit NS" and exit 0
 *   termtwice       with onterm: a second SIGTERM while it keeps serving
 *                   appends "NAME again NS" and exits 0 at once (many
 *                   programs take a second TERM as "hurry up")
 *   append:PATH     append our pid and a newline to PATH (one write)
 *   ignterm         ignore SIGTERM
 *   lines:N         write N numbered lines ("%07u", from 1) to stdout in
 *                   64 KiB writes (lines cross the write boundaries)
 *   long:N          write one line of N bytes ('a' + i % 26) to stdout
 *   longs:N:LEN     write N lines of LEN bytes to stdout: "%04d-" (from 1),
 *                   then 'x's
 *   pipesz:BYTES    make our stdout pipe BYTES big (F_SETPIPE_SZ), so
 *                   that a burst fits in it without blocking
 *   pid             print "pid=N pgrp=G"
 *   x:N             exit N now
 *   wait            wait for a signal (at most 120 s, then exit 99)
 *
 * Every wait is bounded (a gate: 60 s, then exit 98) so that nothing
 * outlives a test.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LISTEN 8

enum kind { L_TCP, L_HTTP };

static struct {
	int fd;
	enum kind kind;
	char gate[256];
} lst[MAX_LISTEN];
static int nlst;

static volatile sig_atomic_t got_term; /* SIGTERMs received */
static int term_twice;
static char term_path[256], term_name[64];
static long term_ms = -1;
static int terminating;

static long long
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
die(const char *what)
{
	dprintf(2, "svcact: %s: %s\n", what, strerror(errno));
	exit(97);
}

static void
write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		s += w;
		n -= (size_t)w;
	}
}

static void
say(int fd, const char *text, int newline)
{
	size_t n = strlen(text);
	char *b = malloc(n + 2);

	if (!b)
		die("malloc");
	memcpy(b, text, n);
	if (newline)
		b[n++] = '\n';
	write_all(fd, b, n); /* one write(2) for a short line */
	free(b);
}

static void
record(const char *what)
{
	char line[160];
	int fd =
	    open(term_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		die(term_path);
	snprintf(line, sizeof(line), "%s %s %lld\n", term_name, what,
	    mono_ns());
	write_all(fd, line, strlen(line));
	close(fd);
}

static void
on_term(int sig)
{
	(void)sig;
	got_term++;
}

static void
serve_one(int i)
{
	char req[2048];
	const char *resp;
	struct stat st;
	struct pollfd p;
	int c = accept(lst[i].fd, NULL, NULL);
	size_t len = 0;

	if (c < 0)
		return;
	if (lst[i].kind == L_TCP) {
		close(c);
		return;
	}
	/* Read the request head (bounded), then answer and close. */
	p.fd = c;
	p.events = POLLIN;
	while (len < sizeof(req) - 1 && poll(&p, 1, 2000) > 0) {
		ssize_t r = read(c, req + len, sizeof(req) - 1 - len);

		if (r <= 0)
			break;
		len += (size_t)r;
		req[len] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (!lst[i].gate[0] || stat(lst[i].gate, &st) == 0)
		resp = "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n"
		       "Connection: close\r\n\r\nOK";
	else
		resp = "HTTP/1.0 503 Service Unavailable\r\n"
		       "Content-Length: 4\r\nConnection: close\r\n\r\nwait";
	(void)send(c, resp, strlen(resp), MSG_NOSIGNAL);
	close(c);
}

static void on_term_now(void);

/* Serve listeners for ms milliseconds (or until SIGTERM is handled). */
static void
serve(long ms)
{
	long long end = mono_ns() + (long long)ms * 1000000LL;

	for (;;) {
		struct pollfd p[MAX_LISTEN];
		long long left;
		int i, r;

		if (got_term && !terminating)
			on_term_now();
		if (terminating && term_twice && got_term > 1) {
			record("again");
			exit(0);
		}
		left = (end - mono_ns()) / 1000000LL;
		if (left <= 0)
			return;
		for (i = 0; i < nlst; i++) {
			p[i].fd = lst[i].fd;
			p[i].events = POLLIN;
		}
		r = poll(p, (nfds_t)nlst, left > 100 ? 100 : (int)left);
		for (i = 0; r > 0 && i < nlst; i++)
			if (p[i].revents & POLLIN)
				serve_one(i);
	}
}

static void
on_term_now(void)
{
	if (term_ms < 0)
		exit(0);
	terminating = 1; /* serve() below must not come back here */
	record("term");
	serve(term_ms);
	record("exit");
	exit(0);
}

static void
add_listener(int fd, enum kind k, const char *gate)
{
	if (nlst == MAX_LISTEN) {
		errno = ENOSPC;
		die("listeners");
	}
	if (listen(fd, 16) < 0)
		die("listen");
	lst[nlst].fd = fd;
	lst[nlst].kind = k;
	snprintf(lst[nlst].gate, sizeof(lst[nlst].gate), "%s",
	    gate ? gate : "");
	nlst++;
}

static void
listen_inet(const char *arg, enum kind k)
{
	char buf[300], *gate;
	struct sockaddr_in a;
	int one = 1, fd;

	snprintf(buf, sizeof(buf), "%s", arg);
	gate = strchr(buf, ':');
	if (gate)
		*gate++ = 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(buf));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	add_listener(fd, k, gate);
}

static void
listen_unix(const char *arg)
{
	char buf[300], *gate;
	struct sockaddr_un a;
	int fd;

	snprintf(buf, sizeof(buf), "%s", arg);
	gate = strchr(buf, ':');
	if (gate)
		*gate++ = 0;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	if (strlen(buf) >= sizeof(a.sun_path)) {
		errno = ENAMETOOLONG;
		die(buf);
	}
	memcpy(a.sun_path, buf, strlen(buf) + 1);
	(void)unlink(buf);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind");
	add_listener(fd, L_HTTP, gate);
}

static void
notify(const char *msg)
{
	const char *addr = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a;
	char buf[512];
	size_t n = 0;
	socklen_t len;
	int fd;

	if (!addr || !*addr || strlen(addr) >= sizeof(a.sun_path)) {
		dprintf(2, "svcact: no usable NOTIFY_SOCKET\n");
		exit(96);
	}
	while (*msg && n < sizeof(buf) - 1) {
		if (msg[0] == '\\' && msg[1] == 'n') {
			buf[n++] = '\n';
			msg += 2;
		} else
			buf[n++] = *msg++;
	}
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	memcpy(a.sun_path, addr, strlen(addr));
	if (addr[0] == '@')
		a.sun_path[0] = 0;
	len =
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(addr));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	if (sendto(fd, buf, n, MSG_NOSIGNAL, (struct sockaddr *)&a, len) < 0)
		die("sendto NOTIFY_SOCKET");
	close(fd);
}

static void
gate(const char *path)
{
	struct stat st;
	int i;

	for (i = 0; i < 6000; i++) {
		if (stat(path, &st) == 0)
			return;
		serve(10);
	}
	dprintf(2, "svcact: gate %s never opened\n", path);
	exit(98);
}

static void
lines(unsigned long n)
{
	static char buf[65536];
	size_t len = 0;
	unsigned long i;

	for (i = 1; i <= n; i++) {
		char num[16];
		int k = snprintf(num, sizeof(num), "%07lu\n", i);
		int j;

		for (j = 0; j < k; j++) {
			buf[len++] = num[j];
			if (len == sizeof(buf)) {
				write_all(1, buf, len);
				len = 0;
			}
		}
	}
	write_all(1, buf, len);
}

static void
long_line(unsigned long n)
{
	char *b = malloc(n + 1);
	unsigned long i;

	if (!b)
		die("malloc");
	for (i = 0; i < n; i++)
		b[i] = (char)('a' + i % 26);
	b[n] = '\n';
	write_all(1, b, n + 1);
	free(b);
}

static void
long_lines(const char *arg)
{
	unsigned long n = strtoul(arg, NULL, 10), i, len;
	const char *colon = strchr(arg, ':');
	char *b;

	len = colon ? strtoul(colon + 1, NULL, 10) : 80;
	if (len < 6)
		len = 6;
	b = malloc(len + 8);
	if (!b)
		die("malloc");
	for (i = 1; i <= n; i++) {
		int k = snprintf(b, 8, "%04lu-", i % 10000);

		memset(b + k, 'x', len - (size_t)k);
		b[len] = '\n';
		write_all(1, b, len + 1);
	}
	free(b);
}

static void
background(unsigned long n, unsigned long mb)
{
	while (n-- > 0) {
		pid_t p = fork();

		if (p < 0)
			die("fork");
		if (p == 0) {
			int i;

			signal(SIGTERM, SIG_IGN);
			if (mb &&
			    mmap(NULL, mb << 20, PROT_READ | PROT_WRITE,
			        MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1,
			        0) == MAP_FAILED)
				die("mmap");
			for (i = 0; i < 600; i++)
				usleep(100000);
			_exit(0);
		}
		dprintf(1, "bg pid=%d\n", (int)p);
	}
}

static void
onterm(const char *arg)
{
	char buf[400], *name, *ms;
	struct sigaction sa;

	snprintf(buf, sizeof(buf), "%s", arg);
	name = strchr(buf, ':');
	if (!name) {
		dprintf(2, "svcact: onterm:PATH:NAME[:MS]\n");
		exit(64);
	}
	*name++ = 0;
	ms = strchr(name, ':');
	if (ms)
		*ms++ = 0;
	if (strlen(buf) >= sizeof(term_path) ||
	    strlen(name) >= sizeof(term_name)) {
		errno = ENAMETOOLONG;
		die("onterm");
	}
	memcpy(term_path, buf, strlen(buf) + 1);
	memcpy(term_name, name, strlen(name) + 1);
	term_ms = ms ? atol(ms) : 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0)
		die("sigaction");
}

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = strchr(a, ':');

		v = v ? v + 1 : "";
		if (!strncmp(a, "o:", 2))
			say(1, v, 1);
		else if (!strncmp(a, "O:", 2))
			say(1, v, 0);
		else if (!strncmp(a, "e:", 2))
			say(2, v, 1);
		else if (!strncmp(a, "E:", 2))
			say(2, v, 0);
		else if (!strncmp(a, "s:", 2))
			serve(atol(v));
		else if (!strncmp(a, "touch:", 6)) {
			int fd = open(v, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

			if (fd < 0)
				die(v);
			close(fd);
		} else if (!strncmp(a, "rm:", 3)) {
			if (unlink(v) < 0 && errno != ENOENT)
				die(v);
		} else if (!strncmp(a, "gate:", 5))
			gate(v);
		else if (!strncmp(a, "tcp:", 4))
			listen_inet(v, L_TCP);
		else if (!strncmp(a, "http:", 5))
			listen_inet(v, L_HTTP);
		else if (!strncmp(a, "uhttp:", 6))
			listen_unix(v);
		else if (!strncmp(a, "notify:", 7))
			notify(v);
		else if (!strncmp(a, "env:", 4)) {
			const char *e = getenv(v);

			if (e)
				dprintf(1, "env %s=%s\n", v, e);
			else
				dprintf(1, "env %s unset\n", v);
		} else if (!strncmp(a, "flock:", 6)) {
			int fd = open(v, O_RDWR | O_CREAT, 0644);

			if (fd < 0)
				die(v);
			say(1,
			    flock(fd, LOCK_EX | LOCK_NB) == 0 ? "flock ok"
			                                      : "flock busy",
			    1);
		} else if (!strcmp(a, "bg"))
			background(1, 0);
		else if (!strncmp(a, "bg:", 3)) {
			const char *mb = strchr(v, ':');

			background(strtoul(v, NULL, 10),
			    mb ? strtoul(mb + 1, NULL, 10) : 0);
		} else if (!strncmp(a, "onterm:", 7))
			onterm(v);
		else if (!strcmp(a, "termtwice"))
			term_twice = 1;
		else if (!strncmp(a, "append:", 7)) {
			int fd = open(v,
			    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

			if (fd < 0)
				die(v);
			dprintf(fd, "%d\n", (int)getpid());
			close(fd);
		} else if (!strcmp(a, "ignterm"))
			signal(SIGTERM, SIG_IGN);
		else if (!strncmp(a, "lines:", 6))
			lines(strtoul(v, NULL, 10));
		else if (!strncmp(a, "longs:", 6))
			long_lines(v);
		else if (!strncmp(a, "long:", 5))
			long_line(strtoul(v, NULL, 10));
		else if (!strncmp(a, "pipesz:", 7)) {
			if (fcntl(1, F_SETPIPE_SZ, atoi(v)) < 0)
				die("F_SETPIPE_SZ");
		} else if (!strcmp(a, "pid"))
			dprintf(1, "pid=%d pgrp=%d\n", (int)getpid(),
			    (int)getpgrp());
		else if (!strncmp(a, "x:", 2))
			exit(atoi(v));
		else if (!strcmp(a, "wait")) {
			serve(120000);
			exit(99);
		} else {
			dprintf(2, "svcact: unknown action '%s'\n", a);
			return 64;
		}
	}
	return 0;
}
