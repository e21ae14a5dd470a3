/*
 * Fuzz target: a whole configuration file through config_load(), that is
 * through Debian's inih and every key and value parser of core/config.c
 * and core/values.c, then the splitting service.c does at start (command
 * and env words).  config_load() takes a path, so the input goes into a
 * memfd read back through /proc/self/fd/N: no file system, no cleanup.
 *
 * Checked: an error is one line that starts with "PATH:" (the documented
 * "FILE:LINE: message"); a file that loads respects every limit of
 * config.h.  Every load releases the one before (config_load()), so
 * LeakSanitizer sees a leak of the arena at once.
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
check_words(const char *s, bool env)
{
	char **argv;
	const char *err;
	size_t argc, i, nl;

	if (value_words_alloc(s, &argv, &argc, &err) < 0)
		return;
	for (i = 0; env && i < argc; i++)
		assert(value_env_entry(argv[i], &nl) == 0);
	free(argv);
}

static void
check_service(const struct service_conf *s)
{
	unsigned int k;

	assert(s->name[0] && strlen(s->name) < CONFIG_NAME_MAX);
	assert(s->nready <= CONFIG_MAX_PROBES);
	assert(s->nafter <= CONFIG_MAX_AFTER);
	assert(s->backoff_first_ms <= s->backoff_cap_ms);
	assert(s->command && s->workdir && s->capabilities && s->seccomp);
	assert(strlen(s->command) <= CONFIG_LINE_MAX);
	for (k = 0; k < s->nafter; k++)
		assert(strcmp(s->after[k], s->name) != 0);
	for (k = 0; k < s->nready; k++) {
		assert(s->ready[k].arg && s->ready[k].line > s->line);
		assert(memchr(s->ready[k].host, 0, sizeof(s->ready[k].host)));
		/* A log: probe on raw output never loads. */
		assert(
		    s->ready[k].kind != PROBE_LOG || s->output != OUTPUT_RAW);
	}
	/* What svc_init() does with the command and the environment. */
	if (s->command[0] && !s->shell)
		check_words(s->command, false);
	for (k = 0; k < s->nenv; k++)
		check_words(s->env[k], true);
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
	assert(c.nchecks <= CONFIG_MAX_CHECKS);
	assert(
	    c.events && c.ready_file && c.control_socket && c.termination_log);
	for (i = 0; i < c.nservices; i++) {
		check_service(&c.services[i]);
		assert(
		    config_service(&c, c.services[i].name) == &c.services[i]);
	}
	/* Loading must also be repeatable: validate again. */
	assert(config_validate(&c, path, err, sizeof(err)) == 0);
	return 0;
}
