/*
 * control — the control socket (SPEC section 11): `agent-init status`
 * and `agent-init wait-ready` ask the running PID 1 over a unix stream
 * socket.
 *
 * Protocol: the client sends one request line, "status" or "wait-ready"
 * (at most CONTROL_REQ_MAX bytes); the server answers with one JSON line
 * and closes.  "wait-ready" is answered when the sandbox becomes ready
 * (or fails, or shuts down); the client bounds the wait.
 *
 * The server side lives in PID 1's loop and never blocks: non-blocking
 * sockets, at most CONTROL_MAX_CLIENTS with a request under way (more are
 * told "busy", and `agent-init status` asks again until its deadline), a
 * request must arrive within CONTROL_REQ_TIMEOUT_MS, every reply is
 * small and written with MSG_DONTWAIT (a client that does not read it
 * loses it).  `wait-ready` clients that wait have a limit of their own,
 * CONTROL_MAX_WAITERS, so that however many wait, `status` (Docker's
 * HEALTHCHECK, a Kubernetes probe) is still answered.  The socket is mode
 * 0600 and each peer is checked with SO_PEERCRED: root or our own uid,
 * else an error reply.
 *
 * Public API: control_listen(), control_notify(), control_close(),
 * control_client_main().
 */
#ifndef AGENT_INIT_CONTROL_H
#define AGENT_INIT_CONTROL_H

#include <stdbool.h>

#define CONTROL_DEFAULT_PATH "/run/agent-init/control.sock"
#define CONTROL_MAX_CLIENTS 32
#define CONTROL_MAX_WAITERS 32
#define CONTROL_REQ_MAX 256
#define CONTROL_REQ_TIMEOUT_MS 2000
/* Out of descriptors: how long accepting waits before it tries again. */
#define CONTROL_ACCEPT_PAUSE_MS 100

/* Listen at path; a failure is a `warning` event, not fatal. */
int control_listen(const char *path);
/* Readiness changed (ready, a failure, shutdown): answer the waiters. */
void control_notify(void);
/* At exit: remove the socket file. */
void control_close(void);
/* `agent-init status ...` and `agent-init wait-ready ...`: exit status. */
int control_client_main(const char *cmd, int argc, char **argv);

#endif
