/*
 * sink — a writer that never blocks PID 1, one per stream.  See sink.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sink.h"

static void on_writable(struct loop_io *io, uint32_t revents);

/*
 * The shared sinks: a handful of streams at most, so a linear search.
 * Their queues are in .bss and cost no memory until a stream is slow.
 */
static struct {
	struct sink s;
	dev_t dev;
	ino_t ino;
} shared[SINK_SHARED_MAX];
static size_t nshared;
static char shared_q[SINK_SHARED_MAX][SINK_QUEUE_SIZE];

static uint64_t
count_lines(const char *p, size_t n)
{
	uint64_t lines = 0;
	const char *nl;

	while (n > 0 && (nl = memchr(p, '\n', n))) {
		lines++;
		n -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return lines;
}

/* What could not be written and never will be. */
static void
lose(struct sink *s, const char *p, size_t n)
{
	s->dropped += n;
	s->dropped_lines += count_lines(p, n);
}

/*
 * Get a descriptor of our own for fd, so that O_NONBLOCK on it cannot
 * change what a service sharing fd sees.  Regular files and devices such
 * as /dev/null never block, so a plain duplicate does.
 */
static int
open_own(int fd, enum sink_mode *ret_mode, bool *ret_fifo)
{
	struct stat st;
	char path[32];
	int nfd;

	if (fstat(fd, &st) < 0)
		return -errno;
	*ret_fifo = S_ISFIFO(st.st_mode);
	if (S_ISSOCK(st.st_mode)) {
		*ret_mode = SINK_SEND;
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		return nfd < 0 ? -errno : nfd;
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ||
	    (S_ISCHR(st.st_mode) && !isatty(fd))) {
		*ret_mode = SINK_WRITE;
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		return nfd < 0 ? -errno : nfd;
	}
	/* A pipe or a terminal: reopen it for a description of our own. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (nfd >= 0) {
		*ret_mode = SINK_WRITE;
		return nfd;
	}
	/* No /proc (or no reader yet): poll before every small write. */
	*ret_mode = SINK_CHUNKED;
	nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return nfd < 0 ? -errno : nfd;
}

int
sink_init(struct sink *s, int fd, char *queue, size_t cap)
{
	int nfd;

	memset(s, 0, sizeof(*s));
	nfd = open_own(fd, &s->mode, &s->fifo);
	if (nfd < 0)
		return nfd;
	s->fd = nfd;
	s->q = queue;
	s->qcap = cap;
	s->at_line_start = true;
	s->io.fd = nfd;
	s->io.events = EPOLLOUT;
	s->io.cb = on_writable;
	s->io.data = s;
	return 0;
}

int
sink_shared(int fd, struct sink **ret)
{
	struct stat st;
	size_t i;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	for (i = 0; i < nshared; i++)
		if (shared[i].dev == st.st_dev && shared[i].ino == st.st_ino) {
			*ret = &shared[i].s;
			return 0;
		}
	if (nshared == SINK_SHARED_MAX)
		return -ENOSPC;
	r = sink_init(&shared[nshared].s, fd, shared_q[nshared],
	    SINK_QUEUE_SIZE);
	if (r < 0)
		return r;
	shared[nshared].s.reserve = SINK_RESERVE;
	shared[nshared].dev = st.st_dev;
	shared[nshared].ino = st.st_ino;
	*ret = &shared[nshared++].s;
	return 0;
}

/* One attempt to write; returns bytes written, 0 if it would block, or
 * -errno. */
static ssize_t
try_write(struct sink *s, const char *buf, size_t n)
{
	ssize_t w;

	if (s->mode == SINK_CHUNKED) {
		struct pollfd p = { .fd = s->fd, .events = POLLOUT };

		if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLOUT))
			return (p.revents & (POLLERR | POLLHUP)) ? -EPIPE : 0;
		if (n > PIPE_BUF)
			n = PIPE_BUF;
	}
	do {
		if (s->mode == SINK_SEND)
			w = send(s->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(s->fd, buf, n);
	} while (w < 0 && errno == EINTR);
	if (w > 0)
		s->at_line_start = buf[w - 1] == '\n';
	if (w >= 0)
		return w;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return -errno;
}

