/*
 * check — the startup checks.  See check.h.
 *
 * Every check that touches the network is a job: a small state machine
 * over one non-blocking socket and the loop.  The checks that only read
 * local facts (capabilities, environment) give their verdicts at once.
 * One deadline timer bounds the whole run: when it fires, every job still
 * running ends as `timeout`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cap-ng.h>

#include "check.h"
#include "checknet.h"
#include "events.h"
#include "hints.h"
#include "host.h"
#include "loop.h"

static struct {
	struct checks_opts o;
	struct check_result results[CHECK_MAX_RESULTS];
	size_t nresults;
	uint64_t start_ms, deadline_ms;
	unsigned int pending;
	bool finished;
	bool summary_sent;
	struct loop_timer deadline;
	struct host_facts facts;
	bool facts_read;
	void (*on_finish)(void);
	bool dockerd; /* the fingerprint includes packet sockets */
	char subnet[64];
} ck;

/* The capabilities docker-in-gVisor sandboxes add for dockerd (issue 4). */
static const char *const dockerd_caps[] = { "chown", "dac_override", "fowner",
	"fsetid", "kill", "mknod", "net_bind_service", "net_admin", "net_raw",
	"setfcap", "setgid", "setpcap", "setuid", "sys_admin", "sys_chroot",
	"sys_ptrace", "audit_write" };

void
checks_for_dockerd(bool dockerd)
{
	ck.dockerd = dockerd;
}

const struct host_facts *
checks_facts(void)
{
	if (!ck.facts_read) {
		host_read(&ck.facts, getpid() == 1);
		host_read_extra(&ck.facts, ck.dockerd);
		ck.facts_read = true;
	}
	return &ck.facts;
}

struct check_result *
check_new(const char *type, const char *name, const char *target, bool required)
{
	struct check_result *r;

	if (ck.nresults >= CHECK_MAX_RESULTS)
		return NULL;
	r = &ck.results[ck.nresults++];
	memset(r, 0, sizeof(*r));
	snprintf(r->check, sizeof(r->check), "%s", type);
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
	r->required = required;
	ck.pending++;
	return r;
}

/* The sandbox's own subnet, for firewall remedies: the first global
 * IPv4 address's network, e.g. 172.17.0.0/16. */
const char *
check_subnet(void)
{
	struct ifaddrs *ifa, *i;

	if (ck.subnet[0])
		return ck.subnet;
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
		snprintf(ck.subnet, sizeof(ck.subnet), "%s/%d", txt, bits);
		break;
	}
	freeifaddrs(ifa);
	return ck.subnet[0] ? ck.subnet : "SUBNET";
}

static void
emit_result(const struct check_result *r)
{
	char target[sizeof(r->target) + CONFIG_NAME_MAX + 2];

	if (!ck.o.events)
		return;
	ev_begin("check");
	if (*r->name)
		snprintf(target, sizeof(target), "%s:%s", r->check, r->name);
	else
		snprintf(target, sizeof(target), "%s", r->check);
	ev_str("check", target);
	ev_str("target", r->target);
	ev_str("status", r->status);
	ev_str("code", r->code);
	ev_int("elapsed_ms", (long long)r->elapsed_ms);
	ev_str("detail", r->detail);
	if (strcmp(r->status, "ok") != 0 && *r->hint)
		ev_str("hint", r->hint);
	if (r->required)
		ev_bool("required", true);
	ev_emit();
}

static void
maybe_finish(void)
{
	struct check_summary sm;

	if (ck.pending || ck.finished || !ck.start_ms)
		return;
	ck.finished = true;
	loop_timer_cancel(&ck.deadline);
	checks_summary(&sm);
	if (ck.o.events) {
		ev_begin("checks");
		ev_int("ok", sm.ok);
		ev_int("warn", sm.warn);
		ev_int("fail", sm.fail);
		ev_int("skip", sm.skip);
		ev_int("elapsed_ms", (long long)sm.elapsed_ms);
		ev_emit();
	}
	for (size_t i = 0; i < ck.nresults; i++)
		if (ck.results[i].background && ck.results[i].status)
			emit_result(&ck.results[i]);
	if (ck.o.on_done)
		ck.o.on_done(ck.o.data);
	if (ck.on_finish)
		ck.on_finish();
}

