/*
 * config — the INI configuration file (SPEC section 3), parsed with inih.
 *
 * Every [init], [service NAME] and [check TYPE[:NAME]] key of the SPEC is
 * parsed and validated here, before anything starts: values, duplicate
 * services, `after` naming no service, `after = check:NAME` naming no
 * check (or two, or a tunnel), dependency cycles, two `main` services.
 * The result is immutable once config_load() returns.
 *
 * The file is the operator's: it is read through core/file.c (a FIFO or
 * /dev/stdin is fine, at most CONFIG_FILE_MAX bytes within
 * CONFIG_READ_TIMEOUT_MS; a directory or /dev/zero is an error, never a
 * hang).  A line holds up to CONFIG_LINE_MAX characters, and so does a
 * value: strings live in an arena of the config (config_free() releases
 * it), so a long `command` or `env` costs what it is long, no more.
 * A UTF-8 BOM is skipped; an indented line after a key (a continuation
 * line elsewhere) is an error, and so is a single-valued key given twice
 * or a second [init].  `ready`, `env` and `after` may be repeated.
 *
 * Limits, all checked: any number of services, CONFIG_MAX_CHECKS checks,
 * CONFIG_MAX_PROBES `ready` lines and CONFIG_MAX_AFTER `after` names per
 * service, names of CONFIG_NAME_MAX - 1 characters.
 *
 * Errors come back as one line "FILE:LINE: message" in err; the caller
 * prints it and exits 78 (EX_CONFIG) before starting anything.
 *
 * Public API: config_load(), config_free(), config_service(),
 * config_check_named(), config_probe_parse(), config_health_parse(),
 * config_service_defaults(), config_validate(), config_gates_need_checks(),
 * config_set_policy_check(), config_parse_checks().
 */
#ifndef AGENT_INIT_CONFIG_H
#define AGENT_INIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "values.h"

#define CONFIG_DEFAULT_PATH "/etc/agent-init.conf"
/* inih's line buffer is 16 KiB + 3 (scripts/build-musl-deps.sh). */
#define CONFIG_LINE_MAX 16384
#define CONFIG_FILE_MAX ((size_t)1024 * 1024)
#define CONFIG_READ_TIMEOUT_MS 5000
#define CONFIG_NAME_MAX 48
/* A host name (253) or a unix socket path (107), with its NUL. */
#define CONFIG_HOST_MAX 256
/* Every capability once, with "cap_" and a separator, fits in this. */
#define CONFIG_CAPS_MAX 1024
#define CONFIG_MAX_CHECKS 32
#define CONFIG_MAX_PROBES 4
#define CONFIG_MAX_AFTER 8

enum output_mode { OUTPUT_INHERIT, OUTPUT_RAW, OUTPUT_PREFIX, OUTPUT_JSON };
enum restart_policy {
	RESTART_DEFAULT,
	RESTART_ALWAYS,
	RESTART_ON_FAILURE,
	RESTART_NEVER
};
enum checks_mode { CHECKS_WARN, CHECKS_ENFORCE, CHECKS_OFF };
enum on_unhealthy { UNHEALTHY_RESTART, UNHEALTHY_STOP, UNHEALTHY_IGNORE };
enum tristate { TRI_UNSET, TRI_NO, TRI_YES };

enum probe_kind {
	PROBE_STARTED,
	PROBE_UNIX_HTTP,
	PROBE_HTTP,
	PROBE_TCP,
	PROBE_FILE,
	PROBE_LOG,
	PROBE_NOTIFY,
	PROBE_EXEC,
};

/*
 * One `ready =` line, split into its parts at config time.  arg points
 * into the value given to config_probe_parse(), which must outlive it.
 */
struct probe_conf {
	enum probe_kind kind;
	char host[CONFIG_HOST_MAX]; /* tcp, http: the host; unix-http: socket */
	unsigned int port;
	/* http, unix-http: the path; file: the path; log: the text; exec:
	 * the command; "" for the others */
	const char *arg;
	unsigned int line;
};

struct rlimit_conf {
	bool set;
	uint64_t value; /* UINT64_MAX: unlimited */
};

/*
 * Strings are never NULL: "" when unset.  They point into the config's
 * arena (or, for a service made by the program, at its own storage).
 */
