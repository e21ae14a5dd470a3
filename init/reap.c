/*
 * reap — waitpid(-1) until empty.  See reap.h.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "events.h"
#include "reap.h"
#include "signals.h"
#include "supervisor.h"

static void
report_orphan(pid_t pid, int wstatus)
{
	char buf[24];

	ev_begin("reaped");
	ev_int("pid", pid);
	if (WIFSIGNALED(wstatus))
		ev_str("signal", sig_name(WTERMSIG(wstatus), buf, sizeof(buf)));
	else
		ev_int("code", WEXITSTATUS(wstatus));
	ev_emit();
}

bool
reap_all(unsigned int verbose)
{
	int wstatus;
	pid_t pid;

	for (;;) {
		pid = waitpid(-1, &wstatus, WNOHANG);
		if (pid > 0) {
			if (!sup_on_exit(pid, wstatus) && verbose)
				report_orphan(pid, wstatus);
			continue;
		}
		if (pid == 0)
			return true;
		if (errno == EINTR)
			continue;
		/* ECHILD: nobody is left. */
		return false;
	}
}
