/*
 * Fuzz target: every value parser of core/values.c, fed directly.  The
 * first byte picks the parser, the rest is the value as a C string (cut at
 * the first NUL, as inih would hand it over).  Each parser's documented
 * promises are checked on success, so a wrong answer aborts like a crash.
 */
#include <assert.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/values.c"

#include "../../core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Buffers as big as the old fixed ones of the config, and value_words_alloc()
 * that sizes its own. */
#define WORDS_BUF 800
#define WORDS_ARGV 50

/* value_words_alloc(): whatever the input, it fits, or the quoting is bad. */
static void
words_alloc(const char *s)
{
	char **argv;
	const char *err = NULL;
	size_t argc = 0, i;
	int r = value_words_alloc(s, &argv, &argc, &err);

	if (r < 0) {
		assert(r == -EINVAL && err != NULL);
		return;
	}
	assert(argc >= 1 && argv[argc] == NULL);
	for (i = 0; i < argc; i++)
		assert(strlen(argv[i]) <= strlen(s));
	free(argv);
}

/* What value_words() must produce: argc words, each inside buf. */
static void
words(const char *s, size_t bufcap, size_t argvcap)
{
	static char buf[WORDS_BUF];
	char *argv[WORDS_ARGV];
	const char *err = NULL;
	size_t argc = 0, i;
	int r;

	assert(bufcap <= sizeof(buf) && argvcap <= WORDS_ARGV);
	r = value_words(s, buf, bufcap, argv, argvcap, &argc, &err);
	if (r < 0) {
		assert(r == -EINVAL || r == -E2BIG);
		assert(err != NULL);
		return;
	}
	assert(argc >= 1 && argc < argvcap);
	assert(argv[argc] == NULL);
	for (i = 0; i < argc; i++) {
		assert(argv[i] >= buf && argv[i] < buf + bufcap);
		assert(argv[i] + strlen(argv[i]) < buf + bufcap);
	}
}

/* A map parsed is a map that sends 1..64 to 0..64 and leaves the rest. */
static void
sigmap(const char *s)
{
	struct value_sigmap m;
	int i, to;

	memset(&m, 0x5a, sizeof(m));
	if (value_sigmap_parse(s, &m) < 0) {
		for (i = 0; i < (int)sizeof(m.to); i++)
			assert(m.to[i] == 0x5a); /* untouched on error */
		return;
	}
	assert(value_sigmap_apply(&m, SIGKILL) == SIGKILL);
	assert(value_sigmap_apply(&m, SIGSTOP) == SIGSTOP);
	for (i = -1; i <= 66; i++) {
		to = value_sigmap_apply(&m, i);
		if (i < 1 || i > VALUES_SIGNAL_MAX)
			assert(to == i);
		else
			assert(to >= 0 && to <= VALUES_SIGNAL_MAX);
	}
}

static void
codes(const char *s)
{
	struct value_codes c;
	int i, n = 0;

	if (value_codes_parse(s, &c) < 0)
		return;
	for (i = -1; i <= 256; i++)
		if (value_codes_has(&c, i)) {
			assert(i >= 0 && i <= 255);
			n++;
		}
	assert(n >= 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[4096];
	uint64_t ms, first, cap, rl;
	unsigned long ul;
	unsigned int count, mode;
	size_t nlen;
	bool b;
	int sig;

	if (size < 1)
		return 0;
	if (size - 1 >= sizeof(s))
		size = sizeof(s);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	switch (data[0] % 14) {
	case 0:
		if (value_duration_ms(s, &ms) == 0)
			assert(ms <= VALUES_DURATION_MAX_MS);
		break;
	case 1:
		(void)value_bool(s, &b);
		break;
	case 2:
		if (value_uint(s, 65535, &ul) == 0)
			assert(ul <= 65535);
		if (value_uint(s, ULONG_MAX, &ul) == 0)
			assert(*s);
		break;
	case 3:
		(void)value_events_dest(s);
		break;
	case 4:
		words(s, WORDS_BUF, WORDS_ARGV);
		words_alloc(s);
		break;
	case 5:
		/* Tight buffers: every -E2BIG path. */
		words(s, 1 + (size % 16), 1 + (size % 5));
		break;
	case 6:
		if (value_restart_limit(s, &count, &ms) == 0)
			assert(count >= 1 && count <= VALUES_RESTARTS_MAX &&
			    ms > 0 && ms <= VALUES_DURATION_MAX_MS);
		break;
	case 7:
		if (value_backoff_range(s, &first, &cap) == 0)
			assert(first <= cap && cap <= VALUES_DURATION_MAX_MS);
		break;
	case 8:
		if (value_env_entry(s, &nlen) == 0)
			assert(nlen > 0 && nlen < strlen(s) && s[nlen] == '=');
		break;
	case 9:
		if (value_signal(s, &sig) == 0)
			assert(sig >= 1 && sig <= 64);
		break;
	case 10:
		if (value_mode(s, &mode) == 0)
			assert(mode <= 0777);
		break;
	case 12:
		sigmap(s);
		break;
	case 13:
		codes(s);
		break;
	default:
		(void)value_rlimit(s, &rl);
		break;
	}
	return 0;
}
