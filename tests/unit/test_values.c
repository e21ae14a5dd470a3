/*
 * Unit tests of the value parsers added for services: word splitting,
 * restart limits, backoff ranges, environment entries, signals, modes and
 * resource limits.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/values.c"

#define MAXW 8

static char buf[256];
static char *argv[MAXW + 1];
static size_t argc;
static const char *err;

/* Splits S with the whole buffers; returns what value_words() returns. */
static int
split_into(const char *s, size_t bufcap, size_t argvcap)
{
	argc = 999;
	err = NULL;
	memset(buf, 'x', sizeof(buf));
	return value_words(s, buf, bufcap, argv, argvcap, &argc, &err);
}

static int
split(const char *s)
{
	return split_into(s, sizeof(buf), MAXW + 1);
}

/* Checks that S splits into exactly the N words given. */
static void
assert_words(const char *s, size_t n, ...)
{
	va_list ap;
	size_t i;

	assert_int_equal(split(s), 0);
	assert_int_equal(argc, n);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_string_equal(argv[i], va_arg(ap, const char *));
	va_end(ap);
	assert_null(argv[n]);
}

static void
assert_split_error(const char *s, int e, const char *msg)
{
	assert_int_equal(split(s), e);
	assert_string_equal(err, msg);
	assert_int_equal(argc, 999);
}

static void
test_words_plain(void **state)
{
	(void)state;
	assert_words("node /app/agent.js", 2, "node", "/app/agent.js");
	assert_words("  a \t b\t\tc  ", 3, "a", "b", "c");
	assert_words("x", 1, "x");
	/* Not a shell: no expansion, no globbing, no redirection. */
	assert_words("echo $HOME *.c ~ >out", 5, "echo", "$HOME", "*.c", "~",
	    ">out");
}

static void
test_words_quotes(void **state)
{
	(void)state;
	assert_words("sh -c 'echo hi; exit 3'", 3, "sh", "-c",
	    "echo hi; exit 3");
	assert_words("'a\\b' '\"'", 2, "a\\b", "\"");
	assert_words("\"a b\" \"c'd\"", 2, "a b", "c'd");
	/* In double quotes only \\ and \" are escapes. */
	assert_words("\"x\\\\y\\\"z\\$w\\n\"", 1, "x\\y\"z\\$w\\n");
	/* Parts that touch join into one word. */
	assert_words("a\"b c\"d", 1, "ab cd");
	assert_words("'a'\"b\"c\\ d e", 2, "abc d", "e");
	assert_words("--opt='x y'", 1, "--opt=x y");
}

static void
test_words_escapes(void **state)
{
	(void)state;
	assert_words("a\\ b", 1, "a b");
	assert_words("\\'x\\\" \\\\", 2, "'x\"", "\\");
	assert_words("\\a\\b", 1, "ab");
	assert_words("a\\\tb", 1, "a\tb");
}

static void
test_words_empty(void **state)
{
	(void)state;
	assert_words("''", 1, "");
	assert_words("\"\"", 1, "");
	assert_words("a '' b", 3, "a", "", "b");
	assert_words("'' \"\" ''", 3, "", "", "");
	assert_words("a''", 1, "a");
}

static void
test_words_errors(void **state)
{
	(void)state;
	assert_split_error("echo 'hi", -EINVAL, "unterminated single quote");
	assert_split_error("'", -EINVAL, "unterminated single quote");
	assert_split_error("echo \"hi", -EINVAL, "unterminated double quote");
	assert_split_error("\"a\\\"", -EINVAL, "unterminated double quote");
	assert_split_error("echo a\\", -EINVAL, "trailing backslash");
	assert_split_error("\\", -EINVAL, "trailing backslash");
	assert_split_error("", -EINVAL, "empty command");
	assert_split_error(" \t ", -EINVAL, "empty command");
	assert_int_equal(
	    value_words(NULL, buf, sizeof(buf), argv, MAXW + 1, &argc, &err),
	    -EINVAL);
	/* The message is optional. */
	assert_int_equal(
	    value_words("'", buf, sizeof(buf), argv, MAXW + 1, &argc, NULL),
	    -EINVAL);
}

