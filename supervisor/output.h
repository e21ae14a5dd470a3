/*
 * output — a service's stdout and stderr: pipes, lines, relay, tail.
 *
 * Each captured stream is a non-blocking pipe read in the loop and cut
 * into lines in a fixed buffer of OUTPUT_LINE_MAX bytes.  A longer line is
 * relayed in pieces: in `prefix` mode a piece that continues the previous
 * one starts with "NAME|+ " instead of "NAME| "; in `json` mode every
 * piece but the last has "continued": true.  A partial last line is
 * relayed when the pipe ends.
 *
 * Nothing is dropped and PID 1 never blocks: before relaying a line we
 * check that the destination queue (our stdout or stderr sink, or the
 * event sink in `json` mode) can take it whole.  If it cannot, the stream
 * stops being read (the service then blocks in write(2) once its pipe is
 * full) and resumes when the queue drains.
 *
 * `raw` mode does not capture: the service writes to our own stdout and
 * stderr, as under tini, and its tail stays empty.
 *
 * Public API: output_init(), output_setup(), output_open(),
 * output_after_fork(), output_drain(), output_close(), output_busy(),
 * output_pending(), output_tail_json(), output_tail_text(),
 * output_open_streams(), output_on_idle(), output_flush().
 */
#ifndef AGENT_INIT_OUTPUT_H
#define AGENT_INIT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "loop.h"

#define OUTPUT_LINE_MAX ((size_t)16 * 1024)
/* Each stream reads into this much at a time. */
#define OUTPUT_BUF_SIZE ((size_t)64 * 1024)
#define OUTPUT_TAIL_WIDTH 240
/* At most this many tail lines (a power of two; the config allows 1000). */
#define OUTPUT_TAIL_RING 1024U
/*
 * The relay copies and scans 16 bytes at a time: a read buffer has this
 * much zeroed room after OUTPUT_BUF_SIZE, and a copy may write as far past
 * the line it copies.
 */
#define OUTPUT_BLOCK 16

struct svc_out;

struct out_stream {
	struct svc_out *owner;
	int which; /* 1 stdout, 2 stderr */
	struct loop_io io;
	int child_fd; /* write end, until the fork is done */
	char *buf;
	size_t len;
	bool open;
	bool paused;
	bool continued; /* the next piece continues a split line */
	struct out_stream *next_paused;
};

struct svc_out {
	const char *name;
	size_t name_len;
	/* "NAME| ", zero-padded to whole blocks; prefix_len without them. */
	char prefix[CONFIG_NAME_MAX + 2 * OUTPUT_BLOCK];
	size_t prefix_len;
	enum output_mode mode;
	struct out_stream s[2];
	/* The last lines, a ring of tail_cap slots of OUTPUT_TAIL_WIDTH. */
	char *tail;
	unsigned int tail_cap, tail_head, tail_count;
	/* Every complete line (and piece), for `log:` probes, while
	 * line_watch is set. */
	void (*on_line)(void *data, const char *line, size_t n);
	bool line_watch;
	void *data;
};

/* Our own stdout and stderr as non-blocking sinks. */
int output_init(void);
/* Allocate the buffers of one service, once; -ENOMEM. */
int output_setup(struct svc_out *o, const char *name, enum output_mode mode,
    unsigned int tail_lines);
/* New pipes for a start; ret_fds[0..1] are the child's stdout/stderr. */
int output_open(struct svc_out *o, int ret_fds[2]);
/* In the parent after fork: close the child's ends, start reading. */
void output_after_fork(struct svc_out *o);
/* Read what is in the pipes now (the process ended), as far as sinks allow. */
void output_drain(struct svc_out *o);
void output_close(struct svc_out *o);
/* Unrelayed output is waiting for our stdout/stderr to drain. */
bool output_busy(const struct svc_out *o);
/* A stream of the last run has not reached end-of-file yet. */
bool output_pending(const struct svc_out *o);
/* The tail as a JSON array field named key of the event being built. */
void output_tail_json(const struct svc_out *o, const char *key);
/* The tail as text, at most cap-1 bytes, newest lines kept. */
size_t output_tail_text(const struct svc_out *o, char *buf, size_t cap);
/* How many service streams have not reached end-of-file yet. */
unsigned int output_open_streams(void);
/* cb runs when the last open stream reaches end-of-file. */
void output_on_idle(void (*cb)(void));
/* At exit: write out what the sinks hold, within timeout_ms. */
void output_flush(int timeout_ms);

#endif
