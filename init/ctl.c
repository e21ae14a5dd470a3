/*
 * ctl — the clients of the control socket.  See ctl.h.
 *
 * These run as ordinary short-lived processes, so they may block, with a
 * deadline: poll(2) bounds every wait.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "ctl.h"
#include "events.h"
#include "follow.h"
#include "jsonread.h"
#include "signals.h"
#include "values.h"

#define REPLY_MAX (JB_MAX_CLIENT)
#define JB_MAX_CLIENT 65536
/* How often a verb that waits looks at its service again. */
#define CTL_POLL_MS 100

struct conn {
	int fd;
	char buf[REPLY_MAX + FOLLOW_FRAME_HDR + FOLLOW_BUF];
	size_t len; /* bytes in buf */
	size_t line; /* length of the first line, with its newline */
	int errnum; /* of a connect that failed */
	char err[256];
};

struct opts {
	const char *path;
	bool json, quiet, no_wait, follow, group;
	uint64_t timeout_ms;
	bool timeout_set;
	unsigned long lines;
	bool lines_set;
	const char *words[4];
	int nwords;
};

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Connect to path; with retry, until deadline while it does not exist
 * yet (wait-ready may start before PID 1 made the socket). */
static int
ctl_connect(struct conn *c, const char *path, uint64_t deadline, bool retry)
{
	struct sockaddr_un un;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	c->len = c->line = 0;
	c->errnum = 0;
	for (;;) {
		c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd < 0)
			break;
		if (connect(c->fd, (struct sockaddr *)&un, sizeof(un)) == 0)
			return 0;
		close(c->fd);
		c->fd = -1;
		if (!retry || now_ms() >= deadline ||
		    (errno != ENOENT && errno != ECONNREFUSED))
			break;
		(void)poll(NULL, 0, 50);
	}
	c->errnum = errno;
	snprintf(c->err, sizeof(c->err), "cannot connect to %s: %s", path,
	    strerror(errno));
	return -1;
}

/* Read more into c->buf until deadline (-1: never); 0 at the end, -1 on
 * a timeout or an error, else the bytes read. */
static long
more(struct conn *c, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		uint64_t now = now_ms();
		int wait = -1;
		ssize_t n;

		if (deadline != UINT64_MAX) {
			if (now >= deadline) {
				snprintf(c->err, sizeof(c->err), "timed out");
				return -1;
			}
			wait = (int)(deadline - now);
		}
		if (poll(&p, 1, wait) <= 0)
			continue;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		    0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(c->err, sizeof(c->err), "recv: %s",
			    strerror(errno));
			return -1;
		}
		c->len += (size_t)n;
		c->buf[c->len] = 0;
		return (long)n;
	}
}

