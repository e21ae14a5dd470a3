/*
 * facts — what verdicts and remedies depend on.  See facts.h.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "facts.h"
#include "file.h"
#include "proxy.h"

static struct {
	struct host_facts host;
	bool host_read, dockerd;
	enum gvisor_net gnet;
	bool gnet_read;
	char subnet[64];
} fs;

void
facts_for_dockerd(bool dockerd)
{
	fs.dockerd = dockerd;
}

const struct host_facts *
facts_host(void)
{
	if (!fs.host_read) {
		host_read(&fs.host, getpid() == 1);
		host_read_extra(&fs.host, fs.dockerd);
		fs.host_read = true;
	}
	return &fs.host;
}

/* The middle ("default") of the three numbers of tcp_rmem or tcp_wmem. */
static long long
default_of(const char *text)
{
	long long v[3];
	char *end;
	int i;

	for (i = 0; i < 3; i++) {
		v[i] = strtoll(text, &end, 10);
		if (end == text || v[i] < 0)
			return -1;
		text = end;
	}
	return v[1];
}

/*
 * runsc (gVisor 20221219, Debian 12) in a Docker container showed in
 * /proc/sys/net/ipv4/tcp_rmem and tcp_wmem:
 *
 *   netstack   "4096 1048576 4194304" both: netstack's own buffer sizes
 *              (tcp.DefaultReceiveBufferSize and DefaultSendBufferSize,
 *              1 MiB), whatever the host says;
 *   hostinet   the host kernel's values, read when the sandbox started
 *              ("4096 131072 33554432" and "4096 16384 4194304" here).
 *
 * Linux's defaults are 131072 (87380 before 4.20) and 16384; a default of
 * exactly 1 MiB for both is netstack's.  Everything else the two modes show
 * in /proc/net and /proc/sys/net was the same, or a counter.
 */
enum gvisor_net
facts_gvisor_net_of(const char *tcp_rmem, const char *tcp_wmem)
{
	long long r, w;

	if (!tcp_rmem || !tcp_wmem)
		return GVISOR_NET_UNKNOWN;
	r = default_of(tcp_rmem);
	w = default_of(tcp_wmem);
	if (r < 0 || w < 0)
		return GVISOR_NET_UNKNOWN;
	if (r == 1048576 && w == 1048576)
		return GVISOR_NET_NETSTACK;
	return GVISOR_NET_HOST;
}

const char *
facts_gvisor_net_name(enum gvisor_net n)
{
	switch (n) {
	case GVISOR_NET_NETSTACK:
		return "netstack";
	case GVISOR_NET_HOST:
		return "host";
	case GVISOR_NET_UNKNOWN:
		return "unknown";
	default:
		return "none";
	}
}

enum gvisor_net
facts_gvisor_net(void)
{
	char *rmem = NULL, *wmem = NULL;
	size_t len;

	if (fs.gnet_read)
		return fs.gnet;
	fs.gnet_read = true;
	if (strcmp(facts_host()->runtime, "gvisor") != 0) {
		fs.gnet = GVISOR_NET_NONE;
		return fs.gnet;
	}
	if (file_read("/proc/sys/net/ipv4/tcp_rmem", FILE_PLANTED, 256, 0,
	        &rmem, &len) < 0)
		rmem = NULL;
	if (file_read("/proc/sys/net/ipv4/tcp_wmem", FILE_PLANTED, 256, 0,
	        &wmem, &len) < 0)
		wmem = NULL;
	fs.gnet = facts_gvisor_net_of(rmem, wmem);
	free(rmem);
	free(wmem);
	return fs.gnet;
}

const char *
facts_subnet(void)
{
	struct ifaddrs *ifa, *i;

	if (fs.subnet[0])
		return fs.subnet;
	if (getifaddrs(&ifa) < 0)
		return "SUBNET";
	for (i = ifa; i; i = i->ifa_next) {
		struct sockaddr_in *a = (void *)i->ifa_addr;
		struct sockaddr_in *m = (void *)i->ifa_netmask;
		uint32_t addr, mask;
		struct in_addr net;
		char txt[INET_ADDRSTRLEN];
		int bits = 0;

		if (!a || !m || a->sin_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		addr = ntohl(a->sin_addr.s_addr);
		mask = ntohl(m->sin_addr.s_addr);
		while (bits < 32 && (mask & (0x80000000u >> bits)))
			bits++;
		net.s_addr = htonl(addr & mask);
		inet_ntop(AF_INET, &net, txt, sizeof(txt));
		snprintf(fs.subnet, sizeof(fs.subnet), "%s/%d", txt, bits);
		break;
	}
	freeifaddrs(ifa);
	return fs.subnet[0] ? fs.subnet : "SUBNET";
}

static const char *
env_get(const char *name)
{
	return getenv(name);
}

/* Known before any verdict: the resolver's hint depends on it. */
bool
facts_proxy_set(void)
{
	struct proxy_env_view pe;

	(void)proxy_env_read(env_get, &pe);
	return pe.https_proxy || pe.http_proxy || pe.env.http.upper ||
	    pe.env.https.upper;
}
