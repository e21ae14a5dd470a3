/*
 * output — captured service output.  See output.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "events.h"
#include "output.h"
#include "sink.h"

/* OUTPUT_NO_SSE2: the portable code on x86-64 too (its unit test). */
#if defined(__SSE2__) && !defined(OUTPUT_NO_SSE2)
#include <emmintrin.h>
#endif

/*
 * The sinks of our stdout and stderr (sink.h): one per stream, shared with
 * the events when they go to the same stream, and the same sink for both
 * when stdout and stderr are one pipe (2>&1).  Their queues hold many
 * lines of slack before backpressure reaches the services.
 */
static struct sink *sinks[2];
static bool sinks_ok[2];
static bool sinks_opened;
static struct out_stream *paused;
static void (*log_cb)(struct svc_out *o);
/* Streams not yet at end-of-file: the shutdown waits for them. */
static unsigned int nopen;
static void (*idle_cb)(void);
static void (*input_cb)(void *data);
/* One relayed line: prefix + OUTPUT_LINE_MAX + newline. */
static char line_buf[OUTPUT_LINE_MAX + (size_t)2 * CONFIG_NAME_MAX];

static void on_readable(struct loop_io *io, uint32_t revents);
static void output_resume(void);

/*
 * Our stdout and stderr become sinks only when some service's output is
 * captured: a lone command in `raw` mode writes to them itself, and
 * agent-init then spends nothing on them.
 */
static void
sinks_open(void)
{
	int i;

	if (sinks_opened)
		return;
	sinks_opened = true;
	for (i = 0; i < 2; i++) {
		sinks_ok[i] = sink_shared(i + 1, &sinks[i]) == 0;
		if (sinks_ok[i])
			sinks[i]->on_drain = output_resume;
	}
}

int
output_init(void)
{
	events_on_drain(output_resume);
	return 0;
}

int
output_setup(struct svc_out *o, const char *name, enum output_mode mode,
    unsigned int tail_lines)
{
	int i;

	memset(o, 0, sizeof(*o));
	if (mode != OUTPUT_RAW)
		sinks_open();
	o->name = name;
	o->name_len = strlen(name);
	o->mode = mode;
	/* Allocated at its first line: a quiet service costs nothing. */
	logring_init(&o->log, mode == OUTPUT_RAW ? 0 : OUTPUT_LOG_RING);
	/* Longer names (none pass the config) take the line-by-line path. */
	if (o->name_len + 2 + OUTPUT_BLOCK <= sizeof(o->prefix)) {
		memcpy(o->prefix, name, o->name_len);
		memcpy(o->prefix + o->name_len, "| ", 2);
		o->prefix_len = o->name_len + 2;
	}
	for (i = 0; i < 2; i++) {
		o->s[i].owner = o;
		o->s[i].which = i + 1;
		o->s[i].io.fd = -1;
		o->s[i].child_fd = -1;
		if (mode != OUTPUT_RAW) {
			o->s[i].buf = calloc(1, OUTPUT_BUF_SIZE + OUTPUT_BLOCK);
			if (!o->s[i].buf)
				return -ENOMEM;
		}
	}
	if (tail_lines > 0 && mode != OUTPUT_RAW) {
		/* The config allows up to 1000 lines; relay_fast() keeps
		 * track of this many. */
		if (tail_lines > OUTPUT_TAIL_RING)
			tail_lines = OUTPUT_TAIL_RING;
		o->tail = calloc(tail_lines, OUTPUT_TAIL_WIDTH);
		if (!o->tail)
			return -ENOMEM;
		o->tail_cap = tail_lines;
	}
	if (mode != OUTPUT_RAW) {
		char *ring = malloc(CAUSE_RING);

		if (!ring)
			return -ENOMEM;
		cause_ring_init(&o->cause, ring, CAUSE_RING);
	}
	return 0;
}

static void
close_stream(struct out_stream *st)
{
	struct out_stream **pp;

	for (pp = &paused; *pp; pp = &(*pp)->next_paused)
		if (*pp == st) {
			*pp = st->next_paused;
			break;
		}
	st->paused = false;
	if (st->io.fd >= 0) {
		loop_io_del(&st->io);
		close(st->io.fd);
		st->io.fd = -1;
	}
	if (st->child_fd >= 0) {
		close(st->child_fd);
		st->child_fd = -1;
	}
	if (st->open && --nopen == 0 && idle_cb)
		idle_cb();
	st->open = false;
	st->len = 0;
	st->continued = false;
}

