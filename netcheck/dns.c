/*
 * dns — the DNS wire format.  See dns.h.
 *
 * The parser reads a reply the way a stub resolver does (glibc's
 * getanswer_r is the model): header, question, then the answer records in
 * order, following the CNAME chain that starts at the name asked; the
 * authority and additional sections are only walked, so that a reply whose
 * records do not fit its length is refused as a whole.
 *
 * Two kinds of failure are kept apart inside: -EMSGSIZE when the message
 * ends before a field does, -EINVAL when a field is wrong in itself.  A
 * reply with TC set was cut by the server (RFC 1035 section 4.2.1, RFC 2181
 * section 9), and may be cut anywhere, so running out of bytes there ends
 * the parse with what was read; without TC it makes the reply malformed.
 */
#include <errno.h>
#include <string.h>

#include "dns.h"

/*
 * Compression pointers (RFC 1035 section 4.1.4) may point anywhere in the
 * message, forward included, so a hostile one can loop.  A legitimate name
 * has at most 127 labels, each reachable by at most one pointer; past 128
 * jumps it is a loop.
 */
#define DNS_MAX_JUMPS 128

/* The header's flags (RFC 1035 section 4.1.1). */
#define DNS_FLAG_QR 0x8000u
#define DNS_FLAG_AA 0x0400u
#define DNS_FLAG_TC 0x0200u
#define DNS_FLAG_RD 0x0100u
#define DNS_FLAG_RA 0x0080u

/* A reader over one message and where it is. */
struct reader {
	const uint8_t *msg;
	size_t n;
	size_t off;
};

