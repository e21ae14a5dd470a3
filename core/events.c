/*
 * events — the structured event writer.  See events.h for the contract.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "loop.h"
#include "sink.h"

/*
 * Room kept free at the end of the line for what ev_emit() must always be
 * able to write: the closing brackets of every open object or array, the
 * final brace and the newline.
 */
#define EV_DEPTH_MAX 6
#define EV_RESERVE (EV_DEPTH_MAX + 4)

static struct {
	char buf[EV_LINE_MAX];
	size_t len;
	size_t limit; /* sizeof(buf), or less for json_begin() */
	bool cut; /* a field or part of a string did not fit */
	int depth;
	bool need_comma[EV_DEPTH_MAX + 1];
	char closer[EV_DEPTH_MAX + 1];
} ev;

/*
 * The sink of the events' stream, shared with whatever else agent-init
 * writes there (the services' relayed lines when the events go to
 * stdout): see sink.h.  Its queue holds a few thousand ordinary events,
 * with SINK_RESERVE of it kept from the relay; it only fills when whoever
 * reads stops reading, and then the newest events are dropped (and
 * counted) rather than blocking PID 1.
 */
static struct sink *ev_sink;

/*
 * Copy the escaped form of src into dst.  Returns the bytes written; the
 * number of input bytes consumed goes to *ret_used.  It stops before a
 * character whose escaped form would not fit, so a cut never splits a UTF-8
 * sequence or an escape.  Invalid UTF-8 becomes U+FFFD, so that every line
 * is valid JSON whatever a service wrote.
 */
static size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, UTF-16 surrogates and values past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* The two-character JSON escapes of RFC 8259 section 7, or 0. */
static char
short_escape(unsigned char c)
{
	switch (c) {
	case '\n':
		return 'n';
	case '\t':
		return 't';
	case '\r':
		return 'r';
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	default:
		return 0;
	}
}

size_t
json_escape(char *dst, size_t cap, const char *src, size_t n, size_t *ret_used)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t in = 0, out = 0;

	while (in < n) {
		unsigned char c = s[in];
		char esc[8];
		size_t elen, ilen = 1;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (short_escape(c) != 0) {
			esc[0] = '\\';
			esc[1] = short_escape(c);
			elen = 2;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		} else if (c < 0x80) {
			esc[0] = (char)c;
			elen = 1;
		} else {
			ilen = utf8_seq_len(s + in, n - in);
			if (ilen == 0) {
				memcpy(esc, "\\ufffd", 6);
				elen = 6;
				ilen = 1;
			} else {
				memcpy(esc, s + in, ilen);
				elen = ilen;
			}
		}
		if (out + elen > cap)
			break;
		memcpy(dst + out, esc, elen);
		out += elen;
		in += ilen;
	}
	*ret_used = in;
	return out;
}

/* v in decimal, as "%lld" writes it, into buf (24 bytes will do); its
 * length.  By hand for the reason ev_format_ts() gives. */
static size_t
fmt_lld(char *buf, long long v)
{
	unsigned long long u =
	    v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	char tmp[24];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[i++] = '-';
	while (n)
		buf[i++] = tmp[--n];
	buf[i] = 0;
	return i;
}

/* v as exactly `width` decimal digits (v below 10^width); past them. */
static char *
put_dec(char *p, unsigned int v, int width)
{
	int i;

	for (i = width - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + width;
}

/*
 * Format a wall-clock time as 2026-11-22T16:12:51.123Z.  The digits are
 * put by hand: musl's snprintf() took about 4 us for this line, and every
 * event pays it, the `signal` event right after a forward too, while the
 * child that got the signal may be waiting for this CPU (issue 15).
 */
size_t
ev_format_ts(char *dst, size_t cap, long long sec, long nsec)
{
	char b[32], *p = b;
	struct tm tm;
	time_t t = (time_t)sec;
	size_t n;
	int n2;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999 || nsec < 0 ||
	    nsec > 999999999L) {
		n2 = snprintf(dst, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, nsec / 1000000);
		return n2 < 0 ? 0 : (size_t)n2 < cap ? (size_t)n2 : cap - 1;
	}
	p = put_dec(p, (unsigned int)(tm.tm_year + 1900), 4);
	*p++ = '-';
	p = put_dec(p, (unsigned int)tm.tm_mon + 1, 2);
	*p++ = '-';
	p = put_dec(p, (unsigned int)tm.tm_mday, 2);
	*p++ = 'T';
	p = put_dec(p, (unsigned int)tm.tm_hour, 2);
	*p++ = ':';
	p = put_dec(p, (unsigned int)tm.tm_min, 2);
	*p++ = ':';
	p = put_dec(p, (unsigned int)tm.tm_sec, 2);
	*p++ = '.';
	p = put_dec(p, (unsigned int)(nsec / 1000000), 3);
	*p++ = 'Z';
	n = (size_t)(p - b);
	if (cap == 0)
		return 0;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, b, n);
	dst[n] = 0;
	return n;
}

