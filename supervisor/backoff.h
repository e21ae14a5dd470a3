/*
 * backoff — when to restart a service that exited, and when to give up
 * (SPEC 6).  Pure arithmetic on times the caller passes in: no clock, no
 * syscalls, no logging, so every sequence is unit tested exactly.
 *
 * Delays double from first_ms to cap_ms, each jittered by at most +-20% so
 * a fleet of sandboxes does not restart in lock-step.  An exit after an
 * uptime of reset_after_ms or more starts over at first_ms.  More than
 * max_restarts restarts within the trailing window_ms gives up.
 *
 * Public API: backoff_init(), backoff_next(), backoff_jitter().
 */
#ifndef AGENT_INIT_BACKOFF_H
#define AGENT_INIT_BACKOFF_H

#include <stdint.h>

/*
 * Restart times kept per service.  Up to this many max_restarts, the limit
 * is exact: the ring holds the last max_restarts restart times.  Above it,
 * the window is cut into BACKOFF_RING slots of window_ms / BACKOFF_RING
 * (rounded down) that count restarts, and only the newest BACKOFF_RING
 * slots count: the window is in effect up to about one slot shorter, so
 * giving up may come a little late, never early.
 */
#define BACKOFF_RING 64

struct backoff {
	/* Configuration, from value_backoff_range() and friends. */
	uint64_t first_ms, cap_ms;
	uint64_t reset_after_ms; /* 0: never reset */
	unsigned int max_restarts; /* 0: unlimited */
	uint64_t window_ms;
	/* State. */
	uint64_t next_ms; /* the next restart's delay before jitter */
	/* Exact mode: restart times, ring_count of them, the oldest at
	 * ring_head once ring_count == max_restarts.  Slot mode: restart
	 * counts per slot; slot_ms wide, the newest slot number last_slot. */
	uint64_t starts[BACKOFF_RING];
	unsigned int ring_head, ring_count;
	uint64_t slot_ms, last_slot;
	uint64_t rng; /* splitmix64 state */
};

/* SEED picks the jitter sequence: the same seed gives the same delays
 * (AGENT_INIT_JITTER_SEED); choosing a random one is the caller's job. */
void backoff_init(struct backoff *b, uint64_t first_ms, uint64_t cap_ms,
    uint64_t reset_after_ms, unsigned int max_restarts, uint64_t window_ms,
    uint64_t seed);
/* The service exited at NOW_MS after running UPTIME_MS.  Returns 0 with
 * the jittered delay before its restart, or -EDQUOT when this restart
 * would be one more than max_restarts within window_ms: give up. */
int backoff_next(struct backoff *b, uint64_t now_ms, uint64_t uptime_ms,
    uint64_t *ret_delay_ms);
/* DELAY_MS moved by a random amount of at most 20% of it either way. */
uint64_t backoff_jitter(uint64_t *rng, uint64_t delay_ms);

#endif
