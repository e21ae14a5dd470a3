/*
 * dns — the DNS wire format (RFC 1035 section 4) for the `resolver` check
 * (SPEC section 8): build one query, parse the reply.
 *
 * Everything here is pure: no syscalls, no allocation, no logging, every
 * length checked against the buffer it came with, so the parser can be fed
 * hostile packets directly (tests/unit/test_dns.c does, at every length).
 *
 * Names are given and returned in text form without the trailing dot
 * ("example.com"); the root zone is "." (or "" when building).  Names read
 * from a message are escaped as RFC 1035 section 5.1 says (a '.' or '\'
 * inside a label as "\." and "\\", other bytes outside 0x21..0x7e as
 * "\DDD"), so a label may hold any byte (RFC 2181 section 11) and the text
 * still reads back unambiguously.
 *
 * Over TCP every message is preceded by its length in two bytes (RFC 1035
 * section 4.2.2, RFC 7766): dns_tcp_frame() adds it, dns_tcp_unframe()
 * says when a whole message has arrived.
 *
 * Public API: dns_build_query(), dns_tcp_frame(), dns_tcp_unframe(),
 * dns_parse_reply(), dns_name_decode(), dns_rcode_name().
 */
#ifndef AGENT_INIT_DNS_H
#define AGENT_INIT_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_PORT 53
#define DNS_HEADER_LEN 12
/* RFC 1035 section 2.3.4: labels and names on the wire. */
#define DNS_LABEL_MAX 63
#define DNS_NAME_WIRE_MAX 255
/* 253 characters of text without the trailing dot (255 on the wire). */
#define DNS_NAME_TEXT_MAX 253
/*
 * Room for any name read from a message, escaped: at most 250 label bytes
 * in a 255-byte wire name, four characters each as "\DDD", three dots and
 * the NUL.
 */
#define DNS_NAME_BUF 1004
/* RFC 1035 section 2.3.4: what plain UDP carries without EDNS. */
#define DNS_UDP_MAX 512
/* A query for the longest name: header, name, type and class. */
#define DNS_QUERY_MAX (DNS_HEADER_LEN + DNS_NAME_WIRE_MAX + 4)
#define DNS_MAX_ADDR 8

/* RFC 1035 section 3.2.2, RFC 3596 section 2.1. */
enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_MAX
};

#define DNS_CLASS_IN 1

/* RFC 1035 section 4.1.1, RFC 2136 section 2.2, RFC 8490 section 10.2. */
enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_YXDOMAIN = 6,
	DNS_RCODE_YXRRSET = 7,
	DNS_RCODE_NXRRSET = 8,
	DNS_RCODE_NOTAUTH = 9,
	DNS_RCODE_NOTZONE = 10,
	DNS_RCODE_DSOTYPENI = 11,
	DNS_RCODE_MAX
};

/*
 * What a reply says, in fixed size.  Counts are the header's; naddr4 and
 * naddr6 are the addresses kept (at most DNS_MAX_ADDR each) of the records
 * that answer the question: owned by the name asked or by the last name
 * of the CNAME chain that leads from it, in order, as a stub resolver
 * reads them.  cname is that last name when the chain is not empty.
 */
struct dns_reply {
	uint16_t id;
	uint8_t opcode;
	uint8_t rcode;
	bool qr, aa, tc, rd, ra;
	uint16_t qdcount, ancount, nscount, arcount;
	/* The one question is the one we asked (name, type, class IN). */
	bool question_matches;
	/* Every record the header counts was read (false only with tc). */
	bool complete;
	unsigned int naddr4, naddr6;
	uint8_t addr4[DNS_MAX_ADDR][4];
	uint8_t addr6[DNS_MAX_ADDR][16];
	/* Answer records of other types, classes or owners. */
	unsigned int nother;
	bool has_cname;
	char cname[DNS_NAME_BUF];
};

int dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name,
    uint16_t qtype, bool rd, size_t *ret_len);
int dns_tcp_frame(uint8_t *buf, size_t cap, const uint8_t *msg, size_t len,
    size_t *ret_len);
int dns_tcp_unframe(const uint8_t *buf, size_t n, size_t *ret_msglen);
int dns_parse_reply(const uint8_t *buf, size_t n, uint16_t want_id,
    const char *want_name, uint16_t want_qtype, struct dns_reply *ret);
int dns_name_decode(const uint8_t *msg, size_t n, size_t off, char *out,
    size_t cap, size_t *ret_next);
const char *dns_rcode_name(unsigned int rcode);

#endif
