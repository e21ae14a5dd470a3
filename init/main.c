/*
 * agent-init — PID 1 for AI-agent sandboxes.
 *
 * main() only wires the modules together, in dependency order, so that
 * reading it top to bottom shows the architecture:
 *
 *   signals_block    every signal blocked before anything else happens
 *   args_parse       command line + AGENT_INIT_* environment (exit 64)
 *   loop_init        one epoll, one timerfd
 *   events_open      where the event lines go
 *   signals_init     the signalfd joins the loop
 *   sup_*            the services: start (the forks first), supervise,
 *                    shut down
 *   host_read/emit   the `environment` fingerprint, while the children exec
 *   control_listen   the control socket (and httpd_listen, the probe
 *                    endpoint)
 *   oomwatch, pidswatch   OOM kills, zombies and pids (SPEC 14, watch)
 *   the loop         until the supervisor says it is done
 *
 * Two phases, as in catatonit: during setup a bad argument ends the
 * program with the documented status and one line on stderr; once the
 * loop runs, nothing may make PID 1 exit but the end of the shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "check.h"
#include "config.h"
#include "control.h"
#include "ctl.h"
#include "dockerd.h"
#include "hot.h"
#include "output.h"
#include "events.h"
#include "gate.h"
#include "host.h"
#include "httpd.h"
#include "loop.h"
#include "oomwatch.h"
#include "pidswatch.h"
#include "reap.h"
#include "recheck.h"
#include "sandbox.h"
#include "signals.h"
#include "sink.h"
#include "supervisor.h"
#include "values.h"

/* The static build's libraries, written by scripts/build-musl-deps.sh. */
#if defined(__has_include)
#if __has_include("agent-init-deps.h")
#include "agent-init-deps.h"
#endif
#endif
#ifndef AGENT_INIT_VERSION
#define AGENT_INIT_VERSION "0.0.0-dev"
#endif
#ifndef LIBCAPNG_VERSION
#define LIBCAPNG_VERSION "unknown"
#endif
#ifndef INIH_VERSION
#define INIH_VERSION "unknown"
#endif
/* The architecture the binary was built for, as uname -m names it. */
#if defined(__x86_64__)
#define AGENT_INIT_ARCH "x86_64"
#elif defined(__aarch64__)
#define AGENT_INIT_ARCH "aarch64"
#elif defined(__i386__)
#define AGENT_INIT_ARCH "i386"
#elif defined(__arm__)
#define AGENT_INIT_ARCH "arm"
#else
#define AGENT_INIT_ARCH "unknown-arch"
#endif

#define EXIT_USAGE 64
#define EXIT_CONFIG 78

static int netcheck_main(int argc, char **argv);

static const char usage[] =
    "usage: agent-init [OPTIONS] [--] COMMAND [ARG...]\n"
    "       agent-init check-config FILE\n"
    "       agent-init netcheck [-c FILE] [--json] [--resolv-conf FILE]\n"
    "                [--hosts FILE] [--timeout D] [HOST:PORT...]\n"
    "       agent-init status [--socket PATH] [--quiet]\n"
    "       agent-init wait-ready [--socket PATH] [--timeout D]\n"
    "       agent-init ctl [--socket PATH] [--json] start|stop|restart "
    "SERVICE\n"
    "       agent-init ctl ... signal [--group] SIGNAL SERVICE | logs [-n N] "
    "[-f] SERVICE | checks\n"
    "       agent-init version | --version | help | --help\n"
    "\n"
    "Runs COMMAND as PID 1 of a sandbox: reaps every process, forwards\n"
    "signals, shuts down within a bounded time, and writes one JSON event\n"
    "line per step of the sandbox's life.\n"
    "\n"
    "options (each also as AGENT_INIT_<LONG_NAME>, e.g. "
    "AGENT_INIT_STOP_TIMEOUT=2s):\n"
    "  -c, --config FILE        INI configuration (default: " CONFIG_DEFAULT_PATH
    " if it exists)\n"
    "  -g, --group              signal the command's whole process group\n"
    "      --stop-timeout D     shutdown budget (default 8s; 250ms, 2s, "
    "1m)\n"
    "      --events DEST        stdout (default), stderr, fd:N, file:PATH\n"
    "      --output MODE        service output: raw (lone command), prefix\n"
    "                           (services from a file) or json\n"
    "      --no-checks          skip startup checks\n"
    "  -v, --verbose            more events (every orphan reaped)\n"
    "  -e, --remap-exit CODE    exit 0 when the main service ends with CODE\n"
    "                           (tini; repeatable)\n"
    "  -r, --rewrite FROM:TO    the main service gets TO for FROM; TO 0\n"
    "                           drops it (dumb-init; repeatable)\n"
    "  -p, --pdeathsig SIGNAL   SIGNAL to us when our parent dies, handled\n"
    "                           as if received (tini)\n"
    "  -s, --subreaper, -w, --warn-reap, --single-child\n"
    "                           tini's and dumb-init's: accepted (-w: -v)\n"
    "  -h, --help               this text\n"
    "  -V, --version            versions of agent-init and its libraries\n"
    "\n"
    "exit status: the command's; 128+N if it was killed by signal N;\n"
    "126/127 if it cannot be executed / is not found; 64 bad command line;\n"
    "78 bad configuration; 0 for a status given with -e.\n"
    "\n"
    "tini's TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP and TINI_VERBOSITY are\n"
    "read too (below AGENT_INIT_*).\n";

