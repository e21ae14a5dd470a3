/*
 * proctab — a snapshot of the processes agent-init can see, from /proc.
 *
 * The watches (OOM attribution, zombies and pids pressure) need, for
 * each process, its parent, its process group, its state, whether it is
 * dying of SIGKILL, and its command name.  /proc/PID/stat has all of it
 * in one read.  A scan reads every /proc/PID/stat through core/file.c
 * (regular files only, bounded, never waiting) into a table sorted by
 * pid; a process that ends meanwhile is simply not in it.
 *
 * "Dying of SIGKILL" is what is visible for a moment after the kernel
 * killed a process: SIGKILL pending (field 31), or the exit already
 * under way or done (PF_EXITING, a zombie) with exit_code (field 52,
 * Linux 3.5) saying SIGKILL.  The kernel shows exit_code only to whom
 * may ptrace the process; to others it reads 0.
 *
 * proc_parse_stat(), proc_dying_of_sigkill() and proctab_owner() are
 * pure and unit tested.
 *
 * Public API: proctab_scan(), proctab_free(), proctab_get(),
 * proctab_owner(), proc_parse_stat(), proc_dying_of_sigkill().
 */
#ifndef AGENT_INIT_PROCTAB_H
#define AGENT_INIT_PROCTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* TASK_COMM_LEN: the kernel keeps 15 bytes of a command name. */
#define PROC_COMM_MAX 16

struct proc_info {
	pid_t pid;
	pid_t ppid;
	pid_t pgrp;
	char state; /* R S D Z T t X I ... */
	unsigned long flags; /* PF_* */
	unsigned long long sigpending; /* the thread's pending signals */
	int exit_code; /* waitpid(2) form; 0 when not permitted */
	char comm[PROC_COMM_MAX];
};

struct proctab {
	struct proc_info *p;
	size_t n;
	bool truncated; /* more processes than the scan may hold */
};

/* Read /proc; at most max processes.  0 or -errno. */
int proctab_scan(struct proctab *t, size_t max);
void proctab_free(struct proctab *t);
const struct proc_info *proctab_get(const struct proctab *t, pid_t pid);
/*
 * Which of roots[0..n) pid descends from: its own pid, or a parent's,
 * grandparent's ... is one of them (ancestry, at most 64 steps), else
 * its process group is one of groups[0..n) (an orphan reparented to us
 * keeps its group).  The index, or -1.  groups[i] <= 0 matches nothing.
 */
int proctab_owner(const struct proctab *t, pid_t pid, const pid_t *roots,
    const pid_t *groups, size_t n);
/* One /proc/PID/stat line.  0, or -EINVAL. */
int proc_parse_stat(const char *text, struct proc_info *ret);
bool proc_dying_of_sigkill(const struct proc_info *p);

#endif
