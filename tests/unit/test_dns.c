/*
 * Unit tests of the DNS wire format: queries byte for byte, replies built
 * by hand (compression, CNAME chains, every rcode we name), and hostile
 * replies: pointer loops, bad lengths, every prefix of a good reply, and
 * deterministic random damage, all under ASan and UBSan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../netcheck/dns.c"

/* A reply under construction. */
struct pkt {
	uint8_t b[2048];
	size_t n;
};

static void
p_bytes(struct pkt *p, const void *d, size_t n)
{
	assert_true(p->n + n <= sizeof(p->b));
	memcpy(p->b + p->n, d, n);
	p->n += n;
}

static void
p_u8(struct pkt *p, unsigned int v)
{
	uint8_t b = (uint8_t)v;

	p_bytes(p, &b, 1);
}

static void
p_u16(struct pkt *p, unsigned int v)
{
	p_u8(p, v >> 8);
	p_u8(p, v & 0xff);
}

static void
p_u32(struct pkt *p, uint32_t v)
{
	p_u16(p, v >> 16);
	p_u16(p, v & 0xffff);
}

/* Labels of TEXT ("a.b"), without the root; returns where they start. */
static size_t
p_labels(struct pkt *p, const char *text)
{
	size_t at = p->n;

	while (*text) {
		size_t len = strcspn(text, ".");

		p_u8(p, (unsigned int)len);
		p_bytes(p, text, len);
		text += len;
		if (*text == '.')
			text++;
	}
	return at;
}

/* A whole name, ending in the root label. */
static size_t
p_name(struct pkt *p, const char *text)
{
	size_t at = p_labels(p, text);

	p_u8(p, 0);
	return at;
}

static void
p_ptr(struct pkt *p, size_t off)
{
	p_u16(p, 0xc000u | (unsigned int)off);
}

static void
p_header(struct pkt *p, unsigned int id, unsigned int flags, unsigned int qd,
    unsigned int an, unsigned int ns, unsigned int ar)
{
	p->n = 0;
	p_u16(p, id);
	p_u16(p, flags);
	p_u16(p, qd);
	p_u16(p, an);
	p_u16(p, ns);
	p_u16(p, ar);
}

/* Type, class, TTL; returns where RDLENGTH goes, for p_rdlen_end(). */
static size_t
p_rr(struct pkt *p, unsigned int type, unsigned int klass)
{
	size_t at;

	p_u16(p, type);
	p_u16(p, klass);
	p_u32(p, 300);
	at = p->n;
	p_u16(p, 0);
	return at;
}

static void
p_rdlen_end(struct pkt *p, size_t at)
{
	size_t len = p->n - at - 2;

	p->b[at] = (uint8_t)(len >> 8);
	p->b[at + 1] = (uint8_t)len;
}

static void
p_a(struct pkt *p, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	size_t at = p_rr(p, DNS_TYPE_A, DNS_CLASS_IN);
	uint8_t ip[4] = { a, b, c, d };

	p_bytes(p, ip, 4);
	p_rdlen_end(p, at);
}

static const uint8_t v6_doc[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 1 };

#define QR_RD_RA 0x8180u
#define TC 0x0200u

/*
 * The reference reply: www.example.com A, answered by a CNAME to
 * edge.example.com (compressed into the question), two A and one AAAA
 * there, an SOA in authority and an EDNS OPT in additional.
 */
static void
build_full(struct pkt *p, unsigned int flags)
{
	size_t at, edge;

	p_header(p, 0xbeef, flags, 1, 4, 1, 1);
	p_name(p, "www.example.com");
	p_u16(p, DNS_TYPE_A);
	p_u16(p, DNS_CLASS_IN);
	p_ptr(p, 12);
	at = p_rr(p, DNS_TYPE_CNAME, DNS_CLASS_IN);
	edge = p_labels(p, "edge");
	p_ptr(p, 16); /* example.com inside the question */
	p_rdlen_end(p, at);
	p_ptr(p, edge);
	p_a(p, 192, 0, 2, 1);
	p_ptr(p, edge);
	p_a(p, 192, 0, 2, 2);
	p_ptr(p, edge);
	at = p_rr(p, DNS_TYPE_AAAA, DNS_CLASS_IN);
	p_bytes(p, v6_doc, 16);
	p_rdlen_end(p, at);
	p_ptr(p, 16);
	at = p_rr(p, DNS_TYPE_SOA, DNS_CLASS_IN);
	p_labels(p, "ns1");
	p_ptr(p, 16);
	p_labels(p, "hostmaster");
	p_ptr(p, 16);
	p_u32(p, 2024010101);
	p_u32(p, 7200);
	p_u32(p, 3600);
	p_u32(p, 1209600);
	p_u32(p, 300);
	p_rdlen_end(p, at);
	p_u8(p, 0); /* OPT: root owner, class = UDP payload size */
	at = p_rr(p, DNS_TYPE_OPT, 1232);
	p_rdlen_end(p, at);
}

