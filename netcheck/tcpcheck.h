/*
 * tcpcheck — the `tcp` check (SPEC section 8): a target HOST:PORT, its
 * name through an IP literal, the hosts file, then every nameserver, and
 * a TCP connect.  A name that does not resolve is `dns_failed`, with the
 * source that failed, never a firewall `timeout`.  Internal to netcheck/.
 *
 * Public API: tcpcheck_reset(), tcpcheck_start(), tcpcheck_deadline(),
 * tcpcheck_code().
 */
#ifndef AGENT_INIT_TCPCHECK_H
#define AGENT_INIT_TCPCHECK_H

#include <stdbool.h>

#include "config.h"

/* A new run: every job free. */
void tcpcheck_reset(void);
/* k: its [check tcp:NAME] section, or NULL (netcheck's arguments). */
void
tcpcheck_start(const struct check_conf *k, const char *target, bool required);
void tcpcheck_deadline(void);
/* The code of a connect's errno: ok, refused, timeout, unreachable. */
const char *tcpcheck_code(int err);

#endif