static struct {
	struct args a;
	struct config cfg;
	const char *config_path;
	const char *control_path;
	bool pid1;
	bool reap_needed;
	uint64_t boot_ms;
	struct service_conf cmd_conf;
	bool checks_on;
	bool checks_gate; /* enforce: services wait for the verdicts */
	int exit_early; /* a required check failed: 69 */
	char exit_early_reason[320];
	struct svc *svcs; /* the file's, --dockerd's and the command's */
	size_t nsvcs;
	struct checks_opts co; /* the startup checks, and `ctl checks` */
	struct control_opts ctl;
	bool group_from_env; /* control_group: a bad one exits 64, not 78 */
	bool single; /* a lone command: the drop-in for tini */
	pid_t ppid; /* our parent at start, for -p */
} g;

static void
print_version(void)
{
	const struct scmp_version *v = seccomp_version();

	printf("agent-init %s %s (libseccomp %u.%u.%u, libcap-ng %s, "
	       "inih %s)\n",
	    AGENT_INIT_VERSION, AGENT_INIT_ARCH, v->major, v->minor, v->micro,
	    LIBCAPNG_VERSION, INIH_VERSION);
}

/*
 * Which options this build does not implement yet.  Saying so and
 * exiting 64 beats accepting them and doing something else.
 */
static const char *
unsupported(const struct args *a)
{
	if (a->mode == ARGS_SUBCOMMAND)
		return a->subcommand;
	return NULL;
}

/*
 * Descriptors we inherited above 2 are our launcher's business, not the
 * sandbox's: make them close-on-exec so that a service gets exactly 0, 1
 * and 2.  close_range(2) does it in one call (Linux 5.11); older kernels
 * get the walk over /proc/self/fd.
 */
static void
cloexec_inherited_fds(void)
{
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
	struct dirent *d;
	DIR *dir;

	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	dir = opendir("/proc/self/fd");
	if (!dir)
		return;
	while ((d = readdir(dir))) {
		int fd = atoi(d->d_name);

		if (fd > 2 && fd != dirfd(dir))
			(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(dir);
}

/*
 * A closed 0, 1 or 2 would be handed out by the next open(2) and a pipe
 * of ours would become some service's stdout: fill the holes first.
 */
static void
ensure_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR | O_NOCTTY)) >= 0 &&
	    fd <= STDERR_FILENO)
		;
	if (fd > STDERR_FILENO)
		close(fd);
}

/*
 * What a received signal means (SPEC section 13; README "Signals"):
 * SIGTERM starts the shutdown, and so does SIGINT with services from a
 * file, the first time; with a lone command SIGINT is the command's (as
 * with tini: Ctrl-C goes to the program, whose exit then ends us).  A
 * fault signal the kernel queued without forcing it (a memory error
 * reported "action optional") is about us, not for the service.  Every
 * other signal, SIGQUIT (JVM thread dumps) and fault signals sent with
 * kill() included, is forwarded to the main service.
 */
enum sig_action { SIGACT_SHUTDOWN, SIGACT_FORWARD, SIGACT_IGNORE };

static enum sig_action HOT
sig_action(int sig, int32_t code)
{
	if (signals_is_fault(sig) && code > 0)
		return SIGACT_IGNORE;
	if ((sig == SIGTERM || (sig == SIGINT && !g.single)) && sup_running())
		return SIGACT_SHUTDOWN;
	return SIGACT_FORWARD;
}

/* sent: the signal the main service got, 0 if its map dropped it, or
 * -errno. */
static void
emit_signal(const struct signalfd_siginfo *si, enum sig_action act, int sent)
{
	int sig = (int)si->ssi_signo;
	char buf[24];

	ev_begin("signal");
	ev_str("signal", sig_name(sig, buf, sizeof(buf)));
	ev_str("action",
	    act == SIGACT_SHUTDOWN ? "shutdown"
	        : sent > 0         ? "forwarded"
	                           : "ignored");
	/* A rewrite (-r, signal_map) says what was delivered instead. */
	if (act == SIGACT_FORWARD && sent > 0 && sent != sig)
		ev_str("delivered", sig_name(sent, buf, sizeof(buf)));
	else if (act == SIGACT_FORWARD && sent == 0)
		ev_null("delivered");
	if (g.a.verbose)
		ev_int("from_pid", (long long)si->ssi_pid);
	ev_emit();
}

/*
 * The signal is delivered first and its events written after (SPEC 13):
 * the child's handler never waits for our lines.  A second stop signal
 * goes to the main service like any other signal (a second Ctrl-C often
 * means "hurry up" to a program that handles the first one gracefully).
 */
