/*
 * probe — readiness and health probes (SPEC sections 7 and 14), all
 * non-blocking.
 *
 * A readiness probe (probe_start) is started once the service has exec'd
 * and reports once, with done(data), when it passes.  Until then it
 * retries on its own with a growing interval (10 ms doubling to 500 ms),
 * so it never fails by itself: the service's ready_timeout decides when
 * waiting is over.
 *
 * A health check (probe_check) is one try of the same probe with a
 * deadline: done(data) when it passes, failed(data) when it does not
 * (refused, a non-2xx status, an exec that exits non-zero) or when the
 * deadline comes first (an exec still running is killed, with its group).
 *
 * `detail` always says why it has not passed (yet), for `waiting` and
 * `service_unhealthy` events.
 *
 *   started      passes at once
 *   file         stat(2) of the path
 *   log          a line from the service's output contains the text
 *                (fed through probe_on_line())
 *   notify       READY=1 on the service's own sd_notify socket
 *   tcp          a non-blocking connect(2) succeeds
 *   http         GET PATH over TCP answers 2xx
 *   unix-http    GET PATH over a unix socket answers 2xx
 *   exec         the command exits 0 (fed through probe_on_exit())
 *
 * Hosts of tcp and http probes are IP literals, `localhost`, or names in
 * /etc/hosts: a probe never waits on DNS.
 *
 * Public API: probe_start(), probe_check(), probe_stop(), probe_on_line(),
 * probe_on_exit(), probe_notified(), probe_describe(), notify_open(),
 * notify_close(), notify_parse(), http_status().
 */
#ifndef AGENT_INIT_PROBE_H
#define AGENT_INIT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "loop.h"

struct probe {
	const struct probe_conf *conf;
	void (*done)(void *data);
	void *data;
	bool active;
	bool passed;
	bool notified; /* notify: READY=1 arrived (maybe before we looked) */
	uint64_t interval_ms;
	struct loop_io io;
	struct loop_timer timer;
	char *wbuf; /* an HTTP request, made at the first attempt */
	/* log: the end of the last piece of a long line (up to the text's
	 * length - 1), where the text may begin and go on in the next. */
	char *carry;
	size_t carry_len;
	int carry_stream;
	size_t wlen, woff;
	char rbuf[256];
	size_t rlen;
	pid_t exec_pid;
	char detail[160];
	/* A health check: one try, failed() when it does not pass by the
	 * deadline (the timer); NULL for a readiness probe. */
	void (*failed)(void *data);
	uint64_t timeout_ms;
};

/* One sd_notify datagram (sd_notify(3)): the fields we act on. */
struct notify_msg {
	bool ready;
	bool stopping;
	bool has_status;
	bool watchdog; /* WATCHDOG=1 */
	bool watchdog_trigger; /* WATCHDOG=trigger: fail it now */
	bool has_extend; /* EXTEND_TIMEOUT_USEC=N */
	uint64_t extend_usec;
	char status[128];
};

/*
 * A service's own sd_notify socket, abstract-namespace datagram, under a
 * random name ("@agent-init-<128 random bits in hex>/NAME").
 */
struct notify_sock {
	struct loop_io io;
	char addr[108]; /* the NOTIFY_SOCKET value, "@..." */
	/*
	 * Who may speak: a datagram counts only from this uid and from a
	 * sender alive in this group when it is read (the name is abstract:
	 * anyone in the network namespace can send to it).
	 */
	uid_t uid;
	pid_t pgid;
	void (*on_msg)(void *data, const struct notify_msg *m);
	void *data;
};

void probe_start(struct probe *p, const struct probe_conf *c,
    void (*done)(void *data), void *data);
void
probe_check(struct probe *p, const struct probe_conf *c, uint64_t timeout_ms,
    void (*done)(void *data), void (*failed)(void *data), void *data);
void probe_stop(struct probe *p);
/*
 * A line (or a piece of a long one) of the service's output, on stream
 * (1 or 2); cont: it continues that stream's previous piece, so the text
 * may straddle the two.
 */
void probe_on_line(struct probe *p, int stream, const char *line, size_t n,
    bool cont);
/* True when pid was this probe's exec child. */
bool probe_on_exit(struct probe *p, pid_t pid, int wstatus);
/* The service got READY=1. */
void probe_notified(struct probe *p);
/* The probe as it is written in the configuration, e.g. "tcp:h:80". */
void probe_describe(const struct probe_conf *c, char *buf, size_t cap);

int notify_open(struct notify_sock *n, const char *service);
void notify_close(struct notify_sock *n);
void notify_parse(const char *buf, size_t n, struct notify_msg *ret);

/* "HTTP/1.x NNN ...": the status, -EAGAIN if incomplete, -EINVAL. */
int http_status(const char *buf, size_t n);

#endif
