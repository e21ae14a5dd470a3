/*
 * Fuzz target: what a service writes to its stdout and stderr, through
 * supervisor/output.c as PID 1 relays it: real pipes, the real loop, the
 * real sinks (pointed at pipes this harness reads instead of our own
 * stdout and stderr).  A service controls every byte: NULs, CRs, invalid
 * UTF-8, lines longer than OUTPUT_LINE_MAX, no final newline.
 *
 * Input: mode byte (prefix or json), repeat count (the body is written up
 * to 8 times, so lines cross OUTPUT_LINE_MAX and get split), stdout share;
 * the rest is the body, split between stdout and stderr.
 *
 * Checked, in prefix mode: nothing lost, nothing changed.  Joining the
 * relayed pieces ("svc| " starts a line, "svc|+ " continues one) gives
 * back exactly what was written, plus the newline a last partial line
 * gets.  In json mode: every line is one valid JSON event.  In both: the
 * tail holds at most tail_lines lines.
 */
#include <assert.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/config.c"
#include "../../core/file.c"
#include "../../supervisor/sandbox.c"
#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/sink.c"
#include "../../core/values.c"
#include "../../supervisor/output.c"

#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define TAIL 5
#define MAXOUT ((size_t)1 << 20)

static struct svc_out out_prefix, out_json;
/* What the sinks write: [0] our "stdout", [1] "stderr", [2] events. */
static int rd[3];
static char got[3][MAXOUT];
static size_t got_len[3];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dest[32];
	int i, p[2];

	(void)argc;
	(void)argv;
	if (loop_init() < 0)
		abort();
	output_init();
	if (output_setup(&out_prefix, "svc", OUTPUT_PREFIX, TAIL) < 0 ||
	    output_setup(&out_json, "svc", OUTPUT_JSON, TAIL) < 0)
		abort();
	for (i = 0; i < 3; i++) {
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			abort();
		(void)fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
		rd[i] = p[0];
		if (i < 2) {
			/* Instead of our own stdout and stderr. */
			if (sink_init(&sinks[i], p[1], i ? q_err : q_out,
			        i ? sizeof(q_err) : sizeof(q_out)) < 0)
				abort();
			sinks[i].on_drain = output_resume;
			sinks_ok[i] = true;
			close(p[1]);
		} else {
			snprintf(dest, sizeof(dest), "fd:%d", p[1]);
			if (events_open(dest) < 0)
				abort();
		}
	}
	return 0;
}

static void
collect(void)
{
	int i;

	for (i = 0; i < 3; i++)
		for (;;) {
			ssize_t n = read(rd[i], got[i] + got_len[i],
			    MAXOUT - got_len[i]);

			if (n <= 0)
				break;
			got_len[i] += (size_t)n;
		}
}

static void
write_all(int fd, const char *b, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		assert(w > 0);
		b += w;
		n -= (size_t)w;
	}
}

/* Join the pieces of one stream and compare with what was written. */
static void
check_prefix(const char *rel, size_t rn, const char *want, size_t wn)
{
	static char joined[MAXOUT];
	size_t j = 0, off = 0;

	while (off < rn) {
		const char *nl = memchr(rel + off, '\n', rn - off);
		size_t n;

		assert(nl);
		n = (size_t)(nl - (rel + off));
		if (n >= 5 && memcmp(rel + off, "svc| ", 5) == 0) {
			memcpy(joined + j, rel + off + 5, n - 5);
			j += n - 5;
			joined[j++] = '\n';
		} else {
			assert(n >= 6 && memcmp(rel + off, "svc|+ ", 6) == 0);
			/* A continuation: the piece before had no newline. */
			assert(j > 0 && joined[j - 1] == '\n');
			j--;
			memcpy(joined + j, rel + off + 6, n - 6);
			j += n - 6;
			joined[j++] = '\n';
		}
		off = (size_t)(nl - rel) + 1;
	}
	/* What was written, with the newline a partial last line gets. */
	assert(j == wn + (wn > 0 && want[wn - 1] != '\n'));
	assert(memcmp(joined, want, wn) == 0);
}

static void
check_json(const char *rel, size_t rn)
{
	size_t off = 0;

	while (off < rn) {
		const char *nl = memchr(rel + off, '\n', rn - off);

		assert(nl);
		assert(
		    json_object_valid(rel + off, (size_t)(nl - (rel + off))));
		off = (size_t)(nl - rel) + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char body[8 * 4096];
	struct svc_out *o;
	size_t n, k, reps, cut;
	char tail[TAIL * OUTPUT_TAIL_WIDTH + 1];
	int fds[2], w[2], i;

	if (size < 3 || size - 3 > 4096)
		return 0;
	o = data[0] & 1 ? &out_json : &out_prefix;
	reps = 1 + data[1] % 8;
	for (n = 0, k = 0; k < reps; k++, n += size - 3)
		memcpy(body + n, data + 3, size - 3);
	cut = n * data[2] / 255;
	memset(got_len, 0, sizeof(got_len));
	if (output_open(o, fds) < 0)
		abort();
	w[0] = dup(fds[0]);
	w[1] = dup(fds[1]);
	output_after_fork(o);
	/* The service writes, then exits. */
	write_all(w[0], body, cut);
	write_all(w[1], body + cut, n - cut);
	close(w[0]);
	close(w[1]);
	for (i = 0; i < 100000 && output_pending(o); i++) {
		struct pollfd p = { .fd = epfd, .events = POLLIN };

		collect();
		if (poll(&p, 1, 1000) > 0)
			(void)loop_run_once();
	}
	assert(!output_pending(o));
	for (i = 0; i < 1000 &&
	     (sink_pending(&sinks[0]) || sink_pending(&sinks[1]) ||
	         sink_pending(&ev_sink));
	     i++) {
		struct pollfd p = { .fd = epfd, .events = POLLIN };

		collect();
		if (poll(&p, 1, 1000) > 0)
			(void)loop_run_once();
	}
	collect();
	if (o == &out_prefix) {
		check_prefix(got[0], got_len[0], body, cut);
		check_prefix(got[1], got_len[1], body + cut, n - cut);
	} else {
		assert(got_len[0] == 0 && got_len[1] == 0);
		check_json(got[2], got_len[2]);
	}
	assert(o->tail_count <= TAIL);
	k = output_tail_text(o, tail, sizeof(tail));
	assert(k < sizeof(tail) && tail[k] == 0);
	return 0;
}
