/*
 * service — one supervised process and its life.
 *
 * States and what moves a service between them (every change goes through
 * set_state() in service.c, which emits the event):
 *
 *   SVC_IDLE --svc_start--> SVC_STARTING --exec ok--> SVC_READY
 *   SVC_STARTING --exec failed--> SVC_FAILED (service_failed)
 *   SVC_READY --svc_stop--> SVC_STOPPING
 *   SVC_STARTING/READY/STOPPING --exit--> SVC_EXITED (service_exit)
 *
 * A signal forwarded while a service has no process is "ignored".  An exit
 * in SVC_IDLE, SVC_EXITED or SVC_FAILED cannot happen (no pid is known).
 *
 * Public API: svc_start(), svc_stop(), svc_signal(), svc_on_exit(),
 * svc_exit_status(), svc_alive().
 */
#ifndef AGENT_INIT_SERVICE_H
#define AGENT_INIT_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

enum svc_state {
	SVC_IDLE,
	SVC_STARTING,
	SVC_READY,
	SVC_STOPPING,
	SVC_EXITED,
	SVC_FAILED,
	SVC_STATE_MAX
};

struct svc {
	const char *name;
	char **argv;
	bool main;
	bool foreground_tty;
	bool signal_group;
	enum svc_state state;
	pid_t pid;
	unsigned int attempt;
	uint64_t start_ms;
	int wstatus;
	int fail_status;
	long long oom_kills_at_start;
	struct loop_io exec_io;
	struct loop_timer kill_timer;
	void (*on_change)(struct svc *s);
	char reason[256];
};

int svc_start(struct svc *s);
void svc_stop(struct svc *s, int sig, uint64_t kill_deadline_ms);
bool svc_signal(struct svc *s, int sig, bool group);
void svc_on_exit(struct svc *s, int wstatus);
int svc_exit_status(const struct svc *s);
bool svc_alive(const struct svc *s);

#endif
