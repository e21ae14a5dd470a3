/*
 * cgroup — our cgroup's directory, and its files.  See cgroup.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "file.h"

/* /proc/self/mountinfo on a busy host is a few hundred lines. */
#define CGROUP_MOUNTINFO_MAX ((size_t)1 << 20)
#define CGROUP_FILE_MAX 4096

/* The line of text starting at p, as [p, end); the next line after it. */
static const char *
line_end(const char *p)
{
	const char *e = strchr(p, '\n');

	return e ? e : p + strlen(p);
}

/* Is word one of the comma-separated words of [list, end)? */
static bool
in_list(const char *list, const char *end, const char *word)
{
	size_t n = strlen(word);

	while (list < end) {
		const char *c = memchr(list, ',', (size_t)(end - list));
		const char *we = c ? c : end;

		if ((size_t)(we - list) == n && strncmp(list, word, n) == 0)
			return true;
		list = we + 1;
	}
	return false;
}

/*
 * Our path in the hierarchy: for v1 the line whose controllers include
 * controller, for v2 the line "0::PATH".  0 and the path, or -ENOENT.
 */
static int
self_path(const char *text, const char *controller, bool v2, char *ret,
    size_t cap)
{
	const char *p = text;

	while (*p) {
		const char *e = line_end(p);
		const char *c1 = memchr(p, ':', (size_t)(e - p));
		const char *c2 =
		    c1 ? memchr(c1 + 1, ':', (size_t)(e - c1 - 1)) : NULL;

		if (c2 &&
		    (v2 ? c1 == p + 1 && *p == '0' && c2 == c1 + 1
		        : in_list(c1 + 1, c2, controller))) {
			if ((size_t)(e - c2 - 1) >= cap)
				return -ENAMETOOLONG;
			memcpy(ret, c2 + 1, (size_t)(e - c2 - 1));
			ret[e - c2 - 1] = 0;
			return 0;
		}
		p = *e ? e + 1 : e;
	}
	return -ENOENT;
}

/* A field of mountinfo with its octal escapes (\040 ...) decoded. */
static void
decode_field(const char *s, size_t n, char *ret, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n && o + 1 < cap) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' &&
		    s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
		    s[i + 3] >= '0' && s[i + 3] <= '7') {
			ret[o++] = (char)((s[i + 1] - '0') * 64 +
			    (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
			i += 4;
		} else
			ret[o++] = s[i++];
	}
	ret[o] = 0;
}

struct mount_line {
	char root[512];
	char point[512];
	bool cgroup1, cgroup2;
	const char *super, *super_end; /* the super options */
};

/*
 * One line of mountinfo: "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...]
 * - FSTYPE SOURCE SUPEROPTS".  0, or -EINVAL for a line we cannot read.
 */
static int
parse_mount(const char *p, const char *e, struct mount_line *m)
{
	const char *f[6], *dash;
	size_t i;

	for (i = 0; i < 6; i++) {
		while (p < e && *p == ' ')
			p++;
		f[i] = p;
		while (p < e && *p != ' ')
			p++;
	}
	if (p >= e)
		return -EINVAL;
	dash = strstr(p, " - ");
	if (!dash || dash >= e)
		return -EINVAL;
	decode_field(f[3], (size_t)(f[4] - f[3] - 1), m->root, sizeof(m->root));
	decode_field(f[4], (size_t)(f[5] - f[4] - 1), m->point,
	    sizeof(m->point));
	p = dash + 3;
	m->cgroup1 = strncmp(p, "cgroup ", 7) == 0;
	m->cgroup2 = strncmp(p, "cgroup2 ", 8) == 0;
	p = memchr(p, ' ', (size_t)(e - p)); /* after the type */
	p = p ? memchr(p + 1, ' ', (size_t)(e - p - 1)) : NULL; /* source */
	m->super = p ? p + 1 : e;
	m->super_end = e;
	return 0;
}

