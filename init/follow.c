/*
 * follow — a reader of a service's log ring on the control socket.  See
 * follow.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "follow.h"
#include "logring.h"

struct follow {
	struct svc *s;
	struct logring_cur cur;
	bool follow;
	uint64_t end; /* without -f: the ring's tail at the request */
	char buf[FOLLOW_BUF];
	size_t off, len; /* buf[off, len) is still to send */
};

struct follow *
follow_new(struct svc *s, uint64_t last, bool follow, const char *header,
    size_t header_len)
{
	struct follow *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->s = s;
	f->follow = follow;
	f->end = s->out.log.tail;
	logring_seek_last(&s->out.log, last, &f->cur);
	if (header_len > sizeof(f->buf))
		header_len = sizeof(f->buf);
	memcpy(f->buf, header, header_len);
	f->len = header_len;
	return f;
}

struct svc *
follow_service(const struct follow *f)
{
	return f->s;
}

void
follow_free(struct follow *f)
{
	free(f);
}

static void
frame_header(char *p, char kind, size_t n)
{
	p[0] = kind;
	p[1] = (char)(n & 0xff);
	p[2] = (char)((n >> 8) & 0xff);
	p[3] = (char)((n >> 16) & 0xff);
	p[4] = (char)((n >> 24) & 0xff);
}

/* The ring's output for us has ended (the lines there at the request,
 * without -f). */
static bool
at_end(const struct follow *f)
{
	return !f->follow && f->cur.rec >= f->end;
}

/* Room kept before a chunk for a skip frame: a header and 20 digits. */
#define SKIP_FRAME_MAX (FOLLOW_FRAME_HDR + 20)

/*
 * Fill the empty buffer with frames from the cursor on.  A chunk is read
 * after room for two headers and a count; if the cursor's lines were
 * gone, a skip frame ("N lines skipped") goes first; the chunk then moves
 * down behind its own header.
 */
static void
fill(struct follow *f)
{
	struct logring_chunk ch;
	size_t room;

	f->off = f->len = 0;
	while (!at_end(f) &&
	    (room = sizeof(f->buf) - f->len) >
	        SKIP_FRAME_MAX + FOLLOW_FRAME_HDR + 64) {
		char *p = f->buf + f->len;
		char *data = p + SKIP_FRAME_MAX + FOLLOW_FRAME_HDR;

		if (!logring_read(&f->s->out.log, &f->cur, data,
		        room - SKIP_FRAME_MAX - FOLLOW_FRAME_HDR, &ch))
			break;
		if (ch.skipped) {
			char num[24];
			int k = snprintf(num, sizeof(num), "%llu",
			    (unsigned long long)ch.skipped);

			frame_header(p, 's', (size_t)k);
			memcpy(p + FOLLOW_FRAME_HDR, num, (size_t)k);
			p += FOLLOW_FRAME_HDR + (size_t)k;
		}
		if (ch.n) {
			frame_header(p, ch.stream == 2 ? 'e' : 'o', ch.n);
			memmove(p + FOLLOW_FRAME_HDR, data, ch.n);
			p += FOLLOW_FRAME_HDR + ch.n;
		}
		f->len = (size_t)(p - f->buf);
	}
}

enum follow_state
follow_pump(struct follow *f, int fd)
{
	size_t sent = 0;

	while (sent < FOLLOW_BUDGET) {
		ssize_t n;

		if (f->off == f->len)
			fill(f);
		if (f->off == f->len)
			return at_end(f) ? FOLLOW_DONE : FOLLOW_IDLE;
		n = send(fd, f->buf + f->off, f->len - f->off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return FOLLOW_BLOCKED;
		if (n <= 0)
			return FOLLOW_GONE;
		f->off += (size_t)n;
		sent += (size_t)n;
	}
	/* Its turn is over; more waits, and the socket takes it. */
	return FOLLOW_BLOCKED;
}

long
follow_frame_parse(const char *buf, size_t n, char *ret_kind,
    const char **ret_data, size_t *ret_len)
{
	const unsigned char *u = (const unsigned char *)buf;
	size_t len;

	if (n < FOLLOW_FRAME_HDR)
		return 0;
	if (buf[0] != 'o' && buf[0] != 'e' && buf[0] != 's')
		return -1;
	len = (size_t)u[1] | (size_t)u[2] << 8 | (size_t)u[3] << 16 |
	    (size_t)u[4] << 24;
	if (len > FOLLOW_BUF)
		return -1;
	if (n < FOLLOW_FRAME_HDR + len)
		return 0;
	*ret_kind = buf[0];
	*ret_data = buf + FOLLOW_FRAME_HDR;
	*ret_len = len;
	return (long)(FOLLOW_FRAME_HDR + len);
}
