/*
 * Unit tests of the log ring (core/logring.c): the last N lines come back
 * exactly; a reader that falls behind learns exactly how many lines it
 * missed and goes on with whole records; and, against a model of every
 * line ever written, any mix of record sizes, ring sizes and reader
 * chunk sizes gives the reader each line it did not miss, whole and in
 * order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "../../core/logring.c"

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(uint64_t below)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % below;
}

/* Read everything from c into out (streams as 'o'/'e' before each
 * chunk); the skipped lines are added to *skipped. */
static size_t
drain(const struct logring *r, struct logring_cur *c, char *out, size_t cap,
    size_t chunk, uint64_t *skipped)
{
	struct logring_chunk ch;
	size_t n = 0;

	while (n < cap &&
	    logring_read(r, c, out + n, chunk < cap - n ? chunk : cap - n,
	        &ch)) {
		*skipped += ch.skipped;
		n += ch.n;
	}
	return n;
}

/* Every other line through logring_put_line(): the same records. */
static void
put_line(struct logring *r, int stream, const char *s)
{
	static unsigned int k;

	if (k++ % 2)
		assert_int_equal(logring_put(r, stream, s, strlen(s), 1), 0);
	else
		assert_int_equal(logring_put_line(r, stream, s, strlen(s) - 1),
		    0);
}

static void
test_last_lines(void **state)
{
	struct logring r;
	struct logring_cur c;
	struct logring_chunk ch;
	char out[256];
	uint64_t sk = 0;
	size_t n;

	(void)state;
	logring_init(&r, 4096);
	/* Nothing yet: nothing to read, not even a buffer. */
	logring_seek_last(&r, 10, &c);
	assert_false(logring_read(&r, &c, out, sizeof(out), &ch));
	assert_null(r.buf);
	put_line(&r, 1, "one\n");
	assert_int_equal(logring_put(&r, 2, "two\nthree\n", 10, 2), 0);
	put_line(&r, 1, "four\n");
	assert_int_equal(logring_lines(&r), 4);
	logring_seek_last(&r, 2, &c);
	n = drain(&r, &c, out, sizeof(out), 100, &sk);
	assert_int_equal(n, 11);
	assert_memory_equal(out, "three\nfour\n", 11);
	assert_int_equal(sk, 0);
	assert_true(logring_caught_up(&r, &c));
	/* The stream of each chunk: "three" came from stderr. */
	logring_seek_last(&r, 3, &c);
	assert_true(logring_read(&r, &c, out, sizeof(out), &ch));
	assert_int_equal(ch.stream, 2);
	assert_int_equal(ch.n, 10);
	assert_true(logring_read(&r, &c, out, sizeof(out), &ch));
	assert_int_equal(ch.stream, 1);
	assert_false(logring_read(&r, &c, out, sizeof(out), &ch));
	/* More than there is: all of it; none: at the end. */
	logring_seek_last(&r, 99, &c);
	n = drain(&r, &c, out, sizeof(out), 3, &sk);
	assert_memory_equal(out, "one\ntwo\nthree\nfour\n", n);
	logring_seek_last(&r, 0, &c);
	assert_true(logring_caught_up(&r, &c));
	/* A follower at the end sees what comes next. */
	put_line(&r, 1, "five\n");
	n = drain(&r, &c, out, sizeof(out), 100, &sk);
	assert_memory_equal(out, "five\n", n);
	logring_free(&r);
}

/* A ring of 96 bytes: each record is 24 + payload. */
static void
test_reader_falls_behind(void **state)
{
	struct logring r;
	struct logring_cur c;
	struct logring_chunk ch;
	char out[256];
	uint64_t sk = 0;
	size_t n;
	int i;

	(void)state;
	logring_init(&r, 96);
	put_line(&r, 1, "a1\n");
	logring_seek_last(&r, 1, &c);
	/* 10 lines of 27-byte records: only the last 3 fit. */
	for (i = 0; i < 10; i++) {
		char l[16];

		snprintf(l, sizeof(l), "b%d\n", i);
		put_line(&r, 1, l);
	}
	assert_int_equal(logring_lines(&r), 3);
	assert_true(logring_read(&r, &c, out, sizeof(out), &ch));
	/* a1 and b0..b6 are gone. */
	assert_int_equal(ch.skipped, 8);
	assert_int_equal(ch.n, 3);
	assert_memory_equal(out, "b7\n", 3);
	n = drain(&r, &c, out, sizeof(out), 100, &sk);
	assert_int_equal(sk, 0);
	assert_memory_equal(out, "b8\nb9\n", n);
	/* Mid-record when it goes: the rest of its line counts as missed. */
	assert_int_equal(logring_put(&r, 1, "cc\ndd\n", 6, 2), 0);
	assert_true(logring_read(&r, &c, out, 2, &ch));
	assert_memory_equal(out, "cc", 2);
	for (i = 0; i < 4; i++)
		put_line(&r, 2, "ee\n");
	assert_true(logring_read(&r, &c, out, sizeof(out), &ch));
	/* cc and dd (read in part), and the first ee */
	assert_int_equal(ch.skipped, 3);
	assert_int_equal(ch.stream, 2);
	logring_free(&r);
}

