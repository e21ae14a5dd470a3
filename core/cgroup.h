/*
 * cgroup — where agent-init's own cgroup is, and what its files say.
 *
 * Our cgroup for a controller is not always /sys/fs/cgroup/CONTROLLER:
 * on a host (or in a test) we sit somewhere down the hierarchy, and in a
 * container whose cgroup namespace is the host's, /proc/self/cgroup names
 * a path such as /docker/ID while the container sees only that directory,
 * bind-mounted at /sys/fs/cgroup/memory.  So the directory is worked out
 * the way systemd does it: our path from /proc/self/cgroup, the mount of
 * that hierarchy from /proc/self/mountinfo (its root says which part of
 * the hierarchy it shows), and the mount point joined with what is left
 * of our path.
 *
 * The parsers are pure (no syscalls) and unit tested; cgroup_find() and
 * cgroup_read_value() read through core/file.c.
 *
 * Public API: cgroup_find(), cgroup_resolve(), cgroup_key(),
 * cgroup_value(), cgroup_read_value().
 */
#ifndef AGENT_INIT_CGROUP_H
#define AGENT_INIT_CGROUP_H

#include <stddef.h>

enum cgroup_version { CGROUP_NONE, CGROUP_V1, CGROUP_V2 };

/*
 * The directory of our cgroup for controller (e.g. "memory", "pids"):
 * the v1 hierarchy that carries it if there is one, else the v2 (unified)
 * hierarchy.  Returns CGROUP_V1 or CGROUP_V2, or -errno (-ENOENT: no such
 * hierarchy mounted).  Whether the controller's files exist there is the
 * caller's to find out.
 */
int cgroup_find(const char *controller, char *ret_dir, size_t cap);
/* The same from the texts of /proc/self/cgroup and /proc/self/mountinfo. */
int cgroup_resolve(const char *self_cgroup, const char *mountinfo,
    const char *controller, char *ret_dir, size_t cap);
/* "KEY N" on a line of its own (memory.events, memory.oom_control). */
int cgroup_key(const char *text, const char *key, unsigned long long *ret);
/*
 * A limit or a count as one number.  Returns 0, or 1 for "no limit"
 * ("max" on v2, v1's page-rounded LONG_MAX), or -EINVAL.
 */
int cgroup_value(const char *text, unsigned long long *ret);
/* cgroup_value() of DIR/FILE, or -errno when it cannot be read. */
int
cgroup_read_value(const char *dir, const char *file, unsigned long long *ret);

#endif
