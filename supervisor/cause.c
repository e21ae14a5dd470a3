/*
 * cause — a crash's cause in one line.  See cause.h.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cause.h"

/*
 * What makes a line error-like: the levels of logfmt (logrus, zap, slog)
 * and JSON loggers, and the words runtimes print when they give up (Go's
 * `panic:` and `fatal error:`, Node's and Python's `...Error:`, Java's
 * `...Exception`, npm's `ERR!`, the `failed to` of Go programs such as
 * dockerd and containerd).
 */
static const char *const error_words[] = { "level=error", "level=fatal",
	"level=panic", "level=crit", "level=ERROR", "level=FATAL",
	"level=PANIC", "level=CRIT", "\"level\":\"error\"",
	"\"level\":\"fatal\"", "\"level\":\"panic\"", "\"level\":\"critical\"",
	"\"level\": \"error\"", "\"level\": \"fatal\"",
	"\"severity\":\"ERROR\"", "failed to", "Failed to", "FAILED",
	"panic:", "fatal:", "Fatal:", "FATAL", "fatal error",
	"Error:", "error:", "ERROR", "ERR!", "Exception", "CRITICAL",
	"Segmentation fault" };

/* A line that names a lower level of its own is not an error, whatever
 * its message or fields say ("level=info ... error=..."). */
static const char *const low_levels[] = { "level=info", "level=debug",
	"level=trace", "level=warn", "level=INFO", "level=DEBUG", "level=TRACE",
	"level=WARN", "\"level\":\"info\"", "\"level\":\"debug\"",
	"\"level\":\"trace\"", "\"level\":\"warn", "\"level\": \"info\"",
	"\"level\": \"debug\"", "\"level\": \"warn" };

void
cause_ring_init(struct cause_ring *r, char *buf, size_t cap)
{
	r->buf = buf;
	r->cap = buf ? cap : 0;
	r->head = r->len = 0;
}

void
cause_ring_reset(struct cause_ring *r)
{
	r->head = r->len = 0;
}

void
cause_ring_add(struct cause_ring *r, const char *p, size_t n)
{
	size_t first;

	if (!r->cap || n == 0)
		return;
	if (n >= r->cap) {
		/* Only the newest cap bytes can stay. */
		memcpy(r->buf, p + (n - r->cap), r->cap);
		r->head = 0;
		r->len = r->cap;
		return;
	}
	first = r->cap - r->head < n ? r->cap - r->head : n;
	memcpy(r->buf + r->head, p, first);
	memcpy(r->buf, p + first, n - first);
	r->head = (r->head + n) % r->cap;
	r->len = r->len + n > r->cap ? r->cap : r->len + n;
}

static bool
has(const char *line, size_t n, const char *word)
{
	return memmem(line, n, word, strlen(word)) != NULL;
}

bool
cause_is_error(const char *line, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(low_levels) / sizeof(low_levels[0]); i++)
		if (has(line, n, low_levels[i]))
			return false;
	for (i = 0; i < sizeof(error_words) / sizeof(error_words[0]); i++)
		if (has(line, n, error_words[i]))
			return true;
	return false;
}

static bool
url_stop(char c)
{
	return c == '/' || c == '?' || c == '#' || c == ' ' || c == '\t' ||
	    c == '"' || c == '\'' || c == '<' || c == '>' || c == '\\' ||
	    c == '`';
}

/*
 * A URL's "user:pass@" becomes "***@", as proxy URLs are shown
 * everywhere: the userinfo of a URL ends at its last '@' before the host
 * part ends.  in starts at "://".  When the text was cut before the host
 * part ended, all of the rest is masked: it may be a userinfo.  Returns
 * how many bytes of in it used (0: nothing to mask), appending to out.
 */
static size_t
mask_userinfo(const char *in, size_t n, bool truncated, char *out, size_t cap,
    size_t *pos)
{
	size_t i, at = 0;

	for (i = 3; i < n && !url_stop(in[i]); i++)
		if (in[i] == '@')
			at = i;
	if (!at && !(i == n && truncated))
		return 0;
	if (*pos + 7 < cap) {
		memcpy(out + *pos, at ? "://***@" : "://***", at ? 7 : 6);
		*pos += at ? 7 : 6;
	}
	return at ? at + 1 : n;
}

