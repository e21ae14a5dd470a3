/*
 * Fuzz target: the log ring (core/logring.c) under any sequence of
 * appends and reads.  Input: a ring size byte, then operations: an
 * append of lines whose lengths and stream the input chooses (batches
 * and single lines, some longer than the ring), or a read of a chunk
 * size the input chooses, or a reader moved to its last N lines.  A
 * model numbers every line ever appended; the reader must see each line
 * it does not miss whole and in order, and its skip counts must add up
 * exactly to the lines it missed (lines that were never kept at all, at
 * the very end, it cannot know about: a later record tells).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/logring.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXLINES 4096

static char lines[MAXLINES][64];
static uint64_t nl, seen;
static char partial[128];
static size_t plen;

/* Line i of the model: a length from the input, bytes from its number. */
static size_t
make_line(uint64_t i, size_t len)
{
	size_t j;

	for (j = 0; j < len; j++)
		lines[i][j] = (char)('a' + (i * 7 + j) % 26);
	lines[i][len] = '\n';
	lines[i][len + 1] = 0;
	return len + 1;
}

static void
take(const struct logring_chunk *ch, const char *buf)
{
	size_t j;

	if (ch->skipped) {
		plen = 0;
		seen += ch->skipped;
	}
	for (j = 0; j < ch->n; j++) {
		assert(plen < sizeof(partial) - 1);
		partial[plen++] = buf[j];
		if (buf[j] != '\n')
			continue;
		partial[plen] = 0;
		assert(seen < nl);
		assert(strcmp(partial, lines[seen]) == 0);
		seen++;
		plen = 0;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct logring r;
	struct logring_cur c;
	struct logring_chunk ch;
	char batch[2048], buf[256];
	size_t i = 1;

	if (size < 1)
		return 0;
	logring_init(&r, 16 + (size_t)data[0] * 4);
	nl = seen = 0;
	plen = 0;
	logring_seek_last(&r, 0, &c);
	while (i + 1 < size && nl + 32 < MAXLINES) {
		uint8_t op = data[i++], arg = data[i++];

		if (op % 3 == 0) { /* a batch of (arg % 8) + 1 lines */
			size_t bn = 0, k, n = (size_t)(arg % 8) + 1;

			for (k = 0; k < n; k++) {
				size_t len = (size_t)((arg * 13 + k * 29) % 60);

				memcpy(batch + bn, lines[nl],
				    make_line(nl, len));
				bn += len + 1;
				nl++;
			}
			(void)logring_put(&r, 1 + (op & 1), batch, bn, n);
		} else if (op % 3 == 1) { /* one line */
			size_t len = make_line(nl, arg % 60) - 1;

			(void)logring_put_line(&r, 2, lines[nl++], len);
		} else if (arg == 255) { /* a new reader: the last op/3 lines */
			uint64_t want = (uint64_t)(op / 3) % 8;

			logring_seek_last(&r, want, &c);
			assert(c.line <= nl);
			seen = c.line;
			plen = 0;
		} else if (logring_read(&r, &c, buf, 1 + arg % sizeof(buf),
		               &ch))
			take(&ch, buf);
	}
	while (logring_read(&r, &c, buf, sizeof(buf), &ch))
		take(&ch, buf);
	assert(seen == c.line && c.line <= nl);
	/* One more line, kept: the reader learns of all it missed. */
	if (r.cap > LOGRING_HDR + 2) {
		size_t len = make_line(nl, 0) - 1;

		(void)logring_put_line(&r, 1, lines[nl++], len);
		while (logring_read(&r, &c, buf, sizeof(buf), &ch))
			take(&ch, buf);
		assert(seen == nl && c.line == nl);
	}
	assert(logring_lines(&r) <= nl);
	logring_free(&r);
	return 0;
}
