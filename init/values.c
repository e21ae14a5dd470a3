/*
 * values — parsers for durations, booleans and counts.  See values.h.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "values.h"

int
value_uint(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*ret = v;
	return 0;
}

int
value_duration_ms(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", 1000 },
		{ "m", 60000 },
		{ "h", 3600000 },
		{ "", 1000 },
	};
	uint64_t v = 0;
	size_t i, digits = 0;

	if (!s)
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > VALUES_DURATION_MAX_MS)
			return -EINVAL;
	}
	if (digits == 0)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].suffix) == 0) {
			if (v > VALUES_DURATION_MAX_MS / units[i].ms)
				return -EINVAL;
			*ret_ms = v * units[i].ms;
			return 0;
		}
	}
	return -EINVAL;
}

int
value_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	if (!s)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool
value_events_dest(const char *dest)
{
	return strcmp(dest, "stdout") == 0 || strcmp(dest, "stderr") == 0 ||
	    strncmp(dest, "fd:", 3) == 0 || strncmp(dest, "file:", 5) == 0;
}