struct service_conf {
	char name[CONFIG_NAME_MAX];
	unsigned int line; /* of the [service NAME] header */
	const char *command;
	unsigned int command_line;
	bool shell;
	struct probe_conf ready[CONFIG_MAX_PROBES];
	unsigned int nready;
	uint64_t ready_timeout_ms;
	enum restart_policy restart;
	uint64_t backoff_first_ms, backoff_cap_ms;
	uint64_t reset_after_ms;
	unsigned int max_restarts;
	uint64_t restart_window_ms;
	int stop_signal;
	/* signal_map: what a signal sent to it becomes (never SIGKILL). */
	struct value_sigmap signal_map;
	/* success_exit_codes: besides 0, exits that are no failure. */
	struct value_codes success_codes;
	uint64_t stop_timeout_ms;
	bool required;
	bool main;
	char after[CONFIG_MAX_AFTER][CONFIG_NAME_MAX];
	unsigned int nafter;
	unsigned int after_line;
	/* Every env line, as written (NAME=VALUE words), in order. */
	const char **env;
	unsigned int nenv;
	/* `after = check:NAME`: checks that must pass before it starts. */
	char after_checks[CONFIG_MAX_AFTER][CONFIG_NAME_MAX];
	unsigned int after_check_line[CONFIG_MAX_AFTER];
	unsigned int nafter_checks;
	uint64_t check_wait_ms; /* how long they may hold it (60s) */
	bool env_clear;
	const char *workdir;
	int umask; /* -1: inherit */
	char user[CONFIG_NAME_MAX];
	char group[CONFIG_NAME_MAX];
	struct rlimit_conf rlimit_nofile, rlimit_nproc, rlimit_core;
	enum output_mode output;
	unsigned int output_line;
	unsigned int tail_lines;
	unsigned int crashloop_limit; /* same cause N runs in a row; 0: off */
	uint64_t max_runtime_ms; /* 0: no limit */
	bool kill_group;
	const char *capabilities; /* empty: unchanged */
	enum tristate no_new_privs;
	const char *seccomp; /* empty or "none": no filter */
	/* Line of the first sandboxing key (user ... rlimit_*), or 0. */
	unsigned int sandbox_line;
	char sandbox_key[24];
	/* Liveness (SPEC section 14): health probes and the watchdog. */
	struct probe_conf health[CONFIG_MAX_PROBES];
	unsigned int nhealth;
	uint64_t health_interval_ms; /* between rounds; 10 s */
	uint64_t health_timeout_ms; /* per probe; 5 s */
	unsigned int health_failures; /* failed rounds in a row; 3 */
	enum on_unhealthy on_unhealthy;
	uint64_t watchdog_ms; /* WATCHDOG=1 at least this often; 0: none */
};

struct check_conf {
	char type[24];
	char name[CONFIG_NAME_MAX]; /* the part after ':', or "" */
	unsigned int line;
	uint64_t timeout_ms; /* 0: the [init] check_timeout */
	uint64_t interval_ms; /* 0: run at startup only */
	bool required;
	/* Strings as in struct service_conf: never NULL. */
	const char *resolv_conf;
	const char *hosts;
	const char *query;
	const char *target; /* tcp, tunnel; connect_probe; direct */
	const char *require;
	uint64_t hold_ms;
};

struct config_arena;

struct config {
	const char *events;
	enum output_mode output;
	unsigned int output_line;
	const char *ready_file;
	const char *control_socket;
	bool control_socket_set;
	char control_group[CONFIG_NAME_MAX]; /* "" or a name or a number */
	char http_listen[64]; /* "" or ADDR:PORT (value_listen()) */
	const char *termination_log;
	uint64_t stop_timeout_ms;
	bool stop_timeout_set;
	enum checks_mode checks;
	bool checks_set;
	uint64_t check_timeout_ms;
	uint64_t pids_watch_ms; /* 0: off */
	struct service_conf *services; /* nservices of them */
	unsigned int nservices;
	struct check_conf checks_list[CONFIG_MAX_CHECKS];
	unsigned int nchecks;
	/* Where the strings live; config_free() releases it. */
	struct config_arena *arena;
	unsigned int services_cap;
};

/*
 * A checker for `seccomp = /PATH` policy files (the sandbox's parser, one
 * layer up): 0, or -errno with a message.  Without one, paths are not
 * read.
 */
typedef int (
    *config_policy_check_fn)(const char *path, char *err, size_t errcap);
void config_set_policy_check(config_policy_check_fn fn);

/* Defaults of SPEC section 3, for a service that a file did not write. */
void config_service_defaults(struct service_conf *s, const char *name);
/*
 * Read and check path into ret, which is zeroed or holds an earlier load
 * (released first); 0, or -errno with the message in err.  After an
 * error ret holds nothing to release.
 */
int config_load(const char *path, struct config *ret, char *err, size_t errcap);
/* Release what config_load() allocated; ret is zeroed. */
void config_free(struct config *c);
/* The service NAME, or NULL. */
const struct service_conf *
config_service(const struct config *c, const char *name);
/*
 * The [check] section that `after = check:NAME` means: the one named
 * NAME ([check tcp:NAME]), else the unnamed one of type NAME ([check
 * NAME]); NULL when there is none.  config_validate() refuses a NAME
 * that fits two sections.
 */
const struct check_conf *
config_check_named(const struct config *c, const char *name);
/*
 * `after = check:` needs the checks: with them off (off_by says how,
 * e.g. "checks = off"), the first such line is an error; "" or -EINVAL.
 */
int config_gates_need_checks(const struct config *c, const char *path,
    const char *off_by, char *err, size_t errcap);
/* `checks`: warn, enforce or off (the key, and AGENT_INIT_CHECKS); 0 or
 * -EINVAL. */
int config_parse_checks(const char *s, enum checks_mode *ret);
/* Parse one `ready =` value; NULL or a static message on error.  ret's
 * arg points into s. */
const char *config_probe_parse(const char *s, struct probe_conf *ret);
/* The same for a `health =` value: only the kinds that can fail. */
const char *config_health_parse(const char *s, struct probe_conf *ret);
/*
 * The whole-file checks (after, cycles, main) again, for services added
 * after loading (the -- COMMAND, --dockerd); "" or a message.
 */
int
config_validate(struct config *c, const char *path, char *err, size_t errcap);

#endif
