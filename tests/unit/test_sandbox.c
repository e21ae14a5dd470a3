/*
 * Unit tests of the sandbox's parent side: passwd and group lookups
 * (names, numbers, malformed lines, supplementary groups), the seccomp
 * policy file (comments, @default, FILE:LINE errors), and what
 * sandbox_init() decides from a service's keys (no_new_privs defaults,
 * rlimits, a compiled filter).  What the child does is tested with the
 * real binary (tests/integration/test_sandbox.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../core/config.c"
#include "../../core/values.c"
#include "../../core/file.c"
#include "../../supervisor/sandbox.c"

static char *
write_tmp(const char *text)
{
	char *path = strdup("/tmp/test_sandbox.XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
drop(char *path)
{
	unlink(path);
	free(path);
}

static const char passwd_text[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "# a comment line is no entry\n"
    "broken line without colons\n"
    "bad:x:notanumber:1::/:/bin/sh\n"
    "agent:x:1234:1500:Agent:/home/agent:/bin/sh\n"
    "short:x:77\n";

static void
test_lookup_user(void **state)
{
	char *p = write_tmp(passwd_text), name[32];
	uid_t uid = 9;
	gid_t gid = 9;

	(void)state;
	assert_int_equal(
	    sandbox_lookup_user(p, "agent", &uid, &gid, name, sizeof(name)), 0);
	assert_int_equal(uid, 1234);
	assert_int_equal(gid, 1500);
	assert_string_equal(name, "agent");
	/* By number: the entry's name comes back. */
	assert_int_equal(
	    sandbox_lookup_user(p, "0", &uid, &gid, name, sizeof(name)), 0);
	assert_int_equal(uid, 0);
	assert_string_equal(name, "root");
	assert_int_equal(sandbox_lookup_user(p, "nobody", &uid, &gid, NULL, 0),
	    -ENOENT);
	/* Malformed entries are skipped, never half-used. */
	assert_int_equal(sandbox_lookup_user(p, "bad", &uid, &gid, NULL, 0),
	    -ENOENT);
	assert_int_equal(sandbox_lookup_user(p, "short", &uid, &gid, NULL, 0),
	    -ENOENT);
	assert_int_equal(sandbox_lookup_user(p, "77", &uid, &gid, NULL, 0),
	    -ENOENT);
	assert_int_equal(sandbox_lookup_user("/nonexistent/passwd", "agent",
	                     &uid, &gid, NULL, 0),
	    -ENOENT);
	drop(p);
}

static void
test_long_line_is_one_entry(void **state)
{
	/* A long gecos field whose part past byte 1023 reads like an entry
	 * of its own: a reader with a 1 KiB buffer would find "fake". */
	char text[4096], *p;
	uid_t uid = 9;
	gid_t gid = 9;
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "long:x:5:5:");
	memset(text + n, 'g', 1023 - n);
	snprintf(text + 1023, sizeof(text) - 1023,
	    "fake:x:0:0::/:/bin/sh\n"
	    "agent:x:1234:1500::/:/bin/sh\n");
	p = write_tmp(text);
	assert_int_equal(sandbox_lookup_user(p, "fake", &uid, &gid, NULL, 0),
	    -ENOENT);
	assert_int_equal(sandbox_lookup_user(p, "agent", &uid, &gid, NULL, 0),
	    0);
	assert_int_equal(uid, 1234);
	assert_int_equal(sandbox_lookup_user(p, "long", &uid, &gid, NULL, 0),
	    0);
	assert_int_equal(uid, 5);
	drop(p);
}

static const char group_text[] = "root:x:0:\n"
                                 "agent:x:1500:\n"
                                 "docker:x:999:other,agent\n"
                                 "video:x:44:agent\n"
                                 "again:x:44:agent\n"
                                 "audio:x:29:other,agentx\n"
                                 "bad:x:zz:agent\n";

static void
test_lookup_group(void **state)
{
	char *p = write_tmp(group_text);
	gid_t gid = 0;

	(void)state;
	assert_int_equal(sandbox_lookup_group(p, "docker", &gid), 0);
	assert_int_equal(gid, 999);
	assert_int_equal(sandbox_lookup_group(p, "29", &gid), 0);
	assert_int_equal(gid, 29);
	assert_int_equal(sandbox_lookup_group(p, "bad", &gid), -ENOENT);
	assert_int_equal(sandbox_lookup_group(p, "nope", &gid), -ENOENT);
	drop(p);
}

