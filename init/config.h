/*
 * config — the INI configuration file (SPEC section 3), parsed with inih.
 *
 * This version reads the [init] section's keys that the single-command
 * mode uses (events, output, stop_timeout); every other section and key of
 * the SPEC is recognised and refused as not implemented yet, so that a
 * configuration is never half-applied in silence.  Unknown sections and
 * keys, bad values and lines too long for inih are errors.
 *
 * Errors come back as one line "FILE:LINE: message" in err; the caller
 * prints it and exits 78 (EX_CONFIG) before starting anything.
 *
 * Public API: config_load().
 */
#ifndef AGENT_INIT_CONFIG_H
#define AGENT_INIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_DEFAULT_PATH "/etc/agent-init.conf"
#define CONFIG_VALUE_MAX 192

struct config {
	char events[CONFIG_VALUE_MAX];
	char output[16];
	uint64_t stop_timeout_ms;
	bool stop_timeout_set;
};

int config_load(const char *path, struct config *ret, char *err, size_t errcap);

#endif
