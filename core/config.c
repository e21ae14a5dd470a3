/*
 * config — the INI configuration file.  See config.h.
 *
 * inih as Debian builds it has no line numbers in the handler
 * (INI_HANDLER_LINENO=0), so we feed it through our own line reader,
 * which counts lines; the handler reads the count.  The reader also sees
 * every raw line, which lets us check section headers (inih does not call
 * the handler for an empty section) and catch lines longer than inih's
 * fixed 200-byte buffer, which it would otherwise split silently.
 *
 * Parsing happens in two passes: inih's handler checks each key on its
 * own line, then config_validate() checks what needs the whole file
 * (missing commands, `after` names, cycles, two `main` services), with
 * the line of the key that is wrong.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cap-ng.h>
#include <ini.h>

#include "config.h"
#include "values.h"

/*
 * The seccomp policy files are the sandbox's business (supervisor/), a
 * layer above this one: the program registers the sandbox's checker, so
 * that a bad policy is still a FILE:LINE error of the configuration.
 */
static config_policy_check_fn policy_check;

void
config_set_policy_check(config_policy_check_fn fn)
{
	policy_check = fn;
}

struct parse {
	FILE *f;
	const char *path;
	unsigned int line;
	struct config *c;
	struct service_conf *svc; /* the current [service] or NULL */
	struct check_conf *chk; /* the current [check] or NULL */
	bool in_init;
	char *err;
	size_t errcap;
	bool failed;
};

static void __attribute__((format(printf, 4, 5)))
error_line(struct parse *p, unsigned int line, bool force, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	if (p->failed && !force)
		return; /* the first error is the one to fix first */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errcap, "%s:%u: %s", p->path, line, msg);
	p->failed = true;
}

#define error_at(p, ...) error_line((p), (p)->line, false, __VA_ARGS__)

static const char *const check_types[] = {
	"resolver",
	"proxy",
	"tcp",
	"capabilities",
	"egress",
	"environment",
	"clock",
	"tunnel",
};

static bool
valid_name(const char *s)
{
	size_t i;

	if (!*s || strlen(s) >= CONFIG_NAME_MAX)
		return false;
	for (i = 0; s[i]; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

void
config_service_defaults(struct service_conf *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->ready_timeout_ms = 60000;
	s->restart = RESTART_DEFAULT;
	s->backoff_first_ms = 100;
	s->backoff_cap_ms = 30000;
	s->reset_after_ms = 30000;
	s->max_restarts = 10;
	s->restart_window_ms = 300000;
	s->stop_signal = SIGTERM;
	s->stop_timeout_ms = 5000;
	s->umask = -1;
	s->output = OUTPUT_INHERIT;
	s->tail_lines = 50;
	s->kill_group = true;
}

static void
begin_service(struct parse *p, const char *name)
{
	struct config *c = p->c;
	unsigned int i;

	if (!valid_name(name)) {
		error_at(p,
		    "[service %s]: a service name is 1 to %d characters "
		    "of letters, digits, '-', '_' or '.'",
		    name, CONFIG_NAME_MAX - 1);
		return;
	}
	for (i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].name, name) == 0) {
			error_at(p,
			    "duplicate service '%s' (first defined at "
			    "line %u)",
			    name, c->services[i].line);
			return;
		}
	if (c->nservices >= CONFIG_MAX_SERVICES) {
		error_at(p, "too many services (at most %d)",
		    CONFIG_MAX_SERVICES);
		return;
	}
	p->svc = &c->services[c->nservices++];
	config_service_defaults(p->svc, name);
	p->svc->line = p->line;
}

