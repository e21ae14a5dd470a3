/*
 * crash — what a service's ends say.  See crash.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cap-ng.h>

#include "crash.h"
#include "events.h"

/* The capabilities docker-in-gVisor sandboxes give dockerd (issue 4). */
static const char *const dind_caps[] = { "chown", "dac_override", "fowner",
	"fsetid", "kill", "mknod", "net_bind_service", "net_admin", "net_raw",
	"setfcap", "setgid", "setpcap", "setuid", "sys_admin", "sys_chroot",
	"sys_ptrace", "audit_write" };

void
crash_missing_caps(char *buf, size_t cap)
{
	size_t i, n = 0, j;

	if (cap == 0)
		return;
	buf[0] = 0;
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_get_caps_process() < 0)
		return;
	for (i = 0; i < sizeof(dind_caps) / sizeof(dind_caps[0]); i++) {
		int c = capng_name_to_capability(dind_caps[i]);

		if (c < 0 ||
		    capng_have_capability(CAPNG_EFFECTIVE, (unsigned)c))
			continue;
		if (n && n + 1 < cap)
			buf[n++] = ' ';
		for (j = 0; dind_caps[i][j] && n + 1 < cap; j++)
			buf[n++] =
			    (char)toupper((unsigned char)dind_caps[i][j]);
		buf[n] = 0;
	}
}

static void
hint(struct svc_crash *c, const char *line)
{
	char missing[256] = "";

	c->hint[0] = 0;
	if (!c->dockerd || !*line)
		return;
	if (strcasestr(line, "permission denied") ||
	    strcasestr(line, "operation not permitted"))
		crash_missing_caps(missing, sizeof(missing));
	(void)cause_dockerd_hint(line, missing, c->hint, sizeof(c->hint));
}

void
crash_end(struct svc_crash *c, const struct cause_ring *ring, bool crashed,
    bool ever_ready)
{
	c->cause[0] = 0;
	if (crashed)
		(void)cause_find(ring, c->cause, sizeof(c->cause));
	hint(c, c->cause);
	if (ever_ready || !c->cause[0]) {
		/* A silent end keeps the normal restart policy. */
		c->same = 0;
		c->last[0] = 0;
		return;
	}
	if (c->same && cause_same(c->cause, c->last))
		c->same++;
	else {
		c->same = 1;
		memcpy(c->last, c->cause, sizeof(c->last));
	}
}

void
crash_exec_failed(struct svc_crash *c, const char *why)
{
	c->cause[0] = 0;
	hint(c, why ? why : "");
}

bool
crash_loop(const struct svc_crash *c, char *reason, size_t cap)
{
	char last[256];

	if (!c->limit || c->same < c->limit)
		return false;
	snprintf(last, sizeof(last), "%s", reason);
	snprintf(reason, cap,
	    "ended %u times in a row with the same cause before it was "
	    "ever ready; giving up (last run: %.160s)",
	    c->same, last);
	return true;
}

void
crash_emit(const struct svc_crash *c)
{
	if (c->cause[0])
		ev_str("cause", c->cause);
	if (c->hint[0])
		ev_str("hint", c->hint);
}
