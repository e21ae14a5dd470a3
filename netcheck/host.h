/*
 * host — facts about the sandbox we run in: the `environment` event's
 * fingerprint (SPEC section 4).
 *
 * host_read() gathers the facts from /proc, /sys, uname and statvfs; it
 * never blocks on anything but those virtual files, and a fact it cannot
 * read stays "unknown" (null in the event).  host_runtime() is the pure
 * classifier behind `runtime`, unit tested on its clues.
 *
 * Public API: host_read(), host_read_extra(), host_runtime(),
 * host_caps_word(), host_emit().
 */
#ifndef AGENT_INIT_HOST_H
#define AGENT_INIT_HOST_H

#include <stdbool.h>
#include <stdint.h>

struct host_clues {
	const char *uname_release;
	const char *uname_version;
	const char *cmdline; /* /proc/cmdline */
	const char *dmi_vendor; /* /sys/devices/virtual/dmi/id/sys_vendor */
	const char *pid1_cgroup; /* /proc/1/cgroup */
	bool container_file; /* /.dockerenv or /run/.containerenv */
	bool container_env; /* $container or $KUBERNETES_SERVICE_HOST */
	bool pid1; /* we are PID 1 */
};

struct host_facts {
	const char *runtime;
	char kernel[65];
	long long cpu_max_milli; /* -1: no limit or unknown */
	long long memory_max; /* bytes, -1: none */
	long long pids_max; /* -1: none */
	long long shm_bytes; /* -1: no /dev/shm */
	bool fuse, tun, kvm;
	bool route_v4, route_v6;
	int mtu; /* -1: unknown */
	const char *cgroup; /* "v1", "v2", "none" */
	const char *caps; /* "full", "partial", "none" */
	bool cgroup_writable; /* we could create a child cgroup there */
	bool overlay; /* overlay in /proc/filesystems */
	bool iptables, nft; /* the binaries are in PATH */
	bool raw_sockets; /* socket(AF_INET, SOCK_RAW) works */
	int packet_sockets; /* socket(AF_PACKET) works; -1: not probed */
	long nproc; /* online CPUs */
	int no_new_privs; /* -1: unknown */
	int seccomp; /* Seccomp: of /proc/self/status, -1: unknown */
	bool userns; /* inside a user namespace (uid_map not identity) */
	bool extra; /* the facts from cgroup_writable on were read */
};

const char *host_runtime(const struct host_clues *c);
/* "none", "full" (every capability up to last_cap) or "partial"; NULL
 * for a last_cap out of range.  Pure, for the `caps` field. */
const char *host_caps_word(uint64_t effective, int last_cap);
void host_read(struct host_facts *ret, bool pid1);
/*
 * The facts the checks reason about (cgroup writability, overlay,
 * firewall tools, raw sockets, no_new_privs, seccomp, user namespace):
 * a few more system calls, so only when the checks run.
 */
/* packet: also probe AF_PACKET sockets (about 12 ms: for dockerd only). */
void host_read_extra(struct host_facts *f, bool packet);
void host_emit(const struct host_facts *f);

#endif