static void
begin_check(struct parse *p, const char *spec)
{
	struct config *c = p->c;
	struct check_conf *k;
	const char *colon = strchr(spec, ':');
	size_t tlen = colon ? (size_t)(colon - spec) : strlen(spec);
	unsigned int i;
	bool known = false;

	for (i = 0; i < sizeof(check_types) / sizeof(check_types[0]); i++)
		if (strlen(check_types[i]) == tlen &&
		    strncmp(check_types[i], spec, tlen) == 0)
			known = true;
	if (!known) {
		error_at(p,
		    "[check %s]: unknown check type (resolver, proxy, tcp, "
		    "capabilities, egress, environment, clock, tunnel)",
		    spec);
		return;
	}
	if (colon && !valid_name(colon + 1)) {
		error_at(p, "[check %s]: bad instance name after ':'", spec);
		return;
	}
	for (i = 0; i < c->nchecks; i++) {
		k = &c->checks_list[i];
		if (strlen(k->type) == tlen &&
		    strncmp(k->type, spec, tlen) == 0 &&
		    strcmp(k->name, colon ? colon + 1 : "") == 0) {
			error_at(p,
			    "duplicate check [check %s] (first at line %u)",
			    spec, k->line);
			return;
		}
	}
	if (c->nchecks >= CONFIG_MAX_CHECKS) {
		error_at(p, "too many checks (at most %d)", CONFIG_MAX_CHECKS);
		return;
	}
	k = &c->checks_list[c->nchecks++];
	memset(k, 0, sizeof(*k));
	snprintf(k->type, sizeof(k->type), "%.*s", (int)tlen, spec);
	snprintf(k->name, sizeof(k->name), "%s", colon ? colon + 1 : "");
	k->line = p->line;
	p->chk = k;
}

/* A section header: which section the following keys belong to. */
static void
check_header(struct parse *p, const char *line)
{
	const char *s = line + strspn(line, " \t"), *end;
	char name[128];
	size_t n;

	if (*s != '[')
		return;
	end = strchr(s, ']');
	if (!end)
		return; /* inih reports it */
	n = (size_t)(end - s - 1);
	if (n >= sizeof(name)) {
		error_at(p, "section name too long");
		return;
	}
	memcpy(name, s + 1, n);
	name[n] = 0;
	p->svc = NULL;
	p->chk = NULL;
	p->in_init = false;
	if (strcmp(name, "init") == 0)
		p->in_init = true;
	else if (strncmp(name, "service ", 8) == 0)
		begin_service(p, name + 8 + strspn(name + 8, " "));
	else if (strncmp(name, "check ", 6) == 0)
		begin_check(p, name + 6 + strspn(name + 6, " "));
	else
		error_at(p,
		    "unknown section [%s] (expected [init], [service NAME] "
		    "or [check TYPE])",
		    name);
}

static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t len;

	if (!fgets(str, num, p->f))
		return NULL;
	p->line++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(p->f)) {
		int c;

		error_at(p, "line longer than %d characters", num - 2);
		/* Skip the rest so that it is not parsed as a line. */
		while ((c = fgetc(p->f)) != EOF && c != '\n')
			;
	}
	check_header(p, str);
	return str;
}

static void
copy_value(struct parse *p, char *dst, size_t cap, const char *key,
    const char *value)
{
	size_t n = strlen(value);

	if (n >= cap) {
		error_at(p, "%s: value longer than %zu characters", key,
		    cap - 1);
		return;
	}
	memcpy(dst, value, n + 1);
}

static void
bad_value(struct parse *p, const char *key, const char *value,
    const char *expected)
{
	error_at(p, "%s: '%s' is not %s", key, value, expected);
}

static void
get_duration(struct parse *p, const char *key, const char *value, uint64_t *ret,
    bool zero_ok)
{
	uint64_t v;

	if (value_duration_ms(value, &v) < 0 || (!zero_ok && v == 0))
		bad_value(p, key, value,
		    zero_ok ? "a duration (e.g. 500ms, 8s, 1m)"
		            : "a positive duration (e.g. 500ms, 8s, 1m)");
	else
		*ret = v;
}

static void
get_bool(struct parse *p, const char *key, const char *value, bool *ret)
{
	if (value_bool(value, ret) < 0)
		bad_value(p, key, value, "a boolean (yes/no)");
}

int
config_parse_checks(const char *s, enum checks_mode *ret)
{
	static const char *const modes[] = {
		[CHECKS_WARN] = "warn",
		[CHECKS_ENFORCE] = "enforce",
		[CHECKS_OFF] = "off",
	};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(s, modes[i]) == 0) {
			*ret = (enum checks_mode)i;
			return 0;
		}
	return -EINVAL;
}

static int
output_mode(const char *v)
{
	if (strcmp(v, "raw") == 0)
		return OUTPUT_RAW;
	if (strcmp(v, "prefix") == 0)
		return OUTPUT_PREFIX;
	if (strcmp(v, "json") == 0)
		return OUTPUT_JSON;
	return -1;
}

/* A path agent-init writes: absolute, or empty to turn it off. */
static void
get_path(struct parse *p, const char *key, const char *value, char *dst,
    size_t cap)
{
	if (*value && *value != '/')
		bad_value(p, key, value, "an absolute path");
	else
		copy_value(p, dst, cap, key, value);
}

