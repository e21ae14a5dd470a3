/*
 * sandbox — the per-service restrictions of SPEC section 10.
 *
 * Everything that can be decided before the fork is decided in the parent:
 * the seccomp filter is compiled once per service when the configuration is
 * loaded (sandbox_init), user and group names are resolved from the
 * image's /etc/passwd and /etc/group before each start (sandbox_prepare),
 * and a request agent-init cannot honour (an unknown user, a capability
 * outside its own bounding set) fails that start there, with a reason.
 * The child then runs sandbox_apply(): a straight line of system calls and
 * libcap-ng calls, no logging, each step checked, and the capability sets
 * read back after they were set; the first step that fails stops the start
 * and is reported with its errno through spawn's error pipe.
 *
 * Public API: sandbox_init(), sandbox_free(), sandbox_prepare(),
 * sandbox_apply(), sandbox_step_name(), sandbox_policy_check(),
 * sandbox_lookup_user(), sandbox_lookup_group(), sandbox_user_groups().
 */
#ifndef AGENT_INIT_SANDBOX_H
#define AGENT_INIT_SANDBOX_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "config.h"

#define SANDBOX_MAX_GROUPS 64

/* The steps, in the order the child takes them (spawn's step numbers
 * continue from these). */
enum sandbox_step {
	SANDBOX_STEP_RLIMIT = 100,
	SANDBOX_STEP_UMASK,
	SANDBOX_STEP_WORKDIR,
	SANDBOX_STEP_GROUPS,
	SANDBOX_STEP_BOUNDING,
	SANDBOX_STEP_IDS,
	SANDBOX_STEP_CAPS,
	SANDBOX_STEP_AMBIENT,
	SANDBOX_STEP_NNP,
	SANDBOX_STEP_SECCOMP,
};

struct sandbox_rlimit {
	bool set;
	int resource;
	struct rlimit rl;
};

struct sandbox {
	bool any; /* anything at all to apply */
	struct sandbox_rlimit rlimits[3];
	int umask; /* -1: inherit */
	const char *workdir; /* NULL: inherit */
	/* user / group: resolved by sandbox_prepare() at each start */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
	gid_t groups[SANDBOX_MAX_GROUPS];
	size_t ngroups;
	/* capabilities = LIST / none */
	bool caps;
	uint64_t capmask;
	bool nnp;
	struct sock_fprog seccomp; /* .filter NULL: no filter */
};

/*
 * From a service's configuration: rlimits, umask, workdir, capabilities,
 * no_new_privs and the compiled seccomp filter.  0, or -errno with a
 * message in err (a policy file that changed since the configuration was
 * checked).
 */
int sandbox_init(struct sandbox *sb, const struct service_conf *c, char *err,
    size_t errcap);
void sandbox_free(struct sandbox *sb);

/*
 * Before each start, in the parent: resolve `user` and `group` from the
 * files given (NULL: /etc/passwd and /etc/group), and check that every
 * capability asked for is in agent-init's own bounding set.  0, or
 * -errno (-ENOENT: no such user or group; -EPERM: a capability agent-init
 * cannot give) with the reason in why.
 */
int sandbox_prepare(struct sandbox *sb, const struct service_conf *c,
    const char *passwd, const char *group, char *why, size_t cap);

/*
 * In the child, between fork and exec.  0, or -errno (errno set too) and
 * the failed step in *ret_step.
 */
int sandbox_apply(const struct sandbox *sb, int *ret_step);

const char *sandbox_step_name(int step);

/*
 * A seccomp policy FILE: syscall names, one a line, `#` comments, and
 * `@default` for the built-in table.  0, or -errno (-EINVAL for what the
 * file says) with "FILE:LINE: message" in err.
 */
int sandbox_policy_check(const char *path, char *err, size_t errcap);

/* Lookups in passwd/group format files; 0, -ENOENT, or -errno. */
int sandbox_lookup_user(const char *path, const char *name, uid_t *ret_uid,
    gid_t *ret_gid, char *ret_name, size_t namecap);
int sandbox_lookup_group(const char *path, const char *name, gid_t *ret_gid);
/* The groups that list `user` as a member, after `primary`. */
int sandbox_user_groups(const char *path, const char *user, gid_t primary,
    gid_t *groups, size_t max, size_t *ret_n);

/* The built-in table, for tests and the README: name, reason. */
struct sandbox_denied {
	const char *name;
	const char *why;
};
extern const struct sandbox_denied sandbox_default_denied[];
extern const size_t sandbox_default_ndenied;

#endif
