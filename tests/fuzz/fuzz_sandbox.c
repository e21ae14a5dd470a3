/*
 * Fuzz target: the files the sandbox reads — a seccomp policy FILE
 * (sandbox_policy_check, then the filter compiled from it), and the
 * image's /etc/passwd and /etc/group (sandbox_lookup_user/_group,
 * sandbox_user_groups).  The input is written to a file of this process's
 * own, as the image would hold it.
 *
 * Checked beyond "no crash": a policy that passes the check compiles to a
 * non-empty BPF program; a rejected one gets one line "FILE:LINE: ..." or
 * "FILE: ..."; a lookup that succeeds names ids the file holds, and the
 * group list starts with the primary group, without repeats.
 */
#include <assert.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/config.c"
#include "../../core/values.c"
#include "../../core/file.c"
#include "../../supervisor/sandbox.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void
remove_file(void)
{
	unlink(path);
}

static void
put(const uint8_t *data, size_t size)
{
	int fd;

	if (!*path) {
		snprintf(path, sizeof(path), "/tmp/fuzz_sandbox.%d",
		    (int)getpid());
		atexit(remove_file);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert(fd >= 0);
	assert(write(fd, data, size) == (ssize_t)size);
	close(fd);
}

static void
policy(void)
{
	char err[512];
	struct sock_fprog prog = { 0, NULL };

	if (sandbox_policy_check(path, err, sizeof(err)) < 0) {
		assert(strncmp(err, path, strlen(path)) == 0);
		assert(err[strlen(path)] == ':');
		assert(!strchr(err, '\n'));
		return;
	}
	assert(seccomp_build(path, &prog, err, sizeof(err)) == 0);
	assert(prog.filter && prog.len > 0);
	free(prog.filter);
}

static void
ids(const uint8_t *data, size_t size)
{
	char name[64], uname[256];
	gid_t groups[SANDBOX_MAX_GROUPS];
	size_t i, j, n = 0, k;
	uid_t uid;
	gid_t gid;

	/* A name from the input's first word, so that matches happen. */
	for (k = 0; k < size && k < sizeof(name) - 1 && data[k] != ':' &&
	     data[k] != '\n' && data[k] != 0;
	     k++)
		name[k] = (char)data[k];
	name[k] = 0;
	if (sandbox_lookup_user(path, name, &uid, &gid, uname, sizeof(uname)) ==
	    0) {
		assert(uid != (uid_t)-1 && gid != (gid_t)-1);
		assert(memchr(uname, 0, sizeof(uname)));
	}
	(void)sandbox_lookup_group(path, name, &gid);
	if (sandbox_user_groups(path, name, 4242, groups, SANDBOX_MAX_GROUPS,
	        &n) == 0) {
		assert(n >= 1 && n <= SANDBOX_MAX_GROUPS);
		assert(groups[0] == 4242);
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				assert(groups[i] != groups[j]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	put(data, size);
	policy();
	ids(data, size);
	return 0;
}