static void
init_key(struct parse *p, const char *key, const char *value)
{
	struct config *c = p->c;
	int m;

	if (strcmp(key, "events") == 0) {
		if (!value_events_dest(value))
			bad_value(p, key, value,
			    "stdout, stderr, fd:N or file:PATH");
		else
			copy_value(p, c->events, sizeof(c->events), key, value);
	} else if (strcmp(key, "output") == 0) {
		if ((m = output_mode(value)) < 0)
			bad_value(p, key, value, "raw, prefix or json");
		else
			c->output = (enum output_mode)m;
	} else if (strcmp(key, "ready_file") == 0) {
		get_path(p, key, value, c->ready_file, sizeof(c->ready_file));
	} else if (strcmp(key, "control_socket") == 0) {
		c->control_socket_set = true;
		/* sun_path holds 108 bytes with the NUL. */
		if (strlen(value) > 107)
			error_at(p,
			    "control_socket: path longer than 107 "
			    "characters");
		else
			get_path(p, key, value, c->control_socket,
			    sizeof(c->control_socket));
	} else if (strcmp(key, "termination_log") == 0) {
		get_path(p, key, value, c->termination_log,
		    sizeof(c->termination_log));
	} else if (strcmp(key, "stop_timeout") == 0) {
		get_duration(p, key, value, &c->stop_timeout_ms, false);
		c->stop_timeout_set = true;
	} else if (strcmp(key, "checks") == 0) {
		c->checks_set = true;
		if (config_parse_checks(value, &c->checks) < 0)
			bad_value(p, key, value, "warn, enforce or off");
	} else if (strcmp(key, "check_timeout") == 0) {
		get_duration(p, key, value, &c->check_timeout_ms, false);
	} else {
		error_at(p, "unknown key '%s' in [init]", key);
	}
}

