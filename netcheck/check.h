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
 * This is the run; each check is a module of its own below it
 * (resolver.c, proxycheck.c, tcpcheck.c, egress.c, tunnel.c,
 * capcheck.c, envcheck.c) over the building blocks of netio.c, and
 * records its verdicts in result.c.
 *
 * Public API: checks_start(), checks_on_verdict(), checks_summary(),
 * checks_count(), checks_result(), checks_finished(), checks_facts(),
 * checks_for_dockerd(), checks_print_table().
 */
#ifndef AGENT_INIT_CHECK_H
#define AGENT_INIT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "host.h"
#include "result.h"

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
	/*
	 * A re-run (netcheck/recheck.c), after the first run is over: only
	 * the sections of `only` (bit i: cfg->checks_list[i]; 0: every
	 * one), never a tunnel (the first run's goes on), no summary.  The
	 * first run's results stay where they are: checks_count() and
	 * checks_result() then give the re-run's.
	 */
	bool rerun;
	uint64_t only;
	void (*on_done)(void *data);
	void *data;
};

/* Start every check; on_done runs once, when all have a verdict. */
int checks_start(const struct checks_opts *o);
/* Every verdict of every run, as it comes (a tunnel's too): recheck.c. */
void checks_on_verdict(void (*fn)(const struct check_result *r));
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
