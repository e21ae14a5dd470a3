/*
 * sandbox — the per-service restrictions of SPEC section 10.  See
 * sandbox.h.
 */
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "file.h"
#include "sandbox.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_IS_SET 1
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/*
 * seccomp = default: what an agent never needs, refused with EPERM (a
 * program sees an ordinary "Operation not permitted", never a SIGSYS).
 * Everything else stays allowed: the filter is a floor under the
 * capability drop, for the day a capability check has a hole.
 */
const struct sandbox_denied sandbox_default_denied[] = {
	{ "init_module", "loads code into the kernel" },
	{ "finit_module", "loads code into the kernel" },
	{ "delete_module", "unloads kernel modules" },
	{ "kexec_load", "replaces the running kernel" },
	{ "kexec_file_load", "replaces the running kernel" },
	{ "reboot", "reboots or halts the machine (or the PID namespace)" },
	{ "swapon", "changes the host's swap" },
	{ "swapoff", "changes the host's swap" },
	{ "mount", "changes the mount table: a classic container escape" },
	{ "umount", "changes the mount table (i386)" },
	{ "umount2", "changes the mount table" },
	{ "pivot_root", "changes the root filesystem" },
	{ "move_mount", "new mount API" },
	{ "open_tree", "new mount API: clones mounts" },
	{ "fsopen", "new mount API" },
	{ "fsconfig", "new mount API" },
	{ "fsmount", "new mount API" },
	{ "fspick", "new mount API" },
	{ "mount_setattr", "changes mount flags" },
	{ "keyctl", "kernel keyrings are not namespaced" },
	{ "add_key", "kernel keyrings are not namespaced" },
	{ "request_key", "kernel keyrings are not namespaced" },
	{ "bpf", "loads programs into the kernel; frequent exploit vector" },
	{ "perf_event_open",
	    "kernel profiling; leaks addresses, exploit "
	    "vector" },
	{ "userfaultfd", "stalls kernel page faults: an exploit primitive" },
	{ "open_by_handle_at",
	    "opens files outside the container by handle "
	    "(the 'shocker' escape)" },
	{ "name_to_handle_at", "the other half of open_by_handle_at" },
	{ "settimeofday", "sets the host clock" },
	{ "stime", "sets the host clock (i386)" },
	{ "clock_settime", "sets the host clock" },
	{ "clock_adjtime", "adjusts the host clock" },
	{ "adjtimex", "adjusts the host clock" },
	{ "iopl", "raw I/O port access" },
	{ "ioperm", "raw I/O port access" },
	{ "acct", "process accounting for the whole host" },
	{ "quotactl", "filesystem quotas" },
	{ "quotactl_fd", "filesystem quotas" },
	{ "lookup_dcookie", "kernel profiling internals" },
	{ "process_vm_writev", "writes into another process's memory" },
	{ "syslog", "reads and clears the kernel log" },
	{ "uselib", "obsolete a.out loader" },
	{ "nfsservctl", "obsolete kernel NFS server control" },
	{ "vhangup", "hangs up the terminal of other processes" },
};
const size_t sandbox_default_ndenied =
    sizeof(sandbox_default_denied) / sizeof(sandbox_default_denied[0]);

/* --- passwd and group files --------------------------------------------- */

/* Split one line of a colon-separated file into at most n fields, in
 * place; the number of fields found. */
static size_t
split_colons(char *line, char **f, size_t n)
{
	size_t i = 0;

	line[strcspn(line, "\r\n")] = 0;
	f[i++] = line;
	while (i < n && (line = strchr(line, ':'))) {
		*line++ = 0;
		f[i++] = line;
	}
	return i;
}

/*
 * The image's passwd and group files are read by PID 1, and a service
 * that can write /etc may have planted something there: a FIFO (open
 * would wait for a writer), a device (/dev/zero never ends), a huge file.
 * So they are read through file_read() as planted files: only a regular
 * file of at most SANDBOX_FILE_MAX bytes, whole, without blocking; it is
 * then parsed from memory.  (A seccomp policy file is held to the same
 * rule: it is read twice, to check it and to compile it, which a FIFO
 * could not give.)  NULL with errno set (EINVAL: not a regular file,
 * EISDIR, EFBIG: too big).
 */
#define SANDBOX_FILE_MAX (4u << 20)

