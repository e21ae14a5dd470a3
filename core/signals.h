/*
 * signals — how PID 1 receives signals: all blocked, read from a signalfd.
 *
 * signals_block() runs first of all.  It blocks every signal, the fault
 * signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS)
 * included, and the real-time signals the C library keeps for itself
 * (32-34: 34 is SIGRTMIN for glibc and Docker, and must reach the
 * services), and resets every disposition to the default (a signal that
 * was SIG_IGN when we were started would otherwise never reach the
 * signalfd).  Blocking a fault signal does not keep a real fault from
 * ending us: the kernel delivers a synchronous fault with force_sig_fault(),
 * which unblocks the signal, resets it to SIG_DFL and even lifts an init's
 * protection from signals (kernel/signal.c, force_sig_info_to_task), and
 * abort() unblocks SIGABRT itself.  What reaches the signalfd is what was
 * sent with kill(), tgkill() or sigqueue() (si_code <= 0), which the init
 * forwards like any other signal (as dumb-init does), or the rare signal
 * the kernel queues without forcing it (a memory error reported "action
 * optional", BUS_MCEERR_AO), which it ignores.  Once the loop exists,
 * signals_init() registers the signalfd with it; each signal read is
 * handed to the callback.
 *
 * signals_child_reset() is for the child between fork and exec: it gives
 * back an empty mask.  Dispositions need no reset there: we never install
 * handlers, and signals_block() already cleared inherited SIG_IGNs.
 *
 * sig_name() names a signal for events: 1 -> "SIGHUP", 37 ->
 * "SIGRTMIN+3": real-time signals numbered as glibc, Docker and `kill -l`
 * do (values.h), not as musl's SIGRTMIN.  (A name the user wrote is read
 * by value_signal(), core/values.c.)  signals_is_fault() tells the fault
 * signals.
 *
 * Public API: signals_block(), signals_init(), signals_child_reset(),
 * signals_is_fault(), sig_name().
 */
#ifndef AGENT_INIT_SIGNALS_H
#define AGENT_INIT_SIGNALS_H

#include <stdbool.h>
#include <sys/signalfd.h>

typedef void (*signals_cb)(const struct signalfd_siginfo *si);

int signals_block(void);
int signals_init(signals_cb cb);
int signals_child_reset(void);
bool signals_is_fault(int sig);
const char *sig_name(int sig, char *buf, unsigned long cap);

#endif