/* A reply for NAME/QTYPE with only a header and the question. */
static void
build_question(struct pkt *p, unsigned int id, unsigned int flags,
    const char *name, unsigned int qtype, unsigned int an)
{
	p_header(p, id, flags, 1, an, 0, 0);
	p_name(p, name);
	p_u16(p, qtype);
	p_u16(p, DNS_CLASS_IN);
}

static int
parse(const struct pkt *p, const char *name, unsigned int qtype,
    struct dns_reply *r)
{
	return dns_parse_reply(p->b, p->n, 0xbeef, name, (uint16_t)qtype, r);
}

static void
test_query_bytes(void **state)
{
	static const uint8_t want[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 7, 'e', 'x', 'a', 'm', 'p',
		'l', 'e', 3, 'c', 'o', 'm', 0, 0x00, 0x01, 0x00, 0x01 };
	static const uint8_t root[] = { 0xab, 0xcd, 0x00, 0x00, 0x00, 0x01,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0, 0x00, 0x02, 0x00, 0x01 };
	uint8_t buf[DNS_QUERY_MAX];
	size_t len = 0;

	(void)state;
	assert_int_equal(dns_build_query(buf, sizeof(buf), 0x1234,
	                     "example.com", DNS_TYPE_A, true, &len),
	    0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* The trailing dot changes nothing. */
	len = 0;
	assert_int_equal(dns_build_query(buf, sizeof(buf), 0x1234,
	                     "example.com.", DNS_TYPE_A, true, &len),
	    0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* The resolver check's default: the root's NS, RD clear. */
	assert_int_equal(dns_build_query(buf, sizeof(buf), 0xabcd, ".",
	                     DNS_TYPE_NS, false, &len),
	    0);
	assert_int_equal(len, sizeof(root));
	assert_memory_equal(buf, root, sizeof(root));
	assert_int_equal(dns_build_query(buf, sizeof(buf), 0xabcd, "",
	                     DNS_TYPE_NS, false, &len),
	    0);
	assert_memory_equal(buf, root, sizeof(root));
	/* AAAA is type 28; the name is sent in the case given. */
	assert_int_equal(dns_build_query(buf, sizeof(buf), 1, "A.b",
	                     DNS_TYPE_AAAA, true, &len),
	    0);
	assert_int_equal(len, 12 + 5 + 4);
	assert_memory_equal(buf + 12, "\1A\1b\0\0\x1c\0\1", 9);
	/* A buffer of exactly the size works, one byte less does not. */
	assert_int_equal(dns_build_query(buf, sizeof(want), 7, "example.com",
	                     DNS_TYPE_A, true, &len),
	    0);
	len = 99;
	assert_int_equal(dns_build_query(buf, sizeof(want) - 1, 7,
	                     "example.com", DNS_TYPE_A, true, &len),
	    -ENOSPC);
	assert_int_equal(len, 99);
}

static void
test_query_names(void **state)
{
	uint8_t buf[DNS_QUERY_MAX + 16];
	char name[400];
	size_t len = 99;

	(void)state;
	static const char *const bad[] = { "a..b", ".a", "..", "a b", "a\\.b",
		"tab\there", "caf\xc3\xa9.example", "x\x7f", NULL };
	for (size_t i = 0; bad[i]; i++)
		assert_int_equal(dns_build_query(buf, sizeof(buf), 1, bad[i],
		                     DNS_TYPE_A, true, &len),
		    -EINVAL);
	assert_int_equal(
	    dns_build_query(buf, sizeof(buf), 1, NULL, DNS_TYPE_A, true, &len),
	    -EINVAL);
	assert_int_equal(len, 99);
	/* Labels: 63 bytes is the most (RFC 1035 section 2.3.4). */
	memset(name, 'a', 63);
	strcpy(name + 63, ".com");
	assert_int_equal(
	    dns_build_query(buf, sizeof(buf), 1, name, DNS_TYPE_A, true, &len),
	    0);
	assert_int_equal(buf[12], 63);
	memset(name, 'a', 64);
	strcpy(name + 64, ".com");
	assert_int_equal(
	    dns_build_query(buf, sizeof(buf), 1, name, DNS_TYPE_A, true, &len),
	    -EINVAL);
	/* Names: 253 characters (255 on the wire) is the most. */
	memset(name, 'b', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = 0;
	assert_int_equal(
	    dns_build_query(buf, sizeof(buf), 1, name, DNS_TYPE_A, true, &len),
	    0);
	assert_int_equal(len, DNS_QUERY_MAX);
	name[253] = '.';
	name[254] = 0;
	assert_int_equal(
	    dns_build_query(buf, sizeof(buf), 1, name, DNS_TYPE_A, true, &len),
	    0);
	name[253] = 'b';
	assert_int_equal(
	    dns_build_query(buf, sizeof(buf), 1, name, DNS_TYPE_A, true, &len),
	    -EINVAL);
	/* Far too long, and without a NUL in the first 255 bytes read. */
	memset(name, 'c', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	assert_int_equal(
	    dns_build_query(buf, sizeof(buf), 1, name, DNS_TYPE_A, true, &len),
	    -EINVAL);
	/* Underscores and digits are fine (SRV names, RFC 2782). */
	assert_int_equal(dns_build_query(buf, sizeof(buf), 1,
	                     "_dns._udp.10-0-0-1.example", DNS_TYPE_A, true,
	                     &len),
	    0);
}

static void
test_tcp_framing(void **state)
{
	uint8_t buf[DNS_QUERY_MAX + 2], msg[4] = { 1, 2, 3, 4 };
	size_t len = 0, qlen = 0, mlen = 0;

	(void)state;
	/* Build at buf + 2, frame in place. */
	assert_int_equal(dns_build_query(buf + 2, sizeof(buf) - 2, 0x1234,
	                     "example.com", DNS_TYPE_A, true, &qlen),
	    0);
	assert_int_equal(dns_tcp_frame(buf, sizeof(buf), buf + 2, qlen, &len),
	    0);
	assert_int_equal(len, qlen + 2);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[1], qlen);
	assert_int_equal(buf[2], 0x12);
	assert_int_equal(buf[3], 0x34);
	/* Or copy from elsewhere. */
	assert_int_equal(dns_tcp_frame(buf, 6, msg, 4, &len), 0);
	assert_memory_equal(buf, "\0\4\1\2\3\4", 6);
	assert_int_equal(dns_tcp_frame(buf, 5, msg, 4, &len), -ENOSPC);
	assert_int_equal(dns_tcp_frame(buf, 0x20000, msg, 0x10000, &len),
	    -EMSGSIZE);
	/* Unframing waits for the whole message. */
	assert_int_equal(dns_tcp_unframe(buf, 0, &mlen), -EAGAIN);
	assert_int_equal(dns_tcp_unframe(buf, 1, &mlen), -EAGAIN);
	assert_int_equal(dns_tcp_unframe(buf, 5, &mlen), -EAGAIN);
	assert_int_equal(mlen, 0);
	assert_int_equal(dns_tcp_unframe(buf, 6, &mlen), 0);
	assert_int_equal(mlen, 4);
	assert_int_equal(dns_tcp_unframe(buf, 6 + 10, &mlen), 0);
	assert_int_equal(mlen, 4);
}

static void
test_reply_full(void **state)
{
	struct pkt p;
	struct dns_reply r;

	(void)state;
	build_full(&p, QR_RD_RA);
	assert_int_equal(parse(&p, "www.example.com", DNS_TYPE_A, &r), 0);
	assert_int_equal(r.id, 0xbeef);
	assert_true(r.qr);
	assert_true(r.rd);
	assert_true(r.ra);
	assert_false(r.aa);
	assert_false(r.tc);
	assert_int_equal(r.opcode, 0);
	assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(r.qdcount, 1);
	assert_int_equal(r.ancount, 4);
	assert_int_equal(r.nscount, 1);
	assert_int_equal(r.arcount, 1);
	assert_true(r.question_matches);
	assert_true(r.complete);
	assert_true(r.has_cname);
	assert_string_equal(r.cname, "edge.example.com");
	assert_int_equal(r.naddr4, 2);
	assert_memory_equal(r.addr4[0], "\xc0\x00\x02\x01", 4);
	assert_memory_equal(r.addr4[1], "\xc0\x00\x02\x02", 4);
	assert_int_equal(r.naddr6, 1);
	assert_memory_equal(r.addr6[0], v6_doc, 16);
	assert_int_equal(r.nother, 0);
	/* The question's case does not matter (RFC 4343; 0x20 mixing). */
	assert_int_equal(parse(&p, "WWW.Example.COM.", DNS_TYPE_A, &r), 0);
	assert_true(r.question_matches);
	assert_int_equal(r.naddr4, 2);
	/* Without a name to check, the reply's own question is followed. */
	assert_int_equal(parse(&p, NULL, DNS_TYPE_A, &r), 0);
	assert_true(r.question_matches);
	assert_int_equal(r.naddr4, 2);
	assert_string_equal(r.cname, "edge.example.com");
}

/* A chain over three names, in order, with strays that must not count. */
static void
test_reply_cname_chain(void **state)
{
	struct pkt p;
	struct dns_reply r;
	size_t at, b;

	(void)state;
	build_question(&p, 0xbeef, QR_RD_RA, "a.example", DNS_TYPE_A, 6);
	/* A stray first: an address of a name nobody asked for. */
	p_name(&p, "evil.example");
	p_a(&p, 6, 6, 6, 6);
	p_ptr(&p, 12);
	at = p_rr(&p, DNS_TYPE_CNAME, DNS_CLASS_IN);
	b = p_name(&p, "b.example");
	p_rdlen_end(&p, at);
	p_ptr(&p, b);
	at = p_rr(&p, DNS_TYPE_CNAME, DNS_CLASS_IN);
	p_labels(&p, "c");
	p_ptr(&p, b + 2); /* "example" of b.example */
	p_rdlen_end(&p, at);
	/* The chain has moved on: a.example's address no longer counts. */
	p_ptr(&p, 12);
	p_a(&p, 7, 7, 7, 7);
	p_name(&p, "C.EXAMPLE");
	p_a(&p, 10, 0, 0, 3);
	/* Another type is skipped by its length. */
	p_name(&p, "c.example");
	at = p_rr(&p, DNS_TYPE_TXT, DNS_CLASS_IN);
	p_bytes(&p, "\5hello", 6);
	p_rdlen_end(&p, at);
	assert_int_equal(parse(&p, "a.example", DNS_TYPE_A, &r), 0);
	assert_true(r.has_cname);
	assert_string_equal(r.cname, "c.example");
	assert_int_equal(r.naddr4, 1);
	assert_memory_equal(r.addr4[0], "\x0a\x00\x00\x03", 4);
	assert_int_equal(r.nother, 3);
	assert_true(r.complete);
}

static void
test_reply_many_addresses(void **state)
{
	struct pkt p;
	struct dns_reply r;
	unsigned int i;

	(void)state;
	build_question(&p, 0xbeef, QR_RD_RA, "many.example", DNS_TYPE_A, 20);
	for (i = 0; i < 20; i++) {
		p_ptr(&p, 12);
		p_a(&p, 10, 0, 0, (uint8_t)i);
	}
	assert_int_equal(parse(&p, "many.example", DNS_TYPE_A, &r), 0);
	assert_int_equal(r.naddr4, DNS_MAX_ADDR);
	assert_int_equal(r.addr4[7][3], 7);
	assert_false(r.has_cname);
	assert_string_equal(r.cname, "");
}

static void
test_reply_not_ours(void **state)
{
	struct pkt p;
	struct dns_reply r, keep;

	(void)state;
	build_full(&p, QR_RD_RA);
	memset(&r, 0x5a, sizeof(r));
	keep = r;
	assert_int_equal(dns_parse_reply(p.b, p.n, 0xbeee, "www.example.com",
	                     DNS_TYPE_A, &r),
	    -ENOMSG);
	assert_memory_equal(&r, &keep, sizeof(r));
	/* A query (QR clear) is not a reply either. */
	build_full(&p, 0x0100);
	assert_int_equal(parse(&p, "www.example.com", DNS_TYPE_A, &r), -ENOMSG);
	/* Shorter than a header: nothing to go by. */
	assert_int_equal(dns_parse_reply(p.b, 11, 0xbeef, NULL, 1, &r),
	    -EINVAL);
	assert_int_equal(dns_parse_reply(p.b, 0, 0xbeef, NULL, 1, &r), -EINVAL);
	assert_int_equal(dns_parse_reply(NULL, 100, 0xbeef, NULL, 1, &r),
	    -EINVAL);
	/* A name we could never have asked. */
	build_full(&p, QR_RD_RA);
	assert_int_equal(parse(&p, "a..b", DNS_TYPE_A, &r), -EINVAL);
	assert_memory_equal(&r, &keep, sizeof(r));
}

static void
test_reply_question_mismatch(void **state)
{
	struct pkt p;
	struct dns_reply r;

	(void)state;
	build_full(&p, QR_RD_RA);
	/* Another name: flagged, and its answers are not ours. */
	assert_int_equal(parse(&p, "www.example.org", DNS_TYPE_A, &r), 0);
	assert_false(r.question_matches);
	assert_int_equal(r.naddr4, 0);
	assert_int_equal(r.naddr6, 0);
	assert_false(r.has_cname);
	assert_int_equal(r.nother, 4);
	/* Another type. */
	assert_int_equal(parse(&p, "www.example.com", DNS_TYPE_AAAA, &r), 0);
	assert_false(r.question_matches);
	/* A suffix is not the name. */
	assert_int_equal(parse(&p, "example.com", DNS_TYPE_A, &r), 0);
	assert_false(r.question_matches);
	/* Class CH instead of IN. */
	build_question(&p, 0xbeef, QR_RD_RA, "version.bind", DNS_TYPE_TXT, 0);
	p.b[p.n - 1] = 3;
	assert_int_equal(parse(&p, "version.bind", DNS_TYPE_TXT, &r), 0);
	assert_false(r.question_matches);
	/* No question at all (allowed in FORMERR and NOTIMP replies). */
	p_header(&p, 0xbeef, 0x8001, 0, 0, 0, 0);
	assert_int_equal(parse(&p, "example.com", DNS_TYPE_A, &r), 0);
	assert_false(r.question_matches);
	assert_int_equal(r.rcode, DNS_RCODE_FORMERR);
	assert_true(r.complete);
	/* Two questions, the first ours: still not the reply to ours. */
	p_header(&p, 0xbeef, QR_RD_RA, 2, 0, 0, 0);
	p_name(&p, "example.com");
	p_u16(&p, DNS_TYPE_A);
	p_u16(&p, DNS_CLASS_IN);
	p_ptr(&p, 12);
	p_u16(&p, DNS_TYPE_A);
	p_u16(&p, DNS_CLASS_IN);
	assert_int_equal(parse(&p, "example.com", DNS_TYPE_A, &r), 0);
	assert_false(r.question_matches);
}

static void
test_reply_rcodes(void **state)
{
	struct pkt p;
	struct dns_reply r;
	size_t at;
	unsigned int rc;

	(void)state;
	/* NXDOMAIN with the zone's SOA in authority (RFC 2308). */
	p_header(&p, 0xbeef, 0x8583, 1, 0, 1, 0);
	p_name(&p, "nope.example");
	p_u16(&p, DNS_TYPE_A);
	p_u16(&p, DNS_CLASS_IN);
	p_ptr(&p, 17);
	at = p_rr(&p, DNS_TYPE_SOA, DNS_CLASS_IN);
	p_name(&p, "ns.example");
	p_ptr(&p, 12);
	p_bytes(&p, "01234567890123456789", 20);
	p_rdlen_end(&p, at);
	assert_int_equal(parse(&p, "nope.example", DNS_TYPE_A, &r), 0);
	assert_int_equal(r.rcode, DNS_RCODE_NXDOMAIN);
	assert_true(r.aa);
	assert_true(r.question_matches);
	assert_int_equal(r.naddr4, 0);
	assert_string_equal(dns_rcode_name(r.rcode), "NXDOMAIN");
	for (rc = 0; rc < 16; rc++) {
		build_question(&p, 0xbeef, 0x8180u | rc, "x.example",
		    DNS_TYPE_A, 0);
		assert_int_equal(parse(&p, "x.example", DNS_TYPE_A, &r), 0);
		assert_int_equal(r.rcode, rc);
		assert_true(r.question_matches);
	}
	assert_string_equal(dns_rcode_name(0), "NOERROR");
	assert_string_equal(dns_rcode_name(1), "FORMERR");
	assert_string_equal(dns_rcode_name(2), "SERVFAIL");
	assert_string_equal(dns_rcode_name(4), "NOTIMP");
	assert_string_equal(dns_rcode_name(5), "REFUSED");
	assert_string_equal(dns_rcode_name(9), "NOTAUTH");
	assert_string_equal(dns_rcode_name(11), "DSOTYPENI");
	assert_string_equal(dns_rcode_name(12), "UNKNOWN");
	assert_string_equal(dns_rcode_name(15), "UNKNOWN");
	assert_string_equal(dns_rcode_name(4096), "UNKNOWN");
	/* The opcode is kept (RFC 1035 section 4.1.1). */
	build_question(&p, 0xbeef, 0x8000u | 2u << 11 | 4u, "x.example",
	    DNS_TYPE_A, 0);
	assert_int_equal(parse(&p, "x.example", DNS_TYPE_A, &r), 0);
	assert_int_equal(r.opcode, 2);
	assert_int_equal(r.rcode, DNS_RCODE_NOTIMP);
}

/* TC: what is there is read, what the header promised is missing. */
static void
test_reply_truncated_flag(void **state)
{
	struct pkt p;
	struct dns_reply r;

	(void)state;
	build_question(&p, 0xbeef, QR_RD_RA | TC, "big.example", DNS_TYPE_A,
	    30);
	p_ptr(&p, 12);
	p_a(&p, 10, 0, 0, 1);
	p_ptr(&p, 12);
	p_a(&p, 10, 0, 0, 2);
	p_ptr(&p, 12);
	p_u16(&p, DNS_TYPE_A); /* cut inside the third record */
	assert_int_equal(parse(&p, "big.example", DNS_TYPE_A, &r), 0);
	assert_true(r.tc);
	assert_false(r.complete);
	assert_true(r.question_matches);
	assert_int_equal(r.ancount, 30);
	assert_int_equal(r.naddr4, 2);
	/* The same bytes without TC are malformed. */
	p.b[2] &= (uint8_t) ~(TC >> 8);
	assert_int_equal(parse(&p, "big.example", DNS_TYPE_A, &r), -EINVAL);
	/* Cut right after the CNAME: the chain so far is there. */
	build_full(&p, QR_RD_RA | TC);
	p.n = 12 + 17 + 4 + 2 + 10 + 7;
	assert_int_equal(parse(&p, "www.example.com", DNS_TYPE_A, &r), 0);
	assert_false(r.complete);
	assert_true(r.has_cname);
	assert_string_equal(r.cname, "edge.example.com");
	assert_int_equal(r.naddr4, 0);
	/* A TC reply that the server emptied (RFC 2181 section 9). */
	build_question(&p, 0xbeef, QR_RD_RA | TC, "big.example", DNS_TYPE_A, 0);
	assert_int_equal(parse(&p, "big.example", DNS_TYPE_A, &r), 0);
	assert_true(r.tc);
	assert_true(r.complete);
	assert_int_equal(r.naddr4, 0);
}

/* Every prefix of the reference reply, with and without TC. */
static void
test_reply_every_prefix(void **state)
{
	struct pkt p, t;
	struct dns_reply r, keep;
	unsigned int last4 = 0;
	size_t n;

	(void)state;
	build_full(&p, QR_RD_RA);
	build_full(&t, QR_RD_RA | TC);
	memset(&keep, 0x77, sizeof(keep));
	for (n = 0; n < p.n; n++) {
		/* A copy of exactly n bytes, so ASan sees any overread. */
		uint8_t *b = malloc(n ? n : 1);

		assert_non_null(b);
		memcpy(b, p.b, n);
		r = keep;
		assert_int_equal(dns_parse_reply(b, n, 0xbeef,
		                     "www.example.com", DNS_TYPE_A, &r),
		    -EINVAL);
		assert_memory_equal(&r, &keep, sizeof(r));
		memcpy(b, t.b, n);
		if (n < DNS_HEADER_LEN) {
			assert_int_equal(dns_parse_reply(b, n, 0xbeef,
			                     "www.example.com", DNS_TYPE_A, &r),
			    -EINVAL);
		} else {
			assert_int_equal(dns_parse_reply(b, n, 0xbeef,
			                     "www.example.com", DNS_TYPE_A, &r),
			    0);
			assert_true(r.tc);
			assert_false(r.complete);
			assert_true(r.naddr4 >= last4 && r.naddr4 <= 2);
			last4 = r.naddr4;
		}
		free(b);
	}
	assert_int_equal(last4, 2);
	assert_int_equal(parse(&t, "www.example.com", DNS_TYPE_A, &r), 0);
	assert_true(r.complete);
	/* Bytes after the last record are ignored. */
	p_u16(&p, 0);
	assert_int_equal(parse(&p, "www.example.com", DNS_TYPE_A, &r), 0);
	assert_true(r.complete);
}

static void
test_reply_bad_records(void **state)
{
	struct pkt p;
	struct dns_reply r;
	size_t at;

	(void)state;
	/* An A record of five bytes. */
	build_question(&p, 0xbeef, QR_RD_RA, "x.example", DNS_TYPE_A, 1);
	p_ptr(&p, 12);
	at = p_rr(&p, DNS_TYPE_A, DNS_CLASS_IN);
	p_bytes(&p, "\1\2\3\4\5", 5);
	p_rdlen_end(&p, at);
	assert_int_equal(parse(&p, "x.example", DNS_TYPE_A, &r), -EINVAL);
	/* An AAAA record of four. */
	build_question(&p, 0xbeef, QR_RD_RA, "x.example", DNS_TYPE_AAAA, 1);
	p_ptr(&p, 12);
	at = p_rr(&p, DNS_TYPE_AAAA, DNS_CLASS_IN);
	p_bytes(&p, "\1\2\3\4", 4);
	p_rdlen_end(&p, at);
	assert_int_equal(parse(&p, "x.example", DNS_TYPE_AAAA, &r), -EINVAL);
	/* A CNAME whose RDATA holds more than its name. */
	build_question(&p, 0xbeef, QR_RD_RA, "x.example", DNS_TYPE_A, 1);
	p_ptr(&p, 12);
	at = p_rr(&p, DNS_TYPE_CNAME, DNS_CLASS_IN);
	p_name(&p, "y.example");
	p_u8(&p, 0);
	p_rdlen_end(&p, at);
	assert_int_equal(parse(&p, "x.example", DNS_TYPE_A, &r), -EINVAL);
	/* RDLENGTH past the end. */
	build_question(&p, 0xbeef, QR_RD_RA, "x.example", DNS_TYPE_A, 1);
	p_ptr(&p, 12);
	at = p_rr(&p, DNS_TYPE_A, DNS_CLASS_IN);
	p_bytes(&p, "\1\2\3\4", 4);
	p_rdlen_end(&p, at);
	p.b[at + 1] = 200;
	assert_int_equal(parse(&p, "x.example", DNS_TYPE_A, &r), -EINVAL);
	/* An owner that points past the end. */
	build_question(&p, 0xbeef, QR_RD_RA, "x.example", DNS_TYPE_A, 1);
	p_ptr(&p, 0x3fff);
	p_a(&p, 1, 2, 3, 4);
	assert_int_equal(parse(&p, "x.example", DNS_TYPE_A, &r), -EINVAL);
	/* More records counted than present, no TC. */
	build_question(&p, 0xbeef, QR_RD_RA, "x.example", DNS_TYPE_A, 2);
	p_ptr(&p, 12);
	p_a(&p, 1, 2, 3, 4);
	assert_int_equal(parse(&p, "x.example", DNS_TYPE_A, &r), -EINVAL);
	/* Authority records are checked too. */
	build_question(&p, 0xbeef, QR_RD_RA, "x.example", DNS_TYPE_A, 0);
	p.b[9] = 1;
	p_ptr(&p, 12);
	p_u16(&p, DNS_TYPE_NS);
	assert_int_equal(parse(&p, "x.example", DNS_TYPE_A, &r), -EINVAL);
}

static void
test_name_decode(void **state)
{
	/* 12 bytes of header, then names at known places. */
	static const uint8_t msg[] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* 12: www.example.com */
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c',
		'o', 'm', 0,
		/* 29: mail + pointer to example.com (16) */
		4, 'm', 'a', 'i', 'l', 0xc0, 16,
		/* 36: pointer forward to 40 */
		0xc0, 40,
		/* 38: the root */
		0,
		/* 39: filler */
		0xff,
		/* 40: a.b */
		1, 'a', 1, 'b', 0,
		/* 45: pointer to itself */
		0xc0, 45,
		/* 47: two pointers to each other */
		0xc0, 49, 0xc0, 47,
		/* 51: label type 01 (RFC 6891 section 5) */
		0x41, 'x', 0,
		/* 54: label type 10 */
		0x81, 'x', 0,
		/* 57: odd bytes to escape: "a.b", " ", 0xff, "\" */
		6, 'a', '.', 'b', ' ', 0xff, '\\', 0,
		/* 65: a label that grows through a backward loop */
		2, 'x', 'y', 0xc0, 65 };
	char out[DNS_NAME_BUF];
	size_t next = 0;

	(void)state;
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 12, out, sizeof(out), &next), 0);
	assert_string_equal(out, "www.example.com");
	assert_int_equal(next, 29);
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 29, out, sizeof(out), &next), 0);
	assert_string_equal(out, "mail.example.com");
	assert_int_equal(next, 36);
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 36, out, sizeof(out), &next), 0);
	assert_string_equal(out, "a.b");
	assert_int_equal(next, 38);
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 38, out, sizeof(out), &next), 0);
	assert_string_equal(out, ".");
	assert_int_equal(next, 39);
	next = 1234;
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 45, out, sizeof(out), &next),
	    -EINVAL);
	assert_int_equal(next, 1234);
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 47, out, sizeof(out), &next),
	    -EINVAL);
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 51, out, sizeof(out), &next),
	    -EINVAL);
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 54, out, sizeof(out), &next),
	    -EINVAL);
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 57, out, sizeof(out), &next), 0);
	assert_string_equal(out, "a\\.b\\032\\255\\\\");
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 65, out, sizeof(out), &next),
	    -EINVAL);
	/* Past the end, and a name cut by the end. */
	assert_int_equal(dns_name_decode(msg, sizeof(msg), sizeof(msg), out,
	                     sizeof(out), &next),
	    -EINVAL);
	assert_int_equal(dns_name_decode(msg, 20, 12, out, sizeof(out), &next),
	    -EINVAL);
	assert_int_equal(dns_name_decode(msg, 35, 29, out, sizeof(out), &next),
	    -EINVAL);
	/* The output buffer is honoured to the byte. */
	assert_int_equal(dns_name_decode(msg, sizeof(msg), 12, out, 16, &next),
	    0);
	assert_int_equal(dns_name_decode(msg, sizeof(msg), 12, out, 15, &next),
	    -ENOSPC);
	assert_int_equal(dns_name_decode(msg, sizeof(msg), 38, out, 1, &next),
	    -ENOSPC);
	/* ret_next may be left out. */
	assert_int_equal(
	    dns_name_decode(msg, sizeof(msg), 12, out, sizeof(out), NULL), 0);
}

