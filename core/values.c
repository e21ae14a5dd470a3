/*
 * values — parsers for what a user writes in the configuration and on the
 * command line.  See values.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hot.h"
#include "values.h"

int
value_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*ret = v;
	return 0;
}

int
value_duration_ms(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60000 },
		{ "h", 3600000 },
		{ "", 1000 },
	};
	uint64_t v = 0;
	size_t i, digits = 0;

	if (!s)
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > VALUES_DURATION_MAX_MS)
			return -EINVAL;
	}
	if (digits == 0)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].suffix) == 0) {
			if (v > VALUES_DURATION_MAX_MS / units[i].ms)
				return -EINVAL;
			*ret_ms = v * units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

int
value_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool
value_events_dest(const char *dest)
{
	return strcmp(dest, "stdout") == 0 || strcmp(dest, "stderr") == 0 ||
	    strncmp(dest, "fd:", 3) == 0 || strncmp(dest, "file:", 5) == 0;
}

/*
 * Word splitting for `command =` (SPEC 3).  This is not a shell: there is
 * no $VAR expansion, no globbing, no redirection, no ~; a '$' or '*' is an
 * ordinary character.  Whoever needs those writes `shell = yes` and gets
 * /bin/sh -c.  What it does do, as POSIX sh does:
 *
 *   - words are separated by runs of spaces and tabs;
 *   - '...' keeps everything inside literally, backslashes included;
 *   - "..." keeps everything literally except that \\ and \" stand for \
 *     and " (sh would also unescape \$, \` and backslash-newline; with no
 *     expansion there is nothing for those to protect, so they stay as
 *     written);
 *   - outside quotes, a backslash takes the next character literally;
 *   - quoted and unquoted parts that touch form one word (a"b c"d is
 *     "ab cd"), and '' or "" alone is one empty word.
 *
 * One pass, no allocation: the output never outgrows the caller's BUF and
 * ARGV, which bound the command's length and its number of words.  When a
 * command is both too long and badly quoted, whichever is met first while
 * scanning is reported.
 */
struct words {
	char *buf;
	size_t cap, len;
	char **argv;
	size_t argvcap, argc;
	const char *err;
};

static int
words_fail(struct words *w, int err, const char *msg)
{
	w->err = msg;
	return err;
}

static int
words_put(struct words *w, char c)
{
	if (w->len >= w->cap)
		return words_fail(w, -E2BIG, "command too long");
	w->buf[w->len++] = c;
	return 0;
}

static int
words_begin(struct words *w)
{
	/* This word's slot and the closing NULL's must both fit. */
	if (w->argvcap < 2 || w->argc > w->argvcap - 2)
		return words_fail(w, -E2BIG, "too many words");
	w->argv[w->argc++] = w->buf + w->len;
	return 0;
}

/* Copies the quoted string starting at *pp (on its opening quote) and
 * leaves *pp after the closing one. */
static int
words_quoted(struct words *w, const char **pp)
{
	const char *p = *pp;
	char q = *p;
	int r;

	for (p++; *p && *p != q; p++) {
		if (q == '"' && *p == '\\' && (p[1] == '\\' || p[1] == '"'))
			p++;
		r = words_put(w, *p);
		if (r < 0)
			return r;
	}
	if (!*p)
		return words_fail(w, -EINVAL,
		    q == '"' ? "unterminated double quote"
		             : "unterminated single quote");
	*pp = p + 1;
	return 0;
}

/* Copies one part of a word: a quoted string, an escaped character or a
 * plain one; *pp moves past it. */
static int
words_part(struct words *w, const char **pp)
{
	const char *p = *pp;
	int r;

	if (*p == '\'' || *p == '"')
		return words_quoted(w, pp);
	if (*p == '\\') {
		if (!p[1])
			return words_fail(w, -EINVAL, "trailing backslash");
		p++;
	}
	r = words_put(w, *p);
	if (r < 0)
		return r;
	*pp = p + 1;
	return 0;
}

