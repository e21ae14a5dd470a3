/*
 * resolvconf — what the C library will make of resolv.conf(5) and
 * hosts(5), for the `resolver` and `tcp` checks (SPEC section 8).
 *
 * resolvconf_parse() and hosts_lookup() work on text: no syscalls, no
 * allocation, bounded by the length given (the text need not end in a
 * NUL).  resolvconf_load() and hosts_load_lookup() read at most
 * RESOLV_FILE_MAX bytes of a file and hand them over.
 *
 * The parser follows glibc (resolv/res_init.c), the libc of most images;
 * where musl (src/network/resolvconf.c) differs, resolvconf.c says so.  A
 * checker that reads the file more kindly than libc would hide exactly the
 * mistakes it exists to find, so a line libc ignores is ignored here too,
 * and counted.
 *
 * Public API: resolvconf_parse(), resolvconf_load(), hosts_lookup(),
 * hosts_load_lookup().
 */
#ifndef AGENT_INIT_RESOLVCONF_H
#define AGENT_INIT_RESOLVCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MAXNS: glibc and musl query at most three name servers. */
#define RESOLV_LIBC_NS 3
#define RESOLV_MAX_NS 8
/* glibc before 2.26 and its _res.dnsrch: six search domains. */
#define RESOLV_MAX_SEARCH 6
/* A domain's text, without the trailing dot (RFC 1035 section 2.3.4). */
#define RESOLV_NAME_MAX 253
#define RESOLV_FILE_MAX 65536
#define HOSTS_MAX_ADDR 8

struct resolv_ns {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network order; 4 bytes for AF_INET */
	/* The zone after '%': a number is in scope_id; a name, which needs
	 * if_nametoindex(), only in scope. */
	unsigned int scope_id;
	char scope[16];
	char text[64]; /* canonical, with "%scope" */
};

struct resolv_conf {
	unsigned int nns;
	struct resolv_ns ns[RESOLV_MAX_NS];
	/* Good nameserver lines past the first three, which libc ignores
	 * (those past the eighth are not kept here either). */
	unsigned int ignored_ns;
	unsigned int nsearch;
	char search[RESOLV_MAX_SEARCH][RESOLV_NAME_MAX + 1];
	/* Search domains past the sixth, or too long to be names. */
	unsigned int ignored_search;
	unsigned int timeout_s; /* default 5 (RES_TIMEOUT) */
	unsigned int attempts; /* default 2 (RES_DFLRETRY) */
	unsigned int ndots; /* default 1 */
	bool rotate, edns0, use_vc, single_request, no_aaaa, trust_ad;
	/* A keyword libc knows with a value it rejects (a bad address,
	 * "ndots:x"): libc skips these silently. */
	unsigned int line_errors;
	/* Lines that are neither blank, comments nor keywords. */
	unsigned int unknown_lines;
	/* resolvconf_load(): the file was longer than RESOLV_FILE_MAX. */
	bool truncated;
};

struct hosts_result {
	unsigned int naddr4, naddr6;
	uint8_t addr4[HOSTS_MAX_ADDR][4];
	uint8_t addr6[HOSTS_MAX_ADDR][16];
	/* The first name on the first matching line. */
	char canonical[RESOLV_NAME_MAX + 1];
	/* The family of the first matching line's address. */
	int first_family;
};

int resolvconf_parse(const char *text, size_t n, struct resolv_conf *ret);
int resolvconf_load(const char *path, struct resolv_conf *ret);
int hosts_lookup(const char *text, size_t n, const char *name,
    struct hosts_result *ret);
int
hosts_load_lookup(const char *path, const char *name, struct hosts_result *ret);

#endif
