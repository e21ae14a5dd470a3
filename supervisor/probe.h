/*
 * probe — readiness probes (SPEC section 7), all non-blocking.
 *
 * A probe is started once the service has exec'd and reports once, with
 * done(data), when it passes.  Until then it retries on its own with a
 * growing interval (10 ms doubling to 500 ms), so a probe never fails by
 * itself: the service's ready_timeout decides when waiting is over.
 * `detail` always says why it has not passed yet, for `waiting` events.
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
 * Public API: probe_start(), probe_stop(), probe_on_line(),
 * probe_early_line(), probe_on_exit(), probe_notified(), notify_open(),
 * notify_close(), notify_parse(), http_status().
 */
#ifndef AGENT_INIT_PROBE_H
#define AGENT_INIT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
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
	bool line_seen; /* log: the line came (maybe before we looked) */
	uint64_t interval_ms;
	struct loop_io io;
	struct loop_timer timer;
	char wbuf[CONFIG_VALUE_MAX * 2 + 64];
	size_t wlen, woff;
	char rbuf[256];
	size_t rlen;
	pid_t exec_pid;
	char detail[160];
};

/* One sd_notify datagram (sd_notify(3)): the fields we act on. */
struct notify_msg {
	bool ready;
	bool stopping;
	bool has_status;
	char status[128];
};

/* A service's own sd_notify socket, abstract-namespace datagram. */
struct notify_sock {
	struct loop_io io;
	char addr[80]; /* the NOTIFY_SOCKET value, "@..." */
	/*
	 * Who may speak: a datagram counts only from this uid and, while
	 * its sender still runs, from a process of this group (the name is
	 * abstract: anyone in the network namespace can send to it).
	 */
	uid_t uid;
	pid_t pgid;
	void (*on_msg)(void *data, const struct notify_msg *m);
	void *data;
};

void probe_start(struct probe *p, const struct probe_conf *c,
    void (*done)(void *data), void *data);
void probe_stop(struct probe *p);
void probe_on_line(struct probe *p, const char *line, size_t n);
/*
 * A line of output before the probe c started (the service's first lines
 * can be read before the report that its exec succeeded): kept, if it is
 * what the log probe c waits for, for when it starts.
 */
void probe_early_line(struct probe *p, const struct probe_conf *c,
    const char *line, size_t n);
/* True when pid was this probe's exec child. */
bool probe_on_exit(struct probe *p, pid_t pid, int wstatus);
/* The service got READY=1. */
void probe_notified(struct probe *p);

int notify_open(struct notify_sock *n, const char *service);
void notify_close(struct notify_sock *n);
void notify_parse(const char *buf, size_t n, struct notify_msg *ret);

/* "HTTP/1.x NNN ...": the status, -EAGAIN if incomplete, -EINVAL. */
int http_status(const char *buf, size_t n);

#endif
