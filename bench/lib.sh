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

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# The lines under a RESULTS.md section heading: when, where, what ran.
# results_header COMMAND-TEXT PACKAGE...
results_header() {
	local cmd=$1 cpu vers
	shift
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	vers="$("$AGENT_INIT" --version 2>/dev/null | head -1 | tr -d '\n'); $(dpkg-query -W -f='${Package} ${Version}; ' "$@" 2>/dev/null | sed 's/; $//')"
	cat <<EOF
Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  
CPU: ${cpu:-unknown} ($(nproc) CPUs); load average at start ${LOAD_START}, at end $(cut -d' ' -f1-3 /proc/loadavg)  
Command: $cmd  
Versions: $vers
EOF
}

# results_put MARK SECTION FILE: replace the section headed MARK in FILE
# (or append it), keeping every other section; a standalone run neither
# piles up sections nor drops one that comes after ours.
results_put() {
	local mark=$1 section=$2 file=$3 rest
	if [ -f "$file" ]; then
		rest=$(mktemp)
		awk -v m="$mark" '$0 == m { skip = 1; next }
			skip && /^## / { skip = 0 }
			!skip { print }' "$file" >"$rest"
		# drop trailing blank lines, then one blank line before ours
		sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$rest" >"$file"
		rm -f "$rest"
		echo >>"$file"
	fi
	echo "$section" >>"$file"
}