int
value_words(const char *s, char *buf, size_t bufcap, char **argv,
    size_t argvcap, size_t *ret_argc, const char **ret_err)
{
	struct words w = { .cap = bufcap, .argv = argv, .argvcap = argvcap };
	bool in_word = false;
	int r = 0;

	/* Set apart from the initialiser, where clang-tidy's
	 * readability-non-const-parameter does not see BUF written to. */
	w.buf = buf;
	for (s = s ? s : ""; *s && r == 0;) {
		if (*s == ' ' || *s == '\t') {
			if (in_word)
				r = words_put(&w, '\0');
			in_word = false;
			s++;
		} else if (!in_word) {
			r = words_begin(&w);
			in_word = true;
		} else
			r = words_part(&w, &s);
	}
	if (r == 0 && in_word)
		r = words_put(&w, '\0');
	if (r == 0 && w.argc == 0)
		r = words_fail(&w, -EINVAL, "empty command");
	if (r < 0) {
		if (ret_err)
			*ret_err = w.err;
		return r;
	}
	argv[w.argc] = NULL;
	*ret_argc = w.argc;
	return 0;
}

/*
 * A word takes at least one character and one separator of S, and its
 * copy at most its characters and a NUL: so (len + 1) / 2 words and
 * len + words bytes always suffice.
 */
int
value_words_alloc(const char *s, char ***ret_argv, size_t *ret_argc,
    const char **ret_err)
{
	size_t len = s ? strlen(s) : 0, maxw = len / 2 + 2, argc;
	char **argv;
	int r;

	argv = malloc((maxw + 1) * sizeof(*argv) + len + maxw + 1);
	if (!argv) {
		if (ret_err)
			*ret_err = "out of memory";
		return -ENOMEM;
	}
	r = value_words(s, (char *)(argv + maxw + 1), len + maxw + 1, argv,
	    maxw + 1, &argc, ret_err);
	if (r < 0) {
		free(argv);
		return r;
	}
	*ret_argv = argv;
	*ret_argc = argc;
	return 0;
}

/* Copies the LEN bytes at S into DST (of CAP bytes) as a string, or fails
 * when they do not fit: the parsers below split "A/B" and "A..B" without
 * writing into the caller's string. */
