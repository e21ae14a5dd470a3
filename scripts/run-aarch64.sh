#!/bin/sh
# run-aarch64.sh BIN HELPERS: test the aarch64 build on this x86_64
# machine under qemu-user (Debian's qemu-user-static), without binfmt_misc:
# every aarch64 program is started as `qemu-aarch64-static PROGRAM`, and
# what the emulated agent-init starts (the helpers, /bin/sh) are the
# host's own, native programs.
#
# 1. The unit tests, built for aarch64 (static musl, the aarch64 libraries
#    and cmocka of build/deps/aarch64), each run under the emulator.
# 2. An integration subset with BIN as PID 1 of a fresh PID namespace
#    (tests/integration with EMULATOR set, see harness.py): reaping, signal
#    forwarding, exit statuses, services from a config (order, restarts,
#    shutdown), probes, config errors, sandboxing, version and help, and
#    `netcheck --json` against DNS servers and proxies the tests start in
#    network namespaces of their own.
#
# Not covered under emulation, because qemu-user refuses the call itself
# (EINVAL) rather than emulating it: seccomp filters (PR_SET_SECCOMP) and
# the child subreaper (PR_SET_CHILD_SUBREAPER), i.e. `seccomp =` and
# agent-init run as a plain child instead of PID 1.  Both are covered by
# the x86_64 run of the same tests.
#
# Ends with the line "aarch64: N passed, N failed".
set -u
BIN=${1:?usage: run-aarch64.sh BIN HELPERS}
HELPERS=${2:?usage: run-aarch64.sh BIN HELPERS}
cd "$(dirname "$0")/.."
QEMU=qemu-aarch64-static
A=build/deps/aarch64
OUT=build/unit-aarch64
command -v $QEMU >/dev/null || {
	echo "aarch64: $QEMU not found (scripts/deps.sh installs qemu-user-static)"
	echo "aarch64: 0 passed, 1 failed"
	exit 1
}
pass=0 fail=0

# The unit tests: the flags of the host's unit build (make unit) without
# the sanitizers, which musl has no runtime for.  cmocka.h needs
# __WORDSIZE, which musl's <stdint.h> does not define.
CFLAGS="-std=gnu11 -O1 -g -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes
-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -D_GNU_SOURCE
-DAGENT_INIT_VERSION=\"test\" -Icore -Isupervisor -Inetcheck -Iinit
-D__WORDSIZE=64 -isystem $A/kernel-headers -I$A/prefix/include
-I$A/cmocka/include -static"
LIBS="-L$A/prefix/lib -L$A/cmocka/lib -lcmocka -lseccomp -lcap-ng -linih"
mkdir -p "$OUT"
for src in tests/unit/test_*.c; do
	name=$(basename "$src" .c)
	bin=$OUT/$name
	# shellcheck disable=SC2086
	if ! $A/bin/musl-gcc $CFLAGS -o "$bin" "$src" $LIBS 2>"$bin.build.log"; then
		echo "aarch64: unit $name: BUILD FAILED"; cat "$bin.build.log"
		fail=$((fail + 1)); continue
	fi
	# EMULATOR: what a unit test cannot do under qemu-user (a real fault
	# as PID 1 of a PID namespace, test_signals.c) it leaves to x86_64.
	if EMULATOR=$QEMU timeout 300 $QEMU "$bin" >"$bin.log" 2>&1; then
		n=$(sed -n 's/.*PASSED  \] \([0-9]*\) test.*/\1/p' "$bin.log")
		echo "aarch64: unit $name: ${n:-?} tests passed"
		pass=$((pass + ${n:-0}))
	else
		echo "aarch64: unit $name: FAILED"; cat "$bin.log"
		n=$(sed -n 's/.*FAILED  \] \([0-9]*\) test.*/\1/p' "$bin.log" | head -1)
		fail=$((fail + ${n:-1}))
	fi
done

# The integration subset.  Deselected by name: the plain-child runs (the
# `child` parameter, tests named not_pid1) and seccomp, for the reasons
# above; everything else in these files runs.
log=$OUT/integration.log
AGENT_INIT=$BIN HELPERS=$HELPERS EMULATOR=$QEMU /usr/bin/python3 -m pytest -q \
	-p no:cacheprovider -k "not child and not not_pid1 and not seccomp" \
	tests/integration/test_reaping.py tests/integration/test_signals.py \
	tests/integration/test_exit_status.py tests/integration/test_cli.py \
	tests/integration/test_supervisor.py tests/integration/test_netcheck.py \
	tests/integration/test_config_errors.py tests/integration/test_probes.py \
	tests/integration/test_sandbox.py >"$log" 2>&1
st=$?
tail -40 "$log"
line=$(grep -E '[0-9]+ (passed|failed)' "$log" | tail -1)
p=$(echo "$line" | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+')
f=$(echo "$line" | grep -oE '[0-9]+ (failed|errors?)' |
	awk '{ s += $1 } END { print s + 0 }')
pass=$((pass + ${p:-0}))
fail=$((fail + ${f:-0}))
# pytest failing without a count (no test collected, a crash) is a failure.
[ $st -eq 0 ] || [ "${f:-0}" -gt 0 ] || fail=$((fail + 1))
echo "aarch64: $pass passed, $fail failed"
[ $fail -eq 0 ]
