/*
 * Unit tests of the proxy module: proxy URL parsing, redaction that never
 * shows a password, Basic credentials, the proxy variables in both cases
 * and the NO_PROXY rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../netcheck/httpmsg.c"
#include "../../netcheck/proxy.c"

static struct proxy_url
parse_ok(const char *s)
{
	struct proxy_url u;

	memset(&u, 0x5a, sizeof(u));
	if (proxy_url_parse(s, &u) != 0)
		fail_msg("rejected \"%s\"", s);
	return u;
}

static void
assert_url(const char *s, const char *scheme, const char *host, uint16_t port,
    bool v6)
{
	struct proxy_url u = parse_ok(s);

	assert_string_equal(u.scheme, scheme);
	assert_string_equal(u.host, host);
	assert_int_equal(u.port, port);
	assert_int_equal(u.bracketed_v6, v6);
}

static void
test_url_accepts(void **state)
{
	struct proxy_url u;

	(void)state;
	assert_url("http://proxy.corp:3128", "http", "proxy.corp", 3128, false);
	assert_url("http://proxy.corp:3128/", "http", "proxy.corp", 3128,
	    false);
	assert_url("http://proxy:3128/ignored/path?q#f", "http", "proxy", 3128,
	    false);
	/* No scheme: HTTP, as curl assumes. */
	assert_url("proxy:3128", "http", "proxy", 3128, false);
	assert_url("10.0.0.1:8080", "http", "10.0.0.1", 8080, false);
	assert_url("[::1]:3128", "http", "::1", 3128, true);
	assert_url("http://[2001:db8::1]:8080/", "http", "2001:db8::1", 8080,
	    true);
	assert_url("http://[::ffff:10.0.0.1]", "http", "::ffff:10.0.0.1", 1080,
	    true);
	/* curl's default ports: 443 for an HTTPS proxy, 1080 for others. */
	assert_url("http://proxy", "http", "proxy", 1080, false);
	assert_url("proxy", "http", "proxy", 1080, false);
	assert_url("http://proxy:", "http", "proxy", 1080, false);
	assert_url("https://proxy", "https", "proxy", 443, false);
	assert_url("socks4://p", "socks4", "p", 1080, false);
	assert_url("socks4a://p:9050", "socks4a", "p", 9050, false);
	assert_url("socks5://p", "socks5", "p", 1080, false);
	assert_url("socks5h://my_proxy-1.local:1", "socks5h",
	    "my_proxy-1.local", 1, false);
	/* Schemes are case-insensitive; the host is kept as written. */
	assert_url("HTTPS://Proxy.Corp:65535", "https", "Proxy.Corp", 65535,
	    false);
	assert_url("http://proxy:03128", "http", "proxy", 3128, false);

	u = parse_ok("http://proxy:3128");
	assert_false(u.has_userinfo);
	assert_string_equal(u.user, "");

	u = parse_ok("http://user:pass@proxy:3128/");
	assert_true(u.has_userinfo);
	assert_string_equal(u.user, "user");
	assert_string_equal(u.host, "proxy");
	assert_int_equal(u.port, 3128);

	u = parse_ok("user:pass@proxy:3128");
	assert_string_equal(u.scheme, "http");
	assert_string_equal(u.user, "user");

	/* Percent-encoded userinfo is decoded (curl does the same). */
	u = parse_ok("http://dom%5Cus%40er:p%3A%2Fss@proxy:8080");
	assert_string_equal(u.user, "dom\\us@er");

	/* A raw "@" in the password: the host follows the last "@". */
	u = parse_ok("http://u:p@ss@proxy:8080");
	assert_string_equal(u.user, "u");
	assert_string_equal(u.host, "proxy");

	u = parse_ok("http://user@proxy");
	assert_true(u.has_userinfo);
	assert_string_equal(u.user, "user");
	u = parse_ok("http://:secret@proxy");
	assert_true(u.has_userinfo);
	assert_string_equal(u.user, "");
	u = parse_ok("https://u:@[::1]:443");
	assert_true(u.has_userinfo);
	assert_true(u.bracketed_v6);
}

