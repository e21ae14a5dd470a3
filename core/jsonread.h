/*
 * jsonread — just enough of a JSON reader for agent-init's own clients
 * (`agent-init ctl`), which read the replies of the control socket: find
 * a member of an object, walk the elements of an array, decode a string
 * or a number.  It reads text in place (no allocation, no tree) and is
 * strict: anything malformed is "not found", never a crash or a read
 * past the end.  Pure, unit tested and fuzzed.
 *
 * A value is a span [p, end) of the text; json_get() and json_next()
 * return the span of the value they find, or {NULL, NULL}.
 *
 * Public API: json_value(), json_get(), json_next(), json_string(),
 * json_int(), json_is_true().
 */
#ifndef AGENT_INIT_JSONREAD_H
#define AGENT_INIT_JSONREAD_H

#include <stdbool.h>
#include <stddef.h>

struct json_span {
	const char *p, *end;
};

/* The first value of text[0, n), skipping whitespace; {NULL} if bad. */
struct json_span json_value(const char *text, size_t n);
/* The value of member key of the object v. */
struct json_span json_get(struct json_span v, const char *key);
/*
 * Arrays: *it starts as {NULL, NULL}; each call moves it to the next
 * element of the array arr and returns true, false at the end.
 */
bool json_next(struct json_span arr, struct json_span *it);
/* A string value, decoded (UTF-8), cut to cap - 1 bytes; false if v is
 * not a string. */
bool json_string(struct json_span v, char *buf, size_t cap);
/* An integer value; false if v is not one. */
bool json_int(struct json_span v, long long *ret);
bool json_is_true(struct json_span v);

#endif
