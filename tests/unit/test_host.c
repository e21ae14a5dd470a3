/*
 * Unit tests of the runtime classifier and the capabilities word behind
 * the `environment` event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../netcheck/host.c"
#include "../../core/events.c"
#include "../../core/loop.c"
#include "../../core/sink.c"

static void
test_runtimes(void **state)
{
	struct host_clues c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_string_equal(host_runtime(&c), "host");
	c.pid1_cgroup = "0::/system.slice/docker-abc.scope\n";
	assert_string_equal(host_runtime(&c), "container");
	c.cmdline = "console=ttyS0 virtio_mmio.device=4K@0xd0000000:5";
	assert_string_equal(host_runtime(&c), "firecracker");
	c.cmdline = "agent.log=debug systemd.unit=kata-containers.target";
	assert_string_equal(host_runtime(&c), "kata");
	c.uname_version = "#1 SMP Sun Jan 10 15:06:54 PST 2016";
	assert_string_equal(host_runtime(&c), "gvisor");
	memset(&c, 0, sizeof(c));
	c.uname_release = "4.19.0-gvisor";
	assert_string_equal(host_runtime(&c), "gvisor");
	memset(&c, 0, sizeof(c));
	c.pid1 = true;
	assert_string_equal(host_runtime(&c), "container");
	memset(&c, 0, sizeof(c));
	c.container_file = true;
	assert_string_equal(host_runtime(&c), "container");
	memset(&c, 0, sizeof(c));
	c.dmi_vendor = "Firecracker\n";
	assert_string_equal(host_runtime(&c), "firecracker");
}

/* The `caps` word, as libcap-ng's capng_have_capabilities() names it. */
static void
test_caps_word(void **state)
{
	(void)state;
	assert_string_equal(host_caps_word(0, 40), "none");
	assert_string_equal(host_caps_word((1ULL << 41) - 1, 40), "full");
	/* Bits the kernel does not know do not count. */
	assert_string_equal(host_caps_word(~0ULL, 40), "full");
	assert_string_equal(host_caps_word(1ULL << 50, 40), "none");
	assert_string_equal(
	    host_caps_word(((1ULL << 41) - 1) & ~(1ULL << 24), 40), "partial");
	assert_string_equal(host_caps_word(1ULL << 40, 40), "partial");
	assert_string_equal(host_caps_word(0xffffffffULL, 40), "partial");
	assert_string_equal(host_caps_word(~0ULL, 63), "full");
	assert_string_equal(host_caps_word(1, 0), "full");
	assert_null(host_caps_word(1, -1));
	assert_null(host_caps_word(1, 64));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtimes),
		cmocka_unit_test(test_caps_word),
	};

	return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
