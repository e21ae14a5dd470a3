/*
 * svcenv — the environment a service is started with.
 *
 * Ours, without what belongs to agent-init (NOTIFY_SOCKET, AGENT_INIT_*),
 * or nothing with env_clear; then the service's `env` words (an `env`
 * entry wins over an inherited variable of the same name); then its own
 * NOTIFY_SOCKET when it has a notify probe.
 *
 * The array points into environ for what is inherited and owns copies of
 * the rest; svcenv_free() frees exactly those copies.
 *
 * Public API: svcenv_build(), svcenv_free().
 */
#ifndef AGENT_INIT_SVCENV_H
#define AGENT_INIT_SVCENV_H

#include "config.h"

/*
 * Build the environment for conf (NULL: a lone command, our own
 * environment) with notify_addr ("" or NULL: none) into *ret_envp; 0 or
 * -ENOMEM.
 */
int svcenv_build(const struct service_conf *conf, const char *notify_addr,
    char ***ret_envp);
/* Free an array from svcenv_build(); NULL is fine. */
void svcenv_free(char **envp);

#endif