/* Send req, read the reply's first line (c->buf, c->line); 0 or -1. */
static int
ask(struct conn *c, const char *req, uint64_t deadline)
{
	char *nl;
	long n;

	/* A refused peer may be sent its error and closed before our
	 * request is out: the reply is still there to read. */
	if (send(c->fd, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE &&
	    errno != ECONNRESET) {
		snprintf(c->err, sizeof(c->err), "send: %s", strerror(errno));
		return -1;
	}
	while (!(nl = memchr(c->buf, '\n', c->len))) {
		if (c->len >= REPLY_MAX) {
			snprintf(c->err, sizeof(c->err), "reply too long");
			return -1;
		}
		if ((n = more(c, deadline)) < 0)
			return -1;
		if (n == 0) {
			snprintf(c->err, sizeof(c->err), "no reply");
			return -1;
		}
	}
	c->line = (size_t)(nl - c->buf) + 1;
	return 0;
}

static struct json_span
reply_of(const struct conn *c)
{
	return json_value(c->buf, c->line);
}

/* The reply says every place for a request is taken for a moment. */
static bool
busy(const struct conn *c)
{
	char code[16];

	return json_string(json_get(reply_of(c), "code"), code, sizeof(code)) &&
	    strcmp(code, "busy") == 0;
}

/*
 * One request on a fresh connection: 0, or an exit status.  A `busy`
 * answer (every place for a request taken by clients that have not sent
 * theirs yet) is asked again, within the deadline.
 */
static int
request(struct conn *c, const struct opts *o, const char *req,
    uint64_t deadline)
{
	for (;;) {
		if (ctl_connect(c, o->path, deadline, false) < 0 ||
		    ask(c, req, deadline) < 0) {
			if (c->fd >= 0)
				close(c->fd);
			c->fd = -1;
			fprintf(stderr, "agent-init ctl: %s\n", c->err);
			/* The socket's mode said no: not root, our uid or
			 * the group. */
			return c->errnum == EACCES ? CTL_EXIT_DENIED
			                           : CTL_EXIT_UNREACHABLE;
		}
		if (!busy(c) || now_ms() + CTL_POLL_MS >= deadline)
			return 0;
		close(c->fd);
		c->fd = -1;
		(void)poll(NULL, 0, CTL_POLL_MS);
	}
}

/* An {"error", "code"} reply: say it, and its exit status; else 0. */
static int
error_of(const struct conn *c, const struct opts *o, const char *what)
{
	struct json_span v = reply_of(c), e = json_get(v, "error");
	char msg[300], code[32] = "";

	if (!e.p && v.p)
		return 0;
	if (!json_string(e, msg, sizeof(msg)))
		snprintf(msg, sizeof(msg), "unreadable reply: %.200s", c->buf);
	(void)json_string(json_get(v, "code"), code, sizeof(code));
	if (o->json)
		fwrite(c->buf, 1, c->line, stdout);
	fprintf(stderr, "agent-init ctl %s: %s\n", what, msg);
	if (strcmp(code, "no_such_service") == 0)
		return CTL_EXIT_NO_SERVICE;
	if (strcmp(code, "denied") == 0)
		return CTL_EXIT_DENIED;
	if (strcmp(code, "busy") == 0 || strcmp(code, "too_many") == 0 ||
	    !*code)
		return CTL_EXIT_UNREACHABLE;
	if (strcmp(code, "bad_request") == 0)
		return CTL_EXIT_USAGE;
	return CTL_EXIT_NOT_DONE;
}

/* --- status and wait-ready ------------------------------------------------- */

static int
status_main(const char *cmd, const struct opts *o)
{
	bool wait = strcmp(cmd, "wait-ready") == 0;
	uint64_t deadline = now_ms() +
	    (o->timeout_set ? o->timeout_ms
	            : wait  ? 60000
	                    : 5000);
	static struct conn c;
	struct json_span v;

	for (;;) {
		if (ctl_connect(&c, o->path, deadline, wait) < 0 ||
		    ask(&c, wait ? "wait-ready\n" : "status\n", deadline) < 0) {
			fprintf(stderr, "agent-init %s: %s\n", cmd, c.err);
			return 1;
		}
		close(c.fd);
		v = reply_of(&c);
		/* "busy": every request place is taken for a moment (clients
		 * that have not sent their request yet); ask again, within
		 * the deadline. */
		if (!busy(&c) || now_ms() + CTL_POLL_MS >= deadline)
			break;
		(void)poll(NULL, 0, CTL_POLL_MS);
	}
	if (json_get(v, "error").p || !v.p) {
		fprintf(stderr, "agent-init %s: %.*s", cmd, (int)c.line, c.buf);
		return 1;
	}
	if (!o->quiet)
		fwrite(c.buf, 1, c.line, stdout);
	/* status: 0 iff every service is ready now; wait-ready: iff the
	 * sandbox became ready. */
	if (!json_is_true(json_get(v, "ready")))
		return 1;
	if (!wait && !json_is_true(json_get(v, "healthy")))
		return 1;
	return 0;
}

/* --- start, stop, restart ------------------------------------------------- */

struct state {
	char state[16];
	char reason[300];
	long long attempt;
	long long code; /* last_exit.code, or -1 */
};

static int
get_state(const struct opts *o, const char *name, uint64_t deadline,
    struct state *ret)
{
	static struct conn c;
	char req[CONTROL_REQ_MAX];
	struct json_span v;
	int r;

	snprintf(req, sizeof(req), "state %s\n", name);
	if ((r = request(&c, o, req, deadline)))
		return r;
	close(c.fd);
	if ((r = error_of(&c, o, "state")))
		return r;
	v = reply_of(&c);
	memset(ret, 0, sizeof(*ret));
	ret->code = -1;
	(void)json_string(json_get(v, "state"), ret->state, sizeof(ret->state));
	(void)json_string(json_get(v, "reason"), ret->reason,
	    sizeof(ret->reason));
	(void)json_int(json_get(v, "attempt"), &ret->attempt);
	(void)json_int(json_get(json_get(v, "last_exit"), "code"), &ret->code);
	return 0;
}

static bool
is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/*
 * Where a verb is going: 0 there, 1 never (failed, or stopped by
 * someone else), -1 not yet.  A restart counts from attempt a0.
 */
static int
arrived(const char *verb, const struct state *st, long long a0)
{
	bool ended_ok = is(st->state, "exited") && st->code == 0;

	if (is(verb, "stop"))
		return is(st->state, "stopped") || is(st->state, "exited") ||
		        is(st->state, "failed")
		    ? 0
		    : -1;
	if (is(verb, "restart") && st->attempt <= a0)
		return is(st->state, "failed") || is(st->state, "stopped") ? 1
		                                                           : -1;
	if (is(st->state, "ready") || ended_ok)
		return 0;
	if (is(st->state, "failed") || is(st->state, "stopped") ||
	    is(st->state, "exited"))
		return 1;
	return -1;
}

static void
print_done(const struct opts *o, const char *verb, const char *name,
    const char *result, const struct state *st, bool ok)
{
	if (o->json) {
		printf("{\"ok\":%s,\"verb\":\"%s\",\"service\":\"%s\","
		       "\"result\":\"%s\",\"state\":\"%s\"",
		    ok ? "true" : "false", verb, name, result,
		    st ? st->state : "");
		if (st && *st->reason) {
			char esc[700];
			size_t used,
			    n = json_escape(esc, sizeof(esc), st->reason,
			        strlen(st->reason), &used);

			printf(",\"reason\":\"%.*s\"", (int)n, esc);
		}
		printf("}\n");
	} else if (ok)
		printf("%s: %s\n", name, st ? st->state : result);
	else
		fprintf(stderr, "agent-init ctl %s: %s is %s%s%s\n", verb, name,
		    st ? st->state : result, st && *st->reason ? ": " : "",
		    st ? st->reason : "");
}

static int
verb_main(const struct opts *o, const char *verb, const char *name)
{
	uint64_t deadline = now_ms() + (o->timeout_set ? o->timeout_ms : 60000);
	static struct conn c;
	char req[CONTROL_REQ_MAX], result[32] = "";
	struct state st;
	long long a0 = 0;
	int r;

	snprintf(req, sizeof(req), "%s %s\n", verb, name);
	if ((r = request(&c, o, req, deadline)))
		return r;
	(void)json_string(json_get(reply_of(&c), "result"), result,
	    sizeof(result));
	if (is(result, "shutdown")) {
		/* The sandbox goes down.  The socket stays open: agent-init
		 * waits for it to close, which exit(3) does once our answer
		 * is out and our status is set, so that a client in its PID
		 * namespace is not killed with it first. */
		print_done(o, verb, name, result, NULL, true);
		return CTL_EXIT_OK;
	}
	close(c.fd);
	if ((r = error_of(&c, o, verb)))
		return r;
	(void)json_int(json_get(reply_of(&c), "attempt"), &a0);
	if (o->no_wait) {
		print_done(o, verb, name, result, NULL, true);
		return CTL_EXIT_OK;
	}
	for (;;) {
		if ((r = get_state(o, name, deadline, &st)))
			return r;
		if ((r = arrived(verb, &st, a0)) >= 0)
			break;
		if (now_ms() + CTL_POLL_MS >= deadline) {
			snprintf(st.reason, sizeof(st.reason),
			    "timed out waiting");
			r = 1;
			break;
		}
		(void)poll(NULL, 0, CTL_POLL_MS);
	}
	print_done(o, verb, name, result, &st, r == 0);
	return r == 0 ? CTL_EXIT_OK : CTL_EXIT_NOT_DONE;
}

/* --- signal ------------------------------------------------------------------ */

static int
signal_main(const struct opts *o, const char *sig, const char *name)
{
	static struct conn c;
	char req[CONTROL_REQ_MAX];
	int num, r;

	if (value_signal(sig, &num) < 0) {
		fprintf(stderr, "agent-init ctl signal: '%s' is no signal\n",
		    sig);
		return CTL_EXIT_USAGE;
	}
	snprintf(req, sizeof(req), "signal %d %s%s\n", num, name,
	    o->group ? " group" : "");
	if ((r = request(&c, o, req, now_ms() + 10000)))
		return r;
	close(c.fd);
	if ((r = error_of(&c, o, "signal")))
		return r;
	if (o->json)
		fwrite(c.buf, 1, c.line, stdout);
	else {
		char result[40] = "";

		(void)json_string(json_get(reply_of(&c), "result"), result,
		    sizeof(result));
		printf("%s: %s\n", name, result);
	}
	return CTL_EXIT_OK;
}

/* --- logs ---------------------------------------------------------------------- */

#define OUTPUT_LINE_MAX_CLIENT (16 * 1024)

/* One output line of logs --json; the pending bytes of its stream. */
struct jline {
	char buf[OUTPUT_LINE_MAX_CLIENT + 1];
	size_t len;
};

static void
json_line(const char *name, const char *stream, const char *line, size_t n)
{
	static char esc[6 * OUTPUT_LINE_MAX_CLIENT + 8];
	size_t used, k = json_escape(esc, sizeof(esc), line, n, &used);

	printf("{\"service\":\"%s\",\"stream\":\"%s\",\"line\":\"%.*s\"}\n",
	    name, stream, (int)k, esc);
}

/* Bytes of one stream, for --json: whole lines out, the rest kept (a
 * line longer than the buffer goes out in pieces). */
static void
json_bytes(const char *name, int which, struct jline *jl, const char *p,
    size_t n)
{
	const char *stream = which == 2 ? "stderr" : "stdout";
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n' || jl->len == sizeof(jl->buf) - 1) {
			json_line(name, stream, jl->buf, jl->len);
			jl->len = 0;
			if (p[i] == '\n')
				continue;
		}
		jl->buf[jl->len++] = p[i];
	}
}

