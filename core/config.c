/*
 * config — the INI configuration file.  See config.h.
 *
 * The file is read whole through core/file.c (an operator's path: FIFOs
 * and /dev/stdin allowed, with a size cap and a deadline) and fed to inih
 * through our own line reader, which counts lines (inih is built with
 * INI_HANDLER_LINENO=0; the handler reads our count) and sees every raw
 * line first.  That lets it do what inih does not: check section headers
 * (inih does not call the handler for an empty section), refuse a second
 * [init], skip a UTF-8 BOM before the first header is looked at, refuse
 * an indented line after a key (Python's configparser and inih's
 * multi-line mode would take it for a continuation of the value; inih is
 * built without that mode, so it would quietly become a key of its own),
 * and refuse a line longer than inih's buffer instead of cutting it.
 *
 * Strings are copied into an arena owned by the config (a list of blocks
 * that never move), so a value can be as long as a line and costs what it
 * is long; the services are an array that grows while the file is read.
 *
 * Parsing happens in two passes: inih's handler checks each key on its
 * own line (and that a single-valued key is not given twice in its
 * section), then config_validate() checks what needs the whole file
 * (missing commands, `after` names, cycles, two `main` services, a `log:`
 * probe on raw output), with the line of the key that is wrong.
 *
 * A new key: a branch in init_key(), service_key() or check_key(); if it
 * may be given more than once, its name in repeatable().
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cap-ng.h>
#include <ini.h>

#include "config.h"
#include "file.h"
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

/* A key seen in the current section: a second one is an error. */
struct seen_key {
	char name[32];
	unsigned int line;
};

#define SEEN_MAX 64

struct parse {
	const char *data; /* the whole file */
	size_t len, pos;
	const char *path;
	unsigned int line;
	struct config *c;
	int svc; /* index of the current [service], or -1 */
	struct check_conf *chk; /* the current [check] or NULL */
	bool in_init;
	unsigned int init_line; /* of the first [init], or 0 */
	struct seen_key seen[SEEN_MAX];
	unsigned int nseen;
	struct seen_key last; /* the last key of the section */
	char *err;
	size_t errcap;
	bool failed;
};

/* Block of the string arena; blocks never move once made. */
struct config_arena {
	struct config_arena *next;
	size_t used, cap;
	char data[];
};

#define ARENA_BLOCK 4096

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

static void *
arena_alloc(struct config *c, size_t n)
{
	struct config_arena *a = c->arena;
	void *r;

	/* Keep what we hand out aligned for the pointer arrays. */
	n = (n + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
	if (!a || a->cap - a->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		a = malloc(sizeof(*a) + cap);
		if (!a)
			return NULL;
		a->used = 0;
		a->cap = cap;
		a->next = c->arena;
		c->arena = a;
	}
	r = a->data + a->used;
	a->used += n;
	return r;
}

/* A copy of value in the arena; NULL (with the error set) without memory. */
static const char *
save(struct parse *p, const char *value)
{
	size_t n = strlen(value) + 1;
	char *d = arena_alloc(p->c, n);

	if (!d) {
		error_at(p, "out of memory");
		return NULL;
	}
	memcpy(d, value, n);
	return d;
}

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
	s->crashloop_limit = 3;
	s->kill_group = true;
	s->command = s->workdir = s->capabilities = s->seccomp = "";
	s->check_wait_ms = 60000;
	s->health_interval_ms = 10000;
	s->health_timeout_ms = 5000;
	s->health_failures = 3;
	s->on_unhealthy = UNHEALTHY_RESTART;
}

/* One more service in the array, which grows as the file is read. */
static struct service_conf *
add_service(struct parse *p)
{
	struct config *c = p->c;

	if (c->nservices == c->services_cap) {
		unsigned int cap = c->services_cap ? c->services_cap * 2 : 8;
		struct service_conf *n = realloc(c->services, cap * sizeof(*n));

		if (!n) {
			error_at(p, "out of memory");
			return NULL;
		}
		c->services = n;
		c->services_cap = cap;
	}
	return &c->services[c->nservices++];
}

