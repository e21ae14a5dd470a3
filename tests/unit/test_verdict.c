/*
 * Unit tests of the verdicts and their remedies (issue 12): the
 * resolver's verdict cell by cell (reachability apart from the answer;
 * Docker's embedded DNS three ways apart), the proxy mismatch, gVisor's
 * network mode from what runsc showed, and every resolver hint over every
 * combination of the facts: a hint never proposes what is in place and
 * never blames a layer the facts exclude.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/events.c"
#include "../../core/file.c"
#include "../../core/loop.c"
#include "../../core/sink.c"
#include "../../netcheck/facts.c"
#include "../../netcheck/hints.c"
#include "../../netcheck/host.c"
#include "../../netcheck/httpmsg.c"
#include "../../netcheck/proxy.c"
#include "../../netcheck/verdict.c"

static struct dns_seen
reply(unsigned int rcode)
{
	struct dns_seen d = { .done = true, .has_reply = true, .rcode = rcode };

	return d;
}

static struct dns_seen
silent(const char *code)
{
	struct dns_seen d = { .done = true, .code = code };

	return d;
}

static void
assert_verdict(const struct resolver_seen *s, const char *status,
    const char *code)
{
	struct verdict v;

	verdict_resolver(s, &v);
	assert_string_equal(v.status, status);
	assert_string_equal(v.code, code);
}

static void
test_default_probe(void **state)
{
	static const unsigned int pass[] = { DNS_RCODE_NOERROR,
		DNS_RCODE_NXDOMAIN, DNS_RCODE_REFUSED, DNS_RCODE_NOTIMP,
		DNS_RCODE_FORMERR };
	struct resolver_seen s;
	size_t i;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.default_query = true;
	/* Any reply proves the server is there ... */
	for (i = 0; i < sizeof(pass) / sizeof(pass[0]); i++) {
		s.probe = reply(pass[i]);
		assert_verdict(&s, "ok", "ok");
	}
	/* ... but SERVFAIL says its upstream is broken. */
	s.probe = reply(DNS_RCODE_SERVFAIL);
	assert_verdict(&s, "fail", "servfail");
	s.probe = silent("timeout");
	assert_verdict(&s, "fail", "timeout");
	s.probe = silent("port_unreachable");
	assert_verdict(&s, "fail", "port_unreachable");
	s.probe = silent("net_unreachable");
	assert_verdict(&s, "fail", "net_unreachable");
	s.probe = silent("servfail"); /* a reply we could not read */
	assert_verdict(&s, "fail", "servfail");
	s.probe = silent(NULL);
	assert_verdict(&s, "fail", "timeout");
}

static void
test_query_name(void **state)
{
	struct resolver_seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.probe = reply(DNS_RCODE_NOERROR);
	assert_verdict(&s, "ok", "ok");
	s.probe = reply(DNS_RCODE_NXDOMAIN);
	assert_verdict(&s, "warn", "nxdomain");
	s.probe = reply(DNS_RCODE_REFUSED);
	assert_verdict(&s, "fail", "refused");
	s.probe = reply(DNS_RCODE_SERVFAIL);
	assert_verdict(&s, "fail", "servfail");
	s.probe = reply(DNS_RCODE_NOTIMP);
	assert_verdict(&s, "fail", "servfail");
}

