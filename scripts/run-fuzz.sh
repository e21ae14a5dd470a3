#!/bin/bash
# run-fuzz.sh SECONDS [TARGET...]: build every tests/fuzz/fuzz_*.c (or the
# TARGETs named) with clang -fsanitize=fuzzer,address,undefined and run
# each for SECONDS.  Each run starts from the seeds in
# tests/fuzz/corpus/TARGET (crash inputs found earlier included, so every
# old crash is replayed first) plus what earlier runs added under
# build/fuzz/corpus/TARGET.  One line per target with total execs, execs/s
# and coverage (cov = edges, ft = features, from libFuzzer's last status
# line), then "fuzz: N passed, N failed".  A crash, a leak, a timeout, a
# sanitizer report or a build failure fails the target; the input that did
# it is kept in build/fuzz/crashes/.
set -u
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
OUT=build/fuzz
mkdir -p "$OUT/crashes"

# shellcheck disable=SC2206
CFLAGS=(-std=gnu11 -g -O1 -Wall -Wextra -Werror -Wshadow
	-Wstrict-prototypes -Wmissing-prototypes -Wformat=2
	-Wno-format-nonliteral -D_GNU_SOURCE -DAGENT_INIT_VERSION='"fuzz"'
	-DLIBCAPNG_VERSION='"fuzz"' -DINIH_VERSION='"fuzz"'
	-Icore -Isupervisor -Inetcheck -Iinit
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-fno-omit-frame-pointer)
# inih: the shipped parser's source and flags, instrumented (deps script).
CFLAGS+=(-Ibuild/deps/fuzz/include)
LIBS=(-Lbuild/deps/fuzz/lib -lseccomp -lcap-ng -linih)

if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		t=$(basename "$f" .c)
		targets+=("${t#fuzz_}")
	done
fi

pass=0; fail=0
for t in "${targets[@]}"; do
	src=tests/fuzz/fuzz_$t.c bin=$OUT/fuzz_$t log=$OUT/$t.log
	seeds=tests/fuzz/corpus/$t work=$OUT/corpus/$t
	if [ ! -f "$src" ]; then
		echo "fuzz: $t: no $src"; fail=$((fail + 1)); continue
	fi
	if [ ! -x "$bin" ] || [ -n "$(find "$src" tests/fuzz/*.h core supervisor netcheck init \
		-newer "$bin" -name '*.[ch]' 2>/dev/null | head -1)" ]; then
		if ! clang "${CFLAGS[@]}" -o "$bin" "$src" "${LIBS[@]}" \
			2>"$OUT/$t.build.log"; then
			echo "fuzz: $t: BUILD FAILED"; cat "$OUT/$t.build.log"
			fail=$((fail + 1)); continue
		fi
	fi
	mkdir -p "$work" "$seeds"
	# -timeout: one input taking 10 s is a hang.  -rss_limit_mb: a
	# parser must stay small whatever it is fed.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	timeout -k 10 $((SECS + 120)) "$bin" -max_total_time="$SECS" \
		-print_final_stats=1 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$OUT/crashes/$t-" "$work" "$seeds" \
		>"$log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | grep -E ' cov: ' | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
	if [ $st -eq 0 ] && [ -n "$execs" ]; then
		printf 'fuzz: %-10s ok    %10s execs %7s/s  cov %5s  ft %6s  corpus %s\n' \
			"$t" "$execs" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
		pass=$((pass + 1))
	else
		echo "fuzz: $t: FAILED (exit $st; log $log)"
		grep -E 'ERROR: |SUMMARY: |runtime error|Assertion|Test unit written|deadly signal' "$log" | head -20
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
