/*
 * httpd — the HTTP probe endpoint.  See httpd.h.
 *
 * A connection goes READ (the request head, parsed by core/httpreq.c at
 * every arrival) → WRITE (the whole answer, as the socket takes it) →
 * LINGER (our side shut, the client's bytes read and dropped until it
 * closes: closing with unread bytes would reset the connection and could
 * destroy the answer on its way, RFC 9112 9.6) → closed.  One timer per
 * connection bounds every state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "httpd.h"
#include "httpreq.h"
#include "loop.h"
#include "status.h"
#include "supervisor.h"
#include "values.h"

enum conn_state { C_FREE, C_READ, C_WRITE, C_LINGER };

struct conn {
	struct loop_io io;
	struct loop_timer timer;
	enum conn_state st;
	char req[HTTPREQ_MAX];
	size_t len;
	char *out; /* the answer, malloc'd */
	size_t out_len, out_off;
};

static struct {
	struct loop_io io;
	bool listening, paused;
	struct conn conns[HTTPD_MAX_CONN];
	unsigned int nconn;
} hd;

static void on_conn(struct loop_io *io, uint32_t revents);

static void
conn_close(struct conn *c)
{
	loop_timer_cancel(&c->timer);
	loop_io_del(&c->io);
	close(c->io.fd);
	c->io.fd = -1;
	free(c->out);
	c->out = NULL;
	c->st = C_FREE;
	hd.nconn--;
	/* A place is free: take what waits in the backlog. */
	if (hd.paused && hd.listening) {
		hd.paused = false;
		(void)loop_io_mod(&hd.io, EPOLLIN);
	}
}

static void
progress(struct conn *c)
{
	loop_timer_arm(&c->timer, loop_now_ms() + HTTPD_TIMEOUT_MS);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	default:
		return "HTTP Version Not Supported";
	}
}