static void
test_embedded(void **state)
{
	struct resolver_seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.default_query = true;
	s.embedded = s.self_asked = true;
	/* Docker answered the container's own name: it is there. */
	s.self = reply(DNS_RCODE_NOERROR);
	s.probe = silent("timeout");
	assert_verdict(&s, "fail", "upstream_dead");
	s.probe = reply(DNS_RCODE_SERVFAIL);
	assert_verdict(&s, "fail", "upstream_dead");
	/* Even an NXDOMAIN for a name it does not know proves it. */
	s.self = reply(DNS_RCODE_NXDOMAIN);
	s.probe = silent("timeout");
	assert_verdict(&s, "fail", "upstream_dead");
	/* The probe answered: healthy, whatever self said. */
	s.probe = reply(DNS_RCODE_REFUSED);
	assert_verdict(&s, "ok", "ok");
	/* Nothing came back at all: not the upstream's fault. */
	s.self = silent("timeout");
	s.probe = silent("timeout");
	assert_verdict(&s, "fail", "timeout");
	s.self = silent("port_unreachable");
	s.probe = silent("port_unreachable");
	assert_verdict(&s, "fail", "port_unreachable");
	/* Without the self query there is no proof either way. */
	s.self_asked = false;
	s.self = reply(DNS_RCODE_NOERROR);
	s.probe = silent("timeout");
	assert_verdict(&s, "fail", "timeout");
	/* Another nameserver's answer to "self" means nothing. */
	s.self_asked = true;
	s.embedded = false;
	assert_verdict(&s, "fail", "timeout");
}

static void
test_wait_self(void **state)
{
	struct resolver_seen s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.embedded = s.self_asked = true;
	s.probe = silent("timeout");
	assert_true(verdict_resolver_wait_self(&s));
	s.probe = reply(DNS_RCODE_SERVFAIL);
	assert_true(verdict_resolver_wait_self(&s));
	/* Proof already, or a failure self cannot change: decide now. */
	s.probe = reply(DNS_RCODE_REFUSED);
	assert_false(verdict_resolver_wait_self(&s));
	s.probe = silent("port_unreachable");
	assert_false(verdict_resolver_wait_self(&s));
	s.probe = silent("timeout");
	s.self = silent("timeout");
	assert_false(verdict_resolver_wait_self(&s));
	memset(&s.self, 0, sizeof(s.self));
	s.embedded = false;
	assert_false(verdict_resolver_wait_self(&s));
}

static void
test_mismatch(void **state)
{
	struct verdict v;

	(void)state;
	verdict_mismatch(PROXY_USE_OK, PROXY_USE_OK, &v);
	assert_string_equal(v.status, "warn");
	assert_string_equal(v.code, "mismatch");
	verdict_mismatch(PROXY_USE_OK, PROXY_USE_REFUSED, &v);
	assert_string_equal(v.status, "warn");
	verdict_mismatch(PROXY_USE_DOWN, PROXY_USE_OK, &v);
	assert_string_equal(v.status, "fail");
	assert_string_equal(v.code, "mismatch");
	verdict_mismatch(PROXY_USE_REFUSED, PROXY_USE_DOWN, &v);
	assert_string_equal(v.status, "fail");
}

static void
test_gvisor_net(void **state)
{
	(void)state;
	/* What runsc 20221219 showed (README "Troubleshooting"). */
	assert_int_equal(facts_gvisor_net_of("4096\t1048576\t4194304\n",
	                     "4096\t1048576\t4194304\n"),
	    GVISOR_NET_NETSTACK);
	assert_int_equal(facts_gvisor_net_of("4096 131072 33554432\n",
	                     "4096 16384 4194304\n"),
	    GVISOR_NET_HOST);
	/* Linux before 4.20, and a host tuned for one of the two. */
	assert_int_equal(
	    facts_gvisor_net_of("4096 87380 6291456", "4096 16384 4194304"),
	    GVISOR_NET_HOST);
	assert_int_equal(
	    facts_gvisor_net_of("4096 1048576 6291456", "4096 16384 4194304"),
	    GVISOR_NET_HOST);
	assert_int_equal(facts_gvisor_net_of(NULL, "4096 16384 4194304"),
	    GVISOR_NET_UNKNOWN);
	assert_int_equal(facts_gvisor_net_of("", ""), GVISOR_NET_UNKNOWN);
	assert_int_equal(facts_gvisor_net_of("4096 x 1", "1 2 3"),
	    GVISOR_NET_UNKNOWN);
	assert_string_equal(facts_gvisor_net_name(GVISOR_NET_NETSTACK),
	    "netstack");
	assert_string_equal(facts_gvisor_net_name(GVISOR_NET_HOST), "host");
}