static FILE *
open_small(const char *path, char **ret_buf)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;
	int r = file_read(path, FILE_PLANTED, SANDBOX_FILE_MAX, 0, &buf, &len);

	if (r < 0) {
		errno = -r;
		return NULL;
	}
	/* fmemopen of zero bytes fails on some libcs: one NUL is no entry. */
	if (!(fp = fmemopen(buf, len ? len : 1, "r"))) {
		free(buf);
		return NULL;
	}
	*ret_buf = buf;
	return fp;
}

static void
close_small(FILE *fp, char *buf)
{
	fclose(fp);
	free(buf);
}

static bool
parse_id(const char *s, unsigned long *ret)
{
	char *end;

	if (!*s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	*ret = strtoul(s, &end, 10);
	return !*end && errno == 0 && *ret < UINT32_MAX;
}

/*
 * The entry of a passwd or group file whose name, or whose id (third
 * field), is `name`: its id, and with ret_id2 the fourth field as a
 * number too (passwd's gid).  0, -ENOENT, or -errno.
 */
static int
find_entry(const char *path, const char *name, unsigned long *ret_id,
    unsigned long *ret_id2, char *ret_name, size_t namecap)
{
	char *line = NULL, *f[5], *mem = NULL;
	size_t cap = 0, need = ret_id2 ? 4 : 3;
	unsigned long want = 0, id, id2 = 0;
	bool numeric = parse_id(name, &want);
	FILE *fp = open_small(path, &mem);
	int r = -ENOENT;

	if (!fp)
		return -errno;
	/* getline: a long line is one entry, never two. */
	while (getline(&line, &cap, fp) >= 0) {
		/* Five at most: enough to end the fourth field. */
		if (split_colons(line, f, 5) < need || !parse_id(f[2], &id) ||
		    (ret_id2 && !parse_id(f[3], &id2)))
			continue;
		if (numeric ? id != want : strcmp(f[0], name) != 0)
			continue;
		*ret_id = id;
		if (ret_id2)
			*ret_id2 = id2;
		if (ret_name)
			snprintf(ret_name, namecap, "%s", f[0]);
		r = 0;
		break;
	}
	free(line);
	close_small(fp, mem);
	return r;
}

int
sandbox_lookup_user(const char *path, const char *name, uid_t *ret_uid,
    gid_t *ret_gid, char *ret_name, size_t namecap)
{
	unsigned long uid = 0, gid = 0;
	int r = find_entry(path, name, &uid, &gid, ret_name, namecap);

	if (r == 0) {
		*ret_uid = (uid_t)uid;
		*ret_gid = (gid_t)gid;
	}
	return r;
}

int
sandbox_lookup_group(const char *path, const char *name, gid_t *ret_gid)
{
	unsigned long gid = 0;
	int r = find_entry(path, name, &gid, NULL, NULL, 0);

	if (r == 0)
		*ret_gid = (gid_t)gid;
	return r;
}

int
sandbox_user_groups(const char *path, const char *user, gid_t primary,
    gid_t *groups, size_t max, size_t *ret_n)
{
	char *line = NULL, *f[4], *m, *save = NULL, *mem = NULL;
	unsigned long gid;
	size_t n = 0, i, cap = 0;
	FILE *fp;
	int r = 0;

	if (max == 0)
		return -ENOSPC;
	groups[n++] = primary;
	*ret_n = n;
	if (!user || !*user)
		return 0;
	if (!(fp = open_small(path, &mem)))
		return errno == ENOENT ? 0 : -errno;
	while (r == 0 && getline(&line, &cap, fp) >= 0) {
		if (split_colons(line, f, 4) < 4 || !parse_id(f[2], &gid))
			continue;
		for (m = strtok_r(f[3], ",", &save); m;
		     m = strtok_r(NULL, ",", &save)) {
			if (strcmp(m, user) != 0)
				continue;
			for (i = 0; i < n && groups[i] != (gid_t)gid; i++)
				;
			if (i < n)
				break;
			if (n == max) {
				r = -ENOSPC;
				break;
			}
			groups[n++] = (gid_t)gid;
			break;
		}
	}
	free(line);
	close_small(fp, mem);
	*ret_n = n;
	return r;
}

/* --- seccomp ------------------------------------------------------------ */

/*
 * Walk a policy: the built-in table for "default", else the file's lines.
 * Calls add_fn(name) for each syscall; stops at the first error with
 * "FILE:LINE: message" in err: -EINVAL for what the file says, -errno
 * when it cannot be read.
 */
static int
policy_walk(const char *spec, int (*add_fn)(void *, const char *), void *data,
    char *err, size_t errcap)
{
	char line[256];
	unsigned int lineno = 0;
	size_t i;
	char *mem = NULL;
	FILE *fp;
	int r = 0;

	if (strcmp(spec, "default") == 0) {
		for (i = 0; i < sandbox_default_ndenied; i++)
			if (add_fn(data, sandbox_default_denied[i].name) < 0) {
				snprintf(err, errcap,
				    "seccomp: cannot add '%s' to the filter",
				    sandbox_default_denied[i].name);
				return -EINVAL;
			}
		return 0;
	}
	if (!(fp = open_small(spec, &mem))) {
		r = -errno;
		snprintf(err, errcap, "%s: cannot open seccomp policy: %s",
		    spec, file_error(r));
		return r;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *w, *end;

		lineno++;
		if (!strchr(line, '\n') && !feof(fp)) {
			snprintf(err, errcap, "%s:%u: line too long", spec,
			    lineno);
			r = -EINVAL;
			break;
		}
		line[strcspn(line, "#\r\n")] = 0;
		w = line + strspn(line, " \t");
		end = w + strcspn(w, " \t");
		if (*(end + strspn(end, " \t")) != 0) {
			snprintf(err, errcap,
			    "%s:%u: one syscall name a line, got '%s'", spec,
			    lineno, w);
			r = -EINVAL;
			break;
		}
		*end = 0;
		if (!*w)
			continue;
		if (strcmp(w, "@default") == 0) {
			if ((r = policy_walk("default", add_fn, data, err,
			         errcap)) < 0)
				break;
			continue;
		}
		if (strcmp(w, "write") == 0 ||
		    strcmp(w, "rt_sigprocmask") == 0) {
			/* The child needs them after the filter is loaded:
			 * to unblock signals, and to report a failed exec. */
			snprintf(err, errcap,
			    "%s:%u: '%s' cannot be refused: agent-init needs it "
			    "between the filter and exec",
			    spec, lineno, w);
			r = -EINVAL;
			break;
		}
		if (seccomp_syscall_resolve_name(w) == __NR_SCMP_ERROR) {
			snprintf(err, errcap, "%s:%u: unknown syscall '%s'",
			    spec, lineno, w);
			r = -EINVAL;
			break;
		}
		if (add_fn(data, w) < 0) {
			snprintf(err, errcap,
			    "%s:%u: cannot add '%s' to the filter", spec,
			    lineno, w);
			r = -EINVAL;
			break;
		}
	}
	if (r == 0 && ferror(fp)) {
		snprintf(err, errcap, "%s: read error", spec);
		r = -EINVAL;
	}
	close_small(fp, mem);
	return r;
}

static int
add_nothing(void *data, const char *name)
{
	(void)data;
	(void)name;
	return 0;
}

int
sandbox_policy_check(const char *path, char *err, size_t errcap)
{
	return policy_walk(path, add_nothing, NULL, err, errcap);
}

static int
add_rule(void *data, const char *name)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr == __NR_SCMP_ERROR)
		return -EINVAL;
	return seccomp_rule_add((scmp_filter_ctx)data, SCMP_ACT_ERRNO(EPERM),
	    nr, 0);
}

