/*
 * proxycheck — the `proxy` check (SPEC section 8): the proxy variables as
 * curl picks them, a connect to the proxy and, with `connect_probe =
 * HOST:PORT`, a real CONNECT through it.  Its state is what the `egress`
 * and `clock` verdicts are made of.  Internal to netcheck/.
 *
 * Public API: proxycheck_reset(), proxycheck_start(), proxycheck_deadline(),
 * proxycheck_state(), proxycheck_connect_code().
 */
#ifndef AGENT_INIT_PROXYCHECK_H
#define AGENT_INIT_PROXYCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct proxy_state {
	bool started; /* proxycheck_start() ran in this run */
	bool set; /* a proxy variable is set */
	bool done; /* the verdict is in */
	bool ok; /* the proxy curl would use works */
	bool have_date; /* its CONNECT reply had a Date: */
	int64_t date_skew; /* Date: minus our clock, seconds */
};

void proxycheck_reset(void);
/* Once per run (later calls do nothing); k may be NULL. */
void proxycheck_start(const struct check_conf *k);
void proxycheck_deadline(void);
const struct proxy_state *proxycheck_state(void);
/* The code of a proxy's HTTP status to CONNECT: ok, denied, ... */
const char *proxycheck_connect_code(int status);

#endif