static void HOT
on_signal(const struct signalfd_siginfo *si)
{
	int sig = (int)si->ssi_signo, sent = -ESRCH;
	enum sig_action act;
	char reason[48], buf[24];

	if (sig == SIGCHLD) {
		g.reap_needed = true;
		return;
	}
	/* Our own write to a closed pipe: the sink already knows. */
	if (sig == SIGPIPE && (pid_t)si->ssi_pid == getpid())
		return;
	act = sig_action(sig, si->ssi_code);
	if (act == SIGACT_FORWARD) {
		sent = sup_forward(sig);
		/* A lone command's Ctrl-C before there is a command to take
		 * it (`enforce` checks still running) is ours: stop. */
		if (sent == -ESRCH && sig == SIGINT && sup_running())
			act = SIGACT_SHUTDOWN;
	}
	if (act == SIGACT_SHUTDOWN)
		(void)sup_shutdown_begin(sig);
	/*
	 * The signal is out.  The service it woke is often queued on this
	 * CPU, behind us, and the scheduler does not always let it run
	 * first: give it the CPU once, so that its handler runs before our
	 * lines are written (one system call; at once back when nothing else
	 * waits for this CPU).
	 */
	if (act == SIGACT_SHUTDOWN || sent > 0)
		(void)sched_yield();
	/* Then its events, in one write. */
	events_batch(true);
	emit_signal(si, act, sent);
	if (act == SIGACT_SHUTDOWN) {
		snprintf(reason, sizeof(reason), "%s received",
		    sig_name(sig, buf, sizeof(buf)));
		sup_shutdown_announce(reason);
	}
	events_batch(false);
}

static void
emit_start(void)
{
	ev_begin("start");
	ev_str("version", AGENT_INIT_VERSION);
	ev_int("pid", getpid());
	ev_bool("pid1", g.pid1);
	ev_str("config", g.config_path);
	ev_emit();
}