static void
begin_service(struct parse *p, const char *name)
{
	struct config *c = p->c;
	struct service_conf *s;
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
	if (!(s = add_service(p)))
		return;
	config_service_defaults(s, name);
	s->line = p->line;
	p->svc = (int)(c->nservices - 1);
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
	k->resolv_conf = k->hosts = k->query = k->target = k->require = "";
	snprintf(k->type, sizeof(k->type), "%.*s", (int)tlen, spec);
	snprintf(k->name, sizeof(k->name), "%s", colon ? colon + 1 : "");
	k->line = p->line;
	p->chk = k;
}

static void
begin_init(struct parse *p)
{
	if (p->init_line) {
		error_at(p,
		    "a second [init] section (the first is at %s:%u): "
		    "give each key once, in one [init]",
		    p->path, p->init_line);
		return;
	}
	p->init_line = p->line;
	p->in_init = true;
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
	p->svc = -1;
	p->chk = NULL;
	p->in_init = false;
	p->nseen = 0;
	if (strcmp(name, "init") == 0)
		begin_init(p);
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

/*
 * An indented line after a key of the same section: other INI parsers
 * (Python's configparser, inih's multi-line mode) append it to the value
 * of that key, ours would take it for a key of its own.  Either reading
 * could be what the author meant, so it is an error, not a guess.
 */
static void
check_indent(struct parse *p, const char *line)
{
	const char *s = line + strspn(line, " \t");

	if (s == line || !*s || *s == '\n' || *s == '\r' || *s == ';' ||
	    *s == '#' || *s == '[' || p->nseen == 0)
		return;
	error_at(p,
	    "an indented line after '%s' (line %u): continuation lines are "
	    "not supported; write the value on one line, and each key at "
	    "the start of its line",
	    p->last.name, p->last.line);
}

/*
 * inih's reader: the next line of the file into str (num bytes, the line
 * buffer inih was built with).  A line too long for it, or with a NUL in
 * it, is an error and reaches inih as an empty line, never cut in two.
 */
static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *s = p->data + p->pos, *nl;
	size_t n, content;

	if (p->pos >= p->len)
		return NULL;
	nl = memchr(s, '\n', p->len - p->pos);
	content = nl ? (size_t)(nl - s) : p->len - p->pos;
	n = content + (nl ? 1 : 0);
	p->pos += n;
	p->line++;
	if (p->line == 1 && content >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		/* A UTF-8 byte order mark, as some editors write. */
		s += 3;
		n -= 3;
		content -= 3;
	}
	if (content > CONFIG_LINE_MAX || n + 1 > (size_t)num) {
		error_at(p, "line longer than %d characters",
		    CONFIG_LINE_MAX < num - 3 ? CONFIG_LINE_MAX : num - 3);
		n = 0;
	} else if (memchr(s, 0, content)) {
		error_at(p, "a NUL byte in the line");
		n = 0;
	}
	memcpy(str, s, n);
	str[n] = 0;
	check_header(p, str);
	check_indent(p, str);
	return str;
}

/* A short value into a fixed buffer (a user or group name). */
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

