/*
 * Fuzz target: the probe endpoint's request parser (core/httpreq.c), fed
 * whatever a client on the network may send.  Checked: the answer is one
 * of the statuses httpreq.h lists; a request taken whole has a path that
 * starts with '/', holds only visible ASCII and no '?', and a length
 * within the bytes given and HTTPREQ_MAX; and the same head parsed again
 * alone, or with any bytes after it, gives the same answer.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/httpreq.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct httpreq r, again;
	int st = httpreq_parse(buf, size, &r);
	size_t i;

	assert(st == 0 || st == 200 || st == 400 || st == 405 || st == 414 ||
	    st == 431 || st == 505);
	if (st == 0)
		assert(size < HTTPREQ_MAX);
	if (st != 200)
		return 0;
	assert(r.len > 0 && r.len <= size && r.len <= HTTPREQ_MAX);
	assert(r.path[0] == '/');
	assert(strlen(r.path) < HTTPREQ_TARGET_MAX);
	for (i = 0; r.path[i]; i++)
		assert(
		    r.path[i] > 0x20 && r.path[i] < 0x7f && r.path[i] != '?');
	assert(httpreq_parse(buf, r.len, &again) == 200);
	assert(strcmp(again.path, r.path) == 0 && again.head == r.head &&
	    again.len == r.len);
	return 0;
}
