/*
 * sink — a writer that never blocks PID 1.
 *
 * A sink wraps one output (our stdout, stderr, an fd:N or a file).  Bytes
 * that cannot be written at once wait in a bounded queue supplied by the
 * caller and go out when the loop reports the fd writable.  When the queue
 * is full, a write is refused whole (never cut in the middle) and counted
 * in `dropped`; callers that must not lose data check sink_room() first and
 * apply backpressure instead.
 *
 * Our stdout is usually shared with a service that writes to it directly
 * (raw output), so the sink never sets O_NONBLOCK on a shared open file
 * description: that would leak into the service.  It reopens pipes and
 * terminals through /proc/self/fd/N to get a description of its own, uses
 * send(MSG_DONTWAIT) on sockets, and otherwise falls back to poll() before
 * each write of at most PIPE_BUF bytes.
 *
 * Public API: sink_init(), sink_write(), sink_room(), sink_pending(),
 * sink_flush(); for batches sink_cork(), sink_write3(), sink_space(),
 * sink_commit(), sink_push(), sink_uncork().
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

struct sink {
	int fd;
	enum sink_mode mode;
	bool broken;
	bool fifo; /* fd is a pipe: grown to SINK_PIPE_SIZE when full */
	bool grown; /* tried already */
	char *q;
	size_t qcap, qhead, qlen;
	uint64_t dropped;
	struct loop_io io;
	/* Called when a queue that had bytes is empty again (may be NULL). */
	void (*on_drain)(void);
	/* Corked: writes only queue, until sink_uncork() (one write(2)
	 * for many lines). */
	bool corked;
};

int sink_init(struct sink *s, int fd, char *queue, size_t cap);
int sink_write(struct sink *s, const void *buf, size_t n);
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
 * Corked only: build in place.  sink_space() returns the free bytes at the
 * end of the queue (moving the queue to its start first when fewer than
 * want are free there) and their count in *ret_n; the caller writes into
 * them and sink_commit() queues the first n.  No call per line for a
 * writer that packs many lines at once.
 */
char *sink_space(struct sink *s, size_t want, size_t *ret_n);
void sink_commit(struct sink *s, size_t n);
void sink_uncork(struct sink *s);
size_t sink_pending(const struct sink *s);
void sink_flush(struct sink *s, int timeout_ms);

#endif