/*
 * Compile the filter for the native ABI and, on x86_64, for i386 and x32
 * too: otherwise `int $0x80` or the x32 syscall numbers would walk past
 * it.  An ABI outside the filter is killed (libseccomp's default for a
 * foreign architecture).  The BPF program is exported once into memory;
 * the child only hands it to the kernel.
 */
static int
seccomp_build(const char *spec, struct sock_fprog *ret, char *err,
    size_t errcap)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct stat st;
	int fd = -1, r;
	void *buf = NULL;

	if (!ctx) {
		snprintf(err, errcap, "seccomp: cannot create a filter");
		return -ENOMEM;
	}
#if defined(__x86_64__)
	if (seccomp_arch_add(ctx, SCMP_ARCH_X86) < 0 ||
	    seccomp_arch_add(ctx, SCMP_ARCH_X32) < 0) {
		snprintf(err, errcap,
		    "seccomp: cannot add the i386 and x32 "
		    "ABIs");
		r = -EINVAL;
		goto out;
	}
#endif
	if ((r = policy_walk(spec, add_rule, ctx, err, errcap)) < 0)
		goto out;
	fd = (int)syscall(SYS_memfd_create, "seccomp", MFD_CLOEXEC);
	if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0 || fstat(fd, &st) < 0 ||
	    st.st_size == 0 ||
	    st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size > (off_t)(BPF_MAXINSNS * sizeof(struct sock_filter))) {
		r = errno ? -errno : -EIO;
		snprintf(err, errcap, "seccomp: cannot export the filter: %s",
		    strerror(-r));
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf || pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		snprintf(err, errcap, "seccomp: cannot read the filter back");
		free(buf);
		r = -EIO;
		goto out;
	}
	ret->filter = buf;
	ret->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return r;
}

