/*
 * capcheck — the `capabilities` check (SPEC section 8): every name of
 * `require =` (and with --dockerd the set docker-in-gVisor sandboxes
 * add) must be in the effective set; the detail gives the five sets,
 * no_new_privs, the seccomp mode and whether we are in a user namespace.
 * Internal to netcheck/.
 *
 * Public API: capcheck_start().
 */
#ifndef AGENT_INIT_CAPCHECK_H
#define AGENT_INIT_CAPCHECK_H

#include <stdbool.h>

#include "config.h"

/* dockerd: the preset runs (its capabilities, and always required). */
void capcheck_start(const struct check_conf *k, bool dockerd);

#endif
