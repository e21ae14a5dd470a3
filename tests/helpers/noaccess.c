/*
 * noaccess PROGRAM [ARG...] — run PROGRAM with access(2), faccessat(2)
 * and faccessat2(2) failing with ENOENT (TESTING.md section 10a).
 *
 * Debian's runsc (gVisor 20221219) decides "am I in the root network
 * namespace?" with access("/proc/sys/net/core/rmem_default"); on new
 * kernels that file exists in every namespace, so in its default mode
 * (netstack) every container fails with "cannot run with network enabled
 * in root network namespace".  The e2e tests' runsc-netstack wrapper
 * runs `runsc start` under this program.  A raw BPF filter: no
 * libseccomp needed.  Exit 126 when the filter cannot be set, 127 when
 * PROGRAM cannot be executed.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "noaccess: add this architecture's AUDIT_ARCH"
#endif

#ifndef SYS_faccessat2
#define SYS_faccessat2 439
#endif
#ifndef SYS_access
#define SYS_access 0xfffff /* aarch64 has none: a number never used */
#endif

#define NOENT (SECCOMP_RET_ERRNO | (ENOENT & SECCOMP_RET_DATA))

int
main(int argc, char **argv)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_access, 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_faccessat, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_faccessat2, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, NOENT),
	};
	struct sock_fprog p = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	if (argc < 2) {
		fprintf(stderr, "usage: noaccess PROGRAM [ARG...]\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p) < 0) {
		perror("noaccess: seccomp");
		return 126;
	}
	execv(argv[1], argv + 1);
	perror("noaccess: exec");
	return 127;
}
