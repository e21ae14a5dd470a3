/*
 * Fuzz target: a crash's cause from a service's output
 * (supervisor/cause.c).  The input is output, fed to a small ring in
 * pieces whose sizes come from its first bytes (so that lines wrap around
 * the ring's end at every offset); then:
 *
 *   - cause_find(): a cause is at most CAUSE_MAX bytes, NUL-terminated,
 *     neither starts nor ends with a blank, holds no control byte, and
 *     no URL userinfo ("://x:y@" is always masked);
 *   - cause_normalize() and cause_same(): a cause is the same as itself
 *     (unless empty), and normalizing is idempotent;
 *   - cause_dockerd_hint(): any text, any size of buffer.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../supervisor/cause.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_cause(const char *c, size_t n)
{
	size_t i;

	assert(n == strlen(c) && n <= CAUSE_MAX);
	if (n == 0)
		return;
	assert(!blank(c[n - 1]) && !blank(c[0]));
	for (i = 0; i < n; i++)
		assert((unsigned char)c[i] >= 0x20 || c[i] == '\t');
	/* Masked userinfo: no "://" is followed by "...@" before the host
	 * part ends, except the mask itself. */
	for (const char *p = strstr(c, "://"); p; p = strstr(p + 3, "://")) {
		const char *q = p + 3;

		if (strncmp(q, "***@", 4) == 0)
			continue;
		while (*q && !url_stop(*q) && *q != '@')
			q++;
		/* An '@' here would have been masked, unless the cut came
		 * first (then there is none). */
		assert(*q != '@');
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char ring_buf[64 + 255 * 2];
	char out[CAUSE_BUF], norm[CAUSE_BUF], norm2[CAUSE_BUF];
	char hint[CAUSE_HINT_MAX], small[17];
	struct cause_ring r;
	size_t off = 0, n, step;

	cause_ring_init(&r, ring_buf, size ? 64 + data[0] * 2 : 64);
	while (off < size) {
		step = 1 + (size_t)data[off] % 97;
		if (step > size - off)
			step = size - off;
		cause_ring_add(&r, (const char *)data + off, step);
		assert(r.len <= r.cap && r.head < r.cap);
		off += step;
	}
	n = cause_find(&r, out, sizeof(out));
	check_cause(out, n);
	cause_normalize(out, norm, sizeof(norm));
	cause_normalize(norm, norm2, sizeof(norm2));
	assert(strcmp(norm, norm2) == 0);
	assert(cause_same(out, out) == (n > 0));
	/* Any text as a line, any buffer size. */
	n = cause_clean((const char *)data, size, out, sizeof(out));
	check_cause(out, n);
	(void)cause_clean((const char *)data, size, small,
	    size ? 1 + data[size - 1] % sizeof(small) : 1);
	memcpy(norm, out, n + 1);
	(void)cause_dockerd_hint(norm, "NET_ADMIN", hint, sizeof(hint));
	(void)cause_dockerd_hint(norm, "", hint, size % 8);
	return 0;
}