/* A name in wire form, uncompressed. */
struct wname {
	uint8_t b[DNS_NAME_WIRE_MAX];
	size_t len;
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((unsigned int)p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * What we send is printable ASCII without the backslash: we do not read
 * RFC 1035 escapes in names we are given, and a name in UTF-8 must reach us
 * as its A-labels (RFC 5891), which are ASCII.
 */
static bool
query_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '\\';
}

/*
 * Text to wire form.  "" and "." are the root; one trailing dot is
 * allowed; labels are 1..63 bytes, the name at most 253 characters of text
 * (RFC 1035 section 2.3.4, RFC 2181 section 11).
 */
static int
name_encode(const char *name, struct wname *ret)
{
	size_t len, i, label = 0, w = 1;
	struct wname wn;

	len = strnlen(name, DNS_NAME_WIRE_MAX);
	if (len == 0 || (len == 1 && name[0] == '.')) {
		ret->b[0] = 0;
		ret->len = 1;
		return 0;
	}
	if (name[len - 1] == '.')
		len--;
	if (len > DNS_NAME_TEXT_MAX)
		return -EINVAL;
	for (i = 0; i <= len; i++) {
		if (i == len || name[i] == '.') {
			if (w == label + 1)
				return -EINVAL; /* empty label */
			wn.b[label] = (uint8_t)(w - label - 1);
			label = w++;
			continue;
		}
		if (!query_char_ok((unsigned char)name[i]) ||
		    w - label > DNS_LABEL_MAX)
			return -EINVAL;
		wn.b[w++] = (uint8_t)name[i];
	}
	wn.b[label] = 0;
	wn.len = label + 1;
	*ret = wn;
	return 0;
}

/*
 * Reads the name at OFF into wire form, following compression pointers.
 * RET_NEXT is where the name ends in place: after its first pointer, or
 * after its root label.  Label types 01 and 10 are refused: RFC 6891
 * section 5 retired the extended ones and nobody sends them.
 */
static int
name_unpack(const uint8_t *msg, size_t n, size_t off, struct wname *ret,
    size_t *ret_next)
{
	size_t pos = off, next = 0, w = 0;
	unsigned int jumps = 0;
	struct wname wn;

	for (;;) {
		unsigned int len;

		if (pos >= n)
			return -EMSGSIZE;
		len = msg[pos];
		if ((len & 0xc0u) == 0xc0u) {
			if (pos + 1 >= n)
				return -EMSGSIZE;
			if (jumps == 0)
				next = pos + 2;
			if (++jumps > DNS_MAX_JUMPS)
				return -EINVAL;
			pos = (size_t)(len & 0x3fu) << 8 | msg[pos + 1];
			continue;
		}
		if (len & 0xc0u)
			return -EINVAL;
		if (len == 0)
			break;
		/* The label, its length byte, and the root still to come. */
		if (w + len + 2 > DNS_NAME_WIRE_MAX)
			return -EINVAL;
		if (len >= n - pos)
			return -EMSGSIZE;
		memcpy(wn.b + w, msg + pos, len + 1);
		w += len + 1;
		pos += len + 1;
	}
	wn.b[w++] = 0;
	wn.len = w;
	if (jumps == 0)
		next = pos + 1;
	*ret = wn;
	*ret_next = next;
	return 0;
}

/* Appends one byte of a label, escaped as RFC 1035 section 5.1 says. */
static int
text_put(char *out, size_t cap, size_t *pos, unsigned char c)
{
	size_t p = *pos;

	if (c == '.' || c == '\\') {
		if (cap - p < 3)
			return -ENOSPC;
		out[p++] = '\\';
		out[p++] = (char)c;
	} else if (c < 0x21 || c > 0x7e) {
		if (cap - p < 5)
			return -ENOSPC;
		out[p++] = '\\';
		out[p++] = (char)('0' + c / 100);
		out[p++] = (char)('0' + c / 10 % 10);
		out[p++] = (char)('0' + c % 10);
	} else {
		if (cap - p < 2)
			return -ENOSPC;
		out[p++] = (char)c;
	}
	*pos = p;
	return 0;
}

/* Wire form to text: "." for the root, else no trailing dot. */
static int
name_text(const struct wname *wn, char *out, size_t cap)
{
	size_t i = 0, p = 0;

	if (cap < 2)
		return -ENOSPC;
	if (wn->b[0] == 0) {
		out[0] = '.';
		out[1] = 0;
		return 0;
	}
	while (wn->b[i] != 0) {
		size_t len = wn->b[i], j;

		if (i > 0) {
			if (cap - p < 2)
				return -ENOSPC;
			out[p++] = '.';
		}
		for (j = 1; j <= len; j++)
			if (text_put(out, cap, &p, wn->b[i + j]) < 0)
				return -ENOSPC;
		i += len + 1;
	}
	out[p] = 0;
	return 0;
}

/* Names compare without regard to ASCII case (RFC 4343 section 3). */
static bool
name_equal(const struct wname *a, const struct wname *b)
{
	size_t i;

	if (a->len != b->len)
		return false;
	for (i = 0; i < a->len; i++) {
		unsigned int x = a->b[i], y = b->b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return false;
	}
	return true;
}

int
dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name,
    uint16_t qtype, bool rd, size_t *ret_len)
{
	struct wname wn;
	size_t len;

	if (!buf || !name || name_encode(name, &wn) < 0)
		return -EINVAL;
	len = DNS_HEADER_LEN + wn.len + 4;
	if (cap < len)
		return -ENOSPC;
	put16(buf, id);
	put16(buf + 2, rd ? DNS_FLAG_RD : 0);
	put16(buf + 4, 1); /* QDCOUNT */
	put16(buf + 6, 0);
	put16(buf + 8, 0);
	put16(buf + 10, 0);
	memcpy(buf + DNS_HEADER_LEN, wn.b, wn.len);
	put16(buf + DNS_HEADER_LEN + wn.len, qtype);
	put16(buf + DNS_HEADER_LEN + wn.len + 2, DNS_CLASS_IN);
	*ret_len = len;
	return 0;
}

/*
 * MSG may lie anywhere, buf + 2 included (build the query there, then
 * frame it in place): it is moved, not copied.
 */
int
dns_tcp_frame(uint8_t *buf, size_t cap, const uint8_t *msg, size_t len,
    size_t *ret_len)
{
	if (!buf || !msg)
		return -EINVAL;
	if (len > 0xffff)
		return -EMSGSIZE;
	if (cap < len + 2)
		return -ENOSPC;
	memmove(buf + 2, msg, len);
	put16(buf, (unsigned int)len);
	*ret_len = len + 2;
	return 0;
}

/*
 * The message starts at buf + 2.  -EAGAIN until all of it has arrived;
 * bytes after it belong to the next message (RFC 7766 section 6.2.1.1
 * allows pipelining).
 */
int
dns_tcp_unframe(const uint8_t *buf, size_t n, size_t *ret_msglen)
{
	size_t len;

	if (n < 2)
		return -EAGAIN;
	len = get16(buf);
	if (n - 2 < len)
		return -EAGAIN;
	*ret_msglen = len;
	return 0;
}

