/*
 * gate — a start gated on checks (`after = check:NAME`, SPEC section 14).
 *
 * A WAITING service whose `after` services are ready may still be held by
 * the checks it names: it starts once every one of them passes (ok or
 * warn), and waits for them at most its `check_wait` (60 s by default),
 * counted from the moment the checks are all that holds it.  Past that,
 * a `required` check that has not passed ends the sandbox (exit 69, in
 * any `checks` mode); a check that is not required lets the service start,
 * with a warning.  While it holds a service, every check that has not
 * passed is asked for again (the program re-runs it, with a growing pause
 * between runs), so a gateway that comes up late is seen within seconds.
 *
 * This module only judges, from the verdicts the hooks give: the
 * supervisor keeps the clock and acts on the decision, and the program
 * (init/) connects the hooks to netcheck/ (supervisor/ never includes
 * it).  No syscalls, no events: unit tested.
 *
 * Public API: gate_judge().
 */
#ifndef AGENT_INIT_GATE_H
#define AGENT_INIT_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum gate_verdict {
	GATE_NONE, /* no verdict yet (the checks are still running) */
	GATE_PASS, /* ok or warn */
	GATE_FAIL, /* fail or skip */
};

/* What the program knows of one check, for a gate. */
struct gate_check {
	enum gate_verdict verdict;
	bool required;
	char why[200]; /* e.g. "tcp 10.0.0.1:8080 refused: connect ..." */
};

struct gate_hooks {
	/* The last verdict of the check `after = check:NAME` names. */
	void (*lookup)(const char *name, struct gate_check *ret);
	/* A verdict is wanted again (it has not passed yet). */
	void (*want)(const char *name);
};

enum gate_decision {
	GATE_OPEN, /* every check passed: start */
	GATE_HOLD, /* keep waiting */
	GATE_LATE, /* past check_wait, none of those that failed is required:
	              start, with a warning */
	GATE_EXIT, /* past check_wait, a required check did not pass: 69 */
};

/*
 * Judge service c's checks.  why gets a line for `waiting` (HOLD), the
 * warning (LATE) or the exit (EXIT), and ret_check the name of the check
 * it is about (the first one that did not pass), "" when OPEN.  On HOLD,
 * want() is called for every check that has not passed.
 */
enum gate_decision
gate_judge(const struct service_conf *c, const struct gate_hooks *h,
    bool past_deadline, char *why, size_t cap, const char **ret_check);

#endif