/*
 * Where the events go: stdout (default), stderr, fd:N or file:PATH.
 * Returns 0, or -errno (-EINVAL for a destination we do not understand).
 */
int
events_open(const char *dest)
{
	int fd, r;

	if (!dest || strcmp(dest, "stdout") == 0)
		fd = STDOUT_FILENO;
	else if (strcmp(dest, "stderr") == 0)
		fd = STDERR_FILENO;
	else if (strncmp(dest, "fd:", 3) == 0) {
		char *end;
		long v;

		errno = 0;
		v = strtol(dest + 3, &end, 10);
		if (errno || end == dest + 3 || *end || v < 0 || v > 65535)
			return -EINVAL;
		fd = (int)v;
	} else if (strncmp(dest, "file:", 5) == 0 && dest[5]) {
		/* O_NONBLOCK: a FIFO with no reader yet is an error now
		 * (ENXIO), not a PID 1 waiting at startup. */
		fd = open(dest + 5,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY |
		        O_NONBLOCK,
		    0644);
		if (fd < 0)
			return -errno;
	} else
		return -EINVAL;

	r = sink_shared(fd, &ev_sink);
	/*
	 * An fd:N handed to us (or the file we opened) is ours alone: the
	 * sink holds its own descriptor, so close N lest a service inherit
	 * it.
	 */
	if (fd > STDERR_FILENO && (r == 0 || strncmp(dest, "file:", 5) == 0))
		close(fd);
	return r;
}

/*
 * Several events as one write(2): between events_batch(true) and
 * events_batch(false) they only queue (the signal path writes `signal`
 * and `shutdown` after the signal went out, and should then give the
 * CPU back at once).
 */
void
events_batch(bool on)
{
	if (!ev_sink)
		return;
	if (on)
		sink_cork(ev_sink);
	else
		sink_uncork(ev_sink);
}

void
events_flush(int timeout_ms)
{
	sink_flush_all(
	    loop_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0));
}

size_t
events_room(void)
{
	return ev_sink ? sink_room(ev_sink) : 0;
}

void
events_on_drain(void (*cb)(void))
{
	if (ev_sink)
		ev_sink->on_drain = cb;
}

uint64_t
events_dropped(void)
{
	return ev_sink ? ev_sink->dropped_lines : 0;
}

/* Room left for fields.  Closing brackets may already have eaten into
 * the reserve, so this saturates at zero rather than wrapping. */
static size_t
room(void)
{
	size_t limit = ev.limit > EV_RESERVE ? ev.limit - EV_RESERVE : 0;

	return ev.len >= limit ? 0 : limit - ev.len;
}

static void
put_raw(const char *s, size_t n)
{
	memcpy(ev.buf + ev.len, s, n);
	ev.len += n;
}

/*
 * Start a field: the comma, the quoted key and the colon.  Returns false,
 * writing nothing, when not even the key and `need` more bytes fit.
 */
static bool
put_key(const char *key, size_t need)
{
	size_t klen = key ? strlen(key) : 0;
	size_t total =
	    (ev.need_comma[ev.depth] ? 1 : 0) + need + (key ? klen + 3 : 0);

	/* Nothing goes into a container whose opening did not fit. */
	if ((ev.depth > 0 && !ev.closer[ev.depth]) || total > room() ||
	    klen > 128) {
		ev.cut = true;
		return false;
	}
	if (ev.need_comma[ev.depth])
		put_raw(",", 1);
	ev.need_comma[ev.depth] = true;
	if (key) {
		put_raw("\"", 1);
		put_raw(key, klen);
		put_raw("\":", 2);
	}
	return true;
}

static void
start(size_t limit)
{
	ev.len = 0;
	ev.limit = limit;
	ev.cut = false;
	ev.depth = 0;
	memset(ev.need_comma, 0, sizeof(ev.need_comma));
}

