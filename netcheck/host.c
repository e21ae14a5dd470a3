/*
 * host — the sandbox fingerprint.  See host.h.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "events.h"
#include "host.h"

#define CGROUP2_MAGIC 0x63677270

/*
 * The strongest isolation we can name wins: a container under gVisor is
 * reported as gvisor.  gVisor's kernel identifies itself by a fixed build
 * date in uname's version and by "gvisor" in its release or boot command
 * line; Kata and Firecracker guests by their kernel command line (Kata's
 * agent options, Firecracker's virtio-mmio devices) or the DMI vendor.
 */
const char *
host_runtime(const struct host_clues *c)
{
	const char *cmd = c->cmdline ? c->cmdline : "";

	if ((c->uname_version &&
	        strstr(c->uname_version, "Sun Jan 10 15:06:54 PST 2016")) ||
	    (c->uname_release && strstr(c->uname_release, "gvisor")) ||
	    strstr(cmd, "gvisor"))
		return "gvisor";
	if (strstr(cmd, "kata") || strstr(cmd, "agent.log") ||
	    (c->dmi_vendor && strstr(c->dmi_vendor, "Kata")))
		return "kata";
	if (strstr(cmd, "firecracker") || strstr(cmd, "virtio_mmio.device=") ||
	    (c->dmi_vendor && strstr(c->dmi_vendor, "Firecracker")))
		return "firecracker";
	if (c->container_file || c->container_env || c->pid1 ||
	    (c->pid1_cgroup &&
	        (strstr(c->pid1_cgroup, "docker") ||
	            strstr(c->pid1_cgroup, "kubepods") ||
	            strstr(c->pid1_cgroup, "containerd") ||
	            strstr(c->pid1_cgroup, "lxc"))))
		return "container";
	return "host";
}

/* Read a small virtual file into buf; NULL if it cannot be read. */
static char *
slurp(const char *path, char *buf, size_t cap)
{
	/* open/read rather than stdio: no buffer to allocate and map, and
	 * this runs at every start. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return NULL;
	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	buf[n] = 0;
	return buf;
}

static long long
read_ll(const char *path)
{
	char buf[64];
	char *end;
	long long v;

	if (!slurp(path, buf, sizeof(buf)) || strncmp(buf, "max", 3) == 0)
		return -1;
	v = strtoll(buf, &end, 10);
	if (end == buf)
		return -1;
	return v;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void
read_cgroup(struct host_facts *f)
{
	struct statfs sfs;
	char buf[64];
	long long q, p;

	f->cgroup = "none";
	f->cpu_max_milli = f->memory_max = f->pids_max = -1;
	if (statfs("/sys/fs/cgroup", &sfs) < 0)
		return;
	if (sfs.f_type == CGROUP2_MAGIC) {
		f->cgroup = "v2";
		if (slurp("/sys/fs/cgroup/cpu.max", buf, sizeof(buf)) &&
		    sscanf(buf, "%lld %lld", &q, &p) == 2 && p > 0)
			f->cpu_max_milli = q * 1000 / p;
		f->memory_max = read_ll("/sys/fs/cgroup/memory.max");
		f->pids_max = read_ll("/sys/fs/cgroup/pids.max");
		return;
	}
	if (!exists("/sys/fs/cgroup/memory") && !exists("/sys/fs/cgroup/cpu"))
		return;
	f->cgroup = "v1";
	q = read_ll("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
	p = read_ll("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
	if (q > 0 && p > 0)
		f->cpu_max_milli = q * 1000 / p;
	f->memory_max = read_ll("/sys/fs/cgroup/memory/memory.limit_in_bytes");
	/* v1 says "no limit" with a huge page-rounded number. */
	if (f->memory_max >= (1LL << 62))
		f->memory_max = -1;
	f->pids_max = read_ll("/sys/fs/cgroup/pids/pids.max");
}

/* An interface's MTU with SIOCGIFMTU: cheaper than a sysfs lookup, and
 * there where sysfs has no /sys/class/net (gVisor); -1 if it fails. */
static int
if_mtu(const char *ifname)
{
	struct ifreq ifr;
	int fd, mtu = -1;

	if (strlen(ifname) >= sizeof(ifr.ifr_name))
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		mtu = ifr.ifr_mtu;
	close(fd);
	return mtu;
}

/*
 * Default routes from /proc/net/route (destination and mask 0) and
 * /proc/net/ipv6_route (::/0 that is not a reject route), and the MTU of
 * the interface the IPv4 (else IPv6) default route goes through.
 */
