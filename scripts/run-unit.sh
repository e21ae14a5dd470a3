#!/bin/sh
# run-unit.sh "CFLAGS": build every tests/unit/test_*.c twice (gcc and
# clang, both with the CFLAGS given, which carry ASan+UBSan), run each
# under a timeout, and print one line per binary plus a summary line
# "unit: N passed, N failed".  Each test file includes the module sources
# it tests, so one file is one binary.
set -u
CFLAGS=$1
OUT=build/unit
LIBS="-lcmocka -lcap-ng -lseccomp -linih"
mkdir -p "$OUT"
pass=0; fail=0
for cc in gcc clang; do
	for src in tests/unit/test_*.c; do
		name=$(basename "$src" .c)
		bin=$OUT/$name-$cc
		# shellcheck disable=SC2086
		if ! $cc $CFLAGS -o "$bin" "$src" $LIBS 2>"$bin.build.log"; then
			echo "unit: $name ($cc): BUILD FAILED"; cat "$bin.build.log"
			fail=$((fail + 1)); continue
		fi
		if timeout 60 env ASAN_OPTIONS=detect_leaks=1 \
			UBSAN_OPTIONS=print_stacktrace=1 "$bin" >"$bin.log" 2>&1; then
			n=$(sed -n 's/.*PASSED  \] \([0-9]*\) test.*/\1/p' "$bin.log")
			echo "unit: $name ($cc): ${n:-?} tests passed"
			pass=$((pass + ${n:-0}))
		else
			echo "unit: $name ($cc): FAILED"; cat "$bin.log"
			n=$(sed -n 's/.*FAILED  \] \([0-9]*\) test.*/\1/p' "$bin.log" | head -1)
			fail=$((fail + ${n:-1}))
		fi
	done
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