/* A string value into the arena. */
static void
get_str(struct parse *p, const char **dst, const char *value)
{
	const char *v = save(p, value);

	if (v)
		*dst = v;
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
get_path(struct parse *p, const char *key, const char *value, const char **dst)
{
	if (*value && *value != '/')
		bad_value(p, key, value, "an absolute path");
	else
		get_str(p, dst, value);
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
			get_str(p, &c->events, value);
	} else if (strcmp(key, "output") == 0) {
		if ((m = output_mode(value)) < 0)
			bad_value(p, key, value, "raw, prefix or json");
		else
			c->output = (enum output_mode)m;
		c->output_line = p->line;
	} else if (strcmp(key, "ready_file") == 0) {
		get_path(p, key, value, &c->ready_file);
	} else if (strcmp(key, "control_socket") == 0) {
		c->control_socket_set = true;
		/* sun_path holds 108 bytes with the NUL. */
		if (strlen(value) > 107)
			error_at(p,
			    "control_socket: path longer than 107 "
			    "characters");
		else
			get_path(p, key, value, &c->control_socket);
	} else if (strcmp(key, "termination_log") == 0) {
		get_path(p, key, value, &c->termination_log);
	} else if (strcmp(key, "control_group") == 0) {
		unsigned int gid;
		bool num;

		if (*value && value_group(value, &gid, &num) < 0)
			bad_value(p, key, value, "a group name or number");
		else
			copy_value(p, c->control_group,
			    sizeof(c->control_group), key, value);
	} else if (strcmp(key, "http_listen") == 0) {
		struct sockaddr_storage ss;
		socklen_t len;

		if (*value && value_listen(value, &ss, &len) < 0)
			bad_value(p, key, value,
			    "an address and port (127.0.0.1:8080, "
			    "[::1]:8080, 0.0.0.0:8080)");
		else
			copy_value(p, c->http_listen, sizeof(c->http_listen),
			    key, value);
	} else if (strcmp(key, "stop_timeout") == 0) {
		get_duration(p, key, value, &c->stop_timeout_ms, false);
		c->stop_timeout_set = true;
	} else if (strcmp(key, "checks") == 0) {
		c->checks_set = true;
		if (config_parse_checks(value, &c->checks) < 0)
			bad_value(p, key, value, "warn, enforce or off");
	} else if (strcmp(key, "check_timeout") == 0) {
		get_duration(p, key, value, &c->check_timeout_ms, false);
	} else if (strcmp(key, "pids_watch") == 0) {
		/* 0 (or off) turns it off, as it is by default. */
		if (strcmp(value, "off") == 0)
			c->pids_watch_ms = 0;
		else
			get_duration(p, key, value, &c->pids_watch_ms, true);
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
	char **argv;
	size_t argc;
	const char *msg = NULL;

	if (value_words_alloc(s, &argv, &argc, &msg) < 0)
		return msg ? msg : "cannot be split into words";
	free(argv);
	return NULL;
}

const char *
config_probe_parse(const char *s, struct probe_conf *ret)
{
	struct probe_conf pc;
	const char *rest;

	memset(&pc, 0, sizeof(pc));
	pc.arg = "";
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
		memcpy(pc.host, rest, (size_t)(sep - rest));
		pc.arg = sep + 1;
	} else if (strncmp(s, "http:", 5) == 0) {
		char hp[CONFIG_HOST_MAX + 16];
		const char *slash;
		size_t n;

		rest = s + 5;
		while (*rest == '/')
			rest++; /* tolerate http://HOST:PORT/PATH */
		slash = strchr(rest, '/');
		n = slash ? (size_t)(slash - rest) : strlen(rest);
		if (n >= sizeof(hp))
			return "host longer than 253 characters";
		memcpy(hp, rest, n);
		hp[n] = 0;
		if (parse_hostport(hp, pc.host, sizeof(pc.host), &pc.port) < 0)
			return "expected http:HOST:PORT/PATH";
		pc.kind = PROBE_HTTP;
		pc.arg = slash ? slash : "/";
	} else if (strncmp(s, "tcp:", 4) == 0) {
		if (parse_hostport(s + 4, pc.host, sizeof(pc.host), &pc.port) <
		    0)
			return "expected tcp:HOST:PORT";
		pc.kind = PROBE_TCP;
	} else if (strncmp(s, "file:", 5) == 0) {
		if (s[5] != '/')
			return "expected file:/ABSOLUTE/PATH";
		pc.kind = PROBE_FILE;
		pc.arg = s + 5;
	} else if (strncmp(s, "log:", 4) == 0) {
		if (!s[4])
			return "expected log:TEXT";
		pc.kind = PROBE_LOG;
		pc.arg = s + 4;
	} else if (strncmp(s, "exec:", 5) == 0) {
		const char *msg = check_command(s + 5);

		if (msg)
			return msg;
		pc.kind = PROBE_EXEC;
		pc.arg = s + 5;
	} else {
		return "not a probe (started, notify, unix-http:SOCK:PATH, "
		       "http:HOST:PORT/PATH, tcp:HOST:PORT, file:PATH, log:TEXT, "
		       "exec:COMMAND)";
	}
	*ret = pc;
	return NULL;
}

/*
 * A health probe must be able to fail: `started` always passes, `log:`
 * and `notify` happen once (READY=1 is not repeated; WATCHDOG=1 is, and
 * `watchdog =` watches it).
 */
