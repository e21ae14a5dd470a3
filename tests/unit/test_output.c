/*
 * Unit tests of the prefix relay: whatever mix of lines comes in, in
 * whatever chunks, the bytes written out and the tail are exactly those of
 * a plain reference relay (a line at a time, SPEC section 5): prefix,
 * 16 KiB pieces marked "NAME|+ ", the partial last line at the end.  The
 * hot loop (relay_fast) and the line-by-line path share every stream, so
 * the mixes are made to cross between them: long lines, lines cut by the
 * read chunks, a queue so small that it runs out of room mid-batch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/mman.h>

#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/sink.c"
#include "../../core/logring.c"
#include "../../supervisor/cause.c"
#include "../../supervisor/output.c"

struct bytes {
	char *p;
	size_t n, cap;
};

static void
put(struct bytes *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static uint64_t rng = 88172645463325252ULL;

static uint64_t
rnd(uint64_t below)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng % below;
}

/* The reference: SPEC section 5, one line at a time, no buffer at all. */
static void
reference(const char *name, const struct bytes *in, struct bytes *out,
    struct bytes *pieces)
{
	size_t pos = 0;
	bool cont = false;

	while (pos < in->n) {
		const char *nl = memchr(in->p + pos, '\n', in->n - pos);
		size_t n, adv;
		bool more = false;

		if (nl && (size_t)(nl - (in->p + pos)) <= OUTPUT_LINE_MAX) {
			n = (size_t)(nl - (in->p + pos));
			adv = n + 1;
		} else if (in->n - pos >= OUTPUT_LINE_MAX) {
			n = adv = OUTPUT_LINE_MAX;
			more = true;
		} else {
			n = adv = in->n - pos;
		}
		put(out, name, strlen(name));
		put(out, cont ? "|+ " : "| ", cont ? 3 : 2);
		put(out, in->p + pos, n);
		put(out, "\n", 1);
		/* every line and piece goes to the tail, cut to its width */
		n = n < OUTPUT_TAIL_WIDTH - 1 ? n : OUTPUT_TAIL_WIDTH - 1;
		put(pieces, in->p + pos, n);
		put(pieces, "", 1);
		cont = more;
		pos += adv;
	}
}

/* A mix of lines: mostly short, some around 16 KiB, some far longer. */
static void
make_input(struct bytes *in, size_t total, bool partial_end)
{
	while (in->n < total) {
		uint64_t k = rnd(100);
		size_t n, i;
		char c;

		if (k < 80)
			n = (size_t)rnd(120);
		else if (k < 90)
			n = (size_t)rnd(600);
		else if (k < 97)
			n = OUTPUT_LINE_MAX - 20 + (size_t)rnd(40);
		else
			n = (size_t)rnd(3 * OUTPUT_LINE_MAX + 100);
		for (i = 0; i < n; i++) {
			c = (char)(' ' + rnd(95));
			put(in, &c, 1);
		}
		put(in, "\n", 1);
	}
	if (partial_end) {
		put(in, "no newline at the end", 21);
	}
}

/*
 * Relay `in` as the loop would: read chunks of random size into the
 * stream's buffer, relay after each, the rest at the end.  The sink is a
 * memfd: it never makes us wait, so the stream never pauses.
 */