static int
parse_hostport(const char *s, char *host, size_t cap, unsigned int *ret_port)
{
	const char *colon = strrchr(s, ':');
	unsigned long port;
	size_t n;

	if (!colon || colon == s)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (s[0] == '[' && colon[-1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= cap || memchr(s, ' ', n) ||
	    value_uint(colon + 1, 65535, &port) < 0 || port == 0)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = 0;
	*ret_port = (unsigned int)port;
	return 0;
}

static const char *
check_command(const char *s)
{
	char buf[CONFIG_VALUE_MAX * 2];
	char *argv[CONFIG_MAX_WORDS + 1];
	size_t argc;
	const char *msg = NULL;

	if (value_words(s, buf, sizeof(buf), argv, CONFIG_MAX_WORDS + 1, &argc,
	        &msg) < 0)
		return msg ? msg : "cannot be split into words";
	return NULL;
}

const char *
config_probe_parse(const char *s, struct probe_conf *ret)
{
	struct probe_conf pc;
	const char *rest;

	memset(&pc, 0, sizeof(pc));
	if (strcmp(s, "started") == 0) {
		pc.kind = PROBE_STARTED;
	} else if (strcmp(s, "notify") == 0) {
		pc.kind = PROBE_NOTIFY;
	} else if (strncmp(s, "unix-http:", 10) == 0) {
		const char *sep;

		rest = s + 10;
		sep = strstr(rest, ":/");
		if (*rest != '/' || !sep)
			return "expected unix-http:/SOCKET:/PATH";
		if ((size_t)(sep - rest) > 107)
			return "unix socket path longer than 107 characters";
		pc.kind = PROBE_UNIX_HTTP;
		snprintf(pc.target, sizeof(pc.target), "%.*s",
		    (int)(sep - rest), rest);
		snprintf(pc.path, sizeof(pc.path), "%s", sep + 1);
	} else if (strncmp(s, "http:", 5) == 0) {
		char hp[CONFIG_VALUE_MAX];
		const char *slash;

		rest = s + 5;
		while (*rest == '/')
			rest++; /* tolerate http://HOST:PORT/PATH */
		slash = strchr(rest, '/');
		snprintf(hp, sizeof(hp), "%.*s",
		    slash ? (int)(slash - rest) : (int)strlen(rest), rest);
		if (parse_hostport(hp, pc.target, sizeof(pc.target), &pc.port) <
		    0)
			return "expected http:HOST:PORT/PATH";
		pc.kind = PROBE_HTTP;
		snprintf(pc.path, sizeof(pc.path), "%s", slash ? slash : "/");
	} else if (strncmp(s, "tcp:", 4) == 0) {
		if (parse_hostport(s + 4, pc.target, sizeof(pc.target),
		        &pc.port) < 0)
			return "expected tcp:HOST:PORT";
		pc.kind = PROBE_TCP;
	} else if (strncmp(s, "file:", 5) == 0) {
		if (s[5] != '/')
			return "expected file:/ABSOLUTE/PATH";
		pc.kind = PROBE_FILE;
		snprintf(pc.target, sizeof(pc.target), "%s", s + 5);
	} else if (strncmp(s, "log:", 4) == 0) {
		if (!s[4])
			return "expected log:TEXT";
		pc.kind = PROBE_LOG;
		snprintf(pc.target, sizeof(pc.target), "%s", s + 4);
	} else if (strncmp(s, "exec:", 5) == 0) {
		const char *msg = check_command(s + 5);

		if (msg)
			return msg;
		pc.kind = PROBE_EXEC;
		snprintf(pc.target, sizeof(pc.target), "%s", s + 5);
	} else {
		return "not a probe (started, notify, unix-http:SOCK:PATH, "
		       "http:HOST:PORT/PATH, tcp:HOST:PORT, file:PATH, log:TEXT, "
		       "exec:COMMAND)";
	}
	*ret = pc;
	return NULL;
}

static void
get_rlimit(struct parse *p, const char *key, const char *value,
    struct rlimit_conf *r)
{
	if (value_rlimit(value, &r->value) < 0)
		bad_value(p, key, value, "a number or 'infinity'");
	else
		r->set = true;
}

/* capabilities = none | LIST: every name known to libcap-ng. */
static void
get_caps(struct parse *p, const char *key, const char *value, char *dst,
    size_t cap)
{
	char buf[CONFIG_VALUE_MAX], *w, *save = NULL;

	if (strcmp(value, "none") != 0) {
		snprintf(buf, sizeof(buf), "%s", value);
		for (w = strtok_r(buf, " \t,", &save); w;
		     w = strtok_r(NULL, " \t,", &save)) {
			const char *n =
			    strncasecmp(w, "cap_", 4) == 0 ? w + 4 : w;

			if (capng_name_to_capability(n) < 0) {
				error_at(p, "%s: unknown capability '%s'", key,
				    w);
				return;
			}
		}
	}
	copy_value(p, dst, cap, key, value);
}

static void
get_env(struct parse *p, const char *key, const char *value, char *dst,
    size_t cap)
{
	char buf[CONFIG_VALUE_MAX * 2];
	char *argv[CONFIG_MAX_ENV + 1];
	size_t argc, i, nlen;
	const char *msg = NULL;

	if (value_words(value, buf, sizeof(buf), argv, CONFIG_MAX_ENV + 1,
	        &argc, &msg) < 0) {
		error_at(p, "%s: %s", key, msg ? msg : "bad value");
		return;
	}
	for (i = 0; i < argc; i++)
		if (value_env_entry(argv[i], &nlen) < 0) {
			error_at(p, "%s: '%s' is not NAME=VALUE", key, argv[i]);
			return;
		}
	/* Several env lines add up. */
	if (*dst) {
		if (strlen(dst) + 1 + strlen(value) >= cap) {
			error_at(p, "%s: too long altogether", key);
			return;
		}
		size_t used = strlen(dst), vl = strlen(value);

		dst[used] = ' ';
		memcpy(dst + used + 1, value, vl + 1);
	} else
		copy_value(p, dst, cap, key, value);
}

static void
get_after(struct parse *p, struct service_conf *s, const char *value)
{
	char buf[CONFIG_VALUE_MAX], *w, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", value);
	s->after_line = p->line;
	for (w = strtok_r(buf, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		if (s->nafter >= CONFIG_MAX_AFTER) {
			error_at(p, "after: at most %d services",
			    CONFIG_MAX_AFTER);
			return;
		}
		if (!valid_name(w)) {
			bad_value(p, "after", w, "a service name");
			return;
		}
		snprintf(s->after[s->nafter++], CONFIG_NAME_MAX, "%s", w);
	}
}

/* The keys of SPEC section 10, applied between fork and exec. */
static bool
sandbox_key(const char *key)
{
	static const char *const keys[] = { "workdir", "umask", "user", "group",
		"rlimit_nofile", "rlimit_nproc", "rlimit_core", "capabilities",
		"no_new_privs", "seccomp" };
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

static void
service_key(struct parse *p, const char *key, const char *value)
{
	struct service_conf *s = p->svc;
	unsigned long n;
	int m;

	if (sandbox_key(key) && !s->sandbox_line) {
		s->sandbox_line = p->line;
		snprintf(s->sandbox_key, sizeof(s->sandbox_key), "%s", key);
	}

	if (strcmp(key, "command") == 0) {
		copy_value(p, s->command, sizeof(s->command), key, value);
		s->command_line = p->line;
	} else if (strcmp(key, "shell") == 0) {
		get_bool(p, key, value, &s->shell);
	} else if (strcmp(key, "ready") == 0) {
		const char *msg;

		if (s->nready >= CONFIG_MAX_PROBES) {
			error_at(p, "ready: at most %d probes",
			    CONFIG_MAX_PROBES);
			return;
		}
		msg = config_probe_parse(value, &s->ready[s->nready]);
		if (msg)
			error_at(p, "ready: '%s': %s", value, msg);
		else
			s->nready++;
	} else if (strcmp(key, "ready_timeout") == 0) {
		get_duration(p, key, value, &s->ready_timeout_ms, false);
	} else if (strcmp(key, "restart") == 0) {
		if (strcmp(value, "always") == 0)
			s->restart = RESTART_ALWAYS;
		else if (strcmp(value, "on-failure") == 0)
			s->restart = RESTART_ON_FAILURE;
		else if (strcmp(value, "never") == 0)
			s->restart = RESTART_NEVER;
		else
			bad_value(p, key, value, "always, on-failure or never");
	} else if (strcmp(key, "backoff") == 0) {
		if (value_backoff_range(value, &s->backoff_first_ms,
		        &s->backoff_cap_ms) < 0)
			bad_value(p, key, value,
			    "a range FIRST..CAP (e.g. 100ms..30s)");
	} else if (strcmp(key, "reset_after") == 0) {
		get_duration(p, key, value, &s->reset_after_ms, true);
	} else if (strcmp(key, "max_restarts") == 0) {
		if (value_restart_limit(value, &s->max_restarts,
		        &s->restart_window_ms) < 0)
			bad_value(p, key, value, "N/DURATION (e.g. 10/5m)");
	} else if (strcmp(key, "stop_signal") == 0) {
		if (value_signal(value, &s->stop_signal) < 0)
			bad_value(p, key, value, "a signal name (e.g. TERM)");
	} else if (strcmp(key, "signal_map") == 0) {
		if (value_sigmap_parse(value, &s->signal_map) < 0)
			bad_value(p, key, value,
			    "FROM:TO pairs of signals (e.g. TERM:QUIT "
			    "WINCH:0)");
	} else if (strcmp(key, "success_exit_codes") == 0) {
		if (value_codes_parse(value, &s->success_codes) < 0)
			bad_value(p, key, value,
			    "exit codes from 0 to 255 (e.g. 3 143)");
	} else if (strcmp(key, "stop_timeout") == 0) {
		get_duration(p, key, value, &s->stop_timeout_ms, false);
	} else if (strcmp(key, "required") == 0) {
		get_bool(p, key, value, &s->required);
	} else if (strcmp(key, "main") == 0) {
		get_bool(p, key, value, &s->main);
	} else if (strcmp(key, "after") == 0) {
		get_after(p, s, value);
	} else if (strcmp(key, "env") == 0) {
		get_env(p, key, value, s->env, sizeof(s->env));
	} else if (strcmp(key, "env_clear") == 0) {
		get_bool(p, key, value, &s->env_clear);
	} else if (strcmp(key, "workdir") == 0) {
		get_path(p, key, value, s->workdir, sizeof(s->workdir));
	} else if (strcmp(key, "umask") == 0) {
		unsigned int mode;

		if (value_mode(value, &mode) < 0)
			bad_value(p, key, value, "an octal mode (e.g. 022)");
		else
			s->umask = (int)mode;
	} else if (strcmp(key, "user") == 0) {
		if (!*value || strchr(value, ' '))
			bad_value(p, key, value, "a user name or uid");
		else
			copy_value(p, s->user, sizeof(s->user), key, value);
	} else if (strcmp(key, "group") == 0) {
		if (!*value || strchr(value, ' '))
			bad_value(p, key, value, "a group name or gid");
		else
			copy_value(p, s->group, sizeof(s->group), key, value);
	} else if (strcmp(key, "rlimit_nofile") == 0) {
		get_rlimit(p, key, value, &s->rlimit_nofile);
	} else if (strcmp(key, "rlimit_nproc") == 0) {
		get_rlimit(p, key, value, &s->rlimit_nproc);
	} else if (strcmp(key, "rlimit_core") == 0) {
		get_rlimit(p, key, value, &s->rlimit_core);
	} else if (strcmp(key, "output") == 0) {
		if ((m = output_mode(value)) < 0)
			bad_value(p, key, value, "raw, prefix or json");
		else
			s->output = (enum output_mode)m;
	} else if (strcmp(key, "tail_lines") == 0) {
		if (value_uint(value, 1000, &n) < 0)
			bad_value(p, key, value, "a number from 0 to 1000");
		else
			s->tail_lines = (unsigned int)n;
	} else if (strcmp(key, "max_runtime") == 0) {
		get_duration(p, key, value, &s->max_runtime_ms, false);
	} else if (strcmp(key, "kill_group") == 0) {
		get_bool(p, key, value, &s->kill_group);
	} else if (strcmp(key, "capabilities") == 0) {
		get_caps(p, key, value, s->capabilities,
		    sizeof(s->capabilities));
	} else if (strcmp(key, "no_new_privs") == 0) {
		bool b;

		/* b is set only when the value is a boolean. */
		if (value_bool(value, &b) < 0)
			bad_value(p, key, value, "a boolean (yes/no)");
		else
			s->no_new_privs = b ? TRI_YES : TRI_NO;
	} else if (strcmp(key, "seccomp") == 0) {
		char perr[512];

		if (strcmp(value, "default") != 0 &&
		    strcmp(value, "none") != 0 && *value != '/')
			bad_value(p, key, value,
			    "default, none or an absolute FILE path");
		else if (*value == '/' && policy_check &&
		    policy_check(value, perr, sizeof(perr)) < 0)
			/* The policy's own FILE:LINE names the fault; ours
			 * says which key led there. */
			error_at(p, "seccomp: %s", perr);
		else
			copy_value(p, s->seccomp, sizeof(s->seccomp), key,
			    value);
	} else {
		error_at(p, "unknown key '%s' in [service %s]", key, s->name);
	}
}

static bool
check_allows(const char *type, const char *key)
{
	static const struct {
		const char *type, *key;
	} keys[] = {
		{ "resolver", "resolv_conf" },
		{ "resolver", "hosts" },
		{ "resolver", "query" },
		{ "proxy", "connect_probe" },
		{ "tcp", "target" },
		{ "capabilities", "require" },
		{ "egress", "direct" },
		{ "tunnel", "target" },
		{ "tunnel", "hold" },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].type, type) == 0 &&
		    strcmp(keys[i].key, key) == 0)
			return true;
	return false;
}

static void
check_key(struct parse *p, const char *key, const char *value)
{
	struct check_conf *k = p->chk;
	char host[CONFIG_VALUE_MAX];
	unsigned int port;

	if (strcmp(key, "timeout") == 0) {
		get_duration(p, key, value, &k->timeout_ms, false);
		return;
	}
	if (strcmp(key, "required") == 0) {
		get_bool(p, key, value, &k->required);
		return;
	}
	if (!check_allows(k->type, key)) {
		error_at(p, "unknown key '%s' in [check %s%s%s]", key, k->type,
		    *k->name ? ":" : "", k->name);
		return;
	}
	if (strcmp(key, "resolv_conf") == 0)
		get_path(p, key, value, k->resolv_conf, sizeof(k->resolv_conf));
	else if (strcmp(key, "hosts") == 0)
		get_path(p, key, value, k->hosts, sizeof(k->hosts));
	else if (strcmp(key, "query") == 0)
		copy_value(p, k->query, sizeof(k->query), key, value);
	else if (strcmp(key, "require") == 0)
		get_caps(p, key, value, k->require, sizeof(k->require));
	else if (strcmp(key, "hold") == 0)
		get_duration(p, key, value, &k->hold_ms, false);
	else if (parse_hostport(value, host, sizeof(host), &port) < 0)
		bad_value(p, key, value, "HOST:PORT");
	else
		copy_value(p, k->target, sizeof(k->target), key, value);
}

/* inih's handler: nonzero means success. */
static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;

	(void)section;
	if (p->failed)
		return 0;
	if (p->in_init)
		init_key(p, key, value);
	else if (p->svc)
		service_key(p, key, value);
	else if (p->chk)
		check_key(p, key, value);
	else
		error_at(p, "'%s' is outside of any section", key);
	return !p->failed;
}

