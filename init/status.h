/*
 * status — the sandbox's state as one JSON document, for the control
 * socket's `status` (agent-init status, the HEALTHCHECK), the HTTP probe
 * endpoint's /status, and one service's state for the `ctl` verbs.
 *
 * Built into a bounded buffer (struct jbuf) that never overflows: a
 * document that does not fit is replaced by an error object.  Nothing
 * here changes any state.
 *
 *   {"ready", "healthy", "phase", "services": [{"name", "state", "pid",
 *    "ready", "main", "required", "attempt", "restarts", "last_exit",
 *    "reason"}]}
 *
 * `reason` (why a service failed or is stopped) is in both; what is for
 * operators only (the output tails, the causes) never goes to /status,
 * which may be reachable from further away.
 *
 * Public API: jb_reset(), jb_raw(), jb_str(), status_json(),
 * status_service_json().
 */
#ifndef AGENT_INIT_STATUS_H
#define AGENT_INIT_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "service.h"

/* A status of 64 services with their reasons fits. */
#define JB_MAX 65536

/* A bounded JSON writer: once full, every further write is ignored. */
struct jbuf {
	char b[JB_MAX];
	size_t len;
	bool full;
};

void jb_reset(struct jbuf *j);
void jb_raw(struct jbuf *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A JSON string, quoted and escaped. */
void jb_str(struct jbuf *j, const char *s);

/* The whole document and a newline; for_http leaves out what is for
 * operators only. */
void status_json(struct jbuf *j, bool for_http);
/* One service's object (no newline). */
void status_service_json(struct jbuf *j, const struct svc *s);

#endif
