# bench/lib.sh — sourced by the bench scripts: their messages, and the
# background pids they started (every one is stopped by pid at exit,
# never by name).  Set BENCH_NAME before sourcing.

fail() {
	echo "${BENCH_NAME:-bench}: FAIL: $*" >&2
	exit 1
}
log() { echo "${BENCH_NAME:-bench}: $*" >&2; }

# Every background pid a script starts goes into STARTED.
STARTED=()
# SIGKILL and reap whatever of STARTED is still alive.
stop_started() {
	local p
	for p in "${STARTED[@]+"${STARTED[@]}"}"; do
		if kill -0 "$p" 2>/dev/null; then
			kill -KILL "$p" 2>/dev/null || true
		fi
	done
	for p in "${STARTED[@]+"${STARTED[@]}"}"; do
		wait "$p" 2>/dev/null || true
	done
}
