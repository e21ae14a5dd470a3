/*
 * resolvconf — resolv.conf(5) and hosts(5) as libc reads them.  See
 * resolvconf.h.
 *
 * resolv.conf follows glibc 2.26 and later (resolv/res_init.c):
 *
 *  - A keyword counts only at the very start of a line and followed by a
 *    space or a tab; a line starting with '#' or ';' is a comment.  There
 *    are no comments after a value: "nameserver 10.0.0.1#x" is a bad
 *    address, while "nameserver 10.0.0.1 # x" works because the address
 *    ends at the first blank.
 *  - nameserver: the word is an IPv4 address as inet_aton() reads it
 *    ("10.1" is 10.0.0.1, "010.0.0.1" is 8.0.0.1), else an IPv6 address
 *    with an optional %zone.  A line libc cannot read is skipped without a
 *    word, so a file edited on Windows ("\r" before the newline) leaves
 *    libc with no name server at all: we count it in line_errors.
 *  - search and domain: the last line wins; search takes every blank-
 *    separated word, domain only the first.
 *  - options: ndots:, timeout: and attempts: take atoi() of what follows
 *    (so "ndots:x" is 0) clamped to 15, 30 and 5; the flag options match
 *    as prefixes, as glibc's strncmp() does.
 *  - Only three name servers are queried (MAXNS); no name server at all
 *    means 127.0.0.1, which we leave to the caller to say.
 *  - The environment (LOCALDOMAIN, RES_OPTIONS) is not read here.
 *
 * musl (src/network/resolvconf.c) differs: it clamps timeout to 60 and
 * attempts to 10, ignores options whose value is not a number, knows no
 * flag options (rotate, edns0, ...), skips lines longer than 255 bytes,
 * keeps a search line as one string of at most 255 bytes, and drops a name
 * server whose %zone names no interface.
 *
 * hosts follows glibc's nss_files: '#' starts a comment anywhere, fields
 * are separated by any white space, the address is read by inet_pton()
 * (strict dotted quad, IPv6 without a zone), names compare without regard
 * to ASCII case, and every matching line adds its address (glibc's
 * "multi on", the default since 2.26).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "resolvconf.h"

/* RES_MAXNDOTS, RES_MAXRETRANS and RES_MAXRETRY in glibc's resolv.h. */
#define RESOLV_NDOTS_MAX 15
#define RESOLV_TIMEOUT_MAX 30
#define RESOLV_ATTEMPTS_MAX 5

