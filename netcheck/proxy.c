/*
 * proxy — proxy variables, proxy URLs and NO_PROXY.  See proxy.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "httpmsg.h"
#include "proxy.h"

/* The pieces of a URL, as spans of the original string. */
struct url_parts {
	const char *scheme;
	size_t scheme_len; /* 0: no scheme written */
	const char *userinfo; /* NULL: none */
	size_t userinfo_len;
	const char *host; /* without brackets */
	size_t host_len;
	bool bracketed;
	const char *port; /* NULL: none written */
	size_t port_len;
};

static bool
is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_decimal(char c)
{
	return c >= '0' && c <= '9';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), RFC 3986 3.1. */
static bool
is_scheme(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_alpha(s[0]))
		return false;
	for (i = 1; i < len; i++)
		if (!is_alpha(s[i]) && !is_decimal(s[i]) && s[i] != '+' &&
		    s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* The last c in [s, s + len), like memrchr without relying on it. */
static const char *
last_of(const char *s, size_t len, char c)
{
	while (len > 0) {
		len--;
		if (s[len] == c)
			return s + len;
	}
	return NULL;
}

/* Where the authority that starts at s ends: "/", "?", "#" or the end. */
static size_t
authority_len(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == '?' || s[i] == '#')
			break;
	return i;
}

/*
 * Splits [scheme://][userinfo@]host[:port][/...] by RFC 3986 section 3.
 * The userinfo ends at the LAST "@" of the authority: a raw "@" in a
 * password is a common mistake and Go's net/url splits the same way, so
 * the host is what follows it.  Only the shape is checked here.
 */
static int
split_url(const char *s, size_t len, struct url_parts *ret)
{
	struct url_parts u;
	const char *sep = strstr(s, "://"), *at, *end, *rb;
	size_t alen;

	memset(&u, 0, sizeof(u));
	if (sep) {
		if (!is_scheme(s, (size_t)(sep - s)))
			return -EINVAL;
		u.scheme = s;
		u.scheme_len = (size_t)(sep - s);
		s = sep + 3;
		len -= u.scheme_len + 3;
	}
	alen = authority_len(s, len);
	end = s + alen;
	at = last_of(s, alen, '@');
	if (at) {
		u.userinfo = s;
		u.userinfo_len = (size_t)(at - s);
		s = at + 1;
	}
	if (*s == '[') {
		rb = memchr(s, ']', (size_t)(end - s));
		if (!rb)
			return -EINVAL;
		u.host = s + 1;
		u.host_len = (size_t)(rb - s - 1);
		u.bracketed = true;
		s = rb + 1;
		if (s < end && *s != ':')
			return -EINVAL;
	} else {
		u.host = s;
		while (s < end && *s != ':')
			s++;
		u.host_len = (size_t)(s - u.host);
	}
	if (s < end) {
		u.port = s + 1;
		u.port_len = (size_t)(end - s - 1);
	}
	*ret = u;
	return 0;
}

/*
 * Percent-decodes [s, s + len) into out (RFC 3986 section 2.1); curl
 * decodes the user and password of a proxy URL the same way.  A NUL
 * byte, a bad escape or a result that does not fit (with its NUL) is
 * -EINVAL.  Returns the decoded length.
 */
static int
pct_decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++, o++) {
		char c = s[i];

		if (c == '%') {
			if (len - i < 3)
				return -EINVAL;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -EINVAL;
		out[o] = c;
	}
	out[o] = '\0';
	return (int)o;
}

/*
 * The schemes curl takes for a proxy (CURLOPT_PROXY(3)).  The default
 * ports are curl's documented ones (CURLOPT_PROXYPORT(3)): 443 for an
 * HTTPS proxy and 1080 for all others, so "http://proxy" means port 1080,
 * not 80.
 */
static const struct {
	const char *name;
	uint16_t port;
} schemes[] = {
	{ "http", 1080 },
	{ "https", 443 },
	{ "socks4", 1080 },
	{ "socks4a", 1080 },
	{ "socks5", 1080 },
	{ "socks5h", 1080 },
};

/* reg-name as hosts are really named: letters, digits, "-", ".", "_". */
static bool
valid_name(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_alpha(s[i]) && !is_decimal(s[i]) && s[i] != '-' &&
		    s[i] != '.' && s[i] != '_')
			return false;
	return len > 0;
}