/*
 * A pipe we fill faster than it is read gets room for SINK_PIPE_SIZE
 * bytes, once: fewer wake-ups of ours and of the reader per byte when a
 * service floods its output.  The reader may have made it larger already
 * (never shrink), and past /proc/sys/fs/pipe-max-size or the user's pipe
 * quota (pipe(7)) the kernel refuses: the pipe stays as it is.
 */
static void
grow_fifo(struct sink *s)
{
	int cur = fcntl(s->fd, F_GETPIPE_SZ);

	s->grown = true;
	if (cur >= 0 && cur < SINK_PIPE_SIZE)
		(void)fcntl(s->fd, F_SETPIPE_SZ, SINK_PIPE_SIZE);
}

/* Write out as much of the queue as the fd takes now. */
static void
drain(struct sink *s)
{
	while (s->qlen > 0 && !s->broken) {
		ssize_t w = try_write(s, s->q + s->qhead, s->qlen);

		if (w < 0) {
			/* The reader is gone: nothing we queue will arrive. */
			s->broken = true;
			lose(s, s->q + s->qhead, s->qlen);
			s->qlen = 0;
		} else if (w == 0 && s->fifo && !s->grown)
			grow_fifo(s);
		else if (w == 0)
			break;
		else {
			s->qhead += (size_t)w;
			s->qlen -= (size_t)w;
		}
	}
	if (s->qlen == 0)
		s->qhead = 0;
}

/*
 * Watch for writability while bytes wait.  Regular files cannot be
 * watched (epoll_ctl says EPERM), but they never make us wait either.
 */
static void
watch(struct sink *s)
{
	bool want = s->qlen > 0 && !s->broken;

	if (want && !s->io.added)
		(void)loop_io_add(&s->io);
	else if (!want && s->io.added)
		loop_io_del(&s->io);
}

static void
on_writable(struct loop_io *io, uint32_t revents)
{
	struct sink *s = io->data;

	(void)revents;
	drain(s);
	watch(s);
	if ((s->qlen == 0 || s->broken) && s->on_drain)
		s->on_drain();
}

void
sink_cork(struct sink *s)
{
	s->corked = true;
}

/*
 * Where relayed lines may go in the queue: below qcap - reserve, moving
 * the queue to its start first when fewer than want bytes are free there.
 * Keeping them out of the reserve's end of the buffer also keeps the
 * pages a flood touches the same from one stall to the next (RSS).
 */
static size_t
relay_end(struct sink *s, size_t want)
{
	size_t limit = s->qcap - s->reserve, used = s->qhead + s->qlen;

	if (s->qhead > 0 && (used >= limit || limit - used < want)) {
		memmove(s->q, s->q + s->qhead, s->qlen);
		s->qhead = 0;
		used = s->qlen;
	}
	return used >= limit ? 0 : limit - used;
}

int
sink_write3(struct sink *s, const char *a, size_t an, const char *b, size_t bn,
    const char *c, size_t cn)
{
	size_t n = an + bn + cn + 1;
	char *q;

	if (s->broken || n > s->qcap - s->qlen) {
		s->dropped += n;
		s->dropped_lines++;
		return s->broken ? -EPIPE : -ENOBUFS;
	}
	/* A relayed line: below the reserve when it can be (relay_end()). */
	if (relay_end(s, n) < n && s->qhead + s->qlen + n > s->qcap) {
		memmove(s->q, s->q + s->qhead, s->qlen);
		s->qhead = 0;
	}
	q = s->q + s->qhead + s->qlen;
	memcpy(q, a, an);
	memcpy(q + an, b, bn);
	memcpy(q + an + bn, c, cn);
	q[an + bn + cn] = '\n';
	s->qlen += n;
	return 0;
}

char *
sink_space(struct sink *s, size_t want, size_t *ret_n)
{
	*ret_n = relay_end(s, want);
	return s->q + s->qhead + s->qlen;
}

void
sink_commit(struct sink *s, size_t n)
{
	s->qlen += n;
}

void
sink_push(struct sink *s)
{
	size_t had = s->qlen;

	drain(s);
	watch(s);
	if (had && (s->qlen == 0 || s->broken) && s->on_drain)
		s->on_drain();
}

