/*
 * Fuzz target: hosts(5) text through hosts_lookup().  An input of the form
 * "NAME\0TEXT" looks up NAME; any other looks up "localhost" and one name
 * taken from the text (its second word, as a service's /etc/hosts would
 * name it), so that matches are common.  The text is read by length from
 * a buffer exactly as long as it.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/file.c"
#include "../../core/resolvconf.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
lookup(const char *text, size_t n, const char *name)
{
	struct hosts_result r;
	int e = hosts_lookup(text, n, name, &r);

	if (e != 0) {
		assert(e == -ENOENT || e == -EINVAL);
		return;
	}
	assert(r.naddr4 <= HOSTS_MAX_ADDR && r.naddr6 <= HOSTS_MAX_ADDR);
	assert(r.naddr4 + r.naddr6 > 0);
	assert(memchr(r.canonical, 0, sizeof(r.canonical)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	char name[RESOLV_NAME_MAX + 8];
	size_t i, j;

	if (nul && (size_t)(nul - data) < sizeof(name)) {
		memcpy(name, data, (size_t)(nul - data) + 1);
		lookup((const char *)nul + 1, size - (size_t)(nul - data) - 1,
		    name);
		return 0;
	}
	lookup(text, size, "localhost");
	/* The second word of the first line. */
	for (i = 0;
	     i < size && text[i] != ' ' && text[i] != '\t' && text[i] != '\n';
	     i++)
		;
	while (i < size && (text[i] == ' ' || text[i] == '\t'))
		i++;
	for (j = 0; i + j < size && j < sizeof(name) - 1 && text[i + j] > ' ';
	     j++)
		name[j] = text[i + j];
	name[j] = 0;
	if (j > 0)
		lookup(text, size, name);
	return 0;
}
