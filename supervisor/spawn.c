/*
 * spawn — fork, prepare the child, exec.  See spawn.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "signals.h"
#include "spawn.h"

/* The shell's convention: 127 when there is no such command, 126 when it
 * exists but cannot be executed. */
int
spawn_exec_status(int err)
{
	return (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG) ? 127
	                                                                : 126;
}

static void __attribute__((noreturn)) child_fail(int errfd, int step)
{
	struct spawn_error e = { .step = step, .err = errno };

	/* A short write to a pipe we own cannot block; nothing to do if it
	 * fails: the parent then sees end-of-file and our exit status. */
	(void)!write(errfd, &e, sizeof(e));
	/* Only an exec that found nothing is "not found". */
	_exit(step == SPAWN_STEP_EXEC ? spawn_exec_status(e.err) : 126);
}

/* Our pid in decimal at dst (12 bytes hold any pid and the NUL); no
 * stdio between fork and exec. */
static void
write_pid(char *dst)
{
	char digits[12];
	unsigned long v = (unsigned long)getpid();
	size_t n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < sizeof(digits) - 1);
	while (n)
		*dst++ = digits[--n];
	*dst = 0;
}

/*
 * Between fork and exec.  Only async-signal-safe calls: we are a copy of
 * PID 1 and must not touch its locks or buffers.  Signals stay blocked
 * until just before exec, so a forwarded signal cannot hit the child while
 * it is still agent-init.
 */
static void __attribute__((noreturn))
child(const struct spawn_req *req, int errfd)
{
	int i;

	if (req->own_pgrp && setpgid(0, 0) < 0)
		child_fail(errfd, SPAWN_STEP_PGRP);
	/*
	 * Hand the terminal to the child's group, as a shell does for a
	 * foreground job.  We are in a background group now, which would
	 * normally raise SIGTTOU, but it is blocked.  A failure here only
	 * means no job control, as with tini; it is not worth a failed start.
	 */
	if (req->foreground_tty)
		(void)tcsetpgrp(STDIN_FILENO, getpid());
	for (i = 0; i < 3; i++)
		if (req->stdio[i] >= 0 && req->stdio[i] != i &&
		    dup2(req->stdio[i], i) < 0)
			child_fail(errfd, SPAWN_STEP_STDIO);
	if (req->sandbox && req->sandbox->any) {
		int step;

		if (sandbox_apply(req->sandbox, &step) < 0)
			child_fail(errfd, step);
	}
	if (signals_child_reset() < 0)
		child_fail(errfd, SPAWN_STEP_SIGMASK);
	if (req->pid_slot)
		write_pid(req->pid_slot);
	if (req->envp)
		execvpe(req->argv[0], req->argv, req->envp);
	else
		execvp(req->argv[0], req->argv);
	child_fail(errfd, SPAWN_STEP_EXEC);
}

int
spawn_start(const struct spawn_req *req, pid_t *ret_pid, int *ret_errfd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int r = -errno;

		close(p[0]);
		close(p[1]);
		return r;
	}
	if (pid == 0) {
		close(p[0]);
		child(req, p[1]);
	}
	close(p[1]);
	/*
	 * Also from the parent, so that the group exists before we may
	 * signal it (the child may not have run yet).  EACCES once the child
	 * has exec'd, ESRCH if it is gone already: both fine.
	 */
	if (req->own_pgrp)
		(void)setpgid(pid, pid);
	*ret_pid = pid;
	*ret_errfd = p[0];
	return 0;
}

/*
 * Read the child's report.  Returns 0 when the exec succeeded (end of
 * file), 1 with *ret_err filled when a step failed, -EAGAIN when the child
 * has not got that far yet.
 */
int
spawn_read_error(int errfd, struct spawn_error *ret_err)
{
	struct spawn_error e;
	ssize_t n;

	do
		n = read(errfd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;
	if ((size_t)n < sizeof(e)) {
		e.step = SPAWN_STEP_EXEC;
		e.err = EIO;
	}
	*ret_err = e;
	return 1;
}

void
spawn_describe(const struct spawn_error *e, const char *cmd, char *buf,
    size_t cap)
{
	const char *sb = sandbox_step_name(e->step);

	if (sb) {
		snprintf(buf, cap, "cannot start '%s': sandbox step %s: %s",
		    cmd, sb, strerror(e->err));
		return;
	}
	switch (e->step) {
	case SPAWN_STEP_STDIO:
		snprintf(buf, cap, "cannot set up stdio for '%s': %s", cmd,
		    strerror(e->err));
		break;
	case SPAWN_STEP_SIGMASK:
		snprintf(buf, cap, "cannot unblock signals for '%s': %s", cmd,
		    strerror(e->err));
		break;
	case SPAWN_STEP_PGRP:
		snprintf(buf, cap, "cannot create a process group for '%s': %s",
		    cmd, strerror(e->err));
		break;
	default:
		snprintf(buf, cap, "cannot execute '%s': %s", cmd,
		    strerror(e->err));
		break;
	}
}