void __attribute__((format(printf, 4, 5))) check_done(struct check_result *r,
    const char *status, const char *code, const char *fmt, ...)
{
	struct hint_ctx hc;
	va_list ap;

	if (!r || r->status)
		return;
	r->status = status;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	r->elapsed_ms = loop_now_ms() - ck.start_ms;
	if (strcmp(status, "skip") == 0)
		r->hint[0] = 0; /* nothing to do about a check not run */
	else if (!*r->hint) {
		memset(&hc, 0, sizeof(hc));
		hc.target = r->target;
		hc.subnet =
		    strcmp(r->check, "tcp") == 0 ? check_subnet() : NULL;
		hc.gvisor = strcmp(checks_facts()->runtime, "gvisor") == 0;
		hc.embedded_dns = strcmp(r->target, "127.0.0.11") == 0;
		hc.proxy_set = checknet_proxy_set();
		hc.port = checknet_port_of(r->target);
		hint_for(r->check, code, &hc, r->hint, sizeof(r->hint));
	}
	/* A background verdict that comes early waits for the summary, so
	 * that `checks` always comes first. */
	if (!r->background || ck.finished)
		emit_result(r);
	if (r->background)
		return;
	ck.pending--;
	maybe_finish();
}

/* A check that reports on its own, after the `checks` summary. */
struct check_result *
check_new_background(const char *type, const char *name, const char *target)
{
	struct check_result *r = check_new(type, name, target, false);

	if (r) {
		r->background = true;
		ck.pending--;
	}
	return r;
}

/* ---- capabilities ---- */

/*
 * The five sets as the kernel shows them (proc(5) CapInh ... CapAmb), so
 * the detail says what bounds a `--cap-add` and what a service inherits.
 */
static void
cap_sets(char *buf, size_t cap)
{
	static const char *const names[] = { "CapEff:", "CapPrm:", "CapInh:",
		"CapBnd:", "CapAmb:" };
	char st[4096];
	size_t i, n = 0;
	ssize_t r;
	int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

	buf[0] = 0;
	if (fd < 0)
		return;
	r = read(fd, st, sizeof(st) - 1);
	close(fd);
	st[r > 0 ? r : 0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && n < cap; i++) {
		const char *p = strstr(st, names[i]);
		unsigned long long v;

		if (p && sscanf(p + strlen(names[i]), "%llx", &v) == 1)
			n += (size_t)snprintf(buf + n, cap - n, "%s%.3s=%llx",
			    n ? " " : "", names[i] + 3, v);
	}
}

/*
 * With the --dockerd preset the check is always required: dockerd cannot
 * run without those capabilities, so with checks = enforce a container
 * started with --cap-drop ALL exits 69 at once instead of crash-looping
 * dockerd (a [check capabilities] section adds to it, never relaxes it).
 * Otherwise it is required when its section says so.
 */