static void
test_url_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"http://",
		"http:///",
		"http://:3128",
		"http://user:pass@",
		"http://user:pass@:3128",
		"http://proxy:0",
		"http://proxy:65536",
		"http://proxy:123456",
		"http://proxy:abc",
		"http://proxy:-1",
		"http://proxy:+80",
		"http://proxy:80:81",
		"http://pro xy:3128",
		" http://proxy:3128",
		"http://proxy:3128 ",
		"http://proxy:3128\n",
		"http://proxy:3128\r",
		"http://pro\txy",
		"ftp://proxy:21",
		"htp://proxy",
		"socks6://proxy",
		"://proxy",
		"1http://proxy",
		"ht tp://proxy",
		"http:://proxy",
		"http://::1:3128",
		"::1",
		"http://[::1",
		"http://[::1]x",
		"http://[notv6]:80",
		"http://[10.0.0.1]:80",
		"http://[]:80",
		"http://us%zzer@proxy",
		"http://us%4@proxy",
		"http://us%@proxy",
		"http://u%00@proxy",
		"http://u:p%zz@proxy",
		"http://u:p/ss@proxy",
		"http://pro%78y:80",
		"http://pr\xc3\xb4xy:80",
		"http://pro@xy@",
		"http://proxy!:80",
	};
	struct proxy_url u, marker;
	char longer[600];
	size_t i;

	(void)state;
	memset(&marker, 0x5a, sizeof(marker));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&u, 0x5a, sizeof(u));
		if (proxy_url_parse(bad[i], &u) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(&u, &marker, sizeof(u));
	}
	assert_int_equal(proxy_url_parse(NULL, &u), -EINVAL);
	assert_int_equal(proxy_url_parse("http://p", NULL), -EINVAL);

	/* Parts longer than the struct holds. */
	memset(longer, 0, sizeof(longer));
	memcpy(longer, "http://", 7);
	memset(longer + 7, 'u', 128);
	memcpy(longer + 135, "@p", 2);
	assert_int_equal(proxy_url_parse(longer, &u), -EINVAL);
	longer[8] = '\0';
	memcpy(longer + 7, "u@p", 4);
	assert_int_equal(proxy_url_parse(longer, &u), 0);
	memset(longer + 7, 'h', 256);
	longer[263] = '\0';
	assert_int_equal(proxy_url_parse(longer, &u), -EINVAL);
	longer[262] = '\0';
	assert_int_equal(proxy_url_parse(longer, &u), 0);
	assert_int_equal(strlen(u.host), 255);
	/* A password longer than 255 bytes decoded. */
	memset(longer, 0, sizeof(longer));
	memcpy(longer, "http://u:", 9);
	memset(longer + 9, 'p', 256);
	memcpy(longer + 265, "@h", 2);
	assert_int_equal(proxy_url_parse(longer, &u), -EINVAL);
	memcpy(longer + 264, "@h", 3);
	assert_int_equal(proxy_url_parse(longer, &u), 0);
}

/* Empty port after brackets and a path-looking port are fine. */
static void
test_url_edge_accepts(void **state)
{
	(void)state;
	assert_url("http://[::1]:", "http", "::1", 1080, true);
	assert_url("http://proxy/:80x", "http", "proxy", 1080, false);
}

/*
 * The secret of every URL below is a string holding "SeCrEt"; whatever
 * the shape, no cap may let it or its neighbours through.
 */