/* port = 1..65535; empty means the default (RFC 3986 section 3.2.3). */
static int
parse_port(const char *s, size_t len, uint16_t *ret)
{
	unsigned v = 0;
	size_t i;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!is_decimal(s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

static int
parse_host(const struct url_parts *p, struct proxy_url *u)
{
	unsigned char a[16];

	if (p->host_len == 0 || p->host_len >= sizeof(u->host))
		return -EINVAL;
	memcpy(u->host, p->host, p->host_len);
	u->host[p->host_len] = '\0';
	u->bracketed_v6 = p->bracketed;
	/* Only an IPv6 literal goes in brackets (RFC 3986 section 3.2.2);
	 * zone identifiers are not supported. */
	if (p->bracketed)
		return inet_pton(AF_INET6, u->host, a) == 1 ? 0 : -EINVAL;
	return valid_name(p->host, p->host_len) ? 0 : -EINVAL;
}

/*
 * curl reads no whitespace or control byte in a proxy URL; neither do we,
 * nor bytes above 0x7e (a non-ASCII name would need IDNA first).
 */
static bool
printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static int
parse_userinfo(const struct url_parts *p, struct proxy_url *u)
{
	const char *colon = memchr(p->userinfo, ':', p->userinfo_len);
	size_t ulen = colon ? (size_t)(colon - p->userinfo) : p->userinfo_len;
	char pass[256];
	int r;

	u->has_userinfo = true;
	if (pct_decode(p->userinfo, ulen, u->user, sizeof(u->user)) < 0)
		return -EINVAL;
	if (!colon)
		return 0;
	/* The password is only checked, and wiped from the stack after. */
	r = pct_decode(colon + 1, p->userinfo_len - ulen - 1, pass,
	    sizeof(pass));
	explicit_bzero(pass, sizeof(pass));
	return r < 0 ? -EINVAL : 0;
}

/* proxy_url_parse(), also handing back the spans for proxy_basic_auth(). */
static int
parse_url(const char *s, struct proxy_url *ret, struct url_parts *ret_parts)
{
	struct url_parts p;
	struct proxy_url u;
	size_t len, i;

	if (!s)
		return -EINVAL;
	len = strnlen(s, PROXY_URL_MAX + 1);
	if (len == 0 || len > PROXY_URL_MAX || !printable(s, len) ||
	    split_url(s, len, &p) < 0)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	/* No scheme means an HTTP proxy, as curl assumes (CURLOPT_PROXY(3)). */
	if (!p.scheme) {
		p.scheme = "http";
		p.scheme_len = 4;
	}
	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].name) == p.scheme_len &&
		    strncasecmp(schemes[i].name, p.scheme, p.scheme_len) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(schemes[0]))
		return -EINVAL;
	memcpy(u.scheme, schemes[i].name, strlen(schemes[i].name) + 1);
	u.port = schemes[i].port;
	if (parse_host(&p, &u) < 0)
		return -EINVAL;
	if (p.port && p.port_len > 0 && parse_port(p.port, p.port_len, &u.port))
		return -EINVAL;
	if (p.userinfo && parse_userinfo(&p, &u) < 0)
		return -EINVAL;
	*ret = u;
	*ret_parts = p;
	return 0;
}

int
proxy_url_parse(const char *s, struct proxy_url *ret)
{
	struct url_parts p;

	if (!ret)
		return -EINVAL;
	return parse_url(s, ret, &p);
}

int
proxy_basic_auth(const char *url, char *ret, size_t cap)
{
	struct proxy_url u;
	struct url_parts p;
	char plain[128 + 1 + 256];
	const char *colon;
	size_t ulen, n;
	int r;

	if (!ret || parse_url(url, &u, &p) < 0)
		return -EINVAL;
	if (!u.has_userinfo || !p.userinfo)
		return 0;
	colon = memchr(p.userinfo, ':', p.userinfo_len);
	ulen = colon ? (size_t)(colon - p.userinfo) : p.userinfo_len;
	n = strlen(u.user);
	memcpy(plain, u.user, n);
	plain[n++] = ':';
	plain[n] = '\0';
	/* parse_url() decoded the password once already: it fits. */
	if (colon) {
		r = pct_decode(colon + 1, p.userinfo_len - ulen - 1, plain + n,
		    sizeof(plain) - n);
		n += r > 0 ? (size_t)r : 0;
	}
	r = -ENOBUFS;
	if (cap >= BASE64_LEN(n) + 1)
		r = (int)base64_encode(plain, n, ret, cap);
	explicit_bzero(plain, sizeof(plain));
	return r;
}