/* The whole answer in c->out: status line, fields, body (not for HEAD). */
static void
answer(struct conn *c, int status, const char *type, const char *body,
    size_t blen, bool head)
{
	char date[64], fields[512];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (!gmtime_r(&now, &tm) ||
	    !strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
		date[0] = 0;
	n = snprintf(fields, sizeof(fields),
	    "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n%s\r\n",
	    status, reason(status), date, type, blen,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (head)
		blen = 0;
	c->out = malloc((size_t)n + blen);
	if (!c->out) {
		c->out_len = 0;
		return;
	}
	memcpy(c->out, fields, (size_t)n);
	memcpy(c->out + n, body, blen);
	c->out_len = (size_t)n + blen;
	c->out_off = 0;
}

static void
route(struct conn *c, const struct httpreq *r)
{
	static const char ok[] = "ok\n";
	const char *why;
	char text[128];

	if (strcmp(r->path, "/livez") == 0) {
		answer(c, 200, "text/plain", ok, sizeof(ok) - 1, r->head);
	} else if (strcmp(r->path, "/readyz") == 0) {
		if (sup_healthy()) {
			answer(c, 200, "text/plain", ok, sizeof(ok) - 1,
			    r->head);
			return;
		}
		why = !sup_running() ? "shutting down"
		    : !sup_ready()   ? "not ready yet"
		                     : "a service is not ready now";
		snprintf(text, sizeof(text), "%s\n", why);
		answer(c, 503, "text/plain", text, strlen(text), r->head);
	} else if (strcmp(r->path, "/status") == 0) {
		const char *j;
		size_t n;

		if (!(j = status_json(true, &n))) {
			j = "{\"error\":\"status too large\"}\n";
			n = strlen(j);
		}
		answer(c, sup_healthy() ? 200 : 503, "application/json", j, n,
		    r->head);
	} else {
		snprintf(text, sizeof(text),
		    "not found: /readyz, /livez, /status\n");
		answer(c, 404, "text/plain", text, strlen(text), r->head);
	}
}

static void
start_write(struct conn *c, int status, const struct httpreq *r)
{
	char text[64];

	if (status == 200)
		route(c, r);
	else {
		snprintf(text, sizeof(text), "%s\n", reason(status));
		answer(c, status, "text/plain", text, strlen(text), false);
	}
	if (!c->out) {
		conn_close(c);
		return;
	}
	c->st = C_WRITE;
	(void)loop_io_mod(&c->io, EPOLLOUT);
	on_conn(&c->io, EPOLLOUT);
}

static void
do_read(struct conn *c)
{
	struct httpreq r;
	ssize_t n;
	int st;

	n = recv(c->io.fd, c->req + c->len, sizeof(c->req) - c->len,
	    MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	progress(c);
	if ((st = httpreq_parse(c->req, c->len, &r)) != 0)
		start_write(c, st, &r);
}

static void
do_write(struct conn *c)
{
	ssize_t n = send(c->io.fd, c->out + c->out_off, c->out_len - c->out_off,
	    MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->out_off += (size_t)n;
	progress(c);
	if (c->out_off < c->out_len)
		return;
	(void)shutdown(c->io.fd, SHUT_WR);
	c->st = C_LINGER;
	(void)loop_io_mod(&c->io, EPOLLIN | EPOLLRDHUP);
}

/* Read and drop what the client still sends, until it closes. */
static void
do_linger(struct conn *c)
{
	char buf[1024];
	ssize_t n = recv(c->io.fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0)
		conn_close(c);
}

static void
on_conn(struct loop_io *io, uint32_t revents)
{
	struct conn *c = io->data;

	(void)revents;
	if (c->st == C_READ)
		do_read(c);
	else if (c->st == C_WRITE)
		do_write(c);
	else if (c->st == C_LINGER)
		do_linger(c);
}

static void
on_conn_timer(struct loop_timer *t)
{
	conn_close(t->data);
}

static void
on_accept(struct loop_io *io, uint32_t revents)
{
	int fd, k;

	(void)revents;
	for (k = 0; k < HTTPD_MAX_CONN; k++) {
		struct conn *c = NULL;
		int i;

		if (hd.nconn >= HTTPD_MAX_CONN) {
			/* Full: the next ones wait in the backlog. */
			hd.paused = true;
			(void)loop_io_mod(io, 0);
			return;
		}
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		for (i = 0; i < HTTPD_MAX_CONN && !c; i++)
			if (hd.conns[i].st == C_FREE)
				c = &hd.conns[i];
		memset(c, 0, sizeof(*c));
		c->io.fd = fd;
		c->io.events = EPOLLIN;
		c->io.cb = on_conn;
		c->io.data = c;
		c->timer.cb = on_conn_timer;
		c->timer.data = c;
		c->st = C_READ;
		hd.nconn++;
		if (loop_io_add(&c->io) < 0) {
			c->st = C_FREE;
			hd.nconn--;
			close(fd);
			continue;
		}
		progress(c);
	}
}

static void
warn(const char *addr, const char *what, int err)
{
	ev_begin("warning");
	ev_str("what", "http_listen");
	ev_str("path", addr);
	ev_str("detail", what);
	ev_str("error", strerror(err));
	ev_emit();
}

int
httpd_listen(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, e;

	if (!addr || !*addr)
		return 0;
	if (value_listen(addr, &ss, &len) < 0) {
		warn(addr, "not an address", EINVAL);
		return -EINVAL;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		warn(addr, "socket", errno);
		return -errno;
	}
	/* A restarted sandbox rebinds at once (TIME_WAIT of the last). */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(fd, HTTPD_MAX_CONN) < 0) {
		e = errno;
		close(fd);
		warn(addr, "bind", e);
		return -e;
	}
	hd.io.fd = fd;
	hd.io.events = EPOLLIN;
	hd.io.cb = on_accept;
	if (loop_io_add(&hd.io) < 0) {
		e = errno;
		close(fd);
		warn(addr, "epoll", e);
		return -e;
	}
	hd.listening = true;
	return 0;
}

void
httpd_close(void)
{
	size_t i;

	for (i = 0; i < HTTPD_MAX_CONN; i++)
		if (hd.conns[i].st != C_FREE)
			conn_close(&hd.conns[i]);
	if (hd.listening) {
		loop_io_del(&hd.io);
		close(hd.io.fd);
		hd.listening = false;
	}
}
