/*
 * args — the command line.  See args.h.
 *
 * Options end at the first word that is not an option, or at "--": what
 * follows is the command, untouched, so that `agent-init ls -l` runs
 * `ls -l` (as with tini).  Options take their value as the next word or
 * after "=" (--events=stderr).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "values.h"

enum opt_id {
	OPT_CONFIG,
	OPT_DOCKERD,
	OPT_EVENTS,
	OPT_OUTPUT,
	OPT_NO_CHECKS,
	OPT_GROUP,
	OPT_STOP_TIMEOUT,
	OPT_VERBOSE,
	OPT_REMAP_EXIT,
	OPT_REWRITE,
	OPT_PDEATHSIG,
	OPT_SUBREAPER,
	OPT_WARN_REAP,
	OPT_SINGLE_CHILD,
	OPT_HELP,
	OPT_VERSION,
	OPT_MAX
};

static const struct opt {
	enum opt_id id;
	char short_name;
	const char *long_name;
	const char *env;
	bool takes_value;
} opts[] = {
	{ OPT_CONFIG, 'c', "config", "AGENT_INIT_CONFIG", true },
	{ OPT_DOCKERD, 0, "dockerd", "AGENT_INIT_DOCKERD", false },
	{ OPT_EVENTS, 0, "events", "AGENT_INIT_EVENTS", true },
	{ OPT_OUTPUT, 0, "output", "AGENT_INIT_OUTPUT", true },
	{ OPT_NO_CHECKS, 0, "no-checks", "AGENT_INIT_NO_CHECKS", false },
	{ OPT_GROUP, 'g', "group", "AGENT_INIT_GROUP", false },
	{ OPT_STOP_TIMEOUT, 0, "stop-timeout", "AGENT_INIT_STOP_TIMEOUT",
	    true },
	{ OPT_VERBOSE, 'v', "verbose", "AGENT_INIT_VERBOSE", false },
	{ OPT_REMAP_EXIT, 'e', "remap-exit", "AGENT_INIT_REMAP_EXIT", true },
	{ OPT_REWRITE, 'r', "rewrite", "AGENT_INIT_REWRITE", true },
	{ OPT_PDEATHSIG, 'p', "pdeathsig", "AGENT_INIT_PDEATHSIG", true },
	/* tini's -s and dumb-init's --single-child: what we do anyway. */
	{ OPT_SUBREAPER, 's', "subreaper", NULL, false },
	{ OPT_WARN_REAP, 'w', "warn-reap", NULL, false },
	{ OPT_SINGLE_CHILD, 0, "single-child", NULL, false },
	{ OPT_HELP, 'h', "help", NULL, false },
	{ OPT_VERSION, 'V', "version", NULL, false },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const char *const subcommands[] = {
	"netcheck",
	"status",
	"wait-ready",
	"check-config",
	"ctl",
};