static void
read_routes(struct host_facts *f)
{
	/* The default route is near the top: the first 16 KiB will do. */
	static char buf[16384];
	char ifname[32] = "", path[80], *line, *save = NULL;
	unsigned int dst, flags, mask;

	f->mtu = -1;
	if (slurp("/proc/net/route", buf, sizeof(buf)))
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char ifn[32];

			if (sscanf(line, "%31s %x %*x %x %*d %*d %*d %x", ifn,
			        &dst, &flags, &mask) == 4 &&
			    dst == 0 && mask == 0 && (flags & 1)) {
				f->route_v4 = true;
				memcpy(ifname, ifn, sizeof(ifname));
				break;
			}
		}
	save = NULL;
	if (slurp("/proc/net/ipv6_route", buf, sizeof(buf)))
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char d[40], ifn[32];
			unsigned int plen;

			if (sscanf(line,
			        "%39s %x %*s %*x %*s %*x %*x %*x %x %31s", d,
			        &plen, &flags, ifn) == 4 &&
			    plen == 0 && strspn(d, "0") == 32 &&
			    !(flags & 0x0200) && strcmp(ifn, "lo") != 0) {
				f->route_v6 = true;
				if (!ifname[0])
					memcpy(ifname, ifn, sizeof(ifname));
				break;
			}
		}
	if (ifname[0] && (f->mtu = if_mtu(ifname)) < 0) {
		snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
		f->mtu = (int)read_ll(path);
	}
}

const char *
host_caps_word(uint64_t effective, int last_cap)
{
	uint64_t all;

	if (last_cap < 0 || last_cap > 63)
		return NULL;
	all = last_cap == 63 ? ~0ULL : (1ULL << (last_cap + 1)) - 1;
	effective &= all;
	return effective == 0 ? "none" : effective == all ? "full" : "partial";
}

/* The highest capability the kernel knows: PR_CAPBSET_READ says EINVAL
 * above it.  A binary search, six calls, no /proc needed. */
static int
last_cap(void)
{
	int lo = 0, hi = 63, mid;

	if (prctl(PR_CAPBSET_READ, 0UL, 0UL, 0UL, 0UL) < 0)
		return -1;
	while (lo < hi) {
		mid = (lo + hi + 1) / 2;
		if (prctl(PR_CAPBSET_READ, (unsigned long)mid, 0UL, 0UL, 0UL) >=
		    0)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/*
 * Our effective set in one capget(2), named as libcap-ng's
 * capng_have_capabilities(CAPNG_SELECT_CAPS) names it.  libcap-ng itself
 * would also read /proc/self/status twice, for the bounding and ambient
 * sets this event does not show: most of the fingerprint's cost, at every
 * start (issue 15).
 */
static const char *
read_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return NULL;
	return host_caps_word(d[0].effective | (uint64_t)d[1].effective << 32,
	    last_cap());
}

static bool
in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[512];

	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
		       "/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && n + strlen(prog) + 2 < sizeof(buf)) {
			memcpy(buf, path, n);
			buf[n] = '/';
			memcpy(buf + n + 1, prog, strlen(prog) + 1);
			if (access(buf, X_OK) == 0)
				return true;
		}
		path += n + (path[n] == ':');
	}
	return false;
}