/* One frame: its lines to stdout/stderr (or JSON), a skip marker. */
static void
show_frame(const struct opts *o, const char *name, char kind, const char *data,
    size_t n, struct jline jl[2])
{
	if (kind == 's') {
		/* What was being written of a line was lost with it. */
		if (o->json)
			printf("{\"service\":\"%s\",\"skipped\":%.*s}\n", name,
			    (int)n, data);
		else
			printf("[agent-init: %.*s lines skipped]\n", (int)n,
			    data);
		jl[0].len = jl[1].len = 0;
	} else if (o->json)
		json_bytes(name, kind == 'e' ? 2 : 1, &jl[kind == 'e'], data,
		    n);
	else
		fwrite(data, 1, n, kind == 'e' ? stderr : stdout);
	if (o->follow)
		fflush(kind == 'e' && !o->json ? stderr : stdout);
}

static int
logs_main(const struct opts *o, const char *name)
{
	static struct conn c;
	static struct jline jl[2];
	char req[CONTROL_REQ_MAX];
	char lines[24];
	size_t off;
	long n;
	int r;

	if (o->lines_set)
		snprintf(lines, sizeof(lines), "%lu", o->lines);
	else
		snprintf(lines, sizeof(lines), "all");
	snprintf(req, sizeof(req), "logs %s %s %s\n", name, lines,
	    o->follow ? "follow" : "once");
	if ((r = request(&c, o, req, now_ms() + 10000)))
		return r;
	if ((r = error_of(&c, o, "logs"))) {
		close(c.fd);
		return r;
	}
	/* Frames until the server closes (without -f, or at its end). */
	off = c.line;
	for (;;) {
		char kind;
		const char *data;
		size_t len;
		long k = follow_frame_parse(c.buf + off, c.len - off, &kind,
		    &data, &len);

		if (k < 0) {
			fprintf(stderr, "agent-init ctl logs: bad frame\n");
			close(c.fd);
			return CTL_EXIT_UNREACHABLE;
		}
		if (k > 0) {
			show_frame(o, name, kind, data, len, jl);
			off += (size_t)k;
			continue;
		}
		memmove(c.buf, c.buf + off, c.len - off);
		c.len -= off;
		off = 0;
		if ((n = more(&c, UINT64_MAX)) <= 0)
			break;
	}
	close(c.fd);
	/* A last line without its newline (a service that is still at it). */
	if (o->json) {
		if (jl[0].len)
			json_line(name, "stdout", jl[0].buf, jl[0].len);
		if (jl[1].len)
			json_line(name, "stderr", jl[1].buf, jl[1].len);
	}
	return n < 0 ? CTL_EXIT_UNREACHABLE : CTL_EXIT_OK;
}

