/*
 * hints — the remedies.  See hints.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hints.h"

static const char *
s(const char *v, const char *dflt)
{
	return v && *v ? v : dflt;
}

/* Under gVisor, is its netstack what keeps 127.0.0.11 away? */
static bool
netstack(const struct hint_ctx *c)
{
	return c->gvisor &&
	    (c->gvisor_net == GVISOR_NET_NETSTACK ||
	        (c->gvisor_net == GVISOR_NET_UNKNOWN && c->user_network));
}

static const char *const DNS_ELSE = "or give the sandbox a resolver it can "
                                    "reach (`docker run --dns IP`)";

/*
 * 127.0.0.11 does not answer at all (port unreachable, or silence with no
 * proof that Docker's resolver is there).  Three layers can be the cause:
 * gVisor's netstack (its own loopback, no DNAT), the network (only
 * user-defined networks have the embedded DNS), or the container's own
 * network namespace (DNAT rules gone, or a rule that drops).
 */
static void
embedded_unreachable(const char *code, const struct hint_ctx *c, char *buf,
    size_t cap)
{
	bool refused = strcmp(code, "port_unreachable") == 0;

	if (netstack(c))
		snprintf(buf, cap,
		    "%s 127.0.0.11: gVisor's netstack has a loopback of its "
		    "own and never applies the DNAT rules that bring Docker's "
		    "embedded DNS there (runtime gVisor, network %s); %s, %s",
		    refused ? "nothing answers on" : "no reply from",
		    facts_gvisor_net_name(c->gvisor_net),
		    c->user_network ? "run the sandbox with `runsc "
		                      "--network=host` (runtimeArgs in "
		                      "daemon.json)"
		                    : "127.0.0.11 needs both a user-defined "
		                      "network (`docker network create`) and "
		                      "`runsc --network=host`",
		    DNS_ELSE);
	else if (!refused)
		/* Silence on loopback: something in the way drops it. */
		snprintf(buf, cap,
		    "no reply from 127.0.0.11%s: its packets are dropped in "
		    "the container's network namespace (a firewall rule: see "
		    "`iptables -S` and `nft list ruleset` there)%s; remove the "
		    "rule%s, %s",
		    c->self_asked ? ", not even for the container's own name, "
		                    "which Docker answers itself"
		                  : "",
		    c->user_network ? ""
		                    : ", and Docker's embedded DNS exists only "
		                      "on user-defined networks (`docker "
		                      "network create`)",
		    c->gvisor && c->gvisor_net == GVISOR_NET_UNKNOWN
		        ? " (under gVisor's netstack, which drops it: `runsc "
		          "--network=host`)"
		        : "",
		    DNS_ELSE);
	else if (c->user_network)
		snprintf(buf, cap,
		    "nothing listens on 127.0.0.11, although resolv.conf is "
		    "Docker's for a user-defined network: the DNAT rules "
		    "Docker puts into the container's network namespace for "
		    "its embedded DNS are missing (flushed by a process with "
		    "NET_ADMIN, e.g. a firewall script or an inner dockerd); "
		    "restart the container, %s",
		    DNS_ELSE);
	else
		snprintf(buf, cap,
		    "nothing listens on 127.0.0.11:53: that is Docker's "
		    "embedded DNS, which exists only on user-defined networks "
		    "(`docker network create`), not on the default bridge or "
		    "with `--dns 127.0.0.11`; use a user-defined network%s, %s",
		    c->gvisor && c->gvisor_net != GVISOR_NET_HOST
		        ? " (under gVisor with `runsc --network=host`: "
		          "netstack never reaches it)"
		        : "",
		    DNS_ELSE);
}

