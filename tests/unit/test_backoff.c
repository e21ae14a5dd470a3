/*
 * Unit tests of the restart arithmetic: the doubling sequence (checked
 * exactly through the un-jittered advance()), the jitter's bounds, the
 * reset after a long uptime, the restart limit at its exact edges, and
 * reproducible jitter from a seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../supervisor/backoff.c"

#define SEED 42

static void
assert_sequence(struct backoff *b, const uint64_t *want, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(advance(b, 0), want[i]);
}

static void
test_doubling(void **state)
{
	static const uint64_t want[] = { 100, 200, 400, 800, 1000, 1000 };
	static const uint64_t want30[] = { 100, 200, 400, 800, 1600, 3200, 6400,
		12800, 25600, 30000, 30000 };
	static const uint64_t want_clamped[] = { 100, 100 };
	struct backoff b;

	(void)state;
	backoff_init(&b, 100, 1000, 0, 0, 0, SEED);
	assert_sequence(&b, want, 6);
	backoff_init(&b, 100, 30000, 0, 0, 0, SEED);
	assert_sequence(&b, want30, 11);
	/* A first delay above the cap is the cap. */
	backoff_init(&b, 500, 100, 0, 0, 0, SEED);
	assert_sequence(&b, want_clamped, 2);
}

/* Doubling up to the largest cap neither overflows nor stops short. */
static void
test_doubling_overflow(void **state)
{
	struct backoff b;
	uint64_t prev = 0, d = 0;
	int i;

	(void)state;
	backoff_init(&b, 1, UINT64_MAX, 0, 0, 0, SEED);
	for (i = 0; i < 70; i++) {
		d = advance(&b, 0);
		assert_true(d >= prev);
		prev = d;
	}
	assert_true(d == UINT64_MAX);
}

/* Zero backoff: every restart at once, jitter or not. */
static void
test_zero(void **state)
{
	struct backoff b;
	uint64_t d = 7;
	int i;

	(void)state;
	backoff_init(&b, 0, 0, 0, 0, 0, SEED);
	for (i = 0; i < 10; i++) {
		assert_int_equal(backoff_next(&b, 0, 0, &d), 0);
		assert_int_equal(d, 0);
	}
	backoff_init(&b, 0, 1000, 0, 0, 0, SEED);
	for (i = 0; i < 10; i++) {
		assert_int_equal(backoff_next(&b, 0, 0, &d), 0);
		assert_int_equal(d, 0);
	}
}

static void
test_jitter_bounds(void **state)
{
	uint64_t rng = SEED, d, lo = UINT64_MAX, hi = 0;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		d = backoff_jitter(&rng, 1000);
		assert_in_range(d, 800, 1200);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	/* It does spread over the whole range, both ways. */
	assert_true(lo <= 810);
	assert_true(hi >= 1190);
	assert_int_equal(backoff_jitter(&rng, 0), 0);
	/* Below 5 ms, 20% rounds to nothing. */
	assert_int_equal(backoff_jitter(&rng, 4), 4);
	for (i = 0; i < 100; i++)
		assert_in_range(backoff_jitter(&rng, 5), 4, 6);
	/* No wrap-around at the top. */
	for (i = 0; i < 100; i++)
		assert_true(backoff_jitter(&rng, UINT64_MAX) >=
		    UINT64_MAX - UINT64_MAX / 5);
}

/* What backoff_next() returns is the doubling sequence, jittered. */
static void
test_next_jittered(void **state)
{
	static const uint64_t want[] = { 100, 200, 400, 800, 1600, 3200, 6400,
		12800, 25600, 30000, 30000, 30000 };
	struct backoff b;
	uint64_t d;
	size_t i;

	(void)state;
	backoff_init(&b, 100, 30000, 0, 0, 0, SEED);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(backoff_next(&b, i * 1000, 10, &d), 0);
		assert_in_range(d, want[i] - want[i] / 5,
		    want[i] + want[i] / 5);
	}
}

static void
test_reset_after(void **state)
{
	static const uint64_t want[] = { 100, 200, 400 };
	struct backoff b;

	(void)state;
	backoff_init(&b, 100, 30000, 5000, 0, 0, SEED);
	assert_sequence(&b, want, 3);
	/* Just short of reset_after: the sequence goes on. */
	assert_int_equal(advance(&b, 4999), 800);
	/* Up that long: back to the first delay, then doubling again. */
	assert_int_equal(advance(&b, 5000), 100);
	assert_int_equal(advance(&b, 0), 200);
	assert_int_equal(advance(&b, 60000), 100);
	/* reset_after 0 never resets. */
	backoff_init(&b, 100, 30000, 0, 0, 0, SEED);
	assert_sequence(&b, want, 3);
	assert_int_equal(advance(&b, UINT64_MAX), 800);
}