static void
caps_check(const struct check_conf *k)
{
	struct check_result *r = check_new("capabilities", k ? k->name : "",
	    "self", (k && k->required) || ck.o.dockerd);
	char want[CONFIG_VALUE_MAX * 2] = "", missing[512] = "", *w,
	                             *save = NULL;
	char facts[256], sets[120];
	size_t mlen = 0, i, wl;
	const struct host_facts *f = checks_facts();

	if (!r)
		return;
	if (k && *k->require)
		snprintf(want, sizeof(want), "%s", k->require);
	if (ck.o.dockerd)
		for (i = 0; i < sizeof(dockerd_caps) / sizeof(dockerd_caps[0]);
		     i++) {
			wl = strlen(want);
			snprintf(want + wl, sizeof(want) - wl, " %s",
			    dockerd_caps[i]);
		}
	capng_clear(CAPNG_SELECT_BOTH);
	(void)capng_get_caps_process();
	for (w = strtok_r(want, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		const char *n = strncasecmp(w, "cap_", 4) == 0 ? w + 4 : w;
		int cap = capng_name_to_capability(n);

		if (cap < 0 ||
		    capng_have_capability(CAPNG_EFFECTIVE, (unsigned)cap))
			continue;
		/* Each name once, upper case as docker's --cap-add takes. */
		{
			char up[40];
			size_t j;

			for (j = 0; j < sizeof(up) - 1 && n[j]; j++)
				up[j] = (char)((n[j] >= 'a' && n[j] <= 'z')
				        ? n[j] - 32
				        : n[j]);
			up[j] = 0;
			if (strstr(missing, up))
				continue;
			mlen += (size_t)snprintf(missing + mlen,
			    sizeof(missing) - mlen, "%s%s", mlen ? " " : "",
			    up);
			if (mlen >= sizeof(missing))
				mlen = sizeof(missing) - 1;
		}
	}
	cap_sets(sets, sizeof(sets));
	snprintf(facts, sizeof(facts),
	    "%s; no_new_privs=%d seccomp=%d%s user_namespace=%s", sets,
	    f->no_new_privs, f->seccomp,
	    strcmp(f->runtime, "gvisor") == 0 ? " (normal under gVisor)" : "",
	    f->userns ? "yes" : "no");
	if (*missing) {
		struct hint_ctx hc;

		memset(&hc, 0, sizeof(hc));
		hc.missing = missing;
		hint_for("capabilities", "missing", &hc, r->hint,
		    sizeof(r->hint));
		check_done(r, "fail", "missing", "missing: %s; %s", missing,
		    facts);
	} else
		check_done(r, "ok", "ok", "effective set is %s; %s",
		    checks_facts()->caps, facts);
}

/* ---- environment ---- */

static void
env_finding(const char *what, const char *detail, const char *hint)
{
	struct check_result *r = check_new("environment", "", what, false);

	if (!r)
		return;
	snprintf(r->hint, sizeof(r->hint), "%s", hint);
	check_done(r, "warn", what, "%s", detail);
}

static void
env_check(void)
{
	static const char *const ca_vars[] = { "SSL_CERT_FILE",
		"NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
		"GIT_SSL_CAINFO" };
	const struct host_facts *f = checks_facts();
	unsigned int before = (unsigned int)ck.nresults;
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
	if (ck.o.dockerd) {
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
	if (ck.nresults == before) {
		struct check_result *r =
		    check_new("environment", "", "self", false);

		check_done(r, "ok", "ok", "runtime %s, cgroup %s, %ld CPUs",
		    f->runtime, f->cgroup, f->nproc);
	}
}

/* ---- the run ---- */

static void
on_deadline(struct loop_timer *t)
{
	(void)t;
	checknet_deadline();
	/* Whatever is still without a verdict ran out of time. */
	for (size_t i = 0; i < ck.nresults; i++)
		if (!ck.results[i].status)
			check_done(&ck.results[i], "fail", "timeout",
			    "no verdict within the check timeout (%llu ms)",
			    (unsigned long long)ck.o.timeout_ms);
}

static const struct check_conf *
find_conf(const char *type)
{
	unsigned int i;

	if (!ck.o.cfg)
		return NULL;
	for (i = 0; i < ck.o.cfg->nchecks; i++)
		if (strcmp(ck.o.cfg->checks_list[i].type, type) == 0)
			return &ck.o.cfg->checks_list[i];
	return NULL;
}

int
checks_start(const struct checks_opts *o)
{
	const struct config *c = o->cfg;
	unsigned int i;
	bool any = c && c->nchecks > 0;

	memset(&ck.results, 0, sizeof(ck.results));
	ck.o = *o;
	ck.nresults = 0;
	ck.pending = 1; /* held until every check is started */
	ck.finished = false;
	ck.start_ms = loop_now_ms();
	ck.deadline_ms = ck.start_ms + (o->timeout_ms ? o->timeout_ms : 2000);
	ck.deadline.cb = on_deadline;
	loop_timer_arm(&ck.deadline, ck.deadline_ms);
	checknet_init(o, ck.deadline_ms);

	if (!any) {
		/* The defaults (SPEC section 8): warn-only. */
		checknet_resolver(NULL);
		checknet_proxy(NULL);
		caps_check(NULL);
		env_check();
	} else {
		/* The proxy sections first: egress and clock use the proxy's
		 * verdict, and would otherwise start it without its keys. */
		for (i = 0; i < c->nchecks; i++)
			if (strcmp(c->checks_list[i].type, "proxy") == 0)
				checknet_proxy(&c->checks_list[i]);
		for (i = 0; i < c->nchecks; i++) {
			const struct check_conf *k = &c->checks_list[i];

			if (strcmp(k->type, "proxy") == 0)
				continue;
			if (strcmp(k->type, "resolver") == 0)
				checknet_resolver(k);
			else if (strcmp(k->type, "tcp") == 0)
				checknet_tcp(k, k->target, k->required);
			else if (strcmp(k->type, "capabilities") == 0)
				caps_check(k);
			else if (strcmp(k->type, "environment") == 0)
				env_check();
			else if (strcmp(k->type, "egress") == 0)
				checknet_egress(k);
			else if (strcmp(k->type, "clock") == 0)
				checknet_clock(k);
			else if (strcmp(k->type, "tunnel") == 0)
				checknet_tunnel(k);
		}
		if (o->dockerd && !find_conf("capabilities"))
			caps_check(NULL);
	}
	for (i = 0; i < o->ntargets; i++)
		checknet_tcp(NULL, o->targets[i], true);
	ck.pending--;
	maybe_finish();
	return 0;
}

int
checks_can_rerun(void)
{
	size_t i;

	if (ck.start_ms && !ck.finished)
		return -EBUSY;
	for (i = 0; i < ck.nresults; i++)
		if (ck.results[i].background && !ck.results[i].status)
			return -EAGAIN;
	return 0;
}

int
checks_rerun(const struct checks_opts *o)
{
	struct checks_opts again = *o;
	int r = checks_can_rerun();

	if (r < 0)
		return r;
	again.on_done = NULL;
	again.data = NULL;
	return checks_start(&again);
}

void
checks_on_finish(void (*cb)(void))
{
	ck.on_finish = cb;
}

bool
checks_finished(void)
{
	return ck.finished;
}

void
checks_summary(struct check_summary *ret)
{
	size_t i;

	memset(ret, 0, sizeof(*ret));
	for (i = 0; i < ck.nresults; i++) {
		const struct check_result *r = &ck.results[i];

		/* Background checks report on their own, after the sum. */
		if (!r->status || r->background)
			continue;
		if (strcmp(r->status, "ok") == 0)
			ret->ok++;
		else if (strcmp(r->status, "warn") == 0)
			ret->warn++;
		else if (strcmp(r->status, "fail") == 0) {
			ret->fail++;
			if (r->required)
				ret->required_failed = true;
		} else
			ret->skip++;
	}
	ret->elapsed_ms = loop_now_ms() - ck.start_ms;
}

size_t
checks_count(void)
{
	return ck.nresults;
}

const struct check_result *
checks_result(size_t i)
{
	return i < ck.nresults ? &ck.results[i] : NULL;
}

void
checks_print_table(void)
{
	struct check_summary sm;
	size_t i;

	printf("%-22s %-26s %-5s %-17s %s\n", "CHECK", "TARGET", "STATUS",
	    "CODE", "DETAIL");
	for (i = 0; i < ck.nresults; i++) {
		const struct check_result *r = &ck.results[i];
		char name[CONFIG_NAME_MAX + 26];

		snprintf(name, sizeof(name), "%s%s%s", r->check,
		    *r->name ? ":" : "", r->name);
		printf("%-22s %-26s %-5s %-17s %s\n", name, r->target,
		    r->status ? r->status : "?", r->code, r->detail);
		if (r->status && strcmp(r->status, "ok") != 0 && *r->hint)
			printf("%-22s   -> %s\n", "", r->hint);
	}
	checks_summary(&sm);
	printf("\n%u ok, %u warn, %u fail, %u skip in %llu ms\n", sm.ok,
	    sm.warn, sm.fail, sm.skip, (unsigned long long)sm.elapsed_ms);
}