/* How much of path the mount's root covers, or -1 when it does not. */
static long
root_covers(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return 0;
	if (strncmp(path, root, n) != 0 || (path[n] && path[n] != '/'))
		return -1;
	return (long)n;
}

int
cgroup_resolve(const char *self_cgroup, const char *mountinfo,
    const char *controller, char *ret_dir, size_t cap)
{
	char path[512], best[1024] = "";
	long best_len = -2;
	int v, r;

	for (v = CGROUP_V1; v <= CGROUP_V2; v++) {
		const char *p = mountinfo;

		if (self_path(self_cgroup, controller, v == CGROUP_V2, path,
		        sizeof(path)) < 0)
			continue;
		while (*p) {
			const char *e = line_end(p);
			struct mount_line m;
			long cov;

			r = parse_mount(p, e, &m);
			p = *e ? e + 1 : e;
			if (r < 0 ||
			    !(v == CGROUP_V1 ? m.cgroup1 &&
			                in_list(m.super, m.super_end,
			                    controller)
			                     : m.cgroup2))
				continue;
			/*
			 * The mount whose root covers most of our path; a
			 * mount that shows another part of the hierarchy (our
			 * path is not under its root: a cgroup namespace, or
			 * a container's bind mount of its own directory) is
			 * taken as ours only when nothing better is there.
			 */
			cov = root_covers(m.root, path);
			if (cov <= best_len)
				continue;
			if (cov >= 0 && strncmp(path + cov, "/..", 3) != 0)
				snprintf(best, sizeof(best), "%s%s", m.point,
				    strcmp(path + cov, "/") == 0 ? ""
				                                 : path + cov);
			else
				snprintf(best, sizeof(best), "%s", m.point);
			best_len = cov;
		}
		if (best_len > -2) {
			if (strlen(best) >= cap)
				return -ENAMETOOLONG;
			memcpy(ret_dir, best, strlen(best) + 1);
			return v;
		}
	}
	return -ENOENT;
}

int
cgroup_find(const char *controller, char *ret_dir, size_t cap)
{
	char *self = NULL, *mi = NULL;
	size_t n;
	int r;

	if ((r = file_read("/proc/self/cgroup", FILE_PLANTED, (size_t)64 * 1024,
	         0, &self, &n)) < 0)
		return r;
	if ((r = file_read("/proc/self/mountinfo", FILE_PLANTED,
	         CGROUP_MOUNTINFO_MAX, 0, &mi, &n)) < 0) {
		free(self);
		return r;
	}
	r = cgroup_resolve(self, mi, controller, ret_dir, cap);
	free(self);
	free(mi);
	return r;
}

int
cgroup_key(const char *text, const char *key, unsigned long long *ret)
{
	size_t n = strlen(key);
	const char *p = text;

	while (*p) {
		const char *e = line_end(p);

		if ((size_t)(e - p) > n + 1 && strncmp(p, key, n) == 0 &&
		    p[n] == ' ') {
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(p + n + 1, &end, 10);
			if (errno || end == p + n + 1 || end != e)
				return -EINVAL;
			*ret = v;
			return 0;
		}
		p = *e ? e + 1 : e;
	}
	return -ENOENT;
}

int
cgroup_value(const char *text, unsigned long long *ret)
{
	unsigned long long v;
	char *end;

	if (strcmp(text, "max\n") == 0 || strcmp(text, "max") == 0)
		return 1;
	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || (*end && strcmp(end, "\n") != 0))
		return -EINVAL;
	/* v1 says "no limit" with LONG_MAX rounded down to a page. */
	if (v >= (1ULL << 62))
		return 1;
	*ret = v;
	return 0;
}

int
cgroup_read_value(const char *dir, const char *file, unsigned long long *ret)
{
	char path[1100], *text = NULL;
	size_t n;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	if ((r = file_read(path, FILE_PLANTED, CGROUP_FILE_MAX, 0, &text, &n)) <
	    0)
		return r;
	r = cgroup_value(text, ret);
	free(text);
	return r;
}