/*
 * Appends [s, s + len) to out as far as it fits, keeping room for the
 * NUL, and counts the whole length in *pos either way.
 */
static void
put(char *out, size_t cap, size_t *pos, const char *s, size_t len)
{
	size_t room = *pos + 1 < cap ? cap - 1 - *pos : 0;

	if (room > 0)
		memcpy(out + *pos, s, len < room ? len : room);
	*pos += len;
}

/*
 * Where a URL's authority starts: after "scheme://" when what precedes
 * "://" is a scheme, after a leading "//", else at 0.  A password holding
 * "://" leaves a non-scheme before it (it contains ":"), so the userinfo
 * is then taken from the very start.
 */
static size_t
authority_start(const char *url, size_t len)
{
	const char *sep = strstr(url, "://");

	if (sep && is_scheme(url, (size_t)(sep - url)))
		return (size_t)(sep - url) + 3;
	if (len >= 2 && url[0] == '/' && url[1] == '/')
		return 2;
	return 0;
}

/*
 * Without an "@" there is no userinfo, but "http://user:secret" (the "@host"
 * forgotten) still carries a password where the port goes: a single ":"
 * followed by anything but digits is hidden too.  Returns the offset of
 * the ":" and the end of the authority, or false.
 */
static bool
bare_password(const char *url, size_t a, size_t len, size_t *ret_colon,
    size_t *ret_end)
{
	size_t end = a + authority_len(url + a, len - a), i, colons = 0;
	size_t colon = 0;
	bool digits = true;

	for (i = a; i < end; i++) {
		if (url[i] == ':') {
			colons++;
			colon = i;
		}
	}
	if (colons != 1 || colon + 1 == end)
		return false;
	for (i = colon + 1; i < end; i++)
		digits = digits && is_decimal(url[i]);
	if (digits)
		return false;
	*ret_colon = colon;
	*ret_end = end;
	return true;
}

/*
 * The rule is made to fail safe: everything between the authority start
 * and the LAST "@" of the whole string is replaced, so a password holding
 * "@", "/", "?", "#" or "://" is never printed, at the cost of hiding a
 * path that holds an "@" (proxy URLs have no path worth showing).
 */
static void
redact(const char *url, size_t len, char *out, size_t cap, size_t *pos)
{
	size_t a = authority_start(url, len), colon, end;
	const char *at = last_of(url + a, len - a, '@');

	if (at) {
		put(out, cap, pos, url, a);
		put(out, cap, pos, "***", 3);
		put(out, cap, pos, at, len - (size_t)(at - url));
	} else if (bare_password(url, a, len, &colon, &end)) {
		put(out, cap, pos, url, colon + 1);
		put(out, cap, pos, "***", 3);
		put(out, cap, pos, url + end, len - end);
	} else {
		put(out, cap, pos, url, len);
	}
}

size_t
proxy_redact(const char *url, char *out, size_t cap)
{
	size_t len, pos = 0;

	if (!out)
		cap = 0;
	len = url ? strnlen(url, PROXY_URL_MAX + 1) : 0;
	/* Too long to be a proxy URL: show none of it. */
	if (len > PROXY_URL_MAX)
		put(out, cap, &pos, "***", 3);
	else if (len > 0)
		redact(url, len, out, cap, &pos);
	if (cap > 0)
		out[pos < cap ? pos : cap - 1] = '\0';
	return pos;
}

static const char *
nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static int
read_pair(const char *(*getenv_fn)(const char *), const char *upper,
    const char *lower, struct proxy_env_pair *ret)
{
	ret->upper = getenv_fn(upper);
	ret->lower = getenv_fn(lower);
	return (ret->upper != NULL) + (ret->lower != NULL);
}

static bool
differ(const struct proxy_env_pair *p)
{
	return p->upper && p->lower && strcmp(p->upper, p->lower) != 0;
}

/* The first non-empty value of the candidates, and its name. */
static void
pick(const char *const *vals, const char *const *names, size_t n,
    const char **ret, const char **ret_name)
{
	size_t i;

	*ret = NULL;
	*ret_name = NULL;
	for (i = 0; i < n; i++) {
		if (nonempty(vals[i])) {
			*ret = vals[i];
			*ret_name = names[i];
			return;
		}
	}
}

