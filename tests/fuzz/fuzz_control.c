/*
 * Fuzz target: requests on the control socket (init/control.c and
 * init/verbs.c), served by the real code in the real loop:
 * control_listen() on a socket in a fresh temporary directory, a client
 * connects, the input is sent in pieces, the loop runs after each piece,
 * and the reply is read back.  Anyone who can reach the socket (root or
 * our uid, or control_group) can send these bytes.
 *
 * The supervisor and the checks are replaced by fakes: a few services
 * whose names, failure reasons, causes, health reasons and STATUS= texts
 * also come from the input (a reason quotes what a service or the kernel
 * said, STATUS= is the service's own), so the JSON replies meet arbitrary
 * bytes; the checks' last verdicts (netcheck/recheck.c) likewise, with
 * targets and codes from the input; the verbs that act answer with what
 * the flags say and never signal anything.  A `logs` request gets the
 * real follower over an empty ring.
 *
 * Input: flags, piece size, name/reason length L, L bytes, then the
 * request bytes.  Checked: at most one reply line, valid JSON; and no
 * client slot is left in use once the client is gone.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../init/control.c"
#include "../../init/verbs.c"
#include "../../init/follow.c"
#include "../../init/status.c"
#include "../../core/events.c"
#include "../../core/file.c"
#include "../../core/logring.c"
#include "../../core/loop.c"
#include "../../core/signals.c"
#include "../../core/sink.c"
#include "../../core/values.c"
#include "../../supervisor/cause.c"
#include "../../supervisor/crash.c"

#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* ---- a fake supervisor ---- */

#define NFAKE 3
static struct svc fake[NFAKE];
static struct service_conf fake_conf = { .nhealth = 1 };
static char fake_names[NFAKE][CONFIG_NAME_MAX];
static size_t nfake;
static bool f_ready, f_running, f_stalled, f_healthy;

size_t
sup_count(void)
{
	return nfake;
}

struct svc *
sup_service(size_t i)
{
	assert(i < nfake);
	return &fake[i];
}

bool
sup_ready(void)
{
	return f_ready;
}

bool
sup_running(void)
{
	return f_running;
}

bool
sup_stalled(void)
{
	return f_stalled;
}

bool
sup_healthy(void)
{
	return f_healthy;
}

bool
health_ok(const struct health *h)
{
	return !h->probes_bad && !h->watchdog_bad;
}

bool
svc_alive(const struct svc *s)
{
	return s->pid > 0;
}

const char *
svc_state_name(enum svc_state st)
{
	static const char *const n[SVC_STATE_MAX] = { "waiting", "starting",
		"starting", "ready", "stopping", "backoff", "exited", "failed",
		"stopped" };

	return st < SVC_STATE_MAX ? n[st] : "?";
}

/* ---- fake verdicts of the checks ---- */

/* Up to 2 from the input, or (flags say so) 64 whose targets fill the
 * reply: the checks are then left out, never the whole reply. */
#define NFAKE_CHECKS 64
static struct check_verdict fake_checks[NFAKE_CHECKS];
static size_t nfake_checks;

size_t
recheck_count(void)
{
	return nfake_checks;
}

const struct check_verdict *
recheck_get(size_t i)
{
	return i < nfake_checks ? &fake_checks[i] : NULL;
}

/* The verbs that act: whatever the flags say, never a signal. */
static int f_verb;

/* `ctl checks`: its run is over at once, or too many wait (flags). */
int
recheck_now(const char *name, void (*done)(void *data), void *data)
{
	(void)name;
	if (f_verb == -EALREADY)
		return -EBUSY;
	if (done)
		done(data);
	return 0;
}

void
recheck_forget(void *data)
{
	(void)data;
}

struct svc *
sup_find(const char *name)
{
	size_t i;

	for (i = 0; i < nfake; i++)
		if (strcmp(fake[i].name, name) == 0)
			return &fake[i];
	return NULL;
}

int
sup_hold(struct svc *s, const char *note)
{
	(void)s;
	(void)note;
	return f_verb;
}

bool
sup_hold_ends_sandbox(struct svc *s)
{
	(void)s;
	return f_verb == SUP_HOLD_SHUTDOWN;
}

int
sup_release(struct svc *s)
{
	(void)s;
	return f_verb == SUP_HOLD_SHUTDOWN ? 0 : f_verb;
}

int
sup_restart(struct svc *s)
{
	(void)s;
	return f_verb == SUP_HOLD_SHUTDOWN ? 0 : f_verb;
}

int
svc_signal(struct svc *s, int sig, bool group)
{
	(void)group;
	return s->pid > 0 && f_verb == 0 ? sig : -ESRCH;
}

void
output_on_log(void (*cb)(struct svc_out *o))
{
	(void)cb;
}

/* ---- the harness ---- */

static char sock_dir[] = "/tmp/agent-init-fuzz-XXXXXX";
static char sock_path[108];

/* libFuzzer ends a timed run with exit(): leave nothing in /tmp. */
static void
remove_socket(void)
{
	control_close();
	(void)rmdir(sock_dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!mkdtemp(sock_dir) || loop_init() < 0)
		abort();
	snprintf(sock_path, sizeof(sock_path), "%s/control.sock", sock_dir);
	{
		static struct checks_opts co = { .timeout_ms = 1000 };
		struct control_opts o = { .path = sock_path, .checks = &co };

		if (control_listen(&o) < 0)
			abort();
	}
	atexit(remove_socket);
	return 0;
}

