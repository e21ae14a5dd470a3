/*
 * file — the one way agent-init reads a whole file.  See file.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "file.h"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Is this a kind of file we may read?  Planted paths: regular files only.
 * Operator paths: also FIFOs, character devices and sockets (a shell's
 * `-c /dev/stdin`, `<(...)`), never a directory.
 */
static int
check_type(const struct stat *st, enum file_kind kind, size_t max_bytes)
{
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (S_ISREG(st->st_mode))
		return (unsigned long long)st->st_size > max_bytes ? -EFBIG : 0;
	if (kind == FILE_PLANTED)
		return -EINVAL;
	if (S_ISFIFO(st->st_mode) || S_ISCHR(st->st_mode) ||
	    S_ISSOCK(st->st_mode))
		return 0;
	return -EINVAL;
}

/*
 * Wait until fd is readable or the deadline passes.  A regular file is
 * always readable; this only ever waits for an operator's pipe.
 */
static int
wait_readable(int fd, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

static int
read_all(int fd, bool may_wait, size_t max_bytes, long long deadline,
    char **ret_data, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1), *nb;
	ssize_t n;
	int r;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > max_bytes) {
				free(buf);
				return -EFBIG;
			}
			cap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		/*
		 * A FIFO reads as end of file until its writer opens it, so
		 * wait for data (or for the writer to close) before each read.
		 */
		if (may_wait && (r = wait_readable(fd, deadline)) < 0) {
			free(buf);
			return r;
		}
		n = read(fd, buf + len, cap - len);
		if (n > 0) {
			len += (size_t)n;
			if (len > max_bytes) {
				free(buf);
				return -EFBIG;
			}
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || !may_wait) {
			r = errno == EAGAIN ? -EINVAL : -errno;
			free(buf);
			return r;
		}
	}
	buf[len] = 0;
	*ret_data = buf;
	*ret_len = len;
	return 0;
}

int
file_read(const char *path, enum file_kind kind, size_t max_bytes,
    int timeout_ms, char **ret_data, size_t *ret_len)
{
	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO never waits for its writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if ((r = check_type(&st, kind, max_bytes)) < 0) {
		close(fd);
		return r;
	}
	r = read_all(fd, kind == FILE_OPERATOR && !S_ISREG(st.st_mode),
	    max_bytes, deadline, ret_data, ret_len);
	close(fd);
	return r;
}

int
file_open(const char *path, int *ret_fd)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int
file_reread(int fd, char *buf, size_t cap, size_t *ret_len)
{
	ssize_t n;

	if (cap == 0)
		return -EINVAL;
	do
		n = pread(fd, buf, cap - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	*ret_len = (size_t)n;
	return 0;
}

const char *
file_error(int err)
{
	switch (err) {
	case -EISDIR:
		return "is a directory, not a file";
	case -EINVAL:
		return "not a regular file";
	case -EFBIG:
		return "too large";
	case -ETIMEDOUT:
		return "no end of file within the time allowed";
	default:
		return strerror(err < 0 ? -err : err);
	}
}