/* --- parent side -------------------------------------------------------- */

static uint64_t
caps_of(const char *list)
{
	char buf[CONFIG_VALUE_MAX], *w, *save = NULL;
	uint64_t mask = 0;

	if (strcmp(list, "none") == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (w = strtok_r(buf, " \t,", &save); w;
	     w = strtok_r(NULL, " \t,", &save)) {
		int c = capng_name_to_capability(
		    strncasecmp(w, "cap_", 4) == 0 ? w + 4 : w);

		if (c >= 0 && c < 64)
			mask |= 1ULL << c;
	}
	return mask;
}

int
sandbox_init(struct sandbox *sb, const struct service_conf *c, char *err,
    size_t errcap)
{
	const struct rlimit_conf *rl[3] = { &c->rlimit_nofile, &c->rlimit_nproc,
		&c->rlimit_core };
	static const int res[3] = { RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_CORE };
	bool filter = *c->seccomp && strcmp(c->seccomp, "none") != 0;
	size_t i;
	int r;

	memset(sb, 0, sizeof(*sb));
	for (i = 0; i < 3; i++) {
		if (!rl[i]->set)
			continue;
		sb->rlimits[i].set = true;
		sb->rlimits[i].resource = res[i];
		sb->rlimits[i].rl.rlim_cur = sb->rlimits[i].rl.rlim_max =
		    rl[i]->value == UINT64_MAX ? RLIM_INFINITY
		                               : (rlim_t)rl[i]->value;
		sb->any = true;
	}
	sb->umask = c->umask;
	if (*c->workdir)
		sb->workdir = c->workdir;
	sb->set_uid = *c->user != 0;
	sb->set_gid = *c->user != 0 || *c->group != 0;
	sb->caps = *c->capabilities != 0;
	if (sb->caps)
		sb->capmask = caps_of(c->capabilities);
	/* no_new_privs defaults to yes once anything drops privileges. */
	sb->nnp = c->no_new_privs == TRI_YES ||
	    (c->no_new_privs == TRI_UNSET &&
	        (sb->set_uid || sb->set_gid || sb->caps || filter));
	if (sb->umask >= 0 || sb->workdir || sb->set_gid || sb->caps ||
	    sb->nnp || filter)
		sb->any = true;
	if (filter &&
	    (r = seccomp_build(c->seccomp, &sb->seccomp, err, errcap)) < 0)
		return r;
	return 0;
}

void
sandbox_free(struct sandbox *sb)
{
	free(sb->seccomp.filter);
	sb->seccomp.filter = NULL;
}

/* Why a passwd or group file could not be read. */
static const char *
file_why(int r, const char *path, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s: %s", path, file_error(r));
	return buf;
}

/* agent-init's own effective and permitted sets. */
static void
own_caps(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	*eff = *prm = 0;
	if (syscall(SYS_capget, &h, d) < 0)
		return;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
}

int
sandbox_prepare(struct sandbox *sb, const struct service_conf *c,
    const char *passwd, const char *group, char *why, size_t cap)
{
	char uname[256] = "", fbuf[160];
	unsigned long id;
	uint64_t eff, prm, bnd = 0;
	int r, i;

	if (!passwd)
		passwd = "/etc/passwd";
	if (!group)
		group = "/etc/group";
	if (*c->user) {
		r = sandbox_lookup_user(passwd, c->user, &sb->uid, &sb->gid,
		    uname, sizeof(uname));
		if (r == -ENOENT && parse_id(c->user, &id)) {
			/* A bare uid the image does not list: its own
			 * number as the group, never root's group. */
			sb->uid = (uid_t)id;
			sb->gid = (gid_t)id;
		} else if (r < 0) {
			snprintf(why, cap, "user '%s': %s", c->user,
			    r == -ENOENT
			        ? "not found in the image's /etc/passwd"
			        : file_why(r, passwd, fbuf, sizeof(fbuf)));
			return r;
		}
	}
	if (*c->group) {
		r = sandbox_lookup_group(group, c->group, &sb->gid);
		if (r == -ENOENT && parse_id(c->group, &id)) {
			sb->gid = (gid_t)id;
		} else if (r < 0) {
			snprintf(why, cap, "group '%s': %s", c->group,
			    r == -ENOENT
			        ? "not found in the image's /etc/group"
			        : file_why(r, group, fbuf, sizeof(fbuf)));
			return r;
		}
	}
	sb->ngroups = 0;
	if (sb->set_gid &&
	    (r = sandbox_user_groups(group, uname, sb->gid, sb->groups,
	         SANDBOX_MAX_GROUPS, &sb->ngroups)) < 0) {
		snprintf(why, cap, "supplementary groups of '%s': %s", uname,
		    r == -ENOSPC ? "more than 64"
		                 : file_why(r, group, fbuf, sizeof(fbuf)));
		return r;
	}
	if (!sb->caps)
		return 0;
	/*
	 * What the child will need: every listed capability in our own
	 * bounding and permitted sets, and CAP_SETPCAP to shrink the
	 * bounding set (agent-init running as another uid has neither).
	 */
	own_caps(&eff, &prm);
	for (i = 0; i < 64 && prctl(PR_CAPBSET_READ, i, 0, 0, 0) >= 0; i++)
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) == 1)
			bnd |= 1ULL << i;
	if ((bnd & ~sb->capmask) && !(eff & (1ULL << CAP_SETPCAP))) {
		snprintf(why, cap,
		    "capabilities: agent-init (uid %u) lacks cap_setpcap, so "
		    "it cannot reduce the service's bounding set",
		    (unsigned)geteuid());
		return -EPERM;
	}
	for (i = 0; i < 64; i++) {
		if (!(sb->capmask & (1ULL << i)))
			continue;
		if (!(bnd & (1ULL << i)) || !(prm & (1ULL << i))) {
			const char *n = capng_capability_to_name((unsigned)i);

			snprintf(why, cap,
			    "capabilities: cap_%s is not in agent-init's own "
			    "%s set, so the service cannot have it",
			    n ? n : "?",
			    !(bnd & (1ULL << i)) ? "bounding" : "permitted");
			return -EPERM;
		}
	}
	return 0;
}

