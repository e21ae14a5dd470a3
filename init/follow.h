/*
 * follow — one reader of a service's recent output (`agent-init ctl logs
 * [-n N] [-f] SERVICE`) on the control socket.
 *
 * The reader is a cursor into the service's log ring (core/logring.h)
 * and a small buffer of frames on their way to the client; it moves at
 * the client's pace and never at the service's expense.  A client that
 * reads too slowly is not waited for: when its next lines are gone from
 * the ring, it is told how many it missed (a skip frame) and goes on
 * from the oldest line still there.
 *
 * On the wire, after the JSON header line the control socket sends
 * ({"ok":true,"service":...,"follow":...}), frames: one byte of kind
 * ('o' stdout, 'e' stderr, 's' lines skipped), four bytes of payload
 * length (little endian), the payload (bytes of whole lines, split at
 * any byte; for 's' the count in decimal).  Without -f the server closes
 * once the output there was at the request is sent.
 *
 * Public API: follow_new(), follow_pump(), follow_service(),
 * follow_free(), follow_frame_parse().
 */
#ifndef AGENT_INIT_FOLLOW_H
#define AGENT_INIT_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service.h"

#define FOLLOW_FRAME_HDR 5
/* What one follower holds of frames not yet sent. */
#define FOLLOW_BUF 16384
/* At most this much is sent to one follower per wake-up. */
#define FOLLOW_BUDGET ((size_t)256 * 1024)

enum follow_state {
	FOLLOW_IDLE, /* caught up: call again when the service writes */
	FOLLOW_BLOCKED, /* the client's socket is full: call when writable */
	FOLLOW_DONE, /* all sent (without -f): close */
	FOLLOW_GONE, /* the client went away: close */
};

struct follow;

/* A follower of s from its last `last` lines on (UINT64_MAX: all),
 * following on when follow is set; header is sent first.  NULL: -ENOMEM. */
struct follow *follow_new(struct svc *s, uint64_t last, bool follow,
    const char *header, size_t header_len);
/* Send what there is to fd, as far as fd takes it now. */
enum follow_state follow_pump(struct follow *f, int fd);
struct svc *follow_service(const struct follow *f);
void follow_free(struct follow *f);

/* The client's side: one frame at the start of buf (n bytes).  Returns
 * the frame's whole length, 0 if more bytes are needed, -1 if it is
 * malformed; its kind and payload in *ret_kind, *ret_data, *ret_len. */
long follow_frame_parse(const char *buf, size_t n, char *ret_kind,
    const char **ret_data, size_t *ret_len);

#endif
