/*
 * pidswatch — zombies and pids pressure.  See pidswatch.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "events.h"
#include "loop.h"
#include "pidswatch.h"
#include "supervisor.h"

/* Parents followed from one scan to the next, and named ones. */
#define PIDS_TRACK 32
#define PIDS_SCAN_MAX 65536
#define PIDS_SVC_MAX 64

static struct {
	uint64_t period_ms;
	bool pid1;
	pid_t self;
	char dir[512]; /* the pids cgroup, or "" */
	struct loop_timer timer;
	/* Parents at or above the minimum in the last scan. */
	struct pids_tally last[PIDS_TRACK];
	size_t nlast;
	struct pids_mark marks[PIDS_TRACK];
	unsigned int marks_next;
	bool near_reported; /* pids_max named; again below 80% */
	uint64_t near_at_ms;
} pw;

/* --- pure ---------------------------------------------------------------- */

static int
by_pressure(const void *a, const void *b)
{
	const struct pids_tally *x = a, *y = b;

	if (x->zombies != y->zombies)
		return x->zombies < y->zombies ? 1 : -1;
	if (x->children != y->children)
		return x->children < y->children ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t
pids_tally(const struct proctab *t, pid_t self, struct pids_tally *ret,
    size_t cap, pid_t *ret_busiest)
{
	struct pids_tally *all = calloc(t->n ? t->n : 1, sizeof(*all));
	size_t i, n = 0, busiest = 0;
	bool any = false;

	*ret_busiest = 0;
	if (!all)
		return 0;
	for (i = 0; i < t->n; i++)
		all[i].pid = t->p[i].pid;
	/* The table is sorted by pid: a parent's slot is where its pid is. */
	for (i = 0; i < t->n; i++) {
		const struct proc_info *pp = proctab_get(t, t->p[i].ppid);
		size_t k;

		if (!pp || pp->pid == self)
			continue;
		k = (size_t)(pp - t->p);
		all[k].children++;
		if (t->p[i].state == 'Z')
			all[k].zombies++;
		if (!any || all[k].children > all[busiest].children) {
			busiest = k;
			any = true;
		}
	}
	if (any)
		*ret_busiest = all[busiest].pid;
	qsort(all, t->n, sizeof(*all), by_pressure);
	for (i = 0; i < t->n && n < cap && all[i].children; i++)
		ret[n++] = all[i];
	free(all);
	return n;
}

bool
pids_due(const struct pids_mark *m, unsigned int zombies, uint64_t now)
{
	if (!m || !m->at_ms)
		return true;
	return zombies >= 2 * m->zombies || now - m->at_ms >= PIDS_REPEAT_MS;
}

/* --- the scan ------------------------------------------------------------ */

static struct pids_mark *
mark_of(pid_t pid)
{
	size_t i;

	for (i = 0; i < PIDS_TRACK; i++)
		if (pw.marks[i].pid == pid && pw.marks[i].at_ms)
			return &pw.marks[i];
	return NULL;
}

static bool
held_before(pid_t pid)
{
	size_t i;

	for (i = 0; i < pw.nlast; i++)
		if (pw.last[i].pid == pid)
			return true;
	return false;
}

/* The service pid belongs to (its process, a descendant, its group). */
static const char *
service_of(const struct proctab *t, pid_t pid)
{
	pid_t roots[PIDS_SVC_MAX], groups[PIDS_SVC_MAX];
	size_t i, n = sup_count();
	int k;

	for (i = 0; i < n && i < PIDS_SVC_MAX; i++) {
		roots[i] = sup_service(i)->pid;
		groups[i] = sup_service(i)->pgid;
	}
	k = proctab_owner(t, pid, roots, groups, i);
	return k >= 0 ? sup_service((size_t)k)->name : NULL;
}

static void
emit(const struct proctab *t, const char *reason, const struct pids_tally *p,
    const unsigned long long *cur, const unsigned long long *max)
{
	const struct proc_info *pi = proctab_get(t, p->pid);
	const char *svc = service_of(t, p->pid);

	ev_begin("pids_pressure");
	ev_str("reason", reason);
	ev_int("pid", p->pid);
	if (pi)
		ev_str("comm", pi->comm);
	else
		ev_null("comm");
	if (svc)
		ev_str("service", svc);
	else
		ev_null("service");
	ev_int("zombies", p->zombies);
	ev_int("children", p->children);
	if (cur)
		ev_int("pids_current", (long long)*cur);
	else
		ev_null("pids_current");
	if (max)
		ev_int("pids_max", (long long)*max);
	else
		ev_null("pids_max");
	ev_emit();
}

/* Our pids cgroup: its count and limit, when it has them. */
static void
read_pids(unsigned long long **ret_cur, unsigned long long *cur,
    unsigned long long **ret_max, unsigned long long *max)
{
	*ret_cur = *ret_max = NULL;
	if (!*pw.dir)
		return;
	if (cgroup_read_value(pw.dir, "pids.current", cur) == 0)
		*ret_cur = cur;
	if (cgroup_read_value(pw.dir, "pids.max", max) == 0)
		*ret_max = max;
}

static void
name_zombie_parents(const struct proctab *t, const struct pids_tally *tl,
    size_t n, unsigned long long *cur, unsigned long long *max)
{
	struct pids_tally keep[PIDS_TRACK] = { { 0 } };
	size_t i, nkeep = 0, sent = 0;
	uint64_t now = loop_now_ms();

	for (i = 0; i < n && tl[i].zombies >= PIDS_ZOMBIES_MIN; i++) {
		struct pids_mark *m = mark_of(tl[i].pid);

		if (nkeep < PIDS_TRACK)
			keep[nkeep++] = tl[i];
		if (!held_before(tl[i].pid) || sent == PIDS_EVENTS_MAX ||
		    !pids_due(m, tl[i].zombies, now))
			continue;
		emit(t, "zombies", &tl[i], cur, max);
		sent++;
		if (!m)
			m = &pw.marks[pw.marks_next++ % PIDS_TRACK];
		m->pid = tl[i].pid;
		m->at_ms = now;
		m->zombies = tl[i].zombies;
	}
	memcpy(pw.last, keep, nkeep * sizeof(keep[0]));
	pw.nlast = nkeep;
}

static void
name_busiest(const struct proctab *t, const struct pids_tally *tl, size_t n,
    pid_t busiest, unsigned long long *cur, unsigned long long *max)
{
	struct pids_tally b = { .pid = busiest };
	uint64_t now = loop_now_ms();
	size_t i;

	if (!cur || !max || *max == 0)
		return;
	if (*cur * 10 < *max * 8)
		pw.near_reported = false; /* well below again */
	if (*cur * 10 < *max * 9 || busiest <= 0 ||
	    (pw.near_reported && now - pw.near_at_ms < PIDS_REPEAT_MS))
		return;
	for (i = 0; i < n; i++)
		if (tl[i].pid == busiest)
			b = tl[i];
	emit(t, "pids_max", &b, cur, max);
	pw.near_reported = true;
	pw.near_at_ms = now;
}

/*
 * Not PID 1 (a subreaper on a host): only our descendants are our
 * business.  Filtered in place; the table stays sorted.
 */
static void
keep_ours(struct proctab *t)
{
	bool *keep = calloc(t->n ? t->n : 1, sizeof(*keep));
	pid_t zero = 0;
	size_t i, n = 0;

	if (!keep) {
		t->n = 0; /* better nothing than the whole host */
		return;
	}
	/* Decide first: the ancestry walks need the whole table. */
	for (i = 0; i < t->n; i++)
		keep[i] =
		    proctab_owner(t, t->p[i].pid, &pw.self, &zero, 1) == 0;
	for (i = 0; i < t->n; i++)
		if (keep[i])
			t->p[n++] = t->p[i];
	t->n = n;
	free(keep);
}

static void
scan(void)
{
	struct pids_tally tl[PIDS_TRACK * 2];
	unsigned long long c, m, *cur, *max;
	struct proctab t;
	pid_t busiest;
	size_t n;

	if (proctab_scan(&t, PIDS_SCAN_MAX) < 0)
		return;
	if (!pw.pid1)
		keep_ours(&t);
	n = pids_tally(&t, pw.self, tl, sizeof(tl) / sizeof(tl[0]), &busiest);
	read_pids(&cur, &c, &max, &m);
	name_zombie_parents(&t, tl, n, cur, max);
	name_busiest(&t, tl, n, busiest, cur, max);
	proctab_free(&t);
}

static void
on_timer(struct loop_timer *t)
{
	if (sup_running())
		scan();
	loop_timer_arm(t, loop_now_ms() + pw.period_ms);
}

void
pidswatch_start(uint64_t period_ms, bool pid1)
{
	if (!period_ms)
		return;
	pw.period_ms = period_ms;
	pw.pid1 = pid1;
	pw.self = getpid();
	if (cgroup_find("pids", pw.dir, sizeof(pw.dir)) < 0)
		pw.dir[0] = 0;
	pw.timer.cb = on_timer;
	loop_timer_arm(&pw.timer, loop_now_ms() + period_ms);
}