/* --- checks -------------------------------------------------------------------- */

static void
print_check(struct json_span ck)
{
	char check[64], name[64], target[200], status[16], code[40];
	char detail[300], hint[600], full[140];

	(void)json_string(json_get(ck, "check"), check, sizeof(check));
	(void)json_string(json_get(ck, "name"), name, sizeof(name));
	(void)json_string(json_get(ck, "target"), target, sizeof(target));
	(void)json_string(json_get(ck, "status"), status, sizeof(status));
	(void)json_string(json_get(ck, "code"), code, sizeof(code));
	(void)json_string(json_get(ck, "detail"), detail, sizeof(detail));
	(void)json_string(json_get(ck, "hint"), hint, sizeof(hint));
	snprintf(full, sizeof(full), "%s%s%s", check, *name ? ":" : "", name);
	printf("%-22s %-26s %-5s %-17s %s\n", full, target, status, code,
	    detail);
	if (strcmp(status, "ok") != 0 && *hint)
		printf("%-22s   -> %s\n", "", hint);
}

static int
checks_main(const struct opts *o)
{
	static struct conn c;
	struct json_span v, it = { NULL, NULL }, sm;
	long long fail = 0, ok = 0, warn = 0, skip = 0, ms = 0;
	int r;

	if ((r = request(&c, o, "checks\n",
	         now_ms() + (o->timeout_set ? o->timeout_ms : 60000))))
		return r;
	close(c.fd);
	if ((r = error_of(&c, o, "checks")))
		return r;
	v = reply_of(&c);
	sm = json_get(v, "summary");
	(void)json_int(json_get(sm, "fail"), &fail);
	if (o->json) {
		fwrite(c.buf, 1, c.line, stdout);
		return fail ? CTL_EXIT_NOT_DONE : CTL_EXIT_OK;
	}
	printf("%-22s %-26s %-5s %-17s %s\n", "CHECK", "TARGET", "STATUS",
	    "CODE", "DETAIL");
	while (json_next(json_get(v, "checks"), &it))
		print_check(it);
	(void)json_int(json_get(sm, "ok"), &ok);
	(void)json_int(json_get(sm, "warn"), &warn);
	(void)json_int(json_get(sm, "skip"), &skip);
	(void)json_int(json_get(sm, "elapsed_ms"), &ms);
	printf("\n%lld ok, %lld warn, %lld fail, %lld skip in %lld ms\n", ok,
	    warn, fail, skip, ms);
	return fail ? CTL_EXIT_NOT_DONE : CTL_EXIT_OK;
}

