/*
 * result — the verdicts of one check run.  See result.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "facts.h"
#include "hints.h"
#include "loop.h"
#include "result.h"

/*
 * The first run's results, then a re-run's after them: each run has room
 * for CHECK_MAX_RESULTS.  A slot is cleared when it is taken, so pages a
 * run never reaches are never touched.
 */
static struct {
	struct results_hooks h;
	struct check_result results[2 * CHECK_MAX_RESULTS];
	size_t n;
	size_t first; /* the current run's first result */
	size_t kept; /* the first run's, kept while re-runs come and go */
	bool rerun;
	uint64_t start_ms;
	unsigned int pending; /* awaited verdicts, plus holds */
	bool finished;
} rs;

static void
begin(const struct results_hooks *h, bool rerun)
{
	rs.h = *h;
	rs.rerun = rerun;
	rs.first = rerun ? rs.kept : 0;
	rs.n = rs.first;
	rs.pending = 0;
	rs.finished = false;
	rs.start_ms = loop_now_ms();
}

void
results_begin(const struct results_hooks *h)
{
	rs.kept = 0;
	begin(h, false);
}

void
results_rerun(const struct results_hooks *h)
{
	begin(h, true);
}

uint64_t
results_elapsed_ms(void)
{
	return loop_now_ms() - rs.start_ms;
}

struct check_result *
result_new(const char *type, const char *name, const char *target,
    bool required)
{
	struct check_result *r;

	if (rs.n >= rs.first + CHECK_MAX_RESULTS)
		return NULL;
	r = &rs.results[rs.n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->check, sizeof(r->check), "%s", type);
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
	snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
	r->required = required;
	r->events = rs.h.events;
	r->start_ms = rs.start_ms;
	rs.pending++;
	return r;
}

struct check_result *
result_new_background(const char *type, const char *name, const char *target)
{
	struct check_result *r = result_new(type, name, target, false);

	if (r) {
		r->background = true;
		rs.pending--;
	}
	return r;
}

static void
emit(struct check_result *r)
{
	char target[sizeof(r->target) + CONFIG_NAME_MAX + 2];

	if (!r->events || r->emitted)
		return;
	r->emitted = true;
	ev_begin("check");
	if (*r->name)
		snprintf(target, sizeof(target), "%s:%s", r->check, r->name);
	else
		snprintf(target, sizeof(target), "%s", r->check);
	ev_str("check", target);
	ev_str("target", r->target);
	ev_str("status", r->status);
	ev_str("code", r->code);
	ev_int("elapsed_ms", (long long)r->elapsed_ms);
	ev_str("detail", r->detail);
	if (strcmp(r->status, "ok") != 0 && *r->hint)
		ev_str("hint", r->hint);
	if (r->required)
		ev_bool("required", true);
	ev_emit();
}

/* The generic remedy, for a check that did not give its own. */
static void
generic_hint(struct check_result *r)
{
	struct hint_ctx hc;

	memset(&hc, 0, sizeof(hc));
	hc.target = r->target;
	hc.subnet = strcmp(r->check, "tcp") == 0 ? facts_subnet() : NULL;
	hc.proxy_set = facts_proxy_set();
	hint_for(r->check, r->code, &hc, r->hint, sizeof(r->hint));
}

static void
maybe_all_done(void)
{
	if (rs.pending || rs.finished)
		return;
	rs.finished = true;
	if (!rs.rerun)
		rs.kept = rs.n;
	if (rs.h.on_all_done)
		rs.h.on_all_done();
}

void __attribute__((format(printf, 4, 5))) result_done(struct check_result *r,
    const char *status, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (!r || r->status)
		return;
	r->status = status;
	snprintf(r->code, sizeof(r->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	r->elapsed_ms = loop_now_ms() - r->start_ms;
	if (strcmp(status, "skip") == 0 || strcmp(status, "ok") == 0)
		r->hint[0] = 0; /* nothing to do */
	else if (!*r->hint)
		generic_hint(r);
	/* A background verdict that comes early waits for the summary, so
	 * that `checks` always comes first. */
	if (!r->background || rs.finished)
		emit(r);
	if (rs.h.on_result)
		rs.h.on_result(r);
	if (rs.h.on_verdict)
		rs.h.on_verdict();
	if (r->background)
		return;
	rs.pending--;
	maybe_all_done();
}

void
results_hold(void)
{
	rs.pending++;
}

void
results_release(void)
{
	rs.pending--;
	maybe_all_done();
}

bool
results_finished(void)
{
	return rs.finished;
}

size_t
results_count(void)
{
	return rs.n - rs.first;
}

struct check_result *
results_get(size_t i)
{
	return i < results_count() ? &rs.results[rs.first + i] : NULL;
}

/* The first run's tunnel included: each `check` event is written once. */
void
results_emit_background(void)
{
	size_t i;

	for (i = 0; i < rs.n; i++)
		if (rs.results[i].background && rs.results[i].status)
			emit(&rs.results[i]);
}
