/*
 * loop — the one event loop of PID 1: epoll for file descriptors, one
 * timerfd for deadlines.
 *
 * Callers own their struct loop_io and struct loop_timer (embedded in a
 * service, a check, a sink ...); the loop only links to them.  Such a
 * struct must stay valid until it is removed.  Every callback may add,
 * modify or remove any io or timer, itself included.
 *
 * Public API:
 *   loop_init()              create the epoll instance and the timerfd
 *   loop_io_add/mod/del()    watch a non-blocking fd for EPOLLIN/EPOLLOUT
 *   loop_timer_arm/cancel()  call back at a monotonic deadline (ms)
 *   loop_now_ms()            monotonic milliseconds
 *   loop_run_once()          wait until something happens, dispatch it
 */
#ifndef AGENT_INIT_LOOP_H
#define AGENT_INIT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop_io {
	int fd;
	uint32_t events;
	void (*cb)(struct loop_io *io, uint32_t revents);
	void *data;
	bool added;
};

struct loop_timer {
	uint64_t deadline_ms;
	void (*cb)(struct loop_timer *t);
	void *data;
	bool armed;
	struct loop_timer *next;
};

int loop_init(void);
int loop_io_add(struct loop_io *io);
int loop_io_mod(struct loop_io *io, uint32_t events);
void loop_io_del(struct loop_io *io);
void loop_timer_arm(struct loop_timer *t, uint64_t deadline_ms);
void loop_timer_cancel(struct loop_timer *t);
uint64_t loop_now_ms(void);
int loop_run_once(void);

#endif
