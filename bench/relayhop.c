/*
 * relayhop MODE — the log relay bench's reference relays, one process
 * between linegen and cat, as agent-init is:
 *
 *   relayhop splice          moves stdin to stdout with splice(2): no copy
 *                            through user space, the cheapest hop there is
 *   relayhop prefix PREFIX   writes PREFIX before every line, as agent-init's
 *                            `output = prefix` does, with nothing else: no
 *                            event loop, no backpressure bookkeeping, no
 *                            tail, blocking reads and writes; each line is
 *                            copied and searched for its newline in one
 *                            pass, 16 bytes at a time (SSE2), as agent-init
 *                            does
 *
 * Both grow their stdout pipe to 1 MiB first, as agent-init does when it
 * finds it full, so that they differ from agent-init only in what they
 * leave out.  prefix reads 64 KiB at a time (agent-init's buffer) and
 * writes what it made of it in one write(2); a line cut by the end of a
 * read waits for the next.  Exits 0 at end of input, 1 on an error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <emmintrin.h>

#define IN_SIZE (64 * 1024)
#define BLOCK 16

static int
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
relay_splice(void)
{
	for (;;) {
		ssize_t n = splice(STDIN_FILENO, NULL, STDOUT_FILENO, NULL,
		    1 << 20, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return 1;
		if (n == 0)
			return 0;
	}
}

/*
 * Copy src to dst up to and with its first newline; return the line's
 * length with it, or 0 if there is none in the first lim bytes.  Reads
 * and writes up to a block past it.
 */
static size_t
copy_line(char *dst, const char *src, size_t lim)
{
	const __m128i nl = _mm_set1_epi8('\n');
	size_t i;

	for (i = 0; i < lim; i += BLOCK) {
		__m128i v = _mm_loadu_si128((const void *)(src + i));
		unsigned int m;

		_mm_storeu_si128((void *)(dst + i), v);
		m = (unsigned int)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl));
		if (m) {
			i += (size_t)__builtin_ctz(m);
			return i < lim ? i + 1 : 0;
		}
	}
	return 0;
}

static int
relay_prefix(const char *prefix)
{
	/* padded by a block: copy_line() may go that far */
	static char in[IN_SIZE + BLOCK], out[IN_SIZE * 4];
	char pad[64 + BLOCK] = { 0 };
	size_t pl = strlen(prefix), len = 0, i;

	if (pl > 64)
		return 64;
	memcpy(pad, prefix, pl);
	for (;;) {
		ssize_t r = read(STDIN_FILENO, in + len, IN_SIZE - len);
		size_t off = 0, o = 0;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 1;
		if (r == 0)
			break;
		len += (size_t)r;
		for (;;) {
			size_t n;

			/* room for the longest line left and the slack */
			if (o + pl + (len - off) + 2 * BLOCK > sizeof(out)) {
				if (write_all(out, o) < 0)
					return 1;
				o = 0;
			}

			for (i = 0; i < pl; i += BLOCK)
				_mm_storeu_si128((void *)(out + o + i),
				    _mm_loadu_si128((const void *)(pad + i)));
			n = copy_line(out + o + pl, in + off, len - off);
			if (n == 0)
				break;
			o += pl + n;
			off += n;
		}
		if (write_all(out, o) < 0)
			return 1;
		if (off == 0 && len == IN_SIZE)
			return 1; /* a line longer than the buffer: not ours */
		memmove(in, in + off, len - off);
		len -= off;
	}
	if (len > 0) { /* a last line without its newline */
		if (write_all(prefix, pl) < 0 || write_all(in, len) < 0 ||
		    write_all("\n", 1) < 0)
			return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2 ||
	    (strcmp(argv[1], "splice") != 0 &&
	        (strcmp(argv[1], "prefix") != 0 || argc != 3))) {
		fprintf(stderr,
		    "usage: relayhop splice | relayhop prefix PREFIX\n");
		return 64;
	}
	/* As agent-init does with a full pipe; refused beyond pipe-max-size. */
	(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, 1 << 20);
	if (strcmp(argv[1], "splice") == 0)
		return relay_splice();
	return relay_prefix(argv[2]);
}
