/*
 * capcheck — the `capabilities` check.  See capcheck.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cap-ng.h>

#include "capcheck.h"
#include "facts.h"
#include "file.h"
#include "hints.h"
#include "result.h"

/* The capabilities docker-in-gVisor sandboxes add for dockerd (issue 4). */
static const char *const dockerd_caps[] = { "chown", "dac_override", "fowner",
	"fsetid", "kill", "mknod", "net_bind_service", "net_admin", "net_raw",
	"setfcap", "setgid", "setpcap", "setuid", "sys_admin", "sys_chroot",
	"sys_ptrace", "audit_write" };

/*
 * The five sets as the kernel shows them (proc(5) CapInh ... CapAmb), so
 * the detail says what bounds a `--cap-add` and what a service inherits.
 */
static void
cap_sets(char *buf, size_t cap)
{
	static const char *const names[] = { "CapEff:", "CapPrm:", "CapInh:",
		"CapBnd:", "CapAmb:" };
	char *st;
	size_t i, n = 0, len;

	buf[0] = 0;
	if (file_read("/proc/self/status", FILE_PLANTED, 65536, 0, &st, &len) <
	    0)
		return;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && n < cap; i++) {
		const char *p = strstr(st, names[i]);
		unsigned long long v;

		if (p && sscanf(p + strlen(names[i]), "%llx", &v) == 1)
			n += (size_t)snprintf(buf + n, cap - n, "%s%.3s=%llx",
			    n ? " " : "", names[i] + 3, v);
	}
	free(st);
}

/*
 * With the --dockerd preset the check is always required: dockerd cannot
 * run without those capabilities, so with checks = enforce a container
 * started with --cap-drop ALL exits 69 at once instead of crash-looping
 * dockerd (a [check capabilities] section adds to it, never relaxes it).
 * Otherwise it is required when its section says so.
 */
void
capcheck_start(const struct check_conf *k, bool dockerd)
{
	struct check_result *r = result_new("capabilities", k ? k->name : "",
	    "self", (k && k->required) || dockerd);
	char want[CONFIG_VALUE_MAX * 2] = "", missing[512] = "", *w,
	                             *save = NULL;
	char facts[256], sets[120];
	size_t mlen = 0, i, wl;
	const struct host_facts *f = facts_host();

	if (!r)
		return;
	if (k && *k->require)
		snprintf(want, sizeof(want), "%s", k->require);
	if (dockerd)
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
		result_done(r, "fail", "missing", "missing: %s; %s", missing,
		    facts);
	} else
		result_done(r, "ok", "ok", "effective set is %s; %s",
		    facts_host()->caps, facts);
}
