/*
 * proxy — what the `proxy` check (SPEC section 8) reads from the
 * environment before it opens a socket: the proxy variables in both cases,
 * which one a client will use, whether a host bypasses it (NO_PROXY), the
 * proxy URL taken apart, and a printable form of that URL that never shows
 * the credentials.
 *
 * The reference client is curl, whose rules most tools copy; where curl
 * and other clients disagree the comments say so.  Everything here is
 * pure (no syscalls, no logging, no allocation) and bounded.
 *
 * Public API: proxy_url_parse(), proxy_redact(), proxy_basic_auth(),
 * proxy_env_read(), no_proxy_match().
 */
#ifndef AGENT_INIT_PROXY_H
#define AGENT_INIT_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest proxy URL or NO_PROXY value we look at. */
#define PROXY_URL_MAX 2048
#define PROXY_NO_PROXY_MAX 8192

/* Room for the base64 of "user:password" (127 + 1 + 255 bytes) and NUL. */
#define PROXY_BASIC_MAX 513

struct proxy_url {
	char scheme[8]; /* http https socks4 socks4a socks5 socks5h */
	char host[256]; /* without the brackets of an IPv6 literal */
	uint16_t port; /* the URL's, else curl's default */
	bool has_userinfo;
	char user[128]; /* percent-decoded; the password is never stored */
	bool bracketed_v6; /* host was written [v6]; print it bracketed */
};

/*
 * Parses a proxy URL as curl reads $http_proxy: [scheme://][user[:pass]@]
 * host[:port][/...].  Returns 0, or -EINVAL for an empty host, a bad port,
 * whitespace or control characters, an unknown scheme, a bad percent
 * escape, or parts that do not fit the struct.
 */
int proxy_url_parse(const char *s, struct proxy_url *ret);

/*
 * Writes url to out with any userinfo replaced by "***", even when url does
 * not parse; always NUL-terminated when cap > 0, cut if need be.  Returns
 * the length the whole redacted URL has (as snprintf does), so a result
 * >= cap means it was cut.
 */
size_t proxy_redact(const char *url, char *out, size_t cap);

/*
 * Writes the base64 of the percent-decoded "user:password" of url, the
 * token of "Proxy-Authorization: Basic" (RFC 7617), to ret.  Returns its
 * length, 0 when url has no userinfo (ret untouched), -EINVAL when url does
 * not parse, -ENOBUFS when cap is too small (PROXY_BASIC_MAX always fits).
 */
int proxy_basic_auth(const char *url, char *ret, size_t cap);

/* One variable in its two spellings; NULL when unset. */
struct proxy_env_pair {
	const char *upper, *lower;
};

struct proxy_env {
	struct proxy_env_pair http, https, all, no;
};

struct proxy_env_view {
	struct proxy_env env; /* the raw values */
	/*
	 * Some variable is set in both cases to different values (an empty
	 * value counts as set: clients disagree on what it means).
	 * mismatch_name is the first such name in upper case.
	 */
	bool mismatch;
	const char *mismatch_name;
	/*
	 * The proxy a curl-like client uses for https:// and http://
	 * targets and the variable it came from; NULL when none.  Empty
	 * values count as unset, as in curl_getenv().
	 */
	const char *https_proxy, *https_from;
	const char *http_proxy, *http_from;
	const char *no_proxy, *no_from;
	/*
	 * HTTP_PROXY is set but http_proxy is not: curl ignores the upper
	 * case name (httpoxy), while Go and Python read it.
	 */
	bool http_upper_ignored;
};

/*
 * Reads the four variables in both cases through getenv_fn.  Returns the
 * number of the eight names that are set (0: no proxy configured at all),
 * or -EINVAL.
 */
int proxy_env_read(const char *(*getenv_fn)(const char *),
    struct proxy_env_view *ret);

/*
 * Whether a client would reach host:port directly because of no_proxy:
 * curl's rules (names and domain suffixes, IP literals, CIDR ranges, "*"),
 * widened where other clients are broader ("*" anywhere in the list,
 * whitespace as a separator, "*.domain", host:port entries).  host is a
 * name, an IPv4 address or an IPv6 address with or without brackets;
 * port 0 matches entries without a port only.  Nothing is resolved.
 */
bool no_proxy_match(const char *no_proxy, const char *host, uint16_t port);

#endif