unsigned int
output_open_streams(void)
{
	return nopen;
}

void
output_on_idle(void (*cb)(void))
{
	idle_cb = cb;
}

void
output_on_input(void (*cb)(void *data))
{
	input_cb = cb;
}

void
output_close(struct svc_out *o)
{
	close_stream(&o->s[0]);
	close_stream(&o->s[1]);
}

int
output_open(struct svc_out *o, int ret_fds[2])
{
	int i, p[2];

	output_close(o);
	/* The tail is this run's: service_exit tells how this run ended. */
	o->tail_head = o->tail_count = 0;
	cause_ring_reset(&o->cause);
	if (o->mode == OUTPUT_RAW) {
		ret_fds[0] = STDOUT_FILENO;
		ret_fds[1] = STDERR_FILENO;
		return 0;
	}
	for (i = 0; i < 2; i++) {
		if (pipe2(p, O_CLOEXEC) < 0) {
			int e = errno;

			output_close(o);
			return -e;
		}
		(void)fcntl(p[0], F_SETFL, O_NONBLOCK);
		o->s[i].io.fd = p[0];
		o->s[i].io.events = EPOLLIN;
		o->s[i].io.cb = on_readable;
		o->s[i].io.data = &o->s[i];
		o->s[i].child_fd = p[1];
		o->s[i].open = true;
		nopen++;
		ret_fds[i] = p[1];
	}
	return 0;
}

void
output_after_fork(struct svc_out *o)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct out_stream *st = &o->s[i];

		if (st->child_fd >= 0) {
			close(st->child_fd);
			st->child_fd = -1;
		}
		if (st->open && loop_io_add(&st->io) < 0)
			close_stream(st);
	}
}

static void
tail_add(struct svc_out *o, const char *line, size_t n)
{
	char *slot;

	if (!o->tail_cap)
		return;
	slot = o->tail + (size_t)o->tail_head * OUTPUT_TAIL_WIDTH;
	if (n > OUTPUT_TAIL_WIDTH - 1)
		n = OUTPUT_TAIL_WIDTH - 1;
	memcpy(slot, line, n);
	slot[n] = 0;
	o->tail_head = (o->tail_head + 1) % o->tail_cap;
	if (o->tail_count < o->tail_cap)
		o->tail_count++;
}

static const char *
tail_line(const struct svc_out *o, unsigned int i)
{
	unsigned int first =
	    (o->tail_head + o->tail_cap - o->tail_count) % o->tail_cap;

	return o->tail +
	    (size_t)((first + i) % o->tail_cap) * OUTPUT_TAIL_WIDTH;
}

void
output_tail_json(const struct svc_out *o, const char *key)
{
	unsigned int i;

	ev_arr_begin(key);
	for (i = 0; i < o->tail_count; i++)
		ev_arr_str(tail_line(o, i));
	ev_arr_end();
}

size_t
output_tail_text(const struct svc_out *o, char *buf, size_t cap)
{
	unsigned int i, first = 0;
	size_t total = 0, len = 0;

	if (cap == 0)
		return 0;
	/* Keep the newest lines that fit. */
	for (i = o->tail_count; i > 0; i--) {
		size_t n = strlen(tail_line(o, i - 1)) + 1;

		if (total + n > cap - 1)
			break;
		total += n;
		first = i - 1;
	}
	if (i > 0)
		first = i;
	for (i = first; i < o->tail_count; i++) {
		const char *l = tail_line(o, i);
		size_t n = strlen(l);

		memcpy(buf + len, l, n);
		buf[len + n] = '\n';
		len += n + 1;
	}
	buf[len] = 0;
	return len;
}

/*
 * The tail gets, of the n lines relayed at once, the last ones, whose
 * starts are in ring (slot i % OUTPUT_TAIL_RING for line i) and which end
 * one byte (their newline) before the next line's start, or before end:
 * only those are copied, instead of every line as it goes by.
 */
static void
tail_add_lines(struct svc_out *o, const char *buf, const uint32_t *ring,
    size_t n, size_t end)
{
	size_t i = n > o->tail_cap ? n - o->tail_cap : 0;

	for (; i < n; i++) {
		size_t a = ring[i % OUTPUT_TAIL_RING];
		size_t b = i + 1 < n ? ring[(i + 1) % OUTPUT_TAIL_RING] : end;

		tail_add(o, buf + a, b - 1 - a);
	}
}

