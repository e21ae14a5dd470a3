/*
 * Fuzz target: requests on the control socket (init/control.c), served by
 * the real code in the real loop: control_listen() on a socket in a fresh
 * temporary directory, a client connects, the input is sent in pieces,
 * the loop runs after each piece, and the reply is read back.  Anyone who
 * can reach the socket (root or our uid) can send these bytes.
 *
 * The supervisor is replaced by a few fake services whose names and
 * failure reasons also come from the input (a reason quotes what a
 * service or the kernel said), so the JSON replies meet arbitrary bytes.
 *
 * Input: flags, piece size, name/reason length L, L bytes, then the
 * request bytes.  Checked: at most one reply, one line, one valid JSON
 * object; and no client slot is left in use once the client is gone.
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
#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/signals.c"
#include "../../core/sink.c"
#include "../../core/values.c"

#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* ---- a fake supervisor ---- */

#define NFAKE 3
static struct svc fake[NFAKE];
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
svc_alive(const struct svc *s)
{
	return s->pid > 0;
}

const char *
svc_state_name(enum svc_state st)
{
	static const char *const n[SVC_STATE_MAX] = { "waiting", "starting",
		"starting", "ready", "stopping", "backoff", "exited",
		"failed" };

	return st < SVC_STATE_MAX ? n[st] : "?";
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
	if (control_listen(sock_path) < 0)
		abort();
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
		s->name = fake_names[i];
		s->state = (enum svc_state)((flags + i) % SVC_STATE_MAX);
		s->main = i == 0;
		s->required = (flags >> 6) & 1;
		s->pid = (pid_t)(i * 7);
		s->has_exited = (flags >> 7) & 1;
		s->wstatus = i == 1 ? 0x0009 : 0x0300; /* SIGKILL; exit 3 */
		s->attempt = (unsigned)i;
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

static size_t
slots_used(void)
{
	size_t i, n = 0;

	for (i = 0; i < CONTROL_MAX_CLIENTS; i++)
		n += ctl.clients[i].used;
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char rep[REPLY_MAX * 2];
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
	assert(rlen <= REPLY_MAX);
	assert(json_object_valid(rep, rlen - 1));
	return 0;
}