/* agent-init check-config FILE: exit 0 on a good file, 78 on a bad one. */
static int
check_config(int argc, char **argv)
{
	static struct config c;
	char err[512];

	if (argc != 1) {
		fprintf(stderr,
		    "agent-init: usage: agent-init check-config "
		    "FILE\n");
		return EXIT_USAGE;
	}
	if (config_load(argv[0], &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_CONFIG;
	}
	if (c.checks == CHECKS_OFF &&
	    config_gates_need_checks(&c, argv[0], "checks = off", err,
	        sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_CONFIG;
	}
	printf("%s: ok (%u services, %u checks)\n", argv[0], c.nservices,
	    c.nchecks);
	return 0;
}

/*
 * The configuration file: -c/AGENT_INIT_CONFIG, else the default path if
 * it exists.  The command line and the environment win over the file.
 */
static void
load_config(void)
{
	char err[512];
	unsigned int i;

	g.config_path = g.a.config;
	if (!g.config_path && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		g.config_path = CONFIG_DEFAULT_PATH;
	if (!g.config_path)
		return;
	if (config_load(g.config_path, &g.cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "agent-init: %s\n", err);
		exit(EXIT_CONFIG);
	}
	if (!g.a.events && *g.cfg.events)
		g.a.events = g.cfg.events;
	if (!g.a.stop_timeout_set && g.cfg.stop_timeout_set)
		g.a.stop_timeout_ms = g.cfg.stop_timeout_ms;
	if (!g.a.cmd && g.cfg.nservices == 0 && !g.a.dockerd) {
		fprintf(stderr,
		    "agent-init: %s defines no service and no "
		    "command was given (usage: agent-init [OPTIONS] "
		    "-- COMMAND [ARG...])\n",
		    g.config_path);
		exit(EXIT_USAGE);
	}
	if (g.a.cmd) {
		const struct service_conf *m = config_service(&g.cfg, "main");

		for (i = 0; i < g.cfg.nservices && !m; i++)
			if (g.cfg.services[i].main)
				m = &g.cfg.services[i];
		if (m) {
			fprintf(stderr,
			    "agent-init: %s:%u: [service %s] is the main "
			    "service, and a -- COMMAND was given too\n",
			    g.config_path, m->line, m->name);
			exit(EXIT_CONFIG);
		}
	}
}

static void __attribute__((noreturn))
env_error(const char *name, const char *val, const char *expected)
{
	fprintf(stderr, "agent-init: %s: '%s' is not %s\n", name, val,
	    expected);
	exit(EXIT_USAGE);
}

/* AGENT_INIT_CONTROL_GROUP and AGENT_INIT_HTTP_LISTEN ("" turns off). */
static void
apply_env_control(void)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned int gid;
	bool num;
	const char *v;

	if ((v = getenv("AGENT_INIT_CONTROL_GROUP"))) {
		if (*v && value_group(v, &gid, &num) < 0)
			env_error("AGENT_INIT_CONTROL_GROUP", v,
			    "a group name or number");
		snprintf(g.cfg.control_group, sizeof(g.cfg.control_group), "%s",
		    v);
		g.group_from_env = true;
	}
	if ((v = getenv("AGENT_INIT_HTTP_LISTEN"))) {
		if ((*v && value_listen(v, &ss, &len) < 0) ||
		    strlen(v) >= sizeof(g.cfg.http_listen))
			env_error("AGENT_INIT_HTTP_LISTEN", v,
			    "an address and port (127.0.0.1:8080, [::1]:8080)");
		snprintf(g.cfg.http_listen, sizeof(g.cfg.http_listen), "%s", v);
	}
}

/*
 * control_group: a number, or a name from the image's /etc/group (as a
 * service's `group`); an unknown name is a configuration error.
 */
static void
resolve_control_group(void)
{
	const char *name = g.cfg.control_group;
	unsigned int gid;
	bool num;
	gid_t found = 0;
	int r;

	if (!*name)
		return;
	(void)value_group(name, &gid, &num);
	if (num) {
		g.ctl.group = (gid_t)gid;
		g.ctl.group_set = true;
		return;
	}
	r = sandbox_lookup_group("/etc/group", name, &found);
	if (r < 0) {
		fprintf(stderr,
		    "agent-init: control_group: %s '%s' in "
		    "/etc/group: %s\n",
		    r == -ENOENT ? "no group" : "cannot look up", name,
		    r == -ENOENT ? "use a group of the image, or a number"
		                 : strerror(-r));
		exit(g.group_from_env ? EXIT_USAGE : EXIT_CONFIG);
	}
	g.ctl.group = found;
	g.ctl.group_set = true;
}

/*
 * AGENT_INIT_<KEY> for the [init] keys that have no option of their own
 * (SPEC section 2): the environment wins over the file.
 */
static void
apply_env(void)
{
	static const struct {
		const char *env;
		const char **dst;
	} paths[] = {
		{ "AGENT_INIT_READY_FILE", &g.cfg.ready_file },
		{ "AGENT_INIT_CONTROL_SOCKET", &g.cfg.control_socket },
		{ "AGENT_INIT_TERMINATION_LOG", &g.cfg.termination_log },
	};
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		v = getenv(paths[i].env);
		if (!v)
			continue;
		if ((*v && *v != '/') || strlen(v) > CONFIG_LINE_MAX)
			env_error(paths[i].env, v, "an absolute path");
		*paths[i].dst = v;
	}
	if ((v = getenv("AGENT_INIT_CHECKS")) &&
	    config_parse_checks(v, &g.cfg.checks) < 0)
		env_error("AGENT_INIT_CHECKS", v, "warn, enforce or off");
	if ((v = getenv("AGENT_INIT_CHECK_TIMEOUT")) &&
	    (value_duration_ms(v, &g.cfg.check_timeout_ms) < 0 ||
	        g.cfg.check_timeout_ms == 0))
		env_error("AGENT_INIT_CHECK_TIMEOUT", v, "a positive duration");
	if ((v = getenv("AGENT_INIT_PIDS_WATCH"))) {
		if (strcmp(v, "off") == 0)
			g.cfg.pids_watch_ms = 0;
		else if (value_duration_ms(v, &g.cfg.pids_watch_ms) < 0)
			env_error("AGENT_INIT_PIDS_WATCH", v,
			    "a duration or off");
	}
	apply_env_control();
	if (getenv("AGENT_INIT_CONTROL_SOCKET") || g.cfg.control_socket_set)
		g.control_path = g.cfg.control_socket;
	else if (getpid() == 1)
		g.control_path = CONTROL_DEFAULT_PATH;
}

/*
 * `after = check:NAME` waits for a check: with the checks off, whichever
 * way, that service could never start (78, at the line that asks).
 */
static void
gates_need_checks(void)
{
	const char *off_by = NULL;
	char err[512];

	if (g.a.no_checks)
		off_by = "--no-checks or AGENT_INIT_NO_CHECKS";
	else if (g.cfg.checks == CHECKS_OFF)
		off_by = getenv("AGENT_INIT_CHECKS") ? "AGENT_INIT_CHECKS=off"
		                                     : "checks = off";
	if (off_by && g.config_path &&
	    config_gates_need_checks(&g.cfg, g.config_path, off_by, err,
	        sizeof(err)) < 0) {
		fprintf(stderr, "agent-init: %s\n", err);
		exit(EXIT_CONFIG);
	}
}

/*
 * -p SIGNAL (tini): the kernel sends us SIGNAL when our parent dies, and
 * it arrives like any signal received (SIGTERM: the shutdown).  A parent
 * that died before we asked cannot send it any more: then we send it to
 * ourselves.  (As PID 1 our parent is outside the namespace, getppid()
 * says 0, and that race cannot be seen.)
 */
static void
set_pdeathsig(void)
{
	if (!g.a.pdeathsig)
		return;
	if (prctl(PR_SET_PDEATHSIG, (unsigned long)g.a.pdeathsig, 0, 0, 0) <
	    0) {
		fprintf(stderr, "agent-init: -p %d: %s\n", g.a.pdeathsig,
		    strerror(errno));
		exit(EXIT_FAILURE);
	}
	if (g.ppid && getppid() != g.ppid)
		(void)kill(getpid(), g.a.pdeathsig);
}

/* Setup: every failure here ends the program with a status and a line. */
static void
setup(int argc, char **argv)
{
	char err[256];
	const char *what;
	int r;

	g.ppid = getppid();
	if (signals_block() < 0) {
		perror("agent-init: cannot block signals");
		exit(EXIT_FAILURE);
	}
	ensure_stdio();
	config_set_policy_check(sandbox_policy_check);
	if (args_parse(argc, argv, (args_getenv)getenv, &g.a, err,
	        sizeof(err)) < 0) {
		fprintf(stderr, "agent-init: %s\n", err);
		exit(EXIT_USAGE);
	}
	if (g.a.mode == ARGS_HELP) {
		fputs(usage, stdout);
		exit(0);
	}
	if (g.a.mode == ARGS_VERSION) {
		print_version();
		exit(0);
	}
	if (g.a.mode == ARGS_SUBCOMMAND &&
	    strcmp(g.a.subcommand, "check-config") == 0)
		exit(check_config(g.a.sub_argc, g.a.sub_argv));
	if (g.a.mode == ARGS_SUBCOMMAND &&
	    strcmp(g.a.subcommand, "netcheck") == 0)
		exit(netcheck_main(g.a.sub_argc, g.a.sub_argv));
	if (g.a.mode == ARGS_SUBCOMMAND &&
	    (strcmp(g.a.subcommand, "status") == 0 ||
	        strcmp(g.a.subcommand, "wait-ready") == 0 ||
	        strcmp(g.a.subcommand, "ctl") == 0))
		exit(ctl_main(g.a.subcommand, g.a.sub_argc, g.a.sub_argv));
	if ((what = unsupported(&g.a))) {
		fprintf(stderr,
		    "agent-init: %s is not implemented in "
		    "agent-init %s yet\n",
		    what, AGENT_INIT_VERSION);
		exit(EXIT_USAGE);
	}
	load_config();
	if (!g.a.cmd && !g.config_path && !g.a.dockerd) {
		/* Neither a command, nor -c, nor CONFIG_DEFAULT_PATH. */
		fprintf(stderr,
		    "agent-init: no command given (usage: agent-init [OPTIONS] "
		    "-- COMMAND [ARG...])\n");
		exit(EXIT_USAGE);
	}
	apply_env();
	gates_need_checks();
	resolve_control_group();
	g.boot_ms = loop_now_ms();
	g.pid1 = getpid() == 1;
	/*
	 * The events destination first, before agent-init has a descriptor
	 * of its own: `--events fd:4` without the `4>` redirection must find
	 * fd 4 closed (EBADF, exit 64), not the loop's timerfd, which it
	 * would then take over and close.
	 */
	if ((r = events_open(g.a.events)) < 0) {
		fprintf(stderr, "agent-init: --events %s: %s\n",
		    g.a.events ? g.a.events : "stdout", strerror(-r));
		exit(EXIT_USAGE);
	}
	if ((r = loop_init()) < 0) {
		fprintf(stderr,
		    "agent-init: cannot create the event loop: %s\n",
		    strerror(-r));
		exit(EXIT_FAILURE);
	}
	cloexec_inherited_fds();
	if (!g.pid1)
		(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	set_pdeathsig();
	if ((r = signals_init(on_signal)) < 0) {
		fprintf(stderr, "agent-init: cannot create the signalfd: %s\n",
		    strerror(-r));
		exit(EXIT_FAILURE);
	}
}

/* The output mode: --output, else [init] output, else raw for a lone
 * command (as tini) and prefix for services from a file (SPEC 5). */
static enum output_mode
output_mode(void)
{
	if (g.a.output)
		return strcmp(g.a.output, "json") == 0  ? OUTPUT_JSON
		    : strcmp(g.a.output, "prefix") == 0 ? OUTPUT_PREFIX
		                                        : OUTPUT_RAW;
	if (g.cfg.output != OUTPUT_INHERIT)
		return g.cfg.output;
	return g.cfg.nservices || g.a.dockerd ? OUTPUT_PREFIX : OUTPUT_RAW;
}

/* AGENT_INIT_JITTER_SEED makes restart delays reproducible (tests). */
static uint64_t
jitter_seed(void)
{
	const char *e = getenv("AGENT_INIT_JITTER_SEED");
	unsigned long v;

	if (e && value_uint(e, ~0UL, &v) == 0)
		return v;
	return loop_now_ms() ^ ((uint64_t)getpid() << 32) ^
	    (uint64_t)(uintptr_t)&v;
}

/* --dockerd: the preset service, adapted to this machine. */
static void
add_dockerd(enum output_mode mode, uint64_t seed)
{
	static struct dockerd_preset p;
	struct dockerd_facts df;
	struct host_facts facts;
	struct svc *s = &g.svcs[g.nsvcs];
	char err[256];
	unsigned int i;

	if (config_service(&g.cfg, "dockerd")) {
		fprintf(stderr,
		    "agent-init: --dockerd, and %s:%u defines [service "
		    "dockerd] too\n",
		    g.config_path, config_service(&g.cfg, "dockerd")->line);
		exit(EXIT_CONFIG);
	}
	host_read(&facts, g.pid1);
	host_read_extra(&facts, true);
	df.iptables = facts.iptables;
	df.overlay = facts.overlay;
	df.mtu = facts.mtu > 0 ? (unsigned int)facts.mtu : 0;
	if (dockerd_preset(&p, getenv("AGENT_INIT_DOCKERD_ARGS"), &df, err,
	        sizeof(err)) < 0) {
		fprintf(stderr, "agent-init: %s\n", err);
		exit(EXIT_USAGE);
	}
	if (svc_init(s, &p.conf, p.argv, mode, seed ^ 0xd0c) < 0 ||
	    sup_add(s) < 0)
		exit(EXIT_FAILURE);
	s->before_start = dockerd_before_start;
	s->before_start_data = &p;
	s->crash.dockerd = true; /* hints for dockerd's fatal lines */
	for (i = 0; i < p.nnotes && i < 8; i++)
		s->adapted[s->nadapted++] = p.notes[i];
	g.nsvcs++;
}

/*
 * `ready = log:` reads the service's output, which raw output does not
 * capture.  check-config refuses it in the file; a raw mode that comes
 * from --output or AGENT_INIT_OUTPUT would turn a good file into one
 * whose probe waits for ever, so it is refused here, before anything
 * starts (a service with its own `output` keeps it).
 */
static void
check_log_probes(enum output_mode mode)
{
	unsigned int i, k;

	if (mode != OUTPUT_RAW || !g.a.output)
		return;
	for (i = 0; i < g.cfg.nservices; i++) {
		const struct service_conf *c = &g.cfg.services[i];

		if (c->output != OUTPUT_INHERIT)
			continue;
		for (k = 0; k < c->nready; k++)
			if (c->ready[k].kind == PROBE_LOG) {
				fprintf(stderr,
				    "agent-init: --output raw "
				    "(AGENT_INIT_OUTPUT): %s:%u: [service %s] "
				    "waits for `ready = log:%.60s`, which raw "
				    "output cannot see; give it `output = "
				    "prefix` or another probe\n",
				    g.config_path, c->ready[k].line, c->name,
				    c->ready[k].arg);
				exit(EXIT_USAGE);
			}
	}
}

static void
add_services(void)
{
	enum output_mode mode = output_mode();
	uint64_t seed = jitter_seed();
	unsigned int i;
	struct svc *s;

	check_log_probes(mode);
	g.svcs = calloc(g.cfg.nservices + 2, sizeof(*g.svcs));
	if (!g.svcs) {
		fprintf(stderr, "agent-init: %u services: out of memory\n",
		    g.cfg.nservices);
		exit(EXIT_FAILURE);
	}

	for (i = 0; i < g.cfg.nservices; i++) {
		s = &g.svcs[g.nsvcs];
		if (svc_init(s, &g.cfg.services[i], NULL, mode, seed + i) < 0) {
			/* A seccomp policy that changed since it was
			 * checked: still a configuration error. */
			fprintf(stderr, "agent-init: %s:%u: [service %s]: %s\n",
			    g.config_path, g.cfg.services[i].line,
			    g.cfg.services[i].name,
			    s->reason[0] ? s->reason : "cannot set up");
			exit(EXIT_CONFIG);
		}
		if (sup_add(s) < 0) {
			fprintf(stderr, "agent-init: %s: cannot set up\n",
			    g.cfg.services[i].name);
			exit(EXIT_FAILURE);
		}
		s->inherit_stdin = s->main;
		g.nsvcs++;
	}
	if (g.a.dockerd)
		add_dockerd(mode, seed);
	if (!g.a.cmd)
		return;
	s = &g.svcs[g.nsvcs];
	if (g.cfg.nservices || g.a.dockerd) {
		/* The command joins the configured services as `main`. */
		config_service_defaults(&g.cmd_conf, "main");
		g.cmd_conf.main = true;
		g.cmd_conf.kill_group = false;
		g.cmd_conf.tail_lines = 50;
		if (g.a.dockerd) {
			snprintf(g.cmd_conf.after[0], CONFIG_NAME_MAX,
			    "dockerd");
			g.cmd_conf.nafter = 1;
		}
		if (svc_init(s, &g.cmd_conf, g.a.cmd, mode, seed) < 0)
			exit(EXIT_FAILURE);
		s->stop_with_received = true;
	} else if (svc_init(s, NULL, g.a.cmd, mode, seed) < 0)
		exit(EXIT_FAILURE);
	s->signal_group = g.a.group;
	s->inherit_stdin = true;
	s->foreground_tty =
	    isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();
	(void)sup_add(s);
	g.nsvcs++;
	g.single = !g.cfg.nservices && !g.a.dockerd;
}

/* -r FROM:TO is the main service's signal_map, under its own pairs. */
static void
apply_rewrite(void)
{
	struct value_sigmap m;
	size_t i;

	for (i = 0; i < g.nsvcs; i++) {
		if (!g.svcs[i].main)
			continue;
		m = g.a.rewrite;
		value_sigmap_merge(&m, &g.svcs[i].sigmap);
		g.svcs[i].sigmap = m;
	}
}

#define EXIT_CHECKS 69

/*
 * A check that a service is `after`: its gate judges it when the
 * service's check_wait is over, in any `checks` mode, not the first run.
 */
static bool
gated(const struct check_result *r)
{
	const struct check_conf *k;
	unsigned int i, a;

	for (i = 0; i < g.cfg.nservices; i++)
		for (a = 0; a < g.cfg.services[i].nafter_checks; a++) {
			k = config_check_named(&g.cfg,
			    g.cfg.services[i].after_checks[a]);
			if (k && strcmp(k->type, r->check) == 0 &&
			    strcmp(k->name, r->name) == 0)
				return true;
		}
	return false;
}

/* The gates' view of the checks (supervisor/gate.h), from recheck. */
static void
gate_lookup(const char *name, struct gate_check *ret)
{
	bool passed = false, required = false;
	int r =
	    recheck_state(name, &passed, &required, ret->why, sizeof(ret->why));

	ret->verdict = r < 0 ? GATE_NONE : passed ? GATE_PASS : GATE_FAIL;
	ret->required = required;
}

static const struct gate_hooks gate_hooks = { gate_lookup, recheck_want };

/*
 * The verdicts are in: services that wait for a check may start; with
 * `enforce`, start the services or stop.
 */
static void
on_checks_done(void *data)
{
	struct check_summary sm;
	size_t i;

	(void)data;
	recheck_first_done();
	checks_summary(&sm);
	if (!g.checks_gate) {
		sup_checks_changed();
		return;
	}
	if (sm.required_failed) {
		for (i = 0; i < checks_count(); i++) {
			const struct check_result *r = checks_result(i);

			if (r->required && r->status &&
			    strcmp(r->status, "fail") == 0 && !gated(r)) {
				snprintf(g.exit_early_reason,
				    sizeof(g.exit_early_reason),
				    "required check %s%s%.40s failed: %.80s %.31s",
				    r->check, *r->name ? ":" : "", r->name,
				    r->target, r->code);
				g.exit_early = EXIT_CHECKS;
				return;
			}
		}
	}
	sup_start();
}

static void
on_rechecked(void)
{
	sup_checks_changed();
}

/*
 * The startup checks (SPEC section 8): off with --no-checks or checks =
 * off.  With `warn` they run beside the services and only report; with
 * `enforce` the services start once the verdicts are in.
 */
static void
checks_options(void)
{
	memset(&g.co, 0, sizeof(g.co));
	g.co.cfg = &g.cfg;
	g.co.timeout_ms =
	    g.cfg.check_timeout_ms ? g.cfg.check_timeout_ms : 2000;
	g.co.dockerd = g.a.dockerd;
	g.co.events = true;
	g.co.background = true;
	g.co.on_done = on_checks_done;
}

static void
run_checks(void)
{
	struct recheck_opts ro;

	memset(&ro, 0, sizeof(ro));
	ro.cfg = &g.cfg;
	ro.timeout_ms = g.cfg.check_timeout_ms;
	ro.dockerd = g.a.dockerd;
	ro.on_verdicts = on_rechecked;
	recheck_init(&ro);
	(void)checks_start(&g.co);
}

/* HOST:PORT with a port from 1 to 65535 ([v6]:PORT for IPv6). */
static bool
valid_target(const char *a)
{
	const char *c = strrchr(a, ':');
	unsigned long port;

	return c && c != a && value_uint(c + 1, 65535, &port) == 0 && port;
}

/*
 * agent-init netcheck [-c FILE] [--json] [--resolv-conf FILE]
 * [--hosts FILE] [--timeout D] [TARGET...]: the same checks, on demand.
 */
static int
netcheck_main(int argc, char **argv)
{
	static struct config cfg;
	struct checks_opts co;
	struct check_summary sm;
	const char *targets[32];
	char err[512];
	bool json = false;
	uint64_t timeout = 0, end;
	sigset_t none;
	int i;

	memset(&co, 0, sizeof(co));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) &&
		    i + 1 < argc) {
			if (config_load(argv[++i], &cfg, err, sizeof(err)) <
			    0) {
				fprintf(stderr, "%s\n", err);
				return EXIT_CONFIG;
			}
			co.cfg = &cfg;
		} else if (strcmp(a, "--json") == 0)
			json = true;
		else if (strcmp(a, "--resolv-conf") == 0 && i + 1 < argc)
			co.resolv_conf = argv[++i];
		else if (strcmp(a, "--hosts") == 0 && i + 1 < argc)
			co.hosts = argv[++i];
		else if (strcmp(a, "--timeout") == 0 && i + 1 < argc &&
		    value_duration_ms(argv[i + 1], &timeout) == 0 && timeout)
			i++;
		else if (a[0] != '-' && valid_target(a) && co.ntargets < 32)
			targets[co.ntargets++] = a;
		else {
			fprintf(stderr,
			    "agent-init netcheck: bad argument '%s'\n"
			    "usage: agent-init netcheck [-c FILE] [--json] "
			    "[--resolv-conf FILE] [--hosts FILE] [--timeout D] "
			    "[HOST:PORT...]\n",
			    a);
			return EXIT_USAGE;
		}
	}
	/* An ordinary command now: Ctrl-C may stop it. */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if (loop_init() < 0 || (json && events_open("stdout") < 0)) {
		fprintf(stderr, "agent-init netcheck: cannot set up: %s\n",
		    strerror(errno));
		return 1;
	}
	co.targets = targets;
	co.timeout_ms = timeout    ? timeout
	    : cfg.check_timeout_ms ? cfg.check_timeout_ms
	                           : 2000;
	co.events = json;
	(void)checks_start(&co);
	/* The checks' own deadline ends them; this one only guards it. */
	end = loop_now_ms() + co.timeout_ms + 1000;
	while (!checks_finished() && loop_now_ms() < end)
		(void)loop_run_once();
	if (json)
		events_flush(1000);
	else
		checks_print_table();
	checks_summary(&sm);
	return sm.fail ? 1 : 0;
}

