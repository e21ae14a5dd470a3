/*
 * watch_stubs.h — the stubs test_oomwatch.c and test_pidswatch.c share:
 * a clock that moves only when a test moves fake_ms, timers that only
 * record their deadline, and an event writer that appends
 * "name key=value ...;" per event to evlog.  Included once, by one test
 * program each (the definitions are that program's own).
 */
#ifndef AGENT_INIT_WATCH_STUBS_H
#define AGENT_INIT_WATCH_STUBS_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "events.h"
#include "loop.h"

static uint64_t fake_ms = 1000000;
static char evlog[4096];

uint64_t
loop_now_ms(void)
{
	return fake_ms;
}

void
loop_timer_arm(struct loop_timer *t, uint64_t deadline_ms)
{
	t->armed = true;
	t->deadline_ms = deadline_ms;
}

static void
evlogf(const char *fmt, ...)
{
	size_t used = strlen(evlog);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(evlog + used, sizeof(evlog) - used, fmt, ap);
	va_end(ap);
}

void
ev_begin(const char *name)
{
	evlogf("%s", name);
}

void
ev_str(const char *key, const char *val)
{
	evlogf(" %s=%s", key, val);
}

void
ev_int(const char *key, long long val)
{
	evlogf(" %s=%lld", key, val);
}

void
ev_null(const char *key)
{
	evlogf(" %s=null", key);
}

void
ev_emit(void)
{
	evlogf(";");
}

#endif
