/*
 * dnsstub ADDR:PORT [NAME=ACTION...] — a scriptable DNS server for the
 * netcheck tests (tests/integration/test_netcheck.py).
 *
 * Serves UDP and TCP on ADDR:PORT (IPv4).  Each query's name (compared
 * without regard to case; "." is the root, "*" matches any name) picks
 * the first matching rule's ACTION:
 *
 *   a:IP       NOERROR with one A record IP (for a type A question;
 *              other types get NOERROR without answers)
 *   nxdomain   rcode 3
 *   servfail   rcode 2
 *   refused    rcode 5
 *   tc:IP      over UDP: an empty reply with the TC bit set; over TCP:
 *              as a:IP (so a client must retry over TCP to get it)
 *   drop       no reply at all (TCP: the connection is closed)
 *
 * A name without a rule gets REFUSED.  Prints "dnsstub ready" once both
 * sockets are bound, then one line per query: "udp|tcp NAME TYPE ACTION".
 * Runs until killed.  Exit status 2 on a bad command line, 1 when it
 * cannot bind.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_RULES 32
#define MAX_CONNS 16

struct rule {
	char name[256];
	char action[16];
	struct in_addr ip;
};

static struct rule rules[MAX_RULES];
static int nrules;

struct conn {
	int fd;
	uint8_t buf[2 + 65535];
	size_t len;
};

static struct conn conns[MAX_CONNS];

/* Question name in dotted form ("." for the root); returns the offset
 * after QTYPE/QCLASS, or 0 when the message is not a query we read. */
static size_t
read_question(const uint8_t *m, size_t n, char *name, size_t cap,
    unsigned *qtype)
{
	size_t off = 12, o = 0;

	if (n < 12 || (m[2] & 0x80) || m[4] != 0 || m[5] != 1)
		return 0;
	while (off < n && m[off] != 0) {
		size_t l = m[off];

		if (l > 63 || off + 1 + l > n || o + l + 2 > cap)
			return 0;
		if (o)
			name[o++] = '.';
		memcpy(name + o, m + off + 1, l);
		o += l;
		off += 1 + l;
	}
	if (off + 5 > n)
		return 0;
	if (o == 0)
		name[o++] = '.';
	name[o] = 0;
	*qtype = (unsigned)m[off + 1] << 8 | m[off + 2];
	return off + 5;
}

static const struct rule *
find_rule(const char *name)
{
	int i;

	for (i = 0; i < nrules; i++)
		if (strcmp(rules[i].name, "*") == 0 ||
		    strcasecmp(rules[i].name, name) == 0)
			return &rules[i];
	return NULL;
}

/* Builds the reply to query m[0..n) into out; returns its length, or 0
 * for "no reply". */
static size_t
answer(const uint8_t *m, size_t n, bool over_tcp, uint8_t *out, size_t cap,
    const char *proto)
{
	char name[256];
	unsigned qtype = 0;
	size_t qend = read_question(m, n, name, sizeof(name), &qtype);
	const struct rule *r;
	const char *act;
	int rcode = 0, tc = 0, with_a = 0;
	size_t len;

	if (!qend || qend + 16 > cap)
		return 0;
	r = find_rule(name);
	act = r ? r->action : "refused";
	printf("%s %s %u %s\n", proto, name, qtype, act);
	fflush(stdout);
	if (strcmp(act, "drop") == 0)
		return 0;
	if (strcmp(act, "nxdomain") == 0)
		rcode = 3;
	else if (strcmp(act, "servfail") == 0)
		rcode = 2;
	else if (strcmp(act, "refused") == 0)
		rcode = 5;
	else if (strcmp(act, "tc") == 0 && !over_tcp)
		tc = 1;
	else
		with_a = qtype == 1; /* a, or tc over TCP */
	memcpy(out, m, qend);
	out[2] =
	    (uint8_t)(0x80 | (m[2] & 0x79) | (tc ? 0x02 : 0)); /* QR, op, RD */
	out[3] = (uint8_t)(0x80 | rcode); /* RA */
	out[6] = 0;
	out[7] = (uint8_t)with_a;
	out[8] = out[9] = out[10] = out[11] = 0;
	len = qend;
	if (with_a) {
		static const uint8_t rr[] = { 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0,
			60, 0, 4 };

		memcpy(out + len, rr, sizeof(rr));
		len += sizeof(rr);
		memcpy(out + len, &r->ip, 4);
		len += 4;
	}
	return len;
}

