/*
 * values — parsers for the values a user writes: durations, booleans,
 * counts.  Pure (no syscalls, no logging), shared by the command line and
 * the configuration, unit tested and fuzzed directly.
 *
 * Durations: "250ms", "2s", "1m", "1h", or a bare number of seconds; at
 * most VALUES_DURATION_MAX_MS.  Booleans: yes/no, true/false, on/off, 1/0.
 * Each returns 0 or -EINVAL and writes its ret_* only on success.
 */
#ifndef AGENT_INIT_VALUES_H
#define AGENT_INIT_VALUES_H

#include <stdbool.h>
#include <stdint.h>

/* 30 days: far beyond any sensible timeout, far below any overflow. */
#define VALUES_DURATION_MAX_MS (30ULL * 24 * 3600 * 1000)

int value_duration_ms(const char *s, uint64_t *ret_ms);
int value_bool(const char *s, bool *ret);
int value_uint(const char *s, unsigned long max, unsigned long *ret);
/* Whether S is an events destination: stdout, stderr, fd:N or file:PATH
 * (the number and the path are checked when it is opened). */
bool value_events_dest(const char *s);

#endif