/* "ab cd" needs 6 bytes ("ab\0cd\0") and 3 pointers (two and NULL). */
static void
test_words_bounds(void **state)
{
	(void)state;
	assert_int_equal(split_into("ab cd", 6, 3), 0);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "cd");
	assert_null(argv[2]);
	assert_int_equal(split_into("ab cd", 5, 3), -E2BIG);
	assert_string_equal(err, "command too long");
	assert_int_equal(split_into("ab cd", 6, 2), -E2BIG);
	assert_string_equal(err, "too many words");
	assert_int_equal(split_into("ab", 3, 1), -E2BIG);
	assert_string_equal(err, "too many words");
	assert_int_equal(split_into("ab", 3, 2), 0);
	assert_int_equal(split_into("ab", 0, 2), -E2BIG);
	assert_string_equal(err, "command too long");
	/* An empty word still needs its NUL. */
	assert_int_equal(split_into("''", 1, 2), 0);
	assert_int_equal(split_into("''", 0, 2), -E2BIG);
	/* Nothing is written past the capacity. */
	assert_int_equal(split_into("abcdef", 4, 2), -E2BIG);
	assert_int_equal(buf[4], 'x');
	/* MAXW words fit in MAXW + 1 pointers, one more does not. */
	assert_int_equal(split("1 2 3 4 5 6 7 8"), 0);
	assert_int_equal(argc, 8);
	assert_int_equal(split("1 2 3 4 5 6 7 8 9"), -E2BIG);
	assert_string_equal(err, "too many words");
}