const char *
config_health_parse(const char *s, struct probe_conf *ret)
{
	struct probe_conf pc;
	const char *msg = config_probe_parse(s, &pc);

	if (msg)
		return strncmp(msg, "not a probe", 11) == 0
		    ? "not a health probe (unix-http:SOCK:PATH, "
		      "http:HOST:PORT/PATH, tcp:HOST:PORT, file:PATH, "
		      "exec:COMMAND)"
		    : msg;
	switch (pc.kind) {
	case PROBE_STARTED:
		return "`started` always passes: not a health probe";
	case PROBE_LOG:
		return "a log line shows once, it cannot tell liveness (use "
		       "http, tcp, file or exec)";
	case PROBE_NOTIFY:
		return "READY=1 is sent once: use `watchdog = DURATION` for "
		       "WATCHDOG=1";
	default:
		break;
	}
	*ret = pc;
	return NULL;
}

/* The liveness keys of a service; false when key is none of them. */
static bool
liveness_key(struct parse *p, struct service_conf *s, const char *key,
    const char *value)
{
	unsigned long n;
	const char *msg, *v;

	if (strcmp(key, "health") == 0) {
		/* Saved first: the probe's arg points into the arena's copy,
		 * never into the parser's line. */
		if (s->nhealth >= CONFIG_MAX_PROBES)
			error_at(p, "health: at most %d probes",
			    CONFIG_MAX_PROBES);
		else if (!(v = save(p, value)))
			return true;
		else if ((msg = config_health_parse(v, &s->health[s->nhealth])))
			error_at(p, "health: '%s': %s", value, msg);
		else
			s->health[s->nhealth++].line = p->line;
	} else if (strcmp(key, "health_interval") == 0) {
		get_duration(p, key, value, &s->health_interval_ms, false);
	} else if (strcmp(key, "health_timeout") == 0) {
		get_duration(p, key, value, &s->health_timeout_ms, false);
	} else if (strcmp(key, "health_failures") == 0) {
		if (value_uint(value, 1000, &n) < 0 || n == 0)
			bad_value(p, key, value, "a number from 1 to 1000");
		else
			s->health_failures = (unsigned int)n;
	} else if (strcmp(key, "on_unhealthy") == 0) {
		if (strcmp(value, "restart") == 0)
			s->on_unhealthy = UNHEALTHY_RESTART;
		else if (strcmp(value, "stop") == 0)
			s->on_unhealthy = UNHEALTHY_STOP;
		else if (strcmp(value, "ignore") == 0)
			s->on_unhealthy = UNHEALTHY_IGNORE;
		else
			bad_value(p, key, value, "restart, stop or ignore");
	} else if (strcmp(key, "watchdog") == 0) {
		get_duration(p, key, value, &s->watchdog_ms, false);
	} else
		return false;
	return true;
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
get_caps(struct parse *p, const char *key, const char *value, const char **dst)
{
	char buf[CONFIG_CAPS_MAX], *w, *save_ptr = NULL;

	if (strlen(value) >= sizeof(buf)) {
		error_at(p,
		    "%s: longer than %d characters (every capability once "
		    "takes fewer)",
		    key, CONFIG_CAPS_MAX - 1);
		return;
	}
	if (strcmp(value, "none") != 0) {
		snprintf(buf, sizeof(buf), "%s", value);
		for (w = strtok_r(buf, " \t,", &save_ptr); w;
		     w = strtok_r(NULL, " \t,", &save_ptr)) {
			const char *n =
			    strncasecmp(w, "cap_", 4) == 0 ? w + 4 : w;

			if (capng_name_to_capability(n) < 0) {
				error_at(p, "%s: unknown capability '%s'", key,
				    w);
				return;
			}
		}
	}
	get_str(p, dst, value);
}

/* env = NAME=VALUE ...: checked now; every env line is kept, in order. */
static void
get_env(struct parse *p, struct service_conf *s, const char *value)
{
	char **argv;
	const char **env;
	size_t argc, i, nlen;
	const char *msg = NULL, *v;

	if (value_words_alloc(value, &argv, &argc, &msg) < 0) {
		error_at(p, "env: %s", msg ? msg : "bad value");
		return;
	}
	for (i = 0; i < argc; i++)
		if (value_env_entry(argv[i], &nlen) < 0) {
			error_at(p, "env: '%s' is not NAME=VALUE", argv[i]);
			free(argv);
			return;
		}
	free(argv);
	if (!(v = save(p, value)))
		return;
	/* The array grows by doubling; old ones stay in the arena. */
	if ((s->nenv & (s->nenv - 1)) == 0) {
		env = arena_alloc(p->c,
		    (s->nenv ? s->nenv * 2 : 1) * sizeof(*env));
		if (!env) {
			error_at(p, "out of memory");
			return;
		}
		if (s->nenv)
			memcpy(env, s->env, s->nenv * sizeof(*env));
		s->env = env;
	}
	s->env[s->nenv++] = v;
}

/* `after = check:NAME`: a check that must pass before the service starts. */
static void
get_after_check(struct parse *p, struct service_conf *s, const char *word)
{
	size_t len;

	if (s->nafter_checks >= CONFIG_MAX_AFTER) {
		error_at(p, "after: at most %d checks", CONFIG_MAX_AFTER);
		return;
	}
	if (!valid_name(word + 6)) {
		bad_value(p, "after", word, "check:NAME");
		return;
	}
	len = strlen(word + 6);
	if (len >= CONFIG_NAME_MAX) {
		bad_value(p, "after", word, "check:NAME");
		return;
	}
	s->after_check_line[s->nafter_checks] = p->line;
	memcpy(s->after_checks[s->nafter_checks++], word + 6, len + 1);
}

static void
get_after(struct parse *p, struct service_conf *s, const char *value)
{
	const char *w = value;
	char name[CONFIG_NAME_MAX];
	size_t n;

	s->after_line = p->line;
	for (;;) {
		w += strspn(w, " \t,");
		if (!*w)
			return;
		n = strcspn(w, " \t,");
		if (n >= 6 && strncmp(w, "check:", 6) == 0) {
			char word[CONFIG_NAME_MAX + 8];

			if (n >= sizeof(word)) {
				bad_value(p, "after", "check:...",
				    "check:NAME");
				return;
			}
			memcpy(word, w, n);
			word[n] = 0;
			get_after_check(p, s, word);
			if (p->failed)
				return;
			w += n;
			continue;
		}
		if (s->nafter >= CONFIG_MAX_AFTER) {
			error_at(p, "after: at most %d services",
			    CONFIG_MAX_AFTER);
			return;
		}
		snprintf(name, sizeof(name), "%.*s",
		    n < sizeof(name) ? (int)n : (int)sizeof(name), w);
		if (n >= sizeof(name) || !valid_name(name)) {
			error_at(p, "after: '%.*s' is not a service name",
			    (int)(n > 64 ? 64 : n), w);
			return;
		}
		memcpy(s->after[s->nafter++], name, n + 1);
		w += n;
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
	struct service_conf *s = &p->c->services[p->svc];
	unsigned long n;
	int m;

	if (sandbox_key(key) && !s->sandbox_line) {
		s->sandbox_line = p->line;
		snprintf(s->sandbox_key, sizeof(s->sandbox_key), "%s", key);
	}

	if (strcmp(key, "command") == 0) {
		get_str(p, &s->command, value);
		s->command_line = p->line;
	} else if (strcmp(key, "shell") == 0) {
		get_bool(p, key, value, &s->shell);
	} else if (strcmp(key, "ready") == 0) {
		const char *msg, *v;

		if (s->nready >= CONFIG_MAX_PROBES) {
			error_at(p, "ready: at most %d probes",
			    CONFIG_MAX_PROBES);
			return;
		}
		if (!(v = save(p, value)))
			return;
		msg = config_probe_parse(v, &s->ready[s->nready]);
		if (msg)
			error_at(p, "ready: '%s': %s", value, msg);
		else
			s->ready[s->nready++].line = p->line;
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
	} else if (strcmp(key, "check_wait") == 0) {
		get_duration(p, key, value, &s->check_wait_ms, false);
	} else if (strcmp(key, "env") == 0) {
		get_env(p, s, value);
	} else if (strcmp(key, "env_clear") == 0) {
		get_bool(p, key, value, &s->env_clear);
	} else if (strcmp(key, "workdir") == 0) {
		get_path(p, key, value, &s->workdir);
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
		s->output_line = p->line;
	} else if (strcmp(key, "tail_lines") == 0) {
		if (value_uint(value, 1000, &n) < 0)
			bad_value(p, key, value, "a number from 0 to 1000");
		else
			s->tail_lines = (unsigned int)n;
	} else if (strcmp(key, "crashloop_limit") == 0) {
		if (value_uint(value, 1000, &n) < 0)
			bad_value(p, key, value,
			    "a number from 0 (off) to 1000");
		else
			s->crashloop_limit = (unsigned int)n;
	} else if (strcmp(key, "max_runtime") == 0) {
		get_duration(p, key, value, &s->max_runtime_ms, false);
	} else if (strcmp(key, "kill_group") == 0) {
		get_bool(p, key, value, &s->kill_group);
	} else if (strcmp(key, "capabilities") == 0) {
		get_caps(p, key, value, &s->capabilities);
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
			get_str(p, &s->seccomp, value);
	} else if (!liveness_key(p, s, key, value)) {
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

/*
 * interval: re-run the check that often.  A check sends packets to real
 * servers, so not more than once a second; a tunnel holds its connection
 * for `hold` and watches it all along, so it has none.
 */
#define CHECK_INTERVAL_MIN_MS 1000

static void
get_interval(struct parse *p, struct check_conf *k, const char *value)
{
	uint64_t v;

	if (strcmp(k->type, "tunnel") == 0)
		error_at(p,
		    "interval: a tunnel check watches its tunnel for `hold` "
		    "on its own; it has no interval");
	else if (value_duration_ms(value, &v) < 0 || v < CHECK_INTERVAL_MIN_MS)
		bad_value(p, "interval", value,
		    "a duration of at least 1s (e.g. 30s, 5m)");
	else
		k->interval_ms = v;
}

static void
check_key(struct parse *p, const char *key, const char *value)
{
	struct check_conf *k = p->chk;
	char host[CONFIG_HOST_MAX];
	unsigned int port;

	if (strcmp(key, "timeout") == 0) {
		get_duration(p, key, value, &k->timeout_ms, false);
		return;
	}
	if (strcmp(key, "required") == 0) {
		get_bool(p, key, value, &k->required);
		return;
	}
	if (strcmp(key, "interval") == 0) {
		get_interval(p, k, value);
		return;
	}
	if (!check_allows(k->type, key)) {
		error_at(p, "unknown key '%s' in [check %s%s%s]", key, k->type,
		    *k->name ? ":" : "", k->name);
		return;
	}
	if (strcmp(key, "resolv_conf") == 0)
		get_path(p, key, value, &k->resolv_conf);
	else if (strcmp(key, "hosts") == 0)
		get_path(p, key, value, &k->hosts);
	else if (strcmp(key, "query") == 0)
		get_str(p, &k->query, value);
	else if (strcmp(key, "require") == 0)
		get_caps(p, key, value, &k->require);
	else if (strcmp(key, "hold") == 0)
		get_duration(p, key, value, &k->hold_ms, false);
	else if (parse_hostport(value, host, sizeof(host), &port) < 0)
		bad_value(p, key, value, "HOST:PORT");
	else
		get_str(p, &k->target, value);
}

/* The keys that may be given more than once in their section. */
static bool
repeatable(const struct parse *p, const char *key)
{
	static const char *const keys[] = { "ready", "env", "after", "health" };
	size_t i;

	if (p->svc < 0)
		return false;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/* A single-valued key given a second time in its section. */
static bool
duplicate(struct parse *p, const char *key)
{
	unsigned int i;

	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i].name, key) == 0 && !repeatable(p, key)) {
			error_at(p,
			    "duplicate key '%s' (first at %s:%u): give it "
			    "once",
			    key, p->path, p->seen[i].line);
			return true;
		}
	return false;
}

/*
 * Remember the key, for duplicates and continuation lines.  A section has
 * fewer distinct keys than SEEN_MAX; a repeatable one keeps its slot.
 */
static void
seen(struct parse *p, const char *key)
{
	unsigned int i;

	snprintf(p->last.name, sizeof(p->last.name), "%s", key);
	p->last.line = p->line;
	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i].name, key) == 0)
			return;
	if (p->nseen < SEEN_MAX)
		p->seen[p->nseen++] = p->last;
}