/* max_restarts 3 in 30 s: the 4th restart within 30 s gives up. */
static void
test_limit_exact(void **state)
{
	struct backoff b;
	uint64_t d = 7;

	(void)state;
	backoff_init(&b, 0, 0, 0, 3, 30000, SEED);
	assert_int_equal(backoff_next(&b, 1000, 0, &d), 0);
	assert_int_equal(backoff_next(&b, 2000, 0, &d), 0);
	assert_int_equal(backoff_next(&b, 3000, 0, &d), 0);
	d = 7;
	assert_int_equal(backoff_next(&b, 3000, 0, &d), -EDQUOT);
	assert_int_equal(d, 7);
	/* Still within the window of the first one at 1000. */
	assert_int_equal(backoff_next(&b, 30999, 0, &d), -EDQUOT);
	/* The first one has left the window. */
	assert_int_equal(backoff_next(&b, 31000, 0, &d), 0);
	assert_int_equal(backoff_next(&b, 31000, 0, &d), -EDQUOT);

	/* Every restart at once: the (max_restarts + 1)-th gives up. */
	backoff_init(&b, 0, 0, 0, 1, 1000, SEED);
	assert_int_equal(backoff_next(&b, 0, 0, &d), 0);
	assert_int_equal(backoff_next(&b, 0, 0, &d), -EDQUOT);
	backoff_init(&b, 0, 0, 0, BACKOFF_RING, 1000, SEED);
	for (int i = 0; i < BACKOFF_RING; i++)
		assert_int_equal(backoff_next(&b, 5, 0, &d), 0);
	assert_int_equal(backoff_next(&b, 5, 0, &d), -EDQUOT);
}

/* Restarts spread wider than the window never give up. */
static void
test_limit_spread(void **state)
{
	struct backoff b;
	uint64_t d, t;

	(void)state;
	backoff_init(&b, 100, 30000, 0, 3, 30000, SEED);
	/* Four in every 30 s is one too many... */
	for (t = 0; t < 30000; t += 10000)
		assert_int_equal(backoff_next(&b, t, 0, &d), 0);
	/* ...unless the first is exactly 30 s old. */
	for (t = 30000; t < 3000000; t += 10000)
		assert_int_equal(backoff_next(&b, t, 0, &d), 0);
	backoff_init(&b, 100, 30000, 0, 3, 30000, SEED);
	for (t = 0; t < 30000; t += 10000)
		assert_int_equal(backoff_next(&b, t, 0, &d), 0);
	assert_int_equal(backoff_next(&b, 29999, 0, &d), -EDQUOT);
}

static void
test_limit_unlimited(void **state)
{
	struct backoff b;
	uint64_t d;
	int i;

	(void)state;
	backoff_init(&b, 0, 0, 0, 0, 30000, SEED);
	for (i = 0; i < 1000; i++)
		assert_int_equal(backoff_next(&b, 0, 0, &d), 0);
}

/* Above BACKOFF_RING the limit is counted in slots: exact for a burst,
 * never early for a rate just under the limit. */
static void
test_limit_slots(void **state)
{
	struct backoff b;
	uint64_t d, t;
	int i;

	(void)state;
	backoff_init(&b, 0, 0, 0, 100, 6400, SEED);
	for (i = 0; i < 100; i++)
		assert_int_equal(backoff_next(&b, 0, 0, &d), 0);
	assert_int_equal(backoff_next(&b, 0, 0, &d), -EDQUOT);
	assert_int_equal(backoff_next(&b, 6399, 0, &d), -EDQUOT);
	assert_int_equal(backoff_next(&b, 6400, 0, &d), 0);
	/* Far later, everything is forgotten. */
	for (i = 0; i < 100; i++)
		assert_int_equal(backoff_next(&b, 1000000, 0, &d), 0);
	assert_int_equal(backoff_next(&b, 1000000, 0, &d), -EDQUOT);

	/* One restart per 65 ms: at most 99 in any 6.4 s, always fine. */
	backoff_init(&b, 0, 0, 0, 100, 6400, SEED);
	for (t = 0; t < 200000; t += 65)
		assert_int_equal(backoff_next(&b, t, 0, &d), 0);
	/* One per 60 ms: 107 in 6.4 s, too many, though not before the
	 * 101st. */
	backoff_init(&b, 0, 0, 0, 100, 6400, SEED);
	for (i = 0, t = 0; backoff_next(&b, t, 0, &d) == 0; i++, t += 60)
		assert_true(t < 200000);
	assert_true(i >= 100);
}

static void
test_seed(void **state)
{
	struct backoff a, b, c;
	uint64_t da, db, dc;
	int i, differ = 0;

	(void)state;
	backoff_init(&a, 1000, 1000, 0, 0, 0, 1);
	backoff_init(&b, 1000, 1000, 0, 0, 0, 1);
	backoff_init(&c, 1000, 1000, 0, 0, 0, 2);
	for (i = 0; i < 32; i++) {
		assert_int_equal(backoff_next(&a, 0, 0, &da), 0);
		assert_int_equal(backoff_next(&b, 0, 0, &db), 0);
		assert_int_equal(backoff_next(&c, 0, 0, &dc), 0);
		assert_int_equal(da, db);
		differ += da != dc;
	}
	assert_true(differ > 16);
	/* Seed 0 jitters too (splitmix64 has no stuck state). */
	backoff_init(&a, 1000, 1000, 0, 0, 0, 0);
	for (i = 0, differ = 0; i < 32; i++) {
		assert_int_equal(backoff_next(&a, 0, 0, &da), 0);
		differ += da != 1000;
	}
	assert_true(differ > 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubling),
		cmocka_unit_test(test_doubling_overflow),
		cmocka_unit_test(test_zero),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_next_jittered),
		cmocka_unit_test(test_reset_after),
		cmocka_unit_test(test_limit_exact),
		cmocka_unit_test(test_limit_spread),
		cmocka_unit_test(test_limit_unlimited),
		cmocka_unit_test(test_limit_slots),
		cmocka_unit_test(test_seed),
	};

	return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