static int
parse_rule(const char *s, struct rule *r)
{
	const char *eq = strchr(s, '='), *act;
	const char *colon;
	size_t nl;

	if (!eq || eq == s)
		return -1;
	nl = (size_t)(eq - s);
	if (nl >= sizeof(r->name))
		return -1;
	memcpy(r->name, s, nl);
	r->name[nl] = 0;
	/* "name." and "name" are the same; keep "." itself. */
	if (nl > 1 && r->name[nl - 1] == '.')
		r->name[nl - 1] = 0;
	act = eq + 1;
	colon = strchr(act, ':');
	if (colon) {
		size_t al = (size_t)(colon - act);

		if (al >= sizeof(r->action))
			return -1;
		memcpy(r->action, act, al);
		r->action[al] = 0;
		if (inet_pton(AF_INET, colon + 1, &r->ip) != 1)
			return -1;
		return strcmp(r->action, "a") == 0 ||
		        strcmp(r->action, "tc") == 0
		    ? 0
		    : -1;
	}
	if (strlen(act) >= sizeof(r->action))
		return -1;
	strcpy(r->action, act);
	return strcmp(act, "nxdomain") == 0 || strcmp(act, "servfail") == 0 ||
	        strcmp(act, "refused") == 0 || strcmp(act, "drop") == 0
	    ? 0
	    : -1;
}

static void
conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void
conn_read(struct conn *c)
{
	uint8_t out[2 + 4096];
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	size_t mlen, olen;

	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (c->len < 2)
		return;
	mlen = (size_t)c->buf[0] << 8 | c->buf[1];
	if (c->len < 2 + mlen)
		return;
	olen = answer(c->buf + 2, mlen, true, out + 2, sizeof(out) - 2, "tcp");
	if (olen) {
		out[0] = (uint8_t)(olen >> 8);
		out[1] = (uint8_t)olen;
		(void)!write(c->fd, out, olen + 2);
	}
	conn_close(c);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char host[64];
	const char *colon;
	int u, t, i, one = 1;

	if (argc < 2 || !(colon = strrchr(argv[1], ':')) ||
	    (size_t)(colon - argv[1]) >= sizeof(host)) {
		fprintf(stderr, "usage: dnsstub ADDR:PORT [NAME=ACTION...]\n");
		return 2;
	}
	memcpy(host, argv[1], (size_t)(colon - argv[1]));
	host[colon - argv[1]] = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "dnsstub: bad address '%s'\n", host);
		return 2;
	}
	for (i = 2; i < argc; i++) {
		if (nrules == MAX_RULES ||
		    parse_rule(argv[i], &rules[nrules])) {
			fprintf(stderr, "dnsstub: bad rule '%s'\n", argv[i]);
			return 2;
		}
		nrules++;
	}
	u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (u < 0 || t < 0)
		return 1;
	(void)setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(u, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    bind(t, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(t, 16) < 0) {
		fprintf(stderr, "dnsstub: bind %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	for (i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	printf("dnsstub ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[2 + MAX_CONNS];
		int np = 2, map[MAX_CONNS];

		p[0].fd = u;
		p[0].events = POLLIN;
		p[1].fd = t;
		p[1].events = POLLIN;
		for (i = 0; i < MAX_CONNS; i++)
			if (conns[i].fd >= 0) {
				p[np].fd = conns[i].fd;
				p[np].events = POLLIN;
				map[np - 2] = i;
				np++;
			}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (p[0].revents & POLLIN) {
			uint8_t m[4096], out[4096];
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(u, m, sizeof(m), 0,
			    (struct sockaddr *)&from, &fl);
			size_t olen;

			if (n > 0) {
				olen = answer(m, (size_t)n, false, out,
				    sizeof(out), "udp");
				if (olen)
					(void)sendto(u, out, olen, 0,
					    (struct sockaddr *)&from, fl);
			}
		}
		if (p[1].revents & POLLIN) {
			int c = accept4(t, NULL, NULL, SOCK_CLOEXEC);

			for (i = 0; c >= 0 && i < MAX_CONNS; i++)
				if (conns[i].fd < 0) {
					conns[i].fd = c;
					conns[i].len = 0;
					c = -1;
				}
			if (c >= 0)
				close(c);
		}
		for (i = 2; i < np; i++)
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(&conns[map[i - 2]]);
	}
}