static bool
can_socket(int domain, int type, int proto)
{
	int fd = socket(domain, type | SOCK_CLOEXEC, proto);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/* A field "Name:\tvalue" of /proc/self/status, or -1. */
static int
status_field(const char *status, const char *name)
{
	const char *p = status ? strstr(status, name) : NULL;

	return p ? atoi(p + strlen(name)) : -1;
}

/*
 * Facts the checks reason about (SPEC section 8, environment): what
 * dockerd and browsers need, and what gVisor leaves out (raw sockets
 * unless `runsc --net-raw`).
 */
static void
read_more(struct host_facts *f)
{
	char buf[4096], path[128];
	const char *st, *map;

	st = slurp("/proc/filesystems", buf, sizeof(buf));
	f->overlay = st && strstr(st, "\toverlay\n");
	f->iptables = in_path("iptables");
	f->nft = in_path("nft");
	f->raw_sockets = can_socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	f->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	st = slurp("/proc/self/status", buf, sizeof(buf));
	f->no_new_privs = status_field(st, "NoNewPrivs:");
	f->seccomp = status_field(st, "Seccomp:");
	map = slurp("/proc/self/uid_map", buf, sizeof(buf));
	f->userns = map && !strstr(map, "4294967295");
	/* Writable cgroup: dockerd and nested runtimes need it. */
	snprintf(path, sizeof(path), "%s/agent-init-probe-%d",
	    strcmp(f->cgroup, "v1") == 0 ? "/sys/fs/cgroup/memory"
	                                 : "/sys/fs/cgroup",
	    (int)getpid());
	f->cgroup_writable = mkdir(path, 0755) == 0 && rmdir(path) == 0;
}

void
host_read(struct host_facts *f, bool pid1)
{
	char cmdline[2048], vendor[128], cg[1024];
	struct host_clues c;
	struct utsname u;
	struct statvfs sv;

	memset(f, 0, sizeof(*f));
	memset(&c, 0, sizeof(c));
	if (uname(&u) == 0) {
		snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
		c.uname_release = u.release;
		c.uname_version = u.version;
	}
	c.cmdline = slurp("/proc/cmdline", cmdline, sizeof(cmdline));
	c.dmi_vendor = slurp("/sys/devices/virtual/dmi/id/sys_vendor", vendor,
	    sizeof(vendor));
	c.container_file =
	    exists("/.dockerenv") || exists("/run/.containerenv");
	c.container_env =
	    getenv("container") || getenv("KUBERNETES_SERVICE_HOST");
	c.pid1 = pid1;
	/* Only the last clue for `container`: not needed after the others. */
	if (!c.container_file && !c.container_env && !c.pid1)
		c.pid1_cgroup = slurp("/proc/1/cgroup", cg, sizeof(cg));
	f->runtime = host_runtime(&c);

	read_cgroup(f);
	read_routes(f);
	f->shm_bytes = statvfs("/dev/shm", &sv) == 0
	    ? (long long)sv.f_blocks * (long long)sv.f_frsize
	    : -1;
	f->fuse = exists("/dev/fuse");
	f->tun = exists("/dev/net/tun");
	f->kvm = exists("/dev/kvm");
	f->caps = read_caps();
}

void
host_read_extra(struct host_facts *f, bool packet)
{
	read_more(f);
	/*
	 * Closing a packet socket waits for an RCU grace period (about
	 * 12 ms here): probed only when dockerd, which needs them for its
	 * bridge networking, is to run.
	 */
	f->packet_sockets = packet ? can_socket(AF_PACKET, SOCK_RAW, 0) : -1;
	f->extra = true;
}

static void
ev_ll_or_null(const char *key, long long v)
{
	if (v < 0)
		ev_null(key);
	else
		ev_int(key, v);
}

void
host_emit(const struct host_facts *f)
{
	ev_begin("environment");
	ev_str("runtime", f->runtime);
	ev_str("kernel", f->kernel);
	if (f->cpu_max_milli < 0)
		ev_null("cpu_max");
	else
		ev_milli("cpu_max", f->cpu_max_milli);
	ev_ll_or_null("memory_max", f->memory_max);
	ev_ll_or_null("pids_max", f->pids_max);
	ev_ll_or_null("shm_bytes", f->shm_bytes);
	ev_obj_begin("devices");
	ev_bool("fuse", f->fuse);
	ev_bool("tun", f->tun);
	ev_bool("kvm", f->kvm);
	ev_obj_end();
	ev_obj_begin("routes");
	ev_bool("v4", f->route_v4);
	ev_bool("v6", f->route_v6);
	ev_obj_end();
	ev_ll_or_null("mtu", f->mtu);
	ev_str("cgroup", f->cgroup);
	ev_str("caps", f->caps);
	if (f->extra) {
		ev_bool("cgroup_writable", f->cgroup_writable);
		ev_bool("overlay", f->overlay);
		ev_obj_begin("firewall");
		ev_bool("iptables", f->iptables);
		ev_bool("nft", f->nft);
		ev_obj_end();
		ev_obj_begin("sockets");
		ev_bool("raw", f->raw_sockets);
		if (f->packet_sockets >= 0)
			ev_bool("packet", f->packet_sockets);
		ev_obj_end();
		ev_ll_or_null("nproc", f->nproc);
		ev_ll_or_null("no_new_privs", f->no_new_privs);
		ev_ll_or_null("seccomp", f->seccomp);
		ev_bool("userns", f->userns);
	}
	ev_emit();
}
