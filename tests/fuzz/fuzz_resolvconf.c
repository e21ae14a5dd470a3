/*
 * Fuzz target: resolv.conf(5) text through resolvconf_parse(), read by
 * length from a buffer exactly as long as the input (so ASan sees any read
 * past n), and, for inputs that start with "!!", through resolvconf_load()
 * with the text repeated past RESOLV_FILE_MAX (the cut after the last
 * whole line).  The result must respect every bound of resolvconf.h.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../core/file.c"
#include "../../core/resolvconf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct resolv_conf *c)
{
	unsigned int i;

	assert(c->nns <= RESOLV_MAX_NS && c->nsearch <= RESOLV_MAX_SEARCH);
	for (i = 0; i < c->nns; i++) {
		const struct resolv_ns *ns = &c->ns[i];

		assert(ns->family == AF_INET || ns->family == AF_INET6);
		assert(memchr(ns->text, 0, sizeof(ns->text)));
		assert(memchr(ns->scope, 0, sizeof(ns->scope)));
	}
	for (i = 0; i < c->nsearch; i++) {
		size_t l = strnlen(c->search[i], sizeof(c->search[i]));

		assert(l > 0 && l <= RESOLV_NAME_MAX);
	}
}

static void
load_big(const uint8_t *data, size_t size)
{
	static char big[RESOLV_FILE_MAX + 4096 * 2];
	static int fd = -1;
	static char path[64];
	struct resolv_conf c;
	size_t len = 0;

	if (fd < 0) {
		fd = memfd_create("fuzz-resolv", 0);
		assert(fd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	/* The text again and again until it is past the limit. */
	while (len <= RESOLV_FILE_MAX && len + size <= sizeof(big)) {
		memcpy(big + len, data, size);
		len += size;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, big, len, 0) != (ssize_t)len)
		abort();
	if (resolvconf_load(path, FILE_OPERATOR, &c) == 0) {
		check(&c);
		assert(c.truncated == (len > RESOLV_FILE_MAX));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resolv_conf c;

	assert(resolvconf_parse((const char *)data, size, &c) == 0);
	check(&c);
	if (size >= 16 && size <= 4096 && data[0] == '!' && data[1] == '!')
		load_big(data, size);
	return 0;
}
