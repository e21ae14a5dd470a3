/*
 * envcheck — the `environment` check (SPEC section 8): one warning per
 * finding about the sandbox (/dev/shm, nproc above the CPU limit, CA
 * bundle variables; with --dockerd overlay, iptables, raw and packet
 * sockets, cgroups, /dev/fuse, /dev/net/tun), or one `ok`.  (The `ipv6`
 * finding needs a resolver answer: resolver.c gives it.)  Internal to
 * netcheck/.
 *
 * Public API: envcheck_start().
 */
#ifndef AGENT_INIT_ENVCHECK_H
#define AGENT_INIT_ENVCHECK_H

#include <stdbool.h>

void envcheck_start(bool dockerd);

#endif
