/*
 * gate — a start gated on checks.  See gate.h.
 */
#include <stdio.h>
#include <string.h>

#include "gate.h"

/* What did not pass: the check's own words, or that it has none yet. */
static const char *
why_not(const struct gate_check *g)
{
	if (g->verdict == GATE_NONE)
		return "no verdict yet";
	return *g->why ? g->why : "failed";
}

/*
 * The first check that did not pass (a required one first, since it is
 * the one that decides when time is up), and how many did not; with want,
 * each of them is asked for again.
 */
static unsigned int
not_passed(const struct service_conf *c, const struct gate_hooks *h, bool want,
    struct gate_check *ret_first, unsigned int *ret_index)
{
	struct gate_check g;
	unsigned int i, n = 0;
	bool have_required = false;

	for (i = 0; i < c->nafter_checks; i++) {
		memset(&g, 0, sizeof(g));
		h->lookup(c->after_checks[i], &g);
		if (g.verdict == GATE_PASS)
			continue;
		if (want && h->want)
			h->want(c->after_checks[i]);
		if (n++ == 0 || (g.required && !have_required)) {
			*ret_first = g;
			*ret_index = i;
			have_required = g.required;
		}
	}
	return n;
}

enum gate_decision
gate_judge(const struct service_conf *c, const struct gate_hooks *h,
    bool past_deadline, char *why, size_t cap, const char **ret_check)
{
	struct gate_check first;
	unsigned int n, at = 0;
	const char *name;

	*ret_check = "";
	snprintf(why, cap, "%s", "");
	if (!h || !h->lookup || c->nafter_checks == 0)
		return GATE_OPEN;
	memset(&first, 0, sizeof(first));
	n = not_passed(c, h, !past_deadline, &first, &at);
	if (n == 0)
		return GATE_OPEN;
	name = c->after_checks[at];
	*ret_check = name;
	if (!past_deadline) {
		snprintf(why, cap,
		    "waiting for check %s (%s)%s, at most %llu ms", name,
		    why_not(&first), n > 1 ? " and others" : "",
		    (unsigned long long)c->check_wait_ms);
		return GATE_HOLD;
	}
	snprintf(why, cap, "%scheck %s did not pass within %llu ms (%s)%s",
	    first.required ? "required " : "", name,
	    (unsigned long long)c->check_wait_ms, why_not(&first),
	    n > 1 ? ", nor did others" : "");
	return first.required ? GATE_EXIT : GATE_LATE;
}