/* A piece of the text: not NUL-terminated. */
struct span {
	const char *p;
	size_t n;
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* isspace() in the C locale, less the newline that ends the line. */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The next line of TEXT at *POS, without its newline. */
static bool
line_next(const char *text, size_t n, size_t *pos, struct span *ret)
{
	const char *nl;

	if (*pos >= n)
		return false;
	ret->p = text + *pos;
	nl = memchr(ret->p, '\n', n - *pos);
	ret->n = nl ? (size_t)(nl - ret->p) : n - *pos;
	*pos += ret->n + 1;
	return true;
}

/* Cuts the next word off the front of S. */
static bool
word_next(struct span *s, bool (*sep)(char), struct span *ret)
{
	size_t i = 0, start;

	while (i < s->n && sep(s->p[i]))
		i++;
	if (i == s->n)
		return false;
	start = i;
	while (i < s->n && !sep(s->p[i]))
		i++;
	ret->p = s->p + start;
	ret->n = i - start;
	s->p += i;
	s->n -= i;
	return true;
}

/* glibc's MATCH(): KW at the start of LINE, then a blank. */
static bool
keyword(struct span line, const char *kw, struct span *ret_rest)
{
	size_t len = strlen(kw);

	if (line.n <= len || memcmp(line.p, kw, len) != 0 ||
	    !is_blank(line.p[len]))
		return false;
	ret_rest->p = line.p + len;
	ret_rest->n = line.n - len;
	return true;
}

static bool
has_prefix(struct span w, const char *prefix)
{
	size_t len = strlen(prefix);

	return w.n >= len && memcmp(w.p, prefix, len) == 0;
}

/* Copies S into BUF as a C string; false if it does not fit. */
static bool
span_cstr(struct span s, char *buf, size_t cap)
{
	if (s.n >= cap || memchr(s.p, 0, s.n))
		return false;
	memcpy(buf, s.p, s.n);
	buf[s.n] = 0;
	return true;
}

static unsigned int
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool
span_caseeq(struct span s, const char *name, size_t len)
{
	size_t i;

	if (s.n != len)
		return false;
	for (i = 0; i < len; i++)
		if (lower((unsigned char)s.p[i]) !=
		    lower((unsigned char)name[i]))
			return false;
	return true;
}

/*
 * One part of an inet_aton() address: decimal, octal after a leading 0,
 * hexadecimal after 0x.  Values are capped just past 32 bits so that
 * nothing overflows; the caller rejects them.
 */
static bool
aton_part(struct span s, size_t *i, unsigned long long *ret)
{
	unsigned long long v = 0;
	unsigned int base = 10, digits = 0;

	if (*i >= s.n || !is_digit(s.p[*i]))
		return false;
	if (s.p[*i] == '0') {
		base = 8;
		if (*i + 1 < s.n &&
		    (s.p[*i + 1] == 'x' || s.p[*i + 1] == 'X')) {
			base = 16;
			*i += 2;
		}
	}
	for (; *i < s.n; (*i)++) {
		unsigned int c = lower((unsigned char)s.p[*i]), d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		if (d >= base)
			return false;
		if (v <= 0xffffffffULL)
			v = v * base + d;
		digits++;
	}
	*ret = v;
	return digits > 0;
}

/*
 * inet_aton() without trailing text, as glibc's __inet_aton_exact(): one
 * to four parts, the last filling the bytes that are left ("10.1" is
 * 10.0.0.1).
 */
static bool
parse_aton(struct span s, uint8_t ret[4])
{
	unsigned long long part[4], v;
	unsigned int np = 0, k;
	size_t i = 0;

	for (;;) {
		if (np == 4 || !aton_part(s, &i, &part[np]))
			return false;
		np++;
		if (i == s.n)
			break;
		if (s.p[i] != '.')
			return false;
		i++;
	}
	v = part[np - 1];
	if (v >> (8 * (5 - np)) != 0)
		return false;
	for (k = 0; k + 1 < np; k++) {
		if (part[k] > 0xff)
			return false;
		v |= part[k] << (8 * (3 - k));
	}
	ret[0] = (uint8_t)(v >> 24);
	ret[1] = (uint8_t)(v >> 16);
	ret[2] = (uint8_t)(v >> 8);
	ret[3] = (uint8_t)v;
	return true;
}

/*
 * The zone of an IPv6 name server.  glibc takes a number for any address
 * and an interface name for link-local ones, and keeps the server when
 * neither works (scope 0); a name needs if_nametoindex(), which is the
 * caller's to call.  Returns false when the zone is dropped.
 */
static bool
parse_zone(const char *zone, struct resolv_ns *ns)
{
	unsigned long long v = 0;
	size_t i, len = strlen(zone);

	if (len == 0 || len >= sizeof(ns->scope))
		return false;
	memcpy(ns->scope, zone, len + 1);
	for (i = 0; i < len && is_digit(zone[i]); i++)
		if (v <= 0xffffffffULL)
			v = v * 10 + (unsigned int)(zone[i] - '0');
	if (i == len && v <= 0xffffffffULL)
		ns->scope_id = (unsigned int)v;
	return true;
}

/*
 * One nameserver word.  Returns 0, 1 when the server is kept but its zone
 * dropped (libc does the same, silently), -EINVAL when libc skips it.
 */
static int
parse_ns(struct span w, struct resolv_ns *ret)
{
	char buf[64], *zone;
	struct resolv_ns ns;
	size_t len;
	int r = 0;

	memset(&ns, 0, sizeof(ns));
	if (parse_aton(w, ns.addr)) {
		ns.family = AF_INET;
	} else {
		if (!span_cstr(w, buf, sizeof(buf)))
			return -EINVAL;
		zone = strchr(buf, '%');
		if (zone)
			*zone++ = 0;
		if (inet_pton(AF_INET6, buf, ns.addr) != 1)
			return -EINVAL;
		ns.family = AF_INET6;
		if (zone && !parse_zone(zone, &ns))
			r = 1;
	}
	if (!inet_ntop(ns.family, ns.addr, ns.text, sizeof(ns.text)))
		return -EINVAL;
	len = strlen(ns.text);
	/* 46 for the address, 1 for '%', 15 for the zone: it fits. */
	if (ns.scope[0] && len + 1 + strlen(ns.scope) < sizeof(ns.text)) {
		ns.text[len] = '%';
		memcpy(ns.text + len + 1, ns.scope, strlen(ns.scope) + 1);
	}
	*ret = ns;
	return r;
}

static void
add_ns(struct span rest, struct resolv_conf *c, unsigned int *good)
{
	struct resolv_ns ns;
	struct span w;
	int r;

	/* glibc ends the address at the first space, tab or newline. */
	if (!word_next(&rest, is_blank, &w) || (r = parse_ns(w, &ns)) < 0) {
		c->line_errors++;
		return;
	}
	if (r > 0)
		c->line_errors++;
	if (*good >= RESOLV_LIBC_NS)
		c->ignored_ns++;
	(*good)++;
	if (c->nns < RESOLV_MAX_NS)
		c->ns[c->nns++] = ns;
}

/* search (every word) or domain (ONE, the first): replaces the list. */
static void
set_search(struct span rest, bool one, struct resolv_conf *c)
{
	struct span w, probe = rest;

	/* glibc leaves the list alone when the line has no word. */
	if (!word_next(&probe, is_blank, &w))
		return;
	c->nsearch = 0;
	c->ignored_search = 0;
	while (word_next(&rest, is_blank, &w)) {
		if (c->nsearch < RESOLV_MAX_SEARCH &&
		    span_cstr(w, c->search[c->nsearch], RESOLV_NAME_MAX + 1))
			c->nsearch++;
		else
			c->ignored_search++;
		if (one)
			break;
	}
}

/*
 * atoi() of what follows the colon, clamped to MAX.  atoi() reads a word
 * without digits as 0, and so does glibc; we count it as an error too.
 */
static unsigned int
option_number(struct span w, size_t skip, unsigned int max,
    unsigned int *errors)
{
	unsigned int v = 0;
	size_t i;

	if (skip >= w.n || !is_digit(w.p[skip])) {
		(*errors)++;
		return 0;
	}
	for (i = skip; i < w.n && is_digit(w.p[i]); i++) {
		v = v * 10 + (unsigned int)(w.p[i] - '0');
		if (v > max)
			return max;
	}
	return v;
}

static void
set_options(struct span rest, struct resolv_conf *c)
{
	struct span w;

	while (word_next(&rest, is_blank, &w)) {
		if (has_prefix(w, "ndots:"))
			c->ndots = option_number(w, 6, RESOLV_NDOTS_MAX,
			    &c->line_errors);
		else if (has_prefix(w, "timeout:"))
			c->timeout_s = option_number(w, 8, RESOLV_TIMEOUT_MAX,
			    &c->line_errors);
		else if (has_prefix(w, "attempts:"))
			c->attempts = option_number(w, 9, RESOLV_ATTEMPTS_MAX,
			    &c->line_errors);
		else if (has_prefix(w, "rotate"))
			c->rotate = true;
		else if (has_prefix(w, "edns0"))
			c->edns0 = true;
		else if (has_prefix(w, "use-vc"))
			c->use_vc = true;
		else if (has_prefix(w, "single-request"))
			c->single_request = true; /* and -reopen */
		else if (has_prefix(w, "no-aaaa"))
			c->no_aaaa = true;
		else if (has_prefix(w, "trust-ad"))
			c->trust_ad = true;
		/* inet6, no-tld-query, no-reload, debug...: not ours. */
	}
}

static void
parse_line(struct span line, struct resolv_conf *c, unsigned int *good)
{
	struct span rest, w, probe = line;

	if (line.n == 0 || line.p[0] == '#' || line.p[0] == ';')
		return;
	if (keyword(line, "nameserver", &rest))
		add_ns(rest, c, good);
	else if (keyword(line, "search", &rest))
		set_search(rest, false, c);
	else if (keyword(line, "domain", &rest))
		set_search(rest, true, c);
	else if (keyword(line, "options", &rest))
		set_options(rest, c);
	else if (keyword(line, "sortlist", &rest))
		return; /* only gethostbyname() sorts; not a check's business */
	else if (word_next(&probe, is_space, &w))
		c->unknown_lines++;
}

int
resolvconf_parse(const char *text, size_t n, struct resolv_conf *ret)
{
	struct resolv_conf c;
	unsigned int good = 0;
	struct span line;
	size_t pos = 0;

	if ((!text && n > 0) || !ret)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.timeout_s = 5;
	c.attempts = 2;
	c.ndots = 1;
	while (line_next(text, n, &pos, &line))
		parse_line(line, &c, &good);
	*ret = c;
	return 0;
}

/* One hosts line: does it name NAME, and with which address? */
static void
hosts_line(struct span line, const char *name, size_t nlen, bool *found,
    struct hosts_result *r)
{
	const char *hash = memchr(line.p, '#', line.n);
	struct span a, w, first;
	uint8_t addr[16];
	char buf[64];
	int family;