/* Depth-first search for a cycle through `after`; 1 = on the path. */
static int
visit(const struct config *c, unsigned int i, unsigned char *mark,
    unsigned int *ret_at)
{
	const struct service_conf *s = &c->services[i];
	unsigned int a, j;

	if (mark[i] == 1) {
		*ret_at = i;
		return -1;
	}
	if (mark[i] == 2)
		return 0;
	mark[i] = 1;
	for (a = 0; a < s->nafter; a++)
		for (j = 0; j < c->nservices; j++)
			if (strcmp(c->services[j].name, s->after[a]) == 0 &&
			    visit(c, j, mark, ret_at) < 0)
				return -1;
	mark[i] = 2;
	return 0;
}

int
config_validate(struct config *c, const char *path, char *err, size_t errcap)
{
	struct parse p;
	unsigned char mark[CONFIG_MAX_SERVICES];
	const struct service_conf *main_svc = NULL;
	unsigned int i, a, at;

	memset(&p, 0, sizeof(p));
	p.path = path;
	p.err = err;
	p.errcap = errcap;
	for (i = 0; i < c->nservices && !p.failed; i++) {
		struct service_conf *s = &c->services[i];
		const char *msg;

		if (!*s->command) {
			error_line(&p, s->line, false,
			    "[service %s] has no command", s->name);
			break;
		}
		if (!s->shell && (msg = check_command(s->command))) {
			error_line(&p, s->command_line, false, "command: %s",
			    msg);
			break;
		}
		if (s->main && main_svc) {
			error_line(&p, s->line, false,
			    "[service %s]: a second main service (%s, line "
			    "%u, is one already)",
			    s->name, main_svc->name, main_svc->line);
			break;
		}
		if (s->main)
			main_svc = s;
		for (a = 0; a < s->nafter; a++) {
			if (strcmp(s->after[a], s->name) == 0) {
				error_line(&p, s->after_line, false,
				    "after: service '%s' cannot wait for "
				    "itself",
				    s->name);
				break;
			}
			if (!config_service(c, s->after[a])) {
				error_line(&p, s->after_line, false,
				    "after: no service named '%s'",
				    s->after[a]);
				break;
			}
		}
	}
	if (p.failed)
		return -EINVAL;
	memset(mark, 0, sizeof(mark));
	for (i = 0; i < c->nservices; i++)
		if (visit(c, i, mark, &at) < 0) {
			error_line(&p, c->services[at].after_line, false,
			    "after: dependency cycle through service '%s'",
			    c->services[at].name);
			return -EINVAL;
		}
	for (i = 0; i < c->nchecks; i++) {
		const struct check_conf *k = &c->checks_list[i];

		if ((strcmp(k->type, "tcp") == 0 ||
		        strcmp(k->type, "tunnel") == 0) &&
		    !*k->target) {
			error_line(&p, k->line, false,
			    "[check %s%s%s] needs target = HOST:PORT", k->type,
			    *k->name ? ":" : "", k->name);
			return -EINVAL;
		}
	}
	return 0;
}

const struct service_conf *
config_service(const struct config *c, const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nservices; i++)
		if (strcmp(c->services[i].name, name) == 0)
			return &c->services[i];
	return NULL;
}

int
config_load(const char *path, struct config *ret, char *err, size_t errcap)
{
	struct parse p;
	int r;

	memset(ret, 0, sizeof(*ret));
	memset(&p, 0, sizeof(p));
	ret->output = OUTPUT_INHERIT;
	ret->check_timeout_ms = 2000;
	ret->stop_timeout_ms = 8000;
	p.path = path;
	p.c = ret;
	p.err = err;
	p.errcap = errcap;
	p.f = fopen(path, "re");
	if (!p.f) {
		r = -errno;
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		return r;
	}
	r = ini_parse_stream(reader, &p, handler, &p);
	(void)fclose(p.f);
	if (!p.failed && r > 0)
		error_line(&p, (unsigned int)r, false,
		    "syntax error (expected [section], key = value "
		    "or a comment)");
	if (p.failed)
		return -EINVAL;
	return config_validate(ret, path, err, errcap);
}
