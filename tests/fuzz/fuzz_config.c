/*
 * Fuzz target: a whole configuration file through config_load(), that is
 * through Debian's inih and every key and value parser of core/config.c
 * and core/values.c, then the splitting service.c does at start (command
 * and env words).  config_load() takes a path, so the input goes into a
 * memfd read back through /proc/self/fd/N: no file system, no cleanup.
 *
 * Checked: an error is one line that starts with "PATH:" (the documented
 * "FILE:LINE: message"); a file that loads respects every limit of
 * config.h.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../core/config.c"
#include "../../core/file.c"
#include "../../supervisor/sandbox.c"
#include "../../core/values.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int mfd = -1;
static char path[64];

static void
check_service(const struct service_conf *s)
{
	char buf[CONFIG_VALUE_MAX * 2];
	char *argv[CONFIG_MAX_WORDS + 4];
	const char *err;
	size_t argc, i, nl;
	unsigned int k;

	assert(s->name[0] && strlen(s->name) < CONFIG_NAME_MAX);
	assert(s->nready <= CONFIG_MAX_PROBES);
	assert(s->nafter <= CONFIG_MAX_AFTER);
	assert(s->backoff_first_ms <= s->backoff_cap_ms);
	for (k = 0; k < s->nafter; k++)
		assert(strcmp(s->after[k], s->name) != 0);
	/* What svc_init() does with the command and the environment. */
	if (s->command[0] && !s->shell)
		(void)value_words(s->command, buf, sizeof(buf), argv,
		    CONFIG_MAX_WORDS + 1, &argc, &err);
	if (s->env[0] &&
	    value_words(s->env, buf, sizeof(buf), argv, CONFIG_MAX_ENV + 1,
	        &argc, &err) == 0)
		for (i = 0; i < argc; i++)
			assert(value_env_entry(argv[i], &nl) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	char err[512];
	unsigned int i;
	int r;

	if (mfd < 0) {
		mfd = memfd_create("fuzz-config", 0);
		assert(mfd >= 0);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	}
	if (ftruncate(mfd, 0) < 0 ||
	    pwrite(mfd, data, size, 0) != (ssize_t)size)
		abort();
	err[0] = 0;
	config_set_policy_check(sandbox_policy_check);
	r = config_load(path, &c, err, sizeof(err));
	if (r < 0) {
		/* One line: "FILE:LINE: message". */
		const char *q = err + strlen(path);

		assert(strncmp(err, path, strlen(path)) == 0 && *q == ':');
		for (q++; *q >= '0' && *q <= '9'; q++)
			;
		assert(q > err + strlen(path) + 1 && strncmp(q, ": ", 2) == 0);
		assert(strchr(err, '\n') == NULL);
		return 0;
	}
	assert(c.nservices <= CONFIG_MAX_SERVICES);
	assert(c.nchecks <= CONFIG_MAX_CHECKS);
	for (i = 0; i < c.nservices; i++) {
		check_service(&c.services[i]);
		assert(
		    config_service(&c, c.services[i].name) == &c.services[i]);
	}
	/* Loading must also be repeatable: validate again. */
	assert(config_validate(&c, path, err, sizeof(err)) == 0);
	return 0;
}