/* inih's handler: nonzero means success. */
static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;

	(void)section;
	if (p->failed)
		return 0;
	if (!p->in_init && p->svc < 0 && !p->chk)
		error_at(p, "'%s' is outside of any section", key);
	else if (duplicate(p, key))
		return 0;
	else if (p->in_init)
		init_key(p, key, value);
	else if (p->svc >= 0)
		service_key(p, key, value);
	else
		check_key(p, key, value);
	if (!p->failed)
		seen(p, key);
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

/*
 * A `log:` probe reads the service's output, which `raw` output never
 * captures: the probe could never pass.  The effective mode is the
 * service's own, else [init]'s (the program checks a mode given on the
 * command line or in the environment the same way).
 */
static void
check_log_probes(struct parse *p, const struct config *c,
    const struct service_conf *s)
{
	enum output_mode m =
	    s->output != OUTPUT_INHERIT ? s->output : c->output;
	unsigned int i, line;

	if (m != OUTPUT_RAW)
		return;
	line = s->output != OUTPUT_INHERIT ? s->output_line : c->output_line;
	for (i = 0; i < s->nready; i++)
		if (s->ready[i].kind == PROBE_LOG) {
			error_line(p, s->ready[i].line, false,
			    "ready = log:... needs the output of [service %s], "
			    "and its output is raw (line %u), which is not "
			    "captured: use output = prefix or json, or "
			    "another probe",
			    s->name, line);
			return;
		}
}

