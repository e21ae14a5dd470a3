/*
 * resolver — the `resolver` check (SPEC section 8): every nameserver of
 * resolv.conf asked at once, one verdict each, and the `ipv6` finding of
 * the environment check (AAAA records without an IPv6 route), which needs
 * the first good answer.  Internal to netcheck/.
 *
 * Public API: resolver_check(), resolver_deadline().
 */
#ifndef AGENT_INIT_RESOLVER_H
#define AGENT_INIT_RESOLVER_H

#include "config.h"

/* k: the [check resolver] section, or NULL for the defaults. */
void resolver_check(const struct check_conf *k);
/* The run's deadline: whatever still runs ends as `timeout`. */
void resolver_deadline(void);

#endif
