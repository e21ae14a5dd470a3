/*
 * check — the startup checks (SPEC section 8), run all at once inside
 * PID 1's loop under one deadline, and by `agent-init netcheck`.
 *
 * Each check is a small non-blocking state machine (sockets registered
 * with the loop, one deadline timer) that ends in exactly one verdict per
 * target: status ok / warn / fail / skip, a `code` from the SPEC's
 * vocabulary, a one-line `detail` and, when not ok, a `hint` that says
 * what to do (netcheck/hints.c).  A check still running at the deadline
 * ends as `timeout`; nothing here ever waits on a blocking call, so
 * signals and reaping go on while checks run.
 *
 * The `checks` summary comes once every verdict is in.  `tunnel` checks
 * run on in the background afterwards and report on their own.
 *
 * Public API: checks_start(), checks_summary(), checks_count(),
 * checks_result(), checks_finished(), checks_facts(),
 * checks_for_dockerd(), checks_print_table().
 */
#ifndef AGENT_INIT_CHECK_H
#define AGENT_INIT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "host.h"

#define CHECK_MAX_RESULTS 64

struct check_result {
	char check[24]; /* type */
	char name[CONFIG_NAME_MAX];
	char target[160];
	const char *status; /* "ok", "warn", "fail", "skip" */
	char code[32];
	char detail[256];
	char hint[512];
	uint64_t elapsed_ms;
	bool required;
	bool background; /* not waited for by the `checks` summary */
};

struct check_summary {
	unsigned int ok, warn, fail, skip;
	bool required_failed;
	uint64_t elapsed_ms;
};

struct checks_opts {
	const struct config *cfg; /* [check] sections; none: the defaults */
	uint64_t timeout_ms;
	bool dockerd; /* the preset's capabilities are needed */
	const char *resolv_conf; /* override, or NULL */
	const char *hosts; /* override, or NULL */
	const char *const *targets; /* extra tcp targets HOST:PORT (netcheck) */
	size_t ntargets;
	bool events; /* emit check/checks events */
	bool background; /* PID 1: `tunnel` may outlive the run */
	void (*on_done)(void *data);
	void *data;
};

/* Start every check; on_done runs once, when all have a verdict. */
int checks_start(const struct checks_opts *o);
bool checks_finished(void);
void checks_summary(struct check_summary *ret);
size_t checks_count(void);
const struct check_result *checks_result(size_t i);
/* Before checks_facts(): the --dockerd preset runs (more facts). */
void checks_for_dockerd(bool dockerd);
/* The environment fingerprint, read once (the `environment` event). */
const struct host_facts *checks_facts(void);
/* `agent-init netcheck`'s readable table, on stdout. */
void checks_print_table(void);

#endif