/* What one service needs from the rest of the file; false on an error. */
static bool
validate_service(struct parse *p, const struct config *c,
    const struct service_conf *s, const struct service_conf **main_svc)
{
	const char *msg;
	unsigned int a;

	if (!*s->command) {
		error_line(p, s->line, false, "[service %s] has no command",
		    s->name);
		return false;
	}
	if (!s->shell && (msg = check_command(s->command))) {
		error_line(p, s->command_line, false, "command: %s", msg);
		return false;
	}
	if (s->main && *main_svc) {
		error_line(p, s->line, false,
		    "[service %s]: a second main service (%s, line %u, is one "
		    "already)",
		    s->name, (*main_svc)->name, (*main_svc)->line);
		return false;
	}
	if (s->main)
		*main_svc = s;
	for (a = 0; a < s->nafter; a++) {
		if (strcmp(s->after[a], s->name) == 0) {
			error_line(p, s->after_line, false,
			    "after: service '%s' cannot wait for itself",
			    s->name);
			return false;
		}
		if (!config_service(c, s->after[a])) {
			error_line(p, s->after_line, false,
			    "after: no service named '%s'", s->after[a]);
			return false;
		}
	}
	check_log_probes(p, c, s);
	return !p->failed;
}

static int
validate_cycles(struct parse *p, const struct config *c)
{
	unsigned char *mark = calloc(c->nservices + 1, 1);
	unsigned int i, at;

	if (!mark) {
		snprintf(p->err, p->errcap, "%s: out of memory", p->path);
		return -ENOMEM;
	}
	for (i = 0; i < c->nservices; i++)
		if (visit(c, i, mark, &at) < 0) {
			error_line(p, c->services[at].after_line, false,
			    "after: dependency cycle through service '%s'",
			    c->services[at].name);
			free(mark);
			return -EINVAL;
		}
	free(mark);
	return 0;
}

