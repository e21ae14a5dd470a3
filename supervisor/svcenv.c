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

static bool
ours_only(const char *e)
{
	return strncmp(e, "NOTIFY_SOCKET=", 14) == 0 ||
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

static bool
wants_notify(const struct service_conf *c)
{
	unsigned int i;

	for (i = 0; c && i < c->nready; i++)
		if (c->ready[i].kind == PROBE_NOTIFY)
			return true;
	return false;
}

/* The `env` words of conf into env (after what is there). */
static int
put_words(const struct service_conf *c, char **env, size_t *n)
{
	char wbuf[CONFIG_VALUE_MAX * 2];
	char *words[CONFIG_MAX_ENV + 1];
	size_t nwords = 0, j;
	const char *msg;
	int r;

	if (!c || !*c->env ||
	    value_words(c->env, wbuf, sizeof(wbuf), words, CONFIG_MAX_ENV + 1,
	        &nwords, &msg) < 0)
		return 0;
	for (j = 0; j < nwords; j++)
		if ((r = put(env, n, words[j])) < 0)
			return r;
	return 0;
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
	cap += CONFIG_MAX_ENV + 2;
	env = calloc(cap, sizeof(*env));
	if (!env)
		return -ENOMEM;
	for (i = 0; !(conf && conf->env_clear) && environ[i]; i++)
		if (!ours_only(environ[i]))
			env[n++] = environ[i];
	r = put_words(conf, env, &n);
	if (r == 0 && notify_addr && *notify_addr && wants_notify(conf)) {
		char *w = malloc(strlen(notify_addr) + 15);

		if (w) {
			sprintf(w, "NOTIFY_SOCKET=%s", notify_addr);
			env[n++] = w;
		} else
			r = -ENOMEM;
	}
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
