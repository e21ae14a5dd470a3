/*
 * ctl — the clients of the control socket: `agent-init status`,
 * `agent-init wait-ready` and `agent-init ctl VERB ...`.  Each is a
 * short-lived ordinary process (not PID 1): it connects, sends one
 * request line (init/control.h), and prints what comes back.
 *
 *   ctl start|stop|restart SERVICE   then waits (--timeout, default 60s;
 *                                    --no-wait not) until the service is
 *                                    ready (start, restart) or stopped
 *   ctl signal [--group] SIG SERVICE
 *   ctl logs [-n N] [-f] SERVICE     its recent output, then what comes
 *   ctl checks                       the checks again, their verdicts
 *
 * --json prints JSON instead of text; --socket PATH (or
 * AGENT_INIT_CONTROL_SOCKET) names the socket.  Exit status (CTL_EXIT_*):
 * 0 done; 1 not done (the service failed or did not get there in time,
 * a check failed, no process to signal, shutting down, output not
 * captured); 2 no such service; 3 permission denied; 4 agent-init
 * cannot be asked (no socket, no answer, busy); 64 bad usage.
 *
 * Public API: ctl_main().
 */
#ifndef AGENT_INIT_CTL_H
#define AGENT_INIT_CTL_H

#define CTL_EXIT_OK 0
#define CTL_EXIT_NOT_DONE 1
#define CTL_EXIT_NO_SERVICE 2
#define CTL_EXIT_DENIED 3
#define CTL_EXIT_UNREACHABLE 4
#define CTL_EXIT_USAGE 64

/* cmd: "status", "wait-ready" or "ctl"; argv: the words after it. */
int ctl_main(const char *cmd, int argc, char **argv);

#endif
