/*
 * logring — a service's recent output, kept for `agent-init ctl logs`,
 * in one bounded ring of bytes that never waits for its readers.
 *
 * The writer (the output relay) appends records: a header (the stream
 * and the number of lines) and whole lines, as they were relayed.  When
 * the ring is full the oldest records go, whole.  A reader is a cursor
 * (struct logring_cur) that copies out what it has not seen yet, at its
 * own pace; a reader that fell behind so far that its next bytes are
 * gone learns how many lines it missed and goes on from the oldest
 * record still there.  So a reader can never hold the writer back, and
 * the writer never does anything for its readers but append.
 *
 * Positions are absolute byte counts of everything ever appended (64
 * bits: they never wrap); the bytes live at position % cap.  Pure: no
 * syscalls, no logging, so it is unit tested and fuzzed directly.
 *
 * Public API: logring_init(), logring_free(), logring_put(),
 * logring_put_line(), logring_lines(), logring_seek_last(), logring_read(), logring_caught_up().
 */
#ifndef AGENT_INIT_LOGRING_H
#define AGENT_INIT_LOGRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record header: payload length, stream, lines, its first line's number. */
#define LOGRING_HDR 24

struct logring {
	char *buf; /* NULL until the first logring_put() */
	size_t cap;
	uint64_t head; /* the oldest record's position */
	uint64_t tail; /* where the next record goes */
	uint64_t lines; /* lines ever appended */
	uint64_t held; /* lines in the ring now */
};

/* A reader's place: in a record (rec), at offset off of its payload. */
struct logring_cur {
	uint64_t rec;
	uint32_t off;
	uint64_t line; /* lines (newlines) before this place */
};

/* What one logring_read() gives. */
struct logring_chunk {
	int stream; /* 1 stdout, 2 stderr */
	uint64_t skipped; /* lines the reader missed before this chunk */
	size_t n; /* bytes copied */
};

/* cap bytes at most, allocated at the first put; cap >= 2 records. */
void logring_init(struct logring *r, size_t cap);
void logring_free(struct logring *r);
/*
 * Append data (n bytes of whole lines, nlines of them) from stream.  A
 * record longer than half the ring keeps its last part only.  -ENOMEM
 * when the ring cannot be allocated (nothing is kept then).
 */
int logring_put(struct logring *r, int stream, const char *data, size_t n,
    uint64_t nlines);
/* One line (without its newline, which is added). */
int logring_put_line(struct logring *r, int stream, const char *line, size_t n);
/* Lines in the ring now. */
uint64_t logring_lines(const struct logring *r);
/* A cursor before the last `last` lines (all when there are fewer). */
void logring_seek_last(const struct logring *r, uint64_t last,
    struct logring_cur *ret);
/*
 * Copy up to cap bytes of one record from c onwards into dst, and move c
 * past them.  Returns false when c is at the tail (nothing new).  When
 * c's bytes are gone, c moves to the oldest record first and
 * ret->skipped says how many lines were missed.
 */
bool logring_read(const struct logring *r, struct logring_cur *c, char *dst,
    size_t cap, struct logring_chunk *ret);
bool logring_caught_up(const struct logring *r, const struct logring_cur *c);

#endif