static int
copy_part(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		return -EINVAL;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int
value_restart_limit(const char *s, unsigned int *ret_count,
    uint64_t *ret_window_ms)
{
	/* Room for VALUES_RESTARTS_MAX with a few leading zeros. */
	char n[16];
	const char *slash;
	unsigned long count;
	uint64_t window_ms;

	if (!s)
		return -EINVAL;
	slash = strchr(s, '/');
	if (!slash || copy_part(n, sizeof(n), s, (size_t)(slash - s)) < 0)
		return -EINVAL;
	if (value_uint(n, VALUES_RESTARTS_MAX, &count) < 0 || count == 0)
		return -EINVAL;
	/* A zero window would count no restart at all: say so instead. */
	if (value_duration_ms(slash + 1, &window_ms) < 0 || window_ms == 0)
		return -EINVAL;
	*ret_count = (unsigned int)count;
	*ret_window_ms = window_ms;
	return 0;
}

int
value_backoff_range(const char *s, uint64_t *ret_first_ms, uint64_t *ret_cap_ms)
{
	/* No valid duration needs more; a longer one is an error anyway. */
	char first[32];
	const char *dots;
	uint64_t first_ms, cap_ms;

	if (!s)
		return -EINVAL;
	dots = strstr(s, "..");
	if (!dots) {
		if (value_duration_ms(s, &first_ms) < 0)
			return -EINVAL;
		cap_ms = first_ms;
	} else if (copy_part(first, sizeof(first), s, (size_t)(dots - s)) < 0 ||
	    value_duration_ms(first, &first_ms) < 0 ||
	    value_duration_ms(dots + 2, &cap_ms) < 0 || cap_ms < first_ms)
		return -EINVAL;
	*ret_first_ms = first_ms;
	*ret_cap_ms = cap_ms;
	return 0;
}

static bool
is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

int
value_env_entry(const char *s, size_t *ret_name_len)
{
	size_t n;

	/* The portable name set (POSIX XBD 8.1): what every shell can use. */
	if (!s || !is_name_start(s[0]))
		return -EINVAL;
	for (n = 1; is_name_start(s[n]) || (s[n] >= '0' && s[n] <= '9'); n++)
		;
	if (s[n] != '=')
		return -EINVAL;
	*ret_name_len = n;
	return 0;
}

/*
 * Every standard Linux signal by its name without "SIG".  A stop_signal
 * such as CHLD makes little sense, but numbers 1..64 are accepted anyway,
 * and a name should never be refused where its number is not.
 */
static const struct {
	const char *name;
	int sig;
} signal_names[] = {
	{ "HUP", SIGHUP },
	{ "INT", SIGINT },
	{ "QUIT", SIGQUIT },
	{ "ILL", SIGILL },
	{ "TRAP", SIGTRAP },
	{ "ABRT", SIGABRT },
	{ "BUS", SIGBUS },
	{ "FPE", SIGFPE },
	{ "KILL", SIGKILL },
	{ "USR1", SIGUSR1 },
	{ "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE },
	{ "ALRM", SIGALRM },
	{ "TERM", SIGTERM },
#ifdef SIGSTKFLT
	{ "STKFLT", SIGSTKFLT },
#endif
	{ "CHLD", SIGCHLD },
	{ "CONT", SIGCONT },
	{ "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU },
	{ "URG", SIGURG },
	{ "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF },
	{ "WINCH", SIGWINCH },
	{ "IO", SIGIO },
#ifdef SIGPWR
	{ "PWR", SIGPWR },
#endif
	{ "SYS", SIGSYS },
};

/* The highest signal number Linux has on the architectures we build for
 * (_NSIG - 1 on x86 and arm; MIPS alone goes to 127). */
#define VALUES_SIGNAL_MAX 64

/* RTMIN, RTMIN+N, RTMAX, RTMAX-N as kill(1) writes them, numbered as
 * glibc does (values.h), whatever the C library we are built with. */
static int
realtime_signal(const char *s, int *ret_sig)
{
	unsigned long n = 0;
	int sig;
	bool max;

	if (strncasecmp(s, "RTMIN", 5) == 0)
		max = false;
	else if (strncasecmp(s, "RTMAX", 5) == 0)
		max = true;
	else
		return -EINVAL;
	s += 5;
	if (*s) {
		if (*s != (max ? '-' : '+') ||
		    value_uint(s + 1, VALUES_SIGNAL_MAX, &n) < 0)
			return -EINVAL;
	}
	sig = max ? VALUES_RTMAX - (int)n : VALUES_RTMIN + (int)n;
	if (sig < VALUES_RTMIN || sig > VALUES_RTMAX)
		return -EINVAL;
	*ret_sig = sig;
	return 0;
}

int
value_signal(const char *s, int *ret_sig)
{
	unsigned long n;
	size_t i;

	if (!s)
		return -EINVAL;
	if (s[0] >= '0' && s[0] <= '9') {
		if (value_uint(s, VALUES_SIGNAL_MAX, &n) < 0 || n == 0)
			return -EINVAL;
		*ret_sig = (int)n;
		return 0;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
		if (strcasecmp(s, signal_names[i].name) == 0) {
			*ret_sig = signal_names[i].sig;
			return 0;
		}
	}
	return realtime_signal(s, ret_sig);
}

/* Octal always, as umask(1) reads it, so "22" is 022; leading zeros are
 * free. */
int
value_mode(const char *s, unsigned int *ret_mode)
{
	unsigned int v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return -EINVAL;
		v = v * 8 + (unsigned int)(*s - '0');
		if (v > 0777)
			return -EINVAL;
	}
	*ret_mode = v;
	return 0;
}

int
value_rlimit(const char *s, uint64_t *ret)
{
	uint64_t v = 0, d;

	if (!s || !*s)
		return -EINVAL;
	/* prlimit(1) says "unlimited", the shell's ulimit both. */
	if (strcasecmp(s, "infinity") == 0 || strcasecmp(s, "unlimited") == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	/* value_uint() is unsigned long, 32 bits on some targets: not enough
	 * for a byte count. */
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		d = (uint64_t)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

int
value_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_in6 a6;
	struct sockaddr_in a4;
	char host[64];
	const char *colon, *h = s;
	unsigned long port;
	size_t n;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		h = s + 1;
		n = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof(host) ||
	    value_uint(colon + 1, 65535, &port) < 0 || port == 0)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = 0;
	memset(ret, 0, sizeof(*ret));
	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	if (*s != '[' && inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		a4.sin_port = htons((uint16_t)port);
		memcpy(ret, &a4, sizeof(a4));
		*ret_len = sizeof(a4);
		return 0;
	}
	if (*s == '[' && inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		a6.sin6_port = htons((uint16_t)port);
		memcpy(ret, &a6, sizeof(a6));
		*ret_len = sizeof(a6);
		return 0;
	}
	return -EINVAL;
}

int
value_group(const char *s, unsigned int *ret_gid, bool *ret_numeric)
{
	unsigned long v;
	size_t i, n = strlen(s);
	bool digits = true;

	if (n == 0 || n > 32)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			continue;
		digits = false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        c == '_' || c == '-' || c == '.'))
			return -EINVAL;
	}
	if (digits) {
		/* (gid_t)-1 means "unchanged" to chown(2): never a group. */
		if (value_uint(s, 0xfffffffeUL, &v) < 0)
			return -EINVAL;
		*ret_gid = (unsigned int)v;
	}
	*ret_numeric = digits;
	return 0;
}
/* "FROM:TO", each a signal; TO may also be 0. */
int
value_sigmap_add(struct value_sigmap *m, const char *pair)
{
	char from[32];
	const char *colon = pair ? strchr(pair, ':') : NULL;
	size_t n;
	int f, t;

	if (!colon || (n = (size_t)(colon - pair)) == 0 || n >= sizeof(from))
		return -EINVAL;
	memcpy(from, pair, n);
	from[n] = 0;
	if (value_signal(from, &f) < 0 || f == SIGKILL || f == SIGSTOP ||
	    f > VALUES_SIGNAL_MAX)
		return -EINVAL;
	if (strcmp(colon + 1, "0") == 0)
		t = 0;
	else if (value_signal(colon + 1, &t) < 0 || t > VALUES_SIGNAL_MAX)
		return -EINVAL;
	m->to[f] = (unsigned char)(t + 1);
	return 0;
}

