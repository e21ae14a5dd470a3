/*
 * tcpcheck — the `tcp` check.  See tcpcheck.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "netio.h"
#include "tcpcheck.h"

#define MAX_TCP 16

static struct target_job jobs[MAX_TCP];

const char *
tcpcheck_code(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case ECONNREFUSED:
		return "refused";
	case ETIMEDOUT:
		return "timeout";
	default:
		return "unreachable";
	}
}

static void
connected(struct connq *c)
{
	struct target_job *j = c->data;

	if (c->err == 0)
		result_done(j->r, "ok", "ok", "connected to %s:%u", j->host,
		    j->port);
	else
		result_done(j->r, "fail", tcpcheck_code(c->err),
		    "connect to %s:%u: %s", j->host, j->port, strerror(c->err));
}

static void
resolved(struct resolveq *rq)
{
	struct target_job *j = rq->data;

	if (!rq->found) {
		result_done(j->r, "fail", "dns_failed", "%s: %s", j->host,
		    rq->why);
		return;
	}
	netio_set_port(&rq->addr, j->port);
	connq_start(&j->cq, &rq->addr, rq->alen, NULL, 0, connected, j);
}

static struct target_job *
new_job(void)
{
	size_t i;

	for (i = 0; i < MAX_TCP; i++)
		if (!jobs[i].used)
			return &jobs[i];
	return NULL;
}

void
tcpcheck_start(const struct check_conf *k, const char *target, bool required)
{
	struct target_job *j = new_job();
	struct check_result *r;

	r = result_new("tcp", k ? k->name : "", target, required);
	if (!r)
		return;
	if (!j) {
		result_done(r, "skip", "too_many", "at most %d tcp targets",
		    MAX_TCP);
		return;
	}
	target_begin(j, r, netio_deadline(k ? k->timeout_ms : 0));
	if (netio_split_hostport(target, j->host, sizeof(j->host), &j->port) <
	    0) {
		result_done(r, "fail", "bad_target", "'%s' is not HOST:PORT",
		    target);
		return;
	}
	resolveq_start(&j->rq, j->host, j->deadline_ms, resolved, j);
}

void
tcpcheck_deadline(void)
{
	size_t i;

	for (i = 0; i < MAX_TCP; i++)
		target_deadline(&jobs[i]);
}

void
tcpcheck_reset(void)
{
	size_t i;

	for (i = 0; i < MAX_TCP; i++)
		loop_timer_cancel(&jobs[i].timer);
	memset(jobs, 0, sizeof(jobs));
}
