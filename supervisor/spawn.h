/*
 * spawn — fork, prepare the child, exec; report exec failures back.
 *
 * The child runs one straight-line function between fork and exec: its
 * own process group, the terminal's foreground when asked, stdio, the
 * service's sandbox (sandbox.h), an empty signal mask, exec.  It never logs and never returns: a failing step
 * writes {step, errno} into a close-on-exec pipe and exits with the
 * shell's status (127 not found, 126 cannot execute).  The parent watches
 * that pipe in the loop: end-of-file means the exec happened.
 *
 * Public API: spawn_start(), spawn_read_error(), spawn_exec_status(),
 * spawn_describe().
 */
#ifndef AGENT_INIT_SPAWN_H
#define AGENT_INIT_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum spawn_step {
	SPAWN_STEP_NONE,
	SPAWN_STEP_PGRP,
	SPAWN_STEP_STDIO,
	SPAWN_STEP_EXEC,
	SPAWN_STEP_SIGMASK,
	SPAWN_STEP_MAX
};

struct sandbox;

struct spawn_req {
	char *const *argv;
	char *const *envp; /* NULL: our own environment */
	bool own_pgrp;
	bool foreground_tty;
	/* What becomes the child's 0, 1 and 2; -1 keeps ours. */
	int stdio[3];
	/* Restrictions applied after stdio, before exec; NULL: none. */
	const struct sandbox *sandbox;
	/* In a string of envp, room for 12 bytes: the child writes its pid
	 * there (WATCHDOG_PID); NULL: none. */
	char *pid_slot;
};

struct spawn_error {
	int step;
	int err;
};

/*
 * Fork and start the child.  -EMFILE or -ENFILE: no descriptor for the
 * exec report pipe (fork(2) never says that); otherwise what fork(2) said.
 */
int spawn_start(const struct spawn_req *req, pid_t *ret_pid, int *ret_errfd);
int spawn_read_error(int errfd, struct spawn_error *ret_err);
int spawn_exec_status(int err);
void spawn_describe(const struct spawn_error *e, const char *cmd, char *buf,
    size_t cap);

#endif