/* The last moment of the budget is for the exit line. */
#define EXIT_LINE_MS 100

/*
 * The way out: what the queues still hold goes out within what is left of
 * the shutdown budget, all streams together; a reader that never reads
 * cannot make the shutdown longer than stop_timeout.  What could not be
 * written is counted: in the `exit` line (which gets the last moment and
 * the room of the lines nobody started to write) and in the termination
 * log.
 */
static void
finish_output(int status, const char *reason)
{
	uint64_t end = sup_exit_deadline_ms(), now = loop_now_ms();

	sink_flush_all(end > now + EXIT_LINE_MS ? end - EXIT_LINE_MS : now);
	(void)sink_discard_all();
	ev_begin("exit");
	ev_int("status", status);
	ev_str("reason", reason);
	ev_int("dropped", (long long)sink_dropped_all());
	if (!g.exit_early && sup_exit_crash())
		crash_emit(sup_exit_crash());
	ev_emit();
	sink_flush_all(end);
	sup_report_dropped(sink_dropped_all() + sink_pending_lines_all());
}

int
main(int argc, char **argv)
{
	struct sup_opts so;
	const struct host_facts *facts;
	struct host_facts own_facts;
	int status;

	setup(argc, argv);
	emit_start();

	memset(&so, 0, sizeof(so));
	so.boot_ms = g.boot_ms;
	so.stop_timeout_ms = g.a.stop_timeout_ms;
	so.pid1 = g.pid1;
	so.ready_file = g.cfg.ready_file;
	so.termination_log = g.cfg.termination_log;
	so.notify_socket = getenv("NOTIFY_SOCKET");
	so.on_readiness = control_notify;
	/* With the checks off, no service may be after one (78 above). */
	so.gates =
	    !g.a.no_checks && g.cfg.checks != CHECKS_OFF ? &gate_hooks : NULL;
	so.remap_exit = &g.a.remap_exit;
	sup_init(&so);
	output_init();
	/* Before any service starts: its count is where the watch begins. */
	oomwatch_init(g.pid1);
	add_services();
	apply_rewrite();
	/*
	 * Fork first unless `enforce` makes the services wait for the
	 * checks, then take the fingerprint and make the control socket while
	 * the children exec (issue 15: a lone command's start-up is as short
	 * as tini's): their events are only written from the loop, so the
	 * lines still come in the order of SPEC section 4: start,
	 * environment, service_start.
	 */
	g.checks_on = !g.a.no_checks && g.cfg.checks != CHECKS_OFF;
	g.checks_gate = g.checks_on && g.cfg.checks == CHECKS_ENFORCE;
	if (!g.checks_gate)
		sup_start();
	if (g.checks_on) {
		checks_for_dockerd(g.a.dockerd);
		facts = checks_facts();
	} else {
		host_read(&own_facts, g.pid1);
		facts = &own_facts;
	}
	host_emit(facts);
	oomwatch_announce(facts->runtime);
	pidswatch_start(g.cfg.pids_watch_ms, g.pid1);
	/* The control socket: configured, else the default path as PID 1
	 * (a container), where HEALTHCHECK's `agent-init status` finds it;
	 * `ctl checks` asks the checks' re-run.  Then the HTTP probe
	 * endpoint, only where the operator said. */
	checks_options();
	g.ctl.path = g.control_path;
	g.ctl.verbose = g.a.verbose;
	g.ctl.checks = &g.co;
	(void)control_listen(&g.ctl);
	(void)httpd_listen(g.cfg.http_listen);
	if (g.checks_on)
		run_checks();

	/* From here on PID 1 never exits but at the end of the shutdown. */
	while (!sup_done() && !g.exit_early) {
		int r = loop_run_once();

		if (r < 0 && r != -EINTR) {
			ev_begin("error");
			ev_str("detail", strerror(-r));
			ev_emit();
		}
		if (g.reap_needed) {
			g.reap_needed = false;
			sup_children(reap_all(g.a.verbose));
		}
		oomwatch_pass();
	}

	/* A client told `shutdown` (ctl stop of main) exits before we do. */
	control_linger();
	status = g.exit_early ? g.exit_early : sup_exit_status();
	control_close();
	httpd_close();
	finish_output(status,
	    g.exit_early ? g.exit_early_reason : sup_exit_reason());
	return status;
}