/* --- the command line --------------------------------------------------------- */

static const char usage[] =
    "usage: agent-init status [--socket PATH] [--quiet]\n"
    "       agent-init wait-ready [--socket PATH] [--timeout D]\n"
    "       agent-init ctl [--socket PATH] [--json] VERB ...\n"
    "         start|stop|restart [--timeout D] [--no-wait] SERVICE\n"
    "         signal [--group] SIGNAL SERVICE\n"
    "         logs [-n N] [-f] SERVICE\n"
    "         checks\n";

static int
bad(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "agent-init %s: %s '%s'\n%s", cmd, what, arg, usage);
	return CTL_EXIT_USAGE;
}

/* An option with a value: "--x V" or "--x=V"; the value, or NULL. */
static const char *
opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strcmp(a, name) == 0 && *i + 1 < argc && argv[*i + 1]) {
		*i += 1;
		return argv[*i];
	}
	if (strncmp(a, name, n) == 0 && a[n] == '=')
		return a + n + 1;
	return NULL;
}

static int
parse(const char *cmd, int argc, char **argv, struct opts *o)
{
	bool ctl = strcmp(cmd, "ctl") == 0, wait = is(cmd, "wait-ready");
	const char *v;
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if ((v = opt_value(argc, argv, &i, "--socket")))
			o->path = v;
		else if ((ctl || wait) &&
		    (v = opt_value(argc, argv, &i, "--timeout"))) {
			if (value_duration_ms(v, &o->timeout_ms) < 0)
				return bad(cmd, "bad duration", v);
			o->timeout_set = true;
		} else if ((is(a, "--quiet") || is(a, "-q")) &&
		    is(cmd, "status"))
			o->quiet = true;
		else if (ctl && is(a, "--json"))
			o->json = true;
		else if (ctl && is(a, "--no-wait"))
			o->no_wait = true;
		else if (ctl && (is(a, "-f") || is(a, "--follow")))
			o->follow = true;
		else if (ctl && (is(a, "-g") || is(a, "--group")))
			o->group = true;
		else if (ctl &&
		    ((v = opt_value(argc, argv, &i, "-n")) ||
		        (v = opt_value(argc, argv, &i, "--lines")))) {
			if (value_uint(v, ~0UL, &o->lines) < 0)
				return bad(cmd, "bad number of lines", v);
			o->lines_set = true;
		} else if (ctl && a[0] != '-' && o->nwords < 4)
			o->words[o->nwords++] = a;
		else
			return bad(cmd, "bad argument", a);
	}
	return 0;
}