static void
test_restart_limit(void **state)
{
	unsigned int n = 7;
	uint64_t w = 7;

	(void)state;
	assert_int_equal(value_restart_limit("10/5m", &n, &w), 0);
	assert_int_equal(n, 10);
	assert_int_equal(w, 300000);
	assert_int_equal(value_restart_limit("3/30s", &n, &w), 0);
	assert_int_equal(n, 3);
	assert_int_equal(w, 30000);
	assert_int_equal(value_restart_limit("1/250ms", &n, &w), 0);
	assert_int_equal(value_restart_limit("100000/1h", &n, &w), 0);
	assert_int_equal(n, 100000);
	assert_int_equal(w, 3600000);
	n = 7;
	w = 7;
	assert_int_equal(value_restart_limit("100001/1h", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("0/5m", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("10/0", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("10/0s", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("10", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("10/", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("/5m", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("10/5x", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("-1/5m", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("10 / 5m", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("10/5m/1", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit("99999999999999999999/5m", &n, &w),
	    -EINVAL);
	assert_int_equal(value_restart_limit("", &n, &w), -EINVAL);
	assert_int_equal(value_restart_limit(NULL, &n, &w), -EINVAL);
	assert_int_equal(n, 7);
	assert_int_equal(w, 7);
}

static void
test_backoff_range(void **state)
{
	uint64_t a = 7, b = 7;

	(void)state;
	assert_int_equal(value_backoff_range("100ms..30s", &a, &b), 0);
	assert_int_equal(a, 100);
	assert_int_equal(b, 30000);
	assert_int_equal(value_backoff_range("0..1s", &a, &b), 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 1000);
	assert_int_equal(value_backoff_range("0ms..0ms", &a, &b), 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 0);
	assert_int_equal(value_backoff_range("2s..2s", &a, &b), 0);
	assert_int_equal(value_backoff_range("500ms", &a, &b), 0);
	assert_int_equal(a, 500);
	assert_int_equal(b, 500);
	assert_int_equal(value_backoff_range("3", &a, &b), 0);
	assert_int_equal(a, 3000);
	assert_int_equal(b, 3000);
	a = b = 7;
	assert_int_equal(value_backoff_range("30s..100ms", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range("1s..", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range("..1s", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range("..", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range("1s...2s", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range("1s..2s..3s", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range("1s-2s", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range("fast", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range("", &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range(NULL, &a, &b), -EINVAL);
	assert_int_equal(value_backoff_range(
	                     "0000000000000000000000000000000001s..2s", &a, &b),
	    -EINVAL);
	assert_int_equal(a, 7);
	assert_int_equal(b, 7);
}

static void
test_env_entry(void **state)
{
	size_t n = 99;

	(void)state;
	assert_int_equal(value_env_entry("PATH=/bin", &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(value_env_entry("_x1=", &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(value_env_entry("A=b=c d", &n), 0);
	assert_int_equal(n, 1);
	n = 99;
	assert_int_equal(value_env_entry("1A=x", &n), -EINVAL);
	assert_int_equal(value_env_entry("=x", &n), -EINVAL);
	assert_int_equal(value_env_entry("A", &n), -EINVAL);
	assert_int_equal(value_env_entry("A-B=x", &n), -EINVAL);
	assert_int_equal(value_env_entry("A B=x", &n), -EINVAL);
	assert_int_equal(value_env_entry("", &n), -EINVAL);
	assert_int_equal(value_env_entry(NULL, &n), -EINVAL);
	assert_int_equal(n, 99);
}

static void
assert_signal(const char *s, int sig)
{
	int got = -1;

	assert_int_equal(value_signal(s, &got), 0);
	assert_int_equal(got, sig);
}

static void
test_signal(void **state)
{
	int sig = -7;

	(void)state;
	assert_signal("TERM", SIGTERM);
	assert_signal("SIGTERM", SIGTERM);
	assert_signal("term", SIGTERM);
	assert_signal("sigTerm", SIGTERM);
	assert_signal("HUP", SIGHUP);
	assert_signal("INT", SIGINT);
	assert_signal("QUIT", SIGQUIT);
	assert_signal("KILL", SIGKILL);
	assert_signal("USR1", SIGUSR1);
	assert_signal("SIGUSR2", SIGUSR2);
	assert_signal("WINCH", SIGWINCH);
	assert_signal("CONT", SIGCONT);
	assert_signal("STOP", SIGSTOP);
	assert_signal("ALRM", SIGALRM);
	assert_signal("ABRT", SIGABRT);
	assert_signal("PWR", SIGPWR);
	assert_signal("15", 15);
	assert_signal("1", 1);
	assert_signal("64", 64);
	/* Numbered as glibc, Docker and `kill -l` do (34), not as the C
	 * library we are built with (musl: 35): a glibc service that waits
	 * for RTMIN+3 gets 37. */
	assert_signal("RTMIN", 34);
	assert_signal("SIGRTMIN+3", 37);
	assert_signal("RTMIN+30", 64);
	assert_signal("rtmax-1", 63);
	assert_signal("RTMAX-14", 50);
	assert_signal("RTMAX", 64);
	assert_int_equal(value_signal("0", &sig), -EINVAL);
	assert_int_equal(value_signal("65", &sig), -EINVAL);
	assert_int_equal(value_signal("-15", &sig), -EINVAL);
	assert_int_equal(value_signal("SIG15", &sig), -EINVAL);
	assert_int_equal(value_signal("SIG", &sig), -EINVAL);
	assert_int_equal(value_signal("TERMX", &sig), -EINVAL);
	assert_int_equal(value_signal(" TERM", &sig), -EINVAL);
	assert_int_equal(value_signal("FOO", &sig), -EINVAL);
	assert_int_equal(value_signal("RTMIN+", &sig), -EINVAL);
	assert_int_equal(value_signal("RTMIN-1", &sig), -EINVAL);
	assert_int_equal(value_signal("RTMAX+1", &sig), -EINVAL);
	assert_int_equal(value_signal("RTMIN+64", &sig), -EINVAL);
	assert_int_equal(value_signal("RTMIN+31", &sig), -EINVAL);
	assert_int_equal(value_signal("RTMAX-31", &sig), -EINVAL);
	assert_int_equal(value_signal("", &sig), -EINVAL);
	assert_int_equal(value_signal(NULL, &sig), -EINVAL);
	assert_int_equal(sig, -7);
}

static void
test_mode(void **state)
{
	unsigned int m = 1;

	(void)state;
	assert_int_equal(value_mode("022", &m), 0);
	assert_int_equal(m, 022);
	assert_int_equal(value_mode("0027", &m), 0);
	assert_int_equal(m, 027);
	assert_int_equal(value_mode("077", &m), 0);
	assert_int_equal(m, 077);
	assert_int_equal(value_mode("0", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(value_mode("777", &m), 0);
	assert_int_equal(m, 0777);
	assert_int_equal(value_mode("22", &m), 0);
	assert_int_equal(m, 022);
	m = 1;
	assert_int_equal(value_mode("1000", &m), -EINVAL);
	assert_int_equal(value_mode("08", &m), -EINVAL);
	assert_int_equal(value_mode("0x1ff", &m), -EINVAL);
	assert_int_equal(value_mode("-022", &m), -EINVAL);
	assert_int_equal(value_mode("u=rwx", &m), -EINVAL);
	assert_int_equal(value_mode("77777777777777777777777", &m), -EINVAL);
	assert_int_equal(value_mode("", &m), -EINVAL);
	assert_int_equal(value_mode(NULL, &m), -EINVAL);
	assert_int_equal(m, 1);
}

static void
test_rlimit(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(value_rlimit("1024", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(value_rlimit("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(value_rlimit("infinity", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 0;
	assert_int_equal(value_rlimit("unlimited", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(value_rlimit("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(value_rlimit("18446744073709551614", &v), 0);
	assert_true(v == UINT64_MAX - 1);
	v = 7;
	assert_int_equal(value_rlimit("18446744073709551616", &v), -EINVAL);
	assert_int_equal(value_rlimit("-1", &v), -EINVAL);
	assert_int_equal(value_rlimit("1k", &v), -EINVAL);
	assert_int_equal(value_rlimit("infinit", &v), -EINVAL);
	assert_int_equal(value_rlimit("", &v), -EINVAL);
	assert_int_equal(value_rlimit(NULL, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void
test_listen(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	static const char *const bad[] = { "", "8080", ":8080", "127.0.0.1",
		"127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x",
		"localhost:80", "::1:80", "[::1]80", "[::1]:", "[127.0.0.1]:80",
		"[::1:80", "1.2.3:80", "1.2.3.4.5:80", "[]:80", " 127.0.0.1:80",
		"127.0.0.1:80 " };
	size_t i;

	(void)state;
	assert_int_equal(value_listen("127.0.0.1:8080", &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 8080);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(value_listen("0.0.0.0:1", &ss, &len), 0);
	assert_int_equal(value_listen("[::1]:65535", &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 65535);
	assert_true(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
	assert_int_equal(a6->sin6_scope_id, 0);
	assert_int_equal(value_listen("[::]:80", &ss, &len), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (value_listen(bad[i], &ss, &len) == 0)
			fail_msg("'%s' accepted", bad[i]);
}

static void
test_group(void **state)
{
	unsigned int gid = 7;
	bool num = true;

	(void)state;
	assert_int_equal(value_group("agents", &gid, &num), 0);
	assert_false(num);
	assert_int_equal(gid, 7); /* untouched for a name */
	assert_int_equal(value_group("docker-users.1_x", &gid, &num), 0);
	assert_int_equal(value_group("1000", &gid, &num), 0);
	assert_true(num);
	assert_int_equal(gid, 1000);
	assert_int_equal(value_group("0", &gid, &num), 0);
	assert_int_equal(gid, 0);
	assert_int_equal(value_group("4294967294", &gid, &num), 0);
	assert_int_equal(value_group("4294967295", &gid, &num), -EINVAL);
	assert_int_equal(value_group("", &gid, &num), -EINVAL);
	assert_int_equal(value_group("a b", &gid, &num), -EINVAL);
	assert_int_equal(value_group("a:b", &gid, &num), -EINVAL);
	assert_int_equal(value_group("x/../y", &gid, &num), -EINVAL);
	assert_int_equal(
	    value_group("abcdefghijabcdefghijabcdefghijabc", &gid, &num),
	    -EINVAL);
}

static void
test_sigmap(void **state)
{
	struct value_sigmap m, keep;

	(void)state;
	memset(&m, 0, sizeof(m));
	/* A zeroed map rewrites nothing. */
	assert_int_equal(value_sigmap_apply(&m, SIGTERM), SIGTERM);
	assert_int_equal(value_sigmap_apply(NULL, SIGTERM), SIGTERM);
	assert_int_equal(value_sigmap_parse("15:3 SIGINT:0 hup:usr1", &m), 0);
	assert_int_equal(value_sigmap_apply(&m, SIGTERM), SIGQUIT);
	assert_int_equal(value_sigmap_apply(&m, SIGINT), 0);
	assert_int_equal(value_sigmap_apply(&m, SIGHUP), SIGUSR1);
	assert_int_equal(value_sigmap_apply(&m, SIGUSR2), SIGUSR2);
	/* Out of range: unchanged, never an out-of-bounds read. */
	assert_int_equal(value_sigmap_apply(&m, 0), 0);
	assert_int_equal(value_sigmap_apply(&m, 65), 65);
	assert_int_equal(value_sigmap_apply(&m, -1), -1);
	/* Extremes: 1 and 64, RTMIN+N, TO = KILL. */
	assert_int_equal(value_sigmap_parse("1:64 64:1 RTMIN+1:9", &m), 0);
	assert_int_equal(value_sigmap_apply(&m, 1), 64);
	assert_int_equal(value_sigmap_apply(&m, 64), 1);
	assert_int_equal(value_sigmap_apply(&m, VALUES_RTMIN + 1), SIGKILL);
	/* A later pair for the same FROM wins. */
	assert_int_equal(value_sigmap_parse("TERM:QUIT TERM:INT", &m), 0);
	assert_int_equal(value_sigmap_apply(&m, SIGTERM), SIGINT);
	/* Errors leave the map as it was. */
	keep = m;
	assert_int_equal(value_sigmap_parse("TERM:QUIT KILL:TERM", &m),
	    -EINVAL);
	assert_int_equal(value_sigmap_parse("STOP:0", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse("15", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse("15:", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse(":15", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse("0:15", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse("15:65", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse("15:3:2", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse("NOPE:3", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse("", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse("   ", &m), -EINVAL);
	assert_int_equal(value_sigmap_parse(NULL, &m), -EINVAL);
	assert_int_equal(value_sigmap_parse(
	                     "RTMIN+1:RTMIN+2RTMIN+2RTMIN+2RTMIN+2RTMIN+2RTMIN"
	                     "+2RTMIN+2RTMIN+2RTMIN+2RTMIN+2",
	                     &m),
	    -EINVAL);
	assert_memory_equal(&m, &keep, sizeof(m));
	assert_int_equal(value_sigmap_add(&m, "TERM"), -EINVAL);
	assert_int_equal(value_sigmap_add(&m, NULL), -EINVAL);
	assert_memory_equal(&m, &keep, sizeof(m));
}

static void
test_sigmap_merge(void **state)
{
	struct value_sigmap a, b;

	(void)state;
	assert_int_equal(value_sigmap_parse("USR1:USR2 WINCH:0", &a), 0);
	assert_int_equal(value_sigmap_parse("USR1:HUP TERM:QUIT", &b), 0);
	value_sigmap_merge(&a, &b);
	assert_int_equal(value_sigmap_apply(&a, SIGUSR1), SIGHUP);
	assert_int_equal(value_sigmap_apply(&a, SIGWINCH), 0);
	assert_int_equal(value_sigmap_apply(&a, SIGTERM), SIGQUIT);
	assert_int_equal(value_sigmap_apply(&a, SIGINT), SIGINT);
}

static void
test_codes(void **state)
{
	struct value_codes c, keep;
	int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = -1; i <= 256; i++)
		assert_false(value_codes_has(&c, i));
	assert_false(value_codes_has(NULL, 0));
	assert_int_equal(value_codes_parse("0 3\t143 255", &c), 0);
	for (i = -1; i <= 256; i++)
		assert_int_equal(value_codes_has(&c, i),
		    i == 0 || i == 3 || i == 143 || i == 255);
	keep = c;
	assert_int_equal(value_codes_parse("3 256", &c), -EINVAL);
	assert_int_equal(value_codes_parse("-1", &c), -EINVAL);
	assert_int_equal(value_codes_parse("3,4", &c), -EINVAL);
	assert_int_equal(value_codes_parse("x", &c), -EINVAL);
	assert_int_equal(value_codes_parse("", &c), -EINVAL);
	assert_int_equal(value_codes_parse(NULL, &c), -EINVAL);
	assert_int_equal(value_codes_add(&c, "1000"), -EINVAL);
	assert_memory_equal(&c, &keep, sizeof(c));
	assert_int_equal(value_codes_add(&c, "7"), 0);
	assert_true(value_codes_has(&c, 7));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words_plain),
		cmocka_unit_test(test_words_quotes),
		cmocka_unit_test(test_words_escapes),
		cmocka_unit_test(test_words_empty),
		cmocka_unit_test(test_words_errors),
		cmocka_unit_test(test_words_bounds),
		cmocka_unit_test(test_restart_limit),
		cmocka_unit_test(test_backoff_range),
		cmocka_unit_test(test_env_entry),
		cmocka_unit_test(test_signal),
		cmocka_unit_test(test_mode),
		cmocka_unit_test(test_rlimit),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_sigmap),
		cmocka_unit_test(test_sigmap_merge),
		cmocka_unit_test(test_codes),
	};

	return cmocka_run_group_tests_name("values", tests, NULL, NULL);
}
