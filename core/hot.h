/*
 * hot.h — the functions between a signal's arrival and its delivery to a
 * service (read the signalfd, decide, send).
 *
 * PID 1 sleeps for seconds between signals; by then most of its code has
 * dropped out of the caches and the TLB, and every page the path touches
 * for the first time costs a page walk.  Marked hot, these functions are
 * laid out together (.text.hot) and optimised for speed rather than size,
 * so that the path touches a page or two instead of one per function.
 * What comes after the signal (events, timers, state) stays cold.
 */
#ifndef AGENT_INIT_HOT_H
#define AGENT_INIT_HOT_H

#define HOT __attribute__((hot))

#endif