/* A record longer than the ring keeps its last whole lines. */
static void
test_long_record(void **state)
{
	struct logring r;
	struct logring_cur c;
	char big[200], out[256];
	uint64_t sk = 0;
	size_t n;

	(void)state;
	logring_init(&r, 64);
	memset(big, 'x', sizeof(big));
	big[99] = '\n';
	memcpy(big + 180, "\ntail-line\n", 11);
	assert_int_equal(logring_put(&r, 1, big, 191, 3), 0);
	assert_int_equal(logring_lines(&r), 1);
	logring_seek_last(&r, 9, &c);
	n = drain(&r, &c, out, sizeof(out), 100, &sk);
	assert_int_equal(n, 10);
	assert_memory_equal(out, "tail-line\n", 10);
	/* One long line and nothing whole at the end of the cut: dropped. */
	memset(big, 'y', sizeof(big));
	big[199] = '\n';
	assert_int_equal(logring_put(&r, 1, big, 200, 1), 0);
	assert_int_equal(logring_lines(&r), 1);
	/* A reader after tail-line is told it missed that one. */
	{
		struct logring_chunk ch;

		put_line(&r, 2, "z\n");
		assert_true(logring_read(&r, &c, out, sizeof(out), &ch));
		assert_int_equal(ch.skipped, 1);
		assert_int_equal(ch.n, 2);
	}
	logring_free(&r);
}

/*
 * The model: every line ever written, numbered.  The reader must see
 * lines in order; a line it sees whole is the model's line at its
 * number; skips add up exactly to the lines it never saw whole.
 */
static void
one_model_run(size_t cap, unsigned int rounds)
{
	static char lines[4000][80];
	struct logring r;
	struct logring_cur c;
	struct logring_chunk ch;
	char batch[1024], out[128], partial[256];
	size_t plen = 0;
	uint64_t nl = 0, seen = 0, want;
	unsigned int i;

	logring_init(&r, cap);
	logring_seek_last(&r, 0, &c);
	for (i = 0; i < rounds && nl < 3900; i++) {
		size_t bn = 0;
		uint64_t k = 0;

		while (bn < 200 && rnd(3)) {
			size_t len = 1 + rnd(40), j;

			for (j = 0; j < len; j++)
				lines[nl][j] = (char)('a' + (nl + j) % 26);
			lines[nl][len] = '\n';
			lines[nl][len + 1] = 0;
			memcpy(batch + bn, lines[nl], len + 1);
			bn += len + 1;
			nl++;
			k++;
		}
		if (bn)
			assert_int_equal(
			    logring_put(&r, 1 + (int)rnd(2), batch, bn, k), 0);
		while (rnd(4) &&
		    logring_read(&r, &c, out, 1 + rnd(sizeof(out) - 1), &ch)) {
			size_t j;

			if (ch.skipped) {
				plen = 0; /* a partial line is missed */
				seen += ch.skipped;
			}
			for (j = 0; j < ch.n; j++) {
				partial[plen++] = out[j];
				assert_true(plen < sizeof(partial));
				if (out[j] != '\n')
					continue;
				partial[plen] = 0;
				assert_true(seen < nl);
				assert_string_equal(partial, lines[seen]);
				seen++;
				plen = 0;
			}
		}
	}
	/* At the end every line is seen or counted as missed. */
	while (logring_read(&r, &c, out, sizeof(out), &ch)) {
		size_t j;

		if (ch.skipped) {
			plen = 0;
			seen += ch.skipped;
		}
		for (j = 0; j < ch.n; j++)
			if (out[j] == '\n') {
				seen++;
				plen = 0;
			}
	}
	want = nl;
	assert_int_equal(seen, want);
	assert_int_equal(c.line, r.lines);
	logring_free(&r);
}

static void
test_model(void **state)
{
	(void)state;
	one_model_run(64, 500);
	one_model_run(300, 800);
	one_model_run(1000, 2000);
	one_model_run(4096, 2000);
	one_model_run(65536, 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_lines),
		cmocka_unit_test(test_reader_falls_behind),
		cmocka_unit_test(test_long_record),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests_name("logring", tests, NULL, NULL);
}
