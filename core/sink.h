/*
 * sink — a writer that never blocks PID 1, one per stream.
 *
 * A sink wraps one output (our stdout, stderr, an fd:N or a file).  Bytes
 * that cannot be written at once wait in a bounded queue and go out when
 * the loop reports the fd writable.  When the queue is full, a write is
 * refused whole (never cut in the middle) and counted in `dropped` (bytes)
 * and `dropped_lines`; callers that must not lose data check sink_room()
 * first and apply backpressure instead.
 *
 * One writer per stream.  Two descriptors of one pipe (stdout and stderr
 * as `2>&1`, events to stdout beside the services' relayed lines) written
 * by two sinks would interleave their partial writes: a line of one cut by
 * a line of the other, and what follows the cut starting a line of its
 * own (a service's `{"agent_init":"ready"...` at the start of a line).
 * sink_shared() therefore hands out one sink per open file (device and
 * inode of what the fd refers to), with a queue of SINK_QUEUE_SIZE bytes:
 * every line of agent-init's for that stream goes through it, in order,
 * each written whole before the next one starts.
 *
 * Room for agent-init's own lines.  A shared sink keeps SINK_RESERVE bytes
 * of its queue for events and notices: sink_room() and sink_space(), which
 * the relay of service output asks before it writes, leave it out, while
 * sink_write() of an event may use it.  A flood of service output then
 * waits for the reader (backpressure) instead of pushing out a
 * `service_exit`.
 *
 * Our stdout is usually shared with a service that writes to it directly
 * (raw output), so the sink never sets O_NONBLOCK on a shared open file
 * description: that would leak into the service.  It reopens pipes and
 * terminals through /proc/self/fd/N to get a description of its own, uses
 * send(MSG_DONTWAIT) on sockets, and otherwise falls back to poll() before
 * each write of at most PIPE_BUF bytes.
 *
 * Public API: sink_shared(), sink_init(), sink_write(), sink_room(),
 * sink_pending(); for batches sink_cork(), sink_write3(), sink_space(),
 * sink_commit(), sink_push(), sink_uncork(); at exit sink_flush_all(),
 * sink_discard_all(), sink_dropped_all(), sink_pending_lines_all().
 */
#ifndef AGENT_INIT_SINK_H
#define AGENT_INIT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

enum sink_mode { SINK_WRITE, SINK_SEND, SINK_CHUNKED, SINK_MODE_MAX };

/* What a pipe we write faster than it is read is grown to (once). */
#define SINK_PIPE_SIZE (1024 * 1024)
/* The queue of a shared sink, and the part kept for our own lines: an
 * event is at most 64 KiB (EV_LINE_MAX). */
#define SINK_QUEUE_SIZE ((size_t)256 * 1024)
#define SINK_RESERVE ((size_t)64 * 1024)
/* Distinct streams at most: stdout, stderr, the events, and one spare. */
#define SINK_SHARED_MAX 4

struct sink {
	int fd;
	enum sink_mode mode;
	bool broken;
	bool fifo; /* fd is a pipe: grown to SINK_PIPE_SIZE when full */
	bool grown; /* tried already */
	/* The last byte written was a newline: nothing is half out. */
	bool at_line_start;
	char *q;
	size_t qcap, qhead, qlen;
	size_t reserve; /* kept free for our own lines (sink_room) */
	uint64_t dropped, dropped_lines;
	struct loop_io io;
	/* Called when a queue that had bytes is empty again (may be NULL). */
	void (*on_drain)(void);
	/* Corked: writes only queue, until sink_uncork() (one write(2)
	 * for many lines). */
	bool corked;
};

/*
 * The sink of the stream fd refers to: the one already made for that
 * stream through another descriptor, else a new one (with a descriptor
 * of its own; fd stays the caller's).  -ENOSPC past SINK_SHARED_MAX.
 */
int sink_shared(int fd, struct sink **ret);
/* A sink of one's own over queue (unit tests); no reserve. */
int sink_init(struct sink *s, int fd, char *queue, size_t cap);
int sink_write(struct sink *s, const void *buf, size_t n);
/* What the relay may queue now: the free room less the reserve. */
size_t sink_room(const struct sink *s);
/*
 * Batch: between sink_cork() and sink_uncork() every sink_write() only
 * queues; sink_uncork() writes the queue out as far as the fd takes it
 * now.  sink_push() does that write without ending the batch.
 */
void sink_cork(struct sink *s);
/* Corked only: queue a, b, c and a newline as one line; -ENOBUFS. */
int sink_write3(struct sink *s, const char *a, size_t an, const char *b,
    size_t bn, const char *c, size_t cn);
void sink_push(struct sink *s);
/*
 * Corked only: build in place.  sink_space() returns the bytes at the end
 * of the queue the relay may fill (moving the queue to its start first
 * when fewer than want are free there; never into the reserve) and their
 * count in *ret_n; the caller writes into them and sink_commit() queues
 * the first n.  No call per line for a writer that packs many lines.
 */
char *sink_space(struct sink *s, size_t want, size_t *ret_n);
void sink_commit(struct sink *s, size_t n);
void sink_uncork(struct sink *s);
size_t sink_pending(const struct sink *s);

/*
 * At exit, for every shared sink.  sink_flush_all() writes out what the
 * queues hold until they are empty or deadline_ms (monotonic) passes: one
 * deadline for all of them together.  sink_discard_all() drops the lines
 * nobody started to write (a line half out is kept, so that a reader who
 * comes back never sees it torn) and counts them as dropped, so that a
 * last line still fits; it returns how many.  sink_dropped_all() is the
 * number of lines dropped so far, sink_pending_lines_all() of those still
 * queued.
 */
void sink_flush_all(uint64_t deadline_ms);
uint64_t sink_discard_all(void);
uint64_t sink_dropped_all(void);
uint64_t sink_pending_lines_all(void);

#endif
