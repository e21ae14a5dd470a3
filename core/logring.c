/*
 * logring — recent output in a bounded ring.  See logring.h.
 *
 * A record is LOGRING_HDR bytes of header (payload length, stream, the
 * number of its lines and the number of its first line, in native byte
 * order: the ring never leaves this process) and its payload, stored from
 * position p on at p % cap, wrapping as it goes.  A reader knows which
 * line it expects next; a record that starts later says how many lines
 * it missed, whatever the reason (records dropped, or lines cut from a
 * record too long for the ring).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "logring.h"

struct hdr {
	uint32_t len, stream, lines, pad;
	uint64_t first_line;
};

_Static_assert(sizeof(struct hdr) == LOGRING_HDR, "header size");

void
logring_init(struct logring *r, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->cap = cap;
}

void
logring_free(struct logring *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* Copy n bytes in at position pos (wrapping). */
static void
copy_in(struct logring *r, uint64_t pos, const void *src, size_t n)
{
	size_t at = (size_t)(pos % r->cap), first = r->cap - at;

	if (first > n)
		first = n;
	memcpy(r->buf + at, src, first);
	memcpy(r->buf, (const char *)src + first, n - first);
}

/* Copy n bytes out from position pos (wrapping). */
static void
copy_out(const struct logring *r, uint64_t pos, void *dst, size_t n)
{
	size_t at = (size_t)(pos % r->cap), first = r->cap - at;

	if (first > n)
		first = n;
	memcpy(dst, r->buf + at, first);
	memcpy((char *)dst + first, r->buf, n - first);
}

static struct hdr
hdr_at(const struct logring *r, uint64_t pos)
{
	struct hdr h;

	copy_out(r, pos, &h, sizeof(h));
	return h;
}

static uint64_t
ring_count_lines(const char *p, size_t n)
{
	uint64_t k = 0;
	const char *end = p + n;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		k++;
		p++;
	}
	return k;
}

/* Drop the oldest records until `need` more bytes fit. */
static void
make_room(struct logring *r, size_t need)
{
	while (r->head < r->tail && r->tail - r->head + need > r->cap) {
		struct hdr h = hdr_at(r, r->head);

		r->held -= h.lines;
		r->head += LOGRING_HDR + (uint64_t)h.len;
	}
}

/* One record: header, data, and a newline after it when nl is set. */
static void
append(struct logring *r, int stream, const char *data, size_t n, bool nl,
    uint64_t first, uint32_t lines)
{
	struct hdr h;

	make_room(r, LOGRING_HDR + n + nl);
	h.len = (uint32_t)(n + nl);
	h.stream = (uint32_t)stream;
	h.lines = lines;
	h.pad = 0;
	h.first_line = first;
	copy_in(r, r->tail, &h, sizeof(h));
	copy_in(r, r->tail + LOGRING_HDR, data, n);
	if (nl)
		copy_in(r, r->tail + LOGRING_HDR + n, "\n", 1);
	r->tail += LOGRING_HDR + (uint64_t)h.len;
	r->held += lines;
}

int
logring_put_line(struct logring *r, int stream, const char *line, size_t n)
{
	if (r->cap <= LOGRING_HDR + 1) {
		r->lines++;
		return 0;
	}
	if (!r->buf && !(r->buf = malloc(r->cap)))
		return -ENOMEM;
	if (n + 1 > r->cap - LOGRING_HDR) {
		/* Longer than the ring (never, with output's pieces). */
		r->lines++;
		return 0;
	}
	append(r, stream, line, n, true, r->lines, 1);
	r->lines++;
	return 0;
}

int
logring_put(struct logring *r, int stream, const char *data, size_t n,
    uint64_t nlines)
{
	size_t max = r->cap > LOGRING_HDR ? r->cap - LOGRING_HDR : 0;
	uint64_t first = r->lines, kept = nlines;

	if (n == 0)
		return 0;
	if (max == 0) {
		r->lines += nlines; /* a ring too small for anything */
		return 0;
	}
	if (!r->buf && !(r->buf = malloc(r->cap)))
		return -ENOMEM;
	if (n > max) {
		/* Too long for the ring: its last whole lines only. */
		const char *cut = memchr(data + (n - max), '\n', max);

		if (!cut || cut + 1 == data + n) {
			r->lines += nlines;
			return 0;
		}
		n = (size_t)(data + n - (cut + 1));
		data = cut + 1;
		kept = ring_count_lines(data, n);
		first = r->lines + nlines - kept;
	}
	append(r, stream, data, n, false, first, (uint32_t)kept);
	r->lines += nlines;
	return 0;
}

uint64_t
logring_lines(const struct logring *r)
{
	return r->held;
}

/* The offset just after the k-th newline of the record's payload. */
static uint32_t
after_newlines(const struct logring *r, uint64_t rec, uint32_t len, uint64_t k)
{
	char c;
	uint32_t i;

	for (i = 0; i < len && k > 0; i++) {
		copy_out(r, rec + LOGRING_HDR + i, &c, 1);
		if (c == '\n')
			k--;
	}
	return i;
}

void
logring_seek_last(const struct logring *r, uint64_t last,
    struct logring_cur *ret)
{
	uint64_t total = logring_lines(r),
	         skip = total > last ? total - last : 0;
	uint64_t rec = r->head;

	while (rec < r->tail) {
		struct hdr h = hdr_at(r, rec);

		if (skip < h.lines) {
			ret->rec = rec;
			ret->off = after_newlines(r, rec, h.len, skip);
			ret->line = h.first_line + skip;
			if (ret->off == h.len) {
				ret->rec = rec + LOGRING_HDR + h.len;
				ret->off = 0;
			}
			return;
		}
		skip -= h.lines;
		rec += LOGRING_HDR + (uint64_t)h.len;
	}
	ret->rec = r->tail;
	ret->off = 0;
	ret->line = r->lines;
}

bool
logring_caught_up(const struct logring *r, const struct logring_cur *c)
{
	return c->rec >= r->tail;
}

bool
logring_read(const struct logring *r, struct logring_cur *c, char *dst,
    size_t cap, struct logring_chunk *ret)
{
	struct hdr h;
	size_t k;

	memset(ret, 0, sizeof(*ret));
	if (c->rec < r->head) {
		/* Its bytes are gone: on from the oldest record. */
		c->rec = r->head;
		c->off = 0;
	}
	if (c->rec >= r->tail || cap == 0)
		return false;
	h = hdr_at(r, c->rec);
	if (c->off == 0 && h.first_line > c->line) {
		/* Lines it never saw whole: the rest of a record that went,
		 * records that went, lines cut from a long record. */
		ret->skipped = h.first_line - c->line;
		c->line = h.first_line;
	}
	k = h.len - c->off;
	if (k > cap)
		k = cap;
	copy_out(r, c->rec + LOGRING_HDR + c->off, dst, k);
	c->line += ring_count_lines(dst, k);
	c->off += (uint32_t)k;
	if (c->off >= h.len) {
		c->rec += LOGRING_HDR + (uint64_t)h.len;
		c->off = 0;
	}
	ret->stream = (int)h.stream;
	ret->n = k;
	return true;
}