/* --- child side --------------------------------------------------------- */

static int
step_failed(int *ret_step, int step, int err)
{
	*ret_step = step;
	errno = err ? err : EPERM;
	return -errno;
}

/* Read back what the kernel holds and compare with the request: a drop
 * that libcap-ng could not make must not go unnoticed. */
static int
caps_verify(const struct sandbox *sb, int *ret_step)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t eff, prm, inh;
	unsigned int i;
	int r;

	if (syscall(SYS_capget, &h, d) < 0)
		return step_failed(ret_step, SANDBOX_STEP_CAPS, errno);
	eff = d[0].effective | (uint64_t)d[1].effective << 32;
	prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	if (eff != sb->capmask || prm != sb->capmask || inh != sb->capmask)
		return step_failed(ret_step, SANDBOX_STEP_CAPS, EPERM);
	for (i = 0; i < 64; i++) {
		bool want = sb->capmask & (1ULL << i);

		r = prctl(PR_CAPBSET_READ, i, 0, 0, 0);
		if (r < 0)
			break; /* past the kernel's last capability */
		if ((r == 1) != want)
			return step_failed(ret_step, SANDBOX_STEP_BOUNDING,
			    EPERM);
		/* For root, ambient capabilities mean nothing at exec; for
		 * another user they are how the list survives exec. */
		if (sb->set_uid && sb->uid != 0 &&
		    (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, i, 0, 0) ==
		        1) != want)
			return step_failed(ret_step, SANDBOX_STEP_AMBIENT,
			    EPERM);
	}
	return 0;
}