/* The n-th section `after = check:NAME` fits (see config_check_named). */
static const struct check_conf *
check_fits(const struct config *c, const char *name, unsigned int n)
{
	unsigned int i, pass;

	/* A name first, then a type: [check tcp:NAME] wins over [check
	 * NAME], though config_validate() refuses to choose. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < c->nchecks; i++) {
			const struct check_conf *k = &c->checks_list[i];

			if (strcmp(pass ? k->type : k->name, name) == 0 &&
			    (pass == 0 || !*k->name) && n-- == 0)
				return k;
		}
	return NULL;
}

const struct check_conf *
config_check_named(const struct config *c, const char *name)
{
	return check_fits(c, name, 0);
}

/* Every `after = check:NAME` names exactly one check that gives a verdict. */
static void
validate_gates(struct parse *p, const struct config *c)
{
	const struct check_conf *k, *k2;
	unsigned int i, a;

	for (i = 0; i < c->nservices && !p->failed; i++) {
		const struct service_conf *s = &c->services[i];

		for (a = 0; a < s->nafter_checks && !p->failed; a++) {
			const char *n = s->after_checks[a];
			unsigned int line = s->after_check_line[a];

			if (!(k = check_fits(c, n, 0)))
				error_line(p, line, false,
				    "after: no check named '%s' (a [check "
				    "TYPE:%s] section, or an unnamed [check "
				    "%s])",
				    n, n, n);
			else if ((k2 = check_fits(c, n, 1)))
				error_line(p, line, false,
				    "after: check:%s could be [check %s%s%s] "
				    "(line %u) or [check %s%s%s] (line %u); "
				    "name one of them differently",
				    n, k->type, *k->name ? ":" : "", k->name,
				    k->line, k2->type, *k2->name ? ":" : "",
				    k2->name, k2->line);
			else if (strcmp(k->type, "tunnel") == 0)
				error_line(p, line, false,
				    "after: check:%s is a tunnel check, whose "
				    "verdict comes only after `hold`",
				    n);
		}
	}
}

int
config_gates_need_checks(const struct config *c, const char *path,
    const char *off_by, char *err, size_t errcap)
{
	unsigned int i;

	for (i = 0; i < c->nservices; i++) {
		const struct service_conf *s = &c->services[i];

		if (s->nafter_checks == 0)
			continue;
		snprintf(err, errcap,
		    "%s:%u: after: check:%s needs the checks, but they are "
		    "off (%s)",
		    path, s->after_check_line[0], s->after_checks[0], off_by);
		return -EINVAL;
	}
	return 0;
}

int
config_validate(struct config *c, const char *path, char *err, size_t errcap)
{
	struct parse p;
	const struct service_conf *main_svc = NULL;
	unsigned int i;
	int r;

	memset(&p, 0, sizeof(p));
	p.path = path;
	p.err = err;
	p.errcap = errcap;
	for (i = 0; i < c->nservices; i++)
		if (!validate_service(&p, c, &c->services[i], &main_svc))
			return -EINVAL;
	if ((r = validate_cycles(&p, c)) < 0)
		return r;
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
	validate_gates(&p, c);
	return p.failed ? -EINVAL : 0;
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

void
config_free(struct config *c)
{
	struct config_arena *a = c->arena, *next;

	for (; a; a = next) {
		next = a->next;
		free(a);
	}
	free(c->services);
	memset(c, 0, sizeof(*c));
}

static void
config_defaults(struct config *c)
{
	c->output = OUTPUT_INHERIT;
	c->check_timeout_ms = 2000;
	c->stop_timeout_ms = 8000;
	c->events = c->ready_file = c->control_socket = c->termination_log = "";
}

int
config_load(const char *path, struct config *ret, char *err, size_t errcap)
{
	struct parse p;
	char *data;
	size_t len;
	int r;

	config_free(ret);
	config_defaults(ret);
	r = file_read(path, FILE_OPERATOR, CONFIG_FILE_MAX,
	    CONFIG_READ_TIMEOUT_MS, &data, &len);
	if (r < 0) {
		snprintf(err, errcap, "%s: %s", path, file_error(r));
		return r;
	}
	memset(&p, 0, sizeof(p));
	p.data = data;
	p.len = len;
	p.path = path;
	p.c = ret;
	p.svc = -1;
	p.err = err;
	p.errcap = errcap;
	r = ini_parse_stream(reader, &p, handler, &p);
	free(data);
	if (!p.failed && r > 0)
		error_line(&p, (unsigned int)r, false,
		    "syntax error (expected [section], key = value "
		    "or a comment)");
	if (!p.failed && r < 0)
		error_line(&p, p.line, false, "out of memory");
	r = p.failed ? -EINVAL : config_validate(ret, path, err, errcap);
	if (r < 0)
		config_free(ret);
	return r;
}
