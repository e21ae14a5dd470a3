/*
 * loop — epoll + one timerfd.  See loop.h.
 *
 * Deadlines are kept in an unsorted singly linked list and scanned linearly:
 * an init has a handful of timers (one per service, one per check, the stop
 * budget), so O(N) per pass costs less than keeping a heap in order.  The
 * timerfd is re-armed only when the earliest deadline changes, and disarmed
 * when there is none, so an idle PID 1 sleeps in epoll_wait() with no
 * wake-ups at all.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "hot.h"
#include "loop.h"

#define LOOP_BATCH 64

static int epfd = -1;
static struct loop_io timer_io;
static struct loop_timer *timers;
static uint64_t timerfd_armed_ms; /* 0: disarmed */

uint64_t
loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
on_timerfd(struct loop_io *io, uint32_t revents)
{
	uint64_t expirations;

	(void)revents;
	/* Only drain it: expired timers run at the end of every pass. */
	while (read(io->fd, &expirations, sizeof(expirations)) > 0)
		;
	timerfd_armed_ms = 0;
}

int
loop_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	timer_io.fd =
	    timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (timer_io.fd < 0)
		return -errno;
	timer_io.events = EPOLLIN;
	timer_io.cb = on_timerfd;
	return loop_io_add(&timer_io);
}

int
loop_io_add(struct loop_io *io)
{
	struct epoll_event e = { .events = io->events, .data.ptr = io };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, io->fd, &e) < 0)
		return -errno;
	io->added = true;
	return 0;
}

int
loop_io_mod(struct loop_io *io, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = io };

	if (io->events == events)
		return 0;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, io->fd, &e) < 0)
		return -errno;
	io->events = events;
	return 0;
}

void
loop_io_del(struct loop_io *io)
{
	if (!io->added)
		return;
	/* It fails only if the fd is already closed; nothing to undo then. */
	(void)epoll_ctl(epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->added = false;
}

void
loop_timer_arm(struct loop_timer *t, uint64_t deadline_ms)
{
	if (!t->armed) {
		t->next = timers;
		timers = t;
		t->armed = true;
	}
	t->deadline_ms = deadline_ms;
}

void
loop_timer_cancel(struct loop_timer *t)
{
	struct loop_timer **pp;

	if (!t->armed)
		return;
	for (pp = &timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->armed = false;
	t->next = NULL;
}

/* Run every timer whose deadline has passed.  A callback may re-arm any
 * timer, so restart the scan after each one. */
static void
run_timers(void)
{
	uint64_t now = loop_now_ms();
	struct loop_timer *t;

restart:
	for (t = timers; t; t = t->next) {
		if (t->deadline_ms <= now) {
			loop_timer_cancel(t);
			t->cb(t);
			goto restart;
		}
	}
}

/* Point the timerfd at the earliest deadline, or disarm it. */
static void
arm_timerfd(void)
{
	struct itimerspec its;
	uint64_t earliest = 0;
	struct loop_timer *t;

	for (t = timers; t; t = t->next)
		if (earliest == 0 || t->deadline_ms < earliest)
			earliest = t->deadline_ms;
	if (earliest == timerfd_armed_ms)
		return;
	memset(&its, 0, sizeof(its));
	if (earliest) {
		/* An absolute time of 0 would disarm: use at least 1 ms. */
		its.it_value.tv_sec = (time_t)(earliest / 1000);
		its.it_value.tv_nsec = (long)(earliest % 1000) * 1000000 + 1;
	}
	if (timerfd_settime(timer_io.fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		timerfd_armed_ms = earliest;
}

/*
 * One pass: wait for the next fd event or deadline, dispatch the fd
 * callbacks, then the expired timers.  Returns the number of fd events, or
 * -errno from epoll_wait (EINTR cannot happen: every signal is blocked).
 */
int HOT
loop_run_once(void)
{
	struct epoll_event evs[LOOP_BATCH];
	int n, i;

	arm_timerfd();
	n = epoll_wait(epfd, evs, LOOP_BATCH, -1);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		struct loop_io *io = evs[i].data.ptr;

		/*
		 * An earlier callback of this batch may have removed this io.
		 * The struct itself stays valid (callers own it), so checking
		 * `added` is enough; a spurious call on a non-blocking fd that
		 * was re-added meanwhile only reads EAGAIN.
		 */
		if (io->added)
			io->cb(io, evs[i].events);
	}
	run_timers();
	return n;
}
