/*
 * args — the command line and its AGENT_INIT_* environment equivalents
 * (SPEC section 2).  Pure: the environment comes in through a lookup
 * function, errors go out as one line in a buffer; the caller prints it
 * and exits 64.
 *
 * Precedence: command line, then AGENT_INIT_* environment, then tini's
 * own variables (TINI_SUBREAPER, TINI_KILL_PROCESS_GROUP, TINI_VERBOSITY),
 * then defaults.  tini's and dumb-init's flags that make sense here are
 * accepted too: -s (a no-op: we are always a subreaper), -e CODE, -p SIGNAL,
 * -w, -r FROM:TO, --single-child (a no-op: it is the default).
 *
 * Public API: args_parse().
 */
#ifndef AGENT_INIT_ARGS_H
#define AGENT_INIT_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "values.h"

enum args_mode {
	ARGS_RUN,
	ARGS_HELP,
	ARGS_VERSION,
	ARGS_SUBCOMMAND,
	ARGS_MODE_MAX
};

#define ARGS_DEFAULT_STOP_TIMEOUT_MS 8000

struct args {
	enum args_mode mode;
	const char *subcommand;
	char **sub_argv;
	int sub_argc;
	const char *config;
	bool dockerd;
	const char *events;
	const char *output;
	bool no_checks;
	bool group;
	uint64_t stop_timeout_ms;
	bool stop_timeout_set;
	unsigned int verbose;
	/* -e CODE (tini): the main service's status CODE becomes 0. */
	struct value_codes remap_exit;
	/* -r FROM:TO (dumb-init): the main service's default signal_map. */
	struct value_sigmap rewrite;
	/* -p SIGNAL (tini): PR_SET_PDEATHSIG; 0: none. */
	int pdeathsig;
	char **cmd;
};

typedef const char *(*args_getenv)(const char *name);

int args_parse(int argc, char **argv, args_getenv env, struct args *ret,
    char *err, size_t errcap);

#endif