void
ev_begin(const char *name)
{
	struct timespec ts;
	char tsbuf[40];
	size_t tslen;

	clock_gettime(CLOCK_REALTIME, &ts);
	tslen = ev_format_ts(tsbuf, sizeof(tsbuf), ts.tv_sec, ts.tv_nsec);
	start(sizeof(ev.buf));
	put_raw("{\"agent_init\":\"", 15);
	put_raw(name, strlen(name));
	put_raw("\",\"ts\":\"", 8);
	put_raw(tsbuf, tslen);
	put_raw("\"", 1);
	ev.need_comma[0] = true;
}

void
ev_strn(const char *key, const char *val, size_t n)
{
	size_t used, w;

	if (!val) {
		ev_null(key);
		return;
	}
	if (!put_key(key, 2))
		return;
	put_raw("\"", 1);
	w = json_escape(ev.buf + ev.len, room() - 1, val, n, &used);
	ev.len += w;
	if (used < n)
		ev.cut = true;
	put_raw("\"", 1);
}

size_t
ev_strn_part(const char *key, const char *val, size_t n, size_t keep)
{
	size_t used, w, r;

	if (!put_key(key, 2 + keep))
		return 0;
	put_raw("\"", 1);
	r = room();
	w = json_escape(ev.buf + ev.len, r > keep + 1 ? r - keep - 1 : 0, val,
	    n, &used);
	ev.len += w;
	put_raw("\"", 1);
	return used;
}

void
ev_str(const char *key, const char *val)
{
	ev_strn(key, val, val ? strlen(val) : 0);
}

void
ev_int(const char *key, long long val)
{
	char num[24];
	size_t n = fmt_lld(num, val);

	if (put_key(key, n))
		put_raw(num, n);
}

/* A number given in thousandths, written as a decimal: 1500 -> 1.5. */
void
ev_milli(const char *key, long long milli)
{
	char num[32];
	int n;

	if (milli % 1000 == 0)
		n = (int)fmt_lld(num, milli / 1000);
	else {
		n = snprintf(num, sizeof(num), "%lld.%03lld", milli / 1000,
		    (milli < 0 ? -milli : milli) % 1000);
		while (num[n - 1] == '0')
			num[--n] = 0;
	}
	if (put_key(key, (size_t)n))
		put_raw(num, (size_t)n);
}

void
ev_bool(const char *key, bool val)
{
	if (put_key(key, val ? 4 : 5))
		put_raw(val ? "true" : "false", val ? 4 : 5);
}

void
ev_null(const char *key)
{
	if (put_key(key, 4))
		put_raw("null", 4);
}

/*
 * Containers.  If the opening does not fit, the container is still pushed
 * (so that begin/end stay paired) but marked so that nothing is written
 * into it and its closer is empty.
 */
static void
open_container(const char *key, char opener, char closer)
{
	bool ok;

	if (ev.depth >= EV_DEPTH_MAX) {
		ev.cut = true;
		return;
	}
	ok = put_key(key, 2);
	if (ok)
		put_raw(&opener, 1);
	ev.depth++;
	ev.need_comma[ev.depth] = false;
	ev.closer[ev.depth] = (char)(ok ? closer : 0);
}

static void
close_container(void)
{
	if (ev.depth == 0)
		return;
	if (ev.closer[ev.depth])
		put_raw(&ev.closer[ev.depth], 1);
	ev.depth--;
}

void
ev_obj_begin(const char *key)
{
	open_container(key, '{', '}');
}

void
ev_obj_end(void)
{
	close_container();
}

void
ev_arr_begin(const char *key)
{
	open_container(key, '[', ']');
}

void
ev_arr_str(const char *val)
{
	ev_str(NULL, val);
}

void
ev_arr_end(void)
{
	close_container();
}

static void
finish(void)
{
	while (ev.depth > 0)
		close_container();
	put_raw("}\n", 2);
}

void
ev_emit(void)
{
	finish();
	if (ev_sink)
		sink_write(ev_sink, ev.buf, ev.len);
}

void
json_begin(size_t max_len)
{
	start(max_len < sizeof(ev.buf) ? max_len : sizeof(ev.buf));
	put_raw("{", 1);
}

const char *
json_end(size_t *ret_len)
{
	finish();
	/* EV_RESERVE leaves room after the closers for a NUL. */
	ev.buf[ev.len] = 0;
	*ret_len = ev.len;
	return ev.cut ? NULL : ev.buf;
}