int
dns_name_decode(const uint8_t *msg, size_t n, size_t off, char *out, size_t cap,
    size_t *ret_next)
{
	struct wname wn;
	size_t next;
	int r;

	if (!msg || !out)
		return -EINVAL;
	r = name_unpack(msg, n, off, &wn, &next);
	if (r < 0)
		return -EINVAL;
	r = name_text(&wn, out, cap);
	if (r < 0)
		return r;
	if (ret_next)
		*ret_next = next;
	return 0;
}

/* Reads a name at the reader's place and moves past it. */
static int
read_name(struct reader *rd, struct wname *ret)
{
	size_t next;
	int r;

	r = name_unpack(rd->msg, rd->n, rd->off, ret, &next);
	if (r < 0)
		return r;
	rd->off = next;
	return 0;
}

/* Fixed fields after a name: there must be LEN bytes left. */
static int
need(const struct reader *rd, size_t len)
{
	return rd->n - rd->off < len ? -EMSGSIZE : 0;
}

/*
 * The questions (RFC 1035 section 4.1.2).  The reply matches when it
 * carries exactly one, ours; servers may leave the question out of FORMERR
 * and NOTIMP replies, which then match nothing.
 */
static int
read_questions(struct reader *rd, const struct wname *want, uint16_t want_qtype,
    struct dns_reply *r)
{
	unsigned int i;
	struct wname wn;
	int e;

	for (i = 0; i < r->qdcount; i++) {
		uint16_t qtype, qclass;

		if ((e = read_name(rd, &wn)) < 0 || (e = need(rd, 4)) < 0)
			return e;
		qtype = get16(rd->msg + rd->off);
		qclass = get16(rd->msg + rd->off + 2);
		rd->off += 4;
		if (r->qdcount == 1)
			r->question_matches = qtype == want_qtype &&
			    qclass == DNS_CLASS_IN &&
			    (!want || name_equal(&wn, want));
	}
	return 0;
}

/* One record's fixed part (RFC 1035 section 4.1.3). */
struct rr {
	struct wname owner;
	uint16_t type, klass;
	size_t rdata, rdlen;
};

static int
read_rr(struct reader *rd, struct rr *ret)
{
	int e;

	if ((e = read_name(rd, &ret->owner)) < 0 || (e = need(rd, 10)) < 0)
		return e;
	ret->type = get16(rd->msg + rd->off);
	ret->klass = get16(rd->msg + rd->off + 2);
	/* TTL: four bytes we have no use for. */
	ret->rdlen = get16(rd->msg + rd->off + 8);
	rd->off += 10;
	if ((e = need(rd, ret->rdlen)) < 0)
		return e;
	ret->rdata = rd->off;
	rd->off += ret->rdlen;
	return 0;
}

/*
 * One answer record: an address of the name we follow, a CNAME that moves
 * the chain on (RFC 1034 section 3.6.2), or something else, counted.  The
 * address lengths are fixed (RFC 1035 section 3.4.1, RFC 3596 section 2.2);
 * a CNAME's name must fill its RDATA exactly.
 */
static int
take_answer(const struct reader *rd, const struct rr *rr, struct wname *cur,
    bool check_owner, struct dns_reply *r)
{
	const uint8_t *p = rd->msg + rr->rdata;
	struct wname target;
	size_t next;
	int e;

	if (rr->klass != DNS_CLASS_IN ||
	    (check_owner && !name_equal(&rr->owner, cur))) {
		r->nother++;
		return 0;
	}
	switch (rr->type) {
	case DNS_TYPE_A:
		if (rr->rdlen != 4)
			return -EINVAL;
		if (r->naddr4 < DNS_MAX_ADDR)
			memcpy(r->addr4[r->naddr4++], p, 4);
		return 0;
	case DNS_TYPE_AAAA:
		if (rr->rdlen != 16)
			return -EINVAL;
		if (r->naddr6 < DNS_MAX_ADDR)
			memcpy(r->addr6[r->naddr6++], p, 16);
		return 0;
	case DNS_TYPE_CNAME:
		e = name_unpack(rd->msg, rd->n, rr->rdata, &target, &next);
		if (e < 0)
			return e;
		if (next != rr->rdata + rr->rdlen)
			return -EINVAL;
		/* Kept at once, so that a reply cut later still has it. */
		if (name_text(&target, r->cname, sizeof(r->cname)) < 0)
			return -EINVAL; /* cannot happen: cname fits any name */
		*cur = target;
		r->has_cname = true;
		return 0;
	default:
		r->nother++;
		return 0;
	}
}