static void
resolver_hint(const char *code, const struct hint_ctx *c, char *buf, size_t cap)
{
	const char *ns = s(c->target, "the nameserver");

	if (strcmp(code, "upstream_dead") == 0)
		snprintf(buf, cap,
		    "127.0.0.11 (Docker's embedded DNS) is up, it answered the "
		    "container's own name, but the resolver it forwards to "
		    "does not answer: the Docker host's resolver (its "
		    "/etc/resolv.conf), or dockerd's `--dns` / daemon.json "
		    "\"dns\"; fix that resolver or point dockerd at one that "
		    "works, %s",
		    DNS_ELSE);
	else if (c->embedded_dns &&
	    (strcmp(code, "port_unreachable") == 0 ||
	        strcmp(code, "timeout") == 0))
		embedded_unreachable(code, c, buf, cap);
	else if (strcmp(code, "timeout") == 0)
		snprintf(buf, cap,
		    "no reply from %s: packets are dropped on the way (a "
		    "firewall, or a network the sandbox cannot route); check "
		    "that UDP and TCP port 53 to it are allowed, or use "
		    "another nameserver",
		    ns);
	else if (strcmp(code, "port_unreachable") == 0)
		snprintf(buf, cap,
		    "%s answered that nothing listens on port 53: start the "
		    "resolver there, or point /etc/resolv.conf at one that "
		    "runs",
		    ns);
	else if (strcmp(code, "net_unreachable") == 0)
		snprintf(buf, cap,
		    "no route to %s: the sandbox has no network path to it "
		    "(check its routes, or use a nameserver on its own "
		    "network)",
		    ns);
	else if (strcmp(code, "servfail") == 0)
		snprintf(buf, cap,
		    "%s is reachable but cannot resolve (SERVFAIL: its "
		    "upstream is broken or unreachable): fix its forwarders%s",
		    ns,
		    c->embedded_dns ? " (for 127.0.0.11: the Docker host's "
		                      "resolver, or dockerd's `--dns`)"
		                    : ", or use another nameserver");
	else if (strcmp(code, "refused") == 0)
		snprintf(buf, cap,
		    "%s is reachable but refuses to answer `%s` (policy, e.g. "
		    "an allow-listing resolver): allow the name, or the "
		    "sandbox's address, in its policy, or use another "
		    "nameserver",
		    ns, s(c->query, "the query"));
	else if (strcmp(code, "nxdomain") == 0)
		snprintf(buf, cap,
		    "the resolver works, but this name does not exist: check "
		    "the `query` name or the search list");
	else if (strcmp(code, "no_nameserver") == 0)
		snprintf(buf, cap,
		    "/etc/resolv.conf names no nameserver: add one (`docker "
		    "run --dns IP`), or every lookup fails");
	if (c->proxy_set && strcmp(code, "ok") != 0 &&
	    strcmp(code, "nxdomain") != 0) {
		size_t n = strlen(buf);

		snprintf(buf + n, cap - n,
		    "%sa proxy is set, so HTTP clients may work, but clients "
		    "that bypass it (WebSocket libraries, gRPC) resolve names "
		    "themselves and will fail with EAI_AGAIN",
		    n ? "; " : "");
	}
}

/* `docker run --cap-add A --cap-add B`: one flag per capability. */
static void
cap_hint(const char *missing, char *buf, size_t cap)
{
	char flags[400] = "", names[256], *w, *save = NULL;
	size_t n = 0;

	snprintf(names, sizeof(names), "%s", s(missing, "CAP"));
	for (w = strtok_r(names, " ", &save); w && n < sizeof(flags);
	     w = strtok_r(NULL, " ", &save))
		n += (size_t)snprintf(flags + n, sizeof(flags) - n,
		    "%s--cap-add %s", n ? " " : "", w);
	snprintf(buf, cap,
	    "add them: `docker run %s ...` (or `--privileged` for "
	    "docker-in-docker); in Kubernetes, "
	    "securityContext.capabilities.add",
	    flags);
}

/* The port of "HOST:PORT", or 0. */
static unsigned int
port_of(const char *target)
{
	const char *c = target ? strrchr(target, ':') : NULL;
	long v;

	if (!c)
		return 0;
	v = strtol(c + 1, NULL, 10);
	return v > 0 && v < 65536 ? (unsigned int)v : 0;
}