static void
setup_fake(uint8_t flags, const uint8_t *text, size_t len)
{
	size_t i, part = len / NFAKE;

	f_ready = flags & 1;
	f_running = flags & 2;
	f_stalled = flags & 4;
	f_healthy = flags & 8;
	nfake = (flags >> 4) % (NFAKE + 1);
	{
		static const int verbs[] = { 0, -EALREADY, -ESHUTDOWN,
			SUP_HOLD_SHUTDOWN };

		f_verb = verbs[(flags >> 2) & 3];
	}
	for (i = 0; i < NFAKE; i++) {
		struct svc *s = &fake[i];
		size_t nl =
		    part < CONFIG_NAME_MAX - 1 ? part : CONFIG_NAME_MAX - 1;
		size_t rl =
		    part < sizeof(s->reason) - 1 ? part : sizeof(s->reason) - 1;

		memset(s, 0, sizeof(*s));
		memcpy(fake_names[i], text + i * part, nl);
		fake_names[i][nl] = 0;
		memcpy(s->reason, text + i * part, rl);
		s->reason[rl] = 0;
		/* The last one is ready with liveness: healthy or not, its
		 * reason and its STATUS= from the input too. */
		if (i == NFAKE - 1) {
			s->conf = &fake_conf;
			s->health.conf = &fake_conf;
			s->health.running = true;
			s->health.probes_bad = flags & 1;
			s->health.failures = flags;
			memcpy(s->health.reason, s->reason, rl + 1);
			memcpy(s->status, text + i * part,
			    rl < sizeof(s->status) ? rl
			                           : sizeof(s->status) - 1);
		}
		/* Causes and hints from the input too: `status` carries them. */
		rl = rl < CAUSE_MAX ? rl : CAUSE_MAX;
		memcpy(s->crash.cause, text + i * part, rl);
		s->crash.cause[rl] = 0;
		if (i == 1)
			memcpy(s->crash.hint, s->crash.cause, rl + 1);
		s->name = fake_names[i];
		s->state = (enum svc_state)((flags + i) % SVC_STATE_MAX);
		s->main = i == 0;
		s->required = (flags >> 6) & 1;
		s->pid = (pid_t)(i * 7);
		s->has_exited = (flags >> 7) & 1;
		s->wstatus = i == 1 ? 0x0009 : 0x0300; /* SIGKILL; exit 3 */
		s->exited_once = s->has_exited;
		s->last_wstatus = s->wstatus;
		s->attempt = (unsigned)i;
	}
	nfake_checks = (flags >> 2) & 3;
	if (nfake_checks == 3)
		nfake_checks = NFAKE_CHECKS;
	for (i = 0; i < NFAKE_CHECKS; i++) {
		struct check_verdict *v = &fake_checks[i];
		size_t tl =
		    part < sizeof(v->target) - 1 ? part : sizeof(v->target) - 1;
		size_t cl =
		    part < sizeof(v->code) - 1 ? part : sizeof(v->code) - 1;

		memset(v, 0, sizeof(*v));
		snprintf(v->check, sizeof(v->check), "tcp");
		if (i >= NFAKE) {
			/* 159 bytes that escape to 6 each: about 1 KiB. */
			memset(v->target, 0x01, sizeof(v->target) - 1);
			v->status = "fail";
			snprintf(v->code, sizeof(v->code), "refused");
			continue;
		}
		memcpy(v->name, fake_names[i], strlen(fake_names[i]) + 1);
		memcpy(v->target, text + i * part, tl);
		memcpy(v->code, text + i * part, cl);
		v->status = i ? "fail" : "ok";
		v->at_ms = loop_now_ms();
	}
}

/* Run the loop until nothing is ready for the server (no blocking). */
static void
serve(void)
{
	int i;

	for (i = 0; i < 8; i++) {
		struct pollfd p = { .fd = epfd, .events = POLLIN };

		if (poll(&p, 1, 0) <= 0)
			return;
		(void)loop_run_once();
	}
}

/*
 * Slots in use.  A client told `shutdown` that hung up stays until its
 * process is gone (control_linger()): here that process is us, so such
 * a slot, its socket closed and its wait bounded, is let go now.
 */
static size_t
slots_used(void)
{
	size_t i, n = 0;

	for (i = 0; i < CTL_NSLOTS; i++) {
		struct client *c = &ctl.clients[i];

		if (c->cls == CL_WAITER && c->wfor == W_GONE) {
			assert(c->io.fd < 0 && c->timer.armed &&
			    c->until <= loop_now_ms() + CONTROL_LINGER_MS);
			ctl_drop(c);
		}
		n += c->cls != CL_FREE;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char rep[STATUS_MAX * 2];
	struct sockaddr_un un;
	size_t off, piece, tl, rlen = 0;
	ssize_t n;
	int fd;

	if (size < 3)
		return 0;
	tl = data[2] < size - 3 ? data[2] : size - 3;
	setup_fake(data[0], data + 3, tl);
	piece = 1 + data[1] % 64;
	off = 3 + tl;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert(fd >= 0);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, sock_path, strlen(sock_path));
	assert(connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0);
	serve(); /* accept */
	while (off < size) {
		size_t k = size - off < piece ? size - off : piece;

		if (send(fd, data + off, k, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			break; /* answered and closed, or the buffer is full */
		off += k;
		serve();
	}
	/* wait-ready with nothing to say yet: readiness changes now. */
	f_ready = f_running = true;
	control_notify();
	serve();
	(void)shutdown(fd, SHUT_WR);
	serve();
	for (;;) {
		n = recv(fd, rep + rlen, sizeof(rep) - rlen, MSG_DONTWAIT);
		if (n <= 0)
			break;
		rlen += (size_t)n;
	}
	close(fd);
	serve();
	assert(slots_used() == 0);
	if (rlen == 0)
		return 0;
	assert(rep[rlen - 1] == '\n');
	assert(memchr(rep, '\n', rlen) == rep + rlen - 1);
	assert(rlen <= STATUS_MAX);
	assert(json_object_valid(rep, rlen - 1));
	return 0;
}
