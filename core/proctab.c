/*
 * proctab — the processes we can see.  See proctab.h.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "proctab.h"

/* include/linux/sched.h: getting shut down. */
#define PROC_PF_EXITING 0x00000004UL
/* Parents walked up at most; a chain this deep is not a real one. */
#define PROC_MAX_DEPTH 64
/* A stat line is well under 1 KiB; a command name can hold ')' and
 * spaces, so it is parsed from the last ')'. */
#define PROC_STAT_MAX 4096

int
proc_parse_stat(const char *text, struct proc_info *ret)
{
	struct proc_info pi;
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	const char *p;
	unsigned long long f[64];
	size_t nf = 0, clen;
	char *end;

	memset(&pi, 0, sizeof(pi));
	if (!open || !close || close < open)
		return -EINVAL;
	pi.pid = (pid_t)strtol(text, &end, 10);
	if (end == text || pi.pid <= 0)
		return -EINVAL;
	clen = (size_t)(close - open - 1);
	if (clen >= sizeof(pi.comm))
		clen = sizeof(pi.comm) - 1;
	memcpy(pi.comm, open + 1, clen);
	p = close + 1;
	while (*p == ' ')
		p++;
	if (!*p || *p == '\n')
		return -EINVAL;
	pi.state = *p++;
	/* Fields 4 onwards are numbers; some (priority, nice) may be
	 * negative, which strtoull takes as their two's complement. */
	while (nf < sizeof(f) / sizeof(f[0])) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		f[nf++] = strtoull(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	if (nf < 6)
		return -EINVAL;
	/* f[0] is field 4 (ppid): field N is f[N - 4]. */
	pi.ppid = (pid_t)f[0];
	pi.pgrp = (pid_t)f[1];
	pi.flags = (unsigned long)f[5];
	if (nf > 31 - 4)
		pi.sigpending = f[31 - 4];
	if (nf > 52 - 4)
		pi.exit_code = (int)f[52 - 4];
	*ret = pi;
	return 0;
}

bool
proc_dying_of_sigkill(const struct proc_info *p)
{
	bool ending =
	    p->state == 'Z' || p->state == 'X' || (p->flags & PROC_PF_EXITING);

	if (p->sigpending & (1ULL << (SIGKILL - 1)))
		return true;
	/* exit_code in the form of waitpid(2): the signal in the low bits. */
	return ending && (p->exit_code & 0x7f) == SIGKILL;
}

static int
by_pid(const void *a, const void *b)
{
	const struct proc_info *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int
read_one(long pid, struct proc_info *ret)
{
	char path[64], *text = NULL;
	size_t n;
	int r;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((r = file_read(path, FILE_PLANTED, PROC_STAT_MAX, 0, &text, &n)) <
	    0)
		return r;
	r = proc_parse_stat(text, ret);
	free(text);
	return r;
}

int
proctab_scan(struct proctab *t, size_t max)
{
	size_t cap = 64;
	struct dirent *d;
	DIR *dir;

	memset(t, 0, sizeof(*t));
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	t->p = malloc(cap * sizeof(*t->p));
	if (!t->p) {
		closedir(dir);
		return -ENOMEM;
	}
	while ((d = readdir(dir))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);

		if (pid <= 0 || *end)
			continue;
		if (t->n == max) {
			t->truncated = true;
			break;
		}
		if (t->n == cap) {
			struct proc_info *np =
			    realloc(t->p, cap * 2 * sizeof(*t->p));

			if (!np)
				break; /* what we have is still a table */
			t->p = np;
			cap *= 2;
		}
		if (read_one(pid, &t->p[t->n]) == 0)
			t->n++;
	}
	closedir(dir);
	qsort(t->p, t->n, sizeof(*t->p), by_pid);
	return 0;
}

void
proctab_free(struct proctab *t)
{
	free(t->p);
	memset(t, 0, sizeof(*t));
}

const struct proc_info *
proctab_get(const struct proctab *t, pid_t pid)
{
	struct proc_info key = { .pid = pid };

	if (!t->n)
		return NULL;
	return bsearch(&key, t->p, t->n, sizeof(*t->p), by_pid);
}

static int
index_of(const pid_t *set, size_t n, pid_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] > 0 && set[i] == v)
			return (int)i;
	return -1;
}

int
proctab_owner(const struct proctab *t, pid_t pid, const pid_t *roots,
    const pid_t *groups, size_t n)
{
	const struct proc_info *chain[PROC_MAX_DEPTH];
	const struct proc_info *p = proctab_get(t, pid);
	size_t depth = 0, i;
	int k;

	if ((k = index_of(roots, n, pid)) >= 0)
		return k;
	while (p && depth < PROC_MAX_DEPTH) {
		chain[depth++] = p;
		if ((k = index_of(roots, n, p->pid)) >= 0)
			return k;
		if (p->ppid <= 0 || p->ppid == p->pid)
			break;
		p = proctab_get(t, p->ppid);
	}
	for (i = 0; i < depth; i++)
		if ((k = index_of(groups, n, chain[i]->pgrp)) >= 0)
			return k;
	return -1;
}