	if (hash)
		line.n = (size_t)(hash - line.p);
	if (!word_next(&line, is_space, &a) || !span_cstr(a, buf, sizeof(buf)))
		return;
	if (inet_pton(AF_INET, buf, addr) == 1)
		family = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		family = AF_INET6;
	else
		return;
	if (!word_next(&line, is_space, &first))
		return;
	w = first;
	while (!span_caseeq(w, name, nlen))
		if (!word_next(&line, is_space, &w))
			return;
	if (!*found && !span_cstr(first, r->canonical, sizeof(r->canonical)))
		memcpy(r->canonical, name, nlen + 1);
	if (!*found)
		r->first_family = family;
	*found = true;
	if (family == AF_INET && r->naddr4 < HOSTS_MAX_ADDR)
		memcpy(r->addr4[r->naddr4++], addr, 4);
	else if (family == AF_INET6 && r->naddr6 < HOSTS_MAX_ADDR)
		memcpy(r->addr6[r->naddr6++], addr, 16);
}

/*
 * 0 with the addresses, -ENOENT when no line names NAME, -EINVAL for a
 * name that cannot be one (empty, or longer than RESOLV_NAME_MAX).
 */
int
hosts_lookup(const char *text, size_t n, const char *name,
    struct hosts_result *ret)
{
	struct hosts_result r;
	struct span line;
	bool found = false;
	size_t pos = 0, nlen;

