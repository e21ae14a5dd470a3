/*
 * httpreq — the request side of HTTP/1.1 (RFC 9112), as much as the
 * probe endpoint (`http_listen`) needs, and strictly: a request line and
 * header fields, no body.  Pure (no syscalls, no allocation), so it is
 * unit tested and fuzzed directly.
 *
 * httpreq_parse() looks at the bytes received so far.  It answers 0 while
 * the header block is not complete, else the HTTP status the server
 * should answer with: 200 for a well-formed GET or HEAD (then *ret says
 * which path), or the error:
 *
 *   400  malformed: a bad request line, a field without a colon, a field
 *        line folded (obs-fold), control bytes, no Host (RFC 9112 3.2),
 *        a body announced (Content-Length other than 0, Transfer-Encoding)
 *   405  a method other than GET and HEAD
 *   414  a request target longer than HTTPREQ_TARGET_MAX
 *   431  a header block longer than HTTPREQ_MAX
 *   505  a version other than HTTP/1.1
 *
 * Lines end with CRLF; a bare LF is accepted too (RFC 9112 2.2).
 *
 * Public API: httpreq_parse().
 */
#ifndef AGENT_INIT_HTTPREQ_H
#define AGENT_INIT_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

#define HTTPREQ_MAX 4096
#define HTTPREQ_TARGET_MAX 256

struct httpreq {
	bool head; /* HEAD: the same answer, without its body */
	char path[HTTPREQ_TARGET_MAX]; /* the target without its ?query */
	size_t len; /* bytes of the request (its header block) */
};

int httpreq_parse(const char *buf, size_t n, struct httpreq *ret);

#endif
