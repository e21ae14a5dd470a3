#!/bin/bash
# run-tests.sh: what `make test` runs.  Every stage runs even when an
# earlier one failed, so one run shows everything that is wrong; the last
# line is the summary "N passed, N failed" and the exit status is non-zero
# if anything failed.
set -u
cd "$(dirname "$0")/.."
mkdir -p build/test-logs
LOG=build/test-logs
pass=0; fail=0; failed_stages=""

stage() { # stage NAME CMD...: run, tee to a log, count a failure if non-zero
	local name=$1; shift
	echo "== $name"
	if "$@" 2>&1 | tee "$LOG/$name.log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
		return 0
	fi
	failed_stages="$failed_stages $name"
	return 1
}

count() { # count LOG: add "N passed, N failed" style counts found in LOG's last summary line
	local line p f e
	line=$(grep -E '[0-9]+ (passed|failed)' "$1" | tail -1)
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || true)
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || true)
	e=$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || true)
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0} + ${e:-0}))
}

if stage lint scripts/lint.sh; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
stage unit make -s unit; count "$LOG/unit.log"
if stage build make -s build helpers; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
if [ -x build/agent-init ]; then
	stage integration make -s integration
	st=$?
	count "$LOG/integration.log"
	# pytest exits 5 when it collected nothing: that is a failure here.
	if [ $st -ne 0 ] && ! grep -qE '[0-9]+ failed|[0-9]+ errors?' "$LOG/integration.log"; then
		fail=$((fail + 1))
	fi
else
	echo "== integration: skipped because the build failed (counted as failed)"
	fail=$((fail + 1)); failed_stages="$failed_stages integration"
fi

# counted NAME CMD...: a stage whose log ends in "N passed, N failed";
# one that fails without a count of its own counts as one failure.
counted() {
	local name=$1 st
	stage "$@"
	st=$?
	count "$LOG/$name.log"
	if [ $st -ne 0 ] && ! grep -qE '[1-9][0-9]* (failed|errors?)' "$LOG/$name.log"; then
		fail=$((fail + 1))
	fi
}

# Fuzzing: every target for a few seconds, every old crash input first.
counted fuzz scripts/run-fuzz.sh "${FUZZ_TEST_SECONDS:-5}"
# The main integration scenarios under ASan+UBSan and valgrind.
counted sanitize make -s sanitize SANITIZE_FLAGS=--quick

# The aarch64 build under qemu-user: its unit tests and an integration
# subset with the emulated binary as PID 1 (scripts/run-aarch64.sh).
counted aarch64 make -s test-aarch64

# End to end: real containers under a private dockerd (tests/e2e).  If
# dockerd cannot start, every test of the stage fails; none is skipped.
if [ -x build/agent-init ]; then
	counted e2e make -s e2e
else
	echo "== e2e: skipped because the build failed (counted as failed)"
	fail=$((fail + 1)); failed_stages="$failed_stages e2e"
fi

echo
[ -z "$failed_stages" ] || echo "failed stages:$failed_stages"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ -z "$failed_stages" ]
