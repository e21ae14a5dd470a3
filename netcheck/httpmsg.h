/*
 * httpmsg — the few pieces of HTTP/1.x (RFC 9112) the checks need: reading
 * the header block of a reply (the CONNECT probe of the `proxy` and
 * `tunnel` checks, HTTP targets), the `Date:` header behind the `clock`
 * check (RFC 9110 section 5.6.7), and writing a CONNECT request
 * (RFC 9110 section 9.3.6) with optional Basic proxy credentials
 * (RFC 7617, base64 of RFC 4648 section 4).
 *
 * Everything here is pure: no syscalls, no logging, no allocation; every
 * input is bounded and read by length, never past `n`.
 *
 * Public API: http_reply_parse(), http_date_parse(), http_connect_request(),
 * base64_encode().
 */
#ifndef AGENT_INIT_HTTPMSG_H
#define AGENT_INIT_HTTPMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The largest header block we read.  A reply to CONNECT is a status line
 * and a handful of fields; anything bigger is not a proxy talking to us.
 */
#define HTTP_HEADER_MAX 16384

/* Characters needed for the base64 text of n bytes, without the NUL. */
#define BASE64_LEN(n) ((((n) + 2) / 3) * 4)

struct http_reply {
	int status; /* 100..599 */
	bool complete; /* the header block ended; always true on success */
	size_t header_len; /* bytes up to and including the empty line */
	bool has_date; /* a Date field that parsed */
	int64_t date; /* unix seconds, valid when has_date */
	bool has_proxy_authenticate; /* a Proxy-Authenticate field (407) */
	char reason[64]; /* reason phrase, printable ASCII, may be cut */
};

/*
 * Parses the status line and header fields in the first n bytes of buf
 * (no NUL needed).  Returns 0 and fills *ret once the header block is
 * complete, -EAGAIN while it is not (read more and call again with the
 * whole buffer), -EINVAL when the bytes cannot be an HTTP/1.x reply or the
 * header block exceeds HTTP_HEADER_MAX.  A 1xx interim reply is returned
 * as it is; the caller parses again from buf + header_len.
 */
int http_reply_parse(const char *buf, size_t n, struct http_reply *ret);

/*
 * Parses an HTTP-date in any of the three formats a recipient must accept
 * (IMF-fixdate, RFC 850, asctime).  Returns 0 and the unix time in *ret,
 * or -EINVAL.
 */
int http_date_parse(const char *s, int64_t *ret);

/*
 * Writes "CONNECT host:port HTTP/1.1" with Host and, when basic_b64 is not
 * NULL, "Proxy-Authorization: Basic <basic_b64>", into buf, NUL-terminated.
 * An IPv6 host is bracketed.  Returns the request length, or 0 when an
 * argument is invalid (empty host, port 0, characters that could split
 * the request) or the request does not fit in cap.
 */
size_t http_connect_request(char *buf, size_t cap, const char *host,
    uint16_t port, const char *basic_b64);

/*
 * Writes the base64 text of in[0..n) to out, NUL-terminated.  Returns its
 * length (BASE64_LEN(n)), or 0 with out untouched when cap is smaller than
 * BASE64_LEN(n) + 1.  An empty input gives "" and 0.
 */
size_t base64_encode(const void *in, size_t n, char *out, size_t cap);

#endif