/*
 * Copy one block of OUTPUT_BLOCK bytes.  A memcpy() of a constant size
 * compiles to two moves; one of a variable size is, at -Os, a `rep
 * movsb` whose start-up alone costs more than a short line (it was the
 * relay's top cost): hence whole blocks, with slack to spare.
 */
static inline void
copy_block(char *dst, const char *src)
{
	memcpy(dst, src, OUTPUT_BLOCK);
}

/*
 * Copy src to dst up to its first newline among the first lim bytes and
 * return that newline's offset, or lim if there is none (what was copied
 * is then of no use).  With SSE2 (every x86-64) it goes a block at a time,
 * copying and searching in one pass; it may read and write up to a block
 * past the newline or lim: the read buffer is padded, and the caller
 * counts a block of slack in the destination.
 */
static inline size_t
copy_line(char *dst, const char *src, size_t lim)
{
#if defined(__SSE2__) && !defined(OUTPUT_NO_SSE2)
	const __m128i nl = _mm_set1_epi8('\n');
	size_t i;

	for (i = 0; i < lim; i += OUTPUT_BLOCK) {
		__m128i v = _mm_loadu_si128((const void *)(src + i));
		unsigned int m;

		_mm_storeu_si128((void *)(dst + i), v);
		m = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl));
		if (m) {
			i += (size_t)__builtin_ctz(m);
			return i < lim ? i : lim;
		}
	}
	return lim;
#else
	const char *nl = memchr(src, '\n', lim);

	if (!nl)
		return lim;
	memcpy(dst, src, (size_t)(nl - src));
	return (size_t)(nl - src);
#endif
}

/*
 * Whether relay_fast() may take this stream's next lines: prefix mode into
 * a live, corked sink, no split line to continue, no `log:` probe reading
 * the lines.
 */
static bool
fast_ok(const struct out_stream *st)
{
	const struct svc_out *o = st->owner;
	const struct sink *k = sinks[st->which - 1];

	return o->mode == OUTPUT_PREFIX && o->prefix_len > 0 &&
	    !st->continued && !(o->on_line && o->line_watch) &&
	    sinks_ok[st->which - 1] && !k->broken && k->corked;
}

/*
 * Prefix mode's common case, the relay's hot loop: complete lines of at
 * most OUTPUT_LINE_MAX bytes, each copied with its prefix straight into
 * the queue of our stdout or stderr while it is searched for its newline;
 * no call per line, and the tail filled once at the end.  It stops where a
 * line needs more care (a piece of a long line, a partial last line, a
 * queue without room for it) and returns the offset reached: relay_lines()
 * takes that line, one at a time as before.
 */
static size_t
relay_fast(struct out_stream *st, size_t off)
{
	struct svc_out *o = st->owner;
	struct sink *k = sinks[st->which - 1];
	size_t pl = o->prefix_len, room, used = 0, lines = 0, start = off;
	char *q = sink_space(k, OUTPUT_BUF_SIZE, &room);
	/* Where the last lines start, for the tail. */
	uint32_t ring[OUTPUT_TAIL_RING];

	while (off < st->len) {
		size_t lim = st->len - off, n;

		if (lim > OUTPUT_LINE_MAX + 1)
			lim = OUTPUT_LINE_MAX + 1;
		if (pl + lim + OUTPUT_BLOCK > room - used) {
			if (pl + OUTPUT_BLOCK + 1 >= room - used)
				break;
			lim = room - used - pl - OUTPUT_BLOCK;
		}
		copy_block(q + used, o->prefix);
		if (pl > OUTPUT_BLOCK) {
			size_t i;

			for (i = OUTPUT_BLOCK; i < pl; i += OUTPUT_BLOCK)
				copy_block(q + used + i, o->prefix + i);
		}
		n = copy_line(q + used + pl, st->buf + off, lim);
		if (n == lim)
			break;
		q[used + pl + n] = '\n';
		used += pl + n + 1;
		ring[lines++ % OUTPUT_TAIL_RING] = (uint32_t)off;
		off += n + 1;
	}
	sink_commit(k, used);
	tail_add_lines(o, st->buf, ring, lines, off);
	if (lines) {
		/* One copy of the whole batch, no work per line. */
		(void)logring_put(&o->log, st->which, st->buf + start,
		    off - start, lines);
		o->log_new = true;
	}
	return off;
}