/*
 * curl's order (lib/url.c, detect_proxy(), and the curl(1) ENVIRONMENT
 * section): the lower case name first, then the upper case one, then
 * all_proxy and ALL_PROXY.  The exception is HTTP_PROXY, which curl never
 * reads: a CGI program gets the request's "Proxy:" header as
 * $HTTP_PROXY, so trusting it lets a client pick the proxy (httpoxy,
 * CVE-2016-5385 and siblings).  Go and Python do read HTTP_PROXY outside
 * CGI, hence http_upper_ignored.  curl_getenv() treats an empty value as
 * unset, so an empty name falls through to the next one here as well.
 */
int
proxy_env_read(const char *(*getenv_fn)(const char *),
    struct proxy_env_view *ret)
{
	struct proxy_env_view v;
	struct proxy_env *e = &v.env;
	int n = 0;

	if (!getenv_fn || !ret)
		return -EINVAL;
	memset(&v, 0, sizeof(v));
	n += read_pair(getenv_fn, "HTTP_PROXY", "http_proxy", &e->http);
	n += read_pair(getenv_fn, "HTTPS_PROXY", "https_proxy", &e->https);
	n += read_pair(getenv_fn, "ALL_PROXY", "all_proxy", &e->all);
	n += read_pair(getenv_fn, "NO_PROXY", "no_proxy", &e->no);
	v.mismatch_name = differ(&e->http) ? "HTTP_PROXY"
	    : differ(&e->https)            ? "HTTPS_PROXY"
	    : differ(&e->all)              ? "ALL_PROXY"
	    : differ(&e->no)               ? "NO_PROXY"
	                                   : NULL;
	v.mismatch = v.mismatch_name != NULL;
	{
		const char *hs[] = { e->https.lower, e->https.upper,
			e->all.lower, e->all.upper };
		const char *hsn[] = { "https_proxy", "HTTPS_PROXY", "all_proxy",
			"ALL_PROXY" };
		const char *h[] = { e->http.lower, e->all.lower, e->all.upper };
		const char *hn[] = { "http_proxy", "all_proxy", "ALL_PROXY" };
		const char *no[] = { e->no.lower, e->no.upper };
		const char *non[] = { "no_proxy", "NO_PROXY" };

		pick(hs, hsn, 4, &v.https_proxy, &v.https_from);
		pick(h, hn, 3, &v.http_proxy, &v.http_from);
		pick(no, non, 2, &v.no_proxy, &v.no_from);
	}
	v.http_upper_ignored =
	    nonempty(e->http.upper) && !nonempty(e->http.lower);
	*ret = v;
	return n;
}

/* A host or NO_PROXY entry: a name, or an address with a prefix length. */
struct np_addr {
	int family; /* 0 for a name */
	unsigned char a[16];
	unsigned bits;
};

/*
 * Reads s as an IPv4 or IPv6 address (brackets already gone), with a
 * "/bits" suffix when allow_cidr.  Returns false for a name.
 */
static bool
parse_addr(const char *s, size_t len, bool allow_cidr, struct np_addr *ret)
{
	char buf[64];
	const char *slash = allow_cidr ? memchr(s, '/', len) : NULL;
	size_t alen = slash ? (size_t)(slash - s) : len, i;
	unsigned bits = 0;

	if (alen >= sizeof(buf))
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, ret->a) == 1) {
		ret->family = AF_INET;
		ret->bits = 32;
	} else if (inet_pton(AF_INET6, buf, ret->a) == 1) {
		ret->family = AF_INET6;
		ret->bits = 128;
	} else {
		return false;
	}
	if (!slash)
		return true;
	if (len - alen < 2 || len - alen > 4)
		return false;
	for (i = alen + 1; i < len; i++) {
		if (!is_decimal(s[i]))
			return false;
		bits = bits * 10 + (unsigned)(s[i] - '0');
	}
	if (bits > ret->bits)
		return false;
	ret->bits = bits;
	return true;
}