	if ((!text && n > 0) || !name || !ret)
		return -EINVAL;
	nlen = strnlen(name, RESOLV_NAME_MAX + 1);
	if (nlen == 0 || nlen > RESOLV_NAME_MAX)
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	while (line_next(text, n, &pos, &line))
		hosts_line(line, name, nlen, &found, &r);
	if (!found)
		return -ENOENT;
	*ret = r;
	return 0;
}

/*
 * Reads at most RESOLV_FILE_MAX bytes of PATH into BUF (of that size plus
 * one).  A longer file is cut after its last whole line, so that no line is
 * read half (musl skips such lines too), and *RET_TRUNCATED says so.
 */
static int
load(const char *path, char *buf, size_t *ret_len, bool *ret_truncated)
{
	size_t len = 0;
	bool truncated;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	while (len <= RESOLV_FILE_MAX) {
		ssize_t r = read(fd, buf + len, RESOLV_FILE_MAX + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = -errno;

			(void)close(fd);
			return e;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	(void)close(fd);
	truncated = len > RESOLV_FILE_MAX;
	if (truncated) {
		const char *nl = memrchr(buf, '\n', RESOLV_FILE_MAX);

		len = nl ? (size_t)(nl - buf) + 1 : 0;
	}
	*ret_len = len;
	*ret_truncated = truncated;
	return 0;
}

/*
 * The buffer lives on the stack: 64 KiB is well within the main thread's
 * stack, and keeps these callable from anywhere without allocation.
 */
int
resolvconf_load(const char *path, struct resolv_conf *ret)
{
	char buf[RESOLV_FILE_MAX + 1];
	struct resolv_conf c;
	bool truncated = false;
	size_t len = 0;
	int r;

	if (!path || !ret)
		return -EINVAL;
	if ((r = load(path, buf, &len, &truncated)) < 0 ||
	    (r = resolvconf_parse(buf, len, &c)) < 0)
		return r;
	c.truncated = truncated;
	*ret = c;
	return 0;
}

/* -ENOENT also when PATH does not exist: either way hosts has no answer. */
int
hosts_load_lookup(const char *path, const char *name, struct hosts_result *ret)
{
	char buf[RESOLV_FILE_MAX + 1];
	bool truncated = false;
	size_t len = 0;
	int r;

	if (!path || !name || !ret)
		return -EINVAL;
	if ((r = load(path, buf, &len, &truncated)) < 0)
		return r;
	return hosts_lookup(buf, len, name, ret);
}