static int
apply_caps(const struct sandbox *sb, int *ret_step)
{
	unsigned int i;

	capng_clear(CAPNG_SELECT_ALL);
	for (i = 0; i < 64; i++)
		if ((sb->capmask & (1ULL << i)) &&
		    capng_update(CAPNG_ADD,
		        CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE |
		            CAPNG_BOUNDING_SET | CAPNG_AMBIENT,
		        i) < 0)
			return step_failed(ret_step, SANDBOX_STEP_CAPS, EINVAL);
	/*
	 * The bounding set first, while we still hold CAP_SETPCAP, and
	 * directly: libcap-ng's way reads /proc (absent in some images) and
	 * skips a drop it cannot make without an error.
	 */
	for (i = 0; i < 64; i++) {
		int r = prctl(PR_CAPBSET_READ, i, 0, 0, 0);

		if (r < 0)
			break; /* past the kernel's last capability */
		if (r == 1 && !(sb->capmask & (1ULL << i)) &&
		    prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0)
			return step_failed(ret_step, SANDBOX_STEP_BOUNDING,
			    errno);
	}
	/*
	 * Switch user while keeping the permitted set, so that the listed
	 * capabilities can survive it; effective is empty after the switch
	 * and the next capset sets exactly the list.
	 */
	if (sb->set_gid) {
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return step_failed(ret_step, SANDBOX_STEP_CAPS, errno);
		if (setresgid(sb->gid, sb->gid, sb->gid) < 0 ||
		    (sb->set_uid && setresuid(sb->uid, sb->uid, sb->uid) < 0))
			return step_failed(ret_step, SANDBOX_STEP_IDS, errno);
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return step_failed(ret_step, SANDBOX_STEP_CAPS, errno);
	}
	if (capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) < 0)
		return step_failed(ret_step, SANDBOX_STEP_CAPS, errno);
	return caps_verify(sb, ret_step);
}

int
sandbox_apply(const struct sandbox *sb, int *ret_step)
{
	size_t i;
	int r;

	for (i = 0; i < 3; i++)
		if (sb->rlimits[i].set &&
		    setrlimit(sb->rlimits[i].resource, &sb->rlimits[i].rl) < 0)
			return step_failed(ret_step, SANDBOX_STEP_RLIMIT,
			    errno);
	if (sb->umask >= 0)
		umask((mode_t)sb->umask);
	if (sb->workdir && chdir(sb->workdir) < 0)
		return step_failed(ret_step, SANDBOX_STEP_WORKDIR, errno);
	if (sb->set_gid && setgroups(sb->ngroups, sb->groups) < 0)
		return step_failed(ret_step, SANDBOX_STEP_GROUPS, errno);
	if (sb->caps) {
		if ((r = apply_caps(sb, ret_step)) < 0)
			return r;
	} else if (sb->set_gid) {
		if (setresgid(sb->gid, sb->gid, sb->gid) < 0 ||
		    (sb->set_uid && setresuid(sb->uid, sb->uid, sb->uid) < 0))
			return step_failed(ret_step, SANDBOX_STEP_IDS, errno);
	}
	if (sb->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return step_failed(ret_step, SANDBOX_STEP_NNP, errno);
	if (sb->seccomp.filter &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sb->seccomp, 0, 0) < 0)
		return step_failed(ret_step, SANDBOX_STEP_SECCOMP, errno);
	return 0;
}

const char *
sandbox_step_name(int step)
{
	switch (step) {
	case SANDBOX_STEP_RLIMIT:
		return "rlimit";
	case SANDBOX_STEP_UMASK:
		return "umask";
	case SANDBOX_STEP_WORKDIR:
		return "workdir";
	case SANDBOX_STEP_GROUPS:
		return "groups";
	case SANDBOX_STEP_BOUNDING:
		return "capabilities (bounding set)";
	case SANDBOX_STEP_IDS:
		return "user/group";
	case SANDBOX_STEP_CAPS:
		return "capabilities";
	case SANDBOX_STEP_AMBIENT:
		return "capabilities (ambient set)";
	case SANDBOX_STEP_NNP:
		return "no_new_privs";
	case SANDBOX_STEP_SECCOMP:
		return "seccomp";
	default:
		return NULL;
	}
}
