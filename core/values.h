/*
 * values — parsers for the values a user writes: durations, booleans,
 * counts, commands, restart limits, signals, modes and resource limits.
 * Pure (no syscalls, no logging, no allocation), shared by the command line
 * and the configuration, unit tested and fuzzed directly.
 *
 * Durations: "250ms", "2s", "1m", "1h", or a bare number of seconds; at
 * most VALUES_DURATION_MAX_MS.  Booleans: yes/no, true/false, on/off, 1/0.
 * Each returns 0 or a negative errno (-EINVAL unless said otherwise) and
 * writes its ret_* only on success.
 *
 * Public API: value_duration_ms(), value_bool(), value_uint(),
 * value_events_dest(), value_words(), value_words_alloc(),
 * value_restart_limit(),
 * value_backoff_range(), value_env_entry(), value_signal(), value_mode(),
 * value_rlimit(), value_listen(), value_group(), value_sigmap_add(),
 * value_sigmap_parse(), value_sigmap_apply(), value_sigmap_merge(),
 * value_codes_add(), value_codes_parse(), value_codes_has().
 */
#ifndef AGENT_INIT_VALUES_H
#define AGENT_INIT_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* 30 days: far beyond any sensible timeout, far below any overflow. */
#define VALUES_DURATION_MAX_MS (30ULL * 24 * 3600 * 1000)
/* The most restarts a max_restarts = N/DURATION may allow. */
#define VALUES_RESTARTS_MAX 100000
/* The highest signal number Linux has on the architectures we build for
 * (_NSIG - 1 on x86 and arm; MIPS alone goes to 127). */
#define VALUES_SIGNAL_MAX 64

/*
 * Signal rewrites, dumb-init's `-r FROM:TO` and a service's `signal_map =
 * FROM:TO ...`: each side a signal name or number, TO may be 0 (the signal
 * is dropped).  A zeroed map rewrites nothing; a later pair for the same
 * FROM replaces an earlier one.  SIGKILL and SIGSTOP cannot be a FROM:
 * nobody can catch them to pass them on.
 */
struct value_sigmap {
	/* Per FROM: 0 unchanged, 1 dropped, else TO + 1. */
	unsigned char to[VALUES_SIGNAL_MAX + 1];
};

/* A set of exit codes 0..255 (tini's -e, a service's success_exit_codes). */
struct value_codes {
	uint32_t bits[8];
};

int value_duration_ms(const char *s, uint64_t *ret_ms);
int value_bool(const char *s, bool *ret);
int value_uint(const char *s, unsigned long max, unsigned long *ret);
/* Whether S is an events destination: stdout, stderr, fd:N or file:PATH
 * (the number and the path are checked when it is opened). */
bool value_events_dest(const char *s);

/* Splits a command into words the way a shell splits them, without being
 * a shell: quotes and backslashes, no expansion (see values.c).  The words
 * go NUL-terminated into BUF, ARGV points into BUF and ends with NULL.
 * -EINVAL (bad quoting, no words) or -E2BIG (BUFCAP or ARGVCAP too small),
 * each with a static message in *ret_err. */
int value_words(const char *s, char *buf, size_t bufcap, char **argv,
    size_t argvcap, size_t *ret_argc, const char **ret_err);
/* The same into one allocation of the right size, whatever the length of
 * S: *ret_argv ends with NULL and is released with free().  -ENOMEM too. */
int value_words_alloc(const char *s, char ***ret_argv, size_t *ret_argc,
    const char **ret_err);
/* "N/DURATION": N in 1..VALUES_RESTARTS_MAX, DURATION above zero. */
int value_restart_limit(const char *s, unsigned int *ret_count,
    uint64_t *ret_window_ms);
/* "FIRST..CAP" (CAP >= FIRST) or one duration meaning FIRST..FIRST. */
int value_backoff_range(const char *s, uint64_t *ret_first_ms,
    uint64_t *ret_cap_ms);
/* One NAME=VALUE environment word; *ret_name_len is NAME's length. */
int value_env_entry(const char *s, size_t *ret_name_len);
/*
 * The real-time signals as glibc, Docker and `kill -l` name them: RTMIN is
 * the kernel's 34 (glibc keeps 32 and 33), RTMIN+N up to RTMIN+15, then
 * RTMAX-14 .. RTMAX = 64.  Not musl's SIGRTMIN (35: it keeps three), so
 * that `stop_signal = RTMIN+3` is the signal a glibc service expects.
 */
#define VALUES_RTMIN 34
#define VALUES_RTMAX 64
/* A signal by name (TERM, SIGTERM, term, RTMIN+3, RTMAX-2) or number
 * (1..64). */
int value_signal(const char *s, int *ret_sig);
/* An octal mode such as a umask: 022, 0027, 077; at most 0777. */
int value_mode(const char *s, unsigned int *ret_mode);
/* A resource limit: a number, or infinity/unlimited as UINT64_MAX. */
int value_rlimit(const char *s, uint64_t *ret);
/*
 * A listening address "IPV4:PORT" or "[IPV6]:PORT", literal (no name is
 * looked up), port 1..65535: what `http_listen` takes.  ret gets a
 * sockaddr_in or sockaddr_in6 and *ret_len its size.
 */
int
value_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);
/* A group as `control_group` takes it: a name (letters, digits, '_',
 * '-', '.', not all digits, at most 32 characters) or a number; a number
 * sets *ret_gid and *ret_numeric. */
int value_group(const char *s, unsigned int *ret_gid, bool *ret_numeric);
/* Add one FROM:TO pair to *m (unchanged on error). */
int value_sigmap_add(struct value_sigmap *m, const char *pair);
/* Space-separated FROM:TO pairs, at least one, into a fresh map. */
int value_sigmap_parse(const char *s, struct value_sigmap *ret);
/* What SIG becomes: itself, another signal, or 0 (dropped). */
int value_sigmap_apply(const struct value_sigmap *m, int sig);
/* The pairs of src replace those of dst for the same FROM. */
void
value_sigmap_merge(struct value_sigmap *dst, const struct value_sigmap *src);
/* Add one code 0..255 to *c (unchanged on error). */
int value_codes_add(struct value_codes *c, const char *code);
/* Space-separated codes, at least one, into a fresh set. */
int value_codes_parse(const char *s, struct value_codes *ret);
bool value_codes_has(const struct value_codes *c, int code);

#endif
