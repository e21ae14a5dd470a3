/*
 * dockerd — the --dockerd preset.  See dockerd.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dockerd.h"
#include "events.h"
#include "file.h"
#include "values.h"

/* The value of --NAME=V, --NAME V or -S V (short), or NULL. */
static const char *
arg_value(char **argv, const char *name, const char *shortopt)
{
	size_t n = strlen(name);
	int i;

	for (i = 1; argv[i]; i++) {
		if (strncmp(argv[i], name, n) == 0 && argv[i][n] == '=')
			return argv[i] + n + 1;
		if ((strcmp(argv[i], name) == 0 ||
		        (shortopt && strcmp(argv[i], shortopt) == 0)) &&
		    argv[i + 1])
			return argv[i + 1];
	}
	return NULL;
}

static void __attribute__((format(printf, 2, 3)))
note(struct dockerd_preset *p, const char *fmt, ...)
{
	va_list ap;

	if (p->nnotes >= DOCKERD_MAX_NOTES)
		return;
	va_start(ap, fmt);
	vsnprintf(p->notes[p->nnotes++], sizeof(p->notes[0]), fmt, ap);
	va_end(ap);
}

/*
 * A pidfile left behind by a dockerd that was SIGKILLed makes the next
 * dockerd refuse to start ("pid file found, ensure docker is not
 * running") once its pid has been reused.  Remove it when the pid in it is
 * not a live dockerd: true, with the reason in why, when it was removed.
 * The preset does it once; the service's before_start hook before each
 * restart.
 */
static bool
clear_stale_pidfile(const char *path, char *why, size_t cap)
{
	char *text = NULL, proc[64];
	size_t len;
	long pid = 0;
	bool live = false;

	/* Never blocks, whatever was planted there (a FIFO, a device):
	 * PID 1 reads this before each restart. */
	if (file_read(path, FILE_PLANTED, 4096, 0, &text, &len) < 0)
		return false;
	pid = strtol(text, NULL, 10);
	free(text);
	if (pid > 0) {
		snprintf(proc, sizeof(proc), "/proc/%ld/comm", pid);
		if (file_read(proc, FILE_PLANTED, 4096, 0, &text, &len) == 0) {
			live = strncmp(text, "dockerd", 7) == 0;
			free(text);
		}
	}
	if (live || unlink(path) < 0)
		return false;
	snprintf(why, cap, "removed stale %s: pid %ld is not a running dockerd",
	    path, pid);
	return true;
}

static int
add(struct dockerd_preset *p, size_t *argc, char **used, const char *w)
{
	size_t n = strlen(w) + 1;

	if (*argc >= DOCKERD_MAX_ARGS + 6 ||
	    (size_t)(*used - p->buf) + n > sizeof(p->buf))
		return -E2BIG;
	memcpy(*used, w, n);
	p->argv[(*argc)++] = *used;
	p->argv[*argc] = NULL;
	*used += n;
	return 0;
}

int
dockerd_preset(struct dockerd_preset *p, const char *extra,
    const struct dockerd_facts *facts, char *err, size_t errcap)
{
	const char *msg = NULL, *host, *sock = "/var/run/docker.sock";
	const char *pidfile;
	size_t argc = 0, i, clen;
	char *used;
	char mtubuf[32];

	memset(p, 0, sizeof(p->argv));
	p->nnotes = 0;
	p->argv[0] = (char *)"dockerd";
	if (extra && *extra) {
		if (value_words(extra, p->buf, sizeof(p->buf) / 2, p->argv + 1,
		        DOCKERD_MAX_ARGS, &argc, &msg) < 0 &&
		    strcmp(msg ? msg : "", "empty command") != 0) {
			snprintf(err, errcap, "AGENT_INIT_DOCKERD_ARGS: %s",
			    msg ? msg : "cannot split");
			return -EINVAL;
		}
	}
	argc++;
	p->argv[argc] = NULL;
	used = p->buf + sizeof(p->buf) / 2;

	host = arg_value(p->argv, "--host", "-H");
	if (host && strncmp(host, "unix://", 7) == 0)
		sock = host + 7;
	if (strlen(sock) > 107) {
		snprintf(err, errcap, "dockerd socket path too long: %s", sock);
		return -EINVAL;
	}
	pidfile = arg_value(p->argv, "--pidfile", "-p");
	p->pidfile = pidfile ? pidfile : "/var/run/docker.pid";
	if (p->nnotes < DOCKERD_MAX_NOTES &&
	    clear_stale_pidfile(p->pidfile, p->notes[p->nnotes],
	        sizeof(p->notes[0])))
		p->nnotes++;
	if (!arg_value(p->argv, "--iptables", NULL) && !facts->iptables) {
		if (add(p, &argc, &used, "--iptables=false") < 0 ||
		    add(p, &argc, &used, "--ip6tables=false") < 0)
			goto big;
		note(p,
		    "--iptables=false --ip6tables=false: no iptables in "
		    "PATH");
	}
	if (!arg_value(p->argv, "--storage-driver", "-s") && !facts->overlay) {
		if (add(p, &argc, &used, "--storage-driver=vfs") < 0)
			goto big;
		note(p,
		    "--storage-driver=vfs: no overlay filesystem in "
		    "/proc/filesystems (vfs is slow and disk-hungry)");
	}
	if (!arg_value(p->argv, "--mtu", NULL) && facts->mtu > 0 &&
	    facts->mtu < 1500) {
		snprintf(mtubuf, sizeof(mtubuf), "--mtu=%u", facts->mtu);
		if (add(p, &argc, &used, mtubuf) < 0)
			goto big;
		note(p, "%s: the default route's MTU is %u", mtubuf,
		    facts->mtu);
	}

	config_service_defaults(&p->conf, "dockerd");
	/* For status and events only: the argv above is what runs. */
	for (i = 0, clen = 0; i < argc; i++) {
		int n = snprintf(p->conf.command + clen,
		    sizeof(p->conf.command) - clen, "%s%s", i ? " " : "",
		    p->argv[i]);

		if (n < 0 || (size_t)n >= sizeof(p->conf.command) - clen)
			break;
		clen += (size_t)n;
	}
	p->conf.ready[0].kind = PROBE_NOTIFY;
	p->conf.ready[1].kind = PROBE_UNIX_HTTP;
	snprintf(p->conf.ready[1].target, sizeof(p->conf.ready[1].target), "%s",
	    sock);
	snprintf(p->conf.ready[1].path, sizeof(p->conf.ready[1].path),
	    "/_ping");
	p->conf.nready = 2;
	p->conf.ready_timeout_ms = 60000;
	p->conf.restart = RESTART_ALWAYS;
	p->conf.required = true;
	return 0;
big:
	snprintf(err, errcap, "AGENT_INIT_DOCKERD_ARGS: too many arguments");
	return -E2BIG;
}

void
dockerd_before_start(void *data, unsigned int attempt)
{
	const struct dockerd_preset *p = data;
	char why[200];

	(void)attempt; /* the preset itself handled the first start */
	if (!clear_stale_pidfile(p->pidfile, why, sizeof(why)))
		return;
	ev_begin("warning");
	ev_str("what", "pidfile");
	ev_str("path", p->pidfile);
	ev_str("detail", why);
	ev_emit();
}
