/*
 * service — one supervised process and its life.
 *
 * States and what moves a service between them.  Every change goes
 * through set_state() in service.c, which emits the event:
 *
 *   WAITING  --svc_start-->            STARTING (fork; service_start once
 *                                      the exec is confirmed)
 *   STARTING --every probe passed-->   READY (service_ready)
 *   STARTING --exec failed-->          FAILED (service_failed; no restart:
 *                                      a missing binary will not appear)
 *   STARTING/READY --svc_stop-->       STOPPING
 *   STARTING/READY/STOPPING --exit-->  service_exit, then
 *       BACKOFF (service_restart)  when the policy says so and the
 *                                  restart budget allows,
 *       FAILED  (service_failed)   when the budget is spent or the
 *                                  probe timed out with no restart left,
 *       EXITED                     otherwise (ended for good).
 *   BACKOFF  --delay elapsed-->        STARTING
 *   WAITING/BACKOFF --svc_stop-->      EXITED (nothing to signal)
 *
 * `was_ready` stays true once a service was ready: it keeps satisfying
 * `after` while it restarts (SPEC section 6).
 *
 * Public API: svc_init(), svc_start(), svc_stop(), svc_signal(),
 * svc_on_exit(), svc_exit_status(), svc_exit_ok(), svc_alive(),
 * svc_pending_reason(), svc_state_name().
 */
#ifndef AGENT_INIT_SERVICE_H
#define AGENT_INIT_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backoff.h"
#include "config.h"
#include "loop.h"
#include "output.h"
#include "probe.h"
#include "sandbox.h"

enum svc_state {
	SVC_WAITING,
	SVC_STARTING,
	SVC_READY,
	SVC_STOPPING,
	SVC_BACKOFF,
	SVC_EXITED,
	SVC_FAILED,
	SVC_STATE_MAX
};

struct svc {
	const struct service_conf *conf;
	const char *name;
	char **argv;
	bool main;
	bool required;
	bool foreground_tty;
	bool signal_group; /* forwarded signals go to the group (-g) */
	bool inherit_stdin;
	bool stop_with_received; /* stop with the signal that asked (tini) */
	/* What a signal sent to it becomes: its signal_map (for the main
	 * service over -r); SIGKILL is never rewritten. */
	struct value_sigmap sigmap;
	enum restart_policy restart;
	enum svc_state state;
	bool was_ready;
	bool stop_requested;
	bool probe_timed_out;
	bool runtime_over;
	pid_t pid;
	pid_t pgid;
	uint64_t group_wait_until; /* restart: the old group must be gone */
	unsigned int attempt;
	unsigned int restarts;
	uint64_t start_ms;
	int wstatus;
	bool has_exited;
	int fail_status;
	long long oom_kills_at_start;
	struct loop_io exec_io;
	struct loop_timer kill_timer;
	struct loop_timer restart_timer;
	struct loop_timer ready_timer;
	struct loop_timer runtime_timer;
	struct loop_timer group_timer;
	struct svc_out out;
	struct probe probe;
	unsigned int probe_index;
	struct notify_sock notify;
	struct backoff bo;
	char status[128]; /* the service's own STATUS= */
	char **envp;
	/* user, capabilities, seccomp, limits: SPEC section 10 */
	struct sandbox sb;
	/* Changed while the supervisor was busy with another change. */
	bool change_pending;
	/* Removed before each restart when it names no live dockerd. */
	const char *stale_pidfile;
	/* Choices a preset made for this machine, each with its reason. */
	const char *adapted[8];
	unsigned int nadapted;
	void (*on_change)(struct svc *s);
	char reason[256];
	/* argv storage for a command from the configuration */
	char argbuf[CONFIG_VALUE_MAX * 2];
	char *argvbuf[CONFIG_MAX_WORDS + 4];
};

/*
 * Prepare a service from its configuration (conf may be NULL for the
 * single-command `main`, whose argv is given); -ENOMEM or -EINVAL.
 */
int svc_init(struct svc *s, const struct service_conf *conf, char **argv,
    enum output_mode mode, uint64_t seed);
int svc_start(struct svc *s);
void svc_stop(struct svc *s, int sig, uint64_t kill_deadline_ms);
/*
 * Send sig, after the service's signal_map, to its process or its process
 * group: the signal sent, 0 when the map drops it, -ESRCH when there is
 * no process.
 */
int svc_signal(struct svc *s, int sig, bool group);
/* True when pid belonged to this service (its process or a probe). */
bool svc_on_exit(struct svc *s, pid_t pid, int wstatus);
int svc_exit_status(const struct svc *s);
/* It exited with 0 or one of its success_exit_codes: no failure. */
bool svc_exit_ok(const struct svc *s);
bool svc_alive(const struct svc *s);
/* Why it is not ready yet, for `waiting` events. */
const char *svc_pending_reason(const struct svc *s, char *buf, size_t cap);
const char *svc_state_name(enum svc_state st);

#endif
