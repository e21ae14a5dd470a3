/*
 * Unit tests of the sink: one sink per stream however many descriptors
 * name it, the room kept for agent-init's own lines, dropped lines
 * counted, the lines nobody started dropped whole at exit (the one half
 * out kept), and one deadline for the flush of every stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "../../core/loop.c"
#include "../../core/sink.c"

/* The two stalled streams of the first test, used again by the next ones
 * (there are SINK_SHARED_MAX shared sinks in all). */
static struct sink *s1, *s2;
static int r1, r2;

/* A pipe that nobody reads, at its smallest, with our end non-blocking. */
static void
stalled_pipe(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	(void)fcntl(p[1], F_SETPIPE_SZ, 4096);
}

/* Fill the pipe behind s, so that nothing more can be written now. */
static void
fill(struct sink *s)
{
	char b[4096];

	memset(b, 'x', sizeof(b));
	while (write(s->fd, b, sizeof(b)) > 0)
		;
	/* Make the pipe as full as it is, once and for all. */
	s->grown = true;
}

static void
test_one_sink_per_stream(void **state)
{
	struct sink *a, *b, *c;
	int p[2], q[2], d;

	(void)state;
	assert_int_equal(loop_init(), 0);
	stalled_pipe(p);
	stalled_pipe(q);
	d = dup(p[1]);
	assert_int_equal(sink_shared(p[1], &a), 0);
	/* Another descriptor of the same pipe (2>&1): the same sink. */
	assert_int_equal(sink_shared(d, &b), 0);
	assert_ptr_equal(a, b);
	assert_int_equal(sink_shared(q[1], &c), 0);
	assert_ptr_not_equal(a, c);
	assert_int_equal(a->reserve, SINK_RESERVE);
	assert_int_equal(sink_shared(-1, &c), -EBADF);
	close(d);
	s1 = a;
	s2 = c;
	r1 = p[0];
	r2 = q[0];
}

static void
test_reserve_is_for_our_own_lines(void **state)
{
	static char line[1000];
	struct sink *s = s1;
	size_t n = 0, room;

	(void)state;
	fill(s);
	memset(line, 'l', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	/* The relay asks sink_room() first, as output.c does. */
	while (sink_room(s) >= sizeof(line)) {
		assert_int_equal(sink_write(s, line, sizeof(line)), 0);
		n++;
	}
	assert_true(n > 150);
	assert_true(
	    sink_pending(s) >= SINK_QUEUE_SIZE - SINK_RESERVE - sizeof(line));
	/* The relay's space to build in leaves the reserve alone too. */
	(void)sink_space(s, 100, &room);
	assert_true(room < sizeof(line));
	/* An event still fits: 64 KiB of room kept for it. */
	memset(line, 'e', sizeof(line) - 1);
	for (n = 0; n < SINK_RESERVE / sizeof(line) - 1; n++)
		assert_int_equal(sink_write(s, line, sizeof(line)), 0);
	assert_int_equal(s->dropped_lines, 0);
}

static void
test_dropped_lines_counted(void **state)
{
	static char big[SINK_QUEUE_SIZE];
	struct sink *s = s2;

	(void)state;
	fill(s);
	memset(big, 'z', sizeof(big));
	big[99] = big[199] = big[sizeof(big) - 1] = '\n';
	assert_int_equal(sink_write(s, big, 200), 0);
	/* Too big for what is left: refused whole, its lines counted. */
	assert_int_equal(sink_write(s, big, sizeof(big)), -ENOBUFS);
	assert_int_equal(s->dropped_lines, 3);
	assert_int_equal(s->dropped, sizeof(big));
	assert_int_equal(sink_pending(s), 200);
	/* The reader goes away: what was queued is lost, and counted. */
	close(r2);
	sink_push(s);
	assert_true(s->broken);
	assert_int_equal(s->dropped_lines, 5);
	assert_int_equal(sink_pending(s), 0);
}

static void
test_discard_keeps_the_line_half_out(void **state)
{
	static char lines[5000 + 14];
	struct sink *s;
	int p[2];
	uint64_t before = sink_dropped_all(), other;
	size_t pending;

	(void)state;
	stalled_pipe(p);
	assert_int_equal(sink_shared(p[1], &s), 0);
	/* A line longer than the pipe: one page goes out, the rest waits. */
	memset(lines, 'a', 5000);
	memcpy(lines + 5000, "\nsecond\nthird\n", 14);
	assert_int_equal(sink_write(s, lines, sizeof(lines)), 0);
	assert_false(s->at_line_start);
	pending = sink_pending(s);
	assert_true(pending > 14 && pending < sizeof(lines));
	/* Every shared sink: the first test's stream still holds the lines
	 * of the second, none of them started. */
	other = count_lines(s1->q + s1->qhead, s1->qlen);
	assert_true(other > 150);
	assert_int_equal(sink_discard_all(), other + 2);
	assert_int_equal(sink_dropped_all() - before, other + 2);
	assert_int_equal(s->dropped_lines, 2);
	assert_int_equal(sink_pending(s1), 0);
	/* What is left is the end of the line that is half out. */
	assert_int_equal(sink_pending(s), pending - 13);
	assert_int_equal(s->q[s->qhead + s->qlen - 1], '\n');
	assert_int_equal(s->q[s->qhead], 'a');
	assert_int_equal(sink_pending_lines_all(), 1);
}

static void
test_flush_all_keeps_one_deadline(void **state)
{
	struct timespec t0, t1;
	long ms;

	(void)state;
	/* A stalled stream with a line queued (its pipe is full for good;
	 * the last test's one is grown, and empties): the flush waits until
	 * the deadline, not longer (test_noblock.py checks that several
	 * streams share one deadline). */
	assert_int_equal(sink_write(s1, "x\n", 2), 0);
	assert_int_equal(sink_pending(s1), 2);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sink_flush_all(loop_now_ms() + 300);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 290);
	assert_true(ms < 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* in this order: they share their streams */
		cmocka_unit_test(test_one_sink_per_stream),
		cmocka_unit_test(test_reserve_is_for_our_own_lines),
		cmocka_unit_test(test_dropped_lines_counted),
		cmocka_unit_test(test_discard_keeps_the_line_half_out),
		cmocka_unit_test(test_flush_all_keeps_one_deadline),
	};

	/* As PID 1, which blocks it: a write to a pipe without a reader
	 * says EPIPE. */
	(void)signal(SIGPIPE, SIG_IGN);
	(void)r1;
	return cmocka_run_group_tests_name("sink", tests, NULL, NULL);
}
