/*
 * facts — what the checks' verdicts and remedies depend on, gathered once
 * per process and never in the start-up hot path unless a check asks:
 *
 *   - the sandbox fingerprint of host.c (runtime, cgroups, devices, and
 *     with the checks the extra facts: firewall tools, raw sockets ...);
 *   - gVisor's network mode, as far as it can be told from inside: runsc
 *     either runs its own network stack (netstack, the default) or passes
 *     socket calls to the host kernel in the container's network
 *     namespace (`--network=host`, "hostinet");
 *   - the sandbox's own subnet (for firewall remedies) and whether a proxy
 *     variable is set.
 *
 * facts_gvisor_net_of() is the pure classifier behind facts_gvisor_net(),
 * unit tested on what runsc showed (README "Troubleshooting").
 *
 * Public API: facts_for_dockerd(), facts_host(), facts_gvisor_net(),
 * facts_gvisor_net_of(), facts_gvisor_net_name(), facts_subnet(),
 * facts_proxy_set().
 */
#ifndef AGENT_INIT_FACTS_H
#define AGENT_INIT_FACTS_H

#include <stdbool.h>

#include "host.h"

enum gvisor_net {
	GVISOR_NET_NONE, /* not gVisor */
	GVISOR_NET_UNKNOWN, /* gVisor, mode not told */
	GVISOR_NET_NETSTACK, /* runsc's own network stack */
	GVISOR_NET_HOST, /* runsc --network=host */
	GVISOR_NET_MAX
};

/* Before facts_host(): the --dockerd preset runs (packet sockets too). */
void facts_for_dockerd(bool dockerd);
const struct host_facts *facts_host(void);
enum gvisor_net facts_gvisor_net(void);
/* From /proc/sys/net/ipv4/tcp_rmem and tcp_wmem's text (NULL: unread). */
enum gvisor_net facts_gvisor_net_of(const char *tcp_rmem, const char *tcp_wmem);
const char *facts_gvisor_net_name(enum gvisor_net n);
/* The first global IPv4 address's network, e.g. 172.17.0.0/16. */
const char *facts_subnet(void);
bool facts_proxy_set(void);

#endif
