/*
 * status — the sandbox's state as JSON, for the control socket's
 * `status` (agent-init status, the HEALTHCHECK), the HTTP probe
 * endpoint's /status, and one service's state for the `ctl` verbs.
 *
 * Built with the one JSON builder (core/events.h: json_begin(),
 * json_end()): the line returned stays valid until the next event or
 * JSON object is begun, and is NULL when it did not fit.  Nothing here
 * changes any state.
 *
 *   {"ready", "healthy", "phase", "services": [{"name", "state", "pid",
 *    "ready", "main", "required", "attempt", "restarts", "last_exit",
 *    "reason", "cause", "hint", "health", "health_reason",
 *    "health_failures", "status_text"}], "checks": [{"check", "target",
 *    "status", "code", "age_ms"}]}
 *
 * `reason` (why a service failed or is stopped) is in both; what is for
 * operators only (causes and hints, liveness reasons, a service's own
 * STATUS= text, the checks' targets) never goes to /status, which may be
 * reachable from further away.
 *
 * Public API: status_json(), status_service_json().
 */
#ifndef AGENT_INIT_STATUS_H
#define AGENT_INIT_STATUS_H

#include <stdbool.h>
#include <stddef.h>

#include "events.h"
#include "service.h"

/* A status of 64 services with their reasons fits. */
#define STATUS_MAX EV_LINE_MAX

/* The whole document, a line with its newline; for_http leaves out what
 * is for operators only.  NULL when it does not fit. */
const char *status_json(bool for_http, size_t *ret_len);
/* One service's entry as a line of its own. */
const char *status_service_json(const struct svc *s, size_t *ret_len);

#endif