static const struct {
	const char *url, *want;
} redactions[] = {
	{ "http://user:SeCrEt@proxy:3128", "http://***@proxy:3128" },
	{ "http://user:SeCrEt@proxy:3128/", "http://***@proxy:3128/" },
	{ "https://user:SeCrEt@[::1]:443", "https://***@[::1]:443" },
	{ "HTTP://user:SeCrEt@proxy", "HTTP://***@proxy" },
	{ "socks5h://user:SeCrEt@proxy:1080", "socks5h://***@proxy:1080" },
	{ "user:SeCrEt@proxy:3128", "***@proxy:3128" },
	{ "//user:SeCrEt@proxy", "//***@proxy" },
	{ "http://:SeCrEt@proxy", "http://***@proxy" },
	{ "http://SeCrEt@proxy", "http://***@proxy" },
	{ "http://user:Se@CrEt@proxy:3128", "http://***@proxy:3128" },
	{ "http://user:SeCrEt@@proxy", "http://***@proxy" },
	{ "http://user:Se/CrEt@proxy", "http://***@proxy" },
	{ "http://user:Se?CrEt@proxy", "http://***@proxy" },
	{ "http://user:Se#CrEt@proxy", "http://***@proxy" },
	{ "http://user:Se://CrEt@proxy", "http://***@proxy" },
	{ "user:Se://CrEt@proxy", "***@proxy" },
	{ "us://er:SeCrEt@proxy", "us://***@proxy" },
	{ "http://user:Se%40CrEt@proxy", "http://***@proxy" },
	{ "http://user:SeCrEt%zz@proxy", "http://***@proxy" },
	{ "http://user:Se CrEt@proxy", "http://***@proxy" },
	{ "http://user:Se\tCrEt@proxy", "http://***@proxy" },
	{ "  http://user:SeCrEt@proxy  ", "***@proxy  " },
	{ "http:/user:SeCrEt@proxy", "***@proxy" },
	{ "http://user:SeCrEt:more@proxy", "http://***@proxy" },
	{ "http://user;SeCrEt@proxy", "http://***@proxy" },
	{ "http://a:SeCrEt@b@c", "http://***@c" },
	{ "http://user:SeCrEt@", "http://***@" },
	{ "http://user:SeCrEt@proxy/path@x", "http://***@x" },
	{ "http://u:SeCrEt@p http://u2:SeCrEt@p2", "http://***@p2" },
	/* No "@": a password where the port goes is hidden too. */
	{ "http://user:SeCrEt", "http://user:***" },
	{ "http://user:SeCrEt/x", "http://user:***/x" },
	{ "user:SeCrEt", "user:***" },
	{ "http://user:1SeCrEt", "http://user:***" },
};

/* SeCrEt's pieces: none may appear, whatever was cut where. */
static void
assert_no_secret(const char *out)
{
	static const char *const pieces[] = { "SeCrEt", "Se@CrEt", "CrEt",
		"SeC", "Se/", "Se?", "Se#", "Se:", "Se%", "Se " };
	size_t i;

	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++)
		if (strstr(out, pieces[i]))
			fail_msg("\"%s\" leaks \"%s\"", out, pieces[i]);
}

static void
test_redact(void **state)
{
	char out[256];
	size_t i, cap, len, n;

	(void)state;
	assert_true(sizeof(redactions) / sizeof(redactions[0]) >= 20);
	for (i = 0; i < sizeof(redactions) / sizeof(redactions[0]); i++) {
		len = strlen(redactions[i].want);
		n = proxy_redact(redactions[i].url, out, sizeof(out));
		if (strcmp(out, redactions[i].want) != 0)
			fail_msg("\"%s\" gave \"%s\"", redactions[i].url, out);
		assert_int_equal(n, len);
		assert_no_secret(out);
		/* Every cap: cut, NUL-terminated, no secret, same length. */
		for (cap = 0; cap <= len + 1; cap++) {
			memset(out, 'Z', sizeof(out));
			assert_int_equal(
			    proxy_redact(redactions[i].url, out, cap), len);
			if (cap == 0) {
				assert_int_equal(out[0], 'Z');
				continue;
			}
			assert_int_equal(strlen(out),
			    cap - 1 < len ? cap - 1 : len);
			assert_memory_equal(out, redactions[i].want,
			    strlen(out));
			assert_int_equal(out[cap], 'Z');
			assert_no_secret(out);
		}
	}
}

