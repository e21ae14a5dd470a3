/*
 * Unit tests of core/cgroup.c: which directory is our cgroup, from the
 * texts of /proc/self/cgroup and /proc/self/mountinfo as a host, a
 * container (its cgroup namespace or the host's) and a test show them;
 * and the values its files hold.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/file.c"
#include "../../core/cgroup.c"

/* This machine's mounts: v1 controllers, and v2 beside them (hybrid). */
static const char hybrid[] =
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup "
    "rw,cpu,cpuacct\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup "
    "rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void
want(const char *self, const char *mi, const char *ctl, int version,
    const char *dir)
{
	char buf[1024] = "";
	int r = cgroup_resolve(self, mi, ctl, buf, sizeof(buf));

	if (r != version || (dir && strcmp(buf, dir) != 0))
		fail_msg("%s: got %d '%s', want %d '%s'", ctl, r, buf, version,
		    dir ? dir : "");
}

static void
test_host(void **state)
{
	const char *self = "9:name=systemd:/\n8:pids:/user.slice\n"
	                   "4:memory:/process_api/7ae4d8\n"
	                   "2:cpu,cpuacct:/\n0::/\n";

	(void)state;
	want(self, hybrid, "memory", CGROUP_V1,
	    "/sys/fs/cgroup/memory/process_api/7ae4d8");
	want(self, hybrid, "pids", CGROUP_V1, "/sys/fs/cgroup/pids/user.slice");
	/* In a comma list of controllers; never a prefix of another name. */
	want(self, hybrid, "cpu", CGROUP_V1, "/sys/fs/cgroup/cpu,cpuacct");
	want(self, hybrid, "systemd", CGROUP_V2, "/sys/fs/cgroup/unified");
	/* No v1 hierarchy carries it: the unified one. */
	want(self, hybrid, "io", CGROUP_V2, "/sys/fs/cgroup/unified");
}

static void
test_container_v1(void **state)
{
	/* docker on v1 with the host's cgroup namespace: /proc/self/cgroup
	 * names the host's path, the mount shows only that directory. */
	const char *mi =
	    "700 699 0:32 /docker/0123abcd /sys/fs/cgroup/memory ro,nosuid "
	    "master:13 - cgroup cgroup rw,memory\n";

	(void)state;
	want("4:memory:/docker/0123abcd\n", mi, "memory", CGROUP_V1,
	    "/sys/fs/cgroup/memory");
	/* A test's read-only bind mount of a cgroup made under the host's. */
	want("4:memory:/docker/0123abcd/sub\n", mi, "memory", CGROUP_V1,
	    "/sys/fs/cgroup/memory/sub");
	/* A path the mount does not show (moved elsewhere since): the mount
	 * is still the only view there is. */
	want("4:memory:/elsewhere\n", mi, "memory", CGROUP_V1,
	    "/sys/fs/cgroup/memory");
	/* Not a prefix by path component. */
	want("4:memory:/docker/0123abcdef\n", mi, "memory", CGROUP_V1,
	    "/sys/fs/cgroup/memory");
}

static void
test_container_v2(void **state)
{
	const char *mi = "800 799 0:40 / /sys/fs/cgroup ro,nosuid - cgroup2 "
	                 "cgroup rw,nsdelegate\n";

	(void)state;
	/* Its own cgroup namespace: "/" is its cgroup. */
	want("0::/\n", mi, "memory", CGROUP_V2, "/sys/fs/cgroup");
	want("0::/system.slice/agent.service\n", mi, "memory", CGROUP_V2,
	    "/sys/fs/cgroup/system.slice/agent.service");
	/* Moved out of its namespace's root: "/.." is no directory. */
	want("0::/../sibling\n", mi, "memory", CGROUP_V2, "/sys/fs/cgroup");
}

static void
test_best_mount(void **state)
{
	/* Two mounts of the memory hierarchy: the one whose root covers
	 * most of our path wins, whatever the order. */
	const char *mi =
	    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
	    "90 31 0:32 /agents/a1 /run/a1\\040mem ro - cgroup cgroup "
	    "rw,memory\n";
	const char *mi2 =
	    "90 31 0:32 /agents/a1 /run/a1\\040mem ro - cgroup cgroup "
	    "rw,memory\n"
	    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";

	(void)state;
	want("4:memory:/agents/a1/x\n", mi, "memory", CGROUP_V1,
	    "/run/a1 mem/x");
	want("4:memory:/agents/a1/x\n", mi2, "memory", CGROUP_V1,
	    "/run/a1 mem/x");
	want("4:memory:/agents/a2\n", mi, "memory", CGROUP_V1,
	    "/sys/fs/cgroup/memory/agents/a2");
}