static void
run_relay(const char *name, unsigned int tail_lines, size_t qcap,
    const struct bytes *in, struct bytes *out, struct svc_out *o)
{
	/* exactly qcap bytes: ASan sees a copy that goes past the room */
	char *q = malloc(qcap);
	struct out_stream *st;
	size_t pos = 0;
	ssize_t r;
	int fd = memfd_create("relay", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(output_setup(o, name, OUTPUT_PREFIX, tail_lines), 0);
	assert_non_null(q);
	static struct sink k;

	assert_int_equal(sink_init(&k, fd, q, qcap), 0);
	sinks[0] = &k;
	sinks_ok[0] = true;
	st = &o->s[0];
	st->open = true;
	while (pos < in->n) {
		size_t n = 1 + (size_t)rnd(OUTPUT_BUF_SIZE);

		if (n > OUTPUT_BUF_SIZE - st->len)
			n = OUTPUT_BUF_SIZE - st->len;
		if (n > in->n - pos)
			n = in->n - pos;
		memcpy(st->buf + st->len, in->p + pos, n);
		st->len += n;
		pos += n;
		sink_cork(sinks[0]);
		/* the hot loop is on unless a split line goes on */
		assert_true(fast_ok(st) || st->continued);
		assert_true(relay_lines(st, false));
		sink_uncork(sinks[0]);
	}
	sink_cork(sinks[0]);
	assert_true(relay_lines(st, true));
	sink_uncork(sinks[0]);
	assert_int_equal(st->len, 0);
	assert_int_equal(sink_pending(sinks[0]), 0);
	assert_int_equal(sinks[0]->dropped, 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	out->n = 0;
	for (;;) {
		char buf[65536];

		r = read(fd, buf, sizeof(buf));
		assert_true(r >= 0);
		if (r == 0)
			break;
		put(out, buf, (size_t)r);
	}
	close(fd);
	close(sinks[0]->fd);
	sinks_ok[0] = false;
	free(q);
}

/* The tail holds the last tail_lines lines and pieces, oldest first. */
static void
assert_tail(const struct svc_out *o, const struct bytes *pieces,
    unsigned int tail_lines)
{
	size_t i, npieces = 0, first;
	const char *p;

	for (i = 0; i < pieces->n; i++)
		npieces += pieces->p[i] == 0;
	first = npieces > tail_lines ? npieces - tail_lines : 0;
	assert_int_equal(o->tail_count, npieces - first);
	for (p = pieces->p, i = 0; i < npieces; p += strlen(p) + 1, i++)
		if (i >= first)
			assert_string_equal(
			    tail_line(o, (unsigned int)(i - first)), p);
}

/*
 * The log ring holds the newest lines and pieces, whole, each with a
 * newline: a suffix of them all (as the reference cuts them), starting at
 * a line.
 */
static void
assert_log(struct svc_out *o, const struct bytes *in)
{
	struct bytes all = { 0 }, got = { 0 };
	struct logring_cur c;
	struct logring_chunk ch;
	static char buf[8192];
	size_t pos = 0, i;
	uint64_t nl = 0;

	while (pos < in->n) {
		const char *e = memchr(in->p + pos, '\n', in->n - pos);
		size_t n = e ? (size_t)(e - (in->p + pos)) : in->n - pos;
		size_t adv = e ? n + 1 : n;

		if (n > OUTPUT_LINE_MAX)
			n = adv = OUTPUT_LINE_MAX;
		put(&all, in->p + pos, n);
		put(&all, "\n", 1);
		pos += adv;
	}
	logring_seek_last(&o->log, UINT64_MAX, &c);
	while (logring_read(&o->log, &c, buf, sizeof(buf), &ch)) {
		assert_int_equal(ch.skipped, 0);
		assert_int_equal(ch.stream, 1);
		put(&got, buf, ch.n);
	}
	for (i = 0; i < got.n; i++)
		nl += got.p[i] == '\n';
	assert_int_equal(nl, logring_lines(&o->log));
	assert_true(got.n > 0 && got.n <= all.n);
	assert_true(got.n == all.n || all.p[all.n - got.n - 1] == '\n');
	assert_memory_equal(got.p, all.p + all.n - got.n, got.n);
	/* Full: at least half the ring's bytes are lines. */
	assert_true(got.n > OUTPUT_LOG_RING / 4 || got.n == all.n);
	logring_free(&o->log);
	free(all.p);
	free(got.p);
}

static void
check(const char *name, unsigned int tail_lines, size_t qcap, size_t total,
    bool partial_end)
{
	struct bytes in = { 0 }, want = { 0 }, got = { 0 }, pieces = { 0 };
	struct svc_out o;

	make_input(&in, total, partial_end);
	reference(name, &in, &want, &pieces);
	run_relay(name, tail_lines, qcap, &in, &got, &o);
	assert_int_equal(got.n, want.n);
	assert_memory_equal(got.p, want.p, want.n);
	assert_tail(&o, &pieces, tail_lines);
	assert_log(&o, &in);
	free(o.tail);
	free(o.cause.buf);
	free(o.s[0].buf);
	free(o.s[1].buf);
	free(in.p);
	free(want.p);
	free(got.p);
	free(pieces.p);
}

static void
test_relay_matches_reference(void **state)
{
	(void)state;
	check("gen", 50, 256 * 1024, 4 << 20, false);
	check("gen", 50, 256 * 1024, 1 << 20, true);
}

static void
test_relay_long_name_and_big_tail(void **state)
{
	char name[CONFIG_NAME_MAX];

	(void)state;
	/* the longest name a config allows: a prefix of several blocks */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	check(name, 1000, 256 * 1024, 2 << 20, true);
	check("x", 1, 256 * 1024, 1 << 20, false);
}

static void
test_relay_small_queue(void **state)
{
	(void)state;
	/* room for one longest piece and little more: the hot loop runs out
	 * of room mid-batch again and again */
	check("gen", 50, OUTPUT_LINE_MAX + 2 * CONFIG_NAME_MAX + 100, 2 << 20,
	    true);
	check("gen", 0, OUTPUT_LINE_MAX + 3000, 1 << 20, true);
}

/* Only short lines, none split: the hot loop takes them all. */
static void
test_relay_short_lines(void **state)
{
	struct bytes in = { 0 }, want = { 0 }, got = { 0 }, pieces = { 0 };
	struct svc_out o;
	unsigned int i;
	char line[64];

	(void)state;
	for (i = 0; i < 100000; i++) {
		int n = snprintf(line, sizeof(line), "%u%.*s\n", i,
		    (int)(i % 40), "0123456789012345678901234567890123456789");

		put(&in, line, (size_t)n);
	}
	reference("svc", &in, &want, &pieces);
	run_relay("svc", 3, 256 * 1024, &in, &got, &o);
	assert_int_equal(got.n, want.n);
	assert_memory_equal(got.p, want.p, want.n);
	assert_tail(&o, &pieces, 3);
	assert_string_equal(tail_line(&o, 2),
	    "99999012345678901234567890123456789012345678");
	assert_log(&o, &in);
	free(o.tail);
	free(o.cause.buf);
	free(o.s[0].buf);
	free(o.s[1].buf);
	free(in.p);
	free(want.p);
	free(got.p);
	free(pieces.p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_matches_reference),
		cmocka_unit_test(test_relay_long_name_and_big_tail),
		cmocka_unit_test(test_relay_small_queue),
		cmocka_unit_test(test_relay_short_lines),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