static void
test_redact_clean(void **state)
{
	static const char *const clean[] = { "http://proxy:3128",
		"http://proxy:3128/", "proxy:3128", "[::1]:3128",
		"http://[2001:db8::1]:8080", "socks5://10.0.0.1", "proxy", "",
		"not a url at all", "http://fe80::1:80" };
	char out[64], big[PROXY_URL_MAX + 64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(clean) / sizeof(clean[0]); i++) {
		assert_int_equal(proxy_redact(clean[i], out, sizeof(out)),
		    strlen(clean[i]));
		assert_string_equal(out, clean[i]);
	}
	assert_int_equal(proxy_redact(NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(proxy_redact("http://u:SeCrEt@p", NULL, 0), 12);

	/* Longer than any proxy URL: none of it is shown. */
	memset(big, 0, sizeof(big));
	memcpy(big, "http://", 7);
	memset(big + 7, 'a', PROXY_URL_MAX);
	memcpy(big + 7 + PROXY_URL_MAX, ":SeCrEt@proxy", 13);
	assert_int_equal(proxy_redact(big, out, sizeof(out)), 3);
	assert_string_equal(out, "***");
	/* Just inside the bound it is redacted the normal way. */
	memset(big, 0, sizeof(big));
	memcpy(big, "http://u:", 9);
	memset(big + 9, 'S', PROXY_URL_MAX - 9 - 6);
	memcpy(big + PROXY_URL_MAX - 6, "@proxy", 6);
	assert_int_equal(proxy_redact(big, out, sizeof(out)), 16);
	assert_string_equal(out, "http://***@proxy");
}

static void
assert_basic(const char *url, const char *want)
{
	char out[PROXY_BASIC_MAX];

	assert_int_equal(proxy_basic_auth(url, out, sizeof(out)),
	    (int)strlen(want));
	assert_string_equal(out, want);
}

static void
test_basic_auth(void **state)
{
	char out[PROXY_BASIC_MAX], url[600];
	struct proxy_url u;

	(void)state;
	assert_basic("http://user:pass@proxy:3128", "dXNlcjpwYXNz");
	/* RFC 7617's example, its space percent-encoded in the URL. */
	assert_basic("http://Aladdin:open%20sesame@p",
	    "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	/* "us@er:p:ss" */
	assert_basic("us%40er:p%3Ass@p", "dXNAZXI6cDpzcw==");
	/* A raw "@" in the password is part of it: "u:p@ss". */
	assert_basic("http://u:p@ss@p", "dTpwQHNz");
	/* No password: "user:". */
	assert_basic("http://user@p", "dXNlcjo=");

	memcpy(out, "XX", 3);
	assert_int_equal(
	    proxy_basic_auth("http://proxy:3128", out, sizeof(out)), 0);
	assert_string_equal(out, "XX");
	assert_int_equal(proxy_basic_auth("http://u:p@", out, sizeof(out)),
	    -EINVAL);
	assert_int_equal(proxy_basic_auth(NULL, out, sizeof(out)), -EINVAL);
	assert_int_equal(proxy_basic_auth("http://u:p@h", NULL, 10), -EINVAL);
	/* "u:p" is 4 characters of base64: 5 bytes needed. */
	assert_int_equal(proxy_basic_auth("http://u:p@h", out, 4), -ENOBUFS);
	assert_string_equal(out, "XX");
	assert_int_equal(proxy_basic_auth("http://u:p@h", out, 5), 4);
	assert_string_equal(out, "dTpw");

	/* The longest user and password fit PROXY_BASIC_MAX exactly. */
	memset(url, 0, sizeof(url));
	memcpy(url, "http://", 7);
	memset(url + 7, 'u', 127);
	url[134] = ':';
	memset(url + 135, 'p', 255);
	memcpy(url + 390, "@h", 2);
	assert_int_equal(proxy_url_parse(url, &u), 0);
	assert_int_equal(proxy_basic_auth(url, out, sizeof(out)),
	    PROXY_BASIC_MAX - 1);
}

/* A fake environment: NULL-terminated name/value pairs. */
static const char *const *fake_env;

static const char *
fake_getenv(const char *name)
{
	size_t i;

	for (i = 0; fake_env[i]; i += 2)
		if (strcmp(fake_env[i], name) == 0)
			return fake_env[i + 1];
	return NULL;
}

static int
read_env(const char *const *env, struct proxy_env_view *v)
{
	fake_env = env;
	return proxy_env_read(fake_getenv, v);
}

static void
test_env_none(void **state)
{
	static const char *const env[] = { "PATH", "/bin", NULL };
	struct proxy_env_view v;

	(void)state;
	assert_int_equal(read_env(env, &v), 0);
	assert_false(v.mismatch);
	assert_null(v.mismatch_name);
	assert_null(v.https_proxy);
	assert_null(v.http_proxy);
	assert_null(v.no_proxy);
	assert_null(v.env.http.upper);
	assert_null(v.env.no.lower);
	assert_false(v.http_upper_ignored);
	assert_int_equal(proxy_env_read(NULL, &v), -EINVAL);
	assert_int_equal(proxy_env_read(fake_getenv, NULL), -EINVAL);
}

static void
test_env_mismatch(void **state)
{
	static const char *const same[] = { "HTTP_PROXY", "http://p:1",
		"http_proxy", "http://p:1", "NO_PROXY", "a", "no_proxy", "a",
		NULL };
	static const char *const http[] = { "HTTP_PROXY", "http://p:1",
		"http_proxy", "http://p:2", NULL };
	static const char *const https[] = { "HTTPS_PROXY", "http://p:1",
		"https_proxy", "http://q:1", "HTTP_PROXY", "x", NULL };
	static const char *const all[] = { "ALL_PROXY", "socks5://a",
		"all_proxy", "socks5://b", NULL };
	static const char *const no[] = { "NO_PROXY", "localhost", "no_proxy",
		"localhost,127.0.0.1", NULL };
	static const char *const empty[] = { "HTTPS_PROXY", "http://p:1",
		"https_proxy", "", NULL };
	static const char *const order[] = { "NO_PROXY", "a", "no_proxy", "b",
		"HTTPS_PROXY", "c", "https_proxy", "d", NULL };
	struct proxy_env_view v;

	(void)state;
	assert_int_equal(read_env(same, &v), 4);
	assert_false(v.mismatch);
	assert_int_equal(read_env(http, &v), 2);
	assert_true(v.mismatch);
	assert_string_equal(v.mismatch_name, "HTTP_PROXY");
	assert_string_equal(v.env.http.upper, "http://p:1");
	assert_string_equal(v.env.http.lower, "http://p:2");
	assert_int_equal(read_env(https, &v), 3);
	assert_true(v.mismatch);
	assert_string_equal(v.mismatch_name, "HTTPS_PROXY");
	assert_int_equal(read_env(all, &v), 2);
	assert_string_equal(v.mismatch_name, "ALL_PROXY");
	assert_int_equal(read_env(no, &v), 2);
	assert_string_equal(v.mismatch_name, "NO_PROXY");
	/* Empty against set: clients disagree on what empty means. */
	assert_int_equal(read_env(empty, &v), 2);
	assert_true(v.mismatch);
	assert_string_equal(v.mismatch_name, "HTTPS_PROXY");
	/* The first in HTTP, HTTPS, ALL, NO order is named. */
	assert_int_equal(read_env(order, &v), 4);
	assert_string_equal(v.mismatch_name, "HTTPS_PROXY");
}

static void
test_env_effective(void **state)
{
	static const char *const upper_http[] = { "HTTP_PROXY", "http://h:1",
		NULL };
	static const char *const upper_http_all[] = { "HTTP_PROXY",
		"http://h:1", "ALL_PROXY", "socks5://a:1", NULL };
	static const char *const lower_http[] = { "http_proxy", "http://h:1",
		"HTTP_PROXY", "http://h:1", NULL };
	static const char *const https_upper[] = { "HTTPS_PROXY", "http://s:1",
		"all_proxy", "http://a:1", NULL };
	static const char *const https_both[] = { "HTTPS_PROXY", "http://S:1",
		"https_proxy", "http://s:1", NULL };
	static const char *const https_empty[] = { "HTTPS_PROXY", "http://S:1",
		"https_proxy", "", NULL };
	static const char *const all_only[] = { "all_proxy", "http://a:1",
		"ALL_PROXY", "http://A:1", "no_proxy", "", "NO_PROXY", "x",
		NULL };
	static const char *const all_upper[] = { "ALL_PROXY", "http://A:1",
		"NO_PROXY", "corp", NULL };
	struct proxy_env_view v;

	(void)state;
	/* curl never reads HTTP_PROXY (httpoxy). */
	assert_int_equal(read_env(upper_http, &v), 1);
	assert_null(v.http_proxy);
	assert_null(v.https_proxy);
	assert_true(v.http_upper_ignored);
	assert_int_equal(read_env(upper_http_all, &v), 2);
	assert_string_equal(v.http_proxy, "socks5://a:1");
	assert_string_equal(v.http_from, "ALL_PROXY");
	assert_true(v.http_upper_ignored);
	assert_int_equal(read_env(lower_http, &v), 2);
	assert_string_equal(v.http_proxy, "http://h:1");
	assert_string_equal(v.http_from, "http_proxy");
	assert_false(v.http_upper_ignored);
	assert_null(v.https_proxy);

	assert_int_equal(read_env(https_upper, &v), 2);
	assert_string_equal(v.https_proxy, "http://s:1");
	assert_string_equal(v.https_from, "HTTPS_PROXY");
	assert_string_equal(v.http_proxy, "http://a:1");
	assert_string_equal(v.http_from, "all_proxy");
	/* The lower case name wins over the upper case one. */
	assert_int_equal(read_env(https_both, &v), 2);
	assert_string_equal(v.https_proxy, "http://s:1");
	assert_string_equal(v.https_from, "https_proxy");
	/* curl_getenv() treats an empty value as unset. */
	assert_int_equal(read_env(https_empty, &v), 2);
	assert_string_equal(v.https_proxy, "http://S:1");
	assert_string_equal(v.https_from, "HTTPS_PROXY");

	assert_int_equal(read_env(all_only, &v), 4);
	assert_string_equal(v.https_proxy, "http://a:1");
	assert_string_equal(v.https_from, "all_proxy");
	assert_string_equal(v.http_proxy, "http://a:1");
	assert_string_equal(v.no_proxy, "x");
	assert_string_equal(v.no_from, "NO_PROXY");
	assert_int_equal(read_env(all_upper, &v), 2);
	assert_string_equal(v.https_proxy, "http://A:1");
	assert_string_equal(v.https_from, "ALL_PROXY");
	assert_string_equal(v.http_from, "ALL_PROXY");
	assert_string_equal(v.no_proxy, "corp");
	assert_false(v.mismatch);
}

static const struct {
	const char *no_proxy, *host;
	uint16_t port;
	bool want;
} no_proxy_cases[] = {
	{ "*", "anything.example", 443, true },
	{ "*", "10.0.0.1", 0, true },
	{ "example.com,*", "other.org", 80, true },
	{ "", "example.com", 443, false },
	{ ",, ,", "example.com", 443, false },
	{ "*example.com", "www.example.com", 443, false },
	/* Names: exact, or a suffix on a dot boundary; dots optional. */
	{ "example.com", "example.com", 443, true },
	{ "example.com", "www.example.com", 443, true },
	{ "example.com", "a.b.example.com", 443, true },
	{ "example.com", "badexample.com", 443, false },
	{ "example.com", "example.com.evil.org", 443, false },
	{ "example.com", "example.co", 443, false },
	{ "www.example.com", "example.com", 443, false },
	{ ".example.com", "example.com", 443, true },
	{ ".example.com", "www.example.com", 443, true },
	{ "*.example.com", "www.example.com", 443, true },
	{ "example.com.", "example.com", 443, true },
	{ "example.com", "example.com.", 443, true },
	{ "EXAMPLE.com", "www.Example.COM", 443, true },
	{ "localhost", "localhost", 8080, true },
	{ "localhost", "127.0.0.1", 8080, false },
	{ ".", "example.com", 443, false },
	/* Separators: commas, spaces, tabs, in any number. */
	{ "localhost,127.0.0.1", "127.0.0.1", 80, true },
	{ "localhost, 127.0.0.1", "127.0.0.2", 80, false },
	{ "a b\tc", "c", 80, true },
	{ "a,,b", "b", 80, true },
	{ " , a ,", "a", 80, true },
	{ "corp.internal,.svc.cluster.local", "api.ns.svc.cluster.local", 443,
	    true },
	/* IP literals: exact, never as a name suffix. */
	{ "127.0.0.1", "127.0.0.1", 80, true },
	{ "127.0.0.1", "127.0.0.10", 80, false },
	{ "0.0.1", "127.0.0.1", 80, false },
	{ "127.0.0.1", "[127.0.0.1]", 80, false },
	{ "::1", "::1", 80, true },
	{ "::1", "[::1]", 80, true },
	{ "[::1]", "::1", 80, true },
	{ "0:0:0:0:0:0:0:1", "::1", 80, true },
	{ "::1", "127.0.0.1", 80, false },
	{ "127.0.0.1", "::1", 80, false },
	{ "::ffff:127.0.0.1", "127.0.0.1", 80, false },
	/* CIDR, IPv4 and IPv6. */
	{ "10.0.0.0/8", "10.1.2.3", 80, true },
	{ "10.0.0.0/8", "11.0.0.1", 80, false },
	{ "10.0.0.0/8", "example.com", 80, false },
	{ "192.168.1.0/24", "192.168.1.255", 80, true },
	{ "192.168.1.0/24", "192.168.2.1", 80, false },
	{ "172.16.0.0/12", "172.31.255.255", 80, true },
	{ "172.16.0.0/12", "172.32.0.0", 80, false },
	{ "10.0.0.1/32", "10.0.0.1", 80, true },
	{ "10.0.0.1/32", "10.0.0.2", 80, false },
	{ "0.0.0.0/0", "8.8.8.8", 80, true },
	{ "10.0.0.1/33", "10.0.0.1", 80, false },
	{ "10.0.0.0/", "10.0.0.0", 80, false },
	{ "10.0.0.0/x", "10.0.0.0", 80, false },
	{ "::1/128", "::1", 80, true },
	{ "::1/128", "::2", 80, false },
	{ "fd00::/8", "fd12:3456::1", 80, true },
	{ "fd00::/8", "fe80::1", 80, false },
	{ "2001:db8::/33", "2001:db8:7fff::1", 80, true },
	{ "2001:db8::/33", "2001:db8:8000::1", 80, false },
	{ "::/0", "2001:db8::1", 80, true },
	{ "::/0", "10.0.0.1", 80, false },
	{ "::1/129", "::1", 80, false },
	/* host:port entries match that port only. */
	{ "example.com:8080", "example.com", 8080, true },
	{ "example.com:8080", "www.example.com", 8080, true },
	{ "example.com:8080", "example.com", 443, false },
	{ "example.com:8080", "example.com", 0, false },
	{ "example.com:abc", "example.com", 80, false },
	{ "example.com:0", "example.com", 80, false },
	{ "10.0.0.1:80", "10.0.0.1", 80, true },
	{ "10.0.0.1:80", "10.0.0.1", 81, false },
	{ "[::1]:8080", "::1", 8080, true },
	{ "[::1]:8080", "::1", 80, false },
	{ "[::1]x", "::1", 80, false },
	{ "[::1", "::1", 80, false },
	{ "example.com", "example.com", 0, true },
	/* Junk never matches and never crashes. */
	{ "example.com", "", 80, false },
	{ "[", "example.com", 80, false },
	{ ":", "example.com", 80, false },
	{ "/", "10.0.0.1", 80, false },
};

static void
test_no_proxy(void **state)
{
	size_t i;
	bool got;

	(void)state;
	for (i = 0; i < sizeof(no_proxy_cases) / sizeof(no_proxy_cases[0]);
	     i++) {
		got = no_proxy_match(no_proxy_cases[i].no_proxy,
		    no_proxy_cases[i].host, no_proxy_cases[i].port);
		if (got != no_proxy_cases[i].want)
			fail_msg("NO_PROXY=\"%s\" host \"%s\" port %u: %d",
			    no_proxy_cases[i].no_proxy, no_proxy_cases[i].host,
			    (unsigned)no_proxy_cases[i].port, got);
	}
	assert_false(no_proxy_match(NULL, "example.com", 80));
	assert_false(no_proxy_match("*", NULL, 80));
}

static void
test_no_proxy_bounds(void **state)
{
	char list[PROXY_NO_PROXY_MAX + 64], host[300];

	(void)state;
	/* An entry past the bound is not read. */
	memset(list, ',', sizeof(list));
	memcpy(list + PROXY_NO_PROXY_MAX + 8, "a.example", 10);
	assert_false(no_proxy_match(list, "a.example", 80));
	memcpy(list + PROXY_NO_PROXY_MAX - 20, "a.example", 10);
	assert_true(no_proxy_match(list, "a.example", 80));
	/* A host name longer than any name is no match. */
	memset(host, 'h', sizeof(host));
	host[sizeof(host) - 1] = '\0';
	assert_false(no_proxy_match("*.h", host, 80));
	assert_true(no_proxy_match("*", "h", 80));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_accepts),
		cmocka_unit_test(test_url_rejects),
		cmocka_unit_test(test_url_edge_accepts),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_redact_clean),
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_env_none),
		cmocka_unit_test(test_env_mismatch),
		cmocka_unit_test(test_env_effective),
		cmocka_unit_test(test_no_proxy),
		cmocka_unit_test(test_no_proxy_bounds),
	};

	return cmocka_run_group_tests_name("proxy", tests, NULL, NULL);
}
