/*
 * Fuzz target: what a service (or whatever listens where its probe
 * points) sends to the readiness probes of supervisor/probe.c, and what
 * probe.c reads itself.  The first byte picks:
 *
 *   0  an sd_notify datagram, notify_parse()
 *   1  the first bytes of an HTTP reply to a probe, http_status()
 *   2  "NAME\0TEXT": TEXT as /etc/hosts for the lookup of a tcp/http
 *      probe's host, hosts_pick() (the parser itself is fuzz_hosts')
 *   3  a `ready =` value, config_probe_parse()
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/config.c"
#include "../../core/file.c"
#include "../../supervisor/sandbox.c"
#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/signals.c"
#include "../../core/sink.c"
#include "../../core/values.c"
#include "../../supervisor/output.c"
#include "../../core/resolvconf.c"
#include "../../supervisor/probe.c"
#include "../../supervisor/spawn.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[CONFIG_VALUE_MAX * 4];
	const char *body = (const char *)data + 1;
	size_t n = size - 1;
	struct notify_msg m;
	struct sockaddr_storage ss;
	struct probe_conf pc;
	const uint8_t *nul;
	int r;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		notify_parse(body, n, &m);
		if (m.has_status)
			assert(memchr(m.status, 0, sizeof(m.status)));
		break;
	case 1:
		r = http_status(body, n);
		assert(r == -EAGAIN || r == -EINVAL || (r >= 100 && r <= 999));
		break;
	case 2:
		nul = memchr(body, 0, n);
		if (!nul || (size_t)(nul - data) > 256)
			break;
		memset(&ss, 0, sizeof(ss));
		if (hosts_pick((const char *)nul + 1,
		        n - (size_t)(nul + 1 - (const uint8_t *)body), body,
		        &ss) == 0)
			assert(ss.ss_family == AF_INET ||
			    ss.ss_family == AF_INET6);
		break;
	default:
		if (n >= sizeof(s))
			n = sizeof(s) - 1;
		memcpy(s, body, n);
		s[n] = 0;
		if (config_probe_parse(s, &pc) == NULL) {
			assert(memchr(pc.target, 0, sizeof(pc.target)));
			assert(memchr(pc.path, 0, sizeof(pc.path)));
			if (pc.kind == PROBE_TCP || pc.kind == PROBE_HTTP)
				assert(pc.port >= 1 && pc.port <= 65535);
		}
		break;
	}
	return 0;
}