void
hint_for(const char *check, const char *code, const struct hint_ctx *ctx,
    char *buf, size_t cap)
{
	struct hint_ctx cc = *ctx;
	const struct hint_ctx *c = &cc;

	if (!cc.port)
		cc.port = port_of(cc.target);
	if (cap == 0)
		return;
	buf[0] = 0;
	if (strcmp(code, "ok") == 0)
		return;
	if (strcmp(check, "resolver") == 0)
		resolver_hint(code, c, buf, cap);
	else if (strcmp(check, "tcp") == 0 && strcmp(code, "timeout") == 0)
		/* Silent drops are what a default-deny host firewall does
		 * to traffic from a sandbox bridge to the host's gateway. */
		snprintf(buf, cap,
		    "no answer from %s: packets are dropped, typically by a "
		    "host firewall in default-deny; allow the sandbox's "
		    "subnet, e.g. `ufw allow from %s to any port %u proto tcp`",
		    s(c->target, "the target"), s(c->subnet, "SUBNET"),
		    c->port);
	else if (strcmp(check, "tcp") == 0 && strcmp(code, "refused") == 0)
		snprintf(buf, cap,
		    "%s is reachable but nothing listens on port %u: start "
		    "the service, or check the port",
		    s(c->target, "the target"), c->port);
	else if (strcmp(check, "tcp") == 0 && strcmp(code, "dns_failed") == 0)
		snprintf(buf, cap,
		    "the name of %s does not resolve (not a firewall "
		    "problem): add it to /etc/hosts (`docker run --add-host "
		    "NAME:IP`) or to the resolver",
		    s(c->target, "the target"));
	else if (strcmp(check, "tcp") == 0 && strcmp(code, "unreachable") == 0)
		snprintf(buf, cap,
		    "no route to %s from the sandbox: check its network "
		    "(routes, the gateway address)",
		    s(c->target, "the target"));
	else if (strcmp(check, "proxy") == 0 && strcmp(code, "mismatch") == 0)
		snprintf(buf, cap,
		    "upper- and lower-case proxy variables disagree; tools "
		    "pick different ones (curl and Python the lower-case one, "
		    "Go the upper-case one first): set both to the same "
		    "value");
	else if (strcmp(check, "proxy") == 0 && strcmp(code, "bad_url") == 0)
		snprintf(buf, cap,
		    "the proxy variable is not a URL clients understand: use "
		    "http://HOST:PORT");
	else if (strcmp(check, "proxy") == 0 &&
	    strcmp(code, "unreachable") == 0)
		snprintf(buf, cap,
		    "cannot connect to the proxy %s: is it running, and is "
		    "the sandbox allowed to reach it?",
		    s(c->target, ""));
	else if (strcmp(check, "proxy") == 0 && strcmp(code, "denied") == 0)
		snprintf(buf, cap,
		    "the proxy refuses CONNECT to this host and port (403): "
		    "add it to the proxy's allow list");
	else if ((strcmp(check, "proxy") == 0 ||
	             strcmp(check, "tunnel") == 0) &&
	    strcmp(code, "auth_required") == 0)
		snprintf(buf, cap,
		    "the proxy wants credentials (407): put them in the URL "
		    "(http://USER:PASS@HOST:PORT)");
	else if (strcmp(check, "capabilities") == 0 &&
	    strcmp(code, "missing") == 0)
		cap_hint(c->missing, buf, cap);
	else if (strcmp(check, "egress") == 0 &&
	    strcmp(code, "proxy_only") == 0)
		snprintf(buf, cap,
		    "only the proxy reaches out: clients that ignore "
		    "HTTPS_PROXY (WebSockets, gRPC, raw sockets) will fail");
	else if (strcmp(check, "egress") == 0 &&
	    strcmp(code, "proxy_broken") == 0)
		snprintf(buf, cap,
		    "a proxy is set but does not work, and there is no direct "
		    "path: fix the proxy first");
	else if (strcmp(check, "egress") == 0 && strcmp(code, "no_egress") == 0)
		snprintf(buf, cap,
		    "the sandbox cannot reach the outside at all: no direct "
		    "path and no proxy");
	else if (strcmp(check, "clock") == 0)
		snprintf(buf, cap,
		    "the clock is off by more than a minute: TLS will fail "
		    "with \"certificate is not yet valid\" or \"expired\"; "
		    "sync the host's clock");
	else if (strcmp(check, "tunnel") == 0 && strcmp(code, "denied") == 0)
		snprintf(buf, cap,
		    "the proxy refuses CONNECT to %s: add it to the proxy's "
		    "allow list (and its port to the allowed CONNECT ports)",
		    s(c->target, "the target"));
	else if (strcmp(check, "tunnel") == 0 &&
	    strcmp(code, "unreachable") == 0)
		snprintf(buf, cap,
		    "no tunnel through the proxy to %s: check that the proxy "
		    "runs and can reach it (see the proxy check)",
		    s(c->target, "the target"));
	else if (strcmp(check, "tunnel") == 0 &&
	    strcmp(code, "tunnel_cut") == 0)
		snprintf(buf, cap,
		    "the proxy closes idle CONNECT tunnels: long-lived "
		    "WebSocket clients will be dropped that often; raise its "
		    "idle timeout or send keep-alives");
}
