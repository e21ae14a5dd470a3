/*
 * verdict — the resolver's and the proxy variables' verdicts from what
 * was seen on the wire (SPEC section 8), apart from the sockets that saw
 * it.  Pure: no syscalls, no allocation, unit tested cell by cell.
 *
 * Resolver.  Reachability is not the answer:
 *
 *   - The default probe (the root zone's NS, when no `query =` is set)
 *     only asks "is the server there?": any reply proves it, so NOERROR,
 *     NXDOMAIN, REFUSED (what allow-listing resolvers and dnsmasq without
 *     an upstream say to the root query) and every other rcode pass, with
 *     the rcode in the detail.  SERVFAIL is the exception: the server is
 *     there but its upstream is broken.
 *   - A `query =` name is judged by its own answer: NOERROR passes,
 *     NXDOMAIN warns (the server works, the name does not exist), REFUSED
 *     fails (policy), SERVFAIL and the other rcodes fail as `servfail`.
 *   - Docker's embedded DNS (127.0.0.11) is also asked for a name Docker
 *     answers itself, the container's hostname.  When the probe gets no
 *     reply (or SERVFAIL) but that name is answered, 127.0.0.11 is fine
 *     and the resolver behind it is not: `upstream_dead`.
 *   - No reply at all: `timeout` (dropped), `port_unreachable` (ICMP: no
 *     listener), `net_unreachable` (no route).
 *
 * Proxy variables.  When the upper- and lower-case spellings of a proxy
 * variable disagree, each one is tried: the verdict is `mismatch`, a
 * failure when either one cannot be used (unreachable, or not a proxy
 * URL), else a warning.
 *
 * Public API: verdict_resolver_wait_self(), verdict_resolver(),
 * verdict_mismatch().
 */
#ifndef AGENT_INIT_VERDICT_H
#define AGENT_INIT_VERDICT_H

#include <stdbool.h>

/* One query's end, as netio's dnsq saw it. */
struct dns_seen {
	bool done;
	bool has_reply;
	unsigned int rcode; /* with has_reply */
	/* Without a reply: "timeout", "port_unreachable",
	 * "net_unreachable", or "servfail" (a reply we could not read). */
	const char *code;
};

struct resolver_seen {
	struct dns_seen probe; /* the default probe, or the `query` name */
	struct dns_seen self; /* embedded DNS: the container's own name */
	bool default_query; /* no `query =`: the root zone's NS */
	bool embedded; /* the nameserver is 127.0.0.11 */
	bool self_asked; /* self was asked (embedded and a hostname) */
};

struct verdict {
	const char *status; /* ok, warn, fail */
	const char *code;
};

/* The probe ended: must the verdict wait for the self query? */
bool verdict_resolver_wait_self(const struct resolver_seen *s);
/* The probe ended (and self, if it mattered). */
void verdict_resolver(const struct resolver_seen *s, struct verdict *ret);

/* Each spelling of a mismatched proxy variable, as its probe ended. */
enum proxy_use { PROXY_USE_OK, PROXY_USE_REFUSED, PROXY_USE_DOWN };
void verdict_mismatch(enum proxy_use upper, enum proxy_use lower,
    struct verdict *ret);

#endif