/* An ANSI escape sequence (colours): ESC '[' ... a final byte. */
static size_t
ansi_len(const char *in, size_t n)
{
	size_t i;

	if (n < 2 || in[0] != 0x1b || in[1] != '[')
		return n > 0 && in[0] == 0x1b ? 1 : 0;
	for (i = 2; i < n; i++)
		if ((unsigned char)in[i] >= 0x40 &&
		    (unsigned char)in[i] <= 0x7e)
			return i + 1;
	return n;
}

static bool
blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Cut s[0..n) to at most max bytes, never inside a UTF-8 sequence
 * (continuation bytes are 10xxxxxx): the byte after the cut starts one. */
static size_t
cut_utf8(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

size_t
cause_clean(const char *line, size_t n, char *out, size_t cap)
{
	/* The line as shown: no colours, control bytes as blanks.  Then the
	 * credentials are masked in what is shown, and the first CAUSE_MAX
	 * bytes kept (one more tells a cut; a mask adds at most 7). */
	static char vis[CAUSE_RING];
	char tmp[CAUSE_MAX + 16];
	size_t i = 0, v = 0, start, pos = 0, k;
	bool truncated;

	if (cap == 0)
		return 0;
	while (i < n && v < sizeof(vis)) {
		if ((k = ansi_len(line + i, n - i))) {
			i += k;
			continue;
		}
		vis[v] = line[i++];
		if ((unsigned char)vis[v] < 0x20)
			vis[v] = ' '; /* a control byte */
		v++;
	}
	truncated = i < n;
	while (v > 0 && blank(vis[v - 1]))
		v--;
	for (start = 0; start < v && blank(vis[start]); start++)
		;
	for (i = start; i < v && pos <= CAUSE_MAX;) {
		if (vis[i] == ':' && i + 2 < v && vis[i + 1] == '/' &&
		    vis[i + 2] == '/' &&
		    (k = mask_userinfo(vis + i, v - i, truncated, tmp,
		         sizeof(tmp), &pos))) {
			i += k;
			continue;
		}
		tmp[pos++] = vis[i++];
	}
	pos = cut_utf8(tmp, pos, CAUSE_MAX);
	pos = cut_utf8(tmp, pos, cap - 1);
	while (pos > 0 && blank(tmp[pos - 1]))
		pos--;
	memcpy(out, tmp, pos);
	out[pos] = 0;
	return pos;
}

size_t
cause_find(const struct cause_ring *r, char *out, size_t cap)
{
	/* The ring, oldest byte first: one copy, then plain searches. */
	static char lin[CAUSE_RING];
	size_t n = r->len < sizeof(lin) ? r->len : sizeof(lin), start, end;

	if (cap)
		out[0] = 0;
	if (!r->cap || n == 0 || cap == 0)
		return 0;
	start = (r->head + r->cap - n) % r->cap;
	if (start + n <= r->cap)
		memcpy(lin, r->buf + start, n);
	else {
		memcpy(lin, r->buf + start, r->cap - start);
		memcpy(lin + (r->cap - start), r->buf, n - (r->cap - start));
	}
	/* Backwards, line by line; the first line may be cut (the ring's
	 * oldest bytes), which is as good a cause as any. */
	end = n;
	while (end > 0) {
		const char *nl = memrchr(lin, '\n', end);

		start = nl ? (size_t)(nl - lin) + 1 : 0;
		if (end > start && cause_is_error(lin + start, end - start) &&
		    cause_clean(lin + start, end - start, out, cap) > 0)
			return strlen(out);
		end = start ? start - 1 : 0;
	}
	out[0] = 0;
	return 0;
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

size_t
cause_normalize(const char *cause, char *out, size_t cap)
{
	size_t i = 0, pos = 0, n = strnlen(cause, CAUSE_BUF);

	if (cap == 0)
		return 0;
	while (i < n) {
		size_t j = i;
		bool digit = false;

		/* 0x...: a number, whatever its digits. */
		if (cause[i] == '0' && i + 2 < n &&
		    (cause[i + 1] == 'x' || cause[i + 1] == 'X') &&
		    is_hex(cause[i + 2])) {
			digit = true;
			j = i + 2;
		}
		while (j < n && is_hex(cause[j])) {
			digit = digit || (cause[j] >= '0' && cause[j] <= '9');
			j++;
		}
		if (j > i) {
			/* A run of hex digits: a number if it holds a digit,
			 * else a word ("added", "Devices"'s "De"). */
			if (!digit)
				for (; i < j && pos < cap - 1; i++)
					out[pos++] = cause[i];
			i = j;
			continue;
		}
		if (pos < cap - 1)
			out[pos++] = cause[i];
		i++;
	}
	out[pos] = 0;
	return pos;
}

bool
cause_same(const char *a, const char *b)
{
	char na[CAUSE_BUF], nb[CAUSE_BUF];

	if (!a || !b || !*a || !*b)
		return false;
	cause_normalize(a, na, sizeof(na));
	cause_normalize(b, nb, sizeof(nb));
	return strcmp(na, nb) == 0;
}

static bool
ihas(const char *s, const char *word)
{
	return strcasestr(s, word) != NULL;
}

/* The capabilities docker-in-gVisor sandboxes give dockerd (issue 4). */
#define DIND_CAPS \
	"CHOWN DAC_OVERRIDE FOWNER FSETID KILL MKNOD NET_BIND_SERVICE " \
	"NET_ADMIN NET_RAW SETFCAP SETGID SETPCAP SETUID SYS_ADMIN " \
	"SYS_CHROOT SYS_PTRACE AUDIT_WRITE"

bool
cause_dockerd_hint(const char *cause, const char *missing, char *buf,
    size_t cap)
{
	if (cap == 0)
		return false;
	buf[0] = 0;
	if (!cause || !*cause)
		return false;
	if (ihas(cause, "cannot execute") && ihas(cause, "No such file"))
		snprintf(buf, cap,
		    "dockerd is not in the image: install Docker's daemon "
		    "(Debian: docker.io) in a directory of PATH");
	else if (ihas(cause, "cgroup") &&
	    (ihas(cause, "mounted") || ihas(cause, "cgroup mount")))
		snprintf(buf, cap,
		    "dockerd needs the cgroup controllers (the devices "
		    "controller, or cgroup v2) mounted: under gVisor use a runsc "
		    "with cgroup support (this one mounts no devices controller "
		    "and no cgroup2); elsewhere mount them read-write (`docker "
		    "run --cgroupns=private`, or `mount -t cgroup -o devices "
		    "cgroup /sys/fs/cgroup/devices`)");
	else if (ihas(cause, "iptables") || ihas(cause, "NAT chain") ||
	    ihas(cause, "xtables"))
		snprintf(buf, cap,
		    "dockerd cannot set up its iptables NAT rules: give the "
		    "sandbox NET_ADMIN (`--cap-add NET_ADMIN`; under gVisor "
		    "also `runsc --net-raw`), or run dockerd without them: "
		    "AGENT_INIT_DOCKERD_ARGS=\"--iptables=false "
		    "--ip6tables=false\" (containers then get no NAT)");
	else if (ihas(cause, "graphdriver") || ihas(cause, "storage-driver") ||
	    ihas(cause, "storage driver") || ihas(cause, "overlay"))
		snprintf(buf, cap,
		    "dockerd's storage driver failed (overlay on overlay, or "
		    "no overlay here): AGENT_INIT_DOCKERD_ARGS="
		    "\"--storage-driver=vfs\" (slow, a full copy per layer), "
		    "fuse-overlayfs (needs /dev/fuse), or /var/lib/docker on a "
		    "volume or tmpfs, where overlay2 works");
	else if (ihas(cause, "address already in use") ||
	    ihas(cause, "pid file found") || ihas(cause, "is still running"))
		snprintf(buf, cap,
		    "another dockerd, or what a killed one left, holds its "
		    "socket or pidfile: stop the other dockerd, or remove the "
		    "stale /var/run/docker.pid and /var/run/docker.sock");
	else if (ihas(cause, "permission denied") ||
	    ihas(cause, "operation not permitted"))
		snprintf(buf, cap,
		    "dockerd was refused an operation: docker-in-gVisor "
		    "sandboxes give it " DIND_CAPS "%s%s%s",
		    missing && *missing ? "; this sandbox lacks " : "",
		    missing && *missing ? missing : "",
		    missing && *missing
		        ? ": add them (`docker run --cap-add ...`)"
		        : "; agent-init has all of them, so the refusal comes "
		          "from elsewhere (seccomp, a read-only mount, a user "
		          "namespace)");
	return buf[0] != 0;
}
