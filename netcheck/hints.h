/*
 * hints — every remedy agent-init gives, in one place, so that the words
 * an operator reads are reviewed together (SPEC section 8).
 *
 * Public API: hint_for().
 */
#ifndef AGENT_INIT_HINTS_H
#define AGENT_INIT_HINTS_H

#include <stdbool.h>
#include <stddef.h>

struct hint_ctx {
	const char *target; /* nameserver, HOST:PORT, proxy URL (redacted) */
	const char *subnet; /* the sandbox's own subnet, e.g. 172.17.0.0/16 */
	unsigned int port; /* 0: the port of target, if any */
	bool gvisor; /* runtime detected as gVisor */
	bool embedded_dns; /* the nameserver is Docker's 127.0.0.11 */
	const char *missing; /* capability names, space separated */
	bool proxy_set; /* a proxy is configured */
};

/* The remedy for (check, code), or "" when there is nothing to do. */
void hint_for(const char *check, const char *code, const struct hint_ctx *c,
    char *buf, size_t cap);

#endif