static void
test_user_groups(void **state)
{
	char *p = write_tmp(group_text);
	gid_t g[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(sandbox_user_groups(p, "agent", 1500, g, 8, &n), 0);
	/* The primary first, then each group once ("again" repeats 44; a
	 * member "agentx" is not "agent"; "bad" has no number). */
	assert_int_equal(n, 3);
	assert_int_equal(g[0], 1500);
	assert_int_equal(g[1], 999);
	assert_int_equal(g[2], 44);
	/* No user name (a bare uid): the primary alone. */
	assert_int_equal(sandbox_user_groups(p, "", 4321, g, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(g[0], 4321);
	/* Too many for the room given is an error, not a silent cut. */
	assert_int_equal(sandbox_user_groups(p, "agent", 1500, g, 2, &n),
	    -ENOSPC);
	/* A missing group file: just the primary group. */
	assert_int_equal(
	    sandbox_user_groups("/nonexistent/group", "agent", 7, g, 8, &n), 0);
	assert_int_equal(n, 1);
	drop(p);
}

static void
test_policy_file(void **state)
{
	char err[512];
	char *good =
	    write_tmp("# comment\n\n  bpf  \nkeyctl # why\n@default\n");
	char *unknown = write_tmp("bpf\n# x\nno_such_call\n");
	char *two = write_tmp("bpf keyctl\n");
	char want[600];

	(void)state;
	assert_int_equal(sandbox_policy_check(good, err, sizeof(err)), 0);
	assert_int_equal(sandbox_policy_check(unknown, err, sizeof(err)),
	    -EINVAL);
	snprintf(want, sizeof(want), "%s:3: unknown syscall 'no_such_call'",
	    unknown);
	assert_string_equal(err, want);
	assert_int_equal(sandbox_policy_check(two, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: one syscall name a line", two);
	assert_memory_equal(err, want, strlen(want));
	assert_int_equal(
	    sandbox_policy_check("/nonexistent/policy", err, sizeof(err)),
	    -ENOENT);
	assert_non_null(strstr(err, "cannot open seccomp policy"));
	drop(good);
	drop(unknown);
	drop(two);
}

static void
test_default_table_resolves(void **state)
{
	size_t i;

	(void)state;
	/* Every name of the built-in table is a syscall libseccomp knows on
	 * some ABI (a typo would silently filter nothing). */
	for (i = 0; i < sandbox_default_ndenied; i++)
		assert_true(
		    seccomp_syscall_resolve_name(
		        sandbox_default_denied[i].name) != __NR_SCMP_ERROR);
}

static void
test_init_decisions(void **state)
{
	struct service_conf c;
	struct sandbox sb;
	char err[256];

	(void)state;
	config_service_defaults(&c, "svc");
	assert_int_equal(sandbox_init(&sb, &c, err, sizeof(err)), 0);
	assert_false(sb.any);
	assert_false(sb.nnp);
	assert_null(sb.seccomp.filter);

	/* A user switch turns no_new_privs on by default ... */
	snprintf(c.user, sizeof(c.user), "nobody");
	assert_int_equal(sandbox_init(&sb, &c, err, sizeof(err)), 0);
	assert_true(sb.any && sb.nnp && sb.set_uid && sb.set_gid);
	/* ... unless it is turned off. */
	c.no_new_privs = TRI_NO;
	assert_int_equal(sandbox_init(&sb, &c, err, sizeof(err)), 0);
	assert_false(sb.nnp);

	config_service_defaults(&c, "svc");
	snprintf(c.capabilities, sizeof(c.capabilities), "cap_chown, KILL");
	c.rlimit_core.set = true;
	c.rlimit_core.value = UINT64_MAX;
	snprintf(c.seccomp, sizeof(c.seccomp), "default");
	assert_int_equal(sandbox_init(&sb, &c, err, sizeof(err)), 0);
	assert_true(sb.caps && sb.nnp);
	assert_true(sb.capmask == ((1ULL << 0) | (1ULL << 5)));
	assert_true(sb.rlimits[2].set);
	assert_true(sb.rlimits[2].rl.rlim_cur == RLIM_INFINITY);
	assert_non_null(sb.seccomp.filter);
	assert_true(sb.seccomp.len > sandbox_default_ndenied);
	sandbox_free(&sb);

	snprintf(c.capabilities, sizeof(c.capabilities), "none");
	snprintf(c.seccomp, sizeof(c.seccomp), "none");
	assert_int_equal(sandbox_init(&sb, &c, err, sizeof(err)), 0);
	assert_true(sb.caps && sb.capmask == 0 && sb.nnp);
	assert_null(sb.seccomp.filter);
}

static void
test_step_names(void **state)
{
	(void)state;
	assert_string_equal(sandbox_step_name(SANDBOX_STEP_SECCOMP), "seccomp");
	assert_string_equal(sandbox_step_name(SANDBOX_STEP_WORKDIR), "workdir");
	assert_null(sandbox_step_name(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_user),
		cmocka_unit_test(test_long_line_is_one_entry),
		cmocka_unit_test(test_lookup_group),
		cmocka_unit_test(test_user_groups),
		cmocka_unit_test(test_policy_file),
		cmocka_unit_test(test_default_table_resolves),
		cmocka_unit_test(test_init_decisions),
		cmocka_unit_test(test_step_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
