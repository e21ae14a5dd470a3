/*
 * egress — the verdicts made of other verdicts (SPEC section 8): `egress`
 * (a direct path, `direct = IP:PORT`, and the proxy's verdict) and
 * `clock` (our clock against the Date: of the proxy's CONNECT reply).
 * Both start the proxy check if no section did.  egress_progress() is
 * called after every verdict; each ends once what it waits for is in.
 * Internal to netcheck/.
 *
 * Public API: egress_reset(), egress_start(), clock_start(),
 * egress_progress(), egress_deadline().
 */
#ifndef AGENT_INIT_EGRESS_H
#define AGENT_INIT_EGRESS_H

#include "config.h"

void egress_reset(void);
void egress_start(const struct check_conf *k);
void clock_start(const struct check_conf *k);
void egress_progress(void);
void egress_deadline(void);

#endif