static void
test_nothing(void **state)
{
	char buf[64];

	(void)state;
	/* No cgroup file system at all (gVisor without cgroups). */
	want("", "", "memory", -ENOENT, NULL);
	want("4:memory:/\n",
	    "20 1 0:5 / /proc rw - proc proc rw\n"
	    "21 1 0:6 / /sys rw - sysfs sysfs rw\n",
	    "memory", -ENOENT, NULL);
	/* Broken lines are skipped, not trusted. */
	want("4:memory:/\n", "garbage\n35 31 0:32 / /m rw cgroup rw,memory\n",
	    "memory", -ENOENT, NULL);
	/* Too long for the caller's buffer. */
	assert_int_equal(cgroup_resolve("4:memory:/a/b/c/d/e/f/g/h/i/j/k\n",
	                     hybrid, "memory", buf, 20),
	    -ENAMETOOLONG);
}

static void
test_key(void **state)
{
	const char *v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n";
	const char *v2 = "low 0\nhigh 0\nmax 31\noom 2\noom_kill 1\n"
	                 "oom_group_kill 0\n";
	unsigned long long v = 99;

	(void)state;
	assert_int_equal(cgroup_key(v1, "oom_kill", &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(cgroup_key(v1, "oom_kill_disable", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cgroup_key(v2, "oom", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(cgroup_key(v2, "oom_kill", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(cgroup_key(v2, "max", &v), 0);
	assert_int_equal(v, 31);
	/* Linux before 4.13: no oom_kill line in v1. */
	v = 7;
	assert_int_equal(
	    cgroup_key("oom_kill_disable 0\nunder_oom 0\n", "oom_kill", &v),
	    -ENOENT);
	assert_int_equal(v, 7);
	assert_int_equal(cgroup_key("oom_kill x\n", "oom_kill", &v), -EINVAL);
	assert_int_equal(cgroup_key("oom_kill 3 4\n", "oom_kill", &v), -EINVAL);
	assert_int_equal(cgroup_key("oom_kill \n", "oom_kill", &v), -ENOENT);
	assert_int_equal(cgroup_key("", "oom_kill", &v), -ENOENT);
	/* The last line may lack its newline. */
	assert_int_equal(cgroup_key("a 1\noom_kill 12", "oom_kill", &v), 0);
	assert_int_equal(v, 12);
}

static void
test_value(void **state)
{
	unsigned long long v = 0;

	(void)state;
	assert_int_equal(cgroup_value("50331648\n", &v), 0);
	assert_int_equal(v, 50331648);
	assert_int_equal(cgroup_value("0", &v), 0);
	assert_int_equal(v, 0);
	/* No limit: v2's "max", v1's LONG_MAX rounded to a page. */
	assert_int_equal(cgroup_value("max\n", &v), 1);
	assert_int_equal(cgroup_value("9223372036854771712\n", &v), 1);
	assert_int_equal(cgroup_value("", &v), -EINVAL);
	assert_int_equal(cgroup_value("-1\n", &v), -EINVAL);
	assert_int_equal(cgroup_value("12 34\n", &v), -EINVAL);
	assert_int_equal(cgroup_value("99999999999999999999999\n", &v),
	    -EINVAL);
}

static void
test_read_value(void **state)
{
	char dir[] = "/tmp/agent-init-cgroup-XXXXXX", path[64];
	unsigned long long v = 0;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/memory.max", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("1048576\n", f);
	fclose(f);
	assert_int_equal(cgroup_read_value(dir, "memory.max", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(cgroup_read_value(dir, "memory.peak", &v), -ENOENT);
	/* A directory (or anything but a regular file) is never read. */
	assert_int_equal(cgroup_read_value("/tmp", "", &v), -EISDIR);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_container_v1),
		cmocka_unit_test(test_container_v2),
		cmocka_unit_test(test_best_mount),
		cmocka_unit_test(test_nothing),
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_value),
		cmocka_unit_test(test_read_value),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
