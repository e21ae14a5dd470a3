/*
 * dockerd — the `--dockerd` preset (SPEC section 9).
 *
 * A `dockerd` service: `dockerd` plus the words of
 * AGENT_INIT_DOCKERD_ARGS, ready once dockerd said READY=1 over
 * sd_notify and then answers GET /_ping on its socket, restart = always,
 * required.  Before the start it adapts to the machine, each choice noted
 * with its reason (the `adapted` field of service_start), unless the
 * arguments already decide it:
 *
 *   no iptables in PATH           --iptables=false --ip6tables=false
 *   no overlay in /proc/filesystems  --storage-driver=vfs (slow)
 *   default route MTU below 1500  --mtu=<that MTU>
 *   a pidfile naming no live dockerd (left by a SIGKILL): removed
 *
 * Public API: dockerd_preset(), dockerd_before_start().
 */
#ifndef AGENT_INIT_DOCKERD_H
#define AGENT_INIT_DOCKERD_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define DOCKERD_MAX_ARGS 64
#define DOCKERD_MAX_NOTES 8

struct dockerd_preset {
	struct service_conf conf;
	char buf[4096];
	char *argv[DOCKERD_MAX_ARGS + 8];
	char notes[DOCKERD_MAX_NOTES][160];
	unsigned int nnotes;
	const char *pidfile; /* --pidfile's value, or docker's default */
};

/* What the preset adapts to (from the environment fingerprint). */
struct dockerd_facts {
	bool iptables;
	bool overlay;
	unsigned int mtu; /* 0: unknown */
};

/* Fill p; extra is AGENT_INIT_DOCKERD_ARGS or NULL.  -EINVAL with err. */
int dockerd_preset(struct dockerd_preset *p, const char *extra,
    const struct dockerd_facts *facts, char *err, size_t errcap);

/*
 * The service's before_start hook (data: the struct dockerd_preset):
 * before a restart, a stale pidfile is removed, with a `warning` event.
 */
void dockerd_before_start(void *data, unsigned int attempt);

#endif
