/*
 * control — the control socket (SPEC sections 11 and 14): `agent-init
 * status`, `wait-ready` and `ctl ...` ask the running PID 1 over a unix
 * stream socket.
 *
 * Protocol: the client sends one request line (at most CONTROL_REQ_MAX
 * bytes) and gets one JSON line back, then the server closes (but for a
 * `stop` answered `shutdown`: control_linger() below):
 *
 *   status                 the status document (init/status.h)
 *   state NAME             one service's entry of it
 *   wait-ready             answered when the sandbox is ready, failed or
 *                          shutting down
 *   start|stop|restart NAME   an operator's verb (supervisor.h)
 *   signal SIGNUM NAME [group]   a signal to the service (or its group)
 *   checks                 the checks run again; answered with verdicts
 *   logs NAME LAST follow|once   the header line, then frames
 *                          (init/follow.h) of its recent output
 *
 * Errors are {"error": "...", "code": "..."}; the codes (bad_request,
 * no_such_service, denied, shutting_down, not_running, not_captured,
 * busy, too_many, failed) are what `agent-init ctl` turns into its exit
 * status.
 *
 * Who may ask: the socket is mode 0600 (root and agent-init's own uid
 * can connect), or 0660 with its group set to `control_group`.  Each
 * peer is checked again with SO_PEERCRED (and SO_PEERGROUPS): root,
 * our uid, or a member of control_group; anyone else is answered with a
 * `denied` error and closed.  Reads (status, state, wait-ready, logs)
 * and the verbs that act (start, stop, restart, signal, checks) have the
 * same audience; each verb that acts is an event `control` (verb,
 * service, peer_uid, peer_pid, result), a read only with -v.
 *
 * The server lives in PID 1's loop and never blocks: non-blocking
 * sockets, replies written with MSG_DONTWAIT, and every kind of client
 * with a limit of its own, so that `status` always gets an answer:
 * CONTROL_MAX_CLIENTS connections may be reading their request (each
 * for at most CONTROL_REQ_TIMEOUT_MS); once known, a request that waits
 * (wait-ready, checks) moves to CONTROL_MAX_WAITERS places, a follower
 * of logs to CONTROL_MAX_FOLLOWERS, freeing its place for the next
 * request.
 *
 * The requests' work is in verbs.c (init/verbs.h, internal to the two).
 *
 * Public API: control_listen(), control_notify(), control_linger(),
 * control_close().
 */
#ifndef AGENT_INIT_CONTROL_H
#define AGENT_INIT_CONTROL_H

#include <stdbool.h>
#include <sys/types.h>

#include "check.h"

#define CONTROL_DEFAULT_PATH "/run/agent-init/control.sock"
#define CONTROL_MAX_CLIENTS 32
#define CONTROL_MAX_WAITERS 32
#define CONTROL_MAX_FOLLOWERS 64
#define CONTROL_REQ_MAX 256
#define CONTROL_REQ_TIMEOUT_MS 2000
/* How long a client told `shutdown` may take to hang up. */
#define CONTROL_LINGER_MS 1000
/* Out of descriptors: how long accepting waits before it tries again. */
#define CONTROL_ACCEPT_PAUSE_MS 100

struct control_opts {
	const char *path; /* "" or NULL: no socket */
	bool group_set; /* control_group: 0660 with this group */
	gid_t group;
	unsigned int verbose; /* -v: reads are events too */
	/* What `ctl checks` runs (the configured checks). */
	const struct checks_opts *checks;
};

/* Listen; a failure is a `warning` event, not fatal. */
int control_listen(const struct control_opts *o);
/* Readiness changed (ready, a failure, shutdown): answer the waiters. */
void control_notify(void);
/*
 * At the end of the shutdown, before PID 1 exits: wait (at most
 * CONTROL_LINGER_MS from their answer) until the clients told `shutdown`
 * hung up.  A client in our PID namespace (`docker exec`, a Kubernetes
 * preStop hook) is killed by the kernel when PID 1 exits: without this
 * it could die before it wrote its answer and exited 0.
 */
void control_linger(void);
/* At exit: remove the socket file. */
void control_close(void);

#endif