/* Bytes the destination needs to take a line of n bytes whole. */
static size_t
stream_needed(const struct out_stream *st, size_t n)
{
	if (st->owner->mode == OUTPUT_JSON)
		return 6 * n + 256 + (size_t)2 * CONFIG_NAME_MAX; /* escaping */
	return n + st->owner->name_len + 4;
}

static size_t
stream_room(const struct out_stream *st)
{
	if (st->owner->mode == OUTPUT_JSON)
		return events_room();
	if (!sinks_ok[st->which - 1] || sinks[st->which - 1]->broken)
		return (size_t)-1; /* nobody reads: do not stall the service */
	return sink_room(sinks[st->which - 1]);
}

/*
 * A line as `log` events.  Escaped, a line can outgrow an event (control
 * bytes and invalid UTF-8 take six bytes each): it then goes out in as
 * many events as it takes, each but the last marked continued, never cut
 * without a trace.
 */
static void
relay_json(struct out_stream *st, const char *line, size_t n, bool more)
{
	static const char cont[] = ",\"continued\":true";
	size_t used;

	do {
		ev_begin("log");
		ev_str("service", st->owner->name);
		ev_str("stream", st->which == 1 ? "stdout" : "stderr");
		used = ev_strn_part("line", line, n, sizeof(cont));
		if (used < n || more)
			ev_bool("continued", true);
		ev_emit();
		line += used;
		n -= used;
	} while (n > 0 && used > 0);
}

static void
relay(struct out_stream *st, const char *line, size_t n, bool more)
{
	struct svc_out *o = st->owner;
	bool cont = st->continued;

	if (o->mode == OUTPUT_JSON) {
		relay_json(st, line, n, more);
	} else if (sinks_ok[st->which - 1]) {
		struct sink *k = sinks[st->which - 1];
		size_t pl = o->name_len;

		if (k->corked) {
			/* Straight into the queue: no copy through line_buf. */
			(void)sink_write3(k, o->name, pl,
			    st->continued ? "|+ " : "| ", st->continued ? 3 : 2,
			    line, n);
		} else {
			memcpy(line_buf, o->name, pl);
			memcpy(line_buf + pl, st->continued ? "|+ " : "| ", 3);
			pl += st->continued ? 3 : 2;
			memcpy(line_buf + pl, line, n);
			line_buf[pl + n] = '\n';
			(void)sink_write(k, line_buf, pl + n + 1);
		}
	}
	st->continued = more;
	if (!more || n == OUTPUT_LINE_MAX)
		tail_add(o, line, n);
	(void)logring_put_line(&o->log, st->which, line, n);
	o->log_new = true;
	if (o->on_line && o->line_watch) {
		/* The line may make the service ready: out with it first,
		 * so that `service_ready` never comes before its line. */
		if (o->mode != OUTPUT_JSON && sinks_ok[st->which - 1])
			sink_push(sinks[st->which - 1]);
		o->on_line(o->data, st->which, line, n, cont);
	}
}

static void
pause_stream(struct out_stream *st)
{
	if (st->paused)
		return;
	st->paused = true;
	loop_io_del(&st->io);
	st->next_paused = paused;
	paused = st;
}

/*
 * What was relayed of the buffer, buf[0..off), goes to the cause ring:
 * whole lines (a piece of a long one at worst), so that the two streams
 * never mix within a line; a last line without its newline (at the end)
 * gets one.  One copy of at most CAUSE_RING bytes per batch.
 */
static void
keep_for_cause(struct out_stream *st, size_t off, bool at_end)
{
	struct cause_ring *r = &st->owner->cause;

	if (!r->cap || off == 0)
		return;
	cause_ring_add(r, st->buf, off);
	if (at_end && st->buf[off - 1] != '\n')
		cause_ring_add(r, "\n", 1);
}

/*
 * Relay the complete lines in the buffer (and a full buffer as a piece,
 * or the partial rest when at_end).  Returns false when the destination
 * is full: the stream is then paused with the rest kept in the buffer.
 */
