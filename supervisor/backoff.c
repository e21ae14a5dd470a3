/*
 * backoff — restart delays and the restart limit.  See backoff.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "backoff.h"

void
backoff_init(struct backoff *b, uint64_t first_ms, uint64_t cap_ms,
    uint64_t reset_after_ms, unsigned int max_restarts, uint64_t window_ms,
    uint64_t seed)
{
	memset(b, 0, sizeof(*b));
	/* value_backoff_range() never gives first > cap; should a caller,
	 * the cap wins, as its name says. */
	b->first_ms = first_ms < cap_ms ? first_ms : cap_ms;
	b->cap_ms = cap_ms;
	b->reset_after_ms = reset_after_ms;
	b->max_restarts = max_restarts;
	b->window_ms = window_ms;
	b->next_ms = b->first_ms;
	/* Rounded down, so that 64 slots never reach further back than the
	 * window and the limit never gives up early. */
	b->slot_ms = window_ms / BACKOFF_RING ? window_ms / BACKOFF_RING : 1;
	b->rng = seed;
}

/*
 * splitmix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): one add and two multiplies per number, good
 * output from any seed, 0 included (xorshift would be stuck at 0).  Jitter
 * needs nothing stronger.
 */
static uint64_t
rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
backoff_jitter(uint64_t *rng, uint64_t delay_ms)
{
	uint64_t span = delay_ms / 5, r;

	/* Below 5 ms the span is 0: the delay stays as it is, 0 included. */
	if (span == 0)
		return delay_ms;
	/* Uniform over [delay - span, delay + span]; the modulo's bias is
	 * below 2^-33 for any delay up to the 30 days a duration allows. */
	r = rng_next(rng) % (2 * span + 1);
	if (r <= span)
		return delay_ms - (span - r);
	r -= span;
	return delay_ms > UINT64_MAX - r ? UINT64_MAX : delay_ms + r;
}

/* Exact mode: whether the max_restarts-th last restart is still inside the
 * window; if not, NOW takes its place in the ring. */
static bool
limit_ring(struct backoff *b, uint64_t now_ms)
{
	uint64_t oldest;

	if (b->ring_count < b->max_restarts) {
		b->starts[b->ring_count++] = now_ms;
		return false;
	}
	oldest = b->starts[b->ring_head];
	/* A clock going backwards (it should not) counts as "just now". */
	if (oldest > now_ms || now_ms - oldest < b->window_ms)
		return true;
	b->starts[b->ring_head] = now_ms;
	b->ring_head = (b->ring_head + 1) % b->max_restarts;
	return false;
}

/* Slot mode: forget the slots that left the window, count the rest. */
static bool
limit_slots(struct backoff *b, uint64_t now_ms)
{
	uint64_t slot = now_ms / b->slot_ms, s, count = 0;
	size_t i;

	if (slot < b->last_slot)
		slot = b->last_slot;
	if (slot - b->last_slot >= BACKOFF_RING)
		memset(b->starts, 0, sizeof(b->starts));
	else
		for (s = b->last_slot + 1; s <= slot; s++)
			b->starts[s % BACKOFF_RING] = 0;
	b->last_slot = slot;
	for (i = 0; i < BACKOFF_RING; i++)
		count += b->starts[i];
	if (count >= b->max_restarts)
		return true;
	b->starts[slot % BACKOFF_RING]++;
	return false;
}

/* Whether a restart at NOW would exceed the limit; records it if not.  A
 * restart counts at the exit that decides it, not when its delayed start
 * happens: the caller knows only the former for sure. */
static bool
limit_exceeded(struct backoff *b, uint64_t now_ms)
{
	if (b->max_restarts == 0 || b->window_ms == 0)
		return false;
	if (b->max_restarts <= BACKOFF_RING)
		return limit_ring(b, now_ms);
	return limit_slots(b, now_ms);
}

/* The un-jittered delay for this restart, and the next one doubled up to
 * the cap.  With first_ms 0 every delay is 0 (a crash loop restarts at
 * once until the limit stops it, which is what tests want).  The reset
 * only concerns delays: restarts still count against max_restarts. */
static uint64_t
advance(struct backoff *b, uint64_t uptime_ms)
{
	uint64_t delay_ms;

	if (b->reset_after_ms > 0 && uptime_ms >= b->reset_after_ms)
		b->next_ms = b->first_ms;
	delay_ms = b->next_ms;
	/* Halving the cap instead of doubling the delay cannot overflow. */
	b->next_ms = b->next_ms > b->cap_ms / 2 ? b->cap_ms : b->next_ms * 2;
	return delay_ms;
}

int
backoff_next(struct backoff *b, uint64_t now_ms, uint64_t uptime_ms,
    uint64_t *ret_delay_ms)
{
	if (limit_exceeded(b, now_ms))
		return -EDQUOT;
	*ret_delay_ms = backoff_jitter(&b->rng, advance(b, uptime_ms));
	return 0;
}