/* A chain of K pointers, each to the next, ending in "end". */
static int
decode_chain(unsigned int k)
{
	struct pkt p;
	char out[DNS_NAME_BUF];
	size_t next;
	unsigned int i;

	p.n = 0;
	for (i = 0; i < k; i++)
		p_ptr(&p, 2 * (i + 1));
	p_name(&p, "end");
	return dns_name_decode(p.b, p.n, 0, out, sizeof(out), &next);
}

static void
test_name_limits(void **state)
{
	struct pkt p;
	char out[DNS_NAME_BUF];
	size_t next;
	unsigned int i;

	(void)state;
	/* Up to 128 jumps are a name, one more a loop. */
	assert_int_equal(decode_chain(1), 0);
	assert_int_equal(decode_chain(128), 0);
	assert_int_equal(decode_chain(129), -EINVAL);
	/* 255 bytes on the wire is the most: 4 labels of 63 and 1 of 1 are
	 * 4 * 64 + 2 + 1 = 259; 3 of 63 and one of 61 are exactly 255. */
	p.n = 0;
	for (i = 0; i < 3; i++) {
		p_u8(&p, 63);
		memset(p.b + p.n, 'a' + (int)i, 63);
		p.n += 63;
	}
	p_u8(&p, 61);
	memset(p.b + p.n, 'z', 61);
	p.n += 61;
	p_u8(&p, 0);
	assert_int_equal(p.n, 255);
	assert_int_equal(dns_name_decode(p.b, p.n, 0, out, sizeof(out), &next),
	    0);
	assert_int_equal(strlen(out), 253);
	assert_int_equal(next, 255);
	p.n = 192;
	p_u8(&p, 62);
	memset(p.b + p.n, 'z', 62);
	p.n += 62;
	p_u8(&p, 0);
	assert_int_equal(dns_name_decode(p.b, p.n, 0, out, sizeof(out), &next),
	    -EINVAL);
	/* A length byte of 64 is label type 01, not a long label. */
	p.n = 0;
	p_u8(&p, 64);
	memset(p.b + p.n, 'a', 64);
	p.n += 64;
	p_u8(&p, 0);
	assert_int_equal(dns_name_decode(p.b, p.n, 0, out, sizeof(out), &next),
	    -EINVAL);
	p.b[0] = 63;
	p.b[64] = 0;
	assert_int_equal(dns_name_decode(p.b, p.n, 0, out, sizeof(out), &next),
	    0);
	assert_int_equal(next, 65);
	/* The longest escaped text fits DNS_NAME_BUF exactly. */
	p.n = 0;
	for (i = 0; i < 3; i++) {
		p_u8(&p, 63);
		memset(p.b + p.n, 0x01, 63);
		p.n += 63;
	}
	p_u8(&p, 61);
	memset(p.b + p.n, 0x01, 61);
	p.n += 61;
	p_u8(&p, 0);
	assert_int_equal(dns_name_decode(p.b, p.n, 0, out, sizeof(out), &next),
	    0);
	assert_int_equal(strlen(out), DNS_NAME_BUF - 1);
	assert_int_equal(
	    dns_name_decode(p.b, p.n, 0, out, DNS_NAME_BUF - 1, &next),
	    -ENOSPC);
}