static bool
relay_lines(struct out_stream *st, bool at_end)
{
	size_t off = 0;

	while (off < st->len) {
		char *nl;
		size_t n;
		bool more = false;

		if (fast_ok(st)) {
			off = relay_fast(st, off);
			if (off == st->len)
				break;
		}
		nl = memchr(st->buf + off, '\n', st->len - off);

		if (nl && (size_t)(nl - (st->buf + off)) <= OUTPUT_LINE_MAX)
			n = (size_t)(nl - (st->buf + off));
		else if (st->len - off >= OUTPUT_LINE_MAX) {
			/* Too long for one line: a piece, marked. */
			n = OUTPUT_LINE_MAX;
			nl = NULL;
			more = true;
		} else if (at_end)
			n = st->len - off;
		else
			break;
		if (stream_room(st) < stream_needed(st, n) &&
		    st->owner->mode != OUTPUT_JSON) {
			/* Our batch may be what fills the queue: write it
			 * out before deciding that the reader is slow. */
			sink_push(sinks[st->which - 1]);
		}
		if (stream_room(st) < stream_needed(st, n)) {
			keep_for_cause(st, off, false);
			memmove(st->buf, st->buf + off, st->len - off);
			st->len -= off;
			pause_stream(st);
			return false;
		}
		relay(st, st->buf + off, n, more);
		off += n + (nl ? 1 : 0);
	}
	keep_for_cause(st, off, at_end);
	memmove(st->buf, st->buf + off, st->len - off);
	st->len -= off;
	return true;
}

/* Read and relay until the pipe is empty, the sink is full or 64 KiB. */
static void
pump(struct out_stream *st)
{
	size_t budget = 4 * OUTPUT_LINE_MAX;

	while (st->open && !st->paused) {
		ssize_t r;

		if (!relay_lines(st, false))
			return;
		if (budget == 0)
			return; /* let the other streams have a turn */
		r = read(st->io.fd, st->buf + st->len,
		    OUTPUT_BUF_SIZE - st->len);
		if (r > 0) {
			st->len += (size_t)r;
			budget -= (size_t)r < budget ? (size_t)r : budget;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		/* End of the pipe (or an error): the rest is the last line. */
		if (!relay_lines(st, true))
			return; /* resumed later; EOF is read again then */
		close_stream(st);
	}
}

/* One write(2) per wake-up rather than one per line. */
static void
pump_batched(struct out_stream *st)
{
	struct sink *k =
	    st->owner->mode == OUTPUT_JSON ? NULL : sinks[st->which - 1];

	if (k && sinks_ok[st->which - 1])
		sink_cork(k);
	pump(st);
	if (k && sinks_ok[st->which - 1])
		sink_uncork(k);
	/* Followers hear once per wake-up, not once per line. */
	if (st->owner->log_new && st->owner->followers && log_cb) {
		st->owner->log_new = false;
		log_cb(st->owner);
	}
}

static void
on_readable(struct loop_io *io, uint32_t revents)
{
	struct out_stream *st = io->data;

	(void)revents;
	if (input_cb)
		input_cb(st->owner->data);
	pump_batched(st);
}

/*
 * A queue drained: give every paused stream another go.  Resuming can
 * drain a queue again, which calls us again: run those rounds one after
 * the other, not nested.
 */
static void
output_resume(void)
{
	static bool running, again;
	struct out_stream *list, *st;

	if (running) {
		again = true;
		return;
	}
	running = true;
	do {
		again = false;
		list = paused;
		paused = NULL;
		while (list) {
			st = list;
			list = st->next_paused;
			st->paused = false;
			if (!st->open)
				continue;
			if (loop_io_add(&st->io) < 0) {
				close_stream(st);
				continue;
			}
			pump_batched(st);
		}
	} while (again);
	running = false;
}

void
output_drain(struct svc_out *o)
{
	if (o->s[0].open)
		pump_batched(&o->s[0]);
	if (o->s[1].open)
		pump_batched(&o->s[1]);
}

bool
output_pending(const struct svc_out *o)
{
	return o->s[0].open || o->s[1].open;
}

bool
output_busy(const struct svc_out *o)
{
	return (o->s[0].open && o->s[0].paused) ||
	    (o->s[1].open && o->s[1].paused);
}

/*
 * A line of agent-init's own for whoever reads stderr rather than the
 * events ("agent-init: NAME: why").  Through the stderr sink like every
 * other line there: never a blocking write(2) to a descriptor whose reader
 * stopped reading, and never cut by a relayed line.
 */
void
output_notice(const char *name, const char *text)
{
	char line[512];
	int n;

	sinks_open();
	if (!sinks_ok[1])
		return;
	n = snprintf(line, sizeof(line), "agent-init: %s: %s\n", name, text);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)sink_write(sinks[1], line, (size_t)n);
}

void
output_on_log(void (*cb)(struct svc_out *o))
{
	log_cb = cb;
}
