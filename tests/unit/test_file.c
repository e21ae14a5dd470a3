/*
 * Unit tests of the one file reader: regular files of both kinds, the
 * size cap at its exact edge, a directory, a FIFO (refused when planted,
 * read to its end or timed out when the operator named it), /dev/zero
 * (too large, never a spin) and a missing file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "../../core/file.c"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/agent-init-file-%d", (int)getpid());
	return mkdir(dir, 0700);
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *
path(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void
write_file(const char *name, const char *text, size_t n)
{
	FILE *f = fopen(path(name), "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
}

static void
test_regular(void **state)
{
	char *d = NULL;
	size_t n = 0;

	(void)state;
	write_file("a", "hello\n", 6);
	assert_int_equal(file_read(path("a"), FILE_PLANTED, 6, 0, &d, &n), 0);
	assert_int_equal(n, 6);
	assert_string_equal(d, "hello\n");
	free(d);
	assert_int_equal(file_read(path("a"), FILE_OPERATOR, 100, 10, &d, &n),
	    0);
	assert_string_equal(d, "hello\n");
	free(d);
	/* One byte over the cap. */
	assert_int_equal(file_read(path("a"), FILE_PLANTED, 5, 0, &d, &n),
	    -EFBIG);
	write_file("e", "", 0);
	assert_int_equal(file_read(path("e"), FILE_PLANTED, 5, 0, &d, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(d, "");
	free(d);
}

static void
test_not_files(void **state)
{
	char *d = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(file_read(dir, FILE_OPERATOR, 100, 10, &d, &n),
	    -EISDIR);
	assert_int_equal(file_read(dir, FILE_PLANTED, 100, 10, &d, &n),
	    -EISDIR);
	assert_int_equal(
	    file_read(path("missing"), FILE_PLANTED, 100, 0, &d, &n), -ENOENT);
	assert_int_equal(file_read("/dev/zero", FILE_PLANTED, 100, 0, &d, &n),
	    -EINVAL);
	/* Endless data from an operator's path: too large, at once. */
	assert_int_equal(
	    file_read("/dev/zero", FILE_OPERATOR, 1 << 16, 5000, &d, &n),
	    -EFBIG);
	assert_string_equal(file_error(-EINVAL), "not a regular file");
	assert_string_equal(file_error(-ENOENT), strerror(ENOENT));
}

static void
test_fifo(void **state)
{
	char *d = NULL;
	size_t n = 0;
	pid_t pid;
	int st;

	(void)state;
	assert_int_equal(mkfifo(path("f"), 0600), 0);
	/* Planted: refused without waiting for a writer. */
	assert_int_equal(file_read(path("f"), FILE_PLANTED, 100, 0, &d, &n),
	    -EINVAL);
	/* The operator's FIFO with no writer: the deadline ends it. */
	assert_int_equal(file_read(path("f"), FILE_OPERATOR, 100, 50, &d, &n),
	    -ETIMEDOUT);
	/* A writer that comes late and writes in two pieces. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd;

		usleep(20000);
		fd = open(path("f"), O_WRONLY);
		if (write(fd, "[init]\n", 7) != 7)
			_exit(1);
		usleep(20000);
		if (write(fd, "checks = off\n", 13) != 13)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(file_read(path("f"), FILE_OPERATOR, 100, 5000, &d, &n),
	    0);
	assert_string_equal(d, "[init]\nchecks = off\n");
	free(d);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular),
		cmocka_unit_test(test_not_files),
		cmocka_unit_test(test_fifo),
	};

	return cmocka_run_group_tests_name("file", tests, setup, teardown);
}
