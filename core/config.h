/*
 * config — the INI configuration file (SPEC section 3), parsed with inih.
 *
 * Every [init], [service NAME] and [check TYPE[:NAME]] key of the SPEC is
 * parsed and validated here, before anything starts: values, duplicate
 * services, `after` naming no service, dependency cycles, two `main`
 * services.  The result is immutable once config_load() returns.
 *
 * Limits, all checked: CONFIG_MAX_SERVICES services, CONFIG_MAX_CHECKS
 * checks, CONFIG_MAX_PROBES `ready` lines and CONFIG_MAX_AFTER `after`
 * names per service; a line is at most 198 characters (the fixed buffer
 * of Debian's libinih, INI_MAX_LINE = 200).
 *
 * Errors come back as one line "FILE:LINE: message" in err; the caller
 * prints it and exits 78 (EX_CONFIG) before starting anything.
 *
 * Public API: config_load(), config_service(), config_probe_parse(),
 * config_service_defaults(), config_validate(), config_set_policy_check(),
 * config_parse_checks().
 */
#ifndef AGENT_INIT_CONFIG_H
#define AGENT_INIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "values.h"

#define CONFIG_DEFAULT_PATH "/etc/agent-init.conf"
#define CONFIG_VALUE_MAX 200
#define CONFIG_NAME_MAX 48
#define CONFIG_MAX_SERVICES 32
#define CONFIG_MAX_CHECKS 32
#define CONFIG_MAX_PROBES 4
#define CONFIG_MAX_AFTER 8
#define CONFIG_MAX_WORDS 48
#define CONFIG_MAX_ENV 32

enum output_mode { OUTPUT_INHERIT, OUTPUT_RAW, OUTPUT_PREFIX, OUTPUT_JSON };
enum restart_policy {
	RESTART_DEFAULT,
	RESTART_ALWAYS,
	RESTART_ON_FAILURE,
	RESTART_NEVER
};
enum checks_mode { CHECKS_WARN, CHECKS_ENFORCE, CHECKS_OFF };
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

/* One `ready =` line, split into its parts at config time. */
struct probe_conf {
	enum probe_kind kind;
	char target[CONFIG_VALUE_MAX]; /* socket, host, path, text, command */
	char path[CONFIG_VALUE_MAX]; /* HTTP path */
	unsigned int port;
};

struct rlimit_conf {
	bool set;
	uint64_t value; /* UINT64_MAX: unlimited */
};

struct service_conf {
	char name[CONFIG_NAME_MAX];
	unsigned int line; /* of the [service NAME] header */
	char command[CONFIG_VALUE_MAX];
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
	char env[CONFIG_VALUE_MAX]; /* NAME=VALUE words, as written */
	bool env_clear;
	char workdir[CONFIG_VALUE_MAX];
	int umask; /* -1: inherit */
	char user[CONFIG_NAME_MAX];
	char group[CONFIG_NAME_MAX];
	struct rlimit_conf rlimit_nofile, rlimit_nproc, rlimit_core;
	enum output_mode output;
	unsigned int tail_lines;
	uint64_t max_runtime_ms; /* 0: no limit */
	bool kill_group;
	char capabilities[CONFIG_VALUE_MAX]; /* empty: unchanged */
	enum tristate no_new_privs;
	char seccomp[CONFIG_VALUE_MAX]; /* empty or "none": no filter */
	/* Line of the first sandboxing key (user ... rlimit_*), or 0. */
	unsigned int sandbox_line;
	char sandbox_key[24];
};

struct check_conf {
	char type[24];
	char name[CONFIG_NAME_MAX]; /* the part after ':', or "" */
	unsigned int line;
	uint64_t timeout_ms; /* 0: the [init] check_timeout */
	bool required;
	char resolv_conf[CONFIG_VALUE_MAX];
	char hosts[CONFIG_VALUE_MAX];
	char query[CONFIG_VALUE_MAX];
	char target[CONFIG_VALUE_MAX]; /* tcp, tunnel; connect_probe; direct */
	char require[CONFIG_VALUE_MAX];
	uint64_t hold_ms;
};

struct config {
	char events[CONFIG_VALUE_MAX];
	enum output_mode output;
	char ready_file[CONFIG_VALUE_MAX];
	char control_socket[CONFIG_VALUE_MAX];
	bool control_socket_set;
	char termination_log[CONFIG_VALUE_MAX];
	uint64_t stop_timeout_ms;
	bool stop_timeout_set;
	enum checks_mode checks;
	bool checks_set;
	uint64_t check_timeout_ms;
	struct service_conf services[CONFIG_MAX_SERVICES];
	unsigned int nservices;
	struct check_conf checks_list[CONFIG_MAX_CHECKS];
	unsigned int nchecks;
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
int config_load(const char *path, struct config *ret, char *err, size_t errcap);
/* The service NAME, or NULL. */
const struct service_conf *
config_service(const struct config *c, const char *name);
/* `checks`: warn, enforce or off (the key, and AGENT_INIT_CHECKS); 0 or
 * -EINVAL. */
int config_parse_checks(const char *s, enum checks_mode *ret);
/* Parse one `ready =` value; NULL or a static message on error. */
const char *config_probe_parse(const char *s, struct probe_conf *ret);
/*
 * The whole-file checks (after, cycles, main) again, for services added
 * after loading (the -- COMMAND, --dockerd); "" or a message.
 */
int
config_validate(struct config *c, const char *path, char *err, size_t errcap);

#endif
