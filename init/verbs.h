/*
 * verbs — internal to the control socket's server: the client of a
 * connection as control.c keeps it, what control.c offers the verbs
 * (replies, the `control` event, parking a client), and the verbs.
 * Nothing outside init/control.c and init/verbs.c includes this.
 *
 * The ctl_ functions are control.c's, the verb ones verbs.c's.
 *
 * Public API: ctl_slot(), ctl_opts(), ctl_drop(),
 * ctl_reply(), ctl_reply_json(), ctl_reply_json_linger(),
 * ctl_reply_error(), ctl_event(),
 * ctl_park(); verb_state(), verb_logs(), verb_checks(), verb_act(),
 * verb_signal(), verbs_pump(), verbs_on_log().
 */
#ifndef AGENT_INIT_VERBS_H
#define AGENT_INIT_VERBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "control.h"
#include "follow.h"
#include "loop.h"
#include "output.h"
#include "status.h"

/* What a connection is, each kind with its own limit (control.h). */
enum cls { CL_FREE, CL_REQUEST, CL_WAITER, CL_FOLLOWER, CL_MAX };
/* What a waiter waits for: ready, the checks' end, or (told that its
 * verb shuts the sandbox down) only to hang up (ctl_reply_json_linger()). */
enum wait_for { W_READY, W_CHECKS, W_GONE };

#define CTL_NSLOTS \
	(CONTROL_MAX_CLIENTS + CONTROL_MAX_WAITERS + CONTROL_MAX_FOLLOWERS)

struct client {
	struct loop_io io;
	struct loop_timer timer;
	enum cls cls;
	enum wait_for wfor;
	struct ucred cred;
	uint64_t until; /* W_GONE: how long it may take to be gone */
	uint64_t since_ms; /* W_CHECKS: when it asked */
	char req[CONTROL_REQ_MAX + 1];
	size_t len;
	struct follow *f;
};

/* control.c */
struct client *ctl_slot(size_t i);
const struct control_opts *ctl_opts(void);
void ctl_drop(struct client *c);
/* Send (as far as the socket takes it now) and close. */
void ctl_reply(struct client *c, const char *s, size_t n);
/* Send the JSON object begun with json_begin() (an error if it did not
 * fit), and close. */
void ctl_reply_json(struct client *c);
/* As ctl_reply_json(), but the connection stays open until the client
 * hangs up, at most CONTROL_LINGER_MS: control_linger() lets it go
 * before PID 1 exits. */
void ctl_reply_json_linger(struct client *c);
void ctl_reply_error(struct client *c, const char *code, const char *msg);
/* The `control` event: verb, service (NULL: none), the peer, result. */
void ctl_event(const struct client *c, const char *verb, const char *service,
    const char *result);
/* Move c to the waiters or the followers; false (answered, closed) when
 * their places are all taken. */
bool ctl_park(struct client *c, enum cls cls);

/* verbs.c */
void verb_state(struct client *c, const char *name);
void verb_logs(struct client *c, const char *name, const char *last,
    const char *mode);
void verb_checks(struct client *c);
/* start, stop or restart */
void verb_act(struct client *c, const char *verb, const char *name);
void verb_signal(struct client *c, const char *num, const char *name,
    const char *group);
/* A follower's turn: send what it can take. */
void verbs_pump(struct client *c);
/* New lines of a service with followers (output_on_log()). */
void verbs_on_log(struct svc_out *o);

#endif
