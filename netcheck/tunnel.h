/*
 * tunnel — the opt-in `tunnel` check (SPEC section 8): under PID 1, in
 * the background after the `checks` summary, an idle CONNECT tunnel
 * through the proxy kept open for `hold`; `tunnel_cut` with its lifetime
 * when the proxy closes it, `ok` when it survives.  `netcheck` reports it
 * as `skip`.  Internal to netcheck/.
 *
 * Public API: tunnel_start().
 */
#ifndef AGENT_INIT_TUNNEL_H
#define AGENT_INIT_TUNNEL_H

#include <stdbool.h>

#include "config.h"

/* background: PID 1 (the tunnel may outlive the run). */
void tunnel_start(const struct check_conf *k, bool background);

#endif
