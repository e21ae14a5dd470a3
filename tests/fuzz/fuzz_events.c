/*
 * Fuzz target: the JSON a service's bytes turn into.  In `json` output
 * mode every line a service writes becomes a string of an event, and
 * events carry names, reasons and STATUS= texts that services control, so
 * json_escape() and the event builder meet arbitrary bytes (NULs, invalid
 * UTF-8, control characters, lines far past EV_LINE_MAX).
 *
 * The first byte picks:
 *   0  json_escape() into a buffer of a size from the input: the output is
 *      a valid JSON string body in valid UTF-8, it decodes back to the
 *      bytes consumed (invalid UTF-8 as U+FFFD), and it stops only when
 *      the next escape would not fit.
 *   1  a small program of ev_* calls whose strings come from the input,
 *      repeated up to 64 KiB: every line ev_emit() produces is one valid
 *      JSON object, at most EV_LINE_MAX bytes, ending in a newline.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/sink.c"

#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
hexv(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

static void
escape(const char *src, size_t n, size_t cap)
{
	static char dst[1 << 16];
	size_t used, out, i = 0, o = 0;

	if (cap > sizeof(dst))
		cap = sizeof(dst);
	out = json_escape(dst, cap, src, n, &used);
	assert(out <= cap && used <= n);
	assert(json_string_body_valid(dst, out));
	/* Stopped early only for lack of room (an escape is at most 6). */
	if (used < n)
		assert(cap - out < 6);
	/* Decode and compare with what was consumed. */
	while (o < out) {
		if (dst[o] != '\\') {
			assert(i < used && dst[o] == src[i]);
			o++, i++;
			continue;
		}
		if (dst[o + 1] == 'u') {
			int v = hexv(dst[o + 2]) << 12 | hexv(dst[o + 3]) << 8 |
			    hexv(dst[o + 4]) << 4 | hexv(dst[o + 5]);

			assert(i < used);
			if (v == 0xfffd)
				/* One byte that does not start valid UTF-8. */
				assert(jc_utf8((const unsigned char *)src + i,
				           n - i) == 0);
			else
				assert(v < 0x80 && src[i] == (char)v);
			o += 6, i++;
			continue;
		}
		assert(i < used);
		switch (dst[o + 1]) {
		case 'n':
			assert(src[i] == '\n');
			break;
		case 't':
			assert(src[i] == '\t');
			break;
		case 'r':
			assert(src[i] == '\r');
			break;
		case 'b':
			assert(src[i] == '\b');
			break;
		case 'f':
			assert(src[i] == '\f');
			break;
		default:
			assert(src[i] == dst[o + 1]);
		}
		o += 2, i++;
	}
	assert(i == used);
}

/*
 * The API's contract, which every caller in agent-init keeps: fields of
 * an object have keys, elements of an array have none.
 */
static const char *
key(const char *k)
{
	return ev.depth > 0 && ev.closer[ev.depth] == ']' ? NULL : k;
}

static void
program(const uint8_t *p, size_t n)
{
	static char big[1 << 16];
	static const char *const keys[] = { "service", "line", "reason",
		"status", "detail" };
	size_t i = 0, len, k, want;

	ev_begin("fuzz");
	while (i + 2 <= n) {
		uint8_t op = p[i], arg = p[i + 1];

		i += 2;
		switch (op % 8) {
		case 0: /* a string: the next arg bytes, repeated */
		case 1:
			len = arg < n - i ? arg : n - i;
			if (len == 0) {
				ev_strn(key(keys[op % 5]), "", 0);
				break;
			}
			/* Up to 8 copies, or the whole 64 KiB (the cut). */
			want = (op & 16) ? sizeof(big) : len * (1 + (op >> 5));
			for (k = 0; k < want; k += len)
				memcpy(big + k, p + i,
				    want - k < len ? want - k : len);
			if (op & 8) {
				/* A part, with room kept after it: what it
				 * took is a prefix of the value. */
				size_t used = ev_strn_part(key(keys[op % 5]),
				    big, want, arg);

				assert(used <= want);
			} else
				ev_strn(key(keys[op % 5]), big, want);
			i += len;
			break;
		case 2:
			ev_int(key(keys[arg % 5]), (long long)arg * (op - 127));
			break;
		case 3:
			ev_milli(key(keys[arg % 5]),
			    (long long)arg * 997 - 3000);
			break;
		case 4:
			if (ev.depth < EV_DEPTH_MAX)
				ev_obj_begin(key(keys[arg % 5]));
			break;
		case 5:
			if (ev.depth < EV_DEPTH_MAX)
				ev_arr_begin(key(keys[arg % 5]));
			break;
		case 6:
			if (arg & 1)
				ev_obj_end();
			else
				ev_arr_end();
			break;
		default:
			ev_bool(key(keys[arg % 5]), arg & 1);
			ev_null(key(keys[(arg + 1) % 5]));
			break;
		}
	}
	ev_emit();
	assert(ev.len >= 2 && ev.len <= EV_LINE_MAX);
	assert(ev.buf[ev.len - 1] == '\n');
	assert(memchr(ev.buf, '\n', ev.len) == ev.buf + ev.len - 1);
	assert(json_object_valid(ev.buf, ev.len - 1));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	if (data[0] & 1)
		program(data + 1, size - 1);
	else
		escape((const char *)data + 3, size - 3,
		    (size_t)(data[1] << 8 | data[2]));
	return 0;
}
