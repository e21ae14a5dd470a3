/*
 * hints — every remedy agent-init gives, in one place, so that the words
 * an operator reads are reviewed together (SPEC section 8).
 *
 * A remedy follows the facts in hint_ctx: it never proposes what is
 * already in place (a user-defined network, `runsc --network=host`) and
 * never blames a layer the facts exclude (gVisor's netstack under runc
 * or under runsc's host networking).  Pure: no syscalls, unit tested
 * over every combination of the facts (tests/unit/test_verdict.c).
 *
 * Public API: hint_for().
 */
#ifndef AGENT_INIT_HINTS_H
#define AGENT_INIT_HINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "facts.h"

struct hint_ctx {
	const char *target; /* nameserver, HOST:PORT, proxy URL (redacted) */
	const char *subnet; /* the sandbox's own subnet, e.g. 172.17.0.0/16 */
	unsigned int port; /* 0: the port of target, if any */
	bool gvisor; /* runtime detected as gVisor */
	enum gvisor_net gvisor_net; /* its network mode, if told */
	bool embedded_dns; /* the nameserver is Docker's 127.0.0.11 */
	/* resolv.conf is Docker's for a user-defined network (ndots:0 or
	 * Docker 25's "# ExtServers:" with nameserver 127.0.0.11). */
	bool user_network;
	bool self_asked; /* 127.0.0.11 was asked for the container's name */
	bool self_answered; /* ... and answered it */
	const char *query; /* the `query` name, or NULL for the root probe */
	const char *missing; /* capability names, space separated */
	bool proxy_set; /* a proxy is configured */
};

/* The remedy for (check, code), or "" when there is nothing to do. */
void hint_for(const char *check, const char *code, const struct hint_ctx *c,
    char *buf, size_t cap);

#endif