static int
ctl_verb(const struct opts *o)
{
	const char *verb = o->nwords ? o->words[0] : "";
	int n = o->nwords;

	if ((is(verb, "start") || is(verb, "stop") || is(verb, "restart")) &&
	    n == 2)
		return verb_main(o, verb, o->words[1]);
	if (is(verb, "signal") && n == 3)
		return signal_main(o, o->words[1], o->words[2]);
	if (is(verb, "logs") && n == 2)
		return logs_main(o, o->words[1]);
	if (is(verb, "checks") && n == 1)
		return checks_main(o);
	return bad("ctl", "bad verb or arguments:", *verb ? verb : "(none)");
}

int
ctl_main(const char *cmd, int argc, char **argv)
{
	struct opts o;
	int r;

	memset(&o, 0, sizeof(o));
	o.path = getenv("AGENT_INIT_CONTROL_SOCKET");
	if (!o.path || !*o.path)
		o.path = CONTROL_DEFAULT_PATH;
	if ((r = parse(cmd, argc, argv, &o)))
		return r;
	/* An ordinary command: Ctrl-C ends it, and a closed stdout (`| head`)
	 * too. */
	{
		sigset_t none;

		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
	}
	if (!is(cmd, "ctl"))
		return status_main(cmd, &o);
	return ctl_verb(&o);
}
