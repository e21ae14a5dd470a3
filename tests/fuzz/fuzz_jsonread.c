/*
 * Fuzz target: the JSON reader of agent-init's clients (core/jsonread.c),
 * fed arbitrary bytes (a reply from something that is not agent-init, a
 * truncated reply).  Every member and element is visited and every string
 * decoded: nothing may be read outside the input.  And the round trip
 * with the event writer's escaping: for input that is valid UTF-8, what
 * json_escape() writes, json_string() reads back byte for byte.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/events.c"
#include "../../core/jsonread.c"
#include "../../core/loop.c"
#include "../../core/sink.c"

#include "jsoncheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "ready", "healthy", "services", "name",
	"state", "error", "code", "checks", "summary", "last_exit" };

static void
walk(struct json_span v, int depth)
{
	static char buf[512];
	struct json_span it = { NULL, NULL };
	long long n;
	size_t i;

	if (!v.p || depth > 8)
		return;
	(void)json_string(v, buf, sizeof(buf));
	(void)json_int(v, &n);
	(void)json_is_true(v);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		walk(json_get(v, keys[i]), depth + 1);
	while (json_next(v, &it))
		walk(it, depth + 1);
}

static bool
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t k = jc_utf8(s + i, n - i);

		if (!k)
			return false;
		i += k;
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char esc[6 * 4096 + 3], back[4097];
	size_t used, k;

	walk(json_value((const char *)data, size), 0);
	if (size > 4096 || !valid_utf8(data, size) || memchr(data, 0, size))
		return 0;
	esc[0] = '"';
	k = json_escape(esc + 1, sizeof(esc) - 2, (const char *)data, size,
	    &used);
	assert(used == size);
	esc[k + 1] = '"';
	{
		struct json_span v = json_value(esc, k + 2);

		assert(v.p == esc && v.end == esc + k + 2);
		assert(json_string(v, back, sizeof(back)));
		assert(strlen(back) == size && memcmp(back, data, size) == 0);
	}
	return 0;
}
