/*
 * Fuzz target: DNS replies (RFC 1035) as the resolver check reads them off
 * UDP or TCP.  Each input is parsed three ways: against the question it
 * itself carries (so that answers owned by that name and CNAME chains are
 * reached), against a fixed question, and with no name at all; then as a
 * TCP stream (dns_tcp_unframe()).  Also: dns_name_decode() at an offset
 * taken from the input, and a round trip dns_build_query() ->
 * dns_name_decode() for a name taken from the input as text.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../netcheck/dns.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
parse(const uint8_t *buf, size_t n, uint16_t id, const char *name,
    uint16_t qtype)
{
	struct dns_reply r;
	int e = dns_parse_reply(buf, n, id, name, qtype, &r);

	if (e < 0) {
		assert(e == -EINVAL || e == -ENOMSG);
		return;
	}
	assert(r.naddr4 <= DNS_MAX_ADDR && r.naddr6 <= DNS_MAX_ADDR);
	assert(memchr(r.cname, 0, sizeof(r.cname)));
	assert(r.rcode <= 15 && r.opcode <= 15);
	assert(dns_rcode_name(r.rcode) != NULL);
	if (r.has_cname)
		assert(r.cname[0] != 0);
}

/* A query for text built from the input decodes back to that text. */
static void
round_trip(const uint8_t *data, size_t size)
{
	char name[300], back[DNS_NAME_BUF];
	uint8_t q[DNS_QUERY_MAX];
	size_t len, next, nl;

	nl = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data, nl);
	name[nl] = 0;
	nl = strlen(name);
	if (dns_build_query(q, sizeof(q), 7, name, DNS_TYPE_A, true, &len) < 0)
		return;
	assert(len <= DNS_QUERY_MAX);
	assert(dns_name_decode(q, len, DNS_HEADER_LEN, back, sizeof(back),
	           &next) == 0);
	assert(next + 4 == len);
	if (nl > 0 && name[nl - 1] == '.')
		name[--nl] = 0;
	if (nl == 0)
		assert(strcmp(back, ".") == 0 || back[0] == 0);
	else
		assert(strcmp(back, name) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char qname[DNS_NAME_BUF], out[DNS_NAME_BUF];
	size_t next, msglen;
	uint16_t id, qtype = DNS_TYPE_A;

	round_trip(data, size);
	if (size < DNS_HEADER_LEN)
		return 0;
	id = (uint16_t)(data[0] << 8 | data[1]);
	if (dns_name_decode(data, size, DNS_HEADER_LEN, qname, sizeof(qname),
	        &next) == 0) {
		assert(memchr(qname, 0, sizeof(qname)));
		assert(next <= size);
		if (next + 2 <= size)
			qtype = (uint16_t)(data[next] << 8 | data[next + 1]);
		parse(data, size, id, qname, qtype);
	}
	parse(data, size, id, "example.com", DNS_TYPE_AAAA);
	parse(data, size, id, NULL, DNS_TYPE_A);
	/* A name anywhere, as a compression pointer may point. */
	if (dns_name_decode(data, size, data[2] % size, out, sizeof(out),
	        &next) == 0)
		assert(next <= size && memchr(out, 0, sizeof(out)));
	/* A short output buffer must be refused, not overrun. */
	(void)dns_name_decode(data, size, DNS_HEADER_LEN, out, 1 + data[3] % 16,
	    NULL);
	/* TCP: the length prefix, then the message. */
	if (dns_tcp_unframe(data, size, &msglen) == 0) {
		assert(msglen + 2 <= size);
		if (msglen >= DNS_HEADER_LEN)
			parse(data + 2, msglen,
			    (uint16_t)(data[2] << 8 | data[3]), "example.com",
			    DNS_TYPE_A);
	}
	return 0;
}
