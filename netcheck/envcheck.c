/*
 * envcheck — the `environment` check.  See envcheck.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "envcheck.h"
#include "facts.h"
#include "result.h"

static void
env_finding(const char *what, const char *detail, const char *hint)
{
	struct check_result *r = result_new("environment", "", what, false);

	if (!r)
		return;
	snprintf(r->hint, sizeof(r->hint), "%s", hint);
	result_done(r, "warn", what, "%s", detail);
}

void
envcheck_start(bool dockerd)
{
	static const char *const ca_vars[] = { "SSL_CERT_FILE",
		"NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
		"GIT_SSL_CAINFO" };
	const struct host_facts *f = facts_host();
	size_t before = results_count();
	char buf[256];
	size_t i;

	if (f->shm_bytes >= 0 && f->shm_bytes < 256LL * 1024 * 1024) {
		snprintf(buf, sizeof(buf), "/dev/shm is %lld MiB",
		    f->shm_bytes / (1024LL * 1024));
		env_finding("shm_small", buf,
		    "browsers (Chromium) crash with less than 256 MiB of "
		    "/dev/shm: `docker run --shm-size=1g`");
	}
	if (f->cpu_max_milli > 0 && f->nproc * 1000 > f->cpu_max_milli + 999) {
		snprintf(buf, sizeof(buf),
		    "nproc says %ld CPUs but the cgroup allows %lld.%03lld",
		    f->nproc, f->cpu_max_milli / 1000, f->cpu_max_milli % 1000);
		env_finding("nproc_above_limit", buf,
		    "tools that size thread pools by nproc (node, make -j, "
		    "JVMs) oversubscribe; set their worker counts explicitly");
	}
	if (dockerd) {
		if (!f->overlay)
			env_finding("no_overlay",
			    "no overlay filesystem in /proc/filesystems",
			    "dockerd falls back to vfs (slow, a full copy per "
			    "layer)");
		if (!f->iptables && !f->nft)
			env_finding("no_iptables",
			    "neither iptables nor nft in PATH",
			    "dockerd runs with --iptables=false: no NAT for "
			    "containers");
		if (f->packet_sockets == 0)
			env_finding("no_packet_sockets",
			    "packet sockets are not allowed",
			    "under gVisor run `runsc --net-raw`; elsewhere add "
			    "CAP_NET_RAW");
		if (!f->raw_sockets)
			env_finding("no_raw_sockets",
			    "raw sockets are not allowed",
			    "under gVisor run `runsc --net-raw`; elsewhere add "
			    "CAP_NET_RAW");
		if (!f->cgroup_writable)
			env_finding("cgroup_readonly",
			    "the cgroup filesystem is not writable",
			    "dockerd cannot create cgroups for containers: "
			    "mount cgroups read-write (docker-in-docker needs "
			    "--privileged or --cgroupns=private)");
		if (!f->fuse)
			env_finding("no_fuse", "/dev/fuse is missing",
			    "fuse-overlayfs and rootless storage need it: "
			    "`--device /dev/fuse`");
		if (!f->tun)
			env_finding("no_tun", "/dev/net/tun is missing",
			    "VPN and slirp networking need it: `--device "
			    "/dev/net/tun`");
	}
	for (i = 0; i < sizeof(ca_vars) / sizeof(ca_vars[0]); i++) {
		const char *v = getenv(ca_vars[i]);
		struct stat st;

		if (!v || !*v)
			continue;
		if (stat(v, &st) < 0 || st.st_size == 0) {
			snprintf(buf, sizeof(buf), "%s=%s: %s", ca_vars[i], v,
			    stat(v, &st) < 0 ? strerror(errno) : "empty");
			env_finding("ca_bundle", buf,
			    "TLS clients that read this variable fail every "
			    "handshake: point it at an existing PEM bundle or "
			    "unset it");
		}
	}
	if (results_count() == before) {
		struct check_result *r =
		    result_new("environment", "", "self", false);

		result_done(r, "ok", "ok", "runtime %s, cgroup %s, %ld CPUs",
		    f->runtime, f->cgroup, f->nproc);
	}
}
