/*
 * httpd — the HTTP probe endpoint (`http_listen = ADDR:PORT`, opt-in), so
 * that Kubernetes httpGet probes and load balancers need no exec (no
 * process per probe, no curl in a distroless image):
 *
 *   GET /readyz   200 when `agent-init status --quiet` would exit 0 (ready,
 *                 every service ready now, none stopped), else 503
 *   GET /livez    200 whenever PID 1's loop answers: a service's health is
 *                 /readyz's business, so Kubernetes does not restart the
 *                 pod over a service agent-init restarts itself
 *   GET /status   the status document (init/status.h) without what is for
 *                 operators only; 200 when healthy, else 503
 *
 * HEAD is GET without the body; any other method 405, any other path
 * 404, a malformed request 400 (core/httpreq.h); nothing changes any
 * state: no verb acts over HTTP.  HTTP/1.1 only, one request per
 * connection (Connection: close).
 *
 * It never blocks and is bounded: at most HTTPD_MAX_CONN connections
 * (while all are taken, new ones wait in the kernel's backlog rather
 * than being refused, so a burst of probes never sees a false 503), a
 * request head of at most HTTPREQ_MAX bytes within HTTPD_TIMEOUT_MS, and
 * a connection ends within HTTPD_TIMEOUT_MS of its last progress.  It
 * listens on exactly the address named; a failure to listen is a
 * `warning` event.
 *
 * Public API: httpd_listen(), httpd_close().
 */
#ifndef AGENT_INIT_HTTPD_H
#define AGENT_INIT_HTTPD_H

#define HTTPD_MAX_CONN 16
#define HTTPD_TIMEOUT_MS 2000

/* Listen at addr (value_listen()); "" or NULL: no endpoint. */
int httpd_listen(const char *addr);
void httpd_close(void);

#endif
