/*
 * checknet — the checks that talk to the network (resolver, proxy, tcp,
 * egress, clock, tunnel), for check.c.  Internal to netcheck/.
 *
 * Every job owns at most one socket, registered with the loop, and ends
 * by calling check_done() exactly once; checknet_deadline() ends what is
 * still running when the run's deadline fires.
 *
 * Public API: checknet_init(), checknet_resolver(), checknet_proxy(),
 * checknet_proxy_set(), checknet_tcp(), checknet_egress(),
 * checknet_clock(), checknet_tunnel(), checknet_deadline(),
 * checknet_progress(), checknet_port_of(); and check.c's, which the jobs
 * call: check_new(), check_new_background(), check_done(),
 * check_subnet().
 */
#ifndef AGENT_INIT_CHECKNET_H
#define AGENT_INIT_CHECKNET_H

#include <stdbool.h>
#include <stdint.h>

#include "check.h"
#include "config.h"
#include "host.h"

/* From check.c: results and their verdicts. */
struct check_result *check_new(const char *type, const char *name,
    const char *target, bool required);
void check_done(struct check_result *r, const char *status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const char *check_subnet(void);
struct check_result *
check_new_background(const char *type, const char *name, const char *target);

void checknet_init(const struct checks_opts *o, uint64_t deadline_ms);
void checknet_deadline(void);
void checknet_resolver(const struct check_conf *k);
void checknet_proxy(const struct check_conf *k);
void
checknet_tcp(const struct check_conf *k, const char *target, bool required);
void checknet_egress(const struct check_conf *k);
void checknet_clock(const struct check_conf *k);
void checknet_tunnel(const struct check_conf *k);
/* Called after every verdict: egress and clock wait for others. */
void checknet_progress(void);
bool checknet_proxy_set(void);
/* The port of "HOST:PORT", or 0. */
unsigned int checknet_port_of(const char *target);

#endif
