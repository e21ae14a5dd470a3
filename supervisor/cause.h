/*
 * cause — a crash's cause in one line (SPEC section 14, "Cause").
 *
 * The cause of a service's end is the last error-like line of its
 * output: a line with `level=error`, `level=fatal` or `level=panic`
 * (logfmt or JSON), `failed to`, `panic:`, `fatal:`, `Error:`, `error:`,
 * `ERROR`, `FATAL`, `Exception`, ... unless the line names a lower level
 * of its own (`level=info` with an `error=` field is no error).  It is
 * trimmed, its URL credentials are shown as `***` (as the proxy checks
 * show them), and it is cut to CAUSE_MAX bytes at a character boundary.
 *
 * The line is found in a ring of the last CAUSE_RING bytes of a run's
 * captured output, whole lines as they were relayed (output.c feeds it),
 * searched backwards once, when the run ends: the relay pays one copy of
 * at most that much per batch, never a search per line.  Uncaptured
 * output (`raw`, a terminal) has no ring and no cause.
 *
 * Two causes are the same crash when they are equal without their
 * numbers: cause_normalize() drops every digit and every run of hex
 * digits that holds one (timestamps, pids, addresses, container ids).  An
 * empty cause is never the same as another.
 *
 * For the --dockerd preset, cause_dockerd_hint() knows dockerd's fatal
 * lines and gives the remedy.
 *
 * Everything here is pure (no syscalls, no allocation, no logging) and
 * bounded; tests/unit/test_cause.c and tests/fuzz/fuzz_cause.c feed it.
 *
 * Public API: cause_ring_init(), cause_ring_reset(), cause_ring_add(),
 * cause_find(), cause_is_error(), cause_clean(), cause_normalize(),
 * cause_same(), cause_dockerd_hint().
 */
#ifndef AGENT_INIT_CAUSE_H
#define AGENT_INIT_CAUSE_H

#include <stdbool.h>
#include <stddef.h>

#define CAUSE_MAX 300
#define CAUSE_RING ((size_t)16 * 1024)
/* A cause, or a normalized one, with its NUL. */
#define CAUSE_BUF (CAUSE_MAX + 1)
#define CAUSE_HINT_MAX 512

struct cause_ring {
	char *buf; /* cap bytes, NULL: nothing kept (uncaptured) */
	size_t cap;
	size_t head; /* where the next byte goes */
	size_t len; /* bytes kept, at most cap */
};

void cause_ring_init(struct cause_ring *r, char *buf, size_t cap);
void cause_ring_reset(struct cause_ring *r);
/* Keep p[0..n) as the newest bytes (the oldest fall out). */
void cause_ring_add(struct cause_ring *r, const char *p, size_t n);
/* The last error-like line kept, cleaned, in out (CAUSE_BUF bytes);
 * returns its length, 0 when there is none. */
size_t cause_find(const struct cause_ring *r, char *out, size_t cap);
bool cause_is_error(const char *line, size_t n);
/* Trimmed, credentials masked, cut to CAUSE_MAX; returns the length. */
size_t cause_clean(const char *line, size_t n, char *out, size_t cap);
/* Without digits and hex numbers; returns the length. */
size_t cause_normalize(const char *cause, char *out, size_t cap);
/* Both non-empty and equal once normalized. */
bool cause_same(const char *a, const char *b);
/*
 * The remedy for a fatal line of dockerd, or "" (returns false) when it
 * is none we know.  missing: the capabilities of the docker-in-gVisor set
 * that agent-init lacks ("NET_ADMIN SYS_ADMIN", or "").
 */
bool cause_dockerd_hint(const char *cause, const char *missing, char *buf,
    size_t cap);

#endif
