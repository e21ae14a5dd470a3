/*
 * events — the structured event writer (SPEC section 4).
 *
 * Every event is one line of JSON that starts with the exact bytes
 * {"agent_init":"<event>","ts":"<RFC 3339 UTC, ms>"
 * and is handed whole to the sink of its stream, the one writer of
 * everything agent-init puts on that stream (sink.h): a line is never cut
 * by another line of ours, so that an orchestrator can wait with
 * grep -m1 '^{"agent_init":"ready"'.
 *
 * There is one builder, because PID 1 is single-threaded and events are never
 * nested: ev_begin() starts a line, the ev_* calls add fields, ev_emit()
 * finishes it and writes it.  A line never exceeds EV_LINE_MAX: a string
 * value that does not fit is cut at a character boundary, and a field that
 * does not fit at all is left out, but the line always stays valid JSON.
 *
 * The same builder makes the JSON objects that are not events (the
 * control socket's answers), so that there is one way to build and escape
 * JSON: json_begin() starts a bare object of at most max_len bytes, the
 * ev_* calls add fields, json_end() closes it and gives the line (with
 * its newline, NUL-terminated) without writing it, or NULL when something
 * did not fit.
 * The line stays valid until the next ev_begin() or json_begin().
 *
 * json_escape() is pure (no syscalls, no logging) so that it can be unit
 * tested and fuzzed directly.
 *
 * Public API: events_open(), events_flush(), events_batch(), events_dropped(),
 * events_room(), events_on_drain(), ev_begin(), ev_str(), ev_strn(),
 * ev_strn_part(), ev_int(), ev_milli(), ev_bool(), ev_null(), ev_obj_begin(),
 * ev_obj_end(), ev_arr_begin(), ev_arr_str(), ev_arr_end(), ev_emit(),
 * json_begin(), json_end(), json_escape(), ev_format_ts().
 */
#ifndef AGENT_INIT_EVENTS_H
#define AGENT_INIT_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EV_LINE_MAX 65536

int events_open(const char *dest);
/* true: the events that follow only queue; false: one write of them. */
void events_batch(bool on);
void events_flush(int timeout_ms);
uint64_t events_dropped(void);
/* Bytes the event queue can take now; output backpressure reads it. */
size_t events_room(void);
/* cb runs when the event queue has drained after being non-empty. */
void events_on_drain(void (*cb)(void));

void ev_begin(const char *name);
void ev_str(const char *key, const char *val);
void ev_strn(const char *key, const char *val, size_t n);
/*
 * As much of val as fits escaped with keep bytes of the line still free
 * after it (for the fields that follow); returns the bytes of val it
 * took, which a caller continues in the next event.  Nothing is cut
 * without the caller knowing.
 */
size_t ev_strn_part(const char *key, const char *val, size_t n, size_t keep);
void ev_int(const char *key, long long val);
void ev_milli(const char *key, long long milli);
void ev_bool(const char *key, bool val);
void ev_null(const char *key);
void ev_obj_begin(const char *key);
void ev_obj_end(void);
void ev_arr_begin(const char *key);
void ev_arr_str(const char *val);
void ev_arr_end(void);
void ev_emit(void);

void json_begin(size_t max_len);
const char *json_end(size_t *ret_len);

size_t
json_escape(char *dst, size_t cap, const char *src, size_t n, size_t *ret_used);
size_t ev_format_ts(char *dst, size_t cap, long long sec, long nsec);

#endif