static bool
prefix_equal(const struct np_addr *net, const struct np_addr *host)
{
	unsigned full = net->bits / 8, rest = net->bits % 8;
	unsigned char mask;

	if (net->family != host->family)
		return false;
	if (memcmp(net->a, host->a, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return ((net->a[full] ^ host->a[full]) & mask) == 0;
}

/*
 * curl's name rule (lib/noproxy.c): trailing dots and one leading dot of
 * the entry are ignored; the entry matches the name itself or any name
 * ending in "." + entry, case-insensitively, so "example.com" and
 * ".example.com" both cover "www.example.com" but not "badexample.com".
 * "*.example.com", which curl does not know, is read as ".example.com"
 * the way Go's httpproxy reads it.
 */
static bool
name_match(const char *t, size_t tlen, const char *name, size_t nlen)
{
	if (tlen >= 2 && t[0] == '*' && t[1] == '.') {
		t++;
		tlen--;
	}
	while (tlen > 0 && t[tlen - 1] == '.')
		tlen--;
	if (tlen > 0 && t[0] == '.') {
		t++;
		tlen--;
	}
	if (tlen == 0 || tlen > nlen)
		return false;
	if (tlen < nlen && name[nlen - tlen - 1] != '.')
		return false;
	return strncasecmp(name + nlen - tlen, t, tlen) == 0;
}

/*
 * Splits an entry into its host part and port: "[v6]", "[v6]:port",
 * "name:port" or "v4:port" (exactly one ":" followed by digits); an entry
 * with more colons is an IPv6 address without a port.  Returns false for
 * a malformed entry, which matches nothing.
 */
static bool
split_entry(const char **t, size_t *tlen, uint16_t *ret_port)
{
	const char *s = *t, *rb, *colon;
	size_t len = *tlen;

	*ret_port = 0;
	if (s[0] == '[') {
		rb = memchr(s, ']', len);
		if (!rb)
			return false;
		*t = s + 1;
		*tlen = (size_t)(rb - s - 1);
		if (rb + 1 == s + len)
			return true;
		/* "[v6]/bits" is not a form curl reads either. */
		return rb[1] == ':' &&
		    parse_port(rb + 2, (size_t)(s + len - rb - 2), ret_port) ==
		    0;
	}
	colon = memchr(s, ':', len);
	if (!colon || memchr(colon + 1, ':', (size_t)(s + len - colon - 1)))
		return true;
	*tlen = (size_t)(colon - s);
	return parse_port(colon + 1, (size_t)(s + len - colon - 1), ret_port) ==
	    0;
}

static bool
entry_match(const char *t, size_t tlen, const char *name, size_t nlen,
    const struct np_addr *host, uint16_t port)
{
	struct np_addr net;
	uint16_t eport;

	if (tlen == 1 && t[0] == '*')
		return true;
	if (!split_entry(&t, &tlen, &eport) || tlen == 0)
		return false;
	if (eport != 0 && eport != port)
		return false;
	/* An address is compared as an address, never as a name (curl). */
	if (host->family)
		return parse_addr(t, tlen, true, &net) &&
		    prefix_equal(&net, host);
	return name_match(t, tlen, name, nlen);
}

static bool
is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * curl's NO_PROXY (lib/noproxy.c, curl(1) ENVIRONMENT): a list of names,
 * domain suffixes, IP addresses and CIDR ranges; names never match
 * addresses and nothing is resolved.  Where we are broader than curl, on
 * purpose, to predict what any common client bypasses: "*" counts as an
 * entry anywhere in the list (curl only honours "*" as the whole value,
 * Go anywhere), whitespace alone separates entries (curl stops at an
 * entry not followed by a comma), and "host:port" entries match that port
 * only (Go's rule; curl never matches them).
 */
bool
no_proxy_match(const char *no_proxy, const char *host, uint16_t port)
{
	struct np_addr h;
	char name[256];
	size_t nlen, len, i, start;
	bool bracketed;

	if (!no_proxy || !host)
		return false;
	nlen = strnlen(host, sizeof(name));
	bracketed = nlen >= 2 && host[0] == '[' && host[nlen - 1] == ']';
	if (bracketed) {
		host++;
		nlen -= 2;
	}
	if (nlen == 0 || nlen >= sizeof(name))
		return false;
	memcpy(name, host, nlen);
	name[nlen] = '\0';
	memset(&h, 0, sizeof(h));
	if (!parse_addr(name, nlen, false, &h)) {
		h.family = 0;
		/* "example.com." is "example.com" (curl). */
		if (name[nlen - 1] == '.')
			nlen--;
	}
	/* Brackets only ever hold an IPv6 address (RFC 3986 3.2.2). */
	if (bracketed && h.family != AF_INET6)
		return false;
	len = strnlen(no_proxy, PROXY_NO_PROXY_MAX);
	for (i = 0; i < len;) {
		while (i < len && is_sep(no_proxy[i]))
			i++;
		start = i;
		while (i < len && !is_sep(no_proxy[i]))
			i++;
		if (i > start &&
		    entry_match(no_proxy + start, i - start, name, nlen, &h,
		        port))
			return true;
	}
	return false;
}
