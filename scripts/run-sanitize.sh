#!/bin/bash
# run-sanitize.sh [--quick] [asan|valgrind]...: the integration suite's main
# scenarios with agent-init built for glibc (Debian's dynamic libseccomp,
# libcap-ng and libinih) under AddressSanitizer + UndefinedBehaviorSanitizer
# (build/asan/agent-init), then under valgrind's memcheck
# (build/valgrind/agent-init, no sanitizers).  Leaks count: LeakSanitizer
# and memcheck's leak check run when PID 1 exits.
#
# The tests read AGENT_INIT from the environment, so each run points it at
# a small wrapper that gives every agent-init process (PID 1 and the
# `status`, `wait-ready` and `netcheck` clients the tests start) a report
# file of its own, then execs the binary: the process keeps its pid (PID 1
# stays PID 1).  A run passes when pytest passes and no report file has
# anything in it; the reports are kept under build/sanitize/.  valgrind
# runs with --vgdb=no: its gdbserver FIFOs are named after the pid, and
# every PID 1 is pid 1, so two runs at once (in other namespaces) would
# share /tmp/vgdb-pipe-*-1-* and report each other's files.
#
# --quick (what `make test` runs, to stay within a few minutes): valgrind
# skips test_netcheck.py, which ASan still runs; `make sanitize` runs all.
#
# Prints "sanitize: MODE: ..." per mode and "sanitize: N passed, N failed"
# (pytest counts, plus one failure per report file).
set -u
cd "$(dirname "$0")/.."
OUT=$PWD/build/sanitize
PYTEST=(/usr/bin/python3 -m pytest -q -p no:cacheprovider)
# single command, signals and reaping; services with restarts and probes;
# the control socket; netcheck in network namespaces of its own.
TESTS=${SANITIZE_TESTS:-"tests/integration/test_exit_status.py
tests/integration/test_signals.py tests/integration/test_reaping.py
tests/integration/test_supervisor.py tests/integration/test_control.py
tests/integration/test_netcheck.py"}
quick=
if [ "${1:-}" = --quick ]; then
	quick=1; shift
fi
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(asan valgrind)

pass=0; fail=0
for mode in "${modes[@]}"; do
	dir=$OUT/$mode
	rm -rf "$dir"
	mkdir -p "$dir/reports" "$dir/runs"
	# A test runs a client as another uid: it must be able to write too.
	chmod 1777 "$dir/reports" "$dir/runs"
	wrap=$dir/agent-init
	case $mode in
	asan)
		bin=$PWD/build/asan/agent-init
		cat >"$wrap" <<-WRAP
		#!/bin/sh
		log=\$(mktemp -u "$dir/reports/asan.XXXXXXXX")
		echo "\$*" >"$dir/runs/\$(basename "\$log")"
		ASAN_OPTIONS="log_path=\$log:detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1" \\
		UBSAN_OPTIONS="log_path=\$log:print_stacktrace=1:halt_on_error=1" \\
		exec "$bin" "\$@"
		WRAP
		;;
	valgrind)
		bin=$PWD/build/valgrind/agent-init
		cat >"$wrap" <<-WRAP
		#!/bin/sh
		log=\$(mktemp -u "$dir/reports/memcheck.XXXXXXXX")
		echo "\$*" >"$dir/runs/\$(basename "\$log")"
		exec valgrind -q --tool=memcheck --error-exitcode=99 --vgdb=no \\
			--leak-check=full --show-leak-kinds=definite,indirect \\
			--errors-for-leak-kinds=definite,indirect \\
			--log-file="\$log" "$bin" "\$@"
		WRAP
		;;
	*)
		echo "sanitize: unknown mode $mode"; fail=$((fail + 1)); continue ;;
	esac
	chmod +x "$wrap"
	if [ ! -x "$bin" ]; then
		echo "sanitize: $mode: $bin missing (make build-asan build-valgrind)"
		fail=$((fail + 1)); continue
	fi
	tests=$TESTS
	if [ -n "$quick" ] && [ "$mode" = valgrind ]; then
		tests=$(tr ' ' '\n' <<<"$TESTS" | grep -v test_netcheck.py)
	fi
	start=$(date +%s)
	# shellcheck disable=SC2086
	AGENT_INIT=$wrap HELPERS=$PWD/build/helpers \
		"${PYTEST[@]}" $tests >"$dir/pytest.log" 2>&1
	st=$?
	line=$(grep -E '[0-9]+ (passed|failed)' "$dir/pytest.log" | tail -1)
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || true)
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || true)
	e=$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || true)
	p=${p:-0}; f=$((${f:-0} + ${e:-0}))
	[ $st -eq 0 ] || [ $f -gt 0 ] || f=1 # pytest failed without a count
	runs=$(find "$dir/runs" -type f | wc -l)
	reports=$(find "$dir/reports" -type f -size +0 | wc -l)
	echo "sanitize: $mode: tests $p passed, $f failed; $runs agent-init" \
		"processes, $reports reports; $(($(date +%s) - start)) s"
	if [ $f -gt 0 ]; then
		grep -E '^(FAILED|ERROR) ' "$dir/pytest.log" | head -20
	fi
	for r in $(find "$dir/reports" -type f -size +0 | head -5); do
		echo "--- $r"; head -30 "$r"
	done
	pass=$((pass + p)); fail=$((fail + f + reports))
done
echo "sanitize: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