/* Deterministic damage to the reference reply: never a crash. */
static void
test_reply_fuzz(void **state)
{
	struct pkt p, m;
	struct dns_reply r;
	uint32_t seed = 12345;
	unsigned int i, j, ok = 0;

	(void)state;
	build_full(&p, QR_RD_RA);
	for (i = 0; i < 100000; i++) {
		unsigned int flips;
		uint8_t *b;
		int e;

		m = p;
		seed = seed * 1103515245u + 12345u;
		flips = 1 + (seed >> 16) % 4;
		for (j = 0; j < flips; j++) {
			seed = seed * 1103515245u + 12345u;
			/* Leave the id alone, or almost all would be -ENOMSG */
			m.b[2 + (seed >> 8) % (m.n - 2)] =
			    (uint8_t)(seed >> 24);
		}
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 4 == 0)
			m.n = (seed >> 4) % (m.n + 1);
		b = malloc(m.n ? m.n : 1);
		assert_non_null(b);
		memcpy(b, m.b, m.n);
		e = dns_parse_reply(b, m.n, 0xbeef,
		    i % 2 ? "www.example.com" : NULL, DNS_TYPE_A, &r);
		free(b);
		assert_true(e == 0 || e == -EINVAL || e == -ENOMSG);
		if (e == 0) {
			ok++;
			assert_true(r.naddr4 <= DNS_MAX_ADDR);
			assert_true(r.naddr6 <= DNS_MAX_ADDR);
			assert_true(strlen(r.cname) < sizeof(r.cname));
			assert_true(r.has_cname || r.cname[0] == 0);
		}
	}
	/* Some damage leaves a readable reply (TTLs, addresses). */
	assert_true(ok > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_bytes),
		cmocka_unit_test(test_query_names),
		cmocka_unit_test(test_tcp_framing),
		cmocka_unit_test(test_reply_full),
		cmocka_unit_test(test_reply_cname_chain),
		cmocka_unit_test(test_reply_many_addresses),
		cmocka_unit_test(test_reply_not_ours),
		cmocka_unit_test(test_reply_question_mismatch),
		cmocka_unit_test(test_reply_rcodes),
		cmocka_unit_test(test_reply_truncated_flag),
		cmocka_unit_test(test_reply_every_prefix),
		cmocka_unit_test(test_reply_bad_records),
		cmocka_unit_test(test_name_decode),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_reply_fuzz),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
