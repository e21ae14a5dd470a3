/*
 * file — the one way agent-init reads a whole file.
 *
 * PID 1 must never block on a file, and some of the files it reads can be
 * put there by the services it runs.  So every read of a whole file goes
 * through here (s6's openreadnclose_nb() is the model), in one of two
 * kinds:
 *
 *   FILE_PLANTED   a path a service could have planted something at
 *                  (/etc/hosts, resolv.conf, passwd, group, a pidfile, a
 *                  cgroup file): read only if it is a regular file, opened
 *                  with O_NONBLOCK (a FIFO never holds up the open), at
 *                  most max_bytes; never waits for anything.
 *   FILE_OPERATOR  a path the operator named (-c, --resolv-conf,
 *                  check-config): a regular file, a FIFO or a character
 *                  device such as /dev/stdin, read until end of file with
 *                  at most max_bytes and within timeout_ms.  A directory,
 *                  /dev/zero or a writer that never finishes is an error,
 *                  never a hang or a spin.
 *
 * The data comes back NUL-terminated in a buffer the caller frees.
 * Errors are -errno: -EISDIR (a directory), -EINVAL (not a regular file
 * where one is needed), -EFBIG (more than max_bytes), -ETIMEDOUT (the
 * deadline passed), or what open(2) and read(2) said.  file_error() gives
 * the words for a message "FILE: words".
 *
 * A file read again and again (a cgroup's counter, read on every reaping
 * pass) is opened once with file_open(), under the same rules as a
 * planted path, and read with file_reread(): one pread(2) from offset 0,
 * which makes a cgroup or proc file generate its text afresh.
 *
 * Public API: file_read(), file_error(), file_open(), file_reread().
 */
#ifndef AGENT_INIT_FILE_H
#define AGENT_INIT_FILE_H

#include <stddef.h>

enum file_kind { FILE_PLANTED, FILE_OPERATOR };

int file_read(const char *path, enum file_kind kind, size_t max_bytes,
    int timeout_ms, char **ret_data, size_t *ret_len);
/* Words for -errno from file_read(): "not a regular file", ... */
const char *file_error(int err);
/* A planted path kept open (regular only, non-blocking, close-on-exec). */
int file_open(const char *path, int *ret_fd);
/* Its text now: at most cap - 1 bytes from offset 0, NUL-terminated. */
int file_reread(int fd, char *buf, size_t cap, size_t *ret_len);

#endif