/*
 * Everything after the header.  CUR starts as the name asked; with no name
 * given, as the reply's own question, and with no question either, every
 * answer counts.
 */
static int
read_body(struct reader *rd, const struct wname *want, uint16_t want_qtype,
    struct dns_reply *r)
{
	struct wname cur;
	bool check_owner = true;
	unsigned int i, rest;
	size_t qoff = rd->off, next;
	struct rr rr;
	int e;

	if ((e = read_questions(rd, want, want_qtype, r)) < 0)
		return e;
	cur.b[0] = 0;
	cur.len = 1;
	if (want)
		cur = *want;
	else if (r->qdcount == 0 ||
	    name_unpack(rd->msg, rd->n, qoff, &cur, &next) < 0)
		check_owner = false;
	for (i = 0; i < r->ancount; i++) {
		if ((e = read_rr(rd, &rr)) < 0 ||
		    (e = take_answer(rd, &rr, &cur, check_owner, r)) < 0)
			return e;
	}
	rest = (unsigned int)r->nscount + r->arcount;
	for (i = 0; i < rest; i++)
		if ((e = read_rr(rd, &rr)) < 0)
			return e;
	return 0;
}

/*
 * -ENOMSG for what is not the reply to our query: another id, or a query
 * (QR clear).  The caller drops those and keeps waiting, as RFC 5452
 * section 9.1 asks of a resolver.  Bytes after the last record are
 * ignored.
 */
int
dns_parse_reply(const uint8_t *buf, size_t n, uint16_t want_id,
    const char *want_name, uint16_t want_qtype, struct dns_reply *ret)
{
	struct reader rd = { .msg = buf, .n = n, .off = DNS_HEADER_LEN };
	struct dns_reply r;
	struct wname want;
	unsigned int flags;
	int e;

	if (!buf || !ret || n < DNS_HEADER_LEN)
		return -EINVAL;
	if (want_name && name_encode(want_name, &want) < 0)
		return -EINVAL;
	if (get16(buf) != want_id)
		return -ENOMSG;
	flags = get16(buf + 2);
	if (!(flags & DNS_FLAG_QR))
		return -ENOMSG;
	memset(&r, 0, sizeof(r));
	r.id = want_id;
	r.qr = true;
	r.opcode = (uint8_t)(flags >> 11 & 0xfu);
	r.aa = flags & DNS_FLAG_AA;
	r.tc = flags & DNS_FLAG_TC;
	r.rd = flags & DNS_FLAG_RD;
	r.ra = flags & DNS_FLAG_RA;
	r.rcode = (uint8_t)(flags & 0xfu);
	r.qdcount = get16(buf + 4);
	r.ancount = get16(buf + 6);
	r.nscount = get16(buf + 8);
	r.arcount = get16(buf + 10);
	e = read_body(&rd, want_name ? &want : NULL, want_qtype, &r);
	/* Cut short by the server: keep what was read, complete = false. */
	if (e < 0 && !(e == -EMSGSIZE && r.tc))
		return -EINVAL;
	r.complete = e == 0;
	*ret = r;
	return 0;
}

const char *
dns_rcode_name(unsigned int rcode)
{
	static const char *const names[DNS_RCODE_MAX] = {
		[DNS_RCODE_NOERROR] = "NOERROR",
		[DNS_RCODE_FORMERR] = "FORMERR",
		[DNS_RCODE_SERVFAIL] = "SERVFAIL",
		[DNS_RCODE_NXDOMAIN] = "NXDOMAIN",
		[DNS_RCODE_NOTIMP] = "NOTIMP",
		[DNS_RCODE_REFUSED] = "REFUSED",
		[DNS_RCODE_YXDOMAIN] = "YXDOMAIN",
		[DNS_RCODE_YXRRSET] = "YXRRSET",
		[DNS_RCODE_NXRRSET] = "NXRRSET",
		[DNS_RCODE_NOTAUTH] = "NOTAUTH",
		[DNS_RCODE_NOTZONE] = "NOTZONE",
		[DNS_RCODE_DSOTYPENI] = "DSOTYPENI",
	};

	if (rcode >= DNS_RCODE_MAX)
		return "UNKNOWN";
	return names[rcode];
}