static int __attribute__((format(printf, 3, 4)))
arg_error(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * The options taken from tini and dumb-init.  A list (several codes, several
 * FROM:TO pairs) is accepted where one is: AGENT_INIT_REWRITE="15:3 2:0".
 */
static int
apply_compat(struct args *a, enum opt_id id, const char *val, const char *from,
    char *err, size_t cap)
{
	struct value_sigmap m;
	struct value_codes c;
	size_t i;

	switch (id) {
	case OPT_REMAP_EXIT:
		if (value_codes_parse(val, &c) < 0)
			return arg_error(err, cap,
			    "%s: '%s' is not an exit code from 0 to 255", from,
			    val);
		for (i = 0; i < sizeof(c.bits) / sizeof(c.bits[0]); i++)
			a->remap_exit.bits[i] |= c.bits[i];
		return 0;
	case OPT_REWRITE:
		if (value_sigmap_parse(val, &m) < 0)
			return arg_error(err, cap,
			    "%s: '%s' is not FROM:TO, two signals (TO may be "
			    "0: drop it; FROM not KILL or STOP)",
			    from, val);
		value_sigmap_merge(&a->rewrite, &m);
		return 0;
	case OPT_PDEATHSIG:
		if (value_signal(val, &a->pdeathsig) < 0)
			return arg_error(err, cap,
			    "%s: '%s' is not a signal (e.g. SIGTERM)", from,
			    val);
		return 0;
	default:
		return 0;
	}
}

/* Apply one option; `from` names where it came from, for the error. */
static int
apply(struct args *a, const struct opt *o, const char *val, bool is_env,
    const char *from, char *err, size_t cap)
{
	bool b = true;

	if (!o->takes_value && is_env && value_bool(val, &b) < 0) {
		/* AGENT_INIT_VERBOSE may also be a count. */
		unsigned long n;

		if (o->id != OPT_VERBOSE || value_uint(val, 16, &n) < 0)
			return arg_error(err, cap, "%s: not a boolean: '%s'",
			    from, val);
		a->verbose = (unsigned int)n;
		return 0;
	}
	switch (o->id) {
	case OPT_CONFIG:
		a->config = val;
		break;
	case OPT_DOCKERD:
		a->dockerd = b;
		break;
	case OPT_EVENTS:
		if (!value_events_dest(val))
			return arg_error(err, cap,
			    "%s: '%s' is not stdout, stderr, fd:N or file:PATH",
			    from, val);
		a->events = val;
		break;
	case OPT_OUTPUT:
		if (strcmp(val, "raw") != 0 && strcmp(val, "prefix") != 0 &&
		    strcmp(val, "json") != 0)
			return arg_error(err, cap,
			    "%s: '%s' is not raw, prefix or json", from, val);
		a->output = val;
		break;
	case OPT_NO_CHECKS:
		a->no_checks = b;
		break;
	case OPT_GROUP:
		a->group = b;
		break;
	case OPT_STOP_TIMEOUT:
		if (value_duration_ms(val, &a->stop_timeout_ms) < 0)
			return arg_error(err, cap,
			    "%s: '%s' is not a duration (e.g. 500ms, 8s, 1m)",
			    from, val);
		a->stop_timeout_set = true;
		break;
	case OPT_VERBOSE:
		if (is_env)
			a->verbose = b ? 1 : 0;
		else
			a->verbose++;
		break;
	case OPT_REMAP_EXIT:
	case OPT_REWRITE:
	case OPT_PDEATHSIG:
		return apply_compat(a, o->id, val, from, err, cap);
	case OPT_WARN_REAP:
		if (a->verbose == 0)
			a->verbose = 1;
		break;
	case OPT_SUBREAPER:
	case OPT_SINGLE_CHILD:
		break;
	case OPT_HELP:
		a->mode = ARGS_HELP;
		break;
	case OPT_VERSION:
		a->mode = ARGS_VERSION;
		break;
	default:
		break;
	}
	return 0;
}

static const struct opt *
find_long(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strlen(opts[i].long_name) == len &&
		    strncmp(opts[i].long_name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt *
find_short(char c)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

/* --name, --name=value, --name value.  Returns words consumed or -EINVAL. */
static int
parse_long(struct args *a, int argc, char **argv, int i, char *err, size_t cap)
{
	const char *name = argv[i] + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct opt *o = find_long(name, len);
	const char *val = eq ? eq + 1 : NULL;
	char from[80];

	if (!o)
		return arg_error(err, cap,
		    "unknown option '%s' (see agent-init --help)", argv[i]);
	snprintf(from, sizeof(from), "--%s", o->long_name);
	if (!o->takes_value) {
		if (eq)
			return arg_error(err, cap, "%s takes no value", from);
		return apply(a, o, NULL, false, from, err, cap) < 0 ? -EINVAL
		                                                    : 1;
	}
	if (!val) {
		if (i + 1 >= argc)
			return arg_error(err, cap, "%s needs a value", from);
		val = argv[i + 1];
	}
	if (apply(a, o, val, false, from, err, cap) < 0)
		return -EINVAL;
	return eq ? 1 : 2;
}

/* -g, -vv, -gv, -c FILE, -cFILE. */
static int
parse_short(struct args *a, int argc, char **argv, int i, char *err, size_t cap)
{
	const char *p;

	for (p = argv[i] + 1; *p; p++) {
		const struct opt *o = find_short(*p);
		char from[4] = { '-', *p, 0, 0 };

		if (!o)
			return arg_error(err, cap,
			    "unknown option '%s' (see agent-init --help)",
			    from);
		if (!o->takes_value) {
			if (apply(a, o, NULL, false, from, err, cap) < 0)
				return -EINVAL;
			continue;
		}
		if (p[1])
			return apply(a, o, p + 1, false, from, err, cap) < 0
			    ? -EINVAL
			    : 1;
		if (i + 1 >= argc)
			return arg_error(err, cap, "%s needs a value", from);
		return apply(a, o, argv[i + 1], false, from, err, cap) < 0
		    ? -EINVAL
		    : 2;
	}
	return 1;
}

/*
 * tini's variables, below our own: TINI_SUBREAPER (we always are one when
 * not PID 1) and TINI_KILL_PROCESS_GROUP count when set at all, even
 * empty, as tini reads them; TINI_VERBOSITY 2 and 3 (info, debug) are our
 * -v and -vv, 0 and 1 (tini's default) our default.
 */
static int
apply_tini_env(struct args *a, args_getenv env, char *err, size_t cap)
{
	const char *v;
	unsigned long n;

	if (env("TINI_KILL_PROCESS_GROUP"))
		a->group = true;
	if ((v = env("TINI_VERBOSITY"))) {
		if (value_uint(v, 16, &n) < 0)
			return arg_error(err, cap,
			    "TINI_VERBOSITY: not a number from 0 to 16: '%s'",
			    v);
		a->verbose = n > 1 ? (unsigned int)n - 1 : 0;
	}
	return 0;
}

static int
apply_env(struct args *a, args_getenv env, char *err, size_t cap)
{
	size_t i;

	for (i = 0; i < NOPTS; i++) {
		const char *v;

		if (!opts[i].env || !(v = env(opts[i].env)) || !*v)
			continue;
		if (apply(a, &opts[i], v, true, opts[i].env, err, cap) < 0)
			return -EINVAL;
	}
	return 0;
}

int
args_parse(int argc, char **argv, args_getenv env, struct args *ret, char *err,
    size_t errcap)
{
	struct args a;
	size_t k;
	int i = 1, n;

	memset(&a, 0, sizeof(a));
	a.stop_timeout_ms = ARGS_DEFAULT_STOP_TIMEOUT_MS;
	err[0] = 0;
	if (env &&
	    (apply_tini_env(&a, env, err, errcap) < 0 ||
	        apply_env(&a, env, err, errcap) < 0))
		return -EINVAL;

	if (argc > 1) {
		for (k = 0; k < sizeof(subcommands) / sizeof(subcommands[0]);
		     k++) {
			if (strcmp(argv[1], subcommands[k]) == 0) {
				a.mode = ARGS_SUBCOMMAND;
				a.subcommand = argv[1];
				a.sub_argv = argv + 2;
				a.sub_argc = argc - 2;
				*ret = a;
				return 0;
			}
		}
		if (strcmp(argv[1], "version") == 0 ||
		    strcmp(argv[1], "help") == 0) {
			a.mode = argv[1][0] == 'v' ? ARGS_VERSION : ARGS_HELP;
			*ret = a;
			return 0;
		}
	}

	while (i < argc) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (w[0] != '-' || w[1] == 0)
			break;
		n = w[1] == '-' ? parse_long(&a, argc, argv, i, err, errcap)
		                : parse_short(&a, argc, argv, i, err, errcap);
		if (n < 0)
			return -EINVAL;
		i += n;
	}
	if (a.mode == ARGS_HELP || a.mode == ARGS_VERSION) {
		*ret = a;
		return 0;
	}
	/*
	 * No command is fine here: the services may come from -c, from
	 * --dockerd, or from the default file, whose existence main.c checks
	 * (this parser makes no syscalls).
	 */
	if (i < argc)
		a.cmd = argv + i;
	if (a.stop_timeout_ms == 0) {
		snprintf(err, errcap, "--stop-timeout must be more than 0");
		return -EINVAL;
	}
	*ret = a;
	return 0;
}
