/*
 * Fuzz target: what the watches parse (core/proctab.c, core/cgroup.c).
 * A service names its own processes (prctl(PR_SET_NAME) takes any bytes,
 * ')' and spaces included), so a /proc/PID/stat line is partly its
 * words.  The first byte picks:
 *
 *   0  a /proc/PID/stat line, proc_parse_stat()
 *   1  "SELF\0MOUNTINFO\0CONTROLLER": cgroup_resolve(), with a buffer
 *      size from the second byte
 *   2  a cgroup file, cgroup_key() for oom_kill and oom, cgroup_value()
 *
 * Checked besides crashes: a parsed line has a positive pid and a
 * terminated command name of at most 15 bytes; a resolved directory is
 * a terminated string within the buffer given; every error is one of
 * those documented; a value is below 2^62, or "no limit".
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/file.c"
#include "../../core/cgroup.c"
#include "../../core/proctab.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
stat_line(const char *s)
{
	struct proc_info p;

	memset(&p, 0x55, sizeof(p));
	if (proc_parse_stat(s, &p) < 0)
		return;
	assert(p.pid > 0);
	assert(memchr(p.comm, 0, sizeof(p.comm)) != NULL);
	assert(strlen(p.comm) < PROC_COMM_MAX);
	(void)proc_dying_of_sigkill(&p);
}

static void
resolve(const char *s, size_t n, size_t cap)
{
	const char *self = s, *mi, *ctl;
	char out[1100];
	int r;

	mi = memchr(s, 0, n);
	if (!mi)
		return;
	mi++;
	ctl = memchr(mi, 0, n - (size_t)(mi - s));
	if (!ctl)
		return;
	ctl++;
	memset(out, 0x55, sizeof(out));
	r = cgroup_resolve(self, mi, ctl, out, cap);
	if (r < 0) {
		assert(r == -ENOENT || r == -ENAMETOOLONG);
		return;
	}
	assert(r == CGROUP_V1 || r == CGROUP_V2);
	assert(memchr(out, 0, cap) != NULL);
}

static void
values(const char *s)
{
	unsigned long long v = 7;
	int r;

	r = cgroup_key(s, "oom_kill", &v);
	assert(r == 0 || r == -ENOENT || r == -EINVAL);
	r = cgroup_key(s, "oom", &v);
	assert(r == 0 || r == -ENOENT || r == -EINVAL);
	r = cgroup_value(s, &v);
	assert(r == 0 || r == 1 || r == -EINVAL);
	if (r == 0)
		assert(v < (1ULL << 62));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[8192];
	size_t n;

	if (size < 2)
		return 0;
	n = size - 2 < sizeof(s) - 1 ? size - 2 : sizeof(s) - 1;
	memcpy(s, data + 2, n);
	s[n] = 0;
	switch (data[0] % 3) {
	case 0:
		stat_line(s);
		break;
	case 1:
		/* The texts are NUL-separated: keep the bytes after them. */
		resolve(s, n + 1, 1 + data[1] % 1024);
		break;
	default:
		values(s);
		break;
	}
	return 0;
}
