/*
 * result — the verdicts of one check run (SPEC section 8): a fixed table
 * of results, each ended exactly once with a status (ok / warn / fail /
 * skip), a `code`, a one-line `detail` and, when not ok, a `hint`; and
 * its `check` event (SPEC section 4).
 *
 * Every check module records its verdicts here and nowhere else, so that
 * the run (check.c) sits above the checks and no check includes the run:
 * check.c learns through the callbacks given to results_begin() when a
 * verdict came in and when the last one did.  A check that set no hint
 * of its own gets the generic one of netcheck/hints.c.  Internal to
 * netcheck/.
 *
 * A re-run (netcheck/recheck.c) begins with results_rerun(): the first
 * run's results stay where they are (a tunnel still holds one of them
 * and reports there later, with its own run's start and events), the
 * re-run's follow them, and results_count() and results_get() give the
 * current run's.
 *
 * Public API: results_begin(), results_rerun(), result_new(),
 * result_new_background(), result_done(), results_hold(),
 * results_release(), results_finished(), results_count(), results_get(),
 * results_emit_background(), results_elapsed_ms().
 */
#ifndef AGENT_INIT_RESULT_H
#define AGENT_INIT_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CHECK_MAX_RESULTS 64

struct check_result {
	char check[24]; /* type */
	char name[CONFIG_NAME_MAX];
	char target[160];
	const char *status; /* "ok", "warn", "fail", "skip"; NULL: running */
	char code[32];
	char detail[512];
	char hint[640];
	uint64_t elapsed_ms;
	bool required;
	bool background; /* not waited for by the `checks` summary */
	bool events; /* its run writes `check` events */
	bool emitted; /* its `check` event is written */
	uint64_t start_ms; /* of its run: elapsed_ms counts from here */
};

struct results_hooks {
	bool events; /* emit a `check` event per verdict */
	void (*on_verdict)(void); /* after every verdict */
	void (*on_all_done)(void); /* the last awaited verdict is in */
	/* Every verdict, with it (a tunnel's of the first run too). */
	void (*on_result)(const struct check_result *r);
};

/* A new run: forget every result; times count from now. */
void results_begin(const struct results_hooks *h);
/* A re-run, after the first run is over: keep the first run's results. */
void results_rerun(const struct results_hooks *h);
/* NULL when the table is full (CHECK_MAX_RESULTS). */
struct check_result *result_new(const char *type, const char *name,
    const char *target, bool required);
/* A check that reports on its own, after the `checks` summary. */
struct check_result *
result_new_background(const char *type, const char *name, const char *target);
/* The verdict: once per result (later calls are ignored); r may be NULL. */
void result_done(struct check_result *r, const char *status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* While checks are being started: no "all done" before release. */
void results_hold(void);
void results_release(void);
bool results_finished(void);
size_t results_count(void);
struct check_result *results_get(size_t i);
/* Background verdicts that came before the summary, after it. */
void results_emit_background(void);
uint64_t results_elapsed_ms(void);

#endif