void
sink_uncork(struct sink *s)
{
	s->corked = false;
	sink_push(s);
}

size_t
sink_room(const struct sink *s)
{
	size_t free_bytes = s->qcap - s->qlen;

	return free_bytes > s->reserve ? free_bytes - s->reserve : 0;
}

size_t
sink_pending(const struct sink *s)
{
	return s->qlen;
}

/*
 * Write buf whole: now, or later from the queue.  Returns 0, or -ENOBUFS
 * when the queue cannot take it (it is then dropped and counted), or
 * -EPIPE when the reader is gone.
 */
int
sink_write(struct sink *s, const void *buf, size_t n)
{
	const char *p = buf;

	if (s->broken) {
		lose(s, p, n);
		return -EPIPE;
	}
	if (s->qlen == 0 && !s->corked) {
		while (n > 0) {
			ssize_t w = try_write(s, p, n);

			if (w < 0) {
				s->broken = true;
				lose(s, p, n);
				return -EPIPE;
			}
			if (w == 0)
				break;
			p += w;
			n -= (size_t)w;
		}
		if (n == 0)
			return 0;
	}
	if (n > s->qcap - s->qlen) {
		lose(s, p, n);
		return -ENOBUFS;
	}
	if (s->qhead + s->qlen + n > s->qcap) {
		memmove(s->q, s->q + s->qhead, s->qlen);
		s->qhead = 0;
	}
	memcpy(s->q + s->qhead + s->qlen, p, n);
	s->qlen += n;
	/* Corked, it is written (or watched) at sink_uncork(): no epoll_ctl
	 * pair around a write that comes at once. */
	if (!s->corked)
		watch(s);
	return 0;
}

/*
 * Push out what every shared sink holds, all of them together, until
 * deadline_ms.  This is the one place a sink waits; it is called only on
 * the way out, when there is nothing left to reap or forward, and its
 * deadline is what is left of the shutdown budget.
 */
void
sink_flush_all(uint64_t deadline_ms)
{
	struct pollfd p[SINK_SHARED_MAX];
	size_t i, n;
	uint64_t now;

	for (;;) {
		for (i = 0, n = 0; i < nshared; i++) {
			struct sink *s = &shared[i].s;

			drain(s);
			watch(s);
			if (s->qlen > 0 && !s->broken) {
				p[n].fd = s->fd;
				p[n].events = POLLOUT;
				p[n++].revents = 0;
			}
		}
		now = loop_now_ms();
		if (n == 0 || now >= deadline_ms)
			return;
		if (poll(p, n,
		        deadline_ms - now > 50
		            ? 50
		            : (int)(deadline_ms - now)) < 0 &&
		    errno != EINTR)
			return;
	}
}

/*
 * Drop what nobody started to write: after the line that is half out, if
 * one is.  Counted as dropped; returns the lines.
 */
static uint64_t
discard(struct sink *s)
{
	const char *q = s->q + s->qhead, *nl;
	size_t keep = 0;
	uint64_t lines;

	if (s->qlen == 0)
		return 0;
	if (!s->at_line_start) {
		nl = memchr(q, '\n', s->qlen);
		keep = nl ? (size_t)(nl - q) + 1 : s->qlen;
	}
	lines = count_lines(q + keep, s->qlen - keep);
	s->dropped += s->qlen - keep;
	s->dropped_lines += lines;
	s->qlen = keep;
	return lines;
}

uint64_t
sink_discard_all(void)
{
	uint64_t lines = 0;
	size_t i;

	for (i = 0; i < nshared; i++)
		lines += discard(&shared[i].s);
	return lines;
}

uint64_t
sink_dropped_all(void)
{
	uint64_t lines = 0;
	size_t i;

	for (i = 0; i < nshared; i++)
		lines += shared[i].s.dropped_lines;
	return lines;
}

uint64_t
sink_pending_lines_all(void)
{
	uint64_t lines = 0;
	size_t i;

	for (i = 0; i < nshared; i++)
		lines += count_lines(shared[i].s.q + shared[i].s.qhead,
		    shared[i].s.qlen);
	return lines;
}
