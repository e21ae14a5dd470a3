/*
 * signals — how PID 1 receives signals: all blocked, read from a signalfd.
 *
 * signals_block() runs first of all.  It blocks every signal except the
 * fault signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS,
 * which must keep killing us with a core dump rather than loop), resets
 * every disposition to the default (a signal that was SIG_IGN when we were
 * started would otherwise never reach the signalfd).  Once the loop
 * exists, signals_init() registers the signalfd with it; each signal read
 * is handed to the callback.
 *
 * signals_child_reset() is for the child between fork and exec: it gives
 * back an empty mask.  Dispositions need no reset there: we never install
 * handlers, and signals_block() already cleared inherited SIG_IGNs.
 *
 * sig_name() names a signal for events: 1 -> "SIGHUP", "SIGRTMIN+3".  (A
 * name the user wrote is read by value_signal(), core/values.c.)
 *
 * Public API: signals_block(), signals_init(), signals_child_reset(),
 * sig_name().
 */
#ifndef AGENT_INIT_SIGNALS_H
#define AGENT_INIT_SIGNALS_H

#include <stdbool.h>
#include <sys/signalfd.h>

typedef void (*signals_cb)(const struct signalfd_siginfo *si);

int signals_block(void);
int signals_init(signals_cb cb);
int signals_child_reset(void);
const char *sig_name(int sig, char *buf, unsigned long cap);

#endif
