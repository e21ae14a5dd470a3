/*
 * config — the INI configuration file.  See config.h.
 *
 * inih as Debian builds it has no line numbers in the handler
 * (INI_HANDLER_LINENO=0), so we feed it through our own line reader,
 * which counts lines; the handler reads the count.  The reader also sees
 * every raw line, which lets us check section headers (inih does not call
 * the handler for an empty section) and catch lines longer than inih's
 * fixed 200-byte buffer, which it would otherwise split silently.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "config.h"
#include "values.h"

struct parse {
	FILE *f;
	const char *path;
	unsigned int line;
	struct config *c;
	char *err;
	size_t errcap;
	bool failed;
};

static void __attribute__((format(printf, 2, 3)))
error_at(struct parse *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->failed)
		return; /* the first error is the one to fix first */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errcap, "%s:%u: %s", p->path, p->line, msg);
	p->failed = true;
}

/* Sections of the SPEC that this version does not run yet. */
static bool
section_later(const char *s)
{
	return strncmp(s, "service ", 8) == 0 || strncmp(s, "check ", 6) == 0;
}

static void
check_header(struct parse *p, const char *line)
{
	const char *s = line + strspn(line, " \t"), *end;
	char name[128];
	size_t n;

	if (*s != '[')
		return;
	end = strchr(s, ']');
	if (!end)
		return; /* inih reports it */
	n = (size_t)(end - s - 1);
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s + 1, n);
	name[n] = 0;
	if (strcmp(name, "init") == 0)
		return;
	if (section_later(name))
		error_at(p,
		    "[%s]: this section is not implemented in this "
		    "version yet",
		    name);
	else
		error_at(p, "unknown section [%s]", name);
}

static char *
reader(char *str, int num, void *stream)
{
	struct parse *p = stream;
	size_t len;

	if (!fgets(str, num, p->f))
		return NULL;
	p->line++;
	len = strlen(str);
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && !feof(p->f)) {
		int c;

		error_at(p, "line longer than %d characters", num - 2);
		/* Skip the rest so that it is not parsed as a line. */
		while ((c = fgetc(p->f)) != EOF && c != '\n')
			;
	}
	check_header(p, str);
	return str;
}

static bool
copy_value(struct parse *p, char *dst, size_t cap, const char *key,
    const char *value)
{
	if (strlen(value) >= cap) {
		error_at(p, "%s: value longer than %zu characters", key,
		    cap - 1);
		return false;
	}
	memcpy(dst, value, strlen(value) + 1);
	return true;
}

static void
init_key(struct parse *p, const char *key, const char *value)
{
	static const char *const later[] = {
		"ready_file",
		"control_socket",
		"termination_log",
		"checks",
		"check_timeout",
	};
	struct config *c = p->c;
	size_t i;

	if (strcmp(key, "events") == 0) {
		if (!value_events_dest(value))
			error_at(p,
			    "events: '%s' is not stdout, stderr, fd:N "
			    "or file:PATH",
			    value);
		else
			copy_value(p, c->events, sizeof(c->events), key, value);
	} else if (strcmp(key, "output") == 0) {
		if (strcmp(value, "raw") == 0)
			copy_value(p, c->output, sizeof(c->output), key, value);
		else if (strcmp(value, "prefix") == 0 ||
		    strcmp(value, "json") == 0)
			error_at(p,
			    "output = %s is not implemented in this "
			    "version yet",
			    value);
		else
			error_at(p, "output: '%s' is not raw, prefix or json",
			    value);
	} else if (strcmp(key, "stop_timeout") == 0) {
		if (value_duration_ms(value, &c->stop_timeout_ms) < 0 ||
		    c->stop_timeout_ms == 0)
			error_at(p,
			    "stop_timeout: '%s' is not a duration "
			    "(e.g. 500ms, 8s, 1m)",
			    value);
		else
			c->stop_timeout_set = true;
	} else {
		for (i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
			if (strcmp(key, later[i]) == 0) {
				error_at(p,
				    "[init] %s is not implemented in "
				    "this version yet",
				    key);
				return;
			}
		}
		error_at(p, "unknown key '%s' in [init]", key);
	}
}

/* inih's handler: nonzero means success. */
static int
handler(void *user, const char *section, const char *key, const char *value)
{
	struct parse *p = user;

	if (strcmp(section, "init") == 0)
		init_key(p, key, value);
	else if (!*section)
		error_at(p, "'%s' is outside of any section", key);
	/* Other sections were reported by check_header(). */
	return !p->failed;
}

int
config_load(const char *path, struct config *ret, char *err, size_t errcap)
{
	struct parse p;
	struct config c;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.c = &c;
	p.err = err;
	p.errcap = errcap;
	p.f = fopen(path, "re");
	if (!p.f) {
		r = -errno;
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		return r;
	}
	r = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.f);
	if (!p.failed && r > 0) {
		p.line = (unsigned int)r;
		error_at(&p,
		    "syntax error (expected [section], key = value "
		    "or a comment)");
	}
	if (p.failed)
		return -EINVAL;
	*ret = c;
	return 0;
}
