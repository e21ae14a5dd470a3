/*
 * svcenv — the environment a service is started with.  See svcenv.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svcenv.h"
#include "values.h"

extern char **environ;

/* WATCHDOG_PID's value: room for any pid (the child writes it). */
#define PID_ROOM 12

/*
 * Ours, from whoever runs us (systemd, podman --sdnotify): never a
 * service's.  A service that inherited WATCHDOG_USEC would take our
 * supervisor's watchdog for its own.
 */
static bool
ours_only(const char *e)
{
	return strncmp(e, "NOTIFY_SOCKET=", 14) == 0 ||
	    strncmp(e, "WATCHDOG_USEC=", 14) == 0 ||
	    strncmp(e, "WATCHDOG_PID=", 13) == 0 ||
	    strncmp(e, "AGENT_INIT_", 11) == 0;
}

/* A string of environ itself, not one of our copies. */
static bool
from_environ(const char *p)
{
	size_t i;

	for (i = 0; environ[i]; i++)
		if (environ[i] == p)
			return true;
	return false;
}

/* Add a copy of NAME=VALUE, replacing an entry of the same name. */
static int
put(char **env, size_t *n, const char *word)
{
	size_t nl, i;
	char *w = strdup(word);

	if (!w)
		return -ENOMEM;
	if (value_env_entry(w, &nl) < 0) {
		free(w); /* config.c checked every entry: cannot happen */
		return 0;
	}
	for (i = 0; i < *n; i++)
		if (strncmp(env[i], w, nl + 1) == 0)
			break;
	if (i < *n && !from_environ(env[i]))
		free(env[i]);
	env[i] = w;
	if (i == *n)
		(*n)++;
	return 0;
}

bool
svcenv_wants_notify(const struct service_conf *c)
{
	unsigned int i;

	if (c && c->watchdog_ms)
		return true;
	for (i = 0; c && i < c->nready; i++)
		if (c->ready[i].kind == PROBE_NOTIFY)
			return true;
	return false;
}

/* How many words the `env` lines of c hold at most: what env needs. */
static size_t
count_words(const struct service_conf *c)
{
	size_t n = 0;
	unsigned int i;

	for (i = 0; c && i < c->nenv; i++)
		n += strlen(c->env[i]) / 2 + 1;
	return n;
}

/*
 * The watchdog's variables (sd_watchdog_enabled(3)), last, after the
 * `env` words, so that they win: WATCHDOG_USEC, and WATCHDOG_PID, whose
 * value the child writes (its pid is known only there), so that a
 * process the service starts, which inherits the environment, does not
 * take the watchdog for its own.
 */
static int
put_watchdog(const struct service_conf *c, char **env, size_t *n)
{
	char w[40];
	char *slot;
	size_t i;
	int r;

	snprintf(w, sizeof(w), "WATCHDOG_USEC=%llu",
	    (unsigned long long)c->watchdog_ms * 1000);
	if ((r = put(env, n, w)) < 0 || (r = put(env, n, "WATCHDOG_PID=0")) < 0)
		return r;
	/* put() replaced or appended it (a copy: ours_only() kept environ's
	 * out): move it to the end, with room. */
	for (i = 0; i < *n; i++)
		if (strncmp(env[i], "WATCHDOG_PID=", 13) == 0) {
			slot = realloc(env[i], 13 + PID_ROOM);
			if (!slot)
				return -ENOMEM;
			env[i] = env[*n - 1];
			env[*n - 1] = slot;
			break;
		}
	return 0;
}

char *
svcenv_pid_slot(const struct service_conf *conf, char **envp)
{
	size_t n;

	if (!conf || !conf->watchdog_ms || !envp)
		return NULL;
	for (n = 0; envp[n]; n++)
		;
	if (n == 0 || strncmp(envp[n - 1], "WATCHDOG_PID=", 13) != 0)
		return NULL;
	return envp[n - 1] + 13;
}

/* The `env` words of conf into env (after what is there), every line in
 * order: a later one wins over an earlier one of the same name. */
static int
put_words(const struct service_conf *c, char **env, size_t *n)
{
	char **words;
	size_t nwords, j;
	unsigned int i;
	int r = 0;

	for (i = 0; c && i < c->nenv && r == 0; i++) {
		/* config.c checked the quoting: only ENOMEM can fail. */
		if ((r = value_words_alloc(c->env[i], &words, &nwords, NULL)) <
		    0)
			break;
		for (j = 0; j < nwords && r == 0; j++)
			r = put(env, n, words[j]);
		free(words);
	}
	return r;
}

int
svcenv_build(const struct service_conf *conf, const char *notify_addr,
    char ***ret_envp)
{
	size_t cap, n = 0, i;
	char **env;
	int r;

	for (cap = 0; environ[cap]; cap++)
		;
	/* env words, NOTIFY_SOCKET, WATCHDOG_USEC and _PID, the NULL */
	cap += count_words(conf) + 4;
	env = calloc(cap, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (i = 0; !(conf && conf->env_clear) && environ[i]; i++)
		if (!ours_only(environ[i]))
			env[n++] = environ[i];
	r = put_words(conf, env, &n);
	if (r == 0 && notify_addr && *notify_addr &&
	    svcenv_wants_notify(conf)) {
		char *w = malloc(strlen(notify_addr) + 15);

		if (w) {
			sprintf(w, "NOTIFY_SOCKET=%s", notify_addr);
			env[n++] = w;
		} else
			r = -ENOMEM;
	}
	if (r == 0 && conf && conf->watchdog_ms)
		r = put_watchdog(conf, env, &n);
	env[n] = NULL;
	if (r < 0) {
		svcenv_free(env);
		return r;
	}
	*ret_envp = env;
	return 0;
}

void
svcenv_free(char **envp)
{
	size_t i;

	if (!envp)
		return;
	for (i = 0; envp[i]; i++)
		if (!from_environ(envp[i]))
			free(envp[i]);
	free(envp);
}