/* Calls add(dst, word) for each space-separated word of s (at least one). */
static int
each_word(const char *s, void *dst, int (*add_word)(void *, const char *))
{
	char w[64];
	size_t n, words = 0;

	if (!s)
		return -EINVAL;
	for (;;) {
		s += strspn(s, " \t");
		if (!*s)
			break;
		n = strcspn(s, " \t");
		if (n >= sizeof(w))
			return -EINVAL;
		memcpy(w, s, n);
		w[n] = 0;
		if (add_word(dst, w) < 0)
			return -EINVAL;
		words++;
		s += n;
	}
	return words ? 0 : -EINVAL;
}

static int
sigmap_add_word(void *m, const char *w)
{
	return value_sigmap_add(m, w);
}

int
value_sigmap_parse(const char *s, struct value_sigmap *ret)
{
	struct value_sigmap m;

	memset(&m, 0, sizeof(m));
	if (each_word(s, &m, sigmap_add_word) < 0)
		return -EINVAL;
	*ret = m;
	return 0;
}

int HOT
value_sigmap_apply(const struct value_sigmap *m, int sig)
{
	if (!m || sig < 1 || sig > VALUES_SIGNAL_MAX || m->to[sig] == 0)
		return sig;
	return m->to[sig] - 1;
}

void
value_sigmap_merge(struct value_sigmap *dst, const struct value_sigmap *src)
{
	size_t i;

	for (i = 0; i < sizeof(src->to); i++)
		if (src->to[i])
			dst->to[i] = src->to[i];
}

int
value_codes_add(struct value_codes *c, const char *code)
{
	unsigned long v;

	if (value_uint(code, 255, &v) < 0)
		return -EINVAL;
	c->bits[v / 32] |= 1U << (v % 32);
	return 0;
}

static int
codes_add_word(void *c, const char *w)
{
	return value_codes_add(c, w);
}

int
value_codes_parse(const char *s, struct value_codes *ret)
{
	struct value_codes c;

	memset(&c, 0, sizeof(c));
	if (each_word(s, &c, codes_add_word) < 0)
		return -EINVAL;
	*ret = c;
	return 0;
}

bool
value_codes_has(const struct value_codes *c, int code)
{
	return c && code >= 0 && code <= 255 &&
	    (c->bits[code / 32] & (1U << (code % 32)));
}