static bool
has(const char *hint, const char *s)
{
	return strstr(hint, s) != NULL;
}

/* The rules every resolver hint keeps, for one combination of facts. */
static void
check_hint(const char *code, const struct hint_ctx *c)
{
	char buf[640];
	/* gVisor's netstack is to blame when the facts say so, or when the
	 * mode is unknown while resolv.conf says a user-defined network is in
	 * place (then only netstack keeps 127.0.0.11 away). */
	bool netstack = c->gvisor &&
	    (c->gvisor_net == GVISOR_NET_NETSTACK ||
	        (c->gvisor_net == GVISOR_NET_UNKNOWN && c->user_network));

	hint_for("resolver", code, c, buf, sizeof(buf));
	assert_true(buf[0] != 0);
	assert_true(strlen(buf) < sizeof(buf) - 1); /* never cut */
	if (!c->gvisor)
		assert_false(has(buf, "runsc") || has(buf, "gVisor"));
	if (c->gvisor_net == GVISOR_NET_HOST)
		assert_false(has(buf, "runsc --network=host"));
	if (c->user_network)
		assert_false(has(buf, "use a user-defined network"));
	if (!c->embedded_dns)
		assert_false(has(buf, "127.0.0.11") || has(buf, "runsc"));
	if (strcmp(code, "upstream_dead") == 0)
		assert_false(has(buf, "runsc") || has(buf, "DNAT") ||
		    has(buf, "user-defined network ("));
	if (c->embedded_dns && netstack &&
	    (strcmp(code, "timeout") == 0 ||
	        strcmp(code, "port_unreachable") == 0))
		assert_true(has(buf, "netstack") &&
		    (c->user_network ? has(buf, "runsc --network=host")
		                     : has(buf, "--dns IP")));
	if (c->embedded_dns && !netstack && c->user_network &&
	    strcmp(code, "port_unreachable") == 0 && !c->gvisor)
		assert_true(has(buf, "DNAT"));
	if (c->embedded_dns && !netstack && strcmp(code, "timeout") == 0)
		assert_true(has(buf, "dropped") && has(buf, "firewall rule"));
	if (c->embedded_dns && !c->user_network && !netstack &&
	    strcmp(code, "port_unreachable") == 0)
		assert_true(has(buf, "use a user-defined network"));
	if (c->proxy_set)
		assert_true(has(buf, "EAI_AGAIN"));
}

static void
test_hints_follow_the_facts(void **state)
{
	static const char *const codes[] = { "timeout", "port_unreachable",
		"net_unreachable", "servfail", "refused", "upstream_dead",
		"no_nameserver" };
	static const enum gvisor_net nets[] = { GVISOR_NET_UNKNOWN,
		GVISOR_NET_NETSTACK, GVISOR_NET_HOST };
	struct hint_ctx c;
	unsigned int bits, ci, ni, n = 0;

	(void)state;
	for (bits = 0; bits < 32; bits++)
		for (ni = 0; ni < 3; ni++)
			for (ci = 0; ci < sizeof(codes) / sizeof(codes[0]);
			     ci++) {
				memset(&c, 0, sizeof(c));
				c.gvisor = bits & 1;
				c.gvisor_net =
				    c.gvisor ? nets[ni] : GVISOR_NET_NONE;
				c.embedded_dns = bits & 2;
				c.user_network = bits & 4;
				c.self_asked = bits & 8;
				c.proxy_set = bits & 16;
				c.target =
				    c.embedded_dns ? "127.0.0.11" : "10.0.0.2";
				c.query = "api.example.test";
				if (strcmp(codes[ci], "upstream_dead") == 0 &&
				    !c.embedded_dns)
					continue;
				check_hint(codes[ci], &c);
				n++;
			}
	assert_true(n > 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_probe),
		cmocka_unit_test(test_query_name),
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_wait_self),
		cmocka_unit_test(test_mismatch),
		cmocka_unit_test(test_gvisor_net),
		cmocka_unit_test(test_hints_follow_the_facts),
	};

	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
